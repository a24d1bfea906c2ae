"""The ``q-learning`` token-pricing rule: reproducible, safe beside other rules, and a learner -- against a rival that
does not react it explores early, settles late and finds the profit-maximising markup of its grid."""

from __future__ import annotations

import numpy as np
import pytest

from tokenomy.abm.model import TokenEconomy
from tokenomy.agents.cloud_provider import CloudProviderGroup, PricingView, ProviderOutcome
from tokenomy.agents.q_learning import Q_MARKUPS
from tokenomy.agents.strategies import TOKEN_PRICING, Rules

Q_EVERYWHERE = ["providers.*.strategy=q-learning"]


def _group(rules: list[str], price: list[float]) -> CloudProviderGroup:
    """A bare provider group (no model) whose members follow ``rules``, moving straight to their targets."""
    from tokenomy.abm.scenarios import load_scenario

    base = load_scenario("classroom").data["providers"][0]
    items = [
        dict(base, name=f"p{i}", strategy=rule, price_cny_per_mtok=p, price_step=1.0, price_adjustment=1.0)
        for i, (rule, p) in enumerate(zip(rules, price, strict=True))
    ]
    return CloudProviderGroup(items, np.full(len(items), 1000.0), np.ones((len(items), 24)))


def _view(n: int) -> PricingView:
    return PricingView(np.ones((1, n), dtype=bool), np.ones(1), np.ones(1), 4.0)


def test_a_run_is_the_same_for_the_same_seed():
    runs = [TokenEconomy("classroom", overrides=Q_EVERYWHERE, seed=s) for s in (3, 3, 4)]
    for m in runs:
        m.run(120)
    prices = [m.daily_table()["token_price_cny_per_mtok"].to_numpy() for m in runs]
    assert np.array_equal(prices[0], prices[1])
    assert not np.array_equal(prices[0], prices[2])


def test_a_classroom_year_of_q_learning_providers_has_finite_prices_on_their_grids():
    m = TokenEconomy("classroom", overrides=Q_EVERYWHERE, seed=1)
    rule = m.providers.pricing.of("q-learning")
    assert m.providers.pricing.only is rule  # every provider follows it
    on_grid = []
    for _ in range(366):
        m.step()
        chosen = m.providers.target_price / m.providers.unit_cost - 1.0
        on_grid.append(np.isclose(chosen[:, None], Q_MARKUPS[None, :]).any(axis=1).all())
    daily = m.daily_table()
    assert len(daily) == 366
    prices = daily["token_price_cny_per_mtok"].to_numpy()
    assert np.isfinite(prices).all() and (prices > 0).all()
    assert np.isfinite(m.providers.price).all() and all(on_grid)


def test_it_prices_beside_other_rules_in_one_group():
    """A mixed group: the q-learning provider's target is a markup of its grid, the best-response provider's is its
    own (a Lerner markup, not confined to that grid), and the year's prices are finite."""
    m = TokenEconomy("classroom", overrides=["providers.cloud-a.strategy=q-learning"], seed=2)
    assert [s.name for s in m.providers.pricing] == ["q-learning", "switching-cost"]
    off_grid = 0
    for _ in range(120):
        m.step()
        markup = m.providers.target_price / m.providers.unit_cost - 1.0
        assert np.isclose(markup[0], Q_MARKUPS).any()
        off_grid += not np.isclose(markup[1], Q_MARKUPS, atol=1e-6).any()
    assert off_grid > 100
    assert np.isfinite(m.daily_table()["token_price_cny_per_mtok"]).all()


