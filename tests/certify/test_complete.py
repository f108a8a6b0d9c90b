"""The ``complete`` claim: soundness against the exhaustive activation-pattern oracle, decisions
on nets built to be non-unique, and the certificates the checker replays."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.certify.oracle import preimage_witness
from tests.certify.strategies import small_cases
from theorychk.certify.certificate import build_certificate
from theorychk.certify.complete import complete_claim
from theorychk.check.core import check_certificate, trace
from theorychk.network import Layer, Network
from theorychk.runtime import Deadline

F = Fraction


def decide(net: Network, z: list[Fraction], box: Fraction | None = None) -> dict:
    """The complete claim, checked: REFUTED witnesses exact, CERTIFIED never contradicted by the oracle."""
    cert = build_certificate(net, z, source="test", kinds=("complete",))
    if box is not None:
        cert["claims"] = [complete_claim(trace(net, z), latent_box=box)]
    claim = cert["claims"][0]
    report = check_certificate(cert, net)
    found = report.claims[0]
    if claim["status"] == "UNKNOWN":
        pytest.fail(f"complete left a tiny net undecided: {claim['reason']}")
    assert found.outcome == "VERIFIED", found.reason
    truth = preimage_witness(net, z, box=box)
    if claim["status"] == "CERTIFIED":
        assert truth is None, ("false CERTIFIED", truth)
    else:
        z2 = [F(v) for v in claim["evidence"]["second_latent"]]
        t1, t2 = trace(net, z), trace(net, z2)
        assert z2 != z and (t2.outputs[-1], t2.pre[-1] if t1.outputs[-1] is None else None) == \
            (t1.outputs[-1], t1.pre[-1] if t1.outputs[-1] is None else None)
        assert truth is not None  # the oracle agrees a second preimage exists
    return claim


@st.composite
def non_unique_cases(draw: st.DrawFn) -> tuple[Network, list[Fraction]]:
    """A small net made non-unique on purpose: a duplicated hidden unit whose two copies the next
    layer weighs as ``w`` and ``-w`` (they cancel), or a dead unit, or a latent the output ignores."""
    net, z = draw(small_cases(max_depth=2, max_width=4))
    layers = list(net.layers)
    how = draw(st.sampled_from(["cancel", "ignored_latent", "dead"]))
    if how == "ignored_latent":
        w0 = np.array(layers[0].weight)
        w0[:, draw(st.integers(0, w0.shape[1] - 1))] = 0.0
        layers[0] = Layer(w0, layers[0].bias, layers[0].activation.spec)
    elif how == "cancel" and len(layers) >= 2:
        w0, w1 = np.array(layers[0].weight), np.array(layers[1].weight)
        r = draw(st.integers(0, w0.shape[0] - 1))
        w0 = np.vstack([w0, w0[r:r + 1]])
        b0 = np.r_[layers[0].bias, layers[0].bias[r]]
        col = np.array(w1[:, r])
        w1 = np.hstack([w1, -col[:, None]])
        w1[:, r] = col
        layers[0] = Layer(w0, b0, layers[0].activation.spec)
        layers[1] = Layer(w1, layers[1].bias, layers[1].activation.spec)
    else:
        w0 = np.array(layers[0].weight)
        b0 = np.array(layers[0].bias)
        w0[0] = 0.0
        b0[0] = -1.0
        layers[0] = Layer(w0, b0, layers[0].activation.spec)
    return Network(tuple(layers)), z


def _abs_net() -> Network:
    return Network([Layer(np.array([[1.0], [-1.0]]), None, "relu"), Layer(np.array([[1.0, 1.0]]), None, "identity")])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_cases())
@example((_abs_net(), [F(1, 2)]))
def test_complete_agrees_with_the_oracle(case):
    decide(*case)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(non_unique_cases())
def test_complete_on_nets_built_to_be_non_unique(case):
    decide(*case)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_cases(), st.sampled_from([F(1, 2), F(2), F(5)]))
def test_complete_in_a_latent_box_agrees_with_the_oracle(case, box):
    net, z = case
    if max(abs(v) for v in z) > box:
        return
    decide(net, z, box)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_cases())
def test_complete_agrees_with_the_oracle_many(case):
    decide(*case)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(non_unique_cases())
def test_complete_on_nets_built_to_be_non_unique_many(case):
    decide(*case)


def test_a_time_limit_ends_unknown_with_what_was_explored():
    from tests.check.test_complete import _net

    net, z = _net()
    deadline = Deadline(1e-9)
    claim = complete_claim(trace(net, z), deadline=deadline)
    assert claim["status"] == "UNKNOWN" and claim["reason"] == "time limit"
    assert set(claim["evidence"]["explored"]) == {"nodes", "closed", "open"}


def test_a_kink_at_z_star_is_refuted_with_an_exact_witness() -> None:
    # z* = 0 sits on the hidden unit's kink and y = 0: every z with z1 + z2 <= 0 is a preimage.
    # The pattern-based repair fails there (every nearby pattern differs from z*'s); the claim
    # must still be decided, with a witness the exact forward pass confirms (found by the slow
    # oracle comparison).
    net = Network([Layer(np.array([[0.25, 0.25]]), np.array([0.0]), "relu"),
                   Layer(np.array([[0.25]]), np.array([0.0]), "relu")])
    claim = decide(net, [Fraction(0), Fraction(0)])
    assert claim["status"] == "REFUTED"


def test_an_ill_scaled_direction_of_preimages_is_refuted_exactly() -> None:
    """``h = z_0 + 2^-70 z_1``: every ``z`` on that line is a preimage. The exact nullspace of the
    observed row is the primitive integer vector ``(1, -2^70)``; projecting a float point onto it
    with a coefficient of ``2^-71`` rounded it to ``z*`` itself, and the signal stayed undecided
    ("a direction of preimages at z* could not be made exact") -- the failure mode of
    zoo:vae784-relu's signal 49 of seed 1, whose nullspace vectors run to 1e125. The oracle agrees."""
    net = Network([Layer(np.array([[1.0, 2.0 ** -70]], np.float32), None, "relu"),
                   Layer(np.array([[1.0]], np.float32), None, "relu")])
    claim = decide(net, [F(1), F(0)])
    assert claim["status"] == "REFUTED"


def test_a_vertex_witness_left_free_by_the_tight_rows_is_completed_exactly() -> None:
    """Found by the slow oracle comparison in CI: the LP point of an open node sits on a kink, so
    the pattern-based repair is a coin toss, and the tight rows of the vertex LP (whose objective
    is bounded by a push row that is not a row of the polyhedron) leave a direction free. Solving
    them with the free variable at 0 gave a point off the polyhedron and the signal stayed
    undecided ("a true preimage near z* could not be made exact"); the witness is now moved along
    the exact nullspace to the LP point. The oracle agrees a second preimage exists."""
    net = Network([
        Layer(np.array([[-0.75, -0.75, 0.25], [0.5, 0.0, -1.75], [-0.25, 1.0, 0.0], [-0.75, -0.25, 0.5]]),
              np.array([0.0, 0.0, -0.5, 0.0]), "leaky_relu:0.25"),
        Layer(np.array([[0.0, 0.0, 0.0, 0.0], [0.5, 0.25, 0.0, -0.25], [-0.75, 0.25, -0.5, 0.25]]),
              np.zeros(3), "relu"),
        Layer(np.diag([0.0, 0.25, 0.25]), np.zeros(3), "relu")])
    claim = decide(net, [F(0), F(1, 4), F(-3, 4)])
    assert claim["status"] == "REFUTED"
