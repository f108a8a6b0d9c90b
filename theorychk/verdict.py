"""Verdicts, engine outcomes, and lossless JSON for results.

A claim is CERTIFIED (with evidence), REFUTED (with a witness) or UNKNOWN (with the reason:
time limit, size limit, bound gap — :class:`~theorychk.errors.Reason`, re-exported here). Never a
guess. An LP/MILP run ends with an :class:`EngineStatus`, which the engine's caller turns into
a verdict.

A signal's certificate holds several uniqueness claims; :func:`signal_verdict` reads them as the
one answer a user asked for — is the latent code ``z*`` of ``y = G(z*)`` unique? — ``unique``,
``not unique`` (with the distance to the exact second preimage) or ``undecided``, naming the
claim that decided it.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from theorychk.errors import Reason

__all__ = ["Status", "EngineStatus", "Reason", "jsonable", "SignalVerdict", "signal_verdict", "UNIQUE", "NOT_UNIQUE",
           "UNDECIDED"]


class Status(str, enum.Enum):
    """The three verdicts. ``str`` subclass so it serialises as its name."""

    CERTIFIED = "CERTIFIED"
    REFUTED = "REFUTED"
    UNKNOWN = "UNKNOWN"

    def __str__(self) -> str:
        return self.value


class EngineStatus(enum.StrEnum):
    """How one LP/MILP run of HiGHS ended, as the engines report it (not a verdict).

    A HiGHS status none of these names is reported as the string ``"other: <HiGHS's name>"``.
    """

    OPTIMAL = "optimal"  # the optimum (a MILP: to the relative gap asked for)
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    CUTOFF = "cutoff"  # a MILP found nothing below its cutoff c: min >= c
    TIME_LIMIT = Reason.TIME_LIMIT.value  # stopped by the deadline (bound and incumbent so far)
    OTHER = "other"  # anything else HiGHS can say (results spell it "other: <HiGHS's words>")


def _float(x: float) -> Any:
    # Exact hex keeps every bit; readers turn it back with float.fromhex / exact.rational.
    if math.isfinite(x):
        return float(x) if x == int(x) and abs(x) < 2**53 else float.hex(x)
    return "inf" if x > 0 else ("-inf" if x < 0 else "nan")


#: Types :func:`jsonable` returns unchanged (exactly these types, not subclasses such as an IntEnum).
_VERBATIM = frozenset({int, str, bool, type(None)})


def jsonable(obj: Any, *, exact_floats: bool = True) -> Any:
    """Turn a result into JSON-ready data, losslessly.

    Fractions become ``"p/q"`` strings, floats become exact hex strings (``exact_floats=True``)
    unless they are small integers, numpy arrays become nested lists, dataclasses and enums
    become dicts and names. ``exact_floats=False`` keeps floats as JSON numbers (for summaries
    meant for people).
    """
    t = type(obj)  # exact types first: certificates are mostly ints, strings, Fractions and lists
    if t in _VERBATIM:
        return obj
    if t is Fraction:
        return str(obj.numerator) if obj.denominator == 1 else f"{obj.numerator}/{obj.denominator}"
    if t is list or t is tuple:
        if set(map(type, obj)) <= _VERBATIM:  # one C-level pass: nothing inside to convert
            return list(obj)
        return [jsonable(x, exact_floats=exact_floats) for x in obj]
    if t is dict:
        return {str(k): jsonable(v, exact_floats=exact_floats) for k, v in obj.items()}
    # then by isinstance, in this order; a subclass of one of the types above as that type
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, str):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, Fraction):
        return jsonable(Fraction(obj))
    if isinstance(obj, (float, np.floating)):
        return _float(float(obj)) if exact_floats else (float(obj) if math.isfinite(obj) else str(float(obj)))
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return [jsonable(x, exact_floats=exact_floats) for x in obj.tolist()] if obj.ndim else jsonable(obj.item())
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name), exact_floats=exact_floats) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return jsonable(dict(obj.items()), exact_floats=exact_floats)
    if isinstance(obj, (list, tuple, set, frozenset)):
        return jsonable(list(obj), exact_floats=exact_floats)
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


# --------------------------------------------------------------------------------------------
# One verdict per signal
# --------------------------------------------------------------------------------------------

UNIQUE, NOT_UNIQUE, UNDECIDED = "unique", "not unique", "undecided"

#: The claims whose CERTIFIED status answers "is z* the only z with G(z) = y?", in order of
#: preference (each certificate's statement: docs/certificates.md). ``aberdam_thm1`` is not among
#: them: Theorem 1 of Aberdam et al. proves z* unique only among the latents whose hidden layers
#: are at most as dense as z*'s, which leaves the question open.
DECIDES_UNIQUE = ("complete", "polytope", "lei_thm2", "milp_global")
#: The claims whose REFUTED status carries an exact second preimage (``evidence.second_latent``);
#: the searches that find one first, then the claims its witness refutes.
REFUTES_UNIQUE = ("complete", "milp_global", "polytope", "lei_thm2", "aberdam_thm1")
#: What a checker's finding must be for a claim to count (:func:`signal_verdict`'s ``outcomes``):
#: re-derived, or solver evidence carried as such.
_COUNTED = ("VERIFIED", "NOT_CHECKABLE")


@dataclass(frozen=True)
class SignalVerdict:
    """The answer for one signal: ``verdict`` is ``"unique"``, ``"not unique"`` or ``"undecided"``.

    ``by`` names the deciding claim (``None`` when undecided), ``scope`` where uniqueness holds
    (``"R^k"``, or the latent box of the claim; for ``not unique``, where the second preimage
    lies: the ``complete`` claim's box when it has one), ``evidence_kind`` whether the deciding evidence is
    ``"exact"`` or the MILP's (``"solver"``); for ``not unique``, ``distance_l2`` /
    ``distance_linf`` are ``||z2 - z*||`` to the exact second preimage ``z2`` in the certificate
    (floats, for people); ``reason`` says why it is undecided.
    """

    verdict: str
    by: str | None = None
    scope: str | None = None
    evidence_kind: str | None = None
    distance_l2: float | None = None
    distance_linf: float | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def __str__(self) -> str:
        if self.verdict == UNIQUE:
            where = "" if self.scope == "R^k" else f" in {self.scope}"
            return f"unique{where} (by {self.by})"
        if self.verdict == NOT_UNIQUE:
            where = "" if self.scope in ("R^k", None) else f" in {self.scope}"
            return f"not unique{where}: ||z2 - z*||_2 = {self.distance_l2:.3g} (by {self.by})"
        return f"undecided ({self.reason})" if self.reason else "undecided"


def _label(claim: dict[str, Any]) -> str:
    return claim["kind"] + (f" ({claim['variant']})" if claim.get("variant") else "")


def _scope(claim: dict[str, Any]) -> str:
    ev = claim.get("evidence") or {}
    if claim["kind"] == "milp_global":
        return f"||z||_inf <= {ev.get('latent_box')} at ||z - z*||_inf >= {ev.get('delta')}"
    if claim["kind"] == "complete" and ev.get("latent_box") is not None:
        return f"||z||_inf <= {ev['latent_box']}"
    return "R^k"


def signal_verdict(cert: dict[str, Any], *, outcomes: Sequence[str] | None = None) -> SignalVerdict:
    """The one verdict on the latent code of a per-signal certificate ``cert`` (a JSON dict).

    ``not unique`` when a uniqueness claim is REFUTED with its exact second preimage (whatever
    else is claimed: the witness settles it); else ``unique`` when a claim of
    :data:`DECIDES_UNIQUE` is CERTIFIED (exact evidence and uniqueness in all of ``R^k``
    preferred); else ``undecided`` with the reasons. With ``outcomes`` (the checker's finding on
    each claim, in the certificate's order) only the claims it re-derived (VERIFIED) or carried
    as solver evidence (NOT_CHECKABLE) count.

    Examples
    --------
    >>> claims = [{"kind": "polytope", "status": "CERTIFIED", "evidence_kind": "exact", "evidence": {}},
    ...           {"kind": "milp_global", "status": "UNKNOWN", "reason": Reason.TIME_LIMIT.value, "evidence": {}}]
    >>> str(signal_verdict({"signal": {"latent": ["1/2"]}, "claims": claims}))
    'unique (by polytope)'
    >>> claims[0]["status"] = "UNKNOWN"
    >>> signal_verdict({"signal": {"latent": ["1/2"]}, "claims": claims}, outcomes=["NO_CLAIM"] * 2).verdict
    'undecided'
    """
    from theorychk.exact import rational  # here: exact loads flint, which only a verdict needs

    claims = [c for c in cert.get("claims", []) if isinstance(c, dict)]
    if outcomes is not None:
        claims = [c for c, o in zip(cert.get("claims", []), outcomes) if isinstance(c, dict) and str(o) in _COUNTED]
    refuted = [c for c in claims if c.get("status") == Status.REFUTED and c.get("kind") in REFUTES_UNIQUE
               and "second_latent" in (c.get("evidence") or {})]
    if refuted:
        c = min(refuted, key=lambda c: REFUTES_UNIQUE.index(c["kind"]))
        z = [rational(v) for v in cert["signal"]["latent"]]
        z2 = [rational(v) for v in c["evidence"]["second_latent"]]
        diff = [a - b for a, b in zip(z2, z, strict=True)]
        # scope: where the witness lies (a second preimage in the box is one in R^k too, but the
        # box is what the user asked about)
        scope = _scope(c) if c["kind"] == "complete" else "R^k"
        return SignalVerdict(NOT_UNIQUE, by=_label(c), scope=scope, evidence_kind="exact",
                             distance_l2=math.sqrt(float(sum(d * d for d in diff))),
                             distance_linf=float(max(abs(d) for d in diff)))
    certified = [c for c in claims if c.get("status") == Status.CERTIFIED and c.get("kind") in DECIDES_UNIQUE]
    if certified:
        c = min(certified, key=lambda c: (c.get("evidence_kind", "exact") != "exact", _scope(c) != "R^k",
                                          DECIDES_UNIQUE.index(c["kind"])))
        return SignalVerdict(UNIQUE, by=_label(c), scope=_scope(c), evidence_kind=c.get("evidence_kind", "exact"))
    asked = [c for c in claims if c.get("kind") in REFUTES_UNIQUE]
    if not asked:
        return SignalVerdict(UNDECIDED, reason="no uniqueness claim was made" if outcomes is None
                             else "no uniqueness claim was verified")
    if any(c["kind"] == "aberdam_thm1" and c.get("status") == Status.CERTIFIED for c in asked):
        return SignalVerdict(UNDECIDED, reason="z* is unique only among latents whose hidden layers are as "
                                               "sparse as its own (aberdam_thm1)")
    reasons = dict.fromkeys(f"{_label(c)}: {c.get('reason') or c.get('status')}" for c in asked
                            if c["kind"] in DECIDES_UNIQUE)
    return SignalVerdict(UNDECIDED, reason="; ".join(reasons) or "no uniqueness claim was decided")
