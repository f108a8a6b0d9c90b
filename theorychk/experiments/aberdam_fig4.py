"""Paper 004 Figure 4: per-layer recovery error vs hidden width ``n1`` on ``tanh(W2 ReLU(W1 z))``.

Prediction (paper 004, Corollary 1 and Corollary 2 / Theorem 2, Section 6.1): with Gaussian
weights about half the hidden units are active, ``s1 ≈ n1/2``. Three segments:

1. ``n1/2 < n0``: the first layer's inversion has no unique solution — every method fails on
   ``z`` (Layered BP and Latent-Pursuit still recover ``x1`` and ``x2``; gd fails on all layers);
2. ``n0 < n1/2 < n``: the pursuits recover every layer perfectly (and gd too);
3. ``n1/2 > n``: the layer-wise methods fail (inverting the last layer alone is impossible),
   gradient descent succeeds.

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


def method_options(method: str, z: np.ndarray) -> dict[str, Any]:
    if method in ("lbp", "latent"):
        return {"debias": True}  # paper 004 §6.1: both pursuits are followed by debiasing
    if method == "oracle":
        return {"latent_true": z}
    if method == "gd":
        return {"iterations": 10_000}
    return {}


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
        opts = method_options(method, z)
        res, cpu, _ = timed(lambda m=method, o=opts: invert(net, y, method=m, seed=rng, **o))
        rows.append({"method": method, **per_layer_errors(net, res, z), "status": res.status.value,
                     "cpu_seconds": cpu})
    return rows


def segment(n0: int, n1: int, n: int) -> str:
    s1 = n1 / 2
    return "1: n1/2 < n0" if s1 < n0 else ("2: n0 ≤ n1/2 ≤ n" if s1 <= n else "3: n1/2 > n")


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
            ax.axvline(2 * n, color="r", ls=":", lw=1)
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
        text.append(f"### n0 = {n0}, n = {n} (Corollary 1 boundaries: n1 = 2·n0 = {2 * n0}, n1 = 2·n = {2 * n})\n\n")
        text.append(table(["segment", "n1", "method", *[f"{L}: median rel. err (≤ {SUCCESS_TOL:g})" for L in LAYERS]], trows))
        text.append("\n")
    fig.tight_layout()
    fig.savefig(out / "fig4_per_layer.png", dpi=100)
    plt.close(fig)
    return (
        "## Prediction\n\n"
        "Paper 004 (Corollary 1; Theorem 2 / Corollary 2; §6.1, Figure 4 with n = 625, n0 ∈ {100, 200}, "
        "512 signals per net), with s1 ≈ n1/2: segment 1 (n1/2 < n0) — no unique z, all methods fail "
        "on z, the pursuits still recover x1 and x2, gd fails on every layer; segment 2 "
        "(n0 < n1/2 < n) — lbp and latent recover every layer perfectly, gd as well; segment 3 "
        "(n1/2 > n) — the layer-wise methods fail, gd succeeds. Dotted lines: n1/2 = n0 (black) and "
        "n1/2 = n (red).\n\n"
        "## Observation\n\n![per-layer error vs n1](fig4_per_layer.png)\n\n"
        "Per segment: median relative error over all runs and widths of the segment, and in brackets "
        f"the fraction of runs with relative error ≤ {SUCCESS_TOL:g}.\n\n" + "".join(text)
    )


_METHODS = "lbp+latent+gd+oracle"
register(Experiment(
    name="aberdam-fig4",
    title="Per-layer recovery vs hidden width (paper 004, Figure 4; Corollary 1)",
    paper="Aberdam, Simon, Elad (004) §6.1 Figure 4, Corollaries 1–2",
    task=task,
    columns=COLUMNS,
    reduced=Config(
        grid=tuple({"n0": n0, "n1": n1, "n": 50, "methods": _METHODS}
                   for n0 in (8, 16) for n1 in (8, 12, 24, 40, 60, 80, 100, 140, 200)),
        runs=2, runtime="about 30 s on 2 cores (measured)",
        note="Reduced size: n = 50, n0 ∈ {8, 16} (the paper's ratios n0/n = 0.16 and 0.32), n1 from 8 to 200."),
    full=Config(
        grid=tuple({"n0": n0, "n1": n1, "n": 625, "methods": _METHODS}
                   for n0 in (100, 200) for n1 in (50, 100, 150, 200, 300, 400, 500, 600, 700, 800, 1000,
                                                    1250, 1500, 2000)),
        runs=32, runtime="estimated several hours on 2 cores (gd with 10,000 steps dominates at large n1)",
        note="The paper's widths (n = 625, n0 ∈ {100, 200}); n1 extended past 1000 to reach segment 3 "
             "(n1/2 > 625). 32 signals per net instead of 512."),
    report=_report,
    timing_columns=("cpu_seconds",),
))
