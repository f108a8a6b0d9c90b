r"""Executable statements of Lei, Jalal, Dhillon, Dimakis, "Inverting Deep Generative Models, One
Layer at a Time" (papers 001 = ICML-workshop version with appendix, 002 = NeurIPS 2019).

Numbering follows the NeurIPS version (002): Theorem 3 is the :math:`\ell_\infty` bound
(Appendix Theorem 4 of 001), Theorem 4 the :math:`\ell_1` bound (Theorem 3 of 001). Shapes are
ours: ``W_i`` has shape ``(n_out, n_in)`` (the papers print ``R^{n_{i-1} x n_i}``, a transposition
the NeurIPS reviewers (003) point out).

References
----------
[1] Q. Lei, A. Jalal, I. S. Dhillon, A. G. Dimakis, ``shared/papers/001_*``, ``002_*``; reviews ``003_*``.
[2] M. Puthawala et al., "Globally injective ReLU networks", JMLR 23(105), 2022.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any

import numpy as np
import sympy
from hypothesis import strategies as st

from theorychk import exact
from theorychk.errors import InvalidInput
from theorychk.network import Identity, Layer, LeakyReLU, Network, ReLU
from theorychk.theorems.base import Check, Report, Theorem, register
from theorychk.theorems.instances import FormulaCase, LayerCase, SignalCase, exact_trace

__all__ = ["LEMMA1", "THEOREM2", "LEMMA2", "THEOREM3", "THEOREM4", "COROLLARY1",
           "TWO_LAYER_PRINTED", "TWO_LAYER_CORRECTED", "FOUR_LAYER", "algorithm1", "algorithm2", "layerwise_solve"]

CITATION = "Lei, Jalal, Dhillon, Dimakis, 'Inverting Deep Generative Models, One Layer at a Time' (NeurIPS 2019; papers 001/002)"
#: Stated tolerance of the float LP solutions (relative to the bound, plus an absolute floor).
LP_RTOL, LP_ATOL = 1e-7, 1e-9

eps, d, k, n = sympy.symbols("epsilon d k n", positive=True)
d_int = sympy.Symbol("d", integer=True, positive=True)
c_inf, c_1 = sympy.symbols("c_infty c_1", positive=True)


# ---------------------------------------------------------------------------------- Lemma 1


def _lemma1_hyp(case: LayerCase) -> Report:
    layer = case.layer
    m, kk = layer.weight.shape
    ratio = Fraction(m, kk)
    return Report("lei2019.lemma1", "hypotheses", (
        Check("ReLU activation, no bias (the lemma's phi(x) = ReLU(Wx))",
              isinstance(layer.activation, ReLU) and not layer.has_bias, {"activation": layer.activation.spec}),
        Check("Assumption 1: n = c0 k with c0 >= 2.1 (exact)", ratio >= Fraction(21, 10), {"n": m, "k": kk, "c0": ratio}),
    ), note="i.i.d. Gaussian entries are a property of the draw, not of one matrix: the strategy draws them")


def _injectivity(case: LayerCase) -> Any:
    from theorychk.certify.injectivity import layer_injectivity

    return layer_injectivity(case.layer, seed=0)


def _same_output(layer: Layer, x: Any, y: Any) -> bool:
    spec = [(layer.weight, layer.bias, layer.activation.spec)]
    return exact.forward(spec, list(x))[-1] == exact.forward(spec, list(y))[-1] and tuple(x) != tuple(y)


def _lemma1_concl(case: LayerCase, result: Any) -> Report:
    status = getattr(result, "status", None)
    values: dict[str, Any] = {"verdict": str(status)}
    if status is not None and status.value == "REFUTED" and result.witness is not None:
        x, y = result.witness
        values.update({"x": list(x), "x_prime": list(y), "exact_same_output": _same_output(case.layer, x, y)})
        holds: bool | None = not values["exact_same_output"]
    else:
        holds = True if status is not None and status.value == "CERTIFIED" else None
    return Report("lei2019.lemma1", "conclusion", (Check("phi(x) = phi(y) implies x = y (global injectivity)", holds, values),))


@st.composite
def _lemma1_instances(draw: st.DrawFn) -> LayerCase:
    kk = draw(st.integers(2, 3))
    m = math.ceil(Fraction(21, 10) * kk)
    seed = draw(st.integers(0, 2**16))
    w = np.random.default_rng(seed).standard_normal((m, kk))
    return LayerCase(Layer(w, None, "relu"))


LEMMA1 = register(Theorem(
    name="lei2019.lemma1",
    citation=CITATION + ", Appendix B, Lemma 1 (001)",
    title="Injectivity of an expansive Gaussian ReLU layer",
    printed="Under Assumption 1 (W in R^{n x k} i.i.d. Gaussian, n = c0 k, c0 >= 2.1), phi(x) = ReLU(Wx) is "
            "injective with probability 1 - exp(-Omega(k)): phi(x) = phi(y) implies x = y.",
    status="false as printed",
    corrected="FALSE: a Gaussian ReLU layer at expansion 2.1 is non-injective with high probability (398 of 400 "
              "exact decisions, docs/injectivity.md; Puthawala et al. need expansion >= ~3.4). What survives is "
              "per signal: Theorem 2 (lei2019.theorem2).",
    changes="The proof bounds the number of active rows for ONE fixed x (a binomial tail) and never takes the "
            "union over all x; injectivity needs every x at once, and some x has a rank-deficient active set.",
    hypotheses=_lemma1_hyp, conclusion=_lemma1_concl, run=_injectivity, instances=_lemma1_instances,
    bound=sympy.Rational(21, 10) * k, symbols={"k": "latent dimension (the printed row count n >= 2.1 k)"},
))


# ---------------------------------------------------------------------------------- Theorem 2


def _supports(case: SignalCase) -> list[tuple[Fraction, ...]]:
    return exact_trace(case.net, case.latent)


def _thm2_hyp(case: SignalCase) -> Report:
    net, xs = case.net, _supports(case)
    checks = []
    for j, layer in enumerate(net.layers):
        spec = layer.activation.spec
        relu = isinstance(layer.activation, ReLU)
        rows = [r for r, v in enumerate(xs[j]) if v > 0] if relu else list(range(layer.n_out))
        ok_act = isinstance(layer.activation, (ReLU, LeakyReLU, Identity))  # the activations Theorem 2 covers
        rk = exact.rank(layer.weight[rows]) if rows else 0
        checks.append(Check(f"layer {j}: rows with x_{j + 1} > 0 have full column rank n_{j} (exact)",
                            ok_act and rk == layer.n_in,
                            {"active_rows": len(rows), "rank": rk, "n_in": layer.n_in, "activation": spec,
                             "printed_expansion_ge_2.1": Fraction(layer.n_out, layer.n_in) >= Fraction(21, 10)}))
    return Report("lei2019.theorem2", "hypotheses", tuple(checks),
                  note="printed hypotheses (Gaussian, expansion >= 2.1) are reported, not required")


def layerwise_solve(net: Network, signal: Any) -> tuple[Fraction, ...] | None:
    """The realizable inversion of Theorem 2: from the output back, solve ``w_r x + b_r = y_r`` on
    the rows with ``y_r > 0`` (all rows after an invertible activation), exactly over Q."""
    y = [exact.rational(v) for v in signal]
    for layer in reversed(net.layers):
        act = layer.activation
        b = [Fraction(0)] * layer.n_out if layer.bias is None else [exact.rational(v) for v in layer.bias]
        if isinstance(act, ReLU):  # only the positive outputs pin their rows
            rows = [r for r, v in enumerate(y) if v > 0]
            rhs = [y[r] - b[r] for r in rows]
        elif act.invertible and act.piecewise_linear:
            rows = list(range(layer.n_out))
            rhs = [act.exact_inverse(y[r]) - b[r] for r in rows]
        else:
            raise InvalidInput(f"layer-wise exact solve needs piecewise-linear activations; got {act.spec!r}",
                               argument="net", got=act.spec)
        if not rows:
            return None
        sol = exact.solve(layer.weight[rows], rhs)
        if sol is None:
            return None
        y = list(sol)
    return tuple(y)


def _thm2_run(case: SignalCase) -> Any:
    return layerwise_solve(case.net, _supports(case)[-1])


def _close(a: Any, b: Any, rtol: float = 1e-9) -> bool:
    a = np.array([float(v) for v in a]); b = np.array([float(v) for v in b])
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= rtol * (1 + np.abs(b))))


def _latent_of(result: Any) -> Any:
    return getattr(result, "latent", result)


def _thm2_concl(case: SignalCase, result: Any) -> Report:
    z = _latent_of(result)
    if z is None:
        return Report("lei2019.theorem2", "conclusion", (Check("layer-wise linear equations recover z*", False, {"result": None}),))
    exact_eq = all(isinstance(v, Fraction) for v in z) and tuple(z) == tuple(case.latent)
    holds = exact_eq or _close(z, case.latent)
    return Report("lei2019.theorem2", "conclusion", (Check("the layer-wise linear equations recover z* "
                                                           + ("(exact)" if exact_eq else "(rtol 1e-9)"), holds,
                                                           {"z": [str(v) for v in z], "z_star": [str(v) for v in case.latent]}),))


def _dyadic_latent(k_: int) -> st.SearchStrategy:
    return st.lists(st.integers(-8, 8), min_size=k_, max_size=k_).map(lambda v: tuple(Fraction(x, 4) for x in v))


@st.composite
def realizable_signals(draw: st.DrawFn, *, latent_dim: tuple[int, int] = (1, 3), depth: tuple[int, int] = (1, 2),
                       bias: bool = False, final: str = "relu") -> SignalCase:
    """Small dyadic ReLU nets (expansion 2..3) with a dyadic planted latent: exact arithmetic is the oracle."""
    from theorychk.testing.strategies import expansive_networks

    net = draw(expansive_networks(latent_dim=latent_dim, depth=depth, expansion=(2.0, 3.0), hidden=("relu",),
                                  final=(final,), bias=bias, entries="dyadic"))
    return SignalCase(net, draw(_dyadic_latent(net.latent_dim)))


THEOREM2 = register(Theorem(
    name="lei2019.theorem2",
    citation=CITATION + ", Theorem 2",
    title="Exact recovery of a realizable signal by layer-wise linear equations",
    printed="If every W_i satisfies Assumption 1 (Gaussian, n_i >= 2.1 n_{i-1}), then for any z* and x = G(z*), "
            "with probability 1 - e^{-Omega(k)}, z* is inferred from x by solving layer-wise linear equations.",
    status="corrected",
    corrected="Per signal: if at every layer the rows active at the true signal (x_{i+1} > 0) have full column "
              "rank n_i, the layer-wise linear equations w_r x + b_r = x_{i+1,r} (r active) have z* as their "
              "unique solution. Rank is decided exactly.",
    changes="The printed proof goes through Lemma 1 (false); what its argument actually shows is the per-signal "
            "statement (a fixed z* has >= k active rows w.h.p., and those rows are invertible). Shapes: "
            "W_i is (n_i, n_{i-1}), not R^{n_{i-1} x n_i}.",
    hypotheses=_thm2_hyp, conclusion=_thm2_concl, run=_thm2_run, instances=lambda: realizable_signals(bias=True),
))


# ---------------------------------------------------------------- Lemma 2 / Theorems 3 and 4


def _lp_layer(layer: Layer, y: np.ndarray, tol: float, *, norm: str, nonneg: bool, seed: int) -> np.ndarray | None:
    """One layer of Algorithm 1 (``norm="inf"``: a feasible point of (3) at tolerance ``tol``, the
    objective a seeded random direction) or Algorithm 2 (``"1"``: min l1 misfit on ``I``)."""
    from scipy.optimize import linprog

    w = layer.weight
    b = np.zeros(layer.n_out) if layer.bias is None else layer.bias
    m, kk = w.shape
    on = y > tol
    if norm == "inf":
        a_ub = np.vstack([w, -w[on]])
        b_ub = np.concatenate([y + tol - b, -(y[on] - tol - b[on])])
        cost = np.random.default_rng(seed).standard_normal(kk)
        bounds = [(0, None) if nonneg else (None, None)] * kk
        res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        if res.status == 3:  # unbounded direction: any feasible point will do
            res = linprog(np.zeros(kk), A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        return res.x if res.status == 0 else None
    wi, yi, bi = w[on], y[on], b[on]
    p = int(on.sum())
    # variables (x, u): min sum u, -u <= W_I x + b_I - y_I <= u, off rows: w x + b <= y + tol
    a_ub = np.vstack([np.hstack([wi, -np.eye(p)]), np.hstack([-wi, -np.eye(p)]),
                      np.hstack([w[~on], np.zeros((m - p, p))])])
    b_ub = np.concatenate([yi - bi, -(yi - bi), y[~on] + tol - b[~on]])
    cost = np.concatenate([np.zeros(kk), np.ones(p)])
    bounds = [(0, None) if nonneg else (None, None)] * kk + [(0, None)] * p
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    return res.x[:kk] if res.status == 0 else None


def _chain(case: SignalCase, norm: str) -> tuple[list[Fraction], list[Any], Fraction]:
    """Per-layer constants c_j = c_norm(W_j^{J_j}) with J_j = {r : x*_{j+1,r} > 2 eps_{j+1}}, going down
    from eps_L = ||e|| with eps_j = 2 eps_{j+1} / c (c = the single constant min_j c_j, as Assumption 2)."""
    from theorychk.invariants.cnorm import c_1_of_rows, c_inf_of_rows

    xs = exact_trace(case.net, case.latent)
    e = [Fraction(v) for v in (case.noise or (0.0,) * case.net.output_dim)]
    e_norm = max((abs(v) for v in e), default=Fraction(0)) if norm == "inf" else sum((abs(v) for v in e), Fraction(0))
    depth = case.net.depth
    # c depends on the row sets J_j and J_j on c (through eps_j): iterate from the largest J (levels
    # eps) down; c only decreases and takes finitely many values, so this reaches a fixpoint.
    c_all: Fraction | None = None
    results: list[tuple[list[int], Fraction]] = []
    for _ in range(64):
        results = []
        for j in range(depth):
            level = e_norm if not c_all else e_norm * (2 / c_all) ** (depth - 1 - j)
            rows = [r for r, v in enumerate(xs[j]) if v > 2 * level]
            fn = c_inf_of_rows if norm == "inf" else c_1_of_rows
            val = fn(case.net.layers[j].weight, rows).lower.value if rows else Fraction(0)
            results.append((rows, val))
        c_new = min(v for _, v in results)
        if c_new == c_all or c_new == 0:
            break
        c_all = c_new
    return [v for _, v in results], [rows for rows, _ in results], e_norm


def _stab_hyp(name: str, norm: str, depth_one: bool):
    def hyp(case: SignalCase) -> Report:
        checks = []
        if depth_one:
            checks.append(Check("one layer", case.net.depth == 1, {"depth": case.net.depth}))
        checks.append(Check("ReLU layers, no bias (Section 4: generators without bias)",
                            all(isinstance(l.activation, ReLU) and not l.has_bias for l in case.net.layers), {}))
        consts, rows, e_norm = _chain(case, norm)
        for j, (c, r) in enumerate(zip(consts, rows)):
            checks.append(Check(f"layer {j}: c_{norm}(W_{j}^J) > 0 on J = rows with x*_{j + 1} > 2 eps_{j + 1} (exact)",
                                c > 0, {"c": c, "rows": len(r), "n_in": case.net.widths[j],
                                        "printed_m_gt_n": len(r) > case.net.widths[j]}))
        return Report(name, "hypotheses", tuple(checks), note=f"||e||_{norm} = {e_norm}")
    return hyp


def _stab_run(norm: str):
    def run(case: SignalCase) -> Any:
        consts, _, e_norm = _chain(case, norm)
        c = min(consts)
        y = case.signal
        for j in reversed(range(case.net.depth)):
            level = float(e_norm * (2 / c) ** (case.net.depth - 1 - j)) if c > 0 else float(e_norm)
            y = _lp_layer(case.net.layers[j], y, level * (1 + 1e-12) + 1e-15, norm=norm, nonneg=j > 0,
                          seed=case.objective_seed + j)
            if y is None:
                return None
        return y
    return run


def _stab_concl(name: str, norm: str, theorem_getter):
    def concl(case: SignalCase, result: Any) -> Report:
        z = _latent_of(result)
        consts, _, e_norm = _chain(case, norm)
        bound = theorem_getter().evaluate_bound({"epsilon": e_norm, "c": min(consts), "d": case.net.depth})
        if z is None:
            return Report(name, "conclusion", (Check("Algorithm returned a point", False, {}),))
        diff = np.asarray(z, dtype=float) - np.array([float(v) for v in case.latent])
        err = float(np.max(np.abs(diff))) if norm == "inf" else float(np.sum(np.abs(diff)))
        ok = err <= float(bound) * (1 + LP_RTOL) + LP_ATOL
        return Report(name, "conclusion", (Check(f"||z - z*||_{norm} <= bound", ok,
                                                 {"error": err, "bound": bound, "bound_float": float(bound),
                                                  "lp_rtol": LP_RTOL, "lp_atol": LP_ATOL}),))
    return concl


@st.composite
def noisy_signals(draw: st.DrawFn, *, depth: tuple[int, int] = (1, 2), norm: str = "inf",
                  expansion: tuple[float, float] = (3.0, 4.0), entries: str = "dyadic") -> SignalCase:
    """Small bias-free ReLU nets (dyadic or Gaussian entries), a dyadic latent and small dyadic
    noise (exact norms)."""
    from theorychk.testing.strategies import expansive_networks

    net = draw(expansive_networks(latent_dim=(1, 2), depth=depth, expansion=expansion, hidden=("relu",),
                                  final=("relu",), bias=False, entries=entries))
    z = draw(_dyadic_latent(net.latent_dim))
    e = tuple(draw(st.lists(st.integers(-4, 4), min_size=net.output_dim, max_size=net.output_dim)))
    scale = draw(st.sampled_from([2**-10, 2**-8, 2**-6]))
    return SignalCase(net, z, tuple(v * scale for v in e), draw(st.integers(0, 1000)))


c_sym = sympy.Symbol("c", positive=True)
LEMMA2 = register(Theorem(
    name="lei2019.lemma2",
    citation=CITATION + ", Appendix B, Lemma 2",
    title="l_inf stability of one noisy layer (Algorithm 1)",
    printed="Given x = ReLU(W z*) + e, eps = ||e||_inf; if W satisfies Assumption 2 with m > k and x* has at "
            "least m coordinates larger than 2 eps, Algorithm 1 outputs z with ||z - z*||_inf <= 2 eps / c_inf.",
    status="corrected",
    corrected="Per signal: with J = {r : x*_r > 2 eps} and c = c_inf(W_J) = min_{||a||_inf=1} ||W_J a||_inf > 0 "
              "(exact), every feasible point of LP (3) at tolerance eps satisfies ||z - z*||_inf <= 2 eps / c.",
    changes="Assumption 2 is garbled in print ('W_{I,:} . ||x||_inf >= c ||x||_inf'); read as ||W_{I,:} x||_inf >= "
            "c_inf ||x||_inf for all |I| >= m. The proof only uses the rows I = {x_r > eps} ⊇ J, so the per-signal "
            "constant c_inf(W_J) suffices (and is what we compute exactly).",
    hypotheses=_stab_hyp("lei2019.lemma2", "inf", True),
    conclusion=_stab_concl("lei2019.lemma2", "inf", lambda: LEMMA2),
    run=_stab_run("inf"), instances=lambda: noisy_signals(depth=(1, 1)),
    bound=2 * eps / c_sym, symbols={"epsilon": "||e||_inf", "c": "c_inf(W_J)"},
))

THEOREM3 = register(Theorem(
    name="lei2019.theorem3",
    citation=CITATION + ", Theorem 3 (NeurIPS numbering; Theorem 4 of the appendix of 001)",
    title="l_inf error bound for d layers (Algorithm 1 applied backwards)",
    printed="If each W_i satisfies Assumption 2 with m_i > n_{i-1} and constant c_inf, ||e||_inf <= eps, and each "
            "z_i has at least m_i coordinates larger than 2 (2/c_inf)^{d-i} eps, recursively applying Algorithm 1 "
            "gives ||z - z*||_inf <= (2/c_inf)^d eps.",
    status="corrected",
    corrected="Per signal, with one constant c = min_j c_inf(W_j^{J_j}) > 0 where J_j = {r : x*_{j+1,r} > 2 eps_{j+1}}, "
              "eps_{j} = (2/c)^{d-j} eps: the layer-wise LPs at tolerances eps_{j+1} (z >= 0 on hidden layers) "
              "return z with ||z - z*||_inf <= (2/c)^d eps.",
    changes="Assumption 2 garbled (see lemma2); 001 prints the row threshold as 'eps_{c^{d+1-i}}^{2^{d+1-i}}' and the "
            "probability as 1 - exp(Omega(k)); the per-layer LPs must use the propagated tolerances eps_j (the "
            "proof does not cover Algorithm 1's search over smaller tolerances). Shapes transposed in print.",
    hypotheses=_stab_hyp("lei2019.theorem3", "inf", False),
    conclusion=_stab_concl("lei2019.theorem3", "inf", lambda: THEOREM3),
    run=_stab_run("inf"), instances=lambda: noisy_signals(depth=(1, 2)),
    bound=2 ** d_int * eps / c_sym ** d_int, symbols={"epsilon": "||e||_inf", "c": "min_j c_inf(W_j^{J_j})", "d": "depth"},
))

THEOREM4 = register(Theorem(
    name="lei2019.theorem4",
    citation=CITATION + ", Theorem 4 (NeurIPS numbering; Theorem 3 of 001)",
    title="l_1 error bound for d layers (Algorithm 2)",
    printed="If each W_i satisfies Assumption 3 with m_i > n_{i-1} and constant c_1, ||e||_1 <= eps, and each z_i has "
            "at least m_i coordinates larger than 2^{d+1-i} eps / c_1^{d-i}, recursively applying Algorithm 2 gives "
            "||z - z*||_1 <= 2^d eps / c_1^d.",
    status="corrected",
    corrected="Per signal, with c = min_j c_1(W_j^{J_j}) > 0 (J_j = {r : x*_{j+1,r} > 2 eps_{j+1}}), the l_1 LPs "
              "(min ||W_I z + b_I - x_I||_1 on I = {x_r > eps_j}, off rows w z <= x + eps_j) return z with "
              "||z - z*||_1 <= (2/c)^d eps.",
    changes="As Theorem 3 with l_1 norms (Assumption 3 = the (k, inf)-RIP-1 lower bound; per signal on J).",
    hypotheses=_stab_hyp("lei2019.theorem4", "1", False),
    conclusion=_stab_concl("lei2019.theorem4", "1", lambda: THEOREM4),
    run=_stab_run("1"), instances=lambda: noisy_signals(depth=(1, 2), norm="1"),
    bound=2 ** d_int * eps / c_sym ** d_int, symbols={"epsilon": "||e||_1", "c": "min_j c_1(W_j^{J_j})", "d": "depth"},
))


def algorithm1(layer: Layer, y: Any, tol: float, *, nonneg: bool = False, seed: int = 0) -> np.ndarray | None:
    """A feasible point of LP (3) of [1] at tolerance ``tol`` (one layer of Algorithm 1)."""
    return _lp_layer(layer, np.asarray(y, float), tol, norm="inf", nonneg=nonneg, seed=seed)


def algorithm2(layer: Layer, y: Any, tol: float, *, nonneg: bool = False) -> np.ndarray | None:
    """The l_1 LP of Algorithm 2 of [1] at tolerance ``tol`` (one layer)."""
    return _lp_layer(layer, np.asarray(y, float), tol, norm="1", nonneg=nonneg, seed=0)


# ---------------------------------------------------------------------------------- Corollary 1


def _cor1_hyp(case: SignalCase) -> Report:
    checks = [Check(f"layer {j}: n_{j + 1} >= 5 n_{j}", l.n_out >= 5 * l.n_in, {"n_out": l.n_out, "n_in": l.n_in})
              for j, l in enumerate(case.net.layers)]
    return Report("lei2019.corollary1", "hypotheses", tuple(checks) + THEOREM3.hypotheses(case).checks,
                  note="Gaussian weights and the unspecified constant c_2 cannot be checked on one net; the "
                       "conclusion is Theorem 3's with c the exact per-signal constant")


COROLLARY1 = register(Theorem(
    name="lei2019.corollary1",
    citation=CITATION + ", Corollary 1",
    title="Gaussian weights satisfy Assumption 2; l_inf recovery",
    printed="Let each W_i in R^{n_{i-1} x n_i} (n_i >= 5 n_{i-1}) be i.i.d. N(0,1); then W_i satisfies Assumption 2 "
            "with some constant c_2 in (0, 2]. If ||e||_inf = eps < c_2^d/(2d+4) ||z*||_2 sqrt(k), Algorithm 1 gives "
            "||z - z*||_inf <= 2^d eps / c_2^d with probability 1 - e^{Omega(k)}.",
    status="corrected",
    corrected="W_i has shape (n_i, n_{i-1}); c_2 is Assumption 2's c_inf; probability 1 - e^{-Omega(k)}. Checked as "
              "Theorem 3 with the exact per-signal constant.",
    changes="Reviewers (003) flag the shape convention and the garbled constants: the corollary mixes c_2 (the "
            "singular-value constant of Lemma 3) with c_inf and drops the minus sign of the exponent.",
    hypotheses=_cor1_hyp, conclusion=THEOREM3.conclusion, run=THEOREM3.run,
    # one layer: c_inf's exact cost grows fast with a layer's input width (5x expansion twice gives 25)
    instances=lambda: noisy_signals(depth=(1, 1), expansion=(5.0, 6.0), entries="gaussian"),
    bound=2 ** d_int * eps / c_sym ** d_int, symbols=THEOREM3.symbols,
))


# ---------------------------------------------------------------------------------- reductions


def _formula_hyp(name: str, three: bool):
    def hyp(case: FormulaCase) -> Report:
        ok = all(len(c) == 3 and len({abs(l) for l in c}) == 3 for c in case.cnf.clauses) if three else True
        return Report(name, "hypotheses", (Check("3-CNF, three distinct variables per clause" if three else "a CNF formula",
                                                 ok, {"n_vars": case.cnf.n_vars, "n_clauses": case.cnf.n_clauses}),))
    return hyp


def _build(construction: str):
    from theorychk.reduction import constructions as cons

    return {"printed": cons.printed_two_layer, "binary": cons.binary_two_layer, "four-layer": cons.four_layer}[construction]


def _reduction_run(construction: str):
    def run(case: FormulaCase) -> list[dict[str, Any]]:
        """Every binary assignment (and probe latent) where 'G(z) = target' and 'z is a model' disagree."""
        inst = _build(construction)(case.cnf)
        bad = []
        for a in itertools.product((False, True), repeat=case.cnf.n_vars):
            pre, sat = inst.is_preimage(inst.encode(a)), case.cnf.satisfied_by(a)
            if pre != sat:
                bad.append({"assignment": a, "latent": inst.encode(a), "output": inst.output(inst.encode(a)),
                            "target": inst.target, "preimage": pre, "model": sat})
        if not inst.binary_latent:
            for z in case.probes:
                boolean = tuple(inst.encode(inst.decode(z))) == tuple(z)
                if inst.is_preimage(z) and not boolean:
                    bad.append({"latent": z, "output": inst.output(z), "target": inst.target, "preimage": True,
                                "model": False, "why": "a non-Boolean preimage"})
        return bad
    return run


def _reduction_concl(name: str):
    def concl(case: FormulaCase, result: list[dict[str, Any]]) -> Report:
        vals = {"mismatches": len(result)}
        if result:
            vals["first"] = {k: (list(map(str, v)) if isinstance(v, tuple) else v) for k, v in result[0].items()}
        return Report(name, "conclusion", (Check("G(z) = target <=> z satisfies the formula (every binary z, exact)",
                                                 not result, vals),))
    return concl


@st.composite
def three_cnf_cases(draw: st.DrawFn, *, max_vars: int = 5, max_clauses: int = 6) -> FormulaCase:
    from theorychk.testing.strategies import cnfs

    return FormulaCase(draw(cnfs(min_vars=3, max_vars=max_vars, max_clauses=max_clauses, distinct=True)))


@st.composite
def cnf_cases(draw: st.DrawFn, *, max_vars: int = 4, max_clauses: int = 6) -> FormulaCase:
    from theorychk.testing.strategies import cnfs

    f = draw(cnfs(min_vars=1, max_vars=max_vars, max_clauses=max_clauses))
    probes = draw(st.lists(st.lists(st.integers(0, 4), min_size=f.n_vars, max_size=f.n_vars)
                           .map(lambda v: tuple(Fraction(x, 4) for x in v)), max_size=4))
    return FormulaCase(f, tuple(probes))


TWO_LAYER_PRINTED = register(Theorem(
    name="lei2019.reduction_two_layer",
    citation=CITATION + ", Theorem 1 and its proof (001, Appendix B)",
    title="Two-layer binary-latent reduction from (MAX-)3SAT, as printed",
    printed="With W1 the literal signs (three +-1 per row), b1 = -2, W2 = [1 | I]^T, b2 = [0 | -1] and x = [t | 0], "
            "z in {+-1}^n: G(z) = x iff z satisfies t clauses (t = m: iff z satisfies the formula).",
    status="false as printed",
    corrected="FALSE as printed: hidden unit j = ReLU(S_j z - 2) is 1 iff all three literals are TRUE (an AND). "
              "Corrected (lei2019.reduction_two_layer_corrected): G(z) = ReLU(1^T ReLU(-S z - 2)), target 0: "
              "G(z) = 0 iff z satisfies the formula (a Karp reduction from 3SAT, binary latent).",
    changes="Sign of W1 and the count semantics are wrong; the identity block is vacuous; the reduction direction "
            "(MAX-3SAT needs m + 1 queries, a Turing reduction) — see docs/reductions.md and reviews 003.",
    hypotheses=_formula_hyp("lei2019.reduction_two_layer", True), conclusion=_reduction_concl("lei2019.reduction_two_layer"),
    run=_reduction_run("printed"), instances=three_cnf_cases,
))

TWO_LAYER_CORRECTED = register(Theorem(
    name="lei2019.reduction_two_layer_corrected",
    citation=CITATION + ", Theorem 1 (001), corrected construction",
    title="Two-layer binary-latent reduction from 3SAT, corrected",
    printed="(see lei2019.reduction_two_layer)",
    status="corrected",
    corrected="G(z) = ReLU(1^T ReLU(-S z - (w - 1))) with S the literal signs and w the clause widths, target 0, "
              "z in {+-1}^n: G(z) = 0 iff z satisfies the formula (G(z) counts violated clauses).",
    changes="Negated signs and threshold w - 1 make hidden unit j the indicator of 'clause j violated'.",
    hypotheses=_formula_hyp("lei2019.reduction_two_layer_corrected", False),
    conclusion=_reduction_concl("lei2019.reduction_two_layer_corrected"),
    run=_reduction_run("binary"), instances=lambda: cnf_cases(),
))

FOUR_LAYER = register(Theorem(
    name="lei2019.reduction_four_layer",
    citation=CITATION + ", Theorem 1 (NeurIPS version 002: four layers, real domain)",
    title="Four-layer ReLU network R^n -> R^2: inversion is NP-hard over real latents",
    printed="Given a four-layered ReLU network G: R^k -> R^2 and x, deciding whether some z has G(z) = x is "
            "NP-complete (reduction from 3SAT; construction in an appendix not included in 002).",
    status="corrected",
    corrected="Our construction (theorychk.reduction.constructions.four_layer, Variant A): G(z) = (m, 0) iff z in "
              "{0,1}^n and z satisfies the formula; checked on every binary z and on real probe latents (the full "
              "real-domain claim with the gap is verified by theorychk.reduction.verify, MILP).",
    changes="The appendix with the construction is missing from the NeurIPS text; the statement is checked on the "
            "reconstruction documented in docs/reductions.md.",
    hypotheses=_formula_hyp("lei2019.reduction_four_layer", False),
    conclusion=_reduction_concl("lei2019.reduction_four_layer"),
    run=_reduction_run("four-layer"), instances=lambda: cnf_cases(),
))
