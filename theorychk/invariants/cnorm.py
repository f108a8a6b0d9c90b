r"""The norm constants c_inf(W, m) and c_1(W, m) of Assumptions 2 and 3 of Lei et al., exactly.

What paper 001 prints, what is wrong, what is implemented
----------------------------------------------------------
**Assumption 2** ("Submatrix extends l_inf norm") is printed as: *for the weight matrix*
``W in R^{n x k}`` *there exists an integer* ``m > k`` *and a constant* ``c_inf`` *such that for any*
``I subset [n], |I| >= m``, ``W_{I,:}`` *satisfies* ``W_{I,:} . ||x||_inf >= c_inf ||x||_inf`` *with
probability* ``1 - e^{-Omega(k)}`` *for any x*. Wrong with it:

1. The left-hand side multiplies a matrix by the scalar ``||x||_inf``; the proof of Lemma 2 uses
   ``||W_{I,:} a||_inf >= c_inf ||a||_inf`` — the norm of the product is meant.
2. For a given ``W`` the property is deterministic; the probability belongs to the claim that a
   random ``W`` has it (Corollary 1). It must hold for all ``x`` *simultaneously* (the proof applies
   it to ``a = z - z*``, which depends on ``W``), not "for any x with probability ...".
3. ``c_inf`` must be positive for Lemma 2 (it divides by it); ``c_inf > 0`` iff every ``m`` rows have
   full column rank, which needs ``m >= k`` (the paper asks ``m > k``).

**Assumption 3** is printed as ``||W_{I,:} x||_1 >= c_1 ||x||_1`` for ``|I| >= m``, with the same
probabilistic quantifier (item 2). The inequality itself is right.

Implemented: the best constants of the corrected assumptions, deterministic functions of ``W``::

    c_inf(W, m) = min over |I| >= m, ||x||_inf = 1 of ||W_I x||_inf
    c_1(W, m)   = min over |I| >= m, ||x||_1   = 1 of ||W_I x||_1

so that Assumption 2 (3) holds for ``W`` with integer ``m`` exactly for the constants
``0 < c <= c_inf(W, m)`` (``c_1(W, m)``). Both are monotone in ``I`` (``||W_I x|| <= ||W_J x||`` for
``I subset J``), so the minimum is attained at ``|I| = m``; swapping the two minima,
``c_inf(W, m) = min_{||x||_inf = 1} (m-th smallest |w_i . x|)`` and
``c_1(W, m) = min_{||x||_1 = 1} (sum of the m smallest |w_i . x|)``.

Conventions: ``W`` has rows ``w_i`` (``n x k``, our shape convention). ``m`` is in ``1..n``
(``m > n`` is an error: no row set is that large). A matrix with no columns is an error (the unit
sphere of ``R^0`` is empty). Zero rows are ordinary rows (``|w_i . x| = 0`` — they make the
constant 0 as soon as ``m`` exceeds the number of nonzero rows minus what a rank argument allows);
a zero column makes every constant 0 (``x = e_j`` is a null vector). For a fixed row set ``I``
(:func:`c_inf_of_rows`), ``I`` empty gives 0 (``W_I x`` is the empty vector).

Exactness
---------
Floats only propose; every reported bound is exact and carries evidence:

* **upper bounds** are a rational ``x`` with ``||x||_inf = 1`` (``||x||_1 = 1``), the row set and the
  objective at ``x`` computed in exact arithmetic — that value *is* an upper bound;
* **lower bounds** are LP dual vectors whose bound is recomputed exactly (weak duality), or the
  exhaustive evaluation of a finite candidate set that provably contains a minimiser;
* a rank-deficient row set proves the value 0 with a null vector.

Fixed ``I``, l_inf (:func:`c_inf_of_rows`). The sphere ``||x||_inf = 1`` is the union of the facets
``x_j = +-1``, and ``x -> -x`` maps one onto the other, so ``c(I) = min_j LP_j`` with
``LP_j = min t  s.t. -t <= W_I x <= t, x_j = 1, -1 <= x <= 1``. For any ``y`` with ``g = W_I^T y``
and every feasible ``x``: ``t >= ||W_I x||_inf >= |y . W_I x| / ||y||_1 >= (|g_j| - sum_{l != j}
|g_l|) / ||y||_1`` (Hölder, then ``|x_l| <= 1``) — so *any* rational ``y`` is a lower-bound
certificate, and the LP dual optimum makes it tight. (When ``g_l = 0`` for ``l != j``, ``y / g_j``
is a row of a left inverse and the bound is the left-inverse bound ``1 / ||L_j||_1``.) HiGHS solves
the ``k`` LPs (warm-started); for the LP with the smallest value the optimal *basis* is read
back, its ``k + 1`` active constraints are solved exactly (:mod:`flint`), giving the exact vertex
``x`` and, from the transposed system, the exact dual ``y``; the two bounds then coincide. For the
other facets the float dual, converted exactly, usually already clears the upper bound; when it
does not, that facet's basis is solved exactly as well. ``rank W_I < k`` gives ``c(I) = 0``.

Fixed ``I``, l_1 (:func:`c_1_of_rows`). If ``rank W_I = k``, the minimum of
``||W_I x||_1 / ||x||_1`` is attained at a ray spanning ``ker W_T`` for ``k - 1`` rows
``T subset I`` of rank ``k - 1``. Proof: on each cone ``C`` of the arrangement of the
hyperplanes ``w_i^perp`` (pointed, since ``ker W_I = 0``), ``||W_I x||_1 = g . x`` is linear. Let
``rho`` be the minimum over ``C`` and ``phi(y) = g . y - rho ||y||_1``; ``phi >= 0`` on ``C`` and is
concave and positively homogeneous, hence superadditive. Writing a minimiser
``x = sum lambda_r r`` over the extreme rays ``r`` of ``C``, ``0 = phi(x) >= sum lambda_r phi(r) >=
0`` forces ``phi(r) = 0``: an extreme ray — an intersection of ``k - 1`` independent
hyperplanes — is a minimiser. Two exact methods follow: enumerate those ``C(|I|, k - 1)`` rays
(``method="kernels"``), or solve one LP per sign pattern ``sigma`` (``sigma_1 = +1``,
``2^(k-1)`` LPs: ``min sum u  s.t. -u <= W_I x <= u, sigma . x = 1, sigma o x >= 0``) with the
weak-duality bound ``max(0, min_l sigma_l g_l) / max(1, ||y||_inf)``, ``g = W_I^T y``, valid for any
``y`` (``method="signs"``). Both are exponential in ``k`` (the problem is the maximum of a norm over
the cube's vertices — NP-hard in general); beyond the size limits a MILP proposes a sign
pattern, that pattern's LP is solved exactly (upper bound), and the lower bound is the exact
left-inverse bound ``c_1(I) >= 1 / max_i sum_l |L_{li}|`` (``L W_I = I_k``; ``x = L W_I x`` and
``||L||_{1->1}`` is the largest column sum) from an LP-optimised ``L`` corrected to an exact left
inverse — status UNKNOWN.

Global l_inf (:func:`c_inf`). ``method="vertices"`` (polynomial for fixed ``k``): an optimal
``(I*, x*)`` can be taken with ``x*`` a vertex of ``LP_j(I*)``, i.e. the unique solution of
``k + 1`` independent active constraints ``x_l = +-1`` (a set ``E`` with ``j in E``) and
``w_i . x = +-t`` (a set ``T``, ``|T| = k + 1 - |E|``). Eliminating ``t`` and the normalisation
leaves ``k - 1`` homogeneous equations ``x_{E_q} = +-x_{E_0}``, ``w_{T_q} . x = +-w_{T_0} . x``,
whose kernel is a line through ``x*``. Every nonzero ``x`` gives the upper bound
``(m-th smallest |w_i . x|) / ||x||_inf``, and at ``x*`` it is at most ``t* = c_inf``. So ``c_inf`` is
the minimum of that ratio over the finitely many kernel rays of all such systems
(:func:`theorychk.invariants._rays.linf_rays`), evaluated with a rigorous float filter and exact
integer arithmetic for the survivors — exact. ``method="row_sets"``: the minimum of the exact
fixed-``I`` values over all ``C(n, m)`` row sets. ``method="milp"``: one MILP per facet ``j``::

    min t  s.t.  w_i . x - t <= M_i (1 - z_i),  -w_i . x - t <= M_i (1 - z_i),
                 sum z_i >= m,  x_j = 1,  -1 <= x <= 1,  t >= 0,  z binary,  M_i = ||w_i||_1.

``M_i`` is valid (it never cuts off a feasible point): if ``z_i = 0`` the row must hold for every
``x`` in the box and ``t >= 0``, and ``+-w_i . x - t <= |w_i . x| <= ||w_i||_1 ||x||_inf <= ||w_i||_1``
(Hölder). The MILP only proposes ``I``; its exact fixed-``I`` value is the upper bound. Its dual
bound is float: reported in the evidence (``milp_dual_bound``, "MILP-proven, not exact") with
status UNKNOWN, reason "bound from MILP dual, not exact"; the lower bound stays rigorous (0,
unless a rank-deficient row set proves ``c = 0`` exactly).

Global l_1 (:func:`c_1`). By the fixed-``I`` theorem applied to a minimising ``I*`` (and, when
``W_{I*}`` is rank-deficient, to ``k - 1`` independent rows of ``W`` extending a basis of its row
space), ``c_1(W, m)`` is the minimum of ``(sum of the m smallest |w_i . x|) / ||x||_1`` over the
kernel rays of the ``C(n, k - 1)`` row sets of size ``k - 1`` (``method="kernels"``, polynomial for
fixed ``k``; if ``rank W < k`` the value is 0). ``method="milp"`` uses ``x = x+ - x-`` with sign
binaries ``b`` (``x+ <= b``, ``x- <= 1 - b``, ``sum (x+ + x-) = 1``) and ``M_i = ||w_i||_inf``, valid
since ``|w_i . x| <= ||w_i||_inf ||x||_1 = ||w_i||_inf``.

Limits (keyword arguments, recorded in ``params``): ``max_candidates`` rays, ``max_row_sets`` row
sets, ``max_lps`` sign-pattern LPs; beyond them the MILP route (UNKNOWN). ``time_limit`` seconds
(:class:`~theorychk.runtime.Deadline`) ends the work with UNKNOWN, reason ``Reason.TIME_LIMIT`` and the
bounds proven so far.

References
----------
.. [1] Q. Lei, A. Jalal, I. S. Dhillon, A. G. Dimakis, "Inverting Deep Generative Models, One
   Layer at a Time", ICML workshop version with appendix (``shared/papers/001_*``), Assumptions 2
   and 3, Lemma 2, Theorems 3 and 4; reviews ``003_*``.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import flint
import numpy as np

from theorychk import exact
from theorychk.errors import InvalidInput, Reason, unknown_name
from theorychk._highs import BASIC, INF, LOWER, LP_TOLERANCES, UPPER, Model, Program
from theorychk.invariants._lp import float_ints
from theorychk.invariants._matrix import as_matrix, check_count
from theorychk.invariants._rays import (
    FLOAT_FILTER_FACTOR,
    IntMatrix,
    l1_ray_count,
    l1_rays,
    linf_ray_count,
    linf_rays,
    minimise_over_rays,
)
from theorychk.invariants.result import Bound, InvariantResult
from theorychk.runtime import Deadline, progress
from theorychk.verdict import EngineStatus, Status

__all__ = ["c_inf", "c_1", "c_inf_of_rows", "c_1_of_rows", "linf_dual_bound"]

#: Default size limits of the exact methods (beyond them: MILP, status UNKNOWN).
DEFAULT_MAX_CANDIDATES = 2_000_000
DEFAULT_MAX_ROW_SETS = 2_000
DEFAULT_MAX_LPS = 4_096
#: Fixed-row l_inf: below this many candidate rays, an LP bound gap is closed by the ray search.
_FIXED_RAY_FALLBACK = 200_000
#: Facets per batched IRLS step (memory: ``chunk * rows * k`` floats).
_IRLS_CHUNK = 16
#: ``c_inf_of_rows(method="dual_bound")``: refinement rounds of the weakest facet, IRLS steps per
#: round, and the fraction of the float bound given up to store the dual vectors in fewer bits.
DUAL_LEVELS = 8
DUAL_STEPS = 3
DUAL_LOSS = 1e-3
#: Seconds for the MILP proposal inside :func:`c_1_of_rows` beyond the exact size limits. Off by
#: default: at k = 20 the l_1 MILP made no dual progress in 5 s (and ran for minutes without
#: closing the gap) on 40 x 20 Gaussians, while the local search found as good patterns in < 1 s.
DEFAULT_MILP_TIME_LIMIT = 0.0

_REASON_MILP = "bound from MILP dual, not exact"


# --------------------------------------------------------------------------- small exact helpers


def _col(values: Sequence[int]) -> flint.fmpz_mat:
    return flint.fmpz_mat(len(values), 1, [int(v) for v in values])


def _ints(values: Sequence[Any]) -> list[int]:
    """A rational vector scaled to coprime integers (same direction)."""
    fr = [exact.rational(v) for v in values]
    den = math.lcm(*(q.denominator for q in fr)) if fr else 1
    out = [int(q * den) for q in fr]
    g = math.gcd(*out) if out else 0
    return [v // g for v in out] if g > 1 else out


def _fmpq(q: Fraction) -> flint.fmpq:
    return flint.fmpq(q.numerator, q.denominator)


def _primitive(values: list[int]) -> list[int]:
    g = math.gcd(*values) if values else 0
    return [v // g for v in values] if g > 1 else values


def _zx(z: flint.fmpz_mat, x: Sequence[int]) -> list[int]:
    if z.nrows() == 0:
        return []
    prod = z * _col(x)
    return [int(prod[i, 0]) for i in range(z.nrows())]


def _normalised(x: Sequence[int], norm: str) -> list[Fraction]:
    d = max(abs(v) for v in x) if norm == "inf" else sum(abs(v) for v in x)
    return [Fraction(v, d) for v in x]


def _smallest(values: Sequence[int], m: int) -> list[int]:
    """Indices of the m smallest |values| (ties by index)."""
    return sorted(sorted(range(len(values)), key=lambda i: (abs(values[i]), i))[:m])


@dataclass
class _Out:
    """Bounds in ``Z`` units (``W = scale * Z``) with methods and evidence."""

    lower: Fraction
    lower_method: str
    upper: Fraction
    upper_method: str
    lower_evidence: dict[str, Any] = field(default_factory=dict)
    upper_evidence: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    tolerances: dict[str, float] = field(default_factory=dict)

    def tighten_upper(self, value: Fraction, method: str, evidence: dict[str, Any]) -> None:
        if value < self.upper:
            self.upper, self.upper_method, self.upper_evidence = value, method, evidence


def _witness(z: flint.fmpz_mat, x: Sequence[int], rows: Sequence[int], *, norm: str, m: int, scale: Fraction,
             row_ids: Sequence[int] | None = None) -> tuple[Fraction, dict[str, Any]]:
    """Exact objective at the integer ray ``x`` over the candidate ``rows`` (local indices).

    Returns the value in ``Z`` units and the upper-bound evidence (in ``W`` units, global rows).
    """
    vals = _zx(z, x)
    sub = [vals[i] for i in rows]
    pick = [rows[i] for i in _smallest(sub, m)]
    if norm == "inf":
        value = Fraction(max((abs(vals[i]) for i in pick), default=0), max(abs(v) for v in x))
    else:
        value = Fraction(sum(abs(vals[i]) for i in pick), sum(abs(v) for v in x))
    ids = list(row_ids) if row_ids is not None else list(range(z.nrows()))
    return value, {"x": _normalised(x, norm), "rows": [ids[i] for i in pick], "value": value * scale}


def _unit_vectors(im: IntMatrix, *, norm: str, m: int, row_ids: Sequence[int]
                  ) -> tuple[Fraction, dict[str, Any]]:
    """The trivial witnesses x = e_j: always available, exact."""
    best = None
    k = im.shape[1]
    for j in range(k):
        x = [int(l == j) for l in range(k)]
        value, ev = _witness(im.fmpz, x, list(range(im.shape[0])), norm=norm, m=m, scale=im.scale,
                             row_ids=row_ids)
        if best is None or value < best[0]:
            best = (value, ev)
    assert best is not None
    return best


def _rank_deficient(im: IntMatrix, *, norm: str, m: int, row_ids: Sequence[int]) -> _Out | None:
    """``c = 0`` exactly when ``rank Z < k`` (every row set is then deficient)."""
    r, k = im.shape
    if r >= k and (exact.rank_mod_p(im.fmpz) == k or exact.rank(im.fmpz) == k):
        return None  # full rank mod p proves full rank over Q
    null = exact.nullspace(im.fmpz)[0] if r else tuple(Fraction(int(l == 0)) for l in range(k))
    x = _ints(null)
    _, ev = _witness(im.fmpz, x, list(range(r)), norm=norm, m=m, scale=im.scale, row_ids=row_ids)
    ev["null_vector"] = True
    return _Out(Fraction(0), "trivial (norms are >= 0)", Fraction(0), "null vector (rank < k)", {}, ev)


# --------------------------------------------------------------------------- fixed I, l_inf


def _lb_linf(zt: flint.fmpz_mat, y: Sequence[int], j: int) -> Fraction:
    """Weak-duality bound of LP_j from any integer y: (|g_j| - sum_{l!=j} |g_l|) / ||y||_1."""
    ny = sum(abs(v) for v in y)
    if ny == 0:
        return Fraction(0)
    g = _zx(zt, y)
    val = abs(g[j]) - sum(abs(v) for l, v in enumerate(g) if l != j)
    return Fraction(max(val, 0), ny)


def _basis_solution(cons: list[list[int]], cost: list[int], col_status: Sequence[int],
                    row_status: Sequence[int], col_value: Callable[[int, int], int], row_value: Callable[[int, int], int]
                    ) -> tuple[list[Fraction], dict[int, Fraction]] | None:
    """Exact primal vertex and dual of an LP from HiGHS's basis.

    The nonbasic columns sit at a bound and the nonbasic rows are active: as many equations as
    variables, nonsingular for a valid basis. Solving them exactly gives the vertex; solving the
    transposed system ``sum pi_p a_p (+ bound multipliers) = cost`` gives the row duals ``pi``
    that the basis defines. Returns ``None`` if the basis is not square or is singular.
    """
    nv = len(cost)
    eqs: list[list[int]] = []
    rhs: list[int] = []
    tags: list[int] = []
    for v, st in enumerate(col_status):
        if st != BASIC:
            eqs.append([int(c == v) for c in range(nv)])
            rhs.append(col_value(v, st))
            tags.append(-1)
    for p, st in enumerate(row_status):
        if st != BASIC:
            eqs.append(cons[p])
            rhs.append(row_value(p, st))
            tags.append(p)
    if len(eqs) != nv:
        return None
    a = flint.fmpz_mat(eqs)
    try:
        primal = a.solve(_col(rhs))
        dual = a.transpose().solve(_col(cost))
    except ZeroDivisionError:
        return None
    z = [exact.rational(primal[c, 0]) for c in range(nv)]
    pi = {tag: exact.rational(dual[idx, 0]) for idx, tag in enumerate(tags) if tag >= 0}
    return z, pi


def _linf_vertex(im: IntMatrix, j: int, col_status: Sequence[int], row_status: Sequence[int]
                 ) -> tuple[list[int], list[int]] | None:
    """LP_j's exact vertex x and dual y (y_i = pi of row i + pi of row r + i) from the basis."""
    r, k = im.shape
    zrows = [[int(v) for v in im.obj[i]] for i in range(r)]
    cons = [row + [-1] for row in zrows] + [row + [1] for row in zrows]

    def col_value(v: int, st: int) -> int:
        if v == j:
            return 1
        if v == k:
            return 0  # t is free: nonbasic only at zero
        return -1 if st == LOWER else 1 if st == UPPER else 0

    sol = _basis_solution(cons, [0] * k + [1], col_status, row_status, col_value, lambda p, st: 0)
    if sol is None:
        return None
    z, pi = sol
    x = _ints(z[:k])
    if not any(x):
        return None
    y = [pi.get(i, Fraction(0)) + pi.get(r + i, Fraction(0)) for i in range(r)]
    return x, _ints(y) if any(y) else [0] * r


