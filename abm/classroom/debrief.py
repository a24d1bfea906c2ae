"""The debrief of a classroom game: what the class did, beside what the computer and two textbook benchmarks do on the
same scenario, seed and days.  Pure functions of a game (its log's state and its tables).

The benchmarks are of the **token market**, the market students who run cloud providers play, day by day over the
days played, on the buyers' own demand curves of each day (the apps' and enterprises' demand functions of
:mod:`agents.ai_app` and :mod:`agents.enterprise`, evaluated at any price without touching the model):

* **Buyers' values.**  A buyer's demand curve D_b(x) (Mtok a day wanted at price x) implies its values: the
  y-th Mtok is worth the price at which it would still be wanted, D_b^-1(y).  Enterprise demand is inelastic (a
  constant elasticity below 1), so its values are unbounded; every value is counted up to ``P_MAX`` = 1,000 CNY
  per Mtok, the dearest price a seat may post.  The gross value of q Mtok is
  V_b(q) = q x P_MAX if q <= D_b(P_MAX), else q x D_b^-1(q) + integral from D_b^-1(q) to P_MAX of D_b(x) dx.
  Served tokens are counted as the buyer's most valued ones (efficient rationing: an upper bound on the value
  of what was served when some demand went unserved).
* **Marginal cost.**  A provider's cost of a token is what it paid for compute that day over the tokens it
  served (c_p = compute cost / Mtok served: GPU-hours it bought and left idle count too).  Compute is an input
  bought at the compute market's price: this is a partial-equilibrium account of the token market, in which the
  AIDCs' rents are the compute market's surplus, not the token market's.  The cheapest provider a buyer can buy
  from sets its marginal cost c*_b; capacity is not a limit in the benchmarks (constant marginal cost).
* **Efficiency** (as in Smith's experiments, realised surplus over the maximum available):
  E = sum over days of [sum_b V_b(q_b) - sum_p compute cost_p] / sum over days of [sum_b integral from c*_b to
  P_MAX of D_b(x) dx].  The maximum is reached when every buyer buys D_b(c*_b) at cost from its cheapest
  provider; E <= 1 always (a token served dearer, or not at all, or compute bought and not used lowers it).
* **Competitive benchmark**: price-taking providers, price = marginal cost c*_b, quantity D_b(c*_b), providers'
  token margin 0, E = 1 (Smith's competitive equilibrium; not the logit's Bertrand-Nash prices, which carry a
  markup from product differentiation: the computer's own run shows where the model's non-colluding pricing
  rules land).
* **Joint monopoly**: one firm that owns every provider and charges one price p on each day, producing at c*_b:
  pi_M = max over p in [min c*, P_MAX] of sum_b (p - c*_b) D_b(p).  With inelastic enterprise demand that price
  is often the cap P_MAX: a monopoly takes all it can.
* **Calvano collusion index**: Delta = (pi - pi_C) / (pi_M - pi_C), pi the providers' realised token margin
  (revenue - compute cost) summed over the days, pi_C = 0 the competitive margin, pi_M the joint monopoly's.
  0 is competitive pricing, 1 the joint monopoly's profit; it applies where the game has providers.

**Compute efficiency** is the same measure for the compute market (the market the AIDC seats play): the day-ahead
auction and the top-up after the token market, on the edges the auction clears on (who may buy from which AIDC).
Buyers' values are their bids, and a provider's top-up GPU-hour is worth what its tokens earn on it; a GPU-hour's
cost is its AIDC's short-run marginal cost in that hour (its cheapest ask step there; the dearer steps add a scarcity
rent).  The maximum is the same book, the top-up's purchases as bids of their own, cleared at cost on the same edges
by the compute market's own clearing; the realised trades are one of that book's allocations, so E <= 1 by
construction.  Term contracts' GPU-hours are delivered before the auction, and neither the asks nor the bids hold
them: they are in neither the realised surplus nor the maximum (E says how well the market used the capacity the
contracts left).  See :func:`compute_surplus`.

The computer's own run is the scenario run with no one in the seats (the same scenario and seed; a game with no
students gives the same tables, tested), measured the same way.
"""

from __future__ import annotations

import dataclasses
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tokenomy.abm.markets.compute import clear_hourly_compute_market
from tokenomy.agents import ai_app, enterprise

if TYPE_CHECKING:
    from tokenomy.abm.classroom.game import Game

