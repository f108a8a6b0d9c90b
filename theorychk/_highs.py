"""The one way theorychk builds, solves and reads back a HiGHS model. Untrusted.

Nothing read back from HiGHS is a claim: a solution, a basis or a dual vector only *proposes*, and
the caller turns it into exact evidence (or reports it as float evidence). This module owns what
every HiGHS model of theorychk shares:

* :class:`Program` — ``min c·x  s.t.  row_lower ≤ A x ≤ row_upper,  col_lower ≤ x ≤ col_upper``,
  some columns integral: plain arrays, so it pickles (:mod:`theorychk.solvers.milp` hands one to
  a child interpreter). ``A`` arrives dense or as a ``scipy.sparse`` matrix (CSR, CSC, COO ...)
  and is kept as CSR arrays, passed to HiGHS in one ``passModel`` call — no Python loop over rows.
  A dense ``A`` is compressed by numpy alone: scipy.sparse (0.1 s CPU to import) is imported only
  for a sparse ``A`` or when :attr:`Program.a` is read, so ``theorychk invariants --spark`` starts
  without it.
* :class:`Model` — a :class:`Program` loaded into a silent HiGHS instance with the tolerances
  (:data:`LP_TOLERANCES` unless the caller names others), presolve and options set; warm-started
  re-solves after bound or coefficient changes; :meth:`Model.solve` hands HiGHS what is left of a
  :class:`~theorychk.runtime.Deadline` as its ``time_limit``.
* :class:`Solved` — one run read back: the status mapped to one :class:`EngineStatus`
  (:func:`solve_status`), the primal point, row duals, basis statuses, objective and bounds.
* The banner and the thread policy below.

Threads
-------
HiGHS keeps one thread scheduler per process, created by the first solve with the ``threads``
option of that solve. From highspy 1.16 on, a later solve whose ``threads`` names another count
fails outright (``HighsStatus.kError``, model status ``kNotset``): setting ``threads=1`` here
after any other HiGHS solve in the process (one of ours with the default, or the user's) made
every exact LP come back unsolved. So theorychk never sets ``threads``; the default (0: use the
scheduler there is) works whatever ran before. The inversion LPs and MILP never set it and
always ran at the default.

Banner
------
HiGHS prints its banner ("Running HiGHS 1.16.0 ... Copyright ...") on stdout the first time a
``highspy.Highs`` is made in a process — from inside its constructor (the wrapper's callback set-up
is its first logging call), before any ``output_flag`` can be set, which broke every ``--json``
output. :func:`new_highs` therefore builds a :class:`_QuietHighs`: the wrapper's ``__init__``
reaches the C++ constructor through ``super()``, and a class placed between them in the MRO turns
``output_flag`` off right after the C++ object exists, before the wrapper's first call. The
object is a plain ``highspy.Highs`` in every other way. Nothing HiGHS prints reaches stdout, and
no file descriptor is redirected (which would also swallow other threads' output).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sys

import highspy
import numpy as np

from theorychk.errors import InvalidInput, SolverError
from theorychk.runtime import Deadline
from theorychk.verdict import EngineStatus

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = [
    "BASIC",
    "INF",
    "LOWER",
    "LP_TOLERANCES",
    "TIGHT_TOLERANCES",
    "UPPER",
    "ZERO",
    "Model",
    "Program",
    "EngineStatus",
    "Solved",
    "instances_made",
    "new_highs",
    "solve_status",
]

#: HiGHS's infinity (a bound at ``±INF`` is no bound).
INF = highspy.kHighsInf

_made = 0


def instances_made() -> int:
    """How many HiGHS instances :func:`new_highs` made in this process (0: forking is safe for HiGHS)."""
    return _made


#: The C++ class under highspy's Python wrapper (``highspy._core._Highs`` in highspy 1.16).
_CORE = highspy.Highs.__bases__[0]


class _SilentCore(_CORE):  # type: ignore[misc, valid-type]
    """The C++ ``Highs``, with output off before anything else can call into it."""

    def __init__(self) -> None:
        super().__init__()
        _CORE.setOptionValue(self, "output_flag", False)


class _QuietHighs(highspy.Highs, _SilentCore):
    """``highspy.Highs`` whose constructor prints nothing (MRO: Highs → _SilentCore → _Highs)."""


def new_highs(**options: Any) -> highspy.Highs:
    """A silent ``highspy.Highs`` — silent from its construction on — with ``options`` set (never
    ``threads``: see the module doc).

    Examples
    --------
    >>> h = new_highs(presolve="off")
    >>> _ = h.addVar(1.0, 2.0), h.changeColCost(0, 1.0)
    >>> _ = h.run()
    >>> h.modelStatusToString(h.getModelStatus()), h.getInfo().objective_function_value
    ('Optimal', 1.0)
    """
    if "threads" in options:
        raise ValueError("new_highs: the 'threads' option is not set by theorychk (HiGHS's scheduler is per process)")
    global _made
    h = _QuietHighs()
    _made += 1
    for name, value in options.items():
        if h.setOptionValue(name, value) == highspy.HighsStatus.kError:
            raise InvalidInput(f"HiGHS refused the option {name}={value!r} (unknown name, or a value of "
                               "the wrong type or out of range)", argument="options", got={name: value})
    return h


# --------------------------------------------------------------------------------------------
# Tolerances
# --------------------------------------------------------------------------------------------

#: The tolerances of the exact-evidence LPs and MILPs (norm constants, spark, the stability
#: bracket), under the names results record them by. The ``mip`` ones are set on MILPs only.
#: (Injectivity records the same two feasibility values in its own ``TOLERANCES``.)
LP_TOLERANCES = {
    "highs_primal_feasibility_tolerance": 1e-9,
    "highs_dual_feasibility_tolerance": 1e-9,
    "highs_mip_feasibility_tolerance": 1e-9,
    "highs_mip_rel_gap": 1e-9,
}

#: The polishing LPs of the inversion methods (basis pursuit, the MILP's pattern LP): a point
#: whose values are the answer, so feasibility is asked tighter than HiGHS's 1e-7.
TIGHT_TOLERANCES = {
    "highs_primal_feasibility_tolerance": 1e-10,
    "highs_dual_feasibility_tolerance": 1e-10,
}

_PREFIX = "highs_"


def _tolerance_options(tolerances: Mapping[str, float], mip: bool) -> dict[str, float]:
    """HiGHS option names for recorded tolerance names (``highs_<option>``)."""
    options = {}
    for name, value in tolerances.items():
        if not name.startswith(_PREFIX):
            raise InvalidInput(f"tolerances: names are 'highs_<HiGHS option>'; got {name!r}",
                               argument="tolerances", got=name)
        option = name[len(_PREFIX):]
        if mip or not option.startswith("mip_"):
            options[option] = float(value)
    return options


# --------------------------------------------------------------------------------------------
# Statuses
# --------------------------------------------------------------------------------------------


# How a run ended is an EngineStatus (theorychk/verdict.py), the one outcome vocabulary of the
# engines; this module only maps HiGHS's model statuses onto it.


_MS = highspy.HighsModelStatus
_STATUS_OF = {
    _MS.kOptimal: EngineStatus.OPTIMAL,
    _MS.kInfeasible: EngineStatus.INFEASIBLE,
    _MS.kUnbounded: EngineStatus.UNBOUNDED,
    # a budget ran out: iterations or an interrupt count as time (theorychk sets neither)
    _MS.kTimeLimit: EngineStatus.TIME_LIMIT,
    _MS.kIterationLimit: EngineStatus.TIME_LIMIT,
    _MS.kInterrupt: EngineStatus.TIME_LIMIT,
}


def solve_status(model_status: highspy.HighsModelStatus) -> EngineStatus:
    """The :class:`EngineStatus` of a HiGHS model status. ``kUnboundedOrInfeasible`` (presolve
    could not tell which) and everything else HiGHS can say is ``OTHER``.

    >>> solve_status(highspy.HighsModelStatus.kIterationLimit)
    <EngineStatus.TIME_LIMIT: ...>
    """
    return _STATUS_OF.get(model_status, EngineStatus.OTHER)


_BASIS = highspy.HighsBasisStatus
#: Basis statuses as the ints :class:`Solved` reports them in.
BASIC, LOWER, UPPER, ZERO = int(_BASIS.kBasic), int(_BASIS.kLower), int(_BASIS.kUpper), int(_BASIS.kZero)


@dataclass(frozen=True)
class Solved:
    """One run of a :class:`Model`, read back. Arrays are ``None`` when HiGHS produced none.

    ``objective``: HiGHS's objective value (MILP: ``inf`` without an incumbent). ``dual_bound``:
    what the run proved about the optimum, in floats — an LP's objective at optimality, a MILP's
    dual bound when it ended optimal or at the time limit, ``-inf`` otherwise. ``mip_dual_bound``,
    ``nodes`` and ``mip_gap`` are HiGHS's own MILP figures whatever the status; ``iterations`` its
    simplex iteration count; ``error``: ``run()`` itself failed (``HighsStatus.kError``);
    ``bound_reached``: HiGHS stopped because no solution can beat the ``objective_bound`` option
    (a cutoff; status ``OTHER``).
    MILPs report no duals or basis.
    """

    status: EngineStatus
    highs_status: str  # HiGHS's words for its model status, e.g. "Primal infeasible or unbounded"
    objective: float
    x: np.ndarray | None
    row_dual: np.ndarray | None
    col_status: tuple[int, ...] | None
    row_status: tuple[int, ...] | None
    dual_bound: float
    mip_dual_bound: float = -math.inf
    iterations: int = 0
    nodes: int = 0
    mip_gap: float = math.inf
    error: bool = False
    bound_reached: bool = False  # kObjectiveBound: nothing beats the ``objective_bound`` option

    @property
    def label(self) -> str:
        """The status as results record it: ``"optimal"`` ... , ``"other: <HiGHS's words>"``.

        >>> Solved(EngineStatus.OTHER, "Not Set", math.nan, None, None, None, None, -math.inf).label
        'other: Not Set'
        """
        if self.status is EngineStatus.OTHER:
            return f"other: {self.highs_status}"
        return self.status.value


_NOT_RUN = "not run: the deadline had passed"


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


def _vector(name: str, values: Any, n: int, *, bound: bool) -> np.ndarray:
    v = np.array(values, dtype=np.float64).reshape(-1) if np.ndim(values) else np.full(n, float(values))
    if v.shape != (n,):
        raise InvalidInput(f"{name} must have {n} entries; got {np.shape(values)}", argument=name, got=values)
    if bound and np.isnan(v).any():
        raise InvalidInput(f"{name} must not contain NaN; got one at {int(np.flatnonzero(np.isnan(v))[0])}",
                           argument=name, got=values)
    if not bound and not np.isfinite(v).all():
        raise InvalidInput(f"{name} must be finite; got {v[~np.isfinite(v)][0]} at {int(np.flatnonzero(~np.isfinite(v))[0])}",
                           argument=name, got=values)
    return v


@dataclass(frozen=True, eq=False)
class Program:
    """``min cost·x  s.t.  row_lower ≤ a x ≤ row_upper,  col_lower ≤ x ≤ col_upper``, the columns
    in ``integer`` integral (a binary is an integer column with bounds ``[0, 1]``).

    ``a``: a 2-D array or any ``scipy.sparse`` matrix; kept as CSR arrays (``indptr``,
    ``indices``, ``data``) without stored zeros (duplicate entries of a COO matrix are summed).
    Bounds may be ``±INF``; a scalar bound or cost applies to every row or column. Everything is a
    plain array: a ``Program`` pickles.

    Examples
    --------
    >>> p = Program(np.array([[1.0, 1.0]]), cost=[1.0, 2.0], col_lower=0.0, col_upper=INF,
    ...             row_lower=1.0, row_upper=INF)
    >>> p.shape, p.nnz, p.is_mip
    ((1, 2), 2, False)
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_cols: int
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    integer: np.ndarray

    def __init__(self, a: Any, *, cost: Any, col_lower: Any, col_upper: Any, row_lower: Any, row_upper: Any,
                 integer: Sequence[int] | np.ndarray | None = None) -> None:
        sparse = sys.modules.get("scipy.sparse")  # an A is sparse only if scipy.sparse is loaded
        if sparse is not None and sparse.issparse(a):
            m = sparse.csr_array(a, dtype=np.float64, copy=True)
            m.sum_duplicates()
            m.eliminate_zeros()
            m.sort_indices()
            indptr, indices, data, (nrow, ncol) = m.indptr, m.indices, m.data, m.shape
        else:
            dense = np.asarray(a, dtype=np.float64)
            if dense.ndim != 2:
                raise InvalidInput(f"the constraint matrix must be 2-D; got shape {dense.shape}",
                                   argument="a", got=dense.shape)
            nrow, ncol = dense.shape
            stored = dense != 0  # NaN and inf are stored, and rejected below
            indptr = np.concatenate(([0], np.cumsum(stored.sum(axis=1))))
            indices = np.nonzero(stored)[1]
            data = dense[stored]
        if not np.isfinite(data).all():
            k = int(np.flatnonzero(~np.isfinite(data))[0])
            r = int(np.searchsorted(indptr, k, side="right") - 1)
            raise InvalidInput(f"the constraint matrix must be finite; got {data[k]} at row {r}, column {int(indices[k])}",
                               argument="a", got=float(data[k]))
        cols = np.zeros(0, dtype=np.int64) if integer is None else np.unique(np.asarray(integer, dtype=np.int64))
        if cols.size and (cols[0] < 0 or cols[-1] >= ncol):
            raise InvalidInput(f"integer must list columns in [0, {ncol}); got {cols.tolist()}",
                               argument="integer", got=cols.tolist())
        values = {
            "indptr": np.asarray(indptr, dtype=np.int32),
            "indices": np.asarray(indices, dtype=np.int32),
            "data": np.asarray(data, dtype=np.float64),
            "n_cols": int(ncol),
            "cost": _vector("cost", cost, ncol, bound=False),
            "col_lower": _vector("col_lower", col_lower, ncol, bound=True),
            "col_upper": _vector("col_upper", col_upper, ncol, bound=True),
            "row_lower": _vector("row_lower", row_lower, nrow, bound=True),
            "row_upper": _vector("row_upper", row_upper, nrow, bound=True),
            "integer": cols,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def a(self) -> sp.csr_array:
        """The constraint matrix as a ``scipy.sparse`` CSR array (imports scipy.sparse)."""
        import scipy.sparse as sp

        return sp.csr_array((self.data, self.indices, self.indptr), shape=self.shape)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.indptr.size - 1, self.n_cols)

    @property
    def nnz(self) -> int:
        return int(self.data.size)

    @property
    def is_mip(self) -> bool:
        return bool(self.integer.size)


