"""The classic markets reproduce their theory."""

from __future__ import annotations

import numpy as np
import pytest

from tokenomy.abm.lessons.markets import MAX_LESSON_PRICE, call_market, cobweb, double_auction, symmetric_market


def _intersection(values, costs):
    """Competitive equilibrium of unit step curves, independently: Q* = max over prices of
    min(demand, supply); a price p clears Q* when strictly-better demand and supply are <= Q* <= weak ones."""
    v, c = np.asarray(values, float), np.asarray(costs, float)
    candidates = np.unique(np.concatenate([v, c]))
    q_star = max(min((v >= p).sum(), (c <= p).sum()) for p in candidates)
    clearing = [
        p for p in candidates if (v > p).sum() <= q_star <= (v >= p).sum() and (c < p).sum() <= q_star <= (c <= p).sum()
    ]
    return q_star, min(clearing), max(clearing)


@pytest.mark.parametrize("seed", range(20))
def test_call_market_price_and_quantity_are_the_intersection(seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(1, 40, size=rng.integers(2, 12)).astype(float)
    costs = rng.integers(1, 40, size=rng.integers(2, 12)).astype(float)
    r = call_market(values, costs)
    q_star, lo, hi = _intersection(values, costs)
    assert r.quantity == pytest.approx(q_star)
    assert r.theory_quantity == pytest.approx(q_star)
    if q_star > 0:
        assert lo <= r.price <= hi
        assert r.price == pytest.approx((lo + hi) / 2)  # the chain's midpoint convention
        assert (r.theory_price_low, r.theory_price_high) == pytest.approx((lo, hi))
    best = sum(sorted(values, reverse=True)[i] - sorted(costs)[i] for i in range(int(q_star)))
    assert r.surplus == pytest.approx(best) and r.theory_surplus == pytest.approx(best)
    assert r.buyer_surplus + r.seller_surplus == pytest.approx(r.surplus)


def test_call_market_textbook_case():
    r = call_market([10, 9, 8, 7, 6, 5, 4, 3], [2, 3, 4, 5, 6, 7, 8, 9])
    assert (r.price, r.quantity, r.surplus) == (6.0, 5.0, 20.0)


def test_zi_c_reaches_95_percent_and_zi_u_does_worse():
    values, costs = symmetric_market(traders=6, units=3)
    effs = {}
    for constrained in (True, False):
        runs = [
            double_auction(values, costs, constrained=constrained, periods=10, rng=np.random.default_rng(s))
            for s in range(5)
        ]
        effs[constrained] = float(np.mean([r.mean_efficiency for r in runs]))
    assert effs[True] >= 0.95
    assert effs[False] <= effs[True] - 0.2
    r = double_auction(values, costs, periods=10, rng=1)
    assert r.theory_price == pytest.approx(100.0)  # symmetric curves cross at the middle
    assert abs(np.nanmean(r.mean_price) - r.theory_price) < 10.0
    assert r.efficiency.shape == (10,) and (r.efficiency <= 1.0 + 1e-12).all()


def test_double_auction_is_seeded():
    values, costs = symmetric_market()
    a = double_auction(values, costs, periods=3, rng=np.random.default_rng(7))
    b = double_auction(values, costs, periods=3, rng=np.random.default_rng(7))
    assert np.array_equal(a.efficiency, b.efficiency)
    assert all(np.array_equal(x, y) for x, y in zip(a.prices, b.prices, strict=True))


@pytest.mark.parametrize("supply_slope", [0.3, 0.6, 0.9, 0.97, 1.0, 1.03, 1.2, 2.0])
def test_cobweb_converges_exactly_when_supply_is_flatter_than_demand(supply_slope):
    r = cobweb(demand_intercept=100, demand_slope=1.0, supply_intercept=10, supply_slope=supply_slope, periods=800)
    assert r.converged == (supply_slope < 1.0)
    assert r.theory_ratio == pytest.approx(supply_slope)
    assert r.regime == ("damped" if supply_slope < 1 else "steady" if supply_slope == 1 else "exploding")
    assert r.measured_ratio == pytest.approx(supply_slope, rel=1e-6)
    dev = np.abs(r.deviation)
    if supply_slope == 1.0:
        assert dev[-1] == pytest.approx(dev[0])  # a steady two-period cycle


def test_cobweb_equilibrium():
    r = cobweb(100, 2.0, 10, 1.0)
    assert r.theory_price == pytest.approx(30.0) and r.theory_quantity == pytest.approx(40.0)
    assert r.price[-1] == pytest.approx(30.0, abs=1e-3)


def test_cobweb_refuses_a_starting_price_at_or_below_zero():
    with pytest.raises(ValueError, match="p0 must be > 0"):
        cobweb(p0=-1e6)
    with pytest.raises(ValueError, match="p0 must be > 0"):
        cobweb(p0=0.0)


def test_cobweb_clips_prices_at_zero_when_supply_floods_the_market():
    r = cobweb(demand_intercept=100.0, demand_slope=1.0, supply_intercept=10.0, supply_slope=3.0, periods=30)
    assert r.regime == "exploding"
    assert r.price.min() == 0.0  # the bound binds ...
    assert (r.price >= 0).all() and (r.quantity >= 0).all()  # ... and nothing goes below it


def test_call_market_surplus_stays_finite_at_the_largest_prices():
    r = call_market([MAX_LESSON_PRICE] * 3, [0.0] * 3)
    assert np.isfinite([r.surplus, r.theory_surplus, r.buyer_surplus, r.seller_surplus]).all()
    assert r.theory_surplus == pytest.approx(3 * MAX_LESSON_PRICE)
    with pytest.raises(ValueError, match="at most"):
        call_market([1e308, 1e308], [1.0, 2.0])  # their sum would overflow to inf