def _irls(a: np.ndarray, ys: np.ndarray, facets: Sequence[int], steps: int) -> None:
    """``steps`` iteratively reweighted least-squares steps toward ``argmin ||y||_1 s.t. A^T y = e_f``
    for the rows ``ys[f]``, ``f`` in ``facets`` (in place; a row whose step fails is kept). Batched
    in chunks of :data:`_IRLS_CHUNK` facets: all ``k`` at once of a 784 x 500 matrix is a
    500 x 784 x 500 array. Only proposes: every row becomes an exact bound through :func:`_lb_linf`."""
    k = a.shape[1]
    eye = np.eye(k)
    facets = list(facets)
    with np.errstate(all="ignore"):
        for lo in range(0, len(facets), _IRLS_CHUNK):
            part = facets[lo:lo + _IRLS_CHUNK]
            rows = ys[part]
            for _ in range(steps):
                d = np.abs(rows) + 1e-9 * np.maximum(np.abs(rows).max(axis=1, keepdims=True), 1e-300)
                ad = a[None, :, :] * d[:, :, None]  # (f, r, k): D_f A
                try:
                    coef = np.linalg.solve(np.matmul(a.T[None, :, :], ad), eye[part][:, :, None])[:, :, 0]
                except np.linalg.LinAlgError:
                    break
                nxt = np.matmul(ad, coef[:, :, None])[:, :, 0]
                if not np.all(np.isfinite(nxt)):
                    break
                rows = nxt
            ys[part] = rows


