"""Tests of the hourly GPU-capacity call auction against independent HiGHS oracles and hand-worked cases.

An instance is (bid_buyer, bid_hour, bid_gpu_hours, bid_price, ask_aidc, ask_hour, ask_gpu_hours,
ask_price, edges, n_hours). The oracles solve the whole day as ONE dense LP over (bid fills, ask
fills, flow f[b, a, h] for every buyer, AIDC and hour) and its dual, so they check the hourly
decomposition too.
"""

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from tokenomy.abm.markets.compute import HourlyComputeClearing, clear_compute_market, clear_hourly_compute_market

BIG = 1e4  # price box of the dual oracle; a bound at +-BIG means "unbounded"
TOL = 1e-7  # relative to the instance's largest quantity


# ------------------------------------------------------------------------------------------
# oracles (dense matrices, written independently of the implementation)
# ------------------------------------------------------------------------------------------
def qscale(inst):
    """Largest quantity of the instance (1 if none): the oracles solve in units of it.

    Scaling all quantities by one factor scales the surplus by it and leaves the prices unchanged;
    solving at unit scale keeps HiGHS' absolute tolerances meaningful for tiny and huge markets.
    """
    qb, qa = inst[2], inst[6]
    s = max(qb.max(initial=0.0), qa.max(initial=0.0))
    return s if s > 0 else 1.0


def primal_oracle(inst):
    """Max surplus over (bid fills, ask fills, f[b, a, h]); flows off the edges are bounded to 0."""
    bb, bh, qb, pb, aa, ah, qa, pa, edges, H = inst
    B, A = edges.shape
    K, J = len(qb), len(qa)
    s = qscale(inst)
    n = K + J + B * A * H

    def fvar(b, a, h):
        return K + J + (b * A + a) * H + h

    c = np.concatenate([-pb, pa, np.zeros(B * A * H)])
    a_eq = np.zeros((B * H + A * H, n))  # rows: buyer-hour b * H + h, then AIDC-hour B * H + a * H + h
    for k in range(K):
        a_eq[bb[k] * H + bh[k], k] = 1.0
    for j in range(J):
        a_eq[B * H + aa[j] * H + ah[j], K + j] = -1.0
    for b in range(B):
        for a in range(A):
            for h in range(H):
                a_eq[b * H + h, fvar(b, a, h)] = -1.0
                a_eq[B * H + a * H + h, fvar(b, a, h)] = 1.0
    ub = np.concatenate([qb / s, qa / s, np.repeat(np.where(edges.ravel(), np.inf, 0.0), H)])
    if n == 0:
        return 0.0
    res = linprog(
        c, A_eq=a_eq, b_eq=np.zeros(a_eq.shape[0]), bounds=list(zip(np.zeros(n), ub, strict=True)), method="highs"
    )
    assert res.status == 0, res.message
    return -res.fun * s


def dual_bounds_oracle(inst, opt):
    """Componentwise min and max of the optimal prices pi[b, h], rho[a, h], from the dual LP.

    Dual: min sum qb*u + sum qa*v  s.t. pi[b_k, h_k] + u_k >= pb_k, -rho[a_j, h_j] + v_j >= -pa_j,
    rho[a, h] - pi[b, h] >= 0 on every edge in every hour, u, v >= 0. The optimal face is a
    lattice, so minimising (maximising) the sum of prices over it gives its least (greatest)
    element. Returns (lo, hi), each (B + A, H): buyers first.
    """
    bb, bh, qb, pb, aa, ah, qa, pa, edges, H = inst
    B, A = edges.shape
    K, J = len(qb), len(qa)
    s = qscale(inst)
    N = (B + A) * H
    n = N + K + J
    rows, rhs = [], []
    for k in range(K):
        r = np.zeros(n)
        r[bb[k] * H + bh[k]] = -1.0
        r[N + k] = -1.0
        rows.append(r)
        rhs.append(-pb[k])
    for j in range(J):
        r = np.zeros(n)
        r[(B + aa[j]) * H + ah[j]] = 1.0
        r[N + K + j] = -1.0
        rows.append(r)
        rhs.append(pa[j])
    for b, a in zip(*np.nonzero(edges), strict=True):
        for h in range(H):
            r = np.zeros(n)
            r[b * H + h] = 1.0
            r[(B + a) * H + h] = -1.0
            rows.append(r)
            rhs.append(0.0)
    r = np.zeros(n)
    r[N : N + K] = qb / s
    r[N + K :] = qa / s
    bounds = [(-BIG, BIG)] * N + [(0, None)] * (K + J)
    opts = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
    # the dual optimum from the dual LP itself (consistent with its own rounding); it equals the
    # primal optimum by strong duality
    res = linprog(
        r, A_ub=np.array(rows).reshape(-1, n), b_ub=np.array(rhs), bounds=bounds, method="highs", options=opts
    )
    assert res.status == 0, res.message
    assert res.fun * s == pytest.approx(opt, rel=1e-7, abs=1e-9 * s)
    # a tight slack: the lattice bounds move by about slack / (smallest marginal step quantity)
    rows.append(r)
    rhs.append(res.fun + 1e-11 * (1 + abs(res.fun)))
    out = []
    for sign in (1.0, -1.0):
        c = np.zeros(n)
        c[:N] = sign
        res = linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=bounds, method="highs", options=opts)
        assert res.status == 0, res.message
        out.append(res.x[:N].reshape(B + A, H))
    return out[0], out[1]


