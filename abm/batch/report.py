"""``tokenomy report OUTDIR``: summary per design point, price paths with confidence bands, sensitivity.

Each run is reduced to a few scalars (horizon means, GPUs at the end); each design point to the mean,
standard deviation and 95% confidence interval (Student t) of those scalars across its seeds.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from tokenomy.abm.errors import UsageError

# (daily column, reduction over the horizon, label)
METRICS = (
    ("token_price_cny_per_mtok", "mean", "token price (CNY/Mtok)"),
    ("compute_price_cny_per_gpu_hour", "mean", "compute price (CNY/GPU-hour)"),
    ("power_price_cny_per_mwh", "mean", "power price (CNY/MWh)"),
    ("tokens_served_mtok", "mean", "tokens served (Mtok/day)"),
    ("unserved_share", "mean", "unserved share of token demand"),
    ("gpus_online", "last", "GPUs online at the end"),
    ("green_share", "mean", "green share of generation"),
    ("power_spread_cny_per_mwh", "mean", "storage spread: daily max-min power price (CNY/MWh)"),
)
PRICE_PATHS = METRICS[:3]
# what a report may write into its folder (report.json lists what it did write)
REPORT_FILES = [
    "metrics.csv",
    "summary.csv",
    "sensitivity.csv",
    "paths.png",
    "metrics.png",
    "sensitivity.png",
    "report.html",
]
MAX_LINES = 10


def need_matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise UsageError("plots need matplotlib: pip install 'tokenomy[plots]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def metric_name(col: str, how: str) -> str:
    return f"{col}_{how}"


def run_metrics(daily: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """One row per run (``by`` identifies a run): the scalar metrics of its daily table."""
    g = daily.groupby(by, sort=True)
    parts = {metric_name(c, how): getattr(g[c], how)() for c, how, _ in METRICS if c in daily}
    return pd.DataFrame(parts).reset_index()


def ci_halfwidth(std: pd.Series, n: pd.Series) -> pd.Series:
    from scipy import stats

    t = pd.Series(np.where(n > 1, stats.t.ppf(0.975, np.maximum(n - 1, 1)), np.nan), index=std.index)
    return t * std / np.sqrt(n)


def summarise(per_run: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean, std and 95% CI across seeds per point (``keys``: point plus parameter columns)."""
    names = [metric_name(c, how) for c, how, _ in METRICS if metric_name(c, how) in per_run]
    g = per_run.groupby(keys, sort=True, dropna=False)
    out = g.size().rename("n_seeds").to_frame()
    for m in names:
        mean, std, n = g[m].mean(), g[m].std(ddof=1), g[m].count()
        half = ci_halfwidth(std, n)
        out[f"{m}_mean"] = mean
        out[f"{m}_std"] = std
        out[f"{m}_ci95_low"] = mean - half
        out[f"{m}_ci95_high"] = mean + half
    return out.reset_index()


def _png(fig) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def _point_label(row: dict, params: list[str]) -> str:
    if not params:
        return "baseline"
    parts = []
    for k in params:
        v = row[k]
        v = f"{v:.4g}" if isinstance(v, float) else str(v)
        parts.append(f"{k.split('.')[-1]}={v}")
    return ", ".join(parts)


def path_bands(daily: pd.DataFrame, group: str, col: str) -> pd.DataFrame:
    """Per group and date: mean, and the 95% CI half-width across seeds."""
    g = daily.groupby([group, "date"], sort=True)[col]
    stats = pd.DataFrame({"mean": g.mean(), "std": g.std(ddof=1), "n": g.count()})
    stats["half"] = ci_halfwidth(stats["std"], stats["n"]).fillna(0.0)
    return stats.reset_index()


