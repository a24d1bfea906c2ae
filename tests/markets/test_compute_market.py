"""Tests of the GPU-hour call auction against independent HiGHS oracles and hand-worked cases."""

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from tokenomy.abm.markets.compute import ComputeClearing, clear_compute_market

BIG = 1e4  # price box of the dual oracle; a bound at +-BIG means "unbounded"
TOL = 1e-7


# ------------------------------------------------------------------------------------------
# oracles (dense matrices, written independently of the implementation)
# ------------------------------------------------------------------------------------------
def primal_oracle(inst):
    """Max surplus via an LP with variables (bid fills, ask fills, flow on every (p, a) pair)."""
    bp, qb, pb, aa, qa, pa, edges = inst
    P, A = edges.shape
    K, J = len(qb), len(qa)
    n = K + J + P * A
    c = np.concatenate([-pb, pa, np.zeros(P * A)])
    a_eq = np.zeros((P + A, n))
    for k in range(K):
        a_eq[bp[k], k] = 1.0
    for j in range(J):
        a_eq[P + aa[j], K + j] = -1.0
    for p in range(P):
        for a in range(A):
            a_eq[p, K + J + p * A + a] = -1.0
            a_eq[P + a, K + J + p * A + a] = 1.0
    ub = np.concatenate([qb, qa, np.where(edges.ravel(), np.inf, 0.0)])
    res = linprog(c, A_eq=a_eq, b_eq=np.zeros(P + A), bounds=list(zip(np.zeros(n), ub, strict=True)), method="highs")
    assert res.status == 0
    return -res.fun, -res.eqlin.marginals


def dual_bounds_oracle(inst, opt):
    """Componentwise min and max of the optimal (provider, AIDC) prices, from the dual LP.

    Dual: min sum qb*u + sum qa*v  s.t. pi_p + u_k >= pb_k, -rho_a + v_j >= -pa_j,
    rho_a - pi_p >= 0 on edges, u, v >= 0. The optimal face is a lattice, so minimising
    (maximising) the sum of prices over it gives its least (greatest) element.
    """
    bp, qb, pb, aa, qa, pa, edges = inst
    P, A = edges.shape
    K, J = len(qb), len(qa)
    n = P + A + K + J
    rows, rhs = [], []
    for k in range(K):
        r = np.zeros(n)
        r[bp[k]] = -1.0
        r[P + A + k] = -1.0
        rows.append(r)
        rhs.append(-pb[k])
    for j in range(J):
        r = np.zeros(n)
        r[P + aa[j]] = 1.0
        r[P + A + K + j] = -1.0
        rows.append(r)
        rhs.append(pa[j])
    for p, a in zip(*np.nonzero(edges), strict=True):
        r = np.zeros(n)
        r[p] = 1.0
        r[P + a] = -1.0
        rows.append(r)
        rhs.append(0.0)
    r = np.zeros(n)
    r[P + A : P + A + K] = qb
    r[P + A + K :] = qa
    rows.append(r)
    rhs.append(opt + 1e-9 * (1 + abs(opt)))
    bounds = [(-BIG, BIG)] * (P + A) + [(0, None)] * (K + J)
    out = []
    for sign in (1.0, -1.0):
        c = np.zeros(n)
        c[: P + A] = sign
        res = linprog(
            c,
            A_ub=np.array(rows),
            b_ub=np.array(rhs),
            bounds=bounds,
            method="highs",
            options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
        )
        assert res.status == 0, res.message
        out.append(res.x[: P + A])
    return out[0], out[1]


def components(edges):
    P, A = edges.shape
    adj = np.zeros((P + A, P + A))
    adj[:P, P:] = edges
    return connected_components(adj, directed=False)[1]


