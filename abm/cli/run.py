"""``tokenomy run`` and ``tokenomy scenarios``: one scenario headless, and the list of shipped ones."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tokenomy.abm.cli.argtypes import folder, input_file, whole_number
from tokenomy.abm.scenarios.spec import MAX_DAYS, MAX_SEED


def register(sub) -> dict:
    run = sub.add_parser("run", help="run one scenario headless and write its tables")
    run.add_argument("scenario", help="a shipped scenario name (see `tokenomy scenarios`) or a path to a .toml file")
    run.add_argument("--days", type=whole_number(1, maximum=MAX_DAYS),
                     help=f"days to simulate, 1 to {MAX_DAYS:,} (default: the scenario's)")
    run.add_argument("--seed", type=whole_number(0, maximum=MAX_SEED), help="random seed (default: the scenario's)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a scenario value, e.g. --set apps.chatbot.agent_multiplier=8")
    run.add_argument("--out", type=folder, help="output folder (default: out/SCENARIO-seedS)")
    run.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    run.add_argument("--graph", type=input_file, help="build the supply graph from this GraphML file")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_parser("scenarios", help="list the shipped scenarios")
    return {"run": cmd_run, "scenarios": cmd_scenarios}


class _Progress:
    """A progress bar on stderr, shown only for runs longer than a couple of seconds on a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.perf_counter()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        if elapsed < 2.0 and not self.shown:
            return
        if done % 5 and done != total:
            return
        self.shown = True
        width = 30
        filled = int(width * done / total)
        eta = elapsed / done * (total - done)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] day {done}/{total}  eta {eta:5.1f}s ")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _fmt_num(x: float) -> str:
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.2f}{unit}"
    return f"{x:.2f}"


def summary(model, daily) -> str:
    first, last = daily.iloc[0], daily.iloc[-1]
    rows = [
        ("token price (CNY/Mtok)", f"{first.token_price_cny_per_mtok:.3f}", f"{last.token_price_cny_per_mtok:.3f}"),
        ("compute price (CNY/GPU-hour)", f"{first.compute_price_cny_per_gpu_hour:.2f}",
         f"{last.compute_price_cny_per_gpu_hour:.2f}"),
        ("power price (CNY/MWh)", f"{first.power_price_cny_per_mwh:.1f}", f"{last.power_price_cny_per_mwh:.1f}"),
        ("tokens served per day", _fmt_num(first.tokens_served_mtok * 1e6), _fmt_num(last.tokens_served_mtok * 1e6)),
        ("unserved share of demand", f"{first.unserved_share:.1%}", f"{last.unserved_share:.1%}"),
        ("GPUs online", f"{first.gpus_online:,.0f}", f"{last.gpus_online:,.0f}"),
        ("GPUs in the pipeline", f"{first.gpus_in_pipeline:,.0f}", f"{last.gpus_in_pipeline:,.0f}"),
        ("GPU utilisation", f"{first.gpu_utilization:.1%}", f"{last.gpu_utilization:.1%}"),
    ]
    head = (f"{model.config.name}: {len(daily)} days from {first.date.date()} to {last.date.date()}, "
            f"seed {model.seed_value}")
    width = max(len(r[0]) for r in rows)
    lines = [head, f"  {'':{width}}  {'start':>12}  {'end':>12}"]
    lines += [f"  {name:{width}}  {a:>12}  {b:>12}" for name, a, b in rows]
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    from tokenomy.abm.model import TokenEconomy
    from tokenomy.abm.output import prepare_out_dir, versions, write_json, write_table
    from tokenomy.abm.scenarios import load_scenario
    from tokenomy.abm.warmup import ensure_compiled
    from tokenomy.networks import write_graph

    scenario = load_scenario(args.scenario, args.set, graph=args.graph)  # every check, the graph's too
    seed = scenario.data["scenario"]["seed"] if args.seed is None else args.seed
    days = args.days or scenario.data["scenario"]["days"]
    out = args.out or Path("out") / f"{scenario.name}-seed{seed}"
    prepare_out_dir(out)
    graph = scenario.graph
    ensure_compiled()  # so that the first day (and the ms per day below) does not include compiling
    t0 = time.perf_counter()
    model = TokenEconomy(scenario, seed=seed, graph=graph)
    t1 = time.perf_counter()
    model.run(days, progress=_Progress(not args.quiet))
    t2 = time.perf_counter()
    daily = model.daily_table()
    paths = [write_table(daily, out, "daily", args.format),
             write_table(model.hourly_table(), out, "hourly", args.format),
             write_table(model.agents_table(), out, "agents", args.format)]
    write_graph(model.graph_with_flows(), out / "graph.graphml")
    t3 = time.perf_counter()
    write_json({"scenario": scenario.name, "scenario_file": scenario.source, "overrides": args.set, "seed": seed,
                "days": days, "start_date": str(scenario.start_date), "format": args.format,
                "versions": versions(),
                "timings_s": {"build": round(t1 - t0, 4), "simulate": round(t2 - t1, 4), "write": round(t3 - t2, 4),
                              "ms_per_day": round(1000 * (t2 - t1) / days, 4)},
                "files": [p.name for p in paths] + ["graph.graphml"]}, out / "run.json")
    print(summary(model, daily))
    print(f"  tables in {out}/ ({args.format}); {1000 * (t2 - t1) / days:.2f} ms per simulated day")
    return 0


def cmd_scenarios(_: argparse.Namespace) -> int:
    from tokenomy.abm.scenarios import load_scenario, shipped_scenarios

    for name in shipped_scenarios():
        sc = load_scenario(name)
        print(f"{name:24s} {sc.data['scenario']['description']}")
    return 0


