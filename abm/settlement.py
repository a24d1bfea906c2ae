"""Step 5: settlement.  Every payment of the day goes through the one ledger.

Tokens (buyers to providers) and what buyers' own customers pay them; compute (day-ahead and top-up, at
the hourly clearing prices and the asks) and the settlement of term contracts; labs' funding; power at
the zonal prices (AIDCs, households, generators, storage, the grid operator's congestion rent); AIDC
operations; green certificates and firming; and the costs that move no cash (depreciation, write-offs).
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from tokenomy.abm.results import AidcCosts, Day
from tokenomy.abm.state import World
from tokenomy.agents.numeric import psum

# The day's payments, in booking order (the order matters: the ledger adds them up one after the other).
# Each is booked only when it has a payer, a payee and an amount; contracts, certificates and firming only
# on days they are due.
DAY_FLOWS = (
    "tokens",
    "buyer revenue",
    "compute",
    "compute contracts",
    "lab funding",
    "aidc power",
    "household power",
    "generation",
    "fuel",
    "aidc operations",
    "storage charging",
    "storage discharging",
    "aidc fixed operations",
    "green certificates",
    "storage firming",
    "capacity payments",
    "on-site batteries",
)


def aidc_costs(world: World) -> AidcCosts:
    """Today's operations, fixed operations, certificates and firming of every AIDC, from the agents' own methods."""
    aidcs = world.aidcs
    certificates, firming = world.green.payments()
    batteries = world.flexible.payments(aidcs.backing_mwh)
    return AidcCosts(aidcs.operations_costs(), aidcs.fixed_costs(), certificates, firming, batteries)


def settle(world: World, day: Day) -> None:
    led, acc = world.ledger, world.accounts
    compute, tokens, power = day.compute, day.tokens, day.power
    aidcs, apps, ents = world.aidcs, world.apps, world.enterprises
    e, p = ents.params, apps.params
    payer, payee, amount, sizes = _day_payments(
        acc["app"],
        acc["enterprise"],
        acc["provider"],
        acc["lab"],
        acc["aidc"],
        acc["utility"],
        acc["storage"],
        led.account["customers"],
        led.account["lab_funding"],
        led.account["grid_operator"],
        led.account["fuel_and_operations"],
        led.account["households"],
        world.certificate_payee,
        tokens.served_pair,
        tokens.price,
        p["mtok_per_request"],
        p["agentic_share"],
        p["agent_multiplier"],
        p["revenue_cny_per_request"],
        e["reference_price_cny_per_mtok"],
        compute.payment,
        compute.contract_provider,
        compute.contract_aidc,
        compute.contract_payment,
        power.aidc_bill,
        power.household_bill,
        power.util_rev,
        power.util_cost,
        power.storage_paid,
        power.storage_income,
        day.aidc_costs.operations,
        day.aidc_costs.fixed,
        day.aidc_costs.certificates,
        world.certificate_split,
        day.aidc_costs.firming,
        capacity_payments(world),
        day.aidc_costs.batteries,
    )
    led.pay_segments(payer, payee, amount, *_segments(tuple(sizes.tolist())))
    led.expense(acc["aidc"], aidcs.depreciation(day.day), "depreciation")
    write_offs = aidcs.book_write_offs()
    if np.count_nonzero(write_offs):  # GPUs an event took out of service
        led.expense(acc["aidc"], write_offs, "write-offs")
    led.post()


@functools.lru_cache(maxsize=256)
def _segments(sizes: tuple[int, ...]) -> tuple[list[str], list[int]]:
    """The flows of :data:`DAY_FLOWS` with a payment today and their numbers of payments, from the number of each
    (the same few patterns come back day after day; the lists are only read)."""
    return [flow for flow, size in zip(DAY_FLOWS, sizes, strict=True) if size], [size for size in sizes if size]


@njit(cache=True)
def _day_payments(  # noqa: C901 -- a compiled kernel: one loop nest, kept whole for speed
    app,
    enterprise,
    provider,
    lab,
    aidc,
    utility,
    storage,
    customers,
    lab_funding,
    grid,
    fuel,
    households,
    certificate_payee,
    served_pair,
    token_price,
    mtok_per_request,
    agentic_share,
    agent_multiplier,
    revenue_per_request,
    reference_price,
    compute_payment,
    contract_provider,
    contract_aidc,
    contract_payment,
    aidc_bill,
    household_bill,
    util_rev,
    util_cost,
    storage_paid,
    storage_income,
    operations,
    fixed,
    certificates,
    certificate_split,
    firming,
    capacity,
    batteries,
):
    """Payer, payee and amount of every payment of the day, in the order of ``DAY_FLOWS`` (absent flows left out),
    and the size of each flow (0 where absent); the AIDCs' costs come from :class:`AidcCosts`."""
    # (loops, not numpy calls and array expressions, throughout: the kernel loads faster from the disk cache)
    n_apps, n_prov, n_aidcs = app.size, provider.size, aidc.size
    buyers = _joined(app, enterprise)
    compute_buyers = _joined(provider, lab)
    n_buyers, n_compute, n_lab, n_util, n_store = buyers.size, compute_buyers.size, lab.size, utility.size, storage.size
    n_contracts, n_payees = contract_payment.size, certificate_payee.size
    sizes = np.zeros(len(DAY_FLOWS), np.int64)
    sizes[0] = n_buyers * n_prov
    sizes[1] = n_buyers
    sizes[2] = n_compute * n_aidcs
    sizes[3] = n_contracts
    sizes[4] = n_lab
    sizes[5] = n_aidcs
    sizes[6] = 1
    sizes[7] = sizes[8] = n_util
    sizes[9] = n_aidcs
    sizes[10] = sizes[11] = n_store
    sizes[12] = n_aidcs
    if _any_nonzero(certificates):
        sizes[13] = n_aidcs * n_payees
    if _any_nonzero_2d(firming):
        sizes[14] = n_aidcs * n_store
    if _any_nonzero(capacity):
        sizes[15] = n_util
    if _any_nonzero_2d(batteries):
        sizes[16] = n_aidcs * n_store
    total = 0
    for f in range(sizes.size):
        total += sizes[f]
    payer = np.empty(total, np.int64)
    payee = np.empty(total, np.int64)
    amount = np.empty(total)
    k = 0
    if sizes[0]:  # tokens: buyers pay providers
        for b in range(n_buyers):
            for p in range(n_prov):
                payer[k], payee[k], amount[k] = buyers[b], provider[p], served_pair[b, p] * token_price[p]
                k += 1
    if sizes[1]:  # what buyers' own customers pay them
        for b in range(n_buyers):
            served = psum(served_pair[b])
            if b < n_apps:
                per_request = mtok_per_request[b] * (1.0 - agentic_share[b] + agentic_share[b] * agent_multiplier[b])
                revenue = (served / per_request if per_request > 0.0 else 0.0) * revenue_per_request[b]
            else:
                revenue = served * reference_price[b - n_apps]
            payer[k], payee[k], amount[k] = customers, buyers[b], revenue
            k += 1
    if sizes[2]:  # compute, day-ahead and top-up
        for b in range(n_compute):
            for a in range(n_aidcs):
                payer[k], payee[k], amount[k] = compute_buyers[b], aidc[a], compute_payment[b, a]
                k += 1
    for c in range(n_contracts):  # reserved GPU-hours under term contracts, paid whether used or not
        payer[k], payee[k], amount[k] = provider[contract_provider[c]], aidc[contract_aidc[c]], contract_payment[c]
        k += 1
    for j in range(n_lab):  # labs' funding covers what they paid for compute
        payer[k], payee[k], amount[k] = lab_funding, lab[j], psum(compute_payment[n_prov + j])
        k += 1
    for a in range(n_aidcs):  # power at the zonal prices
        payer[k], payee[k], amount[k] = aidc[a], grid, aidc_bill[a]
        k += 1
    payer[k], payee[k], amount[k] = households, grid, household_bill
    k += 1
    for u in range(n_util):
        payer[k], payee[k], amount[k] = grid, utility[u], util_rev[u]
        k += 1
    for u in range(n_util):
        payer[k], payee[k], amount[k] = utility[u], fuel, util_cost[u]
        k += 1
    for a in range(n_aidcs):
        payer[k], payee[k], amount[k] = aidc[a], fuel, operations[a]
        k += 1
    for s in range(n_store):
        payer[k], payee[k], amount[k] = storage[s], grid, storage_paid[s]
        k += 1
    for s in range(n_store):
        payer[k], payee[k], amount[k] = grid, storage[s], storage_income[s]
        k += 1
    for a in range(n_aidcs):  # fixed operations of the online fleet
        payer[k], payee[k], amount[k] = aidc[a], fuel, fixed[a]
        k += 1
    if sizes[13]:  # green certificates, to the utilities owning renewables in the AIDC's zone
        for a in range(n_aidcs):
            for j in range(n_payees):
                payer[k], payee[k], amount[k] = aidc[a], certificate_payee[j], certificates[a] * certificate_split[a, j]
                k += 1
    if sizes[14]:  # firming bought from storage operators
        for a in range(n_aidcs):
            for s in range(n_store):
                payer[k], payee[k], amount[k] = aidc[a], storage[s], firming[a, s]
                k += 1
    if sizes[15]:  # the capacity tariff, paid by consumers to the owners of coal and gas plants
        for u in range(n_util):
            payer[k], payee[k], amount[k] = households, utility[u], capacity[u]
            k += 1
    if sizes[16]:  # on-site batteries that run flexibly connected GPUs in tight hours
        for a in range(n_aidcs):
            for s in range(n_store):
                payer[k], payee[k], amount[k] = aidc[a], storage[s], batteries[a, s]
                k += 1
    return payer, payee, amount, sizes