def expected_lp_prices(inst, lo, hi):
    """Lattice midpoint with unbounded sides clipped to the component's step-price box."""
    bp, qb, pb, aa, qa, pa, edges = inst
    P, A = edges.shape
    lab = components(edges)
    exp = np.full(P + A, np.nan)
    for c in np.unique(lab):
        prices = np.concatenate([pb[(lab[bp] == c) & (qb > 0)], pa[(lab[P + aa] == c) & (qa > 0)]])
        if prices.size == 0:
            continue
        nodes = lab == c
        l = np.where(lo[nodes] <= -BIG + 1e-3, prices.min(), lo[nodes])
        h = np.where(hi[nodes] >= BIG - 1e-3, prices.max(), hi[nodes])
        exp[nodes] = 0.5 * (l + h)
    return exp


# ------------------------------------------------------------------------------------------
# checks
# ------------------------------------------------------------------------------------------
def check_feasible(inst, r: ComputeClearing):
    bp, qb, pb, aa, qa, pa, edges = inst
    P, A = edges.shape
    assert r.bid_filled_gpu_hours.shape == qb.shape and r.ask_filled_gpu_hours.shape == qa.shape
    assert r.flow_gpu_hours.shape == (P, A)
    assert np.all(r.bid_filled_gpu_hours >= -TOL) and np.all(r.bid_filled_gpu_hours <= qb + TOL)
    assert np.all(r.ask_filled_gpu_hours >= -TOL) and np.all(r.ask_filled_gpu_hours <= qa + TOL)
    assert np.all(r.flow_gpu_hours >= -TOL)
    assert np.all(r.flow_gpu_hours[~edges] == 0.0)
    x = np.bincount(bp, weights=r.bid_filled_gpu_hours, minlength=P)
    y = np.bincount(aa, weights=r.ask_filled_gpu_hours, minlength=A)
    np.testing.assert_allclose(r.flow_gpu_hours.sum(axis=1), x, atol=1e-7)
    np.testing.assert_allclose(r.flow_gpu_hours.sum(axis=0), y, atol=1e-7)
    surplus = pb @ r.bid_filled_gpu_hours - pa @ r.ask_filled_gpu_hours
    assert r.surplus_cny == pytest.approx(surplus, abs=1e-7)


def check_certificate(inst, r: ComputeClearing):
    """The prices are an optimal dual for the returned allocation (complementary slackness)."""
    bp, qb, pb, aa, qa, pa, edges = inst
    pp, pr = r.provider_price, r.aidc_price
    lab = components(edges)
    P = len(pp)
    has_step = np.zeros(lab.max() + 1 if lab.size else 0, bool)
    has_step[lab[bp[qb > 0]]] = True
    has_step[lab[P + aa[qa > 0]]] = True
    # NaN exactly in the components without a positive step
    np.testing.assert_array_equal(np.isnan(np.concatenate([pp, pr])), ~has_step[lab])
    tol = 1e-6
    fb, fa = r.bid_filled_gpu_hours, r.ask_filled_gpu_hours
    for k in np.flatnonzero(qb > 0):
        if fb[k] > TOL:
            assert pb[k] >= pp[bp[k]] - tol
        if fb[k] < qb[k] - TOL:
            assert pb[k] <= pp[bp[k]] + tol
    for j in np.flatnonzero(qa > 0):
        if fa[j] > TOL:
            assert pa[j] <= pr[aa[j]] + tol
        if fa[j] < qa[j] - TOL:
            assert pa[j] >= pr[aa[j]] - tol
    for p, a in zip(*np.nonzero(edges), strict=True):
        if np.isnan(pp[p]):
            assert np.isnan(pr[a]) and r.flow_gpu_hours[p, a] == 0.0
            continue
        assert pp[p] <= pr[a] + tol
        if r.flow_gpu_hours[p, a] > TOL:
            assert pp[p] == pytest.approx(pr[a], abs=tol)


# ------------------------------------------------------------------------------------------
# random instances
# ------------------------------------------------------------------------------------------
MODES = [
    "complete",
    "blocks",
    "sparse",
    "isolated",
    "empty_bids",
    "empty_asks",
    "zeros",
    "ties",
    "above",
    "below",
    "nondegenerate",
]


