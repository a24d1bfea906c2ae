"""Switching costs: the token market's bonded logit, and the provider that prices with it in view.

The market moves each buyer's split by a logit with a bond to the current provider (Dube, Hitsch and Rossi 2009);
a provider on the ``switching-cost`` rule foresees that split with a closed form and picks the price that maximises
its margin over the days it holds the price plus the value of the share it leaves (Klemperer 1987, 1995).  These
tests check the closed form against the market's own update, the optimiser against a brute-force search, and the
directions the economics predict.
"""

from __future__ import annotations

import numpy as np
import pytest

from tokenomy.abm.markets.token import logit_shares
from tokenomy.agents.choice import appeal_factor, switching_bond
from tokenomy.agents.cloud_provider import (
    DISCOUNT_PER_DAY,
    _price_targets,
    _share_path,
    _share_value,
    _share_value_targets,
    _share_values,
)


def test_a_customer_stays_with_probability_inertia_when_prices_are_equal():
    edges = np.ones((1, 4), dtype=bool)
    previous = np.array([[1.0, 0.0, 0.0, 0.0]])  # every customer with provider 0
    for inertia in (0.5, 0.9, 0.99):
        share = logit_shares(np.full(4, 3.0), edges, previous, 2.0, inertia)
        assert share[0, 0] == pytest.approx(inertia)
        assert share[0, 1:] == pytest.approx(np.full(3, (1 - inertia) / 3))
    plain = logit_shares(np.array([1.0, 2.0, 2.0, 2.0]), edges, previous, 2.0, 0.25)  # inertia <= 1/n: no bond
    assert plain[0] == pytest.approx(np.array([4.0, 1.0, 1.0, 1.0]) / 7.0)


def test_a_large_price_gap_moves_many_customers_a_small_one_few():
    edges = np.ones((1, 2), dtype=bool)
    previous = np.array([[0.0, 1.0]])  # all with provider 1
    cuts = (0.95, 0.5, 0.2)
    moved = [logit_shares(np.array([cut, 1.0]), edges, previous, 3.0, 0.98)[0, 0] for cut in cuts]
    bond = 0.98 / (1 - 0.98)  # two providers: a customer stays with probability 0.98 at equal prices
    assert moved == pytest.approx([c**-3.0 / (c**-3.0 + bond) for c in cuts])  # P(0 | 1) = w_0 / (w_0 + bond w_1)
    assert moved[0] < 0.03 < moved[1] < moved[2]
    assert moved[2] > 0.7  # a fivefold cheaper rival takes most customers in a day


def test_new_demand_chooses_without_a_bond():
    edges = np.ones((1, 2), dtype=bool)
    previous = np.array([[0.0, 1.0]])
    price = np.array([1.0, 2.0])
    locked = logit_shares(price, edges, previous, 2.0, 1.0)  # nobody leaves ...
    assert locked[0] == pytest.approx([0.0, 1.0])
    half_new = logit_shares(price, edges, previous, 2.0, 1.0, new_share=0.5)  # ... but new customers choose freely
    assert half_new[0] == pytest.approx([0.5 * 0.8, 0.5 * 0.2 + 0.5])


@pytest.mark.parametrize("x", [0.6, 1.0, 1.7])
def test_the_foreseen_share_path_is_the_markets_own_update(x):
    """With one rival the closed form of the provider's share over the days it holds a price is exact: the market's
    update applied day after day gives the same sum and the same end."""
    sigma, inertia, days = 2.5, 0.97, 30
    price = np.array([1.2, 1.0])
    edges = np.ones((1, 2), dtype=bool)
    share = np.array([[0.3, 0.7]])
    new = np.array([0.01])
    bond = np.array([switching_bond(inertia, 2)])
    weight = (price / price.min()) ** (-sigma)
    summed, end, _ = _share_path(x, 0, 0, weight, price, edges, share, new, bond[0], sigma, float(days))
    posted = np.array([x, price[1]])
    path, now = [], share.copy()
    for _ in range(days):
        now = logit_shares(posted, edges, now, sigma, inertia, new)
        path.append(now[0, 0])
    assert summed == pytest.approx(sum(path), rel=1e-9)
    assert end == pytest.approx(path[-1], rel=1e-9)


def _market(price=(1.0, 1.0, 1.0), cost=(0.5, 0.5, 0.5), new=0.01, growth=1.0, inertia=0.97, sigma=2.0):
    n, b = len(price), 2
    return dict(
        price=np.array(price, dtype=float),
        appeal_factor=np.ones(n),
        appeal=np.ones(n),
        unit_cost=np.array(cost, dtype=float),
        edges=np.ones((b, n), dtype=bool),
        share=np.full((b, n), 1.0 / n),
        new=np.full(b, new),
        demand=np.array([100.0, 60.0]),
        elasticity=np.array([0.3, 1.0]),
        sigma=sigma,
        retention=inertia,
        usage_growth=np.full(b, growth),
        horizon_days=np.full(n, 365.0),
        hold=np.full(n, 30.0),
        discount=DISCOUNT_PER_DAY,
        min_margin=np.full(n, 0.05),
        max_markup=np.full(n, 3.0),
        served=np.ones(n),
        unserved=np.zeros(n),
        harvest_markup=np.full(n, 0.6),
        bound=np.zeros(n, dtype=bool),
    )


