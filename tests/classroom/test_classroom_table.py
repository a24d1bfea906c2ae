"""The scenario's [classroom] table: checked at load as every scenario value is, with defaults when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokenomy.abm.classroom.seats import playable_firms
from tokenomy.abm.scenarios import load_scenario
from tokenomy.abm.scenarios.schema import ScenarioError


def _refused(overrides: list[str], *fragments: str) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario("classroom", overrides)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_the_shipped_classroom_lets_every_firm_of_the_chain_be_played():
    data = load_scenario("classroom").data
    firms = playable_firms(data)
    expected = [(role, item["name"]) for role in ("providers", "aidcs", "storage", "utilities") for item in data[role]]
    assert [(f.role, f.name) for f in firms] == expected
    assert len(firms) == 7
    assert data["classroom"]["days_per_round"] == 30


def test_a_scenario_without_the_table_lets_its_providers_be_played():
    data = load_scenario("china-2024").data
    assert "[classroom]" not in Path(load_scenario("china-2024").source).read_text()
    firms = playable_firms(data)
    assert [f.name for f in firms] == [p["name"] for p in data["providers"]] and firms
    assert {f.role for f in firms} == {"providers"}
    assert data["classroom"]["rounds"] == 0 and data["classroom"]["round_seconds"] == 60


def test_another_shipped_scenario_names_its_own_roles():
    data = load_scenario("agent-boom").data
    assert {f.role for f in playable_firms(data)} == {"providers", "aidcs"}


def test_seats_narrow_the_firms_to_those_named():
    data = load_scenario("classroom", ["classroom.seats=['cloud-b', 'east-aidc']"]).data
    assert [f.name for f in playable_firms(data)] == ["cloud-b", "east-aidc"]


def test_unknown_keys_bad_roles_unknown_seats_and_rounds_past_the_horizon_are_refused():
    _refused(["classroom.round_secs=5"], "unknown key 'classroom.round_secs'", "round_seconds")
    _refused(["classroom.roles=['provider']"], "'classroom.roles' = 'provider'", "did you mean 'providers'")
    _refused(["classroom.roles=['labs']"], "is not one of providers, aidcs, storage, utilities")
    _refused(["classroom.roles=['aidcs', 'aidcs']"], "names a kind twice")
    _refused(["classroom.seats=['cloud-c']"], "'classroom.seats' names 'cloud-c', which is no entry of", "did you mean")
    # cloud-a is a provider, and providers are not playable here
    _refused(
        ["classroom.roles=['aidcs']", "classroom.seats=['cloud-a']"], "names 'cloud-a', which is no entry of aidcs"
    )
    _refused(["classroom.rounds=14"], "'classroom.rounds' = 14 of 30 days start past the horizon", "at most 13")
    _refused(["classroom.days_per_round=0"], "'classroom.days_per_round' = 0 is out of range; allowed [1, 365]")
    _refused(["classroom.round_seconds=-1"], "'classroom.round_seconds' = -1 is out of range")
    _refused(["classroom.team_size=2.5"], "'classroom.team_size' must be a whole number")
    assert load_scenario("classroom", ["classroom.rounds=13"]).data["classroom"]["rounds"] == 13


def test_a_game_of_a_scenario_with_no_firm_to_play_is_refused(tmp_path):
    from tokenomy.abm.classroom.errors import GameError
    from tokenomy.abm.classroom.game import Game

    scenario = tmp_path / "power-only.toml"
    scenario.write_text(
        '[scenario]\nname = "power-only"\nstart_date = 2025-01-01\n\n[[zones]]\nname = "west"\n\n'
        '[[zones]]\nname = "east"\n\n'
        '[[utilities]]\nname = "west-power"\n  [[utilities.units]]\n  name = "coal"\n  zone = "west"\n'
        '  tech = "coal"\n  capacity_mw = 2000.0\n'
    )
    with pytest.raises(GameError, match="power-only: no firm to play: the scenario has no providers"):
        Game.create(tmp_path / "g.sqlite", scenario)
    assert not (tmp_path / "g.sqlite").exists()
    game, _ = Game.create(tmp_path / "g.sqlite", scenario, overrides=["classroom.roles=['utilities']"])
    assert [f.name for f in game.firms] == ["west-power"]
    game.close()