def random_instance(rng, mode):
    P, A = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    K, J = int(rng.integers(1, 10)), int(rng.integers(1, 10))
    if mode == "empty_bids":
        K = 0
    if mode == "empty_asks":
        J = 0
    bp, aa = rng.integers(0, P, K), rng.integers(0, A, J)
    qb, qa = rng.uniform(0.5, 5.0, K), rng.uniform(0.5, 5.0, J)
    pb, pa = rng.uniform(1.0, 10.0, K), rng.uniform(1.0, 10.0, J)
    if mode == "complete" or mode == "nondegenerate":
        edges = np.ones((P, A), bool)
    elif mode == "blocks":  # complete within each block of a random partition: multi-pool fast path
        gp, ga = rng.integers(0, 3, P), rng.integers(0, 3, A)
        edges = gp[:, None] == ga[None, :]
    elif mode == "isolated":
        edges = rng.random((P, A)) < 0.6
        edges[rng.integers(0, P)] = False
        edges[:, rng.integers(0, A)] = False
    else:
        edges = rng.random((P, A)) < rng.uniform(0.1, 0.8)
    if mode in ("zeros", "sparse"):
        qb[rng.random(K) < 0.3] = 0.0
        qa[rng.random(J) < 0.3] = 0.0
    if mode == "ties":
        pb, pa = rng.choice([2.0, 4.0, 6.0], K), rng.choice([2.0, 4.0, 6.0], J)
        qb, qa = rng.choice([1.0, 2.0], K), rng.choice([1.0, 2.0], J)
    if mode == "above":
        pb, pa = rng.uniform(6.0, 10.0, K), rng.uniform(1.0, 5.0, J)
    if mode == "below":
        pb, pa = rng.uniform(1.0, 5.0, K), rng.uniform(6.0, 10.0, J)
    if mode in ("zeros", "blocks") and rng.random() < 0.3:
        edges = np.ones((P, A), bool)
    return bp, qb, pb, aa, qa, pa, edges


CASES = [(mode, seed) for mode in MODES for seed in range(20)]


@pytest.mark.parametrize(("mode", "seed"), CASES)
def test_random_against_lp_oracle(mode, seed):
    rng = np.random.default_rng([seed, MODES.index(mode)])
    inst = random_instance(rng, mode)
    opt, oracle_dual = primal_oracle(inst)
    lo, hi = dual_bounds_oracle(inst, opt)
    P = inst[-1].shape[0]
    fast = clear_compute_market(*inst)
    lp = clear_compute_market(*inst, force_lp=True)
    assert lp.used_lp
    lab = components(inst[-1])
    complete = all(inst[-1][np.ix_(lab[:P] == c, lab[P:] == c)].all() for c in np.unique(lab))
    assert fast.used_lp == (not complete)
    exp = expected_lp_prices(inst, lo, hi)
    unique = np.abs(hi - lo) < 1e-6
    for r in (fast, lp):
        check_feasible(inst, r)
        assert r.surplus_cny == pytest.approx(opt, abs=1e-6, rel=1e-9)
        check_certificate(inst, r)
        prices = np.concatenate([r.provider_price, r.aidc_price])
        ok = ~np.isnan(prices)
        # every price lies in the oracle's set of optimal duals
        assert np.all(prices[ok] >= lo[ok] - 1e-5) and np.all(prices[ok] <= hi[ok] + 1e-5)
        # where the optimal dual is unique, it is the oracle's (and HiGHS' own dual)
        np.testing.assert_allclose(prices[unique & ok], lo[unique & ok], atol=1e-5)
        np.testing.assert_allclose(prices[unique & ok], oracle_dual[unique & ok], atol=1e-5)
    # the LP path uses the lattice-midpoint convention exactly
    np.testing.assert_allclose(np.concatenate([lp.provider_price, lp.aidc_price]), exp, atol=1e-5)
    if not fast.used_lp:
        # uniform price per component; it is the lattice midpoint at every trading node
        prices = np.concatenate([fast.provider_price, fast.aidc_price])
        for c in np.unique(lab):
            assert np.unique(prices[lab == c]).size == 1
        trading = np.concatenate([fast.flow_gpu_hours.sum(1), fast.flow_gpu_hours.sum(0)]) > TOL
        np.testing.assert_allclose(prices[trading], exp[trading], atol=1e-5)


