"""spark and spark_of_rows against a brute-force oracle in exact Fraction elimination.

The oracle below is independent of theorychk.exact and flint: all column subsets in increasing
size, each rank by Gaussian elimination over Fractions.
"""

from __future__ import annotations

import itertools
import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from theorychk.errors import InvalidInput
from theorychk.invariants import _flats
from theorychk.invariants.spark import spark, spark_of_rows
from theorychk.verdict import Status

# ---------------------------------------------------------------------------- oracle


def frac_rank(rows: list[list[Fraction]]) -> int:
    """Rank by Gaussian elimination over Fractions."""
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


def fractions_of(a: np.ndarray) -> list[list[Fraction]]:
    return [[Fraction(x) if not isinstance(x, float) else Fraction(x) for x in row] for row in a.tolist()]


def oracle_spark(a: np.ndarray) -> int:
    rows = fractions_of(np.asarray(a))
    n = np.asarray(a).shape[1]
    for k in range(1, n + 1):
        for cols in itertools.combinations(range(n), k):
            if frac_rank([[r[c] for c in cols] for r in rows]) < k:
                return k
    return n + 1


def check_witness(a: np.ndarray, result) -> None:
    """The upper bound's null vector is nonzero on its columns and in the kernel, in Fractions."""
    ev = result.upper.evidence
    if "null_vector" not in ev:
        assert result.upper.value == np.asarray(a).shape[1] + 1  # the n + 1 convention
        return
    cols, vec = ev["columns"], ev["null_vector"]
    assert len(cols) == len(vec) == result.upper.value
    assert all(isinstance(v, Fraction) and v != 0 for v in vec)
    for row in fractions_of(np.asarray(a)):
        assert sum(row[c] * v for c, v in zip(cols, vec)) == 0


small_ints = st.integers(0, 6).flatmap(
    lambda m: st.integers(0, 8).flatmap(lambda n: arrays(np.int64, (m, n), elements=st.integers(-3, 3))))
# Entries in {-1, 0, 1} make many dependent subsets: spark takes every value.
sparse_ints = st.integers(1, 5).flatmap(
    lambda m: st.integers(1, 8).flatmap(lambda n: arrays(np.int64, (m, n), elements=st.integers(-1, 1))))
dyadics = st.integers(1, 5).flatmap(
    lambda m: st.integers(1, 7).flatmap(
        lambda n: arrays(np.float64, (m, n), elements=st.integers(-8, 8).map(lambda k: k / 4))))

TWO_EQUAL = np.array([[1, 2, 2, 0], [3, 1, 1, 1], [0, 5, 5, 2]])
ZERO_COL = np.array([[1, 0, 2], [3, 0, 1]])


# ---------------------------------------------------------------------------- exactness


@settings(max_examples=80)
@given(small_ints | sparse_ints)
@example(TWO_EQUAL)
@example(ZERO_COL)
@example(np.zeros((0, 3), dtype=np.int64))
@example(np.zeros((2, 0), dtype=np.int64))
@example(np.eye(3, dtype=np.int64))
def test_spark_equals_oracle_with_verified_witness(a):
    r = spark(a)
    assert r.status is Status.CERTIFIED and r.exact
    assert r.value == oracle_spark(a)
    check_witness(a, r)
    json.dumps(r.to_dict())


def test_known_traps():
    assert spark(TWO_EQUAL).value == 2
    assert spark(TWO_EQUAL).witness["columns"] == [1, 2]
    assert spark(ZERO_COL).value == 1 and spark(ZERO_COL).witness == {"columns": [1], "null_vector": [1]}
    assert spark(np.zeros((0, 3))).value == 1  # no rows: every column is dependent alone
    assert spark(np.zeros((3, 0))).value == 1  # no columns: n + 1
    assert spark(np.zeros((0, 0))).value == 1


