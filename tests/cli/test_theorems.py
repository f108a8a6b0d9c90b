from theorychk.cli import main


def test_theorems_lists_with_status(capsys):
    assert main(["theorems"]) == 0
    out = capsys.readouterr().out
    assert "lei2019.lemma1" in out and "false as printed" in out and "puthawala2022.criterion" in out


def test_falsify_prints_counterexample_and_none(capsys):
    assert main(["falsify", "lei2019.lemma1", "--budget", "30", "--seed", "1"]) == 1
    assert "COUNTEREXAMPLE" in capsys.readouterr().out
    assert main(["falsify", "lei2019.theorem2", "--budget", "10"]) == 0
    assert "no counterexample in 10 examples" in capsys.readouterr().out


def test_falsify_unknown_theorem_one_line(capsys):
    assert main(["falsify", "lei2019.lemma9"]) == 2
    assert "unknown theorem" in capsys.readouterr().err


def test_falsify_json_exit_codes(capsys):
    import json

    assert main(["falsify", "lei2019.reduction_two_layer", "--budget", "20", "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    assert found["found"] is True and found["conclusion"] is not None
    assert main(["falsify", "puthawala2022.criterion", "--budget", "5", "--json"]) == 0
    none = json.loads(capsys.readouterr().out)
    assert none["found"] is False and none["hypotheses_held"] == 5


def test_python_dash_m_runs_the_cli() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "theorychk", "theorems"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("aberdam2020.theorem1")
