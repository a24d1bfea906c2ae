"""``tokenomy check SCENARIO`` and ``tokenomy lesson call-market|double-auction|cobweb|algorithmic-pricing|list``."""

from __future__ import annotations

import argparse
import math
import sys

from tokenomy.abm.cli.argtypes import finite_number, whole_number
from tokenomy.abm.errors import UsageError, printable
from tokenomy.abm.lessons.limits import DEFAULT_MAX_PERIODS as DEFAULT_Q_PERIODS
from tokenomy.abm.lessons.limits import MAX_LESSON_PRICE, MAX_STEPS, PAPER_ALPHA, PAPER_BETA, PAPER_DELTA
from tokenomy.abm.lessons.limits import MAX_PERIODS as MAX_Q_PERIODS
from tokenomy.abm.limits import MAX_SEED

EXIT_FAILED = 1
MAX_CHECK_SEEDS = 100
MAX_TRADERS = 200
MAX_UNITS = 50
MAX_PERIODS = 1000
MAX_SHOUTS = 100_000
MAX_AUCTION_SHOUTS = 300_000  # periods x shouts of one double auction: a few seconds for both kinds of trader
MAX_COBWEB_LEVEL = 1e6  # intercepts and starting price
MAX_COBWEB_SLOPE = 1e3
MIN_COBWEB_SLOPE = 1e-3  # flatter than this, the ratio of the slopes leaves the range floats hold
MIN_Q_BETA = 1e-7  # slower exploration decay than this cannot end within the cap of periods (exp(-2) at 2e7)
MAX_Q_BETA = 1e-2  # faster, exploration is over within a few hundred periods
MAX_Q_DELTA = 0.999  # the discount factor must stay below 1: Q values scale with 1 / (1 - delta)


def _prices(text: str) -> list[float]:
    """Comma-separated prices: finite, in [0, MAX_LESSON_PRICE], at most MAX_STEPS of them."""
    try:
        out = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text[:40]!r}") from None
    if not out:
        raise argparse.ArgumentTypeError("expected at least one number")
    if len(out) > MAX_STEPS:
        raise argparse.ArgumentTypeError(f"at most {MAX_STEPS} numbers, got {len(out)}")
    bad = [x for x in out if not (math.isfinite(x) and 0.0 <= x <= MAX_LESSON_PRICE)]
    if bad:
        raise argparse.ArgumentTypeError(f"prices must be finite and in [0, {MAX_LESSON_PRICE:g}], got {bad[0]:g}")
    return out


