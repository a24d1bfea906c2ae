"""The schema of a Tokenomy scenario file: every key, its default, its unit and its allowed range."""

from __future__ import annotations

import datetime as dt

from tokenomy.abm.limits import MAX_DAYS, MAX_SEED
from tokenomy.abm.scenarios.schema import Field, ListOf, Table
from tokenomy.agents.forecasting import FORECASTERS
from tokenomy.agents.registry import (
    COMPUTE_ASKING,
    COMPUTE_BIDDING,
    GENERATION_INVESTING,
    GPU_INVESTING,
    LAB_BIDDING,
    POWER_OFFERS,
    STORAGE_DISPATCH,
    STORAGE_INVESTING,
    TOKEN_PRICING,
)
from tokenomy.agents.technologies import TECHS
from tokenomy.networks.topologies import MAX_LINE_MW, MAX_REACTANCE

F = Field
PROFILES = ("evening", "business", "flat")
FIRST_START_DATE, LAST_START_DATE = dt.date(1900, 1, 1), dt.date(2200, 12, 31)  # + MAX_DAYS stays far from 9999
MAX_CASH_CNY = 1e15  # a trillion yuan a thousand times over: more than any firm holds
# entries of each trading kind (AIDCs, providers, labs, apps, enterprises): a buyer that may trade with every seller
# considers at most networks.consideration.MAX_CONSIDERED of them, so the markets and switching-cost pricing work in
# proportion to the entries; what still grows with buyers x sellers is the day's compute flow table (buyers x AIDCs x
# 24 hours, 0.4 GB at 1,000 of each). A one-day run of 1,000 of each takes about 5 s of processor time and 1.0 GB,
# a month 70 s and 1.8 GB (benchmarks/bench_scale.py, docs/model.md 6.8).
MAX_TRADING_ENTRIES = 1000


NAME_PATTERN = r"[^\W_][\w\- ]{0,79}"
NAME_RULE = (
    "a name is 1 to 80 letters, digits, '-', '_' or spaces, starting with a letter or digit "
    "(it is used in --set paths, graph files and folder names)"
)


def _name(doc: str = "") -> Field:
    return F("str", pattern=NAME_PATTERN, pattern_doc=NAME_RULE, doc=doc)


def _num(default, lo=0.0, hi=None, doc=""):
    return F("float", default, min=lo, max=hi, doc=doc)


def _rule(kind: str, default: str, doc: str) -> Field:
    """The name of the registered rule (``agents/registry.py``) an agent follows for one kind of decision."""
    return F("str", default, registry=kind, doc=doc)


def _decided(default, lo=0.0, hi=None, doc=""):
    """A price, markup or learning setting the agent owns: a starting value, never set by an event."""
    return F("float", default, min=lo, max=hi, doc=doc, decided=True)


SCENARIO = Table(
    {
        "name": _name("short name"),
        "description": F("str", "", doc="one line shown by `tokenomy scenarios`"),
        "base": F(
            "str",
            "",
            doc="a scenario this one starts from (a shipped name, or a path relative to this file): "
            "tables merge, entries merge by name, events and expected outcomes are this file's",
            file_only="the base is merged when the file is read; write 'base' in a scenario file instead",
        ),
        "start_date": F(
            "date",
            min=FIRST_START_DATE,
            max=LAST_START_DATE,
            doc="calendar date of day 0 (from 1900 to 2200: the longest run then ends in the calendar's range)",
        ),
        "days": F("int", 365, min=1, max=MAX_DAYS, doc="default horizon"),
        "seed": F("int", 1, min=0, max=MAX_SEED),
        "spin_up_days": F(
            "int",
            0,
            min=0,
            max=365,
            doc="days the markets trade in the day-0 world before day 0 (nothing grows or is recorded), so prices "
            "start where the agents' rules put them",
        ),
        "topology": F("str", "classroom", choices=("classroom", "china-8-hubs"), doc="named supply-graph builder"),
    }
)

