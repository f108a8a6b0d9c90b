"""Paper 004 Section 6.2 on the zoo net ``aberdam`` (8 → 24 → 48 → 64, trained by us on 8×8 digits):
per-layer reconstruction, clean and inpainting, for Latent-Pursuit, gradient descent and the Oracle.

Prediction (paper 004 §6.2, Figures 5–13, 20 → 128 → 392 → 784 on MNIST): Latent-Pursuit
reconstructs every layer (SNR far above gd's) in the clean setting and with a random mask hiding
45% of the pixels, slightly below the Oracle; with the upper ≈45% of each image hidden the
conclusions are the same; gradient descent fails on a large share of the signals. Signals are
realizable: ``x = G(z*)`` with ``z* ~ N(0, I)``. Our net is far smaller than the paper's and
trained on scikit-learn's 8×8 digits, not MNIST: the mask hides 4 of 8 rows (50%) for the
upper-half case and 45% of the pixels at random.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from theorychk.experiments import Config, Experiment, register
from theorychk.experiments._common import fmt, group, pyplot, rel_error, table, timed
from theorychk.network import row_model

COLUMNS = ("method", "layer", "rel_error", "snr_db", "status", "cpu_seconds", "undetermined")
SUCCESS_TOL = 1e-3


def _mask(kind: str, n: int, rng: np.random.Generator) -> np.ndarray | None:
    from theorychk.solvers.pursuit import random_mask, upper_mask

    if kind == "clean":
        return None
    if kind == "random":
        return random_mask(n, observed=0.55, rng=rng)
    side = int(round(np.sqrt(n)))
    return upper_mask(side, side, hidden_rows=side // 2)


def layer_determined(layer: Any, x_next: np.ndarray, *, nonneg: bool, rows: np.ndarray | None = None,
                     directions: int = 4) -> bool:
    """Whether the layer's input ``x`` is determined by its (true) output ``x_next`` alone: the
    polytope ``{x : W^S x + b^S = x_next^S, W^{S^c} x + b^{S^c} <= 0, x >= 0 if nonneg}`` (ReLU layer,
    ``S`` the support) or ``{x : W_r x + b_r = phi^{-1}(x_next)_r, r in rows}`` (invertible activation)
    is a single point: min and max of ``directions`` random linear functionals (HiGHS LPs) agree to
    1e-6. A layer-wise method without a sparsity prior cannot tell the points of a larger polytope apart."""
    from scipy.optimize import linprog

    w, b = layer.weight, layer.bias
    rows = np.ones(layer.n_out, bool) if rows is None else rows
    if row_model(layer.activation).family == "relu":
        on = (x_next > 0) & rows
        a_eq, b_eq, a_ub, b_ub = w[on], x_next[on] - b[on], w[~(x_next > 0) & rows], -b[~(x_next > 0) & rows]
    else:
        a_eq, b_eq, a_ub, b_ub = w[rows], layer.activation.inverse(x_next[rows]) - b[rows], None, None
    bounds = [(0, None) if nonneg else (None, None)] * layer.n_in
    dirs = np.random.default_rng(0).standard_normal((directions, layer.n_in))
    for c in dirs:
        lo = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        hi = linprog(-c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if lo.status != 0 or hi.status != 0 or float(np.max(np.abs(lo.x - hi.x))) > 1e-6:
            return False
    return True


def undetermined_layers(net: Any, z: np.ndarray, mask: np.ndarray | None) -> str:
    """The layers whose input is not determined by the next layer's true value (observed rows of
    the output), e.g. ``"x1"``; ``""`` when every layer-wise step has a unique answer."""
    values = [z, *net.hidden(z)]
    names = ["z", *[f"x{i + 1}" for i in range(net.depth - 1)]]
    out = []
    for i, layer in enumerate(net.layers):
        rows = mask if (mask is not None and i == net.depth - 1) else None
        if not layer_determined(layer, values[i + 1], nonneg=i > 0, rows=rows):
            out.append(names[i])
    return " ".join(out)


def task(params: dict[str, Any], seed: int) -> list[dict[str, Any]]:
    from theorychk import zoo
    from theorychk.solvers import invert

    rng = np.random.default_rng(seed)
    net = zoo.load(str(params["net"]))
    z = rng.standard_normal(net.latent_dim)
    y = net.forward(z)
    mask = _mask(str(params["mask"]), net.output_dim, rng)
    truth = [z, *net.hidden(z)]
    names = ["z", *[f"x{i + 1}" for i in range(net.depth - 1)], "output"]
    undetermined = undetermined_layers(net, z, mask)
    rows = []
    for method in str(params["methods"]).split("+"):
        opts: dict[str, Any] = {"latent": {"debias": True}, "oracle": {"latent_true": z},
                                "gd": {"momentum": 0.9, "iterations": int(params.get("gd_iterations", 10_000))}}.get(method, {})
        res, cpu, _ = timed(lambda m=method, o=opts: invert(net, y, method=m, mask=mask, seed=rng, **o))
        est = [res.latent, *(list(res.hidden) + [None] * net.depth)[: net.depth]]
        for name, e, t in zip(names, est, truth, strict=True):
            err = rel_error(None if e is None else np.asarray(e).reshape(-1), t)
            rows.append({"method": method, "layer": name, "rel_error": err,
                         "snr_db": float(-20 * np.log10(max(err, 1e-300))) if np.isfinite(err) else float("-inf"),
                         "status": res.status.value, "cpu_seconds": cpu, "undetermined": undetermined})
    return rows


def _report(rows: list[dict[str, Any]], out: Path, size: str) -> str:
    plt = pyplot()
    masks = [m for m in ("clean", "random", "upper") if any(r["mask"] == m for r in rows)]
    layers = list(dict.fromkeys(r["layer"] for r in rows))
    fig, axes = plt.subplots(1, len(masks), figsize=(5 * len(masks), 4), squeeze=False)
    trows = []
    for ax, m in zip(axes[0], masks, strict=True):
        sub = [r for r in rows if r["mask"] == m]
        for (method,), mrows in group(sub, "method").items():
            med = [float(np.median([min(r["snr_db"], 320) for r in mrows if r["layer"] == L])) for L in layers]
            ax.plot(layers, med, "o-", label=method)
            trows.append([m, method, *[f"{fmt(float(np.median([r['snr_db'] for r in mrows if r['layer'] == L])))} dB "
                                       f"({np.mean([r['rel_error'] <= SUCCESS_TOL for r in mrows if r['layer'] == L]):.0%})"
                                       for L in layers]])
        ax.set(title=f"mask: {m}", xlabel="layer", ylabel="median SNR (dB)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(out / "inpainting_per_layer.png", dpi=110)
    plt.close(fig)
    return (
        "## Prediction\n\n"
        "Paper 004 §6.2 (trained 20 → 128 → 392 → 784 MNIST generator): Latent-Pursuit recovers all "
        "layers, clean and with 45% of the pixels hidden (random or upper part), slightly below the "
        "Oracle; gradient descent fails on a large share of the signals.\n\n"
        "## Observation (zoo net `aberdam`, 8 → 24 → 48 → 64, digits 8×8)\n\n"
        "![per-layer SNR](inpainting_per_layer.png)\n\n"
        f"Median SNR = −20·log10(relative error) per layer, and in brackets the fraction of signals "
        f"with relative error ≤ {SUCCESS_TOL:g}:\n\n"
        + table(["mask", "method", *layers], trows)
        + "\n" + _diagnosis(rows, masks)
    )


def _diagnosis(rows: list[dict[str, Any]], masks: list[str]) -> str:
    """Why Latent-Pursuit misses the signals it misses: a layer-wise ambiguity (some layer's input
    not determined by the next layer's true value) or an algorithmic failure (every layer-wise step
    has a unique answer; the status says whether an iteration limit was hit)."""
    out = ["## Diagnosis of Latent-Pursuit's misses\n\n",
           "A layer-wise method recovers z only if every layer's input is determined by the next "
           "layer's value (`layer_determined`: the feasible polytope of that step is a point). Per mask, "
           f"the signals where `latent` misses z (relative error > {SUCCESS_TOL:g}), split by that test:\n\n"]
    trows = []
    for m in masks:
        miss = [r for r in rows if r["mask"] == m and r["method"] == "latent" and r["layer"] == "z"
                and not r["rel_error"] <= SUCCESS_TOL]
        total = sum(1 for r in rows if r["mask"] == m and r["method"] == "latent" and r["layer"] == "z")
        amb = [r for r in miss if str(r.get("undetermined") or "").strip()]
        first = {}
        for r in amb:
            key = str(r["undetermined"]).split()[-1]
            first[key] = first.get(key, 0) + 1
        rest = [r for r in miss if not str(r.get("undetermined") or "").strip()]
        # an iteration cap that leaves the estimate off the signal is APPROXIMATE (UNKNOWN before issue 14)
        unknown = sum(1 for r in rest if r["status"] in ("APPROXIMATE", "UNKNOWN"))
        trows.append([m, f"{len(miss)} / {total}",
                      f"{len(amb)}" + (f" (first undetermined from the top: {', '.join(f'{k} {v}' for k, v in sorted(first.items()))})" if amb else ""),
                      f"{len(rest)} ({unknown} hit the iteration limit: status APPROXIMATE)"])
    out.append(table(["mask", "latent misses z", "layer-wise ambiguous", "every step determined"], trows))
    out.append("\nAmbiguous misses are not Latent-Pursuit's fault: a layer's observations admit other "
               "feasible values and λ = 0 gives no preference for the true one (masks that leave the last "
               "layer underdetermined cause most of them). Misses with every step determined are "
               "algorithmic when their status is APPROXIMATE: an iterative stage (FISTA for the last layer, "
               "ADMM for the others; ρ = 1e-2, λ = 0, 10,000 iterations as in the paper) stopped at its "
               "iteration limit.\n")
    return "".join(out)


_METHODS = "latent+gd+oracle"
register(Experiment(
    name="zoo-inpainting",
    title="Per-layer reconstruction and inpainting on the zoo net `aberdam` (paper 004, §6.2)",
    paper="Aberdam, Simon, Elad (004) §6.2 Figures 5–13",
    task=task,
    columns=COLUMNS,
    reduced=Config(grid=tuple({"net": "aberdam", "mask": m, "methods": _METHODS} for m in ("clean", "random", "upper")),
                   runs=6, runtime="about 15 s on 2 cores (measured)"),
    full=Config(grid=tuple({"net": "aberdam", "mask": m, "methods": _METHODS} for m in ("clean", "random", "upper")),
                runs=200, runtime="8.5 min on 2 cores (measured: 510 s)"),
    report=_report,
    timing_columns=("cpu_seconds",),
))