def test_float_rank_decision_fails_near_2_53_but_spark_is_exact():
    # det = (2^53 + 1)(2^53 - 1) - 2^106 = -1: the columns are independent, spark = 3. In float64
    # 2^53 + 1 rounds to 2^53 and numpy's default tolerance calls the matrix rank 1 (spark 2).
    big = 2**53
    a = np.array([[big + 1, big], [big, big - 1]], dtype=object)
    assert np.linalg.matrix_rank(a.astype(np.float64)) == 1
    r = spark(a)
    assert r.value == 3 == oracle_spark(a)
    # ...and the other way round: exactly dependent columns among huge integers.
    b = np.array([[big + 1, 3 * (big + 1), 1], [3, 9, 0], [1, 3, 7]], dtype=object)
    assert spark(b).value == 2 == oracle_spark(b)
    check_witness(b, spark(b))


@settings(max_examples=60)
@given(small_ints | sparse_ints)
@example(TWO_EQUAL)
def test_enumeration_and_duality_agree(a):
    want = oracle_spark(a)
    for method in ("enumerate", "dual"):
        r = spark(a, method=method, bounds=(), heuristic=False)
        assert r.value == want, method
        check_witness(a, r)


@settings(max_examples=40)
@given(dyadics)
def test_dyadic_floats(a):
    r = spark(a)
    assert r.value == oracle_spark(a)
    check_witness(a, r)


# ---------------------------------------------------------------------------- bounds


@settings(max_examples=80)
@given(small_ints | sparse_ints | dyadics)
@example(TWO_EQUAL)
def test_every_bound_brackets_the_oracle(a):
    want = oracle_spark(a)
    r = spark(a, method="bounds")
    assert r.lower.value <= want <= r.upper.value
    for name, value in r.lower.evidence.get("candidates", {}).items():
        assert value <= want, name
    check_witness(a, r)
    if r.status is Status.UNKNOWN:
        assert r.reason == "bound gap"


def test_lp_bound_certificate_recomputes_exactly():
    a = np.random.default_rng(3).integers(-3, 4, size=(5, 8))  # the LP bound (4) is binding here
    r = spark(a, method="bounds", bounds=("lp",), heuristic=False)
    ev = r.lower.evidence
    assert r.lower.method == "LP bound"
    rows, d = fractions_of(a), ev["column_scaling"]
    n = a.shape[1]
    for i, y in enumerate(ev["y"]):
        # t_i = || e_i - D A^T y ||_inf, recomputed from the certificate alone (weak duality).
        aty = [sum(rows[k][j] * y[k] for k in range(len(y))) for j in range(n)]
        resid = [(1 if i == j else 0) - d[j] * aty[j] for j in range(n)]
        assert max(abs(v) for v in resid) == ev["t"][i]
    t = sorted(ev["t"], reverse=True)
    s = r.lower.value
    assert sum(t[:s]) >= 1 and sum(t[: s - 1]) < 1
    assert s <= oracle_spark(a)


def test_a_cheap_enumeration_runs_without_the_lp_stages():
    # 5 x 8 of rank 5: the exact search (here the kernel duality) is tiny, far below
    # CHEAP_ENUMERATION; the LP bound (binding with method="bounds", above) and the l1 heuristic
    # would cost more than it.
    a = np.random.default_rng(3).integers(-3, 4, size=(5, 8))
    r = spark(a)
    assert r.params["lp_stages"].startswith("skipped")
    assert "LP bound" not in r.lower.evidence["candidates"]
    assert r.lower.method == "kernel duality"
    assert r.status is Status.CERTIFIED and r.value == oracle_spark(a)
    check_witness(a, r)


def test_the_lp_stages_run_when_the_enumeration_is_not_cheap():
    # 12 x 24 of rank 12: a full search to rank + 1 stores ~2.6e7 residues. The LP bound proves
    # spark >= 4 and the l1 heuristic finds the planted 4-column circuit: no enumeration at all.
    a = np.random.default_rng(3).integers(-3, 4, size=(12, 24))
    a[:, 23] = a[:, 0] + a[:, 1] + a[:, 2]
    r = spark(a)
    assert "lp_stages" not in r.params
    assert (r.lower.method, r.upper.method, r.value) == ("LP bound", "l1 heuristic", 4)
    assert r.upper.evidence["columns"] == [0, 1, 2, 23]
    check_witness(a, r)


