"""Limits of the command line's numbers, in a module that imports nothing: the argument parser reads them, and
``tokenomy --help`` or a bad flag must not wait for the model's libraries to load."""

MAX_DAYS = 20000  # the longest horizon a run may ask for (about 55 years)
MAX_SEED = 2**32 - 1