MARKETS = Table(
    {
        "token_price_sensitivity": _num(2.0, 0.0, 50.0, "logit weight on log price"),
        "token_inertia": _num(
            0.95, 0.0, 1.0, "probability a customer stays with its provider from one day to the next at equal prices"
        ),
        "power_price_cap_cny_per_mwh": _num(1500.0, 0.0, 1e5, "value of lost load"),
        "power_price_floor_cny_per_mwh": _num(-100.0, -1e4, 0.0),
        "tight_price_share": _num(
            0.5, 0.0, 1.0, "a zone's hour is tight when its expected power price reaches this share of the cap"
        ),
        "demand_noise": _num(0.05, 0.0, 1.0, "standard deviation of the day-to-day log noise of token demand"),
        "demand_noise_persistence": _num(0.7, 0.0, 0.999, "AR(1) coefficient of that noise"),
    }
)

COMPUTE = Table(
    {
        "gpu_deliveries_per_month": _num(
            1e12, 0.0, 1e13, doc="GPUs vendors make a month for this market; orders beyond it wait in their order book"
        ),
        "contract_premium": _num(0.05, 0.0, 1.0, "term premium of a contract over the expected hourly price"),
    }
)

POLICY = Table(
    {
        "green_share_target": _num(0.0, 0.0, 1.0, "green-electricity share required of new AIDCs in hub zones"),
        "green_policy_day": F(
            "int",
            0,
            min=-100000,
            max=100000,
            doc="GPUs commissioned from this day on are obliged (a negative day reaches back to the "
            "fleet that was there before the run: -3650 obliges ten years of it)",
        ),
        "green_certificate_cny_per_mwh": _num(
            5.0,
            0.0,
            1e4,
            "what issuing a green certificate costs its seller: the price when certificates are plentiful",
        ),
        "green_penalty_cny_per_mwh": _num(
            300.0,
            0.0,
            1e5,
            "what an AIDC pays for a MWh of its green gap it cannot certify: the price when they are scarce",
        ),
        "capacity_tariff_cny_per_kw_year": _num(
            0.0, 0.0, 1e4, "paid to coal and gas plants for their capacity (China's coal capacity price, 2024: 100-165)"
        ),
    }
)

TECHNOLOGY = Table(
    {
        "marginal_cost_cny_per_mwh": _num(0.0, -1e4, 1e4),
        "capex_cny_per_kw": _num(4000.0, 1.0, 1e6, "overnight capital cost (a price: above zero)"),
        "life_years": _num(25.0, 1.0, 100.0),
        "lead_days": F("int", 365, min=0, max=5000),
        "emissions_t_per_mwh": _num(0.0, 0.0, 2.0),
        "capacity_factor": _num(1.0, 0.0, 1.0, "mean availability (solar, wind: of nameplate)"),
        "forced_outage_rate": _num(0.0, 0.0, 0.5, "mean share of a coal or gas fleet out on a day"),
        "build_mw_per_month": _num(
            0.0,
            0.0,
            1e6,
            doc="builders' scale in a zone: the MW a month at which the marginal build cost has doubled (0: none)",
        ),
    }
)

TECHNOLOGIES = Table({tech: TECHNOLOGY for tech in TECHS})

ZONE = Table(
    {
        "name": _name(),
        "region": F("str", "east", choices=("east", "west")),
        "hub": F("bool", False, doc="a national computing hub: new AIDCs there carry the green-share obligation"),
        "background_load_mw": _num(1000.0, 0.0, 5e6, "non-AI demand (China's whole peak: about 1.5e6 MW)"),
        "background_growth_per_year": _num(0.03, -0.5, 5.0),
        "flexible_load_share": _num(0.0, 0.0, 0.5, "share of background load that bids instead of taking"),
        "flexible_load_price_cny_per_mwh": _num(400.0, -1e4, 1e5),
        "solar_quality": _num(1.0, 0.0, 3.0, "multiplies the solar capacity factor"),
        "wind_quality": _num(1.0, 0.0, 3.0),
        "grid_connection_mw": _num(1e9, 0.0, 1e9, doc="spare connection capacity for new AIDC load"),
        "connection_build_mw_per_year": _num(0.0, 0.0, 1e7, doc="how fast the utility adds connection capacity"),
        "connection_lead_days": F("int", 730, min=0, max=5000),
        "flexible_headroom_share": _num(
            0.0,
            0.0,
            1.0,
            "load the grid connects at once if it holds its draw in tight hours, as a share of the zone's peak "
            "background load (Norris et al. 2025: ~0.1 at 0.25-1% curtailment)",
        ),
    }
)

