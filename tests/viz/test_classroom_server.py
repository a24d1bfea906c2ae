"""``tokenomy classroom``: the pages a class plays a game through, used as a page's JavaScript uses them (raw widget
messages over the websocket: :mod:`classroom_support`), including messages no page would send.

Authorisation is the engine's (a seat's token, the teacher's key), held by the server: these tests check that a
student's session reaches only its own firm and none of the teacher's controls, whatever it sends; that a join
code opens only its game; that a value typed in the form is refused with one line naming the field and the
bound; and that a student whose browser drops comes back to its firm with the code and its name.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from browser_support import stop_server
from classroom_support import PageClient, Student, Teacher, start_classroom

TEACHER_BUTTONS = {"Start the game", "Pause", "Resume", "Advance the round now", "End the game", "Kick"}
TEACHER_TESTIDS = ("join-code", "teacher-state", "roster", "firm-card", "join-qr")


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    proc, url, code, key, path = start_classroom(folder, "--seed", "3")
    yield url, code, key, path
    stop_server(proc)


def submits_logged(path: Path) -> list[dict]:
    """The decisions the game's file holds (read-only, beside the server that writes it)."""
    import json

    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT payload FROM events WHERE kind = 'submit' ORDER BY seq").fetchall()
    return [json.loads(r[0]) for r in rows]


def test_the_teacher_page_opens_only_with_the_teachers_key(classroom):
    url, code, key, _ = classroom
    for game, wrong in [
        (code, ""),
        (code, "x"),
        (code, key[:-1] + ("A" if key[-1] != "A" else "B")),
        (code, key + "x"),
        ("ZZZZZZ", key),
        (code, "%00" * 5),
    ]:
        page = Teacher(url, game, wrong)
        try:
            page.wait_for(lambda page=page: page.testid("teacher-refused"), 20, "the refusal")
            assert not TEACHER_BUTTONS & set(page.buttons()), (wrong, page.buttons())
            assert all(page.testid(t) is None for t in TEACHER_TESTIDS)
            assert code not in page.texts()
        finally:
            page.close()
    teacher = Teacher(url, code, key)
    try:
        teacher.wait_for(lambda: teacher.testid("join-code"), 20, "the teacher's page")
        assert teacher.testid("join-code")["data-code"] == code
    finally:
        teacher.close()


def test_a_join_code_opens_only_its_game(classroom):
    url, code, key, _ = classroom
    stranger = Student(url)
    try:
        stranger.join("Mallory", code="ZZZZZZ")
        assert stranger.seat() is None
        assert "no game has that join code" in stranger.texts()
    finally:
        stranger.close()
    # a second game on the same server, made from the start screen's "Run a class"
    maker = PageClient(url)
    maker.start(path="/class")
    try:
        maker.press("Make the game")
        maker.wait_for(lambda: maker.testid("join-code"), 60, "the second game's teacher page")
        other = maker.testid("join-code")["data-code"]
        assert other != code
        bea = Student(url)
        bea.join("Bea", code=other.lower())  # the code as a student might type it
        assert bea.seat() is not None
        maker.wait_for(
            lambda: (maker.testid("teacher-state") or {}).get("data-joined") == "1", 20, "Bea on the second roster"
        )
        bea.close()
        first = Teacher(url, code, key)
        first.wait_for(lambda: first.testid("teacher-state"), 20, "the first game's page")
        assert "Bea" not in first.texts()  # she joined the other game only
        first.close()
    finally:
        maker.close()


