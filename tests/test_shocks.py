"""Shock buttons: each changes the run, against a twin run without it, in the direction its message says."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest

from tokenomy.abm.day.power import BACKGROUND_SHAPE
from tokenomy.abm.model import TokenEconomy
from tokenomy.abm.shocks import SHOCKS, apply_shock, shock_in_words

FIRE_DAYS = (30, 200, 365)


def _twins(name: str, days=FIRE_DAYS, seed: int = 4):
    """(day, run to that day, its twin) for each day: two runs in step (a deep copy of a model would share the
    timeline's targets with the original)."""
    base, twin = TokenEconomy(name, seed=seed), TokenEconomy(name, seed=seed)
    for day in days:
        base.run(day - base.day)
        twin.run(day - twin.day)
        yield day, base, twin
        base, twin = TokenEconomy(name, seed=seed), TokenEconomy(name, seed=seed)
        base.run(day)
        twin.run(day)


def _buyers_want(model, price_cny_per_mtok: np.ndarray) -> np.ndarray:
    """Tokens each buyer wants at the given prices (the demand curves), without disturbing the run."""
    apps, ents = copy.deepcopy(model.apps), copy.deepcopy(model.enterprises)
    return np.concatenate(
        [
            apps.demand_and_elasticity(price_cny_per_mtok[: apps.n])[0],
            ents.demand_and_elasticity(price_cny_per_mtok[apps.n :])[0],
        ]
    )


@pytest.mark.parametrize("name", ["classroom", "china-2024"])
def test_demand_boom_raises_demand_against_a_twin_whenever_fired(name):
    for day, base, shocked in _twins(name):
        apply_shock(shocked, "demand boom")
        base.step()
        shocked.step()
        # the next day, at the same prices, the demand curves stand at twice the quantity
        price = np.full(base.n_buyers, float(base.daily_table().token_price_cny_per_mtok.iloc[-1]))
        assert _buyers_want(shocked, price) == pytest.approx(2 * _buyers_want(base, price), rel=1e-9)
        base.run(30)
        shocked.run(30)
        # a month on, more tokens are wanted (at the higher prices the boom brings) and more are served
        wanted = [m.daily_table().tokens_demanded_mtok.iloc[-1] for m in (base, shocked)]
        assert wanted[1] > 1.2 * wanted[0], (day, wanted)
        served = [m.daily_table().tokens_served_mtok.iloc[-1] for m in (base, shocked)]
        assert served[1] > served[0], (day, served)


def test_demand_boom_survives_a_ramp_of_the_same_driver():
    """A scenario ramp of requests per user, under way when the boom fires, ends at twice its target."""
    _, base, shocked = next(_twins("classroom", days=(40,)))
    for m in (base, shocked):
        m.timeline.add(30, "apps.chatbot.requests_per_user_per_day", 20.0, ramp_days=60)
        m.timeline.add(60, "enterprises.firms.mtok_per_firm_per_day", 3.0)
    apply_shock(shocked, "demand boom")
    base.run(60)
    shocked.run(60)
    chat = base.apps.index("chatbot")
    assert base.apps.params["requests_per_user_per_day"][chat] == pytest.approx(20.0)
    assert shocked.apps.params["requests_per_user_per_day"][chat] == pytest.approx(40.0)
    assert shocked.enterprises.params["mtok_per_firm_per_day"][0] == pytest.approx(6.0)


def test_a_boom_fired_twice_in_a_day_acts_twice():
    model = TokenEconomy("classroom", seed=4)
    model.run(5)
    before = model.apps.params["requests_per_user_per_day"].copy()
    apply_shock(model, "demand boom")
    apply_shock(model, "demand boom")
    model.step()
    assert np.allclose(model.apps.params["requests_per_user_per_day"], 4 * before)


@pytest.mark.parametrize("name", ["classroom", "china-2024"])
def test_gpu_supply_cut_means_fewer_gpus_and_scarcer_compute(name):
    for day, base, shocked in _twins(name, days=(30, 200)):
        apply_shock(shocked, "GPU supply cut")
        base.run(31)
        shocked.run(31)
        b, s = base.daily_table().iloc[-31:], shocked.daily_table().iloc[-31:]
        assert s.gpus_online.iloc[-1] < 0.95 * b.gpus_online.iloc[-1], day
        fleet = [t.gpus_online.iloc[-1] + t.gpus_in_pipeline.iloc[-1] for t in (b, s)]
        assert fleet[1] < fleet[0], day
        # scarcity shows in the market: dearer compute, or -- where buyers already bid all their tokens are worth,
        # so the price cannot rise until token prices do -- more demand left unserved
        # (the hours' prices, peak and off-peak: the mean of the day's trades can fall while every hour's price rises,
        # when the dear peak hours, where reserved GPUs leave less to trade, lose more volume than the cheap ones)
        hours = ("compute_peak_price_cny_per_gpu_hour", "compute_offpeak_price_cny_per_gpu_hour")
        dearer = all(s[c].mean() > b[c].mean() * (1 + 1e-3) for c in hours)
        shorter = s.unserved_share.mean() > b.unserved_share.mean() + 1e-3
        assert dearer or shorter, day
        assert all(s[c].mean() >= b[c].mean() * (1 - 1e-3) for c in hours), day
    cap = base.data["compute"]["gpu_deliveries_per_month"]
    assert shocked.data["compute"]["gpu_deliveries_per_month"] == pytest.approx(0.2 * cap)
    shocked.run(180)
    assert shocked.data["compute"]["gpu_deliveries_per_month"] == pytest.approx(cap)  # restored after six months


def test_line_outage_stops_flows_and_raises_the_importing_zone_price():
    _, base, shocked = next(_twins("classroom", days=(20,)))
    apply_shock(shocked, "line outage")
    base.run(5)
    shocked.run(5)
    assert np.abs(shocked.last.power.line_flow).max() == 0.0
    east = base.zone_names.index("east")
    assert shocked.last.power.price[:, east].mean() >= base.last.power.price[:, east].mean()
    shocked.run(40)
    assert shocked.line_params["limit_mw"][0] > 0  # restored after the outage


def test_add_storage_adds_at_least_a_fifth_of_peak_load_the_next_day():
    _, _, shocked = next(_twins("classroom", days=(20,)))
    p = shocked.storage.params
    power, energy = p["power_mw"].copy(), p["energy_mwh"].copy()
    peak = shocked.zone_params["background_load_mw"][shocked.storage.zone] * BACKGROUND_SHAPE.max()
    message = apply_shock(shocked, "add storage")
    shocked.step()
    added = p["power_mw"] - power
    assert np.all(added >= power - 1e-9) and np.all(added >= 0.2 * peak - 1e-9)  # at least double, and visible
    assert np.all(p["energy_mwh"] - energy >= 4 * added - 1e-6)  # four hours or more of it
    assert (
        f"{peak.sum() if len(set(shocked.storage.zone)) == len(peak) else 0:,.0f}" in message or "peak load" in message
    )


def test_each_message_gives_size_and_duration_in_units_and_the_run_remembers_the_shock():
    model = TokenEconomy("classroom")
    model.run(3)
    units = {
        "demand boom": r"a day.*Mtok/firm/day.*permanent",
        "line outage": r"\d MW out for 30 days",
        "add storage": r"\+[\d,]+ MW / \+[\d,]+ MWh.*permanent",
        "GPU supply cut": r"[\d,]+ of [\d,]+ GPUs.*800 GPUs/month.*for 180 days",
    }
    for name in SHOCKS:
        message = apply_shock(model, name)
        assert re.search(units[name], message), message
        assert "2025-01-04" in message  # the first day it acts on
    assert [(d, n) for d, n, _ in model.shocks_fired] == [(3, n) for n in SHOCKS]


def test_unknown_shock_is_named():
    m = TokenEconomy("classroom")
    with pytest.raises(KeyError, match="unknown shock"):
        apply_shock(m, "meteor")
    assert len(SHOCKS) == 4


def test_a_second_demand_boom_says_what_buyers_want_against_the_scenario():
    model = TokenEconomy("classroom")
    model.run(3)
    first = apply_shock(model, "demand boom")
    model.run(2)
    second = apply_shock(model, "demand boom")
    assert "after" not in first and first.endswith("buyers want 2x the tokens they wanted")
    assert second.endswith("(4x the scenario's, after 2 booms)")


def test_every_shock_says_what_it_does_before_it_is_fired():
    for shock in SHOCKS.values():
        words = shock_in_words(shock)
        assert len(words) > 40 and "\n" not in words
