"""Plain words, units and number formats for the columns of the daily and hourly tables.

``label(column)`` gives "token price" and ``unit(column)`` "CNY per million tokens"; ``fmt(value, column)``
writes a value with its unit the way a person reads it (``2.15 million GPU-hours``, ``31%``), and
``fmt_change(0.192)`` a relative change (``+19%``; ``fmt_change(19.2)`` is ``+1,920%``).
"""

from __future__ import annotations

import math

__all__ = [
    "METRICS",
    "AGENT_METRICS",
    "FLOW_UNITS",
    "label",
    "unit",
    "fmt",
    "fmt_number",
    "fmt_change",
    "fmt_points",
    "label_with_unit",
    "agent_line",
    "flow_words",
]

# column -> (words, unit); a unit of "share" is a fraction shown as a percentage
METRICS: dict[str, tuple[str, str]] = {
    "token_price_cny_per_mtok": ("token price", "CNY per million tokens"),
    "compute_price_cny_per_gpu_hour": ("compute price", "CNY per GPU-hour"),
    "compute_peak_price_cny_per_gpu_hour": ("compute price in the busiest hour", "CNY per GPU-hour"),
    "compute_offpeak_price_cny_per_gpu_hour": ("compute price in the quietest hour", "CNY per GPU-hour"),
    "compute_contract_price_cny_per_gpu_hour": ("compute contract price", "CNY per GPU-hour"),
    "power_price_cny_per_mwh": ("power price", "CNY per MWh"),
    "tokens_demanded_mtok": ("tokens wanted", "million tokens a day"),
    "tokens_served_mtok": ("tokens served", "million tokens a day"),
    "tokens_unserved_mtok": ("tokens not served", "million tokens a day"),
    "unserved_share": ("share of token demand not served", "share"),
    "gpus_online": ("GPUs online", "GPUs"),
    "gpus_mothballed": ("GPUs mothballed", "GPUs"),
    "gpus_in_pipeline": ("GPUs on order", "GPUs"),
    "gpus_ordered": ("GPUs ordered", "GPUs"),
    "gpus_retired": ("GPUs retired", "GPUs"),
    "gpu_order_wait_days": ("wait for a GPU ordered today", "days"),
    "gpus_flexible": ("GPUs on flexible grid connections", "GPUs"),
    "gpu_utilization": ("GPU utilisation", "share"),
    "peak_gpu_utilization": ("GPU utilisation in the busiest hour", "share"),
    "compute_sold_gpu_hours": ("compute sold", "GPU-hours a day"),
    "compute_sold_share": ("share of compute sold", "share"),
    "training_gpu_hours": ("GPU-hours used for training", "GPU-hours a day"),
    "compute_topped_up_gpu_hours": ("compute bought at the last minute", "GPU-hours a day"),
    "aidc_energy_mwh": ("energy used by AI data centres", "MWh a day"),
    "aidc_green_share": ("green share of AI data-centre energy", "share"),
    "aidc_green_certified_share": ("certified green share of AI data-centre energy", "share"),
    "green_share": ("green share of all power", "share"),
    "power_spread_cny_per_mwh": ("gap between the day's highest and lowest power price", "CNY per MWh"),
    "storage_energy_mwh": ("battery capacity", "MWh"),
    "storage_soc_mwh": ("energy held in batteries", "MWh"),
    "storage_throughput_mwh": ("energy through batteries", "MWh a day"),
    "onsite_storage_mwh": ("on-site batteries at AI data centres", "MWh"),
    "storage_gpu_hours": ("GPU-hours on-site batteries kept running in tight hours", "GPU-hours a day"),
    "tight_zone_hours": ("tight hours on the grid where AI data centres are", "hours a day"),
    "curtailment_mwh": ("wind and solar power thrown away", "MWh a day"),
    "power_unserved_mwh": ("power demand not served", "MWh a day"),
    "emissions_t": ("CO2 emissions", "tonnes a day"),
    "generation_capacity_mw": ("generating capacity", "MW"),
    "congested_line_hours": ("hours a line is full", "line-hours a day"),
    "aidc_profit_cny": ("AI data centres' profit", "CNY a day"),
    "provider_profit_cny": ("model providers' profit", "CNY a day"),
    "providers_below_cost": ("model providers pricing below cost", "providers"),
    "provider_markup_median": ("typical provider's markup over cost", "share"),
    "token_unit_cost_cny_per_mtok": ("cost of making a token", "CNY per million tokens"),
    "token_cost_energy_cny_per_mtok": ("energy in a token's cost", "CNY per million tokens"),
    "token_cost_storage_cny_per_mtok": ("storage in a token's cost", "CNY per million tokens"),
    "token_cost_green_cny_per_mtok": ("green certificates in a token's cost", "CNY per million tokens"),
    "token_cost_operations_cny_per_mtok": ("operations in a token's cost", "CNY per million tokens"),
    "token_cost_gpu_capital_cny_per_mtok": ("GPU capital in a token's cost", "CNY per million tokens"),
    "token_cost_compute_rent_cny_per_mtok": ("compute rent in a token's cost", "CNY per million tokens"),
    "token_margin_cny_per_mtok": ("providers' margin on a token", "CNY per million tokens"),
    "price_cny_per_mwh": ("power price", "CNY per MWh"),
    "load_mw": ("power demand", "MW"),
    "aidc_load_mw": ("AI data-centre load", "MW"),
    "background_load_mw": ("other power demand", "MW"),
    "flexible_load_served_mw": ("flexible load served", "MW"),
    "curtailment_mw": ("wind and solar thrown away", "MW"),
    "storage_charge_mw": ("battery charging", "MW"),
    "storage_discharge_mw": ("battery discharging", "MW"),
    "net_import_mw": ("net power imports", "MW"),
    "unserved_mw": ("power demand not served", "MW"),
    "spill_mw": ("water spilled at dams", "MW"),
    "green_supply_mw": ("green power supply", "MW"),
}
for _fuel in ("coal", "gas", "nuclear", "hydro", "wind", "solar"):
    METRICS[f"generation_{_fuel}_mw"] = (f"{_fuel} generation", "MW")


