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
    with ``x*_r = 0`` may enter ``I``). Hypothesis: ``c_inf(W_j^{J_j}) > 0`` for every layer.
    ``eps_j`` only grows as ``c`` shrinks, so the chain needs a *certified lower bound* on ``c``,
    not its value: one integer dual vector per facet (LP weak duality, exact for any ``y``), or an
    approximate left inverse. The exact constant is computed only where it is cheap
    (``|J| k^3 <= EXACT_CINF_LIMIT``: ~1-2 ms more than the bound), or on request
    (``exact_constants=True``, CLI ``--exact-constants``: up to ``EXACT_CINF_REACH``), and then
    proven attained by a primal ``x``; each layer says which (``"constant": "exact"`` or
    ``"lower_bound"``).

``lei_l1`` — Theorem 3 of [1] (l_1 noise, Algorithm 2)
    Same chain in l_1: the l_1 LP's optimum is at most its value at ``x*`` (``<= ||e||_1``), so
    ``||W_J (x - x*)||_1 <= 2 l eps`` and ``eps_j = 2 l_j eps_{j+1} / c_1(W_j^{J_j})`` with
    ``J_j = {x*_{j+1,r} > 2 eps_{j+1}}`` (``|e_r| <= ||e||_1``). ``c_1`` exact by kernel rays when
    ``C(|J|, n_j - 1) <= KERNEL_CHEAP_CAP`` (``exact_constants``: ``KERNEL_CERTIFY_CAP``;
    ``"exact"``), else the approximate-left-inverse lower bound (``"lower_bound"``).

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
    ``lambda_max <= lambda_hi`` proven by the checker's exact positive-definiteness test, so the
    reported interval contains the theorem's.

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

import flint
import numpy as np

from theorychk.certify.signal import make_claim
from theorychk.check.core import Trace
from theorychk.check.intmat import IntProduct
from theorychk.check.stability import (
    THM2_CONDITION, _shift_pd, aberdam_bound, derived_left_inverse, lei_rows, left_inverse_bound, lipschitz,
    oracle_bounds,
)
from theorychk.errors import InvalidInput
from theorychk.network import row_model
from theorychk.runtime import Deadline
from theorychk.verdict import Status

__all__ = ["STABILITY_KINDS", "stability_claims", "eigen_bounds", "c_lower_bound", "constant_of"]

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


#: Fraction of the float bound the certifier gives up to store an approximate left inverse in
#: fewer bits (any rational ``L`` is valid evidence; shorter integers make the certificate and its
#: exact check smaller).
L_LOSS = 1e-3

#: Above this many entries (``rows * k``) an evidence table (dual vectors, left inverse) is not
#: written: the layer's bound is the checker's own left inverse at :data:`LEFT_INVERSE_PRECISION`
#: bits (``"method": "left_inverse"``), which it derives and verifies with one exact product.
TABLE_LIMIT = 20_000
#: Bits of the checker-derived left inverse (a float bound within ~2**-14 of the pseudo-inverse's).
LEFT_INVERSE_PRECISION = 20
#: ``c_lower`` of a ``left_inverse`` layer is its exact bound rounded down to this many significant
#: bits: short numbers in the chain, and room for another BLAS to round the checker's floats differently.
C_LOWER_BITS = 24

#: ``c_1`` is stated exact (``kernel_rays``) only up to this many ``(k-1)``-row subsets: the checker
#: re-solves each one exactly (≈3 ms each; 1540 of them cost 4.8 s on a zoo:vae784-relu signal,
#: 20x the rest of its check), far above its own cap's worth of time to the question's bound.
KERNEL_CERTIFY_CAP = 100
#: Without ``exact_constants`` the kernel-ray enumeration runs only up to this many subsets (~3.5 ms
#: each in certify, more in the checker): on zoo:vae784-relu a signal with ~100 subsets spent ~0.35 s
#: there, 25x the published inversion of the whole signal, for a constant the guarantee only needs
#: a lower bound of (issue 16: exact values only when cheap).
KERNEL_CHEAP_CAP = 5

