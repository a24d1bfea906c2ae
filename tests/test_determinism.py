"""The same scenario and seed give identical tables; another seed gives different ones."""

from __future__ import annotations

import pandas as pd

from tokenomy.abm.model import TokenEconomy


def _tables(seed: int, days: int = 40):
    m = TokenEconomy("classroom", seed=seed)
    m.run(days)
    return m.daily_table(), m.hourly_table(), m.agents_table()


def test_same_seed_same_tables():
    a, b = _tables(7), _tables(7)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y, check_exact=True)


def test_other_seed_other_tables():
    a, b = _tables(7), _tables(8)
    assert not a[1].equals(b[1])
    assert not a[0].power_price_cny_per_mwh.equals(b[0].power_price_cny_per_mwh)
