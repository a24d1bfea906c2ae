"""The Tokenomy browser app: the chain and its prices live, lessons, checks and experiments, in tabs.

Run it with ``tokenomy viz [SCENARIO]`` (or ``solara run tokenomy.viz.app``).  Each browser session gets its
own model.  The sidebar holds Reset / Play / Step, the speed, the scenario and the sliders (applied on
Reset); shock buttons act on the next day.  Tabs: Market (the live panels), Lesson, Checks, Experiments
(side by side, classic markets) and About.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import os

import ipyvue
import solara
import solara.lab
import traitlets
from mesa.visualization.utils import update_counter

from tokenomy.abm.errors import one_line
from tokenomy.abm.shocks import SHOCKS, apply_shock, shock_in_words
from tokenomy.viz import charts, widget_guard
from tokenomy.viz.about import About
from tokenomy.viz.classroom import page_for
from tokenomy.viz.controls import RunButtons, Sidebar
from tokenomy.viz.crossing_panel import MarketCrossing
from tokenomy.viz.fan_panel import DEFAULT_FAN_SEEDS, FanControls, use_fan
from tokenomy.viz.figure import Figure
from tokenomy.viz.glossary import gloss
from tokenomy.viz.lessons_view import LessonPage
from tokenomy.viz.markdown import CSS as MARKDOWN_CSS
from tokenomy.viz.markdown import to_html
from tokenomy.viz.narrative import arrivals_by_date, explain, state_of, storage_words
from tokenomy.viz.session import TABS, AppSession, allowed_scenarios, lessons_by_name
from tokenomy.viz.teaching import ChecksPanel, ClassicMarkets, SideBySide
from tokenomy.viz.url_state import parse_query

DEFAULT_SCENARIO = os.environ.get("TOKENOMY_SCENARIO", "classroom")
log = logging.getLogger("tokenomy.viz")
SMALL = {"font-size": "12px", "color": "#555"}

# Solara's busy bar at the top of the page slides back and forth (a new layout and paint every frame) for as
# long as the server is busy.  With a class of pages on one server, every waiting page animating it kept the
# machine busy and made the wait longer; a still bar says "busy" as well.
STILL_BUSY_BAR_CSS = """
.v-application--wrap > .v-progress-linear .v-progress-linear__indeterminate .long,
.v-application--wrap > .v-progress-linear .v-progress-linear__indeterminate .short {
  animation: none !important; left: 0 !important; right: 0 !important;
}
"""


def _daily(model):
    """The daily table, built once per simulated day and shared by every panel."""
    cache = getattr(model, "_viz_cache", None)
    if cache is None or cache[0] != model.day:
        model._viz_cache = (model.day, model.daily_table())
    return model._viz_cache[1]


def _chart(option: dict, height: int, testid: str, **data: object):
    """An ECharts figure whose div names it (and carries a few figures) for tests and scripts."""
    Figure(option, height, testid=testid, **data)


def _chart_once_simulated(ready: bool, draw, height: int, testid: str) -> None:
    """``draw()`` once there is a simulated day to show; before that, an empty chart of the same size saying
    so.  The figure is the same widget before and after, so the first Step only sends it a new option."""
    if ready:
        draw()
    else:
        _chart(charts.not_yet(), height, testid)


def header_html(model) -> str:
    """The Market tab's header as one piece of HTML: the date and day, the scenario and seed, the shocks fired and
    what happened today (the narrative), so that a Step changes one widget here, not four."""
    fired = getattr(model, "shocks_fired", [])
    shocks = "; ".join(f"{name} (day {day})" for day, name, _ in fired)
    if model.day == 0:
        lines = ["Press Step or Play to start trading. Settings apply on Reset; shocks act on the next day."]
    else:
        lines = explain(state_of(model, _daily(model)))
    row = [
        f"<span data-testid='sim-date' style='font-size: 26px; font-weight: 600'>{model.date.isoformat()}</span>",
        f"<span>day <span data-testid='sim-day'>{model.day}</span></span>",
        f"<span>scenario: {html.escape(model.scenario_name)} · seed {model.seed_value}</span>",
    ]
    if shocks:
        row.append(f"<span style='font-size: 12px'>shocks: {html.escape(shocks)}</span>")
    narrative = to_html("\n".join(f"- {text}" for text in lines))
    return (
        "<div style='display: flex; flex-wrap: wrap; align-items: baseline; column-gap: 18px'>"
        + "".join(row)
        + f"</div><div class='tk-md' data-testid='narrative' style='font-size: 14px'>{narrative}</div>"
    )


@solara.component
def Header(model):
    update_counter.get()
    solara.Style(MARKDOWN_CSS)
    with solara.Card(style={"height": "100%", "overflow": "auto"}):
        solara.HTML(tag="div", unsafe_innerHTML=header_html(model))


@solara.component
def ChainGraph(model):
    update_counter.get()
    with solara.Card("The chain: power → zones → AIDCs → providers → buyers", style={"height": "100%"}):
        _chart(charts.chain_graph(model), 390, "chain-graph", nodes=model.graph.number_of_nodes())


def _price_inputs(model) -> tuple:
    """The day, the daily table and the zones' daily power prices, read together."""
    daily = _daily(model)
    return len(daily), daily, charts.zone_daily_prices(model)[: len(daily)]


