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

__all__ = [
    "Lesson",
    "lessons_dir",
    "list_lessons",
    "load_lesson",
    "parse_lesson",
    "sections",
    "SECTIONS",
    "CLASSIC_METRICS",
    "DIRECTIONS",
]

FENCE = "+++"
KEYS = {
    "title",
    "order",
    "scenario",
    "settings",
    "checks",
    "command",
    "market",
    "prediction",
    "timing",
    "levers",
    "reveal",
}
SECTIONS = ("The question", "Steps in the app", "What to watch", "Discussion", "Theory", "Expected outcome")
DIRECTIONS = ("up", "down", "no change")
# what a classic-market lesson can reveal, per market
CLASSIC_METRICS = {
    "call-market": ("price", "quantity", "surplus"),
    "double-auction": ("efficiency", "price"),
    "cobweb": ("ratio", "price"),
    "algorithmic-pricing": ("gain", "price"),
}


@dataclass(frozen=True)
class Lesson:
    name: str  # file stem, e.g. "03-agent-boom"
    title: str
    order: int
    scenario: str  # "" for a classic-market lesson
    settings: tuple[str, ...]  # --set overrides
    checks: tuple[str, ...]  # names of the scenario's expected checks
    command: str  # the CLI command that runs the lesson
    market: str  # "call-market" | "double-auction" | "cobweb" | "algorithmic-pricing" | ""
    body: str  # the Markdown after the front matter
    path: Path = field(compare=False)
    prediction: str = "direction"  # "direction" (up / down / no change) or "number"
    timing: tuple[tuple[str, str], ...] = ()  # (duration, activity) for a 45-minute class
    levers: dict = field(default_factory=dict)  # lever name -> value the lesson sets
    reveal: dict = field(default_factory=dict)  # check (scenario) or metric (classic), label, unit

    @property
    def minutes(self) -> int:
        """The class time the timing adds up to, in minutes."""
        return sum(int(d.split()[0]) for d, _ in self.timing)


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
    prediction = str(meta.get("prediction", "direction"))
    if prediction not in ("direction", "number"):
        raise ScenarioError(f'{path.name}: prediction = {prediction!r}; use "direction" or "number"')
    timing = meta.get("timing", [])
    for item in timing:
        if not (isinstance(item, list) and len(item) == 2 and str(item[0]).split()[0].isdigit()):
            raise ScenarioError(f'{path.name}: timing entries are ["5 min", "what happens"], got {item!r}')
    return Lesson(
        name=path.stem,
        title=str(meta["title"]),
        order=int(meta.get("order", 99)),
        scenario=str(meta.get("scenario", "")),
        settings=tuple(meta.get("settings", [])),
        checks=tuple(meta.get("checks", [])),
        command=str(meta.get("command", "")),
        market=str(meta.get("market", "")),
        body="\n".join(lines[end + 1 :]).lstrip("\n"),
        path=path,
        prediction=prediction,
        timing=tuple((str(a), str(b)) for a, b in timing),
        levers=dict(meta.get("levers", {})),
        reveal=dict(meta.get("reveal", {})),
    )


def sections(lesson: Lesson) -> dict[str, str]:
    """The body's ``## `` sections by heading, in order; text before the first heading is under ""."""
    out: dict[str, list[str]] = {"": []}
    current = ""
    for line in lesson.body.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            out[current] = []
        elif not line.startswith("# "):
            out[current].append(line)
    return {k: "\n".join(v).strip() for k, v in out.items() if k or "\n".join(v).strip()}


def list_lessons(directory: Path | None = None) -> list[Lesson]:
    """Every lesson, in teaching order."""
    folder = directory or lessons_dir()
    return sorted(
        (parse_lesson(p) for p in folder.glob("*.md") if p.name != "README.md"),
        key=lambda lesson: (lesson.order, lesson.name),
    )


def load_lesson(name: str, directory: Path | None = None) -> Lesson:
    """One lesson by file stem (``03-agent-boom``) or by the stem without its number (``agent-boom``)."""
    lessons = list_lessons(directory)
    for lesson in lessons:
        if name in (lesson.name, lesson.name.split("-", 1)[-1]):
            return lesson
    raise ScenarioError(f"unknown lesson '{name}'; lessons: {', '.join(x.name for x in lessons)}")
