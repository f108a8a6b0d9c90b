"""Paper 004 Figure 4: per-layer recovery error vs hidden width ``n1`` on ``tanh(W2 ReLU(W1 z))``.

Prediction (paper 004, Corollary 1 and Corollary 2 / Theorem 2, Section 6.1): with Gaussian
weights about half the hidden units are active, ``s1 ≈ n1/2``. Paper 004 §6.1 splits the
widths into three segments, "roughly ``s1 < n0``, ``n0 < s1 < n`` and ``n < s1``":

1. ``n1/2 < n0``: the first layer's inversion has no unique solution — every method fails on
   ``z`` (Layered BP and Latent-Pursuit still recover ``x1`` and ``x2``; gd fails on all layers);
2. ``n0 ≤ n1/2``, up to the end of the middle segment: the pursuits recover every layer perfectly
   (and gd too);
3. past it: the layer-wise methods fail, gradient descent succeeds.

Corollary 1's condition (i), ``s_L < (n + 1)/2``, ends the guaranteed middle segment at
``n1 ≈ n``, not at the text's ``s1 = n`` (``n1 = 2n``). The report therefore splits the middle
segment into ``2a`` (``2 n0 ≤ n1 ≤ n``: Corollary 1 guarantees uniqueness) and ``2b``
(``n < n1 ≤ 2n``: no guarantee; the paper observes success "even when n1 > n"), and tabulates
success per width; the end of success inside ``2b`` is basis pursuit's phase transition.

The Oracle (true supports) is the reference. Weights ``N(0, 1/n_in)`` (the paper says "iid
Gaussian"; the variance matters only through tanh's saturation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from theorychk.experiments import Config, Experiment, register
from theorychk.experiments._common import fmt, gaussian_net, group, pyplot, rel_error, table, timed

COLUMNS = ("method", "err_z", "err_x1", "err_x2", "status", "cpu_seconds")
LAYERS = ("z", "x1", "x2")
SUCCESS_TOL = 1e-3


#: method name in the CSV -> (solver method, options). ``lbp-nn`` is Layered BP with ``x >= 0``
#: (one of Latent-Pursuit's two extra constraints): it separates the signed basis-pursuit phase
#: transition from the nonnegative one (see the report's diagnosis).
METHODS: dict[str, tuple[str, dict[str, Any]]] = {
    "lbp": ("lbp", {"debias": True}),  # paper 004 §6.1: both pursuits are followed by debiasing
    "lbp-nn": ("lbp", {"debias": True, "nonnegative": True}),
    "latent": ("latent", {"debias": True}),
    "gd": ("gd", {"iterations": 10_000}),
    "oracle": ("oracle", {}),
}


def method_options(method: str, z: np.ndarray) -> tuple[str, dict[str, Any]]:
    solver, opts = METHODS[method]
    return solver, ({"latent_true": z} if solver == "oracle" else dict(opts))


def per_layer_errors(net, res, z: np.ndarray) -> dict[str, float]:
    truth = net.hidden(z)
    hidden = list(res.hidden) if res.hidden else []
    out = {"err_z": rel_error(res.latent, z)}
    for i, name in enumerate(("err_x1", "err_x2")):
        est = hidden[i] if i < len(hidden) else None
        out[name] = rel_error(None if est is None else np.asarray(est).reshape(-1), truth[i])
    return out


def task(params: dict[str, Any], seed: int) -> list[dict[str, Any]]:
    from theorychk.solvers import invert

    rng = np.random.default_rng(seed)
    n0, n1, n = int(params["n0"]), int(params["n1"]), int(params["n"])
    net = gaussian_net((n0, n1, n), ("relu", "tanh"), rng, scale="in")
    z = rng.standard_normal(n0)
    y = net.forward(z)
    rows = []
    for method in str(params["methods"]).split("+"):
        solver, opts = method_options(method, z)
        res, cpu, _ = timed(lambda m=solver, o=opts: invert(net, y, method=m, seed=rng, **o))
        rows.append({"method": method, **per_layer_errors(net, res, z), "status": res.status.value,
                     "cpu_seconds": cpu})
    return rows


def l1_phase_transition(fraction: float = 0.5, *, nonnegative: bool = False) -> float:
    """Asymptotic ratio ``m/N`` at which l1 minimisation (basis pursuit) starts recovering a
    Gaussian system's solution with ``fraction·N`` nonzeros: the normalised statistical dimension
    of the l1 descent cone (Amelunxen, Lotz, McCoy, Tropp, "Living on the edge", 2014),

        psi(e) = min_{t >= 0}  e (1 + t^2) + (1 - e) c E[(g - t)_+^2],   g ~ N(0, 1),

    with ``c = 2`` for signed vectors and ``c = 1`` with the constraint ``x >= 0``. It equals the
    Donoho–Tanner weak threshold. For the last layer of ``tanh(W2 ReLU(W1 z))`` (``N = n1``,
    ``m = n``, half the units active) basis pursuit succeeds while ``n1/n < 1/psi(1/2)``.

    >>> round(1 / l1_phase_transition(0.5), 3), round(1 / l1_phase_transition(0.5, nonnegative=True), 3)
    (1.203, 1.438)
    """
    from scipy import optimize, stats

    c = 1.0 if nonnegative else 2.0

    def excess(t: float) -> float:  # E[(g - t)_+^2] = (1 + t^2) Q(t) - t phi(t)
        return (1 + t * t) * stats.norm.sf(t) - t * stats.norm.pdf(t)

    res = optimize.minimize_scalar(lambda t: fraction * (1 + t * t) + (1 - fraction) * c * excess(t),
                                   bounds=(0.0, 12.0), method="bounded", options={"xatol": 1e-10})
    return float(res.fun)


def nonneg_uniqueness_transition(fraction: float = 0.5) -> float:
    """Ratio ``m/N`` above which a Gaussian system's nonnegative solution with ``fraction·N``
    nonzeros is the *only* nonnegative solution: the null space (dimension ``N - m``) must miss
    the orthant's tangent cone ``R^s x R_+^{N-s}``, whose statistical dimension is ``s + (N-s)/2``.
    This is what a nonnegative least-squares stage with ``λ = 0`` (Latent-Pursuit's last layer)
    needs; with ``s = N/2`` it ends success at ``n1 = 4n/3``.

    >>> round(1 / nonneg_uniqueness_transition(0.5), 3)
    1.333
    """
    return fraction + (1.0 - fraction) / 2.0


def segment(n0: int, n1: int, n: int) -> str:
    """Segment of width ``n1``: ``1`` (s1 < n0), ``2a`` (Corollary 1 holds: 2 n0 ≤ n1 ≤ n),
    ``2b`` (n < n1 ≤ 2n: the text's middle segment, no guarantee), ``3`` (n1 > 2n)."""
    if n1 < 2 * n0:
        return "1: n1/2 < n0"
    if n1 <= n:
        return "2a: n0 ≤ n1/2, n1 ≤ n"
    return "2b: n < n1 ≤ 2n" if n1 <= 2 * n else "3: n1/2 > n"


def _report(rows: list[dict[str, Any]], out: Path, size: str) -> str:
    plt = pyplot()
    n0s = sorted({r["n0"] for r in rows})
    n = rows[0]["n"]
    fig, axes = plt.subplots(len(n0s), 3, figsize=(15, 3.6 * len(n0s)), squeeze=False)
    text = []
    for row_axes, n0 in zip(axes, n0s, strict=True):
        sub = [r for r in rows if r["n0"] == n0]
        n1s = sorted({r["n1"] for r in sub})
        for ax, layer in zip(row_axes, LAYERS, strict=True):
            for (method,), mrows in group(sub, "method").items():
                med = [float(np.median([r[f"err_{layer}"] for r in mrows if r["n1"] == w])) for w in n1s]
                ax.semilogy(n1s, np.clip(med, 1e-16, 1e3), marker="o", label=method, ls="--" if method == "oracle" else "-")
            ax.axvline(2 * n0, color="k", ls=":", lw=1)
            ax.axvline(n, color="b", ls=":", lw=1)
            ax.axvline(2 * n, color="r", ls=":", lw=1)
            for ratio, colour in ((SIGNED, "g"), (NONNEG, "m")):
                ax.axvline(ratio * n, color=colour, ls="-.", lw=1)
            ax.set(title=f"n0 = {n0}, n = {n}: layer {layer}", xlabel="hidden width n1",
                   ylabel="median relative error")
            ax.legend(fontsize=7)
        trows = []
        for seg in sorted({segment(n0, w, n) for w in n1s}):
            srows = [r for r in sub if segment(n0, r["n1"], n) == seg]
            widths = sorted({r["n1"] for r in srows})
            for (method,), mrows in group(srows, "method").items():
                trows.append([seg, f"{widths[0]}–{widths[-1]}", method,
                              *[f"{fmt(float(np.median([r[f'err_{L}'] for r in mrows])))} "
                                f"({np.mean([r[f'err_{L}'] <= SUCCESS_TOL for r in mrows]):.0%})" for L in LAYERS]])
        text.append(f"### n0 = {n0}, n = {n} (boundaries: n1 = 2·n0 = {2 * n0}, Corollary 1 (iii); n1 = n = {n}, "
                    f"Corollary 1 (i); n1 = 2·n = {2 * n}, the text's s1 = n)\n\n")
        text.append(table(["segment", "n1", "method", *[f"{L}: median rel. err (≤ {SUCCESS_TOL:g})" for L in LAYERS]], trows))
        text.append("\n")
        methods = list(group(sub, "method"))
        wrows = []
        for w in n1s:
            cells = []
            for (method,) in methods:
                mrows = [r for r in sub if r["n1"] == w and r["method"] == method]
                ok = [r["err_z"] <= SUCCESS_TOL for r in mrows]
                cells.append(f"{sum(ok)}/{len(ok)}")
            wrows.append([str(w), f"{w / n:.2f}", f"{n / w:.2f}" if w > n else "—", segment(n0, w, n).split(":")[0], *cells])
        text.append(f"Per width (n0 = {n0}): runs with z recovered (relative error ≤ {SUCCESS_TOL:g}); "
                    "δ = n/n1 is the undersampling ratio of the last layer's sparse-recovery problem "
                    "when n1 > n (its sparsity ratio is ρ = s1/n ≈ n1/(2n) = 1/(2δ)).\n\n")
        text.append(table(["n1", "n1/n", "δ = n/n1", "segment", *[m for (m,) in methods]], wrows))
        text.append("\n")
        crows = []
        for (method,) in methods:
            if method not in PREDICTED_END:
                continue
            ratio, why = PREDICTED_END[method]
            past = [w for w in n1s if w > n and np.mean([r["err_z"] <= SUCCESS_TOL for r in sub
                                                         if r["n1"] == w and r["method"] == method]) < 0.5]
            crows.append([method, why, f"{ratio * n:.0f} ({ratio:.3f}·n)",
                          f"{past[0]} ({past[0] / n:.2f}·n)" if past else "none in the grid"])
        text.append("Predicted end of success (basis pursuit's phase transition, `l1_phase_transition`) "
                    "next to the first width past n where fewer than half the runs recover z:\n\n")
        text.append(table(["method", "last-layer problem", "predicted end n1*", "observed: first n1 > n below 50%"], crows))
        text.append("\n")
    fig.tight_layout()
    fig.savefig(out / "fig4_per_layer.png", dpi=100)
    plt.close(fig)
    return (
        "## Prediction\n\n"
        "Paper 004 (Corollary 1; Theorem 2 / Corollary 2; §6.1, Figure 4 with n = 625, n0 ∈ {100, 200}, "
        "n1 from 50 to 1000, 512 signals per net), with s1 ≈ n1/2: segment 1 (n1/2 < n0) — no unique z, "
        "all methods fail on z, the pursuits still recover x1 and x2, gd fails on every layer; middle "
        "segment — lbp and latent recover every layer perfectly, gd as well; segment 3 — the layer-wise "
        "methods fail, gd succeeds. The text puts the middle segment at n0 < s1 < n, but Corollary 1 (i), "
        "s_L < (n + 1)/2, guarantees it only up to n1 ≈ n: we report 2a (2·n0 ≤ n1 ≤ n, guaranteed) and "
        "2b (n < n1 ≤ 2n, where the paper observes success \"even when n1 > n\" without a guarantee). "
        "Dotted lines: n1 = 2·n0 (black), n1 = n (blue), n1 = 2·n (red). `lbp-nn` is Layered BP with "
        "x ≥ 0 (not in the paper; it isolates the effect of nonnegativity). Our prediction for 2b "
        f"(below): signed basis pursuit stops at n1* = {SIGNED:.3f}·n, nonnegative basis pursuit at "
        f"{NONNEG:.3f}·n (dash-dotted green and magenta lines), Latent-Pursuit (λ = 0) at {UNIQUE:.3f}·n.\n\n"
        "## Observation\n\n![per-layer error vs n1](fig4_per_layer.png)\n\n"
        "Per segment: median relative error over all runs and widths of the segment, and in brackets "
        f"the fraction of runs with relative error ≤ {SUCCESS_TOL:g}.\n\n" + "".join(text) + DIAGNOSIS
    )


SIGNED = 1 / l1_phase_transition(0.5)
NONNEG = 1 / l1_phase_transition(0.5, nonnegative=True)
UNIQUE = 1 / nonneg_uniqueness_transition(0.5)
#: method -> (predicted end of success as n1/n, why)
PREDICTED_END = {"lbp": (SIGNED, "signed basis pursuit"), "lbp-nn": (NONNEG, "basis pursuit with x ≥ 0"),
                 "latent": (UNIQUE, "x ≥ 0 least squares (λ = 0): needs a unique x ≥ 0")}

DIAGNOSIS = f"""## Where the pursuits stop: basis pursuit's phase transition inside segment 2b

For n1 ≤ n the last layer W2 (n × n1) has independent columns and x1 is determined by least
squares. For n1 > n the layer-wise methods must recover an s1 ≈ n1/2-sparse x1 from n equations;
the sparsest solution is unique only for s1 < (n + 1)/2 (spark(W2) = n + 1), i.e. n1 ≤ n —
Corollary 1 (i). Past n, whether an ℓ1 method still finds x1 is decided by basis pursuit's
phase transition: W2 is Gaussian and independent of x1, and half the units are active whatever
n1 is, so ℓ1 minimisation recovers x1 while n > n1·ψ(1/2), ψ the normalised statistical dimension
of the ℓ1 descent cone (Amelunxen–Lotz–McCoy–Tropp 2014; equal to the Donoho–Tanner weak
threshold). That gives n1* = {SIGNED:.3f}·n for signed basis pursuit (`lbp`) and {NONNEG:.3f}·n with x ≥ 0
(`lbp-nn`). Latent-Pursuit's last stage with λ = 0 is a nonnegative least-squares problem: it
finds x1 only while x1 is the unique nonnegative solution, i.e. while the null space of W2 misses
the orthant's tangent cone (statistical dimension s1 + (n1 - s1)/2 = 3·n1/4 < n), which ends at
n1* = {UNIQUE:.3f}·n. Asymptotic values: at small n the
transition is spread over a range of widths. Gradient descent works in the n0-dimensional latent
space and is not limited by this.
"""


_METHODS = "lbp+lbp-nn+latent+gd+oracle"
register(Experiment(
    name="aberdam-fig4",
    title="Per-layer recovery vs hidden width (paper 004, Figure 4; Corollary 1)",
    paper="Aberdam, Simon, Elad (004) §6.1 Figure 4, Corollaries 1–2",
    task=task,
    columns=COLUMNS,
    reduced=Config(
        grid=tuple({"n0": n0, "n1": n1, "n": 50, "methods": _METHODS}
                   for n0 in (8, 16) for n1 in (8, 12, 24, 40, 50, 60, 70, 80, 100, 140, 200)),
        runs=4, runtime="about 70 s on 2 cores (measured)",
        note="Reduced size: n = 50, n0 ∈ {8, 16} (the paper's ratios n0/n = 0.16 and 0.32), n1 from 8 to 200."),
    full=Config(
        grid=tuple({"n0": n0, "n1": n1, "n": 625, "methods": _METHODS}
                   for n0 in (100, 200) for n1 in (50, 100, 150, 200, 300, 400, 500, 600, 700, 750, 800,
                                                    850, 900, 1000, 1250, 1500, 2000)),
        runs=32, runtime="about 5 min per run on 2 idle cores (measured: --runs 2 to 5 in 898 s; --runs 1 took 921 s under load); the default 32 runs extrapolate to about 2.7 h",
        note="The paper's widths (n = 625, n0 ∈ {100, 200}); n1 extended past 1000 to reach segment 3 "
             "(n1/2 > 625). 32 signals per net instead of 512."),
    report=_report,
    timing_columns=("cpu_seconds",),
))
