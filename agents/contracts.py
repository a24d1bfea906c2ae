"""Term contracts for GPU-hours between cloud providers and AI data centres: reserved capacity.

A contract reserves q_h GPUs in every hour h at the AIDC for 1-12 months at a price K fixed when it is signed.
The reservation is physical: those GPUs are the provider's before the day-ahead market opens (the AIDC offers
only the rest), and the provider pays K for every reserved GPU-hour whether it uses it or not -- a reserved GPU
it does not need in an hour idles, paid for.  So reservations change decisions: an AIDC sells less on the spot, a
provider bids only for what its reservation does not cover and is served first when GPUs run short.  (It prices its
tokens on what compute will cost it over the time its price holds, the spot price: a reservation signed months
ago is sunk, and the next one is signed at the price then.)  If an AIDC has fewer GPUs
available than it reserved in an hour (an outage), every reservation there is cut pro rata and only what is
delivered is paid.

Prices are set when a contract is signed: the AIDC's expected hourly price over the provider's shape plus
a term premium (``compute.contract_premium``).  Expected prices carry recent scarcity, so when spot prices
rise, renewals are signed dearer: the rise reaches what providers pay for compute with a lag of up to
``contract_months``.  Providers keep ``contract_share`` of their expected need under contract on a ladder of
``contract_months``-month contracts, so about one in ``contract_months`` renews each month.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tokenomy.agents.numeric import edge_at, psum, psum_at

MAX_CONTRACTED_SHARE = 0.8  # an AIDC sells contracts on at most this share of its online GPUs


class ContractBook:
    """All open contracts, as arrays (one row per contract)."""

    def __init__(self, n_providers: int, n_aidcs: int):
        self.n_providers = n_providers
        self.n_aidcs = n_aidcs
        self.provider = np.zeros(0, dtype=int)
        self.aidc = np.zeros(0, dtype=int)
        self.qty = np.zeros((0, 24))  # GPUs per hour
        self.price = np.zeros(0)  # CNY per GPU-hour
        self.end_day = np.zeros(0, dtype=int)  # last day covered
        self.ladder_built = False  # the first round of contracts is spread over a ladder

    def __len__(self) -> int:
        return self.provider.size

    def expire(self, day: int) -> None:
        keep = self.end_day >= day
        if not keep.all():
            self._keep(keep)

    def drop_aidcs(self, gone: np.ndarray) -> None:
        """Contracts with AIDCs that have no GPUs left end (the capacity behind them is gone)."""
        if self.provider.size and np.count_nonzero(gone):
            self._keep(~gone[self.aidc])

    def _keep(self, keep: np.ndarray) -> None:
        self.provider, self.aidc, self.qty = self.provider[keep], self.aidc[keep], self.qty[keep]
        self.price, self.end_day = self.price[keep], self.end_day[keep]

    def sign(self, provider: int, aidc: int, qty: np.ndarray, price: float, end_day: int) -> None:
        self.sign_many([(provider, aidc, qty, price, end_day)])

    def sign_many(self, contracts: list[tuple[int, int, np.ndarray, float, int]]) -> None:
        """Sign (provider, AIDC, GPUs per hour (24,), price, last day) contracts, in order."""
        if not contracts:
            return
        provider, aidc, qty, price, end_day = zip(*contracts, strict=True)
        self.provider = np.append(self.provider, provider)
        self.aidc = np.append(self.aidc, aidc)
        self.qty = np.vstack([self.qty, *(q[None, :] for q in qty)])
        self.price = np.append(self.price, price)
        self.end_day = np.append(self.end_day, end_day)

    def sign_arrays(
        self, provider: np.ndarray, aidc: np.ndarray, qty: np.ndarray, price: np.ndarray, end_day: np.ndarray
    ) -> None:
        """Sign contracts given as arrays (one row each), in order."""
        if not provider.size:
            return
        self.provider = np.concatenate([self.provider, provider])
        self.aidc = np.concatenate([self.aidc, aidc])
        self.qty = np.concatenate([self.qty, qty])
        self.price = np.concatenate([self.price, price])
        self.end_day = np.concatenate([self.end_day, end_day])

    def cover(self, after_day: int) -> np.ndarray:
        """(P, 24) GPUs per hour each provider holds under contracts still open after ``after_day``."""
        out = np.zeros((self.n_providers, 24))
        live = self.end_day > after_day
        np.add.at(out, self.provider[live], self.qty[live])
        return out

    def sold(self) -> np.ndarray:
        """(A, 24) GPUs per hour each AIDC has sold forward."""
        out = np.zeros((self.n_aidcs, 24))
        np.add.at(out, self.aidc, self.qty)
        return out

    def deliver(self, available_gpus: np.ndarray, n_buyers: int) -> Reserved:
        """Today's reservations, cut pro rata where an AIDC has fewer ``available_gpus`` (A,) than it reserved."""
        delivered, payment, by_provider, by_aidc = _deliver(
            self.provider, self.aidc, self.qty, self.price, available_gpus, self.n_aidcs, self.n_providers
        )
        # no copies: the book replaces its arrays when contracts are signed or end, it never edits them
        return Reserved(delivered, payment, by_provider, by_aidc, self.provider, self.aidc, (n_buyers, self.n_aidcs))

    def mean_price(self) -> float:
        """Volume-weighted price of the open contracts, CNY per GPU-hour (NaN with none)."""
        volume = self.qty.sum(axis=1)
        return float(volume @ self.price / volume.sum()) if volume.sum() > 0 else float("nan")


