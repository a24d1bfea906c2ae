"""The hostile inputs that need a real process: a device that never ends and a reader that goes away, each
under a time limit so that a hang fails the test instead of stalling it.  (Requests for unbounded work --
``--days 99999999999``, a million shouts -- are rows of the in-process table: refused before any work.)"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

TOKENOMY = [sys.executable, "-m", "tokenomy.abm.cli"]


def _run(args: list[str], timeout_s: float) -> subprocess.CompletedProcess:
    return subprocess.run(TOKENOMY + args, capture_output=True, text=True, timeout=timeout_s)


def _one_line(proc: subprocess.CompletedProcess, fragment: str) -> None:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and fragment in lines[0], proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /dev/zero")
def test_dev_zero_as_a_scenario_is_refused_quickly(tmp_path):
    start = time.perf_counter()
    proc = _run(["run", "/dev/zero", "--out", str(tmp_path / "out")], timeout_s=60)
    _one_line(proc, "not a regular file (a character device)")  # refused before a byte is read
    assert time.perf_counter() - start < 30
    assert not (tmp_path / "out").exists()


def test_a_reader_that_goes_away_is_not_an_error():
    """``tokenomy lesson double-auction ... | head -2``: more output than a pipe holds, reader gone."""
    proc = subprocess.Popen(
        TOKENOMY + ["lesson", "double-auction", "--periods", "1000", "--shouts", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = [proc.stdout.readline() for _ in range(2)]
    proc.stdout.close()
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert all(first)
    assert proc.returncode == 0, err
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err
