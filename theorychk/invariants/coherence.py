"""Mutual coherence and the Babel function of a matrix, with rational bounds proven exactly.

The mutual coherence (paper 004, Eq. 2) is

    mu(A) = max_{i != j} |a_i^T a_j| / (||a_i||_2 ||a_j||_2),

and the Babel function (Tropp 2004) is ``mu_1(p) = max_i max_{|L| = p, i not in L} sum_{j in L}
|cos(a_i, a_j)|``. Both lower-bound the spark (``shared/notes/invariants.md``, "Cheap certified
bounds"): ``spark(A) >= 1 + 1/mu`` and ``mu_1(p - 1) < 1  =>  spark(A) >= p + 1`` (every ``p``
columns then have a strictly diagonally dominant Gram matrix, so they are independent; the
conclusion is ``spark > p``, not ``spark > p + 1`` nor ``spark >= p``).

Exactness. Cosines are square roots of rationals, so the value itself is usually irrational. The
squared cosine ``g_ij^2 / (g_ii g_jj)`` of the integer Gram matrix ``G = Z^T Z`` (``A = scale * Z``,
cosines are scale invariant) is an exact :class:`~fractions.Fraction`; results report a rational
``lower <= mu <= upper`` with ``lower^2 <= cos^2 <= upper^2`` checked exactly (``upper - lower <=
2**-64``). Which pair attains the maximum is decided exactly as well: floats only pre-select the
candidate pairs, with a margin (2**-40 relative) far above their proven rounding error (< 8 unit
roundoffs: one rounding per Gram entry, two square roots, one division).

Zero columns. The cosine with a zero column is undefined and no finite convention keeps
``spark >= 1 + 1/mu`` sound (a zero column has spark 1, which would need ``mu = inf``), so both
functions raise :class:`~theorychk.errors.InvalidInput` naming the column. With fewer than two
columns ``mu = 0`` (an empty maximum; the spark bound then says "no dependency", which is right).
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

import flint
import numpy as np

from theorychk.errors import InvalidInput
from theorychk.exact import to_fmpz_mat
from theorychk.invariants._matrix import as_matrix, check_count
from theorychk.invariants.result import Bound, InvariantResult
from theorychk.verdict import Status

__all__ = ["coherence", "babel", "sqrt_bounds"]

#: Relative margin for the float pre-selection of candidate pairs (rounding error < 2**-50).
_MARGIN = 2.0**-40
#: Babel sums are taken on a grid of 2**-52 (upper bounds rounded up, lower ones down).
_GRID_BITS = 52
#: Bits of the rational bounds around a square root.
SQRT_BITS = 64


def sqrt_bounds(x: Fraction, bits: int = SQRT_BITS) -> tuple[Fraction, Fraction]:
    """Rationals ``lo <= sqrt(x) <= hi`` with ``hi - lo <= 2**-bits`` (equal when ``x`` is a square).

    Proven through squares: ``lo**2 <= x <= hi**2`` holds exactly.

    Examples
    --------
    >>> sqrt_bounds(Fraction(1, 4)), sqrt_bounds(Fraction(4, 9))
    ((Fraction(1, 2), Fraction(1, 2)), (Fraction(2, 3), Fraction(2, 3)))
    >>> lo, hi = sqrt_bounds(Fraction(1, 2)); lo * lo <= Fraction(1, 2) <= hi * hi
    True
    """
    if x < 0:
        raise InvalidInput(f"cannot take the square root of {x}", argument="x", got=x)
    rn, rd = math.isqrt(x.numerator), math.isqrt(x.denominator)
    if rn * rn == x.numerator and rd * rd == x.denominator:
        return Fraction(rn, rd), Fraction(rn, rd)
    scale = 1 << bits
    # isqrt(floor(y)) == floor(sqrt(y)) for y >= 0, so lo = floor(sqrt(x) * 2**bits) / 2**bits.
    root = math.isqrt(x.numerator * scale * scale // x.denominator)
    return Fraction(root, scale), Fraction(root + 1, scale)


class _Gram:
    """The exact integer Gram matrix of a validated matrix's columns, with float cosines."""

    def __init__(self, arr: np.ndarray, name: str) -> None:
        z, _ = to_fmpz_mat(arr)
        self.n = int(z.ncols())
        if self.n == 0:
            self.g = flint.fmpz_mat(0, 0)
        else:
            self.g = z.transpose() * z if z.nrows() else flint.fmpz_mat(self.n, self.n)
        self.diag = [int(self.g[j, j]) for j in range(self.n)]
        for j, d in enumerate(self.diag):
            if d == 0:
                raise InvalidInput(
                    f"{name} has a zero column (index {j}): its cosine with other columns is undefined "
                    "(the spark of a matrix with a zero column is 1)", argument=name, got=f"zero column {j}"
                )
        self._cos: np.ndarray | None = None

    def entry(self, i: int, j: int) -> int:
        return int(self.g[i, j])

    def cos2(self, i: int, j: int) -> Fraction:
        """The exact squared cosine of columns ``i`` and ``j``."""
        gij = self.entry(i, j)
        return Fraction(gij * gij, self.diag[i] * self.diag[j])

    def cos(self) -> np.ndarray | None:
        """Float ``|cos|`` (relative error < 8 roundoffs), diagonal 0; ``None`` on float overflow."""
        if self._cos is None:
            try:
                gf = np.array([float(int(x)) for x in self.g.entries()], dtype=np.float64)
            except OverflowError:
                return None
            gf = gf.reshape(self.n, self.n)
            root = np.sqrt(np.diag(gf))
            if not (np.all(np.isfinite(gf)) and np.all(root > 0)):
                return None
            c = np.abs(gf) / root[:, None] / root[None, :]
            np.fill_diagonal(c, 0.0)
            self._cos = c
        return self._cos

    def max_pair(self) -> tuple[Fraction, tuple[int, int]]:
        """The exact maximum squared cosine over pairs ``i < j`` and a pair attaining it."""
        cos = self.cos()
        if cos is None:
            pairs = [(i, j) for i in range(self.n) for j in range(i + 1, self.n)]
        else:
            # Any pair whose upper float bound reaches the best lower float bound may be the max.
            ii, jj = np.triu_indices(self.n, 1)
            vals = cos[ii, jj]
            keep = vals * (1 + _MARGIN) >= float(vals.max()) * (1 - _MARGIN)
            pairs = list(zip(ii[keep].tolist(), jj[keep].tolist()))
        best, arg = Fraction(-1), (0, 1)
        for i, j in pairs:
            c2 = self.cos2(i, j)
            if c2 > best:
                best, arg = c2, (i, j)
        return best, arg

    def babel_grid(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Per-column sorted ``|cos|`` bounds on the 2**-52 grid: ``(upper, lower)`` int64 arrays.

        Row ``i`` holds, in decreasing order, integers ``U`` and ``L`` with ``L / 2**52 <= |cos| <=
        U / 2**52`` for the other columns (proven from the float error bound; an absolute term
        covers subnormal underflow).
        """
        cos = self.cos()
        if cos is None or self.n > 2048:  # int64 sums of <= 2047 grid values cannot overflow
            return None
        grid = float(2**_GRID_BITS)
        up = np.ceil((cos * (1 + 2.0**-48) + 2.0**-1020) * grid).astype(np.int64)
        lo = np.floor(np.maximum(cos * (1 - 2.0**-48) - 2.0**-1020, 0.0) * grid).astype(np.int64)
        order = np.argsort(-cos, axis=1, kind="stable")
        keep = order != np.arange(self.n)[:, None]
        order = order[keep].reshape(self.n, self.n - 1)  # drop the diagonal
        return np.take_along_axis(up, order, axis=1), np.take_along_axis(lo, order, axis=1)


def _result(invariant: str, params: dict, lower: Bound, upper: Bound, shape: tuple[int, int],
            start: float) -> InvariantResult:
    return InvariantResult(
        invariant=invariant, params=params, lower=lower, upper=upper, status=Status.CERTIFIED,
        tolerances={"float_preselection_margin": _MARGIN}, elapsed=time.perf_counter() - start,
        shape=shape,
    )


def coherence(A: object) -> InvariantResult:
    """Mutual coherence ``mu(A)``: the largest ``|cos|`` between two distinct columns (paper 004, Eq. 2).

    Returns rational bounds ``lower <= mu <= upper`` (equal when the maximal squared cosine is a
    rational square), CERTIFIED. Evidence (both bounds): the attaining pair ``columns``, its exact
    squared cosine ``cos2`` (a Fraction) with ``lower**2 <= cos2 <= upper**2``. The upper bound's
    claim that no other pair is larger rests on the exact comparison of all candidate pairs.

    Raises :class:`~theorychk.errors.InvalidInput` for a zero column (undefined cosine). Fewer than
    two columns give ``mu = 0``.

    References
    ----------
    [1] Aberdam, Simon, Elad, "When and How Can Deep Generative Models be Inverted?", Eq. (2).

    Examples
    --------
    >>> r = coherence([[1, 0, 1], [0, 1, 1]])      # mu = 1/sqrt(2), irrational
    >>> lo, hi = r.lower.value, r.upper.value
    >>> r.lower.evidence["cos2"], lo * lo <= Fraction(1, 2) <= hi * hi, float(hi - lo) <= 2**-64
    (Fraction(1, 2), True, True)
    """
    start = time.perf_counter()
    arr = as_matrix(A, "A")
    gram = _Gram(arr, "A")
    if gram.n < 2:
        b = Bound(Fraction(0), "fewer than two columns", {"n_columns": gram.n})
        return _result("coherence", {}, b, b, arr.shape, start)
    c2, (i, j) = gram.max_pair()
    lo, hi = sqrt_bounds(c2)
    ev = {"columns": [i, j], "cos2": c2}
    return _result(
        "coherence", {},
        Bound(lo, "exact squared cosine of the attaining pair", ev),
        Bound(hi, "exact maximum of squared cosines over all pairs", ev),
        arr.shape, start,
    )


def babel(A: object, p: int) -> InvariantResult:
    """Babel function ``mu_1(p)``: the largest sum of ``p`` values ``|cos(a_i, a_j)|``, ``j != i``.

    ``mu_1(1) = mu``; ``mu_1(p - 1) < 1`` implies ``spark(A) >= p + 1`` (Tropp, "Greed is good",
    Thm. 3.5 / ``shared/notes/invariants.md``). Returns rational bounds, CERTIFIED:

    * lower: for the attaining column ``i`` and set ``others``, the exact squared cosines ``cos2``
      and the sum of their exact rational square-root lower bounds;
    * upper: ``max_i`` of the sum of the ``p`` largest upper bounds on ``|cos|``, each a float
      cosine (error < 8 roundoffs) rounded up on a 2**-52 grid; exact integer sums.

    ``p`` must be between 1 and ``n_columns - 1``. Zero columns raise InvalidInput.

    Examples
    --------
    >>> r = babel([[1, 0, 1], [0, 1, 1]], 2)       # column 2 against both others: 2/sqrt(2)
    >>> round(float(r.lower.value), 12), round(float(r.upper.value), 12)
    (1.414213562373, 1.414213562373)
    """
    start = time.perf_counter()
    arr = as_matrix(A, "A")
    if arr.shape[1] < 2:
        raise InvalidInput(f"babel needs at least two columns; got shape {arr.shape}",
                           argument="A", got=arr.shape)
    p = check_count(p, "p", low=1, high=arr.shape[1] - 1)
    gram = _Gram(arr, "A")
    grid = gram.babel_grid()
    if grid is None:
        upper_terms = _exact_rows(gram)
        sums = [sum(row[:p]) for row in upper_terms]
        upper = max(sums)
        row = int(np.argmax([float(s) for s in sums]))
    else:
        up, _ = grid
        sums = up[:, :p].sum(axis=1)
        row = int(np.argmax(sums))
        upper = Fraction(int(sums[row]), 2**_GRID_BITS)
    others = _top_others(gram, row, p)
    cos2 = [gram.cos2(row, j) for j in others]
    lower = sum((sqrt_bounds(c)[0] for c in cos2), Fraction(0))
    return _result(
        "babel", {"p": p},
        Bound(lower, "exact squared cosines of one column's p largest",
              {"column": row, "others": others, "cos2": cos2}),
        Bound(upper, "float cosines with proven rounding bound, rounded up on a 2**-52 grid",
              {"grid_bits": _GRID_BITS}),
        arr.shape, start,
    )


def _top_others(gram: _Gram, row: int, p: int) -> list[int]:
    cos = gram.cos()
    if cos is None:
        vals = sorted(((sqrt_bounds(gram.cos2(row, j))[0], j) for j in range(gram.n) if j != row),
                      reverse=True)
        return sorted(j for _, j in vals[:p])
    order = [j for j in np.argsort(-cos[row], kind="stable").tolist() if j != row]
    return sorted(order[:p])


def _exact_rows(gram: _Gram) -> list[list[Fraction]]:
    """Exact rational upper bounds on |cos|, rows sorted decreasing (slow path: float overflow)."""
    rows = []
    for i in range(gram.n):
        vals = [sqrt_bounds(gram.cos2(i, j))[1] for j in range(gram.n) if j != i]
        rows.append(sorted(vals, reverse=True))
    return rows


# --------------------------------------------------------------------------------------------
# spark lower bounds (used by theorychk.invariants.spark)


def coherence_spark_bound(cos2: Fraction) -> int | None:
    """The smallest integer ``s >= 1 + 1/mu``, decided exactly from ``mu**2 = cos2``.

    ``s - 1 >= 1/mu  <=>  (s - 1)**2 * cos2 >= 1``. ``None`` when ``mu = 0`` (no finite bound).

    Examples
    --------
    >>> coherence_spark_bound(Fraction(1, 4)), coherence_spark_bound(Fraction(1, 5))
    (3, 4)
    """
    if cos2 == 0:
        return None
    need = -(-cos2.denominator // cos2.numerator)  # ceil(1 / cos2); (s-1)^2 is an integer
    q = math.isqrt(need - 1) + 1 if need > 0 else 0  # smallest q with q*q >= need
    return q + 1


def babel_spark_bound(gram: _Gram) -> tuple[int, Fraction] | None:
    """``(p + 1, U)`` for the largest ``p`` with a proven ``mu_1(p - 1) <= U < 1``; ``spark >= p + 1``."""
    grid = gram.babel_grid()
    if grid is None:
        return None
    up, _ = grid
    one = 2**_GRID_BITS
    sums = np.cumsum(up, axis=1).max(axis=0)  # sums[q - 1] bounds mu_1(q)
    below = np.flatnonzero(sums >= one)
    q = int(below[0]) if below.size else up.shape[1]  # mu_1(q') < 1 for all q' <= q
    bound = Fraction(int(sums[q - 1]), one) if q >= 1 else Fraction(0)
    return q + 2, bound  # p - 1 = q
