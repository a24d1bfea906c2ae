"""Where runs execute: in this process, a local process pool (the default), or a Dask cluster.

Every executor takes the same task dicts and yields :func:`abm.batch.worker.execute_run` results as they
finish, keeping only a bounded number of runs in flight (a killed sweep loses at most those).  The inline and
pool executors also run another picklable task function (``run(tasks, fn)``): an ensemble's seeds
(:mod:`abm.ensemble`) go through the same pool.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from tokenomy.abm.batch.worker import (
    STOP_SIGNAL,
    check_stop,
    execute_run,
    stop_on_interrupt,
    watch_coordinator,
    watch_coordinator_ignoring_interrupts,
)
from tokenomy.abm.environment import interrupts_held
from tokenomy.abm.errors import UsageError

SINGLE_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class InlineExecutor:
    """Runs in this process, one after the other (``workers=0``; handy under a debugger)."""

    name = "inline"
    workers = 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def run(self, tasks: Iterable[dict], fn: Callable[[dict], dict] = execute_run) -> Iterator[dict]:
        """``fn(task)`` for each task in turn.  A sweep's runs (``execute_run``) stop at the next day on Ctrl-C (see
        :func:`abm.batch.worker.stop_on_interrupt`): KeyboardInterrupt, the run in progress not recorded."""
        guard = stop_on_interrupt() if fn is execute_run else contextlib.nullcontext()
        with guard:
            for task in tasks:
                check_stop()
                result = fn(task)
                check_stop()
                yield result


class PoolExecutor:
    """A local pool of worker processes (``concurrent.futures``), started by a fork server.

    ``max_tasks_per_child`` replaces a worker after that many runs, a guard against memory creep.
    """

    name = "local pool"

    def __init__(self, workers: int, max_tasks_per_child: int | None = None, stop_workers_on_interrupt: bool = False):
        self.workers = workers
        self.max_tasks_per_child = max_tasks_per_child
        self.pool: ProcessPoolExecutor | None = None
        # the workers ignore Ctrl-C (a terminal sends it to them too, wherever they are); on a KeyboardInterrupt
        # here each is asked to stop at its next simulated day, and the block is left once they all have: none
        # writes after the caller has moved on
        self.stop_workers_on_interrupt = stop_workers_on_interrupt

    def __enter__(self):
        # one run is single-threaded work: keep each worker's BLAS to one thread, as Dask's nanny does, or
        # N workers each start N BLAS threads and fight over the cores (the workers inherit this environment)
        self.saved_env = {k: os.environ.get(k) for k in SINGLE_THREAD_ENV}
        for k in SINGLE_THREAD_ENV:
            os.environ.setdefault(k, "1")
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if ctx.get_start_method() == "forkserver":
            ctx.set_forkserver_preload(["tokenomy.abm.batch.worker", "tokenomy.abm.model"])
        # the workers end with this process even when it is killed (see watch_coordinator), and with them the
        # fork server and the resource tracker, whose last open pipes they hold
        self.pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            max_tasks_per_child=self.max_tasks_per_child,
            initializer=watch_coordinator_ignoring_interrupts if self.stop_workers_on_interrupt else watch_coordinator,
            initargs=(os.getpid(),),
        )
        return self

    def __exit__(self, exc_type, *exc):
        interrupted = exc_type is not None and issubclass(exc_type, KeyboardInterrupt)
        if self.pool is not None and interrupted and self.stop_workers_on_interrupt:
            with interrupts_held():  # a second Ctrl-C does not leave a worker writing behind
                for process in list((self.pool._processes or {}).values()):  # no public way to reach a busy worker
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(process.pid, STOP_SIGNAL)
                self.pool.shutdown(wait=True, cancel_futures=True)
        elif self.pool is not None:
            self.pool.shutdown(wait=exc_type is None, cancel_futures=True)
        for k, v in self.saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        return False

    def run(self, tasks: Iterable[dict], fn: Callable[[dict], dict] = execute_run) -> Iterator[dict]:
        """``fn(task)`` for every task in the pool's processes (``fn`` a module-level function, so that it pickles),
        the results as they finish."""
        window = 2 * self.workers
        todo = iter(tasks)
        running = set()
        for task in todo:
            running.add(self.pool.submit(fn, task))
            if len(running) >= window:
                break
        while running:
            try:
                done, running = wait(running, return_when=FIRST_COMPLETED)
            except KeyboardInterrupt:
                if self.stop_workers_on_interrupt:  # the tasks finished by now are the caller's to keep
                    yield from (f.result() for f in running if f.done() and not f.cancelled() and not f.exception())
                raise
            for fut in done:
                for task in todo:
                    running.add(self.pool.submit(fn, task))
                    break
                yield fut.result()


def _need_dask(flag: str):
    try:
        import distributed
    except ImportError:
        raise UsageError(f"{flag} needs Dask: pip install 'tokenomy[distributed]'") from None
    return distributed


class DaskExecutor:
    """A Dask distributed cluster: an existing scheduler (``address``) or a ``LocalCluster`` on loopback."""

    def __init__(self, address: str | None = None, workers: int | None = None):
        self.address = address
        self.n_workers = workers or default_workers()
        self.distributed = _need_dask("--scheduler" if address else "--cluster local")
        self.cluster = self.client = None
        self.name = f"Dask scheduler {address}" if address else "Dask LocalCluster"

    def __enter__(self):
        dd = self.distributed
        if self.address:
            try:
                self.client = dd.Client(self.address, timeout="15s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise UsageError(f"--scheduler {self.address}: cannot connect ({' '.join(str(exc).split())})") from None
        else:
            import dask

            # the workers' statistical profiler samples the running thread every 10 ms, and the event loop's
            # tick and system monitors wake often: all take the GIL from the run (about 10-15% of its speed in
            # this pure-Python work); a local cluster has no dashboard to show them anyway
            quiet_workers = {
                "distributed.worker.profile.enabled": False,
                "distributed.admin.tick.interval": "200ms",
                "distributed.admin.system-monitor.interval": "2s",
            }
            with dask.config.set(quiet_workers):
                self.cluster = dd.LocalCluster(
                    n_workers=self.n_workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            self.client = dd.Client(self.cluster)
        self.workers = max(1, sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()))
        return self

    def __exit__(self, *exc):
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        return False

    def run(self, tasks: Iterable[dict]) -> Iterator[dict]:
        dd = self.distributed
        todo = iter(tasks)
        first = []
        for task in todo:
            first.append(self._submit(task))
            if len(first) >= 2 * self.workers:
                break
        if not first:
            return
        ac = dd.as_completed(first)
        for fut in ac:
            result = fut.result()
            fut.release()
            for task in todo:
                ac.add(self._submit(task))
                break
            yield result

    def _submit(self, task: dict):
        return self.client.submit(execute_run, task, key=f"tokenomy-run-{task['run_key']}", pure=False)


def make_executor(
    workers: int | None = None,
    scheduler: str | None = None,
    cluster: str | None = None,
    max_tasks_per_child: int | None = None,
):
    if scheduler and cluster:
        raise UsageError("give either --scheduler or --cluster, not both")
    if cluster not in (None, "local"):
        raise UsageError(f"--cluster {cluster!r}: only 'local' is known (or give --scheduler tcp://HOST:PORT)")
    if scheduler or cluster:
        return DaskExecutor(scheduler, workers)
    if workers == 0:
        return InlineExecutor()
    return PoolExecutor(workers or default_workers(), max_tasks_per_child)
