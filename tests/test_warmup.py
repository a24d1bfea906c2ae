"""The warm-up compiles the kernels a simulated day calls, so that a later first day is fast."""

import subprocess
import sys

CHECK = """
from abm.markets.power_forest import clear_forest
from abm.markets.token import _clear
from agents.strategies import _update
assert not (clear_forest.signatures or _clear.signatures or _update.signatures)
from abm.warmup import warm_up
assert warm_up("classroom", days=1) > 0.0
assert clear_forest.signatures and _clear.signatures and _update.signatures
"""


def test_warm_up_compiles_the_daily_kernels_in_a_fresh_process():
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
