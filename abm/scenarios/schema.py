"""A small declarative schema for scenario files.

Scenarios are data (TOML).  Every key a user may write is declared here with its type, default and
allowed range, so a typo or an out-of-range value is caught before a model is built, with a one-line
message that names the file, the key and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from tokenomy.abm.suggest import did_you_mean

REQUIRED = object()


class ScenarioError(ValueError):
    """A problem with a scenario, a sweep or an override; its message is one line for the user."""


@dataclass(frozen=True)
class Field:
    """One scalar (or list of scalars) setting."""

    kind: str  # "float", "int", "bool", "str", "date", "floats" (list of floats)
    default: Any = REQUIRED
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    doc: str = ""
    length: int | None = None  # for "floats": exact length if set
    decided: bool = False  # a price or markup that agents set themselves: scenario events may not change it
    pattern: str | None = None  # for "str": a regular expression the whole value must match
    pattern_doc: str = ""  # what the pattern allows, in words


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


def coerce_scalar(f: Field, value: Any, path: str, source: str) -> Any:
    """Check one value against its field; return it in canonical type."""
    kind = f.kind
    if value is None and f.default is None:
        return None
    if kind == "strs":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _fail(source, f"'{path}' must be a list of names, got {_fmt(value)}")
        return list(value)
    if kind == "floats":
        if not isinstance(value, list):
            raise _fail(source, f"'{path}' must be a list of numbers, got {_fmt(value)}")
        out = [
            coerce_scalar(Field("float", min=f.min, max=f.max), v, f"{path}[{i}]", source) for i, v in enumerate(value)
        ]
        if f.length is not None and len(out) != f.length:
            raise _fail(source, f"'{path}' must have {f.length} values, got {len(out)}")
        return out
    if kind == "bool":
        if not isinstance(value, bool):
            raise _fail(source, f"'{path}' must be true or false, got {_fmt(value)}")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise _fail(source, f"'{path}' must be a string, got {_fmt(value)}")
        if f.pattern is not None and not re.fullmatch(f.pattern, value):
            raise _fail(source, f"'{path}' = {_fmt(value)} is not allowed: {f.pattern_doc}")
        if f.choices is not None and value not in f.choices:
            tip = did_you_mean(value, f.choices)
            raise _fail(source, f"'{path}' = {_fmt(value)} is not one of {', '.join(f.choices)}{tip}")
        return value
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise _fail(source, f"'{path}' must be a date like 2024-01-01, got {_fmt(value)}")
    if kind in ("float", "int"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(source, f"'{path}' must be a number, got {_fmt(value)}")
        if kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise _fail(source, f"'{path}' must be a whole number, got {_fmt(value)}")
            value = int(value)
        else:
            value = float(value)
            if value != value or value in (float("inf"), float("-inf")):
                raise _fail(source, f"'{path}' must be a finite number, got {value}")
        if (f.min is not None and value < f.min) or (f.max is not None and value > f.max):
            raise _fail(source, f"'{path}' = {_fmt(value)} is out of range; allowed {_range_text(f)}")
        return value
    raise AssertionError(f"unknown field kind {kind}")


def _unknown(path: str, key: str, known: list[str], source: str) -> ScenarioError:
    return _fail(source, f"unknown key '{path}{_fmt(key)[1:-1]}'{did_you_mean(key, known, path, cutoff=0.5)}")


def validate(data: Any, schema: Table, source: str, path: str = "") -> dict:
    """Return a copy of ``data`` checked against ``schema`` with defaults filled in."""
    if not isinstance(data, dict):
        raise _fail(source, f"'{path.rstrip('.') or 'top level'}' must be a table")
    out: dict[str, Any] = {}
    if schema.open_values is not None:
        for key, value in data.items():
            out[key] = coerce_scalar(schema.open_values, value, f"{path}{key}", source)
        return out
    for key in data:
        if key not in schema.fields:
            raise _unknown(path, key, list(schema.fields), source)
    for key, spec in schema.fields.items():
        sub = f"{path}{key}"
        if isinstance(spec, Field):
            if key in data:
                out[key] = coerce_scalar(spec, data[key], sub, source)
            elif spec.default is REQUIRED:
                raise _fail(source, f"missing required key '{sub}'")
            else:
                out[key] = list(spec.default) if isinstance(spec.default, list) else spec.default
        elif isinstance(spec, Table):
            out[key] = validate(data.get(key, {}), spec, source, sub + ".")
        else:
            items = data.get(key, [])
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
                names = [c[spec.key] for c in checked]
                dupes = sorted({n for n in names if names.count(n) > 1})
                if dupes:
                    raise _fail(source, f"'{sub}' has duplicate {spec.key} '{dupes[0]}'")
            out[key] = checked
    return out


def split_path(path: str) -> list[str]:
    parts = [p for p in path.split(".")]
    if not path or any(p == "" for p in parts):
        raise ScenarioError(f"--set: '{path}' is not a dotted key like markets.token_inertia")
    return parts


def set_path(data: dict, schema: Table, path: str, value: Any, source: str) -> None:
    """Set ``path`` (dotted; list items addressed by their name) in raw scenario data, in place.

    The schema is used to resolve names and to report unknown keys; values are checked later by
    :func:`validate`.
    """
    parts = split_path(path)
    node: Any = data
    spec: Any = schema
    walked = ""
    i = 0
    while i < len(parts):
        key = parts[i]
        last = i == len(parts) - 1
        if isinstance(spec, Table):
            if not isinstance(node, dict):
                raise _fail(source, f"'{walked.rstrip('.') or 'top level'}' must be a table")
            if spec.open_values is not None:
                if not last:
                    raise _fail(source, f"'{walked}{key}' takes a value, not sub-keys")
                node[key] = value
                return
            if key not in spec.fields:
                raise _unknown(walked, key, list(spec.fields), source)
            sub = spec.fields[key]
            if last:
                if not isinstance(sub, Field):
                    raise _fail(source, f"'{walked}{key}' is a table; set one of its keys instead")
                node[key] = value
                return
            if isinstance(sub, Field):
                raise _fail(source, f"'{walked}{key}' takes a value, not sub-keys")
            node = node.setdefault(key, {} if isinstance(sub, Table) else [])
            spec = sub
            walked += key + "."
            i += 1
        elif isinstance(spec, ListOf):
            if not isinstance(node, list) or not all(isinstance(item, dict) for item in node):
                raise _fail(source, f"'{walked.rstrip('.')}' must be an array of tables ([[{walked.rstrip('.')}]])")
            names = [item.get(spec.key) for item in node]
            if key == "*":
                rest = ".".join(parts[i + 1 :])
                if not rest:
                    raise _fail(source, f"'{walked}*' needs a key after it")
                if not node:
                    raise _fail(source, f"'{walked}*' matches no entry: the scenario has no '{walked.rstrip('.')}'")
                for item in node:
                    set_path(item, spec.item, rest, value, source)
                return
            if key not in names:
                tip = did_you_mean(key, names, walked, cutoff=0.5)
                known = (", ".join(str(n) for n in names[:8]) + (", ..." if len(names) > 8 else "")) or "none"
                raise _fail(source, f"no entry named '{key}' in '{walked.rstrip('.')}' (known: {known}){tip}")
            node = node[names.index(key)]
            spec = spec.item
            walked += key + "."
            i += 1
            if i == len(parts):
                raise _fail(source, f"'{walked.rstrip('.')}' is a table; set one of its keys instead")
        else:
            raise _fail(source, f"'{walked.rstrip('.')}' takes a value, not sub-keys")
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
