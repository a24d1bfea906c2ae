"""Token market: posted prices, logit demand split with inertia, hourly rationing, one spill-over.

Pure functions, numpy in / numpy out. Units: tokens in millions (Mtok), prices in CNY per Mtok.

1. :func:`logit_shares` -- each buyer ``b`` splits its demand over the providers it is connected
   to, by a logit on log price with switching costs (as in Dube, Hitsch and Rossi 2009): a provider's
   weight is ``w_p = appeal_p price_p ** -price_sensitivity`` (logit on log price: token prices span orders of
   magnitude; a provider's appeal -- a fresh model launch -- raises it, even for buyers who do not weigh price,
   ``price_sensitivity = 0``); every day each customer of provider ``q`` chooses again, with a bond ``theta`` to ``q``:
   ``P(p | q) = w_p theta^[p = q] / (sum_r w_r + (theta - 1) w_q)``.  ``inertia`` is the probability a
   customer stays when all prices are equal, so ``theta = inertia (n - 1) / (1 - inertia)`` for a buyer
   with ``n`` providers (no bond, ``theta = 1``, when ``inertia <= 1 / n``; a customer never leaves when
   ``inertia = 1``).  A small price gap moves few customers, a large one many.  The buyer's new demand
   today (``new_share``, a growing buyer's new customers) chooses without a bond: ``T_p = w_p / sum_r
   w_r``.  So ``share_p = (1 - new) sum_q share_q P(p | q) + new T_p``, where the previous split is
   first restricted to connected providers and renormalised (a buyer whose previous share there is all
   zero chooses afresh).  Buyers with no connected provider get an all-zero row.

2. :func:`clear_token_market` -- per hour ``h``:

   * Round 1: buyer ``b`` requests ``demand[b, h] * share[b, p]`` from provider ``p``. A provider
     whose total request exceeds its capacity rations proportionally: every buyer receives the
     same fraction ``capacity / requested`` of its request.
   * Round 2 (once): each buyer's rationed amount spills over to its other connected providers
     that still have room (a provider that rationed has none left). The spill-over maximises the
     total amount served and, among maximum allocations, minimises ``sum(price * spill)``: a
     min-cost max-flow on the bipartite graph rationed buyers -> providers with room.

     Fast path: in an hour where, in every connected component of the graph (one, when everyone may
     buy from everyone; one per consideration segment, :mod:`networks.consideration`), every rationed
     buyer is connected to every provider with room, the component's total rationed amount fills its
     providers' room in ascending price order (providers at the same price are filled pro rata to their
     room) and each provider's fill is shared among the component's buyers in proportion to their
     rationed amounts (hence every rationed buyer of a component gets the same served fraction
     ``total spill / total rationed``).
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

The result holds the aggregates the model uses: per pair daily totals (B, P), per provider hourly
(P, H), per buyer hourly unserved / rationed / spilled (B, H); the dense (B, P, H) allocation is
rebuilt on access (:attr:`TokenClearing.served_mtok`).

The logit split, round 1 and the fast spill-over run in compiled (numba) kernels: a day's market
is a few buyers and providers, so per-call overhead, not arithmetic, is what costs. Hours that
need the LP are handed back to Python (scipy).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from tokenomy.abm.markets.graph import components
from tokenomy.agents.choice import appeal_factor, bonded_logit_row, effective_prices, log_weights, switching_bond
from tokenomy.agents.numeric import bipartite_lists

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
    _same: np.ndarray | None = field(repr=False)  # (B, P) 1 where buyer and provider share a component of the graph
    _lp_triples: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = field(repr=False)

    @property
    def served_mtok(self) -> np.ndarray:
        """(B, P, H) tokens served to buyer b by provider p in hour h (both rounds); built on access."""
        served = self._share[:, :, None] * (self._demand[:, None, :] * self._keep[None, :, :])
        if self._spill_w is not None:
            served += self._spill_w[:, None, :] * self._spill_g[None, :, :] * self._same[:, :, None]
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
            spill += self._spill_w[:, None, :] * self._spill_g[None, :, :] * self._same[:, :, None]
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
    new_share: np.ndarray | float = 0.0,
    appeal: np.ndarray | None = None,
) -> np.ndarray:
    """Demand split (B, P) of each buyer over its connected providers (see module docstring).

    Args:
        price_cny_per_mtok: (P,) posted prices, must be > 0.
        edges: (B, P) bool, buyer b can buy from provider p.
        previous_share: (B, P) yesterday's split (>= 0).
        price_sensitivity: logit coefficient on ln(price).
        inertia: probability a customer stays with its provider when all prices are equal, in [0, 1].
        new_share: share of each buyer's demand that is new today and chooses without a bond, in [0, 1]: one
            number or (B,).
        appeal: (P,) each provider's appeal, a factor >= 1 on its logit weight (a fresh model launch; 1 if not
            given).
    """
    price = _array(price_cny_per_mtok, np.float64, 1)
    edges = _array(edges, np.bool_, 2)
    if edges.shape[1] != price.size:
        raise ValueError("shape mismatch: price (P,), edges and previous_share (B, P)")
    prev = _broadcast(previous_share, edges.shape)
    if not 0.0 <= inertia <= 1.0:
        raise ValueError("inertia must be in [0, 1]")
    new = np.broadcast_to(np.asarray(new_share, dtype=np.float64), (edges.shape[0],))
    if not ((new >= 0.0) & (new <= 1.0)).all():
        raise ValueError("new_share must be in [0, 1]")
    appeal = np.ones(price.size) if appeal is None else _array(appeal, np.float64, 1)
    if appeal.shape != price.shape or not (np.isfinite(appeal) & (appeal > 0.0)).all():
        raise ValueError("appeal must be (P,), finite and > 0")
    sigma = float(price_sensitivity)
    ok, share = _logit_shares(
        price, appeal_factor(appeal, sigma), appeal, edges, prev, sigma, float(inertia), np.ascontiguousarray(new)
    )
    if not ok:
        raise ValueError("token prices must be > 0 (the logit is on log price)")
    return share


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
    demand = _array(demand_mtok, np.float64, 2)
    cap = _array(capacity_mtok, np.float64, 2)
    price = _array(price_cny_per_mtok, np.float64, 1)
    edges = _array(edges, np.bool_, 2)
    B, H = demand.shape
    P = price.shape[0]
    if cap.shape != (P, H) or edges.shape != (B, P):
        raise ValueError("shape mismatch: demand (B, H), share/edges (B, P), capacity (P, H), price (P,)")
    share = _broadcast(share, (B, P))

    lab_b, lab_p, n_comp, _ = components(edges)
    ok, bh, ph, bp, vec, n_fast, lp_hours = _clear(
        demand, share, cap, price, edges, lab_b, lab_p, n_comp, bool(force_lp)
    )
    if not ok:
        raise ValueError("demand and capacity must be >= 0")
    rationed, spilled, unserved, spill_w = bh
    by_provider, keep, room, spill_g = ph
    sh, pair = bp
    revenue, spend, tot = vec[:P], vec[P : P + B], vec[P + B :]
    if n_fast == 0:
        spill_w = spill_g = None
    triples = None
    if lp_hours.size:
        triples = _spill_lp(rationed, room, price, edges, lp_hours)
        if triples is not None:
            b, p, h, s = triples
            spilled += np.bincount(b * H + h, weights=s, minlength=B * H).reshape(B, H)
            by_provider += np.bincount(p * H + h, weights=s, minlength=P * H).reshape(P, H)
            pair += np.bincount(b * P + p, weights=s, minlength=B * P).reshape(B, P)
            _totals(demand, tot, rationed, spilled, by_provider, pair, price, unserved, revenue, spend)
    return TokenClearing(
        served_by_provider_mtok=by_provider,
        served_pair_mtok=pair,
        unserved_mtok=unserved,
        rationed_mtok=rationed,
        spilled_mtok=spilled,
        revenue_cny=revenue,
        spend_cny=spend,
        used_lp=bool(lp_hours.size),
        _share=sh,
        _demand=demand,
        _keep=keep,
        _spill_w=spill_w,
        _spill_g=spill_g,
        _same=None if spill_w is None else (lab_b[:, None] == lab_p[None, :]).astype(np.float64),
        _lp_triples=triples,
    )


def _array(x, dtype, ndim: int) -> np.ndarray:
    """``x`` as a C-contiguous array of ``dtype`` (no copy if it is one); ``ndim`` is checked."""
    x = np.ascontiguousarray(x, dtype=dtype)
    if x.ndim != ndim:
        raise ValueError(f"expected a {ndim}-d array, got shape {x.shape}")
    return x


def _broadcast(x, shape: tuple[int, int]) -> np.ndarray:
    """``x`` broadcast to ``shape`` as a C-contiguous float array (no copy if it already is one)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    return x if x.shape == shape else np.ascontiguousarray(np.broadcast_to(x, shape))


