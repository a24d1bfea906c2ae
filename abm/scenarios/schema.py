"""A small declarative schema for scenario files.

Scenarios are data (TOML).  Every key a user may write is declared here with its type, default and
allowed range, so a typo or an out-of-range value is caught before a model is built, with a one-line
message that names the file, the key and what is allowed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tokenomy.abm.suggest import did_you_mean
from tokenomy.agents.registry import strategy_names

REQUIRED = object()


class ScenarioError(ValueError):
    """A problem with a scenario, a sweep or an override; its message is one line for the user."""


@dataclass(frozen=True)
class Field:
    """One scalar (or list of scalars) setting."""

    kind: str  # "float", "int", "bool", "str", "date", "floats" (list of floats)
    default: Any = REQUIRED
    min: float | dt.date | None = None  # a date field's bounds are dates
    max: float | dt.date | None = None
    choices: tuple[str, ...] | None = None
    registry: str | None = None  # the choices are the names registered for this kind of decision, when checked
    doc: str = ""
    length: int | None = None  # for "floats": exact length if set
    decided: bool = False  # a price or markup that agents set themselves: scenario events may not change it
    pattern: str | None = None  # for "str": a regular expression the whole value must match
    pattern_doc: str = ""  # what the pattern allows, in words
    file_only: str = ""  # set: the value is read with the file and no override may set it (says why)


@dataclass(frozen=True)
class Table:
    """A TOML table: named fields and sub-tables."""

    fields: dict[str, Field | Table | ListOf]
    doc: str = ""
    open_values: Field | None = None  # a table whose keys are free (e.g. a mapping name -> number)


@dataclass(frozen=True)
class ListOf:
    """An array of tables, each following the same schema."""

    item: Table
    min_items: int = 0
    doc: str = ""
    max_items: int = 1000  # entries at most, so that a file cannot ask for unbounded work
    key: str | None = "name"  # field that names each item, used in paths like apps.chat.users


@dataclass
class _Ctx:
    source: str
    errors: list[str] = field(default_factory=list)


def _fail(source: str, msg: str) -> ScenarioError:
    return ScenarioError(f"{source}: {msg}")


def _fmt(value: Any, limit: int = 60) -> str:
    """A value as a message shows it: strings quoted, anything long cut short, always one line."""
    if isinstance(value, list | dict):
        text = "a list" if isinstance(value, list) else "a table"
        if len(value) < 8 and not any(
            isinstance(v, list | dict) for v in (value if isinstance(value, list) else value.values())
        ):
            text = repr(value)
    else:
        text = repr(value) if isinstance(value, str) else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _range_text(f: Field) -> str:
    lo = "-inf" if f.min is None else _fmt(f.min)
    hi = "inf" if f.max is None else _fmt(f.max)
    return f"[{lo}, {hi}]"


def _coerce_strs(f: Field, value: Any, path: str, source: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(source, f"'{path}' must be a list of names, got {_fmt(value)}")
    return list(value)


def _coerce_floats(f: Field, value: Any, path: str, source: str) -> list[float]:
    """A list of numbers: each item is checked as a float against the field's range, then the length."""
    if not isinstance(value, list):
        raise _fail(source, f"'{path}' must be a list of numbers, got {_fmt(value)}")
    item = Field("float", min=f.min, max=f.max)
    out = [coerce_scalar(item, v, f"{path}[{i}]", source) for i, v in enumerate(value)]
    if f.length is not None and len(out) != f.length:
        raise _fail(source, f"'{path}' must have {f.length} values, got {len(out)}")
    return out