class Model:
    """A :class:`Program` loaded into a silent HiGHS instance, re-solvable after changes.

    ``presolve``: ``"off"``, ``"on"`` or ``"choose"`` (HiGHS's default). ``tolerances``: recorded
    names ``highs_<option>`` (default :data:`LP_TOLERANCES`; ``{}`` keeps HiGHS's defaults); the
    ``mip`` ones apply to MILPs only. ``options``: any other HiGHS options (never ``threads``).
    Each :meth:`solve` warm-starts from the previous basis.

    Examples
    --------
    >>> m = Model(Program(np.array([[1.0, 1.0]]), cost=[1.0, 2.0], col_lower=0.0, col_upper=INF,
    ...                   row_lower=1.0, row_upper=INF))
    >>> s = m.solve()
    >>> s.status, s.objective, s.x.tolist(), s.row_dual.tolist()
    (<EngineStatus.OPTIMAL: 'optimal'>, 1.0, [1.0, 0.0], [1.0])
    >>> m.set_col_bounds(0, 0.0, 0.5)
    >>> m.solve().objective
    1.5
    """

    def __init__(self, program: Program, *, presolve: str = "off",
                 tolerances: Mapping[str, float] = LP_TOLERANCES, options: Mapping[str, Any] | None = None) -> None:
        if presolve not in ("off", "on", "choose"):
            raise InvalidInput(f"presolve must be 'off', 'on' or 'choose'; got {presolve!r}",
                               argument="presolve", got=presolve)
        self.program = program
        self.is_mip = program.is_mip
        nrow, ncol = program.shape
        self.nrow, self.ncol = nrow, ncol
        h = new_highs(presolve=presolve, **_tolerance_options(tolerances, self.is_mip), **(options or {}))
        kinds = np.zeros(ncol, dtype=np.int32)
        kinds[program.integer] = int(highspy.HighsVarType.kInteger)
        status = h.passModel(
            ncol, nrow, program.nnz, int(highspy.MatrixFormat.kRowwise), 1, 0.0,
            program.cost, program.col_lower, program.col_upper, program.row_lower, program.row_upper,
            program.indptr, program.indices, program.data, kinds,
        )
        if status == highspy.HighsStatus.kError:
            raise SolverError(f"HiGHS rejected the {'MILP' if self.is_mip else 'LP'} ({nrow} rows, {ncol} columns)")
        self.highs = h

    # Changes between solves (HiGHS keeps the basis: the next solve starts warm).

    def set_col_bounds(self, col: int, lower: float, upper: float) -> None:
        self.highs.changeColBounds(int(col), float(lower), float(upper))

    def set_row_bounds(self, row: int, lower: float, upper: float) -> None:
        self.highs.changeRowBounds(int(row), float(lower), float(upper))

    def set_rows_bounds(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.int32)
        self.highs.changeRowsBounds(int(rows.size), rows, np.asarray(lower, dtype=np.float64),
                                    np.asarray(upper, dtype=np.float64))

    def set_coeff(self, row: int, col: int, value: float) -> None:
        self.highs.changeCoeff(int(row), int(col), float(value))

    def set_basis(self, col_status: Sequence[int], row_status: Sequence[int]) -> None:
        """Start the next solve from this basis (statuses as :data:`BASIC`, :data:`LOWER` ...)."""
        basis = highspy.HighsBasis()
        basis.col_status = [_BASIS(int(s)) for s in col_status]
        basis.row_status = [_BASIS(int(s)) for s in row_status]
        basis.valid = True
        self.highs.setBasis(basis)

    def clear_solver(self) -> None:
        """Forget the basis and solution (the next solve starts cold)."""
        self.highs.clearSolver()

    def solve(self, deadline: Deadline | None = None, *, cap: float | None = None, floor: float = 1e-3,
              basis: bool = True) -> Solved:
        """Run HiGHS with ``time_limit`` = what is left of ``deadline`` (``None``: no limit), at
        most ``cap`` and at least ``floor`` seconds (:meth:`Deadline.limit`). A deadline already
        passed is a time limit without running HiGHS. ``basis=False`` skips reading the basis
        back (an LP re-solved thousands of times that never looks at it).
        """
        rem = None if deadline is None else deadline.remaining()  # one look at the clock per solve
        if rem is not None and rem <= 0:
            return Solved(EngineStatus.TIME_LIMIT, _NOT_RUN, math.nan, None, None, None, None, -math.inf)
        limit = cap if rem is None else max(floor, rem if cap is None else min(rem, cap))  # Deadline.limit
        h = self.highs
        h.setOptionValue("time_limit", INF if limit is None else float(limit))
        error = h.run() == highspy.HighsStatus.kError
        ms = h.getModelStatus()
        status = solve_status(ms)
        info = h.getInfo()
        sol = h.getSolution()
        x = np.array(sol.col_value, dtype=np.float64) if sol.value_valid else None
        common = dict(mip_dual_bound=float(info.mip_dual_bound), iterations=int(info.simplex_iteration_count),
                      nodes=int(info.mip_node_count), mip_gap=float(info.mip_gap), error=error,
                      bound_reached=ms == _MS.kObjectiveBound)
        words = h.modelStatusToString(ms)
        if self.is_mip:
            proven = status in (EngineStatus.OPTIMAL, EngineStatus.TIME_LIMIT)
            bound = float(info.mip_dual_bound) if proven else -math.inf
            objective = float(info.objective_function_value) if x is not None else math.inf
            return Solved(status, words, objective, x, None, None, None, bound, **common)
        row_dual = np.array(sol.row_dual, dtype=np.float64) if sol.dual_valid else None
        col_status = row_status = None
        if basis:
            b = h.getBasis()
            if b.valid:
                col_status = tuple(int(s) for s in b.col_status)
                row_status = tuple(int(s) for s in b.row_status)
        objective = float(info.objective_function_value)
        bound = objective if status is EngineStatus.OPTIMAL else -math.inf
        return Solved(status, words, objective, x, row_dual, col_status, row_status, bound, **common)