#: Above this many ``rows * k**3`` the exact ``c_inf`` engine (LPs made exact) is replaced by the
#: certified dual bound of :func:`~theorychk.invariants.cnorm.c_inf_of_rows` (``method="dual_bound"``),
#: all the guarantee needs (issue 16: exact values only when cheap). Up to this size the exact
#: engine costs ~1-2 ms more than the bound (measured on Gaussian 20 x 10 .. 30 x 12 matrices); on
#: the ~33 x 20 first layer of zoo:vae784-relu (~3 * 10**5) it cost ~10 ms a signal, 0.7x the
#: published inversion of the whole signal, for a c_inf within ~1 % of the bound.
EXACT_CINF_LIMIT = 50_000
#: With ``exact_constants=True`` (CLI ``--exact-constants``) the exact engine runs up to this many
#: ``rows * k**3`` (beyond it the LPs made exact take seconds per layer).
EXACT_CINF_REACH = 2_000_000
#: Refinement rounds of the certifier's dual bound on ``c_inf`` (:func:`~theorychk.invariants.cnorm.linf_dual_bound`):
#: two rounds come within ~1 % of the exact constant on zoo:vae784-relu's first layer (the eight
#: of ``c_inf_of_rows(method="dual_bound")`` within ~0.1 %) at about half the cost (~1.5 ms vs ~3 ms).
DUAL_LEVELS = 2


def _approx_left_inverse(tr: Trace, j: int, rows: list[int], norm: str) -> tuple[Fraction, dict[str, Any]] | None:
    """``c >= (1 - ||I - L A||) / ||L||`` for the pseudo-inverse ``L`` rounded to ``scale * Z`` with
    integer ``Z`` of the fewest bits that keep the float bound within :data:`L_LOSS`; the bound is
    recomputed exactly by the checker's own function."""
    a = tr.net.layers[j].weight[rows, :].astype(np.float64)
    try:
        lf = np.linalg.pinv(a)
    except np.linalg.LinAlgError:
        return None

    def float_bound(lm: np.ndarray) -> float:
        e, ax = np.abs(np.eye(a.shape[1]) - lm @ a), 1 if norm == "inf" else 0
        n_e, n_l = e.sum(axis=ax).max(), np.abs(lm).sum(axis=ax).max()
        return (1 - n_e) / n_l if n_e < 1 and n_l > 0 else 0.0

    target = (1 - L_LOSS) * float_bound(lf)
    if not target > 0:
        return None
    exp = int(np.frexp(np.abs(lf).max())[1])
    for bits in (8, 10, 12, 16, 20, 24, 32, 40, 52):
        zl = np.rint(np.ldexp(lf, bits - exp))
        if float_bound(np.ldexp(zl, exp - bits)) >= target or bits == 52:
            break
    scale = Fraction(2) ** (exp - bits)
    ints = [[int(v) for v in row] for row in zl]
    bound = left_inverse_bound(tr.int_matrix(j, rows), tr.integer_weight(j)[1], ints, scale, norm)
    return (bound, {"method": "approx_left_inverse", "scale": scale, "L": ints}) if bound > 0 else None


