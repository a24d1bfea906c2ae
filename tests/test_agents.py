"""Agent behaviour: each rule of DESIGN section 4 checked against an independent expectation."""

from __future__ import annotations

import numpy as np
import pytest

from abm.model import TokenEconomy
from abm.scenarios import load_scenario
from agents.ai_app import AIAppGroup
from agents.base import bass_step
from agents.cloud_provider import CloudProviderGroup
from agents.storage_operator import StorageGroup
from agents.strategies import ROTH_EREV_MARKUPS, MarkupLearner
from agents.utility import SOLAR_MEAN_SHAPE, solar_shape


def _items(kind: str) -> list[dict]:
    return load_scenario("classroom").data[kind]


def test_bass_diffusion_follows_the_closed_form():
    p, q, m = 0.03, 0.4, 1e6
    users = np.array([0.0])
    years = 6
    for _ in range(365 * years):
        users = bass_step(users, np.array([m]), np.array([p]), np.array([q]))
    t = years
    closed = (1 - np.exp(-(p + q) * t)) / (1 + q / p * np.exp(-(p + q) * t))
    assert users[0] / m == pytest.approx(closed, rel=0.02)


def test_token_need_scales_with_the_agentic_multiplier():
    items = [dict(_items("apps")[0], agentic_share=0.5, agent_multiplier=mu, revenue_cny_per_request=1e9)
             for mu in (1.0, 4.0, 15.0)]
    for i, it in enumerate(items):
        it["name"] = f"a{i}"
    apps = AIAppGroup(items)
    demand = apps.token_demand_mtok(np.full(3, 1.0))
    factor = np.array([1.0, 2.5, 8.0])  # 1 - a + a * mu
    assert np.allclose(demand / demand[0], factor / factor[0])


def test_apps_throttle_with_their_elasticity_when_tokens_cost_more_than_a_request_earns():
    it = dict(_items("apps")[0], elasticity=1.5, revenue_cny_per_request=0.001)
    apps = AIAppGroup([it])
    low = apps.token_demand_mtok(np.array([10.0]))[0]
    high = apps.token_demand_mtok(np.array([20.0]))[0]
    assert high / low == pytest.approx(2 ** -1.5)
    cheap = AIAppGroup([dict(it, revenue_cny_per_request=1e6)])
    assert cheap.token_demand_mtok(np.array([20.0]))[0] == pytest.approx(cheap.requests_wanted()[0]
                                                                        * cheap.tokens_per_request_mtok()[0])


def _provider() -> CloudProviderGroup:
    prov = CloudProviderGroup([dict(_items("providers")[0], price_step=0.05, efficiency_growth_per_year=0.0)],
                              np.array([1000.0]))
    prov.receive_compute(np.array([1000.0 / 6.0]), np.array([1000.0 / 6.0 * 10.0]))
    return prov


def test_provider_raises_its_price_when_demand_goes_unserved_and_cuts_it_when_idle():
    prov = _provider()
    p0 = prov.price[0]
    cap = prov.capacity_mtok[0] / 24
    prov.learn(np.full((1, 24), cap * 1.5), np.full((1, 24), cap))
    assert prov.price[0] > p0
    prov = _provider()
    prov.learn(np.full((1, 24), cap * 0.3), np.full((1, 24), cap * 0.3))
    assert prov.price[0] < p0


def test_provider_price_does_not_stay_below_unit_cost():
    prov = _provider()
    prov.params["price_cny_per_mtok"][:] = 0.1  # far below the 10/6 CNY per Mtok unit cost
    cap = prov.capacity_mtok[0] / 24
    for _ in range(60):
        prov.learn(np.full((1, 24), cap * 0.3), np.full((1, 24), cap * 0.3))
    unit_cost = 10.0 / prov.params["mtok_per_gpu_hour"][0]
    assert prov.price[0] >= unit_cost * (1 + prov.params["min_margin"][0]) * 0.99


