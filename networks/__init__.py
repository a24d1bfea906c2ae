"""Supply graphs: builders for named topologies, GraphML I/O and the layered chain layout."""

from tokenomy.networks.graphml import read_graph, write_graph
from tokenomy.networks.layout import chain_layout
from tokenomy.networks.topologies import TopologyError, build_supply_graph

__all__ = ["build_supply_graph", "read_graph", "write_graph", "chain_layout", "TopologyError"]
