"""Issue 17, "validation is total": hostile inputs that were accepted and failed later (or silently did the
wrong thing), crashed with a traceback, or printed the user's control characters raw.

Rows of the same table as ``test_hostile_table.py`` (its machinery): exit 0 with sane tables, or exit 2 with
one line naming the problem and nothing written.  Then the cases that need more than a row: what an event
changes in the running model, environment variables, a full disk, Ctrl-C and text printed to a terminal.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from test_hostile_table import (
    OK,
    OUT,
    Row,
    _materialise,
    graph_run,
    rename_line,
    run_file,
    sset,
    sweep_file,
    sweep_run,
    unchanged,
    variant,
)
from validation_support import assert_one_line_error, assert_sane_ensemble, assert_sane_run, cli

from tokenomy.abm.environment import CHECKS, environment_problem
from tokenomy.abm.errors import printable
from tokenomy.abm.model import TokenEconomy
from tokenomy.abm.scenarios import load_scenario
from tokenomy.networks import build_supply_graph

BIG = "9" * 5000  # past Python's limit of 4,300 digits for reading an integer


def event(path: str, value: float | str, day: int = 0, ramp_days: int = 0) -> str:
    return f'[[events]]\nday = {day}\nset = "{path}"\nvalue = {value}\nramp_days = {ramp_days}\n'


def graph_file_run(*args: str) -> list[str]:
    return ["run", "{tmp}/s.toml", "--days", "1", "--graph", "{tmp}/g.graphml", *args, "--out", OUT]


def two_graphs(g: nx.Graph) -> str:
    """The classroom graph as GraphML, with a second ``<graph>`` after it."""
    text = "\n".join(nx.generate_graphml(g))
    return text.replace("</graphml>", '<graph edgedefault="undirected"><node id="900"/></graph></graphml>')


FLOOR_AND_CAP = "[markets]\npower_price_cap_cny_per_mwh = 100.0\npower_price_floor_cny_per_mwh = 0.0\n"
SAME_UNIT_NAME = (  # east-power gets a unit named like west-power's coal plant
    '[[utilities]]\nname = "east-power"\n[[utilities.units]]\nname = "west-coal"\nzone = "east"\ntech = "coal"\n'
    "capacity_mw = 50.0\n"
)

ROWS: dict[str, Row] = {
    # --- events: what the running model cannot change is refused at load, not when the model is built
    "event-scenario-days": Row(
        run_file(), "cannot change during a run", {"s.toml": variant(event("scenario.days", 9))}
    ),
    "event-scenario-seed": Row(
        run_file(), "cannot change during a run", {"s.toml": variant(event("scenario.seed", 2))}
    ),
    "event-spin-up-days": Row(
        run_file(), "cannot change during a run", {"s.toml": variant(event("scenario.spin_up_days", 2))}
    ),
    "event-events-day": Row(run_file(), "cannot change during a run", {"s.toml": variant(event("events.*.day", 3))}),
    "event-expected-days": Row(
        run_file(), "cannot change during a run", {"s.toml": variant(event("expected.days", 3))}
    ),
    "ok-event-every-unit": Row(run_file(), OK, {"s.toml": variant(event("utilities.*.units.*.capacity_mw", 10))}),
    "ok-event-units-of-one-utility": Row(
        run_file(), OK, {"s.toml": variant(event("utilities.west-power.units.*.marginal_cost_cny_per_mwh", 300))}
    ),
    "ok-event-named-unit-of-every-utility": Row(
        run_file(), OK, {"s.toml": variant(event("utilities.*.units.west-coal.capacity_mw", 10))}
    ),
    "event-unit-of-another-utility": Row(
        run_file(),
        "has no entry named 'west-coal'",
        {"s.toml": variant(event("utilities.east-power.units.west-coal.capacity_mw", 10))},
    ),
    "event-unit-nobody-has": Row(
        run_file(),
        "has no entry named 'moon-coal'",
        {"s.toml": variant(event("utilities.*.units.moon-coal.capacity_mw", 10))},
    ),
    # --- events: the state they lead to is checked like the scenario itself
    "event-cap-down-to-floor": Row(
        run_file(),
        "would not be below the cap",
        {"s.toml": variant(FLOOR_AND_CAP + event("markets.power_price_cap_cny_per_mwh", 0))},
    ),
    "event-floor-up-to-cap-ramped": Row(
        run_file(),
        "would not be below the cap",
        {
            "s.toml": variant(
                event("markets.power_price_cap_cny_per_mwh", 0, day=3)
                + event("markets.power_price_floor_cny_per_mwh", 0, day=1, ramp_days=5)
            )
        },
    ),
    "ok-event-floor-and-cap-moved-in-order": Row(
        run_file(),
        OK,
        {
            "s.toml": variant(
                FLOOR_AND_CAP
                + event("markets.power_price_cap_cny_per_mwh", 50, day=0)
                + event("markets.power_price_floor_cny_per_mwh", -20, day=0)
            )
        },
    ),
    "event-idle-above-busy-after-two-events": Row(
        run_file(),
        "an idle GPU draws no more",
        {
            "s.toml": variant(
                event("aidcs.west-aidc.idle_kw_per_gpu", 1.0, day=1) + event("aidcs.*.busy_kw_per_gpu", 0.5, day=2)
            )
        },
    ),
    # --- events against the graph in use
    "graph-event-on-line-it-names-otherwise": Row(
        graph_file_run(),
        "the graph has no entry named 'west-east'",
        {"s.toml": variant(event("lines.west-east.limit_mw", 5)), "g.graphml": rename_line},
    ),
    "ok-graph-event-on-its-own-line": Row(
        graph_file_run(),
        OK,
        {"s.toml": variant(event("lines.corridor.limit_mw", 5)), "g.graphml": rename_line},
    ),
    "ok-graph-event-on-every-line": Row(
        graph_file_run(), OK, {"s.toml": variant(event("lines.*.limit_mw", 5)), "g.graphml": unchanged}
    ),
    # --- a scenario's base is read with its file: never accepted and ignored
    "set-base": Row(sset("scenario.base=jevons"), "cannot be overridden"),
    "set-base-with-spaces": Row(sset(" scenario.base = jevons"), "cannot be overridden"),
    "sweep-fixed-set-base": Row(
        sweep_run(), "cannot be overridden", {"w.toml": sweep_file('set = ["scenario.base=x"]')}
    ),
    "sweep-parameter-base": Row(
        sweep_run(),
        "cannot be overridden",
        {"w.toml": sweep_file('[[parameters]]\nkey = "scenario.base"\nvalues = ["jevons", "classroom"]')},
    ),
    # --- GraphML: one graph per file
    "graph-two-graphs": Row(graph_run(), "holds 2 graphs", {"g.graphml": "TWO_GRAPHS"}),
    "graph-node-id-5000-digits": Row(
        graph_run(),
        "not a readable GraphML",
        {
            "g.graphml": '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph edgedefault="undirected">'
            f'<node id="{BIG}"/></graph></graphml>'
        },
    ),
    # --- numbers past Python's limit of digits
    "file-int-5000-digits": Row(run_file(), "more than 4,300 digits", {"s.toml": variant(f"seed = {BIG}")}),
    "file-negative-int-5000-digits": Row(run_file(), "more than 4,300 digits", {"s.toml": variant(f"days = -{BIG}")}),
    "file-event-value-5000-digits": Row(
        run_file(), "more than 4,300 digits", {"s.toml": variant(event("apps.chatbot.users", BIG))}
    ),
    "file-float-5000-digits": Row(
        run_file(), "finite", {"s.toml": variant(f"[[apps]]\nname = 'chatbot'\nusers = {BIG}.0")}
    ),
    "set-int-5000-digits": Row(sset(f"scenario.seed={BIG}"), "more than 4,300 digits"),
    "set-int-5000-digits-in-list": Row(sset(f"apps.chatbot.providers=[{BIG}]"), "more than 4,300 digits"),
    "sweep-int-5000-digits": Row(sweep_run(), "more than 4,300 digits", {"w.toml": sweep_file(f"seeds = {BIG}")}),
    "sweep-scenario-int-5000-digits": Row(
        sweep_run(), "more than 4,300 digits", {"w.toml": sweep_file("", "s.toml"), "s.toml": variant(f"seed = {BIG}")}
    ),
    "viz-file-int-5000-digits": Row(
        ["viz", "{tmp}/s.toml", "--port", "1"], "more than 4,300 digits", {"s.toml": variant(f"seed = {BIG}")}
    ),
    "days-5000-digits": Row(["run", "classroom", "--days", BIG, "--out", OUT], "got a number of 5,000 digits"),
    "seed-5000-digits": Row(["run", "classroom", "--seed", "-" + BIG, "--out", OUT], "got a number of 5,000 digits"),
    # --- dates: a run's horizon stays inside the calendar
    "file-start-near-9999": Row(run_file(), "out of range", {"s.toml": variant("start_date = 9999-12-01")}),
    "file-start-last-day": Row(run_file(), "out of range", {"s.toml": variant("start_date = 9999-12-31T23:59:59Z")}),
    "file-start-year-one": Row(run_file(), "out of range", {"s.toml": variant("start_date = 0001-01-01")}),
    "file-start-after-pandas": Row(run_file(), "out of range", {"s.toml": variant('start_date = "2300-01-01"')}),
    "set-start-near-9999": Row(sset("scenario.start_date=9999-12-01"), "allowed [1900-01-01, 2200-12-31]"),
    "ok-start-last-allowed": Row(run_file(), OK, {"s.toml": variant("start_date = 2200-12-31")}),
    "ok-start-first-allowed": Row(run_file(), OK, {"s.toml": variant("start_date = 1900-01-01")}),
}


@pytest.fixture(scope="module")
def classroom_graph() -> nx.Graph:
    return build_supply_graph(load_scenario("classroom").data)


@pytest.mark.parametrize("name", list(ROWS))
def test_hostile_input(name, tmp_path, capsys, classroom_graph):
    row = ROWS[name]
    if row.files.get("g.graphml") == "TWO_GRAPHS":
        row = Row(row.argv, row.expect, {**row.files, "g.graphml": two_graphs(classroom_graph)})
    argv = _materialise(row, tmp_path, classroom_graph)
    result = cli(capsys, argv)
    out = tmp_path / "out"
    if row.expect == OK:
        assert result.code == 0, result.err[-3000:]
        assert_sane_run(out)
    else:
        assert_one_line_error(result, row.expect)
        assert not out.exists(), f"{out} was written although the input was refused"


# --- what an event changes in the running model ------------------------------------------------------


def _units(model: TokenEconomy) -> dict[tuple[str, str], float]:
    group = model.utilities
    return {
        (group.names[owner], name): float(mw)
        for owner, name, mw in zip(group.unit_owner, group.unit_names, group.unit_capacity_mw, strict=False)
    }


def test_an_event_on_a_unit_changes_only_its_owners_unit(tmp_path):
    """Two utilities each own a unit named ``west-coal``: an event on east-power's changes east-power's only."""
    path = tmp_path / "s.toml"
    path.write_text(variant(SAME_UNIT_NAME + event("utilities.east-power.units.west-coal.capacity_mw", 7)))
    model = TokenEconomy(load_scenario(path), seed=1)
    before = _units(model)
    assert before[("west-power", "west-coal")] == 150.0 and before[("east-power", "west-coal")] == 50.0
    model.run(1)
    after = _units(model)
    assert after[("east-power", "west-coal")] == 7.0
    assert after[("west-power", "west-coal")] == 150.0
    assert all(after[k] == v for k, v in before.items() if k != ("east-power", "west-coal"))


def test_a_star_over_units_changes_each_owners_units(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(variant(SAME_UNIT_NAME + event("utilities.east-power.units.*.marginal_cost_cny_per_mwh", 123)))
    model = TokenEconomy(load_scenario(path), seed=1)
    model.run(1)
    group = model.utilities
    east = group.names.index("east-power")
    assert all((mc == 123.0) == (owner == east) for owner, mc in zip(group.unit_owner, group.unit_mc, strict=False))


# --- environment variables ----------------------------------------------------------------------------

BAD_ENVIRONMENT = {
    "TOKENOMY_VIZ_CULL_TIMEOUT": ["garbage", "nan", "-5", "0.1s", "30 days", "", "1e9"],
    "TOKENOMY_VIZ_SESSION_LOG": ["yes"],
    "TOKENOMY_CLASSROOM_TIMING": ["yes", "2", "on"],
    "NUMBA_NUM_THREADS": ["0", "-1", "abc", "", "1.5", BIG],
    "NUMBA_OPT": ["fast"],
    "MPLBACKEND": ["bad", "module://no_such_backend_module"],
    # set by `tokenomy classroom` for its workers; {tmp} is the test's folder, with the entries of _environment_files
    "TOKENOMY_CLASSROOM": ["yes", "2", " 1"],
    "REACTON_FAST": ["yes", "true", "2"],
    "TOKENOMY_PUBLIC_URL": [
        "",
        "garbage",
        "javascript:alert(1)",
        "ftp://192.168.1.20/",
        "//192.168.1.20:8765",
        "http://",
        "http://:8765",
        "http://teacher:secret@192.168.1.20:8765",
        "http://@192.168.1.20",
        "http://192.168.1.20:8765/#top",
        "http://192.168.1.20:8765/?a=b",
        "http://192.168.1.20:99999",
        "http://192.168.1.20:0",
        "http://[not-an-address]:8765",
        "http://class room:8765",
        "http://192.168.1.20\n",
        "http://evil.example\\@192.168.1.20",
        "http://lycée.example",
        "http://h.example/" + "a" * 2000,
    ],
    "TOKENOMY_VIZ_WORKERS": ["0", "9", "-1", "abc", "", "1.5", " 2", "02", "+2", BIG],
    "TOKENOMY_GAMES_DIR": [
        "{tmp}/a-file",
        "{tmp}/link-to-dir",
        "{tmp}/link-to-dir/",
        "{tmp}/dangling-link",
        "{tmp}/a-file/games",
        "   ",
        "games\0x",
        "g" * 1025,
    ],
    "TOKENOMY_CLASSROOM_GAME": [
        "{tmp}/none.sqlite",
        "{tmp}/a-dir",
        "{tmp}/link-to-file",
        "{tmp}/dangling-link",
        " ",
        "game\0.sqlite",
        "g" * 1025,
    ],
}
GOOD_ENVIRONMENT = {
    "TOKENOMY_VIZ_CULL_TIMEOUT": ["2m", "30", "1h", "0.5m", "7d"],
    "TOKENOMY_VIZ_SESSION_LOG": ["1", "0", ""],
    "TOKENOMY_CLASSROOM_TIMING": ["1", "0", ""],
    "NUMBA_NUM_THREADS": ["1", "2"],
    "NUMBA_OPT": ["3", "max"],
    "MPLBACKEND": ["agg", "Agg", ""],
    "TOKENOMY_CLASSROOM": ["1", "0", ""],
    "REACTON_FAST": ["1", "0", ""],
    "TOKENOMY_PUBLIC_URL": [
        "http://127.0.0.1:8765",
        "https://class.example.org",
        "http://[::1]:8765/",
        "http://192.168.1.20:8765/tokenomy",
        "HTTP://CLASS.LOCAL:8765",
        "http://h.example/" + "a" * 1983,  # 2,000 characters
    ],
    "TOKENOMY_VIZ_WORKERS": ["1", "2", "8"],
    "TOKENOMY_GAMES_DIR": ["", "tokenomy-games", "{tmp}/a-dir", "{tmp}/a-dir/", "{tmp}/new/games", "/"],
    "TOKENOMY_CLASSROOM_GAME": ["", "{tmp}/a-file", "{tmp}/a-dir/../a-file"],
}


def _environment_files(tmp_path: Path) -> None:
    """What the path cases name: a file, a folder, links to each, and a link to nothing."""
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-dir").mkdir()
    (tmp_path / "link-to-dir").symlink_to(tmp_path / "a-dir")
    (tmp_path / "link-to-file").symlink_to(tmp_path / "a-file")
    (tmp_path / "dangling-link").symlink_to(tmp_path / "nowhere")


def _in(tmp_path: Path, value: str) -> str:
    return value.replace("{tmp}", str(tmp_path))


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, vs in BAD_ENVIRONMENT.items() for v in vs])
def test_a_bad_environment_variable_is_one_line(name, value, tmp_path, capsys, monkeypatch):
    _environment_files(tmp_path)
    if "\0" in value:  # no environment holds a NUL: the check itself is asked
        assert name in environment_problem({name: value}) and "NUL" in environment_problem({name: value})
        return
    monkeypatch.setenv(name, _in(tmp_path, value))
    result = cli(capsys, ["run", "classroom", "--days", "1", "--out", tmp_path / "out"])
    assert_one_line_error(result, f"environment variable {name}=")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, vs in GOOD_ENVIRONMENT.items() for v in vs])
def test_a_good_environment_variable_passes(name, value, tmp_path):
    _environment_files(tmp_path)
    assert environment_problem({name: _in(tmp_path, value)}) is None


def test_the_values_tokenomy_classroom_gives_its_workers_pass(tmp_path, monkeypatch):
    """What `tokenomy classroom` sets for its workers (its --games-dir default, the address public_base writes for
    every host it listens on, each number of workers, a new game's file) is what the checks allow."""
    from tokenomy.abm.cli import build_parser
    from tokenomy.abm.cli.classroom import public_base, worker_settings
    from tokenomy.abm.environment import MAX_VIZ_WORKERS
    from tokenomy.viz.classroom.hub import new_game_path

    monkeypatch.chdir(tmp_path)
    default = build_parser().parse_args(["classroom", "serve"]).games_dir
    game = new_game_path(tmp_path, "classroom")
    game.write_bytes(b"")
    hosts = ["127.0.0.1", "0.0.0.0", "::", "::1", "localhost", "192.168.1.20"]
    for host in hosts:
        for port in (1, 8765, 65535):
            for workers in range(1, MAX_VIZ_WORKERS + 1):
                for games_dir in (default, tmp_path / "games", Path("games")):
                    settings = worker_settings(public_base(host, port), workers, games_dir, game)
                    assert environment_problem(settings) is None, settings
    (tmp_path / default).mkdir()  # as the first game leaves it
    assert environment_problem(worker_settings(public_base("::", 8765), 2, default, game)) is None


def test_a_games_dir_flag_the_workers_could_not_use_is_refused(tmp_path, capsys):
    _environment_files(tmp_path)
    for folder in ("link-to-dir", "a-file"):
        result = cli(capsys, ["classroom", "--games-dir", tmp_path / folder, "--port", "1"])
        assert_one_line_error(result, "--games-dir")


def test_the_cull_timeout_the_server_reads_is_the_one_checked():
    from tokenomy.viz import server

    assert server.CULL_TIMEOUT_ENV in CHECKS
    assert server.CULL_TIMEOUT_ENV in environment_problem({server.CULL_TIMEOUT_ENV: "garbage"})


def test_the_classroom_timing_switch_the_hub_reads_is_the_one_checked():
    from tokenomy.viz.classroom import hub

    assert hub.TIMING_ENV in CHECKS
    assert hub.TIMING_ENV in environment_problem({hub.TIMING_ENV: "yes"})


def test_the_classroom_switch_the_pages_read_is_the_one_checked(monkeypatch):
    import tokenomy.viz.classroom as classroom

    assert classroom.CLASSROOM_ENV in CHECKS
    assert classroom.CLASSROOM_ENV in environment_problem({classroom.CLASSROOM_ENV: "yes"})
    monkeypatch.setenv(classroom.CLASSROOM_ENV, "1")
    assert classroom.page_for("/") is classroom.page_for("/join")


def test_the_games_folder_workers_and_game_the_hub_reads_are_the_ones_checked(tmp_path, monkeypatch):
    from tokenomy.viz.classroom import hub

    _environment_files(tmp_path)
    for name, bad in [
        (hub.GAMES_DIR_ENV, str(tmp_path / "link-to-dir")),
        (hub.VIZ_WORKERS_ENV, "0"),
        (hub.CLASSROOM_GAME_ENV, str(tmp_path / "link-to-file")),
    ]:
        assert name in CHECKS
        assert name in environment_problem({name: bad})
    monkeypatch.setenv(hub.GAMES_DIR_ENV, str(tmp_path / "a-dir"))
    monkeypatch.setenv(hub.VIZ_WORKERS_ENV, "2")
    assert hub.games_dir() == tmp_path / "a-dir" and not hub.one_process()


def test_the_public_url_the_teachers_page_reads_is_the_one_checked(monkeypatch):
    from tokenomy.viz.classroom import teacher

    assert teacher.PUBLIC_URL_ENV in CHECKS
    assert teacher.PUBLIC_URL_ENV in environment_problem({teacher.PUBLIC_URL_ENV: "javascript:alert(1)"})
    longest = "http://h.example/" + "a" * 1983
    monkeypatch.setenv(teacher.PUBLIC_URL_ENV, longest)
    link = teacher.join_link("ABCDEF")
    assert link.startswith(longest) and teacher.qr_svg(link).startswith("<svg")  # the longest fits a QR code


ENTRY = [sys.executable, "-m", "tokenomy.abm.entry"]  # the module the `tokenomy` command runs


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NUMBA_NUM_THREADS", "0"),
        ("MPLBACKEND", "bad"),
        ("NUMBA_DISABLE_JIT", "abc"),
        ("TQDM_MININTERVAL", "abc"),
        ("TOKENOMY_PUBLIC_URL", "javascript:alert(1)"),
        ("TOKENOMY_VIZ_WORKERS", "9"),
    ],
)
def test_variables_that_crash_an_import_are_one_line_in_a_fresh_process(name, value, tmp_path):
    env = {**os.environ, name: value}
    proc = subprocess.run(
        [*ENTRY, "compare", "classroom", "jevons", "--days", "1", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and name in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_variables_a_library_reads_fine_pass_in_a_fresh_process(tmp_path):
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", "NUMBA_OPT": "3", "TQDM_MININTERVAL": "0.5", "MPLBACKEND": "agg"}
    proc = subprocess.run(
        [*ENTRY, "run", "classroom", "--days", "1", "--quiet", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr


# --- a full disk ----------------------------------------------------------------------------------------


def _file_size_limit(limit: int):
    def apply() -> None:  # in the child, before it runs: as `ulimit -f` would
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # the default (killed): tokenomy must ignore it itself
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def earlier_run(tmp_path, capsys) -> Path:
    out = tmp_path / "out"
    assert cli(capsys, ["run", "classroom", "--days", "1", "--quiet", "--out", out]).code == 0
    return out


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_file_size_limit_is_one_line_and_keeps_the_earlier_run(fmt, earlier_run, tmp_path):
    before = _snapshot(earlier_run)
    proc = subprocess.run(
        [*ENTRY, "run", "classroom", "--days", "2", "--quiet", "--format", fmt, "--out", str(earlier_run)],
        capture_output=True,
        text=True,
        preexec_fn=_file_size_limit(4096),
        timeout=120,
    )
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode in (1, 2), (proc.returncode, proc.stderr)
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert str(earlier_run) in lines[0] and "is kept" in lines[0], lines[0]
    assert _snapshot(earlier_run) == before
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


def test_a_file_size_limit_in_a_sweep_is_one_line_naming_its_folder(tmp_path):
    sweep = tmp_path / "w.toml"
    sweep.write_text(sweep_file('[[parameters]]\nkey = "markets.token_inertia"\nvalues = [0.5, 0.9]'))
    proc = subprocess.run(
        [*ENTRY, "sweep", str(sweep), "--workers", "0", "--quiet", "--out", str(tmp_path / "sw")],
        capture_output=True,
        text=True,
        preexec_fn=_file_size_limit(2048),
        timeout=120,
    )
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1 and f"--out {tmp_path / 'sw'}" in lines[0], proc.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("argv", [["scenarios"], ["lesson", "list"], ["--help"], ["run", "classroom", "--days", "1"]])
def test_standard_output_on_a_full_device_is_one_line(argv, tmp_path):
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [*ENTRY, *argv, *(["--quiet", "--out", str(tmp_path / "out")] if argv[0] == "run" else [])],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 1, proc.stderr
    assert lines == ["error: standard output: cannot write (No space left on device)"], proc.stderr
    if argv[0] == "run":  # the run itself was finished before its summary could not be printed: it is kept
        assert_sane_run(tmp_path / "out")


# --- Ctrl-C ---------------------------------------------------------------------------------------------


def _interrupt(argv: list[str], when) -> subprocess.CompletedProcess:
    proc = subprocess.Popen([*ENTRY, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        when(proc)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _while_importing(library: str):
    """Until the process has mapped a compiled module of ``library``: it is importing the command line's modules,
    before ``main`` runs (a fixed delay could fall in the interpreter's own start, before any code of ours)."""

    def wait(proc: subprocess.Popen) -> None:
        maps = Path(f"/proc/{proc.pid}/maps")
        deadline = time.monotonic() + 120
        while f"/{library}/" not in maps.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.002)

    return wait


def _while_simulating(folder: Path):
    def wait(proc: subprocess.Popen) -> None:
        deadline = time.monotonic() + 120
        while not any(".tmp-" in p.name for p in folder.iterdir()) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)

    return wait


def _after_the_summary(proc: subprocess.Popen) -> None:
    for line in proc.stdout:  # the run has finished and replaced the earlier one: the process is shutting down
        if "tables in" in line:
            return


def test_ctrl_c_after_a_finished_run_keeps_it(earlier_run):
    """Never killed by the signal: exit 0 (the process had ended its work) or, in the instant before, 130 with
    "interrupted"; either way the finished run is in place."""
    proc = _interrupt(["run", "classroom", "--days", "2", "--out", str(earlier_run)], _after_the_summary)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert (proc.returncode, lines) in ((0, []), (130, ["error: interrupted"])), (proc.returncode, proc.stderr)
    assert_sane_run(earlier_run)
    assert len(pd.read_parquet(earlier_run / "daily.parquet")) == 2  # the new run's two days


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="watches the process in /proc")
@pytest.mark.parametrize("moment", ["importing-numpy", "importing-llvmlite", "simulating"])
def test_ctrl_c_in_run_is_interrupted_and_keeps_the_earlier_run(moment, earlier_run, tmp_path):
    before = _snapshot(earlier_run)
    when = _while_simulating(tmp_path) if moment == "simulating" else _while_importing(moment.split("-")[1])
    # a run long enough (~2 s alone) that a loaded machine cannot finish it between the test seeing it and the signal
    proc = _interrupt(["run", "classroom", "--days", "2000", "--quiet", "--out", str(earlier_run)], when)
    assert proc.returncode == 130, (proc.returncode, proc.stderr)
    assert [line for line in proc.stderr.splitlines() if line.strip()] == ["error: interrupted"], proc.stderr
    assert _snapshot(earlier_run) == before


def _group_interrupt(argv: list[str], when) -> subprocess.CompletedProcess:
    """As :func:`_interrupt`, but SIGINT to the whole process group, as a terminal's Ctrl-C sends it (an ensemble's
    worker processes get it too)."""
    proc = subprocess.Popen(
        [*ENTRY, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        when(proc)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _seeds_written(folder: Path, count: int):
    """Until ``count`` seeds' folders are whole in the ensemble's staging folder (a seed writes its graph last)."""

    def wait(proc: subprocess.Popen) -> None:
        deadline = time.monotonic() + 240
        while len(list(folder.glob(".*.tmp-*/seed-*/graph.graphml"))) < count and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)

    return wait


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_mid_ensemble_keeps_the_finished_seeds(workers, tmp_path, capsys):
    """Ctrl-C (to the process group) once two seeds are written: "interrupted" and what was kept in one line, exit
    130; the folder holds the finished seeds (each as ``tokenomy run --seed N`` writes it), their summary and a
    run.json naming the seeds not run; ``tokenomy compare`` reads it."""
    out = tmp_path / "ens"
    argv = ["run", "classroom", "--seeds", "1-12", "--days", "400", "--workers", str(workers), "--quiet"]
    proc = _group_interrupt([*argv, "--out", str(out)], _seeds_written(tmp_path, 2))
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 130, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: interrupted; kept the "), proc.stderr
    kept = sorted(int(p.name.removeprefix("seed-")) for p in out.iterdir() if p.is_dir())
    assert 1 <= len(kept) < 12 and (workers > 1 or len(kept) >= 2)  # a worker's last seed may not be reported yet
    assert f"kept the {len(kept)} of 12 seeds finished" in lines[0]
    assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name]  # no staging leftover
    assert_sane_ensemble(out)
    record = json.loads((out / "run.json").read_text())
    assert record["seeds"] == kept
    assert record["interrupted"]["seeds_not_run"] == [s for s in range(1, 13) if s not in kept]
    summary = pd.read_parquet(out / "summary.parquet")
    assert (summary["seeds"] == len(kept)).all() and summary["day"].nunique() == 400
    single = tmp_path / "single"
    assert (
        cli(capsys, ["run", "classroom", "--seed", str(kept[-1]), "--days", "400", "--quiet", "--out", single]).code
        == 0
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / f"seed-{kept[-1]}" / "daily.parquet"), pd.read_parquet(single / "daily.parquet")
    )
    assert cli(capsys, ["compare", out, single]).code == 0


@pytest.mark.slow
def test_ctrl_c_mid_sweep_in_a_pool_keeps_the_recorded_runs(tmp_path):
    """Ctrl-C to the process group of a sweep running in two worker processes, once a run is recorded: one line,
    exit 130, every run in the journal done (none recorded failed by the interrupt), the sweep not carried on."""
    sweep = tmp_path / "w.toml"
    sweep.write_text('[sweep]\nname = "tiny"\nscenario = "classroom"\ndays = 300\nseeds = 12\n')
    out = tmp_path / "s"
    journal = out / "journal.jsonl"

    def first_run_recorded(proc: subprocess.Popen) -> None:
        deadline = time.monotonic() + 240
        while not (journal.exists() and journal.stat().st_size) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)

    proc = _group_interrupt(["sweep", str(sweep), "--workers", "2", "--quiet", "--out", str(out)], first_run_recorded)
    assert (proc.returncode, proc.stderr) == (130, "error: interrupted\n")
    statuses = [json.loads(line)["status"] for line in journal.read_text().splitlines()]
    assert statuses and set(statuses) == {"done"} and len(statuses) < 12


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="watches the process in /proc")
@pytest.mark.parametrize("moment", ["importing-numpy", "importing-llvmlite", "first-seed"])
def test_ctrl_c_before_any_seed_finished_keeps_the_earlier_folder(moment, earlier_run, tmp_path):
    """Ctrl-C at start-up (while the command line imports) or while the first seed simulates: nothing finished,
    "interrupted" alone, exit 130, and the folder holds what it held."""
    before = _snapshot(earlier_run)
    when = _while_simulating(tmp_path) if moment == "first-seed" else _while_importing(moment.split("-")[1])
    # the first seed long enough (~3 s alone) that a loaded machine cannot finish it before the signal lands
    argv = ["run", "classroom", "--seeds", "1-3", "--days", "3000", "--quiet", "--out", str(earlier_run)]
    proc = _group_interrupt(argv, when)
    assert proc.returncode == 130, (proc.returncode, proc.stderr)
    assert [line for line in proc.stderr.splitlines() if line.strip()] == ["error: interrupted"], proc.stderr
    assert _snapshot(earlier_run) == before


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="watches the process in /proc")
@pytest.mark.parametrize("command", ["sweep", "check", "lesson"])
def test_ctrl_c_while_a_command_imports_is_one_line(command, tmp_path):
    """Ctrl-C while each command's own modules load (numba's llvmlite: after the command line is imported, inside
    the command's handler): "interrupted", exit 130, no traceback."""
    sweep = tmp_path / "w.toml"
    sweep.write_text('[sweep]\nname = "tiny"\nscenario = "classroom"\ndays = 5\nseeds = 2\n')
    argv = {
        "sweep": ["sweep", str(sweep), "--workers", "0", "--quiet", "--out", str(tmp_path / "s")],
        "check": ["check", "classroom", "--seeds", "1"],
        "lesson": ["lesson", "cobweb"],
    }[command]
    proc = _group_interrupt(argv, _while_importing("llvmlite"))
    assert proc.returncode == 130, (proc.returncode, proc.stderr)
    assert [line for line in proc.stderr.splitlines() if line.strip()] == ["error: interrupted"], proc.stderr