def test_a_student_reaches_only_its_own_firm_whatever_it_sends(classroom, tmp_path):
    url, code, key, path = classroom
    ann, ben = Student(url, code), Student(url, code)
    try:
        ann.join("Ann")
        ben.join("Ben")
        assert ann.seat()["data-firm"] != ben.seat()["data-firm"]
        # nothing of the teacher's page, nor another student, in Ann's session
        assert all(ann.testid(t) is None for t in TEACHER_TESTIDS)
        assert not TEACHER_BUTTONS & set(ann.buttons())
        assert "Ben" not in ann.texts()
        before = len(submits_logged(path))
        field = "price_cny_per_mtok" if ann.seat()["data-role"] == "providers" else None
        assert field is not None, ann.seat()  # the first seats of classroom are its providers
        marker = tmp_path / "hacked"
        refused = {
            "abc": "is not a number",
            "1e9": "1000",  # its bound
            "nan": "price_cny_per_mtok",
            "-3": "0.01",
            f"__import__('os').system('touch {marker}')": "is not a number",
            "1" * 3000: "characters long",  # refused by the guard before the form sees it
        }
        for text, said in refused.items():
            ann.submit({field: text})
            ann.wait_for(
                lambda: ann.testid("form-error") or ann.testid("guard-notice"), 20, f"a refusal of {text[:20]!r}"
            )
            shown = ann.texts()
            assert said in shown, (text[:30], shown[-600:])
            assert "Traceback" not in shown and ann.testid("wait") is None
        assert not marker.exists()
        assert len(submits_logged(path)) == before  # nothing refused reached the game's log
        # messages no page sends: bounds of a control, a widget of its own, a method call on a template
        submit = ann.buttons()["Submit decision"]
        ann.update(submit, disabled=True, children=["Start the game"])
        ann._send(
            "comm_open",
            {
                "comm_id": uuid.uuid4().hex,
                "target_name": "jupyter.widget",
                "data": {"state": {"_model_name": "ButtonModel", "_model_module": "@jupyter-widgets/controls"}},
            },
        )
        ann.pump(1.0)
        assert ann.buttons().get("Submit decision") == submit  # still the form's button, as it was
        # and a decision in bounds goes through, for Ann's firm alone
        ann.submit({field: "4.5"})
        ann.wait_for(lambda: ann.testid("wait"), 20, "the wait page")
        logged = submits_logged(path)[before:]
        assert [(d["firm"], d["name"], d["decision"][field]) for d in logged] == [
            (f"providers/{ann.seat()['data-firm']}", "Ann", 4.5)
        ]
        ben.pump(0.5)
        assert ben.testid("wait") is None  # Ben's firm has not decided
    finally:
        ann.close()
        ben.close()


def test_a_dropped_student_rejoins_its_firm_with_the_code_and_its_name(classroom):
    url, code, _, _ = classroom
    cleo = Student(url, code)
    cleo.join("Cleo")
    firm = cleo.seat()["data-firm"]
    cleo.submit({})  # the form's defaults
    cleo.wait_for(lambda: cleo.testid("wait"), 20, "the wait page")
    cleo.close()  # the browser drops
    back = Student(url)  # a new page, without the code in its address
    try:
        back.join("  cleo ", code=f" {code.lower()} ")
        assert back.seat()["data-firm"] == firm
        assert back.testid("wait") is not None  # her decision is still there
        assert "Cleo submitted" in back.texts()
    finally:
        back.close()


def test_a_kicked_student_is_out_and_cannot_rejoin(classroom):
    url, code, key, _ = classroom
    dan = Student(url, code)
    teacher = Teacher(url, code, key)
    try:
        dan.join("Dan")
        teacher.wait_for(lambda: "Dan" in teacher.texts(), 20, "Dan on the roster")
        select = teacher.find(_model_name="SelectModel", label="Student")[0]
        teacher.update(select, v_model="Dan")
        teacher.pump(0.3)
        teacher.press("Kick")
        dan.wait_for(lambda: "removed from the game" in dan.texts(), 20, "Dan's page saying he is out")
        assert dan.seat() is None and "Submit decision" not in dan.buttons()
        again = Student(url, code)
        again.join("Dan")
        assert again.seat() is None and "removed from the game" in again.texts()
        again.close()
    finally:
        dan.close()
        teacher.close()


