"""Gradient descent on the latent code: the baseline both papers compare against (method ``gd``).

The method minimises the data term of Equation (1) of [1] on the observed coordinates,

    f(z) = 1/2 * || (G(z) - y)[mask] ||_2^2 ,

from random starts ``z0 ~ N(0, I)`` drawn from ``problem.rng``, with a fixed step (optionally
decaying), heavy-ball momentum or Adam, an iteration cap and the gradient-norm stop of the
papers. The gradient is back-propagated by hand in numpy, batched over signals and restarts;
the ReLU subgradient at 0 is taken as 0 (and the LeakyReLU one as its slope, the PLU one as 1
at its kinks), as autograd frameworks do.

How the papers ran it
---------------------
* [1] Section 6.1 (random nets): "the smallest step-size from {1e-1, 1e0, 1e1, 1e2, 1e3, 1e4}
  for 10,000 steps that resulted with a gradient norm smaller than 1e-9" -- pass that grid as
  ``step=(0.1, 1, 10, 100, 1000, 10000)``: steps are tried in increasing order and the first
  whose kept restart stops on the gradient norm is used (else the run with the lowest loss).
* [1] Section 6.2 (MNIST): 10,000 iterations, momentum 0.9, step 1e-1 "that gradually decays";
  the decay is not specified, here ``decay`` multiplies the step every iteration
  (``step_k = step * decay**k``).
* [2] Section 5: learning rate 1 (synthetic, weights ``N(0, 1/n_i)``) or 1e-3 (MNIST), up to
  1,000 or 10,000 iterations, stop when the gradient norm is at most 1e-9. [2] does not say
  whether its loss is a sum or a mean; ours is the sum above, so a step for a mean loss is
  ``n`` times ours.

Defaults: ``iterations=10_000``, ``grad_tol=1e-9``, ``momentum=0``, ``decay=1``, one restart,
and ``step=None``, meaning ``1 / (phi'_max**2 * prod_i ||W_i||_2**2)`` -- an upper bound of the
curvature of ``f`` for piecewise-linear nets, so the fixed step never diverges there (the
papers' steps were tuned per experiment, which a default cannot be).

``polish=True`` (the default) stops a signal at the least-squares point of its current
activation pattern as soon as that point passes the same gradient-norm rule, checked by a
forward and backward pass there (:meth:`_AffinePieces.polish`, ``docs/solvers-pursuit.md``);
``polish=False`` runs the pure iteration of the papers.

``precision="mixed"`` (the default) iterates in float32 while a row is far from its signal and
decides in float64: no row is stopped, called diverged or reported on float32 numbers
(:class:`_AffinePieces`); ``precision="float64"`` is the all-float64 iteration.

SOLVED means the kept restart stopped by the gradient-norm rule (a stationary point, not
necessarily the global minimum -- the residuals filled in by :func:`~theorychk.solvers.invert`
tell); running to the cap gives UNKNOWN ``"iteration limit"``; a non-finite loss on every
restart gives UNKNOWN ``"diverged"``.

References
----------
.. [1] A. Aberdam, D. Simon, M. Elad, "When and How Can Deep Generative Models be Inverted?",
   arXiv:2006.15555 (2020) -- ``papers/004``.
.. [2] Q. Lei, A. Jalal, I. S. Dhillon, A. G. Dimakis, "Inverting Deep Generative Models, One
   Layer at a Time", NeurIPS 2019 -- ``papers/002``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theorychk._validation import (
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    ArrayLike,
    Boolean,
    ConstraintSpec,
    Interval,
    ListOf,
    Options,
    Real,
    check,
    check_option_names,
    check_options,
    invalid,
    validate_params,
)
from theorychk.errors import InvalidInput, Reason
from theorychk.network import PLU, Activation, Network, ReLU
from theorychk.runtime import Deadline, RowBudget
from theorychk.solvers.base import (
    BatchProblem,
    Inversion,
    InversionStatus,
    Problem,
    register,
    validate_masks,
    validate_signals,
)

__all__ = [
    "activation_derivative",
    "derivative_bound",
    "read_options",
    "checked_number",
    "DescentRun",
    "gradient_descent",
    "GradientDescent",
]

#: relative gap within which two restarts' final losses tie (see :func:`gradient_descent`)
_TIE = 1e-6


# --------------------------------------------------------------------------------------------
# Activation derivatives (shared with theorychk.solvers.pursuit)
# --------------------------------------------------------------------------------------------


def activation_derivative(act: Activation, pre: np.ndarray) -> np.ndarray:
    """``act'(pre)`` elementwise: the activation's own :meth:`~theorychk.network.Activation.derivative`
    (autograd's conventions at breakpoints: ReLU' (0) = 0, LeakyReLU'(0) = slope, PLU'(±c) = 1).

    Examples
    --------
    >>> activation_derivative(ReLU(), np.array([-1.0, 0.0, 2.0])).tolist()
    [0.0, 0.0, 1.0]
    """
    return act.derivative(pre)


def derivative_bound(act: Activation) -> float:
    """``sup |act'|``: the activation's :attr:`~theorychk.network.Activation.derivative_bound`."""
    return act.derivative_bound


def check_differentiable(net: Network, method: str) -> None:
    """Raise :class:`InvalidInput` if a layer's activation has no derivative here."""
    for i, act in enumerate(net.activations):
        if type(act).derivative is Activation.derivative:
            raise InvalidInput(f"method {method!r} has no derivative for layer {i} activation {act.spec!r}",
                               argument=f"layers[{i}].activation", got=act.spec)


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


def read_options(options: Mapping[str, Any], defaults: Mapping[str, Any], method: str) -> dict[str, Any]:
    """``defaults`` updated with ``options``; an unknown option name is an error, not ignored.

    The methods read their options with :func:`theorychk._validation.check_options`, which
    also checks each value against the method's ``option_constraints``."""
    check_option_names(options, defaults, method=method)
    return {**defaults, **options}


def checked_number(value: Any, name: str, *, integer: bool = False, allow_zero: bool = False) -> float | int:
    """``value`` as a finite positive (or non-negative) number, or :class:`InvalidInput` naming it
    (the intervals of :mod:`theorychk._validation`)."""
    if integer:
        return check(name, value, [NON_NEGATIVE_INT if allow_zero else POSITIVE_INT])
    return check(name, value, [NON_NEGATIVE if allow_zero else POSITIVE])


