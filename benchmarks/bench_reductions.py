"""Deciding reduction instances: PySAT on the formula vs. our MILP inverter vs. Marabou.

Usage::

    python benchmarks/bench_reductions.py [--quick] [--seed S] [--time-limit SEC] [--katz-limit SEC]
                                          [--unsat-limit SEC] [--report-only]

Instances: random 3-CNF at clause/variable ratio 4.26 (the threshold), the first formulas of
seeds ``seed + 1000·n + k`` with the wanted answers. Three parts:

* ``main``: n = 5..30, half satisfiable and half not per n, reduced with the ``four-layer``
  construction (paper 002 Theorem 1, Variant A, latent box ``[−1, 1]^n``, target ``(m, 0)``);
  PySAT, our MILP and Marabou, 30 s each.
* ``katz``: the same kind of formulas, n ≤ 15, reduced with the NeuroCodeBench-style ``katz``
  encoding (one hidden layer, Booleanity term, box ``[0, 1]^n``); 15 s each.
* ``unsat-long``: unsatisfiable formulas only, n = 20, 25, 30, our MILP with 90 s: how its proof
  time grows, next to PySAT's.

Tools, each deciding "is the target in ``G(box)``?" (⇔ the formula is satisfiable):

* **PySAT** (CaDiCaL 1.9.5) on the source formula: the reference answer.
* **our MILP**: ``theorychk.reduction.verify.run_milp``, i.e. the ``milp`` method's encoder
  ``theorychk.solvers.milp.minimize_residual`` with ``norm="linf"`` on the instance's box
  (``[−1, 1]^n`` for ``four-layer``, ``[0, 1]^n`` for ``katz``). SAT = a latent with residual
  ≤ 1e-6; UNSAT = HiGHS's bound on ``min ‖G(z) − x‖_∞`` reaches the gap (½ or 1) minus 1e-4
  (MILP-proven).
* **Marabou** (PyPI ``maraboupy`` 2.0.0, its ``Marabou`` binary) on the exported ``.onnx`` +
  ``.vnnlib`` (ε = ⅛), in a subprocess with ``--timeout`` and a hard wall-clock SIGKILL a few
  seconds later (it can ignore its own timeout: ``shared/notes/ecosystem.md``).

Every verdict is compared with PySAT's; any disagreement is re-checked with the exact forward
pass (a claimed witness is decoded and pushed through ``theorychk.exact.forward``; a claimed
UNSAT on a satisfiable formula is refuted by the PySAT model's exact preimage). Results: printed
as markdown and written to ``benchmarks/results/reductions.md`` (raw rows in ``reductions.json``).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import subprocess  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from fractions import Fraction  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from theorychk.reduction.cnf import random_kcnf, solve  # noqa: E402
from theorychk.reduction.constructions import construct, exact_output  # noqa: E402
from theorychk.reduction.export import EPSILON, write_onnx, write_vnnlib  # noqa: E402
from theorychk.reduction.verify import DEFAULT_GAP_TOL, run_milp  # noqa: E402

from bench_hardness import KILL_GRACE, marabou_binary, run_marabou  # noqa: E402  (one Marabou runner)

RATIO = 4.26
#: The parts of the run: name -> (construction, {n: instances}, answers wanted, run Marabou?).
PARTS = {
    "main": ("four-layer", {5: 4, 10: 4, 15: 4, 20: 4, 25: 2, 30: 2}, ("SAT", "UNSAT"), True),
    "katz": ("katz", {5: 2, 10: 2, 15: 2}, ("SAT", "UNSAT"), True),
    "unsat-long": ("four-layer", {20: 2, 25: 2, 30: 2}, ("UNSAT",), False),
}
QUICK = {
    "main": ("four-layer", {5: 2, 10: 2, 15: 2}, ("SAT", "UNSAT"), True),
    "katz": ("katz", {5: 2}, ("SAT", "UNSAT"), True),
}
RESULTS = Path(__file__).resolve().parent / "results"


# --------------------------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------------------------


def run_pysat(cnf) -> tuple[str, float, tuple[bool, ...] | None]:
    times = []
    for _ in range(3):
        r = solve(cnf, solver="cadical195")
        times.append(r.elapsed)
    return r.status, float(np.median(times)), r.model


def run_our_milp(inst, time_limit: float) -> dict:
    start = time.perf_counter()
    res = run_milp(inst, time_limit=time_limit)
    elapsed = time.perf_counter() - start
    tol = 1e-6 * max(1.0, max(abs(float(t)) for t in inst.target))
    if res.latent is not None and res.objective <= tol:
        verdict = "sat"
    elif res.bound >= float(inst.gap_linf) - DEFAULT_GAP_TOL:
        verdict = "unsat"
    else:
        verdict = "timeout" if res.status == "time limit" else f"unknown ({res.status})"
    return {"verdict": verdict, "time": elapsed, "bound": res.bound, "objective": res.objective,
            "engine": res.engine, "latent": None if res.latent is None else [float(v) for v in res.latent]}


def recheck(inst, answer: str, model, verdict: str, latent) -> str:
    """Exact re-check of a verdict that disagrees with PySAT."""
    if verdict == "sat":
        if latent is None or len(latent) != inst.latent_dim:
            return "claimed sat without a readable witness"
        z = [Fraction(v) for v in latent]
        out = exact_output(inst.network, z)
        res = max(abs(o - t) for o, t in zip(out, inst.target))
        decoded = inst.decode(z)
        return (f"witness: exact residual {float(res):.3g} (ε = {EPSILON}); decodes to "
                f"{'a model' if inst.cnf.satisfied_by(decoded) else 'a NON-model'} → claim "
                f"{'holds within ε' if res <= EPSILON else 'WRONG'}")
    if verdict == "unsat" and answer == "SAT":
        ok = exact_output(inst.network, inst.encode(model)) == inst.target
        return f"PySAT's model maps to an exact preimage: {ok} → the unsat claim is {'WRONG' if ok else 'unrefuted'}"
    return "no claim to re-check"


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def formulas(n: int, count: int, seed: int, answers: tuple[str, ...]):
    """The first formulas of seeds ``seed + 1000·n + k`` with the wanted answers, alternating."""
    want = [answers[i % len(answers)] for i in range(count)]
    chosen = []
    for k in range(2000):
        if not want:
            break
        cnf = random_kcnf(n, ratio=RATIO, seed=seed + 1000 * n + k)
        status = solve(cnf).status
        if status in want:
            want.remove(status)
            chosen.append((cnf, seed + 1000 * n + k))
    return chosen


def run(seed: int, parts: dict, limits: dict, marabou: str | None, tmp: Path) -> list[dict]:
    rows = []
    for part, (construction, table, answers, with_marabou) in parts.items():
        limit = limits[part]
        for n, count in table.items():
            for cnf, fseed in formulas(n, count, seed, answers):
                inst = construct(cnf, construction)
                answer, t_sat, model = run_pysat(cnf)
                row = {"part": part, "construction": construction, "n": n, "m": cnf.n_clauses, "seed": fseed,
                       "answer": answer, "limit": limit, "pysat": {"verdict": answer.lower(), "time": t_sat}}
                row["milp"] = run_our_milp(inst, limit)
                if marabou is not None and with_marabou:
                    stem = tmp / inst.name
                    onnx_path, vnnlib_path = write_onnx(inst, f"{stem}.onnx"), write_vnnlib(inst, f"{stem}.vnnlib")
                    row["marabou"] = run_marabou(marabou, onnx_path, vnnlib_path, limit)
                for tool in ("milp", "marabou"):
                    if tool in row and row[tool]["verdict"] in ("sat", "unsat"):
                        agrees = row[tool]["verdict"] == answer.lower()
                        row[tool]["agrees"] = agrees
                        if not agrees:
                            row[tool]["recheck"] = recheck(inst, answer, model, row[tool]["verdict"], row[tool]["latent"])
                    if tool in row:
                        row[tool].pop("latent", None)
                rows.append(row)
                m = row.get("marabou", {})
                print(f"  {part:10s} {construction:10s} n={n:2d} seed={fseed:6d} {answer:5s} pysat {t_sat * 1e3:7.2f} ms"
                      f" | milp {row['milp']['verdict']:8s} {row['milp']['time']:7.2f} s | "
                      f"marabou {m.get('verdict', '-'):8s} {m.get('time', float('nan')):7.2f} s", flush=True)
    return rows


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else math.nan


def growth(rows: list[dict], tool: str, answer: str) -> str:
    """Least-squares fit of log(median time) against n on one answer: time ∝ b^n; report b.

    Only decided instances enter; a size where the tool decided nothing is left out (its time
    exceeds the limit, so the fit then understates the growth)."""
    ns, ts = [], []
    for n in sorted({r["n"] for r in rows}):
        rs = [r for r in rows if r["n"] == n and r["answer"] == answer and tool in r]
        times = [r[tool]["time"] for r in rs if r[tool]["verdict"] in ("sat", "unsat")]
        if times:
            ns.append(n)
            ts.append(_median(times))
    if len(ns) < 2:
        return "n/a"
    slope = np.polyfit(ns, np.log(ts), 1)[0]
    return f"×{math.exp(slope):.2f} per variable (×{math.exp(5 * slope):.1f} per +5)"


TITLES = {
    "main": "`four-layer` (paper 002 Theorem 1, Variant A; box [−1, 1]^n): PySAT vs. MILP vs. Marabou",
    "katz": "`katz` (NeuroCodeBench-style: Katz gadget + Booleanity term, one hidden layer, box [0, 1]^n)",
    "unsat-long": "`four-layer`, unsatisfiable formulas only, longer limit: how the MILP's proof time grows",
}


def _part_table(sub: list[dict], tools: list[str], marabou_cols: bool) -> list[str]:
    header = "| n | m | instances (SAT/UNSAT) | PySAT median | MILP median | MILP decided | MILP agrees |"
    sep = "|---|---|---|---|---|---|---|"
    if marabou_cols:
        header += " Marabou median | Marabou decided | Marabou agrees | Marabou timeouts/kills |"
        sep += "---|---|---|---|"
    else:
        header += " MILP bound when undecided |"
        sep += "---|"
    lines = [header, sep]
    for n in sorted({r["n"] for r in sub}):
        rs = [r for r in sub if r["n"] == n]
        n_sat = sum(r["answer"] == "SAT" for r in rs)
        cells = [str(n), str(rs[0]["m"]), f"{len(rs)} ({n_sat}/{len(rs) - n_sat})",
                 f"{_median([r['pysat']['time'] for r in rs]) * 1e3:.2f} ms"]
        for tool in tools[1:]:
            dec = [r for r in rs if r[tool]["verdict"] in ("sat", "unsat")]
            agree = sum(r[tool].get("agrees", False) for r in dec)
            cells += [f"{_median([r[tool]['time'] for r in dec]):.2f} s" if dec else "—",
                      f"{len(dec)}/{len(rs)}", f"{agree}/{len(dec)}"]
            if tool == "marabou":
                cells.append(str(sum(r[tool]["verdict"] in ("timeout", "killed") for r in rs)))
        if not marabou_cols:
            undecided = [r["milp"]["bound"] for r in rs if r["milp"]["verdict"] not in ("sat", "unsat")]
            cells.append(", ".join(f"{b:.3g}" for b in undecided) or "—")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def report(data: dict) -> str:
    rows, marabou = data["rows"], data["marabou"]
    limits = data["limits"]
    lines = [
        "# Reduction instances: PySAT vs. our MILP vs. Marabou",
        "",
        f"python {platform.python_version()}, numpy {np.__version__}; {time.strftime('%Y-%m-%d')}; "
        f"`python benchmarks/bench_reductions.py --seed {data['seed']}"
        + "".join(f" --{'time' if p == 'main' else p.split('-')[0]}-limit {v:g}" for p, v in limits.items())
        + f"`; total {data['total'] / 60:.1f} min on a "
        f"shared 2-core machine",
        "",
        f"Random 3-CNF at ratio {RATIO}, half SAT / half UNSAT per n unless said otherwise. Per-instance limits: "
        + ", ".join(f"{part} {limit:g} s" for part, limit in limits.items())
        + f" for the MILP and Marabou (Marabou gets `--timeout` = the limit and a SIGKILL {KILL_GRACE:g} s later). "
        f"VNN-LIB ε = {EPSILON}. Times are wall-clock medians over the instances a tool decided; PySAT's is the "
        f"median of 3 in-process `solve` calls (CaDiCaL 1.9.5, including solver construction).",
        "",
        data["note"],
        "",
    ]
    for part in [p for p in TITLES if any(r["part"] == p for r in rows)]:
        sub = [r for r in rows if r["part"] == part]
        with_marabou = "marabou" in sub[0]
        tools = ["pysat", "milp"] + (["marabou"] if with_marabou else [])
        lines += [f"## {TITLES[part]}", ""] + _part_table(sub, tools, with_marabou)
        lines += ["", "Growth of the median decision time with n (log-linear fit over the decided instances, "
                  "per answer):", ""]
        answers = sorted({r["answer"] for r in sub})
        for tool in tools:
            lines.append(f"* {tool}: " + "; ".join(f"{a} {growth(sub, tool, a)}" for a in answers))
        by_answer = []
        for ans in answers:
            for tool in tools[1:]:
                dec = [r[tool]["time"] for r in sub if r["answer"] == ans and r[tool]["verdict"] in ("sat", "unsat")]
                if dec:
                    by_answer.append(f"{tool} on {ans}: median {_median(dec):.2f} s over {len(dec)}")
        lines += ["", "By answer: " + ("; ".join(by_answer) or "nothing decided") + ".", ""]
    dis = [(r, t) for r in rows for t in ("milp", "marabou") if t in r and r[t].get("agrees") is False]
    lines += ["## Disagreements with PySAT", ""]
    if dis:
        for r, t in dis:
            lines.append(f"* {r['construction']} n={r['n']} seed={r['seed']} ({r['answer']}): {t} said "
                         f"{r[t]['verdict']} — {r[t]['recheck']}")
    else:
        lines.append("None: every verdict a tool gave agrees with PySAT (undecided runs — timeouts, kills — are "
                     "counted as undecided, never as answers).")
    lines += ["", "## Every instance", "", "| part | construction | n | seed | answer | PySAT | MILP | Marabou |",
              "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        mb = r.get("marabou")
        lines.append(
            f"| {r['part']} | {r['construction']} | {r['n']} | {r['seed']} | {r['answer']} | "
            f"{r['pysat']['time'] * 1e3:.2f} ms | {r['milp']['verdict']} {r['milp']['time']:.2f} s | "
            + (f"{mb['verdict']} {mb['time']:.2f} s" if mb else "—") + " |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="n ≤ 15, few instances (a smoke run; writes nothing)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per instance per tool (main part)")
    parser.add_argument("--katz-limit", type=float, default=15.0, help="seconds per instance per tool (katz part)")
    parser.add_argument("--unsat-limit", type=float, default=90.0, help="seconds per instance (unsat-long part)")
    parser.add_argument("--report-only", action="store_true", help="re-render the report from results/reductions.json")
    args = parser.parse_args()
    if args.report_only:
        text = report(json.loads((RESULTS / "reductions.json").read_text(encoding="utf-8")))
        (RESULTS / "reductions.md").write_text(text, encoding="utf-8")
        print(text)
        return 0
    parts = QUICK if args.quick else PARTS
    limits = {"main": args.time_limit, "katz": args.katz_limit, "unsat-long": args.unsat_limit}
    limits = {part: limits[part] for part in parts}
    marabou = marabou_binary()
    if marabou is None:
        note = ("**Marabou not run**: no `Marabou` binary next to this Python or on PATH "
                "(`pip install maraboupy` provides it). MILP vs. PySAT only.")
    else:
        version = subprocess.run([marabou, "--version"], capture_output=True, text=True, timeout=30).stdout.split("\n")[0]
        note = f"Marabou: `{marabou}` ({version.strip()}), single worker, reading `.onnx` + `.vnnlib`."
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        rows = run(args.seed, parts, limits, marabou, Path(tmp))
    data = {"rows": rows, "seed": args.seed, "limits": limits, "marabou": marabou, "note": note,
            "total": time.perf_counter() - start}
    text = report(data)
    print(text)
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "reductions.md").write_text(text, encoding="utf-8")
        (RESULTS / "reductions.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
