"""report, compare, Morris sensitivity, and the one-line errors of bad sweep files and missing extras."""

from __future__ import annotations

import sys

import pandas as pd
import pytest
from conftest import write

from tokenomy.abm.batch import run_sweep
from tokenomy.abm.batch.report import write_report
from tokenomy.abm.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


def test_report_has_every_point_and_seed(grid_pool, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", str(grid_pool.out), "--out", str(out)]) == 0
    assert "report.html" in capsys.readouterr().out
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 2 and list(summary["n_seeds"]) == [2, 2]
    assert list(summary["apps.chatbot.agent_multiplier"]) == [2.0, 8.0]
    for metric in (
        "token_price_cny_per_mtok_mean",
        "compute_price_cny_per_gpu_hour_mean",
        "power_price_cny_per_mwh_mean",
        "tokens_served_mtok_mean",
        "unserved_share_mean",
        "gpus_online_last",
        "green_share_mean",
        "power_spread_cny_per_mwh_mean",
    ):
        for stat in ("mean", "std", "ci95_low", "ci95_high"):
            assert f"{metric}_{stat}" in summary
        assert (summary[f"{metric}_ci95_low"] <= summary[f"{metric}_mean"] + 1e-12).all()
    assert len(pd.read_csv(out / "metrics.csv")) == 4
    for png in ("paths.png", "metrics.png"):
        assert (out / png).read_bytes().startswith(PNG)
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "src='http" not in page and 'src="http' not in page  # self-contained


MORRIS = """
[sweep]
name = "morris"
scenario = "classroom"
days = 30
design = "morris"
samples = 4
levels = 4
[[parameters]]
key = "markets.token_price_sensitivity"
min = 1.0
max = 5.0
[[parameters]]
key = "apps.chatbot.agent_multiplier"
min = 2.0
max = 10.0
[[parameters]]
key = "technologies.hydro.capex_cny_per_kw"   # classroom builds no hydro (build_mw_per_month = 0)
min = 5000.0
max = 20000.0
"""


def test_morris_ranks_the_ignored_parameter_last(tmp_path):
    pytest.importorskip("SALib")
    sweep = write(tmp_path / "morris.toml", MORRIS)
    result = run_sweep(sweep, tmp_path / "out", workers=2)
    assert len(result.runs) == 4 * (3 + 1) and set(result.runs["status"]) == {"done"}
    # the dummy truly does nothing: a trajectory step that moves only it leaves the daily table unchanged
    table = result.runs.set_index("point").sort_index()
    moved = ("markets.token_price_sensitivity", "apps.chatbot.agent_multiplier")
    daily = result.daily
    model_columns = [c for c in daily.columns if c not in ("point", "seed", "run_key", *table.columns)]
    pairs = 0
    for p in range(1, len(table)):
        prev, cur = table.loc[p - 1], table.loc[p]
        if p % 4 and all(prev[k] == cur[k] for k in moved):  # same trajectory (k + 1 = 4 rows), only the dummy moved
            pairs += 1
            a = daily.loc[daily["point"] == p - 1, model_columns].reset_index(drop=True)
            b = daily.loc[daily["point"] == p, model_columns].reset_index(drop=True)
            pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert pairs >= 1
    paths = write_report(tmp_path / "out")
    sens = pd.read_csv(paths["sensitivity"])
    dummy = sens[sens["parameter"] == "technologies.hydro.capex_cny_per_kw"]
    assert (dummy["mu_star"] == 0).all()
    token = sens[sens["metric"] == "token_price_cny_per_mtok_mean"].set_index("parameter")
    assert token["rank"].idxmax() == "technologies.hydro.capex_cny_per_kw"
    assert token.drop("technologies.hydro.capex_cny_per_kw")["mu_star"].gt(0).all()
    assert paths["sensitivity_png"].read_bytes().startswith(PNG)
    assert "Sensitivity" in paths["html"].read_text()


def test_compare_two_scenarios_side_by_side(tmp_path, capsys):
    out = tmp_path / "cmp"
    code = main(
        [
            "compare",
            "classroom",
            "classroom",
            "--set-b",
            "apps.chatbot.agent_multiplier=10",
            "--days",
            "8",
            "--seeds",
            "2",
            "--workers",
            "0",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    text = capsys.readouterr().out
    assert code == 0
    assert "token price" in text and "difference" in text
    table = pd.read_csv(out / "compare.csv")
    row = table[table["metric"] == "tokens_served_mtok_mean"].iloc[0]
    assert row["difference"] > 0
    assert (out / "compare.png").read_bytes().startswith(PNG)
    assert "data:image/png;base64," in (out / "compare.html").read_text()
    # a finished sweep folder (one point) is read, not run again
    assert (
        main(
            [
                "compare",
                str(out / "runs" / "classroom"),
                "classroom",
                "--days",
                "8",
                "--seeds",
                "2",
                "--workers",
                "0",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    capsys.readouterr()


def _one_line_error(capsys, argv, *fragments):
    code = main(argv)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    for frag in fragments:
        assert frag in lines[0], lines[0]


BAD = {
    "unknown_key": ("[sweep]\nscenario = 'classroom'\nseedz = 3\n", ["unknown key 'sweep.seedz'", "sweep.seeds"]),
    "unknown_parameter": (
        "[sweep]\nscenario = 'classroom'\n[[parameters]]\nkey = 'apps.chatbot.userz'\nvalues = [1]\n",
        ["unknown key 'apps.chatbot.userz'", "apps.chatbot.users"],
    ),
    "unknown_entry": (
        "[sweep]\nscenario = 'classroom'\n[[parameters]]\nkey = 'aidcs.wes-aidc.gpus'\nvalues = [1]\n",
        ["no entry named 'wes-aidc'", "west-aidc"],
    ),
    "out_of_range": (
        "[sweep]\nscenario = 'classroom'\n[[parameters]]\nkey = 'aidcs.west-aidc.gpus'\nvalues = [100.0, -5.0]\n",
        ["aidcs.west-aidc.gpus", "-5", "out of range"],
    ),
    "range_out_of_range": (
        "[sweep]\nscenario = 'classroom'\ndesign = 'latin'\n[[parameters]]\n"
        "key = 'apps.chatbot.elasticity'\nmin = 0.5\nmax = 50.0\n",
        ["apps.chatbot.elasticity", "50", "out of range"],
    ),
    "bad_toml": ("[sweep\nscenario = 'classroom'\n", ["malformed TOML"]),
    "unknown_scenario": ("[sweep]\nscenario = 'clasroom'\n", ["unknown scenario 'clasroom'", "classroom"]),
    "bad_design": ("[sweep]\nscenario = 'classroom'\ndesign = 'morriss'\n", ["design", "morris"]),
    "values_in_latin": (
        "[sweep]\nscenario = 'classroom'\ndesign = 'latin'\n[[parameters]]\n"
        "key = 'apps.chatbot.elasticity'\nvalues = [1.0]\n",
        ["only works with design"],
    ),
    "bad_fixed_set": (
        "[sweep]\nscenario = 'classroom'\nset = ['markets.token_inertia=7']\n",
        ["markets.token_inertia", "out of range"],
    ),
    "sobol_not_power_of_2": (
        "[sweep]\nscenario = 'classroom'\ndesign = 'sobol'\nsamples = 10\n[[parameters]]\n"
        "key = 'apps.chatbot.elasticity'\nmin = 1.0\nmax = 2.0\n[[parameters]]\n"
        "key = 'markets.token_inertia'\nmin = 0.5\nmax = 0.9\n",
        ["power of 2"],
    ),
    "bad_table": ("[sweep]\nscenario = 'classroom'\ntables = ['trades']\n", ["unknown table 'trades'"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_sweep_file_is_one_line_and_exit_2(case, tmp_path, capsys):
    text, fragments = BAD[case]
    sweep = tmp_path / "bad.toml"
    sweep.write_text(text)
    _one_line_error(capsys, ["sweep", str(sweep), "--out", str(tmp_path / "out")], *fragments)
    assert not (tmp_path / "out").exists()  # nothing ran


def test_bad_flags_and_paths(tmp_path, capsys, grid_file):
    _one_line_error(capsys, ["sweep", str(tmp_path / "nope.toml")], "no such sweep file")
    _one_line_error(capsys, ["sweep", str(grid_file), "--workers", "-1"], "--workers")
    _one_line_error(capsys, ["sweep", str(grid_file), "--cluster", "slurm"], "--cluster")
    _one_line_error(
        capsys, ["sweep", str(grid_file), "--cluster", "local", "--scheduler", "tcp://x:1"], "not allowed with"
    )
    _one_line_error(capsys, ["report", str(tmp_path)], "not a sweep folder")
    _one_line_error(capsys, ["report", str(tmp_path / "nope")], "no such folder")


def test_missing_extras_name_the_extra(monkeypatch, tmp_path, capsys, grid_file):
    monkeypatch.setitem(sys.modules, "distributed", None)
    _one_line_error(
        capsys,
        ["sweep", str(grid_file), "--cluster", "local", "--out", str(tmp_path / "a")],
        "needs Dask",
        "pip install 'tokenomy[distributed]'",
    )
    _one_line_error(
        capsys,
        ["sweep", str(grid_file), "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path)],
        "--scheduler needs Dask",
    )
    monkeypatch.setitem(sys.modules, "SALib", None)
    morris = write(tmp_path / "m.toml", MORRIS)
    _one_line_error(capsys, ["sweep", str(morris)], "needs SALib", "tokenomy[sensitivity]")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    _one_line_error(capsys, ["report", str(tmp_path)], "tokenomy[plots]")