P_MAX = 1000.0  # CNY per Mtok: the dearest price a seat may post; buyers' values are counted up to it
P_MIN = 0.001  # CNY per Mtok: the cheapest price of the grids the curves are read on
GRID_POINTS = 600  # log-spaced prices from P_MIN to P_MAX (about 2% apart)
GRID = np.geomspace(P_MIN, P_MAX, GRID_POINTS)
APP_KEYS = ("users", "requests_per_user_per_day", "mtok_per_request", "agentic_share", "agent_multiplier")
APP_KEYS += ("elasticity", "revenue_cny_per_request")
ENTERPRISE_KEYS = ("adoption", "firms", "mtok_per_firm_per_day", "agentic_share", "agent_multiplier")
ENTERPRISE_KEYS += ("budget_cny_per_firm_per_day", "elasticity", "reference_price_cny_per_mtok")


@dataclass(frozen=True)
class MarketDay:
    """What the debrief needs of one day of the token market (copies: the model moves on)."""

    day: int
    apps: dict[str, np.ndarray]  # the apps' demand parameters and noise of the day
    enterprises: dict[str, np.ndarray]
    edges: np.ndarray  # (B, P) who may buy from whom
    served_b: np.ndarray  # (B,) Mtok served to each buyer
    price_p: np.ndarray  # (P,) posted prices, CNY per Mtok
    served_p: np.ndarray  # (P,) Mtok each provider served
    compute_cost_p: np.ndarray  # (P,) CNY each provider paid for compute
    expected_cost_p: np.ndarray  # (P,) a provider's expected cost of a Mtok (for one that served nothing)
    compute_book: ComputeDayBook | None = None  # the day-ahead compute auction, for its efficiency
    power_book: PowerDayBook | None = None  # the hourly power market, for its efficiency


@dataclass(frozen=True)
class ComputeDayBook:
    """The compute market of a day: the day-ahead auction's bid steps (buyer, hour, GPU-hours, value) and ask steps
    (AIDC, hour, GPU-hours, price, GPU-hours sold day-ahead), the GPU-hours each buyer bought in each hour, who may
    buy from whom (the edges the auction clears on), and the top-up's purchases after the token market (each
    provider's GPU-hours by hour, what a GPU-hour was worth to it, and what each ask step sold in it).  Term
    contracts' GPU-hours are in none of it: they are delivered before the auction, and neither the asks nor the
    bids hold them."""

    bid_buyer: np.ndarray  # (K,) providers, then labs
    bid_hour: np.ndarray
    bid_qty: np.ndarray
    bid_price: np.ndarray
    ask_aidc: np.ndarray  # (J,)
    ask_hour: np.ndarray
    ask_qty: np.ndarray
    ask_price: np.ndarray
    ask_filled: np.ndarray  # GPU-hours each ask step sold day-ahead
    edges: np.ndarray  # (B, A) bool: buyer b may buy from AIDC a
    bought: np.ndarray  # (B, 24) GPU-hours each buyer bought in the auction
    top_up_gpu_hours: np.ndarray  # (P, 24) GPU-hours each provider bought in the top-up (P <= B: providers first)
    top_up_value: np.ndarray  # (P,) CNY a top-up GPU-hour was worth to each provider (its dearest acceptable ask)
    ask_topped_up: np.ndarray  # (J,) GPU-hours each ask step sold in the top-up


@dataclass(frozen=True)
class PowerDayBook:
    """The hourly power market of a day as it cleared (offers: units then batteries discharging; bids: each zone's
    flexible load then batteries charging), with each offer's running cost and the day's grid and line limits."""

    grid: Any  # the market's fixed structure that day (abm.markets.power.PowerGrid)
    line_limit_mw: np.ndarray
    offer_mw: np.ndarray  # (24, N)
    offer_cost: np.ndarray  # (24, N) CNY per MWh: a unit's running cost, a battery's discharge offer
    bid_mw: np.ndarray  # (24, M)
    bid_price: np.ndarray  # (24, M)
    load_mw: np.ndarray  # (24, Z) inelastic
    offer_dispatch_mw: np.ndarray
    bid_served_mw: np.ndarray
    unserved_mw: np.ndarray  # (24, Z)
    price_cap: float
    price_floor: float


