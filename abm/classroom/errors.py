"""The game's errors: each is one line for the student, the teacher or the command line (exit code 2)."""

from __future__ import annotations

from tokenomy.abm.errors import UsageError


class GameError(UsageError):
    """A request the game refuses: a bad value, a round that is not open, a file that is not a game."""


class AuthError(GameError):
    """A token that does not allow what it asked: unknown, another firm's, or a student's asking a teacher's action."""
