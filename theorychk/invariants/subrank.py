"""Sub-rank and sub-spark (paper 004, Definitions 1-2), exact through flats of the rows.

For ``W`` with ``n`` rows and ``k`` columns and ``1 <= s <= n``:

* ``sub_rank(W, s) = min_{|S| = s} rank(W^S)`` (Definition 2). A set of rows of rank ``r`` spans a
  flat of rank ``r`` (a subspace of ``Q^k`` spanned by rows), so
  ``sub_rank(W, s) = min{r : some flat of rank r holds >= s rows}`` (``shared/notes/invariants.md``,
  "Sub-rank = flats"). With ``R = rank W``, every ``s`` rows have rank ``R`` iff ``s > H(W)``, the
  most rows in a hyperplane; hyperplanes spanned by ``R - 1`` independent rows suffice, after
  merging parallel rows: ``C(n', R - 1)`` candidates instead of ``C(n, s)`` subsets.
* ``sub_spark(W, s) = min_{|S| = s} spark(W^S)`` (Definition 1) ``= min{|J| : some x != 0 with
  supp x <= J is orthogonal to >= s rows}``: for a column set ``J`` such an ``x`` exists iff
  ``rank(W_J) < |J|`` or some hyperplane of ``Q^J`` holds ``>= s`` rows of ``W_J``. Column sets are
  tried in increasing size, so the first hit is the minimum. Identity: ``sub_spark(W, s) = k + 1``
  iff ``sub_rank(W, s) = k`` (both say every ``s`` rows have full column rank).

Theorem 1 of paper 004 needs (ii) ``s_i < sub_spark(W_i, s_{i+1}) / 2`` and (iii)
``sub_rank(W_0, s_1) = n_0``. Per signal the certifiers use :func:`rank_of_rows` and
:func:`~theorychk.invariants.spark.spark_of_rows` on the actual supports instead.

Flats are enumerated modulo a prime (:mod:`theorychk.invariants._flats`): "no flat of rank <= j
holds s rows" is proven by the modular scan (mod-p flats contain the rational ones), and every
flat reported is re-checked exactly before it becomes a witness.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from fractions import Fraction
from typing import Any

import flint
import numpy as np

from theorychk.errors import ExactCheckFailed, Reason
from theorychk.exact import rank as exact_rank, to_fmpz_mat
from theorychk.invariants import _flats
from theorychk.invariants._matrix import as_matrix, check_count
from theorychk.invariants.result import Bound, InvariantResult
from theorychk.invariants.spark import check_rows
from theorychk.runtime import Deadline, progress as progress_bar
from theorychk.verdict import Status

__all__ = ["sub_rank", "sub_spark", "rank_of_rows"]


def rank_of_rows(W: object, rows: object) -> InvariantResult:
    """Exact rank of ``W^S`` (the rows ``S`` of ``W``), the per-signal form of Theorem 1 (iii).

    Condition (iii) of Theorem 1 in paper 004, ``sub_rank(W_0, s_1) = n_0``, is used in its proof
    only for the actual support ``S_1``: ``W_0^{S_1}`` must have full column rank. ``rows`` is a
    sequence of distinct indices or a boolean mask. No rows give rank 0.

    Examples
    --------
    >>> rank_of_rows([[1, 2], [2, 4], [0, 1]], [0, 1]).value
    1
    """
    start = time.perf_counter()
    arr = as_matrix(W, "W")
    idx = check_rows(rows, arr.shape[0])
    z, _ = to_fmpz_mat(arr[idx, :])
    if not idx or not arr.shape[1]:
        b = Bound(0, "no rows or no columns", {"rows": idx})
    else:
        # A full rank modulo a prime is the rank over Q (rank mod p <= rank <= min(shape)); only
        # a modular drop needs the slower exact rank.
        p = _flats.PRIMES[0]
        r = int(flint.nmod_mat(z, p).rank())
        if r == min(len(idx), arr.shape[1]):
            b = Bound(r, "full rank modulo a prime", {"rows": idx, "prime": p})
        else:
            b = Bound(int(z.rank()), "exact rank (flint, over Q)", {"rows": idx})
    return InvariantResult("rank", {"rows": idx}, b, b, Status.CERTIFIED, elapsed=time.perf_counter() - start,
                           shape=arr.shape)


# --------------------------------------------------------------------------------------------


@dataclass
class _Flat:
    rows: list[int] | None  # rows of a verified flat holding >= target rows (None: none found)
    rank: int  # its rank
    excluded: int  # no flat of rank <= excluded holds target rows
    prime: int
    nodes: int
    counts: dict[int, int] = field(default_factory=dict)  # rank -> proven bound on rows in a flat


def _heavy_flat(vectors: list[list[int]], target: int, max_level: int, deadline: Deadline,
                bar: object, *, parallel: tuple[list[int], list[list[int]], list[list[int]]] | None = None) -> _Flat:
    """The smallest-rank flat of rank <= ``max_level`` holding >= ``target`` of ``vectors``
    (``parallel``: their :func:`~theorychk.invariants._flats.merge_parallel`, when already known).

    Raises :class:`~theorychk.invariants._flats.TimeUp` (``proven``: the last rank cleared).
    """
    zero, classes, reps = parallel if parallel is not None else _flats.merge_parallel(vectors, deadline)
    if len(zero) >= target:
        return _Flat(zero[:target], 0, -1, 0, 0)
    if not reps:  # only zero vectors, too few of them: no flat of any rank holds the target
        return _Flat(None, -1, max_level, 0, 0)
    dim = len(vectors[0]) if vectors else 0
    if deadline.expired():
        raise _flats.TimeUp(0)  # rank 0 is cleared above: fewer zero vectors than the target
    cfg = flint.fmpz_mat([[rep[i] for rep in reps] for i in range(dim)])
    rank = exact_rank(cfg)
    max_level = min(max_level, rank - 1)
    weights = [len(c) for c in classes]
    need = target - len(zero)
    if max_level < 1:
        return _Flat(None, -1, max_level, 0, 0)
    ex = _flats.ExactColumns(cfg)
    cleared = 0
    for p in _flats.PRIMES:
        if deadline.expired():
            raise _flats.TimeUp(cleared)
        g0 = _flats.reduce_mod_p(cfg, p)
        if g0.shape[0] != rank:
            continue

        def verify(cols: tuple[int, ...], counts: tuple[int, ...], g0: np.ndarray = g0, p: int = p) -> bool:
            members = _flats.closure_mod_p(g0, cols, p)
            return ex.rank(members) == len(cols) and sum(weights[c] for c in members) >= need

        try:
            scan = _flats.flat_scan(g0, weights, p, max_level=max_level, target=need, mode="first",
                                    verify=verify, deadline=deadline, bar=bar)
        except _flats.SpuriousModP as exc:
            cleared = max(cleared, exc.proven)
            continue
        # Counts of the modular scan bound the rational ones from above; add the zero rows.
        counts = {r: c + len(zero) for r, c in sorted(scan.level_max.items()) if c < need}
        if scan.flat is None:
            return _Flat(None, -1, scan.excluded, p, scan.nodes, counts)
        members = _flats.closure_mod_p(g0, scan.flat, p)
        rows = sorted(zero + [i for c in members for i in classes[c]])
        return _Flat(rows, scan.rank, scan.rank - 1, p, scan.nodes, counts)
    raise ExactCheckFailed(f"modular flat scan failed its exact check for every prime (cleared rank {cleared})")


def _greedy_rows(parallel: tuple[list[int], list[list[int]], list[list[int]]], s: int) -> list[int]:
    """A low-rank guess: zero rows first, then whole classes of parallel rows, largest first
    (``parallel``: :func:`~theorychk.invariants._flats.merge_parallel` of the rows)."""
    zero, classes, _ = parallel
    order = zero + [i for c in sorted(classes, key=len, reverse=True) for i in c]
    return sorted(order[:s])


#: Seconds per ``r**3`` of the exact Dixon solve behind a circuit (6 s for r = 392, issue 14).
_SOLVE_SECONDS_PER_CUBE = 1e-7


def _affordable(r: int, deadline: Deadline) -> bool:
    """Whether an optional exact step on an ``r``-column system fits in what is left: flint cannot
    be interrupted, so a step that would overrun the deadline is not started."""
    left = deadline.remaining()
    return left is None or left > _SOLVE_SECONDS_PER_CUBE * r**3


class _Prepared:
    """What :func:`sub_rank` / :func:`sub_spark` derive from ``W`` alone, whatever ``s``: its integer
    form, rows, parallel classes (with and without the unit vectors) and exact rank. Shared by
    every call on the same matrix content (:func:`_prepared`), so the per-signal printed hypotheses
    of a model's batch convert each layer once; never modify what it returns."""

    def __init__(self, arr: np.ndarray) -> None:
        self.z, _ = to_fmpz_mat(arr)
        k = arr.shape[1]
        self.rows_int = [[int(x) for x in row] for row in self.z.tolist()] if k else [[] for _ in range(arr.shape[0])]

    @cached_property
    def parallel(self) -> tuple[list[int], list[list[int]], list[list[int]]]:
        return _flats.merge_parallel(self.rows_int)

    @cached_property
    def rank(self) -> int:
        return exact_rank(self.z) if self.z.nrows() and self.z.ncols() else 0

    @cached_property
    def zeros_per_col(self) -> list[list[int]]:
        k = int(self.z.ncols())
        return [[i for i, row in enumerate(self.rows_int) if row[j] == 0] for j in range(k)]

    @cached_property
    def with_units(self) -> tuple[list[int], list[list[int]], list[list[int]]]:
        """:func:`~theorychk.invariants._flats.merge_parallel` of the ``k`` unit vectors then the
        rows (row ``i`` is vector ``k + i``), derived from :attr:`parallel` in O(classes): a row is
        parallel to ``e_j`` iff its primitive representative is ``e_j``."""
        k = int(self.z.ncols())
        zero, classes, reps = self.parallel
        units: list[list[int]] = [[j] for j in range(k)]
        out_classes, out_reps = [], []
        for c, rep in zip(classes, reps):
            nz = [j for j, v in enumerate(rep) if v]
            if len(nz) == 1 and rep[nz[0]] == 1:
                units[nz[0]] += [k + i for i in c]
            else:
                out_classes.append([k + i for i in c])
                out_reps.append(rep)
        eye = [[int(i == j) for i in range(k)] for j in range(k)]
        return [k + i for i in zero], units + out_classes, eye + out_reps

    @cached_property
    def unit_config(self) -> tuple[flint.fmpz_mat, _flats.ExactColumns, dict[int, np.ndarray]]:
        """The configuration matrix of :attr:`with_units` (one column per class representative),
        its exact columns, and its reductions modulo the primes asked so far."""
        k = int(self.z.ncols())
        reps = self.with_units[2]
        cfg = flint.fmpz_mat([[rep[i] for rep in reps] for i in range(k)])
        return cfg, _flats.ExactColumns(cfg), {}