#: the constraints :func:`gradient_descent` checks its arguments against (``init`` and ``rng``
#: depend on the network and the batch: checked in the body)
_GD_PARAMS: dict[str, ConstraintSpec] = {
    "restarts": [POSITIVE_INT],
    "step": [POSITIVE, None],
    "iterations": [POSITIVE_INT],
    "momentum": [Interval(Real, 0, 1, closed="left")],
    "decay": [Interval(Real, 0, 1, closed="right")],
    "optimizer": [Options({"sgd", "adam"})],
    "grad_tol": [NON_NEGATIVE],
    "check_every": [POSITIVE_INT],
    "polish": [Boolean],
    "precision": [Options({"mixed", "float64"})],
}


# --------------------------------------------------------------------------------------------
# Batched forward / backward
# --------------------------------------------------------------------------------------------


#: up to this many rows, a product with a weight runs as one matrix-vector product per row:
#: BLAS's matrix-matrix product packs the whole weight on every call, which for 2-5 rows costs
#: about twice the rows' own matrix-vector products (784 x 392, one thread: 3 rows 267 vs 121 us
#: in float64, 157 vs 62 us in float32; issue 18) -- the tail of a batch, where few rows are
#: left, and the confirmations, polishes and float64 passes, which take a few rows at a time.
#: Each row's product is then exactly the one it gets alone.
_ROWWISE = 5


