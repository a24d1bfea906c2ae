"""The one table of generating technologies: names, which are green, renewable or dispatchable, and the
defaults a scenario starts from (CNY; sources in ``docs/model.md``).  Everything that lists technologies
imports them from here."""

from __future__ import annotations

from typing import Any

import numpy as np

TECHS = ("coal", "gas", "nuclear", "hydro", "wind", "solar")
GREEN_TECHS = ("nuclear", "hydro", "wind", "solar")  # count towards a green-electricity share
RENEWABLE_TECHS = ("hydro", "wind", "solar")  # curtailed when not dispatched
DISPATCHABLE_TECHS = ("coal", "gas")  # offer at a learned markup; forced outages

GREEN = np.array([t in GREEN_TECHS for t in TECHS])
RENEWABLE = np.array([t in RENEWABLE_TECHS for t in TECHS])
DISPATCHABLE = np.array([t in DISPATCHABLE_TECHS for t in TECHS])
VARIABLE = np.array([t in ("wind", "solar") for t in TECHS])  # weather-driven output
HYDRO, WIND, SOLAR = (TECHS.index(t) for t in ("hydro", "wind", "solar"))

# marginal cost, capex per kW, lead time, emissions, mean availability, life, forced outage rate
DEFAULT_TECHNOLOGIES: dict[str, dict[str, Any]] = {
    "coal": dict(
        marginal_cost_cny_per_mwh=330.0,
        capex_cny_per_kw=3800.0,
        lead_days=1095,
        emissions_t_per_mwh=0.85,
        capacity_factor=0.92,
        life_years=30.0,
        forced_outage_rate=0.05,
    ),
    "gas": dict(
        marginal_cost_cny_per_mwh=600.0,
        capex_cny_per_kw=3000.0,
        lead_days=730,
        emissions_t_per_mwh=0.4,
        capacity_factor=0.95,
        life_years=25.0,
        forced_outage_rate=0.04,
    ),
    "nuclear": dict(
        marginal_cost_cny_per_mwh=80.0,
        capex_cny_per_kw=16000.0,
        lead_days=2190,
        emissions_t_per_mwh=0.0,
        capacity_factor=0.9,
        life_years=50.0,
        forced_outage_rate=0.0,
    ),
    "hydro": dict(
        marginal_cost_cny_per_mwh=20.0,
        capex_cny_per_kw=9000.0,
        lead_days=1825,
        emissions_t_per_mwh=0.0,
        capacity_factor=0.45,
        life_years=50.0,
        forced_outage_rate=0.0,
    ),
    "wind": dict(
        marginal_cost_cny_per_mwh=0.0,
        capex_cny_per_kw=4500.0,
        lead_days=365,
        emissions_t_per_mwh=0.0,
        capacity_factor=0.25,
        life_years=25.0,
        forced_outage_rate=0.0,
    ),
    "solar": dict(
        marginal_cost_cny_per_mwh=0.0,
        capex_cny_per_kw=3000.0,
        lead_days=270,
        emissions_t_per_mwh=0.0,
        capacity_factor=0.136,
        life_years=25.0,
        forced_outage_rate=0.0,
    ),
}
