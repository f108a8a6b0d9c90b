"""CPU cost of the engines the consolidation (issue 15) touched: ``main`` against this branch.

    git worktree add --detach /tmp/base $(git merge-base main HEAD)   # main as this branch left it
    python benchmarks/bench_consolidation.py --base /tmp/base          # print the table
    python benchmarks/bench_consolidation.py --base /tmp/base --write  # also write results/consolidation.md

Each workload runs once per tree in its own subprocess (``PYTHONPATH`` = that tree, BLAS on one
thread), on the same inputs (fixed seeds). It is timed in CPU seconds (``time.process_time()``
plus the children it waited for) after a warm-up call on other inputs that pays for imports and
the first HiGHS model and leaves no cached result to hit. Workloads:

* ``linf`` / ``l1``: Lei Algorithms 1-2 on a ReLU 6-60-200 net, 20 signals with N(0, 1e-3)
  noise (so that the LPs run rather than the noiseless least-squares fast path);
* ``milp``: exact inversion, ReLU 2-10-24 net, 3 signals;
* ``lbp``: Aberdam Algorithm 2, ReLU 4-40-120 net, 20 signals;
* ``certify``: ``build_certificate`` of 20 signals of the zoo's ``vae-relu`` with the claims
  polytope, lei_thm2, aberdam_thm1, complete and lei_linf;
* ``injectivity``: ``layer_injectivity`` of Gaussian ReLU layers with bias, 20x6 (a witness),
  30x3, 24x4 and 40x4 (the exact hyperplane LPs);
* ``spark``: exact spark of random {-1, 0, 1} matrices 10x20 and 12x24 (enumeration and LPs).

Ratios are branch / main (below 1: the branch is faster); "same results" compares the statuses
(and spark values) the two trees return.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BRANCH = HERE.parent
WORKLOADS = ("linf", "l1", "milp", "lbp", "certify", "injectivity", "spark")

CHILD = r'''
import json, sys, time
from fractions import Fraction
import numpy as np
from theorychk.network import Layer, Network

def relu_net(widths, seed):
    rng = np.random.default_rng(seed)
    return Network([Layer(rng.standard_normal((o, i)) / np.sqrt(i), None, "relu")
                    for i, o in zip(widths, widths[1:])])

def signals(net, n, seed, noise=0.0):
    rng = np.random.default_rng(seed)
    return [net.forward(rng.standard_normal(net.latent_dim)) + noise * rng.standard_normal(net.output_dim)
            for _ in range(n)]

def invert_all(method, widths, n, seed, noise=0.0):
    from theorychk.solvers import invert
    net = relu_net(widths, seed)
    ys = signals(net, n, seed + 1, noise)
    def run():
        kw = {"noise": 3 * noise * np.sqrt(net.output_dim)} if noise else {}
        return [invert(net, y, method=method, **kw).status.value for y in ys]
    return run

def certify(seed):
    from theorychk import zoo
    from theorychk.certify.certificate import build_certificate, sample_latents
    net = zoo.load("vae-relu")
    zs = sample_latents(net, 20, seed)
    kinds = ("polytope", "lei_thm2", "aberdam_thm1", "complete", "lei_linf")
    def run():
        return [sorted(c["status"] for c in build_certificate(net, z, source="bench", kinds=kinds,
                                                               as_printed=False)["claims"]) for z in zs]
    return run

def injectivity(seed):
    from theorychk.certify.injectivity import layer_injectivity
    rng = np.random.default_rng(seed)
    layers = [Layer(rng.standard_normal((m, d)), rng.standard_normal(m), "relu") for m, d in ((20, 6), (30, 3), (24, 4), (40, 4))]
    def run():
        return [layer_injectivity(layer, seed=i).status.value for i, layer in enumerate(layers)]
    return run

def spark_(seed):
    from theorychk.invariants.spark import spark
    rng = np.random.default_rng(seed)
    mats = [rng.integers(-1, 2, size=shape) for shape in ((10, 20), (12, 24))]
    def run():
        return [int(spark(m).value) for m in mats]
    return run

MAKE = {"linf": lambda s: invert_all("linf", (6, 60, 200), 20, s, 1e-3),
        "l1": lambda s: invert_all("l1", (6, 60, 200), 20, s, 1e-3),
        "milp": lambda s: invert_all("milp", (2, 10, 24), 3, s), "lbp": lambda s: invert_all("lbp", (4, 40, 120), 20, s),
        "certify": certify, "injectivity": injectivity, "spark": spark_}

name = sys.argv[1]
MAKE[name](100)()  # warm-up on other inputs: imports, the first HiGHS model (no cached results)
run = MAKE[name](0)
import resource
def cpu():  # this process (all threads) and every child it waited for (worker processes)
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + r.ru_utime + r.ru_stime
t = cpu()
out = run()
print(json.dumps({"cpu": cpu() - t, "out": out}))
'''


def measure(tree: Path, name: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", CHILD, name], env=env, capture_output=True, text=True,
                          cwd=tree, timeout=300)
    if proc.returncode:
        raise SystemExit(f"{name} on {tree} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="a worktree of main")
    parser.add_argument("--only", default=",".join(WORKLOADS))
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = []
    for name in args.only.split(","):
        before, after = measure(args.base, name), measure(BRANCH, name)
        same = "yes" if before["out"] == after["out"] else f"NO: {before['out']} vs {after['out']}"
        rows.append(f"| {name} | {before['cpu']:.3f} | {after['cpu']:.3f} | {after['cpu'] / before['cpu']:.2f} | {same} |")
        print(rows[-1], flush=True)
    base_rev = subprocess.run(["git", "-C", str(args.base), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
    head_rev = subprocess.run(["git", "-C", str(BRANCH), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
    table = "\n".join(["| workload | main CPU s | branch CPU s | branch / main | same results |",
                       "|---|---|---|---|---|", *rows])
    print(table)
    if args.write:
        text = (f"# Consolidation (issue 15): engine cost before and after\n\n"
                f"`python benchmarks/bench_consolidation.py --base /tmp/base --write` — main at `{base_rev}`, "
                f"branch `consolidate` at `{head_rev}` (uncommitted changes included), one run each, CPU seconds "
                f"after a warm-up on other inputs (imports, first HiGHS model), BLAS on one thread, 2 shared cores.\n\n"
                f"{table}\n")
        (HERE / "results" / "consolidation.md").write_text(text)


if __name__ == "__main__":
    main()
