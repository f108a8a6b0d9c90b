"""The checker on convolutional nets: its own convolution matrix (built from the kernel and the
geometry, not by theorychk.conv) agrees with the engines' operator and with torch; certificates of a
conv net record the geometry, verify, and an edited geometry is rejected."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

from theorychk.certify.certificate import build_certificate
from theorychk.check.convolution import describe_layer, layer_matrix
from theorychk.check.core import check_certificate
from theorychk.conv import Conv
from theorychk.network import Layer, Network

ROOT = Path(__file__).resolve().parents[2]


def _random_conv(rng, transposed):
    g = int(rng.choice([1, 2]))
    c_in, c_out = g * int(rng.integers(1, 3)), g * int(rng.integers(1, 3))
    kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
    stride = tuple(int(v) for v in rng.integers(1, 3, size=2))
    dilation = tuple(int(v) for v in rng.integers(1, 3, size=2))
    pads = tuple(int(v) for v in rng.integers(0, 2, size=4))
    shape = (c_in, *(int(v) for v in rng.integers(5, 8, size=2)))
    if transposed:
        out_pad = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
        kernel = rng.standard_normal((c_in, c_out // g, kh, kw))
    else:
        out_pad, kernel = (0, 0), rng.standard_normal((c_out, c_in // g, kh, kw))
    return Conv(kernel, shape, stride=stride, padding=pads, output_padding=out_pad, dilation=dilation, groups=g,
                transposed=transposed)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("seed", range(10))
def test_checker_matrix_equals_engine_operator(seed, transposed):
    conv = _random_conv(np.random.default_rng(seed), transposed)
    layer = Layer(conv, None, "relu")
    np.testing.assert_array_equal(layer_matrix(layer), conv.operator().toarray())
    assert describe_layer(layer) == conv.geometry()


def test_checker_matrix_equals_torch():
    torch = pytest.importorskip("torch")
    conv = Conv(np.random.default_rng(0).standard_normal((4, 1, 3, 3)), (4, 3, 3), stride=2, padding=1,
                output_padding=1, groups=2, transposed=True)
    x = np.random.default_rng(1).standard_normal(conv.n_in)
    expect = torch.nn.functional.conv_transpose2d(torch.tensor(x.reshape(1, 4, 3, 3)), torch.tensor(conv.kernel),
                                                  stride=2, padding=1, output_padding=1, groups=2)
    np.testing.assert_allclose(layer_matrix(Layer(conv, None, "relu")) @ x, expect.numpy().reshape(-1), rtol=1e-12)


def test_checker_does_not_use_the_engine_operator():
    code = ("import sys; from theorychk.check.core import check_certificate; import theorychk.check.convolution; "
            "import theorychk.check.signal; print('scipy.sparse' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"
    for path in (ROOT / "theorychk" / "check").glob("*.py"):
        text = path.read_text()
        for forbidden in ("from theorychk.conv", "import theorychk.conv", "from theorychk import conv", ".operator",
                          ".dense("):
            assert forbidden not in text, (path.name, forbidden)
        if path.name != "convolution.py":  # the one place that hands out W, a conv's built here
            assert not re.search(r"layers?(\[[^\]]*\])?\.weight\b", text), path.name


@pytest.fixture(scope="module")
def conv_cert():
    rng = np.random.default_rng(0)
    net = Network([
        Layer(rng.standard_normal((8, 2)).astype(np.float32), None, "relu"),
        Layer(Conv(rng.standard_normal((2, 2, 3, 3)).astype(np.float32), (2, 2, 2), stride=2, padding=1,
                   transposed=True), rng.standard_normal(2).astype(np.float32), "relu"),
    ])
    cert = json.loads(json.dumps(build_certificate(net, [F(1, 2), F(-1, 3)], source="test", time_limit=120)))
    return net, cert


def test_conv_certificate_records_geometry_and_verifies(conv_cert):
    net, cert = conv_cert
    assert cert["model"]["layers"] == [{"kind": "linear"}, net.layers[1].conv.geometry()]
    report = check_certificate(cert, net)
    assert report.verified, report.to_dict()
    decided = {c["kind"]: c["status"] for c in cert["claims"]}
    assert decided["polytope"] == "CERTIFIED" and decided["complete"] == "CERTIFIED"


def test_edited_geometry_is_rejected(conv_cert):
    net, cert = conv_cert
    bad = copy.deepcopy(cert)
    bad["model"]["layers"][1]["stride"] = [1, 1]
    report = check_certificate(bad, net)
    assert not report.verified
    assert "model.layers" in json.dumps(report.to_dict())
    missing = copy.deepcopy(cert)
    del missing["model"]["layers"]
    report = check_certificate(missing, net)
    assert not report.verified and "model.layers is missing" in json.dumps(report.to_dict())