def components(edges):
    """Component label of every buyer, then every AIDC (scipy, independent of the implementation)."""
    B, A = edges.shape
    adj = np.zeros((B + A, B + A))
    adj[:B, B:] = edges
    return connected_components(adj, directed=False)[1]


def complete_per_component(edges):
    B = edges.shape[0]
    lab = components(edges)
    return all(edges[np.ix_(lab[:B] == c, lab[B:] == c)].all() for c in np.unique(lab))


def step_boxes(inst):
    """(has a positive step, lowest, highest positive step price) per (component, hour)."""
    bb, bh, qb, pb, aa, ah, qa, pa, edges, H = inst
    B = edges.shape[0]
    lab = components(edges)
    C = lab.max() + 1 if lab.size else 0
    lo, hi = np.full((C, H), np.inf), np.full((C, H), -np.inf)
    for c_of, h_of, q, p in ((lab[bb], bh, qb, pb), (lab[B + aa], ah, qa, pa)):
        for c, h, qq, pp in zip(c_of, h_of, q, p, strict=True):
            if qq > 0:
                lo[c, h], hi[c, h] = min(lo[c, h], pp), max(hi[c, h], pp)
    return lab, np.isfinite(lo), lo, hi


def expected_lp_prices(inst, lo, hi):
    """Lattice midpoint with unbounded sides clipped to the component-hour's step-price box."""
    lab, has, box_lo, box_hi = step_boxes(inst)
    exp = np.full(lo.shape, np.nan)
    for v in range(lo.shape[0]):
        for h in range(lo.shape[1]):
            c = lab[v]
            if has[c, h]:
                l = box_lo[c, h] if lo[v, h] <= -BIG + 1e-3 else lo[v, h]
                u = box_hi[c, h] if hi[v, h] >= BIG - 1e-3 else hi[v, h]
                exp[v, h] = 0.5 * (l + u)
    return exp


# ------------------------------------------------------------------------------------------
# checks
# ------------------------------------------------------------------------------------------
def prices_of(r: HourlyComputeClearing):
    return np.concatenate([r.buyer_price, r.aidc_price])  # (B + A, H)


def check_feasible(inst, r: HourlyComputeClearing):
    bb, bh, qb, pb, aa, ah, qa, pa, edges, H = inst
    B, A = edges.shape
    tol = TOL * qscale(inst)
    fb, fa, f = r.bid_filled_gpu_hours, r.ask_filled_gpu_hours, r.flow_gpu_hours
    assert fb.shape == qb.shape and fa.shape == qa.shape
    assert f.shape == (B, A, H) and r.buyer_price.shape == (B, H) and r.aidc_price.shape == (A, H)
    assert np.all(np.isfinite(fb)) and np.all(np.isfinite(fa)) and np.all(np.isfinite(f))
    assert np.all(fb >= -tol) and np.all(fb <= qb + tol)
    assert np.all(fa >= -tol) and np.all(fa <= qa + tol)
    assert np.all(f >= -tol)
    assert np.all(f[~edges] == 0.0)  # flows only on edges (in every hour)
    # balance per node-hour: a step of hour h is matched by flows of hour h only
    x, y = np.zeros((B, H)), np.zeros((A, H))
    np.add.at(x, (bb, bh), fb)
    np.add.at(y, (aa, ah), fa)
    np.testing.assert_allclose(f.sum(axis=1), x, atol=tol * max(1, len(qb)))
    np.testing.assert_allclose(f.sum(axis=0), y, atol=tol * max(1, len(qa)))
    surplus = pb @ fb - pa @ fa
    assert r.surplus_cny == pytest.approx(surplus, rel=1e-9, abs=tol)


