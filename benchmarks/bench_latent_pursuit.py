"""Latent-Pursuit vs gradient descent vs the Oracle on a random 20-128-392-784 generator.

The setting of Aberdam, Simon, Elad (paper 004) Section 6.2, with a random net in place of
their trained MNIST one: fully connected ``20 -> 128 -> 392 -> 784``, ReLU hidden layers, a PLU
output (alpha 0.1, c 1, as their net), weights ``N(0, 1/n_in)``, no biases; ``z ~ N(0, I)``,
512 realizable signals ``y = G(z)``. Paper 004 reports, on an Nvidia 1080Ti, about 75 s for
Latent-Pursuit (with debiasing) on the 512 signals and about 30 s for gradient descent.

Methods, all vectorised over the signals (one numpy batch, 2 CPU cores):

* ``latent``: :func:`theorychk.solvers.pursuit.latent_pursuit` with the paper's parameters
  (``lambda = 0``, ``rho = 1e-2``, ``gamma = 0``) and debiasing.
* ``gd``: :func:`theorychk.solvers.gradient.gradient_descent` as in Section 6.2 -- 10,000
  iterations, momentum 0.9 -- with our default fixed step (the curvature bound; the paper's
  1e-1 belongs to its own loss scaling) and no decay, one ``N(0, I)`` start per signal; and
  plain gradient descent (momentum 0, as Section 6.1) for reference.
* ``oracle``: Algorithm 6 with the true supports.

Reconstruction quality as in Figure 5: invert, feed the estimated ``z`` forward, and report per
layer the SNR ``20 log10(||x|| / ||x - x_hat||)`` in dB (median and 10% quantile over signals;
about 300 dB means exact to rounding). Run::

    python benchmarks/bench_latent_pursuit.py            # 512 signals
    python benchmarks/bench_latent_pursuit.py --quick    # 64 signals

and the table is printed and written to ``benchmarks/results/latent_pursuit.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from theorychk.network import Layer, Network
from theorychk.runtime import Deadline
from theorychk.solvers import invert
from theorychk.solvers.gradient import gradient_descent
from theorychk.solvers.pursuit import latent_pursuit, oracle, random_mask, upper_mask

WIDTHS = (20, 128, 392, 784)
RESULTS = Path(__file__).resolve().parent / "results" / "latent_pursuit.md"


def random_generator(seed: int) -> Network:
    rng = np.random.default_rng(seed)
    layers = []
    for i in range(len(WIDTHS) - 1):
        w = rng.standard_normal((WIDTHS[i + 1], WIDTHS[i])) / np.sqrt(WIDTHS[i])
        layers.append(Layer(w, None, "relu" if i < len(WIDTHS) - 2 else "plu"))
    return Network(layers, name="random-20-128-392-784-plu")


def layer_snrs(net: Network, z_true: np.ndarray, z_hat: np.ndarray | None) -> list[np.ndarray]:
    """Per layer (z, x_1, ..., x_L): SNR in dB of the forward pass of ``z_hat``, per signal."""
    if z_hat is None:  # the run stopped (time budget) before estimating z
        return [np.full(len(z_true), np.nan)] * (len(WIDTHS))
    truth = [z_true, *net.hidden(z_true)]
    est = [z_hat, *net.hidden(z_hat)]
    out = []
    for x, xh in zip(truth, est, strict=True):
        err = np.maximum(np.linalg.norm(x - xh, axis=1), 1e-300)
        out.append(20 * np.log10(np.linalg.norm(x, axis=1) / err))
    return out


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="64 signals instead of 512")
    parser.add_argument("--signals", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=float, default=600.0, help="seconds for the whole run")
    parser.add_argument("--plain-gd-signals", type=int, default=64,
                        help="signals for plain (momentum-free) gd, which needs most of its 10k iterations")
    parser.add_argument("--no-inpainting", action="store_true", help="skip the two masked runs")
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="limit BLAS threads (threadpoolctl); 1 is far faster on a loaded machine")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.blas_threads)
    load_before = os.getloadavg()[0]
    count = args.signals or (64 if args.quick else 512)
    deadline = Deadline(args.budget)
    net = random_generator(args.seed)
    rng = np.random.default_rng(args.seed + 1)
    z = rng.standard_normal((count, WIDTHS[0]))
    y = net(z)

    rows: list[tuple[str, str, float, list[np.ndarray], str]] = []

    lp, t_lp = timed(lambda: latent_pursuit(net, y, debias_step=True, deadline=deadline))
    stages = ", ".join(f"{k} {int(np.median(v))}/{int(v.max())}" for k, v in lp.iterations.items())
    rows.append(("clean", "latent (Alg. 5 + debias)", t_lp, layer_snrs(net, z, lp.latent),
                 f"{lp.converged.mean():.0%} SOLVED; iterations median/max: {stages}"))

    orc, t_or = timed(lambda: oracle(net, y, [s for s in net.supports(z)[:-1]]))
    rows.append(("clean", "oracle (Alg. 6)", t_or, layer_snrs(net, z, orc.latent), "true supports"))

    gd, t_gd = timed(lambda: gradient_descent(net, y, rng=np.random.default_rng(args.seed + 2), momentum=0.9,
                                             deadline=deadline))
    rows.append(("clean", "gd (momentum 0.9, 10k it.)", t_gd, layer_snrs(net, z, gd.latent),
                 f"{gd.converged.mean():.0%} stopped on grad norm <= 1e-9; step {gd.step:.3g}; "
                 f"iterations median {int(np.median(gd.iterations))}{'; TIME LIMIT' if gd.timed_out else ''}"))

    k0 = min(args.plain_gd_signals, count)
    gd0, t_gd0 = timed(lambda: gradient_descent(net, y[:k0], rng=np.random.default_rng(args.seed + 2),
                                               deadline=deadline))
    rows.append(("clean", f"gd (plain, 10k it.), first {k0} signals", t_gd0, layer_snrs(net, z[:k0], gd0.latent),
                 f"{gd0.converged.mean():.0%} stopped on grad norm; iterations median "
                 f"{int(np.median(gd0.iterations))}{'; TIME LIMIT' if gd0.timed_out else ''}"))

    # Unbatched: the same method through invert(), one signal at a time, on a few signals.
    few = min(16, count)
    _, t_single = timed(lambda: [invert(net, y[i], method="latent", debias=True) for i in range(few)])

    if not args.no_inpainting:
        masks = {
            "random 45% hidden": random_mask(784, observed=0.55, rng=np.random.default_rng(args.seed + 3)),
            "upper 13 of 28 rows hidden": upper_mask(28, 28, hidden_rows=13),
        }
        for label, mask in masks.items():
            y_obs = np.where(mask, y, 0.0)
            lpm, t = timed(lambda: latent_pursuit(net, y_obs, mask=mask, debias_step=True, deadline=deadline))
            rows.append((label, "latent (Alg. 5 + debias)", t, layer_snrs(net, z, lpm.latent),
                         f"{lpm.converged.mean():.0%} SOLVED{'; TIME LIMIT' if lpm.timed_out else ''}"))
            orm, t = timed(lambda: oracle(net, y_obs, [s for s in net.supports(z)[:-1]], mask=mask))
            rows.append((label, "oracle (Alg. 6)", t, layer_snrs(net, z, orm.latent), "true supports"))
            gdm, t = timed(lambda: gradient_descent(net, y_obs, mask=mask, rng=np.random.default_rng(args.seed + 2),
                                                   momentum=0.9, deadline=deadline))
            rows.append((label, "gd (momentum 0.9, 10k it.)", t, layer_snrs(net, z, gdm.latent),
                         f"{gdm.converged.mean():.0%} stopped on grad norm"))

    lines = [
        "# Latent-Pursuit benchmark",
        "",
        f"Random generator {'-'.join(map(str, WIDTHS))} (ReLU, ReLU, PLU(0.1, 1); weights N(0, 1/n_in); seed "
        f"{args.seed}), {count} realizable signals, z ~ N(0, I). Machine: {os.cpu_count()} CPU cores, "
        f"{platform.processor() or platform.machine()}, numpy {np.__version__}, Python {platform.python_version()}. "
        "Everything is batched over the signals in numpy. BLAS threads: "
        f"{args.blas_threads if args.blas_threads is not None else 'library default'}; load average "
        f"before / after the run: {load_before:.1f} / {os.getloadavg()[0]:.1f} (other jobs share the cores).",
        "",
        "SNR (dB) of each layer after feeding the estimated z forward (paper 004 Fig. 5 protocol): "
        "median / 10% quantile over the signals; ~300 dB is exact to rounding.",
        "",
        "| data | method | time (s) | z | x_1 | x_2 | x_3 = image | notes |",
        "|---|---|---:|---|---|---|---|---|",
    ]
    for data, method, seconds, snrs, note in rows:
        cells = " | ".join(f"{np.median(s):.0f} / {np.quantile(s, 0.1):.0f}" for s in snrs)
        lines.append(f"| {data} | {method} | {seconds:.1f} | {cells} | {note} |")
    lines += [
        "",
        f"Clean signals: latent {t_lp:.1f} s, gd (momentum) {t_gd:.1f} s on {count} signals: "
        f"gd / latent = {t_gd / t_lp:.2f}; plain gd {t_gd0:.1f} s on {k0} signals "
        f"(per signal {t_gd0 / k0 / (t_lp / count):.1f}x latent). "
        f"Paper 004 (GPU): latent about 75 s, gd about 30 s for 512 signals (gd / latent = 0.4).",
        "",
        f"Unbatched `invert(method='latent', debias=True)` one signal at a time: {t_single / few:.3f} s per "
        f"signal on {few} signals (batched: {t_lp / count:.4f} s per signal).",
    ]
    if deadline.expired():
        lines += ["", f"**The {args.budget:.0f} s budget ran out: some runs above stopped early (see notes).**"]
    table = "\n".join(lines) + "\n"
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table)


if __name__ == "__main__":
    main()
