"""Shared fixtures: one full classroom run stepped day by day, with per-day checks recorded."""

from __future__ import annotations

import numpy as np
import pytest

from tokenomy.abm.model import TokenEconomy


class DailyChecks:
    def __init__(self):
        self.failures: list[str] = []

    def check(self, ok: bool, msg: str) -> None:
        if not ok and len(self.failures) < 20:
            self.failures.append(msg)


@pytest.fixture(scope="session")
def classroom_run():
    """A full classroom year, stepped one day at a time so per-day invariants can be watched."""
    model = TokenEconomy("classroom")
    checks = {"soc": DailyChecks(), "capacity": DailyChecks(), "grid_rent": DailyChecks(), "external": DailyChecks()}
    grid = model.ledger.account["grid_operator"]
    n = model.ledger.n_agents
    for _ in range(model.config.data["scenario"]["days"]):
        grid_before = model.ledger.balance[grid]
        agents_before = model.ledger.balance[:n].sum()
        external_before = model.ledger.balance[n:].sum()
        model.step()
        day = model.day - 1
        st = model.storage
        energy = st.params["energy_mwh"]
        checks["soc"].check(
            bool(np.all(st.soc_mwh >= -1e-6) and np.all(st.soc_mwh <= energy + 1e-6)),
            f"day {day}: soc {st.soc_mwh} outside [0, {energy}]",
        )
        tokens = model.last.tokens
        prov = model.providers
        cap = (prov.bought_gpu_hours + prov.topped_up_gpu_hours) * prov.params["mtok_per_gpu_hour"][:, None]
        checks["capacity"].check(
            bool(np.all(tokens.served_by_provider <= cap + 1e-6 * (1 + cap))),
            f"day {day}: tokens served above the GPU-hours providers bought",
        )
        power = model.last.power
        price = power.price
        flow = power.line_flow
        rent = float((flow * (price[:, model.line_to] - price[:, model.line_from])).sum())
        rent -= float((price * power.spill).sum())
        got = model.ledger.balance[grid] - grid_before
        checks["grid_rent"].check(
            abs(got - rent) <= 1e-6 * max(1.0, abs(rent)),
            f"day {day}: grid operator got {got}, congestion rent is {rent}",
        )
        d_agents = model.ledger.balance[:n].sum() - agents_before
        d_external = model.ledger.balance[n:].sum() - external_before
        checks["external"].check(
            abs(d_agents + d_external) <= 1e-6 * max(1.0, abs(d_agents)),
            f"day {day}: agents' cash moved {d_agents} but outside accounts {d_external}",
        )
    return model, checks
