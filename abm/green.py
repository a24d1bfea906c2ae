"""The green-electricity obligation of AI data centres, and the contracts that meet it.

China's 2024 data-centre green action plan asks new data centres in the national hub zones to run on
more than 80% green electricity by the end of 2025.  Here GPUs commissioned in a hub zone from
``policy.green_policy_day`` on are obliged: each month an AIDC compares ``green_share_target`` of the
energy its obliged share used with the green energy that reached it through the grid (its zone's hourly
green share, storage included), and contracts for the gap:

* green certificates for every MWh of the gap, paid to the utilities that own renewables in its zone, at the
  price the month's certificate market clears (:func:`certificate_market_price`: the sellers' cost
  ``policy.green_certificate_cny_per_mwh`` while renewables outgrow the demand, up to the penalty
  ``policy.green_penalty_cny_per_mwh`` when they do not);
* firming for the part of the gap that must be moved in time: renewables sized to the gap produce it on
  the sun's and wind's schedule, not the data centre's, and the share of its load they cannot match hour
  by hour has to pass through a battery.  It buys that firming from storage operators (in its zone,
  else its region, else anywhere) at what shifting a MWh is worth to them in the power market (their
  opportunity cost) while their fleets can take it, and at the levelised cost of new batteries beyond that;
  they build the batteries that back it.

The cost is part of running a GPU: the AIDC adds, per busy GPU-hour, the green energy it obliges it to
buy at these prices, so it reaches the compute price and, from there, the cost of a token.
"""

from __future__ import annotations

import numpy as np

from tokenomy.abm.state import World


class GreenContracts:
    def __init__(self, n_aidcs: int, n_zones: int):
        self.certified_mwh = np.zeros(n_aidcs)  # MWh of certificates a day
        self.firming_mwh = np.zeros(n_aidcs)  # MWh firmed by storage a day
        self.firming_price = np.zeros(n_aidcs)  # CNY per MWh firmed
        self.certificate_price = 0.0  # CNY per MWh, cleared monthly
        self.supplier = np.zeros((n_aidcs, 0))  # (A, S) shares of each AIDC's firming by operator
        self._energy = np.zeros(n_aidcs)
        self._green = np.zeros(n_aidcs)
        self._load_shape = np.zeros((n_aidcs, 24))
        self._renewable = np.zeros((24, n_zones))
        self._days = 0

    def record(self, aidc_load_mw: np.ndarray, aidc_green_mwh: np.ndarray, renewable_available_mw: np.ndarray) -> None:
        """One day's AIDC load (A, 24), the green energy that reached them (A,) and renewable output that was
        available in each zone (24, Z)."""
        self._energy += aidc_load_mw.sum(axis=1)
        self._green += aidc_green_mwh
        self._load_shape += aidc_load_mw
        self._renewable += renewable_available_mw
        self._days += 1

    def forget_month(self) -> None:
        """Drop the month's record (after a spin-up)."""
        self._energy[:] = 0.0
        self._green[:] = 0.0
        self._load_shape[:] = 0.0
        self._renewable[:] = 0.0
        self._days = 0

    def renew(self, world: World) -> None:
        """Monthly: size and price each AIDC's contracts from the month just ended (module docstring)."""
        from tokenomy.abm.flexible import storage_suppliers
        from tokenomy.abm.settlement import certificate_recipients

        aidcs, store = world.aidcs, world.storage
        policy = world.data["policy"]
        world.certificate_payee, world.certificate_split = certificate_recipients(world)  # new renewables too
        target = policy["green_share_target"]
        days = max(self._days, 1)
        energy, green = self._energy / days, self._green / days
        obliged = aidcs.obliged_share(policy["green_policy_day"])
        gap = obliged * np.maximum(target * energy - green, 0.0)
        shift = np.ones(aidcs.n)
        for a in range(aidcs.n):
            load = self._load_shape[a]
            ren = self._renewable[:, aidcs.zone[a]]
            if load.sum() > 0 and ren.sum() > 0:
                matched = np.minimum(load, ren * load.sum() / ren.sum()).sum()
                shift[a] = 1.0 - matched / load.sum()
        self.certified_mwh = gap
        self.certificate_price = certificate_market_price(
            gap.sum(),
            max(self._renewable.sum() / days - green.sum(), 0.0),
            policy["green_certificate_cny_per_mwh"],
            policy["green_penalty_cny_per_mwh"],
        )
        certificate = self.certificate_price
        self.firming_mwh = gap * shift
        self.supplier = storage_suppliers(world)
        price_s = store.firming_price_cny_per_mwh(self.firming_mwh @ self.supplier) if store.n else np.zeros(0)
        self.firming_price = self.supplier @ price_s if store.n else np.zeros(aidcs.n)
        if store.n:
            store.firm_contracted_mwh = self.firming_mwh @ self.supplier
        else:  # nobody can firm: the obligation is met with certificates alone
            self.firming_mwh = np.zeros(aidcs.n)
        green_share = np.divide(green, energy, out=np.zeros(aidcs.n), where=energy > 0)
        # each further MWh a busy GPU uses adds obliged x (target - grid green share) MWh to the gap
        per_mwh = (
            obliged
            * np.maximum(target - green_share, 0.0)
            * (certificate + np.where(self.firming_mwh > 0, shift, 0.0) * self.firming_price)
        )
        aidcs.green_cost_per_busy_gpu_hour = aidcs.mw_per_busy_gpu() * per_mwh
        self.forget_month()

    def payments(self) -> tuple[np.ndarray, np.ndarray]:
        """Today's payments: certificates (A,) CNY, and firming (A, S) CNY to each storage operator."""
        firming = (self.firming_mwh * self.firming_price)[:, None] * self.supplier
        return self.certified_mwh * self.certificate_price, firming


def certificate_market_price(demand_mwh: float, supply_mwh: float, floor: float, penalty: float) -> float:
    """The month's green-certificate price, CNY per MWh: renewable owners offer the green energy not already
    counted for the AIDCs (``supply_mwh`` a day) at what issuing a certificate costs them (``floor``); the obliged
    AIDCs bid for their gap (``demand_mwh`` a day) up to the penalty they would pay instead.  Where supply covers
    demand the price is the floor (as China's certificate prices fell to a few yuan in 2024, when renewables far
    outgrew the demand for certificates); where it does not, buyers bid it up to the penalty."""
    return float(floor if demand_mwh <= supply_mwh else penalty)
