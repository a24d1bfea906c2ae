"""How a seat's decision enters the day: an empty seat is the computer, a student who posts the computer's own
decisions changes nothing, and a student's own decisions move the market the way economics says."""

from __future__ import annotations

import numpy as np
import pytest
from game_support import assert_same_tables, new_game, plain_run

from tokenomy.abm.classroom.bots import Bot, computer, play_to_the_end, price_far_above
from tokenomy.agents import human


@pytest.mark.parametrize("scenario, rounds", [("classroom", 13), ("agent-boom", 18), ("storage-buildout", 12)])
def test_a_game_without_students_is_the_scenario_run_to_its_horizon(tmp_path, scenario, rounds):
    game, teacher = new_game(tmp_path, scenario=scenario)
    game.start(teacher)
    while game.status != "ended":
        game.close_round(teacher)
    days = game.data["scenario"]["days"]
    per = game.days_per_round
    assert len(game.history) == game.rounds == rounds and game.model.day == days
    assert [r.end_day - r.first_day for r in game.history] == [per] * (rounds - 1) + [days - per * (rounds - 1)]
    assert_same_tables(game.model, plain_run(scenario))
    game.close()


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["classroom", "storage-buildout"])
def test_students_who_post_the_computers_decisions_every_day_change_nothing(tmp_path, scenario):
    """Every playable firm seated (in classroom the whole chain), one day a round, each student posting what its
    firm's own rule proposes: the tables are the scenario's, bit for bit, over the whole horizon."""
    game, teacher = new_game(tmp_path, "classroom.days_per_round=1", scenario=scenario)
    bots = [Bot(f"student {i}", computer) for i in range(len(game.firms))]
    play_to_the_end(game, bots, teacher)
    days = game.data["scenario"]["days"]
    assert {b.firm for b in bots} == {f.name for f in game.firms}
    assert all(b.submitted == list(range(1, days + 1)) for b in bots)
    assert [r.reason for r in game.history] == ["all decided"] * days
    assert_same_tables(game.model, plain_run(scenario))
    game.close()


def _agent_column(model, name: str, column: str) -> np.ndarray:
    table = model.agents_table()
    return table.loc[table.name == name, column].to_numpy()


def test_a_posted_price_holds_through_its_round_and_the_computer_proposes_on_the_last_night(tmp_path):
    game, teacher = new_game(tmp_path, "classroom.days_per_round=10")
    ann = game.join(game.code, "Ann")
    bo = game.join(game.code, "Bo")
    assert (ann.firm, bo.firm) == ("cloud-a", "cloud-b")
    game.start(teacher)
    game.submit(ann.token, {})  # an empty decision: cloud-a's computer decides
    game.submit(bo.token, {human.PRICE: 3.5})  # closes round 1
    posted = _agent_column(game.model, "cloud-b", "price_cny_per_mtok")  # tonight's posted price, each day
    assert (posted[:9] == 3.5).all()
    proposal = game.seat_view(bo.token)["form"]["computer"][human.PRICE]
    assert posted[9] == proposal != 3.5
    assert game.seat_view(bo.token)["form"]["default"] == {human.PRICE: 3.5}  # the form keeps its decision
    game.submit(bo.token, {}, now=1.0)
    game.close_round(teacher)  # (Ann has not decided round 2: the teacher advances)
    posted = _agent_column(game.model, "cloud-b", "price_cny_per_mtok")
    assert posted[10] != 3.5  # round 2: the computer played cloud-b from the proposal on


def test_a_provider_that_prices_far_above_its_rival_loses_its_customers(tmp_path):
    game, teacher = new_game(tmp_path, "classroom.seats=['cloud-a']")
    play_to_the_end(game, [Bot("Ann", price_far_above)], teacher)
    plain = plain_run()

    def share(model):
        a, b = (_agent_column(model, n, "tokens_mtok").sum() for n in ("cloud-a", "cloud-b"))
        return a / (a + b)

    played, computer_share = share(game.model), share(plain)
    assert computer_share > 0.3
    assert played < 0.5 * computer_share
    assert [d["round"] for d in game.decision_log] == list(range(1, game.rounds + 1))  # it decided every round
    posted = _agent_column(game.model, "cloud-a", "price_cny_per_mtok")
    rival = _agent_column(game.model, "cloud-b", "price_cny_per_mtok")
    assert np.median(posted / rival) > 2.5
    game.close()


