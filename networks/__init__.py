"""Supply graphs: builders for named topologies, GraphML I/O and the layered chain layout."""

from networks.graphml import read_graph, write_graph
from networks.layout import chain_layout
from networks.topologies import TopologyError, build_supply_graph

__all__ = ["build_supply_graph", "read_graph", "write_graph", "chain_layout", "TopologyError"]
