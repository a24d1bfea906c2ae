"""Teaching panels: the scenario's checks on the student's own run, two worlds side by side, classic markets."""

from __future__ import annotations

import datetime as dt
import functools
import html

import numpy as np
import solara
from mesa.visualization.utils import update_counter

from tokenomy.abm.checks import RunCheck, check_in_words, checks_on_run, outcome_in_words
from tokenomy.abm.levers import LEVER_BY_NAME, LEVERS
from tokenomy.abm.metric_words import fmt, fmt_change, fmt_number, fmt_points, label, label_with_unit, unit
from tokenomy.abm.scenarios import ScenarioError, load_scenario
from tokenomy.abm.shocks import SHOCKS, apply_shock
from tokenomy.viz import charts
from tokenomy.viz.figure import Figure
from tokenomy.viz.glossary import gloss
from tokenomy.viz.markdown import TERM_CSS, LabelledSlider
from tokenomy.viz.model import ChainModel

COMPARE_METRICS = [
    "token_price_cny_per_mtok",
    "compute_price_cny_per_gpu_hour",
    "power_price_cny_per_mwh",
    "power_spread_cny_per_mwh",
    "tokens_served_mtok",
    "unserved_share",
    "gpus_online",
    "aidc_green_share",
    "aidc_energy_mwh",
]
STATUS_WORDS = {
    "passed": ("holds", "#2e7d32"),
    "failed": ("does not hold", "#c62828"),
    "pending": ("not judged (model change pending)", "#8d6e00"),
}


# ------------------------------------------------------------------------------------------------
# checks on the student's run
# ------------------------------------------------------------------------------------------------
def baseline_tables(model, overrides: tuple[str, ...], days: int) -> dict:
    """The same world and seed with a check's baseline overrides (and no shocks), run for ``days``; cached
    on the model so each twin is simulated once."""
    cache = model.__dict__.setdefault("_baseline_runs", {})
    key = (overrides, days)
    if key not in cache:
        twin = ChainModel(
            model.scenario_name,
            seed=model.seed_value,
            overrides=tuple(model.extra_overrides) + overrides,
            **model.levers,
        )
        twin.run(days)
        cache[key] = {"daily": twin.daily_table(), "hourly": twin.hourly_table()}
    return cache[key]


def run_checks_on_model(model) -> list[RunCheck]:
    """The model's scenario checks judged on the model's own run so far."""
    scenario = load_scenario(model.scenario_name, list(model.extra_overrides))
    tables = _Tables(model)
    return checks_on_run(
        scenario, tables, model.day, model.seed_value, lambda overrides, days: baseline_tables(model, overrides, days)
    )


