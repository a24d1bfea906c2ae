"""Supply-graph builders.

The supply graph is the map of who can trade with whom.  Nodes are grid zones and agents (integer
ids, a ``kind`` attribute and a unique ``name``); edges carry a ``kind``: ``line`` (zone-zone,
``limit_mw``, ``reactance``), ``grid`` (zone-utility/AIDC/storage), ``compute`` (AIDC-provider and
AIDC-lab) and ``token`` (provider-app/enterprise).  The model reads its structure from this graph, so a graph
written to GraphML and read back builds the same model.

A relation with every seller is not spelled out edge by edge: a provider or lab that may buy compute from every
AIDC carries ``all_aidcs = True`` and no compute edges, an app or enterprise that may buy tokens from every
provider ``all_providers = True`` and no token edges.  So the graph grows with the number of entries, not with
the products of their counts (1,000 buyers of 1,000 providers would be a million edges); edges name only
restricted relations (a scenario's ``providers`` or ``aidcs`` list).  Such a buyer considers at most
``MAX_CONSIDERED`` sellers (:mod:`networks.consideration`), a set the model derives from the graph alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import networkx as nx

# The eight national computing hubs of "East Data, West Computing", with rough coordinates
# (longitude, latitude) used for drawing and their region.
CHINA_HUBS: dict[str, tuple[float, float, str]] = {
    "beijing-tianjin-hebei": (116.4, 39.9, "east"),
    "yangtze-river-delta": (121.0, 31.2, "east"),
    "guangdong-hk-macao": (113.3, 23.1, "east"),
    "chengdu-chongqing": (105.0, 30.1, "east"),
    "inner-mongolia": (111.7, 40.8, "west"),
    "guizhou": (106.7, 26.6, "west"),
    "gansu": (103.8, 36.1, "west"),
    "ningxia": (106.3, 38.5, "west"),
}
CLASSROOM_ZONES = ("west", "east")

ZONE_KINDS = ("zone",)
AGENT_KINDS = ("utility", "storage", "aidc", "provider", "lab", "app", "enterprise")
NODE_KINDS = ZONE_KINDS + AGENT_KINDS
# edge kind -> the two node kinds it joins: (one end's kinds, the other end's kinds)
EDGE_ENDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "line": (frozenset({"zone"}), frozenset({"zone"})),
    "grid": (frozenset({"zone"}), frozenset({"utility", "storage", "aidc"})),
    "compute": (frozenset({"aidc"}), frozenset({"provider", "lab"})),
    "token": (frozenset({"provider"}), frozenset({"app", "enterprise"})),
}
MAX_LINE_MW = 1e6  # transfer limit of one line (the largest UHV corridors carry about 1.2e4 MW)
MAX_REACTANCE = 10.0  # per unit
MAX_NODES = 20_000
# the scenario keys whose meaning a user's graph takes over: with --graph, edit the graph instead
GRAPH_OWNED_KEYS = {
    "aidcs": ("zone",),
    "storage": ("zone",),
    "providers": ("aidcs",),
    "labs": ("aidcs",),
    "apps": ("providers",),
    "enterprises": ("providers",),
    "lines": ("from", "to"),
}
LINE_SETTINGS = ("limit_mw", "reactance")
# node attribute -> (the node kinds that may carry it, the edge kind and the kind of node it stands for: every one)
ALL_SELLERS: dict[str, tuple[frozenset[str], str, str]] = {
    "all_aidcs": (frozenset({"provider", "lab"}), "compute", "aidc"),
    "all_providers": (frozenset({"app", "enterprise"}), "token", "provider"),
}


class TopologyError(ValueError):
    """A scenario that does not fit the named topology."""


def check_named_topology(data: dict, source: str = "scenario") -> None:
    """The scenario's zones are the ones its named topology draws."""
    topology = data["scenario"]["topology"]
    zones = [z["name"] for z in data["zones"]]
    expected = {"classroom": set(CLASSROOM_ZONES), "china-8-hubs": set(CHINA_HUBS)}[topology]
    if set(zones) != expected:
        missing = sorted(expected - set(zones))
        extra = sorted(set(zones) - expected)
        raise TopologyError(
            f"{source}: topology '{topology}' needs zones {sorted(expected)}; "
            f"missing {missing or 'none'}, unexpected {extra or 'none'}"
        )


