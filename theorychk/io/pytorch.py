"""Reading PyTorch state_dicts (``.pt``, ``.pth``, ``.bin``) into a :class:`~theorychk.network.Network`.

What is read
------------
``torch.load(path, map_location="cpu", weights_only=True)``: both the zip format (the default
since torch 1.6) and the legacy pickle format (``_use_new_zipfile_serialization=False``). Only
tensors, containers and plain numbers are unpickled, never arbitrary objects, so a whole
``nn.Module`` saved with ``torch.save(model, path)`` is refused with a message saying to save
``model.state_dict()`` instead. Torch is an optional dependency (``pip install 'theorychk[torch]'``).

The loaded object may be

* a plain state_dict (a dict whose values include tensors), or
* a checkpoint dict holding one under one of :data:`CHECKPOINT_KEYS` (``"state_dict"``,
  ``"model_state_dict"``, ``"model"``, ``"generator"``, ``"generator_state_dict"``, ``"netG"``,
  ``"decoder"``, ``"decoder_state_dict"``). If several of these keys hold state_dicts the reader
  refuses to guess and says so.

Entries that are not tensors (``"epoch"``, version numbers) are skipped.

Layer names
-----------
An *affine layer* is named by the key prefix before ``.weight`` of a 2-D weight: ``fc3`` for
``fc3.weight``, ``decoder.0`` for ``decoder.0.weight``; its bias is ``<name>.bias`` (absent for
``nn.Linear(..., bias=False)``). A *batch norm* is a prefix with ``.running_mean`` and
``.running_var`` (and, when affine, ``.weight`` and ``.bias``).

``layers=("fc3", "fc4")`` selects the decoder's affine layers, latent side first (a whole VAE also
holds its encoder). ``"fc1+bn1"`` folds the inference-mode batch norm ``bn1`` into ``fc1`` with
:func:`~theorychk.network.fold_batch_norm`; it means ``bn1`` is applied to ``fc1``'s output
*before* the activation. State_dicts do not store ``eps``: it is ``1e-5`` (PyTorch's default)
unless :func:`read` is given ``bn_eps=``.

Without ``layers`` every 2-D ``.weight`` is taken, in stored order, provided their widths chain
(each layer's input width is the previous layer's output width). A batch norm is folded
automatically only when its placement is certain, which a state_dict shows in exactly one case:
an ``nn.Sequential``, whose children are named by index and whose parameter-free children (the
activations) still occupy an index. So batch norm ``P.k`` is folded into affine layer ``P.(k-1)``
(same parent ``P``, consecutive indices: nothing, in particular no activation, sits between
them). Any other batch norm -- named ones such as ``bn1`` after ``fc1`` (the activation may sit
before or after it), or ``P.k`` after ``P.(k-1)`` being an activation -- stops the automatic
reading with a message to pass ``layers``. So does any other layer with a weight (a convolution,
a layer norm), since leaving it out would silently change the network.

Numbers
-------
Weights keep the dtype they were stored in (float16/float32/float64; the arrays handed to
:class:`~theorychk.network.Layer` are the stored numbers). ``bfloat16`` tensors are widened to
float32, which holds every bfloat16 number exactly. A folded layer is float64, since folding makes
new numbers. State_dicts carry no activations: pass ``activation`` (and ``final_activation``).
"""

from __future__ import annotations

import collections
import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from theorychk.errors import InvalidInput, MissingDependency
from theorychk.network import Activation, Layer, Network, fold_batch_norm

if TYPE_CHECKING:
    from theorychk.io import ModelSelection

__all__ = ["read", "CHECKPOINT_KEYS", "BN_EPS"]

#: Keys of a checkpoint dict under which a state_dict is looked for, in the order listed in errors.
CHECKPOINT_KEYS: tuple[str, ...] = (
    "state_dict",
    "model_state_dict",
    "model",
    "generator",
    "generator_state_dict",
    "netG",
    "decoder",
    "decoder_state_dict",
)

#: ``eps`` of ``torch.nn.BatchNorm1d`` by default; a state_dict does not record it.
BN_EPS = 1e-5

