"""Storage as a floor under token prices, measured.

Runs the sweep ``abm/batch/data/storage-capex.toml`` (the classroom world with AI data centres obliged to
run on 80% green electricity, met with green certificates and battery firming) and fits, across storage
capex values and seeds, how the cost of a token moves per 100 CNY/kWh of battery capex: the token's unit
cost, its storage part, and the token price.  Prints a table and the slopes.

    .venv/bin/python benchmarks/storage_floor.py [--out DIR] [--workers N]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from tokenomy.abm.batch.runner import run_sweep

SWEEP = Path(__file__).resolve().parent.parent / "abm" / "batch" / "data" / "storage-capex.toml"
KEY = "storage.*.capex_cny_per_kwh"
WARM_UP_DAYS = 60  # the first green contracts are signed after a month of measured energy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="sweep folder (default: a temporary one)")
    parser.add_argument("--workers", type=int, default=0, help="worker processes (0: in this process)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = run_sweep(SWEEP, Path(args.out or tmp), workers=args.workers)
        daily = result.daily
    daily = daily[daily.day >= WARM_UP_DAYS]
    cols = {
        "token_unit_cost_cny_per_mtok": "unit cost",
        "token_cost_storage_cny_per_mtok": "storage part",
        "token_cost_green_cny_per_mtok": "certificates",
        "token_price_cny_per_mtok": "token price",
        "aidc_green_certified_share": "green share",
    }
    runs = daily.groupby([KEY, "seed"])[list(cols)].mean().reset_index()
    points = runs.groupby(KEY)[list(cols)].mean()
    print("storage capex (CNY/kWh) | " + " | ".join(cols.values()))
    for capex, row in points.iterrows():
        print(f"{capex:>7.0f} | " + " | ".join(f"{row[c]:.5f}" for c in cols))
    x = runs[KEY].to_numpy() / 100.0
    for col in ("token_unit_cost_cny_per_mtok", "token_cost_storage_cny_per_mtok", "token_price_cny_per_mtok"):
        slope, _ = np.polyfit(x, runs[col].to_numpy(), 1)
        share = slope / runs["token_price_cny_per_mtok"].mean()
        print(f"{cols[col]}: {slope:+.5f} CNY/Mtok per 100 CNY/kWh of storage capex ({share:+.3%} of the price)")


if __name__ == "__main__":
    main()
