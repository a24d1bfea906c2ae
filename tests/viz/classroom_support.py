"""Helpers of the classroom server's tests: a ``tokenomy classroom`` server, and students and a teacher that use its
pages through the widget protocol (:mod:`widget_client`), as a page's JavaScript does: they read what the page
shows, type into its fields and click its buttons, and can send what no page would."""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from browser_support import start_server
from widget_client import WidgetClient

TEACHER_LINE = re.compile(r"teacher:\s+(\S+/teacher\?\S+)")
FILE_LINE = re.compile(r"game file:\s+(\S+)")
# presses a page showed nothing for, which the test pressed again (a person would): listed in the test report
LOST_PRESSES: list[str] = []


def start_classroom(folder: Path, *args: str, scenario: str = "classroom", env: dict[str, str] | None = None):
    """A classroom server with a game (its files in ``folder``): (process, url, join code, teacher key, game file)."""
    proc, url = start_server(
        scenario, ("--games-dir", str(folder), *args), command="classroom", cwd=folder, extra_env=env
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = "\n".join(proc.output_lines)
        teacher, path = TEACHER_LINE.search(text), FILE_LINE.search(text)
        if teacher and path:
            query = parse_qs(urlsplit(teacher.group(1)).query)
            return proc, url, query["game"][0], query["key"][0], Path(path.group(1))
        time.sleep(0.1)
    raise AssertionError("the server did not say the teacher's address:\n" + "\n".join(proc.output_lines[-20:]))


class PageClient(WidgetClient):
    """A page of the classroom, read and used through its widgets."""

    def fields(self) -> dict[str, str]:
        return {s["label"]: cid for cid, s in self.widgets.items() if s.get("_model_name") == "TextFieldModel"}

    def field(self, label: str) -> str:
        found = self.fields().get(label)
        assert found is not None, f"no field {label!r} in {sorted(self.fields())}"
        return found

    def buttons(self) -> dict[str, str]:
        return {
            s["children"][0]: cid
            for cid, s in self.widgets.items()
            if s.get("_model_name") == "BtnModel" and s.get("children") and isinstance(s["children"][0], str)
        }

    def press(self, label: str, settle_s: float = 0.3) -> None:
        self.wait_for(lambda: label in self.buttons(), 30, f"the button {label!r}")
        self.click(self.buttons()[label])
        self.pump(settle_s)

    def act_until(self, act, done, what: str, refused=None, wait_s: float = 10, tries: int = 3) -> int:
        """``act()`` (a press), then wait until ``done()``, as a person watches the page: an act the page shows nothing
        for in ``wait_s`` is done again, at most ``tries`` times in all; ``refused()``, a refusal shown, fails at once.
        Returns the acts it took (:data:`LOST_PRESSES` lists those above 1)."""
        for attempt in range(1, tries + 1):
            act()
            with contextlib.suppress(AssertionError):
                self.wait_for(lambda: done() or (refused is not None and refused()), wait_s, what)
            if refused is not None and refused():
                raise AssertionError(f"refused, waiting for {what}: {self.texts()[-400:]}")
            if done():
                if attempt > 1:
                    LOST_PRESSES.append(f"{what}: {attempt} presses")
                return attempt
        raise AssertionError(f"{tries} presses: still not {what}")

    def type(self, label: str, text: str) -> None:
        self.update(self.field(label), v_model=text)

    def testid(self, testid: str) -> dict | None:
        """The ``data-*`` attributes of the element with that ``data-testid``, or None."""
        for s in self.widgets.values():
            attributes = s.get("attributes") or {}
            if isinstance(attributes, dict) and attributes.get("data-testid") == testid:
                return attributes
        return None


class Student(PageClient):
    """A student at the join page; :meth:`join` takes a seat."""

    def __init__(self, url: str, code: str = ""):
        super().__init__(url)
        self.start(path=f"/join?code={code}" if code else "/join")

    def join(self, name: str, code: str | None = None) -> None:
        if code is not None:
            self.type("Join code", code)
        self.type("Your name", name)
        self.pump(0.2)
        self.press("Join")
        self.wait_for(lambda: self.seat() or self.testid("join-error"), 30, "the dashboard or a refusal")

    def seat(self) -> dict | None:
        return self.testid("seat")

    def rounds_or_none(self) -> int | None:
        seat = self.seat()
        return int(seat["data-rounds-played"]) if seat else None

    def rounds_played(self) -> int:
        return int(self.seat()["data-rounds-played"])

    def submit(self, values: dict[str, str]) -> None:
        """Type ``values`` into the form (field name -> text) and press Submit."""

        def ready() -> bool:
            form, seat = self.testid("decision-form"), self.seat()
            return bool(
                form
                and seat
                and form["data-round"] == str(int(seat["data-rounds-played"]) + 1)
                and set(values) <= set(self.fields())
                and "Submit decision" in self.buttons()
            )

        self.wait_for(ready, 30, "this round's decision form")
        self.pump(0.2)  # the rest of the form's render
        for name, text in values.items():
            self.type(name, text)
        self.pump(0.2)
        self.press("Submit decision")

    def wait_rounds(self, n: int, timeout_s: float = 60) -> None:
        self.wait_for(lambda: self.seat() and self.rounds_played() >= n, timeout_s, f"{n} rounds played")

    def decide(self, values: dict[str, str], wait_s: float = 15, tries: int = 3) -> int:
        """Submit ``values`` as the firm's decision for the open round until the page says it was sent (its wait page,
        or the round played), as a student watches for it (:meth:`PageClient.act_until`); a refusal fails at once."""
        round_open = self.rounds_played() + 1
        return self.act_until(
            lambda: self.submit(values),
            lambda: self.testid("wait") or self.rounds_played() >= round_open,
            f"the decision for round {round_open} sent",
            refused=lambda: self.testid("form-error"),
            wait_s=wait_s,
            tries=tries,
        )


class Teacher(PageClient):
    def __init__(self, url: str, code: str, key: str):
        super().__init__(url)
        self.start(path=f"/teacher?game={code}&key={key}")

    def state(self) -> dict:
        """The teacher-state element's attributes ({} while the page is being drawn)."""
        return self.testid("teacher-state") or {}

    def press_until(self, label: str, done, what: str, wait_s: float = 10, tries: int = 3) -> int:
        """Press ``label`` until ``done()``, as a teacher watches the page (:meth:`PageClient.act_until`)."""
        return self.act_until(lambda: self.press(label), done, what, wait_s=wait_s, tries=tries)
