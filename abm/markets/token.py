"""Token market: posted prices, logit demand split with inertia, hourly rationing, one spill-over.

Pure functions, numpy in / numpy out. Units: tokens in millions (Mtok), prices in CNY per Mtok.

1. :func:`logit_shares` -- each buyer ``b`` splits its demand over the providers it is connected
   to. Target share ``∝ exp(-price_sensitivity * ln(price_p))`` = ``price_p ** -price_sensitivity``
   (logit on log price: token prices span orders of magnitude), then
   ``share = inertia * previous_share + (1 - inertia) * target`` where ``previous_share`` is first
   restricted to connected providers and renormalised (a buyer whose previous share there is all
   zero uses the target). Buyers with no connected provider get an all-zero row.

2. :func:`clear_token_market` -- per hour ``h``:

   * Round 1: buyer ``b`` requests ``demand[b, h] * share[b, p]`` from provider ``p``. A provider
     whose total request exceeds its capacity rations proportionally: every buyer receives the
     same fraction ``capacity / requested`` of its request.
   * Round 2 (once): each buyer's rationed amount spills over to its other connected providers
     that still have room (a provider that rationed has none left). The spill-over maximises the
     total amount served and, among maximum allocations, minimises ``sum(price * spill)``: a
     min-cost max-flow on the bipartite graph rationed buyers -> providers with room.

     Fast path (vectorised over hours): in an hour where every rationed buyer is connected to
     every provider with room, the total rationed amount fills the providers' room in ascending
     price order (providers at the same price are filled pro rata to their room) and each
     provider's fill is shared among buyers in proportion to their rationed amounts (hence every
     rationed buyer gets the same served fraction ``total spill / total rationed``).
     LP path: all remaining hours with something to spill are solved as one HiGHS LP
     (``linprog``, sparse; in each hour, rationed buyers reaching the same providers with room
     are merged into one node and share its spill pro rata to their rationed amounts), with
     objective ``sum((price_p - M) * s)``, ``M = max(price) + 1``. On this graph every augmenting
     path changes the cost by exactly the price of its last provider, so any such ``M`` makes the
     optimum a maximum flow of minimum cost.

   Everything not served is reported in ``unserved_mtok``; ``served + unserved == demand`` for
   every buyer-hour (up to float rounding); buyers without any connected provider are unserved.

The share matrix passed to :func:`clear_token_market` is restricted to ``edges`` and each row with
a positive total is renormalised to sum to one (rows from :func:`logit_shares` already do). A
buyer whose restricted row is all zero requests nothing and all its demand is unserved.

The served amounts are returned as a dense (B, P, H) array (B*P*H floats, 14 400 for the medium
case; allocating it is cheaper than any sparse representation at these sizes) together with the
aggregates the model uses: per pair daily totals (B, P), per provider hourly (P, H), per buyer
hourly unserved / rationed / spilled (B, H).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

__all__ = ["TokenClearing", "clear_token_market", "logit_shares"]


@dataclass(frozen=True, slots=True)
class TokenClearing:
    """Result of :func:`clear_token_market`. Tokens in Mtok, money in CNY.

    The full (B, P, H) allocation is not stored: it is ``share (B,P) x demand*keep (B,H,P)`` from
    round 1 plus a rank-one-per-hour fast spill-over plus a few LP triples, and the model only
    uses the aggregates. :attr:`served_mtok` rebuilds the dense array on access.
    """

    served_by_provider_mtok: np.ndarray  # (P, H)
    served_pair_mtok: np.ndarray  # (B, P) daily totals
    unserved_mtok: np.ndarray  # (B, H)
    rationed_mtok: np.ndarray  # (B, H) cut by round-1 rationing (before spill-over)
    spilled_mtok: np.ndarray  # (B, H) served in the spill-over round
    revenue_cny: np.ndarray  # (P,)
    spend_cny: np.ndarray  # (B,)
    used_lp: bool
    # compact factors of the (B, P, H) allocation
    _share: np.ndarray = field(repr=False)  # (B, P) effective round-1 split
    _demand: np.ndarray = field(repr=False)  # (B, H)
    _keep: np.ndarray = field(repr=False)  # (P, H) round-1 fraction served
    _spill_w: np.ndarray | None = field(repr=False)  # (B, H) fast-path buyer weights
    _spill_g: np.ndarray | None = field(repr=False)  # (P, H) fast-path provider fill
    _lp_triples: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = field(repr=False)

    @property
    def served_mtok(self) -> np.ndarray:
        """(B, P, H) tokens served to buyer b by provider p in hour h (both rounds); built on access."""
        served = self._share[:, :, None] * (self._demand[:, None, :] * self._keep[None, :, :])
        if self._spill_w is not None:
            served += self._spill_w[:, None, :] * self._spill_g[None, :, :]
        if self._lp_triples is not None:
            b, p, h, s = self._lp_triples
            served[b, p, h] += s
        return served

    @property
    def spill_mtok(self) -> np.ndarray:
        """(B, P, H) the spill-over part of :attr:`served_mtok`; built on access."""
        B, P, H = self._share.shape + (self._demand.shape[1],)
        spill = np.zeros((B, P, H))
        if self._spill_w is not None:
            spill += self._spill_w[:, None, :] * self._spill_g[None, :, :]
        if self._lp_triples is not None:
            b, p, h, s = self._lp_triples
            spill[b, p, h] += s
        return spill


def logit_shares(
    price_cny_per_mtok: np.ndarray,
    edges: np.ndarray,
    previous_share: np.ndarray,
    price_sensitivity: float,
    inertia: float,
) -> np.ndarray:
    """Demand split (B, P) of each buyer over its connected providers (see module docstring).

    Args:
        price_cny_per_mtok: (P,) posted prices, must be > 0.
        edges: (B, P) bool, buyer b can buy from provider p.
        previous_share: (B, P) yesterday's split (>= 0).
        price_sensitivity: logit coefficient on ln(price).
        inertia: weight of the previous share, in [0, 1].
    """
    price = np.asarray(price_cny_per_mtok, dtype=float)
    edges = np.asarray(edges, dtype=bool)
    prev = np.asarray(previous_share, dtype=float)
    if price.size and price.min() <= 0.0:
        raise ValueError("token prices must be > 0 (the logit is on log price)")
    if not 0.0 <= inertia <= 1.0:
        raise ValueError("inertia must be in [0, 1]")
    logit = -price_sensitivity * np.log(price)  # (P,)
    masked = np.where(edges, logit, -np.inf)
    top = masked.max(axis=1, initial=-np.inf, keepdims=True)
    top[~np.isfinite(top)] = 0.0  # buyers with no provider
    w = np.exp(masked - top)  # exp(-inf) = 0 off the edges
    tot = w.sum(axis=1, keepdims=True)
    target = np.divide(w, tot, out=np.zeros_like(w), where=tot > 0)
    if inertia == 0.0:
        return target
    p = np.where(edges, prev, 0.0)
    ptot = p.sum(axis=1, keepdims=True)
    has_prev = ptot > 0
    p = np.divide(p, ptot, out=target.copy(), where=has_prev)  # all-zero previous -> target
    if inertia == 1.0:
        return p
    return inertia * p + (1.0 - inertia) * target


def clear_token_market(
    demand_mtok: np.ndarray,
    share: np.ndarray,
    capacity_mtok: np.ndarray,
    price_cny_per_mtok: np.ndarray,
    edges: np.ndarray,
    *,
    force_lp: bool = False,
) -> TokenClearing:
    """Clear one day of the token market (see module docstring).

    Args:
        demand_mtok: (B, H) >= 0, tokens each buyer wants each hour.
        share: (B, P) demand split, e.g. from :func:`logit_shares`.
        capacity_mtok: (P, H) >= 0, tokens each provider can serve each hour.
        price_cny_per_mtok: (P,) posted prices (spill-over prefers cheaper providers).
        edges: (B, P) bool.
        force_lp: solve every spill-over hour with the LP (testing/benchmarks).
    """
    demand = np.asarray(demand_mtok, dtype=float)
    cap = np.asarray(capacity_mtok, dtype=float)
    price = np.asarray(price_cny_per_mtok, dtype=float)
    edges = np.asarray(edges, dtype=bool)
    B, H = demand.shape
    P = price.shape[0]
    if cap.shape != (P, H) or edges.shape != (B, P):
        raise ValueError("shape mismatch: demand (B, H), share/edges (B, P), capacity (P, H), price (P,)")
    if (demand.size and demand.min() < 0.0) or (cap.size and cap.min() < 0.0):
        raise ValueError("demand and capacity must be >= 0")

    sh = np.where(edges, share, 0.0)
    tot = sh.sum(axis=1, keepdims=True)
    sh = np.divide(sh, tot, out=np.zeros_like(sh), where=tot > 0)

    # round 1: proportional rationing per provider-hour
    asked = sh.T @ demand  # (P, H) requested
    over = asked > cap
    keep = np.divide(cap, asked, out=np.ones_like(asked), where=over)  # fraction served
    room = np.where(over, 0.0, cap - asked)
    rationed = (sh @ (1.0 - keep)) * demand  # (B, H), >= 0
    by_provider = np.where(over, cap, asked)  # round-1 served (P, H)
    pair = sh * (demand @ keep.T)  # round-1 served (B, P)

    used_lp = False
    spill_w = spill_g = triples = None
    need = rationed > 0.0
    has_room = room > 0.0
    spill_hours = need.any(axis=0) & has_room.any(axis=0)  # (H,)
    if spill_hours.any():
        if force_lp:
            lp_hours = spill_hours
        else:
            # an hour needs the LP if some rationed buyer is not connected to some provider with room
            missing = need.T.astype(float) @ (~edges).astype(float)  # (H, P) count
            lp_hours = spill_hours & ((missing > 0.0) & has_room.T).any(axis=1)
        any_lp = bool(lp_hours.any())
        if (spill_hours & ~lp_hours).any():
            spill_w, spill_g = _spill_fast(rationed, room, price)
            if any_lp:
                spill_w[:, lp_hours] = 0.0
                spill_g[:, lp_hours] = 0.0
            spilled = spill_w * spill_g.sum(axis=0)
            by_provider += spill_g
            pair += spill_w @ spill_g.T
        else:
            spilled = np.zeros((B, H))
        if any_lp:
            used_lp = True
            hours = np.flatnonzero(lp_hours)
            triples = _spill_lp(rationed, room, price, edges, hours)
            if triples is not None:
                b, p, h, s = triples
                spilled += np.bincount(b * H + h, weights=s, minlength=B * H).reshape(B, H)
                by_provider += np.bincount(p * H + h, weights=s, minlength=P * H).reshape(P, H)
                pair += np.bincount(b * P + p, weights=s, minlength=B * P).reshape(B, P)
    else:
        spilled = np.zeros((B, H))

    unserved = np.where(tot > 0, rationed - spilled, demand)
    unserved[unserved < 0.0] = 0.0  # float rounding only
    revenue = price * by_provider.sum(axis=1)
    spend = pair @ price
    return TokenClearing(
        served_by_provider_mtok=by_provider,
        served_pair_mtok=pair,
        unserved_mtok=unserved,
        rationed_mtok=rationed,
        spilled_mtok=spilled,
        revenue_cny=revenue,
        spend_cny=spend,
        used_lp=used_lp,
        _share=sh,
        _demand=demand,
        _keep=keep,
        _spill_w=spill_w,
        _spill_g=spill_g,
        _lp_triples=triples,
    )


def _spill_fast(rationed, room, price) -> tuple[np.ndarray, np.ndarray]:
    """Complete-bipartite spill-over for all hours at once: cheapest providers first.

    Returns buyer weights ``w`` (B, H) (rationed share of the hour's total) and provider fills
    ``g`` (P, H); the spill of buyer b at provider p in hour h is ``w[b, h] * g[p, h]``.
    """
    total = rationed.sum(axis=0)  # (H,)
    order = np.argsort(price, kind="stable")
    ps = price[order]
    rms = room[order]
    if ps.size > 1 and (ps[1:] == ps[:-1]).any():
        # providers at the same price form one level, filled pro rata to their room
        new_lvl = np.empty(ps.size, dtype=bool)
        new_lvl[0] = True
        np.not_equal(ps[1:], ps[:-1], out=new_lvl[1:])
        lvl_of = np.cumsum(new_lvl) - 1
        lvl_room = np.add.reduceat(rms, np.flatnonzero(new_lvl), axis=0)  # (L, H)
    else:
        lvl_of = None
        lvl_room = rms
    before = np.zeros_like(lvl_room)
    np.cumsum(lvl_room[:-1], axis=0, out=before[1:])
    lvl_fill = np.minimum(np.maximum(total - before, 0.0), lvl_room)
    if lvl_of is None:
        fill = lvl_fill
    else:
        frac = np.divide(lvl_fill, lvl_room, out=np.zeros_like(lvl_room), where=lvl_room > 0)
        fill = rms * frac[lvl_of]
    g = np.empty_like(rms)
    g[order] = fill
    w = np.divide(rationed, total, out=np.zeros_like(rationed), where=total > 0)
    return w, g


def _spill_lp(rationed, room, price, edges, hours):
    """Min-cost max-flow for the given hours, one LP. Returns (b, p, h, amount) triples or None.

    In a given hour, rationed buyers that can reach the same set of providers with room are
    interchangeable, so they are merged into one LP node (capacity = their summed rationed amount)
    and the node's spill is split among them in proportion to their rationed amounts. This keeps
    the optimum and shrinks the LP a lot when capacity is tight (few providers have room).
    """
    r_all = rationed[:, hours]  # (B, nh)
    rm = room[:, hours]  # (P, nh)
    P, nh = rm.shape
    b_n, t_n = np.nonzero(r_all > 0)  # rationed buyer-hours
    reach = edges[b_n] & (rm[:, t_n] > 0).T  # (m, P) providers with room each can reach
    if P <= 52:  # encode (hour, reach set) as one integer: a 1-d unique is much cheaper
        key = reach.astype(np.int64) @ (np.int64(1) << np.arange(P, dtype=np.int64)) + (t_n << P)
        uniq, first, member = np.unique(key, return_index=True, return_inverse=True)
        t_g, pat = t_n[first], reach[first]
    else:
        uniq, first, member = np.unique(np.column_stack((t_n, reach)), axis=0, return_index=True,
                                        return_inverse=True)
        t_g, pat = t_n[first], reach[first]
    member = member.reshape(-1)
    G = uniq.shape[0]
    r_n = r_all[b_n, t_n]
    r_g = np.bincount(member, weights=r_n, minlength=G)
    g_i, p_i = np.nonzero(pat)
    n = g_i.size
    if n == 0:
        return None
    big_m = float(price.max()) + 1.0
    cost = price[p_i] - big_m
    row_p = p_i * nh + t_g[g_i]  # provider-hour rows
    cols = np.arange(n)
    a_ub = sparse.csc_array(
        (np.ones(2 * n), (np.concatenate((g_i, G + row_p)), np.concatenate((cols, cols)))),
        shape=(G + P * nh, n),
    )
    b_ub = np.concatenate((r_g, rm.ravel()))
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=(0.0, None), method="highs")
    if res.status != 0:
        raise RuntimeError(f"token spill-over LP failed: {res.message}")
    s = np.maximum(res.x, 0.0)
    # remove solver-tolerance overshoot so that the bounds hold exactly
    for idx, ub in ((g_i, r_g), (row_p, rm.ravel())):
        tot = np.bincount(idx, weights=s, minlength=ub.size)
        scale = np.divide(ub, tot, out=np.ones_like(tot), where=tot > ub)
        s *= scale[idx]
    # split each group's spill among its buyer-hours pro rata to their rationed amounts
    s_g = np.zeros((G, P))
    s_g[g_i, p_i] = s
    s_n = s_g[member] * (r_n / r_g[member])[:, None]  # (m, P)
    k, p = np.nonzero(s_n)
    return b_n[k], p, hours[t_n[k]], s_n[k, p]
