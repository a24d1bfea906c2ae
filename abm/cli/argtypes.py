"""Argument types for the command line: each turns a bad value into a one-line argparse error."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def whole_number(minimum: int, note: str = "") -> Callable[[str], int]:
    """A parser for integers >= ``minimum`` (``note`` explains the smallest value, e.g. "0 runs here")."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            extra = f" ({note})" if note else ""
            raise argparse.ArgumentTypeError(f"must be at least {minimum}{extra}, got {value}")
        return value

    parse.__name__ = f"whole_number_from_{minimum}"
    return parse


positive_int = whole_number(1)
