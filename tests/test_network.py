"""The Network model: validation at construction, forward pass, supports, fingerprint, BN folding;
what an activation tells the engines (exact value and inverse, linear pieces, derivative)."""

import math
from fractions import Fraction

import flint
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from theorychk.errors import InvalidInput
from theorychk.network import (
    PLU,
    Identity,
    Layer,
    LeakyReLU,
    Network,
    ReLU,
    Sigmoid,
    Tanh,
    fold_batch_norm,
    parse_activation,
)

ACT_SPECS = ["relu", "leaky_relu:0.1", "identity", "tanh", "sigmoid", "plu", "plu:0.2:0.5"]


@st.composite
def networks(draw, max_depth=3, max_width=6, dtype=None):
    depth = draw(st.integers(1, max_depth))
    widths = draw(st.lists(st.integers(1, max_width), min_size=depth + 1, max_size=depth + 1))
    dt = dtype or draw(st.sampled_from([np.float32, np.float64]))
    layers = []
    for i in range(depth):
        elems = st.floats(-4, 4, width=32)
        w = draw(hnp.arrays(dt, (widths[i + 1], widths[i]), elements=elems))
        b = draw(st.none() | hnp.arrays(dt, (widths[i + 1],), elements=elems))
        layers.append(Layer(w, b, draw(st.sampled_from(ACT_SPECS))))
    return Network(tuple(layers))


def explicit_forward(net, z):
    """The forward pass written as plain matrix products, one sample at a time."""
    x = np.array(z, dtype=np.float64)
    for layer in net.layers:
        u = layer.weight @ x + layer.bias
        x = layer.activation(u)
    return x


@given(networks(), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_forward_equals_explicit_products(net, batch, seed):
    z = np.random.default_rng(seed).standard_normal((batch, net.latent_dim))
    out = net.forward(z)
    assert out.shape == (batch, net.output_dim)
    for i in range(batch):
        np.testing.assert_allclose(out[i], explicit_forward(net, z[i]), rtol=1e-12, atol=1e-12)
    # one sample vs a batch may take different BLAS paths (gemv vs gemm): equal up to rounding
    np.testing.assert_allclose(net.forward(z[0]), out[0], rtol=1e-12, atol=1e-12)


@given(networks(), st.integers(0, 2**32 - 1))
def test_trace_and_supports_agree(net, seed):
    z = np.random.default_rng(seed).standard_normal(net.latent_dim)
    pre, post = net.trace(z)
    assert [p.shape[0] for p in pre] == list(net.widths[1:])
    for layer, p, x, s in zip(net.layers, pre, post, net.supports(z)):
        np.testing.assert_array_equal(layer.activation(p), x)
        np.testing.assert_array_equal(s, p > 0)


def test_widths_expansion_params():
    net = Network([Layer(np.ones((6, 2)), np.zeros(6), "relu"), Layer(np.ones((12, 6)), None, "identity")])
    assert net.widths == (2, 6, 12)
    assert net.expansion == (3.0, 2.0)
    assert net.n_params == 6 * 2 + 6 + 12 * 6
    assert net.depth == 2 and net.latent_dim == 2 and net.output_dim == 12


def test_float32_is_recorded_and_kept_exact():
    w = np.array([[0.1, 0.2]], dtype=np.float32)
    layer = Layer(w, None, "relu")
    assert layer.dtype == "float32"
    assert layer.weight.dtype == np.float64
    np.testing.assert_array_equal(layer.weight.astype(np.float32), w)  # widened exactly
    assert layer.weight[0, 0] != 0.1  # the float32 number, not the decimal 0.1
    with pytest.raises(ValueError):
        layer.weight[0, 0] = 1.0  # read-only


def test_fingerprint_depends_on_stored_numbers_and_dtype():
    w = np.array([[1.0, 2.0]], dtype=np.float32)
    a = Network([Layer(w, None, "relu")])
    assert a.fingerprint() == Network([Layer(w.copy(), None, "relu")]).fingerprint()
    assert a.fingerprint() != Network([Layer(w.astype(np.float64), None, "relu")]).fingerprint()
    assert a.fingerprint() != Network([Layer(w, None, "leaky_relu:0.1")]).fingerprint()
    w2 = w.copy()
    w2[0, 1] = np.nextafter(np.float32(2.0), np.float32(3.0))
    assert a.fingerprint() != Network([Layer(w2, None, "relu")]).fingerprint()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Layer(np.array([1.0, 2.0]), None, "relu"), r"weight must be 2-D; got shape \(2,\)"),
        (lambda: Layer(np.array([[np.nan, 1.0]]), None, "relu"), r"weight must be finite; got nan at index \(0, 0\)"),
        (lambda: Layer(np.array([[np.inf]]), None, "relu"), r"weight must be finite; got inf"),
        (lambda: Layer(np.ones((2, 3)), np.ones(3), "relu"), r"bias length must equal the weight's row count 2; got 3"),
        (lambda: Layer(np.ones((0, 3)), None, "relu"), r"at least one row and one column; got shape \(0, 3\)"),
        (lambda: Layer(np.array([["a"]]), None, "relu"), r"weight must be a numeric array"),
        (lambda: Layer(np.array([[2**60]]), None, "relu"), r"integers beyond 2\*\*53"),
        (lambda: Network([]), r"at least one layer; got none"),
        (
            lambda: Network([Layer(np.ones((3, 2))), Layer(np.ones((4, 5)))]),
            r"layer widths do not chain: layer 0 outputs 3 values but layer 1 weight has 5 columns",
        ),
        (lambda: LeakyReLU(1.5), r"LeakyReLU slope must be in \(0, 1\); got 1.5"),
        (lambda: LeakyReLU(0.0), r"LeakyReLU slope must be in \(0, 1\); got 0.0"),
        (lambda: parse_activation("leaky_relu"), r"needs exactly one slope"),
        (lambda: parse_activation("relu:2"), r"takes no parameter"),
        (lambda: parse_activation("rleu"), r"unknown activation 'rleu'.*did you mean 'relu'"),
        (lambda: parse_activation("leaky_relu:x"), r"parameters must be numbers"),
    ],
)
def test_bad_input_is_one_clear_error(make, message):
    with pytest.raises(InvalidInput, match=message):
        make()


