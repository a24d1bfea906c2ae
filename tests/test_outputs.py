"""A run's folder holds one whole run or nothing: staged beside ``--out``, renamed into place, locked, cleaned up."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from tokenomy.abm import output
from tokenomy.abm.cli import main
from tokenomy.abm.output import OutputError, clean_leftovers, staged_run_folder


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _hidden(parent: Path) -> set[str]:
    return {p.name for p in parent.iterdir() if p.name.startswith(".")}


def _stage(out: Path, files: dict[str, str], fail: bool = False) -> None:
    """Stage a run writing ``files``; its ``run.json`` (the manifest) holds ``files["run.json"]`` as a note."""
    with staged_run_folder(out) as staged:
        assert staged.parent == out.parent and staged.name.startswith(f".{out.name}.tmp-{os.getpid()}-")
        for name, text in files.items():
            if name != "run.json":
                (staged / name).write_text(text)
        manifest = {"note": files.get("run.json"), "files": sorted(set(files) - {"run.json"})}
        (staged / "run.json").write_text(json.dumps(manifest))
        before = out / "run.json"
        assert not before.exists() or _contents(out) != files  # not in place before the end
        if fail:
            raise RuntimeError("the run failed")


def _contents(out: Path) -> dict[str, str]:
    """The files in ``out`` and their text (run.json: its note)."""
    found = {p.name: p.read_text() for p in out.iterdir()}
    if "run.json" in found:
        found["run.json"] = json.loads(found["run.json"])["note"]
    return found


def test_a_staged_folder_appears_whole_and_replaces_an_earlier_run(tmp_path):
    out = tmp_path / "nested" / "run"
    _stage(out, {"run.json": "first", "daily.parquet": "1"})
    assert _contents(out) == {"run.json": "first", "daily.parquet": "1"}
    _stage(out, {"run.json": "second", "hourly.csv": "2"})
    assert _contents(out) == {"run.json": "second", "hourly.csv": "2"}
    assert _hidden(out.parent) == {".run.lock"}  # no staging or trash folder stays behind


def test_without_renameat2_two_renames_replace_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr(output, "_exchange", lambda a, b: False)
    out = tmp_path / "run"
    _stage(out, {"run.json": "first"})
    _stage(out, {"run.json": "second", "agents.csv": "3"})
    assert sorted(p.name for p in out.iterdir()) == ["agents.csv", "run.json"]
    assert _hidden(tmp_path) == {".run.lock"}


def test_a_failed_run_leaves_the_earlier_run_untouched(tmp_path):
    out = tmp_path / "run"
    _stage(out, {"run.json": "first", "daily.csv": "1"})
    with pytest.raises(RuntimeError):
        _stage(out, {"run.json": "second"}, fail=True)
    assert _contents(out) == {"run.json": "first", "daily.csv": "1"}
    assert _hidden(tmp_path) == {".run.lock"}


@pytest.mark.parametrize("bad", [".", "..", "/", "a/.."])
def test_a_path_that_names_no_folder_is_refused(tmp_path, bad, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match="give a folder name"):
        _stage(Path(bad), {"run.json": "x"})
    assert list(tmp_path.iterdir()) == []


def test_a_folder_with_other_files_or_a_file_is_not_replaced(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "thesis.tex").write_text("mine")
    with pytest.raises(OutputError, match=r"thesis\.tex.*refusing to replace it"):
        _stage(notes, {"run.json": "x"})
    assert [p.name for p in notes.iterdir()] == ["thesis.tex"]
    plain = tmp_path / "plain"
    plain.write_text("a file")
    with pytest.raises(OutputError, match="not a folder"):
        _stage(plain, {"run.json": "x"})
    assert plain.read_text() == "a file"


def test_a_second_writer_of_the_same_folder_is_turned_away(tmp_path):
    out = tmp_path / "run"
    with staged_run_folder(out):
        with pytest.raises(OutputError, match=rf"another tokenomy run is writing {out} \(pid {os.getpid()}\)"):
            _stage(out, {"run.json": "second"})
        _stage(tmp_path / "other", {"run.json": "other"})  # another folder in the same parent is free
    _stage(out, {"run.json": "later"})  # and the lock is released after the run
    assert _contents(out)["run.json"] == "later"


class _Killed(BaseException):
    """Stands for SIGKILL in the middle of a removal: nothing after it runs."""


@pytest.mark.parametrize("kind", ["tmp", "trash"])
def test_a_removal_killed_half_way_leaves_a_folder_the_next_run_finishes(tmp_path, monkeypatch, kind):
    """A run killed while it removes a leftover (its own staging folder, or a killed run's), after each possible
    number of files removed: the next run still knows the folder as a run's and removes it (the folder's mark and
    manifest go last; a run's leftover had been left for good when its mark went first)."""
    files = ["daily.parquet", "hourly.parquet", "agents.parquet", "graph.graphml", "run.json"]
    for kill_after in range(len(files) + 2):
        parent = tmp_path / str(kill_after)
        parent.mkdir()
        folder = parent / f".run.{kind}-{_dead_pid()}-0000abcd"
        folder.mkdir()
        for name in files:
            (folder / name).write_text(json.dumps({"files": files[:-1]}) if name == "run.json" else "x")
        if kind == "tmp":
            (folder / output.STAGING_MARK).write_text("")
        unlink, removed = os.unlink, []

        def killed_after(path, *args, _unlink=unlink, _removed=removed, _n=kill_after, **kwargs):
            if len(_removed) == _n:
                raise _Killed
            _removed.append(path)
            return _unlink(path, *args, **kwargs)

        monkeypatch.setattr(os, "unlink", killed_after)
        try:
            output.remove_run_files(folder)
        except _Killed:
            assert folder.exists()
        else:  # as many files as could be removed: the removal ran to its end
            assert not folder.exists() and kill_after >= len(files)
        monkeypatch.setattr(os, "unlink", unlink)
        left = [folder.name] if folder.exists() else []
        assert [p.name for p in clean_leftovers(parent, "run")] == left
        assert list(parent.iterdir()) == []


def test_a_run_killed_while_writing_its_graph_leaves_a_folder_the_next_run_removes(tmp_path, monkeypatch):
    """The graph is written to a temporary file named as the output folder names its own, so a run killed in the
    middle of it (seen in CI: a staging folder left for good holding 'graph.graphml.tmp') is cleaned up."""
    from tokenomy.networks import graphml

    staged = tmp_path / f".run.tmp-{_dead_pid()}-0000abcd"
    staged.mkdir()
    (staged / output.STAGING_MARK).write_text("")
    (staged / "daily.parquet").write_text("x")

    def killed(*args, **kwargs):
        raise _Killed

    monkeypatch.setattr(graphml.Path, "replace", killed)
    with pytest.raises(_Killed):
        graphml.write_graph(nx.path_graph(3), staged / "graph.graphml")
    monkeypatch.undo()
    (temp,) = [p.name for p in staged.iterdir() if p.name.startswith(".graph")]
    assert output.TEMP_FILE.fullmatch(temp)
    assert [p.name for p in clean_leftovers(tmp_path, "run")] == [staged.name]
    assert list(tmp_path.iterdir()) == []


def test_an_empty_staging_folder_a_killed_run_left_is_removed_and_a_users_file_beside_it_kept(tmp_path):
    """Killed between making its staging folder and marking it, a run leaves an empty folder: the next run removes
    it (nothing in it to lose); a folder of the same name holding a user's file stays."""
    empty = tmp_path / f".run.tmp-{_dead_pid()}-0000abcd"
    empty.mkdir()
    users = tmp_path / f".run.tmp-{_dead_pid()}-0000dcba"
    users.mkdir()
    (users / "notes.txt").write_text("mine")
    assert [p.name for p in clean_leftovers(tmp_path, "run")] == [empty.name]
    assert (users / "notes.txt").read_text() == "mine"


def test_leftovers_of_killed_runs_are_removed_and_live_ones_kept(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    names = {
        "own_live": f".run.tmp-{alive}-0000aaaa",
        "own_trash": f".run.trash-{dead}-0000bbbb",
        "other_dead": f".other.tmp-{dead}-0000cccc",
        "other_live": f".other.tmp-{alive}-0000dddd",
        "other_old": f".old.tmp-{alive}-0000eeee",
        "not_ours": f".thesis.tmp-{dead}-0000ffff",
    }
    for key, name in names.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / ("chapter1.tex" if key == "not_ours" else "daily.csv")).write_text("x")
        if key == "own_trash":  # a trash folder is a whole run: its run.json lists its files
            (tmp_path / name / "run.json").write_text(json.dumps({"files": ["daily.csv"]}))
        elif key != "not_ours":  # a staging folder a run made carries its mark
            (tmp_path / name / output.STAGING_MARK).write_text("")
    (tmp_path / f".notes.tmp-{dead}-00001111").write_text("a file, not a staging folder")
    (tmp_path / "keep").mkdir()
    old = time.time() - output.STALE_AFTER_S - 60
    os.utime(tmp_path / names["other_old"], (old, old))
    removed = {p.name for p in clean_leftovers(tmp_path, "run")}
    assert removed == {names["own_live"], names["own_trash"], names["other_dead"], names["other_old"]}
    assert {p.name for p in tmp_path.iterdir()} == {
        names["other_live"],
        names["not_ours"],
        f".notes.tmp-{dead}-00001111",
        "keep",
    }


# through the command line


def _assert_whole_run(out: Path) -> dict:
    """``out`` holds exactly one run: the files its run.json lists, each loading, with its number of days."""
    run = json.loads((out / "run.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == sorted([*run["files"], "run.json"])
    for name in run["files"]:
        if name.endswith(".graphml"):
            assert nx.read_graphml(out / name).number_of_nodes() > 0
            continue
        frame = pd.read_parquet(out / name) if name.endswith(".parquet") else pd.read_csv(out / name)
        assert len(frame) > 0
        if name.startswith("daily"):
            assert len(frame) == run["days"]
        if name.startswith("hourly"):
            assert len(frame) % (24 * run["days"]) == 0
    return run


def test_run_writes_one_whole_run_and_replaces_it_whole(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "classroom", "--days", "3", "--out", str(out), "--quiet"]) == 0
    assert _assert_whole_run(out)["days"] == 3
    assert main(["run", "classroom", "--days", "4", "--format", "csv", "--out", str(out), "--quiet"]) == 0
    run = _assert_whole_run(out)
    assert (run["days"], run["format"]) == (4, "csv")
    assert _hidden(tmp_path) == {".run.lock"}
    assert f"tables in {out}/" in capsys.readouterr().out


@pytest.mark.parametrize("out", ["", "."])
def test_run_refuses_an_out_that_names_no_folder(out, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "classroom", "--days", "2", "--out", out, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_run_refuses_to_replace_a_folder_that_is_not_a_run(tmp_path, capsys):
    (tmp_path / "results.xlsx").write_text("precious")
    assert main(["run", "classroom", "--days", "2", "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "results.xlsx" in err and err.count("\n") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["results.xlsx"]


class _Child:
    """``tokenomy ARGV`` in a fresh interpreter (never a fork of this multi-threaded test process, whose locks a
    forked child could inherit held), its standard output discarded and its standard error into ``stderr``."""

    def __init__(self, argv: list[str], stderr: Path | None = None):
        err = open(stderr, "w") if stderr else subprocess.DEVNULL  # noqa: SIM115 - closed in join
        self._err = err
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tokenomy.abm.cli", *argv], stdout=subprocess.DEVNULL, stderr=err
        )
        self.pid = self._proc.pid

    def join(self, timeout: float) -> None:
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return
        if self._err is not subprocess.DEVNULL:
            self._err.close()

    @property
    def exitcode(self) -> int | None:
        return self._proc.poll()


def _run_in_child(argv: list[str], stderr: Path | None = None) -> _Child:
    return _Child(argv, stderr)


def _start_up_s() -> float:
    """Seconds a fresh interpreter takes to import the command line and the model (before a run begins)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import tokenomy.abm.cli, tokenomy.abm.model"], check=True)
    return time.perf_counter() - t0


def test_a_run_into_a_folder_another_run_is_writing_exits_2(tmp_path):
    out, err = tmp_path / "run", tmp_path / "stderr.txt"
    with staged_run_folder(out):
        child = _run_in_child(["run", "classroom", "--days", "2", "--out", str(out), "--quiet"], stderr=err)
        child.join(120)
        assert not out.exists()
    assert child.exitcode == 2
    assert err.read_text() == f"error: another tokenomy run is writing {out} (pid {os.getpid()})\n"


@pytest.mark.slow
def test_sigkill_at_random_moments_never_leaves_a_mix(tmp_path):
    """A 30-day run sits in --out; 60-day runs into it are killed at seeded random moments from start to after
    their end: --out always holds one whole run, and a finished run afterwards leaves no temporaries."""
    out = tmp_path / "run"
    args = ["run", "classroom", "--out", str(out), "--quiet"]
    assert main([*args, "--days", "60"]) == 0  # the kernels compiled and cached on disk before the children start
    start_s = _start_up_s()
    t0 = time.perf_counter()
    child = _run_in_child([*args, "--days", "30"])
    child.join(120)
    full_s = time.perf_counter() - t0
    assert child.exitcode == 0 and _assert_whole_run(out)["days"] == 30
    rng = random.Random(20261129)
    outcomes = []
    for _ in range(12):  # kill moments spread from the end of the imports to after a 60-day run would end
        child = _run_in_child([*args, "--days", "60"])
        time.sleep(rng.uniform(0.9 * start_s, start_s + 2.4 * (full_s - start_s)))
        os.kill(child.pid, signal.SIGKILL)
        child.join(30)
        outcomes.append(_assert_whole_run(out)["days"] if out.exists() else None)
    assert set(outcomes) <= {30, 60, None}
    assert main([*args, "--days", "5"]) == 0
    assert _assert_whole_run(out)["days"] == 5
    left = {p.name: sorted(c.name for c in p.iterdir()) for p in tmp_path.iterdir() if p.is_dir() and p.name != "run"}
    assert _hidden(tmp_path) == {".run.lock"}, left


@pytest.mark.slow
def test_two_runs_into_one_folder_at_once_never_mix(tmp_path):
    """Two runs started together into one folder: the second to lock it exits 2, the other writes a whole run."""
    out = tmp_path / "run"
    main(["run", "classroom", "--days", "2", "--out", str(out), "--quiet"])  # kernels cached before the children
    turned_away = 0
    for _ in range(3):
        children = [
            _run_in_child(["run", "classroom", "--days", str(days), "--out", str(out), "--quiet"]) for days in (40, 41)
        ]
        for child in children:
            child.join(120)
        codes = sorted(child.exitcode for child in children)
        assert codes in ([0, 0], [0, 2]), codes
        turned_away += codes == [0, 2]
        assert _assert_whole_run(out)["days"] in (40, 41)
        assert _hidden(tmp_path) == {".run.lock"}
    assert turned_away  # the runs really overlapped


# an ensemble of seeds is one staged folder too


def _assert_whole_ensemble(out: Path) -> dict:
    """``out`` holds exactly one ensemble: the files its run.json lists, each seed's daily table ``days`` long."""
    run = json.loads((out / "run.json").read_text())
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert on_disk == {*run["files"], "run.json"}
    for seed in run["seeds"]:
        assert len(pd.read_parquet(out / f"seed-{seed}" / "daily.parquet")) == run["days"]
    assert len(pd.read_parquet(out / "summary.parquet")) % run["days"] == 0
    return run


def _session_processes(sid: int) -> list[str]:
    """``PID: command line`` of the live processes of session ``sid`` (a child started in a new session, its pool
    and fork server)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            found.append(f"{entry.name}: {cmdline[:120]}")
    return found


def test_an_ensemble_into_a_folder_another_run_is_writing_exits_2(tmp_path, capsys):
    out = tmp_path / "run"
    with staged_run_folder(out):
        assert main(["run", "classroom", "--days", "2", "--seeds", "1-2", "--out", str(out), "--quiet"]) == 2
        assert not out.exists()
    assert capsys.readouterr().err == f"error: another tokenomy run is writing {out} (pid {os.getpid()})\n"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_killed_ensemble_leaves_the_earlier_one_whole_and_no_process(tmp_path):
    """An ensemble of seeds 1-2 sits in --out; one of seeds 1-4 in two worker processes is killed (SIGKILL, the
    coordinator alone) once its staging folder holds a finished seed: --out still holds seeds 1-2, whole, no pool
    process outlives the coordinator, and the next ensemble clears the leftovers."""
    out = tmp_path / "run"
    args = ["run", "classroom", "--days", "30", "--out", str(out), "--quiet"]
    assert main([*args, "--seeds", "1-2"]) == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokenomy.abm.cli", *args, "--seeds", "1-4", "--workers", "2"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if list(tmp_path.glob(".run.tmp-*/seed-*/graph.graphml")):
                break
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        run = _assert_whole_ensemble(out)
        assert run["seeds"] in ([1, 2], [1, 2, 3, 4])  # the earlier ensemble, or the new one if it had finished
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _session_processes(proc.pid):
            time.sleep(0.1)
        assert _session_processes(proc.pid) == []
    finally:
        for member in _session_processes(proc.pid):
            os.kill(int(member.split(":")[0]), signal.SIGKILL)
    assert main([*args, "--seeds", "3-4"]) == 0
    assert _assert_whole_ensemble(out)["seeds"] == [3, 4]
    assert _hidden(tmp_path) == {".run.lock"}
