"""Declarative argument validation: one constraint language, one message for every violation.

In the manner of scikit-learn's ``validate_params``: each argument is declared with a list of
constraints and is valid when it satisfies any one of them.

* ``Interval(Real, 0, None, closed="neither")`` -- a number in ``(0, inf)``. ``Real`` (or
  ``float``) takes any real number but a bool and returns a ``float``; ``Integral`` (or ``int``)
  takes Python or numpy integers only and returns an ``int``. A missing bound is infinite and
  an open side excludes it, so ``(0, inf)`` refuses ``inf`` and NaN satisfies no interval.
* ``Options({"linf", "l1"})`` -- one of a fixed set of values.
* ``Real``, ``Integral`` -- any number of that kind (NaN and infinities included), ``Boolean`` --
  ``True`` or ``False`` (``numpy.bool_`` too).
* ``ArrayLike`` -- a list, tuple or array, left to the caller to check against the network.
* ``ListOf(c, length=n, min_length=k)`` -- a list, tuple or 1-D array whose entries all satisfy
  ``c``; returned as a list of the converted entries.
* ``None`` -- the value ``None``.

A violation is an :class:`~theorychk.errors.InvalidInput` of one shape, naming the argument and
what arrived, with ``argument`` and ``got`` set on it::

    time_limit must be a float in (0, inf) or None; got -1

:func:`check` validates one value, :func:`check_params` a mapping of them, :func:`validate_params`
decorates a function to check its arguments on entry, and :func:`check_options` reads the
keyword options of an inversion method (an unknown name lists the valid ones and suggests the
closest). Each returns the converted values (``float``/``int``/``bool``), so callers can trust
them.

Examples
--------
>>> check("alpha", 2, [Interval(Real, 1, None, closed="neither")])
2.0
>>> check("norm", "l2", [Options({"linf", "l1"})])
Traceback (most recent call last):
...
theorychk.errors.InvalidInput: norm must be one of 'l1', 'linf'; got 'l2'
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any, Literal, ParamSpec, TypeVar

import numpy as np

from theorychk.errors import InvalidInput, unknown_name

__all__ = [
    "Interval",
    "Options",
    "Boolean",
    "ListOf",
    "ArrayLike",
    "Integral",
    "Real",
    "Constraint",
    "POSITIVE",
    "NON_NEGATIVE",
    "POSITIVE_INT",
    "NON_NEGATIVE_INT",
    "SECONDS",
    "ConstraintSpec",
    "check",
    "check_params",
    "check_options",
    "check_option_names",
    "validate_params",
    "invalid",
]

P = ParamSpec("P")
R = TypeVar("R")


def _shown(value: object) -> str:
    """What arrived, in one short line (an array by its shape and dtype, a long repr cut)."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."


def invalid(argument: str, expected: str, got: object) -> InvalidInput:
    """The one message shape: ``"<argument> must be <expected>; got <what arrived>"``."""
    return InvalidInput(f"{argument} must be {expected}; got {_shown(got)}", argument=argument, got=got)


def _is_bool(value: object) -> bool:
    return isinstance(value, (bool, np.bool_))


class Constraint:
    """One kind of admissible value: ``accepts`` it, ``describe`` it, ``convert`` an accepted one."""

    def accepts(self, value: object) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def plural(self) -> str:
        """The description of many such values (inside :class:`ListOf`)."""
        return f"values each {self.describe()}"

    def convert(self, value: Any) -> Any:
        return value


class _Type(Constraint):
    """``Real`` or ``Integral`` given directly: any number of that kind (bools are not numbers)."""

    def __init__(self, kind: type) -> None:
        self.kind = kind

    def accepts(self, value: object) -> bool:
        return isinstance(value, self.kind) and not _is_bool(value)

    def describe(self) -> str:
        return "an int" if self.kind is Integral else "a float"

    def plural(self) -> str:
        return "ints" if self.kind is Integral else "floats"

    def convert(self, value: Any) -> Any:
        return int(value) if self.kind is Integral else float(value)


class Interval(_Type):
    """A number of ``kind`` (``Real``/``float`` or ``Integral``/``int``) between ``left`` and
    ``right`` (``None``: infinite); ``closed`` says which ends belong to it."""

    def __init__(
        self,
        kind: type,
        left: float | None,
        right: float | None,
        *,
        closed: Literal["left", "right", "both", "neither"],
    ) -> None:
        if kind not in (Real, Integral, float, int):
            raise TypeError(f"Interval kind must be Real, Integral, float or int; got {kind!r}")
        if closed not in ("left", "right", "both", "neither"):
            raise ValueError(f"closed must be 'left', 'right', 'both' or 'neither'; got {closed!r}")
        super().__init__(Integral if kind in (Integral, int) else Real)
        self.left = -math.inf if left is None else left
        self.right = math.inf if right is None else right
        self.closed = closed

    def accepts(self, value: object) -> bool:
        if not super().accepts(value):
            return False
        v = float(value)  # type: ignore[arg-type]
        lo_in = self.closed in ("left", "both")
        hi_in = self.closed in ("right", "both")
        return (self.left < v or (lo_in and v == self.left)) and (v < self.right or (hi_in and v == self.right))

    def _range(self) -> str:
        def end(x: float) -> str:
            return "inf" if x == math.inf else "-inf" if x == -math.inf else f"{x:g}"

        lo = "[" if self.closed in ("left", "both") else "("
        hi = "]" if self.closed in ("right", "both") else ")"
        return f"{lo}{end(self.left)}, {end(self.right)}{hi}"

    def describe(self) -> str:
        return f"{super().describe()} in {self._range()}"

    def plural(self) -> str:
        return f"{super().plural()} in {self._range()}"


