"""P(a Gaussian ReLU layer ``R^d → R^m`` is injective) vs expansion ``m/d`` and ``d``, decided exactly.

Prediction: paper 001 Lemma 1 (with Assumption 1) claims a bias-free Gaussian layer with expansion
``≥ 2.1`` is injective with high probability. Puthawala et al. (JMLR 2022) show that such layers
are *not* injective w.h.p. below expansion ≈ 3.4 and are injective w.h.p. above ≈ 10.5
(asymptotically in ``d``); ``m ≥ 2d`` is necessary. Every run is one draw decided by
:func:`injectivity_probability` (exact, with verified evidence, by
:func:`theorychk.certify.injectivity.layer_injectivity`).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from theorychk._validation import NON_NEGATIVE_INT, POSITIVE_INT, Interval, Real, check
from theorychk.experiments import Config, Experiment, register
from theorychk.experiments._common import group, pyplot, table
from theorychk.network import Layer
from theorychk.verdict import Status

COLUMNS = ("m", "injective", "not_injective", "unknown", "seconds")


def injectivity_probability(d: int, ratio: float, draws: int, seed: int, bias: bool, *,
                            time_limit: float | None = None) -> dict[str, Any]:
    """Fraction of i.i.d. N(0, 1) ReLU layers ``R^d -> R^m``, ``m = ceil(ratio * d)``, that are
    injective, decided exactly (every decision carries verified evidence).

    Draw ``i`` uses ``numpy.random.default_rng([seed, i])`` for ``W`` (and ``b ~ N(0, 1)`` if
    ``bias``), so any single draw can be re-run alone. Returns counts, the fraction among the
    decided draws, and the time per decision.

    Examples
    --------
    >>> r = injectivity_probability(2, 1.5, 3, seed=0, bias=False)
    >>> r["m"], r["injective"], r["unknown"]
    (3, 0, 0)
    """
    from theorychk.certify.injectivity import layer_injectivity  # the engine loads HiGHS: only when used

    check("d", d, [POSITIVE_INT])
    check("ratio", ratio, [Interval(Real, 0, math.inf, closed="neither")])
    check("draws", draws, [NON_NEGATIVE_INT])
    check("seed", seed, [NON_NEGATIVE_INT])
    m = math.ceil(ratio * d - 1e-9)
    counts = {Status.CERTIFIED: 0, Status.REFUTED: 0, Status.UNKNOWN: 0}
    times = []
    methods: dict[str, int] = {}
    for i in range(draws):
        rng = np.random.default_rng([seed, i])
        W = rng.standard_normal((m, d))
        b = rng.standard_normal(m) if bias else None
        t0 = time.perf_counter()
        res = layer_injectivity(Layer(W, b, "relu"), seed=i, time_limit=time_limit)
        times.append(time.perf_counter() - t0)
        counts[res.status] += 1
        methods[res.method] = methods.get(res.method, 0) + 1
    decided = counts[Status.CERTIFIED] + counts[Status.REFUTED]
    return {
        "d": d, "m": m, "ratio": ratio, "actual_ratio": m / d, "bias": bias, "draws": draws, "seed": seed,
        "injective": counts[Status.CERTIFIED], "not_injective": counts[Status.REFUTED],
        "unknown": counts[Status.UNKNOWN],
        "fraction_injective": counts[Status.CERTIFIED] / decided if decided else float("nan"),
        "mean_seconds": float(np.mean(times)) if times else 0.0,
        "max_seconds": float(np.max(times)) if times else 0.0,
        "methods": methods,
    }


def task(params: dict[str, Any], seed: int) -> list[dict[str, Any]]:
    r = injectivity_probability(int(params["d"]), float(params["ratio"]), 1, seed, bool(params["bias"]),
                                time_limit=float(params.get("time_limit", 60.0)))
    return [{"m": r["m"], "injective": r["injective"], "not_injective": r["not_injective"],
             "unknown": r["unknown"], "seconds": r["mean_seconds"]}]


def _report(rows: list[dict[str, Any]], out: Path, size: str) -> str:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ratios = sorted({r["ratio"] for r in rows})
    trows = []
    for (d, bias), drows in group(rows, "d", "bias").items():
        fr, labels = [], []
        for q in ratios:
            sel = [r for r in drows if r["ratio"] == q]
            dec = sum(r["injective"] + r["not_injective"] for r in sel)
            inj = sum(r["injective"] for r in sel)
            fr.append(inj / dec if dec else np.nan)
            labels.append(f"{inj}/{dec}" + (f" (+{len(sel) - dec} unknown)" if dec < len(sel) else ""))
        ax.plot(ratios, fr, "o-", label=f"d = {d}{', bias' if bias else ''}")
        trows.append([str(d), "yes" if bias else "no", *labels])
    for x, txt, c in ((2.0, "m = 2d (necessary)", "gray"), (2.1, "paper 001 Lemma 1: 2.1", "red"),
                      (3.4, "Puthawala: ~3.4", "blue")):
        ax.axvline(x, color=c, ls="--", lw=1)
        ax.text(x, 1.02, txt, color=c, rotation=90, va="bottom", fontsize=7)
    ax.set(xlabel="expansion m/d", ylabel="fraction injective", ylim=(-0.05, 1.3))
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(out / "injectivity.png", dpi=110)
    plt.close(fig)
    at21 = [r for r in rows if abs(r["ratio"] - 2.1) < 1e-9 and not r["bias"]]
    dec21 = sum(r["injective"] + r["not_injective"] for r in at21)
    line = (f"At Lemma 1's expansion 2.1 (bias-free, the lemma's setting): {sum(r['not_injective'] for r in at21)} "
            f"of {dec21} decided draws are **not** injective, each with an exact witness pair.\n\n") if at21 else ""
    return (
        "## Prediction\n\n"
        "Paper 001 Lemma 1: injective w.h.p. for expansion ≥ 2.1 (bias-free). Puthawala et al.: "
        "non-injective w.h.p. below ≈ 3.4, injective w.h.p. above ≈ 10.5 (asymptotic in d); m ≥ 2d "
        "necessary.\n\n## Observation\n\n![injectivity](injectivity.png)\n\n" + line
        + "Injective / decided draws per expansion (m = ceil(ratio·d)):\n\n"
        + table(["d", "bias", *[f"{q:g}" for q in ratios]], trows)
        + "\nLemma 1 as printed is contradicted (see docs/injectivity.md); the per-signal Theorem 2 is the "
          "statement that survives. Our small d are far from Puthawala's asymptotics, but the trend — "
          "the fraction falls with d at fixed expansion — is theirs.\n"
    )


register(Experiment(
    name="injectivity",
    title="Global injectivity of Gaussian ReLU layers vs expansion (paper 001 Lemma 1 vs Puthawala et al.)",
    paper="Lei et al. (001) Lemma 1; Puthawala et al., JMLR 2022",
    task=task,
    columns=COLUMNS,
    reduced=Config(grid=tuple({"d": d, "ratio": q, "bias": False} for d in (2, 3, 4)
                              for q in (1.5, 2.0, 2.1, 3.0, 4.0, 6.0)),
                   runs=20, runtime="about 5 s on 2 cores (measured)"),
    full=Config(grid=tuple({"d": d, "ratio": q, "bias": b} for d in (2, 3, 4, 5) for b in (False, True)
                           for q in (1.5, 2.0, 2.1, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0)),
                runs=50, runtime="84 s on 2 cores (measured)"),
    report=_report,
    timing_columns=("seconds",),
))
