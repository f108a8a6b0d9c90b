r"""Per-signal stability of inversion under noise: which theorem applies and what it guarantees.

Every claim evaluates a theorem's hypotheses on the real weights at the actual signal ``y =
G(z*)`` and, when they hold, states the guaranteed error as an exact rational (an upper bound on
the theorem's value where that value is irrational: square roots by verified integer square
roots, eigenvalues by exactly verified positive-definiteness). Indices are ours (layer ``j``:
``x_j -> x_{j+1} = act_j(W_j x_j + b_j)``, ``L = depth``); ``eps`` is the noise level.

``lei_linf`` — Theorem 4 (Appendix B.1) and Lemma 2 of Lei et al. [1] (l_inf noise, Algorithm 1)
    *As printed*: if each ``W_i`` satisfies Assumption 2 with ``m_i > n_{i-1}`` and constant
    ``c_inf``, ``||e||_inf <= eps``, and each ``z_i`` has at least ``m_i`` coordinates larger than
    ``2^{d+1-i} eps / c_inf^{d-i}``, then recursively applying Algorithm 1 gives
    ``||z - z*||_inf <= 2^d eps / c_inf^d`` (w.h.p.). Assumption 2 is garbled in print; corrected
    in :mod:`theorychk.invariants.cnorm`. *Implemented, per signal* (what the proof of Lemma 2
    uses): going down from ``eps_L = eps``, at layer ``j`` let ``J_j = {r : x*_{j+1,r} > 2
    eps_{j+1}}`` (every row after an invertible activation, whose inverse is ``l_j``-Lipschitz on
    the noisy range); every feasible point of Algorithm 1's LP (3) at tolerance ``eps_{j+1}``
    (``l_j eps_{j+1}`` on pre-activations) satisfies ``||W_{J_j}(x - x*_j)||_inf <= 2 l_j
    eps_{j+1}``, so ``||x - x*_j||_inf <= eps_j := 2 l_j eps_{j+1} / c_inf(W_j^{J_j})``. Guarantee:
    ``||z - z*||_inf <= eps_0``, for every output of the layer-wise LPs run with the true noise
    levels (the proof does not cover Algorithm 1's search over smaller tolerances, where rows
    with ``x*_r = 0`` may enter ``I``). Hypothesis: ``c_inf(W_j^{J_j}) > 0`` for every layer,
    with a certified lower bound (LP duals per facet, or an approximate left inverse).

``lei_l1`` — Theorem 3 of [1] (l_1 noise, Algorithm 2)
    Same chain in l_1: the l_1 LP's optimum is at most its value at ``x*`` (``<= ||e||_1``), so
    ``||W_J (x - x*)||_1 <= 2 l eps`` and ``eps_j = 2 l_j eps_{j+1} / c_1(W_j^{J_j})`` with
    ``J_j = {x*_{j+1,r} > 2 eps_{j+1}}`` (``|e_r| <= ||e||_1``). ``c_1`` exact by kernel rays when
    ``C(|J|, n_j - 1)`` is small, else an approximate-left-inverse lower bound.

``aberdam_thm2`` — Theorem 2 of Aberdam et al. [2], bound (7) (Layered Basis-Pursuit, l_2 noise)
    *As printed*: if ``s_i < 1/(3 mu_{s_{i+1}}(W_i))`` for ``i = 1..L`` (paper's L = our
    ``depth - 1``, ``s_{L+1} = n``) and ``phi = lambda_min((W_0^{S_1})^T W_0^{S_1}) > 0``, then
    ``||z_hat - z||_2 < (eps l / sqrt(phi)) prod_{i=1}^{L} (3 + sqrt(1.5)) sqrt(s_i) /
    min_j ||w_{i,j}^{S_{i+1}}||_2`` (printed ``sqrt(s_j)``: a typo for ``s_i``). Correction: the
    proof applies Tropp's lemma to ``W_i^{S_hat_{i+1}}`` with ``S_hat`` the support recovered one
    layer up, of which it only shows ``S_hat subset S``; ``mu_s`` covers row sets of size exactly
    ``s``, and ``min_j ||w^{S_hat}||`` depends on ``S_hat``. The guarantee is therefore stated
    *conditional on exact support recovery* (``S_hat_i = S_i``), with the hypotheses evaluated on
    the actual supports: ``9 s_i^2 mu(W_i^{S_{i+1}})^2 < 1`` exactly. ``mu_{s_{i+1}}(W_i)`` as
    printed is reported when it can be computed in time. Needs ReLU hidden layers and an
    invertible last activation (the paper's model).

``aberdam_oracle`` — Theorem 3 of [2] (Appendix B, the layer-wise Oracle, Gaussian noise)
    With ``e ~ N(0, sigma^2 I)``, known supports and ``phi`` the identity: ``sigma^2 s_i /
    prod_{j=i}^{L} lambda_max(Wb_j^T Wb_j) <= E||x_hat_i - x_i||^2 <= sigma^2 s_i / prod_{j=i}^{L}
    lambda_min(Wb_j^T Wb_j)`` with ``Wb_j = W_j[S_{j+1}, S_j]`` (``S_{L+1}`` all rows, or the
    output support after a ReLU last layer; ``S_0`` all latent coordinates), and the same with
    ``n_0`` for ``z``. Correct as printed given full column rank of every ``Wb_j``. Implemented
    with ``sigma = eps``; eigenvalues enclosed by rationals ``lambda_lo <= lambda_min``,
    ``lambda_max <= lambda_hi`` proven by exact LDL^T, so the reported interval contains the
    theorem's.

References
----------
.. [1] Q. Lei, A. Jalal, I. S. Dhillon, A. G. Dimakis, "Inverting Deep Generative Models, One
   Layer at a Time" (``shared/papers/001_*``): Assumptions 2, 3, Lemma 2, Theorems 3, 4.
.. [2] A. Aberdam, D. Simon, M. Elad, "When and How Can Deep Generative Models be Inverted?"
   (``shared/papers/004_*``): Theorem 2, bound (7), Appendix B (Theorem 3), Appendix C.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from theorychk import exact
from theorychk.certify.signal import make_claim
from theorychk.check.core import Trace
from theorychk.check.rationals import is_positive_definite
from theorychk.check.stability import KERNEL_CAP, THM2_CONDITION, aberdam_bound, lei_rows, lipschitz, oracle_bounds
from theorychk.errors import InvalidInput
from theorychk.network import Identity, ReLU
from theorychk.runtime import Deadline
from theorychk.verdict import EngineStatus, Status

__all__ = ["STABILITY_KINDS", "stability_claims", "eigen_bounds", "c_lower_bound"]

STABILITY_KINDS = ("lei_linf", "lei_l1", "aberdam_thm2", "aberdam_oracle")

STATEMENTS = {
    "lei_linf": "every output z of the layer-wise l_inf LPs (Algorithm 1, true noise levels) on y + e with "
                "||e||_inf <= eps satisfies ||z - z*||_inf <= bound",
    "lei_l1": "every output z of the layer-wise l_1 LPs (Algorithm 2) on y + e with ||e||_1 <= eps satisfies "
              "||z - z*||_1 <= bound",
    "aberdam_thm2": "if Layered Basis-Pursuit (Algorithm 2) on y + e, ||e||_2 <= eps, recovers the true supports, "
                    "then ||z_hat - z*||_2 < bound (bound (7))",
    "aberdam_oracle": "for e ~ N(0, eps^2 I), the layer-wise Oracle (Algorithm 6) has E||x_hat_i - x_i||^2 in "
                      "[lower_i, upper_i] and E||z_hat - z*||^2 in [lower_z, upper_z]",
}


#: ``||I - L A||`` up to which the float32-rounded pseudo-inverse is used as ``L`` (the bound
#: then loses at most this fraction against a float64 ``L``, for half the digits to store and check)
SHORT_L_DEFECT = Fraction(1, 1000)


def _approx_left_inverse(a: np.ndarray, norm: str, deadline: Deadline | None = None
                         ) -> tuple[Fraction, dict[str, Any]] | None:
    """``c >= (1 - ||I - L A||) / ||L||`` for any rational ``L`` (induced l_inf or l_1 norms).

    ``L`` is the pseudo-inverse rounded to float32 when that keeps ``||I - L A|| <= 1/1000``
    (any rational ``L`` is valid evidence; shorter numbers make the certificate and its exact
    check smaller), else the float64 pseudo-inverse.
    """
    deadline = deadline or Deadline(None)
    try:
        lf = np.linalg.pinv(a)
    except np.linalg.LinAlgError:
        return None
    short = _left_inverse_bound(a, lf.astype(np.float32).astype(np.float64), norm, deadline)
    if short is not None and short[2] <= SHORT_L_DEFECT:
        return short[0], short[1]
    full = _left_inverse_bound(a, lf, norm, deadline)
    return None if full is None else (full[0], full[1])


def _left_inverse_bound(a: np.ndarray, lf: np.ndarray, norm: str, deadline: Deadline | None = None
                        ) -> tuple[Fraction, dict[str, Any], Fraction] | None:
    """The bound of :func:`_approx_left_inverse` for the float matrix ``lf`` (exactly), its
    evidence and ``||I - L A||``; ``None`` when ``||I - L A|| >= 1``.

    ``L`` is read exactly (dyadic), so ``L A`` is one integer product ``s_L s_A (Z_L Z_A)`` in
    flint, not a rational one (17 s on 784 x 500 before, issue 14).
    """
    deadline = deadline or Deadline(None)
    k = a.shape[1]
    deadline.check("approximate left inverse")
    zl, sl = exact.to_fmpz_mat(lf)
    za, sa = exact.to_fmpz_mat(a)
    deadline.check("approximate left inverse")
    prod = zl * za
    scale = sl * sa
    den, num = scale.denominator, scale.numerator
    # E = I - L A = (den I - num Z_L Z_A) / den, entries as integers over den
    e_int = [[(den if i == j else 0) - num * int(prod[i, j]) for j in range(k)] for i in range(k)]
    l_int = [[int(zl[i, j]) for j in range(int(zl.ncols()))] for i in range(k)]
    deadline.check("approximate left inverse")
    if norm == "inf":
        n_e = Fraction(max(sum(abs(v) for v in r) for r in e_int), den)
        n_l = sl * max(sum(abs(v) for v in r) for r in l_int)
    else:
        n_e = Fraction(max(sum(abs(e_int[i][j]) for i in range(k)) for j in range(k)), den)
        n_l = sl * max(sum(abs(l_int[i][j]) for i in range(k)) for j in range(len(l_int[0])))
    lq = [[sl * v for v in row] for row in l_int]
    if n_e >= 1 or n_l == 0:
        return None
    return (1 - n_e) / n_l, {"method": "approx_left_inverse", "L": lq}, n_e


#: Facets per batched IRLS step of :func:`_linf_bracket` (deadline checks in between).
_IRLS_CHUNK = 16

#: Above this many ``rows * k**3`` the exact c_inf engine is replaced by :func:`_linf_bracket`.
EXACT_CINF_LIMIT = 2_000_000


def _facet_bounds(a: tuple[Any, Fraction], ys: np.ndarray, facets: list[int] | None = None) -> list[Fraction]:
    """Exact weak-duality bounds ``(|g_j| - sum_{l != j} |g_l|) / ||y||_1``, ``g = A^T y``, for the rows ``y``
    of ``ys`` and facets ``j`` (default ``0, 1, ...``); ``a = (Z, s)`` with ``A = s Z`` integer; the
    scale of ``y`` cancels."""
    facets = list(range(ys.shape[0])) if facets is None else facets
    za, sa = a
    zy, _ = exact.to_fmpz_mat(ys.T)
    g = za.transpose() * zy
    k = za.ncols()
    ny = [sum(abs(int(zy[i, f])) for i in range(zy.nrows())) for f in range(ys.shape[0])]
    out = []
    for f in range(ys.shape[0]):
        col = [abs(int(g[l, f])) for l in range(k)]
        out.append(sa * Fraction(max(0, 2 * col[facets[f]] - sum(col)), ny[f]) if ny[f] else Fraction(0))
    return out


def _linf_bracket(a: np.ndarray, az: tuple[Any, Fraction] | None = None, *, iterations: int = 8,
                  time_limit: float | None = None, sparsify: float = 1e-4, rel_gap: float = 1e-6
                  ) -> tuple[Fraction, Fraction, np.ndarray]:
    """Certified ``lo <= c_inf(A) <= hi`` for a tall full-rank ``A`` without one LP per facet.

    Each facet ``x_j = 1`` of ``c_inf = min_j LP_j`` gets a dual vector from iteratively
    reweighted least squares for the l_1-minimal left-inverse row (batched, BLAS), rounded to
    float32 and sparsified (entries below ``sparsify`` times the largest dropped): any rational
    ``y`` is a valid certificate (weak duality, bound recomputed exactly). The facets whose bound
    is below the best upper bound are then solved as LPs (HiGHS, warm-started) until the
    bracket is within ``rel_gap``: the float dual improves that facet's bound, the float primal
    point ``x`` gives the exact upper bound ``||A x||_inf / ||x||_inf``. ``az = (Z, s)`` is the
    exact integer form ``A = s Z`` if the caller has it.
    """
    from theorychk._highs import INF, Model, Program, SolveStatus

    r, k = a.shape
    deadline = Deadline(time_limit)
    ys = np.linalg.pinv(a)
    for _ in range(iterations):
        # Facets in chunks: one batched step over all k facets of a 784 x 500 layer is a
        # 500 x 784 x 500 array and tens of seconds; a chunk is short enough to check the deadline.
        nxt = np.empty_like(ys)
        for lo in range(0, k, _IRLS_CHUNK):
            deadline.check("c_inf bracket")
            part = ys[lo:lo + _IRLS_CHUNK]
            d = np.abs(part) + 1e-12 * np.abs(part).max(axis=1, keepdims=True)
            ad = a[None, :, :] * d[:, :, None]
            try:
                coef = np.linalg.solve(np.matmul(a.T[None, :, :], ad), np.eye(k)[lo:lo + _IRLS_CHUNK, :, None])
            except np.linalg.LinAlgError:
                nxt = None
                break
            nxt[lo:lo + _IRLS_CHUNK] = np.matmul(ad, coef)[:, :, 0]
        if nxt is None or not np.all(np.isfinite(nxt)):
            break
        ys = nxt

    def clean(y: np.ndarray) -> np.ndarray:
        y = y.astype(np.float32).astype(np.float64)
        return np.where(np.abs(y) > sparsify * np.abs(y).max(), y, 0.0)

    ys = np.array([clean(y) for y in ys])
    az = az if az is not None else exact.to_fmpz_mat(a)
    deadline.check("c_inf bracket")
    lbs = _facet_bounds(az, ys)
    deadline.check("c_inf bracket")
    hi: Fraction | None = None
    # LP_j: min t  s.t.  A x - t <= 0 <= A x + t, x_j = 1, -1 <= x <= 1   (variables x, t)
    model = Model(Program(np.vstack([np.c_[a, -np.ones(r)], np.c_[a, np.ones(r)]]), cost=np.r_[np.zeros(k), 1.0],
                          col_lower=np.r_[-np.ones(k), 0.0], col_upper=np.r_[np.ones(k), INF],
                          row_lower=np.r_[np.full(r, -INF), np.zeros(r)],
                          row_upper=np.r_[np.zeros(r), np.full(r, INF)]))
    fixed = None
    for f in sorted(range(k), key=lambda q: lbs[q]):
        if (hi is not None and lbs[f] >= hi * (1 - Fraction(rel_gap))) or deadline.expired():
            break
        if fixed is not None:
            model.set_col_bounds(fixed, -1.0, 1.0)
        model.set_col_bounds(f, 1.0, 1.0)
        fixed = f
        sol = model.solve(deadline)
        if sol.status is not SolveStatus.OPTIMAL or sol.x is None:
            continue
        xz, _ = exact.to_fmpz_mat(np.asarray(sol.x[:k])[:, None])
        ax = az[0] * xz
        val = az[1] * Fraction(max(abs(int(ax[i, 0])) for i in range(r)), max(abs(int(xz[q, 0])) for q in range(k)))
        hi = val if hi is None else min(hi, val)
        if sol.row_dual is not None:
            y = clean(sol.row_dual[:r] + sol.row_dual[r:])
            if np.any(y):
                lb = _facet_bounds(az, y[None, :], [f])[0]
                if lb > lbs[f]:
                    lbs[f], ys[f] = lb, y
    return min(lbs), hi if hi is not None else Fraction(0), ys


def c_lower_bound(tr: Trace, j: int, rows: list[int], norm: str, *, time_limit: float | None
                  ) -> tuple[Fraction | None, dict[str, Any]]:
    """A certified lower bound on ``c_norm(W_j^rows)`` with checkable evidence (``None``: none > 0).

    l_inf: exact by :func:`~theorychk.invariants.cnorm.c_inf_of_rows` (LP duals per facet) when
    ``rows * k**3 <= EXACT_CINF_LIMIT``, else the certified bracket of :func:`_linf_bracket`
    (``c_upper`` recorded). l_1: exact over kernel rays when ``C(rows, k - 1) <= KERNEL_CAP``, else
    the approximate-left-inverse bound.
    """
    from theorychk.invariants.cnorm import c_1_of_rows, c_inf_of_rows

    w = tr.net.layers[j].weight
    k = w.shape[1]
    a = w[rows, :]
    if not tr.full_rank(j, rows):
        return None, {"method": "rank deficient", "rows": len(rows), "n": k}
    if norm == "inf" and len(rows) * k ** 3 > EXACT_CINF_LIMIT:
        lo, hi, ys = _linf_bracket(a, (tr.int_matrix(j, rows), tr.integer_weight(j)[1]), time_limit=time_limit)
        if lo > 0:
            certs = [{"facet": f, "y": {str(rows[i]): Fraction(float(v)) for i, v in enumerate(y) if v}}
                     for f, y in enumerate(ys)]
            return lo, {"method": "lp_duals", "certificates": certs, "c_upper": hi, "exact": lo == hi}
    elif norm == "inf":
        res = c_inf_of_rows(w, rows, time_limit=time_limit)
        if res.lower.value > 0 and "certificates" in res.lower.evidence:
            certs = [{"facet": c["facet"], "y": {str(r): v for r, v in c["y"].items()}}
                     for c in res.lower.evidence["certificates"]]
            return res.lower.value, {"method": "lp_duals", "certificates": certs, "c_upper": res.upper.value,
                                     "exact": res.exact}
    elif math.comb(len(rows), k - 1) <= KERNEL_CAP:
        res = c_1_of_rows(w, rows, time_limit=time_limit, method="kernels")
        if res.exact:
            return res.value, {"method": "kernel_rays"}
    out = _approx_left_inverse(a, norm, Deadline(time_limit))
    return (None, {"method": "no certified bound"}) if out is None else out


def eigen_bounds(gram: Sequence[Sequence[Fraction]]) -> tuple[Fraction, Fraction] | None:
    """Rationals ``lo <= lambda_min``, ``lambda_max <= hi`` of a symmetric rational matrix, verified
    exactly (``G - lo I`` and ``hi I - G`` positive definite); ``None`` if no ``lo > 0`` is found."""
    k = len(gram)
    ev = np.linalg.eigvalsh(np.array([[float(v) for v in r] for r in gram]))
    lo_f, hi_f = float(ev[0]), float(ev[-1])
    if lo_f <= 0:
        return None

    def shifted(lam: Fraction, sign: int) -> list[list[Fraction]]:
        return [[(lam * (i == j) - gram[i][j]) * sign for j in range(k)] for i in range(k)]

    for f in (1e-6, 1e-3, 0.1, 0.5):
        lo = Fraction(float(f"{lo_f * (1 - f):.6g}"))
        if lo > 0 and is_positive_definite(shifted(lo, -1)):
            break
    else:
        return None
    for f in (1e-6, 1e-3, 0.1, 1.0):
        hi = Fraction(float(f"{hi_f * (1 + f):.6g}"))
        if is_positive_definite(shifted(hi, 1)):
            return lo, hi
    return None


def _gram(tr: Trace, j: int, rows: list[int], cols: list[int] | None = None) -> list[list[Fraction]]:
    g = tr.weight(j, rows, cols)
    g = g.transpose() * g
    return [[exact.rational(g[a, b]) for b in range(g.ncols())] for a in range(g.nrows())]


# --------------------------------------------------------------------------------------------


def _lei(tr: Trace, eps: Fraction, norm: str, deadline: Deadline) -> dict[str, Any]:
    kind = "lei_linf" if norm == "inf" else "lei_l1"
    e_out, layers, hyps = eps, [], []
    for j in reversed(range(tr.net.depth)):
        deadline.check(kind)
        rows = lei_rows(tr, j, 2 * e_out)
        ell = lipschitz(tr, j, e_out)
        c, cev = (None, {"method": "no finite inverse Lipschitz constant"}) if ell is None else \
            c_lower_bound(tr, j, rows, norm, time_limit=_remaining(deadline))
        hyps.append({"name": f"layer {j}: c_{norm}(W_{j}^J) > 0 on the {len(rows)} rows with x*_{j + 1} > 2 eps_{j + 1}"
                             if tr.relu(j) else f"layer {j}: c_{norm}(W_{j}) > 0 (all rows; inverse Lipschitz {ell})",
                     "holds": c is not None and c > 0,
                     "values": {"rows": len(rows), "n": tr.net.widths[j], "c_lower": c, "lipschitz": ell,
                                "paper_m_gt_n": len(rows) > tr.net.widths[j]}})
        if c is None or ell is None:
            return make_claim(kind, Status.UNKNOWN, statement=STATEMENTS[kind], hypotheses=hyps,
                              evidence={"noise": eps}, reason=f"layer {j}: {cev['method']}")
        e_in = 2 * ell * e_out / c
        layers.append({"layer": j, "noise_out": e_out, "lipschitz": ell, "c_lower": c, "c_evidence": cev,
                       "noise_in": e_in})
        e_out = e_in
    return make_claim(kind, Status.CERTIFIED, statement=STATEMENTS[kind], hypotheses=hyps,
                      evidence={"noise": eps, "layers": layers, "bound": e_out})


def _remaining(deadline: Deadline) -> float | None:
    rem = deadline.remaining()
    return None if rem is None else max(rem, 1e-3)


def _aberdam_applicable(tr: Trace) -> str:
    if any(not tr.relu(j) for j in range(tr.net.depth - 1)):
        return "outside the paper's model: a hidden activation is not ReLU"
    return ""


def _thm2(tr: Trace, eps: Fraction, deadline: Deadline) -> dict[str, Any]:
    from theorychk.invariants.mu_s import coherence_s

    kind, net = "aberdam_thm2", tr.net
    why = _aberdam_applicable(tr) or ("outside the paper's model: the last activation is a ReLU (not invertible)"
                                      if tr.relu(net.depth - 1) else "")
    if why:
        return make_claim(kind, Status.UNKNOWN, statement=STATEMENTS[kind], evidence={"noise": eps}, reason=why)
    ell = lipschitz(tr, net.depth - 1, eps)
    gram0 = _gram(tr, 0, tr.observed_rows(0))
    eig = eigen_bounds(gram0) if gram0 and len(tr.observed_rows(0)) >= net.latent_dim else None
    phi = eig[0] if eig else None
    res = aberdam_bound(tr, eps, ell, phi)
    hyps = [{"name": "phi = lambda_min((W_0^{S_1})^T W_0^{S_1}) > 0", "holds": phi is not None,
             "values": {"phi_lower": phi}},
            {"name": "inverse of the last activation is Lipschitz on y +- eps", "holds": ell is not None,
             "values": {"lipschitz": ell}}]
    for lay in res["layers"]:
        j, s = lay["layer"], lay["s"]
        printed: dict[str, Any] = {}
        rows_next = len(tr.observed_rows(j))
        if not deadline.expired() and rows_next:
            mu = coherence_s(net.layers[j].weight, rows_next, time_limit=min(2.0, deadline.remaining() or 2.0))
            holds = True if 3 * s * mu.upper.value < 1 else (False if 3 * s * mu.lower.value >= 1 else None)
            printed = {"s_next": rows_next, "mu_s_lower": mu.lower.value, "mu_s_upper": mu.upper.value,
                       "holds": holds}
        hyps.append({"name": f"layer {j}: s_{j} < 1/(3 mu(W_{j}^S)) on the actual support", "holds": lay["holds"],
                     "values": {"s": s, "mu_squared": lay["mu_squared"], "as_printed_mu_s": printed}})
    ok = res["bound"] is not None
    reason = "" if ok else "a hypothesis fails"
    ev = {"noise": eps, "lipschitz": ell, "phi_lower": phi, "bound": res["bound"],
          "conditional_on": THM2_CONDITION}
    return make_claim(kind, Status.CERTIFIED if ok else Status.UNKNOWN, statement=STATEMENTS[kind],
                      hypotheses=hyps, evidence=ev, reason=reason)


def _oracle(tr: Trace, eps: Fraction) -> dict[str, Any]:
    kind, net = "aberdam_oracle", tr.net
    last = tr.specs[-1]
    why = _aberdam_applicable(tr) or ("" if isinstance(net.layers[-1].activation, (Identity, ReLU)) else
                                      f"the Oracle theorem assumes an identity last activation; got {last!r}")
    if why:
        return make_claim(kind, Status.UNKNOWN, statement=STATEMENTS[kind], evidence={"sigma": eps}, reason=why)
    eig: list[dict[str, Any]] = []
    for j in range(net.depth):
        cols = tr.support(j - 1) if j > 0 else None
        rows = tr.observed_rows(j)
        g = _gram(tr, j, rows, cols) if rows and (cols is None or cols) else []
        b = eigen_bounds(g) if g and len(rows) >= len(g) else None
        if b is None:
            return make_claim(kind, Status.UNKNOWN, statement=STATEMENTS[kind], evidence={"sigma": eps},
                              reason=f"layer {j}: the supported matrix W_{j}[S_{j + 1}, S_{j}] lacks full column rank",
                              hypotheses=[{"name": f"layer {j}: W_{j}[S_{j + 1}, S_{j}] full column rank",
                                           "holds": False, "values": {}}])
        eig.append({"layer": j, "lambda_min_lower": b[0], "lambda_max_upper": b[1]})
    bounds = oracle_bounds(tr, eps, [e["lambda_min_lower"] for e in eig], [e["lambda_max_upper"] for e in eig])
    hyps = [{"name": f"layer {e['layer']}: W_{e['layer']}[S_{e['layer'] + 1}, S_{e['layer']}] full column rank",
             "holds": True, "values": {"lambda_min_lower": e["lambda_min_lower"]}} for e in eig]
    return make_claim(kind, Status.CERTIFIED, statement=STATEMENTS[kind], hypotheses=hyps,
                      evidence={"sigma": eps, "eigenvalues": eig, "bounds": bounds})


def stability_claims(
    tr: Trace,
    *,
    noise: Fraction,
    kinds: Sequence[str] = STABILITY_KINDS,
    deadline: Deadline | None = None,
) -> list[dict[str, Any]]:
    """The stability claims at noise level ``noise`` for the exact trace ``tr`` (module docstring)."""
    deadline = deadline or Deadline(None)
    unknown = sorted(set(kinds) - set(STABILITY_KINDS))
    if unknown:
        raise InvalidInput(f"unknown stability claim(s) {unknown}; valid: {', '.join(STABILITY_KINDS)}")
    if not noise > 0:
        raise InvalidInput(f"noise must be a positive number; got {noise}")
    out = []
    for kind in kinds:
        if kind == "lei_linf":
            out.append(_lei(tr, noise, "inf", deadline))
        elif kind == "lei_l1":
            out.append(_lei(tr, noise, "1", deadline))
        elif kind == "aberdam_thm2":
            out.append(_thm2(tr, noise, deadline))
        else:
            out.append(_oracle(tr, noise))
    return out

