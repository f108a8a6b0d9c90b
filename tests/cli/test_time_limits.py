"""Every command that takes ``--time-limit`` ends within it, with UNKNOWN / "time limit" in ``--json``.

Each test runs the command in a fresh process on an instance that cannot finish in the tiny
limit, and asserts on the status the JSON reports, never on wall time (the machine is shared;
the measured wall times are in docs/cli.md, "Time limits").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _strict(text: str) -> object:
    def no_nan(name: str) -> object:
        raise AssertionError(f"--json printed {name}, which is not JSON")

    return json.loads(text, parse_constant=no_nan)


def run(*args: str, timeout: float = 600) -> tuple[int, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "theorychk", *args, "--json"], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=ROOT)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, _strict(proc.stdout)


@pytest.fixture(scope="module")
def big_matrix(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("m") / "w784x500.npy"
    np.save(path, np.random.default_rng(14).standard_normal((784, 500)))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("flag", [["--sub-rank", "392"], ["--sub-spark", "392"]])
def test_invariants_time_limit(big_matrix, flag):
    code, out = run("invariants", str(big_matrix), *flag, "--time-limit", "1", "--quiet")
    assert code == 0
    (res,) = out["results"]
    assert res["status"] == "UNKNOWN" and res["reason"] == "time limit"
    assert res["lower"]["value"] < res["upper"]["value"]  # the bounds reached, not a guess
