"""Reading and writing generators.

:func:`load_network` is the one entry point: it picks the reader from the file's extension (or
the ``zoo:NAME`` prefix), applies the user's model-selection options, and returns a validated
:class:`~theorychk.network.Network`. Readers never return a half-built network: any problem is
an :class:`~theorychk.errors.InvalidInput` naming the argument and what arrived.

Model-selection options (the same on every CLI command that takes a MODEL):

``layers``
    Names of the decoder's affine layers, latent side first (PyTorch state_dicts, where a whole
    VAE holds encoder weights too). ``"fc1+bn1"`` folds the batch norm ``bn1`` into ``fc1``.
``activation``
    One activation for every layer, or a sequence with one per layer (see
    :func:`~theorychk.network.parse_activation`). Required for state_dicts, which carry no
    activations; for ``.npz`` and ONNX it overrides what the file says.
``final_activation``
    The last layer's activation, overriding ``activation`` there.

How a model was read is itself data: :class:`ModelSource` (the source -- an absolute path or
``zoo:NAME`` --, the sha256 of the file's bytes, and the :class:`ModelSelection`) is what a
certificate records so that ``theorychk check CERT`` can re-read the model alone, and
:func:`layer_digests` names each layer's numbers so that a mismatch can say which layer differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from theorychk.errors import InvalidInput, unknown_name
from theorychk.network import Activation, Network, parse_activation

__all__ = [
    "ModelSelection", "ModelSource", "load_network", "save_network", "export_onnx", "file_sha256",
    "layer_digests", "model_path", "READERS", "WRITERS",
]

def layer_field(i: int, argument: str | None) -> str:
    """The ``argument`` of an :class:`InvalidInput` a reader re-raises for layer ``i`` of a model file.

    :class:`~theorychk.network.Layer` names its own parameter (``weight``, ``bias``, ``kernel``,
    ``activation``); inside a model that is the field ``layers[i].weight`` and so on, whatever the
    file calls it. An argument that already names a layer is kept.
    """
    if argument is None:
        return f"layers[{i}]"
    return argument if argument.startswith("layers[") else f"layers[{i}].{argument}"


#: The CLI spelling of each selection option, in the order the CLI lists them.
OPTION_FLAGS = {"layers": "--layers", "activation": "--activation", "final_activation": "--final-activation"}


@dataclass(frozen=True)
class ModelSelection:
    """What the user said about which layers to take and which activations they have."""

    layers: tuple[str, ...] | None = None
    activation: tuple[Activation, ...] | None = None
    final_activation: Activation | None = None

    @classmethod
    def build(
        cls,
        *,
        layers: str | Sequence[str] | None = None,
        activation: str | Activation | Sequence[str | Activation] | None = None,
        final_activation: str | Activation | None = None,
    ) -> ModelSelection:
        if isinstance(layers, str):
            layers = [name.strip() for name in layers.split(",")]
        if layers is not None:
            layers = tuple(layers)
            if not layers or any(not name for name in layers):
                raise InvalidInput(f"layers must be a comma-separated list of names; got {','.join(layers)!r}",
                                   argument="layers", got=layers)
        if isinstance(activation, str):
            activation = [a for a in activation.split(",")]
        if isinstance(activation, Activation):
            activation = [activation]
        acts = None if activation is None else tuple(parse_activation(a) for a in activation)
        final = None if final_activation is None else parse_activation(final_activation)
        return cls(layers=layers, activation=acts, final_activation=final)

    def activations_for(self, n_layers: int, stored: Sequence[Activation] | None, source: str) -> list[Activation]:
        """Resolve the activation of each of ``n_layers`` layers; ``stored`` is what the file says."""
        if self.activation is None:
            if stored is None:
                raise InvalidInput(
                    f"{source} carries no activations; pass activation (e.g. --activation relu, "
                    f"or one per layer: --activation relu,relu,sigmoid)",
                    argument="activation", got=None,
                )
            acts = list(stored)
        elif len(self.activation) == 1:
            acts = [self.activation[0]] * n_layers
        elif len(self.activation) == n_layers:
            acts = list(self.activation)
        else:
            raise InvalidInput(
                f"activation must name one activation or one per layer ({n_layers}); got {len(self.activation)}",
                argument="activation", got=tuple(a.spec for a in self.activation),
            )
        if self.final_activation is not None:
            acts[-1] = self.final_activation
        return acts

    def to_dict(self) -> dict[str, Any]:
        """The options as JSON: ``layers`` / ``activation`` lists, ``final_activation``; ``None`` if not given."""
        return {
            "layers": None if self.layers is None else list(self.layers),
            "activation": None if self.activation is None else [a.spec for a in self.activation],
            "final_activation": None if self.final_activation is None else self.final_activation.spec,
        }

    @classmethod
    def from_dict(cls, data: Any, where: str = "model.reading") -> ModelSelection:
        """Read :meth:`to_dict`'s form back; anything else is an :class:`InvalidInput` naming the field."""
        if not isinstance(data, Mapping):
            raise InvalidInput(f"{where} must be an object; got {type(data).__name__}", argument=where,
                               got=type(data).__name__)
        extra = sorted(set(data) - set(OPTION_FLAGS))
        if extra:
            raise InvalidInput(f"{where} has unknown option(s) {', '.join(map(repr, extra))}; "
                               f"valid: {', '.join(OPTION_FLAGS)}", argument=where, got=extra)
        for key in ("layers", "activation"):
            value = data.get(key)
            listed = isinstance(value, list) and value and all(isinstance(v, str) for v in value)
            if value is not None and not listed:
                raise InvalidInput(f"{where}.{key} must be null or a non-empty list of strings; got {value!r}",
                                   argument=f"{where}.{key}", got=value)
        final = data.get("final_activation")
        if final is not None and not isinstance(final, str):
            raise InvalidInput(f"{where}.final_activation must be null or a string; got {final!r}",
                               argument=f"{where}.final_activation", got=final)
        return cls.build(layers=data.get("layers"), activation=data.get("activation"), final_activation=final)

    def cli_text(self) -> str:
        """The options as the CLI spells them, e.g. ``--layers fc3,fc4 --activation relu``."""
        parts = [f"{OPTION_FLAGS[key]} {','.join(value) if isinstance(value, list) else value}"
                 for key, value in self.to_dict().items() if value is not None]
        return " ".join(parts) or "no model options"

    def differences(self, other: ModelSelection) -> list[str]:
        """Per option that differs: ``"--layers: fc3,fc4 vs fc2,fc4"`` (``self`` first, ``none`` if not given)."""
        mine, theirs = self.to_dict(), other.to_dict()

        def text(value: Any) -> str:
            return "none" if value is None else ",".join(value) if isinstance(value, list) else str(value)

        return [f"{OPTION_FLAGS[key]}: {text(mine[key])} vs {text(theirs[key])}"
                for key in OPTION_FLAGS if mine[key] != theirs[key]]


