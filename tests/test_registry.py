"""The strategy registry: a scenario names the rule each agent follows; a new rule is one registered class."""

from __future__ import annotations

import numpy as np
import pytest

from tokenomy.abm.model import TokenEconomy
from tokenomy.abm.scenarios.schema import ScenarioError
from tokenomy.agents.registry import REGISTRY
from tokenomy.agents.strategies import TOKEN_PRICING, TokenPricing, register, strategy_names


def test_every_kind_of_decision_has_a_rule_and_every_rule_is_a_class_of_its_kind():
    assert len(REGISTRY) >= 8
    for kind, rules in REGISTRY.items():
        assert rules, kind
        for name, cls in rules.items():
            assert isinstance(cls, type) and name, (kind, name)


@pytest.fixture
def cost_plus_half():
    """A rule of a user's own, registered for the test and taken out after it."""

    @register(TOKEN_PRICING, "test-cost-plus-half")
    class CostPlusHalf(TokenPricing):
        def prices(self, group, view):
            return np.where(np.isfinite(group.unit_cost), group.unit_cost * 1.5, group.price)

    yield CostPlusHalf
    REGISTRY[TOKEN_PRICING].pop("test-cost-plus-half")


def test_a_rule_registered_by_a_user_runs_a_whole_year(cost_plus_half):
    assert "test-cost-plus-half" in strategy_names(TOKEN_PRICING)
    model = TokenEconomy("classroom", overrides=["providers.*.strategy=test-cost-plus-half"], seed=2)
    model.run(366)
    prov = model.providers
    # tonight's posted price is 1.5 x the unit cost learnt today: the registered rule decided it
    assert np.isfinite(prov.price).all()
    assert np.allclose(prov.price, 1.5 * prov.unit_cost)
    assert all(isinstance(rule, cost_plus_half) for rule in prov.pricing)
    twin = TokenEconomy("classroom", seed=2)
    twin.run(366)
    assert not np.allclose(model.daily_table().token_price_cny_per_mtok, twin.daily_table().token_price_cny_per_mtok)


def test_an_unknown_rule_is_refused_with_the_names_it_could_be():
    with pytest.raises(ScenarioError, match="is not one of .*switching-cost.*did you mean"):
        TokenEconomy("classroom", overrides=["providers.*.strategy=switching-cst"])


def test_a_students_seat_is_a_registered_rule_of_each_playable_kind_but_never_a_scenarios():
    from tokenomy.agents.human import SeatRule
    from tokenomy.agents.registry import COMPUTE_ASKING, GENERATION_INVESTING, POWER_OFFERS, STORAGE_DISPATCH

    for kind in (TOKEN_PRICING, COMPUTE_ASKING, POWER_OFFERS, STORAGE_DISPATCH, GENERATION_INVESTING):
        assert issubclass(REGISTRY[kind]["human"], SeatRule)
        assert "human" not in strategy_names(kind)
    with pytest.raises(ScenarioError, match=r"'providers\[cloud-a\].strategy' = 'human' is not one of"):
        TokenEconomy("classroom", overrides=["providers.*.strategy=human"])
