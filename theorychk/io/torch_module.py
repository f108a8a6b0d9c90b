"""Generators from PyTorch modules, or from a state_dict plus a small architecture spec.

Two ways in, one builder:

* :func:`from_module` (needs torch): an ``nn.Sequential`` -- nested ones too -- of ``Linear``,
  ``Conv2d``, ``ConvTranspose2d``, ``BatchNorm1d``/``BatchNorm2d``, ``ReLU``, ``LeakyReLU``,
  ``Tanh``, ``Sigmoid``, ``Identity``, ``Dropout``, ``Unflatten`` and ``Flatten``, read from the
  module object itself (no export step).
* :func:`from_state_dict` (torch-free): the same layers described by an **architecture spec**
  (JSON, below), with the numbers from a mapping of arrays keyed as in ``model.state_dict()``.
  :func:`read` is the model-file reader for a spec file (``.json``): it names the state_dict file,
  which is read with torch (``.pt``/``.pth``/``.bin``, as :mod:`theorychk.io.pytorch` reads
  them) or without it (``.npz`` holding the state_dict's arrays under their keys).

The architecture spec
---------------------
::

    {
      "format": "theorychk-architecture",
      "state_dict": "dcgan_G.pt",            # path relative to the spec file
      "latent_shape": [100, 1, 1],           # optional: default [in_features] for a Linear first,
                                             #   [in_channels, 1, 1] for a convolution first, the
                                             #   product of the sizes for an Unflatten first
      "layers": [                            # in forward order; "name" is the state_dict prefix
        {"type": "ConvTranspose2d", "name": "main.0", "stride": 1, "padding": 0},
        {"type": "BatchNorm2d", "name": "main.1", "eps": 1e-5},
        {"type": "ReLU"},
        {"type": "ConvTranspose2d", "name": "main.3", "stride": 2, "padding": 1,
         "output_padding": 0, "dilation": 1, "groups": 1},
        {"type": "Tanh"}
      ]
    }

Entry types and their keys (defaults are torch's): ``Linear`` (``name``); ``Conv2d`` (``name``,
``stride`` 1, ``padding`` 0 -- an int, a pair, or ``"same"``/``"valid"`` --, ``dilation`` 1,
``groups`` 1); ``ConvTranspose2d`` (the same, plus ``output_padding`` 0; no ``"same"``);
``BatchNorm1d``/``BatchNorm2d`` (``name``, ``eps`` 1e-5; folded into the affine layer right
before it, per channel); ``ReLU``; ``LeakyReLU`` (``negative_slope`` 0.01); ``Tanh``;
``Sigmoid``; ``Identity`` and ``Dropout`` (no-ops at inference); ``Unflatten`` (``sizes``, e.g.
``[8, 4, 4]``: the running vector becomes a ``C x H x W`` map) and ``Flatten``. Kernel sizes and
channel counts come from the arrays. Every affine entry starts a layer; the activation after it
ends it (``identity`` if none). Anything else is one :class:`~theorychk.errors.InvalidInput`
naming the entry.

Numbers are kept as stored (a float32 state_dict gives float32 layers); a folded batch norm
makes a float64 layer. The batch norm is folded with its running statistics, as in ``eval()``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from theorychk.conv import Conv
from theorychk.errors import InvalidInput
from theorychk.network import Activation, Identity, Layer, LeakyReLU, Network, ReLU, Sigmoid, Tanh, fold_batch_norm

if TYPE_CHECKING:
    from theorychk.io import ModelSelection

__all__ = ["from_module", "from_state_dict", "read", "SPEC_FORMAT", "SUPPORTED"]

SPEC_FORMAT = "theorychk-architecture"
_AFFINE = ("Linear", "Conv2d", "ConvTranspose2d")
_NORMS = ("BatchNorm1d", "BatchNorm2d")
_ACTS = ("ReLU", "LeakyReLU", "Tanh", "Sigmoid")
_NOOPS = ("Identity", "Dropout")
_SHAPES = ("Unflatten", "Flatten")
SUPPORTED = (*_AFFINE, *_NORMS, *_ACTS, *_NOOPS, *_SHAPES)
_KEYS = {
    "Linear": {"name"},
    "Conv2d": {"name", "stride", "padding", "dilation", "groups"},
    "ConvTranspose2d": {"name", "stride", "padding", "output_padding", "dilation", "groups"},
    "BatchNorm1d": {"name", "eps"},
    "BatchNorm2d": {"name", "eps"},
    "LeakyReLU": {"negative_slope"},
    "Unflatten": {"sizes"},
}


def from_state_dict(
    arrays: Mapping[str, Any],
    spec: Mapping[str, Any],
    *,
    sel: ModelSelection | None = None,
    name: str = "",
    source: str = "architecture spec",
) -> Network:
    """Build the generator the architecture ``spec`` describes from the state_dict ``arrays`` (no torch).

    Examples
    --------
    >>> import numpy as np
    >>> arrays = {"0.weight": np.ones((8, 2), np.float32), "2.weight": np.ones((2, 1, 3, 3), np.float32)}
    >>> spec = {"layers": [{"type": "Linear", "name": "0"}, {"type": "ReLU"},
    ...                    {"type": "Unflatten", "sizes": [2, 2, 2]},
    ...                    {"type": "ConvTranspose2d", "name": "2", "stride": 2}]}
    >>> net = from_state_dict(arrays, spec)
    >>> net.widths, [layer.kind for layer in net.layers]
    ((2, 8, 25), ['linear', 'conv_transpose'])
    """
    from theorychk.io import ModelSelection

    if not isinstance(spec, Mapping):
        raise InvalidInput(f"{source} must be a JSON object; got {type(spec).__name__}", argument="spec",
                           got=type(spec).__name__)
    entries = spec.get("layers")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, Mapping) for e in entries):
        raise InvalidInput(f"{source}: 'layers' must be a non-empty list of objects; got {entries!r}",
                           argument="layers", got=entries)
    builder = _Builder(arrays, source)
    shape = builder.latent_shape(spec.get("latent_shape"), entries[0])
    for index, entry in enumerate(entries):
        shape = builder.step(index, entry, shape)
    pending = builder.finish()
    sel = sel or ModelSelection()
    acts = sel.activations_for(len(pending), [p[2] or Identity() for p in pending], source)
    layers = []
    for i, ((weight, bias, _, where, prefix), act) in enumerate(zip(pending, acts, strict=True)):
        try:
            layers.append(Layer(weight, bias, act))
        except InvalidInput as exc:
            # weight and bias are the state_dict entries PREFIX.weight / PREFIX.bias (maybe folded)
            field = f"{prefix}.{exc.argument}" if exc.argument in ("weight", "bias") else exc.argument
            raise InvalidInput(f"{source}: layer {i} ({where}): {exc}", argument=field, got=exc.got) from None
    try:
        return Network(tuple(layers), name=name)
    except InvalidInput as exc:
        raise InvalidInput(f"{source}: {exc}", argument=exc.argument, got=exc.got) from None


class _Builder:
    """The layer under construction and the running shape (``(n,)`` or ``(C, H, W)``).

    Its errors name the spec's field as the JSON has it (``layers[3].stride``, ``latent_shape``)
    or the state_dict entry (``main.0.weight``).
    """

    def __init__(self, arrays: Mapping[str, Any], source: str) -> None:
        self.arrays, self.source = arrays, source
        self.done: list[list[Any]] = []
        self.current: list[Any] | None = None  # [weight or Conv, bias, activation, where, state_dict prefix]
        self.field = "layers"  # the spec entry being read, as a JSON path: layers[INDEX]

    def fail(self, message: str, *, argument: str, got: Any) -> InvalidInput:
        return InvalidInput(f"{self.source}: {message}", argument=argument, got=got)

    def array(self, key: str, where: str) -> np.ndarray:
        if key not in self.arrays:
            close = [k for k in self.arrays if k.rsplit(".", 1)[-1] == key.rsplit(".", 1)[-1]][:8]
            raise self.fail(f"{where} needs state_dict entry {key!r}, which is missing (entries like it: "
                            f"{', '.join(close) or 'none'})", argument=key, got=None)
        value = self.arrays[key]
        if hasattr(value, "detach"):
            value = value.detach().cpu()
            if str(value.dtype) == "torch.bfloat16":
                value = value.float()  # exact: every bfloat16 number is a float32 number
            value = value.numpy()
        return np.asarray(value)

    def latent_shape(self, given: Any, first: Mapping[str, Any]) -> tuple[int, ...]:
        if given is not None:
            ok = isinstance(given, list) and len(given) in (1, 3) and all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in given)
            if not ok:
                raise self.fail(f"latent_shape must be [n] or [C, H, W] of positive ints; got {given!r}",
                                argument="latent_shape", got=given)
            return tuple(given)
        kind = first.get("type")
        sizes = first.get("sizes")
        if kind == "Unflatten" and isinstance(sizes, list) and all(isinstance(v, int) and v > 0 for v in sizes):
            return (math.prod(sizes),)
        if kind not in _AFFINE or not isinstance(first.get("name"), str):
            raise self.fail("latent_shape is needed when the first entry is not a Linear, Conv2d, ConvTranspose2d "
                            "or Unflatten", argument="latent_shape", got=None)
        weight = self.array(f"{first['name']}.weight", f"entry 0 ({kind} {first['name']!r})")
        if kind == "Linear":
            return (int(weight.shape[-1]),)
        groups = first.get("groups", 1)
        c_in = weight.shape[0] if kind == "ConvTranspose2d" else weight.shape[1] * (groups if isinstance(groups, int)
                                                                                    else 1)
        return (int(c_in), 1, 1)

    def close(self) -> None:
        if self.current is not None:
            self.done.append(self.current)
            self.current = None

    def finish(self) -> list[list[Any]]:
        self.close()
        if not self.done:
            raise self.fail("the architecture has no Linear, Conv2d or ConvTranspose2d entry",
                            argument="layers", got=None)
        return self.done

    def step(self, index: int, entry: Mapping[str, Any], shape: tuple[int, ...]) -> tuple[int, ...]:
        kind = entry.get("type")
        where = f"entry {index} ({kind})"
        self.field = f"layers[{index}]"
        if kind not in SUPPORTED:
            raise self.fail(f"entry {index} has type {kind!r}; supported: {', '.join(SUPPORTED)}",
                            argument=f"{self.field}.type", got=kind)
        extra = sorted(set(entry) - {"type"} - _KEYS.get(kind, set()))
        if extra:
            raise self.fail(f"{where} has unknown key(s) {', '.join(map(repr, extra))}; "
                            f"valid: {', '.join(sorted(_KEYS.get(kind, set()))) or 'none'}",
                            argument=f"{self.field}.{extra[0]}", got=entry[extra[0]])
        if kind in _AFFINE or kind in _NORMS:
            if not isinstance(entry.get("name"), str):
                raise self.fail(f"{where} needs 'name', its state_dict prefix (e.g. 'main.0')",
                                argument=f"{self.field}.name", got=entry.get("name"))
            where = f"entry {index} ({kind} {entry['name']!r})"
        if kind == "Linear":
            return self._linear(entry, shape, where)
        if kind in ("Conv2d", "ConvTranspose2d"):
            return self._conv(entry, shape, where, transposed=kind == "ConvTranspose2d")
        if kind in _NORMS:
            self._batch_norm(entry, shape, where)
            return shape
        if kind in _ACTS:
            if self.current is None or self.current[2] is not None:
                raise self.fail(f"{where} does not follow an affine layer; theorychk reads layers of the form "
                                f"activation(W x + b)", argument=f"{self.field}.type", got=kind)
            self.current[2] = self._activation(kind, entry, where)
            return shape
        if kind == "Unflatten":
            sizes = entry.get("sizes")
            ok = isinstance(sizes, list) and sizes and all(isinstance(v, int) and v > 0 for v in sizes)
            if not ok or math.prod(sizes) != math.prod(shape):
                raise self.fail(f"{where}: sizes must be positive ints with {math.prod(shape)} values in all "
                                f"(the running shape is {list(shape)}); got {sizes!r}",
                                argument=f"{self.field}.sizes", got=sizes)
            return tuple(sizes)
        if kind == "Flatten":
            return (math.prod(shape),)
        return shape  # Identity, Dropout

    def _linear(self, entry: Mapping[str, Any], shape: tuple[int, ...], where: str) -> tuple[int, ...]:
        weight = self.array(f"{entry['name']}.weight", where)
        if weight.ndim != 2:
            raise self.fail(f"{where}: weight must be 2-D (out_features, in_features); got shape {weight.shape}",
                            argument=f"{entry['name']}.weight", got=weight.shape)
        if len(shape) != 1 or weight.shape[1] != shape[0]:
            raise self.fail(f"{where} takes {weight.shape[1]} values but the running shape is {list(shape)}"
                            + ("; add a Flatten entry before it" if len(shape) != 1 else ""),
                            argument=f"{entry['name']}.weight", got=weight.shape)
        self.close()
        bias_key = f"{entry['name']}.bias"
        self.current = [weight, self.array(bias_key, where) if bias_key in self.arrays else None, None, where,
                        entry["name"]]
        return (int(weight.shape[0]),)

    def _conv(self, entry: Mapping[str, Any], shape: tuple[int, ...], where: str, *, transposed: bool
              ) -> tuple[int, ...]:
        kernel = self.array(f"{entry['name']}.weight", where)
        if len(shape) != 3:
            raise self.fail(f"{where} needs a C x H x W map but the running shape is {list(shape)}; add an "
                            f"Unflatten entry before it", argument=self.field, got=list(shape))
        padding = entry.get("padding", 0)
        dilation = entry.get("dilation", 1)
        if isinstance(padding, str):
            padding = _string_padding(padding, kernel, dilation, entry.get("stride", 1), transposed,
                                      lambda m: self.fail(f"{where}: {m}", argument=f"{self.field}.padding",
                                                          got=padding))
        try:
            conv = Conv(kernel, shape, stride=_pair_of(entry.get("stride", 1)), padding=_pair_of(padding),
                        output_padding=_pair_of(entry.get("output_padding", 0)), dilation=_pair_of(dilation),
                        groups=entry.get("groups", 1), transposed=transposed)
        except InvalidInput as exc:
            # Conv's kernel is the state_dict entry NAME.weight, its in_shape the running shape (this
            # entry as a whole); its other arguments are this entry's keys
            field = {"kernel": f"{entry['name']}.weight", "in_shape": self.field}.get(
                exc.argument, f"{self.field}.{exc.argument}")
            raise self.fail(f"{where}: {exc}", argument=field, got=exc.got) from None
        self.close()
        bias_key = f"{entry['name']}.bias"
        self.current = [conv, self.array(bias_key, where) if bias_key in self.arrays else None, None, where,
                        entry["name"]]
        return conv.out_shape

    def _batch_norm(self, entry: Mapping[str, Any], shape: tuple[int, ...], where: str) -> None:
        if self.current is None or self.current[2] is not None:
            raise self.fail(f"{where} does not follow an affine layer; theorychk folds batch norm only into the "
                            f"affine layer right before it (before the activation)",
                            argument=f"{self.field}.type", got=entry.get("type"))
        eps = entry.get("eps", 1e-5)
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not math.isfinite(eps) or eps < 0:
            raise self.fail(f"{where}: eps must be a finite number >= 0; got {eps!r}",
                            argument=f"{self.field}.eps", got=eps)
        channels = shape[0]
        prefix = entry["name"]
        params = {}
        for leaf, key in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "mean"), ("running_var", "var")):
            full = f"{prefix}.{leaf}"
            if full in self.arrays:
                params[key] = self.array(full, where).reshape(-1).astype(np.float64)
            elif leaf in ("weight", "bias"):  # affine=False: scale 1, shift 0
                params[key] = np.ones(channels) if leaf == "weight" else np.zeros(channels)
            else:
                raise self.fail(f"{where} has no {full!r}: a batch norm without running statistics "
                                f"(track_running_stats=False) cannot be folded", argument=full, got=None)
        weight, bias = self.current[0], self.current[1]
        if not isinstance(weight, Conv) and len(shape) == 3:
            # A Linear unflattened to C x H x W: each channel's numbers apply to its H*W units.
            per = shape[1] * shape[2]
            params = {key: np.repeat(value, per) for key, value in params.items()}
        try:
            self.current[0], self.current[1] = fold_batch_norm(weight, bias, eps=float(eps), **params)
        except InvalidInput as exc:
            leaf = {"gamma": "weight", "beta": "bias", "mean": "running_mean", "var": "running_var"}
            field = f"{prefix}.{leaf[exc.argument]}" if exc.argument in leaf else f"{self.current[4]}.{exc.argument}"
            raise self.fail(f"{where}: {exc}", argument=field, got=exc.got) from None

    def _activation(self, kind: str, entry: Mapping[str, Any], where: str) -> Activation:
        if kind == "LeakyReLU":
            slope = entry.get("negative_slope", 0.01)
            if slope == 0:
                return ReLU()
            try:
                return LeakyReLU(slope)
            except InvalidInput as exc:
                raise self.fail(f"{where}: {exc}",
                                argument=f"{self.field}.negative_slope", got=slope) from None
        return {"ReLU": ReLU, "Tanh": Tanh, "Sigmoid": Sigmoid}[kind]()


def _pair_of(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _string_padding(text: str, kernel: np.ndarray, dilation: Any, stride: Any, transposed: bool, fail: Any) -> Any:
    """torch's ``padding="valid"`` / ``"same"`` (stride 1) as explicit (top, left, bottom, right)."""
    if text == "valid":
        return 0
    if text != "same" or transposed:
        raise fail(f"padding must be an int, a pair, or 'valid'/'same' (Conv2d only); got {text!r}")
    if stride not in (1, [1, 1], (1, 1)):
        raise fail("padding='same' needs stride 1 (as in torch)")
    d = (dilation, dilation) if isinstance(dilation, int) else tuple(dilation)
    total = [d[i] * (kernel.shape[2 + i] - 1) for i in range(2)]
    return (total[0] // 2, total[1] // 2, total[0] - total[0] // 2, total[1] - total[1] // 2)


# --------------------------------------------------------------------------------------------
# From a module
# --------------------------------------------------------------------------------------------


def from_module(module: Any, *, latent_shape: Sequence[int] | None = None, name: str = "") -> Network:
    """Read an ``nn.Sequential`` generator (see the module docstring for the layers read).

    The module's own numbers are used as stored; batch norms are folded with their running
    statistics (as in ``eval()``, whatever the module's ``training`` flag). ``latent_shape``
    defaults as in the architecture spec (``[in_channels, 1, 1]`` for a convolution first, as in
    DCGAN).

    Examples
    --------
    >>> import torch
    >>> g = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.ReLU(), torch.nn.Unflatten(1, (4, 2, 2)),
    ...                         torch.nn.ConvTranspose2d(4, 1, 4, stride=2, padding=1), torch.nn.Tanh())
    >>> net = from_module(g)
    >>> net.widths, [layer.kind for layer in net.layers]
    ((3, 16, 16), ['linear', 'conv_transpose'])
    """
    try:
        import torch
    except ImportError:
        from theorychk.errors import MissingDependency

        raise MissingDependency("from_module needs torch; install it with pip install 'theorychk[torch]'") from None
    if not isinstance(module, torch.nn.Sequential):
        raise InvalidInput(f"from_module reads an nn.Sequential (nested ones too); got {type(module).__name__}",
                           argument="module", got=type(module).__name__)
    entries, arrays = [], {}
    for qualified, child in module.named_modules():
        if isinstance(child, torch.nn.Sequential):
            continue
        if any(True for _ in child.children()):
            raise InvalidInput(f"from_module: module {qualified!r} is a {type(child).__name__} holding submodules; "
                               f"theorychk reads an nn.Sequential of {', '.join(SUPPORTED)}",
                               argument=qualified, got=type(child).__name__)
        entries.append(_entry(torch, qualified, child))
        for key, value in child.state_dict().items():
            arrays[f"{qualified}.{key}"] = value
    spec = {"layers": entries}
    if latent_shape is not None:
        spec["latent_shape"] = [int(v) for v in latent_shape]
    return from_state_dict(arrays, spec, name=name, source="from_module")


def _entry(torch: Any, name: str, m: Any) -> dict[str, Any]:
    nn = torch.nn
    kind = type(m).__name__
    if isinstance(m, nn.Linear):
        return {"type": "Linear", "name": name}
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        if m.padding_mode != "zeros":
            raise InvalidInput(f"from_module: {kind} {name!r} has padding_mode={m.padding_mode!r}; theorychk reads "
                               f"zero padding", argument=f"{name}.padding_mode", got=m.padding_mode)
        entry = {"type": "ConvTranspose2d" if isinstance(m, nn.ConvTranspose2d) else "Conv2d", "name": name,
                 "stride": list(m.stride), "dilation": list(m.dilation), "groups": m.groups,
                 "padding": m.padding if isinstance(m.padding, str) else list(m.padding)}
        if isinstance(m, nn.ConvTranspose2d):
            entry["output_padding"] = list(m.output_padding)
        return entry
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        if m.running_mean is None:
            raise InvalidInput(f"from_module: {kind} {name!r} keeps no running statistics "
                               f"(track_running_stats=False) and cannot be folded",
                               argument=f"{name}.track_running_stats", got=m.track_running_stats)
        return {"type": kind, "name": name, "eps": float(m.eps)}
    if isinstance(m, nn.LeakyReLU):
        return {"type": "LeakyReLU", "negative_slope": float(m.negative_slope)}
    simple = {nn.ReLU: "ReLU", nn.Tanh: "Tanh", nn.Sigmoid: "Sigmoid", nn.Identity: "Identity", nn.Dropout: "Dropout"}
    for cls, label in simple.items():
        if isinstance(m, cls):
            return {"type": label}
    if isinstance(m, nn.Unflatten):
        if m.dim not in (1, -1):
            raise InvalidInput(f"from_module: Unflatten {name!r} has dim={m.dim}; theorychk reads dim=1 (the "
                               f"features of a (batch, n) tensor)", argument=f"{name}.dim", got=m.dim)
        return {"type": "Unflatten", "sizes": [int(v) for v in m.unflattened_size]}
    if isinstance(m, nn.Flatten):
        if m.start_dim != 1 or m.end_dim != -1:
            raise InvalidInput(f"from_module: Flatten {name!r} has start_dim={m.start_dim}, end_dim={m.end_dim}; "
                               f"theorychk reads Flatten(1, -1)", argument=name, got=(m.start_dim, m.end_dim))
        return {"type": "Flatten"}
    raise InvalidInput(f"from_module: module {name!r} is a {kind}, which theorychk does not read; supported: "
                       f"{', '.join(SUPPORTED)}", argument=name, got=kind)


# --------------------------------------------------------------------------------------------
# The model-file reader for a spec file
# --------------------------------------------------------------------------------------------


def read(path: Path, sel: ModelSelection) -> Network:
    """Read an architecture spec file (``.json``) and the state_dict file it names."""
    if sel.layers is not None:
        raise InvalidInput(f"layers selects state_dict entries; {path.name} is an architecture spec that names "
                           f"its layers (drop --layers)", argument="layers", got=sel.layers)
    try:
        spec = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"model file {path} is not a readable JSON architecture spec ({exc})",
                           argument="path", got=str(path)) from None
    if not isinstance(spec, dict) or spec.get("format") != SPEC_FORMAT:
        raise InvalidInput(f"model file {path} is JSON but not a theorychk architecture spec "
                           f"(no \"format\": {SPEC_FORMAT!r} entry)", argument="format",
                           got=spec.get("format") if isinstance(spec, dict) else type(spec).__name__)
    weights = spec.get("state_dict")
    if not isinstance(weights, str) or not weights:
        raise InvalidInput(f"model file {path}: 'state_dict' must name the weights file; got {weights!r}",
                           argument="state_dict", got=weights)
    target = (path.parent / weights).resolve()
    if not target.is_file():
        raise InvalidInput(f"model file {path}: state_dict file {weights!r} not found (looked at {target})",
                           argument="state_dict", got=weights)
    arrays = _arrays(target)
    return from_state_dict(arrays, spec, sel=sel, name=path.name.split(".")[0], source=f"model file {path}")


def _arrays(target: Path) -> Mapping[str, Any]:
    if target.suffix.lower() == ".npz":  # the torch-free form: the state_dict's arrays under their keys
        try:
            with np.load(target, allow_pickle=False) as data:
                return {key: data[key] for key in data.files}
        except (ValueError, OSError, EOFError) as exc:
            raise InvalidInput(f"state_dict file {target} is not a readable .npz archive ({exc})",
                               argument="state_dict", got=str(target)) from None
    if target.suffix.lower() not in (".pt", ".pth", ".bin"):
        raise InvalidInput(f"state_dict file {target} must be .pt, .pth, .bin (torch) or .npz (arrays); got "
                           f"{target.suffix or '(none)'}", argument="state_dict", got=target.suffix)
    from theorychk.io import pytorch

    torch = pytorch._import_torch()
    return pytorch._state_dict(torch, pytorch._load(torch, target), target)