def _power_book(model: Any) -> PowerDayBook | None:
    b = getattr(model, "power_book", None)
    cached = getattr(model, "_power_grid_cache", None)
    if b is None or cached is None:
        return None
    # offers are the units then the batteries, bids the zones then the batteries: units that arrive after the day's
    # clearing are appended to the units' costs, so the first ``units`` costs are those of the day's offers
    units = b.offer_mw.shape[1] - (b.bid_mw.shape[1] - b.load_mw.shape[1])
    cost = np.array(b.offer_price, dtype=float, copy=True)
    cost[:, :units] = model.utilities.unit_mc[None, :units]
    return PowerDayBook(
        cached[1][0],  # the grid of the day's clearing: it is rebuilt only when the next day clears
        np.array(b.line_limit_mw, dtype=float, copy=True),
        np.array(b.offer_mw, dtype=float, copy=True),
        cost,
        *(np.array(a, dtype=float, copy=True) for a in (b.bid_mw, b.bid_price, b.load_mw, b.offer_dispatch_mw)),
        *(np.array(a, dtype=float, copy=True) for a in (b.bid_served_mw, b.unserved_mw)),
        float(b.price_cap),
        float(b.price_floor),
    )


def _book(model: Any) -> ComputeDayBook | None:
    b = getattr(model, "compute_book", None)
    last = getattr(model, "last", None)
    if b is None or last is None:
        return None
    asks = (np.array(getattr(b, f), dtype=float, copy=True) for f in ("ask_qty", "ask_price", "ask_filled"))
    ask_qty, ask_price, ask_filled = asks
    # what the top-up took of each ask step: what the auction left of it less what was still unsold at the end
    left = np.maximum(ask_qty - ask_filled, 0.0)
    return ComputeDayBook(
        *(np.array(getattr(b, f), copy=True) for f in ("bid_buyer", "bid_hour", "bid_qty", "bid_price")),
        np.array(b.ask_aidc, copy=True),
        np.array(b.ask_hour, copy=True),
        ask_qty,
        ask_price,
        ask_filled,
        np.array(model.compute_edges, dtype=bool, copy=True),
        np.array(b.bought, dtype=float, copy=True),
        np.array(model.providers.topped_up_gpu_hours, dtype=float, copy=True),
        np.array(last.compute.top_up_value, dtype=float, copy=True),
        np.clip(left - last.compute.ask_unsold, 0.0, None),
    )


def market_day(model: Any) -> MarketDay:
    """The token market of the day the model just played."""
    apps, ents, prov = model.apps, model.enterprises, model.providers
    return MarketDay(
        day=int(model.day - 1),
        apps={**{k: apps.params[k].copy() for k in APP_KEYS}, "noise": apps.noise.copy()},
        enterprises={**{k: ents.params[k].copy() for k in ENTERPRISE_KEYS}, "noise": ents.noise.copy()},
        edges=model.token_edges.copy(),
        served_b=np.concatenate([apps.served_mtok, ents.served_mtok]).astype(float),
        price_p=model.last.tokens.price.copy(),  # the day's posted prices (the providers have set tomorrow's since)
        served_p=prov.served_mtok.copy(),
        compute_cost_p=prov.compute_cost_cny.copy(),
        expected_cost_p=prov.unit_cost.copy(),
        compute_book=_book(model),
        power_book=_power_book(model),
    )


# -- the buyers' demand curves ------------------------------------------------------------------------------------
def demand_at(day: MarketDay, prices: np.ndarray) -> np.ndarray:
    """(B, K) Mtok a day each buyer wants at each of ``prices`` (K,), by the model's own demand functions."""
    prices = np.asarray(prices, dtype=float)
    out = []
    for params, kind in ((day.apps, "app"), (day.enterprises, "enterprise")):
        n = params["noise"].size
        if n == 0:
            continue
        flat = {k: np.repeat(v.astype(float), prices.size) for k, v in params.items()}
        price = np.tile(prices, n)
        if kind == "app":
            ratio = ai_app._cost_ratio(
                price,
                flat["mtok_per_request"],
                flat["agentic_share"],
                flat["agent_multiplier"],
                flat["revenue_cny_per_request"],
            )
            demand, _ = ai_app._demand(
                ratio ** flat["elasticity"],
                flat["users"],
                flat["requests_per_user_per_day"],
                flat["noise"],
                flat["mtok_per_request"],
                flat["agentic_share"],
                flat["agent_multiplier"],
                flat["elasticity"],
            )
        else:
            relative = enterprise._relative_price(price, flat["reference_price_cny_per_mtok"])
            demand, _ = enterprise._demand(
                relative ** (-flat["elasticity"]),
                price,
                flat["adoption"],
                flat["firms"],
                flat["mtok_per_firm_per_day"],
                flat["agentic_share"],
                flat["agent_multiplier"],
                flat["noise"],
                flat["budget_cny_per_firm_per_day"],
                flat["elasticity"],
            )
        out.append(demand.reshape(n, prices.size))
    return np.concatenate(out) if out else np.zeros((0, prices.size))


