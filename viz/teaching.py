"""Teaching panels: the lesson picker, the scenario's checks, and two variants side by side."""

from __future__ import annotations

import numpy as np
import solara

from tokenomy.abm.checks import run_checks
from tokenomy.abm.lessons.catalog import list_lessons
from tokenomy.abm.scenarios import ScenarioError, load_scenario
from tokenomy.viz import charts
from tokenomy.viz.model import ChainModel

COMPARE_METRICS = [("token_price_cny_per_mtok", "token price, CNY/Mtok"),
                   ("compute_price_cny_per_gpu_hour", "compute price, CNY/GPU-h"),
                   ("power_price_cny_per_mwh", "power price, CNY/MWh"),
                   ("power_spread_cny_per_mwh", "intraday power spread, CNY/MWh"),
                   ("tokens_served_mtok", "tokens served, Mtok/day"),
                   ("aidc_green_share", "green share of AIDC energy")]


@solara.component
def LessonPanel(model_ref: solara.Reactive):
    """Pick a lesson: load its scenario and settings, show its steps beside the charts."""
    lessons = solara.use_memo(lambda: [x for x in list_lessons() if x.scenario], [])
    chosen, set_chosen = solara.use_state("")
    titles = {x.title: x for x in lessons}
    with solara.Card("Lesson"):
        solara.Select("Choose a lesson", value=chosen, values=list(titles), on_value=set_chosen)
        lesson = titles.get(chosen)
        if lesson is not None:
            solara.Button("Load this lesson", color="primary", small=True,
                          on_click=lambda: model_ref.set(ChainModel(lesson.scenario, seed=1,
                                                                    overrides=tuple(lesson.settings))))
            if lesson.settings:
                solara.Text("Settings: " + ", ".join(lesson.settings), style={"font-size": "12px"})
            with solara.Div(attributes={"data-testid": "lesson-steps"},
                            style={"max-height": "300px", "overflow-y": "auto", "font-size": "13px"}):
                solara.Markdown(lesson.body)


@solara.component
def ChecksPanel(model):
    """Run the current scenario's expected-outcome checks and show each as passed or failed."""
    results, set_results = solara.use_state(None)
    error, set_error = solara.use_state("")
    name = model.scenario_name
    claim = model.data.get("expected", {}).get("claim", "") if isinstance(model.data, dict) else ""

    def run():
        try:
            set_results(run_checks(name, seeds=[model.seed_value], overrides=list(model.extra_overrides)))
            set_error("")
        except ScenarioError as exc:
            set_error(str(exc))

    with solara.Card(f"What {name} should show"):
        if claim:
            solara.Markdown(f"*{claim}*")
        solara.Button("Run this scenario's checks", color="primary", small=True, on_click=run)
        if error:
            solara.Error(error)
        if results is not None:
            with solara.Div(attributes={"data-testid": "check-results"}):
                if not results:
                    solara.Text("This scenario states no checks.")
                for r in results:
                    colour = {"passed": "#2e7d32", "failed": "#c62828", "pending": "#f9a825"}[r.status]
                    solara.HTML(tag="div", unsafe_innerHTML=(
                        f"<b style='color:{colour}'>{r.status.upper()}</b> {r.claim} "
                        f"<span style='color:#666'>({r.test}; measured {r.compared_mean:.3g})</span>"),
                        style={"font-size": "13px", "margin": "6px 0"})


@solara.component
def SideBySide(model):
    """Run the scenario twice, as set and with one more change, and overlay the key series."""
    variant, set_variant = solara.use_state("storage.*.energy_mwh=0")
    days, set_days = solara.use_state(120)
    result, set_result = solara.use_state(None)
    error, set_error = solara.use_state("")
    metric, set_metric = solara.use_state(COMPARE_METRICS[0][1])

    def run():
        overrides = [v.strip() for v in variant.split(";") if v.strip()]
        try:
            load_scenario(model.scenario_name, list(model.extra_overrides) + overrides)
        except ScenarioError as exc:
            set_error(str(exc))
            return
        a = ChainModel(model.scenario_name, seed=model.seed_value, overrides=model.extra_overrides, **model.levers)
        b = ChainModel(model.scenario_name, seed=model.seed_value,
                       overrides=tuple(model.extra_overrides) + tuple(overrides), **model.levers)
        a.run(days)
        b.run(days)
        set_error("")
        set_result((a.daily_table(), b.daily_table(), "; ".join(overrides)))

    with solara.Card("Side by side: the same world with one change"):
        solara.InputText("Variant B changes (key=value; separate several with ';')", value=variant,
                         on_value=set_variant)
        solara.SliderInt("Days", value=days, min=10, max=730, step=10, on_value=set_days)
        solara.Button("Run both", color="primary", small=True, on_click=run)
        if error:
            solara.Error(error)
        if result is not None:
            a, b, label = result
            solara.Select("Series", value=metric, values=[m[1] for m in COMPARE_METRICS], on_value=set_metric)
            column = next(c for c, name in COMPARE_METRICS if name == metric)
            dates = a.date.dt.strftime("%Y-%m-%d").tolist()
            option = {**charts.BASE, "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
                      "grid": {"left": 60, "right": 20, "top": 40, "bottom": 30},
                      "xAxis": {"type": "time"}, "yAxis": {"type": "value", "name": metric, "scale": True},
                      "series": [
                          {"name": "A: as set", "type": "line", "showSymbol": False,
                           "data": [[d, round(float(v), 4)] for d, v in zip(dates, a[column], strict=True)]},
                          {"name": f"B: {label}", "type": "line", "showSymbol": False,
                           "lineStyle": {"type": "dashed"},
                           "data": [[d, round(float(v), 4)] for d, v in zip(dates, b[column], strict=True)]}]}
            with solara.Div(attributes={"data-testid": "side-by-side", "data-days": str(len(a)),
                                        "data-mean-a": f"{np.mean(a[column]):.6g}",
                                        "data-mean-b": f"{np.mean(b[column]):.6g}"}):
                solara.FigureEcharts(option=option, attributes={"style": "height: 320px; width: 100%;"})
            rows = [f"| {name} | {a[c].mean():,.4g} | {b[c].mean():,.4g} |" for c, name in COMPARE_METRICS]
            solara.Markdown("| mean over the run | A | B |\n|---|---|---|\n" + "\n".join(rows))


