"""Layer-wise pursuits of Aberdam, Simon and Elad [1]: methods ``lbp``, ``latent`` and ``oracle``.

The generator of [1] (Equation 3) is ``x_1 = ReLU(W_0 z)``, ``x_{i+1} = ReLU(W_i x_i)``,
``G(z) = phi(W_L x_L)`` with ``W_i in R^{n_{i+1} x n_i}`` and ``phi`` invertible. Every hidden
layer is the ReLU of a matrix times a sparse vector, so the net is inverted by sparse coding
one layer at a time, from the image back to ``z``.

Layer indices
-------------
The text of [1] used here (``papers/004``, Equation 3) counts layers from the *latent* side, as
theorychk does: paper ``W_i`` is ``net.layers[i].weight`` (shape ``(n_out, n_in)``), paper
``x_i`` (``i = 1..L``) is the output of ``net.layers[i - 1]``, and the paper's ``L`` is
``net.depth - 1``. (Section 6.1 writes its two-layer net as ``tanh(W_2 ReLU(W_1 z))``, 1-based;
that is our ``layers[1]``, ``layers[0]``.) Biases, absent in [1], are carried through: a layer
reads ``x_{i+1} = ReLU(W_i x_i + b_i)``, so every target below has ``b_i`` subtracted and every
sign constraint reads ``W_i^{S^c} x + b_i^{S^c} <= 0``. Options that take one value per hidden
layer are lists in theorychk order ``[x_1, ..., x_L]``.

Methods
-------
``lbp``
    Layered Basis-Pursuit, Algorithm 2 of [1], with its lambda schedule.
``latent``
    Latent-Pursuit, Algorithm 5 of [1]: FISTA for the last layer (Algorithm 3), linearised
    ADMM with the ReLU sign constraints for the middle layers (Algorithm 4, Equations 9-15) and
    for ``z`` (Equations 16-18), optional debiasing.
``oracle``
    The layer-wise Oracle of Appendix B (Algorithm 6), given the true supports.

All three need at least one hidden layer, ReLU hidden activations (the sparsity model of [1];
LeakyReLU or other hidden activations are refused up front -- use ``gd`` or the LP methods),
and an output activation that is invertible (identity, tanh, sigmoid, PLU, LeakyReLU) or ReLU.
A ReLU output, which [1] does not treat, is handled as one more middle layer whose support is
read off the signal: ``S = {observed j : y_j > 0}``. Masks (inpainting, [1] Section 6.2) drop
the unobserved rows of the last layer in every method; :func:`random_mask` and
:func:`upper_mask` build the two masks of that section.

SOLVED means every stage stopped by its rule (relative change below ``tol``, an optimal LP, a
direct least-squares solve); it does not claim the estimate is the latent code -- the residuals
filled in by :func:`~theorychk.solvers.invert` and the theorems' hypotheses tell.

References
----------
.. [1] A. Aberdam, D. Simon, M. Elad, "When and How Can Deep Generative Models be Inverted?",
   arXiv:2006.15555 (2020) -- ``papers/004``.
.. [2] A. Beck, M. Teboulle, "A fast iterative shrinkage-thresholding algorithm for linear
   inverse problems", SIAM J. Imaging Sci. 2(1), 2009.
.. [3] B. O'Donoghue, E. Candes, "Adaptive restart for accelerated gradient schemes", Found.
   Comput. Math. 15, 2015.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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
    Real,
    check,
    check_options,
    invalid,
    validate_params,
)
from theorychk.errors import InvalidInput, Reason
from theorychk.network import Activation, Layer, Network, row_model
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
from theorychk.verdict import EngineStatus

__all__ = [
    "random_mask",
    "upper_mask",
    "support_of",
    "StageResult",
    "PursuitRun",
    "fista_last_layer",
    "linearized_admm",
    "basis_pursuit",
    "debias",
    "latent_pursuit",
    "layered_basis_pursuit",
    "oracle",
    "LayeredBasisPursuit",
    "LatentPursuit",
    "Oracle",
]

#: (3 + sqrt(1.5)): the constant of the basis-pursuit stability bound, Lemma 2 / Eq. (25) of [1]
STABILITY_CONSTANT = 3.0 + math.sqrt(1.5)
_TINY = 1e-300


# --------------------------------------------------------------------------------------------
# Masks of [1] Section 6.2
# --------------------------------------------------------------------------------------------


@validate_params({"n": [POSITIVE_INT], "observed": [Interval(Real, 0, 1, closed="right")]})
def random_mask(n: int, *, observed: float, rng: np.random.Generator) -> np.ndarray:
    """A boolean mask observing ``round(observed * n)`` coordinates chosen uniformly.

    [1] Section 6.2 conceals 45% of the pixels: ``observed=0.55``.

    Examples
    --------
    >>> int(random_mask(10, observed=0.7, rng=np.random.default_rng(0)).sum())
    7
    """
    k = max(1, int(round(observed * n)))
    mask = np.zeros(n, dtype=bool)
    mask[rng.choice(n, size=k, replace=False)] = True
    return mask


@validate_params({"height": [POSITIVE_INT], "width": [POSITIVE_INT]})
def upper_mask(height: int, width: int, *, hidden_rows: int = 13) -> np.ndarray:
    """Row-major image mask concealing the top ``hidden_rows`` rows ([1] Sec. 6.2: 13 of 28).

    Examples
    --------
    >>> upper_mask(3, 2, hidden_rows=1).tolist()
    [False, False, True, True, True, True]
    """
    hidden_rows = check("hidden_rows", hidden_rows, [Interval(int, 0, height, closed="left")])
    mask = np.ones((height, width), dtype=bool)
    mask[:hidden_rows] = False
    return mask.reshape(-1)


# --------------------------------------------------------------------------------------------
# Network checks and output-activation helpers
# --------------------------------------------------------------------------------------------


def check_pursuit_network(net: Network, method: str) -> None:
    """Raise :class:`InvalidInput` unless ``net`` fits the model of [1], Equation 3."""
    if net.depth < 2:
        raise InvalidInput(
            f"method {method!r} inverts layer by layer through ReLU hidden layers; the network has "
            f"{net.depth} layer and no hidden layer (use 'gd' or an LP method)",
            argument="net", got=f"{net.depth} layer"
        )
    for i, act in enumerate(net.activations[:-1]):
        if row_model(act).family != "relu":
            raise InvalidInput(
                f"method {method!r} needs ReLU hidden layers (the sparse model of Aberdam et al.); "
                f"layer {i} has activation {act.spec!r} (use 'gd' or an LP method)",
                argument=f"layers[{i}].activation", got=act.spec
            )
    out = net.activations[-1]
    if not (row_model(out).family == "relu" or out.invertible):
        raise InvalidInput(f"method {method!r} cannot handle output activation {out.spec!r}",
                           argument=f"layers[{net.depth - 1}].activation", got=out.spec)


def _output_inverse(act: Activation, y: np.ndarray) -> tuple[np.ndarray, int]:
    """``phi^{-1}(y)``, clipping into the open range of tanh / sigmoid; returns the clip count.

    A noisy signal can leave a bounded range (tanh, sigmoid), where ``phi^{-1}`` is undefined;
    such values are moved to the range's edge (``1e-12`` inside) and counted.
    """
    lo, hi = act.value_range
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return act.inverse(y), 0
    clipped = np.clip(y, lo + 1e-12, hi - 1e-12)
    return act.inverse(clipped), int(np.count_nonzero(clipped != y))


def _inverse_lipschitz(act: Activation, y: np.ndarray) -> float:
    """The ``ell`` of Theorem 2 of [1]: a Lipschitz constant of ``phi^{-1}``.

    Global for the piecewise-linear activations; for tanh and sigmoid, whose inverse has no
    global constant, the largest derivative of ``phi^{-1}`` at the (clipped) observed values
    (with none observed, its smallest: ``1 / sup phi'``).
    """
    if act.piecewise_linear:
        return float(act.inverse_lipschitz)
    lo, hi = act.value_range
    v = np.clip(y, lo + 1e-12, hi - 1e-12)
    return float(np.max(act.inverse_derivative(v))) if v.size else 1.0 / act.derivative_bound


def _curvature_bound(act: Activation, y: np.ndarray) -> float:
    """Bound on ``|d^2/dt^2 1/2 (phi(t) - y)^2| = |phi'^2 + (phi - y) phi''|`` over ``t``.

    Times ``||W||^2`` it bounds the Lipschitz constant of the gradient in Algorithm 3, whose
    step must be below ``2 / that`` ([1] writes ``mu in (0, 2/ell)``): ``sup phi'^2 + (1 +
    max|y|) sup|phi''|`` with ``|phi| <= 1``. Piecewise-linear activations: 1 (``phi'' = 0`` off
    the kinks). tanh: ``|tanh''| <= 4/(3 sqrt 3)``; sigmoid: ``sigma' <= 1/4``,
    ``|sigma''| <= 1/(6 sqrt 3)``.
    """
    if act.piecewise_linear:
        return 1.0
    ymax = float(np.max(np.abs(y))) if y.size else 0.0
    return act.derivative_bound**2 + (1.0 + ymax) * act.second_derivative_bound


def support_of(x: np.ndarray, tol: float) -> np.ndarray:
    """``|x| > tol * max|x|`` per row: the support of a computed estimate.

    Iterative solvers and LPs leave values like 1e-17 where the exact solution has zeros; the
    threshold is relative to the row's largest entry so it does not depend on the scale.

    Examples
    --------
    >>> support_of(np.array([[1.0, 1e-15, -0.5]]), 1e-9).tolist()
    [[True, False, True]]
    """
    a = np.abs(np.atleast_2d(x))
    return a > tol * np.max(a, axis=1, keepdims=True)


# --------------------------------------------------------------------------------------------
# Stage solvers (batched over signals: one row per signal)
# --------------------------------------------------------------------------------------------


def _direct_gram_solve(mats: np.ndarray, rhs: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row ``b``: ``x = (G_b + ridge I)^{-1} rhs_b`` with ``G_b = mats[b]`` (Gram matrices), and
    whether the solve is trusted (``G_b + ridge I`` numerically positive definite, i.e. the
    restricted least-squares problem has a unique minimiser). One step of iterative refinement
    is left to the caller, who has the unsquared matrix."""
    n = mats.shape[-1]
    g = mats + ridge * np.eye(n) if ridge else mats
    ok = np.zeros(len(g), dtype=bool)
    x = np.zeros(rhs.shape)
    diag = np.maximum(np.einsum("bii->bi", g).max(axis=1), _TINY)
    try:
        lows = np.linalg.cholesky(g)  # all rows at once; one failure sends every row to the loop
    except np.linalg.LinAlgError:
        lows = None
    rows = range(len(g)) if lows is None else []
    if lows is not None:
        # a pivot far below the largest diagonal entry: (near) rank deficient, minimiser not unique
        ok = np.einsum("bii->bi", lows).min(axis=1) ** 2 > 1e-10 * diag
        if ok.any():
            x[ok] = np.linalg.solve(g[ok], rhs[ok][..., None])[..., 0]
    for b in rows:
        try:
            low = np.linalg.cholesky(g[b])
        except np.linalg.LinAlgError:
            continue
        if np.min(np.diag(low)) ** 2 <= 1e-10 * diag[b]:
            continue
        ok[b] = True
        x[b] = np.linalg.solve(g[b], rhs[b])
    return x, ok


