"""Files are created safely, never followed, never deleted unless a run created them; only regular files are read.

Each test plants what a careless or hostile user could leave where a run writes or reads: a symbolic link as the
lock file, a folder or a file named like a run's own, a FIFO as an input.  The planted content must survive and
the command must end in one line (exit 2), never a hang.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "validation"))
from validation_support import assert_one_line_error, cli  # noqa: E402

from tokenomy.abm.output import OutputError, clean_leftovers, prepare_out_dir, staged_run_folder  # noqa: E402


@pytest.fixture
def no_hang():
    """Fail (instead of hanging for ever) when the code under test blocks for more than 20 seconds."""

    def alarm(signum, frame):
        raise TimeoutError("blocked for 20 s (a FIFO opened for reading?)")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _stage(out: Path, files: dict[str, str]) -> None:
    with staged_run_folder(out) as staged:
        for name, text in files.items():
            (staged / name).write_text(text)
        (staged / "run.json").write_text(json.dumps({"files": sorted(files)}))


# the lock beside --out


def test_a_planted_lock_symlink_is_not_followed(tmp_path):
    precious = tmp_path / "precious.txt"
    precious.write_text("my thesis")
    (tmp_path / ".run.lock").symlink_to(precious)
    with pytest.raises(OutputError, match=r"\.run\.lock"):
        _stage(tmp_path / "run", {"daily.csv": "1"})
    assert precious.read_text() == "my thesis"
    assert not (tmp_path / "run").exists()


def test_a_dangling_lock_symlink_creates_nothing(tmp_path):
    target = tmp_path / "elsewhere" / "created-through-the-link"
    target.parent.mkdir()
    (tmp_path / ".run.lock").symlink_to(target)
    with pytest.raises(OutputError, match="symbolic link"):
        _stage(tmp_path / "run", {"daily.csv": "1"})
    assert not target.exists()


def test_a_lock_that_is_not_a_regular_file_is_refused(tmp_path, no_hang):
    os.mkfifo(tmp_path / ".run.lock")
    with pytest.raises(OutputError, match=r"\.run\.lock"):
        _stage(tmp_path / "run", {"daily.csv": "1"})


def test_run_with_a_planted_lock_symlink_is_one_line(tmp_path, capsys):
    precious = tmp_path / "precious.txt"
    precious.write_text("my thesis")
    (tmp_path / ".run.lock").symlink_to(precious)
    result = cli(capsys, ["run", "classroom", "--days", "1", "--quiet", "--out", tmp_path / "run"])
    assert_one_line_error(result, ".run.lock")
    assert precious.read_text() == "my thesis"


# nothing in --out is removed unless a run wrote it (its run.json lists it)


def test_a_subfolder_named_like_a_run_file_is_kept(tmp_path):
    out = tmp_path / "run"
    (out / "daily.csv").mkdir(parents=True)
    (out / "daily.csv" / "chapter1.tex").write_text("mine")
    with pytest.raises(OutputError, match="refusing to replace it"):
        _stage(out, {"daily.csv": "1"})
    assert (out / "daily.csv" / "chapter1.tex").read_text() == "mine"


@pytest.mark.parametrize("name", [".notes.tmp-123", ".tokenomy-write-test", ".thesis.tex.tmp-9-abcdef01", "run.json"])
def test_a_file_named_like_a_run_leftover_is_kept(tmp_path, name):
    out = tmp_path / "run"
    out.mkdir()
    (out / name).write_text("mine")
    with pytest.raises(OutputError, match="refusing to replace it"):
        _stage(out, {"daily.csv": "1"})
    assert (out / name).read_text() == "mine"


def test_run_files_a_run_did_not_list_are_kept(tmp_path):
    """A user's daily.csv beside a run's files: the run.json does not list it, so the folder is not replaced."""
    out = tmp_path / "run"
    _stage(out, {"hourly.csv": "1"})
    (out / "daily.csv").write_text("mine")
    with pytest.raises(OutputError, match="refusing to replace it"):
        _stage(out, {"hourly.csv": "2"})
    assert (out / "daily.csv").read_text() == "mine"


def test_a_listed_file_that_is_a_symlink_is_not_ours(tmp_path):
    out = tmp_path / "run"
    _stage(out, {"daily.csv": "1"})
    precious = tmp_path / "precious.txt"
    precious.write_text("mine")
    (out / "daily.csv").unlink()
    (out / "daily.csv").symlink_to(precious)
    with pytest.raises(OutputError, match="refusing to replace it"):
        _stage(out, {"daily.csv": "2"})
    assert precious.read_text() == "mine"


def test_a_run_replaces_what_it_listed(tmp_path):
    out = tmp_path / "run"
    _stage(out, {"daily.csv": "1", "hourly.csv": "1"})
    _stage(out, {"daily.csv": "2"})
    assert sorted(p.name for p in out.iterdir()) == ["daily.csv", "run.json"]
    assert (out / "daily.csv").read_text() == "2"


def test_the_write_probe_never_touches_a_user_file(tmp_path):
    (tmp_path / ".tokenomy-write-test").write_text("mine")
    prepare_out_dir(tmp_path)
    assert (tmp_path / ".tokenomy-write-test").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tokenomy-write-test"]


def test_a_folder_named_like_a_staging_leftover_is_kept_unless_a_run_made_it(tmp_path):
    """Only staging folders a run made (its marker inside) are removed; a user's folder of the same name is not."""
    dead = 2**22 + 12345  # above the default pid_max: no such process
    theirs = tmp_path / f".run.tmp-{dead}-0000aaaa"
    theirs.mkdir()
    (theirs / "daily.csv").write_text("mine")
    clean_leftovers(tmp_path, "run")
    assert (theirs / "daily.csv").read_text() == "mine"


