"""A fixed layered layout that reads like the chain, left to right:
power and storage | zones | AIDCs | providers and training labs | apps and enterprises."""

from __future__ import annotations

import networkx as nx

LAYER = {"utility": 0, "storage": 0, "zone": 1, "aidc": 2, "provider": 3, "lab": 3, "app": 4, "enterprise": 4}


def chain_layout(g: nx.Graph) -> dict[int, tuple[float, float]]:
    """Positions in [0, 1] x [0, 1]: x by layer, y spread evenly within a layer.

    Within a layer, nodes attached to a zone are ordered by that zone so the picture stays tidy.
    """
    zone_rank = {n: i for i, n in enumerate(sorted(n for n, a in g.nodes(data=True) if a.get("kind") == "zone"))}

    def zone_of(node: int) -> float:
        if node in zone_rank:
            return zone_rank[node]
        zs = [zone_rank[m] for m in g.neighbors(node) if m in zone_rank]
        return sum(zs) / len(zs) if zs else len(zone_rank)

    layers: dict[int, list[int]] = {}
    for node, attrs in g.nodes(data=True):
        layers.setdefault(LAYER.get(attrs.get("kind"), 4), []).append(node)
    n_layers = max(LAYER.values())
    pos = {}
    for layer, nodes in layers.items():
        nodes.sort(key=lambda n: (zone_of(n), g.nodes[n].get("kind", ""), n))
        for i, node in enumerate(nodes):
            y = 0.5 if len(nodes) == 1 else 1.0 - i / (len(nodes) - 1)
            pos[node] = (layer / n_layers, y)
    return pos
