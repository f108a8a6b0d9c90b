"""Exact inversion by mixed-integer programming in HiGHS: :func:`minimize_residual`, ``milp``
and :func:`second_preimage`.

One encoder serves them all (and the reductions' checks, :mod:`theorychk.reduction.verify`).
The latent domain is a box: the symmetric ``‖z‖_∞ ≤ R`` (``box=R``) or any ``[lo, hi]``
(``box=(lo, hi)``, scalars or length-``k`` vectors), or only the box's vertices ``{lo, hi}^k``
(``vertices=True``: one binary ``b_i`` per coordinate and ``z_i = lo_i + (hi_i − lo_i)·b_i``).
Each layer's pre-activation ``u = W x + b`` is a continuous variable with interval bounds
``[l, h]`` from interval bound propagation over the box (:func:`interval_bounds`), and each
ReLU / LeakyReLU unit whose interval straddles 0 gets one binary ``a`` with the big-M
constraints (``M`` = the interval bounds, no guessed constants)::

    ReLU:        x ≥ u,  x ≥ 0,  x ≤ u − l·(1 − a),  x ≤ h·a
    LeakyReLU c: x ≥ u,  x ≥ c·u,  x ≤ u − (1 − c)·l·(1 − a),  x ≤ c·u + (1 − c)·h·a

A unit with ``l ≥ 0`` is ``x = u``, one with ``h ≤ 0`` is ``x = 0`` (ReLU) or ``x = c·u``: no binary.
An invertible last activation (tanh, sigmoid, PLU) is inverted on the signal, as in
:mod:`theorychk.solvers.lp`, and the residual measured before it.

:func:`minimize_residual` minimises ``‖G(z) − y‖`` (ℓ∞ or ℓ1, ``norm=``) over the observed
coordinates (``rows=``); HiGHS's dual bound says how small the residual can be anywhere in the
domain. With ``cutoff=c`` HiGHS prunes every node whose bound reaches ``c``: finding no latent
below ``c`` proves ``min ≥ c`` (status ``"cutoff"``) without closing the gap above ``c`` —
cheaper when all that is claimed is a gap. After HiGHS, a real-box incumbent is *polished*: with
its activation pattern fixed, ``G`` is affine on the pattern's region and the least residual
over that region is an LP, solved again in HiGHS with tight tolerances; the better of the two
points (by a float forward pass) is returned. A vertex incumbent is read off its binaries, so
it is a vertex exactly. The reported ``objective`` is the residual of the returned latent
computed by that forward pass, never HiGHS's number. All of it is a MILP claim in floating
point, not exact arithmetic.

How ``milp`` reports (``info["objective"]``, ``info["bound"]``, ``info["gap"]``, ``info["in_range"]``)
-------------------------------------------------------------------------------------------------
``milp`` is :func:`minimize_residual` on the box of its ``latent_box`` option (``R`` or
``(lo, hi)``), read against ``tol``:

* ``objective ≤ tol``: ``SOLVED`` — a latent reproducing ``y`` within ``tol`` was found (it is
  optimal up to ``tol`` whatever the bound; ``in_range=True``).
* HiGHS proved optimality and ``bound > tol``: ``y`` is not in ``G(box)`` within ``tol`` (a MILP
  claim, not exact; ``in_range=False``). Noiseless (``noise=None``): ``INFEASIBLE`` with the
  minimiser as ``latent`` — consistent with the LP methods, where INFEASIBLE means "proved not
  in the range"; with declared ``noise``: ``SOLVED`` (the minimiser *is* the answer asked for).
  Either way the certifier reads ``info["bound"]``.
* HiGHS proved optimality but ``bound ≤ tol < objective``: ``UNKNOWN`` ("bound gap").
* Time limit: ``UNKNOWN`` ``Reason.TIME_LIMIT`` with the incumbent (if any) and the gap.

References
----------
.. [1] Q. Lei, A. Jalal, I. S. Dhillon, A. G. Dimakis, "Inverting Deep Generative Models, One
   Layer at a Time" (``shared/papers/001``): Theorem 1 (inversion is NP-hard, so an exact
   method is exponential in the worst case), Example 1 (non-convex preimages).
"""

from __future__ import annotations

import enum
import math
import time
from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from scipy.sparse import coo_array

from theorychk._highs import INF, TIGHT_TOLERANCES, Model, Program
from theorychk._validation import (
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    ArrayLike,
    Boolean,
    ConstraintSpec,
    Interval,
    Options,
    Real,
    check,
    check_options,
    validate_params,
)
from theorychk.errors import InvalidInput, Reason, SolverError
from theorychk.network import Network, row_model
from theorychk.runtime import DEFAULT_TIME_LIMIT, Deadline
from theorychk.solvers.base import (
    Inversion,
    InversionStatus,
    Problem,
    register,
    validate_mask,
    validate_signal,
)
from theorychk.solvers.lp import (
    CLIP_MARGIN,
    DEFAULT_CLIP_MARGIN,
    DEFAULT_TOL,
    check_layerwise_network,
    output_gap,
    output_target,
    range_distance,
)
from theorychk.verdict import EngineStatus, jsonable

__all__ = [
    "ENGINE",
    "ExactMILP",
    "MilpResult",
    "interval_bounds",
    "latent_bounds",
    "minimize_residual",
    "second_preimage",
    "SecondPreimage",
    "SecondPreimageStatus",
    "DEFAULT_LATENT_BOX",
]

#: Default latent box: ``‖z‖_∞ ≤ 10`` (ten standard deviations of the usual N(0, I) prior). A
#: preimage outside the box is not searched; ``info["at_box_boundary"]`` flags a minimiser on it.
DEFAULT_LATENT_BOX = 10.0
#: Outward rounding of interval bounds: relative to the magnitude bound ``|W|·max(|lo|,|hi|) + |b|``
#: of each dot product, plus an absolute floor. A float dot product of n terms errs by at most
#: ``γ_n = n·2⁻⁵³/(1 − n·2⁻⁵³)`` times that magnitude (Higham, Thm 3.5); 1e-10 covers n < 10⁶.
IBP_REL_MARGIN = 1e-10
IBP_ABS_MARGIN = 1e-12
#: Relative gap at which HiGHS may stop (its default 1e-4 is too loose to call a bound proven).
DEFAULT_MIP_REL_GAP = 1e-6
#: How results name this encoder (the reductions' reports carry it).
ENGINE = "theorychk.solvers.milp (HiGHS)"

_NORM: ConstraintSpec = [Options({"linf", "l1"})]
_POSITIVE: ConstraintSpec = [POSITIVE]
_NONNEG: ConstraintSpec = [NON_NEGATIVE]
#: a radius ``R`` or a pair ``(lo, hi)``; the pair's shapes are :func:`latent_bounds`' to check
_BOX: ConstraintSpec = [*_POSITIVE, ArrayLike]


# --------------------------------------------------------------------------------------------
# Interval bound propagation
# --------------------------------------------------------------------------------------------


