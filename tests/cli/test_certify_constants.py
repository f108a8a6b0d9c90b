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
