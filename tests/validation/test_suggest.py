"""The one "did you mean" helper, and that every unknown name in the package goes through it."""

from __future__ import annotations

from pathlib import Path

import tokenomy.abm
from tokenomy.abm.suggest import closest, did_you_mean

PACKAGE_ROOT = Path(tokenomy.abm.__file__).resolve().parent.parent


def test_closest_name_or_none():
    assert closest("clasroom", ["classroom", "jevons"]) == "classroom"
    assert closest("zzz", ["classroom", "jevons"]) is None
    assert did_you_mean("userz", ["users", "firms"], "apps.chatbot.") == " (did you mean 'apps.chatbot.users'?)"
    assert did_you_mean("zzz", ["users"]) == ""


def test_no_other_module_matches_names_itself():
    own = Path(tokenomy.abm.__file__).resolve().parent / "suggest.py"
    others = [
        p
        for folder in ("abm", "agents", "networks", "viz")
        for p in (PACKAGE_ROOT / folder).rglob("*.py")
        if p.resolve() != own and "get_close_matches" in p.read_text(encoding="utf-8")
    ]
    assert others == []
