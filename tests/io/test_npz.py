"""The .npz format: round trips, schema checks, bad files."""

import numpy as np
import pytest
from hypothesis import given

from theorychk.errors import InvalidInput
from theorychk.io import load_network, save_network
from theorychk.network import Layer, Network
from tests.test_network import networks


@given(networks())
def test_round_trip_is_identity(tmp_path_factory, net):
    path = tmp_path_factory.mktemp("npz") / "net.npz"
    save_network(net, path)
    back = load_network(path)
    assert back == net
    assert back.fingerprint() == net.fingerprint()
    assert [layer.dtype for layer in back.layers] == [layer.dtype for layer in net.layers]


def test_activation_override(tmp_path):
    net = Network([Layer(np.ones((3, 2)), None, "relu"), Layer(np.ones((4, 3)), None, "relu")])
    save_network(net, tmp_path / "n.npz")
    back = load_network(tmp_path / "n.npz", activation="leaky_relu:0.2", final_activation="sigmoid")
    assert [a.spec for a in back.activations] == ["leaky_relu:0.2", "sigmoid"]
    with pytest.raises(InvalidInput, match=r"one activation or one per layer \(2\); got 3"):
        load_network(tmp_path / "n.npz", activation="relu,relu,relu")
    with pytest.raises(InvalidInput, match="drop --layers"):
        load_network(tmp_path / "n.npz", layers="fc1")


def test_bad_files(tmp_path):
    with pytest.raises(InvalidInput, match="model file not found"):
        load_network(tmp_path / "missing.npz")
    with pytest.raises(InvalidInput, match=r"unknown model file extension '.h5'"):
        load_network(tmp_path / "model.h5")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(InvalidInput, match="not a readable .npz archive"):
        load_network(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", a=np.ones(3))
    with pytest.raises(InvalidInput, match="not a theorychk network"):
        load_network(tmp_path / "other.npz")
    good = tmp_path / "good.npz"
    save_network(Network([Layer(np.ones((3, 2)), None, "relu")]), good)
    data = good.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidInput, match="not a readable .npz archive"):
        load_network(tmp_path / "trunc.npz")
    with np.load(good) as d:
        entries = dict(d)
    entries["W0"] = np.ones(3)
    np.savez(tmp_path / "flat.npz", **entries)
    with pytest.raises(InvalidInput, match=r"layer 0: weight must be 2-D; got shape \(3,\)"):
        load_network(tmp_path / "flat.npz")
    entries["W0"] = np.array([[np.nan, 1.0], [1, 1], [1, 1]])
    np.savez(tmp_path / "nan.npz", **entries)
    with pytest.raises(InvalidInput, match="layer 0: weight must be finite"):
        load_network(tmp_path / "nan.npz")
