"""Invariants that must hold on every day of a full run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tokenomy.agents.technologies import TECHS

QUANTITY_COLUMNS_HOURLY = [
    "load_mw",
    "aidc_load_mw",
    "background_load_mw",
    "flexible_load_served_mw",
    *[f"generation_{t}_mw" for t in TECHS],
    "curtailment_mw",
    "storage_charge_mw",
    "storage_discharge_mw",
    "unserved_mw",
    "spill_mw",
]


def test_energy_balances_in_every_zone_and_hour(classroom_run):
    model, _ = classroom_run
    h = model.hourly_table()
    generation = sum(h[f"generation_{t}_mw"] for t in TECHS)
    supply = generation + h.storage_discharge_mw + h.net_import_mw + h.unserved_mw
    demand = h.load_mw + h.flexible_load_served_mw + h.storage_charge_mw + h.spill_mw
    gap = (supply - demand).abs()
    assert gap.max() <= 1e-6, f"worst imbalance {gap.max()} MWh at row {gap.idxmax()}"
    # energy can only be thrown away at the price floor
    floor = model.config.data["markets"]["power_price_floor_cny_per_mwh"]
    spilled = h[h.spill_mw > 1e-6]
    assert (spilled.price_cny_per_mwh <= floor + 1e-6).all()


def test_net_imports_sum_to_zero_each_hour(classroom_run):
    model, _ = classroom_run
    h = model.hourly_table()
    total = h.groupby(["day", "hour"], observed=True).net_import_mw.sum()
    assert total.abs().max() <= 1e-6


def test_money_is_conserved_through_the_ledger(classroom_run):
    model, checks = classroom_run
    assert not checks["external"].failures, checks["external"].failures[:3]
    a = model.agents_table().sort_values(["agent_id", "day"])
    change = a.groupby("agent_id").cash_cny.diff()
    # cash moves by revenue less the costs that are paid, less capital spending; depreciation moves none
    booked = a.revenue_cny - (a.cost_cny - a.noncash_cost_cny) - a.capex_cny
    mask = change.notna()
    assert np.allclose(change[mask], booked[mask], rtol=1e-9, atol=1e-3)
    total_change = model.ledger.agent_cash().sum() - model.initial_agent_cash.sum()
    outside = model.ledger.balance[model.ledger.n_agents :].sum()
    assert abs(total_change + outside) <= 1e-6 * max(1.0, abs(total_change))


def test_grid_operator_keeps_exactly_the_congestion_rent(classroom_run):
    _, checks = classroom_run
    assert not checks["grid_rent"].failures, checks["grid_rent"].failures[:3]


def test_state_of_charge_stays_within_bounds(classroom_run):
    _, checks = classroom_run
    assert not checks["soc"].failures, checks["soc"].failures[:3]


def test_tokens_served_never_exceed_capacity(classroom_run):
    model, checks = classroom_run
    assert not checks["capacity"].failures, checks["capacity"].failures[:3]
    d = model.daily_table()
    assert (d.tokens_served_mtok <= d.tokens_demanded_mtok * (1 + 1e-9) + 1e-6).all()
    assert np.allclose(d.tokens_served_mtok + d.tokens_unserved_mtok, d.tokens_demanded_mtok, rtol=1e-9)


def test_no_negative_quantities(classroom_run):
    model, _ = classroom_run
    h = model.hourly_table()
    for col in QUANTITY_COLUMNS_HOURLY:
        assert h[col].min() >= -1e-6, f"{col} goes negative: {h[col].min()}"
    d = model.daily_table()
    # (the AIDCs' rent and the providers' margin may be negative: a glut, a price war)
    signed = ("token_cost_compute_rent_cny_per_mtok", "token_margin_cny_per_mtok")
    for col in d.columns:
        if col.endswith(("_mtok", "_mwh", "_gpu_hours", "gpus_online", "gpus_in_pipeline", "_t", "_mw")) and (
            col not in signed
        ):
            assert d[col].min() >= -1e-6, f"{col} goes negative"
    a = model.agents_table()
    for col in ("tokens_mtok", "gpus", "capacity_mw", "soc_mwh"):
        assert a[col].min() >= -1e-6


def test_no_nan_or_infinity_in_any_output(classroom_run):
    model, _ = classroom_run
    for name, frame in (
        ("daily", model.daily_table()),
        ("hourly", model.hourly_table()),
        ("agents", model.agents_table()),
    ):
        numeric = frame.select_dtypes("number")
        bad = ~np.isfinite(numeric.to_numpy())
        assert not bad.any(), f"{name}: non-finite values in {list(numeric.columns[bad.any(axis=0)])}"
        assert len(frame) > 0


def test_every_row_has_a_calendar_date(classroom_run):
    model, _ = classroom_run
    d = model.daily_table()
    assert d.date.iloc[0] == pd.Timestamp(model.start_date)
    assert (d.date.diff().dropna() == pd.Timedelta(days=1)).all()
    assert len(model.hourly_table()) == len(d) * 24 * len(model.zone_names)


def test_token_cost_split_adds_up_to_the_token_price(classroom_run):
    model, _ = classroom_run
    d = model.daily_table()
    parts = (
        d.token_cost_energy_cny_per_mtok
        + d.token_cost_storage_cny_per_mtok
        + d.token_cost_green_cny_per_mtok
        + d.token_cost_operations_cny_per_mtok
        + d.token_cost_gpu_capital_cny_per_mtok
        + d.token_cost_compute_rent_cny_per_mtok
        + d.token_margin_cny_per_mtok
    )
    served = d.tokens_served_mtok > 0
    assert np.allclose(parts[served], d.token_price_cny_per_mtok[served], rtol=1e-9)
    chain = ("energy", "storage", "green", "operations", "gpu_capital")
    for part in chain:
        assert (d[f"token_cost_{part}_cny_per_mtok"] >= 0).all(), part
    assert (d.token_cost_gpu_capital_cny_per_mtok > 0).all() and (d.token_cost_energy_cny_per_mtok > 0).all()
    # the unit cost is what providers paid for compute: the chain's costs plus the data centres' rent
    unit = sum(d[f"token_cost_{p}_cny_per_mtok"] for p in chain) + d.token_cost_compute_rent_cny_per_mtok
    assert np.allclose(unit[served], d.token_unit_cost_cny_per_mtok[served], rtol=1e-9)


def test_gpus_are_accounted_for(classroom_run):
    """Every GPU ordered either arrives or is still on order; every GPU in service is online or mothballed."""
    model, _ = classroom_run
    d = model.daily_table()
    start = float(np.sum([a["gpus"] for a in model.config.data["aidcs"]]))
    in_service = d.gpus_online + d.gpus_mothballed
    arrived = in_service.diff().fillna(in_service.iloc[0] - start) + d.gpus_retired
    ordered_total = d.gpus_ordered.cumsum()
    assert np.allclose(arrived.cumsum() + d.gpus_in_pipeline, ordered_total, atol=1e-6)
    assert np.isclose(in_service.iloc[-1], model.aidcs.gpus.sum())
    assert np.isclose(model.aidcs.cohort_gpus.sum(), model.aidcs.gpus.sum())


def test_green_supply_lies_between_green_generation_and_all_local_supply(classroom_run):
    model, _ = classroom_run
    h = model.hourly_table()
    green_gen = sum(h[f"generation_{t}_mw"] for t in ("nuclear", "hydro", "wind", "solar"))
    local = sum(h[f"generation_{t}_mw"] for t in TECHS) + h.storage_discharge_mw
    assert (h.green_supply_mw >= green_gen - 1e-6).all()
    assert (h.green_supply_mw <= local + 1e-6).all()
    d = model.daily_table()
    assert d.aidc_green_share.between(0, 1).all()
