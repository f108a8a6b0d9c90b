"""The ``.npz`` network format of theorychk (schema version 1).

One ``numpy.savez`` archive, readable with ``numpy.load(path, allow_pickle=False)``:

=================  ===========================  =================================================
key                dtype / shape                meaning
=================  ===========================  =================================================
``format``         str, 0-d                     always ``"theorychk-network"``
``version``        int, 0-d                     schema version, ``1``
``n_layers``       int, 0-d                     number of layers ``L``
``W{i}``           float16/32/64, (n_out, n_in) weight of layer ``i`` (latent side is 0), as stored
``b{i}``           same dtype, (n_out,)         bias of layer ``i``; absent means "no bias"
``act{i}``         str, 0-d                     activation spec, e.g. ``"relu"``, ``"leaky_relu:0.1"``
``name``           str, 0-d, optional           a display name
=================  ===========================  =================================================

Weights keep the dtype they had, so a float32 network round-trips bit for bit.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from theorychk.errors import InvalidInput
from theorychk.network import Layer, Network, parse_activation

if TYPE_CHECKING:
    from theorychk.io import ModelSelection

FORMAT = "theorychk-network"
VERSION = 1


def write(net: Network, path: Path) -> Path:
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION),
        "n_layers": np.array(net.depth),
    }
    if net.name:
        arrays["name"] = np.array(net.name)
    for i, layer in enumerate(net.layers):
        dtype = np.dtype(layer.dtype)
        arrays[f"W{i}"] = layer.weight.astype(dtype)
        if layer.has_bias:
            arrays[f"b{i}"] = layer.bias.astype(dtype)
        arrays[f"act{i}"] = np.array(layer.activation.spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:  # a file object keeps numpy from appending ".npz"
        np.savez(fh, **arrays)
    return path


def read(path: Path, sel: ModelSelection) -> Network:
    if sel.layers is not None:
        raise InvalidInput(f"layers selects state_dict entries; {path.name} is a .npz network (drop --layers)")
    try:
        with np.load(path, allow_pickle=False) as data:
            files = {key: data[key] for key in data.files}
    except ValueError as exc:
        if "pickle" not in str(exc):
            raise InvalidInput(f"model file {path} is not a readable .npz archive ({exc})") from None
        # numpy read a non-zip file as a pickle and suggests unpickling it: never the right advice
        raise InvalidInput(f"model file {path} is not a readable .npz archive (not a zip file: truncated, or "
                           "another format with an .npz name?)") from None
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InvalidInput(f"model file {path} is not a readable .npz archive ({type(exc).__name__}: {exc})") from None
    if "format" not in files or str(files["format"]) != FORMAT:
        raise InvalidInput(f"model file {path} is an .npz but not a theorychk network (no format={FORMAT!r} entry)")
    version = int(files.get("version", -1))
    if version != VERSION:
        raise InvalidInput(f"model file {path} has schema version {version}; this theorychk reads {VERSION}")
    n_layers = int(files["n_layers"])
    if n_layers < 1:
        raise InvalidInput(f"model file {path} declares {n_layers} layers; need at least one")
    missing = [key for i in range(n_layers) for key in (f"W{i}", f"act{i}") if key not in files]
    if missing:
        raise InvalidInput(f"model file {path} is missing entries {', '.join(missing)}")
    stored = [parse_activation(str(files[f"act{i}"])) for i in range(n_layers)]
    acts = sel.activations_for(n_layers, stored, path.name)
    layers = []
    for i in range(n_layers):
        try:
            layers.append(Layer(files[f"W{i}"], files.get(f"b{i}"), acts[i]))
        except InvalidInput as exc:
            raise InvalidInput(f"model file {path}, layer {i}: {exc}") from None
    name = str(files["name"]) if "name" in files else path.stem
    try:
        return Network(tuple(layers), name=name)
    except InvalidInput as exc:
        raise InvalidInput(f"model file {path}: {exc}") from None
