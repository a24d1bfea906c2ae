"""The warm-up compiles the kernels a simulated day calls, and says what the wait is only while kernels compile."""

import subprocess
import sys
import textwrap
import time
import types

import pytest

CHECK = """
from tokenomy.abm.markets.power_forest import clear_forest
from tokenomy.abm.markets.token import _clear
from tokenomy.agents.strategies import _adaptive as _update
assert not (clear_forest.signatures or _clear.signatures or _update.signatures)
from tokenomy.abm.warmup import warm_up
assert warm_up("classroom", days=1) > 0.0
assert clear_forest.signatures and _clear.signatures and _update.signatures
"""


def test_warm_up_compiles_the_daily_kernels_in_a_fresh_process():
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


class _Terminal:
    """A stderr that says it is a terminal and keeps what is written to it."""

    def __init__(self):
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, s: str) -> int:
        self.text += s
        return len(s)

    def flush(self) -> None:
        pass


@pytest.fixture
def fresh_kernel(monkeypatch):
    """A kernel in a ``tokenomy`` module that has never been compiled (no disk cache)."""
    module = types.ModuleType("tokenomy.warmup_probe")
    exec(
        textwrap.dedent("""
        import numba

        @numba.njit(cache=False)
        def triple(x):
            return 3 * x
    """),
        module.__dict__,
    )
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module.triple


def _slow_warm_up(kernel=None):
    def warm_up(scenario, days):
        time.sleep(0.2)
        if kernel is not None:
            assert kernel(2) == 6
        return 0.2

    return warm_up


def test_compiling_shows_a_bar_naming_the_kernel_and_counting_the_ready_ones(monkeypatch, fresh_kernel):
    from tokenomy.abm import warmup

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(warmup, "warm_up", _slow_warm_up(fresh_kernel))
    total = len(warmup.kernels())
    ready_before = sum(1 for k in warmup.kernels() if k.signatures)
    warmup.ensure_compiled(notice_after_s=0.05)
    assert "compiling warmup_probe.triple" in terminal.text
    assert f"{ready_before + 1}/{total} kernels ready" in terminal.text
    assert warmup.NOTICE not in terminal.text


def test_without_a_terminal_compiling_says_one_line(monkeypatch, capsys, fresh_kernel):
    from tokenomy.abm import warmup

    monkeypatch.setattr(warmup, "warm_up", _slow_warm_up(fresh_kernel))
    warmup.ensure_compiled(notice_after_s=0.05)
    assert capsys.readouterr().err.strip() == warmup.NOTICE


@pytest.mark.parametrize("tty", [True, False])
def test_a_slow_warm_up_that_compiles_nothing_says_nothing(monkeypatch, capsys, tty):
    from tokenomy.abm import warmup

    terminal = _Terminal()
    if tty:
        monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(warmup, "warm_up", _slow_warm_up())
    warmup.ensure_compiled(notice_after_s=0.05, force=True)  # force: the watch runs even with every kernel on disk
    time.sleep(0.1)
    assert capsys.readouterr().err == "" and terminal.text == ""


def test_quiet_means_no_bar_even_on_a_terminal(monkeypatch, fresh_kernel):
    from tokenomy.abm import warmup

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(warmup, "warm_up", _slow_warm_up(fresh_kernel))
    warmup.ensure_compiled(notice_after_s=0.05, progress=False)
    assert terminal.text.strip() == warmup.NOTICE


def _probe(tmp_path, suffix: str = ""):
    """A module from a file in ``tmp_path`` with one disk-cached kernel (numba caches beside the source)."""
    import importlib.util

    source = tmp_path / "cache_probe.py"
    source.write_text("import numba\n\n\n@numba.njit(cache=True)\ndef double(x):\n    return 2 * x\n" + suffix)
    spec = importlib.util.spec_from_file_location(f"cache_probe_{len(suffix)}", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.double


def test_on_disk_tells_machine_code_on_disk_from_none_and_from_code_of_an_older_source(tmp_path):
    from tokenomy.abm.warmup import on_disk

    double = _probe(tmp_path)
    assert on_disk(double) is None  # never compiled: no cache file
    assert double(2) == 4
    assert on_disk(double) is True
    assert on_disk(_probe(tmp_path, "# the source changed\n")) is False  # the code on disk is for the old source


def test_a_kernel_without_a_disk_cache_counts_as_not_on_disk(fresh_kernel):
    from tokenomy.abm.warmup import on_disk

    fresh_kernel(1)
    assert on_disk(fresh_kernel) is False


def _never(scenario, days):
    raise AssertionError("warmed up although every kernel is on disk")


def test_with_every_kernel_on_disk_nothing_is_compiled_ahead(monkeypatch):
    from tokenomy.abm import warmup

    monkeypatch.setattr(warmup, "on_disk", lambda kernel: True)
    monkeypatch.setattr(warmup, "warm_up", _never)
    warmup.ensure_compiled()


@pytest.mark.parametrize("state", [False, "force"])
def test_one_kernel_not_on_disk_or_force_means_a_warm_up(monkeypatch, state):
    import tokenomy.abm.model  # noqa: F401 - loads the modules that define the kernels
    from tokenomy.abm import warmup

    first = warmup.kernels()[0]
    monkeypatch.setattr(warmup, "on_disk", lambda kernel: state == "force" or kernel is not first)
    calls = []
    monkeypatch.setattr(warmup, "warm_up", lambda scenario, days: calls.append(scenario) or 0.0)
    warmup.ensure_compiled("jevons", force=state == "force")
    assert calls == ["jevons"]