def test_latent_of_wrong_shape_is_an_error():
    net = Network([Layer(np.ones((3, 2)))])
    with pytest.raises(InvalidInput, match=r"latent must have shape \(2,\) or \(batch, 2\); got \(3,\)"):
        net.forward(np.ones(3))
    with pytest.raises(InvalidInput, match="latent must be finite"):
        net.forward(np.array([np.nan, 0.0]))


@pytest.mark.parametrize("act", [LeakyReLU(0.2), Identity(), Tanh(), Sigmoid(), PLU(), PLU(0.3, 2.0)])
def test_invertible_activations_invert(act):
    x = np.linspace(-3, 3, 61)
    np.testing.assert_allclose(act.inverse(act(x)), x, rtol=1e-9, atol=1e-9)
    assert act.invertible


def test_sigmoid_inverse_is_accurate_far_in_the_tail():
    x = np.array([-40.0, -25.0, -15.0, 15.0, 30.0])
    np.testing.assert_allclose(Sigmoid().inverse(Sigmoid()(x[:3])), x[:3], rtol=1e-12)
    assert Sigmoid()(x[-1:])[0] < 1.0


def test_inverse_lipschitz_constants():
    assert ReLU().inverse_lipschitz == np.inf and not ReLU().invertible
    assert LeakyReLU(0.25).inverse_lipschitz == 4.0
    assert PLU(0.1, 1.0).inverse_lipschitz == pytest.approx(10.0)
    assert Identity().inverse_lipschitz == 1.0
    # the stated constant really bounds the inverse's slopes
    for act in (LeakyReLU(0.25), PLU(0.1, 1.0)):
        y = np.linspace(-5, 5, 2001)
        slopes = np.abs(np.diff(act.inverse(y)) / np.diff(y))
        assert slopes.max() <= act.inverse_lipschitz * (1 + 1e-9)


def test_plu_matches_its_definition():
    act = PLU(0.1, 1.0)
    assert act(np.array([0.5]))[0] == 0.5
    assert act(np.array([3.0]))[0] == pytest.approx(1.0 + 0.1 * 2.0)
    assert act(np.array([-3.0]))[0] == pytest.approx(-1.0 - 0.1 * 2.0)


@given(st.sampled_from(ACT_SPECS))
def test_activation_spec_round_trips(spec):
    act = parse_activation(spec)
    assert parse_activation(act.spec) == act


@given(
    st.integers(1, 5),
    st.integers(1, 5),
    st.integers(0, 2**32 - 1),
)
def test_batch_norm_folding_preserves_outputs(n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    w, b = rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out)
    gamma, beta = rng.uniform(0.5, 2, n_out), rng.standard_normal(n_out)
    mean, var = rng.standard_normal(n_out), rng.uniform(0.1, 3, n_out)
    x = rng.standard_normal((7, n_in))
    bn = gamma * (x @ w.T + b - mean) / np.sqrt(var + 1e-5) + beta
    wf, bf = fold_batch_norm(w, b, gamma=gamma, beta=beta, mean=mean, var=var, eps=1e-5)
    np.testing.assert_allclose(x @ wf.T + bf, bn, rtol=1e-10, atol=1e-10)


