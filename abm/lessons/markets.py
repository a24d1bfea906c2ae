"""Classic markets for teaching supply and demand, each reporting the theory's number beside the
simulated one.

* :func:`call_market` -- a call auction on step supply and demand curves, cleared by the chain's own
  compute-market function (:func:`abm.markets.compute.clear_compute_market`, surplus-maximising) with
  every buyer connected to every seller.
* :func:`double_auction` -- a continuous double auction with zero-intelligence traders (Gode and Sunder
  1993, JPE 101(1)): budget-constrained (ZI-C) or unconstrained (ZI-U); allocative efficiency per period.
* :func:`cobweb` -- supply decided on last period's price against linear demand (Kaldor 1934, Ezekiel
  1938): damped, steady or exploding cycles by the ratio of the slopes.

All are pure: arrays and numbers in, frozen dataclasses out; randomness only through a seeded
``numpy.random.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tokenomy.abm.lessons.limits import MAX_LESSON_PRICE, MAX_STEPS
from tokenomy.abm.markets.compute import clear_compute_market

MAX_CURVE_STEPS = 100_000  # steps of a supply or demand curve whose equilibrium is worked out

__all__ = [
    "MAX_LESSON_PRICE",
    "MAX_STEPS",
    "CallMarketResult",
    "DoubleAuctionResult",
    "CobwebResult",
    "call_market",
    "competitive_equilibrium",
    "double_auction",
    "symmetric_market",
    "cobweb",
]


# ------------------------------------------------------------------------------------------------
# call market
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CallMarketResult:
    price: float  # simulated clearing price (the chain's call auction)
    quantity: float  # simulated traded quantity
    surplus: float  # realised total surplus
    buyer_surplus: float
    seller_surplus: float
    theory_price_low: float  # competitive-equilibrium price interval [low, high]
    theory_price_high: float
    theory_quantity: float  # Q*
    theory_surplus: float  # maximum total surplus
    bid_filled: np.ndarray
    ask_filled: np.ndarray

    @property
    def theory_price(self) -> float:
        """P*, the midpoint of the equilibrium interval (the chain's price convention)."""
        return 0.5 * (self.theory_price_low + self.theory_price_high)


def _steps(prices, quantities, name: str, max_steps: int = MAX_CURVE_STEPS) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(prices, dtype=float).reshape(-1)
    q = np.ones_like(p) if quantities is None else np.asarray(quantities, dtype=float).reshape(-1)
    if p.size != q.size:
        raise ValueError(f"{name}: {p.size} prices but {q.size} quantities")
    if p.size == 0:
        raise ValueError(f"{name}: need at least one step")
    if (q < 0).any() or not np.isfinite(q).all() or not np.isfinite(p).all():
        raise ValueError(f"{name}: quantities must be finite and >= 0, and prices finite")
    if p.size > max_steps:
        raise ValueError(f"{name}: at most {max_steps} steps, got {p.size}")
    if (np.abs(p) > MAX_LESSON_PRICE).any() or (q > MAX_LESSON_PRICE).any():
        raise ValueError(
            f"{name}: prices and quantities must be at most {MAX_LESSON_PRICE:g} in size "
            "(their products are summed into the surplus)"
        )
    return p, q


def competitive_equilibrium(bid_price, bid_qty, ask_price, ask_qty) -> tuple[float, float, float, float]:
    """(Q*, P low, P high, max surplus) of step curves by walking demand down and supply up."""
    bp, bq = _steps(bid_price, bid_qty, "demand")
    ap, aq = _steps(ask_price, ask_qty, "supply")
    bo, ao = np.argsort(-bp, kind="stable"), np.argsort(ap, kind="stable")
    bp, bq, ap, aq = bp[bo], bq[bo], ap[ao], aq[ao]
    i = j = 0
    left_b, left_a = bq[0], aq[0]
    q = surplus = 0.0
    last_b = last_a = None
    while i < bp.size and j < ap.size:
        if left_b <= 0:
            i += 1
            left_b = bq[i] if i < bp.size else 0.0
            continue
        if left_a <= 0:
            j += 1
            left_a = aq[j] if j < ap.size else 0.0
            continue
        if bp[i] < ap[j]:
            break
        x = min(left_b, left_a)
        q += x
        surplus += x * (bp[i] - ap[j])
        left_b -= x
        left_a -= x
        last_b, last_a = bp[i], ap[j]
    # price interval: lo = max(marginal accepted ask, best rejected bid), hi = min(marginal accepted bid,
    # best rejected ask); a partly filled step is both accepted and rejected
    rej_b = [bp[k] for k in range(bp.size) if bq[k] > 0 and (k > i or (k == i and left_b > 0))]
    rej_a = [ap[k] for k in range(ap.size) if aq[k] > 0 and (k > j or (k == j and left_a > 0))]
    lo_terms = ([last_a] if last_a is not None else []) + ([max(rej_b)] if rej_b else [])
    hi_terms = ([last_b] if last_b is not None else []) + ([min(rej_a)] if rej_a else [])
    lo = max(lo_terms) if lo_terms else min(hi_terms)
    hi = min(hi_terms) if hi_terms else max(lo_terms)
    return q, lo, hi, surplus


def call_market(bid_price, ask_price, bid_qty=None, ask_qty=None) -> CallMarketResult:
    """Clear step curves (one step per buyer and per seller; quantities default to 1) in the chain's
    call auction and put the competitive equilibrium beside it.  Prices and quantities are at most
    :data:`MAX_LESSON_PRICE` in size and there are at most :data:`MAX_STEPS` steps: the surplus is a sum of
    price x quantity terms, and two values near the largest float (1e308) already sum to infinity."""
    bp, bq = _steps(bid_price, bid_qty, "demand", MAX_STEPS)
    ap, aq = _steps(ask_price, ask_qty, "supply", MAX_STEPS)
    edges = np.ones((bp.size, ap.size), dtype=bool)  # complete: anyone may trade with anyone
    res = clear_compute_market(np.arange(bp.size), bq, bp, np.arange(ap.size), aq, ap, edges)
    price = float(np.nanmean(res.aidc_price))
    quantity = float(res.bid_filled_gpu_hours.sum())
    buyer = float((res.bid_filled_gpu_hours * (bp - price)).sum())
    seller = float((res.ask_filled_gpu_hours * (price - ap)).sum())
    q, lo, hi, smax = competitive_equilibrium(bp, bq, ap, aq)
    return CallMarketResult(
        price=price,
        quantity=quantity,
        surplus=float(res.surplus_cny),
        buyer_surplus=buyer,
        seller_surplus=seller,
        theory_price_low=lo,
        theory_price_high=hi,
        theory_quantity=q,
        theory_surplus=smax,
        bid_filled=res.bid_filled_gpu_hours,
        ask_filled=res.ask_filled_gpu_hours,
    )


# ------------------------------------------------------------------------------------------------
# zero-intelligence continuous double auction
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DoubleAuctionResult:
    constrained: bool
    efficiency: np.ndarray  # (periods,) realised surplus / maximum surplus
    trades: np.ndarray  # (periods,) units traded
    mean_price: np.ndarray  # (periods,) mean transaction price (nan when no trade)
    prices: list[np.ndarray]  # transaction prices of each period, in order
    theory_price: float  # P* (midpoint of the equilibrium interval)
    theory_quantity: float  # Q*
    theory_surplus: float  # maximum surplus per period

    @property
    def mean_efficiency(self) -> float:
        return float(self.efficiency.mean())


def symmetric_market(
    traders: int = 6, units: int = 3, low: float = 40.0, high: float = 190.0, price_ceiling: float = 200.0
) -> tuple[np.ndarray, np.ndarray]:
    """Redemption values (traders x units, each row decreasing) and costs (each row increasing) whose
    demand and supply curves are mirror images about price_ceiling / 2."""
    n = traders * units
    ladder = np.linspace(high, low, n)  # the demand curve, unit by unit
    values = ladder.reshape(units, traders).T.copy()  # deal units round-robin: each trader a spread
    costs = price_ceiling - values
    return values, costs


def double_auction(
    values,
    costs,
    *,
    constrained: bool = True,
    periods: int = 10,
    shouts: int = 3000,
    price_ceiling: float = 200.0,
    price_floor: float = 1.0,
    rng: np.random.Generator | int | None = 0,
) -> DoubleAuctionResult:
    """Gode-Sunder continuous double auction.  ``values`` (buyers x units), ``costs`` (sellers x units):
    each trader trades its units in order (highest value, lowest cost first).  Each shout comes from a
    trader picked at random among those with units left: a ZI-C buyer bids U[floor, value], a ZI-C
    seller asks U[cost, ceiling]; ZI-U traders draw from U[floor, ceiling] whatever their value or cost.
    A bid at or above the standing ask trades at the ask, an ask at or below the standing bid trades at
    the bid; otherwise a shout replaces the standing one only if it improves it.  After each trade the
    book is cleared.  Efficiency = sum of (value - cost) of the units traded / maximum surplus."""
    values = np.sort(np.atleast_2d(np.asarray(values, dtype=float)), axis=1)[:, ::-1]
    costs = np.sort(np.atleast_2d(np.asarray(costs, dtype=float)), axis=1)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    nb, ns = values.shape[0], costs.shape[0]
    q, lo, hi, smax = competitive_equilibrium(values.ravel(), None, costs.ravel(), None)
    eff, trades, mean_p, all_prices = [], [], [], []
    for _ in range(periods):
        nb_used = np.zeros(nb, dtype=int)
        ns_used = np.zeros(ns, dtype=int)
        bid = ask = None  # (price, trader)
        surplus = 0.0
        prices = []
        pick = gen.random(shouts)
        draw = gen.random(shouts)
        for s in range(shouts):
            active_b = np.flatnonzero(nb_used < values.shape[1])
            active_s = np.flatnonzero(ns_used < costs.shape[1])
            if active_b.size == 0 or active_s.size == 0:
                break
            k = int(pick[s] * (active_b.size + active_s.size))
            if k < active_b.size:
                b = int(active_b[k])
                v = values[b, nb_used[b]]
                top = v if constrained else price_ceiling
                p = price_floor + draw[s] * max(top - price_floor, 0.0)
                if ask is not None and p >= ask[0]:
                    surplus += v - costs[ask[1], ns_used[ask[1]]]
                    prices.append(ask[0])
                    nb_used[b] += 1
                    ns_used[ask[1]] += 1
                    bid = ask = None
                elif bid is None or p > bid[0]:
                    bid = (p, b)
            else:
                sl = int(active_s[k - active_b.size])
                c = costs[sl, ns_used[sl]]
                bottom = c if constrained else price_floor
                p = bottom + draw[s] * max(price_ceiling - bottom, 0.0)
                if bid is not None and p <= bid[0]:
                    surplus += values[bid[1], nb_used[bid[1]]] - c
                    prices.append(bid[0])
                    ns_used[sl] += 1
                    nb_used[bid[1]] += 1
                    bid = ask = None
                elif ask is None or p < ask[0]:
                    ask = (p, sl)
        eff.append(surplus / smax if smax > 0 else np.nan)
        trades.append(len(prices))
        mean_p.append(float(np.mean(prices)) if prices else np.nan)
        all_prices.append(np.array(prices))
    return DoubleAuctionResult(
        constrained=constrained,
        efficiency=np.array(eff),
        trades=np.array(trades),
        mean_price=np.array(mean_p),
        prices=all_prices,
        theory_price=0.5 * (lo + hi),
        theory_quantity=q,
        theory_surplus=smax,
    )


# ------------------------------------------------------------------------------------------------
# cobweb
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CobwebResult:
    price: np.ndarray  # (periods + 1,) P_0 .. P_T
    quantity: np.ndarray  # (periods + 1,) Q_0 .. Q_T (Q_0 = demand at P_0)
    theory_price: float  # P*
    theory_quantity: float  # Q*
    theory_ratio: float  # supply slope / demand slope (in quantity per unit price)
    measured_ratio: float  # geometric mean of |P_t+1 - P*| / |P_t - P*| before any bound binds
    regime: str  # "damped", "steady" or "exploding" (theory)
    converged: bool  # the simulated deviation ends below 1e-6 of the first
    bound_at: int | None = None  # the first period whose price the zero bound stopped (then the path is not linear)

    @property
    def deviation(self) -> np.ndarray:
        return self.price - self.theory_price


def cobweb(
    demand_intercept: float = 100.0,
    demand_slope: float = 1.0,
    supply_intercept: float = 10.0,
    supply_slope: float = 0.8,
    p0: float | None = None,
    periods: int = 40,
) -> CobwebResult:
    """Linear cobweb: demand Q = a - b P, supply Q_t = c + d P_{t-1} (producers plan on last period's
    price), and the price clears the market each period: P_t = (a - Q_t) / b.  Deviations from P* follow
    P_t - P* = -(d / b) (P_{t-1} - P*): damped when d < b, steady when d = b, exploding when d > b.
    Quantities and prices cannot go negative: a price the market would set below zero is clipped at zero
    (as a real market's would be: nobody pays to take the good away), and once that bound binds the path
    stops being linear.  A starting price ``p0`` must be positive (it is refused, not clipped)."""
    a, b, c, d = float(demand_intercept), float(demand_slope), float(supply_intercept), float(supply_slope)
    if not all(np.isfinite([a, b, c, d])) or (p0 is not None and not np.isfinite(p0)):
        raise ValueError("intercepts, slopes and the starting price must be finite numbers")
    if b <= 0 or d <= 0:
        raise ValueError("slopes are magnitudes and must be > 0: demand Q = a - b P, supply Q = c + d P")
    if not np.isfinite(d / b) or not np.isfinite((a - c) / (b + d)) or not np.isfinite(a / b):
        raise ValueError(
            "slopes so flat or steep that the equilibrium or the ratio of the slopes is not a finite number"
        )
    if p0 is not None and p0 <= 0:
        raise ValueError(f"the starting price p0 must be > 0, got {p0:g}")
    if a <= c:
        raise ValueError("demand intercept must exceed supply intercept for a positive equilibrium")
    p_star = (a - c) / (b + d)
    q_star = a - b * p_star
    p = [p_star * 1.5 if p0 is None else float(p0)]
    qs = [max(a - b * p[0], 0.0)]
    bound_at = None
    for t in range(1, periods + 1):
        q = max(c + d * p[-1], 0.0)
        price = (a - q) / b
        if price < 0 or c + d * p[-1] < 0:
            bound_at = t if bound_at is None else bound_at
            price = max(price, 0.0)
        qs.append(q)
        p.append(price)
    price = np.array(p)
    dev = np.abs(price - p_star)
    end = bound_at if bound_at is not None else periods + 1
    resolvable = dev > 1e-9 * max(1.0, abs(p_star))  # above float round-off
    end = min(end, int(np.argmin(resolvable)) if not resolvable.all() else end)
    steps = dev[1:end] / np.where(dev[: end - 1] > 0, dev[: end - 1], np.nan)
    steps = steps[np.isfinite(steps) & (steps > 0)]
    measured = float(np.exp(np.log(steps).mean())) if steps.size else 0.0
    ratio = d / b
    regime = "steady" if np.isclose(ratio, 1.0) else ("damped" if ratio < 1.0 else "exploding")
    converged = bool(dev[0] > 0 and dev[-1] < 1e-6 * dev[0])
    return CobwebResult(
        price=price,
        quantity=np.array(qs),
        theory_price=p_star,
        theory_quantity=q_star,
        theory_ratio=ratio,
        measured_ratio=measured,
        regime=regime,
        converged=converged,
        bound_at=bound_at,
    )
