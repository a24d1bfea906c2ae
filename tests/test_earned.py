"""The economic effects the mechanisms are there to produce, each tested on whole runs against its twin: the same
world and seed without the mechanism (or without the change), which must not show the effect.

* the 2024 price war: a margin squeeze when providers price for share (switching costs), none when they price
  statically against the same launches;
* AIDC markups learnt on earnings go down as well as up, in a boom and in a glut (no ratchet);
* cheaper storage gets more storage built (marginal NPV = 0 against a rising build cost);
* a binding power price cap costs generation (missing money) and China's coal capacity tariff restores it;
* on-site batteries behind flexible connections run GPUs in a zone whose grid is full (in place of GPUs elsewhere).
"""

from __future__ import annotations

import numpy as np
import pytest

from tokenomy.abm.model import TokenEconomy
from tokenomy.agents.technologies import TECHS

pytestmark = pytest.mark.slow

COAL = TECHS.index("coal")
WAR = slice(126, 200)  # DeepSeek-V2 (day 126, May 2024) and the months after
BEFORE = slice(60, 126)  # March to early May 2024, after the opening weeks


def _run(name: str, days: int, overrides: list[str] | None = None, seed: int = 1) -> TokenEconomy:
    model = TokenEconomy(name, overrides=overrides or [], seed=seed)
    for _ in range(days):
        model.step()
    return model


def _price_over_cost(daily, span: slice) -> float:
    return float((daily.token_price_cny_per_mtok / daily.token_unit_cost_cny_per_mtok).iloc[span].mean())


@pytest.fixture(scope="module")
def war():
    days = 260
    return {
        strategy: _run("china-2024", days, [f"providers.*.strategy={strategy}"]).daily_table()
        for strategy in ("switching-cost", "best-response")
    }


def test_the_2024_launch_squeezes_margins_only_where_providers_price_for_share(war):
    fight, static = war["switching-cost"], war["best-response"]
    # the same launch lowers unit cost alike in both worlds
    for d in (fight, static):
        cost_fall = d.token_unit_cost_cny_per_mtok.iloc[WAR].mean() / d.token_unit_cost_cny_per_mtok.iloc[BEFORE].mean()
        assert cost_fall < 0.7
    # with switching costs the price falls further than cost: price over cost drops, providers go below cost
    assert _price_over_cost(fight, WAR) < 0.95 * _price_over_cost(fight, BEFORE)
    assert fight.providers_below_cost.iloc[WAR].sum() >= 30
    # pricing statically against the same launch, margins are not squeezed and nobody prices below cost
    assert _price_over_cost(static, WAR) > 0.95 * _price_over_cost(static, BEFORE)
    assert static.providers_below_cost.iloc[WAR].sum() == 0


def test_aidc_markups_learnt_on_earnings_go_down_as_well_as_up_through_the_boom_and_the_glut():
    """No ratchet: in the boom each AIDC's markup steps up more often than down, in the glut after it down about as
    often as up, with no ceiling near; and each AIDC follows its own earnings, so their markups differ."""
    model = _run("agent-boom", 730)
    agents = model.agents_table()
    markup = agents[agents.kind == "aidc"].pivot(index="day", columns="name", values="markup")
    steps = markup.diff()
    for name in markup.columns:
        boom, glut = (steps[name].iloc[span] for span in (slice(90, 400), slice(450, 730)))
        up, down = int((boom > 1e-12).sum()), int((boom < -1e-12).sum())
        assert up > down > 0, (name, "boom", up, down)  # scarcity: up more often than down, but not only up
        up, down = int((glut > 1e-12).sum()), int((glut < -1e-12).sum())
        assert up + down >= 20, name  # it reviews every week
        assert down >= 0.3 * (up + down) and up >= 0.3 * (up + down), (name, "glut", up, down)
        assert markup[name].max() < 3.0
    assert (markup.std(axis=1) > 1e-6).mean() > 0.9


