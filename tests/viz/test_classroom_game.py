"""Whole classroom games through the pages: six students (two in Chromium, four as raw websocket clients) play the
classroom scenario to its last round, typing their decisions into the form; and a game whose server is killed
mid-round resumes from its file, the students rejoin with the code and their names, and it plays on to the end.

Both games end with the teacher writing the tables from the page; they must hold every decision as it was typed,
and equal what ``tokenomy classroom replay`` writes from the game's file.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from browser_support import stop_server
from classroom_support import LOST_PRESSES, Student, Teacher, start_classroom

ROUNDS = 13  # classroom: 365 days, 30 a round
DAYS = 365


def decision_for(role: str, round_number: int, player: int) -> dict[str, str]:
    """What player ``player`` types in round ``round_number``: a different value each round, within the limits."""
    k = (round_number + player) % 6
    if role == "providers":
        return {"price_cny_per_mtok": f"{2.5 + 0.5 * k:g}"}
    if role == "aidcs":
        return {"scarcity_rent_cny_per_gpu_hour": f"{0.2 + 0.1 * k:g}"}
    if role == "utilities":
        return {"offer_markup": f"{0.05 * k:g}"}
    return {"charge_below_cny_per_mwh": f"{150 + 10 * k:g}", "discharge_above_cny_per_mwh": f"{450 + 10 * k:g}"}


class BrowserStudent:
    """A student in Chromium: the join page, the form's fields by their labels, the Submit button."""

    def __init__(self, browser, url: str, code: str, name: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 1200})
        self.context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
                else route.abort()
            ),
        )
        self.page = self.context.new_page()
        self.page.goto(f"{url}join?code={code}")
        self.page.get_by_label("Your name").fill(name)
        self.page.get_by_role("button", name="Join").click()
        self.page.wait_for_selector("[data-testid=seat]", timeout=60_000)

    def seat(self) -> dict:
        return self.page.get_by_test_id("seat").evaluate("e => ({...e.dataset})")

    def submit(self, values: dict[str, str]) -> None:
        for name, text in values.items():
            self.page.get_by_label(name, exact=True).fill(text)
        self.page.get_by_role("button", name="Submit decision").click()
        self.page.wait_for_selector("[data-testid=wait]", timeout=30_000)

    def wait_rounds(self, n: int) -> None:
        self.page.wait_for_function(
            f"Number(document.querySelector('[data-testid=seat]')?.dataset.roundsPlayed) >= {n}", timeout=60_000
        )

    def close(self) -> None:
        self.context.close()


def play_round(players: list, number: int, typed: list[tuple]) -> None:
    """Every player submits its decision for round ``number``; then every page shows the round played."""
    for i, p in enumerate(players):
        seat = p.seat()
        values = decision_for(seat["role"] if "role" in seat else seat["data-role"], number, i)
        (p.decide if hasattr(p, "decide") else p.submit)(values)  # a page's Student watches for its wait page
        firm = seat.get("firm") or seat.get("data-firm")
        typed.extend((number, firm, k, float(v)) for k, v in values.items())
    for p in players:
        p.wait_rounds(number)


def check_tables(folder: Path, typed: list[tuple], rounds: int) -> None:
    """The teacher's tables hold every decision as typed, every round, and the scenario's days."""
    decisions = pd.read_csv(folder / "decisions.csv")
    for number, firm, field, value in typed:
        row = decisions[(decisions["round"] == number) & (decisions["firm"] == firm)]
        assert len(row) == 1, (number, firm)
        assert row[field].iloc[0] == value, (number, firm, field)
    assert len(decisions) == len({(n, f) for n, f, _, _ in typed})  # nothing else was decided
    played = pd.read_csv(folder / "rounds.csv")
    assert played["round"].tolist() == list(range(1, rounds + 1))
    assert len(pd.read_csv(folder / "daily.csv")) == DAYS