class _Tables(dict):
    """The run's tables, each built on first use (the hourly table is large and few checks need it)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def __missing__(self, key: str):
        self[key] = self.model.daily_table() if key == "daily" else self.model.hourly_table()
        return self[key]


def _date(model, day: int) -> str:
    return (model.start_date + dt.timedelta(days=day)).isoformat()


@solara.component
def CheckCard(model, rc: RunCheck):
    check = rc.check
    name = html.escape(check["name"])
    if not rc.ready:
        head = (
            f"<span style='color:#666'>judged on day {rc.horizon_day} ({_date(model, rc.horizon_day)}); "
            f"play on to see it</span>"
        )
        body = ""
        status = "waiting"
    else:
        words, colour = STATUS_WORDS[rc.result.status]
        status = rc.result.status
        head = f"<b style='color:{colour}'>{words}</b>"
        body = (
            f"<div>{html.escape(outcome_in_words(check, rc.result.seeds[0]))}</div>"
            f"<div style='color:#555'>{html.escape(check_in_words(check))}</div>"
        )
    claim = html.escape(check["claim"] or check["name"])
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<div style='font-weight:600'>{claim} <span style='color:#999;font-weight:400'>({name})</span></div>"
            f"<div>{head}</div>{body}"
        ),
        attributes={"data-testid": f"check-{check['name']}", "data-status": status},
        style={
            "font-size": "14px",
            "margin": "10px 0",
            "padding": "8px 12px",
            "border-left": "4px solid #ddd",
            "background": "#fafafa",
        },
    )


@solara.component
def ChecksPanel(model):
    """The scenario's expected outcomes, each judged on the run in this browser once it has gone far enough."""
    update_counter.get()
    try:
        results = run_checks_on_model(model)
        error = ""
    except (ScenarioError, ValueError) as exc:
        results, error = [], str(exc)
    claim = model.data.get("expected", {}).get("claim", "") if isinstance(model.data, dict) else ""
    with solara.Card(f"What {model.scenario_name} should show, checked on your run", style={"max-width": "1000px"}):
        if claim:
            solara.HTML(tag="div", unsafe_innerHTML=f"<i>{html.escape(claim)}</i>", style={"font-size": "14px"})
        solara.Text(
            "Each check is judged on the run you are playing (with any shocks you fired), once it has "
            "reached the check's last day. 'Without the change' means a twin run of the same world and "
            "seed with the scenario's change undone and no shocks.",
            style={"font-size": "13px"},
        )
        if error:
            solara.Error(error)
        ready = sum(rc.ready for rc in results)
        with solara.Div(
            attributes={"data-testid": "check-results", "data-ready": str(ready), "data-total": str(len(results))}
        ):
            if not results and not error:
                solara.Text("This scenario states no checks.")
            for rc in results:
                CheckCard(model, rc)


# ------------------------------------------------------------------------------------------------
# side by side
# ------------------------------------------------------------------------------------------------
NO_SHOCK = "no shock"


def compare_runs(
    model,
    lever: str,
    value_a: float,
    value_b: float,
    days: int,
    shock_b: str = NO_SHOCK,
    shock_day: int = 0,
    events_b: bool = True,
):
    """Two runs of the model's world and seed that differ only in ``lever`` and, for B, a shock fired on
    ``shock_day`` and (``events_b`` False) the scenario's own events left out; their daily tables."""
    out = []
    for side, value in (("A", value_a), ("B", value_b)):
        levers = {**model.levers, lever: value}
        run = ChainModel(model.scenario_name, seed=model.seed_value, overrides=model.extra_overrides, **levers)
        if side == "B" and not events_b:
            run.timeline.pending = []  # the world without the scenario's dated events (its drivers stay as set)
            run.data["events"] = []
        if side == "B" and shock_b != NO_SHOCK:
            run.run(min(shock_day, days))
            apply_shock(run, shock_b)
        run.run(days - run.day)
        out.append(run.daily_table())
    return out


def b_extra(shock: str, shock_day: int, events_b: bool) -> str:
    """What B has besides its lever, for its name in the chart and table (empty when nothing)."""
    parts = ([f"{shock} on day {shock_day}"] if shock != NO_SHOCK else []) + ([] if events_b else ["no events"])
    return f" + {', '.join(parts)}" if parts else ""


def _series(name: str, frame, column: str, **extra) -> dict:
    dates = frame.date.dt.strftime("%Y-%m-%d").tolist()
    scale = 100.0 if column in _SHARES else 1.0
    return {
        "name": name,
        "type": "line",
        "showSymbol": False,
        "data": [[d, round(float(v) * scale, 6)] for d, v in zip(dates, frame[column], strict=True)],
        **extra,
    }


_SHARES = {c for c in COMPARE_METRICS if label_with_unit(c).endswith("%")}


