"""Exact integer linear algebra for the certify side, on numpy int64 without flint conversions.

The checker (:mod:`theorychk.check`) builds a flint ``fmpz_mat`` for each row subset it needs,
which costs a Python-level conversion per entry (~5 ms for 400 x 60). The certifier asks for such
subsets once per signal and claim, on rows that change from signal to signal, so it pays that
conversion again and again for work the checker redoes anyway. Here the same exact quantities are
computed from the layer's int64 integers directly: products are split into pieces small enough
that every int64 partial sum is exact (bounds checked before each product, never assumed), and
only the small results become Python ints.

Every function returns exactly what its checker counterpart returns (the tests compare them on
random and zoo matrices); the checker still re-derives everything from the certificate.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import flint
import numpy as np

from theorychk.check.intmat import PRIME, IntLayer

__all__ = ["exact_matmul", "derived_left_inverse_bounds", "gram", "full_column_rank", "memo",
           "ShiftedDefiniteness"]

#: Largest magnitude an int64 partial sum may reach (one bit of room below 2**63).
_LIMIT = 1 << 62


def _bits(a: np.ndarray) -> int:
    """Bit length of the largest magnitude in ``a`` (int64)."""
    if not a.size:
        return 0
    top = int(np.max(np.abs(a.astype(object)))) if a.dtype == object else max(int(a.max()), -int(a.min()))
    return top.bit_length()


def _digits(a: np.ndarray, t: int, width: int) -> list[tuple[int, np.ndarray]]:
    """``a == sum(digit * 2**shift)`` with ``|digit| < 2**t`` (sign kept), as float64 arrays."""
    if width <= t:
        return [(0, a.astype(np.float64))]
    sign, mag, mask = np.sign(a), np.abs(a), (1 << t) - 1
    return [(shift, (((mag >> shift) & mask) * sign).astype(np.float64)) for shift in range(0, width, t)]


def exact_matmul(a: np.ndarray, b: np.ndarray) -> list[list[int]]:
    """``a @ b`` exactly, as Python ints, for integer arrays ``a`` (m x n) and ``b`` (n x p).

    Both factors are split into base-``2**t`` digits so small that every product of two digits,
    summed over ``n``, stays below 2**53 in magnitude: each digit product is then an exact float64
    BLAS product (integers that small are exact in any summation order, FMA or not), and the
    digit products are recombined in Python ints. Object arithmetic for entries beyond 62 bits.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    m, n = a.shape
    p = b.shape[1]
    if m == 0 or p == 0:
        return [[0] * p for _ in range(m)]
    if a.dtype != np.int64 or b.dtype != np.int64 or _bits(a) > 62 or _bits(b) > 62:
        return (a.astype(object) @ b.astype(object)).tolist()
    wa, wb = _bits(a), _bits(b)
    room = 53 - max(n, 1).bit_length()  # bits a digit product may have: n of them sum below 2**53
    if wa + wb <= room:
        return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64).tolist()
    # Split the wider factor first; split both when one alone cannot fit.
    ta = max(1, min(wa, room - min(wb, room // 2)))
    tb = room - ta
    out = None
    for sa, da in _digits(a, ta, wa):
        for sb, db in _digits(b, tb, wb):
            part = (da @ db).astype(np.int64).astype(object) * (1 << (sa + sb))
            out = part if out is None else out + part
    return out.tolist()


def derived_left_inverse_bounds(layer: IntLayer, rows: list[int], bits: int) -> dict[str, Fraction]:
    """What :func:`theorychk.check.stability.derived_left_inverse` returns for ``W_j^rows``, computed
    the same way (the same float solve chooses ``L``, the same exact bound) but on int64 arrays:
    ``(1 - ||I - L A||) / ||L||`` in the l_inf and l_1 induced norms, 0 when it proves nothing."""
    zero = {"inf": Fraction(0), "1": Fraction(0)}
    za = layer.array[rows] if len(rows) else layer.array[:0]
    zf = np.asarray(za, dtype=np.float64)
    if zf.shape[0] < zf.shape[1] or not zf.size:
        return zero
    try:
        with np.errstate(all="ignore"):
            lf = np.linalg.solve(zf.T @ zf, zf.T)
    except np.linalg.LinAlgError:
        return zero
    top = np.abs(lf).max()
    if not (np.all(np.isfinite(lf)) and top > 0):
        return zero
    e = int(np.frexp(top)[1])
    zl = np.rint(np.ldexp(lf, bits - e)).astype(np.int64)  # |entries| <= 2**bits <= 2**40
    sl = Fraction(2) ** (e - bits) / layer.scale
    s = sl * layer.scale
    num, den = s.numerator, s.denominator
    prod = exact_matmul(zl, np.asarray(za))  # Z_L Z_A, k x k
    err = [[(den if a == b else 0) - num * v for b, v in enumerate(row)] for a, row in enumerate(prod)]
    absl = np.abs(zl)
    if _bits(zl) + max(zl.shape).bit_length() > 62:  # row / column sums might leave int64
        absl = absl.astype(object)
    norms = {"inf": (max((sum(map(abs, r)) for r in err), default=0), int(absl.sum(axis=1).max(initial=0))),
             "1": (max((sum(map(abs, c)) for c in zip(*err)), default=0), int(absl.sum(axis=0).max(initial=0)))}
    out = {}
    for norm, (n_e, n_l) in norms.items():
        q = Fraction(int(n_e), den)
        out[norm] = (1 - q) / (sl * int(n_l)) if q < 1 and n_l else Fraction(0)
    return out


def gram(layer: IntLayer, rows: list[int], cols: list[int] | None) -> tuple[flint.fmpz_mat, Fraction]:
    """``(Z^T Z, s)`` with ``A^T A = s Z^T Z`` for ``A = W[rows, cols]``: exactly what
    :func:`theorychk.check.stability._gram` returns, from one int64 product."""
    za = layer.array[rows] if len(rows) else layer.array[:0]
    if cols is not None:
        za = za[:, cols] if len(cols) else za[:, :0]
    k = za.shape[1]
    g = exact_matmul(np.ascontiguousarray(za.T), za) if k else []
    return flint.fmpz_mat(k, k, [v for row in g for v in row]) if k else flint.fmpz_mat(0, 0), layer.scale ** 2


def full_column_rank(layer: IntLayer, rows: list[int]) -> bool | None:
    """``True`` when ``W[rows]`` is proven to have full column rank by one nonzero ``k x k`` minor
    modulo :data:`~theorychk.check.intmat.PRIME` (nonzero mod p, so nonzero over Z), its rows
    chosen as the pivot rows of a float LU with partial pivoting; ``False`` when there are fewer
    rows than columns; ``None`` when this quick test cannot tell (ask the exact rank)."""
    za = layer.array[rows] if len(rows) else layer.array[:0]
    m, k = za.shape
    if m < k:
        return False
    if k == 0:
        return True
    if za.dtype != np.int64:
        return None
    import scipy.linalg

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)  # singular: the minor then says None
        swaps = scipy.linalg.lu_factor(za.astype(np.float64), check_finite=False)[1]
    perm = list(range(m))
    for i, r in enumerate(swaps.tolist()):  # LAPACK's row interchanges -> the pivot rows, in order
        perm[i], perm[r] = perm[r], perm[i]
    minor = za[sorted(perm[:k])]
    nz = flint.nmod_mat(k, k, [int(v) % PRIME for v in minor.ravel().tolist()], PRIME)
    return True if nz.rank() == k else None


#: Results of the last few (layer, row set, ...) questions: the claims of one signal ask the same ones.
_MEMO: OrderedDict[tuple[Any, ...], tuple[IntLayer, Any]] = OrderedDict()
_MEMO_SIZE = 32


def memo(layer: IntLayer, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    """``compute()``, remembered for ``(layer, *key)`` among the last few questions (the layer
    object is kept with its entry, so its ``id`` cannot be reused by another layer meanwhile)."""
    full = (id(layer), *key)
    hit = _MEMO.get(full)
    if hit is not None and hit[0] is layer:
        _MEMO.move_to_end(full)
        return hit[1]
    out = compute()
    _MEMO[full] = (layer, out)
    if len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return out


class ShiftedDefiniteness:
    """Exact tests "``s g - t I`` positive definite" and "``t I - s g`` positive definite" for one
    symmetric integer ``g`` and many ``t``, from one characteristic polynomial ``p(x) = det(x I - g)``.

    ``g`` is real symmetric, so ``p`` has the real roots ``lambda_i``; with ``q = t / s`` (``s > 0``),
    ``s g - t I`` is positive definite iff every ``lambda_i - q > 0``, i.e. every root of
    ``p(x + q)`` is positive, iff its coefficients strictly alternate in sign (they are
    ``(-1)^(k-i) e_(k-i)(lambda - q)`` times the leading one; Descartes for the converse, as in
    :func:`theorychk.check.rationals.is_positive_definite`); ``t I - s g`` likewise with the roots
    ``q - lambda_i`` of ``p(q - x)``. The checker's own test (one charpoly of ``s g - t I`` per
    ``t``) decides the same statements; here one charpoly serves every candidate ``t``.
    """

    def __init__(self, g: flint.fmpz_mat, s: Fraction) -> None:
        if g.nrows() != g.ncols() or g.transpose() != g or s <= 0:
            raise ValueError("needs a symmetric integer matrix and a positive scale")
        self.k = int(g.nrows())
        self.s = s
        self.p = flint.fmpq_poly(g.charpoly().coeffs())

    def holds(self, t: Fraction, sign: int) -> bool:
        """``sign * (s g - t I)`` positive definite (``sign`` = +1 or -1)?"""
        if self.k == 0:
            return True
        q = Fraction(t) / self.s
        fq = flint.fmpq(q.numerator, q.denominator)
        h = self.p(flint.fmpq_poly([fq, 1])) if sign > 0 else self.p(flint.fmpq_poly([fq, -1]))
        coeffs = h.coeffs()
        if len(coeffs) != self.k + 1:
            return False
        lead = 1 if coeffs[-1] > 0 else -1
        return all((c * lead > 0) if (self.k - i) % 2 == 0 else (c * lead < 0) for i, c in enumerate(coeffs))