_INSTALL_HINT = "pip install 'theorychk[torch]' (or pip install torch==2.13.0)"
_LIST_LIMIT = 40  # names listed in an error before "... and N more"; a big model is not a wall of text


def read(path: Path, sel: ModelSelection, *, bn_eps: float = BN_EPS) -> Network:
    """Read a PyTorch state_dict (or a checkpoint holding one) as a fully connected generator.

    Parameters
    ----------
    path : Path
        A file written by ``torch.save``, zip or legacy format.
    sel : ModelSelection
        ``layers`` names the decoder's affine layers, latent side first (``"fc1+bn1"`` folds a
        batch norm); ``activation`` and ``final_activation`` are required, as a state_dict holds
        none. See the module docstring for the rules.
    bn_eps : float, keyword-only
        ``eps`` of every folded batch norm (state_dicts do not store it).

    Returns
    -------
    Network
        Named after the file's stem.

    Raises
    ------
    MissingDependency
        torch is not installed.
    InvalidInput
        The file is unreadable, is not a state_dict, a layer name is unknown, the widths do not
        chain, or an entry fails validation (the message names the key).

    Examples
    --------
    >>> import pathlib, tempfile, torch
    >>> from theorychk.io import load_network
    >>> model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 4))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "gen.pt"
    ...     torch.save(model.state_dict(), path)
    ...     net = load_network(path, activation="relu", final_activation="identity")
    >>> net.widths, net.dtype
    ((2, 3, 4), 'float32')
    """
    if not (isinstance(bn_eps, (int, float)) and math.isfinite(bn_eps) and bn_eps >= 0):
        raise InvalidInput(f"bn_eps must be a finite number >= 0; got {bn_eps!r}",
                           argument="bn_eps", got=bn_eps)
    torch = _import_torch()
    tensors = _state_dict(torch, _load(torch, path), path)
    model = _Model.scan(tensors, path)
    if sel.layers is None:
        specs = model.automatic()
    else:
        specs = [model.parse_spec(text) for text in sel.layers]
        model.check_chain(specs, hint="")
    acts = sel.activations_for(len(specs), None, path.name)
    layers = tuple(
        model.build(spec, act, torch=torch, bn_eps=float(bn_eps))
        for spec, act in zip(specs, acts, strict=True)
    )
    return Network(layers, name=path.stem)


# --------------------------------------------------------------------------------------------
# Loading the file
# --------------------------------------------------------------------------------------------


def _import_torch() -> Any:
    # Imported per call, not at module import: torch is optional and takes a second to import.
    try:
        import torch
    except ImportError:
        raise MissingDependency(
            f"reading PyTorch files needs torch; install it with {_INSTALL_HINT}"
        ) from None
    return torch


_GLOBAL = re.compile(r"Unsupported global: GLOBAL (\S*)")  # how weights_only names a refused object
_BROKEN = object()  # a pickle GLOBAL that names nothing: the file is damaged
_UNKNOWN = object()  # a pickle GLOBAL outside the modules we may look into
_IDENTIFIER_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


def _load(torch: Any, path: Path) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    # Unpickling a damaged file raises whatever the byte it stops at provokes (EOFError,
    # IndexError, struct.error, RuntimeError, KeyError, UnpicklingError, ...); all of them mean
    # "this file cannot be read", which is the one thing the user needs to hear.
    except Exception as exc:  # noqa: BLE001
        raise _load_error(torch, path, exc) from None


