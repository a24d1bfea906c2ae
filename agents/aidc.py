"""AIDC: an AI data centre in one grid zone.

Capacity.  GPUs come in cohorts (vintages) with their capex and commissioning day; a cohort retires at
the end of its economic life.  GPUs are online, mothballed (no idle power, no fixed operations; kept
while the data centre hopes demand returns) or, after ``EXIT_AFTER_MONTHS`` months mothballed, scrapped
(the rest of their book value written off).  Random outages take a share of the fleet down for a few days.

Supply.  Every hour it offers its available GPUs at short-run marginal cost (SRMC): the extra energy of a
busy GPU at the zone's expected price for that hour, (busy kW - idle kW) x PUE x price, plus variable
operations and the cost of the green electricity its obligation ties to each busy hour.  Most of the fleet
is offered at SRMC; the last tranches carry a scarcity rent, a learned markup times the capital cost of a
GPU-hour, which the learner raises only while those tranches sell (capacity tight) and lets fall to zero
otherwise.  So idle capacity clears at marginal cost and the hours where capacity binds carry the
capacity cost (Boiteux 1949; Steiner 1957).

Accounts.  Depreciation (straight line over the life) is a cost in profit; capex is paid on ordering;
fixed operations are paid for online GPUs every day.

Investment.  Monthly it observes what a GPU earned above running costs (price minus SRMC in the hours it
was busy) and forecasts it with its own rule (:mod:`agents.forecasting`: adaptive, trend-following or
switching).  It orders GPUs up to the quantity whose marginal net present value is zero: more GPUs lower the
margin the market pays and wait longer behind the vendors' order book (:mod:`agents.gpu_vendors`).  Orders are
limited by the zone's spare grid connection (:mod:`agents.grid_operator`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
from numba import njit

from tokenomy.agents.base import DAYS_PER_YEAR, Group, GroupAgent, Pipeline
from tokenomy.agents.finance import HOURS_PER_YEAR, annuity_factor, capital_recovery_factor
from tokenomy.agents.forecasting import Forecasters
from tokenomy.agents.gpu_vendors import GpuVendors
from tokenomy.agents.numeric import nan_max, nan_min, nan_to_zero, psum
from tokenomy.agents.strategies import (
    COMPUTE_ASKING,
    GPU_INVESTING,
    ComputeAsking,
    Investing,
    Rules,
    markup_learner,
    register,
)

TRANCHE_SHARE = np.array([0.6, 0.2, 0.1, 0.1])  # of available GPUs, every hour
TRANCHE_RENT = np.array([0.0, 0.25, 0.6, 1.0])  # multiples of the learned rent
RESERVE_MARGIN = 0.1  # online GPUs kept above the recent peak before mothballing the rest
EXIT_AFTER_MONTHS = 6  # mothballed this long: scrapped
REACTIVATE_SHARE = 0.25  # of the mothballed pool brought back per day while capacity binds
PEAK_MEMORY_DAYS = 30
INITIAL_COHORTS = 12
MAX_MARKUP = 3.0  # the adaptive rule's largest scarcity markup
BACKING_ROUND_TRIP = 0.85  # of the on-site battery that runs flexible GPUs in tight hours (NREL ATB)


class AIDC(GroupAgent):
    """One AI data centre."""

    @property
    def gpus(self) -> float:
        """GPUs in service (online and mothballed)."""
        return float(self.group.gpus[self.index])

    @property
    def gpus_online(self) -> float:
        return float(self.group.online[self.index])

    @property
    def gpus_mothballed(self) -> float:
        return float(self.group.mothballed[self.index])

    @property
    def gpus_on_order(self) -> float:
        return float(self.group.pipeline_gpus()[self.index])

    @property
    def ask_cny_per_gpu_hour(self) -> float:
        """Mean over the day of the ask for its first tranche (its short-run marginal cost)."""
        return float(self.group.ask_mid[self.index])

    @property
    def utilization(self) -> float:
        return float(self.group.utilization()[self.index])

    @property
    def forecaster(self) -> str:
        return self.group.items[self.index]["forecaster"]


class CostPlusScarcityAsks(ComputeAsking):
    """SRMC for most of the fleet; the last tranches add a scarcity rent, the group's learned markup times the
    capital cost of a GPU-hour (module docstring).  The rules below differ in how they learn the markup."""

    def __init__(self, group: AIDCGroup, members: np.ndarray):
        super().__init__(group, members)
        self.learner = markup_learner(self.name, members, group.markup, group.params["markup_step"], MAX_MARKUP)

    def asks(self, group: AIDCGroup) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        p = group.params
        qty, price, group.ask_mid = _cost_plus_asks(
            p["busy_kw_per_gpu"],
            p["idle_kw_per_gpu"],
            p["pue"],
            group.power_price_expected,
            p["om_cny_per_gpu_hour"],
            group.green_cost_per_busy_gpu_hour,
            group.markup,
            group.capital_hour,
            group.gpus,
            group.mothballed,
            group.down,
            group.withheld_gpus,
            TRANCHE_SHARE,
            TRANCHE_RENT,
        )
        return group._ask_owner, group._ask_hour, qty, price


@register(COMPUTE_ASKING, "adaptive")
class AdaptiveScarcityAsks(CostPlusScarcityAsks):
    """The markup rises by ``markup_step`` when the top tranche sold out in some hour and falls when much of it
    went unsold (:class:`AdaptiveMarkup`)."""

    def learn(self, group: AIDCGroup, outcome: AskOutcome, rng: np.random.Generator) -> None:
        self.learner.update(group.markup, outcome.top_tranche_fill)


@register(COMPUTE_ASKING, "roth-erev")
class RothErevScarcityAsks(CostPlusScarcityAsks):
    """The markup is drawn each day from Roth-Erev propensities reinforced by profit (:class:`RothErevMarkup`)."""

    def learn(self, group: AIDCGroup, outcome: AskOutcome, rng: np.random.Generator) -> None:
        self.learner.update(group.markup, outcome.profit_cny, rng)


@register(COMPUTE_ASKING, "revenue")
class RevenueLearningAsks(CostPlusScarcityAsks):
    """The markup learns from what the AIDC earns (a derivative follower, Greenwald, Kephart and Tesauro 1999).

    Every ``markup_review_days`` days (each AIDC on its own day of the cycle) it compares what an available GPU
    earned above running costs over the period with the period before: if it earned more it moves its markup on in
    the same direction, if less it turns back; when its earnings did not move (the markup did not bind: a glut, or
    buyers outbidding its top tranche) it moves up if its GPUs were all busy in most of the period's hours and down
    if not -- a peak that fills for a few hours a day is no reason to ask more in a glut.  Steps are symmetric,
    ``markup_step`` x a draw from [0.5, 1.5) (its own noise), and the markup has no ceiling; it stops at 0 (asks at
    short-run marginal cost)."""

    TIE = 0.01  # a change in earnings within 1% counts as none

    def __init__(self, group: AIDCGroup, members: np.ndarray):
        super().__init__(group, members)
        self.direction = np.where(members % 2 == 0, 1.0, -1.0)  # half start by trying up, half by trying down
        self.earned = np.zeros(members.size)
        self.sold_out = np.zeros(members.size)
        self.days = np.zeros(members.size)
        self.last_rate = np.full(members.size, np.nan)
        self.binding = np.zeros(group.n, dtype=bool)  # whether the last review moved on earnings (not the tie rule)

    def learn(self, group: AIDCGroup, outcome: AskOutcome, rng: np.random.Generator) -> None:
        draws = rng.random(self.members.size)
        _derivative_follower(
            group.markup,
            self.members,
            group.params["markup_step"],
            group.params["markup_review_days"],
            outcome.day,
            outcome.margin_per_gpu,
            outcome.full_hours_share,
            draws,
            self.direction,
            self.earned,
            self.sold_out,
            self.days,
            self.last_rate,
            self.binding,
            self.TIE,
        )


class AskOutcome:
    """What an AIDC's ask rule learns from: the largest share of its top tranche sold in an hour, its profit, what an
    available GPU earned above running costs today, the day, and the share of the day's hours its capacity bound."""

    __slots__ = ("top_tranche_fill", "profit_cny", "margin_per_gpu", "day", "full_hours_share")

    def __init__(
        self,
        top_tranche_fill: np.ndarray,
        profit_cny: np.ndarray,
        margin_per_gpu: np.ndarray,
        day: int,
        full_hours_share: np.ndarray | None = None,
    ):
        self.top_tranche_fill = top_tranche_fill
        self.profit_cny = profit_cny
        self.margin_per_gpu = margin_per_gpu
        self.day = day
        # the share of the day's hours its available GPUs were all busy (capacity bound)
        self.full_hours_share = np.zeros_like(margin_per_gpu) if full_hours_share is None else full_hours_share