def test_nondegenerate_prices_unique_and_equal():
    """Continuous random prices on a complete graph: a marginal step pins one unique price."""
    rng = np.random.default_rng(7)
    n_unique = 0
    for _ in range(30):
        P, A = rng.integers(1, 4, 2)
        bp, aa = np.repeat(np.arange(P), 3), np.repeat(np.arange(A), 3)
        inst = (
            bp,
            rng.uniform(0.5, 5, bp.size),
            rng.uniform(4, 10, bp.size),
            aa,
            rng.uniform(0.5, 5, aa.size),
            rng.uniform(1, 7, aa.size),
            np.ones((P, A), bool),
        )
        opt, _ = primal_oracle(inst)
        lo, hi = dual_bounds_oracle(inst, opt)
        r = clear_compute_market(*inst)
        if np.all(np.abs(hi - lo) < 1e-6):
            n_unique += 1
            np.testing.assert_allclose(r.provider_price, lo[: len(r.provider_price)], atol=1e-6)
            np.testing.assert_allclose(r.aidc_price, lo[len(r.provider_price) :], atol=1e-6)
    assert n_unique >= 10


# ------------------------------------------------------------------------------------------
# hand-worked examples
# ------------------------------------------------------------------------------------------
def one_pool(bids, asks):
    """bids/asks: lists of (quantity, price), one provider and one AIDC."""
    qb, pb = np.array(bids, float).reshape(-1, 2).T
    qa, pa = np.array(asks, float).reshape(-1, 2).T
    return np.zeros(len(qb), int), qb, pb, np.zeros(len(qa), int), qa, pa, np.ones((1, 1), bool)


@pytest.mark.parametrize("force_lp", [False, True])
def test_two_bids_two_asks_crossing(force_lp):
    # bids 10 @ 100, 10 @ 80; asks 10 @ 60, 10 @ 90. Only the first pair crosses: 10 traded.
    # Clearing interval: [max(accepted ask 60, rejected bid 80), min(accepted bid 100, rejected ask 90)]
    # = [80, 90] -> midpoint 85. Surplus 10 * (100 - 60) = 400.
    r = clear_compute_market(*one_pool([(10, 100), (10, 80)], [(10, 60), (10, 90)]), force_lp=force_lp)
    np.testing.assert_allclose(r.bid_filled_gpu_hours, [10, 0], atol=1e-9)
    np.testing.assert_allclose(r.ask_filled_gpu_hours, [10, 0], atol=1e-9)
    np.testing.assert_allclose(r.flow_gpu_hours, [[10]], atol=1e-9)
    assert r.provider_price[0] == pytest.approx(85) and r.aidc_price[0] == pytest.approx(85)
    assert r.surplus_cny == pytest.approx(400)
    assert r.used_lp == force_lp


@pytest.mark.parametrize("force_lp", [False, True])
def test_partial_ask_pins_price(force_lp):
    # bid 10 @ 100; asks 4 @ 50, 10 @ 70: 4 + 6 traded, the 70 ask is marginal -> price 70.
    # surplus = 1000 - 200 - 420 = 380
    r = clear_compute_market(*one_pool([(10, 100)], [(4, 50), (10, 70)]), force_lp=force_lp)
    np.testing.assert_allclose(r.ask_filled_gpu_hours, [4, 6], atol=1e-9)
    assert r.provider_price[0] == pytest.approx(70)
    assert r.surplus_cny == pytest.approx(380)


