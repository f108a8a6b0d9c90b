"""The one exception tree of theorychk.

Every error a user can provoke is a :class:`TheoryChkError`; the CLI turns each into a
one-line message and exit code 2. Messages name the argument and say what arrived.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

__all__ = [
    "TheoryChkError",
    "InvalidInput",
    "MissingDependency",
    "SolverError",
    "CertificateError",
    "NotUnique",
    "unknown_name",
]


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


class CertificateError(TheoryChkError):
    """A certificate is malformed, truncated, or belongs to another model."""


class NotUnique(TheoryChkError):
    """The latent code is not unique: carries the two preimages that prove it.

    Like networkx's ``AmbiguousSolution``: refuse the temptation to guess.
    """

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
