"""Certify and check against the published inversion, on the same signals (issue 16's targets).

Usage::

    python benchmarks/bench_certify_vs_inversion.py [--signals 20] [--seed 0] [--nets vae784-relu,vae784-leaky]

For each zoo decoder, the latents ``certify --samples N --seed S`` samples (``sample_latents``) and
their signals ``y = G(z)``; then, median CPU seconds per signal (user + system; never wall time):

* ``certify`` (every per-signal claim kind; the model-wide injectivity claims are left out with
  ``--claims``: they are paid once per model, not per signal) — in-process ``build_certificate``
  (median over the signals after the first, and the first, which pays the per-model preparation)
  and the CLI end to end (``certify --out DIR --workers 1 --json``, one process for all signals:
  the median of the signals' own ``cpu_seconds`` after the first, and the process CPU divided by the
  signal count, start-up included);
* ``check`` — in-process ``check_file`` (median after the first, and the first), the CLI batch form
  ``check DIR --json`` (the median of the certificates' ``cpu_seconds`` after the first, and its
  process CPU / signal count) and the CLI single form ``check CERT`` (median over
  ``--single`` certificates, one process each);
* the published method: the cvxopt layer-wise ℓ∞ LP of ``bench_linf`` (one ``cvxopt.solvers.lp``
  per ε, rebuilt from scratch, ε from 1e-9 growing by 1.2 and carried down), with biases, and with
  the published treatment of an invertible activation (LeakyReLU: invert it, every row an
  equality within δ); success is ``‖ẑ − z‖₂ / ‖z‖₂ ≤ 1e-3``.

Ratios are against the inversion's median. BLAS single-threaded. Results:
``benchmarks/results/certify_vs_inversion.md``.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from fractions import Fraction  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_linf  # noqa: E402

from theorychk import zoo  # noqa: E402
from theorychk.certify.certificate import ALL_KINDS, build_certificate, sample_latents  # noqa: E402
from theorychk.check.core import check_file  # noqa: E402
from theorychk.io import ModelSource  # noqa: E402
from theorychk.network import Network  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "certify_vs_inversion.md"


def cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cli(args: list[str]) -> tuple[float, str]:
    before = cpu_children()
    out = subprocess.run([sys.executable, "-m", "theorychk", *args], capture_output=True, text=True, check=False,
                         env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    if out.returncode not in (0, 1):
        raise SystemExit(f"theorychk {' '.join(args)} failed ({out.returncode}): {out.stderr.strip()[-500:]}")
    return cpu_children() - before, out.stdout


# --- the published layer-wise LP, with biases and an invertible activation ------------------------


def _layer_lp(w: np.ndarray, b: np.ndarray, x: np.ndarray, act: str, eps: float, nonneg: bool) -> np.ndarray | None:
    """One LP of Algorithm 1 (variables ``(z, δ)``, minimise δ), built from scratch: ReLU rows
    ``W z + b − δ ≤ x`` and ``−(W_S z + b_S) − δ ≤ −x_S`` on ``S = {x > ε}``; LeakyReLU(c): the
    pre-activation ``u = x`` (``x > 0``) or ``x / c`` is matched on every row within δ."""
    import cvxopt

    n, m = w.shape
    ones = np.ones((n, 1))
    if act == "relu":
        on = x > eps
        blocks, rhs = [np.hstack([w, -ones]), np.hstack([-w[on], -ones[on]])], [x - b, -(x[on] - b[on])]
    else:
        c = float(act.split(":")[1])
        u = np.where(x > 0, x, x / c)
        blocks, rhs = [np.hstack([w, -ones]), np.hstack([-w, -ones])], [u - b, -(u - b)]
    e = np.zeros((1, m + 1))
    e[0, -1] = 1.0
    blocks += [e, -e]
    rhs += [[eps], [0.0]]
    if nonneg:
        blocks.append(np.hstack([-np.eye(m), np.zeros((m, 1))]))
        rhs.append(np.zeros(m))
    sol = cvxopt.solvers.lp(cvxopt.matrix(e.ravel()), cvxopt.matrix(np.vstack(blocks)),
                            cvxopt.matrix(np.concatenate(rhs)))
    if sol["status"] == "primal infeasible" or sol["x"] is None:
        return None
    return np.array(sol["x"]).ravel()[:m]


def published_invert(net: Network, y: np.ndarray) -> np.ndarray:
    eps, current = bench_linf.EPS0, y
    specs = [str(layer.activation) for layer in net.layers]
    for i in range(net.depth - 1, -1, -1):
        layer = net.layers[i]
        w, b = np.asarray(layer.weight, dtype=np.float64), np.asarray(layer.bias, dtype=np.float64)
        for _ in range(400):
            sol = _layer_lp(w, b, current, specs[i], eps, nonneg=i > 0 and specs[i - 1] == "relu")
            if sol is not None:
                break
            eps *= bench_linf.ALPHA
        else:
            raise RuntimeError("the published LP found no feasible ε")
        current = sol
    return current


# --- one net --------------------------------------------------------------------------------------


def measure(name: str, n: int, seed: int, single: int, tmp: Path) -> dict:
    net = zoo.load(name)
    latents = sample_latents(net, n, seed)
    kinds = ",".join(ALL_KINDS)
    row: dict = {"net": name, "signals": n}

    inv, ok = [], 0
    for z in latents:
        zf = np.asarray(z, dtype=np.float64)
        y = net.forward(zf)
        t0 = time.process_time()
        z_hat = published_invert(net, y)
        inv.append(time.process_time() - t0)
        ok += bool(np.linalg.norm(z_hat - zf) <= 1e-3 * np.linalg.norm(zf))
    row["inversion"], row["inversion_ok"] = statistics.median(inv), ok

    lib = []
    source = ModelSource.of(f"zoo:{name}")
    statuses: dict[str, dict[str, int]] = {}
    for z in latents:
        t0 = time.process_time()
        cert = build_certificate(net, z, source=source, noise=Fraction(1, 1000), kinds=ALL_KINDS)
        lib.append(time.process_time() - t0)
        for c in cert["claims"]:
            key = c["kind"] + (f"({c['variant']})" if c.get("variant") else "")
            statuses.setdefault(key, {}).setdefault(c["status"], 0)
            statuses[key][c["status"]] += 1
    row["certify_lib_first"], row["certify_lib"] = lib[0], statistics.median(lib[1:] or lib)
    row["statuses"] = statuses

    out = tmp / name
    cpu, text = cli(["certify", f"zoo:{name}", "--samples", str(n), "--seed", str(seed), "--workers", "1", "--quiet",
                     "--out", str(out), "--claims", kinds, "--json"])
    row["certify_cli"] = cpu / n
    per = [s["cpu_seconds"] for s in json.loads(text)["signals"]]  # each signal's CPU in the CLI process
    row["certify_cli_signal"] = statistics.median(per[1:] or per)
    certs = sorted(out.glob("signal-*.json"))
    row["cert_kb"] = statistics.median(p.stat().st_size for p in certs) / 1000

    chk, verified = [], 0
    for p in certs:
        t0 = time.process_time()
        rep = check_file(p)
        chk.append(time.process_time() - t0)
        verified += bool(rep.verified)
    row["check_lib_first"], row["check_lib"], row["verified"] = chk[0], statistics.median(chk[1:] or chk), verified
    row["check_lib_mean"], row["certify_lib_mean"] = statistics.mean(chk), statistics.mean(lib)

    cpu, text = cli(["check", str(out), "--json"])
    row["check_cli_batch"] = cpu / len(certs)
    reports = json.loads(text)
    per = [c["cpu_seconds"] for c in reports]
    row["check_cli_signal"] = statistics.median(per[1:] or per)
    row["check_cli_batch_verified"] = sum(r["verdict"] == "VERIFIED" for r in reports)
    row["check_cli_single"] = statistics.median(cli(["check", str(p)])[0] for p in certs[:single])
    return row


def report(rows: list[dict], args: argparse.Namespace, wall: float, load: tuple[float, float]) -> str:
    lines = [
        "# certify and check vs the published inversion, per signal (`benchmarks/bench_certify_vs_inversion.py`)",
        "",
        f"`python benchmarks/bench_certify_vs_inversion.py --signals {args.signals} --seed {args.seed}`; "
        f"one run, the same signals for every column (the latents `certify --samples {args.signals} --seed "
        f"{args.seed}` samples); CPU seconds (user + system), BLAS single-threaded; load average "
        f"{load[0]:.1f} → {load[1]:.1f} on 2 shared cores; run took {wall:.0f} s wall. Claims: every per-signal "
        "kind (`--claims " + ",".join(ALL_KINDS) + "`; the model-wide injectivity claims are left out). "
        "Inversion: cvxopt layer-wise ℓ∞ LP as published (module docstring). Targets (issue 16): "
        "certify ≤ 2×, check ≤ 1× the inversion.",
        "",
        "| net | measure | CPU s / signal | × inversion |",
        "|---|---|---:|---:|",
    ]
    for r in rows:
        inv = r["inversion"]
        for label, key in (("published inversion (cvxopt), in-process, median", "inversion"),
                           ("certify, library, median after the first signal", "certify_lib"),
                           ("certify, library, first signal (per-model preparation)", "certify_lib_first"),
                           ("certify, library, mean over all signals", "certify_lib_mean"),
                           ("certify, CLI, median per signal after the first (its `cpu_seconds` in `--json`)",
                            "certify_cli_signal"),
                           ("certify, CLI `--out DIR` (process CPU / signals, start-up included)", "certify_cli"),
                           ("check, library `check_file`, median after the first", "check_lib"),
                           ("check, library `check_file`, first", "check_lib_first"),
                           ("check, library `check_file`, mean over all", "check_lib_mean"),
                           ("check, CLI `check DIR`, median per certificate after the first (`cpu_seconds`)",
                            "check_cli_signal"),
                           ("check, CLI `check DIR` (process CPU / certificates)", "check_cli_batch"),
                           ("check, CLI `check CERT`, one process each, median", "check_cli_single")):
            lines.append(f"| {r['net']} | {label} | {r[key]:.3f} | {r[key] / inv:.2f} |")
    lines += ["", "| net | inversion succeeded | certificates VERIFIED (library / CLI batch) | certificate kB "
                  "(median) | claim statuses |", "|---|---|---|---|---|"]
    for r in rows:
        st = "; ".join(f"{k}: " + ", ".join(f"{s[0]}{v}" for s, v in sorted(d.items())) for k, d in r["statuses"].items())
        lines.append(f"| {r['net']} | {r['inversion_ok']}/{r['signals']} | {r['verified']} / "
                     f"{r['check_cli_batch_verified']} of {r['signals']} | {r['cert_kb']:.0f} | {st} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--signals", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--single", type=int, default=5, help="certificates checked one CLI process each")
    ap.add_argument("--nets", default="vae784-relu,vae784-leaky")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    if bench_linf.cvxopt is None:
        raise SystemExit("cvxopt is needed for the published inversion")
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(name, args.signals, args.seed, args.single, Path(tmp)) for name in args.nets.split(",")]
    text = report(rows, args, time.perf_counter() - t0, (load0, os.getloadavg()[0]))
    print(text)
    if not args.no_write:
        RESULTS.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
