"""Utility: owns generating units in one or more zones and offers them into the power market.

Dispatchable units (coal, gas) offer at marginal cost x (1 + markup), the markup learned by the
utility's strategy; nuclear, hydro, wind and solar offer at marginal cost.  Availability: solar by
hour and season, wind by a seeded daily AR(1) weather process, coal and gas their capacity factor less
seeded forced outages, the rest a constant factor.  Each month a utility builds a technology when the
net present value of its recent margins over the plant's life, from the day it would arrive, beats the
capital cost at the cost of capital.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tokenomy.agents.base import Group, GroupAgent, Pipeline
from tokenomy.agents.finance import DISCOUNT_RATE, npv_factors_of, rising_cost_quantity
from tokenomy.agents.numeric import psum
from tokenomy.agents.strategies import (
    GENERATION_INVESTING,
    POWER_OFFERS,
    Investing,
    PowerOffers,
    Rules,
    markup_learner,
    register,
)
from tokenomy.agents.technologies import DISPATCHABLE, HYDRO, SOLAR, TECHS, WIND


def solar_shape(day_of_year: int) -> np.ndarray:
    """Clear-sky availability per hour (peak ~1) for the given day of year, northern hemisphere."""
    season = np.sin(2 * np.pi * (day_of_year - 80) / 365.0)
    daylength = 12.0 + 2.5 * season
    sunrise = 12.5 - daylength / 2.0
    h = np.arange(24) + 0.5
    shape = np.sin(np.pi * (h - sunrise) / daylength)
    return np.where((h > sunrise) & (h < sunrise + daylength), shape, 0.0) * (0.85 + 0.15 * season)


SOLAR_TABLE = np.array([solar_shape(d) for d in range(367)])  # by day of year (1..366)
SOLAR_MEAN_SHAPE = float(SOLAR_TABLE[1:366].mean())
MARKUP_STEP = 0.005  # the adaptive rule's daily step of the offer markup
MAX_MARKUP = 1.0
# hydro's seasonal swing of its capacity factor, by day of year
HYDRO_SEASON = np.array([1.0 + 0.3 * np.sin(2 * np.pi * (d - 100) / 365.0) for d in range(367)])


class Utility(GroupAgent):
    """One power company."""

    @property
    def capacity_mw(self) -> float:
        return float(self.group.capacity_by_owner()[self.index])

    @property
    def markup(self) -> float:
        return float(self.group.markup[self.index])


class BuildView:
    """What a utility sees when it plans: the day, recent zonal prices (D, Z, 24) and availability of each
    technology (D, Z, 24, T), and the capacity tariff policy pays coal and gas plants (CNY per kW-year)."""

    __slots__ = ("day", "recent_prices", "recent_availability", "capacity_tariff_cny_per_kw_year")

    def __init__(
        self, day: int, recent_prices: np.ndarray, recent_availability: np.ndarray, capacity_tariff: float = 0.0
    ):
        self.day = day
        self.recent_prices = recent_prices
        self.recent_availability = recent_availability
        self.capacity_tariff_cny_per_kw_year = float(capacity_tariff)


@register(POWER_OFFERS, "adaptive")
class AdaptiveMarkupOffers(PowerOffers):
    """Dispatchable units offer at marginal cost x (1 + markup); the markup rises by ``MARKUP_STEP`` when nearly all
    their capacity sold and falls when much went unsold (:class:`AdaptiveMarkup`).  Other units offer at marginal
    cost."""

    def __init__(self, group: UtilityGroup, members: np.ndarray):
        super().__init__(group, members)
        self.learner = markup_learner(self.name, members, group.markup, MARKUP_STEP, MAX_MARKUP)

    def offers(self, group: UtilityGroup, availability_inputs: tuple) -> tuple[np.ndarray, np.ndarray]:
        return _offers(
            availability_inputs, group.unit_capacity_mw, DISPATCHABLE, group.markup, group.unit_owner, group.unit_mc
        )

    def learn(self, group: UtilityGroup, outcome: OfferOutcome, rng: np.random.Generator) -> None:
        self.learner.update(group.markup, outcome.sold_share)


@register(POWER_OFFERS, "roth-erev")
class RothErevMarkupOffers(AdaptiveMarkupOffers):
    """As ``adaptive``, with the markup drawn each day from Roth-Erev propensities reinforced by the dispatch margin
    (:class:`RothErevMarkup`)."""

    def learn(self, group: UtilityGroup, outcome: OfferOutcome, rng: np.random.Generator) -> None:
        self.learner.update(group.markup, outcome.profit_cny, rng)


class OfferOutcome:
    """What a utility's offer rule learns from: the share of its dispatchable capacity that sold, and its dispatch
    margin (revenue at zonal prices less marginal cost)."""

    __slots__ = ("sold_share", "profit_cny")

    def __init__(self, sold_share: np.ndarray, profit_cny: np.ndarray):
        self.sold_share = sold_share
        self.profit_cny = profit_cny


@register(GENERATION_INVESTING, "marginal-npv")
class MarginalNpvBuilding(Investing):
    """Build each technology in a zone up to the quantity whose marginal NPV is zero.  A MW is worth its margin over
    the last month's zonal prices (price less marginal cost, in the hours it was available), taken as the forecast
    over the plant's life from the day it would arrive, plus the capacity tariff where policy pays one for coal and
    gas (China's capacity price for coal power, 2024); building more in a month costs more per MW (the q-th MW costs
    capex x (1 + q / ``build_mw_per_month``)), so the order is build_mw_per_month x (value / capex - 1).  Where a
    price cap keeps scarcity prices from paying for capacity, nothing is built: the missing money."""

    def orders(self, group: UtilityGroup, view: BuildView) -> list:
        orders = []
        if view.recent_prices.shape[0] == 0:
            return orders
        for z in range(len(group.zone_names)):
            owners = [o for o in np.unique(group.unit_owner[group.unit_zone == z]) if group.invest[o]]
            if not owners:
                continue
            owner = int(owners[0])
            for t, tech in enumerate(TECHS):
                tp = group.tech_params[tech]
                scale = tp["build_mw_per_month"]
                if scale <= 0:
                    continue
                mc = tp["marginal_cost_cny_per_mwh"]
                margin = np.maximum(view.recent_prices[:, z, :] - mc, 0.0) * view.recent_availability[:, z, :, t]
                tariff = view.capacity_tariff_cny_per_kw_year * 1000.0 if DISPATCHABLE[t] else 0.0
                annuity, wait = npv_factors_of(DISCOUNT_RATE, tp["life_years"], tp["lead_days"])
                value = (margin.mean() * 8760.0 + tariff) * annuity * wait  # npv_per_unit before the capex
                mw = float(rising_cost_quantity(value, tp["capex_cny_per_kw"] * 1000.0, scale))
                if mw > 0:
                    orders.append((view.day + int(tp["lead_days"]), owner, z, t, mw))
        return orders


class UtilityGroup(Group):
    kind = "utility"

    def __init__(
        self, items: list[dict], zone_names: list[str], technologies: dict, zone_params: dict[str, np.ndarray]
    ):
        super().__init__(items)
        self.tech_params = technologies
        self.zone_names = zone_names
        self.invest = np.array([it["invest"] for it in items], dtype=bool)
        self.markup = self.params["markup"].copy() if self.n else np.zeros(0)  # offer markup of coal and gas
        self.strategy = [it["strategy"] for it in items]
        self.offering = Rules(POWER_OFFERS, self.strategy, self)
        owner, zone, tech, cap, mc, names = [], [], [], [], [], []
        for i, it in enumerate(items):
            for unit in it["units"]:
                owner.append(i)
                zone.append(zone_names.index(unit["zone"]))
                tech.append(TECHS.index(unit["tech"]))
                cap.append(unit["capacity_mw"])
                m = unit["marginal_cost_cny_per_mwh"]
                mc.append(technologies[unit["tech"]]["marginal_cost_cny_per_mwh"] if m is None else m)
                names.append(unit["name"])
        self.unit_owner = np.array(owner, dtype=int)
        self.unit_zone = np.array(zone, dtype=int)
        self.unit_tech = np.array(tech, dtype=int)
        self.unit_capacity_mw = np.array(cap, dtype=float)
        self.unit_mc = np.array(mc, dtype=float)
        self.unit_names = names
        self.zone_params = zone_params  # the model's live zone arrays: events change them
        self.wind_state = np.zeros(len(zone_names))
        self.pipeline = Pipeline()  # (arrival day, (owner, zone, tech), MW)
        self.investing = Rules(GENERATION_INVESTING, [it["investing"] for it in items], self)
        self.available_mw = np.zeros((24, self.unit_capacity_mw.size))
        self.dispatch_mw = np.zeros((24, self.unit_capacity_mw.size))
        self._tech_key: list | None = None
        self._tech_arrays = (np.zeros(0), np.zeros(0))

    # -- availability ---------------------------------------------------------------------------
    def availability(self, day_of_year: int, rng: np.random.Generator) -> np.ndarray:
        """(24, U) share of nameplate each unit can give this day, drawing today's wind weather.

        Wind follows a daily AR(1) weather state per zone (lognormal, mean 1) with hourly noise; solar the
        clear-sky shape of the day scaled by zone quality; hydro a seasonal swing; the rest their capacity
        factor.  Never above 1.
        """
        return _availability(*self._availability_inputs(day_of_year, rng))

    def _availability_inputs(self, day_of_year: int, rng: np.random.Generator) -> tuple:
        """Today's draws (wind weather by zone, its hourly noise, forced outages by unit) and what
        :func:`_availability` needs besides."""
        nz = len(self.zone_names)
        normal = rng.standard_normal(25 * nz)  # the day's weather (nz), then its hourly noise (24, nz)
        outage = rng.random(self.unit_tech.size)
        cf, forced_outage = self._cf_and_forced_outage()
        return (
            self.wind_state,
            normal[:nz],
            normal[nz:].reshape(24, nz),
            outage,
            cf,
            forced_outage,
            HYDRO_SEASON[day_of_year],
            self.zone_params["wind_quality"],
            self.zone_params["solar_quality"],
            SOLAR_TABLE[day_of_year],
            self.unit_zone,
            self.unit_tech,
        )

    def _cf_and_forced_outage(self) -> tuple[np.ndarray, np.ndarray]:
        """:attr:`cf` and :attr:`forced_outage`, rebuilt only when an event changes a technology's setting."""
        tp = self.tech_params
        key = [(tp[t]["capacity_factor"], tp[t]["forced_outage_rate"]) for t in TECHS]  # (a list: no generator)
        if key != self._tech_key:
            self._tech_key = key
            self._tech_arrays = (self.cf, self.forced_outage)
        return self._tech_arrays

    def _technology(self, key: str) -> np.ndarray:
        return np.array([self.tech_params[t][key] for t in TECHS], dtype=float)

    @property
    def cf(self) -> np.ndarray:
        """Mean availability of each technology (read live: events may change it)."""
        return self._technology("capacity_factor")

    @property
    def forced_outage(self) -> np.ndarray:
        return self._technology("forced_outage_rate")

    @property
    def emissions(self) -> np.ndarray:
        return self._technology("emissions_t_per_mwh")

    def offers(self, day_of_year: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(zone (U,), MW (24, U), CNY/MWh (24, U)): today's availability (drawing the day's weather and outages),
        offered by each unit's owner's rule."""
        inputs = self._availability_inputs(day_of_year, rng)
        deciders = self.offering.deciders("offers")
        self.available_mw, price = deciders[0].offers(self, inputs)
        for rule in deciders[1:]:  # each unit as its owner's rule offers it (the day's draws made once, above)
            mine = np.isin(self.unit_owner, rule.members)
            price[:, mine] = rule.offers(self, inputs)[1][:, mine]
        self.available_mw, price = self.offering.over("offers", (self.available_mw, price), self, inputs)
        return self.unit_zone, self.available_mw, price

    def learn(self, dispatch_mw: np.ndarray, revenue: np.ndarray, cost: np.ndarray, rng: np.random.Generator) -> None:
        self.dispatch_mw = dispatch_mw
        sold = _sold_share(self.available_mw, dispatch_mw, DISPATCHABLE, self.unit_tech, self.unit_owner, self.n)
        self.offering.learn(self, OfferOutcome(sold, revenue - cost), rng)

    # -- investment -----------------------------------------------------------------------------
    def plan_builds(
        self, day: int, recent_prices: np.ndarray, recent_availability: np.ndarray, capacity_tariff: float = 0.0
    ) -> list:
        """Orders placed this month [(arrival_day, owner, zone, tech, MW)], from the investing strategy."""
        view = BuildView(day, recent_prices, recent_availability, capacity_tariff)
        orders = [o for rule in self.investing for o in rule.orders(self, view) if o[1] in rule.members]
        orders = self.investing.over("orders", orders, self, view)
        for order in orders:
            self.pipeline.add(order[0], order[1:4], order[4])
        return orders

    def arrivals(self, day: int) -> float:
        """Commission units whose lead time has passed; returns MW added."""
        added = 0.0
        due = self.pipeline.due(day)
        if not due and self.unit_tech.size == self.dispatch_mw.shape[1]:
            return added
        for (owner, z, t), mw in due:
            self.unit_owner = np.append(self.unit_owner, owner)
            self.unit_zone = np.append(self.unit_zone, z)
            self.unit_tech = np.append(self.unit_tech, t)
            self.unit_capacity_mw = np.append(self.unit_capacity_mw, mw)
            self.unit_mc = np.append(self.unit_mc, self.tech_params[TECHS[t]]["marginal_cost_cny_per_mwh"])
            self.unit_names.append(f"{self.names[owner]}-{TECHS[t]}-{day}")
            added += mw
        missing = self.unit_tech.size - self.dispatch_mw.shape[1]
        if missing > 0:  # a new unit has produced nothing yet: its columns of today's dispatch are zero
            pad = np.zeros((24, missing))
            self.dispatch_mw = np.concatenate([self.dispatch_mw, pad], axis=1)
            self.available_mw = np.concatenate([self.available_mw, pad], axis=1)
        return added

    def dispatchable_mw(self) -> np.ndarray:
        """MW of coal and gas each utility owns (what a capacity tariff pays for)."""
        return np.bincount(self.unit_owner, self.unit_capacity_mw * DISPATCHABLE[self.unit_tech], minlength=self.n)

    def capacity_by_owner(self) -> np.ndarray:
        return np.bincount(self.unit_owner, self.unit_capacity_mw, minlength=self.n)

    def describe(self, i: int) -> dict[str, float]:
        mine = self.unit_owner == i
        return {
            "capacity_mw": float(self.unit_capacity_mw[mine].sum()),
            "output_mw": float(self.dispatch_mw[:, mine].sum(axis=1).mean()),
            "markup": float(self.markup[i]),
        }


WIND_PERSISTENCE = 0.7  # AR(1) coefficient of the daily wind weather
WIND_VOLATILITY = 0.45  # standard deviation of the weather state


@njit(cache=True)
def _availability(
    wind_state,
    weather,
    hourly_noise,
    outage,
    cf,
    forced_outage,
    hydro_season,
    wind_quality,
    solar_quality,
    solar_shape,
    unit_zone,
    unit_tech,
):
    """See :meth:`UtilityGroup.availability`; moves ``wind_state`` (Z,) one day on in place."""
    rho, sigma = WIND_PERSISTENCE, WIND_VOLATILITY
    hydro = cf[HYDRO] * hydro_season
    wind_scale = cf[WIND] * wind_quality
    solar_scale = (cf[SOLAR] / SOLAR_MEAN_SHAPE) * solar_quality
    for z in range(wind_state.size):
        wind_state[z] = rho * wind_state[z] + sigma * np.sqrt(1 - rho**2) * weather[z]
    hours = hourly_noise.shape[0]
    out = np.empty((hours, unit_zone.size))
    for h in range(hours):
        for u in range(unit_zone.size):
            z, t = unit_zone[u], unit_tech[u]
            if t == WIND:
                a = wind_scale[z] * np.exp(wind_state[z] - sigma**2 / 2 + hourly_noise[h, z] * 0.15)
            elif t == SOLAR:
                a = solar_shape[h] * solar_scale[z]
            elif t == HYDRO:
                a = hydro
            else:
                # a unit is a fleet of plants: today a random share, up to twice the forced outage rate, is out
                a = cf[t] * (1.0 - 2.0 * forced_outage[t] * outage[u])
            out[h, u] = min(a, 1.0)
    return out


@njit(cache=True)
def _offers(availability_inputs, capacity, dispatchable, markup, unit_owner, marginal_cost):
    """(available MW, offer price) of every unit, (24, U): dispatchable units add their owner's markup."""
    availability = _availability(*availability_inputs)
    unit_tech = availability_inputs[-1]
    hours, n_units = availability.shape
    available = np.empty((hours, n_units))
    price = np.empty((hours, n_units))
    for u in range(n_units):
        offer = marginal_cost[u] * (1.0 + (markup[unit_owner[u]] if dispatchable[unit_tech[u]] else 0.0))
        for h in range(hours):
            available[h, u] = availability[h, u] * capacity[u]
            price[h, u] = offer
    return available, price


@njit(cache=True)
def _sold_share(available, dispatch, dispatchable, unit_tech, unit_owner, n_owners):
    """Share of the dispatchable capacity each utility offered today that sold (0 if it offered none)."""
    hours, n_units = available.shape
    offered = np.zeros(n_owners)
    sold = np.zeros(n_owners)
    column = np.empty(hours)
    for u in range(n_units):
        if dispatchable[unit_tech[u]]:
            # (numpy picks the units by a mask, which lays each unit's hours out together: summed pairwise)
            for h in range(hours):
                column[h] = available[h, u]
            offered[unit_owner[u]] += psum(column)
            for h in range(hours):
                column[h] = dispatch[h, u]
            sold[unit_owner[u]] += psum(column)
    share = np.zeros(n_owners)
    for i in range(n_owners):
        if offered[i] > 0.0:
            share[i] = sold[i] / offered[i]
    return share
