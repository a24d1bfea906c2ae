"""Property-based hostile input: Hypothesis generates extreme and malformed scenario values, ``--set``
overrides, scenario files, GraphML graphs, sweep files and lesson arguments, and every outcome must be
clean -- exit 0 with sane tables, or exit 2 with one line on stderr and nothing written.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from validation_support import all_finite, assert_one_line_error, assert_sane_run, cli, printed_numbers

from tokenomy.abm.batch.sweepfile import MAX_RUNS, design_points, load_sweep
from tokenomy.abm.model import TokenEconomy
from tokenomy.abm.scenarios import ScenarioError, load_scenario, shipped_scenarios
from tokenomy.abm.scenarios.schema import Field, ListOf, Table
from tokenomy.abm.scenarios.spec import ROOT
from tokenomy.networks import TopologyError, build_supply_graph

FAST = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CLASSROOM = load_scenario("classroom").data
# settings whose bounds depend on another setting (the floor below the cap, idle draw below busy draw)
COUPLED = {
    "markets.power_price_floor_cny_per_mwh",
    "markets.power_price_cap_cny_per_mwh",
    "aidcs.west-aidc.idle_kw_per_gpu",
    "aidcs.west-aidc.busy_kw_per_gpu",
    "classroom.rounds",  # rounds x days per round within the horizon
}


def _number_fields(spec: Table, data: dict, prefix: str = ""):
    """(dotted path, Field) of every number setting of the classroom scenario, list entries by name."""
    for key, sub in spec.fields.items():
        if isinstance(sub, Field):
            if sub.kind in ("float", "int") and sub.default is not None:
                yield prefix + key, sub
        elif isinstance(sub, Table):
            yield from _number_fields(sub, data.get(key, {}), f"{prefix}{key}.")
        elif isinstance(sub, ListOf) and sub.key == "name":
            for item in data.get(key, [])[:1]:
                yield from _number_fields(sub.item, item, f"{prefix}{key}.{item['name']}.")


FIELDS = [
    (p, f)
    for p, f in _number_fields(ROOT, CLASSROOM)
    if not p.startswith(("scenario.", "expected.")) and p not in COUPLED
]


def _in_range(f: Field) -> st.SearchStrategy:
    lo = -1e15 if f.min is None else f.min
    hi = 1e15 if f.max is None else f.max
    if f.kind == "int":
        return st.integers(int(math.ceil(lo)), int(math.floor(hi)))
    return st.one_of(st.sampled_from([lo, hi]), st.floats(lo, hi, allow_nan=False))


HOSTILE_NUMBERS = st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e308, -1e308, -1.0, 1e300, 0.5])


def _toml_number(value: float | int) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def _judge_run(result, out: Path) -> None:
    if result.code == 0:
        assert "Traceback" not in result.err
        assert_sane_run(out)
    else:
        assert_one_line_error(result)
        assert not out.exists()


@pytest.mark.slow
@FAST
@given(data=st.data())
def test_any_in_range_values_give_sane_tables(data, capsys):
    """Several settings at once, each anywhere in its allowed range (often at a bound): the run succeeds and
    its tables hold no NaN, infinity, negative price or negative quantity."""
    picks = data.draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=6, unique_by=lambda pf: pf[0]))
    overrides = [f"{path}={_toml_number(data.draw(_in_range(f)))}" for path, f in picks]
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["run", "classroom", "--days", "3", "--out", f"{tmp}/out"]
        for item in overrides:
            argv += ["--set", item]
        result = cli(capsys, argv)
        assert result.code == 0, (overrides, result.err)
        assert_sane_run(Path(tmp) / "out")


@FAST
@given(pick=st.sampled_from(FIELDS), value=HOSTILE_NUMBERS)
def test_hostile_values_are_refused_or_sane(pick, value, capsys):
    path, f = pick
    with tempfile.TemporaryDirectory() as tmp:
        result = cli(
            capsys, ["run", "classroom", "--days", "1", "--set", f"{path}={_toml_number(value)}", "--out", f"{tmp}/out"]
        )
        in_range = math.isfinite(value) and (f.min is None or value >= f.min) and (f.max is None or value <= f.max)
        if f.kind == "int":
            in_range = in_range and float(value).is_integer()
        if in_range:
            assert result.code == 0, result.err
        else:
            assert_one_line_error(result, path.split(".")[-1])
        _judge_run(result, Path(tmp) / "out")


@FAST
@given(item=st.text(max_size=60))
def test_any_set_text_is_refused_in_one_line_or_runs(item, capsys):
    with tempfile.TemporaryDirectory() as tmp:
        result = cli(capsys, ["run", "classroom", "--days", "1", "--set", item, "--out", f"{tmp}/out"])
        _judge_run(result, Path(tmp) / "out")


LITERALS = [
    "9" * 5000,  # past Python's limit of digits for reading an integer
    "9999-12-01",  # a date whose horizon would leave the calendar
    "nan",
    "inf",
    "-inf",
    "-1",
    "0",
    "1e400",
    "1e308",
    '"x"',
    "[]",
    "{}",
    "true",
    "2025-13-01",
    "99999999999999999999999",
    "[[[[[]]]]]",
    '"west"',
    "1.5",
    '""',
]


@FAST
@given(data=st.data())
def test_mutated_scenario_files(data, capsys):
    """The classroom file with a line deleted, duplicated or given a hostile value."""
    lines = shipped_scenarios()["classroom"].read_text().splitlines()
    assigned = [i for i, line in enumerate(lines) if "=" in line and not line.lstrip().startswith("#")]
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.sampled_from(assigned))
        action = data.draw(st.sampled_from(["delete", "duplicate", "value", "junk"]))
        if action == "delete":
            lines[i] = ""
        elif action == "duplicate":
            lines[i] = lines[i] + "\n" + lines[i]
        elif action == "value":
            lines[i] = lines[i].split("=", 1)[0] + "= " + data.draw(st.sampled_from(LITERALS))
        else:
            lines[i] = data.draw(st.text(max_size=30))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.toml"
        path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
        result = cli(capsys, ["run", str(path), "--days", "1", "--out", f"{tmp}/out"])
        _judge_run(result, Path(tmp) / "out")


def _event_paths(spec: Table, data: dict, prefix: str = ""):
    """(dotted path, Field) of every number setting of the schema, each list reached by '*' and by the name of
    the scenario's last entry (so that a utility's units are another utility's than the first's)."""
    for key, sub in spec.fields.items():
        if isinstance(sub, Field) and sub.kind in ("float", "int"):
            yield prefix + key, sub
        elif isinstance(sub, Table) and sub.open_values is None:
            yield from _event_paths(sub, data.get(key, {}) if isinstance(data, dict) else {}, f"{prefix}{key}.")
        elif isinstance(sub, ListOf):
            items = data.get(key, []) if isinstance(data, dict) else []
            last = items[-1] if items else {}
            for name in ["*"] + ([last[sub.key]] if last and sub.key else []):
                yield from _event_paths(sub.item, last, f"{prefix}{key}.{name}.")


EVENT_PATHS = sorted(_event_paths(ROOT, CLASSROOM), key=lambda pf: pf[0])


def _refused_or_runs(path: str, value: float | int, ramp_days: int = 0) -> bool:
    """An event setting ``path`` to ``value`` on day 0 of a classroom variant is refused at load in one line (False),
    or the model is built with it and runs a day (True): it is never accepted at load and refused (or a crash) when
    the model is built, as every run of a sweep over such a scenario was."""
    text = (
        f'[scenario]\nname = "v"\nbase = "classroom"\n[[events]]\nday = 0\nset = "{path}"\n'
        f"value = {_toml_number(value)}\nramp_days = {ramp_days}\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "s.toml"
        file.write_text(text)
        try:
            scenario = load_scenario(file)
        except (ScenarioError, TopologyError) as exc:
            assert str(exc) and "\n" not in str(exc), str(exc)
            return False
    TokenEconomy(scenario, seed=1).run(1)
    return True


@FAST
@given(pick=st.sampled_from(EVENT_PATHS), data=st.data(), ramp_days=st.integers(0, 3))
def test_an_event_the_loader_accepts_builds_and_runs(pick, data, ramp_days):
    path, f = pick
    _refused_or_runs(path, data.draw(st.one_of(_in_range(f), HOSTILE_NUMBERS)), ramp_days)


def _typical(f: Field) -> float | int:
    """A value in the field's range: its default where it has one."""
    if isinstance(f.default, int | float) and not isinstance(f.default, bool):
        return f.default
    return f.min if f.min is not None else (f.max if f.max is not None else 1)


