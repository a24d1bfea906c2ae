"""The schema of a Tokenomy scenario file: every key, its default, its unit and its allowed range."""

from __future__ import annotations

from abm.scenarios.schema import Field, ListOf, Table

F = Field
TECHS = ("coal", "gas", "nuclear", "hydro", "wind", "solar")
STRATEGIES = ("adaptive", "roth-erev")
PROFILES = ("evening", "business", "flat")


def _num(default, lo=0.0, hi=None, doc=""):
    return F("float", default, min=lo, max=hi, doc=doc)


SCENARIO = Table({
    "name": F("str", doc="short name"),
    "description": F("str", "", doc="one line shown by `tokenomy scenarios`"),
    "start_date": F("date", doc="calendar date of day 0"),
    "days": F("int", 365, min=1, max=20000, doc="default horizon"),
    "seed": F("int", 1, min=0),
    "topology": F("str", "classroom", choices=("classroom", "china-8-hubs"),
                  doc="named supply-graph builder"),
})

MARKETS = Table({
    "token_price_sensitivity": _num(2.0, 0.0, 50.0, "logit weight on log price"),
    "token_inertia": _num(0.8, 0.0, 1.0, "share of yesterday's split kept"),
    "power_price_cap_cny_per_mwh": _num(1500.0, 0.0, 1e5, "value of lost load"),
    "power_price_floor_cny_per_mwh": _num(-100.0, -1e4, 0.0),
})

COMPUTE = Table({
    "training_gpu_hours_per_day": _num(0.0, doc="exogenous non-token compute demand (training)"),
    "training_growth_per_year": _num(0.0, -0.99, 100.0),
    "training_bid_cny_per_gpu_hour": _num(15.0, 0.0, 1e4),
    "gpu_deliveries_per_month": _num(1e12, doc="GPUs vendors can deliver to all AIDCs per month"),
})

TECHNOLOGY = Table({
    "marginal_cost_cny_per_mwh": _num(0.0, -1e4, 1e4),
    "capex_cny_per_kw": _num(4000.0),
    "life_years": _num(25.0, 1.0, 100.0),
    "lead_days": F("int", 365, min=0, max=5000),
    "emissions_t_per_mwh": _num(0.0, 0.0, 2.0),
    "capacity_factor": _num(1.0, 0.0, 1.0, "mean availability (solar, wind: of nameplate)"),
    "build_mw_per_month": _num(0.0, doc="most a utility adds per zone per month"),
})

TECHNOLOGIES = Table({tech: TECHNOLOGY for tech in TECHS})

ZONE = Table({
    "name": F("str"),
    "region": F("str", "east", choices=("east", "west")),
    "background_load_mw": _num(1000.0),
    "background_growth_per_year": _num(0.03, -0.5, 5.0),
    "flexible_load_share": _num(0.0, 0.0, 0.5, "share of background load that bids instead of taking"),
    "flexible_load_price_cny_per_mwh": _num(400.0, -1e4, 1e5),
    "solar_quality": _num(1.0, 0.0, 3.0, "multiplies the solar capacity factor"),
    "wind_quality": _num(1.0, 0.0, 3.0),
    "grid_connection_mw": _num(1e9, doc="spare connection capacity for new AIDC load"),
    "connection_build_mw_per_year": _num(0.0, doc="how fast the utility adds connection capacity"),
    "connection_lead_days": F("int", 730, min=0, max=5000),
})

LINE = Table({
    "name": F("str"),
    "from": F("str"),
    "to": F("str"),
    "limit_mw": _num(1000.0),
    "reactance": _num(0.0, doc="per unit; 0 = none (transport model)"),
    "capex_cny_per_mw": _num(2e6, doc="cost to add one MW of transfer capacity"),
    "expandable": F("bool", False),
    "lead_days": F("int", 1095, min=0, max=10000),
})

UNIT = Table({
    "name": F("str"),
    "zone": F("str"),
    "tech": F("str", choices=TECHS),
    "capacity_mw": _num(0.0),
    "marginal_cost_cny_per_mwh": F("float", None, min=-1e4, max=1e4,
                                   doc="default: the technology's"),
})