def check_certificate(inst, r: HourlyComputeClearing):
    """The prices are an optimal dual for the returned allocation (complementary slackness)."""
    bb, bh, qb, pb, aa, ah, qa, pa, edges, H = inst
    pp, pr = r.buyer_price, r.aidc_price
    lab, has, _, _ = step_boxes(inst)
    # NaN exactly in the component-hours without a positive step
    np.testing.assert_array_equal(np.isnan(prices_of(r)), ~has[lab])
    tol, qtol = 1e-6, TOL * qscale(inst)
    fb, fa = r.bid_filled_gpu_hours, r.ask_filled_gpu_hours
    for k in np.flatnonzero(qb > 0):
        if fb[k] > qtol:  # accepted bid: its price >= its node-hour price
            assert pb[k] >= pp[bb[k], bh[k]] - tol
        if fb[k] < qb[k] - qtol:  # rejected (partly): its price <= the node-hour price
            assert pb[k] <= pp[bb[k], bh[k]] + tol
    for j in np.flatnonzero(qa > 0):
        if fa[j] > qtol:
            assert pa[j] <= pr[aa[j], ah[j]] + tol
        if fa[j] < qa[j] - qtol:
            assert pa[j] >= pr[aa[j], ah[j]] - tol
    for b, a in zip(*np.nonzero(edges), strict=True):
        for h in range(H):
            if np.isnan(pp[b, h]):
                assert np.isnan(pr[a, h]) and r.flow_gpu_hours[b, a, h] == 0.0
                continue
            assert pp[b, h] <= pr[a, h] + tol
            if r.flow_gpu_hours[b, a, h] > qtol:
                assert pp[b, h] == pytest.approx(pr[a, h], abs=tol)


def daily_by_hour(inst, force_lp):
    """Each hour cleared separately with the daily function: (fills, fills, flow, prices, surplus)."""
    bb, bh, qb, pb, aa, ah, qa, pa, edges, H = inst
    B, A = edges.shape
    fb, fa = np.zeros(len(qb)), np.zeros(len(qa))
    flow, prices, surplus = np.zeros((B, A, H)), np.zeros((B + A, H)), 0.0
    for h in range(H):
        mb, ma = bh == h, ah == h
        d = clear_compute_market(bb[mb], qb[mb], pb[mb], aa[ma], qa[ma], pa[ma], edges, force_lp=force_lp)
        fb[mb], fa[ma], flow[:, :, h] = d.bid_filled_gpu_hours, d.ask_filled_gpu_hours, d.flow_gpu_hours
        prices[:, h] = np.concatenate([d.provider_price, d.aidc_price])
        surplus += d.surplus_cny
    return fb, fa, flow, prices, surplus


# ------------------------------------------------------------------------------------------
# random instances
# ------------------------------------------------------------------------------------------
MODES = [
    "complete",
    "blocks",
    "sparse",
    "isolated",
    "empty_hours",
    "zeros",
    "ties",
    "above",
    "below",
    "large",
    "small",
    "wide",
    "one_hour",
    "day",
]


