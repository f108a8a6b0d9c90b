"""Per-signal certification and checking on a random 20 -> 60 -> 784 ReLU decoder (paper 001's MNIST shape).

    python benchmarks/bench_certify.py              # 10 signals
    python benchmarks/bench_certify.py --signals 3  # quick

Per signal, the certifier computes the exact supports (forward pass in rationals), the per-signal
spark / rank conditions of Theorem 1 (paper 004), the layer-wise polytope certificate, Lei's rank
condition and the l_inf stability claim with ``c_inf`` of the actually active rows (exact LP duals,
or the certified IRLS + LP bracket above the exact engine's size limit); the checker then
re-verifies the certificate from scratch (exact forward pass, ranks, dual certificates, the error
chain). Targets: certification < 0.5 s per signal, checking < 2 s. The decoder has N(0, 1/n_in)
float32 weights and no biases; latents are N(0, I) rounded to float32. BLAS runs on one thread
(``OPENBLAS_NUM_THREADS=1``): "one core". The machine is shared, so both CPU seconds
(``time.process_time``, what the work costs) and wall seconds are reported.

Results go to ``benchmarks/results/certify.md``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from theorychk.certify.certificate import build_certificate, sample_latents  # noqa: E402
from theorychk.check.core import check_certificate, trace  # noqa: E402
from theorychk.network import Layer, Network  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
KINDS = ("aberdam_thm1", "polytope", "lei_thm2", "lei_linf")


def decoder(seed: int = 0) -> Network:
    rng = np.random.default_rng(seed)
    w0 = (rng.standard_normal((60, 20)) / np.sqrt(20)).astype(np.float32)
    w1 = (rng.standard_normal((784, 60)) / np.sqrt(60)).astype(np.float32)
    return Network([Layer(w0, None, "relu"), Layer(w1, None, "relu")], name="random-20-60-784")


def clock(f, *args, **kwargs):
    c, w = time.process_time(), time.perf_counter()
    out = f(*args, **kwargs)
    return out, time.process_time() - c, time.perf_counter() - w


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    net = decoder(args.seed)
    zs = sample_latents(net, args.signals, args.seed)
    build_certificate(net, zs[0], source="warm-up", kinds=KINDS, as_printed=False)  # imports, first LPs
    rows = []
    for i, z in enumerate(zs):
        _, tr_cpu, tr_wall = clock(trace, net, z)
        cert, cpu, wall = clock(build_certificate, net, z, source="bench", kinds=KINDS, as_printed=False)
        text = json.dumps(cert)
        report, ck_cpu, ck_wall = clock(check_certificate, json.loads(text), net)
        statuses = {c["kind"] + (f"({c['variant'][:3]})" if c.get("variant") else ""): c["status"][0]
                    for c in cert["claims"]}
        linf = next(c for c in cert["claims"] if c["kind"] == "lei_linf")
        exact_c = [e["c_evidence"].get("exact") for e in linf["evidence"].get("layers", [])]
        rows.append({"i": i, "trace": tr_cpu, "cpu": cpu, "wall": wall, "check_cpu": ck_cpu, "check_wall": ck_wall,
                     "kb": len(text) / 1000, "verdict": report.verdict, "statuses": statuses, "c_exact": exact_c,
                     "supports": [len(tr) for tr in cert["signal"]["supports"]]})
        print(f"signal {i}: certify {cpu:.3f} s CPU ({wall:.3f} wall), check {ck_cpu:.3f} s CPU "
              f"({ck_wall:.3f} wall), {len(text) / 1000:.0f} kB, {report.verdict}, {statuses}", flush=True)

    def med(key: str) -> float:
        return statistics.median(r[key] for r in rows)

    table = [
        "| quantity | median | max | target |",
        "|---|---|---|---|",
        f"| exact forward pass + supports (CPU s) | {med('trace'):.3f} | {max(r['trace'] for r in rows):.3f} | |",
        f"| certify one signal (CPU s) | {med('cpu'):.3f} | {max(r['cpu'] for r in rows):.3f} | < 0.5 |",
        f"| certify one signal (wall s) | {med('wall'):.3f} | {max(r['wall'] for r in rows):.3f} | |",
        f"| check one certificate (CPU s) | {med('check_cpu'):.3f} | {max(r['check_cpu'] for r in rows):.3f} | < 2 |",
        f"| check one certificate (wall s) | {med('check_wall'):.3f} | {max(r['check_wall'] for r in rows):.3f} | |",
        f"| certificate size (kB) | {med('kb'):.0f} | {max(r['kb'] for r in rows):.0f} | |",
    ]
    kinds = list(rows[0]["statuses"])
    status_rows = ["| signal | supports | " + " | ".join(kinds) + " | c_inf exact per layer | checker |",
                   "|---|---|" + "---|" * len(kinds) + "---|---|"]
    for r in rows:
        status_rows.append(f"| {r['i']} | {r['supports']} | " + " | ".join(r["statuses"][k] for k in kinds)
                           + f" | {r['c_exact']} | {r['verdict']} |")
    load = os.getloadavg()[0]
    text = "\n".join([
        "# Per-signal certification: random 20 -> 60 -> 784 ReLU decoder",
        "",
        f"`python benchmarks/bench_certify.py --signals {args.signals} --seed {args.seed}`; claims "
        f"{', '.join(KINDS)} (per-signal variants); BLAS on one thread; load average at the end {load:.1f} "
        "on 2 cores (shared machine: CPU seconds are the cost, wall seconds include waiting).",
        "",
        *table,
        "",
        "Statuses (C = CERTIFIED, R = REFUTED, U = UNKNOWN) and the checker's verdict:",
        "",
        *status_rows,
        "",
    ])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "certify.md").write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    main()
