"""Exact rational linear algebra on the numbers as stored: the kernel the trusted checker uses.

Every finite float is a dyadic rational ``m * 2**e``, so a float matrix converts *exactly* to
an integer matrix times a power of two. Rank, nullspace and solve are computed over Q with
python-flint (``fmpz_mat`` / ``fmpq_mat``); sympy's ``Matrix.rank`` is orders of magnitude slower
(``shared/notes/invariants.md``: 25x25 took 246 s against 0.24 ms for a 30x30 in flint).

Inputs may be numpy arrays (float or integer), nested sequences of ``int``, ``float``,
:class:`fractions.Fraction` or ``"p/q"`` strings, or flint matrices. Results are
:class:`fractions.Fraction` (vectors as tuples, matrices as tuples of rows) so that callers need
no flint types; :func:`to_fmpq_mat` exposes the flint form for the hot paths.

This module must stay small and import nothing from theorychk's engines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import flint
import numpy as np

from theorychk.errors import InvalidInput

__all__ = [
    "rational",
    "rational_str",
    "to_fmpq_mat",
    "to_fmpz_mat",
    "to_fractions",
    "rank",
    "rank_mod_p",
    "nullspace",
    "solve",
    "matvec",
    "forward",
    "DEFAULT_PRIME",
]

Rational = Fraction
#: A 62-bit prime for modular-rank certificates (full rank mod p implies full rank over Q).
DEFAULT_PRIME = 4611686018427387847


def rational(value: Any) -> Fraction:
    """Convert one number to an exact :class:`Fraction`.

    Floats convert exactly (``0.1`` becomes ``3602879701896397/36028797018963968``); strings
    are read as ``"p/q"``, integers or exact float hex (``"0x1.8p-1"``). Non-finite values and
    other types are an :class:`InvalidInput`.

    Examples
    --------
    >>> rational(0.5), rational("-3/4"), rational("0x1.8p+1")
    (Fraction(1, 2), Fraction(-3, 4), Fraction(3, 1))
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (bool, np.bool_)):
        return Fraction(int(value))
    if isinstance(value, (int, np.integer)):
        return Fraction(int(value))
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if not math.isfinite(f):
            raise InvalidInput(f"cannot convert non-finite value {f} to a rational",
                               argument="value", got=value)
        return Fraction(f)
    if isinstance(value, flint.fmpq):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, flint.fmpz):
        return Fraction(int(value))
    if isinstance(value, str):
        text = value.strip()
        try:
            if text.lower().lstrip("+-").startswith("0x"):
                return Fraction(float.fromhex(text))
            return Fraction(text)
        except (ValueError, ZeroDivisionError, OverflowError):
            raise InvalidInput(f"cannot read {value!r} as an exact rational",
                               argument="value", got=value) from None
    raise InvalidInput(f"cannot convert {type(value).__name__} {value!r} to a rational",
                       argument="value", got=value)


def rational_str(value: Any) -> str:
    """Lossless text form: ``"p/q"`` (or ``"p"``) that :func:`rational` reads back."""
    q = rational(value)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def _float_to_scaled_ints(arr: np.ndarray) -> tuple[list[list[int]], int]:
    """Exact ``arr == Z * 2**shift`` with integer ``Z``: vectorised frexp, one shared shift."""
    if not np.all(np.isfinite(arr)):
        raise InvalidInput("matrix must be finite; got NaN or Inf", argument="a", got="NaN or Inf")
    mant, expo = np.frexp(arr)  # arr = mant * 2**expo, 0.5 <= |mant| < 1 (or mant == 0)
    ints = (mant * 2.0**53).astype(np.int64)  # exact: 53-bit significands
    expo = expo.astype(np.int64) - 53
    nz = ints != 0
    if not nz.any():
        return [[0] * arr.shape[1] for _ in range(arr.shape[0])], 0
    shift = int(expo[nz].min())
    rel = np.where(nz, expo - shift, 0)
    if int(rel.max()) < 10:  # common case: all entries fit in int64 after scaling
        return (ints << rel).tolist(), shift
    rows = [[int(v) << int(r) for v, r in zip(irow, rrow)] for irow, rrow in zip(ints.tolist(), rel.tolist())]
    return rows, shift


