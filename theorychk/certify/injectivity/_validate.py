"""Argument checks of the public entry points of :mod:`theorychk.certify.injectivity`: bad input
raises :class:`~theorychk.errors.InvalidInput` naming the argument and what arrived, before any
engine (numpy, HiGHS) sees it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from theorychk.errors import InvalidInput


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def positive_int(name: str, value: Any) -> None:
    if not (_is_int(value) and value >= 1):
        raise InvalidInput(f"{name} must be a positive integer; got {value!r}")


def non_negative_int(name: str, value: Any, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if not (_is_int(value) and value >= 0):
        also = " or None" if optional else ""
        raise InvalidInput(f"{name} must be a non-negative integer{also}; got {value!r}")


def positive_number(name: str, value: Any) -> None:
    """A positive real (``inf`` allowed: no limit); rejects NaN, bools and strings."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if not (ok and not math.isnan(value) and value > 0):
        raise InvalidInput(f"{name} must be a positive number; got {value!r}")


def check_time_limit(value: Any) -> None:
    """``None`` (no limit) or a positive number of seconds (``inf``: no limit)."""
    if value is not None:
        positive_number("time_limit", value)
