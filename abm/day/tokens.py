"""Stage 3: token demand, the token market and the spot top-up.

Buyers split their demand over providers by a logit on posted prices (with inertia), want tokens at the
price they expect to pay, and are served hour by hour from what providers bought day-ahead; a provider's
rationed buyers spill over once to rivals with room.  What is still unserved may be served from idle
GPU-hours bought on the spot (:mod:`abm.markets.top_up`).  The compute actually used follows from the
tokens served: GPUs a provider bought but did not need in an hour stay visibly idle.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tokenomy.abm.markets.graph import components
from tokenomy.abm.markets.token import _clear, _logit_shares, clear_token_market, logit_shares
from tokenomy.abm.markets.top_up import _check as _check_top_up
from tokenomy.abm.markets.top_up import _top_up, top_up_unserved
from tokenomy.abm.results import ComputeDay, DayAhead, TokenDay
from tokenomy.abm.state import World
from tokenomy.agents.aidc import TRANCHE_SHARE
from tokenomy.agents.numeric import edge_at, nan_max, nan_min, psum, psum_at


def clear_tokens(world: World, ahead: DayAhead) -> tuple[TokenDay, ComputeDay]:
    prov, apps, ents = world.providers, world.apps, world.enterprises
    m = world.data["markets"]
    sensitivity = m["token_price_sensitivity"]
    price = prov.price.copy()
    factor = prov.appeal_factor(sensitivity)
    inertia = float(m["token_inertia"])
    world.new_share, ok, share = _shares(
        world.demand_seen, price, factor, prov.appeal, world.token_edges, world.share, float(sensitivity), inertia
    )
    if not ok:  # the market's own function says what is wrong
        share = logit_shares(price, world.token_edges, world.share, sensitivity, inertia, world.new_share, prov.appeal)
    world.share = share
    expected = world.share @ price if prov.n else np.zeros(world.n_buyers)
    na = apps.n
    app_demand, app_elasticity = apps.demand_and_elasticity(expected[:na])
    ent_demand, ent_elasticity = ents.demand_and_elasticity(expected[na:])
    demand = np.concatenate([app_demand, ent_demand])
    elasticity = np.concatenate([app_elasticity, ent_elasticity])
    hourly = demand[:, None] * world.buyer_profile
    eff = prov.params["mtok_per_gpu_hour"]
    value = prov.token_value()
    reserved = ahead.reserved
    links = ahead.links
    # the token market, the top-up and the compute it used, in one kernel -- unless an hour's spill-over needs the
    # market's LP or an input is out of range, when the markets' own functions take over (and say what is wrong)
    (
        status,
        served_pair,
        by_provider,
        unserved,
        topped_up,
        served_b,
        top_up_flow,
        flow,
        payment,
        token_busy,
        busy,
        sold,
        fill,
        ask_unsold,
        volume,
        paid,
    ) = _serve(
        hourly,
        world.share,
        prov.bought_gpu_hours,
        eff,
        price,
        value,
        world.token_edges,
        ahead.ask_aidc,
        ahead.ask_hour,
        ahead.ask_qty,
        ahead.ask_filled,
        ahead.ask_price,
        world.compute_edges[: prov.n],
        ahead.flow,
        links.ptr,
        links.seller,
        links.cell,
        ahead.payment,
        TRANCHE_SHARE.size,
        ahead.reserved_gpu_hours,
        *components(world.token_edges)[:3],
    )
    if status:
        res = clear_token_market(hourly, world.share, prov.hourly_capacity_mtok(), price, world.token_edges)
        top = top_up_unserved(
            res.unserved_mtok,
            value,
            eff,
            world.token_edges,
            ahead.ask_aidc,
            ahead.ask_hour,
            np.maximum(ahead.ask_qty - ahead.ask_filled, 0.0),
            ahead.ask_price,
            world.compute_edges[: prov.n],
        )
        n_aidcs = links.n_sellers
        cell, gpu = top_up_cells(*top.bought, n_aidcs, 24)
        served_pair, by_provider, unserved, topped_up, served_b = _with_top_up(
            res.served_pair_mtok, res.served_by_provider_mtok, res.unserved_mtok, *top.served, cell, gpu, n_aidcs
        )
        top_up_flow = psum_at(cell, gpu, 0, prov.n * n_aidcs * 24)
        flow, payment, token_busy, busy, sold, fill, ask_unsold, volume, paid = _compute_traded(
            ahead.flow,
            links.ptr,
            links.seller,
            links.cell,
            ahead.payment,
            cell,
            gpu,
            top.cost_cny,
            by_provider,
            eff,
            ahead.ask_qty,
            ahead.ask_filled,
            top.ask_used_gpu_hours,
            TRANCHE_SHARE.size,
        )
        volume -= ahead.reserved_gpu_hours
    prov.topped_up_gpu_hours = topped_up
    world.demand_seen[0] = world.demand_seen[1]
    world.demand_seen[1] = demand
    apps.served_mtok = served_b[:na]
    ents.served_mtok = served_b[na:]
    tokens = TokenDay(
        demand=demand,
        hourly_demand=hourly,
        served_pair=served_pair,
        served_by_provider=by_provider,
        unserved=unserved,
        price=price,
        requested=world.share.T @ hourly,
        elasticity=elasticity,
        mtok_per_gpu_hour=eff.copy(),
    )
    if volume > 0:
        world.compute_price = float(paid / volume)
    elif np.isnan(world.compute_price):
        world.compute_price = float(np.nanmean(ahead.ask_price)) if ahead.ask_price.size else 0.0
    compute = ComputeDay(
        aidc_price=ahead.aidc_price,
        buyer_price=ahead.buyer_price,
        flow=flow,
        links=links,
        payment=payment,
        top_up_gpu_hours=top_up_flow,
        sold=sold,
        busy=busy,
        token_busy=token_busy,
        top_tranche_fill=fill,
        contract_payment=reserved.payment,
        contract_provider=reserved.contract_provider,
        contract_aidc=reserved.contract_aidc,
        contracted_gpu_hours=reserved.by_provider.sum(axis=1),
        contract_cost=reserved.cost_by_provider(),
        ask_aidc=ahead.ask_aidc,
        ask_hour=ahead.ask_hour,
        ask_price=ahead.ask_price,
        ask_unsold=ask_unsold,
        top_up_value=value * eff,
        price_cny_per_gpu_hour=world.compute_price,
    )
    return tokens, compute


@njit(cache=True)
def _shares(demand_seen, price, factor, appeal, edges, share, sensitivity, inertia):
    """:func:`new_demand_share`, then the market's :func:`_logit_shares` with it, in one call."""
    new = new_demand_share(demand_seen)
    ok, out = _logit_shares(price, factor, appeal, edges, share, sensitivity, inertia, new)
    return new, ok, out


