"""The browser app, driven through headless Chromium against a real server on loopback."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import time

import pandas as pd
import pytest
from browser_support import ARTIFACTS, Session

from tokenomy.abm.levers import LEVERS
from tokenomy.abm.model import TokenEconomy
from tokenomy.abm.scenarios import shipped_scenarios

pytestmark = pytest.mark.browser

PANELS = ["narrative", "chain-graph", "price-chart", "today-chart", "supply-chart", "cost-chart", "today-figures"]
TABS = ["Market", "Lesson", "Checks", "Experiments", "About"]
FRAMEWORK_WORDS = ["Page 0", "Page 1", "Render Interval", "Use Threads", "Information", "Time: "]


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def _wait_day(page, day: int, timeout_ms: int = 240_000) -> None:
    page.wait_for_function(
        f"Number(document.querySelector('[data-testid=sim-day]')?.innerText) >= {day}", timeout=timeout_ms
    )


def _sidebar(page) -> str:
    return page.get_by_test_id("sidebar").inner_text()


def _play_to_stop(page, timeout_ms: int = 240_000) -> None:
    """Press Play and wait until the loop stops by itself (the button reads Play again)."""
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for(timeout=30_000)
    page.get_by_role("button", name="Play").wait_for(timeout=timeout_ms)


def test_page_loads_offline_and_every_panel_renders(session):
    page = session.page
    assert session.date() == "2025-01-01" and session.day() == 0
    assert "This website runs on" not in page.locator("body").inner_text()  # no banner over the charts
    session.step()
    for testid in PANELS:
        el = page.get_by_test_id(testid)
        el.wait_for(timeout=30_000)
        assert el.is_visible(), testid
    for testid in ("chain-graph", "price-chart", "today-chart", "supply-chart", "cost-chart"):
        page.get_by_test_id(testid).scroll_into_view_if_needed()
        page.wait_for_function(f"document.querySelector('[data-testid={testid}] canvas') !== null", timeout=30_000)
    nodes = TokenEconomy("classroom").graph.number_of_nodes()
    assert page.get_by_test_id("chain-graph").get_attribute("data-nodes") == str(nodes)
    assert "tokens wanted" in page.get_by_test_id("today-figures").inner_text()
    assert page.get_by_test_id("narrative").inner_text().strip()
    for name in ("demand boom", "line outage", "add storage", "GPU supply cut"):
        assert page.get_by_role("button", name=name).is_visible()
    for label in ("daily table (CSV)", "hourly table (CSV)"):
        assert page.get_by_text(label).is_visible()
    for control in ("Reset", "Play", "Step"):
        assert page.get_by_role("button", name=control).is_visible()
    assert session.blocked == [], f"the page tried to reach the internet: {session.blocked[:5]}"


# The points the chart named by a data-testid has drawn in its first series, or null while it has no canvas.
DRAWN_POINTS = """testid => {
    const canvas = document.querySelector(`[data-testid=${testid}] canvas`);
    if (!canvas) return null;
    return window.tokenomyEcharts.then(
        echarts => echarts.getInstanceByDom(canvas.parentElement.parentElement).getOption().series[0].data.length
    );
}"""


def test_a_chart_out_of_view_waits_and_then_draws_the_latest_day(browser, server):
    """Charts scrolled out of sight are not drawn on every Step (25 pages share a classroom's machine); one
    scrolled into view draws at once, and what it draws is the latest day, not the option it was first sent."""
    context = browser.new_context(viewport={"width": 1280, "height": 700})
    try:
        page = context.new_page()
        page.goto(server)
        page.wait_for_selector("[data-testid=sim-day]", timeout=60_000)
        page.get_by_role("button", name="Explore a scenario").click()  # the first screen's card gone: as before
        page.wait_for_function("document.querySelector('[data-testid=price-chart] canvas') !== null")
        for day in (1, 2, 3):
            page.get_by_role("button", name="Step").click()
            page.wait_for_function(f"document.querySelector('[data-testid=cost-chart]')?.dataset.days == '{day}'")
        assert page.evaluate(DRAWN_POINTS, "price-chart") == 3
        assert page.evaluate(DRAWN_POINTS, "cost-chart") is None  # below the fold: not drawn yet
        page.get_by_test_id("cost-chart").scroll_into_view_if_needed()
        page.wait_for_function(f"({DRAWN_POINTS})('cost-chart') !== null", timeout=10_000)
        assert page.evaluate(DRAWN_POINTS, "cost-chart") == 3
        page.get_by_role("button", name="Step").click()  # in view now: drawn on the Step itself
        page.wait_for_function(f"({DRAWN_POINTS})('cost-chart').then(n => n == 4)", timeout=10_000)
    finally:
        context.close()


# The lengths of the fan bands the price chart has drawn (the shaded series of a fan of seeds) and their x axes.
DRAWN_FANS = """() => {
    const canvas = document.querySelector('[data-testid=price-chart] canvas');
    if (!canvas) return null;
    return window.tokenomyEcharts.then(echarts => echarts.getInstanceByDom(canvas.parentElement.parentElement)
        .getOption().series.filter(s => s.name.includes(', seeds ') && s.areaStyle)
        .map(s => [s.data.length, s.xAxisIndex]));
}"""


def _drawn_fans(page, expected: list, timeout_s: float = 10.0) -> list | None:
    """The fans the price chart has drawn, once they are ``expected`` (or what they are after ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while (drawn := page.evaluate(DRAWN_FANS)) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return drawn


def test_a_fan_of_seeds_is_drawn_behind_the_prices_and_follows_the_steps(session):
    page = session.page
    session.step(3)
    assert page.get_by_test_id("price-chart").get_attribute("data-fan-days") == "0"
    page.get_by_text("Show a fan of 8 seeds").click()
    page.wait_for_function("document.querySelector('[data-testid=price-chart]')?.dataset.fanDays == '3'")
    assert _drawn_fans(page, [[3, 0], [3, 0]]) == [[3, 0], [3, 0]]  # token and compute, in the index view
    assert "seeds 2-9" in page.get_by_test_id("fan-text").inner_text()
    session.step()
    page.wait_for_function("document.querySelector('[data-testid=price-chart]')?.dataset.fanDays == '4'")
    page.get_by_role("button", name="levels").click()
    assert _drawn_fans(page, [[4, 0], [4, 1]]) == [[4, 0], [4, 1]]  # compute on its own chart in the levels view
    page.get_by_text("Show a fan of 8 seeds").click()
    page.wait_for_function("document.querySelector('[data-testid=price-chart]')?.dataset.fanDays == '0'")
    assert _drawn_fans(page, []) == []
    assert page.get_by_test_id("fan-text").inner_text() == ""


def test_the_busy_bar_stands_still_while_the_server_works(session):
    """Solara's busy bar slides (a layout and paint every frame) while the server works; 25 waiting pages
    animating it slowed the class's machine, so it is shown still, across the page."""
    page = session.page
    # what Solara's page does once the server has been busy for 300 ms
    page.evaluate("() => { document.querySelector('.v-application').__vue__.$root.kernelBusyLong = true; }")
    bar = ".v-application--wrap > .v-progress-linear .v-progress-linear__indeterminate--active .long"
    page.wait_for_selector(bar, timeout=10_000)
    assert page.evaluate(f"getComputedStyle(document.querySelector('{bar}')).animationName") == "none"
    width = page.evaluate(f"document.querySelector('{bar}').getBoundingClientRect().width")
    assert width == page.evaluate("document.querySelector('.v-application--wrap').getBoundingClientRect().width")


def test_tabs_are_named_for_what_they_hold_and_no_framework_words_show(session):
    page = session.page
    for name in TABS:
        assert page.get_by_role("tab", name=name).is_visible(), name
    text = page.locator("body").inner_text()
    for word in FRAMEWORK_WORDS:
        assert word not in text, word
    _tab(page, "About")
    about = page.get_by_test_id("about").inner_text()
    for heading in ("What it is", "How it works", "Things to notice", "Things to try", "Credits and sources"):
        assert heading in about


def test_every_slider_shows_its_value_and_unit(session):
    page = session.page
    sidebar = _sidebar(page)
    assert "Scenario" in sidebar and "Seed (which random draws): 1" in sidebar
    for lever in LEVERS:
        assert lever.show(lever.default) in sidebar, lever.name
    assert "Power price cap: 1,500 CNY per MWh" in sidebar
    slider = page.get_by_test_id("slider-storage_scale").get_by_role("slider")
    slider.focus()
    slider.press("ArrowRight")
    page.get_by_text("Storage capacity: x1.25 the scenario's").wait_for(timeout=10_000)
    page.get_by_text("Press Reset to apply these settings.").wait_for(timeout=10_000)


def test_step_advances_the_date_and_changes_the_price_chart(session):
    page = session.page
    session.step()
    chart = page.get_by_test_id("price-chart")
    first = chart.get_attribute("data-days"), session.date()
    session.step()
    second = chart.get_attribute("data-days"), session.date()
    assert int(second[0]) == int(first[0]) + 1
    assert dt.date.fromisoformat(second[1]) - dt.date.fromisoformat(first[1]) == dt.timedelta(days=1)


def test_demand_boom_raises_tokens_wanted_the_next_day(session):
    page = session.page
    session.step(2)
    before = float(page.get_by_test_id("today-figures").get_attribute("data-tokens-wanted"))
    page.get_by_role("button", name="demand boom").click()
    page.get_by_text(re.compile("^Demand boom")).wait_for(timeout=10_000)
    session.step()
    after = float(page.get_by_test_id("today-figures").get_attribute("data-tokens-wanted"))
    assert after > 1.3 * before


def test_reset_returns_to_day_zero(session):
    page = session.page
    session.step(3)
    assert session.day() == 3
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function("document.querySelector('[data-testid=sim-day]').innerText == '0'", timeout=30_000)
    assert session.date() == "2025-01-01"


def test_two_sessions_do_not_share_state(browser, server):
    a, b = Session(browser, server), Session(browser, server)
    try:
        a.step(3)
        b.page.reload()
        b.page.wait_for_selector("[data-testid=sim-date]")
        assert a.day() == 3 and b.day() == 0
        b.step()
        assert a.day() == 3 and b.day() == 1
    finally:
        a.close()
        b.close()


def test_csv_export_matches_the_model(session):
    page = session.page
    session.step(4)
    tables = {}
    for name in ("daily", "hourly"):
        with page.expect_download(timeout=30_000) as info:
            page.get_by_text(f"{name} table (CSV)").click()
        tables[name] = pd.read_csv(info.value.path())
    model = TokenEconomy("classroom", seed=1)
    model.run(4)
    expected = {"daily": model.daily_table(), "hourly": model.hourly_table()}
    for name, frame in tables.items():
        want = expected[name]
        assert list(frame.columns) == list(want.columns)
        assert len(frame) == len(want)
        numeric = want.select_dtypes("number").columns
        pd.testing.assert_frame_equal(
            frame[numeric].reset_index(drop=True), want[numeric].reset_index(drop=True), check_dtype=False, rtol=1e-9
        )


def test_hovering_a_node_shows_the_agents_state(session):
    page = session.page
    session.step()
    page.wait_for_function("document.querySelector('[data-testid=chain-graph] canvas') !== null")
    box = page.get_by_test_id("chain-graph").locator("canvas").first.bounding_box()
    # find the AIDC node on the canvas through ECharts' own coordinate conversion, then hover there
    point = page.evaluate("""() => new Promise(resolve => {
        const el = document.querySelector('[data-testid=chain-graph] canvas').parentElement.parentElement;
        window.tokenomyEcharts.then(echarts => {
            const chart = echarts.getInstanceByDom(el);
            const data = chart.getOption().series[0].data;
            const k = data.findIndex(d => d.name === 'west-aidc');
            const layout = chart.getModel().getSeriesByIndex(0).getData().getItemLayout(k);
            resolve(chart.convertToPixel({seriesIndex: 0}, layout));
        });
    })""")
    page.mouse.move(box["x"] + 5, box["y"] + 5)
    page.mouse.move(box["x"] + point[0], box["y"] + point[1], steps=5)
    tip = page.get_by_text("west-aidc (AI data centre)")
    tip.wait_for(timeout=10_000)
    text = page.locator("div", has_text="west-aidc").filter(has_text="cash").last.inner_text()
    # words and units, not field names (no "utilization: 0.987", no "marginal cost cny per gpu hour")
    assert "GPUs installed" in text and "utilisation" in text and "CNY per GPU-hour" in text and "cash" in text
    assert "utilization" not in text and "cny per" not in text


def test_a_price_chart_exports_a_png_and_zooms_on_its_dates(session):
    page = session.page
    session.step(3)
    page.wait_for_function("document.querySelector('[data-testid=price-chart] canvas') !== null")
    result = page.evaluate("""() => new Promise(resolve => {
        const el = document.querySelector('[data-testid=price-chart] canvas').parentElement.parentElement;
        window.tokenomyEcharts.then(echarts => {
            const chart = echarts.getInstanceByDom(el);
            const option = chart.getOption();
            resolve({
                png: chart.getDataURL({type: 'png', pixelRatio: 2}),
                tools: Object.keys(option.toolbox[0].feature),
                zoom: option.dataZoom.length,
            });
        });
    })""")
    assert result["png"].startswith("data:image/png;base64,") and len(result["png"]) > 5000
    assert "saveAsImage" in result["tools"] and "dataZoom" in result["tools"] and result["zoom"] >= 1


def test_pause_at_the_fastest_speed_is_handled_at_once(session):
    """The Play loop leaves the page room to handle a click: Pause stops it within a redraw or two."""
    page = session.page
    for _ in range(3):
        page.get_by_role("button", name="Play").click()
        page.get_by_role("button", name="Pause").wait_for(timeout=30_000)
        time.sleep(1.0)
        t0 = time.perf_counter()
        page.get_by_role("button", name="Pause").click()
        page.get_by_role("button", name="Play").wait_for(timeout=30_000)
        assert time.perf_counter() - t0 < 5.0
        day = session.day()
        time.sleep(0.5)
        settled = session.day()
        assert settled - day <= 7  # at most the frame being simulated when Pause came (a week at fastest)
        time.sleep(0.5)
        assert session.day() == settled  # stopped, not merely redrawn


def test_a_full_year_of_classroom_plays_at_the_fastest_speed_and_the_checks_read_in_words(session):
    page = session.page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    assert "FASTEST" in page.get_by_role("button", name="fastest").inner_text().upper()
    page.get_by_role("button", name="Play").click()
    _wait_day(page, 366, timeout_ms=300_000)
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for(timeout=30_000)
    assert session.day() >= 366
    body = page.locator("body").inner_text()
    assert "The simulation stopped" not in body and "Traceback" not in body and not errors
    page.wait_for_function("document.querySelector('[data-testid=price-chart]')?.dataset.days >= 366")
    _tab(page, "Checks")
    results = page.get_by_test_id("check-results")
    page.wait_for_function(
        "document.querySelector('[data-testid=check-results]')?.dataset.ready == '5'", timeout=60_000
    )
    text = results.inner_text()
    assert "holds" in text and "does not hold" not in text
    assert re.search(r"\+\d[\d,]*%", text), text  # changes as signed percentages
    assert "CNY per GPU-hour" in text and "compute_price_cny_per_gpu_hour" not in text
    assert "measured" not in text


def test_loading_a_lesson_sets_scenario_and_sliders_and_reset_keeps_it(session):
    page = session.page
    slider = page.get_by_test_id("slider-agentic_growth").get_by_role("slider")
    slider.focus()
    slider.press("ArrowRight")
    page.get_by_text("Tokens per request as agents spread: x1.25 the scenario's, reached over a year").wait_for(
        timeout=10_000
    )
    _tab(page, "Lesson")
    page.get_by_test_id("load-01-call-market").wait_for(timeout=30_000)
    for n in range(1, 10):  # all nine lessons, classic markets and chain, are offered
        assert page.locator(f"[data-testid^=load-0{n}-]").count() == 1
    page.get_by_test_id("load-04-agent-boom").get_by_role("button").click()
    page.get_by_test_id("lesson-view").wait_for(timeout=30_000)
    page.get_by_text("Play stops by itself on day 270 for this lesson.").wait_for(timeout=30_000)
    sidebar = _sidebar(page)
    assert "agent-boom" in sidebar and "Tokens per request as agents spread: x1, as in the scenario" in sidebar
    assert "Why compute prices spike when agents arrive" in sidebar and "Play stops by itself on day 270" in sidebar
    # the run waits for the prediction: Play and Step are off until it is saved, then it is locked with the run
    page.get_by_text("Save your prediction in the Lesson tab first").wait_for(timeout=30_000)
    assert (
        page.get_by_role("button", name="Step").is_disabled() and page.get_by_role("button", name="Play").is_disabled()
    )
    page.get_by_role("button", name="Save my prediction").click()
    page.get_by_test_id("saved-prediction").wait_for(timeout=10_000)
    assert "locked" in page.get_by_test_id("saved-prediction").inner_text()
    _tab(page, "Market")
    session.step(2)
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function("document.querySelector('[data-testid=sim-day]').innerText == '0'", timeout=30_000)
    assert "scenario: agent-boom" in page.locator("body").inner_text()
    assert "Why compute prices spike when agents arrive" in _sidebar(page)
    _tab(page, "Lesson")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    teacher = page.get_by_role("switch", name="Teacher's view")  # (the Market tab has a switch of its own)
    teacher.wait_for(timeout=30_000)
    # a person clicks the switch's label (Vuetify lays a ripple over the input itself, which takes a click there);
    # a click in the instant the tab is still being drawn may be lost, so it is clicked until the switch is on
    for _ in range(5):
        if teacher.get_attribute("aria-checked") != "true":
            page.get_by_text("Teacher's view").click()
        with contextlib.suppress(PlaywrightTimeout):
            page.get_by_test_id("teacher-timing").wait_for(timeout=6_000)
            break
    timing = page.get_by_test_id("teacher-timing").inner_text()
    assert "45-minute class" in timing and "5 min" in timing


def test_predict_run_reveal_by_clicks_only(session):
    page = session.page
    _tab(page, "Lesson")
    page.get_by_test_id("load-05-storage-power-bank").get_by_role("button").click()
    page.get_by_test_id("lesson-question").wait_for(timeout=30_000)
    reveal = page.get_by_role("button", name="Show what happened")
    assert reveal.is_disabled()
    page.get_by_role("button", name="down").click()
    page.get_by_role("button", name="Save my prediction").click()
    page.get_by_test_id("saved-prediction").wait_for(timeout=10_000)
    assert page.get_by_test_id("saved-prediction").get_attribute("data-value") == "down"
    assert reveal.is_disabled()  # the run has not reached the lesson's day yet
    _play_to_stop(page)  # stops by itself on the reveal day
    page.wait_for_function(
        "document.querySelector('[data-testid=reveal-status]')?.dataset.ready == 'true'", timeout=60_000
    )
    assert "day 240" in page.get_by_test_id("reveal-status").inner_text()
    reveal.click()
    out = page.get_by_test_id("reveal")
    out.wait_for(timeout=60_000)
    assert out.get_attribute("data-predicted") == "down" and out.get_attribute("data-direction") == "down"
    assert float(out.get_attribute("data-measured")) < -0.1
    text = out.inner_text()
    assert "You predicted down" in text and "matches" in text and "CNY per MWh" in text and "%" in text
    assert "Discussion" in page.get_by_test_id("lesson-after").inner_text()


def test_classic_lesson_predict_run_reveal(session):
    page = session.page
    _tab(page, "Lesson")
    page.get_by_test_id("load-01-call-market").get_by_role("button").click()
    page.get_by_test_id("lesson-question").wait_for(timeout=30_000)
    page.get_by_text("This lesson's market has its own controls").wait_for(timeout=10_000)
    sidebar = page.get_by_test_id("sidebar")  # the chain's Play and sliders would do nothing here: not shown
    assert sidebar.get_by_role("button", name="Play").count() == 0 and sidebar.get_by_role("slider").count() == 0
    page.get_by_test_id("prediction").get_by_role("textbox").fill("7")
    page.get_by_role("button", name="Save my prediction").click()
    page.get_by_test_id("saved-prediction").wait_for(timeout=10_000)
    page.get_by_role("button", name="Run the market").click()
    page.get_by_role("button", name="Show what happened").click()
    out = page.get_by_test_id("reveal")
    out.wait_for(timeout=30_000)
    assert float(out.get_attribute("data-measured")) == 6.0
    assert "You predicted 7 CNY" in out.inner_text() and "6 CNY" in out.inner_text()
    # another attempt: the first is kept beside it, prediction against outcome
    page.get_by_role("button", name="Load this lesson again").click()
    page.get_by_test_id("prediction").get_by_role("textbox").fill("5")
    page.get_by_role("button", name="Save my prediction").click()
    page.get_by_role("button", name="Run the market").click()
    page.get_by_role("button", name="Show what happened").click()
    page.wait_for_function("document.querySelector('[data-testid=attempts]')?.dataset.count === '2'", timeout=30_000)
    table = page.get_by_test_id("attempts").inner_text()
    assert "#1" in table and "#2" in table and "7 CNY" in table and "5 CNY" in table


def test_side_by_side_differs_visibly_with_units(session):
    page = session.page
    _tab(page, "Experiments")
    page.get_by_role("button", name="Run both").click()
    overlay = page.get_by_test_id("side-by-side")
    overlay.wait_for(timeout=120_000)
    assert overlay.get_attribute("data-days") == "240"
    a, b = float(overlay.get_attribute("data-mean-a")), float(overlay.get_attribute("data-mean-b"))
    assert b > 1.1 * a  # agentic multiplier x3 against x1: dearer tokens
    table = page.get_by_test_id("side-table").inner_text()
    assert "CNY per million tokens" in table and "e+0" not in table and "%" in table
    page.wait_for_function("document.querySelector('[data-testid=side-by-side] canvas') !== null")


def test_classic_markets_can_be_changed(session):
    page = session.page
    _tab(page, "Experiments")
    values = page.get_by_label("Buyers' values, CNY (one a buyer, commas between)")
    values.fill("10, 9, 8.5, 8, 7, 6, 5, 4, 3")
    values.press("Enter")
    page.get_by_role("button", name="Run the market").click()
    panel = page.get_by_test_id("classic-market")
    panel.wait_for(timeout=30_000)
    assert "quantity Q*" in panel.inner_text() and "6 6" not in panel.inner_text()
    values.fill("10, nine")
    values.press("Enter")
    page.get_by_text("Buyers' values: 'nine' is not a number").wait_for(timeout=10_000)
    page.get_by_role("button", name="double auction").click()
    page.get_by_role("button", name="Run the market").click()
    page.get_by_test_id("price-path-chart").wait_for(timeout=30_000)
    page.wait_for_function("document.querySelector('[data-testid=price-path-chart] canvas') !== null")
    page.get_by_role("button", name="cobweb").click()
    page.get_by_role("button", name="Run the market").click()
    page.wait_for_function("document.querySelector('[data-testid=classic-market]')?.dataset.market == 'cobweb'")
    text = page.get_by_test_id("classic-market").inner_text()
    assert "cobweb ratio d / b" in text and "0.8" in text and "|" not in text
    assert page.get_by_text("Theory says: the swings shrink (damped)").is_visible()


def test_screenshots_of_a_loaded_lesson_and_of_the_market(browser, server):
    ARTIFACTS.mkdir(exist_ok=True)
    s = Session(browser, server)
    try:
        page = s.page
        page.set_viewport_size({"width": 1280, "height": 800})
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "app-day0.png"))
        page.get_by_role("button", name="Play").click()
        _wait_day(page, 30)
        page.get_by_role("button", name="Pause").click()
        page.get_by_role("button", name="Play").wait_for(timeout=30_000)
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "app-after-a-month.png"))
        _tab(page, "Lesson")
        page.get_by_test_id("load-04-agent-boom").get_by_role("button").click()
        page.get_by_test_id("lesson-question").wait_for(timeout=30_000)
        page.get_by_test_id("lesson-view").scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "lesson-agent-boom.png"))
        _tab(page, "Lesson")
        page.get_by_role("button", name="All lessons").click()
        page.get_by_test_id("load-03-cobweb").get_by_role("button").click()
        page.get_by_role("button", name="Save my prediction").click()
        page.get_by_role("button", name="Run the market").click()
        page.get_by_test_id("cobweb-chart").scroll_into_view_if_needed()
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "lesson-cobweb.png"))
    finally:
        s.close()


