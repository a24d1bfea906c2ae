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


def test_a_days_token_revenue_is_what_its_providers_earned_that_day(computer_game):
    """The day's posted prices times the tokens served are the providers' revenue in the agents table, day by day (the
    prices the providers set for the next day at the day's end are not the day's)."""
    game, _ = computer_game
    revenue = game.model.recorder.agents.column("revenue_cny")[:, game.model.kind_slice["provider"]]
    for i, day in enumerate(game.market_days):
        np.testing.assert_allclose(day.price_p * day.served_p, revenue[i], rtol=1e-9, err_msg=f"day {i}")


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


def _compute_book(bids, asks, edges, bought, top_up=(), ask_topped_up=None, n_providers=None):
    """A hand-made day of the compute market: ``bids`` (buyer, hour, GPU-hours, CNY) and ``asks`` (AIDC, hour,
    GPU-hours, CNY, GPU-hours sold day-ahead) as rows, ``edges`` (B, A), ``bought`` {(buyer, hour): GPU-hours} and
    ``top_up`` (provider, hour, GPU-hours, CNY a GPU-hour was worth) rows."""
    edges = np.array(edges, dtype=bool)
    n_buyers = edges.shape[0]
    n_providers = n_buyers if n_providers is None else n_providers
    table = np.zeros((n_buyers, 24))
    for (b, h), q in bought.items():
        table[b, h] = q
    top = np.zeros((n_providers, 24))
    value = np.zeros(n_providers)
    for p, h, q, v in top_up:
        top[p, h], value[p] = q, v
    bid, ask = np.array(bids, dtype=float).reshape(-1, 4), np.array(asks, dtype=float).reshape(-1, 5)
    return ComputeDayBook(
        bid_buyer=bid[:, 0].astype(int),
        bid_hour=bid[:, 1].astype(int),
        bid_qty=bid[:, 2],
        bid_price=bid[:, 3],
        ask_aidc=ask[:, 0].astype(int),
        ask_hour=ask[:, 1].astype(int),
        ask_qty=ask[:, 2],
        ask_price=ask[:, 3],
        ask_filled=ask[:, 4],
        edges=edges,
        bought=table,
        top_up_gpu_hours=top,
        top_up_value=value,
        ask_topped_up=np.zeros(len(ask)) if ask_topped_up is None else np.array(ask_topped_up, dtype=float),
    )


def _max_surplus_lp(book: ComputeDayBook, cost: np.ndarray) -> float:
    """The most a compute book can make, solved here as its own LP (scipy's HiGHS): bid steps (the top-up's
    purchases among them) x_k, ask steps y_j at ``cost``, flows f on the edges, hour by hour; max sum v x - sum c y,
    a buyer-hour's steps equal to its flows out, an AIDC-hour's flows in equal to its steps."""
    from scipy.optimize import linprog

    top_p, top_h = np.nonzero(book.top_up_gpu_hours)
    buyer = np.concatenate([book.bid_buyer, top_p])
    hour = np.concatenate([book.bid_hour, top_h])
    qty = np.concatenate([book.bid_qty, book.top_up_gpu_hours[top_p, top_h]])
    value = np.concatenate([book.bid_price, book.top_up_value[top_p]])
    pairs = [(b, a, h) for h in range(24) for b, a in zip(*np.nonzero(book.edges), strict=True)]
    n_x, n_y = qty.size, book.ask_qty.size
    objective = np.concatenate([-value, cost, np.zeros(len(pairs))])
    rows = []
    for b in range(book.edges.shape[0]):
        for h in range(24):
            row = np.zeros(objective.size)
            row[:n_x] = (buyer == b) & (hour == h)
            row[n_x + n_y :] = [-float(pb == b and ph == h) for pb, _, ph in pairs]
            rows.append(row)
    for a in range(book.edges.shape[1]):
        for h in range(24):
            row = np.zeros(objective.size)
            row[n_x : n_x + n_y] = -((book.ask_aidc == a) & (book.ask_hour == h)).astype(float)
            row[n_x + n_y :] = [float(pa == a and ph == h) for _, pa, ph in pairs]
            rows.append(row)
    bounds = [(0, q) for q in qty] + [(0, q) for q in book.ask_qty] + [(0, None)] * len(pairs)
    result = linprog(objective, A_eq=np.array(rows), b_eq=np.zeros(len(rows)), bounds=bounds, method="highs")
    assert result.status == 0
    return -result.fun


