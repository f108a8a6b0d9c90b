"""The integer form of a network's layers, shared by every exact check.

Float weights and biases are dyadic rationals. :func:`integer_layers` writes each layer once as
``W = 2**w_exp * Z`` and ``b = 2**b_exp * B`` with integer ``Z``, ``B`` whose common trailing zero
bits are stripped (at least one odd entry; all-zero: exponent 0), so the representation is
canonical: the same float bytes always give the same integers and the same scale, whoever asks.
Results are cached by a SHA-256 of each layer's bytes, so a batch of certificates of one model
converts every layer once.

Integer matrix products by float64 BLAS on limbs (:func:`int_matmul`): a float64 sum of integer
products is exact while every partial sum stays below ``2**53`` in magnitude, so each factor is
split into limbs small enough that ``inner dimension * |limb a| * |limb b| <= 2**52`` and the
limb products are recombined in Python integers. No rounding ever happens, in any summation order.

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

__all__ = ["PRIME", "IntLayer", "integer_layers", "integer_layer", "layer_ints", "dyadic_ints", "submatrix", "rank",
           "full_column_rank", "int_matmul", "int_product", "IntProduct", "gram_full_rank_mod", "GRAM_PRIME"]

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
    def residues(self) -> np.ndarray | None:
        """``Z mod GRAM_PRIME`` as float64 (None for an object ``Z``), for :func:`gram_full_rank_mod`."""
        return (self.array % GRAM_PRIME).astype(np.float64) if self.array.dtype == np.int64 else None

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
    return _cached(_digest(w, b), w, b)


def _cached(key: str, w: np.ndarray, b: np.ndarray) -> IntLayer:
    """The :class:`IntLayer` of ``(w, b)``, whose :func:`_digest` is ``key``."""
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
    agree with the checker). Each layer's cache key (:func:`_digest`, a hash of its float64
    bytes) is computed once per layer object (kept on the frozen layer), so checking many
    certificates against one network hashes its weights once."""
    return tuple(layer_ints(layer) for layer in net.layers)


def layer_ints(layer: Any) -> IntLayer:
    """The :class:`IntLayer` of one :class:`~theorychk.network.Layer` (as :func:`integer_layers`)."""
    key = layer.__dict__.get("_int_digest")
    if key is not None and (hit := _CACHE.get(key)) is not None:
        _CACHE.move_to_end(key)
        return hit
    w, b = layer_matrix(layer), layer.bias
    if key is None:  # kept on the frozen layer (read-only numbers), as theorychk.network.memo does
        key = _digest(w, b)
        object.__setattr__(layer, "_int_digest", key)
    return _cached(key, w, b)


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


#: Bits every float64 limb product sum stays within (one below the 53 of exact integers: margin).
_EXACT_BITS = 52


def _max_bits(a: np.ndarray) -> int:
    return int(np.abs(a).max()).bit_length() if a.size else 0