def random_instance(rng, mode):
    B, A = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    H = {"one_hour": 1, "day": 24}.get(mode, int(rng.choice([1, 2, 3, 5, 24], p=[0.15, 0.25, 0.25, 0.2, 0.15])))
    per_hour = 6 if H <= 5 else 2  # mean steps per hour (24-hour days: many hours with few steps)
    K, J = int(rng.integers(0, per_hour * H + 2)), int(rng.integers(0, per_hour * H + 2))
    if mode == "day":
        K, J = int(rng.integers(60, 150)), int(rng.integers(40, 100))
    bb, bh = rng.integers(0, B, K), rng.integers(0, H, K)
    aa, ah = rng.integers(0, A, J), rng.integers(0, H, J)
    qb, qa = rng.uniform(0.5, 5.0, K), rng.uniform(0.5, 5.0, J)
    pb, pa = rng.uniform(1.0, 10.0, K), rng.uniform(1.0, 10.0, J)
    if mode in ("complete", "day", "large", "small", "wide", "empty_hours"):
        edges = np.ones((B, A), bool)
    elif mode == "blocks":  # complete within each block of a random partition: multi-pool fast path
        gp, ga = rng.integers(0, 3, B), rng.integers(0, 3, A)
        edges = gp[:, None] == ga[None, :]
    elif mode == "isolated":  # a buyer and an AIDC without any edge
        edges = rng.random((B, A)) < 0.6
        edges[rng.integers(0, B)] = False
        edges[:, rng.integers(0, A)] = False
    else:
        edges = rng.random((B, A)) < rng.uniform(0.1, 0.9)
    if mode == "empty_hours" and H > 1:  # some hours have no bids, others no asks
        keep_b, keep_a = rng.random(H) < 0.5, rng.random(H) < 0.5
        mb, ma = keep_b[bh], keep_a[ah]
        bb, bh, qb, pb = bb[mb], bh[mb], qb[mb], pb[mb]
        aa, ah, qa, pa = aa[ma], ah[ma], qa[ma], pa[ma]
    if mode in ("zeros", "sparse", "day"):
        qb[rng.random(qb.size) < 0.3] = 0.0
        qa[rng.random(qa.size) < 0.3] = 0.0
    if mode in ("ties", "day", "one_hour"):  # equal prices between bids and asks, equal quantities
        pb, pa = rng.choice([2.0, 4.0, 6.0], qb.size), rng.choice([2.0, 4.0, 6.0], qa.size)
        qb, qa = rng.choice([0.0, 1.0, 2.0], qb.size), rng.choice([0.0, 1.0, 2.0], qa.size)
    if mode == "above":
        pb, pa = rng.uniform(6.0, 10.0, qb.size), rng.uniform(1.0, 5.0, qa.size)
    if mode == "below":
        pb, pa = rng.uniform(1.0, 5.0, qb.size), rng.uniform(6.0, 10.0, qa.size)
    if mode == "large":
        qb, qa = qb * 1e7, qa * 1e7
    if mode == "small":
        qb, qa = qb * 1e-5, qa * 1e-5
    if mode == "wide":  # quantities over six orders of magnitude in one market
        qb, qa = 10.0 ** rng.uniform(-3, 3, qb.size), 10.0 ** rng.uniform(-3, 3, qa.size)
    if mode in ("zeros", "blocks") and rng.random() < 0.3:
        edges = np.ones((B, A), bool)
    return bb, bh, qb, pb, aa, ah, qa, pa, edges, H


CASES = [(mode, seed) for mode in MODES for seed in range(15)]