@register(GPU_INVESTING, "marginal-npv")
class MarginalNpvInvesting(Investing):
    """Order GPUs up to the quantity whose marginal NPV is zero.

    The NPV of one more GPU falls with the quantity ordered, for two reasons.  Its margin falls as the market's
    capacity grows: the price a GPU-day fetches, its margin forecast f (CNY per GPU-day, from its forecaster) plus
    the running cost c it covers (SRMC over the hours it is busy), falls as (G / (G + w x pipeline + q / s))^2 (the
    inverse of the labs' price elasticity of 0.5) -- G the GPUs online in the market, ``pipeline`` those on order or
    being installed, which it weighs by ``supply_line_weight`` w < 1 (Sterman 1989: under-weighting the supply line
    is what makes booms overshoot), and q / s the market's growth if its rivals expand as it does (s its share of
    the market) -- so the margin, (f + c) x impact(q) - c, falls faster than the price.  And its lead time grows
    with the vendors' order book: a GPU ordered behind a backlog B of a vendor
    making V a day is in service after max(``lead_days``, (B + q) / V) days.  So

        NPV(q) = [((f + c) x impact(q) - c - idle energy) x 365 - fixed O&M] x AF(hurdle, life)
                 x (1 + hurdle)^(-lead(q) / 365) - capex

    and the order is the q where NPV(q) = 0 (none if NPV(0) <= 0; at least ``min_order_gpus`` or none).
    """

    def orders(self, group: AIDCGroup, view: InvestmentView) -> np.ndarray:
        p = group.params
        online_each = group.online
        market = max(float(online_each.sum()), 1.0)
        pipeline = float(group.pipeline_gpus().sum())
        share = np.maximum(online_each / market, 1e-3)
        forecast = group.forecasters.forecast() * view.forecast_noise  # CNY per GPU-day
        idle_energy = p["idle_kw_per_gpu"] * p["pue"] / 1000.0 * 24.0 * np.maximum(group.power_price_mean(), 0.0)
        running = np.nanmean(group.srmc(), axis=1) * 24.0 * group.utilization()  # CNY per GPU-day, as busy as today
        annuity = annuity_factor(p["hurdle"], p["life_years"])
        quantity = np.zeros(group.n)
        npv0 = np.full(group.n, np.nan)
        for a in np.flatnonzero(group.invest & np.isfinite(forecast) & (forecast > 0)):
            # AIDC a's numbers as Python floats, taken once: the search evaluates the NPV some 50 times, and the same
            # arithmetic on numpy scalars costs several times more (the results are the same floats)
            npv = functools.partial(
                _gpu_npv,
                market,
                pipeline,
                view.wait_days,
                float(p["supply_line_weight"][a]),
                float(share[a]),
                float(forecast[a] + running[a]),
                float(running[a]),
                float(idle_energy[a]),
                float(p["fixed_om_cny_per_gpu_year"][a]),
                float(annuity[a]),
                1.0 + float(p["hurdle"][a]),
                float(p["lead_days"][a]),
                float(p["capex_cny_per_gpu"][a]),
            )
            npv0[a] = npv(0.0)
            quantity[a] = _zero_of_falling(npv, market)
        group.npv_seen = npv0
        return np.where(quantity >= p["min_order_gpus"], np.floor(quantity), 0.0)


