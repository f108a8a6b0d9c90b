"""Every InvalidInput carries its structured fields (issue #15): ``argument`` names the parameter,
CLI option or file field the message is about, ``got`` is what arrived (or a short description of
it when the value is huge). ``str(exc)`` stays the pinned one-line message."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import theorychk
from theorychk import exact
from theorychk.errors import InvalidInput
from theorychk.experiments.sweep import plan
from theorychk.invariants.spark import spark
from theorychk.io import load_network
from theorychk.io.torch_module import from_state_dict
from theorychk.network import Layer
from theorychk.reduction.cnf import CNF, parse_dimacs
from theorychk.testing.strategies import networks
from theorychk.theorems import get_theorem

PACKAGE = Path(theorychk.__file__).parent

def _calls_without_fields(path: Path) -> list[int]:
    """Line numbers of ``InvalidInput(...)`` calls (raised or built to be raised) in ``path`` that
    do not pass both ``argument=`` and ``got=`` as keywords."""
    missing = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name == "InvalidInput" and not {"argument", "got"} <= {k.arg for k in node.keywords}:
            missing.append(node.lineno)
    return missing


def _modules() -> dict[str, Path]:
    return {p.relative_to(PACKAGE).as_posix(): p for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_invalid_input_passes_argument_and_got():
    bad = {rel: lines for rel, p in _modules().items()
           if (lines := _calls_without_fields(p))}
    assert not bad, f"InvalidInput without argument= and got= at (file: lines) {bad}"


# Behaviour at public entry points: the fields name what the message names.

def test_exact_rational_names_the_value():
    with pytest.raises(InvalidInput, match="cannot read 'one half' as an exact rational") as info:
        exact.rational("one half")
    assert (info.value.argument, info.value.got) == ("value", "one half")


def test_spark_names_the_matrix_and_its_shape():
    with pytest.raises(InvalidInput, match=r"must be 2-D; got shape \(3,\)") as info:
        spark(np.ones(3))
    assert info.value.argument == "A"
    assert info.value.got == (3,)


def test_parse_dimacs_names_the_text_and_the_offending_line():
    with pytest.raises(InvalidInput, match="literal 3 out of range") as info:
        parse_dimacs("p cnf 2 1\n1 3 0\n")
    assert (info.value.argument, info.value.got) == ("text", "1 3 0")


def test_cnf_names_the_clause_inside_the_formula():
    with pytest.raises(InvalidInput, match="clause 1 has literal 0") as info:
        CNF(2, [(1, 2), (1, 0)])
    assert (info.value.argument, info.value.got) == ("clauses[1]", (1, 0))


def test_get_theorem_names_the_unknown_name():
    with pytest.raises(InvalidInput, match="unknown theorem 'no-such-theorem'") as info:
        get_theorem("no-such-theorem")
    assert (info.value.argument, info.value.got) == ("name", "no-such-theorem")


def test_sweep_plan_names_the_empty_grid():
    with pytest.raises(InvalidInput, match="grid must hold at least one parameter dict") as info:
        plan([], runs=1, seed=0)
    assert (info.value.argument, info.value.got) == ("grid", [])


def test_strategy_arguments_are_named():
    with pytest.raises(InvalidInput, match="networks: hidden has a bad activation") as info:
        networks(hidden=("relu", "nope"))
    assert (info.value.argument, info.value.got) == ("hidden", "nope")


def test_layer_names_the_weight_and_its_shape():
    with pytest.raises(InvalidInput, match=r"weight must be 2-D; got shape \(3,\)") as info:
        Layer(np.ones(3))
    assert (info.value.argument, info.value.got) == ("weight", (3,))


def test_layer_names_the_bias_and_the_bad_activation():
    with pytest.raises(InvalidInput, match="bias must be finite") as info:
        Layer(np.eye(2), np.array([0.0, np.nan]))
    assert info.value.argument == "bias" and np.isnan(info.value.got)
    with pytest.raises(InvalidInput, match="needs exactly one slope") as info:
        Layer(np.eye(2), None, "leaky_relu")
    assert (info.value.argument, info.value.got) == ("activation", "leaky_relu")


def test_npz_loader_names_the_bad_layer_field(tmp_path):
    path = tmp_path / "net.npz"
    np.savez(path, format="theorychk-network", version=1, n_layers=2, W0=np.eye(2), act0="relu",
             W1=np.ones(2), act1="relu")
    with pytest.raises(InvalidInput, match=r"layer 1: weight must be 2-D; got shape \(2,\)") as info:
        load_network(path)
    assert (info.value.argument, info.value.got) == ("layers[1].weight", (2,))


def test_npz_loader_names_the_missing_entry_and_the_missing_file(tmp_path):
    path = tmp_path / "net.npz"
    np.savez(path, format="theorychk-network", version=1, n_layers=1, W0=np.eye(2))
    with pytest.raises(InvalidInput, match="is missing entries act0") as info:
        load_network(path)
    assert (info.value.argument, info.value.got) == ("act0", None)
    with pytest.raises(InvalidInput, match="model file not found") as info:
        load_network(tmp_path / "absent.npz")
    assert (info.value.argument, info.value.got) == ("path", str(tmp_path / "absent.npz"))


def test_state_dict_loader_names_the_entry(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "g.pt"
    torch.save({"fc1.weight": torch.ones(3, 2), "fc2.weight": torch.ones(4, 5)}, path)
    with pytest.raises(InvalidInput, match="do not chain") as info:
        load_network(path, activation="relu")
    assert (info.value.argument, info.value.got) == ("fc2.weight", (4, 5))
    torch.save({"fc1.weight": torch.ones(3, 2), "fc1.bias": torch.tensor([0.0, float("inf"), 0.0])}, path)
    with pytest.raises(InvalidInput, match="state_dict entry 'fc1.bias': bias must be finite") as info:
        load_network(path, activation="relu")
    assert (info.value.argument, info.value.got) == ("fc1.bias", float("inf"))


def test_architecture_spec_names_the_json_field_and_the_state_dict_entry():
    arrays = {"0.weight": np.ones((8, 2), np.float32), "2.weight": np.ones((2, 1, 3, 3), np.float32)}
    spec = {"layers": [{"type": "Linear", "name": "0"}, {"type": "ReLU"},
                       {"type": "Unflatten", "sizes": [2, 2, 2]},
                       {"type": "ConvTranspose2d", "name": "2", "stride": 0}]}
    with pytest.raises(InvalidInput, match="conv stride must be an int >= 1") as info:
        from_state_dict(arrays, spec)
    assert (info.value.argument, info.value.got) == ("layers[3].stride", 0)
    spec["layers"][3] = {"type": "ConvTranspose2d", "name": "3"}
    with pytest.raises(InvalidInput, match="needs state_dict entry '3.weight', which is missing") as info:
        from_state_dict(arrays, spec)
    assert (info.value.argument, info.value.got) == ("3.weight", None)


def test_onnx_loader_names_the_node(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.eye(2, dtype=np.float32), "W")
    nodes = [helper.make_node("Gemm", ["x", "W"], ["h"], name="fc", transB=1),
             helper.make_node("LeakyRelu", ["h"], ["y"], name="act", alpha=1.5)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])], [w])
    path = tmp_path / "g.onnx"
    onnx.save(helper.make_model(graph), path)
    with pytest.raises(InvalidInput, match="LeakyRelu at node 'act': LeakyReLU slope must be in") as info:
        load_network(path)
    assert (info.value.argument, info.value.got) == ("graph.node[1].alpha", 1.5)
    nodes[1] = helper.make_node("Cos", ["h"], ["y"], name="act")
    onnx.save(helper.make_model(helper.make_graph(nodes, "g", graph.input, graph.output, [w])), path)
    with pytest.raises(InvalidInput, match="unsupported ONNX op 'Cos' at node 'act'") as info:
        load_network(path)
    assert (info.value.argument, info.value.got) == ("graph.node[1]", "Cos")


def test_certify_names_the_claim_kinds_the_latent_and_the_domain():
    from theorychk.certify.certificate import build_certificate
    from theorychk.certify.injectivity.network import network_injectivity
    from theorychk.network import Network

    net = Network([Layer(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), None, "relu"),
                   Layer(np.eye(3), None, "identity")])
    with pytest.raises(InvalidInput, match="unknown claim kind") as info:
        build_certificate(net, [1, 2], source="t", kinds=("nope",))
    assert (info.value.argument, info.value.got) == ("kinds", ["nope"])
    with pytest.raises(InvalidInput, match="latent must have length 2; got 3") as info:
        build_certificate(net, [1, 2, 3], source="t")
    assert (info.value.argument, info.value.got) == ("latent", 3)
    with pytest.raises(InvalidInput, match="domain ball radius must be positive") as info:
        network_injectivity(net, domain={"ball": {"center": [0, 0], "radius": -1}})
    assert (info.value.argument, info.value.got) == ("domain.ball.radius", -1)


def test_check_names_the_model_option_the_recorded_source_and_the_clause(tmp_path):
    import json

    from theorychk.certify.certificate import build_certificate
    from theorychk.check.core import check_file
    from theorychk.check.drup import check_drup
    from theorychk.network import Network

    net = Network([Layer(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), None, "relu"),
                   Layer(np.eye(3), None, "identity")])
    missing = str(tmp_path / "gone.npz")
    path = tmp_path / "cert.json"
    path.write_text(json.dumps(build_certificate(net, [1, 2], source=missing, kinds=())), encoding="utf-8")
    with pytest.raises(InvalidInput, match="say how to read the model given with --model") as info:
        check_file(path, activation="relu")
    assert (info.value.argument, info.value.got) == ("activation", "relu")
    with pytest.raises(InvalidInput, match="recorded in certificate .* is not found") as info:
        check_file(path)
    assert (info.value.argument, info.value.got) == ("model.source", missing)
    with pytest.raises(InvalidInput, match=r"formula clause 2 must hold nonzero integers") as info:
        check_drup([[1, 2], [1, 0]], ["0"])
    assert (info.value.argument, info.value.got) == ("cnf.clauses[1]", [1, 0])


def test_invert_and_certify_commands_name_the_cli_option(tmp_path):
    from theorychk.cli.certify import certify
    from theorychk.cli.invert import invert
    from theorychk.io import save_network
    from theorychk.network import Network

    net = Network([Layer(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), None, "relu"),
                   Layer(np.eye(3), None, "identity")])
    model = str(save_network(net, tmp_path / "g.npz"))
    signal = tmp_path / "y.npy"
    np.save(signal, np.array([1.0, 2.0, 3.0]))
    np.save(tmp_path / "z.npy", np.array([1.0, 2.0]))
    with pytest.raises(InvalidInput, match="--latent-true is for --method oracle only; got --method gd") as info:
        invert(model, signal=str(signal), method="gd", latent_true=str(tmp_path / "z.npy"))
    assert (info.value.argument, info.value.got) == ("--method", "gd")
    with pytest.raises(InvalidInput, match="--option must be NAME=VALUE") as info:
        invert(model, signal=str(signal), method="gd", option=["momentum"])
    assert (info.value.argument, info.value.got) == ("--option", "momentum")
    with pytest.raises(InvalidInput, match="--noise must be positive; got '0'") as info:
        certify(model, noise="0")
    assert (info.value.argument, info.value.got) == ("--noise", "0")
