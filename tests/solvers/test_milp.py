"""Exact inversion by MILP (``milp``) and :func:`second_preimage`, judged on planted instances,
against the LP heuristics, and on toy nets whose preimages are known by hand."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import theorychk.solvers.milp as milp_module
from tests.solvers.test_lp import gaussian_net, planted, rel_err, theorem2_holds
from theorychk.errors import InvalidInput
from theorychk.network import Layer, Network
from theorychk.solvers import InversionStatus, invert
from theorychk.solvers.milp import (
    ENGINE,
    SecondPreimageStatus,
    interval_bounds,
    minimize_residual,
    second_preimage,
)


def box_for(*latents: np.ndarray) -> float:
    return 2.0 * max(1.0, *(float(np.max(np.abs(z))) for z in latents))


# --------------------------------------------------------------------------------------------
# Exact recovery
# --------------------------------------------------------------------------------------------


@settings(max_examples=12)
@given(inst=planted(max_depth=2, max_k=5))
def test_milp_recovers_planted_latent_on_relu_nets(inst) -> None:
    net, z, _ = inst
    assume(theorem2_holds(net, z))  # then z is the only preimage (layer by layer, from the output)
    res = invert(net, net.forward(z), method="milp", latent_box=box_for(z))
    assert res.status is InversionStatus.SOLVED, res.reason
    assert res.info["in_range"] is True and res.info["objective"] <= 1e-6
    assert rel_err(res.latent, z) <= 1e-6


@settings(max_examples=8)
@given(inst=planted(max_depth=2, max_k=4, activation="leaky_relu:0.1", bias=True))
def test_milp_recovers_planted_latent_on_leaky_nets(inst) -> None:
    net, z, _ = inst
    assume(theorem2_holds(net, z))
    res = invert(net, net.forward(z), method="milp", latent_box=box_for(z))
    assert res.status is InversionStatus.SOLVED, res.reason
    assert rel_err(res.latent, z) <= 1e-6


@settings(max_examples=8)
@given(inst=planted(max_depth=2, max_k=4), observed=st.floats(0.5, 0.8), norm=st.sampled_from(["linf", "l1"]))
def test_milp_recovers_planted_latent_from_a_random_mask(inst, observed: float, norm: str) -> None:
    net, z, rng = inst
    mask = rng.random(net.output_dim) < observed
    assume(mask.any() and theorem2_holds(net, z, mask))
    y = np.where(mask, net.forward(z), -7.0)
    res = invert(net, y, method="milp", mask=mask, norm=norm, latent_box=box_for(z))
    assert res.status is InversionStatus.SOLVED, res.reason
    assert rel_err(res.latent, z) <= 1e-6


@pytest.mark.parametrize("last", ["tanh", "sigmoid", "plu"])
def test_milp_inverts_an_invertible_last_activation(last: str) -> None:
    rng = np.random.default_rng(7)
    net = gaussian_net(rng, [3, 9, 24], ["relu", last], bias=True)
    z = rng.normal(size=3)
    res = invert(net, net.forward(z), method="milp", latent_box=box_for(z))
    assert res.status is InversionStatus.SOLVED, res.reason
    assert res.info["residual_space"].startswith("pre-activation")
    assert rel_err(res.latent, z) <= 1e-6


# --------------------------------------------------------------------------------------------
# The MILP optimum is never beaten by a heuristic
# --------------------------------------------------------------------------------------------


def _never_worse(net: Network, z: np.ndarray, y: np.ndarray, noise: float) -> None:
    others = [invert(net, y, method=m, noise=noise or None) for m in ("linf", "l1", "relax")]
    box = box_for(z)
    res = invert(net, y, method="milp", latent_box=box, noise=noise or None)
    ok = (InversionStatus.SOLVED, InversionStatus.INFEASIBLE) if not noise else (InversionStatus.SOLVED, InversionStatus.APPROXIMATE)
    assert res.status in ok, res.reason
    assert res.info["objective"] == pytest.approx(res.residual_linf, abs=1e-12)
    assert res.info["bound"] <= res.info["objective"] + 1e-6
    compared = 0
    for o in others:
        if o.latent is not None and np.max(np.abs(o.latent)) <= box:  # the MILP only searches the box
            assert res.info["objective"] <= o.residual_linf + 1e-6, o.method
            compared += 1
    assert compared or noise > 0.05


@settings(max_examples=8)
@given(inst=planted(max_depth=2, max_k=3, max_expansion=3.0), noise=st.sampled_from([0.0, 1e-3, 0.05, 0.3]))
def test_milp_is_never_worse_than_the_lp_heuristics(inst, noise: float) -> None:
    net, z, rng = inst
    _never_worse(net, z, net.forward(z) + rng.normal(0.0, noise, size=net.output_dim), noise)


@pytest.mark.slow
@settings(max_examples=25)
@given(inst=planted(max_depth=2, max_k=4, max_expansion=3.0), noise=st.sampled_from([0.0, 1e-3, 0.05, 0.3]))
def test_milp_is_never_worse_than_the_lp_heuristics_on_larger_nets(inst, noise: float) -> None:
    net, z, rng = inst
    _never_worse(net, z, net.forward(z) + rng.normal(0.0, noise, size=net.output_dim), noise)


# --------------------------------------------------------------------------------------------
# Statuses
# --------------------------------------------------------------------------------------------


def _noisy_instance(seed: int = 4) -> tuple[Network, np.ndarray]:
    rng = np.random.default_rng(seed)
    net = gaussian_net(rng, [2, 6, 16], ["relu", "relu"])
    return net, net.forward(rng.normal(size=2)) + rng.normal(0, 0.1, size=16)


@pytest.mark.parametrize("norm", ["linf", "l1"])
def test_signal_outside_the_range_is_infeasible_with_a_proven_bound(norm: str) -> None:
    net, y = _noisy_instance()
    res = invert(net, y, method="milp", norm=norm)
    assert res.status is InversionStatus.INFEASIBLE
    assert res.info["in_range"] is False and res.info["bound"] > 1e-3
    assert res.latent is not None and "not in the range" in res.reason
    json.dumps(res.to_dict())


def test_declared_noise_makes_the_projection_the_answer() -> None:
    net, y = _noisy_instance()
    res = invert(net, y, method="milp", noise=0.1)
    # the method's answer is the projection; the status says whether it fits within the noise
    assert res.method_status == "SOLVED" and res.info["in_range"] is False
    expected = InversionStatus.SOLVED if res.residual_linf <= 0.1 + res.signal_tol else InversionStatus.APPROXIMATE
    assert res.status is expected
    assert res.info["gap"] <= 1e-6 * max(1.0, res.info["objective"])


def test_tiny_time_limit_gives_unknown(fake_clock) -> None:
    fake_clock.step = 1.0  # each look at the clock moves it a second: past the limit at once, on any machine
    net, y = _noisy_instance()
    res = invert(net, y, method="milp", time_limit=1e-9)
    assert res.status is InversionStatus.UNKNOWN and res.reason == "time limit"


def test_time_limit_inside_highs_keeps_the_incumbent_and_gap(fake_clock, monkeypatch) -> None:
    net, y = _noisy_instance()
    incumbent = np.zeros(net.latent_dim)  # what HiGHS had found when its time ran out
    handed = []

    def highs_runs_out_of_time(enc, time_limit, rel_gap, cutoff=None):
        handed.append(time_limit)
        fake_clock.now += time_limit  # HiGHS spends all it was given and stops, as it does
        return milp_module._MipOutcome("time limit", incumbent, None, 0.0, 7, 1.0)

    def no_time_to_polish(*args):
        raise AssertionError("polished after the time ran out")

    monkeypatch.setattr(milp_module, "_run_mip", highs_runs_out_of_time)
    monkeypatch.setattr(milp_module, "_polish", no_time_to_polish)
    res = invert(net, y, method="milp", time_limit=30)
    assert handed == [30.0]  # the clock stood still until then: the signal's whole budget
    assert res.status is InversionStatus.UNKNOWN and res.reason == "time limit"
    np.testing.assert_array_equal(res.latent, incumbent)  # kept
    assert res.info["bound"] == 0.0 and res.info["objective"] > res.info["bound"]
    assert res.info["gap"] == res.info["objective"] and res.info["highs_status"] == "time limit"


def test_unsupported_hidden_activation_is_rejected_at_invert() -> None:
    rng = np.random.default_rng(0)
    net = gaussian_net(rng, [2, 6, 15], ["sigmoid", "relu"])
    with pytest.raises(InvalidInput, match=r"layer 0 has activation 'sigmoid'.*unsupported"):
        invert(net, net.forward(np.zeros(2)), method="milp")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"norm": "l2"}, "norm"),
        ({"latent_box": -1.0}, "latent_box"),
        ({"latent_box": math.inf}, "latent_box"),
        ({"latent_box": (1.0, 0.0)}, "latent_box needs lo <= hi; coordinate 0 has lo 1 > hi 0"),
        ({"polish": "yes"}, "polish must be a bool; got 'yes'"),
        ({"clip_margin": -1.0}, r"clip_margin must be a float in \(0, 0.5\); got -1.0"),  # was not checked
        ({"mip_rel_gap": -1}, r"mip_rel_gap must be a float in \[0, inf\); got -1"),
        ({"box": 3}, "unknown option 'box' of method 'milp'"),
    ],
)
def test_bad_options_are_rejected(options: dict, message: str) -> None:
    net, y = _noisy_instance()
    with pytest.raises(InvalidInput, match=message):
        invert(net, y, method="milp", **options)


@pytest.mark.parametrize(
    ("mask", "message"), [(np.ones(15, dtype=bool), "length 16"), (np.zeros(16, dtype=bool), "all false")]
)
def test_bad_masks_are_rejected(mask: np.ndarray, message: str) -> None:
    net, y = _noisy_instance()
    with pytest.raises(InvalidInput, match=message):
        invert(net, y, method="milp", mask=mask)


# --------------------------------------------------------------------------------------------
# Interval bounds
# --------------------------------------------------------------------------------------------


@settings(max_examples=20)
@given(inst=planted(max_depth=3, activation="leaky_relu:0.3", bias=True), box=st.floats(0.1, 10.0))
def test_interval_bounds_contain_every_pre_activation_in_the_box(inst, box: float) -> None:
    net, _, rng = inst
    bounds = interval_bounds(net, box)
    zs = rng.uniform(-box, box, size=(200, net.latent_dim))
    zs[: net.latent_dim] = box * np.sign(rng.normal(size=(net.latent_dim, net.latent_dim)))  # corners
    for (lo, hi), pre in zip(bounds, net.pre_activations(zs), strict=True):
        assert np.all(pre >= lo) and np.all(pre <= hi)


@settings(max_examples=20)
@given(inst=planted(max_depth=3, activation="leaky_relu:0.3", bias=True))
def test_interval_bounds_contain_every_pre_activation_in_an_asymmetric_box(inst) -> None:
    net, _, rng = inst
    lo = rng.uniform(-5.0, 5.0, size=net.latent_dim)
    hi = lo + rng.uniform(0.0, 3.0, size=net.latent_dim)
    bounds = interval_bounds(net, (lo, hi))
    zs = rng.uniform(lo, hi, size=(200, net.latent_dim))
    zs[: net.latent_dim] = np.where(rng.random((net.latent_dim, net.latent_dim)) < 0.5, lo, hi)  # corners
    for (l_, h_), pre in zip(bounds, net.pre_activations(zs), strict=True):
        assert np.all(pre >= l_) and np.all(pre <= h_)


# --------------------------------------------------------------------------------------------
# minimize_residual: asymmetric boxes, vertex latents, cutoff
# --------------------------------------------------------------------------------------------


def far_instance() -> tuple[Network, np.ndarray]:
    """An expansive net whose only preimage of ``G(z*)`` (Theorem 2) is ``z* = (3, −2.5)``."""
    net = gaussian_net(np.random.default_rng(0), [2, 8, 24], ["relu", "relu"], bias=True)
    z = np.array([3.0, -2.5])
    assert theorem2_holds(net, z)
    return net, z


def test_asymmetric_box_reaches_a_minimiser_outside_the_symmetric_box() -> None:
    net, z = far_instance()
    y = net.forward(z)
    lo, hi = np.array([2.0, -3.0]), np.array([4.0, -2.0])  # meets ‖z‖_∞ ≤ 2 only on the face z_0 = 2
    inside = minimize_residual(net, y, box=2.0)
    assert inside.status == "optimal" and inside.bound > 0.1  # proven: no preimage in ‖z‖_∞ ≤ 2
    res = minimize_residual(net, y, box=(lo, hi))
    assert res.status == "optimal" and res.objective <= 1e-9 and res.engine == ENGINE
    assert np.all(res.latent >= lo) and np.all(res.latent <= hi) and rel_err(res.latent, z) <= 1e-9
    # the milp method takes the same pair, and its verdicts follow
    solved = invert(net, y, method="milp", latent_box=(lo, hi))
    assert solved.status is InversionStatus.SOLVED and rel_err(solved.latent, z) <= 1e-9
    assert solved.info["latent_box"] == [[2.0, -3.0], [4.0, -2.0]] and not solved.info["at_box_boundary"]
    assert invert(net, y, method="milp", latent_box=2.0).status is InversionStatus.INFEASIBLE


def test_a_box_without_unstable_units_still_proves_its_bound() -> None:
    # On [0.5, 2] both units of |z| are one-signed: no binary, HiGHS solves an LP, and its optimum
    # (not a MIP dual bound, which HiGHS does not report for an LP) is the bound.
    res = invert(abs_net(), [0.0], method="milp", latent_box=(0.5, 2.0))
    assert res.status is InversionStatus.INFEASIBLE and res.info["binaries"] == 0
    assert res.info["bound"] == pytest.approx(0.5, abs=1e-6) and res.latent == pytest.approx([0.5])
    assert res.info["at_box_boundary"] and "z ∈ [0.5, 2]^1" in res.reason


@st.composite
def tiny_vertex_problems(draw: st.DrawFn) -> tuple[Network, np.ndarray, np.ndarray, np.ndarray]:
    """A net of 1-2 layers on k ≤ 4 latents with small integer weights, a box with dyadic ends
    and a dyadic target: every vertex's residual is exact in floats, so brute force is the oracle."""
    k = draw(st.integers(1, 4))
    widths = [k] + draw(st.lists(st.integers(1, 5), min_size=1, max_size=2))
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(widths)):
        w = np.array(draw(st.lists(st.integers(-3, 3), min_size=n_in * n_out, max_size=n_in * n_out)))
        b = np.array(draw(st.lists(st.integers(-2, 2), min_size=n_out, max_size=n_out)))
        last = i == len(widths) - 2
        act = draw(st.sampled_from(["relu", "leaky_relu:0.25"] + (["identity"] if last else [])))
        layers.append(Layer(w.reshape(n_out, n_in).astype(float), b.astype(float), act))
    lo = np.array(draw(st.lists(st.integers(-4, 2), min_size=k, max_size=k))) / 2
    hi = lo + np.array(draw(st.lists(st.integers(1, 4), min_size=k, max_size=k))) / 2
    y = np.array(draw(st.lists(st.integers(-6, 6), min_size=widths[-1], max_size=widths[-1]))) / 2
    return Network(layers), lo, hi, y