def _gpu_npv(
    market: float,
    pipeline: float,
    wait_days: Callable[[float], float],
    weight: float,
    share: float,
    price_day: float,
    running: float,
    idle_energy: float,
    fixed_om: float,
    annuity: float,
    growth: float,
    lead_days: float,
    capex: float,
    q: float,
) -> float:
    """NPV(q) of :class:`MarginalNpvInvesting` for one AIDC: ``price_day`` what a GPU-day fetches today (margin
    forecast plus running cost), ``growth`` 1 + its hurdle rate."""
    impact = (market / (market + weight * pipeline + q / share)) ** 2
    margin_day = price_day * impact - running - idle_energy
    margin_year = margin_day * DAYS_PER_YEAR - fixed_om
    lead = max(lead_days, wait_days(q))
    return margin_year * annuity * growth ** (-lead / DAYS_PER_YEAR) - capex


def _zero_of_falling(f, scale: float, tolerance: float = 0.5) -> float:
    """The q >= 0 where a falling function f crosses zero (0 if f(0) <= 0), by bracketing and bisection."""
    if not f(0.0) > 0.0:
        return 0.0
    hi = max(scale, 1.0)
    while f(hi) > 0.0 and hi < 1e12:
        hi *= 2.0
    lo = 0.0
    while hi - lo > tolerance:
        mid = 0.5 * (lo + hi)
        if f(mid) > 0.0:
            lo = mid
        else:
            hi = mid
    return lo


class InvestmentView:
    """What an AIDC sees when it orders: its forecast noise this month (A,), and how long vendors would take to ship
    q more GPUs (``wait_days(q)``)."""

    __slots__ = ("forecast_noise", "wait_days")

    def __init__(self, forecast_noise: np.ndarray, wait_days):
        self.forecast_noise = forecast_noise
        self.wait_days = wait_days


