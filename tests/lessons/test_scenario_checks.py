"""Every shipped scenario meets its own expected-outcome checks for three seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokenomy.abm.checks import checks_of, format_result, run_checks, run_twin_checks, twin_of
from tokenomy.abm.scenarios import ScenarioError, load_scenario, shipped_scenarios

SCENARIOS = sorted(shipped_scenarios())
STORIES = {
    "classroom",
    "china-2024",
    "agent-boom",
    "storage-buildout",
    "grid-bottleneck",
    "east-data-west-compute",
    "jevons",
    "gpu-supply-shock",
}


def test_every_design_scenario_ships_with_checks():
    assert set(SCENARIOS) >= STORIES
    for name in STORIES:
        sc = load_scenario(name)
        assert sc.data["expected"]["claim"], name
        assert checks_of(sc), f"{name} has no [[expected.checks]]"


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_meets_its_checks_for_three_seeds(name):
    results = run_checks(name, seeds=3)
    assert results, f"{name}: no checks"
    failed = [r for r in results if r.status == "failed"]
    assert not failed, "\n".join(format_result(r) for r in failed)
    assert all(len(r.seeds) == 3 for r in results)


def test_every_shipped_check_names_its_counterfactual_twin():
    """An outcome is earned only if the world without its mechanism does not show it: every check says what that
    world is (overrides, no events, or for a baseline check its baseline)."""
    for name in SCENARIOS:
        for check in checks_of(load_scenario(name)):
            overrides, events = twin_of(check)
            assert overrides or not events, f"{name}/{check['name']}: no counterfactual twin"


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS)
def test_every_check_fails_on_its_counterfactual_twin(name):
    results = run_twin_checks(name, seeds=3)
    held = [r for r in results if r.status == "passed"]
    assert not held, "holds without its mechanism:\n" + "\n".join(format_result(r) for r in held)


def test_pending_checks_say_why():
    for name in SCENARIOS:
        for check in load_scenario(name).data["expected"]["checks"]:
            if check["status"] == "needs-model-change":
                assert len(check["note"]) > 40, f"{name}/{check['name']}: a pending check needs a note"


def _with_check(tmp_path, check: str):
    body = Path(load_scenario("classroom").source).read_text()
    head = body[: body.index("[expected]")]
    path = tmp_path / "mine.toml"
    path.write_text(head + '[expected]\nclaim = "x"\n\n[[expected.checks]]\nname = "c"\n' + check)
    return path


def test_a_check_that_cannot_hold_fails(tmp_path):
    path = _with_check(tmp_path, 'metric = "compute_price_cny_per_gpu_hour"\ndays = [0, 20]\nop = "<="\nvalue = 0.0\n')
    [result] = run_checks(path, seeds=1)
    assert result.status == "failed" and result.seeds[0].value > 0


def test_baseline_identical_to_the_run_gives_zero_change(tmp_path):
    path = _with_check(
        tmp_path,
        'metric = "gpus_online"\ndays = [0, 20]\ncompare = "baseline"\n'
        'baseline = ["markets.token_inertia=0.8"]\nop = ">="\nvalue = 0.0\n',
    )
    [result] = run_checks(path, seeds=[4])
    assert result.seeds[0].compared == 0.0 and result.seeds[0].seed == 4 and result.passed


def test_hourly_metric_filtered_by_zone(tmp_path):
    path = _with_check(
        tmp_path, 'metric = "background_load_mw"\nzones = ["west"]\ndays = [0, 1]\nop = ">="\nvalue = 0.0\n'
    )
    [result] = run_checks(path, seeds=1)
    assert 100.0 < result.seeds[0].value < 150.0  # the west's ~120 MW, not the east's ~420 MW


@pytest.mark.parametrize(
    "check, match",
    [
        ('metric = "compute_prize"\ndays = [0, 5]\n', "unknown metric 'compute_prize'.*did you mean"),
        ('metric = "gpus_online"\nzones = ["west"]\ndays = [0, 5]\n', "filters hourly metrics only"),
        ('metric = "price_cny_per_mwh"\nzones = ["north"]\ndays = [0, 5]\n', "unknown zone 'north'"),
        ('metric = "gpus_online"\ndays = [5, 5]\n', "is empty"),
        ('metric = "gpus_online"\ndays = [0, 5]\ncompare = "window"\n', "against_days"),
        ('metric = "gpus_online"\ndays = [0, 5]\ncompare = "baseline"\n', "needs 'baseline'"),
        (
            'metric = "gpus_online"\ndays = [0, 5]\ncompare = "baseline"\nbaseline = ["apps.nope.users=1"]\n',
            "no entry named 'nope'",
        ),
        ('metric = "gpus_online"\ndays = [0, 5]\nop = "between"\nvalue = 3.0\n', "needs 'upper'"),
        ('metric = "gpus_online"\ndays = [0, 5]\nop = "~"\n', "is not one of"),
    ],
)
def test_bad_checks_are_one_line_errors(tmp_path, check, match):
    path = _with_check(tmp_path, check)
    with pytest.raises(ScenarioError, match=match) as err:
        run_checks(path, seeds=1)
    assert "\n" not in str(err.value)


def _tables(model) -> dict:
    return {"daily": model.daily_table(), "hourly": model.hourly_table()}


@pytest.mark.parametrize("name, days", [("classroom", 365), ("storage-buildout", 240)])
def test_checks_on_a_run_already_made_equal_the_fresh_runs(name, days):
    from tokenomy.abm.checks import checks_on_run
    from tokenomy.abm.model import TokenEconomy

    model = TokenEconomy(name, seed=1)
    model.run(days)

    def baseline(overrides, n):
        twin = TokenEconomy(load_scenario(name, list(overrides)), seed=1)
        twin.run(n)
        return _tables(twin)

    on_run = checks_on_run(load_scenario(name), _tables(model), model.day, 1, baseline)
    fresh = {r.name: r for r in run_checks(name, seeds=[1])}
    assert on_run and all(rc.ready for rc in on_run)
    for rc in on_run:
        assert rc.result.seeds[0].compared == pytest.approx(fresh[rc.check["name"]].seeds[0].compared, rel=1e-12)
        assert rc.result.status == fresh[rc.check["name"]].status


def test_checks_wait_for_their_last_day():
    from tokenomy.abm.checks import checks_on_run
    from tokenomy.abm.model import TokenEconomy

    model = TokenEconomy("classroom", seed=1)
    model.run(240)
    runs = checks_on_run(load_scenario("classroom"), _tables(model), model.day, 1, lambda o, n: pytest.fail())
    ready = {rc.check["name"]: rc.ready for rc in runs}
    assert ready == {
        "compute-price-climbs": True,
        "token-price-climbs": True,
        "shortage": True,
        "aidcs-invest": False,
        "gpus-arrive": False,
    }
    assert {rc.horizon_day for rc in runs if not rc.ready} == {300, 365}


def test_checks_in_words_name_no_column_and_give_percentages():
    from tokenomy.abm.checks import SeedResult, check_in_words, outcome_in_words

    for name in shipped_scenarios():
        for check in checks_of(load_scenario(name)):
            text = check_in_words(check)
            assert check["metric"] not in text and "_" not in text.split("(")[0], text
    check = next(c for c in checks_of(load_scenario("classroom")) if c["name"] == "compute-price-climbs")
    words = outcome_in_words(check, SeedResult(1, 30.0, 1.5, 19.0, True))
    assert words == (
        "In this run the average compute price went from 1.5 CNY per GPU-hour to 30 CNY per GPU-hour: +1,900%."
    )
    assert "rise by at least 50%" in check_in_words(check)
