"""Time and peak memory of a run as the scenario grows to the limits on entries, and beyond them.

Each world is ``china-2024`` (8 zones) with entries added until it has N of a kind, each new one a small share of
the base world's size; ``spin_up_days = 0``, so one day is one day. Each runs as ``tokenomy run FILE --days D`` (one
day by default) in a fresh process (build, the simulated days, tables and graph written) under a cap on its address
space (``--memory-gb``), and the table gives its wall-clock and processor time, the parts ``run.json`` records (wall
clock) and the process's peak resident memory (``wait4``'s maxrss). The world at the limits (1,000 of each kind)
runs again on the supply graph it wrote (the file must read back within the GraphML limit). A world beyond a limit
(1,001 of a trading kind) must be refused before any work, with one line and exit code 2. The machine's load moves
the wall-clock times: take the best of several repeats, and read the processor time beside them.

A buyer that may trade with every seller considers at most 100 of them (``networks/consideration.py``), and a day's
compute flows are kept per buyer-AIDC pair that can trade (``abm/links.py``), so the work of the markets and of pricing
and the memory grow about linearly with the entries: ``--days 30`` gives a simulated day after the first of 0.45 s at
100 of each kind and 4.5 s at 1,000 (processor time; peak memory 0.38 and 1.17 GB: README, "Size").
``--beyond N [N ...]`` also runs worlds with N of each kind past the limit, the limit lifted in the benchmark's own
child process only (``tokenomy`` itself refuses them).

    .venv/bin/python benchmarks/bench_scale.py [--repeat 1] [--days 1] [--memory-gb 8] [--beyond 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ZONES = (
    "beijing-tianjin-hebei",
    "yangtze-river-delta",
    "guangdong-hk-macao",
    "chengdu-chongqing",
    "inner-mongolia",
    "guizhou",
    "gansu",
    "ningxia",
)
TRADING = ("aidcs", "providers", "labs", "apps", "enterprises")
KINDS = ("utilities", "storage", *TRADING)
# label -> entries of each kind (the rest keep the base world's few)
WORLDS = {
    "10 of each kind": dict.fromkeys(KINDS, 10),
    "100 of each kind": dict.fromkeys(KINDS, 100),
    "1,000 of each kind (every limit)": dict.fromkeys(KINDS, 1000),
    "1,001 of each trading kind (beyond the limit: refused)": {
        "utilities": 1000,
        "storage": 1000,
        **dict.fromkeys(TRADING, 1001),
    },
}
ROUND_TRIP = "1,000 of each kind (every limit)"


def _entry(kind: str, i: int, n: int) -> list[str]:
    """The TOML lines of the ``i``-th added entry of ``kind`` in a world with ``n`` of that kind."""
    zone = ZONES[i % len(ZONES)]
    lines = {
        "utilities": [
            f'name = "u{i}"',
            "  [[utilities.units]]",
            f'  name = "u{i}-coal"',
            f'  zone = "{zone}"',
            '  tech = "coal"',
            f"  capacity_mw = {4e4 / n:.1f}",
        ],
        "storage": [f'name = "s{i}"', f'zone = "{zone}"', "energy_mwh = 40.0", "power_mw = 10.0"],
        "aidcs": [f'name = "a{i}"', f'zone = "{zone}"', f"gpus = {2e5 / n:.1f}"],
        "providers": [f'name = "p{i}"', "price_cny_per_mtok = 3.0", "mtok_per_gpu_hour = 3.0"],
        "labs": [f'name = "l{i}"', f"gpu_hours_per_day = {1e6 / n:.1f}", f"budget_cny_per_day = {1e7 / n:.1f}"],
        "apps": [f'name = "ap{i}"', f"users = {1e7 / n:.1f}"],
        "enterprises": [f'name = "e{i}"', f"firms = {1e5 / n:.1f}"],
    }[kind]
    return [f"[[{kind}]]", *lines]


def scenario_text(counts: dict[str, int], base_counts: dict[str, int]) -> str:
    """A scenario over ``china-2024`` with ``counts[kind]`` entries of each kind in all."""
    out = ["[scenario]", 'name = "scale"', 'base = "china-2024"', "spin_up_days = 0", ""]
    for kind, n in counts.items():
        for i in range(max(n - base_counts[kind], 0)):
            out += _entry(kind, i, n)
    return "\n".join(out) + "\n"


# the command line with the limit on trading entries lifted to sys.argv[1] in this process only
LIFTED = """
import dataclasses, sys
import tokenomy.abm.scenarios.spec as spec
lifted = int(sys.argv.pop(1))
for kind in {trading!r}:
    spec.ROOT.fields[kind] = dataclasses.replace(spec.ROOT.fields[kind], max_items=lifted)
