"""A newcomer's float32 decoder (issue 14): `invert --json` and `certify --signals` on its outputs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from theorychk.check.core import check_certificate
from theorychk.cli import main
from theorychk.io import save_network
from tests.solvers.test_signal_tolerance import float32_decoder, forward32

ROOT = Path(__file__).resolve().parents[2]


def _decoder_and_signals(tmp_path: Path):
    net = float32_decoder((3, 12, 30), "relu", seed=5)
    path = save_network(net, tmp_path / "dec.npz")
    z = np.random.default_rng(6).standard_normal((2, 3)).astype(np.float32).astype(np.float64)
    ys = np.stack([forward32(net, zi) for zi in z])
    np.save(tmp_path / "y.npy", ys)
    return net, path, z, ys


def test_invert_json_reports_offset_tolerance_and_status(tmp_path):
    net, path, z, ys = _decoder_and_signals(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for method in ("l1", "linf"):
        proc = subprocess.run([sys.executable, "-m", "theorychk", "invert", str(path), "--signal", str(tmp_path / "y.npy"),
                               "--method", method, "--json", "--workers", "1"],
                              capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
        assert report["status_counts"] == {"SOLVED": 2}, report
        for r in report["results"]:
            assert 0 < r["signal_offset"] <= r["signal_tol"]  # off by float32 rounding, and within tolerance
            assert r["method_status"] == "SOLVED"
    proc = subprocess.run([sys.executable, "-m", "theorychk", "invert", str(path), "--signal", str(tmp_path / "y.npy"),
                           "--method", "l1", "--json", "--workers", "1", "--signal-tol", "1e-15"],
                          capture_output=True, text=True, env=env, timeout=300)
    report = json.loads(proc.stdout)
    # a tolerance below float32 rounding: the signals *are* farther than it from the range
    assert "SOLVED" not in report["status_counts"], report
    assert all(r["signal_tol"] == 1e-15 for r in report["results"])


def test_certify_accepts_float32_outputs_and_says_what_it_certifies(tmp_path, capsys):
    net, path, z, ys = _decoder_and_signals(tmp_path)
    code = main(["certify", str(path), "--signals", str(tmp_path / "y.npy"), "--json", "--quiet",
                 "--claims", "polytope,lei_thm2", "--out", str(tmp_path / "c")])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    for i, row in enumerate(summary["signals"]):
        assert row["realizable"] is True, row
        assert row["signal_offset"] <= row["signal_tol"]
        cert = json.loads((tmp_path / "c" / f"signal-{i:03d}.json").read_text())
        origin = cert["signal"]["origin"]
        assert origin["certifies"] in ("given", "nearest_realizable")
        if origin["certifies"] == "nearest_realizable":  # the claims are about G(z*), not the unrounded y
            out = np.array([float(v if "/" not in v else int(v.split("/")[0]) / int(v.split("/")[1]))
                            for v in cert["signal"]["output"]])
            assert not np.array_equal(out, ys[i]) and np.linalg.norm(out - ys[i]) <= row["signal_tol"]
        assert check_certificate(cert, net).verdict == "VERIFIED"