@solara.component
def SideBySide(model):
    """The same world twice, differing in one lever, with one series overlaid and the means in a table."""
    lever_name, set_lever_name = solara.use_state("agentic_growth")
    value_a, set_value_a = solara.use_state(1.0)
    value_b, set_value_b = solara.use_state(3.0)
    days, set_days = solara.use_state(240)
    shock, set_shock = solara.use_state(NO_SHOCK)
    shock_day, set_shock_day = solara.use_state(60)
    events_b, set_events_b = solara.use_state(True)
    result, set_result = solara.use_state(None)
    metric, set_metric = solara.use_state(COMPARE_METRICS[0])
    lever = LEVER_BY_NAME[lever_name]

    def choose(label_text: str) -> None:
        chosen = next(x for x in LEVERS if x.label == label_text)
        set_lever_name(chosen.name)
        set_value_a(chosen.default)
        set_value_b(min(chosen.max, chosen.default * 3) if chosen.default else chosen.max)
        set_result(None)

    def run():
        a, b = compare_runs(model, lever_name, value_a, value_b, days, shock, shock_day, events_b)
        set_result((a, b, lever_name, value_a, value_b, b_extra(shock, shock_day, events_b)))

    with solara.Card("Side by side: the same world with one lever moved", style={"max-width": "1100px"}):
        solara.Text(
            f"Both runs use {model.scenario_name}, seed {model.seed_value} and the sidebar's other "
            "sliders; they differ in the lever below and, if you choose, B gets a shock or loses the scenario's "
            "own events.",
            style={"font-size": "13px"},
        )
        solara.Select("Lever", value=lever.label, values=[x.label for x in LEVERS], on_value=choose)
        with solara.Row(style={"gap": "24px"}):
            for side, value, set_value in (("A", value_a, set_value_a), ("B", value_b, set_value_b)):
                with solara.Column(style={"flex": "1"}):
                    LabelledSlider(
                        f"{side}: " + lever.show(value),
                        value=value,
                        min=lever.min,
                        max=lever.max,
                        step=lever.step,
                        integer=lever.integer,
                        on_value=set_value,
                        testid=f"variant-{side.lower()}",
                    )
        LabelledSlider(f"Days to run: {days}", value=days, min=30, max=730, step=30, integer=True, on_value=set_days)
        with solara.Row(style={"gap": "24px", "align-items": "center", "flex-wrap": "wrap"}):
            solara.Select("B also gets a shock", value=shock, values=[NO_SHOCK, *SHOCKS], on_value=set_shock)
            if shock != NO_SHOCK:
                LabelledSlider(
                    f"fired on day {shock_day}",
                    value=shock_day,
                    min=0,
                    max=days - 1,
                    step=1,
                    integer=True,
                    on_value=set_shock_day,
                    testid="side-shock-day",
                )
            if model.data.get("events"):
                solara.Checkbox(
                    label=f"B keeps the scenario's own events ({len(model.data['events'])})",
                    value=events_b,
                    on_value=set_events_b,
                )
        solara.Button("Run both", color="primary", on_click=run)
        if result is None:
            return
        a, b, lev, va, vb, extra = result
        shown = LEVER_BY_NAME[lev]
        name_a, name_b = "A: " + shown.show(va), "B: " + shown.show(vb) + extra
        solara.Select(
            "Series",
            value=label_with_unit(metric),
            values=[label_with_unit(c) for c in COMPARE_METRICS],
            on_value=lambda v: set_metric(next(c for c in COMPARE_METRICS if label_with_unit(c) == v)),
        )
        option = {
            **charts.BASE,
            "tooltip": {"trigger": "axis"},
            "legend": {"top": 0},
            "grid": {"left": 70, "right": 20, "top": 50, "bottom": 30},
            "xAxis": {"type": "time"},
            "yAxis": {
                "type": "value",
                "name": label_with_unit(metric),
                "scale": True,
                "nameTextStyle": {"align": "left"},
            },
            "series": [_series(name_a, a, metric), _series(name_b, b, metric, lineStyle={"type": "dashed"})],
        }
        mean_a, mean_b = float(np.mean(a[metric])), float(np.mean(b[metric]))
        with solara.Div(
            attributes={
                "data-testid": "side-by-side",
                "data-days": str(len(a)),
                "data-mean-a": f"{mean_a:.6g}",
                "data-mean-b": f"{mean_b:.6g}",
            }
        ):
            Figure(option, 340)
        rows = "".join(
            f"<tr><td>{html.escape(label(c))}</td><td>{html.escape(fmt(a[c].mean(), c))}</td>"
            f"<td>{html.escape(fmt(b[c].mean(), c))}</td><td>{_change_cell(a[c].mean(), b[c].mean(), c)}</td></tr>"
            for c in COMPARE_METRICS
        )
        solara.HTML(
            tag="table",
            unsafe_innerHTML=(
                f"<tr><th>average over the run</th><th>{html.escape(name_a)}</th><th>{html.escape(name_b)}</th>"
                f"<th>B against A</th></tr>{rows}"
            ),
            classes=["tk-table"],
            attributes={"data-testid": "side-table"},
        )
        solara.Style(TABLE_CSS)


