"""One ledger through which every payment passes.

Accounts are numbered: first every agent (in model order), then the accounts outside the modelled
economy (end customers, households, GPU vendors, fuel, builders, the training market) and the grid
operator that collects congestion rent.  A payment is a vectorised set of transfers; each one
debits its payer and credits its payee, so the sum over all accounts never changes and the cash of
the modelled agents changes only by what crosses the boundary.
"""

from __future__ import annotations

import numpy as np

EXTERNAL = ("customers", "households", "gpu_vendors", "fuel_and_operations", "builders", "training_buyers",
            "grid_operator")


class Ledger:
    def __init__(self, n_agents: int, initial_cash: np.ndarray):
        self.n_agents = n_agents
        self.account = {name: n_agents + i for i, name in enumerate(EXTERNAL)}
        self.balance = np.zeros(n_agents + len(EXTERNAL))
        self.balance[:n_agents] = initial_cash
        self.revenue_today = np.zeros_like(self.balance)
        self.cost_today = np.zeros_like(self.balance)
        self.flows_today: dict[str, float] = {}
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.total_by_flow: dict[str, float] = {}

    def start_day(self) -> None:
        self.revenue_today[:] = 0.0
        self.cost_today[:] = 0.0
        self.flows_today = {}

    def pay(self, payer: np.ndarray | int, payee: np.ndarray | int, amount_cny: np.ndarray | float,
            flow: str) -> None:
        """Transfer ``amount_cny`` from ``payer`` to ``payee`` (arrays broadcast together).

        Negative amounts are allowed (a payment at a negative power price runs the other way).
        Transfers are booked in one vectorised pass by :meth:`post`.
        """
        amount = np.asarray(amount_cny, dtype=float).ravel()
        payer = np.asarray(payer).ravel()
        payee = np.asarray(payee).ravel()
        if amount.size == 0 or payer.size == 0 or payee.size == 0:
            return  # nobody of that kind in this world
        n = max(amount.size, payer.size, payee.size)
        if amount.size != n:
            amount = np.full(n, amount[0])
        if payer.size != n:
            payer = np.full(n, payer[0])
        if payee.size != n:
            payee = np.full(n, payee[0])
        total = float(amount.sum())
        if total != total or abs(total) == float("inf"):
            raise ValueError(f"non-finite payment in flow '{flow}'")
        self._pending.append((payer, payee, amount))
        self.flows_today[flow] = self.flows_today.get(flow, 0.0) + total
        self.total_by_flow[flow] = self.total_by_flow.get(flow, 0.0) + total

    def post(self) -> None:
        """Book every pending transfer: debit payers, credit payees."""
        if not self._pending:
            return
        payer = np.concatenate([p[0] for p in self._pending])
        payee = np.concatenate([p[1] for p in self._pending])
        amount = np.concatenate([p[2] for p in self._pending])
        self._pending = []
        n = self.balance.size
        out = np.bincount(payer, amount, minlength=n)
        into = np.bincount(payee, amount, minlength=n)
        self.balance += into - out
        self.cost_today += out
        self.revenue_today += into

    def agent_cash(self) -> np.ndarray:
        return self.balance[: self.n_agents]