def c_lower_bound(tr: Trace, j: int, rows: list[int], norm: str, *, time_limit: float | None,
                  exact: bool = False) -> tuple[Fraction | None, dict[str, Any]]:
    """A certified lower bound on ``c_norm(W_j^rows)`` with checkable evidence (``None``: none > 0).

    The guarantee divides by ``c``, so a lower bound is all it needs; the exact constant is
    computed only where it is cheap, and the evidence then also carries what proves it attained
    (``x`` for l_inf, the checker's own enumeration of kernel rays for l_1; see
    :func:`constant_of`). l_inf: exact by :func:`~theorychk.invariants.cnorm.c_inf_of_rows` (LP
    duals per facet, basis solved exactly) when ``rows * k**3 <= EXACT_CINF_LIMIT`` (``exact``:
    ``<= EXACT_CINF_REACH``), else its ``"dual_bound"`` engine (integer dual vector per facet,
    :data:`DUAL_LEVELS` refinements). l_1: exact over kernel rays when ``C(rows, k - 1)`` is at most
    :data:`KERNEL_CHEAP_CAP` (``exact``: :data:`KERNEL_CERTIFY_CAP`), else the approximate-left-inverse
    bound. When none of the cheap bounds is positive, the ``exact`` reach is tried before giving up.
    """
    from theorychk.invariants.cnorm import c_1_of_rows, c_inf_of_rows, linf_dual_bound

    w = tr.net.layers[j].weight
    k = w.shape[1]
    deficient = None, {"method": "rank deficient", "rows": len(rows), "n": k}
    if len(rows) < k:
        return deficient
    if norm == "inf":
        use_exact = len(rows) * k ** 3 <= (EXACT_CINF_REACH if exact else EXACT_CINF_LIMIT)
    else:
        use_exact = math.comb(len(rows), k - 1) <= (KERNEL_CERTIFY_CAP if exact else KERNEL_CHEAP_CAP)
    if len(rows) * k > TABLE_LIMIT and not use_exact:
        # A bound c > 0 proves full column rank itself (W_J x = 0 forces x = 0): the rank is asked
        # only when it fails.
        proven = derived_left_inverse(tr, j, rows, LEFT_INVERSE_PRECISION)[norm]  # the checker's, cached
        if proven > 0:
            return _round_down(proven), {"method": "left_inverse", "bits": LEFT_INVERSE_PRECISION}
    if not tr.full_rank(j, rows):
        return deficient
    if norm == "inf":
        if use_exact:
            res = c_inf_of_rows(w, rows, time_limit=time_limit)
            ev = res.lower.evidence
            if res.lower.value > 0 and "certificates" in ev:  # not when settled by the exhaustive ray search
                pos = {r: i for i, r in enumerate(rows)}
                ys = [[0] * len(rows) for _ in range(k)]
                for c in ev["certificates"]:  # cnorm keeps its dual vectors as primitive integer vectors
                    for r, v in c["y"].items():
                        ys[c["facet"]][pos[r]] = int(v)
                out: dict[str, Any] = {"method": "lp_duals", "y": ys}
                if res.exact:
                    out["x"] = res.upper.evidence["x"]
                return res.lower.value, out
        low, ys = linf_dual_bound(w[rows, :].astype(np.float64), tr.int_matrix(j, rows), tr.integer_weight(j)[1],
                                  time_limit=time_limit, levels=DUAL_LEVELS)
        if low > 0:
            return low, {"method": "lp_duals", "y": ys}
    elif use_exact:
        res = c_1_of_rows(w, rows, time_limit=time_limit, method="kernels")
        if res.exact:
            return res.value, {"method": "kernel_rays"}
    found = _approx_left_inverse(tr, j, rows, norm)
    if found is not None:
        return found
    if not exact:
        # The cheap bounds proved nothing: the engines that reach further decide, so that
        # exact=True only tightens a bound and never turns an UNKNOWN into a CERTIFIED.
        return c_lower_bound(tr, j, rows, norm, time_limit=time_limit, exact=True)
    return None, {"method": "no certified bound"}