# Two providers (0, 1) and two AIDCs in hour 5: AIDC 0 runs at 2 CNY a GPU-hour (6 GPU-hours at cost, 4 more with a
# rent, at 6 CNY), AIDC 1 at 5 (10 GPU-hours).  Provider 1 may not buy from AIDC 0 (a missing edge).  Provider 0 bids
# 6 GPU-hours at 4 CNY; provider 1 8 at 9 and 4 at 3.  The auction sold provider 0 its 6 at AIDC 0 and provider 1
# its 8 at AIDC 1; after the token market provider 0 topped up 3 GPU-hours (worth 7 CNY each to it) from AIDC 0's
# dearer step.
MISSING_EDGE = {
    "bids": [(0, 5, 6.0, 4.0), (1, 5, 8.0, 9.0), (1, 5, 4.0, 3.0)],
    "asks": [(0, 5, 6.0, 2.0, 6.0), (0, 5, 4.0, 6.0, 0.0), (1, 5, 10.0, 5.0, 8.0)],
    "edges": [[True, True], [False, True]],
    "bought": {(0, 5): 6.0, (1, 5): 8.0},
    "top_up": [(0, 5, 3.0, 7.0)],
    "ask_topped_up": [0.0, 3.0, 0.0],
}


def test_the_compute_markets_surplus_respects_the_graph_and_counts_the_top_up():
    """Realised, by hand: provider 0's 6 GPU-hours worth 4 each, provider 1's 8 worth 9, the top-up's 3 worth 7;
    9 GPU-hours run at AIDC 0 (2 CNY) and 8 at AIDC 1 (5 CNY): 24 + 72 + 21 - 18 - 40 = 59.  The most, by hand:
    provider 1 reaches only AIDC 1 (its 8 at 9 against 5: 32); provider 0 buys its 6 and the top-up's 3 at AIDC 0
    (6 x 2 + 3 x 5 = 27): 59.  As if every provider reached every AIDC the most would be 68 (provider 1's 8 at 9 from
    AIDC 0): the graph's limit is what keeps E at 1 here."""
    book = _compute_book(**MISSING_EDGE)
    cost = np.array([2.0, 2.0, 5.0])
    realised, most = compute_surplus(book)
    assert realised == pytest.approx(59.0)
    assert most == pytest.approx(59.0)
    assert most == pytest.approx(_max_surplus_lp(book, cost), rel=1e-9)
    everywhere = dataclasses.replace(book, edges=np.ones((2, 2), dtype=bool))
    assert _max_surplus_lp(everywhere, cost) == pytest.approx(68.0)
    assert compute_surplus(everywhere)[1] == pytest.approx(68.0)
    # without the top-up (the provider's 3 GPU-hours neither bought nor counted): 59 - 21 + 3 x 2 = 44 both ways
    no_top_up = dataclasses.replace(book, top_up_gpu_hours=np.zeros((2, 24)), ask_topped_up=np.zeros(3))
    assert compute_surplus(no_top_up) == pytest.approx((44.0, 44.0))


def test_the_maximum_agrees_with_an_independent_lp_on_random_books_and_bounds_the_auctions_outcome():
    """Random books on random graphs (a third of the edges missing): the most agrees with the LP solved here, and the
    market's own clearing of the posted asks (fills and the buyers' GPU-hours as the book records them) makes at
    most that: E <= 1."""
    from tokenomy.abm.classroom.debrief import running_cost
    from tokenomy.abm.markets.compute import clear_hourly_compute_market

    rng = np.random.default_rng(19)
    for _ in range(12):
        n_buyers, n_aidcs = rng.integers(1, 4), rng.integers(1, 4)
        edges = rng.random((n_buyers, n_aidcs)) < 0.67
        hours = rng.choice(24, size=2, replace=False)
        bids = [(b, h, rng.uniform(1, 10), rng.uniform(1, 12)) for b in range(n_buyers) for h in hours for _ in "ab"]
        asks = [
            (a, h, rng.uniform(1, 10), running + rent, 0.0)
            for a in range(n_aidcs)
            for h in hours
            for running in [rng.uniform(1, 6)]
            for rent in (0.0, rng.uniform(0, 8))
        ]
        book = _compute_book(bids, asks, edges, {})
        cleared = clear_hourly_compute_market(
            book.bid_buyer, book.bid_hour, book.bid_qty, book.bid_price, book.ask_aidc, book.ask_hour,
            book.ask_qty, book.ask_price, book.edges,
        )  # fmt: skip
        bought = cleared.flow_gpu_hours.sum(axis=1)
        book = dataclasses.replace(book, ask_filled=cleared.ask_filled_gpu_hours, bought=bought)
        realised, most = compute_surplus(book)
        assert most == pytest.approx(_max_surplus_lp(book, running_cost(book)), rel=1e-7, abs=1e-7)
        assert realised <= most + 1e-9


