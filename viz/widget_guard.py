"""Every value a browser sends for a widget is checked against the widget's own bounds before it is applied.

A browser changes a control by sending the server a widget ``update`` message; ipywidgets applies it in
``Widget.set_state``, the one place all of them arrive, before any ``on_value`` callback or reactive setter
runs.  :func:`install` wraps that method with :func:`refusal`, which knows the control kinds the app uses:

* a slider takes a finite number within its own ``min`` and ``max`` (NaN, -100 or 400,000 are refused);
* a select takes one of its own items (never a path or a name it does not list);
* a toggle group or tabs take the index of one of their own children; a switch takes true or false;
* a text field takes a string of at most :data:`MAX_TEXT_CHARS` characters;
* nobody may change a control's bounds (``min``, ``max``, ``items``, ``disabled`` ...) from the browser;
* any value: strings, lists and nesting are capped (the websocket's own message size is capped as well);
* a Vue template's messages (ipyvue) may create only the widget classes the template itself declares, set
  values only on the widgets it created (checked as above) and call none of its methods; a page may not
  create widgets of its own (``jupyter.widget`` comms).

A refused value is not applied: the browser is sent the control's value back (its slider jumps back), the
page shows one line saying what was refused (:data:`notice`, per session) and the server log says it too,
at most once in a while (the log filter in ``tokenomy.viz.server_log``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import solara

log = logging.getLogger("tokenomy.viz.guard")

MAX_TEXT_CHARS = 2_000  # a text field: the classic market's lists of values are far shorter
MAX_ITEMS = 1_000  # entries of any list or dict in a value
MAX_DEPTH = 8  # nesting of lists and dicts in a value
BOUND_TRAITS = frozenset(
    {"min", "max", "step", "items", "children", "disabled", "readonly", "mandatory", "multiple", "counter"}
    # a Vue template's code and the widget classes it may create are the server's
    | {"template", "methods", "data", "css", "events", "components", "_component_instances"}
)
VALUE_TRAITS = ("v_model", "value")
INDEX_KINDS = frozenset({"BtnToggle", "Tabs", "TabsItems", "Window", "ItemGroup", "ListItemGroup"})
CHOICE_KINDS = frozenset({"Select", "Autocomplete", "Combobox", "RadioGroup"})
BOOL_KINDS = frozenset({"Switch", "Checkbox"})
TEXT_KINDS = frozenset({"TextField", "Textarea", "Text"})

# one line for the page, per browser session (a Solara reactive at module level is per session)
notice = solara.reactive("")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _name(widget) -> str:
    label = getattr(widget, "label", None)
    kind = type(widget).__name__.lower()
    return f"{kind} {label!r}" if isinstance(label, str) and label.strip() else f"a {kind}"


def _size_problem(value: Any, depth: int = 0) -> str | None:
    """Why a value is too large to take (long text, long lists, deep nesting), or None."""
    if depth > MAX_DEPTH:
        return f"nested more than {MAX_DEPTH} deep"
    if isinstance(value, str | bytes | bytearray | memoryview):
        size = len(value)
        return f"{size:,} characters long (at most {MAX_TEXT_CHARS:,})" if size > MAX_TEXT_CHARS else None
    if isinstance(value, list | tuple | dict):
        if len(value) > MAX_ITEMS:
            return f"{len(value):,} entries long (at most {MAX_ITEMS:,})"
        parts = list(value.keys()) + list(value.values()) if isinstance(value, dict) else value
        for part in parts:
            if (problem := _size_problem(part, depth + 1)) is not None:
                return problem
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _slider_problem(widget, value: Any) -> str | None:
    low, high = getattr(widget, "min", None), getattr(widget, "max", None)
    if not (_is_number(low) and _is_number(high)):
        return None
    values = value if isinstance(value, list) and type(widget).__name__ == "RangeSlider" else [value]
    for v in values:
        if not _is_number(v) or not math.isfinite(v) or not low <= v <= high:
            return f"takes a number from {low:g} to {high:g}, not {_short(v)}"
    return None


def _choice_problem(widget, value: Any) -> str | None:
    items = getattr(widget, "items", None) or []
    choices = [item.get("value", item.get("text")) if isinstance(item, dict) else item for item in items]
    if value is None and widget.v_model is None:
        return None
    if not any(value == c and type(value) is type(c) for c in choices):
        return f"takes one of its {len(choices)} choices, not {_short(value)}"
    return None


def _index_problem(widget, value: Any) -> str | None:
    children = getattr(widget, "children", None) or []
    if type(widget).__name__ == "Tabs":  # its children are the tabs, then a slider and the tabs' contents
        children = [c for c in children if type(c).__name__ == "Tab"]
    if value is None and not getattr(widget, "mandatory", False):
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < len(children):
        return f"takes one of its {len(children)} positions, not {_short(value)}"
    return None


def _value_problem(widget, value: Any) -> str | None:
    """Why ``value`` is not a value this widget can hold, by the widget's kind and its own bounds."""
    kind = type(widget).__name__
    if kind in ("Slider", "RangeSlider") or (hasattr(widget, "min") and hasattr(widget, "max")):
        return _slider_problem(widget, value)
    if kind in CHOICE_KINDS:
        return _choice_problem(widget, value)
    if kind in INDEX_KINDS:
        return _index_problem(widget, value)
    if kind in BOOL_KINDS and not isinstance(value, bool):
        return f"takes true or false, not {_short(value)}"
    if kind in TEXT_KINDS and value is not None and not isinstance(value, str):
        return f"takes text, not {_short(value)}"
    return None


