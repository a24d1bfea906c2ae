"""Step 1 of a day, after the events: the exogenous drivers move one day on.

Background load grows; users and firms adopt (Bass diffusion); tokens per request, firms' usage and the
labs' demand and budgets grow at their yearly rates; today's demand noise is drawn for apps, firms and labs
(in that order, as one draw), then the AIDCs' outages.  Each group applies its own rule
(``advance_day``); this stage only takes the day's random numbers in a fixed order.
"""

from __future__ import annotations

from tokenomy.abm.state import World


def advance_drivers(world: World) -> None:
    zp = world.zone_params
    m = world.data["markets"]
    rng = world.rng
    apps, ents, labs = world.apps, world.enterprises, world.labs
    zp["background_load_mw"] *= world._background_growth(zp["background_growth_per_year"])
    draws = rng.standard_normal(apps.n + ents.n + labs.n)
    sigma, persistence = float(m["demand_noise"]), float(m["demand_noise_persistence"])
    apps.advance_day(draws[: apps.n], sigma, persistence)
    ents.advance_day(draws[apps.n : apps.n + ents.n], sigma, persistence)
    labs.advance_day(draws[apps.n + ents.n :], persistence)
    world.aidcs.start_day(world.day)
    world.aidcs.draw_outages(world.day, rng.random((2, world.aidcs.n)))
