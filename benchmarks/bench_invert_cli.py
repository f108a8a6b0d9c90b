"""The user's path (issue 18): the ``theorychk`` command end to end next to the library call and
the published method, in one run.

Usage::

    python benchmarks/bench_invert_cli.py [--signals 200] [--pursuit-signals 200] [--quick]

* ``linf``: for k = 20, 60, 100 a ``k → 250 → 600`` ReLU net (as ``bench_linf.py``) saved as
  ONNX and read back (float32 weights), 200 planted signals ``y = G(z)`` in one ``Y.npy``.
  Timed: ``theorychk invert NET.onnx --signal Y.npy --method linf --out Z.npy --json`` in a
  subprocess (process start, imports, model read included; default ``--workers``, and
  ``--workers 1``); the library's ``invert_batch`` in this process; the published method
  (``bench_linf.baseline_invert``: cvxopt, one LP per ε rebuilt from scratch) on the same
  signals; and the floor — one least-squares solve per layer on the active rows (Gram matrix +
  Cholesky, what the fast path must do at least). Success: ‖ẑ − z‖₂/‖z‖₂ ≤ 1e-3.
* ``latent`` and ``gd`` on the 20 → 128 → 392 → 784 net of ``bench_latent_pursuit.py`` saved
  as ONNX: the CLI end to end (default workers and ``--workers 1``) and the library's batched
  call against paper 004's methods as published (``published_pursuit.py``: PyTorch, batched),
  on the same signals.
* start-up: median wall time of fresh processes for ``theorychk --help`` and a small
  ``invariants --spark`` next to ``python -c pass`` and ``python -c "import numpy"``.
* ``invariants --spark`` on a 12 × 24 integer matrix of spark 13: the CLI end to end against
  the toqito-style float enumeration (``bench_spark.baseline_spark``), extrapolated from its
  measured rate beyond its budget.

This process runs BLAS single-threaded (threadpoolctl) for the baseline and the library; the
CLI subprocesses get an environment without thread variables, so what they run is the
command's own choice. The load average is recorded: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.linalg as sla
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_latent_pursuit as blp  # noqa: E402
import bench_linf  # noqa: E402  (sets the BLAS variables for this process)
import bench_spark  # noqa: E402

from theorychk.io import load_network  # noqa: E402
from theorychk.io.onnx import write  # noqa: E402
from theorychk.runtime import BLAS_THREAD_VARIABLES  # noqa: E402
from theorychk.solvers import invert_batch  # noqa: E402
from theorychk.solvers.gradient import gradient_descent  # noqa: E402
from theorychk.solvers.pursuit import latent_pursuit  # noqa: E402

RESULTS = HERE / "results" / "invert_cli.md"
WT = HERE.parent


def cli(args: list[str]) -> tuple[float, dict]:
    """Run ``theorychk ARGS`` as a user would; wall seconds (process start included) and its JSON."""
    env = user_env()
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "theorychk", *args], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"theorychk {' '.join(args)} failed: {proc.stderr[-2000:]}")
    return wall, json.loads(proc.stdout)


def user_env() -> dict[str, str]:
    """The environment of a user's shell: no BLAS thread variables, and bytecode caching on (an
    installed package has its ``.pyc`` files; this machine sets PYTHONDONTWRITEBYTECODE, which
    recompiles every theorychk module in every process)."""
    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(WT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def startup_rows(tmp: Path, runs: int) -> list[dict]:
    """Median wall time of ``runs`` fresh processes for each command (one warm-up run first)."""
    import statistics

    m = tmp / "M.npy"
    np.save(m, np.random.default_rng(0).integers(-3, 4, (10, 20)))
    cases = [
        ("`python -c pass`", [sys.executable, "-c", "pass"]),
        ('`python -c "import numpy"`', [sys.executable, "-c", "import numpy"]),
        ("`theorychk --help`", [sys.executable, "-m", "theorychk", "--help"]),
        ("`theorychk invariants M.npy --spark` (10 x 20 integers)", [sys.executable, "-m", "theorychk", "invariants",
                                                                     str(m), "--spark"]),
        ("same, `--json`", [sys.executable, "-m", "theorychk", "invariants", str(m), "--spark", "--json"]),
    ]
    rows = []
    for label, argv in cases:
        subprocess.run(argv, capture_output=True, env=user_env(), cwd=tmp, check=True)  # warm: .pyc, disk cache
        walls = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run(argv, capture_output=True, env=user_env(), cwd=tmp, check=True)
            walls.append(time.perf_counter() - t0)
        rows.append({"label": label, "median": statistics.median(walls), "min": min(walls), "max": max(walls),
                     "runs": runs})
        print(f"startup {label}: {rows[-1]}", file=sys.stderr, flush=True)
    return rows


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def success(z_hat: np.ndarray, z: np.ndarray) -> int:
    ok = np.all(np.isfinite(z_hat), axis=1)
    err = np.linalg.norm(np.where(ok[:, None], z_hat, 0.0) - z, axis=1) / np.linalg.norm(z, axis=1)
    return int(np.sum(ok & (err <= bench_linf.SUCCESS)))


def floor_solve(weights: list[np.ndarray], y: np.ndarray) -> np.ndarray:
    """One least-squares solve per layer on the active rows (the physical limit of the fast path)."""
    x = y
    for w in reversed(weights):
        a = w[x > 1e-9 * max(1.0, float(np.max(x)))]
        c = sla.cho_factor(a.T @ a, check_finite=False)
        x = sla.cho_solve(c, a.T @ x[x > 1e-9 * max(1.0, float(np.max(x)))], check_finite=False)
    return x


def linf_rows(tmp: Path, n: int, seed: int) -> list[dict]:
    rows = []
    for k in (20, 60, 100):
        rng = np.random.default_rng([seed, k])
        net0, _, _, _ = bench_linf.instance(k, rng)
        path = tmp / f"net{k}.onnx"
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the float32 rounding warning: the file's net is used below
            write(net0, path)
        net = load_network(path)
        ws = [layer.weight.astype(np.float64) for layer in net.layers]
        z = rng.normal(size=(n, k))
        y = np.array([net.forward(v) for v in z])
        np.save(tmp / "Y.npy", y)
        r: dict = {"k": k, "n": n}
        for label, extra in (("cli", []), ("cli1", ["--workers", "1"])):
            wall, rep = cli(["invert", str(path), "--signal", str(tmp / "Y.npy"), "--method", "linf",
                             "--out", str(tmp / "Z.npy"), "--json", *extra])
            r[label] = wall / n
            r[label + "_ok"] = success(np.load(tmp / "Z.npy"), z)
            r[label + "_workers"] = rep["runtime"]["workers"]
            r[label + "_blas"] = rep["runtime"]["blas_threads"]
        res, t = timed(lambda: invert_batch(net, y, method="linf"))
        r["lib"], r["lib_ok"] = t / n, success(np.array([q.latent for q in res]), z)
        zf, t = timed(lambda: np.array([floor_solve(ws, v) for v in y]))
        r["floor"], r["floor_ok"] = t / n, success(zf, z)
        zb, t = timed(lambda: np.array([bench_linf.baseline_invert(ws, v)[0] for v in y]))
        r["base"], r["base_ok"] = t / n, success(zb, z)
        rows.append(r)
        print(f"linf k={k}: {r}", file=sys.stderr, flush=True)
    return rows


def pursuit_rows(tmp: Path, n: int, seed: int, torch_threads: int) -> list[dict]:
    """``latent`` and ``gd``: paper 004's methods in PyTorch (``published_pursuit``), the CLI and the library."""
    import torch

    import published_pursuit as pub

    torch.set_num_threads(torch_threads)
    net0 = blp.random_generator(seed)
    path = tmp / "lp.onnx"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write(net0, path)
    net = load_network(path)
    rng = np.random.default_rng(seed + 1)
    z = rng.standard_normal((n, blp.WIDTHS[0]))
    y = np.array([net.forward(v) for v in z])
    np.save(tmp / "Y.npy", y)
    tn = pub.TorchNet(net)
    yt = torch.tensor(y)
    rows = []
    for method in ("latent", "gd"):
        extra = ["--option", "momentum=0.9"] if method == "gd" else []  # the paper's Sec. 6.2 setting
        r: dict = {"method": method, "n": n, "options": " ".join(extra)}
        for label, workers in (("cli", []), ("cli1", ["--workers", "1"])):
            wall, rep = cli(["invert", str(path), "--signal", str(tmp / "Y.npy"), "--method", method, "--seed", "2",
                             "--out", str(tmp / "Z.npy"), "--json", *extra, *workers])
            r[label], r[label + "_ok"] = wall / n, success(np.load(tmp / "Z.npy"), z)
            r[label + "_workers"], r[label + "_counts"] = rep["runtime"]["workers"], rep["status_counts"]
        if method == "latent":
            run, t = timed(lambda: latent_pursuit(net, y))
        else:
            run, t = timed(lambda: gradient_descent(net, y, rng=np.random.default_rng(2), momentum=0.9))
        r["lib"], r["lib_ok"] = t / n, success(run.latent, z)
        if method == "latent":
            (zp, its), t = timed(lambda: pub.latent_pursuit(tn, yt))
        else:
            (zp, its), t = timed(lambda: pub.gradient_descent(tn, yt, seed=2))
            its = {"gd": its}
        r["base"], r["base_ok"] = t / n, success(zp.numpy(), z)
        r["base_iters"] = {k: (int(v.median()), int(v.max())) for k, v in its.items()}
        rows.append(r)
        print(f"{method}: {r}", file=sys.stderr, flush=True)
    return rows