LINE = Table(
    {
        "name": _name(),
        "from": F("str"),
        "to": F("str"),
        "limit_mw": _num(1000.0, 0.0, MAX_LINE_MW),
        "reactance": _num(0.0, 0.0, MAX_REACTANCE, doc="per unit; 0 = none (transport model)"),
        "capex_cny_per_mw": _num(2e6, 0.0, 1e10, doc="cost to add one MW of transfer capacity"),
        "expandable": F("bool", False),
        "lead_days": F("int", 1095, min=0, max=10000),
    }
)

UNIT = Table(
    {
        "name": _name(),
        "zone": F("str"),
        "tech": F("str", choices=TECHS),
        "capacity_mw": _num(0.0, 0.0, 1e6),
        "marginal_cost_cny_per_mwh": F("float", None, min=-1e4, max=1e4, doc="default: the technology's"),
    }
)

UTILITY = Table(
    {
        "name": _name(),
        "strategy": _rule(POWER_OFFERS, "adaptive", "how it offers its units and learns its markup"),
        "markup": _decided(0.05, 0.0, 5.0, "offer price = marginal cost x (1 + markup) for dispatchable units"),
        "invest": F("bool", True),
        "investing": _rule(GENERATION_INVESTING, "marginal-npv", "how it decides what to build"),
        "cash_cny": F("float", 0.0, min=-MAX_CASH_CNY, max=MAX_CASH_CNY),
        "units": ListOf(UNIT, min_items=0),
    }
)

STORAGE = Table(
    {
        "name": _name(),
        "zone": F("str"),
        "energy_mwh": _num(0.0, 0.0, 1e7),
        "power_mw": _num(0.0, 0.0, 1e6),
        "round_trip_efficiency": _num(0.85, 0.1, 1.0),
        "degradation_cost_cny_per_mwh": _num(50.0, 0.0, 1e4),
        "initial_soc": _num(0.5, 0.0, 1.0, "fraction of energy_mwh"),
        "capex_cny_per_kwh": _num(
            430.0,
            1.0,
            1e5,
            "0.43 CNY/Wh, 4 h system, CEEC tender Jun 2025 (a price: above zero; the order of a battery that costs "
            "next to nothing, value / capex, has no bound)",
        ),
        "life_years": _num(15.0, 1.0, 50.0),
        "strategy": _rule(STORAGE_DISPATCH, "forecast-arbitrage", "how it plans charging and discharging"),
        "invest": F("bool", True),
        "investing": _rule(STORAGE_INVESTING, "marginal-npv", "how it decides what to build"),
        "lead_days": F("int", 180, min=0, max=5000),
        "build_mwh_per_month": _num(
            0.0, 0.0, 1e6, "builders' scale: the MWh a month at which the marginal build cost has doubled (0: none)"
        ),
        "cash_cny": F("float", 0.0, min=-MAX_CASH_CNY, max=MAX_CASH_CNY),
    }
)

