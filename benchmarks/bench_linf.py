"""``linf`` (Algorithm 1 of paper 001) against a re-implementation of the published approach.

Usage::

    python benchmarks/bench_linf.py [--quick] [--trials N] [--curve-trials N] [--seed S]

Setting (paper 001, Section 5.1 / NeurIPS Figure 2): random 2-layer ReLU nets ``k → 250 → 600``
with N(0, 1/n_i) weights (``n_i`` the layer's output width, as the published code scales them),
no bias, ``z ~ N(0, I_k)``, noiseless ``y = G(z)``. A run succeeds when
``‖ẑ − z‖₂ / ‖z‖₂ ≤ 1e-3``.

Baseline: a re-implementation (not a copy) of the published approach — for each layer, from the
output back, one ``cvxopt.solvers.lp`` per ε (the LP rebuilt from scratch every time), the
variables ``(z, δ)``, rows ``W z − δ ≤ x`` (all rows) and ``−W_S z − δ ≤ −x_S`` (``S = {x_j > ε}``),
``0 ≤ δ ≤ ε``, ``z ≥ 0`` on non-first layers, minimising δ; ``"primal infeasible"`` grows ε by
α = 1.2, and ε carries over to the next layer. ε starts at 1e-9 (the published ``choose_k`` run).
If cvxopt is missing, ``scipy.optimize.linprog(method="highs")`` stands in (rebuilt per ε), and
the report says so.

Both sides run with single-threaded BLAS (set below, before numpy loads): on a shared 2-core
machine, threaded BLAS mostly measures contention. Timings are wall-clock medians per inversion.
Results: printed as markdown and written to ``benchmarks/results/linf.md``.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from theorychk._highs import new_highs  # noqa: E402
from theorychk.network import Layer, Network  # noqa: E402
from theorychk.solvers import invert  # noqa: E402

try:  # the baseline's solver; a benchmark-only dependency
    import cvxopt
    import cvxopt.solvers

    cvxopt.solvers.options["show_progress"] = False
    BASELINE = f"cvxopt {cvxopt.__version__} (solvers.lp, default interior-point solver)"
except ImportError:  # pragma: no cover - exercised only without cvxopt
    cvxopt = None
    BASELINE = "STAND-IN: scipy.optimize.linprog(method='highs') rebuilt per ε (cvxopt not installed)"

HIDDEN, OUTPUT = 250, 600
SUCCESS = 1e-3
EPS0, ALPHA = 1e-9, 1.2


# --------------------------------------------------------------------------------------------
# Baseline: the published approach
# --------------------------------------------------------------------------------------------


def _baseline_layer_lp(w: np.ndarray, x: np.ndarray, eps: float, first: bool) -> np.ndarray | None:
    """One LP of Algorithm 1 built from scratch; ``None`` when the solver says infeasible."""
    n, m = w.shape
    on = x > eps
    ones = np.ones((n, 1))
    # rows: W z − δ ≤ x;  −W_S z − δ ≤ −x_S;  δ ≤ ε;  −δ ≤ 0;  (−z ≤ 0 unless first layer)
    blocks = [np.hstack([w, -ones]), np.hstack([-w[on], -ones[on]])]
    e = np.zeros((1, m + 1))
    e[0, -1] = 1.0
    blocks += [e, -e]
    rhs = [x, -x[on], [eps], [0.0]]
    if not first:
        blocks.append(np.hstack([-np.eye(m), np.zeros((m, 1))]))
        rhs.append(np.zeros(m))
    g = np.vstack(blocks)
    h = np.concatenate(rhs)
    c = e.ravel()
    if cvxopt is not None:
        sol = cvxopt.solvers.lp(cvxopt.matrix(c), cvxopt.matrix(g), cvxopt.matrix(h))
        if sol["status"] == "primal infeasible":
            return None
        return np.array(sol["x"]).ravel()[:m]
    import scipy.optimize

    res = scipy.optimize.linprog(c, A_ub=g, b_ub=h, bounds=[(None, None)] * (m + 1), method="highs")
    return None if res.status == 2 else res.x[:m]


def baseline_invert(weights: list[np.ndarray], y: np.ndarray) -> tuple[np.ndarray, int]:
    """Layer-wise Algorithm 1 as published: returns the latent estimate and the LP count."""
    eps, current, lps = EPS0, y, 0
    for i in range(len(weights) - 1, -1, -1):
        while True:
            lps += 1
            sol = _baseline_layer_lp(weights[i], current, eps, first=(i == 0))
            if sol is not None:
                break
            eps *= ALPHA
        current = sol
    return current, lps


# --------------------------------------------------------------------------------------------
# Instances and measurements
# --------------------------------------------------------------------------------------------


def instance(k: int, rng: np.random.Generator) -> tuple[Network, list[np.ndarray], np.ndarray, np.ndarray]:
    w1 = rng.normal(0.0, 1.0 / np.sqrt(HIDDEN), size=(HIDDEN, k))
    w2 = rng.normal(0.0, 1.0 / np.sqrt(OUTPUT), size=(OUTPUT, HIDDEN))
    net = Network([Layer(w1, None, "relu"), Layer(w2, None, "relu")])
    z = rng.normal(size=k)
    return net, [w1, w2], z, net.forward(z)


def ok(z_hat: np.ndarray | None, z: np.ndarray) -> bool:
    return z_hat is not None and bool(np.linalg.norm(z_hat - z) / np.linalg.norm(z) <= SUCCESS)


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def measure_speed(k: int, trials: int, seed: int, highs_trials: int) -> dict:
    rng = np.random.default_rng([seed, k])
    ours_t, base_t, highs_t = [], [], []
    ours_ok = base_ok = highs_ok = 0
    lps = []
    for t in range(trials):
        net, ws, z, y = instance(k, rng)
        res, dt = timed(invert, net, y, method="linf")
        ours_t.append(dt)
        ours_ok += ok(res.latent, z)
        (zb, n_lp), db = timed(baseline_invert, ws, y)
        base_t.append(db)
        base_ok += ok(zb, z)
        lps.append(n_lp)
        if t < highs_trials:
            res_h, dh = timed(invert, net, y, method="linf", fast_path=False)
            highs_t.append(dh)
            highs_ok += ok(res_h.latent, z)
    return {
        "k": k,
        "trials": trials,
        "ours_ms": 1e3 * float(np.median(ours_t)),
        "base_ms": 1e3 * float(np.median(base_t)),
        "ours_ok": ours_ok,
        "base_ok": base_ok,
        "base_lps": float(np.mean(lps)),
        "highs_ms": 1e3 * float(np.median(highs_t)) if highs_t else float("nan"),
        "highs_ok": highs_ok,
        "highs_trials": len(highs_t),
    }


def measure_curve(ks: list[int], trials: int, seed: int, with_baseline: bool) -> list[dict]:
    rows = []
    for k in ks:
        rng = np.random.default_rng([seed, 1000 + k])
        ours = base = under = 0
        for _ in range(trials):
            net, ws, z, y = instance(k, rng)
            res = invert(net, y, method="linf")
            ours += ok(res.latent, z)
            under += bool(res.info.get("underdetermined_layers"))
            if with_baseline:
                base += ok(baseline_invert(ws, y)[0], z)
        rows.append(
            {
                "k": k,
                "trials": trials,
                "ours": ours,
                "base": base if with_baseline else None,
                "underdetermined": under,
            }
        )
        print(
            f"  k={k:3d}: linf {ours}/{trials}" + (f", baseline {base}/{trials}" if with_baseline else ""),
            file=sys.stderr,
        )
    return rows


def report(speed: list[dict], curve: list[dict], args: argparse.Namespace, wall: float) -> str:
    lines = [
        "# `linf` (Algorithm 1) vs the published approach",
        "",
        f"Nets `k → {HIDDEN} → {OUTPUT}`, ReLU, N(0, 1/n_i) weights, no bias, noiseless; success = "
        f"‖ẑ − z‖₂/‖z‖₂ ≤ {SUCCESS:g}. Seed {args.seed}. Single-threaded BLAS for both sides.",
        f"Baseline: {BASELINE}, one LP per ε rebuilt from scratch, ε₀ = {EPS0:g}, α = {ALPHA}.",
        f'Ours: `invert(net, y, method="linf")` (defaults: fast path on, HiGHS {new_highs().version()}); '
        "`fast_path=False` = every layer through HiGHS (one model per layer, crash basis, warm re-solves).",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average at start {args.load}. Wall time of this run: {wall:.0f} s.",
        "",
        "## Median time per inversion",
        "",
        "| k | trials | baseline ms | `linf` ms | speed-up | baseline success | `linf` success | "
        "`linf` fast_path=False ms (trials) | its success |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in speed:
        lines.append(
            f"| {r['k']} | {r['trials']} | {r['base_ms']:.1f} | {r['ours_ms']:.2f} | "
            f"**{r['base_ms'] / r['ours_ms']:.1f}×** | {r['base_ok']}/{r['trials']} | "
            f"{r['ours_ok']}/{r['trials']} | "
            f"{r['highs_ms']:.1f} ({r['highs_trials']}) | {r['highs_ok']}/{r['highs_trials']} |"
        )
    lines += [
        "",
        "Baseline LPs per inversion (mean): "
        + ", ".join(f"k={r['k']}: {r['base_lps']:.1f}" for r in speed)
        + ".",
        "",
        "## Success rate vs latent dimension",
        "",
        "| k | trials | `linf` success | baseline success | `linf` runs with an underdetermined layer |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in curve:
        base = "—" if r["base"] is None else f"{100 * r['base'] / r['trials']:.0f}%"
        lines.append(
            f"| {r['k']} | {r['trials']} | {100 * r['ours'] / r['trials']:.0f}% | {base} | "
            f"{r['underdetermined']} |"
        )
    lines += [
        "",
        "Published figures for the approach (paper 001 / NeurIPS Fig. 2, 200 runs): 100% up to k = 100 "
        '("until k = 109"), 98% at k = 110, 74% at k = 120; median ≈ 60-85 ms per inversion.',
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="few trials (smoke run)")
    ap.add_argument("--trials", type=int, default=None, help="timing trials per k (default 30; quick 6)")
    ap.add_argument(
        "--curve-trials", type=int, default=None, help="success-curve trials per k (default 30; quick 5)"
    )
    ap.add_argument("--seed", type=int, default=2019)
    ap.add_argument("--no-baseline-curve", action="store_true", help="success curve for linf only")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "linf.md")
    args = ap.parse_args(argv)
    trials = args.trials or (6 if args.quick else 30)
    curve_trials = args.curve_trials or (5 if args.quick else 30)
    loadavg = Path("/proc/loadavg")
    args.load = loadavg.read_text().split()[0] if loadavg.exists() else "n/a"
    start = time.perf_counter()
    speed = []
    for k in (20, 60, 100):
        print(f"timing k={k} ...", file=sys.stderr)
        speed.append(measure_speed(k, trials, args.seed, highs_trials=min(trials, 10)))
    print("success curve ...", file=sys.stderr)
    curve = measure_curve(list(range(10, 131, 10)), curve_trials, args.seed, not args.no_baseline_curve)
    text = report(speed, curve, args, time.perf_counter() - start)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
