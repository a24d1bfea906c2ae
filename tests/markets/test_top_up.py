"""Tests of the spot top-up (providers buy unsold GPU-hours at the asks) against independent checks."""

import numpy as np
import pytest
from scipy.optimize import linprog

from tokenomy.abm.markets.top_up import TopUp, top_up_unserved

RTOL = 1e-9

PRICE_GRID = np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0])
EFF_GRID = np.array([0.25, 0.5, 1.0, 2.0, 3.0])


def tol(scale) -> float:
    return RTOL * max(1.0, float(scale))


# ------------------------------------------------------------------------------------------
# random instances
# ------------------------------------------------------------------------------------------
def random_edges(rng, n, m, pattern):
    if pattern == "full":
        return np.ones((n, m), bool)
    if pattern == "none":
        return np.zeros((n, m), bool)
    if pattern == "diag":
        return np.eye(n, m, dtype=bool)
    return rng.random((n, m)) < rng.uniform(0.2, 0.8)


def random_instance(rng, P=None, complete=False):
    B, A, H = int(rng.integers(1, 6)), int(rng.integers(1, 5)), int(rng.integers(1, 25))
    P = int(rng.integers(1, 5)) if P is None else P
    # unserved tokens: dense, sparse, integer-valued (ties) or entirely empty
    kind = rng.integers(4)
    if kind == 0:
        unserved = np.zeros((B, H))
    elif kind == 1:
        unserved = rng.uniform(0.0, 60.0, (B, H)) * (rng.random((B, H)) < 0.4)
    elif kind == 2:
        unserved = rng.integers(0, 20, (B, H)).astype(float)
    else:
        unserved = rng.uniform(0.0, 60.0, (B, H))
    # providers: tied prices on a grid or continuous; efficiencies on a grid or continuous
    token_price = rng.choice(PRICE_GRID, P) if rng.random() < 0.5 else rng.uniform(0.2, 6.0, P)
    eff = rng.choice(EFF_GRID, P) if rng.random() < 0.5 else rng.uniform(0.1, 3.0, P)
    value = token_price * eff
    patterns = ["full", "sparse", "sparse", "none", "diag"]
    t_edges = random_edges(rng, B, P, "full" if complete else patterns[rng.integers(len(patterns))])
    c_edges = random_edges(rng, P, A, "full" if complete else patterns[rng.integers(len(patterns))])
    # asks: several per (AIDC, hour), with zero quantities, ties, exact boundary prices, unaffordable ones
    J = int(rng.integers(0, 50))
    ask_aidc = rng.integers(0, A, J)
    ask_hour = rng.integers(0, H, J)
    ask_left = rng.uniform(0.0, 30.0, J) * (rng.random(J) < 0.85)
    if rng.random() < 0.3:
        ask_left = np.round(ask_left)
    price_kind = rng.integers(4)
    if price_kind == 0:  # every ask above every provider's value
        ask_price = value.max() * rng.uniform(1.01, 3.0, J)
    elif price_kind == 1:  # on the grid of provider values (exact boundary ties)
        ask_price = rng.choice(value, J) * rng.choice([0.5, 1.0, 1.0, 2.0], J)
    elif price_kind == 2:  # tied on a coarse grid
        ask_price = rng.choice(PRICE_GRID, J)
    else:
        ask_price = rng.uniform(0.0, 1.5 * value.max(), J)
    return dict(
        unserved_mtok=unserved,
        token_price=token_price,
        mtok_per_gpu_hour=eff,
        token_edges=t_edges,
        ask_aidc=ask_aidc,
        ask_hour=ask_hour,
        ask_left_gpu_hours=ask_left,
        ask_price=ask_price,
        compute_edges=c_edges,
    )