def renew(
    book: ContractBook,
    day: int,
    month_days: int,
    need: np.ndarray,
    contract_share: np.ndarray,
    contract_months: np.ndarray,
    edges: np.ndarray,
    aidc_online: np.ndarray,
    expected_price: np.ndarray,
    premium: float,
) -> None:
    """Monthly contracting.

    ``need`` (P, 24): each provider's expected GPUs per hour; ``edges`` (P, A) who may contract with whom;
    ``expected_price`` (A, 24): each AIDC's expected hourly price.  A provider whose cover next month falls
    short of ``contract_share`` x need signs for the gap -- on its first day spread over a ladder of 1 to
    ``contract_months`` months, later as one contract of ``contract_months`` months -- split over the AIDCs
    it may buy from in proportion to what each can still sell forward.
    """
    book.expire(day)
    cover = book.cover(day + month_days - 1)
    target = contract_share[:, None] * need
    room = np.maximum(MAX_CONTRACTED_SHARE * aidc_online[:, None] - book.sold(), 0.0)  # (A, 24)
    first = not book.ladder_built
    book.ladder_built = True
    months = np.maximum(np.asarray(contract_months, dtype=float).astype(np.int64), 1)
    signed = _plan(
        np.ascontiguousarray(target, dtype=float),
        cover,
        np.ascontiguousarray(edges, dtype=np.bool_),
        room,
        np.ascontiguousarray(expected_price, dtype=float),
        months,
        first,
        float(premium),
        int(day),
        int(month_days),
    )
    book.sign_arrays(*signed)  # (the book is not read again above: signing at the end is signing as we go)


@njit(cache=True)
def _plan(target, cover, edges, room, expected_price, months, first, premium, day, month_days):
    """:func:`renew`'s contracts, in order: (provider, AIDC, GPUs per hour (C, 24), price, last day); ``room`` (A, 24)
    is used up in place.  Work in proportion to the providers' links to AIDCs (their consideration sets)."""
    n_prov, hours = target.shape
    n_aidcs = edges.shape[1]
    cap = 16
    provider = np.empty(cap, np.int64)
    aidc = np.empty(cap, np.int64)
    qty = np.empty((cap, hours))
    price = np.empty(cap)
    end_day = np.empty(cap, np.int64)
    n = 0
    sellers = np.empty(n_aidcs, np.int64)
    weight = np.empty(n_aidcs)
    for p in range(n_prov):
        gap = np.maximum(target[p] - cover[p], 0.0)
        if psum(gap) <= 0:
            continue
        k = 0
        for a in range(n_aidcs):
            if edges[p, a]:
                sellers[k] = a
                weight[k] = psum(room[a])
                k += 1
        if k == 0:
            continue
        total = psum(weight[:k])
        if total <= 0:
            continue
        rungs = months[p] if first else 1
        first_rung = 1 if first else months[p]  # a ladder of 1..months months at first, then months
        for i in range(k):
            a = sellers[i]
            w = weight[i] / total
            if w <= 0:
                continue
            q = np.minimum(gap * w, room[a]) / rungs
            q_sum = psum(q)
            if q_sum <= 0:
                continue
            agreed = (1.0 + premium) * (np.dot(q, expected_price[a]) / q_sum)
            for m in range(first_rung, first_rung + rungs):
                if n == cap:  # grow the arrays (amortised: doubling)
                    cap *= 2
                    provider, aidc, price, end_day = (
                        _grown(provider, cap),
                        _grown(aidc, cap),
                        _grown(price, cap),
                        _grown(end_day, cap),
                    )
                    bigger = np.empty((cap, hours))
                    bigger[:n] = qty[:n]
                    qty = bigger
                provider[n], aidc[n], price[n], end_day[n] = p, a, agreed, day + m * month_days - 1
                qty[n] = q
                n += 1
            for h in range(hours):
                room[a, h] -= q[h] * rungs
    return provider[:n].copy(), aidc[:n].copy(), qty[:n].copy(), price[:n].copy(), end_day[:n].copy()


