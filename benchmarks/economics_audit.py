"""Economics audit: the market figures an economics review quoted, measured on whatever ``abm`` imports.

For every shipped scenario (classroom, china-2024, agent-boom, storage-buildout, grid-bottleneck,
east-data-west-compute, jevons, gpu-supply-shock) and seed, at the scenario's own horizon unless said:

1. classroom: share of days whose token price / token unit cost is within 2% of 1/0.6.
2. china-2024: days at the most common compute price (to 1e-6), the two most common prices, monthly
   mean compute and token prices (Jan-24 .. Mar-26), token Mar-26/Dec-25 and compute Mar-26/Oct-25.
3. every scenario: compute sold / (GPUs online x 24) against GPU utilisation (run mean and last 90
   days); the longest run of days with unserved share > 5% and the utilisation during it.
4. jevons: days with a negative token margin; east-data-west-compute: per AIDC, days it sold nothing
   and lost money, the longest such run, and whether its GPUs ever fell to 0 (exit).
5. agent-boom: GPUs ordered at each month start in days 360-540 (the change of GPUs online + in the
   pipeline on the 1st, plus ``gpus_retired`` that day when that column exists); in a ``--long-days``
   run the final GPUs online and the utilisation of the last 90 days.  gpu-supply-shock: compute price
   over days 450-480 and on the last day, over the last 30 and 90 days of the long run, utilisation
   first vs last 90 days of the long run, total tokens unserved in the long run.
6. token margin / token price (last 30 days), east-data-west-compute token price / unit cost, and the
   min, max and mean daily compute price of every scenario.
7. per scenario, whether token price, tokens served, GPUs online and unserved share are bit-identical
   across seeds, and the coefficient of variation (population std / mean) of their per-seed run means.
8. storage (and, when the column exists, green power) cost as a share of the token price (mean of
   daily ratios, last 30 days, and storage cost over token revenue for the whole run).
9. a plausibility summary per scenario and seed (mean prices, utilisation, unserved share, final GPUs,
   margin share; contract compute price and retired GPUs when those columns exist).

Only the public API is used (``TokenEconomy(...).run``, ``daily_table``, ``agents_table``); a column
or scenario the imported code lacks is reported as "n/a".  Each (scenario, seed, days) is run once.

    .venv/bin/python benchmarks/economics_audit.py [--quick] [--json out.json] [--seeds 1 2 3] [--long-days 1095]

``--quick`` runs seed 1 only and skips the long runs (a smoke test).  The report (markdown) goes to
stdout; ``--json`` also writes every number to a file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SCENARIOS = (
    "classroom",
    "china-2024",
    "agent-boom",
    "storage-buildout",
    "grid-bottleneck",
    "east-data-west-compute",
    "jevons",
    "gpu-supply-shock",
)
FALLBACK_DAYS = {
    "classroom": 365,
    "china-2024": 820,
    "agent-boom": 540,
    "storage-buildout": 240,
    "grid-bottleneck": 480,
    "east-data-west-compute": 240,
    "jevons": 365,
    "gpu-supply-shock": 480,
}
TARGET_RATIO = 1.0 / 0.6  # classroom: token price over unit cost
CHINA_MONTHS = ("2024-01", "2024-06", "2024-12", "2025-06", "2025-10", "2025-12", "2026-03")
SEED_COLUMNS = ("token_price_cny_per_mtok", "tokens_served_mtok", "gpus_online", "unserved_share")
NA = "n/a"

TOKEN = "token_price_cny_per_mtok"
COMPUTE = "compute_price_cny_per_gpu_hour"
UNIT_COST = "token_unit_cost_cny_per_mtok"
MARGIN = "token_margin_cny_per_mtok"
UTIL = "gpu_utilization"
UNSERVED = "unserved_share"


# -- runs -----------------------------------------------------------------------------------------------
@dataclass
class Run:
    scenario: str
    seed: int
    days: int
    daily: pd.DataFrame
    agents: pd.DataFrame | None
    seconds: float


class Runs:
    """One run per (scenario, seed, days); a failed run is remembered as ``None`` with its error."""

    def __init__(self, verbose: bool = True):
        self.cache: dict[tuple[str, int, int], Run | None] = {}
        self.horizons: dict[str, int] = {}
        self.errors: dict[str, str] = {}
        self.verbose = verbose

    def horizon(self, scenario: str) -> int:
        if scenario not in self.horizons:
            days = None
            try:
                from tokenomy.abm.scenarios import load_scenario

                days = int(load_scenario(scenario, []).data["scenario"]["days"])
            except Exception:
                days = None
            self.horizons[scenario] = days or FALLBACK_DAYS.get(scenario, 365)
        return self.horizons[scenario]

    def get(self, scenario: str, seed: int, days: int | None = None) -> Run | None:
        days = self.horizon(scenario) if days is None else int(days)
        key = (scenario, int(seed), days)
        if key not in self.cache:
            from tokenomy.abm.model import TokenEconomy

            t = time.perf_counter()
            try:
                model = TokenEconomy(scenario, seed=int(seed))
                model.run(days)
                daily = model.daily_table().sort_values("day").reset_index(drop=True)
                try:
                    agents = model.agents_table()
                except Exception:
                    agents = None
                run = Run(scenario, int(seed), days, daily, agents, time.perf_counter() - t)
            except Exception as exc:
                self.errors[f"{scenario}/seed{seed}/{days}d"] = f"{type(exc).__name__}: {exc}"
                run = None
            self.cache[key] = run
            if self.verbose:
                took = f"{run.seconds:.1f} s" if run else "FAILED"
                print(f"  ran {scenario} seed {seed} {days} days: {took}", file=sys.stderr, flush=True)
        return self.cache[key]


# -- small helpers ----------------------------------------------------------------------------------------
def col(df: pd.DataFrame | None, name: str) -> np.ndarray | None:
    if df is None or name not in df.columns:
        return None
    return df[name].to_numpy(dtype=float)


def ratio(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None or b is None:
        return None
    out = np.full(a.shape, np.nan)
    np.divide(a, b, out=out, where=b != 0)
    return out


def mean(x: np.ndarray | None) -> float | None:
    if x is None:
        return None
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else None


def last(x: np.ndarray | None, n: int) -> np.ndarray | None:
    return None if x is None else x[-n:]


def final(x: np.ndarray | None) -> float | None:
    return None if x is None or not len(x) else float(x[-1])


def largest(x: np.ndarray | None) -> float | None:
    return None if x is None or not len(x) else float(np.max(x))


def smallest(x: np.ndarray | None) -> float | None:
    return None if x is None or not len(x) else float(np.min(x))


def first(x: np.ndarray | None, n: int) -> np.ndarray | None:
    return None if x is None else x[:n]


def window(run: Run, name: str, lo: int, hi: int) -> np.ndarray | None:
    """Values of ``name`` on days lo <= day < hi."""
    x = col(run.daily, name)
    if x is None:
        return None
    day = run.daily["day"].to_numpy()
    return x[(day >= lo) & (day < hi)]


def div(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def longest_run(mask: np.ndarray) -> tuple[int, int | None]:
    """(length, start index) of the longest run of True."""
    best, best_start, cur, start = 0, None, 0, 0
    for i, v in enumerate(mask):
        if v:
            if cur == 0:
                start = i
            cur += 1
            if cur > best:
                best, best_start = cur, start
        else:
            cur = 0
    return best, best_start


def fmt(x, spec: str = ".3f") -> str:
    if x is None:
        return NA
    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    if isinstance(x, float | np.floating) and not math.isfinite(float(x)):
        return NA
    if isinstance(x, int | np.integer) and spec.endswith("f"):
        return f"{int(x):,}"
    return format(x, spec)


def pct(x: float | None, digits: int = 1) -> str:
    return NA if x is None or not math.isfinite(x) else f"{100.0 * x:.{digits}f}%"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return lines + [""]


def jsonable(x):
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, np.bool_ | bool):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        return float(x) if math.isfinite(float(x)) else None
    return x


# -- the figures ----------------------------------------------------------------------------------------
class Audit:
    def __init__(self, runs: Runs, seeds: Sequence[int], long_days: int | None):
        self.runs = runs
        self.seeds = list(seeds)
        self.long_days = long_days
        self.out: dict = {}
        self.md: list[str] = []

    def each(self, scenario: str) -> list[tuple[int, Run | None]]:
        return [(s, self.runs.get(scenario, s)) for s in self.seeds]

    def section(self, title: str) -> None:
        self.md += [f"## {title}", ""]

    # 1 ------------------------------------------------------------------------------------------------
    def classroom_markup(self) -> None:
        self.section("1. classroom: token price / unit cost within 2% of 1/0.6")
        res, rows = {}, []
        for seed, run in self.each("classroom"):
            r = ratio(col(run.daily, TOKEN), col(run.daily, UNIT_COST)) if run else None
            if r is None:
                res[seed] = None
                rows.append([seed, NA, NA, NA, NA])
                continue
            within = np.abs(r / TARGET_RATIO - 1.0) <= 0.02
            d = {
                "days": len(r),
                "days_within": int(within.sum()),
                "share_within": float(within.mean()),
                "mean_ratio": mean(r),
                "median_ratio": float(np.nanmedian(r)),
            }
            res[seed] = d
            rows.append(
                [
                    seed,
                    f"{d['days_within']} / {d['days']}",
                    pct(d["share_within"]),
                    fmt(d["mean_ratio"], ".4f"),
                    fmt(d["median_ratio"], ".4f"),
                ]
            )
        self.md += table(["seed", "days within", "share", "mean ratio", "median ratio"], rows)
        self.md += [f"Target ratio 1/0.6 = {TARGET_RATIO:.4f}.", ""]
        self.out["1_classroom_markup"] = res

    # 2 ------------------------------------------------------------------------------------------------
    def china_prices(self) -> None:
        self.section("2. china-2024 (820 days): compute price plateaus and monthly prices")
        res, rows, mrows = {}, [], []
        for seed, run in [(s, self.runs.get("china-2024", s, 820)) for s in self.seeds]:
            p = col(run.daily, COMPUTE) if run else None
            if p is None:
                res[seed] = None
                rows.append([seed, NA, NA, NA])
                continue
            counts = pd.Series(np.round(p, 6)).value_counts()
            top = [(float(v), int(c)) for v, c in counts.head(2).items()]
            at_mode = int((np.abs(p - top[0][0]) <= 1e-6).sum())
            month = run.daily["date"].dt.to_period("M").astype(str)
            monthly = {}
            for name in (COMPUTE, TOKEN):
                by = (
                    pd.Series(col(run.daily, name), index=month.values).groupby(level=0).mean()
                    if name in run.daily.columns
                    else None
                )
                monthly[name] = {m: (float(by[m]) if by is not None and m in by.index else None) for m in CHINA_MONTHS}
            tok, comp = monthly[TOKEN], monthly[COMPUTE]
            d = {
                "days": len(p),
                "days_at_mode": at_mode,
                "top_values": [{"value": v, "days": c} for v, c in top],
                "distinct_values": int(counts.size),
                "monthly_compute_price": comp,
                "monthly_token_price": tok,
                "token_mar26_over_dec25": div(tok["2026-03"], tok["2025-12"]),
                "compute_mar26_over_oct25": div(comp["2026-03"], comp["2025-10"]),
            }
            res[seed] = d
            rows.append(
                [seed, f"{at_mode} / {len(p)}", "; ".join(f"{v:.3f} x {c} d" for v, c in top), d["distinct_values"]]
            )
            mrows.append(
                [
                    seed,
                    "compute CNY/GPU-h",
                    *(fmt(comp[m]) for m in CHINA_MONTHS),
                    fmt(d["compute_mar26_over_oct25"], ".3f") + " (Mar26/Oct25)",
                ]
            )
            mrows.append(
                [
                    seed,
                    "token CNY/Mtok",
                    *(fmt(tok[m]) for m in CHINA_MONTHS),
                    fmt(d["token_mar26_over_dec25"], ".3f") + " (Mar26/Dec25)",
                ]
            )
        self.md += table(["seed", "days at modal price", "two most common prices", "distinct prices"], rows)
        self.md += table(["seed", "monthly mean", *CHINA_MONTHS, "ratio"], mrows)
        self.out["2_china_prices"] = res

    # 3 ------------------------------------------------------------------------------------------------
    def sold_vs_busy(self) -> None:
        self.section("3. compute sold vs GPUs busy; longest run of days with unserved share > 5%")
        res, rows = {}, []
        for sc in SCENARIOS:
            res[sc] = {}
            for seed, run in self.each(sc):
                if run is None:
                    res[sc][seed] = None
                    rows.append([sc, seed, *[NA] * 7])
                    continue
                gpus = col(run.daily, "gpus_online")
                sold = ratio(col(run.daily, "compute_sold_gpu_hours"), None if gpus is None else gpus * 24.0)
                util = col(run.daily, UTIL)
                uns = col(run.daily, UNSERVED)
                length, start = longest_run(uns > 0.05) if uns is not None else (None, None)
                in_run = util[start : start + length] if (util is not None and length) else None
                d = {
                    "mean_sold_share": mean(sold),
                    "mean_gpu_utilization": mean(util),
                    "sold_share_last_90": mean(last(sold, 90)),
                    "gpu_utilization_last_90": mean(last(util, 90)),
                    "days_unserved_over_5pct": None if uns is None else int((uns > 0.05).sum()),
                    "longest_unserved_run_days": length,
                    "longest_run_start_day": start,
                    "utilization_in_longest_run": mean(in_run),
                }
                res[sc][seed] = d
                span = NA if not length else f"{length} (days {start}-{start + length - 1})"
                rows.append(
                    [
                        sc,
                        seed,
                        pct(d["mean_sold_share"]),
                        pct(d["mean_gpu_utilization"]),
                        f"{pct(d['sold_share_last_90'])} / {pct(d['gpu_utilization_last_90'])}",
                        fmt(d["days_unserved_over_5pct"], "d"),
                        span,
                        pct(d["utilization_in_longest_run"]),
                    ]
                )
        self.md += table(
            [
                "scenario",
                "seed",
                "sold / (GPUs x 24)",
                "GPU utilisation",
                "last 90 d: sold / util",
                "days unserved > 5%",
                "longest run > 5%",
                "utilisation in run",
            ],
            rows,
        )
        self.out["3_sold_vs_busy"] = res

    # 4 ------------------------------------------------------------------------------------------------
    def losses(self) -> None:
        self.section("4. jevons negative margins; east-data-west-compute idle AIDCs")
        res, rows = {"jevons": {}, "east-data-west-compute": {}}, []
        for seed, run in self.each("jevons"):
            m = col(run.daily, MARGIN) if run else None
            d = (
                None
                if m is None
                else {"days": len(m), "days_negative_margin": int((m < 0).sum()), "mean_margin_cny_per_mtok": mean(m)}
            )
            res["jevons"][seed] = d
            rows.append(
                [
                    seed,
                    NA if d is None else f"{d['days_negative_margin']} / {d['days']}",
                    fmt(None if d is None else d["mean_margin_cny_per_mtok"], ".4f"),
                ]
            )
        self.md += table(["jevons seed", "days with token margin < 0", "mean margin CNY/Mtok"], rows)
        rows = []
        for seed, run in self.each("east-data-west-compute"):
            a = run.agents if run else None
            if a is None or "kind" not in a.columns:
                res["east-data-west-compute"][seed] = None
                rows.append([seed, *[NA] * 7])
                continue
            a = a[a["kind"].astype(str) == "aidc"].sort_values("day")
            per = {}
            for name, g in a.groupby(a["name"].astype(str), sort=True):
                util, rev, prof, gpus = (col(g, c) for c in ("utilization", "revenue_cny", "profit_cny", "gpus"))
                nothing = np.zeros(len(g), dtype=bool)
                for x in (util, rev):
                    if x is not None:
                        nothing |= np.abs(x) < 1e-12
                idle_loss = nothing & (prof < 0) if prof is not None else None
                length, start = longest_run(idle_loss) if idle_loss is not None else (None, None)
                d = {
                    "days": len(g),
                    "days_idle_and_losing": None if idle_loss is None else int(idle_loss.sum()),
                    "longest_run_days": length,
                    "longest_run_start_day": start,
                    "exited": None if gpus is None else bool((gpus <= 0).any()),
                    "gpus_start": None if gpus is None else float(gpus[0]),
                    "gpus_end": final(gpus),
                    "mean_utilization": mean(util),
                    "total_profit_cny": None if prof is None else float(prof.sum()),
                }
                per[name] = d
                rows.append(
                    [
                        seed,
                        name,
                        fmt(d["days_idle_and_losing"], "d"),
                        fmt(length, "d"),
                        fmt(d["exited"]),
                        f"{fmt(d['gpus_start'], ',.0f')} -> {fmt(d['gpus_end'], ',.0f')}",
                        pct(d["mean_utilization"]),
                        fmt(d["total_profit_cny"], ",.0f"),
                    ]
                )
            res["east-data-west-compute"][seed] = per
        self.md += table(
            [
                "EDWC seed",
                "AIDC",
                "days sold nothing & lost money",
                "longest such run",
                "exited",
                "GPUs start -> end",
                "mean utilisation",
                "total profit CNY",
            ],
            rows,
        )
        self.out["4_losses"] = res

    # 5 ------------------------------------------------------------------------------------------------
    def investment(self) -> None:
        self.section("5. agent-boom orders and long runs; gpu-supply-shock prices")
        res = {"agent-boom": {}, "gpu-supply-shock": {}}
        rows = []
        for seed, run in self.each("agent-boom"):
            d: dict = {"orders": None}
            gpus, pipe = (col(run.daily, c) if run else None for c in ("gpus_online", "gpus_in_pipeline"))
            if gpus is not None and pipe is not None:
                total = gpus + pipe
                retired = col(run.daily, "gpus_retired")
                dates = run.daily["date"]
                day = run.daily["day"].to_numpy()
                orders = []
                for i in np.flatnonzero((dates.dt.day.to_numpy() == 1) & (day >= 360) & (day < 540)):
                    if i == 0:
                        continue
                    o = total[i] - total[i - 1] + (retired[i] if retired is not None else 0.0)
                    orders.append({"date": str(dates.iloc[i].date()), "day": int(day[i]), "gpus_ordered": float(o)})
                d["orders"] = orders
                d["mean_orders_per_month"] = mean(np.array([o["gpus_ordered"] for o in orders])) if orders else None
            d.update(
                self._long(
                    "agent-boom",
                    seed,
                    lambda r: {
                        "final_gpus_online": final(col(r.daily, "gpus_online")),
                        "mean_utilization_last_90": mean(last(col(r.daily, UTIL), 90)),
                    },
                )
            )
            res["agent-boom"][seed] = d
            orders_txt = (
                NA
                if d["orders"] is None
                else ", ".join(f"{o['date'][:7]}: {o['gpus_ordered']:,.0f}" for o in d["orders"])
            )
            rows.append(
                [seed, orders_txt, fmt(d.get("final_gpus_online"), ",.0f"), pct(d.get("mean_utilization_last_90"))]
            )
        self.md += table(
            [
                "agent-boom seed",
                "GPUs ordered on month starts, days 360-540",
                f"final GPUs online ({self.long_days or NA} d)",
                "utilisation last 90 d",
            ],
            rows,
        )
        rows = []
        for seed, run in self.each("gpu-supply-shock"):
            d = {
                "compute_price_days_450_480": mean(window(run, COMPUTE, 450, 480)) if run else None,
                "compute_price_final_day": final(col(run.daily, COMPUTE)) if run else None,
            }

            def long_figures(r: Run) -> dict:
                util = col(r.daily, UTIL)
                uns = col(r.daily, "tokens_unserved_mtok")
                dem = col(r.daily, "tokens_demanded_mtok")
                return {
                    "long_compute_price_last_30": mean(last(col(r.daily, COMPUTE), 30)),
                    "long_compute_price_last_90": mean(last(col(r.daily, COMPUTE), 90)),
                    "long_compute_price_max": largest(col(r.daily, COMPUTE)),
                    "long_compute_price_final_day": final(col(r.daily, COMPUTE)),
                    "long_utilization_first_90": mean(first(util, 90)),
                    "long_utilization_last_90": mean(last(util, 90)),
                    "long_tokens_unserved_mtok": None if uns is None else float(uns.sum()),
                    "long_unserved_share_of_demand": None
                    if uns is None or dem is None
                    else div(float(uns.sum()), float(dem.sum())),
                }

            d.update(self._long("gpu-supply-shock", seed, long_figures))
            res["gpu-supply-shock"][seed] = d
            rows.append(
                [
                    seed,
                    fmt(d["compute_price_days_450_480"], ".2f"),
                    fmt(d["compute_price_final_day"], ".2f"),
                    fmt(d.get("long_compute_price_last_30"), ".2f"),
                    fmt(d.get("long_compute_price_last_90"), ".2f"),
                    fmt(d.get("long_compute_price_final_day"), ".2f"),
                    f"{pct(d.get('long_utilization_first_90'))} -> {pct(d.get('long_utilization_last_90'))}",
                    fmt(d.get("long_tokens_unserved_mtok"), ",.0f"),
                    pct(d.get("long_unserved_share_of_demand"), 2),
                ]
            )
        self.md += table(
            [
                "gpu-supply-shock seed",
                "compute price d450-480",
                "compute price day 479",
                "long: last 30 d",
                "long: last 90 d",
                "long: final day",
                "long: utilisation first 90 -> last 90 d",
                "long: tokens unserved (Mtok)",
                "long: unserved / demanded",
            ],
            rows,
        )
        self.out["5_investment"] = res

    def _long(self, scenario: str, seed: int, figures: Callable[[Run], dict]) -> dict:
        if not self.long_days:
            return {"long_days": None}
        r = self.runs.get(scenario, seed, self.long_days)
        if r is None:
            return {"long_days": self.long_days}
        try:
            return {"long_days": self.long_days, **figures(r)}
        except (TypeError, IndexError):
            return {"long_days": self.long_days}

    # 6 ------------------------------------------------------------------------------------------------
    def margins_and_ranges(self) -> None:
        self.section("6. token margin share (last 30 days), EDWC price / unit cost, compute price range")
        res, rows = {}, []
        for sc in SCENARIOS:
            res[sc] = {}
            for seed, run in self.each(sc):
                if run is None:
                    res[sc][seed] = None
                    rows.append([sc, seed, *[NA] * 5])
                    continue
                share = ratio(col(run.daily, MARGIN), col(run.daily, TOKEN))
                markup = ratio(col(run.daily, TOKEN), col(run.daily, UNIT_COST))
                p = col(run.daily, COMPUTE)
                d = {
                    "margin_share_last_30": mean(last(share, 30)),
                    "price_over_unit_cost_mean": mean(markup),
                    "compute_price_min": smallest(p),
                    "compute_price_max": largest(p),
                    "compute_price_mean": mean(p),
                }
                res[sc][seed] = d
                rows.append(
                    [
                        sc,
                        seed,
                        pct(d["margin_share_last_30"]),
                        fmt(d["price_over_unit_cost_mean"], ".2f"),
                        fmt(d["compute_price_min"], ".3f"),
                        fmt(d["compute_price_max"], ".3f"),
                        fmt(d["compute_price_mean"], ".3f"),
                    ]
                )
        self.md += table(
            [
                "scenario",
                "seed",
                "margin / token price (last 30 d)",
                "token price / unit cost (mean)",
                "compute price min",
                "max",
                "mean",
            ],
            rows,
        )
        self.out["6_margins_and_ranges"] = res

    # 7 ------------------------------------------------------------------------------------------------
    def seed_spread(self) -> None:
        self.section("7. seeds: bit-identical series and coefficient of variation of run means")
        res, rows = {}, []
        for sc in SCENARIOS:
            runs = [r for _, r in self.each(sc)]
            res[sc] = {}
            cells = []
            for name in SEED_COLUMNS:
                series = [col(r.daily, name) if r else None for r in runs]
                if len(series) < 2 or any(s is None for s in series):
                    res[sc][name] = None
                    cells.append(NA)
                    continue
                same = all(
                    s.shape == series[0].shape and np.array_equal(s, series[0], equal_nan=True) for s in series[1:]
                )
                means = np.array([np.nanmean(s) for s in series])
                cv = float(np.std(means) / abs(np.mean(means))) if np.mean(means) != 0 else None
                scale = max(float(np.nanmax(np.abs(series[0]))), 1e-300) if series[0].size else 1.0
                gap = (
                    max(float(np.nanmax(np.abs(s - series[0]))) for s in series[1:])
                    if all(s.shape == series[0].shape for s in series)
                    else None
                )
                rel = None if gap is None else gap / scale
                res[sc][name] = {
                    "identical": bool(same),
                    "cv_of_run_means": cv,
                    "run_means": means.tolist(),
                    "max_abs_diff_over_max_abs": rel,
                }
                cells.append(
                    ("identical" if same else f"differ (max gap {fmt(rel, '.1e')})") + f", CV {fmt(cv, '.1e')}"
                )
            res[sc]["all_identical"] = (
                all(res[sc][n] is not None and res[sc][n]["identical"] for n in SEED_COLUMNS) if len(runs) > 1 else None
            )
            rows.append([sc, *cells, fmt(res[sc]["all_identical"])])
        self.md += table(
            ["scenario", "token price", "tokens served", "GPUs online", "unserved share", "all four identical"], rows
        )
        n = sum(1 for sc in SCENARIOS if res[sc]["all_identical"]) if len(self.seeds) > 1 else None
        self.md += [
            f"Scenarios with all four series bit-identical across seeds {self.seeds}: {fmt(n, 'd')}. "
            "Max gap: largest |seed k - seed 1| on any day over the largest |value| of seed 1.",
            "",
        ]
        res["scenarios_all_identical"] = n
        self.out["7_seed_spread"] = res

    # 8 ------------------------------------------------------------------------------------------------
    def storage_share(self) -> None:
        self.section("8. storage (and green) cost as a share of the token price")
        res, rows = {}, []
        for sc in SCENARIOS:
            res[sc] = {}
            for seed, run in self.each(sc):
                tok = col(run.daily, TOKEN) if run else None
                stor = ratio(col(run.daily, "token_cost_storage_cny_per_mtok"), tok) if run else None
                served = col(run.daily, "tokens_served_mtok") if run else None
                st_cny = col(run.daily, "token_cost_storage_cny_per_mtok") if run else None
                d = {
                    "storage_share_mean": mean(stor),
                    "storage_share_last_30": mean(last(stor, 30)),
                    "storage_share_of_revenue": None
                    if served is None or st_cny is None or tok is None
                    else div(float((st_cny * served).sum()), float((tok * served).sum())),
                    "green_share_mean": mean(ratio(col(run.daily, "token_cost_green_cny_per_mtok"), tok))
                    if run
                    else None,
                }
                res[sc][seed] = d
                rows.append(
                    [
                        sc,
                        seed,
                        pct(d["storage_share_mean"], 4),
                        pct(d["storage_share_last_30"], 4),
                        pct(d["storage_share_of_revenue"], 4),
                        pct(d["green_share_mean"], 4),
                    ]
                )
        self.md += table(
            [
                "scenario",
                "seed",
                "storage cost / token price (mean of days)",
                "same, last 30 d",
                "storage cost / token revenue (whole run)",
                "green cost / token price",
            ],
            rows,
        )
        self.out["8_storage_share"] = res

    # 9 ------------------------------------------------------------------------------------------------
    def summary(self) -> None:
        self.section("9. plausibility summary (run means unless said)")
        res, rows = {}, []
        for sc in SCENARIOS:
            res[sc] = {}
            for seed, run in self.each(sc):
                if run is None:
                    res[sc][seed] = None
                    rows.append([sc, seed, *[NA] * 10])
                    continue
                g = col(run.daily, "gpus_online")
                retired = col(run.daily, "gpus_retired")
                d = {
                    "days": run.days,
                    "seconds": run.seconds,
                    "token_price": mean(col(run.daily, TOKEN)),
                    "compute_price": mean(col(run.daily, COMPUTE)),
                    "contract_compute_price": mean(col(run.daily, "compute_contract_price_cny_per_gpu_hour")),
                    "power_price": mean(col(run.daily, "power_price_cny_per_mwh")),
                    "gpu_utilization": mean(col(run.daily, UTIL)),
                    "unserved_share": mean(col(run.daily, UNSERVED)),
                    "final_gpus_online": final(g),
                    "margin_share": mean(ratio(col(run.daily, MARGIN), col(run.daily, TOKEN))),
                    "gpus_retired_total": None if retired is None else float(retired.sum()),
                }
                res[sc][seed] = d
                rows.append(
                    [
                        sc,
                        seed,
                        run.days,
                        fmt(d["token_price"]),
                        fmt(d["compute_price"]),
                        fmt(d["contract_compute_price"]),
                        fmt(d["power_price"], ".1f"),
                        pct(d["gpu_utilization"]),
                        pct(d["unserved_share"], 2),
                        fmt(d["final_gpus_online"], ",.0f"),
                        pct(d["margin_share"]),
                        fmt(d["gpus_retired_total"], ",.0f"),
                    ]
                )
        self.md += table(
            [
                "scenario",
                "seed",
                "days",
                "token CNY/Mtok",
                "compute CNY/GPU-h",
                "contract CNY/GPU-h",
                "power CNY/MWh",
                "GPU util",
                "unserved",
                "final GPUs",
                "margin share",
                "GPUs retired",
            ],
            rows,
        )
        self.out["9_summary"] = res


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--long-days", type=int, default=1095, help="horizon of the long runs (0: skip them)")
    parser.add_argument("--quick", action="store_true", help="seed 1 only, no long runs")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    seeds = [1] if args.quick else args.seeds
    long_days = None if args.quick or args.long_days <= 0 else args.long_days

    import tokenomy.abm as abm

    t0 = time.perf_counter()
    runs = Runs(verbose=not args.quiet)
    audit = Audit(runs, seeds, long_days)
    for figure in (
        audit.classroom_markup,
        audit.china_prices,
        audit.sold_vs_busy,
        audit.losses,
        audit.investment,
        audit.margins_and_ranges,
        audit.seed_spread,
        audit.storage_share,
        audit.summary,
    ):
        figure()
    total = time.perf_counter() - t0

    meta = {
        "abm_file": str(Path(abm.__file__).resolve()),
        "python": platform.python_version(),
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "seeds": seeds,
        "long_days": long_days,
        "quick": bool(args.quick),
        "seconds_total": total,
        "runs": [
            {"scenario": k[0], "seed": k[1], "days": k[2], "seconds": None if r is None else r.seconds}
            for k, r in runs.cache.items()
        ],
        "errors": runs.errors,
    }
    head = [
        "# Economics audit",
        "",
        f"abm imported from `{meta['abm_file']}`; seeds {seeds}; long runs "
        f"{long_days if long_days else 'skipped'}; {len(runs.cache)} runs in {total:.1f} s.",
        "",
    ]
    if runs.errors:
        head += ["Failed runs:", "", *[f"- {k}: {v}" for k, v in runs.errors.items()], ""]
    print("\n".join(head + audit.md))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(jsonable({"meta": meta, **audit.out}), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
