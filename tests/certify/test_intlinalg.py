"""The certify side's int64 linear algebra returns exactly what the checker's flint versions do."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from theorychk.certify._intlinalg import derived_left_inverse_bounds, exact_matmul
from theorychk.check.intmat import integer_layer
from theorychk.check.stability import _derive


@st.composite
def _int_pair(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    m, n, p = (draw(st.integers(1, 6)) for _ in range(3))
    a_bits, b_bits = draw(st.integers(1, 62)), draw(st.integers(1, 62))
    a = draw(st.lists(st.integers(-(2**a_bits) + 1, 2**a_bits - 1), min_size=m * n, max_size=m * n))
    b = draw(st.lists(st.integers(-(2**b_bits) + 1, 2**b_bits - 1), min_size=n * p, max_size=n * p))
    return np.array(a, dtype=np.int64).reshape(m, n), np.array(b, dtype=np.int64).reshape(n, p)


@given(_int_pair())
@example((np.array([[2**61]], dtype=np.int64), np.array([[2**61 - 1]], dtype=np.int64)))  # object fallback
@example((np.full((3, 3), 2**40, dtype=np.int64), np.full((3, 2), -(2**45), dtype=np.int64)))  # digits in float64
@example((np.full((2, 3), 2**50, dtype=np.int64), np.full((3, 2), 2**30 + 1, dtype=np.int64)))  # digits in int64
@settings(max_examples=300, deadline=None)
def test_exact_matmul_equals_python_integers(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    assert exact_matmul(a, b) == (a.astype(object) @ b.astype(object)).tolist()


def test_derived_left_inverse_bounds_equal_the_checkers() -> None:
    rng = np.random.default_rng(0)
    for _ in range(120):
        n, k = int(rng.integers(1, 14)), int(rng.integers(1, 6))
        dtype = (np.float32, np.float64)[int(rng.integers(2))]
        w = (rng.standard_normal((n, k)) * (1e-3, 1.0, 1e3)[int(rng.integers(3))]).astype(dtype)
        if rng.random() < 0.2:
            w[:, 0] = w[:, -1]  # rank deficient: both prove nothing
        layer = integer_layer(w, np.zeros(n, dtype))
        rows = sorted(rng.choice(n, int(rng.integers(0, n + 1)), replace=False).tolist())
        for bits in (8, 20, 40):
            assert derived_left_inverse_bounds(layer, rows, bits) == _derive(layer, rows, bits)


def test_gram_and_full_column_rank_agree_with_the_checker() -> None:
    from theorychk.check.core import trace
    from theorychk.check.intmat import full_column_rank as exact_full_column_rank, submatrix
    from theorychk.check.stability import _gram
    from theorychk.certify._intlinalg import full_column_rank, gram
    from theorychk.network import Layer, Network

    rng = np.random.default_rng(1)
    said = {True: 0, False: 0, None: 0}
    for _ in range(150):
        n, k = int(rng.integers(1, 12)), int(rng.integers(1, 5))
        w = rng.integers(-2, 3, (n, k)).astype(np.float64) * 2.0 ** int(rng.integers(-30, 30))
        if rng.random() < 0.3:
            w[:, 0] = 3 * w[:, -1]  # rank deficient
        layer = integer_layer(w, np.zeros(n))
        rows = sorted(rng.choice(n, int(rng.integers(0, n + 1)), replace=False).tolist())
        quick = full_column_rank(layer, rows)
        said[quick] += 1
        if quick is not None:  # a verdict must be the exact one; None only defers to it
            assert quick == exact_full_column_rank(submatrix(layer, rows, None))
        cols = sorted(rng.choice(k, int(rng.integers(0, k + 1)), replace=False).tolist())
        tr = trace(Network([Layer(w, None, "relu")]), [0] * k)
        for c in (None, cols):
            mine, theirs = gram(layer, rows, c), _gram(tr, 0, rows, c)
            assert mine[0] == theirs[0] and mine[1] == theirs[1]
    assert min(said.values()) > 0  # every branch ran


def test_row_selections_on_numerators_equal_the_traces() -> None:
    from fractions import Fraction

    from theorychk.certify.signal import observed_rows, support
    from theorychk.certify.stability import _lei_rows
    from theorychk.check.core import trace
    from theorychk.check.stability import lei_rows
    from theorychk.network import Layer, Network

    rng = np.random.default_rng(2)
    for spec in ("relu", "leaky_relu:0.25"):
        for _ in range(20):
            w0, w1 = rng.integers(-3, 4, (6, 3)) / 4, rng.integers(-3, 4, (5, 6)) / 8
            net = Network([Layer(w0, rng.integers(-2, 3, 6) / 2, spec), Layer(w1, None, "relu")])
            tr = trace(net, [Fraction(int(v), 3) for v in rng.integers(-4, 5, 3)])
            for j in range(2):
                assert observed_rows(tr, j) == tr.observed_rows(j) and support(tr, j) == tr.support(j)
                for t in (Fraction(0), Fraction(1, 6), Fraction(1, 2), Fraction(3, 7)):
                    assert _lei_rows(tr, j, t) == lei_rows(tr, j, t)


def test_shifted_definiteness_decides_as_the_checkers_charpoly_test() -> None:
    import flint
    from fractions import Fraction

    from theorychk.certify._intlinalg import ShiftedDefiniteness
    from theorychk.check.stability import _shift_pd

    rng = np.random.default_rng(3)
    seen = set()
    for _ in range(300):
        k = int(rng.integers(0, 6))
        a = rng.integers(-3, 4, (k + int(rng.integers(0, 3)), k))
        g = flint.fmpz_mat((a.T @ a).tolist()) if k else flint.fmpz_mat(0, 0)
        s = Fraction(int(rng.integers(1, 5)), int(rng.integers(1, 9)))
        pd = ShiftedDefiniteness(g, s)
        ev = np.linalg.eigvalsh((a.T @ a).astype(float)) if k else np.zeros(1)
        # at, just below and just above each eigenvalue (singular shifts included), and anywhere
        ts = [Fraction(round(v * float(s) * 8), 8) + d for v in ev for d in (0, Fraction(-1, 64), Fraction(1, 64))]
        for t in ts + [Fraction(int(rng.integers(-10, 60)), int(rng.integers(1, 7)))]:
            for sign in (1, -1):
                got = pd.holds(t, sign)
                assert got == _shift_pd(g, s, t, sign)
                seen.add(got)
    assert seen == {True, False}