from tokenomy.abm.entry import main
sys.exit(main(sys.argv[1:]))
"""


def run_once(
    scenario: Path,
    out: Path,
    memory_gb: float,
    graph: Path | None = None,
    lift_to: int | None = None,
    days: int = 1,
) -> dict:
    """One ``tokenomy run`` of ``days`` days (with the supply graph ``graph`` if given; the limit on trading entries
    lifted to ``lift_to`` if given): wall-clock seconds, peak memory, exit code, run.json timings, error line."""
    script = Path(sys.executable).with_name("tokenomy")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "tokenomy.abm.cli"]
    if lift_to is not None:
        cmd = [sys.executable, "-c", LIFTED.format(trading=TRADING), str(lift_to)]
    cap = int(memory_gb * 2**30)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(
            [*cmd, "run", str(scenario), "--days", str(days), "--quiet", "--out", str(out)]
            + (["--graph", str(graph)] if graph else []),
            stdout=subprocess.DEVNULL,
            stderr=err,
            preexec_fn=limit,
        )
        _, status, usage = os.wait4(child.pid, 0)
        took = time.perf_counter() - start
        err.seek(0)
        lines = err.read().decode(errors="replace").strip().splitlines()
    code = os.waitstatus_to_exitcode(status)
    record = out / "run.json"
    timings = json.loads(record.read_text())["timings_s"] if code == 0 and record.exists() else {}
    cpu = usage.ru_utime + usage.ru_stime
    return {"s": took, "cpu": cpu, "mb": usage.ru_maxrss / 1024, "code": code, "timings": timings, "error": lines[-1:]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1, help="best of N (by time)")
    parser.add_argument("--days", type=int, default=1, help="days to simulate in each run")
    parser.add_argument("--memory-gb", type=float, default=8.0, help="address-space cap of each run")
    parser.add_argument("--beyond", type=int, nargs="*", default=[], help="N of each kind past the limit")
    args = parser.parse_args()
    from tokenomy.abm.scenarios import load_scenario

    base = load_scenario("china-2024").data
    base_counts = {kind: len(base[kind]) for kind in KINDS}
    print(f"china-2024 grown to N entries of a kind (tokenomy run --days {args.days}), best of {args.repeat}")
    head = f"{'exit':>4s} {'total s':>8s} {'cpu s':>7s} {'build':>7s} {'day':>7s} {'write':>7s} {'peak MB':>8s}"
    print(f"{'world':68s} {head}")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, counts) in enumerate(WORLDS.items()):
            scenario = Path(tmp) / f"scale-{i}.toml"
            scenario.write_text(scenario_text(counts, base_counts))
            runs = [
                run_once(scenario, Path(tmp) / f"out-{i}-{r}", args.memory_gb, days=args.days)
                for r in range(args.repeat)
            ]
            _row(label, min(runs, key=lambda x: x["s"]))
            if label == ROUND_TRIP:  # the graph that run wrote, read back (a written graph builds the same world)
                graph = Path(tmp) / f"out-{i}-0" / "graph.graphml"
                size = f"{graph.stat().st_size / 1e6:.1f} MB" if graph.exists() else "missing"
                again = [
                    run_once(scenario, Path(tmp) / f"re-{r}", args.memory_gb, graph, days=args.days)
                    for r in range(args.repeat)
                ]
                _row(f"  the same, --graph its graph.graphml ({size})", min(again, key=lambda x: x["s"]))
        for n in args.beyond:
            scenario = Path(tmp) / f"beyond-{n}.toml"
            counts = {**dict.fromkeys(KINDS, min(n, 1000)), **dict.fromkeys(TRADING, n)}  # (the others stop at 1,000)
            scenario.write_text(scenario_text(counts, base_counts))
            runs = [
                run_once(scenario, Path(tmp) / f"beyond-{n}-{r}", args.memory_gb, lift_to=n, days=args.days)
                for r in range(args.repeat)
            ]
            _row(f"{n:,} of each trading kind, the limit lifted (beyond it)", min(runs, key=lambda x: x["s"]))


def _row(label: str, r: dict) -> None:
    t = r["timings"]
    parts = " ".join(f"{t.get(k, float('nan')):7.2f}" for k in ("build", "simulate", "write"))
    print(f"{label:68s} {r['code']:4d} {r['s']:8.2f} {r['cpu']:7.2f} {parts} {r['mb']:8.0f}")
    if r["code"] != 0:
        print(f"    {' '.join(r['error'])[:200]}")


if __name__ == "__main__":
    main()