class AIDCGroup(Group):
    kind = "aidc"

    def __init__(self, items: list[dict], zone_index: np.ndarray, hub: np.ndarray | None = None):
        super().__init__(items)
        p = self.params
        self.zone = np.asarray(zone_index, dtype=int)
        self.strategy = [it["strategy"] for it in items]
        self.invest = np.array([it["invest"] for it in items], dtype=bool)
        self.markup = p["markup"].copy() if self.n else np.zeros(0)  # scarcity rent, in capital costs of a GPU-hour
        self.asking = Rules(COMPUTE_ASKING, self.strategy, self)
        self.investing = Rules(GPU_INVESTING, [it["investing"] for it in items], self)
        self.forecasters = Forecasters([it["forecaster"] for it in items])
        # cohorts: initial fleet spread evenly over ages 0 .. 2 x age_years (so its mean age is age_years)
        owners, counts, days, capex = [], [], [], []
        for i in range(self.n):
            ages = (np.arange(INITIAL_COHORTS) + 0.5) / INITIAL_COHORTS * 2.0 * p["age_years"][i]
            ages = np.minimum(ages, 0.999 * p["life_years"][i])
            owners += [i] * INITIAL_COHORTS
            counts += [p["gpus"][i] / INITIAL_COHORTS] * INITIAL_COHORTS
            days += list(-np.round(ages * DAYS_PER_YEAR).astype(int))
            capex += [p["capex_cny_per_gpu"][i]] * INITIAL_COHORTS
        self.cohort_owner = np.array(owners, dtype=int)
        self.cohort_gpus = np.array(counts, dtype=float)
        self.cohort_day = np.array(days, dtype=int)
        self.cohort_capex = np.array(capex, dtype=float)
        self.hub = np.zeros(self.n, dtype=bool) if hub is None else np.asarray(hub, dtype=bool)  # in a hub zone
        self.mothballed = np.zeros(self.n)
        self.months_mothballed = np.zeros(self.n, dtype=int)
        self.down = np.zeros(self.n)  # GPUs out of service today (outages)
        self.down_until = np.full(self.n, -1, dtype=int)
        self.pipeline = Pipeline()  # shipped GPUs being installed: (day in service, AIDC index, GPUs)
        self.vendors = GpuVendors(self.n)  # the order book of GPUs not yet shipped
        if self.n:  # ordered before the start (their data centres are ready: they come into service as they ship)
            self.vendors.order(0, p["gpus_on_order"], np.zeros(self.n, dtype=int))
        # market state
        self.power_price_expected = np.full((self.n, 24), 400.0)  # CNY/MWh, its zone, by hour
        self.compute_price_seen = np.full((self.n, 24), np.nan)  # CNY/GPU-hour, smoothed, by hour
        self.green_cost_per_busy_gpu_hour = np.zeros(self.n)
        self.busy_gpus = np.zeros((self.n, 24))
        self.sold_gpus = np.zeros((self.n, 24))
        self.reserved_gpus = np.zeros((self.n, 24))  # GPUs term contracts hold in each hour today
        self.withheld_gpus = np.zeros((self.n, 24))  # not offered in an hour: reserved, or held back in tight hours
        # flexible connections (Norris et al. 2025): GPUs connected on condition that the AIDC holds its draw in its
        # zone's tight hours, and the on-site battery that lets them run then
        self.flexible_gpus = np.zeros(self.n)  # in service
        self.flexible_on_order = np.zeros(self.n)
        self.backing_mw = np.zeros(self.n)  # on-site battery contracted to run flexible GPUs in tight hours
        self.backing_mwh = np.zeros(self.n)
        self.tight = np.zeros((self.n, 24), dtype=bool)  # its zone's tight hours today
        self.battery_gpu_hours = np.zeros(self.n)  # GPU-hours its battery kept busy in tight hours today
        self._no_battery_hours = np.zeros(self.n)  # (read-only) battery_gpu_hours on a day without flexible GPUs
        self.flexible_today = False  # any flexibly connected GPU in service today (set by hold_back)
        self.load_mw = np.zeros((self.n, 24))
        self.ask_mid = np.zeros(self.n)
        self.npv_seen = np.full(self.n, np.nan)
        self._peak_busy = np.zeros((PEAK_MEMORY_DAYS, self.n))
        self._margin_sum = np.zeros(self.n)
        self._margin_days = 0
        self._today = 0
        self.retired_today = np.zeros(self.n)
        self.scrapped_today = np.zeros(self.n)
        self.write_off_today = np.zeros(self.n)
        nt = TRANCHE_SHARE.size
        self._ask_owner = np.repeat(np.arange(self.n), 24 * nt)
        self._ask_hour = np.tile(np.repeat(np.arange(24), nt), self.n)
        self._crf_key: tuple | None = None
        self._crf = np.zeros(self.n)

    # -- capacity ------------------------------------------------------------------------------------
    @property
    def gpus(self) -> np.ndarray:
        """GPUs in service (online and mothballed)."""
        return self.params["gpus"]

    @property
    def online(self) -> np.ndarray:
        return self.gpus - self.mothballed

    @property
    def available(self) -> np.ndarray:
        """GPUs that can be sold today: online and not down."""
        return np.maximum(self.online - self.down, 0.0)

    def pipeline_gpus(self) -> np.ndarray:
        """GPUs ordered and not yet in service, per AIDC: in the vendors' order book or being installed."""
        return self.pipeline.pending(self.n) + self.vendors.backlog_by_aidc()

    def mw_per_busy_gpu(self) -> np.ndarray:
        return self.params["busy_kw_per_gpu"] * self.params["pue"] / 1000.0

    @property
    def capital_hour(self) -> np.ndarray:
        """Capital cost of a GPU-hour at full use, CNY: capex x CRF(hurdle, life) / 8,760."""
        return self.params["capex_cny_per_gpu"] * self.capital_recovery_factor() / HOURS_PER_YEAR

    def capital_recovery_factor(self) -> np.ndarray:
        """CRF(hurdle, life) of each AIDC, recomputed only when an event changes either."""
        p = self.params
        key = (p["hurdle"].tobytes(), p["life_years"].tobytes())
        if self._crf_key != key:
            self._crf_key = key
            self._crf = capital_recovery_factor(p["hurdle"], p["life_years"])
        return self._crf

    def power_price_mean(self) -> np.ndarray:
        return self.power_price_expected.mean(axis=1)

    def srmc(self) -> np.ndarray:
        """(n, 24) short-run marginal cost of a busy GPU-hour, CNY."""
        p = self.params
        return _srmc(
            p["busy_kw_per_gpu"],
            p["idle_kw_per_gpu"],
            p["pue"],
            self.power_price_expected,
            p["om_cny_per_gpu_hour"],
            self.green_cost_per_busy_gpu_hour,
        )

    def obliged_share(self, policy_day: int) -> np.ndarray:
        """Share of each AIDC's GPUs under the green-electricity obligation: those in a hub zone commissioned
        on or after ``policy_day``."""
        mine = (self.cohort_day >= policy_day) & self.hub[self.cohort_owner]
        obliged = np.bincount(self.cohort_owner[mine], self.cohort_gpus[mine], minlength=self.n)
        return np.divide(obliged, self.gpus, out=np.zeros(self.n), where=self.gpus > 0)

    # -- daily decisions --------------------------------------------------------------------------------
    def draw_outages(self, day: int, draws: np.ndarray) -> None:
        """``draws`` (2, n) uniforms: an outage starts with probability rate/365 and takes a random share
        (up to twice ``outage_share``) of the online fleet down for ``outage_days`` days."""
        p = self.params
        self.down, self.down_until = _outages(
            day,
            draws,
            self.down,
            self.down_until,
            self.gpus,
            self.mothballed,
            p["outage_rate_per_year"],
            p["outage_share"],
            p["outage_days"],
        )

    def asks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(AIDC, hour, GPU-hours, CNY/GPU-hour) ask steps, from the asking strategy."""
        return self.asking.steps("asks", self)

    def set_busy(self, busy_gpus: np.ndarray, sold_gpus: np.ndarray) -> np.ndarray:
        """Hourly power load (MW) from the GPUs busy each hour (n, 24); online idle GPUs draw idle power."""
        p = self.params
        self.busy_gpus, self.load_mw = _set_busy(
            busy_gpus, self.gpus, self.mothballed, p["pue"], p["busy_kw_per_gpu"], p["idle_kw_per_gpu"]
        )
        self.sold_gpus = sold_gpus
        return self.load_mw

    def utilization(self) -> np.ndarray:
        """Busy GPU-hours over GPU-hours in service today."""
        return np.divide(self.busy_gpus.sum(axis=1), self.gpus * 24.0, out=np.zeros(self.n), where=self.gpus > 0)

    def learn(
        self,
        day: int,
        hourly_price: np.ndarray,
        top_tranche_fill: np.ndarray,
        zone_price: np.ndarray,
        profit: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        """Learn from today: ``hourly_price`` (n, 24) its compute price, ``top_tranche_fill`` (n,) the largest
        share of its top tranche sold in any hour, ``zone_price`` (n, 24) its zone's power price."""
        srmc = self.srmc()
        self.power_price_expected, self.compute_price_seen, self.mothballed, margin, full = _learn(
            hourly_price,
            zone_price,
            srmc,
            self.power_price_expected,
            self.compute_price_seen,
            self.busy_gpus,
            self.sold_gpus,
            self.gpus,
            self.mothballed,
            self.down,
            self._margin_sum,
            self._peak_busy[day % PEAK_MEMORY_DAYS],
        )
        self._margin_days += 1
        self.asking.learn(self, AskOutcome(top_tranche_fill, profit, margin, day, full), rng)

    # -- monthly decisions ------------------------------------------------------------------------------
    def forget_month(self) -> None:
        """Drop the month's margin record (after a spin-up)."""
        self._margin_sum[:] = 0.0
        self._margin_days = 0

    def observe_month(self) -> None:
        """Feed the month's margin per GPU-day to the forecasters."""
        if self._margin_days:
            self.forecasters.observe(self._margin_sum / self._margin_days)
        self._margin_sum[:] = 0.0
        self._margin_days = 0

    def investment_wish(self, forecast_noise: np.ndarray, vendor_gpus_per_month: float) -> np.ndarray:
        """GPUs each AIDC would order this month, before grid limits."""
        view = InvestmentView(forecast_noise, lambda q: self.vendors.quoted_wait_days(q, vendor_gpus_per_month))
        return self.investing.rows("orders", self, view)

    def review_fleet(self) -> None:
        """Mothball GPUs idle even at the recent peak; scrap a pool mothballed for too long."""
        peak = self._peak_busy.max(axis=0)
        spare = self.online - self.down - np.ceil(peak * (1.0 + RESERVE_MARGIN))
        mothball = np.where(spare > 0.02 * self.gpus, np.floor(spare), 0.0)
        self.mothballed += mothball
        self.months_mothballed = np.where(self.mothballed > 0, self.months_mothballed + 1, 0)
        scrap = np.where(self.months_mothballed >= EXIT_AFTER_MONTHS, self.mothballed, 0.0)
        if scrap.any():
            self.scrapped_today += scrap
            self._remove_oldest(scrap)
            self.mothballed -= scrap
            self.months_mothballed = np.where(scrap > 0, 0, self.months_mothballed)

    def order(self, day: int, gpus: np.ndarray, flexible: np.ndarray | None = None) -> None:
        """Book ``gpus`` (A,) with the vendors, ``flexible`` (A,) of them on flexible connections; each AIDC builds
        for them over its ``lead_days``."""
        self.vendors.order(day, gpus, self.params["lead_days"].astype(int))
        if flexible is not None:
            self.flexible_on_order += flexible

    def hold_back(self, tight: np.ndarray, reserved: np.ndarray) -> None:
        """Today's GPUs not offered in each hour: ``reserved`` (A, 24) under term contracts, and in its zone's
        ``tight`` (A, 24) hours the flexibly connected GPUs its on-site battery cannot run."""
        self.tight = tight
        self.reserved_gpus = reserved
        self.flexible_today = bool(np.count_nonzero(self.flexible_gpus))
        if not self.flexible_today:  # nothing to hold back (most scenarios): skip the arithmetic
            self.withheld_gpus = reserved
            return
        self.withheld_gpus = (
            reserved
            + tight * np.minimum(np.maximum(self.flexible_gpus - self.battery_gpus(tight), 0.0), self.online)[:, None]
        )

    def battery_gpus(self, tight: np.ndarray) -> np.ndarray:
        """(A,) flexibly connected GPUs its on-site battery can run through each of today's tight hours (power and
        energy permitting)."""
        hours = tight.sum(axis=1)
        mw = np.minimum(
            self.backing_mw, np.divide(self.backing_mwh, hours, out=self.backing_mw.copy(), where=hours > 0)
        )
        return np.minimum(mw / self.mw_per_busy_gpu(), self.flexible_gpus)

    def grid_draw(self, load_mw: np.ndarray, busy_gpus: np.ndarray) -> np.ndarray:
        """(A, 24) what the AIDC draws from the grid: its load, less what its on-site battery supplies to flexible
        GPUs busy in tight hours, plus recharging that battery (losses included) spread over its other hours.  Keeps
        the GPU-hours the battery ran today (``battery_gpu_hours``)."""
        if not self.flexible_today:
            self.battery_gpu_hours = self._no_battery_hours
            return load_mw
        firm = np.maximum(self.online - self.flexible_gpus, 0.0)
        ran = self.tight * np.minimum(
            np.maximum(busy_gpus - firm[:, None], 0.0), self.battery_gpus(self.tight)[:, None]
        )
        self.battery_gpu_hours = ran.sum(axis=1)
        if not ran.any():
            return load_mw
        supplied = ran * self.mw_per_busy_gpu()[:, None]
        rte = BACKING_ROUND_TRIP
        other = (~self.tight).sum(axis=1)
        recharge = np.divide(supplied.sum(axis=1) / rte, other, out=np.zeros(self.n), where=other > 0)
        return load_mw - supplied + (~self.tight) * recharge[:, None]

    def arrivals(self, day: int, vendor_gpus_per_month: float) -> np.ndarray:
        """Take today's shipments; commission the GPUs shipped and installed (new cohorts); return how many came
        into service per AIDC."""
        for ready, a, gpus in self.vendors.ship(day, vendor_gpus_per_month):
            self.pipeline.add(ready, a, gpus)
        arrived = np.zeros(self.n)
        if not self.pipeline.any_due(day):
            return arrived
        waiting = self.pipeline_gpus() if self.flexible_on_order.any() else None
        due = self.pipeline.due(day)
        for i, n in due:
            arrived[i] += n
            if waiting is not None and waiting[i] > 0:  # flexibly connected GPUs arrive in proportion to the orders
                flexible = min(n * self.flexible_on_order[i] / waiting[i], self.flexible_on_order[i])
                self.flexible_on_order[i] -= flexible
                self.flexible_gpus[i] += flexible
            self.cohort_owner = np.append(self.cohort_owner, i)
            self.cohort_gpus = np.append(self.cohort_gpus, n)
            self.cohort_day = np.append(self.cohort_day, day)
            self.cohort_capex = np.append(self.cohort_capex, self.params["capex_cny_per_gpu"][i])
        self.params["gpus"] += arrived
        return arrived

    def retire(self, day: int) -> np.ndarray:
        """Retire cohorts at the end of their economic life (mothballed GPUs first); GPUs retired per AIDC."""
        retired = np.zeros(self.n)
        life_years = self.params["life_years"]
        if not _any_at_end_of_life(day, self.cohort_day, self.cohort_owner, self.cohort_gpus, life_years):
            return retired
        life_days = (self.params["life_years"] * DAYS_PER_YEAR)[self.cohort_owner]
        old = (day - self.cohort_day >= life_days) & (self.cohort_gpus > 0)
        if old.any():
            retired = np.bincount(self.cohort_owner[old], self.cohort_gpus[old], minlength=self.n)
            self.flexible_gpus *= np.divide(self.gpus - retired, self.gpus, out=np.zeros(self.n), where=self.gpus > 0)
            self.cohort_gpus[old] = 0.0
            self.params["gpus"] -= retired
            self.mothballed = np.maximum(self.mothballed - retired, 0.0)
            self._drop_empty()
        self.retired_today += retired
        return retired

    def _remove_oldest(self, gpus: np.ndarray) -> None:
        """Remove ``gpus`` per AIDC from its oldest cohorts, writing off their remaining book value."""
        life_days = (self.params["life_years"] * DAYS_PER_YEAR)[self.cohort_owner]
        order = np.argsort(self.cohort_day, kind="stable")
        left = gpus.astype(float).copy()
        for c in order:
            i = self.cohort_owner[c]
            if left[i] <= 0:
                continue
            take = min(left[i], self.cohort_gpus[c])
            remaining = max(1.0 - (self._today - self.cohort_day[c]) / life_days[c], 0.0)
            self.write_off_today[i] += take * self.cohort_capex[c] * remaining
            self.cohort_gpus[c] -= take
            left[i] -= take
        self.params["gpus"] -= gpus
        self._drop_empty()

    def _drop_empty(self) -> None:
        keep = self.cohort_gpus > 1e-9
        if not keep.all():
            self.cohort_owner, self.cohort_gpus = self.cohort_owner[keep], self.cohort_gpus[keep]
            self.cohort_day, self.cohort_capex = self.cohort_day[keep], self.cohort_capex[keep]

    def set_param(self, key: str, index: int, value: float) -> None:
        """An event that changes an AIDC's fleet adds a cohort commissioned today, or takes GPUs out of its
        oldest cohorts (their book value written off); other settings change as they are."""
        if key != "gpus":
            super().set_param(key, index, value)
            return
        change = float(value) - float(self.gpus[index])
        if change > 0:
            self.cohort_owner = np.append(self.cohort_owner, index)
            self.cohort_gpus = np.append(self.cohort_gpus, change)
            self.cohort_day = np.append(self.cohort_day, self._today)
            self.cohort_capex = np.append(self.cohort_capex, self.params["capex_cny_per_gpu"][index])
            self.params["gpus"][index] += change
        elif change < 0:
            take = np.zeros(self.n)
            take[index] = -change
            self._remove_oldest(take)
            self.scrapped_today[index] += -change
            self.mothballed = np.minimum(self.mothballed, self.gpus)

    def book_write_offs(self) -> np.ndarray:
        """The book value written off since the last call (scrapping, fleet cuts), to be booked as a cost."""
        out = self.write_off_today
        self.write_off_today = np.zeros(self.n)
        return out

    def depreciation(self, day: int) -> np.ndarray:
        """Straight-line depreciation of the cohorts in service today, CNY per AIDC."""
        return _depreciation(self.cohort_owner, self.cohort_gpus, self.cohort_capex, self.params["life_years"], self.n)

    def operations_costs(self) -> np.ndarray:
        """Variable operations of today's busy GPU-hours, CNY per AIDC."""
        return self.busy_gpus.sum(axis=1) * self.params["om_cny_per_gpu_hour"]

    def fixed_costs(self) -> np.ndarray:
        """Fixed operations of the online fleet today, CNY per AIDC."""
        return self.online * self.params["fixed_om_cny_per_gpu_year"] / DAYS_PER_YEAR

    def start_day(self, day: int) -> None:
        self._today = day
        self.retired_today = np.zeros(self.n)
        self.scrapped_today = np.zeros(self.n)

    def describe(self, i: int) -> dict[str, float]:
        return {
            "gpus": float(self.gpus[i]),
            "gpus_online": float(self.online[i]),
            "gpus_mothballed": float(self.mothballed[i]),
            "gpus_in_pipeline": float(self.pipeline_gpus()[i]),
            "marginal_cost_cny_per_gpu_hour": float(self.ask_mid[i]),
            "scarcity_markup": float(self.markup[i]),
            "utilization": float(self.utilization()[i]),
            "load_mw": float(self.load_mw[i].mean()),
        }


