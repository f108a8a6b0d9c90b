"""Matrix invariants behind the uniqueness and stability theorems, exact or certifiably bounded.

Every function returns an :class:`~theorychk.invariants.result.InvariantResult`: a lower and
an upper bound, each with the method that produced it and evidence that
:mod:`theorychk.check` re-verifies in exact arithmetic. Definitions and algorithms:
``docs/invariants.md``.
"""

from __future__ import annotations

from theorychk.invariants.result import Bound, InvariantResult

__all__ = ["Bound", "InvariantResult"]