def vertex_minimum(net: Network, lo: np.ndarray, hi: np.ndarray, y: np.ndarray, norm: str) -> float:
    vertices = np.array(list(itertools.product(*zip(lo, hi, strict=True))))
    r = np.abs(net.forward(vertices) - y)
    return float(np.min(r.max(axis=1) if norm == "linf" else r.sum(axis=1)))


@settings(max_examples=30, deadline=None)
@given(problem=tiny_vertex_problems(), norm=st.sampled_from(["linf", "l1"]))
def test_vertex_latent_agrees_with_brute_force_over_the_vertices(problem, norm: str) -> None:
    net, lo, hi, y = problem
    best = vertex_minimum(net, lo, hi, y, norm)
    res = minimize_residual(net, y, box=(lo, hi), vertices=True, norm=norm)
    assert res.status == "optimal"
    assert np.all((res.latent == lo) | (res.latent == hi))  # a vertex exactly, not HiGHS's near-vertex
    assert res.objective == pytest.approx(best, abs=1e-9)
    # HiGHS's gap and its 1e-6 feasibility tolerance, both ways, plus the rounding of the bound
    # itself (a run gave |bound - best| = 1.000000000001e-06 at best = 0)
    assert abs(res.bound - best) <= 1e-6 * max(1.0, best) + 1e-9


