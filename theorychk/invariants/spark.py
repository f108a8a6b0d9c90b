"""The spark of a matrix: exact by enumeration or kernel duality, with certified bounds.

``spark(A)`` is the smallest number of linearly dependent columns of ``A`` (paper 004, Sec. 2.1),
i.e. ``min ||x||_0`` over ``x != 0`` with ``A x = 0``. Convention: ``spark(A) = n + 1`` when the
``n`` columns are independent (the minimum over an empty set, chosen so that "every ``k`` columns
are independent iff ``spark > k``" holds for all ``k``). Hence: no columns -> 1; a zero column
(including any matrix with zero rows and at least one column) -> 1.

Theorem 1 of paper 004 uses the spark through condition (i) ``||x_L||_0 < spark(W_L) / 2`` and
(ii) ``||x_i||_0 < sub-spark(W_i, s_{i+1}) / 2``; per signal the sub-spark is replaced by the spark
of the rows on the support of the next layer (:func:`spark_of_rows`), which is exactly what the
proof in its Appendix A uses.

Algorithms (``shared/notes/invariants.md``):

* **enumerate** — independent column sets in increasing size, breadth first and modulo a prime
  (:mod:`theorychk.invariants._flats`); the first dependent set found is verified exactly.
* **dual** — with ``N`` a kernel basis (nullity ``d``), ``spark = n - H(N)`` where ``H(N)`` is the
  most rows of ``N`` in a hyperplane of ``Q^d``; hyperplanes spanned by ``d - 1`` rows, parallel
  rows merged. ``auto`` picks the side with fewer stored residues.
* **milp** — HiGHS proposes a smallest support (one MILP per column, below); the proposal is
  turned into an exact smallest dependent subset, which is the upper bound. The lower bound stays
  the rigorous one of the bounds below; HiGHS's dual bound is evidence only.
* **bounds** — only the cheap bounds below (UNKNOWN "bound gap" unless they meet).

The MILP, and why ``M = 1`` is an exact big-M. With the columns scaled to unit norm (spark is
invariant under column scaling), for each column ``j``::

    MILP_j:  min sum_i y_i  s.t.  A x = 0,  x_j = 1,  -y_i <= x_i <= y_i,  y in {0, 1}^n.

*Every feasible point is a dependency*: ``x != 0`` (``x_j = 1``), ``A x = 0`` and
``supp x ⊆ {i : y_i = 1}``, so ``OPT_j >= spark``. *Some model attains the spark*: take a null
vector ``x*`` of smallest support, let ``j`` be an index of its largest-magnitude entry and scale
``x = x* / x*_j``. Then ``x_j = 1`` and ``|x_i| <= 1`` for every ``i``, so ``(x, 1_{supp x})`` is
feasible in ``MILP_j`` with objective ``spark``. Hence ``min_j OPT_j = spark`` exactly: the bound
``|x_i| <= y_i`` (big-M = 1) cuts off no null vector that matters. (A single model with a
selection binary per column — ``sum s_j = 1``, ``x_j >= 2 s_j - 1`` — says the same, but its LP
relaxation is 0 at ``s = 1/n``; the relaxation of ``MILP_j`` is the l1 heuristic's LP within the
box ``|x| <= 1``, often close, and the models run with the incumbent as a cut-off
``sum y <= upper - 1``.) Each support HiGHS returns is checked exactly: a smallest dependent subset
of it (its unique circuit when its nullity is 1, else an exact enumeration of the small
submatrix) becomes the upper bound with its null vector. ``milp_dual_bound`` in ``lower.evidence``
(the minimum over the models of HiGHS's float dual bounds, an infeasible model counting as the
cut-off + 1) is never a proof: if it reaches the upper bound but the rigorous lower bound does
not, the result is UNKNOWN with reason ``"bound from MILP dual, not exact"``. The MILP is not part
of ``"auto"``: on random integer ``m x 2m`` matrices it took 0.15-7.5 s where the enumeration
takes 0.02-0.09 s (``m = 6, 8``), and on a ``20 x 40`` matrix with a planted 12-column dependency
it found nothing better than ``rank + 1`` in 20 s (``docs/invariants.md``, "Measured").

Lower bounds: no zero / parallel columns (2, 3), coherence ``ceil(1 + 1/mu)``, Babel, and the LP
bound ``t_i = min_y ||e_i - A^T y||_inf`` (one LP per column; for ``Ax = 0``,
``|x_i| = |(e_i - A^T y)^T x| <= t_i ||x||_1``, summed over the support: the ``s`` largest ``t_i``
must sum to >= 1). The LP's ``y`` is a float vector, i.e. an exact dyadic rational: ``t_i`` is then
recomputed exactly, so any ``y`` is a valid certificate. Upper bounds: ``rank + 1`` and l1
heuristics (``min ||x||_1 s.t. Ax = 0, x_j = 1``), each support turned into an exact circuit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import flint
import numpy as np

from theorychk.errors import ExactCheckFailed, InvalidInput, Reason, unknown_name
from theorychk.exact import to_fmpz_mat
from theorychk.invariants import _flats
from theorychk.invariants._matrix import as_matrix
from theorychk.invariants.coherence import _Gram, babel_spark_bound, coherence_spark_bound
from theorychk.invariants.result import Bound, InvariantResult
from theorychk.runtime import Deadline, progress as progress_bar
from theorychk.verdict import EngineStatus, Status

__all__ = ["spark", "spark_of_rows", "SPARK_METHODS", "SPARK_BOUNDS", "check_rows"]

SPARK_METHODS = ("auto", "enumerate", "dual", "milp", "bounds")
_REASON_MILP = "bound from MILP dual, not exact"
SPARK_BOUNDS = ("coherence", "babel", "lp")
#: Below this many stored residues (``_flats.enumeration_cost``) the exact search runs without the
#: LP bound and the l1 heuristic: on a 10 x 20 integer matrix (1.5e6 residues) the search takes
#: 0.055 s CPU and the two LP stages 0.025 s more plus 0.02 s to import HiGHS, for no gain.
CHEAP_ENUMERATION = 2_000_000


def spark(
    A: object,
    *,
    method: str = "auto",
    at_least: int | None = None,
    time_limit: float | None = None,
    bounds: Sequence[str] = SPARK_BOUNDS,
    heuristic: bool = True,
    support_tol: float = 1e-9,
    progress: bool = False,
) -> InvariantResult:
    """Spark of ``A``: the smallest number of linearly dependent columns (``n + 1`` if none).

    Parameters
    ----------
    A : 2-D array
        Floats (exact as stored), integers (beyond 2**53 kept exact) or a Layer.
    method : {"auto", "enumerate", "dual", "milp", "bounds"}
        Exact algorithm (see the module docstring); ``"bounds"`` skips the exact stage.
        ``"milp"`` only proposes supports: its upper bound is exact, its lower bound is the
        rigorous bounds' (HiGHS's dual bound is reported as ``lower.evidence["milp_dual_bound"]``
        and never certifies). ``"auto"`` chooses between ``"enumerate"`` and ``"dual"``.
    at_least : int, optional
        Only decide whether ``spark >= at_least`` (Theorem 1 of paper 004 needs ``spark >
        2 s``): the search stops once either side is proven, and the result is CERTIFIED with
        reason ``"at_least decided"`` even if the bounds do not meet.
    time_limit : float, optional
        Seconds; when it passes, the result is UNKNOWN (reason ``Reason.TIME_LIMIT``) with the best
        bounds proven so far.
    bounds : sequence of {"coherence", "babel", "lp"}
        Lower bounds computed before the exact stage (the binding one is ``lower.method``).
    heuristic : bool
        Run the l1 witness search (one LP per column) before the exact stage.
    support_tol : float
        Entries of an LP solution below ``support_tol * max|x|`` are treated as zero when
        reading a support; recorded in ``tolerances`` (the support is then checked exactly).
    progress : bool
        Show a progress bar for the enumeration.

    Returns
    -------
    InvariantResult
        ``upper.evidence``: ``columns`` and the exact ``null_vector`` on them (a circuit), or the
        convention. ``lower.evidence``: what proves the bound (``rank``, the enumeration's prime and
        levels, the LP certificates ``y`` and exact ``t``, the coherence pair, ...), plus
        ``candidates``: the value of every lower bound computed.

    References
    ----------
    [1] Aberdam, Simon, Elad, "When and How Can Deep Generative Models be Inverted?", Sec. 2.1,
        Theorem 1.  [2] Donoho, Elad, PNAS 100 (2003): spark, coherence bound.
        [3] ``shared/notes/invariants.md``: duality, LP bound, modular certificates.

    Examples
    --------
    >>> spark([[1, 0, 1, 2], [0, 1, 1, 2]]).value      # columns 2 and 3 are parallel
    2
    >>> r = spark([[1, 0, 1], [0, 1, 1]]); r.value, r.witness["columns"], r.witness["null_vector"]
    (3, [0, 1, 2], [Fraction(1, 1), Fraction(1, 1), Fraction(-1, 1)])
    >>> spark([[1, 0], [0, 1], [1, 1]]).value           # independent columns: n + 1
    3
    """
    job = _SparkJob(A, "A", method=method, at_least=at_least, time_limit=time_limit, bounds=bounds,
                    heuristic=heuristic, support_tol=support_tol, progress=progress, params={},
                    skip_lp_when_cheap=True)
    return job.run()


def spark_of_rows(
    W: object,
    rows: object,
    *,
    at_least: int | None = None,
    method: str = "auto",
    time_limit: float | None = None,
    bounds: Sequence[str] = SPARK_BOUNDS,
    heuristic: bool = True,
    progress: bool = False,
    integers: Any = None,
) -> InvariantResult:
    """Spark of ``W^S``: the rows ``S`` of ``W`` only — the per-signal form of Theorem 1 of paper 004.

    In the proof of Theorem 1 (Appendix A of [1]) layer ``i`` is unique on a signal when
    ``||x_i||_0 < spark(W_i^{S_{i+1}}) / 2`` with ``S_{i+1}`` the support of ``x_{i+1}``; the
    sub-spark of condition (ii) is the minimum of this over all supports of that size. ``rows``
    is a sequence of distinct row indices or a boolean mask. The common case — the rows have
    full column rank — is settled by one modular rank (milliseconds for 60 x 20).

    Returns :func:`spark`'s result with ``params["rows"]``; ``at_least`` as there. ``integers``:
    ``W^S`` as a flint ``fmpz_mat`` ``Z`` with ``W^S = scale * Z`` for some power of two ``scale``
    (the checker's :func:`theorychk.check.intmat.integer_layers` rows, as the certifier passes them),
    so that evidence in integer units (the LP bound's column scaling) is in the checker's units;
    default: the engine's own conversion.

    References
    ----------
    [1] Aberdam, Simon, Elad, "When and How Can Deep Generative Models be Inverted?", Thm. 1.

    Examples
    --------
    >>> W = [[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1]]
    >>> spark_of_rows(W, [0, 1]).value, spark_of_rows(W, [0, 1, 2]).value
    (3, 4)
    """
    arr = as_matrix(W, "W")
    idx = check_rows(rows, arr.shape[0])
    sub = arr[idx, :]
    job = _SparkJob(sub, "W^S", method=method, at_least=at_least, time_limit=time_limit, bounds=bounds,
                    heuristic=heuristic, support_tol=1e-9, progress=progress, params={"rows": idx})
    job.integers = integers
    return job.run()


def check_rows(rows: object, n_rows: int) -> list[int]:
    """Validate a row support: distinct indices in ``[0, n_rows)`` or a boolean mask of length ``n_rows``."""
    arr = np.asarray(rows)
    if arr.dtype == bool:
        if arr.shape != (n_rows,):
            raise InvalidInput(f"row mask must have shape ({n_rows},); got {arr.shape}",
                               argument="rows", got=arr.shape)
        return [int(i) for i in np.flatnonzero(arr)]
    if arr.size == 0:
        return []
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise InvalidInput(f"rows must be a 1-D sequence of integer indices or a boolean mask; got {rows!r}",
                           argument="rows", got=rows)
    idx = [int(i) for i in arr]
    bad = [i for i in idx if not 0 <= i < n_rows]
    if bad:
        raise InvalidInput(f"row index {bad[0]} out of range for a matrix with {n_rows} rows",
                           argument="rows", got=bad[0])
    if len(set(idx)) != len(idx):
        raise InvalidInput("row indices must be distinct", argument="rows", got=idx)
    return sorted(idx)


# --------------------------------------------------------------------------------------------


class _SparkJob:
    """One spark computation: bounds improve monotonically until they meet or time runs out."""

    def __init__(self, A: object, name: str, *, method: str, at_least: int | None, time_limit: float | None,
                 bounds: Sequence[str], heuristic: bool, support_tol: float, progress: bool,
                 params: dict[str, Any], skip_lp_when_cheap: bool = False) -> None:
        self.start = time.perf_counter()
        self.deadline = Deadline(time_limit)
        if method not in SPARK_METHODS:
            raise unknown_name("spark method", method, SPARK_METHODS)
        for b in bounds:
            if b not in SPARK_BOUNDS:
                raise unknown_name("spark bound", b, SPARK_BOUNDS)
        if at_least is not None and (isinstance(at_least, bool) or not isinstance(at_least, (int, np.integer))
                                     or at_least < 1):
            raise InvalidInput(f"at_least must be a positive integer or None; got {at_least!r}",
                               argument="at_least", got=at_least)
        if not (isinstance(support_tol, float | int) and 0 < support_tol < 1):
            raise InvalidInput(f"support_tol must be in (0, 1); got {support_tol!r}",
                               argument="support_tol", got=support_tol)
        self.arr = as_matrix(A, name)
        self.integers: Any = None  # an fmpz_mat of arr up to a power-of-two scale (spark_of_rows)
        self.method, self.at_least, self.bounds = method, at_least, tuple(bounds)
        self.heuristic, self.support_tol, self.progress = heuristic, float(support_tol), progress
        self.skip_lp_when_cheap, self.lp_stages = skip_lp_when_cheap, True
        self.params = {**params, "method": method, "at_least": at_least}
        self.m, self.n = self.arr.shape
        self.lower = Bound(1, "definition", {})
        self.upper = Bound(self.n + 1, "convention: n + 1 when the columns are independent",
                           {"n_columns": self.n})
        self.candidates: dict[str, int] = {}
        self.milp_evidence: dict[str, Any] = {}
        self.tolerances: dict[str, float] = {}
        self.reason = ""

    # -- bookkeeping ---------------------------------------------------------------------------

    def raise_lower(self, value: int, method: str, evidence: dict[str, Any]) -> None:
        # "No dependent set smaller than value" means spark >= value only up to the n + 1 cap.
        value = min(int(value), self.n + 1)
        self.candidates[method] = value
        if value > self.lower.value:
            self.lower = Bound(int(value), method, evidence)

    def lower_upper(self, value: int, method: str, evidence: dict[str, Any]) -> None:
        if value < self.upper.value:
            self.upper = Bound(int(value), method, evidence)

    def settled(self) -> bool:
        if self.lower.value >= self.upper.value:
            return True
        if self.at_least is not None:
            return self.lower.value >= self.at_least or self.upper.value < self.at_least
        return False

    def witness(self, cols: Sequence[int], method: str) -> bool:
        """Turn a dependent column set into an exact circuit and offer it as an upper bound."""
        found = self.ex.circuit_in(cols)
        if found is None:
            return False
        support, vec = found
        if not self.ex.verify_null(support, vec):  # defence in depth: never report an unchecked witness
            raise ExactCheckFailed("circuit failed its exact check")
        self.lower_upper(len(support), method, {"columns": list(support), "null_vector": list(vec)})
        return True

    def result(self) -> InvariantResult:
        if self.lower.value > self.upper.value:
            raise ExactCheckFailed(f"spark bounds crossed: {self.lower} > {self.upper}")
        lower = self.lower
        if self.candidates or self.milp_evidence:
            extra = {"candidates": dict(self.candidates)} if self.candidates else {}
            lower = Bound(lower.value, lower.method, {**lower.evidence, **extra, **self.milp_evidence})
        exact = lower.value == self.upper.value
        if exact:
            status, reason = Status.CERTIFIED, ""
        elif self.at_least is not None and self.settled():
            status, reason = Status.CERTIFIED, "at_least decided"
        else:
            status, reason = Status.UNKNOWN, self.reason or Reason.BOUND_GAP
        return InvariantResult(
            invariant="spark", params=self.params, lower=lower, upper=self.upper, status=status,
            reason=reason, tolerances={"support_tol": self.support_tol, **self.tolerances},
            elapsed=time.perf_counter() - self.start, shape=(self.m, self.n),
        )

    # -- stages ----------------------------------------------------------------------------------

    def run(self) -> InvariantResult:
        if self.trivial():
            return self.result()
        # When the exact search is cheap the LP stages (one HiGHS LP per column each, and
        # HiGHS's import) cost more than they can save: the enumeration proves both bounds alone.
        # Not for spark_of_rows: the certifier hands its LP bound to the checker, which replays
        # an enumeration only up to check.signal.ENUMERATION_CAP subsets.
        self.lp_stages = not self.skip_lp_when_cheap or self.exact_plan()[1] > CHEAP_ENUMERATION
        if not self.lp_stages:
            self.params["lp_stages"] = f"skipped: exact search of <= {CHEAP_ENUMERATION} residues"
        for stage in (self.lower_bounds, self.l1_witnesses, self.exact):
            if self.settled():
                break
            if self.deadline.expired():
                self.reason = Reason.TIME_LIMIT
                break
            stage()
        return self.result()

    def trivial(self) -> bool:
        """Zero / parallel columns and full column rank: settled without any search."""
        n = self.n
        if n == 0:
            self.lower = Bound(1, "convention: n + 1 with no columns", {"n_columns": 0})
            return True
        z = self.integers if self.integers is not None else to_fmpz_mat(self.arr)[0]
        self.z = z
        if self.m >= n:
            # Full rank modulo a prime is full rank over Q (a nonzero minor mod p is a nonzero
            # integer): the per-signal fast path, one modular rank instead of an exact one.
            p = _flats.PRIMES[0]
            if int(flint.nmod_mat(z, p).rank()) == n:
                self.lower = Bound(n + 1, "full column rank", {"rank_mod_p": n, "prime": p})
                return True
        self.ex = _flats.ExactColumns(z)
        cols = [self.ex.column(j) for j in range(n)]
        zero, classes, _ = _flats.merge_parallel(cols)
        if zero:
            self.upper = Bound(1, "zero column", {"columns": [zero[0]], "null_vector": [Fraction(1)]})
            return True
        self.raise_lower(2, "no zero column", {})
        pair = next((c[:2] for c in classes if len(c) > 1), None)
        if pair is not None:
            self.witness(pair, "parallel columns")
            return True
        if n >= 2:
            self.raise_lower(3, "no zero or parallel columns", {})
        self.rank = int(z.rank()) if self.m else 0
        if self.rank == n:
            self.lower = Bound(n + 1, "full column rank", {"rank": n})
            return True
        # A basis (pivot columns modulo a prime are independent over Q) plus one more column.
        _, red = self._primes(z, self.rank)[0]
        pivots = [int(np.flatnonzero(row)[0]) for row in red]
        extra = next(j for j in range(n) if j not in set(pivots))
        self.witness(pivots + [extra], "rank + 1")
        return self.settled()

    def lower_bounds(self) -> None:
        if "coherence" in self.bounds or "babel" in self.bounds:
            gram = _Gram(self.arr, "A")
            if "coherence" in self.bounds:
                c2, pair = gram.max_pair()
                s = coherence_spark_bound(c2)
                if s is not None:
                    self.raise_lower(s, "coherence", {"columns": list(pair), "mu_squared": c2})
            if "babel" in self.bounds:
                out = babel_spark_bound(gram)
                if out is not None:
                    s, bound = out
                    self.raise_lower(s, "babel", {"p": s - 1, "mu1_upper": bound, "mu1_of": s - 2})
        if "lp" in self.bounds and self.lp_stages and not self.settled():
            self.lp_bound()

    def scaled_float(self) -> tuple[np.ndarray, list[Fraction]] | None:
        """Columns scaled to about unit norm by exact dyadic factors (spark is scale invariant)."""
        try:
            zf = np.array([[float(int(x)) for x in row] for row in self.z.tolist()], dtype=np.float64)
        except OverflowError:
            return None
        norms = np.linalg.norm(zf, axis=0)
        if not np.all(np.isfinite(norms)) or np.any(norms == 0):
            return None
        d = 1.0 / norms
        return zf * d, [Fraction(float(x)) for x in d]

    def lp_bound(self) -> None:
        from theorychk._highs import INF as inf
        from theorychk._highs import Model, Program

        scaled = self.scaled_float()
        if scaled is None:
            return
        af, d = scaled
        m, n = af.shape
        # Rows j and n + j: a_j^T y + tau >= delta_ij and a_j^T y - tau <= delta_ij.
        coef = np.vstack([np.hstack([af.T, np.ones((n, 1))]), np.hstack([af.T, -np.ones((n, 1))])])
        model = Model(Program(coef, cost=np.r_[np.zeros(m), 1.0], col_lower=np.r_[np.full(m, -inf), 0.0],
                              col_upper=inf, row_lower=np.r_[np.zeros(n), np.full(n, -inf)],
                              row_upper=np.r_[np.full(n, inf), np.zeros(n)]),
                      presolve="choose", tolerances={})
        ys = []
        for i in range(n):
            if self.deadline.expired():
                self.reason = Reason.TIME_LIMIT
                return
            model.set_row_bounds(i, 1.0, inf)
            model.set_row_bounds(n + i, -inf, 1.0)
            sol = model.solve(basis=False)
            ok = sol.status is EngineStatus.OPTIMAL and sol.x is not None
            ys.append(sol.x[:m] if ok else np.zeros(m))
            model.set_row_bounds(i, 0.0, inf)
            model.set_row_bounds(n + i, -inf, 0.0)
        t = self.exact_t(np.array(ys).T, d)
        order = sorted(t, reverse=True)
        total, s = Fraction(0), n + 1
        for k, ti in enumerate(order, start=1):
            total += ti
            if total >= 1:
                s = k
                break
        certificate = [[Fraction(float(v)) for v in y] for y in ys]
        self.raise_lower(s, "LP bound", {"column_scaling": d, "y": certificate, "t": t})

    def exact_t(self, y: np.ndarray, d: list[Fraction]) -> list[Fraction]:
        """``t_i = ||e_i - D Z^T y_i||_inf`` exactly, for the column scaling ``D``."""
        yz, yscale = to_fmpz_mat(y)
        prod = self.z.transpose() * yz if self.m else flint.fmpz_mat(self.n, self.n)
        n = self.n
        t = []
        for i in range(n):
            worst = Fraction(0)
            for j in range(n):
                v = (1 if i == j else 0) - d[j] * yscale * int(prod[j, i])
                worst = max(worst, abs(v))
            t.append(worst)
        return t

    def l1_witnesses(self) -> None:
        if not self.heuristic or not self.lp_stages:
            return
        from theorychk._highs import INF as inf
        from theorychk._highs import Model, Program

        scaled = self.scaled_float()
        if scaled is None:
            return
        af, _ = scaled
        m, n = af.shape
        # Variables x (free) and s >= |x|; minimise sum s subject to A x = 0, x_j = 1.
        eye = np.eye(n)
        rows = np.vstack([np.hstack([af, np.zeros((m, n))]), np.hstack([-eye, eye]), np.hstack([eye, eye])])
        model = Model(Program(rows, cost=np.r_[np.zeros(n), np.ones(n)], col_lower=np.r_[np.full(n, -inf), np.zeros(n)],
                              col_upper=inf, row_lower=0.0, row_upper=np.r_[np.zeros(m), np.full(2 * n, inf)]),
                      presolve="choose", tolerances={})
        seen: set[tuple[int, ...]] = set()
        for j in range(n):
            if self.settled() or self.deadline.expired():
                return
            model.set_col_bounds(j, 1.0, 1.0)
            sol = model.solve(basis=False)
            if sol.status is EngineStatus.OPTIMAL and sol.x is not None:
                x = np.abs(sol.x[:n])
                support = tuple(int(i) for i in np.flatnonzero(x > self.support_tol * x.max()))
                # A vertex has at most rank + 1 nonzeros; larger supports are numerical debris.
                if support not in seen and len(support) <= self.rank + 1:
                    seen.add(support)
                    self.witness(support, "l1 heuristic")
            model.set_col_bounds(j, -inf, inf)

    def exact_plan(self) -> tuple[str, float, int]:
        """The exact search ``exact`` will run, its cost in stored residues, and its size cap."""
        max_size = self.upper.value - 1
        if self.at_least is not None:
            max_size = min(max_size, self.at_least - 1)
        if self.method in ("milp", "bounds"):
            return self.method, math.inf, max_size
        d = self.n - self.rank
        primal = _flats.enumeration_cost(self.rank, self.n, max_size - 1)
        dual = _flats.enumeration_cost(d, self.n, d - 1)
        if self.method == "auto":
            return ("enumerate", primal, max_size) if primal <= dual else ("dual", dual, max_size)
        return self.method, primal if self.method == "enumerate" else dual, max_size

    def exact(self) -> None:
        if self.method == "bounds":
            return
        if self.method == "milp":
            self.milp()
            return
        method, _, max_size = self.exact_plan()
        try:
            with progress_bar(f"spark ({method})", quiet=not self.progress) as bar:
                if method == "enumerate":
                    self.enumerate(max_size, bar)
                else:
                    self.dual(bar)
        except _flats.TimeUp:
            self.reason = Reason.TIME_LIMIT
        except _flats.SizeLimit as exc:
            self.reason = str(exc)

    def milp(self) -> None:
        """One MILP per column (module docstring); each proposed support is checked exactly."""
        from theorychk._highs import INF, LP_TOLERANCES, Model, Program

        scaled = self.scaled_float()
        if scaled is None:
            self.reason = f"{Reason.SIZE_LIMIT}: entries beyond the float range, no MILP"
            return
        af, _ = scaled
        m, n = af.shape
        eye = np.eye(n)
        # Variables x (n, in [-1, 1]) then y (n, binary); rows A x = 0, x - y <= 0, -x - y <= 0,
        # and the floor / cut-off  lower <= sum y <= cutoff (every optimum respects both).
        rows = np.vstack([np.hstack([af, np.zeros((m, n))]), np.hstack([eye, -eye]), np.hstack([-eye, -eye]),
                          np.r_[np.zeros(n), np.ones(n)][None, :]])
        cut = rows.shape[0] - 1
        model = Model(Program(rows, cost=np.r_[np.zeros(n), np.ones(n)],
                              col_lower=np.r_[-np.ones(n), np.zeros(n)], col_upper=np.ones(2 * n),
                              row_lower=np.r_[np.zeros(m), np.full(2 * n, -INF), float(self.lower.value)],
                              row_upper=np.r_[np.zeros(m + 2 * n), float(self.cutoff())],
                              integer=np.arange(n, 2 * n)), presolve="on")
        self.tolerances.update(LP_TOLERANCES)
        duals: list[float] = []
        statuses: list[str] = []
        for j in range(n):
            if self.settled():
                break
            # Infeasible under the cut-off says (in floats) OPT_j > the cut-off at the time; the
            # cut-off only decreases, so that stays above the final one.
            model.set_row_bounds(cut, float(self.lower.value), float(self.cutoff()))
            if j:
                model.set_col_bounds(j - 1, -1.0, 1.0)
            model.set_col_bounds(j, 1.0, 1.0)
            sol = model.solve(self.deadline)
            statuses.append(sol.label)
            if sol.status is EngineStatus.INFEASIBLE:
                duals.append(float(self.cutoff() + 1))
            else:
                duals.append(float(sol.dual_bound))
            if sol.x is not None:
                self.milp_support(sol.x[:n], sol.x[n:])
            if sol.status not in (EngineStatus.OPTIMAL, EngineStatus.INFEASIBLE):
                break
        ended = (EngineStatus.OPTIMAL, EngineStatus.INFEASIBLE)
        finished = len(statuses) == n and all(st in ended for st in statuses)
        # Without every model solved (or infeasible) HiGHS has proven nothing about the minimum.
        dual = min([*duals, float(self.cutoff() + 1)]) if finished else None
        self.milp_evidence = {
            "milp_dual_bound": dual,
            "milp_statuses": statuses,
            "milp_note": "HiGHS's float dual bound (min over the per-column models; an infeasible "
                         "model counts as the cut-off), not a proof; the lower bound stays the rigorous one",
        }
        if self.settled():
            return
        if not finished and statuses and statuses[-1] not in ended:
            self.reason = (Reason.TIME_LIMIT if statuses[-1] == EngineStatus.TIME_LIMIT
                           else f"MILP stopped: {statuses[-1]}")
        elif dual is not None and dual > self.cutoff() + 1e-6:
            self.reason = _REASON_MILP

    def cutoff(self) -> int:
        """The largest support still worth finding: below the upper bound and, with ``at_least``,
        below ``at_least`` (a dependent set of size ``>= at_least`` settles nothing)."""
        top = self.upper.value - 1
        return top if self.at_least is None else min(top, self.at_least - 1)

    def milp_support(self, x: np.ndarray, y: np.ndarray) -> None:
        """Offer the smallest dependent subset of a MILP support (binaries, else the entries of ``x``)."""
        ax = np.abs(x)
        for support in (np.flatnonzero(y > 0.5), np.flatnonzero(ax > self.support_tol * ax.max())):
            cols = [int(i) for i in support]
            nullity = len(self.ex.nullspace(cols)) if cols else 0
            if nullity == 0:
                continue
            remaining = self.deadline.remaining()
            if nullity > 1 and (remaining is None or remaining > 0):
                # Several circuits: the smallest by an exact search of the (small) submatrix.
                sub = _SparkJob(self.arr[:, cols], "A_S", method="enumerate", at_least=None,
                                time_limit=remaining, bounds=(), heuristic=False,
                                support_tol=self.support_tol, progress=False, params={}).run()
                if "columns" in sub.upper.evidence:
                    cols = [cols[c] for c in sub.upper.evidence["columns"]]
            # With nullity 1 the support's unique circuit is its smallest dependent subset.
            self.witness(cols, "MILP proposal")
            return

    def _primes(self, z: flint.fmpz_mat, rank: int) -> list[tuple[int, np.ndarray]]:
        out = []
        for p in _flats.PRIMES:
            red = _flats.reduce_mod_p(z, p)
            if red.shape[0] == rank:  # otherwise every set would look dependent mod p
                out.append((p, red))
        return out

    def enumerate(self, max_size: int, bar: object) -> None:
        for p, g0 in self._primes(self.z, self.rank):
            try:
                scan = _flats.min_dependent(g0, p, max_size=max_size, deadline=self.deadline, bar=bar,
                                            verify=lambda cols: self.ex.rank(cols) < len(cols))
            except _flats.SpuriousModP as exc:
                self.raise_lower(exc.proven + 1, "enumeration", {"prime": p, "clear_up_to_size": exc.proven})
                continue
            except (_flats.TimeUp, _flats.SizeLimit) as exc:
                # exc.proven is the last complete level l: every set of size <= l + 1 is independent.
                self.raise_lower(exc.proven + 2, "enumeration",
                                 {"prime": p, "clear_up_to_size": exc.proven + 1})
                raise
            ev = {"prime": p, "clear_up_to_size": scan.excluded, "nodes": scan.nodes}
            self.raise_lower(scan.excluded + 1, "enumeration", ev)
            if scan.found is not None:
                self.witness(scan.found, "enumeration")
            return
        self.reason = "modular checks failed for every prime"

    def dual(self, bar: object) -> None:
        n = self.n
        kernel = self.ex.nullspace(range(n))
        d = len(kernel)
        zero, classes, reps = _flats.merge_parallel([[v[i] for v in kernel] for i in range(n)])
        if d == 1:
            best_flat: list[int] = []
            ev = {"nullity": 1, "max_rows_in_hyperplane": len(zero)}
        else:
            cfg = flint.fmpz_mat([[rep[k] for rep in reps] for k in range(d)])
            weights = [len(c) for c in classes]
            known = n - self.upper.value - len(zero)  # the witness's complement lies in a hyperplane
            best_flat = None
            cfg_ex = _flats.ExactColumns(cfg)
            for p, g0 in self._primes(cfg, d):

                def verify(cols: tuple[int, ...], counts: tuple[int, ...], g0: np.ndarray = g0,
                           p: int = p) -> bool:
                    members = _flats.closure_mod_p(g0, cols, p)
                    return cfg_ex.rank(members) == len(cols) and sum(weights[c] for c in members) >= counts[0]

                try:
                    scan = _flats.flat_scan(g0, weights, p, max_level=d - 1, target=0, mode="max", best=known,
                                            verify=verify, deadline=self.deadline, bar=bar)
                except _flats.SpuriousModP:
                    continue
                best = max(scan.best, known)
                if scan.flat is not None:
                    best_flat = [i for c in _flats.closure_mod_p(g0, scan.flat, p) for i in classes[c]]
                ev = {"nullity": d, "max_rows_in_hyperplane": best + len(zero), "prime": p,
                      "nodes": scan.nodes}
                break
            else:
                self.reason = "modular checks failed for every prime"
                return
        h_max = ev["max_rows_in_hyperplane"]
        self.raise_lower(n - h_max, "kernel duality", ev)
        if best_flat is not None:
            inside = set(best_flat) | set(zero)
            self.witness([j for j in range(n) if j not in inside], "kernel duality")
