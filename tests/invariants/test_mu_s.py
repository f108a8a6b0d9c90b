"""mu_s (Definition 3 of paper 004) against a brute-force exact oracle over all row sets."""

from __future__ import annotations

import itertools
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from theorychk.errors import InvalidInput
from theorychk.invariants.coherence import sqrt_bounds
from theorychk.invariants.mu_s import coherence_s
from theorychk.verdict import Status


def oracle_mu_s_squared(w, s: int) -> F:
    """max over |S| = s and column pairs of cos^2, with the documented conventions: a zero
    column in W^S gives 1, a single column gives 0."""
    wq = [[F(v) for v in row] for row in np.asarray(w).tolist()]
    n, k = len(wq), len(wq[0])
    best = F(0)
    for rows in itertools.combinations(range(n), s):
        cols = [[wq[i][j] for i in rows] for j in range(k)]
        if any(all(v == 0 for v in c) for c in cols):
            return F(1)
        for a, b in itertools.combinations(range(k), 2):
            ab = sum(x * y for x, y in zip(cols[a], cols[b]))
            best = max(best, ab * ab / (sum(x * x for x in cols[a]) * sum(y * y for y in cols[b])))
    return best


def check_evidence(w, res) -> None:
    """The attaining row set and pair re-verified in Fractions; the bracket proven through squares."""
    ev = res.lower.evidence
    q = ev["value_squared"]
    assert res.lower.value ** 2 <= q <= res.upper.evidence["value_squared"] <= res.upper.value ** 2
    wq = [[F(v) for v in row] for row in np.asarray(w).tolist()]
    rows = ev["rows"]
    assert len(rows) == res.params["s"] == len(set(rows))
    if ev.get("zero_column"):
        assert all(wq[i][ev["columns"][0]] == 0 for i in rows) and q == 1
        return
    if len(ev["columns"]) < 2:
        assert q == 0
        return
    a, b = ev["columns"]
    ab = sum(wq[i][a] * wq[i][b] for i in rows)
    assert q == ab * ab / (sum(wq[i][a] ** 2 for i in rows) * sum(wq[i][b] ** 2 for i in rows))


@st.composite
def matrix_and_s(draw, max_n: int = 7, max_k: int = 4):
    n = draw(st.integers(1, max_n))
    k = draw(st.integers(1, max_k))
    entries = draw(st.lists(st.integers(-4, 4), min_size=n * k, max_size=n * k))
    w = np.array(entries, dtype=np.int64).reshape(n, k)
    if draw(st.booleans()):
        w = w / 8.0
    return w, draw(st.integers(1, n))


@settings(max_examples=80)
@given(matrix_and_s())
@example((np.array([[1, 2], [2, 4], [0, 1], [3, -1]]), 2))
@example((np.array([[1, 0], [2, 0], [0, 1]]), 2))  # a zero column in W^S
@example((np.array([[1], [2], [3]]), 2))  # one column
def test_exact_mu_s_matches_oracle(case):
    w, s = case
    res = coherence_s(w, s)
    expected = oracle_mu_s_squared(w, s)
    assert res.status is Status.CERTIFIED and not res.reason
    assert res.lower.evidence["value_squared"] == res.upper.evidence["value_squared"] == expected
    assert res.lower.value ** 2 <= expected <= res.upper.value ** 2
    assert res.upper.value - res.lower.value <= F(1, 2**64)
    check_evidence(w, res)


@settings(max_examples=60)
@given(matrix_and_s())
def test_bounds_only_route_brackets(case):
    w, s = case
    res = coherence_s(w, s, method="bounds")
    expected = oracle_mu_s_squared(w, s)
    assert res.lower.evidence["value_squared"] <= expected <= res.upper.evidence["value_squared"]
    assert res.lower.value ** 2 <= expected <= res.upper.value ** 2
    assert res.upper.evidence["binding"] in ("pairwise top-s/bottom-s", "Cauchy-Schwarz", "exact")
    check_evidence(w, res)


@settings(max_examples=30)
@given(matrix_and_s(), st.randoms(use_true_random=False))
def test_invariant_under_permutations_signs_and_column_scaling(case, rnd):
    w, s = case
    n, k = w.shape
    rows, cols = list(range(n)), list(range(k))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    factors = np.array([rnd.choice((-2, -1, 1, 3)) for _ in range(k)])
    moved = w[rows][:, cols] * factors
    q = coherence_s(w, s).lower.evidence["value_squared"]
    assert coherence_s(moved, s).lower.evidence["value_squared"] == q


def test_special_cases():
    w = np.array([[1, 2], [3, 1], [1, 1]])
    # s = n is the plain mutual coherence; s = 1 is 1 (one row: the columns are parallel).
    assert coherence_s(w, 3).lower.evidence["value_squared"] == F(36, 66)
    assert coherence_s(w, 1).value == 1
    zero = coherence_s(np.array([[1, 0], [1, 0], [1, 1]]), 2)
    assert zero.value == 1 and zero.lower.evidence["zero_column"]
    assert coherence_s(np.array([[2.0], [1.0]]), 1).value == 0  # one column: no pairs
    assert coherence_s(np.array([[3, 4], [4, 3]]), 2).value == F(24, 25)  # rational square: closes


def test_node_budget_and_time_limit_give_unknown_brackets():
    rng = np.random.default_rng(4)
    w = rng.integers(-20, 21, size=(24, 3))
    exact = coherence_s(w, 12)
    assert exact.status is Status.CERTIFIED
    q = exact.lower.evidence["value_squared"]
    for kwargs, reason in (({"max_nodes": 5}, "size limit"), ({"time_limit": 1e-6}, "time limit")):
        res = coherence_s(w, 12, **kwargs)
        assert res.status is Status.UNKNOWN and res.reason == reason
        assert res.lower.evidence["value_squared"] <= q <= res.upper.evidence["value_squared"]
        assert res.lower.value <= exact.upper.value and exact.lower.value <= res.upper.value


def test_large_matrix_bounds_are_fast_and_valid():
    rng = np.random.default_rng(5)
    w = rng.standard_normal((300, 40))
    res = coherence_s(w, 150, method="bounds")
    assert res.status is Status.UNKNOWN and res.reason == "bound gap"
    assert 0 < res.lower.value <= res.upper.value <= 1
    check_evidence(w, res)


@settings(max_examples=100)
@given(st.fractions(min_value=0, max_value=1000), st.integers(1, 80))
def test_sqrt_bounds(q, bits):
    lo, hi = sqrt_bounds(q, bits)
    assert lo * lo <= q <= hi * hi and hi - lo <= F(1, 2**bits)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: coherence_s([[1.0, float("inf")]], 1), "finite"),
        (lambda: coherence_s([[1, 0], [0, 1]], 0), "s must be between 1 and 2"),
        (lambda: coherence_s([[1, 0], [0, 1]], 3), "s must be between 1 and 2"),
        (lambda: coherence_s([1, 2], 1), "2-D"),
        (lambda: coherence_s(np.zeros((2, 0)), 1), "at least one column"),
        (lambda: coherence_s([[1, 0]], 1, method="exact"), "unknown method"),
        (lambda: coherence_s([[1, 0]], 1, precision_bits=0), "precision_bits"),
    ],
)
def test_bad_input_is_pinned(call, message):
    with pytest.raises(InvalidInput, match=message):
        call()


@pytest.mark.slow
@settings(max_examples=300)
@given(matrix_and_s(max_n=9, max_k=4))
def test_exact_mu_s_matches_oracle_many(case):
    w, s = case
    res = coherence_s(w, s)
    assert res.lower.evidence["value_squared"] == oracle_mu_s_squared(w, s)
