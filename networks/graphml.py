"""Read and write the supply graph as GraphML, so users can bring their own network."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import networkx as nx
from networkx.readwrite.graphml import GraphMLReader

from tokenomy.networks.files import read_bounded
from tokenomy.networks.topologies import TopologyError, check_graph

MAX_GRAPHML_BYTES = 20_000_000


def write_graph(g: nx.Graph, path: str | Path) -> None:
    """Write ``g`` atomically: a temporary file named as a run's output folder names its own
    (``.NAME.tmp-PID-RANDOM``, so a run killed mid-write leaves one a later run knows to remove), then a rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    clean = nx.Graph(**{k: v for k, v in g.graph.items() if isinstance(v, str | int | float | bool)})
    for node, attrs in g.nodes(data=True):
        clean.add_node(node, **{k: v for k, v in attrs.items() if isinstance(v, str | int | float | bool)})
    for u, v, attrs in g.edges(data=True):
        clean.add_edge(u, v, **{k: val for k, val in attrs.items() if isinstance(val, str | int | float | bool)})
    nx.write_graphml(clean, tmp)
    tmp.replace(path)


def read_graph(path: str | Path) -> nx.Graph:
    """Read a supply graph (at most :data:`MAX_GRAPHML_BYTES`) and check its structure; node ids become
    integers again."""
    path = Path(path)
    data = read_bounded(path, MAX_GRAPHML_BYTES, "graph file", TopologyError)
    try:
        reader = GraphMLReader(node_type=int)
        graphs = list(reader(string=data))  # each <graph> of the file (networkx's parse_graphml keeps the first)
        count = sum(1 for child in reader.xml if str(child.tag).rpartition("}")[2] == "graph")
        g = graphs[0] if graphs else nx.parse_graphml(data, node_type=int)  # it also reads a header without xmlns
    except Exception as exc:  # networkx and the XML parser raise several kinds for bad files
        text = " ".join(str(exc).split())[:120]
        raise TopologyError(f"{path}: not a readable GraphML supply graph ({text})") from None
    if count > 1:
        raise TopologyError(f"{path}: holds {count} graphs; a supply graph file holds one <graph>")
    if g.is_multigraph() and any(len(keys) > 1 for _, _, keys in _multi_edges(g)):
        raise TopologyError(f"{path}: two edges join the same pair of nodes; a supply graph has at most one")
    g = nx.Graph(g)
    check_graph(g, path.name)
    return g


def _multi_edges(g: nx.MultiGraph):
    for u, nbrs in g.adjacency():
        for v, keys in nbrs.items():
            yield u, v, keys
