r"""Executable statements of Aberdam, Simon, Elad, "When and How Can Deep Generative Models be
Inverted?" (paper 004).

The paper's model: ``x_1 = ReLU(W_0 z)``, ``x_{i+1} = ReLU(W_i x_i)`` (``i = 1..L-1``), ``x =
phi(W_L x_L)`` with an invertible ``phi``, no biases; layers indexed from 0. Ours: ``net.layers[i]``
is ``W_i`` (shape ``(n_{i+1}, n_i)``), ``s_i = ||x_i||_0``.

References
----------
[1] A. Aberdam, D. Simon, M. Elad, ``shared/papers/004_*``: Theorem 1, Corollary 1, Theorem 2 (bound (7)),
    Corollary 2, Appendix B (Theorem 3, the Oracle).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy
from hypothesis import strategies as st

from theorychk import exact
from theorychk.network import Network
from theorychk.theorems.base import Check, Report, Theorem, register, to_rational
from theorychk.theorems.instances import SignalCase, _fmt, exact_trace

__all__ = ["THEOREM1", "COROLLARY1", "THEOREM2", "COROLLARY2", "ORACLE", "OracleCase", "lambda_min_lower"]

CITATION = "Aberdam, Simon, Elad, 'When and How Can Deep Generative Models be Inverted?' (paper 004)"
RTOL = 1e-9

eps, ell, phi, sigma = sympy.symbols("epsilon ell varphi sigma", positive=True)
L = sympy.Symbol("L", integer=True, positive=True)
i_, j_ = sympy.symbols("i j", integer=True)
s_ = sympy.IndexedBase("s", positive=True)
w_ = sympy.IndexedBase("w", positive=True)
lam = sympy.IndexedBase("lambda_min", positive=True)
n0 = sympy.Symbol("n_0", positive=True, integer=True)


def _model(case: Any, name: str) -> list[Check]:
    net: Network = case.net
    hidden = all(l.activation.spec == "relu" for l in net.layers[:-1])
    last = net.layers[-1].activation.spec
    return [Check("the paper's model: ReLU hidden layers, no biases, invertible last activation",
                  hidden and not any(l.has_bias for l in net.layers) and last != "relu",
                  {"activations": [l.activation.spec for l in net.layers]})]


def _sparsity(case: Any) -> tuple[list[tuple[Fraction, ...]], list[list[int]]]:
    xs = exact_trace(case.net, case.latent)
    supports = [[r for r, v in enumerate(x) if v != 0] for x in xs[:-1]]  # S_1..S_L
    return xs, supports


def _thm1_hyp(case: SignalCase) -> Report:
    from theorychk.invariants import spark, sub_rank, sub_spark

    checks = _model(case, "aberdam2020.theorem1")
    _, sup = _sparsity(case)
    Lh = len(sup)  # L hidden layers: S_1..S_L
    s = [len(x) for x in sup]
    W = [l.weight for l in case.net.layers]
    sp = spark(W[Lh]).value
    checks.append(Check("(i) s_L < spark(W_L)/2 (exact)", sp is not None and 2 * s[-1] < sp, {"s_L": s[-1], "spark": sp}))
    for i in range(1, Lh):
        ss = sub_spark(W[i], s[i]).value if s[i] else None
        checks.append(Check(f"(ii) s_{i} < sub-spark(W_{i}, s_{i + 1})/2 (exact)", ss is not None and 2 * s[i - 1] < ss,
                            {"s_i": s[i - 1], "s_next": s[i], "sub_spark": ss}))
    sr = sub_rank(W[0], s[0]).value if s[0] else 0
    checks.append(Check("(iii) n_0 = sub-rank(W_0, s_1) <= s_1 (exact)", sr == case.net.latent_dim <= s[0],
                        {"n_0": case.net.latent_dim, "sub_rank": sr, "s_1": s[0]}))
    return Report("aberdam2020.theorem1", "hypotheses", tuple(checks))


def _thm1_concl(case: SignalCase, result: Any) -> Report:
    z2 = np.asarray(getattr(result, "latent", result), dtype=float)
    z = np.array([float(v) for v in case.latent])
    same_out = np.allclose(case.net.forward(z2), case.net.forward(z), rtol=RTOL, atol=RTOL)
    _, sup = _sparsity(case)
    hid2 = case.net.hidden(z2)[:-1]
    sparse2 = all(int(np.count_nonzero(np.abs(h) > RTOL)) <= len(s) for h, s in zip(hid2, sup))
    meets = same_out and sparse2
    holds = (not meets) or bool(np.allclose(z2, z, rtol=1e-7, atol=1e-7))
    return Report("aberdam2020.theorem1", "conclusion", (Check(
        "a solution meeting the sparsity conditions is z*", holds,
        {"result_is_solution": bool(same_out), "result_meets_sparsity": bool(sparse2), "z": z2.tolist()}),),
        note="" if meets else "the result is not a solution meeting the sparsity conditions: nothing to compare")


THEOREM1 = register(Theorem(
    name="aberdam2020.theorem1",
    citation=CITATION + ", Theorem 1 (Uniqueness)",
    title="Uniqueness of the latent from spark / sub-spark / sub-rank conditions",
    printed="If (i) s_L < spark(W_L)/2, (ii) s_i < sub-spark(W_i, s_{i+1})/2 for i = 1..L-1, (iii) n_0 = "
            "sub-rank(W_0, s_1) <= s_1, then z* is the unique solution of the inverse problem meeting these sparsity "
            "conditions.",
    status="holds",
    changes="Holds as printed for the paper's model (no biases, invertible last activation). Every invariant is "
            "computed exactly (theorychk.invariants). The proof only needs the actual supports (spark_of_rows, "
            "rank_of_rows): the per-signal form certified by theorychk.certify.signal.",
    hypotheses=_thm1_hyp, conclusion=_thm1_concl,
))


def _cor1_hyp(case: SignalCase) -> Report:
    checks = _model(case, "aberdam2020.corollary1")
    _, sup = _sparsity(case)
    s = [len(x) for x in sup]
    n = case.net.output_dim
    checks.append(Check("(i) s_L < (n + 1)/2", 2 * s[-1] < n + 1, {"s_L": s[-1], "n": n}))
    for i in range(1, len(s)):
        checks.append(Check(f"(ii) s_{i} < (s_{i + 1} + 1)/2", 2 * s[i - 1] < s[i] + 1, {"s_i": s[i - 1], "s_next": s[i]}))
    checks.append(Check("(iii) s_1 >= n_0", s[0] >= case.net.latent_dim, {"s_1": s[0], "n_0": case.net.latent_dim}))
    return Report("aberdam2020.corollary1", "hypotheses", tuple(checks),
                  note="i.i.d. (Gaussian) weights: a property of the draw; the strategy draws them")


def _cor1_run(case: SignalCase) -> list[Check]:
    """Per layer: Theorem 1's condition, or the layer's solution is unique outright (independent columns)."""
    from theorychk.invariants import spark, sub_rank, sub_spark

    _, sup = _sparsity(case)
    s = [len(x) for x in sup]
    W = [l.weight for l in case.net.layers]
    Lh = len(s)
    out = []
    sp = spark(W[Lh]).value
    rk = exact.rank(W[Lh])
    out.append(Check("layer L: s_L < spark(W_L)/2 or W_L has independent columns", 2 * s[-1] < sp or rk == W[Lh].shape[1],
                     {"s_L": s[-1], "spark": sp, "rank": rk}))
    for i in range(1, Lh):
        ss = sub_spark(W[i], s[i]).value
        rk = exact.rank(W[i][sup[i]])
        out.append(Check(f"layer {i}: s_{i} < sub-spark(W_{i}, s_{i + 1})/2 or W_{i}^S has independent columns",
                         2 * s[i - 1] < ss or rk == W[i].shape[1], {"s_i": s[i - 1], "sub_spark": ss, "rank_on_S": rk}))
    sr = sub_rank(W[0], s[0]).value
    out.append(Check("layer 0: sub-rank(W_0, s_1) = n_0", sr == case.net.latent_dim, {"sub_rank": sr}))
    return out


COROLLARY1 = register(Theorem(
    name="aberdam2020.corollary1",
    citation=CITATION + ", Corollary 1 (Uniqueness for random weight matrices)",
    title="Uniqueness for random weights: cardinalities must expand by 2",
    printed="For i.i.d. random weights, if (i) s_L < (n+1)/2, (ii) s_i < (s_{i+1}+1)/2, (iii) s_1 >= n_0, then with "
            "probability 1 the inverse problem has a unique solution meeting these sparsity conditions.",
    status="corrected",
    corrected="Generic weights have spark(W_L) = min(n, n_L) + 1 and sub-spark(W_i, s) = min(s, n_i) + 1, so (i)/(ii) "
              "are Theorem 1's conditions only when n <= n_L (s_{i+1} <= n_i); otherwise the layer has independent "
              "columns and its solution is unique outright. Checked: every layer satisfies Theorem 1's condition "
              "or has independent columns, and sub-rank(W_0, s_1) = n_0, exactly on the drawn weights.",
    changes="The printed proof substitutes spark = n + 1, which is the generic spark only for n <= n_L.",
    hypotheses=_cor1_hyp, conclusion=lambda case, res: Report("aberdam2020.corollary1", "conclusion", tuple(res)),
    run=_cor1_run,
    instances=lambda: _gaussian_signals(),
))


@st.composite
def _gaussian_signals(draw: st.DrawFn) -> SignalCase:
    from theorychk.testing.strategies import networks

    k = draw(st.integers(1, 2))
    widths = (k, draw(st.integers(2, 6)), draw(st.integers(2, 6)))
    net = draw(networks(widths=widths, hidden=("relu",), final=("identity",), bias=False, entries="gaussian"))
    lat = tuple(Fraction(v, 4) for v in draw(st.lists(st.integers(-8, 8).filter(bool), min_size=k, max_size=k)))
    return SignalCase(net, lat)


# ------------------------------------------------------------------- Theorem 2 and Corollary 2


def lambda_min_lower(gram: Any) -> Fraction | None:
    """A rational ``lo`` with ``0 < lo <= lambda_min(gram)``, proven by an exact LDL^T of
    ``gram - lo I``; ``None`` if ``gram`` is not positive definite (or too close to call)."""
    g = [[exact.rational(v) for v in row] for row in np.asarray(gram, dtype=float)]
    ev = float(np.linalg.eigvalsh(np.asarray(gram, dtype=float)).min())
    for frac in (Fraction(99, 100), Fraction(1, 2), Fraction(1, 100)):
        lo = Fraction(ev).limit_denominator(10**12) * frac
        if lo > 0 and _pos_def([[g[a][b] - (lo if a == b else 0) for b in range(len(g))] for a in range(len(g))]):
            return lo
    return None


def _pos_def(a: list[list[Fraction]]) -> bool:
    a = [row[:] for row in a]
    for p in range(len(a)):
        if a[p][p] <= 0:
            return False
        for r in range(p + 1, len(a)):
            f = a[r][p] / a[p][p]
            for c in range(p, len(a)):
                a[r][c] -= f * a[p][c]
    return True


@dataclass(frozen=True, eq=False)
class NoisyCase:
    """``y = G(z*) + e`` with ``||e||_2 <= epsilon`` (Theorem 2) or ``e ~ N(0, sigma^2 I)`` (Oracle)."""

    net: Network
    latent: tuple[Fraction, ...]
    epsilon: Fraction

    def describe(self) -> str:
        return f"{type(self).__name__}(widths {self.net.widths}, latent {[str(v) for v in self.latent]}, level {self.epsilon})"


def _thm2_values(case: Any) -> tuple[list[Check], dict[str, Any]]:
    from theorychk.invariants import coherence

    checks = _model(case, "aberdam2020.theorem2")
    _, sup = _sparsity(case)
    W = [l.weight for l in case.net.layers]
    Lh = len(sup)
    rows_next = sup[1:] + [list(range(case.net.output_dim))]  # S_{i+1} for i = 1..L
    values: dict[str, Any] = {"epsilon": case.epsilon, "L": Lh}
    for i in range(1, Lh + 1):
        s_i = len(sup[i - 1])
        wi = W[i][rows_next[i - 1]]
        cos2 = coherence(wi).lower.evidence.get("cos2", Fraction(0)) if wi.shape[1] > 1 else Fraction(0)
        checks.append(Check(f"layer {i}: s_{i} < 1/(3 mu(W_{i}^S_{i + 1})), i.e. 9 s^2 mu^2 < 1 (exact)",
                            9 * s_i * s_i * cos2 < 1, {"s": s_i, "mu_squared": cos2}))
        norms2 = [sum(exact.rational(v) ** 2 for v in col) for col in wi.T]
        values[f"s[{i}]"] = s_i
        values[f"w[{i}]"] = sympy.sqrt(to_rational(min(norms2))) if norms2 else 0
    w0 = W[0][sup[0]]
    rk = exact.rank(w0) if sup[0] else 0
    lo = lambda_min_lower(w0.T @ w0) if rk == case.net.latent_dim else None
    checks.append(Check("varphi = lambda_min((W_0^S_1)^T W_0^S_1) > 0 (exact rank; rational lower bound)",
                        lo is not None, {"rank": rk, "varphi_lower": lo}))
    act = case.net.layers[-1].activation
    values["ell"] = to_rational(act.inverse_lipschitz)
    values["varphi"] = lo if lo is not None else 0
    return checks, values


def _thm2_hyp(case: NoisyCase) -> Report:
    checks, _ = _thm2_values(case)
    return Report("aberdam2020.theorem2", "hypotheses", tuple(checks),
                  note="evaluated on the actual supports (conditional on exact support recovery)")


def _thm2_concl(case: NoisyCase, result: Any) -> Report:
    _, values = _thm2_values(case)
    bound = THEOREM2.evaluate_bound(values)
    z2 = np.asarray(getattr(result, "latent", result), dtype=float)
    err = float(np.linalg.norm(z2 - np.array([float(v) for v in case.latent])))
    ok = bool(sympy.Rational(Fraction(err)) < bound) if case.epsilon > 0 else err <= RTOL
    return Report("aberdam2020.theorem2", "conclusion", (Check("||z_hat - z||_2 < bound (7)", ok,
                  {"error": err, "bound": bound, "bound_float": float(bound)}),),
                  note="varphi enters as a proven rational lower bound, so the evaluated bound is >= (7)")


_PROD = sympy.Product((3 + sympy.sqrt(sympy.Rational(3, 2))) * sympy.sqrt(s_[i_]) / w_[i_], (i_, 1, L))
THEOREM2 = register(Theorem(
    name="aberdam2020.theorem2",
    citation=CITATION + ", Theorem 2 (Layered Basis-Pursuit stability), bound (7)",
    title="Layered Basis-Pursuit stability",
    printed="If y = G(z) + e, ||e||_2 <= eps, and s_i < 1/(3 mu_{s_{i+1}}(W_i)) for every mid layer, then the "
            "recovered supports are subsets of the true ones, each x_hat_i is unique, and with varphi = "
            "lambda_min((W_0^{S_1})^T W_0^{S_1}) > 0: ||z_hat - z||_2 < (eps ell / sqrt(varphi)) prod_{i=1}^L "
            "(3 + sqrt(1.5)) sqrt(s_j) / min_j ||w_{i,j}^{S_{i+1}}||_2.",
    status="corrected",
    corrected="sqrt(s_j) in (7) is sqrt(s_i); the proof applies Tropp's lemma to W_i^{S_hat_{i+1}} (the support "
              "recovered one layer up), so the bound is checked conditional on exact support recovery, with "
              "mu(W_i^{S_{i+1}}) and min_j ||w_{i,j}^{S_{i+1}}|| on the actual supports.",
    changes="Index typo in (7); mu_s covers row sets of size exactly s while the proof needs the recovered support "
            "(only known to be a subset); Lemma 2 is stated for l_inf-bounded noise and used with l_2.",
    hypotheses=_thm2_hyp, conclusion=_thm2_concl,
    bound=eps * ell / sympy.sqrt(phi) * _PROD,
    symbols={"epsilon": "||e||_2", "ell": "Lipschitz constant of phi^{-1}", "varphi": "lambda_min of W_0^{S_1}",
             "L": "hidden layers", "s[i]": "||x_i||_0", "w[i]": "min_j ||w_{i,j}^{S_{i+1}}||_2"},
))

COROLLARY2 = register(Theorem(
    name="aberdam2020.corollary2",
    citation=CITATION + ", Corollary 2 (Layered Basis-Pursuit, noiseless)",
    title="Layered Basis-Pursuit recovers z exactly (noiseless)",
    printed="If x = G(z), s_i < 1/(3 mu_{s_{i+1}}(W_i)) for all i and varphi > 0, Algorithm 2 recovers z_hat = z.",
    status="corrected",
    corrected="Theorem 2 with eps = 0, hypotheses on the actual supports: ||z_hat - z||_2 = 0 (within rtol 1e-9).",
    changes="As Theorem 2.",
    hypotheses=lambda case: Report("aberdam2020.corollary2", "hypotheses", _thm2_hyp(case).checks),
    conclusion=lambda case, res: Report("aberdam2020.corollary2", "conclusion", _thm2_concl(case, res).checks),
))


# ---------------------------------------------------------------------------------- the Oracle


@dataclass(frozen=True, eq=False)
class OracleCase(NoisyCase):
    """Oracle instance: ``epsilon`` is the noise standard deviation ``sigma``."""


def _bars(case: Any) -> list[np.ndarray]:
    _, sup = _sparsity(case)
    cols = [list(range(case.net.latent_dim))] + sup
    rows = sup + [list(range(case.net.output_dim))]
    return [l.weight[np.ix_(r, c)] for l, r, c in zip(case.net.layers, rows, cols)]


def _oracle_hyp(case: OracleCase) -> Report:
    checks = _model(case, "aberdam2020.oracle")
    checks.append(Check("phi is the identity (footnote 3)", case.net.layers[-1].activation.spec == "identity", {}))
    for j, wb in enumerate(_bars(case)):
        rk = exact.rank(wb) if wb.size else 0
        checks.append(Check(f"W_{j}[S_{j + 1}, S_{j}] has full column rank (exact)", wb.shape[1] > 0 and rk == wb.shape[1],
                            {"shape": wb.shape, "rank": rk}))
    return Report("aberdam2020.oracle", "hypotheses", tuple(checks))


def _oracle_run(case: OracleCase) -> dict[str, Any]:
    """The Oracle's exact expected error: E||z_hat - z||^2 = sigma^2 trace(A A^T), A = prod W_bar^+."""
    bars = _bars(case)
    a = np.eye(bars[-1].shape[0])
    for wb in reversed(bars):
        a = np.linalg.pinv(wb) @ a
    s2 = float(case.epsilon) ** 2
    return {"expected_sq_error": s2 * float(np.trace(a @ a.T)),
            "lambda_min": [float(np.linalg.eigvalsh(wb.T @ wb).min()) for wb in bars],
            "lambda_max": [float(np.linalg.eigvalsh(wb.T @ wb).max()) for wb in bars]}


