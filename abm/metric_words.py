"""Plain words, units and number formats for the columns of the daily and hourly tables.

``label(column)`` gives "token price" and ``unit(column)`` "CNY per million tokens"; ``fmt(value, column)``
writes a value with its unit the way a person reads it (``2.15 million GPU-hours``, ``31%``), and
``fmt_change(0.192)`` a relative change (``+19%``; ``fmt_change(19.2)`` is ``+1,920%``).
"""

from __future__ import annotations

import math

__all__ = ["METRICS", "label", "unit", "fmt", "fmt_number", "fmt_change", "label_with_unit"]

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
    u = unit(column)
    if u == "share":
        return f"{100 * x:.1f}%" if abs(x) < 0.1 else f"{100 * x:.0f}%"
    if u.startswith("million tokens"):  # a count of tokens: "2.46 trillion tokens a day", not "million million"
        x, u = x * 1e6, u.removeprefix("million ")
    return f"{fmt_number(x)} {u}".rstrip()


def fmt_change(x: float) -> str:
    """A relative change as a signed percentage: 0.192 is ``+19%``, 19.2 is ``+1,920%``, -0.034 ``-3.4%``."""
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "from zero to more" if x > 0 else "from zero to less"
    pct = 100 * x
    digits = 1 if abs(pct) < 10 else 0
    return f"{pct:+,.{digits}f}%"
