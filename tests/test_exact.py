"""The exact kernel against brute-force Fraction elimination written here, independently."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from theorychk import exact
from theorychk.errors import InvalidInput


def fraction_rref(rows):
    """Reduced row echelon form over Q by textbook Gauss-Jordan; returns (rref rows, pivots)."""
    m = [[Fraction(x) for x in row] for row in rows]
    pivots, r = [], 0
    ncols = len(m[0]) if m else 0
    for c in range(ncols):
        p = next((i for i in range(r, len(m)) if m[i][c] != 0), None)
        if p is None:
            continue
        m[r], m[p] = m[p], m[r]
        m[r] = [x / m[r][c] for x in m[r]]
        for i in range(len(m)):
            if i != r and m[i][c] != 0:
                f = m[i][c]
                m[i] = [a - f * b for a, b in zip(m[i], m[r])]
        pivots.append(c)
        r += 1
    return m, pivots


def small_matrices(max_side=6):
    ints = hnp.arrays(np.int64, st.tuples(st.integers(1, max_side), st.integers(1, max_side)), elements=st.integers(-3, 3))
    dyadic = hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, max_side), st.integers(1, max_side)),
        elements=st.integers(-16, 16).map(lambda k: k / 8),
    )
    return ints | dyadic


TRAP = np.array([[2**53, 2**53 - 1], [2**53 - 1, 2**53 - 2]], dtype=object)  # det = -1: float says singular


@given(small_matrices())
@example(np.zeros((3, 2)))
@example(np.array([[1.0, 1.0], [1.0, 1.0]]))
def test_rank_matches_brute_force(a):
    _, pivots = fraction_rref(a.tolist())
    assert exact.rank(a) == len(pivots)
    assert exact.rank_mod_p(a) <= len(pivots)


def test_rank_exact_where_floats_fail():
    assert exact.rank(TRAP) == 2
    assert np.linalg.matrix_rank(TRAP.astype(np.float64)) == 1  # the trap is real


@given(small_matrices())
def test_nullspace_is_a_basis_of_the_kernel(a):
    basis = exact.nullspace(a)
    _, pivots = fraction_rref(a.tolist())
    assert len(basis) == a.shape[1] - len(pivots)
    rows = [[Fraction(x) for x in r] for r in a.tolist()]
    for v in basis:
        assert all(sum(r[j] * v[j] for j in range(len(v))) == 0 for r in rows)
        first = next(x for x in v if x != 0)
        assert first > 0 and all(x.denominator == 1 for x in v)
    if basis:  # independent
        _, piv = fraction_rref([list(v) for v in basis])
        assert len(piv) == len(basis)


@given(small_matrices(), st.data())
def test_solve_matches_brute_force(a, data):
    rows = a.tolist()
    x_true = data.draw(st.lists(st.integers(-3, 3), min_size=a.shape[1], max_size=a.shape[1]))
    b = [sum(Fraction(r[j]) * x_true[j] for j in range(len(x_true))) for r in rows]
    x = exact.solve(a, b)
    assert x is not None
    assert list(exact.matvec(a, x)) == b
    b_bad = list(b)
    b_bad[0] += 1
    consistent = fraction_rref([r + [bb] for r, bb in zip(rows, b_bad)])[1]
    expect_none = a.shape[1] in consistent
    assert (exact.solve(a, b_bad) is None) == expect_none


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_rational_is_exact_for_every_float(x):
    q = exact.rational(x)
    assert float(q) == x and q == Fraction(x)
    assert exact.rational(exact.rational_str(x)) == q
    assert exact.rational(float.hex(x)) == q


def test_rational_rejects_non_finite_and_garbage():
    with pytest.raises(InvalidInput, match="non-finite"):
        exact.rational(float("nan"))
    with pytest.raises(InvalidInput, match="cannot read 'abc' as an exact rational"):
        exact.rational("abc")
    with pytest.raises(InvalidInput, match="must be 2-D"):
        exact.rank(np.ones(3))
    with pytest.raises(InvalidInput, match="finite"):
        exact.rank(np.array([[np.inf]]))


def test_float_conversion_spans_wide_exponents():
    a = np.array([[1e-300, 1.0], [1e300, 3.0]])
    q = exact.to_fractions(a)
    assert q[0][0] == Fraction(1e-300) and q[1][0] == Fraction(1e300)
    assert exact.rank(a) == 2


def test_empty_shapes_are_defined():
    assert exact.rank(np.zeros((0, 3))) == 0
    assert len(exact.nullspace(np.zeros((0, 3)))) == 3
    assert exact.solve(np.zeros((2, 0)), [0, 0]) == ()
    assert exact.solve(np.zeros((2, 0)), [0, 1]) is None


def test_exact_forward_matches_float_forward_on_dyadic_nets():
    from theorychk.network import Layer, Network

    rng = np.random.default_rng(3)
    for spec in ("relu", "leaky_relu:0.25", "identity", "plu:0.5:1.0"):
        net = Network(
            [Layer(rng.integers(-4, 5, (5, 3)) / 4, rng.integers(-4, 5, 5) / 8, spec), Layer(rng.integers(-3, 4, (2, 5)), None, "relu")]
        )
        z = rng.integers(-8, 9, 3) / 8
        exact_out = exact.forward([(l.weight, l.bias, l.activation.spec) for l in net.layers], z)
        # dyadic data with few bits: the float pass is exact too, so they must agree exactly
        assert [float(v) for v in exact_out[-1]] == net.forward(z).tolist()
        assert len(exact_out) == 2


def test_exact_forward_rejects_smooth_activations():
    with pytest.raises(InvalidInput, match="not piecewise linear"):
        exact.forward([([[1.0]], [0.0], "tanh")], [1.0])
