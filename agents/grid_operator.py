"""GridOperator: owns the grid's connection queues and its transmission lines.

New AIDC load needs a grid connection.  Each zone has spare connection capacity; an AIDC's order is
granted as far as it fits (the GPUs that do not fit are not ordered), and the zone's queue records the
load still waiting for a connection: the largest unmet request since the last connection was built.
Every month the operator adds connection capacity where load queues, at the zone's build rate, after the
zone's connection lead time (grid waits of years, industry surveys 2026).  It collects the congestion
rent of the lines and expands an expandable line up to the MW whose marginal NPV is zero: a MW of line earns the
congestion rent per MW of its limit over its life (``LINE_LIFE_YEARS``) at the cost of capital, against a build cost
that rises with the size of the expansion; a line with an expansion on order waits for it.
"""

from __future__ import annotations

import numpy as np

from tokenomy.agents.base import Group, GroupAgent, Pipeline
from tokenomy.agents.finance import DISCOUNT_RATE, annuity_factor, rising_cost_quantity, rising_cost_total

LINE_LIFE_YEARS = 40.0
LINE_STEP = 0.2  # builders' scale: an expansion of this share of a line's limit costs 1.5 x capex a MW


class GridOperator(GroupAgent):
    """The grid operator (one per world)."""

    @property
    def connection_queue_mw(self) -> float:
        return float(self.group.connection_queue_mw.sum())


class GridOperatorGroup(Group):
    kind = "grid"

    def __init__(
        self, zone_params: dict[str, np.ndarray], line_params: dict[str, np.ndarray], line_expandable: np.ndarray
    ):
        super().__init__([{"name": "grid-operator", "cash_cny": 0.0}])
        self.zone_params = zone_params  # shared with the model: events change them
        self.line_params = line_params
        self.line_expandable = line_expandable
        nz = zone_params["grid_connection_mw"].size
        self.connection_reserved_mw = np.zeros(nz)
        self.flexible_reserved_mw = np.zeros(nz)  # load connected flexibly: it holds its draw in tight hours
        self.connection_queue_mw = np.zeros(nz)
        self.connections = Pipeline()  # (arrival day, zone, MW)
        self.lines = Pipeline()  # (arrival day, line, MW)

    def spare_connection_mw(self) -> np.ndarray:
        return np.maximum(self.zone_params["grid_connection_mw"] - self.connection_reserved_mw, 0.0)

    def grant(self, zone: np.ndarray, need_mw: np.ndarray) -> np.ndarray:
        """Share of each request (AIDC in ``zone`` asking ``need_mw``) that fits the zone's spare connection
        capacity; the rest joins the queue.  Granted capacity is reserved."""
        nz = self.connection_reserved_mw.size
        asked = np.bincount(zone, need_mw, minlength=nz)
        spare = self.spare_connection_mw()
        share = np.divide(np.minimum(spare, asked), asked, out=np.ones(nz), where=asked > 0)
        self.connection_queue_mw = np.maximum(self.connection_queue_mw, asked - spare)
        return share[zone]

    def reserve(self, zone: np.ndarray, mw: np.ndarray) -> None:
        self.connection_reserved_mw += np.bincount(zone, mw, minlength=self.connection_reserved_mw.size)

    def flexible_headroom_mw(self, peak_background_mw: np.ndarray) -> np.ndarray:
        """(Z,) load the grid can still connect flexibly: ``flexible_headroom_share`` of the zone's peak background
        load (Norris et al. 2025: about a tenth of peak at 0.25-1% curtailment), less what it already connected so."""
        share = self.zone_params["flexible_headroom_share"]
        return np.maximum(share * peak_background_mw - self.flexible_reserved_mw, 0.0)

    def grant_flexible(self, zone: np.ndarray, need_mw: np.ndarray, peak_background_mw: np.ndarray) -> np.ndarray:
        """MW of each request (AIDC in ``zone`` asking ``need_mw`` more than its firm grant) the grid connects at
        once on condition that the AIDC holds its draw in the zone's tight hours; reserved."""
        nz = self.flexible_reserved_mw.size
        asked = np.bincount(zone, need_mw, minlength=nz)
        room = self.flexible_headroom_mw(peak_background_mw)
        share = np.divide(np.minimum(room, asked), asked, out=np.zeros(nz), where=asked > 0)
        granted = need_mw * share[zone]
        self.flexible_reserved_mw += np.bincount(zone, granted, minlength=nz)
        return granted

    def build_connections(self, day: int) -> None:
        """Monthly: add connection capacity where load queues, at each zone's build rate."""
        build = self.zone_params["connection_build_mw_per_year"] / 12.0
        for z in np.flatnonzero((self.connection_queue_mw > 0) & (build > 0)):
            mw = min(build[z], self.connection_queue_mw[z])
            self.connection_queue_mw[z] -= mw
            self.connections.add(day + int(self.zone_params["connection_lead_days"][z]), int(z), mw)

    def plan_lines(self, day: int, annual_rent_cny: np.ndarray) -> list[tuple[int, float, float]]:
        """Monthly: expand expandable lines up to the MW whose marginal NPV is zero.  A MW of line earns the price
        difference across it in the hours it is full -- its congestion rent per MW of limit, the shadow price of the
        limit -- taken as the forecast over the line's life; building more at once costs more per MW (the q-th costs
        capex x (1 + q / (LINE_STEP x limit))).  A line with an expansion on order waits for it.
        Returns the orders placed (line, MW, CNY)."""
        lim = self.line_params["limit_mw"]
        capex = self.line_params["capex_cny_per_mw"]
        per_mw_year = np.divide(annual_rent_cny, lim, out=np.zeros(lim.size), where=lim > 0)
        value = per_mw_year * annuity_factor(DISCOUNT_RATE, LINE_LIFE_YEARS)
        scale = LINE_STEP * lim
        add = rising_cost_quantity(value, capex, scale)
        orders = []
        on_order = self.lines.pending(lim.size) > 0
        for li in np.flatnonzero(self.line_expandable & (add > 0) & ~on_order):
            self.lines.add(day + int(self.line_params["lead_days"][li]), int(li), float(add[li]))
            orders.append((int(li), float(add[li]), float(rising_cost_total(add[li], capex[li], scale[li]))))
        return orders

    def arrivals(self, day: int) -> None:
        for z, mw in self.connections.due(day):
            self.zone_params["grid_connection_mw"][z] += mw
        for li, mw in self.lines.due(day):
            self.line_params["limit_mw"][li] += mw

    def describe(self, i: int) -> dict[str, float]:
        return {
            "connection_queue_mw": float(self.connection_queue_mw.sum()),
            "connections_on_order_mw": float(sum(mw for _, _, mw in self.connections)),
            "line_mw_on_order": float(sum(mw for _, _, mw in self.lines)),
        }
