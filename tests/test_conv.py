"""Convolutions as exact sparse operators: against torch and against a naive loop, entry for entry."""

import numpy as np
import pytest

from theorychk.conv import Conv
from theorychk.errors import InvalidInput
from theorychk.network import Layer, Network

torch = pytest.importorskip("torch")
F = torch.nn.functional


def naive(conv: Conv, x: np.ndarray) -> np.ndarray:
    """The definition, one multiply-add at a time (the module docstring's formulas)."""
    k = conv.kernel
    c_in, h, w = conv.in_shape
    c_out, ho, wo = conv.out_shape
    (sh, sw), (dh, dw), (top, left) = conv.stride, conv.dilation, conv.padding[:2]
    x = x.reshape(conv.in_shape)
    out = np.zeros(conv.out_shape)
    g = conv.groups
    if not conv.transposed:
        cig, cog = c_in // g, c_out // g
        for o in range(c_out):
            for p in range(ho):
                for q in range(wo):
                    for c in range(cig):
                        for i in range(k.shape[2]):
                            for j in range(k.shape[3]):
                                r, s = p * sh - top + i * dh, q * sw - left + j * dw
                                if 0 <= r < h and 0 <= s < w:
                                    out[o, p, q] += k[o, c, i, j] * x[(o // cog) * cig + c, r, s]
    else:
        cig, cog = c_in // g, k.shape[1]
        for c in range(c_in):
            for o in range(cog):
                for p in range(h):
                    for q in range(w):
                        for i in range(k.shape[2]):
                            for j in range(k.shape[3]):
                                r, s = p * sh - top + i * dh, q * sw - left + j * dw
                                if 0 <= r < ho and 0 <= s < wo:
                                    out[(c // cig) * cog + o, r, s] += k[c, o, i, j] * x[c, p, q]
    return out.reshape(-1)


def random_conv(rng, *, transposed, groups=None):
    g = groups or int(rng.choice([1, 1, 2, 3]))
    c_in = g * int(rng.integers(1, 3))
    c_out = g * int(rng.integers(1, 3))
    kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
    stride = tuple(int(v) for v in rng.integers(1, 3, size=2))
    dilation = tuple(int(v) for v in rng.integers(1, 3, size=2))
    h, w = (int(v) for v in rng.integers(5, 8, size=2))
    pad = tuple(int(v) for v in rng.integers(0, 2, size=2))
    if transposed:
        out_pad = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
        kernel = rng.standard_normal((c_in, c_out // g, kh, kw)).astype(np.float32)
    else:
        out_pad = (0, 0)
        kernel = rng.standard_normal((c_out, c_in // g, kh, kw)).astype(np.float32)
    return Conv(kernel, (c_in, h, w), stride=stride, padding=pad, output_padding=out_pad, dilation=dilation,
                groups=g, transposed=transposed)


def torch_apply(conv: Conv, x: np.ndarray) -> np.ndarray:
    top, left, bottom, right = conv.padding
    assert (top, left) == (bottom, right)
    xt = torch.tensor(x.reshape(1, *conv.in_shape), dtype=torch.float64)
    kt = torch.tensor(conv.kernel, dtype=torch.float64)
    if conv.transposed:
        y = F.conv_transpose2d(xt, kt, stride=conv.stride, padding=(top, left), output_padding=conv.output_padding,
                               groups=conv.groups, dilation=conv.dilation)
    else:
        y = F.conv2d(xt, kt, stride=conv.stride, padding=(top, left), dilation=conv.dilation, groups=conv.groups)
    assert tuple(y.shape[1:]) == conv.out_shape
    return y.numpy().reshape(-1)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("seed", range(12))
def test_operator_equals_torch_and_naive_loop(seed, transposed):
    rng = np.random.default_rng(seed)
    conv = random_conv(rng, transposed=transposed)
    mat = conv.operator()
    assert mat.shape == (conv.n_out, conv.n_in)
    # Column j of the operator is the convolution of the j-th unit vector: the entries, exactly.
    dense = mat.toarray()
    for j in range(conv.n_in):
        e = np.zeros(conv.n_in)
        e[j] = 1.0
        np.testing.assert_array_equal(dense[:, j], naive(conv, e))
    x = rng.standard_normal(conv.n_in)
    np.testing.assert_allclose(mat @ x, torch_apply(conv, x), rtol=1e-12, atol=1e-12)
    # Every nonzero is one stored kernel number, never a sum of them.
    assert set(mat.data.tolist()) <= set(conv.kernel.reshape(-1).tolist())


def test_asymmetric_padding_matches_naive_loop():
    rng = np.random.default_rng(5)
    for transposed in (False, True):
        kernel = rng.standard_normal((2, 2, 3, 2))
        conv = Conv(kernel, (2, 5, 4), stride=(2, 1), padding=(1, 0, 2, 1), transposed=transposed)
        x = rng.standard_normal(conv.n_in)
        np.testing.assert_allclose(conv.operator() @ x, naive(conv, x), rtol=1e-13, atol=1e-13)


def test_dcgan_block_shapes():
    # ConvTranspose2d(8, 4, 4, stride 2, padding 1) doubles the feature map, as in DCGAN.
    conv = Conv(np.ones((8, 4, 4, 4)), (8, 7, 7), stride=2, padding=1, transposed=True)
    assert conv.out_shape == (4, 14, 14)
    assert conv.operator().shape == (4 * 14 * 14, 8 * 7 * 7)


def test_layer_forward_uses_sparse_operator_and_matches_torch():
    rng = np.random.default_rng(1)
    conv = random_conv(rng, transposed=True, groups=2)
    bias = rng.standard_normal(conv.out_shape[0]).astype(np.float32)
    layer = Layer(conv, bias, "relu")
    assert layer.kind == "conv_transpose" and layer.dtype == "float32"
    assert layer.n_in == conv.n_in and layer.n_out == conv.n_out
    assert layer.n_params == conv.kernel.size + conv.out_shape[0]
    z = rng.standard_normal((3, conv.n_in))
    net = Network([layer])
    expect = np.stack([torch_apply(conv, zi) for zi in z]) + np.repeat(bias, conv.n_out // conv.out_shape[0])
    np.testing.assert_allclose(net.forward(z), np.maximum(expect, 0), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(layer.weight, conv.operator().toarray())
    assert not layer.weight.flags.writeable


def test_dense_view_refused_above_limit():
    conv = Conv(np.ones((64, 32, 4, 4)), (64, 32, 32), stride=2, padding=1, transposed=True)
    layer = Layer(conv, None, "relu")
    assert layer.n_out * layer.n_in > 2**24
    with pytest.raises(InvalidInput, match="above the dense limit"):
        layer.weight  # noqa: B018
    out = Network([layer]).forward(np.ones(layer.n_in))  # the forward pass stays sparse
    assert out.shape == (layer.n_out,)


def test_scaled_folds_per_output_channel():
    rng = np.random.default_rng(2)
    for transposed in (False, True):
        conv = random_conv(rng, transposed=transposed, groups=2)
        s = rng.standard_normal(conv.out_shape[0])
        per_unit = np.repeat(s, conv.n_out // conv.out_shape[0])
        np.testing.assert_allclose(conv.scaled(s).operator().toarray(), per_unit[:, None] * conv.operator().toarray(),
                                   rtol=1e-15)


def test_geometry_round_trip_and_fingerprint_differs_from_dense():
    rng = np.random.default_rng(3)
    conv = random_conv(rng, transposed=True)
    again = Conv.from_geometry(conv.kernel, conv.geometry())
    assert again == conv
    a = Network([Layer(conv, None, "relu")])
    b = Network([Layer(conv.operator().toarray(), None, "relu")])
    np.testing.assert_array_equal(a.forward(np.ones(conv.n_in)), b.forward(np.ones(conv.n_in)))
    assert a.fingerprint() != b.fingerprint() and a != b


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kernel": np.ones((2, 3, 3)), "in_shape": (3, 5, 5)}, "conv kernel must be 4-D"),
        ({"kernel": np.ones((2, 3, 3, 3)), "in_shape": (2, 5, 5)}, "Conv kernel must have shape"),
        ({"kernel": np.ones((2, 3, 9, 9)), "in_shape": (3, 5, 5)}, "empty output"),
        ({"kernel": np.ones((2, 3, 3, 3)), "in_shape": (3, 5, 5), "stride": 0}, "conv stride must be"),
        ({"kernel": np.ones((2, 3, 3, 3)), "in_shape": (3, 5, 5), "padding": (1, 2, 3)}, "conv padding"),
        ({"kernel": np.ones((2, 3, 3, 3)), "in_shape": (2, 5, 5), "transposed": True, "output_padding": 1},
         "output_padding must be smaller"),
        ({"kernel": np.ones((2, 3, 3, 3)), "in_shape": (5, 5)}, "in_shape must be"),
    ],
)
def test_bad_geometry_names_the_field(kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        Conv(**kwargs)


def test_dataclasses_replace_rebuilds_dense_and_conv_layers():
    """``dataclasses.replace(layer, bias=...)`` worked when ``weight`` was the stored field; it
    must keep working now that a layer stores its ``operator`` (and may hold a Conv)."""
    import dataclasses

    dense = Layer(np.arange(6.0).reshape(3, 2), None, "relu")
    moved = dataclasses.replace(dense, bias=np.ones(3))
    assert moved.has_bias and np.array_equal(moved.weight, dense.weight) and np.array_equal(moved.bias, np.ones(3))
    same = dataclasses.replace(dense, activation="identity")
    assert not same.has_bias and same.activation.spec == "identity"

    rng = np.random.default_rng(0)
    conv = Conv(rng.standard_normal((2, 3, 2, 2)), (2, 3, 3), stride=(2, 2), transposed=True)
    layer = Layer(conv, np.array([0.5, -0.5, 1.0]), "relu")
    shifted = dataclasses.replace(layer, bias=layer.bias + 1)
    assert shifted.conv is layer.conv
    x = rng.standard_normal(layer.n_in)
    assert np.allclose(shifted(x), np.maximum(layer.conv.dense() @ x + layer.bias + 1, 0))
