"""Capital arithmetic shared by every investor: annuities, levelised costs and the net present value
of an order that earns only after its lead time.  Textbook forms (e.g. Brealey, Myers and Allen)."""

from __future__ import annotations

import functools

import numpy as np

DISCOUNT_RATE = 0.08  # default cost of capital for generation, storage and lines
HOURS_PER_YEAR = 8760.0


def capital_recovery_factor(rate: np.ndarray | float, years: np.ndarray | float) -> np.ndarray | float:
    """CRF = r (1 + r)^n / ((1 + r)^n - 1): the yearly payment that repays one unit of capital over n years."""
    r = np.asarray(rate, dtype=float)
    n = np.asarray(years, dtype=float)
    safe_r = np.where(r > 1e-9, r, 1.0)
    crf = safe_r / (1.0 - (1.0 + safe_r) ** (-n))
    return np.where(r > 1e-9, crf, 1.0 / np.maximum(n, 1e-9))


def annuity_factor(rate: np.ndarray | float, years: np.ndarray | float) -> np.ndarray | float:
    """Present value of one unit a year for ``years`` years: 1 / CRF."""
    return 1.0 / capital_recovery_factor(rate, years)


def levelised_gpu_hour(
    capex_cny_per_gpu: np.ndarray | float,
    rate: np.ndarray | float,
    life_years: np.ndarray | float,
    utilisation: np.ndarray | float,
    running_cny_per_gpu_hour: np.ndarray | float = 0.0,
    fixed_cny_per_gpu_year: np.ndarray | float = 0.0,
) -> np.ndarray | float:
    """Levelised cost of a used GPU-hour: capex x CRF / (8,760 x utilisation) + fixed costs spread the same way
    + running costs (energy, operations) of a busy hour."""
    use = np.maximum(np.asarray(utilisation, dtype=float), 1e-6)
    yearly = np.asarray(capex_cny_per_gpu, dtype=float) * capital_recovery_factor(rate, life_years)
    return (yearly + np.asarray(fixed_cny_per_gpu_year, dtype=float)) / (HOURS_PER_YEAR * use) + np.asarray(
        running_cny_per_gpu_hour, dtype=float
    )


def npv_per_unit(
    margin_per_year: np.ndarray | float,
    capex: np.ndarray | float,
    rate: np.ndarray | float,
    life_years: np.ndarray | float,
    lead_days: np.ndarray | float,
) -> np.ndarray | float:
    """Net present value of one unit ordered today: the expected yearly margin over its life, discounted
    from the day it arrives, less its capital cost (paid on ordering)."""
    annuity, wait = npv_factors(rate, life_years, lead_days)
    return np.asarray(margin_per_year, dtype=float) * annuity * wait - np.asarray(capex)


def npv_factors(
    rate: np.ndarray | float, life_years: np.ndarray | float, lead_days: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """(annuity factor over the life, discount over the lead time) of :func:`npv_per_unit`."""
    r = np.asarray(rate, dtype=float)
    return annuity_factor(r, life_years), (1.0 + r) ** (-np.asarray(lead_days, dtype=float) / 365.0)


@functools.lru_cache(maxsize=256)
def npv_factors_of(rate: float, life_years: float, lead_days: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`npv_factors` of one unit's numbers, remembered (investors evaluate the same technologies monthly)."""
    return npv_factors(rate, life_years, lead_days)


def rising_cost_quantity(
    value_per_unit: np.ndarray | float, capex_per_unit: np.ndarray | float, scale: np.ndarray | float
) -> np.ndarray:
    """How much to build this period when each unit is worth ``value_per_unit`` (present value of its margins) and
    builders' marginal cost rises with the quantity, the q-th unit costing capex x (1 + q / scale): marginal NPV is
    zero at q = scale x (value / capex - 1), and nothing is built where the value does not beat the capex."""
    value = np.asarray(value_per_unit, dtype=float)
    capex = np.asarray(capex_per_unit, dtype=float)
    ratio = np.divide(value, capex, out=np.zeros(np.broadcast(value, capex).shape), where=capex > 0)
    return np.maximum(np.asarray(scale, dtype=float) * (ratio - 1.0), 0.0)


def rising_cost_total(
    quantity: np.ndarray | float, capex_per_unit: np.ndarray | float, scale: np.ndarray | float
) -> np.ndarray:
    """What ``quantity`` units cost when the q-th costs capex x (1 + q / scale) (:func:`rising_cost_quantity`):
    capex x (quantity + quantity^2 / (2 scale))."""
    q = np.asarray(quantity, dtype=float)
    s = np.asarray(scale, dtype=float)
    extra = np.divide(q * q, 2.0 * s, out=np.zeros(np.broadcast(q, s).shape), where=s > 0)
    return np.asarray(capex_per_unit, dtype=float) * (q + extra)