def build_supply_graph(data: dict) -> nx.Graph:
    """Build the supply graph of a validated scenario (``Scenario.data``)."""
    check_named_topology(data, data["scenario"]["name"])
    g = nx.Graph(name=data["scenario"]["name"], topology=data["scenario"]["topology"])
    ids: dict[str, int] = {}

    def add(name: str, kind: str, **attrs) -> int:
        node = len(ids)
        ids[name] = node
        g.add_node(node, name=name, kind=kind, **attrs)
        return node

    for z in data["zones"]:
        lon, lat, _ = CHINA_HUBS.get(z["name"], (0.0, 0.0, z["region"]))
        add(z["name"], "zone", region=z["region"], lon=lon, lat=lat)
    for line in data["lines"]:
        g.add_edge(
            ids[line["from"]],
            ids[line["to"]],
            kind="line",
            name=line["name"],
            limit_mw=float(line["limit_mw"]),
            reactance=float(line["reactance"]),
        )
    for u in data["utilities"]:
        node = add(u["name"], "utility")
        for zone in sorted({unit["zone"] for unit in u["units"]}):
            g.add_edge(ids[zone], node, kind="grid")
    for s in data["storage"]:
        g.add_edge(ids[s["zone"]], add(s["name"], "storage"), kind="grid")
    for a in data["aidcs"]:
        g.add_edge(ids[a["zone"]], add(a["name"], "aidc"), kind="grid")
    for kind, key in (("provider", "providers"), ("lab", "labs")):
        for p in data[key]:
            node = add(p["name"], kind, **({} if p["aidcs"] else {"all_aidcs": True}))
            for a in p["aidcs"]:
                g.add_edge(ids[a], node, kind="compute")
    for kind, key in (("app", "apps"), ("enterprise", "enterprises")):
        for b in data[key]:
            node = add(b["name"], kind, **({} if b["providers"] else {"all_providers": True}))
            for p in b["providers"]:
                g.add_edge(ids[p], node, kind="token")
    return g


def node_ids(g: nx.Graph) -> dict[str, int]:
    """Map node name -> node id."""
    return {attrs["name"]: node for node, attrs in g.nodes(data=True)}


def names_of_kind(g: nx.Graph, kind: str) -> list[str]:
    return [attrs["name"] for _, attrs in sorted(g.nodes(data=True)) if attrs.get("kind") == kind]


def neighbours_of_kind(g: nx.Graph, name: str, kind: str, edge_kind: str) -> list[str]:
    """Names of the ``kind`` nodes linked to ``name`` by ``edge_kind`` edges, in id order."""
    node = next(n for n, a in g.nodes(data=True) if a.get("name") == name)
    return [g.nodes[other]["name"] for other in _linked(g, node, kind, edge_kind)]


def _linked(g: nx.Graph, node: int, kind: str, edge_kind: str) -> list[int]:
    """The ``kind`` nodes linked to ``node`` by ``edge_kind`` edges, in id order."""
    return sorted(
        other
        for other, attrs in g.adj[node].items()
        if attrs.get("kind") == edge_kind and g.nodes[other].get("kind") == kind
    )


def zone_of_each(g: nx.Graph, kind: str) -> dict[str, str]:
    """Node name -> the name of its first grid zone (in id order), for every ``kind`` node: one pass over the
    graph."""
    return {
        a["name"]: g.nodes[_linked(g, n, "zone", "grid")[0]]["name"]
        for n, a in g.nodes(data=True)
        if a.get("kind") == kind
    }


def trade_table(
    g: nx.Graph,
    buyers: list[str],
    sellers: list[str],
    edge_kind: str,
    every: str,
    seller_order=None,
    buyer_order=None,
):
    """(len(buyers), len(sellers)) bool: who may buy from whom over ``edge_kind`` edges; a buyer whose node carries
    ``every`` (it may buy from every seller) gets its consideration set (:mod:`networks.consideration`: every seller
    when there are at most ``MAX_CONSIDERED``, else one segment of them, sellers and buyers dealt round the segments
    in ``seller_order`` and ``buyer_order``, indices into ``sellers`` and ``buyers``, their own orders by default).
    Work in proportion to the nodes and edges (and the table)."""
    import numpy as np

    from tokenomy.networks.consideration import considered_rows

    row = {name: i for i, name in enumerate(buyers)}
    col = {name: j for j, name in enumerate(sellers)}
    out = np.zeros((len(buyers), len(sellers)), dtype=bool)
    marked = {
        row[attrs["name"]] for _, attrs in g.nodes(data=True) if attrs.get(every) is True and attrs.get("name") in row
    }
    dealt = np.arange(len(buyers)) if buyer_order is None else np.asarray(buyer_order)
    every_rows = [int(b) for b in dealt if b in marked]  # the buyers of every seller, in the order they are dealt
    order = np.arange(len(sellers)) if seller_order is None else seller_order
    if every_rows:
        out[every_rows] = considered_rows(len(every_rows), order, len(sellers))
    for u, v, attrs in g.edges(data=True):
        if attrs.get("kind") != edge_kind:
            continue
        a, b = g.nodes[u]["name"], g.nodes[v]["name"]
        if a in col:
            a, b = b, a
        if a in row and b in col:
            out[row[a], col[b]] = True
    return out


