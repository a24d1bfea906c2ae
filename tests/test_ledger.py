"""The ledger: every payment debits its payer and credits its payee, in one batched booking."""

import numpy as np
import pytest

from tokenomy.abm.ledger import Ledger


def make() -> Ledger:
    return Ledger(3, np.array([10.0, 20.0, 30.0]))


def test_transfers_broadcast_and_conserve_money():
    led = make()
    start = led.balance.sum()
    led.pay(np.array([0, 1]), led.account["households"], np.array([1.5, 2.5]), "a")
    led.pay(led.account["customers"], np.array([1, 2]), 4.0, "b")  # one amount to two payees
    led.pay(2, 0, np.array([[0.5]]), "a")  # any shape with one element
    led.post()
    np.testing.assert_allclose(led.agent_cash(), [10.0 - 1.5 + 0.5, 20.0 - 2.5 + 4.0, 30.0 + 4.0 - 0.5])
    assert led.balance.sum() == pytest.approx(start)
    assert led.flows_today == pytest.approx({"a": 4.5, "b": 8.0})
    np.testing.assert_allclose(led.revenue_today[:3], [0.5, 4.0, 4.0])
    np.testing.assert_allclose(led.cost_today[:3], [1.5, 2.5, 0.5])


def test_empty_side_books_nothing():
    led = make()
    led.pay(np.zeros(0, dtype=int), 0, np.zeros(0), "nobody")
    led.post()
    np.testing.assert_array_equal(led.agent_cash(), [10.0, 20.0, 30.0])
    assert led.flows_today == {}


def test_non_finite_payment_is_named_and_books_nothing():
    led = make()
    led.pay(0, 1, 1.0, "fine")
    led.pay(np.array([0, 1]), 2, np.array([1.0, np.nan]), "broken")
    before = led.balance.copy()
    with pytest.raises(ValueError, match="non-finite payment in flow 'broken'"):
        led.post()
    np.testing.assert_array_equal(led.balance, before)


def test_totals_accumulate_across_days():
    led = make()
    for _ in range(3):
        led.start_day()
        led.pay(0, 1, 2.0, "x")
        led.post()
    assert led.flows_today == {"x": 2.0}
    assert led.total_by_flow == {"x": 6.0}


def test_segments_book_each_flow_apart():
    led = make()
    hh = led.account["households"]
    led.pay_segments(
        np.array([0, 1, hh]), np.array([hh, hh, 2]), np.array([1.0, 2.0, 5.0]), ["bills", "refund"], [2, 1]
    )
    led.post()
    np.testing.assert_allclose(led.agent_cash(), [9.0, 18.0, 35.0])
    assert led.flows_today == {"bills": 3.0, "refund": 5.0}


def test_non_finite_payment_in_a_segment_names_its_flow():
    led = make()
    led.pay_segments(np.array([0, 1]), np.array([1, 2]), np.array([1.0, np.inf]), ["ok", "bad"], [1, 1])
    with pytest.raises(ValueError, match="flow 'bad'"):
        led.post()
