"""TokenEconomy: the Mesa model that orchestrates one simulated day after another.

Agents decide (bids, asks, posted prices, investments); pure market functions in :mod:`abm.markets`
clear; the ledger settles every payment; the recorder collects the tables.  Day order follows
DESIGN section 7.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import mesa
import networkx as nx
import numpy as np
import pandas as pd

from abm.events import Timeline
from abm.ledger import Ledger
from abm.markets.compute import clear_compute_market
from abm.markets.power import PowerMarketInput, clear_power_market
from abm.markets.token import clear_token_market, logit_shares
from abm.recorder import TECHS, Recorder
from abm.scenarios import GREEN_TECHS, RENEWABLE_TECHS, Scenario, load_scenario
from agents.ai_app import AIApp, AIAppGroup
from agents.aidc import AIDC, AIDCGroup
from agents.base import daily_rate
from agents.cloud_provider import CloudProvider, CloudProviderGroup
from agents.enterprise import Enterprise, EnterpriseGroup
from agents.storage_operator import StorageGroup, StorageOperator
from agents.utility import DISCOUNT_RATE, Utility, UtilityGroup, capital_recovery_factor
from networks import build_supply_graph
from networks.topologies import check_graph_matches, names_of_kind, neighbours_of_kind, node_ids

GREEN = np.array([t in GREEN_TECHS for t in TECHS])
RENEWABLE = np.array([t in RENEWABLE_TECHS for t in TECHS])
MAX_STORAGE_REPAIRS = 24
RECENT_DAYS = 30  # memory of prices and availability for investment decisions


class TokenEconomy(mesa.Model):
    """The AI industry chain tokens -> compute -> AIDCs -> power -> storage as a market economy."""

    def __init__(self, scenario: Scenario | str | Path = "classroom", overrides: tuple[str, ...] | list[str] = (),
                 seed: int | None = None, graph: nx.Graph | None = None):
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario, list(overrides))
        self.config = scenario  # (Mesa's Model owns the name 'scenario')
        data = scenario.data
        self.seed_value = data["scenario"]["seed"] if seed is None else int(seed)
        super().__init__(rng=self.seed_value)
        self.data = data
        self.start_date: dt.date = data["scenario"]["start_date"]
        self.day = 0
        self.graph = build_supply_graph(data) if graph is None else graph
        if graph is not None:
            check_graph_matches(graph, data)
        g = self.graph

        # -- zones and lines, from the graph --------------------------------------------------------
        self.zone_names = names_of_kind(g, "zone")
        zi = {z: i for i, z in enumerate(self.zone_names)}
        zone_items = {z["name"]: z for z in data["zones"]}
        self.zone_params = {k: np.array([float(zone_items[z][k]) for z in self.zone_names])
                            for k, v in data["zones"][0].items() if isinstance(v, int | float)
                            and not isinstance(v, bool)}
        self.zone_region = [zone_items[z]["region"] for z in self.zone_names]
        ids = node_ids(g)
        line_edges = sorted((min(u, v), max(u, v), a) for u, v, a in g.edges(data=True) if a.get("kind") == "line")
        line_items = {ln["name"]: ln for ln in data["lines"]}
        self.line_names = [a.get("name", f"{g.nodes[u]['name']}-{g.nodes[v]['name']}") for u, v, a in line_edges]
        self.line_from = np.array([zi[g.nodes[u]["name"]] for u, _, _ in line_edges], dtype=int)
        self.line_to = np.array([zi[g.nodes[v]["name"]] for _, v, _ in line_edges], dtype=int)
        self.line_params = {
            "limit_mw": np.array([float(a["limit_mw"]) for _, _, a in line_edges]),
            "reactance": np.array([float(a.get("reactance", 0.0)) for _, _, a in line_edges]),
        }
        for key in ("capex_cny_per_mw", "lead_days"):
            self.line_params[key] = np.array([float(line_items.get(n, {}).get(key, 0.0)) for n in self.line_names])
        self.line_expandable = np.array([bool(line_items.get(n, {}).get("expandable", False))
                                         for n in self.line_names])
        self.line_pipeline: list[tuple[int, int, float]] = []

        # -- agent groups; zone membership comes from the graph's grid edges -------------------------
        def zone_of(name: str) -> int:
            zs = neighbours_of_kind(g, name, "zone", "grid")
            return zi[zs[0]]

        def ordered(kind: str, key: str) -> list[dict]:
            items = {it["name"]: it for it in data[key]}
            return [items[n] for n in names_of_kind(g, kind)]

        apps, ents = ordered("app", "apps"), ordered("enterprise", "enterprises")
        provs, aidcs = ordered("provider", "providers"), ordered("aidc", "aidcs")
        utils, stores = ordered("utility", "utilities"), ordered("storage", "storage")
        self.apps = AIAppGroup(apps)
        self.enterprises = EnterpriseGroup(ents)
        self.aidcs = AIDCGroup(aidcs, np.array([zone_of(a["name"]) for a in aidcs], dtype=int))
        self.utilities = UtilityGroup(utils, self.zone_names, data["technologies"], zone_items)
        self.storage = StorageGroup(stores, np.array([zone_of(s["name"]) for s in stores], dtype=int))
        initial_price = np.array([p["price_cny_per_mtok"] for p in provs], dtype=float)
        self.groups = {"app": self.apps, "enterprise": self.enterprises}
        # initial demand forecast: what buyers want at the initial mean price, split evenly
        mean_price = np.full(self.apps.n, initial_price.mean() if provs else 1.0)
        want = self.apps.token_demand_mtok(mean_price).sum() + self.enterprises.token_demand_mtok(
            np.full(self.enterprises.n, initial_price.mean() if provs else 1.0)).sum()
        self.providers = CloudProviderGroup(provs, np.full(len(provs), want / max(len(provs), 1)))
        self.groups.update({"provider": self.providers, "aidc": self.aidcs, "utility": self.utilities,
                            "storage": self.storage})

        # -- Mesa agents: one per scenario entry, in graph order --------------------------------------
        classes = {"app": AIApp, "enterprise": Enterprise, "provider": CloudProvider, "aidc": AIDC,
                   "utility": Utility, "storage": StorageOperator}
        self.account_offset: dict[str, int] = {}
        cash, names, kinds, agent_ids = [], [], [], []
        for kind in ("app", "enterprise", "provider", "aidc", "utility", "storage"):
            group = self.groups[kind]
            self.account_offset[kind] = len(names)
            for i in range(group.n):
                agent = classes[kind](self, group, i)
                agent.node_id = ids[group.names[i]]
                group.agents.append(agent)
                cash.append(group.items[i]["cash_cny"])
                names.append(group.names[i])
                kinds.append(kind)
                agent_ids.append(agent.unique_id)
        self.ledger = Ledger(len(names), np.array(cash, dtype=float))
        self.kind_slice = {kind: slice(off, off + self.groups[kind].n) for kind, off in self.account_offset.items()}
        for kind, group in self.groups.items():
            off = self.account_offset[kind]
            group.cash = self.ledger.balance[off: off + group.n]  # a view: always the ledger's figure
        self.initial_agent_cash = self.ledger.agent_cash().copy()

        # -- trade relations from the graph ------------------------------------------------------------
        buyers = self.apps.names + self.enterprises.names
        self.n_buyers = len(buyers)
        self.token_edges = np.zeros((self.n_buyers, self.providers.n), dtype=bool)
        for b, name in enumerate(buyers):
            for p in neighbours_of_kind(g, name, "provider", "token"):
                self.token_edges[b, self.providers.index(p)] = True
        # the training market is one more buyer of compute that may use every AIDC
        self.compute_edges = np.zeros((self.providers.n + 1, self.aidcs.n), dtype=bool)
        for p, name in enumerate(self.providers.names):
            for a in neighbours_of_kind(g, name, "aidc", "compute"):
                self.compute_edges[p, self.aidcs.index(a)] = True
        self.compute_edges[-1, :] = True
        # account numbers of every possible payment, laid out like the matrices that carry the amounts
        buyer_account = np.concatenate([self.account_offset["app"] + np.arange(self.apps.n),
                                        self.account_offset["enterprise"] + np.arange(self.enterprises.n)])
        provider_account = self.account_offset["provider"] + np.arange(self.providers.n)
        aidc_account = self.account_offset["aidc"] + np.arange(self.aidcs.n)
        self._buyer_account = buyer_account
        self._token_payer = np.repeat(buyer_account[:, None], self.providers.n, axis=1)
        self._token_payee = np.repeat(provider_account[None, :], self.n_buyers, axis=0)
        self._compute_payer = np.repeat(np.append(provider_account, self.ledger.account["training_buyers"])[:, None],
                                        self.aidcs.n, axis=1)
        self._compute_payee = np.repeat(aidc_account[None, :], self.providers.n + 1, axis=0)
        self._buyer_profile = np.concatenate([self.apps.profile, self.enterprises.profile]).reshape(
            self.n_buyers, 24) / 24.0
        idx = np.arange(self.providers.n)
        self._bid_provider = np.concatenate([idx, idx, [self.providers.n]])
        self._bid_qty = np.zeros(self._bid_provider.size)
        self._bid_price = np.zeros(self._bid_provider.size)
        nz = len(self.zone_names)
        self._aidc_zone_inc = (np.arange(nz)[:, None] == self.aidcs.zone[None, :]).astype(float)      # (Z, A)
        self._storage_zone_inc = (np.arange(nz)[:, None] == self.storage.zone[None, :]).astype(float)  # (Z, S)
        self._line_inc = ((np.arange(nz)[:, None] == self.line_to[None, :]).astype(float)
                          - (np.arange(nz)[:, None] == self.line_from[None, :]))                    # (Z, L)
        self._n_flex = nz
        self._bid_zone = np.concatenate([np.arange(nz), self.storage.zone])
        self._aidc_accounts = self.account_offset["aidc"] + np.arange(self.aidcs.n)
        self._storage_accounts = self.account_offset["storage"] + np.arange(self.storage.n)
        self._utility_accounts = self.account_offset["utility"] + np.arange(self.utilities.n)
        self._power_payments = self._power_payment_plan()
        self._unit_maps_cache: np.ndarray | None = None
        self.share = np.where(self.token_edges, 1.0, 0.0)
        self.share /= np.maximum(self.share.sum(axis=1, keepdims=True), 1.0)

        # -- market state carried between days ---------------------------------------------------------
        nz = len(self.zone_names)
        self.zone_price_forecast = np.full((nz, 24), 400.0)
        self._recent_prices = np.zeros((RECENT_DAYS, nz, 24))
        self._recent_avail_mw = np.zeros((RECENT_DAYS, nz, 24, len(TECHS)))
        self._recent_line_rent = np.zeros((RECENT_DAYS, len(self.line_names)))
        self.compute_price = float("nan")
        self.training_gpu_hours = float(data["compute"]["training_gpu_hours_per_day"])
        self.connection_reserved_mw = np.zeros(nz)
        self.connection_queue_mw = np.zeros(nz)
        self.connection_pipeline: list[tuple[int, int, float]] = []
        self.timeline = Timeline(self, data["events"])
        self.last: dict[str, object] = {}
        self.recorder = Recorder(self.start_date, self.zone_names, np.array(agent_ids), names, kinds,
                                 data["scenario"]["days"], self.utilities.emissions)
        self._set_edge_state_defaults()

    # ------------------------------------------------------------------------------------------------
    @property
    def date(self) -> dt.date:
        return self.start_date + dt.timedelta(days=self.day)

    def run(self, days: int, progress=None) -> None:
        """Advance ``days`` simulated days; ``progress(done, total)`` is called after each."""
        for i in range(days):
            self.step()
            if progress is not None:
                progress(i + 1, days)

    def step(self) -> None:
        today = self.date
        self.timeline.fire(self.day)                                    # 1. events
        self._background_growth()
        self.apps.advance_day()
        self.enterprises.advance_day()
        self.ledger.start_day()
        compute = self._clear_compute()                                 # 2. compute market
        tokens = self._clear_tokens()                                   # 3. token market
        power = self._clear_power(today, compute, tokens)               # 4. power market
        self.ledger.post()                                              # 5. settlement
        self._learn(compute, tokens, power)                             # 6. learning
        if today.day == 1:                                              # 7. investment
            self._invest()
        self._arrivals()
        self._collect(compute, tokens, power)                           # 8. data
        self.day += 1

    # -- 2. compute -----------------------------------------------------------------------------------
    def _clear_compute(self) -> dict:
        prov = self.providers
        _, bq, bprice = prov.compute_bids()
        k = bq.size
        self._bid_qty[:k] = bq
        self._bid_qty[k] = self.training_gpu_hours
        self._bid_price[:k] = bprice
        self._bid_price[k] = self.data["compute"]["training_bid_cny_per_gpu_hour"]
        aa, aq, aprice = self.aidcs.asks()
        res = clear_compute_market(self._bid_provider, self._bid_qty, self._bid_price, aa, aq, aprice,
                                   self.compute_edges)
        flow = res.flow_gpu_hours                                  # (P + 1, A): the last row is training
        aidc_price = res.aidc_price
        pay = flow * np.where(np.isnan(aidc_price), 0.0, aidc_price)
        prov.receive_compute(flow[:-1].sum(axis=1), pay[:-1].sum(axis=1))
        self.ledger.pay(self._compute_payer, self._compute_payee, pay, "compute")
        sold = flow.sum(axis=0)
        volume = sold.sum()
        if volume > 0:
            self.compute_price = float(pay.sum() / volume)
        elif np.isnan(self.compute_price):
            self.compute_price = float(np.nanmean(aprice)) if aprice.size else 0.0
        return {"flow": flow, "sold": sold, "aidc_price": aidc_price, "asks": self.aidcs.ask_price()}

    # -- 3. tokens --------------------------------------------------------------------------------------
    def _clear_tokens(self) -> dict:
        prov = self.providers
        price = prov.price.copy()
        m = self.data["markets"]
        self.share = logit_shares(price, self.token_edges, self.share, m["token_price_sensitivity"],
                                  m["token_inertia"])
        expected = self.share @ price if prov.n else np.zeros(self.n_buyers)
        na = self.apps.n
        demand = np.concatenate([self.apps.token_demand_mtok(expected[:na]),
                                 self.enterprises.token_demand_mtok(expected[na:])])
        hourly = demand[:, None] * self._buyer_profile
        res = clear_token_market(hourly, self.share, prov.hourly_capacity_mtok(), price, self.token_edges)
        pair = res.served_pair_mtok
        served_b = pair.sum(axis=1)
        self.apps.served_mtok = served_b[:na]
        self.enterprises.served_mtok = served_b[na:]
        led = self.ledger
        led.pay(self._token_payer, self._token_payee, pair * price[None, :], "tokens")
        revenue = np.concatenate([self.apps.revenue_cny(served_b[:na]), self.enterprises.revenue_cny(served_b[na:])])
        led.pay(led.account["customers"], self._buyer_account, revenue, "buyer revenue")
        requested = self.share.T @ hourly  # (P, 24) what buyers first asked of each provider
        return {"demand": demand, "served_pair": pair, "served_by_provider": res.served_by_provider_mtok,
                "unserved": res.unserved_mtok, "price": price, "requested": requested}

    # -- 4. power ---------------------------------------------------------------------------------------
    def _clear_power(self, today: dt.date, compute: dict, tokens: dict) -> dict:
        prov, aidcs, util, store = self.providers, self.aidcs, self.utilities, self.storage
        # GPUs busy each hour: providers' tokens / efficiency, spread over the AIDCs they rent from
        flow = compute["flow"]
        rented_flow = flow[:-1]
        used_gpu = tokens["served_by_provider"] / prov.params["mtok_per_gpu_hour"][:, None]  # (P, 24) GPUs
        rented = rented_flow.sum(axis=1)
        split = rented_flow / np.where(rented > 0, rented, 1.0)[:, None]
        token_busy = split.T @ used_gpu                                       # (A, 24) GPUs serving tokens
        self._token_busy_gpu_hours = token_busy.sum(axis=1)
        aidc_load = aidcs.set_busy(token_busy + flow[-1][:, None] / 24.0)     # (A, 24) MW
        aidc_zone_load = aidc_load.T @ self._aidc_zone_inc.T                  # (24, Z)
        zp = self.zone_params
        background = _BACKGROUND[:, None] * zp["background_load_mw"]          # (24, Z)
        flex = background * zp["flexible_load_share"]
        inelastic = background - flex + aidc_zone_load
        m = self.data["markets"]
        u_zone, u_mw, u_price = util.offers(today.timetuple().tm_yday, self.rng)
        nu = u_mw.shape[1]
        if store.n:
            c_mw, c_price, d_mw, d_price = store.plan(self.zone_price_forecast[store.zone])
            offer_zone = np.concatenate([u_zone, store.zone])
            bid_mw = np.concatenate([flex, c_mw.T], axis=1)
            bid_price = np.concatenate([self._flex_price_rows(), c_price.T], axis=1)
            offer_price = np.concatenate([u_price, d_price.T], axis=1)
        else:
            offer_zone, bid_mw, bid_price, offer_price = u_zone, flex, self._flex_price_rows(), u_price
        reactance = self.line_params["reactance"]
        line_reactance = np.where(reactance > 0, reactance, np.nan) if (reactance > 0).any() else None
        for _ in range(MAX_STORAGE_REPAIRS):
            inp = PowerMarketInput(
                n_zones=len(self.zone_names), offer_zone=offer_zone,
                offer_mw=np.concatenate([u_mw, d_mw.T], axis=1) if store.n else u_mw,
                offer_price=offer_price, bid_zone=self._bid_zone, bid_mw=bid_mw, bid_price=bid_price,
                load_mw=inelastic, line_from=self.line_from, line_to=self.line_to,
                line_limit_mw=self.line_params["limit_mw"], line_reactance=line_reactance,
                price_cap=m["power_price_cap_cny_per_mwh"], price_floor=m["power_price_floor_cny_per_mwh"])
            res = clear_power_market(inp)
            if not store.n:
                break
            charge = res.bid_served_mw[:, self._n_flex:].T
            discharge = res.offer_dispatch_mw[:, nu:].T
            if not store.violations(charge, discharge):
                break
            d_mw = store.repair(charge, d_mw)
        return self._settle_power(res, inp, background, aidc_zone_load, aidc_load, nu)

    def _flex_price_rows(self) -> np.ndarray:
        return np.repeat(self.zone_params["flexible_load_price_cny_per_mwh"][None, :], 24, axis=0)

    def _power_payment_plan(self) -> tuple[np.ndarray, np.ndarray, list[str], list[int]]:
        """Payer and payee accounts of the day's power payments, in the order ``_settle_power`` lays out the
        amounts, with the flow of each segment (empty segments left out of the flow list)."""
        acct = self.ledger.account
        grid, fuel, households = acct["grid_operator"], acct["fuel_and_operations"], acct["households"]
        a_acct, u_acct, s_acct = self._aidc_accounts, self._utility_accounts, self._storage_accounts
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

    def _settle_power(self, res, inp, background, aidc_zone_load, aidc_load, nu) -> dict:
        """Every power payment through the ledger, and the zone-hour quantities for the tables."""
        util, store, aidcs = self.utilities, self.storage, self.aidcs
        nz = self._n_flex
        price = res.price                                                     # (24, Z)
        led = self.ledger
        unserved = res.unserved_mw                                           # falls on households first
        flex_served = res.bid_served_mw[:, :nz]
        dispatch = res.offer_dispatch_mw[:, :nu]
        # value of each MWh at its zone's price, per participant
        aidc_bill = (aidc_load * price.T[aidcs.zone]).sum(axis=1)
        household_bill = float(((background - inp.bid_mw[:, :nz] - unserved + flex_served) * price).sum())
        unit_rev = (dispatch * price[:, util.unit_zone]).sum(axis=0)
        unit_mwh = dispatch.sum(axis=0)
        util_rev = np.bincount(util.unit_owner, unit_rev, minlength=util.n)
        util_cost = np.bincount(util.unit_owner, unit_mwh * util.unit_mc, minlength=util.n)
        om = aidcs.busy_gpus.sum(axis=1) * aidcs.params["om_cny_per_gpu_hour"]
        # generation by technology and zone, its green part, curtailment of renewables: one product each
        maps = self._unit_maps()
        tz = len(TECHS) * nz
        gen = dispatch @ maps                                                 # (24, T*Z + 3Z)
        avail = util.available_mw @ maps
        gen_tech = gen[:, :tz].reshape(24, len(TECHS), nz).transpose(1, 0, 2)  # (T, 24, Z)
        avail_tech = avail[:, :tz].reshape(24, len(TECHS), nz).transpose(1, 0, 2)
        gen_all, green_gen = gen[:, tz: tz + nz], gen[:, tz + nz: tz + 2 * nz]
        curtail = avail[:, tz + 2 * nz:] - gen[:, tz + 2 * nz:]
        net_import = res.line_flow_mw @ self._line_inc.T if self.line_names else np.zeros((24, nz))
        income = 0.0
        storage_paid = storage_income = np.zeros(0)
        if store.n:
            # charges take their zone's green share of generation in that hour; discharges give back the
            # green part of what the batteries hold
            charge, discharge = res.bid_served_mw[:, nz:].T, res.offer_dispatch_mw[:, nu:].T  # (S, 24)
            st_price = price.T[store.zone]
            storage_income = (discharge * st_price).sum(axis=1)
            income = float(storage_income.sum())
            storage_paid = (charge * st_price).sum(axis=1)
            green_share = np.divide(green_gen, gen_all, out=np.zeros_like(gen_all), where=gen_all > 0)
            green_out = store.track_green(charge, discharge, green_share.T[store.zone])
            store.settle(charge, discharge)
            zone_inc = self._storage_zone_inc.T
            charge_z, discharge_z = charge.T @ zone_inc, discharge.T @ zone_inc
            green_supply = green_gen + green_out.T @ zone_inc
        else:
            charge_z = discharge_z = np.zeros((24, nz))
            green_supply = green_gen
        led.pay_segments(*self._power_payments[:2], np.concatenate(
            [aidc_bill, [household_bill], util_rev, util_cost, om, storage_paid, storage_income]),
            *self._power_payments[2:])
        load = inp.load_mw
        spill = gen_all + discharge_z + net_import + unserved - load - flex_served - charge_z
        supply_value = float(unit_rev.sum()) + income
        return {"storage_share": income / supply_value if supply_value > 0 else 0.0,
                "price": price, "gen_tech": gen_tech, "avail_tech": avail_tech, "curtail": curtail,
                "net_import": net_import, "charge_z": charge_z, "discharge_z": discharge_z, "load": load,
                "aidc_zone_load": aidc_zone_load, "background": background, "flex_served": flex_served,
                "unserved": unserved, "spill": np.maximum(spill, 0.0), "line_flow": res.line_flow_mw,
                "green_supply": green_supply,
                "util_rev": util_rev, "util_cost": util_cost, "dispatch": dispatch, "aidc_bill": aidc_bill}

    def _unit_maps(self) -> np.ndarray:
        """(U, T*Z + 3Z) indicator columns of every generating unit: its (technology, zone), its zone, its zone
        if green, its zone if renewable.  Rebuilt only when units are commissioned."""
        util = self.utilities
        n_units = util.unit_tech.size
        if self._unit_maps_cache is None or self._unit_maps_cache.shape[0] != n_units:
            nz = len(self.zone_names)
            rows = np.arange(n_units)
            tech_zone = np.zeros((n_units, len(TECHS) * nz))
            tech_zone[rows, util.unit_tech * nz + util.unit_zone] = 1.0
            zone = np.zeros((n_units, nz))
            zone[rows, util.unit_zone] = 1.0
            self._unit_maps_cache = np.concatenate(
                [tech_zone, zone, zone * GREEN[util.unit_tech][:, None], zone * RENEWABLE[util.unit_tech][:, None]],
                axis=1)
        return self._unit_maps_cache

    # -- 6. learning ------------------------------------------------------------------------------------
    def _learn(self, compute: dict, tokens: dict, power: dict) -> None:
        prov = self.providers
        prov.learn(tokens["requested"], tokens["served_by_provider"])
        price = power["price"]
        sold = compute["sold"]
        received = np.where(sold > 0, compute["aidc_price"], np.nan)  # every trade is at the AIDC's price
        sl = self.kind_slice["aidc"]
        aidc_profit = self.ledger.revenue_today[sl] - self.ledger.cost_today[sl]
        self.aidcs.learn(sold, received, price.mean(axis=0)[self.aidcs.zone], aidc_profit, self.rng)
        self.utilities.learn(power["dispatch"], power["util_rev"], power["util_cost"], self.rng)
        self.zone_price_forecast = 0.5 * self.zone_price_forecast + 0.5 * price.T
        slot = self.day % RECENT_DAYS
        self._recent_prices[slot] = price.T
        self._recent_avail_mw[slot] = power["avail_tech"].transpose(2, 1, 0)  # (Z, 24, T)
        if self.line_names:
            diff = np.abs(price[:, self.line_to] - price[:, self.line_from])
            self._recent_line_rent[slot] = (diff * np.abs(power["line_flow"])).sum(axis=0)

    def _recent(self, ring: np.ndarray) -> np.ndarray:
        """The filled part of a ring buffer of the last RECENT_DAYS days (order does not matter)."""
        return ring[: min(self.day + 1, RECENT_DAYS)]

    @property
    def recent_prices(self) -> np.ndarray:
        return self._recent(self._recent_prices)

    @property
    def recent_line_rent(self) -> np.ndarray:
        return self._recent(self._recent_line_rent)

    @property
    def recent_availability(self) -> np.ndarray:
        """(D, Z, 24, T) share of each technology's capacity available, per zone and hour."""
        util = self.utilities
        cap = np.zeros((len(self.zone_names), len(TECHS)))
        np.add.at(cap, (util.unit_zone, util.unit_tech), util.unit_capacity_mw)
        avail = self._recent(self._recent_avail_mw)
        return np.divide(avail, cap[None, :, None, :], out=np.zeros_like(avail), where=cap[None, :, None, :] > 0)

    # -- 7. investment ----------------------------------------------------------------------------------
    def _invest(self) -> None:
        aidcs, led, acct = self.aidcs, self.ledger, self.ledger.account
        wish = aidcs.investment_wish()
        cap = self.data["compute"]["gpu_deliveries_per_month"]
        if wish.sum() > cap:
            wish = wish * cap / wish.sum()
        need_mw = wish * aidcs.mw_per_busy_gpu()
        spare = self.zone_params["grid_connection_mw"] - self.connection_reserved_mw
        for z in range(len(self.zone_names)):
            mine = aidcs.zone == z
            asked = need_mw[mine].sum()
            if asked > spare[z] and asked > 0:
                self.connection_queue_mw[z] += asked - max(spare[z], 0.0)
                wish[mine] *= max(spare[z], 0.0) / asked
        wish = np.floor(wish)
        self.connection_reserved_mw += np.bincount(aidcs.zone, wish * aidcs.mw_per_busy_gpu(),
                                                   minlength=len(self.zone_names))
        aidcs.order(self.day, wish)
        if wish.sum() > 0:
            led.pay(self.account_offset["aidc"] + np.arange(aidcs.n), acct["gpu_vendors"],
                    wish * aidcs.params["capex_cny_per_gpu"], "gpu purchases")
        # grid connections: the utility side adds connection capacity where AIDCs queue
        build = self.zone_params["connection_build_mw_per_year"] / 12.0
        for z in np.flatnonzero((self.connection_queue_mw > 0) & (build > 0)):
            mw = min(build[z], self.connection_queue_mw[z])
            self.connection_queue_mw[z] -= mw
            self.connection_pipeline.append((self.day + int(self.zone_params["connection_lead_days"][z]), int(z), mw))
        # generation
        orders = self.utilities.plan_builds(self.day, self.recent_prices, self.recent_availability)
        for _, owner, _, t, mw in orders:
            cost = mw * 1000.0 * self.data["technologies"][TECHS[t]]["capex_cny_per_kw"]
            led.pay(self.account_offset["utility"] + owner, acct["builders"], cost, "generation build")
        # storage
        mwh = self.storage.investment_wish()
        if mwh.sum() > 0:
            self.storage.order(self.day, mwh)
            led.pay(self.account_offset["storage"] + np.arange(self.storage.n), acct["builders"],
                    mwh * 1000.0 * self.storage.params["capex_cny_per_kwh"], "storage build")
        # lines whose congestion rent pays for more transfer capacity
        if self.recent_line_rent.shape[0]:
            annual_rent = self.recent_line_rent.mean(axis=0) * 365.0
            lim = self.line_params["limit_mw"]
            crf = capital_recovery_factor(DISCOUNT_RATE, 40.0)
            add = 0.2 * lim
            pays = annual_rent * 0.2 > add * self.line_params["capex_cny_per_mw"] * crf
            for li in np.flatnonzero(self.line_expandable & pays & (add > 0)):
                self.line_pipeline.append((self.day + int(self.line_params["lead_days"][li]), int(li), float(add[li])))
                led.pay(acct["grid_operator"], acct["builders"], add[li] * self.line_params["capex_cny_per_mw"][li],
                        "line build")
        led.post()

    def _arrivals(self) -> None:
        self.aidcs.arrivals(self.day)
        self.utilities.arrivals(self.day)
        self.storage.arrivals(self.day)
        if self.connection_pipeline:
            keep = []
            for when, z, mw in self.connection_pipeline:
                if when <= self.day:
                    self.zone_params["grid_connection_mw"][z] += mw
                else:
                    keep.append((when, z, mw))
            self.connection_pipeline = keep
        if self.line_pipeline:
            keep = []
            for when, li, mw in self.line_pipeline:
                if when <= self.day:
                    self.line_params["limit_mw"][li] += mw
                else:
                    keep.append((when, li, mw))
            self.line_pipeline = keep

    def _background_growth(self) -> None:
        zp = self.zone_params
        zp["background_load_mw"] *= 1.0 + daily_rate(zp["background_growth_per_year"])
        self.training_gpu_hours *= 1.0 + daily_rate(self.data["compute"]["training_growth_per_year"])

    # -- 8. data ----------------------------------------------------------------------------------------
    def _collect(self, compute: dict, tokens: dict, power: dict) -> None:
        prov, aidcs, store, util = self.providers, self.aidcs, self.storage, self.utilities
        served_p = tokens["served_by_provider"].sum(axis=1)
        served = float(served_p.sum())
        if served > 0:
            token_price = float(served_p @ tokens["price"]) / served
            cost = np.where(np.isnan(prov.unit_cost), 0.0, prov.unit_cost)
            served_cost = float(cost @ served_p) / served
        else:
            token_price = float(tokens["price"].mean()) if prov.n else 0.0
            served_cost = 0.0
        # what the served tokens cost along the chain (CNY): their share of AIDC energy (the part paid to
        # storage shown apart), the capital of the GPUs providers rented, and what is left as margin
        busy_all = aidcs.busy_gpus.sum(axis=1)
        token_share = np.divide(self._token_busy_gpu_hours, busy_all, out=np.zeros(aidcs.n), where=busy_all > 0)
        energy = float(power["aidc_bill"] @ token_share)
        storage_cost = energy * power["storage_share"]
        capital_rate = aidcs.params["capex_cny_per_gpu"] / (aidcs.params["life_years"] * 8760.0)
        capital = float(capital_rate @ compute["flow"][:-1].sum(axis=0))
        revenue = float(served_p @ tokens["price"])
        congested = 0.0
        if self.line_names:
            congested = float(np.count_nonzero(np.abs(power["line_flow"]) >= self.line_params["limit_mw"] - 1e-6))
        daily, hourly, block = self.recorder.next_day(self.day)
        daily[:] = [  # RAW_DAILY_COLUMNS, in order
            token_price, self.compute_price, float(tokens["demand"].sum()), served, float(tokens["unserved"].sum()),
            float(aidcs.gpus.sum()), float(aidcs.pipeline_gpus().sum()), float(aidcs.busy_gpus.sum()),
            float(compute["sold"].sum()), float(store.params["energy_mwh"].sum()) if store.n else 0.0,
            float(store.soc_mwh.sum()) if store.n else 0.0, float(util.unit_capacity_mw.sum()), congested,
            served_cost, energy - storage_cost, storage_cost, capital, revenue,
        ]
        # HOURLY_COLUMNS, each (24, Z)
        for i, key in enumerate(("price", "load", "aidc_zone_load", "background", "flex_served")):
            hourly[i] = power[key]
        hourly[5: 5 + len(TECHS)] = power["gen_tech"]
        for i, key in enumerate(("curtail", "charge_z", "discharge_z", "net_import", "unserved", "spill",
                                 "green_supply"), start=5 + len(TECHS)):
            hourly[i] = power[key]
        # AGENT_COLUMNS, one entry per agent; 0 where a column does not apply
        led = self.ledger
        n = led.n_agents
        sl = self.kind_slice
        block[0] = led.balance[:n]
        block[1] = led.revenue_today[:n]
        block[2] = led.cost_today[:n]
        np.subtract(block[1], block[2], out=block[3])
        block[4, sl["app"]] = self.apps.served_mtok
        block[4, sl["enterprise"]] = self.enterprises.served_mtok
        block[4, sl["provider"]] = served_p
        block[5, sl["provider"]] = prov.price
        block[6, sl["aidc"]] = aidcs.gpus
        block[7, sl["aidc"]] = compute["asks"]
        block[8, sl["aidc"]] = aidcs.learner.markup
        block[8, sl["utility"]] = util.learner.markup
        cap = prov.capacity_mtok
        block[9, sl["provider"]] = np.divide(served_p, cap, out=np.zeros(prov.n), where=cap > 0)
        block[9, sl["aidc"]] = np.divide(busy_all, aidcs.gpus * 24.0, out=np.zeros(aidcs.n), where=aidcs.gpus > 0)
        block[10, sl["utility"]] = util.capacity_by_owner()
        if store.n:
            block[10, sl["storage"]] = store.params["power_mw"]
            block[11, sl["storage"]] = store.soc_mwh
        self.last = {"compute": compute, "tokens": tokens, "power": power}

    def _set_edge_state_defaults(self) -> None:
        for _, _, attrs in self.graph.edges(data=True):
            attrs.setdefault("flow", 0.0)
            attrs.setdefault("price", 0.0)

    def graph_with_flows(self) -> nx.Graph:
        """The supply graph with today's daily flows and prices on its edges and zone prices on zones."""
        g = self.graph
        if not self.last:
            return g
        compute, tokens, power = self.last["compute"], self.last["tokens"], self.last["power"]
        ids = node_ids(g)
        zone_price = power["price"].mean(axis=0)
        for z, name in enumerate(self.zone_names):
            g.nodes[ids[name]]["price_cny_per_mwh"] = float(zone_price[z])
        for li, (a, b) in enumerate(zip(self.line_from, self.line_to, strict=True)):
            e = g.edges[ids[self.zone_names[a]], ids[self.zone_names[b]]]
            e["flow"] = float(power["line_flow"][:, li].sum())  # MWh from 'from' to 'to'
            e["limit_mw"] = float(self.line_params["limit_mw"][li])
        for p, pname in enumerate(self.providers.names):
            for a, aname in enumerate(self.aidcs.names):
                if self.compute_edges[p, a]:
                    e = g.edges[ids[pname], ids[aname]]
                    e["flow"] = float(compute["flow"][p, a])
                    e["price"] = float(np.nan_to_num(compute["aidc_price"][a]))
        buyers = self.apps.names + self.enterprises.names
        for b, bname in enumerate(buyers):
            for p, pname in enumerate(self.providers.names):
                if self.token_edges[b, p]:
                    e = g.edges[ids[bname], ids[pname]]
                    e["flow"] = float(tokens["served_pair"][b, p])
                    e["price"] = float(tokens["price"][p])
        for a, name in enumerate(self.aidcs.names):
            e = g.edges[ids[name], ids[self.zone_names[self.aidcs.zone[a]]]]
            e["flow"] = float(self.aidcs.load_mw[a].sum())
            e["price"] = float(zone_price[self.aidcs.zone[a]])
        return g

    # -- tables ---------------------------------------------------------------------------------------
    def daily_table(self) -> pd.DataFrame:
        return self.recorder.daily_frame()

    def hourly_table(self) -> pd.DataFrame:
        return self.recorder.hourly_frame()

    def agents_table(self) -> pd.DataFrame:
        return self.recorder.agents_frame()


# Non-AI load through the day (mean 1): low at night, morning and evening peaks.
_h = np.arange(24)
_BACKGROUND = 0.8 + 0.15 * np.exp(-0.5 * ((_h - 10) / 2.5) ** 2) + 0.3 * np.exp(-0.5 * ((_h - 19.5) / 2.0) ** 2)
_BACKGROUND = _BACKGROUND / _BACKGROUND.mean()
