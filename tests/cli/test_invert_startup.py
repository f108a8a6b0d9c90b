"""Start-up: `theorychk --help`, a small command and an ONNX model read import no heavy module.

A test on WHICH modules are imported (``python -X importtime``), not on wall time.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

WT = str(Path(__file__).resolve().parents[2])
HEAVY = {"torch", "onnx", "ml_dtypes", "sympy", "hypothesis", "matplotlib", "dask", "distributed", "flint",
         "highspy", "scipy", "pysat", "sklearn", "onnxruntime", "pydantic", "pydantic_core", "rich"}
#: never needed by a small command: typer 0.29 would import pydantic to parse an option (theorychk.cli._coerce)
NEVER = {"torch", "onnx", "sympy", "hypothesis", "matplotlib", "dask", "distributed", "pydantic", "pydantic_core",
         "sklearn", "onnxruntime", "pysat"}


def _python(args, cwd):
    """``python ARGS`` in a fresh process that imports theorychk from this checkout."""
    env = dict(os.environ, PYTHONPATH=WT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def _imported(args, cwd, heavy=HEAVY):
    proc = _python(["-X", "importtime", *args], cwd)
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


def _modules_after(argv, cwd):
    """``sys.modules`` after ``theorychk ARGV`` in a fresh process (-X importtime misses importlib imports)."""
    code = ("import json, sys; from theorychk.cli import main; rc = main(sys.argv[1:]); "
            "open('modules.json', 'w').write(json.dumps(sorted(sys.modules))); sys.exit(rc)")
    proc = _python(["-c", code, *argv], cwd)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return set(json.loads((Path(cwd) / "modules.json").read_text()))


def test_small_command_imports_only_what_it_uses(tmp_path):
    # `invariants M.npy --spark --json` on a 10 x 20 integer matrix: numpy and flint for the spark,
    # no HiGHS (its exact search is cheap, so it skips the LP stages), nothing for the other
    # invariants (theorychk.invariants imports on first use), no Network (theorychk.exact imports
    # it only to evaluate a forward pass), no pydantic for the option parsing, no rich
    np.save(tmp_path / "M.npy", np.random.default_rng(0).integers(-3, 4, (10, 20)))
    names = _modules_after(["invariants", "M.npy", "--spark", "--json", "--time-limit", "60"], tmp_path)
    assert "theorychk.invariants.spark" in names and "numpy" in names  # it did the work
    tops = {n.split(".")[0] for n in names}
    assert tops & NEVER == set()
    assert "rich" not in tops
    assert "highspy" not in tops and "theorychk._highs" not in names
    assert not names & {"theorychk.invariants.cnorm", "theorychk.invariants.subrank", "theorychk.invariants.mu_s",
                        "theorychk.solvers", "theorychk.io", "theorychk.network"}
    # the table too: a plain table (theorychk.cli._table), not rich's (~0.03 s CPU to import)
    table = _modules_after(["invariants", "M.npy", "--spark"], tmp_path)
    assert "theorychk.cli._table" in table and "rich" not in {n.split(".")[0] for n in table}


def test_spark_lp_stages_import_no_scipy(tmp_path):
    # 12 x 24 (a full search would store ~2.6e7 residues): the LP stages run and settle it; their
    # LPs hand _highs.Program dense rows, compressed without scipy.sparse (0.1 s CPU to import)
    b = np.random.default_rng(3).integers(-3, 4, size=(12, 24))
    b[:, 23] = b[:, 0] + b[:, 1] + b[:, 2]
    np.save(tmp_path / "B.npy", b)
    names = _modules_after(["invariants", "B.npy", "--spark", "--json", "--time-limit", "60"], tmp_path)
    tops = {n.split(".")[0] for n in names}
    assert "highspy" in tops and "scipy" not in tops


def test_invert_with_a_method_option_imports_no_pydantic(tmp_path):
    from theorychk.io.onnx import write
    from theorychk.network import Layer, Network

    net = Network([Layer(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), None, "relu"),
                   Layer(np.eye(3)[[0, 1, 2, 0]], None, "identity")])
    write(net, tmp_path / "net.onnx")
    np.save(tmp_path / "Y.npy", net(np.array([[1.0, 2.0], [0.5, 0.25]])))
    names = _modules_after(["invert", "net.onnx", "--signal", "Y.npy", "--method", "gd", "--option", "momentum=0.9",
                            "--option", "iterations=50", "--seed", "1", "--workers", "1", "--json"], tmp_path)
    assert "theorychk.solvers.gradient" in names
    # get_method imports the named method's module only: gd needs no HiGHS, no scipy.sparse, no LP
    assert not names & {"theorychk.solvers.lp", "theorychk.solvers.milp", "theorychk._highs", "highspy",
                        "scipy.sparse"}
    # the lean ONNX read loads onnx's protobuf classes, not the onnx package (test below)
    lean = {"onnx.onnx_ml_pb2", "onnx.onnx_cpp2py_export"}
    assert {n.split(".")[0] for n in names if not n.startswith(tuple(lean))} & NEVER == set()


def test_help_modules(tmp_path):
    tops = {n.split(".")[0] for n in _modules_after(["--help"], tmp_path)}
    assert tops & (HEAVY | NEVER | {"numpy"}) == set()


def test_option_errors_without_pydantic_read_as_before(tmp_path):
    cases = {("--workers", "0"): "Invalid value for '--workers': Input should be greater than or equal to 1",
             ("--workers", "two"): "Input should be a valid integer, unable to parse string as an integer",
             ("--signal-tol", "x"): "Input should be a valid number, unable to parse string as a number"}
    for extra, message in cases.items():
        proc = _python(["-m", "theorychk", "invert", "m.onnx", "--signal", "y.npy", *extra], tmp_path)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_reading_an_onnx_model_does_not_import_onnx(tmp_path):
    from theorychk.io import load_network
    from theorychk.io.onnx import write
    from theorychk.network import Layer, Network

    net = Network([Layer(np.eye(3, dtype=np.float32)[:, :2], None, "relu"),
                   Layer(np.arange(12, dtype=np.float32).reshape(4, 3), np.ones(4, np.float32), "leaky_relu:0.25")])
    write(net, tmp_path / "net.onnx")
    code = ("import sys; from theorychk.io import load_network; n = load_network('net.onnx'); "
            "assert 'onnx' not in sys.modules and 'onnx.onnx_cpp2py_export' in sys.modules; "
            # onnx's checker only: the fields are decoded without protobuf (theorychk.io._onnx_wire)
            "assert 'onnx.onnx_ml_pb2' not in sys.modules and 'google.protobuf' not in sys.modules; print(n.widths)")
    heavy = _imported(["-c", code], tmp_path, heavy=HEAVY | {"google"})
    assert heavy == set()
    # the lean read gives what onnx gives, and onnx imported afterwards works and reuses them
    code = ("import numpy as np; from theorychk.io import load_network; a = load_network('net.onnx'); "
            "import onnx; from onnx import numpy_helper; m = onnx.load('net.onnx'); onnx.checker.check_model(m); "
            "assert onnx.onnx_ml_pb2.ModelProto is type(m); "
            "b = load_network('net.onnx'); "
            "assert all(np.array_equal(x.weight, y.weight) and x.weight.dtype == y.weight.dtype "
            "and x.activation.spec == y.activation.spec for x, y in zip(a.layers, b.layers)); print('ok')")
    proc = _python(["-c", code], tmp_path)
    assert proc.stdout.strip() == "ok", proc.stderr[-2000:]
    expected = load_network(tmp_path / "net.onnx")  # this process has onnx imported: onnx's own path
    assert expected.widths == (2, 3, 4)


def test_method_names_in_help_are_the_registered_ones():
    from theorychk.cli.invert import METHOD_NAMES
    from theorychk.solvers import METHOD_MODULES, REGISTRY, all_methods

    assert sorted(METHOD_NAMES) == sorted(all_methods()) == sorted(REGISTRY)  # all_methods loads every module
    assert sorted(METHOD_MODULES) == sorted(METHOD_NAMES)
    for name, module in METHOD_MODULES.items():  # each name where get_method looks for it
        assert type(REGISTRY[name]).__module__ == f"theorychk.solvers.{module}"


def test_the_command_ends_without_a_collection_over_its_imports(tmp_path):
    # entry() freezes the objects before the process exits (its final collection walked every
    # object numpy, flint and typer made, ~0.04 s CPU); atexit handlers and output still run
    np.save(tmp_path / "M.npy", np.random.default_rng(0).integers(-3, 4, (4, 6)))
    code = ("import atexit, gc, sys\n"
            "atexit.register(lambda: open('frozen.txt', 'w').write(str(gc.get_freeze_count())))\n"
            "sys.argv = ['theorychk', 'invariants', 'M.npy', '--spark', '--json']\n"
            "from theorychk.cli import entry\nentry()\n")
    proc = _python(["-c", code], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["results"][0]["invariant"] == "spark"
    assert int((tmp_path / "frozen.txt").read_text()) > 10_000


def test_path_arguments_import_no_pydantic(tmp_path):
    # `certify --out DIR` (a Path option) and `check CERT...` (a list[Path] argument): typer 0.29's
    # adapter would import pydantic (~0.1 s of a single-certificate check) only to wrap the text
    from theorychk.io import save_network
    from theorychk.network import Layer, Network

    save_network(Network([Layer(np.array([[1.0], [2.0]]), None, "relu")]), tmp_path / "net.npz")
    names = _modules_after(["certify", "net.npz", "--samples", "1", "--claims", "polytope", "--out", "certs",
                            "--json"], tmp_path)
    assert not {n.split(".")[0] for n in names} & {"pydantic", "pydantic_core"}
    names = _modules_after(["check", "certs/signal-000.json", "certs", "--json"], tmp_path)
    assert "theorychk.check.core" in names
    assert not {n.split(".")[0] for n in names} & {"pydantic", "pydantic_core"}
