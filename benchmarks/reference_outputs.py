"""Save a run's tables as a reference, or compare a run against one: a guard for speed work, which must not
change what the model computes.

    .venv/bin/python benchmarks/reference_outputs.py save /tmp/reference
    .venv/bin/python benchmarks/reference_outputs.py compare /tmp/reference

Each case (scenario, days, seed) is run in process and its ``daily``, ``hourly`` and ``agents`` tables are
written as Parquet with their in-memory dtypes (``save``), or compared with the saved ones after the same
round trip through Parquet (``compare``): same in-memory dtypes, same columns in the same order, equal
non-numeric columns, and numeric columns equal to within 1e-9 relative (1e-6 absolute near zero).
``compare`` prints the largest relative difference of every table.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

CASES = (
    ("classroom", 365, 1),
    ("classroom", 365, 2),
    ("agent-boom", 540, 1),
    ("china-2024", 820, 1),
    ("east-data-west-compute", 240, 3),
)
TABLES = ("daily", "hourly", "agents")
RTOL, ATOL = 1e-9, 1e-6


def run_tables(name: str, days: int, seed: int) -> dict[str, pd.DataFrame]:
    from tokenomy.abm.model import TokenEconomy

    model = TokenEconomy(name, seed=seed)
    model.run(days)
    return {"daily": model.daily_table(), "hourly": model.hourly_table(), "agents": model.agents_table()}


def dtypes(tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, str]]:
    return {t: {c: str(d) for c, d in frame.dtypes.items()} for t, frame in tables.items()}


def round_trip(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as written to Parquet and read back (what a user of the files sees)."""
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    buf.seek(0)
    return pd.read_parquet(buf)


def case_dir(root: Path, name: str, days: int, seed: int) -> Path:
    return root / f"{name}-{days}d-seed{seed}"


def compare_frames(ref: pd.DataFrame, new: pd.DataFrame) -> tuple[float, list[str]]:
    """(largest relative difference over numeric columns, problems found)."""
    problems = []
    if list(ref.columns) != list(new.columns):
        return float("inf"), [f"columns differ: {list(ref.columns)} vs {list(new.columns)}"]
    if len(ref) != len(new):
        return float("inf"), [f"rows differ: {len(ref)} vs {len(new)}"]
    worst = 0.0
    for col in ref.columns:
        a, b = ref[col], new[col]
        if str(a.dtype) != str(b.dtype):
            problems.append(f"{col}: dtype {a.dtype} vs {b.dtype}")
        if pd.api.types.is_float_dtype(a.dtype) or pd.api.types.is_integer_dtype(a.dtype):
            x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            both_nan = np.isnan(x) & np.isnan(y)
            if (np.isnan(x) != np.isnan(y)).any():
                problems.append(f"{col}: NaN in different places")
            diff = np.where(both_nan, 0.0, np.abs(x - y))
            scale = np.maximum(np.abs(x), np.abs(y))
            rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
            bad = (diff > ATOL) & (rel > RTOL)
            if bad.any():
                problems.append(f"{col}: {int(bad.sum())} values differ, largest relative {rel[bad].max():.3g}")
            worst = max(worst, float(np.nanmax(rel)) if rel.size else 0.0)
        elif not a.astype(object).equals(b.astype(object)):
            problems.append(f"{col}: values differ")
    return worst, problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=("save", "compare"))
    parser.add_argument("root", type=Path)
    parser.add_argument("--only", help="only the cases of this scenario")
    args = parser.parse_args()
    failed = False
    for name, days, seed in CASES:
        if args.only and name != args.only:
            continue
        tables = run_tables(name, days, seed)
        folder = case_dir(args.root, name, days, seed)
        if args.action == "save":
            folder.mkdir(parents=True, exist_ok=True)
            for t in TABLES:
                tables[t].to_parquet(folder / f"{t}.parquet", index=False)
            (folder / "dtypes.json").write_text(json.dumps(dtypes(tables), indent=1))
            print(f"saved {folder}")
            continue
        line = []
        saved_dtypes = json.loads((folder / "dtypes.json").read_text())
        for t in TABLES:
            if saved_dtypes[t] != dtypes(tables)[t]:
                failed = True
                print(f"  {name} seed {seed} {t}: in-memory dtypes differ: {saved_dtypes[t]} vs {dtypes(tables)[t]}")
            worst, problems = compare_frames(pd.read_parquet(folder / f"{t}.parquet"), round_trip(tables[t]))
            line.append(f"{t} max rel {worst:.2e}{' BIT-IDENTICAL' if worst == 0.0 and not problems else ''}")
            for p in problems:
                failed = True
                print(f"  {name} seed {seed} {t}: {p}")
        print(f"{name:24s} {days:4d} d seed {seed}: " + "; ".join(line))
    if args.action == "compare":
        print("MISMATCH" if failed else "all tables match the reference")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
