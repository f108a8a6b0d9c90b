"""The zoo: every shipped net loads, matches its model card, and is what the script trains."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys

import numpy as np
import pytest

from theorychk import zoo
from theorychk.errors import InvalidInput
from theorychk.io import load_network
from theorychk.network import PLU, LeakyReLU, ReLU, Sigmoid, parse_activation
from theorychk.zoo import train

NAMES = zoo.names()


def parse_card(text: str) -> dict[str, str]:
    """The key/value table at the top of a model card, backticks stripped."""
    rows = {}
    for line in text.splitlines():
        m = re.fullmatch(r"\| ([^|]+?) \| (.+?) \|", line)
        if m and m[1] not in ("key", "---"):
            rows.setdefault(m[1], m[2].strip("`"))
    return rows


def card_table(name: str) -> dict[str, str]:
    return parse_card(zoo.card(name))


def test_the_nets_are_shipped_with_cards() -> None:
    assert {"vae-relu", "aberdam", "vae-leaky", "vae784-relu", "vae784-leaky", "dcgan8", "dcgan28"} <= set(NAMES)
    assert NAMES == sorted(train.SPECS)  # the script trains exactly what is shipped
    for name in NAMES:
        assert zoo.path(name).is_file() and zoo.path(name).with_suffix(".md").is_file()


@pytest.mark.parametrize("name", NAMES)
def test_loads_both_ways(name: str) -> None:
    via_io = load_network(f"zoo:{name}")
    via_zoo = zoo.load(name)
    assert via_io == via_zoo
    assert via_io.fingerprint() == via_zoo.fingerprint()
    assert via_io.name == name


@pytest.mark.parametrize("name", NAMES)
def test_matches_its_card(name: str) -> None:
    net, table = zoo.load(name), card_table(name)
    assert table["name"] == name
    assert table["widths"] == "-".join(map(str, net.widths))
    assert table["activations"] == ",".join(a.spec for a in net.activations)
    assert table["fingerprint"] == net.fingerprint()
    assert int(table["parameters"]) == net.n_params
    assert table["dtype"] == "float32"
    assert all(layer.dtype == "float32" for layer in net.layers)
    assert np.isfinite(float(table["final loss"]))
    assert f"--only {name}" in table["command"]
    # the card says what the net was trained on: the digits as bundled, or upsampled to 28x28
    side = train.SPECS[name].side
    assert ("upsampled to 28x28 (`scipy.ndimage.zoom(img, 3.5, order=1)`" in table["training data"]) == (side == 28)


@pytest.mark.parametrize("name", NAMES)
def test_matches_the_training_spec(name: str) -> None:
    net, spec = zoo.load(name), train.SPECS[name]
    assert net.widths == spec.widths
    assert net.activations == tuple(parse_activation(a) for a in spec.activations)


@pytest.mark.parametrize("name", NAMES)
def test_forward_lands_in_the_output_range(name: str) -> None:
    net = zoo.load(name)
    z = np.random.default_rng(0).standard_normal((16, net.latent_dim))
    pre, post = net.trace(z)
    out_act = net.activations[-1]
    x = post[-1]
    assert x.shape == (16, train.SPECS[name].pixels) and np.all(np.isfinite(x))
    if isinstance(out_act, Sigmoid):
        assert np.all((x > 0) & (x < 1))
    if isinstance(out_act, ReLU):
        # not invertible, but piecewise linear: the last layer's activation pattern is the
        # signal's support, and on it the signal is the pre-activation itself
        assert not out_act.invertible
        np.testing.assert_array_equal(x > 0, pre[-1] > 0)
        np.testing.assert_array_equal(x[x > 0], pre[-1][x > 0])
        assert 0.05 < np.mean(x > 0) < 0.95  # both active and inactive output units
    else:
        # every other output activation of the zoo is invertible: the last pre-activation is
        # recovered (away from sigmoid's upper saturation, where 1 - x underflows the spacing of
        # floats near 1; the lower tail is exact since Sigmoid uses expit)
        assert out_act.invertible
        unsaturated = pre[-1] < 15
        assert unsaturated.mean() > 0.9
        np.testing.assert_allclose(out_act.inverse(x)[unsaturated], pre[-1][unsaturated], rtol=1e-8, atol=1e-8)
    # generated digits look like digits: mostly inside [0, 1], not constant (dcgan8's decoder has
    # 405 parameters and an unbounded PLU output: ~10% of its pixels at prior samples leave the band)
    assert np.mean((x > -0.05) & (x < 1.05)) > (0.85 if name == "dcgan8" else 0.95)
    assert np.std(x, axis=0).max() > 0.1


def test_documented_shapes() -> None:
    relu = zoo.load("vae-relu")
    assert relu.latent_dim <= 6  # small enough for exact global analysis
    assert isinstance(relu.activations[0], ReLU) and isinstance(relu.activations[-1], Sigmoid)

    leaky = zoo.load("vae-leaky")
    assert isinstance(leaky.activations[0], LeakyReLU) and leaky.activations[0].slope in (0.1, 0.2)

    # paper 004's shape: two ReLU layers (batch norm folded), each at least doubling, then PLU
    aberdam = zoo.load("aberdam")
    assert aberdam.depth == 3
    assert all(isinstance(a, ReLU) for a in aberdam.activations[:2])
    assert aberdam.activations[-1] == PLU(alpha=0.1, c=1.0)
    assert all(e >= 2 for e in aberdam.expansion[:2])

    # the papers' MNIST sizes (papers 001/002 Section 5.2; issue 14's decoder), piecewise linear
    # on every layer, output included, so the output's activation pattern is read off the signal
    relu784 = zoo.load("vae784-relu")
    assert relu784.widths == (20, 60, 784)
    assert relu784.activations == (ReLU(), ReLU())
    leaky784 = zoo.load("vae784-leaky")
    assert leaky784.widths == (20, 200, 500, 784)
    assert leaky784.activations == (LeakyReLU(slope=0.1),) * 3
    for net in (relu784, leaky784):
        assert net.dtype == "float32" and all(layer.dtype == "float32" and layer.has_bias for layer in net.layers)


    # DCGAN-shaped: a linear layer, then stride-2 transposed convolutions read as exact sparse layers
    for name, side, maps in (("dcgan8", 8, [(4, 2, 2), (4, 4, 4), (1, 8, 8)]),
                             ("dcgan28", 28, [(4, 7, 7), (4, 14, 14), (1, 28, 28)])):
        net = zoo.load(name)
        assert [layer.kind for layer in net.layers] == ["linear", "conv_transpose", "conv_transpose"]
        assert [tuple(layer.conv.in_shape) for layer in net.layers[1:]] == maps[:2]
        assert tuple(net.layers[-1].conv.out_shape) == maps[2] and net.output_dim == side * side
        assert all(layer.conv.stride == (2, 2) and layer.conv.padding == (1, 1, 1, 1) for layer in net.layers[1:])
        assert net.activations == (ReLU(), ReLU(), PLU(alpha=0.1, c=1.0))
        assert all(e >= 2 for e in net.expansion[:2]) and net.expansion[2] == 1  # square last layer, PLU bijective
        assert net.dtype == "float32" and all(layer.dtype == "float32" for layer in net.layers)


def _torch_conv_module(torch, name: str, net):
    """The zoo net's architecture as torch layers (Linear, Unflatten, ConvTranspose2d) holding the stored
    numbers in float64; the folded batch norm is in the kernel and bias already."""
    import dataclasses

    spec = dataclasses.replace(train.SPECS[name], batch_norm=False)  # every layer with its (folded) bias
    module = train._conv_decoder(torch, spec).to(torch.float64)
    affine = [m for m in module if isinstance(m, (torch.nn.Linear, torch.nn.ConvTranspose2d))]
    with torch.no_grad():
        for m, layer in zip(affine, net.layers, strict=True):
            if layer.conv is None:
                m.weight.copy_(torch.from_numpy(np.array(layer.weight, dtype=np.float64)))
                m.bias.copy_(torch.from_numpy(np.array(layer.bias, dtype=np.float64)))
            else:
                m.weight.copy_(torch.from_numpy(np.array(layer.conv.kernel, dtype=np.float64)))
                per_channel = np.asarray(layer.bias).reshape(layer.conv.out_shape[0], -1)
                assert np.all(per_channel == per_channel[:, :1])  # one bias per channel, expanded
                m.bias.copy_(torch.from_numpy(per_channel[:, 0].astype(np.float64)))
    out = train._torch_activation(torch, net.activations[-1].spec)
    return lambda z: out(module(z))


@pytest.mark.parametrize("name", ["dcgan8", "dcgan28"])
def test_conv_nets_agree_across_formats(name: str, tmp_path) -> None:
    """torch's ConvTranspose2d forward = onnxruntime on the exported ONNX = theorychk's forward (sparse
    operator, float64) = the checker's exact rational forward, on the same stored numbers."""
    from fractions import Fraction

    torch = pytest.importorskip("torch")
    ort = pytest.importorskip("onnxruntime")
    from theorychk.check import exactnet, intmat
    from theorychk.io import export_onnx

    net = zoo.load(name)
    z = np.round(np.random.default_rng(4).standard_normal((6, net.latent_dim)) * 64) / 64  # dyadic: exact
    ours = net.forward(z)
    with torch.no_grad():
        theirs = _torch_conv_module(torch, name, net)(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    path = export_onnx(net, tmp_path / f"{name}.onnx")
    assert load_network(path).fingerprint() == net.fingerprint()  # the ONNX file is the same net
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = sess.get_inputs()[0].name
    onnx_out = np.vstack([sess.run(None, {feed: row[None, :].astype(np.float32)})[0] for row in z])
    np.testing.assert_allclose(onnx_out, ours, rtol=0, atol=1e-5)  # onnxruntime computes in float32
    layers, specs = intmat.integer_layers(net), [a.spec for a in net.activations]
    exact = exactnet.forward(layers, specs, [Fraction(v) for v in z[0]])[-1][2]
    np.testing.assert_allclose([float(v) for v in exact], ours[0], rtol=1e-13, atol=1e-13)


def _torch_forward(torch, net, z: np.ndarray) -> np.ndarray:
    """``net`` run by torch's own layers on float64 copies of the stored weights."""
    x = torch.from_numpy(z)
    for layer in net.layers:
        linear = torch.nn.Linear(layer.n_in, layer.n_out, bias=layer.has_bias, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.array(layer.weight)))
            if layer.has_bias:
                linear.bias.copy_(torch.from_numpy(np.array(layer.bias)))
        act = layer.activation
        if isinstance(act, ReLU):
            torch_act = torch.nn.ReLU()
        elif isinstance(act, LeakyReLU):
            torch_act = torch.nn.LeakyReLU(act.slope)
        elif isinstance(act, Sigmoid):
            torch_act = torch.nn.Sigmoid()
        else:  # PLU has no torch module: the training script's formula
            assert isinstance(act, PLU)
            torch_act = train._torch_activation(torch, act.spec)
        with torch.no_grad():
            x = torch_act(linear(x))
    return x.numpy()


