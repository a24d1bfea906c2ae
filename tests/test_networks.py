"""Supply graphs: builders, GraphML round trip, layered layout."""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest

from tokenomy.abm.model import TokenEconomy
from tokenomy.abm.scenarios import load_scenario
from tokenomy.networks import TopologyError, build_supply_graph, chain_layout, read_graph, write_graph
from tokenomy.networks.layout import LAYER


def test_classroom_graph_has_every_relation_kind():
    g = build_supply_graph(load_scenario("classroom").data)
    kinds = {a["kind"] for _, _, a in g.edges(data=True)}
    assert kinds == {"line", "grid", "compute", "token"}
    assert all(isinstance(n, int) for n in g.nodes)
    zones = [n for n, a in g.nodes(data=True) if a["kind"] == "zone"]
    assert len(zones) == 2
    for u, v, a in g.edges(data=True):
        ku, kv = g.nodes[u]["kind"], g.nodes[v]["kind"]
        expected = {
            "line": {"zone"},
            "grid": {"zone", "utility", "aidc", "storage"},
            "compute": {"aidc", "provider", "lab"},
            "token": {"provider", "app", "enterprise"},
        }[a["kind"]]
        assert {ku, kv} <= expected


def test_graphml_round_trip_builds_the_same_model(tmp_path):
    m1 = TokenEconomy("classroom", seed=5)
    path = tmp_path / "g.graphml"
    write_graph(m1.graph, path)
    g2 = read_graph(path)
    assert nx.is_isomorphic(m1.graph, g2, node_match=lambda a, b: a == b, edge_match=lambda a, b: a == b)
    m2 = TokenEconomy("classroom", seed=5, graph=g2)
    m1.run(20)
    m2.run(20)
    pd.testing.assert_frame_equal(m1.daily_table(), m2.daily_table())
    pd.testing.assert_frame_equal(m1.hourly_table(), m2.hourly_table())


def test_a_graph_read_back_with_a_cut_relation_changes_the_model(tmp_path):
    m1 = TokenEconomy("classroom", seed=5)
    g = m1.graph.copy()
    ids = {a["name"]: n for n, a in g.nodes(data=True)}
    g.remove_edge(ids["cloud-a"], ids["chatbot"])
    path = tmp_path / "g.graphml"
    write_graph(g, path)
    m2 = TokenEconomy("classroom", seed=5, graph=read_graph(path))
    assert not m2.token_edges[0, 0] and m1.token_edges[0, 0]


def test_graph_that_disagrees_with_the_scenario_is_refused():
    g = build_supply_graph(load_scenario("classroom").data)
    g.add_node(99, kind="aidc", name="ghost")
    with pytest.raises(TopologyError, match="ghost"):
        TokenEconomy("classroom", graph=g)


def test_unreadable_graph_file(tmp_path):
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><not closed")
    with pytest.raises(TopologyError, match="bad.graphml"):
        read_graph(bad)


def test_layout_is_layered_like_the_chain():
    g = build_supply_graph(load_scenario("classroom").data)
    pos = chain_layout(g)
    for x, y in pos.values():
        assert 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0
    by_layer: dict[int, list[float]] = {}
    for node, (x, _) in pos.items():
        by_layer.setdefault(LAYER[g.nodes[node]["kind"]], []).append(x)
    layers = sorted(by_layer)
    for left, right in zip(layers, layers[1:], strict=False):  # every layer lies wholly left of the next
        assert max(by_layer[left]) < min(by_layer[right])


def _line_limits(path) -> list[float]:
    g = read_graph(path)
    return [a["limit_mw"] for _, _, a in g.edges(data=True) if a["kind"] == "line"]


def test_set_reaches_the_lines_of_a_users_graph(tmp_path, capsys):
    """``--set lines.NAME.limit_mw`` with ``--graph`` changes the graph's line, which the model reads."""
    from tokenomy.abm.cli import main

    graph = tmp_path / "g.graphml"
    write_graph(build_supply_graph(load_scenario("classroom").data), graph)
    flows = {}
    for label, extra in (("free", []), ("cut", ["--set", "lines.west-east.limit_mw=0"])):
        out = tmp_path / label
        assert main(["run", "classroom", "--days", "3", "--graph", str(graph), "--out", str(out), *extra]) == 0
        flows[label] = pd.read_parquet(out / "hourly.parquet")["net_import_mw"].abs().max()
        assert _line_limits(out / "graph.graphml") == ([0.0] if extra else [100.0])
    capsys.readouterr()
    assert flows["free"] > 1.0
    assert flows["cut"] == 0.0


def test_graph_structure_is_checked_on_reading(tmp_path):
    g = build_supply_graph(load_scenario("classroom").data)
    ids = {a["name"]: n for n, a in g.nodes(data=True)}
    g.add_edge(ids["west"], ids["west"], kind="line", name="loop", limit_mw=5.0)
    path = tmp_path / "loop.graphml"
    nx.write_graphml(g, path)
    with pytest.raises(TopologyError, match="joins a node to itself"):
        read_graph(path)


def test_set_finds_a_line_the_graph_leaves_unnamed(tmp_path):
    """A graph's line without a 'name' is known by its zones, as the model names it."""
    g = build_supply_graph(load_scenario("classroom").data)
    line = next((u, v) for u, v, a in g.edges(data=True) if a["kind"] == "line")
    del g.edges[line]["name"]
    path = tmp_path / "g.graphml"
    write_graph(g, path)
    scenario = load_scenario("classroom", ["lines.west-east.limit_mw=7"], graph=path)
    assert [a["limit_mw"] for _, _, a in scenario.graph.edges(data=True) if a["kind"] == "line"] == [7.0]
