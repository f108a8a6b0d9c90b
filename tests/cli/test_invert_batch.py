"""`theorychk invert` on batches, as a user runs it (subprocess): workers, --out, JSON, BLAS threads."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from theorychk import zoo
from theorychk.io import load_network, save_network
from theorychk.network import Layer, Network
from theorychk.runtime import BLAS_THREAD_VARIABLES
from theorychk.solvers import invert
from theorychk.solvers.batch import signal_seeds
from theorychk.solvers.pursuit import latent_pursuit

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
    assert [r["runtime"]["workers_reason"] for r in reports] == ["asked for 1", "asked for 2"]
    assert [r["runtime"]["engine"] for r in reports] == ["this process", "process"]
    assert latents[0].shape == (12, 4)
    # same seeds per signal wherever it runs; gd is batched, in other chunks with 2 workers, and
    # BLAS rounds a product of many rows differently from one of a few: equal up to that rounding
    np.testing.assert_allclose(latents[0], latents[1], rtol=1e-9, atol=0)
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


@pytest.fixture(scope="module")
def pursuit_batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pursuit")
    rng = np.random.default_rng(0)
    widths = (3, 15, 45, 120)
    net = Network([Layer(rng.normal(size=(widths[i + 1], widths[i])) / np.sqrt(widths[i]),
                         0.1 * rng.normal(size=widths[i + 1]), "relu" if i < 2 else "plu") for i in range(3)])
    save_network(net, tmp / "net.npz")
    net = load_network(tmp / "net.npz")  # what the command reads
    y = net(rng.normal(size=(10, 3)))
    np.save(tmp / "y.npy", y)
    return tmp, net, y


@pytest.mark.parametrize("method", ["latent", "gd"])
def test_batched_methods_in_the_cli_give_each_signal_its_library_result(pursuit_batch, method):
    tmp, net, y = pursuit_batch
    seeds = signal_seeds(5, len(y))
    alone = [invert(net, y[i], method=method, seed=np.random.default_rng(seeds[i])) for i in range(len(y))]
    assert sum(r.solved for r in alone) >= 4
    for workers in (1, 2):
        out = tmp / f"{method}-w{workers}.npy"
        proc = _run(["invert", str(tmp / "net.npz"), "--signal", str(tmp / "y.npy"), "--method", method,
                     "--seed", "5", "--workers", str(workers), "--out", str(out), "--json"])
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)  # stdout is one JSON document
        assert report["runtime"]["workers"] == workers and report["signals"] == 10
        assert [r["status"] for r in report["results"]] == [r.status.value for r in alone]
        z = np.load(out)
        for i, r in enumerate(alone):
            if r.solved:
                np.testing.assert_allclose(z[i], r.latent, rtol=1e-9, atol=0, err_msg=f"signal {i}")
    if method == "latent":  # and the library's own batched call on the whole batch
        np.testing.assert_allclose(z, latent_pursuit(net, y).latent, rtol=1e-9, atol=0)


def test_a_tiny_time_limit_ends_every_signal_unknown_not_solved(pursuit_batch):
    tmp, _, _ = pursuit_batch
    for method in ("latent", "gd"):
        proc = _run(["invert", str(tmp / "net.npz"), "--signal", str(tmp / "y.npy"), "--method", method,
                     "--time-limit", "1e-9", "--workers", "1", "--out", str(tmp / "tl.npy"), "--json"])
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
        assert report["status_counts"] == {"UNKNOWN": 10}
        assert {r["reason"] for r in report["results"]} == {"time limit"}


def test_without_workers_the_json_says_what_was_decided_and_why(batch):
    tmp, _ = batch
    proc = _run(["invert", "zoo:vae-relu", "--signal", str(tmp / "y.npy"), "--method", "linf", "--json"])
    assert proc.returncode == 0, proc.stderr
    runtime = json.loads(proc.stdout)["runtime"]
    reason = runtime["workers_reason"]
    # one core free: nothing to decide; else the measured rule (tests/solvers/test_batch.py pins both outcomes)
    assert re.fullmatch(r"auto: 1 of \d+ core\(s\) free at load average [\d.]+", reason) or (reason.startswith(f"auto: {runtime['workers']} ") and "(measured)" in reason) \
        or reason.startswith("12 signal(s): fewer than 2 per worker") or reason.endswith("they cannot pay"), reason
    assert (runtime["workers"] > 1) == (runtime["engine"] == "process")
