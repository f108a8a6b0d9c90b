"""Validation of matrix arguments, once, at the boundary of every invariant."""

from __future__ import annotations

import numpy as np

from theorychk.errors import InvalidInput

_EXACT_INT_LIMIT = 2**53


def as_matrix(a: object, name: str = "matrix") -> np.ndarray:
    """Validate ``a`` and return it as a read-only 2-D array of exact numbers.

    Float input is widened exactly to float64. Integer input stays integer (``int64``, or
    ``object`` holding Python ints when an entry is beyond 2**53 — float64 would round those,
    and a float rank decision on them is wrong; the exact kernel reads Python ints directly).
    Zero rows or columns are allowed: each invariant documents its value on them.
    """
    if hasattr(a, "weight") and hasattr(a, "activation"):  # a Layer
        a = a.weight
    arr = np.asarray(a)
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if arr.dtype == object:
        try:
            ints = [[int(x) for x in row] for row in arr.tolist()] if arr.ndim == 2 else None
        except (TypeError, ValueError):
            ints = None
        if ints is None or any(int(x) != x for row in arr.tolist() for x in row):
            raise InvalidInput(f"{name} must hold numbers (float or integer); got dtype object",
                               argument=name, got=arr.dtype)
    elif not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise InvalidInput(f"{name} must be a real numeric array; got dtype {arr.dtype}",
                           argument=name, got=arr.dtype)
    if arr.ndim != 2:
        raise InvalidInput(f"{name} must be 2-D; got shape {arr.shape}", argument=name, got=arr.shape)
    if np.issubdtype(arr.dtype, np.floating):
        arr = np.array(arr, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
            raise InvalidInput(f"{name} must be finite; got {arr[bad]} at index {bad}",
                               argument=name, got=arr[bad])
    elif arr.dtype != object:
        big = arr.size and int(np.max(np.abs(arr.astype(object)))) > _EXACT_INT_LIMIT
        arr = np.array(arr, dtype=object if big else np.int64)
    else:
        arr = np.array([[int(x) for x in row] for row in arr.tolist()], dtype=object).reshape(arr.shape)
    arr.setflags(write=False)
    return arr


def check_count(value: object, name: str, *, low: int, high: int) -> int:
    """An integer parameter (``s``, ``m``) in ``[low, high]``, or an error naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidInput(f"{name} must be an integer; got {value!r}", argument=name, got=value)
    if not low <= int(value) <= high:
        raise InvalidInput(f"{name} must be between {low} and {high} for this matrix; got {value}",
                           argument=name, got=value)
    return int(value)