def test_vertex_latent_differs_from_the_box() -> None:
    # |z| = 0.8 at z = ±0.8 in the box [-1, 2], but on its vertices {-1, 2} the best is 0.2 away.
    assert minimize_residual(abs_net(), [0.8], box=(-1.0, 2.0)).objective <= 1e-9
    res = minimize_residual(abs_net(), [0.8], box=(-1.0, 2.0), vertices=True)
    assert res.latent.tolist() == [-1.0] and res.objective == pytest.approx(0.2, abs=1e-12)


def sum_of_abs_net() -> Network:
    """G(z) = |z_0| + |z_1|: against the target −1.5 the least ℓ∞ residual is 1.5, at z = 0."""
    w = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    return Network([Layer(w, None, "relu"), Layer(np.ones((1, 4)), None, "identity")])


def test_cutoff_proves_the_known_minimum_without_closing_the_gap() -> None:
    net = sum_of_abs_net()
    full = minimize_residual(net, [-1.5], box=2.0)
    assert full.status == "optimal" and full.objective == pytest.approx(1.5, abs=1e-9)
    below = minimize_residual(net, [-1.5], box=2.0, cutoff=1.499)
    assert below.status == "cutoff" and below.bound == 1.499 and below.to_dict()["cutoff"] == 1.499
    assert below.latent is None or below.objective >= 1.499  # HiGHS may keep an incumbent above it
    json.dumps(below.to_dict())
    # a cutoff above the minimum hides nothing: the minimiser is found and its residual reported
    above = minimize_residual(net, [-1.5], box=2.0, cutoff=2.0)
    assert above.status == "optimal" and above.objective == pytest.approx(1.5, abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(problem=tiny_vertex_problems())
def test_cutoff_agrees_with_brute_force_on_vertex_latents(problem) -> None:
    net, lo, hi, y = problem
    best = vertex_minimum(net, lo, hi, y, "linf")
    step = 1 / 64  # vertex residuals are multiples of 1/32 (halves, integers, two slopes 1/4)
    if best > 0:
        res = minimize_residual(net, y, box=(lo, hi), vertices=True, cutoff=best - step)
        assert res.status == "cutoff" and res.bound == best - step
        assert res.latent is None or res.objective >= best
    res = minimize_residual(net, y, box=(lo, hi), vertices=True, cutoff=best + step)
    assert res.status == "optimal" and res.objective == pytest.approx(best, abs=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"box": (np.zeros(3), 1.0)}, r"box lower bound must be a scalar or a vector of length 2 .*\(3,\)"),
        ({"box": (0.0, [1.0, -1.0])}, "box needs lo <= hi; coordinate 1 has lo 0 > hi -1"),
        ({"box": (0.0, math.inf)}, "box upper bound must be finite"),
        ({"box": (0.0, 1.0, 2.0)}, r"a pair \(lo, hi\); got a sequence of length 3"),
        ({"box": -1.0}, r"box must be a positive finite number R \(the box ‖z‖_∞ ≤ R\) or a pair"),
        ({"box": 1.0, "vertices": 1}, "vertices must be a bool; got 1"),
        ({"box": 1.0, "cutoff": math.inf}, r"cutoff must be a float in \(-inf, inf\) or None; got inf"),
        ({"box": 1.0, "rows": np.ones(16, dtype=bool)}, "rows must be output indices; got a boolean array"),
        ({"box": 1.0, "rows": [0, 0]}, r"distinct output indices in \[0, 16\)"),
        ({"box": 1.0, "norm": "l2"}, "norm must be one of 'l1', 'linf'; got 'l2'"),
        ({"box": 1.0, "clip_margin": 0.5}, r"clip_margin must be a float in \(0, 0.5\); got 0.5"),
        ({"box": 1.0, "rows": [0, 1]}, r"target must be a finite vector with one value per row \(2\)"),
    ],
)
def test_minimize_residual_rejects_bad_arguments(kwargs: dict, message: str) -> None:
    net, y = _noisy_instance()
    with pytest.raises(InvalidInput, match=message):
        minimize_residual(net, y, **kwargs)


