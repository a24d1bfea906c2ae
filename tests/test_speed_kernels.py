"""The compiled kernels that replaced chains of numpy calls compute exactly what numpy computed.

The model is chaotic: one different last bit grows into a different run, so "close" is not enough.  Each kernel is
checked bit for bit against the numpy expression (or the market function) it stands in for, on random inputs.
"""

from __future__ import annotations

import numpy as np
import pytest

from tokenomy.abm.day.compute import _clear_and_pay, _payments
from tokenomy.abm.ledger import Ledger
from tokenomy.abm.links import TradeLinks
from tokenomy.abm.markets.compute import _components, clear_hourly_compute_market
from tokenomy.abm.markets.power import PowerGrid, PowerMarketInput, clear_power_market
from tokenomy.abm.model import TokenEconomy
from tokenomy.agents.numeric import nan_max, nan_min, nan_to_zero, psum


def same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


# -- summing in numpy's order -------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 5, 7, 8, 9, 24, 48, 127, 128, 129, 192, 500, 1000])
def test_psum_is_numpy_sum(n):
    rng = np.random.default_rng(n)
    for _ in range(50):
        x = rng.standard_normal(n) * 10.0 ** rng.integers(-3, 6, size=n)
        assert psum(x) == x.sum()


def test_nan_aware_helpers_are_numpy_maximum_minimum_and_nan_to_num():
    values = [0.0, -0.0, 1.5, -2.0, np.nan, np.inf, -np.inf]
    for a in values:
        assert same(nan_to_zero(a), np.nan_to_num(np.float64(a), nan=0.0))
        for b in values:
            assert same(nan_max(a, b), np.maximum(a, b))
            assert same(nan_min(a, b), np.minimum(a, b))


# -- the day-ahead payments: numpy's einsum order ------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 2, 24), (5, 8, 24), (2, 3, 13), (1, 1, 7)])
def test_payments_are_numpys_einsum(shape):
    """From the GPU-hours of the pairs that can trade, the same bits as numpy's sums over the whole table."""
    rng = np.random.default_rng(1)
    for trial in range(50):
        edges = rng.random(shape[:2]) < 0.6 if trial % 2 else np.ones(shape[:2], dtype=bool)
        flow = rng.random(shape) * 100.0
        flow[flow < 30.0] = 0.0
        flow[~edges] = 0.0
        price = rng.random(shape[1:]) * 10.0
        price[rng.random(shape[1:]) < 0.1] = np.nan
        links = TradeLinks.of(edges)
        payment, bought, lab_spent = _payments(links.to_pairs(flow), links.ptr, links.seller, price, 1)
        expected = np.einsum("bah,ah->ba", flow, np.nan_to_num(price, nan=0.0))
        assert same(payment, expected)
        assert same(bought, flow.sum(axis=1))
        assert same(lab_spent, expected[1:].sum(axis=1))


# -- the power market held in a PowerGrid ----------------------------------------------------------------------------
def random_power_market(rng, Z: int, meshed: bool) -> PowerMarketInput:
    H = 24
    lines = [(z, int(rng.integers(0, z))) for z in range(1, Z)]  # a tree
    if meshed and Z > 2:
        lines.append((0, Z - 1))
    n_off, n_bid = int(rng.integers(1, 9)), int(rng.integers(0, 4))
    return PowerMarketInput(
        n_zones=Z,
        offer_zone=rng.integers(0, Z, n_off),
        offer_mw=rng.random((H, n_off)) * 100.0,
        offer_price=rng.choice([10.0, 50.0, 80.0, 300.0], size=(H, n_off)),
        bid_zone=rng.integers(0, Z, n_bid),
        bid_mw=rng.random((H, n_bid)) * 30.0,
        bid_price=rng.random((H, n_bid)) * 400.0,
        load_mw=rng.random((H, Z)) * 120.0,
        line_from=np.array([a for a, _ in lines], dtype=int),
        line_to=np.array([b for _, b in lines], dtype=int),
        line_limit_mw=rng.random(len(lines)) * 40.0,
        line_reactance=(rng.random(len(lines)) + 0.1) if meshed else None,
        price_cap=1500.0,
        price_floor=-100.0,
    )


