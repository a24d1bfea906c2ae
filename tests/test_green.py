"""The green-electricity obligation of hub data centres: certificates, storage firming, and what they cost."""

from __future__ import annotations

import numpy as np
import pytest

from tokenomy.abm.model import TokenEconomy
from tokenomy.agents.finance import capital_recovery_factor

POLICY = ["policy.green_share_target=0.8", "policy.green_policy_day=-10000", "zones.*.hub=true"]


def _run(overrides: list[str], days: int = 150, seed: int = 1) -> TokenEconomy:
    model = TokenEconomy("classroom", overrides=overrides, seed=seed)
    model.run(days)
    return model


@pytest.fixture(scope="module")
def obliged() -> TokenEconomy:
    return _run(POLICY)


def test_without_an_obligation_nobody_buys_certificates_or_firming():
    model = _run([])
    d = model.daily_table()
    assert (d.token_cost_green_cny_per_mtok == 0).all()
    assert "green certificates" not in model.ledger.total_by_flow
    assert "storage firming" not in model.ledger.total_by_flow
    assert np.allclose(d.aidc_green_certified_share, d.aidc_green_share)
    assert (model.aidcs.green_cost_per_busy_gpu_hour == 0).all()


def test_an_obligation_is_met_with_certificates_and_firming(obliged):
    d = obliged.daily_table()
    after = d[d.day >= 62]  # the first contracts follow a month of measured energy
    # contracts are sized monthly on last month's energy; day to day the wind and the load move around them
    assert after.aidc_green_certified_share.mean() == pytest.approx(0.8, abs=0.04)
    assert (after.aidc_green_share < 0.6).all()  # the grid alone would not do it
    flows = obliged.ledger.total_by_flow
    assert flows["green certificates"] > 0 and flows["storage firming"] > 0
    assert (after.token_cost_green_cny_per_mtok > 0).all()
    # batteries are ordered (they take 180 days to arrive) to back the firming contracts
    store = obliged.storage
    assert store.firm_contracted_mwh.sum() > 0
    built_or_ordered = d.storage_energy_mwh.iloc[-1] + store.pipeline.pending(store.n).sum()
    assert built_or_ordered >= d.storage_energy_mwh.iloc[0] + store.dedicated_mwh.sum() - 1e-6
    assert store.dedicated_mwh.sum() >= 0.99 * (store.firm_contracted_mwh / store.params["round_trip_efficiency"]).sum()
    # running a GPU now carries the green energy it obliges the AIDC to buy
    assert (obliged.aidcs.green_cost_per_busy_gpu_hour > 0).all()


def test_firming_is_priced_by_what_a_battery_forgoes_and_new_batteries_cost(obliged):
    """Firming comes from the markets the model has: while a fleet can take the firming asked of it, a MWh costs what
    it would have earned the battery in the power market (a cycle at the spread it saw, after losses and wear) plus
    wear; beyond its fleet, new batteries must be built and the price is their levelised cost."""
    store = obliged.storage
    p = store.params
    wear = p["degradation_cost_cny_per_mwh"]
    forgone = np.maximum(store.spread_seen * p["round_trip_efficiency"] - wear, 0.0) + wear
    assert np.allclose(store.firming_price_cny_per_mwh(np.zeros(store.n)), forgone)
    capital = p["capex_cny_per_kwh"] * 1000 * capital_recovery_factor(0.08, p["life_years"])
    levelised = capital / 330.0 / p["round_trip_efficiency"] + wear
    assert np.allclose(store.firming_price_cny_per_mwh(p["energy_mwh"] * 2), levelised)
    # and the price moves with the power market: a wider spread, dearer firming from the same battery
    store.spread_seen = store.spread_seen + 100.0
    assert (store.firming_price_cny_per_mwh(np.zeros(store.n)) > forgone).all()


def test_certificates_cost_their_issue_while_plentiful_and_the_penalty_when_short():
    from tokenomy.abm.green import certificate_market_price

    assert certificate_market_price(100.0, 1e6, 5.0, 300.0) == 5.0
    assert certificate_market_price(100.0, 50.0, 5.0, 300.0) == 300.0
    plentiful = _run(POLICY, days=40)  # the classroom's wind and solar far outgrow the AIDCs' green gap
    assert plentiful.green.certificate_price == plentiful.data["policy"]["green_certificate_cny_per_mwh"]
    no_renewables = [
        "utilities.west-power.units.west-wind.capacity_mw=0",
        "utilities.west-power.units.west-solar.capacity_mw=0",
        "utilities.east-power.units.east-solar.capacity_mw=0",
    ]
    short = _run(POLICY + no_renewables, days=40)
    assert short.green.certificate_price == short.data["policy"]["green_penalty_cny_per_mwh"]


def test_only_gpus_in_hub_zones_from_the_policy_day_are_obliged():
    model = TokenEconomy("classroom", overrides=["zones.west.hub=true"])
    a = model.aidcs
    west = model.aidcs.index("west-aidc")
    assert a.obliged_share(-10000)[west] == pytest.approx(1.0)
    assert a.obliged_share(-10000)[1 - west] == 0.0
    assert a.obliged_share(0)[west] == 0.0  # the whole starting fleet predates day 0
    half = np.median(a.cohort_day[a.cohort_owner == west])
    assert 0.3 < a.obliged_share(int(half))[west] < 0.7


def test_dearer_storage_makes_the_storage_part_of_a_token_dearer():
    parts = []
    for capex in (200.0, 600.0, 1200.0):
        d = _run(POLICY + [f"storage.*.capex_cny_per_kwh={capex}"], days=120).daily_table()
        parts.append(d[d.day >= 62].token_cost_storage_cny_per_mtok.mean())
    assert parts[0] < parts[1] < parts[2], parts
