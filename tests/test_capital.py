"""Capital that must be repaid: GPU cohorts, depreciation, retirement, mothballing and exit, term contracts,
and the forecasts investors make."""

from __future__ import annotations

import numpy as np
import pytest

from tokenomy.abm.model import TokenEconomy
from tokenomy.agents.contracts import ContractBook, renew
from tokenomy.agents.forecasting import ADAPTIVE_WEIGHT, TREND_WEIGHT, Forecasters


def test_depreciation_is_each_cohort_s_capex_over_its_life_every_day():
    model = TokenEconomy("classroom", seed=1)
    aidc_rows = model.kind_slice["aidc"]
    for _ in range(40):
        a = model.aidcs
        life_days = a.params["life_years"][a.cohort_owner] * 365.0
        expected = np.bincount(a.cohort_owner, a.cohort_gpus * a.cohort_capex / life_days, minlength=a.n)
        model.step()
        assert model.ledger.noncash_today[aidc_rows] == pytest.approx(expected, rel=1e-12)
    d = model.agents_table()
    aidc = d[d.kind == "aidc"]
    assert (aidc.noncash_cost_cny > 0).all()
    assert np.allclose(aidc.profit_cny, aidc.revenue_cny - aidc.cost_cny)


def test_cohorts_retire_at_the_end_of_their_life():
    model = TokenEconomy("classroom", overrides=["aidcs.*.age_years=2.4", "aidcs.*.invest=false"], seed=1)
    start = model.aidcs.gpus.sum()
    life_days = model.aidcs.params["life_years"][model.aidcs.cohort_owner] * 365.0
    due = model.aidcs.cohort_day + life_days < 400
    expected_retired = model.aidcs.cohort_gpus[due].sum()
    model.run(400)
    d = model.daily_table()
    assert d.gpus_retired.sum() == pytest.approx(expected_retired)
    assert model.aidcs.gpus.sum() == pytest.approx(start - expected_retired)
    a = model.aidcs
    assert (model.day - a.cohort_day < a.params["life_years"][a.cohort_owner] * 365.0).all()


def test_idle_gpus_are_mothballed_and_scrapped_when_they_stay_idle():
    model = TokenEconomy(
        "classroom",
        overrides=["aidcs.*.gpus=80000", "aidcs.*.invest=false", "labs.ai-lab.gpu_hours_per_day=1000"],
        seed=1,
    )
    model.run(40)
    d = model.daily_table()
    assert d.gpus_mothballed.iloc[-1] > 0.3 * 160000  # most of the idle fleet is laid up after a month
    online_cost = model.aidcs.fixed_costs().sum()
    assert online_cost == pytest.approx(
        (model.aidcs.online * model.aidcs.params["fixed_om_cny_per_gpu_year"] / 365).sum()
    )
    peak = d.peak_gpu_utilization.iloc[-10:].max() * (d.gpus_online + d.gpus_mothballed).iloc[-1]
    assert d.gpus_online.iloc[-1] >= peak  # never below what the busiest hour needs
    model.run(250)
    d = model.daily_table()
    assert d.gpus_retired.sum() > 0.3 * 160000  # scrapped after six months laid up
    write_offs = model.ledger.total_by_flow.get("write-offs", 0.0)
    assert write_offs > 0


