"""Shock buttons: each changes the next day's state in the direction it should."""

from __future__ import annotations

import numpy as np
import pytest

from tokenomy.abm.model import TokenEconomy
from tokenomy.abm.shocks import SHOCKS, apply_shock


def _pair(days: int = 20):
    a, b = TokenEconomy("classroom", seed=4), TokenEconomy("classroom", seed=4)
    a.run(days)
    b.run(days)
    return a, b


def test_demand_boom_raises_tokens_wanted_the_next_day():
    base, shocked = _pair()
    apply_shock(shocked, "demand boom")
    base.step()
    shocked.step()
    assert shocked.last.tokens.demand.sum() > 1.3 * base.last.tokens.demand.sum()


def test_line_outage_stops_flows_and_raises_the_importing_zone_price():
    base, shocked = _pair()
    apply_shock(shocked, "line outage")
    for _ in range(5):
        base.step()
        shocked.step()
    assert np.abs(shocked.last.power.line_flow).max() == 0.0
    east = base.zone_names.index("east")
    assert shocked.last.power.price[:, east].mean() >= base.last.power.price[:, east].mean()
    shocked.run(40)
    assert shocked.line_params["limit_mw"][0] > 0  # restored after the outage


def test_add_storage_doubles_the_fleet_the_next_day():
    base, shocked = _pair()
    before = shocked.storage.params["energy_mwh"].copy()
    apply_shock(shocked, "add storage")
    shocked.step()
    assert np.allclose(shocked.storage.params["energy_mwh"], 2 * before)


def test_gpu_supply_cut_lowers_deliveries():
    _, shocked = _pair(3)
    before = shocked.data["compute"]["gpu_deliveries_per_month"]
    apply_shock(shocked, "GPU supply cut")
    shocked.step()
    assert shocked.data["compute"]["gpu_deliveries_per_month"] == pytest.approx(0.2 * before)


def test_unknown_shock_is_named():
    m = TokenEconomy("classroom")
    with pytest.raises(KeyError, match="unknown shock"):
        apply_shock(m, "meteor")
    assert len(SHOCKS) == 4