@njit(cache=True)
def _depreciation(owner, gpus, capex, life_years, n):
    """:meth:`AIDCGroup.depreciation`, in the order numpy's ``bincount`` adds."""
    out = np.zeros(n)
    for c in range(owner.size):
        out[owner[c]] += gpus[c] * capex[c] / (life_years[owner[c]] * DAYS_PER_YEAR)
    return out


@njit(cache=True)
def _set_busy(busy_gpus, gpus, mothballed, pue, busy_kw, idle_kw):
    """:meth:`AIDCGroup.set_busy`: (busy GPUs capped at the online fleet, load MW), each (n, 24)."""
    n, hours = busy_gpus.shape
    busy = np.empty((n, hours))
    load = np.empty((n, hours))
    for a in range(n):
        online = gpus[a] - mothballed[a]
        for h in range(hours):
            b = nan_min(busy_gpus[a, h], online)
            busy[a, h] = b
            load[a, h] = pue[a] * (b * busy_kw[a] + (online - b) * idle_kw[a]) / 1000.0
    return busy, load


@njit(cache=True)
def _srmc(busy_kw, idle_kw, pue, power_price, om, green_cost):
    """:meth:`AIDCGroup.srmc`."""
    n, hours = power_price.shape
    out = np.empty((n, hours))
    for a in range(n):
        extra_mwh = (busy_kw[a] - idle_kw[a]) * pue[a] / 1000.0
        running = om[a] + green_cost[a]
        for h in range(hours):
            out[a, h] = extra_mwh * nan_max(power_price[a, h], 0.0) + running
    return out


