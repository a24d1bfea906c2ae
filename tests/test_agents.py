"""Agent behaviour: each rule of docs/model.md (submodels) checked against an independent expectation."""

from __future__ import annotations

import numpy as np
import pytest

from tokenomy.abm.model import TokenEconomy
from tokenomy.abm.scenarios import load_scenario
from tokenomy.agents.ai_app import AIAppGroup
from tokenomy.agents.base import Pipeline, bass_step, bass_step_in_place
from tokenomy.agents.cloud_provider import CloudProviderGroup, PricingView
from tokenomy.agents.gpu_vendors import GpuVendors
from tokenomy.agents.storage_operator import StorageGroup
from tokenomy.agents.strategies import ROTH_EREV_MARKUPS, AdaptiveMarkup, RothErevMarkup
from tokenomy.agents.utility import SOLAR_MEAN_SHAPE, solar_shape


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


def test_bass_diffusion_below_adopters_keeps_them_and_adds_nobody():
    """A potential lowered below the adopters (to a tiny number: adopters / potential overflows) adds nobody and
    takes nobody away, in both versions of the step."""
    users = np.array([2e4, 2e4, 0.0, 5.0])
    potential = np.array([1e-318, 1e4, 5e-324, 10.0])
    p, q = np.full(4, 0.05), np.full(4, 0.5)
    stepped = bass_step(users, potential, p, q)
    np.testing.assert_array_equal(stepped[:3], users[:3])
    assert 5.0 < stepped[3] < 10.0
    in_place = users.copy()
    bass_step_in_place(in_place, potential, p, q)
    np.testing.assert_array_equal(in_place, stepped)


def test_token_need_scales_with_the_agentic_multiplier():
    items = [
        dict(_items("apps")[0], agentic_share=0.5, agent_multiplier=mu, revenue_cny_per_request=1e9)
        for mu in (1.0, 4.0, 15.0)
    ]
    for i, it in enumerate(items):
        it["name"] = f"a{i}"
    apps = AIAppGroup(items)
    demand = apps.token_demand_mtok(np.full(3, 1.0))
    factor = np.array([1.0, 2.5, 8.0])  # 1 - a + a * mu
    assert np.allclose(demand / demand[0], factor / factor[0])


def test_apps_serve_the_requests_worth_their_token_cost():
    """Request values are log-logistic with median revenue_cny_per_request and shape e: the share served is
    1 / (1 + (cost / median)^e), so demand is elastic (-> e) when tokens are dear and inelastic when cheap."""
    e, median = 1.5, 0.001
    it = dict(_items("apps")[0], elasticity=e, revenue_cny_per_request=median)
    apps = AIAppGroup([it])
    apps.advance_day(np.zeros(1), 0.0, 0.0)
    per_request = apps.tokens_per_request_mtok()[0]
    full = apps.requests_wanted()[0] * per_request
    for price in (0.01, 1.0, 100.0):
        ratio = price * per_request / median
        assert apps.token_demand_mtok(np.array([price]))[0] == pytest.approx(full / (1 + ratio**e))
    # elasticity from a finite difference against the closed form e (1 - share)
    p = 50.0
    d1, d2 = apps.token_demand_mtok(np.array([p]))[0], apps.token_demand_mtok(np.array([p * 1.0001]))[0]
    assert -np.log(d2 / d1) / np.log(1.0001) == pytest.approx(apps.price_elasticity(np.array([p]))[0], rel=1e-3)
    assert apps.price_elasticity(np.array([1e6]))[0] == pytest.approx(e, rel=1e-3)
    assert apps.price_elasticity(np.array([1e-9]))[0] == pytest.approx(0.0, abs=1e-6)


def _providers(n: int = 1, **changes) -> CloudProviderGroup:
    """Providers on the static Lerner rule unless ``strategy`` says otherwise."""
    changes = {"strategy": "best-response", **changes}
    items = [
        dict(_items("providers")[i % 2], name=f"p{i}", efficiency_growth_per_year=0.0, **changes) for i in range(n)
    ]
    return CloudProviderGroup(items, np.full(n, 1000.0), np.ones((n, 24)))


def _learn_cost(prov: CloudProviderGroup, compute_price: float) -> None:
    """One day in which every provider was asked for and served 100 Mtok an hour at a flat compute price."""
    flat = np.full((prov.n, 24), 100.0)
    prov.learn(
        flat, flat, np.full((prov.n, 24), compute_price), np.zeros(prov.n), np.zeros(prov.n), np.random.default_rng(0)
    )