# what an agent reports of itself (``Agent.state()``, shown on hover in the chain graph): key -> (words, unit).
# Units as in METRICS; "multiple" is written x1.35, "capital costs" as a multiple of the GPU-hour's capital cost.
AGENT_METRICS: dict[str, tuple[str, str]] = {
    "adoption": ("firms using AI", "share"),
    "agent_multiplier": ("tokens an agentic request uses, against a chat", "multiple"),
    "capacity_mtok": ("tokens it can serve", "million tokens a day"),
    "capacity_mw": ("generating capacity", "MW"),
    "energy_mwh": ("battery capacity", "MWh"),
    "firming_mwh_per_day": ("green energy it firms for AI data centres", "MWh a day"),
    "gpu_hours": ("GPU-hours used", "GPU-hours a day"),
    "gpu_hours_bought": ("GPU-hours bought", "GPU-hours a day"),
    "gpu_hours_planned": ("GPU-hours its training plan needs", "GPU-hours a day"),
    "gpus": ("GPUs installed", "GPUs"),
    "gpus_in_pipeline": ("GPUs on order", "GPUs"),
    "gpus_mothballed": ("GPUs mothballed", "GPUs"),
    "gpus_online": ("GPUs online", "GPUs"),
    "load_mw": ("power it draws, on average", "MW"),
    "marginal_cost_cny_per_gpu_hour": ("running cost of a GPU-hour (power, operations)", "CNY per GPU-hour"),
    "markup": ("offer markup over running cost", "share"),
    "mtok_per_gpu_hour": ("tokens per GPU-hour", "million tokens per GPU-hour"),
    "output_mw": ("output, on average", "MW"),
    "plan_price_cny_per_gpu_hour": ("price at which its budget buys its plan", "CNY per GPU-hour"),
    "power_mw": ("battery power", "MW"),
    "price_cny_per_mtok": ("token price", "CNY per million tokens"),
    "price_paid_cny_per_gpu_hour": ("price it paid", "CNY per GPU-hour"),
    "scarcity_markup": ("scarcity markup on its asks", "capital costs"),
    "soc_mwh": ("energy stored", "MWh"),
    "spent_cny": ("spent on compute", "CNY a day"),
    "spread_seen_cny_per_mwh": ("power price spread it expects", "CNY per MWh"),
    "tokens_served_mtok": ("tokens served", "million tokens a day"),
    "tokens_wanted_mtok": ("tokens wanted", "million tokens a day"),
    "unit_cost_cny_per_mtok": ("cost of making a token", "CNY per million tokens"),
    "users": ("users", "users"),
    "utilization": ("utilisation", "share"),
}
# what flows along an edge of the supply graph in a day, by the edge's kind
FLOW_UNITS: dict[str, tuple[str, str]] = {
    "token": ("tokens served today", "million tokens a day"),
    "compute": ("compute sold today", "GPU-hours a day"),
    "grid": ("power drawn today", "MWh a day"),
    "line": ("power sent today", "MWh a day"),
}


