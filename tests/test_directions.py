"""Directions of economic effects: each compares a run against the same run with one change."""

from __future__ import annotations

from tokenomy.abm.model import TokenEconomy

NO_BUILD = [
    "storage.east-battery.build_mwh_per_month=0",
    "technologies.solar.build_mw_per_month=0",
    "technologies.wind.build_mw_per_month=0",
    "technologies.gas.build_mw_per_month=0",
]


def _run(overrides: list[str], days: int, seed: int = 3):
    m = TokenEconomy("classroom", overrides=overrides, seed=seed)
    m.run(days)
    return m


def test_doubling_token_demand_raises_the_compute_price():
    base = _run([], 90).daily_table()
    doubled = _run(
        [
            "apps.chatbot.requests_per_user_per_day=24",
            "apps.coding-agent.requests_per_user_per_day=60",
            "enterprises.firms.firms=400000",
        ],
        90,
    ).daily_table()
    window = slice(20, 90)
    assert doubled.tokens_demanded_mtok.iloc[0] > 1.9 * base.tokens_demanded_mtok.iloc[0]
    assert (
        doubled.compute_price_cny_per_gpu_hour.iloc[window].mean()
        > 1.1 * base.compute_price_cny_per_gpu_hour.iloc[window].mean()
    )


def test_more_storage_narrows_the_intraday_power_price_spread():
    base = _run(NO_BUILD, 120).daily_table()
    more = _run(
        NO_BUILD + ["storage.east-battery.energy_mwh=800", "storage.east-battery.power_mw=200"], 120
    ).daily_table()
    assert more.power_spread_cny_per_mwh.mean() < 0.97 * base.power_spread_cny_per_mwh.mean()
    assert more.storage_throughput_mwh.sum() > base.storage_throughput_mwh.sum()


def test_cutting_the_line_raises_the_importing_zone_price():
    base = _run(NO_BUILD, 90)
    cut = _run(NO_BUILD + ["lines.west-east.limit_mw=5"], 90)
    hb, hc = base.hourly_table(), cut.hourly_table()
    east_base = hb[hb.zone == "east"]
    east_cut = hc[hc.zone == "east"]
    assert east_base.net_import_mw.mean() > 0, "east should import in the base case"
    assert east_cut.price_cny_per_mwh.mean() > east_base.price_cny_per_mwh.mean() + 10.0
    west_base, west_cut = hb[hb.zone == "west"], hc[hc.zone == "west"]
    assert west_cut.price_cny_per_mwh.mean() <= west_base.price_cny_per_mwh.mean() + 1e-6


def test_a_higher_agentic_multiplier_raises_tokens_per_day():
    base = _run([], 60).daily_table()
    agentic = _run(["apps.coding-agent.agent_multiplier=16", "enterprises.firms.agent_multiplier=8"], 60).daily_table()
    window = slice(5, 60)
    assert agentic.tokens_demanded_mtok.iloc[window].mean() > 1.2 * base.tokens_demanded_mtok.iloc[window].mean()
    assert agentic.tokens_served_mtok.iloc[window].mean() > 1.05 * base.tokens_served_mtok.iloc[window].mean()
