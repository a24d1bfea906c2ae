"""A class playing a game on one server (not a test): 40 students and a teacher, each student submitting once a
round-length (60 s) at a seeded random moment within the first 10 s of it.

A few students and the teacher are real pages in headless Chromium (each in a browser of its own, as on their own
machines); the rest are raw websocket clients that speak the widget protocol (``tests/viz/widget_client.py``): they
type into the decision form's fields and press its Submit button, as a page does.  Rounds close as the game's rule
says: when every firm with a student has decided (a team's last submission before the close counts; one made after
the close is the team's decision for the next round), or on the timer.

Reported (with the load average before and the machine's busy share during the run):

* submit -> the student's dashboard updated (the wait page, or the next round's form, or, when a teammate's decision
  came just after, the form showing that one: the last before the close counts), ms: median, p90, worst, against the
  target p90 <= 1 s, and the slowest five;
* a round closed -> every student's page showing the new round, ms (the "page updates itself" path);
* the collector's full passes on the server (``viz/classroom/quiet_gc.py``): those the clock planned while the class
  was quiet, and those a page or a press started (every thread of the server waits for one);
* round processing on the server (the call that played the round: the closing decision's check and commit, the
  round's days, the next round opened; from the server's ``TOKENOMY_CLASSROOM_TIMING`` lines), ms: median, worst,
  against the target <= 200 ms;
* no decision lost: every submission is in the game's file, and every round's decision of each firm is the last one
  its team submitted before the round closed;
* every student's final dashboard (the firm's cash) equals the game's state rebuilt from its file.

    .venv/bin/python benchmarks/bench_classroom_game.py [--students 40] [--browsers 3] [--rounds 4] [--round-s 60]
                                                        [--spread-s 10]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "viz"))

from browser_support import CHROMIUM, CHROMIUM_ARGS, stop_server  # noqa: E402
from classroom_support import Student, start_classroom  # noqa: E402

TARGET_P90_MS = 1000.0
TARGET_ROUND_MS = 200.0
FIRMS = 7  # classroom's playable firms
ROUND_LINE = re.compile(r"round (\d+) played in ([0-9.]+) ms")
COLLECTION_LINE = re.compile(r"full collection in ([0-9.]+) ms by ([^,]+),")
CASH = re.compile(r"data-key='cash_cny'>([^<]*)<")
TEAM_SENT = re.compile(r"(\S+) sent your firm's decision for this round")


def decision_for(role: str, wave: int, player: int) -> dict[str, str]:
    k = (wave * 7 + player) % 9
    if role == "providers":
        return {"price_cny_per_mtok": f"{2.5 + 0.25 * k:g}"}
    if role == "aidcs":
        return {"scarcity_rent_cny_per_gpu_hour": f"{0.2 + 0.05 * k:g}"}
    if role == "utilities":
        return {"offer_markup": f"{0.05 * k:g}"}
    return {"charge_below_cny_per_mwh": f"{150 + 10 * k:g}", "discharge_above_cny_per_mwh": f"{450 + 10 * k:g}"}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def process_cpu_s(pid: int) -> float:
    """The processor time (user + system, seconds) the process ``pid`` has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_share() -> tuple[int, int]:
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.submit_ms: list[float] = []
        self.seen_round: list[tuple[int, float]] = []  # (rounds played, when a page first showed it)
        self.submissions: list[tuple[float, str, str, dict]] = []  # (sent at, student, firm, values)
        self.final_cash: dict[str, tuple[str, str]] = {}  # student -> (firm, cash as shown)
        self.errors: list[str] = []
        self.timed: list[tuple[float, str, float]] = []  # (submit -> dashboard ms, student, sent at)

    def add(self, **kw) -> None:
        with self.lock:
            for k, v in kw.items():
                getattr(self, k).append(v)


