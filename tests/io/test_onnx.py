"""ONNX reader and writer: parity with onnxruntime and PyTorch, round trips, hand-built graphs,
and the messages for inputs theorychk refuses."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from onnx import TensorProto, helper, numpy_helper

from theorychk.errors import InvalidInput
from theorychk.io import export_onnx, load_network
from theorychk.io.onnx import IR_VERSION, OPSET, Float32RoundingWarning, to_model
from theorychk.network import PLU, Identity, Layer, LeakyReLU, Network, ReLU, Sigmoid, Tanh

ort = pytest.importorskip("onnxruntime")

U32 = 2.0**-24  # unit roundoff of float32 (round to nearest)
TINY32 = float(np.finfo(np.float32).tiny)  # smallest normal float32

_F32 = st.floats(-2, 2, width=32, allow_nan=False, allow_infinity=False)
# The brief's five activations, plus PLU, whose Min/Max/Mul/Add pattern the writer emits.
_ACTIVATIONS = (
    "relu", "leaky_relu:0.01", "leaky_relu:0.2", "sigmoid", "tanh", "identity", "plu:0.1:1.0", "plu:0.25:0.5",
)


@st.composite
def float32_networks(draw, *, max_layers: int = 3, max_width: int = 12, activations=_ACTIVATIONS) -> Network:
    """Fully connected nets with float32 weights, with and without biases."""
    depth = draw(st.integers(1, max_layers))
    widths = draw(st.lists(st.integers(1, max_width), min_size=depth + 1, max_size=depth + 1))
    layers = []
    for i in range(depth):
        weight = draw(hnp.arrays(np.float32, (widths[i + 1], widths[i]), elements=_F32))
        bias = draw(st.none() | hnp.arrays(np.float32, (widths[i + 1],), elements=_F32))
        layers.append(Layer(weight, bias, draw(st.sampled_from(activations))))
    return Network(layers)


def _session(model: onnx.ModelProto):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _run(model: onnx.ModelProto, z: np.ndarray) -> np.ndarray:
    session = _session(model)
    name = session.get_inputs()[0].name
    return session.run(None, {name: z})[0]


def _model(nodes, inputs, outputs, initializers=(), opset: int = OPSET) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=IR_VERSION)
    onnx.checker.check_model(model, full_check=True)
    return model


def _io(n_in: int, n_out: int, *, shape_in=None):
    return (
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape_in or [1, n_in])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n_out])],
    )


def _save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save_model(model, str(path))
    return path


def _init(name: str, value) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def _float32_error_bound(net: Network, z: np.ndarray) -> np.ndarray:
    """A bound on |onnxruntime(z) - G(z)| when onnxruntime computes each layer in float32.

    Per layer, the float32 Gemm output W x + b (n_in products plus the bias, any summation order,
    with or without FMA) is within gamma_{n+1} (|W||x| + |b|) of the exact value, gamma_k ~ k u
    (Higham, *Accuracy and Stability*, 3.1), plus one smallest normal per operation for underflow
    (onnxruntime may flush subnormals). The error already in x is carried through |W|; every
    activation here is 1-Lipschitz, so it does not grow it. The activations then add their own:
    0 for relu/identity, one rounding u|y| for LeakyRelu's product, at most 8 u absolute for
    onnxruntime's Tanh and Sigmoid (measured below 5 u over [-20, 20]; both are approximations,
    not correctly rounded), and for PLU (three roundings on values of size |u| + c) 4 u (|u| + c).
    """
    x = np.asarray(z, dtype=np.float64)
    err = np.zeros_like(x)
    for layer in net.layers:
        n = layer.n_in
        gamma = (n + 1) * U32 / (1 - (n + 1) * U32)
        absw = np.abs(layer.weight)
        pre = layer.pre_activation(x)
        err = err @ absw.T + gamma * (np.abs(x) @ absw.T + np.abs(layer.bias)) + (n + 2) * TINY32
        x = layer.activation(pre)
        act = layer.activation
        if isinstance(act, LeakyReLU):
            err = err + U32 * np.abs(x)
        elif isinstance(act, (Tanh, Sigmoid)):
            err = err + 8 * U32
        elif isinstance(act, PLU):
            err = err + 4 * U32 * (np.abs(pre) + act.c)
    return err


# --------------------------------------------------------------------------------------------
# Parity with onnxruntime, round trips
# --------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=float32_networks(), seed=st.integers(0, 2**32 - 1))
def test_onnxruntime_matches_forward(net, seed):
    model = to_model(net)
    session = _session(model)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        z = rng.uniform(-3, 3, size=(1, net.latent_dim)).astype(np.float32)
        got = session.run(None, {"X": z})[0].astype(np.float64)
        exact = net.forward(z.astype(np.float64))
        ref = exact.astype(np.float32).astype(np.float64)
        # onnxruntime computes in float32: its error is bounded by _float32_error_bound; the
        # float32 reference adds at most one rounding u |G(z)|. The factor 2 covers the
        # second-order terms the first-order bound drops.
        bound = 2 * _float32_error_bound(net, z) + U32 * np.abs(exact)
        assert np.all(np.abs(got - ref) <= bound), (got, ref, bound)


@settings(max_examples=40, deadline=None)
@given(net=float32_networks())
def test_write_read_round_trip_is_exact(net):
    with tempfile.TemporaryDirectory() as tmp:
        path = export_onnx(net, Path(tmp) / "net.onnx")
        back = load_network(path)
    assert back == net
    assert back.fingerprint() == net.fingerprint()
    assert all(layer.dtype == "float32" for layer in back.layers)


def test_written_model_is_verifier_form(tmp_path):
    net = Network(
        [
            Layer(np.ones((3, 2), np.float32), np.zeros(3, np.float32), "leaky_relu:0.1"),
            Layer(np.ones((1, 3), np.float32), None, "identity"),
        ],
        name="tiny",
    )
    path = export_onnx(net, tmp_path / "sub" / "tiny.onnx")
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert (model.ir_version, model.opset_import[0].version) == (8, 13)
    assert [node.op_type for node in model.graph.node] == ["Gemm", "LeakyRelu", "Gemm"]
    assert {a.name: helper.get_attribute_value(a) for a in model.graph.node[0].attribute} == {"transB": 1}
    [x], [y] = model.graph.input, model.graph.output
    assert (x.name, [d.dim_value for d in x.type.tensor_type.shape.dim]) == ("X", [1, 2])
    assert (y.name, [d.dim_value for d in y.type.tensor_type.shape.dim]) == ("Y", [1, 1])
    assert x.type.tensor_type.elem_type == TensorProto.FLOAT
    assert net.fingerprint() in model.doc_string and net.fingerprint() in model.graph.doc_string
    assert load_network(path).name == "tiny"


def test_float64_export_warns_and_file_holds_the_rounded_net(tmp_path):
    w = np.array([[0.1, 0.5], [1 / 3, -2.0]])  # 0.1 and 1/3 are not float32 numbers
    net = Network([Layer(w, np.array([0.25, 0.0]), "relu")])
    with pytest.warns(Float32RoundingWarning, match=r"rounds to float32: layer 0 .*compute targets"):
        path = export_onnx(net, tmp_path / "r.onnx")
    back = load_network(path)
    rounded = Network([Layer(w.astype(np.float32), np.array([0.25, 0.0], np.float32), "relu")])
    assert back == rounded and back != net
    doc = onnx.load(str(path)).doc_string
    assert rounded.fingerprint() in doc and f"exported from network sha256:{net.fingerprint()}" in doc


def test_float64_net_of_float32_numbers_exports_silently(tmp_path):
    net = Network([Layer(np.array([[0.5, -2.0]]), None, "sigmoid")])  # float64 dtype, exact in float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = export_onnx(net, tmp_path / "e.onnx")
    assert load_network(path) == net


def test_export_refuses_values_beyond_float32(tmp_path):
    net = Network([Layer(np.array([[1e39]]), None, "relu")])
    with pytest.raises(InvalidInput, match="layer 0 weight has values beyond the float32 range"):
        export_onnx(net, tmp_path / "big.onnx")


def test_leaky_slope_not_a_short_float32_decimal_warns(tmp_path):
    net = Network([Layer(np.eye(2, dtype=np.float32), None, LeakyReLU(0.123456789))])
    with pytest.warns(Float32RoundingWarning, match="LeakyReLU slope 0.123456789 .reads back as 0.12345679"):
        path = export_onnx(net, tmp_path / "s.onnx")
    assert load_network(path).activations == (LeakyReLU(0.12345679),)


# --------------------------------------------------------------------------------------------
# Hand-built graphs
# --------------------------------------------------------------------------------------------

RNG = np.random.default_rng(20240601)
W = RNG.standard_normal((4, 3)).astype(np.float32)  # theorychk convention (n_out, n_in)
B = RNG.standard_normal(4).astype(np.float32)


@pytest.mark.parametrize("bias_first", [False, True])
def test_matmul_add_in_either_order(tmp_path, bias_first):
    add_inputs = ["b", "h"] if bias_first else ["h", "b"]
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["h"], name="mm"),
        helper.make_node("Add", add_inputs, ["y"], name="add"),
    ]
    model = _model(nodes, *_io(3, 4), [_init("W", W.T), _init("b", B)])
    net = load_network(_save(model, tmp_path / "mm.onnx"))
    assert net == Network([Layer(W, B, "identity")])
    assert net.layers[0].dtype == "float32"
    z = RNG.standard_normal((1, 3)).astype(np.float32)
    np.testing.assert_allclose(net.forward(z), _run(model, z), rtol=1e-5, atol=1e-6)


def test_gemm_trans_b_zero(tmp_path):
    nodes = [
        helper.make_node("Gemm", ["x", "B", "C"], ["h"], name="gemm"),  # transB defaults to 0
        helper.make_node("Relu", ["h"], ["y"]),
    ]
    model = _model(nodes, *_io(3, 4), [_init("B", W.T), _init("C", B)])
    net = load_network(_save(model, tmp_path / "g.onnx"))
    assert net == Network([Layer(W, B, "relu")])
    assert net.layers[0].dtype == "float32"


def test_gemm_alpha_beta_scale_exactly_into_a_float64_layer(tmp_path):
    nodes = [helper.make_node("Gemm", ["x", "B", "C"], ["y"], name="gemm", transB=1, alpha=0.1, beta=3.0)]
    model = _model(nodes, *_io(3, 4), [_init("B", W), _init("C", B.reshape(1, 4))])
    net = load_network(_save(model, tmp_path / "ab.onnx"))
    layer = net.layers[0]
    alpha = float(np.float32(0.1))  # ONNX attributes are float32
    assert layer.dtype == "float64"
    # float32 * float32 is exact in float64, so these are the real products, not roundings.
    assert np.array_equal(layer.weight, alpha * W.astype(np.float64))
    assert np.array_equal(layer.bias, 3.0 * B.astype(np.float64))
    z = RNG.standard_normal((1, 3)).astype(np.float32)
    np.testing.assert_allclose(net.forward(z), _run(model, z), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("affine", ["gemm", "matmul"])
def test_batch_norm_folds_into_the_affine_layer_before_it(tmp_path, affine):
    gamma, beta = np.float32([1.5, -0.5, 2.0, 1.0]), np.float32([0.1, 0.2, -0.3, 0.0])
    mean, var = np.float32([0.3, -1.0, 0.0, 2.0]), np.float32([0.5, 2.0, 1.0, 0.01])
    eps = 1e-3
    if affine == "gemm":
        first = helper.make_node("Gemm", ["x", "W", "b"], ["h"], name="fc", transB=1)
        inits, bias = [_init("W", W), _init("b", B)], B
    else:
        first = helper.make_node("MatMul", ["x", "Wt"], ["h"], name="fc")
        inits, bias = [_init("Wt", W.T)], np.zeros(4, np.float32)
    nodes = [
        first,
        helper.make_node("BatchNormalization", ["h", "gamma", "beta", "mean", "var"], ["n"], epsilon=eps),
        helper.make_node("Relu", ["n"], ["y"]),
    ]
    inits += [_init("gamma", gamma), _init("beta", beta), _init("mean", mean), _init("var", var)]
    model = _model(nodes, *_io(3, 4), inits)
    net = load_network(_save(model, tmp_path / "bn.onnx"))
    assert net.depth == 1 and net.activations == (ReLU(),) and net.layers[0].dtype == "float64"

    z = RNG.standard_normal((5, 3))
    pre = z @ W.astype(np.float64).T + bias
    eps32 = float(np.float32(eps))  # the epsilon attribute is float32
    expected = np.maximum(gamma * (pre - mean) / np.sqrt(var.astype(np.float64) + eps32) + beta, 0)
    np.testing.assert_allclose(net.forward(z), expected, rtol=1e-12, atol=1e-12)
    z32 = z[:1].astype(np.float32)
    np.testing.assert_allclose(net.forward(z32), _run(model, z32), rtol=1e-5, atol=1e-5)


def test_flatten_identity_reshape_are_no_ops_and_affine_pairs_are_two_layers(tmp_path):
    w2 = RNG.standard_normal((2, 4)).astype(np.float32)
    nodes = [
        helper.make_node("Identity", ["x"], ["x1"], name="id_in"),
        helper.make_node("Flatten", ["x1"], ["x2"], name="flat", axis=1),
        helper.make_node("Gemm", ["x2", "W", "b"], ["h"], name="fc1", transB=1),
        helper.make_node("Reshape", ["h", "shape"], ["h2"], name="reshape"),
        helper.make_node("Gemm", ["h2", "W2"], ["h3"], name="fc2", transB=1),
        helper.make_node("Flatten", ["h3"], ["h4"], name="flat2", axis=-1),
        helper.make_node("Tanh", ["h4"], ["h5"], name="tanh"),
        helper.make_node("Identity", ["h5"], ["y"], name="id_out"),
    ]
    inits = [_init("W", W), _init("b", B), _init("W2", w2), _init("shape", np.array([1, -1], np.int64))]
    model = _model(nodes, *_io(3, 2), inits)
    net = load_network(_save(model, tmp_path / "noop.onnx"))
    assert net == Network([Layer(W, B, "identity"), Layer(w2, None, "tanh")])


@pytest.mark.parametrize(("attrs", "slope"), [({"alpha": 0.2}, 0.2), ({}, 0.01), ({"alpha": 0.05}, 0.05)])
def test_leaky_relu_alpha(tmp_path, attrs, slope):
    nodes = [
        helper.make_node("Gemm", ["x", "W"], ["h"], name="fc", transB=1),
        helper.make_node("LeakyRelu", ["h"], ["y"], name="lrelu", **attrs),
    ]
    model = _model(nodes, *_io(3, 4), [_init("W", W)])
    net = load_network(_save(model, tmp_path / "lr.onnx"))
    assert net.activations == (LeakyReLU(slope),)


def test_constant_nodes_and_activation_override(tmp_path):
    nodes = [
        helper.make_node("Constant", [], ["W"], value=_init("Wc", W)),
        helper.make_node("Gemm", ["x", "W"], ["h"], name="fc", transB=1),
        helper.make_node("Sigmoid", ["h"], ["y"]),
    ]
    path = _save(_model(nodes, *_io(3, 4)), tmp_path / "c.onnx")
    assert load_network(path) == Network([Layer(W, None, "sigmoid")])
    assert load_network(path, activation="leaky_relu:0.3").activations == (LeakyReLU(0.3),)
    assert load_network(path, final_activation="identity").activations == (Identity(),)


def test_identity_of_an_initializer_is_a_constant(tmp_path):
    # PyTorch's exporter shares equal tensors this way (e.g. a fresh BatchNorm's ones and zeros).
    nodes = [
        helper.make_node("Identity", ["W_shared"], ["W"], name="share"),
        helper.make_node("Gemm", ["x", "W"], ["y"], name="fc", transB=1),
    ]
    model = _model(nodes, *_io(3, 4), [_init("W_shared", W)])
    assert load_network(_save(model, tmp_path / "share.onnx")) == Network([Layer(W, None, "identity")])


def test_plu_pattern_round_trips_and_matches_onnxruntime(tmp_path):
    net = Network([Layer(W, B, PLU(0.25, 0.5)), Layer(np.ones((2, 4), np.float32), None, "plu")])
    path = export_onnx(net, tmp_path / "plu.onnx")
    back = load_network(path)
    assert back == net and back.activations == (PLU(0.25, 0.5), PLU(0.1, 1.0))
    z = (RNG.standard_normal((1, 3)) * 3).astype(np.float32)
    got = _run(onnx.load(str(path)), z).astype(np.float64)
    assert np.all(np.abs(got - net.forward(z.astype(np.float64))) <= 2 * _float32_error_bound(net, z) + 1e-7)


# --------------------------------------------------------------------------------------------
# A model exported by PyTorch
# --------------------------------------------------------------------------------------------


def _torch_export(module, n_in: int, path: Path) -> Path:
    torch = pytest.importorskip("torch")
    # torch 2.13's default exporter (dynamo=True) needs onnxscript, which is not a dependency of
    # theorychk; the TorchScript exporter (dynamo=False) needs nothing more and still ships.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(module.eval(), (torch.zeros(1, n_in),), str(path), dynamo=False)
    return path


def test_torch_exported_sequential_matches_torch(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    nn = torch.nn
    module = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3), nn.Sigmoid())
    net = load_network(_torch_export(module, 5, tmp_path / "seq.onnx"))
    expected = Network(
        [
            Layer(module[0].weight.detach().numpy(), module[0].bias.detach().numpy(), "relu"),
            Layer(module[2].weight.detach().numpy(), module[2].bias.detach().numpy(), "sigmoid"),
        ]
    )
    assert net == expected and net.fingerprint() == expected.fingerprint()
    z = torch.randn(16, 5)
    with torch.no_grad():
        want = module(z).numpy().astype(np.float64)
    # torch computes in float32; outputs are in (0, 1), so a few float32 ulps of 1 bound it.
    np.testing.assert_allclose(net.forward(z.numpy()), want, rtol=0, atol=1e-6)


def test_torch_exported_batch_norm_and_leaky_relu(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    module = torch.nn.Sequential(
        torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.LeakyReLU(0.2), torch.nn.Linear(6, 2)
    )
    with torch.no_grad():  # non-trivial running statistics, so the fold is really tested
        module[1].running_mean.uniform_(-1, 1)
        module[1].running_var.uniform_(0.5, 2)
        module[1].weight.uniform_(0.5, 1.5)
        module[1].bias.uniform_(-0.5, 0.5)
    net = load_network(_torch_export(module, 4, tmp_path / "bn.onnx"))
    assert net.activations == (LeakyReLU(0.2), Identity())
    z = torch.randn(16, 4)
    with torch.no_grad():
        want = module.eval()(z).numpy().astype(np.float64)
    np.testing.assert_allclose(net.forward(z.numpy()), want, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------------------------
# What theorychk refuses, and how it says so
# --------------------------------------------------------------------------------------------


def _valid_file(tmp_path: Path) -> Path:
    return export_onnx(Network([Layer(W, B, "relu")]), tmp_path / "ok.onnx")


def _assert_one_line(exc: pytest.ExceptionInfo) -> None:
    assert "\n" not in str(exc.value)
    # No chained exception either: a CLI printing the error shows nothing of onnx's internals.
    assert exc.value.__cause__ is None
    assert exc.value.__context__ is None or exc.value.__suppress_context__


def test_unsupported_op_is_named_with_its_node(tmp_path):
    nodes = [helper.make_node("MaxPool", ["x"], ["y"], name="pool1", kernel_shape=[2, 2])]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 3, 3])]
    model = _model(nodes, inputs, outputs)
    message = r"unsupported ONNX op 'MaxPool' at node 'pool1'; supported: .*ConvTranspose.*Gemm"
    with pytest.raises(InvalidInput, match=message) as exc:
        load_network(_save(model, tmp_path / "pool.onnx"))
    _assert_one_line(exc)


def test_branching_graph_is_refused(tmp_path):
    nodes = [
        helper.make_node("Gemm", ["x", "W"], ["h"], name="fc", transB=1),
        helper.make_node("Relu", ["h"], ["r"], name="relu"),
        helper.make_node("Sigmoid", ["h"], ["s"], name="sig"),
        helper.make_node("Add", ["r", "s"], ["y"], name="sum"),
    ]
    model = _model(nodes, *_io(3, 4), [_init("W", W)])
    with pytest.raises(InvalidInput, match=r"tensor 'h' feeds 2 nodes \(node 'relu', node 'sig'\); .*chain"):
        load_network(_save(model, tmp_path / "branch.onnx"))


def test_node_off_the_chain_is_refused(tmp_path):
    nodes = [
        helper.make_node("Gemm", ["x", "W"], ["y"], name="fc", transB=1),
        helper.make_node("Relu", ["W"], ["dangling"], name="side"),
    ]
    model = _model(nodes, *_io(3, 4), [_init("W", W)])
    with pytest.raises(InvalidInput, match="node 'side' are not on the chain from input to output"):
        load_network(_save(model, tmp_path / "side.onnx"))


def test_node_combining_two_tensors_is_refused(tmp_path):
    nodes = [
        helper.make_node("Gemm", ["x", "W"], ["h"], name="fc", transB=1),
        helper.make_node("Add", ["h", "h"], ["y"], name="double"),
    ]
    model = _model(nodes, *_io(3, 4), [_init("W", W)])
    with pytest.raises(InvalidInput, match=r"Add at node 'double' combines tensors \['h', 'h'\]"):
        load_network(_save(model, tmp_path / "double.onnx"))


def test_truncated_file(tmp_path):
    good = _valid_file(tmp_path).read_bytes()
    path = tmp_path / "cut.onnx"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(InvalidInput, match=r"cut.onnx is not a (readable|valid) ONNX model") as exc:
        load_network(path)
    _assert_one_line(exc)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is a text file, not a model\n", "is not a readable ONNX model"),
        (np.arange(10).tobytes(), "is not a (readable|valid) ONNX model"),
        (b"", r"is not an ONNX model \(no graph in it\)"),
    ],
)
def test_non_onnx_file(tmp_path, content, message):
    path = tmp_path / "fake.onnx"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=message) as exc:
        load_network(path)
    _assert_one_line(exc)


def test_layers_option_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match=r"ok.onnx is an ONNX graph .*\(drop --layers\)"):
        load_network(_valid_file(tmp_path), layers="fc1,fc2")


def _gemm_relu_then(*nodes) -> list:
    return [
        helper.make_node("Gemm", ["x", "W"], ["h"], name="fc", transB=1),
        helper.make_node("Relu", ["h"], ["r"], name="relu"),
        *nodes,
    ]


_BN_INPUTS = ["r", "gamma", "beta", "mean", "var"]
_REFUSED = {
    "weight first": (
        [helper.make_node("MatMul", ["Wt", "x"], ["y"], name="mm")],
        [4, 3],
        "MatMul at node 'mm' has the weight as its first operand",
    ),
    "bn after relu": (
        _gemm_relu_then(helper.make_node("BatchNormalization", _BN_INPUTS, ["y"], name="bn")),
        [1, 4],
        "BatchNormalization at node 'bn' does not follow an affine layer .*folds batch norm only",
    ),
    "activation first": (
        [
            helper.make_node("Relu", ["x"], ["h"], name="first"),
            helper.make_node("Gemm", ["h", "W"], ["y"], transB=1),
        ],
        [1, 4],
        "Relu at node 'first' does not follow an affine layer",
    ),
    "reshape to column": (
        _gemm_relu_then(helper.make_node("Reshape", ["r", "column"], ["y"], name="rs")),
        [4, 1],
        r"Reshape at node 'rs' to \[4, 1\] is not a no-op",
    ),
    "transA": (
        [helper.make_node("Gemm", ["x", "W1"], ["y"], name="fcT", transA=1)],
        [3, 4],
        "Gemm at node 'fcT' has transA=1",
    ),
}


@pytest.mark.parametrize("case", sorted(_REFUSED))
def test_chain_shapes_theorychk_cannot_read(tmp_path, case):
    nodes, out_shape, message = _REFUSED[case]
    inits = [
        _init("W", W),
        _init("Wt", np.ones((4, 1), np.float32)),
        _init("W1", np.ones((1, 4), np.float32)),
        _init("column", np.array([4, 1], np.int64)),
        *(_init(key, np.ones(4, np.float32)) for key in ("gamma", "beta", "mean", "var")),
    ]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)]
    model = _model(nodes, _io(3, 4)[0], outputs, inits)  # valid ONNX, just not a chain theorychk reads
    with pytest.raises(InvalidInput, match=message):
        load_network(_save(model, tmp_path / "bad.onnx"))
