"""Tests of the token market (logit split, rationing, spill-over) against independent oracles."""

import numpy as np
import pytest
from scipy.optimize import linprog

from tokenomy.abm.markets.token import TokenClearing, clear_token_market, logit_shares

ATOL = 1e-9


# ------------------------------------------------------------------------------------------
# oracles
# ------------------------------------------------------------------------------------------
def round1_oracle(demand, share, cap, edges):
    """Straightforward loops: requests, proportional rationing, leftover room, rationed amounts."""
    B, H = demand.shape
    P = cap.shape[0]
    served = np.zeros((B, P, H))
    room = np.zeros((P, H))
    for h in range(H):
        for p in range(P):
            req = [demand[b, h] * share[b, p] if edges[b, p] else 0.0 for b in range(B)]
            total = sum(req)
            frac = 1.0 if total <= cap[p, h] else cap[p, h] / total
            for b in range(B):
                served[b, p, h] = req[b] * frac
            room[p, h] = max(cap[p, h] - total, 0.0)
    rationed = np.zeros((B, H))
    for b in range(B):
        for h in range(H):
            rationed[b, h] = sum(demand[b, h] * share[b, p] - served[b, p, h] for p in range(P) if edges[b, p])
    return served, room, rationed


def spill_oracle(rationed, room, price, edges):
    """Per hour: max total spill (LP 1), then min sum(price * spill) at that total (LP 2).

    All hours are stacked in one dense LP each; the objectives are separable by hour, so the
    stacked optimum is optimal hour by hour.
    """
    B, H = rationed.shape
    P = room.shape[0]
    trip = [
        (b, p, h)
        for h in range(H)
        for b in range(B)
        for p in range(P)
        if edges[b, p] and rationed[b, h] > 0 and room[p, h] > 0
    ]
    if not trip:
        return np.zeros(H), np.zeros(H)
    n = len(trip)
    a_ub = np.zeros((B * H + P * H, n))
    for i, (b, p, h) in enumerate(trip):
        a_ub[b * H + h, i] = 1.0
        a_ub[B * H + p * H + h, i] = 1.0
    b_ub = np.concatenate([rationed.ravel(), room.ravel()])
    res = linprog(-np.ones(n), A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    assert res.status == 0
    hour = np.array([t[2] for t in trip])
    flow = np.bincount(hour, weights=res.x, minlength=H)
    # second stage: per-hour total >= max flow (minus a tiny slack), minimise cost
    a_h = np.zeros((H, n))
    a_h[hour, np.arange(n)] = -1.0
    cost = np.array([price[t[1]] for t in trip])
    res2 = linprog(
        cost, A_ub=np.vstack([a_ub, a_h]), b_ub=np.concatenate([b_ub, -(flow - 1e-9)]), bounds=(0, None), method="highs"
    )
    assert res2.status == 0
    return flow, np.bincount(hour, weights=cost * res2.x, minlength=H)


# ------------------------------------------------------------------------------------------
# checks
# ------------------------------------------------------------------------------------------
def check_clearing(r: TokenClearing, demand, share, cap, price, edges):
    B, H = demand.shape
    P = cap.shape[0]
    served = r.served_mtok
    assert served.shape == (B, P, H)
    assert np.all(served >= -ATOL)
    assert np.all(served[~edges] == 0.0)
    scale = 1.0 + float(demand.max(initial=0.0))
    # conservation: served + unserved == demand for every buyer-hour
    np.testing.assert_allclose(served.sum(axis=1) + r.unserved_mtok, demand, rtol=0, atol=1e-12 * scale)
    assert np.all(r.unserved_mtok >= 0.0)
    assert np.all(r.unserved_mtok[~edges.any(axis=1)] == demand[~edges.any(axis=1)])
    # capacity and aggregates
    assert np.all(r.served_by_provider_mtok <= cap + 1e-9 * scale)
    np.testing.assert_allclose(r.served_by_provider_mtok, served.sum(axis=0), atol=1e-12 * scale)
    np.testing.assert_allclose(r.served_pair_mtok, served.sum(axis=2), atol=1e-11 * scale)
    np.testing.assert_allclose(r.revenue_cny, price * served.sum(axis=(0, 2)), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(r.spend_cny, (served * price[None, :, None]).sum(axis=(1, 2)), rtol=1e-12, atol=1e-9)
    assert r.revenue_cny.sum() == pytest.approx(r.spend_cny.sum())
    # round 1 is exactly the proportional rationing formula; the rest is the spill-over
    s1, room, rationed = round1_oracle(demand, share, cap, edges)
    np.testing.assert_allclose(r.rationed_mtok, rationed, atol=1e-12 * scale)
    spill = served - s1
    np.testing.assert_allclose(r.spill_mtok, spill, atol=1e-11 * scale)
    assert np.all(spill >= -1e-12 * scale)
    assert np.all(np.abs(spill[:, room == 0.0]) <= 1e-12 * scale)  # no room, no spill (incl. rationers)
    np.testing.assert_allclose(spill.sum(axis=1), r.spilled_mtok, atol=1e-12 * scale)
    assert np.all(r.spilled_mtok <= rationed + 1e-9 * scale)
    assert np.all(spill.sum(axis=0) <= room + 1e-9 * scale)
    # spill-over is a min-cost maximum flow, hour by hour
    flow, cost = spill_oracle(rationed, room, price, edges)
    np.testing.assert_allclose(r.spilled_mtok.sum(axis=0), flow, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose((spill * price[None, :, None]).sum(axis=(0, 1)), cost, rtol=1e-7, atol=1e-6)


# ------------------------------------------------------------------------------------------
# random instances
# ------------------------------------------------------------------------------------------
MODES = ["complete", "sparse", "isolated", "zero_demand", "zero_capacity", "ties", "tight", "loose"]


def random_instance(rng, mode):
    B, P, H = int(rng.integers(1, 7)), int(rng.integers(1, 6)), int(rng.integers(1, 7))
    price = rng.uniform(0.5, 50.0, P) if mode != "ties" else rng.choice([1.0, 2.0, 4.0], P)
    if mode in ("complete", "ties", "tight", "loose", "zero_demand", "zero_capacity"):
        edges = np.ones((B, P), bool)
        if mode in ("tight", "zero_capacity") and rng.random() < 0.5:
            edges = rng.random((B, P)) < 0.6
    else:
        edges = rng.random((B, P)) < rng.uniform(0.2, 0.8)
    if mode == "isolated":
        edges[rng.integers(0, B)] = False
        edges[:, rng.integers(0, P)] = False
    demand = rng.uniform(0.0, 10.0, (B, H)) * (rng.random((B, H)) < 0.8)
    if mode == "zero_demand":
        demand[:] = 0.0
    cap_scale = {"tight": 0.3, "loose": 3.0}.get(mode, 1.0) * demand.sum() / max(P * H, 1) * 1.5
    cap = rng.uniform(0.0, 2.0, (P, H)) * cap_scale
    cap[rng.random((P, H)) < 0.2] = 0.0
    if mode == "zero_capacity":
        cap[:] = 0.0
    prev = rng.random((B, P)) * (rng.random((B, P)) < 0.7)
    share = logit_shares(price, edges, prev, rng.uniform(0.0, 3.0), rng.uniform(0.0, 1.0))
    return demand, share, cap, price, edges


CASES = [(mode, seed) for mode in MODES for seed in range(30)]


@pytest.mark.parametrize(("mode", "seed"), CASES)
def test_random_against_oracles(mode, seed):
    rng = np.random.default_rng([seed, MODES.index(mode), 99])
    inst = random_instance(rng, mode)
    fast = clear_token_market(*inst)
    lp = clear_token_market(*inst, force_lp=True)
    check_clearing(fast, *inst)
    check_clearing(lp, *inst)
    # both paths serve the same totals per hour and the same amount per buyer-hour unserved in total
    np.testing.assert_allclose(fast.spilled_mtok.sum(0), lp.spilled_mtok.sum(0), atol=1e-7)
    if inst[-1].all():
        assert not fast.used_lp


def test_forced_fast_vs_lp_on_complete_graphs():
    """Complete graphs, tight capacity: the fast path needs no LP and matches the LP's optimum."""
    rng = np.random.default_rng(5)
    n_spill = 0
    for _ in range(25):
        B, P, H = rng.integers(2, 8), rng.integers(2, 6), 24
        price = rng.uniform(1, 30, P)
        edges = np.ones((B, P), bool)
        share = logit_shares(price, edges, rng.random((B, P)), 1.2, 0.3)
        demand = rng.uniform(0, 10, (B, H))
        cap = rng.uniform(0, 2, (P, H)) * demand.sum(0) / P
        fast = clear_token_market(demand, share, cap, price, edges)
        lp = clear_token_market(demand, share, cap, price, edges, force_lp=True)
        assert not fast.used_lp
        n_spill += fast.spilled_mtok.sum() > 0
        np.testing.assert_allclose(fast.spilled_mtok.sum(0), lp.spilled_mtok.sum(0), atol=1e-7)
        np.testing.assert_allclose(fast.served_by_provider_mtok, lp.served_by_provider_mtok, atol=1e-7)
        np.testing.assert_allclose(fast.revenue_cny.sum(), lp.revenue_cny.sum(), rtol=1e-9)
        np.testing.assert_allclose(fast.unserved_mtok.sum(0), lp.unserved_mtok.sum(0), atol=1e-7)
    assert n_spill >= 20


# ------------------------------------------------------------------------------------------
# logit shares
# ------------------------------------------------------------------------------------------
def test_logit_rows_sum_to_one_over_connected():
    rng = np.random.default_rng(1)
    for _ in range(50):
        B, P = rng.integers(1, 8, 2)
        price = np.exp(rng.uniform(-3, 5, P))  # orders of magnitude apart
        edges = rng.random((B, P)) < 0.6
        prev = rng.random((B, P)) * (rng.random((B, P)) < 0.5)
        s = logit_shares(price, edges, prev, rng.uniform(0, 5), rng.uniform(0, 1))
        assert np.all(s >= 0) and np.all(s[~edges] == 0)
        connected = edges.any(axis=1)
        np.testing.assert_allclose(s.sum(axis=1)[connected], 1.0, atol=1e-12)
        assert np.all(s[~connected] == 0)


def test_logit_target_formula_and_ordering():
    price = np.array([1.0, 10.0, 100.0])
    edges = np.ones((1, 3), bool)
    s = logit_shares(price, edges, np.zeros((1, 3)), 1.0, 0.0)
    # price ** -1 = 1, 0.1, 0.01 -> normalised by 1.11
    np.testing.assert_allclose(s[0], np.array([1.0, 0.1, 0.01]) / 1.11)
    assert s[0, 0] > s[0, 1] > s[0, 2]
    # higher sensitivity concentrates on the cheapest
    shares = [logit_shares(price, edges, np.zeros((1, 3)), k, 0.0)[0, 0] for k in (0.0, 0.5, 1.0, 2.0, 8.0)]
    assert shares[0] == pytest.approx(1 / 3)
    assert all(a < b for a, b in zip(shares, shares[1:], strict=False))
    assert shares[-1] > 0.999
    # extreme sensitivity does not underflow to a zero row
    s = logit_shares(np.array([1e3, 1e4]), np.ones((1, 2), bool), np.zeros((1, 2)), 500.0, 0.0)
    np.testing.assert_allclose(s, [[1.0, 0.0]])


def test_logit_inertia_limits():
    """No bond (inertia <= 1/n): the plain logit, whatever the previous split; inertia 1: nobody leaves; in between:
    each customer of provider q moves by P(p | q) = w_p theta^[p=q] / (sum_r w_r + (theta - 1) w_q), computed here
    from the formula, provider by provider."""
    rng = np.random.default_rng(2)
    price = rng.uniform(1, 10, 4)
    edges = np.array([[1, 1, 0, 1], [0, 1, 1, 0], [0, 0, 0, 0]], bool)
    prev = rng.random((3, 4)) * edges
    prev /= np.maximum(prev.sum(1, keepdims=True), 1e-300)
    target = logit_shares(price, edges, prev, 1.5, 0.0)
    w = np.where(edges, price**-1.5, 0.0)
    np.testing.assert_allclose(target[:2], w[:2] / w[:2].sum(1, keepdims=True))
    np.testing.assert_allclose(logit_shares(price, edges, prev, 1.5, 1.0), prev)
    half = logit_shares(price, edges, prev, 1.5, 0.8)
    for b in range(2):
        n = edges[b].sum()
        theta = 0.8 * (n - 1) / (1 - 0.8)
        expected = np.zeros(4)
        for q in np.flatnonzero(edges[b]):
            to = w[b] * np.where(np.arange(4) == q, theta, 1.0)
            expected += prev[b, q] * to / to.sum()
        np.testing.assert_allclose(half[b], expected)
    # previous share outside the edges is dropped and renormalised; all-zero previous -> target
    prev2 = prev.copy()
    prev2[0, 2] = 5.0
    np.testing.assert_allclose(logit_shares(price, edges, prev2, 1.5, 1.0), prev)
    np.testing.assert_allclose(logit_shares(price, edges, np.zeros((3, 4)), 1.5, 0.7), target)
    with pytest.raises(ValueError):
        logit_shares(price, edges, prev, 1.5, 1.5)
    with pytest.raises(ValueError):
        logit_shares(np.array([1.0, 0.0, 1, 1]), edges, prev, 1.5, 0.5)


# ------------------------------------------------------------------------------------------
# hand-worked examples
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("force_lp", [False, True])
def test_hand_rationing_then_spill(force_lp):
    # 2 buyers want 10 each, split 50/50. p0 (price 1) can do 4 -> keeps 40%: 2 each, 3 each rationed.
    # p1 (price 2) was asked 10, has 20: room 10 >= 6 -> all rationed demand spills to p1.
    demand = np.array([[10.0], [10.0]])
    share = np.full((2, 2), 0.5)
    r = clear_token_market(
        demand, share, np.array([[4.0], [20.0]]), np.array([1.0, 2.0]), np.ones((2, 2), bool), force_lp=force_lp
    )
    np.testing.assert_allclose(r.served_pair_mtok, [[2, 8], [2, 8]])
    np.testing.assert_allclose(r.rationed_mtok, [[3], [3]])
    np.testing.assert_allclose(r.spilled_mtok, [[3], [3]])
    np.testing.assert_allclose(r.unserved_mtok, 0, atol=1e-12)
    np.testing.assert_allclose(r.revenue_cny, [4.0, 32.0])
    np.testing.assert_allclose(r.spend_cny, [18.0, 18.0])
    assert r.used_lp == force_lp


def test_hand_cheapest_room_first():
    # one buyer wants 10 from p0 (cap 2): 8 rationed. Rooms: p1 3 @ price 3, p2 4 @ price 1.
    # Cheapest first: 4 to p2, 3 to p1, 1 unserved.
    edges = np.ones((1, 3), bool)
    r = clear_token_market(
        np.array([[10.0]]), np.array([[1.0, 0, 0]]), np.array([[2.0], [3.0], [4.0]]), np.array([5.0, 3.0, 1.0]), edges
    )
    np.testing.assert_allclose(r.served_pair_mtok, [[2, 3, 4]])
    np.testing.assert_allclose(r.unserved_mtok, [[1.0]])
    np.testing.assert_allclose(r.spilled_mtok, [[7.0]])
    assert not r.used_lp


def test_hand_equal_price_room_shared_pro_rata():
    # 6 rationed; p1 and p2 both price 1 with rooms 2 and 6 (total 8): filled pro rata 1.5 and 4.5
    edges = np.ones((1, 3), bool)
    r = clear_token_market(
        np.array([[10.0]]), np.array([[1.0, 0, 0]]), np.array([[4.0], [2.0], [6.0]]), np.array([5.0, 1.0, 1.0]), edges
    )
    np.testing.assert_allclose(r.served_pair_mtok, [[4, 1.5, 4.5]])


def test_hand_max_flow_needs_lp():
    # Both buyers send everything to p0 (cap 10, asked 20): 5 each rationed. Rooms: p1 5 @ 1, p2 5 @ 2.
    # b1 can only reach p1, b0 reaches both. Cheapest-first pro-rata would serve 7.5; the max flow is
    # b1 -> p1 5, b0 -> p2 5 = 10, cost 5 + 10 = 15.
    edges = np.array([[1, 1, 1], [1, 1, 0]], bool)
    share = np.array([[1.0, 0, 0], [1.0, 0, 0]])
    r = clear_token_market(
        np.array([[10.0], [10.0]]), share, np.array([[10.0], [5.0], [5.0]]), np.array([3.0, 1.0, 2.0]), edges
    )
    assert r.used_lp
    np.testing.assert_allclose(r.served_pair_mtok, [[5, 0, 5], [5, 5, 0]], atol=1e-9)
    np.testing.assert_allclose(r.unserved_mtok, 0, atol=1e-9)
    np.testing.assert_allclose(r.revenue_cny, [30, 5, 10], atol=1e-9)


def test_unconnected_buyer_and_empty_inputs():
    edges = np.array([[True, False], [False, False]])
    demand = np.array([[1.0, 2.0], [3.0, 4.0]])
    share = logit_shares(np.array([1.0, 2.0]), edges, np.zeros((2, 2)), 1.0, 0.0)
    r = clear_token_market(demand, share, np.ones((2, 2)) * 10, np.array([1.0, 2.0]), edges)
    np.testing.assert_allclose(r.unserved_mtok, [[0, 0], [3, 4]])
    np.testing.assert_allclose(r.served_pair_mtok, [[3, 0], [0, 0]])
    r = clear_token_market(np.zeros((0, 3)), np.zeros((0, 2)), np.ones((2, 3)), np.ones(2), np.zeros((0, 2), bool))
    assert r.served_mtok.shape == (0, 2, 3) and r.revenue_cny.tolist() == [0, 0]
    r = clear_token_market(np.ones((2, 3)), np.zeros((2, 0)), np.zeros((0, 3)), np.zeros(0), np.zeros((2, 0), bool))
    np.testing.assert_allclose(r.unserved_mtok, 1.0)
    with pytest.raises(ValueError):
        one = np.ones((1, 1))
        clear_token_market(-one, one, one, np.ones(1), one.astype(bool))


def test_validation_messages():
    one, ok = np.ones((1, 1)), np.ones((1, 1), bool)
    with pytest.raises(ValueError, match="demand and capacity must be >= 0"):
        clear_token_market(one, one, -one, np.ones(1), ok)
    with pytest.raises(ValueError, match="shape mismatch"):
        clear_token_market(one, one, np.ones((2, 1)), np.ones(1), ok)
    with pytest.raises(ValueError):
        clear_token_market(np.ones(3), one, one, np.ones(1), ok)  # demand must be (B, H)
    with pytest.raises(ValueError, match="shape mismatch"):
        logit_shares(np.ones(2), ok, one, 1.0, 0.5)
    with pytest.raises(ValueError, match="prices must be > 0"):
        logit_shares(np.array([1.0, -2.0]), np.ones((1, 2), bool), np.ones((1, 2)), 1.0, 0.5)
    with pytest.raises(ValueError, match="inertia"):
        logit_shares(np.ones(1), ok, one, 1.0, -0.1)


def test_share_rows_broadcast():
    # one (P,) row of shares / previous shares stands for every buyer
    price, edges = np.array([1.0, 2.0, 4.0]), np.array([[1, 1, 0], [1, 1, 1]], bool)
    row = np.array([0.2, 0.3, 0.5])
    np.testing.assert_array_equal(
        logit_shares(price, edges, row, 1.0, 0.5), logit_shares(price, edges, np.tile(row, (2, 1)), 1.0, 0.5)
    )
    demand, cap = np.full((2, 4), 5.0), np.full((3, 4), 3.0)
    a = clear_token_market(demand, row, cap, price, edges)
    b = clear_token_market(demand, np.tile(row, (2, 1)), cap, price, edges)
    np.testing.assert_array_equal(a.served_mtok, b.served_mtok)
    np.testing.assert_array_equal(a.unserved_mtok, b.unserved_mtok)


def test_many_providers_against_oracles():
    """140 providers (long rows in the share sums, many price ties) on a complete graph."""
    rng = np.random.default_rng(8)
    B, P, H = 3, 140, 2
    price = rng.choice([1.0, 2.0, 3.0], P)
    edges = np.ones((B, P), bool)
    share = logit_shares(price, edges, rng.random((B, P)), 1.0, 0.5)
    np.testing.assert_allclose(share.sum(axis=1), 1.0, atol=1e-12)
    demand = rng.uniform(50, 100, (B, H))
    cap = rng.uniform(0.0, 2.0, (P, H)) * demand.sum(0) / P
    inst = (demand, share, cap, price, edges)
    r = clear_token_market(*inst)
    assert not r.used_lp and r.spilled_mtok.sum() > 0
    check_clearing(r, *inst)
