"""The one way theorychk makes a HiGHS instance.

HiGHS keeps one thread scheduler per process, created by the first solve with the ``threads``
option of that solve. From highspy 1.16 on, a later solve whose ``threads`` names another count
fails outright (``HighsStatus.kError``, model status ``kNotset``): setting ``threads=1`` here
after any other HiGHS solve in the process (one of ours with the default, or the user's) made
every exact LP come back unsolved. So theorychk never sets ``threads``; the default (0: use the
scheduler there is) works whatever ran before. The inversion LPs and MILP never set it and
always ran at the default.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import highspy

__all__ = ["new_highs", "instances_made"]

_made = 0


def instances_made() -> int:
    """How many HiGHS instances :func:`new_highs` made in this process (0: forking is safe for HiGHS)."""
    return _made


def _quietly(make: Callable[[], highspy.Highs]) -> highspy.Highs:
    """``make()`` with the process's stdout (file descriptor 1) sent nowhere: stdout carries only
    what a command was asked for (one JSON document with ``--json``), and a banner is no log."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no usable stdout: nothing to protect
        return make()
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        return make()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


def new_highs(**options: Any) -> highspy.Highs:
    """A silent ``highspy.Highs`` with ``options`` set (never ``threads``: see the module doc).

    Examples
    --------
    >>> h = new_highs(presolve="off")
    >>> _ = h.addVar(1.0, 2.0), h.changeColCost(0, 1.0)
    >>> _ = h.run()
    >>> h.modelStatusToString(h.getModelStatus()), h.getInfo().objective_function_value
    ('Optimal', 1.0)
    """
    if "threads" in options:
        raise ValueError("new_highs: the 'threads' option is not set by theorychk (HiGHS's scheduler is per process)")
    global _made
    if _made:
        h = highspy.Highs()
    else:  # highspy 1.16 prints its banner on the C stdout at the first construction
        h = _quietly(highspy.Highs)
    _made += 1
    h.setOptionValue("output_flag", False)
    for name, value in options.items():
        h.setOptionValue(name, value)
    return h