def _l1_left_inverse_rows(a: np.ndarray, iterations: int = 12) -> np.ndarray:
    """Float approximations of ``argmin ||l||_1 s.t. A^T l = e_j`` for every ``j`` (rows of the
    result): :func:`_irls` from the pseudo-inverse (the l_2-minimal left inverse)."""
    rows = np.linalg.pinv(a)
    _irls(a, rows, range(a.shape[1]), iterations)
    return rows


def _float_facet_bounds(a: np.ndarray, ys: np.ndarray, facets: Sequence[int] | None = None) -> np.ndarray:
    """The bounds of :func:`_lb_linf` in floats (to steer the search; never reported)."""
    facets = list(range(ys.shape[0])) if facets is None else list(facets)
    g = np.abs(ys[facets] @ a)
    with np.errstate(all="ignore"):
        val = (2 * g[np.arange(len(facets)), facets] - g.sum(axis=1)) / np.abs(ys[facets]).sum(axis=1)
    return np.where(np.isfinite(val), val, -np.inf)


def _linf_dual_rows(a: np.ndarray, deadline: Deadline, *, levels: int, steps: int) -> np.ndarray:
    """Dual vectors for every facet of ``c_inf(A) = min_f LP_f``, refined where the minimum is.

    Start from the pseudo-inverse rows (one SVD; ``A^T y_f = e_f``, bound ``~ 1 / ||y_f||_1``), then
    repeatedly give the facet with the smallest bound ``steps`` more IRLS steps toward the
    l_1-minimal row (the LP dual optimum), until the smallest bound belongs to a facet refined
    ``levels`` times: every facet that could be the minimum has then been refined, and the others
    are left as they are — the cost follows the few facets near the minimum, not all ``k``.
    """
    ys = np.linalg.pinv(a)
    heap = [(float(b), f, 0) for f, b in enumerate(_float_facet_bounds(a, ys))]
    heapq.heapify(heap)
    while heap and not deadline.expired():
        value, f, level = heapq.heappop(heap)
        if level >= levels:
            break
        before = ys[f].copy()
        _irls(a, ys, [f], steps)
        new = float(_float_facet_bounds(a, ys, [f])[0])
        if not new > value:  # no progress (or a failed step): keep the better row, refine no further
            ys[f], new, level = before, value, levels
        heapq.heappush(heap, (new, f, level + 1))
    return ys


def _integer_duals(a: np.ndarray, ys: np.ndarray, loss: float) -> list[list[int]]:
    """The rows of ``ys`` rounded to integers, each with the fewest bits that keep its float bound
    above ``(1 - loss)`` times the smallest float bound (the bound is scale-free in ``y``): the
    facets far above the minimum are stored with a few bits, which is most of them."""
    k = ys.shape[0]
    target = (1 - loss) * float(_float_facet_bounds(a, ys).min())
    top = np.abs(ys).max(axis=1)
    exps = np.frexp(np.where(top > 0, top, 1.0))[1]
    out: list[list[int]] = [[] for _ in range(k)]
    pending = list(range(k))
    for bits in (6, 8, 10, 12, 16, 20, 24, 32, 40, 52):
        q = np.rint(np.ldexp(ys[pending], (bits - exps[pending])[:, None]))
        qf = np.zeros_like(ys)
        qf[pending] = q
        ok = _float_facet_bounds(a, qf, pending) >= target
        if bits == 52:
            ok[:] = True
        for f, row, good in zip(pending, q, ok):
            if good:
                out[f] = [int(v) for v in row]
        pending = [f for f, good in zip(pending, ok) if not good]
        if not pending:
            break
    return out


def _lb_linf_all(zt: flint.fmpz_mat, ys: list[list[int]]) -> list[Fraction]:
    """:func:`_lb_linf` for y_j and facet j, all j, in exact products ``Y Z`` — one per bit length
    of the rows of ``Y`` (flint sizes a product by its largest entry; most rows are short)."""
    k, r = zt.nrows(), zt.ncols()
    z = zt.transpose()
    groups: dict[int, list[int]] = {}
    for j, y in enumerate(ys):
        groups.setdefault(int(max(map(abs, y), default=0)).bit_length(), []).append(j)
    out = [Fraction(0)] * k
    for facets in groups.values():
        g = (flint.fmpz_mat(len(facets), r, [v for j in facets for v in ys[j]]) * z).tolist()
        for j, row in zip(facets, g):
            ny = int(sum(map(abs, ys[j])))
            val = int(2 * abs(row[j]) - sum(map(abs, row)))
            out[j] = Fraction(max(val, 0), ny) if ny else Fraction(0)
    return out


