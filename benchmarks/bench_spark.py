"""Spark: theorychk's exact search against toqito's algorithm, and the scale of the exact methods.

    python benchmarks/bench_spark.py            # m = 6..14, 2 planted + 2 full-spark cases per m
    python benchmarks/bench_spark.py --quick    # m = 6..10, one case of each kind
    python benchmarks/bench_spark.py --scale    # largest m solved exactly within 60 s

The baseline is toqito's ``matrix_props/spark.py`` algorithm written out plainly here: every column
subset in increasing size, ``np.linalg.matrix_rank`` (float SVD, default tolerance) per subset,
first rank drop wins. Instances are random integer ``m x 2m`` matrices with entries in [-3, 3]:
"planted" ones get a dependency on ``ceil(m/2) + 1`` random columns, "full" ones are resampled
until their spark is ``m + 1``. Times are CPU seconds (``time.process_time``): the machine is
shared, and CPU time is what the two algorithms cost. The baseline gets a budget per case; past it,
its time is extrapolated from its measured time per subset and the number of subsets it must
visit (``sum_{k < spark} C(n, k) + 1``) — a lower estimate, since larger subsets cost more per
rank than the small ones it reached.

Results go to ``benchmarks/results/spark.md`` (comparison) and ``spark_scale.md`` (``--scale``).
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from pathlib import Path

import numpy as np

from theorychk.invariants.spark import spark
from theorychk.invariants.subrank import sub_rank, sub_spark
from theorychk.verdict import Status

RESULTS = Path(__file__).resolve().parent / "results"


def baseline_spark(a: np.ndarray, budget: float) -> tuple[int | None, float, int]:
    """toqito's algorithm: ``(spark or None if over budget, CPU seconds, subsets checked)``."""
    af = np.asarray(a, dtype=np.float64)
    n = af.shape[1]
    start = time.process_time()
    calls = 0
    for k in range(1, n + 1):
        for cols in itertools.combinations(range(n), k):
            calls += 1
            if np.linalg.matrix_rank(af[:, cols]) < k:
                return k, time.process_time() - start, calls
            if calls % 512 == 0 and time.process_time() - start > budget:
                return None, time.process_time() - start, calls
    return n + 1, time.process_time() - start, calls


def timed(f, *args, **kwargs):
    start = time.process_time()
    out = f(*args, **kwargs)
    return out, time.process_time() - start


