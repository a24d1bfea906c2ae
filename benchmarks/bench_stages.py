"""Where a simulated day's time goes: each stage of the day split into its compiled kernels and the Python around them.

A year of a shipped scenario is run once as it is (every kernel loaded with every signature the year asks for), then
once more with each stage of :meth:`TokenEconomy.step` and each compiled kernel the model's modules call wrapped in a
timer.  For each stage it prints the microseconds per day in all, in kernels (numba's dispatch and conversions of
arguments and results included) and in Python and numpy; then the kernels with the most time, with their calls,
arguments and returned arrays per day, and each kernel's time per call in the year against the same call repeated on
its own (warm caches: the difference is what the rest of the day leaves of the processor's caches).

    .venv/bin/python benchmarks/bench_stages.py [--scenario classroom] [--top 15]

The timers add about half a microsecond per wrapped call (some 60 a day): read shares, not totals.  Nothing it
wraps is left wrapped when it ends.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
from numba.core.registry import CPUDispatcher

from tokenomy.abm import model as model_module
from tokenomy.abm.model import TokenEconomy
from tokenomy.abm.scenarios import shipped_scenarios

DAYS = 365
# what TokenEconomy.step calls, by the names it calls them in abm.model
STAGES = (
    "advance_drivers",
    "clear_day_ahead",
    "clear_tokens",
    "clear_power",
    "aidc_costs",
    "settle",
    "learn",
    "first_of_month",
    "arrivals_and_retirements",
)
WARM_CALLS = 200  # repeats of one kernel call on its own

clock = time.perf_counter_ns


class Timers:
    """Time per stage and per kernel, each kernel's time booked to the stage that called it."""

    def __init__(self) -> None:
        self.stage: Counter[str] = Counter()
        self.in_kernels: Counter[str] = Counter()  # by stage
        self.stage_calls: Counter[str] = Counter()  # kernel calls, by stage
        self.kernel: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.args: Counter[str] = Counter()
        self.arrays: Counter[str] = Counter()
        self.sample: dict[str, tuple[CPUDispatcher, tuple]] = {}  # one call of each kernel, to repeat on its own
        self.current = "step itself"

    def stage_timer(self, fn: Callable, name: str) -> Callable:
        def timed(*args: Any, **kwargs: Any) -> Any:
            outer, self.current = self.current, name
            start = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                self.stage[name] += clock() - start
                self.current = outer

        return timed

    def kernel_timer(self, kernel: CPUDispatcher, name: str) -> Callable:
        def timed(*args: Any) -> Any:
            self.sample.setdefault(name, (kernel, args))  # the day's own arrays, as they are (a copy could change
            # their layout, and the kernel's signature with it)
            start = clock()
            out = kernel(*args)
            spent = clock() - start
            self.kernel[name] += spent
            self.in_kernels[self.current] += spent
            self.stage_calls[self.current] += 1
            self.calls[name] += 1
            self.args[name] += len(args)
            self.arrays[name] += _arrays(out)
            return out

        return timed


def _arrays(out: Any) -> int:
    if isinstance(out, np.ndarray):
        return 1
    return sum(_arrays(x) for x in out) if isinstance(out, tuple) else 0


def _kernels() -> list[tuple[Any, str, CPUDispatcher]]:
    """(module, global name, kernel) of every compiled kernel a module of the model holds as a global."""
    found = []
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("tokenomy.") and module is not None:
            found += [(module, k, v) for k, v in vars(module).items() if isinstance(v, CPUDispatcher)]
    return found


def _label(kernel: CPUDispatcher) -> str:
    return f"{kernel.py_func.__module__.removeprefix('tokenomy.')}.{kernel.py_func.__name__}"


def measure(scenario: str) -> tuple[Timers, int]:
    """A year of ``scenario`` with every stage and kernel timed, and its whole time in nanoseconds."""
    TokenEconomy(scenario).run(DAYS)  # every kernel loaded, with every signature the year needs
    timers = Timers()
    world = TokenEconomy(scenario)
    saved = [(model_module, name, getattr(model_module, name)) for name in STAGES] + _kernels()
    wrapped: dict[int, Callable] = {}
    try:
        for name in STAGES:
            setattr(model_module, name, timers.stage_timer(getattr(model_module, name), name))
        for module, name, kernel in saved[len(STAGES) :]:
            if id(kernel) not in wrapped:
                wrapped[id(kernel)] = timers.kernel_timer(kernel, _label(kernel))
            setattr(module, name, wrapped[id(kernel)])
        world.recorder.collect = timers.stage_timer(world.recorder.collect, "recorder")
        start = clock()
        world.run(DAYS)
        total = clock() - start
    finally:
        for module, name, original in saved:
            setattr(module, name, original)
    return timers, total


def warm_time(kernel: CPUDispatcher, args: tuple) -> float:
    """Nanoseconds per call of ``kernel`` on ``args``, the call repeated (after the year: what a kernel moves in
    place belongs to a world that is done with)."""
    kernel(*args)
    start = clock()
    for _ in range(WARM_CALLS):
        kernel(*args)
    return (clock() - start) / WARM_CALLS


def scenario_name(text: str) -> str:
    shipped = shipped_scenarios()
    if text not in shipped:
        raise argparse.ArgumentTypeError(f"expected a shipped scenario ({', '.join(shipped)}), got {text[:40]!r}")
    return text


def top_count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 100:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 100, got {text[:20]!r}")
    return int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", type=scenario_name, default="classroom", help="a shipped scenario")
    parser.add_argument("--top", type=top_count, default=15, metavar="N", help="kernels to list (1 to 100)")
    args = parser.parse_args()
    timers, total = measure(args.scenario)
    per_day = 1e3 * DAYS  # ns in all -> microseconds per day
    print(f"{args.scenario}: {total / per_day:.1f} us per day with the timers (time.perf_counter)")
    print(f"{'stage':26s} {'all':>7s} {'kernels':>8s} {'Python':>7s} {'calls':>6s}   (us per day; kernel calls a day)")
    rows = [(name, spent) for name, spent in timers.stage.most_common()]
    rows.append(("step itself", total - sum(timers.stage.values())))  # Mesa's clock, the day's records, the events
    for name, spent in rows:
        kernels = timers.in_kernels[name]
        print(
            f"{name:26s} {spent / per_day:7.1f} {kernels / per_day:8.1f} {(spent - kernels) / per_day:7.1f} "
            f"{timers.stage_calls[name] / DAYS:6.1f}"
        )
    print(
        f"kernels: {sum(timers.kernel.values()) / per_day:.1f} us per day in {sum(timers.calls.values()) / DAYS:.1f} "
        f"calls, {sum(timers.args.values()) / DAYS:.0f} arguments, {sum(timers.arrays.values()) / DAYS:.0f} arrays "
        "returned"
    )
    print(f"{'kernel':44s} {'us/day':>7s} {'calls':>6s} {'args':>5s} {'arrays':>6s} {'us/call':>8s} {'alone':>7s}")
    for name, spent in timers.kernel.most_common(args.top):
        calls = timers.calls[name]
        alone = warm_time(*timers.sample[name]) / 1e3
        print(
            f"{name:44s} {spent / per_day:7.2f} {calls / DAYS:6.2f} {timers.args[name] / calls:5.0f} "
            f"{timers.arrays[name] / calls:6.1f} {spent / calls / 1e3:8.2f} {alone:7.2f}"
        )


if __name__ == "__main__":
    main()