def _line(name: str, xs, ys, **extra) -> dict:
    return {"name": name, "type": "line", "showSymbol": False,
            "data": [[float(x), round(float(y), 4)] for x, y in zip(xs, ys, strict=True)], **extra}


@solara.component
def ClassicMarkets():
    """The classic markets, cleared by the same pure functions as the chain, theory beside simulation."""
    from tokenomy.abm.lessons import markets

    which, set_which = solara.use_state("call market")
    supply_slope, set_supply_slope = solara.use_state(0.8)
    with solara.Card("Classic markets"):
        solara.ToggleButtonsSingle(value=which, values=["call market", "double auction", "cobweb"],
                                   on_value=set_which)
        rows: list[tuple[str, float, float]] = []
        option: dict = {}
        if which == "call market":
            values, costs = [10, 9, 8, 7, 6, 5, 4, 3], [2, 3, 4, 5, 6, 7, 8, 9]
            r = markets.call_market(values, costs)
            rows = [("price P*", r.theory_price, r.price), ("quantity Q*", r.theory_quantity, r.quantity),
                    ("total surplus", r.theory_surplus, r.surplus)]
            q = np.arange(len(values) + 1)
            demand = np.append(values, values[-1])
            supply = np.append(costs, costs[-1])
            option = {**charts.BASE, "legend": {"top": 0}, "tooltip": {"trigger": "axis"},
                      "xAxis": {"type": "value", "name": "quantity"}, "yAxis": {"type": "value", "name": "price"},
                      "series": [_line("demand (values)", q, demand, step="end"),
                                 _line("supply (costs)", q, supply, step="end"),
                                 {"type": "scatter", "name": "clearing", "symbolSize": 12,
                                  "data": [[r.quantity, r.price]]}]}
        elif which == "double auction":
            values, costs = markets.symmetric_market()
            zic = markets.double_auction(values, costs, constrained=True, periods=8, rng=1)
            ziu = markets.double_auction(values, costs, constrained=False, periods=8, rng=1)
            rows = [("efficiency, budget-constrained (ZI-C)", 1.0, zic.mean_efficiency),
                    ("efficiency, unconstrained (ZI-U)", 1.0, ziu.mean_efficiency),
                    ("mean price ZI-C vs P*", zic.theory_price, float(np.nanmean(zic.mean_price)))]
            periods = np.arange(1, zic.efficiency.size + 1)
            option = {**charts.BASE, "legend": {"top": 0}, "tooltip": {"trigger": "axis"},
                      "xAxis": {"type": "value", "name": "trading period"},
                      "yAxis": {"type": "value", "name": "allocative efficiency", "max": 1.0},
                      "series": [_line("ZI-C", periods, zic.efficiency), _line("ZI-U", periods, ziu.efficiency)]}
        else:
            solara.SliderFloat("Supply slope (demand slope is 1)", value=supply_slope, min=0.2, max=1.6, step=0.1,
                               on_value=set_supply_slope)
            r = markets.cobweb(supply_slope=supply_slope, periods=30)
            rows = [("cobweb ratio |d/b|", r.theory_ratio, r.measured_ratio), ("price P*", r.theory_price,
                                                                               float(r.price[-1]))]
            t = np.arange(r.price.size)
            option = {**charts.BASE, "legend": {"top": 0}, "tooltip": {"trigger": "axis"},
                      "xAxis": {"type": "value", "name": "period"}, "yAxis": {"type": "value", "name": "price"},
                      "series": [_line("price", t, r.price), _line("P*", t, np.full(t.size, r.theory_price),
                                                                   lineStyle={"type": "dashed"})]}
            solara.Text(f"Theory says: {r.regime}")
        table = "| | theory | simulated |\n|---|---|---|\n" + "\n".join(
            f"| {name} | {a:,.4g} | {b:,.4g} |" for name, a, b in rows)
        with solara.Div(attributes={"data-testid": "classic-market", "data-market": which}):
            solara.Markdown(table)
            solara.FigureEcharts(option=option, attributes={"style": "height: 280px; width: 100%;"})