@pytest.mark.parametrize("meshed", [False, True])
def test_power_grid_clears_as_clear_power_market(meshed):
    rng = np.random.default_rng(7)
    for trial in range(40):
        inp = random_power_market(rng, 1 + trial % 4, meshed)
        grid = PowerGrid(inp.n_zones, inp.offer_zone, inp.bid_zone, inp.line_from, inp.line_to, inp.line_reactance)
        a = clear_power_market(inp)
        b = grid.clear(
            inp.offer_mw,
            inp.offer_price,
            inp.bid_mw,
            inp.bid_price,
            inp.load_mw,
            inp.line_limit_mw,
            inp.price_cap,
            inp.price_floor,
        )
        for name in ("price", "offer_dispatch_mw", "bid_served_mw", "unserved_mw", "line_flow_mw", "lp_hours"):
            assert same(getattr(a, name), getattr(b, name)), (trial, name)


def test_power_grid_checks_the_days_arrays():
    inp = random_power_market(np.random.default_rng(3), 2, False)
    grid = PowerGrid(inp.n_zones, inp.offer_zone, inp.bid_zone, inp.line_from, inp.line_to)
    bad = inp.offer_mw.copy()
    bad[3, 0] = -1.0
    with pytest.raises(ValueError, match="offer_mw must be finite and >= 0"):
        grid.clear(bad, inp.offer_price, inp.bid_mw, inp.bid_price, inp.load_mw, inp.line_limit_mw)


