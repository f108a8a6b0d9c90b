"""Exports load back: ONNX through onnxruntime, VNN-LIB through our reader, DIMACS, .npz, JSON."""

import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theorychk.errors import InvalidInput
from theorychk.io import load_network
from theorychk.reduction.cnf import CNF, read_dimacs, solve
from theorychk.reduction.constructions import construct, four_layer
from theorychk.reduction.export import (
    EPSILON,
    VNNLIB_DIALECT,
    export_instance,
    parse_vnnlib,
    read_vnnlib,
    to_vnnlib,
    with_explicit_biases,
    write_onnx,
)
from theorychk.testing.strategies import cnfs

ort = pytest.importorskip("onnxruntime")
VNNLIB_CONSTRUCTIONS = ["four-layer", "bias-free", "one-hidden", "katz"]


def _run(path, latents):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.vstack([session.run(None, {"X": z[None, :].astype(np.float32)})[0] for z in latents])


@pytest.mark.parametrize("name", ["binary", "printed", *VNNLIB_CONSTRUCTIONS])
def test_onnx_agrees_with_the_network_and_reproduces_the_witness(name, tmp_path):
    cnf = CNF(5, [[1, -2, 3], [-1, 4, 5], [2, -3, -5], [1, 2, 4], [-4, -5, 3]])
    inst = construct(cnf, name)
    path = write_onnx(inst, tmp_path / f"{name}.onnx")
    assert load_network(path) == with_explicit_biases(inst.network)
    rng = np.random.default_rng(0)
    lo = np.array([float(v) for v in inst.latent_lo])
    hi = np.array([float(v) for v in inst.latent_hi])
    latents = lo + (hi - lo) * rng.random((20, inst.latent_dim))
    np.testing.assert_allclose(_run(path, latents), inst.network.forward(latents), rtol=1e-5, atol=1e-5)
    witness = np.array([float(v) for v in inst.encode(solve(cnf).model)])
    out = _run(path, [witness])[0]
    if not inst.flawed:  # integers through float32: the target exactly
        assert out.tolist() == [float(t) for t in inst.target]


@given(cnfs(max_vars=6), st.sampled_from(VNNLIB_CONSTRUCTIONS), st.sampled_from([Fraction(1, 8), Fraction(1, 10), Fraction(3, 16)]))
@settings(max_examples=30)
def test_vnnlib_round_trip(cnf, name, eps):
    inst = construct(cnf, name)
    prop = parse_vnnlib(to_vnnlib(inst, epsilon=eps))
    assert prop.n_inputs == inst.latent_dim and prop.n_outputs == inst.network.output_dim
    assert prop.input_lo == inst.latent_lo and prop.input_hi == inst.latent_hi
    assert prop.output_lo == tuple(t - eps for t in inst.target)
    assert prop.output_hi == tuple(t + eps for t in inst.target)
    assert prop.epsilon == eps and prop.target == inst.target
    assert prop.header["construction"] == name


def test_vnnlib_refuses_unsound_properties():
    cnf = CNF(3, [[1, 2, 3]])
    with pytest.raises(InvalidInput, match="binary latent .* which VNN-LIB 1.0 cannot express"):
        to_vnnlib(construct(cnf, "binary"))
    with pytest.raises(InvalidInput, match=r"epsilon must be in \(0, 1/4\)"):
        to_vnnlib(four_layer(cnf), epsilon=Fraction(1, 4))
    with pytest.raises(InvalidInput, match="no finite decimal expansion"):
        to_vnnlib(four_layer(cnf), epsilon=Fraction(1, 6))


GOOD = VNNLIB_DIALECT + "\n(declare-const X_0 Real)\n(declare-const Y_0 Real)\n" \
    "(assert (>= X_0 -1.0))\n(assert (<= X_0 1.0))\n(assert (>= Y_0 -0.125))\n(assert (<= Y_0 0.125))\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(declare-const X_0 Real)\n", "VNN-LIB line 1: expected the header"),
        (GOOD.replace("(assert (<= X_0 1.0))", "(assert (= X_0 1.0))"),
         "VNN-LIB line 5: expected (declare-const X_i Real), (declare-const Y_j Real) or (assert (<= NAME NUMBER))"),
        (GOOD.replace("(assert (<= X_0 1.0))", "(assert (<= X_1 1.0))"), "VNN-LIB line 5: X_1 is used before it is declared"),
        (GOOD.replace("(assert (<= X_0 1.0))\n", ""), "VNN-LIB: X_0 has no <= bound (every input and output needs both)"),
        (GOOD.replace("(assert (<= X_0 1.0))", "(assert (>= X_0 1.0))"), "VNN-LIB line 5: a second >= bound on X_0"),
        (GOOD.replace("(declare-const X_0 Real)", "(declare-const X_1 Real)"), "VNN-LIB line 2: expected X_0 next"),
        (GOOD.replace("(assert (>= Y_0 -0.125))", "(assert (>= Y_0 0.5))"), "VNN-LIB: Y_0 has lower bound above upper bound"),
    ],
)
def test_vnnlib_reader_rejects(text, message):
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_vnnlib(text)


