"""The model the browser app drives: a TokenEconomy built from a scenario name, a seed and the levers.

Every day it simulates is paid for first from its browser session's budget (:mod:`tokenomy.viz.budget`)."""

from __future__ import annotations

from typing import Any

from tokenomy.abm.levers import DEFAULTS, lever_events, lever_overrides
from tokenomy.abm.model import TokenEconomy
from tokenomy.abm.scenarios import load_scenario
from tokenomy.viz.budget import charge


class ChainModel(TokenEconomy):
    """TokenEconomy with keyword settings, as Mesa's SolaraViz re-creates models from its controls."""

    def __init__(
        self,
        scenario_name: str = "classroom",
        seed: int = 1,
        agentic_growth: float = DEFAULTS["agentic_growth"],
        storage_scale: float = DEFAULTS["storage_scale"],
        line_scale: float = DEFAULTS["line_scale"],
        efficiency_scale: float = DEFAULTS["efficiency_scale"],
        gpu_delivery_scale: float = DEFAULTS["gpu_delivery_scale"],
        price_cap: float = DEFAULTS["price_cap"],
        overrides: tuple[str, ...] = (),
        scenario: Any = None,
        rng: Any = None,
        **_: Any,
    ):
        # ``scenario`` and ``rng`` are what Mesa passes when it resets a model; the world comes from
        # ``scenario_name`` and the seed from ``seed``.
        levers = dict(
            agentic_growth=agentic_growth,
            storage_scale=storage_scale,
            line_scale=line_scale,
            efficiency_scale=efficiency_scale,
            gpu_delivery_scale=gpu_delivery_scale,
            price_cap=price_cap,
        )
        extra = list(overrides)
        base = load_scenario(scenario_name, extra)  # the levers scale the world as the overrides left it
        super().__init__(load_scenario(scenario_name, extra + lever_overrides(base.data, levers)), seed=int(seed))
        self.scenario_name = scenario_name
        self.extra_overrides = tuple(extra)
        self.levers = levers
        lever_events(self, levers)
        self.messages: list[str] = []
        self._paid_days = 0  # days paid for by run() and not yet stepped

    def run(self, days: int, progress=None) -> None:
        """As TokenEconomy.run, once the session's budget has paid for all ``days`` (before any is reserved)."""
        charge(self.day, int(days))
        self._paid_days += int(days)
        try:
            super().run(days, progress)
        finally:
            self._paid_days = 0

    def step(self) -> None:
        if self._paid_days > 0:
            self._paid_days -= 1
        else:
            charge(self.day, 1)
        super().step()
