"""Cost of the stability claims ``lei_linf`` / ``lei_l1`` per signal, certify and check.

    python benchmarks/bench_stability.py                      # zoo:vae784-leaky, 3 signals
    python benchmarks/bench_stability.py --net random --signals 1

Per signal and kind: CPU seconds of ``build_certificate`` with that one kind (no time limit;
includes the exact forward pass, reported separately as ``trace``), CPU seconds of
``check_certificate`` on the JSON round trip, the size of the certificate as ``certify --out``
writes it (compact JSON, shortest exact rationals), the certified bound and, per layer, whether the
constant ``c`` is exact or a certified lower bound. Nets: the zoo's 20 -> 200 -> 500 -> 784
LeakyReLU(0.1) decoder, or a random float32 net of that shape (N(0, 1/n_in) weights, seed 0).
BLAS on one thread ("one core"). Results go to ``benchmarks/results/stability.md`` (``--write``).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from fractions import Fraction  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from theorychk.certify.certificate import build_certificate, sample_latents, write_certificate  # noqa: E402
from theorychk.check.core import check_certificate, trace  # noqa: E402
from theorychk.network import Layer, Network  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_certify import clock  # noqa: E402  (CPU and wall seconds of one call)

RESULTS = Path(__file__).resolve().parent / "results"


def random_net(seed: int = 0) -> Network:
    rng = np.random.default_rng(seed)
    widths = (20, 200, 500, 784)
    layers = [Layer((rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32), None, "leaky_relu:0.1")
              for i, o in zip(widths, widths[1:])]
    return Network(layers, name="random-20-200-500-784-leaky")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", default="zoo", choices=("zoo", "random"))
    parser.add_argument("--signals", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", default="lei_linf,lei_l1")
    parser.add_argument("--write", action="store_true", help="append the table to benchmarks/results/stability.md")
    args = parser.parse_args()
    if args.net == "zoo":
        from theorychk import zoo

        net, label = zoo.load("vae784-leaky"), "zoo:vae784-leaky"
    else:
        net, label = random_net(args.seed), "random float32 20-200-500-784 LeakyReLU(0.1)"
    zs = sample_latents(net, args.signals, args.seed)
    noise = Fraction(1, 1000)
    lines = [f"| {label} | signal | kind | trace CPU s | certify CPU s | check CPU s | size kB | c per layer | bound |",
             "|---|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for i, z in enumerate(zs):
            _, tr_cpu, _ = clock(trace, net, z)
            for kind in args.kinds.split(","):
                cert, cpu, wall = clock(build_certificate, net, z, source="bench", kinds=(kind,), noise=noise,
                                        time_limit=None, as_printed=False)
                path = write_certificate(cert, Path(tmp) / f"{kind}-{i}.json")
                size = path.stat().st_size / 1000
                doc = json.loads(path.read_text())
                report, ck_cpu, ck_wall = clock(check_certificate, doc, net)
                claim = cert["claims"][0]
                ev = claim["evidence"]
                consts = [f"{e['layer']}:{e.get('constant', e['c_evidence'].get('method'))}"
                          for e in ev.get("layers", [])]
                bound = float(Fraction(ev["bound"])) if "bound" in ev else None
                print(f"signal {i} {kind}: trace {tr_cpu:.2f} s, certify {cpu:.2f} s CPU ({wall:.2f} wall), "
                      f"check {ck_cpu:.2f} s CPU ({ck_wall:.2f} wall), {size:.0f} kB, {claim['status']}, "
                      f"{report.verdict}, bound {bound}, {consts}", flush=True)
                lines.append(f"| | {i} | `{kind}` | {tr_cpu:.2f} | {cpu:.2f} | {ck_cpu:.2f} | {size:.0f} | "
                             f"{' '.join(consts)} | {bound:.4g} |" if bound is not None else
                             f"| | {i} | `{kind}` | {tr_cpu:.2f} | {cpu:.2f} | {ck_cpu:.2f} | {size:.0f} | "
                             f"{claim['status']}: {claim.get('reason', '')} | |")
    print("\n".join(lines))
    if args.write:
        RESULTS.mkdir(exist_ok=True)
        with open(RESULTS / "stability.md", "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n\n")


if __name__ == "__main__":
    main()
