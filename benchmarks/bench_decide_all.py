"""Decide every sampled signal, CLI-driven, on the five nets of issue 16 ("Done when", point 1).

Usage::

    python benchmarks/bench_decide_all.py [--signals 100] [--seeds 0,1] [--claims complete]
                                          [--complete-box R] [--workers 1] [--nets NAME,...] [--out PATH.md]

For each net and each seed of ``--seeds`` (default 0), two subprocesses, as a user would run them:

1. ``python -m theorychk certify NET --samples N --seed S --claims CLAIMS --out DIR --workers W
   --time-limit T --json --quiet`` -- one verdict per signal (unique / not unique / undecided) and
   the claim that decided it;
2. ``python -m theorychk check DIR --json`` -- the trusted checker on every certificate.

The claims default to ``complete`` alone: the complete per-signal procedure (pinning by the
layer-wise polytopes, then a branching tree over the open units closed by exact Farkas / point
leaves; REFUTED with an exact second preimage), which decides every signal unless its time limit
passes; the other claims answer other questions (docs/certificates.md).

Nets (the random ones built with ``numpy.random.default_rng(SEED)`` for SEED in ``NETS``: weights
``N(0, 1/n_in)``, biases ``N(0, 0.01^2)``, float32, written as ``.npz`` into a temporary folder
and read back by the CLI):

* ``vae784-relu`` -- the zoo's 20 -> 60 -> 784 ReLU decoder (``zoo:vae784-relu``);
* ``vae784-leaky`` -- the zoo's 20 -> 200 -> 500 -> 784 LeakyReLU(0.1) decoder;
* ``gauss-20-60-784-relu`` -- random, ReLU on every layer (as the zoo's);
* ``gauss-20-200-500-784-leaky`` -- random, LeakyReLU(0.1) on every layer (as the zoo's);
* ``gauss-20-250-600-relu`` -- random k -> 250 -> 600 ReLU with k = 20.

Per net: the verdict counts, how many certificates the checker VERIFIED, CPU seconds per signal
of ``certify`` and of ``check`` (``resource.getrusage(RUSAGE_CHILDREN)`` around each subprocess,
user + system, its worker processes included; divided by the signal count, so the process
start-up is spread over the signals), the largest per-signal wall time
``certify`` reports, and the wall time of both subprocesses. BLAS is pinned to one thread.
Results: ``benchmarks/results/decide_all.md`` and ``.json`` (``--out`` elsewhere for quick runs).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "decide_all.md"
#: name -> (zoo name, or (widths, activation, seed) of a random Gaussian net)
NETS: dict[str, Any] = {
    "vae784-relu": "vae784-relu",
    "vae784-leaky": "vae784-leaky",
    "gauss-20-60-784-relu": ([20, 60, 784], "relu", 1),
    "gauss-20-200-500-784-leaky": ([20, 200, 500, 784], "leaky_relu:0.1", 2),
    "gauss-20-250-600-relu": ([20, 250, 600], "relu", 3),
}


def gaussian_net(widths: list[int], activation: str, seed: int) -> Any:
    """Weights ``N(0, 1/n_in)``, biases ``N(0, 0.01^2)``, float32, ``activation`` on every layer."""
    from theorychk.network import Layer, Network

    rng = np.random.default_rng(seed)
    return Network(tuple(
        Layer((rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)).astype(np.float32),
              (0.01 * rng.standard_normal(n_out)).astype(np.float32), activation)
        for n_in, n_out in zip(widths, widths[1:])))


def model_arg(name: str, folder: Path) -> str:
    spec = NETS[name]
    if isinstance(spec, str):
        return f"zoo:{spec}"
    from theorychk.io import save_network

    return str(save_network(gaussian_net(*spec), folder / f"{name}.npz"))


def cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd: list[str]) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run ``cmd``; its CPU seconds (it and its waited-for workers) and its wall seconds."""
    env = os.environ | {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cpu0, wall0 = cpu_children(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return proc, cpu_children() - cpu0, time.perf_counter() - wall0


def decide_net(name: str, folder: Path, *, signals: int, seed: int, claims: str, workers: int,
               time_limit: str, extra: Sequence[str] = ()) -> dict[str, Any]:
    """Certify ``signals`` sampled signals of net ``name`` and check them, both through the CLI."""
    model = model_arg(name, folder)
    out = folder / f"{name}-seed{seed}-certs"
    py = [sys.executable, "-m", "theorychk"]
    cert, cert_cpu, cert_wall = run(py + ["certify", model, "--samples", str(signals), "--seed", str(seed),
                                          "--claims", claims, "--out", str(out), "--workers", str(workers),
                                          "--time-limit", time_limit, "--json", "--quiet", *extra])
    if cert.returncode != 0:
        raise RuntimeError(f"certify {name} exited {cert.returncode}: {cert.stderr.strip()[-2000:]}")
    summary = json.loads(cert.stdout)
    chk, chk_cpu, chk_wall = run(py + ["check", str(out), "--json"])
    if chk.returncode not in (0, 1):
        raise RuntimeError(f"check {name} exited {chk.returncode}: {chk.stderr.strip()[-2000:]}")
    checked = json.loads(chk.stdout)
    rows = summary["signals"]
    undecided = [{"index": r["index"], "reason": r["verdict"]["reason"]} for r in rows
                 if r["verdict"]["verdict"] == "undecided"]
    by = Counter(r["verdict"]["by"] for r in rows if r["verdict"]["by"])
    scopes = Counter(r["verdict"]["scope"] for r in rows if r["verdict"]["scope"])
    return {
        "net": name, "model": model if model.startswith("zoo:") else Path(model).name,
        "widths": summary["widths"], "signals": len(rows), "seed": seed, "claims": claims,
        "verdicts": summary["verdicts"], "decided_by": dict(by), "scopes": dict(scopes),
        "undecided": undecided,
        "verified": sum(c["verdict"] == "VERIFIED" for c in checked),
        "checked": len(checked),
        "rejected": [{"certificate": Path(c["certificate"]).name,
                      "verdict": c["verdict"],
                      "reason": next((f"{x['outcome']} {x['kind']}: {x['reason']}" for x in c["claims"]
                                      if x["outcome"] != "VERIFIED"), "")}
                     for c in checked if c["verdict"] != "VERIFIED"],
        "checked_verdicts": dict(Counter(c["signal_verdict"]["verdict"] for c in checked)),
        "certify_cpu_per_signal": cert_cpu / len(rows), "check_cpu_per_signal": chk_cpu / len(rows),
        "max_signal_wall": max(r["elapsed_seconds"] or 0.0 for r in rows),
        "certify_wall": cert_wall, "check_wall": chk_wall, "workers": summary["runtime"]["workers"],
    }


def table(results: list[dict[str, Any]], command: str) -> str:
    lines = [
        "# Decide every signal: five nets, CLI-driven (issue 16, \"Done when\" point 1)", "",
        f"`{command}` (bench_decide_all.py's docstring: nets, weights, what is measured). CPU seconds "
        "are user + system of the `certify` / `check` subprocess and its workers "
        "(`RUSAGE_CHILDREN`), divided by the signal count (process start-up included); BLAS one "
        "thread; 2-core machine shared with other jobs, so wall times are loose.", "",
        "| net | widths | seed | signals | unique | not unique | undecided | VERIFIED | certify CPU s/signal | "
        "check CPU s/signal | max signal wall s | certify + check wall s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        v = r["verdicts"]
        lines.append(f"| {r['net']} | {'-'.join(map(str, r['widths']))} | {r['seed']} | {r['signals']} | {v['unique']} | "
                     f"{v['not unique']} | {v['undecided']} | {r['verified']}/{r['checked']} | "
                     f"{r['certify_cpu_per_signal']:.3f} | {r['check_cpu_per_signal']:.3f} | "
                     f"{r['max_signal_wall']:.2f} | {r['certify_wall']:.0f} + {r['check_wall']:.0f} |")
    lines.append("")
    lines.append("Decided by / scope: " + "; ".join(
        f"{r['net']} seed {r['seed']}: {', '.join(f'{k}: {n}' for k, n in r['decided_by'].items())} "
        f"({', '.join(f'{k}: {n}' for k, n in r['scopes'].items())})" for r in results))
    for r in results:
        for u in r["undecided"]:
            lines.append(f"* {r['net']} seed {r['seed']} signal {u['index']} undecided: {u['reason']}")
        for bad in r["rejected"]:
            lines.append(f"* {r['net']} seed {r['seed']} {bad['certificate']} {bad['verdict']} by `check`: {bad['reason']}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--signals", type=int, default=100, help="sampled signals per net (default 100)")
    ap.add_argument("--seeds", default="0", help="comma-separated seeds of the sampled latents (certify --seed), "
                                                 "one run per net and seed (default 0)")
    ap.add_argument("--claims", default="complete", help="certify --claims (default: complete)")
    ap.add_argument("--workers", type=int, default=1, help="certify --workers (default 1)")
    ap.add_argument("--time-limit", default="600", help="certify --time-limit per signal (default 600)")
    ap.add_argument("--complete-box", default=None, metavar="R",
                    help="certify --complete-box R: decide uniqueness in ||z||_inf <= R (default: R^k)")
    ap.add_argument("--nets", default=",".join(NETS), help="comma-separated names of NETS")
    ap.add_argument("--out", type=Path, default=RESULTS, help="results .md (a .json beside it)")
    args = ap.parse_args(argv)
    names = args.nets.split(",")
    bad = sorted(set(names) - set(NETS))
    if bad:
        ap.error(f"--nets: unknown net(s) {', '.join(bad)}; valid: {', '.join(NETS)}")
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        ap.error(f"--seeds: comma-separated integers, like 0,1; got {args.seeds!r}")
    command = "python benchmarks/bench_decide_all.py " + " ".join(argv if argv is not None else sys.argv[1:])
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            for name in names:
                results.append(decide_net(name, Path(tmp), signals=args.signals, seed=seed, claims=args.claims,
                                          workers=args.workers, time_limit=args.time_limit,
                                          extra=[] if args.complete_box is None else
                                          ["--complete-box", args.complete_box]))
                print(json.dumps({k: results[-1][k] for k in ("net", "seed", "verdicts", "verified", "checked",
                                                              "certify_cpu_per_signal", "check_cpu_per_signal")}),
                      flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table(results, command.strip()))
    args.out.with_suffix(".json").write_text(json.dumps({"command": command.strip(), "nets": results}, indent=1))
    return results


if __name__ == "__main__":
    main()