def test_cheaper_storage_gets_more_storage_built():
    built = {}
    for factor in (1.0, 0.5):
        capex = 430.0 * factor  # the classroom's 0.43 CNY/Wh
        model = _run("classroom", 730, [f"storage.*.capex_cny_per_kwh={capex}"])
        start = TokenEconomy("classroom", seed=1).storage.params["energy_mwh"].sum()
        built[factor] = model.daily_table().storage_energy_mwh.iloc[-1] - start
    assert built[1.0] > 0
    assert built[0.5] > 2.0 * built[1.0]


def _coal_committed_mw(model: TokenEconomy) -> float:
    """Coal in service and on order."""
    u = model.utilities
    built = u.unit_capacity_mw[u.unit_tech == COAL].sum()
    ordered = sum(amount for _, (_, _, tech), amount in u.pipeline if tech == COAL)
    return float(built + ordered)


def test_a_binding_price_cap_costs_coal_and_the_capacity_tariff_restores_it():
    cap = "markets.power_price_cap_cny_per_mwh=450"
    tariff = "policy.capacity_tariff_cny_per_kw_year=330"  # about coal's annualised capex
    start = _coal_committed_mw(TokenEconomy("china-2024", seed=1))
    ordered = {
        label: _coal_committed_mw(_run("china-2024", 820, overrides)) - start
        for label, overrides in {"free": [], "capped": [cap], "capped+tariff": [cap, tariff]}.items()
    }
    assert ordered["free"] > 0
    assert ordered["capped"] < 0.7 * ordered["free"]  # missing money: scarcity rents cut, fewer plants
    assert ordered["capped+tariff"] > 0.9 * ordered["free"]  # the tariff pays what the cap took


def _bottleneck(overrides: list[str], seed: int) -> dict[str, float]:
    """grid-bottleneck to its horizon: what the batteries ran, what each AIDC sold, the compute price in the
    hours the grid was expected to be tight, tokens served."""
    model = TokenEconomy("grid-bottleneck", overrides=overrides, seed=seed)
    tight_prices = []
    for _ in range(480):
        model.step()
        tight = model.aidcs.tight
        if tight.any():
            tight_prices.append(np.nanmean(model.compute_book.aidc_price[tight]))
    daily, agents = model.daily_table(), model.agents_table()
    sold = agents[agents.kind == "aidc"].groupby("name", observed=True).gpu_hours.sum()
    return {
        "battery_gpu_hours": float(daily.storage_gpu_hours.sum()),
        "onsite_mwh": float(daily.onsite_storage_mwh.iloc[-1]),
        "flexible_gpus": float(daily.gpus_flexible.iloc[-1]),
        "east_sold": float(sold["east-aidc"]),
        "west_sold": float(sold["west-aidc"]),
        "tight_price": float(np.mean(tight_prices)),
        "tokens": float(daily.tokens_served_mtok.sum()),
    }


def test_on_site_batteries_run_gpus_where_the_grid_is_full():
    runs = {
        label: [_bottleneck(overrides, seed) for seed in (1, 2, 3)]
        for label, overrides in {"batteries": [], "none": ["storage.*.capex_cny_per_kwh=100000"]}.items()
    }
    mean = {label: {k: np.mean([r[k] for r in rs]) for k in rs[0]} for label, rs in runs.items()}
    with_b, without = mean["batteries"], mean["none"]
    # both connect the same flexible GPUs; only with batteries do they keep running in the tight hours
    assert with_b["flexible_gpus"] > 0 and without["flexible_gpus"] > 0
    assert with_b["onsite_mwh"] > 0 and without["onsite_mwh"] == 0
    assert with_b["battery_gpu_hours"] > 0 and without["battery_gpu_hours"] == 0
    # so the data centre behind the full grid sells more GPU-hours and compute in the tight hours is cheaper; the
    # batteries' GPU-hours mostly displace GPU-hours elsewhere (tokens served barely move)
    assert with_b["east_sold"] > without["east_sold"]
    assert with_b["tight_price"] < without["tight_price"]
    assert abs(with_b["tokens"] / without["tokens"] - 1) < 0.01
