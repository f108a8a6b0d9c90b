"""The one result type of every invariant: a certified interval with its evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from theorychk.verdict import Status, jsonable

__all__ = ["InvariantResult", "Bound"]

Number = int | Fraction


@dataclass(frozen=True)
class Bound:
    """One bound with the method that produced it and the evidence a checker can re-verify.

    ``evidence`` is JSON-ready data (rationals as :class:`Fraction`): e.g. the dependent column
    set and its null vector for a spark upper bound, the rational dual vector of an LP bound.
    """

    value: Number
    method: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"value": jsonable(self.value), "method": self.method, "evidence": jsonable(self.evidence)}


@dataclass(frozen=True)
class InvariantResult:
    """``lower <= invariant <= upper``, both bounds with evidence.

    ``exact`` is true iff ``lower == upper``. ``status`` is CERTIFIED when both bounds were
    verified in exact arithmetic (or are trivially valid), UNKNOWN otherwise, with ``reason``
    (e.g. ``Reason.TIME_LIMIT``, ``"size limit"``, ``"bound gap"``). ``binding`` names the method of
    the best lower bound. Every tolerance used by a float stage is recorded in ``tolerances``.
    """

    invariant: str
    params: dict[str, Any]
    lower: Bound
    upper: Bound
    status: Status
    reason: str = ""
    tolerances: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0
    shape: tuple[int, int] = (0, 0)

    @property
    def exact(self) -> bool:
        return self.lower.value == self.upper.value

    @property
    def value(self) -> Number | None:
        """The invariant's value when known exactly, else ``None``."""
        return self.lower.value if self.exact else None

    @property
    def method(self) -> str:
        if self.lower.method == self.upper.method:
            return self.lower.method
        return f"lower: {self.lower.method}; upper: {self.upper.method}"

    @property
    def witness(self) -> dict[str, Any]:
        """Evidence for the upper bound."""
        return self.upper.evidence

    def to_dict(self) -> dict[str, Any]:
        return {
            "invariant": self.invariant,
            "params": jsonable(self.params),
            "shape": list(self.shape),
            "value": jsonable(self.value),
            "lower": self.lower.to_dict(),
            "upper": self.upper.to_dict(),
            "exact": self.exact,
            "method": self.method,
            "status": self.status.value,
            "reason": self.reason,
            "tolerances": jsonable(self.tolerances, exact_floats=False),
            "elapsed_seconds": round(self.elapsed, 6),
        }
