"""The protobuf-free ONNX decoder (theorychk.io._onnx_wire) against onnx's generated classes:
every field it exposes equals the message's, on written generators and on hand-built models
with the encodings a file may use (packed and unpacked repeated fields, negative integers,
non-raw tensor data, symbolic dims), and what it does not handle goes to onnx's classes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from onnx import TensorProto, helper, numpy_helper

from theorychk.io import _onnx_wire, load_network
from theorychk.io import onnx as onnx_io
from theorychk.io._onnx_lean import NeedFullOnnx
from theorychk.io.onnx import IR_VERSION, OPSET, to_model
from theorychk.network import Layer, Network

from tests.io.test_onnx import float32_networks


def _same(light, message, path="model") -> None:
    """Every field of the decoded object equals the protobuf message's (recursively)."""
    for name in type(light).__slots__:
        mine, theirs = getattr(light, name), getattr(message, name)
        where = f"{path}.{name}"
        if isinstance(mine, _onnx_wire._Message):
            if name in ("graph", "t", "type", "tensor_type", "shape"):
                assert light.HasField(name) == message.HasField(name), where
            _same(mine, theirs, where)
        elif isinstance(mine, (list, np.ndarray)):
            assert len(mine) == len(theirs), where
            for k, (a, b) in enumerate(zip(mine, theirs, strict=True)):
                if isinstance(a, _onnx_wire._Message):
                    _same(a, b, f"{where}[{k}]")
                else:
                    assert a == b and type(a) is type(b) or (isinstance(a, np.floating) and float(a) == b), where
        else:
            assert mine == theirs and type(mine) is type(theirs), (where, mine, theirs)
    if isinstance(light, _onnx_wire.Dim):
        assert [light.HasField(f) for f in ("dim_value", "dim_param")] == \
               [message.HasField(f) for f in ("dim_value", "dim_param")], path


def _check(model: onnx.ModelProto) -> _onnx_wire.Model:
    data = model.SerializeToString()
    light = _onnx_wire.parse(data)
    _same(light, onnx.ModelProto.FromString(data))
    return light


@settings(max_examples=25, deadline=None)
@given(float32_networks())
def test_written_generators_decode_as_onnx_decodes_them(net):
    _check(to_model(net))


def _model(nodes, inits=(), *, inputs=None, outputs=None, meta=None) -> onnx.ModelProto:
    inputs = inputs or [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", 2])]
    outputs = outputs or [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])]
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    for k, v in (meta or {}).items():
        model.metadata_props.add(key=k, value=v)
    return model


def test_hand_built_encodings_decode_as_onnx_decodes_them():
    # non-raw tensor fields (make_tensor without raw), negative ints, float lists, strings, symbolic dims
    w = helper.make_tensor("W", TensorProto.FLOAT, [3, 2], [1.5, -2.0, 0.1, 3.0, -0.0, 7.25])
    d = helper.make_tensor("D", TensorProto.DOUBLE, [2], [0.1, -1e300])
    i64 = helper.make_tensor("S", TensorProto.INT64, [3], [-1, 0, 2**40])
    i32 = helper.make_tensor("I", TensorProto.INT32, [2], [-7, 2**31 - 1])
    raw = numpy_helper.from_array(np.array([[1, 2], [3, 4]], np.float32), "R")
    nodes = [
        helper.make_node("Constant", [], ["c"], value_floats=[0.1, -2.5, 3e38], name="k1"),
        helper.make_node("Constant", [], ["e"], value_ints=[-3, 0, 2**62], name="k2"),
        helper.make_node("Constant", [], ["f"], value_float=-0.2),
        helper.make_node("Constant", [], ["g"], value=i32),
        helper.make_node("Gemm", ["z", "W"], ["h"], transB=1, alpha=0.5, name="gemm"),
        helper.make_node("LeakyRelu", ["h"], ["y"], alpha=0.01, domain=""),
        helper.make_node("Custom", ["y"], ["u"], note="text é", names=["a", "b"], tensor_list=[d, i64],
                         domain="my.domain"),
    ]
    light = _check(_model(nodes, [w, d, i64, i32, raw], meta={"theorychk.name": "n", "k": "ü"}))
    assert light.graph.node[1].attribute[0].ints == [-3, 0, 2**62]