def _linf_fixed(im: IntMatrix, row_ids: Sequence[int], deadline: Deadline) -> _Out:
    """Exact ``min_{||x||_inf = 1} ||W_I x||_inf`` (see the module docstring, "Fixed I, l_inf").

    Cheap certificates first: IRLS approximations ``y_j`` of the l_1-minimal left-inverse rows
    give exact lower bounds ``LB_j`` per facet (weak duality); the LP of the facet with the
    smallest ``LB_j`` is solved and its basis re-solved exactly (the upper bound, and usually
    ``LB`` for that facet); only facets whose cheap bound stays below the upper bound get an LP.
    """
    r, k = im.shape
    dead = _rank_deficient(im, norm="inf", m=r, row_ids=row_ids)
    if dead is not None:
        return dead
    zt = im.fmpz.transpose()
    all_rows = list(range(r))
    ys = [_primitive(float_ints(yf)[0]) if np.all(np.isfinite(yf)) else [0] * r
          for yf in _l1_left_inverse_rows(im.wf)]
    facet_lb = {j: (lb, ys[j], "l_1 left-inverse row (IRLS), exact bound")
                for j, lb in enumerate(_lb_linf_all(zt, ys))}
    out = _Out(Fraction(0), "trivial (norms are >= 0)", Fraction(-1), "", {}, {},
               tolerances=dict(LP_TOLERANCES))
    a = np.vstack([np.hstack([im.wf, -np.ones((r, 1))]), np.hstack([im.wf, np.ones((r, 1))])])
    model = Model(Program(
        a,
        cost=np.r_[np.zeros(k), 1.0],
        col_lower=np.r_[-np.ones(k), -INF],
        col_upper=np.r_[np.ones(k), INF],
        row_lower=np.r_[np.full(r, -INF), np.zeros(r)],
        row_upper=np.r_[np.zeros(r), np.full(r, INF)],
    ))
    fixed_col = None
    failed = False
    for j in sorted(range(k), key=lambda q: facet_lb[q][0]):
        if out.upper >= 0 and facet_lb[j][0] >= out.upper:
            continue
        if fixed_col is not None:
            model.set_col_bounds(fixed_col, -1.0, 1.0)
        model.set_col_bounds(j, 1.0, 1.0)
        fixed_col = j
        sol = model.solve(deadline)
        if sol.status is not EngineStatus.OPTIMAL:
            failed = True
            break
        if sol.row_dual is not None:
            y = _primitive(float_ints(sol.row_dual[:r] + sol.row_dual[r:])[0])
            lb = _lb_linf(zt, y, j)
            if lb > facet_lb[j][0]:
                facet_lb[j] = (lb, y, "LP dual (float), exact bound")
            if out.upper >= 0 and lb >= out.upper:
                continue
        rec = None
        if sol.col_status is not None and sol.row_status is not None:
            rec = _linf_vertex(im, j, sol.col_status, sol.row_status)
        if rec is None:
            if sol.x is not None:  # still an upper bound: the float point, rationalised
                xi, _ = float_ints(sol.x[:k])
                if any(xi):
                    value, ev = _witness(im.fmpz, xi, all_rows, norm="inf", m=r, scale=im.scale,
                                         row_ids=row_ids)
                    if out.upper < 0 or value < out.upper:
                        out.upper, out.upper_method, out.upper_evidence = value, "LP point (rationalised)", ev
            continue
        x, y = rec
        value, ev = _witness(im.fmpz, x, all_rows, norm="inf", m=r, scale=im.scale, row_ids=row_ids)
        if out.upper < 0 or value < out.upper:
            out.upper, out.upper_method, out.upper_evidence = value, "LP vertex, solved exactly", ev
        lb = _lb_linf(zt, y, j)
        if lb > facet_lb[j][0]:
            facet_lb[j] = (lb, y, "exact dual of the optimal basis")
    if out.upper < 0:  # no LP finished: the unit vectors still give an exact upper bound
        out.upper, ev = _unit_vectors(im, norm="inf", m=r, row_ids=row_ids)
        out.upper_method, out.upper_evidence = "unit vector", ev
    low = min(v[0] for v in facet_lb.values())
    if low > 0:
        out.lower, out.lower_method = low, "LP duality (one dual vector per facet x_j = 1)"
        out.lower_evidence = {
            "formula": "c(I) >= min_j (|g_j| - sum_{l != j} |g_l|) / ||y_j||_1, g = W_I^T y_j",
            "certificates": [
                {"facet": j, "y": {row_ids[i]: v for i, v in enumerate(y) if v},
                 "bound": b * im.scale, "source": src}
                for j, (b, y, src) in sorted(facet_lb.items())
            ],
        }
    if out.lower != out.upper and not failed and linf_ray_count(r, k) <= _FIXED_RAY_FALLBACK:
        # Badly scaled rows can leave HiGHS's basis off by rounding; for small k the exact
        # candidate-ray search (module docstring, "Global l_inf", with m = |I|) settles it.
        found = minimise_over_rays(im.obj, im.zf, linf_rays(im.obj, deadline=deadline), objective="linf", m=r,
                                   deadline=deadline)
        if found.ray is not None:
            value, ev = _witness(im.fmpz, found.ray, all_rows, norm="inf", m=r, scale=im.scale,
                                 row_ids=row_ids)
            if value < out.upper:
                out.upper, out.upper_method, out.upper_evidence = value, "candidate ray (exact)", ev
        if found.complete and found.value is not None:
            out.lower, out.lower_method = found.value, "exhaustive over vertex rays (LP basis inexact)"
            out.lower_evidence = {"candidates": found.candidates, "exact_checks": found.exact_checks}
            out.tolerances["float_filter_factor"] = FLOAT_FILTER_FACTOR
    if out.lower != out.upper:
        if failed or deadline.expired():
            out.reason = Reason.TIME_LIMIT if deadline.expired() else "LP solver did not reach optimality"
        else:
            out.reason = Reason.BOUND_GAP
    return out


# --------------------------------------------------------------------------- fixed I, l_1


def _lb_l1(zt: flint.fmpz_mat, y: Sequence[int], sigma: Sequence[int]) -> Fraction:
    """Weak-duality bound of LP_sigma from any integer y: max(0, min_l s sigma_l g_l) / ||y||_inf,
    the better of the two signs s = +-1 (both are valid duals)."""
    ny = max((abs(v) for v in y), default=0)
    if ny == 0:
        return Fraction(0)
    g = _zx(zt, y)
    best = max(min(s * sl * gl for sl, gl in zip(sigma, g)) for s in (1, -1))
    return Fraction(max(best, 0), ny)


def _l1_vertex(im: IntMatrix, sigma: Sequence[int], col_status: Sequence[int], row_status: Sequence[int]
               ) -> tuple[list[int], list[int]] | None:
    """LP_sigma's exact vertex x and dual y (y_i = pi of row i + pi of row r + i) from the basis.

    Variables (x, u); rows w_i.x - u_i <= 0, w_i.x + u_i >= 0, sigma.x = 1; every finite
    column bound is 0."""
    r, k = im.shape
    zrows = [[int(v) for v in im.obj[i]] for i in range(r)]
    cons = [row + [-int(c == i) for c in range(r)] for i, row in enumerate(zrows)]
    cons += [row + [int(c == i) for c in range(r)] for i, row in enumerate(zrows)]
    cons.append([int(s) for s in sigma] + [0] * r)
    sol = _basis_solution(cons, [0] * k + [1] * r, col_status, row_status, lambda v, st: 0,
                          lambda p, st: 1 if p == 2 * r else 0)
    if sol is None:
        return None
    z, pi = sol
    x = _ints(z[:k])
    if not any(x):
        return None
    y = [pi.get(i, Fraction(0)) + pi.get(r + i, Fraction(0)) for i in range(r)]
    return x, _ints(y) if any(y) else [0] * r


def _gray_signs(k: int) -> list[tuple[int, ...]]:
    """All sign patterns with sigma_0 = +1 in Gray-code order (one flip per step)."""
    out = []
    for g in range(2 ** (k - 1)):
        code = g ^ (g >> 1)
        out.append((1,) + tuple(-1 if (code >> (l - 1)) & 1 else 1 for l in range(1, k)))
    return out


def _l1_sign_model(im: IntMatrix, sigma: Sequence[int]) -> Model:
    r, k = im.shape
    eye = np.eye(r)
    a = np.vstack([
        np.hstack([im.wf, -eye]),
        np.hstack([im.wf, eye]),
        np.r_[np.asarray(sigma, dtype=float), np.zeros(r)][None, :],
    ])
    lo = [0.0 if s > 0 else -INF for s in sigma]
    hi = [INF if s > 0 else 0.0 for s in sigma]
    return Model(Program(
        a,
        cost=np.r_[np.zeros(k), np.ones(r)],
        col_lower=np.r_[lo, np.zeros(r)],
        col_upper=np.r_[hi, np.full(r, INF)],
        row_lower=np.r_[np.full(r, -INF), np.zeros(r), 1.0],
        row_upper=np.r_[np.zeros(r), np.full(r, INF), 1.0],
    ))


def _set_sign(model: Model, r: int, l: int, s: int) -> None:
    model.set_col_bounds(l, 0.0 if s > 0 else -INF, INF if s > 0 else 0.0)
    model.set_coeff(2 * r, l, float(s))


