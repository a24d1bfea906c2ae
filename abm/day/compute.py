"""Stage 2: the hourly compute market, day-ahead.

Providers bid for the GPU-hours their forecasts need, hour by hour; training labs bid their demand
curves; AIDCs ask per hour.  24 capacity products clear in one call (:mod:`abm.markets.compute`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from abm.markets.compute import clear_hourly_compute_market
from abm.results import DayAhead
from agents.numeric import nan_to_zero, psum


def clear_day_ahead(model: Any) -> DayAhead:
    prov, labs, aidcs = model.providers, model.labs, model.aidcs
    pb, ph, pq, pp = prov.compute_bids()
    lb, lh, lq, lp = labs.compute_bids()
    aa, ah, aq, ap = aidcs.asks()
    buyer, hour = _bid_steps(model, pb, ph, lb, lh)
    res = clear_hourly_compute_market(buyer, hour, np.concatenate([pq, lq]), np.concatenate([pp, lp]), aa, ah, aq,
                                      ap, model.compute_edges)
    flow = res.flow_gpu_hours                                             # (P + L, A, 24)
    aidc_price = res.aidc_price
    payment, bought, lab_spent = _payments(flow, aidc_price, prov.n)
    prov.receive_compute(bought[: prov.n])
    labs.receive_compute(bought[prov.n:], lab_spent)
    return DayAhead(flow=flow, buyer_price=res.buyer_price, aidc_price=aidc_price, payment=payment, ask_aidc=aa,
                    ask_hour=ah, ask_qty=aq, ask_price=ap, ask_filled=res.ask_filled_gpu_hours)


def _bid_steps(model: Any, pb: np.ndarray, ph: np.ndarray, lb: np.ndarray, lh: np.ndarray) -> tuple[np.ndarray, ...]:
    """Buyer (providers, then labs) and hour of every bid step.  The groups' own strategies lay their steps out the
    same way every day (in arrays the groups keep), so those are joined once."""
    prov, labs = model.providers, model.labs
    own = pb is prov._bid_owner and ph is prov._bid_hour and lb is labs._bid_owner and lh is labs._bid_hour
    if not own:
        return np.concatenate([pb, lb + prov.n]), np.concatenate([ph, lh])
    cached = getattr(model, "_bid_steps_cache", None)
    if cached is None:
        cached = model._bid_steps_cache = (np.concatenate([pb, lb + prov.n]), np.concatenate([ph, lh]))
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
