"""`theorychk certify` on batches, as a user runs it (fresh processes): workers, resume, verdicts in --json."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from theorychk.io import save_network
from theorychk.network import Layer, Network
from theorychk.runtime import BLAS_THREAD_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
#: decisive claims only: their results do not depend on the machine's speed. (aberdam_thm1's
#: as-printed variant searches within a time budget, so under load two runs may stop at different
#: bounds; comparing the certificates of two runs would then test the load, not the batch engine.)
CLAIMS = ["--claims", "polytope,lei_thm2,milp_global,complete"]


def run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES and k != "THEORYCHK_DEBUG"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "theorychk", *args], capture_output=True, text=True, env=env,
                          timeout=600, cwd=ROOT)


def untimed(obj: object) -> object:
    """A certificate without its timing fields (``generator``, every ``elapsed_seconds``)."""
    if isinstance(obj, dict):
        return {k: untimed(v) for k, v in obj.items() if k not in ("generator", "elapsed_seconds")}
    if isinstance(obj, list):
        return [untimed(v) for v in obj]
    return obj


def certificates(folder: Path) -> dict[str, object]:
    return {p.name: untimed(json.loads(p.read_text())) for p in sorted(folder.glob("signal-*.json"))}


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    rng = np.random.default_rng(1)
    net = Network([Layer(rng.standard_normal((8, 2)).astype(np.float32), None, "relu"),
                   Layer(rng.standard_normal((12, 8)).astype(np.float32), None, "relu")], name="small")
    return save_network(net, tmp_path_factory.mktemp("batch") / "small.npz")


@pytest.fixture(scope="module")
def one_worker(model, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("w1") / "certs"
    proc = run("certify", str(model), "--samples", "4", "--seed", "5", *CLAIMS, "--workers", "1", "--out", str(out),
               "--json")
    assert proc.returncode == 0, proc.stderr
    return out, json.loads(proc.stdout)


def test_two_workers_give_the_same_certificates_as_one(model, one_worker, tmp_path):
    out1, report1 = one_worker
    out2 = tmp_path / "certs"
    proc = run("certify", str(model), "--samples", "4", "--seed", "5", *CLAIMS, "--workers", "2", "--out", str(out2),
               "--json")
    assert proc.returncode == 0, proc.stderr
    report2 = json.loads(proc.stdout)  # stdout is one JSON document, workers or not
    assert (report1["runtime"]["workers"], report1["runtime"]["engine"]) == (1, "this process")
    assert (report2["runtime"]["workers"], report2["runtime"]["engine"]) == (2, "process")
    assert report1["runtime"]["blas_threads"] == report2["runtime"]["blas_threads"] == 1  # pinned per worker
    assert report2["runtime"]["threads_set_by_user"] is False
    first = certificates(out1)
    assert list(first) == [f"signal-{i:03d}.json" for i in range(4)]
    assert certificates(out2) == first
    assert [r["index"] for r in report2["signals"]] == [0, 1, 2, 3]  # in signal order, whatever finished first
    assert all(isinstance(r["cpu_seconds"], float) and r["cpu_seconds"] >= 0 for r in report2["signals"])
    rows = [[{k: v for k, v in r.items() if k not in ("certificate", "elapsed_seconds", "cpu_seconds")}
             for r in report["signals"]]
            for report in (report1, report2)]
    assert rows[0] == rows[1]  # the same claims and verdicts


def test_json_has_one_verdict_per_signal_with_the_deciding_claim(one_worker):
    out, report = one_worker
    from theorychk.verdict import signal_verdict

    assert sum(report["verdicts"].values()) == 4
    for row in report["signals"]:
        cert = json.loads(Path(row["certificate"]).read_text())
        assert row["verdict"] == signal_verdict(cert).to_dict()
        v = row["verdict"]
        assert v["verdict"] in ("unique", "not unique", "undecided")
        if v["verdict"] == "unique":  # the claim named is one of the certificate's CERTIFIED ones
            assert row["claims"][v["by"]] == "CERTIFIED" and v["scope"]
        assert report["verdicts"][v["verdict"]] == sum(r["verdict"]["verdict"] == v["verdict"]
                                                       for r in report["signals"])


def test_resume_skips_whole_certificates_and_redoes_a_truncated_one(model, one_worker, tmp_path):
    done, _ = one_worker
    out = tmp_path / "certs"
    out.mkdir()
    # An interrupted run: signals 0 and 2 were written, 1 was cut mid-write, 3 never started.
    for name in ("signal-000.json", "signal-002.json"):
        shutil.copy(done / name, out / name)
    (out / "signal-001.json").write_text((done / "signal-001.json").read_text()[:300])
    kept = {name: (out / name).read_bytes() for name in ("signal-000.json", "signal-002.json")}
    proc = run("certify", str(model), "--samples", "4", "--seed", "5", *CLAIMS, "--workers", "2", "--out", str(out),
               "--resume", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["resume"] == {"skipped": [0, 2], "redone": [1]}
    assert [r.get("resumed", False) for r in report["signals"]] == [True, False, True, False]
    assert {name: (out / name).read_bytes() for name in kept} == kept  # skipped: not rewritten
    assert certificates(out) == certificates(done)  # the redone and the new ones are whole again
    assert sorted(p.name for p in out.iterdir()) == [f"signal-{i:03d}.json" for i in range(4)]  # no temp file left
    assert sum(c["CERTIFIED"] + c["REFUTED"] + c["UNKNOWN"] for c in report["counts"].values()) == \
        4 * len(report["counts"])  # the counts include the skipped certificates


def test_resume_refuses_a_folder_of_another_run(model, one_worker, tmp_path):
    done, _ = one_worker
    out = tmp_path / "certs"
    shutil.copytree(done, out)
    proc = run("certify", str(model), "--samples", "4", "--seed", "6", *CLAIMS, "--out", str(out), "--resume")
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith("theorychk: error: --resume:") and "signal-000.json" in line and "--seed" in line


def test_table_shows_the_verdicts(model, tmp_path):
    proc = run("certify", str(model), "--samples", "2", "--claims", "polytope,lei_thm2", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert "verdict: unique / not unique / undecided" in proc.stdout
    assert "one verdict per signal" in proc.stdout and "1 worker(s) (this process)" in proc.stdout