def test_a_seats_gpu_order_is_placed_and_paid_on_the_months_first_day(tmp_path):
    game, teacher = new_game(tmp_path, "classroom.seats=['west-aidc']", "classroom.days_per_round=30")
    cy = game.join(game.code, "Cy")
    game.start(teacher)
    game.submit(cy.token, {human.ORDER: 1500})  # round 1: days 0-29, January: its first day is day 0
    game.submit(cy.token, {human.ORDER: 0})  # round 2: days 30-59: February 1st (31) and March 1st (59)
    capex = _agent_column(game.model, "west-aidc", "capex_cny")
    per_gpu = game.data["aidcs"][0]["capex_cny_per_gpu"]
    assert capex[0] == 1500 * per_gpu
    assert capex[31] == 0.0 and capex[59] == 0.0
    assert game.model.aidcs.pipeline_gpus()[0] >= 1500 - game.data["compute"]["gpu_deliveries_per_month"] * 2
    game.close()


def test_a_battery_told_to_charge_below_the_floor_and_sell_above_the_cap_stands_still(tmp_path):
    game, teacher = new_game(tmp_path, "classroom.seats=['east-battery']", "classroom.days_per_round=30")
    ed = game.join(game.code, "Ed")
    game.start(teacher)
    m = game.data["markets"]
    still = {
        human.CHARGE_BELOW: m["power_price_floor_cny_per_mwh"],
        human.DISCHARGE_ABOVE: m["power_price_cap_cny_per_mwh"],
    }
    forecast = game.model.zone_price_forecast
    assert forecast.min() > still[human.CHARGE_BELOW] and forecast.max() < still[human.DISCHARGE_ABOVE]
    game.submit(ed.token, still)
    hourly = game.model.hourly_table()
    moved = hourly.storage_charge_mw.abs().sum() + hourly.storage_discharge_mw.abs().sum()
    assert moved == 0.0
    game.submit(ed.token, {})  # round 2: the computer arbitrages again
    hourly = game.model.hourly_table()
    assert hourly.storage_charge_mw[hourly.day >= 30].sum() > 0
    game.close()


def _play_rounds(game, teacher, ticket, decisions):
    """Play one round per decision (the seat's only student decides; the round closes at once)."""
    game.start(teacher)
    for decision in decisions:
        game.submit(ticket.token, decision)


def test_an_aidc_that_asks_a_steep_scarcity_rent_sells_fewer_gpu_hours_and_its_rival_more(tmp_path):
    game, teacher = new_game(tmp_path, "classroom.seats=['west-aidc']")
    cy = game.join(game.code, "Cy")
    _play_rounds(game, teacher, cy, [{}] * 5 + [{human.RENT: 1000.0}])  # round 6: days 150-179, the shortage
    plain = plain_run(days=180)
    days = slice(150, 180)
    west, east = (_agent_column(game.model, n, "gpu_hours")[days].sum() for n in ("west-aidc", "east-aidc"))
    west0, east0 = (_agent_column(plain, n, "gpu_hours")[days].sum() for n in ("west-aidc", "east-aidc"))
    assert west < 0.8 * west0 and east > east0
    # the first five rounds, decided by its computer, are the plain run's
    assert (
        _agent_column(game.model, "west-aidc", "gpu_hours")[:150]
        == _agent_column(plain, "west-aidc", "gpu_hours")[:150]
    ).all()
    game.close()


def test_a_utility_that_offers_its_coal_above_the_price_cap_stops_selling_it(tmp_path):
    game, teacher = new_game(tmp_path, "classroom.seats=['west-power']")
    fay = game.join(game.code, "Fay")
    _play_rounds(game, teacher, fay, [{human.MARKUP: 5.0}])  # 280 CNY/MWh x 6 is above the 1,500 cap
    plain = plain_run(days=30)
    coal = game.model.utilities.unit_names.index("west-coal")
    hourly, hourly0 = game.model.hourly_table(), plain.hourly_table()
    west, west0 = hourly[hourly.zone == "west"], hourly0[hourly0.zone == "west"]
    assert west0.generation_coal_mw.sum() > 0
    assert west.generation_coal_mw.sum() < 0.1 * west0.generation_coal_mw.sum()
    assert game.model.utilities.unit_mc[coal] * 6.0 > game.data["markets"]["power_price_cap_cny_per_mwh"]
    game.close()
