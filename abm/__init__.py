"""Tokenomy's model layer: the Mesa model, scenarios, pure market functions, ledger, outputs, CLI."""

__version__ = "0.1.0"
