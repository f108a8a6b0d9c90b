"""Verdicts, engine outcomes, and lossless JSON for results.

A claim is CERTIFIED (with evidence), REFUTED (with a witness) or UNKNOWN (with the reason:
time limit, size limit, bound gap — :class:`~theorychk.errors.Reason`, re-exported here). Never a
guess. An LP/MILP run ends with an :class:`EngineStatus`, which the engine's caller turns into
a verdict.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from fractions import Fraction
from typing import Any

import numpy as np

from theorychk.errors import Reason

__all__ = ["Status", "EngineStatus", "Reason", "jsonable"]


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


def _float(x: float) -> Any:
    # Exact hex keeps every bit; readers turn it back with float.fromhex / exact.rational.
    if math.isfinite(x):
        return float(x) if x == int(x) and abs(x) < 2**53 else float.hex(x)
    return "inf" if x > 0 else ("-inf" if x < 0 else "nan")


def jsonable(obj: Any, *, exact_floats: bool = True) -> Any:
    """Turn a result into JSON-ready data, losslessly.

    Fractions become ``"p/q"`` strings, floats become exact hex strings (``exact_floats=True``)
    unless they are small integers, numpy arrays become nested lists, dataclasses and enums
    become dicts and names. ``exact_floats=False`` keeps floats as JSON numbers (for summaries
    meant for people).
    """
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, Fraction):
        return str(obj.numerator) if obj.denominator == 1 else f"{obj.numerator}/{obj.denominator}"
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
        return {str(k): jsonable(v, exact_floats=exact_floats) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(x, exact_floats=exact_floats) for x in obj]
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")