def _value_above(curve: np.ndarray) -> np.ndarray:
    """(B, K) integral from GRID[k] to P_MAX of D_b(x) dx (trapezoids on the grid)."""
    pieces = 0.5 * (curve[:, 1:] + curve[:, :-1]) * np.diff(GRID)
    above = np.zeros_like(curve)
    above[:, :-1] = np.cumsum(pieces[:, ::-1], axis=1)[:, ::-1]
    return above


def _at(price: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(B,) each buyer's row of ``values`` (B, K) read at its ``price`` (B,) (linear in log price)."""
    x = np.log(np.clip(price, P_MIN, P_MAX))
    return np.array([np.interp(x[b], np.log(GRID), values[b]) for b in range(values.shape[0])])


def gross_value(curve: np.ndarray, quantity: np.ndarray) -> np.ndarray:
    """(B,) V_b(q_b): what ``quantity`` (B,) Mtok are worth to each buyer (module docstring), from its demand
    ``curve`` (B, K) on :data:`GRID`."""
    above = _value_above(curve)
    out = np.empty(curve.shape[0])
    for b in range(curve.shape[0]):
        q = float(quantity[b])
        d = curve[b]
        if q <= d[-1]:  # wanted even at P_MAX: every Mtok is worth the cap
            out[b] = q * P_MAX
            continue
        # the inverse demand at q: demand falls with price, so read the grid backwards
        x = float(np.exp(np.interp(q, d[::-1], np.log(GRID)[::-1])))
        out[b] = q * x + float(np.interp(np.log(x), np.log(GRID), above[b]))
    return out


def _cheapest_cost(day: MarketDay) -> np.ndarray:
    """(B,) c*_b: the lowest cost of a Mtok among the providers buyer b may buy from."""
    cost = provider_costs(day)
    return np.where(day.edges, cost[None, :], np.inf).min(axis=1)


# -- one day's measures -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DayMeasures:
    """A day of the token market measured (CNY; Mtok a day; CNY per Mtok)."""

    surplus_cny: float  # realised: buyers' value of what was served - what providers paid for compute
    max_surplus_cny: float  # every buyer served at its cheapest provider's cost
    margin_cny: float  # providers' realised token margin: revenue - compute cost
    monopoly_margin_cny: float  # the joint monopoly's
    price: float  # realised: revenue / Mtok served
    served_mtok: float
    competitive_price: float  # demand-weighted mean of c*_b
    competitive_mtok: float
    monopoly_price: float
    monopoly_mtok: float
    compute_surplus_cny: float = 0.0  # the day-ahead compute auction's, realised
    compute_max_surplus_cny: float = 0.0
    power_surplus_cny: float = 0.0  # the hourly power market's, realised
    power_max_surplus_cny: float = 0.0


def measure_day(day: MarketDay) -> DayMeasures:
    curve = demand_at(day, GRID)
    cost_b = _cheapest_cost(day)
    reach = np.isfinite(cost_b)
    cost_b = np.where(reach, cost_b, P_MAX)
    above = _value_above(curve)
    best = np.where(reach & (cost_b < P_MAX), _at(cost_b, above), 0.0)
    compute = float(day.compute_cost_p.sum())
    revenue = float((day.price_p * day.served_p).sum())
    served = float(day.served_p.sum())
    surplus = float(gross_value(curve, day.served_b).sum()) - compute
    competitive_q = np.where(reach, _at(cost_b, curve), 0.0)
    monopoly_price, monopoly_margin, monopoly_q = _joint_monopoly(day, cost_b, reach)
    auction = compute_surplus(day.compute_book) if day.compute_book is not None else (0.0, 0.0)
    power = power_surplus(day.power_book) if day.power_book is not None else (0.0, 0.0)
    return DayMeasures(
        surplus_cny=surplus,
        max_surplus_cny=float(best.sum()),
        margin_cny=revenue - compute,
        monopoly_margin_cny=monopoly_margin,
        price=revenue / served if served > 0 else float("nan"),
        served_mtok=served,
        competitive_price=float((cost_b * competitive_q).sum() / competitive_q.sum())
        if competitive_q.sum() > 0
        else float("nan"),
        competitive_mtok=float(competitive_q.sum()),
        monopoly_price=monopoly_price,
        monopoly_mtok=monopoly_q,
        compute_surplus_cny=auction[0],
        compute_max_surplus_cny=auction[1],
        power_surplus_cny=power[0],
        power_max_surplus_cny=power[1],
    )


def _joint_monopoly(day: MarketDay, cost_b: np.ndarray, reach: np.ndarray) -> tuple[float, float, float]:
    """(price, margin, Mtok) of one firm owning every provider and charging one price: the best of the grid, then
    the best of a finer grid between its neighbours."""
    if not reach.any():
        return float("nan"), 0.0, 0.0
    low = float(cost_b[reach].min())

    def margins(prices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = np.where(reach[:, None], demand_at(day, prices), 0.0)
        return ((prices[None, :] - cost_b[:, None]) * d).sum(axis=0), d.sum(axis=0)

    coarse = GRID[low <= GRID]
    if coarse.size == 0:
        return low, 0.0, 0.0
    m, _ = margins(coarse)
    k = int(np.argmax(m))
    fine = np.geomspace(coarse[max(k - 1, 0)], coarse[min(k + 1, coarse.size - 1)], 65)
    m, q = margins(fine)
    k = int(np.argmax(m))
    return float(fine[k]), max(float(m[k]), 0.0), float(q[k])


def running_cost(book: ComputeDayBook) -> np.ndarray:
    """(J,) the running cost of a GPU-hour of each ask step: its AIDC's short-run marginal cost in that hour, the
    cheapest of its ask steps there (the asking rules offer their first tranche at it; the dearer tranches add a
    scarcity rent, a seat's decision too)."""
    key = book.ask_aidc.astype(np.int64) * 24 + book.ask_hour.astype(np.int64)
    if key.size == 0:
        return np.zeros(0)
    srmc = np.full(int(key.max()) + 1, np.inf)
    np.minimum.at(srmc, key, book.ask_price)
    return srmc[key]


def bids_value(buyer: np.ndarray, hour: np.ndarray, qty: np.ndarray, price: np.ndarray, bought: np.ndarray) -> float:
    """CNY: what the GPU-hours each buyer bought in each hour (``bought`` (B, 24)) were worth to it by its bid steps
    (``buyer``, ``hour``, ``qty``, ``price``, (K,)): its steps of that hour filled from the highest, as a
    uniform-price auction fills them (a step is filled before any cheaper step of the same buyer and hour)."""
    if buyer.size == 0:
        return 0.0
    group = buyer.astype(np.int64) * bought.shape[1] + hour.astype(np.int64)
    order = np.lexsort((-price, group))
    group, qty, price = group[order], qty[order].astype(float), price[order].astype(float)
    total = np.cumsum(qty)
    first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])  # each group's first step
    before = np.repeat(total[first] - qty[first], np.diff(np.r_[first, group.size]))  # the groups' earlier steps
    start = total - qty - before  # GPU-hours of this buyer-hour's dearer steps
    fill = np.clip(bought.ravel()[group] - start, 0.0, qty)
    return float((fill * price).sum())