# ------------------------------------------------------------------------------------------
# checks
# ------------------------------------------------------------------------------------------
def check_top_up(r: TopUp, inst):
    u = inst["unserved_mtok"]
    price, eff = inst["token_price"], inst["mtok_per_gpu_hour"]
    te, ce = inst["token_edges"], inst["compute_edges"]
    aa, ah = inst["ask_aidc"], inst["ask_hour"]
    left, ap = inst["ask_left_gpu_hours"], inst["ask_price"]
    B, H = u.shape
    P, A = ce.shape
    J = aa.size
    value = price * eff
    su = tol(u.max(initial=0.0))
    sg = tol(left.sum())
    sc = tol((left * ap).sum())

    served, gpu, cost, used = r.served_mtok, r.gpu_hours, r.cost_cny, r.ask_used_gpu_hours
    assert served.shape == (B, P, H)
    assert gpu.shape == (P, A, H)
    assert cost.shape == (P, A)
    assert used.shape == (J,)
    assert np.all(served >= 0.0) and np.all(gpu >= 0.0) and np.all(cost >= 0.0) and np.all(used >= 0.0)

    # conservation of tokens per buyer-hour
    assert np.all(served.sum(axis=1) <= u + su)
    # GPU-hours bought per (a, h) are exactly the GPU-hours taken from that AIDC's asks in that hour
    from_asks = np.zeros((A, H))
    np.add.at(from_asks, (aa, ah), used)
    np.testing.assert_allclose(gpu.sum(axis=0), from_asks, rtol=0, atol=sg)
    # tokens served by p in h == GPU-hours bought by p in h x efficiency
    np.testing.assert_allclose(
        served.sum(axis=0),
        gpu.sum(axis=1) * eff[:, None],
        rtol=0,
        atol=tol(max(u.sum(), (left.sum() * eff.max(initial=0.0)))),
    )
    # never more than what is left on an ask
    assert np.all(used <= left + tol(left.max(initial=0.0)))
    # cost per AIDC (summed over providers) == what was taken from its asks, at the asks
    cost_a = np.bincount(aa, weights=used * ap, minlength=A)
    np.testing.assert_allclose(cost.sum(axis=0), cost_a, rtol=0, atol=sc)

    # flows only along edges
    assert np.all(served[~te] == 0.0)
    assert np.all(gpu[~ce] == 0.0)
    # asks of AIDCs nobody connected to is allowed to buy from are untouched
    reachable_aidc = ce.any(axis=0)
    assert np.all(used[~reachable_aidc[aa]] == 0.0) if J else True
    # no buyer served from a provider nobody needs; no buying where no connected buyer lacks anything
    need_ph = (te[:, :, None] & (u[:, None, :] > 0)).any(axis=0)  # (P, H) p has some connected lacking buyer
    assert np.all(gpu.sum(axis=1)[~need_ph] == 0.0)

    # no trade at a loss: each provider's average price per AIDC is no dearer than what it earns
    bought = gpu.sum(axis=2)
    for p in range(P):
        for a in range(A):
            if bought[p, a] > 0.0:
                assert cost[p, a] <= value[p] * bought[p, a] * (1 + 1e-12) + sc, (p, a)
            else:
                assert cost[p, a] == 0.0
    # every used ask is affordable for some provider that bought from its AIDC in its hour
    for j in np.flatnonzero(used > 0.0):
        buyers = [p for p in range(P) if gpu[p, aa[j], ah[j]] > 0.0 and ce[p, aa[j]]]
        assert buyers, j
        assert ap[j] <= max(value[p] for p in buyers), j
    # asks above every value of providers connected to the AIDC are never used
    for j in range(J):
        conn = ce[:, aa[j]]
        if not conn.any() or ap[j] > value[conn].max():
            assert used[j] == 0.0, j

    # KEY PROPERTY: no residual unserved buyer-hour while a connected provider could still buy, from a connected
    # AIDC, an unsold GPU-hour of that hour at an ask no dearer than what the provider earns on it
    residual = u - served.sum(axis=1)
    unsold = left - used
    for b, h in zip(*np.nonzero(residual > RTOL * np.maximum(1.0, u)), strict=True):
        for p in np.flatnonzero(te[b]):
            for a in np.flatnonzero(ce[p]):
                idle = (aa == a) & (ah == h) & (ap <= value[p]) & (unsold > RTOL * np.maximum(1.0, left))
                assert not idle.any(), (
                    f"buyer {b} hour {h} lacks {residual[b, h]} while provider {p} (value {value[p]}) could buy "
                    f"{unsold[idle]} GPU-h from AIDC {a} at {ap[idle]}"
                )
    return residual


