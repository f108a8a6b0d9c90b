"""Generators trained by us on scikit-learn's digits, shipped with the package.

Each net is a ``NAME.npz`` (theorychk schema, float32 numbers) with a model card ``NAME.md``
beside it; :mod:`theorychk.zoo.train` is the script that trained them (see the cards for the
exact command and the fingerprint it reproduces). Load one with ``load_network("zoo:NAME")``
or :func:`load`. The small nets output the 8x8 digits (``R^64``); ``vae784-relu`` and
``vae784-leaky`` have the papers' MNIST sizes (``R^20 -> R^784``, trained on the digits upsampled
to 28x28). ``dcgan8`` and ``dcgan28`` are DCGAN-shaped (a linear layer, then stride-2 transposed
convolutions, read as exact sparse layers) for 8x8 and 28x28 outputs.

Examples
--------
>>> from theorychk import zoo
>>> zoo.names()
['aberdam', 'dcgan28', 'dcgan8', 'vae-leaky', 'vae-relu', 'vae784-leaky', 'vae784-relu']
>>> net = zoo.load("vae-relu")
>>> net.widths, net.dtype
((4, 32, 64), 'float32')
>>> zoo.path("vae-rleu")
Traceback (most recent call last):
    ...
theorychk.errors.InvalidInput: unknown zoo net 'vae-rleu'; valid: aberdam, dcgan28, dcgan8, vae-leaky, vae-relu, vae784-leaky, vae784-relu; did you mean 'vae-relu'?
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from theorychk.errors import unknown_name

if TYPE_CHECKING:
    from theorychk.network import Network

__all__ = ["names", "path", "card", "load"]

# The files are read from the package directory itself: load_network needs a real path, so a
# zipped install (where importlib.resources would hand out temporary copies) is not supported.
_DIR = Path(__file__).resolve().parent


def names() -> list[str]:
    """The names of the bundled nets, sorted."""
    return sorted(p.stem for p in _DIR.glob("*.npz"))


def path(name: str) -> Path:
    """The bundled ``.npz`` of net ``name``; an unknown name lists the valid ones."""
    valid = names()
    if name not in valid:
        raise unknown_name("zoo net", name, valid)
    return _DIR / f"{name}.npz"


def card(name: str) -> str:
    """The model card (markdown) of net ``name``: architecture, training, losses, fingerprint."""
    return path(name).with_suffix(".md").read_text(encoding="utf-8")


def load(name: str) -> Network:
    """The net ``name`` as a :class:`~theorychk.network.Network` (same as ``load_network("zoo:NAME")``)."""
    from theorychk.io import load_network

    return load_network(f"zoo:{name}")