# --------------------------------------------------------------------------------------------
# kernels (numba)
# --------------------------------------------------------------------------------------------
@njit(cache=True)
def _logit_shares(price, factor, appeal, edges, prev, sensitivity, inertia, new):
    """Returns (all prices > 0, shares); the shares are meaningless if a price is not.  ``factor`` is
    :func:`agents.choice.appeal_factor` of the ``appeal``."""
    B, P = edges.shape
    share = np.zeros((B, P))
    for p in range(P):
        if not price[p] > 0.0:
            return False, share
    effective, stands = effective_prices(price, factor)
    logit = -sensitivity * np.log(effective) if stands else log_weights(price, appeal, sensitivity)
    w = np.empty(P)
    before = np.empty(P)
    for b in range(B):
        top = -np.inf
        n = 0
        for p in range(P):
            if edges[b, p]:
                n += 1
                if logit[p] > top:
                    top = logit[p]
        if n == 0:  # buyers with no provider
            continue
        total = 0.0
        for p in range(P):
            w[p] = np.exp(logit[p] - top) if edges[b, p] else 0.0
            total += w[p]
        kept = 0.0
        for p in range(P):
            before[p] = prev[b, p] if edges[b, p] else 0.0
            kept += before[p]
        bonded_logit_row(w, before, total, kept, switching_bond(inertia, n), new[b], edges[b], share[b])
    return True, share


