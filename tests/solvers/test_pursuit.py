"""Tests of theorychk.solvers.pursuit: lbp (Alg. 2), latent (Alg. 3-5) and oracle (App. B) of paper 004.

The nets follow the Figure 4 setting of Aberdam et al. scaled down: Gaussian weights
``N(0, 1/n_in)`` (so tanh is not saturated), ReLU hidden layers, tanh / identity / PLU output,
every hidden width well above twice the previous one so that Corollary 1's cardinality
conditions hold with high probability. Each recovery claim is judged by the planted latent
code and by the residual that ``invert`` computes, never by the solver's own status alone.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theorychk.errors import InvalidInput
from theorychk.network import Layer, Network
from theorychk.solvers import REGISTRY, InversionStatus, get_method, invert
from theorychk.solvers.pursuit import (
    debias,
    fista_last_layer,
    latent_pursuit,
    layered_basis_pursuit,
    oracle,
    oracle_supports,
    random_mask,
    support_of,
    upper_mask,
)


def gaussian_net(widths, out="tanh", seed=0, hidden="relu", bias=False):
    rng = np.random.default_rng(seed)
    layers = []
    for i in range(len(widths) - 1):
        act = hidden if i < len(widths) - 2 else out
        w = rng.standard_normal((widths[i + 1], widths[i])) / np.sqrt(widths[i])
        b = 0.1 * rng.standard_normal(widths[i + 1]) if bias else None
        layers.append(Layer(w, b, act))
    return Network(layers)


def planted(net, seed):
    z = np.random.default_rng(seed).standard_normal(net.latent_dim)
    return z, net(z)


def rel(a, b):
    return float(np.linalg.norm(np.asarray(a) - b) / np.linalg.norm(b))


NETS = [((5, 30, 80), "tanh"), ((5, 30, 80), "identity"), ((5, 20, 60, 150), "tanh"), ((5, 20, 60, 150), "plu")]


def test_methods_are_registered():
    get_method("lbp")
    for name in ("lbp", "latent", "oracle"):
        method = REGISTRY[name]
        assert method.name == name and method.supports_mask and method.summary


# ---- noiseless recovery (Corollary 2 of paper 004) ------------------------------------------


@pytest.mark.parametrize(("widths", "out"), NETS)
@pytest.mark.parametrize("method", ["lbp", "latent"])
def test_noiseless_recovery(widths, out, method):
    net = gaussian_net(widths, out, seed=1)
    for seed in range(3):
        z, y = planted(net, seed)
        r = invert(net, y, method=method)
        assert r.status is InversionStatus.SOLVED, r.reason
        assert rel(r.latent, z) <= 1e-6
        assert r.residual_l2 <= 1e-6 * np.linalg.norm(y)
        truth = net.hidden(z)
        assert len(r.hidden) == net.depth
        for est, x in zip(r.hidden, truth, strict=True):
            assert rel(est, x) <= 1e-6
        stages = [f"x_{k}" for k in range(net.depth - 1, 0, -1)] + ["z"]
        assert list(r.counts) == stages


@pytest.mark.parametrize(("widths", "out"), NETS)
def test_latent_debias_is_exact_to_rounding(widths, out):
    net = gaussian_net(widths, out, seed=2)
    z, y = planted(net, 5)
    r = invert(net, y, method="latent", debias=True)
    assert r.solved and "debias" in r.counts
    assert rel(r.latent, z) <= 1e-12


@pytest.mark.parametrize("method", ["lbp", "latent", "oracle"])
def test_relu_output_and_biases(method):
    # A ReLU output ([1] does not treat it) is one more middle layer with S = {y > 0}.
    net = gaussian_net((4, 20, 60, 150), "relu", seed=3, bias=True)
    z, y = planted(net, 1)
    opts = {"latent_true": z} if method == "oracle" else {}
    r = invert(net, y, method=method, **opts)
    assert r.solved and rel(r.latent, z) <= 1e-6


def test_sigmoid_output():
    net = gaussian_net((5, 20, 60, 150), "sigmoid", seed=4)
    z, y = planted(net, 2)
    for method in ("lbp", "latent"):
        r = invert(net, y, method=method)
        assert r.solved and rel(r.latent, z) <= 1e-6


def test_batched_latent_pursuit_matches_single_runs():
    net = gaussian_net((5, 20, 60, 150), "tanh", seed=5)
    zs = np.random.default_rng(0).standard_normal((4, 5))
    run = latent_pursuit(net, net(zs))
    assert run.converged.all()
    for i in range(4):
        single = invert(net, net(zs[i]), method="latent")
        # same algorithm row by row; BLAS may round a batched product differently
        np.testing.assert_allclose(run.latent[i], single.latent, rtol=0, atol=1e-9)
        assert abs(single.counts["z"] - run.iterations["z"][i]) <= 0.1 * single.counts["z"]
    np.testing.assert_allclose(run.latent, zs, atol=1e-7)


def test_fista_last_layer_respects_nonnegativity_and_lambda():
    net = gaussian_net((5, 30, 80), "identity", seed=6)
    z, y = planted(net, 0)
    res = fista_last_layer(net.layers[-1], y[None], np.ones((1, 80), dtype=bool), lam=0.5)
    assert res.converged[0] and np.all(res.x >= 0)
    # lam > 0 shrinks: the l1 norm is below the truth's
    assert res.x.sum() < net.hidden(z)[0].sum()


# ---- the oracle (Appendix B, Algorithm 6) ---------------------------------------------------


def test_oracle_from_supports_and_from_latent_agree():
    net = gaussian_net((5, 20, 60, 150), "tanh", seed=7)
    z, y = planted(net, 3)
    sups = oracle_supports(net, z)
    assert len(sups) == net.depth - 1
    a = invert(net, y, method="oracle", supports=sups)
    b = invert(net, y, method="oracle", latent_true=z)
    assert a.solved and b.solved
    np.testing.assert_array_equal(a.latent, b.latent)
    assert rel(a.latent, z) <= 1e-12
    c = invert(net, y, method="oracle", latent_true=z, end_to_end=True)
    assert c.solved and rel(c.latent, z) <= 1e-12 and "debias" in c.counts


@st.composite
def oracle_instances(draw):
    n0 = draw(st.integers(1, 4))
    n1 = draw(st.integers(2 * n0 + 2, 6 * n0 + 6))
    n2 = draw(st.integers(2 * n1, 4 * n1))
    deep = draw(st.booleans())
    widths = (n0, n1, n2, 2 * n2 + 4) if deep else (n0, n1, n2)
    out = draw(st.sampled_from(["identity", "tanh", "plu", "sigmoid"]))
    return gaussian_net(widths, out, seed=draw(st.integers(0, 2**32 - 1)), bias=draw(st.booleans())), draw(
        st.integers(0, 2**32 - 1)
    )


def _supported_ranks_full(net, z):
    # Theorem 3's Oracle is determined when every supported matrix W_i[S_{i+1}, S_i] has full
    # column rank; with Gaussian weights that fails only when a support is too small.
    sups = [np.ones(net.latent_dim, bool), *oracle_supports(net, z), np.ones(net.output_dim, bool)]
    for k, layer in enumerate(net.layers):
        sub = layer.weight[np.ix_(sups[k + 1], sups[k])]
        if sub.shape[1] and np.linalg.matrix_rank(sub) < sub.shape[1]:
            return False
    return True


@settings(max_examples=40)
@given(oracle_instances())
def test_oracle_exact_given_true_supports(instance):
    net, seed = instance
    z, y = planted(net, seed)
    r = invert(net, y, method="oracle", latent_true=z)
    # without full-rank supported blocks the least-squares answer need not reproduce y: APPROXIMATE
    assert r.status in (InversionStatus.SOLVED, InversionStatus.APPROXIMATE), r.reason
    if _supported_ranks_full(net, z):
        assert r.solved, (r.reason, r.tolerance)
        cond = 1.0
        for k, layer in enumerate(net.layers):  # error amplification through the layers
            cond *= np.linalg.cond(layer.weight)
        assert rel(r.latent, z) <= 1e-13 * max(cond, 1.0) * 10
        assert r.info["rank_deficient"] == []
    else:
        assert r.info["rank_deficient"]


# ---- noise: error linear in the noise level (Theorem 3; Theorem 2 for pursuits) -------------


def _noise_errors(net, z, y, direction, levels, **kwargs):
    return np.array([np.linalg.norm(invert(net, y + s * direction, **kwargs).latent - z) for s in levels])


@pytest.mark.parametrize(("widths", "out"), [((5, 30, 80), "tanh"), ((5, 20, 60, 150), "identity")])
def test_error_linear_in_noise(widths, out):
    net = gaussian_net(widths, out, seed=1)
    z, y = planted(net, 8)
    e = np.random.default_rng(9).standard_normal(y.size)
    e /= np.linalg.norm(e)
    levels = np.array([1e-7, 1e-6, 1e-5, 1e-4])
    # Latent-Pursuit's support estimate must sit above the O(noise) entries that least squares
    # spreads onto off-support units (one such unit kept "on" forces W_j x + b_j ~ 0 where the
    # truth is O(1) negative); support_tol=1e-3 does that here. See docs/solvers-pursuit.md.
    for kwargs in ({"method": "oracle", "latent_true": z}, {"method": "latent", "support_tol": 1e-3},
                   {"method": "latent", "support_tol": 1e-3, "debias": True}):
        gain = _noise_errors(net, z, y, e, levels, **kwargs) / levels
        assert np.all(gain > 0) and gain.max() <= 1.5 * gain.min(), (kwargs["method"], gain)
        assert gain.max() < 100  # and the constant is moderate: a stable inversion


def test_latent_support_is_fragile_under_noise_with_the_noiseless_threshold():
    # The finding behind the support_tol advice: with lambda = 0 (paper 004's setting) and the
    # noiseless threshold, noise of 1e-5 already leaves spurious support entries.
    net = gaussian_net((5, 30, 80), "tanh", seed=1)
    z, y = planted(net, 8)
    e = np.random.default_rng(9).standard_normal((5, y.size))
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    run = latent_pursuit(net, y + 1e-5 * e)
    truth = net.hidden(z)[0] > 0
    est = support_of(run.hidden[0], 1e-6)
    assert np.any(est & ~truth) and not np.any(truth & ~est)  # only spurious "on" units
    err = np.linalg.norm(run.latent - z, axis=1)
    assert err.max() > 1e3 * 1e-5  # and they cost far more than the noise


def test_lbp_lambda_schedule_is_algorithm_2():
    net = gaussian_net((5, 30, 80), "tanh", seed=1)
    z, y = planted(net, 0)
    eps = 1e-4
    run = layered_basis_pursuit(net, y, noise=eps)
    info = run.info
    ell = float(np.max(1.0 / (1.0 - y**2)))
    assert info["ell"] == pytest.approx(ell)
    assert info["lambdas"][-1] == pytest.approx(2 * ell * eps)  # lambda_L = 2 ell eps
    s1 = info["sparsity"][0]
    w = net.layers[1].weight
    expected = (3 + np.sqrt(1.5)) * np.sqrt(s1) * ell * eps / np.linalg.norm(w, axis=0).min()
    assert info["eps"][0] == pytest.approx(expected)  # eps_L of Algorithm 2
    assert run.converged[0]
    forced = layered_basis_pursuit(net, y, noise=eps, lambdas=[0.0])
    assert forced.info["lambdas"] == [0.0] and np.allclose(forced.latent[0], z, atol=1e-3)


# ---- masks (inpainting, Section 6.2) ---------------------------------------------------------


@pytest.mark.parametrize("method", ["lbp", "latent", "oracle"])
def test_random_mask_70_percent(method):
    net = gaussian_net((5, 30, 120), "tanh", seed=10)
    mask = random_mask(120, observed=0.7, rng=np.random.default_rng(0))
    for seed in range(3):
        z, y = planted(net, seed)
        y_obs = np.where(mask, y, 1e6)  # unobserved entries must be ignored
        opts = {"latent_true": z} if method == "oracle" else {}
        r = invert(net, y_obs, method=method, mask=mask, **opts)
        assert r.solved and rel(r.latent, z) <= 1e-6


def test_upper_mask_on_deep_net():
    net = gaussian_net((4, 20, 60, 196), "plu", seed=11)
    mask = upper_mask(14, 14, hidden_rows=6)
    assert mask.sum() == 8 * 14 and not mask[:84].any()
    z, y = planted(net, 0)
    for method in ("lbp", "latent"):
        r = invert(net, y, method=method, mask=mask)
        assert r.solved and rel(r.latent, z) <= 1e-6


def test_mask_helpers_validate():
    with pytest.raises(InvalidInput, match="observed"):
        random_mask(10, observed=0.0, rng=np.random.default_rng(0))
    with pytest.raises(InvalidInput, match="hidden_rows"):
        upper_mask(3, 3, hidden_rows=3)


# ---- bad input and limits --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["lbp", "latent", "oracle"])
def test_leaky_hidden_layer_is_refused_up_front(method):
    net = gaussian_net((3, 10, 30), "tanh", hidden="leaky_relu:0.1")
    z, y = planted(net, 0)
    with pytest.raises(InvalidInput, match="needs ReLU hidden layers"):
        invert(net, y, method=method, latent_true=z)


@pytest.mark.parametrize("method", ["lbp", "latent", "oracle"])
def test_single_layer_is_refused(method):
    net = Network([Layer(np.ones((4, 2)), None, "identity")])
    with pytest.raises(InvalidInput, match="no hidden layer"):
        invert(net, np.ones(4), method=method)


@pytest.mark.parametrize("method", ["lbp", "latent", "oracle"])
def test_tiny_time_limit_is_unknown(method, fake_clock):
    fake_clock.step = 1.0  # each look at the clock moves it a second: past the limit at once, on any machine
    net = gaussian_net((5, 20, 60, 150), "tanh", seed=12)
    z, y = planted(net, 0)
    opts = {"latent_true": z} if method == "oracle" else {}
    r = invert(net, y, method=method, time_limit=1e-9, **opts)
    assert r.status is InversionStatus.UNKNOWN and r.reason == "time limit"


def test_iteration_cap_is_approximate_with_an_estimate():
    # UNKNOWN is for the time limit only: an estimate that ran out of iterations and does not
    # reproduce y is APPROXIMATE, with its residual in the reason
    net = gaussian_net((5, 20, 60, 150), "tanh", seed=12)
    z, y = planted(net, 0)
    run = latent_pursuit(net, y[None], iterations=50, tol=0.0)  # caps every stage
    assert not run.converged.any() and run.latent is not None
    r = invert(net, y, method="latent", iterations=50, tol=0.0)
    assert r.status is InversionStatus.APPROXIMATE and r.reason.endswith("(iteration limit)")
    assert r.method_status == "UNKNOWN" and r.signal_offset > r.signal_tol and "‖G(ẑ) − y‖₂" in r.reason
    assert set(r.info["unconverged_stages"]) == {"x_2", "x_1", "z"}


def test_option_errors():
    net = gaussian_net((3, 10, 30), "tanh")
    z, y = planted(net, 0)
    with pytest.raises(InvalidInput, match="did you mean 'debias'"):
        invert(net, y, method="latent", debais=True)
    with pytest.raises(InvalidInput, match="rho"):
        invert(net, y, method="latent", rho=0.0)
    with pytest.raises(InvalidInput, match="lambdas"):
        invert(net, y, method="latent", lambdas=[1.0, 2.0])
    with pytest.raises(InvalidInput, match="exactly one of"):
        invert(net, y, method="oracle")
    with pytest.raises(InvalidInput, match=r"supports\[0\]"):
        invert(net, y, method="oracle", supports=[np.ones(3, bool)])
    with pytest.raises(InvalidInput, match="sparsity"):
        invert(net, y, method="lbp", sparsity=[1, 2])


def test_oracle_batch_function_and_deficient_rank_flag():
    net = gaussian_net((6, 8, 40), "identity", seed=13)
    z, y = planted(net, 0)
    sups = [np.zeros(8, dtype=bool)]
    sups[0][:3] = True  # 3 active units cannot determine 6 latent coordinates
    run = oracle(net, y, sups)
    assert "z" in run.info["rank_deficient"]


@pytest.mark.slow
def test_mnist_sized_random_net():
    # The architecture of paper 004 Section 6.2 (20-128-392-784, PLU output), random weights.
    net = gaussian_net((20, 128, 392, 784), "plu", seed=14)
    zs = np.random.default_rng(0).standard_normal((16, 20))
    run = latent_pursuit(net, net(zs), debias_step=True)
    assert run.converged.all()
    np.testing.assert_allclose(run.latent, zs, atol=1e-9)
    for i in range(2):
        r = invert(net, net(zs[i]), method="lbp")
        assert r.solved and rel(r.latent, zs[i]) <= 1e-6


# ---- every public entry validates what invert() validates ------------------------------------

_ENTRIES = {
    "latent_pursuit": lambda net, y, **kw: latent_pursuit(net, y, **kw),
    "layered_basis_pursuit": lambda net, y, **kw: layered_basis_pursuit(net, y, **kw),
    "oracle": lambda net, y, **kw: oracle(net, y, oracle_supports(net, np.ones(3)), **kw),
    "debias": lambda net, y, mask=None, **kw: debias(
        net, np.atleast_2d(y), mask, [s[None] for s in oracle_supports(net, np.ones(3))], np.zeros((1, 3)), **kw),
}


@pytest.mark.parametrize("entry", sorted(_ENTRIES))
@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("nan signal", r"signal must be finite; got NaN or Inf at index 4"),
        ("wrong length", r"signal must have length 30 \(the network's output\); got shape \(29,\)"),
        ("mask of halves", r"mask must be boolean or 0/1; got 0.5 at index 0"),
        ("bad option", r"iterations must be an int in \[1, inf\); got 0"),
    ],
)
def test_public_entries_validate_at_entry(entry, case, message):
    # latent_pursuit used to return a NaN latent for a NaN signal, layered_basis_pursuit to read
    # a mask of 0.5s as all true: each entry now refuses what invert() refuses, naming it
    net = gaussian_net((3, 10, 30), "tanh")
    _, y = planted(net, 0)
    kwargs = {}
    if case == "nan signal":
        y = y.copy()
        y[4] = np.nan
    elif case == "wrong length":
        y = y[:29]
    elif case == "mask of halves":
        kwargs["mask"] = np.full(30, 0.5)
    else:
        kwargs["iterations"] = 0
    with pytest.raises(InvalidInput, match=message) as exc:
        _ENTRIES[entry](net, y, **kwargs)
    assert exc.value.argument in ("signal", "mask", "iterations")


def test_float_zero_one_masks_read_as_boolean():
    net = gaussian_net((3, 10, 30), "tanh")
    z, y = planted(net, 0)
    mask = np.ones(30)
    mask[:5] = 0.0
    a = layered_basis_pursuit(net, y, mask=mask)
    b = layered_basis_pursuit(net, y, mask=mask.astype(bool))
    np.testing.assert_array_equal(a.latent, b.latent)


def test_per_layer_options_name_the_argument_and_the_length():
    net = gaussian_net((3, 10, 30), "tanh")
    _, y = planted(net, 0)
    with pytest.raises(InvalidInput, match=r"rho must be a float in \(0, inf\) or a list of 2 floats in \(0, inf\); "
                                           r"got \[0.1, 0.0\]"):
        latent_pursuit(net, y, rho=[0.1, 0.0])
    with pytest.raises(InvalidInput, match=r"sparsity must be a list of 1 ints in \[0, inf\); got \[1, 2\]"):
        layered_basis_pursuit(net, y, sparsity=[1, 2])
    with pytest.raises(InvalidInput, match=r"supports\[0\] must be a boolean array of length 10"):
        oracle(net, y, [np.full(10, 0.5)])
    with pytest.raises(InvalidInput, match=r"observed must be a float in \(0, 1\]; got 0.0"):
        random_mask(10, observed=0.0, rng=np.random.default_rng(0))
    with pytest.raises(InvalidInput, match=r"hidden_rows must be an int in \[0, 3\); got 3"):
        upper_mask(3, 3, hidden_rows=3)


@pytest.mark.parametrize(
    ("method", "options", "message"),
    [
        ("lbp", {"normalize": 1}, "normalize must be a bool; got 1"),
        ("lbp", {"lambdas": -1.0}, r"lambdas must be a float in \[0, inf\), a list of floats in \[0, inf\) or None"),
        ("latent", {"step": 0}, r"step must be a float in \(0, inf\) or None; got 0"),
        ("latent", {"check_every": 2.5}, r"check_every must be an int in \[1, inf\); got 2.5"),
        ("oracle", {"end_to_end": "yes"}, "end_to_end must be a bool; got 'yes'"),
    ],
)
def test_bad_options_are_rejected_before_any_work(method, options, message):
    net = gaussian_net((3, 10, 30), "tanh")
    z, y = planted(net, 0)
    extra = {"latent_true": z} if method == "oracle" else {}
    with pytest.raises(InvalidInput, match=message):
        invert(net, y, method=method, **options, **extra)
