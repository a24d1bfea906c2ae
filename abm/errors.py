"""Errors that mean "the user's input is wrong": the CLI turns them into one line and exit code 2."""

from tokenomy.abm.scenarios.schema import ScenarioError

MAX_MESSAGE_CHARS = 400


class UsageError(Exception):
    """Bad input from the user (a flag, a file, a value)."""


def one_line(message: str) -> str:
    """``message`` as one printable line: control characters a user typed (newlines, escapes) are shown
    escaped, and anything past :data:`MAX_MESSAGE_CHARS` is cut."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(message))
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 3] + "..."


__all__ = ["ScenarioError", "UsageError", "one_line"]
