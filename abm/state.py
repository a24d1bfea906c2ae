"""The world a simulated day works on: every group of agents, the grid, the books and the market's memories.

:class:`World` declares, with their types, the attributes the day's stages (``abm/day``), settlement, the green
contracts and the recorder read and move.  The builders in :mod:`abm.world` set them; :class:`TokenEconomy`
(the Mesa model) is a World, so a stage takes the model and a reader sees in one place what a day can touch.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # (only for the annotations: the groups import nothing from here)
    from tokenomy.abm.flexible import FlexibleConnections
    from tokenomy.abm.green import GreenContracts
    from tokenomy.abm.ledger import Ledger
    from tokenomy.abm.results import ComputeBook, PowerBook
    from tokenomy.agents.ai_app import AIAppGroup
    from tokenomy.agents.aidc import AIDCGroup
    from tokenomy.agents.base import DailyGrowth, Group
    from tokenomy.agents.cloud_provider import CloudProviderGroup
    from tokenomy.agents.contracts import ContractBook
    from tokenomy.agents.enterprise import EnterpriseGroup
    from tokenomy.agents.grid_operator import GridOperatorGroup
    from tokenomy.agents.storage_operator import StorageGroup
    from tokenomy.agents.training_lab import TrainingLabGroup
    from tokenomy.agents.utility import UtilityGroup


class World:
    """The model's state, as the stages of a day see it (shapes: Z zones, L lines, A AIDCs, B buyers, P providers,
    K labs)."""

    # the scenario and time
    data: dict[str, Any]  # the validated scenario
    rng: np.random.Generator  # the one seeded generator every draw comes from
    day: int  # days since the start (day 0)
    date: dt.date  # the calendar date of ``day``

    # the grid
    zone_names: list[str]
    zone_items: dict[str, dict]
    zone_params: dict[str, np.ndarray]  # numeric zone settings, (Z,) each: events change them
    zone_region: list[str]
    zone_hub: np.ndarray  # (Z,) bool
    line_names: list[str]
    line_from: np.ndarray  # (L,) zone index
    line_to: np.ndarray  # (L,)
    line_params: dict[str, np.ndarray]  # limit_mw, reactance, capex_cny_per_mw, lead_days, (L,) each
    line_expandable: np.ndarray  # (L,) bool
    line_inc: np.ndarray  # (Z, L) +1 at a line's 'to' zone, -1 at its 'from' zone
    aidc_zone_inc: np.ndarray  # (Z, A) 1 where the AIDC is
    storage_zone_inc: np.ndarray  # (Z, S)

    # the agents, one group per kind, in account order
    apps: AIAppGroup
    enterprises: EnterpriseGroup
    providers: CloudProviderGroup
    labs: TrainingLabGroup
    aidcs: AIDCGroup
    utilities: UtilityGroup
    storage: StorageGroup
    grid: GridOperatorGroup
    groups: dict[str, Group]  # kind -> group

    # who trades with whom
    n_buyers: int  # apps, then enterprises
    token_edges: np.ndarray  # (B, P) bool
    compute_edges: np.ndarray  # (P + K, A) bool: providers, then labs
    buyer_profile: np.ndarray  # (B, 24) each buyer's hourly shape / 24
    share: np.ndarray  # (B, P) each buyer's split of its demand over providers
    new_share: np.ndarray  # (B,) share of each buyer's demand that was new today (chose with no bond)
    demand_seen: np.ndarray  # (2, B) each buyer's demand the day before yesterday and yesterday

    # money
    ledger: Ledger
    accounts: dict[str, np.ndarray]  # kind -> ledger accounts of its agents
    account_offset: dict[str, int]
    kind_slice: dict[str, slice]
    agent_names: list[str]
    agent_kinds: list[str]
    agent_ids: np.ndarray

    # contracts
    contracts: ContractBook
    green: GreenContracts
    flexible: FlexibleConnections
    certificate_payee: np.ndarray  # (U + 1,) accounts paid for certificates
    certificate_split: np.ndarray  # (A, U + 1)

    # the market's memories
    compute_price: float  # volume-weighted price of the last day's compute trades
    gpus_ordered_today: float
    zone_price_forecast: np.ndarray  # (Z, 24) CNY/MWh
    recent_prices_ring: np.ndarray  # (30, Z, 24)
    recent_avail_ring: np.ndarray  # (30, Z, 24, T)
    recent_line_rent_ring: np.ndarray  # (30, L)
    compute_book: ComputeBook | None
    compute_book_before: ComputeBook | None
    power_book: PowerBook | None
    power_book_before: PowerBook | None
    _background_growth: DailyGrowth

    def recent_availability(self) -> np.ndarray:
        """(D, Z, 24, T) share of each technology's capacity available, per zone and hour, over the recent days."""
        from tokenomy.abm.day.learning import recent
        from tokenomy.agents.technologies import TECHS

        util = self.utilities
        cap = np.zeros((len(self.zone_names), len(TECHS)))
        np.add.at(cap, (util.unit_zone, util.unit_tech), util.unit_capacity_mw)
        avail = recent(self, self.recent_avail_ring)
        return np.divide(avail, cap[None, :, None, :], out=np.zeros_like(avail), where=cap[None, :, None, :] > 0)
