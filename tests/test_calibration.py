"""Calibration of the `china-2024` scenario against China's national token figures.

National Data Administration figures (docs/model.md, calibration): daily tokens used in China were ~0.1
trillion in early 2024, ~30T in June 2025, ~100T at the end of 2025 and ~140T in March 2026.  One run
of the scenario (its own seed, its full 820-day horizon) must serve, on average over each of those
months, within a factor of 2 of each figure.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tokenomy.abm.model import TokenEconomy

SCENARIO = "china-2024"
DAYS = 820
FACTOR = 2.0

# month -> tokens per day in Mtok (1e6 tokens): 0.1T, 30T, 100T, 140T
TARGETS_MTOK = {
    "2024-01": 0.1e12 / 1e6,
    "2025-06": 30e12 / 1e6,
    "2025-12": 100e12 / 1e6,
    "2026-03": 140e12 / 1e6,
}


@pytest.fixture(scope="module")
def monthly_served() -> pd.Series:
    """Mean daily tokens served (Mtok) per calendar month, from one run with the scenario's seed."""
    model = TokenEconomy(SCENARIO)
    assert model.start_date.isoformat() == "2024-01-01"
    model.run(DAYS)
    daily = model.daily_table()
    return daily.groupby(daily["date"].dt.to_period("M"))["tokens_served_mtok"].mean()


@pytest.mark.parametrize("month", list(TARGETS_MTOK))
def test_tokens_served_within_factor_of_two(monthly_served: pd.Series, month: str) -> None:
    target = TARGETS_MTOK[month]
    period = pd.Period(month, freq="M")
    assert period in monthly_served.index, f"{SCENARIO} did not reach {month}"
    served = float(monthly_served.loc[period])
    ratio = served / target
    assert target / FACTOR <= served <= target * FACTOR, (
        f"{SCENARIO}, {month}: served {served / 1e6:.3g}T tokens/day ({served:.3g} Mtok), "
        f"target {target / 1e6:.3g}T; ratio {ratio:.2f} is outside [1/{FACTOR:g}, {FACTOR:g}]"
    )
