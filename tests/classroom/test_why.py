"""The "why" of a seat's last round: its direction follows what the firm did, against the public prices."""

from __future__ import annotations

from game_support import new_game

from tokenomy.agents import human


def _two_rounds(tmp_path, first: dict, second: dict, seats: str, names=("Ann", "Bo")):
    game, teacher = new_game(tmp_path, "classroom.days_per_round=10", f"classroom.seats={seats}")
    tickets = [game.join(game.code, n) for n in names]
    game.start(teacher)
    assert game.seat_view(tickets[0].token)["why"] is None  # nothing played yet
    for decisions in (first, second):
        for ticket in tickets:
            game.submit(ticket.token, decisions[ticket.firm])
    return game, tickets


def test_a_provider_that_prices_above_its_rival_hears_it_sold_fewer_and_the_cheaper_one_more(tmp_path):
    level = {"cloud-a": {human.PRICE: 5.0}, "cloud-b": {human.PRICE: 5.0}}
    apart = {"cloud-a": {human.PRICE: 8.0}, "cloud-b": {human.PRICE: 4.0}}
    game, (ann, bo) = _two_rounds(tmp_path, level, apart, "['cloud-a', 'cloud-b']")
    dear, cheap = game.seat_view(ann.token)["why"], game.seat_view(bo.token)["why"]
    assert "fewer M tokens than the round before" in dear and "% above the cheapest rival's (4.00)" in dear
    assert "(8.00 CNY per M tokens)" in dear
    assert "more M tokens than the round before" in cheap and "% below the cheapest rival's (8.00)" in cheap
    game.close()


def test_a_providers_why_names_only_its_own_numbers_and_public_prices(tmp_path):
    level = {"cloud-a": {human.PRICE: 5.0}, "cloud-b": {human.PRICE: 5.0}}
    game, (ann, bo) = _two_rounds(tmp_path, level, level, "['cloud-a', 'cloud-b']")
    why = game.seat_view(ann.token)["why"]
    assert "about the same M tokens" in why and "level with the cheapest rival's (5.00)" in why
    mine = game.seat_view(ann.token)["firm"]["last_round"]["profit_cny"]
    theirs = game.seat_view(bo.token)["firm"]["last_round"]["profit_cny"]
    assert f"{mine:,.0f} CNY" in why and f"{theirs:,.0f}" not in why
    game.close()


def test_an_aidc_that_asks_a_steep_rent_hears_it_sold_fewer_gpu_hours_above_the_market_price(tmp_path):
    calm = {"west-aidc": {human.RENT: 1.0}, "east-aidc": {human.RENT: 1.0}}
    steep = {"west-aidc": {human.RENT: 200.0}, "east-aidc": {human.RENT: 1.0}}
    game, (ann, bo) = _two_rounds(tmp_path, calm, steep, "['west-aidc', 'east-aidc']")
    dear, cheap = game.seat_view(ann.token)["why"], game.seat_view(bo.token)["why"]
    assert "fewer GPU-hours than the round before" in dear and "% above the market price" in dear
    assert "+ scarcity rent 200.00)" in dear
    assert "% below the market price" in cheap and "GPU-hours" in cheap
    game.close()