def test_lp_bound_is_in_the_units_of_the_integers_it_is_given():
    # The certifier hands the engine the checker's integer rows (any power-of-two multiple of W^S):
    # the column scaling must then be in those units, or the certificate's D / scale misreads it.
    import flint

    a = np.random.default_rng(3).integers(-3, 4, size=(5, 8))
    rows = list(range(5))
    own = spark_of_rows(a, rows, method="bounds", bounds=("lp",), heuristic=False)
    given = spark_of_rows(a, rows, method="bounds", bounds=("lp",), heuristic=False, integers=flint.fmpz_mat((2 * a).tolist()))
    assert own.lower.method == given.lower.method == "LP bound"
    assert given.lower.evidence["column_scaling"] == [d / 2 for d in own.lower.evidence["column_scaling"]]
    assert given.lower.value == own.lower.value


def test_coherence_and_babel_bounds_are_recorded_and_sound():
    a = np.array([[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 1]])  # mu = 1/sqrt(3): spark >= 1 + sqrt(3)
    r = spark(a, method="bounds")
    assert r.lower.evidence["candidates"]["coherence"] == 3
    assert r.lower.evidence["candidates"]["babel"] >= 3
    assert oracle_spark(a) == 4 and r.value == 4


# ---------------------------------------------------------------------------- invariance


@settings(max_examples=40)
@given(small_ints | sparse_ints, st.randoms(use_true_random=False))
def test_invariant_under_scaling_and_permutation(a, rnd):
    want = spark(a).value
    m, n = a.shape
    scale = np.array([rnd.choice([-3, -2, -1, 1, 2, 5]) for _ in range(n)])
    rows, cols = list(range(m)), list(range(n))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    assert spark(a * scale).value == want
    assert spark(a[rows][:, cols]).value == want


# ---------------------------------------------------------------------------- at_least, per signal


@settings(max_examples=40)
@given(small_ints | sparse_ints, st.integers(1, 9))
def test_at_least_decides_the_comparison(a, t):
    want = oracle_spark(a)
    r = spark(a, at_least=t)
    assert r.status is Status.CERTIFIED
    assert r.lower.value <= want <= r.upper.value
    assert (r.lower.value >= t) == (want >= t) or r.upper.value < t
    assert (want >= t) == (r.lower.value >= t)


@settings(max_examples=40)
@given(sparse_ints, st.data())
def test_spark_of_rows_is_spark_of_the_submatrix(w, data):
    rows = sorted(data.draw(st.sets(st.integers(0, w.shape[0] - 1))))
    r = spark_of_rows(w, rows)
    assert r.value == oracle_spark(w[rows, :])
    assert r.params["rows"] == rows
    mask = np.zeros(w.shape[0], dtype=bool)
    mask[rows] = True
    assert spark_of_rows(w, mask).value == r.value


def test_spark_of_rows_is_fast_on_full_column_rank():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((60, 20))
    rows = sorted(rng.choice(60, 30, replace=False).tolist())
    r = spark_of_rows(w, rows)
    assert r.value == 21


# ---------------------------------------------------------------------------- modular failures


def test_spurious_modular_zeros_restart_with_the_next_prime(monkeypatch):
    """Tiny primes make modular false alarms common: the result must not change."""
    calls = {"spurious": 0}
    real = _flats.SpuriousModP.__init__

    def counting(self, proven):
        calls["spurious"] += 1
        real(self, proven)

    monkeypatch.setattr(_flats.SpuriousModP, "__init__", counting)
    monkeypatch.setattr(_flats, "PRIMES", (2, 3, 5, _flats.PRIMES[0]))
    rng = np.random.default_rng(3)
    for _ in range(40):
        a = rng.integers(-6, 7, size=(3, 6))
        want = oracle_spark(a)
        for method in ("enumerate", "dual"):
            r = spark(a, method=method, bounds=(), heuristic=False)
            assert r.value == want
            check_witness(a, r)
    assert calls["spurious"] > 0


# ---------------------------------------------------------------------------- time limit