@pytest.mark.parametrize("force_lp", [False, True])
def test_no_trade_and_one_sided(force_lp):
    r = clear_compute_market(*one_pool([(5, 40)], [(5, 60)]), force_lp=force_lp)
    assert r.surplus_cny == 0 and r.provider_price[0] == pytest.approx(50)
    r = clear_compute_market(*one_pool([(5, 40), (3, 45)], []), force_lp=force_lp)
    assert r.provider_price[0] == pytest.approx(45) and r.aidc_price[0] == pytest.approx(45)
    r = clear_compute_market(*one_pool([], [(5, 60), (1, 55)]), force_lp=force_lp)
    assert r.aidc_price[0] == pytest.approx(55)
    r = clear_compute_market(*one_pool([], []), force_lp=force_lp)
    assert np.isnan(r.provider_price[0]) and np.isnan(r.aidc_price[0])
    # zero-quantity steps do not count as bids / asks
    r = clear_compute_market(*one_pool([(0, 99)], [(2, 60)]), force_lp=force_lp)
    assert r.aidc_price[0] == pytest.approx(60) and r.bid_filled_gpu_hours[0] == 0


def test_tie_is_shared_pro_rata():
    # two providers bid 10 @ 100 each, one AIDC asks 10 @ 50: each gets 5; the partially filled bids
    # pin the price at 100.
    edges = np.ones((2, 1), bool)
    r = clear_compute_market([0, 1], [10, 10], [100, 100], [0], [10], [50], edges)
    np.testing.assert_allclose(r.bid_filled_gpu_hours, [5, 5])
    np.testing.assert_allclose(r.flow_gpu_hours, [[5], [5]])
    np.testing.assert_allclose(r.provider_price, [100, 100])


@pytest.mark.parametrize("force_lp", [False, True])
def test_all_bids_above_all_asks(force_lp):
    # everything trades: interval [max ask 4, min bid 7] -> 5.5
    r = clear_compute_market(*one_pool([(2, 9), (3, 7)], [(1, 2), (4, 4)]), force_lp=force_lp)
    np.testing.assert_allclose(r.bid_filled_gpu_hours, [2, 3])
    np.testing.assert_allclose(r.ask_filled_gpu_hours, [1, 4])
    assert r.provider_price[0] == pytest.approx(5.5)
    assert r.surplus_cny == pytest.approx(18 + 21 - 2 - 16)


def test_connected_component_is_not_one_price():
    # p0 - a0, p1 - a0, p1 - a1 (no p0 - a1): p0 bids 10 @ 100, p1 10 @ 60; a0 asks 10 @ 50, a1 10 @ 55.
    # Optimum: a0 -> p0, a1 -> p1 (surplus 500 + 50). Duals: pi1 = rho1 in [55, 60];
    # pi0 = rho0 in [max(50, pi1), 100]. Least element (55, 55), greatest (100, 60): midpoint 77.5 / 57.5.
    edges = np.array([[True, False], [True, True]])
    r = clear_compute_market([0, 1], [10, 10], [100, 60], [0, 1], [10, 10], [50, 55], edges)
    assert r.used_lp
    np.testing.assert_allclose(r.flow_gpu_hours, [[10, 0], [0, 10]], atol=1e-9)
    np.testing.assert_allclose(r.provider_price, [77.5, 57.5])
    np.testing.assert_allclose(r.aidc_price, [77.5, 57.5])
    assert r.surplus_cny == pytest.approx(550)


