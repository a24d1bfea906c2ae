"""Stage 2: the hourly compute market, day-ahead.

Providers bid for the GPU-hours their forecasts need, hour by hour; training labs bid their demand
curves; AIDCs ask per hour.  24 capacity products clear in one call (:mod:`abm.markets.compute`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

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
    # the market (by merit order when every component of the graph is complete) and the payments in one kernel;
    # otherwise, or if a step is out of range, the market's own function (which solves the LP, or says what is wrong)
    status, flow, buyer_price, aidc_price, ask_filled, payment, bought, lab_spent = _clear_and_pay(
        buyer, hour, pq, lq, pp, lp, aa, ah, aq, ap, lab_b, lab_a, n_comp, complete, prov.n
    )
    if status:
        res = clear_hourly_compute_market(
            buyer, hour, np.concatenate([pq, lq]), np.concatenate([pp, lp]), aa, ah, aq, ap, world.compute_edges
        )
        flow, buyer_price, aidc_price = res.flow_gpu_hours, res.buyer_price, res.aidc_price  # (P + L, A, 24) ...
        ask_filled = res.ask_filled_gpu_hours
        payment, bought, lab_spent = _payments(flow, aidc_price, prov.n)
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
    # the reserved GPU-hours added in place (at 1,000 entries of each kind a (B, A, 24) table is 0.4 GB)
    reserved_gpu_hours = add_reserved(flow, reserved.contract_provider, reserved.contract_aidc, reserved.delivered)
    return DayAhead(
        flow=flow,
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
):
    """:func:`clear_hourly_compute_market` on its fast path, then :func:`_payments`.  Status 0, or 1 (nothing else
    meaningful) if the graph needs the LP or a step is out of range."""
    qty = np.concatenate((provider_qty, lab_qty))
    price = np.concatenate((provider_price, lab_price))
    n_buyers, n_aidcs, hours = lab_b.size, lab_a.size, 24
    err, out, _ = _check_and_clear_hours(
        buyer, hour, qty, price, ask_aidc, ask_hour, ask_qty, ask_price, lab_b, lab_a, n_comp, hours, complete
    )
    if err or not complete:
        empty = np.empty((0, 0))
        return 1, np.empty((0, 0, 0)), empty, empty, qty, empty, empty, qty
    # [bid fill | ask fill | flow (B, A, H) | buyer price (B, H) | AIDC price (A, H)]
    k, j = qty.size, qty.size + ask_qty.size
    f = j + n_buyers * n_aidcs * hours
    g = f + n_buyers * hours
    flow = out[j:f].reshape((n_buyers, n_aidcs, hours))
    aidc_price = out[g:].reshape((n_aidcs, hours))
    payment, bought, lab_spent = _payments(flow, aidc_price, n_prov)
    return 0, flow, out[f:g].reshape((n_buyers, hours)), aidc_price, out[k:j], payment, bought, lab_spent


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
def _payments(flow, aidc_price, n_prov):
    """What each buyer pays each AIDC at the hourly prices (an hour without a price costs nothing), (B, A); the
    GPU-hours each buyer bought in each hour, (B, 24); what each lab paid in all, (L,).

    The payment adds up as numpy's ``einsum("bah,ah->ba")`` does on this build: two interleaved partial sums over
    the hours (even and odd), each taking four pairs of hours at a time from the last pair back, joined at the end."""
    n_buyers, n_aidcs, hours = flow.shape
    payment = np.empty((n_buyers, n_aidcs))
    bought = np.zeros((n_buyers, hours))
    for b in range(n_buyers):
        for a in range(n_aidcs):
            even = odd = 0.0
            h = 0
            while hours - h >= 8:
                for k in (6, 4, 2, 0):
                    even = flow[b, a, h + k] * nan_to_zero(aidc_price[a, h + k]) + even
                    odd = flow[b, a, h + k + 1] * nan_to_zero(aidc_price[a, h + k + 1]) + odd
                h += 8
            while h < hours:
                even = flow[b, a, h] * nan_to_zero(aidc_price[a, h]) + even
                if h + 1 < hours:
                    odd = flow[b, a, h + 1] * nan_to_zero(aidc_price[a, h + 1]) + odd
                h += 2
            payment[b, a] = even + odd
            for h in range(hours):
                bought[b, h] += flow[b, a, h]
    lab_spent = np.empty(n_buyers - n_prov)
    for j in range(lab_spent.size):
        lab_spent[j] = psum(payment[n_prov + j])
    return payment, bought, lab_spent
