"""The trusted checker: re-verify a certificate against the model in exact rational arithmetic.

This package is the trusted base of theorychk. It imports only :mod:`theorychk.exact`,
:mod:`theorychk.network`, :mod:`theorychk.io` (to read the model) and the standard library /
numpy / python-flint — never the solvers, HiGHS, PySAT or the certifier (a test enforces this).
It **fails closed**: a claim is VERIFIED only on positive evidence that it re-derives itself;
anything missing, malformed, inconsistent or unknown is REJECTED with the reason.

A certificate is JSON (schema: ``certificates/schema.json``)::

    {"format": "theorychk-certificate", "version": 1,
     "model": {"fingerprint": "<sha256>", "widths": [...], "source": "zoo:vae-relu"},
     "signal": {...}, "claims": [{"kind": "...", "status": "CERTIFIED|REFUTED|UNKNOWN",
                                  "hypotheses": [...], "evidence": {...}, ...}, ...]}

Each claim ``kind`` has one verifier registered in :data:`VERIFIERS`. A verifier receives the
claim, the network and the whole certificate, and returns :class:`ClaimCheck`; verifiers marked
``wants_trace`` (registered with :func:`theorychk.check.signal.exact_verifier`) receive instead
the exact forward pass of the certificate's latent, :class:`theorychk.check.core.Trace` (it
carries the network as ``.net``), computed once per certificate. Entry points:
:func:`theorychk.check.core.check_certificate` and :func:`theorychk.check.core.check_file`. Claims with
status UNKNOWN assert nothing and are reported as such; claims whose evidence is a solver's
proof (``"evidence_kind": "solver"``, e.g. MILP-proven) cannot be re-verified exactly and are
reported NOT_CHECKABLE — they never make a certificate VERIFIED on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from theorychk.errors import CertificateError

__all__ = [
    "FORMAT",
    "VERSION",
    "ClaimCheck",
    "CheckReport",
    "VERIFIERS",
    "verifier",
]

FORMAT = "theorychk-certificate"
VERSION = 1


@dataclass(frozen=True)
class ClaimCheck:
    """The checker's finding on one claim: ``VERIFIED``, ``REJECTED``, ``NOT_CHECKABLE`` or ``NO_CLAIM``."""

    kind: str
    outcome: str
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckReport:
    """All claims' findings; ``verified`` only when nothing was rejected and something was verified."""

    fingerprint: str
    claims: tuple[ClaimCheck, ...]

    @property
    def verified(self) -> bool:
        outcomes = [c.outcome for c in self.claims]
        return "REJECTED" not in outcomes and "VERIFIED" in outcomes

    @property
    def verdict(self) -> str:
        return "VERIFIED" if self.verified else "REJECTED"

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "fingerprint": self.fingerprint,
            "claims": [
                {"kind": c.kind, "outcome": c.outcome, "reason": c.reason, "details": c.details} for c in self.claims
            ],
        }


Verifier = Callable[[dict[str, Any], Any, dict[str, Any]], ClaimCheck]
VERIFIERS: dict[str, Verifier] = {}


def verifier(kind: str) -> Callable[[Verifier], Verifier]:
    """Register the verifier of claim ``kind`` (one per kind; a second registration is a bug)."""

    def register(fn: Verifier) -> Verifier:
        if kind in VERIFIERS:
            raise CertificateError(f"two verifiers registered for claim kind {kind!r}")
        VERIFIERS[kind] = fn
        return fn

    return register
