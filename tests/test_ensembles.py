"""Ensembles of seeds (``tokenomy run --seeds``): each seed's files are a single run's to the last bit, whichever
process ran it; the summary's bands are numpy's percentiles of the seeds' tables; the printed spread is the
seeds' run means."""

from __future__ import annotations

import json
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from tokenomy.abm.bands import SUMMARY_PERCENTILES, ensemble_summary, numeric_columns, run_mean_spread
from tokenomy.abm.cli import main
from tokenomy.abm.model import TokenEconomy
from tokenomy.abm.seeds import SeedListError, parse_seeds, seeds_text

DAYS = 20
OVERRIDE = "apps.chatbot.elasticity=1.0"
RUN_FILES = ("daily", "hourly", "agents")


def _run(*argv: str) -> None:
    assert main(["run", "classroom", "--days", str(DAYS), "--set", OVERRIDE, "--quiet", *argv]) == 0


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """An ensemble of seeds 1-3 run here (Parquet), the same with two worker processes (CSV), and single runs of
    seeds 1 and 3 in both formats."""
    root = tmp_path_factory.mktemp("ensembles")
    _run("--seeds", "1-3", "--out", str(root / "inline"))
    _run("--seeds", "3,1-2", "--workers", "2", "--format", "csv", "--out", str(root / "pool"))
    for seed in (1, 3):
        for fmt in ("parquet", "csv"):
            _run("--seed", str(seed), "--format", fmt, "--out", str(root / f"single-{seed}-{fmt}"))
    return {p.name: p for p in root.iterdir()}


@pytest.mark.parametrize("ensemble,fmt", [("inline", "parquet"), ("pool", "csv")])
@pytest.mark.parametrize("seed", [1, 3])
def test_each_seed_is_a_single_run_bit_for_bit(runs, ensemble, fmt, seed):
    single, member = runs[f"single-{seed}-{fmt}"], runs[ensemble] / f"seed-{seed}"
    names = [f"{t}.{fmt}" for t in RUN_FILES] + ["graph.graphml"]
    assert sorted(p.name for p in member.iterdir()) == sorted(names)
    for name in names:
        assert (member / name).read_bytes() == (single / name).read_bytes(), name
    pd.testing.assert_frame_equal(_read(member / f"daily.{fmt}"), _read(single / f"daily.{fmt}"))


def _seed_dailies(folder: Path, fmt: str) -> list[pd.DataFrame]:
    run = json.loads((folder / "run.json").read_text())
    return [_read(folder / f"seed-{seed}" / f"daily.{fmt}") for seed in run["seeds"]]


def test_the_summary_is_numpys_percentiles_of_the_seed_tables_and_ordered(runs):
    dailies = _seed_dailies(runs["inline"], "parquet")
    summary = pd.read_parquet(runs["inline"] / "summary.parquet")
    metrics = numeric_columns(dailies[0])
    assert len(metrics) > 40 and "day" not in metrics
    assert list(summary["metric"].cat.categories) == metrics
    assert len(summary) == len(metrics) * DAYS
    for metric, rows in summary.groupby("metric", observed=True):
        assert rows["day"].tolist() == list(range(DAYS))
        assert rows["date"].tolist() == dailies[0]["date"].tolist()
        values = np.vstack([d[metric].to_numpy(dtype=float) for d in dailies])
        for q in SUMMARY_PERCENTILES:
            np.testing.assert_array_equal(rows[f"p{q}"], np.percentile(values, q, axis=0), err_msg=metric)
        np.testing.assert_array_equal(rows["mean"], values.mean(axis=0))
        np.testing.assert_array_equal(rows["std"], values.std(axis=0, ddof=1))
        bands = rows[[f"p{q}" for q in SUMMARY_PERCENTILES]].to_numpy()
        assert (np.diff(bands, axis=1) >= 0).all(), metric
        assert (bands[:, 0] >= values.min(axis=0)).all() and (bands[:, -1] <= values.max(axis=0)).all()
    assert (summary["seeds"] == 3).all()


def test_the_csv_summary_holds_the_same_numbers(runs):
    parquet = pd.read_parquet(runs["inline"] / "summary.parquet")
    csv = pd.read_csv(runs["pool"] / "summary.csv")
    assert list(csv.columns) == list(parquet.columns)
    assert csv["metric"].tolist() == parquet["metric"].astype(str).tolist()
    for col in ("mean", "std", *(f"p{q}" for q in SUMMARY_PERCENTILES)):
        np.testing.assert_array_equal(csv[col], parquet[col], err_msg=col)


