"""The hostile-user audit as a regression table: every row is one malformed or extreme input and the
outcome it must have -- exit 0 with sane tables ("ok"), or exit 2 with one line on stderr containing a
fragment that names the problem.  Everything runs in this process; the runs that succeed are one day long.

``{tmp}`` in an argument or a file stands for the row's own temporary folder; every run writes to
``{tmp}/out``, which must not exist after an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import pytest
from validation_support import assert_one_line_error, assert_sane_ensemble, assert_sane_run, cli

from tokenomy.abm.scenarios import load_scenario
from tokenomy.networks import build_supply_graph

OK = "ok"
OUT = "{tmp}/out"


@dataclass
class Row:
    argv: list[str]
    expect: str  # "ok" or a fragment of the one-line error
    files: dict[str, str | bytes | Callable[[nx.Graph], nx.Graph]] = field(default_factory=dict)


def variant(extra: str, name: str = "v") -> str:
    """A scenario file that starts from the classroom and adds ``extra``."""
    return f'[scenario]\nname = "{name}"\nbase = "classroom"\n{extra}\n'


MINIMAL = """[scenario]
name = "bare"
start_date = 2025-01-01
topology = "classroom"
[[zones]]
name = "west"
[[zones]]
name = "east"
"""


def run(*args: str) -> list[str]:
    return ["run", *args, "--out", OUT]


def run_file(*args: str) -> list[str]:
    return ["run", "{tmp}/s.toml", "--days", "1", *args, "--out", OUT]


def sset(*overrides: str) -> list[str]:
    argv = ["run", "classroom", "--days", "1", "--out", OUT]
    for item in overrides:
        argv += ["--set", item]
    return argv


def graph_run(*args: str) -> list[str]:
    return ["run", "classroom", "--days", "1", "--graph", "{tmp}/g.graphml", *args, "--out", OUT]


def sweep_file(body: str, scenario: str = "classroom") -> str:
    return f'[sweep]\nscenario = "{scenario}"\ndays = 1\n{body}\n'


def sweep_run(*args: str) -> list[str]:
    return ["sweep", "{tmp}/w.toml", "--workers", "0", "--quiet", *args, "--out", OUT]


def ids(g: nx.Graph) -> dict[str, int]:
    return {a["name"]: n for n, a in g.nodes(data=True)}


def _line(g: nx.Graph) -> tuple[int, int]:
    return next((u, v) for u, v, a in g.edges(data=True) if a["kind"] == "line")


def set_limit(value) -> Callable[[nx.Graph], nx.Graph]:
    def mutate(g: nx.Graph) -> nx.Graph:
        g.edges[_line(g)]["limit_mw"] = value
        return g

    return mutate


def drop_limit(g: nx.Graph) -> nx.Graph:
    del g.edges[_line(g)]["limit_mw"]
    return g


def cut_aidc_from_grid(g: nx.Graph) -> nx.Graph:
    n = ids(g)
    g.remove_edge(n["west"], n["west-aidc"])
    return g


def aidc_in_two_zones(g: nx.Graph) -> nx.Graph:
    n = ids(g)
    g.add_edge(n["east"], n["west-aidc"], kind="grid")
    return g


def line_zone_to_app(g: nx.Graph) -> nx.Graph:
    n = ids(g)
    g.add_edge(n["west"], n["chatbot"], kind="line", name="odd", limit_mw=10.0)
    return g


def self_line(g: nx.Graph) -> nx.Graph:
    n = ids(g)
    g.add_edge(n["west"], n["west"], kind="line", name="loop", limit_mw=10.0)
    return g


def duplicate_name(g: nx.Graph) -> nx.Graph:
    g.nodes[ids(g)["cloud-b"]]["name"] = "cloud-a"
    return g


def drop_kind(g: nx.Graph) -> nx.Graph:
    del g.nodes[ids(g)["chatbot"]]["kind"]
    return g


def node_kind(kind: str) -> Callable[[nx.Graph], nx.Graph]:
    def mutate(g: nx.Graph) -> nx.Graph:
        g.nodes[ids(g)["ai-lab"]]["kind"] = kind
        return g

    return mutate


def edge_kind(g: nx.Graph) -> nx.Graph:
    n = ids(g)
    g.add_edge(n["cloud-a"], n["chatbot"], kind="tokens")
    return g


def compute_to_app(g: nx.Graph) -> nx.Graph:
    n = ids(g)
    g.add_edge(n["west-aidc"], n["chatbot"], kind="compute")
    return g


def token_to_zone(g: nx.Graph) -> nx.Graph:
    n = ids(g)
    g.add_edge(n["cloud-a"], n["east"], kind="token")
    return g


def drop_agent(g: nx.Graph) -> nx.Graph:
    g.remove_node(ids(g)["firms"])
    return g


def extra_agent(g: nx.Graph) -> nx.Graph:
    g.add_node(999, kind="app", name="ghost-app")
    g.add_edge(ids(g)["cloud-a"], 999, kind="token")
    return g


def rename_line(g: nx.Graph) -> nx.Graph:
    g.edges[_line(g)]["name"] = "corridor"
    return g


def set_reactance(value) -> Callable[[nx.Graph], nx.Graph]:
    def mutate(g: nx.Graph) -> nx.Graph:
        g.edges[_line(g)]["reactance"] = value
        return g

    return mutate


def unchanged(g: nx.Graph) -> nx.Graph:
    return g


DEEP_ARRAY = "[" * 5000 + "]" * 5000
DEEP_TABLES = "x = " + "{a = " * 40 + "1" + "}" * 40
PARALLEL_EDGES = """<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
<key id="k" for="node" attr.name="kind" attr.type="string"/><key id="n" for="node" attr.name="name" attr.type="string"/>
<key id="e" for="edge" attr.name="kind" attr.type="string"/>
<graph edgedefault="undirected">
<node id="0"><data key="k">zone</data><data key="n">west</data></node>
<node id="1"><data key="k">zone</data><data key="n">east</data></node>
<edge source="0" target="1"><data key="e">grid</data></edge><edge source="0" target="1"><data key="e">grid</data></edge>
</graph></graphml>
"""
STRING_IDS = (
    PARALLEL_EDGES.replace('id="0"', 'id="w"')
    .replace('id="1"', 'id="e"')
    .replace('source="0" target="1"', 'source="w" target="e"')
)

ROWS: dict[str, Row] = {
    # --- flags of `tokenomy run`
    "days-zero": Row(run("classroom", "--days", "0"), "at least 1"),
    "days-negative": Row(run("classroom", "--days", "-5"), "at least 1"),
    "days-astronomic": Row(run("classroom", "--days", "99999999999"), "at most 20,000"),
    "days-just-over-cap": Row(run("classroom", "--days", "20001"), "at most 20,000"),
    "days-word": Row(run("classroom", "--days", "abc"), "whole number"),
    "days-fraction": Row(run("classroom", "--days", "1.5"), "whole number"),
    "days-empty": Row(run("classroom", "--days", ""), "whole number"),
    "seed-negative": Row(run("classroom", "--seed", "-1"), "at least 0"),
    "seed-huge": Row(run("classroom", "--seed", str(2**40)), "at most"),
    "seed-word": Row(run("classroom", "--seed", "x"), "whole number"),
    "format-xls": Row(run("classroom", "--format", "xls"), "invalid choice"),
    "format-typo": Row(run("classroom", "--format", "parket"), "did you mean 'parquet'"),
    "out-empty": Row(["run", "classroom", "--out", ""], "empty path"),
    "out-blank": Row(["run", "classroom", "--out", "   "], "empty path"),
    "out-below-a-file": Row(
        ["run", "classroom", "--days", "1", "--out", "{tmp}/f/sub"], "cannot write", {"f": "a file, not a folder"}
    ),
    "unknown-flag": Row(run("classroom", "--dayz", "3"), "unrecognized arguments"),
    "no-scenario": Row(["run"], "required"),
    "empty-scenario-name": Row(run(""), "no scenario given"),
    "misspelt-scenario": Row(run("clasroom"), "did you mean 'classroom'"),
    "missing-file": Row(run("{tmp}/nope.toml"), "no such"),
    "dev-zero": Row(run("/dev/zero"), "not a regular file"),
    "folder-as-scenario": Row(run("{tmp}/d"), "is a folder", {"d/x.toml": MINIMAL}),
    "binary-file": Row(run("{tmp}/s.toml"), "not a text file", {"s.toml": b"\xff\xfe\x00\x81garbage"}),
    "huge-file": Row(run("{tmp}/s.toml"), "larger than 1 MB", {"s.toml": MINIMAL + "# pad\n" * 200_000}),
    "graph-empty-path": Row(run("classroom", "--graph", ""), "empty path"),
    "graph-missing": Row(run("classroom", "--graph", "{tmp}/none.graphml"), "no such graph file"),
    "ok-one-day": Row(run("classroom", "--days", "1"), OK),
    "ok-seed-zero-csv": Row(run("classroom", "--days", "1", "--seed", "0", "--format", "csv"), OK),
    # --- --seeds: an ensemble
    "seeds-empty": Row(run("classroom", "--seeds", ""), "got nothing"),
    "seeds-blank": Row(run("classroom", "--seeds", "  "), "got nothing"),
    "seeds-word": Row(run("classroom", "--seeds", "abc"), "not a seed or a range of seeds"),
    "seeds-open-range": Row(run("classroom", "--seeds", "1-"), "not a seed or a range of seeds"),
    "seeds-double-dash": Row(run("classroom", "--seeds", "1--3"), "not a seed or a range of seeds"),
    "seeds-empty-item": Row(run("classroom", "--seeds", "1,,2"), "not a seed or a range of seeds"),
    "seeds-trailing-comma": Row(run("classroom", "--seeds", "1,2,"), "not a seed or a range of seeds"),
    "seeds-fraction": Row(run("classroom", "--seeds", "1.5"), "not a seed or a range of seeds"),
    "seeds-negative": Row(run("classroom", "--seeds", "-1"), "not a seed or a range of seeds"),
    "seeds-reversed": Row(run("classroom", "--seeds", "5-1"), "runs backwards: write 1-5"),
    "seeds-too-many": Row(run("classroom", "--seeds", "1-1001"), "at most 1,000 seeds, got 1,001"),
    "seeds-too-many-lists": Row(run("classroom", "--seeds", "0-600,1000-1599"), "at most 1,000 seeds"),
    "seeds-every-seed": Row(run("classroom", "--seeds", "0-4294967295"), "at most 1,000 seeds"),
    "seeds-just-over-max": Row(run("classroom", "--seeds", "4294967296"), "out of range"),
    "seeds-range-past-max": Row(run("classroom", "--seeds", "4294967290-4294967299"), "out of range"),
    "seeds-5000-digits": Row(run("classroom", "--seeds", "9" * 5000), "out of range"),
    "seeds-long-list": Row(run("classroom", "--seeds", "1," * 6000 + "1"), "at most 10,000 characters"),
    "seeds-duplicate": Row(run("classroom", "--seeds", "1,2,1"), "seed 1 is named twice"),
    "seeds-overlap": Row(run("classroom", "--seeds", "1-5,3-8"), "seed 3 is named twice"),
    "seeds-with-seed": Row(run("classroom", "--seed", "1", "--seeds", "1-2"), "not allowed with argument --seed"),
    "seeds-workers-zero": Row(run("classroom", "--seeds", "1-2", "--workers", "0"), "at least 1"),
    "seeds-workers-nine": Row(run("classroom", "--seeds", "1-2", "--workers", "9"), "at most 8"),
    "workers-without-seeds": Row(run("classroom", "--days", "1", "--workers", "2"), "give --seeds too"),
    "seeds-too-much-work": Row(run("classroom", "--seeds", "1-1000", "--days", "20000"), "seed-days"),
    "seeds-unknown-key": Row(
        run("classroom", "--seeds", "1-2", "--set", "apps.chatbot.userz=3"), "did you mean 'apps.chatbot.users'"
    ),
    "seeds-misspelt-scenario": Row(run("clasroom", "--seeds", "1-2"), "did you mean 'classroom'"),
    "ok-seeds-two": Row(run("classroom", "--days", "1", "--seeds", "1,3"), OK),
    "ok-seeds-one": Row(run("classroom", "--days", "1", "--seeds", "7"), OK),
    "ok-seeds-csv-at-max": Row(
        run("classroom", "--days", "1", "--seeds", "4294967294-4294967295", "--format", "csv"), OK
    ),
    # --- --set: syntax
    "set-no-equals": Row(sset("markets.token_inertia"), "expected path.to.key=value"),
    "set-no-key": Row(sset("=5"), "not a dotted key"),
    "set-empty-part": Row(sset("markets..token_inertia=0.5"), "not a dotted key"),
    "set-unknown-section": Row(sset("marketz.token_inertia=0.5"), "did you mean 'markets'"),
    "set-unknown-key": Row(sset("apps.chatbot.userz=3"), "did you mean 'apps.chatbot.users'"),
    "set-unknown-entry": Row(sset("apps.chatbto.users=3"), "no entry named 'chatbto'"),
    "set-star-without-key": Row(sset("apps.*=3"), "needs a key after it"),
    "set-list-itself": Row(sset("apps=3"), "is a table"),
    "set-table-itself": Row(sset("markets=3"), "is a table"),
    "set-entry-itself": Row(sset("apps.chatbot=3"), "is a table"),
    "set-too-long": Row(sset("markets.token_inertia=" + "1" * 20_000), "longer than"),
    "set-deep-array": Row(sset("markets.token_inertia=" + "[" * 2000 + "]" * 2000), "nest deeper"),
    "set-deep-tables": Row(sset("markets.token_inertia=" + "{a = " * 40 + "1" + "}" * 40), "nest deeper"),
    "set-sub-key-of-value": Row(sset("markets.token_inertia.x=1"), "takes a value, not sub-keys"),
    "set-sub-key-of-entry-value": Row(sset("apps.chatbot.users.x=1"), "takes a value, not sub-keys"),
    # --- --set: values
    "set-inertia-above-one": Row(sset("markets.token_inertia=2"), "out of range"),
    "set-nan": Row(sset("markets.token_inertia=nan"), "finite"),
    "set-inf": Row(sset("markets.token_inertia=inf"), "finite"),
    "set-minus-inf": Row(sset("markets.token_inertia=-inf"), "finite"),
    "set-word-for-number": Row(sset("markets.token_inertia=abc"), "must be a number"),
    "set-bool-for-number": Row(sset("markets.token_inertia=true"), "must be a number"),
    "set-list-for-number": Row(sset("markets.token_inertia=[1, 2]"), "must be a number"),
    "set-table-for-number": Row(sset("markets.token_inertia={a = 1}"), "must be a number"),
    "set-users-1e308": Row(sset("apps.*.users=1e308"), "out of range"),
    "set-users-negative": Row(sset("apps.*.users=-1"), "out of range"),
    "set-background-1e300": Row(sset("zones.west.background_load_mw=1e300"), "out of range"),
    "set-background-negative": Row(sset("zones.*.background_load_mw=-1"), "out of range"),
    "set-region-north": Row(sset("zones.west.region=north"), "not one of"),
    "set-gpus-negative": Row(sset("aidcs.west-aidc.gpus=-5"), "out of range"),
    "set-gpus-1e9": Row(sset("aidcs.west-aidc.gpus=1e9"), "out of range"),
    "set-pue-below-one": Row(sset("aidcs.*.pue=0.5"), "out of range"),
    "set-strategy-typo": Row(sset("aidcs.west-aidc.strategy=adaptiv"), "did you mean 'adaptive'"),
    "set-outage-days-fraction": Row(sset("aidcs.west-aidc.outage_days=1.5"), "whole number"),
    "set-bad-date": Row(sset("scenario.start_date=2025-13-01"), "must be a date"),
    "set-word-date": Row(sset("scenario.start_date=soon"), "must be a date"),
    "set-days-zero": Row(sset("scenario.days=0"), "out of range"),
    "set-seed-negative": Row(sset("scenario.seed=-1"), "out of range"),
    "set-topology-ring": Row(sset("scenario.topology=ring"), "not one of"),
    "set-floor-at-cap": Row(
        sset("markets.power_price_floor_cny_per_mwh=0", "markets.power_price_cap_cny_per_mwh=0"), "below the price cap"
    ),
    "set-line-to-nowhere": Row(sset("lines.west-east.from=nowhere"), "refers to unknown"),
    "set-line-to-itself": Row(sset("lines.west-east.to=west"), "to itself"),
    "set-provider-ghost-aidc": Row(sset('providers.cloud-a.aidcs=["ghost"]'), "refers to unknown"),
    "set-app-ghost-provider": Row(sset('apps.chatbot.providers=["nobody"]'), "refers to unknown"),
    "set-aidc-on-mars": Row(sset("aidcs.west-aidc.zone=mars"), "refers to unknown"),
    "set-providers-not-a-list": Row(sset("apps.chatbot.providers=cloud-a"), "list of names"),
    "set-line-limit-huge": Row(sset("lines.west-east.limit_mw=1e7"), "out of range"),
    "set-reactance-negative": Row(sset("lines.*.reactance=-1"), "out of range"),
    "set-deliveries-huge": Row(sset("compute.gpu_deliveries_per_month=1e14"), "out of range"),
    "set-cash-huge": Row(sset("apps.*.cash_cny=1e16"), "out of range"),
    "set-token-price-zero": Row(sset("providers.cloud-a.price_cny_per_mtok=0"), "out of range"),
    "set-profile-night": Row(sset("apps.chatbot.profile=night"), "not one of"),
    "set-adoption-above-one": Row(sset("enterprises.*.adoption=1.5"), "out of range"),
    "set-idle-above-busy": Row(sset("aidcs.west-aidc.idle_kw_per_gpu=20"), "an idle GPU draws no more"),
    "file-event-idle-above-busy": Row(
        run_file(),
        "an idle GPU draws no more",
        {"s.toml": variant('[[events]]\nday = 1\nset = "aidcs.*.busy_kw_per_gpu"\nvalue = 0.1')},
    ),
    "set-reactance-on-one-line": Row(
        [
            "run",
            "china-2024",
            "--days",
            "1",
            "--set",
            "lines.inner-mongolia--beijing-tianjin-hebei.reactance=2",
            "--out",
            OUT,
        ],
        "give every line a reactance",
    ),
    "file-event-reactance-on-one-line": Row(
        run_file(),
        "give every line a reactance",
        {
            "s.toml": variant(
                '[[events]]\nday = 5\nset = "lines.ningxia--yangtze-river-delta.reactance"\nvalue = 0.3'
            ).replace('"classroom"', '"china-2024"')
        },
    ),
    "ok-reactance-on-every-line": Row(
        ["run", "china-2024", "--days", "1", "--set", "lines.*.reactance=0.5", "--out", OUT], OK
    ),
    "set-capex-zero": Row(sset("technologies.solar.capex_cny_per_kw=0"), "out of range"),
    "set-unit-tech-typo": Row(sset("utilities.west-power.units.west-coal.tech=coals"), "did you mean 'coal'"),
    "set-int-huge": Row(sset("scenario.days=100000000000000000000000000"), "out of range"),
    "ok-users-at-max": Row(sset("apps.*.users=1e10", "apps.*.market_size_users=1e10"), OK),
    "ok-background-at-max": Row(sset("zones.*.background_load_mw=5e6"), OK),
    "ok-line-limit-zero": Row(sset("lines.west-east.limit_mw=0"), OK),
    "ok-no-gpus": Row(sset("aidcs.*.gpus=0"), OK),
    "ok-demand-at-max": Row(
        sset(
            "apps.*.requests_per_user_per_day=1e4",
            "apps.*.mtok_per_request=100",
            "apps.*.agent_multiplier=1000",
            "apps.*.agentic_share=1",
        ),
        OK,
    ),
    "ok-no-storage": Row(sset("storage.*.energy_mwh=0", "storage.*.power_mw=0"), OK),
    "ok-noise-at-max": Row(sset("markets.demand_noise=1", "markets.demand_noise_persistence=0.999"), OK),
    # settings at the edge of their range that once crashed a run (found by the property tests); the price-blind
    # runs are 30 days long: a provider's model launch on day 18 (seed 1) gave an appeal with no price equivalent
    "ok-price-blind-buyers": Row(run("classroom", "--days", "30", "--set", "markets.token_price_sensitivity=0"), OK),
    "ok-nearly-price-blind-buyers": Row(
        run("classroom", "--days", "30", "--set", "markets.token_price_sensitivity=1e-300"), OK
    ),
    "ok-ceiling-subnormal": Row(sset("enterprises.firms.ceiling=5e-324"), OK),
    "ok-market-size-subnormal": Row(sset("apps.*.market_size_users=5e-324"), OK),
    "ok-gpu-deliveries-subnormal": Row(sset("compute.gpu_deliveries_per_month=5e-324"), OK),
    "set-battery-capex-zero": Row(sset("storage.*.capex_cny_per_kwh=0"), "out of range"),
    "set-battery-capex-subnormal": Row(sset("storage.*.capex_cny_per_kwh=5e-324"), "out of range"),
    "ok-battery-energy-subnormal": Row(run("classroom", "--days", "220", "--set", "storage.*.energy_mwh=5e-324"), OK),
    "ok-long-horizon": Row(run("classroom", "--days", "1420"), OK),  # day 1414 needs ~130 storage repairs
    "ok-battery-capex-at-min": Row(run("classroom", "--days", "120", "--set", "storage.*.capex_cny_per_kwh=1"), OK),
    # --- scenario files
    "ok-without-lines": Row(run_file(), OK, {"s.toml": MINIMAL}),
    "ok-datetime-start": Row(run_file(), OK, {"s.toml": variant("start_date = 2025-03-01T08:00:00")}),
    "file-name-escapes-out": Row(
        ["run", "{tmp}/s.toml", "--days", "1"], "is not allowed: a name is", {"s.toml": variant("", "../../escape")}
    ),
    "file-name-with-nul": Row(run_file(), "is not allowed: a name is", {"s.toml": variant("", "a\\u0000b")}),
    "file-name-empty": Row(run_file(), "is not allowed: a name is", {"s.toml": variant("", "")}),
    "file-entry-name-with-dot": Row(
        run_file(),
        "is not allowed: a name is",
        {"s.toml": variant('[[apps]]\nname = "chat.bot"\nproviders = ["cloud-a"]')},
    ),
    "file-entry-name-star": Row(run_file(), "is not allowed: a name is", {"s.toml": variant('[[labs]]\nname = "*"')}),
    "set-star-on-no-entries": Row(run_file("--set", "apps.*.users=5"), "matches no entry", {"s.toml": MINIMAL}),
    "file-event-star-on-no-entries": Row(
        run_file(),
        "the scenario has no 'apps'",
        {"s.toml": MINIMAL + ('[[events]]\nday = 1\nset = "apps.*.users"\nvalue = 5')},
    ),
    "file-unknown-top-key": Row(run_file(), "unknown key 'market'", {"s.toml": variant("[market]\nx = 1")}),
    "file-no-name": Row(
        run_file(), "missing required key 'scenario.name'", {"s.toml": MINIMAL.replace('name = "bare"\n', "")}
    ),
    "file-no-start-date": Row(
        run_file(),
        "missing required key 'scenario.start_date'",
        {"s.toml": MINIMAL.replace("start_date = 2025-01-01\n", "")},
    ),
    "file-start-date-word": Row(run_file(), "must be a date", {"s.toml": MINIMAL.replace("2025-01-01", '"yesterday"')}),
    "file-no-zones": Row(run_file(), "needs at least 1", {"s.toml": MINIMAL.split("[[zones]]")[0]}),
    "file-zones-a-number": Row(
        run_file(), "must be an array of tables", {"s.toml": "zones = 5\n" + MINIMAL.split("[[zones]]")[0]}
    ),
    "file-zones-of-words": Row(
        run_file(), "must be a table", {"s.toml": 'zones = ["west", "east"]\n' + MINIMAL.split("[[zones]]")[0]}
    ),
    "file-zone-without-name": Row(run_file(), "missing required key", {"s.toml": MINIMAL + "[[zones]]\nhub = true\n"}),
    "file-duplicate-zone": Row(run_file(), "duplicate name 'east'", {"s.toml": MINIMAL + '[[zones]]\nname = "east"\n'}),
    "file-name-shared": Row(run_file(), "used by both", {"s.toml": variant('[[providers]]\nname = "west-aidc"')}),
    "file-base-cycle": Row(
        run_file(),
        "cycle",
        {
            "s.toml": variant("", "a").replace('"classroom"', '"b.toml"'),
            "b.toml": variant("", "b").replace('"classroom"', '"s.toml"'),
        },
    ),
    "file-base-itself": Row(run_file(), "cycle", {"s.toml": variant("").replace('"classroom"', '"s.toml"')}),
    "file-base-unknown": Row(
        run_file(), "did you mean 'classroom'", {"s.toml": variant("").replace('"classroom"', '"clasroom"')}
    ),
    "file-base-number": Row(run_file(), "must be a scenario name", {"s.toml": variant("").replace('"classroom"', "5")}),
    "file-event-unknown-key": Row(
        run_file(),
        "event sets unknown key",
        {"s.toml": variant('[[events]]\nday = 1\nset = "apps.chatbot.userz"\nvalue = 1')},
    ),
    "file-event-decided": Row(
        run_file(),
        "the agents decide",
        {"s.toml": variant('[[events]]\nday = 1\nset = "providers.cloud-a.price_cny_per_mtok"\nvalue = 5')},
    ),
    "file-event-out-of-range": Row(
        run_file(), "out of range", {"s.toml": variant('[[events]]\nday = 1\nset = "markets.token_inertia"\nvalue = 5')}
    ),
    "file-event-day-negative": Row(
        run_file(),
        "out of range",
        {"s.toml": variant('[[events]]\nday = -1\nset = "markets.token_inertia"\nvalue = 0.5')},
    ),
    "file-event-day-huge": Row(
        run_file(),
        "out of range",
        {"s.toml": variant('[[events]]\nday = 1000000\nset = "markets.token_inertia"\nvalue = 0.5')},
    ),
    "file-event-no-value": Row(
        run_file(), "missing required key", {"s.toml": variant('[[events]]\nday = 1\nset = "markets.token_inertia"')}
    ),
    "file-event-word-setting": Row(
        run_file(),
        "not a number setting",
        {"s.toml": variant('[[events]]\nday = 1\nset = "apps.chatbot.profile"\nvalue = 1')},
    ),
    "file-event-ghost-entry": Row(
        run_file(),
        "no entry named 'ghost'",
        {"s.toml": variant('[[events]]\nday = 1\nset = "apps.ghost.users"\nvalue = 1')},
    ),
    "file-event-nan": Row(
        run_file(), "finite", {"s.toml": variant('[[events]]\nday = 1\nset = "apps.chatbot.users"\nvalue = nan')}
    ),
    "file-event-fraction-for-int": Row(
        run_file(),
        "not a whole number",
        {"s.toml": variant('[[events]]\nday = 1\nset = "aidcs.west-aidc.outage_days"\nvalue = 2.5')},
    ),
    "file-too-many-events": Row(
        run_file(),
        "at most 10000",
        {"s.toml": variant('[[events]]\nday = 1\nset = "markets.token_inertia"\nvalue = 0.5\n' * 10001)},
    ),
    "file-check-bad-agg": Row(
        run_file(),
        "not one of",
        {"s.toml": variant('[[expected.checks]]\nname = "c"\nmetric = "gpus_online"\ndays = [0, 1]\nagg = "median"')},
    ),
    "file-check-three-days": Row(
        run_file(),
        "must have 2 values",
        {"s.toml": variant('[[expected.checks]]\nname = "c"\nmetric = "gpus_online"\ndays = [0, 1, 2]')},
    ),
    "file-check-word-day": Row(
        run_file(),
        "must be a number",
        {"s.toml": variant('[[expected.checks]]\nname = "c"\nmetric = "gpus_online"\ndays = [0, "x"]')},
    ),
    "file-check-unknown-metric": Row(
        ["check", "{tmp}/s.toml", "--seeds", "1"],
        "unknown metric",
        {"s.toml": variant('[[expected.checks]]\nname = "c"\nmetric = "gpus_onlin"\ndays = [0, 1]')},
    ),
    "file-check-window-past-cap": Row(
        run_file(),
        "out of range",
        {"s.toml": variant('[[expected.checks]]\nname = "c"\nmetric = "gpus_online"\ndays = [0, 30000]')},
    ),
    "file-expected-days-negative": Row(run_file(), "out of range", {"s.toml": variant("[expected]\ndays = -1")}),
    "file-malformed": Row(run_file(), "malformed TOML", {"s.toml": "[scenario\nname = 'x'\n"}),
    "file-deep-array": Row(run_file(), "nest deeper", {"s.toml": MINIMAL + "x = " + DEEP_ARRAY + "\n"}),
    "file-deep-tables": Row(run_file(), "nest deeper", {"s.toml": MINIMAL + DEEP_TABLES + "\n"}),
    "file-empty": Row(run_file(), "missing required key 'scenario.name'", {"s.toml": ""}),
    "file-topology-mismatch": Row(
        run_file(), "topology 'classroom' needs zones", {"s.toml": MINIMAL + '[[zones]]\nname = "north"\n'}
    ),
    "file-line-limit-negative": Row(
        run_file(),
        "out of range",
        {"s.toml": variant('[[lines]]\nname = "west-east"\nfrom = "west"\nto = "east"\nlimit_mw = -1')},
    ),
    "file-lines-a-table": Row(run_file(), "must be an array of tables", {"s.toml": MINIMAL + "[lines]\nname = 'x'\n"}),
    "file-too-many-zones": Row(
        run_file(),
        "at most 100 are allowed",
        {"s.toml": MINIMAL + "".join(f'[[zones]]\nname = "z{i}"\n' for i in range(101))},
    ),
    "file-too-many-apps": Row(
        run_file(),
        "'apps' has 1001 entries; at most 1000 are allowed",
        {"s.toml": MINIMAL + "".join(f'[[apps]]\nname = "a{i}"\n' for i in range(1001))},
    ),
    "file-too-many-storage": Row(
        run_file(),
        "'storage' has 1001 entries; at most 1000 are allowed",
        {"s.toml": MINIMAL + "".join(f'[[storage]]\nname = "s{i}"\nzone = "west"\n' for i in range(1001))},
    ),
    "file-float-overflow": Row(run_file(), "finite", {"s.toml": variant('[[apps]]\nname = "chatbot"\nusers = 1e400')}),
    "file-gpus-a-word": Row(
        run_file(), "must be a number", {"s.toml": variant('[[aidcs]]\nname = "west-aidc"\ngpus = "1000"')}
    ),
    "file-hub-a-word": Row(run_file(), "true or false", {"s.toml": variant('[[zones]]\nname = "west"\nhub = "yes"')}),
    "file-aidcs-a-word": Row(
        run_file(), "list of names", {"s.toml": variant('[[providers]]\nname = "cloud-a"\naidcs = "west-aidc"')}
    ),
    "file-providers-numbers": Row(
        run_file(), "list of names", {"s.toml": variant('[[apps]]\nname = "chatbot"\nproviders = [1, 2]')}
    ),
    "file-capacity-factor-two": Row(
        run_file(), "out of range", {"s.toml": variant("[technologies.solar]\ncapacity_factor = 2.0")}
    ),
    "file-unknown-technology": Row(
        run_file(),
        "did you mean 'technologies.nuclear'",
        {"s.toml": variant("[technologies.nuclearr]\ncapex_cny_per_kw = 1.0")},
    ),
    "file-horizon-over-cap": Row(run_file(), "out of range", {"s.toml": variant("days = 20001")}),
    "file-soc-above-one": Row(
        run_file(), "out of range", {"s.toml": variant('[[storage]]\nname = "east-battery"\ninitial_soc = 1.5')}
    ),
    "file-int-too-big": Row(run_file(), "out of range", {"s.toml": variant("seed = 99999999999999999999")}),
    "file-markets-a-number": Row(run_file(), "'markets' must be a table", {"s.toml": "markets = 5\n" + MINIMAL}),
    # --- GraphML supply graphs (--graph)
    "ok-graph": Row(graph_run(), OK, {"g.graphml": unchanged}),
    "ok-graph-with-line-set": Row(graph_run("--set", "lines.west-east.limit_mw=0"), OK, {"g.graphml": unchanged}),
    "graph-line-without-limit": Row(graph_run(), "no 'limit_mw'", {"g.graphml": drop_limit}),
    "graph-limit-nan": Row(graph_run(), "out of range", {"g.graphml": set_limit(float("nan"))}),
    "graph-limit-inf": Row(graph_run(), "out of range", {"g.graphml": set_limit(float("inf"))}),
    "graph-limit-negative": Row(graph_run(), "out of range", {"g.graphml": set_limit(-5.0)}),
    "graph-limit-a-word": Row(graph_run(), "must be a number", {"g.graphml": set_limit("wide")}),
    "graph-reactance-negative": Row(graph_run(), "out of range", {"g.graphml": set_reactance(-0.1)}),
    "graph-aidc-off-grid": Row(graph_run(), "exactly one grid edge", {"g.graphml": cut_aidc_from_grid}),
    "graph-aidc-in-two-zones": Row(graph_run(), "exactly one grid edge", {"g.graphml": aidc_in_two_zones}),
    "graph-line-zone-to-app": Row(graph_run(), "joins a zone to a app", {"g.graphml": line_zone_to_app}),
    "graph-line-to-itself": Row(graph_run(), "joins a node to itself", {"g.graphml": self_line}),
    "graph-duplicate-names": Row(graph_run(), "both named 'cloud-a'", {"g.graphml": duplicate_name}),
    "graph-node-without-kind": Row(graph_run(), "lacks the 'kind'", {"g.graphml": drop_kind}),
    "graph-node-kind-typo": Row(graph_run(), "did you mean 'aidc'", {"g.graphml": node_kind("aidcc")}),
    "graph-edge-kind-typo": Row(graph_run(), "did you mean 'token'", {"g.graphml": edge_kind}),
    "graph-compute-to-app": Row(graph_run(), "joins a aidc to a app", {"g.graphml": compute_to_app}),
    "graph-token-to-zone": Row(graph_run(), "token edge", {"g.graphml": token_to_zone}),
    "graph-missing-agent": Row(graph_run(), "disagree on enterprises", {"g.graphml": drop_agent}),
    "graph-extra-agent": Row(graph_run(), "disagree on apps", {"g.graphml": extra_agent}),
    "graph-not-xml": Row(graph_run(), "not a readable GraphML", {"g.graphml": "<graphml><not closed"}),
    "graph-empty-file": Row(graph_run(), "not a readable GraphML", {"g.graphml": ""}),
    "graph-dev-zero": Row(["run", "classroom", "--graph", "/dev/zero", "--out", OUT], "not a regular file"),
    "graph-string-ids": Row(graph_run(), "not a readable GraphML", {"g.graphml": STRING_IDS}),
    "graph-parallel-edges": Row(graph_run(), "two edges join", {"g.graphml": PARALLEL_EDGES}),
    "graph-a-folder": Row(["run", "classroom", "--graph", "{tmp}", "--out", OUT], "is a folder, not a graph file"),
    "graph-set-line-it-lacks": Row(
        graph_run("--set", "lines.west-east.limit_mw=5"), "no line named 'west-east'", {"g.graphml": rename_line}
    ),
    "graph-set-aidc-zone": Row(
        graph_run("--set", "aidcs.west-aidc.zone=east"), "the graph decides 'zone'", {"g.graphml": unchanged}
    ),
    "graph-set-app-providers": Row(
        graph_run("--set", 'apps.chatbot.providers=["cloud-a"]'),
        "the graph decides 'providers'",
        {"g.graphml": unchanged},
    ),
    # --- sweep files
    "sweep-unknown-key": Row(sweep_run(), "did you mean 'sweep.seeds'", {"w.toml": sweep_file("seedz = 2")}),
    "sweep-no-scenario": Row(sweep_run(), "missing required key 'sweep.scenario'", {"w.toml": "[sweep]\ndays = 1\n"}),
    "sweep-unknown-scenario": Row(sweep_run(), "unknown scenario", {"w.toml": sweep_file("", "clasrom")}),
    "sweep-steps-100000": Row(
        sweep_run(),
        "out of range",
        {"w.toml": sweep_file('[[parameters]]\nkey = "markets.token_inertia"\nmin = 0.1\nmax = 0.9\nsteps = 100000')},
    ),
    "sweep-samples-1e7": Row(
        sweep_run(),
        "out of range",
        {
            "w.toml": sweep_file(
                'design = "latin"\nsamples = 10000000\n'
                '[[parameters]]\nkey = "markets.token_inertia"\nmin = 0.1\nmax = 0.9'
            )
        },
    ),
    "sweep-seeds-zero": Row(sweep_run(), "out of range", {"w.toml": sweep_file("seeds = 0")}),
    "sweep-days-zero": Row(sweep_run(), "out of range", {"w.toml": sweep_file("").replace("days = 1", "days = 0")}),
    "sweep-days-over-cap": Row(
        sweep_run(), "out of range", {"w.toml": sweep_file("").replace("days = 1", "days = 30000")}
    ),
    "sweep-design-typo": Row(sweep_run(), "did you mean 'grid'", {"w.toml": sweep_file('design = "grd"')}),
    "sweep-empty-values": Row(
        sweep_run(),
        "non-empty list",
        {"w.toml": sweep_file('[[parameters]]\nkey = "markets.token_inertia"\nvalues = []')},
    ),
    "sweep-repeated-value": Row(
        sweep_run(),
        "lists a value twice",
        {"w.toml": sweep_file('[[parameters]]\nkey = "markets.token_inertia"\nvalues = [0.5, 0.5]')},
    ),
    "sweep-value-out-of-range": Row(
        sweep_run(),
        "out of range",
        {"w.toml": sweep_file('[[parameters]]\nkey = "apps.chatbot.users"\nvalues = [2.0, -1.0]')},
    ),
    "sweep-min-above-max": Row(
        sweep_run(),
        "must be below max",
        {"w.toml": sweep_file('[[parameters]]\nkey = "markets.token_inertia"\nmin = 0.9\nmax = 0.1\nsteps = 3')},
    ),
    "sweep-log-from-zero": Row(
        sweep_run(),
        "needs min > 0",
        {
            "w.toml": sweep_file(
                '[[parameters]]\nkey = "markets.token_inertia"\nmin = 0.0\nmax = 0.9\nsteps = 3\nlog = true'
            )
        },
    ),
    "sweep-unknown-parameter": Row(
        sweep_run(),
        "unknown key",
        {"w.toml": sweep_file('[[parameters]]\nkey = "markets.token_inertai"\nvalues = [0.1, 0.2]')},
    ),
    "sweep-parameter-a-table": Row(
        sweep_run(), "is a table", {"w.toml": sweep_file('[[parameters]]\nkey = "apps.chatbot"\nvalues = [0.1, 0.2]')}
    ),
    "sweep-sobol-not-power-of-two": Row(
        sweep_run(),
        "power of 2",
        {
            "w.toml": sweep_file(
                'design = "sobol"\nsamples = 3\n[[parameters]]\nkey = "markets.token_inertia"\nmin = 0.1\nmax = 0.9\n'
                '[[parameters]]\nkey = "markets.demand_noise"\nmin = 0.0\nmax = 0.1'
            )
        },
    ),
    "sweep-morris-one-parameter": Row(
        sweep_run(),
        "at least two parameters",
        {
            "w.toml": sweep_file(
                'design = "morris"\n[[parameters]]\nkey = "markets.token_inertia"\nmin = 0.1\nmax = 0.9'
            )
        },
    ),
    "sweep-latin-no-parameters": Row(sweep_run(), "at least one entry", {"w.toml": sweep_file('design = "latin"')}),
    "sweep-grid-range-no-steps": Row(
        sweep_run(),
        "a grid needs values",
        {"w.toml": sweep_file('[[parameters]]\nkey = "markets.token_inertia"\nmin = 0.1\nmax = 0.9')},
    ),
    "sweep-latin-values": Row(
        sweep_run(),
        "only works with design",
        {"w.toml": sweep_file('design = "latin"\n[[parameters]]\nkey = "markets.token_inertia"\nvalues = [0.1, 0.2]')},
    ),
    "sweep-table-typo": Row(sweep_run(), "did you mean 'hourly'", {"w.toml": sweep_file('tables = ["hourlyy"]')}),
    "sweep-fixed-set-out-of-range": Row(
        sweep_run(), "out of range", {"w.toml": sweep_file('set = ["markets.token_inertia=5"]')}
    ),
    "sweep-a-million-runs": Row(
        sweep_run(),
        "at most 100,000",
        {
            "w.toml": sweep_file(
                "".join(
                    f'[[parameters]]\nkey = "{k}"\nmin = 0.1\nmax = 0.9\nsteps = 100\n'
                    for k in ("markets.token_inertia", "markets.demand_noise", "markets.demand_noise_persistence")
                )
            )
        },
    ),
    "sweep-too-many-seeds": Row(
        sweep_run(),
        "at most 100,000",
        {"w.toml": sweep_file('seeds = 100000\n[[parameters]]\nkey = "markets.token_inertia"\nvalues = [0.1, 0.2]')},
    ),
    "sweep-dev-zero": Row(["sweep", "/dev/zero", "--out", OUT], "not a regular file"),
    "sweep-scenario-dev-zero": Row(sweep_run(), "not a regular file", {"w.toml": sweep_file("", "/dev/zero")}),
    "sweep-folder": Row(["sweep", "{tmp}", "--out", OUT], "folder"),
    "sweep-deep-nesting": Row(sweep_run(), "nest deeper", {"w.toml": sweep_file("x = " + DEEP_ARRAY)}),
    "sweep-workers-negative": Row(sweep_run("--workers", "-1"), "at least 0", {"w.toml": sweep_file("")}),
    "sweep-workers-huge": Row(sweep_run("--workers", "5000"), "at most", {"w.toml": sweep_file("")}),
    "sweep-out-empty": Row(["sweep", "{tmp}/w.toml", "--out", ""], "empty path", {"w.toml": sweep_file("")}),
    "sweep-malformed": Row(sweep_run(), "malformed TOML", {"w.toml": "[sweep\n"}),
    "sweep-parameter-without-key": Row(
        sweep_run(), "missing required key", {"w.toml": sweep_file("[[parameters]]\nvalues = [1, 2]")}
    ),
    "sweep-samples-on-grid": Row(sweep_run(), "only works with latin", {"w.toml": sweep_file("samples = 4")}),
    "sweep-word-choice": Row(
        sweep_run(),
        "not one of",
        {"w.toml": sweep_file('[[parameters]]\nkey = "apps.chatbot.profile"\nvalues = ["evening", "night"]')},
    ),
    "sweep-parameters-a-table": Row(
        sweep_run(), "must be an array of tables", {"w.toml": sweep_file("[parameters]\nkey = 'x'")}
    ),
    "sweep-steps-one": Row(
        sweep_run(),
        "out of range",
        {"w.toml": sweep_file('[[parameters]]\nkey = "markets.token_inertia"\nmin = 0.1\nmax = 0.9\nsteps = 1')},
    ),
    "sweep-first-seed-negative": Row(sweep_run(), "out of range", {"w.toml": sweep_file("first_seed = -1")}),
    "ok-sweep-two-points": Row(
        sweep_run(), OK, {"w.toml": sweep_file('[[parameters]]\nkey = "markets.token_inertia"\nvalues = [0.5, 0.9]')}
    ),
    # --- lessons
    "cobweb-nan-intercept": Row(["lesson", "cobweb", "--demand-intercept", "nan"], "finite"),
    "cobweb-negative-p0": Row(["lesson", "cobweb", "--p0=-1e6"], "must be > 0"),
    "cobweb-zero-p0": Row(["lesson", "cobweb", "--p0", "0"], "must be > 0"),
    "cobweb-inf-p0": Row(["lesson", "cobweb", "--p0", "inf"], "finite"),
    "cobweb-zero-slope": Row(["lesson", "cobweb", "--demand-slope", "0"], "must be > 0"),
    "cobweb-negative-slope": Row(["lesson", "cobweb", "--supply-slope=-1"], "must be > 0"),
    "cobweb-denormal-slope": Row(["lesson", "cobweb", "--demand-slope", "1e-320"], "must be at least 0.001"),
    "cobweb-huge-slope": Row(["lesson", "cobweb", "--supply-slope", "1e9"], "must be at most 1000"),
    "cobweb-huge-intercept": Row(["lesson", "cobweb", "--demand-intercept", "1e300"], "must be at most 1e+06"),
    "cobweb-zero-periods": Row(["lesson", "cobweb", "--periods", "0"], "at least 1"),
    "cobweb-many-periods": Row(["lesson", "cobweb", "--periods", "100000"], "at most 1,000"),
    "cobweb-no-equilibrium": Row(
        ["lesson", "cobweb", "--demand-intercept", "5", "--supply-intercept", "10"], "must exceed supply intercept"
    ),
    "cobweb-word": Row(["lesson", "cobweb", "--p0", "cheap"], "expected a number"),
    "ok-cobweb": Row(["lesson", "cobweb"], OK),
    "ok-cobweb-exploding": Row(["lesson", "cobweb", "--supply-slope", "1.5", "--periods", "60"], OK),
    "call-market-1e308": Row(["lesson", "call-market", "--values=1e308,1e308"], "finite and in [0, 1e+06]"),
    "call-market-nan": Row(["lesson", "call-market", "--values=nan"], "finite"),
    "call-market-negative": Row(["lesson", "call-market", "--costs=-5,2"], "in [0"),
    "call-market-word": Row(["lesson", "call-market", "--values=abc"], "comma-separated numbers"),
    "call-market-only-commas": Row(["lesson", "call-market", "--values=,,"], "at least one number"),
    "call-market-too-many": Row(["lesson", "call-market", "--values=" + ",".join(["1"] * 1001)], "at most 1000"),
    "ok-call-market": Row(["lesson", "call-market"], OK),
    "ok-call-market-at-max": Row(["lesson", "call-market", "--values=1e6,1e6", "--costs=0,0"], OK),
    "ok-call-market-no-trade": Row(["lesson", "call-market", "--values=1", "--costs=5"], OK),
    "auction-many-traders": Row(["lesson", "double-auction", "--traders", "100000"], "at most 200"),
    "auction-no-traders": Row(["lesson", "double-auction", "--traders", "0"], "at least 1"),
    "auction-many-units": Row(["lesson", "double-auction", "--units", "1000"], "at most 50"),
    "auction-1e8-periods": Row(["lesson", "double-auction", "--periods", "100000000"], "at most 1,000"),
    "auction-million-shouts": Row(
        ["lesson", "double-auction", "--periods", "1000", "--shouts", "1000000"], "at most 100,000"
    ),
    "auction-too-much-work": Row(
        ["lesson", "double-auction", "--periods", "1000", "--shouts", "1000"], "at most 300,000"
    ),
    "auction-seed-negative": Row(["lesson", "double-auction", "--seed", "-1"], "at least 0"),
    "auction-seed-word": Row(["lesson", "double-auction", "--seed", "abc"], "whole number"),
    "ok-auction-small": Row(["lesson", "double-auction", "--periods", "2", "--shouts", "200"], OK),
    "ok-auction-no-trade": Row(["lesson", "double-auction", "--periods", "2", "--shouts", "1"], OK),
    "qlearning-alpha-zero": Row(["lesson", "algorithmic-pricing", "--alpha", "0"], "must be > 0"),
    "qlearning-alpha-above-one": Row(["lesson", "algorithmic-pricing", "--alpha", "1.5"], "must be at most 1"),
    "qlearning-alpha-nan": Row(["lesson", "algorithmic-pricing", "--alpha", "nan"], "finite"),
    "qlearning-delta-one": Row(["lesson", "algorithmic-pricing", "--delta", "1"], "must be at most 0.999"),
    "qlearning-delta-negative": Row(["lesson", "algorithmic-pricing", "--delta=-0.1"], "must be at least 0"),
    "qlearning-beta-zero": Row(["lesson", "algorithmic-pricing", "--beta", "0"], "must be at least 1e-07"),
    "qlearning-beta-inf": Row(["lesson", "algorithmic-pricing", "--beta", "inf"], "finite"),
    "qlearning-beta-huge": Row(["lesson", "algorithmic-pricing", "--beta", "5"], "must be at most 0.01"),
    "qlearning-beta-word": Row(["lesson", "algorithmic-pricing", "--beta", "fast"], "expected a number"),
    "qlearning-zero-periods": Row(["lesson", "algorithmic-pricing", "--periods", "0"], "at least 1"),
    "qlearning-1e9-periods": Row(["lesson", "algorithmic-pricing", "--periods", "1000000000"], "at most 20,000,000"),
    "qlearning-memory-two": Row(["lesson", "algorithmic-pricing", "--memory", "2"], "at most 1"),
    "qlearning-seed-negative": Row(["lesson", "algorithmic-pricing", "--seed", "-1"], "at least 0"),
    "qlearning-seed-huge": Row(["lesson", "algorithmic-pricing", "--seed", str(2**32)], "at most 4,294,967,295"),
    "ok-qlearning-capped": Row(["lesson", "algorithmic-pricing", "--periods", "2000"], OK),
    "ok-qlearning-memoryless-myopic": Row(
        ["lesson", "algorithmic-pricing", "--memory", "0", "--delta", "0", "--periods", "2000"], OK
    ),
    "lesson-typo": Row(["lesson", "cobweeb"], "did you mean 'cobweb'"),
    "lesson-typo-algorithmic": Row(["lesson", "algorithmic-prices"], "did you mean 'algorithmic-pricing'"),
    "ok-lesson-list": Row(["lesson", "list"], OK),
    "check-no-seeds": Row(["check", "classroom", "--seeds", "0"], "at least 1"),
    "check-many-seeds": Row(["check", "classroom", "--seeds", "1000"], "at most 100"),
    "check-typo": Row(["check", "clasroom"], "did you mean 'classroom'"),
    # --- other commands
    "viz-port-zero": Row(["viz", "--port", "0"], "between 1 and 65535"),
    "viz-port-huge": Row(["viz", "--port", "70000"], "between 1 and 65535"),
    "viz-port-word": Row(["viz", "--port", "http"], "invalid int value"),
    "viz-typo": Row(["viz", "clasroom"], "did you mean 'classroom'"),
    "compare-days-zero": Row(["compare", "classroom", "jevons", "--days", "0", "--out", OUT], "at least 1"),
    "compare-seeds-zero": Row(["compare", "classroom", "jevons", "--seeds", "0", "--out", OUT], "at least 1"),
    "compare-workers-negative": Row(["compare", "classroom", "jevons", "--workers", "-1", "--out", OUT], "at least 0"),
    "compare-out-empty": Row(["compare", "classroom", "jevons", "--out", ""], "empty path"),
    "compare-unknown-key": Row(["compare", "classroom", "jevons", "--set-a", "x=1", "--out", OUT], "unknown key 'x'"),
    "compare-typo": Row(["compare", "clasroom", "jevons", "--out", OUT], "did you mean 'classroom'"),
    "compare-set-on-a-folder": Row(
        ["compare", "{tmp}/d", "jevons", "--set-a", "markets.token_inertia=0.5", "--out", OUT],
        "only applies to a scenario",
        {"d/daily.csv": "day\n0\n"},
    ),
    "compare-dev-zero": Row(["compare", "classroom", "/dev/zero", "--out", OUT], "not a regular file"),
    "check-bad-set": Row(["check", "classroom", "--set", "markets.token_inertia=9"], "out of range"),
    "report-missing": Row(["report", "{tmp}/nothing"], "no such folder"),
    "no-command": Row([], "required"),
    "unknown-command": Row(["frobnicate"], "invalid choice"),
    "command-typo": Row(["sweeep", "x.toml"], "did you mean 'sweep'"),
}


@pytest.fixture(scope="module")
def classroom_graph() -> nx.Graph:
    return build_supply_graph(load_scenario("classroom").data)


def _materialise(row: Row, tmp: Path, graph: nx.Graph) -> list[str]:
    for name, content in row.files.items():
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            nx.write_graphml(content(graph.copy()), path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content.replace("{tmp}", str(tmp)))
    return [arg.replace("{tmp}", str(tmp)) for arg in row.argv]


def test_the_table_is_the_audit_and_more():
    assert len(ROWS) >= 189
    assert sum(row.expect == OK for row in ROWS.values()) >= 20


@pytest.mark.parametrize("name", list(ROWS))
def test_hostile_input(name, tmp_path, capsys, classroom_graph):
    row = ROWS[name]
    argv = _materialise(row, tmp_path, classroom_graph)
    result = cli(capsys, argv)
    out = tmp_path / "out"
    if row.expect == OK:
        assert result.code == 0, result.err[-3000:]
        assert "Traceback" not in result.err
        if argv[0] == "run" and "--seeds" in argv:
            assert_sane_ensemble(out)
        elif argv[0] == "run":
            assert_sane_run(out)
    else:
        assert_one_line_error(result, row.expect)
        assert not out.exists(), f"{out} was written although the input was refused"
