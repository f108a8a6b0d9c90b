"""The hardness benchmark against the complete verifiers installable here, with PySAT beside them.

    python benchmarks/bench_hardness.py [FOLDER] [--timeout SEC] [--workers N] [--tier T ...]
                                        [--neuralsat PYTHON] [--no-marabou] [--out STEM] [--report-only]

FOLDER defaults to ``reductions/benchmark-hardness`` (``theorychk benchmark hardness``). For every
instance of its ``manifest.json`` (or of the tiers named by ``--tier``):

* **PySAT** (CaDiCaL 1.9.5 through :func:`theorychk.reduction.cnf.solve`) on the DIMACS formula,
  its wall time including solver set-up.
* **Marabou** (PyPI ``maraboupy`` 2.0.0, its ``Marabou`` binary on ``.onnx`` + ``.vnnlib``) in a
  subprocess of its own session with ``--timeout SEC`` and a SIGKILL of the whole process group
  ``KILL_GRACE`` seconds later (it does not always honour its timeout).
* **NeuralSAT** (PyPI ``neuralsat`` 0.2.17), when ``--neuralsat PYTHON`` names the interpreter of
  a separate venv it is installed in (its pins clash with this one: ``torchvision``, ``gurobipy``,
  ``onnxsim``, ``protobuf<6``; recipe in ``benchmarks/README.md``). Its ``main.py`` is run on
  ``.onnx`` + ``.vnnlib`` with ``--device cpu --timeout SEC --result_file F --export_cex``, in a
  session of its own, SIGKILLed ``KILL_GRACE + NS_STARTUP`` seconds after the timeout (its clock
  starts only after Python has imported torch and gurobipy, ~6 s here); its counterexample is read
  from the result file.

A ``sat`` is counted as solved only if the printed latent, run through the ONNX file with
onnxruntime, lands inside the VNN-LIB output box and the input box (within ``REPLAY_TOL`` for
Marabou's 6-decimal printing; exactly for NeuralSAT, which prints float32 values in full); any
verdict that contradicts the certified ground truth is reported as WRONG with the command that
reproduces it.

Writes ``benchmarks/results/STEM.{md,json}`` and a cactus plot; STEM is ``hardness_benchmark``
(plot ``hardness_cactus.png``) for the whole benchmark, ``hardness_benchmark_tier-S`` etc. when
``--tier`` filters, so a partial run never overwrites the full one.
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
import tempfile
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
NS_STARTUP = 25.0  # NeuralSAT's --timeout starts after its imports (torch, gurobipy: ~6 s here, more when loaded)
REPLAY_TOL = 1e-3
VERIFIERS = {"marabou": "Marabou", "neuralsat": "NeuralSAT"}
TIERS = ("S", "M", "L", "XL", "XXL", "XXXL")
DEFAULT_STEM = "hardness_benchmark"
_VALUE = re.compile(r"^\s*x(\d+)\s*=\s*(-?[\d.]+(?:e-?\d+)?)\s*$")
_NS_VALUE = re.compile(r"\(\s*X_(\d+)\s+([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*\)")
_NS_VERDICTS = ("sat", "unsat", "timeout", "unknown", "invalid_counterexample", "early_stop", "restart")


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


_NS_PROBE = ("import importlib.metadata as m, importlib.util as u, os\n"
             "s = u.find_spec('src')\n"
             "print(m.version('neuralsat'))\n"
             "print(os.path.join(os.path.dirname(s.origin), 'main.py') if s and s.origin else '')\n")


def neuralsat_install(python: str) -> dict:
    """Where NeuralSAT lives in the venv of ``python``: its version and ``main.py`` (the wheel installs as ``src``)."""
    try:
        out = subprocess.run([python, "-c", _NS_PROBE], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SystemExit(f"--neuralsat {python}: cannot run it ({exc})")
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or len(lines) != 2 or not Path(lines[1]).is_file():
        raise SystemExit(f"--neuralsat {python}: no neuralsat install found in that interpreter's venv "
                         f"({(out.stderr.strip().splitlines() or ['?'])[-1]})")
    return {"python": python, "main": lines[1], "version": lines[0]}


def neuralsat_command(ns: dict, onnx_path: Path | str, vnnlib_path: Path | str, timeout: float,
                      result_file: Path | str) -> list[str]:
    return [ns["python"], ns["main"], "--net", str(onnx_path), "--spec", str(vnnlib_path),
            "--timeout", str(math.ceil(timeout)), "--device", "cpu", "--verbosity", "1",
            "--result_file", str(result_file), "--export_cex"]


def run_neuralsat(ns: dict, onnx_path: Path, vnnlib_path: Path, timeout: float) -> dict:
    """One NeuralSAT run on the CPU, in its own session, SIGKILLed past ``timeout + NS_STARTUP + KILL_GRACE``.

    ``time`` is the wall time of the process (imports included), ``own_time`` what NeuralSAT
    reports as its runtime (its clock starts after the imports).
    """
    with tempfile.TemporaryDirectory(prefix="neuralsat-") as tmp:
        result_file = Path(tmp) / "result.txt"
        cmd = neuralsat_command(ns, Path(onnx_path).resolve(), Path(vnnlib_path).resolve(), timeout, result_file)
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "",
               "PYTHONUNBUFFERED": "1"}
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True, cwd=tmp, env=env)
        try:
            out, _ = proc.communicate(timeout=math.ceil(timeout) + NS_STARTUP + KILL_GRACE)
            killed = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            killed = True
        elapsed = time.perf_counter() - start
        text = result_file.read_text() if result_file.exists() else ""
    tail = out.strip().splitlines()[-1][:200] if out.strip() else ""
    errors = [ln.strip() for ln in out.splitlines() if re.match(r"^\w*(Error|Exception): ", ln.strip())]
    if errors:  # a Python traceback: keep the root cause and what it was re-raised as
        tail = " / ".join(dict.fromkeys([errors[0][:300], errors[-1][:200]]))
    own = None
    m = re.search(r"^(\w+),(\d+(?:\.\d+)?)\s*$", out, re.MULTILINE)  # its closing 'status,runtime' line
    if m:
        own = float(m.group(2))
    if killed:
        return {"verdict": "killed", "time": elapsed, "own_time": own, "latent": None, "returncode": None,
                "last_line": tail}
    first = text.strip().splitlines()[0].strip().lower() if text.strip() else ""
    verdict = first if first in _NS_VERDICTS else "error"
    if verdict in ("early_stop", "restart", "invalid_counterexample"):
        verdict = "unknown"
    latent = None
    if verdict == "sat":
        values = {int(i): float(v) for i, v in _NS_VALUE.findall(text)}
        latent = [values[i] for i in sorted(values)] or None
    return {"verdict": verdict, "time": elapsed, "own_time": own, "latent": latent, "returncode": proc.returncode,
            "result_first_line": first, "last_line": tail if verdict in ("error", "unknown") else ""}


def replay(folder: Path, entry: dict, latent: list[float] | None, tol: float = REPLAY_TOL) -> str:
    """'valid' if the latent is in the input box and onnxruntime's output in the output box (within ``tol``)."""
    if latent is None:
        return "no witness printed"
    prop = read_vnnlib(folder / entry["files"]["vnnlib"])
    if len(latent) != prop.n_inputs:
        return f"witness has {len(latent)} values, the network {prop.n_inputs} inputs"
    if any(v < float(lo) - tol or v > float(hi) + tol
           for v, lo, hi in zip(latent, prop.input_lo, prop.input_hi)):
        return "witness outside the input box"
    y = onnx_forward(folder / entry["files"]["onnx"], [Fraction(v) for v in latent])
    bad = [j for j, v in enumerate(y)
           if v < float(prop.output_lo[j]) - tol or v > float(prop.output_hi[j]) + tol]
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


