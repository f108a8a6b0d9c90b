"""The trusted checker's speed (issue 16): CPU seconds per certificate, ``main`` against this tree.

Usage::

    git worktree add /tmp/base-check main          # the baseline tree, once
    python benchmarks/bench_check.py [--base /tmp/base-check] [--samples 5] [--certs DIR]

Certificates: ``theorychk certify zoo:vae784-relu`` and ``zoo:vae784-leaky`` with ``--samples N
--out DIR --workers 1`` (made with this tree when ``DIR/relu`` / ``DIR/leaky`` are missing; both
trees read the same files). Per tree and net, each in fresh processes with ``PYTHONPATH`` set to
the tree:

* **CLI, one per process**: ``theorychk check CERT`` per certificate (process start, imports,
  model read included) — CPU of the child (``RUSAGE_CHILDREN``), per certificate;
* **CLI, batch** (this tree only: ``main`` takes one file): ``theorychk check DIR`` once, CPU / N;
* **in-process**: one interpreter calls ``check_file`` on every certificate, ``process_time`` per
  call — the first (cold: layers converted) and the median of the others (warm).

Every run must end VERIFIED (exit 0). CPU seconds, never wall time (the machine is shared; the
load average is recorded). Writes ``benchmarks/results/check.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TREE = HERE.parent
NETS = {"relu": "zoo:vae784-relu", "leaky": "zoo:vae784-leaky"}

IN_PROCESS = """
import json, sys, time
from theorychk.check.core import check_file
out = []
for path in sys.argv[1:]:
    t = time.process_time()
    report = check_file(path)
    out.append([time.process_time() - t, report.verdict])
print(json.dumps(out))
"""


def _env(tree: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "THEORYCHK_DEBUG"}
    env["PYTHONPATH"] = str(tree)
    return env


def child_cpu(cmd: list[str], tree: Path) -> tuple[float, subprocess.CompletedProcess]:
    """CPU seconds (user + system) of one child process, and its result."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(tree), cwd=tree)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc


def make_certificates(folder: Path, samples: int) -> dict[str, list[Path]]:
    out = {}
    for key, model in NETS.items():
        d = folder / key
        if not sorted(d.glob("signal-*.json")):
            cmd = [sys.executable, "-m", "theorychk", "certify", model, "--samples", str(samples), "--out", str(d),
                   "--workers", "1", "--quiet"]
            subprocess.run(cmd, check=True, capture_output=True, env=_env(TREE), cwd=TREE)
        out[key] = sorted(d.glob("signal-*.json"))[:samples]
    return out


def measure(tree: Path, certs: list[Path], *, batch: bool) -> dict[str, float]:
    cli = []
    for c in certs:
        cpu, proc = child_cpu([sys.executable, "-m", "theorychk", "check", str(c)], tree)
        if proc.returncode != 0:
            raise SystemExit(f"{tree}: check {c} exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
        cli.append(cpu)
    row = {"cli_median": statistics.median(cli), "cli_mean": statistics.fmean(cli)}
    if batch:
        cpu, proc = child_cpu([sys.executable, "-m", "theorychk", "check", *map(str, certs)], tree)
        if proc.returncode != 0:
            raise SystemExit(f"{tree}: batch check exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
        row["batch_per_cert"] = cpu / len(certs)
    _, proc = child_cpu([sys.executable, "-c", IN_PROCESS, *map(str, certs)], tree)
    if proc.returncode != 0:
        raise SystemExit(f"{tree}: in-process check failed: {proc.stderr.strip()[-300:]}")
    runs = json.loads(proc.stdout)
    if any(v != "VERIFIED" for _, v in runs):
        raise SystemExit(f"{tree}: a certificate was not VERIFIED in-process: {runs}")
    times = [t for t, _ in runs]
    row["inproc_cold"] = times[0]
    row["inproc_warm"] = statistics.median(times[1:]) if len(times) > 1 else times[0]
    row["inproc_mean"] = statistics.fmean(times)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, default=Path("/tmp/base-check"), help="worktree of main (the baseline)")
    ap.add_argument("--certs", type=Path, default=Path("/tmp/bench-check-certs"), help="certificate folder")
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "check.md")
    args = ap.parse_args()
    if not (args.base / "theorychk").is_dir():
        raise SystemExit(f"--base {args.base} is not a theorychk tree; run: git worktree add {args.base} main")
    certs = make_certificates(args.certs, args.samples)
    base_rev = subprocess.run(["git", "-C", str(args.base), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
    this_rev = subprocess.run(["git", "-C", str(TREE), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
    results = {}
    for key, files in certs.items():
        results[key] = {"main": measure(args.base, files, batch=False), "branch": measure(TREE, files, batch=True)}
        print(key, json.dumps(results[key]), file=sys.stderr)
    lines = [
        "# Checker speed: CPU seconds per certificate (`benchmarks/bench_check.py`)",
        "",
        f"`python benchmarks/bench_check.py --samples {args.samples}`; baseline `main` at {base_rev}, this "
        f"tree at {this_rev}; {len(next(iter(certs.values())))} certificates per net made by "
        "`theorychk certify NET --samples N --out DIR --workers 1` (all claims; the same files for "
        f"both trees). Load average at the end: {os.getloadavg()[0]:.2f} (2 shared cores). CPU "
        "seconds (user + system), never wall time.",
        "",
        "| net | measure | main | this branch | main / branch |",
        "|---|---|---:|---:|---:|",
    ]
    labels = [("cli_median", "CLI `check CERT`, one process each (median)"),
              ("cli_mean", "CLI `check CERT`, one process each (mean)"),
              ("inproc_cold", "in-process `check_file`, first certificate (cold)"),
              ("inproc_warm", "in-process `check_file`, the others (median, warm)"),
              ("inproc_mean", "in-process `check_file` (mean)")]
    for key, res in results.items():
        m, b = res["main"], res["branch"]
        for field, label in labels:
            lines.append(f"| {NETS[key]} | {label} | {m[field]:.3f} | {b[field]:.3f} | {m[field] / b[field]:.1f}x |")
        lines.append(f"| {NETS[key]} | CLI `check DIR` batch, per certificate (this branch) vs CLI one each "
                     f"(main, mean) | {m['cli_mean']:.3f} | {b['batch_per_cert']:.3f} | "
                     f"{m['cli_mean'] / b['batch_per_cert']:.1f}x |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