@njit(cache=True)
def _joined(a, b):
    """``np.concatenate((a, b))`` of two 1-d integer arrays."""
    out = np.empty(a.size + b.size, np.int64)
    for i in range(a.size):
        out[i] = a[i]
    for i in range(b.size):
        out[a.size + i] = b[i]
    return out


@njit(cache=True)
def _any_nonzero(x):
    """``(x != 0.0).any()`` of a 1-d array."""
    found = False
    for i in range(x.size):
        if x[i] != 0.0:
            found = True
            break
    return found


@njit(cache=True)
def _any_nonzero_2d(x):
    """``(x != 0.0).any()`` of a 2-d array."""
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            if x[i, j] != 0.0:
                return True
    return False


def capacity_payments(world: World) -> np.ndarray:
    """Today's capacity tariff to each utility, CNY: its coal and gas MW x ``policy.capacity_tariff_cny_per_kw_year``
    x 1000 / 365 (China's capacity price for coal power, from 2024)."""
    tariff = world.data["policy"]["capacity_tariff_cny_per_kw_year"]
    if tariff <= 0:
        return np.zeros(world.utilities.n)
    return world.utilities.dispatchable_mw() * tariff * 1000.0 / 365.0


def certificate_recipients(world: World) -> tuple[np.ndarray, np.ndarray]:
    """Who is paid for each AIDC's green certificates: the utilities owning renewables in its zone, in
    proportion to that capacity (else an account outside the economy).  Returns (payee accounts (U+1,),
    split (A, U+1))."""
    util, aidcs = world.utilities, world.aidcs
    from tokenomy.agents.technologies import RENEWABLE

    payee = np.append(world.accounts["utility"], world.ledger.account["green_certificates"])
    split = np.zeros((aidcs.n, util.n + 1))
    ren = RENEWABLE[util.unit_tech]
    for a in range(aidcs.n):
        mine = ren & (util.unit_zone == aidcs.zone[a])
        cap = np.bincount(util.unit_owner[mine], util.unit_capacity_mw[mine], minlength=util.n)
        if cap.sum() > 0:
            split[a, :-1] = cap / cap.sum()
        else:
            split[a, -1] = 1.0
    return payee, split
