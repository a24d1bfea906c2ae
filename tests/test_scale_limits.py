"""The limits on entries hold what benchmarks/bench_scale.py measured: up to them a scenario loads; one entry more
of a trading kind is refused with one line naming the list and the limit."""

from __future__ import annotations

import pytest

from tokenomy.abm.scenarios import ScenarioError, load_scenario
from tokenomy.abm.scenarios.spec import MAX_TRADING_ENTRIES

# kind -> the lines of a valid added entry (classroom has zones west and east)
ENTRY = {
    "aidcs": 'zone = "west"',
    "providers": "",
    "labs": "",
    "apps": "",
    "enterprises": "",
    "storage": 'zone = "east"',
}
CLASSROOM_COUNTS = {"aidcs": 2, "providers": 2, "labs": 1, "apps": 2, "enterprises": 1, "storage": 1}


def _scenario(tmp_path, kind: str, total: int):
    lines = ["[scenario]", 'name = "many"', 'base = "classroom"', ""]
    for i in range(total - CLASSROOM_COUNTS[kind]):
        lines += [f"[[{kind}]]", f'name = "extra-{kind}-{i}"', ENTRY[kind]]
    path = tmp_path / "many.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("kind", ["aidcs", "providers", "labs", "apps", "enterprises"])
def test_a_trading_kind_loads_up_to_its_limit_and_not_one_more(tmp_path, kind):
    assert len(load_scenario(_scenario(tmp_path, kind, MAX_TRADING_ENTRIES)).data[kind]) == MAX_TRADING_ENTRIES
    with pytest.raises(ScenarioError) as err:
        load_scenario(_scenario(tmp_path, kind, MAX_TRADING_ENTRIES + 1))
    message = str(err.value)
    assert f"'{kind}' has {MAX_TRADING_ENTRIES + 1} entries; at most {MAX_TRADING_ENTRIES} are allowed" in message
    assert "\n" not in message


def test_storage_is_not_a_trading_kind_and_keeps_its_thousand(tmp_path):
    assert len(load_scenario(_scenario(tmp_path, "storage", 1000)).data["storage"]) == 1000
    with pytest.raises(ScenarioError, match="'storage' has 1001 entries; at most 1000 are allowed"):
        load_scenario(_scenario(tmp_path, "storage", 1001))