def _judge(folder: Path, e: dict, res: dict, tol: float, reproduce: str) -> dict:
    try:
        res["replay"] = replay(folder, e, res["latent"], tol) if res["verdict"] == "sat" else ""
    except Exception as exc:  # a replay failure must not lose the run; it is reported
        res["replay"] = f"replay failed: {type(exc).__name__}: {exc}"
    res["outcome"] = classify(e["expected"], res)
    res["reproduce"] = reproduce if res["outcome"].startswith("WRONG") else ""
    return res


def measure(folder: Path, timeout: float, workers: int, *, tiers: tuple[str, ...] = (),
            marabou: bool = True, neuralsat: dict | None = None) -> dict:
    manifest = json.loads((folder / "manifest.json").read_text())
    binary = marabou_binary() if marabou else None
    entries = [e for e in manifest["instances"] if not tiers or e["tier"] in tiers]
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
        onnx_path, vnnlib_path = folder / e["files"]["onnx"], folder / e["files"]["vnnlib"]
        if binary is not None:
            res = run_marabou(binary, onnx_path, vnnlib_path, timeout)
            row["marabou"] = _judge(folder, e, res, REPLAY_TOL,
                                    f"Marabou {e['files']['onnx']} {e['files']['vnnlib']} --timeout {math.ceil(timeout)}")
            print(f"{e['name']:60s} {e['expected']:5s} marabou   {res['verdict']:7s} {res['time']:6.2f} s "
                  f"{res['outcome']}", file=sys.stderr, flush=True)
        if neuralsat is not None:
            res = run_neuralsat(neuralsat, onnx_path, vnnlib_path, timeout)
            cmd = neuralsat_command(neuralsat, e["files"]["onnx"], e["files"]["vnnlib"], timeout, "result.txt")
            row["neuralsat"] = _judge(folder, e, res, 0.0, " ".join(cmd))
            own = f"(own {res['own_time']:.2f} s)" if res.get("own_time") is not None else ""
            print(f"{e['name']:60s} {e['expected']:5s} neuralsat {res['verdict']:7s} {res['time']:6.2f} s "
                  f"{own} {res['outcome']}", file=sys.stderr, flush=True)
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
            "tiers": list(tiers), "kill_grace": KILL_GRACE, "ns_startup": NS_STARTUP, "replay_tol": REPLAY_TOL,
            "marabou": binary and f"{binary} ({version})",
            "neuralsat": neuralsat and f"neuralsat {neuralsat['version']} ({neuralsat['main']}, "
                                       f"run by {neuralsat['python']})",
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


