"""What a day reuses instead of making again must be what making it again would give.

Speed work keeps a few things from one day to the next (the providers' appeal factors, arrays of a number handed
over daily, the ledger ids of the day's pattern of flows) and computes the AIDCs' investment NPV in Python floats
instead of numpy scalars.  Each is checked against making it afresh, bit for bit: the model is chaotic, one
different last bit grows into a different run.
"""

from __future__ import annotations

import numpy as np
import pytest

from tokenomy.abm.ledger import Ledger
from tokenomy.abm.model import TokenEconomy
from tokenomy.abm.settlement import DAY_FLOWS, _segments
from tokenomy.agents.aidc import DAYS_PER_YEAR, _gpu_npv
from tokenomy.agents.base import Filled
from tokenomy.agents.strategies import AdaptiveMarkup


@pytest.fixture(scope="module")
def model():
    m = TokenEconomy("classroom", seed=1)
    m.run(3)
    return m


def test_appeal_factor_follows_the_appeal_and_the_sensitivity(model):
    prov = model.providers
    first = prov.appeal_factor(4.0)
    assert np.array_equal(first, prov.appeal ** (1.0 / 4.0))
    assert prov.appeal_factor(4.0) is first  # asked again with nothing changed: kept
    prov.appeal[0] = 1.7  # changed in place (an event, a test)
    assert np.array_equal(prov.appeal_factor(4.0), prov.appeal ** (1.0 / 4.0))
    assert prov.appeal_factor(4.0)[0] == 1.7**0.25
    assert np.array_equal(prov.appeal_factor(2.5), prov.appeal ** (1.0 / 2.5))  # another sensitivity
    prov.appeal = np.full(prov.n, 1.3)  # replaced (a launch)
    assert np.array_equal(prov.appeal_factor(2.5), np.full(prov.n, 1.3 ** (1.0 / 2.5)))
    assert np.all(np.isinf(prov.appeal_factor(0.0)))  # price-blind buyers: no price equivalent


def test_filled_is_np_full_until_the_number_changes():
    fill = Filled(3)
    a = fill(0.2)
    assert np.array_equal(a, np.full(3, 0.2))
    assert fill(0.2) is a
    b = fill(0.3)
    assert b is not a and np.array_equal(b, np.full(3, 0.3)) and np.array_equal(a, np.full(3, 0.2))
    assert np.all(np.isnan(fill(float("nan"))))


def test_adaptive_markup_with_a_number_step_moves_as_with_its_array():
    sold = np.array([1.0, 0.5, 0.9, 0.99])
    by_number, by_array = np.full(4, 0.3), np.full(4, 0.3)
    members = np.arange(4)
    number, array = AdaptiveMarkup(members, 0.05, 2.0), AdaptiveMarkup(members, np.full(4, 0.05), 2.0)
    for _ in range(3):
        number.update(by_number, sold)
        array.update(by_array, sold)
    assert np.array_equal(by_number, by_array)
    number.step = 0.1  # a new step is taken up
    number.update(by_number, sold)
    array.step = np.full(4, 0.1)
    array.update(by_array, sold)
    assert np.array_equal(by_number, by_array)


def npv_in_numpy_scalars(q, market, pipeline, wait_days, p, a, share, forecast, running, idle, annuity):
    """The NPV as :class:`MarginalNpvInvesting` wrote it before, on numpy scalars."""
    impact = (market / (market + p["supply_line_weight"][a] * pipeline + q / share[a])) ** 2
    margin_day = (forecast[a] + running[a]) * impact - running[a] - idle[a]
    margin_year = margin_day * DAYS_PER_YEAR - p["fixed_om_cny_per_gpu_year"][a]
    lead = max(p["lead_days"][a], wait_days(q))
    return margin_year * annuity[a] * (1.0 + p["hurdle"][a]) ** (-lead / DAYS_PER_YEAR) - p["capex_cny_per_gpu"][a]


def test_gpu_npv_in_python_floats_is_the_numpy_scalar_npv():
    rng = np.random.default_rng(7)
    for _ in range(300):
        n, a = 3, int(rng.integers(3))
        p = {
            "supply_line_weight": rng.uniform(0.0, 1.0, n),
            "fixed_om_cny_per_gpu_year": rng.uniform(0.0, 5e3, n),
            "lead_days": rng.uniform(0.0, 400.0, n),
            "hurdle": rng.uniform(0.0, 1.0, n),
            "capex_cny_per_gpu": rng.uniform(1e4, 3e5, n),
        }
        share, forecast = rng.uniform(1e-3, 1.0, n), rng.uniform(-50.0, 500.0, n)
        running, idle, annuity = rng.uniform(0.0, 200.0, n), rng.uniform(0.0, 20.0, n), rng.uniform(1.0, 10.0, n)
        market, pipeline = float(rng.uniform(1.0, 1e6)), float(rng.uniform(0.0, 1e6))
        backlog, per_day = float(rng.uniform(0.0, 1e5)), float(rng.uniform(1.0, 1e4))

        def wait_days(q, backlog=backlog, per_day=per_day):
            return (backlog + q) / per_day

        for q in (0.0, float(rng.uniform(0.0, 1e6)), 0.5, 1e12):
            mine = _gpu_npv(
                market,
                pipeline,
                wait_days,
                float(p["supply_line_weight"][a]),
                float(share[a]),
                float(forecast[a] + running[a]),
                float(running[a]),
                float(idle[a]),
                float(p["fixed_om_cny_per_gpu_year"][a]),
                float(annuity[a]),
                1.0 + float(p["hurdle"][a]),
                float(p["lead_days"][a]),
                float(p["capex_cny_per_gpu"][a]),
                q,
            )
            theirs = npv_in_numpy_scalars(q, market, pipeline, wait_days, p, a, share, forecast, running, idle, annuity)
            assert mine == theirs


def test_day_segments_are_the_flows_with_payments():
    sizes = tuple(int(x) for x in np.random.default_rng(3).integers(0, 3, len(DAY_FLOWS)))
    flows, counts = _segments(sizes)
    assert flows == [f for f, s in zip(DAY_FLOWS, sizes, strict=True) if s]
    assert counts == [s for s in sizes if s] and all(counts)


def test_ledger_books_a_repeated_pattern_of_flows_under_the_same_names():
    led = Ledger(2, np.array([100.0, 50.0]))
    payer, payee = np.array([0, 1, 0]), np.array([1, 0, 1])
    for day in range(3):
        led.start_day()
        led.pay_segments(payer, payee, np.array([1.0, 2.0, 4.0]) * (day + 1), ["tokens", "compute"], [2, 1])
        led.pay_segments(payer[:1], payee[:1], np.array([8.0]), ["fuel"], [1])
        led.post()
        assert led.flows_today == {"tokens": 3.0 * (day + 1), "compute": 4.0 * (day + 1), "fuel": 8.0}
    assert led.total_by_flow == {"tokens": 18.0, "compute": 24.0, "fuel": 24.0}
    paid_by_0 = (1.0 + 4.0) * (1 + 2 + 3) + 8.0 * 3  # tokens and compute to agent 1, and fuel, over three days
    paid_by_1 = 2.0 * (1 + 2 + 3)
    assert np.array_equal(led.agent_cash(), np.array([100.0 - paid_by_0 + paid_by_1, 50.0 + paid_by_0 - paid_by_1]))
