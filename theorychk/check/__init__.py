"""The trusted checker: re-verify a certificate against the model in exact rational arithmetic.

This package is the trusted base of theorychk. It imports only :mod:`theorychk.exact`,
:mod:`theorychk.network`, :mod:`theorychk.io` (to read the model), :mod:`theorychk.verdict` and
the standard library / numpy / python-flint — never the solvers, HiGHS, PySAT or the certifier
(a test enforces this). It **fails closed**: a claim is VERIFIED only on positive evidence that
it re-derives itself; anything missing, malformed, inconsistent or unknown is REJECTED with the
reason.

A certificate is JSON (schema: ``certificates/schema.json``)::

    {"format": "theorychk-certificate", "version": 1,
     "model": {"fingerprint": "<sha256>", "widths": [...], "source": "zoo:vae-relu"},
     "signal": {...}, "claims": [{"kind": "...", "status": "CERTIFIED|REFUTED|UNKNOWN",
                                  "hypotheses": [...], "evidence": {...}, ...}, ...]}

Each claim ``kind`` has one verifier registered in :data:`VERIFIERS`. The verifier is called only
for a claim whose status is CERTIFIED (it must re-derive the proof) or, for kinds registered
``refutable``, REFUTED (it must verify an exact witness); a REFUTED claim of any other kind is
REJECTED, and an UNKNOWN claim asserts nothing (NO_CLAIM). Verifiers marked ``wants_trace``
(registered with :func:`theorychk.check.signal.exact_verifier`) receive the exact forward pass of
the certificate's latent, :class:`theorychk.check.core.Trace` (it carries the network as
``.net``). Entry points: :func:`theorychk.check.core.check_certificate` and
:func:`theorychk.check.core.check_file`.

Claims whose evidence is a solver's proof (``"evidence_kind": "solver"``, e.g. MILP-proven) are
NOT_CHECKABLE: *carried*, never *checked*. The report lists both; a carried claim never makes a
certificate VERIFIED on its own, and a carried claim that a checked witness contradicts is
REJECTED (each carried kind registers a :data:`SCOPES` test for that).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from theorychk.errors import CertificateError

__all__ = [
    "FORMAT",
    "VERSION",
    "Outcome",
    "ClaimCheck",
    "CheckReport",
    "VERIFIERS",
    "REFUTABLE",
    "SCOPES",
    "INFORMATIONAL",
    "verifier",
]

FORMAT = "theorychk-certificate"
VERSION = 1


class Outcome(enum.StrEnum):
    """The checker's finding on one claim (``str``-valued: JSON and comparisons with names unchanged)."""

    VERIFIED = "VERIFIED"  # re-derived: the proof (CERTIFIED) or the exact witness (REFUTED)
    REJECTED = "REJECTED"  # with the reason
    NOT_CHECKABLE = "NOT_CHECKABLE"  # solver evidence: carried, not checked
    NO_CLAIM = "NO_CLAIM"  # status UNKNOWN: asserts nothing


#: Outcomes a VERIFIED certificate may contain (a whitelist: anything else rejects it), and the
#: one that counts as positive evidence (at least one claim must have it).
ACCEPTABLE = frozenset({Outcome.VERIFIED, Outcome.NOT_CHECKABLE, Outcome.NO_CLAIM})
POSITIVE = Outcome.VERIFIED

#: Fields the checker reads for nothing but the report: editing them changes no verdict.
#: Everything else a certificate holds is either re-derived or compared with what is re-derived
#: (``docs/certificates.md``, "What the checker binds").
INFORMATIONAL = (
    "model.name", "model.source", "signal.origin", "parameters.time_limit", "generator",
    "claims[].statement", "claims[].hypotheses", "claims[].reason", "claims[].method",
    "claims[].evidence.solver",
)


@dataclass(frozen=True)
class ClaimCheck:
    """The checker's finding on one claim: an :class:`Outcome` and its reason."""

    kind: str
    outcome: Outcome
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", Outcome(self.outcome))  # a free string is a bug: ValueError


@dataclass(frozen=True)
class CheckReport:
    """All claims' findings (in the certificate's order).

    ``verified`` only when every outcome is on the whitelist :data:`ACCEPTABLE` and at least one
    claim is VERIFIED; ``checked`` / ``carried`` name the claims whose verdict the checker
    re-derived and those it only carried (solver evidence).
    """

    fingerprint: str
    claims: tuple[ClaimCheck, ...]

    @property
    def verified(self) -> bool:
        outcomes = [c.outcome for c in self.claims]
        return all(o in ACCEPTABLE for o in outcomes) and POSITIVE in outcomes

    @property
    def verdict(self) -> str:
        return "VERIFIED" if self.verified else "REJECTED"

    def _labels(self, outcome: Outcome) -> list[str]:
        return [f"claims[{i}] {c.kind}" for i, c in enumerate(self.claims) if c.outcome is outcome]

    @property
    def checked(self) -> list[str]:
        return self._labels(Outcome.VERIFIED)

    @property
    def carried(self) -> list[str]:
        """Claims resting on what the checker did not re-derive: solver evidence, or a part of a
        VERIFIED claim named in its ``details["carried"]``."""
        parts = [f"claims[{i}] {c.kind}: {c.details['carried']}" for i, c in enumerate(self.claims)
                 if c.outcome is Outcome.VERIFIED and c.details.get("carried")]
        return self._labels(Outcome.NOT_CHECKABLE) + parts

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "fingerprint": self.fingerprint,
            "checked": self.checked,
            "carried": self.carried,
            "informational": list(INFORMATIONAL),
            "claims": [
                {"kind": c.kind, "outcome": c.outcome.value, "reason": c.reason, "details": c.details}
                for c in self.claims
            ],
        }


Verifier = Callable[[dict[str, Any], Any, dict[str, Any]], ClaimCheck]
#: ``scope(claim, tr, z_a, z_b) -> bool``: does the CERTIFIED ``claim`` assert that no such pair
#: ``z_a != z_b``, ``G(z_a) = G(z_b)`` (``tr`` the exact trace of the certificate's ``z*``) exists?
Scope = Callable[[dict[str, Any], Any, list[Any], list[Any]], bool]
VERIFIERS: dict[str, Verifier] = {}
REFUTABLE: set[str] = set()
SCOPES: dict[str, Scope] = {}


def verifier(kind: str, *, refutable: bool, scope: Scope | None = None) -> Callable[[Verifier], Verifier]:
    """Register the verifier of claim ``kind`` (one per kind; a second registration is a bug).

    ``refutable``: the kind has an exact-witness format, so a REFUTED claim reaches the verifier
    (otherwise it is REJECTED before). ``scope``: needed by every kind whose verifier can return
    NOT_CHECKABLE, to test the carried claim against the certificate's verified witnesses.
    """

    def register(fn: Verifier) -> Verifier:
        if kind in VERIFIERS:
            raise CertificateError(f"two verifiers registered for claim kind {kind!r}")
        VERIFIERS[kind] = fn
        if refutable:
            REFUTABLE.add(kind)
        if scope is not None:
            SCOPES[kind] = scope
        return fn

    return register
