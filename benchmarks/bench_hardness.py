"""The hardness benchmark against the complete verifiers installable here, with PySAT beside them.

    python benchmarks/bench_hardness.py [FOLDER] [--timeout SEC] [--workers N] [--report-only]

FOLDER defaults to ``reductions/benchmark-hardness`` (``theorychk benchmark hardness``). For every
instance of its ``manifest.json``:

* **PySAT** (CaDiCaL 1.9.5 through :func:`theorychk.reduction.cnf.solve`) on the DIMACS formula,
  its wall time including solver set-up.
* **Marabou** (PyPI ``maraboupy`` 2.0.0, its ``Marabou`` binary on ``.onnx`` + ``.vnnlib``) in a
  subprocess of its own session with ``--timeout SEC`` and a SIGKILL of the whole process group
  ``KILL_GRACE`` seconds later (it does not always honour its timeout). A ``sat`` is counted as
  solved only if its printed latent, run through the ONNX file with onnxruntime, lands inside the
  VNN-LIB output box (within ``REPLAY_TOL`` for Marabou's 6-decimal printing) and inside the
  input box; any verdict that contradicts the certified ground truth is reported as WRONG with
  the command that reproduces it.
* **NeuralSAT** is not run: PyPI ``neuralsat`` 0.2.17 requires ``gurobipy`` (a commercial solver
  with a size-limited licence), ``onnxsim``, ``torchvision`` and ``protobuf<6``; installing it
  with its dependencies would replace packages of this environment, and it was not tried
  ``--no-deps`` (see ``benchmarks/results/hardness_benchmark.md``).

Writes ``benchmarks/results/hardness_benchmark.{md,json}`` and ``hardness_cactus.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from theorychk.reduction.benchmark import onnx_forward  # noqa: E402
from theorychk.reduction.cnf import read_dimacs, solve  # noqa: E402
from theorychk.reduction.export import read_vnnlib  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
KILL_GRACE = 5.0
REPLAY_TOL = 1e-3
_VALUE = re.compile(r"^\s*x(\d+)\s*=\s*(-?[\d.]+(?:e-?\d+)?)\s*$")


def marabou_binary() -> str | None:
    here = Path(sys.executable).parent / "Marabou"
    return str(here) if here.exists() else shutil.which("Marabou")


def run_marabou(binary: str, onnx_path: Path, vnnlib_path: Path, timeout: float) -> dict:
    cmd = [binary, str(onnx_path), str(vnnlib_path), "--timeout", str(math.ceil(timeout)), "--verbosity", "0"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        out, _ = proc.communicate(timeout=timeout + KILL_GRACE)
        killed = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own --timeout is not always honoured
        out, _ = proc.communicate()
        killed = True
    elapsed = time.perf_counter() - start
    if killed:
        return {"verdict": "killed", "time": elapsed, "latent": None, "returncode": None}
    verdict = "error"
    for line in out.splitlines():
        word = line.strip().lower()
        if word in ("sat", "unsat", "timeout", "error", "unknown"):
            verdict = word
            break
    latent = None
    if verdict == "sat":
        values = {int(m.group(1)): float(m.group(2)) for m in map(_VALUE.match, out.splitlines()) if m}
        latent = [values[i] for i in sorted(values)] or None
    tail = out.strip().splitlines()[-1][:200] if out.strip() else ""
    return {"verdict": verdict, "time": elapsed, "latent": latent, "returncode": proc.returncode,
            "last_line": tail if verdict == "error" else ""}


def replay(folder: Path, entry: dict, latent: list[float] | None) -> str:
    """'valid' if the latent is in the input box and onnxruntime's output in the output box."""
    if latent is None:
        return "no witness printed"
    prop = read_vnnlib(folder / entry["files"]["vnnlib"])
    if len(latent) != prop.n_inputs:
        return f"witness has {len(latent)} values, the network {prop.n_inputs} inputs"
    if any(v < float(lo) - REPLAY_TOL or v > float(hi) + REPLAY_TOL
           for v, lo, hi in zip(latent, prop.input_lo, prop.input_hi)):
        return "witness outside the input box"
    y = onnx_forward(folder / entry["files"]["onnx"], [Fraction(v) for v in latent])
    bad = [j for j, v in enumerate(y)
           if v < float(prop.output_lo[j]) - REPLAY_TOL or v > float(prop.output_hi[j]) + REPLAY_TOL]
    return "valid" if not bad else f"onnxruntime output {y} outside the output box at {bad}"


