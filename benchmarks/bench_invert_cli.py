"""The user's path (issue 18): the ``theorychk`` command end to end next to the library call and
the published method, in one run, in CPU seconds (and wall).

Usage::

    python benchmarks/bench_invert_cli.py [--signals 200] [--pursuit-signals 200]
        [--baseline-signals N] [--only linf,pursuit,startup,spark] [--quick]

* ``linf``: for k = 20, 60, 100 a ``k → 250 → 600`` ReLU net (as ``bench_linf.py``) saved as
  ONNX and read back (float32 weights), 200 planted signals ``y = G(z)`` in one ``Y.npy``.
  Timed: ``theorychk invert NET.onnx --signal Y.npy --method linf --out Z.npy --json`` in a
  subprocess (process start, imports, model read included; default ``--workers``, and
  ``--workers 1``); the library's ``invert_batch`` in this process; the published method
  (``bench_linf.baseline_invert``: cvxopt, one LP per ε rebuilt from scratch) on the same
  signals (``--baseline-signals N``: the first N only); and the floor -- one least-squares
  solve per layer on the active rows (Gram matrix + Cholesky, what the fast path must do at
  least). Success: ‖ẑ − z‖₂/‖z‖₂ ≤ 1e-3.
* ``pursuit``: ``latent`` and ``gd`` on the 20 → 128 → 392 → 784 net of
  ``bench_latent_pursuit.py`` saved as ONNX: the CLI end to end (default workers and
  ``--workers 1``) and the library's batched call against paper 004's methods as published
  (``published_pursuit.py``: PyTorch, batched), on the same signals.
* ``startup``: median CPU and wall time of fresh processes for ``theorychk --help`` and a small
  ``invariants --spark`` next to ``python -c pass`` and ``python -c "import numpy"``.
* ``spark``: ``invariants --spark`` on a 12 × 24 integer matrix of spark 13: the CLI end to end
  against the toqito-style float enumeration (``bench_spark.baseline_spark``), extrapolated from
  its measured rate beyond its budget.

CPU time: ``time.process_time()`` in this process, ``resource.getrusage(RUSAGE_CHILDREN)`` for a
CLI process (its worker processes included). This process runs BLAS single-threaded
(threadpoolctl) for the baseline and the library; the CLI subprocesses get an environment
without thread variables, so what they run is the command's own choice. The load average is
recorded: the machine is shared, so wall times move with it; CPU times much less.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
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

PARTS = ("linf", "pursuit", "startup", "spark")
RESULTS = HERE / "results" / "invert_cli.md"
WT = HERE.parent


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_process(argv: list[str], **kwargs) -> tuple[subprocess.CompletedProcess, float, float]:
    """``argv`` in a fresh process: the result, wall seconds and CPU seconds (its children included)."""
    c0, t0 = children_cpu(), time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    return proc, time.perf_counter() - t0, children_cpu() - c0


def cli(args: list[str]) -> tuple[float, float, dict]:
    """Run ``theorychk ARGS`` as a user would: wall and CPU seconds (process start included), its JSON."""
    proc, wall, cpu = run_process([sys.executable, "-m", "theorychk", *args], env=user_env())
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"theorychk {' '.join(args)} failed: {proc.stderr[-2000:]}")
    return wall, cpu, json.loads(proc.stdout)


def user_env() -> dict[str, str]:
    """The environment of a user's shell: no BLAS thread variables, and bytecode caching on (an
    installed package has its ``.pyc`` files; this machine sets PYTHONDONTWRITEBYTECODE, which
    recompiles every theorychk module in every process)."""
    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(WT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def startup_rows(tmp: Path, runs: int) -> list[dict]:
    """Median CPU and wall time of ``runs`` fresh processes for each command (one warm-up run first)."""
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
        run_process(argv, env=user_env(), cwd=tmp, check=True)  # warm: .pyc, disk cache
        walls, cpus = [], []
        for _ in range(runs):
            _, wall, cpu = run_process(argv, env=user_env(), cwd=tmp, check=True)
            walls.append(wall)
            cpus.append(cpu)
        rows.append({"label": label, "cpu": statistics.median(cpus), "cpu_min": min(cpus), "cpu_max": max(cpus),
                     "wall": statistics.median(walls), "runs": runs})
        print(f"startup {label}: {rows[-1]}", file=sys.stderr, flush=True)
    return rows


def timed(fn):
    """``fn()``, its CPU seconds in this process and its wall seconds."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c0, time.perf_counter() - t0


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