def register(subparsers) -> dict:
    check = subparsers.add_parser("check", help="run a scenario's expected-outcome checks over seeds")
    check.add_argument("scenario", help="a shipped scenario name or a path to a .toml file")
    check.add_argument(
        "--seeds",
        type=whole_number(1, maximum=MAX_CHECK_SEEDS),
        default=3,
        help="how many seeds (the scenario's seed and the next)",
    )
    check.add_argument(
        "--twins",
        action="store_true",
        help="judge each check on its counterfactual twin (the world without its mechanism), where it must fail",
    )
    check.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value in every run (scenario and baselines)",
    )
    lesson = subparsers.add_parser(
        "lesson", help="classic markets: call-market, double-auction, cobweb, algorithmic-pricing; or list"
    )
    sub = lesson.add_subparsers(dest="lesson", required=True, parser_class=type(lesson))
    cm = sub.add_parser("call-market", help="call auction on step curves (the chain's compute-market clearing)")
    cm.add_argument(
        "--values",
        type=_prices,
        default=[10, 9, 8, 7, 6, 5, 4, 3],
        help="buyers' values (one unit each), comma-separated",
    )
    cm.add_argument(
        "--costs",
        type=_prices,
        default=[2, 3, 4, 5, 6, 7, 8, 9],
        help="sellers' costs (one unit each), comma-separated",
    )
    da = sub.add_parser("double-auction", help="zero-intelligence traders, ZI-C vs ZI-U (Gode and Sunder 1993)")
    da.add_argument(
        "--traders",
        type=whole_number(1, maximum=MAX_TRADERS),
        default=6,
        help=f"buyers (and as many sellers), at most {MAX_TRADERS}",
    )
    da.add_argument(
        "--units", type=whole_number(1, maximum=MAX_UNITS), default=3, help=f"units per trader, at most {MAX_UNITS}"
    )
    da.add_argument("--periods", type=whole_number(1, maximum=MAX_PERIODS), default=10)
    da.add_argument(
        "--shouts",
        type=whole_number(1, maximum=MAX_SHOUTS),
        default=3000,
        help=f"shouts per period (periods x shouts at most {MAX_AUCTION_SHOUTS:,})",
    )
    da.add_argument("--seed", type=whole_number(0, maximum=MAX_SEED), default=0)
    cw = sub.add_parser("cobweb", help="supply that reacts to last period's price")
    level = finite_number(-MAX_COBWEB_LEVEL, MAX_COBWEB_LEVEL)
    slope = finite_number(MIN_COBWEB_SLOPE, MAX_COBWEB_SLOPE, above=0.0)
    cw.add_argument("--demand-intercept", type=level, default=100.0, help="a in demand Q = a - b P")
    cw.add_argument("--demand-slope", type=slope, default=1.0, help="b in demand Q = a - b P")
    cw.add_argument("--supply-intercept", type=level, default=10.0, help="c in supply Q = c + d P(t-1)")
    cw.add_argument("--supply-slope", type=slope, default=0.8, help="d in supply Q = c + d P(t-1)")
    cw.add_argument(
        "--p0", type=finite_number(maximum=MAX_COBWEB_LEVEL, above=0.0), help="starting price, > 0 (default 1.5 P*)"
    )
    cw.add_argument("--periods", type=whole_number(1, maximum=MAX_PERIODS), default=20)
    ap = sub.add_parser(
        "algorithmic-pricing",
        help="Q-learning firms in a repeated pricing game: do they collude? (Calvano et al. 2020)",
    )
    ap.add_argument("--seed", type=whole_number(0, maximum=MAX_SEED), default=0)
    ap.add_argument(
        "--alpha", type=finite_number(maximum=1.0, above=0.0), default=PAPER_ALPHA, help="learning rate, in (0, 1]"
    )
    ap.add_argument(
        "--delta",
        type=finite_number(0.0, MAX_Q_DELTA),
        default=PAPER_DELTA,
        help=f"discount factor, in [0, {MAX_Q_DELTA:g}] (0: myopic firms)",
    )
    ap.add_argument(
        "--beta",
        type=finite_number(MIN_Q_BETA, MAX_Q_BETA),
        default=PAPER_BETA,
        help=f"exploration decays as exp(-beta t), beta in [{MIN_Q_BETA:g}, {MAX_Q_BETA:g}] (2e-5: a quicker session)",
    )
    ap.add_argument(
        "--periods",
        type=whole_number(1, maximum=MAX_Q_PERIODS),
        default=DEFAULT_Q_PERIODS,
        help=f"the cap of periods if the strategies have not converged (at most {MAX_Q_PERIODS:,})",
    )
    ap.add_argument(
        "--memory",
        type=whole_number(0, maximum=1),
        default=1,
        help="1: a firm's state is last period's prices (the paper); 0: no state, so it cannot punish",
    )
    sub.add_parser("list", help="the lessons in docs/lessons/")
    return {"check": cmd_check, "lesson": cmd_lesson}


def cmd_check(args: argparse.Namespace) -> int:
    from tokenomy.abm.checks import format_result, run_checks
    from tokenomy.abm.scenarios import load_scenario

    scenario = load_scenario(args.scenario, args.set)
    if not scenario.data["expected"]["checks"]:
        raise UsageError(f"scenario '{args.scenario}' states no expected outcome ([[expected.checks]])")
    if getattr(args, "twins", False):
        return _cmd_twins(args, scenario)
    results = run_checks(args.scenario, args.seeds, args.set)
    claim = scenario.data["expected"]["claim"]
    print(f"{scenario.name}: {len(results)} checks over {args.seeds} seed(s)")
    if claim:
        print(f"  claim: {printable(claim)}")
    for r in results:
        print(format_result(r))  # its claim, test and note are printable
    failed = [r for r in results if r.status == "failed"]
    pending = [r for r in results if r.status == "pending"]
    passed = len(results) - len(failed) - len(pending)
    print(f"{passed} passed, {len(failed)} failed" + (f", {len(pending)} pending (not enforced)" if pending else ""))
    return EXIT_FAILED if failed else 0