def _change_cell(a: float, b: float, column: str) -> str:
    """B against A: a share moves in percentage points (3.8% to 4.5% is +0.7 points, not +18%), anything else by
    its relative change."""
    if unit(column) == "share":
        return fmt_points(b - a)
    return fmt_change(b / a - 1) if a else "n/a"


TABLE_CSS = """
.tk-table { border-collapse: collapse; font-size: 14px; margin-top: 8px; }
.tk-table th, .tk-table td { border: 1px solid #ddd; padding: 3px 10px; text-align: right; }
.tk-table th:first-child, .tk-table td:first-child { text-align: left; }
.tk-table.tk-left th, .tk-table.tk-left td { text-align: left; }
"""


# ------------------------------------------------------------------------------------------------
# classic markets
# ------------------------------------------------------------------------------------------------
MARKETS = ("call market", "double auction", "cobweb", "algorithmic pricing")
MARKET_KEYS = {
    "call market": "call-market",
    "double auction": "double-auction",
    "cobweb": "cobweb",
    "algorithmic pricing": "algorithmic-pricing",
}
CHART_IDS = {
    "call market": "call-chart",
    "double auction": "price-path-chart",
    "cobweb": "cobweb-chart",
    "algorithmic pricing": "impulse-chart",
}


def parse_prices(text: str, what: str) -> list[float]:
    """Comma-separated prices typed by a student; ValueError with a readable message when they are not."""
    items = [x.strip() for x in text.replace(";", ",").split(",") if x.strip()]
    if not items:
        raise ValueError(f"{what}: type at least one number, separated by commas")
    out = []
    for x in items:
        try:
            v = float(x)
        except ValueError:
            raise ValueError(f"{what}: '{x}' is not a number") from None
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{what}: '{x}' must be a number of 0 or more")
        out.append(v)
    if len(out) > 50:
        raise ValueError(f"{what}: at most 50 traders")
    return out


def _xy_option(x_name: str, y_name: str, series: list[dict]) -> dict:
    """A classic market's chart: value axes named ``x_name`` (across) and ``y_name`` (up), legend on top."""
    return {
        **charts.BASE,
        "legend": {"top": 0},
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 60, "right": 30, "top": 40, "bottom": 40},
        "xAxis": {"type": "value", "name": x_name, "nameLocation": "middle", "nameGap": 25},
        "yAxis": {"type": "value", "name": y_name},
        "series": series,
    }


def _line(name: str, xs, ys, **extra) -> dict:
    return {
        "name": name,
        "type": "line",
        "showSymbol": False,
        "data": [[float(x), round(float(y), 4)] for x, y in zip(xs, ys, strict=True)],
        **extra,
    }


def _table(rows: list[tuple[str, str, str]]) -> None:
    body = "".join(
        f"<tr><td>{gloss(n)}</td><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>" for n, a, b in rows
    )
    solara.HTML(
        tag="table", unsafe_innerHTML=f"<tr><th></th><th>theory</th><th>simulated</th></tr>{body}", classes=["tk-table"]
    )
    solara.Style(TABLE_CSS + TERM_CSS)


