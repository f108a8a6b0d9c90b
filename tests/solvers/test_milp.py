"""Exact inversion by MILP (``milp``) and :func:`second_preimage`, judged on planted instances,
against the LP heuristics, and on toy nets whose preimages are known by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.solvers.test_lp import gaussian_net, planted, rel_err, theorem2_holds
from theorychk.errors import InvalidInput
from theorychk.network import Layer, Network
from theorychk.solvers import InversionStatus, invert
from theorychk.solvers.milp import SecondPreimageStatus, interval_bounds, second_preimage


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
    assert res.status in (InversionStatus.SOLVED, InversionStatus.INFEASIBLE), res.reason
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
    assert res.status is InversionStatus.SOLVED and res.info["in_range"] is False
    assert res.info["gap"] <= 1e-6 * max(1.0, res.info["objective"])


def test_tiny_time_limit_gives_unknown() -> None:
    net, y = _noisy_instance()
    res = invert(net, y, method="milp", time_limit=1e-9)
    assert res.status is InversionStatus.UNKNOWN and res.reason == "time limit"


def test_time_limit_inside_highs_keeps_the_incumbent_and_gap() -> None:
    rng = np.random.default_rng(0)
    net = gaussian_net(rng, [8, 40, 120], ["relu", "relu"], bias=True)
    y = net.forward(rng.normal(size=8)) + rng.normal(0, 0.2, size=120)
    res = invert(net, y, method="milp", time_limit=0.5)
    assert res.status is InversionStatus.UNKNOWN and res.reason == "time limit"
    assert res.info["bound"] <= res.info["objective"]
    assert res.elapsed < 5.0


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
        ({"polish": "yes"}, "polish"),
        ({"box": 3}, "unknown option"),
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


def test_second_preimage_time_limit_and_validation() -> None:
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
