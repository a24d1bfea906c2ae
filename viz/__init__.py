"""Tokenomy package."""
