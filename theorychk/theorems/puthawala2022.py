r"""Executable statements of Puthawala, Kothari, Lassas, Dokmanić, de Hoop, "Globally injective
ReLU networks", JMLR 23(105), 2022: the directed-spanning-set criterion (here with bias) and the
expansivity threshold ``m >= 2d``. Proofs: ``docs/injectivity.md``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import sympy
from hypothesis import strategies as st

from theorychk import exact
from theorychk.network import ReLU
from theorychk.theorems.base import Check, Report, Theorem, register
from theorychk.theorems.instances import LayerCase

__all__ = ["CRITERION", "EXPANSIVITY"]

CITATION = "Puthawala, Kothari, Lassas, Dokmanic, de Hoop, 'Globally injective ReLU networks', JMLR 23(105), 2022"
m_sym, d_sym = sympy.symbols("m d", positive=True, integer=True)


def _relu_hyp(name: str):
    def hyp(case: LayerCase) -> Report:
        return Report(name, "hypotheses", (Check("ReLU activation", isinstance(case.layer.activation, ReLU),
                                                 {"activation": case.layer.activation.spec,
                                                  "shape": case.layer.weight.shape}),))
    return hyp


def _decide(case: LayerCase) -> Any:
    from theorychk.certify.injectivity import layer_injectivity

    return layer_injectivity(case.layer, seed=0)


def _active(case: LayerCase, x: Any) -> list[int]:
    w, b = case.layer.weight, case.layer.bias
    pre = exact.matvec(w, list(x))
    bb = [Fraction(0)] * len(pre) if b is None else [exact.rational(v) for v in b]
    return [j for j, v in enumerate(pre) if v + bb[j] >= 0]


def _criterion_concl(case: LayerCase, result: Any) -> Report:
    d = case.layer.n_in
    status = result.status.value
    checks = [Check("decided (CERTIFIED or REFUTED)", status in ("CERTIFIED", "REFUTED"), {"verdict": status})]
    if status == "REFUTED":
        x, y = result.witness
        spec = [(case.layer.weight, case.layer.bias, "relu")]
        same = exact.forward(spec, list(x))[-1] == exact.forward(spec, list(y))[-1] and tuple(x) != tuple(y)
        mid = [(a + b) / 2 for a, b in zip(x, y)]
        rows = _active(case, mid)
        rk = exact.rank(case.layer.weight[rows]) if rows else 0
        checks.append(Check("witness: x != x', ReLU(Wx+b) = ReLU(Wx'+b) (exact)", same, {"x": list(x), "x_prime": list(y)}))
        checks.append(Check("S((x+x')/2) does not span R^d (criterion, exact rank)", rk < d, {"rank": rk, "d": d}))
    elif status == "CERTIFIED":
        rng = np.random.default_rng(0)
        worst = d
        for _ in range(64):
            x = [Fraction(int(v), 8) for v in rng.integers(-16, 17, d)]
            rows = _active(case, x)
            worst = min(worst, exact.rank(case.layer.weight[rows]) if rows else 0)
        checks.append(Check("S(x) spans R^d at 64 probe points (exact rank)", worst == d, {"min_rank": worst, "d": d}))
    return Report("puthawala2022.criterion", "conclusion", tuple(checks))


@st.composite
def small_layers(draw: st.DrawFn, *, bias: bool | None = None) -> LayerCase:
    from theorychk.testing.strategies import relu_layers

    d = draw(st.integers(1, 3))
    return LayerCase(draw(relu_layers(rows=(d, 2 * d + 2), cols=d, bias=bias, entries="integer")))


CRITERION = register(Theorem(
    name="puthawala2022.criterion",
    citation=CITATION + ", directed spanning sets (with bias: docs/injectivity.md §1)",
    title="Injectivity criterion for a ReLU layer",
    printed="x -> ReLU(Wx + b) is injective iff for every x the rows {w_j : <w_j, x> + b_j >= 0} span R^d.",
    status="holds",
    changes="Stated in the paper for bias-free layers; the proof carries over with bias. The inequality must be "
            ">= 0 (with > 0 and b = 0 it fails at x = 0 for every W).",
    hypotheses=_relu_hyp("puthawala2022.criterion"), conclusion=_criterion_concl, run=_decide,
    instances=lambda: small_layers(bias=None),
))


def _exp_concl(case: LayerCase, result: Any) -> Report:
    m, d = case.layer.weight.shape
    status = result.status.value
    need = EXPANSIVITY.evaluate_bound({"d": d})
    holds = True if status == "REFUTED" else (m >= need if status == "CERTIFIED" else None)
    return Report("puthawala2022.expansivity", "conclusion", (
        Check("injective implies m >= 2d", holds, {"verdict": status, "m": m, "d": d, "2d": need}),))


EXPANSIVITY = register(Theorem(
    name="puthawala2022.expansivity",
    citation=CITATION + ", expansivity (m >= 2d necessary; Gaussian thresholds ~3.4 / ~10.5 in the abstract)",
    title="An injective ReLU layer R^d -> R^m has m >= 2d",
    printed="A bias-free injective ReLU layer needs m >= 2d rows ([B; -B] shows 2d suffices); i.i.d. Gaussian "
            "layers are non-injective w.h.p. below expansion ~3.4 and injective w.h.p. above ~10.5.",
    status="holds",
    changes="Holds with bias too (S(Rv) and S(-Rv) split the nonzero rows for large R). The Gaussian thresholds "
            "are asymptotic and are measured, not checked per instance (docs/injectivity.md).",
    hypotheses=_relu_hyp("puthawala2022.expansivity"), conclusion=_exp_concl, run=_decide,
    instances=lambda: small_layers(bias=None), bound=2 * d_sym, symbols={"d": "input dimension"},
))