def _cmd_twins(args: argparse.Namespace, scenario) -> int:
    """Each check on its counterfactual twin, where an earned outcome fails: exit 0 when every check fails there."""
    from tokenomy.abm.checks import format_result, run_twin_checks, twin_of

    results = run_twin_checks(args.scenario, args.seeds, args.set)
    checks = {c["name"]: c for c in scenario.data["expected"]["checks"]}
    print(f"{scenario.name}: {len(results)} checks on their counterfactual twins over {args.seeds} seed(s)")
    for r in results:
        twin, events = twin_of(checks[r.name])
        print(printable(f"twin of {r.name}: {'; '.join(twin) or 'no change'}{'' if events else ' (no events)'}"))
        print(format_result(r))
    shown = [r.name for r in results if r.status == "passed"]
    print(
        f"{len(results) - len(shown)} fail on their twin (earned), {len(shown)} still hold there"
        + (f": {', '.join(shown)}" if shown else "")
    )
    return EXIT_FAILED if shown else 0


def _cmd_call_market(args) -> int:
    from tokenomy.abm.lessons.markets import call_market

    r = call_market(args.values, args.costs)
    print("call market (cleared by the chain's compute-market call auction)")
    print(f"  {'':22s} {'theory':>10s} {'simulated':>10s}")
    print(
        f"  {'price P*':22s} {r.theory_price:10.3f} {r.price:10.3f}   (equilibrium interval "
        f"[{r.theory_price_low:g}, {r.theory_price_high:g}])"
    )
    print(f"  {'quantity Q*':22s} {r.theory_quantity:10.3f} {r.quantity:10.3f}")
    print(
        f"  {'total surplus':22s} {r.theory_surplus:10.3f} {r.surplus:10.3f}   (buyers {r.buyer_surplus:.3f}, "
        f"sellers {r.seller_surplus:.3f})"
    )
    return 0


def _cmd_double_auction(args) -> int:
    import numpy as np

    from tokenomy.abm.lessons.markets import double_auction, symmetric_market

    if args.periods * args.shouts > MAX_AUCTION_SHOUTS:
        raise UsageError(
            f"tokenomy lesson double-auction: --periods x --shouts = {args.periods * args.shouts:,}; "
            f"at most {MAX_AUCTION_SHOUTS:,}"
        )
    values, costs = symmetric_market(args.traders, args.units)
    out = {}
    for constrained in (True, False):
        out[constrained] = double_auction(
            values,
            costs,
            constrained=constrained,
            periods=args.periods,
            shouts=args.shouts,
            rng=np.random.default_rng(args.seed),
        )
    c, u = out[True], out[False]
    print(
        f"continuous double auction, {args.traders} buyers x {args.traders} sellers x {args.units} units "
        f"(symmetric market); theory P* = {c.theory_price:g}, Q* = {c.theory_quantity:g}, efficiency 100%"
    )
    cols = f"{'trades':>6s} {'price':>7s}"
    print(f"  {'period':>6s} {'ZI-C eff':>9s} {cols}   {'ZI-U eff':>9s} {cols}")
    for t in range(args.periods):
        print(
            f"  {t + 1:6d} {c.efficiency[t]:9.1%} {c.trades[t]:6d} {_price(c.mean_price[t])}   "
            f"{u.efficiency[t]:9.1%} {u.trades[t]:6d} {_price(u.mean_price[t])}"
        )
    print(
        f"  {'mean':>6s} {c.mean_efficiency:9.1%} {c.trades.mean():6.1f} {_price(_mean_of_traded(c.mean_price))}   "
        f"{u.mean_efficiency:9.1%} {u.trades.mean():6.1f} {_price(_mean_of_traded(u.mean_price))}"
    )
    return 0


def _mean_of_traded(prices) -> float:
    import numpy as np

    traded = prices[np.isfinite(prices)]
    return float(traded.mean()) if traded.size else float("nan")


def _price(x: float) -> str:
    """A mean price, or a dash for a period without a trade."""
    return f"{x:7.1f}" if math.isfinite(x) else f"{'-':>7s}"