def _verifiers(rows: list[dict]) -> list[str]:
    return [v for v in VERIFIERS if rows and all(v in r for r in rows)]


def cactus(data: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    rows = data["rows"]
    series = {"PySAT (formula)": sorted(r["pysat"]["time"] for r in rows)}
    vs = _verifiers(rows)
    for v in vs:
        name = VERIFIERS[v]
        series[f"{name} (all)"] = sorted(r[v]["time"] for r in rows if r[v]["outcome"] == "solved")
        if len(vs) == 1:  # one verifier: split it by construction, as before
            for c in data["constructions"]:
                series[f"{name} {c}"] = sorted(r[v]["time"] for r in rows
                                               if r["construction"] == c and r[v]["outcome"] == "solved")
    for label, times in series.items():
        ax.step(range(1, len(times) + 1), times, where="post", label=f"{label} ({len(times)})",
                linewidth=2 if "all" in label or "PySAT" in label else 1)
    ax.set_yscale("log")
    ax.set_xlabel("instances solved (correctly)")
    ax.set_ylabel("time per instance [s]")
    ax.axhline(data["timeout"], color="grey", linestyle=":", linewidth=1)
    names = " / ".join(VERIFIERS[v] for v in vs) or "verifier"
    tiers = f", tier {'+'.join(data['tiers'])}" if data.get("tiers") else ""
    ax.set_title(f"{data['benchmark']} ({len(rows)} instances{tiers}), {names} timeout {data['timeout']:g} s")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def _command(data: dict) -> str:
    if data.get("command"):
        return data["command"]
    return (f"python benchmarks/bench_hardness.py {data['folder']} --timeout {data['timeout']:g} "
            f"--workers {data['workers']}")


def report(data: dict, cactus_name: str = "hardness_cactus.png") -> str:
    rows = data["rows"]
    vs = _verifiers(rows)
    names = " and ".join(VERIFIERS[v] for v in vs)
    scope = (f"tier {', '.join(data['tiers'])} only, {len(rows)} of the benchmark's instances" if data.get("tiers")
             else f"{len(rows)} instances")
    lines = [
        "# Hardness benchmark: complete verifiers vs. PySAT",
        "",
        f"Command: `{_command(data)}` (wall time {data['wall_seconds'] / 60:.1f} min on a 2-core machine shared "
        f"with other jobs). Benchmark `{data['benchmark']}`, seed {data['seed']}, {scope}.",
        "",
    ]
    if data.get("marabou") or "marabou" in vs:
        lines.append(
            f"* Marabou: {data['marabou'] or 'not installed'}, reading `.onnx` + `.vnnlib`, `--timeout "
            f"{data['timeout']:g}`, SIGKILL of its process group {data['kill_grace']:g} s later; {data['workers']} "
            f"instances at a time. **The timeout is {data['timeout']:g} s, at the low end of VNN-COMP's usual "
            f"60–300 s** (the `instances.csv` says 60 s): the whole run had to fit in well under an hour of a shared "
            f"2-core machine.")
    else:
        lines.append("* Marabou: not run in this run (`--no-marabou`, or no `Marabou` binary found).")
    if data.get("neuralsat"):
        lines.append(
            f"* NeuralSAT: {data['neuralsat']}, `main.py --net X.onnx --spec X.vnnlib --device cpu --timeout "
            f"{data['timeout']:g} --result_file F --export_cex` with `OMP_NUM_THREADS=1`, SIGKILL of its process "
            f"group {data.get('ns_startup', NS_STARTUP) + data['kill_grace']:g} s past the timeout (its clock starts "
            "after ~6 s of imports, which the times here include; its own runtime is listed per instance). "
            "Installed in a venv of its own (`benchmarks/README.md`: torch 2.13.0 CPU, `--no-deps`, gurobipy's "
            "size-limited licence, a stub `torchvision`, which it imports only for the ONNX NonMaxSuppression op).")
    else:
        lines.append(
            "* NeuralSAT: not in this run. It runs on the CPU here from a venv of its own (`--neuralsat "
            "/path/to/venv/bin/python`, recipe in `benchmarks/README.md`): PyPI `neuralsat` 0.2.17 pins "
            "`torchvision`, `gurobipy`, `onnxsim` and `protobuf<6`, which must not enter the project's venv.")
    lines += [
        f"* A `sat` counts as solved only if its latent, run through the ONNX file with onnxruntime, lands in the "
        f"VNN-LIB boxes (tolerance {data['replay_tol']:g} for Marabou's 6-decimal output, none for NeuralSAT's "
        "float32 values); every verdict is compared with the certified ground truth (`theorychk benchmark verify`).",
        "* PySAT: CaDiCaL 1.9.5 on the DIMACS formula, one run, wall time including solver set-up.",
        "",
    ]
    if not vs:
        return "\n".join(lines + ["No verifier was run: no verifier columns."]) + "\n"

    def solved(rs: list[dict], v: str) -> int:
        return sum(r[v]["outcome"] == "solved" for r in rs)

    tiers = [t for t in TIERS if any(r["tier"] == t for r in rows)]
    wrong = {v: [r for r in rows if r[v]["outcome"].startswith("WRONG")] for v in vs}
    lines += ["## Findings", ""]
    for tier in tiers:
        rs = [r for r in rows if r["tier"] == tier]
        slow = max(r["pysat"]["time"] for r in rs)
        parts = []
        for v in vs:
            s = solved(rs, v)
            mark = " — **below 50% while PySAT decides every formula in < 1 s**" if s < len(rs) / 2 and slow < 1 else ""
            parts.append(f"{VERIFIERS[v]} solved {s}/{len(rs)} ({100 * s / len(rs):.0f}%){mark}")
        lines.append(f"* Tier {tier}: {'; '.join(parts)}; PySAT's slowest {_fmt(slow, 'ms')}.")
    unsat = [r for r in rows if r["expected"] == "UNSAT"]
    sat = [r for r in rows if r["expected"] == "SAT"]
    for v in vs:
        killed = [r for r in rows if r[v]["verdict"] == "killed"]
        lines += [f"* {VERIFIERS[v]}: {solved(unsat, v)}/{len(unsat)} unsatisfiable instances solved (a proof over "
                  f"the whole box), against {solved(sat, v)}/{len(sat)} satisfiable ones (one witness suffices); "
                  f"SIGKILLed past its own `--timeout` in {len(killed)}/{len(rows)} runs "
                  f"({sum(r['construction'] == 'katz' for r in killed)} of them `katz`); "
                  f"wrong verdicts: {len(wrong[v])}."]
    lines.append("")
    lines += ["## Solve rate and time per family × tier × construction", "",
              "Solved = correct verdict (witness replayed for `sat`) within the timeout. Times are medians over the "
              "solved instances (wall time of the verifier's process).", ""]
    head = "| family | tier | n | construction | instances |"
    rule = "|---|---|---|---|---|"
    for v in vs:
        head += f" {VERIFIERS[v]} solved | {VERIFIERS[v]} median | timeouts / kills / errors |"
        rule += "---|---|---|"
    lines += [head + " PySAT max | PySAT median |", rule + "---|---|"]
    keys = []
    for r in rows:
        k = (r["family"], r["tier"], r["construction"])
        if k not in keys:
            keys.append(k)
    for fam, tier, con in keys:
        rs = [r for r in rows if (r["family"], r["tier"], r["construction"]) == (fam, tier, con)]
        ns = sorted({r["n"] for r in rs})
        line = f"| {fam} | {tier} | {'/'.join(map(str, ns))} | {con} | {len(rs)} |"
        for v in vs:
            ok = [r for r in rs if r[v]["outcome"] == "solved"]
            to = sum(r[v]["verdict"] == "timeout" for r in rs)
            kl = sum(r[v]["verdict"] == "killed" for r in rs)
            er = sum(r[v]["verdict"] in ("error", "unknown") for r in rs)
            line += f" {len(ok)}/{len(rs)} | {_fmt(_median([r[v]['time'] for r in ok]))} | {to} / {kl} / {er} |"
        lines.append(line + f" {_fmt(max(r['pysat']['time'] for r in rs), 'ms')} | "
                            f"{_fmt(_median([r['pysat']['time'] for r in rs]), 'ms')} |")
    lines += ["", "## By tier (all families) and by construction", ""]
    head, rule = "| tier | construction | instances |", "|---|---|---|"
    for v in vs:
        head += f" {VERIFIERS[v]} solved | share |"
        rule += "---|---|"
    lines += [head + " PySAT max |", rule + "---|"]
    for tier in tiers:
        for con in data["constructions"] + ["all"]:
            rs = [r for r in rows if r["tier"] == tier and (con == "all" or r["construction"] == con)]
            if not rs:
                continue
            line = f"| {tier} | {con} | {len(rs)} |"
            for v in vs:
                s = solved(rs, v)
                line += f" {s}/{len(rs)} | {100 * s / len(rs):.0f}% |"
            lines.append(line + f" {_fmt(max(r['pysat']['time'] for r in rs), 'ms')} |")
    lines += ["", "## By tier and answer (all families and constructions)", ""]
    head, rule = "| tier | answer | instances |", "|---|---|---|"
    for v in vs:
        head += f" {VERIFIERS[v]} solved | share | timeouts | killed past its own timeout |"
        rule += "---|---|---|---|"
    lines += [head + " PySAT max |", rule + "---|"]
    for tier in tiers:
        for ans in ("SAT", "UNSAT"):
            rs = [r for r in rows if r["tier"] == tier and r["expected"] == ans]
            if not rs:
                continue
            line = f"| {tier} | {ans} | {len(rs)} |"
            for v in vs:
                s = solved(rs, v)
                line += (f" {s}/{len(rs)} | {100 * s / len(rs):.0f}% | {sum(r[v]['verdict'] == 'timeout' for r in rs)} | "
                         f"{sum(r[v]['verdict'] == 'killed' for r in rs)} |")
            lines.append(line + f" {_fmt(max(r['pysat']['time'] for r in rs), 'ms')} |")
    head, rule = "| family | answer | instances |", "|---|---|---|"
    for v in vs:
        head += f" {VERIFIERS[v]} solved |"
        rule += "---|"
    lines += ["", head + " PySAT max |", rule + "---|"]
    for fam in dict.fromkeys(r["family"] for r in rows):
        for ans in ("SAT", "UNSAT"):
            rs = [r for r in rows if r["family"] == fam and r["expected"] == ans]
            if not rs:
                continue
            lines.append(f"| {fam} | {ans} | {len(rs)} |" + "".join(f" {solved(rs, v)}/{len(rs)} |" for v in vs)
                         + f" {_fmt(max(r['pysat']['time'] for r in rs), 'ms')} |")
    overall = "; ".join(f"{VERIFIERS[v]} solved {solved(rows, v)}/{len(rows)}" for v in vs)
    lines += ["", f"Overall: {overall}; PySAT decided all {len(rows)} formulas correctly "
              f"({sum(r['pysat']['agrees'] for r in rows)}/{len(rows)} agree with the ground truth), slowest "
              f"{_fmt(max(r['pysat']['time'] for r in rows), 'ms')}.", ""]
    if len(vs) > 1:
        both = [r for r in rows if all(r[v]["outcome"] == "solved" for v in vs)]
        only = {v: [r for r in rows if r[v]["outcome"] == "solved"
                    and all(r[w]["outcome"] != "solved" for w in vs if w != v)] for v in vs}
        none_ = [r for r in rows if all(r[v]["outcome"] != "solved" for v in vs)]
        lines += [f"Together: {len(both)} solved by both, "
                  + ", ".join(f"{len(only[v])} by {VERIFIERS[v]} only" for v in vs)
                  + f", {len(none_)} by neither.", ""]
    lines += ["## Wrong answers", ""]
    if any(wrong.values()):
        lines += ["| instance | ground truth | verifier | it said | replay | reproduce |", "|---|---|---|---|---|---|"]
        lines += [f"| `{r['name']}` | {r['expected']} | {VERIFIERS[v]} | {r[v]['verdict']} | {r[v]['replay'] or '—'} | "
                  f"`{r[v]['reproduce']}` (in `{data['folder']}`) |" for v in vs for r in wrong[v]]
    else:
        lines.append(f"None: every verdict {names} gave agreed with the certified ground truth.")
    for v in vs:
        unreplayed = [r for r in rows if r[v]["outcome"] == "sat, witness not replayed"]
        if unreplayed:
            lines += ["", f"Correct `sat` verdicts of {VERIFIERS[v]} whose printed witness did not replay (not counted "
                      "as solved): " + ", ".join(f"`{r['name']}` ({r[v]['replay']})" for r in unreplayed)]
    lines += ["", "## Cactus plot", "", f"![cactus]({cactus_name})", "", "## Every instance", ""]
    head, rule = "| instance | truth | PySAT |", "|---|---|---|"
    for v in vs:
        head += f" {VERIFIERS[v]} | time | outcome |"
        rule += "---|---|---|"
    lines += [head, rule]
    for r in rows:
        line = f"| `{r['name']}` | {r['expected']} | {_fmt(r['pysat']['time'], 'ms')} |"
        for v in vs:
            m = r[v]
            own = f" (own {m['own_time']:.2f} s)" if m.get("own_time") is not None else ""
            line += f" {m['verdict']} | {m['time']:.2f} s{own} | {m['outcome']} |"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", default=str(ROOT / "reductions" / "benchmark-hardness"))
    parser.add_argument("--timeout", type=float, default=30.0, help="each verifier's per-instance timeout (seconds)")
    parser.add_argument("--workers", type=int, default=2, help="instances run at the same time")
    parser.add_argument("--tier", action="append", choices=TIERS, default=[],
                        help="only this size tier (repeatable); results go to STEM_tier-T… so the full run is kept")
    parser.add_argument("--neuralsat", metavar="PYTHON",
                        help="interpreter of a venv with PyPI neuralsat installed (e.g. /work/nsvenv/bin/python): "
                             "run NeuralSAT too")
    parser.add_argument("--no-marabou", action="store_true", help="do not run Marabou")
    parser.add_argument("--out", metavar="STEM", help=f"results file stem in benchmarks/results (default "
                                                      f"{DEFAULT_STEM}, or {DEFAULT_STEM}_tier-S… with --tier)")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from the saved JSON")
    args = parser.parse_args()
    tiers = tuple(t for t in TIERS if t in args.tier)
    stem = args.out or (f"{DEFAULT_STEM}_tier-{'-'.join(tiers)}" if tiers else DEFAULT_STEM)
    cactus_name = "hardness_cactus.png" if stem == DEFAULT_STEM else f"{stem}_cactus.png"
    RESULTS.mkdir(parents=True, exist_ok=True)
    raw = RESULTS / f"{stem}.json"
    if args.report_only:
        data = json.loads(raw.read_text())
    else:
        folder = Path(args.folder).resolve()
        ns = neuralsat_install(args.neuralsat) if args.neuralsat else None
        data = measure(folder, args.timeout, args.workers, tiers=tiers, marabou=not args.no_marabou, neuralsat=ns)
        data["constructions"] = json.loads((folder / "manifest.json").read_text())["constructions"]
        argv = [a if not a.startswith(str(ROOT) + os.sep) else os.path.relpath(a, ROOT) for a in sys.argv[1:]]
        data["command"] = " ".join(["python", "benchmarks/bench_hardness.py", *argv])
        raw.write_text(json.dumps(data, indent=1) + "\n")
    (RESULTS / f"{stem}.md").write_text(report(data, cactus_name))
    cactus(data, RESULTS / cactus_name)
    print(f"wrote {RESULTS / f'{stem}.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
