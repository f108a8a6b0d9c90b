"""The ``complete`` claim (issue 16) on random Gaussian float32 nets: fraction decided, CPU seconds
per signal for the claim and for its check, tree sizes, certificate sizes.

Nets (built with numpy, ``numpy.random.default_rng(SEED)``, weights ``N(0, 1/n_in)``, biases
``N(0, 0.01)``, float32, saved and re-read as ``.npz`` through :mod:`theorychk.io`): 20-60-784 ReLU,
20-200-500-784 LeakyReLU(0.1) (ReLU output) and 20-60-70 ReLU (a narrow output, where ``polytope``
is often UNKNOWN). 10 latents ``z ~ N(0, I)`` (float32) each. ``python benchmarks/bench_complete.py
[--signals N] [--time-limit SEC]``; writes ``benchmarks/results/complete.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from theorychk.certify.complete import complete_claim
from theorychk.certify.signal import polytope_layer
from theorychk.check.core import check_certificate, trace
from theorychk.certify.certificate import build_certificate
from theorychk.io import load_network, save_network
from theorychk.network import Layer, Network
from theorychk.runtime import Deadline

NETS = {
    "20-60-784 relu": ([20, 60, 784], "relu"),
    "20-200-500-784 leaky_relu:0.1": ([20, 200, 500, 784], "leaky_relu:0.1"),
    "20-60-70 relu": ([20, 60, 70], "relu"),
}
OUT = Path(__file__).resolve().parent / "results" / "complete.md"


def gaussian_net(widths: list[int], act: str, seed: int) -> Network:
    rng = np.random.default_rng(seed)
    layers = [Layer((rng.standard_normal((widths[i + 1], widths[i])) / np.sqrt(widths[i])).astype(np.float32),
                    (0.1 * rng.standard_normal(widths[i + 1])).astype(np.float32),
                    act if i < len(widths) - 2 else "relu") for i in range(len(widths) - 1)]
    return Network(tuple(layers))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--signals", type=int, default=10)
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--nets", default=",".join(NETS), help="comma-separated names of NETS to run")
    ap.add_argument("--append", action="store_true", help="append to the results instead of replacing them")
    ap.add_argument("--few-active", action="store_true",
                    help="only the 20-60-784 ReLU signals with few active hidden units; appended to the results")
    args = ap.parse_args()
    if args.few_active:
        few_active(args.seed)
        return
    lines = ["# `complete` on random Gaussian float32 nets (issue 16)", "",
             f"`python benchmarks/bench_complete.py --signals {args.signals} --time-limit {args.time_limit:g} "
             f"--nets '{args.nets}'` "
             f"(seed {args.seed}); CPU seconds (`time.process_time`), one process, 2-core machine shared "
             "with other jobs. *claim*: the `complete` claim alone on the exact trace (pinning + search + "
             "self-replay); *check*: `check_certificate` of a certificate holding only that claim; "
             "*polytope*: status of the layer-wise polytope claim on the same signal.", "",
             "| net | signal | polytope | complete | top | branches | Farkas | point | claim s | check s | "
             "certificate KB |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.nets.split(","):
            widths, act = NETS[name]
            path = save_network(gaussian_net(widths, act, args.seed), Path(tmp) / "net.npz")
            net = load_network(path)
            zs = np.random.default_rng(args.seed + 1).standard_normal((args.signals, widths[0])).astype(np.float32)
            claim_t, check_t, decided = [], [], 0
            for n, z in enumerate(zs):
                zq = [Fraction(float(v)) for v in z]
                tr = trace(net, zq)
                poly = all(polytope_layer(tr, j)[0] is True for j in range(net.depth))
                t0 = time.process_time()
                claim = complete_claim(tr, deadline=Deadline(args.time_limit))
                t1 = time.process_time()
                cert = build_certificate(net, zq, source="bench", kinds=())
                cert["claims"], cert["parameters"]["kinds"] = [claim], ["complete"]
                t2 = time.process_time()
                report = check_certificate(cert, net)
                t3 = time.process_time()
                ok = claim["status"] != "UNKNOWN"
                decided += ok
                if ok:
                    assert report.verified, report.to_dict()
                    check_t.append(t3 - t2)
                claim_t.append(t1 - t0)
                ev = claim["evidence"]
                size = ev.get("size") or {}
                lines.append(f"| {name} | {n} | {'CERTIFIED' if poly else 'UNKNOWN'} | {claim['status']} "
                             f"{claim['reason'][:40]} | {ev.get('top', '')} | {size.get('branches', 0)} | "
                             f"{size.get('farkas', 0)} | {size.get('point', 0)} | {t1 - t0:.2f} | "
                             f"{t3 - t2:.2f} | {len(json.dumps(claim)) / 1000:.1f} |")
                print(lines[-1], flush=True)
            summary.append(f"| {name} | {decided}/{len(zs)} | {statistics.median(claim_t):.2f} | "
                           f"{statistics.median(check_t) if check_t else float('nan'):.2f} |")
    lines += ["", "| net | decided | median claim s | median check s |", "|---|---|---|---|", *summary]
    with OUT.open("a" if args.append else "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(summary))


def few_active(seed: int) -> None:
    """20-60-784 ReLU at ``z = t d``, ``d = -W_0^T 1 / ||.||``: few hidden units are active, layer 0's
    preimage polytope is not a point, ``polytope`` is UNKNOWN on its own, and ``complete`` decides."""
    net = gaussian_net([20, 60, 784], "relu", seed)
    w0 = np.asarray(net.layers[0].weight, dtype=np.float64)
    d = -(w0.T @ np.ones(w0.shape[0]))
    d /= np.linalg.norm(d)
    lines = ["", "## 20-60-784 ReLU, latents with few active hidden units", "",
             "`z = t d`, `d = -W_0^T 1 / ||W_0^T 1||` (float32): `polytope` alone is UNKNOWN (layer 0's "
             "polytope is not a point: fewer than 20 observed rows); `complete` decides (and its witness then "
             "refutes `polytope` in a full certificate).", "",
             "| t | active hidden units | observed output rows | polytope alone | complete | distance | claim s | "
             "check s |", "|---|---|---|---|---|---|---|---|"]
    for t in (1.0, 2.0, 4.0):
        zq = [Fraction(float(v)) for v in (t * d).astype(np.float32)]
        tr = trace(net, zq)
        poly = all(polytope_layer(tr, j)[0] is True for j in range(net.depth))
        t0 = time.process_time()
        claim = complete_claim(tr, deadline=Deadline(300.0))
        t1 = time.process_time()
        cert = build_certificate(net, zq, source="bench", kinds=())
        cert["claims"], cert["parameters"]["kinds"] = [claim], ["complete"]
        report = check_certificate(cert, net)
        t2 = time.process_time()
        assert report.verified, report.to_dict()
        dist = float(Fraction(claim["evidence"].get("distance", "0")))
        lines.append(f"| {t:g} | {len(tr.support(0))} | {len(tr.observed_rows(1))} | "
                     f"{'CERTIFIED' if poly else 'UNKNOWN'} | {claim['status']} | {dist:.3g} | {t1 - t0:.2f} | "
                     f"{t2 - t1:.2f} |")
        print(lines[-1], flush=True)
    with OUT.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
