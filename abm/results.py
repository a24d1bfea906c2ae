"""What each stage of a simulated day hands on: frozen records, read by the next stages, the recorder,
the charts and the tests (instead of dicts read by key).  Shapes: P providers, L labs, A AIDCs, B token
buyers (apps then enterprises), Z zones, T technologies, 24 hours, C open term contracts."""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, dataclass

import numpy as np
from numba import njit

from tokenomy.abm.links import TradeLinks
from tokenomy.agents.contracts import Reserved
from tokenomy.agents.numeric import psum


def record(cls: type) -> type:
    """``cls`` as a frozen dataclass with slots, whose ``__init__`` fills each slot through the slot's own descriptor.
    The dataclass's ``__init__`` sets each field with ``object.__setattr__`` (what freezing it asks for), about twice
    as slow, and a day makes eight records of some 100 fields in all.  Everything else is the dataclass's: assigning a
    field raises ``FrozenInstanceError``, ``dataclasses.replace`` and the comparison work as ever."""
    cls = dataclass(frozen=True, slots=True)(cls)
    fields = dataclasses.fields(cls)
    if any(f.default_factory is not MISSING or not f.init for f in fields):
        return cls  # (the dataclass's own __init__ knows these)
    scope = {f"_set_{f.name}": cls.__dict__[f.name].__set__ for f in fields}
    scope |= {f"_default_{f.name}": f.default for f in fields if f.default is not MISSING}
    params = ", ".join(f.name if f.default is MISSING else f"{f.name}=_default_{f.name}" for f in fields)
    body = "".join(f"    _set_{f.name}(self, {f.name})\n" for f in fields) or "    pass\n"
    made: dict = {}
    exec(f"def __init__(self, {params}):\n{body}", scope, made)  # noqa: S102 -- source made here from field names
    made["__init__"].__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = made["__init__"]
    return cls


@record
class DayAhead:
    """The hourly compute market, cleared before tokens are served."""

    flow: np.ndarray  # (E, 24) GPU-hours bought by each buyer-AIDC pair that can trade (``links``), reserved included
    links: TradeLinks  # the pairs: buyers (providers, then labs) x AIDCs
    reserved: (
        Reserved  # the term contracts' reserved GPU-hours, as delivered, and what they cost (its flow is in ``flow``)
    )
    reserved_gpu_hours: float  # the GPU-hours they reserved today, in all
    buyer_price: np.ndarray  # (P + L, 24) CNY per GPU-hour each buyer faced in each hour
    aidc_price: np.ndarray  # (A, 24) CNY per GPU-hour at each AIDC in each hour
    payment: np.ndarray  # (P + L, A) CNY for the GPU-hours bought in the market (not the reserved)
    ask_aidc: np.ndarray  # (J,) the AIDCs' ask steps ...
    ask_hour: np.ndarray
    ask_qty: np.ndarray
    ask_price: np.ndarray
    ask_filled: np.ndarray  # (J,) ... and how much of each sold


@record
class ComputeBook:
    """The day-ahead compute auction's order book, kept for the charts: every bid and ask step (one hour each)."""

    bid_buyer: np.ndarray  # (K,) providers, then labs (P + l)
    bid_hour: np.ndarray  # (K,)
    bid_qty: np.ndarray  # (K,) GPU-hours
    bid_price: np.ndarray  # (K,) CNY per GPU-hour
    ask_aidc: np.ndarray  # (J,)
    ask_hour: np.ndarray  # (J,)
    ask_qty: np.ndarray  # (J,) GPU-hours
    ask_price: np.ndarray  # (J,) CNY per GPU-hour
    ask_filled: np.ndarray  # (J,) GPU-hours sold day-ahead
    aidc_price: np.ndarray  # (A, 24) the clearing prices
    bought: np.ndarray  # (P + L, 24) GPU-hours each buyer bought in the auction (its term contracts' not included)


@record
class PowerBook:
    """The day's power market as cleared, kept for the charts: offers (units, then batteries discharging), bids
    (each zone's flexible load, then batteries charging) and the inelastic load, hour by hour."""

    offer_zone: np.ndarray  # (N,)
    offer_mw: np.ndarray  # (24, N)
    offer_price: np.ndarray  # (24, N) CNY per MWh
    bid_zone: np.ndarray  # (M,)
    bid_mw: np.ndarray  # (24, M)
    bid_price: np.ndarray  # (24, M) CNY per MWh
    load_mw: np.ndarray  # (24, Z) inelastic load
    offer_dispatch_mw: np.ndarray  # (24, N)
    bid_served_mw: np.ndarray  # (24, M)
    unserved_mw: np.ndarray  # (24, Z)
    line_flow_mw: np.ndarray  # (24, L) positive = from -> to
    price: np.ndarray  # (24, Z) CNY per MWh
    price_cap: float
    price_floor: float
    line_limit_mw: np.ndarray | None = None  # (L,) or (24, L): the limits it cleared with


