"""Scripted students, as oTree's bots: they join a game and play it through the same calls a student's page makes
(:meth:`Game.join`, :meth:`Game.seat_view`, :meth:`Game.submit`), for the tests and the benchmark.

A bot's decision in a round depends only on what its seat sees and on its own generator, seeded by the bot's seed
and the round: a bot that plays a round again (after a restart) decides the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tokenomy.agents import human

Style = Callable[[dict[str, Any], np.random.Generator], dict[str, Any]]


def computer(view: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Post what the firm's own computer rule proposes (the game then runs as without the student)."""
    return dict(view["form"]["computer"])


def keep(view: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Submit the form as it comes (its defaults: the decision in force, or the computer's proposal)."""
    return dict(view["form"]["default"])


def varied(view: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Move each number of the computer's proposal by up to 20% either way, within the field's limits; order and
    build a little now and then."""
    limits = {f["name"]: f for f in view["form"]["fields"]}
    out: dict[str, Any] = {}
    for key, value in view["form"]["computer"].items():
        f = limits[key]
        out[key] = float(np.clip(value * rng.uniform(0.8, 1.2), f["min"], f["max"]))
    role = view["seat"]["role"]
    if role == "aidcs" and rng.random() < 0.3:
        out[human.ORDER] = int(rng.integers(0, 3000))
    elif role == "storage":
        low = float(rng.uniform(100.0, 350.0))
        out[human.CHARGE_BELOW], out[human.DISCHARGE_ABOVE] = low, low + float(rng.uniform(100.0, 400.0))
        if rng.random() < 0.2:
            out[human.BUILD_MWH] = float(rng.uniform(0.0, 30.0))
    elif role == "utilities" and rng.random() < 0.2:
        out[human.BUILD_TECH], out[human.BUILD_MW] = (
            str(rng.choice(["solar", "wind", "gas"])),
            float(rng.uniform(0, 20)),
        )
    return out


def price_far_above(view: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """A provider that posts three times its dearest rival's price."""
    me = view["seat"]["firm"]
    rivals = [p for name, p in view["market"]["posted_token_prices_cny_per_mtok"].items() if name != me]
    return {human.PRICE: min(3.0 * max(rivals), 1000.0)}


STYLES: dict[str, Style] = {"computer": computer, "keep": keep, "varied": varied, "price-far-above": price_far_above}


@dataclass
class Bot:
    """One scripted student: its name, how it plays, its seed; its seat once it has joined."""

    name: str
    style: Style = computer
    seed: int = 0
    token: str | None = None
    firm: str | None = None
    submitted: list[int] = field(default_factory=list)  # the rounds it decided

    def join(self, game: Any, now: float = 0.0) -> None:
        ticket = game.join(game.code, self.name, now)
        self.token, self.firm = ticket.token, ticket.firm

    def play(self, game: Any, now: float = 0.0) -> dict[str, Any] | None:
        """Decide the open round (once); the decision submitted, or None if it had decided it already."""
        view = game.seat_view(self.token, now)
        number = view["game"]["rounds_played"] + 1
        if view["game"]["status"] == "ended" or self.firm not in view["game"]["waiting_for"]:
            return None
        rng = np.random.default_rng([self.seed, number, sum(map(ord, self.name))])
        decision = game.submit(self.token, self.style(view, rng), now)
        self.submitted.append(number)
        return decision


def play_to_the_end(game: Any, bots: list[Bot], teacher: str, clock: Callable[[], float] = lambda: 0.0) -> None:
    """Join every bot (again: a bot that joined before rejoins its firm), start the game if it waits, and play round
    after round until the game ends: each round closes when every firm with a student has decided."""
    for bot in bots:
        bot.join(game, clock())
    if game.status == "lobby":
        game.start(teacher, clock())
    while game.status != "ended":
        before = len(game.history)
        for bot in bots:
            if game.status == "ended" or len(game.history) != before:
                break
            bot.play(game, clock())
        if len(game.history) == before and game.status != "ended":  # every bot had decided: nothing left to wait for
            game.close_round(teacher, clock())
