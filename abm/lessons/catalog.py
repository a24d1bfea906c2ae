"""The lesson catalogue: Markdown files in docs/lessons/ whose first lines are a TOML front matter
block between ``+++`` lines::

    +++
    title = "Why compute prices spike when agents arrive"
    order = 3
    scenario = "agent-boom"            # a shipped scenario, or "" for a classic-market lesson
    settings = ["apps.*.agent_multiplier=15"]   # --set overrides (the lesson's sliders)
    checks = ["compute-price-spikes"]  # the scenario's expected checks this lesson discusses
    command = "tokenomy check agent-boom"
    +++

``list_lessons()`` and ``load_lesson(name)`` return :class:`Lesson` objects the app can show.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tokenomy.abm.scenarios import ScenarioError

__all__ = ["Lesson", "lessons_dir", "list_lessons", "load_lesson", "parse_lesson"]

FENCE = "+++"
KEYS = {"title", "order", "scenario", "settings", "checks", "command", "market"}


@dataclass(frozen=True)
class Lesson:
    name: str                    # file stem, e.g. "03-agent-boom"
    title: str
    order: int
    scenario: str                # "" for a classic-market lesson
    settings: tuple[str, ...]    # --set overrides
    checks: tuple[str, ...]      # names of the scenario's expected checks
    command: str                 # the CLI command that runs the lesson
    market: str                  # "call-market" | "double-auction" | "cobweb" | ""
    body: str                    # the Markdown after the front matter
    path: Path = field(compare=False)


def lessons_dir() -> Path:
    """The shipped lessons: docs/lessons/, a sibling of the abm package both in the source tree and when
    installed (as ``tokenomy/docs/lessons`` beside ``tokenomy/abm``)."""
    return Path(__file__).resolve().parents[2] / "docs" / "lessons"


def parse_lesson(path: Path) -> Lesson:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    if not lines or lines[0].strip() != FENCE:
        raise ScenarioError(f"{path.name}: a lesson starts with a '+++' TOML front matter block")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == FENCE)
    except StopIteration:
        raise ScenarioError(f"{path.name}: front matter has no closing '+++'") from None
    try:
        meta = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path.name}: malformed front matter: {exc}") from None
    unknown = set(meta) - KEYS
    if unknown:
        raise ScenarioError(f"{path.name}: unknown front matter key(s) {sorted(unknown)}; allowed {sorted(KEYS)}")
    if "title" not in meta:
        raise ScenarioError(f"{path.name}: front matter needs a title")
    return Lesson(name=path.stem, title=str(meta["title"]), order=int(meta.get("order", 99)),
                  scenario=str(meta.get("scenario", "")), settings=tuple(meta.get("settings", [])),
                  checks=tuple(meta.get("checks", [])), command=str(meta.get("command", "")),
                  market=str(meta.get("market", "")), body="\n".join(lines[end + 1:]).lstrip("\n"), path=path)


def list_lessons(directory: Path | None = None) -> list[Lesson]:
    """Every lesson, in teaching order."""
    folder = directory or lessons_dir()
    return sorted((parse_lesson(p) for p in folder.glob("*.md") if p.name != "README.md"),
                  key=lambda lesson: (lesson.order, lesson.name))


def load_lesson(name: str, directory: Path | None = None) -> Lesson:
    """One lesson by file stem (``03-agent-boom``) or by the stem without its number (``agent-boom``)."""
    lessons = list_lessons(directory)
    for lesson in lessons:
        if name in (lesson.name, lesson.name.split("-", 1)[-1]):
            return lesson
    raise ScenarioError(f"unknown lesson '{name}'; lessons: {', '.join(x.name for x in lessons)}")
