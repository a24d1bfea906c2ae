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
from numba import njit

from tokenomy.agents.numeric import psum

EXTERNAL = (
    "customers",
    "households",
    "gpu_vendors",
    "fuel_and_operations",
    "builders",
    "lab_funding",
    "green_certificates",
)


class Ledger:
    def __init__(self, n_agents: int, initial_cash: np.ndarray):
        self.n_agents = n_agents
        self.account = {name: n_agents + i for i, name in enumerate(EXTERNAL)}
        self.balance = np.zeros(n_agents + len(EXTERNAL))
        self.balance[:n_agents] = initial_cash
        self.revenue_today = np.zeros_like(self.balance)
        self.cost_today = np.zeros_like(self.balance)
        self.capital_today = np.zeros_like(self.balance)  # capex paid (cash out, not a cost)
        self.noncash_today = np.zeros_like(self.balance)  # costs that moved no cash (depreciation)
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray, list[int], list[int], bool]] = []
        # named flows ("fuel", "tokens", ...): CNY moved today and since the start, and how many payments today
        self._flow_id: dict[str, int] = {}
        self._flow_today = np.zeros(0)
        self._flow_total = np.zeros(0)
        self._flow_count_today = np.zeros(0)
        self._segment_ids: dict[tuple[str, ...], list[int]] = {}  # the ids of a pattern of flows (pay_segments)

    @property
    def flows_today(self) -> dict[str, float]:
        """CNY moved today by every flow that saw a payment today."""
        return {name: float(self._flow_today[i]) for name, i in self._flow_id.items() if self._flow_count_today[i]}

    @property
    def total_by_flow(self) -> dict[str, float]:
        """CNY moved by every flow since the start."""
        return {name: float(self._flow_total[i]) for name, i in self._flow_id.items()}

    def forget_flows(self) -> None:
        """Clear the totals by flow (after a spin-up: what is reported starts on day 0)."""
        self._flow_total[:] = 0.0

    def start_day(self) -> None:
        self.revenue_today.fill(0.0)
        self.cost_today.fill(0.0)
        self.capital_today.fill(0.0)
        self.noncash_today.fill(0.0)
        self._flow_today.fill(0.0)
        self._flow_count_today.fill(0.0)

    def pay(
        self,
        payer: np.ndarray | int,
        payee: np.ndarray | int,
        amount_cny: np.ndarray | float,
        flow: str,
        capital: bool = False,
    ) -> None:
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

    def pay_segments(
        self, payer: np.ndarray, payee: np.ndarray, amount_cny: np.ndarray, flows: list[str], sizes: list[int]
    ) -> None:
        """Several flows in one call: equal-length ``payer``, ``payee`` and ``amount_cny``, whose consecutive
        segments of ``sizes`` belong to ``flows`` (for the model's fixed daily payment patterns)."""
        if amount_cny.size:
            key = tuple(flows)
            ids = self._segment_ids.get(key)
            if ids is None:  # (the same few patterns come back day after day)
                ids = self._segment_ids[key] = [self._flow(f) for f in flows]
            self._pending.append((payer, payee, amount_cny, ids, sizes, False))

    def expense(self, account: np.ndarray, amount_cny: np.ndarray, flow: str) -> None:
        """A cost that moves no cash (depreciation, a write-off): counts against profit today."""
        amount = np.ascontiguousarray(amount_cny, dtype=float)
        account = np.ascontiguousarray(account, dtype=np.int64)
        if amount.ndim != 1 or account.shape != amount.shape:
            account, amount = (np.ascontiguousarray(a.ravel()) for a in np.broadcast_arrays(account, amount))
        if flow not in self._flow_id and not np.isfinite(amount).all():
            raise ValueError(f"non-finite amount in '{flow}'")
        i = self._flow(flow)
        if not _expense(
            self.cost_today,
            self.noncash_today,
            self._flow_today,
            self._flow_total,
            self._flow_count_today,
            i,
            account,
            amount,
        ):
            raise ValueError(f"non-finite amount in '{flow}'")

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
        self._pending = []
        if len(pending) == 1:
            payer, payee, amount, ids, sizes, capital = pending[0]
            capital = [capital] * len(ids)
        else:
            payer = np.concatenate([p[0] for p in pending])
            payee = np.concatenate([p[1] for p in pending])
            amount = np.concatenate([p[2] for p in pending])
            ids = [i for p in pending for i in p[3]]
            sizes = [n for p in pending for n in p[4]]
            capital = [p[5] for p in pending for _ in p[3]]
        bad = _post(
            self.balance,
            self.revenue_today,
            self.cost_today,
            self.capital_today,
            self._flow_today,
            self._flow_total,
            self._flow_count_today,
            payer.astype(np.int64, copy=False),
            payee.astype(np.int64, copy=False),
            np.asarray(amount, dtype=float),
            np.array(ids, dtype=np.int64),
            np.array(sizes, dtype=np.int64),
            np.array(capital, dtype=np.bool_),
        )
        if bad >= 0:
            name = next(name for name, i in self._flow_id.items() if i == bad)
            raise ValueError(f"non-finite payment in flow '{name}'")

    def agent_cash(self) -> np.ndarray:
        return self.balance[: self.n_agents]