def test_aidc_load_follows_busy_gpus_and_pue():
    m = TokenEconomy("classroom")
    a = m.aidcs
    busy = np.outer(a.gpus, np.linspace(0.0, 1.0, 24))
    load = a.set_busy(busy)
    p = a.params
    expected = p["pue"][:, None] * (busy * p["busy_kw_per_gpu"][:, None]
                                    + (a.gpus[:, None] - busy) * p["idle_kw_per_gpu"][:, None]) / 1000
    assert np.allclose(load, expected)
    assert np.all(np.diff(load, axis=1) >= 0)


def test_solar_is_dark_at_night_and_averages_its_capacity_factor():
    assert solar_shape(172)[[0, 1, 2, 22, 23]].sum() == 0.0
    assert solar_shape(172).sum() > solar_shape(355).sum()  # summer beats winter
    m = TokenEconomy("classroom")
    util = m.utilities
    solar = util.unit_tech == 5
    zone = util.unit_zone[solar]
    rng = np.random.default_rng(0)
    mean = np.mean([util.availability(d, rng)[:, solar].mean(axis=0) for d in range(1, 366)], axis=0)
    expected = np.minimum(util.cf[5] * util.solar_quality[zone], 1.0)
    assert np.allclose(mean, expected, rtol=0.05)
    assert SOLAR_MEAN_SHAPE > 0


def test_storage_bids_keep_the_state_of_charge_feasible_whatever_clears():
    rng = np.random.default_rng(1)
    items = [dict(_items("storage")[0], name=f"s{i}", energy_mwh=float(rng.uniform(10, 200)),
                  power_mw=float(rng.uniform(5, 80)), initial_soc=float(rng.uniform(0, 1))) for i in range(20)]
    store = StorageGroup(items, np.zeros(20, dtype=int))
    for _ in range(50):
        forecast = rng.uniform(100, 900, size=(20, 24))
        c_mw, c_price, d_mw, d_price = store.plan(forecast)
        assert (c_mw >= 0).all() and (d_mw >= 0).all()
        charge = c_mw * rng.uniform(0, 1, size=c_mw.shape) * (rng.random(c_mw.shape) < 0.7)
        discharge = store.repair(charge, d_mw) * rng.uniform(0, 1, size=d_mw.shape)
        path = store.soc_path(charge, discharge)
        assert (path >= -1e-9).all() and (path <= store.params["energy_mwh"][:, None] + 1e-9).all()
        store.settle(charge, discharge)


def test_storage_charges_in_cheap_hours_and_discharges_in_dear_ones():
    store = StorageGroup([dict(_items("storage")[0], initial_soc=0.5)], np.zeros(1, dtype=int))
    forecast = np.full((1, 24), 300.0)
    forecast[0, 10:14] = 100.0
    forecast[0, 18:22] = 900.0
    c_mw, _, d_mw, _ = store.plan(forecast)
    assert set(np.flatnonzero(c_mw[0])) <= set(range(10, 14))
    assert set(np.flatnonzero(d_mw[0])) <= set(range(18, 22))
    assert c_mw.sum() > 0 and d_mw.sum() > 0
    flat = store.plan(np.full((1, 24), 300.0))
    assert flat[0].sum() == 0 and flat[2].sum() == 0  # no spread, no trade


def test_roth_erev_learns_the_most_profitable_markup():
    rng = np.random.default_rng(2)
    learner = MarkupLearner(["roth-erev"] * 50, np.zeros(50), 0.0)
    best = 4  # profit peaks at the fifth markup on the grid
    for _ in range(400):
        profit = 100.0 - 60.0 * np.abs(learner.choice - best)
        learner.update(np.ones(50), profit, rng)
    top = np.argmax(learner.propensity, axis=1)
    assert np.mean(top == best) > 0.6
    assert np.all(np.abs(top - best) <= 1)
    assert np.mean(np.abs(learner.choice - best) <= 1) > 0.7
    assert np.all(np.isin(learner.markup, ROTH_EREV_MARKUPS))


def test_adaptive_markup_rises_when_sold_out_and_falls_when_unsold():
    learner = MarkupLearner(["adaptive", "adaptive"], np.array([0.3, 0.3]), 0.05)
    learner.update(np.array([1.0, 0.2]), np.zeros(2), np.random.default_rng(0))
    assert learner.markup[0] > 0.3 > learner.markup[1]


