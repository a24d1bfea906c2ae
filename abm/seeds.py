"""Lists of seeds written as ranges: ``1-20``, ``1,2,5``, ``3-5,9`` (``tokenomy run --seeds``).

A list is counted before it is expanded, so ``0-4294967295`` is refused as too many seeds without building it.
"""

from __future__ import annotations

import re

_ITEM = re.compile(r"(?P<first>[0-9]+)\s*(?:-\s*(?P<last>[0-9]+))?")
MAX_SPEC_CHARS = 10_000
EXAMPLES = "such as 1-20 or 1,2,5 or 3-5,9"


class SeedListError(ValueError):
    """A list of seeds that cannot be run; its message names the problem in one line."""


def _seed(digits: str, maximum: int) -> int:
    digits = digits.lstrip("0") or "0"
    if len(digits) > len(str(maximum)) + 1 or int(digits) > maximum:
        shown = digits if len(digits) <= 24 else digits[:20] + "..."
        raise SeedListError(f"seed {shown} is out of range: seeds are 0 to {maximum:,}")
    return int(digits)


def _ranges(text: str, maximum: int) -> list[tuple[int, int]]:
    """``text`` as (first, last) pairs, each checked: well formed, in range, not backwards."""
    if not text.strip():
        raise SeedListError(f"expected seeds {EXAMPLES}, got nothing")
    if len(text) > MAX_SPEC_CHARS:
        raise SeedListError(f"a list of seeds is at most {MAX_SPEC_CHARS:,} characters, got {len(text):,}")
    ranges = []
    for item in text.split(","):
        m = _ITEM.fullmatch(item.strip())
        if m is None:
            shown = item.strip()[:40]
            raise SeedListError(f"{shown!r} is not a seed or a range of seeds ({EXAMPLES})")
        first = _seed(m["first"], maximum)
        last = first if m["last"] is None else _seed(m["last"], maximum)
        if last < first:
            raise SeedListError(f"range {first}-{last} runs backwards: write {last}-{first}")
        ranges.append((first, last))
    return ranges


def parse_seeds(text: str, maximum: int, most: int) -> list[int]:
    """The seeds ``text`` names, in increasing order: each 0 to ``maximum``, at most ``most`` of them in all, none
    named twice.  Raises :class:`SeedListError`."""
    ranges = _ranges(text, maximum)
    count = sum(last - first + 1 for first, last in ranges)
    if count > most:
        raise SeedListError(f"at most {most:,} seeds, got {count:,}")
    seen: set[int] = set()
    for first, last in ranges:
        for seed in range(first, last + 1):
            if seed in seen:
                raise SeedListError(f"seed {seed} is named twice")
            seen.add(seed)
    return sorted(seen)


def seeds_text(seeds: list[int]) -> str:
    """Increasing seeds written back as ranges: ``[1, 2, 3, 5]`` as ``1-3,5``."""
    parts: list[str] = []
    i = 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts.append(str(seeds[i]) if i == j else f"{seeds[i]}-{seeds[j]}")
        i = j + 1
    return ",".join(parts)
