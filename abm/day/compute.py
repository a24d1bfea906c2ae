"""Stage 2: the hourly compute market, day-ahead.

Providers bid for the GPU-hours their forecasts need, hour by hour; training labs bid their demand
curves; AIDCs ask per hour.  24 capacity products clear in one call (:mod:`abm.markets.compute`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tokenomy.abm.links import TradeLinks
from tokenomy.abm.markets.compute import _check_and_clear_hours, _components, clear_hourly_compute_market
from tokenomy.abm.results import ComputeBook, DayAhead
from tokenomy.abm.state import World
from tokenomy.agents.contracts import add_reserved
from tokenomy.agents.numeric import nan_to_zero, psum


def clear_day_ahead(world: World) -> DayAhead:
    prov, labs, aidcs = world.providers, world.labs, world.aidcs
    # reserved capacity first: the providers' term contracts take their GPUs before the market opens
    reserved = world.contracts.deliver(aidcs.available, prov.n + labs.n)
    prov.reserved_gpus = reserved.by_provider
    aidcs.hold_back(tight_hours(world)[aidcs.zone], reserved.by_aidc)
    pb, ph, pq, pp = prov.compute_bids()
    lb, lh, lq, lp = labs.compute_bids()
    aa, ah, aq, ap = aidcs.asks()
    buyer, hour, own = _bid_steps(world, pb, ph, lb, lh)
    if not (own and aa is aidcs._ask_owner and ah is aidcs._ask_hour):
        # a strategy of its own may hand over any array-likes: the kernel takes exact types
        pq, lq, pp, lp, aq, ap = (np.ascontiguousarray(x, dtype=np.float64).ravel() for x in (pq, lq, pp, lp, aq, ap))
        buyer, hour, aa, ah = (np.ascontiguousarray(x, dtype=np.int64).ravel() for x in (buyer, hour, aa, ah))
    lab_b, lab_a, n_comp, complete = _components(world.compute_edges)
    links = compute_links(world)
    # the market (by merit order when every component of the graph is complete) and the payments in one kernel, the
    # GPU-hours per pair that can trade (E, 24); otherwise, or if a step is out of range, the market's own function
    # (which solves the LP, or says what is wrong)
    status, flow, buyer_price, aidc_price, ask_filled, payment, bought, lab_spent = _clear_and_pay(
        buyer, hour, pq, lq, pp, lp, aa, ah, aq, ap, lab_b, lab_a, n_comp, complete, prov.n, links.ptr, links.seller
    )
    if status:
        res = clear_hourly_compute_market(
            buyer, hour, np.concatenate([pq, lq]), np.concatenate([pp, lp]), aa, ah, aq, ap, world.compute_edges
        )
        flow, buyer_price, aidc_price = links.to_pairs(res.flow_gpu_hours), res.buyer_price, res.aidc_price
        ask_filled = res.ask_filled_gpu_hours
        payment, bought, lab_spent = _payments(flow, links.ptr, links.seller, aidc_price, prov.n)
    prov.receive_compute(bought[: prov.n] + reserved.by_provider)
    labs.receive_compute(bought[prov.n :], lab_spent)
    world.compute_book_before = getattr(world, "compute_book", None)
    world.compute_book = ComputeBook(
        buyer,
        hour,
        np.concatenate([pq, lq]),
        np.concatenate([pp, lp]),
        aa,
        ah,
        np.array(aq, dtype=float),
        np.array(ap, dtype=float),
        np.array(ask_filled, dtype=float),
        aidc_price,
        bought,
    )
    # the reserved GPU-hours added in place, pair by pair
    reserved_gpu_hours = add_reserved(
        flow, links.ptr, links.seller, aidcs.n, reserved.contract_provider, reserved.contract_aidc, reserved.delivered
    )
    return DayAhead(
        flow=flow,
        links=links,
        reserved=reserved,
        reserved_gpu_hours=reserved_gpu_hours,
        buyer_price=buyer_price,
        aidc_price=aidc_price,
        payment=payment,
        ask_aidc=aa,
        ask_hour=ah,
        ask_qty=aq,
        ask_price=ap,
        ask_filled=ask_filled,
    )


def compute_links(world: World) -> TradeLinks:
    """The buyer-AIDC pairs of the compute market that can trade (its table of edges never changes: listed once)."""
    links = getattr(world, "_compute_links", None)
    if links is None:
        links = world._compute_links = TradeLinks.of(world.compute_edges)
    return links


def tight_hours(world: World) -> np.ndarray:
    """(Z, 24) the hours the grid expects to be tight tomorrow in each zone: its expected power price reaches
    ``markets.tight_price_share`` of the price cap.  Flexibly connected AIDC load holds its draw then."""
    m = world.data["markets"]
    return world.zone_price_forecast >= m["tight_price_share"] * m["power_price_cap_cny_per_mwh"]


@njit(cache=True)
def _clear_and_pay(
    buyer,
    hour,
    provider_qty,
    lab_qty,
    provider_price,
    lab_price,
    ask_aidc,
    ask_hour,
    ask_qty,
    ask_price,
    lab_b,
    lab_a,
    n_comp,
    complete,
    n_prov,
    pair_ptr,
    pair_aidc,
):
    """:func:`clear_hourly_compute_market` on its fast path, its flow kept per pair that can trade (``pair_ptr``,
    ``pair_aidc``: :class:`TradeLinks`), then :func:`_payments`.  Status 0, or 1 (nothing else meaningful) if the graph
    needs the LP or a step is out of range."""
    qty = np.concatenate((provider_qty, lab_qty))
    price = np.concatenate((provider_price, lab_price))
    n_buyers, n_aidcs, hours = lab_b.size, lab_a.size, 24
    err, out, _, bought_by_hour, aidc_share = _check_and_clear_hours(
        buyer, hour, qty, price, ask_aidc, ask_hour, ask_qty, ask_price, lab_b, lab_a, n_comp, hours, complete, False
    )
    if err or not complete:
        empty = np.empty((0, 0))
        return 1, empty, empty, empty, qty, empty, empty, qty
    # [bid fill | ask fill | buyer price (B, H) | AIDC price (A, H)]
    k, j = qty.size, qty.size + ask_qty.size
    g = j + n_buyers * hours
    aidc_price = out[g:].reshape((n_aidcs, hours))
    # each pair's GPU-hours, as the market's table holds them: what the buyer bought x the AIDC's share of the sales
    flow = np.empty((pair_aidc.size, hours))
    for b in range(n_buyers):
        for e in range(pair_ptr[b], pair_ptr[b + 1]):
            a = pair_aidc[e]
            for h in range(hours):
                ya = aidc_share[a, h]
                flow[e, h] = bought_by_hour[b, h] * ya if ya > 0.0 else 0.0
    payment, bought, lab_spent = _payments(flow, pair_ptr, pair_aidc, aidc_price, n_prov)
    return 0, flow, out[j:g].reshape((n_buyers, hours)), aidc_price, out[k:j], payment, bought, lab_spent


def _bid_steps(world: World, pb: np.ndarray, ph: np.ndarray, lb: np.ndarray, lh: np.ndarray) -> tuple[np.ndarray, ...]:
    """Buyer (providers, then labs) and hour of every bid step, and whether they are the groups' own layout.  The
    groups' own strategies lay their steps out the same way every day (in arrays the groups keep), so those are
    joined once."""
    prov, labs = world.providers, world.labs
    own = pb is prov._bid_owner and ph is prov._bid_hour and lb is labs._bid_owner and lh is labs._bid_hour
    if not own:
        return np.concatenate([pb, lb + prov.n]), np.concatenate([ph, lh]), False
    cached = getattr(world, "_bid_steps_cache", None)
    if cached is None:
        cached = world._bid_steps_cache = (np.concatenate([pb, lb + prov.n]), np.concatenate([ph, lh]), True)
    return cached


@njit(cache=True)
def _payments(flow, pair_ptr, pair_aidc, aidc_price, n_prov):
    """What each buyer pays each AIDC at the hourly prices (an hour without a price costs nothing), (B, A); the
    GPU-hours each buyer bought in each hour, (B, 24); what each lab paid in all, (L,).  ``flow`` (E, 24) holds the
    GPU-hours of the pairs that can trade (``pair_ptr``, ``pair_aidc``: :class:`TradeLinks`); the others pay 0.

    The payment adds up as numpy's ``einsum("bah,ah->ba")`` over the (B, A, 24) table does on this build: two
    interleaved partial sums over the hours (even and odd), each taking four pairs of hours at a time from the last
    pair back, joined at the end; each buyer's GPU-hours add up AIDC after AIDC (the table's zeros add nothing)."""
    n_buyers, n_aidcs, hours = pair_ptr.size - 1, aidc_price.shape[0], flow.shape[1]
    payment = np.zeros((n_buyers, n_aidcs))
    bought = np.zeros((n_buyers, hours))
    for b in range(n_buyers):
        for e in range(pair_ptr[b], pair_ptr[b + 1]):
            a = pair_aidc[e]
            even = odd = 0.0
            h = 0
            while hours - h >= 8:
                for k in (6, 4, 2, 0):
                    even = flow[e, h + k] * nan_to_zero(aidc_price[a, h + k]) + even
                    odd = flow[e, h + k + 1] * nan_to_zero(aidc_price[a, h + k + 1]) + odd
                h += 8
            while h < hours:
                even = flow[e, h] * nan_to_zero(aidc_price[a, h]) + even
                if h + 1 < hours:
                    odd = flow[e, h + 1] * nan_to_zero(aidc_price[a, h + 1]) + odd
                h += 2
            payment[b, a] = even + odd
            for h in range(hours):
                bought[b, h] += flow[e, h]
    lab_spent = np.empty(n_buyers - n_prov)
    for j in range(lab_spent.size):
        lab_spent[j] = psum(payment[n_prov + j])
    return payment, bought, lab_spent
