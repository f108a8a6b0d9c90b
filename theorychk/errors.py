"""The one exception tree of theorychk, and the reasons a result is UNKNOWN.

One exception per meaning::

    TheoryChkError                 raised on purpose by theorychk
    ├── InvalidInput (ValueError)  bad argument, file or model: names it and what arrived
    ├── MissingDependency (ImportError)
    ├── SolverError                an engine (LP, MILP, SAT) failed in a way that is not a verdict
    │   └── ExactCheckFailed       an answer failed the exact check that guards it: a bug
    ├── CertificateError           a certificate is malformed, truncated, or of another model
    └── TimeLimitReached           a budget ran out (control flow: its owner reports UNKNOWN)

The CLI prints each as one line: the user's errors (the rest of the tree) with exit code 2, and
:class:`ExactCheckFailed`, :class:`TimeLimitReached` that escaped its owner, or any other
exception as an *internal error* with exit code 3 (a bug of theorychk or of an engine, never
of the input).

Non-uniqueness is never an error: every API that meets it returns a verdict (``REFUTED`` with
the two preimages as its witness, ``SecondPreimageStatus.FOUND``), so there is no ``NotUnique``.

:class:`Reason` names the recurring reasons of an UNKNOWN (``TIME_LIMIT``, ``SIZE_LIMIT``,
...). It is a :class:`str` enum: JSON, tables and comparisons with the strings see the same
text as before; a reason with detail is the member's text, a colon and the detail
(``f"{Reason.SIZE_LIMIT}: ..."``).
"""

from __future__ import annotations

import difflib
import enum
import warnings
from collections.abc import Iterable
from typing import Any

__all__ = [
    "TheoryChkError",
    "InvalidInput",
    "MissingDependency",
    "SolverError",
    "ExactCheckFailed",
    "CertificateError",
    "TimeLimitReached",
    "Reason",
    "unknown_name",
]


class Reason(enum.StrEnum):
    """Why a result is UNKNOWN (or a search stopped), when the reason recurs across modules.

    Its values are the strings written to JSON and tables; they are pinned by tests.
    """

    TIME_LIMIT = "time limit"  # the unit's Deadline passed
    SIZE_LIMIT = "size limit"  # the search would exceed a stated size (nodes, memory, LPs)
    BOUND_GAP = "bound gap"  # the proven bounds did not meet
    ITERATION_LIMIT = "iteration limit"  # an iterative method ran to its cap without converging
    DIVERGED = "diverged"  # a non-finite loss on every restart


class TheoryChkError(Exception):
    """Base class of every error theorychk raises on purpose."""


class InvalidInput(TheoryChkError, ValueError):
    """An argument, file or model is malformed; the message names it and what arrived.

    ``argument`` and ``got`` are the structured form of that message when the raiser knows them
    (the argument's name and the value that arrived; :mod:`theorychk._validation` always sets
    both); ``str(exc)`` stays the one-line message. ``argument is None``: not recorded.
    """

    def __init__(self, message: str, *, argument: str | None = None, got: Any = None) -> None:
        super().__init__(message)
        self.argument = argument
        self.got = got


class MissingDependency(TheoryChkError, ImportError):
    """An optional dependency is needed for this input; the message says how to install it."""


class SolverError(TheoryChkError):
    """An engine (LP, MILP, SAT) failed in a way that is not a verdict."""


class ExactCheckFailed(SolverError):
    """An untrusted engine's answer failed the exact check that guards it, or exact bounds
    contradicted each other (a circuit that is not one, lower above upper, a SAT model that
    falsifies a clause). Never the input's fault: a bug of theorychk or of an engine, which the
    CLI reports as an internal error (exit code 3)."""


class CertificateError(TheoryChkError):
    """A certificate is malformed, truncated, or belongs to another model."""


class TimeLimitReached(TheoryChkError):
    """The deadline of a unit of work passed inside it (raised by
    :meth:`theorychk.runtime.Deadline.check` and by engines that poll a deadline).

    Not an error of the input but the normal end of a budget: whoever owns the budget catches it
    and reports UNKNOWN with reason :attr:`Reason.TIME_LIMIT`. One that escapes its owner is a
    bug (the CLI reports it as an internal error). ``where`` says what was running.
    """

    def __init__(self, where: str = "") -> None:
        super().__init__(Reason.TIME_LIMIT + (f" ({where})" if where else ""))
        self.where = where


def __getattr__(name: str) -> Any:
    # NotUnique was in the tree but never raised: non-uniqueness is a verdict (REFUTED with the
    # two preimages), not an error. Importable for one more release so old imports still work.
    if name == "NotUnique":
        warnings.warn("theorychk.errors.NotUnique is deprecated and never raised: non-uniqueness is "
                      "reported as a verdict (REFUTED with both preimages)", DeprecationWarning, stacklevel=2)
        return _NotUnique
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _NotUnique(TheoryChkError):
    """Deprecated, never raised (see the module docstring)."""

    def __init__(self, message: str, first: Any, second: Any) -> None:
        super().__init__(message)
        self.first = first
        self.second = second


def unknown_name(
    kind: str, got: str, valid: Iterable[str], *, where: str = "", argument: str | None = None
) -> InvalidInput:
    """Build the error for an unknown registry name, listing the valid ones and the closest
    (``where``: what the name was looked up in, e.g. ``" of method 'gd'"``)."""
    valid = sorted(valid)
    close = difflib.get_close_matches(got, valid, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return InvalidInput(f"unknown {kind} {got!r}{where}; valid: {', '.join(valid)}{hint}", argument=argument, got=got)
