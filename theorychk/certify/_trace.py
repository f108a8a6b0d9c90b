"""The exact forward pass for the certifier: the checker's :func:`~theorychk.check.core.trace`,
with its ``Fraction`` objects made ~3x more cheaply.

The checker's pass (:mod:`theorychk.check.exactnet`) is integer arithmetic; what it costs on a
784-wide layer is the ``Fraction(v, den)`` of every input, pre-activation and output (~1800 a
signal of zoo:vae784-relu, ~4 ms). Here the same integers become the same normalised fractions
by one ``gcd`` each and no argument checking, zeros share one object, and what a layer's output
shares with its pre-activation (ReLU: the positive entries; identity: all) and with the next
layer's input is reused, not rebuilt. The result equals the checker's trace (the tests compare
them field by field, numerators and denominators); the checker still makes its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from theorychk.check import exactnet
from theorychk.check.core import Trace, trace
from theorychk.check.intmat import integer_layers
from theorychk.network import Network

__all__ = ["exact_trace"]

_ZERO = Fraction(0)


def _slow_fractions(nums: Sequence[int], den: int) -> tuple[Fraction, ...]:
    return tuple(Fraction(v, den) for v in nums)


def _fast_fractions(nums: Sequence[int], den: int) -> tuple[Fraction, ...]:
    """``tuple(Fraction(v, den) for v in nums)`` for ``den > 0``: the same normalised values."""
    new, gcd = object.__new__, math.gcd
    out = []
    for v in nums:
        if not v:
            out.append(_ZERO)
            continue
        g = gcd(v, den)
        f = new(Fraction)
        f._numerator, f._denominator = (v, den) if g == 1 else (v // g, den // g)
        out.append(f)
    return tuple(out)


def _works() -> bool:
    """Whether this Python's ``Fraction`` keeps its value in the ``_numerator`` / ``_denominator``
    slots the fast path fills (CPython 3.11-3.13); if not, every fraction is made the public way."""
    try:
        made = _fast_fractions([6, -3, 0], 4)
        return made == (Fraction(3, 2), Fraction(-3, 4), Fraction(0)) and hash(made[0]) == hash(Fraction(3, 2)) \
            and str(made[1]) == "-3/4"
    except (AttributeError, TypeError):  # pragma: no cover - another Fraction layout
        return False


_fractions = _fast_fractions if _works() else _slow_fractions


def exact_trace(net: Network, latent: list[Fraction]) -> Trace:
    """:func:`theorychk.check.core.trace` of ``net`` at ``latent``, equal field by field; nets with
    an activation that is not ``u`` / ``c u`` (ReLU, LeakyReLU, identity) go to the checker's own."""
    specs = tuple(layer.activation.spec for layer in net.layers)
    slopes = [exactnet._slope(spec) for spec in specs]
    if any(c is None for c in slopes):
        return trace(net, latent)
    ints = integer_layers(net)
    x, den = exactnet._common(list(latent))
    current = _fractions(x, den)
    inputs, pres, outputs = [], [], []
    for layer, c in zip(ints, slopes):
        u, dn = exactnet._reduce(*exactnet._pre(layer, x, den))
        pre = _fractions(u, dn)
        p, q = c.numerator, c.denominator
        x, den = exactnet._reduce([v * q if v > 0 else v * p for v in u], dn * q)
        if c == 0:
            out = tuple(f if v > 0 else _ZERO for f, v in zip(pre, u))
        elif c == 1:
            out = pre
        else:
            out = _fractions(x, den)
        inputs.append(current)
        pres.append(pre)
        outputs.append(out)
        current = out
    return Trace(net, tuple(inputs), tuple(pres), tuple(outputs), specs, ints)
