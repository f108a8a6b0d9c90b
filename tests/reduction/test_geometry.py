"""Preimage geometry: Example 1 of paper 001 and the finite, non-convex preimage of a reduction."""

from fractions import Fraction

import pytest
from hypothesis import given, settings

from theorychk.errors import InvalidInput
from theorychk.reduction.cnf import CNF
from theorychk.reduction.geometry import example1, reduction_preimage
from theorychk.testing.strategies import cnfs


def test_example1_preimage_is_not_convex():
    ex = example1()
    assert ex.verified
    assert ex.first == (-1, 1) and ex.second == (1, 3) and ex.midpoint == (0, 2)
    assert ex.outputs == ((Fraction(1),), (Fraction(1),), (Fraction(2),))
    assert ex.to_dict()["verified"] is True


@given(cnfs(max_vars=5))
@settings(max_examples=25)
def test_reduction_preimage_equals_models(cnf):
    demo = reduction_preimage(cnf, "four-layer")
    assert demo.equal
    if len(demo.models) >= 2:
        assert demo.nonconvex.verified


def test_reduction_preimage_refuses_large_formulas():
    with pytest.raises(InvalidInput, match="n must be <= 10; got 11"):
        reduction_preimage(CNF(11, [[1]]))