def spark_row(tmp: Path, seed: int, budget: float) -> dict:
    a, _ = bench_spark.full_spark_instance(12, np.random.default_rng(seed))
    np.save(tmp / "M.npy", a)
    wall, rep = cli(["invariants", str(tmp / "M.npy"), "--spark", "--json"])
    value = rep["results"][0].get("value")
    got, t_base, calls = bench_spark.baseline_spark(a, budget)
    extrapolated = got is None
    if extrapolated:
        need = sum(math.comb(24, k) for k in range(1, 13)) + 1  # every subset below spark 13, then one
        t_base = t_base / calls * need
    return {"value": value, "cli": wall, "base": t_base, "extrapolated": extrapolated, "calls": calls,
            "base_answer": got}


def torch_version() -> str:
    import torch

    return torch.__version__


def report(lin, pur, spk, startup, args, load0, load1, wall) -> str:
    import highspy

    lines = [
        "# The user's path: `theorychk invert` / `invariants` end to end vs the library and the published methods",
        "",
        f"`python benchmarks/bench_invert_cli.py --signals {args.signals} --pursuit-signals {args.pursuit_signals}"
        f" --torch-threads {args.torch_threads}`"
        f" — one run, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: {platform.machine()}, "
        f"{os.cpu_count()} cores shared with other jobs; load average {load0:.2f} at start, {load1:.2f} at end "
        f"(`uptime`). Python {platform.python_version()}, numpy {np.__version__}, HiGHS {highspy.Highs().version()}"
        f", {bench_linf.BASELINE}. Wall time of this run: {wall:.0f} s.",
        "",
        "CLI = `theorychk invert NET.onnx --signal Y.npy --method linf --out Z.npy --json` in a subprocess, wall "
        "time of the whole process (start, imports, ONNX read, inversions, JSON) divided by the number of "
        "signals; default `--workers` (the cores) and `--workers 1`. Library = `invert_batch(net, Y, "
        "method='linf')` in one process. Published = `bench_linf.baseline_invert` (cvxopt per ε, the LP "
        "rebuilt every time). Floor = one least-squares solve per layer on the active rows. Success = "
        "‖ẑ − z‖₂/‖z‖₂ ≤ 1e-3.",
        "",
        "## `linf`, k → 250 → 600 ReLU nets saved as ONNX (ms per inversion)",
        "",
        "| k | signals | published | CLI (workers) | CLI --workers 1 | library | floor | **published / CLI** | "
        "published / CLI w1 | CLI / floor | success published / CLI / library |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in lin:
        lines.append(
            f"| {r['k']} | {r['n']} | {1e3 * r['base']:.1f} | {1e3 * r['cli']:.2f} ({r['cli_workers']}) | "
            f"{1e3 * r['cli1']:.2f} | {1e3 * r['lib']:.2f} | {1e3 * r['floor']:.2f} | "
            f"**{r['base'] / r['cli']:.1f}×** | {r['base'] / r['cli1']:.1f}× | {r['cli'] / r['floor']:.1f}× | "
            f"{r['base_ok']} / {r['cli_ok']} / {r['lib_ok']} |"
        )
    lines += [
        "",
        f"BLAS threads in the CLI runs (threadpoolctl, from its JSON): "
        f"{sorted({r['cli_blas'] for r in lin} | {r['cli1_blas'] for r in lin})}.",
        "",
        f"## `latent` and `gd`, 20 → 128 → 392 → 784 net (ReLU, ReLU, PLU) saved as ONNX, {pur[0]['n'] if pur else 0} "
        "signals (ms per inversion)",
        "",
        f"Published = `benchmarks/published_pursuit.py`: paper 004's Algorithm 5 (Alg. 3 FISTA as printed, Alg. 4 "
        f"linearised ADMM, Eq. 18 for z, debiasing by gradient descent) and its Sec. 6.2 gradient-descent baseline "
        f"(momentum 0.9, 10,000 iterations), PyTorch {torch_version()} on the CPU, float64, the {pur[0]['n'] if pur else 0} signals in one "
        f"batch, {args.torch_threads} thread(s). CLI = `theorychk invert lp.onnx --signal Y.npy --method METHOD "
        "--seed 2 --out Z.npy --json` (`gd`: `--option momentum=0.9`, the paper's setting; `latent`: its defaults, "
        "no debiasing). Library = `latent_pursuit(net, Y)` / `gradient_descent(net, Y, momentum=0.9)` in this "
        "process, BLAS single-threaded.",
        "",
        "| method | published | CLI (workers) | CLI --workers 1 | library | **published / CLI** | published / CLI w1 | "
        "published / library | success published / CLI / CLI w1 / library | CLI statuses | published iterations "
        "median / max |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in pur:
        lines.append(
            f"| {r['method']} | {1e3 * r['base']:.1f} | {1e3 * r['cli']:.2f} ({r['cli_workers']}) | "
            f"{1e3 * r['cli1']:.2f} | {1e3 * r['lib']:.2f} | **{r['base'] / r['cli']:.1f}×** | "
            f"{r['base'] / r['cli1']:.1f}× | {r['base'] / r['lib']:.1f}× | "
            f"{r['base_ok']} / {r['cli_ok']} / {r['cli1_ok']} / {r['lib_ok']} | {r['cli_counts']} | "
            f"{r['base_iters']} |"
        )
    lines += [
        "",
        "## Start-up: median wall time of fresh processes (s)",
        "",
        "| command | median | min | max | runs |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in startup:
        lines.append(f"| {r['label']} | {r['median']:.3f} | {r['min']:.3f} | {r['max']:.3f} | {r['runs']} |")
    lines += [
        "",
        "## `invariants --spark`, 12 × 24 integer matrix of spark 13",
        "",
        "| spark | CLI end to end (s) | toqito-style float enumeration (s) | **ratio** |",
        "|---:|---:|---:|---:|",
        f"| {spk['value']} | {spk['cli']:.2f} | {'~' if spk['extrapolated'] else ''}{spk['base']:.1f}"
        f"{' (extrapolated from ' + str(spk['calls']) + ' subsets in the budget)' if spk['extrapolated'] else ''} | "
        f"**{spk['base'] / spk['cli']:.0f}×** |",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--signals", type=int, default=200)
    ap.add_argument("--pursuit-signals", type=int, default=200)
    ap.add_argument("--torch-threads", type=int, default=1,
                    help="threads of the PyTorch baseline (1: faster than 2 on this shared 2-core machine)")
    ap.add_argument("--startup-runs", type=int, default=15)
    ap.add_argument("--spark-budget", type=float, default=20.0, help="CPU seconds for the float enumeration")
    ap.add_argument("--seed", type=int, default=2019)
    ap.add_argument("--quick", action="store_true", help="20 signals, 8 for latent/gd, 3 s spark budget")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    if args.quick:
        args.signals, args.pursuit_signals, args.spark_budget, args.startup_runs = 20, 8, 3.0, 3
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    with threadpool_limits(limits=1), tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        lin = linf_rows(tmp, args.signals, args.seed)
        startup = startup_rows(tmp, args.startup_runs)
        pur = pursuit_rows(tmp, args.pursuit_signals, 0, args.torch_threads) if args.pursuit_signals else []
        spk = spark_row(tmp, args.seed, args.spark_budget)
    text = report(lin, pur, spk, startup, args, load0, os.getloadavg()[0], time.perf_counter() - t0)
    print(text)
    if not args.quick:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