def replay_equals(game: Path, tables: Path, out: Path) -> None:
    """``tokenomy classroom replay`` of the game's file writes the same CSV files, byte for byte."""
    exe = Path(sys.executable).with_name("tokenomy")
    done = subprocess.run(
        [str(exe), "classroom", "replay", str(game), "--out", str(out), "--format", "csv"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in out.glob("*.csv"))
    assert names == sorted(p.name for p in tables.glob("*.csv"))  # the live game's tables, no more, no fewer
    assert names == ["agents.csv", "daily.csv", "decisions.csv", "hourly.csv", "predictions.csv", "rounds.csv"]
    for name in names:
        assert (out / name).read_bytes() == (tables / name).read_bytes(), name


def write_tables(teacher: Teacher) -> Path:
    teacher.press("Write the game's tables")
    note = teacher.wait_for(lambda: teacher.testid("export-note"), 120, "the tables written")
    assert note is not None
    text = teacher.texts()
    line = next(x for x in text.splitlines() if "files written in" in x)
    return Path(line.split("files written in ", 1)[1].strip())


@pytest.mark.slow
@pytest.mark.browser
def test_six_students_play_the_whole_scenario_through_the_pages(browser, tmp_path):
    proc, url, code, key, game = start_classroom(tmp_path, "--seed", "7")
    players: list = []
    try:
        teacher = Teacher(url, code, key)
        players = [BrowserStudent(browser, url, code, name) for name in ("Ada", "Bo")]
        for name in ("Cy", "Di", "Ed", "Flo"):
            s = Student(url, code)
            s.join(name)
            players.append(s)
        firms = [p.seat().get("firm") or p.seat().get("data-firm") for p in players]
        assert len(set(firms)) == 6  # six firms, one student each
        teacher.wait_for(lambda: teacher.state().get("data-joined") == "6", 20, "six on the roster")
        teacher.press_until("Start the game", lambda: teacher.state().get("data-status") != "lobby", "started")
        typed: list[tuple] = []
        for number in range(1, ROUNDS + 1):
            play_round(players, number, typed)
        for p in players:
            seat = p.seat()
            assert (seat.get("status") or seat.get("data-status")) == "ended"
        teacher.wait_for(lambda: teacher.state().get("data-status") == "ended", 30, "the game's end")
        assert teacher.state()["data-rounds-played"] == str(ROUNDS)
        tables = write_tables(teacher)
        check_tables(tables, typed, ROUNDS)
        teacher.close()
    finally:
        for p in players:
            p.close()
        stop_server(proc)
    replay_equals(game, tables, tmp_path / "replayed")


@pytest.mark.slow
def test_a_killed_server_resumes_the_game_and_the_students_rejoin(tmp_path):
    proc, url, code, key, game = start_classroom(tmp_path, "--seed", "11")
    names = ("Ann", "Ben", "Cat", "Dov", "Eve", "Fay")
    typed: list[tuple] = []
    try:
        students = [Student(url, code) for _ in names]
        for s, name in zip(students, names, strict=True):
            s.join(name)
        firms = {name: s.seat()["data-firm"] for s, name in zip(students, names, strict=True)}
        teacher = Teacher(url, code, key)
        teacher.press_until("Start the game", lambda: teacher.state().get("data-status") != "lobby", "started")
        for number in (1, 2, 3):
            play_round(students, number, typed)
        for i, s in enumerate(students[:3]):  # half the class has decided round 4 when the server dies
            values = decision_for(s.seat()["data-role"], 4, i)
            s.submit(values)
            s.wait_for(lambda s=s: s.testid("wait"), 20, "the wait page")
            typed.extend((4, s.seat()["data-firm"], k, float(v)) for k, v in values.items())
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # no goodbye: the process is gone
        proc.wait(timeout=10)
        for s in students:
            s.close()
    proc, url, code_again, key_again, game_again = start_classroom(tmp_path, "--game", str(game))
    try:
        assert (code_again, key_again, game_again) == (code, key, game)  # the same game, the teacher's same link
        teacher = Teacher(url, code, key)
        teacher.wait_for(lambda: teacher.state().get("data-status"), 20, "the teacher's page")
        assert teacher.state()["data-status"] == "paused" and teacher.state()["data-rounds-played"] == "3"
        students = []
        for name in names:
            s = Student(url, code)
            s.join(name.lower())  # the same name, as typed again
            assert s.seat()["data-firm"] == firms[name]
            students.append(s)
        assert all(s.testid("wait") is not None for s in students[:3])  # their round-4 decisions survived
        assert all(s.testid("wait") is None for s in students[3:])
        teacher.press("Resume")
        for i, s in enumerate(students[3:], start=3):
            values = decision_for(s.seat()["data-role"], 4, i)
            s.submit(values)
            typed.extend((4, s.seat()["data-firm"], k, float(v)) for k, v in values.items())
        for s in students:
            s.wait_rounds(4)
        for number in range(5, ROUNDS + 1):
            play_round(students, number, typed)
        teacher.wait_for(lambda: teacher.state().get("data-status") == "ended", 30, "the game's end")
        tables = write_tables(teacher)
        check_tables(tables, typed, ROUNDS)
    finally:
        stop_server(proc)
    replay_equals(game, tables, tmp_path / "replayed")


@pytest.mark.slow
def test_a_game_served_by_two_worker_processes_is_one_game(tmp_path):
    """``--workers 2``: a page's websocket lands in either worker process.  Teacher pages are opened until both
    workers hold the game (each says so with ``TOKENOMY_CLASSROOM_TIMING``); then six students, whose pages land where
    they land, play it to its horizon (six rounds of 61 days): every decision typed is in the tables the teacher's
    page writes (in its own worker), and they equal what ``classroom replay`` writes from the file."""
    held = re.compile(r"game \S+ held by process (\d+)")
    rounds = 6  # rounds of 61 days: the horizon in half the rounds of the test above
    proc, url, code, key, game = start_classroom(
        tmp_path,
        *("--seed", "13", "--workers", "2", "--set", "classroom.days_per_round=61"),
        env={"TOKENOMY_CLASSROOM_TIMING": "1"},
    )
    pages: list = []
    students: list = []
    try:
        while len(set(held.findall("\n".join(proc.output_lines)))) < 2 and len(pages) < 40:
            page = Teacher(url, code, key)
            page.wait_for(lambda page=page: page.testid("join-code"), 30, "the teacher's page")
            pages.append(page)
        assert len(set(held.findall("\n".join(proc.output_lines)))) == 2, proc.output_lines[-20:]
        teacher = pages.pop(0)
        for page in pages:
            page.close()
        pages = [teacher]
        for name in ("Ann", "Ben", "Cat", "Dov", "Eve", "Fay"):
            s = Student(url, code)
            s.join(name)
            students.append(s)
        assert len({s.seat()["data-firm"] for s in students}) == 6
        teacher.wait_for(lambda: teacher.state().get("data-joined") == "6", 20, "six on the roster")
        teacher.press_until("Start the game", lambda: teacher.state().get("data-status") != "lobby", "started")
        typed: list[tuple] = []
        for number in range(1, rounds + 1):
            play_round(students, number, typed)
        teacher.wait_for(lambda: teacher.state().get("data-status") == "ended", 30, "the game's end")
        if LOST_PRESSES:  # said, not failed: the tables below say whether every decision counted
            warnings.warn(f"presses the page showed nothing for, pressed again: {LOST_PRESSES}", stacklevel=1)
        tables = write_tables(teacher)
        check_tables(tables, typed, rounds)
    finally:
        for p in [*pages, *students]:
            p.close()
        stop_server(proc)
    replay_equals(game, tables, tmp_path / "replayed")