def _load_error(torch: Any, path: Path, exc: Exception) -> InvalidInput:
    if isinstance(exc, OSError):
        return InvalidInput(f"model file {path} could not be read ({type(exc).__name__}: {exc})",
                            argument="path", got=str(path))
    text = str(exc)
    match = _GLOBAL.search(text)
    if match is not None:
        name = match.group(1)
        found = _resolve(torch, name)
        if found is _BROKEN:
            # A truncated pickle stops mid-name ("torch.LongStorag", "collections."): no such object.
            return InvalidInput(
                f"model file {path} is truncated or corrupt (it refers to {name!r}, which does not exist)",
                argument="path", got=str(path),
            )
        if isinstance(found, type) and issubclass(found, torch.nn.Module):
            return InvalidInput(
                f"model file {path} holds a whole pickled nn.Module ({name}), which theorychk does not "
                f"unpickle (it loads tensors only, torch.load(weights_only=True)); save the weights "
                f"with torch.save(model.state_dict(), path) and load that file",
                argument="path", got=str(path),
            )
        return InvalidInput(
            f"model file {path} holds pickled Python objects (it refers to {name}), not only tensors, "
            f"and theorychk does not unpickle objects (torch.load(weights_only=True)); if it is a whole "
            f"model saved with torch.save(model, path), save the weights alone with "
            f"torch.save(model.state_dict(), path)",
            argument="path", got=str(path),
        )
    return InvalidInput(
        f"model file {path} is not a readable PyTorch file; truncated or corrupt? "
        f"(torch.load raised {type(exc).__name__}: {_first_sentence(text)})",
        argument="path", got=str(path),
    )


def _resolve(torch: Any, name: str) -> Any:
    """The object a pickle GLOBAL names, or ``_BROKEN`` if it cannot exist, ``_UNKNOWN`` if unsure.

    Only the modules a valid state_dict pickle refers to (torch, collections) are looked into,
    and only by attribute access on modules already imported: nothing the file names is imported.
    """
    if not _IDENTIFIER_PATH.fullmatch(name):
        return _BROKEN
    head, *rest = name.split(".")
    roots = {"torch": torch, "collections": collections}
    if head not in roots:
        return _UNKNOWN
    obj = roots[head]
    for part in rest:
        try:
            obj = getattr(obj, part)
        except AttributeError:
            return _BROKEN
    return obj