AIDC = Table(
    {
        "name": _name(),
        "zone": F("str"),
        "gpus": _num(1000.0, 0.0, 1e8, "accelerators online at the start (the world has about 1e7)"),
        "age_years": _num(1.5, 0.0, 30.0, "mean age of the initial fleet (spread evenly over twice that)"),
        "gpus_on_order": _num(0.0, 0.0, 1e8, "GPUs ordered before the start: first in the vendors' order book"),
        "pue": _num(1.25, 1.0, 3.0),
        "busy_kw_per_gpu": _num(1.4, 0.01, 20.0, "node-level draw of a busy accelerator"),
        "idle_kw_per_gpu": _num(0.4, 0.0, 20.0),
        "capex_cny_per_gpu": _num(250000.0, 0.0, 1e8),
        "life_years": _num(5.0, 0.5, 30.0, "economic life; cohorts retire after it"),
        "om_cny_per_gpu_hour": _num(0.5, 0.0, 1e4, "variable operations of a busy GPU-hour"),
        "fixed_om_cny_per_gpu_year": _num(8000.0, 0.0, 1e7, "staff, maintenance, network of an online GPU"),
        "strategy": _rule(COMPUTE_ASKING, "revenue", "how it asks for its GPU-hours and learns its scarcity markup"),
        "markup": _decided(0.3, 0.0, 3.0, "scarcity rent on the top tranches, in capital costs of a GPU-hour"),
        "markup_step": _decided(0.05, 0.0, 1.0, "how far a review moves the scarcity markup"),
        "markup_review_days": _decided(7.0, 1.0, 365.0, "revenue rule: days between reviews of the markup"),
        "invest": F("bool", True),
        "investing": _rule(GPU_INVESTING, "marginal-npv", "how it decides how many GPUs to order"),
        "forecaster": F("str", "adaptive", choices=FORECASTERS, doc="how it forecasts the margin of a GPU"),
        "forecast_noise": _num(0.1, 0.0, 2.0, "log-normal error of its monthly margin forecast"),
        "supply_line_weight": _num(0.5, 0.0, 1.0, "weight it gives the market's GPUs on order (0: ignores them)"),
        "lead_days": F("int", 180, min=0, max=5000),
        "hurdle": _num(0.1, 0.0, 1.0, "hurdle rate (per year) an investment must earn"),
        "min_order_gpus": _num(100.0, 0.0, 1e7),
        "outage_rate_per_year": _num(0.0, 0.0, 365.0, "outages a year (random, seeded)"),
        "outage_share": _num(0.05, 0.0, 0.5, "mean share of the online fleet an outage takes down"),
        "outage_days": F("int", 3, min=1, max=365),
        "cash_cny": F("float", 0.0, min=-MAX_CASH_CNY, max=MAX_CASH_CNY),
    }
)

PROVIDER = Table(
    {
        "name": _name(),
        "strategy": _rule(
            TOKEN_PRICING,
            "switching-cost",
            "token pricing: today's margin plus the value of share (switching costs), the static Lerner best "
            "response, Roth-Erev, fixed, Q-learning...",
        ),
        "bidding": _rule(COMPUTE_BIDDING, "forecast", "how it bids for compute"),
        "price_cny_per_mtok": _decided(10.0, 1e-6, 1e6, "starting price"),
        "price_step": _decided(0.03, 0.0, 1.0, "largest daily relative price change"),
        "price_adjustment": _decided(0.1, 0.001, 1.0, "share of the way to its target price moved per day"),
        "min_margin": _decided(0.05, -0.9, 10.0, "least markup over unit cost"),
        "max_markup": _decided(3.0, 0.05, 100.0, "largest markup over unit cost"),
        "mtok_per_gpu_hour": _num(2.0, 1e-6, 1e6, "inference throughput"),
        "efficiency_growth_per_year": _num(0.0, -0.9, 100.0),
        "reserve": _num(0.05, 0.0, 2.0, "GPU-hours bought beyond the forecast need, as a share of it"),
        "contract_share": _num(0.5, 0.0, 1.0, "share of the expected need held under term contracts"),
        "contract_months": F("int", 6, min=1, max=12, doc="length of a new term contract"),
        "launch_rate_per_year": _num(0.0, 0.0, 50.0, "model launches a year (random, seeded)"),
        "launch_efficiency_gain": _num(0.1, 0.0, 5.0, "mean efficiency jump of a launch"),
        "launch_appeal_gain": _num(0.3, 0.0, 10.0, "jump of its appeal to buyers (decays, half-life 60 days)"),
        "imitation_rate_per_year": _num(
            0.0, 0.0, 365.0, "how often a year it catches up with the most efficient rival (random, seeded)"
        ),
        "imitation_share": _num(0.5, 0.0, 1.0, "share of the efficiency gap to the best rival a catch-up closes"),
        "share_horizon_days": _decided(365.0, 0.0, 3650.0, "switching-cost pricing: days of retained demand it values"),
        "price_hold_days": _decided(30.0, 1.0, 365.0, "switching-cost pricing: how long it plans to hold a price"),
        "aidcs": F("strs", [], doc="AIDCs it may buy from; empty = all"),
        "cash_cny": F("float", 0.0, min=-MAX_CASH_CNY, max=MAX_CASH_CNY),
    }
)

