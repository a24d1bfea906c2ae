"""GridOperator: owns the grid's connection queues and its transmission lines.

New AIDC load needs a grid connection.  Each zone has spare connection capacity; an AIDC's order is
granted as far as it fits (the GPUs that do not fit are not ordered), and the zone's queue records the
load still waiting for a connection: the largest unmet request since the last connection was built.
Every month the operator adds connection capacity where load queues, at the zone's build rate, after the
zone's connection lead time (grid waits of years, industry surveys 2026).  It collects the congestion
rent of the lines and expands an expandable line by 20% of its limit when the rent on that extra capacity
-- 20% of the line's yearly rent -- pays the annuity of its capex at the cost of capital (a line lasts
``LINE_LIFE_YEARS``); a line with an expansion on order waits for it.
"""

from __future__ import annotations

import numpy as np

from tokenomy.agents.base import Group, GroupAgent, Pipeline
from tokenomy.agents.finance import DISCOUNT_RATE, capital_recovery_factor

LINE_LIFE_YEARS = 40.0
LINE_STEP = 0.2  # share of a line's limit added by one expansion


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

    def build_connections(self, day: int) -> None:
        """Monthly: add connection capacity where load queues, at each zone's build rate."""
        build = self.zone_params["connection_build_mw_per_year"] / 12.0
        for z in np.flatnonzero((self.connection_queue_mw > 0) & (build > 0)):
            mw = min(build[z], self.connection_queue_mw[z])
            self.connection_queue_mw[z] -= mw
            self.connections.add(day + int(self.zone_params["connection_lead_days"][z]), int(z), mw)

    def plan_lines(self, day: int, annual_rent_cny: np.ndarray) -> list[tuple[int, float, float]]:
        """Monthly: expandable lines whose yearly congestion rent on the added capacity pays for it.
        Returns the orders placed (line, MW, CNY)."""
        lim = self.line_params["limit_mw"]
        capex = self.line_params["capex_cny_per_mw"]
        add = LINE_STEP * lim
        pays = annual_rent_cny * LINE_STEP > add * capex * capital_recovery_factor(DISCOUNT_RATE, LINE_LIFE_YEARS)
        orders = []
        on_order = self.lines.pending(lim.size) > 0
        for li in np.flatnonzero(self.line_expandable & pays & (add > 0) & ~on_order):
            self.lines.add(day + int(self.line_params["lead_days"][li]), int(li), float(add[li]))
            orders.append((int(li), float(add[li]), float(add[li] * capex[li])))
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