def compute_surplus(book: ComputeDayBook) -> tuple[float, float]:
    """(realised, maximum) surplus of a day's compute market, CNY (module docstring and docs/model.md 6.9).

    Buyers' values are their bids, and a provider's top-up GPU-hour is worth what its tokens earn on it (the dearest
    ask it would take); a GPU-hour's cost is its AIDC's running cost in that hour (:func:`running_cost`).  Realised:
    the auction's fills (each buyer-hour's bid steps filled from the highest up to what it bought) and the top-up's
    purchases, less the running cost of every GPU-hour sold in either.  The maximum: the same bids, the top-up's
    purchases as bids of their own, and the same asks at running cost, cleared on the same edges by the compute
    market's own clearing (:func:`abm.markets.compute.clear_hourly_compute_market`, which maximises bids' value less
    asks' cost: merit order where every buyer reaches every AIDC of its part of the graph, an LP otherwise).  The
    realised trades are one allocation of that book (within every step, along the edges), so the maximum is at
    least the realised surplus: E <= 1 by construction (a solver's rounding is not let put it above)."""
    cost = running_cost(book)
    hours = book.bought.shape[1]
    sold = book.ask_filled + book.ask_topped_up
    top_p, top_h = np.nonzero(book.top_up_gpu_hours > 0)
    top_qty, top_value = book.top_up_gpu_hours[top_p, top_h], book.top_up_value[top_p]
    realised = (
        bids_value(book.bid_buyer, book.bid_hour, book.bid_qty, book.bid_price, book.bought)
        + float((top_qty * top_value).sum())
        - float((sold * cost).sum())
    )
    if book.ask_qty.size == 0 or book.edges.size == 0:
        return realised, max(realised, 0.0)
    best = clear_hourly_compute_market(
        np.concatenate([book.bid_buyer, top_p]),
        np.concatenate([book.bid_hour, top_h]),
        np.concatenate([book.bid_qty, top_qty]),
        np.concatenate([book.bid_price, top_value]),
        book.ask_aidc,
        book.ask_hour,
        book.ask_qty,
        cost,
        book.edges,
        hours,
    ).surplus_cny
    return realised, max(float(best), realised)


