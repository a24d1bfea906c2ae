"""GPU vendors: the supply side of the market for new accelerators.

Vendors (NVIDIA, Huawei...) make ``compute.gpu_deliveries_per_month`` GPUs a month for the modelled market and
ship orders first come, first served from one order book.  An order that finds the book empty ships at once;
otherwise it waits behind the backlog, so the lead time a buyer is quoted lengthens when orders run ahead of what
vendors can make -- the rigid supply of a boom.  A shipped GPU is in service once its data centre has been built
for it: ``lead_days`` after the order at the earliest (the building, power and cooling), or on the day it ships,
whichever is later.
"""

from __future__ import annotations

import numpy as np

from tokenomy.agents.base import DAYS_PER_YEAR

DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0


class GpuVendors:
    """The order book of GPUs ordered and not yet shipped, and what vendors make a day."""

    def __init__(self, n_aidcs: int):
        self.n_aidcs = n_aidcs
        self.book: list[list] = []  # [order day, AIDC, GPUs still to ship, day its data centre is ready], in order
        self.shipped_today = 0.0
        self._backlog = 0.0

    def backlog(self) -> float:
        """GPUs ordered and not shipped, in all."""
        return self._backlog

    def backlog_by_aidc(self) -> np.ndarray:
        out = np.zeros(self.n_aidcs)
        for _, a, gpus, _ in self.book:
            out[a] += gpus
        return out

    def quoted_wait_days(self, gpus: float, per_month: float) -> float:
        """Days until the last of ``gpus`` more GPUs ordered today would ship (infinite if vendors make none, or so
        few that a day's output is not a number above 0)."""
        per_day = per_month / DAYS_PER_MONTH
        if not per_day > 0.0:
            return np.inf
        return (self.backlog() + gpus) / per_day

    def order(self, day: int, gpus: np.ndarray, build_days: np.ndarray) -> None:
        """Book each AIDC's order (``gpus`` (A,)); its data centre is ready ``build_days`` (A,) later."""
        for a in np.flatnonzero(gpus > 0):
            self.book.append([int(day), int(a), float(gpus[a]), int(day + build_days[a])])
            self._backlog += float(gpus[a])

    def ship(self, day: int, per_month: float) -> list[tuple[int, int, float]]:
        """Ship today's output, oldest orders first.  Returns (day in service, AIDC, GPUs) of what shipped."""
        room = max(per_month, 0.0) / DAYS_PER_MONTH
        shipped: list[tuple[int, int, float]] = []
        total = 0.0
        while self.book and room > 1e-9:
            entry = self.book[0]
            n = min(entry[2], room)
            shipped.append((max(day, entry[3]), entry[1], n))
            entry[2] -= n
            room -= n
            total += n
            if entry[2] <= 1e-9:
                self.book.pop(0)
        self.shipped_today = total
        self._backlog = float(sum(entry[2] for entry in self.book)) if self.book else 0.0
        return shipped
