"""`theorychk certify --exact-constants`, as a user runs it (a subprocess): the lei layers' constants
are exact with the flag and certified lower bounds without it, and both certificates check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from theorychk.io import save_network
from tests.certify.test_exact_constants import mid_net


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run([sys.executable, "-m", "theorychk", *args], capture_output=True, text=True, env=env,
                          timeout=300, check=False)


@pytest.mark.parametrize("flag, constant", [((), "lower_bound"), (("--exact-constants",), "exact")])
def test_exact_constants_flag(tmp_path, flag, constant):
    model = save_network(mid_net(), tmp_path / "mid.npz")
    out = tmp_path / "certs"
    res = _run("certify", str(model), "--samples", "1", "--claims", "lei_linf", "--printed-budget", "0",
               "--out", str(out), "--workers", "1", "--quiet", "--json", *flag)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["counts"]["lei_linf"]["CERTIFIED"] == 1
    cert = json.loads((out / "signal-000.json").read_text())
    layer0 = next(e for e in cert["claims"][0]["evidence"]["layers"] if e["layer"] == 0)
    assert layer0["constant"] == constant and ("x" in layer0["c_evidence"]) == (constant == "exact")
    check = _run("check", str(out / "signal-000.json"))
    assert check.returncode == 0 and "VERIFIED" in check.stdout, check.stdout + check.stderr


@pytest.mark.parametrize("first, then", [((), ("--exact-constants",)), (("--exact-constants",), ())])
def test_resume_refuses_certificates_of_the_other_constants(tmp_path, first, then):
    """Resuming with(out) --exact-constants over a run made without (with) it would keep lower bounds
    (exact constants) it did not ask for: exit 2, one line naming the setting."""
    model = save_network(mid_net(), tmp_path / "mid.npz")
    out = tmp_path / "certs"
    args = ("certify", str(model), "--samples", "1", "--claims", "lei_linf", "--printed-budget", "0", "--out",
            str(out), "--workers", "1", "--quiet", "--json")
    assert _run(*args, *first).returncode == 0
    again = _run(*args, *first, "--resume")
    assert again.returncode == 0 and json.loads(again.stdout)["resume"]["skipped"] == [0], again.stderr
    res = _run(*args, *then, "--resume")
    assert res.returncode == 2 and res.stdout == "", res.stdout + res.stderr
    (line,) = res.stderr.strip().splitlines()
    assert "--resume:" in line and "exact_constants" in line


def test_resume_reads_a_certificate_without_the_record_as_made_without_exact_constants(tmp_path):
    model = save_network(mid_net(), tmp_path / "mid.npz")
    out = tmp_path / "certs"
    args = ("certify", str(model), "--samples", "1", "--claims", "lei_linf", "--printed-budget", "0", "--out",
            str(out), "--workers", "1", "--quiet", "--json")
    assert _run(*args).returncode == 0
    path = out / "signal-000.json"
    cert = json.loads(path.read_text())
    cert["generator"].pop("exact_constants")  # as certificates were written before it was recorded
    path.write_text(json.dumps(cert))
    assert json.loads(_run(*args, "--resume").stdout)["resume"]["skipped"] == [0]
    assert _run(*args, "--exact-constants", "--resume").returncode == 2