@pytest.mark.parametrize("name", NAMES)
def test_forward_equals_the_torch_module(name: str) -> None:
    """theorychk's forward is what torch computes with the same stored numbers (float64 both sides)."""
    torch = pytest.importorskip("torch")
    net = zoo.load(name)
    z = np.random.default_rng(3).standard_normal((5, net.latent_dim))
    # only the order of the float64 sums may differ
    np.testing.assert_allclose(net.forward(z), _torch_forward(torch, net, z), rtol=1e-12, atol=1e-12)


def test_upsample_to_28() -> None:
    rng = np.random.default_rng(0)
    images = rng.random((3, 64))
    big = train.upsample(images, 28)
    assert big.shape == (3, 784) and big.min() >= 0 and big.max() <= 1
    # bilinear: the corners are the corner pixels, a constant image stays constant
    np.testing.assert_allclose(big.reshape(3, 28, 28)[:, 0, 0], images.reshape(3, 8, 8)[:, 0, 0])
    np.testing.assert_allclose(train.upsample(np.full((1, 64), 0.25), 28), 0.25)
    assert train.upsample(images, 8) is images


def test_spec_rejects_an_unknown_side() -> None:
    with pytest.raises(InvalidInput, match=r"vae: side must be 8 \(the digits\) or 28 \(upsampled\); got 16"):
        train.Spec(name="vae", summary="", latent=2, hidden=(4,), hidden_activation="relu",
                   output_activation="sigmoid", batch_norm=False, likelihood="bernoulli", epochs=1, side=16)


