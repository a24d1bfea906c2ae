"""The debrief: efficiency, the collusion index and the benchmarks have the properties their definitions promise,
agree with a closed form, and move the right way when a class prices far above cost; the ranking follows the profits
and the replay by round ends where the game ended."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from game_support import new_game

from tokenomy.abm.classroom import bots
from tokenomy.abm.classroom.debrief import (
    P_MAX,
    ComputeDayBook,
    PowerDayBook,
    benchmark_days,
    compute_surplus,
    debrief,
    demand_at,
    gross_value,
    measure_day,
    power_surplus,
)
from tokenomy.abm.markets.power import PowerGrid
from tokenomy.agents import human

SEATS = "classroom.seats=['cloud-a', 'cloud-b']"


def _play(tmp_path, price_of, name="game.sqlite"):
    """A whole game of the classroom scenario whose two providers post ``price_of(seat view)`` every round."""
    game, teacher = new_game(tmp_path, SEATS, name=name)
    players = [bots.Bot(n, lambda view, rng: {human.PRICE: price_of(view)}) for n in ("Ann", "Bo")]
    bots.play_to_the_end(game, players, teacher)
    return game


@pytest.fixture(scope="module")
def computer_game(tmp_path_factory):
    """A whole game in which the students post the computer's own proposal: the class is the computer."""
    game = _play(tmp_path_factory.mktemp("computer"), lambda view: view["form"]["computer"][human.PRICE])
    yield game, debrief(game)
    game.close()


def test_efficiency_is_at_most_one_and_one_for_the_competitive_benchmark_and_delta_spans_zero_to_one(computer_game):
    game, report = computer_game
    assert game.status == "ended" and game.model.day == game.days
    for who in ("class", "computer", "monopoly"):
        for block in (report[who]["all"], *report[who]["rounds"]):
            assert block["efficiency"] <= 1.0 + 1e-9, who
            assert who == "monopoly" or 0.0 < block["compute_efficiency"] <= 1.0 + 1e-12, who
            assert who == "monopoly" or 0.0 < block["power_efficiency"] <= 1.0 + 1e-12, who
            assert who == "monopoly" or block["power_lost_cny"] >= -1e-6 * block["power_max_surplus_cny"], who
    for block in (report["competitive"]["all"], *report["competitive"]["rounds"]):
        assert block["efficiency"] == pytest.approx(1.0, abs=1e-6)
        assert block["compute_efficiency"] == 1.0
        assert block["power_efficiency"] == 1.0 and block["power_lost_cny"] == 0.0
        assert block["delta"] == pytest.approx(0.0, abs=1e-9)
    for block in (report["monopoly"]["all"], *report["monopoly"]["rounds"]):
        assert block["delta"] == pytest.approx(1.0, rel=1e-6)
        assert block["efficiency"] < 1.0  # a monopoly sells less than buyers would buy at cost
    assert 0.0 < report["class"]["all"]["delta"] < 1.0
    assert report["collusion_index_applies"]


def test_a_game_without_students_measures_as_the_computers_own_run(tmp_path):
    game, teacher = new_game(tmp_path, SEATS, "classroom.days_per_round=60")
    game.start(teacher)
    while game.status != "ended":
        game.close_round(teacher)
    report = debrief(game)
    game.close()
    assert report["class"] == report["computer"]  # the game's days are the scenario's, bit for bit
    assert [f["played_by"] for f in report["firms"]] == ["computer", "computer"]


def test_a_benchmark_is_measured_as_a_class_is():
    """The benchmarks' outcomes go through the same measure as the class's days: the competitive margin is zero and
    its surplus the maximum; the joint monopoly's margin is the most any single price earns."""
    from tokenomy.abm.classroom.debrief import market_day
    from tokenomy.abm.model import TokenEconomy

    model = TokenEconomy("classroom", seed=3)
    days = []
    for _ in range(5):
        model.step()
        days.append(market_day(model))
    for day, comp, mono in zip(
        days, benchmark_days(days, "competitive"), benchmark_days(days, "monopoly"), strict=True
    ):
        assert comp.margin_cny == pytest.approx(0.0, abs=1e-6 * comp.max_surplus_cny)
        assert comp.surplus_cny == pytest.approx(comp.max_surplus_cny, rel=1e-6)
        cost = (day.compute_cost_p / day.served_p).min()
        for price in np.geomspace(cost * 1.01, P_MAX, 25):  # no single price earns more than the monopoly's
            assert (price - cost) * demand_at(day, np.array([price])).sum() <= mono.margin_cny * (1 + 1e-4)


