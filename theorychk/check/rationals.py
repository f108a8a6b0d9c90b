"""Strict reading of certificate fields, and the few exact numeric helpers the checker needs.

Numbers in a certificate are exact: a JSON integer, a string ``"p/q"`` / ``"p"`` (``q > 0``) or
an exact float hex string (``"0x1.8p-3"``). Everything else — a JSON float, ``"0.1"``, ``"1e3"``,
``true``, ``"inf"`` — is a :class:`~theorychk.errors.CertificateError` naming the field, never a
silent conversion. Square roots and eigenvalue bounds are handled by *verified* rational
bounds: :func:`sqrt_bounds` (integer square roots) and :func:`is_positive_definite` (the signs
of an integer characteristic polynomial). What activations compute is in :mod:`theorychk.check.activations` (re-exported here).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import flint
import numpy as np

from theorychk.check.activations import activation_enclosure, inverse_lipschitz_bound
from theorychk.check.intmat import IntProduct, int_matmul, int_product
from theorychk.errors import CertificateError

__all__ = [
    "parse_rational", "parse_vector", "parse_indices", "parse_sparse", "need",
    "sqrt_bounds", "is_positive_definite", "positive_definite_sum", "positive_definite_short", "PD_KEEP_BITS", "activation_enclosure", "inverse_lipschitz_bound", "fmpq_mat",
]

_RATIONAL = re.compile(r"[+-]?\d+(/\d+)?")
_HEX = re.compile(r"[+-]?0x[0-9a-fA-F]+(\.[0-9a-fA-F]*)?p[+-]?\d+")


def parse_rational(value: Any, where: str) -> Fraction:
    """An exact rational from a JSON integer, ``"p/q"`` or exact float hex; anything else is an error."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Fraction(value)
    if isinstance(value, str):
        if _RATIONAL.fullmatch(value):
            num, _, den = value.partition("/")
            if den and int(den) == 0:
                raise CertificateError(f"{where}: zero denominator in {value!r}")
            return Fraction(int(num), int(den) if den else 1)
        if _HEX.fullmatch(value):
            return Fraction(float.fromhex(value))
    raise CertificateError(f"{where}: expected an exact rational like '3/4' (or float hex), got {value!r}")


def parse_vector(value: Any, length: int | None, where: str) -> list[Fraction]:
    if not isinstance(value, list):
        raise CertificateError(f"{where}: expected a list of rationals, got {type(value).__name__}")
    if length is not None and len(value) != length:
        raise CertificateError(f"{where}: expected {length} entries, got {len(value)}")
    return [parse_rational(v, f"{where}[{i}]") for i, v in enumerate(value)]


def parse_indices(value: Any, n: int, where: str) -> list[int]:
    """Distinct integer indices in ``[0, n)``, returned sorted."""
    # type() of every entry in one C-level pass (a JSON bool is an int subclass: rejected too)
    if not isinstance(value, list) or not set(map(type, value)) <= {int}:
        raise CertificateError(f"{where}: expected a list of integer indices, got {value!r:.80}")
    if value and (min(value) < 0 or max(value) >= n) or len(set(value)) != len(value):
        raise CertificateError(f"{where}: indices must be distinct and in 0..{n - 1}")
    return sorted(value)


def parse_sparse(value: Any, n: int, where: str) -> dict[int, Fraction]:
    """``{"index": "p/q", ...}`` (JSON object keys are strings) with indices in ``[0, n)``."""
    if not isinstance(value, dict):
        raise CertificateError(f"{where}: expected an object {{index: rational}}, got {type(value).__name__}")
    out = {}
    for key, v in value.items():
        if not (isinstance(key, str) and key.isdigit() and int(key) < n):
            raise CertificateError(f"{where}: bad index {key!r} (expected 0..{n - 1})")
        out[int(key)] = parse_rational(v, f"{where}[{key}]")
    return out


