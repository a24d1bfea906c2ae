"""An ensemble: one scenario run for many seeds into one folder, each seed's run in ``seed-N/`` as a single run
writes it (:func:`abm.output.write_run`), plus a ``summary`` table of percentile bands across seeds.

Seeds run one after the other in this process, or in the sweep machinery's local process pool
(:class:`abm.batch.executors.PoolExecutor`) with ``workers > 1``.  Each seed starts from its own copy of the
validated scenario (a run changes its scenario's events and its graph's flows as it goes), so a seed's tables
are the same to the last bit whichever process ran it and whatever ran before it there, and equal those of
``tokenomy run --seed N``.  The caller owns the folder: :func:`abm.output.staged_run_folder` makes the whole
ensemble appear at once.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tokenomy.abm.scenarios import Scenario

MAX_SEED_DAYS = 1_000_000  # seeds x days: the daily tables the summary holds at once (about 350 MB)


@dataclass(frozen=True)
class SeedRun:
    """What one seed's run left: its daily table, where its files are and how long each part took."""

    seed: int
    daily: pd.DataFrame
    files: list[str]  # relative to the ensemble's folder
    timings_s: dict[str, float]


def seed_folder(seed: int) -> str:
    return f"seed-{seed}"


_WARM = False


def _load_kernels_once() -> None:
    """Load the compiled kernels into this process before its first seed, so that no seed's simulate time holds
    the loading (as ``tokenomy run`` compiles before it times); the caller compiled them first."""
    global _WARM
    if not _WARM:
        from tokenomy.abm.warmup import warm_up

        warm_up()
        _WARM = True


def run_seed(task: dict) -> dict:
    """One seed: build, simulate, write its folder; the daily table and timings back (a pool's task function).
    Under :func:`abm.batch.worker.stop_on_interrupt` (the seeds run here), Ctrl-C stops it at the next day, before
    anything of it is written; once its folder is written, the seed is finished."""
    from tokenomy.abm.batch.worker import check_stop
    from tokenomy.abm.model import TokenEconomy
    from tokenomy.abm.output import write_run

    _load_kernels_once()
    scenario = copy.deepcopy(task["scenario"])
    t0 = time.perf_counter()
    model = TokenEconomy(scenario, seed=task["seed"], graph=scenario.graph)
    t1 = time.perf_counter()
    model.run(task["days"], progress=check_stop)
    t2 = time.perf_counter()
    daily = model.daily_table()
    check_stop()
    folder = Path(task["folder"])
    folder.mkdir()
    files = write_run(model, daily, folder, task["format"])
    t3 = time.perf_counter()
    return {
        "seed": task["seed"],
        "daily": daily,
        "files": [f"{folder.name}/{name}" for name in files],
        "timings_s": {"build": t1 - t0, "simulate": t2 - t1, "write": t3 - t2},
    }


class SeedsInterrupted(KeyboardInterrupt):
    """Ctrl-C during an ensemble: ``finished`` holds the seeds whose folders were whole by then (in the order of
    the seeds asked for); no process of the ensemble writes any more."""

    def __init__(self, finished: list[SeedRun]):
        super().__init__()
        self.finished = finished


def run_seeds(
    scenario: Scenario,
    seeds: Sequence[int],
    days: int,
    fmt: str,
    out: Path,
    workers: int = 1,
    on_done: Callable[[int], None] | None = None,
) -> list[SeedRun]:
    """Run ``scenario`` for every seed into ``out/seed-N/`` (``workers`` processes; 1 runs them here); the runs
    in the order of ``seeds``.  ``on_done(seed)`` is called as each finishes.  A seed that fails raises; Ctrl-C
    raises :class:`SeedsInterrupted` with the seeds finished by then, once no worker writes any more (a seed
    stopped half way may leave a part of its folder: the caller removes what no finished seed wrote)."""
    from tokenomy.abm.batch.executors import PoolExecutor
    from tokenomy.abm.batch.worker import check_stop, stop_on_interrupt, stop_requested

    tasks = (
        {"scenario": scenario, "seed": seed, "days": days, "format": fmt, "folder": str(out / seed_folder(seed))}
        for seed in seeds
    )
    runs: dict[int, SeedRun] = {}

    def finished(res: dict) -> None:
        runs[res["seed"]] = SeedRun(res["seed"], res["daily"], res["files"], res["timings_s"])
        if on_done is not None:
            on_done(res["seed"])

    try:
        if workers <= 1:
            with stop_on_interrupt():  # Ctrl-C stops the seed at its next day, not inside numba or pyarrow
                try:
                    for task in tasks:
                        check_stop()
                        finished(run_seed(task))
                except Exception:
                    if stop_requested():  # a second Ctrl-C that a library turned into an error of its own
                        raise KeyboardInterrupt from None
                    raise
        else:
            # the workers ignore Ctrl-C; on one here they are stopped before anything else happens
            with PoolExecutor(min(workers, len(seeds)), stop_workers_on_interrupt=True) as ex:
                for res in ex.run(tasks, run_seed):
                    finished(res)
    except KeyboardInterrupt:
        raise SeedsInterrupted([runs[seed] for seed in seeds if seed in runs]) from None
    return [runs[seed] for seed in seeds]
