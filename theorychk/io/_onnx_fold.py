"""Constant folding for the ONNX reader: evaluate, with numpy, the nodes whose inputs are all known.

Exporters emit shape arithmetic around the layers -- PyTorch's ``nn.Unflatten`` becomes
``Shape -> Slice -> Mod -> Concat -> Reshape``, ``x.view(-1, C, H, W)`` becomes ``Shape ->
Gather -> Unsqueeze -> Concat``. Once the reader knows the static shape of the running tensor
(``Shape`` of it is a constant), every such node depends only on constants and is evaluated here,
so that the chain reader sees plain ``Reshape(x, <constant>)``. Each folder follows the ONNX
operator's definition (opset 11-21 inputs and attributes); a node whose inputs are not all
constant is left for the chain reader, which names it if it cannot read it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["FOLDERS", "fold", "ONNX_DTYPES"]

#: ONNX TensorProto element types -> numpy dtypes (the ones shape arithmetic uses).
ONNX_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 5: np.int16, 6: np.int32, 7: np.int64, 9: np.bool_,
               10: np.float16, 11: np.float64, 12: np.uint32, 13: np.uint64}


class FoldError(ValueError):
    """A node's constant inputs do not fit its definition (the message says how)."""


def _ints(value: np.ndarray | None) -> list[int] | None:
    return None if value is None else [int(v) for v in np.asarray(value).reshape(-1)]


def _axes(inputs: Sequence[np.ndarray | None], attrs: dict[str, Any], position: int) -> list[int] | None:
    """``axes`` as an input (opset 13+) or an attribute (before)."""
    if len(inputs) > position and inputs[position] is not None:
        return _ints(inputs[position])
    return [int(a) for a in attrs["axes"]] if "axes" in attrs else None


def _shape(x: np.ndarray, attrs: dict[str, Any]) -> np.ndarray:
    dims = np.array(x.shape, dtype=np.int64)
    start, end = int(attrs.get("start", 0)), attrs.get("end")
    return dims[start:] if end is None else dims[start:int(end)]


def _slice(inputs: Sequence[np.ndarray | None], attrs: dict[str, Any]) -> np.ndarray:
    data = inputs[0]
    if len(inputs) > 1:  # opset 10+: starts, ends, axes, steps are inputs
        starts, ends = _ints(inputs[1]), _ints(inputs[2])
        axes = _ints(inputs[3]) if len(inputs) > 3 and inputs[3] is not None else list(range(len(starts)))
        steps = _ints(inputs[4]) if len(inputs) > 4 and inputs[4] is not None else [1] * len(starts)
    else:
        starts, ends = list(attrs["starts"]), list(attrs["ends"])
        axes = list(attrs.get("axes", range(len(starts))))
        steps = [1] * len(starts)
    index = [slice(None)] * data.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        if step == 0:
            raise FoldError("Slice step 0")
        index[axis % data.ndim] = slice(start, end, step)  # Python clamps as ONNX does
    return data[tuple(index)]


def _unsqueeze(inputs: Sequence[np.ndarray | None], attrs: dict[str, Any]) -> np.ndarray:
    x, axes = inputs[0], _axes(inputs, attrs, 1)
    if axes is None:
        raise FoldError("Unsqueeze without axes")
    rank = x.ndim + len(axes)
    out = x
    for axis in sorted(a % rank for a in axes):
        out = np.expand_dims(out, axis)
    return out


def _squeeze(inputs: Sequence[np.ndarray | None], attrs: dict[str, Any]) -> np.ndarray:
    x, axes = inputs[0], _axes(inputs, attrs, 1)
    if axes is None:
        return np.squeeze(x)
    return np.squeeze(x, axis=tuple(a % x.ndim for a in axes))


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer):
        if np.any(b == 0):
            raise FoldError("integer division by zero")
        q = np.abs(a) // np.abs(b)  # ONNX integer Div truncates toward zero (C semantics)
        return (np.sign(a) * np.sign(b) * q).astype(np.result_type(a, b))
    return a / b


def _mod(a: np.ndarray, b: np.ndarray, attrs: dict[str, Any]) -> np.ndarray:
    if np.any(b == 0) and np.issubdtype(b.dtype, np.integer):
        raise FoldError("integer Mod by zero")
    return np.fmod(a, b) if int(attrs.get("fmod", 0)) else np.mod(a, b)


def _reshape(x: np.ndarray, shape: np.ndarray, attrs: dict[str, Any]) -> np.ndarray:
    return x.reshape(resolve_reshape(x.shape, _ints(shape), allowzero=bool(attrs.get("allowzero", 0))))


