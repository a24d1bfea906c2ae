"""Compile the market and agent kernels once, so that no simulated day has to wait for them.

Numba compiles each kernel on its first call and caches the machine code on disk (in ``__pycache__``
beside the source), so only the very first run on a machine pays: about 15-20 s on two cores.  ``make``
runs this right after installing; ``tokenomy viz`` runs it before serving, so the first click in the
browser is as fast as the rest.  With a warm cache it takes a fraction of a second.

    python -m abm.warmup
"""

from __future__ import annotations

import time


def warm_up(scenario: str = "classroom", days: int = 2) -> float:
    """Step ``days`` days of ``scenario`` (every kernel a shipped scenario uses), return the seconds taken."""
    from abm.model import TokenEconomy

    start = time.perf_counter()
    TokenEconomy(scenario).run(days)
    return time.perf_counter() - start


def main() -> None:
    print("preparing compiled kernels (slow only the first time on a machine) ...", flush=True)
    seconds = warm_up("classroom") + warm_up("china-2024", days=1)  # between them, every shipped path
    print(f"kernels ready in {seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main()