@njit(cache=True)
def _post(  # noqa: C901 -- a compiled kernel: one loop nest, kept whole for speed
    balance,
    revenue,
    cost,
    capital_today,
    flow_today,
    flow_total,
    flow_count,
    payer,
    payee,
    amount,
    ids,
    sizes,
    capital,
):
    """:meth:`Ledger.post` on the concatenated transfers, whose consecutive segments of ``sizes`` belong to flows
    ``ids`` (capital payments where ``capital``), adding up in the order numpy's ``bincount`` does.  Returns -1, or
    the flow of a non-finite amount (then nothing is booked)."""
    if not np.isfinite(psum(amount)):
        k = 0
        for s in range(ids.size):
            for _ in range(sizes[s]):
                if not np.isfinite(amount[k]):
                    return ids[s]
                k += 1
        return ids[0]
    n = balance.size
    out = np.zeros(n)
    into = np.zeros(n)
    for k in range(amount.size):
        out[payer[k]] += amount[k]
        into[payee[k]] += amount[k]
    for i in range(n):
        balance[i] += into[i] - out[i]
    if capital.any():  # capex moves cash but is no cost (to the payer) or revenue (to the payee)
        capital_out = np.zeros(n)
        into = np.zeros(n)
        k = 0
        for s in range(ids.size):
            for _ in range(sizes[s]):
                capital_out[payer[k]] += amount[k] if capital[s] else 0.0
                into[payee[k]] += 0.0 if capital[s] else amount[k]
                k += 1
        for i in range(n):
            capital_today[i] += capital_out[i]
            out[i] = out[i] - capital_out[i]
    for i in range(n):
        cost[i] += out[i]
        revenue[i] += into[i]
    by_flow = np.zeros(flow_today.size)
    k = 0
    for s in range(ids.size):
        for _ in range(sizes[s]):
            by_flow[ids[s]] += amount[k]
            k += 1
    for f in range(flow_today.size):
        flow_today[f] += by_flow[f]
        flow_total[f] += by_flow[f]
    for i in ids:
        flow_count[i] += 1.0
    return -1


@njit(cache=True)
def _expense(cost, noncash, flow_today, flow_total, flow_count, flow, account, amount):
    """:meth:`Ledger.expense`; returns False (nothing booked) on a non-finite amount."""
    for k in range(amount.size):
        if not np.isfinite(amount[k]):
            return False
    for k in range(amount.size):
        cost[account[k]] += amount[k]
    for k in range(amount.size):
        noncash[account[k]] += amount[k]
    total = psum(amount)
    flow_today[flow] += total
    flow_total[flow] += total
    flow_count[flow] += 1.0
    return True