@solara.component
def Prices(model):
    redraw = update_counter.get()
    index_view, set_index_view = solara.use_state(True)
    fan_on, set_fan_on = solara.use_state(False)
    fan_seeds, set_fan_seeds = solara.use_state(DEFAULT_FAN_SEEDS)
    # read from the model once per redraw (when the Play loop waits for the page): a fan that becomes ready, or a
    # click on this card, redraws the chart from these, never from a model the Play loop may be stepping
    day, daily, zone_prices = solara.use_memo(lambda: _price_inputs(model), [model, redraw])
    fan, fan_text = use_fan(model, fan_on, fan_seeds, day)
    with solara.Card("Prices over time", style={"height": "100%"}):
        with solara.Row(style={"align-items": "center", "gap": "16px", "flex-wrap": "wrap"}):
            solara.ToggleButtonsSingle(
                value="index (start = 100)" if index_view else "levels",
                values=["index (start = 100)", "levels"],
                on_value=lambda v: set_index_view(v.startswith("index")),
            )
            FanControls(fan_on, set_fan_on, fan_seeds, set_fan_seeds)
        # always there (empty while the fan is off), so that the chart below keeps its widget when the switch moves
        solara.HTML(
            tag="div", unsafe_innerHTML=html.escape(fan_text), attributes={"data-testid": "fan-text"}, style=SMALL
        )
        height = 330 + (charts.LEGEND_ROW_PX if fan_on else 0)  # the fans' legend entries take about a row
        _chart_once_simulated(
            not daily.empty,
            lambda: _chart(
                charts.price_history(model, daily, index_view, height, fan=fan, zone_prices=zone_prices),
                height,
                "price-chart",
                days=len(daily),
                fan_days=fan.days if fan is not None else 0,
                last_token_price=round(float(daily.token_price_cny_per_mtok.iloc[-1]), 6),
            ),
            height,
            "price-chart",
        )


@solara.component
def Today(model):
    update_counter.get()
    with solara.Card("Today's 24 hours of power", style={"height": "100%"}):
        _chart_once_simulated(
            model.last is not None,
            lambda: _chart(charts.today_hours(model), 340, "today-chart", day=model.day),
            340,
            "today-chart",
        )


def _supply_demand_figures(model, daily) -> None:
    """Today's figures in a line, then the chart (before the first day: a line and an empty chart saying so)."""
    if daily.empty:
        solara.HTML(tag="div", unsafe_innerHTML="Today: nothing traded yet.", style={"font-size": "13px"})
        _chart(charts.not_yet(), 280, "supply-chart")
        return
    last = daily.iloc[-1]
    wanted, served = last.tokens_demanded_mtok, last.tokens_served_mtok
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"Today: <b>{wanted / 1e6:,.3f}T</b> tokens wanted, <b>{served / 1e6:,.3f}T</b> served "
            f"({last.unserved_share:.1%} unserved); GPU utilisation {last.gpu_utilization:.0%}"
        ),
        attributes={
            "data-testid": "today-figures",
            "data-tokens-wanted": f"{wanted:.6f}",
            "data-tokens-served": f"{served:.6f}",
        },
        style={"font-size": "13px"},
    )
    _chart(charts.supply_demand(model, daily), 280, "supply-chart", days=len(daily))


@solara.component
def SupplyDemand(model):
    update_counter.get()
    daily = _daily(model)
    with solara.Card("Supply against demand", style={"height": "100%"}):
        _supply_demand_figures(model, daily)
        on_order = [(model.start_date + dt.timedelta(days=d), n) for d, _, n in model.aidcs.pipeline]
        text = ", ".join(f"{n:,.0f} GPUs on {when.isoformat()}" for when, n in arrivals_by_date(on_order, 3))
        solara.Text(f"Next arrivals: {text}" if text else "No GPUs on order.", style={"font-size": "13px"})


def _storage_figures(last) -> None:
    solara.HTML(
        tag="div",
        unsafe_innerHTML=storage_words(last),
        attributes={"data-testid": "storage-figures", "data-storage-gpu-hours": f"{last.storage_gpu_hours:.3f}"},
        style={"font-size": "13px"},
    )


