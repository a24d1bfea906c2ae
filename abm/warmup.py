"""Compile the market and agent kernels once, so that no simulated day has to wait for them.

Numba compiles each kernel on its first call and caches the machine code on disk (in ``__pycache__``
beside the source), so the first run of each installed copy pays (see README, Speed, for the time on two
cores); later runs load the kernels from disk in a fraction of a second.  ``make`` runs this right after
installing; ``tokenomy run`` and ``tokenomy viz`` run it first when a kernel has no machine code on disk yet, so
neither the first simulated day nor the first click in the browser waits for a compiler (with every kernel on disk,
they skip it: each kernel loads on its first call).  When compiling lasts, a progress bar on a terminal says
which kernel is compiling and how many of them are ready; elsewhere one line says what the wait is.

    python -m tokenomy.abm.warmup
"""

from __future__ import annotations

import os
import sys
import threading
import time

NOTICE = "compiling the model's kernels (only the first run of an installed copy; later runs load them from disk) ..."


def warm_up(scenario: str = "classroom", days: int = 2) -> float:
    """Step ``days`` days of ``scenario`` (every kernel a shipped scenario uses) and load the few kernels only some
    days need; return the seconds taken."""
    from tokenomy.abm.model import TokenEconomy

    start = time.perf_counter()
    TokenEconomy(scenario).run(max(days, 2))  # the second day settles the first day's term contracts
    _rare_kernels()
    return time.perf_counter() - start


def _rare_kernels() -> None:
    """Kernels a run reaches only on some days or in some worlds, called once with the types a run gives them: a
    battery repairing its offers; the components of a trade graph where not everyone trades with everyone; the
    markets' own functions, which a day takes when its compiled fast path does not apply (an hour that needs an LP,
    a grid that is not complete); a Roth-Erev learner; the one-pool call auction the call-market lesson clears; the
    Q-learning firms of the algorithmic-pricing lesson and a Q-learning provider."""
    import numpy as np

    from tokenomy.abm.lessons.algorithmic_pricing import algorithmic_pricing
    from tokenomy.abm.markets.compute import clear_compute_market, clear_hourly_compute_market
    from tokenomy.abm.markets.graph import find_components
    from tokenomy.abm.markets.power import PowerMarketInput, clear_power_market
    from tokenomy.abm.markets.token import clear_token_market
    from tokenomy.abm.markets.top_up import top_up_unserved
    from tokenomy.agents.q_learning import QLearningPricing
    from tokenomy.agents.storage_operator import _feasible
    from tokenomy.agents.strategies import AdaptiveMarkup, RothErevMarkup

    one, hours, step = np.ones(1), np.zeros(24, dtype=np.int64), np.zeros(1, dtype=np.int64)
    _feasible(np.zeros((1, 24)), np.zeros((1, 24)), one, one, one, one)
    flat = np.ones((24, 1))
    clear_power_market(PowerMarketInput(1, step, flat, flat, step, flat, flat, flat, step, step, one))
    find_components(np.eye(2, dtype=bool))
    edges = np.ones((1, 1), dtype=bool)
    clear_token_market(flat.T.copy(), np.ones((1, 1)), flat.T.copy(), one, edges)
    top_up_unserved(flat.T.copy(), one, one, edges, hours, np.arange(24), np.ones(24), np.ones(24), edges)
    clear_hourly_compute_market(
        hours, np.arange(24), np.ones(24), np.ones(24), hours, np.arange(24), np.ones(24), np.ones(24), edges
    )
    clear_compute_market(step, one, one, step, one, one, edges)
    members = np.zeros(1, dtype=np.int64)
    RothErevMarkup(members, one.copy()).update(one.copy(), one, np.random.default_rng(0))
    AdaptiveMarkup(members, 0.01, 1.0).update(one.copy(), one)
    algorithmic_pricing(max_periods=1)
    _q_learning_provider(QLearningPricing)


def _q_learning_provider(rule) -> None:
    """One day of a Q-learning provider (with its cost known) on a stand-in for a provider group."""
    import types

    import numpy as np

    n = 2
    group = types.SimpleNamespace(
        n=n,
        price=np.ones(n),
        unit_cost=np.full(n, 0.5),
        served_mtok=np.ones(n),
        target_price=np.full(n, np.nan),
        params={"price_adjustment": np.ones(n), "price_step": np.ones(n)},
    )
    strategy = rule(group, np.arange(n))
    strategy.learn(group, types.SimpleNamespace(profit_cny=np.ones(n)), np.random.default_rng(0))
    strategy.prices(group, None)


def kernels() -> list:
    """The model's numba kernels: every compiled function defined in a loaded ``tokenomy`` module."""
    from numba.core.dispatcher import Dispatcher

    found = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("tokenomy.") or module is None:
            continue
        for value in list(vars(module).values()):
            if isinstance(value, Dispatcher) and value.py_func.__module__ == name:
                found[id(value)] = value
    return list(found.values())


