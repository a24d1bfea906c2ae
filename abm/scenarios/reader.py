"""Reading user files and ``--set`` values with bounds: a size cap, a nesting cap, one-line errors.

Every TOML a user hands over (scenario, sweep) is read here, so a huge file, ``/dev/zero``, a binary
file or 5,000 nested brackets end in a :class:`ScenarioError` naming the file instead of a hang or a
traceback.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

from tokenomy.abm.scenarios.schema import ScenarioError
from tokenomy.networks.files import read_bounded as read_file_bounded

MAX_TOML_BYTES = 1_000_000
MAX_DEPTH = 32  # tables and arrays inside each other; scenarios use 4
MAX_SET_CHARS = 10_000


def read_bounded(path: Path, max_bytes: int, what: str = "file") -> bytes:
    """The bytes of ``path``, refusing (without reading further) anything longer than ``max_bytes``."""
    return read_file_bounded(path, max_bytes, what, ScenarioError)


def depth(value: Any) -> int:
    """How many tables and arrays nest in ``value`` (a scalar: 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


class MalformedTOML(ScenarioError):
    """Text that is not TOML at all (for a ``--set`` value: a bare word, taken as a string)."""


def _parse(text: str, label: str) -> dict:
    try:
        out = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MalformedTOML(f"{label}: malformed TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{label}: arrays or tables nest deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # Python reads no integer of more digits than its limit (4,300): nothing we use has as many
        raise ScenarioError(f"{label}: a whole number has more than {sys.get_int_max_str_digits():,} digits") from None
    if depth(out) > MAX_DEPTH:
        raise ScenarioError(f"{label}: arrays or tables nest deeper than {MAX_DEPTH} levels")
    return out


def load_toml(path: Path, what: str = "scenario file") -> dict:
    """Read a TOML file of at most :data:`MAX_TOML_BYTES`, turning every problem into one line."""
    path = Path(path)
    data = read_bounded(path, MAX_TOML_BYTES, what)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{path.name}: not a text file (not UTF-8)") from None
    return _parse(text, path.name)


def parse_value(text: str) -> Any:
    """The right-hand side of ``--set key=value`` as a TOML value (bare words become strings)."""
    if len(text) > MAX_SET_CHARS:
        raise ScenarioError(f"--set: value longer than {MAX_SET_CHARS} characters")
    try:
        return _parse(f"v = {text}", "--set")["v"]
    except MalformedTOML:  # too deep or too many digits: refused, not taken as a word
        return text


__all__ = ["MAX_DEPTH", "MAX_SET_CHARS", "MAX_TOML_BYTES", "depth", "load_toml", "parse_value", "read_bounded"]