@njit(cache=True)
def new_demand_share(demand_seen: np.ndarray) -> np.ndarray:
    """(B,) the share of each buyer's demand that is new (its growth over its last two days, ``demand_seen`` (2,
    B)): new customers choose a provider afresh, with no bond to one.  On the first day with a day behind it (no
    day before that), all of it is: the scenario's starting split is no customer's history, so the market's first
    choice is a fresh one."""
    out = np.zeros(demand_seen.shape[1])
    for b in range(out.size):
        before, last = demand_seen[0, b], demand_seen[1, b]
        if last > 0.0 and before < last:
            out[b] = 1.0 - before / last
    return out


@njit(cache=True)
def _serve(
    hourly,
    share,
    bought,
    eff,
    price,
    value,
    token_edges,
    ask_aidc,
    ask_hour,
    ask_qty,
    ask_filled,
    ask_price,
    compute_edges,
    day_ahead_flow,
    pair_ptr,
    pair_aidc,
    pair_cell,
    day_ahead_payment,
    n_tranches,
    reserved_gpu_hours,
    lab_b,
    lab_p,
    n_comp,
):
    """:func:`clear_token_market` at providers' day-ahead capacity (reserved GPU-hours included),
    :func:`top_up_unserved` (each provider buying idle GPU-hours up to ``value``, what a Mtok is worth to it: its
    price, or its expected cost if it prices below it), :func:`_with_top_up` and :func:`_compute_traded`.  Status 0,
    or 1 if the spill-over needs the LP or an input is out of range (then nothing else is meaningful)."""
    n_prov, hours = bought.shape
    cap = np.empty((n_prov, hours))  # CloudProviderGroup.hourly_capacity_mtok
    for p in range(n_prov):
        for h in range(hours):
            cap[p, h] = bought[p, h] * eff[p]
    ok, bh, ph, bp, _, _, lp_hours = _clear(hourly, share, cap, price, token_edges, lab_b, lab_p, n_comp, False)
    left = np.empty(ask_qty.size)
    for j in range(left.size):
        left[j] = nan_max(ask_qty[j] - ask_filled[j], 0.0)
    if not ok or lp_hours.size or _check_top_up(eff, ask_aidc, ask_hour, compute_edges.shape[1], hours):
        # (the same types as below; nothing else is meaningful)
        flow, payment = day_ahead_flow, day_ahead_payment
        return 1, bp[1], ph[0], bh[2], cap, eff, 0.0, flow, payment, cap, cap, cap, eff, left, 0.0, 0.0
    tb, tp, th, ts, gp, ga, gh, gt, cost, used = _top_up(
        bh[2], value, eff, token_edges, ask_aidc, ask_hour, left, ask_price, compute_edges
    )
    cell, gpu = top_up_cells(gp, ga, gh, gt, compute_edges.shape[1], hours)
    served_pair, by_provider, unserved, topped_up, served_b = _with_top_up(
        bp[1], ph[0], bh[2], tb, tp, th, ts, cell, gpu, compute_edges.shape[1]
    )
    flow, payment, token_busy, busy, sold, fill, ask_unsold, volume, paid = _compute_traded(
        day_ahead_flow,
        pair_ptr,
        pair_aidc,
        pair_cell,
        day_ahead_payment,
        cell,
        gpu,
        cost,
        by_provider,
        eff,
        ask_qty,
        ask_filled,
        used,
        n_tranches,
    )
    topped_total = psum_at(cell, gpu, 0, n_prov * compute_edges.shape[1] * hours)
    volume -= reserved_gpu_hours  # the price of the day's trades: reserved GPU-hours are not traded
    return (
        0,
        served_pair,
        by_provider,
        unserved,
        topped_up,
        served_b,
        topped_total,
        flow,
        payment,
        token_busy,
        busy,
        sold,
        fill,
        ask_unsold,
        volume,
        paid,
    )


