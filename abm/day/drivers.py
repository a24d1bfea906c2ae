"""Step 1 of a day, after the events: the exogenous drivers move one day on.

Background load grows; users and firms adopt (Bass diffusion); tokens per request, firms' usage and the
labs' demand and budgets grow at their yearly rates; today's demand noise is drawn for apps, firms and labs
(in that order, one draw), and the AIDCs' outages.  All of it in one compiled call: the groups' own
``advance_day`` methods compute the same for one group at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from agents.base import ar1_log_step, bass_step_in_place
from agents.enterprise import _adopt


def advance_drivers(model: Any) -> None:
    """Exogenous drivers move one day: background load grows, users and firms adopt, labs grow; today's
    random draws (demand noise, outages) are taken in a fixed order from the model's generator."""
    zp = model.zone_params
    m = model.data["markets"]
    rng = model.rng
    apps, ents, labs = model.apps, model.enterprises, model.labs
    a, e, lab = apps.params, ents.params, labs.params
    # AIAppGroup, EnterpriseGroup and TrainingLabGroup.advance_day in one kernel, the background load's growth
    # too; the exponentials of the demand noise by numpy (as before), all at once.  The noise is drawn for apps,
    # firms and labs in that order, as one draw (the same numbers).
    na, ne = apps.n, ents.n
    noise = np.exp(_advance_buyers(
        rng.standard_normal(na + ne + labs.n), float(m["demand_noise"]), float(m["demand_noise_persistence"]),
        zp["background_load_mw"], model._background_growth(zp["background_growth_per_year"]),
        apps._noise_state, a["users"], a["market_size_users"], a["bass_p_per_year"], a["bass_q_per_year"],
        a["mtok_per_request"], apps._request_growth(a["tokens_per_request_growth_per_year"]),
        ents._noise_state, e["adoption"], e["firms"], e["ceiling"], e["bass_p_per_year"], e["bass_q_per_year"],
        e["mtok_per_firm_per_day"], ents._usage_growth(e["usage_growth_per_year"]),
        labs._noise_state, lab["demand_noise"], lab["gpu_hours_per_day"],
        labs._demand_growth(lab["growth_per_year"]), lab["budget_cny_per_day"],
        labs._budget_growth(lab["budget_growth_per_year"])))
    apps.noise, ents.noise, labs.noise = noise[:na], noise[na:na + ne], noise[na + ne:]
    model.aidcs.start_day(model.day)
    model.aidcs.draw_outages(model.day, rng.random((2, model.aidcs.n)))



@njit(cache=True)
def _advance_buyers(draws, sigma, persistence, background_load, background_growth, app_state, users, market_size,
                    app_p, app_q, mtok_per_request, request_growth, ent_state, adoption, firms, ceiling, ent_p, ent_q,
                    mtok_per_firm, usage_growth, lab_state, lab_sigma, gpu_hours, demand_growth, budget, budget_growth):
    """One day of the exogenous drivers, in place (see :meth:`TokenEconomy._advance_drivers`); returns the logs of
    the apps', firms' and labs' demand noise multipliers, in that order."""
    na, ne = app_state.size, ent_state.size
    for z in range(background_load.size):
        background_load[z] *= background_growth[z]
    log_noise = np.empty(draws.size)
    log_noise[:na] = ar1_log_step(app_state, draws[:na], sigma, persistence)
    bass_step_in_place(users, market_size, app_p, app_q)
    for i in range(na):
        mtok_per_request[i] *= request_growth[i]
    log_noise[na:na + ne] = ar1_log_step(ent_state, draws[na:na + ne], sigma, persistence)
    _adopt(adoption, firms, ceiling, ent_p, ent_q)
    for i in range(ne):
        mtok_per_firm[i] *= usage_growth[i]
    for i in range(gpu_hours.size):
        gpu_hours[i] *= demand_growth[i]
        budget[i] *= budget_growth[i]
    log_noise[na + ne:] = ar1_log_step(lab_state, draws[na + ne:], lab_sigma, persistence)
    return log_noise