def test_run_json_records_the_ensemble(runs):
    run = json.loads((runs["pool"] / "run.json").read_text())
    assert run["seeds"] == [1, 2, 3] and run["days"] == DAYS and run["overrides"] == [OVERRIDE]
    assert run["workers"] == 2 and run["format"] == "csv" and run["versions"]["mesa"]
    assert set(run["timings_s"]["per_seed"]) == {"1", "2", "3"}
    assert all(t["simulate"] > 0 for t in run["timings_s"]["per_seed"].values())
    listed = {*run["files"], "run.json"}
    on_disk = {str(p.relative_to(runs["pool"])) for p in runs["pool"].rglob("*") if p.is_file()}
    assert on_disk == listed
    assert not list(runs["pool"].parent.glob(".pool.tmp-*"))


def test_the_printed_spread_is_the_seeds_run_means(tmp_path, capsys):
    _run("--seeds", "2-4", "--out", str(tmp_path / "e"))
    text = capsys.readouterr().out
    dailies = _seed_dailies(tmp_path / "e", "parquet")
    means = [d.token_price_cny_per_mtok.mean() for d in dailies]
    cv = np.std(means, ddof=1) / abs(np.mean(means))
    row = next(line for line in text.splitlines() if line.strip().startswith("token price"))
    assert f"{np.median(means):.3f}" in row and f"{cv:.1%}" in row
    assert f"{np.percentile(means, 5):.3f} to {np.percentile(means, 95):.3f}" in row
    for label in ("compute price", "power price", "tokens served", "unserved share", "GPUs online"):
        assert label in text
    assert "3 seeds (2-4)" in text and f"tables in {tmp_path / 'e'}/" in text


def test_compare_reads_every_seed_of_an_ensemble(runs, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", str(runs["inline"]), str(runs["single-1-parquet"]), "--out", str(out)]) == 0
    table = pd.read_csv(out / "compare.csv").set_index("metric")
    means = [d.token_price_cny_per_mtok.mean() for d in _seed_dailies(runs["inline"], "parquet")]
    assert table.loc["token_price_cny_per_mtok_mean", "inline"] == pytest.approx(np.mean(means), rel=1e-12)
    assert "inline" in capsys.readouterr().out


def test_the_default_folder_names_the_first_and_last_seed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "classroom", "--days", "2", "--seeds", "9,4", "--quiet"]) == 0
    assert sorted(p.name for p in (tmp_path / "out" / "classroom-seeds-4-9").iterdir()) == [
        "run.json",
        "seed-4",
        "seed-9",
        "summary.parquet",
    ]


def test_an_ensemble_and_a_single_run_replace_each_other(tmp_path):
    out = tmp_path / "out"
    assert main(["run", "classroom", "--days", "2", "--out", str(out), "--quiet"]) == 0
    assert main(["run", "classroom", "--days", "2", "--seeds", "1-2", "--out", str(out), "--quiet"]) == 0
    assert (out / "seed-2" / "daily.parquet").exists() and not (out / "daily.parquet").exists()
    assert main(["run", "classroom", "--days", "2", "--out", str(out), "--quiet"]) == 0
    assert (out / "daily.parquet").exists() and not (out / "seed-2").exists()


def test_a_seed_folder_holding_other_files_is_not_replaced(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "classroom", "--days", "2", "--seeds", "1-2", "--out", str(out), "--quiet"]) == 0
    (out / "seed-1" / "notes.txt").write_text("mine")
    assert main(["run", "classroom", "--days", "2", "--seeds", "1-2", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "seed-1" in err and "refusing to replace it" in err and err.count("\n") == 1
    assert (out / "seed-1" / "notes.txt").read_text() == "mine"


# the seed lists themselves


@pytest.mark.parametrize(
    "text,seeds",
    [
        ("1-20", list(range(1, 21))),
        ("1,2,5", [1, 2, 5]),
        ("3-5,9", [3, 4, 5, 9]),
        ("9, 3 - 5", [3, 4, 5, 9]),
        ("7", [7]),
        ("007", [7]),
        ("0-999", list(range(1000))),
        ("4294967295", [4294967295]),
    ],
)
def test_seed_lists_read_as_the_seeds_they_name(text, seeds):
    assert parse_seeds(text, 2**32 - 1, 1000) == seeds


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("", "got nothing"),
        ("1-", "not a seed or a range"),
        ("1,,2", "not a seed or a range"),
        ("-3", "not a seed or a range"),
        ("5-1", "runs backwards: write 1-5"),
        ("0-1000", "at most 1,000 seeds, got 1,001"),
        ("0-4294967295", "at most 1,000 seeds, got 4,294,967,296"),
        ("4294967296", "out of range"),
        ("9" * 5000, "out of range"),
        ("1-3,2", "seed 2 is named twice"),
    ],
)
def test_bad_seed_lists_name_the_problem(text, fragment):
    with pytest.raises(SeedListError, match=fragment):
        parse_seeds(text, 2**32 - 1, 1000)


