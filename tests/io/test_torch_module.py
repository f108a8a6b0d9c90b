"""Generators from torch modules and from state_dict + architecture spec: theorychk's exact forward
pass equals torch's eval forward; the spec path with an .npz state_dict never imports torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from theorychk.errors import InvalidInput
from theorychk.io import load_network
from theorychk.io.torch_module import SPEC_FORMAT, from_module, from_state_dict

torch = pytest.importorskip("torch")
nn = torch.nn


def _randomize_bn(module, seed=0):
    gen = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.3)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.randn(m.num_features, generator=gen))
                    m.bias.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
    return module.eval()


MODULES = {
    "issue": (lambda: nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Unflatten(1, (8, 2, 2)),
                                    nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                    nn.ConvTranspose2d(4, 1, 4, stride=2, padding=1)), (4,)),
    "dcgan": (lambda: nn.Sequential(nn.Unflatten(1, (6, 1, 1)),
                                    nn.Sequential(nn.ConvTranspose2d(6, 8, 4, 1, 0, bias=False), nn.BatchNorm2d(8),
                                                  nn.ReLU(True)),
                                    nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1, groups=2),
                                    nn.LeakyReLU(0.2), nn.Dropout(0.3),
                                    nn.Conv2d(4, 4, 3, padding="same", dilation=2, groups=4),
                                    nn.BatchNorm2d(4, affine=False), nn.Tanh()), (6,)),
    "mixed": (lambda: nn.Sequential(nn.Linear(3, 12), nn.BatchNorm1d(12), nn.LeakyReLU(0.1),
                                    nn.Unflatten(1, (3, 2, 2)), nn.Identity(),
                                    nn.Conv2d(3, 2, 2, padding=1), nn.Sigmoid(), nn.Flatten(),
                                    nn.Linear(18, 5)), (3,)),
    "linear-bn2d": (lambda: nn.Sequential(nn.Linear(3, 18), nn.Unflatten(1, (2, 3, 3)), nn.BatchNorm2d(2),
                                          nn.ReLU(), nn.ConvTranspose2d(2, 2, 2, stride=2)), (3,)),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_from_module_matches_torch_forward(name):
    torch.manual_seed(0)
    build, latent = MODULES[name]
    module = _randomize_bn(build())
    net = from_module(module)
    assert net.latent_dim == latent[0]
    z = np.random.default_rng(1).standard_normal((6, latent[0])).astype(np.float32)
    with torch.no_grad():
        expect = module(torch.from_numpy(z)).reshape(6, -1).double().numpy()
    np.testing.assert_allclose(net.forward(z.astype(np.float64)), expect, rtol=1e-4, atol=1e-5)


def test_dcgan_latent_defaults_to_channels_by_one_by_one():
    torch.manual_seed(0)
    g = nn.Sequential(nn.ConvTranspose2d(5, 3, 4, 1, 0), nn.ReLU(), nn.ConvTranspose2d(3, 1, 4, 2, 1), nn.Tanh())
    net = from_module(g.eval())
    assert net.widths == (5, 3 * 4 * 4, 8 * 8)
    assert [layer.conv.in_shape for layer in net.layers] == [(5, 1, 1), (3, 4, 4)]
    z = torch.randn(2, 5, 1, 1)
    with torch.no_grad():
        np.testing.assert_allclose(net.forward(z.reshape(2, 5).double().numpy()), g(z).reshape(2, -1).numpy(),
                                   rtol=1e-5, atol=1e-6)


def _spec_files(tmp_path, module, weights_suffix):
    spec = {
        "format": SPEC_FORMAT,
        "state_dict": f"weights{weights_suffix}",
        "layers": [
            {"type": "Linear", "name": "0"}, {"type": "ReLU"}, {"type": "Unflatten", "sizes": [8, 2, 2]},
            {"type": "ConvTranspose2d", "name": "3", "stride": 2, "padding": 1},
            {"type": "BatchNorm2d", "name": "4", "eps": 1e-5}, {"type": "ReLU"},
            {"type": "ConvTranspose2d", "name": "6", "stride": 2, "padding": 1},
        ],
    }
    state = module.state_dict()
    if weights_suffix == ".pt":
        torch.save(state, tmp_path / "weights.pt")
    else:
        np.savez(tmp_path / "weights.npz", **{k: v.numpy() for k, v in state.items()})
    path = tmp_path / "gen.arch.json"
    path.write_text(json.dumps(spec))
    return path


@pytest.mark.parametrize("suffix", [".pt", ".npz"])
def test_spec_file_reads_like_the_module(tmp_path, suffix):
    torch.manual_seed(0)
    module = _randomize_bn(MODULES["issue"][0]())
    path = _spec_files(tmp_path, module, suffix)
    net = load_network(path)
    assert net == from_module(module) and net.fingerprint() == from_module(module).fingerprint()
    assert [layer.dtype for layer in net.layers] == ["float32", "float64", "float32"]


def test_npz_spec_path_never_imports_torch(tmp_path):
    torch.manual_seed(0)
    path = _spec_files(tmp_path, _randomize_bn(MODULES["issue"][0]()), ".npz")
    code = ("import sys; from theorychk.io import load_network; net = load_network(sys.argv[1]); "
            "assert 'torch' not in sys.modules, 'torch imported'; print(net.widths)")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "(4, 32, 64, 64)"


def test_info_reads_a_spec_file(tmp_path):
    torch.manual_seed(0)
    path = _spec_files(tmp_path, _randomize_bn(MODULES["issue"][0]()), ".npz")
    proc = subprocess.run([sys.executable, "-m", "theorychk", "info", str(path), "--json"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(proc.stdout)
    assert [layer["kind"] for layer in facts["layers"]] == ["linear", "conv_transpose", "conv_transpose"]


def test_unsupported_module_is_named():
    g = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2))
    with pytest.raises(InvalidInput, match=r"module '1' is a MaxPool2d, which theorychk does not read"):
        from_module(g)
    with pytest.raises(InvalidInput, match="from_module reads an nn.Sequential"):
        from_module(nn.Linear(2, 3))


_ARRAYS = {"0.weight": np.ones((8, 2), np.float32), "2.weight": np.ones((2, 1, 3, 3), np.float32)}


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([{"type": "Linear", "name": "0"}, {"type": "MaxPool2d"}], r"entry 1 has type 'MaxPool2d'; supported: Linear"),
        ([{"type": "Linear", "name": "9"}], r"entry 0 \(Linear '9'\) needs state_dict entry '9.weight'"),
        ([{"type": "Linear", "name": "0", "bias": False}], r"unknown key\(s\) 'bias'"),
        ([{"type": "Linear", "name": "0"}, {"type": "ConvTranspose2d", "name": "2"}],
         r"entry 1 \(ConvTranspose2d '2'\) needs a C x H x W map .*add an Unflatten"),
        ([{"type": "Linear", "name": "0"}, {"type": "Unflatten", "sizes": [3, 3]}], r"sizes must be .* 8 values"),
        ([{"type": "Linear", "name": "0"}, {"type": "ReLU"}, {"type": "ReLU"}], r"entry 2 \(ReLU\) does not follow"),
    ],
)
def test_bad_spec_names_the_entry(layers, message):
    with pytest.raises(InvalidInput, match=message) as exc:
        from_state_dict(_ARRAYS, {"layers": layers})
    assert "\n" not in str(exc.value)


def test_spec_file_errors_are_one_line(tmp_path):
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"format": "something-else"}))
    proc = subprocess.run([sys.executable, "-m", "theorychk", "info", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "not a theorychk architecture spec" in proc.stderr
