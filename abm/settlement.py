"""Step 5: settlement.  Every payment of the day goes through the one ledger.

Tokens (buyers to providers) and what buyers' own customers pay them; compute (day-ahead and top-up, at
the hourly clearing prices and the asks) and the settlement of term contracts; labs' funding; power at
the zonal prices (AIDCs, households, generators, storage, the grid operator's congestion rent); AIDC
operations; green certificates and firming; and the costs that move no cash (depreciation, write-offs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from abm.results import Day


def power_payment_plan(model: Any) -> tuple[np.ndarray, np.ndarray, list[str], list[int]]:
    """Payer and payee accounts of the day's power payments, in the order :func:`settle` lays out the amounts,
    with the flow of each segment (empty segments left out of the flow list)."""
    acct = model.ledger.account
    grid, fuel, households = acct["grid_operator"], acct["fuel_and_operations"], acct["households"]
    a_acct, u_acct, s_acct = model.accounts["aidc"], model.accounts["utility"], model.accounts["storage"]
    segments = [("aidc power", a_acct, grid), ("household power", np.array([households]), grid),
                ("generation", grid, u_acct), ("fuel", u_acct, fuel), ("aidc operations", a_acct, fuel),
                ("storage charging", s_acct, grid), ("storage discharging", grid, s_acct)]
    payer, payee, flows, sizes = [], [], [], []
    for flow, frm, to in segments:
        frm, to = np.broadcast_arrays(frm, to)
        payer.append(frm)
        payee.append(to)
        if frm.size:
            flows.append(flow)
            sizes.append(frm.size)
    return np.concatenate(payer), np.concatenate(payee), flows, sizes


def settle(model: Any, day: Day) -> None:
    led, acc = model.ledger, model.accounts
    compute, tokens, power = day.compute, day.tokens, day.power
    aidcs = model.aidcs
    buyers = np.concatenate([acc["app"], acc["enterprise"]])
    led.pay(buyers[:, None], acc["provider"][None, :], tokens.served_pair * tokens.price[None, :], "tokens")
    served_b = tokens.served_pair.sum(axis=1)
    na = model.apps.n
    led.pay(led.account["customers"], buyers, np.concatenate([model.apps.revenue_cny(served_b[:na]),
                                                               model.enterprises.revenue_cny(served_b[na:])]),
            "buyer revenue")
    compute_buyers = np.concatenate([acc["provider"], acc["lab"]])
    led.pay(compute_buyers[:, None], acc["aidc"][None, :], compute.payment, "compute")
    if compute.contract_payment.size:
        led.pay(acc["provider"][compute.contract_provider], acc["aidc"][compute.contract_aidc],
                compute.contract_payment, "compute contracts")
    led.pay(led.account["lab_funding"], acc["lab"], compute.payment[model.providers.n:].sum(axis=1), "lab funding")
    om = aidcs.busy_gpus.sum(axis=1) * aidcs.params["om_cny_per_gpu_hour"]
    led.pay_segments(*model.power_payments[:2], np.concatenate(
        [power.aidc_bill, [power.household_bill], power.util_rev, power.util_cost, om, power.storage_paid,
         power.storage_income]), *model.power_payments[2:])
    led.pay(acc["aidc"], led.account["fuel_and_operations"], aidcs.fixed_costs(), "aidc fixed operations")
    certificate_price = model.data["policy"]["green_certificate_cny_per_mwh"]
    certificates, firming = model.green.payments(certificate_price)
    if certificates.any():
        led.pay(acc["aidc"][:, None], model.certificate_payee[None, :], certificates[:, None]
                * model.certificate_split, "green certificates")
    if firming.size and firming.any():
        led.pay(acc["aidc"][:, None], acc["storage"][None, :], firming, "storage firming")
    led.expense(acc["aidc"], aidcs.depreciation(day.day), "depreciation")
    write_offs = aidcs.book_write_offs()
    if write_offs.any():  # GPUs an event took out of service
        led.expense(acc["aidc"], write_offs, "write-offs")
    led.post()


def certificate_recipients(model: Any) -> tuple[np.ndarray, np.ndarray]:
    """Who is paid for each AIDC's green certificates: the utilities owning renewables in its zone, in
    proportion to that capacity (else an account outside the economy).  Returns (payee accounts (U+1,),
    split (A, U+1))."""
    util, aidcs = model.utilities, model.aidcs
    from agents.technologies import RENEWABLE

    payee = np.append(model.accounts["utility"], model.ledger.account["green_certificates"])
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
