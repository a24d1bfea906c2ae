"""The stages of one simulated day, in order (each a function of the model that returns a frozen record
from :mod:`abm.results`): the hourly compute market, the token market with its spot top-up, the power
market, then learning and, on the first of a month, investment and contracting."""
