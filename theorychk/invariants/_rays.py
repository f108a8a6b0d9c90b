"""Exact minimisation of ratio objectives over finite sets of candidate rays.

Both norm constants of :mod:`theorychk.invariants.cnorm` are minima of a ratio that is
homogeneous of degree 0 in ``x`` over a *finite, explicitly enumerable* set of candidate
directions (the proofs are in the docstrings of ``cnorm``):

* ``linf``: ``f(x) = (m-th smallest |w_i.x|) / ||x||_inf`` — candidates are the 1-D kernels of
  the "equal magnitude" systems of :func:`linf_rays`;
* ``l1``:   ``f(x) = (sum of the m smallest |w_i.x|) / ||x||_1`` — candidates are the 1-D
  kernels of ``k - 1`` rows (:func:`l1_rays`).

Everything is done on the integer matrix ``Z`` with ``W == scale * Z``; a candidate ray is an
exact integer vector (a generalised cross product of integer rows: signed minors). The search
evaluates each ray in float64 *with a rigorous a-priori rounding-error bound* and falls back to
exact integer arithmetic for every ray whose proven float lower bound does not clear the best
exact value found so far — the pattern of DESIGN.md: a float fast path where it is rigorous,
exact arithmetic for the borderline cases. The minimum it returns is therefore exact.

Rounding bound used (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §3.1):
with unit roundoff ``u = 2**-53``, the computed ``r = fl(Zf @ xf)`` of the rounded matrix ``Zf``
and rounded ray ``xf`` (Python int -> float conversion rounds to nearest) satisfies
``|r_i - (Z x)_i| <= gamma_k |Zf||xf| + 2u(1+u)^2 |Zf||xf| <= (k+4) u |Zf||xf| / (1 - (k+4) u)``.
The code uses ``2 (k + 4) u`` times the computed ``|Zf||xf|`` (itself within ``gamma_k``), and
further ``(m + 4) u``-sized factors for the sums and divisions that follow. Integers do not
underflow, and overflow sends the ray down the exact path.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import flint
import numpy as np

from theorychk import exact
from theorychk.errors import TimeLimitReached
from theorychk.runtime import Deadline

__all__ = [
    "IntMatrix",
    "FLOAT_FILTER_FACTOR",
    "RaySearch",
    "linf_ray_count",
    "l1_ray_count",
    "linf_rays",
    "l1_rays",
    "minimise_over_rays",
    "exact_ratio",
]

_U = 2.0**-53
#: Safety factor on the a-priori error bound of the float filter (recorded in results).
FLOAT_FILTER_FACTOR = 2.0
_CHUNK = 20_000
#: Object-integer operations per generated block (rays x cost of one generalised cross product):
#: keeps one block of :func:`l1_rays` / :func:`linf_rays` under 0.1 s even for k = 6 with 53-bit
#: entries (a block is the granularity at which :func:`minimise_over_rays` checks its deadline).
_BLOCK_OPS = 1_000_000
#: Exact ray evaluations between two deadline checks inside one block.
_CHECK_EVERY = 32
#: Float entries per evaluated block (rays x rows): bounds the filter's memory (~8 arrays of it).
_MAX_ENTRIES = 2_000_000


@dataclass(frozen=True)
class IntMatrix:
    """``W == scale * Z`` exactly, ``Z`` an integer matrix, in the forms the engines need."""

    obj: np.ndarray  # Z as an object array of Python ints (n x k)
    zf: np.ndarray  # Z rounded to float64 (for the float filter)
    fmpz: flint.fmpz_mat
    scale: Fraction
    wf: np.ndarray  # W / max|W| in float64, for HiGHS

    @property
    def shape(self) -> tuple[int, int]:
        return self.obj.shape  # type: ignore[return-value]

    @classmethod
    def of(cls, w: np.ndarray) -> IntMatrix:
        n, k = w.shape
        z, scale = exact.to_fmpz_mat(w)
        rows = [[int(v) for v in row] for row in z.tolist()] if n and k else [[0] * k for _ in range(n)]
        obj = np.empty((n, k), dtype=object)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                obj[i, j] = v
        big = max((abs(v).bit_length() for row in rows for v in row), default=0)
        shift = max(0, big - 900)  # keep floats finite; only the float proposals see this
        zf = np.array([[float(v >> shift) for v in row] for row in rows], dtype=np.float64)
        zf = zf.reshape(n, k)
        top = float(np.max(np.abs(zf))) if zf.size else 0.0
        wf = zf / top if top > 0 else zf.copy()
        if shift:  # zf must approximate Z itself for the rigorous filter; mark it unusable
            zf = np.full((n, k), np.inf)
        return cls(obj, zf, z, scale, wf)

    def take(self, rows: list[int]) -> IntMatrix:
        idx = np.asarray(rows, dtype=np.intp)
        obj = self.obj[idx] if len(rows) else np.empty((0, self.shape[1]), dtype=object)
        sub = flint.fmpz_mat([[obj[i, j] for j in range(obj.shape[1])] for i in range(obj.shape[0])]) if len(
            rows
        ) and obj.shape[1] else flint.fmpz_mat(len(rows), obj.shape[1])
        return IntMatrix(obj, self.zf[idx], sub, self.scale, self.wf[idx])


# --------------------------------------------------------------------------- candidate rays


def linf_ray_count(n: int, k: int) -> int:
    """Number of candidate systems :func:`linf_rays` enumerates."""
    # |E| = 1 imposes no equation on x: one E suffices (the ray does not depend on it).
    return l1_ray_count(n, k) + sum(
        (math.comb(k, e) if e > 1 else 1) * 2 ** (e - 1) * math.comb(n, k - e + 1) * 2 ** (k - e)
        for e in range(1, k + 1)
    )


def l1_ray_count(n: int, k: int) -> int:
    """Number of candidate systems :func:`l1_rays` enumerates."""
    return math.comb(n, k - 1) if k >= 1 else 0


def _flint_det(rows: list[list[int]]) -> int:
    """One exact determinant by FLINT (its own function so that a time-limit test can make each one
    cost a known number of fake seconds)."""
    return int(flint.fmpz_mat(rows).det())


def _batch_det(m: np.ndarray, deadline: Deadline | None = None) -> np.ndarray:
    """Exact determinants of a batch ``(N, p, p)`` of integer (object) matrices.

    For ``p > 5`` each determinant is one FLINT call whose cost grows like ``p^3`` times the bit
    size of the entries: a single block of a 71-column layer with 60-bit entries took minutes. So
    ``deadline`` is polled before every one of them, and :class:`TimeLimitReached` ends the batch
    (:func:`minimise_over_rays` turns it into an incomplete search, i.e. UNKNOWN "time limit").
    """
    n, p = m.shape[0], m.shape[1]
    if p == 0:
        out = np.empty(n, dtype=object)
        out[:] = 1
        return out
    if p == 1:
        return m[:, 0, 0]
    if p == 2:
        return m[:, 0, 0] * m[:, 1, 1] - m[:, 0, 1] * m[:, 1, 0]
    if p <= 5:  # Leibniz: p! products, vectorised over the batch
        total = np.zeros(n, dtype=object)
        for perm in itertools.permutations(range(p)):
            inversions = sum(1 for a in range(p) for b in range(a + 1, p) if perm[a] > perm[b])
            term = m[:, 0, perm[0]]
            for r in range(1, p):
                term = term * m[:, r, perm[r]]
            total = total - term if inversions % 2 else total + term
        return total
    out = np.empty(n, dtype=object)
    for i in range(n):
        if deadline is not None and deadline.expired():
            raise TimeLimitReached("exact determinants of a ray block")
        out[i] = _flint_det(m[i].tolist())
    return out


def _cross(d: np.ndarray, deadline: Deadline | None = None) -> np.ndarray:
    """Generalised cross products: for each ``(p, p+1)`` integer matrix the kernel vector of
    signed maximal minors (zero iff the rows are dependent)."""
    n, p, q = d.shape
    out = np.empty((n, q), dtype=object)
    for c in range(q):
        cols = [j for j in range(q) if j != c]
        det = _batch_det(d[:, :, cols], deadline)
        out[:, c] = det if c % 2 == 0 else -det
    return out


def _cross_chunk(p: int, chunk: int) -> int:
    """Rays per block for ``(p, p+1)`` cross products: ``chunk`` capped so that a block costs
    about ``_BLOCK_OPS`` object operations (``p+1`` determinants of ``p! * p`` products for
    ``p <= 5``; one flint determinant, counted as ``300 p``, beyond)."""
    per_det = math.factorial(p) * p if p <= 5 else 300 * p
    return max(16, min(chunk, _BLOCK_OPS // max(1, (p + 1) * per_det)))


def _combos(n: int, d: int, size: int) -> Iterator[np.ndarray]:
    it = itertools.combinations(range(n), d)
    while True:
        block = list(itertools.islice(it, size))
        if not block:
            return
        yield np.array(block, dtype=np.intp).reshape(len(block), d)


def _nonzero(x: np.ndarray) -> np.ndarray:
    return x[(x != 0).any(axis=1)] if len(x) else x


def linf_rays(z: np.ndarray, *, chunk: int = _CHUNK, deadline: Deadline | None = None) -> Iterator[np.ndarray]:
    """Candidate rays for ``min_x (m-th smallest |w_i.x|) / ||x||_inf`` (blocks of ``(N, k)``).

    A ray is fixed by a set ``E`` of coordinates of equal largest magnitude (relative signs
    ``beta``) and a set ``T`` of ``k - |E| + 1`` rows of equal magnitude (relative signs ``s``):
    ``x_{E_q} = beta_q x_{E_0}`` and ``w_{T_q}.x = s_q w_{T_0}.x`` — ``k - 1`` homogeneous
    equations. Substituting the ``E`` equations (``x = P y``) leaves ``d - 1`` difference rows in
    ``d = k - |E| + 1`` unknowns, whose kernel is the cross product of the rows.

    These cover every optimum with value ``t* > 0`` (no row is then active with both signs).
    The value 0 is covered by the kernel rays of ``k - 1`` rows, yielded first: if some ``m``
    rows lie in a hyperplane and ``rank W = k`` (the caller checks), ``k - 1`` independent rows
    of ``W`` containing a basis of their span have a kernel ray orthogonal to all ``m``.
    """
    n, k = z.shape
    yield from l1_rays(z, chunk=chunk, deadline=deadline)
    for e in range(1, k + 1):
        d = k - e + 1
        if d > n:
            continue
        # With |E| = 1 there is no E equation and the ray does not depend on E: take E = {0}.
        for big in itertools.combinations(range(k), e) if e > 1 else [(0,)]:
            rest = [j for j in range(k) if j not in big]
            for beta in itertools.product((1, -1), repeat=e - 1):
                p = np.zeros((k, d), dtype=object)
                p[big[0], 0] = 1
                for q, b in zip(big[1:], beta):
                    p[q, 0] = b
                for c, j in enumerate(rest, start=1):
                    p[j, c] = 1
                if d == 1:  # no row equations: the ray is the sign pattern itself
                    yield p.T.copy()
                    continue
                zp = z.dot(p)
                signs = np.empty((2 ** (d - 1), d - 1), dtype=object)
                signs[:] = list(itertools.product((1, -1), repeat=d - 1))
                per = max(1, _cross_chunk(d - 1, chunk) // len(signs))
                for t in _combos(n, d, per):
                    base = zp[t[:, 0]]  # (C, d)
                    others = zp[t[:, 1:]]  # (C, d-1, d)
                    dm = others[:, None, :, :] - signs[None, :, :, None] * base[:, None, None, :]
                    dm = dm.reshape(-1, d - 1, d)
                    y = _cross(dm, deadline)
                    yield _nonzero(y.dot(p.T))


def l1_rays(z: np.ndarray, *, chunk: int = _CHUNK, deadline: Deadline | None = None) -> Iterator[np.ndarray]:
    """Candidate rays for ``min_x (sum of m smallest |w_i.x|) / ||x||_1``: the kernel vector of
    every ``k - 1`` rows (zero vectors, from dependent rows, are dropped). With ``deadline``, the
    generator raises :class:`TimeLimitReached` inside a block once it has passed (for both ray
    generators)."""
    n, k = z.shape
    if k == 1:
        one = np.empty((1, 1), dtype=object)
        one[:] = 1
        yield one
        return
    for t in _combos(n, k - 1, _cross_chunk(k - 1, chunk)):
        yield _nonzero(_cross(z[t], deadline))


# --------------------------------------------------------------------------- the search


def exact_ratio(z: np.ndarray, x: tuple[int, ...] | list[int], *, objective: str, m: int) -> Fraction:
    """The exact objective of one integer ray (in ``Z`` units)."""
    xs = np.empty(len(x), dtype=object)
    xs[:] = [int(v) for v in x]
    vals = sorted(abs(int(v)) for v in z.dot(xs)) if len(z) else []
    if objective == "linf":
        return Fraction(vals[m - 1], max(abs(int(v)) for v in x))
    return Fraction(sum(vals[:m]), sum(abs(int(v)) for v in x))


def _bounded(blocks: Iterator[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Re-cut blocks of rays so that a block times the number of rows stays near _MAX_ENTRIES."""
    for block in blocks:
        for start in range(0, len(block), size):
            yield block[start : start + size]