@njit(cache=True)
def _cost_plus_asks(
    busy_kw,
    idle_kw,
    pue,
    power_price,
    om,
    green_cost,
    markup,
    capital_hour,
    gpus,
    mothballed,
    down,
    withheld,
    tranche_share,
    tranche_rent,
):
    """:class:`CostPlusScarcityAsks` for every AIDC: (GPU-hours, CNY per GPU-hour) of its tranches, (n * 24 * T,)
    in the order (AIDC, hour, tranche), and the mean SRMC over the day (n,).  GPUs withheld in an hour (``withheld``
    (n, 24): reserved under term contracts, or held back from the grid in its zone's tight hours) are not offered."""
    srmc = _srmc(busy_kw, idle_kw, pue, power_price, om, green_cost)
    n, hours = srmc.shape
    nt = tranche_share.size
    qty = np.empty(n * hours * nt)
    price = np.empty(n * hours * nt)
    mean = np.empty(n)
    for a in range(n):
        rent = markup[a] * capital_hour[a]
        available = nan_max(gpus[a] - mothballed[a] - down[a], 0.0)
        for h in range(hours):
            free = nan_max(available - withheld[a, h], 0.0)
            for t in range(nt):
                k = (a * hours + h) * nt + t
                qty[k] = free * tranche_share[t]
                price[k] = srmc[a, h] + rent * tranche_rent[t]
        mean[a] = psum(srmc[a]) / hours
    return qty, price, mean