def call_market_view(values_text: str, costs_text: str):
    """The call market's table rows, chart and figures for the typed curves (ValueError on bad input)."""
    from tokenomy.abm.lessons import markets

    values = parse_prices(values_text, "Buyers' values")
    costs = parse_prices(costs_text, "Sellers' costs")
    r = markets.call_market(values, costs)
    rows = [
        ("price P*", fmt_number(r.theory_price), fmt_number(r.price)),
        ("quantity Q*", fmt_number(r.theory_quantity), fmt_number(r.quantity)),
        ("total surplus", fmt_number(r.theory_surplus), fmt_number(r.surplus)),
    ]
    dv, sc = np.sort(values)[::-1], np.sort(costs)
    qd, qs = np.arange(dv.size + 1), np.arange(sc.size + 1)
    option = _xy_option(
        "units",
        "price, CNY",
        [
            _line("demand (values)", qd, np.append(dv, dv[-1]), step="end"),
            _line("supply (costs)", qs, np.append(sc, sc[-1]), step="end"),
            {"type": "scatter", "name": "clearing", "symbolSize": 12, "data": [[r.quantity, r.price]]},
        ],
    )
    return rows, option, {"price": r.price, "quantity": r.quantity, "surplus": r.surplus}


def double_auction_view(seed: int, traders: int = 6, units: int = 3, high: float = 190.0, low: float = 40.0):
    """The double auction of ``traders`` buyers and as many sellers, ``units`` units each, buyers' values spread
    from ``high`` down to ``low`` and sellers' costs their mirror image (Gode and Sunder's symmetric market)."""
    from tokenomy.abm.lessons import markets

    if not low < high:
        raise ValueError(f"the lowest value ({low:g}) must be below the highest ({high:g})")
    values, costs = markets.symmetric_market(traders=traders, units=units, low=low, high=high)
    zic = markets.double_auction(values, costs, constrained=True, periods=8, rng=seed)
    ziu = markets.double_auction(values, costs, constrained=False, periods=8, rng=seed)
    rows = [
        ("efficiency, traders who never trade at a loss (ZI-C)", "100%", f"{100 * zic.mean_efficiency:.1f}%"),
        ("efficiency, traders who may trade at a loss (ZI-U)", "100%", f"{100 * ziu.mean_efficiency:.1f}%"),
        ("average price, ZI-C", fmt_number(zic.theory_price), fmt_number(float(np.nanmean(zic.mean_price)))),
    ]
    series, x0, bounds = [], 0, []
    for name, res in (("ZI-C trades", zic), ("ZI-U trades", ziu)):
        xs, ys, x = [], [], 0
        for period_prices in res.prices:
            xs.extend(range(x + 1, x + 1 + len(period_prices)))
            ys.extend(period_prices)
            x += len(period_prices)
            if name == "ZI-C trades":
                bounds.append(x)
        series.append(_line(name, xs, ys, showSymbol=True, symbolSize=4))
        x0 = max(x0, x)
    series.append(_line("equilibrium price P*", [0, x0], [zic.theory_price] * 2, lineStyle={"type": "dashed"}))
    option = _xy_option("trade number (8 trading periods)", "price of each trade", series)
    return rows, option, {"efficiency": 100 * zic.mean_efficiency, "price": float(np.nanmean(zic.mean_price))}


COBWEB_THEORY = {
    "damped": "the swings shrink (damped)",
    "steady": "the swings stay the same size (steady)",
    "exploding": "the swings grow (exploding)",
}


def cobweb_words(r) -> str:
    """What theory says of a cobweb, and, where the price hit zero, what the chart shows instead."""
    text = f"Theory says: {COBWEB_THEORY[r.regime]}."
    if r.bound_at is not None:
        tail = r.price[r.bound_at :]
        text += (
            f" Here they grow until period {r.bound_at}, when the price would fall below zero and stops at 0 "
            f"(nobody pays to take the good away). From then on the swings cannot grow: the price jumps between "
            f"{fmt_number(float(tail.min()))} and {fmt_number(float(tail.max()))}."
        )
    return text