def _first_sentence(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if not line:
        return "the file ended early"
    sentence = line.split(". ", 1)[0].rstrip(".")
    return sentence if len(sentence) <= 200 else sentence[:197] + "..."


def _state_dict(torch: Any, obj: Any, path: Path) -> dict[str, Any]:
    """The tensors of the state_dict in ``obj`` (plain, or under a checkpoint key), in stored order."""
    advice = "save the weights with torch.save(model.state_dict(), path)"
    if not isinstance(obj, Mapping):
        raise InvalidInput(
            f"model file {path} holds a {type(obj).__name__}, not a state_dict (a dict of tensors); {advice}",
            argument="path", got=type(obj).__name__,
        )
    direct = _tensors(torch, obj)
    if direct:
        return direct
    found = {key: _tensors(torch, obj[key]) for key in CHECKPOINT_KEYS if isinstance(obj.get(key), Mapping)}
    found = {key: tensors for key, tensors in found.items() if tensors}
    if len(found) == 1:
        return next(iter(found.values()))
    if len(found) > 1:
        keys = ", ".join(repr(k) for k in found)
        raise InvalidInput(
            f"model file {path} is a checkpoint holding several state_dicts ({keys}); save the "
            f"generator's on its own, e.g. torch.save(checkpoint[{next(iter(found))!r}], path)",
            argument="path", got=list(found),
        )
    top = ", ".join(_limited([repr(k) for k in obj])) or "none"
    raise InvalidInput(
        f"model file {path} holds a dict with no tensors, neither at the top level nor under any of "
        f"the checkpoint keys {', '.join(CHECKPOINT_KEYS)} (its keys: {top}); {advice}",
        argument="path", got=top,
    )


def _tensors(torch: Any, obj: Mapping) -> dict[str, Any]:
    # State_dict keys are strings; other entries (epoch counters, metadata) are bookkeeping.
    return {key: val for key, val in obj.items() if isinstance(key, str) and isinstance(val, torch.Tensor)}


# --------------------------------------------------------------------------------------------
# Finding layers in the state_dict
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """One requested layer: an affine layer and optionally the batch norm folded into it."""

    affine: str
    batch_norm: str | None = None


def _key(prefix: str, leaf: str) -> str:
    return f"{prefix}.{leaf}" if prefix else leaf


def _prefix(key: str) -> tuple[str, str]:
    head, _, leaf = key.rpartition(".")
    return head, leaf


def _label(name: str) -> str:
    # A bare nn.Linear saved alone has keys "weight"/"bias": its prefix is empty.
    return repr(name) if name else "'' (the top level)"


def _seq_index(name: str) -> tuple[str, int] | None:
    """``("decoder", 3)`` for ``"decoder.3"``, ``("", 0)`` for ``"0"``; None for a named child."""
    parent, leaf = _prefix(name)
    return (parent, int(leaf)) if leaf.isdecimal() else None


def _limited(items: list[str]) -> list[str]:
    if len(items) <= _LIST_LIMIT:
        return items
    return [*items[:_LIST_LIMIT], f"... and {len(items) - _LIST_LIMIT} more"]


@dataclass(frozen=True)
class _Model:
    """The state_dict's tensors sorted into affine layers, batch norms and other weighted layers."""

    path: Path
    tensors: dict[str, Any]
    affine: tuple[str, ...]  # prefixes of 2-D .weight entries, stored order
    batch_norms: tuple[str, ...]  # prefixes with .running_mean and .running_var, stored order
    others: tuple[str, ...]  # other prefixes with a .weight (convolutions, layer norms, ...)

    @classmethod
    def scan(cls, tensors: dict[str, Any], path: Path) -> _Model:
        affine: dict[str, None] = {}  # dicts as ordered sets: stored order is the layer order
        batch_norms: dict[str, None] = {}
        for key, val in tensors.items():
            prefix, leaf = _prefix(key)
            if leaf == "weight" and val.dim() == 2:
                affine[prefix] = None
            elif leaf == "running_mean" and _key(prefix, "running_var") in tensors:
                batch_norms[prefix] = None
        others = {
            prefix: None
            for prefix, leaf in map(_prefix, tensors)
            if leaf == "weight" and prefix not in affine and prefix not in batch_norms
        }
        return cls(path, tensors, tuple(affine), tuple(batch_norms), tuple(others))

    # ---- names -------------------------------------------------------------------------
    def shape(self, key: str) -> tuple[int, ...]:
        return tuple(self.tensors[key].shape)

    def available(self) -> str:
        affine = [f"{_label(n)} {self.shape(_key(n, 'weight'))}" for n in self.affine]
        norms = [f"{_label(n)} {self.shape(_key(n, 'running_mean'))}" for n in self.batch_norms]
        return (
            f"affine layers (2-D .weight, shape (n_out, n_in)): {', '.join(_limited(affine)) or 'none'}; "
            f"batch norms: {', '.join(_limited(norms)) or 'none'}"
        )

    def parse_spec(self, text: str) -> _Spec:
        parts = [part.strip() for part in text.split("+")]
        if len(parts) > 2 or not all(parts):
            raise InvalidInput(
                f"layer {text!r} must be an affine layer name, optionally followed by one batch norm "
                f"folded into it, like 'fc1' or 'fc1+bn1'",
                argument="layers", got=text,
            )
        affine, batch_norm = parts[0], (parts[1] if len(parts) == 2 else None)
        if affine in self.batch_norms:
            raise InvalidInput(
                f"layer {affine!r} in {self.path.name} is a batch norm, not an affine layer; fold it "
                f"into the layer whose output it normalises, e.g. {self._fold_example(affine)!r}",
                argument="layers", got=text,
            )
        # A .weight that is not 2-D (a layer norm, a convolution) is still passed on, so that
        # Layer's validation says what arrived ("weight must be 2-D; got shape ...").
        if _key(affine, "weight") not in self.tensors:
            raise self._unknown("layer", affine, self.affine)
        if batch_norm is not None and batch_norm not in self.batch_norms:
            raise self._unknown("batch norm", batch_norm, self.batch_norms)
        return _Spec(affine, batch_norm)

    def _unknown(self, kind: str, name: str, pool: Sequence[str]) -> InvalidInput:
        close = difflib.get_close_matches(name, [n for n in pool if n], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return InvalidInput(f"{kind} {name!r} is not in {self.path.name}; {self.available()}{hint}",
                            argument="layers", got=name)

    # ---- structure ---------------------------------------------------------------------
    def automatic(self) -> list[_Spec]:
        """The specs when the user named no layers: every affine layer, provably placed batch norms."""
        hint = "pass layers (--layers NAME,NAME,...) naming the decoder's affine layers, latent side first"
        if not self.affine:
            keys = ", ".join(_limited([f"{k} {self.shape(k)}" for k in self.tensors])) or "none"
            raise InvalidInput(
                f"{self.path.name} holds no affine layer (no 2-D '.weight' entry); tensors: {keys}",
                argument="path", got=keys,
            )
        if self.others:
            found = ", ".join(_limited([f"{_label(n)} {self.shape(_key(n, 'weight'))}" for n in self.others]))
            raise InvalidInput(
                f"{self.path.name} holds weighted layers that are neither affine layers nor batch "
                f"norms ({found}); theorychk reads fully connected generators, so {hint} (a "
                f"convolutional generator is read with an architecture spec, .json, or from the module: "
                f"theorychk.io.torch_module)",
                argument=_key(self.others[0], "weight"), got=self.shape(_key(self.others[0], "weight")),
            )
        specs = [_Spec(name) for name in self.affine]
        self.check_chain(specs, hint=f"; {hint}")
        folded: dict[str, str] = {}
        for bn in self.batch_norms:
            target = self._sequential_predecessor(bn)
            if target is None:
                raise InvalidInput(
                    f"{self.path.name} holds batch norm {_label(bn)}, and a state_dict does not show "
                    f"whether it acts before or after an activation (it is folded automatically only "
                    f"as child 'P.k' of an nn.Sequential right after affine layer 'P.(k-1)'); {hint}, "
                    f"writing e.g. {self._fold_example(bn)!r} to fold it into the layer whose output "
                    f"it normalises before the activation",
                    argument="layers", got=None,
                )
            folded[target] = bn
        return [_Spec(spec.affine, folded.get(spec.affine)) for spec in specs]

    def _fold_example(self, bn: str) -> str:
        """``"<affine>+<bn>"`` with the affine layer stored last before ``bn``: a plausible example."""
        keys = list(self.tensors)
        first = next(i for i, key in enumerate(keys) if _prefix(key)[0] == bn)
        before = [_prefix(key)[0] for key in keys[:first] if _prefix(key)[0] in self.affine]
        return f"{before[-1] if before else 'LAYER'}+{bn}"

    def _sequential_predecessor(self, bn: str) -> str | None:
        # In an nn.Sequential every child, parameter-free activations included, takes an index;
        # so consecutive indices prove that nothing acts between the affine layer and the norm.
        place = _seq_index(bn)
        if place is None or place[1] == 0:
            return None
        parent, index = place
        target = _key(parent, str(index - 1))
        return target if target in self.affine else None

    def check_chain(self, specs: Sequence[_Spec], *, hint: str) -> None:
        """Raise, naming layers and shapes, unless each layer's input width is the previous output."""
        shapes = [self.shape(_key(spec.affine, "weight")) for spec in specs]
        for i in range(1, len(specs)):
            prev, cur = shapes[i - 1], shapes[i]
            if len(prev) == 2 and len(cur) == 2 and cur[1] != prev[0]:
                listing = ", ".join(
                    _limited([f"{_label(s.affine)} {sh}" for s, sh in zip(specs, shapes, strict=True)])
                )
                raise InvalidInput(
                    f"the layer widths in {self.path.name} do not chain: {_label(specs[i - 1].affine)} "
                    f"outputs {prev[0]} values but {_label(specs[i].affine)} takes {cur[1]} "
                    f"(weights are (n_out, n_in), latent side first: {listing}){hint}",
                    argument=_key(specs[i].affine, "weight"), got=cur,
                )

    # ---- numbers -----------------------------------------------------------------------
    def array(self, key: str, *, torch: Any) -> np.ndarray:
        """The stored numbers of one tensor as a numpy array of the same dtype (bfloat16: float32)."""
        tensor = self.tensors[key].detach().cpu()
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.to(torch.float32)  # exact: every bfloat16 number is a float32 number
        try:
            return tensor.resolve_conj().resolve_neg().numpy()
        except (TypeError, RuntimeError) as exc:
            raise InvalidInput(
                f"{self.path.name}: state_dict entry {key!r} has dtype {tensor.dtype}, which numpy "
                f"cannot hold ({_first_sentence(str(exc))})",
                argument=key, got=str(tensor.dtype),
            ) from None

    def build(self, spec: _Spec, act: Activation, *, torch: Any, bn_eps: float) -> Layer:
        w_key, b_key = _key(spec.affine, "weight"), _key(spec.affine, "bias")
        weight = self.array(w_key, torch=torch)
        bias = self.array(b_key, torch=torch) if b_key in self.tensors else None
        try:
            layer = Layer(weight, bias, act)
        except InvalidInput as exc:
            raise self._entry_error(weight, bias, act, (w_key, b_key), exc) from None
        if spec.batch_norm is None:
            return layer
        params = self._batch_norm(spec, layer.n_out, torch=torch)
        try:
            folded_w, folded_b = fold_batch_norm(weight, bias, **params, eps=bn_eps)
            return Layer(folded_w, folded_b, act)
        except InvalidInput as exc:
            raise InvalidInput(
                f"{self.path.name}: folding batch norm {spec.batch_norm!r} into {spec.affine!r}: {exc}",
                argument=self._fold_field(spec, exc.argument), got=exc.got,
            ) from None

    def _entry_error(
        self,
        weight: np.ndarray,
        bias: np.ndarray | None,
        act: Activation,
        keys: tuple[str, str],
        exc: InvalidInput,
    ) -> InvalidInput:
        # Layer validates weight and bias together; building it from the weight alone tells
        # which of the two entries the message is about.
        key = keys[0]
        if bias is not None:
            try:
                Layer(weight, None, act)
                key = keys[1]
            except InvalidInput:
                pass
        return InvalidInput(f"{self.path.name}: state_dict entry {key!r}: {exc}", argument=key, got=exc.got)

    @staticmethod
    def _fold_field(spec: _Spec, argument: str | None) -> str:
        """The state_dict entry behind an argument of :func:`fold_batch_norm` or of the folded :class:`Layer`."""
        assert spec.batch_norm is not None
        leaf = {"gamma": "weight", "beta": "bias", "mean": "running_mean", "var": "running_var"}
        if argument in leaf:
            return _key(spec.batch_norm, leaf[argument])
        if argument in ("weight", "bias"):
            return _key(spec.affine, argument)
        return argument or spec.batch_norm

    def _batch_norm(self, spec: _Spec, n_out: int, *, torch: Any) -> dict[str, np.ndarray]:
        bn = spec.batch_norm
        assert bn is not None
        # BatchNorm1d(affine=False) stores no weight/bias: the scale is 1 and the shift 0.
        absent = {"weight": np.ones(n_out), "bias": np.zeros(n_out)}
        params = {}
        leaves = {"weight": "gamma", "bias": "beta", "running_mean": "mean", "running_var": "var"}
        for leaf, name in leaves.items():
            key = _key(bn, leaf)
            arr = self.array(key, torch=torch) if key in self.tensors else absent[leaf]
            if arr.shape != (n_out,):
                raise InvalidInput(
                    f"{self.path.name}: state_dict entry {key!r} has shape {arr.shape}, but batch norm "
                    f"{bn!r} is folded into {spec.affine!r}, which outputs {n_out} values",
                    argument=key, got=arr.shape,
                )
            if not np.issubdtype(arr.dtype, np.floating):
                raise InvalidInput(
                    f"{self.path.name}: state_dict entry {key!r} must be floating; got dtype {arr.dtype}",
                    argument=key, got=str(arr.dtype),
                )
            if not np.all(np.isfinite(arr)):
                bad = int(np.flatnonzero(~np.isfinite(arr))[0])
                raise InvalidInput(
                    f"{self.path.name}: state_dict entry {key!r} must be finite; "
                    f"got {arr[bad]} at index {bad}",
                    argument=key, got=float(arr[bad]),
                )
            params[name] = arr
        return params