Reader = Callable[[Path, ModelSelection], Network]


def _read_npz(path: Path, sel: ModelSelection) -> Network:
    from theorychk.io import npz

    return npz.read(path, sel)


def _read_torch(path: Path, sel: ModelSelection) -> Network:
    from theorychk.io import pytorch

    return pytorch.read(path, sel)


def _read_onnx(path: Path, sel: ModelSelection) -> Network:
    from theorychk.io import onnx as onnx_io

    return onnx_io.read(path, sel)


def _read_spec(path: Path, sel: ModelSelection) -> Network:
    from theorychk.io import torch_module

    return torch_module.read(path, sel)


READERS: dict[str, Reader] = {
    ".npz": _read_npz,
    ".json": _read_spec,
    ".pt": _read_torch,
    ".pth": _read_torch,
    ".bin": _read_torch,
    ".onnx": _read_onnx,
}


def load_network(
    path: str | Path,
    *,
    layers: str | Sequence[str] | None = None,
    activation: str | Activation | Sequence[str | Activation] | None = None,
    final_activation: str | Activation | None = None,
) -> Network:
    """Load a generator from ``.npz``, a PyTorch state_dict (``.pt``/``.pth``), ONNX, an architecture
    spec (``.json`` naming a state_dict, :mod:`theorychk.io.torch_module`), or ``zoo:NAME``.

    Examples
    --------
    >>> net = load_network("zoo:vae-relu")
    >>> net.widths, [a.spec for a in net.activations]
    ((4, 32, 64), ['relu', 'sigmoid'])
    """
    sel = ModelSelection.build(layers=layers, activation=activation, final_activation=final_activation)
    p = model_path(path)
    return READERS[p.suffix.lower()](p, sel)


