"""Building a TokenEconomy from a scenario and its supply graph, in named steps.

Each step reads the validated scenario data and the graph and sets what it builds on the model:
the grid (zones and lines), the agent groups, the Mesa agents and their ledger accounts, and the trade
relations (who may buy tokens or compute from whom).  The graph is the map: zone membership and every
trade relation come from its edges, so a graph read back from GraphML builds the same world.
"""

from __future__ import annotations

import numpy as np

from tokenomy.abm.ledger import Ledger
from tokenomy.abm.state import World
from tokenomy.agents.ai_app import AIApp, AIAppGroup
from tokenomy.agents.aidc import AIDC, AIDCGroup
from tokenomy.agents.base import hourly_profile
from tokenomy.agents.cloud_provider import CloudProvider, CloudProviderGroup
from tokenomy.agents.contracts import ContractBook
from tokenomy.agents.enterprise import Enterprise, EnterpriseGroup
from tokenomy.agents.grid_operator import GridOperator, GridOperatorGroup
from tokenomy.agents.storage_operator import StorageGroup, StorageOperator
from tokenomy.agents.training_lab import TrainingLab, TrainingLabGroup
from tokenomy.agents.utility import Utility, UtilityGroup
from tokenomy.networks.consideration import largest_first
from tokenomy.networks.topologies import names_of_kind, node_ids, trade_table, zone_of_each

# kind -> (Mesa agent class, scenario key), in account order
KINDS: dict[str, tuple[type, str]] = {
    "app": (AIApp, "apps"),
    "enterprise": (Enterprise, "enterprises"),
    "provider": (CloudProvider, "providers"),
    "lab": (TrainingLab, "labs"),
    "aidc": (AIDC, "aidcs"),
    "utility": (Utility, "utilities"),
    "storage": (StorageOperator, "storage"),
    "grid": (GridOperator, ""),
}


