"""Errors that mean "the user's input is wrong": the CLI turns them into one line and exit code 2."""

from tokenomy.abm.scenarios.schema import ScenarioError


class UsageError(Exception):
    """Bad input from the user (a flag, a file, a value)."""


__all__ = ["ScenarioError", "UsageError"]
