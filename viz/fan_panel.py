"""The fan-of-seeds control beside the price chart: a switch, how many seeds, and a line saying what the band is.

The fan is computed in a background task of the session (:func:`solara.lab.use_task`, in a thread), so the page
never waits for it: the chart is drawn at once with the last fan ready, and again when the new one is.  While
the switch is off no task runs and no fan model is kept.
"""

from __future__ import annotations

import solara
import solara.lab

from tokenomy.abm.seeds import seeds_text
from tokenomy.viz.fan import DEFAULT_FAN_SEEDS, FAN_SEED_CHOICES, Fan, FanRequest, SeedFan, fan_request


def use_fan(model, on: bool, n_seeds: int, day: int) -> tuple[Fan | None, str]:
    """The fan to draw behind the prices on screen up to ``day`` (None while off or not ready) and a line
    describing it."""
    seed_fan = solara.use_memo(SeedFan, [])
    request = fan_request(model, n_seeds, day) if on else None

    def work() -> Fan | None:
        if request is None:
            seed_fan.clear()  # off: the fan models go
            return None
        return seed_fan.compute(request)

    task = solara.lab.use_task(work, dependencies=[request], raise_error=False)
    last = solara.use_ref(None)
    if task.finished and task.value is not None:
        last.current = task.value
    if request is None:
        return None, ""
    if task.error:
        return None, f"The fan stopped: {task.exception}"
    fan = last.current
    if fan is None or fan.request.settings != request.settings or fan.days > day:
        return None, f"Running {request.settings.n_seeds} other seeds up to day {request.days} ..."
    return fan, describe(fan, request, day)


def describe(fan: Fan, request: FanRequest, day_on_screen: int) -> str:
    """What the band shows, in a line: which seeds, to which day, with which shocks."""
    settings = fan.request.settings
    text = (
        f"Shaded: 10th to 90th percentile of seeds {seeds_text(settings.seeds)} (dashed: their median), same "
        f"settings, to day {fan.days}"
    )
    if request.shocks:
        text += "; the shocks you fired act on the same days in every seed"
    if day_on_screen > settings.horizon_days:
        text += f"; the fan ends at the scenario's horizon, day {settings.horizon_days}"
    return text + "."


@solara.component
def FanControls(on: bool, set_on, n_seeds: int, set_n_seeds) -> None:
    """The switch and, while it is on, the number of seeds."""
    with solara.Row(style={"align-items": "center", "gap": "12px", "flex-wrap": "wrap"}):
        solara.Switch(label=f"Show a fan of {n_seeds} seeds", value=on, on_value=set_on)
        if on:
            solara.Select(
                "seeds",
                values=list(FAN_SEED_CHOICES),
                value=n_seeds,
                on_value=set_n_seeds,
                dense=True,
                style={"max-width": "80px"},
            )


__all__ = ["DEFAULT_FAN_SEEDS", "FanControls", "describe", "use_fan"]
