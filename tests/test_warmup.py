"""The warm-up compiles the kernels a simulated day calls, so that a later first day is fast."""

import subprocess
import sys

CHECK = """
from tokenomy.abm.markets.power_forest import clear_forest
from tokenomy.abm.markets.token import _clear
from tokenomy.agents.strategies import _update
assert not (clear_forest.signatures or _clear.signatures or _update.signatures)
from tokenomy.abm.warmup import warm_up
assert warm_up("classroom", days=1) > 0.0
assert clear_forest.signatures and _clear.signatures and _update.signatures
"""


def test_warm_up_compiles_the_daily_kernels_in_a_fresh_process():
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_a_slow_warm_up_says_what_the_wait_is_and_a_quick_one_says_nothing(monkeypatch, capsys):
    import time

    from tokenomy.abm import warmup

    monkeypatch.setattr(warmup, "warm_up", lambda scenario, days: time.sleep(0.3) or 0.3)
    warmup.ensure_compiled(notice_after_s=0.05)
    assert warmup.NOTICE in capsys.readouterr().err
    monkeypatch.setattr(warmup, "warm_up", lambda scenario, days: 0.0)
    warmup.ensure_compiled(notice_after_s=0.2)
    time.sleep(0.3)
    assert capsys.readouterr().err == ""