@njit(cache=True)
def _clear(demand, share, cap, price, edges, lab_b, lab_p, n_comp, force_lp):  # noqa: C901 -- a compiled kernel: one loop nest, kept whole for speed
    """Checks, round 1 and the fast spill-over; lists the hours left to the LP (shapes checked by the caller).

    Returns (ok, bh, ph, bp, vec, number of fast spill-over hours, LP hours); the results are
    stacked so that few arrays cross back to Python:
    ``bh`` (4, B, H): rationed, spilled, unserved, fast spill-over buyer weights;
    ``ph`` (4, P, H): served by provider, round-1 fraction served, room after round 1, fast spill-over
    provider fills; ``bp`` (2, B, P): effective split, served pair totals; ``vec`` (P + 2B): revenue,
    spend, row totals of the split restricted to the edges. ``ok`` is False (and nothing is computed)
    if demand or capacity has a negative entry.
    """
    B, H = demand.shape
    P = price.size
    bh = np.zeros((4, B, H))
    ph = np.zeros((4, P, H))
    bp = np.zeros((2, B, P))
    vec = np.zeros(P + 2 * B)
    no_lp = np.empty(0, np.int64)
    for a in (demand, cap):
        for i in range(a.shape[0]):
            for h in range(H):
                if a[i, h] < 0.0:
                    return False, bh, ph, bp, vec, 0, no_lp
    rationed, spilled, unserved, spill_w = bh[0], bh[1], bh[2], bh[3]
    by_provider, keep, room, spill_g = ph[0], ph[1], ph[2], ph[3]
    sh, pair = bp[0], bp[1]
    tot = vec[P + B :]
    # the sums below run over the pairs that can trade (each provider's buyers, each buyer's providers, in increasing
    # order), which add what the sums over every pair add (the split is 0 elsewhere, and 0 x a finite number adds
    # nothing) in work in proportion to the pairs: over every pair if a demand is not finite (0 x inf is NaN)
    finite = True
    for b in range(B):
        for h in range(H):
            finite &= demand[b, h] < np.inf
    row_ptr, row_idx, col_ptr, col_idx = bipartite_lists(edges if finite else np.ones((B, P), np.bool_))
    complete = _complete(edges, lab_b, lab_p, n_comp)

    # the split restricted to the edges, rows with a positive total renormalised
    row = np.empty(P)
    for b in range(B):
        for p in range(P):
            row[p] = share[b, p] if edges[b, p] else 0.0
        tot[b] = row.sum()
        if tot[b] > 0.0:
            for p in range(P):
                sh[b, p] = row[p] / tot[b]

    # round 1: proportional rationing per provider-hour
    for p in range(P):
        for h in range(H):
            asked = 0.0  # requested
            for k in range(col_ptr[p], col_ptr[p + 1]):
                b = col_idx[k]
                asked += sh[b, p] * demand[b, h]
            if asked > cap[p, h]:
                keep[p, h] = cap[p, h] / asked  # fraction served
                by_provider[p, h] = cap[p, h]
            else:
                keep[p, h] = 1.0
                room[p, h] = cap[p, h] - asked
                by_provider[p, h] = asked
    for b in range(B):
        for h in range(H):
            cut = 0.0
            for k in range(row_ptr[b], row_ptr[b + 1]):
                p = row_idx[k]
                cut += sh[b, p] * (1.0 - keep[p, h])
            rationed[b, h] = cut * demand[b, h]
        for k in range(row_ptr[b], row_ptr[b + 1]):
            p = row_idx[k]
            kept = 0.0
            for h in range(H):
                kept += demand[b, h] * keep[p, h]
            pair[b, p] = sh[b, p] * kept

    # round 2 in the hours with a rationed buyer and a provider with room: the fast path where, in every component
    # of the graph, every rationed buyer is connected to every provider with room; the LP for the others
    fast = np.zeros(H, np.bool_)
    lp = np.zeros(H, np.bool_)
    for h in range(H):
        need = False
        for b in range(B):
            need |= rationed[b, h] > 0.0
        has_room = False
        for p in range(P):
            has_room |= room[p, h] > 0.0
        if not (need and has_room):
            continue
        missing = force_lp
        for p in range(P):
            if room[p, h] > 0.0 and not complete:  # (in complete components every pair of a component trades)
                for b in range(B):
                    missing |= rationed[b, h] > 0.0 and not edges[b, p] and lab_b[b] == lab_p[p]
        lp[h] = missing
        fast[h] = not missing
    n_fast = np.count_nonzero(fast)
    if n_fast:
        _spill_fast(rationed, room, price, fast, lab_b, lab_p, n_comp, spill_w, spill_g)
        g_tot = np.zeros(n_comp)
        for h in range(H):
            g_tot[:] = 0.0
            for p in range(P):
                g_tot[lab_p[p]] += spill_g[p, h]
                by_provider[p, h] += spill_g[p, h]
            for b in range(B):
                spilled[b, h] = spill_w[b, h] * g_tot[lab_b[b]]
        for b in range(B):
            for k in range(row_ptr[b], row_ptr[b + 1]) if complete and finite else range(P):
                p = row_idx[k] if complete and finite else k
                if lab_b[b] != lab_p[p]:
                    continue
                s = 0.0
                for h in range(H):
                    s += spill_w[b, h] * spill_g[p, h]
                pair[b, p] += s
    _totals(demand, tot, rationed, spilled, by_provider, pair, price, unserved, vec[:P], vec[P : P + B])
    return True, bh, ph, bp, vec, n_fast, np.flatnonzero(lp)


