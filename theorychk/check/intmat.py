"""The integer form of a network's layers, shared by every exact check.

Float weights and biases are dyadic rationals. :func:`integer_layers` writes each layer once as
``W = 2**w_exp * Z`` and ``b = 2**b_exp * B`` with integer ``Z``, ``B`` whose common trailing zero
bits are stripped (at least one odd entry; all-zero: exponent 0), so the representation is
canonical: the same float bytes always give the same integers and the same scale, whoever asks.
Results are cached by a SHA-256 of each layer's bytes, so a batch of certificates of one model
converts every layer once.

Rank over Q by arithmetic modulo a prime: a nonzero maximal minor mod ``p`` is nonzero over Z, so
full rank of ``Z`` mod ``p`` proves full rank of ``W`` over Q. Only when the rank drops mod ``p``
does :func:`rank` run exact fraction-free elimination (``fmpz_mat.rank``).

This module is part of the trusted checker: numpy, python-flint and the standard library only.
Engines (the certify side) may import :func:`integer_layers` to get exactly the checker's scale.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any

import flint
import numpy as np

from theorychk.check.convolution import layer_matrix

from theorychk.errors import InvalidInput

__all__ = ["PRIME", "IntLayer", "integer_layers", "integer_layer", "dyadic_ints", "submatrix", "rank",
           "full_column_rank"]

#: The default prime of rank proofs (the largest 62-bit prime, as :data:`theorychk.exact.DEFAULT_PRIME`).
PRIME = 4611686018427387847
#: Layers kept in the cache (by content hash): enough for several models in one batch.
_CACHE_SIZE = 64
_CACHE: OrderedDict[str, IntLayer] = OrderedDict()


def dyadic_ints(arr: Any) -> tuple[np.ndarray, int]:
    """``arr == Z * 2**e`` exactly, with integer ``Z`` (int64, or object when too wide) that has an
    odd entry (``e = 0`` when all are zero): the canonical integer form of a float array."""
    a = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise InvalidInput(f"array must be finite; got NaN or Inf in shape {a.shape}",
                           argument="arr", got=a.shape)
    mant, expo = np.frexp(a)  # a = mant * 2**expo, 0.5 <= |mant| < 1 (or 0)
    ints = (mant * 2.0**53).astype(np.int64)  # exact: a double has a 53-bit significand
    nz = ints != 0
    if not nz.any():
        return np.zeros(a.shape, dtype=np.int64), 0
    low = np.where(nz, ints & -ints, 1)  # lowest set bit of each significand
    tz = np.log2(low.astype(np.float64)).astype(np.int64)  # exact: a power of two below 2**53
    odd = np.where(nz, ints >> tz, 0)
    ex = np.where(nz, expo.astype(np.int64) - 53 + tz, 0)
    e = int(ex[nz].min())
    rel = np.where(nz, ex - e, 0)
    bits = np.frexp(np.abs(odd).astype(np.float64))[1]  # bit length: exact below 2**53
    widest = int((rel + bits)[nz].max())
    if widest < 63:
        return odd << rel, e
    out = np.empty(a.shape, dtype=object)
    for idx in np.ndindex(a.shape):
        out[idx] = int(odd[idx]) << int(rel[idx])
    return out, e


@dataclass(frozen=True, eq=False)
class IntLayer:
    """One layer in integer form: ``W = 2**w_exp * z``, ``b = 2**b_exp * bias``."""

    array: np.ndarray  # Z, int64 (or object for very wide exponent ranges), shape (n_out, n_in)
    w_exp: int
    bias: tuple[int, ...]
    b_exp: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.array.shape  # type: ignore[return-value]

    @property
    def scale(self) -> Fraction:
        """``W / Z``: a power of two."""
        return Fraction(2) ** self.w_exp

    @property
    def bias_scale(self) -> Fraction:
        return Fraction(2) ** self.b_exp

    @cached_property
    def z(self) -> flint.fmpz_mat:
        """The whole ``Z`` as a flint ``fmpz_mat``."""
        return submatrix(self, None, None)

    @cached_property
    def rank(self) -> int:
        """The exact rank of ``W`` over Q (:func:`rank`), computed once per layer content."""
        return rank(self.z)

    @cached_property
    def rows(self) -> list[list[int]]:
        """``Z`` as Python rows of ints."""
        return self.array.tolist()

    @cached_property
    def bias_q(self) -> tuple[Fraction, ...]:
        s = self.bias_scale
        return tuple(s * v for v in self.bias)


def _digest(weight: np.ndarray, bias: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in (weight, bias):
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def integer_layer(weight: Any, bias: Any) -> IntLayer:
    """The cached :class:`IntLayer` of one ``(weight, bias)`` pair of float arrays."""
    w, b = np.asarray(weight), np.asarray(bias)
    if w.ndim != 2 or b.shape != (w.shape[0],):
        raise InvalidInput(f"layer must be a 2-D weight and a bias of its rows; got shapes {w.shape}, {b.shape}",
                           argument="weight" if w.ndim != 2 else "bias",
                           got=w.shape if w.ndim != 2 else b.shape)
    key = _digest(w, b)
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    z, w_exp = dyadic_ints(w) if w.size else (np.zeros(w.shape, dtype=np.int64), 0)
    bz, b_exp = dyadic_ints(b) if b.size else (np.zeros(0, dtype=np.int64), 0)
    layer = IntLayer(z, w_exp, tuple(int(v) for v in bz.tolist()), b_exp)
    _CACHE[key] = layer
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return layer


def integer_layers(net: Any) -> tuple[IntLayer, ...]:
    """Every layer of ``net`` (a :class:`~theorychk.network.Network`) in integer form, latent side first.

    The one source of the integers and their scale for every check (and any engine that wants to
    agree with the checker)."""
    return tuple(integer_layer(layer_matrix(layer), layer.bias) for layer in net.layers)


def submatrix(layer: IntLayer, rows: Sequence[int] | None, cols: Sequence[int] | None) -> flint.fmpz_mat:
    """``Z[rows, cols]`` as an ``fmpz_mat`` (``None``: all)."""
    a = layer.array
    if rows is not None:
        a = a[list(rows)] if len(rows) else a[:0]
    if cols is not None:
        a = a[:, list(cols)] if len(cols) else a[:, :0]
    m, n = a.shape
    if m == 0 or n == 0:
        return flint.fmpz_mat(m, n)
    return flint.fmpz_mat(m, n, a.ravel().tolist())


def rank(z: flint.fmpz_mat, prime: int = PRIME) -> int:
    """Exact rank over Q of an integer matrix: the rank mod ``prime`` when it is full, else exact
    fraction-free elimination (a drop mod ``prime`` says nothing over Q)."""
    m, n = z.nrows(), z.ncols()
    if m == 0 or n == 0:
        return 0
    if int(flint.nmod_mat(z, prime).rank()) == min(m, n):
        return min(m, n)
    return int(z.rank())


def full_column_rank(z: flint.fmpz_mat, prime: int = PRIME) -> bool:
    """Do the columns of ``z`` have full rank over Q? (Full mod ``prime`` settles it.)"""
    return z.nrows() >= z.ncols() and rank(z, prime) == z.ncols()