@pytest.mark.slow
@pytest.mark.parametrize("scenario", [name for name in shipped_scenarios() if name != "classroom"])
def test_a_full_year_of_every_other_scenario_plays_at_the_fastest_speed(browser, scenario):
    from browser_support import start_server, stop_server

    proc, url = start_server(scenario)
    s = None
    try:
        s = Session(browser, url)
        page = s.page
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.get_by_role("button", name="Play").click()
        _wait_day(page, 366, timeout_ms=400_000)
        page.get_by_role("button", name="Pause").click()
        page.get_by_role("button", name="Play").wait_for(timeout=30_000)
        body = page.locator("body").inner_text()
        assert "The simulation stopped" not in body and "Traceback" not in body and not errors
        assert s.day() >= 366 and scenario in _sidebar(page)
    finally:
        if s is not None:
            s.close()
        stop_server(proc)


def test_the_first_screen_says_what_this_is_and_offers_three_ways_in_and_a_glossary(session):
    page = session.page
    welcome = page.get_by_test_id("welcome")
    welcome.wait_for(timeout=30_000)
    text = welcome.inner_text()
    assert "market for AI" in text and "GPU-hours" in text
    for way in ("Start a lesson", "Explore a scenario", "Try a classic market", "Glossary of terms"):
        assert welcome.get_by_role("button", name=way).count() == 1
    assert welcome.locator("abbr[title]").count() >= 2  # its terms explained on hover
    welcome.get_by_role("button", name="Glossary of terms").click()
    glossary = page.get_by_test_id("glossary")
    glossary.wait_for(timeout=30_000)
    assert "AIDC" in glossary.inner_text() and "ZI-C" in glossary.inner_text()
    _tab(page, "Market")
    assert page.get_by_test_id("welcome").count() == 0  # chosen once, gone
    seed = page.get_by_test_id("slider-seed").locator("abbr[title]")
    assert seed.count() == 1 and "random draws" in seed.get_attribute("title")  # the sidebar's terms glossed too


