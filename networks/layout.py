"""A fixed layered layout that reads like the chain, left to right:
power and storage | zones | AIDCs | providers and training labs | apps and enterprises."""

from __future__ import annotations

import networkx as nx

LAYER = {"utility": 0, "storage": 0, "zone": 1, "aidc": 2, "provider": 3, "lab": 3, "app": 4, "enterprise": 4}
CROWDED_GAP = 0.08  # a layer whose nodes would sit closer than this (share of the height) uses two columns
STAGGER = 0.22  # how far the two columns of a crowded layer sit from its centre (share of a layer's width)


def chain_layout(g: nx.Graph) -> dict[int, tuple[float, float]]:
    """Positions in [0, 1] x [0, 1]: x by layer, y spread evenly within a layer.

    Within a layer, nodes attached to a zone are ordered by that zone so the picture stays tidy.  A crowded
    layer alternates its nodes between two columns either side of the layer's centre, so neighbours (and the
    labels under them) stay apart.
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
        crowded = len(nodes) > 1 and 1.0 / (len(nodes) - 1) < CROWDED_GAP
        for i, node in enumerate(nodes):
            y = 0.5 if len(nodes) == 1 else 1.0 - i / (len(nodes) - 1)
            shift = (STAGGER if i % 2 else -STAGGER) if crowded else 0.0
            pos[node] = ((layer + STAGGER + shift) / (n_layers + 2 * STAGGER), y)
    return pos