@pytest.mark.slow
@pytest.mark.parametrize("pick", EVENT_PATHS, ids=[p for p, _ in EVENT_PATHS])
def test_every_event_path_is_refused_at_load_or_runs(pick):
    path, f = pick
    accepted = _refused_or_runs(path, _typical(f))
    assert accepted or not path.startswith(("markets.", "compute.", "policy.", "technologies.", "apps.chatbot."))


EDGE_KINDS = ["line", "grid", "compute", "token", "road", None]
NODE_KINDS = ["zone", "aidc", "app", "provider", "moon"]
LIMITS = st.one_of(HOSTILE_NUMBERS, st.floats(0, 1e6), st.just("wide"))


@FAST
@given(data=st.data())
def test_mutated_graphs(data, capsys):
    """The classroom supply graph with edges cut or added, limits changed, nodes renamed or re-kinded."""
    g = build_supply_graph(CLASSROOM)
    nodes = sorted(g.nodes)
    for _ in range(data.draw(st.integers(1, 3))):
        action = data.draw(st.sampled_from(["cut", "add", "limit", "kind", "rename", "drop"]))
        edges = sorted(g.edges)
        if action == "cut" and edges:
            g.remove_edge(*data.draw(st.sampled_from(edges)))
        elif action == "add":
            u, v = data.draw(st.sampled_from(nodes)), data.draw(st.sampled_from(nodes))
            kind = data.draw(st.sampled_from(EDGE_KINDS))
            attrs = {"kind": kind} if kind else {}
            if kind == "line":
                attrs.update(name=f"l{u}-{v}", limit_mw=data.draw(LIMITS))
            g.add_edge(u, v, **attrs)
        elif action == "limit":
            lines = [(u, v) for u, v, a in g.edges(data=True) if a.get("kind") == "line"]
            if lines:
                g.edges[data.draw(st.sampled_from(lines))]["limit_mw"] = data.draw(LIMITS)
        elif action == "kind" and g.nodes:
            g.nodes[data.draw(st.sampled_from(sorted(g.nodes)))]["kind"] = data.draw(st.sampled_from(NODE_KINDS))
        elif action == "rename" and len(g.nodes) > 1:
            a, b = data.draw(st.sampled_from(sorted(g.nodes))), data.draw(st.sampled_from(sorted(g.nodes)))
            g.nodes[a]["name"] = g.nodes[b]["name"]
        elif action == "drop" and g.nodes:
            g.remove_node(data.draw(st.sampled_from(sorted(g.nodes))))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "g.graphml"
        nx.write_graphml(g, path)
        result = cli(capsys, ["run", "classroom", "--days", "1", "--graph", str(path), "--out", f"{tmp}/out"])
        _judge_run(result, Path(tmp) / "out")


