"""Interleaved before/after of ``theorychk invert ... --method gd`` on the CLI and the library (issue 18).

One benchmark run's CPU times move by ±10% on the shared machine, more than a start-up change;
this alternates fresh processes of two worktrees and reports the medians, per signal::

    python benchmarks/ab_invert_gd.py --reps 5 /work/wt/BEFORE /work/wt/AFTER

It writes ``lp.onnx`` and ``Y.npy`` (the 20 -> 128 -> 392 -> 784 net and 200 signals of
``bench_invert_cli.py``'s pursuit section) into a temporary directory, then per repetition and
tree: the CLI with default workers, with ``--workers 1`` (CPU of the whole process), and
``gradient_descent`` in a fresh process after a warm-up call (BLAS single-threaded).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

_MAKE = """
import sys, warnings, numpy as np
sys.path.insert(0, {bench!r})
import bench_latent_pursuit as blp
from theorychk.io import load_network
from theorychk.io.onnx import write
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    write(blp.random_generator(0), "lp.onnx")
net = load_network("lp.onnx")
z = np.random.default_rng(1).standard_normal((200, blp.WIDTHS[0]))
np.save("Y.npy", np.array([net.forward(v) for v in z]))
"""

_LIBRARY = """
import time, numpy as np
from threadpoolctl import threadpool_limits
from theorychk.io import load_network
from theorychk.solvers.gradient import gradient_descent
net = load_network("lp.onnx"); y = np.load("Y.npy")
with threadpool_limits(limits=1):
    gradient_descent(net, y[:8], rng=np.random.default_rng(2), momentum=0.9)
    t = time.process_time(); gradient_descent(net, y, rng=np.random.default_rng(2), momentum=0.9)
    print(time.process_time() - t)
"""


def _cpu(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=True)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime, proc.stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trees", nargs="+", help="worktrees to compare (each put first on PYTHONPATH)")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args(argv)
    base = {k: v for k, v in os.environ.items() if "NUM_THREADS" not in k and k != "PYTHONDONTWRITEBYTECODE"}
    cli = [sys.executable, "-m", "theorychk", "invert", "lp.onnx", "--signal", "Y.npy", "--method", "gd", "--seed",
           "2", "--option", "momentum=0.9", "--out", "Z.npy", "--json"]
    res: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        _cpu([sys.executable, "-c", _MAKE.format(bench=str(HERE))], dict(base, PYTHONPATH=args.trees[0]), tmp)
        n = 200
        for _ in range(args.reps):
            for tree in args.trees:
                env = dict(base, PYTHONPATH=tree)
                for label, extra in (("CLI default", []), ("CLI --workers 1", ["--workers", "1"])):
                    res.setdefault((tree, label), []).append(1e3 * _cpu(cli + extra, env, tmp)[0] / n)
                out = _cpu([sys.executable, "-c", _LIBRARY], env, tmp)[1]
                res.setdefault((tree, "library"), []).append(1e3 * float(out) / n)
    print(f"ms CPU per signal, {args.reps} alternating processes each, load {os.getloadavg()[0]:.2f} at the end")
    for (tree, label), v in res.items():
        print(f"{tree:30s} {label:16s} median {statistics.median(v):6.2f}  {[round(x, 2) for x in v]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