class WsStudent:
    """A student over the websocket, on its own thread."""

    def __init__(self, url: str, code: str, name: str):
        self.client = Student(url, code)
        self.client.join(name)
        self.name = name
        self.firm = self.client.seat()["data-firm"]
        self.role = self.client.seat()["data-role"]

    def rounds(self) -> int:
        return self.client.rounds_played()

    def watch_until(self, t_end: float, results: Results) -> None:
        last = self.rounds()
        while time.time() < t_end:
            self.client.pump(0.02)
            now = self.rounds()
            if now != last:
                results.add(seen_round=(now, time.time()))
                last = now

    def submit(self, values: dict[str, str], results: Results) -> None:
        c = self.client
        before = c.rounds_played()
        if c.testid("wait") is not None:  # its team's decision for the open round is in: this one replaces it
            c.press("Change my decision", settle_s=0.05)

        def ready() -> bool:
            form, seat = c.testid("decision-form"), c.seat()
            return bool(
                form
                and form["data-round"] == str(int(seat["data-rounds-played"]) + 1)
                and set(values) <= set(c.fields())
                and "Submit decision" in c.buttons()
            )

        c.wait_for(ready, 30, "the form")
        c.pump(0.05)
        before = c.rounds_played()
        for name, text in values.items():
            c.type(name, text)
        c.pump(0.05)
        sent_by = TEAM_SENT.findall(c.texts())  # a teammate's decision shown on the form before the press
        t0 = time.time()
        button = c.buttons()["Submit decision"]
        c.click(button)
        results.add(submissions=(t0, self.name, self.firm, values))
        while True:
            c.pump(0.01)
            # the wait page; the next round; or a teammate's decision that came just after this one (the form shows it)
            if c.testid("wait") is not None or c.rounds_played() > before:
                break
            if c.testid("team-sent") is not None and TEAM_SENT.findall(c.texts()) != sent_by:
                break
            if time.time() - t0 > 30:
                error = c.testid("form-error")
                raise RuntimeError(
                    f"{self.name}: no update 30 s after submitting at {t0:.2f} (rounds played {before}; the button "
                    f"pressed {'still there' if button in c.widgets else 'gone'}; "
                    + ("an error shown: " + c.texts()[-300:] if error is not None else "no error shown")
                    + ")"
                )
        results.add(submit_ms=(time.time() - t0) * 1000)
        results.add(timed=((time.time() - t0) * 1000, self.name, t0))
        if c.rounds_played() > before:
            results.add(seen_round=(c.rounds_played(), time.time()))

    def final(self, results: Results) -> None:
        self.client.wait_for(lambda: self.client.seat()["data-status"] == "ended", 30, "the game's end")
        self.client.pump(0.5)
        found = CASH.findall(self.client.texts())
        with results.lock:
            results.final_cash[self.name] = (self.firm, found[0] if found else "")


def ws_player(student: WsStudent, schedule: list[float], waves: int, player: int, t_end: float, results: Results):
    try:
        for wave, at in enumerate(schedule[:waves]):
            student.watch_until(at, results)
            student.submit(decision_for(student.role, wave, player), results)
        student.watch_until(t_end, results)
        student.final(results)
    except Exception as exc:  # the figures say what failed
        results.add(errors=f"{student.name}: {exc}")


