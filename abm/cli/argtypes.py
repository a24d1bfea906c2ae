"""Argument types for the command line: each turns a bad value into a one-line argparse error."""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from pathlib import Path

from tokenomy.abm.suggest import did_you_mean

MAX_DIGITS = 30  # more than any bound of ours has
_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<word>.*?)' \(choose from (?P<known>.*)\)")


def whole_number(minimum: int, note: str = "", maximum: int | None = None) -> Callable[[str], int]:
    """A parser for integers in [``minimum``, ``maximum``] (``note`` explains the smallest value, e.g.
    "0 runs here")."""

    def parse(text: str) -> int:
        digits = text.strip().lstrip("+-")
        if digits.isdigit() and len(digits) > MAX_DIGITS:  # Python reads no more digits than its limit (4,300)
            limit = f"from {minimum:,} to {maximum:,}" if maximum is not None else f"at least {minimum:,}"
            raise argparse.ArgumentTypeError(f"must be {limit}, got a number of {len(digits):,} digits")
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:40]!r}") from None
        if value < minimum:
            extra = f" ({note})" if note else ""
            raise argparse.ArgumentTypeError(f"must be at least {minimum}{extra}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum:,}, got {value:,}")
        return value

    parse.__name__ = f"whole_number_from_{minimum}"
    return parse


def finite_number(
    minimum: float | None = None, maximum: float | None = None, above: float | None = None
) -> Callable[[str], float]:
    """A parser for finite numbers in [``minimum``, ``maximum``] (and strictly greater than ``above``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text[:40]!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text[:40]!r}")
        if above is not None and not value > above:
            raise argparse.ArgumentTypeError(f"must be > {above:g}, got {value:g}")
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum:g}, got {value:g}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum:g}, got {value:g}")
        return value

    parse.__name__ = "finite_number"
    return parse


def seed_list(maximum: int, most: int) -> Callable[[str], list[int]]:
    """A parser for a list of seeds such as ``1-20``, ``1,2,5`` or ``3-5,9`` (see :mod:`abm.seeds`)."""
    from tokenomy.abm.seeds import SeedListError, parse_seeds

    def parse(text: str) -> list[int]:
        try:
            return parse_seeds(text, maximum, most)
        except SeedListError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = "seed_list"
    return parse


def folder(text: str) -> Path:
    """An output folder: a non-empty path (an empty one would mean the current directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder, got an empty path")
    if "\0" in text:
        raise argparse.ArgumentTypeError("a path cannot contain a NUL character")
    return Path(text)


def input_file(text: str) -> Path:
    """An input file: a non-empty path."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a file, got an empty path")
    if "\0" in text:
        raise argparse.ArgumentTypeError("a path cannot contain a NUL character")
    return Path(text)


def with_choice_hint(message: str) -> str:
    """An argparse message, with "did you mean" added when it reports an invalid choice."""
    match = _INVALID_CHOICE.search(message)
    if match is None:
        return message
    known = [k.strip().strip("'") for k in match.group("known").split(",")]
    return message + did_you_mean(match.group("word"), known)


positive_int = whole_number(1)