@njit(cache=True)
def _sum_first(flow, pair_ptr, pair_aidc, n_aidcs, start, stop):
    """``x[start:stop].sum(axis=0)`` of the (B, A, 24) table ``x`` of the pairs' ``flow`` (E, 24), added up one
    buyer after the other (numpy's order; the table's zeros add nothing)."""
    out = np.zeros((n_aidcs, flow.shape[1]))
    for b in range(start, stop):
        for e in range(pair_ptr[b], pair_ptr[b + 1]):
            a = pair_aidc[e]
            for h in range(flow.shape[1]):
                out[a, h] += flow[e, h]
    return out


@njit(cache=True)
def _with_top_up(served_pair, served_by_provider, unserved, tb, tp, th, ts, cell, gpu, n_aidcs):
    """The token market's results with the top-up (its (buyer, provider, hour, Mtok) records ``tb, tp, th, ts``, in
    the order they happened) added: served (B, P), served by provider (P, 24), unserved (B, 24), and the GPU-hours
    each provider topped up (P, 24; from the cells of :func:`top_up_cells`) and tokens each buyer was served (B,).
    Every sum runs in the order numpy's over the dense (B, P, 24) table of top-ups would (its zeros add nothing),
    so the results are the same bits."""
    n_buyers, n_prov = served_pair.shape
    hours = unserved.shape[1]
    pair = served_pair.copy()
    left = unserved.copy()
    n = tb.size
    # by buyer-provider pair, hours in order: each pair's 24 hours summed pairwise, as numpy does
    key = np.empty(n, np.int64)
    for i in range(n):
        key[i] = (tb[i] * n_prov + tp[i]) * hours + th[i]
    order = np.argsort(key, kind="mergesort")
    row = np.zeros(hours)
    i = 0
    while i < n:
        b, p = tb[order[i]], tp[order[i]]
        row[:] = 0.0
        while i < n and tb[order[i]] == b and tp[order[i]] == p:
            row[th[order[i]]] = ts[order[i]]
            i += 1
        pair[b, p] = served_pair[b, p] + psum(row)
    # by provider-hour, buyers in order (they were served in that order), then by buyer-hour, providers in order
    extra_p = np.zeros((n_prov, hours))
    for i in range(n):
        extra_p[tp[i], th[i]] += ts[i]
    by_provider = served_by_provider + extra_p
    for i in range(n):
        key[i] = (tb[i] * hours + th[i]) * n_prov + tp[i]
    order = np.argsort(key, kind="mergesort")
    extra = np.zeros((n_buyers, hours))
    for i in order:
        extra[tb[i], th[i]] += ts[i]
    for b in range(n_buyers):
        for h in range(hours):
            left[b, h] = nan_max(unserved[b, h] - extra[b, h], 0.0)
    gpu_hours = np.zeros((n_prov, hours))  # each provider's top-up by hour, AIDCs in order (as numpy would add)
    for k in range(cell.size):
        gpu_hours[cell[k] // (n_aidcs * hours), cell[k] % hours] += gpu[k]
    served_b = np.empty(n_buyers)
    for b in range(n_buyers):
        served_b[b] = psum(pair[b])
    return pair, by_provider, left, gpu_hours, served_b


@njit(cache=True)
def top_up_cells(gp, ga, gh, gt, n_aidcs, hours):
    """The top-up's purchases (provider, AIDC, hour, GPU-hours, in the order bought) as the cells of a (P, A, hours)
    table: (their positions in it, in increasing order; each cell's GPU-hours, its purchases added in order) -- what
    a dense table would hold, without it (at 1,000 entries of each kind it would be 0.2 GB)."""
    n = gp.size
    key = np.empty(n, np.int64)
    for i in range(n):
        key[i] = (gp[i] * n_aidcs + ga[i]) * hours + gh[i]
    order = np.argsort(key, kind="mergesort")
    cell = np.empty(n, np.int64)
    value = np.empty(n)
    m = 0
    for i in order:
        if m and cell[m - 1] == key[i]:
            value[m - 1] += gt[i]
        else:
            cell[m] = key[i]
            value[m] = 0.0 + gt[i]
            m += 1
    return cell[:m], value[:m]


@njit(cache=True)
def _compute_traded(
    day_ahead_flow,
    pair_ptr,
    pair_aidc,
    pair_cell,
    day_ahead_payment,
    cell,
    gpu,
    top_up_cost,
    by_provider,
    eff,
    ask_qty,
    ask_filled,
    ask_topped_up,
    n_tranches,
):
    """Day-ahead plus top-up (its GPU-hours as the cells of :func:`top_up_cells`): flow (E, 24) per buyer-AIDC pair
    that can trade (``pair_ptr``, ``pair_aidc``; ``pair_cell`` where each pair-hour sits in the (B, A, 24) table) and
    payment (B, A); the GPUs serving tokens (A, 24) -- each provider's need in each hour split over the AIDCs in
    proportion to what it bought there -- and all busy GPUs (A, 24); GPU-hours sold (A, 24); the largest share of
    each AIDC's top tranche sold in an hour (A,); what is left of each ask step; the day's volume and what was paid
    for it.  Every sum runs in numpy's order over the (B, A, 24) table, whose zeros add nothing (a provider's need
    is finite: its efficiency is positive)."""
    n_buyers, hours = pair_ptr.size - 1, day_ahead_flow.shape[1]
    n_aidcs = day_ahead_payment.shape[1]
    n_prov = top_up_cost.shape[0]
    flow = day_ahead_flow  # (added to in place: the day-ahead flow is not read again)
    payment = day_ahead_payment.copy()
    for p in range(n_prov):
        for a in range(n_aidcs):
            payment[p, a] += top_up_cost[p, a]
    for k in range(cell.size):  # the top-up's GPU-hours, cell by cell (flow row p, AIDC a, hour h)
        e = edge_at(pair_ptr, pair_aidc, cell[k] // (n_aidcs * hours), (cell[k] // hours) % n_aidcs)
        if e < 0:
            raise ValueError("a top-up between a provider and an AIDC that cannot trade")
        flow[e, cell[k] % hours] += gpu[k]
    token_busy = np.zeros((n_aidcs, hours))
    total = np.zeros(hours)
    for p in range(n_prov):
        total[:] = 0.0
        for e in range(pair_ptr[p], pair_ptr[p + 1]):
            for h in range(hours):
                total[h] += flow[e, h]
        for e in range(pair_ptr[p], pair_ptr[p + 1]):
            a = pair_aidc[e]
            for h in range(hours):
                used = nan_min(by_provider[p, h] / eff[p], total[h])
                token_busy[a, h] += flow[e, h] / (total[h] if total[h] > 0.0 else 1.0) * used
    busy = token_busy + _sum_first(flow, pair_ptr, pair_aidc, n_aidcs, n_prov, n_buyers)  # plus the labs' GPUs
    sold = _sum_first(flow, pair_ptr, pair_aidc, n_aidcs, 0, n_buyers)
    n_steps = ask_qty.size
    ask_unsold = np.empty(n_steps)
    for j in range(n_steps):
        ask_unsold[j] = nan_max(ask_qty[j] - ask_filled[j] - ask_topped_up[j], 0.0)
    fill = np.zeros(n_steps // (hours * n_tranches))
    for a in range(fill.size):
        best = -np.inf
        for h in range(hours):
            j = (a * hours + h) * n_tranches + n_tranches - 1  # the top (dearest) tranche
            best = nan_max(best, (ask_filled[j] + ask_topped_up[j]) / ask_qty[j] if ask_qty[j] > 0.0 else 0.0)
        fill[a] = best
    volume = psum_at(pair_cell, flow.ravel(), 0, n_buyers * n_aidcs * hours)
    return (flow, payment, token_busy, busy, sold, fill, ask_unsold, volume, psum(payment.ravel()))