def test_unpacked_repeated_fields_decode_as_packed_ones():
    # proto2 writers may emit one tag per element; onnx's .proto declares no [packed=true]
    model = _model([helper.make_node("Relu", ["z"], ["y"])],
                   [helper.make_tensor("W", TensorProto.FLOAT, [2], [1.0, -2.0])])
    data = bytearray(model.SerializeToString())
    t = model.graph.initializer[0]
    packed = t.SerializeToString()
    unpacked = (b"\x08\x02"  # dims: 2 (field 1, varint)
                + b"\x10\x01"  # data_type FLOAT
                + b"\x25" + np.float32(1.0).tobytes() + b"\x25" + np.float32(-2.0).tobytes()  # float_data, fixed32
                + b"\x42\x01W")  # name
    start = bytes(data).index(packed)
    graph = model.graph.SerializeToString()
    new_graph = graph.replace(b"\x2a" + bytes([len(packed)]) + packed, b"\x2a" + bytes([len(unpacked)]) + unpacked)
    assert new_graph != graph and start > 0
    m2 = onnx.ModelProto.FromString(model.SerializeToString())
    m2.graph.ParseFromString(new_graph)
    light = _check(m2)
    assert list(light.graph.initializer[0].float_data) == [1.0, -2.0]


@pytest.mark.parametrize("case", ["sparse", "graph attribute", "external", "string data"])
def test_what_the_decoder_leaves_to_onnx(case, tmp_path):
    nodes = [helper.make_node("Relu", ["z"], ["y"])]
    inits = []
    model = _model(nodes, inits)
    if case == "sparse":
        vals = numpy_helper.from_array(np.array([1.0], np.float32), "v")
        idx = numpy_helper.from_array(np.array([0], np.int64), "i")
        model.graph.sparse_initializer.append(helper.make_sparse_tensor(vals, idx, [2]))
    elif case == "graph attribute":
        body = helper.make_graph([], "b", [], [])
        model.graph.node.append(helper.make_node("If", ["c"], ["o"], then_branch=body, else_branch=body))
    elif case == "external":
        t = model.graph.initializer.add(name="W", data_type=TensorProto.FLOAT, dims=[1])
        t.data_location = TensorProto.EXTERNAL
    else:
        model.graph.initializer.append(helper.make_tensor("s", TensorProto.STRING, [1], [b"x"]))
    with pytest.raises(NeedFullOnnx):
        _onnx_wire.parse(model.SerializeToString())


#: ir_version as a 10-byte varint whose last byte is above 1: more than 64 bits, which protobuf
#: truncates to 64
_WIDE_VARINT = b"\x81" + b"\x80" * 8 + b"\x7f"


@pytest.mark.parametrize("data", [b"\x3a\x05ab", b"\x3a", b"\xff" * 11, b"\x3b\x00", b"\x00\x00",
                                  b"\x08" + _WIDE_VARINT])
def test_malformed_bytes_go_to_onnx(data):
    with pytest.raises(NeedFullOnnx):
        _onnx_wire.parse(data)


def test_a_dim_wider_than_64_bits_is_a_one_line_error(tmp_path):
    # the dim 1 - 2**63 is the 10-byte varint 81 80..80 01; its last byte made 7f, protobuf reads the
    # same dim (the low 64 bits) and the decoder must not read a 71-bit one (an OverflowError, exit 3)
    model = to_model(Network([Layer(np.ones((3, 2), np.float32), None, "relu")], name="n"))
    model.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 1 - 2**63
    data = model.SerializeToString()
    assert data.count(b"\x08" + _WIDE_VARINT[:-1] + b"\x01") == 1
    data = data.replace(b"\x08" + _WIDE_VARINT[:-1] + b"\x01", b"\x08" + _WIDE_VARINT)
    assert onnx.ModelProto.FromString(data).graph.input[0].type.tensor_type.shape.dim[1].dim_value == 1 - 2**63
    path = tmp_path / "wide.onnx"
    path.write_bytes(data)
    env = {k: v for k, v in os.environ.items() if k != "THEORYCHK_DEBUG"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    proc = subprocess.run([sys.executable, "-m", "theorychk", "info", str(path)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert str(path) in proc.stderr and "-9223372036854775807" in proc.stderr


def test_a_read_through_the_decoder_equals_the_read_through_onnx_classes(tmp_path, monkeypatch):
    net = Network([Layer(np.arange(6, dtype=np.float32).reshape(3, 2) - 2, np.ones(3, np.float32), "relu"),
                   Layer(np.eye(4, 3, dtype=np.float32), None, "plu:0.1:1.0")], name="two")
    path = tmp_path / "n.onnx"
    onnx_io.write(net, path)
    assert isinstance(onnx_io._load(path), _onnx_wire.Model)  # the fast path was taken
    fast = load_network(path)
    monkeypatch.setattr(onnx_io, "_load_wire", lambda p: None)
    slow = load_network(path)
    assert fast.name == slow.name == "two"
    assert fast == slow and all(a.dtype == b.dtype for a, b in zip(fast.layers, slow.layers, strict=True))


@pytest.mark.parametrize("buf", [b"\x08\x05\x12\x01N", b"\x12\x01N\x08\x05", b"\x08\x05", b"\x12\x01N", b""])
def test_a_dim_is_a_oneof_the_last_set_wins(buf):
    _same(_onnx_wire._dim(buf, 0, len(buf)), onnx.TensorShapeProto.Dimension.FromString(buf), "dim")