@pytest.mark.parametrize(("mode", "seed"), CASES)
def test_random_against_lp_oracle(mode, seed):
    rng = np.random.default_rng([seed, MODES.index(mode), 24])
    inst = random_instance(rng, mode)
    *steps, edges, H = inst
    opt = primal_oracle(inst)
    lo, hi = dual_bounds_oracle(inst, opt)
    exp = expected_lp_prices(inst, lo, hi)
    unique = np.abs(hi - lo) < 1e-6
    fast = clear_hourly_compute_market(*steps, edges, H)
    lp = clear_hourly_compute_market(*steps, edges, H, force_lp=True)
    assert lp.used_lp and fast.used_lp == (not complete_per_component(edges))
    scale = qscale(inst)
    for r in (fast, lp):
        check_feasible(inst, r)
        assert r.surplus_cny == pytest.approx(opt, rel=1e-7, abs=1e-9 * scale)
        check_certificate(inst, r)
        prices = prices_of(r)
        ok = ~np.isnan(prices)
        # every price lies in the oracle's lattice of optimal duals
        assert np.all(prices[ok] >= lo[ok] - 1e-5) and np.all(prices[ok] <= hi[ok] + 1e-5)
        np.testing.assert_allclose(prices[unique & ok], lo[unique & ok], atol=1e-5)
    # the LP path uses the lattice-midpoint convention exactly
    np.testing.assert_allclose(prices_of(lp), exp, atol=1e-5)
    # the fast path and the LP path agree on the surplus and on the prices of trading node-hours
    assert fast.surplus_cny == pytest.approx(lp.surplus_cny, rel=1e-7, abs=1e-9 * scale)
    traded = np.concatenate([fast.flow_gpu_hours.sum(1), fast.flow_gpu_hours.sum(0)]) > TOL * scale
    np.testing.assert_allclose(prices_of(fast)[traded], prices_of(lp)[traded], atol=1e-5)
    if not fast.used_lp:
        lab = components(edges)
        for c in np.unique(lab):  # one price per component-hour
            p = prices_of(fast)[lab == c]
            assert np.all((p == p[0]) | (np.isnan(p) & np.isnan(p[0])))
    # each hour on its own with the daily market gives the same prices and surplus
    for r, force_lp in ((fast, False), (lp, True)):
        fb, fa, flow, prices, surplus = daily_by_hour(inst, force_lp)
        assert r.surplus_cny == pytest.approx(surplus, rel=1e-7, abs=1e-9 * scale)
        if not r.used_lp:  # same kernels, same step order: bit-identical
            np.testing.assert_array_equal(prices_of(r), prices)
            np.testing.assert_array_equal(r.bid_filled_gpu_hours, fb)
            np.testing.assert_array_equal(r.ask_filled_gpu_hours, fa)
            np.testing.assert_array_equal(r.flow_gpu_hours, flow)
        else:
            np.testing.assert_allclose(prices_of(r), prices, atol=1e-6)


# ------------------------------------------------------------------------------------------
# hand-worked examples
# ------------------------------------------------------------------------------------------
def flat_asks(A, H, gpu_hours, price):
    """Every AIDC offers ``gpu_hours`` at ``price`` in every hour."""
    return (
        np.repeat(np.arange(A), H),
        np.tile(np.arange(H), A),
        np.full(A * H, float(gpu_hours)),
        np.full(A * H, float(price)),
    )


@pytest.mark.parametrize("force_lp", [False, True])
def test_peak_load_pricing(force_lp):
    # One AIDC offers 100 GPU-hours @ 2 CNY in every hour; one buyer bids 50 @ 10 in hour 20 and
    # 150 @ 10 in hour 21.
    # hour 20: 50 traded; the ask is partly filled (accepted and rejected), which pins the price:
    #   interval [max(marginal accepted ask 2, no rejected bid), min(accepted bid 10, rejected ask 2)]
    #   = [2, 2] -> 2 (idle capacity: the price is the ask).
    # hour 21: 100 traded, capacity binds; the bid is partly filled:
    #   [max(accepted ask 2, rejected bid 10), min(accepted bid 10, no rejected ask)] = [10, 10] -> 10.
    # every other hour: only the ask -> its price, 2. Surplus 50 * 8 + 100 * 8 = 1200.
    H = 24
    r = clear_hourly_compute_market(
        [0, 0], [20, 21], [50, 150], [10, 10], *flat_asks(1, H, 100, 2), np.ones((1, 1), bool), H, force_lp=force_lp
    )
    expected = np.full(H, 2.0)
    expected[21] = 10.0
    np.testing.assert_allclose(r.buyer_price[0], expected)
    np.testing.assert_allclose(r.aidc_price[0], expected)
    np.testing.assert_allclose(r.bid_filled_gpu_hours, [50, 100], atol=1e-9)
    flow = np.zeros(H)
    flow[20], flow[21] = 50, 100
    np.testing.assert_allclose(r.flow_gpu_hours[0, 0], flow, atol=1e-9)
    np.testing.assert_allclose(r.ask_filled_gpu_hours, flow, atol=1e-9)
    assert r.surplus_cny == pytest.approx(1200)
    assert r.used_lp == force_lp