@njit(cache=True)
def _learn(
    hourly_price,
    zone_price,
    srmc,
    power_price_expected,
    compute_price_seen,
    busy_gpus,
    sold_gpus,
    gpus,
    mothballed,
    down,
    margin_sum,
    peak_busy,
):
    """:meth:`AIDCGroup.learn` before the markup: expected power and compute prices move; the margin a GPU earned above
    its SRMC in the hours it was busy adds up (in ``margin_sum``); today's peak is remembered (in ``peak_busy``); where
    capacity binds, mothballed GPUs come back.  Returns (expected power price, compute price seen, mothballed, today's
    margin per available GPU, the share of today's hours its available GPUs were all busy)."""
    n, hours = srmc.shape
    margin_today = np.empty(n)
    full_share = np.zeros(n)
    expected = np.empty((n, hours))
    seen = np.empty((n, hours))
    margin = np.empty(hours)
    still = np.empty(n)
    for a in range(n):
        available = nan_max(gpus[a] - mothballed[a] - down[a], 0.0)
        top_busy = top_sold = -np.inf
        for h in range(hours):
            expected[a, h] = 0.7 * power_price_expected[a, h] + 0.3 * zone_price[a, h]
            price, before = hourly_price[a, h], compute_price_seen[a, h]
            if np.isnan(price):
                seen[a, h] = before
            else:
                seen[a, h] = price if np.isnan(before) else 0.8 * before + 0.2 * price
            busy_share = busy_gpus[a, h] / available if available > 0.0 else 0.0
            margin[h] = nan_max(nan_to_zero(price) - srmc[a, h], 0.0) * nan_min(busy_share, 1.0)
            if busy_share >= 0.98:
                full_share[a] += 1.0 / hours
            top_busy = nan_max(top_busy, busy_gpus[a, h])
            top_sold = nan_max(top_sold, sold_gpus[a, h])
        margin_today[a] = psum(margin)
        margin_sum[a] += margin_today[a]
        peak_busy[a] = top_busy
        # capacity binds: bring mothballed GPUs back
        back = np.ceil(mothballed[a] * REACTIVATE_SHARE) if top_sold >= 0.98 * available and mothballed[a] > 0 else 0.0
        still[a] = nan_max(mothballed[a] - back, 0.0)
    return expected, seen, still, margin_today, full_share


