"""A quick command line: ``--help`` and argument errors load none of the model's libraries (the time it takes is
measured in benchmarks/bench_startup.py, not here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("numpy", "numba", "mesa", "pandas", "scipy", "networkx", "pyarrow", "tokenomy.abm.model")
PROBE = """
import json, sys
from tokenomy.abm.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:  # argparse's --help
    code = exc.code
print(json.dumps({"code": code, "loaded": sorted(m for m in HEAVY if m in sys.modules)}))
"""


def _loaded(*argv: str) -> dict:
    code = f"HEAVY = {HEAVY!r}\n{PROBE}"
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["run", "--help"],
        ["lesson", "algorithmic-pricing", "--help"],
        ["sweep", "--help"],
        ["viz", "--help"],
    ],
)
def test_help_loads_none_of_the_model(argv):
    out = _loaded(*argv)
    assert out == {"code": 0, "loaded": []}


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "classroom", "--days", "0"],
        ["run", "classroom", "--seed", "-1"],
        ["lesson", "call-market", "--values", "1,x"],
        ["lesson", "algorithmic-pricing", "--alpha", "2"],
        ["compare", "a", "b", "--seeds", "0"],
        ["no-such-command"],
    ],
)
def test_an_argument_error_loads_none_of_the_model(argv):
    out = _loaded(*argv)
    assert out == {"code": 2, "loaded": []}


def test_a_scenario_error_is_still_one_line_and_exit_2(tmp_path):
    """The errors that mean bad input are recognised once their module is loaded (here the scenario's)."""
    done = subprocess.run(
        [sys.executable, "-m", "tokenomy.abm.cli", "run", "clasroom", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: unknown scenario 'clasroom'") and len(done.stderr.splitlines()) == 1


# -- the garbage collector in the command's own process (abm.collector) -----------------------------------------------
def test_a_command_in_its_own_process_imports_uncollected_and_freezes_what_it_made(monkeypatch):
    import gc

    from tokenomy.abm import collector

    monkeypatch.setattr(collector, "_own_process", True)
    assert gc.isenabled()
    before = gc.get_freeze_count()
    try:
        with collector.imports_frozen():
            assert not gc.isenabled()  # paused while importing
            made = [[i] for i in range(1000)]  # objects the collector tracks
        assert gc.isenabled()  # running again afterwards
        assert gc.get_freeze_count() >= before + len(made)
        frozen = gc.get_freeze_count()
        later = [[i] for i in range(500)]
        collector.freeze()
        assert gc.get_freeze_count() >= frozen + len(later)
        with pytest.raises(RuntimeError), collector.imports_frozen():  # an error inside: the collector runs again
            raise RuntimeError("import failed")
        assert gc.isenabled()
    finally:
        gc.unfreeze()  # this test's process lives on


def test_a_command_run_in_a_callers_process_leaves_the_collector_alone(tmp_path):
    import gc

    from tokenomy.abm import collector
    from tokenomy.abm.cli import main

    assert not collector._own_process  # nothing in the test session said the process is the command's
    before = gc.get_freeze_count()
    assert main(["run", "classroom", "--days", "2", "--quiet", "--out", str(tmp_path / "o")]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == before


@pytest.mark.parametrize("how", ["console script", "python -m"])
def test_the_commands_own_process_freezes_the_imports_and_the_loaded_kernels(tmp_path, how):
    """Run as the command (its entry point with no arguments of its own, or ``python -m``), a run ends with the
    libraries and the kernels frozen out of collections and the collector on."""
    probe = (
        "import gc, json, sys\n"
        "sys.argv = ['tokenomy', 'run', 'classroom', '--days', '3', '--quiet', '--out', sys.argv[1]]\n"
        + (
            "from tokenomy.abm.entry import main\ncode = main()\n"
            if how == "console script"
            else "import runpy\ntry:\n    runpy.run_module('tokenomy.abm.cli', run_name='__main__')\n"
            "except SystemExit as exc:\n    code = exc.code\n"
        )
        + "import tokenomy.abm.day.compute as c\n"
        "print(json.dumps({'code': code, 'frozen': gc.get_freeze_count(), 'enabled': gc.isenabled(),\n"
        "                  'kernel': bool(c._clear_and_pay.signatures)}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "o")], capture_output=True, text=True, timeout=300
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["code"] == 0 and out["enabled"] and out["kernel"]
    assert out["frozen"] > 100_000  # Mesa, pandas, numba and the model's modules, and what loading the kernels made
