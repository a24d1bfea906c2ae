"""``tokenomy run`` and ``tokenomy scenarios``: one scenario headless, and the list of shipped ones."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tokenomy.abm.cli.argtypes import folder, input_file, seed_list, whole_number
from tokenomy.abm.cli.progress import progress_bar
from tokenomy.abm.errors import printable, printable_lines
from tokenomy.abm.limits import MAX_DAYS, MAX_SEED

MAX_ENSEMBLE_SEEDS = 1_000
MAX_WORKERS = 8


def register(sub) -> dict:
    run = sub.add_parser("run", help="run one scenario headless and write its tables")
    run.add_argument("scenario", help="a shipped scenario name (see `tokenomy scenarios`) or a path to a .toml file")
    run.add_argument(
        "--days",
        type=whole_number(1, maximum=MAX_DAYS),
        help=f"days to simulate, 1 to {MAX_DAYS:,} (default: the scenario's)",
    )
    seeds = run.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=whole_number(0, maximum=MAX_SEED), help="random seed (default: the scenario's)")
    seeds.add_argument(
        "--seeds",
        type=seed_list(MAX_SEED, MAX_ENSEMBLE_SEEDS),
        metavar="SPEC",
        help=f"run an ensemble of seeds, e.g. 1-20, 1,2,5 or 3-5,9 (at most {MAX_ENSEMBLE_SEEDS:,})",
    )
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value, e.g. --set apps.chatbot.agent_multiplier=8",
    )
    run.add_argument(
        "--out", type=folder, help="output folder (default: out/SCENARIO-seedS, or out/SCENARIO-seeds-FIRST-LAST)"
    )
    run.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    run.add_argument("--graph", type=input_file, help="build the supply graph from this GraphML file")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument(
        "--workers",
        type=whole_number(1, maximum=MAX_WORKERS),
        help=f"with --seeds: run the seeds in this many processes, 1 to {MAX_WORKERS} (default 1)",
    )
    sub.add_parser("scenarios", help="list the shipped scenarios")
    return {"run": cmd_run, "scenarios": cmd_scenarios}


def fmt_num(x: float) -> str:
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.2f}{unit}"
    return f"{x:.2f}"


def summary(model, daily) -> str:
    first, last = daily.iloc[0], daily.iloc[-1]
    rows = [
        ("token price (CNY/Mtok)", f"{first.token_price_cny_per_mtok:.3f}", f"{last.token_price_cny_per_mtok:.3f}"),
        (
            "compute price (CNY/GPU-hour)",
            f"{first.compute_price_cny_per_gpu_hour:.2f}",
            f"{last.compute_price_cny_per_gpu_hour:.2f}",
        ),
        ("power price (CNY/MWh)", f"{first.power_price_cny_per_mwh:.1f}", f"{last.power_price_cny_per_mwh:.1f}"),
        ("tokens served per day", fmt_num(first.tokens_served_mtok * 1e6), fmt_num(last.tokens_served_mtok * 1e6)),
        ("unserved share of demand", f"{first.unserved_share:.1%}", f"{last.unserved_share:.1%}"),
        ("GPUs online", f"{first.gpus_online:,.0f}", f"{last.gpus_online:,.0f}"),
        ("GPUs in the pipeline", f"{first.gpus_in_pipeline:,.0f}", f"{last.gpus_in_pipeline:,.0f}"),
        ("GPU utilisation", f"{first.gpu_utilization:.1%}", f"{last.gpu_utilization:.1%}"),
    ]
    head = (
        f"{model.config.name}: {len(daily)} days from {first.date.date()} to {last.date.date()}, "
        f"seed {model.seed_value}"
    )
    width = max(len(r[0]) for r in rows)
    lines = [head, f"  {'':{width}}  {'start':>12}  {'end':>12}"]
    lines += [f"  {name:{width}}  {a:>12}  {b:>12}" for name, a, b in rows]
    return "\n".join(lines)


def _run_record(
    args: argparse.Namespace, scenario, seed: int, days: int, timings_s: dict[str, float], files: list[str]
) -> dict:
    from tokenomy.abm.output import versions

    simulate_s = timings_s["simulate"]
    return {
        "scenario": scenario.name,
        "scenario_file": scenario.source,
        "overrides": args.set,
        "seed": seed,
        "days": days,
        "start_date": str(scenario.start_date),
        "format": args.format,
        "versions": versions(),
        "timings_s": {
            **{k: round(v, 4) for k, v in timings_s.items()},
            "ms_per_day": round(1000 * simulate_s / days, 4),
        },
        "files": files,
    }


def cmd_run(args: argparse.Namespace) -> int:
    if args.seeds is not None:
        from tokenomy.abm.cli.ensemble import cmd_ensemble

        return cmd_ensemble(args)
    if args.workers is not None:
        from tokenomy.abm.errors import UsageError

        raise UsageError("--workers runs the seeds of an ensemble in parallel: give --seeds too")
    from tokenomy.abm import collector

    with collector.imports_frozen():  # (see abm.collector: the collector would walk every imported object again)
        from tokenomy.abm.model import TokenEconomy
        from tokenomy.abm.output import staged_run_folder, write_json, write_run
        from tokenomy.abm.scenarios import load_scenario
        from tokenomy.abm.warmup import ensure_compiled

    scenario = load_scenario(args.scenario, args.set, graph=args.graph)  # every check, the graph's too
    seed = scenario.data["scenario"]["seed"] if args.seed is None else args.seed
    days = args.days or scenario.data["scenario"]["days"]
    out = Path("out") / f"{scenario.name}-seed{seed}" if args.out is None else args.out
    with staged_run_folder(out) as staged:  # `out` holds this whole run, or the earlier one, never a mix
        graph = scenario.graph
        ensure_compiled(progress=not args.quiet)  # so that the first day (and the ms per day) excludes compiling
        t0 = time.perf_counter()
        model = TokenEconomy(scenario, seed=seed, graph=graph)
        t1 = time.perf_counter()
        with progress_bar(days, "day", "simulating", args.quiet) as bar:

            def progress(done: int, total: int) -> None:
                bar.update(1)
                if done == 1:  # the first day has loaded the kernels the run calls
                    collector.freeze()

            model.run(days, progress=progress)
        t2 = time.perf_counter()
        daily = model.daily_table()
        files = write_run(model, daily, staged, args.format)
        t3 = time.perf_counter()
        timings_s = {"build": t1 - t0, "simulate": t2 - t1, "write": t3 - t2}
        write_json(_run_record(args, scenario, seed, days, timings_s, files), staged / "run.json")
    print(printable_lines(summary(model, daily)))
    print(f"  tables in {printable(out)}/ ({args.format}); {1000 * (t2 - t1) / days:.2f} ms per simulated day")
    return 0


def cmd_scenarios(_: argparse.Namespace) -> int:
    from tokenomy.abm.scenarios import load_scenario, shipped_scenarios

    for name in shipped_scenarios():
        sc = load_scenario(name)
        print(printable(f"{name:24s} {sc.data['scenario']['description']}"))
    return 0
