"""Start-up: `theorychk --help`, a small command and an ONNX model read import no heavy module.

A test on WHICH modules are imported (``python -X importtime``), not on wall time.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

WT = str(Path(__file__).resolve().parents[2])
HEAVY = {"torch", "onnx", "ml_dtypes", "sympy", "hypothesis", "matplotlib", "dask", "distributed", "flint",
         "highspy", "scipy", "pysat", "sklearn", "onnxruntime"}


def _imported(args, cwd, heavy=HEAVY):
    env = dict(os.environ, PYTHONPATH=WT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "theorychk.cli" in names or "theorychk.io" in names  # the parse saw the imports
    return {n for n in names if n.split(".")[0] in heavy or n in heavy}


@pytest.mark.parametrize(
    "args",
    [["-c", "import theorychk.cli"], ["-m", "theorychk", "--help"], ["-m", "theorychk", "invert", "--help"]],
    ids=["import", "help", "invert-help"],
)
def test_help_imports_no_heavy_module(args, tmp_path):
    assert _imported(args, tmp_path) == set()


@pytest.mark.parametrize("args", [["-m", "theorychk", "--help"], ["-m", "theorychk", "invert", "--help"]],
                         ids=["help", "invert-help"])
def test_help_does_not_import_numpy(args, tmp_path):
    # importing numpy took `theorychk --help` from a median 0.33 s to 0.55 s (issue 18): the
    # command modules import it inside their commands
    assert _imported(args, tmp_path, heavy={"numpy"}) == set()


def test_reading_an_onnx_model_does_not_import_onnx(tmp_path):
    from theorychk.io import load_network
    from theorychk.io.onnx import write
    from theorychk.network import Layer, Network

    net = Network([Layer(np.eye(3, dtype=np.float32)[:, :2], None, "relu"),
                   Layer(np.arange(12, dtype=np.float32).reshape(4, 3), np.ones(4, np.float32), "leaky_relu:0.25")])
    write(net, tmp_path / "net.onnx")
    code = ("import sys; from theorychk.io import load_network; n = load_network('net.onnx'); "
            "assert 'onnx' not in sys.modules; print(n.widths)")
    heavy = _imported(["-c", code], tmp_path)
    assert heavy <= {"onnx.onnx_ml_pb2", "onnx.onnx_cpp2py_export"}  # the classes and checker only
    # the lean read gives what onnx gives, and onnx imported afterwards works and reuses them
    code = ("import numpy as np; from theorychk.io import load_network; a = load_network('net.onnx'); "
            "import onnx; from onnx import numpy_helper; m = onnx.load('net.onnx'); onnx.checker.check_model(m); "
            "assert onnx.onnx_ml_pb2.ModelProto is type(m); "
            "b = load_network('net.onnx'); "
            "assert all(np.array_equal(x.weight, y.weight) and x.weight.dtype == y.weight.dtype "
            "and x.activation.spec == y.activation.spec for x, y in zip(a.layers, b.layers)); print('ok')")
    env = dict(os.environ, PYTHONPATH=WT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120)
    assert proc.stdout.strip() == "ok", proc.stderr[-2000:]
    expected = load_network(tmp_path / "net.onnx")  # this process has onnx imported: onnx's own path
    assert expected.widths == (2, 3, 4)


def test_method_names_in_help_are_the_registered_ones():
    from theorychk.cli.invert import METHOD_NAMES
    from theorychk.solvers import REGISTRY, get_method

    get_method("linf")  # loads every method module
    assert sorted(METHOD_NAMES) == sorted(REGISTRY)
