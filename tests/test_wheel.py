"""The wheel works anywhere: built, installed into a fresh venv, and run from another directory.

Dependencies come from a wheelhouse kept between runs (``TOKENOMY_WHEELHOUSE``, default
``~/.cache/tokenomy-wheel-test/wheelhouse``), refilled from the package index whenever an install from it
alone fails: about 40 s with it filled, a few minutes the first time on a machine.  The commands run with
``NUMBA_DISABLE_JIT=1``: this checks what the wheel carries and where it looks for it; compiling the
kernels is covered by the other tests.  Also checks that the PyPI project ``openai-agents`` (a top-level
module named ``agents``) installs beside tokenomy without either shadowing the other.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSON_COUNT = len(list((ROOT / "docs" / "lessons").glob("0*.md")))
WHEELHOUSE = Path(os.environ.get("TOKENOMY_WHEELHOUSE", Path.home() / ".cache" / "tokenomy-wheel-test" / "wheelhouse"))
# nothing from this checkout or its venv may leak into the fresh one
RUN_ENV = {
    **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")},
    "NUMBA_DISABLE_JIT": "1",
}

# one worker builds the wheel and its venv once for the whole module (`make test` runs two workers, --dist loadgroup)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wheel")]


def _run(
    cmd: list, cwd: Path, timeout_s: float = 300, env: dict | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout_s, env=env)
    if check:
        assert result.returncode == 0, (
            f"{cmd}: exit {result.returncode}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        )
    return result


def _pip_install(python: Path, requirement: str | Path, cwd: Path) -> None:
    """Install from the wheelhouse alone; when that fails, fill it from the index and try again."""
    offline = [
        python,
        "-m",
        "pip",
        "install",
        "-q",
        "--no-compile",
        "--no-index",
        "--find-links",
        WHEELHOUSE,
        requirement,
    ]
    if WHEELHOUSE.is_dir() and _run(offline, cwd, timeout_s=600, env=RUN_ENV, check=False).returncode == 0:
        return
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "-w", WHEELHOUSE, "--find-links", WHEELHOUSE, requirement],
        cwd,
        timeout_s=900,
        env=RUN_ENV,
    )
    for own in WHEELHOUSE.glob("tokenomy-*.whl"):
        own.unlink()
    _run(offline, cwd, timeout_s=600, env=RUN_ENV)


@pytest.fixture(scope="module")
def wheel_and_log(tmp_path_factory) -> tuple[Path, str]:
    src = tmp_path_factory.mktemp("src")
    # build from a copy so that build/ and *.egg-info never land in the working tree
    shutil.copytree(
        ROOT,
        src / "tokenomy",
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "__pycache__", "build", "*.egg-info", "out", "runs", "artifacts", "results", ".*cache"
        ),
    )
    dist = tmp_path_factory.mktemp("dist")
    result = _run([sys.executable, "-m", "build", "--wheel", "--outdir", dist, src / "tokenomy"], cwd=src)
    wheels = list(dist.glob("tokenomy-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0], result.stdout + result.stderr


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel_and_log) -> Path:
    wheel, _ = wheel_and_log
    env_dir = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", env_dir], cwd=env_dir, env=RUN_ENV)
    t0 = time.perf_counter()
    _pip_install(env_dir / "bin" / "python", wheel, env_dir)
    print(f"wheel and dependencies installed in {time.perf_counter() - t0:.0f} s")
    return env_dir


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """A working directory with no checkout in sight."""
    work = tmp_path / "elsewhere"
    work.mkdir()
    return work


def test_the_build_is_clean_and_the_metadata_spdx(wheel_and_log):
    wheel, log = wheel_and_log
    assert "deprecat" not in log.lower(), [line for line in log.splitlines() if "deprecat" in line.lower()]
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in metadata.splitlines()
    assert not any(line.startswith("License: ") for line in metadata.splitlines())
    lessons = [n for n in names if n.startswith("tokenomy/docs/lessons/0") and n.endswith(".md")]
    assert len(lessons) == LESSON_COUNT == 9
    assert "tokenomy/docs/model.md" in names
    assert any(n.startswith("tokenomy/abm/scenarios/data/classroom") for n in names)
    assert "tokenomy/viz/app.py" in names and "tokenomy/viz/server.py" in names
    assert "tokenomy/viz/classroom/debrief.py" in names and "tokenomy/abm/classroom/debrief.py" in names
    games = sorted(n for n in names if n.startswith("tokenomy/docs/lessons/games/") and n.endswith(".md"))
    assert games == [
        f"tokenomy/docs/lessons/games/{p.name}" for p in sorted((ROOT / "docs/lessons/games").glob("*.md"))
    ]
    assert len(games) == 2
    top_level = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert top_level == {"tokenomy"}, top_level  # no bare abm/, agents/, viz/ to clash with other projects


def test_the_installed_command_runs_lists_lessons_and_serves(venv, elsewhere):
    tokenomy = venv / "bin" / "tokenomy"
    _run([tokenomy, "run", "classroom", "--days", "5", "--out", "X"], cwd=elsewhere, env=RUN_ENV)
    assert any((elsewhere / "X").iterdir())
    listing = _run([tokenomy, "lesson", "list"], cwd=elsewhere, env=RUN_ENV).stdout
    assert sum(1 for line in listing.splitlines() if line.strip()[:2].isdigit()) == LESSON_COUNT, listing

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [str(tokenomy), "viz", "--port", str(port)],
        cwd=elsewhere,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=RUN_ENV,
    )
    try:
        deadline = time.monotonic() + 180
        status = None
        while time.monotonic() < deadline and status is None and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    status = r.status
            except OSError:
                time.sleep(0.5)
        assert status == 200, proc.stdout.read().decode()[-2000:] if proc.poll() is not None else "no answer"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)


def test_openai_agents_installs_beside_tokenomy(venv, elsewhere):
    python = venv / "bin" / "python"
    _pip_install(python, "openai-agents", elsewhere)
    probe = (
        "import agents, tokenomy.agents; "
        "assert hasattr(agents, 'Agent') and hasattr(agents, 'Runner'), agents.__file__; "
        "assert 'site-packages/agents/' in agents.__file__.replace(chr(92), '/'), agents.__file__; "
        "print(agents.__file__, tokenomy.agents.__file__)"
    )
    _run([python, "-c", probe], cwd=elsewhere, env=RUN_ENV)
    _run([venv / "bin" / "tokenomy", "run", "classroom", "--days", "3", "--out", "Y"], cwd=elsewhere, env=RUN_ENV)
    assert any((elsewhere / "Y").iterdir())