def _above(q: Fraction) -> float:
    """A float >= q (float(q) rounds to nearest; one step up covers the rounding)."""
    try:
        return float(np.nextafter(float(q), math.inf))
    except OverflowError:
        return math.inf


@dataclass
class RaySearch:
    """Outcome: the exact minimum over the rays seen (``value``, Z units), the ray attaining it,
    and whether every candidate was seen (``complete``) — only then is ``value`` a lower bound."""

    value: Fraction | None
    ray: tuple[int, ...] | None
    candidates: int
    exact_checks: int
    complete: bool


def _float_bounds(
    z: np.ndarray, zf: np.ndarray, xs: np.ndarray, *, objective: str, m: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per ray: float estimate, proven float lower bound, and a mask of rays needing exact work."""
    k = z.shape[1]
    try:
        xf = xs.astype(np.float64)
    except OverflowError:
        n_rays = len(xs)
        return np.zeros(n_rays), np.full(n_rays, -np.inf), np.ones(n_rays, dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):
        r = np.abs(xf @ zf.T)
        bnd = np.abs(xf) @ np.abs(zf).T
        err = (FLOAT_FILTER_FACTOR * (k + 4) * _U) * bnd
        lo = np.maximum(r - err, 0.0)
        bad = ~(np.isfinite(r).all(axis=1) & np.isfinite(bnd).all(axis=1) & np.isfinite(xf).all(axis=1))
        ax = np.abs(xf)
        if objective == "linf":
            est_num = np.partition(r, m - 1, axis=1)[:, m - 1]
            lo_num = np.partition(lo, m - 1, axis=1)[:, m - 1]
            est_den = ax.max(axis=1)
            hi_den = est_den * (1 + 4 * _U)
        else:
            est_num = np.partition(r, m - 1, axis=1)[:, :m].sum(axis=1)
            shrink = 1 - FLOAT_FILTER_FACTOR * (m + 4) * _U  # the float sum of m terms >= 0
            lo_num = np.partition(lo, m - 1, axis=1)[:, :m].sum(axis=1) * shrink
            est_den = ax.sum(axis=1)
            hi_den = est_den * (1 + FLOAT_FILTER_FACTOR * (k + 4) * _U)
        est = est_num / est_den
        low = lo_num / hi_den * (1 - 4 * _U)
    bad |= ~np.isfinite(est) | ~np.isfinite(low)
    est[bad] = 0.0  # look at these first, exactly
    low[bad] = -np.inf
    return est, low, bad


def minimise_over_rays(
    z: np.ndarray,
    zf: np.ndarray,
    rays: Iterator[np.ndarray],
    *,
    objective: str,
    m: int,
    deadline: Deadline,
    advance=None,
) -> RaySearch:
    """Exact minimum of the objective over all rays of ``rays`` (see the module docstring).

    ``rays`` may raise :class:`TimeLimitReached` (generators given the same ``deadline`` do, inside
    a block): the search then ends incomplete, as when the deadline is seen between blocks."""
    best: Fraction | None = None
    best_ray: tuple[int, ...] | None = None
    seen = checks = 0
    stopped = False

    def blocks() -> Iterator[np.ndarray]:
        nonlocal stopped
        try:
            yield from _bounded(rays, max(1, _MAX_ENTRIES // max(1, z.shape[0])))
        except TimeLimitReached:
            stopped = True  # the rays not generated were not seen: the search is incomplete

    for block in blocks():
        if deadline.expired():
            return RaySearch(best, best_ray, seen, checks, False)
        if len(block) == 0:
            continue
        seen += len(block)
        est, low, _bad = _float_bounds(z, zf, block, objective=objective, m=m)
        # Exact-check the most promising ray first so that the threshold drops early, then
        # every ray whose *proven* float lower bound does not clear the best exact value.
        first = int(np.argmin(est))
        if best is None or est[first] < _above(best):
            value = exact_ratio(z, block[first], objective=objective, m=m)
            checks += 1
            if best is None or value < best:
                best, best_ray = value, tuple(int(v) for v in block[first])
        cut = _above(best)  # >= best: low >= cut proves value >= best
        survivors = np.nonzero(low < cut)[0]
        for idx in survivors[np.argsort(est[survivors], kind="stable")]:
            if idx == first or low[idx] >= cut:
                continue
            if checks % _CHECK_EVERY == 0 and deadline.expired():
                return RaySearch(best, best_ray, seen, checks, False)
            value = exact_ratio(z, block[idx], objective=objective, m=m)
            checks += 1
            if value < best:
                best, best_ray = value, tuple(int(v) for v in block[idx])
                cut = _above(best)
        if advance is not None:
            advance(len(block))
    return RaySearch(best, best_ray, seen, checks, not stopped)