UTILITY = Table({
    "name": F("str"),
    "strategy": F("str", "adaptive", choices=STRATEGIES),
    "markup": _num(0.05, 0.0, 5.0, "offer price = marginal cost x (1 + markup) for dispatchable units"),
    "invest": F("bool", True),
    "cash_cny": F("float", 0.0),
    "units": ListOf(UNIT, min_items=0),
})

STORAGE = Table({
    "name": F("str"),
    "zone": F("str"),
    "energy_mwh": _num(0.0),
    "power_mw": _num(0.0),
    "round_trip_efficiency": _num(0.85, 0.1, 1.0),
    "degradation_cost_cny_per_mwh": _num(50.0, 0.0, 1e4),
    "initial_soc": _num(0.5, 0.0, 1.0, "fraction of energy_mwh"),
    "capex_cny_per_kwh": _num(430.0, 0.0, 1e5, "0.43 CNY/Wh, 4 h system, CEEC tender Jun 2025"),
    "life_years": _num(15.0, 1.0, 50.0),
    "invest": F("bool", True),
    "lead_days": F("int", 180, min=0, max=5000),
    "max_build_mwh_per_month": _num(0.0),
    "cash_cny": F("float", 0.0),
})

AIDC = Table({
    "name": F("str"),
    "zone": F("str"),
    "gpus": _num(1000.0),
    "pue": _num(1.25, 1.0, 3.0),
    "busy_kw_per_gpu": _num(1.4, 0.01, 20.0, "node-level draw of a busy accelerator"),
    "idle_kw_per_gpu": _num(0.4, 0.0, 20.0),
    "capex_cny_per_gpu": _num(250000.0, 0.0, 1e8),
    "life_years": _num(5.0, 0.5, 30.0),
    "om_cny_per_gpu_hour": _num(1.0, 0.0, 1e4),
    "strategy": F("str", "adaptive", choices=STRATEGIES),
    "markup": _num(0.3, 0.0, 20.0, "initial markup on marginal cost"),
    "markup_step": _num(0.05, 0.0, 5.0),
    "invest": F("bool", True),
    "lead_days": F("int", 180, min=0, max=5000),
    "hurdle": _num(0.1, 0.0, 10.0, "required excess of price over long-run cost before investing"),
    "max_growth_per_month": _num(0.15, 0.0, 10.0, "largest order as a share of installed GPUs"),
    "min_order_gpus": _num(100.0),
    "cash_cny": F("float", 0.0),
})

PROVIDER = Table({
    "name": F("str"),
    "price_cny_per_mtok": _num(10.0, 1e-6, 1e6),
    "mtok_per_gpu_hour": _num(2.0, 1e-6, 1e6, "inference throughput"),
    "efficiency_growth_per_year": _num(0.0, -0.9, 100.0),
    "target_utilization": _num(0.95, 0.05, 1.0, "of the peak hour's capacity"),
    "price_step": _num(0.02, 0.0, 1.0, "largest daily relative price change"),
    "min_margin": _num(0.05, -0.9, 10.0, "price floor over unit cost"),
    "headroom": _num(1.1, 1.0, 5.0, "compute bought over the forecast peak hour's need"),
    "aidcs": F("strs", [], doc="AIDCs it may buy from; empty = all"),
    "cash_cny": F("float", 0.0),
})

APP = Table({
    "name": F("str"),
    "users": _num(1e6),
    "market_size_users": _num(1e7),
    "bass_p_per_year": _num(0.03, 0.0, 10.0),
    "bass_q_per_year": _num(0.4, 0.0, 50.0),
    "requests_per_user_per_day": _num(10.0),
    "mtok_per_request": _num(0.001, 0.0, 100.0, "tokens per request, in Mtok"),
    "tokens_per_request_growth_per_year": _num(0.0, -0.9, 100.0),
    "agentic_share": _num(0.0, 0.0, 1.0),
    "agent_multiplier": _num(4.0, 1.0, 1000.0, "tokens of an agentic request over a chat one"),
    "elasticity": _num(1.5, 0.0, 10.0),
    "revenue_cny_per_request": _num(0.05, 0.0, 1e6),
    "profile": F("str", "evening", choices=PROFILES),
    "providers": F("strs", []),
    "cash_cny": F("float", 0.0),
})

