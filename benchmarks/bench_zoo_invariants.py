"""Every matrix invariant on every layer of the zoo networks, with a time limit per computation.

    python benchmarks/bench_zoo_invariants.py                 # 10 s per invariant and layer
    python benchmarks/bench_zoo_invariants.py --time-limit 2  # a quick pass

For each layer weight ``W`` (``n x k``, our shape convention: rows are units) of every network in
:func:`theorychk.zoo.names`: ``spark(W)``, ``sub_rank(W, s)``, ``sub_spark(W, s)``,
``coherence(W)``, ``coherence_s(W, s)`` (``mu_s``), ``c_inf(W, s)`` and ``c_1(W, s)`` at
``s = ceil(n / 2)`` — a ReLU activation pattern has about half the units on. Each result is its
exact value or the proven bracket ``[lower, upper]``, the bound gap (``upper - lower`` for the
integer invariants; ``upper / lower`` for the real ones, ``inf`` when the lower bound is 0),
status and reason, and wall seconds. ``coherence`` is polynomial and takes no time limit.

Results go to ``benchmarks/results/zoo_invariants.md``.
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from datetime import date
from fractions import Fraction
from pathlib import Path

import numpy as np

from theorychk import zoo
from theorychk.invariants import c_1, c_inf, coherence, coherence_s, spark, sub_rank, sub_spark
from theorychk.invariants.result import InvariantResult
from theorychk.verdict import Status

RESULTS = Path(__file__).resolve().parent / "results"
INTEGER = ("spark", "sub_rank", "sub_spark")


def show(v: object) -> str:
    if isinstance(v, Fraction) and v.denominator != 1:
        return f"{float(v):.6g}"
    return str(v)


def gap(name: str, r: InvariantResult) -> str:
    if r.exact:
        return "0" if name in INTEGER else "1"
    if name in INTEGER:
        return str(r.upper.value - r.lower.value)
    if r.lower.value <= 0:
        return "inf"
    return f"{float(Fraction(r.upper.value) / Fraction(r.lower.value)):.4g}"


def run(limit: float) -> list[str]:
    lines = [
        "# Matrix invariants of the zoo networks",
        "",
        f"python {platform.python_version()}, numpy {np.__version__}, 2 shared cores; {date.today()}; "
        f"`python benchmarks/bench_zoo_invariants.py --time-limit {limit:g}`",
        "",
        f"Time limit {limit:g} s (wall) per invariant and layer; `s = ceil(n / 2)` for an `n x k` weight. "
        "Value: exact (rationals shown to 6 digits; `mu` and `mu_s` are rational brackets of width "
        "< 2^-64 around an irrational value) or the proven `[lower, upper]`. Gap: `upper - lower` "
        "for spark, sub_rank, sub_spark; `upper / lower` for the real-valued ones.",
        "",
        "| net | layer | n x k | s | invariant | value | gap | status | reason | s (wall) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for net_name in zoo.names():
        net = zoo.load(net_name)
        for i, layer in enumerate(net.layers):
            w = layer.weight
            n, k = w.shape
            s = math.ceil(n / 2)
            jobs = [
                ("spark", lambda: spark(w, time_limit=limit)),
                ("sub_rank", lambda: sub_rank(w, s, time_limit=limit)),
                ("sub_spark", lambda: sub_spark(w, s, time_limit=limit)),
                ("coherence", lambda: coherence(w)),
                ("mu_s", lambda: coherence_s(w, s, time_limit=limit)),
                ("c_inf", lambda: c_inf(w, s, time_limit=limit)),
                ("c_1", lambda: c_1(w, s, time_limit=limit)),
            ]
            for name, job in jobs:
                start = time.perf_counter()
                r = job()
                wall = time.perf_counter() - start
                if name in ("coherence", "mu_s") and r.status is Status.CERTIFIED:
                    value = f"{float(r.lower.value):.6g}"  # a certified bracket of width < 2^-64
                elif r.exact:
                    value = show(r.value)
                else:
                    value = f"[{show(r.lower.value)}, {show(r.upper.value)}]"
                lines.append(
                    f"| {net_name} | {i} | {n} x {k} | {s} | {name} | {value} | {gap(name, r)} | "
                    f"{r.status.value} | {r.reason or '-'} | {wall:.2f} |"
                )
                print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0)
    args = parser.parse_args()
    lines = run(args.time_limit)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "zoo_invariants.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
