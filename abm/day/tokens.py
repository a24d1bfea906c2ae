"""Stage 3: token demand, the token market and the spot top-up.

Buyers split their demand over providers by a logit on posted prices (with inertia), want tokens at the
price they expect to pay, and are served hour by hour from what providers bought day-ahead; a provider's
rationed buyers spill over once to rivals with room.  What is still unserved may be served from idle
GPU-hours bought on the spot (:mod:`abm.markets.top_up`).  The compute actually used follows from the
tokens served: GPUs a provider bought but did not need in an hour stay visibly idle.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from abm.markets.token import clear_token_market, logit_shares
from abm.markets.top_up import top_up_unserved
from abm.results import ComputeDay, DayAhead, TokenDay
from agents.aidc import TRANCHE_SHARE
from agents.numeric import nan_max, nan_min, psum


def clear_tokens(model: Any, ahead: DayAhead) -> tuple[TokenDay, ComputeDay]:
    prov, apps, ents = model.providers, model.apps, model.enterprises
    m = model.data["markets"]
    sensitivity = m["token_price_sensitivity"]
    price = prov.price.copy()
    model.share = logit_shares(prov.effective_price(sensitivity), model.token_edges, model.share, sensitivity,
                               m["token_inertia"])
    expected = model.share @ price if prov.n else np.zeros(model.n_buyers)
    na = apps.n
    app_demand, app_elasticity = apps.demand_and_elasticity(expected[:na])
    ent_demand, ent_elasticity = ents.demand_and_elasticity(expected[na:])
    demand = np.concatenate([app_demand, ent_demand])
    elasticity = np.concatenate([app_elasticity, ent_elasticity])
    hourly = demand[:, None] * model.buyer_profile
    res = clear_token_market(hourly, model.share, prov.hourly_capacity_mtok(), price, model.token_edges)
    eff = prov.params["mtok_per_gpu_hour"]
    top = top_up_unserved(res.unserved_mtok, price, eff, model.token_edges, ahead.ask_aidc, ahead.ask_hour,
                          np.maximum(ahead.ask_qty - ahead.ask_filled, 0.0), ahead.ask_price,
                          model.compute_edges[: prov.n])
    served_pair, by_provider, unserved, prov.topped_up_gpu_hours, served_b = _with_top_up(
        res.served_pair_mtok, res.served_by_provider_mtok, res.unserved_mtok, top.served_mtok, top.gpu_hours)
    apps.served_mtok = served_b[:na]
    ents.served_mtok = served_b[na:]
    tokens = TokenDay(demand=demand, hourly_demand=hourly, served_pair=served_pair, served_by_provider=by_provider,
                      unserved=unserved, price=price, requested=model.share.T @ hourly, elasticity=elasticity,
                      mtok_per_gpu_hour=eff.copy())
    return tokens, _compute_day(model, ahead, top, by_provider)


@njit(cache=True)
def _with_top_up(served_pair, served_by_provider, unserved, topped, topped_gpu_hours):
    """The token market's results with the top-up added: served (B, P), served by provider (P, 24), unserved (B, 24),
    and the GPU-hours each provider topped up (P, 24) and tokens each buyer was served (B,)."""
    n_buyers, n_prov, hours = topped.shape
    pair = np.empty((n_buyers, n_prov))
    left = unserved.copy()
    for b in range(n_buyers):
        for p in range(n_prov):
            pair[b, p] = served_pair[b, p] + psum(topped[b, p])
    by_buyers = np.zeros((n_prov, hours))
    for b in range(n_buyers):  # (sums over buyers and providers one after the other, as numpy's)
        for p in range(n_prov):
            for h in range(hours):
                by_buyers[p, h] += topped[b, p, h]
    by_provider = served_by_provider + by_buyers
    extra = np.zeros((n_buyers, hours))
    for b in range(n_buyers):
        for p in range(n_prov):
            for h in range(hours):
                extra[b, h] += topped[b, p, h]
    for b in range(n_buyers):
        for h in range(hours):
            left[b, h] = nan_max(unserved[b, h] - extra[b, h], 0.0)
    n_aidcs = topped_gpu_hours.shape[1]
    gpu_hours = np.zeros((n_prov, hours))
    for p in range(n_prov):
        for a in range(n_aidcs):
            for h in range(hours):
                gpu_hours[p, h] += topped_gpu_hours[p, a, h]
    served_b = np.empty(n_buyers)
    for b in range(n_buyers):
        served_b[b] = psum(pair[b])
    return pair, by_provider, left, gpu_hours, served_b


def _compute_day(model: Any, ahead: DayAhead, top, by_provider: np.ndarray) -> ComputeDay:
    """All compute traded today, and the GPUs it kept busy: a provider's tokens need served / efficiency
    GPU-hours in each hour, drawn from the AIDCs it bought from in proportion to what it bought there."""
    flow, payment, token_busy, busy, sold, fill, ask_unsold, volume, paid = _compute_traded(
        ahead.flow, ahead.payment, top.gpu_hours, top.cost_cny, by_provider,
        model.providers.params["mtok_per_gpu_hour"], ahead.ask_qty, ahead.ask_filled, top.ask_used_gpu_hours,
        TRANCHE_SHARE.size)
    contract_payment, contracted, contract_cost = model.contracts.settle(ahead.aidc_price)
    if volume > 0:
        model.compute_price = float(paid / volume)
    elif np.isnan(model.compute_price):
        model.compute_price = float(np.nanmean(ahead.ask_price)) if ahead.ask_price.size else 0.0
    return ComputeDay(aidc_price=ahead.aidc_price, buyer_price=ahead.buyer_price, flow=flow, payment=payment,
                      top_up_flow=top.gpu_hours, sold=sold, busy=busy, token_busy=token_busy,
                      top_tranche_fill=fill, contract_payment=contract_payment,
                      contract_provider=model.contracts.provider.copy(), contract_aidc=model.contracts.aidc.copy(),
                      contracted_gpu_hours=contracted, contract_cost=contract_cost, ask_aidc=ahead.ask_aidc,
                      ask_hour=ahead.ask_hour, ask_price=ahead.ask_price, ask_unsold=ask_unsold,
                      price_cny_per_gpu_hour=model.compute_price)


@njit(cache=True)
def _compute_traded(day_ahead_flow, day_ahead_payment, top_up_flow, top_up_cost, by_provider, eff, ask_qty,
                    ask_filled, ask_topped_up, n_tranches):
    """Day-ahead plus top-up: flow (B, A, 24) and payment (B, A); the GPUs serving tokens (A, 24) -- each provider's
    need in each hour split over the AIDCs in proportion to what it bought there -- and all busy GPUs (A, 24); GPU-hours
    sold (A, 24); the largest share of each AIDC's top tranche sold in an hour (A,); what is left of each ask step;
    the day's volume and what was paid for it (summed in numpy's order)."""
    n_buyers, n_aidcs, hours = day_ahead_flow.shape
    n_prov = top_up_flow.shape[0]
    flow = day_ahead_flow.copy()
    payment = day_ahead_payment.copy()
    for p in range(n_prov):
        for a in range(n_aidcs):
            payment[p, a] += top_up_cost[p, a]
            for h in range(hours):
                flow[p, a, h] += top_up_flow[p, a, h]
    token_busy = np.zeros((n_aidcs, hours))
    total = np.zeros(hours)
    for p in range(n_prov):
        total[:] = 0.0
        for a in range(n_aidcs):
            for h in range(hours):
                total[h] += flow[p, a, h]
        for a in range(n_aidcs):
            for h in range(hours):
                used = nan_min(by_provider[p, h] / eff[p], total[h])
                token_busy[a, h] += flow[p, a, h] / (total[h] if total[h] > 0.0 else 1.0) * used
    training = np.zeros((n_aidcs, hours))
    for b in range(n_prov, n_buyers):
        for a in range(n_aidcs):
            for h in range(hours):
                training[a, h] += flow[b, a, h]
    busy = token_busy + training
    sold = np.zeros((n_aidcs, hours))
    for b in range(n_buyers):
        for a in range(n_aidcs):
            for h in range(hours):
                sold[a, h] += flow[b, a, h]
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
    return (flow, payment, token_busy, busy, sold, fill, ask_unsold, psum(flow.ravel()), psum(payment.ravel()))
