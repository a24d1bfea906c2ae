"""The ECharts figure every panel uses: a widget whose template draws only charts in view (``echarts.vue``).

The option travels as one JSON string, serialised once here, not as a nested dict.  A Step sends every panel a
new option, and a dict costs at each hop: reacton walks every list and dict of an element's arguments in each
enclosing ``with`` block (looking for child elements) and compares the old and new option deeply, traitlets
validates it, and the page's Vue makes every object in it reactive, even for a chart out of view that will not
draw it.  A string is compared and sent as it is, and the page parses it only when the chart is drawn.
"""

from __future__ import annotations

import json
import math

import ipyvuetify
import traitlets


class ChartWidget(ipyvuetify.VuetifyTemplate):
    """An ECharts chart in a div: ``option_json`` is its whole option, ``attributes`` the div's (style, data-*)."""

    template_file = (__file__, "echarts.vue")

    option_json = traitlets.Unicode("{}").tag(sync=True)
    attributes = traitlets.Dict(default_value=None, allow_none=True).tag(sync=True)
    responsive = traitlets.Bool(True).tag(sync=True)
    cdn = traitlets.Unicode(None, allow_none=True).tag(sync=True)

    @traitlets.default("cdn")
    def _cdn(self):
        import solara.settings

        return None if solara.settings.assets.proxy else solara.settings.assets.cdn


def _finite(value):
    """``value`` with every NaN or infinity (which JSON cannot carry) as None: ECharts leaves a gap there."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _plain(value):
    """A numpy number as the Python number it holds (anything else json cannot write is an error)."""
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    raise TypeError(f"a chart option cannot hold {type(value).__name__}")


def option_json(option: dict) -> str:
    """``option`` as compact JSON for the page; NaN and infinities become null (a gap, not a broken message)."""
    try:
        return json.dumps(option, separators=(",", ":"), allow_nan=False, default=_plain)
    except ValueError:  # a NaN or an infinity somewhere: rare, so only then is the option walked
        return json.dumps(_finite(option), separators=(",", ":"), allow_nan=False, default=_plain)


def Figure(option: dict, height_px: int, responsive: bool = True, testid: str = "", **data: object):
    """An ECharts figure ``height_px`` tall and as wide as its container (an element, made where it is called).

    ``testid`` names the chart's div (``data-testid``) and each of ``data`` becomes a ``data-*`` attribute of it
    (``days=3`` is ``data-days="3"``): figures for tests and scripts, sent with the option in one message.
    """
    attributes = {"style": f"height: {height_px}px; width: 100%;"}
    if testid:
        attributes["data-testid"] = testid
    attributes |= {f"data-{k.replace('_', '-')}": str(v) for k, v in data.items()}
    return ChartWidget.element(option_json=option_json(option), attributes=attributes, responsive=responsive)
