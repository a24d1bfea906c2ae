"""Seconds a whole ``tokenomy`` process takes, start to exit, against its budgets.

Each command runs in a fresh process (best of ``--repeat``, after one untimed run that warms the disk cache and
compiles the kernels if they are not on disk yet): ``tokenomy --help``, an argument error, a one-day and a 366-day
run of ``classroom``, and, as the yardstick, a whole process running Mesa's Boltzmann wealth model (n=1000, 70x70,
200 steps: :func:`bench_days.yardstick`). Budgets: ``--help`` and an argument error at most 0.3 s; the 366-day run
no slower than the yardstick process. The machine's load moves every wall-clock figure: take the best of several
repeats, and read the processor time (what the process itself cost) beside it.

    .venv/bin/python benchmarks/bench_startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
HELP_BUDGET_S = 0.3
# as installed for a user: Python reads (and, the first time, writes) each module's compiled bytecode, as pip does
# at install time; an environment that forbids writing it would compile every module from source in every process
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
YARDSTICK = [
    sys.executable,
    "-c",
    f"import sys; sys.path.insert(0, {str(HERE)!r}); import bench_days; bench_days.yardstick()",
]


def tokenomy() -> list[str]:
    """The installed ``tokenomy`` command beside this Python, or ``python -m tokenomy.abm.cli``."""
    script = Path(sys.executable).with_name("tokenomy")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tokenomy.abm.cli"]


def seconds(cmd: list[str], expect: int = 0) -> tuple[float, float]:
    """(wall-clock, processor) seconds of one whole process running ``cmd``. Processor time (user + system, from
    ``wait4``) is what the process itself costs: on shared cores, wall-clock time also counts the waits for the
    other work."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=CHILD_ENV)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        err.seek(0)
        text = err.read().decode(errors="replace").strip()
    code = os.waitstatus_to_exitcode(status)
    if code != expect:
        raise SystemExit(f"{' '.join(cmd)}: exit {code}, expected {expect}: {text[-300:]}")
    return wall, usage.ru_utime + usage.ru_stime


def best(cmd: list[str], repeat: int, expect: int = 0) -> tuple[float, float]:
    """The least wall-clock and the least processor time over ``repeat`` runs (after an untimed one that warms the
    disk cache, and compiles the kernels if they have no machine code on disk yet)."""
    seconds(cmd, expect)
    runs = [seconds(cmd, expect) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs)


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
    stick_wall, stick_cpu = took["yardstick process (Mesa Boltzmann)"]
    print(f"whole processes, best of {args.repeat}: wall-clock and processor (user + system) seconds")
    for name, (wall, cpu) in took.items():
        ratios = f"({wall / stick_wall:4.2f} x)   {cpu:6.3f} s cpu ({cpu / stick_cpu:4.2f} x)"
        print(f"  {name:36s} {wall:6.3f} s wall {ratios}")
    for name in ("tokenomy --help", "argument error (--days 0)"):
        wall = took[name][0]
        verdict = "within" if wall <= HELP_BUDGET_S else "OVER"
        print(f"{name}: budget {HELP_BUDGET_S} s wall: {verdict} ({wall / HELP_BUDGET_S:.2f} x budget)")
    wall, cpu = took["run classroom --days 366"]
    for what, ratio in (("wall", wall / stick_wall), ("cpu", cpu / stick_cpu)):
        verdict = "within" if ratio <= 1.0 else "OVER"
        print(f"run classroom --days 366: budget 1.0 x the yardstick process ({what}): {verdict} ({ratio:.2f} x)")


if __name__ == "__main__":
    main()