SWEEP_VALUES = st.one_of(
    st.integers(-10, 10**9),
    st.floats(allow_nan=True),
    st.booleans(),
    st.sampled_from(['"grid"', '"latin"', '"morris"', '"sobol"', '"classroom"', '"x"']),
    st.just([]),
    st.lists(st.integers(-3, 3), max_size=3),
)
SWEEP_KEYS = [
    "scenario",
    "days",
    "seeds",
    "first_seed",
    "design",
    "samples",
    "levels",
    "design_seed",
    "tables",
    "set",
    "nmae",
]
PARAM_KEYS = ["key", "min", "max", "steps", "log", "values"]
PARAM_PATHS = [
    '"markets.token_inertia"',
    '"apps.chatbot.users"',
    '"apps.chatbot.profile"',
    '"apps.ghost.users"',
    '"markets"',
    '"aidcs.west-aidc.outage_days"',
]


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _toml_number(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


@FAST
@given(data=st.data())
def test_sweep_files_are_refused_in_one_line_or_bounded(data):
    """A sweep file of random keys and values loads into a design of at most MAX_RUNS runs whose every
    value is in its setting's range, or is refused with one line, before any run."""
    head = {"scenario": '"classroom"'}
    for key in data.draw(st.lists(st.sampled_from(SWEEP_KEYS), max_size=4, unique=True)):
        head[key] = _toml(data.draw(SWEEP_VALUES))
    text = "[sweep]\n" + "".join(f"{k} = {v}\n" for k, v in head.items())
    for _ in range(data.draw(st.integers(0, 3))):
        text += f"[[parameters]]\nkey = {data.draw(st.sampled_from(PARAM_PATHS))}\n"
        for key in data.draw(st.lists(st.sampled_from(PARAM_KEYS[1:]), max_size=4, unique=True)):
            text += f"{key} = {_toml(data.draw(SWEEP_VALUES))}\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w.toml"
        path.write_text(text)
        try:
            sweep = load_sweep(path)
        except ScenarioError as exc:
            assert "\n" not in str(exc) and str(exc), str(exc)
            return
    assert design_points(sweep) * len(sweep.seeds) <= MAX_RUNS
    assert len(sweep.points) == design_points(sweep)
    for point in sweep.points:
        load_scenario(sweep.scenario, sweep.overrides(point))  # every point is a valid scenario


NUMBER_TEXT = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "1e308", "-1e308", "0", "-0", "abc", "", "1e-320"]),
    st.floats(-1e7, 1e7, allow_nan=False).map(repr),
)