# only regular files are opened as inputs


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


INPUT_CASES = {
    "scenario": (["run", "{tmp}/s.toml", "--days", "1"], "s.toml", "s.toml"),
    "base": (["run", "{tmp}/v.toml", "--days", "1"], "b.toml", "b.toml"),
    "graph": (["run", "classroom", "--days", "1", "--graph", "{tmp}/g.graphml"], "g.graphml", "g.graphml"),
    "sweep-file": (["sweep", "{tmp}/w.toml", "--workers", "0", "--quiet"], "w.toml", "w.toml"),
    "sweep-json": (["report", "{tmp}/sw"], "sw/sweep.json", "sweep.json"),
    "run-json": (["compare", "{tmp}/r", "classroom", "--days", "1", "--quiet"], "r/run.json", "run.json"),
}


@pytest.mark.parametrize("case", list(INPUT_CASES))
def test_a_fifo_as_an_input_is_refused_at_once(case, tmp_path, capsys, no_hang, monkeypatch):
    argv, fifo, fragment = INPUT_CASES[case]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v.toml").write_text('[scenario]\nname = "v"\nbase = "b.toml"\n')
    (tmp_path / "sw").mkdir()
    (tmp_path / "r").mkdir()
    _fifo(tmp_path / fifo)
    result = cli(capsys, [a.replace("{tmp}", str(tmp_path)) for a in [*argv, "--out", "{tmp}/out"]])
    line = assert_one_line_error(result, fragment)
    assert "not a regular file" in line
    assert not (tmp_path / "out").exists()


def test_a_device_as_a_scenario_is_refused(capsys, tmp_path):
    result = cli(capsys, ["run", "/dev/null", "--days", "1", "--out", tmp_path / "out"])
    assert "not a regular file" in assert_one_line_error(result, "/dev/null")


# report and compare write only over their own earlier output, never through a link


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory) -> Path:
    from tokenomy.abm.batch import run_sweep

    folder = tmp_path_factory.mktemp("sweep")
    (folder / "w.toml").write_text('[sweep]\nname = "s"\nscenario = "classroom"\ndays = 2\nseeds = 2\n')
    run_sweep(folder / "w.toml", folder / "out", workers=0)
    return folder / "out"


def _report(capsys, sweep: Path, out: Path):
    return cli(capsys, ["report", sweep, "--out", out])


def _compare(capsys, sweep: Path, out: Path):
    return cli(capsys, ["compare", sweep, sweep, "--quiet", "--out", out])


@pytest.mark.parametrize("command,name", [(_report, "summary.csv"), (_compare, "compare.csv")])
def test_report_and_compare_never_write_through_a_link(command, name, sweep_folder, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    precious = tmp_path / "precious.txt"
    precious.write_text("mine")
    out = tmp_path / "out"
    out.mkdir()
    (out / name).symlink_to(precious)
    assert_one_line_error(command(capsys, sweep_folder, out), name)
    assert precious.read_text() == "mine"


@pytest.mark.parametrize("command,name", [(_report, "report.html"), (_compare, "compare.png")])
def test_report_and_compare_never_overwrite_a_users_file(command, name, sweep_folder, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_text("mine")
    assert_one_line_error(command(capsys, sweep_folder, out), name)
    assert (out / name).read_text() == "mine"


@pytest.mark.parametrize("command", [_report, _compare])
def test_report_and_compare_replace_their_own_output(command, sweep_folder, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "out"
    assert command(capsys, sweep_folder, out).code == 0
    first = sorted(p.name for p in out.iterdir())
    assert command(capsys, sweep_folder, out).code == 0
    assert sorted(p.name for p in out.iterdir()) == first
