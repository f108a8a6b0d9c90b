"""The one way theorychk makes a HiGHS instance.

HiGHS keeps one thread scheduler per process, created by the first solve with the ``threads``
option of that solve. From highspy 1.16 on, a later solve whose ``threads`` names another count
fails outright (``HighsStatus.kError``, model status ``kNotset``): setting ``threads=1`` here
after any other HiGHS solve in the process (one of ours with the default, or the user's) made
every exact LP come back unsolved. So theorychk never sets ``threads``; the default (0: use the
scheduler there is) works whatever ran before. The inversion LPs and MILP never set it and
always ran at the default.

HiGHS prints its banner ("Running HiGHS 1.16.0 ... Copyright ...") on stdout the first time a
``highspy.Highs`` is made in a process — from inside its constructor (the wrapper's callback set-up
is its first logging call), before any ``output_flag`` can be set, which broke every ``--json``
output. :func:`new_highs` therefore builds a :class:`_QuietHighs`: the wrapper's ``__init__``
reaches the C++ constructor through ``super()``, and a class placed between them in the MRO turns
``output_flag`` off right after the C++ object exists, before the wrapper's first call. The
object is a plain ``highspy.Highs`` in every other way. Nothing HiGHS prints reaches stdout, and
no file descriptor is redirected (which would also swallow other threads' output).
"""

from __future__ import annotations

from typing import Any

import highspy

__all__ = ["new_highs", "instances_made"]

_made = 0


def instances_made() -> int:
    """How many HiGHS instances :func:`new_highs` made in this process (0: forking is safe for HiGHS)."""
    return _made


#: The C++ class under highspy's Python wrapper (``highspy._core._Highs`` in highspy 1.16).
_CORE = highspy.Highs.__bases__[0]


class _SilentCore(_CORE):  # type: ignore[misc, valid-type]
    """The C++ ``Highs``, with output off before anything else can call into it."""

    def __init__(self) -> None:
        super().__init__()
        _CORE.setOptionValue(self, "output_flag", False)


class _QuietHighs(highspy.Highs, _SilentCore):
    """``highspy.Highs`` whose constructor prints nothing (MRO: Highs → _SilentCore → _Highs)."""


def new_highs(**options: Any) -> highspy.Highs:
    """A silent ``highspy.Highs`` — silent from its construction on — with ``options`` set (never
    ``threads``: see the module doc).

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
    h = _QuietHighs()
    _made += 1
    for name, value in options.items():
        h.setOptionValue(name, value)
    return h
