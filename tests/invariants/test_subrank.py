"""sub_rank, sub_spark and rank_of_rows against brute force over all row subsets (Fractions).

The oracle is independent of theorychk.exact and flint: ranks by Gaussian elimination over
Fractions, sub-rank and sub-spark by their definitions (paper 004, Definitions 1-2).
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from theorychk.errors import InvalidInput
from theorychk.invariants import _flats
from theorychk.invariants.subrank import rank_of_rows, sub_rank, sub_spark
from theorychk.verdict import Status

# ---------------------------------------------------------------------------- oracle


def frac_rank(rows: list[list[Fraction]]) -> int:
    m = [list(map(Fraction, r)) for r in rows]
    rank, ncols = 0, len(m[0]) if m else 0
    for c in range(ncols):
        piv = next((i for i in range(rank, len(m)) if m[i][c] != 0), None)
        if piv is None:
            continue
        m[rank], m[piv] = m[piv], m[rank]
        for i in range(len(m)):
            if i != rank and m[i][c] != 0:
                f = m[i][c] / m[rank][c]
                m[i] = [a - f * b for a, b in zip(m[i], m[rank])]
        rank += 1
    return rank


def rows_of(w: np.ndarray) -> list[list[Fraction]]:
    return [[Fraction(x) for x in row] for row in np.asarray(w).tolist()]


def oracle_spark(rows: list[list[Fraction]], k: int) -> int:
    for size in range(1, k + 1):
        for cols in itertools.combinations(range(k), size):
            if frac_rank([[r[c] for c in cols] for r in rows]) < size:
                return size
    return k + 1


def oracle_sub_rank(w: np.ndarray, s: int) -> int:
    rows = rows_of(w)
    return min(frac_rank([rows[i] for i in sub]) for sub in itertools.combinations(range(len(rows)), s))


def oracle_rows_in_flat(w: np.ndarray, j: int) -> int:
    """The most rows of ``w`` in a flat of rank <= j: the largest row set of rank <= j."""
    rows = rows_of(w)
    subsets = (sub for size in range(len(rows) + 1) for sub in itertools.combinations(range(len(rows)), size))
    return max(len(sub) for sub in subsets if frac_rank([rows[i] for i in sub]) <= j)


def oracle_sub_spark(w: np.ndarray, s: int) -> int:
    rows, k = rows_of(w), np.asarray(w).shape[1]
    return min(oracle_spark([rows[i] for i in sub], k) for sub in itertools.combinations(range(len(rows)), s))


matrices = st.integers(1, 6).flatmap(
    lambda n: st.integers(0, 5).flatmap(lambda k: arrays(np.int64, (n, k), elements=st.integers(-2, 2))))
sparse = st.integers(1, 6).flatmap(
    lambda n: st.integers(1, 5).flatmap(lambda k: arrays(np.int64, (n, k), elements=st.integers(-1, 1))))
dyadic = st.integers(1, 6).flatmap(
    lambda n: st.integers(1, 4).flatmap(
        lambda k: arrays(np.float64, (n, k), elements=st.integers(-4, 4).map(lambda v: v / 4))))

PARALLEL_ROWS = np.array([[1, 2, 0], [2, 4, 0], [-1, -2, 0], [0, 1, 1], [1, 0, 1]])


def with_s(strategy):
    return strategy.flatmap(lambda w: st.tuples(st.just(w), st.integers(1, w.shape[0])))


# ---------------------------------------------------------------------------- exactness


@settings(max_examples=80)
@given(with_s(matrices | sparse | dyadic))
@example((PARALLEL_ROWS, 3))
@example((np.zeros((3, 2), dtype=np.int64), 2))
@example((np.zeros((3, 0), dtype=np.int64), 1))
def test_sub_rank_equals_oracle_with_verified_witness(case):
    w, s = case
    r = sub_rank(w, s)
    assert r.status is Status.CERTIFIED
    assert r.value == oracle_sub_rank(w, s)
    rows = r.upper.evidence["rows"]
    assert len(rows) == len(set(rows)) == s
    assert frac_rank([rows_of(w)[i] for i in rows]) == r.upper.value == r.upper.evidence["rank"]
    # The flat counts behind the lower bound are proven bounds below s, rank by rank.
    for j, bound in r.lower.evidence.get("rows_in_flat_of_rank_at_most", {}).items():
        assert oracle_rows_in_flat(w, j) <= bound < s


@settings(max_examples=60)
@given(with_s(matrices | sparse | dyadic))
@example((PARALLEL_ROWS, 3))
@example((np.zeros((3, 0), dtype=np.int64), 2))
def test_sub_spark_equals_oracle_with_verified_witness(case):
    w, s = case
    r = sub_spark(w, s)
    assert r.status is Status.CERTIFIED
    assert r.value == oracle_sub_spark(w, s)
    ev = r.upper.evidence
    if "null_vector" in ev:
        rows, cols, vec = ev["rows"], ev["columns"], ev["null_vector"]
        assert len(rows) == len(set(rows)) == s and len(cols) == len(vec) == r.value
        assert all(v != 0 for v in vec)
        for i in rows:
            assert sum(rows_of(w)[i][c] * v for c, v in zip(cols, vec)) == 0
    else:
        assert r.value == w.shape[1] + 1 or w.shape[1] == 0


@settings(max_examples=80)
@given(with_s(matrices | sparse))
def test_sub_spark_is_k_plus_1_iff_sub_rank_is_k(case):
    w, s = case
    k = w.shape[1]
    assert (sub_spark(w, s).value == k + 1) == (sub_rank(w, s).value == k)


@settings(max_examples=40)
@given(with_s(matrices | sparse), st.randoms(use_true_random=False))
def test_invariant_under_scaling_and_permutation(case, rnd):
    w, s = case
    n, k = w.shape
    want_rank, want_spark = sub_rank(w, s).value, sub_spark(w, s).value
    rows, cols = list(range(n)), list(range(k))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    col_scale = np.array([rnd.choice([-3, -1, 2, 5]) for _ in range(k)], dtype=np.int64)
    row_scale = np.array([rnd.choice([-2, 1, 3]) for _ in range(n)], dtype=np.int64)[:, None]
    for v in (w[rows][:, cols], w * col_scale * row_scale):
        assert sub_rank(v, s).value == want_rank
        assert sub_spark(v, s).value == want_spark


def test_float_rank_decision_fails_near_2_53_but_sub_rank_is_exact():
    big = 2**53
    # Rows (2^53 + 1, 2^53) and (2^53, 2^53 - 1) are independent (det = -1); float64 rounds the
    # first to (2^53, 2^53) and numpy's tolerance then calls the pair rank 1.
    # Row 0 also becomes parallel to row 2 = (1, 1) in floats: a float sub-rank would be 1.
    w = np.array([[big + 1, big], [big, big - 1], [1, 1]], dtype=object)
    assert np.linalg.matrix_rank(w[:2].astype(np.float64)) == 1
    assert np.linalg.matrix_rank(w[[0, 2]].astype(np.float64)) == 1
    assert sub_rank(w, 2).value == oracle_sub_rank(w, 2) == 2
    assert sub_spark(w, 2).value == oracle_sub_spark(w, 2) == 3
    assert rank_of_rows(w, [0, 1]).value == 2


def test_rank_of_rows():
    w = np.array([[1, 2], [2, 4], [0, 1]])
    assert rank_of_rows(w, [0, 1]).value == 1
    assert rank_of_rows(w, [0, 2]).value == 2
    assert rank_of_rows(w, np.array([True, True, False])).value == 1
    assert rank_of_rows(w, []).value == 0
    assert rank_of_rows(np.zeros((2, 0)), [0, 1]).value == 0


@settings(max_examples=40)
@given(matrices | dyadic, st.data())
def test_rank_of_rows_equals_oracle(w, data):
    rows = sorted(data.draw(st.sets(st.integers(0, w.shape[0] - 1))))
    assert rank_of_rows(w, rows).value == frac_rank([rows_of(w)[i] for i in rows])


def test_spurious_modular_zeros_do_not_change_results(monkeypatch):
    """Tiny primes make modular false alarms common: restarts must keep the results exact."""
    calls = {"spurious": 0}
    real = _flats.SpuriousModP.__init__

    def counting(self, proven):
        calls["spurious"] += 1
        real(self, proven)

    monkeypatch.setattr(_flats.SpuriousModP, "__init__", counting)
    monkeypatch.setattr(_flats, "PRIMES", (2, 3, 5, _flats.PRIMES[0]))
    rng = np.random.default_rng(11)
    for _ in range(25):
        w = rng.integers(-6, 7, size=(6, 3))
        s = int(rng.integers(2, 7))
        assert sub_rank(w, s).value == oracle_sub_rank(w, s)
        assert sub_spark(w, s).value == oracle_sub_spark(w, s)
    assert calls["spurious"] > 0


# ---------------------------------------------------------------------------- time limits


def stacked_cauchy(k: int) -> np.ndarray:
    """``[I; C]`` (2k x k), ``C`` Cauchy with rows scaled to integers: every k rows independent.

    ``k`` rows of ``[I; C]`` are independent iff the complementary square submatrix of ``C`` is
    nonsingular, which holds for every submatrix of a Cauchy matrix. So ``sub_rank(W, k) = k``
    and ``sub_spark(W, k) = k + 1``.
    """
    rows = [[int(i == j) for j in range(k)] for i in range(k)]
    for i in range(k):
        row = [Fraction(1, i + j + 1) for j in range(k)]
        den = int(np.lcm.reduce([x.denominator for x in row]))
        rows.append([int(x * den) for x in row])
    return np.array(rows, dtype=np.int64)


def test_stacked_cauchy_small():
    w = stacked_cauchy(3)
    assert sub_rank(w, 3).value == 3 == oracle_sub_rank(w, 3)
    assert sub_spark(w, 3).value == 4 == oracle_sub_spark(w, 3)


def test_time_limit_gives_unknown_with_bracketing_bounds(fake_clock):
    fake_clock.step = 1.0  # a second per look at the clock: each limit passes after 100 looks
    w = stacked_cauchy(16)  # unlimited, both searches run into the size limit
    r = sub_rank(w, 16, time_limit=100)
    assert r.status is Status.UNKNOWN and r.reason == "time limit"
    assert r.lower.value <= 16 <= r.upper.value
    q = sub_spark(w, 16, time_limit=100)
    assert q.status is Status.UNKNOWN and q.reason == "time limit"
    assert q.lower.value <= 17 <= q.upper.value


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("func", [sub_rank, sub_spark])
def test_bad_input(func):
    w = np.array([[1, 2], [3, 4]])
    for s in (0, 3, -1):
        with pytest.raises(InvalidInput, match="s must be between 1 and 2"):
            func(w, s)
    with pytest.raises(InvalidInput, match="integer"):
        func(w, 1.0)
    with pytest.raises(InvalidInput, match="finite"):
        func(np.array([[np.nan, 1.0]]), 1)
    with pytest.raises(InvalidInput, match="2-D"):
        func(np.array([1, 2]), 1)
    with pytest.raises(InvalidInput, match="numbers"):
        func(np.array([["a", "b"]], dtype=object), 1)
    with pytest.raises(InvalidInput, match="time_limit"):
        func(w, 1, time_limit=0)


def test_bad_rows():
    with pytest.raises(InvalidInput, match="out of range"):
        rank_of_rows(np.eye(2), [5])
    with pytest.raises(InvalidInput, match="integer indices"):
        rank_of_rows(np.eye(2), [0.5])