def _overlaps(boxes: list[dict]) -> list[tuple[int, int]]:
    """Pairs of boxes that overlap by more than a pixel."""
    out = []
    for i, a in enumerate(boxes):
        for j, b in enumerate(boxes[:i]):
            w = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
            h = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
            if w > 1 and h > 1:
                out.append((j, i))
    return out


def test_projector_view_at_1024x768_keeps_the_run_controls_and_nothing_overlaps(session):
    page = session.page
    page.set_viewport_size({"width": 1024, "height": 768})
    page.get_by_test_id("projector-switch").get_by_text("Projector view").click()
    page.wait_for_function("document.querySelector('[data-testid=sidebar]') === null", timeout=30_000)
    play = page.get_by_role("button", name="Play")
    assert play.is_visible() and page.get_by_role("button", name="Step").is_visible()
    session.step(3)
    # the header's words and the run's buttons: each in its own place
    boxes = [
        box
        for loc in (
            page.get_by_test_id("sim-date"),
            page.get_by_test_id("sim-day"),
            page.get_by_role("button", name="Reset"),
            play,
            page.get_by_role("button", name="Step"),
            page.get_by_test_id("projector-switch"),
            page.get_by_test_id("narrative"),
        )
        if (box := loc.bounding_box()) is not None
    ]
    assert len(boxes) == 7 and not _overlaps(boxes), boxes
    # the panels stack at this width: the chain graph and the prices each get the page's width
    chain = page.get_by_test_id("chain-graph").bounding_box()
    prices = page.get_by_test_id("price-chart").bounding_box()
    assert prices["y"] >= chain["y"] + chain["height"] - 1 and prices["width"] > 600
    page.screenshot(path=str(ARTIFACTS / "projector-1024x768.png"))