def test_the_chosen_price_maximises_the_providers_objective():
    """The golden-section search finds the best price: no price on a fine grid does better."""
    m = _market(price=(1.0, 0.8, 1.3), cost=(0.6, 0.5, 0.7))
    harvest = m["harvest_markup"].copy()
    target, _ = _share_value_targets(**m)
    for p in range(3):
        # the objective the kernel maximised: the harvest markup moved one day towards today's markup
        h = harvest[p] + (m["price"][p] / m["unit_cost"][p] - 1.0 - harvest[p]) / 90.0
        value = np.empty(2)
        _share_values(value, m["retention"], m["usage_growth"], m["discount"], 365.0)
        bond = np.array([switching_bond(m["retention"], 3)] * 2)
        weight = (m["price"] / m["price"].min()) ** (-m["sigma"])
        c = m["unit_cost"][p]
        args = (p, c, c * h, weight, m["price"], m["edges"], m["share"], m["new"], bond, m["demand"])
        objective = [
            _share_value(x, *args, m["elasticity"], m["sigma"], value, 30.0) for x in np.linspace(0.05 * c, 4 * c, 4000)
        ]
        best = _share_value(target[p], *args, m["elasticity"], m["sigma"], value, 30.0)
        assert best >= max(objective) - 1e-9 * abs(max(objective))


def test_faster_growth_in_use_makes_share_worth_more_and_prices_lower():
    """Bargains while the market grows (Klemperer): customers won now will use more later."""
    slow, _ = _share_value_targets(**_market(growth=1.0))
    fast, _ = _share_value_targets(**_market(growth=1.004))
    assert (fast < slow).all()


def test_a_cheaper_rival_makes_a_switching_cost_pricer_fight_harder_than_a_static_one():
    """A rival's price cut lowers both rules' best responses (strategic complements); the provider that values its
    share cuts by more, since the customers it would lose are worth more than today's margin on them."""

    def targets(rival: float) -> tuple[float, float]:
        m = _market(price=(1.0, rival, 1.0))
        dynamic, _ = _share_value_targets(**m)
        static, _ = _price_targets(
            m["price"],
            m["appeal_factor"],
            m["appeal"],
            m["unit_cost"],
            m["edges"],
            m["demand"],
            m["elasticity"],
            m["sigma"],
            m["min_margin"],
            m["max_markup"],
            m["served"],
            m["unserved"],
            m["bound"],
        )
        return float(dynamic[0]), float(static[0])

    (d_before, s_before), (d_after, s_after) = targets(1.0), targets(0.6)
    assert d_after < d_before and s_after < s_before
    assert d_after / d_before < s_after / s_before


@pytest.mark.parametrize("sigma", [0.0, 5e-324, 1e-300, 1e-12])
def test_buyers_who_do_not_weigh_price_split_by_appeal(sigma):
    """Price-blind buyers (or nearly so): a launch's appeal has no price equivalent (appeal ** (1 / sigma) overflows),
    yet it still raises the provider's logit weight: the split follows the appeals, not the prices."""
    edges = np.ones((1, 2), dtype=bool)
    share = logit_shares(np.array([1.0, 5.0]), edges, np.zeros((1, 2)), sigma, 0.0, appeal=np.array([1.0, 3.0]))
    np.testing.assert_allclose(share, [[0.25, 0.75]], rtol=1e-9)


def test_the_appeal_is_an_effective_price_where_it_has_one():
    """w_p = appeal_p price_p^-sigma: the split with appeals is the split at the effective prices
    price / appeal^(1/sigma)."""
    edges = np.ones((2, 3), dtype=bool)
    price, appeal, prev = np.array([1.0, 2.0, 3.0]), np.array([1.3, 1.0, 2.0]), np.full((2, 3), 1.0 / 3.0)
    with_appeal = logit_shares(price, edges, prev, 2.0, 0.9, 0.1, appeal=appeal)
    np.testing.assert_allclose(with_appeal, logit_shares(price / appeal**0.5, edges, prev, 2.0, 0.9, 0.1), rtol=1e-12)


@pytest.mark.parametrize("sigma", [0.0, 1e-300])
def test_price_blind_buyers_leave_a_provider_a_finite_price_its_buyers_elasticity_bounds(sigma):
    """With price-blind buyers a launched provider's appeal has no price equivalent; both pricing rules still give
    every provider a finite, positive target: its buyers' own demand (elasticities 0.3 and 1: together inelastic)
    lets a price rise, so the static rule asks the largest markup, and the switching-cost rule (whose share no
    longer answers its price) as much -- at most that markup, or today's price if it is higher."""
    m = _market(price=(1.0, 0.8, 1.3), cost=(0.6, 0.5, 0.7), sigma=sigma)
    m["appeal"] = np.array([1.3, 1.0, 1.0])
    m["appeal_factor"] = appeal_factor(m["appeal"], sigma)
    assert np.isinf(m["appeal_factor"][0])
    dynamic, _ = _share_value_targets(**m)
    static, _ = _price_targets(
        *(m[k] for k in ("price", "appeal_factor", "appeal", "unit_cost", "edges", "demand", "elasticity", "sigma")),
        *(m[k] for k in ("min_margin", "max_markup", "served", "unserved", "bound")),
    )
    top = np.maximum(m["unit_cost"] * (1.0 + m["max_markup"]), m["price"])
    np.testing.assert_allclose(static, m["unit_cost"] * (1.0 + m["max_markup"]))
    assert np.isfinite(dynamic).all() and (dynamic > 0.0).all()
    np.testing.assert_allclose(dynamic, top, rtol=1e-5)