def linf_rows(tmp: Path, n: int, seed: int, n_base: int) -> list[dict]:
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
        nb = min(n, n_base)
        r: dict = {"k": k, "n": n, "n_base": nb}
        for label, extra in (("cli", []), ("cli1", ["--workers", "1"])):
            wall, cpu, rep = cli(["invert", str(path), "--signal", str(tmp / "Y.npy"), "--method", "linf",
                                  "--out", str(tmp / "Z.npy"), "--json", *extra])
            zc = np.load(tmp / "Z.npy")
            r[label], r[label + "_wall"] = cpu / n, wall / n
            r[label + "_ok"], r[label + "_ok_base"] = success(zc, z), success(zc[:nb], z[:nb])
            r[label + "_workers"] = rep["runtime"]["workers"]
            r[label + "_blas"] = rep["runtime"]["blas_threads"]
        res, t, w = timed(lambda: invert_batch(net, y, method="linf"))
        r["lib"], r["lib_wall"], r["lib_ok"] = t / n, w / n, success(np.array([q.latent for q in res]), z)
        zf, t, w = timed(lambda: np.array([floor_solve(ws, v) for v in y]))
        r["floor"], r["floor_ok"] = t / n, success(zf, z)
        zb, t, w = timed(lambda: np.array([bench_linf.baseline_invert(ws, v)[0] for v in y[:nb]]))
        r["base"], r["base_wall"], r["base_ok"] = t / nb, w / nb, success(zb, z[:nb])
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
            wall, cpu, rep = cli(["invert", str(path), "--signal", str(tmp / "Y.npy"), "--method", method, "--seed",
                                  "2", "--out", str(tmp / "Z.npy"), "--json", *extra, *workers])
            r[label], r[label + "_wall"], r[label + "_ok"] = cpu / n, wall / n, success(np.load(tmp / "Z.npy"), z)
            r[label + "_workers"], r[label + "_counts"] = rep["runtime"]["workers"], rep["status_counts"]
            r[label + "_reason"] = rep["runtime"]["workers_reason"]
        if method == "latent":
            run, t, w = timed(lambda: latent_pursuit(net, y))
        else:
            run, t, w = timed(lambda: gradient_descent(net, y, rng=np.random.default_rng(2), momentum=0.9))
            # the pure iteration (polish=False), to show the polish costs no success
            plain, tp, _ = timed(lambda: gradient_descent(net, y, rng=np.random.default_rng(2), momentum=0.9,
                                                          polish=False))
            r["plain"], r["plain_ok"] = tp / n, success(plain.latent, z)
            r["plain_iters"] = (int(np.median(plain.iterations)), int(plain.iterations.max()))
            r["lib_iters"] = (int(np.median(run.iterations)), int(run.iterations.max()))
            r["polished"] = int(run.polished.sum())
        r["lib"], r["lib_wall"], r["lib_ok"] = t / n, w / n, success(run.latent, z)
        if method == "latent":
            (zp, its), t, w = timed(lambda: pub.latent_pursuit(tn, yt))
        else:
            (zp, its), t, w = timed(lambda: pub.gradient_descent(tn, yt, seed=2))
            its = {"gd": its}
        r["base"], r["base_wall"], r["base_ok"] = t / n, w / n, success(zp.numpy(), z)
        r["base_iters"] = {k: (int(v.median()), int(v.max())) for k, v in its.items()}
        rows.append(r)
        print(f"{method}: {r}", file=sys.stderr, flush=True)
    return rows


def spark_row(tmp: Path, seed: int, budget: float) -> dict:
    a, _ = bench_spark.full_spark_instance(12, np.random.default_rng(seed))
    np.save(tmp / "M.npy", a)
    wall, cpu, rep = cli(["invariants", str(tmp / "M.npy"), "--spark", "--json"])
    value = rep["results"][0].get("value")
    got, t_base, calls = bench_spark.baseline_spark(a, budget)
    extrapolated = got is None
    if extrapolated:
        need = sum(math.comb(24, k) for k in range(1, 13)) + 1  # every subset below spark 13, then one
        t_base = t_base / calls * need
    return {"value": value, "cli": cpu, "cli_wall": wall, "base": t_base, "extrapolated": extrapolated,
            "calls": calls, "base_answer": got}


def torch_version() -> str:
    import torch

    return torch.__version__


def _ms(x: float) -> str:
    return f"{1e3 * x:.1f}" if x >= 0.01 else f"{1e3 * x:.2f}"


