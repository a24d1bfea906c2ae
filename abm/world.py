"""Building a TokenEconomy from a scenario and its supply graph, in named steps.

Each step reads the validated scenario data and the graph and sets what it builds on the model:
the grid (zones and lines), the agent groups, the Mesa agents and their ledger accounts, and the trade
relations (who may buy tokens or compute from whom).  The graph is the map: zone membership and every
trade relation come from its edges, so a graph read back from GraphML builds the same world.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tokenomy.abm.ledger import Ledger
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
from tokenomy.networks.topologies import names_of_kind, neighbours_of_kind, node_ids

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


def build_grid(model: Any, data: dict, g) -> None:
    """Zones (with their parameters as arrays, so events can change them) and transmission lines."""
    model.zone_names = names_of_kind(g, "zone")
    zone_items = {z["name"]: z for z in data["zones"]}
    model.zone_items = zone_items
    model.zone_params = {
        k: np.array([float(zone_items[z][k]) for z in model.zone_names])
        for k, v in data["zones"][0].items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    model.zone_region = [zone_items[z]["region"] for z in model.zone_names]
    model.zone_hub = np.array([bool(zone_items[z]["hub"]) for z in model.zone_names])
    zi = {z: i for i, z in enumerate(model.zone_names)}
    line_edges = sorted((min(u, v), max(u, v), a) for u, v, a in g.edges(data=True) if a.get("kind") == "line")
    line_items = {ln["name"]: ln for ln in data["lines"]}
    model.line_names = [a.get("name", f"{g.nodes[u]['name']}-{g.nodes[v]['name']}") for u, v, a in line_edges]
    model.line_from = np.array([zi[g.nodes[u]["name"]] for u, _, _ in line_edges], dtype=int)
    model.line_to = np.array([zi[g.nodes[v]["name"]] for _, v, _ in line_edges], dtype=int)
    model.line_params = {
        "limit_mw": np.array([float(a["limit_mw"]) for _, _, a in line_edges]),
        "reactance": np.array([float(a.get("reactance", 0.0)) for _, _, a in line_edges]),
    }
    for key in ("capex_cny_per_mw", "lead_days"):
        model.line_params[key] = np.array([float(line_items.get(n, {}).get(key, 0.0)) for n in model.line_names])
    model.line_expandable = np.array([bool(line_items.get(n, {}).get("expandable", False)) for n in model.line_names])


def build_groups(model: Any, data: dict, g) -> None:
    """One group per agent kind, its entries in graph order; zone membership from the grid edges."""
    zi = {z: i for i, z in enumerate(model.zone_names)}

    def zone_of(name: str) -> int:
        return zi[neighbours_of_kind(g, name, "zone", "grid")[0]]

    def ordered(kind: str, key: str) -> list[dict]:
        items = {it["name"]: it for it in data[key]}
        return [items[n] for n in names_of_kind(g, kind)]

    provs = ordered("provider", "providers")
    aidcs = ordered("aidc", "aidcs")
    stores = ordered("storage", "storage")
    model.apps = AIAppGroup(ordered("app", "apps"))
    model.enterprises = EnterpriseGroup(ordered("enterprise", "enterprises"))
    aidc_zone = np.array([zone_of(a["name"]) for a in aidcs], dtype=int)
    model.aidcs = AIDCGroup(aidcs, aidc_zone, model.zone_hub[aidc_zone] if aidcs else None)
    model.labs = TrainingLabGroup(ordered("lab", "labs"))
    model.utilities = UtilityGroup(
        ordered("utility", "utilities"), model.zone_names, data["technologies"], model.zone_params
    )
    model.storage = StorageGroup(stores, np.array([zone_of(s["name"]) for s in stores], dtype=int))
    model.grid = GridOperatorGroup(model.zone_params, model.line_params, model.line_expandable)
    # providers start by expecting what buyers want at the mean starting price, split evenly, in the
    # buyers' mean hourly shape
    start_price = np.array([p["price_cny_per_mtok"] for p in provs], dtype=float)
    mean_price = start_price.mean() if provs else 1.0
    demand = np.concatenate(
        [
            model.apps.token_demand_mtok(np.full(model.apps.n, mean_price)),
            model.enterprises.token_demand_mtok(np.full(model.enterprises.n, mean_price)),
        ]
    )
    profiles = np.concatenate([model.apps.profile, model.enterprises.profile]).reshape(-1, 24)
    shape = demand @ profiles / demand.sum() if demand.sum() > 0 else hourly_profile("flat")
    model.providers = CloudProviderGroup(
        provs, np.full(len(provs), demand.sum() / max(len(provs), 1)), np.tile(shape, (len(provs), 1))
    )
    model.groups = {
        "app": model.apps,
        "enterprise": model.enterprises,
        "provider": model.providers,
        "lab": model.labs,
        "aidc": model.aidcs,
        "utility": model.utilities,
        "storage": model.storage,
        "grid": model.grid,
    }
    model.contracts = ContractBook(model.providers.n, model.aidcs.n)


def build_agents_and_accounts(model: Any, g) -> None:
    """A Mesa agent for every entity, in account order, and the ledger that holds their cash."""
    ids = node_ids(g)
    model.account_offset = {}
    cash, names, kinds, agent_ids = [], [], [], []
    for kind, (cls, _) in KINDS.items():
        group = model.groups[kind]
        model.account_offset[kind] = len(names)
        for i in range(group.n):
            agent = cls(model, group, i)
            agent.node_id = ids.get(group.names[i])
            group.agents.append(agent)
            cash.append(group.items[i]["cash_cny"])
            names.append(group.names[i])
            kinds.append(kind)
            agent_ids.append(agent.unique_id)
    model.ledger = Ledger(len(names), np.array(cash, dtype=float))
    model.ledger.account["grid_operator"] = model.account_offset["grid"]
    model.kind_slice = {kind: slice(off, off + model.groups[kind].n) for kind, off in model.account_offset.items()}
    for kind, group in model.groups.items():
        group.cash = model.ledger.balance[model.kind_slice[kind]]  # a view: always the ledger's figure
    model.agent_names, model.agent_kinds, model.agent_ids = names, kinds, np.array(agent_ids)
    model.accounts = {kind: off + np.arange(model.groups[kind].n) for kind, off in model.account_offset.items()}


def build_trade_relations(model: Any, g) -> None:
    """Token edges (buyer x provider) and compute edges (provider or lab x AIDC), from the graph."""
    prov, labs, aidcs = model.providers, model.labs, model.aidcs
    buyers = model.apps.names + model.enterprises.names
    model.n_buyers = len(buyers)
    model.token_edges = np.zeros((model.n_buyers, prov.n), dtype=bool)
    for b, name in enumerate(buyers):
        for p in neighbours_of_kind(g, name, "provider", "token"):
            model.token_edges[b, prov.index(p)] = True
    model.compute_edges = np.zeros((prov.n + labs.n, aidcs.n), dtype=bool)
    for row, name in enumerate(prov.names + labs.names):
        for a in neighbours_of_kind(g, name, "aidc", "compute"):
            model.compute_edges[row, aidcs.index(a)] = True
    model.buyer_profile = (
        np.concatenate([model.apps.profile, model.enterprises.profile]).reshape(model.n_buyers, 24) / 24.0
    )
    model.share = np.where(model.token_edges, 1.0, 0.0)
    model.share /= np.maximum(model.share.sum(axis=1, keepdims=True), 1.0)
    nz = len(model.zone_names)
    model.aidc_zone_inc = (np.arange(nz)[:, None] == aidcs.zone[None, :]).astype(float)  # (Z, A)
    model.storage_zone_inc = (np.arange(nz)[:, None] == model.storage.zone[None, :]).astype(float)  # (Z, S)
    model.line_inc = (np.arange(nz)[:, None] == model.line_to[None, :]).astype(float) - (
        np.arange(nz)[:, None] == model.line_from[None, :]
    )  # (Z, L)