def test_seeds_read_back_as_ranges():
    assert seeds_text([1, 2, 3, 5, 7, 8]) == "1-3,5,7-8"
    assert seeds_text([4]) == "4"
    for text in ("1-20", "3-5,9", "0,2,4"):
        assert seeds_text(parse_seeds(text, 100, 100)) == text


def test_one_seed_has_no_spread():
    daily = TokenEconomy("classroom", seed=1)
    daily.run(3)
    table = daily.daily_table()
    summary = ensemble_summary([table])
    assert summary["std"].isna().all() and (summary["p5"] == summary["p95"]).all()
    assert math.isnan(run_mean_spread([table], ["token_price_cny_per_mtok"]).loc["token_price_cny_per_mtok", "cv"])


@pytest.mark.slow
def test_a_whole_horizon_for_three_seeds_matches_the_model(tmp_path):
    """Three seeds of the classroom's whole horizon in two processes: each seed's daily table is the model's, its
    graph the model's graph, and the summary's median the seeds' median."""
    out = tmp_path / "e"
    assert main(["run", "classroom", "--seeds", "5-7", "--workers", "2", "--out", str(out), "--quiet"]) == 0
    horizon = TokenEconomy("classroom").config.data["scenario"]["days"]
    dailies = []
    for seed in (5, 6, 7):
        model = TokenEconomy("classroom", seed=seed)
        model.run(horizon)
        daily, expected = pd.read_parquet(out / f"seed-{seed}" / "daily.parquet"), model.daily_table()
        daily["date"] = daily["date"].astype(expected["date"].dtype)  # Parquet keeps dates in milliseconds
        pd.testing.assert_frame_equal(daily, expected)
        graph = nx.read_graphml(out / f"seed-{seed}" / "graph.graphml")
        assert graph.number_of_nodes() == model.graph.number_of_nodes()
        dailies.append(daily)
    assert len(dailies[0]) == horizon
    summary = pd.read_parquet(out / "summary.parquet")
    token = summary[summary.metric == "token_price_cny_per_mtok"]
    prices = np.vstack([d.token_price_cny_per_mtok for d in dailies])
    np.testing.assert_array_equal(token["p50"], np.median(prices, axis=0))


def test_ctrl_c_that_a_library_turns_into_its_own_error_still_keeps_the_finished_seeds(tmp_path, capsys, monkeypatch):
    """A first Ctrl-C while seed 2 is written asks the ensemble to stop; a second one, turned by the writing
    library into an error of its own, still ends in "interrupted" (exit 130) with seed 1 kept, seed 2's half-written
    folder removed, and no traceback."""
    import os
    import signal

    import tokenomy.abm.output as output

    original = output.write_run

    def write_then_fail(model, daily, folder, fmt):
        if folder.name == "seed-2":
            (folder / "daily.parquet").write_bytes(b"half")
            os.kill(os.getpid(), signal.SIGINT)  # the first Ctrl-C: a stop is asked for
            try:
                os.kill(os.getpid(), signal.SIGINT)  # the second: raised at once...
                raise AssertionError("the second Ctrl-C did not arrive")
            except KeyboardInterrupt:
                raise OSError("a library turned the interrupt into its own error") from None  # ...and swallowed
        return original(model, daily, folder, fmt)

    monkeypatch.setattr(output, "write_run", write_then_fail)
    out = tmp_path / "ens"
    code = main(["run", "classroom", "--seeds", "1-3", "--days", "5", "--quiet", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 130
    assert err == f"error: interrupted; kept the 1 of 3 seeds finished (1) in {out}/ with their summary; " + (
        "run.json lists the seeds not run\n"
    )
    assert sorted(p.name for p in out.iterdir()) == ["run.json", "seed-1", "summary.parquet"]
    record = json.loads((out / "run.json").read_text())
    assert record["seeds"] == [1] and record["interrupted"]["seeds_not_run"] == [2, 3]
    assert len(pd.read_parquet(out / "seed-1" / "daily.parquet")) == 5