@pytest.mark.parametrize(
    "argv",
    [
        ["--workers", "0"],
        ["--workers", "9"],
        ["--game", "no-such-game.sqlite"],
        ["--game", "x.sqlite", "--seed", "3"],
        ["nosuch"],
        ["--seed", "-1"],
        ["--port", "0"],
        ["--host", " "],
    ],
)
def test_bad_classroom_options_give_one_line_and_exit_2(argv, capsys, tmp_path, monkeypatch):
    from tokenomy.abm.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["classroom", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert list(tmp_path.iterdir()) == []  # nothing made


def test_the_classroom_server_keeps_the_apps_origin_and_host_checks(classroom):
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit

    url, code, _, _ = classroom

    def status(path: str, headers: dict[str, str]) -> int:
        try:
            with urllib.request.urlopen(urllib.request.Request(url + path, headers=headers), timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code

    port = urlsplit(url).port
    assert status(f"join?code={code}", {}) == 200
    assert status(f"join?code={code}", {"Origin": "http://evil.example"}) == 403
    assert status("teacher", {"Host": f"evil.example:{port}"}) == 403
    assert status("resourcez", {}) == 404


def test_run_a_class_from_the_apps_first_screen(tmp_path):
    """``tokenomy viz``: the Welcome card's "Run a class", a scenario and a seed, and the teacher's page of a new game
    whose students join it; and the same on a server of two worker processes (the game made in one, the students'
    and the teacher's pages wherever they land)."""
    from browser_support import start_server

    games = tmp_path / "games"
    proc, url = start_server("classroom", extra_env={"TOKENOMY_GAMES_DIR": str(games)})
    try:
        page = PageClient(url)
        page.start()
        page.press("Run a class")
        page.wait_for(lambda: "Make the game" in page.buttons(), 30, "the Run a class page")
        page.type("Seed", "not a seed")
        page.pump(0.2)
        page.press("Make the game")
        page.wait_for(lambda: page.testid("launch-error"), 20, "the seed refused")
        assert "whole number" in page.texts() and not games.exists()
        page.type("Seed", "42")
        page.pump(0.2)
        page.press("Make the game")
        page.wait_for(lambda: page.testid("join-code"), 60, "the teacher's page")
        code = page.testid("join-code")["data-code"]
        made = sorted(p.name for p in games.iterdir() if p.name.endswith((".sqlite", ".teacher-key")))
        assert len(made) == 2 and made[1] == made[0] + ".teacher-key", made  # the game's file and the key
        student = Student(url, code)
        student.join("Ann")
        assert student.seat() is not None
        page.wait_for(lambda: (page.testid("teacher-state") or {}).get("data-joined") == "1", 20, "Ann on the roster")
        student.close()
        page.close()
    finally:
        stop_server(proc)
    games = tmp_path / "x"
    proc, url = start_server("classroom", ("--workers", "2"), extra_env={"TOKENOMY_GAMES_DIR": str(games)})
    try:
        page = PageClient(url)
        page.start(path="/class")
        page.press("Make the game")
        page.wait_for(lambda: page.testid("join-code"), 60, "the teacher's page")
        code = page.testid("join-code")["data-code"]
        students = [Student(url, code) for _ in range(4)]
        for s, name in zip(students, ("Ann", "Bo", "Cy", "Di"), strict=True):
            s.join(name)
            assert s.seat() is not None, s.texts()
        page.wait_for(lambda: (page.testid("teacher-state") or {}).get("data-joined") == "4", 20, "four on the roster")
        for s in students:
            s.close()
        page.close()
    finally:
        stop_server(proc)


def _events(path: Path, kind: str) -> list[dict]:
    import json

    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT payload FROM events WHERE kind = ? ORDER BY seq", (kind,)).fetchall()
    return [json.loads(r[0]) for r in rows]


def test_a_prediction_round_through_the_pages(classroom):
    """The teacher asks from the Predictions tab; a student's page shows the question without a reload and takes one
    number, locked once sent; an out-of-range number is refused in words and not logged; the teacher's tab counts
    the answer; every step is in the game's file."""
    url, code, key, path = classroom
    teacher = Teacher(url, code, key)
    pria = sami = None
    try:
        pria, sami = Student(url, code), Student(url, code)
        pria.join("Pria")
        sami.join("Sami")
        teacher.wait_for(lambda: teacher.find(_model_name="TabsModel"), 30, "the teacher's tabs")
        teacher.update(teacher.find(_model_name="TabsModel")[0], v_model=1)
        opened = len(_events(path, "prediction-open"))
        teacher.press("Ask the class")
        assert len(_events(path, "prediction-open")) == opened + 1
        for page in (pria, sami):  # woken by the question, no reload
            page.wait_for(lambda page=page: "your number" in page.fields(), 30, "the prediction field")
        pria.type("your number", "3.5")
        pria.pump(0.2)
        pria.press("Send")
        pria.wait_for(lambda: "It is locked in" in pria.texts(), 30, "the locked prediction")
        assert "your number" not in pria.fields()
        sami.type("your number", "-5")
        sami.pump(0.2)
        sami.press("Send")
        sami.wait_for(lambda: "between" in sami.texts() or "at least" in sami.texts(), 30, "the refusal")
        answers = [e for e in _events(path, "prediction") if e["prediction"] == opened + 1]
        assert [(a["name"], a["value"]) for a in answers] == [("Pria", 3.5)]
        teacher.wait_for(lambda: "1 answers" in teacher.texts(), 30, "the answer counted on the teacher's tab")
        teacher.press("Close the question")
        assert len(_events(path, "prediction-close")) >= 1
        sami.wait_for(lambda: "No question is open." in sami.texts(), 30, "the question closed on the student's page")
    finally:
        for page in (teacher, pria, sami):
            if page is not None:
                page.close()


def still_deciding(page: Student) -> set[str]:
    """The firms a wait page says are still deciding."""
    line = next((x for x in page.texts().splitlines() if x.startswith("Still deciding: ")), "")
    return set(line.removeprefix("Still deciding: ").split(", ")) - {"", "nobody"}


def test_a_press_as_the_round_closes_counts_for_the_next_round_and_the_form_survives(tmp_path):
    """A round closes while a student has typed her decision and her press is on its way (a browser sends the click
    on the form it shows; the close's redraw crosses it): the press is recorded as her firm's decision for the next
    round, as the rules say, and her page says so.  The form is the same widgets before and after the close (the
    first close adds the round's "why" above it), and it is again when the wait page gives way to it: a press on a
    form the page had just replaced was dropped without a word, and what she typed was lost with it.  Another firm's
    decision reaches her wait page ("still deciding" is drawn a moment later, not lost).  Played on to the horizon
    and past it: after the end a press changes nothing and the page says the game has ended."""
    from tokenomy.abm.classroom.game import Game

    proc, url, code, key, path = start_classroom(tmp_path, "--seed", "4", "--set", "classroom.round_seconds=0")
    ann = ben = cleo = teacher = None
    try:
        ann, ben, cleo = Student(url, code), Student(url, code), Student(url, code)
        teacher = Teacher(url, code, key)
        ann.join("Ann")
        ben.join("Ben")
        cleo.join("Cleo")
        assert ann.seat()["data-role"] == "providers"
        teacher.press("Start the game")
        ann.wait_for(lambda: ann.seat()["data-status"] == "running", 20, "the game running on Ann's page")
        ann.pump(0.3)
        field, button = ann.field("price_cny_per_mtok"), ann.buttons()["Submit decision"]
        ann.type("price_cny_per_mtok", "4.25")
        ann.pump(0.3)
        teacher.press("Advance the round now")  # round 1 closes without Ann's decision
        ann.wait_for(lambda: ann.rounds_played() == 1 and ann.testid("why"), 20, "round 1 played on Ann's page")
        ann.pump(0.3)
        assert ann.fields().get("price_cny_per_mtok") == field and ann.buttons().get("Submit decision") == button
        assert ann.widgets[field]["v_model"] == "4.25"  # what she typed is still there
        ann.click(button)  # the press she made on the form she saw
        ann.wait_for(lambda: ann.testid("wait"), 20, "the wait page")
        assert "your firm's decision for round 2" in ann.texts()
        logged = _events(path, "submit")
        assert [(e["name"], e["decision"]["price_cny_per_mtok"]) for e in logged] == [("Ann", 4.25)]
        assert still_deciding(ann) == {ben.seat()["data-firm"], cleo.seat()["data-firm"]}
        ben.submit({})  # who is still deciding changes on Ann's page: drawn a moment later, not lost
        ann.wait_for(lambda: still_deciding(ann) == {cleo.seat()["data-firm"]}, 20, "Ben's firm decided, on Ann's page")
        teacher.press("Advance the round now")  # round 2, with her decision: the form is back, the same one
        ann.wait_for(lambda: ann.rounds_played() == 2 and ann.testid("decision-form"), 20, "round 3's form")
        assert ann.buttons().get("Submit decision") == button and ann.widgets[field]["v_model"] == "4.25"
        rounds = int(teacher.state()["data-rounds-played"])
        while teacher.state().get("data-status") != "ended":
            teacher.press("Advance the round now")
            teacher.wait_for(
                lambda r=rounds: (
                    int(teacher.state().get("data-rounds-played", -1)) > r
                    or teacher.state().get("data-status") == "ended"
                ),
                30,
                "the next round",
            )
            rounds = int(teacher.state()["data-rounds-played"])
        ann.wait_for(lambda: ann.testid("ended"), 30, "the end on Ann's page")
        ann.click(button)  # a press after the end
        ann.pump(1.0)
        assert ann.testid("ended") is not None and [e["name"] for e in _events(path, "submit")] == ["Ann", "Ben"]
    finally:
        for page in (ann, ben, cleo, teacher):
            if page is not None:
                page.close()
        stop_server(proc)
    game = Game.open(path)
    try:
        assert game.status == "ended" and len(game.history) == game.rounds
        mine = [(d["round"], d["by"], d["price_cny_per_mtok"]) for d in game.decision_log if d["by"] == "Ann"]
        assert mine == [(2, "Ann", 4.25)]  # round 2's decision, not lost, not round 1's
    finally:
        game.close()