def classify(expected: str, res: dict) -> str:
    v = res["verdict"]
    truth = expected.lower()
    if v == "sat":
        if res["replay"] != "valid":
            return "WRONG (invalid sat witness)" if truth == "unsat" else "sat, witness not replayed"
        return "solved" if truth == "sat" else "WRONG"
    if v == "unsat":
        return "solved" if truth == "unsat" else "WRONG"
    return v  # timeout / killed / error / unknown


def measure(folder: Path, timeout: float, workers: int) -> dict:
    manifest = json.loads((folder / "manifest.json").read_text())
    binary = marabou_binary()
    entries = manifest["instances"]
    pysat: dict[str, tuple[str, float]] = {}
    for e in entries:
        f = e["files"]["cnf"]
        if f not in pysat:
            r = solve(read_dimacs(folder / f))
            pysat[f] = (r.status, r.elapsed)

    def one(e: dict) -> dict:
        row = {"name": e["name"], "family": e["family"], "tier": e["tier"], "construction": e["construction"],
               "n": e["formula"]["n_vars"], "m": e["formula"]["n_clauses"], "latent_dim": e["widths"][0],
               "expected": e["expected"]}
        status, t = pysat[e["files"]["cnf"]]
        row["pysat"] = {"verdict": status.lower(), "time": t, "agrees": status == e["expected"]}
        if binary is not None:
            res = run_marabou(binary, folder / e["files"]["onnx"], folder / e["files"]["vnnlib"], timeout)
            try:
                res["replay"] = replay(folder, e, res["latent"]) if res["verdict"] == "sat" else ""
            except Exception as exc:  # a replay failure must not lose the run; it is reported
                res["replay"] = f"replay failed: {type(exc).__name__}: {exc}"
            res["outcome"] = classify(e["expected"], res)
            res["reproduce"] = (f"Marabou {e['files']['onnx']} {e['files']['vnnlib']} --timeout {int(timeout)}"
                                if res["outcome"].startswith("WRONG") else "")
            row["marabou"] = res
            print(f"{e['name']:60s} {e['expected']:5s} marabou {res['verdict']:7s} {res['time']:6.2f} s "
                  f"{res['outcome']}", file=sys.stderr, flush=True)
        return row

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        rows = list(pool.map(one, entries))
    version = ""
    if binary:
        try:
            version = subprocess.run([binary, "--version"], capture_output=True, text=True,
                                     timeout=30).stdout.strip().splitlines()[0]
        except (subprocess.TimeoutExpired, OSError):
            version = "?"
    return {"folder": str(folder.relative_to(ROOT)) if folder.is_relative_to(ROOT) else str(folder),
            "benchmark": manifest["benchmark"], "seed": manifest["seed"], "timeout": timeout, "workers": workers,
            "kill_grace": KILL_GRACE, "replay_tol": REPLAY_TOL, "marabou": binary and f"{binary} ({version})",
            "wall_seconds": time.perf_counter() - start, "rows": rows}


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _median(xs: list[float]) -> float | None:
    xs = sorted(xs)
    if not xs:
        return None
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def _fmt(t: float | None, unit: str = "s") -> str:
    if t is None:
        return "—"
    return f"{t * 1e3:.2f} ms" if unit == "ms" else f"{t:.2f} s"


