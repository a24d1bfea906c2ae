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

from abm.markets.token import clear_token_market, logit_shares
from abm.markets.top_up import top_up_unserved
from abm.results import ComputeDay, DayAhead, TokenDay
from agents.aidc import TRANCHE_SHARE


def clear_tokens(model: Any, ahead: DayAhead) -> tuple[TokenDay, ComputeDay]:
    prov, apps, ents = model.providers, model.apps, model.enterprises
    m = model.data["markets"]
    sensitivity = m["token_price_sensitivity"]
    price = prov.price.copy()
    model.share = logit_shares(prov.effective_price(sensitivity), model.token_edges, model.share, sensitivity,
                               m["token_inertia"])
    expected = model.share @ price if prov.n else np.zeros(model.n_buyers)
    na = apps.n
    demand = np.concatenate([apps.token_demand_mtok(expected[:na]), ents.token_demand_mtok(expected[na:])])
    elasticity = np.concatenate([apps.price_elasticity(expected[:na]), ents.price_elasticity(expected[na:])])
    hourly = demand[:, None] * model.buyer_profile
    res = clear_token_market(hourly, model.share, prov.hourly_capacity_mtok(), price, model.token_edges)
    eff = prov.params["mtok_per_gpu_hour"]
    left = np.maximum(ahead.ask_qty - ahead.ask_filled, 0.0)
    top = top_up_unserved(res.unserved_mtok, price, eff, model.token_edges, ahead.ask_aidc, ahead.ask_hour, left,
                          ahead.ask_price, model.compute_edges[: prov.n])
    topped = top.served_mtok
    served_pair = res.served_pair_mtok + topped.sum(axis=2)
    by_provider = res.served_by_provider_mtok + topped.sum(axis=0)
    unserved = np.maximum(res.unserved_mtok - topped.sum(axis=1), 0.0)
    prov.topped_up_gpu_hours = top.gpu_hours.sum(axis=1)
    served_b = served_pair.sum(axis=1)
    apps.served_mtok = served_b[:na]
    ents.served_mtok = served_b[na:]
    tokens = TokenDay(demand=demand, hourly_demand=hourly, served_pair=served_pair, served_by_provider=by_provider,
                      unserved=unserved, price=price, requested=model.share.T @ hourly, elasticity=elasticity,
                      mtok_per_gpu_hour=eff.copy())
    return tokens, _compute_day(model, ahead, top, by_provider)


def _compute_day(model: Any, ahead: DayAhead, top, by_provider: np.ndarray) -> ComputeDay:
    """All compute traded today, and the GPUs it kept busy: a provider's tokens need served / efficiency
    GPU-hours in each hour, drawn from the AIDCs it bought from in proportion to what it bought there."""
    n_prov = model.providers.n
    flow = ahead.flow.copy()
    flow[:n_prov] += top.gpu_hours
    payment = ahead.payment.copy()
    payment[:n_prov] += top.cost_cny
    bought = flow[:n_prov]                                                       # (P, A, 24)
    total = bought.sum(axis=1)                                                   # (P, 24)
    used = np.minimum(by_provider / model.providers.params["mtok_per_gpu_hour"][:, None], total)
    split = bought / np.where(total > 0, total, 1.0)[:, None, :]
    token_busy = np.einsum("pah,ph->ah", split, used)
    busy = token_busy + flow[n_prov:].sum(axis=0)
    n_tranches = TRANCHE_SHARE.size
    top_qty = ahead.ask_qty.reshape(-1, 24, n_tranches)[:, :, -1]
    top_sold = (ahead.ask_filled + top.ask_used_gpu_hours).reshape(-1, 24, n_tranches)[:, :, -1]
    fill = np.divide(top_sold, top_qty, out=np.zeros_like(top_qty), where=top_qty > 0).max(axis=1) \
        if top_qty.size else np.zeros(0)
    contract_payment, contracted, contract_cost = model.contracts.settle(ahead.aidc_price)
    volume = flow.sum()
    if volume > 0:
        model.compute_price = float(payment.sum() / volume)
    elif np.isnan(model.compute_price):
        model.compute_price = float(np.nanmean(ahead.ask_price)) if ahead.ask_price.size else 0.0
    return ComputeDay(aidc_price=ahead.aidc_price, buyer_price=ahead.buyer_price, flow=flow, payment=payment,
                      top_up_flow=top.gpu_hours, sold=flow.sum(axis=0), busy=busy, token_busy=token_busy,
                      top_tranche_fill=fill, contract_payment=contract_payment,
                      contract_provider=model.contracts.provider.copy(), contract_aidc=model.contracts.aidc.copy(),
                      contracted_gpu_hours=contracted, contract_cost=contract_cost, ask_aidc=ahead.ask_aidc,
                      ask_hour=ahead.ask_hour, ask_price=ahead.ask_price,
                      ask_unsold=np.maximum(ahead.ask_qty - ahead.ask_filled - top.ask_used_gpu_hours, 0.0),
                      price_cny_per_gpu_hour=model.compute_price)
