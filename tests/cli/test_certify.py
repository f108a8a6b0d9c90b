"""`theorychk certify` and `theorychk check`: counts in --json, certificates on disk, exit codes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from theorychk.cli import main
from theorychk.io import save_network
from theorychk.network import Layer, Network


@pytest.fixture
def model(tmp_path):
    rng = np.random.default_rng(1)
    net = Network([Layer(rng.standard_normal((8, 2)).astype(np.float32), None, "relu"),
                   Layer(rng.standard_normal((12, 8)).astype(np.float32), None, "relu")], name="small")
    return save_network(net, tmp_path / "small.npz"), net


KINDS = "polytope,lei_thm2,milp_global,lei_linf,aberdam_oracle"


def test_certify_json_counts_and_certificates(model, tmp_path, capsys):
    path, net = model
    out = tmp_path / "certs"
    code = main(["certify", str(path), "--samples", "3", "--seed", "0", "--out", str(out), "--json", "--quiet",
                 "--claims", KINDS, "--time-limit", "60"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["fingerprint"] == net.fingerprint() and summary["widths"] == [2, 8, 12]
    assert set(summary["counts"]) == set(KINDS.split(","))
    for label, c in summary["counts"].items():
        assert sum(c.values()) == 3, label
    files = sorted(out.glob("signal-*.json"))
    assert [f.name for f in files] == ["signal-000.json", "signal-001.json", "signal-002.json"]
    per_signal = [row["claims"] for row in summary["signals"]]
    for label, c in summary["counts"].items():  # the counts are the certificates' statuses
        assert c["CERTIFIED"] == sum(s[label] == "CERTIFIED" for s in per_signal)
    assert main(["check", str(files[0])]) == 0
    assert "VERIFIED:" in capsys.readouterr().out


def test_check_exit_codes_on_mutated_and_broken_certificates(model, tmp_path, capsys):
    path, net = model
    out = tmp_path / "certs"
    assert main(["certify", str(path), "--samples", "1", "--out", str(out), "--quiet", "--claims", "polytope,lei_thm2"]) == 0
    cert_path = out / "signal-000.json"
    cert = json.loads(cert_path.read_text())
    capsys.readouterr()
    cert["signal"]["latent"][0] = "7"  # z* changed: the recorded output no longer matches
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(cert))
    assert main(["check", str(bad)]) == 1
    assert "REJECTED" in capsys.readouterr().out
    truncated = tmp_path / "truncated.json"
    truncated.write_text(cert_path.read_text()[:100])
    assert main(["check", str(truncated)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("theorychk: error: certificate") and "not valid JSON" in err and err.count("\n") == 1
    other = save_network(Network([Layer(np.ones((12, 2)), None, "relu")]), tmp_path / "other.npz")
    assert main(["check", str(cert_path), "--model", str(other), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == "REJECTED" and "fingerprint mismatch" in report["claims"][0]["reason"]


def test_certify_signals_reports_non_realizable(model, tmp_path, capsys):
    path, net = model
    z = np.array([0.75, -0.5])
    realizable = net.forward(z)
    not_realizable = realizable.copy()
    not_realizable[:] = -1.0  # a ReLU output is never negative
    ys = tmp_path / "y.npy"
    np.save(ys, np.stack([realizable, not_realizable]))
    code = main(["certify", str(path), "--signals", str(ys), "--json", "--quiet", "--claims", "polytope,lei_thm2",
                 "--out", str(tmp_path / "c")])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    first, second = summary["signals"]
    assert first["realizable"] is True and first["residual"] < 1e-6 and "certificate" in first
    assert second["realizable"] is False and second["residual"] >= 0.99 and "certificate" not in second
    assert sum(summary["counts"]["polytope"].values()) == 1
    cert = json.loads((tmp_path / "c" / "signal-000.json").read_text())
    assert cert["signal"]["origin"]["exact"] is True  # the given y itself is reproduced exactly
    assert cert["signal"]["origin"]["certifies"] == "given" and cert["signal"]["origin"]["signal_offset"] == 0.0
    main(["certify", str(path), "--signals", str(ys), "--quiet", "--claims", "polytope"])
    assert "signal 1: not realizable within signal_tol" in capsys.readouterr().out


def test_certify_table_and_bad_options(model, capsys):
    path, _ = model
    assert main(["certify", str(path), "--samples", "1", "--quiet", "--claims", "lei_thm2"]) == 0
    assert "lei_thm2" in capsys.readouterr().out
    assert main(["certify", str(path), "--noise", "-1"]) == 2
    assert "--noise must be positive" in capsys.readouterr().err
    assert main(["certify", str(path), "--claims", "polytop"]) == 2
    assert "did you mean 'polytope'" in capsys.readouterr().err
    assert main(["certify", str(path), "--samples", "1", "--signals", "y.npy"]) == 2


def test_complete_decides_where_polytope_does_not_through_the_cli(tmp_path):
    """`theorychk certify NET --signals Y.npy --out DIR` then `theorychk check`, as a user runs them:
    on a 2-4-3-3 net whose layer-1 preimage polytope is not a point, `complete` CERTIFIES."""
    import os
    import subprocess
    import sys
    from fractions import Fraction
    from pathlib import Path

    from tests.check.test_complete import _net

    net, z = _net()
    path = save_network(net, tmp_path / "net.npz")
    y = net.forward(np.array([float(v) for v in z]))
    np.save(tmp_path / "y.npy", y[None, :])
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "theorychk", *args], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=300)

    proc = run("certify", str(path), "--signals", "y.npy", "--out", "certs", "--claims", "polytope,complete",
               "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)["signals"][0]
    assert row["claims"] == {"polytope": "UNKNOWN", "complete": "CERTIFIED"}
    cert = json.loads((tmp_path / "certs" / "signal-000.json").read_text())
    assert [Fraction(v) for v in cert["signal"]["latent"]] == z
    proc = run("check", "certs/signal-000.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "VERIFIED       complete: branching tree replayed below layer 1" in proc.stdout
    assert proc.stdout.rstrip().endswith("VERIFIED: certs/signal-000.json")
