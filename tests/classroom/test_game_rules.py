"""The game's rules: joining, teams, authorisation, the checks of every decision, rounds that close when every
firm has decided, on the timer or by the teacher, pauses, kicks and the end."""

from __future__ import annotations

import json
import math

import pytest
from game_support import new_game

from tokenomy.abm.classroom.errors import AuthError, GameError
from tokenomy.agents import human


@pytest.fixture
def game(tmp_path):
    game, teacher = new_game(tmp_path, "classroom.days_per_round=10", "classroom.round_seconds=60")
    yield game, teacher
    game.close()


def _refused(call, *fragments, error=GameError) -> str:
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert "\n" not in message and message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_students_fill_the_firms_in_turn_share_them_as_teams_and_rejoin_their_own(game):
    game, teacher = game
    names = [f"student {i}" for i in range(9)]
    tickets = [game.join(game.code, name) for name in names]
    firms = [f.name for f in game.firms]
    assert [t.firm for t in tickets] == firms + firms[:2]  # 7 firms, then the first two get a second student
    again = game.join(game.code.lower(), "  STUDENT   0 ")  # the same name, however typed, rejoins its firm
    assert again.firm == tickets[0].firm and again.token != tickets[0].token
    for token in (again.token, tickets[0].token):  # both of its seats' tokens work
        assert game.seat_view(token)["seat"]["firm"] == tickets[0].firm
    team = game.seat_view(tickets[7].token)["seat"]["team"]
    assert team == ["student 0", "student 7"]


def test_a_full_game_and_bad_codes_and_names_are_refused(tmp_path):
    game, _ = new_game(tmp_path, "classroom.team_size=1", "classroom.seats=['cloud-a', 'cloud-b']")
    game.join(game.code, "a")
    game.join(game.code, "b")
    _refused(lambda: game.join(game.code, "c"), "the game is full")
    _refused(lambda: game.join("ZZZZZZ", "d"), "no game has that join code", error=AuthError)
    _refused(lambda: game.join(None, "d"), "no game has that join code", error=AuthError)
    _refused(lambda: game.join("é" * 6, "d"), "no game has that join code", error=AuthError)
    _refused(lambda: game.join(game.code * 10**5, "d"), "no game has that join code", error=AuthError)
    _refused(lambda: game.join(game.code, "   "), "type your name")
    _refused(lambda: game.join(game.code, "x" * 41), "at most 40 characters")
    _refused(lambda: game.join(game.code, "a\x1b[2J"), "printable")
    _refused(lambda: game.join(game.code, 42), "a name must be text")
    game.close()


def test_a_token_acts_only_for_its_own_firm_and_never_as_the_teacher(game):
    game, teacher = game
    ann = game.join(game.code, "Ann")
    bo = game.join(game.code, "Bo")
    assert (ann.firm, bo.firm) == ("cloud-a", "cloud-b")
    price = {human.PRICE: 4.0}
    _refused(lambda: game.submit(ann.token, price, firm="cloud-b"), "Ann plays cloud-a, not cloud-b", error=AuthError)
    _refused(lambda: game.seat_view(ann.token, firm="providers/cloud-b"), "not providers/cloud-b", error=AuthError)
    for student_token in (ann.token, bo.token, "", None, teacher + "x"):
        for action in (game.start, game.close_round, game.pause, game.resume, game.end):
            _refused(lambda a=action, t=student_token: a(t), "only the teacher can do that", error=AuthError)
        _refused(lambda t=student_token: game.kick(t, "Ann"), "only the teacher", error=AuthError)
        _refused(lambda t=student_token: game.teacher_view(t), "only the teacher", error=AuthError)
    for bad in ("", "x" * 32, teacher, None, 5, ann.token * 10**5, "é"):
        _refused(lambda t=bad: game.submit(t, price), "this seat token is not valid", error=AuthError)
        _refused(lambda t=bad: game.seat_view(t), "this seat token is not valid", error=AuthError)
    assert game.pending == {}
    game.submit(ann.token, price, firm="cloud-a")
    assert list(game.pending) == ["providers/cloud-a"]


