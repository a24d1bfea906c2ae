"""StorageOperator: batteries in one zone that arbitrage from a price forecast.

From tomorrow's forecast prices (a smoothed hourly profile of recent days) it plans to charge in the
cheapest hours and discharge in the dearest, when the spread after losses beats its degradation
cost.  Charge bids carry the most it will pay, discharge offers the least it will take.  Quantities
keep the state of charge feasible if every planned charge clears; when one does not, the model asks
for corrected bids (:meth:`StorageGroup.repair`) and clears again.

It invests on its own account when the net present value of a daily cycle at the spread it has seen,
over the battery's life and from the day it would arrive, beats the system price per kWh.  It also sells
firming to AI data centres that must run on green power: a contract pays the levelised cost of storing a
MWh (capex x CRF / cycles a year, grossed up for losses, plus wear) for every MWh of green energy it
shifts for them each day, and the operator builds the batteries that back those contracts.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tokenomy.agents.base import Group, GroupAgent, Pipeline
from tokenomy.agents.finance import DISCOUNT_RATE, capital_recovery_factor, npv_per_unit, rising_cost_quantity
from tokenomy.agents.numeric import nan_max, nan_min
from tokenomy.agents.strategies import (
    STORAGE_DISPATCH,
    STORAGE_INVESTING,
    Investing,
    Rules,
    StorageDispatch,
    register,
)

CYCLES_PER_YEAR = 330.0


class StorageOperator(GroupAgent):
    """One battery fleet."""

    @property
    def energy_mwh(self) -> float:
        return float(self.group.params["energy_mwh"][self.index])

    @property
    def soc_mwh(self) -> float:
        return float(self.group.soc_mwh[self.index])

    @property
    def firming_contracted_mwh_per_day(self) -> float:
        return float(self.group.firm_contracted_mwh[self.index])


@register(STORAGE_DISPATCH, "forecast-arbitrage")
class ForecastArbitrage(StorageDispatch):
    """Charge in the cheapest forecast hours and discharge in the dearest while the spread pays for losses and
    wear (:meth:`StorageGroup.plan`)."""

    def plan(self, group: StorageGroup, forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        p = group.params
        eta_c, eta_d = group.efficiencies()
        everyone = self.members.size == group.n
        soc = group.soc_mwh if everyone else group.soc_mwh.copy()  # (the kernel moves both on in place)
        spread = group.spread_seen if everyone else group.spread_seen.copy()
        plan = _plan(
            np.ascontiguousarray(forecast, dtype=float),
            soc,
            p["energy_mwh"],
            p["power_mw"],
            p["round_trip_efficiency"],
            p["degradation_cost_cny_per_mwh"],
            eta_c,
            eta_d,
            spread,
        )
        if not everyone:
            group.soc_mwh[self.members], group.spread_seen[self.members] = soc[self.members], spread[self.members]
        return plan


@register(STORAGE_INVESTING, "marginal-npv")
class MarginalNpvStorage(Investing):
    """Merchant batteries up to the quantity whose marginal NPV is zero, plus the batteries its firming contracts
    need.  A MWh of battery is worth a daily cycle at the spread the operator has seen, over its life from the day it
    would arrive; building more in a month costs more per MWh (builders' capacity, sites, grid studies): the q-th
    MWh costs capex x (1 + q / ``build_mwh_per_month``).  So the order is
    q = build_mwh_per_month x (value / capex - 1) where the value beats the capex, else none."""

    def orders(self, group: StorageGroup, view: None) -> np.ndarray:
        p = group.params
        capex = p["capex_cny_per_kwh"] * 1000.0
        value = npv_per_unit(
            group.spread_seen * p["round_trip_efficiency"] * CYCLES_PER_YEAR,
            0.0,
            DISCOUNT_RATE,
            p["life_years"],
            p["lead_days"],
        )
        merchant = np.where(group.invest, rising_cost_quantity(value, capex, p["build_mwh_per_month"]), 0.0)
        firming = np.maximum(group.firm_contracted_mwh / p["round_trip_efficiency"] - group.dedicated_mwh, 0.0)
        group.dedicated_mwh += firming
        return merchant, firming


class StorageGroup(Group):
    kind = "storage"

    def __init__(self, items: list[dict], zone_index: np.ndarray):
        super().__init__(items)
        self.zone = np.asarray(zone_index, dtype=int)
        self.invest = np.array([it["invest"] for it in items], dtype=bool)
        p = self.params
        self.soc_mwh = p["initial_soc"] * p["energy_mwh"] if self.n else np.zeros(0)
        self.green_mwh = np.zeros(self.n)  # how much of the stored energy came from green generation
        self.charge_mw = np.zeros((self.n, 24))
        self.discharge_mw = np.zeros((self.n, 24))
        self.pipeline = Pipeline()  # (arrival day, operator, MWh)
        self.spread_seen = np.zeros(self.n)
        self.firm_contracted_mwh = np.zeros(self.n)  # green energy it shifts for AIDCs each day, MWh
        self.dedicated_mwh = np.zeros(self.n)  # battery energy built (or on order) for those contracts
        self.onsite_mwh = np.zeros(self.n)  # batteries it built at AIDCs to run flexibly connected GPUs in tight hours
        self.onsite_contracted_mwh = np.zeros(self.n)  # of which under contract this month
        self.strategy = [it["strategy"] for it in items]
        self.dispatch = Rules(STORAGE_DISPATCH, self.strategy, self)
        self.investing = Rules(STORAGE_INVESTING, [it["investing"] for it in items], self)

    def efficiencies(self) -> tuple[np.ndarray, np.ndarray]:
        """One-way charge and discharge efficiencies (the round trip split evenly)."""
        one_way = np.sqrt(self.params["round_trip_efficiency"])
        return one_way, one_way

    def plan(self, forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Bids from a (n, 24) price forecast: (charge MW, charge limit price, discharge MW, offer price).

        The i-th cheapest hour is paired with the i-th dearest, and the pairs whose spread pays for
        losses and wear are kept (at most as many hours as the battery needs to fill).  Charge bids
        carry the least dear planned discharge price net of losses and wear; discharge offers the
        dearest planned charge price grossed up.  Quantities are trimmed by :meth:`feasible`.
        """
        if self.n == 0:
            empty = np.zeros((0, 24))
            return empty, empty, empty, empty
        charge, c_price, discharge, d_price = self.plan_steps(forecast)
        return charge, np.repeat(c_price[:, None], 24, axis=1), discharge, np.repeat(d_price[:, None], 24, axis=1)

    def plan_steps(self, forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`plan` with one charge and one discharge price per battery, (n,) (the same in every hour)."""
        return self.dispatch.rows("plan", self, forecast)

    def feasible(self, charge: np.ndarray, discharge: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Trim a schedule so the state of charge stays in [0, energy] however much of it clears.

        Charges are capped as if no discharge cleared (room only from the starting state of charge);
        discharges as if every remaining charge cleared before them.  Both caps are cumulative and
        non-decreasing, so the trimmed hourly quantities stay non-negative.
        """
        eta_c, eta_d = self.efficiencies()
        return _feasible(
            np.ascontiguousarray(charge, dtype=float),
            np.ascontiguousarray(discharge, dtype=float),
            self.soc_mwh,
            self.params["energy_mwh"],
            eta_c,
            eta_d,
        )

    def soc_path(self, charge: np.ndarray, discharge: np.ndarray) -> np.ndarray:
        """(n, 24) state of charge at the end of each hour for accepted quantities."""
        eta_c, eta_d = self.efficiencies()
        return _soc_path(
            np.ascontiguousarray(charge, dtype=float),
            np.ascontiguousarray(discharge, dtype=float),
            self.soc_mwh,
            eta_c,
            eta_d,
        )

    def violations(self, charge: np.ndarray, discharge: np.ndarray) -> bool:
        """Whether accepted quantities take a battery's state of charge below empty or above full in some hour."""
        eta_c, eta_d = self.efficiencies()
        return _violates(
            np.ascontiguousarray(charge, dtype=float),
            np.ascontiguousarray(discharge, dtype=float),
            self.soc_mwh,
            self.params["energy_mwh"],
            eta_c,
            eta_d,
        )

    def repair(self, accepted_charge: np.ndarray, offered_discharge: np.ndarray) -> np.ndarray:
        """New discharge offers consistent with the charges that actually cleared."""
        _, discharge = self.feasible(accepted_charge, offered_discharge)
        return discharge

    def green_fraction(self) -> np.ndarray:
        """Share of the stored energy that is green (what a discharge carries)."""
        return np.divide(self.green_mwh, self.soc_mwh, out=np.zeros(self.n), where=self.soc_mwh > 1e-9)

    def track_green(self, charge: np.ndarray, discharge: np.ndarray, green_share_in: np.ndarray) -> np.ndarray:
        """Update the green content for a settled day and return the green part of each discharge (n, 24).

        Discharges carry the start-of-day green fraction; charges add energy with the green share of
        their zone's generation in that hour.  Call before :meth:`settle` moves the state of charge.
        """
        eta_c, eta_d = self.efficiencies()
        return _track_green(
            np.ascontiguousarray(charge, dtype=float),
            np.ascontiguousarray(discharge, dtype=float),
            np.ascontiguousarray(green_share_in, dtype=float),
            self.soc_mwh,
            self.green_mwh,
            eta_c,
            eta_d,
        )

    def settle(self, charge: np.ndarray, discharge: np.ndarray) -> None:
        self.charge_mw = charge
        self.discharge_mw = discharge
        if self.n:
            self.soc_mwh = self.soc_path(charge, discharge)[:, -1].copy()
            self.green_mwh = np.minimum(np.maximum(self.green_mwh, 0.0), self.soc_mwh)

    def firming_price_cny_per_mwh(self, contracted_mwh: np.ndarray | None = None) -> np.ndarray:
        """What each operator asks for shifting one MWh of green energy through its batteries (S,): what that MWh
        would have earned it in the power market (a daily cycle at the spread it has seen, after losses and wear:
        its opportunity cost), plus wear -- as long as its fleet can take the ``contracted_mwh`` a day; beyond it,
        new batteries must be built, and the price is their levelised cost (capital per cycle at the cost of
        capital, grossed up for losses, plus wear)."""
        p = self.params
        wear = p["degradation_cost_cny_per_mwh"]
        forgone = np.maximum(self.spread_seen * p["round_trip_efficiency"] - wear, 0.0)
        capital = p["capex_cny_per_kwh"] * 1000.0 * capital_recovery_factor(DISCOUNT_RATE, p["life_years"])
        levelised = capital / CYCLES_PER_YEAR / p["round_trip_efficiency"] + wear
        need = np.zeros(self.n) if contracted_mwh is None else contracted_mwh / p["round_trip_efficiency"]
        return np.where(need <= p["energy_mwh"], forgone + wear, levelised)

    def battery_price_cny_per_mwh_day(self) -> np.ndarray:
        """What a new battery costs a day per MWh (S,): its capital at the cost of capital over its life, plus the wear
        of a daily cycle -- the price of an on-site battery contract in a market where batteries are built for them."""
        p = self.params
        capital = p["capex_cny_per_kwh"] * 1000.0 * capital_recovery_factor(DISCOUNT_RATE, p["life_years"])
        return capital / 365.0 + p["degradation_cost_cny_per_mwh"]

    def investment_wish(self) -> tuple[np.ndarray, np.ndarray]:
        """MWh each operator orders this month, from the investing strategy: (merchant, for firming contracts)."""
        return self.investing.rows("orders", self, None)

    def order(self, day: int, mwh: np.ndarray) -> None:
        for i in np.flatnonzero(mwh > 0):
            self.pipeline.add(day + int(self.params["lead_days"][i]), int(i), float(mwh[i]))

    def arrivals(self, day: int) -> np.ndarray:
        added = np.zeros(self.n)
        due = self.pipeline.due(day)
        if not due:
            return added
        for i, mwh in due:
            added[i] += mwh
        p = self.params
        # new batteries have the shape (MW per MWh) of the operator's fleet -- 4 hours where the fleet has none, or so
        # little energy that its ratio is no number (power over a subnormal energy overflows)
        with np.errstate(over="ignore"):
            ratio = np.divide(p["power_mw"], p["energy_mwh"], out=np.full(self.n, 0.25), where=p["energy_mwh"] > 0)
        ratio[~np.isfinite(ratio)] = 0.25
        p["energy_mwh"] += added
        p["power_mw"] += added * ratio
        return added

    def set_param(self, key: str, index: int, value: float) -> None:
        super().set_param(key, index, value)
        self.soc_mwh = np.clip(self.soc_mwh, 0.0, self.params["energy_mwh"])
        self.green_mwh = np.minimum(self.green_mwh, self.soc_mwh)

    def describe(self, i: int) -> dict[str, float]:
        return {
            "energy_mwh": float(self.params["energy_mwh"][i]),
            "power_mw": float(self.params["power_mw"][i]),
            "soc_mwh": float(self.soc_mwh[i]),
            "spread_seen_cny_per_mwh": float(self.spread_seen[i]),
            "firming_mwh_per_day": float(self.firm_contracted_mwh[i]),
        }


# -- compiled kernels: a few loops over 24 hours per battery (numpy's per-call overhead dominates here) --


@njit(cache=True)
def _feasible(charge, discharge, soc, energy, eta_c, eta_d):
    out_c = np.empty_like(charge)
    out_d = np.empty_like(discharge)
    for i in range(charge.shape[0]):
        room = max(energy[i] - soc[i], 0.0) / max(eta_c[i], 1e-12)
        raw_c = prev_c = raw_d = prev_d = 0.0
        for h in range(charge.shape[1]):
            raw_c += charge[i, h]
            cum_c = min(raw_c, room)
            out_c[i, h] = cum_c - prev_c
            prev_c = cum_c
            raw_d += discharge[i, h]
            cum_d = min(raw_d, eta_d[i] * (soc[i] + eta_c[i] * cum_c))
            out_d[i, h] = cum_d - prev_d
            prev_d = cum_d
    return out_c, out_d


@njit(cache=True)
def _soc_path(charge, discharge, soc, eta_c, eta_d):
    path = np.empty_like(charge)
    for i in range(charge.shape[0]):
        level = soc[i]
        for h in range(charge.shape[1]):
            level += charge[i, h] * eta_c[i] - discharge[i, h] / max(eta_d[i], 1e-12)
            path[i, h] = level
    return path


@njit(cache=True)
def _plan(forecast, soc, energy, power, rte, wear, eta_c, eta_d, spread_seen):
    """See :meth:`StorageGroup.plan`; clamps ``soc`` and updates ``spread_seen`` in place."""
    n, hours_per_day = forecast.shape
    half = hours_per_day // 2
    charge = np.zeros((n, hours_per_day))
    discharge = np.zeros((n, hours_per_day))
    charge_price = np.empty(n)
    discharge_price = np.empty(n)
    for i in range(n):
        soc[i] = min(max(soc[i], 0.0), energy[i])
        max_hours = min(np.ceil(energy[i] / max(power[i] * eta_c[i], 1e-12)), float(half))
        order = np.argsort(forecast[i], kind="mergesort")
        f = forecast[i][order]
        profitable = half
        for j in range(half):
            if not f[hours_per_day - 1 - j] * rte[i] - f[j] > wear[i]:
                profitable = j
                break
        hours = int(min(float(profitable), max_hours))
        k = max(hours, 1)
        spread_seen[i] = 0.9 * spread_seen[i] + 0.1 * (f[hours_per_day - 1] - f[0])
        for j in range(hours):
            charge[i, order[j]] = power[i]
            discharge[i, order[hours_per_day - 1 - j]] = power[i]
        charge_price[i] = f[hours_per_day - k] * rte[i] - wear[i]
        discharge_price[i] = f[k - 1] / rte[i] + wear[i]
    charge, discharge = _feasible(charge, discharge, soc, energy, eta_c, eta_d)
    return charge, charge_price, discharge, discharge_price


@njit(cache=True)
def _track_green(charge, discharge, green_share_in, soc, green_mwh, eta_c, eta_d):
    """See :meth:`StorageGroup.track_green`; updates ``green_mwh`` in place."""
    n, hours = charge.shape
    green_out = np.empty_like(discharge)
    for i in range(n):
        fraction = green_mwh[i] / soc[i] if soc[i] > 1e-9 else 0.0
        stored_in = 0.0
        removed = 0.0
        for h in range(hours):
            green_out[i, h] = discharge[i, h] * fraction
            stored_in += charge[i, h] * green_share_in[i, h]
            removed += green_out[i, h]
        green_mwh[i] = green_mwh[i] + stored_in * eta_c[i] - removed / max(eta_d[i], 1e-12)
    return green_out


@njit(cache=True)
def _settle_day(charge, discharge, green_share_in, soc, green_mwh, round_trip_efficiency):
    """:meth:`StorageGroup.track_green`, then :meth:`StorageGroup.settle`, in one call: (green out, new state of charge,
    new green content); updates ``green_mwh`` in place first, as ``track_green`` does."""
    eta = np.sqrt(round_trip_efficiency)  # one way, as StorageGroup.efficiencies
    green_out = _track_green(charge, discharge, green_share_in, soc, green_mwh, eta, eta)
    new_soc = _soc_path(charge, discharge, soc, eta, eta)[:, -1].copy()
    new_green = np.empty_like(new_soc)
    for i in range(new_soc.size):
        new_green[i] = nan_min(nan_max(green_mwh[i], 0.0), new_soc[i])
    return green_out, new_soc, new_green


@njit(cache=True)
def _violates(charge, discharge, soc, energy, eta_c, eta_d):
    path = _soc_path(charge, discharge, soc, eta_c, eta_d)
    for i in range(path.shape[0]):
        for h in range(path.shape[1]):
            if path[i, h] < -1e-9 or path[i, h] > energy[i] + 1e-9:
                return True
    return False