LAB = Table(
    {
        "name": _name(),
        "strategy": _rule(LAB_BIDDING, "demand-curve", "how it bids for compute"),
        "gpu_hours_per_day": _num(1e5, 0.0, 1e9, doc="GPU-hours a day its training plan needs"),
        "elasticity": _num(0.5, 0.05, 10.0, "how much more than its plan it trains when compute is cheaper"),
        "max_multiple": _num(2.0, 1.0, 100.0, "most it wants however cheap compute is, as a multiple of its plan"),
        "budget_cny_per_day": _num(1.5e6, 0.0, 1e12, doc="what it can spend on compute a day"),
        "growth_per_year": _num(0.0, -0.99, 100.0, "growth of its plan (compute per model generation)"),
        "budget_growth_per_year": _num(0.0, -0.99, 100.0),
        "demand_noise": _num(0.05, 0.0, 1.0),
        "aidcs": F("strs", [], doc="AIDCs it may buy from; empty = all"),
        "cash_cny": F("float", 0.0, min=-MAX_CASH_CNY, max=MAX_CASH_CNY),
    }
)

APP = Table(
    {
        "name": _name(),
        "users": _num(1e6, 0.0, 1e10, "users today (the world has 8e9 people)"),
        "market_size_users": _num(1e7, 0.0, 1e10),
        "bass_p_per_year": _num(0.03, 0.0, 10.0),
        "bass_q_per_year": _num(0.4, 0.0, 50.0),
        "requests_per_user_per_day": _num(10.0, 0.0, 1e4),
        "mtok_per_request": _num(0.001, 0.0, 100.0, "tokens per request, in Mtok"),
        "tokens_per_request_growth_per_year": _num(0.0, -0.9, 100.0),
        "agentic_share": _num(0.0, 0.0, 1.0),
        "agent_multiplier": _num(4.0, 1.0, 1000.0, "tokens of an agentic request over a chat one"),
        "elasticity": _num(1.5, 0.0, 10.0, "shape of the log-logistic spread of request values"),
        "revenue_cny_per_request": _num(0.05, 0.0, 1e6, "median value (and revenue) of a request"),
        "profile": F("str", "evening", choices=PROFILES),
        "providers": F("strs", []),
        "cash_cny": F("float", 0.0, min=-MAX_CASH_CNY, max=MAX_CASH_CNY),
    }
)

ENTERPRISE = Table(
    {
        "name": _name(),
        "firms": _num(10000.0, 0.0, 1e9),
        "adoption": _num(0.1, 0.0, 1.0, "initial share of firms using AI"),
        "ceiling": _num(0.7, 0.0, 1.0),
        "bass_p_per_year": _num(0.05, 0.0, 10.0),
        "bass_q_per_year": _num(0.5, 0.0, 50.0),
        "mtok_per_firm_per_day": _num(1.0, 0.0, 1e6),
        "usage_growth_per_year": _num(0.0, -0.9, 100.0),
        "agentic_share": _num(0.0, 0.0, 1.0),
        "agent_multiplier": _num(4.0, 1.0, 1000.0),
        "elasticity": _num(0.3, 0.0, 10.0),
        "reference_price_cny_per_mtok": _num(10.0, 1e-6, 1e6),
        "budget_cny_per_firm_per_day": _num(1e9, 0.0, 1e9),
        "profile": F("str", "business", choices=PROFILES),
        "providers": F("strs", []),
        "cash_cny": F("float", 0.0, min=-MAX_CASH_CNY, max=MAX_CASH_CNY),
    }
)

EVENT = Table(
    {
        "day": F("int", min=0, max=MAX_DAYS),
        "set": F("str", doc="dotted path, e.g. apps.chat.agent_multiplier or apps.*.agentic_share"),
        "value": F("float", min=-1e12, max=1e12),
        "ramp_days": F("int", 0, min=0, max=100000),
        "note": F("str", ""),
    },
    doc="timeline",
)

