"""A sweep stays in its folder, leaves nothing when it cannot start, and leaves no process behind when killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import write

from tokenomy.abm.batch import run_sweep
from tokenomy.abm.batch import runner as runner_module
from tokenomy.abm.cli import main
from tokenomy.abm.errors import UsageError

SMALL = """
[sweep]
name = "{name}"
scenario = "classroom"
days = 2
"""


@pytest.mark.parametrize("name", ["../../../../tmp/x", "a/b", "..", "/abs", "back\\\\slash"])
def test_a_sweep_name_that_leaves_the_sweeps_folder_is_refused(tmp_path, monkeypatch, capsys, name):
    sweep = write(tmp_path / "s.toml", SMALL.format(name=name))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["sweep", str(sweep), "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert list(work.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml", "work"]


class _Unstartable:
    name = "unstartable"

    def __enter__(self):
        raise UsageError("--scheduler tcp://nowhere:1: cannot connect")

    def __exit__(self, *exc):
        return False


def test_a_sweep_whose_executor_cannot_start_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(runner_module, "make_executor", lambda *args: _Unstartable())
    sweep = write(tmp_path / "s.toml", SMALL.format(name="s"))
    with pytest.raises(UsageError, match="cannot connect"):
        run_sweep(sweep, tmp_path / "deep" / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def test_an_unreachable_scheduler_leaves_nothing(tmp_path, monkeypatch, capsys):
    distributed = pytest.importorskip("distributed")

    def refuse(address, timeout=None):
        raise OSError(f"Timed out trying to connect to {address}")

    monkeypatch.setattr(distributed, "Client", refuse)
    sweep = write(tmp_path / "s.toml", SMALL.format(name="s"))
    out = tmp_path / "out"
    assert main(["sweep", str(sweep), "--scheduler", "tcp://127.0.0.1:1", "--out", str(out)]) == 2
    assert "cannot connect" in capsys.readouterr().err
    assert not out.exists()


def test_a_sweep_into_an_existing_folder_that_fails_keeps_the_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(runner_module, "make_executor", lambda *args: _Unstartable())
    out = tmp_path / "mine"
    out.mkdir()
    (out / "sweep.json").write_text("{}")  # an earlier sweep's (a folder of other files is refused outright)
    with pytest.raises(UsageError):
        run_sweep(write(tmp_path / "s.toml", SMALL.format(name="s")), out)
    assert [p.name for p in out.iterdir()] == ["sweep.json"]


LONG = """
[sweep]
scenario = "classroom"
days = 1500
seeds = 4
"""


def _session_members(sid: int) -> list[str]:
    """The live processes of session ``sid`` (the sweep started a session of its own): pid and command line."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, session = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0::3][:2]
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError):
            continue
        if int(session) == sid and state != "Z":
            members.append(f"{entry.name}: {cmdline[:120]}")
    return members


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_sigkill_of_the_sweep_leaves_no_process_behind(tmp_path):
    sweep = write(tmp_path / "long.toml", LONG)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tokenomy.abm.cli",
            "sweep",
            str(sweep),
            "--workers",
            "2",
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ],
        start_new_session=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(_session_members(proc.pid)) < 5:  # sweep, tracker, server, 2 workers
            time.sleep(0.2)
        assert len(_session_members(proc.pid)) >= 5, _session_members(proc.pid)
        time.sleep(0.5)  # the workers are running
        os.kill(proc.pid, signal.SIGKILL)  # the coordinator alone, as the OOM killer or `kill -9 PID` would
        proc.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _session_members(proc.pid):
            time.sleep(0.2)
        assert _session_members(proc.pid) == []
    finally:
        for member in _session_members(proc.pid):
            os.kill(int(member.split(":")[0]), signal.SIGKILL)
