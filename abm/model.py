"""TokenEconomy: the Mesa model that runs one simulated day after another.

Agents decide (bids, asks, posted prices, investments); pure market functions in :mod:`abm.markets`
clear; the ledger settles every payment; the recorder collects the tables.  The model is described in
``docs/model.md`` (ODD protocol); the day runs in this order:

1. events of the scenario's timeline fire; exogenous drivers move (diffusion, growth, today's noise)
                                                                       (:mod:`abm.day.drivers`);
2. the hourly compute market clears day-ahead                          (:mod:`abm.day.compute`);
3. token demand forms, the token market clears, shortfalls are topped up (:mod:`abm.day.tokens`);
4. the power market clears 24 hours                                    (:mod:`abm.day.power`);
5. settlement through the ledger                                       (:mod:`abm.settlement`);
6. agents learn: forecasts, costs, prices, markups                     (:mod:`abm.day.learning`);
7. first of the month: investment and contracts; daily arrivals and retirements (:mod:`abm.day.monthly`);
8. data collection                                                     (:mod:`abm.recorder`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import mesa
import networkx as nx
import numpy as np
import pandas as pd

from tokenomy.abm import world
from tokenomy.abm.day.compute import clear_day_ahead
from tokenomy.abm.day.drivers import advance_drivers
from tokenomy.abm.day.learning import RECENT_DAYS, learn
from tokenomy.abm.day.monthly import arrivals_and_retirements, first_of_month, renew_contracts
from tokenomy.abm.day.power import BACKGROUND_SHAPE, clear_power
from tokenomy.abm.day.tokens import clear_tokens
from tokenomy.abm.events import Timeline
from tokenomy.abm.flexible import FlexibleConnections
from tokenomy.abm.green import GreenContracts
from tokenomy.abm.recorder import Recorder
from tokenomy.abm.results import Day
from tokenomy.abm.scenarios import Scenario, load_scenario
from tokenomy.abm.settlement import aidc_costs, certificate_recipients, settle
from tokenomy.abm.state import World
from tokenomy.agents.base import DailyGrowth
from tokenomy.agents.technologies import TECHS
from tokenomy.networks import build_supply_graph
from tokenomy.networks.topologies import check_graph_matches, node_ids

__all__ = ["TokenEconomy", "BACKGROUND_SHAPE"]


class TokenEconomy(mesa.Model, World):
    """The AI industry chain tokens -> compute -> AIDCs -> power -> storage as a market economy."""

    def __init__(
        self,
        scenario: Scenario | str | Path = "classroom",
        overrides: tuple[str, ...] | list[str] = (),
        seed: int | None = None,
        graph: nx.Graph | None = None,
    ):
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario, list(overrides))
        self.config = scenario  # (Mesa's Model owns the name 'scenario')
        data = scenario.data
        self.seed_value = data["scenario"]["seed"] if seed is None else int(seed)
        super().__init__(rng=self.seed_value)
        self.data = data
        self.start_date: dt.date = data["scenario"]["start_date"]
        self.day = 0
        self._dated = (None, self.start_date)  # (day, its date): the date is read more than once a day
        self.graph = build_supply_graph(data) if graph is None else graph
        if graph is not None:
            check_graph_matches(graph, data)
        world.build_grid(self, data, self.graph)
        world.build_groups(self, data, self.graph)
        world.build_agents_and_accounts(self, self.graph)
        world.build_trade_relations(self, self.graph)
        self.certificate_payee, self.certificate_split = certificate_recipients(self)
        self.green = GreenContracts(self.aidcs.n, len(self.zone_names))
        self.flexible = FlexibleConnections(self.aidcs.n)
        self.initial_agent_cash = self.ledger.agent_cash().copy()
        self._market_state()
        self.timeline = Timeline(self, data["events"])
        self.last: Day | None = None
        self.recorder = Recorder(
            self.start_date,
            self.zone_names,
            self.agent_ids,
            self.agent_names,
            self.agent_kinds,
            data["scenario"]["days"],
        )
        self._set_edge_state_defaults()
        self._spin_up(data["scenario"]["spin_up_days"])
        renew_contracts(self)  # providers start with their ladder of term contracts

    def _market_state(self) -> None:
        """Expectations and memories carried from day to day."""
        nz = len(self.zone_names)
        self.zone_price_forecast = np.full((nz, 24), 400.0)
        self.recent_prices_ring = np.zeros((RECENT_DAYS, nz, 24))
        self.recent_avail_ring = np.zeros((RECENT_DAYS, nz, 24, len(TECHS)))
        self.recent_line_rent_ring = np.zeros((RECENT_DAYS, len(self.line_names)))
        self.compute_price = float("nan")
        self.gpus_ordered_today = 0.0
        self._background_growth = DailyGrowth()

    def _spin_up(self, days: int) -> None:
        """Let the markets settle before day 0: ``days`` days of trading in the world as it stands on day 0 (no
        event, no growth, no noise, no investment, nothing recorded), so that prices, costs, shares, markups and
        expectations start where the agents' own rules put them, not where the scenario's starting values do.  Money
        and the month's records go back to where they were; the ledger's flows and everything recorded start on day
        0."""
        if days <= 0:
            return
        cash = self.ledger.balance.copy()
        for _ in range(days):
            self.ledger.start_day()
            ahead = clear_day_ahead(self)
            tokens, compute = clear_tokens(self, ahead)
            power = clear_power(self, compute)
            day = Day(self.day, compute, tokens, power, aidc_costs(self))
            settle(self, day)
            learn(self, day)
        self.ledger.balance[:] = cash
        self.ledger.start_day()
        self.ledger.forget_flows()
        self.aidcs.forget_month()
        self.green.forget_month()
        self.compute_book_before = self.power_book_before = None

    # ------------------------------------------------------------------------------------------------
    @property
    def date(self) -> dt.date:
        day, date = self._dated
        if day != self.day:
            date = self.start_date + dt.timedelta(days=self.day)
            self._dated = (self.day, date)
        return date

    def run(self, days: int, progress=None) -> None:
        """Advance ``days`` simulated days; ``progress(done, total)`` is called after each.

        Each day is a step of Mesa's clock, as :meth:`step` is.  When the only event on Mesa's event list is the next
        day's step (no one has scheduled anything else), the days go by without a scheduled event each: Mesa's
        generator of daily steps is paused, each day moves Mesa's time and step count on by one and runs the step,
        and the generator resumes at the end, its next step a day after the last -- Mesa's state as if each day had
        been an event of its own, without the event (a heap entry, a weak reference and a reschedule a day: about 6 %
        of a ``classroom`` day in the run's processor time).  Otherwise every day goes through Mesa's event list."""
        self.recorder.reserve(self.day + days)
        clock = self._daily_clock()
        if clock is None:
            for i in range(days):
                self.step()
                if progress is not None:
                    progress(i + 1, days)
            return
        clock.pause()
        self._event_list.compact()  # (the paused step's event leaves the list)
        try:
            for i in range(days):
                self.time += 1
                self._do_step()  # Mesa's count of steps, its log line and this model's step (a subclass's, if any)
                if progress is not None:
                    progress(i + 1, days)
        finally:
            clock.resume()

    def _daily_clock(self):
        """Mesa's generator of this model's daily steps, if the next of them is the only event on Mesa's event list
        (else None, as for a version of Mesa that keeps them otherwise)."""
        clock = getattr(self, "_default_schedule", None)
        events = getattr(self, "_event_list", None)
        if clock is None or events is None or not hasattr(self, "_do_step") or not hasattr(clock, "pause"):
            return None
        pending = events.peek_ahead(2) if len(events) else []
        if len(pending) != 1 or pending[0] is not getattr(clock, "_current_event", None):
            return None
        if pending[0].time != self.time + 1:
            return None
        return clock

    def step(self) -> None:
        self.timeline.fire(self.day)  # 1. events and drivers
        advance_drivers(self)
        self.ledger.start_day()
        ahead = clear_day_ahead(self)  # 2. compute, day-ahead
        tokens, compute = clear_tokens(self, ahead)  # 3. tokens and top-up
        power = clear_power(self, compute)  # 4. power
        day = Day(self.day, compute, tokens, power, aidc_costs(self))
        settle(self, day)  # 5. settlement
        learn(self, day)  # 6. learning
        self.gpus_ordered_today = 0.0
        if self.date.day == 1:  # 7. investment, contracts
            first_of_month(self)
        arrivals_and_retirements(self)
        self.recorder.collect(self, day)  # 8. data
        self.last = day
        self.day += 1

    # -- the graph --------------------------------------------------------------------------------------
    def _set_edge_state_defaults(self) -> None:
        for _, _, attrs in self.graph.edges(data=True):
            attrs.setdefault("flow", 0.0)
            attrs.setdefault("price", 0.0)

    def graph_with_flows(self) -> nx.Graph:
        """The supply graph with today's daily flows and prices on its edges and zone prices on zones."""
        g = self.graph
        if self.last is None:
            return g
        compute, tokens, power = self.last.compute, self.last.tokens, self.last.power
        ids = node_ids(g)
        zone_price = power.price.mean(axis=0)
        for z, name in enumerate(self.zone_names):
            g.nodes[ids[name]]["price_cny_per_mwh"] = float(zone_price[z])
        for li, (a, b) in enumerate(zip(self.line_from, self.line_to, strict=True)):
            e = g.edges[ids[self.zone_names[a]], ids[self.zone_names[b]]]
            e["flow"] = float(power.line_flow[:, li].sum())  # MWh from 'from' to 'to'
            e["limit_mw"] = float(self.line_params["limit_mw"][li])
        flow = compute.pair_gpu_hours()  # (P + K, A) GPU-hours
        paid = compute.payment
        buyer_rows = {name: row for row, name in enumerate(self.providers.names + self.labs.names)}
        aidc_cols = {name: a for a, name in enumerate(self.aidcs.names)}
        token_rows = {name: b for b, name in enumerate(self.apps.names + self.enterprises.names)}
        provider_cols = {name: p for p, name in enumerate(self.providers.names)}
        for u, v, e in g.edges(data=True):  # the restricted relations, spelled out as edges
            one, other = g.nodes[u]["name"], g.nodes[v]["name"]
            if e.get("kind") == "compute":
                row, a = (
                    (buyer_rows[one], aidc_cols[other]) if one in buyer_rows else (buyer_rows[other], aidc_cols[one])
                )
                e["flow"] = float(flow[row, a])
                e["price"] = float(paid[row, a] / flow[row, a]) if flow[row, a] > 0 else 0.0
            elif e.get("kind") == "token":
                b, p = (
                    (token_rows[one], provider_cols[other])
                    if one in token_rows
                    else (token_rows[other], provider_cols[one])
                )
                e["flow"] = float(tokens.served_pair[b, p])
                e["price"] = float(tokens.price[p])
        # what each trader bought today in all (a relation with every seller has no edge to carry it)
        for name, row in buyer_rows.items():
            g.nodes[ids[name]]["gpu_hours_bought"] = float(flow[row].sum())
        for name, b in token_rows.items():
            g.nodes[ids[name]]["mtok_bought"] = float(tokens.served_pair[b].sum())
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
