"""The market crossing as drawn: where the drawn curves cross (found here from the curves' points alone) is
where the markets cleared (the prices and quantities the markets recorded)."""

from __future__ import annotations

import numpy as np
import pytest

from tokenomy.abm.model import TokenEconomy
from tokenomy.abm.shocks import apply_shock
from tokenomy.viz.crossing import crossing_option, crossings, nice_axis, step_points

HOURS = (0, 4, 9, 13, 18, 21)


TOL = 1e-6  # quantities closer than this (GPU-hours, MW) are the same: sums of the same flows in another order


def _price_at(points: np.ndarray, q: float, side: str, beyond: float) -> float:
    """Price of the step just left ('-') or right ('+') of quantity ``q`` on a step curve given by its corners;
    ``beyond`` where the curve has no step there."""
    left, right, price = points[0::2, 0], points[1::2, 0], points[0::2, 1]
    x = q - TOL if side == "-" else q + TOL
    inside = (left < x) & (x < right)
    return float(price[inside][0]) if inside.any() else beyond


def crossing(demand: np.ndarray, supply: np.ndarray) -> tuple[float, float, float]:
    """(quantity, lowest price, highest price) where a falling demand step curve meets a rising supply one: the
    largest quantity up to which buyers bid at least what sellers ask, and the prices that clear it."""
    candidates = np.unique(np.concatenate([[0.0], demand[:, 0], supply[:, 0]]))
    q_star = 0.0
    for q in candidates:
        if q <= TOL:
            continue
        if _price_at(demand, q, "-", -np.inf) >= _price_at(supply, q, "-", np.inf):
            q_star = max(q_star, float(q))
    lo = max(_price_at(supply, q_star, "-", -np.inf), _price_at(demand, q_star, "+", -np.inf))
    hi = min(_price_at(demand, q_star, "-", np.inf), _price_at(supply, q_star, "+", np.inf))
    return q_star, lo, hi


def test_step_points_draw_the_merit_order():
    pts = step_points(np.array([5.0, 0.0, 2.0, 3.0]), np.array([10.0, 99.0, 30.0, 20.0]), descending=True)
    assert pts.tolist() == [[0, 30], [2, 30], [2, 20], [5, 20], [5, 10], [10, 10]]
    q, lo, hi = crossing(pts, step_points(np.array([4.0, 4.0]), np.array([15.0, 25.0]), descending=False))
    assert (q, lo, hi) == (4.0, 20.0, 20.0)  # the 15-CNY asks sell out to the 20-CNY bid, partly filled: 20 CNY


@pytest.mark.parametrize(
    "name_days", [("classroom", (1, 45, 200)), ("china-2024", (1, 120))], ids=["classroom", "china-2024"]
)
def test_the_drawn_crossings_are_where_the_markets_cleared(name_days):
    name, days = name_days
    model = TokenEconomy(name, seed=3)
    checked = pinned = 0
    for day in days:
        model.run(day - model.day)
        for hour in HOURS:
            for zone in range(len(model.zone_names)):
                compute, power = crossings(model, hour, zone)
                q, lo, hi = crossing(power.demand, power.supply)
                where = (name, day, hour, model.zone_names[zone])
                assert q == pytest.approx(power.quantity, rel=1e-6, abs=1e-3), where
                assert lo - 1e-6 <= power.price <= hi + 1e-6, (where, lo, power.price, hi)
                checked += 1
                pinned += hi - lo < 1e-6
            if compute.supply.size and compute.demand.size:
                q, lo, hi = crossing(compute.demand, compute.supply)
                assert q == pytest.approx(compute.quantity, rel=1e-9, abs=1e-6), (name, day, hour)
                # the compute auction prices at the middle of the clearing interval
                assert compute.price == pytest.approx((lo + hi) / 2, rel=1e-9), (name, day, hour, lo, hi)
    assert checked >= len(days) * len(HOURS) * 2
    assert pinned >= checked // 4, (pinned, checked)  # mostly the zone's own curves fix its price