def cauchy_full_spark(m: int) -> np.ndarray:
    """``[I | C]`` with ``C`` a Cauchy matrix (rows scaled to integers): spark is ``m + 1``.

    Every square submatrix of a Cauchy matrix is a nonsingular Cauchy matrix, and ``m`` columns
    of ``[I | C]`` are independent iff the complementary square submatrix of ``C`` is.
    """
    c = [[Fraction(1, i + j + 1) for j in range(m)] for i in range(m)]
    rows = []
    for i in range(m):
        row = [Fraction(int(i == j)) for j in range(m)] + c[i]
        den = np.lcm.reduce([x.denominator for x in row])
        rows.append([int(x * int(den)) for x in row])
    return np.array(rows, dtype=np.int64)


def test_time_limit_gives_unknown_with_bracketing_bounds(fake_clock):
    fake_clock.step = 1.0  # a second per look at the clock: the limit passes after 1000 looks
    a = cauchy_full_spark(16)  # full spark 17: the enumeration would run into the size limit
    r = spark(a, time_limit=1000)
    assert r.status is Status.UNKNOWN and r.reason == "time limit"
    assert r.lower.method == "enumeration"  # the bounds ran; the enumeration was cut short
    assert r.lower.value <= 17 <= r.upper.value
    check_witness(a, r)


def test_size_limit_gives_unknown_with_bracketing_bounds(monkeypatch):
    monkeypatch.setattr(_flats, "MAX_LEVEL_ENTRIES", 50)
    a = cauchy_full_spark(6)
    r = spark(a, method="enumerate", bounds=(), heuristic=False)
    assert r.status is Status.UNKNOWN and r.reason.startswith("size limit")
    assert r.lower.value <= 7 <= r.upper.value


def test_progress_flag_is_quiet_without_a_terminal(capsys):
    assert spark(cauchy_full_spark(4), progress=True, method="enumerate").value == 5
    assert capsys.readouterr().err == ""


def test_cauchy_construction_small():
    a = cauchy_full_spark(4)
    assert spark(a).value == 5 == oracle_spark(a)


@pytest.mark.slow
def test_full_spark_12_by_24_within_seconds():
    """Slow: proves full spark of a 12 x 24 matrix (C(24, 12) minors), about 1 s."""
    r = spark(cauchy_full_spark(12))
    assert r.value == 13


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.array([[1.0, np.nan]]), "finite"),
        (np.array([1, 2, 3]), "2-D"),
        (np.array([["a", "b"]], dtype=object), "numbers"),
        (np.array([["1", "2"]]), "numeric"),
    ],
)
def test_bad_matrix(bad, message):
    with pytest.raises(InvalidInput, match=message):
        spark(bad)


def test_bad_options():
    with pytest.raises(InvalidInput, match="did you mean 'dual'"):
        spark(np.eye(2), method="duel")
    with pytest.raises(InvalidInput, match="at_least"):
        spark(np.eye(2), at_least=0)
    with pytest.raises(InvalidInput, match="time_limit"):
        spark(np.eye(2), time_limit=-1)
    with pytest.raises(InvalidInput, match="spark bound"):
        spark(np.eye(2), bounds=("lpp",))
    with pytest.raises(InvalidInput, match="out of range"):
        spark_of_rows(np.eye(2), [0, 2])
    with pytest.raises(InvalidInput, match="distinct"):
        spark_of_rows(np.eye(2), [0, 0])
    with pytest.raises(InvalidInput, match="mask"):
        spark_of_rows(np.eye(2), [True, False, True])


# ---------------------------------------------------------------------------- method="milp"


