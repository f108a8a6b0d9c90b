"""``certify --complete-box R``: the complete claim decides uniqueness in ``||z||_inf <= R``.

Run as a user runs it (``python -m theorychk`` in a subprocess). The net folds the line:
``G(z) = relu(z) + relu(-z/8)``, so ``G(z*) = G(-8 z*)`` for ``z* > 0`` -- REFUTED in ``R^k``, but
the fold's second preimage lies outside a box that holds ``z*``: CERTIFIED there, and the checker
replays the tree with the box rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from theorychk.io import save_network
from theorychk.network import Layer, Network

_ROOT = Path(__file__).resolve().parents[2]
#: ``default_rng(1)`` samples z* = 0.3456 (float32): -8 z* = -2.76 lies outside the box of radius 1.
SEED = "1"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("THEORYCHK_DEBUG", None)
    env["COLUMNS"] = "200"  # rich folds a table to the terminal's width
    return subprocess.run([sys.executable, "-m", "theorychk", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def fold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    net = Network([Layer(np.array([[1.0], [-0.125]], np.float32), None, "relu"),
                   Layer(np.array([[1.0, 1.0]], np.float32), None, "relu")], name="fold")
    return save_network(net, tmp_path_factory.mktemp("fold") / "fold.npz")


def certify(fold: Path, out: Path, *extra: str) -> dict:
    proc = cli("certify", str(fold), "--samples", "1", "--seed", SEED, "--claims", "complete", "--out", str(out),
               "--json", "--quiet", *extra, cwd=fold.parent)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_refuted_in_rk_certified_in_a_box_and_verified(fold: Path, tmp_path: Path) -> None:
    rk = certify(fold, tmp_path / "rk")
    assert rk["complete_box"] is None
    assert rk["signals"][0]["verdict"]["verdict"] == "not unique"
    cert = json.loads((tmp_path / "rk" / "signal-000.json").read_text())
    z, z2 = (float(Fraction(v)) for v in (cert["signal"]["latent"][0], cert["claims"][0]["evidence"]["second_latent"][0]))
    assert z > 0 and z2 == pytest.approx(-8 * z)

    boxed = certify(fold, tmp_path / "box", "--complete-box", "1")
    assert boxed["complete_box"] == "1"
    verdict = boxed["signals"][0]["verdict"]
    assert (verdict["verdict"], verdict["by"], verdict["scope"]) == ("unique", "complete", "||z||_inf <= 1")
    path = tmp_path / "box" / "signal-000.json"
    claim = json.loads(path.read_text())["claims"][0]
    assert claim["status"] == "CERTIFIED" and claim["evidence"]["latent_box"] == "1"
    assert "||z||_inf <= 1" in claim["statement"]
    checked = cli("check", str(path), "--json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    assert report["verdict"] == "VERIFIED" and report["signal_verdict"]["scope"] == "||z||_inf <= 1"

    # The box is part of what the tree proves: the same tree for a box holding -8 z* is REJECTED.
    cert = json.loads(path.read_text())
    cert["claims"][0]["evidence"]["latent_box"] = "4"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(cert))
    assert cli("check", str(bad), cwd=tmp_path).returncode == 1


def test_a_box_that_holds_the_second_preimage_still_refutes(fold: Path, tmp_path: Path) -> None:
    boxed = certify(fold, tmp_path / "box", "--complete-box", "4")
    verdict = boxed["signals"][0]["verdict"]
    assert (verdict["verdict"], verdict["scope"]) == ("not unique", "||z||_inf <= 4")  # where z2 lies
    assert cli("check", str(tmp_path / "box"), cwd=tmp_path).returncode == 0
    proc = cli("certify", str(fold), "--samples", "1", "--seed", SEED, "--claims", "complete", "--complete-box",
               "4", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "z2 in ||z||_inf <= 4" in " ".join(proc.stdout.split())


def test_a_box_without_z_star_is_undecided_and_says_why(fold: Path, tmp_path: Path) -> None:
    boxed = certify(fold, tmp_path / "box", "--complete-box", "1/8")
    verdict = boxed["signals"][0]["verdict"]
    assert verdict["verdict"] == "undecided" and "outside the latent box" in verdict["reason"]


def test_table_names_the_box(fold: Path, tmp_path: Path) -> None:
    proc = cli("certify", str(fold), "--samples", "1", "--seed", SEED, "--claims", "complete", "--complete-box",
               "1", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "(complete: in ||z||_inf <= 1)?" in " ".join(proc.stdout.split())  # the title, unfolded


def test_resume_refuses_another_box(fold: Path, tmp_path: Path) -> None:
    certify(fold, tmp_path / "run", "--complete-box", "1")
    proc = cli("certify", str(fold), "--samples", "1", "--seed", SEED, "--claims", "complete", "--out",
               str(tmp_path / "run"), "--resume", "--quiet", cwd=tmp_path)
    assert proc.returncode == 2 and "complete_box" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
