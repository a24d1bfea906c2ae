"""Consideration sets (networks/consideration.py): a buyer that may trade with every seller compares at most
MAX_CONSIDERED of them; the markets clear each segment as one complete market; a world of 1,000 entries of each trading
kind runs with money, energy and tokens conserved."""

from __future__ import annotations

import numpy as np
import pytest

from tokenomy.abm.markets.compute import clear_hourly_compute_market
from tokenomy.abm.markets.graph import components
from tokenomy.abm.markets.token import clear_token_market
from tokenomy.abm.model import TokenEconomy
from tokenomy.abm.scenarios import load_scenario
from tokenomy.abm.scenarios.spec import MAX_TRADING_ENTRIES
from tokenomy.agents.cloud_provider import _share_value_targets
from tokenomy.agents.technologies import TECHS
from tokenomy.networks.consideration import MAX_CONSIDERED, considered_rows, largest_first, segment_of_each
from tokenomy.networks.graphml import read_graph, write_graph


@pytest.mark.parametrize("n_sellers", [1, 5, MAX_CONSIDERED, MAX_CONSIDERED + 1, 100, 1000])
@pytest.mark.parametrize("n_buyers", [1, 7, 64, 2000])
def test_sets_are_bounded_full_when_few_and_cover_every_seller(n_buyers, n_sellers):
    order = np.random.default_rng(n_buyers + n_sellers).permutation(n_sellers)  # any order of dealing
    rows = considered_rows(n_buyers, order, n_sellers)
    assert rows.shape == (n_buyers, n_sellers)
    size = rows.sum(axis=1)
    assert size.max() <= MAX_CONSIDERED and size.min() >= 1
    if n_sellers <= MAX_CONSIDERED:
        assert rows.all()  # every shipped scenario (at most 8 sellers): everyone considers everyone
    groups = -(-n_sellers // MAX_CONSIDERED)
    assert size.max() - size.min() <= 1  # segments of near-equal size
    if n_buyers >= groups:
        assert rows.any(axis=0).all()  # every seller is considered by someone
    # buyers consider the same set or disjoint ones: each set is a segment, so the markets split into complete ones
    distinct = np.unique(rows, axis=0)
    assert (distinct.astype(int) @ distinct.T.astype(int) == np.diag(distinct.sum(axis=1))).all()
    assert len(distinct) == min(groups, n_buyers)
    assert np.array_equal(rows, considered_rows(n_buyers, order, n_sellers))  # no draw: the same every time


def test_segments_deal_sellers_in_order_so_each_holds_every_zone():
    zone = np.repeat(np.arange(8), 125)  # 1,000 AIDCs, 125 in each of 8 zones, listed zone by zone
    segment = np.empty(1000, int)
    segment[np.argsort(zone, kind="stable")] = segment_of_each(1000)
    for s in range(segment.max() + 1):
        assert set(zone[segment == s]) == set(range(8))
    with pytest.raises(ValueError, match="seller_order must list every index once"):
        considered_rows(3, np.array([0, 0, 1]), 3)
    with pytest.raises(ValueError, match="buyer_order must list every index once"):
        considered_rows(3, np.arange(40), 40, buyer_order=np.array([2, 1]))


def test_the_largest_buyers_meet_the_segments_of_the_largest_sellers():
    seller_size = np.array([1.0, 50.0, 2.0, 40.0, 3.0, 30.0, 4.0, 20.0])
    buyer_size = np.array([5.0, 500.0, 6.0, 400.0, 7.0])
    rows = considered_rows(5, largest_first(seller_size), 8, limit=4, buyer_order=largest_first(buyer_size))
    # two segments: {50, 30, 4, 2} and {40, 20, 3, 1}, dealt largest first
    assert set(np.flatnonzero(rows[1])) == {1, 5, 6, 2}  # the largest buyer: the segment of the largest seller
    assert set(np.flatnonzero(rows[3])) == {3, 7, 4, 0}  # the second largest: the other segment
    assert np.array_equal(largest_first(np.array([2.0, 3.0, 2.0])), [1, 0, 2])  # a tie keeps its order


def _segmented(n_buyers: int, n_sellers: int) -> np.ndarray:
    return considered_rows(n_buyers, np.arange(n_sellers), n_sellers)


def test_token_market_clears_segments_by_its_fast_path_as_its_lp_would():
    rng = np.random.default_rng(7)
    B, P, H = 150, 70, 24
    edges = _segmented(B, P)
    demand = rng.random((B, H)) * 10.0
    share = rng.random((B, P)) * edges
    cap = rng.random((P, H)) * 40.0
    price = rng.choice([1.0, 1.5, 2.0], size=P)  # ties too
    fast = clear_token_market(demand, share, cap, price, edges)
    lp = clear_token_market(demand, share, cap, price, edges, force_lp=True)
    assert not fast.used_lp and lp.used_lp
    assert fast.spilled_mtok.sum() > 0.0  # the spill-over had work to do
    assert np.allclose(fast.unserved_mtok.sum(axis=1), lp.unserved_mtok.sum(axis=1), atol=1e-6)
    # the LP picks the cheapest room too: the same cost of the spill-over
    assert np.isclose((fast.spill_mtok.sum(axis=2) * price).sum(), (lp.spill_mtok.sum(axis=2) * price).sum())
    assert not fast.served_mtok[~edges].any()  # nobody served across segments
    served = fast.served_mtok
    assert np.allclose(served.sum(axis=1), demand - fast.unserved_mtok)
    assert (served.sum(axis=0) <= cap + 1e-9).all()


def test_compute_market_clears_segments_by_merit_order_as_its_lp_would():
    rng = np.random.default_rng(3)
    B, A, H = 80, 70, 2
    edges = _segmented(B, A)
    assert components(edges)[3]  # every component complete: the fast path
    bb, bh = np.repeat(np.arange(B), H), np.tile(np.arange(H), B)
    aa, ah = np.repeat(np.arange(A), H), np.tile(np.arange(H), A)
    args = (
        bb,
        bh,
        rng.random(B * H) * 50,
        rng.random(B * H) * 10,
        aa,
        ah,
        rng.random(A * H) * 60,
        rng.random(A * H) * 8,
    )
    fast = clear_hourly_compute_market(*args, edges, H)
    lp = clear_hourly_compute_market(*args, edges, H, force_lp=True)
    assert not fast.used_lp and lp.used_lp
    assert np.isclose(fast.surplus_cny, lp.surplus_cny, rtol=1e-7)
    assert not fast.flow_gpu_hours[~edges].any()
    # a segment is one market: every AIDC that sells in it in an hour gets the same price, the LP's too
    sells = fast.flow_gpu_hours.sum(axis=0) > 1e-9  # (A, H)
    assert sells.any()
    assert np.allclose(fast.aidc_price[sells], lp.aidc_price[sells], rtol=1e-7)
    segment = segment_of_each(A)
    for h in range(H):
        for s in np.unique(segment):
            prices = fast.aidc_price[(segment == s) & sells[:, h], h]
            assert prices.size == 0 or np.ptp(prices) == 0.0


def test_switching_cost_prices_of_segments_are_those_of_each_segment_alone():
    """Pricing walks each provider's buyers and their sets: a segment's prices do not depend on the others."""
    rng = np.random.default_rng(11)
    B, P = 90, 40
    edges = _segmented(B, P)

    def market(rows, cols):
        e = edges[np.ix_(rows, cols)]
        share = rng_share[np.ix_(rows, cols)] * e
        share /= np.maximum(share.sum(axis=1, keepdims=True), 1e-12)
        return dict(
            price=price[cols].copy(),
            appeal_factor=np.ones(cols.size),
            appeal=np.ones(cols.size),
            unit_cost=cost[cols].copy(),
            edges=e,
            share=share,
            new=new[rows].copy(),
            demand=demand[rows].copy(),
            elasticity=np.full(rows.size, 0.3),
            sigma=2.0,
            retention=0.9,
            usage_growth=np.full(rows.size, 1.002),
            horizon_days=np.full(cols.size, 90.0),
            hold=np.full(cols.size, 7.0),
            discount=0.9997,
            min_margin=np.full(cols.size, 0.05),
            max_markup=np.full(cols.size, 3.0),
            served=np.ones(cols.size),
            unserved=np.zeros(cols.size),
            harvest_markup=np.full(cols.size, np.nan),
            bound=np.zeros(cols.size, dtype=bool),
        )

    price, cost = rng.uniform(2.0, 4.0, P), rng.uniform(1.0, 2.0, P)
    rng_share, new, demand = rng.random((B, P)), rng.random(B) * 0.2, rng.uniform(1.0, 100.0, B)
    whole, _ = _share_value_targets(**market(np.arange(B), np.arange(P)))
    assert np.isfinite(whole).all()
    for s in range(2):
        cols = np.flatnonzero(edges[s])
        rows = np.flatnonzero((edges[:, cols]).any(axis=1))
        alone, _ = _share_value_targets(**market(rows, cols))
        assert np.allclose(alone, whole[cols], rtol=1e-12)


@pytest.mark.slow
def test_a_world_of_the_limit_builds_its_sets_from_the_graph_and_again_from_its_written_graph(tmp_path):
    path = _world(tmp_path, MAX_TRADING_ENTRIES)
    model = TokenEconomy(load_scenario(path), seed=1)
    assert model.token_edges.sum(axis=1).max() <= MAX_CONSIDERED
    assert model.compute_edges.sum(axis=1).max() <= MAX_CONSIDERED
    assert model.token_edges.any(axis=0).all() and model.compute_edges.any(axis=0).all()
    again = TokenEconomy(load_scenario(path), seed=2)  # no draw decides a set
    assert np.array_equal(model.token_edges, again.token_edges)
    assert np.array_equal(model.compute_edges, again.compute_edges)
    written = tmp_path / "graph.graphml"
    write_graph(model.graph, written)  # a relation with every seller stays one node attribute: the file is small
    assert written.stat().st_size < 2e6
    read = TokenEconomy(load_scenario(path), seed=1, graph=read_graph(written))
    assert np.array_equal(model.token_edges, read.token_edges)
    assert np.array_equal(model.compute_edges, read.compute_edges)
    # each compute segment holds AIDCs of both zones (those of a size are dealt in zone order)
    for row in np.unique(model.compute_edges, axis=0):
        assert set(model.aidcs.zone[row]) == {0, 1}


def _world(tmp_path, n: int):
    """classroom grown to ``n`` entries of each trading kind, the added ones small shares of its size."""
    lines = ["[scenario]", 'name = "thousand"', 'base = "classroom"', "spin_up_days = 0", ""]
    kinds = {
        "aidcs": lambda i: [f'zone = "{("west", "east")[i % 2]}"', f"gpus = {3e4 / n:.3f}"],
        "providers": lambda i: [f"price_cny_per_mtok = {4.0 + (i % 5) * 0.25}", "mtok_per_gpu_hour = 5.5"],
        "labs": lambda i: [f"gpu_hours_per_day = {2.5e5 / n:.3f}", f"budget_cny_per_day = {2.6e6 / n:.3f}"],
        "apps": lambda i: [f"users = {3e7 / n:.3f}"],
        "enterprises": lambda i: [f"firms = {2e5 / n:.3f}"],
    }
    base = {"aidcs": 2, "providers": 2, "labs": 1, "apps": 2, "enterprises": 1}
    for kind, entry in kinds.items():
        for i in range(n - base[kind]):
            lines += [f"[[{kind}]]", f'name = "{kind}-{i}"', *entry(i)]
    path = tmp_path / "thousand.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.slow
def test_a_thousand_of_each_trading_kind_runs_with_money_energy_and_tokens_conserved(tmp_path):
    model = TokenEconomy(load_scenario(_world(tmp_path, MAX_TRADING_ENTRIES)), seed=1)
    n = model.ledger.n_agents
    for _ in range(3):
        agents_before, outside_before = model.ledger.balance[:n].sum(), model.ledger.balance[n:].sum()
        model.step()
        moved = model.ledger.balance[:n].sum() - agents_before
        assert abs(moved + model.ledger.balance[n:].sum() - outside_before) <= 1e-6 * max(1.0, abs(moved))
        tokens = model.last.tokens
        prov = model.providers
        cap = (prov.bought_gpu_hours + prov.topped_up_gpu_hours) * prov.params["mtok_per_gpu_hour"][:, None]
        assert (tokens.served_by_provider <= cap + 1e-6 * (1 + cap)).all()
        assert not tokens.served_pair[~model.token_edges].any()  # trade only within the consideration sets
        compute = model.last.compute  # GPU-hours kept per pair that can trade: the pairs are the edges
        assert compute.flow.shape == (np.count_nonzero(model.compute_edges), 24)
        assert model.compute_edges[compute.links.buyer, compute.links.seller].all()
        sold = np.bincount(compute.links.seller, compute.flow.sum(axis=1), minlength=model.aidcs.n)
        assert np.allclose(sold, compute.sold.sum(axis=1), rtol=1e-12, atol=1e-6)
    d = model.daily_table()
    assert len(d) == 3 and d.tokens_served_mtok.gt(0).all()
    assert (d.tokens_served_mtok <= d.tokens_demanded_mtok * (1 + 1e-9) + 1e-6).all()
    assert np.allclose(d.tokens_served_mtok + d.tokens_unserved_mtok, d.tokens_demanded_mtok, rtol=1e-9)
    h = model.hourly_table()
    supply = sum(h[f"generation_{t}_mw"] for t in TECHS) + h.storage_discharge_mw + h.net_import_mw + h.unserved_mw
    demand = h.load_mw + h.flexible_load_served_mw + h.storage_charge_mw + h.spill_mw
    assert (supply - demand).abs().max() <= 1e-6