def model_path(model: str | Path) -> Path:
    """The file behind ``model`` (``zoo:NAME`` or a path), checked to exist and to have a reader."""
    text = str(model)
    if text.startswith("zoo:"):
        from theorychk import zoo

        return zoo.path(text[4:])
    p = Path(text)
    suffix = p.suffix.lower()
    if suffix not in READERS:
        raise unknown_name("model file extension", suffix or "(none)", READERS)
    if not p.exists():
        raise InvalidInput(f"model file not found: {text}", argument="path", got=text)
    if not p.is_file():
        raise InvalidInput(f"model path is not a file: {text}", argument="path", got=text)
    return p


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes (hex)."""
    import hashlib  # here, not at start-up: loading OpenSSL costs ~4 ms of every command that reads a model

    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise InvalidInput(f"model file {path} could not be read ({exc.strerror or exc})",
                           argument="path", got=str(path)) from None
    return h.hexdigest()


def layer_digests(net: Network) -> list[str]:
    """Per layer, sha256 of its numbers as stored: shape, dtype, bias or not, weight and bias bytes.

    The activation is left out (the certificate lists activations separately), so that a mismatch
    can say whether a layer's numbers or its activation differ. Together with the activations these
    determine :meth:`Network.fingerprint <theorychk.network.Network.fingerprint>`.
    """
    import hashlib

    digests = []
    for layer in net.layers:
        h = hashlib.sha256(b"theorychk-layer-v1")
        np_dtype = np.dtype(layer.dtype).newbyteorder("<")
        h.update(f"|{layer.n_out}x{layer.n_in}|{layer.dtype}|{layer.has_bias}|".encode())
        h.update(layer.stored_bytes())
        if layer.has_bias:
            h.update(np.ascontiguousarray(layer.bias, dtype=np_dtype).tobytes())
        digests.append(h.hexdigest())
    return digests


@dataclass(frozen=True)
class ModelSource:
    """Where a model was read from and how: what a certificate records to re-read it alone.

    ``source`` is ``zoo:NAME`` or an absolute path; ``sha256`` the hash of the file's bytes when
    it was read (``None`` if not recorded); ``selection`` the reading options.

    Examples
    --------
    >>> src = ModelSource.of("zoo:vae-relu")
    >>> src.source, src.load().widths, src.changed()
    ('zoo:vae-relu', (4, 32, 64), None)
    """

    source: str
    sha256: str | None = None
    selection: ModelSelection = ModelSelection()

    @classmethod
    def of(
        cls,
        model: str | Path,
        *,
        layers: str | Sequence[str] | None = None,
        activation: str | Activation | Sequence[str | Activation] | None = None,
        final_activation: str | Activation | None = None,
    ) -> ModelSource:
        """Record ``model`` (made absolute) with the options, hashing the file as it is now."""
        sel = ModelSelection.build(layers=layers, activation=activation, final_activation=final_activation)
        p = model_path(model)
        text = str(model)
        source = text if text.startswith("zoo:") else str(p.resolve())
        return cls(source, file_sha256(p), sel)

    @property
    def path(self) -> Path:
        """The file (checked to exist and to have a reader)."""
        return model_path(self.source)

    def load(self) -> Network:
        """Read the model with the recorded options."""
        p = self.path
        return READERS[p.suffix.lower()](p, self.selection)

    def changed(self) -> str | None:
        """Why the file is not the one recorded (its bytes hash differently), or ``None``."""
        if self.sha256 is None:
            return None
        now = file_sha256(self.path)
        if now == self.sha256:
            return None
        return (f"model file {self.source} has changed since the certificate was made "
                f"(its sha256 is {now[:16]}..., the certificate records {self.sha256[:16]}...)")

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "source_sha256": self.sha256, "reading": self.selection.to_dict()}


def save_network(net: Network, path: str | Path) -> Path:
    """Write ``net`` as ``.npz`` in the documented schema (:mod:`theorychk.io.npz`)."""
    from theorychk.io import npz

    return npz.write(net, Path(path))


def export_onnx(net: Network, path: str | Path) -> Path:
    """Write ``net`` as ONNX in the form verifiers read (Gemm transB=1, ``[1, n]`` float32, opset 13)."""
    from theorychk.io import onnx as onnx_io

    return onnx_io.write(net, Path(path))


#: Writers by extension (``theorychk convert`` freezes a model into one of these).
WRITERS: dict[str, Callable[[Network, str | Path], Path]] = {".npz": save_network, ".onnx": export_onnx}
