"""Step 1 of a day, after the events: the exogenous drivers move one day on.

Background load grows; users and firms adopt (Bass diffusion); tokens per request, firms' usage and the
labs' demand and budgets grow at their yearly rates; today's demand noise is drawn for apps, firms and labs
(in that order, as one draw), then the AIDCs' outages.  Each group applies its own rule
(``advance_day``); this stage only takes the day's random numbers in a fixed order.
"""

from __future__ import annotations

from typing import Any


def advance_drivers(model: Any) -> None:
    zp = model.zone_params
    m = model.data["markets"]
    rng = model.rng
    apps, ents, labs = model.apps, model.enterprises, model.labs
    zp["background_load_mw"] *= model._background_growth(zp["background_growth_per_year"])
    draws = rng.standard_normal(apps.n + ents.n + labs.n)
    sigma, persistence = float(m["demand_noise"]), float(m["demand_noise_persistence"])
    apps.advance_day(draws[: apps.n], sigma, persistence)
    ents.advance_day(draws[apps.n : apps.n + ents.n], sigma, persistence)
    labs.advance_day(draws[apps.n + ents.n :], persistence)
    model.aidcs.start_day(model.day)
    model.aidcs.draw_outages(model.day, rng.random((2, model.aidcs.n)))
