"""The command line: bad input gives exit code 2 and one line, and a run writes its tables."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tokenomy.abm.cli import main


def _fails(capsys, argv, *fragments):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for frag in fragments:
        assert frag in lines[0], lines[0]
    return lines[0]


def test_unknown_scenario(capsys):
    _fails(capsys, ["run", "clasroom"], "unknown scenario 'clasroom'", "classroom")


def test_unknown_key(capsys, tmp_path):
    _fails(
        capsys,
        ["run", "classroom", "--set", "apps.chatbot.userz=3", "--out", str(tmp_path)],
        "unknown key 'apps.chatbot.userz'",
        "apps.chatbot.users",
    )


def test_negative_capacity(capsys, tmp_path):
    _fails(
        capsys,
        ["run", "classroom", "--set", "aidcs.west-aidc.gpus=-5", "--out", str(tmp_path)],
        "gpus",
        "-5",
        "out of range",
    )


def test_malformed_toml(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[scenario\nname = 'x'\n")
    _fails(capsys, ["run", str(bad)], "bad.toml", "malformed TOML")


def test_days_zero(capsys):
    _fails(capsys, ["run", "classroom", "--days", "0"], "--days", "at least 1")


def test_unwritable_out(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _fails(capsys, ["run", "classroom", "--days", "2", "--out", str(blocker / "sub")], "--out", "cannot write")


def test_unknown_flag(capsys):
    _fails(capsys, ["run", "classroom", "--dayz", "3"], "unrecognized arguments")


def test_missing_file(capsys, tmp_path):
    _fails(capsys, ["run", str(tmp_path / "nope.toml")], "nope.toml")


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_run_writes_tables_and_run_json(capsys, tmp_path, fmt):
    out = tmp_path / "run"
    assert (
        main(
            [
                "run",
                "classroom",
                "--days",
                "5",
                "--seed",
                "4",
                "--out",
                str(out),
                "--format",
                fmt,
                "--set",
                "apps.chatbot.elasticity=1.0",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    for fragment in (
        "token price",
        "compute price",
        "power price",
        "tokens served",
        "unserved",
        "GPUs online",
        "pipeline",
    ):
        assert fragment in text
    read = pd.read_parquet if fmt == "parquet" else pd.read_csv
    daily = read(out / f"daily.{fmt}")
    assert len(daily) == 5 and "token_price_cny_per_mtok" in daily.columns
    assert len(read(out / f"hourly.{fmt}")) == 5 * 24 * 2
    meta = json.loads((out / "run.json").read_text())
    assert meta["seed"] == 4 and meta["overrides"] == ["apps.chatbot.elasticity=1.0"]
    assert meta["versions"]["mesa"] and meta["timings_s"]["simulate"] > 0
    assert (out / "graph.graphml").exists()
    assert not list(out.glob(".*tmp*"))


def test_scenarios_lists_each_with_a_line(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert "classroom" in out
