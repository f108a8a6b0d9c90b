"""Bad input to any command: one line on stderr naming the argument, exit code 2, nothing on stdout.

One row per case, each run in a fresh ``python -m theorychk`` process (so that the check covers
what a user sees: no traceback from an import, no exit 3 from an exception that escaped the
error path). The fixtures are written once into a temporary folder that every run uses as its
working directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

#: (id, argv, a word the message must contain: the argument's name or the thing that arrived)
CASES = [
    # the command line itself
    ("unknown-command", ["invrt"], "invert"),
    ("unknown-option", ["theorems", "--bogus"], "--bogus"),
    ("missing-argument", ["invert"], "model"),
    ("missing-option", ["invert", "zoo:vae-relu"], "--signal"),
    ("not-an-integer", ["certify", "zoo:vae-relu", "--samples", "x"], "--samples"),
    # model files
    ("model-missing", ["info", "nothere.npz"], "nothere.npz"),
    ("model-empty", ["info", "empty.npz"], "empty.npz"),
    ("model-binary-npz", ["info", "garbage.npz"], "garbage.npz"),
    ("model-binary-onnx", ["info", "garbage.onnx"], "garbage.onnx"),
    ("model-binary-pt", ["info", "garbage.pt", "--activation", "relu"], "garbage.pt"),
    ("model-directory", ["info", "folder.npz"], "folder.npz"),
    ("model-wrong-format", ["info", "M.npy"], ".npy"),
    ("model-nan-weight", ["info", "nanw.npz"], "layer 0"),
    ("model-3d-weight", ["info", "w3d.npz"], "(2, 3, 4)"),
    ("model-widths-do-not-chain", ["info", "mism.npz"], "mism.npz"),
    ("unknown-zoo-net", ["info", "zoo:vae-relux"], "vae-relu"),
    ("convert-out-exists", ["convert", "zoo:vae-relu", "exists.npz"], "--force"),
    ("convert-unknown-extension", ["convert", "zoo:vae-relu", "out.txt"], ".txt"),
    # signals
    ("invert-signal-missing", ["invert", "zoo:vae-relu", "--signal", "nothere.npy"], "signal"),
    ("invert-signal-empty-file", ["invert", "zoo:vae-relu", "--signal", "empty.npy"], "--signal"),
    ("invert-signal-binary", ["invert", "zoo:vae-relu", "--signal", "garbage.npz"], "--signal"),
    ("invert-signal-pickle", ["invert", "zoo:vae-relu", "--signal", "obj.npy"], "--signal"),
    ("invert-signal-length", ["invert", "zoo:vae-relu", "--signal", "sig463.npy"], "(4, 63)"),
    ("invert-signal-nan", ["invert", "zoo:vae-relu", "--signal", "nan.npy"], "row 2"),
    ("invert-signal-inf", ["invert", "zoo:vae-relu", "--signal", "inf.npy"], "row 1"),
    ("invert-signal-3d", ["invert", "zoo:vae-relu", "--signal", "cube.npy"], "(2, 3, 64)"),
    ("invert-mask-shape", ["invert", "zoo:vae-relu", "--signal", "good.npy", "--mask", "cube.npy"], "mask"),
    ("invert-unknown-method", ["invert", "zoo:vae-relu", "--signal", "good.npy", "--method", "lnif"], "linf"),
    ("invert-negative-seed", ["invert", "zoo:vae-relu", "--signal", "good.npy", "--seed", "-1"], "--seed"),
    ("invert-zero-workers", ["invert", "zoo:vae-relu", "--signal", "good.npy", "--workers", "0"], "--workers"),
    ("invert-negative-time", ["invert", "zoo:vae-relu", "--signal", "good.npy", "--time-limit", "-1"], "--time-limit"),
    ("invert-zero-time", ["invert", "zoo:vae-relu", "--signal", "good.npy", "--time-limit", "0"], "--time-limit"),
    ("invert-oracle-needs-latents", ["invert", "zoo:vae-relu", "--signal", "good.npy", "--method", "oracle"],
     "--latent-true"),
    ("invert-latent-true-not-oracle", ["invert", "zoo:vae-relu", "--signal", "good.npy", "--latent-true", "M.npy"],
     "--latent-true"),
    ("invert-latent-true-shape", ["invert", "zoo:vae-relu", "--signal", "good.npy", "--method", "oracle",
                                  "--latent-true", "sig463.npy"], "(4, 63)"),
    ("certify-zero-time", ["certify", "zoo:vae-relu", "--samples", "1", "--time-limit", "0"], "--time-limit"),
    ("invariants-negative-time", ["invariants", "M.npy", "--time-limit", "-2"], "--time-limit"),
    ("reduce-nan-time", ["reduce", "--vars", "3", "--clauses", "3", "--seed", "0", "--verify", "--time-limit", "nan"],
     "--time-limit"),
    ("certify-signals-length", ["certify", "zoo:vae-relu", "--signals", "sig463.npy"], "(4, 63)"),
    ("certify-signals-nan", ["certify", "zoo:vae-relu", "--signals", "nan.npy"], "row 2"),
    ("certify-signals-3d", ["certify", "zoo:vae-relu", "--signals", "cube.npy"], "--signals"),
    ("certify-negative-samples", ["certify", "zoo:vae-relu", "--samples", "-1"], "samples"),
    ("certify-negative-seed", ["certify", "zoo:vae-relu", "--samples", "1", "--seed", "-1"], "--seed"),
    ("certify-unknown-claim", ["certify", "zoo:vae-relu", "--claims", "lei_linff"], "lei_linf"),
    ("certify-out-is-a-file", ["certify", "zoo:vae-relu", "--samples", "1", "--out", "exists.json"], "--out"),
    ("certify-zero-workers", ["certify", "zoo:vae-relu", "--samples", "2", "--workers", "0"], "--workers"),
    ("certify-dask-garbage", ["certify", "zoo:vae-relu", "--samples", "2", "--dask", "garbage"], "--dask"),
    ("invert-dask-garbage", ["invert", "zoo:vae-relu", "--signal", "good.npy", "--dask", "garbage"], "--dask"),
    ("experiment-dask-garbage", ["experiment", "injectivity", "--dask", "garbage"], "--dask"),
    ("certify-complete-box-negative", ["certify", "zoo:vae-relu", "--samples", "1", "--complete-box", "-1"],
     "--complete-box"),
    ("certify-complete-box-garbage", ["certify", "zoo:vae-relu", "--samples", "1", "--complete-box", "big"],
     "--complete-box"),
    ("certify-complete-box-without-complete", ["certify", "zoo:vae-relu", "--samples", "1", "--claims", "polytope",
                                               "--complete-box", "2"], "--complete-box"),
    ("certify-resume-without-out", ["certify", "zoo:vae-relu", "--samples", "2", "--resume"], "--out"),
    ("certify-negative-printed-budget", ["certify", "zoo:vae-relu", "--samples", "1", "--printed-budget", "-1"],
     "--printed-budget"),
    # certificates
    ("check-missing", ["check", "nothere.json"], "nothere.json"),
    ("check-npy", ["check", "M.npy"], "M.npy"),
    ("check-binary", ["check", "binary.json"], "binary.json"),
    ("check-not-json", ["check", "text.json"], "JSON"),
    ("check-directory", ["check", "folder.npz"], "folder.npz"),
    ("check-no-model-field", ["check", "nomodel.json"], "--model"),
    ("check-model-missing", ["check", "nomodel.json", "--model", "nothere.npz"], "nothere.npz"),
    # matrices
    ("invariants-3d", ["invariants", "cube.npy"], "MATRIX"),
    ("invariants-nan", ["invariants", "nan.npy"], "row 2"),
    ("invariants-layer", ["invariants", "zoo:vae-relu", "--layer", "-1"], "--layer"),
    ("invariants-negative-s", ["invariants", "M.npy", "--sub-rank", "-1"], "s must"),
    # formulas
    ("reduce-dimacs-literal", ["reduce", "--cnf", "bad.cnf"], "bad.cnf"),
    ("reduce-dimacs-count", ["reduce", "--cnf", "short.cnf"], "short.cnf"),
    ("reduce-dimacs-empty", ["reduce", "--cnf", "empty.cnf"], "empty.cnf"),
    ("reduce-dimacs-binary", ["reduce", "--cnf", "garbage.pt"], "garbage.pt"),
    ("reduce-negative-vars", ["reduce", "--vars", "-3", "--clauses", "3", "--seed", "0"], "vars"),
    ("reduce-unknown-construction", ["reduce", "--vars", "3", "--clauses", "3", "--seed", "0",
                                     "--construction", "fourlayer"], "four-layer"),
    ("reduce-out-is-a-file", ["reduce", "--vars", "3", "--clauses", "3", "--seed", "0", "--out", "exists.json"],
     "--out"),
    # theorems, experiments, benchmarks, the demo
    ("falsify-unknown-theorem", ["falsify", "lei2019.lema1"], "lei2019.lemma1"),
    ("falsify-negative-budget", ["falsify", "lei2019.lemma1", "--budget", "-5"], "budget"),
    ("experiment-unknown", ["experiment", "injectvity"], "injectivity"),
    ("experiment-negative-runs", ["experiment", "injectivity", "--runs", "-1", "--out", "exp"], "--runs"),
    ("experiment-negative-seed", ["experiment", "injectivity", "--seed", "-1", "--out", "exp"], "--seed"),
    ("experiment-out-is-a-file", ["experiment", "injectivity", "--out", "exists.json"], "--out"),
    ("benchmark-unknown", ["benchmark", "hardnes", "--out", "bench"], "hardness"),
    ("benchmark-verify-missing", ["benchmark", "verify", "nothere"], "nothere"),
    ("benchmark-out-is-a-file", ["benchmark", "hardness-mini", "--out", "exists.json"], "--out"),
    ("demo-zero-samples", ["demo", "--samples", "0"], "--samples"),
    ("demo-out-is-a-file", ["demo", "--out", "exists.json"], "--out"),
]


def _fixtures(root: Path) -> None:
    np.save(root / "M.npy", np.eye(3))
    np.save(root / "good.npy", np.zeros((2, 64)))
    np.save(root / "sig463.npy", np.zeros((4, 63)))
    nan = np.zeros((4, 64))
    nan[2, 5] = np.nan
    np.save(root / "nan.npy", nan)
    inf = np.zeros((3, 64))
    inf[1, 4] = np.inf
    np.save(root / "inf.npy", inf)
    np.save(root / "cube.npy", np.zeros((2, 3, 64)))
    np.save(root / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    for name in ("empty.npy", "empty.npz", "empty.cnf", "exists.npz", "exists.json"):
        (root / name).write_bytes(b"")
    for name in ("garbage.npz", "garbage.onnx", "garbage.pt", "binary.json"):
        (root / name).write_bytes(bytes(range(256)) * 4)
    (root / "folder.npz").mkdir()
    (root / "text.json").write_text("{\"format\": \"theorychk-certificate\",\n")
    (root / "nomodel.json").write_text(json.dumps({"format": "theorychk-certificate", "version": 1, "claims": []}))
    (root / "bad.cnf").write_text("p cnf 3 2\n1 2 x 0\n-1 3 0\n")
    (root / "short.cnf").write_text("p cnf 2 5\n1 2 0\n")
    header = {"format": np.array("theorychk-network"), "version": np.array(1)}
    np.savez(root / "nanw.npz", **header, n_layers=np.array(2), W0=np.array([[1.0, 0], [0, 1], [np.nan, 1]]),
             act0=np.array("relu"), W1=np.ones((4, 3)), act1=np.array("relu"))
    np.savez(root / "w3d.npz", **header, n_layers=np.array(1), W0=np.ones((2, 3, 4)), act0=np.array("relu"))
    np.savez(root / "mism.npz", **header, n_layers=np.array(2), W0=np.ones((3, 2)), act0=np.array("relu"),
             W1=np.ones((4, 5)), act1=np.array("relu"))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad-input")
    _fixtures(root)
    return root


@pytest.mark.parametrize(("argv", "mention"), [pytest.param(a, m, id=i) for i, a, m in CASES])
def test_bad_input_is_one_line_and_exit_2(workdir: Path, argv: list[str], mention: str) -> None:
    repo = str(Path(__file__).parents[2])  # this checkout, not whichever theorychk is installed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")])}
    env.pop("THEORYCHK_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "theorychk", *argv], cwd=workdir, capture_output=True, text=True,
                          timeout=120, env=env)
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert len(lines) == 1 and lines[0].strip(), proc.stderr
    assert "Traceback" not in proc.stderr and "allow_pickle" not in proc.stderr
    assert mention in lines[0], lines[0]
    assert proc.stdout == ""


def test_every_command_has_a_row() -> None:
    from theorychk.cli import COMMANDS

    covered = {argv[0] for _, argv, _ in CASES}
    assert set(COMMANDS) - {"theorems"} <= covered  # `theorems` takes no input but its flags (row unknown-option)