def _cmd_cobweb(args) -> int:
    from tokenomy.abm.lessons.markets import cobweb

    try:
        r = cobweb(
            args.demand_intercept, args.demand_slope, args.supply_intercept, args.supply_slope, args.p0, args.periods
        )
    except ValueError as exc:
        raise UsageError(f"tokenomy lesson cobweb: {exc}") from None
    print(
        f"cobweb: theory P* = {r.theory_price:.3f}, Q* = {r.theory_quantity:.3f}; "
        f"ratio supply/demand slope = {r.theory_ratio:.3f} ({r.regime}); simulated ratio {r.measured_ratio:.3f}"
    )
    print(f"  {'t':>3s} {'price':>10s} {'quantity':>10s}")
    for t in range(r.price.size):
        print(f"  {t:3d} {r.price[t]:10.3f} {r.quantity[t]:10.3f}")
    return 0


def _cmd_algorithmic_pricing(args) -> int:
    import numpy as np

    from tokenomy.abm.lessons.algorithmic_pricing import STABLE_PERIODS, algorithmic_pricing

    r = algorithmic_pricing(
        alpha=args.alpha,
        delta=args.delta,
        beta=args.beta,
        max_periods=args.periods,
        memory=args.memory,
        rng=np.random.default_rng(args.seed),
    )
    state = "last period's prices" if r.memory else "none (memoryless)"
    print("algorithmic pricing: two Q-learning firms, logit demand (Calvano, Calzolari, Denicolo and Pastorello 2020)")
    print(f"  alpha {r.alpha:g}, delta {r.delta:g}, beta {r.beta:g}, state: {state}, seed {args.seed}")
    ending = (
        f"converged after {r.periods:,} periods (greedy strategies unchanged for {STABLE_PERIODS:,})"
        if r.converged
        else f"not converged within the cap of {r.periods:,} periods: the outcome is the strategies at the cap"
    )
    print(f"  {ending}; limit path of {r.limit_prices.shape[0]} period(s)")
    print(f"  {'':24s} {'Nash':>9s} {'monopoly':>9s} {'simulated':>10s}")
    for i in range(r.limit_prices.shape[1]):
        mean_price = r.limit_prices[:, i].mean()
        print(f"  {f'price, firm {i + 1}':24s} {r.nash_price:9.3f} {r.monopoly_price:9.3f} {mean_price:10.3f}")
    print(f"  {'profit per firm':24s} {r.nash_profit:9.4f} {r.monopoly_profit:9.4f} {r.limit_profits.mean():10.4f}")
    gains = ", ".join(f"firm {i + 1} {g:.3f}" for i, g in enumerate(r.profit_gain))
    print(f"  {'profit gain Delta':24s} {0.0:9.3f} {1.0:9.3f} {r.mean_profit_gain:10.3f}   ({gains})")
    print("  impulse response: firm 1 deviates to its static best response in period 0, then both follow their")
    print("  greedy strategies (without the deviation, the limit path)")
    print(f"  {'t':>4s} {'firm 1':>8s} {'firm 2':>8s}   {'firm 1':>8s} {'firm 2':>8s} (no deviation)")
    for t, row, calm in zip(r.impulse_periods, r.impulse_prices, r.undisturbed_prices, strict=True):
        print(f"  {t:4d} {row[0]:8.3f} {row[1]:8.3f}   {calm[0]:8.3f} {calm[1]:8.3f}")
    reaction = "punishes it with a lower price" if r.rival_punishes else "does not lower its price"
    print(f"  in period 1 firm 2 {reaction}")
    return 0


def _cmd_list(_args) -> int:
    from tokenomy.abm.lessons.catalog import list_lessons

    for lesson in list_lessons():
        where = lesson.scenario or lesson.market
        print(f"{lesson.name:32s} {where:24s} {lesson.title}")
    return 0


def cmd_lesson(args: argparse.Namespace) -> int:
    handler = {
        "call-market": _cmd_call_market,
        "double-auction": _cmd_double_auction,
        "cobweb": _cmd_cobweb,
        "algorithmic-pricing": _cmd_algorithmic_pricing,
        "list": _cmd_list,
    }[args.lesson]
    code = handler(args)
    sys.stdout.flush()
    return code
