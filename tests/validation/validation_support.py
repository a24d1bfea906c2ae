"""Shared helpers of the hostile-input tests: drive the CLI in-process and judge its outcome.

A clean outcome is either exit 0 with sane tables (finite numbers; prices and quantities not negative) or
exit 2 with exactly one line on stderr and no traceback.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tokenomy.abm.cli import main

# columns that may be negative: power prices (the floor is below zero), flows in either direction,
# profits, margins, cash and costs; every other number in the tables is a price or a quantity
SIGNED_COLUMN_PARTS = (
    "power_price",
    "spread",
    "net_import",
    "profit",
    "margin",
    "cash",
    "cost",
    "revenue",
    "price_cny_per_mwh",
    "markup",
    "capex",
)
TABLES = ("daily", "hourly", "agents")


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def cli(capsys, argv: list[str]) -> Outcome:
    """Run ``tokenomy ARGV`` in this process and capture what it printed."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def assert_one_line_error(result: Outcome, fragment: str | None = None) -> str:
    """Exit code 2 and exactly one line on stderr (containing ``fragment``, if given)."""
    assert "Traceback" not in result.err, result.err
    assert result.code == 2, (result.code, result.err[-2000:], result.out[-500:])
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert line.startswith("error: "), line
    assert len(line) <= 407, line
    if fragment is not None:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    return line


def insane_columns(table: pd.DataFrame) -> list[str]:
    """Columns holding NaN or infinity, or a negative price or quantity (beyond float round-off)."""
    bad = []
    for name in table.select_dtypes("number").columns:
        values = table[name].to_numpy(dtype=float)
        if not np.isfinite(values).all():
            bad.append(f"{name}: not finite")
            continue
        if any(part in name for part in SIGNED_COLUMN_PARTS) or values.size == 0:
            continue
        tolerance = 1e-6 * max(1.0, float(np.abs(values).max()))
        if (values < -tolerance).any():
            bad.append(f"{name}: negative ({values.min():g})")
    return bad


def assert_sane_run(out_dir: Path) -> None:
    """A finished run folder whose tables hold only finite numbers and no negative prices or quantities."""
    files = {p.stem: p for p in Path(out_dir).iterdir() if p.suffix in (".parquet", ".csv")}
    assert set(TABLES) <= set(files), sorted(files)
    for name in TABLES:
        path = files[name]
        table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        assert len(table) > 0, name
        assert not insane_columns(table), (name, insane_columns(table))


def assert_sane_ensemble(out_dir: Path) -> None:
    """A finished ensemble: a sane run in every ``seed-N`` folder, and a summary table with a row per day and
    metric (its spread may be NaN: one seed has no standard deviation)."""
    out_dir = Path(out_dir)
    seeds = sorted(p for p in out_dir.iterdir() if p.is_dir())
    assert seeds and all(p.name.startswith("seed-") for p in seeds), sorted(p.name for p in out_dir.iterdir())
    for folder in seeds:
        assert_sane_run(folder)
    (summary,) = [p for p in out_dir.iterdir() if p.stem == "summary"]
    table = pd.read_parquet(summary) if summary.suffix == ".parquet" else pd.read_csv(summary)
    assert len(table) > 0 and np.isfinite(table[["mean", "p5", "p50", "p95"]].to_numpy()).all()


_NUMBER = re.compile(r"(?<![\w.])-?(?:\d+\.?\d*(?:e[+-]?\d+)?|inf|nan)(?![\w.])", re.IGNORECASE)


def printed_numbers(text: str) -> list[float]:
    """Every number a lesson printed (so that tests can look for nan, inf or negative values)."""
    return [float(m.group(0)) for m in _NUMBER.finditer(text)]


def all_finite(numbers: list[float]) -> bool:
    return all(math.isfinite(x) for x in numbers)