def test_export_instance_writes_everything_that_loads_back(tmp_path):
    cnf = CNF(4, [[1, -2, 3], [-1, 2, 4]], name="tiny")
    inst = four_layer(cnf)
    files = export_instance(inst, tmp_path)
    assert set(files) == {"cnf", "onnx", "vnnlib", "npz", "json"}
    assert read_dimacs(files["cnf"]) == cnf
    assert load_network(files["npz"]) == inst.network == load_network(files["onnx"])
    assert read_vnnlib(files["vnnlib"]).epsilon == EPSILON
    data = json.loads(files["json"].read_text())
    assert data["epsilon"] == "1/8" and data["target"] == ["2", "0"]
    binary = export_instance(construct(cnf, "binary"), tmp_path / "b")
    assert "vnnlib" not in binary  # skipped, not an error: VNN-LIB cannot state a binary latent
    with pytest.raises(InvalidInput, match="unknown export format 'pdf'"):
        export_instance(inst, tmp_path, formats=("pdf",))


@pytest.mark.parametrize("name", VNNLIB_CONSTRUCTIONS)
def test_every_gemm_has_an_explicit_bias(name, tmp_path):
    """Marabou 2.0.0 crashes on a Gemm without its C input: bias-free layers get zeros in the file."""
    import onnx

    inst = construct(CNF(3, [[1, -2, 3], [-1, 2], [2, 3]]), name)
    model = onnx.load(str(write_onnx(inst, tmp_path / "g.onnx")))
    gemms = [n for n in model.graph.node if n.op_type == "Gemm"]
    assert len(gemms) == len(inst.network.layers) and all(len(n.input) == 3 for n in gemms)
    if name == "bias-free":
        assert not any(layer.has_bias for layer in inst.network.layers)
        assert all(not np.any(layer.bias) for layer in load_network(tmp_path / "g.onnx").layers)


def test_explicit_biases_keep_the_function_and_leave_biased_networks_alone():
    inst = construct(CNF(3, [[1, -2, 3], [-1, 2]]), "bias-free")
    net = with_explicit_biases(inst.network)
    assert net != inst.network and all(layer.has_bias for layer in net.layers)
    z = np.random.default_rng(1).uniform(-1, 1, (10, inst.latent_dim))
    assert np.array_equal(net.forward(z), inst.network.forward(z))
    biased = construct(CNF(3, [[1, -2, 3]]), "four-layer").network
    assert with_explicit_biases(biased) is biased


def test_unnamed_formulas_get_distinct_file_names(tmp_path):
    """SATLIB-style files without a 'c name:' line used to all export as four-layer--cnf.*"""
    a, b = CNF(3, [[1, 2, 3]]), CNF(3, [[1, 2, -3]])
    assert a.name == b.name == "" and a.label != b.label and a.label == CNF(3, [[1, 2, 3]]).label
    wa = export_instance(construct(a, "four-layer"), tmp_path, formats=("cnf", "onnx"))
    wb = export_instance(construct(b, "four-layer"), tmp_path, formats=("cnf", "onnx"))
    assert wa["onnx"] != wb["onnx"] and len(list(tmp_path.glob("*.onnx"))) == 2
    # a DIMACS file without a name line is named after the file
    (tmp_path / "uf20-01.cnf").write_text("p cnf 3 1\n1 2 3 0\n")
    assert read_dimacs(tmp_path / "uf20-01.cnf").name == "uf20-01"


@pytest.mark.parametrize("name", VNNLIB_CONSTRUCTIONS)
def test_marabou_parser_reads_every_export(name, tmp_path):
    Marabou = pytest.importorskip("maraboupy.Marabou", reason="maraboupy (optional extra 'verifiers') not installed")
    inst = construct(CNF(4, [[1, -2, 3], [-1, 4], [2, 3, -4]]), name)
    written = export_instance(inst, tmp_path, formats=("onnx", "vnnlib"))
    net = Marabou.read_onnx(str(written["onnx"]))
    assert len(net.inputVars[0].flatten()) == inst.latent_dim
    assert len(net.outputVars[0].flatten()) == inst.network.output_dim
    # Marabou's own equations (not onnxruntime) evaluated at the witness give the target
    witness = np.array([[float(v) for v in inst.encode(solve(inst.cnf).model)]], dtype=np.float32)
    out = net.evaluateWithMarabou([witness], filename=str(tmp_path / "marabou.log"))[0].flatten()
    assert out.tolist() == [float(t) for t in inst.target]