#: Matrices kept prepared (by content hash): the layers of a model or two (the rows of a
#: 784 x 500 layer are ~15 MB of Python ints).
_PREPARED_SIZE = 6
_PREPARED: OrderedDict[str, _Prepared] = OrderedDict()


def _prepared(arr: np.ndarray) -> _Prepared:
    a = np.ascontiguousarray(arr)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes() if a.dtype != object else repr(a.tolist()).encode())
    key = h.hexdigest()
    hit = _PREPARED.get(key)
    if hit is None:
        hit = _PREPARED[key] = _Prepared(a)
        if len(_PREPARED) > _PREPARED_SIZE:
            _PREPARED.popitem(last=False)
    _PREPARED.move_to_end(key)
    return hit


def _validated(W: object, s: object) -> tuple[np.ndarray, int, _Prepared]:
    arr = as_matrix(W, "W")
    s = check_count(s, "s", low=1, high=arr.shape[0])
    return arr, s, _prepared(arr)


def _rank(rows_int: list[list[int]], rows: list[int], cols: list[int] | None = None) -> int:
    sub = [rows_int[i] for i in rows] if cols is None else [[rows_int[i][j] for j in cols] for i in rows]
    if not sub or not sub[0]:
        return 0
    return exact_rank(flint.fmpz_mat(sub))  # mod p first: see theorychk.exact.rank