def test_hall_condition_limits_trade():
    # Two providers both only connected to a0 (capacity 5); a1 (cheap, 10) only reaches p2 who bids nothing.
    edges = np.array([[True, False], [True, False], [False, True]])
    r = clear_compute_market([0, 1], [5, 5], [100, 90], [0, 1], [5, 10], [10, 1], edges)
    assert r.used_lp is False  # components {p0, p1, a0} and {p2, a1} are complete
    np.testing.assert_allclose(r.bid_filled_gpu_hours, [5, 0])
    # pool 1: interval [max(10, rejected bid 90), min(100, -)] = [90, 100] -> 95; pool 2: only asks -> 1
    np.testing.assert_allclose(r.provider_price, [95, 95, 1])
    np.testing.assert_allclose(r.aidc_price, [95, 1])


def test_empty_everything_and_validation():
    r = clear_compute_market([], [], [], [], [], [], np.zeros((0, 0), bool))
    assert r.surplus_cny == 0 and r.flow_gpu_hours.shape == (0, 0)
    r = clear_compute_market([], [], [], [], [], [], np.ones((2, 3), bool))
    assert np.all(np.isnan(r.provider_price)) and np.all(np.isnan(r.aidc_price))
    with pytest.raises(ValueError):
        clear_compute_market([2], [1], [1], [0], [1], [1], np.ones((2, 1), bool))
    with pytest.raises(ValueError):
        clear_compute_market([0], [-1], [1], [0], [1], [1], np.ones((1, 1), bool))


def test_validation_messages():
    one = np.ones((1, 1), bool)
    cases = [
        (([0, 0], [1], [1], [0], [1], [1], one), "same length"),
        (([0], [1], [1], [0], [1], [1, 2], one), "same length"),
        (([-1], [1], [1], [0], [1], [1], one), "bid_provider out of range"),
        (([0], [1], [1], [1], [1], [1], one), "ask_aidc out of range"),
        (([0], [1], [1], [0], [-1], [1], one), "quantities must be >= 0"),
        (([0], [1], [1], [0], [1], [1], np.ones(1, bool)), "edges must be a"),
    ]
    for args, msg in cases:
        for force_lp in (False, True):
            with pytest.raises(ValueError, match=msg):
                clear_compute_market(*args, force_lp=force_lp)


def test_wide_pool_against_oracle():
    """A pool of 150 AIDCs (one ask each) and 3 providers: long price ladders, many ties."""
    rng = np.random.default_rng(11)
    P, A = 3, 150
    bp, aa = np.repeat(np.arange(P), 3), np.arange(A)
    inst = (
        bp,
        rng.uniform(20, 60, bp.size),
        rng.choice([4.0, 6.0, 8.0], bp.size),
        aa,
        rng.uniform(0.5, 2.0, A),
        rng.choice([3.0, 5.0, 6.0, 7.0], A),
        np.ones((P, A), bool),
    )
    opt, _ = primal_oracle(inst)
    lo, hi = dual_bounds_oracle(inst, opt)
    r = clear_compute_market(*inst)
    assert not r.used_lp and 0 < r.surplus_cny == pytest.approx(opt, rel=1e-9)
    check_feasible(inst, r)
    check_certificate(inst, r)
    prices = np.concatenate([r.provider_price, r.aidc_price])
    assert np.all(prices >= lo - 1e-6) and np.all(prices <= hi + 1e-6)


def test_step_lost_in_float_rounding():
    # 1 GPU-hour behind 1e20 does not change the cumulative volume in float: its price level has
    # zero measurable volume. It is left unfilled (not 0/0 = NaN); the result stays feasible.
    r = clear_compute_market(*one_pool([(1e20, 10), (1.0, 9)], [(2e20, 1)]))
    assert np.all(np.isfinite(r.bid_filled_gpu_hours)) and np.isfinite(r.provider_price[0])
    np.testing.assert_allclose(r.bid_filled_gpu_hours, [1e20, 0.0])
    np.testing.assert_allclose(r.ask_filled_gpu_hours, [1e20])
    assert r.surplus_cny == pytest.approx(9e20)


def test_result_is_frozen():
    r = clear_compute_market(*one_pool([(1, 2)], [(1, 1)]))
    with pytest.raises(AttributeError):
        r.surplus_cny = 0.0