def on_disk(dispatcher) -> bool | None:
    """Whether numba's disk cache holds machine code of this kernel's current source: True if it does (the kernel
    then loads on its first call, in a fraction of a second); False if it holds none, or only for an older source,
    or the kernel has no disk cache; None if the kernel has no cache file at all (a kernel only ever called from
    other kernels is compiled into them, and one that no shipped path calls compiles when first called)."""
    try:
        cache_file = dispatcher._cache._cache_file
        if not os.path.exists(cache_file._index_path):
            return None
        return bool(cache_file._load_index())
    except Exception:  # no disk cache (cache=False), or numba's internals changed: compile ahead, to be safe
        return False


def all_on_disk() -> bool:
    """Every kernel of the model that has a cache file has machine code for its current source there (and some do):
    nothing needs compiling ahead of a run."""
    import tokenomy.abm.model  # noqa: F401 - loads the modules that define the kernels

    states = [on_disk(k) for k in kernels()]
    return True in states and False not in states


def kernel_label(dispatcher) -> str:
    """``markets.power._clear_hour`` for a kernel of ``tokenomy.abm.markets.power``."""
    module = dispatcher.py_func.__module__.removeprefix("tokenomy.").removeprefix("abm.")
    return f"{module}.{dispatcher.py_func.__name__}"


class CompileWatch:
    """While entered, follow numba's compile events for the model's kernels.

    When kernels compile and the wait has lasted ``notice_after_s`` (loading kernels from the disk cache is not
    compiling and says nothing), it shows the tqdm ``bar`` at the number of the model's kernels that are ready
    (compiled, or loaded from the cache), its description naming the kernel being compiled; with no bar (not a
    terminal, or ``--quiet``) it prints :data:`NOTICE` once on stderr instead.
    """

    def __init__(self, bar, notice_after_s: float):
        self.bar, self.notice_after_s = bar, notice_after_s
        self.compiling = self.announced = False
        self.lock = threading.Lock()

    def __enter__(self) -> CompileWatch:
        from numba.core import event

        import tokenomy.abm.model  # noqa: F401 - loads the modules that define the kernels

        self.known = kernels()
        self.ids = {id(k) for k in self.known}
        self.bar.total = len(self.known)
        self.bar.update(self.ready())
        self.start = time.perf_counter()
        self.timer = threading.Timer(self.notice_after_s, self._announce)
        self.timer.daemon = True
        self.timer.start()
        watch = self

        class Listener(event.Listener):
            def on_start(self, ev) -> None:
                watch.started(ev.data["dispatcher"])

            def on_end(self, ev) -> None:
                watch.ended()

        self.listening = event.install_listener("numba:compile", Listener())
        self.listening.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.listening.__exit__(*exc)
        self.timer.cancel()
        if self.compiling:
            self.bar.set_description_str("compiled", refresh=False)
            self.ended()
            if self.announced:
                self.bar.refresh()  # the final count, whatever the bar's refresh interval

    def ready(self) -> int:
        return sum(1 for k in self.known if k.signatures)

    def started(self, dispatcher) -> None:
        if id(dispatcher) in self.ids:
            self.compiling = True
            self.bar.set_description_str(f"compiling {kernel_label(dispatcher)}", refresh=False)
        self.ended()
        if time.perf_counter() - self.start >= self.notice_after_s:
            self._announce()

    def ended(self) -> None:
        if self.compiling:
            self.bar.update(self.ready() - self.bar.n)

    def _announce(self) -> None:
        with self.lock:
            if not self.compiling or self.announced:
                return
            self.announced = True
        if self.bar.disable:
            print(NOTICE, file=sys.stderr, flush=True)
        else:
            self.bar.refresh()


def ensure_compiled(
    scenario: str = "classroom", days: int = 1, notice_after_s: float = 1.5, progress: bool = True, force: bool = False
) -> float:
    """:func:`warm_up`, saying on stderr what the wait is when kernels compile for longer than ``notice_after_s``
    (a cold cache): a progress bar over the kernels on a terminal (unless not ``progress``), otherwise one line.
    When every kernel of the model is on disk already, nothing runs ahead (unless ``force``): each loads on first
    use. Returns seconds."""
    start = time.perf_counter()
    if not force and all_on_disk():
        return time.perf_counter() - start
    from tqdm import tqdm

    bar = tqdm(
        total=0,
        desc="loading kernels",
        unit="kernel",
        file=sys.stderr,
        delay=notice_after_s,
        leave=False,
        disable=not (progress and sys.stderr.isatty()),
        bar_format="{desc}: {n}/{total} kernels ready {bar} [{elapsed}]",
    )
    try:
        with CompileWatch(bar, notice_after_s):
            return warm_up(scenario, days)
    finally:
        bar.close()


def main() -> None:
    seconds = (
        ensure_compiled("classroom", days=2, notice_after_s=0.0, force=True)  # between them, every shipped path
        + ensure_compiled("china-2024", notice_after_s=0.0, force=True)
    )
    print(f"kernels ready in {seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main()
