"""The sweep runner: engine-independent seeded results, resume after interruption, tidy CSV."""

from __future__ import annotations

import csv
import os

import pytest

from theorychk.errors import InvalidInput
from theorychk.experiments import injectivity, lei_noise
from theorychk.experiments.sweep import META_COLUMNS, plan, read_rows, run_sweep, task_seed

NOISE_GRID = [{"noise": kind, "level": lv, "k": 3, "n1": 12, "n": 40, "methods": "linf+l1"}
              for kind in ("uniform", "gaussian") for lv in (1e-2, 1e-4)]
INJ_GRID = [{"d": 2, "ratio": q, "bias": False} for q in (2.1, 4.0)]


def _sweep(tmp_path, name, engine, grid=NOISE_GRID, task=lei_noise.task, columns=lei_noise.COLUMNS, **kw):
    return run_sweep(task, grid, runs=2, seed=7, out_csv=tmp_path / name / "runs.csv", columns=columns,
                     experiment="t", engine=engine, quiet=True, **kw)


def _canon(rows, timing=("cpu_seconds", "seconds")):
    return sorted((tuple((k, v) for k, v in r.items() if k not in timing) for r in rows), key=repr)


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


def test_task_seeds_depend_only_on_grid_point_and_run():
    tasks = plan([{"a": 1}, {"a": 2}], runs=3, seed=5)
    assert [(t.grid_index, t.run) for t in tasks] == [(g, r) for g in range(2) for r in range(3)]
    assert len({t.seed for t in tasks}) == 6
    # more runs later keep the seeds of the runs already done
    more = plan([{"a": 1}, {"a": 2}], runs=5, seed=5)
    assert {(t.grid_index, t.run): t.seed for t in tasks}.items() <= {(t.grid_index, t.run): t.seed for t in more}.items()
    assert task_seed(5, 0, 0) != task_seed(6, 0, 0)


def test_serial_process_and_dask_give_identical_rows(tmp_path, dask_client):
    serial = _sweep(tmp_path, "serial", "serial")
    process = _sweep(tmp_path, "process", "process")
    dask = _sweep(tmp_path, "dask", "dask", dask=dask_client)
    assert serial.complete and process.complete and dask.complete
    assert len(serial.rows) == 2 * len(NOISE_GRID) * 2  # two methods per task
    assert _canon(serial.rows) == _canon(process.rows) == _canon(dask.rows)
    # an exact experiment (integer decisions) as well
    exact = [_sweep(tmp_path, f"inj-{e}", e, grid=INJ_GRID, task=injectivity.task, columns=injectivity.COLUMNS,
                    **({"dask": dask_client} if e == "dask" else {})) for e in ("serial", "process", "dask")]
    assert _canon(exact[0].rows) == _canon(exact[1].rows) == _canon(exact[2].rows)


def test_resume_after_interruption(tmp_path):
    ref = _sweep(tmp_path, "ref", "serial")
    first = _sweep(tmp_path, "cut", "serial", limit=3)
    assert (first.done_before, first.ran, first.complete) == (0, 3, False)
    path = tmp_path / "cut" / "runs.csv"
    # simulate a kill while the fourth task was being written: its first row whole, the second cut
    ref_lines = ref.csv.read_text().splitlines(keepends=True)
    first_row, second_row = ref_lines[1 + 2 * 3], ref_lines[2 + 2 * 3]
    assert first_row.split(",")[1:3] == ["1", "1"] and first_row.split(",")[4] == "2"  # grid 1, run 1, 2 rows
    path.write_text(path.read_text() + first_row + second_row[: len(second_row) // 2])
    second = _sweep(tmp_path, "cut", "serial")
    assert second.done_before == 3 and second.complete
    assert second.ran == len(NOISE_GRID) * 2 - 3
    assert _canon(second.rows) == _canon(ref.rows)
    # resuming a complete sweep runs nothing
    assert _sweep(tmp_path, "cut", "serial").ran == 0


def test_csv_is_tidy_with_seeds(tmp_path):
    res = _sweep(tmp_path, "tidy", "serial", grid=INJ_GRID, task=injectivity.task, columns=injectivity.COLUMNS)
    with open(res.csv, newline="") as f:
        header = next(csv.reader(f))
    assert header == [*META_COLUMNS, "d", "ratio", "bias", *injectivity.COLUMNS]
    rows = read_rows(res.csv)
    assert len(rows) == len(INJ_GRID) * 2
    for r in rows:
        assert r["seed"] == task_seed(7, r["grid_index"], r["run"])
        assert r["injective"] + r["not_injective"] + r["unknown"] == 1
        # any row re-runs alone from its params and seed
    r = rows[-1]
    again = injectivity.task({"d": r["d"], "ratio": r["ratio"], "bias": r["bias"]}, r["seed"])[0]
    assert again["injective"] == r["injective"] and again["m"] == r["m"]


def test_bad_inputs_are_rejected(tmp_path):
    with pytest.raises(InvalidInput, match="unknown engine 'threads'"):
        _sweep(tmp_path, "x", "threads")
    with pytest.raises(InvalidInput, match="runs must be a positive integer"):
        plan([{"a": 1}], runs=0, seed=0)
    _sweep(tmp_path, "y", "serial", grid=INJ_GRID, task=injectivity.task, columns=injectivity.COLUMNS, limit=1)
    with pytest.raises(InvalidInput, match="other columns"):
        _sweep(tmp_path, "y", "serial")


def test_process_workers_get_single_threaded_blas_unless_the_user_chose(monkeypatch) -> None:
    from theorychk.experiments.sweep import BLAS_THREAD_VARIABLES, _single_threaded_blas

    for v in BLAS_THREAD_VARIABLES:
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    with _single_threaded_blas():  # the spawned workers inherit this environment
        assert os.environ["OMP_NUM_THREADS"] == os.environ["OPENBLAS_NUM_THREADS"] == "1"
        assert os.environ["MKL_NUM_THREADS"] == "3"
    assert "OMP_NUM_THREADS" not in os.environ and "OPENBLAS_NUM_THREADS" not in os.environ
    assert os.environ["MKL_NUM_THREADS"] == "3"
