"""The fan of seeds behind the price chart: other seeds run with the settings and shocks on screen, bit for bit as
a fresh run of each would be; its band is ordered and as long as the days it covers; its work is bounded."""

from __future__ import annotations

import numpy as np
import pytest

from tokenomy.abm.shocks import apply_shock
from tokenomy.viz import charts
from tokenomy.viz.fan import MAX_FAN_SEEDS, SeedFan, fan_request
from tokenomy.viz.fan_panel import describe
from tokenomy.viz.model import ChainModel

LEVERS = {"storage_scale": 1.5, "agentic_growth": 2.0}
SHOCK_DAY = 4


def _screen(days: int, seed: int = 3, shock: bool = True) -> ChainModel:
    """The run on screen: levers moved, a demand boom fired on SHOCK_DAY, ``days`` days simulated."""
    model = ChainModel("classroom", seed=seed, **LEVERS)
    model.run(min(days, SHOCK_DAY))
    if shock and days >= SHOCK_DAY:
        apply_shock(model, "demand boom")
    model.run(days - model.day)
    return model


@pytest.fixture(scope="module")
def screen():
    return _screen(12)


@pytest.fixture(scope="module")
def fan(screen):
    return SeedFan().compute(fan_request(screen, 3))


def test_each_fan_seed_is_a_fresh_run_with_the_same_settings_and_shocks(screen, fan):
    assert fan.request.settings.seeds == [4, 5, 6] and fan.days == 12
    assert fan.request.shocks == ((SHOCK_DAY, "demand boom"),)
    for row, seed in enumerate(fan.request.settings.seeds):
        daily = _screen(12, seed=seed).daily_table()
        np.testing.assert_array_equal(fan.token_cny_per_mtok[row], daily.token_price_cny_per_mtok)
        np.testing.assert_array_equal(fan.compute_cny_per_gpu_hour[row], daily.compute_price_cny_per_gpu_hour)
    quiet = _screen(12, seed=4, shock=False).daily_table()
    assert not np.array_equal(fan.token_cny_per_mtok[0], quiet.token_price_cny_per_mtok)  # the shock acted


def test_a_fan_goes_on_step_by_step_as_it_would_from_scratch(screen, fan):
    seed_fan = SeedFan()
    for days in (2, SHOCK_DAY, SHOCK_DAY + 1, 9, 12):
        step = seed_fan.compute(fan_request(_screen(days), 3))
        assert step.days == days and seed_fan.models_held == 3
    np.testing.assert_array_equal(step.token_cny_per_mtok, fan.token_cny_per_mtok)
    np.testing.assert_array_equal(step.compute_cny_per_gpu_hour, fan.compute_cny_per_gpu_hour)


def test_the_same_request_twice_costs_no_day_and_a_shorter_one_is_cut_from_it(screen):
    seed_fan = SeedFan()
    first = seed_fan.compute(fan_request(screen, 2))
    day = seed_fan._models[0].day
    again = seed_fan.compute(fan_request(screen, 2))
    assert seed_fan._models[0].day == day
    np.testing.assert_array_equal(again.token_cny_per_mtok, first.token_cny_per_mtok)
    earlier = seed_fan.compute(fan_request(_screen(3), 2))  # a Reset with the same settings, 3 days in
    np.testing.assert_array_equal(earlier.token_cny_per_mtok, first.token_cny_per_mtok[:, :3])


def test_another_shock_or_setting_starts_afresh():
    seed_fan = SeedFan()
    seed_fan.compute(fan_request(_screen(6), 2))
    other = ChainModel("classroom", seed=3, **LEVERS)
    other.run(2)
    apply_shock(other, "line outage")  # a different shock, before the fan's day: the fan runs again
    other.run(4)
    fan = seed_fan.compute(fan_request(other, 2))
    assert fan.request.shocks == ((2, "line outage"),)
    fresh = SeedFan().compute(fan_request(other, 2))
    np.testing.assert_array_equal(fan.token_cny_per_mtok, fresh.token_cny_per_mtok)


def test_an_older_request_gives_way_to_a_newer_one_at_a_whole_day():
    seed_fan = SeedFan()
    older, newer = fan_request(_screen(5, shock=False), 2), fan_request(_screen(8, shock=False), 2)
    seed_fan._wanted = newer  # as if a newer request came while this one waited for the lock
    seed_fan._start(older.settings)
    assert not seed_fan._advance(older)
    assert {m.day for m in seed_fan._models} == {0}
    assert seed_fan.compute(newer).days == 8