def _l1_signs(im: IntMatrix, row_ids: Sequence[int], deadline: Deadline, out: _Out,
              patterns: Sequence[tuple[int, ...]] | None = None) -> bool:
    """Solve LP_sigma for the given (default: all) sign patterns; tighten ``out``. Returns True
    when every pattern got an exact lower bound (then ``out.lower`` is set)."""
    r, k = im.shape
    pats = list(patterns) if patterns is not None else _gray_signs(k)
    model = _l1_sign_model(im, pats[0])
    current = list(pats[0])
    zt = im.fmpz.transpose()
    all_rows = list(range(r))
    results = []
    complete = True
    for sigma in pats:
        for l in range(k):
            if sigma[l] != current[l]:
                _set_sign(model, r, l, sigma[l])
                current[l] = sigma[l]
        sol = model.solve(deadline)
        if sol.status is not EngineStatus.OPTIMAL:
            complete = False  # the solved patterns still give exact upper bounds
            break
        results.append((sol.objective, sigma, sol))
    results.sort(key=lambda t: t[0])
    lbs = []
    for count, (_, sigma, sol) in enumerate(results):
        if count and count % 16 == 0 and deadline.expired():
            complete = False  # the exact basis solves so far still gave exact upper bounds
            break
        lb, y, src = Fraction(0), None, ""
        if sol.row_dual is not None:
            yi = _primitive(float_ints(sol.row_dual[:r] + sol.row_dual[r : 2 * r])[0])
            lb, y, src = _lb_l1(zt, yi, sigma), yi, "float dual, exact bound"
        if lb < out.upper and sol.col_status is not None and sol.row_status is not None:
            rec = _l1_vertex(im, sigma, sol.col_status, sol.row_status)
            if rec is None and sol.x is not None:
                xf, _ = float_ints(sol.x[:k])
                rec = (xf, []) if any(xf) else None
            if rec is not None:
                x, yd = rec
                value, ev = _witness(im.fmpz, x, all_rows, norm="1", m=r, scale=im.scale, row_ids=row_ids)
                out.tighten_upper(value, "LP vertex, solved exactly", ev)
                lb2 = _lb_l1(zt, yd, sigma) if yd else Fraction(0)
                if lb2 > lb:
                    lb, y, src = lb2, yd, "exact dual of the optimal basis"
        lbs.append((lb, sigma, y, src))
    if complete and patterns is None:
        out.lower = min(t[0] for t in lbs)
        out.lower_method = "LP duality (one dual vector per sign pattern)"
        out.lower_evidence = {
            "formula": "c_1(I) >= min_sigma max(0, min_l s sigma_l g_l) / ||y_sigma||_inf, g = W_I^T y_sigma, "
                       "s = +-1",
            "patterns": len(lbs),
            "certificates": [
                {"sigma": list(s), "y": {row_ids[i]: v for i, v in enumerate(y or []) if v},
                 "bound": b * im.scale, "source": src}
                for b, s, y, src in sorted(lbs, key=lambda t: t[1])
            ],
        }
    return complete


def _left_inverse_bound(im: IntMatrix, row_ids: Sequence[int], deadline: Deadline
                        ) -> tuple[Fraction, dict] | None:
    """c_1(I) >= 1 / ||L||_{1->1} for an exact left inverse L (L W_I = I): the largest column sum.

    An LP minimises the largest column sum of a float L; L0 = rationalised L is then corrected
    exactly, L = L0 + (I - L0 Z)(Z^T Z)^{-1} Z^T, so that L Z = I holds in exact arithmetic.
    """
    r, k = im.shape
    nv = k * r  # L = P - N, P, N >= 0, variables ordered (P, N, tau)
    rows, lo, hi = [], [], []
    for i in range(r):  # sum_l P_li + N_li - tau <= 0
        row = np.zeros(2 * nv + 1)
        for l in range(k):
            row[l * r + i] = row[nv + l * r + i] = 1.0
        row[-1] = -1.0
        rows.append(row); lo.append(-INF); hi.append(0.0)
    for a in range(k):  # (L A)_{ab} = delta_ab
        for b in range(k):
            row = np.zeros(2 * nv + 1)
            row[a * r : (a + 1) * r] = im.wf[:, b]
            row[nv + a * r : nv + (a + 1) * r] = -im.wf[:, b]
            rows.append(row); lo.append(float(a == b)); hi.append(float(a == b))
    cost = np.zeros(2 * nv + 1); cost[-1] = 1.0
    model = Model(Program(np.array(rows), cost=cost, col_lower=np.zeros(2 * nv + 1),
                          col_upper=np.full(2 * nv + 1, INF),
                          row_lower=np.array(lo), row_upper=np.array(hi)), presolve="on")
    sol = model.solve(deadline)
    if sol.status is not EngineStatus.OPTIMAL or sol.x is None:
        return None
    lf = sol.x[:nv] - sol.x[nv : 2 * nv]
    # im.wf = Z * c with c ~ 1/top; L for Z is L_wf * c. Only the direction matters before the
    # exact correction, so use the exact float values and let the correction absorb the rest.
    top = float(np.max(np.abs(im.zf))) if np.isfinite(im.zf).all() else 1.0
    l0 = flint.fmpq_mat(k, r, [_fmpq(exact.rational(v / top)) for v in lf])
    zq = flint.fmpq_mat(im.fmpz)
    ztz = zq.transpose() * zq
    try:
        corr = (flint.fmpq_mat(k, k, [int(a == b) for a in range(k) for b in range(k)]) - l0 * zq) * ztz.inv()
    except ZeroDivisionError:
        return None
    lmat = l0 + corr * zq.transpose()
    sums = [sum(abs(exact.rational(lmat[l, i])) for l in range(k)) for i in range(r)]
    worst = max(sums)
    if worst == 0:
        return None
    bound = 1 / worst  # in Z units
    return bound, {
        "formula": "c_1(I) >= 1 / max_i sum_l |L_li| with L W_I = I exactly (W units: L / scale)",
        "left_inverse_scale": im.scale,
        "left_inverse_Z": [[exact.rational(lmat[l, i]) for i in range(r)] for l in range(k)],
        "bound": bound * im.scale,
    }


def _l1_milp_point(wf: np.ndarray, m: int, deadline: Deadline) -> tuple[np.ndarray | None, float, str]:
    """MILP proposal for min over |I| >= m, ||x||_1 = 1 of ||W_I x||_1 (see module docstring).

    Variables: x+ (k), x- (k), b (k, binary), u (n), z (n, binary)."""
    n, k = wf.shape
    nv = 3 * k + 2 * n
    xp, xm, bb, uu, zz = 0, k, 2 * k, 3 * k, 3 * k + n
    big = np.max(np.abs(wf), axis=1)
    rows, lo, hi = [], [], []

    def add(coefs: dict[int, float], low: float, high: float) -> None:
        row = np.zeros(nv)
        for c, v in coefs.items():
            row[c] += v
        rows.append(row); lo.append(low); hi.append(high)

    for l in range(k):
        add({xp + l: 1.0, bb + l: -1.0}, -INF, 0.0)
        add({xm + l: 1.0, bb + l: 1.0}, -INF, 1.0)
    add({**{xp + l: 1.0 for l in range(k)}, **{xm + l: 1.0 for l in range(k)}}, 1.0, 1.0)
    for i in range(n):
        for s in (1.0, -1.0):
            coefs = {xp + l: s * wf[i, l] for l in range(k)}
            coefs.update({xm + l: -s * wf[i, l] for l in range(k)})
            coefs[uu + i] = -1.0
            coefs[zz + i] = big[i]
            add(coefs, -INF, big[i])
    if m < n:
        add({zz + i: 1.0 for i in range(n)}, float(m), INF)
    cost = np.zeros(nv); cost[uu : uu + n] = 1.0
    col_lo = np.zeros(nv)
    col_hi = np.r_[np.ones(3 * k), np.full(n, INF), np.ones(n)]
    col_lo[bb] = 1.0  # symmetry x -> -x: x_0 >= 0
    if m == n:
        col_lo[zz:] = 1.0
    integer = np.r_[np.arange(bb, bb + k), np.arange(zz, zz + n)]
    model = Model(Program(np.array(rows), cost=cost, col_lower=col_lo, col_upper=col_hi, row_lower=np.array(lo),
                          row_upper=np.array(hi), integer=integer), presolve="on")
    sol = model.solve(deadline)
    x = sol.x[xp : xp + k] - sol.x[xm : xm + k] if sol.x is not None else None
    return x, sol.dual_bound, sol.label


