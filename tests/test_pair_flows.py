"""Compute flows kept per buyer-AIDC pair that can trade (abm/links.py) instead of a (B, A, 24) table: the pairs are
the table's cells that can hold a flow, in its order; sums over them are the table's sums, bit for bit; and a day's
flows add up to what each buyer bought and each AIDC sold, hour by hour."""

from __future__ import annotations

import numpy as np
import pytest

from tokenomy.abm.links import TradeLinks
from tokenomy.abm.model import TokenEconomy
from tokenomy.abm.scenarios import load_scenario
from tokenomy.agents.numeric import edge_at, psum_at


@pytest.mark.parametrize(("n_buyers", "n_sellers", "density"), [(1, 1, 1.0), (4, 3, 0.5), (9, 13, 0.3), (6, 2, 0.0)])
def test_the_pairs_are_the_tables_cells_in_its_order_and_their_sums_are_its_sums(n_buyers, n_sellers, density):
    rng = np.random.default_rng(n_buyers * 100 + n_sellers)
    table = rng.random((n_buyers, n_sellers)) < density
    links = TradeLinks.of(table)
    b, s = np.nonzero(table)  # row-major: the table's order
    assert links.buyer.tolist() == b.tolist() and links.seller.tolist() == s.tolist()
    assert links.ptr.tolist() == [0, *np.cumsum(table.sum(axis=1)).tolist()]
    h = np.arange(24)
    cells = np.ravel_multi_index((b[:, None], s[:, None], h[None, :]), (n_buyers, n_sellers, 24)).ravel()
    assert links.cell.tolist() == cells.tolist()
    for i in range(n_buyers):
        for j in range(n_sellers):
            e = edge_at(links.ptr, links.seller, i, j)
            assert (e == np.flatnonzero((b == i) & (s == j))[0]) if table[i, j] else e == -1
    dense = rng.random((n_buyers, n_sellers, 24)) * 10.0 ** rng.integers(-3, 6, (n_buyers, n_sellers, 24))
    dense[~table] = 0.0
    flow = links.to_pairs(dense)
    assert flow.shape == (table.sum(), 24)
    assert np.array_equal(links.dense(flow), dense)
    assert psum_at(links.cell, flow.ravel(), 0, dense.size) == dense.sum()  # numpy's pairwise order, bit for bit
    assert np.array_equal(links.pair_totals(flow), dense.sum(axis=2))
    if not table.all():
        dense[~table] = 1.0
        with pytest.raises(ValueError, match="a flow between a buyer and a seller that cannot trade"):
            links.to_pairs(dense)


def _narrow(tmp_path) -> TokenEconomy:
    """classroom with a provider that may buy only from one AIDC: the compute graph is not complete, so the day-ahead
    market solves its LP (and hands back a table, turned into pairs)."""
    path = tmp_path / "narrow.toml"
    lines = ["[scenario]", 'name = "narrow"', 'base = "classroom"', "[[providers]]", 'name = "narrow"']
    path.write_text("\n".join([*lines, 'aidcs = ["west-aidc"]']) + "\n")
    return TokenEconomy(load_scenario(path), seed=1)


@pytest.mark.parametrize("world", ["classroom", "narrow"])
def test_pair_flows_add_up_to_what_each_buyer_bought_and_each_aidc_sold_every_hour(tmp_path, world):
    model = TokenEconomy("classroom", seed=1) if world == "classroom" else _narrow(tmp_path)
    prov, labs, aidcs = model.providers, model.labs, model.aidcs
    assert world == "classroom" or not model.compute_edges.all()
    topped_up = 0.0
    for _ in range(35):  # a turn of the month: contracts renewed
        model.step()
        c = model.last.compute
        b, a = np.nonzero(model.compute_edges)
        assert c.links.buyer.tolist() == b.tolist() and c.links.seller.tolist() == a.tolist()
        assert np.isfinite(c.flow).all() and (c.flow >= 0.0).all()
        table = np.zeros((prov.n + labs.n, aidcs.n, 24))  # the flows as a table, by numpy
        table[b, a] = c.flow
        bought = table.sum(axis=1)  # (B, 24) by buyer
        want = prov.bought_gpu_hours + prov.topped_up_gpu_hours  # day-ahead (reserved included) and top-up
        assert np.allclose(bought[: prov.n], want, rtol=1e-12, atol=1e-9)
        assert np.allclose(bought[prov.n :], labs.bought_gpu_hours, rtol=1e-12, atol=1e-9)
        assert np.allclose(table.sum(axis=0), c.sold, rtol=1e-12, atol=1e-9)  # (A, 24) by AIDC
        assert (c.sold <= aidcs.available[:, None] * (1 + 1e-9)).all()  # no AIDC sells GPUs it does not have
        assert np.allclose(c.pair_gpu_hours(), table.sum(axis=2), rtol=1e-12, atol=1e-9)
        topped_up += prov.topped_up_gpu_hours.sum()
    assert c.contract_provider.size > 0 and topped_up > 0.0  # reservations and top-ups were among the flows