ENTERPRISE = Table({
    "name": F("str"),
    "firms": _num(10000.0),
    "adoption": _num(0.1, 0.0, 1.0, "initial share of firms using AI"),
    "ceiling": _num(0.7, 0.0, 1.0),
    "bass_p_per_year": _num(0.05, 0.0, 10.0),
    "bass_q_per_year": _num(0.5, 0.0, 50.0),
    "mtok_per_firm_per_day": _num(1.0),
    "usage_growth_per_year": _num(0.0, -0.9, 100.0),
    "agentic_share": _num(0.0, 0.0, 1.0),
    "agent_multiplier": _num(4.0, 1.0, 1000.0),
    "elasticity": _num(0.3, 0.0, 10.0),
    "reference_price_cny_per_mtok": _num(10.0, 1e-6, 1e6),
    "budget_cny_per_firm_per_day": _num(1e9),
    "profile": F("str", "business", choices=PROFILES),
    "providers": F("strs", []),
    "cash_cny": F("float", 0.0),
})

EVENT = Table({
    "day": F("int", min=0, max=100000),
    "set": F("str", doc="dotted path, e.g. apps.chat.agent_multiplier or apps.*.agentic_share"),
    "value": F("float", min=-1e12, max=1e12),
    "ramp_days": F("int", 0, min=0, max=100000),
    "note": F("str", ""),
}, doc="timeline")

CHECK = Table({
    "name": F("str", doc="short name of the check, unique in the scenario"),
    "claim": F("str", "", doc="what the check says, in plain words"),
    "metric": F("str", doc="a daily-table column, or an hourly-table column (then 'zones' may filter it)"),
    "zones": F("strs", [], doc="hourly metric only: zones whose rows count; empty = every zone"),
    "agg": F("str", "mean", choices=("mean", "max", "min", "sum", "last", "std"),
             doc="how the window's rows become one number"),
    "days": F("floats", min=0.0, max=100000.0, length=2, doc="window [first day, end day): end excluded"),
    "compare": F("str", "threshold", choices=("threshold", "window", "baseline"),
                 doc="threshold: the value itself; window: change against 'against_days' of the same run; "
                     "baseline: change against the same window of a run with the 'baseline' overrides"),
    "against_days": F("floats", [], min=0.0, max=100000.0, doc="window compare: the other window"),
    "baseline": F("strs", [], doc="baseline compare: overrides (path=value) that undo the scenario's change"),
    "change": F("str", "relative", choices=("relative", "absolute"),
                doc="window/baseline compare: value / reference - 1, or value - reference"),
    "op": F("str", ">=", choices=(">=", "<=", "between")),
    "value": F("float", 0.0, min=-1e300, max=1e300, doc="threshold (or lower bound for 'between')"),
    "upper": F("float", None, min=-1e300, max=1e300, doc="upper bound for 'between'"),
    "tolerance": F("float", 0.0, min=0.0, doc="slack on the comparison, in the compared quantity's units"),
    "status": F("str", "active", choices=("active", "needs-model-change"),
                doc="needs-model-change: reported, not enforced (see note)"),
    "note": F("str", ""),
})

EXPECTED = Table({
    "claim": F("str", "", doc="the scenario's expected outcome in plain words"),
    "days": F("int", 0, min=0, max=20000, doc="horizon of check runs; 0 = the end of the latest window"),
    "checks": ListOf(CHECK),
}, doc="expected outcome, checked by `tokenomy check`")

ROOT = Table({
    "scenario": SCENARIO,
    "markets": MARKETS,
    "compute": COMPUTE,
    "technologies": TECHNOLOGIES,
    "zones": ListOf(ZONE, min_items=1),
    "lines": ListOf(LINE),
    "utilities": ListOf(UTILITY),
    "storage": ListOf(STORAGE),
    "aidcs": ListOf(AIDC),
    "providers": ListOf(PROVIDER),
    "apps": ListOf(APP),
    "enterprises": ListOf(ENTERPRISE),
    "events": ListOf(EVENT, key=None),
    "expected": EXPECTED,
})
