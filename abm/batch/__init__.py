"""Headless batch runs and parameter sweeps: local process pool by default, a Dask cluster on request.

>>> from abm.batch import run_sweep
>>> result = run_sweep("my-sweep.toml", out="out/my-sweep", workers=2)
>>> result.runs        # one row per (point, seed): parameters, status, error, timings
>>> result.daily       # every finished run's daily table, tagged with point, seed and parameters
"""

from tokenomy.abm.batch.runner import SweepResult, load_results, run_sweep
from tokenomy.abm.batch.sweepfile import Sweep, load_sweep

__all__ = ["Sweep", "SweepResult", "load_results", "load_sweep", "run_sweep"]
