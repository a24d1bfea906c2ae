"""The ECharts figure every panel uses: Solara's widget with a template that draws only charts in view."""

from __future__ import annotations

import solara
from solara.components.echarts import EchartsWidget


class _InViewEchartsWidget(EchartsWidget):
    template_file = (__file__, "echarts.vue")


@solara.component
def Figure(option: dict, height_px: int, responsive: bool = True):
    """An ECharts figure ``height_px`` tall and as wide as its container."""
    return _InViewEchartsWidget.element(
        option=option, attributes={"style": f"height: {height_px}px; width: 100%;"}, responsive=responsive
    )