def full_spark_instance(m: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A random m x 2m matrix in [-3, 3] whose spark is m + 1 (resampled), and our CPU time on it."""
    for _ in range(50):
        a = rng.integers(-3, 4, size=(m, 2 * m))
        r, t = timed(spark, a)
        if r.value == m + 1:
            return a, t
    raise RuntimeError(f"no full-spark sample for m={m}")


def planted_instance(m: int, rng: np.random.Generator) -> np.ndarray:
    a = rng.integers(-3, 4, size=(m, 2 * m))
    k = math.ceil(m / 2) + 1
    cols = rng.choice(2 * m, size=k, replace=False)
    coef = rng.choice([-2, -1, 1, 2], size=k - 1)
    a[:, cols[-1]] = a[:, cols[:-1]] @ coef
    return a


def compare(ms: list[int], per_kind: int, budget: float, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    lines = [
        f"Seed {seed}; baseline budget {budget:g} CPU s per case (beyond it: extrapolated, marked ~).",
        "",
        "| m | n | kind | spark | ours (CPU s) | baseline (CPU s) | speedup | baseline answer |",
        "|---|---|---|---|---|---|---|---|",
    ]
    summary = []
    for m in ms:
        ours_total = base_total = 0.0
        for kind in ["planted"] * per_kind + ["full"] * per_kind:
            if kind == "planted":
                a = planted_instance(m, rng)
                r, t_ours = timed(spark, a)
            else:
                a, _ = full_spark_instance(m, rng)
                r, t_ours = timed(spark, a)
            assert r.status is Status.CERTIFIED and r.exact
            got, t_base, calls = baseline_spark(a, budget)
            if got is None:
                need = sum(math.comb(2 * m, k) for k in range(1, r.value)) + 1
                t_base = t_base / calls * need
                shown, answer = f"~{t_base:.1f}", "(over budget)"
            else:
                shown, answer = f"{t_base:.3f}", str(got) + ("" if got == r.value else " **wrong**")
            ours_total += t_ours
            base_total += t_base
            lines.append(f"| {m} | {2 * m} | {kind} | {r.value} | {t_ours:.3f} | {shown} | "
                         f"{t_base / t_ours:.0f}x | {answer} |")
            print(lines[-1], flush=True)
        summary.append(f"| {m} | {ours_total:.3f} | {base_total:.1f} | {base_total / ours_total:.0f}x |")
    lines += ["", "Per m (sum over its cases):", "", "| m | ours (CPU s) | baseline (CPU s) | speedup |",
              "|---|---|---|---|", *summary]
    return lines


def float_failures() -> list[str]:
    """Matrices on which the baseline's float rank decisions are wrong; ours are checked exactly."""
    big = 2**53
    rng = np.random.default_rng(1)
    cases = []
    # 1. Two columns with det = -1 at 2^53: float64 rounds 2^53 + 1 to 2^53 and the SVD tolerance
    #    calls them dependent. Embedded in a random 6 x 10 matrix.
    a = rng.integers(-3, 4, size=(6, 10)).astype(object)
    a[:, :2] = 0
    a[:2, :2] = [[big + 1, big], [big, big - 1]]
    cases.append(("2x2 block near 2^53 in a random 6x10", a))
    # 2. Same at 2^60 with a third column making the float picture worse.
    b = rng.integers(-3, 4, size=(5, 8)).astype(object)
    b[:, :3] = 0
    b[:3, :3] = [[2**60 + 1, 2**60, 1], [2**60, 2**60 - 1, 1], [0, 0, 1]]
    cases.append(("3 columns near 2^60 in a random 5x8", b))
    # 3. Exact dyadic floats that are badly scaled: independent as stored, rank 1 to the SVD.
    c = np.array([[1.0, 1.0, 0.0, 1.0], [0.0, 2.0**-60, 1.0, 1.0], [1.0, 1.0, 1.0, 3.0]])
    cases.append(("dyadic floats, one entry 2^-60", c))
    lines = ["| case | ours (exact) | ours' witness / evidence | baseline (float) |", "|---|---|---|---|"]
    for name, mat in cases:
        r = spark(mat)
        base, _, _ = baseline_spark(np.array(mat, dtype=np.float64), 10.0)
        ev = r.witness.get("columns", r.upper.method)
        lines.append(f"| {name} | {r.value} | {ev} | {base}{' **wrong**' if base != r.value else ''} |")
        print(lines[-1], flush=True)
    return lines


def scale(limit: float, seed: int) -> list[str]:
    """Largest m solved exactly within ``limit`` seconds (wall clock, the time_limit honoured)."""
    lines = [f"Random integer matrices, entries in [-9, 9], seed {seed}; time_limit={limit:g} s (wall).", "",
             "| invariant | instance | m | value | status | wall s |", "|---|---|---|---|---|---|"]
    best = {}
    jobs = [
        ("spark", "m x 2m", lambda a, m: spark(a, time_limit=limit), lambda m: (m, 2 * m), 9),
        ("sub_rank", "2m x m, s = m", lambda a, m: sub_rank(a, m, time_limit=limit), lambda m: (2 * m, m), 9),
        ("sub_spark", "2m x m, s = m", lambda a, m: sub_spark(a, m, time_limit=limit),
         lambda m: (2 * m, m), 6),
    ]
    for name, desc, run, shape, m in jobs:
        rng = np.random.default_rng(seed)
        while True:
            a = rng.integers(-9, 10, size=shape(m))
            start = time.perf_counter()
            r = run(a, m)
            wall = time.perf_counter() - start
            value = r.value if r.exact else f"[{r.lower.value}, {r.upper.value}]"
            status = f"{r.status} ({r.reason})" if r.reason else str(r.status)
            lines.append(f"| {name} | {desc} | {m} | {value} | {status} | {wall:.1f} |")
            print(lines[-1], flush=True)
            if not (r.status is Status.CERTIFIED and r.exact) or wall > limit:
                break
            best[name] = m
            m += 1
    lines += ["", "Largest m solved exactly within the limit: "
              + ", ".join(f"{k} m = {v}" for k, v in best.items()) + "."]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="m = 6..10, one case of each kind")
    parser.add_argument("--scale", action="store_true", help="largest m solved within 60 s")
    parser.add_argument("--budget", type=float, default=None, help="baseline CPU seconds per case")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    flags = "".join(f" --{k}" for k in ("quick", "scale") if getattr(args, k))
    header = ["", f"python {sys.version.split()[0]}, numpy {np.__version__}, 2 shared cores; "
              f"{time.strftime('%Y-%m-%d')}; `python benchmarks/bench_spark.py{flags}`", ""]
    if args.scale:
        out = ["# Spark, sub-rank, sub-spark: scale of the exact methods", *header, *scale(60.0, args.seed)]
        (RESULTS / "spark_scale.md").write_text("\n".join(out) + "\n")
        return 0
    ms = list(range(6, 11)) if args.quick else list(range(6, 15))
    per_kind = 1 if args.quick else 2
    budget = args.budget if args.budget is not None else (3.0 if args.quick else 15.0)
    out = ["# Spark: theorychk vs. toqito's algorithm", *header,
           "## Random integer m x 2m matrices", "", *compare(ms, per_kind, budget, args.seed), "",
           "## Where the baseline's float rank decisions are wrong", "", *float_failures()]
    (RESULTS / ("spark_quick.md" if args.quick else "spark.md")).write_text("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