def sub_rank(W: object, s: int, *, time_limit: float | None = None,
             progress: bool = False) -> InvariantResult:
    """``min over |S| = s of rank(W^S)`` (paper 004, Definition 2), exact through flats.

    Evidence: upper — ``rows`` (the ``s`` rows) and their exact ``rank``; lower — the flat scan
    (``prime``, ``no_flat_below_rank``: no flat of smaller rank holds ``s`` rows, ``nodes``), or the
    rank argument ``rank(W) - (n - s)`` (removing a row lowers the rank by at most one), or zero
    rows. ``s`` must be between 1 and the number of rows. With no columns the value is 0.

    References
    ----------
    [1] Aberdam, Simon, Elad, "When and How Can Deep Generative Models be Inverted?", Def. 2, Thm. 1.

    Examples
    --------
    >>> W = [[1, 0], [2, 0], [0, 1], [1, 1]]
    >>> sub_rank(W, 2).value, sub_rank(W, 3).value
    (1, 2)
    """
    start = time.perf_counter()
    deadline = Deadline(time_limit)
    arr, s, prep = _validated(W, s)
    rows_int = prep.rows_int
    n, k = arr.shape
    rank = prep.rank
    zero, _, _ = prep.parallel
    lower = Bound(max(rank - (n - s), 0), "rank(W) - (n - s)", {"rank": rank, "removed_rows": n - s})
    if s > len(zero) and lower.value < 1:
        lower = Bound(1, "fewer than s zero rows", {"zero_rows": len(zero)})
    guess = _greedy_rows(prep.parallel, s)
    upper = Bound(_rank(rows_int, guess), "exact rank of s rows (zero and parallel rows first)", {"rows": guess})
    upper = Bound(upper.value, upper.method, {**upper.evidence, "rank": upper.value})
    reason = ""
    if lower.value < upper.value:
        try:
            with progress_bar("sub-rank", quiet=not progress) as bar:
                flat = _heavy_flat(rows_int, s, rank - 1, deadline, bar, parallel=prep.parallel)
            if flat.rows is not None:
                rows = flat.rows[:s]
                r = _rank(rows_int, rows)
                upper = Bound(r, "flats", {"rows": rows, "rank": r})
                lower = Bound(flat.rank, "flats", {"prime": flat.prime, "no_flat_below_rank": flat.rank,
                                                   "target_rows": s, "rows_in_flat_of_rank_at_most": flat.counts,
                                                   "nodes": flat.nodes})
            else:
                lower = Bound(rank, "flats", {"prime": flat.prime, "no_flat_below_rank": rank,
                                              "target_rows": s, "rows_in_flat_of_rank_at_most": flat.counts,
                                              "nodes": flat.nodes})
        except _flats.TimeUp as exc:
            reason = Reason.TIME_LIMIT
            if exc.proven + 1 > lower.value:
                lower = Bound(exc.proven + 1, "flats (partial)", {"no_flat_below_rank": exc.proven + 1})
        except _flats.SizeLimit as exc:
            reason = str(exc)
    return _finish("sub_rank", {"s": s}, lower, upper, reason, start, arr.shape)


