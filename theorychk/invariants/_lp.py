"""HiGHS plumbing for the norm-constant LPs and MILPs: build, solve, read back. Untrusted.

Nothing here is a claim. The solutions, bases and dual values read back from HiGHS only
*propose*: :mod:`theorychk.invariants.cnorm` turns them into exact rational bounds (a vertex
re-solved in exact arithmetic, a dual vector whose bound is recomputed exactly) or reports them
as float evidence with status UNKNOWN.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np

from theorychk._highs import new_highs
from theorychk.errors import SolverError
from theorychk.verdict import EngineStatus
from theorychk.runtime import Deadline

__all__ = ["INF", "LP_TOLERANCES", "Model", "Solved", "float_ints"]

INF = highspy.kHighsInf

#: The HiGHS tolerances every LP and MILP here runs with (recorded in each result).
LP_TOLERANCES = {
    "highs_primal_feasibility_tolerance": 1e-9,
    "highs_dual_feasibility_tolerance": 1e-9,
    "highs_mip_feasibility_tolerance": 1e-9,
    "highs_mip_rel_gap": 1e-9,
}

_STATUS = highspy.HighsModelStatus
_BASIS = highspy.HighsBasisStatus
BASIC, LOWER, UPPER, ZERO = int(_BASIS.kBasic), int(_BASIS.kLower), int(_BASIS.kUpper), int(_BASIS.kZero)


@dataclass(frozen=True)
class Solved:
    """What one run returned: ``status`` is an :class:`~theorychk.verdict.EngineStatus` (optimal,
    time limit, infeasible, unbounded) or ``"other: ..."``; arrays are ``None`` when HiGHS
    produced none."""

    status: EngineStatus | str
    objective: float
    x: np.ndarray | None
    row_dual: np.ndarray | None
    col_status: tuple[int, ...] | None
    row_status: tuple[int, ...] | None
    dual_bound: float  # MILP: HiGHS's proven (float) bound on the optimum; LP: the objective


class Model:
    """A dense HiGHS model ``min c.x  s.t.  row_lower <= A x <= row_upper, col bounds``.

    Dense on purpose: the matrices here are at most a few hundred rows by a few dozen columns and
    mostly full. Columns listed in ``integer`` are integral (binary with bounds [0, 1]).
    """

    def __init__(
        self,
        a: np.ndarray,
        *,
        cost: np.ndarray,
        col_lower: np.ndarray,
        col_upper: np.ndarray,
        row_lower: np.ndarray,
        row_upper: np.ndarray,
        integer: np.ndarray | None = None,
        presolve: bool = False,
    ) -> None:
        a = np.asarray(a, dtype=np.float64)
        nrow, ncol = a.shape
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = ncol, nrow
        lp.col_cost_ = np.asarray(cost, dtype=np.float64)
        lp.col_lower_ = np.asarray(col_lower, dtype=np.float64)
        lp.col_upper_ = np.asarray(col_upper, dtype=np.float64)
        lp.row_lower_ = np.asarray(row_lower, dtype=np.float64)
        lp.row_upper_ = np.asarray(row_upper, dtype=np.float64)
        nz_rows, nz_cols = np.nonzero(a)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = ncol, nrow
        lp.a_matrix_.start_ = np.searchsorted(nz_rows, np.arange(nrow + 1)).astype(np.int32)
        lp.a_matrix_.index_ = nz_cols.astype(np.int32)
        lp.a_matrix_.value_ = a[nz_rows, nz_cols]
        self.is_mip = integer is not None and len(integer) > 0
        if self.is_mip:
            kinds = np.zeros(ncol, dtype=np.int32)
            kinds[np.asarray(integer)] = 1
            lp.integrality_ = [highspy.HighsVarType(int(v)) for v in kinds]
        h = new_highs(presolve="on" if presolve else "off", random_seed=0,
                      primal_feasibility_tolerance=LP_TOLERANCES["highs_primal_feasibility_tolerance"],
                      dual_feasibility_tolerance=LP_TOLERANCES["highs_dual_feasibility_tolerance"])
        if self.is_mip:
            h.setOptionValue("mip_feasibility_tolerance", LP_TOLERANCES["highs_mip_feasibility_tolerance"])
            h.setOptionValue("mip_rel_gap", LP_TOLERANCES["highs_mip_rel_gap"])
        status = h.passModel(lp)
        if status == highspy.HighsStatus.kError:
            raise SolverError("HiGHS rejected the model")
        self.highs = h
        self.ncol, self.nrow = ncol, nrow

    def set_col_bounds(self, col: int, lower: float, upper: float) -> None:
        self.highs.changeColBounds(int(col), float(lower), float(upper))

    def set_coeff(self, row: int, col: int, value: float) -> None:
        self.highs.changeCoeff(int(row), int(col), float(value))

    def solve(self, deadline: Deadline) -> Solved:
        """Run HiGHS within what is left of ``deadline`` (warm-started from the last basis)."""
        remaining = deadline.remaining()
        if remaining is not None:
            if remaining <= 0:
                return Solved(EngineStatus.TIME_LIMIT, np.nan, None, None, None, None, -np.inf)
            self.highs.setOptionValue("time_limit", max(remaining, 1e-3))
        self.highs.run()
        ms = self.highs.getModelStatus()
        info = self.highs.getInfo()
        if ms == _STATUS.kOptimal:
            status: EngineStatus | str = EngineStatus.OPTIMAL
        elif ms in (_STATUS.kTimeLimit, _STATUS.kIterationLimit, _STATUS.kInterrupt):
            status = EngineStatus.TIME_LIMIT
        elif ms == _STATUS.kInfeasible:
            status = EngineStatus.INFEASIBLE
        elif ms in (_STATUS.kUnbounded, _STATUS.kUnboundedOrInfeasible):
            status = EngineStatus.UNBOUNDED
        else:
            status = f"other: {self.highs.modelStatusToString(ms)}"
        sol = self.highs.getSolution()
        x = np.array(sol.col_value, dtype=np.float64) if sol.value_valid else None
        if self.is_mip:
            ran = status in (EngineStatus.OPTIMAL, EngineStatus.TIME_LIMIT)
            bound = float(info.mip_dual_bound) if ran else -np.inf
            objective = float(info.objective_function_value) if x is not None else np.inf
            return Solved(status, objective, x, None, None, None, bound)
        row_dual = np.array(sol.row_dual, dtype=np.float64) if sol.dual_valid else None
        basis = self.highs.getBasis()
        col_status = row_status = None
        if basis.valid:
            col_status = tuple(int(s) for s in basis.col_status)
            row_status = tuple(int(s) for s in basis.row_status)
        objective = float(info.objective_function_value)
        return Solved(status, objective, x, row_dual, col_status, row_status, objective)


def float_ints(v: np.ndarray) -> tuple[list[int], int]:
    """Exact integers ``z`` and a shift with ``v == z * 2**shift`` (``v`` finite floats)."""
    v = np.asarray(v, dtype=np.float64)
    if not np.all(np.isfinite(v)):
        raise SolverError("HiGHS returned a non-finite value")
    mant, expo = np.frexp(v)
    ints = (mant * 2.0**53).astype(np.int64)
    expo = expo.astype(np.int64) - 53
    nz = ints != 0
    if not nz.any():
        return [0] * len(v), 0
    shift = int(expo[nz].min())
    return [int(z) << int(e - shift) if z else 0 for z, e in zip(ints.tolist(), expo.tolist())], shift
