"""How much seeds matter: percentile bands of daily columns across seeds, and the spread of each seed's run mean.

Shared by an ensemble's ``summary`` table (``tokenomy run --seeds``) and the browser app's fan of seeds.
Percentiles are numpy's (linear interpolation between the seeds' values); a standard deviation across seeds is
the sample one (``ddof=1``), so it needs two seeds and is NaN for one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

SUMMARY_PERCENTILES = (5, 25, 50, 75, 95)
SUMMARY_COLUMNS = ("date", "day", "metric", "seeds", "mean", "std", *(f"p{q}" for q in SUMMARY_PERCENTILES))


def numeric_columns(daily: pd.DataFrame) -> list[str]:
    """The daily table's measured columns: every number but the day's index."""
    return [
        c
        for c in daily.columns
        if c != "day" and pd.api.types.is_numeric_dtype(daily[c]) and not pd.api.types.is_bool_dtype(daily[c])
    ]


def seed_matrix(dailies: Sequence[pd.DataFrame], column: str) -> np.ndarray:
    """(seeds, days): one column of every seed's daily table, one row per seed."""
    return np.vstack([d[column].to_numpy(dtype=np.float64) for d in dailies])


def percentile_band(values: np.ndarray, percentiles: Sequence[float]) -> np.ndarray:
    """(len(percentiles), days): the percentiles across seeds (rows of ``values``) of each day (column)."""
    return np.percentile(values, list(percentiles), axis=0)


def _sample_std(values: np.ndarray, axis: int = 0) -> np.ndarray:
    if values.shape[axis] < 2:
        shape = list(values.shape)
        del shape[axis]
        return np.full(shape, np.nan)
    return values.std(axis=axis, ddof=1)


def _check_aligned(dailies: Sequence[pd.DataFrame]) -> None:
    if not dailies:
        raise ValueError("no seeds to summarise")
    first = dailies[0]
    for d in dailies[1:]:
        if len(d) != len(first) or not d["date"].equals(first["date"]):
            raise ValueError("the seeds' daily tables cover different days")


def ensemble_summary(dailies: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One row per (metric, day): for every numeric daily column, its mean, standard deviation and the percentiles
    :data:`SUMMARY_PERCENTILES` across the seeds' daily tables (which must cover the same days)."""
    _check_aligned(dailies)
    first = dailies[0]
    n_days = len(first)
    blocks = []
    for column in numeric_columns(first):
        values = seed_matrix(dailies, column)
        band = percentile_band(values, SUMMARY_PERCENTILES)
        block = {
            "date": first["date"].to_numpy(),
            "day": first["day"].to_numpy(),
            "metric": np.full(n_days, column, dtype=object),
            "seeds": np.full(n_days, len(dailies), dtype=np.int64),
            "mean": values.mean(axis=0),
            "std": _sample_std(values),
        }
        block.update({f"p{q}": band[i] for i, q in enumerate(SUMMARY_PERCENTILES)})
        blocks.append(pd.DataFrame(block))
    summary = pd.concat(blocks, ignore_index=True)
    summary["metric"] = pd.Categorical(summary["metric"], categories=numeric_columns(first))
    return summary[list(SUMMARY_COLUMNS)]


def run_mean_spread(dailies: Sequence[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """One row per column: each seed's run mean (the mean over its days), then across seeds their median, the 5th
    and 95th percentiles and the coefficient of variation (sample standard deviation over the absolute mean; NaN
    for one seed or a mean of zero)."""
    means = np.array([[float(d[c].mean()) for c in columns] for d in dailies])  # (seeds, columns)
    mean = means.mean(axis=0)
    std = _sample_std(means)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(np.abs(mean) > 0, std / np.abs(mean), np.nan)
    p5, p50, p95 = percentile_band(means, (5, 50, 95))
    return pd.DataFrame({"median": p50, "p5": p5, "p95": p95, "cv": cv}, index=pd.Index(list(columns), name="metric"))
