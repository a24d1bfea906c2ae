"""Supply-graph builders.

The supply graph is the map of who can trade with whom.  Nodes are grid zones and agents (integer
ids, a ``kind`` attribute and a unique ``name``); edges carry a ``kind``: ``line`` (zone-zone,
``limit_mw``, ``reactance``), ``grid`` (zone-utility/AIDC/storage), ``compute`` (AIDC-provider and
AIDC-lab) and ``token`` (provider-app/enterprise).  The model reads its structure from this graph, so a graph
written to GraphML and read back builds the same model.
"""

from __future__ import annotations

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


class TopologyError(ValueError):
    """A scenario that does not fit the named topology."""


def _check_named_topology(data: dict) -> None:
    topology = data["scenario"]["topology"]
    zones = [z["name"] for z in data["zones"]]
    expected = {"classroom": set(CLASSROOM_ZONES), "china-8-hubs": set(CHINA_HUBS)}[topology]
    if set(zones) != expected:
        missing = sorted(expected - set(zones))
        extra = sorted(set(zones) - expected)
        raise TopologyError(f"topology '{topology}' needs zones {sorted(expected)}; "
                            f"missing {missing or 'none'}, unexpected {extra or 'none'}")


def build_supply_graph(data: dict) -> nx.Graph:
    """Build the supply graph of a validated scenario (``Scenario.data``)."""
    _check_named_topology(data)
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
        g.add_edge(ids[line["from"]], ids[line["to"]], kind="line", name=line["name"],
                   limit_mw=float(line["limit_mw"]), reactance=float(line["reactance"]))
    for u in data["utilities"]:
        node = add(u["name"], "utility")
        for zone in sorted({unit["zone"] for unit in u["units"]}):
            g.add_edge(ids[zone], node, kind="grid")
    for s in data["storage"]:
        g.add_edge(ids[s["zone"]], add(s["name"], "storage"), kind="grid")
    for a in data["aidcs"]:
        g.add_edge(ids[a["zone"]], add(a["name"], "aidc"), kind="grid")
    aidc_names = [a["name"] for a in data["aidcs"]]
    for kind, key in (("provider", "providers"), ("lab", "labs")):
        for p in data[key]:
            node = add(p["name"], kind)
            for a in p["aidcs"] or aidc_names:
                g.add_edge(ids[a], node, kind="compute")
    provider_names = [p["name"] for p in data["providers"]]
    for kind, key in (("app", "apps"), ("enterprise", "enterprises")):
        for b in data[key]:
            node = add(b["name"], kind)
            for p in b["providers"] or provider_names:
                g.add_edge(ids[p], node, kind="token")
    return g


def node_ids(g: nx.Graph) -> dict[str, int]:
    """Map node name -> node id."""
    return {attrs["name"]: node for node, attrs in g.nodes(data=True)}


def names_of_kind(g: nx.Graph, kind: str) -> list[str]:
    return [attrs["name"] for _, attrs in sorted(g.nodes(data=True)) if attrs.get("kind") == kind]


def neighbours_of_kind(g: nx.Graph, name: str, kind: str, edge_kind: str) -> list[str]:
    """Names of the ``kind`` nodes linked to ``name`` by ``edge_kind`` edges, in id order."""
    ids = node_ids(g)
    node = ids[name]
    out = []
    for other in sorted(g.neighbors(node)):
        if g.nodes[other].get("kind") == kind and g.edges[node, other].get("kind") == edge_kind:
            out.append(g.nodes[other]["name"])
    return out


def check_graph_matches(g: nx.Graph, data: dict) -> None:
    """A graph brought by the user must name the scenario's agents; say what differs if not."""
    for kind, key in (("zone", "zones"), ("utility", "utilities"), ("storage", "storage"), ("aidc", "aidcs"),
                      ("provider", "providers"), ("lab", "labs"), ("app", "apps"), ("enterprise", "enterprises")):
        in_graph = set(names_of_kind(g, kind))
        in_scenario = {item["name"] for item in data[key]}
        if in_graph != in_scenario:
            raise TopologyError(f"graph and scenario disagree on {key}: graph has {sorted(in_graph)}, "
                                f"scenario has {sorted(in_scenario)}")
