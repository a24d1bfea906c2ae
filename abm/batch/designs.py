"""Designs: a full grid, a Latin hypercube (scipy), and Morris or Sobol samples (SALib)."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from tokenomy.abm.errors import UsageError

if TYPE_CHECKING:
    from tokenomy.abm.batch.sweepfile import Parameter, Sweep


def need_salib(design: str):
    try:
        import SALib  # noqa: F401
    except ImportError:
        raise UsageError(f"design '{design}' needs SALib: pip install 'tokenomy[sensitivity]'") from None
    import SALib.analyze.morris
    import SALib.analyze.sobol
    import SALib.sample.morris
    import SALib.sample.sobol

    return SALib


def _grid_values(p: Parameter) -> list:
    if p.values is not None:
        return list(p.values)
    if p.log:
        vals = np.exp(np.linspace(math.log(p.min), math.log(p.max), p.steps))
    else:
        vals = np.linspace(p.min, p.max, p.steps)
    return [_cast(p, float(v)) for v in vals]


def _cast(p: Parameter, v: float) -> Any:
    """A sampled number in the setting's own type, clipped to the parameter's range."""
    v = min(max(v, p.min), p.max) if p.min is not None else v
    return int(round(v)) if p.kind == "int" else float(v)


def _from_unit(p: Parameter, u: float) -> Any:
    return _cast(p, math.exp(u) if p.log else u)


def expand(sweep: Sweep) -> tuple[list[dict[str, Any]], list[list[float]] | None]:
    """The design's points (parameter values per point) and, for SALib designs, the raw sample matrix."""
    params = sweep.parameters
    if sweep.design == "grid":
        grids = [_grid_values(p) for p in params]
        return [dict(zip([p.key for p in params], combo, strict=True)) for combo in itertools.product(*grids)], None
    if sweep.design == "latin":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(params), seed=sweep.design_seed).random(sweep.samples)
        lo = np.array([_unit_bound(p, p.min) for p in params])
        hi = np.array([_unit_bound(p, p.max) for p in params])
        X = lo + unit * (hi - lo)
    else:
        salib = need_salib(sweep.design)
        problem = sweep.problem()
        if sweep.design == "morris":
            X = salib.sample.morris.sample(problem, N=sweep.samples, num_levels=sweep.levels, seed=sweep.design_seed)
        else:
            X = salib.sample.sobol.sample(problem, sweep.samples, calc_second_order=False, seed=sweep.design_seed)
    points = [{p.key: _from_unit(p, float(x)) for p, x in zip(params, row, strict=True)} for row in X]
    return points, X.tolist()


def _unit_bound(p: Parameter, v: float) -> float:
    return math.log(v) if p.log else v


def sensitivity(sweep_info: dict, Y: np.ndarray) -> dict[str, np.ndarray]:
    """Sensitivity indices for one output ``Y`` (one value per design point), by the design's method."""
    design = sweep_info["design"]
    salib = need_salib(design)
    names = [p["key"] for p in sweep_info["parameters"]]
    bounds = [
        [math.log(p["min"]), math.log(p["max"])] if p["log"] else [p["min"], p["max"]] for p in sweep_info["parameters"]
    ]
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    if design == "morris":
        X = np.asarray(sweep_info["unit_design"], dtype=float)
        res = salib.analyze.morris.analyze(
            problem, X, Y, num_levels=sweep_info["levels"], print_to_console=False, seed=sweep_info["design_seed"]
        )
        return {k: np.asarray(res[k], dtype=float) for k in ("mu", "mu_star", "sigma", "mu_star_conf")}
    res = salib.analyze.sobol.analyze(
        problem, Y, calc_second_order=False, print_to_console=False, seed=sweep_info["design_seed"]
    )
    return {k: np.asarray(res[k], dtype=float) for k in ("S1", "S1_conf", "ST", "ST_conf")}
