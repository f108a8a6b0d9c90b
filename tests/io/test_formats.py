"""Every zoo net survives every format: .npz, ONNX export, a legacy-format PyTorch state_dict.

The issue's bar: identical forward passes (within 1 ulp of float32) across formats, and
`theorychk info` working on each file.
"""

import json

import numpy as np
import pytest

from theorychk import zoo
from theorychk.cli import main
from theorychk.io import export_onnx, load_network, save_network
from theorychk.network import Layer, Network

torch = pytest.importorskip("torch", reason="PyTorch state_dict round trip needs the torch extra")


def to_legacy_state_dict(net, path):
    """Save ``net`` as a decoder inside a fake VAE state_dict, in the pre-1.6 pickle format."""
    sd = {"fc1.weight": torch.zeros(7, 64), "fc1.bias": torch.zeros(7)}  # encoder noise to skip
    names = []
    for i, layer in enumerate(net.layers):
        name = f"dec{i}"
        names.append(name)
        sd[f"{name}.weight"] = torch.from_numpy(layer.weight.astype(np.dtype(layer.dtype)))
        if layer.has_bias:
            sd[f"{name}.bias"] = torch.from_numpy(layer.bias.astype(np.dtype(layer.dtype)))
    torch.save(sd, path, _use_new_zipfile_serialization=False)
    return ",".join(names), ",".join(a.spec for a in net.activations)


@pytest.mark.parametrize("name", zoo.names())
def test_zoo_net_identical_across_formats(name, tmp_path):
    net = load_network(f"zoo:{name}")
    assert all(layer.dtype == "float32" for layer in net.layers)
    z = np.random.default_rng(0).standard_normal((16, net.latent_dim))
    reference = net.forward(z).astype(np.float32)

    npz_path = save_network(net, tmp_path / f"{name}.npz")
    onnx_path = export_onnx(net, tmp_path / f"{name}.onnx")
    pth_path = tmp_path / f"{name}.pth"
    layers, acts = to_legacy_state_dict(net, pth_path)

    loaded = {
        "npz": load_network(npz_path),
        "onnx": load_network(onnx_path),
        "pth": load_network(pth_path, layers=layers, activation=acts),
    }
    # A state_dict of Linear layers holds a convolution as its dense matrix: the same function and
    # numbers, fingerprinted as the dense net (the fingerprint of a conv layer is its kernel and geometry).
    dense = Network(tuple(Layer(np.asarray(layer.weight).astype(np.dtype(layer.dtype)),
                                np.asarray(layer.bias).astype(np.dtype(layer.dtype)), layer.activation)
                          for layer in net.layers))
    expected = {"npz": net.fingerprint(), "onnx": net.fingerprint(), "pth": dense.fingerprint()}
    assert (expected["pth"] == net.fingerprint()) == all(layer.conv is None for layer in net.layers)
    for fmt, other in loaded.items():
        assert other.fingerprint() == expected[fmt], fmt
        np.testing.assert_array_max_ulp(other.forward(z).astype(np.float32), reference, maxulp=1)

    for path, extra in ((npz_path, []), (onnx_path, []), (pth_path, ["--layers", layers, "--activation", acts])):
        assert main(["info", str(path), "--json", *extra]) == 0


def test_onnx_runtime_agrees_on_zoo_nets():
    ort = pytest.importorskip("onnxruntime", reason="parity check needs onnxruntime (test extra)")
    from theorychk.io.onnx import to_model

    for name in zoo.names():
        net = zoo.load(name)
        session = ort.InferenceSession(to_model(net).SerializeToString(), providers=["CPUExecutionProvider"])
        z = np.random.default_rng(1).standard_normal((1, net.latent_dim)).astype(np.float32)
        (out,) = session.run(None, {session.get_inputs()[0].name: z})
        # onnxruntime computes in float32: agreement to float32 rounding of the partial sums
        np.testing.assert_allclose(out[0], net.forward(z.astype(np.float64))[0], rtol=1e-5, atol=1e-5)


def test_info_json_on_zoo(capsys):
    for name in zoo.names():
        assert main(["info", f"zoo:{name}", "--json"]) == 0
        facts = json.loads(capsys.readouterr().out)
        assert facts["widths"][0] == zoo.load(name).latent_dim
        assert facts["fingerprint"] == zoo.load(name).fingerprint()


def test_module_writers_take_a_str_path(tmp_path):
    """``io.onnx.write`` and ``io.npz.write`` are public: a str path works like a Path (it was an
    AttributeError on ``str.parent``)."""
    from theorychk.io import npz, onnx as onnx_io

    net = zoo.load("vae-relu")
    for mod, name in ((onnx_io, "n.onnx"), (npz, "n.npz")):
        out = mod.write(net, str(tmp_path / "sub" / name))
        assert out == tmp_path / "sub" / name
        assert load_network(out).fingerprint() == net.fingerprint()
