"""Stage 2: the hourly compute market, day-ahead.

Providers bid for the GPU-hours their forecasts need, hour by hour; training labs bid their demand
curves; AIDCs ask per hour.  24 capacity products clear in one call (:mod:`abm.markets.compute`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from abm.markets.compute import clear_hourly_compute_market
from abm.results import DayAhead


def clear_day_ahead(model: Any) -> DayAhead:
    prov, labs, aidcs = model.providers, model.labs, model.aidcs
    pb, ph, pq, pp = prov.compute_bids()
    lb, lh, lq, lp = labs.compute_bids()
    aa, ah, aq, ap = aidcs.asks()
    res = clear_hourly_compute_market(np.concatenate([pb, lb + prov.n]), np.concatenate([ph, lh]),
                                      np.concatenate([pq, lq]), np.concatenate([pp, lp]), aa, ah, aq, ap,
                                      model.compute_edges)
    flow = res.flow_gpu_hours                                             # (P + L, A, 24)
    aidc_price = res.aidc_price
    payment = np.einsum("bah,ah->ba", flow, np.nan_to_num(aidc_price, nan=0.0))
    prov.receive_compute(flow[: prov.n].sum(axis=1))
    labs.receive_compute(flow[prov.n:].sum(axis=1), payment[prov.n:].sum(axis=1))
    return DayAhead(flow=flow, buyer_price=res.buyer_price, aidc_price=aidc_price, payment=payment, ask_aidc=aa,
                    ask_hour=ah, ask_qty=aq, ask_price=ap, ask_filled=res.ask_filled_gpu_hours)