@solara.component
def TokenCost(model):
    update_counter.get()
    daily = _daily(model)
    with solara.Card("What a token costs (CNY per Mtok)", style={"height": "100%"}):
        if not daily.empty:
            _storage_figures(daily.iloc[-1])
        _chart_once_simulated(
            not daily.empty,
            lambda: _chart(charts.token_cost(daily, model), 280, "cost-chart", days=len(daily)),
            280,
            "cost-chart",
        )


@solara.component
def Actions(model):
    # nothing here changes from day to day, so it does not redraw on every Step (a new model is a new prop)
    message, set_message = solara.use_state("")
    with solara.Card("Shocks and export", style={"height": "100%"}):
        solara.Text("Fire a shock: it takes effect on the next day.", style={"font-size": "13px"})
        with solara.Row(style={"flex-wrap": "wrap", "gap": "6px"}):
            for name, shock in SHOCKS.items():
                with solara.Tooltip(shock_in_words(shock)):
                    solara.Button(
                        name,
                        color="warning",
                        outlined=True,
                        small=True,
                        on_click=lambda name=name: set_message(apply_shock(model, name)),
                    )
        if message:  # what the shock changes: news, not a success
            solara.Info(message, dense=True, icon="mdi-flash")
        with solara.Row(style={"flex-wrap": "wrap", "gap": "6px", "margin-top": "10px"}):
            solara.FileDownload(
                lambda: model.daily_table().to_csv(index=False), filename="daily.csv", label="daily table (CSV)"
            )
            solara.FileDownload(
                lambda: model.hourly_table().to_csv(index=False), filename="hourly.csv", label="hourly table (CSV)"
            )


# The Market tab, row by row: each row's panels share its width (a row of one spans the page).
MARKET_ROWS = [
    [Header],
    [ChainGraph, Prices],
    [MarketCrossing],
    [Today, SupplyDemand],
    [TokenCost, Actions],
]


# on a narrow screen (a projector at 1024x768) the panels of a row stack, each the page's width, so legends,
# titles and dates have room
ROW_CSS = "@media (max-width: 1200px) { .tk-row { grid-template-columns: 1fr !important; } }"


@solara.component
def MarketPage(model):
    solara.Style(ROW_CSS)
    for i, row in enumerate(MARKET_ROWS):
        columns = "7fr 5fr" if len(row) == 2 and i == 1 else " ".join(["1fr"] * len(row))
        with solara.Div(
            classes=["tk-row"],
            style={"display": "grid", "grid-template-columns": columns, "gap": "12px", "margin-bottom": "12px"},
        ):
            for panel in row:
                with solara.Div(style={"min-width": "0"}):
                    panel(model)


WELCOME = (
    "Tokenomy simulates the market for AI: buyers want tokens, providers rent GPU-hours from AI data centres, and "
    "the data centres buy power, all trading day by day, so every price you see comes from agents' bids."
)


@solara.component
def Welcome(session: AppSession):
    """The first screen: what this is in one sentence and three ways in; gone once one is chosen (or a day run)."""
    update_counter.get()  # drawn again after a step, so a run that has begun hides it
    router = solara.use_router()
    if not session.welcome.value or session.model.value.day > 0:
        return

    def go(tab: str) -> None:
        session.welcome.set(False)
        session.tab.set(TABS.index(tab))

    with (
        solara.Card("Welcome", style={"margin-bottom": "12px", "background": "#f6f9ff"}),
        solara.Div(attributes={"data-testid": "welcome"}),
    ):
        solara.HTML(tag="div", unsafe_innerHTML=gloss(WELCOME), style={"font-size": "15px"})
        with solara.Row(style={"gap": "10px", "flex-wrap": "wrap", "margin-top": "10px"}):
            solara.Button("Start a lesson", color="primary", on_click=lambda: go("Lesson"))
            # (no button name here holds another's: "Play", "Step", "Reset" stay unique on the page)
            solara.Button("Explore a scenario", color="primary", outlined=True, on_click=lambda: go("Market"))
            solara.Button("Try a classic market", color="primary", outlined=True, on_click=lambda: go("Experiments"))
            solara.Button("Glossary of terms", text=True, on_click=lambda: go("About"))
            # a class plays the firms: the teacher picks a scenario and a seed on its own page
            solara.Button("Run a class", color="primary", outlined=True, on_click=lambda: router.push("/class"))


@solara.component
def ChecksPage(session: AppSession):
    ChecksPanel(session.model.value)


@solara.component
def Experiments(session: AppSession):
    with solara.Column(style={"max-width": "1100px"}):
        SideBySide(session.model.value)
        ClassicMarkets()


class AddressBar(ipyvue.VueTemplate):
    """The browser's address, replaced in the page as the set-up changes (``address.vue``): a run moving on is
    written once the page is still, not on every Step (a new address costs the browser a navigation and a fresh
    download of the page's icons, more than a quarter of its work for a Step)."""

    template_file = (__file__, "address.vue")
    query = traitlets.Unicode("").tag(sync=True)