def cactus(data: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    rows = data["rows"]
    series = {"PySAT (formula)": sorted(r["pysat"]["time"] for r in rows)}
    if rows and "marabou" in rows[0]:
        series["Marabou (all)"] = sorted(r["marabou"]["time"] for r in rows if r["marabou"]["outcome"] == "solved")
        for c in data["constructions"]:
            series[f"Marabou {c}"] = sorted(r["marabou"]["time"] for r in rows
                                            if r["construction"] == c and r["marabou"]["outcome"] == "solved")
    for label, times in series.items():
        ax.step(range(1, len(times) + 1), times, where="post", label=f"{label} ({len(times)})",
                linewidth=2 if "all" in label or "PySAT" in label else 1)
    ax.set_yscale("log")
    ax.set_xlabel("instances solved (correctly)")
    ax.set_ylabel("time per instance [s]")
    ax.axhline(data["timeout"], color="grey", linestyle=":", linewidth=1)
    ax.set_title(f"{data['benchmark']} ({len(rows)} instances), Marabou timeout {data['timeout']:g} s")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def report(data: dict) -> str:
    rows = data["rows"]
    has_m = bool(rows) and "marabou" in rows[0]
    lines = [
        "# Hardness benchmark: complete verifiers vs. PySAT",
        "",
        f"Command: `python benchmarks/bench_hardness.py {data['folder']} --timeout {data['timeout']:g} "
        f"--workers {data['workers']}` (wall time {data['wall_seconds'] / 60:.1f} min on a 2-core machine shared "
        f"with other jobs). Benchmark `{data['benchmark']}`, seed {data['seed']}, {len(rows)} instances.",
        "",
        f"* Marabou: {data['marabou'] or 'not installed'}, reading `.onnx` + `.vnnlib`, `--timeout "
        f"{data['timeout']:g}`, SIGKILL of its process group {data['kill_grace']:g} s later; {data['workers']} "
        f"instances at a time. **The timeout is {data['timeout']:g} s, below VNN-COMP's usual 60–300 s** "
        f"(the `instances.csv` says 60 s): the whole run had to fit in ~40 min of a shared 2-core machine.",
        f"* A `sat` counts as solved only if its latent, run through the ONNX file with onnxruntime, lands in the "
        f"VNN-LIB boxes (tolerance {data['replay_tol']:g} for Marabou's 6-decimal output); every verdict is "
        "compared with the certified ground truth (`theorychk benchmark verify`).",
        "* PySAT: CaDiCaL 1.9.5 on the DIMACS formula, one run, wall time including solver set-up.",
        "* NeuralSAT: not run. PyPI `neuralsat` 0.2.17 requires `gurobipy` (commercial, size-limited licence), "
        "`onnxsim`, `torchvision` and `protobuf<6`: with its dependencies it would replace packages of this "
        "environment (torch must stay the 2.13.0 CPU build); a `--no-deps` install was not attempted in the time "
        "available.",
        "",
    ]
    if not has_m:
        return "\n".join(lines + ["Marabou was not installed: no verifier columns."]) + "\n"
    wrong = [r for r in rows if r["marabou"]["outcome"].startswith("WRONG")]
    lines += ["## Findings", ""]
    for tier in ("S", "M", "L", "XL"):
        rs = [r for r in rows if r["tier"] == tier]
        if rs:
            s = sum(r["marabou"]["outcome"] == "solved" for r in rs)
            slow = max(r["pysat"]["time"] for r in rs)
            mark = " — **below 50% while PySAT decides every formula in < 1 s**" if s < len(rs) / 2 and slow < 1 else ""
            lines.append(f"* Tier {tier}: Marabou solved {s}/{len(rs)} ({100 * s / len(rs):.0f}%), PySAT's slowest "
                         f"{_fmt(slow, 'ms')}{mark}.")
    unsat = [r for r in rows if r["expected"] == "UNSAT"]
    killed = [r for r in rows if r["marabou"]["verdict"] == "killed"]
    lines += [f"* UNSAT is where the verifier breaks: {sum(r['marabou']['outcome'] == 'solved' for r in unsat)}/"
              f"{len(unsat)} unsatisfiable instances solved (a proof over the whole box), against "
              f"{sum(r['marabou']['outcome'] == 'solved' for r in rows if r['expected'] == 'SAT')}/{len(rows) - len(unsat)} "
              "satisfiable ones (one witness suffices).",
              f"* Marabou ran past its own `--timeout` and had to be SIGKILLed in {len(killed)}/{len(rows)} runs "
              f"({sum(r['construction'] == 'katz' for r in killed)} of them `katz`).",
              f"* Wrong verdicts: {len(wrong)}.", ""]
    lines += ["## Solve rate and time per family × tier × construction", "",
              "Solved = correct verdict (witness replayed for `sat`) within the timeout. Times are medians over the "
              "solved instances.", "",
              "| family | tier | n | construction | instances | Marabou solved | Marabou median | timeouts / kills / errors | PySAT max | PySAT median |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    keys = []
    for r in rows:
        k = (r["family"], r["tier"], r["construction"])
        if k not in keys:
            keys.append(k)
    for fam, tier, con in keys:
        rs = [r for r in rows if (r["family"], r["tier"], r["construction"]) == (fam, tier, con)]
        solved = [r for r in rs if r["marabou"]["outcome"] == "solved"]
        to = sum(r["marabou"]["verdict"] == "timeout" for r in rs)
        kl = sum(r["marabou"]["verdict"] == "killed" for r in rs)
        er = sum(r["marabou"]["verdict"] in ("error", "unknown") for r in rs)
        ns = sorted({r["n"] for r in rs})
        lines.append(f"| {fam} | {tier} | {'/'.join(map(str, ns))} | {con} | {len(rs)} | {len(solved)}/{len(rs)} | "
                     f"{_fmt(_median([r['marabou']['time'] for r in solved]))} | {to} / {kl} / {er} | "
                     f"{_fmt(max(r['pysat']['time'] for r in rs), 'ms')} | "
                     f"{_fmt(_median([r['pysat']['time'] for r in rs]), 'ms')} |")
    lines += ["", "## By tier (all families) and by construction", "",
              "| tier | construction | instances | Marabou solved | share | PySAT max |", "|---|---|---|---|---|---|"]
    for tier in ("S", "M", "L", "XL"):
        for con in data["constructions"] + ["all"]:
            rs = [r for r in rows if r["tier"] == tier and (con == "all" or r["construction"] == con)]
            if not rs:
                continue
            s = sum(r["marabou"]["outcome"] == "solved" for r in rs)
            lines.append(f"| {tier} | {con} | {len(rs)} | {s}/{len(rs)} | {100 * s / len(rs):.0f}% | "
                         f"{_fmt(max(r['pysat']['time'] for r in rs), 'ms')} |")
    lines += ["", "## By tier and answer (all families and constructions)", "",
              "| tier | answer | instances | Marabou solved | share | Marabou timeouts | killed past its own timeout | PySAT max |",
              "|---|---|---|---|---|---|---|---|"]
    for tier in ("S", "M", "L", "XL"):
        for ans in ("SAT", "UNSAT"):
            rs = [r for r in rows if r["tier"] == tier and r["expected"] == ans]
            if not rs:
                continue
            s = sum(r["marabou"]["outcome"] == "solved" for r in rs)
            lines.append(f"| {tier} | {ans} | {len(rs)} | {s}/{len(rs)} | {100 * s / len(rs):.0f}% | "
                         f"{sum(r['marabou']['verdict'] == 'timeout' for r in rs)} | "
                         f"{sum(r['marabou']['verdict'] == 'killed' for r in rs)} | "
                         f"{_fmt(max(r['pysat']['time'] for r in rs), 'ms')} |")
    lines += ["", "| family | answer | instances | Marabou solved | PySAT max |", "|---|---|---|---|---|"]
    for fam in dict.fromkeys(r["family"] for r in rows):
        for ans in ("SAT", "UNSAT"):
            rs = [r for r in rows if r["family"] == fam and r["expected"] == ans]
            s = sum(r["marabou"]["outcome"] == "solved" for r in rs)
            lines.append(f"| {fam} | {ans} | {len(rs)} | {s}/{len(rs)} | {_fmt(max(r['pysat']['time'] for r in rs), 'ms')} |")
    total = sum(r["marabou"]["outcome"] == "solved" for r in rows)
    lines += ["", f"Overall: Marabou solved {total}/{len(rows)}; PySAT decided all {len(rows)} formulas correctly "
              f"({sum(r['pysat']['agrees'] for r in rows)}/{len(rows)} agree with the ground truth), slowest "
              f"{_fmt(max(r['pysat']['time'] for r in rows), 'ms')}.", ""]
    lines += ["## Wrong answers", ""]
    if wrong:
        lines += ["| instance | ground truth | Marabou said | replay | reproduce |", "|---|---|---|---|---|"]
        lines += [f"| `{r['name']}` | {r['expected']} | {r['marabou']['verdict']} | {r['marabou']['replay'] or '—'} | "
                  f"`{r['marabou']['reproduce']}` (in `{data['folder']}`) |" for r in wrong]
    else:
        lines.append("None: every verdict Marabou gave agreed with the certified ground truth.")
    unreplayed = [r for r in rows if r["marabou"]["outcome"] == "sat, witness not replayed"]
    if unreplayed:
        lines += ["", "Correct `sat` verdicts whose printed witness did not replay (not counted as solved): "
                  + ", ".join(f"`{r['name']}` ({r['marabou']['replay']})" for r in unreplayed)]
    lines += ["", "## Cactus plot", "", "![cactus](hardness_cactus.png)", "",
              "## Every instance", "", "| instance | truth | PySAT | Marabou | time | outcome |", "|---|---|---|---|---|---|"]
    for r in rows:
        m = r["marabou"]
        lines.append(f"| `{r['name']}` | {r['expected']} | {_fmt(r['pysat']['time'], 'ms')} | {m['verdict']} | "
                     f"{m['time']:.2f} s | {m['outcome']} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", default=str(ROOT / "reductions" / "benchmark-hardness"))
    parser.add_argument("--timeout", type=float, default=30.0, help="Marabou's per-instance timeout (seconds)")
    parser.add_argument("--workers", type=int, default=2, help="instances run at the same time")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the saved JSON")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    raw = RESULTS / "hardness_benchmark.json"
    if args.report_only:
        data = json.loads(raw.read_text())
    else:
        folder = Path(args.folder).resolve()
        data = measure(folder, args.timeout, args.workers)
        data["constructions"] = json.loads((folder / "manifest.json").read_text())["constructions"]
        raw.write_text(json.dumps(data, indent=1) + "\n")
    (RESULTS / "hardness_benchmark.md").write_text(report(data))
    cactus(data, RESULTS / "hardness_cactus.png")
    print(f"wrote {RESULTS / 'hardness_benchmark.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
