"""Domains of injectivity: a box or a ball in the input space of a layer, in exact numbers.

A user's ``domain=`` dict is parsed once into a :class:`_Box` or a :class:`_Ball`; the
engines ask a domain for its bounding boxes (the LPs see boxes only), whether a point lies in
its interior, how far a point may move along a direction and stay inside, and the form in which
:func:`theorychk.check.injectivity.check_layer_pair` takes it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Union

from theorychk import exact
from theorychk.errors import InvalidInput
from theorychk.verdict import jsonable

#: One side of a box: a bound per coordinate, ``None`` for an unbounded side.
Bounds = list[Union[Fraction, None]]
#: A box as ``(lower, upper)``.
Box = tuple[Bounds, Bounds]


@dataclass(frozen=True)
class _Box:
    """A closed box ``lower <= x <= upper``; ``None`` marks an unbounded side (the orthants of
    :func:`~theorychk.certify.injectivity.network.network_injectivity`)."""

    lower: tuple[Fraction | None, ...]
    upper: tuple[Fraction | None, ...]

    is_ball = False

    def spec(self) -> dict[str, Any]:
        return {"box": {"lower": jsonable(self.lower), "upper": jsonable(self.upper)}}

    def boxes(self) -> tuple[Box, Box]:
        """``(outer, inner)`` boxes: outer contains the domain (certify), inner lies in it (refute)."""
        box = (list(self.lower), list(self.upper))
        return box, box

    def contains(self, x: Sequence[Fraction]) -> bool:
        return all((lo is None or lo <= v) and (up is None or v <= up)
                   for lo, v, up in zip(self.lower, x, self.upper))

    def interior_point(self) -> tuple[Fraction, ...]:
        out = []
        for lo, up in zip(self.lower, self.upper):
            if lo is not None and up is not None:
                out.append((lo + up) / 2)
            elif lo is not None:
                out.append(lo + 1)
            elif up is not None:
                out.append(up - 1)
            else:
                out.append(Fraction(0))
        return tuple(out)


@dataclass(frozen=True)
class _Ball:
    """A closed Euclidean ball ``|x - center| <= radius``."""

    center: tuple[Fraction, ...]
    radius: Fraction

    is_ball = True

    def spec(self) -> dict[str, Any]:
        return {"ball": {"center": jsonable(self.center), "radius": jsonable(self.radius)}}

    def boxes(self) -> tuple[Box, Box]:
        """``(outer, inner)`` boxes: outer contains the domain (certify), inner lies in it (refute)."""
        c, r = self.center, self.radius
        d = len(c)
        # A rational rho <= r / sqrt(d): the open inner box then lies in the open ball.
        rho = r * Fraction(math.isqrt(10**12 // d), 10**6)
        outer: Box = ([v - r for v in c], [v + r for v in c])
        inner: Box = ([v - rho for v in c], [v + rho for v in c])
        return outer, inner

    def contains(self, x: Sequence[Fraction]) -> bool:
        r2 = self.radius**2
        return sum((a - c) ** 2 for a, c in zip(x, self.center)) <= r2

    def interior_point(self) -> tuple[Fraction, ...]:
        return tuple(self.center)


#: A parsed domain: exact numbers, validated.
_Domain = Union[_Box, _Ball]


def _parse_domain(domain: Any, d: int) -> _Domain | None:
    if domain is None:
        return None
    if isinstance(domain, (_Box, _Ball)):
        return domain
    if not isinstance(domain, dict) or len(domain) != 1 or next(iter(domain)) not in ("box", "ball"):
        raise InvalidInput("domain must be None, {'box': {'lower': [...], 'upper': [...]}} or "
                           f"{{'ball': {{'center': [...], 'radius': r}}}}; got {domain!r}",
                           argument="domain", got=domain)
    body = domain.get("box") or domain.get("ball")
    if not isinstance(body, dict):
        raise InvalidInput(f"domain body must be a dict; got {body!r}",
                           argument=f"domain.{next(iter(domain))}", got=body)

    def vec(key: str) -> tuple[Fraction, ...]:
        v = body.get(key)
        if v is None or len(v) != d:
            raise InvalidInput(f"domain {key} must have length {d}; got {v!r}",
                               argument=f"domain.{next(iter(domain))}.{key}", got=v)
        return tuple(exact.rational(a) for a in v)

    if "box" in domain:
        lo, up = vec("lower"), vec("upper")
        if any(a >= b for a, b in zip(lo, up)):
            raise InvalidInput("domain box must have lower < upper in every coordinate",
                               argument="domain.box", got=body)
        return _Box(lower=lo, upper=up)
    r = exact.rational(body.get("radius"))
    if r <= 0:
        raise InvalidInput(f"domain ball radius must be positive; got {r}",
                           argument="domain.ball.radius", got=r)
    return _Ball(center=vec("center"), radius=r)


def _check_dom(dom: _Domain) -> dict[str, Any] | None:
    """The domain in the form :func:`theorychk.check.injectivity.check_layer_pair` takes."""
    if isinstance(dom, _Ball):
        return {"ball": (list(dom.center), dom.radius**2)}
    if any(v is None for v in (*dom.lower, *dom.upper)):
        return None  # internal unbounded boxes (orthants) are checked by the caller
    return {"box": (list(dom.lower), list(dom.upper))}


def _interior(dom: _Domain, x: Sequence[Fraction]) -> bool:
    if isinstance(dom, _Ball):
        r2 = dom.radius**2
        return sum((a - c) ** 2 for a, c in zip(x, dom.center)) < r2
    return all((lo is None or lo < v) and (up is None or v < up)
               for lo, v, up in zip(dom.lower, x, dom.upper))


def _room(dom: _Domain, x: Sequence[Fraction], delta: Sequence[Fraction]) -> Fraction:
    """A positive ``eps`` with ``x + eps * delta`` still in the domain (``x`` interior)."""
    if isinstance(dom, _Ball):
        # |x - c| < r: |x + e delta - c| <= |x - c| + e |delta|_1 ... use a rational bound:
        # (r^2 - |x - c|^2) / (2 (|x - c|_1 + 1) |delta|_1 + |delta|_1^2) keeps it inside.
        r2 = dom.radius**2
        gap = r2 - sum((a - c) ** 2 for a, c in zip(x, dom.center))
        n1 = sum(abs(v) for v in delta)
        off = sum(abs(a - c) for a, c in zip(x, dom.center))
        return min(Fraction(1), gap / (2 * off * n1 + n1 * n1 + 1) / 2)
    eps = Fraction(1)
    for lo, v, up, dv in zip(dom.lower, x, dom.upper, delta):
        if dv > 0 and up is not None:
            eps = min(eps, (up - v) / dv / 2)
        if dv < 0 and lo is not None:
            eps = min(eps, (lo - v) / dv / 2)
    return eps


def _floats(box: Box | None, side: int) -> list[float | None] | None:
    return None if box is None else [None if v is None else float(v) for v in box[side]]


def _finite(box: Box | None) -> tuple[list[Fraction], list[Fraction]] | None:
    """The box for the exact Farkas check; an unbounded side has no row, hence multiplier 0."""
    if box is None:
        return None
    lo, up = ([Fraction(0) if v is None else v for v in side] for side in box)
    return lo, up