def build_grid(world: World, data: dict, g) -> None:
    """Zones (with their parameters as arrays, so events can change them) and transmission lines."""
    world.zone_names = names_of_kind(g, "zone")
    zone_items = {z["name"]: z for z in data["zones"]}
    world.zone_items = zone_items
    world.zone_params = {
        k: np.array([float(zone_items[z][k]) for z in world.zone_names])
        for k, v in data["zones"][0].items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    world.zone_region = [zone_items[z]["region"] for z in world.zone_names]
    world.zone_hub = np.array([bool(zone_items[z]["hub"]) for z in world.zone_names])
    zi = {z: i for i, z in enumerate(world.zone_names)}
    line_edges = sorted((min(u, v), max(u, v), a) for u, v, a in g.edges(data=True) if a.get("kind") == "line")
    line_items = {ln["name"]: ln for ln in data["lines"]}
    world.line_names = [a.get("name", f"{g.nodes[u]['name']}-{g.nodes[v]['name']}") for u, v, a in line_edges]
    world.line_from = np.array([zi[g.nodes[u]["name"]] for u, _, _ in line_edges], dtype=int)
    world.line_to = np.array([zi[g.nodes[v]["name"]] for _, v, _ in line_edges], dtype=int)
    world.line_params = {
        "limit_mw": np.array([float(a["limit_mw"]) for _, _, a in line_edges]),
        "reactance": np.array([float(a.get("reactance", 0.0)) for _, _, a in line_edges]),
    }
    for key in ("capex_cny_per_mw", "lead_days"):
        world.line_params[key] = np.array([float(line_items.get(n, {}).get(key, 0.0)) for n in world.line_names])
    world.line_expandable = np.array([bool(line_items.get(n, {}).get("expandable", False)) for n in world.line_names])


def build_groups(world: World, data: dict, g) -> None:
    """One group per agent kind, its entries in graph order; zone membership from the grid edges."""
    zi = {z: i for i, z in enumerate(world.zone_names)}
    zones = {**zone_of_each(g, "aidc"), **zone_of_each(g, "storage")}

    def zone_of(name: str) -> int:
        return zi[zones[name]]

    def ordered(kind: str, key: str) -> list[dict]:
        items = {it["name"]: it for it in data[key]}
        return [items[n] for n in names_of_kind(g, kind)]

    provs = ordered("provider", "providers")
    aidcs = ordered("aidc", "aidcs")
    stores = ordered("storage", "storage")
    world.apps = AIAppGroup(ordered("app", "apps"))
    world.enterprises = EnterpriseGroup(ordered("enterprise", "enterprises"))
    aidc_zone = np.array([zone_of(a["name"]) for a in aidcs], dtype=int)
    world.aidcs = AIDCGroup(aidcs, aidc_zone, world.zone_hub[aidc_zone] if aidcs else None)
    world.labs = TrainingLabGroup(ordered("lab", "labs"))
    world.utilities = UtilityGroup(
        ordered("utility", "utilities"), world.zone_names, data["technologies"], world.zone_params
    )
    world.storage = StorageGroup(stores, np.array([zone_of(s["name"]) for s in stores], dtype=int))
    world.grid = GridOperatorGroup(world.zone_params, world.line_params, world.line_expandable)
    # providers start by expecting what buyers want at the mean starting price, split evenly, in the
    # buyers' mean hourly shape
    start_price = np.array([p["price_cny_per_mtok"] for p in provs], dtype=float)
    mean_price = start_price.mean() if provs else 1.0
    demand = np.concatenate(
        [
            world.apps.token_demand_mtok(np.full(world.apps.n, mean_price)),
            world.enterprises.token_demand_mtok(np.full(world.enterprises.n, mean_price)),
        ]
    )
    profiles = np.concatenate([world.apps.profile, world.enterprises.profile]).reshape(-1, 24)
    shape = demand @ profiles / demand.sum() if demand.sum() > 0 else hourly_profile("flat")
    world.providers = CloudProviderGroup(
        provs, np.full(len(provs), demand.sum() / max(len(provs), 1)), np.tile(shape, (len(provs), 1))
    )
    world.groups = {
        "app": world.apps,
        "enterprise": world.enterprises,
        "provider": world.providers,
        "lab": world.labs,
        "aidc": world.aidcs,
        "utility": world.utilities,
        "storage": world.storage,
        "grid": world.grid,
    }
    world.contracts = ContractBook(world.providers.n, world.aidcs.n)


def build_agents_and_accounts(world: World, g) -> None:
    """A Mesa agent for every entity, in account order, and the ledger that holds their cash."""
    ids = node_ids(g)
    world.account_offset = {}
    cash, names, kinds, agent_ids = [], [], [], []
    for kind, (cls, _) in KINDS.items():
        group = world.groups[kind]
        world.account_offset[kind] = len(names)
        for i in range(group.n):
            agent = cls(world, group, i)
            agent.node_id = ids.get(group.names[i])
            group.agents.append(agent)
            cash.append(group.items[i]["cash_cny"])
            names.append(group.names[i])
            kinds.append(kind)
            agent_ids.append(agent.unique_id)
    world.ledger = Ledger(len(names), np.array(cash, dtype=float))
    world.ledger.account["grid_operator"] = world.account_offset["grid"]
    world.kind_slice = {kind: slice(off, off + world.groups[kind].n) for kind, off in world.account_offset.items()}
    for kind, group in world.groups.items():
        group.cash = world.ledger.balance[world.kind_slice[kind]]  # a view: always the ledger's figure
    world.agent_names, world.agent_kinds, world.agent_ids = names, kinds, np.array(agent_ids)
    world.accounts = {kind: off + np.arange(world.groups[kind].n) for kind, off in world.account_offset.items()}


def build_trade_relations(world: World, g) -> None:
    """Token edges (buyer x provider) and compute edges (provider or lab x AIDC), from the graph (its edges, and
    its ``all_providers`` and ``all_aidcs`` nodes: every seller, or with more than ``MAX_CONSIDERED`` a consideration
    set, :mod:`networks.consideration`)."""
    prov, labs, aidcs = world.providers, world.labs, world.aidcs
    buyers = world.apps.names + world.enterprises.names
    world.n_buyers = len(buyers)
    # sellers and buyers are dealt round the consideration segments largest first (networks.consideration): token
    # buyers by their demand at the mean starting price, providers in their order (no size before they trade);
    # AIDCs by GPUs (those of a size by zone, so each segment gets every zone's), providers and labs by the GPU-hours
    # a day they expect to need
    mean_price = float(prov.price.mean()) if prov.n else 1.0
    token_demand = np.concatenate(
        [
            world.apps.token_demand_mtok(np.full(world.apps.n, mean_price)),
            world.enterprises.token_demand_mtok(np.full(world.enterprises.n, mean_price)),
        ]
    )
    world.token_edges = trade_table(
        g, buyers, prov.names, "token", "all_providers", buyer_order=largest_first(token_demand)
    )
    need = np.concatenate([prov.level / prov.params["mtok_per_gpu_hour"], labs.params["gpu_hours_per_day"]])
    world.compute_edges = trade_table(
        g,
        prov.names + labs.names,
        aidcs.names,
        "compute",
        "all_aidcs",
        seller_order=np.lexsort((np.arange(aidcs.n), aidcs.zone, -aidcs.gpus)),
        buyer_order=largest_first(need),
    )
    world.buyer_profile = (
        np.concatenate([world.apps.profile, world.enterprises.profile]).reshape(world.n_buyers, 24) / 24.0
    )
    world.demand_seen = np.zeros((2, world.n_buyers))  # the last two days' demand of each buyer
    world.new_share = np.zeros(world.n_buyers)
    world.share = np.where(world.token_edges, 1.0, 0.0)
    world.share /= np.maximum(world.share.sum(axis=1, keepdims=True), 1.0)
    nz = len(world.zone_names)
    world.aidc_zone_inc = (np.arange(nz)[:, None] == aidcs.zone[None, :]).astype(float)  # (Z, A)
    world.storage_zone_inc = (np.arange(nz)[:, None] == world.storage.zone[None, :]).astype(float)  # (Z, S)
    world.line_inc = (np.arange(nz)[:, None] == world.line_to[None, :]).astype(float) - (
        np.arange(nz)[:, None] == world.line_from[None, :]
    )  # (Z, L)
