"""How a model was read, as data: ModelSelection's JSON form, ModelSource, layer digests, writers."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from theorychk.errors import InvalidInput
from theorychk.io import (
    WRITERS, ModelSelection, ModelSource, file_sha256, layer_digests, load_network, model_path, save_network,
)
from theorychk.network import Layer, Network


def small(bias_shift: float = 0.0, act: str = "relu") -> Network:
    rng = np.random.default_rng(0)
    return Network([Layer(rng.standard_normal((4, 2)).astype(np.float32), None, act),
                    Layer(rng.standard_normal((5, 4)).astype(np.float32),
                          np.full(5, bias_shift, dtype=np.float32), "sigmoid")], name="small")


@pytest.mark.parametrize("options", [
    {},
    {"layers": "fc3,fc4", "activation": "relu"},
    {"layers": ["a+bn", "b"], "activation": "relu,leaky_relu:0.1", "final_activation": "sigmoid"},
    {"activation": "plu:0.1:1"},
])
def test_selection_round_trips_through_json(options):
    sel = ModelSelection.build(**options)
    data = sel.to_dict()
    assert set(data) == {"layers", "activation", "final_activation"}
    assert ModelSelection.from_dict(data) == sel
    assert ModelSelection.from_dict(data).to_dict() == data


def test_selection_cli_text_and_differences():
    sel = ModelSelection.build(layers="fc3,fc4", activation="relu", final_activation="sigmoid")
    assert sel.cli_text() == "--layers fc3,fc4 --activation relu --final-activation sigmoid"
    assert ModelSelection().cli_text() == "no model options"
    other = ModelSelection.build(layers="fc3,fc4", activation="leaky_relu:0.1")
    assert sel.differences(other) == ["--activation: relu vs leaky_relu:0.1", "--final-activation: sigmoid vs none"]
    assert sel.differences(sel) == []


@pytest.mark.parametrize(("data", "message"), [
    ("relu", "model.reading must be an object; got str"),
    ({"layers": []}, "model.reading.layers must be null or a non-empty list of strings; got []"),
    ({"activation": [1]}, "model.reading.activation must be null or a non-empty list of strings; got [1]"),
    ({"final_activation": ["relu"]}, "model.reading.final_activation must be null or a string; got ['relu']"),
    ({"layer": ["fc3"]}, "model.reading has unknown option(s) 'layer'; valid: layers, activation, final_activation"),
    ({"activation": ["rellu"]}, "unknown activation"),
])
def test_selection_from_dict_names_the_bad_field(data, message):
    with pytest.raises(InvalidInput) as exc:
        ModelSelection.from_dict(data)
    assert str(exc.value).startswith(message), str(exc.value)


def test_model_source_records_absolute_path_hash_and_options(tmp_path, monkeypatch):
    path = save_network(small(), tmp_path / "m.npz")
    monkeypatch.chdir(tmp_path)
    src = ModelSource.of("m.npz", activation="leaky_relu:0.2")
    assert src.source == str(path.resolve()) and src.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert src.to_dict() == {"source": str(path.resolve()), "source_sha256": src.sha256,
                             "reading": {"layers": None, "activation": ["leaky_relu:0.2"], "final_activation": None}}
    assert [a.spec for a in src.load().activations] == ["leaky_relu:0.2", "leaky_relu:0.2"]
    assert src.changed() is None
    save_network(small(bias_shift=1.0), path)
    assert src.changed().startswith(f"model file {path.resolve()} has changed since the certificate was made "
                                    f"(its sha256 is {file_sha256(path)[:16]}..., the certificate records "
                                    f"{src.sha256[:16]}...)")
    assert ModelSource(src.source).changed() is None  # nothing recorded, nothing to compare


def test_model_source_of_zoo_keeps_the_name():
    src = ModelSource.of("zoo:vae-leaky")
    assert src.source == "zoo:vae-leaky" and src.sha256 == file_sha256(model_path("zoo:vae-leaky"))
    assert src.load() == load_network("zoo:vae-leaky")


def test_model_source_errors_are_the_loaders(tmp_path):
    with pytest.raises(InvalidInput, match="model file not found"):
        ModelSource.of(tmp_path / "missing.npz")
    with pytest.raises(InvalidInput, match="unknown model file extension '.h5'"):
        ModelSource.of(tmp_path / "m.h5")


def test_layer_digests_name_the_layer_whose_numbers_changed():
    base = layer_digests(small())
    assert len(base) == 2 and all(len(d) == 64 for d in base)
    shifted = layer_digests(small(bias_shift=1.0))
    assert shifted[0] == base[0] and shifted[1] != base[1]
    # activations are recorded separately: a digest is about the numbers only
    assert layer_digests(small(act="leaky_relu:0.1")) == base
    f64 = Network([Layer(layer.weight.astype(np.float64), layer.bias if layer.has_bias else None, layer.activation,
                         dtype="float64") for layer in small().layers])
    assert layer_digests(f64)[0] != base[0]  # the same values stored in another dtype are other numbers


@pytest.mark.parametrize("ext", sorted(WRITERS))
def test_writers_write_what_the_readers_read(tmp_path, ext):
    net = small()
    out = WRITERS[ext](net, tmp_path / f"m{ext}")
    back = load_network(out)
    assert back.fingerprint() == net.fingerprint()
