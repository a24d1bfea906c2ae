"""'Run a class' from the app's start screen: a teacher picks a scenario and a seed, the server makes the game, and
the page becomes the teacher's (its link, with the teacher's key, is the teacher's alone)."""

from __future__ import annotations

import logging

import solara

from tokenomy.abm.classroom.errors import GameError
from tokenomy.abm.errors import one_line
from tokenomy.abm.scenarios import shipped_scenarios
from tokenomy.viz.classroom.hub import HUB, games_dir, teacher_address

log = logging.getLogger("tokenomy.viz.classroom")
MAX_SEED = 2**31 - 1


@solara.component
def RunAClass():
    router = solara.use_router()
    scenario, set_scenario = solara.use_state("classroom")
    seed, set_seed = solara.use_state("1")
    message, set_message = solara.use_state("")
    solara.Title("Tokenomy · run a class")

    def make() -> None:
        try:
            number = int(seed.strip())
        except ValueError:
            set_message(f"the seed is a whole number, not {seed[:20]!r}")
            return
        if not 0 <= number <= MAX_SEED:
            set_message(f"the seed is a whole number from 0 to {MAX_SEED}")
            return
        if scenario not in shipped_scenarios():
            set_message("choose a scenario from the list")
            return
        try:
            hosted, key = HUB.create(games_dir(), scenario, seed=number)
        except GameError as exc:
            set_message(one_line(str(exc)))
            return
        log.warning("game %s made from the start screen, in %s", hosted.game.code, hosted.path)
        router.push(teacher_address(hosted.game.code, key))

    with solara.Column(style={"max-width": "640px", "margin": "24px auto"}), solara.Card("Run a class"):
        solara.Text(
            "Your students run the chain's firms from their own browsers, round by round; the computer runs "
            "the rest. Pick the world and a seed: you get the teacher's page with a join code to project."
        )
        solara.Select("Scenario", values=sorted(shipped_scenarios()), value=scenario, on_value=set_scenario)
        solara.InputText("Seed", value=seed, on_value=set_seed, continuous_update=True)
        solara.Button("Make the game", color="primary", on_click=make)
        if message:
            with solara.Div(attributes={"data-testid": "launch-error"}):
                solara.Error(message, dense=True)
        solara.Text(
            "The teacher's page opens at an address that holds your key: keep it to yourself (project the page "
            "full screen), and bookmark it to come back.",
            style={"font-size": "13px", "color": "#555"},
        )
