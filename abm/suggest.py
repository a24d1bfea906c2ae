"""The one "did you mean" helper: every unknown name, key or choice a user types is matched here."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, known: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The known name most like ``word``, or None when none is close enough."""
    hits = difflib.get_close_matches(str(word), [str(k) for k in known], n=1, cutoff=cutoff)
    return hits[0] if hits else None


def did_you_mean(word: str, known: Iterable[str], prefix: str = "", cutoff: float = 0.6) -> str:
    """`` (did you mean 'PREFIXname'?)`` for the closest known name, or an empty string."""
    hit = closest(word, known, cutoff)
    return f" (did you mean '{prefix}{hit}'?)" if hit is not None else ""


__all__ = ["closest", "did_you_mean"]
