"""`tokenomy check` and `tokenomy lesson`: output, exit codes."""

from __future__ import annotations

from pathlib import Path

from tokenomy.abm.cli import main
from tokenomy.abm.scenarios import load_scenario


def test_check_passes_with_exit_0(capsys):
    assert main(["check", "jevons", "--seeds", "3"]) == 0  # (seeds differ a lot in jevons: judged on three)
    out = capsys.readouterr().out
    assert "PASSED  more-energy" in out and "seed 1: value" in out and "3 passed, 0 failed" in out


def test_check_judges_the_mean_over_seeds_and_reports_the_spread(capsys):
    assert main(["check", "jevons", "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("mean over 2 seed(s): change") == 3 and "std " in out and "lowest " in out and "highest" in out
    assert "seed 1: value" in out and "seed 2: value" in out


def test_check_that_fails_exits_1(capsys, tmp_path):
    body = Path(load_scenario("classroom").source).read_text()
    path = tmp_path / "c.toml"
    path.write_text(
        body + '\n[[expected.checks]]\nname = "impossible"\nmetric = "gpus_online"\ndays = [0, 5]\n'
        'op = "<="\nvalue = 0.0\n'
    )
    assert main(["check", str(path), "--seeds", "1"]) == 1
    assert "FAILED  impossible" in capsys.readouterr().out


def test_check_bad_input_exits_2(capsys):
    assert main(["check", "no-such-scenario"]) == 2
    assert main(["check", "classroom", "--seeds", "0"]) == 2
    assert main(["check", "classroom", "--set", "apps.nope.users=1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 3 and all(line.startswith("error:") for line in err.splitlines())


def test_lessons_print_theory_beside_simulation(capsys):
    assert main(["lesson", "call-market", "--values", "10,9,8", "--costs", "1,2,20"]) == 0
    out = capsys.readouterr().out
    assert "price P*" in out and "quantity Q*" in out
    assert main(["lesson", "double-auction", "--periods", "2"]) == 0
    assert "ZI-C eff" in capsys.readouterr().out
    assert main(["lesson", "cobweb", "--supply-slope", "1.5", "--periods", "4"]) == 0
    assert "exploding" in capsys.readouterr().out
    assert main(["lesson", "cobweb", "--supply-slope", "-1"]) == 2
    assert main(["lesson", "cobweb", "--demand-intercept", "1", "--supply-intercept", "5"]) == 2
    assert main(["lesson", "list"]) == 0


def test_algorithmic_pricing_prints_the_benchmarks_beside_the_session(capsys):
    assert main(["lesson", "algorithmic-pricing", "--beta", "2e-5", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "converged after" in out and "profit gain Delta" in out and "impulse response" in out
    nash_row = next(line for line in out.splitlines() if line.strip().startswith("price, firm 1"))
    assert nash_row.split()[3:5] == ["1.473", "1.925"]  # theory: Nash and monopoly
    assert main(["lesson", "algorithmic-pricing", "--periods", "500"]) == 0
    assert "not converged within the cap of 500 periods" in capsys.readouterr().out
    assert main(["lesson", "algorithmic-pricing", "--delta", "1"]) == 2
    assert main(["lesson", "algorithmic-pricing", "--alpha", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "at most 0.999" in err and "must be > 0" in err
