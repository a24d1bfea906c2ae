"""Supply graphs: builders, GraphML round trip, layered layout."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from tokenomy.abm.model import TokenEconomy
from tokenomy.abm.scenarios import load_scenario
from tokenomy.networks import TopologyError, build_supply_graph, chain_layout, read_graph, write_graph
from tokenomy.networks.consideration import MAX_CONSIDERED
from tokenomy.networks.layout import LAYER


def test_classroom_graph_has_every_relation_kind():
    g = build_supply_graph(load_scenario("classroom").data)
    kinds = {a["kind"] for _, _, a in g.edges(data=True)}
    assert kinds == {"line", "grid"}  # every buyer trades with every seller: no edge spells it out
    every = {a["kind"]: sorted(k for k in a if k.startswith("all_")) for _, a in g.nodes(data=True)}
    assert every["provider"] == every["lab"] == ["all_aidcs"]
    assert every["app"] == every["enterprise"] == ["all_providers"]
    assert every["aidc"] == every["zone"] == every["utility"] == every["storage"] == []
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
    g.nodes[ids["chatbot"]]["all_providers"] = False  # chatbot buys from cloud-b only
    g.add_edge(ids["cloud-b"], ids["chatbot"], kind="token")
    del g.nodes[ids["ai-lab"]]["all_aidcs"]  # the lab buys compute only from east-aidc
    g.add_edge(ids["east-aidc"], ids["ai-lab"], kind="compute")
    path = tmp_path / "g.graphml"
    write_graph(g, path)
    m2 = TokenEconomy("classroom", seed=5, graph=read_graph(path))
    chatbot, lab = m1.apps.names.index("chatbot"), m1.providers.n + m1.labs.names.index("ai-lab")
    assert m1.token_edges[chatbot].tolist() == [True, True]
    assert m2.token_edges[chatbot].tolist() == [m1.providers.names[p] == "cloud-b" for p in range(2)]
    assert m2.compute_edges[lab].tolist() == [m1.aidcs.names[a] == "east-aidc" for a in range(2)]
    others = np.ones(m1.token_edges.shape[0], dtype=bool)
    others[chatbot] = False
    assert (m2.token_edges[others] == m1.token_edges[others]).all()
    m2.run(3)  # and the model runs on it: chatbot's tokens all come from cloud-b
    served = m2.last.tokens.served_pair[chatbot]
    assert served[m2.providers.names.index("cloud-a")] == 0.0 and served.sum() > 0.0


def test_restricted_relations_are_edges_and_the_graph_grows_with_the_entries(tmp_path):
    """A ``providers``/``aidcs`` list becomes edges; a relation with every seller is one node attribute, so 100
    apps buying from 100 providers make no token edge (not 10,000); the model gives each of those buyers its
    consideration set (at most MAX_CONSIDERED providers) and the restricted ones exactly their edges."""
    lines = ["[scenario]", 'name = "wide"', 'base = "classroom"', "", "[[apps]]", 'name = "picky"']
    lines += ['providers = ["cloud-b"]', "[[providers]]", 'name = "narrow"', 'aidcs = ["west-aidc"]']
    lines += [f'[[apps]]\nname = "app-{i}"\n[[providers]]\nname = "prov-{i}"' for i in range(97)]
    path = tmp_path / "wide.toml"
    path.write_text("\n".join(lines) + "\n")
    g = build_supply_graph(load_scenario(path).data)
    ids = {a["name"]: n for n, a in g.nodes(data=True)}
    kinds = [a["kind"] for _, _, a in g.edges(data=True)]
    assert kinds.count("token") == 1 and g.has_edge(ids["picky"], ids["cloud-b"])
    assert kinds.count("compute") == 1 and g.has_edge(ids["narrow"], ids["west-aidc"])
    assert g.number_of_edges() < g.number_of_nodes()
    assert "all_providers" not in g.nodes[ids["picky"]] and "all_aidcs" not in g.nodes[ids["narrow"]]
    model = TokenEconomy(load_scenario(path))
    picky = model.apps.names.index("picky")
    assert model.token_edges.shape == (model.apps.n + model.enterprises.n, model.providers.n) == (101, 100)
    assert model.token_edges[picky].tolist() == [p == "cloud-b" for p in model.providers.names]
    others = np.delete(model.token_edges, picky, axis=0)
    assert others.sum(axis=1).max() <= MAX_CONSIDERED and others.any(axis=0).all()
    assert len(np.unique(others, axis=0)) == -(-100 // MAX_CONSIDERED)  # the segments
    narrow = model.providers.names.index("narrow")
    assert model.compute_edges[narrow].tolist() == [a == "west-aidc" for a in model.aidcs.names]


@pytest.mark.parametrize(
    ("kind", "attr", "value", "problem"),
    [
        ("aidc", "all_providers", True, "only a app or enterprise may have it"),
        ("app", "all_aidcs", True, "only a lab or provider may have it"),
        ("app", "all_providers", "yes", "'yes'"),
    ],
)
def test_an_every_seller_attribute_out_of_place_is_refused(tmp_path, kind, attr, value, problem):
    g = build_supply_graph(load_scenario("classroom").data)
    node = next(n for n, a in g.nodes(data=True) if a["kind"] == kind)
    g.nodes[node][attr] = value
    path = tmp_path / "g.graphml"
    nx.write_graphml(g, path)
    with pytest.raises(TopologyError, match=problem):
        read_graph(path)


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