def _with_unit(x: float, words_unit: str) -> str:
    if words_unit == "multiple":
        return f"x{x:,.2f}"
    if words_unit == "capital costs":
        return f"{x:,.2f} x the capital cost of a GPU-hour"
    if words_unit == "share":
        return f"{100 * x:.1f}%" if abs(x) < 0.1 else f"{100 * x:.0f}%"
    if words_unit.startswith("million tokens"):
        x, words_unit = x * 1e6, words_unit.removeprefix("million ")
    return f"{fmt_number(x)} {words_unit}".rstrip()


def agent_line(key: str, value: float) -> str:
    """One line of an agent's hover box: ``GPU utilisation: 98.7%``; an unknown key reads as words, no unit."""
    words, words_unit = AGENT_METRICS.get(key, (key.replace("_", " "), ""))
    return f"{words}: {_with_unit(float(value), words_unit)}"


def flow_words(kind: str, flow: float) -> str:
    """An edge's hover text: ``tokens served today: 247 billion tokens a day``."""
    words, words_unit = FLOW_UNITS.get(kind, (f"{kind} flow today", ""))
    return f"{words}: {_with_unit(abs(float(flow)), words_unit)}"


def label(column: str) -> str:
    """The column in words ("token price"); an unknown column comes back with spaces for underscores."""
    return METRICS.get(column, (column.replace("_", " "), ""))[0]


def unit(column: str) -> str:
    """The column's unit in words ("CNY per million tokens"); "share" for fractions, "" if unknown."""
    return METRICS.get(column, ("", ""))[1]


def label_with_unit(column: str) -> str:
    """``token price, CNY per million tokens`` (a share reads ``..., %``)."""
    u = unit(column)
    return f"{label(column)}, {'%' if u == 'share' else u}" if u else label(column)


def fmt_number(x: float) -> str:
    """A number as a person writes it: 3 significant figures, thousands separated, large ones in words."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if math.isinf(x):
        return "infinite" if x > 0 else "minus infinite"
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if abs(x) >= size:
            return f"{x / size:,.3g} {word}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if x == 0 or abs(x) >= 0.01:
        return f"{x:.3g}"
    return f"{x:.2g}"


def fmt(x: float, column: str) -> str:
    """A value of the column with its unit: ``31%`` for a share, ``2.15 million GPU-hours a day``."""
    return _with_unit(x, unit(column))


def fmt_change(x: float) -> str:
    """A relative change as a signed percentage: 0.192 is ``+19%``, 19.2 is ``+1,920%``, -0.034 ``-3.4%``."""
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "from zero to more" if x > 0 else "from zero to less"
    pct = 100 * x
    digits = 1 if abs(pct) < 10 else 0
    return f"{pct:+,.{digits}f}%"


def fmt_points(x: float) -> str:
    """A change of a share in percentage points: 0.007 is ``+0.7 points``, -0.12 ``-12 points``."""
    if math.isnan(x):
        return "n/a"
    pts = 100 * x
    digits = 1 if abs(pts) < 10 else 0
    word = "point" if round(abs(pts), digits) == 1 else "points"
    return f"{pts:+,.{digits}f} {word}"