def latent_bounds(box: object, k: int, *, name: str = "box") -> tuple[np.ndarray, np.ndarray]:
    """The latent box as float arrays ``(lo, hi)`` of length ``k``: ``R`` (a positive number)
    is ``[−R, R]^k``; a pair ``(lo, hi)`` of scalars or length-``k`` vectors, with ``lo ≤ hi``
    everywhere, is ``[lo, hi]``. Anything else is an :class:`InvalidInput` naming ``name``.

    Examples
    --------
    >>> [v.tolist() for v in latent_bounds(2.0, 2)]
    [[-2.0, -2.0], [2.0, 2.0]]
    >>> [v.tolist() for v in latent_bounds((0, [1, 3]), 2)]
    [[0.0, 0.0], [1.0, 3.0]]
    """
    if isinstance(box, (tuple, list)) or (isinstance(box, np.ndarray) and box.ndim > 0):
        if len(box) != 2:
            raise InvalidInput(
                f"{name} must be a radius R > 0 or a pair (lo, hi); got a sequence of length {len(box)}",
                argument=name, got=box,
            )
        ends = []
        for side, value in zip(("lower", "upper"), box, strict=True):
            try:
                end = np.array(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise InvalidInput(f"{name} {side} bound must be numeric; got {value!r}", argument=name,
                                   got=box) from None
            if end.ndim == 0:
                end = np.full(k, float(end))
            if end.shape != (k,):
                raise InvalidInput(
                    f"{name} {side} bound must be a scalar or a vector of length {k} (the latent "
                    f"dimension); got shape {end.shape}", argument=name, got=box,
                )
            if not np.all(np.isfinite(end)):
                raise InvalidInput(f"{name} {side} bound must be finite; got {value!r}", argument=name, got=box)
            ends.append(end)
        lo, hi = ends
        bad = np.flatnonzero(lo > hi)
        if bad.size:
            i = int(bad[0])
            raise InvalidInput(f"{name} needs lo <= hi; coordinate {i} has lo {lo[i]:g} > hi {hi[i]:g}",
                               argument=name, got=box)
        return lo, hi
    try:
        r = float(box)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        r = math.nan
    if isinstance(box, bool) or not (r > 0 and math.isfinite(r)):
        raise InvalidInput(
            f"{name} must be a positive finite number R (the box ‖z‖_∞ ≤ R) or a pair (lo, hi); got {box!r}",
            argument=name, got=box,
        )
    return np.full(k, -r), np.full(k, r)


def _describe_box(lo: np.ndarray, hi: np.ndarray) -> tuple[object, str]:
    """For ``info`` and messages: ``R`` and ``"‖z‖_∞ ≤ R"`` for a symmetric box, else the pair."""
    if np.all(hi == hi[0]) and np.all(lo == -hi[0]):
        r = float(hi[0])
        return r, f"‖z‖_∞ ≤ {r:g}"
    if np.all(lo == lo[0]) and np.all(hi == hi[0]):
        return [float(lo[0]), float(hi[0])], f"z ∈ [{lo[0]:g}, {hi[0]:g}]^{len(lo)}"
    return [lo.tolist(), hi.tolist()], "z ∈ [lo, hi]"


def interval_bounds(net: Network, latent_box: object) -> list[tuple[np.ndarray, np.ndarray]]:
    """Sound bounds ``[l_i, h_i]`` on every layer's pre-activation over the latent box
    (``R`` for ``‖z‖_∞ ≤ R``, or ``(lo, hi)``: :func:`latent_bounds`).

    Interval arithmetic in float64 through ``u = W x + b`` and the (monotone) activations,
    widened outward after every layer by ``IBP_REL_MARGIN`` times the magnitude bound of the
    dot products plus ``IBP_ABS_MARGIN``, which dominates the rounding of the float evaluation;
    the bounds therefore contain the exact real pre-activations of every latent in the box.

    Examples
    --------
    >>> from theorychk.network import Layer
    >>> net = Network([Layer(np.array([[1.0], [-1.0]]), None, "relu")])
    >>> [(float(l[0]), float(h[0])) for l, h in interval_bounds(net, 2.0)][0]
    (-2.000000000201, 2.000000000201)
    >>> [(float(l[0]), float(h[0])) for l, h in interval_bounds(net, (0.5, 2.0))][0]
    (0.499999999799, 2.000000000201)
    """
    lo, hi = latent_bounds(latent_box, net.latent_dim, name="latent_box")
    return _interval_bounds(net, lo, hi)


def _interval_bounds(net: Network, lo: np.ndarray, hi: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for layer in net.layers:
        w, b = layer.weight, layer.bias
        wp, wn = np.maximum(w, 0.0), np.minimum(w, 0.0)
        l_ = wp @ lo + wn @ hi + b
        h_ = wp @ hi + wn @ lo + b
        mag = np.abs(w) @ np.maximum(np.abs(lo), np.abs(hi)) + np.abs(b)
        pad = IBP_REL_MARGIN * mag + IBP_ABS_MARGIN
        l_, h_ = l_ - pad, h_ + pad
        out.append((l_, h_))
        act = layer.activation
        # every supported activation is monotone non-decreasing
        lo, hi = act(l_), act(h_)
    return out


# --------------------------------------------------------------------------------------------
# Model building
# --------------------------------------------------------------------------------------------


class _Model:
    """A sparse (row, col, value) MILP accumulated column by column, row by row."""

    def __init__(self) -> None:
        self.lb: list[float] = []
        self.ub: list[float] = []
        self.cost: list[float] = []
        self.integer: list[int] = []
        self.rlo: list[float] = []
        self.rhi: list[float] = []
        self.ri: list[int] = []
        self.ci: list[int] = []
        self.v: list[float] = []

    def col(self, lb: float, ub: float, *, cost: float = 0.0, integer: bool = False) -> int:
        self.lb.append(lb)
        self.ub.append(ub)
        self.cost.append(cost)
        self.integer.append(1 if integer else 0)
        return len(self.lb) - 1

    def row(self, entries: list[tuple[int, float]], lo: float, hi: float) -> None:
        r = len(self.rlo)
        for c, v in entries:
            if v != 0.0:
                self.ri.append(r)
                self.ci.append(c)
                self.v.append(float(v))
        self.rlo.append(lo)
        self.rhi.append(hi)

    def program(self) -> Program:
        """The accumulated model as the HiGHS builder's (picklable) description."""
        a = coo_array((np.asarray(self.v, dtype=np.float64), (np.asarray(self.ri, dtype=np.int64),
                       np.asarray(self.ci, dtype=np.int64))), shape=(len(self.rlo), len(self.lb)))
        return Program(a, cost=self.cost, col_lower=self.lb, col_upper=self.ub, row_lower=self.rlo,
                       row_upper=self.rhi, integer=np.flatnonzero(self.integer))


def _load(program: Program, *, tolerances: dict[str, float], options: dict[str, Any]) -> Model:
    """``program`` in HiGHS, with HiGHS's tolerances unless named and presolve its own choice —
    except for a large MILP (more than :data:`PRESOLVE_MAX_NONZEROS` nonzeros): HiGHS's MIP
    presolve does not look at time_limit, and on the 20-200-500-784 decoder (515,460 nonzeros)
    it ran 138 s of a 15 s limit and reduced nothing (issue 14)."""
    big = program.is_mip and program.nnz > PRESOLVE_MAX_NONZEROS
    try:
        return Model(program, presolve="off" if big else "choose", tolerances=tolerances, options=options)
    except SolverError:
        raise InvalidInput("HiGHS rejected the MILP encoding (non-finite bound or coefficient?)",
                           argument="program", got=f"MILP with {program.nnz} nonzeros") from None


@dataclass
class _Encoding:
    model: _Model
    z: list[int]
    out: list[tuple[int, float]]  # per output unit: (column, coefficient); column -1 means 0
    binaries: int
    stable: int
    objective_cols: list[int] = field(default_factory=list)
    vertex_bits: list[int] = field(default_factory=list)
    #: per layer: the activity binaries of its unstable units and its number of always-on units
    #: (ReLU only; ``a = 1`` whenever ``x > 0``), for cardinality constraints on ``||x_i||_0``
    active: list[tuple[list[int], int]] = field(default_factory=list)


def _encode(
    net: Network, lo: np.ndarray, hi: np.ndarray, last_linear: bool, *, vertices: bool = False
) -> _Encoding:
    """Variables and constraints of ``G`` on the box ``[lo, hi]`` (or its vertices); the output
    is the last layer's ``x`` (or its pre-activation ``u`` when ``last_linear``: an inverted
    activation)."""
    m = _Model()
    z = [m.col(float(a), float(b)) for a, b in zip(lo, hi, strict=True)]
    bits = []
    if vertices:
        for c, a, b in zip(z, lo, hi, strict=True):
            bit = m.col(0.0, 1.0, integer=True)
            m.row([(c, 1.0), (bit, -(float(b) - float(a)))], float(a), float(a))  # z = lo + (hi − lo)·bit
            bits.append(bit)
    cur: list[tuple[int, float]] = [(c, 1.0) for c in z]
    bounds = _interval_bounds(net, lo, hi)  # the vertices lie in the box: its bounds hold for them
    binaries, stable = len(bits), 0
    active: list[tuple[list[int], int]] = []
    for i, layer in enumerate(net.layers):
        l_, h_ = bounds[i]
        w, b = layer.weight, layer.bias
        rows = row_model(layer.activation)
        kind = "linear" if (last_linear and i == net.depth - 1) else rows.family
        # relu / leaky: x = max(c·u, u), the max of its two pieces (kink at 0), c = leak the slope of
        # the lower one: 0 for a ReLU, whose off piece is x = 0 (no column) and whose units count
        # towards ||x_i||_0.
        pieces = () if kind == "linear" else rows.pieces
        leak = rows.lower_slope if pieces else 1.0
        nxt: list[tuple[int, float]] = []
        layer_bits: list[int] = []
        always_on = 0
        for j in range(layer.n_out):
            u = m.col(float(l_[j]), float(h_[j]))
            # u − Σ_k W_jk x_k = b_j  (x_k = coef·column, or 0)
            entries = [(u, 1.0)] + [
                (c, -w[j, k] * a) for k, (c, a) in enumerate(cur) if c >= 0 and w[j, k] != 0
            ]
            m.row(entries, float(b[j]), float(b[j]))
            lo, hi = float(l_[j]), float(h_[j])
            if kind == "linear":
                nxt.append((u, 1.0))
                continue
            if lo >= 0:  # always on the upper piece: x = u
                nxt.append((u, 1.0))
                stable += 1
                always_on += leak == 0
            elif hi <= 0:  # always on the lower piece: x = c·u
                nxt.append((u, leak) if leak else (-1, 0.0))
                stable += 1
            else:
                x = m.col(leak * lo if leak else 0.0, hi)
                a = m.col(0.0, 1.0, integer=True)  # a = 1: the upper piece
                binaries += 1
                for p in reversed(pieces):  # x ≥ slope·u + offset; a constant piece is x's lower bound
                    if p.slope:
                        m.row([(x, 1.0), (u, -float(p.slope))], float(p.offset), INF)
                # x ≤ u − (1−c)l(1−a) and x ≤ c·u + (1−c)h·a: the binary picks the piece
                m.row([(x, 1.0), (u, -1.0), (a, -(1 - leak) * lo)], -INF, -(1 - leak) * lo)
                m.row([(x, 1.0), (u, -leak), (a, -(1 - leak) * hi)], -INF, 0.0)
                nxt.append((x, 1.0))
                if leak == 0:
                    layer_bits.append(a)
        cur = nxt
        active.append((layer_bits, always_on))
    return _Encoding(m, z, cur, binaries, stable, vertex_bits=bits, active=active)


def _add_objective(enc: _Encoding, target: np.ndarray, rows: np.ndarray, norm: str) -> None:
    """``min t`` with ``|out_j − y_j| ≤ t`` (ℓ∞) or ``min Σ e_j`` with ``|out_j − y_j| ≤ e_j`` (ℓ1)."""
    m = enc.model
    t = m.col(0.0, INF, cost=1.0) if norm == "linf" else -1
    for yj, j in zip(target, rows, strict=True):
        c, a = enc.out[int(j)]
        e = t if norm == "linf" else m.col(0.0, INF, cost=1.0)
        out = [(c, a)] if c >= 0 else []
        m.row(out + [(e, -1.0)], -INF, float(yj))  # out_j − y_j ≤ e
        m.row(out + [(e, 1.0)], float(yj), INF)  # y_j − out_j ≤ e
        enc.objective_cols.append(e)


# --------------------------------------------------------------------------------------------
# Evaluation and polishing
# --------------------------------------------------------------------------------------------


def _output(net: Network, z: np.ndarray, last_linear: bool) -> np.ndarray:
    pre, post = net.trace(z)
    return pre[-1] if last_linear else post[-1]


def _residual(
    net: Network, z: np.ndarray, target: np.ndarray, rows: np.ndarray, norm: str, last_linear: bool
) -> float:
    r = _output(net, z, last_linear)[rows] - target
    return float(np.max(np.abs(r), initial=0.0) if norm == "linf" else np.sum(np.abs(r)))


def _pattern_affine(
    net: Network, z: np.ndarray, last_linear: bool
) -> tuple[list[tuple[np.ndarray, np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """With the activation pattern of ``z`` frozen: per piecewise-linear layer, the affine map
    ``z ↦ u_i = A z + c`` and the pattern's signs; and the affine output map."""
    pre = net.pre_activations(z)
    a, c = np.eye(net.latent_dim), np.zeros(net.latent_dim)
    regions = []
    for i, layer in enumerate(net.layers):
        a, c = layer.weight @ a, layer.weight @ c + layer.bias
        kind = "linear" if (last_linear and i == net.depth - 1) else row_model(layer.activation).family
        if kind in ("relu", "leaky"):
            on = pre[i] > 0
            regions.append((a, c, on))
            slope = layer.activation.derivative(pre[i])  # 1 on, c off: the pattern's piece
            a, c = slope[:, None] * a, slope * c
    return regions, a, c


def _polish(
    net: Network,
    z: np.ndarray,
    target: np.ndarray,
    rows: np.ndarray,
    norm: str,
    last_linear: bool,
    lo: np.ndarray,
    hi: np.ndarray,
    time_limit: float | None,
    extra: tuple[int, float, float] | None = None,
) -> np.ndarray | None:
    """Least residual over the region of ``z``'s activation pattern within the box ``[lo, hi]``
    (an LP), clipped into the box, or ``None``.

    ``extra = (i, sign, bound)`` adds ``sign·z_i ≥ bound`` (the second-preimage distance).
    """
    regions, a, c = _pattern_affine(net, z, last_linear)
    k = net.latent_dim
    m = _Model()
    zc = [m.col(float(a_), float(b_)) for a_, b_ in zip(lo, hi, strict=True)]
    for ar, cr, on in regions:
        for j in range(ar.shape[0]):
            ent = list(zip(zc, ar[j], strict=True))
            if on[j]:
                m.row(ent, -float(cr[j]), INF)  # u_j ≥ 0 on the region
            else:
                m.row(ent, -INF, -float(cr[j]))  # u_j ≤ 0 on the region
    enc = _Encoding(m, zc, [], 0, 0)
    # output rows as fresh columns o_j = a_j·z + c_j
    for j in rows:
        o = m.col(-INF, INF)
        m.row([(o, 1.0)] + [(zc[q], -a[j, q]) for q in range(k)], float(c[j]), float(c[j]))
        enc.out.append((o, 1.0))
    _add_objective(enc, target, np.arange(len(rows)), norm)
    if extra is not None:
        i, sign, bound = extra
        m.row([(zc[i], sign)], bound, INF)
    sol = _load(m.program(), tolerances=TIGHT_TOLERANCES, options={}).solve(_budget(time_limit), basis=False)
    if sol.status is not EngineStatus.OPTIMAL or sol.x is None:
        return None
    return np.clip(sol.x[:k], lo, hi)


# --------------------------------------------------------------------------------------------
# Shared solve
# --------------------------------------------------------------------------------------------


#: Above this many nonzeros a MILP runs without HiGHS's presolve, which ignores the time limit.
PRESOLVE_MAX_NONZEROS = 100_000


@dataclass
class _MipOutcome:
    status: EngineStatus | str  # optimal, cutoff, infeasible, time limit, or "other: ..."
    latent: np.ndarray | None
    bits: np.ndarray | None  # the vertex binaries' values (vertex encodings only)
    bound: float
    nodes: int
    mip_gap: float


#: seconds past its time limit after which a MILP run in a child process is killed
KILL_GRACE = 1.0


@dataclass(frozen=True)
class _MipJob:
    """What one MILP run needs, picklable (the child process of :func:`_run_mip_bounded` reads it)."""

    program: Program
    latent_cols: list[int]
    bit_cols: list[int]
    rel_gap: float
    cutoff: float | None


def _budget(time_limit: float | None) -> Deadline:
    """``time_limit`` seconds from now for HiGHS, at least 1 ms (``None``: no limit)."""
    return Deadline(None if time_limit is None else max(float(time_limit), 1e-3))


def _run_mip(
    enc: _Encoding, time_limit: float | None, rel_gap: float, cutoff: float | None = None
) -> _MipOutcome:
    job = _MipJob(enc.model.program(), list(enc.z), list(enc.vertex_bits), rel_gap, cutoff)
    if time_limit is not None and job.program.nnz > PRESOLVE_MAX_NONZEROS and job.program.is_mip:
        bounded = _run_mip_bounded(job, time_limit)
        if bounded is not None:
            return bounded
    return _run_mip_here(job, time_limit)


def _run_mip_bounded(job: _MipJob, time_limit: float) -> _MipOutcome | None:
    """:func:`_run_mip_here` in a child process, killed ``KILL_GRACE`` s past ``time_limit``.

    HiGHS checks its ``time_limit`` (and a user interrupt, ``cancelSolve``) only between phases:
    on a 20-200-500-784 decoder its root cut separation ran 24 s past a 30 s limit (73.6 s for a
    59.7 s limit), which no option bounds. A large MILP therefore runs where it can be killed:
    a fresh interpreter (not ``multiprocessing``, which would re-import the user's ``__main__``)
    reading the pickled model from a file; a kill is ``Reason.TIME_LIMIT`` with no incumbent.
    ``None`` when no child process can be started: the caller runs it in this process.
    """
    import pickle
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    ends_at = time.time() + time_limit  # wall clock: the same in the child
    with tempfile.TemporaryDirectory(prefix="theorychk-milp-") as tmp:
        path, result = Path(tmp) / "job.pkl", Path(tmp) / "result.pkl"
        path.write_bytes(pickle.dumps((job, ends_at), protocol=pickle.HIGHEST_PROTOCOL))
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", "from theorychk.solvers.milp import _mip_child; _mip_child()",
                 str(path), str(result)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )
        except OSError:
            return None
        try:
            _, err = proc.communicate(timeout=max(0.0, ends_at - time.time()) + KILL_GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return _MipOutcome(EngineStatus.TIME_LIMIT, None, None, -math.inf, 0, math.inf)
        if proc.returncode != 0 or not result.exists():
            tail = err.decode(errors="replace").strip().splitlines()[-1:] if err else []
            raise SolverError(f"the MILP's child process failed (exit {proc.returncode}): {' '.join(tail)}")
        out = pickle.loads(result.read_bytes())
    if isinstance(out, BaseException):
        raise out
    return out


def _mip_child() -> None:
    """Entry point of :func:`_run_mip_bounded`'s child: ``argv`` = job file, result file."""
    import pickle
    import sys

    job, ends_at = pickle.loads(open(sys.argv[1], "rb").read())
    try:
        # the child's start-up (interpreter, imports, unpickling the model) counts against the limit
        out: Any = _run_mip_here(job, max(1e-3, ends_at - time.time()))
    except Exception as exc:  # noqa: BLE001 - re-raised in the parent
        out = exc
    with open(sys.argv[2], "wb") as fh:
        fh.write(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))


def _run_mip_here(job: _MipJob, time_limit: float | None) -> _MipOutcome:
    options: dict[str, Any] = {"mip_rel_gap": job.rel_gap, "mip_abs_gap": 1e-12}
    if job.cutoff is not None:
        # HiGHS's upper limit: nodes whose bound reaches it are pruned, so finding nothing
        # proves min >= cutoff (the model is feasible without it: every latent has a residual).
        options["objective_bound"] = float(job.cutoff)
    sol = _load(job.program, tolerances={}, options=options).solve(_budget(time_limit), basis=False)
    latent = bits = None
    if sol.x is not None:
        latent, bits = sol.x[job.latent_cols], sol.x[job.bit_cols]
    bound = sol.mip_dual_bound if math.isfinite(sol.mip_dual_bound) else -math.inf
    if not job.program.is_mip:
        # Every unit is stable and the latent real: HiGHS solves an LP and reports no MIP dual
        # bound; at LP optimality the objective is the bound (up to the same tolerances).
        bound = sol.dual_bound
    ended = sol.status in (EngineStatus.OPTIMAL, EngineStatus.INFEASIBLE) or sol.bound_reached
    if job.cutoff is not None and ended and (latent is None or sol.objective >= job.cutoff):
        # Nothing below the cutoff: min >= cutoff. HiGHS may still say "optimal" here, with an
        # incumbent above the cutoff and the gap to it left open: only the cutoff is claimed.
        status, bound = EngineStatus.CUTOFF, float(job.cutoff)
    elif sol.status is EngineStatus.INFEASIBLE:
        status, bound = EngineStatus.INFEASIBLE, math.inf
    else:
        # optimal / time limit as the engine enum; HiGHS's other endings stay "other: ..."
        status = EngineStatus(sol.label) if sol.label in set(EngineStatus) else sol.label
    return _MipOutcome(status, latent, bits, bound, max(0, sol.nodes), sol.mip_gap)


def _target(net: Network, y_obs: np.ndarray, clip_margin: float) -> tuple[np.ndarray, bool, int]:
    """The observed values in the space the residual is measured in: ``(target, last_linear,
    n_clipped)`` (an invertible last activation is inverted on the signal)."""
    last = net.layers[-1]
    target, _, clipped = output_target(last, y_obs, clip_margin=clip_margin)
    return target, row_model(last.activation).family == "other", clipped


def _space(last_linear: bool) -> str:
    return "pre-activation of the last layer" if last_linear else "output"


# --------------------------------------------------------------------------------------------
# The residual minimiser
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MilpResult:
    """Outcome of :func:`minimize_residual`.

    ``status`` (an :class:`~theorychk.verdict.EngineStatus`): ``"optimal"`` (HiGHS closed the gap
    to ``mip_rel_gap``), ``"cutoff"`` (HiGHS found no latent with residual below ``cutoff``:
    ``min ≥ cutoff``, ``bound = cutoff``, and ``latent`` is ``None`` or one at or above the
    cutoff), ``EngineStatus.TIME_LIMIT`` (incumbent and bound so far) or the string ``"other: ..."``.
    ``latent``: the best latent found (in the domain; a vertex exactly when ``vertices``), or
    ``None``. ``objective``: its residual by a float forward pass (``inf``
    without one). ``bound``: HiGHS's dual bound — no latent of the domain does better, up to
    HiGHS's tolerances (a MILP claim, not exact). ``binaries`` counts the vertex binaries and the
    unstable units; ``clipped`` the target entries moved into the open range of a tanh/sigmoid
    last layer (the residual is then measured before it: ``residual_space``).
    """

    status: EngineStatus | str
    latent: np.ndarray | None
    objective: float
    bound: float
    nodes: int
    binaries: int
    elapsed: float
    stable_units: int = 0
    polished: bool = False
    cutoff: float | None = None
    clipped: int = 0
    residual_space: str = "output"
    engine: str = ENGINE

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "cutoff": self.cutoff,
            "nodes": self.nodes,
            "binaries": self.binaries,
            "stable_units": self.stable_units,
            "polished": self.polished,
            "clipped": self.clipped,
            "residual_space": self.residual_space,
            "elapsed_seconds": round(self.elapsed, 6),
        }


@validate_params({
    "vertices": [Boolean], "polish": [Boolean], "norm": _NORM, "mip_rel_gap": _NONNEG, "clip_margin": CLIP_MARGIN,
    "cutoff": [Interval(Real, None, None, closed="neither"), None],
})
def minimize_residual(
    net: Network,
    target: object,
    *,
    box: object,
    vertices: bool = False,
    norm: str = "linf",
    cutoff: float | None = None,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    rows: object | None = None,
    mip_rel_gap: float = DEFAULT_MIP_REL_GAP,
    polish: bool = True,
    clip_margin: float = DEFAULT_CLIP_MARGIN,
) -> MilpResult:
    """``min ‖G(z)[rows] − target‖`` over the latent box, or its vertices, as a MILP in HiGHS.

    ``box``: ``R`` for ``‖z‖_∞ ≤ R`` or ``(lo, hi)`` (:func:`latent_bounds`); ``vertices=True``
    restricts ``z`` to ``{lo, hi}^k``. ``target``: one value per entry of ``rows`` (output
    indices; all outputs when ``None``). ``norm``: ``"linf"`` or ``"l1"``. ``cutoff=c``: only
    decide whether the minimum is below ``c`` — status ``"cutoff"`` proves ``min ≥ c`` without
    closing the gap above it; below ``c`` the search runs to optimality as without a cutoff.
    The encoding, bounds and polishing are the module docstring's; the result is a MILP claim in
    floating point (:class:`MilpResult`), not exact.

    Examples
    --------
    >>> from theorychk.network import Layer
    >>> g = Network([Layer(np.array([[1.0], [-1.0]]), None, "relu"),
    ...              Layer(np.array([[1.0, 1.0]]), None, "identity")])   # G(z) = |z|
    >>> r = minimize_residual(g, [0.0], box=(0.5, 2.0))                   # min |z| on [0.5, 2]
    >>> r.status, round(r.objective, 9), r.latent.round(9).tolist()
    (<EngineStatus.OPTIMAL: 'optimal'>, 0.5, [0.5])
    >>> minimize_residual(g, [0.8], box=(-1.0, 2.0), vertices=True).latent.tolist()   # z ∈ {-1, 2}
    [-1.0]
    >>> r = minimize_residual(g, [-1.0], box=2.0, cutoff=0.5)             # min ≥ 0.5, no more
    >>> r.status, r.bound, r.latent
    (<EngineStatus.CUTOFF: 'cutoff'>, 0.5, None)
    """
    check_layerwise_network(net, "minimize_residual")
    lo, hi = latent_bounds(box, net.latent_dim, name="box")
    idx = _rows(net, rows)
    try:
        y = np.array(target, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(f"target must be a vector of numbers; got {target!r}", argument="target",
                           got=target) from None
    if y.shape != idx.shape or not np.all(np.isfinite(y)):
        raise InvalidInput(
            f"target must be a finite vector with one value per row ({idx.size}); got shape {y.shape}",
            argument="target", got=target,
        )
    return _minimize(
        net,
        y,
        idx,
        lo,
        hi,
        vertices=vertices,
        norm=norm,
        cutoff=cutoff,
        deadline=Deadline(time_limit),
        rel_gap=mip_rel_gap,
        polish=polish,
        clip_margin=clip_margin,
    )


def _rows(net: Network, rows: object | None) -> np.ndarray:
    if rows is None:
        return np.arange(net.output_dim)
    idx = np.asarray(rows)
    if idx.dtype == bool:
        raise InvalidInput("rows must be output indices; got a boolean array (pass np.flatnonzero(mask))",
                           argument="rows", got=rows)
    if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
        raise InvalidInput(f"rows must be a non-empty 1-D array of output indices; got {rows!r}", argument="rows",
                           got=rows)
    if idx.min() < 0 or idx.max() >= net.output_dim or np.unique(idx).size != idx.size:
        raise InvalidInput(
            f"rows must be distinct output indices in [0, {net.output_dim}); got {idx.tolist()}",
            argument="rows", got=rows,
        )
    return idx.astype(np.int64)


def _minimize(
    net: Network,
    y_obs: np.ndarray,
    rows: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    vertices: bool,
    norm: str,
    cutoff: float | None,
    deadline: Deadline,
    rel_gap: float,
    polish: bool,
    clip_margin: float,
) -> MilpResult:
    """:func:`minimize_residual` on validated arguments, sharing the caller's ``deadline``."""
    start = time.perf_counter()
    target, last_linear, clipped = _target(net, y_obs, clip_margin)
    space = _space(last_linear)

    def result(status: EngineStatus | str, latent: np.ndarray | None, bound: float, **kw: Any) -> MilpResult:
        objective = math.inf if latent is None else _residual(net, latent, target, rows, norm, last_linear)
        return MilpResult(
            status,
            latent,
            objective,
            bound,
            elapsed=time.perf_counter() - start,
            cutoff=cutoff,
            clipped=clipped,
            residual_space=space,
            **kw,
        )

    if deadline.expired():
        return result(EngineStatus.TIME_LIMIT, None, -math.inf, nodes=0, binaries=0)
    enc = _encode(net, lo, hi, last_linear, vertices=vertices)
    _add_objective(enc, target, rows, norm)
    out = _run_mip(enc, deadline.remaining(), rel_gap, cutoff)
    latent, polished = out.latent, False
    if latent is not None:
        # HiGHS's values honour bounds and integrality only to its tolerances: read a vertex off
        # its binaries, and clip a box latent into the box.
        latent = np.where(out.bits > 0.5, hi, lo) if vertices else np.clip(latent, lo, hi)
    if latent is not None and polish and not vertices and not deadline.expired():
        better = _polish(net, latent, target, rows, norm, last_linear, lo, hi, deadline.remaining())
        if better is not None and (
            _residual(net, better, target, rows, norm, last_linear)
            <= _residual(net, latent, target, rows, norm, last_linear)
        ):
            latent, polished = better, True
    return result(
        out.status,
        latent,
        out.bound,
        nodes=out.nodes,
        binaries=enc.binaries,
        stable_units=enc.stable,
        polished=polished,
    )


# --------------------------------------------------------------------------------------------
# The registered method
# --------------------------------------------------------------------------------------------


class ExactMILP:
    """Exact inversion: ``min ‖G(z) − y‖`` over a latent box as a MILP in HiGHS — :func:`minimize_residual`
    read against ``tol`` (module docstring).

    Options: ``norm`` (``"linf"`` default, or ``"l1"``), ``latent_box`` (``R`` for ``‖z‖_∞ ≤ R``,
    default :data:`DEFAULT_LATENT_BOX`, or a pair ``(lo, hi)``), ``tol`` (the signal tolerance of
    :func:`~theorychk.solvers.base.signal_tolerance`, times ``√m`` for ``norm="l1"``: "in the
    range" threshold), ``mip_rel_gap`` (1e-6), ``polish`` (True), ``clip_margin`` (1e-9,
    tanh/sigmoid last layers). ``info``: ``objective`` (forward residual of the returned latent),
    ``bound`` (HiGHS's dual bound: no latent in the box does better, up to HiGHS's tolerances),
    ``gap``, ``in_range``, ``latent_box`` (``R``, or ``[lo, hi]``), ``binaries``, ``stable_units``,
    ``nodes``, ``at_box_boundary``, ``residual_space``.
    """

    name = "milp"
    summary = "exact inversion: min ||G(z) - y|| over a latent box as a big-M MILP (HiGHS)"
    supports_mask = True
    noise_norm = "linf"  # paper 001's noise model, as the LP methods
    #: the options and their constraints (read by :func:`~theorychk.solvers.base.prepare`)
    option_constraints: ClassVar[dict[str, ConstraintSpec]] = {
        "norm": _NORM, "latent_box": _BOX, "tol": _NONNEG, "mip_rel_gap": _NONNEG, "polish": [Boolean],
        "clip_margin": CLIP_MARGIN,
    }

    def check(self, net: Network) -> None:
        check_layerwise_network(net, self.name)

    def run(self, problem: Problem) -> Inversion:
        opts = check_options(problem.options, self.option_constraints, method=self.name)
        net = problem.net
        norm = opts.get("norm", "linf")
        lo, hi = latent_bounds(opts.get("latent_box", DEFAULT_LATENT_BOX), net.latent_dim, name="latent_box")
        box, box_text = _describe_box(lo, hi)
        scale = max(1.0, float(np.max(np.abs(problem.observed))))
        # The signal tolerance bounds an ℓ2 distance: an ℓ∞ residual above it, or an ℓ1 residual
        # above √m times it, puts y farther than it from the range.
        signal_tol = problem.signal_tol or DEFAULT_TOL * scale
        default = signal_tol if norm == "linf" else signal_tol * math.sqrt(int(problem.mask.sum()))
        tol = opts.get("tol", default)
        rel_gap = opts.get("mip_rel_gap", DEFAULT_MIP_REL_GAP)
        polish = opts.get("polish", True)
        clip = opts.get("clip_margin", DEFAULT_CLIP_MARGIN)
        y_obs = problem.y[problem.mask]
        _, last_linear, clipped = _target(net, y_obs, clip)
        info: dict[str, Any] = {
            "norm": norm,
            "latent_box": box,
            "tol": tol,
            "clipped": clipped,
            "residual_space": _space(last_linear),
        }
        if problem.deadline.expired():
            return Inversion(self.name, InversionStatus.UNKNOWN, None, reason=Reason.TIME_LIMIT, info=info)
        res = _minimize(
            net,
            y_obs,
            np.flatnonzero(problem.mask),
            lo,
            hi,
            vertices=False,
            norm=norm,
            cutoff=None,
            deadline=problem.deadline,
            rel_gap=rel_gap,
            polish=polish,
            clip_margin=clip,
        )
        info.update(
            binaries=res.binaries, stable_units=res.stable_units, nodes=res.nodes, highs_status=res.status
        )
        if res.polished:
            info["polished"] = True
        latent, objective, bound = res.latent, res.objective, res.bound
        info.update(
            objective=objective,
            bound=bound,
            gap=max(0.0, objective - bound) if latent is not None else math.inf,
        )
        info["in_range"] = None
        if latent is not None:
            # within a relative 1e-9 of a face (for ‖z‖_∞ ≤ R: max |z_i| ≥ R·(1 − 1e-9))
            slack = 1e-9 * np.maximum(np.abs(lo), np.abs(hi))
            info["at_box_boundary"] = bool(np.any((latent <= lo + slack) | (latent >= hi - slack)))
        counts = {"nodes": res.nodes, "binaries": res.binaries}

        def done(status: InversionStatus, reason: str) -> Inversion:
            return Inversion(self.name, status, latent, reason=reason, counts=counts, info=info)

        # Before a tanh/sigmoid the residual is in pre-activation space: the bound, and how far a
        # clipped y is from the activation's range, are mapped to output space for the claim.
        outside = range_distance(net.layers[-1], y_obs) if clipped else 0.0
        far = outside > signal_tol
        if last_linear:
            target, _, _ = output_target(net.layers[-1], y_obs, clip_margin=clip)
            out_bound = output_gap(net.layers[-1], y_obs, target, bound) if norm == "linf" else 0.0
        else:
            out_bound = bound
        info["output_bound"] = out_bound
        if latent is not None and objective <= tol and not far:
            info["in_range"] = True
            return done(InversionStatus.SOLVED, "")
        if res.status == EngineStatus.TIME_LIMIT:
            return done(InversionStatus.UNKNOWN, Reason.TIME_LIMIT)  # incumbent, bound and gap are in info
        if res.status not in (EngineStatus.OPTIMAL, EngineStatus.INFEASIBLE):
            return done(InversionStatus.UNKNOWN, f"MILP solver ended with {res.status}")
        if out_bound > tol or far:
            info["in_range"] = False
            why = (
                f"y has {clipped} entries outside the open range of the last activation, "
                f"{outside:.3g} > tol {signal_tol:.3g} away from it"
                if far
                else f"min ‖G(z) − y‖_{'∞' if norm == 'linf' else '1'} over {box_text} is "
                f"{objective:.3g} (HiGHS bound {bound:.3g} > tol {tol:.3g}): y is not in the range "
                "within the box (MILP claim, not exact)"
            )
            if problem.noise:
                return done(InversionStatus.SOLVED, why)
            return done(InversionStatus.INFEASIBLE, why)
        return done(
            InversionStatus.UNKNOWN,
            f"{Reason.BOUND_GAP}: the least residual is in [{bound:.3g}, {objective:.3g}], "
            f"which straddles tol {tol:.3g}",
        )


def _max_active(net: Network, max_active: object) -> list[int | None]:
    """Per layer: the cap on its nonzero units (``None``: no cap); hidden ReLU layers only."""
    if max_active is None:
        return [None] * net.depth
    if isinstance(max_active, (str, bytes)) or not hasattr(max_active, "__len__") or len(max_active) != net.depth - 1:
        raise InvalidInput(f"max_active must list one bound per hidden layer ({net.depth - 1}); got {max_active!r}",
                           argument="max_active", got=max_active)
    caps: list[int | None] = []
    for i, cap in enumerate(max_active):
        cap = check(f"max_active[{i}]", cap, [NON_NEGATIVE_INT])
        if row_model(net.layers[i].activation).family != "relu":
            raise InvalidInput(f"max_active needs ReLU hidden layers; layer {i} is {net.layers[i].activation}",
                               argument=f"layers[{i}].activation", got=net.layers[i].activation.spec)
        caps.append(int(cap))
    return caps + [None]


def _within_caps(net: Network, z: np.ndarray, caps: Sequence[int | None], tol: float) -> bool:
    hidden = net.hidden(z)
    return all(cap is None or int(np.count_nonzero(h > tol)) <= cap for h, cap in zip(hidden, caps, strict=False))


register(ExactMILP())


# --------------------------------------------------------------------------------------------
# Second preimage
# --------------------------------------------------------------------------------------------


class SecondPreimageStatus(str, enum.Enum):
    FOUND = "FOUND"
    NONE_PROVEN = "NONE_PROVEN"
    UNKNOWN = "UNKNOWN"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, eq=False)
class SecondPreimage:
    """Outcome of :func:`second_preimage`.

    ``FOUND``: ``latent`` is a ``z`` in the box with residual ``≤ tol`` and ``‖z − z*‖_∞ ≥ delta``,
    both checked by a float forward pass (the certifier re-verifies it exactly).
    ``NONE_PROVEN``: HiGHS proved that every ``z`` in the box with ``‖z − z*‖_∞ ≥ delta`` has residual
    ``≥ bound > tol`` — MILP-proven, not exact. ``UNKNOWN``: time limit, or a witness that failed
    the forward check; ``reason`` says which.
    """

    status: SecondPreimageStatus
    latent: np.ndarray | None
    reason: str
    residual: float
    distance: float
    bound: float
    delta: float
    latent_box: float
    tol: float
    norm: str
    elapsed: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return self.status is SecondPreimageStatus.FOUND

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "reason": self.reason,
            "latent": None if self.latent is None else jsonable(self.latent),
            "residual": jsonable(self.residual),
            "distance": jsonable(self.distance),
            "bound": jsonable(self.bound),
            "delta": jsonable(self.delta),
            "latent_box": jsonable(self.latent_box),
            "tol": jsonable(self.tol),
            "norm": self.norm,
            "elapsed_seconds": round(self.elapsed, 6),
            "info": jsonable(self.info),
        }


@validate_params({
    "delta": _POSITIVE, "latent_box": _POSITIVE, "norm": _NORM, "tol": [*_NONNEG, None], "clip_margin": CLIP_MARGIN,
})
def second_preimage(
    net: Network,
    y: object,
    z_star: object,
    *,
    delta: float,
    latent_box: float,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    norm: str = "linf",
    mask: object | None = None,
    tol: float | None = None,
    clip_margin: float = DEFAULT_CLIP_MARGIN,
    max_active: Sequence[int] | None = None,
) -> SecondPreimage:
    """Search for ``z`` with ``G(z) = y`` (within ``tol``) and ``‖z − z*‖_∞ ≥ delta`` in the box.

    The MILP is the encoding of ``milp`` plus the disjunction ``‖z − z*‖_∞ ≥ delta`` — one binary
    per coordinate and sign, ``s_i^+ ⇒ z_i ≥ z*_i + delta'``, ``s_i^- ⇒ z_i ≤ z*_i − delta'``,
    ``Σ s ≥ 1``, with ``M_i = R + |z*_i| + delta'`` (exact for the box) and
    ``delta' = delta·(1 + 1e-9) + 1e-12`` so that a witness clears ``delta`` in floats — and it
    minimises the residual ``‖G(z) − y‖`` (ℓ∞ or ℓ1 over ``mask``). ``tol`` defaults to
    ``1e-6·max(1, ‖y‖_∞)``; for an invertible last activation residuals are measured before it.
    A witness is polished (the LP over its activation region with its distance constraint
    fixed) and must pass a float forward check to be ``FOUND``.

    ``max_active`` (one bound per hidden ReLU layer, ``[s_1, ..., s_L]``) restricts the search to
    preimages whose hidden layers have at most ``s_i`` nonzero units — the "solutions meeting the
    sparsity conditions" of paper 004's Theorem 1 — by ``Σ a ≤ s_i`` over the activity binaries
    (units active on the whole box count as nonzero, which may only miss witnesses with such a
    unit exactly 0). The witness's own counts are checked in floats (``> tol`` counts as nonzero).

    Examples
    --------
    >>> from theorychk.network import Layer
    >>> g = Network([Layer(np.array([[1.0], [-1.0]]), None, "relu"),
    ...              Layer(np.array([[1.0, 1.0]]), None, "identity")])   # G(z) = |z|
    >>> second_preimage(g, [1.0], [1.0], delta=1.0, latent_box=2.0).latent.round(6).tolist()
    [-1.0]
    """
    start = time.perf_counter()
    check_layerwise_network(net, "second_preimage")
    y_arr = validate_signal(net, y)
    mask_arr = validate_mask(net, mask)
    zs = np.asarray(z_star, dtype=np.float64).reshape(-1)
    if zs.shape != (net.latent_dim,) or not np.all(np.isfinite(zs)):
        raise InvalidInput(
            f"z_star must be a finite vector of length {net.latent_dim}; got shape {np.shape(z_star)}",
            argument="z_star", got=z_star,
        )
    box = latent_box
    scale = max(1.0, float(np.max(np.abs(y_arr[mask_arr]))))
    tol = DEFAULT_TOL * scale if tol is None else tol
    deadline = Deadline(time_limit)
    rows = np.flatnonzero(mask_arr)
    target, last_linear, clipped = _target(net, y_arr[mask_arr], clip_margin)
    lo, hi = latent_bounds(box, net.latent_dim, name="latent_box")
    info: dict[str, Any] = {
        "clipped": clipped,
        "z_star_residual": _residual(net, zs, target, rows, norm, last_linear),
    }

    def result(
        status: SecondPreimageStatus, z: np.ndarray | None, reason: str, bound: float
    ) -> SecondPreimage:
        res = math.nan if z is None else _residual(net, z, target, rows, norm, last_linear)
        dist = math.nan if z is None else float(np.max(np.abs(z - zs)))
        return SecondPreimage(
            status, z, reason, res, dist, bound, delta, box, tol, norm, time.perf_counter() - start, info
        )

    if clipped:
        return result(
            SecondPreimageStatus.NONE_PROVEN,
            None,
            f"y has {clipped} entries outside the open range of the last activation: no preimage at all",
            math.inf,
        )
    caps = _max_active(net, max_active)
    enc = _encode(net, lo, hi, last_linear)
    _add_objective(enc, target, rows, norm)
    m = enc.model
    for (bits, always_on), cap in zip(enc.active, caps, strict=False):
        if cap is None:
            continue
        if always_on > cap:
            return result(SecondPreimageStatus.NONE_PROVEN, None,
                          f"{always_on} units are active on the whole box, more than max_active {cap}", math.inf)
        m.row([(a, 1.0) for a in bits], -INF, float(cap - always_on))
    d = delta * (1 + 1e-9) + 1e-12
    chooser = []
    for i, c in enumerate(enc.z):
        big = box + abs(zs[i]) + d
        sp = m.col(0.0, 1.0 if zs[i] + d <= box else 0.0, integer=True)
        sm = m.col(0.0, 1.0 if zs[i] - d >= -box else 0.0, integer=True)
        m.row([(c, 1.0), (sp, -big)], zs[i] + d - big, INF)  # s⁺ = 1 ⇒ z_i ≥ z*_i + δ'
        m.row([(c, -1.0), (sm, -big)], -zs[i] + d - big, INF)  # s⁻ = 1 ⇒ z_i ≤ z*_i − δ'
        chooser += [(sp, 1.0), (sm, 1.0)]
    m.row(chooser, 1.0, INF)  # ‖z − z*‖_∞ ≥ δ'
    info.update(binaries=enc.binaries + 2 * net.latent_dim, stable_units=enc.stable)
    if deadline.expired():
        return result(SecondPreimageStatus.UNKNOWN, None, Reason.TIME_LIMIT, -math.inf)
    out = _run_mip(enc, deadline.remaining(), DEFAULT_MIP_REL_GAP)
    info.update(nodes=out.nodes, highs_status=out.status)
    if out.status == EngineStatus.INFEASIBLE:
        return result(
            SecondPreimageStatus.NONE_PROVEN,
            None,
            f"no z with ‖z − z*‖_∞ ≥ {delta:g} in the box at all (MILP-proven, not exact)",
            math.inf,
        )
    z = out.latent
    if z is not None:
        i = int(np.argmax(np.abs(z - zs)))
        sign = 1.0 if z[i] >= zs[i] else -1.0
        if not deadline.expired():
            better = _polish(
                net,
                z,
                target,
                rows,
                norm,
                last_linear,
                lo,
                hi,
                deadline.remaining(),
                extra=(i, sign, sign * zs[i] + d),
            )
            if better is not None and (
                _residual(net, better, target, rows, norm, last_linear)
                <= _residual(net, z, target, rows, norm, last_linear)
            ):
                z = better
                info["polished"] = True
        res = _residual(net, z, target, rows, norm, last_linear)
        if (res <= tol and float(np.max(np.abs(z - zs))) >= delta and float(np.max(np.abs(z))) <= box
                and _within_caps(net, z, caps, tol)):
            return result(SecondPreimageStatus.FOUND, z, "", out.bound)
    if out.status == EngineStatus.OPTIMAL and out.bound > tol:
        return result(
            SecondPreimageStatus.NONE_PROVEN,
            None,
            f"every z in the box with ‖z − z*‖_∞ ≥ {delta:g} has residual ≥ {out.bound:.3g} > tol "
            f"{tol:.3g} (MILP-proven, not exact)",
            out.bound,
        )
    if out.status == EngineStatus.TIME_LIMIT:
        return result(SecondPreimageStatus.UNKNOWN, z, Reason.TIME_LIMIT, out.bound)
    if out.status == EngineStatus.OPTIMAL:
        return result(
            SecondPreimageStatus.UNKNOWN,
            z,
            f"{Reason.BOUND_GAP}: least residual away from z* is in [{out.bound:.3g}, "
            f"{_residual(net, z, target, rows, norm, last_linear) if z is not None else math.inf:.3g}] "
            f"around tol {tol:.3g}, or the witness failed the forward check",
            out.bound,
        )
    return result(SecondPreimageStatus.UNKNOWN, z, f"MILP solver ended with {out.status}", out.bound)