def _coerce_bool(f: Field, value: Any, path: str, source: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(source, f"'{path}' must be true or false, got {_fmt(value)}")
    return value


def _coerce_str(f: Field, value: Any, path: str, source: str) -> str:
    if not isinstance(value, str):
        raise _fail(source, f"'{path}' must be a string, got {_fmt(value)}")
    if f.pattern is not None and not re.fullmatch(f.pattern, value):
        raise _fail(source, f"'{path}' = {_fmt(value)} is not allowed: {f.pattern_doc}")
    choices = strategy_names(f.registry) if f.registry is not None else f.choices  # rules registered by now count
    if choices is not None and value not in choices:
        tip = did_you_mean(value, choices)
        raise _fail(source, f"'{path}' = {_fmt(value)} is not one of {', '.join(choices)}{tip}")
    return value


def _coerce_date(f: Field, value: Any, path: str, source: str) -> dt.date:
    """A TOML date or datetime (its date part), or an ISO date string, within the field's range."""
    date = None
    if isinstance(value, dt.datetime):
        date = value.date()
    elif isinstance(value, dt.date):
        date = value
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            date = dt.date.fromisoformat(value)
    if date is None:
        raise _fail(source, f"'{path}' must be a date like 2024-01-01, got {_fmt(value)}")
    if (f.min is not None and date < f.min) or (f.max is not None and date > f.max):
        raise _fail(source, f"'{path}' = {date} is out of range; allowed {_range_text(f)}")
    return date


def _whole_number(value: int | float, path: str, source: str) -> int:
    if isinstance(value, float) and not value.is_integer():
        raise _fail(source, f"'{path}' must be a whole number, got {_fmt(value)}")
    return int(value)


def _finite_float(value: int | float, path: str, source: str) -> float:
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise _fail(source, f"'{path}' must be a finite number, got {value}")
    return value


def _coerce_number(f: Field, value: Any, path: str, source: str) -> int | float:
    """An int or float field: a number (not a bool), converted to the field's kind, within its range."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(source, f"'{path}' must be a number, got {_fmt(value)}")
    value = _whole_number(value, path, source) if f.kind == "int" else _finite_float(value, path, source)
    if (f.min is not None and value < f.min) or (f.max is not None and value > f.max):
        raise _fail(source, f"'{path}' = {_fmt(value)} is out of range; allowed {_range_text(f)}")
    return value


_COERCE: dict[str, Callable[[Field, Any, str, str], Any]] = {
    "strs": _coerce_strs,
    "floats": _coerce_floats,
    "bool": _coerce_bool,
    "str": _coerce_str,
    "date": _coerce_date,
    "float": _coerce_number,
    "int": _coerce_number,
}


def coerce_scalar(f: Field, value: Any, path: str, source: str) -> Any:
    """Check one value against its field; return it in canonical type."""
    if value is None and f.default is None:
        return None
    coerce = _COERCE.get(f.kind)
    if coerce is None:
        raise AssertionError(f"unknown field kind {f.kind}")
    return coerce(f, value, path, source)


def _unknown(path: str, key: str, known: list[str], source: str) -> ScenarioError:
    return _fail(source, f"unknown key '{path}{_fmt(key)[1:-1]}'{did_you_mean(key, known, path, cutoff=0.5)}")


def _check_known_keys(data: dict, schema: Table, path: str, source: str) -> None:
    for key in data:
        if key not in schema.fields:
            raise _unknown(path, key, list(schema.fields), source)


def _field_value(spec: Field, data: dict, key: str, sub: str, source: str) -> Any:
    """The checked value of a field, or its default (a fresh copy of a list) when the key is absent."""
    if key in data:
        return coerce_scalar(spec, data[key], sub, source)
    if spec.default is REQUIRED:
        raise _fail(source, f"missing required key '{sub}'")
    return list(spec.default) if isinstance(spec.default, list) else spec.default


def _check_unique_names(checked: list[dict], spec: ListOf, sub: str, source: str) -> None:
    names = [c[spec.key] for c in checked]
    seen: set = set()
    dupes = sorted({n for n in names if n in seen or seen.add(n)})  # (not names.count(n): N^2 in the entries)
    if dupes:
        raise _fail(source, f"'{sub}' has duplicate {spec.key} '{dupes[0]}'")


def _validate_list(items: Any, spec: ListOf, source: str, sub: str) -> list[dict]:
    """An array of tables: its length within bounds, each entry validated, entry names unique."""
    if not isinstance(items, list):
        raise _fail(source, f"'{sub}' must be an array of tables ([[{sub}]])")
    if len(items) < spec.min_items:
        raise _fail(source, f"'{sub}' needs at least {spec.min_items} entries, got {len(items)}")
    if len(items) > spec.max_items:
        raise _fail(source, f"'{sub}' has {len(items)} entries; at most {spec.max_items} are allowed")
    checked = []
    for i, item in enumerate(items):
        label = item.get(spec.key) if isinstance(item, dict) and spec.key else None
        checked.append(validate(item, spec.item, source, f"{sub}[{label or i}]."))
    if spec.key:
        _check_unique_names(checked, spec, sub, source)
    return checked


def _validate_entry(data: dict, key: str, spec: Field | Table | ListOf, source: str, sub: str) -> Any:
    if isinstance(spec, Field):
        return _field_value(spec, data, key, sub, source)
    if isinstance(spec, Table):
        return validate(data.get(key, {}), spec, source, sub + ".")
    return _validate_list(data.get(key, []), spec, source, sub)


def validate(data: Any, schema: Table, source: str, path: str = "") -> dict:
    """Return a copy of ``data`` checked against ``schema`` with defaults filled in."""
    if not isinstance(data, dict):
        raise _fail(source, f"'{path.rstrip('.') or 'top level'}' must be a table")
    if schema.open_values is not None:
        return {key: coerce_scalar(schema.open_values, value, f"{path}{key}", source) for key, value in data.items()}
    _check_known_keys(data, schema, path, source)
    return {key: _validate_entry(data, key, spec, source, f"{path}{key}") for key, spec in schema.fields.items()}


def split_path(path: str) -> list[str]:
    parts = [p for p in path.split(".")]
    if not path or any(p == "" for p in parts):
        raise ScenarioError(f"--set: '{path}' is not a dotted key like markets.token_inertia")
    return parts


def _table_step(node: Any, spec: Table, key: str, last: bool, walked: str, value: Any, source: str) -> Any:
    """One step of :func:`set_path` into a table: set ``value`` and return None at the path's end, else
    return the child node (created if absent) and its schema."""
    if not isinstance(node, dict):
        raise _fail(source, f"'{walked.rstrip('.') or 'top level'}' must be a table")
    if spec.open_values is not None:
        if not last:
            raise _fail(source, f"'{walked}{key}' takes a value, not sub-keys")
        node[key] = value
        return None
    if key not in spec.fields:
        raise _unknown(walked, key, list(spec.fields), source)
    sub = spec.fields[key]
    if last:
        if not isinstance(sub, Field):
            raise _fail(source, f"'{walked}{key}' is a table; set one of its keys instead")
        if sub.file_only:
            raise _fail(source, f"'{walked}{key}' cannot be overridden: {sub.file_only}")
        node[key] = value
        return None
    if isinstance(sub, Field):
        raise _fail(source, f"'{walked}{key}' takes a value, not sub-keys")
    return node.setdefault(key, {} if isinstance(sub, Table) else []), sub


def _set_each(items: list[dict], spec: ListOf, rest: str, walked: str, value: Any, source: str) -> None:
    """``LIST.*.rest``: set ``rest`` in every entry of the list."""
    if not rest:
        raise _fail(source, f"'{walked}*' needs a key after it")
    if not items:
        raise _fail(source, f"'{walked}*' matches no entry: the scenario has no '{walked.rstrip('.')}'")
    for item in items:
        set_path(item, spec.item, rest, value, source)


def _named_entry(items: list[dict], spec: ListOf, key: str, walked: str, source: str) -> dict:
    """The list entry named ``key``; if none is, the error lists (some of) the known names."""
    names = [item.get(spec.key) for item in items]
    if key not in names:
        tip = did_you_mean(key, names, walked, cutoff=0.5)
        known = (", ".join(str(n) for n in names[:8]) + (", ..." if len(names) > 8 else "")) or "none"
        raise _fail(source, f"no entry named '{key}' in '{walked.rstrip('.')}' (known: {known}){tip}")
    return items[names.index(key)]


def _list_step(node: Any, spec: ListOf, parts: list[str], i: int, walked: str, value: Any, source: str) -> Any:
    """One step of :func:`set_path` into an array of tables: ``*`` sets the rest of the path in every entry
    and returns None; a name returns that entry and the entries' schema (an entry itself cannot be set)."""
    if not isinstance(node, list) or not all(isinstance(item, dict) for item in node):
        raise _fail(source, f"'{walked.rstrip('.')}' must be an array of tables ([[{walked.rstrip('.')}]])")
    key = parts[i]
    if key == "*":
        _set_each(node, spec, ".".join(parts[i + 1 :]), walked, value, source)
        return None
    entry = _named_entry(node, spec, key, walked, source)
    if i == len(parts) - 1:
        raise _fail(source, f"'{walked}{key}' is a table; set one of its keys instead")
    return entry, spec.item


def set_path(data: dict, schema: Table, path: str, value: Any, source: str) -> None:
    """Set ``path`` (dotted; list items addressed by their name) in raw scenario data, in place.

    The schema is used to resolve names and to report unknown keys; values are checked later by
    :func:`validate`.
    """
    parts = split_path(path)
    node: Any = data
    spec: Any = schema
    walked = ""
    for i, key in enumerate(parts):
        if isinstance(spec, Table):
            step = _table_step(node, spec, key, i == len(parts) - 1, walked, value, source)
        elif isinstance(spec, ListOf):
            step = _list_step(node, spec, parts, i, walked, value, source)
        else:
            raise _fail(source, f"'{walked.rstrip('.')}' takes a value, not sub-keys")
        if step is None:
            return
        node, spec = step
        walked += key + "."
    raise _fail(source, f"'{path}' does not name a setting")


def get_path(data: dict, schema: Table, path: str, source: str) -> Any:
    """Read a dotted path (list items by name) from validated scenario data."""
    parts = split_path(path)
    node: Any = data
    spec: Any = schema
    walked = ""
    for key in parts:
        if isinstance(spec, Table):
            if spec.open_values is not None:
                node, spec = node.get(key), spec.open_values
            elif key not in spec.fields:
                raise _unknown(walked, key, list(spec.fields), source)
            else:
                node, spec = node[key], spec.fields[key]
        elif isinstance(spec, ListOf):
            names = [item.get(spec.key) for item in node]
            if key not in names:
                raise _fail(source, f"no entry named '{key}' in '{walked.rstrip('.')}'")
            node, spec = node[names.index(key)], spec.item
        else:
            raise _fail(source, f"'{walked.rstrip('.')}' takes a value, not sub-keys")
        walked += key + "."
    return node


def field_at(schema: Table, path: str) -> Field | None:
    """The Field a dotted path names (list items by name or '*'), or None if it names no setting."""
    spec: Any = schema
    for key in path.split("."):
        if isinstance(spec, ListOf):
            spec = spec.item
            continue
        if isinstance(spec, Table) and spec.open_values is not None:
            spec = spec.open_values
            continue
        if not isinstance(spec, Table) or key not in spec.fields:
            return None
        spec = spec.fields[key]
    return spec if isinstance(spec, Field) else None