@njit(cache=True)
def _complete(edges, lab_b, lab_p, n_comp):
    """Whether every component of the graph is complete bipartite (its pairs number its buyers x its providers)."""
    n_b, n_p = np.zeros(n_comp, np.int64), np.zeros(n_comp, np.int64)
    for b in range(lab_b.size):
        n_b[lab_b[b]] += 1
    for p in range(lab_p.size):
        n_p[lab_p[p]] += 1
    pairs = 0
    for c in range(n_comp):
        pairs += n_b[c] * n_p[c]
    n_edges = 0
    for b in range(edges.shape[0]):
        for p in range(edges.shape[1]):
            n_edges += edges[b, p]
    return n_edges == pairs


@njit(cache=True)
def _totals(demand, tot, rationed, spilled, by_provider, pair, price, unserved, revenue, spend):
    """Fills unserved (B, H), revenue (P,) and spend (B,) from the served amounts."""
    B, H = demand.shape
    P = price.size
    for b in range(B):
        for h in range(H):
            u = rationed[b, h] - spilled[b, h] if tot[b] > 0.0 else demand[b, h]
            unserved[b, h] = 0.0 if u < 0.0 else u  # float rounding only
        s = 0.0
        for p in range(P):
            s += pair[b, p] * price[p]
        spend[b] = s
    for p in range(P):
        revenue[p] = price[p] * by_provider[p].sum()