def _l1_fixed(im: IntMatrix, row_ids: Sequence[int], deadline: Deadline, *, method: str, max_lps: int,
              max_candidates: int, milp_time_limit: float | None = None) -> _Out:
    r, k = im.shape
    dead = _rank_deficient(im, norm="1", m=r, row_ids=row_ids)
    if dead is not None:
        return dead
    upper, up_ev = _unit_vectors(im, norm="1", m=r, row_ids=row_ids)
    out = _Out(Fraction(0), "trivial (norms are >= 0)", upper, "unit vector", {}, up_ev)
    n_kernels, n_signs = l1_ray_count(r, k), 2 ** (k - 1)
    if method == "auto":
        # Rough costs measured here: ~2 us per kernel ray (k <= 6), ~1 ms per sign LP.
        options = []
        if n_kernels <= max_candidates and k <= 6:
            options.append((n_kernels * 2e-6 * max(1, r / 20), "kernels"))
        if n_signs <= max_lps:
            options.append((n_signs * 1e-3, "signs"))
        method = min(options)[1] if options else "milp"
    if method == "kernels":
        out.tolerances["float_filter_factor"] = FLOAT_FILTER_FACTOR
        found = minimise_over_rays(im.obj, im.zf, l1_rays(im.obj, deadline=deadline), objective="l1", m=r,
                                   deadline=deadline)
        if found.ray is not None:
            value, ev = _witness(im.fmpz, found.ray, list(range(r)), norm="1", m=r, scale=im.scale,
                                 row_ids=row_ids)
            out.tighten_upper(value, "kernel ray of k-1 rows", ev)
        if found.complete:
            out.lower, out.lower_method = found.value, "exhaustive over the kernel rays of k-1 rows"
            out.lower_evidence = {"candidates": found.candidates, "exact_checks": found.exact_checks,
                                  "theorem": "a minimiser spans a kernel ray of k-1 rows (cnorm docstring)"}
        else:
            out.reason = Reason.TIME_LIMIT
        return out
    out.tolerances.update(LP_TOLERANCES)
    if method == "signs":
        if not _l1_signs(im, row_ids, deadline, out):
            out.reason = Reason.TIME_LIMIT if deadline.expired() else "LP solver did not reach optimality"
        elif out.lower != out.upper and n_kernels <= min(max_candidates, _FIXED_RAY_FALLBACK):
            # A basis left inexact by rounding (badly scaled rows): the kernel rays settle it.
            return _l1_fixed(im, row_ids, deadline, method="kernels", max_lps=max_lps,
                             max_candidates=max_candidates)
        elif out.lower != out.upper:
            out.reason = Reason.BOUND_GAP
        return out
    # Beyond the exact methods: a local search over sign patterns and a time-boxed MILP propose
    # patterns; each proposed pattern's LP is solved exactly (upper bound). Lower bound: the
    # exact left-inverse bound. Status UNKNOWN.
    sigma = _l1_descent(im, deadline)
    if sigma is not None:
        _l1_signs(im, row_ids, deadline, out, patterns=[sigma])
    status, dual_bound = "not run", 0.0
    if milp_time_limit is None or milp_time_limit > 0:
        remaining = deadline.remaining()
        budget = [t for t in (remaining, milp_time_limit) if t is not None]
        box = Deadline(max(min(budget), 1e-3)) if budget else deadline
        x, dual_bound, status = _l1_milp_point(im.wf, r, box)
        if x is not None and np.any(x):
            sig = tuple(1 if v >= 0 else -1 for v in x)
            _l1_signs(im, row_ids, deadline, out, patterns=[sig if sig[0] > 0 else tuple(-v for v in sig)])
    lb = _left_inverse_bound(im, row_ids, deadline)
    if lb is not None and lb[0] > out.lower:
        out.lower, out.lower_method, out.lower_evidence = lb[0], "exact left inverse", lb[1]
    top = float(np.max(np.abs(im.zf))) if np.isfinite(im.zf).all() else float("nan")
    out.lower_evidence["milp_dual_bound"] = float(max(dual_bound, 0.0) * top * float(im.scale))
    out.lower_evidence["milp_status"] = status
    out.lower_evidence["milp_note"] = "MILP-proven (not exact): HiGHS's float dual bound, W units"
    if out.lower != out.upper:
        if status == EngineStatus.OPTIMAL:
            out.reason = _REASON_MILP
        else:
            out.reason = Reason.TIME_LIMIT if deadline.expired() else (
                f"{Reason.SIZE_LIMIT}: 2^(k-1) = {n_signs} sign patterns > max_lps and C(|I|, k-1) = {n_kernels} "
                "kernel rays > max_candidates (or k > 6)")
    return out


def _l1_descent(im: IntMatrix, deadline: Deadline, *, starts: int = 4, max_steps: int = 200
                ) -> tuple[int, ...] | None:
    """Local search over sign patterns with float LPs: from a pattern, flip the sign of a
    coordinate that is zero at the LP's vertex (a neighbouring cell) while the value drops.
    Starts: the smallest right singular vector and kernel rays of seeded random k-1 row sets."""
    r, k = im.shape
    if k == 1:
        return (1,)
    rng = np.random.default_rng(0)
    inits = [np.linalg.svd(im.wf)[2][-1]]
    for _ in range(starts - 1):
        rows = rng.choice(r, size=k - 1, replace=False)
        inits.append(np.linalg.svd(im.wf[rows])[2][-1])
    canon = lambda v: tuple(int(t) for t in (v if v[0] > 0 else -v))  # noqa: E731
    first = canon(np.where(inits[0] >= 0, 1, -1))
    model = _l1_sign_model(im, first)
    current = list(first)

    def value(sigma: tuple[int, ...]) -> tuple[float, np.ndarray | None]:
        for l in range(k):
            if sigma[l] != current[l]:
                _set_sign(model, r, l, sigma[l])
                current[l] = sigma[l]
        sol = model.solve(deadline)
        return (sol.objective, sol.x) if sol.status is EngineStatus.OPTIMAL else (math.inf, None)

    best: tuple[float, tuple[int, ...] | None] = (math.inf, None)
    for init in inits:
        sigma = canon(np.where(init >= 0, 1, -1))
        val, x = value(sigma)
        for _ in range(max_steps):
            if x is None or deadline.expired():
                break
            xs = x[:k]
            zero = [l for l in range(k) if abs(xs[l]) <= 1e-9 * max(float(np.abs(xs).max()), 1e-300)]
            moves = []
            for l in zero:
                flipped = list(sigma)
                flipped[l] = -flipped[l]
                moves.append(canon(np.array(flipped)))
            scored = [(value(mv), mv) for mv in moves]
            better = [(v, xx, mv) for (v, xx), mv in scored if v < val * (1 - 1e-12)]
            if not better:
                break
            val, x, sigma = min(better, key=lambda t: t[0])
        if val < best[0]:
            best = (val, sigma)
    return best[1]


# --------------------------------------------------------------------------- global searches


def _rays_global(im: IntMatrix, m: int, deadline: Deadline, *, norm: str, quiet: bool, out: _Out) -> None:
    n, k = im.shape
    count = linf_ray_count(n, k) if norm == "inf" else l1_ray_count(n, k)
    rays = linf_rays(im.obj, deadline=deadline) if norm == "inf" else l1_rays(im.obj, deadline=deadline)
    out.tolerances["float_filter_factor"] = FLOAT_FILTER_FACTOR
    with progress(f"c_{norm} candidate rays", total=count, quiet=quiet) as bar:
        found = minimise_over_rays(im.obj, im.zf, rays, objective="linf" if norm == "inf" else "l1", m=m,
                                   deadline=deadline, advance=bar.advance)
    if found.ray is not None:
        value, ev = _witness(im.fmpz, found.ray, list(range(n)), norm=norm, m=m, scale=im.scale)
        out.tighten_upper(value, "candidate ray, evaluated exactly", ev)
    if found.complete:
        name = "vertex rays (equal-magnitude systems)" if norm == "inf" else "kernel rays of k-1 rows"
        out.lower, out.lower_method = found.value, f"exhaustive over {name}"
        out.lower_evidence = {"candidates": found.candidates, "exact_checks": found.exact_checks,
                              "systems": count,
                              "theorem": "a minimiser spans one of these rays (cnorm module docstring)"}
    else:
        out.reason = Reason.TIME_LIMIT


def _row_sets_global(im: IntMatrix, m: int, deadline: Deadline, *, norm: str, quiet: bool, out: _Out,
                     fixed: Callable[[IntMatrix, list[int], Deadline], _Out]) -> None:
    n, _ = im.shape
    total = math.comb(n, m)
    low: Fraction | None = None
    done = 0
    stop = Reason.TIME_LIMIT
    with progress(f"c_{norm} row sets", total=total, quiet=quiet) as bar:
        for rows in itertools.combinations(range(n), m):
            if deadline.expired():
                break
            res = fixed(im.take(list(rows)), list(rows), deadline)
            out.tolerances.update(res.tolerances)
            if res.reason:
                out.tighten_upper(res.upper, f"row set, {res.upper_method}", res.upper_evidence)
                stop = res.reason if not deadline.expired() else Reason.TIME_LIMIT
                break
            out.tighten_upper(res.upper, f"row set, {res.upper_method}", res.upper_evidence)
            low = res.lower if low is None else min(low, res.lower)
            done += 1
            bar.advance()
            if res.upper == 0:
                low, done = Fraction(0), total  # c >= 0: a zero row set settles it
                break
    if done == total and low is not None:
        out.lower, out.lower_method = low, "exhaustive over all row sets of size m (exact per set)"
        out.lower_evidence = {"row_sets": total}
    else:
        out.reason = stop


def _milp_global_linf(im: IntMatrix, m: int, deadline: Deadline, *, out: _Out) -> None:
    n, k = im.shape
    wf = im.wf
    big = np.abs(wf).sum(axis=1)  # M_i = ||w_i||_1 (see the docstring for validity)
    nv = k + 1 + n
    rows, lo, hi = [], [], []
    for i in range(n):
        for s in (1.0, -1.0):
            row = np.zeros(nv)
            row[:k] = s * wf[i]
            row[k] = -1.0
            row[k + 1 + i] = big[i]
            rows.append(row); lo.append(-INF); hi.append(big[i])
    row = np.zeros(nv); row[k + 1 :] = 1.0
    rows.append(row); lo.append(float(m)); hi.append(INF)
    cost = np.zeros(nv); cost[k] = 1.0
    col_lo = np.r_[-np.ones(k), 0.0, np.full(n, 1.0 if m == n else 0.0)]
    col_hi = np.r_[np.ones(k), INF, np.ones(n)]
    model = Model(Program(np.array(rows), cost=cost, col_lower=col_lo, col_upper=col_hi, row_lower=np.array(lo),
                          row_upper=np.array(hi), integer=np.arange(k + 1, nv)), presolve="on")
    bounds, statuses = [], []
    for j in range(k):
        if j:
            model.set_col_bounds(j - 1, -1.0, 1.0)
        model.set_col_bounds(j, 1.0, 1.0)
        sol = model.solve(deadline)
        statuses.append(sol.label)
        bounds.append(sol.dual_bound)
        if sol.x is not None:
            xi, _ = float_ints(sol.x[:k])
            if any(xi):
                value, ev = _witness(im.fmpz, xi, list(range(n)), norm="inf", m=m, scale=im.scale)
                out.tighten_upper(value, "MILP point (rationalised), evaluated exactly", ev)
                rows_i = ev["rows"]
                res = _linf_fixed(im.take(rows_i), rows_i, deadline)
                out.tighten_upper(res.upper, "MILP-proposed row set, exact fixed-I value", res.upper_evidence)
        if deadline.expired():
            break
    _milp_report(im, out, bounds, statuses, k)