CHECK = Table(
    {
        "name": _name("short name of the check, unique in the scenario"),
        "claim": F("str", "", doc="what the check says, in plain words"),
        "metric": F("str", doc="a daily-table column, or an hourly-table column (then 'zones' may filter it)"),
        "zones": F("strs", [], doc="hourly metric only: zones whose rows count; empty = every zone"),
        "agg": F(
            "str",
            "mean",
            choices=("mean", "max", "min", "sum", "last", "std"),
            doc="how the window's rows become one number",
        ),
        "days": F("floats", min=0.0, max=float(MAX_DAYS), length=2, doc="window [first day, end day): end excluded"),
        "compare": F(
            "str",
            "threshold",
            choices=("threshold", "window", "baseline"),
            doc="threshold: the value itself; window: change against 'against_days' of the same run; "
            "baseline: change against the same window of a run with the 'baseline' overrides",
        ),
        "against_days": F("floats", [], min=0.0, max=float(MAX_DAYS), doc="window compare: the other window"),
        "baseline": F("strs", [], doc="baseline compare: overrides (path=value) that undo the scenario's change"),
        "change": F(
            "str",
            "relative",
            choices=("relative", "absolute"),
            doc="window/baseline compare: value / reference - 1, or value - reference",
        ),
        "op": F("str", ">=", choices=(">=", "<=", "between")),
        "value": F("float", 0.0, min=-1e300, max=1e300, doc="threshold (or lower bound for 'between')"),
        "upper": F("float", None, min=-1e300, max=1e300, doc="upper bound for 'between'"),
        "tolerance": F("float", 0.0, min=0.0, doc="slack on the comparison, in the compared quantity's units"),
        "twin": F(
            "strs",
            [],
            doc="the counterfactual twin: overrides (path=value) that switch the claimed mechanism off; the check "
            "must fail there (a baseline check's twin is its baseline when this is empty)",
        ),
        "twin_without_events": F("bool", False, doc="the twin also drops the scenario's events"),
        "status": F(
            "str",
            "active",
            choices=("active", "needs-model-change"),
            doc="needs-model-change: reported, not enforced (see note)",
        ),
        "note": F("str", ""),
    }
)

EXPECTED = Table(
    {
        "claim": F("str", "", doc="the scenario's expected outcome in plain words"),
        "days": F("int", 0, min=0, max=20000, doc="horizon of check runs; 0 = the end of the latest window"),
        "checks": ListOf(CHECK),
    },
    doc="expected outcome, checked by `tokenomy check`",
)

PLAYABLE_ROLES = ("providers", "aidcs", "storage", "utilities")  # the kinds of firm a student may run
MAX_ROUND_SECONDS = 3600

CLASSROOM = Table(
    {
        "roles": F(
            "strs",
            ["providers"],
            doc=f"the kinds of firm students may run: some of {', '.join(PLAYABLE_ROLES)} (tokenomy classroom)",
        ),
        "seats": F("strs", [], doc="the entries of those kinds students may run, by name; empty = every one of them"),
        "rounds": F("int", 0, min=0, max=MAX_DAYS, doc="rounds of the game; 0 = as many as the horizon holds"),
        "days_per_round": F("int", 7, min=1, max=365, doc="simulated days a round advances"),
        "round_seconds": F(
            "int", 60, min=0, max=MAX_ROUND_SECONDS, doc="the round's timer: it closes after this long (0: no timer)"
        ),
        "team_size": F("int", 4, min=1, max=100, doc="students who may share one firm"),
    },
    doc="the classroom game: which firms students play, and the rounds",
)

ROOT = Table(
    {
        "scenario": SCENARIO,
        "markets": MARKETS,
        "compute": COMPUTE,
        "policy": POLICY,
        "technologies": TECHNOLOGIES,
        "zones": ListOf(ZONE, min_items=1, max_items=100),
        "lines": ListOf(LINE),
        "utilities": ListOf(UTILITY),
        "storage": ListOf(STORAGE),
        "aidcs": ListOf(AIDC, max_items=MAX_TRADING_ENTRIES),
        "providers": ListOf(PROVIDER, max_items=MAX_TRADING_ENTRIES),
        "labs": ListOf(LAB, max_items=MAX_TRADING_ENTRIES),
        "apps": ListOf(APP, max_items=MAX_TRADING_ENTRIES),
        "enterprises": ListOf(ENTERPRISE, max_items=MAX_TRADING_ENTRIES),
        "events": ListOf(EVENT, key=None, max_items=10000),
        "expected": EXPECTED,
        "classroom": CLASSROOM,
    }
)