@pytest.mark.parametrize("force_lp", [False, True])
def test_exact_fit_clears_at_midpoint(force_lp):
    # bid 100 @ 10 meets ask 100 @ 2 in hour 5: both fully filled, nothing rejected, so any price in
    # [2, 10] clears; the convention takes the midpoint 6. Hour 0 has the ask alone -> 2.
    H = 6
    r = clear_hourly_compute_market(
        [0], [5], [100], [10], *flat_asks(1, H, 100, 2), np.ones((1, 1), bool), H, force_lp=force_lp
    )
    np.testing.assert_allclose(r.aidc_price[0], [2, 2, 2, 2, 2, 6])
    assert r.surplus_cny == pytest.approx(800)


@pytest.mark.parametrize("force_lp", [False, True])
def test_provider_and_lab_share_two_aidcs(force_lp):
    # hour 0: provider (buyer 0) bids 60 @ 8, lab (buyer 1) bids 60 @ 12; AIDC 0 asks 50 @ 3, AIDC 1 50 @ 5.
    # 100 traded: the lab gets 60, the provider 40 (its bid is marginal, pinning the price at 8:
    # [max(rejected bid 8, accepted ask 5), min(accepted bid 8, -)] = [8, 8]).
    # Fast path flows pro rata: flow[b, a] = X_b * Y_a / 100 = [[20, 20], [30, 30]].
    # Surplus 60 * 12 + 40 * 8 - 50 * 3 - 50 * 5 = 640. Hour 1 has no step: NaN prices.
    edges = np.ones((2, 2), bool)
    r = clear_hourly_compute_market(
        [0, 1], [0, 0], [60, 60], [8, 12], [0, 1], [0, 0], [50, 50], [3, 5], edges, 2, force_lp=force_lp
    )
    np.testing.assert_allclose(r.bid_filled_gpu_hours, [40, 60], atol=1e-9)
    np.testing.assert_allclose(r.buyer_price[:, 0], [8, 8])
    np.testing.assert_allclose(r.aidc_price[:, 0], [8, 8])
    assert np.all(np.isnan(r.buyer_price[:, 1])) and np.all(np.isnan(r.aidc_price[:, 1]))
    np.testing.assert_allclose(r.flow_gpu_hours.sum(axis=(0, 1)), [100, 0], atol=1e-9)
    if not force_lp:
        np.testing.assert_allclose(r.flow_gpu_hours[:, :, 0], [[20, 20], [30, 30]])
    assert r.surplus_cny == pytest.approx(640)


def test_lp_path_maps_hours_back():
    # The daily hand case "connected component is not one price" (prices 77.5 / 57.5) placed in
    # hour 2 of 3, and a cheap ask alone on AIDC 1 in hour 0. Incomplete graph: LP path.
    edges = np.array([[True, False], [True, True]])
    r = clear_hourly_compute_market(
        [0, 1], [2, 2], [10, 10], [100, 60], [0, 1, 1], [2, 2, 0], [10, 10, 7], [50, 55, 3], edges, 3
    )
    assert r.used_lp
    np.testing.assert_allclose(r.flow_gpu_hours[:, :, 2], [[10, 0], [0, 10]], atol=1e-9)
    assert np.all(r.flow_gpu_hours[:, :, :2] == 0)
    np.testing.assert_allclose(r.buyer_price[:, 2], [77.5, 57.5])
    np.testing.assert_allclose(r.aidc_price[:, 2], [77.5, 57.5])
    np.testing.assert_allclose(r.aidc_price[:, 0], [3, 3])  # the only step of hour 0 prices its component
    assert np.all(np.isnan(r.buyer_price[:, 1])) and np.all(np.isnan(r.aidc_price[:, 1]))
    assert r.surplus_cny == pytest.approx(550)


def test_one_hour_equals_daily_market():
    rng = np.random.default_rng(3)
    bp, aa = rng.integers(0, 3, 12), rng.integers(0, 4, 9)
    qb, pb, qa, pa = rng.uniform(1, 5, 12), rng.uniform(1, 10, 12), rng.uniform(1, 5, 9), rng.uniform(1, 10, 9)
    for edges in (np.ones((3, 4), bool), np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1]], bool)):
        d = clear_compute_market(bp, qb, pb, aa, qa, pa, edges)
        r = clear_hourly_compute_market(bp, np.zeros(12, int), qb, pb, aa, np.zeros(9, int), qa, pa, edges, 1)
        assert not r.used_lp and r.surplus_cny == pytest.approx(d.surplus_cny, rel=1e-12)
        np.testing.assert_array_equal(r.flow_gpu_hours[:, :, 0], d.flow_gpu_hours)
        np.testing.assert_array_equal(r.buyer_price[:, 0], d.provider_price)
        np.testing.assert_array_equal(r.aidc_price[:, 0], d.aidc_price)


