"""Python's cyclic garbage collector in the process of a ``tokenomy run`` command.

Importing what a run needs (Mesa, pandas, SciPy, numba and the model) creates a few hundred thousand objects that live
as long as the process, and loading the compiled kernels on the first simulated day creates many more.  The
collector, started by allocations, walks all of them again and again, and once more as the process exits: measured,
about 0.13 s of processor time during the imports, 0.07 s in a full collection during the first day and 0.2 s at the
exit, of a process of about two seconds.  So a run imports with the collector paused and then freezes what it imported
(:func:`gc.freeze`: those objects are left out of every later collection, the one at the exit included), and freezes
again once the first day has loaded the kernels.  Collection stays on for everything made after that: the garbage a
run makes is collected as ever.

Only in a process the command owns, which ends when the command does (the command line read from ``sys.argv``: the
``tokenomy`` console script, ``python -m tokenomy.abm.cli``): a caller that runs the command in its own process with
arguments of its own (a test) lives on, and what it froze would stay in memory for good.  The model, the app and the
library leave the collector alone.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_own_process = False


def command_owns_process() -> None:
    """Called by the command's entry points: this process ends when the command does."""
    global _own_process
    _own_process = True


@contextlib.contextmanager
def imports_frozen() -> Iterator[None]:
    """In a process the command owns, run the block (the imports a command needs) with the collector paused, then
    freeze every object made so far and let the collector run again as it was; elsewhere just run the block."""
    if not _own_process:
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def freeze() -> None:
    """In a process the command owns, leave every object made so far (the loaded kernels, the model's world) out of
    later collections."""
    if _own_process:
        gc.freeze()
