"""Sweeps key everything their result depends on, keep to their own files, and read damaged folders safely.

Every test plants what a careless or hostile user could: another user's temp folder, a scenario whose base is a
sibling file (then edited), a truncated run file, user files in ``--out``, a second sweep into the same folder,
a damaged ``sweep.json`` or journal.  Runs are one day long.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import write

sys.path.insert(0, str(Path(__file__).parents[1] / "validation"))
from validation_support import assert_one_line_error, cli  # noqa: E402

from tokenomy.abm.batch import load_results, load_sweep, run_sweep  # noqa: E402
from tokenomy.abm.batch.runner import plan, table_path  # noqa: E402
from tokenomy.abm.model import TokenEconomy  # noqa: E402

ONE_DAY = """
[sweep]
name = "tiny"
scenario = "{scenario}"
days = 1
seeds = {seeds}
"""

VARIANT = '[scenario]\nname = "{name}"\nbase = "{base}"\n{extra}\n'


def _sweep_file(folder: Path, scenario: str = "classroom", seeds: int = 2) -> Path:
    return write(folder / "w.toml", ONE_DAY.format(scenario=scenario, seeds=seeds))


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished two-run sweep folder to copy and damage."""
    folder = tmp_path_factory.mktemp("finished")
    result = run_sweep(_sweep_file(folder), folder / "out", workers=0)
    assert result.failed == 0 and len(result.runs) == 2
    return folder / "out"


def _copy(finished: Path, tmp_path: Path) -> Path:
    out = tmp_path / "sw"
    shutil.copytree(finished, out)
    return out


# 1. workers never use a shared, predictable temp folder


def test_workers_never_use_another_users_temp_folder(tmp_path, monkeypatch):
    """Another user made ``$TMPDIR/tokenomy-scenarios`` first and planted their scenario under the name a worker
    would use, and a symlink for the rest: the sweep runs our scenario and writes nothing there."""
    tmp = tmp_path / "tmp"
    planted = tmp / "tokenomy-scenarios"
    planted.mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    ours = tmp_path / "mine"
    ours.mkdir()
    text = VARIANT.format(name="mine", base="classroom", extra="")
    (ours / "s.toml").write_text(text)
    sha = hashlib.sha256(text.encode()).hexdigest()
    evil = VARIANT.format(name="evil", base="classroom", extra="[markets]\ntoken_price_sensitivity = 5.0")
    (planted / f"{sha[:16]}-s.toml").write_text(evil)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    for name in ("s.toml", f".{sha[:16]}-s.toml.{os.getpid()}"):  # links where a worker would write
        (planted / name).symlink_to(victim)
    before = sorted(p.name for p in planted.iterdir())
    result = run_sweep(_sweep_file(ours, str(ours / "s.toml"), seeds=1), ours / "out", workers=0)
    assert result.failed == 0
    model = TokenEconomy(str(ours / "s.toml"), seed=result.runs["seed"].iloc[0])
    model.run(1)
    got = result.daily.drop(columns=["point", "seed", "run_key"])
    pd.testing.assert_frame_equal(got, model.daily_table(), check_dtype=False)
    assert sorted(p.name for p in planted.iterdir()) == before
    assert victim.read_text() == "keep"
    assert sorted(p.name for p in tmp.iterdir()) == ["tokenomy-scenarios"]  # nothing else made in $TMPDIR


# 5. the run key covers the resolved scenario; workers run it with its base


def test_a_scenario_whose_base_is_a_sibling_file_sweeps(tmp_path):
    (tmp_path / "b.toml").write_text(VARIANT.format(name="b", base="classroom", extra=""))
    (tmp_path / "s.toml").write_text(VARIANT.format(name="s", base="b.toml", extra=""))
    result = run_sweep(_sweep_file(tmp_path, "s.toml", seeds=1), tmp_path / "out", workers=0)
    assert result.failed == 0, result.runs["error"].tolist()
    assert (result.runs["status"] == "done").all()


def test_editing_the_base_changes_the_run_key(tmp_path):
    base = tmp_path / "b.toml"
    base.write_text(VARIANT.format(name="b", base="classroom", extra=""))
    (tmp_path / "s.toml").write_text(VARIANT.format(name="s", base="b.toml", extra=""))
    sweep_file = _sweep_file(tmp_path, "s.toml", seeds=1)
    before = plan(load_sweep(sweep_file))["run_key"].tolist()
    base.write_text(VARIANT.format(name="b", base="classroom", extra="[markets]\ntoken_price_sensitivity = 5.0"))
    after = plan(load_sweep(sweep_file))["run_key"].tolist()
    assert before != after


