"""Errors that mean "the user's input is wrong": the CLI turns them into one line and exit code 2.

Besides :class:`UsageError`, these are :class:`tokenomy.abm.scenarios.ScenarioError`,
``tokenomy.networks.TopologyError`` and ``tokenomy.abm.output.OutputError`` (see ``abm.cli.input_errors``). This
module imports nothing of the model: the command line loads it before it knows what it will run.
"""

MAX_MESSAGE_CHARS = 400


class UsageError(Exception):
    """Bad input from the user (a flag, a file, a value)."""


def one_line(message: str) -> str:
    """``message`` as one printable line: control characters a user typed (newlines, escapes) are shown
    escaped, and anything past :data:`MAX_MESSAGE_CHARS` is cut."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(message))
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 3] + "..."


__all__ = ["UsageError", "one_line"]