def _finish(name: str, params: dict[str, Any], lower: Bound, upper: Bound, reason: str, start: float,
            shape: tuple[int, int]) -> InvariantResult:
    if lower.value > upper.value:
        raise ExactCheckFailed(f"{name} bounds crossed: {lower} > {upper}")
    exact = lower.value == upper.value
    return InvariantResult(
        invariant=name, params=params, lower=lower, upper=upper,
        status=Status.CERTIFIED if exact else Status.UNKNOWN, reason="" if exact else (reason or Reason.BOUND_GAP),
        elapsed=time.perf_counter() - start, shape=shape,
    )


def sub_spark(W: object, s: int, *, time_limit: float | None = None,
              progress: bool = False) -> InvariantResult:
    """``min over |S| = s of spark(W^S)`` (paper 004, Definition 1); ``k + 1`` when every ``s``
    rows have independent columns (the spark convention of :func:`~theorychk.invariants.spark.spark`).

    Algorithm: an optimal ``x`` (``x != 0``, orthogonal to ``s`` rows, smallest support) has
    ``x^perp`` spanned by the rows it is orthogonal to together with the unit vectors ``e_j`` of
    its zero coordinates (otherwise a second vector orthogonal to the same rows exists and a
    combination of the two has a smaller support). So, with the configuration of the rows and the
    ``k`` unit vectors of ``Q^k``, ``sub_spark = k - max{#units in H : H a hyperplane spanned by
    the configuration holding >= s rows}``, or ``k + 1`` if no hyperplane holds ``s`` rows. One
    modular scan over ``C(n + k, k - 1)`` hyperplanes, pruned by both counts.

    Evidence: upper — ``rows`` ``S``, ``columns`` ``J`` and the exact ``null_vector`` of
    ``W[S, J]``; lower — the exhaustive hyperplane scan (``prime``, ``nodes``), or "no column has
    ``s`` zero entries" (value >= 2). A matrix without columns has sub-spark 1.

    References
    ----------
    [1] Aberdam, Simon, Elad, "When and How Can Deep Generative Models be Inverted?", Def. 1, Thm. 1.

    Examples
    --------
    >>> W = [[1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]]
    >>> sub_spark(W, 2).value, sub_spark(W, 4).value
    (2, 4)
    """
    start = time.perf_counter()
    deadline = Deadline(time_limit)
    arr, s, prep = _validated(W, s)
    rows_int = prep.rows_int
    n, k = arr.shape
    params = {"s": s}
    if k == 0:
        b = Bound(1, "convention: no columns", {"n_columns": 0})
        return _finish("sub_spark", params, b, b, "", start, arr.shape)
    upper = Bound(k + 1, "convention: k + 1 when every s rows have independent columns", {"n_columns": k})
    zeros_per_col = prep.zeros_per_col
    best_col = max(range(k), key=lambda j: len(zeros_per_col[j]))
    if len(zeros_per_col[best_col]) >= s:  # e_j is orthogonal to the rows that vanish on column j
        ev = {"rows": zeros_per_col[best_col][:s], "columns": [best_col], "null_vector": [Fraction(1)]}
        upper = Bound(1, "column with s zero entries", ev)
        return _finish("sub_spark", params, Bound(1, "definition", {}), upper, "", start, arr.shape)
    lower = Bound(2, "no column has s zero entries", {})
    # A cheap witness: the low-rank guess of sub_rank; a rank drop gives a circuit on those rows.
    guess = _greedy_rows(prep.parallel, s)
    sub_ex = _flats.ExactColumns(flint.fmpz_mat([rows_int[i] for i in guess])) if _affordable(min(s, k), deadline) \
        else None  # not even converted when it would not be run
    if sub_ex is not None and sub_ex.rank(range(k)) < k:
        cols, vec = sub_ex.circuit_in(range(k))
        upper = Bound(len(cols), "circuit on s rows (zero and parallel rows first)",
                      {"rows": guess, "columns": list(cols), "null_vector": list(vec)})
    reason = ""
    if lower.value < upper.value:
        try:
            with progress_bar("sub-spark", quiet=not progress) as bar:
                found = _best_hyperplane(rows_int, k, s, k - upper.value, deadline, bar, parallel=prep.with_units,
                                         config=prep.unit_config)
            if found is not None:
                rows, cols, vec, ev = found
                upper = Bound(len(cols), "hyperplanes of rows and unit vectors",
                              {"rows": rows, "columns": cols, "null_vector": vec})
                lower = Bound(len(cols), "hyperplanes of rows and unit vectors", ev)
            else:
                lower = Bound(upper.value, "hyperplanes of rows and unit vectors",
                              {"no_better_hyperplane": True})
        except _flats.TimeUp:
            reason = Reason.TIME_LIMIT
        except _flats.SizeLimit as exc:
            reason = str(exc)
    return _finish("sub_spark", params, lower, upper, reason, start, arr.shape)