def report(lin, pur, spk, startup, args, load0, load1, wall) -> str:
    from theorychk._highs import new_highs  # silent: highspy.Highs() prints its banner on stdout

    ran = ",".join(args.only)
    lines = [
        "# The user's path: `theorychk invert` / `invariants` end to end vs the library and the published methods",
        "",
        f"`python benchmarks/bench_invert_cli.py --signals {args.signals} --pursuit-signals {args.pursuit_signals}"
        f" --baseline-signals {args.baseline_signals} --torch-threads {args.torch_threads}"
        f"{'' if ran == ','.join(PARTS) else ' --only ' + ran}`"
        f" — one run, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: {platform.machine()}, "
        f"{os.cpu_count()} cores shared with other jobs; load average {load0:.2f} at start, {load1:.2f} at end "
        f"(`uptime`). Python {platform.python_version()}, numpy {np.__version__}, HiGHS {new_highs().version()}"
        f", {bench_linf.BASELINE}. Wall time of this run: {wall:.0f} s.",
        "",
        "Times are **CPU** milliseconds per inversion (`time.process_time()` here; `getrusage(RUSAGE_CHILDREN)` "
        "for a CLI process, its workers included), the ratios too; wall ratios (which move with the load of the "
        "shared machine) in their own column. CLI = the whole process (start, imports, ONNX read, inversions, "
        "JSON) divided by the number of signals; default `--workers` (the free cores, decided by the command) "
        "and `--workers 1`. Success = ‖ẑ − z‖₂/‖z‖₂ ≤ 1e-3.",
        "",
    ]
    if lin:
        lines += [
            f"## `linf`, k → 250 → 600 ReLU nets saved as ONNX ({lin[0]['n']} signals; published on the first "
            f"{lin[0]['n_base']})",
            "",
            "CLI = `theorychk invert NET.onnx --signal Y.npy --method linf --out Z.npy --json`. Library = "
            "`invert_batch(net, Y, method='linf')` in one process. Published = `bench_linf.baseline_invert` (cvxopt "
            "per ε, the LP rebuilt every time), on the first signals of the same file. Floor = one least-squares "
            "solve per layer on the active rows (Gram + Cholesky).",
            "",
            "| k | published | CLI (workers) | CLI --workers 1 | library | floor | **published / CLI** | "
            "published / CLI w1 | wall: published / CLI | CLI w1 / floor | success published / CLI (same signals) "
            "/ CLI all / library |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in lin:
            lines.append(
                f"| {r['k']} | {_ms(r['base'])} | {_ms(r['cli'])} ({r['cli_workers']}) | {_ms(r['cli1'])} | "
                f"{_ms(r['lib'])} | {_ms(r['floor'])} | **{r['base'] / r['cli']:.1f}×** | {r['base'] / r['cli1']:.1f}× "
                f"| {r['base_wall'] / r['cli_wall']:.1f}× | {r['cli1'] / r['floor']:.1f}× | "
                f"{r['base_ok']}/{r['n_base']} / {r['cli_ok_base']}/{r['n_base']} / {r['cli_ok']}/{r['n']} / "
                f"{r['lib_ok']}/{r['n']} |"
            )
        lines += [
            "",
            f"BLAS threads in the CLI runs (threadpoolctl, from its JSON): "
            f"{sorted({r['cli_blas'] for r in lin} | {r['cli1_blas'] for r in lin})}.",
            "",
        ]
    if pur:
        lines += [
            f"## `latent` and `gd`, 20 → 128 → 392 → 784 net (ReLU, ReLU, PLU) saved as ONNX, {pur[0]['n']} signals",
            "",
            f"Published = `benchmarks/published_pursuit.py`: paper 004's Algorithm 5 (Alg. 3 FISTA as printed, Alg. "
            f"4 linearised ADMM, Eq. 18 for z, debiasing by gradient descent) and its Sec. 6.2 gradient-descent "
            f"baseline (momentum 0.9, 10,000 iterations), PyTorch {torch_version()} on the CPU, float64, the "
            f"{pur[0]['n']} signals in one batch, {args.torch_threads} thread(s). CLI = `theorychk invert lp.onnx "
            "--signal Y.npy --method METHOD --seed 2 --out Z.npy --json` (`gd`: `--option momentum=0.9`, the "
            "paper's setting; `latent`: its defaults, no debiasing). Library = `latent_pursuit(net, Y)` / "
            "`gradient_descent(net, Y, momentum=0.9)` in this process, BLAS single-threaded.",
            "",
            "| method | published | CLI (workers) | CLI --workers 1 | library | **published / CLI** | published / CLI "
            "w1 | published / library | wall: published / CLI | success published / CLI / CLI w1 / library | CLI "
            "statuses | published iterations median / max |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
        ]
        for r in pur:
            lines.append(
                f"| {r['method']} | {_ms(r['base'])} | {_ms(r['cli'])} ({r['cli_workers']}) | {_ms(r['cli1'])} | "
                f"{_ms(r['lib'])} | **{r['base'] / r['cli']:.1f}×** | {r['base'] / r['cli1']:.1f}× | "
                f"{r['base'] / r['lib']:.1f}× | {r['base_wall'] / r['cli_wall']:.1f}× | "
                f"{r['base_ok']} / {r['cli_ok']} / {r['cli1_ok']} / {r['lib_ok']} | {r['cli_counts']} | "
                f"{r['base_iters']} |"
            )
        lines += [""] + [
            f"`gd` in the library, the polish (default) against the pure iteration (`polish=False`), same "
            f"starts: {_ms(r['lib'])} vs {_ms(r['plain'])} ms CPU per signal, success {r['lib_ok']} vs "
            f"{r['plain_ok']} of {r['n']}, iterations median / max {r['lib_iters']} vs {r['plain_iters']}, "
            f"{r['polished']} signals stopped by the polish."
            for r in pur if "plain" in r
        ]
        lines += ["", "Workers the CLI chose (default): " + "; ".join(
            f"{r['method']}: {r['cli_reason']}" for r in pur) + ".", ""]
    if startup:
        lines += [
            "## Start-up: fresh processes (s)",
            "",
            "| command | CPU median | CPU min | CPU max | wall median | runs |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in startup:
            lines.append(f"| {r['label']} | {r['cpu']:.3f} | {r['cpu_min']:.3f} | {r['cpu_max']:.3f} | "
                         f"{r['wall']:.3f} | {r['runs']} |")
        lines.append("")
    if spk:
        lines += [
            "## `invariants --spark`, 12 × 24 integer matrix of spark 13",
            "",
            "| spark | CLI end to end, CPU (wall) s | toqito-style float enumeration, CPU s | **ratio (CPU)** |",
            "|---:|---:|---:|---:|",
            f"| {spk['value']} | {spk['cli']:.2f} ({spk['cli_wall']:.2f}) | {'~' if spk['extrapolated'] else ''}"
            f"{spk['base']:.1f}"
            f"{' (extrapolated from ' + str(spk['calls']) + ' subsets in the budget)' if spk['extrapolated'] else ''}"
            f" | **{spk['base'] / spk['cli']:.0f}×** |",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--signals", type=int, default=200)
    ap.add_argument("--pursuit-signals", type=int, default=200)
    ap.add_argument("--baseline-signals", type=int, default=None,
                    help="signals the published linf method inverts (the first of the same file; default: all)")
    ap.add_argument("--torch-threads", type=int, default=1,
                    help="threads of the PyTorch baseline (1: faster than 2 on this shared 2-core machine)")
    ap.add_argument("--startup-runs", type=int, default=15)
    ap.add_argument("--spark-budget", type=float, default=20.0, help="CPU seconds for the float enumeration")
    ap.add_argument("--seed", type=int, default=2019)
    ap.add_argument("--only", type=lambda t: [p.strip() for p in t.split(",") if p.strip()], default=list(PARTS),
                    help=f"comma-separated parts to run, of {','.join(PARTS)} (default: all)")
    ap.add_argument("--quick", action="store_true", help="20 signals, 8 for latent/gd, 3 s spark budget")
    ap.add_argument("--out", type=Path, default=RESULTS, help="results file (written unless --quick)")
    args = ap.parse_args(argv)
    bad = [p for p in args.only if p not in PARTS]
    if bad:
        ap.error(f"--only: unknown part(s) {bad}; choose from {','.join(PARTS)}")
    if args.quick:
        args.signals, args.pursuit_signals, args.spark_budget, args.startup_runs = 20, 8, 3.0, 3
        args.baseline_signals = min(args.baseline_signals or 5, 5)
    if args.baseline_signals is None:
        args.baseline_signals = args.signals
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    lin, pur, spk, startup = [], [], {}, []
    with threadpool_limits(limits=1), tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if "linf" in args.only:
            lin = linf_rows(tmp, args.signals, args.seed, args.baseline_signals)
        if "startup" in args.only:
            startup = startup_rows(tmp, args.startup_runs)
        if "pursuit" in args.only and args.pursuit_signals:
            pur = pursuit_rows(tmp, args.pursuit_signals, 0, args.torch_threads)
        if "spark" in args.only:
            spk = spark_row(tmp, args.seed, args.spark_budget)
    text = report(lin, pur, spk, startup, args, load0, os.getloadavg()[0], time.perf_counter() - t0)
    print(text)
    if not args.quick:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
