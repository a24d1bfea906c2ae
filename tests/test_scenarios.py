"""Scenario loading: validation messages, overrides, timeline events."""

from __future__ import annotations

import pytest

from tokenomy.abm.model import TokenEconomy
from tokenomy.abm.scenarios import ScenarioError, load_scenario, scenario_path, shipped_scenarios


def _copy(tmp_path, edit):
    text = scenario_path("classroom").read_text()
    path = tmp_path / "mine.toml"
    path.write_text(edit(text))
    return path


def test_shipped_scenarios_validate():
    assert {"classroom"} <= set(shipped_scenarios())
    for name in shipped_scenarios():
        sc = load_scenario(name)
        assert sc.data["scenario"]["description"]


def test_unknown_key_names_it_suggests_the_closest_and_names_the_file(tmp_path):
    path = _copy(tmp_path, lambda t: t.replace("bass_q_per_year = 0.5", "bass_q_peryear = 0.5"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    msg = str(err.value)
    assert msg.startswith("mine.toml:")
    assert "bass_q_peryear" in msg and "did you mean" in msg and "bass_q_per_year" in msg
    assert "\n" not in msg


def test_out_of_range_value_names_key_value_and_range(tmp_path):
    path = _copy(tmp_path, lambda t: t.replace("pue = 1.2", "pue = 0.5"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    msg = str(err.value)
    assert "pue" in msg and "0.5" in msg and "[1.0, 3.0]" in msg and "mine.toml" in msg


def test_negative_capacity_is_rejected():
    with pytest.raises(ScenarioError, match=r"capacity_mw' = -10.0 is out of range"):
        load_scenario("classroom", ["utilities.west-power.units.west-coal.capacity_mw=-10"])


def test_override_sets_a_value_and_wildcards_reach_every_entry():
    sc = load_scenario("classroom", ["apps.*.elasticity=0.7", "markets.token_inertia=0.5"])
    assert [a["elasticity"] for a in sc.data["apps"]] == [0.7, 0.7]
    assert sc.data["markets"]["token_inertia"] == 0.5


def test_override_of_an_unknown_entry_names_known_ones():
    with pytest.raises(ScenarioError, match="no entry named 'chatbott'.*did you mean"):
        load_scenario("classroom", ["apps.chatbott.users=5"])


def test_reference_to_an_unknown_zone(tmp_path):
    path = _copy(
        tmp_path, lambda t: t.replace('name = "east-aidc"\nzone = "east"', 'name = "east-aidc"\nzone = "easst"')
    )
    with pytest.raises(ScenarioError, match="unknown 'easst'.*did you mean 'east'"):
        load_scenario(path)


def test_event_on_an_unknown_key_fails_at_load(tmp_path):
    path = _copy(
        tmp_path,
        lambda t: t.replace('set = "apps.coding-agent.agentic_share"', 'set = "apps.coding-agent.agentic_shar"'),
    )
    with pytest.raises(ScenarioError, match="agentic_shar"):
        load_scenario(path)


def test_ramped_event_moves_linearly_to_its_value():
    m = TokenEconomy("classroom")
    [event] = [e for e in m.config.data["events"] if e["set"] == "apps.coding-agent.agentic_share"]
    day, target, ramp = event["day"], event["value"], event["ramp_days"]
    app = m.apps.index("coding-agent")
    start = m.apps.params["agentic_share"][app]
    seen = []
    for _ in range(day + ramp + 20):
        m.step()
        seen.append(m.apps.params["agentic_share"][app])
    assert seen[day - 2] == pytest.approx(start)
    assert seen[day + ramp // 2 - 1] == pytest.approx(start + (target - start) * (ramp // 2) / ramp)
    assert seen[day + ramp - 1] == pytest.approx(target)
    assert seen[-1] == pytest.approx(target)


def test_injected_event_changes_the_model():
    m = TokenEconomy("classroom")
    m.run(3)
    m.timeline.add(m.day, "lines.west-east.limit_mw", 0.0)
    m.step()
    assert m.line_params["limit_mw"][0] == 0.0
    assert abs(m.last.power.line_flow).max() == 0.0


def test_a_world_without_storage_or_enterprises_runs(tmp_path):
    import re

    text = scenario_path("classroom").read_text()
    text = re.sub(r"\[\[storage\]\].*?(?=\n\[\[aidcs\]\])", "", text, flags=re.S)
    text = re.sub(r"\[\[enterprises\]\].*?(?=\n\[\[events\]\])", "", text, flags=re.S)
    path = tmp_path / "bare.toml"
    path.write_text(text)
    m = TokenEconomy(path)
    assert m.storage.n == 0 and m.enterprises.n == 0
    m.run(10)
    d = m.daily_table()
    assert (d.storage_throughput_mwh == 0).all() and (d.tokens_served_mtok > 0).all()


def test_events_on_settings_read_at_build_time_still_take_effect():
    """Settings a group keeps in arrays (technology availability, zone weather quality, an AIDC's fleet)
    must follow events, not stay at their starting values."""
    m = TokenEconomy("classroom")
    m.run(3)
    solar = m.last.power.gen_tech[5].sum()
    coal_avail = m.last.power.avail_tech[0].sum()
    assert solar > 0
    m.timeline.add(m.day, "zones.*.solar_quality", 0.0)
    m.timeline.add(m.day, "technologies.coal.capacity_factor", 0.46)
    west = m.aidcs.index("west-aidc")
    before = m.aidcs.gpus[west]
    cohorts = m.aidcs.cohort_gpus.sum()
    m.timeline.add(m.day, "aidcs.west-aidc.gpus", before + 5000.0)
    capital_hour = m.aidcs.capital_hour.copy()
    m.timeline.add(m.day, "aidcs.*.hurdle", 0.3)
    for tech in ("coal", "gas"):
        m.timeline.add(m.day, f"technologies.{tech}.emissions_t_per_mwh", 0.0)
    m.step()
    assert (m.aidcs.capital_hour > 1.3 * capital_hour).all()  # capital recovery at the new hurdle rate
    assert m.daily_table().emissions_t.iloc[-1] == 0.0
    assert m.last.power.gen_tech[5].sum() == 0.0
    assert m.last.power.avail_tech[0].sum() < 0.55 * coal_avail
    assert m.aidcs.gpus[west] == before + 5000.0
    assert m.aidcs.cohort_gpus.sum() == pytest.approx(cohorts + 5000.0)
    m.timeline.add(m.day, "aidcs.west-aidc.gpus", before - 1000.0)
    m.step()
    assert m.aidcs.gpus[west] == before - 1000.0
    assert m.aidcs.cohort_gpus.sum() == pytest.approx(cohorts - 1000.0)
    assert m.ledger.total_by_flow["write-offs"] > 0