@solara.component
def AddressSync(session: AppSession):
    """Reads the set-up from the page's address when it opens and writes it back as it changes (a leaf of its own:
    following the address and every step re-draws only this)."""
    router = solara.use_router()
    # read (checked) once, when the page opens: what it asked for that cannot be taken is said in one line
    dropped = solara.use_memo(
        lambda: session.restore(parse_query(router.search, allowed_scenarios(session.started), lessons_by_name())),
        [],
    )
    update_counter.get()
    AddressBar.element(query=session.query())
    if dropped:
        solara.Warning("The address asked for what this app cannot take: " + one_line("; ".join(dropped)), dense=True)


@solara.component
def Page():
    # the classroom game's pages have addresses of their own (/join, /teacher, /class); the rest is the app
    router = solara.use_router()
    classroom = page_for(router.path)
    if classroom is not None:
        ClassroomFrame(classroom)
    else:
        MainPage()


def _shown_failure(log_message: str, back_label: str) -> bool:
    """Whether something below failed (a click's handler, a drawing): then one line in the page and a way back are
    drawn, the traceback goes to the server's log (rate-limited), never to the page.  A hook: call it at a
    component's top level."""
    error, clear = solara.use_exception()
    if error is None:
        return False
    log.warning(log_message, exc_info=error)
    with solara.Div(attributes={"data-testid": "page-error"}):
        solara.Error(one_line(f"That did not work: {error}"))
        solara.Button(back_label, color="primary", on_click=clear)
    return True


@solara.component
def ClassroomFrame(page):
    """A classroom page, whose failures (a click's handler, a drawing) end in one line and a way back."""
    if _shown_failure("a classroom page failed", "Back"):
        return
    # a value the page sent and the server refused (tokenomy.viz.widget_guard); the Div is always there, so the page
    # below keeps its place (and its state: a student's seat) when a notice comes
    notice = widget_guard.notice.value
    with solara.Div(attributes={"data-testid": "guard-notice"} if notice else {}):
        if notice:
            solara.Warning(notice, dense=True)
    page()


@solara.component
def MainPage():
    # one session state per browser tab: Page renders once per session
    session = AppSession.use(DEFAULT_SCENARIO)
    # the address carries the set-up: read once when the page opens, written back as it changes, so a reload keeps
    # the lesson, the prediction, the settings and the run, and a link shares them
    AddressSync(session)
    solara.Title("Tokenomy")
    solara.Style(STILL_BUSY_BAR_CSS)
    # whatever fails below (a click's handler, a panel's drawing) is caught here: one line in the page and a
    # way back, the traceback in the server's log (rate-limited), never in the page
    if _shown_failure("a session's page failed", "Back to the app"):
        return
    App(session)


PROJECTOR_CSS = """
.tk-projector, .tk-projector .tk-md { font-size: 19px !important; line-height: 1.45; }
.tk-projector .v-card__title { font-size: 24px !important; }
"""


@solara.component
def ProjectorBar(session: AppSession):
    """Projector view: no sidebar (the charts get the room), large type, and the run's buttons kept at the top."""
    on = session.projector.value
    with solara.Row(style={"align-items": "center", "gap": "12px", "flex-wrap": "wrap"}):
        if on:
            RunButtons(session)
        with solara.Div(attributes={"data-testid": "projector-switch"}):
            solara.Switch(label="Projector view", value=on, on_value=session.projector.set)


@solara.component
def App(session: AppSession):
    projector = session.projector.value
    if not projector:
        with solara.Sidebar():
            Sidebar(session)
    else:
        solara.Style(PROJECTOR_CSS)
    with (
        solara.Div(classes=["tk-projector"] if projector else []),
        solara.lab.Tabs(value=session.tab.value, on_value=session.tab.set, lazy=True),
    ):
        with solara.lab.Tab(TABS[0]):
            ProjectorBar(session)
            Welcome(session)
            MarketPage(session.model.value)
        with solara.lab.Tab(TABS[1]):
            LessonPage(session)
        with solara.lab.Tab(TABS[2]):
            ChecksPage(session)
        with solara.lab.Tab(TABS[3]):
            Experiments(session)
        with solara.lab.Tab(TABS[4]):
            About()


# Solara serves the addresses its routes name (any other is its "Page not found"): the app at "/", and the classroom
# game's pages, which Page itself picks by the address (tokenomy.viz.classroom.page_for)
@solara.component
def Layout(children=()):
    """Solara's app layout (the sidebar's home) without its links between routes: the classroom's pages are reached
    by their own links, not from the app's header."""
    return solara.AppLayout(children=list(children), navigation=False)


routes = [solara.Route(path="/", component=Page, layout=Layout)] + [
    solara.Route(path=name, component=Page) for name in ("join", "teacher", "class")
]
