"""coherence and babel: exact squared cosines, rational brackets, and the spark bounds they give.

The oracle computes squared cosines with Fractions over all pairs (no flint, no floats) and the
Babel sums with 60-digit mpmath square roots.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from theorychk.errors import InvalidInput
from theorychk.invariants.coherence import (
    _Gram,
    babel,
    babel_spark_bound,
    coherence,
    coherence_spark_bound,
    sqrt_bounds,
)
from theorychk.invariants.spark import spark
from theorychk.verdict import Status

mpmath.mp.dps = 60


def cos2_table(a: np.ndarray) -> dict[tuple[int, int], Fraction]:
    cols = [[Fraction(x) for x in col] for col in np.asarray(a).T.tolist()]
    out = {}
    for i, j in itertools.permutations(range(len(cols)), 2):
        g = sum(x * y for x, y in zip(cols[i], cols[j]))
        out[i, j] = g * g / (sum(x * x for x in cols[i]) * sum(y * y for y in cols[j]))
    return out


def oracle_babel(a: np.ndarray, p: int) -> mpmath.mpf:
    table = cos2_table(a)
    n = np.asarray(a).shape[1]
    best = mpmath.mpf(0)
    for i in range(n):
        vals = sorted((mpmath.sqrt(mp(c)) for (k, _), c in table.items() if k == i), reverse=True)
        best = max(best, mpmath.fsum(vals[:p]))
    return best


def mp(x: Fraction) -> mpmath.mpf:
    return mpmath.mpf(x.numerator) / x.denominator


nonzero_cols = st.integers(1, 5).flatmap(
    lambda m: st.integers(2, 7).flatmap(lambda n: arrays(np.int64, (m, n), elements=st.integers(-4, 4))))
nonzero_cols = nonzero_cols.filter(lambda a: bool(np.all(np.any(a != 0, axis=0))))
dyadic_cols = st.integers(1, 4).flatmap(
    lambda m: st.integers(2, 6).flatmap(
        lambda n: arrays(np.float64, (m, n), elements=st.integers(-8, 8).map(lambda k: k / 8)))
).filter(lambda a: bool(np.all(np.any(a != 0, axis=0))))


@settings(max_examples=80)
@given(nonzero_cols | dyadic_cols)
@example(np.array([[1, 1, 0], [1, 1, 1]]))  # two equal columns: mu = 1 exactly
@example(np.array([[1, 0], [0, 1]]))  # orthogonal: mu = 0
def test_coherence_brackets_the_exact_maximum(a):
    want = max(cos2_table(a).values())
    r = coherence(a)
    assert r.status is Status.CERTIFIED
    assert r.lower.evidence["cos2"] == want
    i, j = r.lower.evidence["columns"]
    assert cos2_table(a)[i, j] == want
    lo, hi = r.lower.value, r.upper.value
    assert lo * lo <= want <= hi * hi and hi - lo <= Fraction(1, 2**64)
    assert r.exact == (lo == hi)


def test_exact_values():
    r = coherence([[1, 0, 1], [0, 1, 1]])
    assert r.lower.evidence["cos2"] == Fraction(1, 2) and not r.exact
    r = coherence([[1, 1], [0, 1], [0, 1], [0, 1]])
    assert r.value == Fraction(1, 2)  # cos = 1/2: a rational square root is reported exactly
    assert coherence([[3], [4]]).value == 0  # fewer than two columns
    assert coherence(np.zeros((2, 0))).value == 0


@settings(max_examples=40)
@given(nonzero_cols | dyadic_cols, st.data())
def test_babel_brackets_the_true_value(a, data):
    p = data.draw(st.integers(1, a.shape[1] - 1))
    r = babel(a, p)
    true = oracle_babel(a, p)
    assert mp(r.lower.value) <= true + mpmath.mpf(10) ** -50
    assert true <= mp(r.upper.value) + mpmath.mpf(10) ** -50
    assert r.upper.value - r.lower.value <= Fraction(p, 2**47)  # 2**-48 relative + grid steps
    # The lower bound's evidence is checkable: exact squared cosines of the named column pairs.
    ev = r.lower.evidence
    table = cos2_table(a)
    assert ev["cos2"] == [table[ev["column"], j] for j in ev["others"]]


@settings(max_examples=60)
@given(nonzero_cols | dyadic_cols, st.randoms(use_true_random=False))
def test_invariant_under_column_scaling_and_permutation(a, rnd):
    want = coherence(a).lower.evidence["cos2"]
    scale = np.array([rnd.choice([-2, -1, 3, 7]) for _ in range(a.shape[1])])
    perm = list(range(a.shape[1]))
    rnd.shuffle(perm)
    assert coherence(a * scale).lower.evidence["cos2"] == want
    assert coherence(a[:, perm]).lower.evidence["cos2"] == want
    assert coherence(a[::-1]).lower.evidence["cos2"] == want


# ---------------------------------------------------------------------------- spark bounds


@given(st.fractions(min_value=Fraction(1, 1000), max_value=1))
def test_coherence_spark_bound_is_the_ceiling(c2):
    s = coherence_spark_bound(c2)
    mu = mpmath.sqrt(mp(c2))
    assert s == int(mpmath.ceil(1 + 1 / mu))
    assert coherence_spark_bound(Fraction(0)) is None


@settings(max_examples=60)
@given(nonzero_cols)
def test_spark_lower_bounds_are_sound(a):
    # Both bounds say "no dependent set smaller than the bound"; spark caps at n + 1.
    want = spark(a).value
    cap = a.shape[1] + 1
    c2 = max(cos2_table(a).values())
    bound = coherence_spark_bound(c2)
    assert bound is None or min(bound, cap) <= want
    s, upper = babel_spark_bound(_Gram(a, "A"))
    assert min(s, cap) <= want
    # mu_1(s - 2) <= upper < 1 is claimed: check it against the true Babel value.
    if s - 2 >= 1:
        assert oracle_babel(a, s - 2) <= mp(upper) < 1


def test_babel_conclusion_is_spark_greater_than_p_not_p_plus_one():
    # mu_1(1) = 1/sqrt(2) < 1 proves spark > 2, i.e. spark >= 3; the true spark is 3
    # ([1,0] + [0,1] = [1,1]). The strict misreading "spark > p + 1" would claim 4.
    a = np.array([[1, 0, 1], [0, 1, 1]])
    s, upper = babel_spark_bound(_Gram(a, "A"))
    assert s == 3 == spark(a).value
    assert upper < 1


@given(st.fractions(min_value=0, max_value=10))
def test_sqrt_bounds(x):
    lo, hi = sqrt_bounds(x)
    assert lo * lo <= x <= hi * hi and 0 <= hi - lo <= Fraction(1, 2**64)


# ---------------------------------------------------------------------------- bad input


def test_zero_column_is_rejected_with_its_index():
    with pytest.raises(InvalidInput, match=r"zero column \(index 1\)"):
        coherence([[1, 0, 2], [3, 0, 1]])
    with pytest.raises(InvalidInput, match="zero column"):
        babel([[1, 0, 2], [3, 0, 1]], 1)


@pytest.mark.parametrize("bad", [np.array([[np.nan, 1.0], [0.0, 1.0]]), np.array([1.0, 2.0]),
                                 np.array([["x", "y"]], dtype=object)])
def test_bad_matrix(bad):
    with pytest.raises(InvalidInput):
        coherence(bad)


def test_bad_p():
    a = np.array([[1, 0, 1], [0, 1, 1]])
    for p in (0, 3, -1):
        with pytest.raises(InvalidInput, match="p must be between 1 and 2"):
            babel(a, p)
    with pytest.raises(InvalidInput, match="integer"):
        babel(a, 1.5)
    with pytest.raises(InvalidInput, match="two columns"):
        babel([[1], [2]], 1)