@dataclass(frozen=True)
class StageResult:
    """One stage for a batch: estimates, iterations, whether each row met the stopping rule, and
    which rows the time limit stopped (``cut``; their estimate is where they were)."""

    x: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    cut: np.ndarray

    @property
    def timed_out(self) -> bool:
        return bool(self.cut.any())


def fista_last_layer(
    layer: Layer,
    signals: np.ndarray,
    mask: np.ndarray,
    *,
    lam: float = 0.0,
    step: float | None = None,
    iterations: int = 10_000,
    tol: float = 1e-12,
    restart: bool = True,
    deadline: Deadline | RowBudget | None = None,
    check_every: int = 10,
    direct: bool = True,
) -> StageResult:
    """Algorithm 3 of [1]: FISTA for the last layer, Equation (8).

    Solves, for every row ``y`` of ``signals`` and ``m`` of ``mask``::

        min_x 1/2 || m * (y - phi(W x + b)) ||_2^2 + lam * 1^T x   s.t.  x >= 0

    with the projected step ``u <- ReLU(x - mu (g + lam 1))`` and Nesterov's momentum, from
    ``x = 0``. ``phi`` is applied, not inverted ([1]: "we refrain from applying the inverse
    activation function"). The step ``mu`` defaults to ``1 / (c_phi ||W_obs||_2^2)`` with
    ``c_phi`` from :func:`_curvature_bound` of the row's own signal, so a row's iterates do not
    depend on the other rows of the batch (``W_obs``: the rows of ``W`` any row observes).
    ``deadline``: a :class:`~theorychk.runtime.RowBudget` stops each row when its share of the
    time runs out (``cut``), a :class:`~theorychk.runtime.Deadline` all rows at once.

    Differences from the box in [1]: (i) the adaptive restart of [3] (``t <- 1`` when the
    momentum points uphill) is on by default -- the problem is strongly convex in the noiseless
    expansive case and plain FISTA oscillates there; ``restart=False`` gives the box as printed;
    (ii) a stopping rule replaces the fixed ``K``: a row stops when both
    ``||u^{k+1} - u^k||`` and ``||u^{k+1} - x^k||`` are at most ``tol * ||u^{k+1}||``.
    [1] calls (8) convex for smooth increasing ``phi``; for tanh and sigmoid it is not (the
    curvature ``phi'^2 + (phi - y) phi''`` is negative far out), so FISTA finds a stationary
    point; from ``x = 0`` in the realizable case it is the solution in our tests.

    ``direct`` (default): with ``lam = 0``, a piecewise-linear invertible ``phi`` and one mask for
    all rows, first try the exact answer of the noiseless case -- the least-squares solution of
    ``W_obs x = phi^{-1}(y_obs) - b_obs`` (``W_obs`` of full column rank, so it is unique), clipped
    to ``x >= 0`` -- and keep it for the rows where one projected gradient step from it meets the
    stopping rule above (the fixed-point residual of (8) below ``tol``: the rule FISTA itself
    stops on); those rows report 1 iteration. The other rows run FISTA from ``x = 0`` as before.
    """
    w, b, act = layer.weight, layer.bias, layer.activation
    y = np.asarray(signals, dtype=float)
    m = np.asarray(mask, dtype=float)
    deadline = deadline if deadline is not None else Deadline(None)
    batch, n_in = y.shape[0], w.shape[1]
    if step is None:
        observed = m.any(axis=0) if m.ndim == 2 else m > 0
        norm = _observed_factors(w, observed)[0] if observed.any() else 0.0
        curvature = np.array([_curvature_bound(act, row[observed]) for row in y])
        steps = 1.0 / np.maximum(curvature * norm**2, _TINY)
    else:
        steps = np.full(batch, float(step))
    out = np.zeros((batch, n_in))
    iters = np.full(batch, iterations, dtype=np.int64)
    conv = np.zeros(batch, dtype=bool)
    cut = np.zeros(batch, dtype=bool)
    active = np.arange(batch)
    x = np.zeros((batch, n_in))
    u = np.zeros((batch, n_in))
    t = np.ones(batch)
    ya, ma = y, np.broadcast_to(m, y.shape)
    # (a row already out of time is stopped by the loop's first check, before any work)
    if direct and lam == 0.0 and act.invertible and act.piecewise_linear and batch \
            and not deadline.rows_expired(active).any():
        hit = _fista_direct(w, b, act, ya, ma, steps, tol)
        if hit is not None:
            done, u_hit = hit
            out[done], iters[done], conv[done] = u_hit[done], 1, True
            keep = ~done
            active, x, u, t, ya, ma, steps = (v[keep] for v in (active, x, u, t, ya, ma, steps))
    for k in range(iterations if active.size else 0):
        if k % check_every == 0:
            late = deadline.rows_expired(active)
            if late.any():
                out[active[late]], iters[active[late]], cut[active[late]] = u[late], k, True
                keep = ~late
                active, x, u, t, ya, ma, steps = (v[keep] for v in (active, x, u, t, ya, ma, steps))
                if active.size == 0:
                    break
        p = x @ w.T + b
        r = ma * act.derivative(p) * (act(p) - ya)
        g = r @ w
        u_new = np.maximum(x - steps[:, None] * (g + lam), 0.0)
        du = u_new - u
        scale = np.maximum(np.linalg.norm(u_new, axis=1), _TINY)
        done = (np.linalg.norm(du, axis=1) <= tol * scale) & (
            np.linalg.norm(u_new - x, axis=1) <= tol * scale
        )
        if restart:  # gradient restart of [3]: momentum against the prox-gradient step
            t = np.where(np.einsum("ij,ij->i", x - u_new, du) > 0, 1.0, t)
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        x = u_new + ((t - 1.0) / t_new)[:, None] * du
        u, t = u_new, t_new
        if done.any():
            out[active[done]] = u[done]
            iters[active[done]] = k + 1
            conv[active[done]] = True
            keep = ~done
            active, x, u, t, ya, ma, steps = (v[keep] for v in (active, x, u, t, ya, ma, steps))
            if active.size == 0:
                break
    out[active] = u
    return StageResult(out, iters, conv, cut)


#: (weight, observed rows) -> (||W_obs||_2, pinv(W_obs) or None when rank deficient, W); a batch
#: comes in chunks (``invert_batch``, the CLI's workers) that would otherwise repeat the SVDs
_FACTORS: dict[tuple[Any, bytes], tuple[float, np.ndarray | None, np.ndarray]] = {}


def _observed_factors(w: np.ndarray, observed: np.ndarray) -> tuple[float, np.ndarray | None]:
    """``||W_obs||_2`` and the pseudo-inverse of ``W_obs`` (``None`` if not of full column rank),
    cached by content: they depend on the layer and the mask, not on the signals."""
    import hashlib

    # A read-only weight (a Network's are) is its own key: the cache holds it, so its id stays
    # unique; a writable one is keyed by content.
    ident = id(w) if not w.flags.writeable else hashlib.blake2b(
        np.ascontiguousarray(w).tobytes() + repr(w.shape).encode(), digest_size=20).hexdigest()
    key = (ident, observed.tobytes())
    hit = _FACTORS.get(key)
    if hit is None:
        a = w[observed]
        u, sv, vt = np.linalg.svd(a, full_matrices=False) if a.size else (None, np.zeros(0), None)
        norm = float(sv[0]) if sv.size else 0.0
        # numpy.linalg.lstsq's rank rule (rcond = eps * max(shape))
        full = sv.size == w.shape[1] and sv.size > 0 and sv[-1] > sv[0] * np.finfo(float).eps * max(a.shape)
        hit = (norm, (vt.T / sv) @ u.T if full else None, w)
        if len(_FACTORS) >= 8:
            _FACTORS.pop(next(iter(_FACTORS)))
        _FACTORS[key] = hit
    return hit[0], hit[1]


