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
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy
from hypothesis import strategies as st

from theorychk import exact
from theorychk.network import Identity, Layer, Network, ReLU
from theorychk.theorems.base import Check, Report, Theorem, register, to_rational
from theorychk.theorems.instances import SignalCase, _fmt, exact_trace

__all__ = ["sparse_second_solution", "sparse_signals", "lbp_cases", "lbp_run", "LBPResult",
           "NoisyCase", "THEOREM1", "COROLLARY1", "THEOREM2", "THEOREM2_NORMALIZED", "COROLLARY2", "COROLLARY2_NORMALIZED", "ORACLE", "OracleCase", "lambda_min_lower"]

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
    hidden = all(isinstance(l.activation, ReLU) for l in net.layers[:-1])
    last = net.layers[-1].activation
    return [Check("the paper's model: ReLU hidden layers, no biases, invertible last activation",
                  hidden and not any(l.has_bias for l in net.layers) and not isinstance(last, ReLU),
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
    lat = getattr(result, "latent", result)
    note = getattr(result, "note", "")
    if lat is None:
        return Report("aberdam2020.theorem1", "conclusion", (Check(
            "a solution meeting the sparsity conditions is z*", None, {"search": note}),), note=note)
    _, sup = _sparsity(case)
    if all(isinstance(v, Fraction) for v in lat):  # exact: outputs, supports and z compared over Q
        xs2 = exact_trace(case.net, lat)
        same_out = xs2[-1] == exact_trace(case.net, case.latent)[-1]
        sparse2 = all(sum(v != 0 for v in h) <= len(s) for h, s in zip(xs2[:-1], sup))
        equal = tuple(lat) == tuple(case.latent)
        shown = [str(v) for v in lat]
    else:
        z2 = np.asarray(lat, dtype=float)
        z = np.array([float(v) for v in case.latent])
        same_out = bool(np.allclose(case.net.forward(z2), case.net.forward(z), rtol=RTOL, atol=RTOL))
        hid2 = case.net.hidden(z2)[:-1]
        sparse2 = all(int(np.count_nonzero(np.abs(h) > RTOL)) <= len(s) for h, s in zip(hid2, sup))
        equal = bool(np.allclose(z2, z, rtol=1e-7, atol=1e-7))
        shown = z2.tolist()
    meets = same_out and sparse2
    return Report("aberdam2020.theorem1", "conclusion", (Check(
        "a solution meeting the sparsity conditions is z*", (not meets) or equal,
        {"result_is_solution": bool(same_out), "result_meets_sparsity": bool(sparse2), "z": shown}),),
        note=note or ("" if meets else "the result is not a solution meeting the sparsity conditions: nothing to compare"))


@dataclass(frozen=True)
class SparseSearch:
    """Result of :func:`sparse_second_solution`: ``latent`` is another solution meeting the
    sparsity conditions (exact Fractions when it could be snapped), ``z*`` itself when none
    exists in the box, or ``None`` when the search was inconclusive; ``note`` says which."""

    latent: Any
    note: str


def sparse_second_solution(case: SignalCase, *, time_limit: float = 20.0) -> SparseSearch:
    """Search for ``z ≠ z*`` with ``G(z) = G(z*)`` whose hidden layers have at most ``s_i``
    nonzeros (the sparsity conditions of Theorem 1): the MILP of
    :func:`theorychk.solvers.milp.second_preimage` with ``max_active = [s_1, ..., s_L]`` in the box
    ``||z||_inf <= 4 max(1, ||z*||_inf)``, at distance ``delta = 1e-3 max(1, ||z*||_inf)``; a witness
    is made an exact rational solution on its activation pattern
    (:func:`theorychk.certify.signal.exact_preimage`) when it can be."""
    from theorychk.certify.signal import exact_preimage
    from theorychk.solvers.milp import second_preimage

    z = np.array([float(v) for v in case.latent])
    scale = max(1.0, float(np.max(np.abs(z)))) if z.size else 1.0
    _, sup = _sparsity(case)
    res = second_preimage(case.net, case.net.forward(z), z, delta=1e-3 * scale, latent_box=4 * scale,
                          time_limit=time_limit, max_active=[len(x) for x in sup])
    if res.found:
        target = list(exact_trace(case.net, case.latent)[-1])
        snapped = exact_preimage(case.net, res.latent, target_out=target)
        if snapped is not None:
            return SparseSearch(tuple(snapped), "MILP witness, made an exact solution")
        return SparseSearch(res.latent, "MILP witness (float; could not be snapped exactly)")
    if res.status.value == "NONE_PROVEN":
        return SparseSearch(tuple(case.latent), f"no other sparse solution in the box: {res.reason}")
    return SparseSearch(None, f"search inconclusive: {res.reason}")


@st.composite
def sparse_signals(draw: st.DrawFn, *, hidden_layers: tuple[int, int] = (1, 2)) -> SignalCase:
    """The paper's model at small sizes: latent 1–2, 1–2 hidden ReLU layers of 2–6 units, an
    identity output of 2–7 units, no biases, dyadic or Gaussian weights, a dyadic latent."""
    from theorychk.testing.strategies import networks

    k = draw(st.integers(1, 2))
    depth = draw(st.integers(*hidden_layers))
    widths = (k, *[draw(st.integers(2, 6)) for _ in range(depth)], draw(st.integers(2, 7)))
    net = draw(networks(widths=widths, hidden=("relu",), final=("identity",), bias=False,
                        entries=draw(st.sampled_from(["dyadic", "gaussian"]))))
    lat = tuple(Fraction(v, 4) for v in draw(st.lists(st.integers(-8, 8).filter(bool), min_size=k, max_size=k)))
    return SignalCase(net, lat)


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
    hypotheses=_thm1_hyp, conclusion=_thm1_concl, run=sparse_second_solution, instances=lambda: sparse_signals(),
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
    """``y = G(z*) + e`` with ``||e||_2 <= epsilon`` (Theorem 2) or ``e ~ N(0, sigma^2 I)`` (Oracle).

    ``noise`` is the actual ``e`` (``None``: ``e = 0``); ``epsilon`` the bound the algorithm is given.
    """

    net: Network
    latent: tuple[Fraction, ...]
    epsilon: Fraction
    noise: tuple[float, ...] | None = None

    @property
    def signal(self) -> np.ndarray:
        x = self.net.forward(np.array([float(v) for v in self.latent]))
        return x if self.noise is None else x + np.asarray(self.noise, dtype=float)

    def describe(self) -> str:
        lay = "; ".join(f"W{j} = {_fmt(l.weight)} ({l.activation})" for j, l in enumerate(self.net.layers))
        noise = "" if self.noise is None else f", e = {_fmt(self.noise)}"
        return (f"{type(self).__name__}(widths {self.net.widths}: {lay}; latent {[str(v) for v in self.latent]}, "
                f"level {self.epsilon}{noise})")


@dataclass(frozen=True)
class LBPResult:
    """Layered Basis-Pursuit's output as Theorem 2 judges it: ``latent`` and the recovered
    supports ``[S_hat_1, ..., S_hat_L]`` (row indices)."""

    latent: np.ndarray | None
    supports: tuple[tuple[int, ...], ...]
    note: str = ""


def _thm2_values(case: Any, supports: Sequence[Sequence[int]] | None = None) -> tuple[list[Check], dict[str, Any]]:
    """Hypothesis items and bound values, on the true supports or on ``supports`` (recovered)."""
    from theorychk.invariants import coherence

    checks = _model(case, "aberdam2020.theorem2")
    _, true_sup = _sparsity(case)
    sup = true_sup if supports is None else [list(x) for x in supports]
    W = [l.weight for l in case.net.layers]
    Lh = len(true_sup)
    rows_next = sup[1:] + [list(range(case.net.output_dim))]  # S_{i+1} for i = 1..L
    values: dict[str, Any] = {"epsilon": case.epsilon, "L": Lh}
    for i in range(1, Lh + 1):
        s_i = len(true_sup[i - 1])  # the known sparsity level s_i
        wi = W[i][rows_next[i - 1]]
        norms2 = [sum(exact.rational(v) ** 2 for v in col) for col in wi.T]
        nonzero = bool(norms2) and min(norms2) > 0  # mu is undefined with a zero column
        cos2 = (coherence(wi).lower.evidence.get("cos2", Fraction(0)) if wi.shape[1] > 1 else Fraction(0)) if nonzero else None
        checks.append(Check(f"layer {i}: s_{i} < 1/(3 mu(W_{i}^S_{i + 1})), i.e. 9 s^2 mu^2 < 1 (exact; no zero column)",
                            nonzero and 9 * s_i * s_i * cos2 < 1,
                            {"s": s_i, "mu_squared": cos2, "rows": len(rows_next[i - 1])}))
        values[f"s[{i}]"] = s_i
        values[f"w[{i}]"] = sympy.sqrt(to_rational(min(norms2))) if norms2 and min(norms2) > 0 else 0
    w0 = W[0][sup[0]]
    rk = exact.rank(w0) if sup[0] else 0
    lo = lambda_min_lower(w0.T @ w0) if rk == case.net.latent_dim else None
    checks.append(Check("varphi = lambda_min((W_0^S_1)^T W_0^S_1) > 0 (exact rank; rational lower bound)",
                        lo is not None, {"rank": rk, "varphi_lower": lo}))
    act = case.net.layers[-1].activation
    values["ell"] = to_rational(act.inverse_lipschitz)
    values["varphi"] = lo if lo is not None else 0
    return checks, values


def _noise_check(case: NoisyCase) -> Check:
    e2 = sum((exact.rational(v) ** 2 for v in (case.noise or ())), Fraction(0))
    return Check("||e||_2 <= epsilon (exact)", e2 <= Fraction(case.epsilon) ** 2, {"e_norm_sq": e2, "epsilon": case.epsilon})


def _thm2_hyp(case: NoisyCase) -> Report:
    checks, _ = _thm2_values(case)
    return Report("aberdam2020.theorem2", "hypotheses", (*checks, _noise_check(case)),
                  note="mu on the true supports S_{i+1}; the conclusion re-checks it on the recovered ones")


def _thm2_concl(case: NoisyCase, result: Any, name: str = "aberdam2020.theorem2") -> Report:
    z_hat = getattr(result, "latent", result)
    recovered = getattr(result, "supports", None)
    _, true_sup = _sparsity(case)
    checks = []
    if recovered is not None:
        subset = all(set(r) <= set(t) for r, t in zip(recovered, true_sup))
        checks.append(Check("recovered supports S_hat_i ⊆ S_i", subset,
                            {"recovered": [len(r) for r in recovered], "true": [len(t) for t in true_sup]}))
        if not subset:
            return Report(name, "conclusion", tuple(checks))
    on_recovered, values = _thm2_values(case, recovered)
    if recovered is not None and not all(c.holds for c in on_recovered):
        checks.append(Check("bound (7) (mu condition or varphi > 0 fails on the recovered supports: not covered)",
                            None, {"failed": [c.name for c in on_recovered if not c.holds]}))
        return Report(name, "conclusion", tuple(checks))
    if z_hat is None:
        checks.append(Check("Layered Basis-Pursuit returned a latent", False, {}))
        return Report(name, "conclusion", tuple(checks))
    z_hat = np.asarray(z_hat, dtype=float).reshape(-1)
    err = float(np.linalg.norm(z_hat - np.array([float(v) for v in case.latent])))
    if case.epsilon > 0:
        bound = THEOREM2.evaluate_bound(values)
        ok = bool(sympy.Rational(Fraction(err)) < bound)
        checks.append(Check("||z_hat - z||_2 < bound (7)" + (" on the recovered supports" if recovered is not None else ""),
                            ok, {"error": err, "bound": bound, "bound_float": float(bound)}))
    else:
        checks.append(Check("z_hat = z (within rtol 1e-9)", err <= RTOL * max(1.0, float(np.max(np.abs(z_hat)))),
                            {"error": err}))
    return Report(name, "conclusion", tuple(checks),
                  note="varphi enters as a proven rational lower bound, so the evaluated bound is >= (7)"
                       + ("" if recovered is not None else "; no supports given: evaluated on the true supports"))


def lbp_run(normalize: bool):
    """Algorithm 2 on the case's noisy signal with ``eps = epsilon`` and the known sparsity levels
    (``normalize=False``: as printed; ``True``: each Lasso on the column-normalised matrix)."""
    def run(case: NoisyCase) -> LBPResult:
        from theorychk.solvers.pursuit import layered_basis_pursuit, support_of

        _, sup = _sparsity(case)
        res = layered_basis_pursuit(case.net, case.signal, noise=float(case.epsilon), sparsity=[len(x) for x in sup],
                                    normalize=normalize)
        if res.latent is None:
            return LBPResult(None, (), res.info.get("reason", ""))
        est = res.hidden[:-1]
        supports = tuple(tuple(int(r) for r in np.flatnonzero(support_of(np.asarray(h), 1e-9)[0])) for h in est)
        return LBPResult(np.asarray(res.latent)[0], supports)
    return run


def _hadamard_columns(n: int, k: int) -> np.ndarray:
    """``k`` distinct columns of the ``n x n`` Sylvester Hadamard matrix (n a power of 2): exactly orthogonal."""
    h = np.array([[1.0]])
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h[:, 1:k + 1] if k < n else h[:, :k]


@st.composite
def lbp_cases(draw: st.DrawFn, *, noisy: bool = True) -> NoisyCase:
    """The paper's model with low-coherence upper layers, where Theorem 2's hypotheses can hold:
    latent 1–2, a Gaussian/dyadic first layer, then either one hidden layer and an output of
    Hadamard columns (exactly orthogonal), or two hidden layers with a middle layer of disjoint
    column supports; column scales from 1/8 to 4, an optional small perturbation, an identity
    output; ``e`` with ``||e||_2 <= epsilon`` (possibly 0) when ``noisy``."""
    from theorychk.testing.strategies import matrices

    k = draw(st.integers(1, 2))
    n1 = draw(st.integers(max(2, k), 4))
    scales = st.sampled_from([0.125, 0.25, 0.5, 1.0, 2.0, 4.0])
    w0 = draw(matrices(rows=n1, cols=k, entries=draw(st.sampled_from(["dyadic", "gaussian"]))))
    layers = [Layer(w0, None, "relu")]
    width = n1
    if draw(st.booleans()):  # a second hidden layer, columns on disjoint rows (orthogonal on any row set)
        per = draw(st.integers(1, 2))
        w1 = np.zeros((n1 * per, n1))
        for j in range(n1):
            w1[j * per:(j + 1) * per, j] = [draw(st.sampled_from([-1.0, 1.0, 2.0])) for _ in range(per)]
            w1[j * per, j] = abs(w1[j * per, j])  # one positive entry: x_1,j > 0 reaches layer 2
        layers.append(Layer(w1 * np.array([draw(scales) for _ in range(n1)]), None, "relu"))
        width = n1 * per
    n = 8 if width > 4 else 4 if width > 2 else draw(st.sampled_from([2, 4]))
    wl = _hadamard_columns(n, width) * np.array([draw(scales) for _ in range(width)])
    if draw(st.booleans()):
        wl = wl + np.array(draw(st.lists(st.sampled_from([-1, 0, 1]), min_size=n * width, max_size=n * width)),
                           dtype=float).reshape(n, width) / 32
    layers.append(Layer(wl, None, "identity"))
    net = Network(tuple(layers))
    lat = tuple(Fraction(v, 4) for v in draw(st.lists(st.integers(-8, 8).filter(bool), min_size=k, max_size=k)))
    if not noisy:
        return NoisyCase(net, lat, Fraction(0))
    eps = Fraction(1, draw(st.sampled_from([16, 64, 256, 1024])))
    r = draw(st.sampled_from([0.0, 0.5, 1.0]))
    direction = np.array(draw(st.lists(st.integers(-4, 4), min_size=n, max_size=n)), dtype=float)
    e = None
    if r > 0 and np.any(direction):
        e = direction / np.linalg.norm(direction) * float(eps) * r
        while sum(exact.rational(v) ** 2 for v in e) > eps ** 2:
            e = e * (1 - 2.0**-40)
        e = tuple(float(v) for v in e)
    return NoisyCase(net, lat, eps, e)


_PROD = sympy.Product((3 + sympy.sqrt(sympy.Rational(3, 2))) * sympy.sqrt(s_[i_]) / w_[i_], (i_, 1, L))
_THM2_PRINTED = ("If y = G(z) + e, ||e||_2 <= eps, and s_i < 1/(3 mu_{s_{i+1}}(W_i)) for every mid layer, then the "
                 "recovered supports are subsets of the true ones, each x_hat_i is unique, and with varphi = "
                 "lambda_min((W_0^{S_1})^T W_0^{S_1}) > 0: ||z_hat - z||_2 < (eps ell / sqrt(varphi)) prod_{i=1}^L "
                 "(3 + sqrt(1.5)) sqrt(s_j) / min_j ||w_{i,j}^{S_{i+1}}||_2.")
_THM2_SYMBOLS = {"epsilon": "||e||_2", "ell": "Lipschitz constant of phi^{-1}", "varphi": "lambda_min of W_0^{S_1}",
                 "L": "hidden layers", "s[i]": "||x_i||_0", "w[i]": "min_j ||w_{i,j}^{S_{i+1}}||_2"}
THEOREM2 = register(Theorem(
    name="aberdam2020.theorem2",
    citation=CITATION + ", Theorem 2 (Layered Basis-Pursuit stability), bound (7)",
    title="Layered Basis-Pursuit stability, for Algorithm 2 as printed",
    printed=_THM2_PRINTED,
    status="false as printed",
    corrected="FALSE for Algorithm 2 as printed (the Lasso on W_i itself): a column of norm d is shrunk by "
              "lambda/d^2 = 2 eps/d^2, more than (7) allows when d < 2/(3 + sqrt 1.5) ~ 0.47 — e.g. W_1 = I/10, "
              "z = 4, e = 0, eps = 1/100 gives ||z_hat - z|| = 2 > 0.42. What holds is "
              "aberdam2020.theorem2_normalized (each Lasso on the column-normalised matrix, as the proof analyses).",
    changes="The proof's (26) applies Tropp's lemma to W = W~D as if the Lasso were solved over u = Dx with the "
            "same lambda; for the Lasso over x that is a weighted Lasso in u, not covered by the lemma. Also: "
            "sqrt(s_j) in (7) is sqrt(s_i); mu_s covers row sets of size exactly s while the proof needs the "
            "recovered support (only known to be a subset) — checked here on the recovered supports.",
    hypotheses=_thm2_hyp, conclusion=_thm2_concl, run=lbp_run(False), instances=lambda: lbp_cases(),
    bound=eps * ell / sympy.sqrt(phi) * _PROD, symbols=_THM2_SYMBOLS,
))

THEOREM2_NORMALIZED = register(Theorem(
    name="aberdam2020.theorem2_normalized",
    citation=CITATION + ", Theorem 2 (Layered Basis-Pursuit stability), bound (7), for the algorithm its proof analyses",
    title="Layered Basis-Pursuit stability with column-normalised Lasso steps",
    printed="(see aberdam2020.theorem2)",
    status="corrected",
    corrected="Run Algorithm 2 with each step's Lasso on the column-normalised matrix W~ = W D^{-1} (same lambda = "
              "2 eps_{i+1}; x_hat = D^{-1} u_hat; lbp option normalize=True). If ||e||_2 <= eps and on the recovered "
              "supports s_i < 1/(3 mu(W_i^{S_hat_{i+1}})) and varphi = lambda_min((W_0^{S_hat_1})^T W_0^{S_hat_1}) > 0, "
              "then S_hat_i ⊆ S_i and ||z_hat - z||_2 < (7) with sqrt(s_i) and the column norms on S_hat_{i+1}.",
    changes="Normalised steps make (26)-(27) an application of Tropp's lemma; index typo sqrt(s_j) -> sqrt(s_i); "
            "hypotheses evaluated on the supports the algorithm actually uses.",
    hypotheses=lambda case: Report("aberdam2020.theorem2_normalized", "hypotheses", _thm2_hyp(case).checks),
    conclusion=lambda case, res: _thm2_concl(case, res, "aberdam2020.theorem2_normalized"),
    run=lbp_run(True), instances=lambda: lbp_cases(),
    bound=eps * ell / sympy.sqrt(phi) * _PROD, symbols=_THM2_SYMBOLS,
))

COROLLARY2 = register(Theorem(
    name="aberdam2020.corollary2",
    citation=CITATION + ", Corollary 2 (Layered Basis-Pursuit, noiseless)",
    title="Layered Basis-Pursuit recovers z exactly (noiseless), Algorithm 2 as printed",
    printed="If x = G(z), s_i < 1/(3 mu_{s_{i+1}}(W_i)) for all i and varphi > 0, Algorithm 2 recovers z_hat = z.",
    status="false as printed",
    corrected="FALSE for Algorithm 2 as printed when the last layer is underdetermined and its column norms "
              "differ: noiseless Algorithm 2 is basis pursuit min ||x||_1 s.t. W x = v, a weighted l1 problem in "
              "the normalised variables, which coherence does not control. Counterexample (tests/theorems): "
              "W_1 = [e_1 | 100 (0.3 e_1 + 0.954 u_k)], k = 1..4, u_k a regular simplex in R^3 (mu = 0.3 < 1/3, "
              "s_1 = 1): basis pursuit prefers the four long columns. What holds: aberdam2020.corollary2_normalized.",
    changes="As Theorem 2: the coherence argument needs normalised columns.",
    hypotheses=lambda case: Report("aberdam2020.corollary2", "hypotheses", _thm2_values(case)[0]),
    conclusion=lambda case, res: _thm2_concl(case, res, "aberdam2020.corollary2"),
    run=lbp_run(False), instances=lambda: lbp_cases(noisy=False),
))

COROLLARY2_NORMALIZED = register(Theorem(
    name="aberdam2020.corollary2_normalized",
    citation=CITATION + ", Corollary 2 (Layered Basis-Pursuit, noiseless), for the algorithm its proof analyses",
    title="Layered Basis-Pursuit with normalised steps recovers z exactly (noiseless)",
    printed="(see aberdam2020.corollary2)",
    status="corrected",
    corrected="Theorem 2 (normalised) with eps = 0: each step is basis pursuit on W~ = W D^{-1}, which recovers "
              "an s-sparse vector when s < 1/(3 mu) <= (1 + 1/mu)/2 (Donoho-Elad); so z_hat = z (within rtol 1e-9) "
              "when the mu conditions hold on the recovered supports and varphi > 0.",
    changes="Normalised basis pursuit; hypotheses on the supports the algorithm uses.",
    hypotheses=lambda case: Report("aberdam2020.corollary2_normalized", "hypotheses", _thm2_values(case)[0]),
    conclusion=lambda case, res: _thm2_concl(case, res, "aberdam2020.corollary2_normalized"),
    run=lbp_run(True), instances=lambda: lbp_cases(noisy=False),
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
    checks.append(Check("phi is the identity (footnote 3)", isinstance(case.net.layers[-1].activation, Identity), {}))
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