def _power_welfare(book: PowerDayBook, dispatch: np.ndarray, served: np.ndarray, unserved: np.ndarray) -> float:
    """The surplus of a dispatch of ``book``'s market, CNY: the market's own objective (abm.markets.power) with the
    offers at their running costs, turned into a surplus by counting the load at the cap."""
    cap, floor = book.price_cap, book.price_floor
    cost = np.clip(book.offer_cost, floor, cap)
    value = np.clip(book.bid_price, floor, cap)
    made = dispatch.sum(axis=1) + unserved.sum(axis=1)  # MW an hour: lines move power, they make or lose none
    spill = np.clip(made - book.load_mw.sum(axis=1) - served.sum(axis=1), 0, None)
    return float(
        cap * (book.load_mw.sum() - unserved.sum())
        + (value * served).sum()
        - (cost * dispatch).sum()
        + floor * spill.sum()  # spilled energy costs -floor a MWh, as in the clearing
    )


def power_surplus(book: PowerDayBook) -> tuple[float, float]:
    """(realised, maximum) surplus of a day's power market, CNY (module docstring and docs/model.md 6.9): the day's
    dispatch at running costs, and the same book cleared with every unit offered at its running cost."""
    realised = _power_welfare(book, book.offer_dispatch_mw, book.bid_served_mw, book.unserved_mw)
    best = book.grid.clear(
        book.offer_mw,
        book.offer_cost,
        book.bid_mw,
        book.bid_price,
        book.load_mw,
        book.line_limit_mw,
        book.price_cap,
        book.price_floor,
    )
    return realised, _power_welfare(book, best.offer_dispatch_mw, best.bid_served_mw, best.unserved_mw)


# -- over rounds ----------------------------------------------------------------------------------------------------
SERIES = ("price", "served_mtok", "competitive_price", "competitive_mtok", "monopoly_price", "monopoly_mtok")


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def summarise(days: list[DayMeasures], spans: list[tuple[int, int]]) -> dict[str, Any]:
    """Efficiency and Delta over all ``days``, and by span of days (the rounds): sums for the ratios, means of the
    day's prices and quantities (Mtok a day)."""

    def block(ds: list[DayMeasures]) -> dict[str, Any]:
        total = {
            f: float(sum(getattr(d, f) for d in ds))
            for f in (
                "surplus_cny",
                "max_surplus_cny",
                "compute_surplus_cny",
                "compute_max_surplus_cny",
                "power_surplus_cny",
                "power_max_surplus_cny",
            )
        }
        margin = float(sum(d.margin_cny for d in ds))
        monopoly = float(sum(d.monopoly_margin_cny for d in ds))
        out: dict[str, Any] = {
            "efficiency": _ratio(total["surplus_cny"], total["max_surplus_cny"]),
            "compute_efficiency": _ratio(total["compute_surplus_cny"], total["compute_max_surplus_cny"]),
            "power_efficiency": _ratio(total["power_surplus_cny"], total["power_max_surplus_cny"]),
            "power_lost_cny": total["power_max_surplus_cny"] - total["power_surplus_cny"],
            "delta": _ratio(margin, monopoly),
            "margin_cny": margin,
            "monopoly_margin_cny": monopoly,
            **total,
        }
        for name in SERIES:
            values = np.array([getattr(d, name) for d in ds], dtype=float)
            out[name] = float(np.nanmean(values)) if np.isfinite(values).any() else None
        return out

    return {"all": block(days), "rounds": [block(days[a:b]) for a, b in spans]}