def test_the_day_before_is_kept_and_both_days_are_drawn_with_every_series_named():
    model = TokenEconomy("classroom", seed=3)
    model.run(30)
    yesterday = crossings(model, 18, 1)
    apply_shock(model, "demand boom")
    model.step()
    today, before = crossings(model, 18, 1), crossings(model, 18, 1, before=True)
    for drawn, kept in zip(before, yesterday, strict=True):
        assert np.array_equal(drawn.demand, kept.demand) and np.array_equal(drawn.supply, kept.supply)
    assert today[1].demand[1, 0] != before[1].demand[1, 0]  # another day, another load: the demand curve moved
    option = crossing_option(*today, *before, model.data["markets"]["power_price_cap_cny_per_mwh"])
    names = [s["name"] for s in option["series"]]
    assert len(names) == len(set(names)) == 10
    shown = [n for legend in option["legend"] for n in legend["data"]]
    assert sorted(shown) == sorted(names) and all(legend.get("type") != "scroll" for legend in option["legend"])
    assert all(axis.get("name") for axis in option["xAxis"] + option["yAxis"])


@pytest.mark.browser
def test_the_crossing_card_draws_after_a_step(session):
    page = session.page
    session.step()
    card = page.get_by_test_id("crossing-chart")
    card.wait_for(timeout=30_000)
    # the step's figures reach this card's attributes a moment after the price chart's (on a busy machine, later)
    page.wait_for_function("document.querySelector('[data-testid=crossing-chart]').dataset.computePrice !== undefined")
    assert card.get_attribute("data-hour") == "19"
    assert float(card.get_attribute("data-compute-price")) > 0
    assert float(card.get_attribute("data-power-quantity")) > 0
    page.wait_for_function("document.querySelector('[data-testid=crossing-chart] canvas') !== null")


def _on_polyline(points: list[list[float]], x: float, y: float, tol: float = 0.051) -> bool:
    """Whether (x, y) lies on a polyline of horizontal and vertical segments (as drawn, rounded to 0.1)."""
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if abs(y0 - y1) <= tol and min(x0, x1) - tol <= x <= max(x0, x1) + tol and abs(y - y0) <= tol + 0.5:
            return True
        if abs(x0 - x1) <= tol and min(y0, y1) - 0.5 <= y <= max(y0, y1) + 0.5 and abs(x - x0) <= tol:
            return True
    return False


def test_the_clearing_point_lies_on_the_drawn_stack_and_says_what_set_the_price():
    """In every hour and zone the dot sits on the drawn supply curve inside the axis (no dot floating above a stack
    that ended lower, no demand drawn off the top), and the panel names what set the price."""
    model = TokenEconomy("china-2024", seed=1)
    model.run(200)
    cap = model.data["markets"]["power_price_cap_cny_per_mwh"]
    causes = set()
    for hour in (3, 12, 19):
        for zone in range(len(model.zone_names)):
            compute, power = crossings(model, hour, zone)
            option = crossing_option(compute, power, power_cap=cap)
            axis = option["yAxis"][1]
            supply = next(s for s in option["series"] if s["name"] == "power supply stack")["data"]
            demand = next(s for s in option["series"] if s["name"] == "power demand")["data"]
            (x, y), *_ = next(s for s in option["series"] if s["type"] == "scatter" and s["xAxisIndex"] == 1)["data"]
            assert axis["min"] <= y <= axis["max"] and max(p for _, p in demand) <= axis["max"]
            assert _on_polyline(supply, x, y), (model.zone_names[zone], hour, x, y, supply[-3:])
            assert (axis["max"] - axis["min"]) / axis["interval"] == round(
                (axis["max"] - axis["min"]) / axis["interval"]
            )
            zone_name = model.zone_names[zone]
            title, subtitle = option["title"][1]["text"], option["title"][1]["subtext"]
            assert zone_name in subtitle.replace("\n", "") and "set by" in subtitle and "for" not in title
            # every line fits half the chart on a 1024 px projector beside the sidebar (~250 px: 36 characters)
            for panel in option["title"]:
                assert all(len(line) <= 36 for line in (panel["text"], *panel["subtext"].split("\n")))
            plot_top = option["grid"][1]["top"]
            assert plot_top >= option["title"][1]["top"] + 30 + 14 * len(subtitle.split("\n"))
            causes.add(power.set_by)
    assert "a supply offer in this zone" in causes and len(causes) >= 2, causes


def test_nice_axis_ends_on_ticks():
    assert nice_axis(-50.0, 830.0) == (-100.0, 900.0, 100.0)
    assert nice_axis(0.0, 333.0) == (0.0, 350.0, 50.0)
    for low, high in ((0.0, 1.0), (-50.0, 600.0), (0.0, 12345.0), (3.0, 4.0)):
        lo, hi, step = nice_axis(low, high)
        assert lo <= low and hi >= high and 4 <= round((hi - lo) / step) <= 10
        assert abs((hi - lo) / step - round((hi - lo) / step)) < 1e-9
