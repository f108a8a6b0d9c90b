"""The certifier's exact forward pass equals the checker's, field by field."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from theorychk.certify._trace import _fractions, exact_trace
from theorychk.check.core import trace
from theorychk.network import Layer, Network


def _same(a: tuple, b: tuple) -> bool:
    """Equal as exact values, and as normalised fractions (the same numerator and denominator)."""
    return len(a) == len(b) and all(type(x) is Fraction and (x.numerator, x.denominator, hash(x)) ==
                                    (y.numerator, y.denominator, hash(y)) for x, y in zip(a, b))


def test_fractions_are_the_normalised_ones():
    rng = np.random.default_rng(0)
    for den in (1, 2, 6, 1 << 70, 3 * (1 << 40)):
        nums = [int(v) for v in rng.integers(-10**6, 10**6, 200)] + [0, den, -den, 2 * den, (1 << 90) + 1]
        assert _same(_fractions(nums, den), tuple(Fraction(v, den) for v in nums))


@pytest.mark.parametrize("acts", [("relu", "relu"), ("leaky_relu:0.1", "identity"), ("relu", "leaky_relu:0.3"),
                                  ("identity", "relu"), ("relu", "sigmoid")])
def test_exact_trace_equals_the_checkers(acts):
    rng = np.random.default_rng(len(acts[0]) + len(acts[1]))
    for _ in range(5):
        net = Network([Layer(rng.standard_normal((9, 3)).astype(np.float32), rng.standard_normal(9), acts[0]),
                       Layer(rng.standard_normal((14, 9)).astype(np.float32), None, acts[1])])
        z = [Fraction(float(v)) for v in rng.standard_normal(3).astype(np.float32)]
        mine, theirs = exact_trace(net, z), trace(net, z)
        for field in ("inputs", "pre", "outputs"):
            for a, b in zip(getattr(mine, field), getattr(theirs, field), strict=True):
                assert (a is None and b is None) or _same(a, b), field
        assert mine == theirs and mine.specs == theirs.specs


def test_exact_trace_equals_the_checkers_on_the_zoo_decoder():
    from theorychk import zoo
    from theorychk.certify.certificate import sample_latents

    net = zoo.load("vae784-relu")
    for z in sample_latents(net, 3, 0):
        mine, theirs = exact_trace(net, list(z)), trace(net, list(z))
        for field in ("inputs", "pre", "outputs"):
            assert all(_same(a, b) for a, b in zip(getattr(mine, field), getattr(theirs, field), strict=True))


def test_this_python_takes_the_fast_fractions():
    # the fallback exists for another Fraction layout; on CPython 3.11-3.13 the fast path must run
    from theorychk.certify import _trace

    assert _trace._works() and _trace._fractions is _trace._fast_fractions