def test_batch_norm_folding_rejects_wrong_lengths():
    with pytest.raises(InvalidInput, match=r"batch-norm var must have length 2; got shape \(3,\)"):
        fold_batch_norm(np.ones((2, 2)), None, gamma=np.ones(2), beta=np.ones(2), mean=np.ones(2), var=np.ones(3))


def test_with_activations_keeps_weights():
    net = Network([Layer(np.ones((3, 2)), None, "relu")])
    other = net.with_activations(["leaky_relu:0.2"])
    np.testing.assert_array_equal(other.layers[0].weight, net.layers[0].weight)
    assert other.layers[0].activation == LeakyReLU(0.2)
    assert not other.layers[0].has_bias


# --------------------------------------------------------------------------------------------
# What the engines ask of an activation: exact value and inverse, pieces, derivative
# --------------------------------------------------------------------------------------------

PIECEWISE = ["relu", "leaky_relu:0.1", "leaky_relu:0.25", "identity", "plu", "plu:0.2:0.5", "plu:0.3:3"]
SMOOTH = ["tanh", "sigmoid"]
# dyadic rationals k / 2**e: exact as floats, so the float activation and the exact one see the same number
dyadics = st.builds(lambda k, e: Fraction(k, 2**e), st.integers(-(2**24), 2**24), st.integers(0, 20))


@given(st.sampled_from(PIECEWISE), dyadics)
def test_exact_value_agrees_with_the_float_activation(spec, u):
    act = parse_activation(spec)
    got = act.exact(u)
    assert isinstance(got, Fraction)
    want = float(act(np.array([float(u)]))[0])
    assert math.isclose(float(got), want, rel_tol=4e-16, abs_tol=0.0) or float(got) == want
    # the same number through flint's rationals, and from a float
    q = act.exact(flint.fmpq(u.numerator, u.denominator))
    assert isinstance(q, flint.fmpq) and Fraction(int(q.p), int(q.q)) == got
    assert act.exact(float(u)) == got


@given(st.sampled_from(PIECEWISE), dyadics)
def test_regions_cover_the_line_and_agree_with_the_activation(spec, u):
    act = parse_activation(spec)
    pieces = act.regions
    assert pieces[0].lo == -math.inf and pieces[-1].hi == math.inf
    assert all(a.hi == b.lo for a, b in zip(pieces, pieces[1:]))
    assert act.breakpoints == tuple(p.hi for p in pieces[:-1])
    holding = [p for p in pieces if p.contains(float(u))]
    assert holding, f"no piece of {spec} holds {u}"
    for p in holding:  # two pieces at a breakpoint: the activation is continuous
        assert p.exact(u) == act.exact(u)
        assert math.isclose(float(p(float(u))), float(act(np.array(float(u)))), rel_tol=1e-15, abs_tol=1e-300)
    index = int(act.region_index(np.array([float(u)]))[0])
    assert pieces[index] is holding[0] or pieces[index] == holding[0]
    assert act.piece(u) == holding[0] == act.piece(float(u))


def test_regions_of_each_activation():
    relu, leaky, plu = ReLU(), LeakyReLU(0.25), PLU(0.5, 2.0)
    assert [(p.lo, p.hi, p.slope, p.offset) for p in relu.regions] == [(-math.inf, 0.0, 0, 0), (0.0, math.inf, 1, 0)]
    assert [(p.slope, p.offset) for p in leaky.regions] == [(Fraction(1, 4), 0), (1, 0)]
    assert plu.breakpoints == (-2.0, 2.0)
    assert [(p.slope, p.offset) for p in plu.regions] == [(Fraction(1, 2), -1), (1, 0), (Fraction(1, 2), 1)]
    assert Identity().breakpoints == ()
    assert relu.region_index(np.array([-1.0, 0.0, 1.0])).tolist() == [0, 0, 1]


@given(st.sampled_from([s for s in PIECEWISE if parse_activation(s).invertible]), dyadics)
def test_exact_inverse_inverts_exactly(spec, u):
    act = parse_activation(spec)
    y = act.exact(u)
    assert act.exact_inverse(y) == u
    assert math.isclose(float(act.exact_inverse(u)), float(act.inverse(np.array(float(u)))), rel_tol=1e-14)


@pytest.mark.parametrize("spec", ["relu", *SMOOTH])
def test_no_exact_inverse_where_there_is_none(spec):
    with pytest.raises(InvalidInput, match=f"activation '{spec}' is not"):
        parse_activation(spec).exact_inverse(Fraction(1, 2))