@settings(max_examples=40, deadline=None)
@given(small_ints | sparse_ints | dyadics)
@example(TWO_EQUAL)
@example(np.array([[1, 0, 1, 0, 1], [0, 1, 1, 0, 2], [0, 0, 0, 1, 1]]))
def test_milp_upper_bound_is_the_spark_with_a_verified_witness(a):
    """HiGHS only proposes supports: the exact upper bound must still be the brute-force spark."""
    want = oracle_spark(a)
    r = spark(a, method="milp", bounds=(), heuristic=False)
    assert r.upper.value == want
    assert r.lower.value <= want
    check_witness(a, r)
    ev = r.lower.evidence
    if r.status is Status.CERTIFIED:  # only exact evidence certifies: a trivial case or met bounds
        assert r.exact and "MILP" not in r.lower.method
    else:
        assert r.reason == "bound from MILP dual, not exact"
        assert ev["milp_dual_bound"] >= r.upper.value - 1e-6  # HiGHS agrees, but proves nothing
    json.dumps(r.to_dict())


def test_milp_dual_bound_alone_never_certifies():
    # Spark 4 (planted), but coherence / Babel / LP give less: the MILP's dual bound reaches 4.
    a = np.array([[1, 0, 0, 1, 2, -1], [0, 1, 0, 1, -1, 3], [0, 0, 1, 1, 1, 2]])
    assert oracle_spark(a) == 4
    r = spark(a, method="milp", bounds=(), heuristic=False)
    assert r.upper.value == 4 and r.lower.value == 3
    assert r.status is Status.UNKNOWN and r.reason == "bound from MILP dual, not exact"
    assert r.lower.evidence["milp_dual_bound"] == pytest.approx(4)
    assert r.lower.method != "MILP" and r.upper.method in ("MILP proposal", "rank + 1")
    check_witness(a, r)
    # The same matrix with the exact stage: certified by enumeration, not by HiGHS.
    assert spark(a).status is Status.CERTIFIED and spark(a).value == 4


def test_milp_time_limit_gives_unknown_with_bracketing_bounds(fake_clock):
    a = np.random.default_rng(0).integers(-3, 4, size=(8, 16))  # full spark 9: one model per column
    want = spark(a).value
    # A minute per look at the clock: HiGHS has minutes for the first model, none for the second.
    fake_clock.step = 60.0
    r = spark(a, method="milp", bounds=(), heuristic=False, time_limit=300)
    assert r.status is Status.UNKNOWN and r.reason == "time limit"
    assert r.lower.evidence["milp_statuses"] == ["infeasible", "time limit"]
    assert r.lower.value <= want <= r.upper.value
    assert r.lower.evidence["milp_dual_bound"] is None  # unfinished: HiGHS bounds nothing
    check_witness(a, r)


def test_milp_with_at_least_and_planted_support():
    rng = np.random.default_rng(1)
    a = rng.integers(-3, 4, size=(6, 12))
    a[:, 11] = a[:, 2] - 2 * a[:, 7]  # a 3-column dependency
    want = oracle_spark(a)
    r = spark(a, method="milp", bounds=(), heuristic=False)
    assert r.upper.value == want == 3 and r.status is Status.CERTIFIED  # lower 3: no parallel columns
    check_witness(a, r)
    r = spark(a, method="milp", bounds=(), heuristic=False, at_least=5)
    assert r.status is Status.CERTIFIED and r.upper.value == 3 < 5


@pytest.mark.parametrize("a", [np.zeros((0, 3), dtype=np.int64), np.zeros((0, 3)), np.zeros((0, 3), dtype=object),
                               np.array([[2**60, 1, 1]], dtype=object)[:0]])
def test_zero_row_matrix_has_spark_one(a):
    """Zero rows: every column is the zero vector, so one column is already dependent (issue 13:
    the object-dtype path — big integers — lost the column count and raised IndexError)."""
    for res in (spark(a), spark_of_rows(np.vstack([a, np.ones((1, 3), dtype=a.dtype)]), [])):
        assert res.value == 1 and res.status is Status.CERTIFIED
        assert res.upper.evidence["columns"] == [0]


def test_exact_kernel_keeps_the_columns_of_an_empty_object_matrix():
    from theorychk.exact import to_fmpq_mat, to_fmpz_mat

    z, _ = to_fmpz_mat(np.zeros((0, 4), dtype=object))
    assert (z.nrows(), z.ncols()) == (0, 4) and to_fmpq_mat(np.zeros((0, 4), dtype=object)).ncols() == 4
