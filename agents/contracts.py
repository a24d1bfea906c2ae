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
        flow, payment, by_provider, by_aidc = _deliver(
            self.provider, self.aidc, self.qty, self.price, available_gpus, n_buyers, self.n_aidcs, self.n_providers
        )
        # no copies: the book replaces its arrays when contracts are signed or end, it never edits them
        return Reserved(flow, payment, by_provider, by_aidc, self.provider, self.aidc)

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
    signed = []
    for p in range(need.shape[0]):
        gap = np.maximum(target[p] - cover[p], 0.0)
        if gap.sum() <= 0:
            continue
        sellers = np.flatnonzero(edges[p])
        if sellers.size == 0:
            continue
        weight = room[sellers].sum(axis=1)
        if weight.sum() <= 0:
            continue
        months = max(int(contract_months[p]), 1)
        rungs = range(1, months + 1) if first else (months,)
        for a, w in zip(sellers, weight / weight.sum(), strict=True):
            if w <= 0:
                continue
            qty = np.minimum(gap * w, room[a]) / len(rungs)
            if qty.sum() <= 0:
                continue
            shaped = expected_price[a]
            price = (1.0 + premium) * float(qty @ shaped / qty.sum())
            for m in rungs:
                signed.append((p, int(a), qty, price, day + m * month_days - 1))
            room[a] -= qty * len(rungs)
    book.sign_many(signed)  # (the book is not read again above: signing at the end is signing as we go)


class Reserved:
    """Today's reserved GPU-hours as delivered: ``flow`` (B, A, 24) GPU-hours by buyer (providers first) and AIDC,
    ``payment`` (C,) CNY each contract pays, ``by_provider`` (P, 24) and ``by_aidc`` (A, 24) GPUs reserved per
    hour; ``contract_provider`` and ``contract_aidc`` (C,) who is party to each contract."""

    __slots__ = ("flow", "payment", "by_provider", "by_aidc", "contract_provider", "contract_aidc")

    def __init__(self, flow, payment, by_provider, by_aidc, contract_provider, contract_aidc):
        self.flow = flow
        self.payment = payment
        self.by_provider = by_provider
        self.by_aidc = by_aidc
        self.contract_provider = contract_provider
        self.contract_aidc = contract_aidc

    def cost_by_provider(self) -> np.ndarray:
        """(P,) CNY each provider pays for its reservations today."""
        return np.bincount(self.contract_provider, self.payment, minlength=self.by_provider.shape[0])


@njit(cache=True)
def _deliver(provider, aidc, qty, price, available, n_buyers, n_aidcs, n_providers):
    """:meth:`ContractBook.deliver`: (flow (B, A, 24), payment per contract (C,), by provider (P, 24), by AIDC
    (A, 24)); ``n_buyers`` rows of flow (providers first, labs after, who hold no contracts)."""
    n_contracts, hours = qty.shape
    asked = np.zeros((n_aidcs, hours))
    for c in range(n_contracts):
        for h in range(hours):
            asked[aidc[c], h] += qty[c, h]
    flow = np.zeros((n_buyers, n_aidcs, hours))
    by_aidc = np.zeros((n_aidcs, hours))
    by_provider = np.zeros((n_providers, hours))
    payment = np.empty(n_contracts)
    for c in range(n_contracts):
        a = aidc[c]
        delivered = 0.0
        for h in range(hours):
            cut = min(1.0, available[a] / asked[a, h]) if asked[a, h] > available[a] else 1.0
            q = qty[c, h] * cut
            flow[provider[c], a, h] += q
            by_aidc[a, h] += q
            by_provider[provider[c], h] += q
            delivered += q
        payment[c] = price[c] * delivered
    return flow, payment, by_provider, by_aidc