def test_a_reservation_is_delivered_and_paid_for_in_full_cut_only_when_the_gpus_are_not_there():
    book = ContractBook(n_providers=2, n_aidcs=2)
    qty = np.zeros(24)
    qty[8:20] = 10.0  # 10 GPUs in each of 12 daytime hours
    book.sign(0, 1, qty, price=12.0, end_day=30)
    book.sign(1, 1, qty * 2, price=15.0, end_day=30)
    got = book.deliver(np.array([100.0, 100.0]), n_buyers=3)
    assert got.flow.shape == (3, 2, 24) and got.flow[0, 1].sum() == 120.0 and got.flow[1, 1].sum() == 240.0
    assert got.payment.tolist() == [12.0 * 120.0, 15.0 * 240.0]  # every reserved GPU-hour, used or not
    assert got.by_aidc[1].tolist() == (qty * 3).tolist() and not got.by_aidc[0].any()
    assert got.cost_by_provider().tolist() == [1440.0, 3600.0]
    short = book.deliver(np.array([100.0, 15.0]), n_buyers=3)  # an outage: 15 GPUs left for 30 reserved
    assert short.by_aidc[1].max() == pytest.approx(15.0)
    assert short.flow[0, 1, 10] == pytest.approx(5.0) and short.flow[1, 1, 10] == pytest.approx(10.0)  # pro rata
    assert short.payment.tolist() == pytest.approx([12.0 * 60.0, 15.0 * 120.0])  # only what is delivered is paid
    book.expire(31)
    assert len(book) == 0


def test_contracts_are_laddered_then_renewed_at_the_expected_price():
    book = ContractBook(n_providers=1, n_aidcs=2)
    need = np.full((1, 24), 100.0)
    expected = np.full((2, 24), 10.0)
    renew(
        book,
        0,
        30,
        need,
        np.array([0.6]),
        np.array([3]),
        np.ones((1, 2), bool),
        np.array([1000.0, 1000.0]),
        expected,
        premium=0.05,
    )
    assert sorted(set(book.end_day.tolist())) == [29, 59, 89]  # a ladder of 1, 2 and 3 months
    assert book.cover(29).sum() == pytest.approx(0.6 * 2400 * 2 / 3)  # the 1-month rung ends first
    assert np.allclose(book.price, 10.5)  # expected price plus the premium
    expected[:] = 20.0  # scarcity arrives
    renew(
        book,
        30,
        30,
        need,
        np.array([0.6]),
        np.array([3]),
        np.ones((1, 2), bool),
        np.array([1000.0, 1000.0]),
        expected,
        premium=0.05,
    )
    fresh = book.end_day == 30 + 3 * 30 - 1
    assert np.allclose(book.price[fresh], 21.0)  # renewals carry it
    assert book.cover(59).sum() == pytest.approx(0.6 * 2400)  # back to the target cover


def test_renewals_carry_scarcity_into_contract_prices_with_a_lag():
    model = TokenEconomy("agent-boom", seed=1)
    model.run(400)
    d = model.daily_table()
    spot = d.compute_price_cny_per_gpu_hour.rolling(30).mean()
    contract = d.compute_contract_price_cny_per_gpu_hour
    spot_peak = int(spot.iloc[60:330].idxmax())
    contract_peak = int(contract.iloc[60:400].idxmax())
    assert contract_peak > spot_peak + 20  # contract prices peak later: a lag
    assert contract.iloc[contract_peak] > 1.3 * contract.iloc[60]  # renewals carry the scarcity
    assert contract.iloc[-30:].mean() > spot.iloc[-30:].mean()  # and keep it after the spot has fallen


def test_forecasters_follow_their_textbook_rules():
    f = Forecasters(["adaptive", "trend", "switching"])
    f.observe(np.full(3, 100.0))
    f.observe(np.full(3, 120.0))
    adaptive = 100.0 + ADAPTIVE_WEIGHT * (120.0 - 100.0)
    trend = 120.0 + TREND_WEIGHT * (120.0 - 100.0)
    forecast = f.forecast()
    assert forecast[0] == pytest.approx(adaptive)
    assert forecast[1] == pytest.approx(trend)
    assert min(adaptive, trend) <= forecast[2] <= max(adaptive, trend)


def test_switching_forecasters_move_to_the_predictor_that_has_been_right():
    rising, flat = Forecasters(["switching"]), Forecasters(["switching"])
    for t in range(12):
        rising.observe(np.array([100.0 + 10.0 * t]))  # a steady trend: trend-following is right
        flat.observe(np.array([100.0 + (5.0 if t % 2 else -5.0)]))  # noise around a level: adaptive is right
    assert rising.trend_weight[0] > 0.8
    assert flat.trend_weight[0] < 0.2
