"""Probability that a Gaussian ReLU layer is injective, against paper 001's Lemma 1 and Puthawala et al.

For ``d`` in {2, 3, 4, 5} and expansion ``m/d`` in {1.5, 2, 2.1, 2.5, 3, 3.5, 4, 5, 6}
(``m = ceil(ratio * d)``), draws i.i.d. N(0, 1) weights (bias-free, and with an N(0, 1) bias) and
decides injectivity *exactly* with :func:`theorychk.certify.injectivity.layer_injectivity`: every
"not injective" carries an exact witness pair, every "injective" exact Farkas certificates for
all candidate hyperplanes (both re-verified by the checker's code before they are counted).

Baselines side by side: paper 001 (Lemma 1 under Assumption 1) claims injectivity with high
probability once ``m >= 2.1 d``; Puthawala et al. (JMLR 2022) put the threshold for Gaussian
layers between about 3.4 and 10.5 (asymptotically); ``m >= 2d`` is necessary.

Run: ``python benchmarks/bench_injectivity.py [--draws N] [--quick]``; writes
``benchmarks/results/injectivity.md``. Each cell's seed is in the table; draw ``i`` of a cell
re-runs alone as ``numpy.random.default_rng([seed, i])`` (see ``injectivity_probability``).
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

from theorychk.certify.injectivity import LEMMA1_RATIO, PUTHAWALA_LOWER, PUTHAWALA_UPPER
from theorychk.experiments.injectivity import injectivity_probability

RATIOS = (1.5, 2.0, 2.1, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0)
DIMS = (2, 3, 4, 5)


def cell_seed(d: int, ratio: float, bias: bool) -> int:
    return 10_000 * d + int(round(ratio * 10)) * 10 + int(bias)


def regime(ratio: float) -> str:
    lemma = "claims inj." if ratio >= LEMMA1_RATIO else "-"
    if ratio < 2:
        put = "never (m < 2d)"
    elif ratio < PUTHAWALA_LOWER:
        put = "non-inj. w.h.p. (large d)"
    elif ratio < PUTHAWALA_UPPER:
        put = "between bounds"
    else:
        put = "inj. w.h.p."
    return f"{lemma} | {put}"


def fmt_p(r: dict) -> str:
    decided = r["injective"] + r["not_injective"]
    s = f"{r['injective']}/{decided} = {r['injective'] / decided:.2f}" if decided else "n/a"
    return s + (f" ({r['unknown']} unknown)" if r["unknown"] else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=50)
    ap.add_argument("--draws-d5", type=int, default=30, help="draws per cell for d = 5 (the slow cells)")
    ap.add_argument("--quick", action="store_true", help="5 draws per cell, for a smoke run")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "injectivity.md"))
    args = ap.parse_args()
    start = time.perf_counter()
    rows = []
    for d in DIMS:
        for ratio in RATIOS:
            cell = {}
            for bias in (False, True):
                draws = 5 if args.quick else (args.draws_d5 if d == 5 else args.draws)
                cell[bias] = injectivity_probability(d, ratio, draws, cell_seed(d, ratio, bias), bias)
            rows.append((d, ratio, cell))
            r0, r1 = cell[False], cell[True]
            ms0, ms1 = r0["mean_seconds"] * 1e3, r1["mean_seconds"] * 1e3
            print(f"d={d} ratio={ratio} m={r0['m']}: bias-free {fmt_p(r0)} ({ms0:.0f} ms), "
                  f"bias {fmt_p(r1)} ({ms1:.0f} ms)", flush=True)
    total = time.perf_counter() - start
    slowest = max(c[b]["max_seconds"] for _, _, c in rows for b in (False, True))

    lines = [
        "# Injectivity of Gaussian ReLU layers (exact decisions)",
        "",
        "`python benchmarks/bench_injectivity.py` — every decision is exact: \"not injective\" comes with",
        "an exact rational witness pair `x != x'`, `ReLU(Wx+b) == ReLU(Wx'+b)`; \"injective\" with the",
        "exact rank and a Farkas certificate for every candidate hyperplane (re-verified by the",
        "checker's code).",
        "W has i.i.d. N(0,1) entries; \"bias\" adds b ~ N(0,1). m = ceil(ratio * d).",
        "",
        "Baselines: paper 001 (Lemma 1 + Assumption 1) claims \"injective w.h.p.\" for bias-free Gaussian",
        f"layers with m >= {LEMMA1_RATIO} d; Puthawala et al. (JMLR 2022): non-injective w.h.p. below about",
        f"{PUTHAWALA_LOWER}, injective w.h.p. above about {PUTHAWALA_UPPER} (asymptotic in d);",
        "m >= 2d is necessary.",
        "",
        "| d | ratio | m | P(injective) bias-free | P(injective) with bias | ms/decision (free / bias) "
        "| paper 001 Lemma 1 | Puthawala et al. | seeds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for d, ratio, cell in rows:
        r0, r1 = cell[False], cell[True]
        lines.append(
            f"| {d} | {ratio} | {r0['m']} | {fmt_p(r0)} | {fmt_p(r1)} | "
            f"{r0['mean_seconds'] * 1e3:.0f} / {r1['mean_seconds'] * 1e3:.0f} | {regime(ratio)} | "
            f"{r0['seed']}, {r1['seed']} |")
    # The Lemma 1 rows, pooled.
    lemma = [(cell[b]) for d, ratio, cell in rows if ratio == LEMMA1_RATIO for b in (False, True)]
    non = sum(r["not_injective"] for r in lemma)
    tot = sum(r["injective"] + r["not_injective"] for r in lemma)
    free = [cell[False] for d, ratio, cell in rows if ratio == LEMMA1_RATIO]
    non_free = sum(r["not_injective"] for r in free)
    tot_free = sum(r["injective"] + r["not_injective"] for r in free)
    lines += [
        "",
        f"**At Lemma 1's expansion 2.1**: {non}/{tot} draws ({non / tot:.1%}) are *not* injective, each",
        f"with an exact witness pair (bias-free, Lemma 1's exact setting: {non_free}/{tot_free} = "
        f"{non_free / tot_free:.1%}).",
        "",
        f"Total {total:.0f} s on {platform.machine()} / Python {platform.python_version()} (single process);",
        f"max time per decision: {slowest:.2f} s.",
        "",
    ]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines))
    print(f"wrote {args.out} in {total:.0f} s")


if __name__ == "__main__":
    main()