def served_upper_bound(inst):
    """LP: the most tokens any allocation could serve per hour using only profitable asks along the edges."""
    u = inst["unserved_mtok"]
    price, eff = inst["token_price"], inst["mtok_per_gpu_hour"]
    te, ce = inst["token_edges"], inst["compute_edges"]
    aa, ah = inst["ask_aidc"], inst["ask_hour"]
    left, ap = inst["ask_left_gpu_hours"], inst["ask_price"]
    B, H = u.shape
    P = price.size
    value = price * eff
    best = np.zeros(H)
    for h in range(H):
        xs = [(p, j) for p in range(P) for j in np.flatnonzero(ah == h) if ce[p, aa[j]] and ap[j] <= value[p]]
        ys = [(b, p) for b in range(B) for p in range(P) if te[b, p]]
        if not xs or not ys:
            continue
        nx, ny = len(xs), len(ys)
        # variables: x (GPU-h of ask j bought by p), y (tokens of b served by p); maximise sum(y)
        rows, rhs = [], []
        for j in np.flatnonzero(ah == h):  # ask capacity
            row = np.zeros(nx + ny)
            row[[i for i, (_, jj) in enumerate(xs) if jj == j]] = 1.0
            rows.append(row)
            rhs.append(left[j])
        for b in range(B):  # buyer's lack
            row = np.zeros(nx + ny)
            row[[nx + i for i, (bb, _) in enumerate(ys) if bb == b]] = 1.0
            rows.append(row)
            rhs.append(u[b, h])
        for p in range(P):  # tokens served by p <= eff_p x GPU-hours p bought
            row = np.zeros(nx + ny)
            row[[nx + i for i, (_, pp) in enumerate(ys) if pp == p]] = 1.0
            row[[i for i, (pp, _) in enumerate(xs) if pp == p]] = -eff[p]
            rows.append(row)
            rhs.append(0.0)
        c = np.concatenate([np.zeros(nx), -np.ones(ny)])
        res = linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=(0, None), method="highs")
        assert res.status == 0
        best[h] = -res.fun
    return best


# ------------------------------------------------------------------------------------------
# random properties
# ------------------------------------------------------------------------------------------
def test_random_instances_properties():
    rng = np.random.default_rng(20240611)
    n_resid = n_trade = 0
    for k in range(300):
        inst = random_instance(rng)
        r = top_up_unserved(**inst)
        residual = check_top_up(r, inst)
        n_resid += bool((residual > 1e-9).any())
        n_trade += bool((r.ask_used_gpu_hours > 0).any())
        if k < 60:  # no allocation could serve more than the LP bound
            bound = served_upper_bound(inst)
            assert np.all(r.served_mtok.sum(axis=(0, 1)) <= bound + 1e-7 * (1 + bound)), k
    # the generator really exercises both outcomes
    assert n_resid > 50 and n_trade > 50


def test_inputs_not_modified():
    rng = np.random.default_rng(7)
    for _ in range(10):
        inst = random_instance(rng)
        copy = {k: v.copy() for k, v in inst.items()}
        top_up_unserved(**inst)
        for k, v in inst.items():
            np.testing.assert_array_equal(v, copy[k])


# ------------------------------------------------------------------------------------------
# brute-force oracle: one provider serves min(lack it can reach, efficiency x affordable capacity it can reach)
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("complete", [True, False])
def test_single_provider_serves_the_maximum(complete):
    rng = np.random.default_rng(11 if complete else 12)
    for k in range(120):
        inst = random_instance(rng, P=1, complete=complete)
        r = top_up_unserved(**inst)
        check_top_up(r, inst)
        u, te, ce = inst["unserved_mtok"], inst["token_edges"], inst["compute_edges"]
        aa, ah, left, ap = (inst[key] for key in ("ask_aidc", "ask_hour", "ask_left_gpu_hours", "ask_price"))
        eff = inst["mtok_per_gpu_hour"][0]
        value = inst["token_price"][0] * eff
        H = u.shape[1]
        for h in range(H):
            lack = sum(u[b, h] for b in range(u.shape[0]) if te[b, 0])
            cap = sum(left[j] for j in range(aa.size) if ah[j] == h and ap[j] <= value and ce[0, aa[j]])
            expect = min(lack, eff * cap)
            got = r.served_mtok[:, 0, h].sum()
            assert got == pytest.approx(expect, rel=1e-9, abs=1e-9), (k, h)
            # bought exactly what was needed, no more
            assert r.gpu_hours[0, :, h].sum() == pytest.approx(expect / eff, rel=1e-9, abs=1e-9), (k, h)
        # cheapest first: an ask that was touched leaves no cheaper reachable ask of its hour unsold
        for j in np.flatnonzero(r.ask_used_gpu_hours > 0):
            cheaper = (ah == ah[j]) & (ap < ap[j]) & ce[0, aa]
            np.testing.assert_allclose(r.ask_used_gpu_hours[cheaper], left[cheaper], rtol=1e-9, atol=1e-9)