def test_empty_market():
    r = clear_hourly_compute_market([], [], [], [], [], [], [], [], np.zeros((0, 0), bool), 24)
    assert r.surplus_cny == 0 and r.flow_gpu_hours.shape == (0, 0, 24) and not r.used_lp
    for force_lp in (False, True):
        r = clear_hourly_compute_market([], [], [], [], [], [], [], [], np.ones((2, 3), bool), 4, force_lp=force_lp)
        assert r.flow_gpu_hours.shape == (2, 3, 4) and r.buyer_price.shape == (2, 4) and r.aidc_price.shape == (3, 4)
        assert np.all(np.isnan(r.buyer_price)) and np.all(np.isnan(r.aidc_price)) and r.surplus_cny == 0


def test_validation_messages():
    one = np.ones((1, 1), bool)
    ok = ([0], [0], [1], [1], [0], [0], [1], [1])

    def args(**change):
        a = list(ok)
        for i, v in change.items():
            a[int(i[1:])] = v
        return a

    cases = [
        (args(_0=[0, 0]), one, 2, "same length"),
        (args(_1=[0, 1]), one, 2, "same length"),
        (args(_3=[1, 2]), one, 2, "same length"),
        (args(_5=[]), one, 2, "same length"),
        (args(_7=[1, 2]), one, 2, "same length"),
        (args(_0=[-1]), one, 2, r"bid_buyer out of range 0\.\.B-1"),
        (args(_0=[1]), one, 2, r"bid_buyer out of range 0\.\.B-1"),
        (args(_1=[2]), one, 2, r"bid_hour out of range 0\.\.H-1"),
        (args(_1=[-1]), one, 2, r"bid_hour out of range 0\.\.H-1"),
        (args(_4=[1]), one, 2, r"ask_aidc out of range 0\.\.A-1"),
        (args(_5=[24]), one, 24, r"ask_hour out of range 0\.\.H-1"),
        (args(_2=[-1]), one, 2, "quantities must be >= 0"),
        (args(_6=[-1e-9]), one, 2, "quantities must be >= 0"),
        (ok, np.ones(1, bool), 2, "edges must be a"),
        (ok, one, 0, "n_hours must be >= 1"),
    ]
    for a, edges, H, msg in cases:
        for force_lp in (False, True):
            with pytest.raises(ValueError, match=msg):
                clear_hourly_compute_market(*a, edges, H, force_lp=force_lp)
    # an incomplete graph (LP path) is checked by the same kernel
    with pytest.raises(ValueError, match="bid_hour out of range"):
        clear_hourly_compute_market([0], [5], [1], [1], [0], [0], [1], [1], np.array([[1, 0], [1, 1]], bool), 5)


def test_huge_and_tiny_quantities_in_one_market():
    # 1 GPU-hour behind 1e20 is lost in float rounding (as in the daily market): left unfilled, not NaN.
    r = clear_hourly_compute_market(
        [0, 0, 0],
        [1, 1, 0],
        [1e20, 1.0, 1e-12],
        [10, 9, 5],
        [0, 0],
        [1, 0],
        [2e20, 1e-12],
        [1, 4],
        np.ones((1, 1), bool),
        2,
    )
    np.testing.assert_allclose(r.bid_filled_gpu_hours, [1e20, 0.0, 1e-12])
    assert r.aidc_price[0, 0] == pytest.approx(4.5) and np.isfinite(r.aidc_price[0, 1])
    assert r.surplus_cny == pytest.approx(9e20)


def test_result_is_frozen():
    r = clear_hourly_compute_market([0], [0], [1], [2], [0], [0], [1], [1], np.ones((1, 1), bool), 1)
    with pytest.raises(AttributeError):
        r.surplus_cny = 0.0