@pytest.mark.parametrize("spec", SMOOTH)
def test_smooth_activations_have_no_exact_value_or_pieces(spec):
    act = parse_activation(spec)
    with pytest.raises(InvalidInput, match="not piecewise linear: no exact forward pass"):
        act.exact(Fraction(1))
    with pytest.raises(InvalidInput, match="not piecewise linear"):
        act.regions
    assert act.breakpoints == ()


@pytest.mark.parametrize("bad", ["1/2", None, True, math.inf, math.nan])
def test_exact_refuses_what_is_not_a_finite_rational(bad):
    with pytest.raises(InvalidInput, match="activation 'relu' needs"):
        ReLU().exact(bad)


@given(st.sampled_from(PIECEWISE + SMOOTH), st.floats(-6, 6))
def test_derivative_matches_finite_differences(spec, u):
    act = parse_activation(spec)
    h = 1e-6
    if any(abs(u - b) <= 2 * h for b in act.breakpoints):
        return
    fd = (act(np.array(u + h)) - act(np.array(u - h))) / (2 * h)
    d = act.derivative(np.array([u]))[0]
    assert abs(d - fd) <= 1e-6
    assert 0.0 <= d <= act.derivative_bound


def test_derivative_at_breakpoints_follows_autograd():
    assert ReLU().derivative(np.array([0.0])).tolist() == [0.0]
    assert LeakyReLU(0.25).derivative(np.array([0.0])).tolist() == [0.25]
    assert PLU(0.5, 2.0).derivative(np.array([-2.0, 2.0, 2.5])).tolist() == [1.0, 1.0, 0.5]


@pytest.mark.parametrize("spec", SMOOTH)
def test_smooth_bounds_and_inverse_derivative(spec):
    act = parse_activation(spec)
    u = np.linspace(-8, 8, 20001)
    d = act.derivative(u)
    assert np.max(d) <= act.derivative_bound and np.max(d) > 0.999 * act.derivative_bound
    second = np.abs(np.gradient(d, u))
    assert np.max(second) <= act.second_derivative_bound * (1 + 1e-6)
    assert np.max(second) > 0.99 * act.second_derivative_bound
    lo, hi = act.value_range
    y = act(u[np.abs(u) < 5])
    assert np.all((lo < y) & (y < hi))
    # (phi^{-1})'(phi(u)) = 1 / phi'(u)
    np.testing.assert_allclose(act.inverse_derivative(y), 1.0 / act.derivative(u[np.abs(u) < 5]), rtol=1e-9)


# --------------------------------------------------------------------------------------------
# The rows an LP / MILP takes from an activation come from its pieces, never its name
# --------------------------------------------------------------------------------------------


def test_row_model_reads_the_family_off_the_pieces():
    from theorychk.network import row_model

    cases = [(ReLU(), "relu", 0.0, True), (LeakyReLU(0.25), "leaky", 0.25, True),
             (Identity(), "linear", 1.0, False), (PLU(0.1, 1.0), "other", math.nan, False)]
    for act, family, lower, convex in cases:
        rows = row_model(act)
        assert (rows.family, rows.convex, rows.pieces) == (family, convex, act.regions), act.spec
        assert rows.lower_slope == lower or (math.isnan(lower) and math.isnan(rows.lower_slope))
    assert row_model(Tanh()).pieces == () and row_model(Tanh()).family == "other"
    assert row_model(ReLU()) is row_model(ReLU())  # cached per activation


def test_an_unnamed_activation_with_relu_pieces_is_inverted_as_a_relu():
    # A user's activation that only describes its pieces: every engine must treat it as ReLU.
    import dataclasses
    from typing import ClassVar

    from theorychk.network import Activation, Piece
    from theorychk.solvers import invert

    @dataclasses.dataclass(frozen=True)
    class Ramp(Activation):
        name: ClassVar[str] = "ramp"
        piecewise_linear: ClassVar[bool] = True

        def __call__(self, x):
            return np.maximum(x, 0.0)

        def derivative(self, pre):
            return (np.asarray(pre) > 0).astype(float)

        @property
        def regions(self):
            return (Piece(-math.inf, 0.0, Fraction(0), Fraction(0)), Piece(0.0, math.inf, Fraction(1), Fraction(0)))

    rng = np.random.default_rng(3)
    w0, w1 = rng.normal(size=(8, 2)), rng.normal(size=(20, 8))
    plain = Network([Layer(w0, None, "relu"), Layer(w1, None, "relu")])
    ramp = Network([Layer(w0, None, Ramp()), Layer(w1, None, Ramp())])
    y = plain.forward(np.array([0.7, -0.4]))
    for method in ("linf", "milp", "lbp"):
        a, b = invert(plain, y, method=method), invert(ramp, y, method=method)
        assert a.status == b.status and a.status.value == "SOLVED", method
        np.testing.assert_allclose(a.latent, b.latent, atol=1e-9)