def test_a_reload_keeps_the_lesson_the_prediction_and_the_run(session):
    page = session.page
    _tab(page, "Lesson")
    page.get_by_test_id("load-04-agent-boom").get_by_role("button").click()
    page.get_by_role("button", name="Save my prediction").click()
    page.get_by_test_id("saved-prediction").wait_for(timeout=10_000)
    _tab(page, "Market")
    session.step(3)
    page.wait_for_function("location.search.includes('day=3')", timeout=30_000)
    assert "lesson=04-agent-boom" in page.evaluate("location.search")
    page.reload()
    page.wait_for_function("document.querySelector('[data-testid=sim-day]')?.innerText == '3'", timeout=60_000)
    assert "scenario: agent-boom" in page.locator("body").inner_text()
    _tab(page, "Lesson")
    page.get_by_test_id("saved-prediction").wait_for(timeout=30_000)
    assert page.get_by_test_id("saved-prediction").get_attribute("data-value") == "up"


# The first time the address bar's template holds a query with ``day=N``: the page's address at that moment.
ADDRESS_WHEN_DAY_ARRIVES = """day => {
    const query = document.querySelector('[data-testid=address]')?.dataset.query || '';
    return new URLSearchParams(query).get('day') === String(day) ? location.search || '?' : null;
}"""


