"""`theorychk invert` on batches, as a user runs it (subprocess): workers, --out, JSON, BLAS threads."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from theorychk import zoo
from theorychk.runtime import BLAS_THREAD_VARIABLES

WT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES}
    env["PYTHONPATH"] = WT + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _run(args, **env):
    proc = subprocess.run(
        [sys.executable, "-m", "theorychk", *args], capture_output=True, text=True, env=_env(**env), timeout=300
    )
    return proc


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batch")
    net = zoo.load("vae-relu")
    z = np.random.default_rng(7).standard_normal((12, net.latent_dim))
    np.save(tmp / "y.npy", net.forward(z))
    return tmp, z


@pytest.mark.parametrize("method", ["linf", "gd"])
def test_workers_give_the_same_latents_as_one_process(batch, method):
    tmp, z = batch
    latents, reports = [], []
    for workers in (1, 2):
        out = tmp / f"{method}-w{workers}.npy"
        proc = _run(["invert", "zoo:vae-relu", "--signal", str(tmp / "y.npy"), "--method", method, "--seed", "3",
                     "--workers", str(workers), "--out", str(out), "--json"])
        assert proc.returncode == 0, proc.stderr
        reports.append(json.loads(proc.stdout))  # stdout is one JSON document
        latents.append(np.load(out))
    assert [r["runtime"]["workers"] for r in reports] == [1, 2]
    assert [r["runtime"]["engine"] for r in reports] == ["this process", "process"]
    assert latents[0].shape == (12, 4)
    np.testing.assert_array_equal(latents[0], latents[1])  # same seeds per signal wherever it runs
    assert [r["status"] for r in reports[0]["results"]] == [r["status"] for r in reports[1]["results"]]
    if method == "linf":  # (a few signals saturate the sigmoid output in float64: INFEASIBLE)
        solved = [r["status"] == "SOLVED" for r in reports[0]["results"]]
        assert sum(solved) >= 6
        np.testing.assert_allclose(latents[0][solved], z[solved], atol=1e-6)


def test_json_is_brief_unless_verbose(batch):
    tmp, _ = batch
    args = ["invert", "zoo:vae-relu", "--signal", str(tmp / "y.npy"), "--workers", "1", "--json"]
    brief = json.loads(_run(args).stdout)
    assert brief["signals"] == 12 and len(brief["results"]) == 12
    assert set(brief["results"][0]) == {"signal", "status", "reason", "residual", "signal_offset", "signal_tol",
                                        "method_status", "elapsed_seconds"}
    verbose = json.loads(_run([*args, "--verbose"]).stdout)
    assert len(verbose["results"][0]["latent"]) == 4 and "info" in verbose["results"][0]
    assert len(json.dumps(verbose)) > 3 * len(json.dumps(brief))


def test_blas_is_pinned_unless_the_user_set_threads(batch):
    tmp, _ = batch
    args = ["invert", "zoo:vae-relu", "--signal", str(tmp / "y.npy"), "--workers", "1", "--json"]
    pinned = json.loads(_run(args).stdout)["runtime"]
    assert (pinned["blas_threads"], pinned["threads_set_by_user"]) == (1, False)
    for var in BLAS_THREAD_VARIABLES:
        chosen = json.loads(_run(args, **{var: "2"}).stdout)["runtime"]
        assert chosen["threads_set_by_user"] is True
        if var != "MKL_NUM_THREADS":  # this numpy's BLAS is OpenBLAS: MKL's variable leaves it alone
            assert chosen["blas_threads"] == 2, var


def test_table_summarises_a_long_batch_and_out_is_written(tmp_path):
    net = zoo.load("vae-relu")
    np.save(tmp_path / "y.npy", net.forward(np.random.default_rng(1).standard_normal((25, net.latent_dim))))
    proc = _run(["invert", "zoo:vae-relu", "--signal", str(tmp_path / "y.npy"), "--out", str(tmp_path / "z"),
                 "--workers", "2"])
    assert proc.returncode == 0, proc.stderr
    assert "25 signals (every row: --verbose)" in proc.stdout and "SOLVED" in proc.stdout
    assert np.load(tmp_path / "z.npy").shape == (25, 4)  # '.npy' added as numpy.save does
    assert proc.stderr == ""  # no progress bar when stderr is not a terminal


def test_bad_workers_is_a_usage_error(batch):
    tmp, _ = batch
    proc = _run(["invert", "zoo:vae-relu", "--signal", str(tmp / "y.npy"), "--workers", "0"])
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