def resolve_reshape(shape: Sequence[int], dims: Sequence[int], *, allowzero: bool = False) -> tuple[int, ...]:
    """The output shape of ONNX ``Reshape(x of shape, dims)``: 0 copies the input dim, -1 is inferred."""
    out = [shape[i] if d == 0 and not allowzero and i < len(shape) else d for i, d in enumerate(dims)]
    total = int(np.prod(shape, dtype=np.int64))
    if out.count(-1) > 1 or any(d < -1 for d in out):
        raise FoldError(f"Reshape to {list(dims)}: at most one -1 and no other negative dims")
    if -1 in out:
        known = int(np.prod([d for d in out if d != -1], dtype=np.int64))
        if known == 0 or total % known:
            raise FoldError(f"Reshape of {list(shape)} to {list(dims)}: {total} values do not fit")
        out[out.index(-1)] = total // known
    if int(np.prod(out, dtype=np.int64)) != total:
        raise FoldError(f"Reshape of {list(shape)} to {list(dims)}: {total} values do not fit")
    return tuple(int(d) for d in out)


def _constant_of_shape(shape: np.ndarray, attrs: dict[str, Any], to_array: Callable[[Any], np.ndarray]) -> np.ndarray:
    value = to_array(attrs["value"]).reshape(-1) if "value" in attrs else np.zeros(1, np.float32)
    return np.full(tuple(_ints(shape)), value[0], dtype=value.dtype)


def _binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., list[np.ndarray]]:
    return lambda inputs, attrs, _t: [np.asarray(fn(inputs[0], inputs[1]))]


FOLDERS: dict[str, Callable[..., list[np.ndarray]]] = {
    "Identity": lambda i, a, _t: [i[0]],
    "Shape": lambda i, a, _t: [_shape(i[0], a)],
    "Size": lambda i, a, _t: [np.array(i[0].size, dtype=np.int64)],
    "Gather": lambda i, a, _t: [np.take(i[0], i[1], axis=int(a.get("axis", 0)))],
    "Unsqueeze": lambda i, a, _t: [_unsqueeze(i, a)],
    "Squeeze": lambda i, a, _t: [_squeeze(i, a)],
    "Concat": lambda i, a, _t: [np.concatenate([x for x in i if x is not None], axis=int(a["axis"]))],
    "Cast": lambda i, a, _t: [i[0].astype(ONNX_DTYPES[int(a["to"])])],
    "Slice": lambda i, a, _t: [_slice(i, a)],
    "ConstantOfShape": lambda i, a, t: [_constant_of_shape(i[0], a, t)],
    "Reshape": lambda i, a, _t: [_reshape(i[0], i[1], a)],
    "Expand": lambda i, a, _t: [np.broadcast_to(i[0], np.broadcast_shapes(i[0].shape, tuple(_ints(i[1])))).copy()],
    "Range": lambda i, a, _t: [np.arange(i[0].item(), i[1].item(), i[2].item()).astype(i[0].dtype)],
    "Where": lambda i, a, _t: [np.where(i[0], i[1], i[2])],
    "Mod": lambda i, a, _t: [_mod(i[0], i[1], a)],
    "Div": _binary(_div),
    "Add": _binary(np.add),
    "Sub": _binary(np.subtract),
    "Mul": _binary(np.multiply),
    "Min": lambda i, a, _t: [np.minimum.reduce([np.asarray(x) for x in i])] if len(i) > 1 else [i[0]],
    "Max": lambda i, a, _t: [np.maximum.reduce([np.asarray(x) for x in i])] if len(i) > 1 else [i[0]],
    "Equal": _binary(np.equal),
    "Less": _binary(np.less),
    "Greater": _binary(np.greater),
    "Not": lambda i, a, _t: [np.logical_not(i[0])],
    "Neg": lambda i, a, _t: [np.negative(i[0])],
    "Abs": lambda i, a, _t: [np.abs(i[0])],
    "Floor": lambda i, a, _t: [np.floor(i[0])],
    "Ceil": lambda i, a, _t: [np.ceil(i[0])],
    "Transpose": lambda i, a, _t: [np.transpose(i[0], a.get("perm"))],
}


def fold(op: str, inputs: Sequence[np.ndarray | None], attrs: dict[str, Any],
         to_array: Callable[[Any], np.ndarray]) -> list[np.ndarray]:
    """Evaluate one node of type ``op`` on constant ``inputs`` (``None`` for an omitted optional one)."""
    try:
        with np.errstate(all="ignore"):
            return [np.asarray(v) for v in FOLDERS[op](list(inputs), attrs, to_array)]
    except FoldError:
        raise
    except (ValueError, IndexError, TypeError, KeyError, AttributeError) as exc:
        raise FoldError(f"{type(exc).__name__}: {exc}") from None
