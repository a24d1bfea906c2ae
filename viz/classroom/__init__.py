"""The classroom game's pages (issue 19): a student's (join, dashboard, decision, wait), the teacher's (monitor and
controls), and "Run a class" from the start screen; :mod:`.hub` holds the games of this server process.

:func:`page_for` maps an address's path to its page: the app (``viz/app.py``) asks it first.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from tokenomy.abm.environment import CLASSROOM_ENV  # "1": this server runs a class (`tokenomy classroom`): "/" joins


def page_for(path: str | None) -> Callable | None:
    """The classroom page at ``path`` (``/join``, ``/teacher``, ``/class``), or None for the app's own."""
    clean = (path or "/").rstrip("/") or "/"
    if clean == "/" and os.environ.get(CLASSROOM_ENV) == "1":
        clean = "/join"
    if clean == "/join":
        from tokenomy.viz.classroom.student import StudentPage

        return StudentPage
    if clean == "/teacher":
        from tokenomy.viz.classroom.teacher import TeacherPage

        return TeacherPage
    if clean == "/class":
        from tokenomy.viz.classroom.launch import RunAClass

        return RunAClass
    return None