def test_provider_learns_its_marginal_cost_from_the_hours_it_is_asked_for():
    prov = _providers(1, price_cny_per_mtok=100.0)
    eff = prov.params["mtok_per_gpu_hour"][0]
    requested = np.zeros((1, 24))
    requested[0, 20] = 300.0  # most of its requests in hour 20, whose GPU-hours cost 30
    requested[0, 3] = 100.0  # some at night, at 6
    price = np.full((1, 24), 6.0)
    price[0, 20] = 30.0
    prov.learn(requested, requested, price, np.zeros(1), np.zeros(1), np.random.default_rng(0))
    assert prov.unit_cost[0] == pytest.approx((300 * 30 + 100 * 6) / 400 / eff)
    # an hour whose price the provider's own bid set counts at that price: its shadow price of compute (what one
    # more GPU-hour would have cost it is at least what its tokens are worth), so scarcity raises its cost
    own = _providers(1, price_cny_per_mtok=2.0)
    value = own.price[0] * own.params["mtok_per_gpu_hour"][0]
    price[0, 20] = value
    own.learn(requested, requested, price, np.zeros(1), np.zeros(1), np.random.default_rng(0))
    assert own.unit_cost[0] == pytest.approx((300 * value + 100 * 6) / 400 / own.params["mtok_per_gpu_hour"][0])


def _view(edges, demand, elasticity, sigma=4.0) -> PricingView:
    return PricingView(
        np.asarray(edges, dtype=bool), np.asarray(demand, dtype=float), np.asarray(elasticity, dtype=float), sigma
    )


def test_provider_price_heads_for_the_lerner_price_against_logit_demand():
    prov = _providers(2, price_step=10.0, price_adjustment=1.0, max_markup=100.0)
    prov.params["price_cny_per_mtok"][:] = [5.0, 4.0]
    _learn_cost(prov, 12.0)
    c = prov.unit_cost.copy()
    sigma, eps = 4.0, np.array([0.2, 1.0])
    view = _view([[True, True], [True, False]], [300.0, 100.0], eps, sigma)
    price = prov.price.copy()
    prov.set_prices(view)
    # independent Lerner prices: buyer 0 splits by price^-sigma, buyer 1 only buys from provider 0
    w = price**-sigma
    s0 = w / w.sum()
    vol0 = np.array([s0[0] * 300.0, 100.0])
    eta0 = (vol0[0] * (sigma * (1 - s0[0]) + eps[0] * s0[0]) + vol0[1] * eps[1]) / vol0.sum()
    eta1 = sigma * (1 - s0[1]) + eps[0] * s0[1]
    expected = c * np.array([eta0 / (eta0 - 1), eta1 / (eta1 - 1)])
    assert prov.price == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("strategy", ["best-response", "switching-cost"])
def test_scarcity_reaches_the_price_only_through_demand_the_market_left_unserved(strategy):
    """A provider rationed by its own forecast (its buyers served by rivals) keeps its price; one whose buyers the
    market left unserved after the top-up raises it (by its daily step here: the clearing price is far above)."""
    prov = _providers(1, strategy=strategy, price_step=0.05, price_adjustment=1.0)
    _learn_cost(prov, 12.0)
    lerner = prov.unit_cost[0] * (1 + prov.params["max_markup"][0])
    view = _view([[True]], [1000.0], [0.0], 4.0)  # a monopolist facing inelastic demand: markup at its cap
    asked = np.full((1, 24), 100.0)
    rises = []
    for unserved in (0.0, 30.0 * 24):
        prov.params["price_cny_per_mtok"][:] = lerner
        prov.learn(
            asked,
            asked * 0.7,
            np.full((1, 24), 12.0),
            np.zeros(1),
            np.zeros(1),
            np.random.default_rng(0),
            np.array([unserved]),
        )
        prov.set_prices(view)
        rises.append(prov.price[0] / lerner - 1.0)
    assert rises[0] <= 1e-9 and rises[1] == pytest.approx(0.05)


def test_provider_price_moves_at_most_its_daily_step_and_never_below_cost():
    prov = _providers(1, price_step=0.02, price_adjustment=0.5, min_margin=0.05)
    prov.params["price_cny_per_mtok"][:] = 0.1
    _learn_cost(prov, 12.0)
    view = _view([[True]], [1000.0], [3.0], 4.0)
    path = []
    for _ in range(400):
        prov.set_prices(view)
        path.append(prov.price[0])
    steps = np.diff(np.log(path))
    assert (np.abs(steps) <= np.log(1.02) + 1e-12).all()
    assert path[-1] >= prov.unit_cost[0] * 1.05 * 0.999


def test_a_fixed_price_provider_keeps_its_price():
    prov = _providers(1, strategy="fixed", price_cny_per_mtok=7.0)
    _learn_cost(prov, 50.0)
    prov.set_prices(_view([[True]], [1000.0], [1.0]))
    assert prov.price[0] == 7.0


