"""Layer-wise LP inversion of paper 001: ``linf`` (Alg. 1), ``l1`` (Alg. 2), ``relax`` (Alg. 3).

Each method inverts the network one layer at a time, from the output back to the latent
code. At layer ``i`` (counted from the latent side, ``x_{i+1} = act_i(W_i x_i + b_i)``) the
target ``t`` is the observed signal on the mask (last layer) or the previous step's estimate
of ``x_{i+1}`` (hidden layers); one LP in ``x = x_i`` is solved over a schedule
``ε_0, α ε_0, α² ε_0, ...`` and its solution becomes the next target.

One HiGHS model per layer
-------------------------
Every row of a layer's LP is written as ``W_j x + coef·s ⋚ bound`` where ``s`` is the slack
variable(s) of the method (``δ`` for ``linf``, ``e_j`` for ``l1``, none for ``relax``). Across the
ε schedule only row *bounds* change — rows are switched on and off (bound ``±inf``) as the
support ``{j : t_j > ε}`` shrinks, or shifted by ε (``relax``) — so the model is built once and
HiGHS re-solves warm from its previous basis. For ``linf`` the δ ≤ ε cap of Algorithm 1 is left
off and δ minimised freely: the capped LP at ε is feasible iff the uncapped minimum ``δ* ≤ ε``,
and the LP only changes when ε crosses a target value, so the steps of the schedule at which
the LP is provably the same (and provably infeasible) are skipped without re-solving. The
schedule, the ε at which each layer stops and the solution are those of the literal algorithm.

Fast path (``fast_path=True``, default, ``linf`` and ``l1``)
-----------------------------------------------------------
Before building the LP, the equality rows at ε (the support) are solved by least squares
(Cholesky on the Gram matrix, one refinement step on the residual) — Theorem 2's "layer-wise
Gaussian elimination". If that point
satisfies *every* row of the LP with slack ``δ̂ ≤ min(ε, fast_tol)``, it is an optimal solution of
the LP within ``fast_tol`` (the slacks are non-negative, so no point does better than 0) and
the LP is not sent to HiGHS; ``info`` records it. A float32 signal is off the range by its
rounding, so unless the user sets ``fast_tol`` the accepted slack is at least the signal's
rounding level (``Problem.signal_rounding``; ℓ1: times √rows) — the point is then optimal up to
what the signal's own precision can tell apart, and the central status check judges
``‖G(ẑ) − y‖₂`` against ``signal_tol``. HiGHS on these dense LPs costs tens of
milliseconds even with an optimal starting basis (``docs/solvers-lp.md``), so this path is what
makes noiseless inversion fast; ``fast_path=False`` runs every layer through HiGHS. When the
fast path fails (noise, a rank-deficient support), its least-squares point seeds HiGHS with a
crash basis (the pivot rows of a column-pivoted QR at their bounds).

Statuses (all three methods)
----------------------------
* ``UNKNOWN`` / ``Reason.TIME_LIMIT`` when the deadline passes between LPs or inside HiGHS (latent
  ``None``: a layer-wise method has no latent estimate before its last layer is done).
* Noiseless (``noise=None``): ``SOLVED`` iff the forward residual ``‖G(ẑ) − y‖_∞`` on the mask is
  ``≤ tol``. Otherwise ``INFEASIBLE`` when the *last* layer's LP shows ``y`` is not in the range of
  the last layer (``linf``: infeasible at some ``ε ≥ tol``, i.e. the ℓ∞ distance exceeds ``tol``;
  ``l1``: minimum ℓ1 slack ``> tol``; ``y`` outside an invertible activation's open range) — a
  float LP claim, not exact — and ``UNKNOWN`` otherwise (a hidden layer's target was not in its
  layer's range: the layer-wise estimate went wrong, which proves nothing about ``y``).
* With declared ``noise``: ``SOLVED`` when the algorithm completes (the estimate is the answer);
  the residuals say how well it fits.

References
----------
.. [1] Q. Lei, A. Jalal, I. S. Dhillon, A. G. Dimakis, "Inverting Deep Generative Models, One
   Layer at a Time", ICML workshop version with appendix (``shared/papers/001``): Algorithms
   1-3, Remark 2, Theorems 2 and 4; NeurIPS 2019 version (``shared/papers/002``), Section 4.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.linalg as sla

from theorychk._highs import BASIC, INF, LOWER, UPPER, Model, Program
from theorychk._validation import (
    NON_NEGATIVE,
    POSITIVE,
    POSITIVE_INT,
    Boolean,
    ConstraintSpec,
    Interval,
    Real,
    check_options,
    validate_params,
)
from theorychk.errors import InvalidInput, Reason, SolverError, TimeLimitReached
from theorychk.network import Activation, Identity, Layer, Network, row_model
from theorychk.runtime import Deadline
from theorychk.solvers.base import Inversion, InversionStatus, Problem, register
from theorychk.verdict import EngineStatus

__all__ = [
    "LinfLP",
    "L1LP",
    "RelaxLP",
    "check_layerwise_network",
    "output_target",
    "DEFAULT_EPS0",
    "DEFAULT_RELAX_EPS0",
    "DEFAULT_ALPHA",
    "DEFAULT_CLIP_MARGIN",
]

#: Initial ε of the schedule, relative to ``max(1, ‖t‖_∞)`` (the published code uses 1e-9).
DEFAULT_EPS0 = 1e-9
#: ``relax`` starts lower: its LP solution at ε > 0 is off the preimage by O(cond(W_B)·ε) even
#: for a realizable target (the active rows of the optimal vertex sit at ``x_i + ε``), and
#: ``W_B`` is a square row subset that can be badly conditioned; at 1e-9 that bias reached
#: 2e-6 relative error on random nets where Theorem 2's hypothesis holds.
DEFAULT_RELAX_EPS0 = 1e-12
#: Growth factor of the ε schedule (paper 001, Appendix C: α = 1.2).
DEFAULT_ALPHA = 1.2
#: tanh / sigmoid last layers: the signal is clipped this far inside the open range before
#: inverting (tanh into [-1 + m, 1 - m], sigmoid into [m, 1 - m]).
DEFAULT_CLIP_MARGIN = 1e-9
#: Fast path acceptance, relative to ``max(1, ‖t‖_∞)``.
DEFAULT_FAST_TOL = 1e-9
#: SOLVED threshold on the forward residual, relative to ``max(1, ‖y_obs‖_∞)``.
DEFAULT_TOL = 1e-6


class _TimeUp(TimeLimitReached):
    """The deadline passed; carries the layer being inverted."""

    def __init__(self, layer: int) -> None:
        super().__init__(f"layer {layer}")
        self.layer = layer


class _SolverTrouble(Exception):
    """HiGHS ended without an answer the algorithm can use (numerical trouble, unbounded)."""


# --------------------------------------------------------------------------------------------
# Network support shared with milp.py
# --------------------------------------------------------------------------------------------


def _bounded(act: Activation) -> bool:
    """A squashing activation (tanh, sigmoid): its range is a bounded interval."""
    lo, hi = act.value_range
    return math.isfinite(lo) and math.isfinite(hi)


def check_layerwise_network(net: Network, method: str) -> None:
    """Raise :class:`InvalidInput` unless every hidden activation is ReLU, LeakyReLU or identity.

    The last layer may also be an invertible activation (tanh, sigmoid, PLU): it is inverted
    on the signal and the layer treated as linear (:func:`output_target`).
    """
    for i, layer in enumerate(net.layers):
        act = layer.activation
        last = i == net.depth - 1
        if row_model(act).family != "other" or (last and act.invertible):
            continue
        where = "the last layer" if last else f"hidden layer {i}"
        allowed = "relu, leaky_relu or identity" + (
            " (or an invertible tanh, sigmoid or plu)"
            if last
            else "; only the last layer may be tanh, sigmoid or plu"
        )
        raise InvalidInput(
            f"method {method!r} cannot invert {where}: layer {i} has activation {act.spec!r}, "
            f"which is unsupported; it must be {allowed}", argument=f"layers[{i}].activation", got=act.spec
        )


#: ``clip_margin`` of every method and function that inverts a tanh/sigmoid last layer
CLIP_MARGIN: ConstraintSpec = [Interval(Real, 0, 0.5, closed="neither")]


@validate_params({"clip_margin": CLIP_MARGIN})
def output_target(layer: Layer, y: np.ndarray, *, clip_margin: float) -> tuple[np.ndarray, str, int]:
    """The last layer's target and row kind: ``(target, kind, n_clipped)``.

    ReLU, LeakyReLU and identity keep the signal as it is (their LPs model the activation).
    tanh and sigmoid are inverted after clipping the signal ``clip_margin`` inside their open
    range (``n_clipped`` counts the entries moved), PLU is inverted exactly (a bijection of R);
    the layer is then linear and residuals of that layer are measured before the activation.
    """
    act = layer.activation
    kind = row_model(act).family
    if kind != "other":
        return y, kind, 0
    if not _bounded(act):  # plu (validated by check_layerwise_network): invertible on all of R
        return act.inverse(y), "linear", 0
    lo, hi = act.value_range
    clipped = np.clip(y, lo + clip_margin, hi - clip_margin)
    return act.inverse(clipped), "linear", int(np.count_nonzero(clipped != y))


def range_distance(layer: Layer, y: np.ndarray) -> float:
    """``‖y − clip(y)‖₂`` into the closure of a tanh/sigmoid last layer's range (0 otherwise): a
    lower bound on the ℓ2 distance of ``y`` from the range of ``G``."""
    if not _bounded(layer.activation):
        return 0.0
    lo, hi = layer.activation.value_range
    return float(np.linalg.norm(y - np.clip(y, lo, hi)))


def output_gap(layer: Layer, y: np.ndarray, target: np.ndarray, gap: float) -> float:
    """Lower bound on ``‖G(z) − y‖_∞`` for every ``z`` given that every ``z`` has a
    pre-activation residual ``‖W z + b − target‖_∞ > gap`` (``target``: the clipped signal's
    pre-image under a tanh/sigmoid last layer). Some entry ``u_j`` is off by more than ``gap``;
    the activation is monotone, so its output is off from ``act(target_j)`` by at least
    ``min(|act(t_j ± gap) − act(t_j)|)``, and ``act(target)`` is off from ``y`` by the clipping.
    For the piecewise-linear last layers the residual is already in output space."""
    if not _bounded(layer.activation):
        return gap
    act = layer.activation
    base = act(target)
    step = np.minimum(np.abs(act(target + gap) - base), np.abs(base - act(target - gap)))
    return max(0.0, float(np.min(step)) - float(np.max(np.abs(base - y))))


def _input_nonneg(net: Network, i: int) -> bool:
    # z_k >= 0 in Algorithms 1-3: the input of layer i is a ReLU output ("omitted to recover
    # the first layer"), i.e. the previous activation takes no negative value.
    return i > 0 and net.layers[i - 1].activation.value_range[0] >= 0


# --------------------------------------------------------------------------------------------
# Row families: the constraints of one layer's LP
# --------------------------------------------------------------------------------------------


@dataclass
class _Family:
    """A block of rows ``lower ≤ W x + coef·s ≤ upper``, one per target coordinate.

    ``coef`` multiplies the slack (``δ`` or ``e_j``): negative for upper-bound rows
    (``u − |coef|·s ≤ upper``), positive for lower-bound rows, 0 for ``relax`` (no slack, ranged
    rows). ``on(eps)`` says which rows are active at ε (inactive rows get bounds ``±inf``);
    ``lower(eps)`` / ``upper(eps)`` give the bounds, the bias already subtracted.
    """

    coef: float
    lower: Callable[[float], np.ndarray]
    upper: Callable[[float], np.ndarray]
    on: Callable[[float], np.ndarray]


def _band_families(kind: str, t: np.ndarray, bias: np.ndarray, slope: float) -> list[_Family]:
    """Rows of the ℓ∞ / ℓ1 LPs (Algorithms 1 and 2), ``s`` the slack (δ or e_j).

    ReLU (Algorithm 1 / inequalities (3)): ``x_j − s ≤ w_j·z ≤ x_j + s`` if ``x_j > ε``, else
    ``w_j·z ≤ x_j + s``.

    LeakyReLU with slope ``c`` (Remark 2, corrected): with ``u = w_j·z``,
    ``x_j > ε``: ``x_j − s ≤ u ≤ x_j + s``; ``x_j ≤ −ε``: ``x_j − s ≤ c·u ≤ x_j + s``;
    ``−ε < x_j ≤ ε``: ``(min(x_j, 0) − s)/c ≤ u`` and ``u ≤ x_j + s`` and ``c·u ≤ x_j + s``.
    Remark 2 writes the band's lower bound as ``(x_j − s)/c``, which excludes the true ``u`` when
    ``0 < x_j − s`` (e.g. noiseless, ``0 < x_j ≤ ε``: it demands ``u ≥ x_j/c > x_j = u*``); the
    bound used here is implied by ``LeakyReLU(u) ≥ x_j − s`` for every ``s ≥ 0``. Under Algorithm
    1's cap ``δ ≤ ε`` these rows are exactly ``|LeakyReLU(u) − x_j| ≤ δ`` outside the band.

    Linear rows (identity, or an inverted last activation): ``x_j − s ≤ u ≤ x_j + s``.
    """
    n = t.shape[0]
    every = np.ones(n, dtype=bool)
    minf, pinf = np.full(n, -INF), np.full(n, INF)
    if kind == "relu":
        return [
            _Family(-1.0, lambda e: minf, lambda e: t - bias, lambda e: every),
            _Family(+1.0, lambda e: t - bias, lambda e: pinf, lambda e: t > e),
        ]
    if kind == "leaky":
        c = slope
        return [
            # upper: u − s ≤ x_j (needed unless x_j ≤ −ε, where c·u ≤ x_j + s is the tighter one)
            _Family(-1.0, lambda e: minf, lambda e: t - bias, lambda e: t > -e),
            # upper: c·u ≤ x_j + s, i.e. u − s/c ≤ x_j/c (redundant when x_j > ε ≥ δ)
            _Family(-1.0 / c, lambda e: minf, lambda e: t / c - bias, lambda e: t <= e),
            # lower on the positive side: u + s ≥ x_j
            _Family(+1.0, lambda e: t - bias, lambda e: pinf, lambda e: t > e),
            # lower elsewhere: u + s/c ≥ min(x_j, 0)/c
            _Family(+1.0 / c, lambda e: np.minimum(t, 0.0) / c - bias, lambda e: pinf, lambda e: t <= e),
        ]
    return [
        _Family(-1.0, lambda e: minf, lambda e: t - bias, lambda e: every),
        _Family(+1.0, lambda e: t - bias, lambda e: pinf, lambda e: every),
    ]


def _relax_families(kind: str, t: np.ndarray, bias: np.ndarray, slope: float) -> list[_Family]:
    """Rows of Algorithm 3: ReLU (6) ``w_j·z ≤ x_j + ε``; LeakyReLU (7)
    ``(1/c)·min(x_j − ε, 0) ≤ w_j·z ≤ max(x_j + ε, 0)``; linear ``|w_j·z − x_j| ≤ ε``."""
    n = t.shape[0]
    every = np.ones(n, dtype=bool)
    if kind == "relu":
        return [_Family(0.0, lambda e: np.full(n, -INF), lambda e: t + e - bias, lambda e: every)]
    if kind == "leaky":
        c = slope
        return [
            _Family(
                0.0,
                lambda e: np.minimum(t - e, 0.0) / c - bias,
                lambda e: np.maximum(t + e, 0.0) - bias,
                lambda e: every,
            )
        ]
    return [_Family(0.0, lambda e: t - e - bias, lambda e: t + e - bias, lambda e: every)]


def _relax_cost(kind: str, weight: np.ndarray, t: np.ndarray) -> np.ndarray:
    # Algorithm 3 maximises sum_i max(0, x_i) w_i.z (ReLU, (6)) or x^T W z (LeakyReLU, (7));
    # HiGHS minimises, hence the sign.
    if kind == "relu":
        return -(weight.T @ np.maximum(t, 0.0))
    if kind == "leaky":
        return -(weight.T @ t)
    return np.zeros(weight.shape[1])


# --------------------------------------------------------------------------------------------
# The HiGHS model of one layer
# --------------------------------------------------------------------------------------------


@dataclass
class _LPResult:
    x: np.ndarray
    slack: np.ndarray  # δ (length 1) or e (one per row); empty for relax
    objective: float
    iterations: int


class _LayerLP:
    """One layer's LP in HiGHS, built once; :meth:`set_eps` changes only row bounds.

    Columns: ``x`` (the layer input) then the slacks (``"linf"``: one δ; ``"l1"``: one ``e_j``
    per target row; ``"relax"``: none). Rows: one block per :class:`_Family`, ``n`` rows each.
    """

    def __init__(
        self,
        weight: np.ndarray,
        families: list[_Family],
        *,
        slack: str,
        nonneg: bool,
        cost_x: np.ndarray | None = None,
    ) -> None:
        n, m = weight.shape
        self.n, self.m, self.families, self.slack = n, m, families, slack
        self.n_slack = {"linf": 1, "l1": n, "none": 0}[slack]
        self.n_rows = len(families) * n
        self._lower = np.full(self.n_rows, -INF)
        self._upper = np.full(self.n_rows, INF)
        self._weight, self._nonneg, self._cost_x = weight, nonneg, cost_x
        self.model: Model | None = None
        self.solves = 0
        self.iterations = 0

    def _ensure(self) -> Model:
        # Built on first use: a layer the fast path settles never pays for the dense matrix.
        if self.model is None:
            n, m, fams = self.n, self.m, self.families
            a = np.vstack([self._weight] * len(fams)) if len(fams) > 1 else self._weight
            if self.slack == "linf":
                col = np.concatenate([np.full(n, fam.coef) for fam in fams])
                a = np.hstack([a, col[:, None]])
            elif self.slack == "l1":
                a = np.hstack([a, np.vstack([np.diag(np.full(n, fam.coef)) for fam in fams])])
            nc = m + self.n_slack
            cost = np.zeros(nc)
            if self._cost_x is not None:
                cost[:m] = self._cost_x
            cost[m:] = 1.0  # min δ (Algorithm 1) or min Σ e_j (Algorithm 2)
            col_lower = np.concatenate(
                [np.zeros(m) if self._nonneg else np.full(m, -INF), np.zeros(self.n_slack)]
            )
            try:
                self.model = Model(Program(a, cost=cost, col_lower=col_lower, col_upper=INF,
                                           row_lower=self._lower, row_upper=self._upper),
                                   presolve="choose", tolerances={})
            except SolverError:
                raise _SolverTrouble("HiGHS rejected the layer LP") from None
        return self.model

    def bounds(self, eps: float) -> tuple[np.ndarray, np.ndarray]:
        lo, up = [], []
        for fam in self.families:
            on = fam.on(eps)
            lo.append(np.where(on, fam.lower(eps), -INF))
            up.append(np.where(on, fam.upper(eps), INF))
        return np.concatenate(lo), np.concatenate(up)

    def set_eps(self, eps: float) -> None:
        lower, upper = self.bounds(eps)
        changed = np.flatnonzero((lower != self._lower) | (upper != self._upper))
        self._lower, self._upper = lower, upper
        if self.model is not None and changed.size:
            self.model.set_rows_bounds(changed, lower[changed], upper[changed])

    def crash(self, pivot_rows: np.ndarray) -> None:
        """Start from the basis with every ``x`` basic and the pivot rows' upper rows at bound.

        ``pivot_rows`` are ``m`` linearly independent target rows (``linf``/``l1`` only): their
        first-family row ``w_j·x − s ≤ ...`` is nonbasic at its upper bound, the slacks nonbasic
        at zero. All duals are then zero, so the basis is dual feasible; in the noiseless case
        it is optimal.
        """
        rows = np.full(self.n_rows, BASIC)
        rows[np.asarray(pivot_rows, dtype=np.int64)] = UPPER
        self._ensure().set_basis([BASIC] * self.m + [LOWER] * self.n_slack, rows)

    def solve(self, deadline: Deadline) -> _LPResult | None:
        """Solve at the current bounds; ``None`` when infeasible. Raises on time-out/trouble."""
        sol = self._ensure().solve(deadline, basis=False)
        self.solves += 1
        its = sol.iterations
        self.iterations += max(its, 0)
        if sol.status is EngineStatus.OPTIMAL and sol.x is not None:
            return _LPResult(sol.x[: self.m], sol.x[self.m :], sol.objective, its)
        if sol.status is EngineStatus.INFEASIBLE:
            return None
        if sol.status is EngineStatus.TIME_LIMIT:
            raise TimeLimitReached("HiGHS")
        raise _SolverTrouble(f"HiGHS returned {sol.highs_status!r}")


# --------------------------------------------------------------------------------------------
# Fast path: least squares on the equality rows
# --------------------------------------------------------------------------------------------


def _equality_rows(
    kind: str, t: np.ndarray, bias: np.ndarray, slope: float, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Rows that hold with equality at a noiseless solution, and their right-hand sides."""
    if kind == "relu":
        idx = np.flatnonzero(t > eps)
        return idx, t[idx] - bias[idx]
    if kind == "leaky":
        pos, neg = np.flatnonzero(t > eps), np.flatnonzero(t <= -eps)
        idx = np.concatenate([pos, neg])
        return idx, np.concatenate([t[pos], t[neg] / slope]) - bias[idx]
    return np.arange(t.shape[0]), t - bias