def cobweb_view(supply_slope: float):
    from tokenomy.abm.lessons import markets

    r = markets.cobweb(supply_slope=supply_slope, periods=30)
    limit = {
        "damped": f"P* = {fmt_number(r.theory_price)}",
        "steady": f"swings around P* = {fmt_number(r.theory_price)}",
        "exploding": f"no limit (swings around P* = {fmt_number(r.theory_price)} grow)",
    }[r.regime]
    rows = [
        ("cobweb ratio d / b (swing against the last)", f"{r.theory_ratio:.3g}", f"{r.measured_ratio:.3g}"),
        ("price in the last period (period 30)", limit, fmt_number(float(r.price[-1]))),
    ]
    t = np.arange(r.price.size)
    option = _xy_option(
        "period",
        "price",
        [
            _line("price", t, r.price),
            _line("P*", t, np.full(t.size, r.theory_price), lineStyle={"type": "dashed"}),
        ],
    )
    return (
        rows,
        option,
        {"ratio": r.measured_ratio, "price": float(r.price[-1]), "regime": r.regime, "words": cobweb_words(r)},
    )


@functools.lru_cache(maxsize=64)
def _pricing_session(seed: int, delta: float):
    """One classroom-speed session of the algorithmic-pricing lesson (a few hundredths of a second; kept, so a
    redraw or another student with the same settings does not learn again)."""
    from tokenomy.abm.lessons.algorithmic_pricing import CLASSROOM_BETA, algorithmic_pricing

    return algorithmic_pricing(beta=CLASSROOM_BETA, delta=delta, rng=np.random.default_rng(seed))


def algorithmic_pricing_view(seed: int, delta: float):
    """Two Q-learning firms (Calvano et al. 2020) at the classroom's exploration speed: the table, the impulse
    response chart and the figures of the session with this seed and discount factor."""
    r = _pricing_session(int(seed), round(float(delta), 2))
    settled = f"{r.periods:,}" + ("" if r.converged else " (not settled: capped)")
    rows = [
        (
            "average price",
            f"{fmt_number(r.nash_price)} competing, {fmt_number(r.monopoly_price)} as a cartel",
            fmt_number(r.mean_price),
        ),
        ("profit gain (0% competing, 100% a cartel)", "0% to 100%", f"{100 * r.mean_profit_gain:.0f}%"),
        ("firm 2 after firm 1 undercuts once", "cuts its price if they collude", _reaction(r)),
        ("periods until the strategies settled", "", settled),
    ]
    t = r.impulse_periods
    option = _xy_option(
        "period (firm 1 undercuts in period 0)",
        "price",
        [
            _line("firm 1", t, r.impulse_prices[:, 0], showSymbol=True, symbolSize=5),
            _line("firm 2", t, r.impulse_prices[:, 1], showSymbol=True, symbolSize=5),
            _line("competitive (Nash) price", t, np.full(t.size, r.nash_price), lineStyle={"type": "dashed"}),
            _line("cartel (monopoly) price", t, np.full(t.size, r.monopoly_price), lineStyle={"type": "dotted"}),
        ],
    )
    option["yAxis"]["min"] = float(np.floor(10 * r.grid[0]) / 10)
    figures = {"gain": 100 * r.mean_profit_gain, "price": r.mean_price, "punishes": r.rival_punishes}
    return rows, option, figures


def _reaction(r) -> str:
    if r.rival_punishes:
        return "cuts its price (punishes)"
    return "keeps its price"