def test_losing_share_to_a_cheaper_rival_lowers_the_lerner_price():
    """Strategic complements: when a rival cuts its price, a provider's share falls, its demand becomes more
    elastic (sigma (1 - s) grows) and its best response is a lower price."""

    def target(rival_price: float) -> float:
        prov = _providers(2, price_step=1.0, price_adjustment=1.0)
        prov.params["price_cny_per_mtok"][:] = [5.0, rival_price]
        _learn_cost(prov, 12.0)
        prov.set_prices(_view([[True, True]], [1000.0], [0.3]))
        return float(prov.target_price[0])

    assert target(3.0) < target(5.0) < target(8.0)


def test_aidc_load_follows_busy_gpus_and_pue():
    m = TokenEconomy("classroom")
    a = m.aidcs
    busy = np.outer(a.gpus, np.linspace(0.0, 1.0, 24))
    load = a.set_busy(busy, busy)
    p = a.params
    expected = (
        p["pue"][:, None]
        * (busy * p["busy_kw_per_gpu"][:, None] + (a.gpus[:, None] - busy) * p["idle_kw_per_gpu"][:, None])
        / 1000
    )
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
    expected = np.minimum(util.cf[5] * m.zone_params["solar_quality"][zone], 1.0)
    assert np.allclose(mean, expected, rtol=0.05)
    assert SOLAR_MEAN_SHAPE > 0


def test_storage_bids_keep_the_state_of_charge_feasible_whatever_clears():
    rng = np.random.default_rng(1)
    items = [
        dict(
            _items("storage")[0],
            name=f"s{i}",
            energy_mwh=float(rng.uniform(10, 200)),
            power_mw=float(rng.uniform(5, 80)),
            initial_soc=float(rng.uniform(0, 1)),
        )
        for i in range(20)
    ]
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
    markup = np.zeros(50)
    learner = RothErevMarkup(np.arange(50), markup)
    best = 4  # profit peaks at the fifth markup on the grid
    for _ in range(400):
        profit = 100.0 - 60.0 * np.abs(learner.choice - best)
        learner.update(markup, profit, rng)
    top = np.argmax(learner.propensity, axis=1)
    assert np.mean(top == best) > 0.6
    assert np.all(np.abs(top - best) <= 1)
    assert np.mean(np.abs(learner.choice - best) <= 1) > 0.7
    assert np.all(np.isin(markup, ROTH_EREV_MARKUPS))


def test_adaptive_markup_rises_when_sold_out_and_falls_when_unsold():
    markup = np.array([0.3, 0.3])
    AdaptiveMarkup(np.arange(2), 0.05, 3.0).update(markup, np.array([1.0, 0.2]))
    assert markup[0] > 0.3 > markup[1]


@pytest.mark.parametrize("per_month", [0.0, 5e-324, 1e-320])
def test_vendors_who_make_next_to_nothing_quote_an_endless_wait_and_ship_nothing(per_month):
    """A month's output so small that a day's is not a number above 0 (it underflows) is as none at all."""
    vendors = GpuVendors(1)
    vendors.order(0, np.array([10.0]), np.array([30]))
    assert vendors.quoted_wait_days(5.0, per_month) == np.inf
    assert vendors.ship(0, per_month) == [] and vendors.backlog() == 10.0


def test_vendors_ship_what_they_make_the_wait_lengthens_and_the_grid_limits_orders():
    """GPU supply is a market: orders beyond what vendors make a month wait in their order book, the wait a new order
    is quoted grows, so AIDCs order less than with ample supply; a full grid limits what can be ordered at all."""
    hot = ["aidcs.*.hurdle=0", "aidcs.*.capex_cny_per_gpu=1000", "apps.chatbot.users=60e6", "aidcs.*.lead_days=30"]
    free = TokenEconomy(
        "classroom", overrides=hot + ["compute.gpu_deliveries_per_month=1e9", "zones.*.grid_connection_mw=1e9"], seed=2
    )
    capped = TokenEconomy(
        "classroom", overrides=hot + ["compute.gpu_deliveries_per_month=300", "zones.*.grid_connection_mw=1e9"], seed=2
    )
    gridded = TokenEconomy(
        "classroom",
        overrides=hot
        + [
            "compute.gpu_deliveries_per_month=1e9",
            "zones.*.grid_connection_mw=0.5",
            "zones.*.connection_build_mw_per_year=0",
        ],
        seed=2,
    )
    for m in (free, capped, gridded):
        m.run(100)
    tables = {id(m): m.daily_table() for m in (free, capped, gridded)}
    ordered = {k: float(d.gpus_ordered.sum()) for k, d in tables.items()}
    assert ordered[id(free)] > 4 * 300  # orders on the first of January, February, March and April
    came = tables[id(capped)].gpus_online.iloc[-1] - tables[id(capped)].gpus_online.iloc[0]
    assert came <= 300 * 100 / (365 / 12) + 1e-6  # vendors ship 300 a month, whatever was ordered
    assert tables[id(capped)].gpu_order_wait_days.max() > 30  # a backlog: the quoted wait beyond the build time
    assert tables[id(free)].gpu_order_wait_days.max() < 1.0
    assert ordered[id(capped)] < ordered[id(free)]  # a longer wait lowers what one more GPU is worth
    assert ordered[id(gridded)] * gridded.aidcs.mw_per_busy_gpu().min() <= 2 * 0.5 + 1e-9
    assert gridded.grid.connection_queue_mw.sum() > 0