def need(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``obj[key]``, which must exist and have type ``kind``."""
    if not isinstance(obj, dict) or key not in obj:
        raise CertificateError(f"{where}: missing field {key!r}")
    val = obj[key]
    if not isinstance(val, kind) or isinstance(val, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise CertificateError(f"{where}.{key}: expected {names}, got {type(val).__name__}")
    return val


def fmpq_mat(rows: Sequence[Sequence[Fraction]], ncols: int) -> flint.fmpq_mat:
    return flint.fmpq_mat(len(rows), ncols, [flint.fmpq(x.numerator, x.denominator) for r in rows for x in r])


def sqrt_bounds(q: Fraction, bits: int = 64) -> tuple[Fraction, Fraction]:
    """Rationals ``lo <= sqrt(q) <= hi`` with ``hi - lo <= 2**-bits * (1 + sqrt(q))``, ``q >= 0``."""
    if q < 0:
        raise CertificateError(f"square root of a negative number {q}")
    scale = 1 << bits
    r = math.isqrt(q.numerator * scale * scale // q.denominator)  # floor(sqrt(q) * scale)
    return Fraction(r, scale), Fraction(r + 1, scale)


def is_positive_definite(m: Sequence[Sequence[Fraction]] | flint.fmpz_mat | np.ndarray) -> bool:
    """Exact test of a symmetric rational (or integer: flint matrix or object array of ints) matrix.

    The decisive test is the signs of the characteristic polynomial. A real symmetric matrix has
    real eigenvalues, so ``det(x I - M) = prod (x - lambda_i)``; all ``lambda_i > 0`` iff its
    coefficients strictly alternate in sign (Descartes: then ``p(-x)`` has no sign change, so no root
    ``<= 0``; conversely the coefficients are ``(-1)^i e_i(lambda)``). Scaling by the common
    denominator keeps the signs of the eigenvalues, so this is one integer ``charpoly`` in flint (C).
    Cheaper sufficient tests run first (:func:`positive_definite_sum`), each of which can only
    answer "positive definite" with a proof; when they do not, the characteristic polynomial
    decides. A non-symmetric input is an error (the test would not be sound).
    """
    if isinstance(m, np.ndarray):
        z = m
    else:
        fz = m if isinstance(m, flint.fmpz_mat) else _integer_matrix(m)
        z = np.empty((fz.nrows(), fz.ncols()), dtype=object)
        if fz.nrows() and fz.ncols():
            z[:] = [[int(v) for v in row] for row in fz.tolist()]
    k = z.shape[0]
    if z.ndim != 2 or z.shape[1] != k:
        raise CertificateError(f"positive definiteness of a non-square {k} x {z.shape[-1]} matrix")
    if not np.array_equal(z, z.T):
        raise CertificateError("positive definiteness test needs a symmetric matrix")
    return positive_definite_sum(IntProduct((k, k), {0: z}))


def positive_definite_sum(g: IntProduct, diag: int = 0, sign: int = 1) -> bool:
    """Exactly: is ``sign * (g + diag I)`` positive definite, for a symmetric integer ``g`` held as
    ``sum(part * 2**shift)`` (:class:`~theorychk.check.intmat.IntProduct`, shifts ``>= 0``)?

    First :func:`positive_definite_short` on the matrix rounded to :data:`PD_KEEP_BITS` bits
    (:func:`_rounded`: its positive definiteness proves that of ``sign * (g + diag I)``); when that
    fails and the rounding was exact, that was the exact test; else the characteristic polynomial
    of the exact matrix decides (:func:`is_positive_definite`'s test), without the rounded pre-tests
    again. A non-symmetric matrix that reaches the exact test is an error."""
    k = g.shape[0]
    if k == 0:
        return True
    short, rounded = _rounded(g, diag, sign)
    if positive_definite_short(short):
        return True
    if not rounded:  # the short matrix was sign * M itself: its characteristic polynomial decided
        return False
    z = g.ints()
    z[np.diag_indices(k)] += diag
    if not np.array_equal(z, z.T):
        raise CertificateError("positive definiteness test needs a symmetric matrix")
    return _charpoly_positive_definite(flint.fmpz_mat(k, k, [sign * int(v) for v in z.ravel().tolist()]))


def positive_definite_short(m: np.ndarray) -> bool:
    """A sufficient test for a symmetric int64 matrix with entries of about :data:`PD_KEEP_BITS`
    bits (True proves it positive definite): :func:`_congruent_dominant`, else its characteristic
    polynomial."""
    k = m.shape[0]
    return _congruent_dominant(m) or _charpoly_positive_definite(flint.fmpz_mat(k, k, m.ravel().tolist()))


#: Bits of the largest entry kept by the rounded pre-tests of :func:`is_positive_definite`.
PD_KEEP_BITS = 40
#: Bits of the integer congruence matrix ``X`` in :func:`_congruent_dominant`.
CONGRUENCE_BITS = 30


def _charpoly_positive_definite(z: flint.fmpz_mat) -> bool:
    k = z.nrows()
    coeffs = z.charpoly().coeffs()  # c_0 .. c_k, c_k = 1
    return len(coeffs) == k + 1 and all((c > 0) if (k - i) % 2 == 0 else (c < 0) for i, c in enumerate(coeffs))


def _rounded(g: IntProduct, diag: int = 0, sign: int = 1) -> tuple[np.ndarray, bool]:
    """A short (int64) symmetric matrix whose positive definiteness implies that of ``sign * M``,
    ``M = g + diag I`` (``g`` symmetric, ``k x k``, parts int64 or object, shifts ``>= 0``), and
    whether it differs from ``sign * M``: ``sign * M`` itself when its entries have at most
    :data:`PD_KEEP_BITS` bits, else ``sign (M1 + M1^T) - k c I``.

    ``M1`` sums the terms (each part, and ``diag I``) at the scale ``2**h`` that keeps
    :data:`PD_KEEP_BITS` bits: a left shift where that is exact, else a shift rounding half up
    (``floor(x / 2**d + 1/2)``), off by at most ``1/2``. With ``c`` rounded terms per entry,
    ``M / 2**h = M1 + E`` with ``|E_ij| <= c / 2``; ``M`` is symmetric (its parts need not be), so
    ``2 M / 2**h = (M1 + M1^T) + (E + E^T)`` with ``||E + E^T||_2 <= k c`` (a symmetric matrix's
    spectral radius is at most its largest absolute row sum): ``sign M >= 2**(h-1) (sign (M1 + M1^T)
    - k c I)`` in the Loewner order, so if the short matrix is positive definite, so is ``sign M``.
    One symmetric part (``c = 1``) gives ``2 M1 - k I``.
    """
    k = g.shape[0]
    eye = np.diag_indices(k)
    parts = [(shift, p, int(np.abs(p).max()).bit_length()) for shift, p in g.parts.items() if p.size]
    parts = [(shift, p, bits) for shift, p, bits in parts if bits]
    widest = max([bits + shift for shift, _, bits in parts] + [abs(diag).bit_length()])
    terms = len(parts) + (diag != 0)
    h = widest + (terms - 1).bit_length() - PD_KEEP_BITS  # |M| < terms * 2**widest <= 2**(h + PD_KEEP_BITS)
    m1 = np.zeros((k, k), dtype=np.int64)
    if h <= 0:  # every entry of M has at most PD_KEEP_BITS bits: exact in int64
        for shift, p, _ in parts:
            m1 += p.astype(np.int64) << shift
        m1[eye] += diag
        return sign * m1, False
    rounded = 0
    for shift, p, bits in parts:
        e = shift - h
        if e >= 0:
            m1 += (p << e).astype(np.int64)  # exact: below 2**PD_KEEP_BITS
            continue
        if -e <= bits:  # (else |p| < 2**(-e-1): the term rounds to 0)
            m1 += (((p >> (-e - 1)) + 1) >> 1).astype(np.int64)  # half up: floor((p + 2**(-e-1)) / 2**-e)
        rounded += 1
    m1[eye] += ((diag >> (h - 1)) + 1) >> 1
    rounded += diag % (1 << h) != 0
    short = sign * (m1 + m1.T)
    short[eye] -= k * rounded
    return short, True


def _congruent_dominant(a: np.ndarray) -> bool:
    """A sufficient test (True proves ``a`` positive definite) for a symmetric int64 matrix ``a``.

    Floats only choose an integer upper-triangular ``X`` (the inverse transposed Cholesky factor,
    scaled to :data:`CONGRUENCE_BITS` bits and rounded), so that ``X^T a X`` is near a multiple of
    ``I``. Then, exactly: ``X`` has a nonzero diagonal (nonsingular), and ``T = X^T a X`` has a
    positive diagonal and is strictly diagonally dominant, so by Gershgorin every (real) eigenvalue
    of the symmetric ``T`` is positive, and ``y^T a y = (X^-1 y)^T T (X^-1 y) > 0`` for ``y != 0``.
    """
    k = a.shape[0]
    try:
        with np.errstate(all="ignore"):
            xf = np.linalg.inv(np.linalg.cholesky(a.astype(np.float64))).T
    except np.linalg.LinAlgError:
        return False
    top = np.abs(xf).max()
    if not (np.all(np.isfinite(xf)) and top > 0):
        return False
    x = np.triu(np.rint(np.ldexp(xf, CONGRUENCE_BITS - int(np.frexp(top)[1]))).astype(np.int64))
    if not np.all(np.diag(x) != 0):
        return False
    # T = X^T a X exactly as a sum of int64 parts times powers of two, then T / 2**h to within
    # ``c`` per entry (c floor shifts): T is strictly dominant if its approximation is by k c.
    terms = []
    for s1, y in int_product(np.ascontiguousarray(x.T), a).parts.items():
        if y.dtype != np.int64:
            return _dominant_exact(x, a)
        terms += [(s1 + s2, t) for s2, t in int_product(y, x).parts.items()]
    if any(t.dtype != np.int64 for _, t in terms) or len(terms) > 16:
        return _dominant_exact(x, a)
    return _dominant(terms, k)


def _dominant(terms: list[tuple[int, np.ndarray]], k: int) -> bool:
    """Is ``T = sum(t * 2**shift)`` (at most 16 int64 terms ``t``, ``k x k``) strictly diagonally
    dominant with a positive diagonal? On ``A ~ T / 2**h`` (entries below ``2**(54 - bits(k))``): left shifts are
    exact, each floor shift is below by less than 1, so ``|A - T / 2**h| < c`` entrywise (``c`` floor
    shifts); ``T`` is dominant if ``A_ii - sum_{j != i} |A_ij| > k c`` (each of the ``k`` entries of a
    row off by less than ``c``)."""
    tops = [int(np.abs(t).max()).bit_length() + shift for shift, t in terms]
    h = max(tops) - 50 + k.bit_length()  # 16 terms of 2**(50 - bits(k)): row sums below 2**54
    approx, floors = np.zeros((k, k), dtype=np.int64), 0
    for shift, t in terms:
        e = shift - h
        if e >= 0:
            approx += t << e  # exact: below 2**(50 - bits(k)) each
        else:
            approx += t >> -e  # floor: below by less than 1
            floors += 1
    diag = np.diag(approx)
    off = np.abs(approx).sum(axis=1) - np.abs(diag)  # < 2**54: no overflow
    return bool(np.all(diag - off > k * floors))


def _dominant_exact(x: np.ndarray, a: np.ndarray) -> bool:
    """``X^T a X`` strictly diagonally dominant with a positive diagonal, on Python integers."""
    t = int_matmul(int_matmul(np.ascontiguousarray(x.T), a), x)
    diag = [int(t[i, i]) for i in range(t.shape[0])]
    rows = np.abs(t).sum(axis=1).tolist()  # |t_ii| + sum_{j != i} |t_ij|
    return all(d > 0 and 2 * d > r for d, r in zip(diag, rows))


def _integer_matrix(m: Sequence[Sequence[Fraction]]) -> flint.fmpz_mat:
    """``den * m`` as an integer matrix, ``den > 0`` the common denominator."""
    rows = [[Fraction(x) for x in row] for row in m]
    k = len(rows)
    n = len(rows[0]) if rows else 0
    if any(len(r) != n for r in rows):
        raise CertificateError("matrix rows must all have the same length")
    den = math.lcm(*(x.denominator for r in rows for x in r)) if k and n else 1
    return flint.fmpz_mat(k, n, [x.numerator * (den // x.denominator) for r in rows for x in r]) if k and n \
        else flint.fmpz_mat(k, n)
