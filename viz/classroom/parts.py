"""What the classroom's pages share: a page that redraws when its game changes, the round's countdown, the QR code,
and figures in words."""

from __future__ import annotations

import functools
import html
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import ipyvue
import segno
import solara
import traitlets

from tokenomy.viz.classroom.hub import Glance, Hosted

log = logging.getLogger("tokenomy.viz.classroom")

COALESCE_S = 0.15  # changes that come closer than this redraw a page once
SOFT_S = 1.0  # a change only in who is still deciding (a teammate's decision, the roster) redraws a page this often
BIG = {"font-size": "15px"}

# Two pages of this process redraw at a time when their game changed (the pages' own threads queue here; two, so that
# one uses the processor while the other waits for its page's websocket to take what it sent).  A student's press
# redraws that student's page in the press's own thread, which does not queue: with forty pages redrawing at once (a
# round closed) the presses would share the processor with all of them; here they share it with two.
REDRAW = threading.BoundedSemaphore(2)


def redraw_due(looked: Any, shown: Any, last_draw_s: float) -> float | None:
    """When a page whose reading of its game is ``looked`` and that last drew ``shown`` (at ``last_draw_s``, monotonic
    seconds) should be drawn again: None (nothing it shows changed), now (0.0: the round, the status, the timer or a
    question changed, or the reading is not a :class:`Glance`), or ``SOFT_S`` after its last draw (only who is still
    deciding, a teammate's decision or the roster changed: the changes of the next moment are drawn with it)."""
    if looked == shown:
        return None
    if isinstance(looked, Glance) and isinstance(shown, Glance) and looked.urgent() == shown.urgent():
        return last_draw_s + SOFT_S
    return 0.0


def use_game_version(hosted: Hosted | None, glance: Callable[[], Any] | None = None) -> int:
    """The game's change count, following it: the page redraws when the game changes (a join, a decision, a round
    closed by anyone or by the timer), with no reload.  With ``glance`` (a cheap reading of what the page shows, e.g.
    :meth:`Hosted.glance`), it redraws only when that reading differs from the one its last drawing showed (a press
    that redrew the page itself is not drawn again), and a change that may wait waits (:func:`redraw_due`): a class's
    forty pages do not all redraw on each of forty decisions.  One waiting thread per page, ended with the page."""
    version, set_version = solara.use_state(hosted.version if hosted is not None else 0)
    drawn = solara.use_ref(None)
    if glance is not None:
        drawn.current = glance()  # what this drawing shows (read before the page reads the game)

    def follow():
        if hosted is None:
            return None
        from solara.server import kernel_context

        context = kernel_context.get_current_context()
        stop = threading.Event()

        def loop() -> None:
            seen = hosted.version
            last = 0.0
            while not (stop.is_set() or context.closed_event.is_set()):
                now = hosted.wait(seen, 1.0)
                if now == seen or stop.is_set():
                    continue
                seen = now
                if glance is not None:
                    due = redraw_due(glance(), drawn.current, last)
                    while due is not None and due > time.monotonic() and not stop.is_set():
                        seen = hosted.wait(seen, due - time.monotonic())  # a change meanwhile may not wait
                        due = redraw_due(glance(), drawn.current, last)
                    if due is None or stop.is_set():
                        continue
                try:
                    with REDRAW, context:
                        set_version(seen)
                except Exception:  # the session closed meanwhile
                    log.debug("a page stopped following its game", exc_info=True)
                    return
                last = time.monotonic()
                time.sleep(COALESCE_S)

        threading.Thread(target=loop, name="tokenomy-game-page", daemon=True).start()
        return stop.set

    solara.use_effect(follow, [hosted])
    return version


class Countdown(ipyvue.VueTemplate):
    """The seconds left in the round, counted down in the browser (``countdown.vue``)."""

    template_file = (__file__, "countdown.vue")
    seconds_left = traitlets.Float(None, allow_none=True).tag(sync=True)
    running = traitlets.Bool(False).tag(sync=True)


def countdown(seconds_left: float | None, running: bool) -> None:
    with solara.Div(attributes={"data-testid": "countdown"}, style={"font-weight": "600"}):
        Countdown.element(seconds_left=seconds_left, running=running)


@functools.lru_cache(maxsize=64)
def qr_svg(url: str, scale: int = 6) -> str:
    """The QR code of ``url`` as an inline SVG (segno: pure Python, no image library, nothing fetched).  Kept: the
    teacher's page draws it on each change of the game, and it costs a few milliseconds."""
    return segno.make(url, error="m").svg_inline(scale=scale, border=2)


def words(key: str) -> str:
    """A table key in words: ``cash_cny`` -> ``cash (CNY)``, ``price_cny_per_mtok`` -> ``price (CNY per Mtok)``."""
    units = {
        "_cny_per_mtok": " (CNY per Mtok)",
        "_cny_per_gpu_hour": " (CNY per GPU-hour)",
        "_cny_per_mwh": " (CNY per MWh)",
        "_mtok_per_day": " (Mtok a day)",
        "_cny": " (CNY)",
        "_mtok": " (Mtok)",
        "_mwh": " (MWh)",
        "_mw": " (MW)",
        "_share": " (share)",
    }
    for suffix, unit in units.items():
        if key.endswith(suffix):
            return key[: -len(suffix)].replace("_", " ") + unit
    return key.replace("_", " ")


def number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if value != value:
            return "–"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:,.3g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


def facts_table(facts: dict[str, Any], testid: str) -> None:
    """A two-column table of ``facts`` (nested tables are left to their own table)."""
    rows = "".join(
        f"<tr><td style='padding:2px 12px 2px 0'>{html.escape(words(k))}</td>"
        f"<td style='text-align:right' data-key='{html.escape(k)}'>{html.escape(number(v))}</td></tr>"
        for k, v in facts.items()
        if not isinstance(v, dict | list)
    )
    solara.HTML(tag="table", unsafe_innerHTML=rows, attributes={"data-testid": testid}, style=BIG)


def game_line(state: dict[str, Any]) -> str:
    status = {"lobby": "waiting to start", "running": "running", "paused": "paused", "ended": "ended"}[state["status"]]
    return (
        f"Round {state['round']} of {state['rounds']} · {status} · day {state['day']} ({state['date']}) · "
        f"{state['days_per_round']} days a round"
    )