def _milp_global_l1(im: IntMatrix, m: int, deadline: Deadline, *, out: _Out) -> None:
    n, k = im.shape
    # Leave a fifth of the budget for the exact post-processing below (rationalising and snapping
    # the MILP point: k exact ranks); the MILP itself would otherwise use all of it.
    remaining = deadline.remaining()
    box = Deadline(max(0.8 * remaining, 1e-3)) if remaining is not None else deadline
    x, bound, status = _l1_milp_point(im.wf, m, box)
    if x is not None:
        xi, _ = float_ints(x)
        if any(xi):
            value, ev = _witness(im.fmpz, xi, list(range(n)), norm="1", m=m, scale=im.scale)
            out.tighten_upper(value, "MILP point (rationalised), evaluated exactly", ev)
        snapped = _snap_to_kernel(im, x, deadline)
        if snapped is not None:
            value, ev = _witness(im.fmpz, snapped, list(range(n)), norm="1", m=m, scale=im.scale)
            out.tighten_upper(value, "MILP point snapped to a kernel ray, evaluated exactly", ev)
    _milp_report(im, out, [bound], [status], 1)


def _snap_to_kernel(im: IntMatrix, x: np.ndarray, deadline: Deadline) -> list[int] | None:
    """The kernel ray of the k-1 independent rows most nearly orthogonal to the float ``x`` —
    where an optimal l_1 point lies (module docstring); a better exact upper bound."""
    n, k = im.shape
    if k == 1:
        return [1]
    norms = np.linalg.norm(im.wf, axis=1)
    score = np.abs(im.wf @ x) / np.where(norms > 0, norms, 1.0)
    chosen: list[int] = []
    for i in np.argsort(score, kind="stable"):
        if norms[i] == 0:
            continue
        if deadline.expired():
            return None
        trial = chosen + [int(i)]
        # Z's rows are integers already: rank over Z (= over Q) directly, mod p first (a full
        # rank mod p proves full rank over Q; only a drop needs the exact recheck).
        mat = flint.fmpz_mat([[int(v) for v in im.obj[t]] for t in trial])
        if int(flint.nmod_mat(mat, exact.DEFAULT_PRIME).rank()) == len(trial) or int(mat.rank()) == len(trial):
            chosen = trial
        if len(chosen) == k - 1:
            null = exact.nullspace(flint.fmpz_mat([[int(v) for v in im.obj[t]] for t in chosen]))
            return _ints(null[0]) if len(null) == 1 else None
    return None


def _milp_report(im: IntMatrix, out: _Out, bounds: list[float], statuses: list[str], needed: int) -> None:
    out.tolerances.update(LP_TOLERANCES)
    if out.upper == 0:  # a rank-deficient proposal: exact
        return
    top = float(np.max(np.abs(im.zf))) if np.isfinite(im.zf).all() else float("nan")
    complete = len(statuses) == needed and all(s == EngineStatus.OPTIMAL for s in statuses)
    dual = min(bounds) if bounds and len(statuses) == needed else 0.0
    out.lower_evidence = {
        "milp_dual_bound": float(max(dual, 0.0) * top * float(im.scale)),
        "milp_statuses": statuses,
        "milp_note": "MILP-proven (not exact): HiGHS's float dual bound, W units; the lower bound "
                     "stays the rigorous one",
    }
    out.reason = _REASON_MILP if complete else Reason.TIME_LIMIT


# --------------------------------------------------------------------------- public API


def _result(name: str, params: dict[str, Any], shape: tuple[int, int], out: _Out, im: IntMatrix,
            deadline: Deadline) -> InvariantResult:
    lower = Bound(out.lower * im.scale, out.lower_method, out.lower_evidence)
    upper = Bound(out.upper * im.scale, out.upper_method, out.upper_evidence)
    exact_value = out.lower == out.upper
    status = Status.CERTIFIED if exact_value else Status.UNKNOWN
    reason = "" if exact_value else (out.reason or Reason.BOUND_GAP)
    return InvariantResult(name, params, lower, upper, status, reason, dict(out.tolerances),
                           deadline.elapsed(), shape)


def _check_rows(rows: Any, n: int) -> list[int]:
    arr = np.asarray(rows)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise InvalidInput(f"rows as a boolean mask must have shape ({n},); got {arr.shape}",
                               argument="rows", got=arr.shape)
        return [int(i) for i in np.nonzero(arr)[0]]
    if arr.ndim != 1 or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
        raise InvalidInput(f"rows must be a 1-D sequence of row indices or a boolean mask; got {rows!r}",
                           argument="rows", got=rows)
    out = [int(i) for i in arr.tolist()]
    bad = [i for i in out if not 0 <= i < n]
    if bad:
        raise InvalidInput(f"rows must be indices in 0..{n - 1}; got {bad[0]}", argument="rows", got=bad[0])
    if len(set(out)) != len(out):
        raise InvalidInput("rows must not repeat an index", argument="rows", got=out)
    return sorted(out)


def _prepare(w: Any) -> np.ndarray:
    arr = as_matrix(w, "W")
    if arr.shape[1] == 0:
        raise InvalidInput("W must have at least one column (the unit sphere of R^0 is empty); got shape "
                           f"{arr.shape}", argument="W", got=arr.shape)
    return arr


def _check_method(method: str, valid: tuple[str, ...]) -> str:
    if method not in valid:
        raise unknown_name("method", method, valid)
    return method


def c_inf_of_rows(W: Any, rows: Any, *, time_limit: float | None = None, method: str = "exact") -> InvariantResult:
    """``c(I) = min_{||x||_inf = 1} ||W_I x||_inf`` for a fixed row set ``I``: exactly, or a certified
    lower bound at the cost of a pseudo-inverse.

    The per-signal constant of Lemma 2 of [1] (corrected Assumption 2, see the module docstring):
    the certifiers call it on the rows that are actually active. ``method="exact"``: ``k``
    warm-started LPs in HiGHS, the optimal basis re-solved exactly, LP duals recomputed exactly:
    ``lower == upper``. ``method="dual_bound"``: what a guarantee that divides by ``c`` needs — a
    lower bound. One dual vector per facet (pseudo-inverse rows, the weakest facets refined toward
    the LP dual optimum by IRLS until the minimum is settled, rounded to integers with few bits),
    its bound recomputed exactly (weak duality holds for any ``y``, so no rounding needs repair);
    the upper bound is the best unit vector. Status UNKNOWN (reason ``"lower bound only"``) unless
    the two meet. Evidence of the lower bound: ``duals``, integer rows aligned with ``rows``.

    Parameters
    ----------
    W : array (n, k)
    rows : sequence of distinct row indices, or a boolean mask of length ``n``
    time_limit : seconds or None
    method : ``"exact"`` or ``"dual_bound"``

    Examples
    --------
    >>> r = c_inf_of_rows([[1, 0], [0, 1], [1, 1]], [0, 2])
    >>> r.value, r.status.value, r.witness["x"]
    (Fraction(1, 2), 'CERTIFIED', [Fraction(-1, 2), Fraction(1, 1)])
    >>> b = c_inf_of_rows([[1, 0], [0, 1], [1, 1]], [0, 2], method="dual_bound")
    >>> b.lower.value, b.upper.value, b.reason
    (Fraction(1, 2), Fraction(1, 1), 'lower bound only')
    """
    arr = _prepare(W)
    idx = _check_rows(rows, arr.shape[0])
    _check_method(method, ("exact", "dual_bound"))
    deadline = Deadline(time_limit)
    if method == "dual_bound":
        return _linf_dual_bound(arr, idx, deadline)
    im = IntMatrix.of(arr[idx])  # only the rows in I: W_I = scale * Z_I
    out = _linf_fixed(im, idx, deadline) if idx else _empty_rows(im)
    return _result("c_inf_of_rows", {"rows": idx}, arr.shape, out, im, deadline)


def _linf_dual_bound(arr: np.ndarray, idx: list[int], deadline: Deadline) -> InvariantResult:
    k = arr.shape[1]
    z, scale = exact.to_fmpz_mat(arr[idx]) if idx else (flint.fmpz_mat(0, k), Fraction(1))
    af = np.asarray(arr[idx], dtype=np.float64).reshape(len(idx), k)
    # upper bound: the best unit vector, ||W_I e_j||_inf = max_i |w_ij| (chosen in floats, exact value)
    best = int(np.argmin(np.abs(af).max(axis=0))) if idx else 0
    top = scale * max((abs(int(z[i, best])) for i in range(len(idx))), default=0)
    upper = Bound(top, "unit vector", {"x": [Fraction(int(l == best)) for l in range(k)], "rows": idx, "value": top})
    low, ys = linf_dual_bound(af, z, scale, time_limit=deadline.remaining())
    lower = Bound(Fraction(0), "trivial (norms are >= 0)", {})
    if low > 0:
        lower = Bound(low, "LP duality (rounded dual vector per facet x_j = 1)", {
            "formula": "c(I) >= min_j (|g_j| - sum_{l != j} |g_l|) / ||y_j||_1, g = W_I^T y_j", "duals": ys})
    exact_value = lower.value == upper.value
    return InvariantResult("c_inf_of_rows", {"rows": idx, "method": "dual_bound"}, lower, upper,
                           Status.CERTIFIED if exact_value else Status.UNKNOWN,
                           "" if exact_value else (Reason.TIME_LIMIT if deadline.expired() else "lower bound only"),
                           {"dual_loss": DUAL_LOSS}, deadline.elapsed(), arr.shape)