# --------------------------------------------------------------------------------------------
# Second preimages
# --------------------------------------------------------------------------------------------


def abs_net() -> Network:
    """G(z) = relu(z) + relu(-z) = |z|: z and -z collide."""
    return Network(
        [Layer(np.array([[1.0], [-1.0]]), None, "relu"), Layer(np.array([[1.0, 1.0]]), None, "identity")]
    )


def test_second_preimage_found_on_a_colliding_net() -> None:
    res = second_preimage(abs_net(), [1.5], [1.5], delta=1.0, latent_box=2.0)
    assert res.status is SecondPreimageStatus.FOUND and res.found
    assert res.latent == pytest.approx([-1.5], abs=1e-9)
    assert res.distance >= 1.0 and res.residual <= 1e-6
    json.dumps(res.to_dict())


def test_second_preimage_of_paper_001_example_1() -> None:
    # Example 1: W1 = [[1, 2], [3, 1]], W2 = [1, -1], x = 1: (-1, 1) and (1, 3) are both preimages.
    net = Network(
        [
            Layer(np.array([[1.0, 2.0], [3.0, 1.0]]), None, "relu"),
            Layer(np.array([[1.0, -1.0]]), None, "relu"),
        ]
    )
    z_star = np.array([-1.0, 1.0])
    assert net.forward(z_star).tolist() == [1.0] == net.forward(np.array([1.0, 3.0])).tolist()
    res = second_preimage(net, [1.0], z_star, delta=1.0, latent_box=4.0)
    assert res.status is SecondPreimageStatus.FOUND
    assert np.max(np.abs(res.latent - z_star)) >= 1.0
    assert abs(net.forward(res.latent)[0] - 1.0) <= 1e-6


