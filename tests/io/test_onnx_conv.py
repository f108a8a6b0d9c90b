"""ONNX convolutional generators: real torch.onnx exports (shape arithmetic folded, batch norm folded)
give the same numbers in torch, onnxruntime and theorychk's exact forward pass."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from theorychk.errors import InvalidInput
from theorychk.io import load_network

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
nn = torch.nn
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


class View(nn.Module):
    """``x.view(batch, C, H, W)``: exported as Shape -> Gather -> Unsqueeze -> Concat -> Reshape."""

    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.view(x.size(0), *self.shape)


def _randomize_bn(module: nn.Module, gen: torch.Generator) -> None:
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.3)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.weight.copy_(torch.randn(m.num_features, generator=gen))
                m.bias.copy_(torch.randn(m.num_features, generator=gen) * 0.1)


def _export(module: nn.Module, latent_shape: tuple[int, ...], path: Path, *, dynamic: bool = False) -> Path:
    module.eval()
    kwargs = {"dynamic_axes": {"z": {0: "batch"}}} if dynamic else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.zeros(1, *latent_shape),), str(path), input_names=["z"], dynamo=False,
                          **kwargs)
    return path


GENERATORS = {
    # The net: Unflatten emits Mod (and Shape/Slice/Concat) before the convolutions.
    "linear-unflatten-convT-bn": (
        lambda: nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Unflatten(1, (8, 2, 2)),
                              nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                              nn.ConvTranspose2d(4, 1, 4, stride=2, padding=1)),
        (4,),
    ),
    # Classic DCGAN: the latent is [nz, 1, 1]; groups, dilation, output_padding, a leaky slope.
    "dcgan-nz11": (
        lambda: nn.Sequential(nn.ConvTranspose2d(6, 8, 3, stride=1, padding=0, bias=False), nn.BatchNorm2d(8),
                              nn.ReLU(),
                              nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1, groups=2),
                              nn.LeakyReLU(0.2),
                              nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=4), nn.BatchNorm2d(4), nn.Tanh()),
        (6, 1, 1),
    ),
    # Linear -> view -> BatchNorm2d on the reshaped linear layer -> Conv2d stride 2 -> Flatten -> Linear.
    "view-bn-conv-flatten-linear": (
        lambda: nn.Sequential(nn.Linear(3, 48), View(3, 4, 4), nn.BatchNorm2d(3), nn.ReLU(),
                              nn.Conv2d(3, 5, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(20, 7)),
        (3,),
    ),
}


@pytest.mark.parametrize("dynamic", [False, True])
@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_torch_export_matches_onnxruntime_and_torch(tmp_path, name, dynamic):
    gen = torch.Generator().manual_seed(7)
    build, latent_shape = GENERATORS[name]
    torch.manual_seed(0)
    module = build()
    _randomize_bn(module, gen)
    path = _export(module, latent_shape, tmp_path / f"{name}.onnx", dynamic=dynamic)
    net = load_network(path)
    kinds = [layer.kind for layer in net.layers]
    assert {"conv", "conv_transpose"} & set(kinds)
    assert net.latent_dim == int(np.prod(latent_shape))

    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, *latent_shape)).astype(np.float32)
    with torch.no_grad():
        expect_torch = module(torch.from_numpy(z)).numpy().reshape(5, -1)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expect_ort = np.concatenate([session.run(None, {"z": z[i:i + 1]})[0].reshape(1, -1) for i in range(5)])
    ours = net.forward(z.reshape(5, -1).astype(np.float64))
    np.testing.assert_allclose(ours, expect_ort, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours, expect_torch, rtol=1e-4, atol=1e-5)


def test_folded_batch_norm_is_float64_and_conv_kernel_keeps_float32(tmp_path):
    build, latent_shape = GENERATORS["linear-unflatten-convT-bn"]
    torch.manual_seed(0)
    module = build()
    _randomize_bn(module, torch.Generator().manual_seed(1))
    net = load_network(_export(module, latent_shape, tmp_path / "m.onnx"))
    assert [layer.dtype for layer in net.layers] == ["float32", "float64", "float32"]
    assert net.layers[1].conv.geometry()["stride"] == [2, 2]
    assert net.layers[2].conv.out_shape == (1, 8, 8)
    last = module[6]
    np.testing.assert_array_equal(net.layers[2].conv.kernel, last.weight.detach().numpy())


def _model(nodes, in_shape, out_shape, inits, opset=13):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
                              initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    return model


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID"])
def test_conv_auto_pad_matches_onnxruntime(tmp_path, auto_pad):
    rng = np.random.default_rng(3)
    kernel = rng.standard_normal((2, 3, 2, 3)).astype(np.float32)
    node = helper.make_node("Conv", ["x", "K"], ["y"], name="c", auto_pad=auto_pad, strides=[2, 1])
    model = _model([node], [1, 3, 5, 6], ["n", "c", "h", "w"], {"K": kernel})
    path = tmp_path / "c.onnx"
    onnx.save_model(model, str(path))
    net = load_network(path, activation="identity")
    x = rng.standard_normal((1, 3, 5, 6)).astype(np.float32)
    expect = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    assert net.layers[0].conv.out_shape == expect.shape[1:]
    np.testing.assert_allclose(net.forward(x.reshape(-1).astype(np.float64)), expect.reshape(-1), rtol=1e-5, atol=1e-6)


def test_fold_only_op_on_data_is_named(tmp_path):
    nodes = [helper.make_node("Gemm", ["x", "W"], ["h"], name="fc", transB=1),
             helper.make_node("Gather", ["h", "idx"], ["y"], name="pick", axis=1)]
    model = _model(nodes, [1, 3], [1, 2], {"W": np.ones((4, 3), np.float32), "idx": np.array([0, 1], np.int64)})
    path = tmp_path / "g.onnx"
    onnx.save_model(model, str(path))
    with pytest.raises(InvalidInput, match=r"Gather at node 'pick' computes on the network's values") as exc:
        load_network(path)
    assert "\n" not in str(exc.value)


def test_conv_on_undeclared_shape_is_refused(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "K"], ["y"], name="c")]
    model = _model(nodes, [1, 2, "h", "w"], ["n", "c", "p", "q"], {"K": np.ones((1, 2, 3, 3), np.float32)})
    path = tmp_path / "u.onnx"
    onnx.save_model(model, str(path))
    with pytest.raises(InvalidInput, match=r"Conv at node 'c' acts on a tensor of shape \[1, 2, '\?', '\?'\]"):
        load_network(path, activation="relu")