def _pivot_rows(a: np.ndarray) -> tuple[np.ndarray, int]:
    """Linearly independent rows of ``a`` by QR with column pivoting of ``aᵀ``; and the rank.

    The rank is numerical (``|R_ii| > 1e-10·|R_00|``): it only decides the crash basis and the
    ``underdetermined`` flag, never a claim.
    """
    if a.shape[0] == 0:
        return np.zeros(0, dtype=np.int64), 0
    r, piv = sla.qr(a.T, mode="r", pivoting=True, check_finite=False)
    d = np.abs(np.diag(r))
    rank = int(np.count_nonzero(d > 1e-10 * d[0])) if d.size and d[0] > 0 else 0
    return piv[:rank], rank


def _least_squares(a: np.ndarray, rhs: np.ndarray) -> np.ndarray | None:
    """``argmin ‖a x − rhs‖₂`` by Cholesky of the Gram matrix; ``None`` if it is not clearly
    positive definite (rank deficient or badly conditioned: the LP path decides then)."""
    m = a.shape[1]
    if a.shape[0] < m:
        return None
    gram = a.T @ a
    try:
        c, low = sla.cho_factor(gram, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    d = np.abs(np.diag(c))
    if d.min() <= 1e-7 * d.max():  # cond(a) > 1e7: leave it to the LP
        return None
    x = sla.cho_solve((c, low), a.T @ rhs, check_finite=False)
    # One step of refinement on the residual: the Gram matrix squares cond(a), so at cond(a) ~ 1e5
    # the first solve is off by ~1e-7 (hypothesis seed 2491 of test_lp); the corrected point is
    # as accurate as a QR solve, for two matrix-vector products and one more triangular pair.
    return x + sla.cho_solve((c, low), a.T @ (rhs - a @ x), check_finite=False)


def _row_slacks(lp: _LayerLP, x: np.ndarray, eps: float, weight: np.ndarray) -> np.ndarray:
    """Per target row, the least slack ``s_j ≥ 0`` with which ``x`` satisfies every active row."""
    u = weight @ x
    need = np.zeros(lp.n)
    for fam in lp.families:
        on = fam.on(eps)
        lo, up = fam.lower(eps), fam.upper(eps)
        if fam.coef < 0:  # u + coef·s ≤ up  ⇒  s ≥ (u − up)/|coef|
            viol = np.where(on & np.isfinite(up), (u - up) / -fam.coef, 0.0)
        else:  # u + coef·s ≥ lo  ⇒  s ≥ (lo − u)/coef
            viol = np.where(on & np.isfinite(lo), (lo - u) / fam.coef, 0.0)
        need = np.maximum(need, viol)
    return need


# --------------------------------------------------------------------------------------------
# The layer-wise driver shared by the three methods
# --------------------------------------------------------------------------------------------


@dataclass
class _LayerReport:
    layer: int
    eps: float
    eps_steps: int = 0
    lps: int = 0
    iterations: int = 0
    fast_path: bool = False
    value: float = float("nan")  # δ* (linf), Σ e (l1), relax objective
    last_infeasible_eps: float | None = None
    equality_rows: int = 0
    input_dim: int = 0
    rank: int | None = None
    underdetermined: bool = False
    note: str = ""
    n_rows: int = 0  # target rows (observed outputs at the last layer)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


#: Options of the three methods (``relax`` has no fast path); ``None`` means the default.
_COMMON_OPTIONS: dict[str, ConstraintSpec] = {
    "eps0": [POSITIVE, None],
    "alpha": [Interval(Real, 1, None, closed="neither"), None],
    "tol": [NON_NEGATIVE, None],
    "clip_margin": [*CLIP_MARGIN, None],
    "max_steps": [POSITIVE_INT, None],
    "fast_path": [Boolean, None],
    "fast_tol": [NON_NEGATIVE, None],
}


@dataclass
class _Settings:
    eps0: float
    alpha: float
    tol: float
    clip_margin: float
    max_steps: int
    fast_path: bool
    fast_tol: float
    scale: float
    #: absolute slack the fast path accepts besides ``fast_tol``: the signal's rounding level
    #: (0 when the user set ``fast_tol``), so a float32 signal does not fall through to HiGHS
    fast_abs: float = 0.0


def _settings(problem: Problem, name: str, allowed: Mapping[str, ConstraintSpec], fast_default: bool) -> _Settings:
    given = check_options(problem.options, allowed, method=name)
    opts = {k: v for k, v in given.items() if v is not None}
    scale = max(1.0, float(np.max(np.abs(problem.observed))) if problem.observed.size else 1.0)
    noise = problem.noise if problem.noise else None
    base_eps0 = DEFAULT_RELAX_EPS0 if name == "relax" else DEFAULT_EPS0
    # A float32 signal carries rounding noise (up to signal_rounding per entry): starting ε below
    # it would read rounding-level entries of a hidden estimate as active units.
    default_eps0 = noise if noise else max(base_eps0 * scale, problem.signal_rounding)
    # The signal tolerance (an ℓ2 bound, theorychk.solvers.base) unless overridden: INFEASIBLE
    # needs the LP to show y farther than it from the range.
    default_tol = problem.signal_tol or DEFAULT_TOL * scale
    # A float32 signal is off the range by its rounding: a least-squares point with slack at that
    # level is as good as the LP's optimum can be told apart from it (the central status check
    # then judges the residual against signal_tol).
    fast_abs = 0.0 if "fast_tol" in opts else float(problem.signal_rounding)
    return _Settings(
        float(opts.get("eps0", default_eps0)),
        opts.get("alpha", DEFAULT_ALPHA),
        float(opts.get("tol", default_tol)),
        opts.get("clip_margin", DEFAULT_CLIP_MARGIN),
        opts.get("max_steps", 2000 if name == "linf" else 200),
        opts.get("fast_path", fast_default),
        opts.get("fast_tol", DEFAULT_FAST_TOL),
        scale,
        fast_abs,
    )


def _remaining(deadline: Deadline, layer: int) -> Deadline:
    """``deadline``, if it has not passed while inverting ``layer``."""
    if deadline.expired():
        raise _TimeUp(layer)
    return deadline


class _LayerwiseLP:
    """Common driver: the layer loop, statuses and bookkeeping of Algorithms 1-3."""

    name = ""
    summary = ""
    supports_mask = True
    noise_norm = "linf"  # paper 001's noise model: ‖e‖_∞ ≤ ε
    #: the options and their constraints (read by :func:`~theorychk.solvers.base.prepare`)
    option_constraints: ClassVar[Mapping[str, ConstraintSpec]] = _COMMON_OPTIONS
    _fast_default = True

    def check(self, net: Network) -> None:
        check_layerwise_network(net, self.name)

    # Subclasses implement one layer: return (x estimate, report).
    def _invert_layer(
        self, inp: _LayerInput, s: _Settings, eps: float, deadline: Deadline
    ) -> tuple[np.ndarray, _LayerReport]:  # pragma: no cover
        raise NotImplementedError

    def run(self, problem: Problem) -> Inversion:
        net = problem.net
        s = _settings(problem, self.name, self.option_constraints, self._fast_default)
        reports: list[_LayerReport] = []
        estimates: list[np.ndarray] = []
        last = net.layers[-1]
        target, kind, n_clipped = output_target(last, problem.observed, clip_margin=s.clip_margin)
        # a slice, not an index array, when every row is used: fancy indexing would copy the
        # weight matrix for every signal of a batch
        rows: slice | np.ndarray = slice(None) if problem.mask.all() else np.flatnonzero(problem.mask)
        eps = s.eps0
        info: dict[str, Any] = {
            "eps0": s.eps0,
            "alpha": s.alpha,
            "tol": s.tol,
            "fast_path": s.fast_path,
            "clipped": n_clipped,
            "layers": reports,
        }
        current = net.depth - 1
        try:
            for i in range(net.depth - 1, -1, -1):
                current = i
                layer = net.layers[i]
                if i < net.depth - 1:
                    kind, rows = row_model(layer.activation).family, slice(None)
                slope = row_model(layer.activation).lower_slope if kind == "leaky" else 1.0
                act = Identity() if kind == "linear" else layer.activation
                inp = _LayerInput(
                    i, layer.weight[rows], layer.bias[rows], target, kind, slope, _input_nonneg(net, i), act
                )
                _remaining(problem.deadline, i)
                x, rep = self._invert_layer(inp, s, eps, problem.deadline)
                reports.append(rep)
                estimates.append(x)
                eps = rep.eps  # carried to the next layer, as in the published code
                target = x
        except (_TimeUp, _SolverTrouble) as exc:
            if isinstance(exc, _TimeUp):
                info["stopped_at_layer"] = exc.layer
            why = Reason.TIME_LIMIT if isinstance(exc, _TimeUp) else f"LP solver trouble at layer {current}: {exc}"
            return self._finish(problem, None, reports, estimates, info, InversionStatus.UNKNOWN, why)
        latent = estimates[-1]
        return self._decide(problem, latent, reports, estimates, info, s, n_clipped)

    def _decide(
        self,
        problem: Problem,
        latent: np.ndarray,
        reports: list[_LayerReport],
        estimates: list[np.ndarray],
        info: dict[str, Any],
        s: _Settings,
        n_clipped: int,
    ) -> Inversion:
        net = problem.net
        # every ending records the same evidence; only the status and the reason differ
        finish = functools.partial(self._finish, problem, latent, reports, estimates, info)
        residual = float(np.max(np.abs(net.forward(latent)[problem.mask] - problem.observed)))
        info["residual_check"] = residual
        notes = [r for r in reports if r.note.startswith("max_steps")]
        if notes:
            return finish(InversionStatus.UNKNOWN, f"ε schedule hit max_steps={s.max_steps} at layer {notes[0].layer}")
        if problem.noise:
            return finish(InversionStatus.SOLVED, "")
        if residual <= s.tol:
            return finish(InversionStatus.SOLVED, "")
        outside = range_distance(net.layers[-1], problem.observed)
        if n_clipped and outside > s.tol:
            act = net.layers[-1].activation.name
            return finish(
                InversionStatus.INFEASIBLE,
                f"y has {n_clipped} entries outside the open range of the last layer's {act}, "
                f"{outside:.3g} > tol = {s.tol:.3g} away from it: not in the range",
            )
        proof = self._not_in_range(reports[0], s, problem)
        if proof:
            return finish(InversionStatus.INFEASIBLE, proof)
        return finish(
            InversionStatus.UNKNOWN,
            f"the layer-wise estimate does not reproduce y (residual {residual:.3g} > tol {s.tol:.3g}); "
            "a hidden layer's target was outside its layer's range, so the estimate went wrong "
            "somewhere — this is not a proof that y is outside the range",
        )

    def _not_in_range(self, last: _LayerReport, s: _Settings, problem: Problem) -> str:  # pragma: no cover - per method
        return ""

    def _finish(
        self,
        problem: Problem,
        latent: np.ndarray | None,
        reports: list[_LayerReport],
        estimates: list[np.ndarray],
        info: dict[str, Any],
        status: InversionStatus,
        reason: str,
    ) -> Inversion:
        info = dict(info)
        info["layers"] = [r.to_dict() for r in reports]
        info["eps"] = {r.layer: r.eps for r in reports}
        info["underdetermined_layers"] = [r.layer for r in reports if r.underdetermined]
        if info["underdetermined_layers"]:
            info["underdetermined_note"] = (
                "fewer independent equality rows than the layer's input dimension: the LP returned one "
                "point of a set of optima (paper 001's failure regime: too few active units)"
            )
        counts = {
            "lp": sum(r.lps for r in reports),
            "simplex_iterations": sum(r.iterations for r in reports),
            "eps_steps": sum(r.eps_steps for r in reports),
            "fast_path_layers": sum(r.fast_path for r in reports),
            "layers_done": len(reports),
        }
        hidden: tuple[np.ndarray, ...] = ()
        if latent is not None:
            # estimates[k] is the LP solution of layer depth-1-k, i.e. the estimate of x_{depth-1-k}
            own = [estimates[k] for k in range(len(estimates) - 2, -1, -1)]
            hidden = (*own, problem.net.forward(latent))
        return Inversion(self.name, status, latent, hidden=hidden, reason=reason, counts=counts, info=info)


@dataclass
class _LayerInput:
    index: int
    weight: np.ndarray
    bias: np.ndarray
    target: np.ndarray
    kind: str
    slope: float
    nonneg: bool
    activation: Activation  # identity for an inverted last activation


def _layer_forward(inp: _LayerInput, x: np.ndarray) -> np.ndarray:
    return inp.activation(inp.weight @ x + inp.bias)


def _classes(inp: _LayerInput, eps: float) -> tuple[np.ndarray, ...]:
    # The LP of Algorithms 1 and 2 depends on ε only through these masks.
    t = inp.target
    if inp.kind == "relu":
        return (t > eps,)
    if inp.kind == "leaky":
        return (t > eps, t <= -eps)
    return ()


def _same(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def _fast_candidate(inp: _LayerInput, eps: float) -> tuple[np.ndarray | None, np.ndarray, int]:
    """Least-squares point on the equality rows at ε (or ``None``), those rows, and their count."""
    idx, rhs = _equality_rows(inp.kind, inp.target, inp.bias, inp.slope, eps)
    x = _least_squares(inp.weight[idx], rhs) if idx.size else None
    if x is not None and inp.nonneg:
        if np.min(x, initial=0.0) < -1e-9 * max(1.0, float(np.max(np.abs(x)))):
            return None, idx, idx.size
        x = np.maximum(x, 0.0)
    return x, idx, idx.size


def _seed(lp: _LayerLP, inp: _LayerInput, eps: float, eq_rows: np.ndarray, rep: _LayerReport) -> None:
    """Rank of the equality rows (for the report) and a crash basis when they have full rank."""
    piv, rank = _pivot_rows(inp.weight[eq_rows])
    rep.rank = rank
    rep.underdetermined = rank < inp.weight.shape[1]
    if not rep.underdetermined and lp.slack in ("linf", "l1"):
        chosen = eq_rows[piv]
        if inp.kind == "leaky":
            # a row with x_j <= -ε is held by its second upper family (c·u <= x_j + s)
            chosen = np.where(inp.target[chosen] <= -eps, lp.n + chosen, chosen)
        lp.crash(chosen)


# --------------------------------------------------------------------------------------------
# Algorithm 1: ℓ∞ LP
# --------------------------------------------------------------------------------------------


class LinfLP(_LayerwiseLP):
    """Algorithm 1 of [1] (ℓ∞ LP), with Remark 2's LeakyReLU variant; layer by layer.

    At each layer, with target ``x`` and the current ε, solve::

        min δ  s.t.  x_j − δ ≤ w_j·z + b_j ≤ x_j + δ   if x_j > ε
                     w_j·z + b_j ≤ x_j + δ             if x_j ≤ ε
                     δ ≤ ε,  z ≥ 0 (when z is a ReLU output)

    and grow ``ε ← α ε`` until it is feasible (the algorithm box writes "until z infeasible";
    the text — "gradually increase the tolerance until LP returns feasible solution" — is
    what is meant). LeakyReLU rows follow Remark 2 with the band correction documented in
    :func:`_band_families`; identity and inverted last layers are two-sided for every row.

    Options: ``eps0`` (default: the declared ``noise``, else ``1e-9·max(1, ‖y‖_∞)``), ``alpha``
    (1.2), ``tol`` (the signal tolerance, see :func:`~theorychk.solvers.base.signal_tolerance`:
    INFEASIBLE needs the ℓ∞ LP infeasible at an ε above it), ``fast_path`` (True),
    ``fast_tol`` (1e-9, relative), ``clip_margin`` (1e-9), ``max_steps`` (2000).
    ε carries over from one layer to the next (as in the published code).

    Feasibility at ε brackets the ℓ∞ distance of the target from the layer's range: infeasible
    at ``ε_{T-1}``, feasible at ``ε_T`` means ``ε_{T-1} < dist ≤ ε_T`` (Section 4.1 of [1]: with
    δ = ε the constraints are exactly ``{z : ‖φ(z) − x‖_∞ ≤ ε}``).

    Examples
    --------
    >>> import numpy as np
    >>> from theorychk.network import Layer, Network
    >>> from theorychk.solvers import invert
    >>> net = Network([Layer(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), None, "relu")])
    >>> res = invert(net, net.forward(np.array([1.0, 2.0])), method="linf")
    >>> str(res.status), res.latent.round(9).tolist(), res.counts["fast_path_layers"]
    ('SOLVED', [1.0, 2.0], 1)
    """

    name = "linf"
    summary = "Lei et al. Algorithm 1: layer-wise l_inf LP with a growing tolerance (HiGHS)"

    def _invert_layer(
        self, inp: _LayerInput, s: _Settings, eps: float, deadline: Deadline
    ) -> tuple[np.ndarray, _LayerReport]:
        rep = _LayerReport(inp.index, eps, input_dim=inp.weight.shape[1])
        lp = _LayerLP(
            inp.weight,
            _band_families(inp.kind, inp.target, inp.bias, inp.slope),
            slack="linf",
            nonneg=inp.nonneg,
        )
        lp.set_eps(eps)
        x, eq_rows, n_eq = _fast_candidate(inp, eps)
        rep.equality_rows = n_eq
        if s.fast_path and x is not None:
            need = float(np.max(_row_slacks(lp, x, eps, inp.weight), initial=0.0))
            if need <= min(eps, max(s.fast_abs, s.fast_tol * max(1.0, float(np.max(np.abs(inp.target), initial=0.0))))):
                rep.fast_path, rep.value, rep.rank = True, need, inp.weight.shape[1]
                return x, rep
        _seed(lp, inp, eps, eq_rows, rep)
        classes = _classes(inp, eps)
        while True:
            try:
                res = lp.solve(_remaining(deadline, inp.index))
            except TimeLimitReached:
                raise _TimeUp(inp.index) from None
            finally:
                rep.lps, rep.iterations = lp.solves, lp.iterations
            if res is None:  # cannot happen with δ free; HiGHS said so anyway
                raise _SolverTrouble("the uncapped ℓ∞ LP was reported infeasible")
            delta = float(res.slack[0])
            rep.value = delta
            if delta <= eps:
                rep.eps = eps
                return res.x, rep
            # Infeasible at ε (δ* > ε). The LP is the same until ε reaches δ* or crosses a
            # target value; those steps are infeasible too and need no solve.
            rep.last_infeasible_eps = eps
            while True:
                eps *= s.alpha
                rep.eps_steps += 1
                if rep.eps_steps >= s.max_steps:
                    rep.eps, rep.note = (
                        eps,
                        f"max_steps ({s.max_steps}) reached; returned the last LP's point",
                    )
                    return res.x, rep
                new = _classes(inp, eps)
                if delta <= eps or not _same(new, classes):
                    break
                rep.last_infeasible_eps = eps  # the same LP, δ* > ε: infeasible here too (skipped)
            classes = new
            lp.set_eps(eps)
            rep.eps = eps

    def _not_in_range(self, last: _LayerReport, s: _Settings, problem: Problem) -> str:
        if last.last_infeasible_eps is None:
            return ""
        # Infeasible at ε: every z has an ℓ∞ residual > ε (in output space, or before a
        # tanh/sigmoid: mapped to output space by output_gap); ℓ2 ≥ ℓ∞ > tol then.
        layer = problem.net.layers[-1]
        target, _, _ = output_target(layer, problem.observed, clip_margin=s.clip_margin)
        gap = output_gap(layer, problem.observed, target, last.last_infeasible_eps)
        if gap >= s.tol:
            return (
                f"y is not in the range of the last layer: its ℓ∞ LP is infeasible at ε = "
                f"{last.last_infeasible_eps:.3g}, so ‖G(z) − y‖_∞ > {gap:.3g} ≥ tol = {s.tol:.3g} "
                f"for every z (float LP claim; min δ = {last.value:.3g})"
            )
        return ""


# --------------------------------------------------------------------------------------------
# Algorithm 2: ℓ1 LP
# --------------------------------------------------------------------------------------------


class L1LP(_LayerwiseLP):
    """Algorithm 2 of [1] (ℓ1 LP) and its LeakyReLU variant; layer by layer.

    At each step ``t`` of the schedule solve::

        min Σ_j e_j  s.t.  x_j − e_j ≤ w_j·z + b_j ≤ x_j + e_j   if x_j > ε
                           w_j·z + b_j ≤ x_j + e_j               if x_j ≤ ε
                           e ≥ 0,  z ≥ 0 (when z is a ReLU output)

    then ``ε ← α ε``; stop at the first ``t ≥ 2`` with ``‖φ(z^(t)) − x‖₁ ≥ ‖φ(z^(t−1)) − x‖₁`` and
    return ``z^(t−1)``. When ε moves without changing the support the LP is identical, so
    ``z^(t) = z^(t−1)`` and the rule fires at once: this is detected without re-solving. In
    practice the literal rule therefore stops at the first step that leaves the support alone.
    LeakyReLU rows as in :func:`_band_families` (the appendix's variant, band corrected).
    Options as for ``linf``.
    """

    name = "l1"
    summary = "Lei et al. Algorithm 2: layer-wise l_1 LP (minimise the l_1 slack, HiGHS)"

    def _invert_layer(
        self, inp: _LayerInput, s: _Settings, eps: float, deadline: Deadline
    ) -> tuple[np.ndarray, _LayerReport]:
        rep = _LayerReport(inp.index, eps, input_dim=inp.weight.shape[1], n_rows=inp.weight.shape[0])
        lp = _LayerLP(
            inp.weight,
            _band_families(inp.kind, inp.target, inp.bias, inp.slope),
            slack="l1",
            nonneg=inp.nonneg,
        )
        seeded = False

        def step(e: float) -> tuple[np.ndarray, float]:
            nonlocal seeded
            lp.set_eps(e)
            x, eq_rows, n_eq = _fast_candidate(inp, e)
            rep.equality_rows = n_eq
            if s.fast_path and x is not None:
                need = float(np.sum(_row_slacks(lp, x, e, inp.weight)))
                # ℓ1 slack: the ℓ2 rounding level times √rows bounds it
                floor = s.fast_abs * math.sqrt(max(1, inp.weight.shape[0]))
                if need <= max(floor, s.fast_tol * max(1.0, float(np.max(np.abs(inp.target), initial=0.0)))):
                    rep.fast_path, rep.rank = True, inp.weight.shape[1]
                    return x, need
            if not seeded:
                _seed(lp, inp, eps, eq_rows, rep)
                seeded = True
            try:
                res = lp.solve(_remaining(deadline, inp.index))
            except TimeLimitReached:
                raise _TimeUp(inp.index) from None
            finally:
                rep.lps, rep.iterations = lp.solves, lp.iterations
            if res is None:
                raise _SolverTrouble("the ℓ1 LP was reported infeasible")
            return res.x, float(np.sum(res.slack))

        def fit(x: np.ndarray) -> float:
            return float(np.sum(np.abs(_layer_forward(inp, x) - inp.target)))

        x_prev, rep.value = step(eps)
        r_prev = fit(x_prev)
        classes = _classes(inp, eps)
        while True:
            e_next = eps * s.alpha
            rep.eps_steps += 1
            new = _classes(inp, e_next)
            if _same(new, classes):
                break  # identical LP ⇒ identical z ⇒ ‖φ(z^(t)) − x‖₁ = ‖φ(z^(t−1)) − x‖₁: return z^(t−1)
            if rep.eps_steps >= s.max_steps:
                rep.note = f"max_steps ({s.max_steps}) reached; returned the last LP's point"
                break
            x_new, value = step(e_next)
            r_new = fit(x_new)
            if r_new >= r_prev:
                break
            x_prev, r_prev, eps, classes, rep.value = x_new, r_new, e_next, new, value
        rep.eps = eps
        return x_prev, rep

    def _not_in_range(self, last: _LayerReport, s: _Settings, problem: Problem) -> str:
        if _bounded(problem.net.layers[-1].activation):
            return ""  # an ℓ1 slack before a squashing activation bounds no output distance
        # tol bounds an ℓ2 distance and ‖v‖₁ ≤ √n‖v‖₂: only an ℓ1 slack above √n·tol shows y
        # farther than tol from the range.
        bound = s.tol * math.sqrt(last.n_rows or 1)
        if last.value > bound:
            return (
                f"y is not in the range of the last layer: its ℓ1 LP's minimum slack is {last.value:.3g} "
                f"> √n·tol = {bound:.3g} (float LP claim)"
            )
        return ""


# --------------------------------------------------------------------------------------------
# Algorithm 3: LP relaxation of the ReLU configuration
# --------------------------------------------------------------------------------------------


class RelaxLP(_LayerwiseLP):
    """Algorithm 3 of [1] (LP relaxation of the ReLU configuration); layer by layer.

    At each step ``t`` solve (6) for ReLU, (7) for LeakyReLU (Appendix A.3)::

        max_z  Σ_i max(0, x_i)·(w_i·z + b_i)   s.t.  w_i·z + b_i ≤ x_i + ε        (6)
        max_z  x^T (W z + b)   s.t.  (1/c)·min(x_i − ε, 0) ≤ w_i·z + b_i ≤ max(x_i + ε, 0)   (7)

    (plus ``z ≥ 0`` when ``z`` is a ReLU output, as in the published code; linear rows are
    ``|w_i·z + b_i − x_i| ≤ ε`` with no objective). Then ``ε ← α ε``; for ``t > 2``, if ``z^(t−1)`` was
    feasible and ``‖φ(z^(t)) − x‖₁ ≥ ‖φ(z^(t−1)) − x‖₁``, return ``z^(t−1)``. An infeasible step
    (possible with biases) just grows ε. The published code also zeroes objective weights
    below ``2ε``; the paper's (6) does not, and neither does this.

    Every step changes the bounds (``x_i + ε``), so each is one warm-started HiGHS solve; there is
    no fast path (the optimum is not the least-squares point when ε > 0). Options as for ``linf``
    except ``fast_path``/``fast_tol``; ``max_steps`` defaults to 200.
    """

    name = "relax"
    summary = "Lei et al. Algorithm 3: layer-wise LP relaxation of the ReLU configuration (HiGHS)"
    option_constraints = {k: v for k, v in _COMMON_OPTIONS.items() if k not in ("fast_path", "fast_tol")}
    _fast_default = False

    def _invert_layer(
        self, inp: _LayerInput, s: _Settings, eps: float, deadline: Deadline
    ) -> tuple[np.ndarray, _LayerReport]:
        rep = _LayerReport(inp.index, eps, input_dim=inp.weight.shape[1])
        eq_rows, _ = _equality_rows(inp.kind, inp.target, inp.bias, inp.slope, eps)
        rep.equality_rows = int(eq_rows.size)
        rep.rank = _pivot_rows(inp.weight[eq_rows])[1]
        rep.underdetermined = rep.rank < inp.weight.shape[1]
        lp = _LayerLP(
            inp.weight,
            _relax_families(inp.kind, inp.target, inp.bias, inp.slope),
            slack="none",
            nonneg=inp.nonneg,
            cost_x=_relax_cost(inp.kind, inp.weight, inp.target),
        )

        def fit(x: np.ndarray) -> float:
            return float(np.sum(np.abs(_layer_forward(inp, x) - inp.target)))

        # (z, fit, ε, objective) of the previous step (None: infeasible) and of the last feasible one
        prev: tuple[np.ndarray, float, float, float] | None = None
        kept: tuple[np.ndarray, float, float, float] | None = None
        t = 0
        while True:
            t += 1
            lp.set_eps(eps)
            try:
                res = lp.solve(_remaining(deadline, inp.index))
            except TimeLimitReached:
                raise _TimeUp(inp.index) from None
            finally:
                rep.lps, rep.iterations = lp.solves, lp.iterations
            cur = None if res is None else (res.x, fit(res.x), eps, -res.objective)
            if cur is None:
                rep.last_infeasible_eps = eps
            elif t > 2 and prev is not None and cur[1] >= prev[1]:
                break  # Algorithm 3's stopping rule: return z^(t-1)
            prev = cur
            kept = cur or kept
            if t >= s.max_steps:
                rep.note = f"max_steps ({s.max_steps}) reached; returned the last feasible LP's point"
                break
            eps *= s.alpha
            rep.eps_steps += 1
        prev = kept
        if prev is None:
            raise _SolverTrouble(f"relax LP infeasible for every ε up to {eps:.3g}")
        rep.eps, rep.value = prev[2], prev[3]
        return prev[0], rep


register(LinfLP())
register(L1LP())
register(RelaxLP())