def _fista_direct(
    w: np.ndarray, b: np.ndarray, act: Activation, y: np.ndarray, m: np.ndarray, steps: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """The exact candidate of :func:`fista_last_layer` (``direct``): which rows meet the stopping
    rule there, and the point after the checking step. ``None`` if it does not apply."""
    observed = m[0] > 0
    if not np.all((m > 0) == observed) or not observed.any():
        return None  # per-row masks: no shared factorisation
    pinv = _observed_factors(w, observed)[1]
    if pinv is None:
        return None  # the minimiser is not unique: leave the choice to FISTA
    cand = np.maximum((act.inverse(y[:, observed]) - b[observed]) @ pinv.T, 0.0)
    p = cand @ w.T + b
    g = (m * act.derivative(p) * (act(p) - y)) @ w
    u_new = np.maximum(cand - steps[:, None] * g, 0.0)
    scale = np.maximum(np.linalg.norm(u_new, axis=1), _TINY)
    ok = np.all(np.isfinite(u_new), axis=1) & (np.linalg.norm(u_new - cand, axis=1) <= tol * scale)
    return ok, u_new


def _row_grams(w: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per row of ``weights`` (non-negative): ``W^T diag(weights) W``, one BLAS product per row
    (``einsum`` over the three indices ran element by element: 10 s for 200 rows of a 392 x 128 W)."""
    out = np.empty((weights.shape[0], w.shape[1], w.shape[1]))
    for b, wt in enumerate(weights):
        on = wt > 0
        a = w[on] * np.sqrt(wt[on])[:, None]
        np.matmul(a.T, a, out=out[b])
    return out


def _admm_eta(w: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per row of ``weights``: ``lambda_max(W^T diag(weights) W)``, the ``alpha + beta`` of Eq. (12)."""
    batch, (m, n) = weights.shape[0], w.shape
    out = np.empty(batch)
    chunk = max(1, int(2e7 // max(m * n, 1)))
    for start in range(0, batch, chunk):
        out[start:start + chunk] = np.linalg.eigvalsh(_row_grams(w, weights[start:start + chunk]))[:, -1]
    # Eq. (12) needs alpha + beta >= lambda_max; the margin covers eigvalsh's rounding.
    return np.maximum(out * (1.0 + 1e-9), _TINY)


def linearized_admm(
    layer: Layer,
    targets: np.ndarray,
    on: np.ndarray,
    off: np.ndarray,
    *,
    lam: float = 0.0,
    rho: float = 1e-2,
    gamma: float = 0.0,
    nonnegative: bool = True,
    iterations: int = 10_000,
    tol: float = 1e-12,
    deadline: Deadline | RowBudget | None = None,
    check_every: int = 10,
    direct: bool = True,
) -> StageResult:
    """Algorithm 4 of [1]: linearised ADMM for a middle layer (``nonnegative=True``, Eq. 9) or ``z``.

    For each row, with ``S = on`` and ``S^c = off`` (boolean rows of the layer's output)::

        min_x 1/2 || t^S - W^S x - b^S ||^2 + lam 1^T x  s.t.  x >= 0,  W^{S^c} x + b^{S^c} <= 0   (9)

    split with ``a = W^{S^c} x`` and solved by the alternating direction proximal method of
    multipliers with ``Q = (alpha + beta) I - W^S^T W^S - rho W^{S^c}^T W^{S^c}`` (Eq. 11):

    1. ``x <- ReLU[x - (g + lam) / (alpha + beta)]``, ``g = W^S^T (W^S x + b^S - t^S)
       + rho W^{S^c}^T (W^{S^c} x - a - u)``                                  (Eq. 13)
    2. ``a <- min(W^{S^c} x - u, -b^{S^c})``  (Eq. 14; [1] writes ``-ReLU(u - W^{S^c} x)`` for ``b = 0``)
    3. ``u <- u + a - W^{S^c} x``              (Eq. 15)

    with ``alpha + beta = lambda_max(W^S^T W^S + rho W^{S^c}^T W^{S^c})`` per row (Eq. 12 with
    equality, the largest step it allows). Step 1 of Algorithm 4 as printed lacks the transpose
    on the second ``W^{S^c}``; Eq. (13) fixes it. For the latent vector (``nonnegative=False``)
    step 1 is Eq. (18), the MAP step of Eq. (16) with the Gaussian prior ``gamma/2 ||z||^2``:
    ``z <- ((alpha + beta) z - grad) / (alpha + beta + gamma)`` (no ``lam``, no projection).

    Starts from ``x = a = u = 0``; a row stops when ``||x^{k+1} - x^k|| <= tol ||x^{k+1}||``
    and the split residual ``||a - W^{S^c} x||`` is at most ``tol`` times the scale of the row,
    or when ``deadline`` says it is out of time (``cut``, as in :func:`fista_last_layer`).

    ``direct`` (default, ``lam = 0`` only): first try each row's exact answer of the noiseless
    case -- the unique minimiser of ``1/2 ||t^S - W^S x - b^S||^2 + gamma/2 ||x||^2`` (a Cholesky
    solve; skipped when ``W^S`` is numerically rank deficient and ``gamma = 0``, where the
    minimiser is not unique), clipped to ``x >= 0`` for a middle layer. An unconstrained
    minimiser that satisfies the constraints of (9) / (16) is their solution; a row keeps it
    when one ADMM step from ``(x, a = W^{S^c} x, u = 0)`` meets the stopping rule above (which
    fails if a sign constraint is violated) and reports 1 iteration. The other rows run the ADMM
    from zero as before.
    """
    w, b = layer.weight, layer.bias
    deadline = deadline if deadline is not None else Deadline(None)
    s = np.asarray(on, dtype=float)
    c = np.asarray(off, dtype=float)
    batch, n_in = s.shape[0], w.shape[1]
    tb = s * (np.asarray(targets, dtype=float) - b)  # W^S x should equal t^S - b^S
    scale_t = np.maximum(np.linalg.norm(tb, axis=1), _TINY)
    out = np.zeros((batch, n_in))
    iters = np.full(batch, iterations, dtype=np.int64)
    conv = np.zeros(batch, dtype=bool)
    active = np.arange(batch)
    x = np.zeros((batch, n_in))
    p = np.zeros((batch, w.shape[0]))  # W x
    a = np.zeros_like(p)
    u = np.zeros_like(p)
    upper = -b  # a = W^{S^c} x must stay <= -b^{S^c}
    cut = np.zeros(batch, dtype=bool)
    eta = np.zeros((batch, 1))  # alpha + beta, for the rows that run the ADMM
    if direct and lam == 0.0 and batch and not deadline.rows_expired(active).any():
        gram = _row_grams(w, s)  # W^S^T W^S per row
        cand, ok = _direct_gram_solve(gram, tb @ w, 0.0 if nonnegative else gamma)
        if nonnegative:
            cand = np.maximum(cand, 0.0)
        # The check steps with the largest diagonal entry of W^T diag(s + rho c) W, a lower bound
        # of the ADMM's alpha + beta: a longer step moves a projected gradient step at least as
        # far, so a row that passes would pass with the ADMM's own step too.
        eta = ((1.0 - rho) * np.einsum("bii->bi", gram) + rho * np.sum(w * w, axis=0)).max(axis=1)[:, None]
        p0 = cand @ w.T
        g0 = (s * (p0 - tb) + rho * c * (p0 - c * np.minimum(p0, upper))) @ w
        x1 = np.maximum(cand - g0 / eta, 0.0) if nonnegative else (eta * cand - g0) / (eta + gamma)
        p1 = x1 @ w.T
        r1 = c * (np.minimum(p1, upper) - p1)
        scale = np.maximum(scale_t, np.linalg.norm(c * p1, axis=1))
        done = ok & np.all(np.isfinite(x1), axis=1) & (
            np.linalg.norm(x1 - cand, axis=1) <= tol * np.maximum(np.linalg.norm(x1, axis=1), _TINY)) & (
            np.linalg.norm(r1, axis=1) <= tol * scale)
        out[done], iters[done], conv[done] = x1[done], 1, True
        keep = ~done
        active, x, p, a, u, s, c, tb, eta, scale_t = (v[keep] for v in (active, x, p, a, u, s, c, tb, eta, scale_t))
    if active.size:
        eta = _admm_eta(w, s + rho * c)[:, None]
    for k in range(iterations if active.size else 0):
        if k % check_every == 0:
            late = deadline.rows_expired(active)
            if late.any():
                out[active[late]], iters[active[late]], cut[active[late]] = x[late], k, True
                keep = ~late
                active, x, p, a, u, s, c, tb, eta, scale_t = (
                    v[keep] for v in (active, x, p, a, u, s, c, tb, eta, scale_t))
                if active.size == 0:
                    break
        g = (s * (p - tb) + rho * c * (p - a - u)) @ w
        if nonnegative:
            x_new = np.maximum(x - (g + lam) / eta, 0.0)
        else:
            x_new = (eta * x - g) / (eta + gamma)
        p = x_new @ w.T
        a = c * np.minimum(p - u, upper)
        resid = c * (a - p)
        u = u + resid
        dx = np.linalg.norm(x_new - x, axis=1)
        x = x_new
        scale_x = np.maximum(np.linalg.norm(x, axis=1), _TINY)
        scale_r = np.maximum(scale_t, np.linalg.norm(c * p, axis=1))
        done = (dx <= tol * scale_x) & (np.linalg.norm(resid, axis=1) <= tol * scale_r)
        if done.any():
            out[active[done]] = x[done]
            iters[active[done]] = k + 1
            conv[active[done]] = True
            keep = ~done
            active, x, p, a, u, s, c, tb, eta, scale_t = (
                v[keep] for v in (active, x, p, a, u, s, c, tb, eta, scale_t))
            if active.size == 0:
                break
    out[active] = x
    return StageResult(out, iters, conv, cut)


# --------------------------------------------------------------------------------------------
# Debiasing: the Oracle of Algorithm 1 on estimated supports
# --------------------------------------------------------------------------------------------


def _support_affine(net: Network, supports: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(A, c)`` with ``W_L x_L + b_L = A z + c`` once the hidden supports are frozen.

    ``x_{i+1} = 1_{S_{i+1}} * (W_i x_i + b_i)``: the product ``prod_{i=L}^0 W_i^{S_{i+1}}`` of
    Algorithm 1 / the debiasing step of Algorithm 5 of [1], with the biases carried along.
    """
    first = net.layers[0]
    jac = supports[0][:, None] * first.weight
    off = supports[0] * first.bias
    for k in range(1, net.depth - 1):
        layer = net.layers[k]
        jac = supports[k][:, None] * (layer.weight @ jac)
        off = supports[k] * (layer.weight @ off + layer.bias)
    last = net.layers[-1]
    return last.weight @ jac, last.weight @ off + last.bias


@validate_params({"iterations": [POSITIVE_INT], "tol": [NON_NEGATIVE]})
def debias(
    net: Network,
    signals: np.ndarray,
    mask: np.ndarray,
    supports: Sequence[np.ndarray],
    start: np.ndarray,
    *,
    out_support: np.ndarray | None = None,
    iterations: int = 10_000,
    tol: float = 1e-12,
    deadline: Deadline | RowBudget | None = None,
) -> StageResult:
    """The debiasing step of Algorithm 5 of [1] (= Algorithm 1, the Oracle, on given supports).

    For each row: ``min_z 1/2 || m * (y - phi(A z + c)) ||^2`` with ``A z + c`` the output
    pre-activation when the hidden supports are frozen (:func:`_support_affine`). For a ReLU
    output the frozen ``out_support`` makes ``phi`` the identity on its rows and the other
    observed rows constant. Linear ``phi``: one least-squares solve. Otherwise damped
    Gauss-Newton from ``start`` (halving the step until the loss does not increase); [1] ran
    gradient descent for 10,000 iterations -- the minimiser is the same, Gauss-Newton reaches it
    to rounding in a handful of ``n_0 x n_0`` solves. ``iterations`` caps the Gauss-Newton steps;
    a row stops when the accepted step is at most ``tol * ||z||`` or no step decreases the loss,
    or when ``deadline`` says it is out of time (``cut``; it keeps the point reached).
    """
    deadline = deadline if deadline is not None else Deadline(None)
    y, m = _signals_and_mask(net, signals, mask)
    batch = y.shape[0]
    act = net.activations[-1]
    out = np.array(start, dtype=float, copy=True)
    iters = np.zeros(batch, dtype=np.int64)
    conv = np.zeros(batch, dtype=bool)
    cut = np.zeros(batch, dtype=bool)
    for i in range(batch):
        if deadline.rows_expired([i])[0]:
            cut[i] = True
            continue
        a_mat, c_vec = _support_affine(net, [s[i] for s in supports])
        rows = m[i] & out_support[i] if row_model(act).family == "relu" and out_support is not None else m[i]
        a_r, c_r, y_r = a_mat[rows], c_vec[rows], y[i, rows]
        if row_model(act).family in ("linear", "relu"):
            out[i] = np.linalg.lstsq(a_r, y_r - c_r, rcond=None)[0] if rows.any() else out[i]
            iters[i], conv[i] = 1, True
        else:
            out[i], iters[i], conv[i], cut[i] = _gauss_newton(
                act, a_r, c_r, y_r, out[i], iterations, tol, deadline.for_rows([i])
            )
        deadline.charge([i])  # this row's work, not the next row's
    return StageResult(out, iters, conv, cut)


def _gauss_newton(
    act: Activation, a: np.ndarray, c: np.ndarray, y: np.ndarray, z: np.ndarray, iterations: int,
    tol: float, deadline: Deadline | RowBudget,
) -> tuple[np.ndarray, int, bool, bool]:
    def loss(v: np.ndarray) -> float:
        r = act(a @ v + c) - y
        return 0.5 * float(r @ r)

    f = loss(z)
    for it in range(1, iterations + 1):
        if it % 10 == 0 and deadline.expired():
            return z, it - 1, False, True
        p = a @ z + c
        jac = act.derivative(p)[:, None] * a
        dz = np.linalg.lstsq(jac, y - act(p), rcond=None)[0]
        scale = 1.0
        for _ in range(60):
            z_new = z + scale * dz
            f_new = loss(z_new)
            if f_new <= f:
                break
            scale *= 0.5
        else:  # no decrease along the Gauss-Newton direction: stationary to rounding
            return z, it, True, False
        moved = scale * float(np.linalg.norm(dz))
        z, f = z_new, f_new
        if moved <= tol * max(float(np.linalg.norm(z)), _TINY) or f == 0.0:
            return z, it, True, False
    return z, iterations, False, False


# --------------------------------------------------------------------------------------------
# Results of a pursuit
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PursuitRun:
    """A layer-wise inversion of a batch of signals.

    ``latent`` is ``(batch, n_0)`` (``None`` if the run stopped before the ``z`` stage; a NaN
    row: that row did); ``hidden`` holds the method's estimates of ``x_1, ..., x_L`` as
    ``(batch, n_i)`` arrays in theorychk order, the last being the estimated output
    ``phi(W_L x_L + b_L)`` (shorter if the run stopped early). ``iterations`` maps stage names
    (``"x_3"``, ``"z"``, ``"debias"``), in the order they ran, to per-row counts (-1: the row
    never reached that stage); ``converged`` is per row; ``stage`` names the stage a time limit
    hit. ``cut``, where the run has it (:func:`latent_pursuit`), is per row: the stage where the
    time limit stopped that row (``""``: none), and ``info["partial_estimates"]`` then holds
    every stage's ``(batch, n_k)`` estimates; without it the time limit stopped every row.
    """

    latent: np.ndarray | None
    hidden: tuple[np.ndarray, ...]
    iterations: dict[str, np.ndarray]
    converged: np.ndarray
    timed_out: bool = False
    stage: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    stage_converged: dict[str, np.ndarray] = field(default_factory=dict)
    cut: np.ndarray | None = None


def _frozen_forward(net: Network, z: np.ndarray, supports: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The layer estimates implied by ``z`` with the hidden supports frozen (after debiasing)."""
    out = []
    x = z
    for k, layer in enumerate(net.layers):
        p = layer.pre_activation(x)  # the operator: sparse for a convolution
        x = supports[k] * p if k < net.depth - 1 else layer.activation(p)
        out.append(x)
    return out


def _per_layer(value: Any, count: int, name: str, default: float, item: Interval = NON_NEGATIVE) -> list[float]:
    """A number or a list of ``count`` numbers (theorychk order), each satisfying ``item``."""
    if value is None:
        return [default] * count
    got = check(name, value, [item, ListOf(item, length=count)])
    return got if isinstance(got, list) else [got] * count


def _signals_and_mask(net: Network, signals: object, mask: object | None) -> tuple[np.ndarray, np.ndarray]:
    """The signals as a validated ``(batch, n_L)`` array (one signal may be 1-D) and the mask as
    ``(batch, n_L)`` booleans: the checks :func:`~theorychk.solvers.invert` makes."""
    y = validate_signals(net, np.atleast_2d(signals))
    return y, validate_masks(net, mask, y.shape[0])


#: the scalar arguments the pursuits share (lists per layer depend on the network: checked in the body)
_ITERATIVE: dict[str, ConstraintSpec] = {
    "iterations": [POSITIVE_INT], "tol": [NON_NEGATIVE], "support_tol": [NON_NEGATIVE],
    "debias_step": [Boolean], "debias_iterations": [POSITIVE_INT],
}


# --------------------------------------------------------------------------------------------
# Latent-Pursuit, Algorithm 5
# --------------------------------------------------------------------------------------------


@validate_params({**_ITERATIVE, "gamma": [NON_NEGATIVE], "step": [POSITIVE, None], "restart": [Boolean],
                  "check_every": [POSITIVE_INT]})
def latent_pursuit(
    net: Network,
    signals: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    lambdas: float | Sequence[float] | None = None,
    rho: float | Sequence[float] = 1e-2,
    gamma: float = 0.0,
    iterations: int = 10_000,
    tol: float = 1e-12,
    step: float | None = None,
    restart: bool = True,
    support_tol: float = 1e-6,
    debias_step: bool = False,
    debias_iterations: int = 10_000,
    deadline: Deadline | RowBudget | None = None,
    check_every: int = 10,
) -> PursuitRun:
    """Latent-Pursuit, Algorithm 5 of [1], vectorised over a batch of signals.

    1. Last layer: ``x_L`` by Algorithm 3 (:func:`fista_last_layer`, Eq. 8) -- or, for a ReLU
       output, by Algorithm 4 with ``S = {observed : y > 0}``.
    2. For ``i = L-1, ..., 1``: ``x_i`` by Algorithm 4 (:func:`linearized_admm`, Eq. 9) from
       ``x_{i+1}`` and its support ``S_{i+1} = support_of(x_{i+1}, support_tol)``.
    3. ``z`` by Algorithm 4 with the x-step of Eq. (18): the MAP estimate of Eq. (16) under the
       prior ``z ~ N(0, sigma_z^2 I)``, ``gamma = sigma_e^2 / sigma_z^2`` for an error of
       variance ``sigma_e^2`` on ``x_1``.
    4. Optionally (``debias_step``) the debiasing of Algorithm 5 (:func:`debias`).

    The defaults are those of [1] Section 6: ``lambda_i = 0``, ``rho = 1e-2``, ``gamma = 0``.

    Parameters
    ----------
    lambdas : number or list per hidden layer ``[x_1, ..., x_L]``; the ``lambda_i`` of Eqs. (8)-(9).
    rho : number or list per layer ``[layer 0, ..., layer L]`` (the layer whose weight enters
        the ADMM; the last entry is used only for a ReLU output).
    gamma : the Gaussian-prior weight of Eq. (16).
    iterations, tol : cap and stopping rule of every iterative stage.
    step : FISTA step ``mu`` (default ``1 / (c_phi ||W_L||^2)``); restart: adaptive restart.
    support_tol : relative threshold of :func:`support_of`.
    debias_iterations : cap of the debiasing Gauss-Newton steps.
    deadline : a :class:`~theorychk.runtime.Deadline` stops every row at once; a
        :class:`~theorychk.runtime.RowBudget` stops each row when its share of the time runs out,
        and the others go on. A stopped row goes to no further stage (``PursuitRun.cut`` names
        the stage); it has a latent only if it was stopped in the ``z`` stage or later.

    Every step size and stopping rule is per row, so a row's estimates do not depend on the
    other rows of the batch (up to the rounding of the batched products).

    Examples
    --------
    >>> from theorychk.network import Layer, Network
    >>> rng = np.random.default_rng(1)
    >>> net = Network([Layer(rng.standard_normal((12, 2)), None, "relu"),
    ...                Layer(rng.standard_normal((30, 12)), None, "identity")])
    >>> z = rng.standard_normal((1, 2))
    >>> run = latent_pursuit(net, net(z))
    >>> bool(run.converged[0]), bool(np.allclose(run.latent, z, atol=1e-7))
    (True, True)
    """
    deadline = deadline if deadline is not None else Deadline(None)
    y, m = _signals_and_mask(net, signals, mask)
    batch, depth = y.shape[0], net.depth
    lam = _per_layer(lambdas, depth - 1, "lambdas", 0.0)
    rhos = _per_layer(rho, depth, "rho", 1e-2, POSITIVE)
    common = {"iterations": iterations, "tol": tol, "check_every": check_every}
    iters: dict[str, np.ndarray] = {}
    stage_conv: dict[str, np.ndarray] = {}
    estimates: dict[int, np.ndarray] = {}  # x_k for every row; NaN rows never reached stage x_k
    cut = np.full(batch, "", dtype=object)  # per row: the stage where the time limit stopped it

    def going() -> np.ndarray:
        return np.flatnonzero(cut == "")

    def record(stage: str, rows: np.ndarray, res: StageResult) -> np.ndarray:
        # A stage ran on ``rows`` only (the others were stopped earlier): full-batch records.
        x = np.full((batch, res.x.shape[1]), np.nan)
        x[rows] = res.x
        its = np.full(batch, -1, dtype=np.int64)
        its[rows] = res.iterations
        conv = np.zeros(batch, dtype=bool)
        conv[rows] = res.converged
        iters[stage], stage_conv[stage] = its, conv
        cut[rows[res.cut]] = stage
        return x

    last = net.layers[-1]
    out_support = None
    rows = going()
    if row_model(last.activation).family == "relu":
        out_support = m & (y > 0)
        res = linearized_admm(last, y, out_support, m & ~out_support, lam=lam[-1], rho=rhos[-1],
                              deadline=deadline, **common)
    else:
        res = fista_last_layer(last, y, m, lam=lam[-1], step=step, restart=restart, deadline=deadline,
                               **common)
    estimates[depth - 1] = record(f"x_{depth - 1}", rows, res)
    for k in range(depth - 2, 0, -1):  # x_k from x_{k+1} through layer k
        rows = going()
        if rows.size == 0:
            break
        target = estimates[k + 1][rows]
        on = support_of(target, support_tol)
        res = linearized_admm(net.layers[k], target, on, ~on, lam=lam[k - 1], rho=rhos[k],
                              deadline=deadline.for_rows(rows), **common)
        estimates[k] = record(f"x_{k}", rows, res)
    z = np.full((batch, net.latent_dim), np.nan)
    rows = going()
    if rows.size:
        target = estimates[1][rows]
        on = support_of(target, support_tol)
        res = linearized_admm(net.layers[0], target, on, ~on, rho=rhos[0], gamma=gamma, nonnegative=False,
                              deadline=deadline.for_rows(rows), **common)
        z = record("z", rows, res)  # a row the time limit stopped here keeps the z it reached
    for k in range(1, depth):
        estimates.setdefault(k, np.full((batch, net.widths[k]), np.nan))
    # (a NaN row, never reached, has an empty support)
    supports = [support_of(np.nan_to_num(estimates[k]), support_tol) for k in range(1, depth)]
    rows = going()
    if debias_step and rows.size:
        res = debias(net, y[rows], m[rows], [s[rows] for s in supports], z[rows],
                     out_support=None if out_support is None else out_support[rows],
                     iterations=debias_iterations, deadline=deadline.for_rows(rows))
        z[rows] = record("debias", rows, res)[rows]
    if debias_step:
        hidden = tuple(_frozen_forward(net, z, supports))
    else:
        output = last(estimates[depth - 1])
        hidden = (*(estimates[k] for k in range(1, depth)), output)
    conv = np.logical_and.reduce(list(stage_conv.values())) & (cut == "")
    info: dict[str, Any] = {
        "support_sizes": [s.sum(axis=1) for s in supports], "lambdas": lam, "rho": rhos, "gamma": gamma,
    }
    stopped = [stage for stage in iters if (cut == stage).any()]
    if stopped:
        info["partial_estimates"] = {f"x_{k}": estimates[k] for k in sorted(estimates)}
    return PursuitRun(None if np.isnan(z).all() else z, hidden, iters, conv, bool(stopped),
                      stopped[0] if stopped else "", info, stage_conv, cut)


# --------------------------------------------------------------------------------------------
# Layered Basis-Pursuit, Algorithm 2
# --------------------------------------------------------------------------------------------


def _lp_basis_pursuit(
    a: np.ndarray, t: np.ndarray, nonnegative: bool, deadline: Deadline
) -> tuple[np.ndarray, int, str]:
    """``min ||x||_1 s.t. A^T A x = A^T t`` (tall ``A``) or ``A x = t`` (wide), by HiGHS.

    The feasible set is the set of least-squares minimisers, so this is the ``lam -> 0+``
    limit of the Lasso of Algorithm 2 even when ``t`` is slightly outside the range of ``A``.
    """
    from theorychk._highs import INF, TIGHT_TOLERANCES, Model, Program

    rows, cols = a.shape
    a_eq, b_eq = (a.T @ a, a.T @ t) if rows > cols else (a, t)
    block = a_eq if nonnegative else np.hstack([a_eq, -a_eq])  # x = p - q, p, q >= 0
    b_eq = np.asarray(b_eq, dtype=float)
    model = Model(Program(block, cost=1.0, col_lower=0.0, col_upper=INF, row_lower=b_eq, row_upper=b_eq),
                  presolve="choose", tolerances=TIGHT_TOLERANCES)
    sol = model.solve(deadline, basis=False)
    its = sol.iterations
    if sol.status is EngineStatus.TIME_LIMIT:
        return np.zeros(cols), its, Reason.TIME_LIMIT
    if sol.status is not EngineStatus.OPTIMAL or sol.x is None:
        return np.zeros(cols), its, f"LP status {sol.highs_status}"
    v = sol.x
    return (v if nonnegative else v[:cols] - v[cols:]), its, ""


def basis_pursuit(
    a: np.ndarray,
    t: np.ndarray,
    *,
    lam: float,
    nonnegative: bool = False,
    iterations: int = 10_000,
    tol: float = 1e-10,
    support_tol: float = 1e-9,
    deadline: Deadline | None = None,
) -> tuple[np.ndarray, int, str]:
    """One step of Algorithm 2 of [1]: ``argmin_x 1/2 ||t - A x||^2 + lam ||x||_1``.

    ``lam > 0``: FISTA [2] with soft thresholding (``x >= 0`` too when ``nonnegative``), step
    ``1 / ||A||^2``, adaptive restart, stop at relative change ``tol``. ``lam == 0`` (the
    noiseless schedule): the Lasso degenerates to least squares, which is not sparse for a wide
    ``A``; its ``lam -> 0+`` limit is basis pursuit, an LP solved by HiGHS
    (:func:`_lp_basis_pursuit`), after which the values on the LP's support are re-solved by
    least squares (identical in exact arithmetic when ``A[:, S]`` has full column rank; it
    removes the LP's feasibility tolerance from the estimate).

    Returns ``(x, iterations, reason)``; ``reason`` is ``""`` when the stopping rule was met.
    """
    deadline = deadline if deadline is not None else Deadline(None)
    rows, cols = a.shape
    if rows == 0:
        return np.zeros(cols), 0, ""
    if lam == 0.0:
        x, its, reason = _lp_basis_pursuit(a, t, nonnegative, deadline)
        if reason:
            return x, its, reason
        sup = support_of(x, support_tol)[0]
        if 0 < sup.sum() <= rows:
            sub = a[:, sup]
            vals, _, rank, _ = np.linalg.lstsq(sub, t, rcond=None)
            if rank == sup.sum() and (not nonnegative or np.all(vals >= 0)):
                x = np.zeros(cols)
                x[sup] = vals
        return x, its, ""
    norm2 = np.linalg.norm(a, 2) ** 2
    step = 1.0 / max(norm2, _TINY)
    x = np.zeros(cols)
    u = np.zeros(cols)
    tk = 1.0
    for k in range(iterations):
        if k % 10 == 0 and deadline.expired():
            return u, k, Reason.TIME_LIMIT
        v = x - step * (a.T @ (a @ x - t))
        if nonnegative:
            u_new = np.maximum(v - step * lam, 0.0)
        else:  # soft thresholding
            u_new = np.sign(v) * np.maximum(np.abs(v) - step * lam, 0.0)
        du = u_new - u
        scale = max(float(np.linalg.norm(u_new)), _TINY)
        done = np.linalg.norm(du) <= tol * scale and np.linalg.norm(u_new - x) <= tol * scale
        if float((x - u_new) @ du) > 0:
            tk = 1.0
        t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * tk * tk))
        x = u_new + ((tk - 1.0) / t_new) * du
        u, tk = u_new, t_new
        if done:
            return u, k + 1, ""
    return u, iterations, Reason.ITERATION_LIMIT


@validate_params({**_ITERATIVE, "noise": [NON_NEGATIVE, None], "nonnegative": [Boolean], "normalize": [Boolean]})
def layered_basis_pursuit(
    net: Network,
    signal: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    noise: float | None = None,
    lambdas: Sequence[float] | None = None,
    sparsity: Sequence[int] | None = None,
    nonnegative: bool = False,
    normalize: bool = False,
    iterations: int = 10_000,
    tol: float = 1e-10,
    support_tol: float = 1e-9,
    debias_step: bool = False,
    debias_iterations: int = 10_000,
    deadline: Deadline | None = None,
) -> PursuitRun:
    """Layered Basis-Pursuit, Algorithm 2 of [1], for one signal ``y = G(z) + e``, ``||e||_2 <= noise``.

    First step: ``x_L = argmin 1/2 ||phi^{-1}(y) - W_L x - b_L||^2 + lam_L ||x||_1`` over the
    observed rows. General step, ``i = L-1, ..., 1``: the same with target ``x_{i+1}^{S_{i+1}}``
    and matrix ``W_i^{S_{i+1}}``, ``S_{i+1} = Support(x_{i+1})``. Final step:
    ``z = argmin 1/2 ||x_1^{S_1} - W_0^{S_1} z - b_0^{S_1}||^2`` (least squares).

    The lambda schedule (Algorithm 2 / Theorem 2 of [1]), with ``eps = noise`` (0 if none),
    ``ell`` the Lipschitz constant of ``phi^{-1}`` (:func:`_inverse_lipschitz`; 1 for a ReLU
    output, whose support rows are used as they are) and ``c = 3 + sqrt(1.5)``::

        eps_{L+1} = ell * eps
        lam_i     = 2 * eps_{i+1}
        eps_i     = c * sqrt(s_i) * eps_{i+1} / min_j || w_{i,j}^{S_{i+1}} ||_2      (i = L, ..., 1)

    where ``w_{i,j}^{S_{i+1}}`` is column ``j`` of the matrix of step ``i``. ``s_i`` is the
    sparsity level, an input of Algorithm 2: option ``sparsity`` (list ``[s_1, ..., s_L]``),
    by default the size of the estimated support ``|S_i|`` (which Theorem 2 shows is at most
    ``s_i``; so the default ``eps_i`` is a lower estimate). ``lambdas`` overrides the schedule.
    In the noiseless case every ``lam_i`` is 0 and each step is basis pursuit, an LP
    (:func:`basis_pursuit`). ``nonnegative=True`` adds ``x >= 0`` (not in Algorithm 2; it is one
    of the two constraints Latent-Pursuit adds). ``debias_step`` runs the debiasing of Algorithm 5
    on the estimated supports, as [1] Section 6.1 does for both pursuits.

    ``normalize=True`` solves each step on the column-normalised matrix ``W D^{-1}`` (``D`` the
    column norms, same ``lam``) and returns ``x = D^{-1} u``: the algorithm the proof of Theorem 2
    actually analyses (its (26)–(27) apply Tropp's lemma, which needs unit-norm columns). With
    ``normalize=False`` (Algorithm 2 as printed) a column of norm ``d`` is shrunk by ``lam/d^2``,
    which can exceed bound (7): ``theorychk falsify aberdam2020.theorem2`` finds such nets.
    """
    deadline = deadline if deadline is not None else Deadline(None)
    y, m = _signals_and_mask(net, signal, mask)
    y, m = y[0], m[0]
    depth = net.depth
    eps = 0.0 if noise is None else float(noise)
    if lambdas is not None:
        lambdas = _per_layer(lambdas, depth - 1, "lambdas", 0.0)
    if sparsity is not None:
        sparsity = check("sparsity", sparsity, [ListOf(NON_NEGATIVE_INT, length=depth - 1)])
    last = net.layers[-1]
    clipped = 0
    out_support = None
    if row_model(last.activation).family == "relu":
        out_support = m & (y > 0)
        rows, target, ell = out_support, y[out_support] - last.bias[out_support], 1.0
    else:
        rows = m
        inv, clipped = _output_inverse(last.activation, y[m])
        target, ell = inv - last.bias[m], _inverse_lipschitz(last.activation, y[m])
    mat = last.weight[rows]
    eps_next = ell * eps
    estimates: dict[int, np.ndarray] = {}
    counts: dict[str, np.ndarray] = {}
    stage_conv: dict[str, np.ndarray] = {}
    lam_used, eps_used, s_used = [0.0] * (depth - 1), [0.0] * (depth - 1), [0] * (depth - 1)
    info: dict[str, Any] = {"lambdas": lam_used, "eps": eps_used, "sparsity": s_used, "ell": ell,
                            "noise_bound": eps, "clipped": clipped}

    def stop(stage: str, reason: str) -> PursuitRun:
        partial = {f"x_{j}": v for j, v in sorted(estimates.items())}
        return PursuitRun(None, (), counts, np.array([False]), reason == Reason.TIME_LIMIT, stage,
                          {**info, "reason": reason, "partial_estimates": partial}, stage_conv)

    for k in range(depth - 1, 0, -1):  # estimate x_k with layer k's matrix restricted to rows
        stage = f"x_{k}"
        if deadline.expired():
            return stop(stage, Reason.TIME_LIMIT)
        lam_k = lambdas[k - 1] if lambdas is not None else 2.0 * eps_next
        if not math.isfinite(lam_k):
            why = f"lambda schedule undefined at {stage}: a matrix column is zero on the support"
            return stop(stage, why)
        if normalize:
            norms = np.linalg.norm(mat, axis=0)
            d = np.where(norms > 0, norms, 1.0)
            u, its, why = basis_pursuit(mat / d, target, lam=lam_k, nonnegative=nonnegative,
                                        iterations=iterations, tol=tol, support_tol=support_tol, deadline=deadline)
            x = np.where(norms > 0, u / d, 0.0)
        else:
            x, its, why = basis_pursuit(mat, target, lam=lam_k, nonnegative=nonnegative, iterations=iterations,
                                        tol=tol, support_tol=support_tol, deadline=deadline)
        counts[stage], stage_conv[stage] = np.array([its]), np.array([not why])
        if why and why != Reason.ITERATION_LIMIT:  # time limit or an LP failure: no estimate to go on with
            return stop(stage, why)
        sup = support_of(x, support_tol)[0]
        x = np.where(sup, x, 0.0)
        estimates[k] = x
        s_k = sparsity[k - 1] if sparsity is not None else int(sup.sum())
        col_norms = np.linalg.norm(mat, axis=0)
        min_col = float(col_norms.min()) if col_norms.size else 0.0
        if eps_next == 0.0:
            eps_k = 0.0
        else:  # Eq. (31) of [1]; a zero column makes the bound (and the next lambda) infinite
            eps_k = STABILITY_CONSTANT * math.sqrt(s_k) * eps_next / min_col if min_col > 0 else math.inf
        lam_used[k - 1], eps_used[k - 1], s_used[k - 1] = lam_k, eps_k, s_k
        eps_next = eps_k
        prev = net.layers[k - 1]
        mat, target = prev.weight[sup], x[sup] - prev.bias[sup]
    if mat.shape[0]:
        z, _, rank, _ = np.linalg.lstsq(mat, target, rcond=None)
    else:
        z, rank = np.zeros(net.latent_dim), 0
    info["rank_z"] = int(rank)  # < n_0: z is not determined by x_1 (Theorem 1 (iii) fails)
    counts["z"], stage_conv["z"] = np.array([1]), np.array([True])
    supports = [support_of(estimates[k], support_tol) for k in range(1, depth)]
    info["support_sizes"] = [int(s.sum()) for s in supports]
    if debias_step:
        res = debias(net, y[None], m[None], supports, z[None],
                     out_support=None if out_support is None else out_support[None],
                     iterations=debias_iterations, deadline=deadline)
        counts["debias"], stage_conv["debias"] = res.iterations, res.converged
        if res.timed_out:
            return PursuitRun(res.x, (), counts, np.array([False]), True, "debias", info, stage_conv)
        z = res.x[0]
        hidden = tuple(_frozen_forward(net, z[None], supports))
    else:
        hidden = (*(estimates[k][None] for k in range(1, depth)),
                  last(estimates[depth - 1][None]))
    conv = np.logical_and.reduce(list(stage_conv.values()))
    return PursuitRun(z[None], hidden, counts, conv, False, "", info, stage_conv)


# --------------------------------------------------------------------------------------------
# The Oracle, Appendix B (Algorithm 6)
# --------------------------------------------------------------------------------------------


@validate_params({"end_to_end": [Boolean], "iterations": [POSITIVE_INT]})
def oracle(
    net: Network,
    signals: np.ndarray,
    supports: Sequence[np.ndarray],
    *,
    mask: np.ndarray | None = None,
    end_to_end: bool = False,
    iterations: int = 10_000,
    deadline: Deadline | None = None,
) -> PursuitRun:
    """The layer-wise Oracle of [1] Appendix B (Algorithm 6), given the true supports.

    ``supports[k - 1]`` is the boolean support of ``x_k`` (``(batch, n_k)`` or ``(n_k,)``) for
    ``k = 1..L``; for a ReLU output an extra last entry gives the output support (default: the
    observed ``y > 0``). First step: ``x_L^{S_L} = argmin 1/2 ||phi^{-1}(y) - W_L[:, S_L] x - b_L||^2``
    over the observed rows; intermediate: ``x_i^{S_i} = argmin 1/2 ||x_{i+1}^{S_{i+1}} -
    W_i[S_{i+1}, S_i] x - b_i^{S_{i+1}}||^2``; final: ``z = argmin 1/2 ||x_1^{S_1} - W_0^{S_1} z
    - b_0^{S_1}||^2``. Least squares by ``numpy.linalg.lstsq`` (minimum norm if a supported
    matrix lacks full column rank; ``info["rank_deficient"]`` lists those stages).

    ``end_to_end=True`` then refines ``z`` by Algorithm 1 (the Oracle of Section 4:
    ``min_z 1/2 ||y - phi(prod_i W_i^{S_{i+1}} z)||^2``, solved by :func:`debias`).
    """
    deadline = deadline if deadline is not None else Deadline(None)
    y, m = _signals_and_mask(net, signals, mask)
    batch, depth = y.shape[0], net.depth
    last = net.layers[-1]
    relu_out = row_model(last.activation).family == "relu"
    sups = _supports(net, supports, batch)
    if len(sups) == depth - 1 and relu_out:
        sups.append(m & (y > 0))
    hidden_est = [np.zeros((batch, net.widths[k])) for k in range(1, depth)]
    z = np.zeros((batch, net.latent_dim))
    deficient: set[str] = set()
    clipped = 0
    for i in range(batch):
        if deadline.expired():
            return PursuitRun(None, (), {}, np.zeros(batch, dtype=bool), True, "x", {})
        if relu_out:
            rows = m[i] & sups[depth - 1][i]
            target = y[i, rows] - last.bias[rows]
        else:
            rows = m[i]
            inv, c = _output_inverse(last.activation, y[i, rows])
            clipped += c
            target = inv - last.bias[rows]
        for k in range(depth - 1, -1, -1):  # estimate x_k (k = 0: z) through layer k
            layer = net.layers[k]
            cols = sups[k - 1][i] if k > 0 else np.ones(net.latent_dim, dtype=bool)
            sub = layer.weight[np.ix_(rows, cols)]
            if sub.size:
                vals, _, rank, _ = np.linalg.lstsq(sub, target, rcond=None)
            else:
                vals, rank = np.zeros(cols.sum()), 0
            if rank < cols.sum():
                deficient.add("z" if k == 0 else f"x_{k}")
            if k == 0:
                z[i] = vals
                break
            hidden_est[k - 1][i, cols] = vals
            rows = cols
            prev = net.layers[k - 1]
            target = vals - prev.bias[cols]
    iters = {"z": np.ones(batch, dtype=np.int64)}
    conv = np.ones(batch, dtype=bool)
    hidden_sups = sups[: depth - 1]
    if end_to_end:
        res = debias(net, y, m, hidden_sups, z, out_support=sups[depth - 1] if relu_out else None,
                     iterations=iterations, deadline=deadline)
        iters["debias"], conv, z = res.iterations, res.converged, res.x
        if res.timed_out:
            return PursuitRun(z, (), iters, conv & False, True, "debias", {})
        hidden = tuple(_frozen_forward(net, z, hidden_sups))
    else:
        out = last(hidden_est[-1])
        hidden = (*hidden_est, out)
    info = {"rank_deficient": sorted(deficient), "clipped": clipped}
    return PursuitRun(z, hidden, iters, conv, False, "", info)


# --------------------------------------------------------------------------------------------
# Registered methods
# --------------------------------------------------------------------------------------------


def _to_inversion(name: str, run: PursuitRun, row: int = 0) -> Inversion:
    """Row ``row`` of a :class:`PursuitRun` as an :class:`Inversion` (status from the stopping rules)."""
    latent = None if run.latent is None else run.latent[row]
    if latent is not None and not np.all(np.isfinite(latent)):
        latent = None
    if run.cut is not None and run.cut[row]:  # the time limit stopped this row, at stage `stage`
        stage = str(run.cut[row])
        order = list(run.iterations)
        done = order[: order.index(stage)]  # the stages this row completed
        partial = {k: v[row] for k, v in run.info["partial_estimates"].items() if k in done}
        return Inversion(method=name, status=InversionStatus.UNKNOWN, latent=latent, reason=Reason.TIME_LIMIT,
                         counts={k: int(run.iterations[k][row]) for k in [*done, stage]},
                         info={"partial_estimates": partial, "stage": stage})
    counts = {k: int(v[row]) for k, v in run.iterations.items()}
    info = {k: (v[row] if isinstance(v, np.ndarray) and v.ndim else v) for k, v in run.info.items()}
    if run.cut is not None:  # the estimates of rows the time limit stopped: not this row's business
        info.pop("partial_estimates", None)
    if "partial_estimates" in info:  # one row of each (batch, n_k) estimate
        info["partial_estimates"] = {k: np.asarray(v)[row] if np.ndim(v) == 2 else v
                                     for k, v in info["partial_estimates"].items()}
    if "support_sizes" in info:
        info["support_sizes"] = [int(np.asarray(s).reshape(-1)[row]) for s in info["support_sizes"]]
    reason = info.pop("reason", "")
    hidden = tuple(h[row] for h in run.hidden)
    if run.timed_out and run.cut is None:
        status, reason = InversionStatus.UNKNOWN, Reason.TIME_LIMIT
        info["stage"] = run.stage
    elif reason:
        status = InversionStatus.UNKNOWN
        info["stage"] = run.stage
    elif not bool(run.converged[row]):
        status, reason = InversionStatus.UNKNOWN, Reason.ITERATION_LIMIT
        info["unconverged_stages"] = [k for k, v in run.stage_converged.items() if not bool(v[row])]
    else:
        status = InversionStatus.SOLVED
    return Inversion(method=name, status=status, latent=latent, hidden=hidden, reason=reason, counts=counts,
                     info=info)


_LBP_DEFAULTS: dict[str, Any] = {
    "lambdas": None, "sparsity": None, "nonnegative": False, "normalize": False, "iterations": 10_000,
    "tol": 1e-10, "support_tol": 1e-9, "debias": False, "debias_iterations": 10_000,
}
#: per-layer lists: their lengths are checked against the network by the functions
_LAMBDAS: ConstraintSpec = [NON_NEGATIVE, ListOf(NON_NEGATIVE), None]
_LBP_OPTIONS: dict[str, ConstraintSpec] = {
    "lambdas": _LAMBDAS, "sparsity": [ListOf(NON_NEGATIVE_INT), None], "nonnegative": [Boolean],
    "normalize": [Boolean], "iterations": [POSITIVE_INT], "tol": [NON_NEGATIVE], "support_tol": [NON_NEGATIVE],
    "debias": [Boolean], "debias_iterations": [POSITIVE_INT],
}


class _PursuitMethod:
    """What the three registered pursuit methods share: masks, the network check of [1]'s model
    (:func:`check_pursuit_network`) and their options read against ``option_constraints`` over
    ``defaults``."""

    name: str
    supports_mask = True
    #: the options and their constraints (read by :func:`~theorychk.solvers.base.prepare`)
    option_constraints: dict[str, ConstraintSpec]
    defaults: dict[str, Any]

    def check(self, net: Network) -> None:
        check_pursuit_network(net, self.name)

    def _options(self, options: dict[str, Any]) -> dict[str, Any]:
        return {**self.defaults, **check_options(options, self.option_constraints, method=self.name)}


class LayeredBasisPursuit(_PursuitMethod):
    """Method ``lbp``: Layered Basis-Pursuit, Algorithm 2 of [1] (see :func:`layered_basis_pursuit`).

    ``noise`` is the bound ``eps >= ||e||_2`` of Algorithm 2 (on the observed coordinates) and
    drives the lambda schedule; ``None`` means 0 (basis pursuit by LP at every layer).
    Options: ``lambdas`` (list ``[lam_1, ..., lam_L]`` overriding the schedule), ``sparsity``
    (``[s_1, ..., s_L]``), ``nonnegative`` (False), ``normalize`` (False: Algorithm 2 as printed;
    True: each step on column-normalised matrices, as Theorem 2's proof needs), ``iterations`` (10,000) and ``tol`` (1e-10)
    for FISTA, ``support_tol`` (1e-9), ``debias`` (False), ``debias_iterations`` (10,000).
    Masks: yes. Hidden layers must be ReLU.

    References
    ----------
    .. [1] Aberdam, Simon, Elad (2020), Algorithm 2, Theorem 2, Corollary 2.
    """

    name = "lbp"
    summary = "Layered Basis-Pursuit (Aberdam et al. Alg. 2): l1 sparse coding layer by layer"
    option_constraints = _LBP_OPTIONS
    defaults = _LBP_DEFAULTS

    def run(self, problem: Problem) -> Inversion:
        opts = self._options(problem.options)
        run = layered_basis_pursuit(
            problem.net, problem.y, mask=problem.mask, noise=problem.noise, lambdas=opts["lambdas"],
            sparsity=opts["sparsity"], nonnegative=bool(opts["nonnegative"]), normalize=bool(opts["normalize"]),
            iterations=opts["iterations"],
            tol=opts["tol"], support_tol=opts["support_tol"], debias_step=bool(opts["debias"]),
            debias_iterations=opts["debias_iterations"], deadline=problem.deadline,
        )
        return _to_inversion(self.name, run)


_LATENT_DEFAULTS: dict[str, Any] = {
    "lambdas": None, "rho": 1e-2, "gamma": 0.0, "iterations": 10_000, "tol": 1e-12, "step": None,
    "restart": True, "support_tol": 1e-6, "debias": False, "debias_iterations": 10_000, "check_every": 10,
}
_LATENT_OPTIONS: dict[str, ConstraintSpec] = {
    "lambdas": _LAMBDAS, "rho": [POSITIVE, ListOf(POSITIVE)], "gamma": [NON_NEGATIVE], "iterations": [POSITIVE_INT],
    "tol": [NON_NEGATIVE], "step": [POSITIVE, None], "restart": [Boolean], "support_tol": [NON_NEGATIVE],
    "debias": [Boolean], "debias_iterations": [POSITIVE_INT], "check_every": [POSITIVE_INT],
}


class LatentPursuit(_PursuitMethod):
    """Method ``latent``: Latent-Pursuit, Algorithm 5 of [1] (see :func:`latent_pursuit`).

    Options (defaults as [1] Section 6): ``lambdas`` (0 per hidden layer), ``rho`` (1e-2, number
    or one per layer), ``gamma`` (0; the MAP weight of Eq. 16), ``iterations`` (10,000 per
    stage), ``tol`` (1e-12), ``step`` (FISTA step of Algorithm 3; default from the curvature
    bound), ``restart`` (True), ``support_tol`` (1e-6), ``debias`` (False),
    ``debias_iterations`` (10,000), ``check_every`` (10: iterations between deadline checks).
    ``noise`` is not used (Algorithm 5 has no noise-dependent parameter; [1] runs it with
    ``lambda = 0`` on noisy signals). Masks: yes. Hidden layers must be ReLU.

    Batched (:meth:`run_batch`): many signals go through one :func:`latent_pursuit` call; every
    stopping rule and step is per signal, so each gets what :meth:`run` gives it alone, and the
    time limit applies to each signal on its own.

    References
    ----------
    .. [1] Aberdam, Simon, Elad (2020), Algorithms 3-5, Equations (8)-(18).
    """

    name = "latent"
    summary = "Latent-Pursuit (Aberdam et al. Alg. 5): FISTA + linearised ADMM with ReLU sign constraints"
    option_constraints = _LATENT_OPTIONS
    defaults = _LATENT_DEFAULTS

    def run(self, problem: Problem) -> Inversion:
        return self._invert(problem.net, problem.y[None], problem.mask, problem.deadline, problem.options)[0]

    def run_batch(self, problems: BatchProblem) -> list[Inversion]:
        """Every signal in one :func:`latent_pursuit` call (see :meth:`run`)."""
        return self._invert(problems.net, problems.y, problems.mask, problems.budget, problems.options)

    def _invert(self, net: Network, y: np.ndarray, mask: np.ndarray, deadline: Deadline | RowBudget,
                options: dict[str, Any]) -> list[Inversion]:
        opts = self._options(options)
        run = latent_pursuit(
            net, y, mask=mask, lambdas=opts["lambdas"], rho=opts["rho"],
            gamma=opts["gamma"], iterations=opts["iterations"], tol=opts["tol"], step=opts["step"],
            restart=bool(opts["restart"]), support_tol=opts["support_tol"], debias_step=bool(opts["debias"]),
            debias_iterations=opts["debias_iterations"], deadline=deadline,
            check_every=opts["check_every"],
        )
        return [_to_inversion(self.name, run, i) for i in range(y.shape[0])]


_ORACLE_DEFAULTS: dict[str, Any] = {
    "supports": None, "latent_true": None, "end_to_end": False, "iterations": 10_000,
}
_ORACLE_OPTIONS: dict[str, ConstraintSpec] = {
    "supports": [ArrayLike, None], "latent_true": [ArrayLike, None], "end_to_end": [Boolean],
    "iterations": [POSITIVE_INT],
}


def oracle_supports(net: Network, latent: np.ndarray) -> list[np.ndarray]:
    """The true supports ``[S_1, ..., S_L]`` of ``latent`` (plus the output's for a ReLU output)."""
    sups = net.supports(latent)
    return sups if row_model(net.activations[-1]).family == "relu" else sups[:-1]


class Oracle(_PursuitMethod):
    """Method ``oracle``: the layer-wise Oracle of [1] Appendix B, Algorithm 6 (see :func:`oracle`).

    Options: ``supports`` (list of boolean arrays ``[S_1, ..., S_L]``, theorychk order; for a
    ReLU output optionally one more, the output support) or ``latent_true`` (the supports are
    those of its forward pass); ``end_to_end`` (False: Algorithm 6; True: then Algorithm 1);
    ``iterations`` (Gauss-Newton cap of the end-to-end step). ``noise`` is not used. Masks: yes.

    References
    ----------
    .. [1] Aberdam, Simon, Elad (2020), Algorithm 1, Appendix B (Algorithm 6, Theorem 3).
    """

    name = "oracle"
    summary = "Oracle of Aberdam et al. App. B: layer-wise least squares on the true supports"
    option_constraints = _ORACLE_OPTIONS
    defaults = _ORACLE_DEFAULTS

    def run(self, problem: Problem) -> Inversion:
        opts = self._options(problem.options)
        net = problem.net
        supports = _oracle_input(net, opts["supports"], opts["latent_true"])
        run = oracle(net, problem.y[None], supports, mask=problem.mask, end_to_end=bool(opts["end_to_end"]),
                     iterations=opts["iterations"], deadline=problem.deadline)
        return _to_inversion(self.name, run)


def _oracle_input(net: Network, supports: Any, latent_true: Any) -> list[np.ndarray]:
    """The supports the ``oracle`` method is told: given, or those of ``latent_true``."""
    if (supports is None) == (latent_true is None):
        raise InvalidInput(
            "method 'oracle' needs exactly one of the options supports=[S_1, ..., S_L] or latent_true=z",
            argument="supports", got={"supports": supports, "latent_true": latent_true}
        )
    if latent_true is not None:
        z = np.asarray(latent_true, dtype=float)
        if z.shape != (net.latent_dim,) or not np.all(np.isfinite(z)):
            raise invalid("latent_true", f"a finite vector of length {net.latent_dim}", latent_true)
        return oracle_supports(net, z)
    return list(supports)  # checked by oracle()


def _supports(net: Network, supports: Any, batch: int) -> list[np.ndarray]:
    """``supports`` as ``(batch, n_k)`` booleans, one per hidden layer (and one more for a ReLU
    output, optionally); each ``(n_k,)`` or ``(batch, n_k)``, boolean dtype -- a 0/1 float array
    is refused rather than cast (0.5 would read as true)."""
    relu_out = row_model(net.activations[-1]).family == "relu"
    allowed = (net.depth - 1, net.depth) if relu_out else (net.depth - 1,)
    sups = list(supports) if isinstance(supports, (list, tuple)) else []
    if len(sups) not in allowed:
        raise invalid("supports", f"a list of one boolean array per hidden layer ({net.depth - 1}"
                      f"{' or one more for the ReLU output' if relu_out else ''})", supports)
    out = []
    for k, s in enumerate(sups):
        arr, n = np.asarray(s), net.widths[k + 1]
        if arr.dtype != bool or arr.shape not in ((n,), (batch, n)):
            raise invalid(f"supports[{k}]", f"a boolean array of length {n} (the support of x_{k + 1})", s)
        out.append(np.broadcast_to(arr, (batch, n)))
    return out


register(LayeredBasisPursuit())
register(LatentPursuit())
register(Oracle())
