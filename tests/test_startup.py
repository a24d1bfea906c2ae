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
