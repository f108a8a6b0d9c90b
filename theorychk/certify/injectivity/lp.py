"""The per-hyperplane LP of the exact method and of the greedy witness search (HiGHS, warm-started)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from theorychk._highs import INF, Model, Program
from theorychk.certify.injectivity.results import TOLERANCES
from theorychk.verdict import EngineStatus


class _HyperplaneLP:
    """``max t  s.t.  <w_j, x> + t <= -b_j`` (active rows), box rows ``x_i + t <= u_i``,
    ``-x_i + t <= -l_i``, ``t <= 1``; rows are normalised to unit length (a positive scaling,
    which changes neither feasibility nor the support of the dual). Rows are switched off by
    freeing their bounds, so one model serves every candidate."""

    def __init__(self, W: np.ndarray, b: np.ndarray, lower: Sequence[float | None] | None,
                 upper: Sequence[float | None] | None) -> None:
        m, d = W.shape
        rows = np.concatenate([W, b[:, None]], axis=1)
        norms = np.linalg.norm(rows, axis=1)
        norms[norms == 0] = 1.0
        self.norms = norms
        self.m, self.d = m, d
        a = [np.r_[W[j] / norms[j], 1.0] for j in range(m)]
        rhs = list(-b / norms)
        self.box: list[tuple[int, int]] = []  # (coordinate, +1 upper / -1 lower)
        for i in range(d):
            for sign, bounds in ((1, upper), (-1, lower)):
                if bounds is not None and bounds[i] is not None:
                    e = np.zeros(d + 1)
                    e[i], e[d] = sign, 1.0
                    a.append(e)
                    rhs.append(sign * float(bounds[i]))
                    self.box.append((i, sign))
        A = np.array(a)
        self.rhs = np.array(rhs)
        self.model = Model(Program(A, cost=np.r_[np.zeros(d), -1.0], col_lower=-INF,
                                   col_upper=np.r_[np.full(d, INF), 1.0], row_lower=-INF, row_upper=self.rhs),
                           tolerances={k: v for k, v in TOLERANCES.items() if k.startswith("highs_")})
        self.n_rows = A.shape[0]
        self.idx = np.arange(self.n_rows, dtype=np.int32)
        self.solves = 0
        self.errors = 0  # runs HiGHS itself failed (status kError), reported in the UNKNOWN reason

    def solve(self, free_rows: int) -> tuple[float, np.ndarray, np.ndarray, np.ndarray] | None:
        """Rows in the bitmask ``free_rows`` are switched off. Returns ``(t, x, lambda, mu)``
        with ``lambda >= 0`` per layer row (original scale) and ``mu >= 0`` per box row, or
        ``None`` if HiGHS did not reach optimality."""
        up = self.rhs.copy()
        for j in range(self.m):
            if free_rows >> j & 1:
                up[j] = INF
        self.model.set_rows_bounds(self.idx, np.full(self.n_rows, -INF), up)
        sol = self.model.solve(basis=False)
        self.errors += sol.error
        self.solves += 1
        if sol.status is not EngineStatus.OPTIMAL or sol.x is None or sol.row_dual is None:
            self.model.clear_solver()
            return None
        col = sol.x
        dual = -sol.row_dual  # HiGHS: a <= row of a min problem has a dual <= 0
        dual[dual < 0] = 0.0
        lam = dual[: self.m] / self.norms
        return float(col[-1]), col[:-1], lam, dual[self.m:]

