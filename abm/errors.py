"""Errors that mean "the user's input is wrong": the CLI turns them into one line and exit code 2.

Besides :class:`UsageError`, these are :class:`tokenomy.abm.scenarios.ScenarioError`,
``tokenomy.networks.TopologyError`` and ``tokenomy.abm.output.OutputError`` (see ``abm.cli.input_errors``). This
module imports nothing of the model: the command line loads it before it knows what it will run.
"""

MAX_MESSAGE_CHARS = 400


class UsageError(Exception):
    """Bad input from the user (a flag, a file, a value)."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, once the command has kept what was finished: the message says what (one line, printable), and the
    command line prints "interrupted; MESSAGE" with exit code 130."""


def interrupted_line(exc: KeyboardInterrupt) -> str:
    """The one line a command ends with on Ctrl-C: "interrupted", and what was kept when something was
    (:class:`Interrupted`)."""
    kept = one_line(str(exc)) if isinstance(exc, Interrupted) else ""
    return f"interrupted; {kept}" if kept else "interrupted"


def printable(text: object) -> str:
    """``text`` safe to print on a terminal: every character that is not printable (newlines, carriage returns,
    escape sequences that would move the cursor or recolour the screen, bidirectional overrides) is shown
    escaped, as Python writes it in a string (``\\n``, ``\\x1b``, ``\\u202e``).  Every name, claim, note or path
    that came from the user goes through this (or :func:`one_line`) before it is printed."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(text))


def printable_lines(text: object) -> str:
    """:func:`printable`, but line breaks stay (for the tables we format): any other control character is still
    escaped, so no value can move the cursor, recolour the screen or overwrite a line."""
    return "\n".join(printable(line) for line in str(text).split("\n"))


def one_line(message: str) -> str:
    """``message`` as one printable line (see :func:`printable`), cut after :data:`MAX_MESSAGE_CHARS`."""
    text = printable(message)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 3] + "..."


__all__ = ["Interrupted", "interrupted_line", "UsageError", "one_line", "printable", "printable_lines"]