def test_complete_equal_efficiency_serves_the_maximum():
    """All edges, one efficiency: whichever provider buys, an ask counts if the dearest provider can afford it."""
    rng = np.random.default_rng(13)
    for k in range(100):
        inst = random_instance(rng, complete=True)
        P = inst["token_price"].size
        inst["mtok_per_gpu_hour"] = np.full(P, rng.choice(EFF_GRID))
        r = top_up_unserved(**inst)
        check_top_up(r, inst)
        eff = inst["mtok_per_gpu_hour"][0]
        vmax = (inst["token_price"] * eff).max()
        ok = inst["ask_price"] <= vmax
        cap = np.bincount(
            inst["ask_hour"][ok], weights=inst["ask_left_gpu_hours"][ok], minlength=inst["unserved_mtok"].shape[1]
        )
        expect = np.minimum(inst["unserved_mtok"].sum(axis=0), eff * cap)
        np.testing.assert_allclose(r.served_mtok.sum(axis=(0, 1)), expect, rtol=1e-9, atol=1e-9, err_msg=str(k))


# ------------------------------------------------------------------------------------------
# hand-worked cases
# ------------------------------------------------------------------------------------------
def test_cheaper_provider_first_then_dearer():
    r = top_up_unserved(
        np.array([[25.0]]),
        np.array([2.0, 3.0]),
        np.array([1.0, 1.0]),
        np.ones((1, 2), bool),
        np.array([0, 0]),
        np.array([0, 0]),
        np.array([10.0, 10.0]),
        np.array([1.5, 2.5]),
        np.ones((2, 1), bool),
    )
    # provider 0 (value 2) takes the 1.5 ask, cannot afford 2.5; provider 1 (value 3) takes the 2.5 ask
    np.testing.assert_allclose(r.served_mtok[0, :, 0], [10.0, 10.0])
    np.testing.assert_allclose(r.gpu_hours[:, 0, 0], [10.0, 10.0])
    np.testing.assert_allclose(r.ask_used_gpu_hours, [10.0, 10.0])
    np.testing.assert_allclose(r.cost_cny[:, 0], [15.0, 25.0])
    assert 25.0 - r.served_mtok.sum() == pytest.approx(5.0)


def test_provider_order_is_by_token_price_not_index():
    # same as above with the providers listed dearer first; efficiency 2 halves the GPU-hours needed
    r = top_up_unserved(
        np.array([[25.0]]),
        np.array([3.0, 2.0]),
        np.array([2.0, 2.0]),
        np.ones((1, 2), bool),
        np.array([0, 0]),
        np.array([0, 0]),
        np.array([10.0, 10.0]),
        np.array([5.0, 3.0]),
        np.ones((2, 1), bool),
    )
    # provider 1 (value 4) runs first: takes the 3.0 ask fully (10 GPU-h = 20 Mtok), cannot afford 5.0;
    # provider 0 (value 6) buys the remaining 5 Mtok = 2.5 GPU-h at 5.0
    np.testing.assert_allclose(r.served_mtok[0, :, 0], [5.0, 20.0])
    np.testing.assert_allclose(r.gpu_hours[:, 0, 0], [2.5, 10.0])
    np.testing.assert_allclose(r.ask_used_gpu_hours, [2.5, 10.0])
    np.testing.assert_allclose(r.cost_cny[:, 0], [12.5, 30.0])


def test_unconnected_buyer_gets_nothing():
    t_edges = np.array([[True], [False]])
    r = top_up_unserved(
        np.array([[5.0, 1.0], [7.0, 3.0]]),
        np.array([2.0]),
        np.array([1.0]),
        t_edges,
        np.array([0, 0]),
        np.array([0, 1]),
        np.array([100.0, 100.0]),
        np.array([1.0, 1.0]),
        np.ones((1, 1), bool),
    )
    np.testing.assert_allclose(r.served_mtok[0, 0], [5.0, 1.0])
    np.testing.assert_array_equal(r.served_mtok[1], 0.0)
    np.testing.assert_allclose(r.ask_used_gpu_hours, [5.0, 1.0])


def test_unconnected_aidc_and_wrong_hour_not_used():
    # provider linked to AIDC 1 only; the cheap ask is at AIDC 0, another cheap one is in hour 1 (nobody lacks there)
    r = top_up_unserved(
        np.array([[4.0, 0.0]]),
        np.array([2.0]),
        np.array([1.0]),
        np.ones((1, 1), bool),
        np.array([0, 1, 1, 1]),
        np.array([0, 0, 1, 0]),
        np.array([50.0, 3.0, 50.0, 50.0]),
        np.array([0.1, 1.0, 0.1, 1.9]),
        np.array([[False, True]]),
    )
    np.testing.assert_allclose(r.ask_used_gpu_hours, [0.0, 3.0, 0.0, 1.0])
    np.testing.assert_allclose(r.gpu_hours[0, :, 0], [0.0, 4.0])
    np.testing.assert_allclose(r.cost_cny, [[0.0, 3.0 + 1.9]])