def test_no_second_preimage_on_an_injective_net() -> None:
    net = Network([Layer(np.array([[1.0], [-1.0]]), None, "relu")])  # z -> (relu z, relu -z): injective
    res = second_preimage(net, net.forward(np.array([0.7])), [0.7], delta=0.1, latent_box=2.0)
    assert res.status is SecondPreimageStatus.NONE_PROVEN
    assert res.latent is None and res.bound >= 0.1 - 1e-6
    assert "MILP-proven, not exact" in res.reason


@pytest.mark.parametrize("norm", ["linf", "l1"])
def test_no_second_preimage_on_a_planted_expansive_net(norm: str) -> None:
    rng = np.random.default_rng(12)
    net = gaussian_net(rng, [3, 10, 30], ["relu", "relu"])
    z = rng.normal(size=3)
    assert theorem2_holds(net, z)
    res = second_preimage(net, net.forward(z), z, delta=0.05, latent_box=box_for(z), norm=norm)
    assert res.status is SecondPreimageStatus.NONE_PROVEN, res.reason
    assert res.bound > res.tol


def test_second_preimage_with_a_mask_that_hides_the_difference() -> None:
    # Observing only |z| (the first output) of (|z|, z) cannot tell z from -z.
    net = Network(
        [
            Layer(np.array([[1.0], [-1.0], [1.0]]), None, "relu"),
            Layer(np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), None, "identity"),
        ]
    )
    y = net.forward(np.array([1.0]))
    assert (
        second_preimage(net, y, [1.0], delta=1.0, latent_box=2.0).status is SecondPreimageStatus.NONE_PROVEN
    )
    masked = second_preimage(net, y, [1.0], delta=1.0, latent_box=2.0, mask=[True, False])
    assert masked.status is SecondPreimageStatus.FOUND and masked.latent == pytest.approx([-1.0], abs=1e-9)


