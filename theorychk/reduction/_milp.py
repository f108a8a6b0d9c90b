"""The minimal MILP the reductions need beyond ``theorychk.solvers``' ``milp`` method.

``milp`` (:mod:`theorychk.solvers.milp`) searches the symmetric box ``‖z‖_∞ ≤ R``; two
constructions need more: ``binary`` and ``printed`` have a *binary* latent ``z ∈ {±1}^n``, and
``katz`` is only correct on the asymmetric box ``[0, 1]^n``. This module encodes a ReLU/identity
network on an arbitrary box ``[lo, hi]`` (optionally restricted to the box's vertices) with the
standard big-M form, bounds from interval arithmetic (exact here: the constructions' weights
and boxes are small integers; padded outward anyway), and minimises ``‖G(z) − x‖_∞`` in HiGHS.

``cutoff=c`` asks only whether the minimum is below ``c``: HiGHS prunes every node whose bound
reaches ``c``, and "no solution" then proves ``min ≥ c`` (up to HiGHS's tolerances) — cheaper
than closing the gap when all that is claimed is the ½ gap. Results are MILP claims, not exact
arithmetic; the callers say "MILP-proven".
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from theorychk.errors import InvalidInput
from theorychk.network import Identity, Network, ReLU

INF = highspy.kHighsInf
_PAD = 1e-9


@dataclass(frozen=True)
class MilpResult:
    """``status``: ``"optimal"``, ``"cutoff"`` (proved ``min ≥ cutoff``), ``"time limit"`` or
    ``"other: ..."``. ``objective`` is the float forward residual of ``latent``; ``bound`` the
    proven lower bound on the residual over the domain."""

    status: str
    latent: np.ndarray | None
    objective: float
    bound: float
    nodes: int
    binaries: int
    elapsed: float
    engine: str = "theorychk.reduction._milp (HiGHS)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "nodes": self.nodes,
            "binaries": self.binaries,
            "elapsed_seconds": round(self.elapsed, 6),
        }


def minimize_residual(
    net: Network,
    target: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    binary: bool = False,
    time_limit: float | None = None,
    cutoff: float | None = None,
) -> MilpResult:
    """``min ‖G(z) − target‖_∞`` over ``z ∈ [lo, hi]`` (or its vertices when ``binary``)."""
    start = time.perf_counter()
    for i, layer in enumerate(net.layers):
        if not isinstance(layer.activation, (ReLU, Identity)):
            raise InvalidInput(f"the reduction MILP handles relu and identity layers; layer {i} is {layer.activation.spec!r}")
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    cols_lb: list[float] = []
    cols_ub: list[float] = []
    integer: list[int] = []
    rows: list[tuple[list[tuple[int, float]], float, float]] = []

    def col(lb: float, ub: float, is_int: bool = False) -> int:
        cols_lb.append(lb)
        cols_ub.append(ub)
        integer.append(int(is_int))
        return len(cols_lb) - 1

    z = [col(float(a), float(b)) for a, b in zip(lo, hi)]
    binaries = 0
    if binary:
        for c, a, b in zip(z, lo, hi):
            bit = col(0.0, 1.0, True)
            binaries += 1
            rows.append(([(c, 1.0), (bit, -(float(b) - float(a)))], float(a), float(a)))  # z = lo + (hi−lo)·bit
    cur: list[int] = z
    x_lo, x_hi = lo.copy(), hi.copy()
    for layer in net.layers:
        w, bias = layer.weight, layer.bias
        wp, wn = np.maximum(w, 0.0), np.minimum(w, 0.0)
        pad = _PAD * (np.abs(w) @ np.maximum(np.abs(x_lo), np.abs(x_hi)) + np.abs(bias) + 1.0)
        u_lo = wp @ x_lo + wn @ x_hi + bias - pad
        u_hi = wp @ x_hi + wn @ x_lo + bias + pad
        nxt: list[int] = []
        relu = isinstance(layer.activation, ReLU)
        for j in range(layer.n_out):
            u = col(float(u_lo[j]), float(u_hi[j]))
            entries = [(u, 1.0)] + [(cur[k], -float(w[j, k])) for k in np.flatnonzero(w[j])]
            rows.append((entries, float(bias[j]), float(bias[j])))
            if not relu or u_lo[j] >= 0:
                nxt.append(u)
            elif u_hi[j] <= 0:
                nxt.append(col(0.0, 0.0))
            else:
                x = col(0.0, float(u_hi[j]))
                a = col(0.0, 1.0, True)
                binaries += 1
                rows.append(([(x, 1.0), (u, -1.0)], 0.0, INF))                                  # x ≥ u
                rows.append(([(x, 1.0), (u, -1.0), (a, -float(u_lo[j]))], -INF, -float(u_lo[j])))  # x ≤ u − l(1 − a)
                rows.append(([(x, 1.0), (a, -float(u_hi[j]))], -INF, 0.0))                        # x ≤ h·a
                nxt.append(x)
        cur = nxt
        x_lo, x_hi = (np.maximum(u_lo, 0.0), np.maximum(u_hi, 0.0)) if relu else (u_lo, u_hi)
    t = col(0.0, INF)
    for c, y in zip(cur, target):
        rows.append(([(c, 1.0), (t, -1.0)], -INF, float(y)))  # out − y ≤ t
        rows.append(([(c, 1.0), (t, 1.0)], float(y), INF))    # y − out ≤ t

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 1e-6)
    h.setOptionValue("mip_abs_gap", 1e-9)
    if time_limit is not None:
        h.setOptionValue("time_limit", max(float(time_limit), 1e-3))
    if cutoff is not None:
        h.setOptionValue("objective_bound", float(cutoff))
    lp = highspy.HighsLp()
    n_cols = len(cols_lb)
    lp.num_col_ = n_cols
    lp.num_row_ = len(rows)
    cost = np.zeros(n_cols)
    cost[t] = 1.0
    lp.col_cost_ = cost
    lp.col_lower_ = np.asarray(cols_lb)
    lp.col_upper_ = np.asarray(cols_ub)
    lp.row_lower_ = np.asarray([r[1] for r in rows])
    lp.row_upper_ = np.asarray([r[2] for r in rows])
    starts, index, value = [0], [], []
    for entries, _, _ in rows:
        for c, v in entries:
            if v != 0.0:
                index.append(c)
                value.append(v)
        starts.append(len(index))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.asarray(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.asarray(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.asarray(value)
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in integer]
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    sol = h.getSolution()
    latent = np.asarray([sol.col_value[c] for c in z]) if sol.value_valid else None
    if latent is not None:
        latent = np.clip(latent, lo, hi)
        if binary:
            latent = np.where(latent - lo < hi - latent, lo, hi)
    objective = math.inf if latent is None else float(np.max(np.abs(net.forward(latent) - target)))
    bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else -math.inf
    S = highspy.HighsModelStatus
    if status == S.kOptimal:
        name = "optimal"
    elif status in (S.kInfeasible, S.kObjectiveBound) and cutoff is not None:
        name, bound = "cutoff", float(cutoff)  # no solution below the cutoff: min >= cutoff
    elif status == S.kTimeLimit:
        name = "time limit"
    else:
        name = f"other: {h.modelStatusToString(status)}"
    return MilpResult(name, latent, objective, bound, int(info.mip_node_count), binaries, time.perf_counter() - start)