def plot_paths(plt, daily: pd.DataFrame, labels: dict, title: str):
    fig, axes = plt.subplots(len(PRICE_PATHS), 1, figsize=(9, 2.6 * len(PRICE_PATHS)), sharex=True)
    shown = list(labels)[:MAX_LINES]
    for ax, (col, _, label) in zip(axes, PRICE_PATHS, strict=True):
        bands = path_bands(daily[daily["point"].isin(shown)], "point", col)
        for p in shown:
            b = bands[bands["point"] == p]
            (line,) = ax.plot(b["date"], b["mean"], lw=1.2, label=labels[p])
            ax.fill_between(
                b["date"], b["mean"] - b["half"], b["mean"] + b["half"], color=line.get_color(), alpha=0.2, lw=0
            )
        ax.set_ylabel(label, fontsize=8)
        ax.grid(alpha=0.3)
    axes[0].set_title(
        title
        + (f" (first {MAX_LINES} of {len(labels)} points)" if len(labels) > MAX_LINES else "")
        + "; bands: 95% CI across seeds",
        fontsize=9,
    )
    axes[0].legend(fontsize=7, loc="best")
    fig.autofmt_xdate()
    return fig


def plot_metrics(plt, summary: pd.DataFrame, params: list[str]):
    names = [(metric_name(c, how), label) for c, how, label in METRICS if f"{metric_name(c, how)}_mean" in summary]
    cols = 2
    rows = (len(names) + 1) // 2
    fig, axes = plt.subplots(rows, cols, figsize=(10, 2.4 * rows), squeeze=False)
    numeric = len(params) == 1 and pd.api.types.is_numeric_dtype(summary[params[0]])
    x = summary[params[0]] if numeric else summary["point"]
    for ax, (m, label) in zip(axes.flat, names, strict=False):
        mean = summary[f"{m}_mean"]
        err = (summary[f"{m}_ci95_high"] - mean).fillna(0.0)
        ax.errorbar(x, mean, yerr=err, fmt="o-" if numeric else "o", ms=3, lw=1, capsize=2)
        ax.set_title(label, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    fig.supxlabel(params[0] if numeric else "design point", fontsize=8)
    fig.tight_layout()
    return fig


def sensitivity_table(info: dict, summary: pd.DataFrame) -> pd.DataFrame | None:
    """Sensitivity indices per metric and parameter, when the design is Morris or Sobol."""
    if info["design"] not in ("morris", "sobol"):
        return None
    from tokenomy.abm.batch.designs import sensitivity

    n_points = len(info["points"])
    if len(summary) != n_points:
        raise UsageError(f"sensitivity needs every design point: {len(summary)} of {n_points} have results")
    rows = []
    for c, how, _ in METRICS:
        col = f"{metric_name(c, how)}_mean"
        if col not in summary:
            continue
        Y = summary.sort_values("point")[col].to_numpy(dtype=float)
        res = sensitivity(info, Y)
        for i, p in enumerate(info["parameters"]):
            rows.append(
                {"metric": metric_name(c, how), "parameter": p["key"], **{k: float(v[i]) for k, v in res.items()}}
            )
    table = pd.DataFrame(rows)
    score = "mu_star" if info["design"] == "morris" else "ST"
    table["rank"] = table.groupby("metric")[score].rank(ascending=False, method="min").astype(int)
    return table


def plot_sensitivity(plt, table: pd.DataFrame, design: str):
    score, conf = ("mu_star", "mu_star_conf") if design == "morris" else ("ST", "ST_conf")
    metrics = list(dict.fromkeys(table["metric"]))
    rows = (len(metrics) + 1) // 2
    fig, axes = plt.subplots(rows, 2, figsize=(10, 2.3 * rows), squeeze=False)
    for ax, m in zip(axes.flat, metrics, strict=False):
        t = table[table["metric"] == m]
        # normalise so parameters compare across metrics of different units
        scale = t[score].abs().max() or 1.0
        ax.barh(t["parameter"], t[score] / scale, xerr=(t[conf] / scale).fillna(0).clip(lower=0), capsize=2)
        ax.set_title(f"{m}: {score} (scaled)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.invert_yaxis()
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def html_page(title: str, blocks: list[tuple[str, str]]) -> str:
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;"
        "text-align:right}img{max-width:100%}h2{margin-top:1.6em}"
    )
    body = "".join(f"<h2>{html.escape(h)}</h2>{content}" for h, content in blocks)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>\n"
    )