def test_the_address_follows_a_run_without_a_new_address_for_every_step(session):
    """A new address costs the browser a navigation and a fresh download of the page's icons: a run moving on is
    written once the page is still (or when the pointer leaves the page), not on every Step; a Reset at once."""
    page = session.page
    session.step(3)
    # the day reached the page, the address waits (a Step every few seconds changes it not at all)...
    assert "day=" not in page.wait_for_function(ADDRESS_WHEN_DAY_ARRIVES, arg=3, timeout=30_000).json_value()
    # ...and takes it once the page has been still for a few seconds
    t0 = time.monotonic()
    page.wait_for_function("new URLSearchParams(location.search).get('day') === '3'", timeout=30_000)
    assert time.monotonic() - t0 > 1.0
    assert "scenario=classroom" in page.evaluate("location.search")
    # the pointer leaving the page (for the address bar or the reload button) writes the day at once
    session.step()
    assert "day=3" in page.wait_for_function(ADDRESS_WHEN_DAY_ARRIVES, arg=4, timeout=30_000).json_value()
    page.evaluate("document.dispatchEvent(new MouseEvent('mouseout', {relatedTarget: null}))")
    assert "day=4" in page.evaluate("location.search")
    # a Reset (the run goes back) is written at once: when the page holds the new query, the address has it
    page.get_by_role("button", name="Reset").click()
    search = page.wait_for_function(
        "() => { const q = document.querySelector('[data-testid=address]')?.dataset.query || '';"
        " return q.includes('scenario=') && !q.includes('day=') ? location.search || '?' : null; }",
        timeout=30_000,
    ).json_value()
    assert "scenario=classroom" in search and "day=" not in search