def _times(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``x @ w`` for a batch of rows ``x`` and a dense matrix ``w`` (row by row for few rows)."""
    if 1 < x.shape[0] <= _ROWWISE:
        return (x[:, None, :] @ w)[:, 0, :]
    return x @ w


def _forward(net: Network, z: np.ndarray,
             layers: Sequence[tuple[np.ndarray, np.ndarray]] | None = None) -> tuple[list[np.ndarray], np.ndarray]:
    """Per layer the pre-activations of every row of ``z``, and the output (``layers``: the
    ``(weight, bias)`` pairs to use instead of the net's, e.g. its float32 copies)."""
    pres = []
    x = z
    for i, layer in enumerate(net.layers):
        if layers is None and layer.conv is not None:
            p = layer.pre_activation(x)  # the operator: sparse for a convolution
        else:
            w, b = (layer.weight, layer.bias) if layers is None else layers[i]
            p = _times(x, w.T)  # a dense ndarray: add the bias in place, no second array
            p += b
        pres.append(p)
        x = _activate(layer.activation, p)
    return pres, x


def _activate(act: Activation, p: np.ndarray) -> np.ndarray:
    """``act(p)``; PLU's formula evaluated in two buffers instead of eight temporaries (the same
    operations in the same order, so the same numbers: a third less time on a 200 x 784 layer)."""
    if type(act) is not PLU or not isinstance(p, np.ndarray):
        return act(p)
    a, c = act.alpha, act.c
    up = p + c
    up *= a
    up -= c
    low = p - c
    low *= a
    low += c
    np.minimum(low, p, out=low)
    return np.maximum(up, low, out=up)


def _backprop(net: Network, pres: list[np.ndarray], r: np.ndarray,
              slopes: list[np.ndarray] | None = None,
              layers: Sequence[tuple[np.ndarray, np.ndarray]] | None = None) -> np.ndarray:
    """``J(z)^T r`` per row, ``J`` the Jacobian of ``G`` at the point whose pre-activations are ``pres``
    (``slopes``: the activations' derivatives there, when the caller has them already; ``layers``
    as for :func:`_forward`)."""
    deriv = slopes if slopes is not None else [layer.activation.derivative(p) for layer, p in zip(net.layers, pres)]
    delta = r * deriv[-1]
    for k in range(net.depth - 1, -1, -1):
        g = _times(delta, net.layers[k].weight if layers is None else layers[k][0])
        if k == 0:
            return g
        d = deriv[k - 1]
        if g.dtype == np.result_type(g, d):  # g is the product's own array: scale it in place
            g *= d
            delta = g
        else:
            delta = g * d
    raise AssertionError("unreachable")  # pragma: no cover


def _loss_and_gradient(
    net: Network, z: np.ndarray, y: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: ``f(z) = 1/2 ||mask * (G(z) - y)||^2`` and its gradient, by manual backprop."""
    pres, x = _forward(net, z)
    r = mask * (x - y)
    return 0.5 * np.einsum("ij,ij->i", r, r), _backprop(net, pres, r)


#: net -> its layers' (weight, bias) in float32, cast once per net, not once per chunk
_SINGLE: dict[int, tuple[Network, list[tuple[np.ndarray, np.ndarray]]]] = {}


def _single_layers(net: Network) -> list[tuple[np.ndarray, np.ndarray]]:
    """The float32 copies of ``net``'s weights and biases that ``precision="mixed"`` iterates with."""
    hit = _SINGLE.get(id(net))
    if hit is None or hit[0] is not net:
        hit = (net, [(np.ascontiguousarray(layer.weight, np.float32), np.asarray(layer.bias, np.float32))
                     for layer in net.layers])
        if len(_SINGLE) >= 4:
            _SINGLE.pop(next(iter(_SINGLE)))
        _SINGLE[id(net)] = hit
    return hit[1]


def default_step(net: Network, mask: np.ndarray) -> float:
    """``1 / (phi'_max**2 prod_i ||W_i||_2**2)`` with the last layer's unobserved rows dropped.

    ``G`` restricted to one activation region is affine with Jacobian ``D_L W_L ... D_1 W_1``,
    ``|D_i| <= phi_i'_max``, so this bounds the curvature of ``f`` where it is smooth.
    """
    observed = np.asarray(mask).reshape(-1, net.output_dim).any(axis=0)
    bound = 1.0
    for k, layer in enumerate(net.layers):
        rows = observed if k == net.depth - 1 else None
        bound *= (_spectral_norm(layer.weight, rows) * layer.activation.derivative_bound) ** 2
    return 1.0 / bound if bound > 0 else 1.0


#: (weight, observed rows) -> (||W_obs||_2, W): a norm per layer that a batch inverted in chunks
#: (the CLI's, invert_batch's) would otherwise repeat per chunk -- 3 SVDs, about 60 ms CPU, per
#: chunk on the 20-128-392-784 net (now from the Gram matrices, see _norm2)
_NORMS: dict[tuple[int, bytes], tuple[float, np.ndarray]] = {}


def _norm2(w: np.ndarray) -> float:
    """``||w||_2`` as the square root of the largest eigenvalue of the smaller Gram matrix: the
    same value as ``np.linalg.norm(w, 2)`` to ~1e-15 relative (a step size, not a claim), without
    its full SVD -- 15 vs 22 ms CPU on 784 x 392."""
    if 0 in w.shape:
        return 0.0
    w = np.asarray(w, dtype=np.float64)
    gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
    return float(np.sqrt(max(float(np.linalg.eigvalsh(gram)[-1]), 0.0)))


def _spectral_norm(w: np.ndarray, rows: np.ndarray | None) -> float:
    """``||w[rows]||_2`` (all rows for ``None``), cached for a read-only weight (a Network's are:
    the cache holds it, so its id stays unique) and computed afresh for a writable one."""
    if w.flags.writeable:
        return _norm2(w if rows is None else w[rows])
    key = (id(w), b"" if rows is None else np.asarray(rows, bool).tobytes())
    hit = _NORMS.get(key)
    if hit is None or hit[1] is not w:
        hit = (_norm2(w if rows is None else w[rows]), w)
        if len(_NORMS) >= 16:
            _NORMS.pop(next(iter(_NORMS)))
        _NORMS[key] = hit
    return hit[0]


# --------------------------------------------------------------------------------------------
# Fixed activation pattern: G is affine in z there
# --------------------------------------------------------------------------------------------

#: the fast path of :func:`_descend` is used (tests switch it off to compare the two)
_AFFINE_PATH = True

#: rows per build of the affine maps (bounds the memory of the stacked ``B_i``)
_BUILD_ROWS = 64

#: ``precision="mixed"``: a row's passes are float32 while ``||mask (G(z) - y)||`` is at least
#: this times ``||mask y||`` -- float32 rounds at ~6e-8 relative, so its error in the residual
#: stays ~1e-3 of the residual itself (on the 20-128-392-784 net 99.7% of the passes outside
#: the balls are above it, issue 18)
_COARSE_UNTIL = 1e-4


class _PieceTable:
    """An activation's linear pieces as float arrays, read once per net (not per iteration).

    :meth:`piece` is the index into ``act.regions`` of the piece each pre-activation lies on
    (int8), with the tie at a breakpoint broken as :meth:`~theorychk.network.Activation.derivative`
    breaks it (ReLU'(0) = 0, PLU'(±c) = 1), so that the slope of the piece is the derivative
    gradient descent uses: breakpoint ``b_j`` counts to its right piece exactly when the
    derivative there is the right piece's slope and not the left one's, and the index is the
    number of breakpoints below (or at, for those) the pre-activation.
    """

    def __init__(self, act: Activation) -> None:
        regions = act.regions
        self.slopes = np.array([float(p.slope) for p in regions])
        self.offsets = np.array([float(p.offset) for p in regions])
        self.bps = np.asarray(act.breakpoints, dtype=float)
        d = act.derivative(self.bps) if self.bps.size else np.empty(0)
        self.right = [bool(d[j] != self.slopes[j] and d[j] == self.slopes[j + 1]) for j in range(self.bps.size)]
        #: the slopes for a float32 backward pass (``precision="mixed"``)
        self.slopes32 = self.slopes.astype(np.float32)
        #: slopes (0, 1), as ReLU's: a piece's slope is its index, a cast instead of a table look-up
        self._step = bool(np.array_equal(self.slopes, [0.0, 1.0]))
        # Python floats compare in the array's own precision (a float32 pass does not upcast)
        self._bps = [float(b) for b in self.bps]

    def piece(self, pre: np.ndarray) -> np.ndarray:
        # the comparisons' booleans are 0 / 1 bytes: viewed as int8 they are the counts, no
        # zero-filled array and no casting add (a third of a float32 iteration's elementwise work)
        idx = None
        for b, right in zip(self._bps, self.right, strict=True):
            hit = ((pre >= b) if right else (pre > b)).view(np.int8)
            if idx is None:
                idx = hit
            else:
                idx += hit
        return np.zeros(pre.shape, np.int8) if idx is None else idx

    def slope(self, piece: np.ndarray, dtype: type = np.float64) -> np.ndarray:
        """The slope of each entry's piece in ``dtype`` (float32 for a float32 backward pass)."""
        if self._step:
            return piece.astype(dtype)
        return np.take(self.slopes32 if dtype is np.float32 else self.slopes, piece)

    def on_piece(self, piece: np.ndarray, pre: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(slope, offset, margin)``: ``act(pre) = slope * pre + offset`` on the piece, and
        ``margin`` is the distance from ``pre`` to the nearest breakpoint."""
        if self.bps.size == 0:
            return self.slopes[piece], self.offsets[piece], np.full_like(pre, np.inf)
        margin = np.abs(pre - self.bps[0])
        for b in self.bps[1:]:
            np.minimum(margin, np.abs(pre - b), out=margin)
        return self.slopes[piece], self.offsets[piece], margin


def _affine_path(net: Network) -> bool:
    """The fast path applies: every activation piecewise linear, and ``k`` below every width (else
    a build of the maps costs more than the iterations it saves)."""
    return (_AFFINE_PATH and all(a.piecewise_linear for a in net.activations)
            and net.latent_dim < min(net.widths[1:]))


class _Backprop:
    """Loss and gradient of every row by a forward and a backward pass (any activation), float64."""

    #: no row's loss or gradient is a float32 number
    coarse = None

    def __init__(self, net: Network) -> None:
        self.net = net

    def __call__(self, z: np.ndarray, y: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        loss, grad = _loss_and_gradient(self.net, z, y, m)
        return loss, grad, None

    def keep(self, keep: np.ndarray) -> None:
        pass


class _AffinePieces:
    """Loss and gradient of every row, cheap while the row's activation pattern stays fixed.

    On one activation region a piecewise-linear ``G`` is affine in ``z``: layer ``i``'s
    pre-activation is ``B_i z + d_i`` and the output ``A z + c``, so there

        f(z) = 1/2 z^T Q z + q^T z + r0,   grad f(z) = Q z + q,
        Q = A^T M A,  q = A^T M (c - y),  r0 = 1/2 ||mask (c - y)||^2   (M = mask^2),

    ``k^2`` multiply-adds per iteration instead of a forward and a backward pass. A row is on
    its region while every pre-activation stays on its piece; from a point ``z_s`` where unit
    ``j`` of layer ``i`` is at distance ``margin_j`` from its nearest breakpoint, it stays there
    for every ``z`` with ``||z - z_s|| < margin_j / ||B_i[j]||`` (Cauchy-Schwarz). The row's
    *ball* is the smallest of these radii (each margin shrunk by ``1e-9 (1 + |pre|)``, so that
    the forward pass, which rounds, would also see the same pieces). Per iteration and row:

    * inside its ball: ``Q z + q`` (and the loss from the quadratic form, replaced by the exact
      one at the end, :func:`_descend`);
    * otherwise: a forward pass, its pieces compared with the stored pattern -- the tests the
      plain path makes. On the same region: the gradient ``Q z + q`` and a new ball around ``z``.
      On another (or no maps yet): backpropagation, as the plain path.

    A row gets its maps once its pattern has held for ``k // 2`` iterations (``k`` with
    ``precision="mixed"``): a build costs ``sum_i n_i n_{i+1} k`` multiply-adds in float64, an
    ordinary iteration about ``2 sum_i n_i n_{i+1}`` (at about twice the rate in float32), so a
    build thrown away when the pattern changes at once costs at most as much as the iterations
    spent waiting for it (rent-or-buy). While gradient descent wanders across
    regions (the first ~150 iterations on the 20-128-392-784 net), rows pay the plain price.

    ``precision="mixed"``: while a row's residual ``||mask (G(z) - y)||`` is above
    :data:`_COARSE_UNTIL` times ``||mask y||``, its forward and backward passes outside its ball
    run in float32 (weights cast once per net), about twice the throughput of float64 -- the
    rounding (~1e-7 relative) is then thousands of times below the residual that drives the
    step. Everything that decides or claims is float64: a row's pattern is confirmed by a float64
    forward pass before its maps are built or its ball re-centred (the margins, ``Q, q`` and
    the polish are float64), a row whose residual falls below the threshold goes on in float64,
    and :func:`_descend` re-evaluates in float64 any row it would stop (or call diverged) on
    float32 numbers and every float32 loss and gradient norm it reports. ``"float64"``: every
    pass in float64, the iterates of the plain path up to rounding.
    """

    def __init__(self, net: Network, y: np.ndarray, m: np.ndarray, *, precision: str = "float64") -> None:
        rows, k = y.shape[0], net.latent_dim
        self.net = net
        # rent-or-buy: a build costs k sum_i n_i n_{i+1} float64 multiply-adds, an iteration
        # 2 sum_i n_i n_{i+1}, in float32 about half that
        self.patience = max(1, k if precision == "mixed" else k // 2)
        self.pattern = [np.full((rows, n), -2, np.int8) for n in net.widths[1:]]
        self.stable = np.zeros(rows, np.int64)
        self.ball = np.zeros(rows, bool)
        self.center = np.zeros((rows, k))
        self.radius = np.zeros(rows)
        self.Q = np.zeros((rows, k, k))
        self.q = np.zeros((rows, k))
        self.r0 = np.zeros(rows)
        self.bnorm = [np.zeros((rows, n)) for n in net.widths[1:]]
        self.tables = [_PieceTable(act) for act in net.activations]
        #: rows whose maps were built by the last call (their pattern just held ``patience`` times)
        self.fresh = np.zeros(rows, bool)
        self.single = _single_layers(net) if precision == "mixed" else None
        #: rows still iterating in float32 outside their ball, and the residual that ends it
        self.low = np.full(rows, self.single is not None)
        self.until = _COARSE_UNTIL * np.linalg.norm(m * y, axis=1)
        if self.single is not None:
            self.y32 = y.astype(np.float32)
            self.m32 = None if np.all(m == 1.0) else m.astype(np.float32)
        #: rows whose loss and gradient from the last call are float32 numbers
        self.coarse = np.zeros(rows, bool)

    def keep(self, keep: np.ndarray) -> None:
        for name in ("stable", "ball", "center", "radius", "Q", "q", "r0", "low", "until"):
            setattr(self, name, getattr(self, name)[keep])
        self.pattern = [p[keep] for p in self.pattern]
        self.bnorm = [b[keep] for b in self.bnorm]
        if self.single is not None:
            self.y32 = self.y32[keep]
            self.m32 = None if self.m32 is None else self.m32[keep]

    def refine(self, rows: np.ndarray) -> None:
        """``rows`` go on in float64 (:func:`_descend` re-evaluated them there)."""
        self.low[rows] = False
        self.coarse[rows] = False

    def __call__(self, z: np.ndarray, y: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(loss, gradient, quadratic)``: ``quadratic`` marks the losses from the quadratic form."""
        rows = z.shape[0]
        loss = np.empty(rows)
        grad = np.empty_like(z)
        self.fresh = np.zeros(rows, bool)
        self.coarse = np.zeros(rows, bool)
        inside = self.ball & (np.linalg.norm(z - self.center, axis=1) < self.radius)
        if inside.any():
            zi, qi = z[inside], self.q[inside]
            g = np.einsum("rkl,rl->rk", self.Q[inside], zi) + qi
            grad[inside] = g
            loss[inside] = 0.5 * np.einsum("rk,rk->r", zi, g + qi) + self.r0[inside]
        out = ~inside
        for single in (True, False):
            part = np.flatnonzero(out & (self.low if single else ~self.low))
            if part.size:
                self._outside(part, z, y, m, loss, grad, single)
        # the residual is small enough for float32's rounding to matter: float64 from now on
        self.low &= ~(np.sqrt(2.0 * np.where(out, loss, np.inf)) < self.until)
        return loss, grad, inside

    def _outside(self, out: np.ndarray, z: np.ndarray, y: np.ndarray, m: np.ndarray,
                 loss: np.ndarray, grad: np.ndarray, single: bool) -> None:
        """Rows ``out`` of ``z, y, m`` (all the rows in one call): a forward pass in float32 or
        float64 (``single``), their pieces against the stored pattern, then backpropagation or
        the quadratic (see the class docstring)."""
        every = out.size == z.shape[0]  # then no row copies

        def rows(a: np.ndarray) -> np.ndarray:
            return a if every else a[out]

        z = rows(z)
        if single:
            layers = self.single
            pres, x = _forward(self.net, z.astype(np.float32), layers)
            r = x - rows(self.y32)  # float32, as the backward pass takes it
            if self.m32 is not None:
                r *= rows(self.m32)
            loss[out] = 0.5 * np.einsum("ij,ij->i", r, r, dtype=np.float64)
        else:
            layers = None
            pres, x = _forward(self.net, z)
            r = rows(m) * (x - rows(y))
            loss[out] = 0.5 * np.einsum("ij,ij->i", r, r)
        tables = self.tables
        pieces = [t.piece(p) for t, p in zip(tables, pres, strict=True)]
        same = np.ones(out.size, bool)
        for i, pc in enumerate(pieces):
            same &= (pc == rows(self.pattern[i])).all(axis=1)
            if every:
                self.pattern[i] = pc
            else:
                self.pattern[i][out] = pc
        had = self.ball[out]
        self.stable[out] = np.where(same, self.stable[out] + 1, 0)
        recenter = had & same
        build = ~had & (self.stable[out] >= self.patience) & np.isfinite(loss[out])
        now = recenter | build
        if single and now.any():
            # the ball, the maps and the polish rest on float64 pre-activations: confirm the
            # pattern there (a unit within float32's rounding of a breakpoint may disagree)
            idx = np.flatnonzero(now)
            p64, x64 = _forward(self.net, z[idx])
            agree = np.ones(idx.size, bool)
            for t, p, pc in zip(tables, p64, pieces, strict=True):
                agree &= (t.piece(p) == pc[idx]).all(axis=1)
            r64 = m[out[idx]] * (x64 - y[out[idx]])
            loss[out[idx]] = 0.5 * np.einsum("ij,ij->i", r64, r64)
            now[idx[~agree]] = False
            recenter &= now
            build &= now
            pres_now = [p[agree] for p in p64]
        else:
            pres_now = [p[now] for p in pres]
        self.ball[out[had & ~recenter]] = False
        plain = ~now
        if plain.any():
            # the slope of a row's tie-broken piece is the derivative backpropagation uses
            all_plain = bool(plain.all())

            def sub(a: np.ndarray) -> np.ndarray:
                return a if all_plain else a[plain]

            dtype = np.float32 if single else np.float64
            slopes = [t.slope(sub(pc), dtype) for t, pc in zip(tables, pieces, strict=True)]
            grad[out[plain]] = _backprop(self.net, [sub(p) for p in pres], sub(r), slopes, layers)
            if single:
                self.coarse[out[plain]] = True
        self.fresh[out[build]] = True
        if not now.any():
            return
        sel = out[now]
        linear = [t.on_piece(pc[now], p) for t, pc, p in zip(tables, pieces, pres_now, strict=True)]
        part = np.flatnonzero(build[now])
        for a in range(0, part.size, _BUILD_ROWS):
            at = part[a:a + _BUILD_ROWS]
            self._build(sel[at], [(sl[at], off[at]) for sl, off, _ in linear], y[sel[at]], m[sel[at]])
        # on the row's region (confirmed above): its gradient is the quadratic's
        grad[sel] = np.einsum("rkl,rl->rk", self.Q[sel], z[now]) + self.q[sel]
        radius = np.full(sel.size, np.inf)
        for i, ((_, _, margin), p) in enumerate(zip(linear, pres_now, strict=True)):
            margin = margin - 1e-9 * (1.0 + np.abs(p))
            norm = self.bnorm[i][sel]
            ratio = np.divide(margin, norm, out=np.where(margin > 0, np.inf, 0.0), where=norm > 0)
            radius = np.minimum(radius, ratio.min(axis=1))
        self.center[sel] = z[now]
        self.radius[sel] = np.maximum(radius, 0.0)
        self.ball[sel] = True

    def _build(self, rows: np.ndarray, pieces: list[tuple[np.ndarray, np.ndarray]], y: np.ndarray,
               m: np.ndarray) -> None:
        """``Q, q, r0`` and the row norms of every ``B_i`` for ``rows`` at their current pieces."""
        layers = self.net.layers
        b, k = rows.size, self.net.latent_dim
        bt = np.broadcast_to(layers[0].weight[:, None, :], (layers[0].n_out, b, k))  # B_1 = W_1, stacked (n, b, k)
        d = np.broadcast_to(layers[0].bias, (b, layers[0].n_out))
        for i, (slope, offset) in enumerate(pieces):
            self.bnorm[i][rows] = np.sqrt(np.einsum("nrk,nrk->rn", bt, bt))
            bt = bt * slope.T[:, :, None]
            d = slope * d + offset
            if i + 1 < len(layers):
                w = layers[i + 1].weight
                bt = (w @ bt.reshape(w.shape[1], b * k)).reshape(w.shape[0], b, k)
                d = _times(d, w.T) + layers[i + 1].bias
        a = bt.transpose(1, 0, 2)  # (b, n_L, k): A per row
        msq = m * m
        self.Q[rows] = a.transpose(0, 2, 1) @ (a * msq[:, :, None])
        e = d - y
        self.q[rows] = np.einsum("rnk,rn->rk", a, msq * e)
        self.r0[rows] = 0.5 * np.einsum("rn,rn->r", m * e, m * e)

    def polish(self, rows: np.ndarray, z: np.ndarray, grad: np.ndarray, y: np.ndarray,
               m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The minimiser of each row's quadratic, checked as the plain path checks a point.

        ``z* = z - Q^{-1} grad`` is the least-squares solution on the active rows of the row's
        current pattern (one Newton step on the quadratic). It counts only where a forward pass
        at ``z*`` finds the row's stored pieces again (so ``f`` there is the quadratic, and
        ``z*`` is the minimiser of ``f`` over the region) -- the caller then applies the
        method's own stopping rule to the backpropagated gradient. Returns ``(ok, z*, loss,
        gradient)``; ``ok`` is False where ``Q`` is singular or the pattern differs.
        """
        ok = np.ones(rows.size, bool)
        q = self.Q[rows]
        try:
            step = np.linalg.solve(q, grad[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # some Q singular: a region with no unique minimiser
            step = np.zeros_like(grad)
            for j in range(rows.size):
                try:
                    step[j] = np.linalg.solve(q[j], grad[j])
                except np.linalg.LinAlgError:
                    ok[j] = False
        zs = z - step
        with np.errstate(over="ignore", invalid="ignore"):
            pres, x = _forward(self.net, zs)
        r = m * (x - y)
        loss = 0.5 * np.einsum("ij,ij->i", r, r)
        pieces = [t.piece(p) for t, p in zip(self.tables, pres, strict=True)]
        for i, pc in enumerate(pieces):
            ok &= (pc == self.pattern[i][rows]).all(axis=1)
        ok &= np.isfinite(loss)
        grad_s = _backprop(self.net, pres, r, [t.slope(pc) for t, pc in zip(self.tables, pieces, strict=True)])
        return ok, zs, loss, grad_s


@dataclass(frozen=True)
class DescentRun:
    """Batched result of :func:`gradient_descent`: one row per signal (the kept restart)."""

    latent: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    diverged: np.ndarray
    restart: np.ndarray
    timed_out: bool
    step: float
    total_iterations: int
    #: per signal: the time limit stopped one of its restarts (``timed_out``: any signal's)
    cut: np.ndarray
    #: per signal: iterations summed over its restarts (``total_iterations`` sums these)
    row_iterations: np.ndarray
    #: per signal: the kept restart stopped at its region's least-squares point (``polish``)
    polished: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    info: dict[str, Any] = field(default_factory=dict)


def _descend(
    net: Network,
    z: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    *,
    step: float,
    iterations: int,
    momentum: float,
    decay: float,
    optimizer: str,
    grad_tol: float,
    deadline: Deadline | RowBudget,
    check_every: int,
    polish: bool = False,
    precision: str = "float64",
) -> tuple[np.ndarray, ...]:
    """Run every row of ``z`` independently; rows that stop are frozen and dropped at checks.

    A row's trajectory and stopping do not depend on the other rows (the stopping rules are per
    row), so a row gives what it gives alone, up to the rounding of the batched products. At
    each check ``deadline`` names the rows out of time (:class:`RowBudget`: per row; a
    :class:`Deadline`: all at once); they stop where they are (the last array returned).
    """
    rows = z.shape[0]
    z = z.copy()
    loss_out = np.full(rows, np.inf)
    gnorm_out = np.full(rows, np.inf)
    iters_out = np.full(rows, iterations, dtype=np.int64)
    conv_out = np.zeros(rows, dtype=bool)
    div_out = np.zeros(rows, dtype=bool)
    cut_out = np.zeros(rows, dtype=bool)
    active = np.arange(rows)
    za, ya, ma = z, y, mask
    vel = np.zeros_like(z)
    sq = np.zeros_like(z)  # Adam's second moment
    frozen = np.zeros(rows, dtype=bool)
    b1, b2, eps = 0.9, 0.999, 1e-8
    evaluate: _Backprop | _AffinePieces = (_AffinePieces(net, y, mask, precision=precision) if _affine_path(net)
                                           else _Backprop(net))
    quad_out = np.zeros(rows, dtype=bool)  # the recorded loss came from a quadratic form, at quad_at
    quad_at = np.zeros_like(z)
    coarse_out = np.zeros(rows, dtype=bool)  # the recorded loss and gradient norm are float32 numbers, at coarse_at
    coarse_at = np.zeros_like(z)
    polished = np.zeros(rows, dtype=bool)  # stopped at the minimiser of their region's quadratic
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(iterations + 1):
            if k % check_every == 0:
                live = ~frozen
                late = np.zeros_like(frozen)
                late[live] = deadline.rows_expired(active[live])
                if late.any():
                    cut_out[active[late]] = True
                    iters_out[active[late]] = k
                    frozen |= late
            # compact at once, not at the next check: a stopped row would otherwise pay up to
            # check_every more forward passes (a polished row's z* is rarely inside its ball)
            if frozen.any():  # write frozen rows back and drop them
                z[active[frozen]] = za[frozen]
                keep = ~frozen
                active, za, ya, ma = active[keep], za[keep], ya[keep], ma[keep]
                vel, sq, frozen = vel[keep], sq[keep], frozen[keep]
                evaluate.keep(keep)
            if active.size == 0:
                break
            loss, grad, quad = evaluate(za, ya, ma)
            gnorm = np.linalg.norm(grad, axis=1)
            live = ~frozen
            coarse = evaluate.coarse
            if coarse is not None:
                # never stop a row, nor call it diverged, on float32 numbers: float64 decides
                recheck = np.flatnonzero(live & coarse & ~(np.isfinite(loss) & (gnorm > grad_tol)))
                if recheck.size:
                    loss[recheck], grad[recheck] = _loss_and_gradient(net, za[recheck], ya[recheck], ma[recheck])
                    gnorm[recheck] = np.linalg.norm(grad[recheck], axis=1)
                    evaluate.refine(recheck)
                coarse_out[active[live]] = coarse[live]
                coarse_at[active[live & coarse]] = za[live & coarse]
            loss_out[active[live]] = loss[live]
            if quad is not None:
                quad_out[active[live]] = quad[live]
                quad_at[active[live & quad]] = za[live & quad]
            gnorm_out[active[live]] = gnorm[live]
            bad = live & ~(np.isfinite(loss) & np.isfinite(gnorm))
            done = live & (gnorm <= grad_tol)
            if polish and quad is not None:
                try_ = np.flatnonzero(live & ~bad & ~done & evaluate.fresh)
                if try_.size:
                    ok, zs, lz, gz = evaluate.polish(try_, za[try_], grad[try_], ya[try_], ma[try_])
                    gzn = np.linalg.norm(gz, axis=1)
                    # the method's own stop (gradient norm at the point, by backpropagation), and
                    # no worse than where the row is: then the row stops at z*
                    ok &= (gzn <= grad_tol) & (lz <= loss[try_] * (1.0 + 1e-9) + 1e-300)
                    hit = try_[ok]
                    if hit.size:
                        za[hit] = zs[ok]
                        loss[hit], gnorm[hit] = lz[ok], gzn[ok]
                        loss_out[active[hit]], gnorm_out[active[hit]] = lz[ok], gzn[ok]
                        quad_out[active[hit]] = False
                        coarse_out[active[hit]] = False
                        polished[active[hit]] = True
                        done[hit] = True
            if bad.any() or done.any():
                div_out[active[bad]] = True
                loss_out[active[bad]] = np.inf
                conv_out[active[done]] = True
                iters_out[active[bad | done]] = k
                frozen |= bad | done
                live = ~frozen
            if k == iterations:
                break
            lr = step * decay**k
            grad = np.where(live[:, None], grad, 0.0)
            if optimizer == "adam":
                vel = b1 * vel + (1 - b1) * grad
                sq = b2 * sq + (1 - b2) * grad * grad
                upd = (vel / (1 - b1 ** (k + 1))) / (np.sqrt(sq / (1 - b2 ** (k + 1))) + eps)
            else:  # heavy ball, as torch.optim.SGD(momentum=m, dampening=0)
                vel = momentum * vel + grad
                upd = vel
            za = za - lr * np.where(live[:, None], upd, 0.0)
    if active.size:
        z[active] = za
    # a loss from the quadratic form cancels large terms near a minimum: report the exact one
    fix = np.flatnonzero(quad_out & np.isfinite(loss_out))
    if fix.size:
        r = mask[fix] * (_forward(net, quad_at[fix])[1] - y[fix])
        loss_out[fix] = 0.5 * np.einsum("ij,ij->i", r, r)
    # and a float32 loss and gradient norm (a row cut by the time or the iteration limit)
    fix = np.flatnonzero(coarse_out)
    if fix.size:
        with np.errstate(over="ignore", invalid="ignore"):
            loss_fix, grad_fix = _loss_and_gradient(net, coarse_at[fix], y[fix], mask[fix])
        loss_out[fix], gnorm_out[fix] = loss_fix, np.linalg.norm(grad_fix, axis=1)
    return z, loss_out, gnorm_out, iters_out, conv_out, div_out, cut_out, polished


def _init(net: Network, init: object, batch: int) -> np.ndarray:
    """The start of restart 0: a finite vector ``(n_0,)`` for every signal, or ``(batch, n_0)``."""
    arr = np.asarray(init, dtype=float) if isinstance(init, (list, tuple, np.ndarray)) else np.empty(0)
    if arr.shape not in ((net.latent_dim,), (batch, net.latent_dim)) or not np.all(np.isfinite(arr)):
        raise invalid("init", f"a finite vector of length {net.latent_dim} (or one per signal)", init)
    return np.broadcast_to(arr, (batch, net.latent_dim))


@validate_params(_GD_PARAMS)
def gradient_descent(
    net: Network,
    signals: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    rng: np.random.Generator | Sequence[np.random.Generator],
    restarts: int = 1,
    init: np.ndarray | None = None,
    step: float | None = None,
    iterations: int = 10_000,
    momentum: float = 0.0,
    decay: float = 1.0,
    optimizer: str = "sgd",
    grad_tol: float = 1e-9,
    deadline: Deadline | RowBudget | None = None,
    check_every: int = 50,
    polish: bool = True,
    precision: str = "mixed",
) -> DescentRun:
    """Gradient descent on ``1/2 ||(G(z) - y)[mask]||^2`` for a batch of signals at once.

    Parameters
    ----------
    net : Network
    signals : array ``(batch, n)``
    mask : boolean array ``(n,)`` or ``(batch, n)``, optional
    rng : numpy.random.Generator, or one per signal
        Draws the ``restarts`` starting points per signal from ``N(0, I)``. With one generator
        per signal, signal ``i``'s starts come from ``rng[i]`` alone, so its result is the one
        it gets run alone with that generator (up to the rounding of batched products): what
        :func:`~theorychk.solvers.invert_batch` relies on.
    restarts : int
        Random starts per signal; the one with the lowest final loss is kept (losses within a
        relative ``1e-6`` of the lowest, or below ``1e-24 ||y||^2``, tie: the earliest wins).
    init : array ``(n_0,)`` or ``(batch, n_0)``, optional
        Use this start for restart 0 instead of a random one.
    step, iterations, momentum, decay, optimizer, grad_tol
        See the module docstring. ``optimizer`` is ``"sgd"`` (heavy-ball ``momentum``) or
        ``"adam"`` (betas 0.9, 0.999, eps 1e-8; ``momentum`` ignored; default step 1e-2).
    deadline : Deadline or RowBudget, optional
        A :class:`~theorychk.runtime.RowBudget` over the signals stops each signal's restarts
        when its share of the time runs out (``cut``), the others go on; a Deadline stops all.
    check_every : int
        Iterations between deadline checks (stopped rows are dropped from the batch at once).
    polish : bool
        Piecewise-linear nets with ``k`` below every width: at each build of a row's quadratic
        model, try its minimiser ``z*`` and stop there if ``z*`` lies on the same activation
        pattern, meets ``grad_tol`` by backpropagation and has no larger loss (see the module
        docstring). ``False``: the pure iteration.
    precision : {"mixed", "float64"}
        Piecewise-linear nets with ``k`` below every width: ``"mixed"`` (the default) runs the
        forward and backward passes of a row far from its signal (residual above ``1e-4`` of
        ``||mask y||``) in float32 and everything that stops, ranks or reports a row in float64
        (see :class:`_AffinePieces`); ``"float64"`` runs every pass in float64. Other nets: float64.

    Examples
    --------
    >>> from theorychk.network import Layer, Network
    >>> net = Network([Layer(np.array([[1.0], [2.0]]), None, "identity")])
    >>> run = gradient_descent(net, np.array([[1.0, 2.0]]), rng=np.random.default_rng(0))
    >>> bool(run.converged[0]), round(float(run.latent[0, 0]), 6)
    (True, 1.0)
    """
    y = validate_signals(net, np.atleast_2d(signals))
    batch, n = y.shape
    m = validate_masks(net, mask, batch).astype(float)
    deadline = deadline if deadline is not None else Deadline(None)
    if step is None:
        step = 1e-2 if optimizer == "adam" else default_step(net, m > 0)
    if isinstance(rng, np.random.Generator):
        starts = rng.standard_normal((batch, restarts, net.latent_dim))
    else:
        if len(rng) != batch:
            raise InvalidInput(f"rng must be one generator or one per signal ({batch}); got {len(rng)}",
                               argument="rng", got=rng)
        starts = np.array([g.standard_normal((restarts, net.latent_dim)) for g in rng]).reshape(
            batch, restarts, net.latent_dim)
    if init is not None:
        starts[:, 0] = _init(net, init, batch)
    z0 = starts.reshape(batch * restarts, net.latent_dim)
    rep_y = np.repeat(y, restarts, axis=0)
    rep_m = np.repeat(m, restarts, axis=0)
    z, loss, gnorm, iters, conv, div, cut, polished = _descend(
        net, z0, rep_y, rep_m, step=step, iterations=iterations, momentum=momentum, decay=decay,
        optimizer=optimizer, grad_tol=grad_tol, check_every=check_every, polish=polish, precision=precision,
        # a signal's restarts share its time
        deadline=deadline.for_rows(np.repeat(np.arange(batch), restarts)),
    )
    shape = (batch, restarts)
    loss_b = loss.reshape(shape)
    ranked = np.where(np.isfinite(loss_b), loss_b, np.inf)
    # Restarts that reach the same minimum end with losses equal up to the rounding of their
    # descents (and of the BLAS products, which round differently for different batch sizes):
    # telling them apart would pick a restart by rounding noise, so a near tie goes to the
    # earliest restart, and a signal keeps the same restart alone or in any batch.
    low = ranked.min(axis=1, keepdims=True)
    scale = np.einsum("ij,ij->i", m * y, m * y)[:, None]
    best = np.argmax(ranked <= low * (1.0 + _TIE) + 1e-24 * scale, axis=1)
    pick = np.arange(batch) * restarts + best
    return DescentRun(
        latent=z.reshape(batch * restarts, -1)[pick],
        loss=loss[pick],
        grad_norm=gnorm[pick],
        iterations=iters[pick],
        converged=conv[pick],
        diverged=div.reshape(shape).all(axis=1),
        restart=best,
        timed_out=bool(cut.any()),
        step=float(step),
        total_iterations=int(iters.sum()),
        cut=cut.reshape(shape).any(axis=1),
        row_iterations=iters.reshape(shape).sum(axis=1),
        polished=polished[pick],
    )


# --------------------------------------------------------------------------------------------
# The registered method
# --------------------------------------------------------------------------------------------

_GD_DEFAULTS: dict[str, Any] = {
    "step": None,
    "iterations": 10_000,
    "momentum": 0.0,
    "decay": 1.0,
    "restarts": 1,
    "optimizer": "sgd",
    "grad_tol": 1e-9,
    "init": None,
    "check_every": 50,
    "polish": True,
    "precision": "mixed",
}

#: options of method ``gd``: those of :func:`gradient_descent`, but ``step`` may list a grid
_GD_OPTIONS: dict[str, ConstraintSpec] = {
    **_GD_PARAMS, "step": [POSITIVE, ListOf(POSITIVE, min_length=1), None], "init": [ArrayLike, None],
}


def _gd_options(options: Mapping[str, Any]) -> dict[str, Any]:
    opts = {**_GD_DEFAULTS, **check_options(options, _GD_OPTIONS, method="gd")}
    steps = opts["step"]
    opts["step"] = (None,) if steps is None else tuple(sorted(steps if isinstance(steps, list) else [steps]))
    return opts


class GradientDescent:
    """Method ``gd``: the gradient-descent baseline of [1] Section 6 and [2] Section 5.

    Options (``invert(..., method="gd", **options)``): ``step`` (number, list of numbers tried
    in increasing order as in [1] Section 6.1, or ``None`` for the curvature bound),
    ``iterations`` (10,000), ``momentum`` (0; [1] Section 6.2 uses 0.9), ``decay`` (1),
    ``restarts`` (1), ``optimizer`` (``"sgd"`` or ``"adam"``), ``grad_tol`` (1e-9), ``init``
    (start of restart 0), ``check_every`` (50), ``polish`` (True: finish on the last region by
    one checked least-squares solve; False: the pure iteration), ``precision`` (``"mixed"``: float32
    passes far from the signal, float64 decisions; ``"float64"``). ``noise`` is not used. Masks: yes (the loss sums
    over observed coordinates only). Every activation of :mod:`theorychk.network` is supported.

    Batched (:meth:`run_batch`): many signals go through one :func:`gradient_descent` call per
    step, each drawing its starts from its own generator and stopping by its own rules, so each
    gets what :meth:`run` gives it alone; the time limit applies to each signal on its own.

    References
    ----------
    .. [1] Aberdam, Simon, Elad (2020), Sections 6.1 and 6.2.
    .. [2] Lei, Jalal, Dhillon, Dimakis (2019), Section 5.
    """

    name = "gd"
    summary = "gradient descent on 1/2||G(z)-y||^2 from random N(0,I) starts (baseline of both papers)"
    supports_mask = True
    #: the options and their constraints (read by :func:`~theorychk.solvers.base.prepare`)
    option_constraints = _GD_OPTIONS
    #: signals per call when a batch is inverted in chunks (:mod:`theorychk.solvers.batch`): the
    #: float32 products stream the weights once per iteration for the whole chunk, so the cost
    #: per signal falls with its size -- 20-128-392-784 net, 200 signals, momentum 0.9, one
    #: thread: 9.1 / 7.6 / 7.7 / 6.6 ms CPU per signal in calls of 64 / 100 / 128 / 200 (issue 18)
    batch_rows = 256

    def check(self, net: Network) -> None:
        check_differentiable(net, self.name)

    def run(self, problem: Problem) -> Inversion:
        return _invert_rows(problem.net, problem.y[None, :], problem.mask, (problem.rng,), problem.deadline,
                            problem.options)[0]

    def run_batch(self, problems: BatchProblem) -> list[Inversion]:
        """Every signal in one :func:`gradient_descent` call per step of the grid (see :meth:`run`)."""
        return _invert_rows(problems.net, problems.y, problems.mask, problems.rngs, problems.budget,
                            problems.options)


def _invert_rows(
    net: Network, y: np.ndarray, mask: np.ndarray, rngs: Sequence[np.random.Generator],
    deadline: Deadline | RowBudget, options: Mapping[str, Any],
) -> list[Inversion]:
    """Method ``gd`` on the rows of ``y``, row ``i`` drawing its starts from ``rngs[i]`` only.

    The step grid is walked per row: a row goes on to the next step only if its kept restart
    neither met the gradient-norm rule nor ran out of time, and then draws fresh starts from
    its own generator -- exactly what the row does alone.
    """
    opts = _gd_options(options)
    init = opts["init"]  # checked by gradient_descent
    batch = y.shape[0]
    tried: list[list[tuple[DescentRun, int]]] = [[] for _ in range(batch)]  # per row: (run, its row there)
    chosen: list[tuple[DescentRun, int] | None] = [None] * batch
    todo = np.arange(batch)
    for step in opts["step"]:
        if todo.size == 0:
            break
        run = gradient_descent(
            net, y[todo], mask=mask, rng=[rngs[int(i)] for i in todo], restarts=opts["restarts"], init=init,
            step=step, iterations=opts["iterations"], momentum=opts["momentum"], decay=opts["decay"],
            optimizer=opts["optimizer"], grad_tol=opts["grad_tol"], deadline=deadline.for_rows(todo),
            check_every=opts["check_every"], polish=opts["polish"], precision=opts["precision"],
        )
        stop = run.converged | run.cut
        for j, i in enumerate(todo):
            tried[i].append((run, j))
            if stop[j]:
                chosen[i] = (run, j)
        todo = todo[~stop]
    return [_inversion(chosen[i] or _lowest_loss(tried[i]), tried[i], opts) for i in range(batch)]


def _lowest_loss(tried: list[tuple[DescentRun, int]]) -> tuple[DescentRun, int]:
    # no step met the gradient-norm rule: keep the lowest finite loss (the first on a tie)
    return min(tried, key=lambda rj: (not np.isfinite(rj[0].loss[rj[1]]), rj[0].loss[rj[1]]))


def _inversion(
    pick: tuple[DescentRun, int], tried: list[tuple[DescentRun, int]], opts: dict[str, Any]
) -> Inversion:
    run, j = pick
    if run.cut[j]:
        # some restart of this signal ran out of time: even if the kept one met the rule, the cut
        # one might have ended lower and been kept instead (as it is when the signal runs alone)
        status, reason = InversionStatus.UNKNOWN, Reason.TIME_LIMIT
    elif run.converged[j]:
        status, reason = InversionStatus.SOLVED, ""
    elif run.diverged[j]:
        status, reason = InversionStatus.UNKNOWN, Reason.DIVERGED
    else:
        status, reason = InversionStatus.UNKNOWN, Reason.ITERATION_LIMIT
    # a diverged run's last point has an overflowing loss: it is no estimate
    latent = None if run.diverged[j] or not np.all(np.isfinite(run.latent[j])) else run.latent[j]
    return Inversion(
        method=GradientDescent.name,
        status=status,
        latent=latent,
        reason=reason,
        counts={
            "iterations": int(run.iterations[j]),
            "restarts": opts["restarts"],
            "steps_tried": len(tried),
            "iterations_total": int(sum(r.row_iterations[k] for r, k in tried)),
        },
        info={
            "step": run.step,
            "optimizer": opts["optimizer"],
            "momentum": opts["momentum"],
            "decay": opts["decay"],
            "grad_tol": opts["grad_tol"],
            "loss": float(run.loss[j]),
            "grad_norm": float(run.grad_norm[j]),
            "restart_kept": int(run.restart[j]),
            "polished": bool(run.polished[j]),
            "precision": opts["precision"],
        },
    )


register(GradientDescent())
