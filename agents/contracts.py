"""Term contracts for GPU-hours between cloud providers and AI data centres.

A contract fixes the price K of a quantity q_h of GPU-hours in every hour h for 1-12 months.  Every
GPU-hour still trades in the hourly market, so a reserved GPU nobody uses in an hour is resold, not
left idle; the contract settles the difference each day: the provider pays the AIDC
sum_h q_h (K - P_h), with P_h the AIDC's hourly price (a contract for differences, as in power markets).
So the provider's compute costs K for the contracted part whatever the spot does, and the AIDC recovers
capital at a price fixed in advance.

Prices are set when a contract is signed: the AIDC's expected hourly price over the provider's shape plus
a term premium (``compute.contract_premium``).  Expected prices carry recent scarcity, so when spot
prices rise, renewals carry the rise to providers' costs, and from there to token prices, with a lag.
Providers keep ``contract_share`` of their expected need under contract on a ladder of
``contract_months``-month contracts, so about one in ``contract_months`` renews each month.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tokenomy.agents.numeric import nan_to_zero, psum

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
        if self.provider.size and gone.any():
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

    def settle(self, aidc_hourly_price: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Today's settlement.  Returns (payment from provider to AIDC of each contract (C,), contracted
        GPU-hours per provider (P,), their cost at contract prices per provider (P,))."""
        if not self.provider.size:
            return np.zeros(0), np.zeros(self.n_providers), np.zeros(self.n_providers)
        return _settle(self.provider, self.aidc, self.qty, self.price, aidc_hourly_price, self.n_providers)

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


@njit(cache=True)
def _settle(provider, aidc, qty, price, aidc_hourly_price, n_providers):
    """:meth:`ContractBook.settle` (an hour without a spot price settles at 0), summed in numpy's order."""
    n, hours = qty.shape
    payment = np.empty(n)
    contracted = np.zeros(n_providers)
    cost = np.zeros(n_providers)
    spot_value = np.empty(hours)
    for c in range(n):
        for h in range(hours):
            spot_value[h] = qty[c, h] * nan_to_zero(aidc_hourly_price[aidc[c], h])
        gpu_hours = psum(qty[c])
        at_contract = price[c] * gpu_hours
        payment[c] = at_contract - psum(spot_value)
        contracted[provider[c]] += gpu_hours
        cost[provider[c]] += at_contract
    return payment, contracted, cost
