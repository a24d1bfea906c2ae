"""Read and write the supply graph as GraphML, so users can bring their own network."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from tokenomy.networks.topologies import TopologyError


def write_graph(g: nx.Graph, path: str | Path) -> None:
    """Write ``g`` atomically (temporary file, then rename)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    clean = nx.Graph(**{k: v for k, v in g.graph.items() if isinstance(v, str | int | float | bool)})
    for node, attrs in g.nodes(data=True):
        clean.add_node(node, **{k: v for k, v in attrs.items() if isinstance(v, str | int | float | bool)})
    for u, v, attrs in g.edges(data=True):
        clean.add_edge(u, v, **{k: val for k, val in attrs.items() if isinstance(val, str | int | float | bool)})
    nx.write_graphml(clean, tmp)
    tmp.replace(path)


def read_graph(path: str | Path) -> nx.Graph:
    """Read a supply graph; node ids become integers again."""
    path = Path(path)
    try:
        g = nx.read_graphml(path, node_type=int)
    except FileNotFoundError:
        raise TopologyError(f"{path}: no such graph file") from None
    except Exception as exc:  # networkx raises several kinds for bad files
        raise TopologyError(f"{path}: not a readable GraphML supply graph ({exc})") from None
    for node, attrs in g.nodes(data=True):
        if "kind" not in attrs or "name" not in attrs:
            raise TopologyError(f"{path}: node {node} lacks the 'kind' and 'name' attributes")
    return nx.Graph(g)
