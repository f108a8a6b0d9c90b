"""The sufficient condition for larger ``d``: a lower bound on the half-space depth
``min_x |S(x)|`` by a MILP (solver evidence), to be combined with the exact sub-rank."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from theorychk._highs import INF as inf
from theorychk._highs import Model, Program
from theorychk.network import Layer
from theorychk.runtime import Deadline


def _depth_milp(layer: Layer, deadline: Deadline, time_cap: float) -> dict[str, Any]:
    """A lower bound on ``min_x |S(x)|`` (the half-space depth) by a MILP: solver evidence.

    Relaxation solved: ``min #{j : <(w_j, b_j), y> > 0}`` over ``y = (x, tau)``, ``tau >= 0``,
    ``||y||_inf = 1`` (``tau`` omitted without bias; ``x = 0`` is then handled by the rank).
    Every ``x`` gives ``y = (x, 1)/||(x, 1)||_inf`` with ``S(x)`` containing the rows counted, so
    the optimum is ``<= min_x |S(x)|``: a valid lower bound (weaker by the ties at the optimum,
    at most ``d`` rows for generic data). Binary ``a_j = 0`` forces ``<(w_j, b_j), y> <= 0``
    (big-M ``||(w_j, b_j)||_1``, exact on the box); ``u_i^+-`` pick a coordinate at ``+-1``.
    """
    W, b = layer.weight, layer.bias
    m, d = W.shape
    bias = bool(np.any(b))
    A = np.concatenate([W, b[:, None]], axis=1) if bias else W.copy()
    n = A.shape[1]
    A = A / np.maximum(np.abs(A).sum(axis=1, keepdims=True), 1e-300)  # positive row scaling
    # columns: y (n), a (m), u_plus (n), u_minus (n; not for tau)
    nu = n
    ncol = n + m + 2 * nu
    lower = np.r_[-np.ones(n), np.zeros(m + 2 * nu)]
    upper = np.ones(ncol)
    if bias:
        lower[n - 1] = 0.0
        upper[n + m + nu + n - 1] = 0.0  # tau cannot be -1
    rows, lo, up = [], [], []
    for j in range(m):
        r = np.zeros(ncol)
        r[:n] = A[j]
        r[n + j] = -1.0  # big-M = ||row||_1 = 1 after scaling
        rows.append(r), lo.append(-inf), up.append(0.0)
    for i in range(n):
        r = np.zeros(ncol)
        r[i], r[n + m + i] = 1.0, -2.0  # y_i >= -1 + 2 u+_i
        rows.append(r), lo.append(-1.0), up.append(inf)
        r = np.zeros(ncol)
        r[i], r[n + m + nu + i] = 1.0, 2.0  # y_i <= 1 - 2 u-_i
        rows.append(r), lo.append(-inf), up.append(1.0)
    r = np.zeros(ncol)
    r[n + m:] = 1.0
    rows.append(r), lo.append(1.0), up.append(inf)
    model = Model(Program(np.array(rows), cost=np.r_[np.zeros(n), np.ones(m), np.zeros(2 * nu)],
                          col_lower=lower, col_upper=upper, row_lower=np.array(lo), row_upper=np.array(up),
                          integer=np.arange(n, ncol)),
                  presolve="choose", tolerances={"highs_mip_feasibility_tolerance": 1e-9})
    sol = model.solve(deadline, cap=time_cap, floor=0.5)
    bound = sol.mip_dual_bound
    lower_bound = max(0, math.ceil(bound - 1e-6)) if math.isfinite(bound) else 0
    return {"lower": lower_bound, "dual_bound": bound, "objective": sol.objective,
            "status": sol.highs_status,
            "formulation": "min #{j: <(w_j,b_j),(x,tau)> > 0}, tau >= 0, ||(x,tau)||_inf = 1"}

