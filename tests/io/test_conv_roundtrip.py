"""Writing convolutional nets: ONNX keeps Conv/ConvTranspose nodes (onnxruntime runs the file), npz
schema version 2 carries the geometry, and version-1 files still load."""

from __future__ import annotations

import json

import numpy as np
import pytest

from theorychk.conv import Conv
from theorychk.errors import InvalidInput
from theorychk.io import export_onnx, load_network, save_network
from theorychk.network import Layer, Network

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")


def conv_net(rng, *, per_pixel_bias=False, ends_with_conv=True) -> Network:
    f32 = np.float32
    layers = [
        Layer(rng.standard_normal((32, 5)).astype(f32), rng.standard_normal(32).astype(f32), "relu"),
        Layer(Conv(rng.standard_normal((8, 2, 3, 3)).astype(f32), (8, 2, 2), stride=2, padding=1, output_padding=1,
                   groups=2, transposed=True),
              rng.standard_normal(4).astype(f32), "leaky_relu:0.2"),
        Layer(Conv(rng.standard_normal((3, 4, 3, 2)).astype(f32), (4, 4, 4), padding=(1, 0, 2, 1), dilation=(1, 2)),
              (rng.standard_normal(3 * 5 * 3) if per_pixel_bias else rng.standard_normal(3)).astype(f32), "plu"),
    ]
    if not ends_with_conv:
        layers.append(Layer(rng.standard_normal((6, 45)).astype(f32), None, "sigmoid"))
    return Network(layers, name="convnet")


@pytest.mark.parametrize(("per_pixel_bias", "ends_with_conv"), [(False, True), (True, True), (False, False)])
def test_onnx_round_trip_keeps_convolutions(tmp_path, per_pixel_bias, ends_with_conv):
    rng = np.random.default_rng(0)
    net = conv_net(rng, per_pixel_bias=per_pixel_bias, ends_with_conv=ends_with_conv)
    path = export_onnx(net, tmp_path / "c.onnx")
    ops = [node.op_type for node in onnx.load(str(path)).graph.node]
    assert "ConvTranspose" in ops and "Conv" in ops and ops.count("Gemm") == 1 + (not ends_with_conv)
    back = load_network(path)
    assert back == net and back.fingerprint() == net.fingerprint()
    assert [layer.kind for layer in back.layers][:3] == ["linear", "conv_transpose", "conv"]
    z = rng.standard_normal((4, net.latent_dim)).astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = np.concatenate([session.run(None, {"X": z[i:i + 1]})[0] for i in range(4)])
    assert got.shape == (4, net.output_dim)
    np.testing.assert_allclose(got, net.forward(z.astype(np.float64)), rtol=1e-4, atol=1e-5)


def test_npz_round_trip_carries_geometry(tmp_path):
    net = conv_net(np.random.default_rng(1))
    path = save_network(net, tmp_path / "c.npz")
    with np.load(path) as data:
        assert int(data["version"]) == 2
        assert json.loads(str(data["conv1"]))["kind"] == "conv_transpose"
        assert data["W1"].shape == (8, 2, 3, 3) and data["W1"].dtype == np.float32
        assert data["b1"].shape == (4,)  # per channel, as stored
    back = load_network(path)
    assert back == net and back.fingerprint() == net.fingerprint()
    assert [layer.dtype for layer in back.layers] == ["float32"] * 3


def test_fully_connected_npz_is_still_version_1(tmp_path):
    net = Network([Layer(np.eye(3), np.zeros(3), "relu")])
    with np.load(save_network(net, tmp_path / "d.npz")) as data:
        assert int(data["version"]) == 1 and not any(key.startswith("conv") for key in data.files)


def test_version_1_file_loads(tmp_path):
    path = tmp_path / "old.npz"
    with open(path, "wb") as fh:
        np.savez(fh, format=np.array("theorychk-network"), version=np.array(1), n_layers=np.array(1),
                 W0=np.ones((2, 3), np.float32), act0=np.array("relu"))
    assert load_network(path).widths == (3, 2)


def test_bad_geometry_names_the_entry(tmp_path):
    path = save_network(conv_net(np.random.default_rng(2)), tmp_path / "c.npz")
    with np.load(path) as data:
        files = {key: data[key] for key in data.files}
    geometry = json.loads(str(files["conv1"]))
    geometry["out_shape"] = [4, 5, 5]
    files["conv1"] = np.array(json.dumps(geometry))
    with open(path, "wb") as fh:
        np.savez(fh, **files)
    with pytest.raises(InvalidInput, match=r"c.npz, layer 1: conv geometry says out_shape \[4, 5, 5\]"):
        load_network(path)
