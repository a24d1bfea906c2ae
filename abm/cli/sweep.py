"""The ``sweep``, ``report`` and ``compare`` subcommands of ``tokenomy`` (loaded by abm.cli)."""

from __future__ import annotations

import argparse
import sys

from tokenomy.abm.cli.argtypes import folder, input_file, whole_number
from tokenomy.abm.errors import UsageError, printable, printable_lines
from tokenomy.abm.limits import MAX_DAYS

MAX_WORKERS = 1024
MAX_COMPARE_SEEDS = 1000
_workers = whole_number(0, "0 runs in this process", maximum=MAX_WORKERS)
_days = whole_number(1, maximum=MAX_DAYS)
_seeds = whole_number(1, maximum=MAX_COMPARE_SEEDS)


def register(subparsers) -> dict:
    sw = subparsers.add_parser("sweep", help="run a sweep file: parameters x seeds, locally or on a Dask cluster")
    sw.add_argument("sweep_file", type=input_file, metavar="SWEEP.toml", help="the sweep file (see docs/sweeps.md)")
    sw.add_argument("--workers", type=_workers, help="worker processes (default: one per core; 0: in this process)")
    where = sw.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler, e.g. tcp://10.0.0.5:8786")
    where.add_argument("--cluster", choices=("local",), help="start a Dask LocalCluster for this sweep")
    sw.add_argument("--out", type=folder, help="output folder (default: out/sweeps/NAME); re-running resumes")
    sw.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    rp = subparsers.add_parser("report", help="summary tables, plots and an HTML page for a finished sweep")
    rp.add_argument("sweep_dir", type=input_file, metavar="OUTDIR", help="a sweep's output folder")
    rp.add_argument("--out", type=folder, help="where to write the report (default: OUTDIR/report)")
    cp = subparsers.add_parser("compare", help="run or read two scenarios and plot them side by side")
    cp.add_argument("a", metavar="A", help="scenario name or .toml, a sweep folder, or a `tokenomy run` folder")
    cp.add_argument("b", metavar="B", help="the same, for the other side")
    cp.add_argument("--days", type=_days, help="days to simulate (default: each scenario's)")
    cp.add_argument("--seeds", type=_seeds, default=1, help="seeds per side (default 1)")
    cp.add_argument("--set-a", action="append", default=[], metavar="KEY=VALUE", help="override for A")
    cp.add_argument("--set-b", action="append", default=[], metavar="KEY=VALUE", help="override for B")
    cp.add_argument("--workers", type=_workers, help="worker processes")
    cp.add_argument("--out", type=folder, help="output folder (default: out/compare/A-vs-B)")
    cp.add_argument("--quiet", action="store_true", help="no progress bar")
    return {"sweep": cmd_sweep, "report": cmd_report, "compare": cmd_compare}


def cmd_sweep(args: argparse.Namespace) -> int:
    from tokenomy.abm.batch.runner import first_failures, run_sweep, summary_line
    from tokenomy.abm.batch.sweepfile import load_sweep

    if args.sweep_file.is_dir():
        raise UsageError(f"{args.sweep_file}: is a folder; give a sweep .toml file")
    sweep = load_sweep(args.sweep_file)
    log = None if args.quiet else (lambda msg: print(printable(msg), file=sys.stderr))
    result = run_sweep(
        sweep,
        args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        cluster=args.cluster,
        progress=not args.quiet,
        log=log,
    )
    if not args.quiet:
        print(printable(summary_line(result)))
    if result.failed:
        for line in first_failures(result):
            print(printable(line), file=sys.stderr)
        return 1
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from tokenomy.abm.batch.report import write_report

    if not args.sweep_dir.is_dir():
        raise UsageError(f"{args.sweep_dir}: no such folder")
    paths = write_report(args.sweep_dir, args.out)
    plots = sum(k.endswith("_png") for k in paths)
    print(printable(f"report: {paths['html']} (summary {paths['summary'].name}, {plots} plots)"))
    return 0


def _check_compare_sides(args: argparse.Namespace) -> None:
    """Each side that names a scenario loads with its overrides (every check) before a folder is made."""
    from pathlib import Path

    from tokenomy.abm.scenarios import load_scenario

    for source, overrides, flag in ((args.a, args.set_a, "--set-a"), (args.b, args.set_b, "--set-b")):
        if Path(source).is_dir():
            if overrides:
                raise UsageError(f"{source}: {flag} only applies to a scenario, not to finished output")
        else:
            load_scenario(source, overrides)


def cmd_compare(args: argparse.Namespace) -> int:
    from tokenomy.abm.batch.compare import compare, format_table

    _check_compare_sides(args)

    table, paths = compare(
        args.a,
        args.b,
        days=args.days,
        seeds=args.seeds,
        out=args.out,
        set_a=args.set_a,
        set_b=args.set_b,
        workers=args.workers,
        progress=not args.quiet,
    )
    print(printable_lines(format_table(table)))
    print(printable(f"plots: {paths['png']}  page: {paths['html']}"))
    return 0
