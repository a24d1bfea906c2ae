"""One ledger through which every payment passes.

Accounts are numbered: first every agent (in model order), then the accounts outside the modelled
economy (end customers, households, GPU vendors, fuel, builders, the training market) and the grid
operator that collects congestion rent.  A payment is a vectorised set of transfers; each one
debits its payer and credits its payee, so the sum over all accounts never changes and the cash of
the modelled agents changes only by what crosses the boundary.

Operating payments count as the payer's cost and the payee's revenue; capital payments (capex) move
cash only; depreciation and write-offs are costs that move no cash.  So an agent's profit is
revenue - cost, depreciation included, and its cash is what it was paid less what it paid.
"""

from __future__ import annotations

import numpy as np

EXTERNAL = ("customers", "households", "gpu_vendors", "fuel_and_operations", "builders", "lab_funding",
            "green_certificates")


class Ledger:
    def __init__(self, n_agents: int, initial_cash: np.ndarray):
        self.n_agents = n_agents
        self.account = {name: n_agents + i for i, name in enumerate(EXTERNAL)}
        self.balance = np.zeros(n_agents + len(EXTERNAL))
        self.balance[:n_agents] = initial_cash
        self.revenue_today = np.zeros_like(self.balance)
        self.cost_today = np.zeros_like(self.balance)
        self.capital_today = np.zeros_like(self.balance)   # capex paid (cash out, not a cost)
        self.noncash_today = np.zeros_like(self.balance)   # costs that moved no cash (depreciation)
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray, list[int], list[int], bool]] = []
        # named flows ("fuel", "tokens", ...): CNY moved today and since the start, and how many payments today
        self._flow_id: dict[str, int] = {}
        self._flow_today = np.zeros(0)
        self._flow_total = np.zeros(0)
        self._flow_count_today = np.zeros(0)

    @property
    def flows_today(self) -> dict[str, float]:
        """CNY moved today by every flow that saw a payment today."""
        return {name: float(self._flow_today[i]) for name, i in self._flow_id.items() if self._flow_count_today[i]}

    @property
    def total_by_flow(self) -> dict[str, float]:
        """CNY moved by every flow since the start."""
        return {name: float(self._flow_total[i]) for name, i in self._flow_id.items()}

    def start_day(self) -> None:
        self.revenue_today[:] = 0.0
        self.cost_today[:] = 0.0
        self.capital_today[:] = 0.0
        self.noncash_today[:] = 0.0
        self._flow_today[:] = 0.0
        self._flow_count_today[:] = 0.0

    def pay(self, payer: np.ndarray | int, payee: np.ndarray | int, amount_cny: np.ndarray | float,
            flow: str, capital: bool = False) -> None:
        """Transfer ``amount_cny`` from ``payer`` to ``payee`` (arrays broadcast together).

        Negative amounts are allowed (a payment at a negative power price runs the other way).
        Transfers are booked in one vectorised pass by :meth:`post`, which also rejects non-finite
        amounts, naming the flow.  Kept lean: the model makes about fifteen payments a day.  A ``capital``
        payment (capex) moves cash but is no cost or revenue.
        """
        amount = np.asarray(amount_cny, dtype=float)
        payer = np.asarray(payer)
        payee = np.asarray(payee)
        if amount.size == 0 or payer.size == 0 or payee.size == 0:
            return  # nobody of that kind in this world
        payer, payee, amount = (a.ravel() for a in np.broadcast_arrays(payer, payee, amount))
        n = amount.size
        self._pending.append((payer, payee, amount, [self._flow(flow)], [n], capital))

    def pay_segments(self, payer: np.ndarray, payee: np.ndarray, amount_cny: np.ndarray, flows: list[str],
                     sizes: list[int]) -> None:
        """Several flows in one call: equal-length ``payer``, ``payee`` and ``amount_cny``, whose consecutive
        segments of ``sizes`` belong to ``flows`` (for the model's fixed daily payment patterns)."""
        if amount_cny.size:
            self._pending.append((payer, payee, amount_cny, [self._flow(f) for f in flows], sizes, False))

    def expense(self, account: np.ndarray, amount_cny: np.ndarray, flow: str) -> None:
        """A cost that moves no cash (depreciation, a write-off): counts against profit today."""
        amount = np.asarray(amount_cny, dtype=float)
        if not np.isfinite(amount).all():
            raise ValueError(f"non-finite amount in '{flow}'")
        np.add.at(self.cost_today, np.asarray(account), amount)
        np.add.at(self.noncash_today, np.asarray(account), amount)
        total = float(amount.sum())
        i = self._flow(flow)
        self._flow_today[i] += total
        self._flow_total[i] += total
        self._flow_count_today[i] += 1

    def _flow(self, name: str) -> int:
        flow_id = self._flow_id.get(name)
        if flow_id is None:
            flow_id = self._flow_id[name] = len(self._flow_id)
            self._flow_today = np.append(self._flow_today, 0.0)
            self._flow_total = np.append(self._flow_total, 0.0)
            self._flow_count_today = np.append(self._flow_count_today, 0.0)
        return flow_id

    def post(self) -> None:
        """Book every pending transfer: debit payers, credit payees, add up each flow."""
        pending = self._pending
        if not pending:
            return
        amount = np.concatenate([p[2] for p in pending])
        ids = [i for p in pending for i in p[3]]
        sizes = [n for p in pending for n in p[4]]
        flow = np.repeat(ids, sizes)
        if not np.isfinite(amount.sum()):
            self._pending = []
            bad = flow[~np.isfinite(amount)][0]
            name = next(name for name, i in self._flow_id.items() if i == bad)
            raise ValueError(f"non-finite payment in flow '{name}'")
        self._pending = []
        payer = np.concatenate([p[0] for p in pending])
        payee = np.concatenate([p[1] for p in pending])
        n = self.balance.size
        out = np.bincount(payer, amount, minlength=n)
        into = np.bincount(payee, amount, minlength=n)
        self.balance += into - out
        if any(p[5] for p in pending):
            operating = np.concatenate([np.full(p[2].size, not p[5]) for p in pending])
            capital_out = np.bincount(payer, np.where(operating, 0.0, amount), minlength=n)
            self.capital_today += capital_out
            out = out - capital_out
            into = np.bincount(payee, np.where(operating, amount, 0.0), minlength=n)
        self.cost_today += out
        self.revenue_today += into
        by_flow = np.bincount(flow, amount, minlength=self._flow_today.size)
        self._flow_today += by_flow
        self._flow_total += by_flow
        self._flow_count_today += np.bincount(ids, minlength=self._flow_today.size)

    def agent_cash(self) -> np.ndarray:
        return self.balance[: self.n_agents]