def linf_dual_bound(a: np.ndarray, z: flint.fmpz_mat, scale: Fraction, *, time_limit: float | None = None,
                    levels: int = DUAL_LEVELS) -> tuple[Fraction, list[list[int]]]:
    """A certified lower bound on ``c_inf(A)``, ``A = scale * z`` (``a``: ``A`` in floats, which only
    steers the search), and its integer dual vectors (one per facet, aligned with the rows); ``0``
    and no vectors when ``A`` has fewer rows than columns or no finite float form. The engine of
    ``c_inf_of_rows(method="dual_bound")`` for callers that hold the integer form already.
    ``levels``: refinement rounds of the weakest facet (``0``: the pseudo-inverse rows as they are;
    each round costs ``DUAL_STEPS`` IRLS steps and tightens the bound toward ``c_inf``)."""
    r, k = a.shape
    if r < k or not np.all(np.isfinite(a)) or not np.abs(a).max(initial=0) > 0:
        return Fraction(0), []
    af = a / np.abs(a).max()
    ys = _integer_duals(af, _linf_dual_rows(af, Deadline(time_limit), levels=levels, steps=DUAL_STEPS),
                        DUAL_LOSS)
    low = min(_lb_linf_all(z.transpose(), ys)) * scale
    return (low, ys) if low > 0 else (Fraction(0), [])


def c_1_of_rows(
    W: Any,
    rows: Any,
    *,
    time_limit: float | None = None,
    method: str = "auto",
    max_lps: int = DEFAULT_MAX_LPS,
    max_candidates: int = DEFAULT_MAX_CANDIDATES,
    milp_time_limit: float | None = DEFAULT_MILP_TIME_LIMIT,
) -> InvariantResult:
    """``c_1(I) = min_{||x||_1 = 1} ||W_I x||_1`` for a fixed row set ``I``.

    Exact by ``"kernels"`` (the ``C(|I|, k-1)`` kernel rays) or ``"signs"`` (``2^(k-1)`` LPs, each
    solved exactly) — whichever is cheaper under ``max_candidates`` / ``max_lps``; beyond both
    (e.g. ``k = 20``) ``"milp"``: exact upper bound from a MILP-proposed sign pattern, exact
    left-inverse lower bound, status UNKNOWN. Proofs in the module docstring.

    Examples
    --------
    >>> r = c_1_of_rows([[2, 1], [1, 2], [5, 5]], [0, 1])
    >>> r.value, r.method
    (Fraction(1, 1), 'lower: exhaustive over the kernel rays of k-1 rows; upper: kernel ray of k-1 rows')
    """
    arr = _prepare(W)
    idx = _check_rows(rows, arr.shape[0])
    _check_method(method, ("auto", "kernels", "signs", "milp"))
    deadline = Deadline(time_limit)
    im = IntMatrix.of(arr[idx])
    if idx:
        out = _l1_fixed(im, idx, deadline, method=method, max_lps=max_lps, max_candidates=max_candidates,
                        milp_time_limit=milp_time_limit)
    else:
        out = _empty_rows(im)
    params = {"rows": idx, "method": method, "max_lps": max_lps, "max_candidates": max_candidates,
              "milp_time_limit": milp_time_limit}
    return _result("c_1_of_rows", params, arr.shape, out, im, deadline)


def _empty_rows(im: IntMatrix) -> _Out:
    k = im.shape[1]
    ev = {"x": [Fraction(int(l == 0)) for l in range(k)], "rows": [], "value": Fraction(0)}
    return _Out(Fraction(0), "trivial (norms are >= 0)", Fraction(0), "empty row set", {}, ev)


def _global(norm: str, W: Any, m: Any, *, time_limit, method, max_candidates, max_row_sets, max_lps,
            quiet) -> InvariantResult:
    arr = _prepare(W)
    n, k = arr.shape
    m = check_count(m, "m", low=1, high=n)
    im = IntMatrix.of(arr)
    deadline = Deadline(time_limit)
    name = "c_inf" if norm == "inf" else "c_1"
    params = {"m": m, "method": method, "max_candidates": max_candidates, "max_row_sets": max_row_sets}
    dead = _rank_deficient(im, norm=norm, m=m, row_ids=list(range(n)))
    if dead is not None:
        return _result(name, params, arr.shape, dead, im, deadline)
    upper, ev = _unit_vectors(im, norm=norm, m=m, row_ids=list(range(n)))
    out = _Out(Fraction(0), "trivial (norms are >= 0)", upper, "unit vector", {}, ev)
    chosen = method
    if method == "auto":
        n_sets = math.comb(n, m)
        if norm == "inf":
            n_rays, per_ray = linf_ray_count(n, k), 4e-6 + 2e-8 * n * k
            per_set = 1.5e-3 * k
        else:
            n_rays, per_ray = l1_ray_count(n, k), 2e-6 + 2e-8 * n * k
            per_set = 1e-3 * min(2 ** (k - 1), l1_ray_count(m, k))
        options = []
        if n_rays <= max_candidates and k <= 6:
            options.append((n_rays * per_ray, "vertices" if norm == "inf" else "kernels"))
        if n_sets <= max_row_sets:
            options.append((n_sets * per_set, "row_sets"))
        chosen = min(options)[1] if options else "milp"
        params["chosen"] = chosen
    if chosen in ("vertices", "kernels"):
        _rays_global(im, m, deadline, norm=norm, quiet=quiet, out=out)
    elif chosen == "row_sets":
        if norm == "inf":
            fixed = _linf_fixed
        else:
            def fixed(sub: IntMatrix, rows: list[int], dl: Deadline) -> _Out:
                return _l1_fixed(sub, rows, dl, method="auto", max_lps=max_lps, max_candidates=max_candidates)
        _row_sets_global(im, m, deadline, norm=norm, quiet=quiet, out=out, fixed=fixed)
    else:
        (_milp_global_linf if norm == "inf" else _milp_global_l1)(im, m, deadline, out=out)
    return _result(name, params, arr.shape, out, im, deadline)


def c_inf(
    W: Any,
    m: int,
    *,
    time_limit: float | None = None,
    method: str = "auto",
    max_candidates: int = DEFAULT_MAX_CANDIDATES,
    max_row_sets: int = DEFAULT_MAX_ROW_SETS,
    progress: bool = False,
) -> InvariantResult:
    """``c_inf(W, m) = min_{|I| >= m, ||x||_inf = 1} ||W_I x||_inf`` — Assumption 2 of [1], corrected.

    ``method``: ``"vertices"`` (exact; candidate rays, polynomial for fixed ``k``), ``"row_sets"``
    (exact; all ``C(n, m)`` row sets), ``"milp"`` (exact upper bound, MILP dual bound reported but
    not trusted: UNKNOWN), or ``"auto"``: the cheaper exact method within ``max_candidates`` /
    ``max_row_sets`` (and ``k <= 6``), else ``"milp"``. See the module docstring for the
    statement as printed, what is wrong with it, and the proofs.

    Examples
    --------
    >>> W = [[1, 0], [0, 1], [1, 1], [1, -1]]
    >>> r = c_inf(W, 2)
    >>> r.value, r.status.value, r.witness["rows"], r.witness["x"]
    (Fraction(1, 2), 'CERTIFIED', [0, 2], [Fraction(1, 2), Fraction(-1, 1)])
    >>> c_inf(W, 3).value  # the constant grows with m
    Fraction(1, 1)
    """
    _check_method(method, ("auto", "vertices", "row_sets", "milp"))
    return _global("inf", W, m, time_limit=time_limit, method=method, max_candidates=max_candidates,
                   max_row_sets=max_row_sets, max_lps=DEFAULT_MAX_LPS, quiet=not progress)


def c_1(
    W: Any,
    m: int,
    *,
    time_limit: float | None = None,
    method: str = "auto",
    max_candidates: int = DEFAULT_MAX_CANDIDATES,
    max_row_sets: int = DEFAULT_MAX_ROW_SETS,
    max_lps: int = DEFAULT_MAX_LPS,
    progress: bool = False,
) -> InvariantResult:
    """``c_1(W, m) = min_{|I| >= m, ||x||_1 = 1} ||W_I x||_1`` — Assumption 3 of [1], corrected.

    ``method``: ``"kernels"`` (exact; the ``C(n, k-1)`` kernel rays, polynomial for fixed ``k``),
    ``"row_sets"`` (exact; all ``C(n, m)`` row sets), ``"milp"`` (exact upper bound only:
    UNKNOWN), or ``"auto"``. See the module docstring.

    Examples
    --------
    >>> r = c_1([[1, 0], [0, 1], [1, 1], [1, -1]], 2)
    >>> r.value, r.witness["x"], r.witness["rows"]
    (Fraction(1, 2), [Fraction(1, 2), Fraction(-1, 2)], [0, 2])
    """
    _check_method(method, ("auto", "kernels", "row_sets", "milp"))
    return _global("1", W, m, time_limit=time_limit, method=method, max_candidates=max_candidates,
                   max_row_sets=max_row_sets, max_lps=max_lps, quiet=not progress)