class Options(Constraint):
    """One of a fixed set of (hashable) values."""

    def __init__(self, values: Iterable[object]) -> None:
        self.values = frozenset(values)

    def accepts(self, value: object) -> bool:
        try:
            return value in self.values and not _is_bool(value)
        except TypeError:  # unhashable
            return False

    def describe(self) -> str:
        return "one of " + ", ".join(sorted(repr(v) for v in self.values))


class _Boolean(Constraint):
    def accepts(self, value: object) -> bool:
        return _is_bool(value)

    def describe(self) -> str:
        return "a bool"

    def plural(self) -> str:
        return "bools"

    def convert(self, value: Any) -> bool:
        return bool(value)


#: ``True`` or ``False`` (``numpy.bool_`` too); converted to ``bool``.
Boolean = _Boolean()


class ListOf(Constraint):
    """A list, tuple or 1-D array of entries that all satisfy ``item``; ``length`` fixes its
    length, ``min_length`` bounds it below."""

    def __init__(self, item: Constraint, *, length: int | None = None, min_length: int = 0) -> None:
        self.item = item
        self.length = length
        self.min_length = min_length

    def accepts(self, value: object) -> bool:
        if isinstance(value, np.ndarray):
            if value.ndim != 1:
                return False
        elif not isinstance(value, (list, tuple)):
            return False
        n = len(value)
        if (self.length is not None and n != self.length) or n < self.min_length:
            return False
        return all(self.item.accepts(v) for v in value)

    def describe(self) -> str:
        if self.length is not None:
            return f"a list of {self.length} {self.item.plural()}"
        if self.min_length:
            return f"a list of at least {self.min_length} {self.item.plural()}"
        return f"a list of {self.item.plural()}"

    def convert(self, value: Any) -> list[Any]:
        return [self.item.convert(v) for v in value]


class _ArrayLike(Constraint):
    def accepts(self, value: object) -> bool:
        return isinstance(value, (list, tuple, np.ndarray))

    def describe(self) -> str:
        return "an array-like"


#: A list, tuple or array of any shape: its shape and values are the caller's to check (they
#: usually depend on the network).
ArrayLike = _ArrayLike()


class _NoneConstraint(Constraint):
    def accepts(self, value: object) -> bool:
        return value is None

    def describe(self) -> str:
        return "None"


#: The intervals most options use, named once.
POSITIVE = Interval(Real, 0, None, closed="neither")
NON_NEGATIVE = Interval(Real, 0, None, closed="left")
POSITIVE_INT = Interval(Integral, 1, None, closed="left")
NON_NEGATIVE_INT = Interval(Integral, 0, None, closed="left")
#: Seconds of a time limit: positive, ``inf`` allowed (no limit, as the CLI's ``--time-limit inf``).
SECONDS = Interval(Real, 0, None, closed="right")

#: What a parameter's constraints may list: constraint objects, ``Real``/``Integral``, ``None``.
ConstraintSpec = Sequence[Constraint | type | None]


def _constraint(c: Constraint | type | None) -> Constraint:
    if isinstance(c, Constraint):
        return c
    if c is None:
        return _NoneConstraint()
    if c in (Real, float):
        return _Type(Real)
    if c in (Integral, int):
        return _Type(Integral)
    raise TypeError(f"not a constraint: {c!r}")


def check(argument: str, value: Any, constraints: ConstraintSpec) -> Any:
    """``value`` converted by the first of ``constraints`` it satisfies, else :class:`InvalidInput`."""
    cs = [_constraint(c) for c in constraints]
    for c in cs:
        if c.accepts(value):
            return c.convert(value)
    words = [c.describe() for c in cs]
    expected = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
    raise invalid(argument, expected, value)


def check_params(spec: Mapping[str, ConstraintSpec], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with every entry named in ``spec`` checked and converted (others passed through)."""
    return {k: check(k, v, spec[k]) if k in spec else v for k, v in values.items()}


def check_option_names(options: Mapping[str, Any], valid: Iterable[str], *, method: str) -> None:
    """An unknown option name of inversion method ``method`` is an error listing the valid ones
    and suggesting the closest, not ignored."""
    valid = set(valid)
    unknown = sorted(set(options) - valid)
    if unknown:
        raise unknown_name("option", unknown[0], valid, where=f" of method {method!r}", argument="options")


def check_options(options: Mapping[str, Any], spec: Mapping[str, ConstraintSpec], *, method: str) -> dict[str, Any]:
    """The keyword options of inversion method ``method``, checked against ``spec``
    (:func:`check_option_names`, then each given value checked and converted)."""
    check_option_names(options, spec, method=method)
    return check_params(spec, options)


def validate_params(spec: Mapping[str, ConstraintSpec]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a function to check (and convert) the arguments named in ``spec`` on every call,
    as scikit-learn's ``validate_params`` does; the function then trusts them."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        sig = inspect.signature(func)
        missing = set(spec) - set(sig.parameters)
        if missing:
            raise TypeError(f"{func.__qualname__} has no parameter(s) {sorted(missing)}")

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = sig.bind(*args, **kwargs)
            for name, value in bound.arguments.items():
                if name in spec:
                    bound.arguments[name] = check(name, value, spec[name])
            return func(*bound.args, **bound.kwargs)

        return wrapper

    return decorate