@record
class ComputeDay:
    """All compute traded today: day-ahead plus the top-up, and how busy it kept the GPUs."""

    aidc_price: np.ndarray  # (A, 24) hourly clearing price
    buyer_price: np.ndarray  # (P + L, 24)
    flow: np.ndarray  # (E, 24) GPU-hours bought by each buyer-AIDC pair that can trade, day-ahead and top-up
    links: TradeLinks  # the pairs: buyers (providers, then labs) x AIDCs
    payment: np.ndarray  # (P + L, A) CNY paid for them
    top_up_gpu_hours: float  # the top-up part, in all
    sold: np.ndarray  # (A, 24) GPU-hours sold
    busy: np.ndarray  # (A, 24) GPU-hours busy (tokens served or training)
    token_busy: np.ndarray  # (A, 24) of which serving tokens
    top_tranche_fill: np.ndarray  # (A,) largest share of an AIDC's dearest tranche sold in any hour
    contract_payment: np.ndarray  # (C,) CNY from provider to AIDC for the GPU-hours each contract reserved
    contract_provider: np.ndarray  # (C,)
    contract_aidc: np.ndarray  # (C,)
    contracted_gpu_hours: np.ndarray  # (P,)
    contract_cost: np.ndarray  # (P,) CNY at contract prices
    ask_aidc: np.ndarray  # (J,) the AIDCs' ask steps ...
    ask_hour: np.ndarray
    ask_price: np.ndarray
    ask_unsold: np.ndarray  # (J,) ... and what was left of each after the day-ahead market and top-up
    top_up_value: np.ndarray  # (P,) CNY a top-up GPU-hour was worth to each provider: the dearest ask it would take
    price_cny_per_gpu_hour: float  # volume-weighted price of today's trades

    def pair_gpu_hours(self) -> np.ndarray:
        """(P + L, A) GPU-hours each buyer bought from each AIDC today (0 where they cannot trade)."""
        return self.links.pair_totals(self.flow)

    def dense_flow(self) -> np.ndarray:
        """(P + L, A, 24) the GPU-hours as a table (for tests and small worlds: at 1,000 entries of each kind it is
        0.4 GB)."""
        return self.links.dense(self.flow)

    @property
    def provider_cost(self) -> np.ndarray:
        """(P,) what each provider paid for compute today, contracts settled included."""
        return provider_cost(
            self.payment, self.contract_provider, self.contract_payment, self.contracted_gpu_hours.size
        )


@record
class TokenDay:
    """The token market."""

    demand: np.ndarray  # (B,) Mtok wanted today
    hourly_demand: np.ndarray  # (B, 24)
    served_pair: np.ndarray  # (B, P) Mtok served, daily totals
    served_by_provider: np.ndarray  # (P, 24)
    unserved: np.ndarray  # (B, 24)
    price: np.ndarray  # (P,) posted prices
    requested: np.ndarray  # (P, 24) what buyers first asked of each provider
    elasticity: np.ndarray  # (B,) buyers' own price elasticity at today's prices
    mtok_per_gpu_hour: np.ndarray  # (P,) providers' efficiency today


@record
class PowerDay:
    """The 24 zonal power markets and what they mean for each participant."""

    price: np.ndarray  # (24, Z) CNY per MWh
    gen_tech: np.ndarray  # (T, 24, Z) MW
    avail_tech: np.ndarray  # (T, 24, Z) MW
    curtail: np.ndarray  # (24, Z)
    net_import: np.ndarray  # (24, Z)
    charge_z: np.ndarray  # (24, Z)
    discharge_z: np.ndarray  # (24, Z)
    load: np.ndarray  # (24, Z) inelastic load: background + AIDCs
    aidc_zone_load: np.ndarray  # (24, Z)
    background: np.ndarray  # (24, Z)
    flex_served: np.ndarray  # (24, Z)
    unserved: np.ndarray  # (24, Z)
    spill: np.ndarray  # (24, Z)
    line_flow: np.ndarray  # (24, L)
    green_supply: np.ndarray  # (24, Z)
    green_share: np.ndarray  # (24, Z) green share of local supply
    dispatch: np.ndarray  # (24, U)
    aidc_load: np.ndarray  # (A, 24) MW
    aidc_bill: np.ndarray  # (A,) CNY
    aidc_green_mwh: np.ndarray  # (A,) green energy reaching each AIDC (its zone's hourly green share)
    household_bill: float
    util_rev: np.ndarray  # (n utilities,)
    util_cost: np.ndarray
    storage_paid: np.ndarray  # (S,) for charging
    storage_income: np.ndarray  # (S,) from discharging
    storage_share: float  # share of the power bought that storage sold


@record
class AidcCosts:
    """What running their GPUs cost each AIDC today besides power, as the agents compute it (one source for the
    payments and for the token's cost split)."""

    operations: np.ndarray  # (A,) CNY: busy GPU-hours x variable operations
    fixed: np.ndarray  # (A,) CNY: fixed operations of the online fleet
    certificates: np.ndarray  # (A,) CNY: green certificates bought
    firming: np.ndarray  # (A, S) CNY: firming bought from each storage operator
    batteries: np.ndarray  # (A, S) CNY: on-site batteries (flexible connections) from each storage operator


@record
class Day:
    """One simulated day."""

    day: int
    compute: ComputeDay
    tokens: TokenDay
    power: PowerDay
    aidc_costs: AidcCosts


@njit(cache=True)
def provider_cost(payment, contract_provider, contract_payment, n_providers):
    """:attr:`ComputeDay.provider_cost`: each provider's payments (summed as numpy sums a row) plus what it paid on
    its contracts (summed contract after contract)."""
    contracted = np.zeros(n_providers)  # one pass over the contracts (each provider's in their order)
    for c in range(contract_provider.size):
        contracted[contract_provider[c]] += contract_payment[c]
    cost = np.empty(n_providers)
    for p in range(n_providers):
        cost[p] = psum(payment[p]) + contracted[p]
    return cost