def test_investment_respects_gpu_deliveries_and_grid_connections():
    hot = ["aidcs.west-aidc.hurdle=0", "aidcs.east-aidc.hurdle=0", "aidcs.west-aidc.capex_cny_per_gpu=1000",
           "aidcs.east-aidc.capex_cny_per_gpu=1000", "apps.chatbot.users=60e6"]
    free = TokenEconomy("classroom", overrides=hot + ["compute.gpu_deliveries_per_month=1e9",
                                                      "zones.*.grid_connection_mw=1e9"], seed=2)
    capped = TokenEconomy("classroom", overrides=hot + ["compute.gpu_deliveries_per_month=300",
                                                        "zones.*.grid_connection_mw=1e9"], seed=2)
    gridded = TokenEconomy("classroom", overrides=hot + ["compute.gpu_deliveries_per_month=1e9",
                                                         "zones.*.grid_connection_mw=0.5",
                                                         "zones.*.connection_build_mw_per_year=0"], seed=2)
    for m in (free, capped, gridded):
        m.run(100)
    ordered = {id(m): sum(n for _, _, n in m.aidcs.pipeline) + m.aidcs.gpus.sum() - 22000.0
               for m in (free, capped, gridded)}
    months = 4
    assert ordered[id(free)] > months * 300
    assert ordered[id(capped)] <= months * 300 + 1e-9
    per_gpu_mw = gridded.aidcs.mw_per_busy_gpu().max()
    assert ordered[id(gridded)] * gridded.aidcs.mw_per_busy_gpu().min() <= 2 * 0.5 + 1e-9
    assert per_gpu_mw > 0
    assert gridded.connection_queue_mw.sum() > 0


def test_provider_losing_share_cuts_its_price():
    items = [dict(_items("providers")[i], price_step=0.05, efficiency_growth_per_year=0.0) for i in range(2)]
    prov = CloudProviderGroup(items, np.array([1000.0, 1000.0]))
    prov.receive_compute(np.array([200.0, 200.0]), np.array([2000.0, 2000.0]))
    cap = prov.capacity_mtok / 24
    busy = np.outer(cap * 0.95, np.ones(24))  # both at target utilisation
    prov.learn(busy, busy)
    steady = prov.price.copy()
    losing = busy.copy()
    losing[0] *= 0.9  # buyers move away from provider 0: it is asked for (and sells) 10% less
    prov.learn(losing, losing)
    idle_only = CloudProviderGroup(items, np.array([1000.0, 1000.0]))
    idle_only.receive_compute(np.array([200.0, 200.0]), np.array([2000.0, 2000.0]))
    idle_only.learn(busy, busy)
    idle_only.share_seen[:] = [0.45 / 0.95, 0.5 / 0.95]  # as if it had always had the smaller share
    idle_only.learn(losing, losing)
    assert prov.price[0] < idle_only.price[0] < steady[0]


def test_storage_carries_the_green_share_of_what_it_stored():
    store = StorageGroup([dict(_items("storage")[0], initial_soc=0.0, round_trip_efficiency=1.0)],
                         np.zeros(1, dtype=int))
    charge = np.zeros((1, 24))
    charge[0, 10:14] = 10.0            # 40 MWh at noon, all from solar
    green_in = np.ones((1, 24))
    store.track_green(charge, np.zeros((1, 24)), green_in)
    store.settle(charge, np.zeros((1, 24)))
    assert store.green_fraction()[0] == pytest.approx(1.0)
    discharge = np.zeros((1, 24))
    discharge[0, 19:21] = 10.0          # the evening: all of it green
    out = store.track_green(np.zeros((1, 24)), discharge, np.zeros((1, 24)))
    store.settle(np.zeros((1, 24)), discharge)
    assert out.sum() == pytest.approx(20.0)
    assert store.green_mwh[0] == pytest.approx(20.0) and store.soc_mwh[0] == pytest.approx(20.0)
    half = np.zeros((1, 24))
    half[0, 2] = 20.0                   # then 20 MWh from coal
    store.track_green(half, np.zeros((1, 24)), np.zeros((1, 24)))
    store.settle(half, np.zeros((1, 24)))
    assert store.green_fraction()[0] == pytest.approx(0.5)