def test_the_maximum_surplus_of_constant_elasticity_demand_agrees_with_the_closed_form(computer_game):
    game, _ = computer_game
    day = game.market_days[40]
    only_enterprises = dataclasses.replace(
        day,
        apps={k: v[:0] for k, v in day.apps.items()},
        edges=day.edges[day.apps["noise"].size :],
        served_b=day.served_b[day.apps["noise"].size :],
    )
    e = only_enterprises.enterprises
    cost = float((day.compute_cost_p / day.served_p).min())
    base = e["adoption"] * e["firms"] * e["mtok_per_firm_per_day"] * e["noise"]
    base *= 1 - e["agentic_share"] + e["agentic_share"] * e["agent_multiplier"]
    eps, ref = e["elasticity"], e["reference_price_cny_per_mtok"]
    # integral from c to P_MAX of base (x / ref)^-eps dx
    closed = (base * ref**eps * (P_MAX ** (1 - eps) - cost ** (1 - eps)) / (1 - eps)).sum()
    assert measure_day(only_enterprises).max_surplus_cny == pytest.approx(closed, rel=1e-3)
    # and the value of what is wanted at a price p: p q(p) + the integral above p
    p = np.array([7.0])
    q = demand_at(only_enterprises, p)[:, 0]
    above = base * ref**eps * (P_MAX ** (1 - eps) - p ** (1 - eps)) / (1 - eps)
    curve = demand_at(only_enterprises, np.geomspace(1e-3, P_MAX, 600))
    assert gross_value(curve, q) == pytest.approx(p * q + above, rel=1e-3)


def test_the_ranking_follows_the_profits_and_the_replay_ends_where_the_game_ended(computer_game):
    game, report = computer_game
    firms = report["firms"]
    profits = [f["profit_cny"] for f in firms]
    assert profits == sorted(profits, reverse=True) and [f["rank"] for f in firms] == [1, 2]
    agents = game.model.agents_table()
    for f in firms:
        mine = agents[agents["name"] == f["firm"]]
        assert f["profit_cny"] == pytest.approx(mine["profit_cny"].sum(), rel=1e-12)
        assert f["team"] == (["Ann"] if f["firm"] == "cloud-a" else ["Bo"])
    replay = report["replay"]
    assert [r["round"] for r in replay] == list(range(1, game.rounds + 1))
    assert replay[-1]["end_day"] == game.model.day
    for f in firms:
        last = replay[-1]["firms"][f["firm"]]
        assert last["cash_cny"] == pytest.approx(f["cash_cny"], rel=1e-12)
        assert last["profit_to_date_cny"] == pytest.approx(f["profit_cny"], rel=1e-12)
        assert sum(r["firms"][f["firm"]]["round_profit_cny"] for r in replay) == pytest.approx(f["profit_cny"])
    assert all(len(r["decisions"]) == 2 for r in replay)


def test_a_class_that_prices_far_above_cost_is_less_efficient_and_nearer_collusion(tmp_path, computer_game):
    _, computer = computer_game
    game = _play(tmp_path, lambda view: 5.0 * (view["firm"]["unit_cost_cny_per_mtok"] or 1.0), name="dear.sqlite")
    report = debrief(game)
    game.close()
    ours, theirs = report["class"]["all"], computer["computer"]["all"]
    assert ours["price"] > theirs["price"]
    assert ours["efficiency"] < theirs["efficiency"]
    assert ours["delta"] > theirs["delta"]
    assert ours["served_mtok"] < theirs["served_mtok"]


def test_the_compute_auctions_surplus_agrees_with_a_hand_computed_book():
    """Two bids (10 CNY for 5 GPU-hours, 4 CNY for 5) against one AIDC in one hour: 6 GPU-hours at its running cost
    of 2 CNY and 4 more with a rent, at 12 CNY.  The auction sold 5 (the 4-CNY bid is below the 12-CNY step):
    realised 10 x 5 - 2 x 5 = 40; at cost all 10 would sell: 10 x 5 + 4 x 5 - 2 x 10 = 50."""
    book = ComputeDayBook(
        bid_hour=np.array([5, 5]),
        bid_qty=np.array([5.0, 5.0]),
        bid_price=np.array([4.0, 10.0]),
        ask_aidc=np.array([0, 0]),
        ask_hour=np.array([5, 5]),
        ask_qty=np.array([6.0, 4.0]),
        ask_price=np.array([2.0, 12.0]),
        ask_filled=np.array([5.0, 0.0]),
    )
    assert compute_surplus(book) == pytest.approx((40.0, 50.0))
    sold_at_cost = dataclasses.replace(book, ask_filled=np.array([6.0, 4.0]))  # all ten, the dear step too
    assert compute_surplus(sold_at_cost) == pytest.approx((10 * 5 + 4 * 5 - 2 * 6 - 2 * 4, 50.0))


