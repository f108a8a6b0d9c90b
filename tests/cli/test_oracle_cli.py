"""`invert --method oracle --latent-true Z.npy`: Aberdam et al.'s Oracle from the command line
(issue 14: it was reachable from Python only), in a fresh process as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from theorychk.solvers import invert
from theorychk.zoo import load


def test_oracle_from_the_cli_matches_the_library(tmp_path: Path) -> None:
    net = load("aberdam")
    z = np.random.default_rng(5).standard_normal((3, net.latent_dim))
    y = np.array([net.forward(row) for row in z])
    np.save(tmp_path / "Y.npy", y)
    np.save(tmp_path / "Z.npy", z)
    repo = str(Path(__file__).parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-m", "theorychk", "invert", "zoo:aberdam", "--signal", "Y.npy", "--method", "oracle",
         "--latent-true", "Z.npy", "--out", "Zhat.npy", "--json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status_counts"] == {"SOLVED": 3}
    zhat = np.load(tmp_path / "Zhat.npy")
    for i in range(3):
        lib = invert(net, y[i], method="oracle", latent_true=z[i])
        assert np.allclose(zhat[i], lib.latent, rtol=1e-9, atol=1e-12)
        assert np.linalg.norm(zhat[i] - z[i]) <= 1e-6 * np.linalg.norm(z[i])