def test_conv_spec_rejects_widths_that_do_not_fit_its_maps() -> None:
    base = dict(summary="", latent=4, hidden_activation="relu", output_activation="plu:0.1:1", batch_norm=False,
                likelihood="gaussian", sigma=0.1, epochs=1)
    assert train.Spec(name="ok", hidden=(16, 64), unflatten=(4, 2, 2), **base).channels == (4, 4, 1)
    for hidden, unflatten in (((16, 64), (4, 2, 3)), ((16, 60), (4, 2, 2)), ((16,), (4, 2, 2))):
        with pytest.raises(InvalidInput, match=r"bad: hidden widths .* do not fit Unflatten"):
            train.Spec(name="bad", hidden=hidden, unflatten=unflatten, **base)


@pytest.mark.parametrize("call", [zoo.path, zoo.card, zoo.load, lambda n: load_network(f"zoo:{n}")])
def test_unknown_name_suggests_the_closest(call) -> None:
    with pytest.raises(InvalidInput, match=r"unknown zoo net 'vae-rleu'; valid: .*did you mean 'vae-relu'\?"):
        call("vae-rleu")


def test_script_rejects_an_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert train.main(["--only", "aberdan", "--out", "unused"]) == 2
    assert "did you mean 'aberdam'?" in capsys.readouterr().err