def browser_player(url: str, code: str, name: str, schedule, waves, player, t_end, results, ready, teacher_key=None):
    """A student (or, with ``teacher_key``, the teacher) in a Chromium of its own."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
            if teacher_key is not None:
                page.goto(f"{url}teacher?game={code}&key={teacher_key}")
                page.wait_for_selector("[data-testid=teacher-state]", timeout=60_000)
                ready.set()
                page.get_by_role("button", name="Start the game").click()
                page.wait_for_selector("[data-testid=teacher-state][data-status=running]", timeout=30_000)
                page.wait_for_timeout(max(0.0, t_end - time.time()) * 1000)
                page.get_by_role("button", name="End the game").click()  # the pages' final state is the game's
                page.get_by_role("button", name="Yes, end it").click()
                page.wait_for_selector("[data-testid=teacher-state][data-status=ended]", timeout=30_000)
                page.wait_for_timeout(3000)
                browser.close()
                return
            page.goto(f"{url}join?code={code}")
            page.get_by_label("Your name").fill(name)
            page.get_by_role("button", name="Join").click()
            page.wait_for_selector("[data-testid=seat]", timeout=60_000)
            seat = page.get_by_test_id("seat").evaluate("e => ({...e.dataset})")
            ready.set()
            for wave, at in enumerate(schedule[:waves]):
                page.wait_for_timeout(max(0.0, at - time.time()) * 1000)
                values = decision_for(seat["role"], wave, player)
                if page.query_selector("[data-testid=wait]") is not None:  # replace its team's decision
                    # the wait page goes when the round closes meanwhile: then the form is there anyway
                    with contextlib.suppress(PlaywrightTimeout):
                        page.get_by_role("button", name="Change my decision").click(timeout=3000)
                page.wait_for_selector("[data-testid=decision-form]", timeout=30_000)
                for field, text in values.items():
                    page.get_by_label(field, exact=True).fill(text)
                before = page.get_by_test_id("seat").get_attribute("data-rounds-played")
                team = page.query_selector("[data-testid=team-sent]")  # a teammate's decision shown before the press
                team_before = team.inner_text() if team is not None else ""
                t0 = time.time()
                page.get_by_role("button", name="Submit decision").click()
                results.add(submissions=(t0, name, seat["firm"], values))
                # the wait page; the next round; or a teammate's decision that came just after this one (the form
                # shows it: the last one before the close counts)
                page.wait_for_function(
                    "([b, s]) => document.querySelector('[data-testid=wait]') || "
                    "document.querySelector('[data-testid=seat]').dataset.roundsPlayed !== b || "
                    "(e => e !== null && e.innerText !== s)(document.querySelector('[data-testid=team-sent]'))",
                    arg=[before, team_before],
                    timeout=30_000,
                    polling=10,
                )
                results.add(submit_ms=(time.time() - t0) * 1000)
                results.add(timed=((time.time() - t0) * 1000, name, t0))
            page.wait_for_timeout(max(0.0, t_end - time.time()) * 1000)
            page.wait_for_selector("[data-testid=seat][data-status=ended]", timeout=30_000)
            cash = page.locator("[data-testid=firm-state] td[data-key=cash_cny]").inner_text()
            with results.lock:
                results.final_cash[name] = (seat["firm"], cash)
            browser.close()
    except Exception as exc:
        results.add(errors=f"{name}: {exc}")
        ready.set()


def check_log(path: Path, results: Results) -> list[str]:
    """Every submission in the file, and each round's decisions the last of each team before the close."""
    problems = []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        events = conn.execute("SELECT kind, payload FROM events ORDER BY seq").fetchall()
    submits = [json.loads(p) for k, p in events if k == "submit"]
    if len(submits) != len(results.submissions):
        problems.append(f"{len(results.submissions)} submissions made, {len(submits)} in the file")
    by_name: dict[str, list[dict]] = {}
    for sub in submits:
        by_name.setdefault(sub["name"], []).append(sub["decision"])
    for _, name, _, values in sorted(results.submissions):
        logged = by_name.get(name, [])
        if not logged or any(logged[0].get(k) != float(v) for k, v in values.items()):
            problems.append(f"{name}: a decision made is not in the file as typed")
            break
        logged.pop(0)
    # each round's decisions, replayed from the log: the last submission of each firm before each close
    from tokenomy.abm.classroom.game import Game

    game = Game.open(path)
    try:
        pending: dict[str, dict] = {}
        expected: list[tuple[int, str, dict]] = []
        number = 0
        for kind, payload in events:
            p = json.loads(payload)
            if kind == "submit":
                pending[p["firm"].split("/", 1)[1]] = p["decision"]
            elif kind == "close":
                number += 1
                expected += [(number, firm, d) for firm, d in sorted(pending.items())]
                pending = {}
        got = [
            (
                r["round"],
                r["firm"],
                {k: v for k, v in r.items() if k not in ("round", "firm", "role", "by", "at") and v is not None},
            )
            for r in game.decision_log
        ]
        if sorted(got, key=lambda x: (x[0], x[1])) != expected:
            problems.append("a round's decision is not its team's last before the close")
        from tokenomy.abm.classroom.views import firm_state
        from tokenomy.viz.classroom.parts import number as shown

        cash = {f.name: shown(firm_state(game, f)["cash_cny"]) for f in game.firms}
        for name, (firm, seen) in results.final_cash.items():
            if seen != cash[firm]:
                problems.append(f"{name}'s page shows cash {seen} for {firm}, the file says {cash[firm]}")
        return problems + [f"rounds played: {len(game.history)}"]
    finally:
        game.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, default=40)
    ap.add_argument("--browsers", type=int, default=3, help="students in Chromium (the teacher is one more)")
    ap.add_argument("--rounds", type=int, default=4, help="round-lengths played (each student submits once in each)")
    ap.add_argument("--round-s", type=float, default=60.0)
    ap.add_argument("--spread-s", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=20251205)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (2 cores)", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-class-"))
    team = -(-args.students // FIRMS)
    proc, url, code, key, path = start_classroom(
        folder,
        "--set",
        f"classroom.team_size={team}",
        "--set",
        f"classroom.round_seconds={args.round_s:g}",
        env={"TOKENOMY_CLASSROOM_TIMING": "1"},
    )
    results = Results()
    rng = random.Random(args.seed)
    threads: list[threading.Thread] = []
    try:
        n_ws = args.students - args.browsers
        ws = [WsStudent(url, code, f"ws{i:02d}") for i in range(n_ws)]
        print(f"{n_ws} websocket students joined", flush=True)
        t_start = time.time() + 30 + 8 * args.browsers  # the browsers join before the first round-length
        t_end = t_start + args.rounds * args.round_s
        schedules = [
            [t_start + w * args.round_s + rng.uniform(0, args.spread_s) for w in range(args.rounds)]
            for _ in range(args.students)
        ]
        readies = []
        for b in range(args.browsers + 1):
            ready = threading.Event()
            readies.append(ready)
            teacher = b == args.browsers
            t = threading.Thread(
                target=browser_player,
                args=(
                    url,
                    code,
                    f"web{b}",
                    schedules[n_ws + b] if not teacher else [],
                    args.rounds,
                    n_ws + b,
                    t_end + 3,
                    results,
                    ready,
                    key if teacher else None,
                ),
                daemon=True,
            )
            t.start()
            threads.append(t)
            ready.wait(120)
        print(
            f"{args.browsers} Chromium students and the teacher in; first round-length at +"
            f"{t_start - time.time():.0f} s",
            flush=True,
        )
        for i, s in enumerate(ws):
            t = threading.Thread(
                target=ws_player, args=(s, schedules[i], args.rounds, i, t_end + 3, results), daemon=True
            )
            t.start()
            threads.append(t)
        busy0, cpu0 = busy_share(), process_cpu_s(proc.pid)
        for t in threads:
            t.join(timeout=t_end - time.time() + 120)
        busy1, cpu1 = busy_share(), process_cpu_s(proc.pid)
    finally:
        stop_server(proc)
        (folder / "server.log").write_text("\n".join(proc.output_lines) + "\n")
    for c in ws:
        c.client.close()
    rounds_ms = [float(m.group(2)) for line in proc.output_lines if (m := ROUND_LINE.search(line))]
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        close_at = [at for (at,) in conn.execute("SELECT at FROM events WHERE kind = 'close' ORDER BY seq")]
    update_ms = []
    for played, seen in results.seen_round:
        if 1 <= played <= len(close_at):
            update_ms.append((seen - close_at[played - 1]) * 1000)
    problems = check_log(path, results)
    busy = (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1])
    sub = results.submit_ms
    print(
        f"\n{args.students} students ({args.browsers} in Chromium) and a teacher (Chromium); {args.rounds} "
        f"round-lengths of {args.round_s:g} s, submissions spread over {args.spread_s:g} s; machine busy "
        f"{busy:.0%} during the run; load average after {os.getloadavg()[0]:.2f}"
    )
    if sub:
        print(
            f"submit -> dashboard updated: median {statistics.median(sub):.0f} ms, p90 {pct(sub, 0.9):.0f} ms, "
            f"worst {max(sub):.0f} ms over {len(sub)} submissions (target p90 <= {TARGET_P90_MS:.0f} ms)"
        )
    if update_ms:
        print(
            f"round closed -> a page shows it: median {statistics.median(update_ms):.0f} ms, p90 "
            f"{pct(update_ms, 0.9):.0f} ms, worst {max(update_ms):.0f} ms over {len(update_ms)} page updates"
        )
    if sub and rounds_ms:
        used = cpu1 - cpu0
        print(
            f"server processor time while the class played: {used:.1f} s ({len(sub)} submissions, {len(rounds_ms)} "
            f"rounds): all of it shared out, {used / len(sub) * 1000:.0f} ms a submission or "
            f"{used / len(rounds_ms) * 1000:.0f} ms a round"
        )
    passes = [(float(m.group(1)), m.group(2)) for line in proc.output_lines if (m := COLLECTION_LINE.search(line))]
    planned = [ms for ms, thread in passes if thread == "tokenomy-game-clock"]
    in_the_way = [ms for ms, thread in passes if thread != "tokenomy-game-clock"]
    print(
        f"the collector's full passes after the game was made: {len(planned)} planned by the clock when the class was"
        f" quiet (longest {max(planned, default=0):.0f} ms), {len(in_the_way)} started by a page or a press (longest "
        f"{max(in_the_way, default=0):.0f} ms: every thread waits for it)"
    )
    if rounds_ms:
        print(
            f"round processing: median {statistics.median(rounds_ms):.1f} ms, worst {max(rounds_ms):.1f} ms over "
            f"{len(rounds_ms)} rounds (target <= {TARGET_ROUND_MS:.0f} ms)"
        )
    print("; ".join(problems))
    if results.timed:
        first = min(t for _, _, t in results.timed)
        slowest = sorted(results.timed, reverse=True)[:5]
        print("slowest submissions: " + ", ".join(f"{n} {ms:.0f} ms (at +{t - first:.1f} s)" for ms, n, t in slowest))
    for e in results.errors:
        print("error:", e)
    ok = (
        not results.errors
        and len([p for p in problems if not p.startswith("rounds played")]) == 0
        and sub
        and pct(sub, 0.9) <= TARGET_P90_MS
        and rounds_ms
        and max(rounds_ms) <= TARGET_ROUND_MS
    )
    print("PASS" if ok else "FAIL", f"(files in {folder})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