def check_graph_matches(g: nx.Graph, data: dict, label: str = "graph") -> None:
    """A graph brought by the user must name the scenario's agents; say what differs if not."""
    for kind, key in (
        ("zone", "zones"),
        ("utility", "utilities"),
        ("storage", "storage"),
        ("aidc", "aidcs"),
        ("provider", "providers"),
        ("lab", "labs"),
        ("app", "apps"),
        ("enterprise", "enterprises"),
    ):
        in_graph = set(names_of_kind(g, kind))
        in_scenario = {item["name"] for item in data[key]}
        if in_graph != in_scenario:
            raise TopologyError(
                f"{label}: graph and scenario disagree on {key}: graph has {sorted(in_graph)}, "
                f"scenario has {sorted(in_scenario)}"
            )


def _did_you_mean(word: str, known: Iterable[str]) -> str:
    from tokenomy.abm.suggest import did_you_mean

    return did_you_mean(word, known)


def _number(value: object, what: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TopologyError(f"{what} must be a number, got {str(value)[:40]!r}")
    if not math.isfinite(value) or not lo <= value <= hi:
        raise TopologyError(f"{what} = {value} is out of range; allowed [{lo:g}, {hi:g}]")
    return float(value)


def _check_node(node: object, attrs: dict, label: str) -> str:
    """One node has a known kind and a non-empty name; return the name."""
    kind, name = attrs.get("kind"), attrs.get("name")
    if kind is None or name is None:
        raise TopologyError(f"{label}: node {node} lacks the 'kind' and 'name' attributes")
    if kind not in NODE_KINDS:
        raise TopologyError(
            f"{label}: node {node} has kind {str(kind)[:40]!r}; known: {', '.join(NODE_KINDS)}"
            f"{_did_you_mean(str(kind), NODE_KINDS)}"
        )
    if not isinstance(name, str) or not name.strip():
        raise TopologyError(f"{label}: node {node} needs a non-empty 'name'")
    for attr, (kinds, _, seller) in ALL_SELLERS.items():
        if attr in attrs and (kind not in kinds or not isinstance(attrs[attr], bool)):
            raise TopologyError(
                f"{label}: node '{name}' has {attr} = {str(attrs[attr])[:40]!r}; only a "
                f"{' or '.join(sorted(kinds))} may have it, true or false (it may buy from every {seller})"
            )
    return name


def _check_nodes(g: nx.Graph, label: str) -> None:
    """Every node is well formed and no two share a name."""
    names: dict[str, object] = {}
    for node, attrs in g.nodes(data=True):
        name = _check_node(node, attrs, label)
        if name in names:
            raise TopologyError(f"{label}: nodes {names[name]} and {node} are both named '{name}'")
        names[name] = node


def _check_edge_ends(g: nx.Graph, u: int, v: int, kind: object, ends: str, label: str) -> None:
    """An edge has a known kind and joins two different nodes of the kinds that edge kind joins."""
    if kind not in EDGE_ENDS:
        raise TopologyError(
            f"{label}: {ends} has kind {str(kind)[:40]!r}; known: {', '.join(EDGE_ENDS)}"
            f"{_did_you_mean(str(kind), EDGE_ENDS)}"
        )
    if u == v:
        raise TopologyError(f"{label}: {ends} joins a node to itself")
    one, other = EDGE_ENDS[kind]
    ku, kv = g.nodes[u]["kind"], g.nodes[v]["kind"]
    if not ((ku in one and kv in other) or (kv in one and ku in other)):
        raise TopologyError(
            f"{label}: {kind} {ends} joins a {ku} to a {kv}; a {kind} edge joins a "
            f"{'/'.join(sorted(one))} to a {'/'.join(sorted(other))}"
        )


def _check_line(attrs: dict, ends: str, label: str, line_names: set[str]) -> None:
    """A line edge has a limit in range, a reactance in range if any, and a name (if any) no other line has;
    the name is added to ``line_names``."""
    if "limit_mw" not in attrs:
        raise TopologyError(f"{label}: line {ends} has no 'limit_mw'")
    _number(attrs["limit_mw"], f"{label}: line {ends} 'limit_mw'", 0.0, MAX_LINE_MW)
    if "reactance" in attrs:
        _number(attrs["reactance"], f"{label}: line {ends} 'reactance'", 0.0, MAX_REACTANCE)
    name = attrs.get("name")
    if name is not None:
        if not isinstance(name, str) or name in line_names:
            raise TopologyError(f"{label}: line {ends} has a missing or repeated 'name' ({name!r})")
        line_names.add(name)


def _check_edges(g: nx.Graph, label: str) -> None:
    """Every edge joins the right kinds of node; every line edge is well formed."""
    line_names: set[str] = set()
    for u, v, attrs in g.edges(data=True):
        kind = attrs.get("kind")
        ends = f"edge {g.nodes[u]['name']}-{g.nodes[v]['name']}"
        _check_edge_ends(g, u, v, kind, ends, label)
        if kind == "line":
            _check_line(attrs, ends, label, line_names)


def _check_grid_zones(g: nx.Graph, label: str) -> None:
    """Every AIDC and storage operator has exactly one grid edge to a zone."""
    for node, attrs in g.nodes(data=True):
        if attrs["kind"] in ("aidc", "storage"):
            zones = [
                o for o in g.neighbors(node) if g.nodes[o]["kind"] == "zone" and g.edges[node, o].get("kind") == "grid"
            ]
            if len(zones) != 1:
                raise TopologyError(
                    f"{label}: {attrs['kind']} '{attrs['name']}' needs exactly one grid edge to a "
                    f"zone, has {len(zones)}"
                )


def check_graph(g: nx.Graph, label: str) -> None:
    """A supply graph's own structure: node kinds and unique names, edge kinds joining the right kinds of
    node, line limits that are finite and in range, one grid zone for every AIDC and storage operator."""
    if g.number_of_nodes() > MAX_NODES:
        raise TopologyError(f"{label}: {g.number_of_nodes()} nodes; a supply graph has at most {MAX_NODES}")
    _check_nodes(g, label)
    _check_edges(g, label)
    check_reactances(line_reactances(g), label)
    _check_grid_zones(g, label)


def check_reactances(reactance_by_line: dict[str, float], label: str) -> None:
    """Reactances on every line or on none: the DC power flow needs one on each line, the transport model none."""
    with_x = sorted(str(n) for n, x in reactance_by_line.items() if x > 0)
    without = sorted(str(n) for n, x in reactance_by_line.items() if not x > 0)
    if with_x and without:
        raise TopologyError(
            f"{label}: line '{with_x[0]}' has a reactance but line '{without[0]}' has none; give "
            "every line a reactance (DC power flow) or none (transport model)"
        )


def line_name(g: nx.Graph, u: int, v: int) -> str:
    """A line edge's name: its own, or "FROM-TO" of its zones in node order (as the model names it)."""
    lo, hi = min(u, v), max(u, v)
    return str(g.edges[lo, hi].get("name", f"{g.nodes[lo]['name']}-{g.nodes[hi]['name']}"))


def line_reactances(g: nx.Graph) -> dict[str, float]:
    """Line name -> reactance, of a graph's line edges (0 when it has none)."""
    return {
        line_name(g, u, v): float(a.get("reactance", 0.0)) for u, v, a in g.edges(data=True) if a.get("kind") == "line"
    }


def apply_line_settings(g: nx.Graph, data: dict, keys: Iterable[str]) -> None:
    """Carry ``--set lines.NAME.limit_mw`` (and ``reactance``) over to a user's graph, whose line edges are
    what the model reads; refuse overrides of what the graph decides (zones, trade relations)."""
    lines = {line_name(g, u, v): (u, v) for u, v, a in g.edges(data=True) if a.get("kind") == "line"}
    items = {ln["name"]: ln for ln in data["lines"]}
    for key in keys:
        parts = key.split(".")
        if len(parts) == 3 and parts[2] in GRAPH_OWNED_KEYS.get(parts[0], ()):
            raise TopologyError(f"--set {key}: with --graph the graph decides '{parts[2]}'; edit the graph instead")
        if len(parts) != 3 or parts[0] != "lines" or parts[2] not in LINE_SETTINGS:
            continue
        names = list(items) if parts[1] == "*" else [parts[1]]
        if not names:
            raise TopologyError(f"--set {key}: the scenario has no lines to set")
        for name in names:
            if name not in lines:
                raise TopologyError(f"--set {key}: the graph has no line named '{name}'{_did_you_mean(name, lines)}")
            g.edges[lines[name]][parts[2]] = float(items[name][parts[2]])
    check_reactances(line_reactances(g), "--set with --graph")