def _best_hyperplane(rows_int: list[list[int]], k: int, s: int, known_units: int, deadline: Deadline,
                     bar: object, *, parallel: tuple[list[int], list[list[int]], list[list[int]]] | None = None,
                     config: tuple[flint.fmpz_mat, _flats.ExactColumns, dict[int, np.ndarray]] | None = None,
                     ) -> tuple[list[int], list[int], list[Fraction], dict[str, Any]] | None:
    """The hyperplane with the most unit vectors among those holding ``s`` rows (more than
    ``known_units``), as ``(S, J, x, evidence)``; ``None`` if none beats ``known_units``.
    ``parallel``: :func:`~theorychk.invariants._flats.merge_parallel` of the units then the rows;
    ``config``: their configuration matrix, exact columns and reductions mod p (:class:`_Prepared`)."""
    # Unit vectors first: once the scan is past them, a node's unit count is final, which makes
    # the "cannot beat the best" pruning bite early.
    if parallel is None:
        units = [[int(i == j) for i in range(k)] for j in range(k)]
        parallel = _flats.merge_parallel(units + rows_int, deadline)
    zero, classes, reps = parallel  # zero: zero rows (offset by k)
    if deadline.expired():
        raise _flats.TimeUp(0)
    weights = [[sum(1 for i in c if i >= k), sum(1 for i in c if i < k)] for c in classes]
    need = s - len(zero)
    if config is None:
        cfg = flint.fmpz_mat([[rep[i] for rep in reps] for i in range(k)])
        config = (cfg, _flats.ExactColumns(cfg), {})
    cfg, ex, reduced = config
    for p in _flats.PRIMES:
        if deadline.expired():
            raise _flats.TimeUp(0)
        if p not in reduced:
            reduced[p] = _flats.reduce_mod_p(cfg, p)
        g0 = reduced[p]
        if g0.shape[0] != k:
            continue

        def verify(cols: tuple[int, ...], counts: tuple[int, ...], g0: np.ndarray = g0, p: int = p) -> bool:
            members = _flats.closure_mod_p(g0, cols, p)
            got = [sum(weights[c][t] for c in members) for t in (0, 1)]
            return ex.rank(members) == len(cols) and got[0] >= need and got[1] >= counts[1]

        try:
            scan = _flats.flat_scan(g0, weights, p, max_level=k - 1, target=need, mode="constrained",
                                    best=known_units, verify=verify, deadline=deadline, bar=bar)
        except _flats.SpuriousModP:
            continue
        if scan.flat is None:
            return None
        members = _flats.closure_mod_p(g0, scan.flat, p)
        basis = _flats.ExactColumns(flint.fmpz_mat([reps[c] for c in members])).nullspace(range(k))
        if len(basis) != 1:
            raise ExactCheckFailed("a verified hyperplane must have a 1-dimensional normal space")
        x = basis[0]
        g = math.gcd(*x)
        cols = [j for j in range(k) if x[j]]
        vec = [Fraction(x[j] // g) for j in cols]
        orth = sorted([i - k for i in zero] + [i - k for c in members for i in classes[c] if i >= k])[:s]
        for i in orth:  # the witness is checked exactly before it is reported
            if sum(rows_int[i][j] * v for j, v in zip(cols, vec)) != 0:
                raise ExactCheckFailed("hyperplane witness failed its exact check")
        return orth, cols, vec, {"prime": p, "nodes": scan.nodes, "units_in_hyperplane": k - len(cols)}
    raise ExactCheckFailed("modular hyperplane scan failed its exact check for every prime")
