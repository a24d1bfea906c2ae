"""The algorithmic-pricing lesson reproduces Calvano, Calzolari, Denicolò and Pastorello (2020): the theory's
benchmarks against an independent solver, collusion by Q-learning firms that look ahead and remember, and its
absence when they do not look ahead."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq, minimize, minimize_scalar

from tokenomy.abm.lessons.algorithmic_pricing import CLASSROOM_BETA, LogitBertrand, algorithmic_pricing

SEEDS = range(10)


def _profits(prices, a=2.0, a0=0.0, mu=0.25, c=1.0) -> np.ndarray:
    """Logit demand with an outside good, written out from the paper's formula (no log-sum-exp shift)."""
    p = np.asarray(prices, dtype=float)
    e = np.exp((a - p) / mu)
    return (p - c) * e / (e.sum() + np.exp(a0 / mu))


def _scipy_nash(n: int, mu: float) -> float:
    """A symmetric Nash price by iterating best responses, each found by scipy's bounded scalar search."""
    p = 1.5
    for _ in range(200):
        best = minimize_scalar(
            lambda x, rival=p: -_profits([x] + [rival] * (n - 1), mu=mu)[0],
            bounds=(1.0, 4.0),
            method="bounded",
            options={"xatol": 1e-12},
        ).x
        if abs(best - p) < 1e-11:
            break
        p = best
    return p


def _scipy_monopoly(n: int, mu: float) -> np.ndarray:
    """Joint-profit-maximising prices over all n prices (symmetry not imposed), from an asymmetric start."""
    start = np.linspace(1.3, 2.3, n)
    res = minimize(
        lambda p: -_profits(p, mu=mu).sum(),
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20_000},
    )
    return res.x


@pytest.mark.parametrize("n, mu", [(2, 0.25), (3, 0.25), (2, 0.5)])
def test_nash_and_monopoly_prices_agree_with_scipy(n, mu):
    market = LogitBertrand(firms=n, differentiation=mu)
    assert market.nash_price() == pytest.approx(_scipy_nash(n, mu), abs=1e-7)
    assert market.monopoly_price() == pytest.approx(_scipy_monopoly(n, mu), abs=1e-5)


def test_the_papers_benchmarks_and_grid():
    market = LogitBertrand()
    nash, monopoly = market.nash_price(), market.monopoly_price()
    assert nash == pytest.approx(1.473, abs=5e-4) and monopoly == pytest.approx(1.925, abs=5e-4)

    # at the Nash price no firm gains by moving alone (the derivative of its profit is zero), found by brentq
    def slope(x: float) -> float:
        return (_profits([x + 1e-7, nash])[0] - _profits([x - 1e-7, nash])[0]) / 2e-7

    assert brentq(slope, 1.2, 2.0, xtol=1e-12) == pytest.approx(nash, abs=1e-6)
    grid = market.price_grid()
    gap = monopoly - nash
    assert grid.size == 15
    assert grid[0] == pytest.approx(nash - 0.1 * gap) and grid[-1] == pytest.approx(monopoly + 0.1 * gap)
    assert np.allclose(np.diff(grid), gap * 1.2 / 14)


def test_demand_matches_the_formula_and_the_outside_good_takes_the_rest():
    market = LogitBertrand()
    prices = np.array([[1.5, 1.9], [1.2, 3.0]])
    for row in prices:
        assert market.profit(row) == pytest.approx(_profits(row), rel=1e-12)
    assert (market.demand(prices).sum(axis=1) < 1.0).all()


@pytest.fixture(scope="module")
def sessions():
    """The paper's baseline and its myopic twin (delta = 0) on the same seeds."""
    return {
        delta: [algorithmic_pricing(delta=delta, rng=np.random.default_rng(s)) for s in SEEDS] for delta in (0.95, 0.0)
    }


def test_a_session_is_reproducible_from_its_seed():
    a = algorithmic_pricing(beta=CLASSROOM_BETA, rng=np.random.default_rng(5))
    b = algorithmic_pricing(beta=CLASSROOM_BETA, rng=np.random.default_rng(5))
    c = algorithmic_pricing(beta=CLASSROOM_BETA, rng=np.random.default_rng(6))
    assert a.periods == b.periods and np.array_equal(a.limit_prices, b.limit_prices)
    assert np.array_equal(a.impulse_prices, b.impulse_prices)
    assert (c.periods, c.limit_prices.tolist()) != (a.periods, a.limit_prices.tolist())


def test_the_outcome_is_measured_on_prices_of_the_grid_at_their_own_profits(sessions):
    for r in sessions[0.95]:
        assert np.isin(r.limit_prices, r.grid).all() and np.isin(r.impulse_prices, r.grid).all()
        assert np.allclose(r.limit_profits, [_profits(row) for row in r.limit_prices], rtol=1e-12)
        mean_profit = r.limit_profits.mean(axis=0)
        assert r.profit_gain == pytest.approx((mean_profit - r.nash_profit) / (r.monopoly_profit - r.nash_profit))
        assert r.nash_profit == pytest.approx(_profits([r.nash_price] * 2)[0])


