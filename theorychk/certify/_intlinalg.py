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

from fractions import Fraction

import numpy as np

from theorychk.check.intmat import IntLayer

__all__ = ["exact_matmul", "derived_left_inverse_bounds"]

#: Largest magnitude an int64 partial sum may reach (one bit of room below 2**63).
_LIMIT = 1 << 62


def _bits(a: np.ndarray) -> int:
    """Bit length of the largest magnitude in ``a`` (int64)."""
    if not a.size:
        return 0
    top = int(np.max(np.abs(a.astype(object)))) if a.dtype == object else max(int(a.max()), -int(a.min()))
    return top.bit_length()


def exact_matmul(a: np.ndarray, b: np.ndarray) -> list[list[int]]:
    """``a @ b`` exactly, as Python ints, for integer arrays ``a`` (m x n) and ``b`` (n x p).

    ``b`` is split into base-``2**t`` digits so that each partial product ``a @ digit`` is exact:
    in float64 (BLAS) when every product and partial sum stays below 2**53 in magnitude
    (``n * max|a| * 2**t <= 2**53``: integers that small are exact in any summation order), else in
    int64 below 2**62; the digits are recombined in Python ints. Object arithmetic when neither fits.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    m, n = a.shape
    p = b.shape[1]
    if m == 0 or p == 0:
        return [[0] * p for _ in range(m)]
    width = _bits(b) if b.dtype == np.int64 else 64
    if a.dtype != np.int64 or width > 62:
        return (a.astype(object) @ b.astype(object)).tolist()
    grow = _bits(a) + max(n, 1).bit_length()  # bits of a row of a times a one-bit digit, summed
    for dtype, limit in ((np.float64, 53), (np.int64, 62)):
        t = limit - grow  # bits a digit of b may have
        if t < 1 or (dtype is np.float64 and _bits(a) > 53):
            continue
        if width <= t:
            return (a.astype(dtype) @ b.astype(dtype)).astype(np.int64).tolist() if dtype is np.float64 \
                else (a @ b).tolist()
        sign, mag, mask = np.sign(b), np.abs(b), (1 << t) - 1
        ad = a.astype(dtype)
        out = np.zeros((m, p), dtype=object)
        for shift in range(0, width, t):
            digit = (((mag >> shift) & mask) * sign).astype(dtype)
            out += (ad @ digit).astype(np.int64).astype(object) * (1 << shift)
        return out.tolist()
    return (a.astype(object) @ b.astype(object)).tolist()


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