def _oracle_concl(case: OracleCase, result: dict[str, Any]) -> Report:
    Lh = len(result["lambda_min"]) - 1
    vals = {"sigma": case.epsilon, "n_0": case.net.latent_dim, "L": Lh}
    upper = ORACLE.evaluate_bound({**vals, **{f"lambda_min[{j}]": Fraction(v) for j, v in enumerate(result["lambda_min"])}})
    lower = ORACLE.evaluate_bound({**vals, **{f"lambda_min[{j}]": Fraction(v) for j, v in enumerate(result["lambda_max"])}})
    e = result["expected_sq_error"]
    tol = RTOL * max(1.0, float(upper))
    return Report("aberdam2020.oracle", "conclusion", (Check(
        "(22): sigma^2 n_0 / prod lambda_max <= E||z_hat - z||^2 <= sigma^2 n_0 / prod lambda_min",
        float(lower) - tol <= e <= float(upper) + tol,
        {"expected": e, "lower": float(lower), "upper": float(upper), "rtol": RTOL}),),
        note="eigenvalues and the trace are float numerics (stated rtol); rank hypotheses are exact")


@st.composite
def _oracle_instances(draw: st.DrawFn) -> OracleCase:
    c = draw(_gaussian_signals())
    return OracleCase(c.net, c.latent, Fraction(draw(st.sampled_from([1, 2, 4])), 8))


ORACLE = register(Theorem(
    name="aberdam2020.oracle",
    citation=CITATION + ", Appendix B, Theorem 3 (the Oracle), bounds (21)-(22)",
    title="Oracle (known supports) error under Gaussian noise",
    printed="With e ~ N(0, sigma^2 I), known supports and phi the identity: sigma^2 n_0 / prod_{j=0}^L "
            "lambda_max(Wb_j^T Wb_j) <= E||z_hat - z||^2 <= sigma^2 n_0 / prod_{j=0}^L lambda_min(Wb_j^T Wb_j), "
            "Wb_j = W_j[S_{j+1}, S_j].",
    status="holds",
    changes="Correct as printed given full column rank of every Wb_j (the hypothesis we check exactly).",
    hypotheses=_oracle_hyp, conclusion=_oracle_concl, run=_oracle_run, instances=lambda: _oracle_instances(),
    bound=sigma ** 2 * n0 / sympy.Product(lam[j_], (j_, 0, L)),
    symbols={"sigma": "noise std", "n_0": "latent dimension", "L": "hidden layers",
             "lambda_min[j]": "lambda_min(Wb_j^T Wb_j) (lambda_max for the lower bound)"},
))
