"""Every experiment end to end at a tiny size: runs.csv, PNG plots and a report with prediction and observation."""

from __future__ import annotations

import pytest

from theorychk.errors import InvalidInput
from theorychk.experiments import EXPERIMENTS, get_experiment, run_experiment
from theorychk.experiments.sweep import read_rows

TINY = {
    "lei-success": ([{"activation": a, "k": k, "n1": 12, "n": 30, "methods": "linf+l1+relax+gd+milp",
                      "milp_time_limit": 2.0} for a in ("relu", "leaky") for k in (2, 5)], 1),
    "lei-cputime": ([{"activation": "relu", "k": k, "n1": 20, "n": 50, "methods": "linf+relax+gd"} for k in (3, 6)], 1),
    "lei-noise": ([{"noise": kind, "level": lv, "k": 3, "n1": 15, "n": 60, "methods": "linf+l1+gd"}
                   for kind in ("uniform", "gaussian") for lv in (1e-2, 1e-4)], 1),
    "aberdam-fig4": ([{"n0": 4, "n1": n1, "n": 20, "methods": "lbp+lbp-nn+latent+gd+oracle"} for n1 in (4, 16, 60)], 1),
    "zoo-inpainting": ([{"net": "aberdam", "mask": m, "methods": "latent+gd+oracle", "gd_iterations": 300} for m in ("clean", "random", "upper")], 1),
    "injectivity": ([{"d": 2, "ratio": q, "bias": False} for q in (2.1, 4.0)], 3),
    "hardness": ([{"construction": "four-layer", "n_vars": n, "ratio": 4.26, "time_limit": 20.0} for n in (4, 6)], 2),
}
SLOW = {"lei-success", "zoo-inpainting", "aberdam-fig4", "lei-noise"}


def test_the_sweep_engine_imports_no_experiment():
    """``certify`` runs its batches on the sweep engine: importing it must not import the
    experiment modules (~1.1 s CPU of every certify run), which load on first use of the registry."""
    import subprocess
    import sys

    code = ("import sys, theorychk.experiments.sweep; "
            "assert not [m for m in sys.modules if m.startswith('theorychk.experiments.') and m != "
            "'theorychk.experiments.sweep'], sorted(sys.modules); "
            "from theorychk.experiments import EXPERIMENTS; assert 'lei-success' in EXPERIMENTS")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr


def test_every_registered_experiment_has_a_tiny_case():
    assert set(TINY) == set(EXPERIMENTS)
    for exp in EXPERIMENTS.values():
        assert exp.reduced.grid and exp.full.grid and exp.reduced.runtime and exp.full.runtime
        assert set(exp.timing_columns) <= set(exp.columns)


def test_unknown_experiment_lists_the_valid_names():
    with pytest.raises(InvalidInput, match="did you mean 'hardness'"):
        get_experiment("hardnes")


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(TINY)])
def test_experiment_end_to_end(name, tmp_path):
    grid, runs = TINY[name]
    res = run_experiment(name, grid=grid, runs=runs, seed=3, out=tmp_path, engine="serial", quiet=True)
    assert res.complete and res.tasks == len(grid) * runs
    rows = read_rows(res.csv)
    assert rows and all(isinstance(r["seed"], int) for r in rows)
    assert {r["grid_index"] for r in rows} == set(range(len(grid)))
    assert res.plots and all(p.suffix == ".png" and p.stat().st_size > 1000 for p in res.plots)
    report = res.report.read_text()
    assert "## Prediction" in report and "## Observation" in report and "complete" in report
    for p in res.plots:
        assert p.name in report
    # a second call resumes: nothing left to run, same report
    again = run_experiment(name, grid=grid, runs=runs, seed=3, out=tmp_path, engine="serial", quiet=True)
    assert again.tasks_run == 0 and len(read_rows(again.csv)) == len(rows)


def test_lei_noise_reports_a_fitted_slope(tmp_path):
    grid, runs = TINY["lei-noise"]
    res = run_experiment("lei-noise", grid=grid, runs=runs, seed=3, out=tmp_path, engine="serial", quiet=True)
    report = res.report.read_text()
    assert "fitted slope" in report and "Theorems 3 and 4" in report


def test_aberdam_segments_split_the_middle_at_corollary1s_n1_equals_n() -> None:
    from theorychk.experiments.aberdam_fig4 import NONNEG, SIGNED, UNIQUE, segment

    n0, n = 100, 625
    assert [segment(n0, w, n).split(":")[0] for w in (199, 200, 625, 626, 1250, 1251)] == \
        ["1", "2a", "2a", "2b", "2b", "3"]
    # signed basis pursuit stops first, then Latent-Pursuit's nonnegative least squares, then nonnegative BP
    assert 1 < SIGNED < UNIQUE < NONNEG < 2
