"""``tokenomy check SCENARIO`` and ``tokenomy lesson call-market|double-auction|cobweb|list``."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from tokenomy.abm.cli.argtypes import positive_int
from tokenomy.abm.errors import UsageError

EXIT_FAILED = 1


_count = positive_int


def _floats(text: str) -> list[float]:
    try:
        out = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not out:
        raise argparse.ArgumentTypeError("expected at least one number")
    return out


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def register(subparsers) -> dict:
    check = subparsers.add_parser("check", help="run a scenario's expected-outcome checks over seeds")
    check.add_argument("scenario", help="a shipped scenario name or a path to a .toml file")
    check.add_argument("--seeds", type=_count, default=3, help="how many seeds (the scenario's seed and the next)")
    check.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a scenario value in every run (scenario and baselines)")
    lesson = subparsers.add_parser("lesson", help="classic markets: call-market, double-auction, cobweb; or list")
    sub = lesson.add_subparsers(dest="lesson", required=True, parser_class=type(lesson))
    cm = sub.add_parser("call-market", help="call auction on step curves (the chain's compute-market clearing)")
    cm.add_argument("--values", type=_floats, default=[10, 9, 8, 7, 6, 5, 4, 3],
                    help="buyers' values (one unit each), comma-separated")
    cm.add_argument("--costs", type=_floats, default=[2, 3, 4, 5, 6, 7, 8, 9],
                    help="sellers' costs (one unit each), comma-separated")
    da = sub.add_parser("double-auction", help="zero-intelligence traders, ZI-C vs ZI-U (Gode and Sunder 1993)")
    da.add_argument("--traders", type=_count, default=6, help="buyers (and as many sellers)")
    da.add_argument("--units", type=_count, default=3, help="units per trader")
    da.add_argument("--periods", type=_count, default=10)
    da.add_argument("--shouts", type=_count, default=3000, help="shouts per period")
    da.add_argument("--seed", type=int, default=0)
    cw = sub.add_parser("cobweb", help="supply that reacts to last period's price")
    cw.add_argument("--demand-intercept", type=float, default=100.0, help="a in demand Q = a - b P")
    cw.add_argument("--demand-slope", type=_positive, default=1.0, help="b in demand Q = a - b P")
    cw.add_argument("--supply-intercept", type=float, default=10.0, help="c in supply Q = c + d P(t-1)")
    cw.add_argument("--supply-slope", type=_positive, default=0.8, help="d in supply Q = c + d P(t-1)")
    cw.add_argument("--p0", type=float, help="starting price (default 1.5 P*)")
    cw.add_argument("--periods", type=_count, default=20)
    sub.add_parser("list", help="the lessons in docs/lessons/")
    return {"check": cmd_check, "lesson": cmd_lesson}


def cmd_check(args: argparse.Namespace) -> int:
    from tokenomy.abm.checks import format_result, run_checks
    from tokenomy.abm.scenarios import load_scenario

    scenario = load_scenario(args.scenario, args.set)
    if not scenario.data["expected"]["checks"]:
        raise UsageError(f"scenario '{args.scenario}' states no expected outcome ([[expected.checks]])")
    results = run_checks(args.scenario, args.seeds, args.set)
    claim = scenario.data["expected"]["claim"]
    print(f"{scenario.name}: {len(results)} checks over {args.seeds} seed(s)")
    if claim:
        print(f"  claim: {claim}")
    for r in results:
        print(format_result(r))
    failed = [r for r in results if r.status == "failed"]
    pending = [r for r in results if r.status == "pending"]
    passed = len(results) - len(failed) - len(pending)
    print(f"{passed} passed, {len(failed)} failed" + (f", {len(pending)} pending (not enforced)" if pending else ""))
    return EXIT_FAILED if failed else 0


def _cmd_call_market(args) -> int:
    from tokenomy.abm.lessons.markets import call_market

    r = call_market(args.values, args.costs)
    print("call market (cleared by the chain's compute-market call auction)")
    print(f"  {'':22s} {'theory':>10s} {'simulated':>10s}")
    print(f"  {'price P*':22s} {r.theory_price:10.3f} {r.price:10.3f}   (equilibrium interval "
          f"[{r.theory_price_low:g}, {r.theory_price_high:g}])")
    print(f"  {'quantity Q*':22s} {r.theory_quantity:10.3f} {r.quantity:10.3f}")
    print(f"  {'total surplus':22s} {r.theory_surplus:10.3f} {r.surplus:10.3f}   (buyers {r.buyer_surplus:.3f}, "
          f"sellers {r.seller_surplus:.3f})")
    return 0


def _cmd_double_auction(args) -> int:
    from tokenomy.abm.lessons.markets import double_auction, symmetric_market

    values, costs = symmetric_market(args.traders, args.units)
    out = {}
    for constrained in (True, False):
        out[constrained] = double_auction(values, costs, constrained=constrained, periods=args.periods,
                                          shouts=args.shouts, rng=np.random.default_rng(args.seed))
    c, u = out[True], out[False]
    print(f"continuous double auction, {args.traders} buyers x {args.traders} sellers x {args.units} units "
          f"(symmetric market); theory P* = {c.theory_price:g}, Q* = {c.theory_quantity:g}, efficiency 100%")
    cols = f"{'trades':>6s} {'price':>7s}"
    print(f"  {'period':>6s} {'ZI-C eff':>9s} {cols}   {'ZI-U eff':>9s} {cols}")
    for t in range(args.periods):
        print(f"  {t + 1:6d} {c.efficiency[t]:9.1%} {c.trades[t]:6d} {c.mean_price[t]:7.1f}   "
              f"{u.efficiency[t]:9.1%} {u.trades[t]:6d} {u.mean_price[t]:7.1f}")
    print(f"  {'mean':>6s} {c.mean_efficiency:9.1%} {c.trades.mean():6.1f} {np.nanmean(c.mean_price):7.1f}   "
          f"{u.mean_efficiency:9.1%} {u.trades.mean():6.1f} {np.nanmean(u.mean_price):7.1f}")
    return 0


def _cmd_cobweb(args) -> int:
    from tokenomy.abm.lessons.markets import cobweb

    try:
        r = cobweb(args.demand_intercept, args.demand_slope, args.supply_intercept, args.supply_slope, args.p0,
                   args.periods)
    except ValueError as exc:
        raise UsageError(f"tokenomy lesson cobweb: {exc}") from None
    print(f"cobweb: theory P* = {r.theory_price:.3f}, Q* = {r.theory_quantity:.3f}; "
          f"ratio supply/demand slope = {r.theory_ratio:.3f} ({r.regime}); simulated ratio {r.measured_ratio:.3f}")
    print(f"  {'t':>3s} {'price':>10s} {'quantity':>10s}")
    for t in range(r.price.size):
        print(f"  {t:3d} {r.price[t]:10.3f} {r.quantity[t]:10.3f}")
    return 0


def _cmd_list(_args) -> int:
    from tokenomy.abm.lessons.catalog import list_lessons

    for lesson in list_lessons():
        where = lesson.scenario or lesson.market
        print(f"{lesson.name:32s} {where:24s} {lesson.title}")
    return 0


def cmd_lesson(args: argparse.Namespace) -> int:
    handler = {"call-market": _cmd_call_market, "double-auction": _cmd_double_auction, "cobweb": _cmd_cobweb,
               "list": _cmd_list}[args.lesson]
    code = handler(args)
    sys.stdout.flush()
    return code