@njit(cache=True)
def _spill_fast(rationed, room, price, fast, lab_b, lab_p, n_comp, w, g):
    """Spill-over in the ``fast`` hours, in each component of the graph (where every rationed buyer reaches every
    provider with room): cheapest providers first.

    Fills buyer weights ``w`` (B, H) (rationed share of its component's total in the hour) and provider fills ``g``
    (P, H) in those hours (other hours are left as they are); the spill of buyer b at provider p of its component in
    hour h is ``w[b, h] * g[p, h]``.
    """
    B, H = rationed.shape
    P = price.size
    order = np.argsort(price, kind="mergesort")  # stable
    # the providers of each component in price order, and its buyers
    p_ptr = np.zeros(n_comp + 1, np.int64)
    for p in range(P):
        p_ptr[lab_p[p] + 1] += 1
    for c in range(n_comp):
        p_ptr[c + 1] += p_ptr[c]
    members = np.empty(P, np.int64)
    at = p_ptr[:-1].copy()
    for i in range(P):
        p = order[i]
        members[at[lab_p[p]]] = p
        at[lab_p[p]] += 1
    total = np.zeros(n_comp)
    for h in range(H):
        if not fast[h]:
            continue
        total[:] = 0.0
        for b in range(B):
            total[lab_b[b]] += rationed[b, h]
        for c in range(n_comp):
            before = 0.0  # room of the cheaper levels
            s = p_ptr[c]
            while s < p_ptr[c + 1]:
                e = s + 1
                lvl_room = room[members[s], h]
                while e < p_ptr[c + 1] and price[members[e]] == price[members[s]]:
                    lvl_room += room[members[e], h]
                    e += 1
                lvl_fill = min(max(total[c] - before, 0.0), lvl_room)
                if e - s == 1:
                    g[members[s], h] = lvl_fill
                else:  # providers at the same price: filled pro rata to their room
                    frac = lvl_fill / lvl_room if lvl_room > 0.0 else 0.0
                    for i in range(s, e):
                        g[members[i], h] = room[members[i], h] * frac
                before += lvl_room
                s = e
        for b in range(B):
            t = total[lab_b[b]]
            w[b, h] = rationed[b, h] / t if t > 0.0 else 0.0


def _spill_lp(rationed, room, price, edges, hours):
    """Min-cost max-flow for the given hours, one LP. Returns (b, p, h, amount) triples or None.

    In a given hour, rationed buyers that can reach the same set of providers with room are
    interchangeable, so they are merged into one LP node (capacity = their summed rationed amount)
    and the node's spill is split among them in proportion to their rationed amounts. This keeps
    the optimum and shrinks the LP a lot when capacity is tight (few providers have room).
    """
    # scipy loads only when a market needs an LP (most days need none)
    from scipy import sparse
    from scipy.optimize import linprog

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
        uniq, first, member = np.unique(np.column_stack((t_n, reach)), axis=0, return_index=True, return_inverse=True)
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