def test_proportional_sharing():
    r = top_up_unserved(
        np.array([[30.0], [10.0]]),
        np.array([2.0]),
        np.array([1.0]),
        np.ones((2, 1), bool),
        np.array([0]),
        np.array([0]),
        np.array([20.0]),
        np.array([1.0]),
        np.ones((1, 1), bool),
    )
    np.testing.assert_allclose(r.served_mtok[:, 0, 0], [15.0, 5.0])
    np.testing.assert_allclose(r.cost_cny, [[20.0]])


def test_ask_at_exactly_the_value_is_taken_above_is_not():
    r = top_up_unserved(
        np.array([[10.0]]),
        np.array([2.0]),
        np.array([1.5]),
        np.ones((1, 1), bool),
        np.array([0, 0]),
        np.array([0, 0]),
        np.array([2.0, 100.0]),
        np.array([3.0, 3.0 + 1e-9]),
        np.ones((1, 1), bool),
    )
    np.testing.assert_allclose(r.ask_used_gpu_hours, [2.0, 0.0])
    np.testing.assert_allclose(r.served_mtok[0, 0], [3.0])


def test_nothing_to_do():
    r = top_up_unserved(
        np.zeros((2, 3)),
        np.array([1.0, 2.0]),
        np.array([1.0, 1.0]),
        np.ones((2, 2), bool),
        np.array([0]),
        np.array([1]),
        np.array([5.0]),
        np.array([0.5]),
        np.ones((2, 1), bool),
    )
    assert not r.served_mtok.any() and not r.gpu_hours.any() and not r.cost_cny.any()
    assert not r.ask_used_gpu_hours.any()
    # no asks at all
    empty_i, empty_f = np.zeros(0, int), np.zeros(0)
    r = top_up_unserved(
        np.ones((1, 2)),
        np.array([1.0]),
        np.array([1.0]),
        np.ones((1, 1), bool),
        empty_i,
        empty_i,
        empty_f,
        empty_f,
        np.ones((1, 1), bool),
    )
    assert r.ask_used_gpu_hours.shape == (0,)
    assert not r.served_mtok.any()


# ------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------
def _args(**over):
    args = dict(
        unserved_mtok=np.ones((2, 3)),
        token_price=np.array([1.0, 2.0]),
        mtok_per_gpu_hour=np.ones(2),
        token_edges=np.ones((2, 2), bool),
        ask_aidc=np.array([0]),
        ask_hour=np.array([0]),
        ask_left_gpu_hours=np.array([1.0]),
        ask_price=np.array([1.0]),
        compute_edges=np.ones((2, 1), bool),
    )
    args.update(over)
    return args


@pytest.mark.parametrize(
    "over",
    [
        dict(token_edges=np.ones((2, 3), bool)),
        dict(token_edges=np.ones((3, 2), bool)),
        dict(compute_edges=np.ones((3, 1), bool)),
        dict(mtok_per_gpu_hour=np.ones(3)),
    ],
)
def test_shape_mismatch(over):
    with pytest.raises(ValueError, match="shape mismatch"):
        top_up_unserved(**_args(**over))


@pytest.mark.parametrize(
    "over",
    [
        dict(ask_aidc=np.array([0, 0])),
        dict(ask_hour=np.zeros(0, int)),
        dict(ask_left_gpu_hours=np.ones(2)),
        dict(ask_price=np.ones(3)),
    ],
)
def test_ask_lengths_differ(over):
    with pytest.raises(ValueError, match="same length"):
        top_up_unserved(**_args(**over))


@pytest.mark.parametrize("eff", [[1.0, 0.0], [-1.0, 1.0]])
def test_non_positive_efficiency(eff):
    with pytest.raises(ValueError, match="mtok_per_gpu_hour must be > 0"):
        top_up_unserved(**_args(mtok_per_gpu_hour=np.array(eff)))


@pytest.mark.parametrize(
    "field, bad, match",
    [("aidc", -1, "ask_aidc out of range"), ("aidc", 5, "ask_aidc out of range"), ("hour", 3, "ask_hour out of range")],
)
def test_ask_indices_out_of_range_are_refused(field, bad, match):
    aidc, hour = np.array([0]), np.array([0])
    if field == "aidc":
        aidc = np.array([bad])
    else:
        hour = np.array([bad])
    with pytest.raises(ValueError, match=match):
        top_up_unserved(
            np.ones((1, 2)),
            np.ones(1),
            np.ones(1),
            np.ones((1, 1), dtype=bool),
            aidc,
            hour,
            np.ones(1),
            np.ones(1),
            np.ones((1, 2), dtype=bool),
        )