# -- the compute market and payments in one kernel -----------------------------------------------------------------
def test_day_ahead_kernel_is_the_market_and_its_payments():
    rng = np.random.default_rng(11)
    H = 24
    for trial in range(20):
        P, L, A = 1 + trial % 3, trial % 2, 1 + trial % 4
        B = P + L
        edges = np.ones((B, A), dtype=bool)
        if trial % 5 == 4 and A > 1:  # two complete components
            edges[:, :] = False
            edges[: max(B // 2, 1), : A // 2] = True
            edges[max(B // 2, 1) :, A // 2 :] = True
        n_p, n_l, n_a = P * 2 * H, L * 6 * H, A * 4 * H
        pb, lb = np.repeat(np.arange(P), 2 * H), np.repeat(np.arange(L), 6 * H)
        ph, lh = np.tile(np.arange(H), 2 * P), np.tile(np.repeat(np.arange(H), 6), L)
        pq, lq, aq = rng.random(n_p) * 50.0, rng.random(n_l) * 20.0, rng.random(n_a) * 40.0
        pp, lp, ap = rng.random(n_p) * 5.0, rng.choice([1.0, 2.0, 3.0], n_l), rng.random(n_a) * 4.0
        aa, ah = np.repeat(np.arange(A), 4 * H), np.tile(np.repeat(np.arange(H), 4), A)
        buyer, hour = np.concatenate([pb, lb + P]), np.concatenate([ph, lh])
        lab_b, lab_a, n_comp, complete = _components(edges)
        links = TradeLinks.of(edges)
        status, flow, buyer_price, aidc_price, ask_filled, payment, bought, lab_spent = _clear_and_pay(
            buyer, hour, pq, lq, pp, lp, aa, ah, aq, ap, lab_b, lab_a, n_comp, complete, P, links.ptr, links.seller
        )
        res = clear_hourly_compute_market(
            buyer, hour, np.concatenate([pq, lq]), np.concatenate([pp, lp]), aa, ah, aq, ap, edges
        )
        assert status == 0 and not res.used_lp
        expected = np.einsum("bah,ah->ba", res.flow_gpu_hours, np.nan_to_num(res.aidc_price, nan=0.0))
        for got, want in zip(
            (links.dense(flow), buyer_price, aidc_price, ask_filled, payment, bought, lab_spent),
            (
                res.flow_gpu_hours,
                res.buyer_price,
                res.aidc_price,
                res.ask_filled_gpu_hours,
                expected,
                res.flow_gpu_hours.sum(axis=1),
                expected[P:].sum(axis=1),
            ),
            strict=True,
        ):
            assert same(got, want), trial


# -- the ledger's posting ------------------------------------------------------------------------------------------
def reference_post(balance, revenue, cost, capital_today, pending):
    """Ledger.post as it was written in numpy."""
    amount = np.concatenate([p[2] for p in pending])
    payer = np.concatenate([p[0] for p in pending])
    payee = np.concatenate([p[1] for p in pending])
    n = balance.size
    out = np.bincount(payer, amount, minlength=n)
    into = np.bincount(payee, amount, minlength=n)
    balance += into - out
    if any(p[3] for p in pending):
        operating = np.concatenate([np.full(p[2].size, not p[3]) for p in pending])
        capital_out = np.bincount(payer, np.where(operating, 0.0, amount), minlength=n)
        capital_today += capital_out
        out = out - capital_out
        into = np.bincount(payee, np.where(operating, amount, 0.0), minlength=n)
    cost += out
    revenue += into


def test_ledger_posts_as_numpys_bincount():
    rng = np.random.default_rng(5)
    for _ in range(30):
        led = Ledger(6, rng.random(6) * 1e6)
        n = led.balance.size
        ref = [led.balance.copy(), np.zeros(n), np.zeros(n), np.zeros(n)]
        pending = []
        for k in range(int(rng.integers(1, 6))):
            size = int(rng.integers(1, 9))
            payer, payee = rng.integers(0, n, size), rng.integers(0, n, size)
            amount = rng.standard_normal(size) * 10.0 ** rng.integers(0, 8, size)
            capital = bool(rng.random() < 0.3)
            led.pay(payer, payee, amount, f"flow{k % 3}", capital=capital)
            pending.append((payer, payee, amount, capital))
        led.post()
        reference_post(*ref, pending)
        for got, want in zip((led.balance, led.revenue_today, led.cost_today, led.capital_today), ref, strict=True):
            assert same(got, want)


# -- the day-ahead and token stages in one kernel each, and by the markets' own functions -----------------------------
def test_stage_kernels_give_what_the_markets_functions_give(monkeypatch):
    import tokenomy.abm.day.compute as day_ahead
    import tokenomy.abm.day.tokens as tokens

    fast = TokenEconomy("classroom")
    fast.run(46)  # contracts, top-ups and a turn of the month
    kernel_tokens, kernel_day_ahead = tokens._serve, day_ahead._clear_and_pay
    # status 1: the general path (the kernel adds to the day-ahead flow in place, so it runs on a copy here: the
    # general path then starts from the same flow)
    monkeypatch.setattr(
        tokens,
        "_serve",
        lambda *a: (1,) + kernel_tokens(*(x.copy() if isinstance(x, np.ndarray) else x for x in a))[1:],
    )
    monkeypatch.setattr(day_ahead, "_clear_and_pay", lambda *a: (1,) + kernel_day_ahead(*a)[1:])
    general = TokenEconomy("classroom")
    general.run(46)
    for record in ("compute", "tokens", "power"):
        a, b = getattr(fast.last, record), getattr(general.last, record)
        for name in a.__dataclass_fields__:
            got, want = getattr(a, name), getattr(b, name)
            if isinstance(got, TradeLinks):  # the pairs that can trade
                got, want = got.cell, want.cell
            assert same(got, want), (record, name)
    assert fast.agents_table().equals(general.agents_table())


# -- a day cleared again after a battery's repair: only the hours it moved ------------------------------------------
@pytest.mark.parametrize("meshed", [False, True])
def test_clearing_again_the_repaired_hours_is_clearing_the_whole_day(meshed):
    from tokenomy.abm.day.power import _clear_again

    rng = np.random.default_rng(11)
    for trial in range(40):
        inp = random_power_market(rng, 1 + trial % 4, meshed)
        grid = PowerGrid(inp.n_zones, inp.offer_zone, inp.bid_zone, inp.line_from, inp.line_to, inp.line_reactance)
        fixed = (inp.bid_mw, inp.bid_price, inp.load_mw, inp.line_limit_mw, inp.price_cap, inp.price_floor)
        before = grid.clear(inp.offer_mw, inp.offer_price, *fixed[:2], *fixed[2:])
        hours = np.sort(rng.choice(24, size=int(rng.integers(1, 5)), replace=False))
        offer_mw = inp.offer_mw.copy()
        offer_mw[hours, -1] *= rng.random(hours.size)  # the last offer (a battery) trimmed in those hours
        again = _clear_again(grid, before, hours, offer_mw, inp.offer_price, *fixed)
        whole = grid.clear(offer_mw, inp.offer_price, *fixed)
        for name in ("price", "offer_dispatch_mw", "bid_served_mw", "unserved_mw", "line_flow_mw", "lp_hours"):
            a, b = getattr(again, name), getattr(whole, name)
            assert same(a, b), (trial, name)
            if isinstance(a, np.ndarray):  # the same memory layout: the kernels reading them keep one version
                assert (a.flags.c_contiguous, a.flags.f_contiguous) == (b.flags.c_contiguous, b.flags.f_contiguous)


# -- the recorder's one kernel -----------------------------------------------------------------------------------------
def test_markup_median_is_numpys_sort_and_middle():
    from tokenomy.abm.recorder import _markup_median

    rng = np.random.default_rng(5)
    for n in (0, 1, 2, 3, 4, 7, 10):
        for _ in range(30):
            price = rng.choice([0.5, 1.0, 2.0, np.nan], size=n) * rng.random(n).round(1)
            cost = rng.choice([-1.0, 0.0, 1.0, 2.0, np.nan], size=n)
            priced = cost > 0
            ratio = np.sort(price[priced] / cost[priced])
            middle = 0.5 * float(ratio[(ratio.size - 1) // 2] + ratio[ratio.size // 2]) if ratio.size else 1.0
            below, got = _markup_median(price, cost)
            assert below == float((ratio < 1.0).sum())
            assert same(got, middle)


def test_recorded_day_holds_what_numpy_computes_from_the_day():
    from tokenomy.abm.recorder import HOURLY_COLUMNS, RAW_DAILY_COLUMNS

    model = TokenEconomy("china-2024")  # flexible connections, storage, several zones
    model.run(70)
    day, rec, aidcs, prov = model.last, model.recorder, model.aidcs, model.providers
    row = rec.daily.data[rec.daily.days - 1, :, 0]
    col = {name: row[i] for i, name in enumerate(RAW_DAILY_COLUMNS)}
    assert same(col["gpus_flexible"], aidcs.flexible_gpus.sum())
    assert same(col["onsite_storage_mwh"], aidcs.backing_mwh.sum())
    assert same(col["storage_gpu_hours"], aidcs.battery_gpu_hours.sum())
    assert col["tight_zone_hours"] == aidcs.tight.any(axis=0).sum()
    priced = prov.unit_cost > 0
    ratio = np.sort(prov.price[priced] / prov.unit_cost[priced])
    assert col["providers_below_cost"] == (ratio < 1.0).sum()
    assert same(col["provider_markup_median"], np.median(ratio) - 1.0)
    power = day.power
    block = rec.hourly.data[rec.hourly.days - 1].reshape(len(HOURLY_COLUMNS), 24, -1)
    columns = [power.price, power.load, power.aidc_zone_load, power.background, power.flex_served, *power.gen_tech]
    columns += [power.curtail, power.charge_z, power.discharge_z, power.net_import, power.unserved, power.spill]
    columns += [power.green_supply]
    assert same(block, np.stack(columns))


# -- a pairwise sum over the few numbers of a table of zeros, bit for bit numpy's over the whole table ----------------
@pytest.mark.parametrize("n", [1, 7, 8, 127, 128, 129, 1000, 100_003])
def test_psum_at_sums_a_sparse_table_as_numpy_sums_the_dense_one(n):
    from tokenomy.agents.numeric import psum_at

    rng = np.random.default_rng(n)
    for k in sorted({0, 1, min(n, 5), min(n, 300)}):
        pos = np.sort(rng.choice(n, size=k, replace=False))
        val = rng.lognormal(3.0, 2.0, size=k)
        dense = np.zeros(n)
        dense[pos] = val
        assert psum_at(pos, val, 0, n) == dense.sum()