def test_second_preimage_time_limit_and_validation(fake_clock) -> None:
    fake_clock.step = 1.0  # each look at the clock moves it a second: past the limit at once, on any machine
    res = second_preimage(abs_net(), [1.0], [1.0], delta=1.0, latent_box=2.0, time_limit=1e-9)
    assert res.status is SecondPreimageStatus.UNKNOWN and res.reason == "time limit"
    with pytest.raises(InvalidInput, match="delta"):
        second_preimage(abs_net(), [1.0], [1.0], delta=0.0, latent_box=2.0)
    with pytest.raises(InvalidInput, match="z_star"):
        second_preimage(abs_net(), [1.0], [1.0, 2.0], delta=1.0, latent_box=2.0)
    with pytest.raises(InvalidInput, match="latent_box"):
        second_preimage(abs_net(), [1.0], [1.0], delta=1.0, latent_box=-2.0)
    with pytest.raises(InvalidInput, match="norm"):
        second_preimage(abs_net(), [1.0], [1.0], delta=1.0, latent_box=2.0, norm="l2")
    with pytest.raises(InvalidInput, match=r"clip_margin must be a float in \(0, 0.5\); got 0"):
        second_preimage(abs_net(), [1.0], [1.0], delta=1.0, latent_box=2.0, clip_margin=0)


