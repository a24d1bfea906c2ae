"""The words the app shows: tested against states built by hand, so wrong text cannot pass."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from tokenomy.abm.lessons.catalog import list_lessons, sections
from tokenomy.viz.lessons_view import CARD_CHARS, card_text
from tokenomy.viz.narrative import ChainState, arrivals_by_date, explain, storage_words


def _daily(days: int = 31, **cols) -> pd.DataFrame:
    base = dict(
        token_price_cny_per_mtok=5.0,
        compute_price_cny_per_gpu_hour=20.0,
        power_price_cny_per_mwh=400.0,
        gpu_utilization=0.7,
        gpus_online=10000.0,
        unserved_share=0.0,
        token_unit_cost_cny_per_mtok=3.0,
        aidc_energy_mwh=500.0,
        green_share=0.4,
    )
    frame = pd.DataFrame({"day": np.arange(days), "date": pd.date_range("2026-01-01", periods=days, freq="D")})
    for key, value in {**base, **cols}.items():
        frame[key] = value if np.isscalar(value) else np.asarray(value, dtype=float)
    return frame


def test_steady_prices_say_so():
    assert explain(ChainState(_daily())) == ["Prices are steady: no price moved 10% in the last 30 days."]


def test_compute_price_rise_names_utilisation_and_next_arrival():
    daily = _daily(compute_price_cny_per_gpu_hour=np.linspace(20, 27, 31), gpu_utilization=0.98)
    arrivals = [(dt.date(2026, 9, 1), 2000.0), (dt.date(2026, 10, 1), 500.0)]
    text = explain(ChainState(daily, arrivals=arrivals))
    assert text[0] == (
        "Compute price +35% in 30 days: GPU utilisation at 98%, the next 2,000 GPUs arrive on 2026-09-01."
    )


def test_compute_price_fall_after_new_gpus():
    daily = _daily(
        compute_price_cny_per_gpu_hour=np.linspace(20, 15, 31),
        gpus_online=np.linspace(10000, 12000, 31),
        gpu_utilization=0.6,
    )
    assert explain(ChainState(daily))[0] == (
        "Compute price \u221225% in 30 days: 2,000 new GPUs came online and utilisation is 60%."
    )


def test_unserved_demand_is_reported_with_its_share():
    daily = _daily(unserved_share=0.032)
    text = explain(ChainState(daily))
    assert text[0] == (
        "3.2% of token demand went unserved today: providers ran out of GPUs at the peak and no new GPUs are on order."
    )


def test_congested_line_compares_zone_prices():
    hourly = pd.DataFrame({"zone": ["west"] * 24 + ["east"] * 24, "price_cny_per_mwh": [300.0] * 24 + [900.0] * 24})
    text = explain(ChainState(_daily(), hourly_today=hourly, congested_hours={"west-east": 14}))
    assert text == ["Line west-east was full 14 of 24 hours: power in east averaged 900 CNY/MWh against 300 in west."]


def test_small_moves_stay_silent_and_the_biggest_comes_first():
    daily = _daily(
        token_price_cny_per_mtok=np.linspace(5, 5.2, 31),  # +4%: silent
        compute_price_cny_per_gpu_hour=np.linspace(20, 30, 31),  # +50%
        power_price_cny_per_mwh=np.linspace(400, 480, 31),
    )  # +20%
    text = explain(ChainState(daily))
    assert text[0].startswith("Compute price +50%")
    assert text[1].startswith("Power price +20%")
    assert not any(t.startswith("Token price") for t in text)


def test_token_price_fall_with_cheaper_compute():
    daily = _daily(token_price_cny_per_mtok=np.linspace(5, 4, 31), token_unit_cost_cny_per_mtok=np.linspace(3, 2.4, 31))
    assert explain(ChainState(daily))[0] == (
        "Token price \u221220% in 30 days: the compute behind each token got 20% cheaper."
    )


def test_a_token_price_fall_is_taken_apart_into_cost_and_margin():
    # price 5 -> 3.65 (-27%), compute per token 3 -> 2.73 (-9%): the rest is the margin (5/3 -> 3.65/2.73)
    daily = _daily(
        token_price_cny_per_mtok=np.linspace(5, 3.65, 31), token_unit_cost_cny_per_mtok=np.linspace(3, 2.73, 31)
    )
    assert explain(ChainState(daily))[0] == (
        "Token price \u221227% in 30 days: the compute behind each token got 9% cheaper and providers' price went "
        "from 1.67 to 1.34 times that cost."
    )
    # a rise on dearer compute at the same margin names only the cost
    daily = _daily(token_price_cny_per_mtok=np.linspace(5, 6, 31), token_unit_cost_cny_per_mtok=np.linspace(3, 3.6, 31))
    assert explain(ChainState(daily))[0] == "Token price +20% in 30 days: the compute behind each token costs 20% more."


def _zones(**cols) -> pd.DataFrame:
    base = dict(
        price_back=[400.0, 400.0],
        price_now=[420.0, 600.0],
        load_back=[8000.0, 10000.0],
        load_now=[8000.0, 11200.0],
        aidc_back=[500.0, 1000.0],
        aidc_now=[500.0, 2493.0],
        green_back=[2000.0, 3000.0],
        green_now=[2000.0, 2760.0],
    )
    return pd.DataFrame({**base, **cols}, index=["west", "east"])


def test_a_power_price_rise_names_the_zone_and_what_changed_there():
    daily = _daily(power_price_cny_per_mwh=np.linspace(400, 510, 31))
    assert explain(ChainState(daily, zones=_zones()))[0] == (
        "Power price +28% in 30 days, most in east (+50%): demand there rose 12% (AIDCs +1,493 MWh a day) and "
        "green supply there fell 8%."
    )
    # nothing changed in demand or green supply: it says so, with the zone's prices, and guesses no cause
    same = _zones(load_now=[8000.0, 10000.0], aidc_now=[500.0, 1000.0], green_now=[2000.0, 3000.0])
    assert explain(ChainState(daily, zones=same))[0] == (
        "Power price +28% in 30 days, most in east (+50%): at the same demand and green supply dearer units set it "
        "(400 to 600 CNY/MWh)."
    )


def test_a_full_line_compares_its_own_two_ends_not_other_zones():
    zones = pd.DataFrame(
        {"price_now": [300.0, 500.0, 900.0], "price_back": [300.0, 500.0, 900.0]}, index=["north", "west", "east"]
    )
    hourly = pd.DataFrame(
        {"zone": np.repeat(["north", "west", "east"], 24), "price_cny_per_mwh": np.repeat(zones.price_now, 24)}
    )
    state = ChainState(
        _daily(),
        hourly_today=hourly,
        congested_hours={"north-west": 10},
        zones=zones,
        line_ends={"north-west": ("north", "west")},
    )
    assert explain(state) == [
        "Line north-west was full 10 of 24 hours: power in west averaged 500 CNY/MWh against 300 in north at its two "
        "ends."
    ]


def test_arrivals_on_one_date_are_added_up_and_today_is_said_as_today():
    today = dt.date(2026, 1, 31)
    arrivals = [(today, 1500.0), (today, 500.0), (dt.date(2026, 3, 1), 700.0)]
    assert arrivals_by_date(arrivals) == [(today, 2000.0), (dt.date(2026, 3, 1), 700.0)]
    daily = _daily(compute_price_cny_per_gpu_hour=np.linspace(20, 27, 31), gpu_utilization=0.98)
    text = explain(ChainState(daily, arrivals=arrivals, today=today))[0]
    assert text == "Compute price +35% in 30 days: GPU utilisation at 98%, the next 2,000 GPUs arrive today."
    tomorrow = explain(ChainState(daily, arrivals=arrivals, today=today - dt.timedelta(days=1)))[0]
    assert tomorrow.endswith("the next 2,000 GPUs arrive tomorrow.")


def test_the_year_and_the_horizon_get_a_summary_first():
    daily = _daily(
        days=365,
        token_price_cny_per_mtok=np.linspace(5, 1.75, 365),
        compute_price_cny_per_gpu_hour=np.linspace(20, 22, 365),
        tokens_served_mtok=np.linspace(1e6, 4e6, 365),
    )
    assert explain(ChainState(daily))[0] == (
        "Over the year: the token price \u221265% (5.00 to 1.75 CNY per million tokens), compute +10%, power +0%; "
        "tokens served x4.0."
    )
    assert not explain(ChainState(daily.iloc[:364]))[0].startswith("Over")  # not a day early
    assert explain(ChainState(daily.iloc[:200], horizon_days=200))[0].startswith("Over the run's 200 days:")


def test_a_recent_shock_comes_first_with_what_moved_since_the_day_before_it():
    token = np.r_[np.full(20, 5.0), np.full(11, 6.0)]
    wanted = np.r_[np.full(20, 1e6), np.full(11, 1.5e6)]
    daily = _daily(token_price_cny_per_mtok=token, tokens_demanded_mtok=wanted)
    text = explain(ChainState(daily, shocks=[(20, "demand boom")]))
    assert text[0] == "Since the demand boom (11 days ago): the token price +20%, tokens wanted +50%."
    assert (
        explain(ChainState(_daily(days=80, tokens_demanded_mtok=1e6), shocks=[(20, "demand boom")]))[0]
        == "Prices are steady: no price moved 10% in the last 30 days."
    )  # a month on, it is no longer news


def test_storage_words_give_its_share_of_the_price_and_gpu_hours_per_mwh_of_battery():
    row = pd.Series(
        dict(
            token_price_cny_per_mtok=4.0,
            token_cost_storage_cny_per_mtok=0.01,
            onsite_storage_mwh=200.0,
            storage_gpu_hours=3000.0,
        )
    )
    assert storage_words(row) == (
        "Storage (grid and on-site batteries): <b>0.25%</b> of the token price today; on-site batteries (200 MWh) "
        "kept <b>3,000</b> GPU-hours running in the grid's tight hours (15.0 per MWh)."
    )
    row["onsite_storage_mwh"] = 0.0  # no flexible connections: only the share
    assert storage_words(row) == "Storage (grid and on-site batteries): <b>0.25%</b> of the token price today."


def test_a_scenario_event_of_the_last_month_is_narrated_like_a_shock():
    token = np.r_[np.full(20, 5.0), np.full(11, 6.0)]
    daily = _daily(token_price_cny_per_mtok=token, tokens_demanded_mtok=np.r_[np.full(20, 1e6), np.full(11, 1.2e6)])
    text = explain(ChainState(daily, events=[(20, "agentic coding tools take off")]))
    assert text[0] == (
        "Since \u201cagentic coding tools take off\u201d (11 days ago): the token price +20%, tokens wanted +20%."
    )


def test_lesson_cards_cut_at_a_word_never_mid_word():
    for lesson in list_lessons():
        question = " ".join(sections(lesson)["The question"].split())
        text = card_text(question)
        assert len(text) <= CARD_CHARS + 1
        body = text.rstrip("\u2026.?")
        assert question.startswith(body) and question[len(body) : len(body) + 1] in (" ", ".", "?", ",", ""), text
    assert card_text("a " * 200).endswith("a\u2026")
