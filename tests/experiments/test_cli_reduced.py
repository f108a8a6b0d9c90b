"""Every experiment from the command line at its reduced (default) size, one run per grid point:
what a user types, end to end, in CI's slow suite (about 3 minutes in all on 2 cores)."""

import pytest

from theorychk.cli import main
from theorychk.experiments import EXPERIMENTS, get_experiment
from theorychk.experiments.sweep import read_rows


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_reduced_size_from_the_cli(name, tmp_path, capsys):
    out = tmp_path / name
    assert main(["experiment", name, "--runs", "1", "--seed", "0", "--out", str(out), "--quiet"]) == 0
    assert f"report: {out / 'report.md'}" in capsys.readouterr().out
    rows = read_rows(out / "runs.csv")
    assert {r["grid_index"] for r in rows} == set(range(len(get_experiment(name).reduced.grid)))
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "(reduced size, complete)" in report and "## Prediction" in report and "## Observation" in report
    assert list(out.glob("*.png"))