def test_a_truncated_run_file_is_redone_on_resume(finished, tmp_path):
    out = _copy(finished, tmp_path)
    key = load_results(out).runs["run_key"].iloc[0]
    path = table_path(out, key)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    result = run_sweep(_sweep_file(tmp_path), out, workers=0)
    assert (result.ran, result.skipped) == (1, 1)
    assert path.read_bytes() == whole


# 3. sweep --out keeps to its own files, and takes the run lock


def test_sweep_refuses_a_folder_of_user_files(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("mine")
    (out / ".hidden").write_text("mine")
    result = cli(capsys, ["sweep", _sweep_file(tmp_path), "--workers", "0", "--quiet", "--out", out])
    assert_one_line_error(result, "thesis.tex")
    assert sorted(p.name for p in out.iterdir()) == [".hidden", "thesis.tex"]


def test_a_hidden_user_file_in_a_sweep_folder_is_never_deleted(finished, tmp_path, capsys):
    out = _copy(finished, tmp_path)
    (out / "runs" / ".notes.tmp-1").write_text("mine")
    result = cli(capsys, ["sweep", _sweep_file(tmp_path), "--workers", "0", "--quiet", "--out", out])
    assert_one_line_error(result, ".notes.tmp-1")
    assert (out / "runs" / ".notes.tmp-1").read_text() == "mine"


def test_a_second_sweep_into_a_folder_in_use_is_refused(finished, tmp_path, capsys):
    out = _copy(finished, tmp_path)
    journal = (out / "journal.jsonl").read_bytes()
    fd = os.open(tmp_path / ".sw.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, b"4242\n")
        write(tmp_path / "other.toml", ONE_DAY.format(scenario="classroom", seeds=3))
        result = cli(capsys, ["sweep", tmp_path / "other.toml", "--workers", "0", "--quiet", "--out", out])
    finally:
        os.close(fd)
    assert_one_line_error(result, "another tokenomy run is writing")
    assert (out / "journal.jsonl").read_bytes() == journal
    assert len(load_results(out).runs) == 2


def test_a_planted_lock_symlink_of_a_sweep_is_not_followed(tmp_path, capsys):
    precious = tmp_path / "precious.txt"
    precious.write_text("mine")
    (tmp_path / ".out.lock").symlink_to(precious)
    result = cli(capsys, ["sweep", _sweep_file(tmp_path), "--workers", "0", "--quiet", "--out", tmp_path / "out"])
    assert_one_line_error(result, ".out.lock")
    assert precious.read_text() == "mine"


def test_a_sweep_that_cannot_start_beside_a_running_one_leaves_that_one_alone(tmp_path, monkeypatch):
    """Two sweeps into sibling folders of a parent neither had: one failing before its first run removes only what
    it made, never the parent the other is writing in."""
    from tokenomy.abm.batch import runner as runner_module
    from tokenomy.abm.errors import UsageError

    parent = tmp_path / "new"
    other = parent / "other"

    class OtherStartsMeanwhile:
        def __enter__(self):
            other.mkdir(parents=True)  # the other sweep gets going while this one connects
            (other / "sweep.json").write_text("{}")
            raise UsageError("--scheduler tcp://nowhere:1: cannot connect")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(runner_module, "make_executor", lambda *args: OtherStartsMeanwhile())
    with pytest.raises(UsageError):
        run_sweep(_sweep_file(tmp_path), parent / "mine")
    assert (other / "sweep.json").exists()


# 6. damaged sweep folders: one line naming the file, exit 2


def _damage(out: Path, case: str) -> str:
    runs = sorted((out / "runs").iterdir())
    if case == "truncated-sweep-json":
        text = (out / "sweep.json").read_text()
        (out / "sweep.json").write_text(text[: len(text) // 2])
        return "sweep.json"
    if case == "list-sweep-json":
        (out / "sweep.json").write_text("[1, 2]")
        return "sweep.json"
    if case == "plan-missing":
        info = json.loads((out / "sweep.json").read_text())
        del info["plan"]
        (out / "sweep.json").write_text(json.dumps(info))
        return "sweep.json"
    if case == "plan-odd":
        info = json.loads((out / "sweep.json").read_text())
        info["plan"] = [{"point": "x"}]
        (out / "sweep.json").write_text(json.dumps(info))
        return "sweep.json"
    if case == "seeds-odd":
        info = json.loads((out / "sweep.json").read_text())
        info["seeds"] = "many"
        info["parameters"] = [5]
        (out / "sweep.json").write_text(json.dumps(info))
        return "sweep.json"
    if case == "non-utf8-sweep-json":
        (out / "sweep.json").write_bytes(b"\xff\xfe{")
        return "sweep.json"
    if case == "non-utf8-journal":
        with open(out / "journal.jsonl", "ab") as fh:
            fh.write(b"\xff\xfe\x00garbage\n")
        (out / "runs.parquet").unlink()
        return "journal.jsonl"
    if case == "empty-run-file":
        runs[0].write_bytes(b"")
        return runs[0].name
    if case == "truncated-run-file":
        data = runs[0].read_bytes()
        runs[0].write_bytes(data[: len(data) // 3])
        return runs[0].name
    raise AssertionError(case)


DAMAGE = [
    "truncated-sweep-json",
    "list-sweep-json",
    "plan-missing",
    "plan-odd",
    "seeds-odd",
    "non-utf8-sweep-json",
    "non-utf8-journal",
    "empty-run-file",
    "truncated-run-file",
]


@pytest.mark.parametrize("command", ["report", "compare"])
@pytest.mark.parametrize("case", DAMAGE)
def test_a_damaged_sweep_folder_is_one_line(case, command, finished, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = _copy(finished, tmp_path)
    name = _damage(out, case)
    if command == "report":
        argv = ["report", out, "--out", tmp_path / "rep"]
    else:
        argv = ["compare", out, out, "--quiet", "--out", tmp_path / "cmp"]
    result = cli(capsys, argv)
    if case == "non-utf8-journal":  # a damaged journal line is a torn one: its run is simply not counted as done
        assert "Traceback" not in result.err
        assert result.code in (0, 2), result.err
        if result.code == 2:
            assert_one_line_error(result, name)
        return
    assert_one_line_error(result, name)


# 7. Ctrl-C during an inline sweep


def test_an_interrupt_a_library_swallows_still_stops_an_inline_sweep(finished, tmp_path, monkeypatch):
    """SIGINT arriving while a library runs that turns KeyboardInterrupt into its own error (numba, pandas and
    pyarrow can): the sweep stops with KeyboardInterrupt, and the interrupted run is not recorded as failed."""
    out = _copy(finished, tmp_path)
    original = TokenEconomy.run
    calls = []

    def run_then_swallow(self, days, progress=None):
        calls.append(1)
        if len(calls) == 1:
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
            except KeyboardInterrupt:
                raise RuntimeError("a library turned the interrupt into its own error") from None
        return original(self, days, progress=progress)

    monkeypatch.setattr(TokenEconomy, "run", run_then_swallow)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(write(tmp_path / "more.toml", ONE_DAY.format(scenario="classroom", seeds=4)), out, workers=0)
    assert len(calls) == 1  # the sweep did not carry on
    records = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    assert [r["status"] for r in records] == ["done", "done"]  # the finished runs kept, nothing recorded failed


@pytest.mark.slow
def test_ctrl_c_during_an_inline_sweep_stops_it_keeping_the_finished_runs(tmp_path):
    """A real SIGINT at three moments while 30-day runs simulate (where numba once turned it into a SystemError
    and the run was recorded as failed): "interrupted", exit 130, no failed run, the sweep not carried on."""
    import random
    import subprocess

    sweep = write(tmp_path / "w.toml", ONE_DAY.format(scenario="classroom", seeds=40).replace("days = 1", "days = 30"))
    rng = random.Random(5)
    for attempt in range(3):
        out = tmp_path / f"out{attempt}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "tokenomy.abm.cli", "sweep", str(sweep), "--workers", "0", "--quiet", "--out", out],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        journal = out / "journal.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (journal.exists() and journal.stat().st_size):
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 1.0))
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert (proc.returncode, err.decode()) == (130, "error: interrupted\n")
        statuses = [json.loads(line)["status"] for line in journal.read_text().splitlines()]
        assert statuses and set(statuses) == {"done"} and len(statuses) < 40