@njit(cache=True)
def _derivative_follower(
    markup,
    members,
    step,
    review_days,
    day,
    margin,
    full,
    draws,
    direction,
    earned,
    sold_out,
    days,
    last_rate,
    binding,
    tie,
):
    """:class:`RevenueLearningAsks`, in place: add today to each member's period; at the end of its period (its
    own day of the cycle) compare, step and start a new period."""
    for m in range(members.size):
        a = members[m]
        earned[m] += margin[a]
        sold_out[m] += full[a]  # hours at capacity, as a share of the day
        days[m] += 1.0
        period = max(int(review_days[a]), 1)
        if (day + a) % period != 0:
            continue
        rate = earned[m] / days[m]
        before = last_rate[m]
        scale = max(abs(before), abs(rate), 1e-9)
        if not np.isnan(before) and abs(rate - before) > tie * scale:
            binding[a] = True
            if rate < before:
                direction[m] = -direction[m]
        else:
            binding[a] = False
            direction[m] = 1.0 if sold_out[m] > 0.5 * days[m] else -1.0
        markup[a] = max(markup[a] + direction[m] * step[a] * (0.5 + draws[m]), 0.0)
        last_rate[m] = rate
        earned[m] = sold_out[m] = days[m] = 0.0


@njit(cache=True)
def _outages(day, draws, down, down_until, gpus, mothballed, rate_per_year, share, days):
    """:meth:`AIDCGroup.draw_outages`: (GPUs down, last day down)."""
    n = down.size
    new_down = np.empty(n)
    new_until = np.empty(n, np.int64)
    for a in range(n):
        ended = down_until[a] < day
        new_down[a] = 0.0 if ended else down[a]
        new_until[a] = down_until[a]
        if ended and draws[0, a] < rate_per_year[a] / DAYS_PER_YEAR:
            new_down[a] = (gpus[a] - mothballed[a]) * share[a] * 2.0 * draws[1, a]
            new_until[a] = day + int(days[a]) - 1
    return new_down, new_until


@njit(cache=True)
def _any_at_end_of_life(day, cohort_day, cohort_owner, cohort_gpus, life_years):
    """Whether a cohort with GPUs reached the end of its economic life (most days none does)."""
    for c in range(cohort_day.size):
        if day - cohort_day[c] >= life_years[cohort_owner[c]] * DAYS_PER_YEAR and cohort_gpus[c] > 0.0:
            return True
    return False