@FAST
@given(
    args=st.lists(
        st.tuples(
            st.sampled_from(["--demand-intercept", "--demand-slope", "--supply-intercept", "--supply-slope", "--p0"]),
            NUMBER_TEXT,
        ),
        max_size=4,
    ),
    periods=st.integers(-2, 200),
)
def test_cobweb_arguments(args, periods, capsys):
    argv = ["lesson", "cobweb", "--periods", str(periods)] + [f"{flag}={value}" for flag, value in args]
    result = cli(capsys, argv)
    if result.code != 0:
        assert_one_line_error(result)
        return
    rows = [line.split() for line in result.out.splitlines()[2:]]
    prices = [float(row[1]) for row in rows]
    assert all_finite(printed_numbers(result.out)), result.out
    assert min(prices) >= 0.0


@FAST
@given(values=st.lists(NUMBER_TEXT, min_size=0, max_size=5), costs=st.lists(NUMBER_TEXT, min_size=1, max_size=5))
def test_call_market_arguments(values, costs, capsys):
    result = cli(capsys, ["lesson", "call-market", "--values=" + ",".join(values), "--costs=" + ",".join(costs)])
    if result.code != 0:
        assert_one_line_error(result)
        return
    assert all_finite(printed_numbers(result.out)), result.out


@FAST
@given(
    traders=st.integers(-1, 250),
    units=st.integers(-1, 60),
    periods=st.integers(-1, 4),
    shouts=st.integers(-5, 300),
    seed=st.integers(-3, 2**33),
)
def test_double_auction_arguments(traders, units, periods, shouts, seed, capsys):
    result = cli(
        capsys,
        [
            "lesson",
            "double-auction",
            "--traders",
            str(traders),
            "--units",
            str(units),
            "--periods",
            str(periods),
            "--shouts",
            str(shouts),
            "--seed",
            str(seed),
        ],
    )
    if result.code != 0:
        assert_one_line_error(result)
        return
    assert "nan" not in result.out and "inf" not in result.out