def test_a_large_milp_runs_in_a_child_process_with_the_same_result(monkeypatch) -> None:
    # HiGHS overruns its own time_limit in root cut separation on large MILPs (73.6 s for 59.7 s
    # on a 20-200-500-784 decoder, issue 14), so above PRESOLVE_MAX_NONZEROS the MILP runs in a
    # child process that is killed KILL_GRACE s past the limit. Forced here on a small net: the
    # child must give exactly what the MILP gives in this process.

    calls = []
    real = milp_module._run_mip_bounded

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    net = gaussian_net(np.random.default_rng(4), [3, 12, 20], ["relu", "relu"])
    y = net.forward(np.random.default_rng(5).standard_normal(3))
    here = invert(net, y, method="milp", time_limit=60)
    monkeypatch.setattr(milp_module, "PRESOLVE_MAX_NONZEROS", 0)
    monkeypatch.setattr(milp_module, "_run_mip_bounded", spy)
    child = invert(net, y, method="milp", time_limit=60)
    assert calls, "the child-process path was not taken"
    assert child.status is here.status is InversionStatus.SOLVED
    assert np.allclose(child.latent, here.latent, rtol=0, atol=1e-9)


def test_a_killed_milp_child_is_a_time_limit(monkeypatch) -> None:
    # A child that does not answer by the limit + grace is killed: UNKNOWN "time limit", no guess.
    import sys


    real_popen = __import__("subprocess").Popen

    def sleeper(argv, **kwargs):  # a child that never writes its result
        return real_popen([sys.executable, "-c", "import time; time.sleep(60)"], **kwargs)

    monkeypatch.setattr("subprocess.Popen", sleeper)
    monkeypatch.setattr(milp_module, "KILL_GRACE", 0.2)
    net = gaussian_net(np.random.default_rng(4), [3, 12, 20], ["relu", "relu"])
    y = net.forward(np.random.default_rng(5).standard_normal(3))
    monkeypatch.setattr(milp_module, "PRESOLVE_MAX_NONZEROS", 0)
    r = invert(net, y, method="milp", time_limit=1.0)
    assert r.status is InversionStatus.UNKNOWN and r.reason.startswith("time limit")
