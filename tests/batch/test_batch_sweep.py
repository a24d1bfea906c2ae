"""Sweeps: the local pool and a Dask LocalCluster agree bit for bit, a killed sweep resumes, failures are kept."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import write

from tokenomy.abm.batch import load_results, run_sweep
from tokenomy.abm.batch.runner import Progress
from tokenomy.abm.cli import main


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "runs").glob("*.parquet"))}


def test_pool_sweep_returns_tables(grid_pool):
    runs = grid_pool.runs
    assert len(runs) == 4 and set(runs["status"]) == {"done"}
    assert sorted(runs["seed"].unique()) == [3, 4]
    assert sorted(runs["apps.chatbot.agent_multiplier"].unique()) == [2.0, 8.0]
    assert runs["simulate_s"].gt(0).all() and runs["error"].eq("").all()
    daily = grid_pool.daily
    assert len(daily) == 4 * 25
    assert {"point", "seed", "run_key", "apps.chatbot.agent_multiplier", "token_price_cny_per_mtok"} <= set(daily)
    # the seeds really differ, and the parameter really moves demand
    by = daily.groupby(["point", "seed"])["power_price_cny_per_mwh"].mean()
    assert by.loc[(0, 3)] != by.loc[(0, 4)]
    served = daily.groupby("point")["tokens_demanded_mtok"].mean()
    assert served.loc[1] > served.loc[0]
    # only the daily table was kept
    assert not (grid_pool.out / "hourly").exists()
    # and reading the folder back gives the same
    again = load_results(grid_pool.out)
    pd.testing.assert_frame_equal(again.daily, daily)


def test_same_run_same_file_as_a_plain_model_run(grid_pool):
    from tokenomy.abm.model import TokenEconomy

    rec = grid_pool.runs.iloc[-1]
    value = rec["apps.chatbot.agent_multiplier"]
    model = TokenEconomy("classroom", overrides=[f"apps.chatbot.agent_multiplier={value}"], seed=int(rec["seed"]))
    model.run(25)
    stored = pd.read_parquet(grid_pool.out / "runs" / f"{rec['run_key']}.parquet")
    expected = model.daily_table()
    expected["date"] = expected["date"].astype(stored["date"].dtype)  # Parquet has no seconds unit
    pd.testing.assert_frame_equal(stored, expected, check_exact=True)


def test_dask_local_cluster_gives_identical_tables(grid_file, grid_pool, tmp_path):
    pytest.importorskip("distributed")
    result = run_sweep(grid_file, tmp_path / "dask", workers=2, cluster="local")
    assert set(result.runs["status"]) == {"done"}
    assert set(result.runs["executor"]) == {"Dask LocalCluster"}
    assert _files(tmp_path / "dask") == _files(grid_pool.out)  # byte for byte
    pd.testing.assert_frame_equal(result.daily, grid_pool.daily, check_exact=True)


def test_rerun_skips_finished_runs(grid_file, grid_pool):
    before = {p.name: p.stat().st_mtime_ns for p in (grid_pool.out / "runs").glob("*.parquet")}
    result = run_sweep(grid_file, grid_pool.out, workers=0)
    assert (result.ran, result.skipped) == (0, 4)
    assert {p.name: p.stat().st_mtime_ns for p in (grid_pool.out / "runs").glob("*.parquet")} == before


KILL = """
[sweep]
scenario = "classroom"
days = 700
seeds = 4
[[parameters]]
key = "markets.token_inertia"
values = [0.7, 0.8]
"""


def test_sigkill_then_resume_runs_only_the_missing(tmp_path):
    sweep = write(tmp_path / "kill.toml", KILL)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokenomy.abm.cli", "sweep", str(sweep), "--workers", "1", "--out", str(out), "--quiet"],
        start_new_session=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # runs of ~1 s each: a loaded machine neither misses the first nor finishes the eight before the kill
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if list((out / "runs").glob("*.parquet")) if (out / "runs").exists() else []:
                break
            time.sleep(0.01)
        assert proc.poll() is None, proc.stderr.read().decode()
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its pool workers, mid-sweep
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stderr.close()
    survived = _files(out)
    assert 1 <= len(survived) < 8
    for name in survived:  # every finished file is whole
        assert len(pd.read_parquet(out / "runs" / name)) == 700
    mtimes = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.parquet")}

    result = run_sweep(sweep, out, workers=1)
    assert result.skipped == len(survived)
    assert result.ran == 8 - len(survived)
    assert set(result.runs["status"]) == {"done"}
    after = _files(out)
    assert len(after) == 8
    for name, data in survived.items():  # untouched: same bytes, never rewritten
        assert after[name] == data
        assert (out / "runs" / name).stat().st_mtime_ns == mtimes[name]
    assert not list((out / "runs").glob(".*tmp*"))
    journal_keys = [line for line in (out / "journal.jsonl").read_text().splitlines() if line.strip()]
    assert len(journal_keys) >= 8


FAILING = """
[sweep]
scenario = "classroom"
days = 10
set = ["markets.power_price_floor_cny_per_mwh=0"]
[[parameters]]
key = "markets.power_price_cap_cny_per_mwh"
values = [1500.0, 0.0, 900.0]     # a cap of 0 equals the floor: that run fails when it loads
"""


def test_failed_run_is_recorded_and_the_others_finish(tmp_path, capsys):
    sweep = write(tmp_path / "fail.toml", FAILING)
    out = tmp_path / "out"
    code = main(["sweep", str(sweep), "--workers", "2", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert "1 failed" in captured.out
    runs = pd.read_parquet(out / "runs.parquet")
    assert list(runs["status"]) == ["done", "failed", "done"]
    bad = runs.iloc[1]
    assert "ScenarioError" in bad["error"] and "price cap" in bad["error"]
    assert "point 1" in captured.err and "price cap" in captured.err
    assert len(_files(out)) == 2
    # a resume retries the failed run only
    result = run_sweep(sweep, out, workers=0)
    assert (result.ran, result.skipped, result.failed) == (1, 2, 1)


class _Tty:
    def __init__(self, tty: bool):
        self.text, self.tty = "", tty

    def isatty(self):
        return self.tty

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def test_progress_bar_only_on_a_terminal():
    tty = _Tty(True)
    bar = Progress(10, 2, True, tty)
    bar.update("done")
    bar.update("failed")
    bar.close()
    assert "4/10" in tty.text and "done 3, failed 1" in tty.text
    pipe = _Tty(False)
    bar = Progress(10, 0, True, pipe)
    bar.update("done")
    bar.close()
    assert pipe.text == ""
    quiet = _Tty(True)
    bar = Progress(10, 0, False, quiet)
    bar.update("done")
    bar.close()
    assert quiet.text == ""


def test_hourly_and_agents_tables_on_request(tmp_path):
    result = run_sweep(
        {"sweep": {"scenario": "classroom", "days": 3, "tables": ["hourly", "agents"]}}, tmp_path, workers=0
    )
    key = result.runs["run_key"].iloc[0]
    assert (tmp_path / "hourly" / f"{key}.parquet").exists()
    assert len(result.table("agents")) > 0 and len(result.table("hourly")) > 0


def test_key_changes_with_the_run(grid_pool):
    keys = grid_pool.runs["run_key"]
    assert keys.is_unique
    assert hashlib.sha256(b"").hexdigest()[:24] not in set(keys)