@njit(cache=True)
def _grown(x, size):
    out = np.empty(size, x.dtype)
    out[: x.size] = x
    return out


class Reserved:
    """Today's reserved GPU-hours as delivered: ``delivered`` (C, 24) GPUs each contract delivered in each hour,
    ``payment`` (C,) CNY each contract pays, ``by_provider`` (P, 24) and ``by_aidc`` (A, 24) GPUs reserved per
    hour; ``contract_provider`` and ``contract_aidc`` (C,) who is party to each contract; :attr:`flow` the (B, A, 24)
    table of them by buyer (providers first) and AIDC, built on access, for tests and small worlds
    (:func:`add_reserved` adds them to a day's flow per buyer-AIDC pair: at 1,000 entries of each kind the table
    would be 0.4 GB)."""

    __slots__ = ("delivered", "payment", "by_provider", "by_aidc", "contract_provider", "contract_aidc", "shape")

    def __init__(self, delivered, payment, by_provider, by_aidc, contract_provider, contract_aidc, shape):
        self.delivered = delivered
        self.payment = payment
        self.by_provider = by_provider
        self.by_aidc = by_aidc
        self.contract_provider = contract_provider
        self.contract_aidc = contract_aidc
        self.shape = shape  # (B, A): buyers (providers, then labs) and AIDCs

    @property
    def flow(self) -> np.ndarray:
        """(B, A, 24) GPU-hours reserved by buyer and AIDC."""
        out = np.zeros((*self.shape, self.delivered.shape[1]))
        np.add.at(out, (self.contract_provider, self.contract_aidc), self.delivered)
        return out

    def cost_by_provider(self) -> np.ndarray:
        """(P,) CNY each provider pays for its reservations today."""
        return np.bincount(self.contract_provider, self.payment, minlength=self.by_provider.shape[0])


@njit(cache=True)
def _deliver(provider, aidc, qty, price, available, n_aidcs, n_providers):
    """:meth:`ContractBook.deliver`: (delivered per contract and hour (C, 24), payment per contract (C,), by provider
    (P, 24), by AIDC (A, 24))."""
    n_contracts, hours = qty.shape
    asked = np.zeros((n_aidcs, hours))
    for c in range(n_contracts):
        for h in range(hours):
            asked[aidc[c], h] += qty[c, h]
    out = np.empty((n_contracts, hours))
    by_aidc = np.zeros((n_aidcs, hours))
    by_provider = np.zeros((n_providers, hours))
    payment = np.empty(n_contracts)
    for c in range(n_contracts):
        a = aidc[c]
        delivered = 0.0
        for h in range(hours):
            cut = min(1.0, available[a] / asked[a, h]) if asked[a, h] > available[a] else 1.0
            q = qty[c, h] * cut
            out[c, h] = q
            by_aidc[a, h] += q
            by_provider[provider[c], h] += q
            delivered += q
        payment[c] = price[c] * delivered
    return out, payment, by_provider, by_aidc


@njit(cache=True)
def add_reserved(flow, pair_ptr, pair_aidc, n_aidcs, provider, aidc, delivered):
    """Adds the contracts' ``delivered`` GPU-hours (C, 24) into ``flow`` (E, 24), the GPU-hours of the buyer-AIDC
    pairs that can trade (``pair_ptr``, ``pair_aidc``: each buyer's AIDCs in increasing order), in place, as adding
    their (B, A, 24) table would (each pair's contracts summed in their order, then added), and returns that table's
    sum in numpy's pairwise order -- without building it.  A contract between a pair that cannot trade is an error."""
    n_buyers, hours = pair_ptr.size - 1, flow.shape[1]
    n = provider.size
    key = np.empty(n, np.int64)
    for c in range(n):
        key[c] = provider[c] * n_aidcs + aidc[c]
    order = np.argsort(key, kind="mergesort")  # by pair, each pair's contracts in their order
    pos = np.empty(n * hours, np.int64)  # the table's nonzero cells, in its order, and their values
    val = np.empty(n * hours)
    row = np.empty(hours)
    m = 0
    i = 0
    while i < n:
        k = key[order[i]]
        row[:] = 0.0
        while i < n and key[order[i]] == k:
            for h in range(hours):
                row[h] += delivered[order[i], h]
            i += 1
        b, a = k // n_aidcs, k % n_aidcs
        e = edge_at(pair_ptr, pair_aidc, b, a)
        if e < 0:
            raise ValueError("a term contract between a provider and an AIDC that cannot trade")
        for h in range(hours):
            flow[e, h] += row[h]
            pos[m] = k * hours + h
            val[m] = row[h]
            m += 1
    return psum_at(pos[:m], val[:m], 0, n_buyers * n_aidcs * hours)
