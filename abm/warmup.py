"""Compile the market and agent kernels once, so that no simulated day has to wait for them.

Numba compiles each kernel on its first call and caches the machine code on disk (in ``__pycache__``
beside the source), so only the very first run on a machine pays: about a minute on two cores.  ``make``
runs this right after installing; ``tokenomy run`` and ``tokenomy viz`` run it first (saying so when it
is slow), so neither the first simulated day nor the first click in the browser waits for a compiler.
With a warm cache it takes a fraction of a second.

    python -m tokenomy.abm.warmup
"""

from __future__ import annotations

import sys
import threading
import time

NOTICE = "preparing compiled kernels (slow only the first time on a machine) ..."


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
    battery repairing its offers; the markets' own functions, which a day takes when its compiled fast path does not
    apply (an hour that needs an LP, a grid that is not complete); a Roth-Erev learner."""
    import numpy as np

    from tokenomy.abm.markets.compute import clear_hourly_compute_market
    from tokenomy.abm.markets.power import PowerMarketInput, clear_power_market
    from tokenomy.abm.markets.token import clear_token_market
    from tokenomy.abm.markets.top_up import top_up_unserved
    from tokenomy.agents.storage_operator import _feasible
    from tokenomy.agents.strategies import MarkupLearner

    one, hours, step = np.ones(1), np.zeros(24, dtype=np.int64), np.zeros(1, dtype=np.int64)
    _feasible(np.zeros((1, 24)), np.zeros((1, 24)), one, one, one, one)
    flat = np.ones((24, 1))
    clear_power_market(PowerMarketInput(1, step, flat, flat, step, flat, flat, flat, step, step, one))
    edges = np.ones((1, 1), dtype=bool)
    clear_token_market(flat.T.copy(), np.ones((1, 1)), flat.T.copy(), one, edges)
    top_up_unserved(flat.T.copy(), one, one, edges, hours, np.arange(24), np.ones(24), np.ones(24), edges)
    clear_hourly_compute_market(hours, np.arange(24), np.ones(24), np.ones(24), hours, np.arange(24), np.ones(24),
                                np.ones(24), edges)
    MarkupLearner(["roth-erev"], one, 0.01).update(one, one, np.random.default_rng(0))


def ensure_compiled(scenario: str = "classroom", days: int = 1, notice_after_s: float = 1.5) -> float:
    """:func:`warm_up`, saying on stderr what the wait is when it lasts (a cold cache); returns seconds."""
    timer = threading.Timer(notice_after_s, lambda: print(NOTICE, file=sys.stderr, flush=True))
    timer.daemon = True
    timer.start()
    try:
        return warm_up(scenario, days)
    finally:
        timer.cancel()


def main() -> None:
    print(NOTICE, flush=True)
    seconds = warm_up("classroom") + warm_up("china-2024", days=1)  # between them, every shipped path
    print(f"kernels ready in {seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main()