def test_storage_carries_the_green_share_of_what_it_stored():
    store = StorageGroup(
        [dict(_items("storage")[0], initial_soc=0.0, round_trip_efficiency=1.0)], np.zeros(1, dtype=int)
    )
    charge = np.zeros((1, 24))
    charge[0, 10:14] = 10.0  # 40 MWh at noon, all from solar
    green_in = np.ones((1, 24))
    store.track_green(charge, np.zeros((1, 24)), green_in)
    store.settle(charge, np.zeros((1, 24)))
    assert store.green_fraction()[0] == pytest.approx(1.0)
    discharge = np.zeros((1, 24))
    discharge[0, 19:21] = 10.0  # the evening: all of it green
    out = store.track_green(np.zeros((1, 24)), discharge, np.zeros((1, 24)))
    store.settle(np.zeros((1, 24)), discharge)
    assert out.sum() == pytest.approx(20.0)
    assert store.green_mwh[0] == pytest.approx(20.0) and store.soc_mwh[0] == pytest.approx(20.0)
    half = np.zeros((1, 24))
    half[0, 2] = 20.0  # then 20 MWh from coal
    store.track_green(half, np.zeros((1, 24)), np.zeros((1, 24)))
    store.settle(half, np.zeros((1, 24)))
    assert store.green_fraction()[0] == pytest.approx(0.5)


def test_mesa_agents_are_the_face_of_their_group():
    """Each entity is a Mesa agent reachable by type, reading its state, strategy and cash from the arrays."""
    from tokenomy.agents.aidc import AIDC
    from tokenomy.agents.cloud_provider import CloudProvider
    from tokenomy.agents.grid_operator import GridOperator
    from tokenomy.agents.training_lab import TrainingLab

    m = TokenEconomy("classroom")
    m.run(40)
    aidcs = list(m.agents_by_type[AIDC])
    assert [a.name for a in aidcs] == m.aidcs.names
    for a in aidcs:
        i = a.index
        assert a.gpus == m.aidcs.gpus[i] and a.gpus_online == m.aidcs.online[i]
        assert a.cash_cny == m.ledger.balance[m.account_offset["aidc"] + i]
        assert a.strategy == m.config.get(f"aidcs.{a.name}.strategy")
        assert a.ask_cny_per_gpu_hour == pytest.approx(m.aidcs.ask_mid[i])
    providers = list(m.agents_by_type[CloudProvider])
    assert [p.price_cny_per_mtok for p in providers] == m.providers.price.tolist()
    assert all(p.strategy == "switching-cost" for p in providers)
    assert len(m.agents_by_type[TrainingLab]) == 1 and len(m.agents_by_type[GridOperator]) == 1
    assert len(m.agents) == m.ledger.n_agents


def test_pipeline_hands_over_orders_on_their_day_in_the_order_placed():
    line = Pipeline()
    assert line.due(0) == [] and not line.any_due(10**9)
    line.add(9, "c", 3.0)
    line.add(5, "a", 1.0)
    line.add(5, "b", 2.0)
    line.add(5, "a", 0.5)  # the same thing on the same day: one entry, where the first was placed
    assert not line.any_due(4) and line.due(4) == []
    assert line.total() == 6.5
    assert line.any_due(5) and line.any_due(7)
    assert line.due(7) == [("a", 1.5), ("b", 2.0)]  # all that is due by day 7, none left over for a later call
    assert line.due(7) == [] and not line.any_due(8)
    assert line.total() == 3.0 and line.any_due(9)
    line.add(6, "d", 4.0)  # an order due before the one waiting: now the earliest
    assert line.any_due(6) and line.due(6) == [("d", 4.0)]
    assert line.due(20) == [("c", 3.0)] and line.total() == 0.0 and len(line) == 0
    assert not line.any_due(10**9)
