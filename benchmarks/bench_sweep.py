"""Sweep benchmark (not a test): scaling from 1 to 2 workers, Dask LocalCluster against the local pool,
and whether a worker's memory stays flat over hundreds of runs.

    .venv/bin/python benchmarks/bench_sweep.py                 # 32 classroom years; memory over 200 runs
    .venv/bin/python benchmarks/bench_sweep.py --runs 8 --memory-runs 40 --days 90   # a quick look

Targets: speed-up 1 -> 2 workers >= 1.7x; Dask LocalCluster within 15% of the local pool;
peak RSS of a worker after 200 runs within 10% of after 20.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from tokenomy.abm.batch import run_sweep
from tokenomy.abm.batch.executors import make_executor


def sweep(runs: int, days: int, name: str) -> dict:
    # distinct runs: one design point, ``runs`` seeds
    return {"sweep": {"name": name, "scenario": "classroom", "days": days, "seeds": runs, "first_seed": 1000}}


def timed(runs: int, days: int, **kw) -> tuple[float, float, object]:
    """(seconds to start the executor, seconds for the sweep on warm workers, runs table)."""
    executor = make_executor(kw.get("workers"), None, kw.get("cluster"))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with executor as ex:
            # warm-up: every worker imports the model once (a pool's fork server, a Dask worker's interpreter)
            run_sweep(sweep(2 * ex.workers, 2, "warm-up"), Path(tmp) / "warm", executor=ex)
            t1 = time.perf_counter()
            result = run_sweep(sweep(runs, days, "bench"), Path(tmp) / "bench", executor=ex)
            t2 = time.perf_counter()
        assert result.failed == 0 and result.ran == runs
        return t1 - t0, t2 - t1, result.runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=32)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--memory-runs", type=int, default=200)
    ap.add_argument("--memory-days", type=int, default=365)
    ap.add_argument("--skip-dask", action="store_true")
    args = ap.parse_args()
    out: dict = {"runs": args.runs, "days": args.days}

    s1, t1, runs1 = timed(args.runs, args.days, workers=1)
    s2, t2, _ = timed(args.runs, args.days, workers=2)
    out.update(
        pool_1_worker_s=round(t1, 2),
        pool_2_workers_s=round(t2, 2),
        speedup_1_to_2=round(t1 / t2, 2),
        pool_start_s=round(s2, 2),
        mean_simulate_s_per_run=round(float(runs1["simulate_s"].mean()), 3),
    )
    print(
        f"{args.runs} classroom runs of {args.days} days: 1 worker {t1:.2f} s, 2 workers {t2:.2f} s, "
        f"speed-up {t1 / t2:.2f}x (target >= 1.7); starting the 2-worker pool took {s2:.2f} s",
        flush=True,
    )
    if not args.skip_dask:
        sd, td, _ = timed(args.runs, args.days, workers=2, cluster="local")
        out.update(
            dask_local_cluster_2_workers_s=round(td, 2), dask_over_pool=round(td / t2, 3), dask_start_s=round(sd, 2)
        )
        print(
            f"Dask LocalCluster, 2 workers: {td:.2f} s, {100 * (td / t2 - 1):+.1f}% against the pool "
            f"(target within 15%); starting the cluster took {sd:.2f} s",
            flush=True,
        )

    _, _, runs = timed(args.memory_runs, args.memory_days, workers=1)
    runs = runs.sort_values("started").reset_index(drop=True)
    assert runs["pid"].nunique() == 1
    early = min(20, len(runs)) - 1
    peak_early, peak_late = runs.loc[early, "peak_rss_mb"], runs["peak_rss_mb"].iloc[-1]
    out.update(
        memory_runs=len(runs),
        peak_rss_mb_after_20=round(peak_early, 1),
        peak_rss_mb_after_all=round(peak_late, 1),
        memory_growth=round(peak_late / peak_early - 1, 4),
        rss_mb_after_20=round(runs.loc[early, "rss_mb"], 1),
        rss_mb_after_all=round(runs["rss_mb"].iloc[-1], 1),
    )
    print(
        f"one worker, {len(runs)} runs of {args.memory_days} days: peak RSS {peak_early:.1f} MB after {early + 1}, "
        f"{peak_late:.1f} MB after {len(runs)} ({100 * (peak_late / peak_early - 1):+.1f}%; target within 10%)"
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