def img_tag(png: bytes, alt: str) -> str:
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


def write_report(sweep_dir: str | Path, out: str | Path | None = None) -> dict[str, Path]:
    """Write summary.csv, metrics.csv, PNG plots and report.html for a sweep folder; return the paths."""
    from tokenomy.abm.batch.runner import load_results
    from tokenomy.abm.output import check_overwrite, prepare_out_dir, write_file

    plt = need_matplotlib()
    result = load_results(sweep_dir)
    result.check_whole()
    info = result.sweep
    params = [p["key"] for p in info["parameters"]]
    daily = result.daily
    if daily.empty:
        raise UsageError(f"{sweep_dir}: no finished runs to report on")
    out = Path(out) if out else Path(sweep_dir) / "report"
    check_overwrite(out, REPORT_FILES, "report.json")
    out = prepare_out_dir(out)
    per_run = run_metrics(daily, ["point", "seed", *params])
    summary = summarise(per_run, ["point", *params])
    paths = {"metrics": out / "metrics.csv", "summary": out / "summary.csv"}
    write_file(paths["metrics"], per_run.to_csv(index=False))
    write_file(paths["summary"], summary.to_csv(index=False))
    labels = {int(r["point"]): _point_label(r, params) for r in summary.to_dict("records")}
    title = f"{info['name']}: {info['scenario']}, {info['days']} days, {info['design']} design"
    figures = {"paths": plot_paths(plt, daily, labels, title), "metrics": plot_metrics(plt, summary, params)}
    sens = None
    if info["design"] in ("morris", "sobol"):
        sens = sensitivity_table(info, summary)
        paths["sensitivity"] = out / "sensitivity.csv"
        write_file(paths["sensitivity"], sens.to_csv(index=False))
        figures["sensitivity"] = plot_sensitivity(plt, sens, info["design"])
    pngs = {}
    for name, fig in figures.items():
        pngs[name] = _png(fig)
        plt.close(fig)
        paths[f"{name}_png"] = out / f"{name}.png"
        write_file(paths[f"{name}_png"], pngs[name])
    runs = result.runs
    counts = runs["status"].value_counts().to_dict()
    meta = (
        f"<p>{len(info['points'])} design points &times; {len(info['seeds'])} seeds "
        f"({', '.join(f'{v} {k}' for k, v in counts.items())}); fixed overrides: "
        f"{html.escape(' '.join(info['set']) or 'none')}; tokenomy {html.escape(info['versions']['tokenomy'])}"
        f"</p>"
    )
    show = summary[
        [
            "point",
            *params,
            "n_seeds",
            *[c for c in summary.columns if c.endswith("_mean_mean") or c.endswith("_last_mean")],
        ]
    ]
    blocks = [
        ("Sweep", meta),
        ("Price paths", img_tag(pngs["paths"], "price paths")),
        ("Metrics per point (mean, 95% CI across seeds)", img_tag(pngs["metrics"], "metrics")),
        (
            "Summary (means; full table with std and CI in summary.csv)",
            show.to_html(index=False, float_format=lambda v: f"{v:.4g}"),
        ),
    ]
    if sens is not None:
        blocks.append(
            (
                "Sensitivity indices",
                img_tag(pngs["sensitivity"], "sensitivity")
                + sens.to_html(index=False, float_format=lambda v: f"{v:.4g}"),
            )
        )
    failed = runs[runs["status"] == "failed"]
    if len(failed):
        blocks.append(("Failed runs", failed[["point", "seed", *params, "error"]].to_html(index=False)))
    paths["html"] = out / "report.html"
    write_file(paths["html"], html_page(title, blocks))
    write_file(out / "report.json", json.dumps({k: str(v) for k, v in paths.items()}, indent=1) + "\n")
    return paths
