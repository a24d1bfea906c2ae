"""Plain words and number formats for the tables' columns."""

from __future__ import annotations

import math

from tokenomy.abm.metric_words import (
    AGENT_METRICS,
    METRICS,
    agent_line,
    flow_words,
    fmt,
    fmt_change,
    fmt_number,
    fmt_points,
    label,
    label_with_unit,
)
from tokenomy.abm.recorder import DAILY_COLUMNS, HOURLY_COLUMNS
from tokenomy.viz.model import ChainModel


def test_every_column_has_words_and_a_unit():
    missing = [c for c in DAILY_COLUMNS + HOURLY_COLUMNS if c not in METRICS]
    assert not missing
    for column in METRICS:
        words, unit = METRICS[column]
        assert "_" not in words and unit and column not in words


def test_changes_read_as_signed_percentages():
    assert fmt_change(19.2) == "+1,920%"
    assert fmt_change(0.192) == "+19%"
    assert fmt_change(-0.034) == "-3.4%"
    assert fmt_change(0.0) == "+0.0%"
    assert fmt_change(math.nan) == "n/a"


def test_values_carry_their_units():
    assert fmt(2.154e6, "compute_sold_gpu_hours") == "2.15 million GPU-hours a day"
    assert fmt(0.31, "gpu_utilization") == "31%"
    assert fmt(0.034, "unserved_share") == "3.4%"
    assert fmt(12.345, "compute_price_cny_per_gpu_hour") == "12.3 CNY per GPU-hour"
    assert fmt(2.46e6, "tokens_served_mtok") == "2.46 trillion tokens a day"
    assert fmt(4.2, "token_price_cny_per_mtok") == "4.2 CNY per million tokens"
    assert fmt_number(41111.2) == "41,111" and fmt_number(3.2e12) == "3.2 trillion"
    assert label("token_price_cny_per_mtok") == "token price"
    assert label_with_unit("aidc_green_share").endswith(", %")


def test_every_value_an_agent_shows_on_hover_has_words_and_a_unit():
    for scenario in ("classroom", "china-2024", "grid-bottleneck"):
        model = ChainModel(scenario)
        model.run(1)
        keys = {k for a in model.agents if getattr(a, "node_id", None) is not None for k in a.state()}
        assert keys <= set(AGENT_METRICS), keys - set(AGENT_METRICS)


def test_hover_lines_read_as_words_with_units():
    assert agent_line("utilization", 0.987) == "utilisation: 99%"
    assert agent_line("marginal_cost_cny_per_gpu_hour", 0.994) == (
        "running cost of a GPU-hour (power, operations): 0.994 CNY per GPU-hour"
    )
    assert agent_line("scarcity_markup", 1.0) == "scarcity markup on its asks: 1.00 x the capital cost of a GPU-hour"
    assert agent_line("agent_multiplier", 4) == "tokens an agentic request uses, against a chat: x4.00"
    assert flow_words("token", 246537.9) == "tokens served today: 247 billion tokens a day"
    assert flow_words("compute", 1234.5) == "compute sold today: 1,234 GPU-hours a day"


def test_a_change_of_a_share_is_in_points():
    assert fmt_points(0.045 - 0.038) == "+0.7 points"
    assert fmt_points(-0.12) == "-12 points"
    assert fmt_points(0.01) == "+1.0 point"