def _as_2d(a: Any) -> Any:
    if isinstance(a, (flint.fmpq_mat, flint.fmpz_mat)):
        return a
    if isinstance(a, np.ndarray):
        if a.ndim != 2:
            raise InvalidInput(f"matrix must be 2-D; got shape {a.shape}", argument="a", got=a.shape)
        return a
    if isinstance(a, Sequence) and not isinstance(a, str):
        rows = [list(r) for r in a]
        if rows and len({len(r) for r in rows}) != 1:
            raise InvalidInput("matrix rows must all have the same length",
                               argument="a", got=sorted({len(r) for r in rows}))
        return rows
    raise InvalidInput(f"matrix must be a 2-D array or a list of rows; got {type(a).__name__}",
                       argument="a", got=a)


def to_fmpz_mat(a: Any) -> tuple[flint.fmpz_mat, Fraction]:
    """An integer matrix ``Z`` and a positive rational ``scale`` with ``a == scale * Z`` exactly.

    Rank and nullspace of ``a`` equal those of ``Z``; this is the fast path for float input.
    """
    a = _as_2d(a)
    if isinstance(a, flint.fmpz_mat):
        return a, Fraction(1)
    if isinstance(a, np.ndarray) and (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        if a.size == 0:
            return flint.fmpz_mat(a.shape[0], a.shape[1]), Fraction(1)
        if np.issubdtype(a.dtype, np.integer):
            return flint.fmpz_mat(a.astype(object).tolist()), Fraction(1)
        rows, shift = _float_to_scaled_ints(a.astype(np.float64))
        return flint.fmpz_mat(rows), Fraction(2) ** shift
    q = to_fmpq_mat(a)
    if q.nrows() == 0 or q.ncols() == 0:
        return flint.fmpz_mat(q.nrows(), q.ncols()), Fraction(1)
    entries = [rational(x) for x in q.entries()]
    den = math.lcm(*(e.denominator for e in entries))
    ints = [int(e * den) for e in entries]
    n = q.ncols()
    return flint.fmpz_mat([ints[i : i + n] for i in range(0, len(ints), n)]), Fraction(1, den)


def to_fmpq_mat(a: Any) -> flint.fmpq_mat:
    """Exact conversion to a flint rational matrix."""
    a = _as_2d(a)
    if isinstance(a, flint.fmpq_mat):
        return a
    if isinstance(a, flint.fmpz_mat):
        return flint.fmpq_mat(a)
    if isinstance(a, np.ndarray) and a.dtype != object:
        z, scale = to_fmpz_mat(a)
        q = flint.fmpq_mat(z)
        return q * flint.fmpq(scale.numerator, scale.denominator) if scale != 1 else q
    rows = [[rational(x) for x in row] for row in a]
    if not rows:  # an object array with zero rows still has its columns (spark of a 0 x n matrix)
        return flint.fmpq_mat(0, a.shape[1] if isinstance(a, np.ndarray) else 0)
    return flint.fmpq_mat([[flint.fmpq(x.numerator, x.denominator) for x in row] for row in rows])


def to_fractions(m: Any) -> tuple[tuple[Fraction, ...], ...]:
    """A matrix as a tuple of rows of :class:`Fraction`."""
    q = to_fmpq_mat(m)
    n = q.ncols()
    flat = [rational(x) for x in q.entries()]
    return tuple(tuple(flat[i : i + n]) for i in range(0, len(flat), n)) if n else tuple(() for _ in range(q.nrows()))


def rank(a: Any) -> int:
    """Exact rank over Q.

    Examples
    --------
    >>> rank([[1, 2], [2, 4]]), rank(np.array([[0.1, 0.2], [0.3, 0.6000000000000001]]))
    (1, 2)
    """
    z, _ = to_fmpz_mat(a)
    if z.nrows() == 0 or z.ncols() == 0:
        return 0
    # Full rank mod p is full rank over Q (a nonzero minor mod p is nonzero): milliseconds where
    # fraction-free elimination on float-scaled integers takes minutes (784 x 500: issue 14).
    if int(flint.nmod_mat(z, DEFAULT_PRIME).rank()) == min(z.nrows(), z.ncols()):
        return min(z.nrows(), z.ncols())
    return int(z.rank())


def rank_mod_p(a: Any, p: int = DEFAULT_PRIME) -> int:
    """Rank of the integer form of ``a`` modulo the prime ``p``: a lower bound on the rank over Q.

    If it equals the number of columns (or rows) the matrix is certified to have full rank over
    Q; a drop needs an exact recheck with :func:`rank`.
    """
    z, _ = to_fmpz_mat(a)
    if z.nrows() == 0 or z.ncols() == 0:
        return 0
    return int(flint.nmod_mat(z, p).rank())


def nullspace(a: Any) -> tuple[tuple[Fraction, ...], ...]:
    """An exact basis of ``{x : a x = 0}``, one vector per tuple: primitive integer vectors
    whose first nonzero entry is positive.

    Examples
    --------
    >>> nullspace([[1, 1, 0], [0, 0, 1]])
    ((Fraction(1, 1), Fraction(-1, 1), Fraction(0, 1)),)
    """
    z, _ = to_fmpz_mat(a)
    n = z.ncols()
    if n == 0:
        return ()
    if z.nrows() == 0:
        return tuple(tuple(Fraction(int(i == j)) for i in range(n)) for j in range(n))
    basis, nullity = z.nullspace()
    out = []
    for j in range(int(nullity)):
        col = [int(basis[i, j]) for i in range(n)]
        g = math.gcd(*col)
        first = next(c for c in col if c)
        g = g if first > 0 else -g
        out.append(tuple(Fraction(c // g) for c in col))
    return tuple(out)


def solve(a: Any, b: Any) -> tuple[Fraction, ...] | None:
    """One exact solution ``x`` of ``a x = b`` (``b`` a vector), or ``None`` if inconsistent.

    Works for any shape; when the solution is not unique the one with free variables set to
    zero is returned (add :func:`nullspace` vectors for the others).
    """
    aq = to_fmpq_mat(a)
    m, n = aq.nrows(), aq.ncols()
    bvec = [rational(x) for x in (b.tolist() if isinstance(b, np.ndarray) else b)]
    if len(bvec) != m:
        raise InvalidInput(f"right-hand side must have length {m}; got {len(bvec)}", argument="b", got=b)
    if n == 0:
        return () if all(x == 0 for x in bvec) else None
    if m == 0:
        return tuple(Fraction(0) for _ in range(n))
    aug = flint.fmpq_mat(m, n + 1)
    for i in range(m):
        for j in range(n):
            aug[i, j] = aq[i, j]
        aug[i, n] = flint.fmpq(bvec[i].numerator, bvec[i].denominator)
    red, r = aug.rref()
    x = [Fraction(0)] * n
    for i in range(int(r)):
        lead = next(j for j in range(n + 1) if red[i, j] != 0)
        if lead == n:
            return None  # a row 0 = 1: inconsistent
        x[lead] = rational(red[i, n])
    return tuple(x)


def matvec(a: Any, x: Sequence[Any]) -> tuple[Fraction, ...]:
    """Exact ``a @ x``."""
    aq = to_fmpq_mat(a)
    xs = [rational(v) for v in x]
    if len(xs) != aq.ncols():
        raise InvalidInput(f"vector must have length {aq.ncols()}; got {len(xs)}", argument="x", got=x)
    if aq.ncols() == 0:
        return tuple(Fraction(0) for _ in range(aq.nrows()))
    col = flint.fmpq_mat([[flint.fmpq(v.numerator, v.denominator)] for v in xs])
    prod = aq * col
    return tuple(rational(prod[i, 0]) for i in range(aq.nrows()))


def forward(layers: Sequence[tuple[Any, Any, Any]], z: Sequence[Any]) -> list[tuple[Fraction, ...]]:
    """Exact forward pass through piecewise-linear layers; returns every layer's output.

    ``layers`` is a sequence of ``(weight, bias, activation)`` — e.g.
    ``[(l.weight, l.bias, l.activation) for l in net.layers]``; the activation may be an
    :class:`~theorychk.network.Activation` or its spec string, and is evaluated by its own
    :meth:`~theorychk.network.Activation.exact`. Weights and biases are read exactly as stored;
    ``z`` may hold floats, ints, Fractions or ``"p/q"`` strings. Smooth activations (tanh,
    sigmoid) have no exact value and are an :class:`InvalidInput`.

    Examples
    --------
    >>> forward([([[1, -1], [1, 1]], [0, "-1/2"], "relu")], [1, "1/4"])
    [(Fraction(3, 4), Fraction(3, 4))]
    """
    from theorychk.network import parse_activation  # here, not at the top: spark and rank never need it

    x = [rational(v) for v in z]
    outputs = []
    for weight, bias, spec in layers:
        act = parse_activation(spec)
        u = matvec(weight, x)
        b = [rational(v) for v in (bias.tolist() if isinstance(bias, np.ndarray) else bias)]
        if len(b) != len(u):
            raise InvalidInput(f"bias must have length {len(u)}; got {len(b)}",
                               argument=f"layers[{len(outputs)}].bias", got=bias)
        x = [act.exact(ui + bi) for ui, bi in zip(u, b)]
        outputs.append(tuple(x))
    return outputs
