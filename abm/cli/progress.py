"""The command line's progress bars: tqdm on stderr, only on a terminal, not with ``--quiet``, and only once the
work has taken a couple of seconds."""

from __future__ import annotations

import sys


def progress_bar(total: int, unit: str, desc: str, quiet: bool):
    from tqdm import tqdm

    return tqdm(
        total=total,
        unit=unit,
        desc=desc,
        file=sys.stderr,
        delay=2.0,
        leave=False,
        disable=quiet or not sys.stderr.isatty(),
    )
