"""One simulated year as a user sees it: ``tokenomy run`` end to end, tables written, against a yardstick.

For each scenario the time of ``tokenomy run SCENARIO --days 366 --out DIR --quiet`` less that of
``--days 1`` (best of N each, as subprocesses of the installed command, into temporary folders): start-up
(imports, compiled kernels, building the world) cancels, simulating 365 more days and writing their
Parquet tables counts.  The yardstick is Mesa's bundled Boltzmann wealth model (n=1000 on a 70x70 grid,
200 steps), best of N, timed in this process.  Budgets: ``classroom`` within 0.3 x the
yardstick, ``china-2024`` within 1.0 x.  The simulation alone (in process, as in ``bench_days.py``) is
printed beside it, so one can see what writing costs.

    .venv/bin/python benchmarks/bench_end_to_end.py [--repeat 3] [--scenario classroom ...]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_days import yardstick  # the same yardstick as the per-day benchmark (this folder is on sys.path)

BUDGETS = {"classroom": 0.3, "china-2024": 1.0}
TOKENOMY = Path(sys.executable).with_name("tokenomy")


def cli_run(name: str, days: int, command: str = str(TOKENOMY)) -> float:
    """Wall-clock seconds of one ``tokenomy run`` into a fresh temporary folder."""
    out = Path(tempfile.mkdtemp(prefix=f"bench-{name}-{days}-"))
    try:
        t = time.perf_counter()
        subprocess.run(
            [command, "run", name, "--days", str(days), "--out", str(out / "run"), "--quiet"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return time.perf_counter() - t
    finally:
        shutil.rmtree(out, ignore_errors=True)


def simulation_only(name: str, days: int = 365) -> float:
    """Seconds to simulate ``days`` days in this process, tables not built (like bench_days.py)."""
    from tokenomy.abm.model import TokenEconomy

    model = TokenEconomy(name)
    t = time.perf_counter()
    model.run(days)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3, help="best of N")
    parser.add_argument("--scenario", action="append", help="only these scenarios (default: the budgeted ones)")
    parser.add_argument("--command", default=str(TOKENOMY), help="the tokenomy command to time (another checkout's)")
    args = parser.parse_args()
    from tokenomy.abm.warmup import warm_up

    warm_up("classroom")
    warm_up("china-2024", days=1)
    stick = min(yardstick() for _ in range(args.repeat))
    print(f"yardstick (Mesa Boltzmann wealth, n=1000, 70x70, 200 steps): {stick:.3f} s (best of {args.repeat})")
    verdicts = []
    for name in args.scenario or BUDGETS:
        factor = BUDGETS.get(name, 1.0)
        sim = min(simulation_only(name) for _ in range(args.repeat))
        year = one = float("inf")
        for _ in range(args.repeat):  # interleaved, so that a slow spell of the machine hits both alike
            year = min(year, cli_run(name, 366, args.command))
            one = min(one, cli_run(name, 1, args.command))
        diff = year - one
        budget = factor * stick
        ok = diff <= budget
        verdicts.append(ok)
        print(
            f"{name:12s} run 366 d {year:6.3f} s   run 1 d {one:6.3f} s   difference {diff:6.3f} s "
            f"= {diff / stick:.2f} x yardstick   budget {factor} x = {budget:.3f} s   "
            f"{'within' if ok else 'OVER'}"
        )
        print(
            f"{'':12s} simulation alone {1000 * sim / 365:6.3f} ms/day ({sim:.3f} s a year, "
            f"{sim / stick:.2f} x yardstick); end to end {1000 * diff / 365:6.3f} ms/day, "
            f"so writing and the rest cost {1000 * (diff - sim) / 365:6.3f} ms/day ({diff - sim:.3f} s)"
        )
    print("all within budget" if all(verdicts) else "OVER budget")


if __name__ == "__main__":
    main()
