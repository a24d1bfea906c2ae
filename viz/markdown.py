"""Markdown rendered to HTML on the server (markdown-it-py), so the page loads nothing from outside."""

from __future__ import annotations

import solara
from markdown_it import MarkdownIt

from tokenomy.viz.glossary import gloss

_PARSER = MarkdownIt("commonmark", {"html": False}).enable("table")

STYLE = "font-size: 15px; line-height: 1.5; max-width: 860px;"
CSS = """
.tk-md table { border-collapse: collapse; margin: 6px 0; }
.tk-md th, .tk-md td { border: 1px solid #ddd; padding: 3px 10px; text-align: right; }
.tk-md th:first-child, .tk-md td:first-child { text-align: left; }
.tk-md code { background: #f4f4f4; padding: 0 3px; border-radius: 3px; font-size: 90%; }
.tk-md h1 { font-size: 24px; margin: 4px 0 10px; } .tk-md h2 { font-size: 19px; margin: 16px 0 6px; }
.tk-md h3 { font-size: 16px; margin: 12px 0 4px; } .tk-md p { margin: 4px 0 8px; }
.tk-md ul, .tk-md ol { margin: 4px 0 8px; padding-left: 24px; }
.tk-md strong { font-weight: 700; } .tk-md em { font-style: italic; }
"""


def to_html(text: str) -> str:
    """Markdown (CommonMark with tables; raw HTML escaped) as an HTML string."""
    return _PARSER.render(text)


@solara.component
def Markdown(text: str, testid: str = "", style: str = STYLE):
    """Markdown shown as HTML in a div (``data-testid`` = ``testid`` when given)."""
    solara.Style(CSS)
    attributes = {"data-testid": testid} if testid else {}
    solara.HTML(tag="div", unsafe_innerHTML=to_html(text), classes=["tk-md"], style=style, attributes=attributes)


TERM_CSS = "abbr.tk-term { text-decoration: underline dotted #888; cursor: help; }"


@solara.component
def LabelledSlider(
    text: str, value: float, min: float, max: float, step: float, on_value, integer: bool = False, testid: str = ""
):
    """A slider with its label and current value on a line of their own above it."""
    attributes = {"data-testid": testid} if testid else {}
    with solara.Div(attributes=attributes, style={"margin": "2px 0 0"}):
        # the label's terms carry their glossary sentence on hover (AIDC, seed, ...)
        solara.Style(TERM_CSS)
        solara.HTML(tag="div", unsafe_innerHTML=gloss(text), style={"font-size": "13px", "color": "#333"})
        slider = solara.SliderInt if integer else solara.SliderFloat
        slider("", value=value, min=min, max=max, step=step, on_value=on_value)
