"""Seconds a whole ``tokenomy`` process takes, start to exit, against its budgets.

Each command runs in a fresh process (best of ``--repeat``, after one untimed run that warms the disk cache and
compiles the kernels if they are not on disk yet): ``tokenomy --help``, an argument error, a one-day and a 366-day
run of ``classroom``, and, as the yardstick, a whole process running Mesa's Boltzmann wealth model (n=1000, 70x70,
200 steps: :func:`bench_days.yardstick`). Budgets: ``--help`` and an argument error at most 0.3 s; the 366-day run
no slower than the yardstick process. The machine's load moves every figure: take the best of several repeats.

    .venv/bin/python benchmarks/bench_startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
HELP_BUDGET_S = 0.3
YARDSTICK = [
    sys.executable,
    "-c",
    f"import sys; sys.path.insert(0, {str(HERE)!r}); import bench_days; bench_days.yardstick()",
]


def tokenomy() -> list[str]:
    """The installed ``tokenomy`` command beside this Python, or ``python -m tokenomy.abm.cli``."""
    script = Path(sys.executable).with_name("tokenomy")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tokenomy.abm.cli"]


def seconds(cmd: list[str], expect: int = 0) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
    took = time.perf_counter() - start
    if done.returncode != expect:
        raise SystemExit(f"{' '.join(cmd)}: exit {done.returncode}, expected {expect}: {done.stderr.strip()[-300:]}")
    return took


def best(cmd: list[str], repeat: int, expect: int = 0) -> float:
    seconds(cmd, expect)  # untimed: disk cache, and the kernels' first compile if they have none on disk
    return min(seconds(cmd, expect) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5, help="best of N")
    args = parser.parse_args()
    cli = tokenomy()
    with tempfile.TemporaryDirectory() as tmp:
        run = [*cli, "run", "classroom", "--quiet", "--out"]
        cases = {
            "tokenomy --help": ([*cli, "--help"], 0),
            "argument error (--days 0)": ([*cli, "run", "classroom", "--days", "0"], 2),
            "run classroom --days 1": ([*run, f"{tmp}/one", "--days", "1"], 0),
            "run classroom --days 366": ([*run, f"{tmp}/year", "--days", "366"], 0),
            "yardstick process (Mesa Boltzmann)": (YARDSTICK, 0),
        }
        took = {name: best(cmd, args.repeat, expect) for name, (cmd, expect) in cases.items()}
    stick = took["yardstick process (Mesa Boltzmann)"]
    print(f"whole processes, best of {args.repeat}:")
    for name, s in took.items():
        print(f"  {name:36s} {s:6.3f} s   {s / stick:5.2f} x yardstick process")
    for name in ("tokenomy --help", "argument error (--days 0)"):
        verdict = "within" if took[name] <= HELP_BUDGET_S else "OVER"
        print(f"{name}: budget {HELP_BUDGET_S} s: {verdict} ({took[name] / HELP_BUDGET_S:.2f} x budget)")
    ratio = took["run classroom --days 366"] / stick
    verdict = "within" if ratio <= 1.0 else "OVER"
    print(f"run classroom --days 366: budget 1.0 x yardstick process: {verdict} ({ratio:.2f} x)")


if __name__ == "__main__":
    main()
