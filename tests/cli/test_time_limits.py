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


def _leaky_decoder(path: Path, widths: tuple[int, ...], seed: int = 14) -> tuple[Path, np.ndarray]:
    """A random float32 LeakyReLU(0.1) decoder of ``widths`` and one of its outputs (float32)."""
    from theorychk.io import npz
    from theorychk.network import Layer, Network, parse_activation

    rng = np.random.default_rng(seed)
    layers = tuple(
        Layer((rng.standard_normal((m, n)) / np.sqrt(n)).astype(np.float32),
              (0.1 * rng.standard_normal(m)).astype(np.float32), parse_activation("leaky_relu:0.1"), "float32")
        for n, m in zip(widths, widths[1:])
    )
    net = Network(layers, name="decoder")
    npz.write(net, path)
    y = net.forward(rng.standard_normal(widths[0]).astype(np.float32).astype(np.float64)).astype(np.float32)
    return path, y


@pytest.mark.slow
def test_certify_time_limit_is_per_signal_and_keeps_decided_claims(tmp_path, cli_on_fake_clock):
    """The reported decoder's shape (20 -> 200 -> 500 -> 784). Every claim on it now finishes in well
    under the 2 s limit on a real clock, so the limit runs on a fake one (0.2 s per look at the
    clock, in the subprocess): the claims decided before it passes keep their verdicts, the later
    ones end UNKNOWN "time limit", and the signal's verdict comes from a decided claim."""
    model, y = _leaky_decoder(tmp_path / "dec.npz", (20, 200, 500, 784))
    np.save(tmp_path / "y.npy", y[None, :])
    proc = cli_on_fake_clock(0.2, "certify", str(model), "--signals", str(tmp_path / "y.npy"), "--time-limit", "2",
                             "--workers", "1", "--out", str(tmp_path / "certs"), "--quiet", "--json", timeout=600)
    assert proc.returncode == 0, proc.stderr
    (row,) = _strict(proc.stdout)["signals"]
    assert row["verdict"]["verdict"] == "unique"
    cert = json.loads((tmp_path / "certs" / "signal-000.json").read_text())
    per_signal = [c for c in cert["claims"] if c["kind"] not in ("layer_injective", "network_injective")]
    assert any(c["status"] == "CERTIFIED" for c in per_signal)
    assert any(c["status"] == "UNKNOWN" and c["reason"] == "time limit" for c in per_signal)



@pytest.mark.slow
def test_invert_milp_time_limit(tmp_path):
    model, y = _leaky_decoder(tmp_path / "dec.npz", (20, 120, 160, 200))
    np.save(tmp_path / "y.npy", y)
    code, out = run("invert", str(model), "--signal", str(tmp_path / "y.npy"), "--method", "milp",
                    "--time-limit", "1", "--quiet")
    assert code == 0
    (res,) = out["results"]
    assert res["status"] == "UNKNOWN" and res["reason"] == "time limit"


@pytest.mark.slow
def test_reduce_verify_time_limit(tmp_path):
    code, out = run("reduce", "--vars", "250", "--clauses", "1065", "--seed", "3", "--verify", "--milp-gap",
                    "--time-limit", "1", "--quiet")
    assert code == 1  # UNKNOWN is not CERTIFIED
    v = out["verification"]
    assert v["status"] == "UNKNOWN"
    assert any(c["status"] == "UNKNOWN" and "time limit" in c["message"] for c in v["checks"]) \
        or v["sat"]["status"] == "UNKNOWN"