def test_a_seat_sees_its_own_firm_and_only_the_public_side_of_the_others(game):
    game, teacher = game
    ann = game.join(game.code, "Ann")
    game.join(game.code, "Bo")
    game.start(teacher)
    game.close_round(teacher)
    view = game.seat_view(ann.token)
    assert view["firm"]["firm"] == "cloud-a" and view["firm"]["last_round"]["round"] == 1
    # its own private figures are there, and no other firm's
    assert {"cash_cny", "unit_cost_cny_per_mtok", "demand_mtok_per_day"} <= set(view["firm"])
    # (the market's public prices and the list of firms still deciding name the others)
    assert view["game"]["waiting_for"] == ["cloud-a", "cloud-b"]
    text = repr({k: v for k, v in view.items() if k not in ("market", "game")})
    for other in ("cloud-b", "west-aidc", "east-aidc", "east-battery", "west-power", "east-power"):
        assert other not in text
    assert set(view["market"]["posted_token_prices_cny_per_mtok"]) == {"cloud-a", "cloud-b"}
    assert "firms" not in view and "roster" not in view and "code" not in view
    # the figures are the model's: its cash, and its posted price against what the model holds
    m = game.model
    assert view["firm"]["cash_cny"] == m.ledger.balance[m.kind_slice["provider"].start]
    assert view["market"]["posted_token_prices_cny_per_mtok"]["cloud-b"] == m.providers.price[1]
    teacher_view = game.teacher_view(teacher)
    assert [f["firm"] for f in teacher_view["firms"]] == [f.name for f in game.firms]
    for shown in (view, teacher_view, game.seat_view(game.join(game.code, "Cy").token)):
        json.dumps(shown, allow_nan=False)  # plain JSON for the pages: no NaN, no numpy scalar
    assert teacher_view["code"] == game.code


@pytest.mark.parametrize(
    "decision, fragments",
    [
        ({human.PRICE: float("nan")}, ("'price_cny_per_mtok' must be a finite number, got nan",)),
        ({human.PRICE: float("inf")}, ("'price_cny_per_mtok' must be a finite number",)),
        ({human.PRICE: -1.0}, ("'price_cny_per_mtok' = -1.0 is out of range; allowed [0.01, 1000.0]",)),
        ({human.PRICE: 1e300}, ("'price_cny_per_mtok' = 1e+300 is out of range; allowed [0.01, 1000.0]",)),
        ({human.PRICE: "4"}, ("'price_cny_per_mtok' must be a number, got '4'",)),
        ({human.PRICE: True}, ("'price_cny_per_mtok' must be a number, got True",)),
        ({human.PRICE: [4.0]}, ("'price_cny_per_mtok' must be a number",)),
        ({human.RESERVE: 2.5}, ("'reserve_share' = 2.5 is out of range; allowed [0.0, 2.0]",)),
        ({"price": 4.0}, ("unknown field 'price'", "did you mean 'price_cny_per_mtok'")),
        ({human.RENT: 5.0}, ("unknown field 'scarcity_rent_cny_per_gpu_hour'",)),  # an AIDC's, not a provider's
        ({5: 4.0}, ("unknown field '5'",)),
        ([4.0], ("a decision must be a table of fields, got list",)),
        ("price=4", ("a decision must be a table of fields, got str",)),
        ({f"f{i}": 1 for i in range(50)}, ("a decision has at most 16 fields, got 50",)),
    ],
)
def test_a_providers_bad_decisions_are_refused_with_the_field_and_the_bound(game, decision, fragments):
    game, _ = game
    ann = game.join(game.code, "Ann")
    message = _refused(lambda: game.submit(ann.token, decision), *fragments)
    assert message.startswith("cloud-a: ")
    assert game.pending == {}  # nothing refused reaches the log or the round
    assert [e.kind for e in game.store.events()] == ["join"]


