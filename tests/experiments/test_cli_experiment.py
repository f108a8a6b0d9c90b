"""`theorychk experiment`: one-line errors, exit codes, where the report is."""

from __future__ import annotations

from theorychk.cli import main


def test_unknown_experiment_is_one_line_exit_2(capsys):
    assert main(["experiment", "lei-sucess"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "unknown experiment 'lei-sucess'" in err and "did you mean 'lei-success'" in err


def test_bad_runs_is_exit_2(capsys, tmp_path):
    assert main(["experiment", "injectivity", "--runs", "0", "--out", str(tmp_path), "--quiet"]) == 2
    assert "--runs must be a positive integer" in capsys.readouterr().err


def test_runs_and_prints_the_report_path(capsys, tmp_path):
    out = tmp_path / "inj"
    assert main(["experiment", "injectivity", "--runs", "1", "--seed", "4", "--out", str(out), "--quiet"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.endswith(f"report: {out / 'report.md'}")
    assert (out / "runs.csv").exists() and (out / "injectivity.png").exists()
    assert "--seed 4" in (out / "report.md").read_text()