def test_q_learning_firms_that_look_ahead_learn_to_collude(sessions):
    """The paper's baseline (alpha 0.15, beta 4e-6, delta 0.95): every session converges, and most end far above
    the competitive profit (the paper: Delta about 0.85 on average)."""
    gains = np.array([r.mean_profit_gain for r in sessions[0.95]])
    assert all(r.converged for r in sessions[0.95])
    assert (gains > 0.5).sum() >= 7, gains
    assert gains.mean() > 0.6, gains


def test_myopic_firms_do_not_collude(sessions):
    """The counterfactual: the same learners, seeds and draws with delta = 0 (they value only today's profit)
    end near the competitive outcome; the collusion above is earned by looking ahead."""
    myopic = np.array([r.mean_profit_gain for r in sessions[0.0]])
    patient = np.array([r.mean_profit_gain for r in sessions[0.95]])
    assert myopic.mean() < 0.35, myopic
    assert patient.mean() - myopic.mean() > 0.4
    assert (patient > myopic).sum() >= 8


def test_a_deviation_is_punished_and_then_forgiven(sessions):
    """The impulse response: when firm 1 undercuts for one period, firm 2 answers with a lower price than it would
    have posted (punishment) in most sessions, and the greedy strategies lead back to the limit path."""
    patient = sessions[0.95]
    assert sum(r.rival_punishes for r in patient) >= 7
    for r in patient:
        length = r.limit_prices.shape[0]
        deviation = r.impulse_prices[1]  # period 0: firm 1 at its static best response to firm 2's price
        assert deviation[1] == r.undisturbed_prices[1, 1]
        today = _profits(deviation)[0]
        assert today >= max(_profits([g, deviation[1]])[0] for g in r.grid) - 1e-15
        assert today >= _profits(r.undisturbed_prices[1])[0] - 1e-15
        back = {tuple(row) for row in r.impulse_prices[-length:]}
        assert back == {tuple(row) for row in r.limit_prices}  # back on the cycle (perhaps in another phase)


def test_firms_without_memory_cannot_punish():
    """With no state (memory 0) a firm's greedy price is one price whatever happened: the rival never reacts."""
    for s in range(3):
        r = algorithmic_pricing(beta=CLASSROOM_BETA, memory=0, rng=np.random.default_rng(s))
        assert r.limit_prices.shape[0] == 1 and not r.rival_punishes
        assert (r.impulse_prices[2:] == r.limit_prices[0]).all()


def test_the_classroom_speed_still_colludes():
    """beta = 2e-5 (five times faster exploration decay, for a class): most sessions still end well above Nash."""
    gains = np.array(
        [algorithmic_pricing(beta=CLASSROOM_BETA, rng=np.random.default_rng(s)).mean_profit_gain for s in SEEDS]
    )
    assert (gains > 0.5).sum() >= 7, gains


def test_a_capped_session_says_it_did_not_converge():
    r = algorithmic_pricing(max_periods=1000, rng=1)
    assert not r.converged and r.periods == 1000
    assert np.isfinite(r.profit_gain).all()


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"delta": 1.0}, "delta"),
        ({"delta": float("nan")}, "delta"),
        ({"beta": 0.0}, "beta"),
        ({"max_periods": 0}, "cap"),
        ({"memory": 2}, "memory"),
    ],
)
def test_bad_settings_are_refused(changes, match):
    with pytest.raises(ValueError, match=match):
        algorithmic_pricing(**changes)


@pytest.mark.slow
def test_the_average_profit_gain_over_many_sessions_is_the_papers():
    """100 sessions of the baseline: the mean profit gain lies near the paper's 0.85; the myopic twin's near 0."""
    patient = np.array([algorithmic_pricing(rng=np.random.default_rng(s)).mean_profit_gain for s in range(100)])
    myopic = np.array(
        [algorithmic_pricing(delta=0.0, rng=np.random.default_rng(s)).mean_profit_gain for s in range(100)]
    )
    assert 0.75 <= patient.mean() <= 0.95, patient.mean()
    assert (patient > 0.5).mean() >= 0.9
    assert myopic.mean() < 0.3, myopic.mean()


def test_the_apps_market_reveals_the_lessons_figure():
    """The Lesson tab's market for this lesson: the figure its reveal names comes from the session the chart shows."""
    from tokenomy.abm.lessons.catalog import load_lesson
    from tokenomy.viz.lessons_view import classic_outcome
    from tokenomy.viz.teaching import MARKET_KEYS, algorithmic_pricing_view

    lesson = load_lesson("algorithmic-pricing")
    assert lesson.market in MARKET_KEYS.values()
    rows, option, figures = algorithmic_pricing_view(seed=1, delta=0.95)
    session = algorithmic_pricing(beta=CLASSROOM_BETA, rng=np.random.default_rng(1))
    assert classic_outcome(lesson, figures)["measured"] == pytest.approx(100 * session.mean_profit_gain)
    firm_2 = next(s for s in option["series"] if s["name"] == "firm 2")
    assert [y for _, y in firm_2["data"]] == pytest.approx(session.impulse_prices[:, 1], abs=1e-4)
    assert any("punishes" in cell for row in rows for cell in row) == session.rival_punishes