def test_the_other_roles_decisions_are_checked_too(game):
    game, _ = game
    tickets = {t.firm: t for t in (game.join(game.code, f"s{i}") for i in range(7))}
    aidc, battery, utility = tickets["west-aidc"], tickets["east-battery"], tickets["west-power"]
    _refused(lambda: game.submit(aidc.token, {human.ORDER: 10.5}), "'gpus_to_order' must be a whole number")
    _refused(lambda: game.submit(aidc.token, {human.ORDER: 10**9}), "'gpus_to_order' = 1000000000 is out of range")
    _refused(lambda: game.submit(aidc.token, {human.RENT: -0.1}), "'scarcity_rent_cny_per_gpu_hour' = -0.1")
    _refused(lambda: game.submit(utility.token, {human.BUILD_TECH: "fusion", human.BUILD_MW: 5.0}), "'build_tech'")
    _refused(lambda: game.submit(utility.token, {human.BUILD_MW: 5.0}), "go together")
    _refused(lambda: game.submit(utility.token, {human.MARKUP: 6.0}), "allowed [0.0, 5.0]")
    both = {human.CHARGE_BELOW: 300.0, human.DISCHARGE_ABOVE: 200.0}
    _refused(lambda: game.submit(battery.token, both), "(300) must be below 'discharge_above_cny_per_mwh' (200)")
    _refused(lambda: game.submit(battery.token, {human.CHARGE_BELOW: 300.0}), "go together")
    cap = game.data["markets"]["power_price_cap_cny_per_mwh"]
    _refused(
        lambda: game.submit(battery.token, {human.CHARGE_BELOW: 0.0, human.DISCHARGE_ABOVE: cap + 1}),
        f"allowed [-50.0, {cap}]",
    )
    assert game.pending == {}
    game.submit(aidc.token, {human.ORDER: 10, human.RENT: 2.5})
    assert game.pending["aidcs/west-aidc"][0] == {human.ORDER: 10, human.RENT: 2.5}


def test_a_round_closes_when_every_firm_with_a_student_has_decided(game):
    game, teacher = game
    ann, bo, cy = (game.join(game.code, n) for n in ("Ann", "Bo", "Cy"))
    game.submit(ann.token, {human.PRICE: 4.0})  # in the lobby: kept for the first round
    _refused(lambda: game.close_round(teacher), "start the game first")
    game.start(teacher, now=100.0)
    assert game.status == "running" and not game.history
    assert game.seat_view(ann.token)["game"]["waiting_for"] == ["cloud-b", "west-aidc"]
    game.submit(bo.token, {human.PRICE: 5.0}, now=110.0)
    game.submit(bo.token, {human.PRICE: 5.5}, now=111.0)  # the last one before the round closes counts
    assert not game.history
    game.submit(cy.token, {}, now=112.0)  # an empty decision: the computer decides every field
    assert [r.reason for r in game.history] == ["all decided"]
    assert game.model.day == 10 and game.pending == {}
    assert [(d["firm"], d.get(human.PRICE)) for d in game.decision_log] == [
        ("cloud-a", 4.0),
        ("cloud-b", 5.5),
        ("west-aidc", None),
    ]