def test_before_its_cost_is_known_it_keeps_its_price_and_still_draws_two_numbers_a_day():
    group = _group(["q-learning", "q-learning"], [5.0, 6.0])
    assert np.isnan(group.unit_cost).all()
    rng, twin = np.random.default_rng(7), np.random.default_rng(7)
    group.pricing.learn(group, ProviderOutcome(np.ones(2), np.zeros(2)), rng)
    twin.random((2, 2))
    assert rng.random() == twin.random()  # exactly 2 x 2 uniforms, though nothing was learned
    assert np.array_equal(group.pricing.rows("prices", group, _view(2)), [5.0, 6.0])
    group.unit_cost[:] = 2.0  # now it knows its cost: the same number of draws, and a price on its grid
    group.served_mtok[:] = 100.0
    group.pricing.learn(group, ProviderOutcome(np.ones(2), np.array([300.0, 400.0])), rng)
    twin.random((2, 2))
    assert rng.random() == twin.random()
    prices = group.pricing.rows("prices", group, _view(2))
    assert np.isclose(prices[:, None] / 2.0 - 1.0, Q_MARKUPS[None, :]).any(axis=1).all()


SENSITIVITY, ELASTICITY, RIVAL_PRICE, COST = 4.0, 0.5, 2.0, 1.0


def _market(price: float) -> tuple[float, float]:
    """Tokens sold by a provider at ``price`` and by its rival at RIVAL_PRICE: buyers split by the logit weight
    price^-sensitivity, and buy price^-elasticity of the mean price they pay (x 1000)."""
    share = price**-SENSITIVITY / (price**-SENSITIVITY + RIVAL_PRICE**-SENSITIVITY)
    demand = 1000.0 * (share * price + (1.0 - share) * RIVAL_PRICE) ** -ELASTICITY
    return share * demand, (1.0 - share) * demand


@pytest.mark.parametrize("seed", range(10))
def test_against_a_rival_that_does_not_react_it_explores_then_settles_near_its_best_response(seed):
    """A stationary market (a fixed-price rival, a fixed cost): the best it can do is the static best response, found
    here by brute force over its grid.  Starting at three times its cost, within a year the learner tries most of
    its markups at first (epsilon is high), then settles on few, and earns close to the best profit."""
    profit_at = {float(k): k * _market(COST * (1.0 + k))[0] for k in Q_MARKUPS}
    best_markup = max(profit_at, key=profit_at.get)
    group = _group(["q-learning", "fixed"], [3.0 * COST, RIVAL_PRICE])
    group.unit_cost[:] = COST
    rng = np.random.default_rng(seed)
    profit, chosen = [], []
    for _ in range(365):
        price = group.price[0]
        sold = np.array(_market(price))
        group.served_mtok[:] = sold
        profit.append((price - COST) * sold[0])
        day = ProviderOutcome(np.ones(2), np.array([profit[-1], (RIVAL_PRICE - COST) * sold[1]]))
        group.pricing.learn(group, day, rng)
        group.params["price_cny_per_mtok"][:] = group.pricing.rows("prices", group, _view(2))
        chosen.append(round(group.price[0] / COST - 1.0, 9))
    assert group.price[1] == RIVAL_PRICE
    share = np.array(profit) / profit_at[best_markup]
    early, late = set(chosen[:60]), set(chosen[-60:])
    assert len(early) >= 12 and len(late) < len(early)
    assert share[-60:].mean() >= 0.93 and share[-60:].mean() > share[:60].mean() + 0.05
    modal = max(late, key=chosen[-60:].count)  # the markup it settled on: on the flat top of its profit curve
    assert modal * _market(COST * (1.0 + modal))[0] >= 0.95 * profit_at[best_markup]


def test_rules_keep_each_members_rows_when_q_learning_is_mixed_in():
    group = _group(["fixed", "q-learning", "fixed"], [4.0, 5.0, 6.0])
    assert isinstance(group.pricing, Rules) and group.pricing.kind == TOKEN_PRICING
    group.unit_cost[:] = 1.0
    group.served_mtok[:] = 10.0
    group.pricing.learn(group, ProviderOutcome(np.ones(3), np.ones(3)), np.random.default_rng(0))
    prices = group.pricing.rows("prices", group, _view(3))
    assert prices[0] == 4.0 and prices[2] == 6.0  # the fixed providers keep theirs
    assert np.isclose(prices[1] - 1.0, Q_MARKUPS).any()
