"""The ``.npz`` network format of theorychk (schema versions 1 and 2).

One ``numpy.savez`` archive, readable with ``numpy.load(path, allow_pickle=False)``:

=================  ===========================  =================================================
key                dtype / shape                meaning
=================  ===========================  =================================================
``format``         str, 0-d                     always ``"theorychk-network"``
``version``        int, 0-d                     schema version: ``1``, or ``2`` when a layer is a convolution
``n_layers``       int, 0-d                     number of layers ``L``
``W{i}``           float16/32/64, (n_out, n_in) weight of layer ``i`` (latent side is 0), as stored; for a
                   or 4-D kernel                convolution (version 2) its kernel, as stored
``conv{i}``        str, 0-d, version 2 only     a convolution's geometry as JSON
                                                (:meth:`theorychk.conv.Conv.geometry`); absent for a
                                                fully connected layer
``b{i}``           same dtype, (n_out,) or      bias of layer ``i``; absent means "no bias"; a
                   (channels,)                  convolution's bias is stored per channel when it
                                                is constant on each channel
``act{i}``         str, 0-d                     activation spec, e.g. ``"relu"``, ``"leaky_relu:0.1"``
``name``           str, 0-d, optional           a display name
=================  ===========================  =================================================

Weights keep the dtype they had, so a float32 network round-trips bit for bit. A fully
connected network is written as version 1, byte for byte as before; version 2 only adds the
``conv{i}`` entries, so a version-1 file is a valid version-2 file without them.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from theorychk.conv import Conv
from theorychk.errors import InvalidInput
from theorychk.io import layer_field
from theorychk.network import Layer, Network, parse_activation

if TYPE_CHECKING:
    from theorychk.io import ModelSelection

FORMAT = "theorychk-network"
VERSION = 2
#: Versions this reader reads (1: fully connected only; 2: adds ``conv{i}``).
READABLE = (1, 2)


def write(net: Network, path: str | Path) -> Path:
    path = Path(path)
    has_conv = any(layer.conv is not None for layer in net.layers)
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION if has_conv else 1),
        "n_layers": np.array(net.depth),
    }
    if net.name:
        arrays["name"] = np.array(net.name)
    for i, layer in enumerate(net.layers):
        dtype = np.dtype(layer.dtype)
        bias = layer.bias
        if layer.conv is None:
            arrays[f"W{i}"] = layer.weight.astype(dtype)
        else:
            arrays[f"W{i}"] = layer.conv.kernel.astype(dtype)
            arrays[f"conv{i}"] = np.array(json.dumps(layer.conv.geometry()))
            per_channel = bias.reshape(layer.conv.out_shape[0], -1)
            if np.all(per_channel == per_channel[:, :1]):
                bias = per_channel[:, 0]
        if layer.has_bias:
            arrays[f"b{i}"] = bias.astype(dtype)
        arrays[f"act{i}"] = np.array(layer.activation.spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:  # a file object keeps numpy from appending ".npz"
        np.savez(fh, **arrays)
    return path


def read(path: Path, sel: ModelSelection) -> Network:
    if sel.layers is not None:
        raise InvalidInput(f"layers selects state_dict entries; {path.name} is a .npz network (drop --layers)",
                           argument="layers", got=sel.layers)
    try:
        with np.load(path, allow_pickle=False) as data:
            files = {key: data[key] for key in data.files}
    except ValueError as exc:
        if "pickle" not in str(exc):
            raise InvalidInput(f"model file {path} is not a readable .npz archive ({exc})",
                               argument="path", got=str(path)) from None
        # numpy read a non-zip file as a pickle and suggests unpickling it: never the right advice
        raise InvalidInput(f"model file {path} is not a readable .npz archive (not a zip file: truncated, or "
                           "another format with an .npz name?)", argument="path", got=str(path)) from None
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InvalidInput(f"model file {path} is not a readable .npz archive ({type(exc).__name__}: {exc})",
                           argument="path", got=str(path)) from None
    if "format" not in files or str(files["format"]) != FORMAT:
        raise InvalidInput(f"model file {path} is an .npz but not a theorychk network (no format={FORMAT!r} entry)",
                           argument="format", got=str(files["format"]) if "format" in files else None)
    version = int(files.get("version", -1))
    if version not in READABLE:
        raise InvalidInput(f"model file {path} has schema version {version}; this theorychk reads "
                           f"{' and '.join(map(str, READABLE))}", argument="version", got=version)
    n_layers = int(files["n_layers"])
    if n_layers < 1:
        raise InvalidInput(f"model file {path} declares {n_layers} layers; need at least one",
                           argument="n_layers", got=n_layers)
    missing = [key for i in range(n_layers) for key in (f"W{i}", f"act{i}") if key not in files]
    if missing:
        raise InvalidInput(f"model file {path} is missing entries {', '.join(missing)}", argument=missing[0],
                           got=None)
    stored = [parse_activation(str(files[f"act{i}"])) for i in range(n_layers)]
    acts = sel.activations_for(n_layers, stored, path.name)
    layers = []
    for i in range(n_layers):
        try:
            weight = files[f"W{i}"]
            if f"conv{i}" in files:
                if version < 2:
                    raise InvalidInput(f"entry conv{i} needs schema version 2; the file says {version}",
                                       argument="version", got=version)
                try:
                    geometry = json.loads(str(files[f"conv{i}"]))
                except json.JSONDecodeError as exc:
                    raise InvalidInput(f"conv{i} is not JSON ({exc})", argument=f"conv{i}",
                                       got=str(files[f"conv{i}"])) from None
                if not isinstance(geometry, dict):
                    raise InvalidInput(f"conv{i} must be a JSON object; got {type(geometry).__name__}",
                                       argument=f"conv{i}", got=geometry)
                weight = Conv.from_geometry(weight, geometry)
            layers.append(Layer(weight, files.get(f"b{i}"), acts[i]))
        except InvalidInput as exc:
            raise InvalidInput(f"model file {path}, layer {i}: {exc}", argument=layer_field(i, exc.argument),
                               got=exc.got) from None
    name = str(files["name"]) if "name" in files else path.stem
    try:
        return Network(tuple(layers), name=name)
    except InvalidInput as exc:
        raise InvalidInput(f"model file {path}: {exc}", argument=exc.argument, got=exc.got) from None