def _limbs(a: np.ndarray, width: int, bits: int) -> list[np.ndarray]:
    """``a == sum(limb_i * 2**(width * i))`` as float64 arrays with ``|limb_i| <= 2**width``: the low
    limbs are ``0 <= . < 2**width`` (mask), the top one the arithmetic shift of the rest, which is at
    most ``2**width`` in magnitude because ``|a| < 2**bits <= 2**(width * count)``."""
    return _split(a, width, max(1, -(-bits // width)), np.float64)


def _split(a: np.ndarray, width: int, count: int, dtype: type) -> list[np.ndarray]:
    """``count`` parts of ``a``, ``a == sum(part_i * 2**(width * i))``: the low ones masked to
    ``[0, 2**width)``, the top one the arithmetic shift of the rest (signed), each as ``dtype``."""
    out, rest, mask = [], a, (1 << width) - 1
    for _ in range(count - 1):
        out.append((rest & mask).astype(dtype))
        rest = rest >> width
    out.append(rest.astype(dtype))
    return out


def int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` exactly for integer arrays: an object array of Python ints (:func:`int_product`)."""
    return int_product(a, b).ints()


class IntProduct:
    """An exact integer matrix held as ``sum(part * 2**shift)`` over int64 parts (or object parts),
    so that a test that needs only its leading bits (:func:`theorychk.check.rationals._rounded`) or
    its size comes without building every Python integer."""

    def __init__(self, shape: tuple[int, int], parts: dict[int, np.ndarray]) -> None:
        self.shape, self.parts = shape, parts

    def ints(self) -> np.ndarray:
        """The matrix as an object array of Python ints."""
        out = np.zeros(self.shape, dtype=object)  # Python int zeros
        for shift, part in self.parts.items():
            big = part.astype(object)
            out += (big * (1 << shift)) if shift else big
        return out


def int_product(a: np.ndarray, b: np.ndarray) -> IntProduct:
    """``a @ b`` exactly for integer arrays (int64 or object), as an :class:`IntProduct`.

    int64 inputs go through float64 BLAS on limbs (module docstring): with limb widths ``wa + wb <=
    52 - bit_length(inner)``, every product of limbs is at most ``2**(wa + wb)`` and every partial
    sum of at most ``inner`` of them is below ``2**52``, an exactly representable integer, so the
    float result of each limb product is exact whatever order (or fused multiply-adds) the BLAS
    uses. An object factor is cut into int64 chunks; anything else (``int64`` minimum, too long an
    inner dimension, two object factors) takes flint.
    """
    shape = (a.shape[0], b.shape[1])
    if a.size and b.size and (a.dtype == object) != (b.dtype == object):  # one wide factor: int64 chunks
        wide_left = a.dtype == object
        chunks = _chunks(a if wide_left else b)
        if chunks is not None:
            parts: dict[int, np.ndarray] = {}
            for c, chunk in enumerate(chunks):
                prod = int_product(chunk, b) if wide_left else int_product(a, chunk)
                for shift, part in prod.parts.items():
                    key = shift + _CHUNK * c
                    parts[key] = parts[key] + part.astype(object) if key in parts else part
            return IntProduct(shape, parts)
    m = a.shape[1]
    budget = _EXACT_BITS - max(m, 1).bit_length()
    if (a.dtype != np.int64 or b.dtype != np.int64 or budget < 8 or a.shape[1] != b.shape[0]
            or (a.size and a.min() == np.iinfo(np.int64).min) or (b.size and b.min() == np.iinfo(np.int64).min)):
        return IntProduct(shape, {0: _flint_matmul(a, b)})
    ba, bb = _max_bits(a), _max_bits(b)
    if not ba or not bb or not m:
        return IntProduct(shape, {})
    if ba + bb <= budget:
        wa, wb = ba, bb
    else:  # the narrower factor whole if it leaves room, else half the budget each
        wa = ba if ba <= budget // 2 else (budget - bb if bb <= budget // 2 else budget // 2)
        wb = budget - wa
    la, lb = _limbs(a, wa, ba), _limbs(b, wb, bb)
    by_shift: dict[int, np.ndarray] = {}
    for i, x in enumerate(la):
        for j, y in enumerate(lb):
            part = (x @ y).astype(np.int64)  # exact: |entries| <= 2**52
            shift = wa * i + wb * j
            # at most min(len(la), len(lb)) <= 64 parts share a shift: their sum stays below 2**58
            by_shift[shift] = by_shift[shift] + part if shift in by_shift else part
    return IntProduct(shape, by_shift)


#: Bits per int64 chunk of a wide (object) factor of :func:`int_matmul`.
_CHUNK = 62


def _chunks(a: np.ndarray) -> list[np.ndarray] | None:
    """``a == sum(chunk_c * 2**(62 c))`` with int64 chunks (the low ones in ``[0, 2**62)``, the top
    one signed by the floor shift), or None when ``a`` is not integer or wider than 16 chunks."""
    try:
        top = int(np.abs(a).max()).bit_length()
    except TypeError:
        return None
    count = max(1, -(-(top + 1) // _CHUNK))
    if count > 16:
        return None
    return _split(a, _CHUNK, count, np.int64)


def _flint_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    (n, m), k = a.shape, b.shape[1]
    if not (n and m and k):
        return np.zeros((n, k), dtype=object)  # Python int zeros
    fa = flint.fmpz_mat(n, m, [int(v) for v in a.ravel().tolist()])
    fb = flint.fmpz_mat(m, k, [int(v) for v in b.ravel().tolist()])
    out = np.empty((n, k), dtype=object)
    out[:] = [[int(v) for v in row] for row in (fa * fb).tolist()]
    return out


#: The prime of :func:`gram_full_rank_mod`: below ``2**21``, so that a float64 product of residues
#: sums fewer than ``2**10`` terms below ``2**52`` (exact).
GRAM_PRIME = 2097143


def gram_full_rank_mod(a: np.ndarray, prime: int = GRAM_PRIME, residues: np.ndarray | None = None) -> bool:
    """Is ``A^T A`` nonsingular modulo ``prime``, for an integer (int64 or object) ``A``? True proves
    full column rank of ``A`` over Q (``det(A^T A) != 0`` mod ``p`` implies ``det(A^T A) != 0``, and
    ``A x = 0`` iff ``A^T A x = 0`` over the reals); False proves nothing.

    The residues of ``A`` are below ``2**21``: ``(A mod p)^T (A mod p)`` is one float64 product whose
    partial sums stay below ``rows * 2**42 <= 2**52`` (exact) when ``A`` has at most ``2**10`` rows;
    taller matrices go by row blocks. ``residues`` (``a mod prime`` as float64) may be given.
    """
    m, k = a.shape
    if k == 0:
        return True
    if m < k:
        return False
    r = residues if residues is not None else (a % prime).astype(np.int64).astype(np.float64)  # in [0, prime)
    g = np.zeros((k, k), dtype=np.int64)
    for start in range(0, m, 1024):
        block = r[start:start + 1024]
        g = (g + (block.T @ block).astype(np.int64)) % prime  # exact: < 1024 * 2**42 = 2**52
    return int(flint.nmod_mat(k, k, g.ravel().tolist(), prime).det()) != 0


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