def test_the_work_is_bounded_by_the_seeds_and_the_horizon():
    model = ChainModel("classroom", seed=1)
    horizon = model.data["scenario"]["days"]
    assert fan_request(model, 1000).settings.n_seeds == MAX_FAN_SEEDS
    model.day = horizon + 50  # a run on screen past its horizon (as Play allows): the fan stops at the horizon
    assert fan_request(model, 4).days == horizon


def test_at_the_horizon_the_models_are_freed_and_off_frees_everything(monkeypatch):
    model = _screen(6)
    monkeypatch.setitem(model.data["scenario"], "days", 6)
    seed_fan = SeedFan()
    fan = seed_fan.compute(fan_request(model, 2))
    assert fan.days == 6 and seed_fan.models_held == 0
    assert seed_fan.compute(fan_request(model, 2)).days == 6  # from the prices kept
    seed_fan.clear()
    assert seed_fan.models_held == 0 and seed_fan._last is None


# the band series


@pytest.mark.parametrize("index_view", [True, False])
def test_the_band_is_ordered_and_as_long_as_the_days(fan, index_view):
    for values in (fan.token_cny_per_mtok, fan.compute_cny_per_gpu_hour):
        low, mid, high = charts.fan_band(values, index_view)
        assert len(low) == len(mid) == len(high) == fan.days
        assert (low <= mid).all() and (mid <= high).all()
        if index_view:  # every seed's index starts at 100
            assert [low[0], mid[0], high[0]] == pytest.approx([100.0, 100.0, 100.0])
        else:
            assert (low >= values.min(axis=0)).all() and (high <= values.max(axis=0)).all()


@pytest.mark.parametrize("index_view", [True, False])
def test_the_fans_are_drawn_behind_the_price_lines(screen, fan, index_view):
    daily = screen.daily_table()
    option = charts.price_history(screen, daily, index_view, fan=fan)
    names = {"token, seeds 4-6", "compute, seeds 4-6"}
    fans = [s for s in option["series"] if s["name"] in names]
    assert len(fans) == 6 and option["series"][:6] == fans  # first: drawn behind
    assert set(option["legend"]["data"]) >= names
    for name, axis in zip(sorted(names), (0 if index_view else 1, 0), strict=True):
        base, band, median = [s for s in fans if s["name"] == name]
        assert base["xAxisIndex"] == band["xAxisIndex"] == median["xAxisIndex"] == axis
        assert base["stack"] == band["stack"] and "areaStyle" in band and "stack" not in median
        assert base["tooltip"] == band["tooltip"] == {"show": False}
        for s in (base, band, median):
            assert len(s["data"]) == fan.days
        low = np.array([v for _, v in base["data"]])
        width = np.array([v for _, v in band["data"]])
        mid = np.array([row[1] for row in median["data"]])
        assert (width >= 0).all() and (low <= mid + 1e-4).all() and (mid <= low + width + 1e-4).all()
        assert [row[2] for row in median["data"]] == base_data(base)  # the tooltip's p10 is the band's foot
    assert not any("markLine" in s for s in fans)


def base_data(series: dict) -> list[float]:
    return [v for _, v in series["data"]]


def test_a_fan_behind_fewer_days_than_on_screen_covers_its_own_days(fan):
    later = _screen(15)
    option = charts.price_history(later, later.daily_table(), True, fan=fan)
    drawn = [s for s in option["series"] if ", seeds " in s["name"]]
    assert drawn and all(len(s["data"]) == fan.days for s in drawn)
    assert option["series"][-1]["data"][-1][0] == "2025-01-15"


def test_the_recorders_prices_are_the_daily_tables(screen):
    from tokenomy.viz.fan import _prices

    token, compute = _prices(screen, screen.day)
    daily = screen.daily_table()
    np.testing.assert_array_equal(token, daily.token_price_cny_per_mtok)
    np.testing.assert_array_equal(compute, daily.compute_price_cny_per_gpu_hour)


def test_the_fan_says_what_it_shows(screen, fan):
    text = describe(fan, fan.request, screen.day)
    assert "seeds 4-6" in text and "to day 12" in text and "shocks you fired" in text
