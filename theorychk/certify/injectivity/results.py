"""The results of the injectivity engine, the expansion thresholds they are compared with, and
the float tolerances the engine records.

:class:`LayerInjectivity` and :class:`NetworkInjectivity` are frozen; ``claims`` turns them into
the ``layer_injective`` / ``network_injective`` claims of a certificate, ``to_dict`` into JSON and
:meth:`NetworkInjectivity.summary` into the rows of the CLI's table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from theorychk._validation import POSITIVE_INT, check
from theorychk.verdict import Status, jsonable

#: Paper 001, Assumption 1 + Lemma 1: i.i.d. Gaussian ``W`` with ``m >= 2.1 d`` claimed injective w.h.p.
LEMMA1_RATIO = 2.1
#: Puthawala et al. [1], abstract: i.i.d. Gaussian bias-free layers are non-injective w.h.p.
#: below expansion about 3.4 and injective w.h.p. above about 10.5 (asymptotically in ``d``).
PUTHAWALA_LOWER = 3.4
PUTHAWALA_UPPER = 10.5

#: Tolerances of the float stages (recorded in every result; none of them decides a verdict).
TOLERANCES = {
    "lp_margin": 1e-9,  # t* above this: try the primal witness first
    "dual_support": 1e-9,  # relative size of a dual value to enter the certificate's support
    "sample_rank": 1e-9,  # relative singular value below which a sampled active set looks singular
    "highs_primal_feasibility_tolerance": 1e-9,
    "highs_dual_feasibility_tolerance": 1e-9,
}


def thresholds(m: int, d: int, *, has_bias: bool, relu: bool = True) -> dict[str, Any]:
    """How the expansion ``m / d`` of a ReLU layer compares with the known thresholds.

    * ``m >= 2d`` is necessary for injectivity on ``R^d``, with or without bias: for a direction
      ``v`` with no nonzero row orthogonal to it, ``S(R v)`` and ``S(-R v)`` (``R`` large) use
      disjoint sets of nonzero rows, so one of them has fewer than ``d``.
    * Paper 001, Lemma 1 claims injectivity w.h.p. for Gaussian bias-free ``W`` with ``m >= 2.1 d``.
    * Puthawala et al.: non-injective w.h.p. below about 3.4, injective w.h.p. above about 10.5.
    """
    check("m", m, [POSITIVE_INT])
    check("d", d, [POSITIVE_INT])
    ratio = m / d
    if not relu:
        regime = "invertible activation: injective iff rank W = d (expansion thresholds do not apply)"
    elif m < 2 * d:
        regime = "below 2: never injective on R^d"
    elif ratio < PUTHAWALA_LOWER:
        regime = "2 to 3.4: Gaussian layers non-injective w.h.p. for large d (Puthawala et al.)"
    elif ratio < PUTHAWALA_UPPER:
        regime = "3.4 to 10.5: between Puthawala et al.'s bounds"
    else:
        regime = "above 10.5: Gaussian layers injective w.h.p. (Puthawala et al.)"
    return {
        "expansion": ratio,
        "necessary_m_ge_2d": (m >= 2 * d) if relu else None,
        "lemma1_paper001_claims_injective": relu and (not has_bias) and ratio >= LEMMA1_RATIO,
        "puthawala_lower": PUTHAWALA_LOWER,
        "puthawala_upper": PUTHAWALA_UPPER,
        "regime": regime,
    }


Pair = tuple[tuple[Fraction, ...], tuple[Fraction, ...]]


class _Verdict:
    """``injective``: True when CERTIFIED, False when REFUTED, None when UNKNOWN."""

    status: Status

    @property
    def injective(self) -> bool | None:
        return {Status.CERTIFIED: True, Status.REFUTED: False}.get(self.status)


@dataclass(frozen=True)
class LayerInjectivity(_Verdict):
    """The verdict on one layer: CERTIFIED injective, REFUTED (with ``witness``) or UNKNOWN.

    ``evidence`` is the JSON-ready evidence of the claim (rationals as ``"p/q"``);
    ``evidence_kind`` is ``"exact"`` (re-verifiable) or ``"solver"`` (MILP-proven). ``bounds``
    holds the best bounds of the large-size path (half-space depth, sub-rank); ``stats`` the
    work done (hyperplanes, LPs, Farkas certificates, samples).
    """

    status: Status
    method: str
    reason: str
    layer: int | None
    shape: tuple[int, int]
    activation: str
    has_bias: bool
    thresholds: dict[str, Any]
    witness: Pair | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    evidence_kind: str = "exact"
    domain: dict[str, Any] | None = None
    bounds: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    tolerances: dict[str, float] = field(default_factory=dict)
    seed: int | None = None
    elapsed: float = 0.0

    @property
    def expansion(self) -> float:
        return self.shape[0] / self.shape[1]

    @property
    def claims(self) -> list[dict[str, Any]]:
        """The ``layer_injective`` claim of this result, for a certificate."""
        claim: dict[str, Any] = {
            "kind": "layer_injective",
            "status": self.status.value,
            "layer": 0 if self.layer is None else self.layer,
            "hypotheses": [f"activation {self.activation}",
                           "domain " + ("R^d" if self.domain is None else "given")],
            "method": self.method,
            "evidence_kind": self.evidence_kind,
            "evidence": self.evidence,
        }
        if self.domain is not None:
            claim["domain"] = self.domain
        if self.status is Status.UNKNOWN:
            claim["reason"] = self.reason
        return [claim]

    def to_dict(self) -> dict[str, Any]:
        out = {
            "status": self.status.value,
            "method": self.method,
            "reason": self.reason,
            "layer": self.layer,
            "shape": list(self.shape),
            "activation": self.activation,
            "has_bias": self.has_bias,
            "thresholds": jsonable(self.thresholds),
            "witness": None if self.witness is None else {"x": jsonable(self.witness[0]),
                                                          "x_prime": jsonable(self.witness[1])},
            "evidence_kind": self.evidence_kind,
            "evidence": jsonable(self.evidence),
            "domain": self.domain,
            "bounds": jsonable(self.bounds),
            "stats": jsonable(self.stats),
            "tolerances": jsonable(self.tolerances),
            "seed": self.seed,
            "elapsed": self.elapsed,
        }
        return out


@dataclass(frozen=True)
class NetworkInjectivity(_Verdict):
    """Per-layer verdicts and the network's: CERTIFIED when every layer is injective, REFUTED
    with latent codes ``z != z'`` and ``G(z) == G(z')`` (exact), else UNKNOWN with the reason."""

    status: Status
    reason: str
    layers: tuple[LayerInjectivity, ...]
    witness: Pair | None = None
    witness_source: str = ""
    domain: dict[str, Any] | None = None
    seed: int | None = None
    elapsed: float = 0.0

    @property
    def claims(self) -> list[dict[str, Any]]:
        """One ``layer_injective`` claim per layer, then the ``network_injective`` claim."""
        out = [c for layer in self.layers for c in layer.claims]
        claim: dict[str, Any] = {"kind": "network_injective", "status": self.status.value,
                                 "hypotheses": ["every layer injective => network injective"]}
        if self.status is Status.CERTIFIED:
            solver = any(layer.evidence_kind == "solver" for layer in self.layers)
            claim.update(method="layer-wise", evidence_kind="solver" if solver else "exact",
                         evidence={"layers": [layer.evidence for layer in self.layers]})
        elif self.status is Status.REFUTED:
            assert self.witness is not None  # a REFUTED network always carries its witness
            claim.update(method=self.witness_source, evidence_kind="exact", evidence={"witness": {
                "z": jsonable(self.witness[0]), "z_prime": jsonable(self.witness[1])}})
        else:
            claim.update(method="layer-wise", evidence_kind="exact", evidence={}, reason=self.reason)
        if self.domain is not None:
            claim["domain"] = self.domain
        out.append(claim)
        return out

    def summary(self) -> list[dict[str, Any]]:
        """One row per layer plus a row for the network, for a table."""
        rows = []
        for r in self.layers:
            rows.append({
                "layer": r.layer, "shape": f"{r.shape[0]}x{r.shape[1]}", "activation": r.activation,
                "bias": r.has_bias, "expansion": round(r.expansion, 3), "status": r.status.value,
                "method": r.method, "reason": r.reason, "regime": r.thresholds.get("regime", ""),
                "elapsed_s": round(r.elapsed, 3),
            })
        rows.append({"layer": "network", "shape": "x".join(map(str, self._widths())), "activation": "",
                     "bias": "", "expansion": "", "status": self.status.value,
                     "method": self.witness_source or "layer-wise", "reason": self.reason, "regime": "",
                     "elapsed_s": round(self.elapsed, 3)})
        return rows

    def _widths(self) -> list[int]:
        return [self.layers[0].shape[1], *(r.shape[0] for r in self.layers)] if self.layers else []

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "reason": self.reason,
            "witness": None if self.witness is None else {"z": jsonable(self.witness[0]),
                                                          "z_prime": jsonable(self.witness[1])},
            "witness_source": self.witness_source,
            "domain": self.domain,
            "seed": self.seed,
            "elapsed": self.elapsed,
            "layers": [layer.to_dict() for layer in self.layers],
        }

