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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from theorychk.errors import InvalidInput, unknown_name
from theorychk.network import Activation, Network, parse_activation

__all__ = ["ModelSelection", "load_network", "save_network", "export_onnx", "READERS"]


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
                raise InvalidInput(f"layers must be a comma-separated list of names; got {','.join(layers)!r}")
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
                    f"or one per layer: --activation relu,relu,sigmoid)"
                )
            acts = list(stored)
        elif len(self.activation) == 1:
            acts = [self.activation[0]] * n_layers
        elif len(self.activation) == n_layers:
            acts = list(self.activation)
        else:
            raise InvalidInput(
                f"activation must name one activation or one per layer ({n_layers}); got {len(self.activation)}"
            )
        if self.final_activation is not None:
            acts[-1] = self.final_activation
        return acts


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


READERS: dict[str, Reader] = {
    ".npz": _read_npz,
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
    """Load a generator from ``.npz``, a PyTorch state_dict (``.pt``/``.pth``), ONNX, or ``zoo:NAME``.

    Examples
    --------
    >>> net = load_network("zoo:vae-relu")
    >>> net.widths, [a.spec for a in net.activations]
    ((4, 32, 64), ['relu', 'sigmoid'])
    """
    sel = ModelSelection.build(layers=layers, activation=activation, final_activation=final_activation)
    text = str(path)
    if text.startswith("zoo:"):
        from theorychk import zoo

        return _read_npz(zoo.path(text[4:]), sel)
    p = Path(text)
    suffix = p.suffix.lower()
    if suffix not in READERS:
        raise unknown_name("model file extension", suffix or "(none)", READERS)
    if not p.exists():
        raise InvalidInput(f"model file not found: {text}")
    if not p.is_file():
        raise InvalidInput(f"model path is not a file: {text}")
    return READERS[suffix](p, sel)


def save_network(net: Network, path: str | Path) -> Path:
    """Write ``net`` as ``.npz`` in the documented schema (:mod:`theorychk.io.npz`)."""
    from theorychk.io import npz

    return npz.write(net, Path(path))


def export_onnx(net: Network, path: str | Path) -> Path:
    """Write ``net`` as ONNX in the form verifiers read (Gemm transB=1, ``[1, n]`` float32, opset 13)."""
    from theorychk.io import onnx as onnx_io

    return onnx_io.write(net, Path(path))
