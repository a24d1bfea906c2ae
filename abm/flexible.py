"""Flexible interconnection: AIDCs connected on condition that they hold their draw in tight hours, and the
on-site batteries that keep their GPUs busy then.

Where a zone's grid has no spare firm connection for a new AIDC, the grid operator connects it at once up to the
zone's flexible headroom (``zones.*.flexible_headroom_share`` of its peak background load; Norris et al. 2025,
"Rethinking Load Growth", Duke University: tens of GW of US headroom for large loads that curtail in 0.25-1% of
hours) if it holds its draw in the zone's tight hours (those whose expected power price reaches
``markets.tight_price_share`` of the cap).  Without a battery its flexibly connected GPUs stand idle then; with one
they run on it, and the battery recharges in the other hours.

Each month an AIDC with flexibly connected GPUs decides whether to back them with an on-site battery: it sizes the
battery for the worst day of the last month (its flexible load through that day's tight hours) and takes it if what
its GPUs would earn in the tight hours of a typical day pays the battery's daily price.  A storage operator (in its
zone, else its region, else anywhere) builds the battery at the AIDC; the price is what a new battery costs a day
(capital at the cost of capital over its life, plus a cycle's wear): batteries are built for these contracts, so in
a competitive storage market that is their price.  "Storage = token" then has a measured meaning: the GPU-hours an
on-site MWh keeps busy in a connection-constrained zone.
"""

from __future__ import annotations

import numpy as np

from tokenomy.abm.state import World


class FlexibleConnections:
    """The on-site battery contracts of the AIDCs: who supplies them and at what price."""

    def __init__(self, n_aidcs: int):
        self.price = np.zeros(n_aidcs)  # CNY per MWh of battery a day
        self.supplier = np.zeros((n_aidcs, 0))  # (A, S) each operator's part of each AIDC's battery

    def renew(self, world: World, tight_hours_per_day: np.ndarray) -> np.ndarray:
        """Monthly: each AIDC's battery (MWh) for the coming month from ``tight_hours_per_day`` (D, A) of the last
        days; returns the MWh each storage operator must newly build (S,)."""
        aidcs, store = world.aidcs, world.storage
        self.supplier = storage_suppliers(world)
        if not store.n or not aidcs.flexible_gpus.any() or tight_hours_per_day.shape[0] == 0:
            return np.zeros(store.n)
        self.price = self.supplier @ store.battery_price_cny_per_mwh_day()
        flexible_mw = aidcs.flexible_gpus * aidcs.mw_per_busy_gpu()
        needed_mwh = flexible_mw * tight_hours_per_day.max(axis=0)
        expected = np.maximum(np.nan_to_num(aidcs.compute_price_seen, nan=0.0) - aidcs.srmc(), 0.0).mean(axis=1)
        earns = expected * aidcs.flexible_gpus * tight_hours_per_day.mean(axis=0)  # CNY a day in tight hours
        back = (needed_mwh > 0) & (earns >= needed_mwh * self.price) & (self.supplier.sum(axis=1) > 0)
        aidcs.backing_mw = np.where(back, flexible_mw, 0.0)
        new_mwh = np.where(back, needed_mwh, 0.0)
        aidcs.backing_mwh = new_mwh
        wanted = new_mwh @ self.supplier  # (S,)
        build = np.maximum(wanted - store.onsite_mwh, 0.0)
        store.onsite_contracted_mwh = wanted
        return build

    def payments(self, backing_mwh: np.ndarray) -> np.ndarray:
        """(A, S) CNY each AIDC pays each storage operator today for its on-site battery of ``backing_mwh`` (A,)."""
        return (backing_mwh * self.price)[:, None] * self.supplier


def storage_suppliers(world: World) -> np.ndarray:
    """(A, S) who serves each AIDC with storage (firming, on-site batteries): the storage operators in its zone, else
    its region, else anywhere, in proportion to their fleets."""
    aidcs, store = world.aidcs, world.storage
    out = np.zeros((aidcs.n, store.n))
    if not store.n:
        return out
    size = np.maximum(store.params["energy_mwh"], 1e-6)
    region = np.array(world.zone_region)
    for a in range(aidcs.n):
        z = aidcs.zone[a]
        for pick in (store.zone == z, region[store.zone] == region[z], np.ones(store.n, dtype=bool)):
            if pick.any():
                out[a] = np.where(pick, size, 0.0) / size[pick].sum()
                break
    return out
