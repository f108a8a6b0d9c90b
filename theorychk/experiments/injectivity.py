"""P(a Gaussian ReLU layer ``R^d → R^m`` is injective) vs expansion ``m/d`` and ``d``, decided exactly.

Prediction: paper 001 Lemma 1 (with Assumption 1) claims a bias-free Gaussian layer with expansion
``≥ 2.1`` is injective with high probability. Puthawala et al. (JMLR 2022) show that such layers
are *not* injective w.h.p. below expansion ≈ 3.4 and are injective w.h.p. above ≈ 10.5
(asymptotically in ``d``); ``m ≥ 2d`` is necessary. Every run is one draw decided by
:func:`theorychk.certify.injectivity.injectivity_probability` (exact, with verified evidence).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from theorychk.experiments import Config, Experiment, register
from theorychk.experiments._common import group, pyplot, table

COLUMNS = ("m", "injective", "not_injective", "unknown", "seconds")


def task(params: dict[str, Any], seed: int) -> list[dict[str, Any]]:
    from theorychk.certify.injectivity import injectivity_probability

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
