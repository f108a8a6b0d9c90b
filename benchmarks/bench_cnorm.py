"""c_inf / c_1 / mu_s: the per-signal helpers, the exact global methods against the naive ones, scale.

    python benchmarks/bench_cnorm.py              # per-signal helpers + exact methods vs baselines
    python benchmarks/bench_cnorm.py --scale      # largest n solved exactly within 60 s, k = 2, 3, 4

Per-signal: ``c_inf_of_rows`` / ``c_1_of_rows`` on random row sets of size 30, 40, 60 of a
200 x 20 Gaussian matrix (the active rows a certifier sees for a 20-dimensional latent code),
median wall-clock and CPU milliseconds over the repetitions.

Baselines (the methods the issue names for "small cases"): c_inf and c_1 by exhausting the
``C(n, m)`` row sets with the exact fixed-row computation (``method="row_sets"``); mu_s by
enumerating all ``C(n, s)`` row sets in float64 (``mu`` of each ``W^S``, no pruning, no exactness).
Ratios are baseline time / theorychk time on the same instance.

Scale: Gaussian ``n x k`` matrices (seed 0), ``m = s = n // 2`` (about the number of active ReLU
units); ``n`` grows by 25 % until a run fails to finish exactly within the budget. Results go to
``benchmarks/results/cnorm.md`` (the ``--scale`` table is appended in its own section).
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from pathlib import Path

import numpy as np

from theorychk.invariants.cnorm import c_1, c_1_of_rows, c_inf, c_inf_of_rows
from theorychk.invariants.mu_s import coherence_s
from theorychk.verdict import Status

RESULTS = Path(__file__).resolve().parent / "results"


def clocked(f, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    out = f(*args, **kwargs)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def per_signal(reps: int) -> list[str]:
    rng = np.random.default_rng(0)
    w = rng.standard_normal((200, 20))
    lines = [
        "## Per-signal helpers (200 x 20 Gaussian W, k = 20)",
        "",
        "| helper | rows | median wall ms | median CPU ms | max wall ms | exact | median gap (upper/lower) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, f in (("c_inf_of_rows", c_inf_of_rows), ("c_1_of_rows", c_1_of_rows)):
        for size in (30, 40, 60):
            walls, cpus, exact, gaps = [], [], 0, []
            for _ in range(reps if name == "c_inf_of_rows" else max(3, reps // 4)):
                rows = rng.choice(200, size=size, replace=False)
                res, wall, cpu = clocked(f, w, rows)
                walls.append(wall)
                cpus.append(cpu)
                exact += res.status is Status.CERTIFIED
                if res.lower.value > 0:
                    gaps.append(float(res.upper.value / res.lower.value))
            lines.append(
                f"| `{name}` | {size} | {1e3 * np.median(walls):.1f} | {1e3 * np.median(cpus):.1f} | "
                f"{1e3 * max(walls):.1f} | {exact}/{len(walls)} | {np.median(gaps):.4f} |"
            )
            print(lines[-1], flush=True)
    return lines


def naive_mu_s(w: np.ndarray, s: int) -> float:
    best = 0.0
    for rows in itertools.combinations(range(w.shape[0]), s):
        sub = w[list(rows)]
        norms = np.linalg.norm(sub, axis=0)
        g = np.abs(sub.T @ sub) / np.outer(norms, norms)
        np.fill_diagonal(g, 0.0)
        best = max(best, float(g.max()))
    return best


def versus_baselines() -> list[str]:
    lines = [
        "## Exact global methods against the naive ones (CPU seconds)",
        "",
        "| invariant | n x k, m or s | theorychk method | theorychk s | baseline | baseline s | ratio "
        "| agree |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rng = np.random.default_rng(1)
    for n, k in ((12, 2), (12, 3), (14, 3), (16, 2)):
        w = rng.standard_normal((n, k))
        m = n // 2
        for name, f, method in (("c_inf", c_inf, "vertices"), ("c_1", c_1, "kernels")):
            fast, _, t_fast = clocked(f, w, m, method=method, quiet=True)
            slow, _, t_slow = clocked(f, w, m, method="row_sets", max_row_sets=10**9, quiet=True)
            agree = fast.value == slow.value and fast.status is Status.CERTIFIED
            lines.append(
                f"| {name} | {n} x {k}, m = {m} | {method} | {t_fast:.3f} | row_sets (C(n,m) = "
                f"{math.comb(n, m)}) | {t_slow:.2f} | {t_slow / max(t_fast, 1e-9):.0f} | {agree} |"
            )
            print(lines[-1], flush=True)
        res, _, t_fast = clocked(coherence_s, w, m, quiet=True)
        naive, t_slow = None, 0.0
        start = time.process_time()
        naive = naive_mu_s(w, m)
        t_slow = time.process_time() - start
        agree = abs(naive - float(res.lower.value)) < 1e-9 and res.status is Status.CERTIFIED
        lines.append(
            f"| mu_s | {n} x {k}, s = {m} | branch and bound | {t_fast:.3f} | all C(n,s) subsets, float | "
            f"{t_slow:.2f} | {t_slow / max(t_fast, 1e-9):.0f} | {agree} |"
        )
        print(lines[-1], flush=True)
    return lines


def scale(budget: float) -> list[str]:
    lines = [
        f"## Scale: largest n solved exactly within {budget:.0f} s (Gaussian W, m = s = n // 2)",
        "",
        "| invariant | k | largest n exact | its wall s | next n tried | outcome |",
        "|---|---|---|---|---|---|",
    ]
    runs = {
        "c_inf": lambda w, t: c_inf(w, w.shape[0] // 2, method="vertices", time_limit=t, quiet=True,
                                    max_candidates=10**12),
        "c_1": lambda w, t: c_1(w, w.shape[0] // 2, method="kernels", time_limit=t, quiet=True,
                                max_candidates=10**12),
        "mu_s": lambda w, t: coherence_s(w, w.shape[0] // 2, time_limit=t, quiet=True, max_nodes=10**12),
    }
    starts = {"c_inf": {2: 40, 3: 16, 4: 10}, "c_1": {2: 200, 3: 60, 4: 24}, "mu_s": {2: 20, 3: 20, 4: 20}}
    for name, run in runs.items():
        for k in (2, 3, 4):
            n, best, best_t, last = starts[name][k], None, None, ""
            while True:
                w = np.random.default_rng(0).standard_normal((n, k))
                res, wall, _ = clocked(run, w, budget)
                print(f"  {name} k={k} n={n}: {res.status.value} {res.reason} {wall:.1f}s", flush=True)
                if res.status is not Status.CERTIFIED:
                    last = f"{n}: {res.reason} ({wall:.0f} s)"
                    break
                best, best_t = n, wall
                n = max(n + 2, int(math.ceil(n * 1.25)))
            lines.append(f"| {name} | {k} | {best if best is not None else '-'} | "
                         f"{best_t if best_t is not None else float('nan'):.1f} | {last} | UNKNOWN past it |")
            print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", action="store_true", help="largest n solved exactly within --budget")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per run in --scale mode")
    parser.add_argument("--reps", type=int, default=20, help="repetitions per per-signal size")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "cnorm.md"
    if args.scale:
        lines = scale(args.budget)
        text = out.read_text() if out.exists() else "# c_inf, c_1, mu_s benchmarks\n"
        marker = lines[0].split(":")[0]
        text = text.split(marker)[0].rstrip() + "\n\n" + "\n".join(lines) + "\n"
        out.write_text(text)
    else:
        head = ["# c_inf, c_1, mu_s benchmarks", "", f"Run with `python benchmarks/bench_cnorm.py` on "
                f"{time.strftime('%Y-%m-%d')}; 2 shared cores.", ""]
        lines = head + per_signal(args.reps) + [""] + versus_baselines()
        old = out.read_text() if out.exists() else ""
        keep = old[old.index("## Scale"):] if "## Scale" in old else ""
        out.write_text("\n".join(lines) + "\n" + ("\n" + keep if keep else ""))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