# --- user text on the terminal ----------------------------------------------------------------------------

RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202e]")  # all but newline and tab
HOSTILE_TEXT = "\x1b[2J\x1b[31mred\rover\u202eevil\x07"


def test_printable_escapes_every_control_character():
    text = printable(HOSTILE_TEXT + "\n\t")
    assert not RAW_CONTROL.search(text) and "\n" not in text and "\t" not in text
    assert text == r"\x1b[2J\x1b[31mred\rover\u202eevil\x07\n\t"
    assert printable("plain text, café") == "plain text, café"


def test_claims_and_notes_of_a_check_print_escaped(tmp_path, capsys):
    toml_text = json.dumps(HOSTILE_TEXT)  # a TOML string too: \\u001b, \\r, \\u202e
    path = tmp_path / "s.toml"
    path.write_text(
        variant(
            f"[expected]\nclaim = {toml_text}\ndays = 1\n[[expected.checks]]\nname = 'c'\nmetric = 'gpus_online'\n"
            f"days = [0, 1]\nclaim = {toml_text}\nstatus = 'needs-model-change'\nnote = {toml_text}\n"
        )
    )
    assert load_scenario(path).data["expected"]["claim"] == HOSTILE_TEXT  # the file really holds them
    result = cli(capsys, ["check", path, "--seeds", "1"])
    assert result.code == 0, result.err
    assert not RAW_CONTROL.search(result.out + result.err), repr(result.out)
    assert result.out.count(printable(HOSTILE_TEXT)) == 3, result.out


def test_an_output_path_prints_escaped(tmp_path, capsys):
    out = tmp_path / f"o{HOSTILE_TEXT}ut"
    result = cli(capsys, ["run", "classroom", "--days", "1", "--quiet", "--out", out])
    assert result.code == 0, result.err
    assert not RAW_CONTROL.search(result.out + result.err), repr(result.out)
    assert printable(out) in result.out
    assert_sane_run(out)  # the folder itself has the name the user gave


def test_an_error_naming_a_path_prints_escaped(tmp_path, capsys):
    result = cli(capsys, ["run", tmp_path / f"{HOSTILE_TEXT}.toml", "--out", tmp_path / "out"])
    line = assert_one_line_error(result, "no such scenario file")
    assert not RAW_CONTROL.search(line)