def test_a_data_centre_that_withholds_capacity_lowers_the_compute_markets_efficiency():
    """One AIDC (6 GPU-hours at its running cost of 2 CNY, 4 more with a rent) and two bids (5 at 10 CNY, 5 at 4),
    cleared by the market: with a rent of 1 (asking 3) all ten sell and E = 1; asking 12 it withholds its last 4
    GPU-hours, 6 sell, E = (50 + 4 - 12) / 50 = 0.84."""
    from tokenomy.abm.markets.compute import clear_hourly_compute_market

    def efficiency(dear_ask: float) -> float:
        book = _compute_book(
            [(0, 5, 5.0, 10.0), (1, 5, 5.0, 4.0)], [(0, 5, 6.0, 2.0, 0.0), (0, 5, 4.0, dear_ask, 0.0)], [[1], [1]], {}
        )
        c = clear_hourly_compute_market(
            book.bid_buyer, book.bid_hour, book.bid_qty, book.bid_price, book.ask_aidc, book.ask_hour,
            book.ask_qty, book.ask_price, book.edges,
        )  # fmt: skip
        realised, most = compute_surplus(
            dataclasses.replace(book, ask_filled=c.ask_filled_gpu_hours, bought=c.flow_gpu_hours.sum(axis=1))
        )
        return realised / most

    assert efficiency(3.0) == pytest.approx(1.0)
    assert efficiency(12.0) == pytest.approx(0.84)


def test_data_centres_that_ask_a_steep_rent_make_the_compute_market_less_efficient(tmp_path, computer_game):
    _, computer = computer_game
    game, teacher = new_game(tmp_path, "classroom.seats=['west-aidc', 'east-aidc']", name="rent.sqlite")
    players = [bots.Bot(n, lambda view, rng: {human.RENT: 60.0}) for n in ("Ann", "Bo")]
    bots.play_to_the_end(game, players, teacher)
    report = debrief(game)
    game.close()
    assert report["class"]["all"]["compute_efficiency"] < computer["computer"]["all"]["compute_efficiency"] - 0.01


def test_the_compute_book_holds_the_auctions_and_the_top_ups_trades_and_no_contracts(computer_game):
    """Over a whole game: each hour the buyers bought what the asks sold day-ahead, the top-up's purchases are what
    the asks sold in it, and the GPU-hours sold in the day (the daily table's) exceed the two by the term contracts'
    reserved GPU-hours, which are in neither the bids nor the asks (nor in E): some days hold contracts."""
    game, _ = computer_game
    daily = game.model.daily_table()
    reserved = []
    for i, day in enumerate(game.market_days):
        book = day.compute_book
        sold_by_hour = np.bincount(book.ask_hour, weights=book.ask_filled, minlength=24)
        np.testing.assert_allclose(book.bought.sum(axis=0), sold_by_hour, rtol=1e-9, atol=1e-6)
        assert book.top_up_gpu_hours.sum() == pytest.approx(book.ask_topped_up.sum(), rel=1e-9, abs=1e-6)
        assert book.top_up_gpu_hours.sum() == pytest.approx(daily["compute_topped_up_gpu_hours"].iloc[i], rel=1e-9)
        assert (book.top_up_value > 0).all()
        reserved.append(daily["compute_sold_gpu_hours"].iloc[i] - book.bought.sum() - book.top_up_gpu_hours.sum())
    assert min(reserved) > -1e-6 * daily["compute_sold_gpu_hours"].max()
    assert max(reserved) > 0.05 * daily["compute_sold_gpu_hours"].max()
    assert sum(book.top_up_gpu_hours.sum() > 0 for book in (d.compute_book for d in game.market_days)) > 0


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