def computer_days(game: Game) -> list[MarketDay]:
    """The scenario run by the computer alone (no seat taken) over the days the game has played."""
    from tokenomy.abm.model import TokenEconomy

    model = TokenEconomy(game.scenario, seed=game.seed)
    model.recorder.reserve(game.model.day)
    out = []
    for _ in range(game.model.day):
        model.step()
        out.append(market_day(model))
    return out


def provider_costs(day: MarketDay) -> np.ndarray:
    """(P,) each provider's cost of a Mtok that day (inf for one with neither sales nor an expected cost)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        cost = np.where(day.served_p > 0, day.compute_cost_p / day.served_p, day.expected_cost_p)
    return np.where(np.isfinite(cost), cost, np.inf)


def played_at(day: MarketDay, price_p: np.ndarray) -> MarketDay:
    """The day as it goes if each provider posts ``price_p`` (P,) at its day's cost of a Mtok, with no capacity
    limit, and each buyer buys all it wants at that price from the cheapest-cost provider it may buy from."""
    cost = provider_costs(day)
    price_p = np.broadcast_to(np.asarray(price_p, dtype=float), cost.shape)
    chosen = np.argmin(np.where(day.edges, cost[None, :], np.inf), axis=1)
    reach = np.isfinite(np.where(day.edges, cost[None, :], np.inf).min(axis=1))
    served_b = np.array(
        [float(demand_at(day, price_p[[chosen[b]]])[b, 0]) if reach[b] else 0.0 for b in range(chosen.size)]
    )
    served_p = np.bincount(chosen, weights=served_b, minlength=cost.size)
    return MarketDay(
        day.day,
        day.apps,
        day.enterprises,
        day.edges,
        served_b,
        price_p.copy(),
        served_p,
        np.where(served_p > 0, np.where(np.isfinite(cost), cost, 0.0) * served_p, 0.0),
        cost,  # a provider that sells nothing here keeps the day's cost
    )


def benchmark_days(days: list[MarketDay], which: str) -> list[DayMeasures]:
    """The days as the competitive market (each provider prices at its cost of a Mtok) or the joint monopoly (every
    provider at the monopoly's price) would have played them, measured as the class's days are."""
    out = []
    for day in days:
        if which == "competitive":
            price = provider_costs(day)
            price = np.where(np.isfinite(price), price, P_MAX)
        elif which == "monopoly":
            cost_b = _cheapest_cost(day)
            reach = np.isfinite(cost_b)
            price = np.full(day.price_p.shape, _joint_monopoly(day, np.where(reach, cost_b, P_MAX), reach)[0])
        else:
            raise ValueError(f"no benchmark {which!r}: competitive or monopoly")
        measured = measure_day(played_at(day, price))
        if which == "competitive" and day.compute_book is not None:  # GPU-hours sold at cost: the most there is
            _, most = compute_surplus(day.compute_book)
            measured = dataclasses.replace(measured, compute_surplus_cny=most, compute_max_surplus_cny=most)
        if which == "competitive" and day.power_book is not None:  # every unit offered at cost: the most there is
            _, most = power_surplus(day.power_book)
            measured = dataclasses.replace(measured, power_surplus_cny=most, power_max_surplus_cny=most)
        out.append(measured)
    return out


# -- firms, ranking, replay ----------------------------------------------------------------------------------------
def _agent_row(game: Game, firm: Any) -> int:
    from tokenomy.abm.classroom.views import _row

    return _row(game, firm)


def firm_results(game: Game) -> list[dict[str, Any]]:
    """Each playable firm's profit over the game (CNY), its team, and its rank by profit within its role and among
    all the class's firms (1 = most profit; equal profits share a rank)."""
    agents = game.model.recorder.agents
    days = game.model.day
    rows = []
    for firm in game.firms:
        r = _agent_row(game, firm)
        team = sorted(s.name for s in game.students.values() if s.firm == firm and not s.kicked)
        rows.append(
            {
                "firm": firm.name,
                "role": firm.role,
                "team": team,
                "played_by": "students" if team else "computer",
                "profit_cny": float(agents.column("profit_cny")[:days, r].sum()),
                "revenue_cny": float(agents.column("revenue_cny")[:days, r].sum()),
                "cash_cny": float(game.model.ledger.balance[r]),
            }
        )
    groups = [("rank", rows)] + [
        ("rank_in_role", [x for x in rows if x["role"] == role]) for role in game.data["classroom"]["roles"]
    ]
    for key, group in groups:
        for row in group:
            row[key] = 1 + sum(other["profit_cny"] > row["profit_cny"] for other in group)
    return sorted(rows, key=lambda x: (x["rank"], x["firm"]))


def replay_by_round(game: Game) -> list[dict[str, Any]]:
    """The game's state after each round played: its days, how it closed, the decisions that went in, the markets'
    means, and every playable firm's cash and profit so far."""
    from tokenomy.abm.classroom.tables import rounds_frame

    frame = rounds_frame(game)
    agents = game.model.recorder.agents
    out = []
    for i, record in enumerate(game.history):
        firms = {}
        for firm in game.firms:
            r = _agent_row(game, firm)
            firms[firm.name] = {
                "cash_cny": float(agents.column("cash_cny")[record.end_day - 1, r]),
                "profit_to_date_cny": float(agents.column("profit_cny")[: record.end_day, r].sum()),
                "round_profit_cny": float(agents.column("profit_cny")[record.first_day : record.end_day, r].sum()),
            }
        out.append(
            {
                "round": record.number,
                "first_day": record.first_day,
                "end_day": record.end_day,
                "reason": record.reason,
                "decisions": [
                    {k: v for k, v in d.items() if k not in ("round", "at")}
                    for d in game.decision_log
                    if d["round"] == record.number
                ],
                "market": {
                    k.removeprefix("mean_"): float(frame[k].iloc[i]) for k in frame.columns if k.startswith("mean_")
                },
                "firms": firms,
                "predictions": [p.describe() for p in game.predictions if p.round == record.number],
            }
        )
    return out


class _Measured:
    """What the debrief of one game has measured so far: each list grows with the days played (a day's measures
    never change once it is played, and the computer's run only moves forward)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.computer_model: Any = None
        self.lists: dict[str, list[DayMeasures]] = {k: [] for k in ("class", "computer", "competitive", "monopoly")}

    def extend(self, game: Game, days: list[MarketDay]) -> dict[str, list[DayMeasures]]:
        from tokenomy.abm.model import TokenEconomy

        with self.lock:
            lists = self.lists
            for day in days[len(lists["class"]) :]:
                lists["class"].append(measure_day(day))
                lists["competitive"] += benchmark_days([day], "competitive")
                lists["monopoly"] += benchmark_days([day], "monopoly")
            if self.computer_model is None:
                self.computer_model = TokenEconomy(game.scenario, seed=game.seed)
                self.computer_model.recorder.reserve(game.days)
            while len(lists["computer"]) < len(days):
                self.computer_model.step()
                lists["computer"].append(measure_day(market_day(self.computer_model)))
            return {k: v[: len(days)] for k, v in lists.items()}


_MEASURED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_MEASURED_LOCK = threading.Lock()


def debrief(game: Game) -> dict[str, Any]:
    """The whole debrief of ``game`` (a dict of plain numbers and names): by round, the class's token prices and
    quantities beside the computer's run, the competitive benchmark and the joint monopoly; efficiency and Delta of
    each; the firms' profits and ranking; the replay by round.

    The game's lock is held only to read what was played; the measures (and the computer's run, which moves forward
    with the game) are worked out outside it, and kept for the next call, so a debrief never holds up a class."""
    with game._lock:
        days = list(game.market_days)
        history = list(game.history)
        firms = firm_results(game)
        replay = replay_by_round(game)
    with _MEASURED_LOCK:
        measured = _MEASURED.setdefault(game, _Measured())
    lists = measured.extend(game, days)
    spans = [(r.first_day, r.end_day) for r in history]
    return {
        "rounds": [{"round": r.number, "first_day": r.first_day, "end_day": r.end_day} for r in history],
        **{k: summarise(v, spans) for k, v in lists.items()},
        "collusion_index_applies": bool(days) and days[0].price_p.size > 0,
        "firms": firms,
        "replay": replay,
    }