def test_the_timer_closes_a_round_and_a_pause_stops_it(game):
    game, teacher = game
    ann = game.join(game.code, "Ann")
    game.start(teacher, now=1000.0)
    assert game.seconds_left(1000.0) == 60.0
    assert not game.tick(1059.9)
    game.pause(teacher, now=1030.0)
    assert not game.tick(1200.0)  # paused: the clock stands
    assert game.seconds_left(1200.0) == pytest.approx(30.0)
    game.resume(teacher, now=1200.0)  # Ann has not decided: the round stays open
    assert not game.history and game.status == "running"
    assert not game.tick(1229.0)
    assert game.tick(1230.0)
    assert [r.reason for r in game.history] == ["timer"] and game.model.day == 10
    assert game.seconds_left(1230.0) == 60.0  # the next round's clock starts as the last one closes
    game.close_round(teacher, now=1240.0)
    assert [r.reason for r in game.history] == ["timer", "teacher"]
    game.kick(teacher, "ann", now=1250.0)
    _refused(lambda: game.submit(ann.token, {}), "Ann was removed", error=AuthError)
    _refused(lambda: game.join(game.code, "Ann"), "Ann was removed", error=AuthError)
    game.end(teacher, now=1260.0)
    assert game.status == "ended" and game.seconds_left(1270.0) is None
    _refused(lambda: game.close_round(teacher), "the game has ended")
    _refused(lambda: game.join(game.code, "Zed"), "the game has ended")
    _refused(lambda: game.end(teacher), "ended already")
    assert not math.isnan(game.model.daily_table().token_price_cny_per_mtok.iloc[-1])


def test_students_on_many_threads_lose_no_decision_and_the_file_agrees(tmp_path):
    """The server's sessions run on threads: seven students submit at once, again and again, while the teacher
    advances the rounds; every decision that went into a round is the last its firm committed before the round
    closed, and the game reopened from its file is the same game."""
    import threading

    from game_support import assert_same_tables

    from tokenomy.abm.classroom.game import Game

    game, teacher = new_game(tmp_path, "classroom.days_per_round=30", "classroom.round_seconds=0")
    tickets = [game.join(game.code, f"s{i}") for i in range(7)]
    game.start(teacher)
    errors: list[BaseException] = []

    def student(ticket, k):
        try:
            for j in range(40):
                view = game.seat_view(ticket.token)
                if view["game"]["status"] == "ended":
                    return
                game.submit(ticket.token, view["form"]["computer"] if (j + k) % 2 else {}, now=float(j))
        except GameError as exc:  # the game may end between the view and the submit
            if "ended" not in str(exc):
                errors.append(exc)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=student, args=(t, k)) for k, t in enumerate(tickets)]
    for t in threads:
        t.start()
    for _ in range(5):
        if game.status != "ended":
            game.close_round(teacher, now=100.0)
    for t in threads:
        t.join()
    assert not errors, errors
    played = len(game.history)
    assert played >= 5 and game.model.day == min(30 * played, 365)
    log = game.store.events()
    # replaying the log by hand: the last submit of each firm before each close is what the round used
    expected, pending = [], {}
    for event in log:
        if event.kind == "submit":
            pending[event.payload["firm"]] = event.payload["decision"]
        elif event.kind == "close":
            expected.append({k.split("/")[1]: v for k, v in pending.items()})
            pending = {}
    used: list[dict] = [{} for _ in expected]
    fields = {"round", "firm", "role", "by", "at"}
    for d in game.decision_log:
        used[d["round"] - 1][d["firm"]] = {k: v for k, v in d.items() if k not in fields}
    assert used == expected
    view = game.seat_view(tickets[0].token, now=500.0)
    game.close()
    again = Game.open(tmp_path / "game.sqlite")
    assert again.seat_view(tickets[0].token, now=500.0) == view
    assert_same_tables(again.model, game.model)
    again.close()


def test_a_round_everyone_decided_while_paused_closes_when_the_game_resumes(game):
    game, teacher = game
    ann = game.join(game.code, "Ann")
    game.start(teacher, now=0.0)
    game.pause(teacher, now=1.0)
    game.submit(ann.token, {human.PRICE: 4.0}, now=2.0)
    assert not game.history  # paused: the round waits
    game.resume(teacher, now=3.0)
    assert [r.reason for r in game.history] == ["all decided"] and game.model.day == 10
    assert [e.kind for e in game.store.events()] == ["join", "start", "pause", "submit", "resume", "close"]
