"""What a worker process does for one run: build, simulate, serialise the tables; never raise.

Kept free of heavy imports at module level so that Dask and process pools can unpickle it cheaply.
The tables come back as Parquet bytes made here, so the files are byte-identical whichever executor ran
the run; the coordinator only writes them.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import os
import resource
import select
import signal
import socket
import threading
import time
import traceback
from collections.abc import Iterator

from tokenomy.abm.processes import pid_alive


def watch_coordinator(pid: int) -> None:
    """Pool initializer: end this worker as soon as the process that started the pool ends, however it ends.

    A pool's workers wait on a queue whose write end they hold themselves, so a coordinator killed by SIGKILL
    would leave them (and, through the file descriptors they hold, the fork server and the resource tracker)
    running for ever.  A daemon thread waits on a pidfd of the coordinator (or polls it where there is none).
    """
    threading.Thread(target=_exit_when_gone, args=(pid,), name="watch-coordinator", daemon=True).start()


STOP_SIGNAL = signal.SIGUSR1  # the coordinator's "stop at the next day" to a worker that ignores Ctrl-C


def watch_coordinator_ignoring_interrupts(pid: int) -> None:
    """:func:`watch_coordinator`, Ctrl-C ignored, and :data:`STOP_SIGNAL` a request to stop the run in progress at
    its next day (:func:`check_stop`): the coordinator decides what an interrupt stops, and its workers stop
    between two days or two tasks, never in the middle of sending a result (an ensemble's workers; see
    :class:`abm.batch.executors.PoolExecutor`)."""
    signal.signal(STOP_SIGNAL, lambda *_: _STOP.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_coordinator(pid)


def _exit_when_gone(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd on this system: poll
        while pid_alive(pid):
            time.sleep(1.0)
        os._exit(1)
    select.select([fd], [], [])  # readable once the process has ended
    os._exit(1)

    return True


_STOP = threading.Event()  # set by the first Ctrl-C of an inline sweep (see stop_on_interrupt)


def _request_stop(signum, frame) -> None:
    if _STOP.is_set():  # a second Ctrl-C: at once
        raise KeyboardInterrupt
    _STOP.set()


def stop_requested() -> bool:
    """Whether a Ctrl-C asked the runs of this process to stop (see :func:`stop_on_interrupt`)."""
    return _STOP.is_set()


def check_stop(*_) -> None:
    """Raise KeyboardInterrupt once a Ctrl-C asked the runs of this process to stop."""
    if _STOP.is_set():
        raise KeyboardInterrupt


@contextlib.contextmanager
def stop_on_interrupt() -> Iterator[None]:
    """Inside the block, Ctrl-C (SIGINT) asks the run in progress to stop at its next day instead of raising
    wherever the interpreter happens to be: numba, pandas or pyarrow code interrupted there may turn the
    KeyboardInterrupt into an error of their own, and the run would be recorded as failed while the sweep went on.
    A second Ctrl-C raises at once.  Only in the main thread (where signal handlers live)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _STOP.clear()
    previous = signal.signal(signal.SIGINT, _request_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _STOP.clear()


def _parquet_bytes(frame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


_FROZEN = False


def _collect_garbage() -> None:
    """Give a finished run's memory back before the next: a worker runs hundreds of models.

    A full collection walks every tracked object, and the libraries a run imports (numba, pandas,
    pyarrow) bring some 180 000 of them: 60 ms a run, 40% of a classroom year.  After the first run
    they are frozen (``gc.freeze``) out of all later collections, which then see only what runs make.
    """
    global _FROZEN
    gc.collect()
    if not _FROZEN:
        gc.freeze()
        _FROZEN = True


def execute_run(task: dict) -> dict:
    """Run one (scenario, overrides, seed, days); return status, error, timings and the tables as Parquet bytes."""
    started = time.time()
    t0 = time.perf_counter()
    timings = {"build_s": 0.0, "simulate_s": 0.0, "serialise_s": 0.0}
    tables: dict[str, bytes] = {}
    error = tb = ""
    model = None
    try:
        from tokenomy.abm import __version__
        from tokenomy.abm.model import TokenEconomy
        from tokenomy.abm.scenarios import load_scenario

        if task.get("model_version", __version__) != __version__:
            raise RuntimeError(f"this worker has tokenomy {__version__}; the sweep expects {task['model_version']}")
        # the resolved scenario (bases merged) from the coordinator: no file is read here, none written
        scenario = load_scenario(task["scenario"], task["overrides"], resolved=task["scenario_data"])
        model = TokenEconomy(scenario, seed=task["seed"])
        check_stop()
        t1 = time.perf_counter()
        model.run(task["days"], progress=check_stop)
        t2 = time.perf_counter()
        for name in task["tables"]:
            tables[name] = _parquet_bytes(getattr(model, f"{name}_table")())
        t3 = time.perf_counter()
        check_stop()
        timings = {"build_s": t1 - t0, "simulate_s": t2 - t1, "serialise_s": t3 - t2}
        status = "done"
    except Exception as exc:  # a failing run is recorded; the sweep goes on
        if _STOP.is_set():  # a library turned the interrupt into an error of its own
            raise KeyboardInterrupt from None
        status, error, tables = "failed", one_line(exc), {}
        tb = "".join(traceback.format_exception(exc)[-6:])
    finally:
        del model
        _collect_garbage()
    return {
        "run_key": task["run_key"],
        "status": status,
        "error": error,
        "traceback": tb,
        "tables": tables,
        "sha256": {k: hashlib.sha256(v).hexdigest() for k, v in tables.items()},
        "started": started,
        "seconds": time.perf_counter() - t0,
        **timings,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "rss_mb": _rss_mb(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