@pytest.mark.slow
def test_retraining_reproduces_the_shipped_net(tmp_path) -> None:
    """Training is deterministic on CPU (one thread, deterministic algorithms, pinned kernels).

    With the torch build, platform and CPU instruction sets the card names, the retrained net must
    be bit-identical (same fingerprint). Elsewhere MKL / oneDNN may round differently (the shipped
    card's CPU was not recorded; a Sapphire Rapids machine gives another fingerprint); then the
    losses must agree within the 0.005 nats the card states.
    """
    pytest.importorskip("torch")
    name = "vae-relu"
    env = {k: v for k, v in os.environ.items() if k not in train.PINNED_ENV}  # let the script pin
    subprocess.run(
        [sys.executable, "-m", "theorychk.zoo.train", "--only", name, "--out", str(tmp_path)],
        check=True, env=env, capture_output=True, timeout=600,
    )
    retrained = load_network(tmp_path / f"{name}.npz")
    shipped = card_table(name)
    again = parse_card((tmp_path / f"{name}.md").read_text(encoding="utf-8"))
    torch = pytest.importorskip("torch")

    assert again["cpu"] == train.cpu_isa() and again["torch"] == torch.__version__
    same_machine = (shipped["torch"], shipped["platform"], shipped["cpu"]) == (
        torch.__version__, platform.machine(), train.cpu_isa())
    if same_machine:
        assert retrained.fingerprint() == shipped["fingerprint"] == zoo.load(name).fingerprint()
        assert again["final loss"] == shipped["final loss"]
    else:
        assert float(again["final loss"]) == pytest.approx(float(shipped["final loss"]), abs=0.005)
        assert retrained.widths == zoo.load(name).widths