def refusal(widget, state: dict) -> str | None:
    """One line saying why this update from a browser must not be applied to ``widget``, or None to apply it."""
    if not isinstance(state, dict):
        return f"{_name(widget)}: an update that is not a set of values"
    for key, value in state.items():
        if not isinstance(key, str) or len(key) > 100:
            return f"{_name(widget)}: an update of a value that has no name"
        if key in BOUND_TRAITS:
            return f"{_name(widget)}: its {key} is set by the server, not by the page"
        if (problem := _size_problem(value)) is not None:
            return f"{_name(widget)}: a value {problem}"
        if key in VALUE_TRAITS and (problem := _value_problem(widget, value)) is not None:
            return f"{_name(widget)} {problem}"
    return None


def _refuse(widget, state: dict, why: str) -> None:
    log.warning("refused a value from a browser: %s", why)
    keys = [k for k in state if isinstance(k, str) and k in getattr(widget, "keys", ())]
    if keys:
        widget.send_state(keys)  # the page shows the server's value again
    try:
        notice.set(f"Refused: {why}.")
    except Exception:  # outside a browser session (no kernel context): the log line is enough
        log.debug("no session to show the refusal in", exc_info=True)


def _refs_problem(value: Any, traits: set[str]) -> str | None:
    """A template message may refer to the template's own traits by name (``objectRef``), never call a method."""
    if isinstance(value, dict):
        if "functionRef" in value:
            return "a call of a method"
        if "objectRef" in value and value["objectRef"] not in traits:
            return f"a reference to {_short(value['objectRef'])}"
        for part in value.values():
            if (problem := _refs_problem(part, traits)) is not None:
                return problem
    elif isinstance(value, list):
        for part in value:
            if (problem := _refs_problem(part, traits)) is not None:
                return problem
    return None


def template_refusal(template, content: Any) -> str | None:
    """Why a Vue template's custom message (ipyvue's ``create_widget``, ``update_ref``, ``destroy_widget``,
    ``event``) must not be handled, or None."""
    name = f"a {type(template).__name__.lower()}"
    if not isinstance(content, dict):
        return f"{name}: a message that is not a set of values"
    if (problem := _size_problem(content)) is not None:
        return f"{name}: a message {problem}"
    traits = set(template.trait_names())
    if (problem := _refs_problem(content, traits)) is not None:
        return f"{name}: {problem}"
    if "create_widget" in content:
        declared = {(c.__module__, c.__name__) for c in (template.components or {}).values() if isinstance(c, type)}
        wanted = content["create_widget"]
        if not (isinstance(wanted, list) and len(wanted) == 2 and tuple(wanted) in declared):
            return f"{name} may not create {_short(wanted)}"
    elif "update_ref" in content:
        own = {w.model_id: w for w in template._component_instances}
        target, prop, value = own.get(content.get("id")), content.get("prop"), content["update_ref"]
        if target is None or not isinstance(prop, str) or prop not in target.keys:
            return f"{name} may set values only on the widgets it created"
        if not (isinstance(value, dict) and "objectRef" in value):
            return refusal(target, {prop: value})
    return None


def guarded_events(handle_event: Callable) -> Callable:
    """ipyvue's template message handler, handling a message only when :func:`template_refusal` allows it."""

    def handle_event_checked(self, widget, content, buffers):
        why = template_refusal(self, content)
        if why is not None:
            _refuse(self, {}, why)
            return None
        return handle_event(self, widget, content, buffers)

    handle_event_checked.__wrapped__ = handle_event  # type: ignore[attr-defined]
    return handle_event_checked


def _no_widgets_from_pages(comm, msg) -> None:
    """The ``jupyter.widget`` comm target: a page may not create widgets on the server."""
    log.warning("refused a widget a page tried to create")
    try:
        comm.close()
    except Exception:  # the comm may be half open; nothing of it is kept
        log.debug("closing a refused comm", exc_info=True)


def guarded(set_state: Callable) -> Callable:
    """``Widget.set_state`` that applies an update only when :func:`refusal` finds nothing wrong with it."""

    def set_state_checked(self, sync_data):
        why = refusal(self, sync_data)
        if why is not None:
            _refuse(self, sync_data if isinstance(sync_data, dict) else {}, why)
            return None
        return set_state(self, sync_data)

    set_state_checked.__wrapped__ = set_state  # type: ignore[attr-defined]
    return set_state_checked


def install() -> None:
    """Check every widget update from a browser from now on (idempotent)."""
    import ipywidgets
    from ipyvue.VueTemplateWidget import Events

    current = ipywidgets.Widget.set_state
    if getattr(current, "__wrapped__", None) is None:
        ipywidgets.Widget.set_state = guarded(current)
    if getattr(Events._handle_event, "__wrapped__", None) is None:
        Events._handle_event = guarded_events(Events._handle_event)
    # the comm target each session registers is looked up on the class when the session starts
    ipywidgets.Widget.handle_comm_opened = staticmethod(_no_widgets_from_pages)