def _round_down(c: Fraction) -> Fraction:
    """The largest dyadic ``<= c`` with :data:`C_LOWER_BITS` significant bits."""
    shift = C_LOWER_BITS - (c.numerator.bit_length() - c.denominator.bit_length())
    return Fraction((c.numerator << shift) // c.denominator, 1 << shift) if shift >= 0 else \
        Fraction((c.numerator // (c.denominator << -shift)) << -shift)


def constant_of(evidence: dict[str, Any]) -> str:
    """``"exact"`` when the evidence of :func:`c_lower_bound` proves the constant attained, else ``"lower_bound"``."""
    return "exact" if evidence.get("method") == "kernel_rays" or "x" in evidence else "lower_bound"


def eigen_bounds(gram: Sequence[Sequence[Fraction]]) -> tuple[Fraction, Fraction] | None:
    """Rationals ``lo <= lambda_min``, ``lambda_max <= hi`` of a symmetric rational matrix, verified
    exactly (``G - lo I`` and ``hi I - G`` positive definite); ``None`` if no ``lo > 0`` is found."""
    rows = [[Fraction(v) for v in r] for r in gram]
    den = math.lcm(*(v.denominator for r in rows for v in r)) if rows and rows[0] else 1
    g = flint.fmpz_mat([[v.numerator * (den // v.denominator) for v in r] for r in rows]) if rows and rows[0] \
        else flint.fmpz_mat(len(rows), len(rows))
    return _eigen_bounds(g, Fraction(1, den))


def _layer_eigen_bounds(tr: Trace, j: int, rows: list[int], cols: list[int] | None
                        ) -> tuple[Fraction, Fraction] | None:
    """:func:`_eigen_bounds` of ``W_j[rows, cols]^T W_j[rows, cols]`` (the trace's memoized Gram
    matrix), once per signal for the layer-0 Gram matrix that ``aberdam_thm2`` and ``aberdam_oracle``
    both enclose (kept in the trace's memo, as the checker's own derived bounds are)."""
    key = ("certify.eigen_bounds", j, tuple(rows), None if cols is None else tuple(cols))
    if key not in tr._memo:
        tr._memo[key] = _eigen_bounds(tr.gram(j, rows, cols), tr.int_layer(j).scale ** 2)
    return tr._memo[key]


def _floats(g: flint.fmpz_mat | IntProduct) -> np.ndarray:
    """``g`` in float64 (rounded: the floats only choose the candidates)."""
    if isinstance(g, IntProduct):
        out = np.zeros(g.shape)
        for shift, part in g.parts.items():
            out += np.ldexp(part.astype(np.float64), shift)
        return out
    return np.array([[float(int(v)) for v in row] for row in g.tolist()], dtype=np.float64).reshape(g.nrows(), g.ncols())


def _eigen_bounds(g: flint.fmpz_mat | IntProduct, s: Fraction) -> tuple[Fraction, Fraction] | None:
    """:func:`eigen_bounds` of ``s * g`` (integer ``g``): floats choose the candidates, each decided
    by the checker's own test (:func:`theorychk.check.stability._shift_pd`), so every enclosure
    stated here is one the checker verifies. A candidate that its 6-digit rounding put on the wrong
    side of the float eigenvalue is not asked: it is almost surely false, and the test proves
    "false" only by a full characteristic polynomial (~1.5 ms on a 60 x 60 Gram matrix)."""
    k = g.shape[0] if isinstance(g, IntProduct) else g.nrows()
    if k == 0:
        return None
    ev = np.linalg.eigvalsh(_floats(g)) * float(s)
    lo_f, hi_f = float(ev[0]), float(ev[-1])
    if not lo_f > 0:
        return None
    for f in (1e-6, 1e-3, 0.1, 0.5):
        lo = Fraction(float(f"{lo_f * (1 - f):.6g}"))
        if 0 < lo < lo_f and _shift_pd(g, s, lo, 1):
            break
    else:
        return None
    for f in (1e-6, 1e-3, 0.1, 1.0):
        hi = Fraction(float(f"{hi_f * (1 + f):.6g}"))
        if hi > hi_f and _shift_pd(g, s, hi, -1):
            return lo, hi
    return None


# --------------------------------------------------------------------------------------------


def _lei(tr: Trace, eps: Fraction, norm: str, deadline: Deadline, exact: bool) -> dict[str, Any]:
    kind = "lei_linf" if norm == "inf" else "lei_l1"
    e_out, layers, hyps = eps, [], []
    for j in reversed(range(tr.net.depth)):
        deadline.check(kind)
        rows = lei_rows(tr, j, 2 * e_out)
        ell = lipschitz(tr, j, e_out)
        c, cev = (None, {"method": "no finite inverse Lipschitz constant"}) if ell is None else \
            c_lower_bound(tr, j, rows, norm, time_limit=_remaining(deadline), exact=exact)
        constant = constant_of(cev)
        hyps.append({"name": f"layer {j}: c_{norm}(W_{j}^J) > 0 on the {len(rows)} rows with x*_{j + 1} > 2 eps_{j + 1}"
                             if tr.relu(j) else f"layer {j}: c_{norm}(W_{j}) > 0 (all rows; inverse Lipschitz {ell})",
                     "holds": c is not None and c > 0,
                     "values": {"rows": len(rows), "n": tr.net.widths[j], "c_lower": c, "constant": constant,
                                "lipschitz": ell, "paper_m_gt_n": len(rows) > tr.net.widths[j]}})
        if c is None or ell is None:
            return make_claim(kind, Status.UNKNOWN, statement=STATEMENTS[kind], hypotheses=hyps,
                              evidence={"noise": eps}, reason=f"layer {j}: {cev['method']}")
        e_in = 2 * ell * e_out / c
        layers.append({"layer": j, "noise_out": e_out, "lipschitz": ell, "c_lower": c, "constant": constant,
                       "c_evidence": cev, "noise_in": e_in})
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
    rows0 = tr.observed_rows(0)
    eig = _layer_eigen_bounds(tr, 0, rows0, None) if rows0 and len(rows0) >= net.latent_dim else None
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
    why = _aberdam_applicable(tr) or ("" if row_model(net.layers[-1].activation).family in ("linear", "relu") else
                                      f"the Oracle theorem assumes an identity last activation; got {last!r}")
    if why:
        return make_claim(kind, Status.UNKNOWN, statement=STATEMENTS[kind], evidence={"sigma": eps}, reason=why)
    eig: list[dict[str, Any]] = []
    for j in range(net.depth):
        cols = tr.support(j - 1) if j > 0 else None
        rows = tr.observed_rows(j)
        width = net.widths[j] if cols is None else len(cols)
        b = _layer_eigen_bounds(tr, j, rows, cols) if rows and width and len(rows) >= width else None
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
    exact_constants: bool = False,
) -> list[dict[str, Any]]:
    """The stability claims at noise level ``noise`` for the exact trace ``tr`` (module docstring).

    ``exact_constants``: compute ``c_inf`` / ``c_1`` of ``lei_linf`` / ``lei_l1`` exactly wherever the
    exact engines reach (:func:`c_lower_bound`), not only where that is cheap; the guarantee only
    needs the certified lower bound, so this tightens bounds without changing a status."""
    deadline = deadline or Deadline(None)
    unknown = sorted(set(kinds) - set(STABILITY_KINDS))
    if unknown:
        raise InvalidInput(f"unknown stability claim(s) {unknown}; valid: {', '.join(STABILITY_KINDS)}",
                           argument="kinds", got=unknown)
    if not noise > 0:
        raise InvalidInput(f"noise must be a positive number; got {noise}", argument="noise", got=noise)
    out = []
    for kind in kinds:
        if kind == "lei_linf":
            out.append(_lei(tr, noise, "inf", deadline, exact_constants))
        elif kind == "lei_l1":
            out.append(_lei(tr, noise, "1", deadline, exact_constants))
        elif kind == "aberdam_thm2":
            out.append(_thm2(tr, noise, deadline))
        else:
            out.append(_oracle(tr, noise))
    return out

