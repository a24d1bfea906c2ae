"""``tokenomy compare A B``: two scenarios (run now, or read from earlier output) side by side.

A and B are each a scenario (shipped name or .toml path: run for ``days`` with ``seeds`` seeds through
the sweep runner, so a repeated compare reuses its runs), a sweep folder with one design point, or the
folder of a ``tokenomy run``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from tokenomy.abm.batch.report import METRICS, html_page, img_tag, metric_name, need_matplotlib, path_bands, run_metrics
from tokenomy.abm.errors import UsageError

COMPARE_FILES = {"png": "compare.png", "csv": "compare.csv", "html": "compare.html"}
PANELS = (
    "token_price_cny_per_mtok",
    "compute_price_cny_per_gpu_hour",
    "power_price_cny_per_mwh",
    "tokens_served_mtok",
    "unserved_share",
    "green_share",
)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(text).stem if text.endswith(".toml") else text).strip("-") or "x"


def _read_daily(folder: Path) -> pd.DataFrame:
    """The daily table a `tokenomy run` wrote in ``folder`` (Parquet or CSV); a damaged one is one line."""
    import pyarrow as pa

    from tokenomy.networks.files import open_regular

    for name, read in (("daily.parquet", pd.read_parquet), ("daily.csv", _read_csv)):
        path = folder / name
        if path.exists() or path.is_symlink():
            with open_regular(path, "run's daily table", UsageError) as fh:
                try:
                    daily = read(fh)
                except (OSError, ValueError, pa.ArrowException) as exc:
                    raise UsageError(f"{path}: not a run's daily table ({type(exc).__name__})") from None
            if "date" not in daily or daily.empty:
                raise UsageError(f"{path}: not a run's daily table (no days, or no date column)")
            return daily
    raise UsageError(f"{folder}: neither a sweep folder nor the output of `tokenomy run` (no daily table)")


def _read_csv(fh) -> pd.DataFrame:
    return pd.read_csv(fh, parse_dates=["date"])


def _read_run_record(folder: Path) -> dict:
    """A run folder's ``run.json`` (empty when there is none); one that is not a run's record is one line."""
    from tokenomy.networks.files import read_bounded

    path = folder / "run.json"
    if not (path.exists() or path.is_symlink()):
        return {}
    data = read_bounded(path, 10_000_000, "run record (run.json)", UsageError)
    try:
        run = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UsageError(f"{path}: not a run's record ({type(exc).__name__})") from None
    seeds = run.get("seeds") if isinstance(run, dict) else None
    if not isinstance(run, dict) or not (
        seeds is None or (isinstance(seeds, list) and seeds and all(type(s) is int and s >= 0 for s in seeds))
    ):
        raise UsageError(f"{path}: not a run's record (no object, or 'seeds' not a list of seeds)")
    if type(run.get("seed", 0)) is not int:
        raise UsageError(f"{path}: not a run's record ('seed' is not a whole number)")
    return run


def load_side(
    source: str, out: Path, *, days: int | None, seeds: int, overrides: list[str], workers: int | None, progress: bool
) -> tuple[str, pd.DataFrame]:
    """The daily tables of one side, with a ``seed`` column."""
    from tokenomy.abm.batch.runner import load_results, run_sweep

    path = Path(source)
    if path.is_dir():
        if overrides:
            raise UsageError(f"{source}: --set-a/--set-b only apply to scenarios, not to finished output")
        if (path / "sweep.json").exists() or (path / "sweep.json").is_symlink():
            result = load_results(path)
            result.check_whole()
            daily = result.daily
            if daily.empty:
                raise UsageError(f"{source}: the sweep has no finished runs")
            if daily["point"].nunique() > 1:
                raise UsageError(
                    f"{source}: the sweep has {daily['point'].nunique()} design points; "
                    "compare needs one (or compare two scenarios)"
                )
            return result.sweep["name"], daily
        run = _read_run_record(path)
        if isinstance(run.get("seeds"), list):  # an ensemble: every seed's daily table
            frames = [_read_daily(path / f"seed-{seed}").assign(seed=seed) for seed in run["seeds"]]
            return path.name, pd.concat(frames, ignore_index=True)
        return path.name, _read_daily(path).assign(seed=run.get("seed", 0))
    label = _slug(source) + ("+" + "+".join(o.split("=")[0].split(".")[-1] for o in overrides) if overrides else "")
    sweep = {"sweep": {"name": label, "scenario": source, "seeds": seeds, "set": list(overrides)}}
    if days:
        sweep["sweep"]["days"] = days
    result = run_sweep(sweep, out / "runs" / _slug(label), workers=workers, progress=progress)
    if result.failed:
        raise UsageError(f"{source}: {result.failed} run(s) failed: {result.runs['error'].iloc[0]}")
    return label, result.daily


def _load(source: str, out: Path, overrides: list[str], days, seeds, workers, progress) -> tuple[str, pd.DataFrame]:
    return load_side(source, out, days=days, seeds=seeds, overrides=overrides, workers=workers, progress=progress)


def compare(
    a: str,
    b: str,
    *,
    days: int | None = None,
    seeds: int = 1,
    out: str | Path | None = None,
    set_a: list[str] = (),
    set_b: list[str] = (),
    workers: int | None = None,
    progress: bool = False,
) -> tuple[pd.DataFrame, dict[str, Path]]:
    """Run or read two scenarios; write compare.png, compare.csv and compare.html; return the metric table."""
    from tokenomy.abm.output import check_overwrite, prepare_out_dir, write_file

    plt = need_matplotlib()
    out = Path(out) if out else Path("out") / "compare" / f"{_slug(a)}-vs-{_slug(b)}"
    specs = [(a, list(set_a)), (b, list(set_b))]
    # finished output is read first: a damaged folder is refused before anything is made
    loaded = {
        i: _load(src, out, sets, days, seeds, workers, progress)
        for i, (src, sets) in enumerate(specs)
        if Path(src).is_dir()
    }
    check_overwrite(out, list(COMPARE_FILES.values()), "compare.json")
    out = prepare_out_dir(out)
    sides = [
        loaded.get(i) or _load(src, out, sets, days, seeds, workers, progress) for i, (src, sets) in enumerate(specs)
    ]
    if sides[0][0] == sides[1][0]:
        sides = [(f"A: {sides[0][0]}", sides[0][1]), (f"B: {sides[1][0]}", sides[1][1])]
    rows = []
    for label, daily in sides:
        per_run = run_metrics(daily, ["seed"])
        for c, how, text in METRICS:
            m = metric_name(c, how)
            if m in per_run:
                rows.append(
                    {
                        "side": label,
                        "metric": m,
                        "label": text,
                        "mean": per_run[m].mean(),
                        "std": per_run[m].std(ddof=1),
                        "seeds": len(per_run),
                    }
                )
    long = pd.DataFrame(rows)
    table = long.pivot(index=["metric", "label"], columns="side", values="mean")[[s[0] for s in sides]]
    table["difference"] = table[sides[1][0]] - table[sides[0][0]]
    order = {metric_name(c, how): i for i, (c, how, _) in enumerate(METRICS)}
    table = table.reset_index().sort_values("metric", key=lambda s: s.map(order), ignore_index=True)
    fig, axes = plt.subplots(len(PANELS), 2, figsize=(11, 2.1 * len(PANELS)), sharex="col", sharey="row")
    for col, (label, daily) in enumerate(sides):
        for row, c in enumerate(PANELS):
            ax = axes[row, col]
            bands = path_bands(daily.assign(side=0), "side", c)
            ax.plot(bands["date"], bands["mean"], lw=1.2, color=f"C{col}")
            ax.fill_between(
                bands["date"],
                bands["mean"] - bands["half"],
                bands["mean"] + bands["half"],
                color=f"C{col}",
                alpha=0.25,
                lw=0,
            )
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=7)
            if col == 0:
                ax.set_ylabel(c, fontsize=7)
        axes[0, col].set_title(f"{label} ({daily['seed'].nunique()} seeds)", fontsize=9)
    fig.autofmt_xdate()
    fig.tight_layout()
    from tokenomy.abm.batch.report import _png

    png = _png(fig)
    plt.close(fig)
    paths = {k: out / name for k, name in COMPARE_FILES.items()}
    write_file(paths["png"], png)
    write_file(paths["csv"], table.to_csv(index=False))
    title = f"{sides[0][0]} vs {sides[1][0]}"
    write_file(
        paths["html"],
        html_page(
            title,
            [
                ("Side by side (bands: 95% CI across seeds)", img_tag(png, "compare")),
                ("Metrics (mean across seeds)", table.to_html(index=False, float_format=lambda v: f"{v:.4g}")),
            ],
        ),
    )
    write_file(out / "compare.json", json.dumps({k: str(v) for k, v in paths.items()}, indent=1) + "\n")
    return table, paths


def format_table(table: pd.DataFrame) -> str:
    cols = [c for c in table.columns if c not in ("metric", "label")]
    width = max(len(x) for x in table["label"])
    lines = [f"  {'':{width}}  " + "  ".join(f"{c[:16]:>16}" for c in cols)]
    for r in table.to_dict("records"):
        lines.append(f"  {r['label']:{width}}  " + "  ".join(f"{r[c]:>16.4g}" for c in cols))
    return "\n".join(lines)