def test_data_centres_that_ask_a_steep_rent_make_the_compute_market_less_efficient(tmp_path, computer_game):
    _, computer = computer_game
    game, teacher = new_game(tmp_path, "classroom.seats=['west-aidc', 'east-aidc']", name="rent.sqlite")
    players = [bots.Bot(n, lambda view, rng: {human.RENT: 60.0}) for n in ("Ann", "Bo")]
    bots.play_to_the_end(game, players, teacher)
    report = debrief(game)
    game.close()
    assert report["class"]["all"]["compute_efficiency"] < computer["computer"]["all"]["compute_efficiency"] - 0.01


def _power_book(zones, offer_zone, offer_mw, offer_cost, load_mw, dispatch_mw, limit_mw=(), lines=((), ())):
    """A one-hour power book with no flexible load or batteries: offers (N,), load (Z,), the realised dispatch."""
    grid = PowerGrid(zones, np.array(offer_zone), np.arange(zones), np.array(lines[0], int), np.array(lines[1], int))
    row = lambda values: np.array([values], dtype=float)  # noqa: E731 -- (1, n): one hour
    return PowerDayBook(
        grid,
        np.array(limit_mw, dtype=float),
        row(offer_mw),
        row(offer_cost),
        np.zeros((1, zones)),
        np.zeros((1, zones)),
        row(load_mw),
        row(dispatch_mw),
        np.zeros((1, zones)),
        np.zeros((1, zones)),
        1000.0,
        -100.0,
    )


def test_the_power_markets_surplus_agrees_with_hand_computed_books():
    """Load is worth the cap (1,000); a unit's MWh costs its running cost, whatever it offered."""
    # one zone, 50 MW of load: the cheap unit (100 CNY/MWh) priced itself out and the dear one (300) ran
    book = _power_book(1, [0, 0], [100.0, 100.0], [100.0, 300.0], [50.0], [0.0, 50.0])
    assert power_surplus(book) == pytest.approx((1000 * 50 - 300 * 50, 1000 * 50 - 100 * 50))
    # two zones, a 30 MW line from the cheap zone 0 to zone 1's 80 MW: the best imports 30 and makes 50 at 300
    book = _power_book(2, [0, 1], [100.0, 100.0], [100.0, 300.0], [0.0, 80.0], [0.0, 80.0], [30.0], ([0], [1]))
    realised, best = power_surplus(book)
    assert realised == pytest.approx(1000 * 80 - 300 * 80)
    assert best == pytest.approx(1000 * 80 - 100 * 30 - 300 * 50)
    # load shed: 20 MW of the 80 unserved in the realised dispatch is worth 20 x 1,000 less
    book = dataclasses.replace(book, offer_dispatch_mw=np.array([[30.0, 30.0]]), unserved_mw=np.array([[0.0, 20.0]]))
    assert power_surplus(book)[0] == pytest.approx(1000 * 60 - 100 * 30 - 300 * 30)


def test_a_utility_that_prices_its_coal_above_the_cap_makes_the_power_market_less_efficient(tmp_path, computer_game):
    """West's coal offered at six times its running cost (above the cap) stops running: dearer units or other zones
    serve the load, and the power market's realised surplus falls short of the most it could make."""
    _, computer = computer_game
    game, teacher = new_game(tmp_path, "classroom.seats=['west-power']", name="withheld.sqlite")
    bots.play_to_the_end(game, [bots.Bot("Fay", lambda view, rng: {human.MARKUP: 5.0})], teacher)
    report = debrief(game)
    game.close()
    ours, theirs = report["class"]["all"], computer["computer"]["all"]
    assert ours["power_efficiency"] < theirs["power_efficiency"] <= 1.0
    assert ours["power_lost_cny"] > 2 * theirs["power_lost_cny"]
