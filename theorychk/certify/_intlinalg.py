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
from theorychk.check.stability import choose_left_inverse

__all__ = ["exact_matmul", "derived_left_inverse_bounds", "gram", "gram_array", "full_column_rank", "memo",
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
    """``a @ b`` exactly, as Python ints (:func:`exact_matmul_array` as nested lists)."""
    return exact_matmul_array(a, b).tolist()


def exact_matmul_array(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` exactly, for integer arrays ``a`` (m x n) and ``b`` (n x p): an int64 array when
    the factors are narrow enough for one float64 product, else an object array of Python ints.

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
        return np.zeros((m, p), dtype=np.int64)
    if a.dtype != np.int64 or b.dtype != np.int64 or _bits(a) > 62 or _bits(b) > 62:
        return a.astype(object) @ b.astype(object)
    wa, wb = _bits(a), _bits(b)
    room = 53 - max(n, 1).bit_length()  # bits a digit product may have: n of them sum below 2**53
    if wa + wb <= room:
        return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
    # Split the wider factor first; split both when one alone cannot fit.
    ta = max(1, min(wa, room - min(wb, room // 2)))
    tb = room - ta
    out = None
    for sa, da in _digits(a, ta, wa):
        for sb, db in _digits(b, tb, wb):
            part = (da @ db).astype(np.int64).astype(object) * (1 << (sa + sb))
            out = part if out is None else out + part
    return out


def derived_left_inverse_bounds(layer: IntLayer, rows: list[int], bits: int) -> dict[str, Fraction]:
    """What :func:`theorychk.check.stability.derived_left_inverse` returns for ``W_j^rows``, computed
    the same way (the same float solve chooses ``L``, the same exact bound) but on int64 arrays:
    ``(1 - ||I - L A||) / ||L||`` in the l_inf and l_1 induced norms, 0 when it proves nothing."""
    chosen = choose_left_inverse(layer, rows, bits)
    if chosen is None:
        return {"inf": Fraction(0), "1": Fraction(0)}
    zl, e = chosen
    za = layer.array[rows]
    sl = Fraction(2) ** (e - bits) / layer.scale
    s = sl * layer.scale
    num, den = s.numerator, s.denominator
    prod = exact_matmul_array(zl, np.asarray(za)).astype(object)  # Z_L Z_A, k x k, Python ints
    err = prod * -num if num != 1 else -prod
    err[np.diag_indices(err.shape[0])] += den
    abse = np.abs(err)
    absl = np.abs(zl)
    if _bits(zl) + max(zl.shape).bit_length() > 62:  # row / column sums might leave int64
        absl = absl.astype(object)
    norms = {"inf": (max(abse.sum(axis=1).tolist(), default=0), int(absl.sum(axis=1).max(initial=0))),
             "1": (max(abse.sum(axis=0).tolist(), default=0), int(absl.sum(axis=0).max(initial=0)))}
    out = {}
    for norm, (n_e, n_l) in norms.items():
        q = Fraction(int(n_e), den)
        out[norm] = (1 - q) / (sl * int(n_l)) if q < 1 and n_l else Fraction(0)
    return out


def gram(layer: IntLayer, rows: list[int], cols: list[int] | None) -> tuple[flint.fmpz_mat, Fraction]:
    """``(Z^T Z, s)`` with ``A^T A = s Z^T Z`` for ``A = W[rows, cols]``: exactly what
    :func:`theorychk.check.stability._gram` returns, from one int64 product."""
    g, s = gram_array(layer, rows, cols)
    k = g.shape[0]
    return flint.fmpz_mat(k, k, [int(v) for v in g.ravel().tolist()]) if k else flint.fmpz_mat(0, 0), s


def gram_array(layer: IntLayer, rows: list[int], cols: list[int] | None) -> tuple[np.ndarray, Fraction]:
    """:func:`gram` with ``Z^T Z`` as a numpy array of exact integers (int64 or Python ints):
    no flint matrix, whose construction costs more than the product (~1 ms for 35 x 35)."""
    za = layer.array[rows] if len(rows) else layer.array[:0]
    if cols is not None:
        za = za[:, cols] if len(cols) else za[:, :0]
    k = za.shape[1]
    g = exact_matmul_array(np.ascontiguousarray(za.T), za) if k else np.zeros((0, 0), dtype=np.int64)
    return g, layer.scale ** 2


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
    nz = flint.nmod_mat(k, k, (minor % PRIME).ravel().tolist(), PRIME)  # int64 % p: in [0, p)
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


#: Bits of the integer-scaled Cholesky factor in :func:`_definiteness_proof` (its entries are at
#: most 1 before scaling): rounding then perturbs ``L L^T`` by ~``k 2**-bits``, well below the
#: slack of the shifts the certifier asks about (``~1e-6 lambda_min``, relative).
_CHOLESKY_BITS = 48


def _definiteness_proof(n: np.ndarray) -> bool | None:
    """Is the symmetric integer matrix ``n`` (object array) positive definite? Decided only on exact
    evidence found by floats, ``None`` when none was found:

    * ``True``: ``L`` (a float Cholesky factor of ``n - delta I``, scaled to integers) with
      ``E = 2**a n - 2**b L L^T`` strictly diagonally dominant with a positive diagonal, exactly:
      ``E`` is then positive definite (Gershgorin) and ``2**a n = 2**b L L^T + E`` is too;
    * ``False``: an integer ``x != 0`` with ``x^T n x <= 0`` (a scaled eigenvector).
    """
    k = n.shape[0]
    nf = n.astype(np.float64)
    top = float(np.abs(nf).max(initial=0.0))
    if not (np.isfinite(top) and top > 0):
        return None
    e = int(np.frexp(top)[1])
    nn = np.ldexp(nf, -e)  # |entries| <= 1
    w, v = np.linalg.eigh(nn)
    if not w[0] > 0:
        x = np.rint(np.ldexp(v[:, 0], 30)).astype(np.int64).astype(object)
        return False if x.any() and x @ n @ x <= 0 else None
    try:
        chol = np.linalg.cholesky(nn - (w[0] / 2) * np.eye(k))
    except np.linalg.LinAlgError:
        return None
    li = np.rint(np.ldexp(chol, _CHOLESKY_BITS)).astype(np.int64)  # n / 2**e ~ L L^T / 2**(2 bits)
    llt = exact_matmul_array(li, np.ascontiguousarray(li.T)).astype(object)
    shift = 2 * _CHOLESKY_BITS - e  # E = 2**(2 bits) n - 2**e L L^T, moved to non-negative exponents
    big = n * (1 << shift) - llt if shift >= 0 else n - llt * (1 << -shift)
    diag = big.diagonal()
    off = np.abs(big).sum(axis=1) - np.abs(diag)
    return True if all(d > 0 and d > o for d, o in zip(diag.tolist(), off.tolist())) else None


class ShiftedDefiniteness:
    """Exact tests "``s g - t I`` positive definite" and "``t I - s g`` positive definite" for one
    symmetric integer ``g`` and many ``t``.

    Each test first looks for exact evidence found by floats (:func:`_definiteness_proof`: an
    integer Cholesky factor with a diagonally dominant exact remainder, or a vector of
    non-positive curvature: a few small exact products); only without it does it decide from one
    characteristic polynomial ``p(x) = det(x I - g)``, computed once for every ``t`` that needs it.
    ``g`` is real symmetric, so ``p`` has the real roots ``lambda_i``; with ``q = t / s`` (``s > 0``),
    ``s g - t I`` is positive definite iff every ``lambda_i - q > 0``, i.e. every root of
    ``p(x + q)`` is positive, iff its coefficients strictly alternate in sign (they are
    ``(-1)^(k-i) e_(k-i)(lambda - q)`` times the leading one; Descartes for the converse, as in
    :func:`theorychk.check.rationals.is_positive_definite`); ``t I - s g`` likewise with the roots
    ``q - lambda_i`` of ``p(q - x)``. Either way the answer is the statement's truth value, so it is
    the checker's (one charpoly of ``s g - t I`` per ``t``): the floats only find evidence.
    """

    def __init__(self, g: flint.fmpz_mat | np.ndarray, s: Fraction) -> None:
        """``g``: a flint matrix, or a square numpy array of exact integers (int64 or Python ints)."""
        rows = np.array(g.tolist(), dtype=object) if isinstance(g, flint.fmpz_mat) else np.asarray(g).astype(object)
        k = rows.shape[0] if rows.ndim == 2 else 0
        rows = rows.reshape(k, k) if rows.size == k * k else rows
        if rows.shape != (k, k) or s <= 0 or not (rows == rows.T).all():
            raise ValueError("needs a symmetric integer matrix and a positive scale")
        self.k, self.s = k, s
        self.rows = np.frompyfunc(int, 1, 1)(rows) if k else rows  # Python ints (fmpz entries converted)
        self._p: flint.fmpq_poly | None = None

    @property
    def p(self) -> flint.fmpq_poly:
        """The characteristic polynomial ``det(x I - g)``, computed on first use."""
        if self._p is None:
            g = flint.fmpz_mat(self.k, self.k, self.rows.ravel().tolist())
            self._p = flint.fmpq_poly(g.charpoly().coeffs())
        return self._p

    def holds(self, t: Fraction, sign: int) -> bool:
        """``sign * (s g - t I)`` positive definite (``sign`` = +1 or -1)?"""
        if self.k == 0:
            return True
        q = Fraction(t) / self.s
        n = self.rows * q.denominator
        n[np.diag_indices(self.k)] -= q.numerator
        proof = _definiteness_proof(n if sign > 0 else -n)
        return proof if proof is not None else self.by_charpoly(q, sign)

    def by_charpoly(self, q: Fraction, sign: int) -> bool:
        """:meth:`holds` for ``t = q s``, from the signs of the shifted characteristic polynomial alone."""
        fq = flint.fmpq(q.numerator, q.denominator)
        h = self.p(flint.fmpq_poly([fq, 1])) if sign > 0 else self.p(flint.fmpq_poly([fq, -1]))
        coeffs = h.coeffs()
        if len(coeffs) != self.k + 1:
            return False
        lead = 1 if coeffs[-1] > 0 else -1
        return all((c * lead > 0) if (self.k - i) % 2 == 0 else (c * lead < 0) for i, c in enumerate(coeffs))