@solara.component
def ClassicMarkets(market: str = "", on_result=None, gated: bool = False, locked: bool = False):
    """The classic markets, cleared by the same pure functions as the chain, theory beside simulation.

    ``market`` fixes one market (a lesson's); ``gated`` shows results only after "Run the market" is
    pressed, and ``on_result(market_key, figures)`` receives each run's figures; ``locked`` keeps the market from
    running (a lesson's prediction is not saved yet).
    """
    which, set_which = solara.use_state(next((k for k, v in MARKET_KEYS.items() if v == market), MARKETS[0]))
    values_text, set_values_text = solara.use_state("10, 9, 8, 7, 6, 5, 4, 3")
    costs_text, set_costs_text = solara.use_state("2, 3, 4, 5, 6, 7, 8, 9")
    seed, set_seed = solara.use_state(1)
    supply_slope, set_supply_slope = solara.use_state(0.8)
    discount, set_discount = solara.use_state(0.95)
    traders, set_traders = solara.use_state(6)
    units, set_units = solara.use_state(3)
    high, set_high = solara.use_state(190.0)
    low, set_low = solara.use_state(40.0)
    ran, set_ran = solara.use_state(not gated)
    with solara.Card("Classic markets" if not market else "The market", style={"max-width": "1100px"}):
        if not market:
            solara.ToggleButtonsSingle(value=which, values=list(MARKETS), on_value=set_which)
        if which == "call market":
            solara.InputText(
                "Buyers' values, CNY (one a buyer, commas between)",
                value=values_text,
                on_value=set_values_text,
                continuous_update=False,
            )
            solara.InputText(
                "Sellers' costs, CNY (one a seller, commas between)",
                value=costs_text,
                on_value=set_costs_text,
                continuous_update=False,
            )
        elif which in ("double auction", "algorithmic pricing"):
            LabelledSlider(
                f"Seed (which random traders): {seed}"
                if which == "double auction"
                else f"Seed (which random explorations): {seed}",
                value=seed,
                min=0,
                max=50,
                step=1,
                integer=True,
                on_value=set_seed,
            )
            if which == "double auction":
                for text, value, lo, hi, step, setter, testid in (
                    (f"Buyers (and as many sellers): {traders}", traders, 2, 20, 1, set_traders, "da-traders"),
                    (f"Units each trader may trade: {units}", units, 1, 5, 1, set_units, "da-units"),
                    (f"Highest buyer's value: {high:g} CNY", high, 60, 195, 5, set_high, "da-high"),
                    (
                        f"Lowest buyer's value: {low:g} CNY (sellers' costs mirror the values)",
                        low,
                        5,
                        150,
                        5,
                        set_low,
                        "da-low",
                    ),
                ):
                    LabelledSlider(
                        text, value=value, min=lo, max=hi, step=step, integer=step == 1, on_value=setter, testid=testid
                    )
            if which == "algorithmic pricing":
                LabelledSlider(
                    f"How much the firms value tomorrow (discount factor): {discount:g} (0: only today)",
                    value=discount,
                    min=0.0,
                    max=0.95,
                    step=0.05,
                    on_value=set_discount,
                    testid="discount",
                )
        else:
            LabelledSlider(
                f"Supply slope d: {supply_slope:g} (demand slope b is 1)",
                value=supply_slope,
                min=0.2,
                max=1.6,
                step=0.1,
                on_value=set_supply_slope,
                testid="supply-slope",
            )
        try:
            rows, option, figures = {
                "call market": lambda: call_market_view(values_text, costs_text),
                "double auction": lambda: double_auction_view(seed, int(traders), int(units), float(high), float(low)),
                "algorithmic pricing": lambda: algorithmic_pricing_view(seed, discount),
                "cobweb": lambda: cobweb_view(supply_slope),
            }[which]()
        except ValueError as exc:
            solara.Error(str(exc), dense=True)
            return

        def run():
            set_ran(True)
            if on_result is not None:
                on_result(MARKET_KEYS[which], figures)

        solara.Button("Run the market", color="primary", on_click=run, disabled=locked)
        if locked:
            solara.Text("Save your prediction above first: the market runs after it.", style={"font-size": "12px"})
        if not ran or locked:
            return
        with solara.Div(attributes={"data-testid": "classic-market", "data-market": which}):
            _table(rows)
            if which == "cobweb":
                solara.Text(figures["words"])
            with solara.Div(attributes={"data-testid": CHART_IDS[which]}):
                Figure(option, 300)
