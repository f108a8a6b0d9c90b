"""Per-signal uniqueness: soundness against an exact oracle, refutations checked, edge cases pinned."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from tests.certify.oracle import fm_point, preimage_witness, q
from tests.certify.strategies import small_cases
from theorychk.certify.certificate import build_certificate
from theorychk.certify.signal import UNIQUENESS_KINDS, exact_preimage, polytope_layer, spark_evidence
from theorychk.check.core import check_certificate, trace
from theorychk.network import Layer, Network

F = Fraction


def _sparsity_limits(net: Network, z: list[Fraction]) -> list[int | None]:
    """``max_on[j]`` for the oracle: ``s_{j+1} = ||x_{j+1}||_0`` after a hidden ReLU, else no limit."""
    tr = trace(net, z)
    return [len(tr.support(j)) if tr.relu(j) else None for j in range(net.depth - 1)]


def assert_sound(net: Network, z: list[Fraction]) -> dict:
    """Every CERTIFIED uniqueness claim is true (exact oracle); every other finding verifies."""
    cert = build_certificate(net, z, source="test", kinds=UNIQUENESS_KINDS)
    report = check_certificate(cert, net)
    witness: dict[str, object] = {}

    def oracle(key: str, **kw: object) -> object:
        if key not in witness:
            witness[key] = preimage_witness(net, z, **kw)
        return witness[key]

    for claim, found in zip(cert["claims"], report.claims, strict=True):
        assert found.outcome != "REJECTED", (claim["kind"], found.reason)
        if claim["status"] == "REFUTED":
            assert found.outcome == "VERIFIED", found
        if claim["status"] != "CERTIFIED":
            continue
        if claim["kind"] in ("polytope", "lei_thm2"):
            assert oracle("any") is None, (claim["kind"], witness)
        elif claim["kind"] == "aberdam_thm1":
            assert oracle("sparse", max_on=_sparsity_limits(net, z)) is None, witness
        elif claim["kind"] == "milp_global":
            ev = claim["evidence"]
            box, delta = F(ev["latent_box"]), F(ev["delta"])
            # the MILP searches ||z - z*|| >= delta (1 + 1e-9) + 1e-12: test just beyond that
            assert oracle("milp", box=box, delta=delta * F(1001, 1000)) is None, witness
    for key, w in witness.items():  # the oracle's own witnesses are genuine preimages
        if w is not None:
            assert trace(net, w).pre[-1] == trace(net, z).pre[-1], key
    return cert


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_cases())
def test_no_certified_uniqueness_claim_is_false(case):
    assert_sound(*case)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_cases())
def test_no_certified_uniqueness_claim_is_false_many(case):
    assert_sound(*case)


# --------------------------------------------------------------------------------------------
# Known nets
# --------------------------------------------------------------------------------------------


def _abs_net() -> Network:
    """G(z) = |z|: every y > 0 has the two preimages +-y."""
    return Network([Layer(np.array([[1.0], [-1.0]]), None, "relu"), Layer(np.array([[1.0, 1.0]]), None, "identity")])


def test_abs_net_is_refuted_with_the_mirror_preimage():
    cert = assert_sound(_abs_net(), [F(3, 4)])
    by_kind = {(c["kind"], c.get("variant")): c for c in cert["claims"]}
    milp = by_kind[("milp_global", None)]
    assert milp["status"] == "REFUTED" and milp["evidence"]["second_latent"] == ["-3/4"]
    assert by_kind[("polytope", None)]["status"] == "REFUTED"
    assert by_kind[("lei_thm2", None)]["status"] == "REFUTED"
    assert check_certificate(cert, _abs_net()).verified


def test_injective_layer_is_certified_by_rank():
    net = Network([Layer(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), None, "leaky_relu:0.5")])
    cert = assert_sound(net, [F(-1), F(1, 2)])
    statuses = {(c["kind"], c.get("variant")): c["status"] for c in cert["claims"]}
    assert statuses[("polytope", None)] == statuses[("lei_thm2", None)] == "CERTIFIED"
    assert statuses[("aberdam_thm1", "per_signal")] == "CERTIFIED"


def test_polytope_dual_certificate_where_rank_fails():
    # x_1 = (0, 2, 1); layer 1 observes only rows 0 and 1 (rank 2 < 3), but its row 2 is off with
    # pre-activation exactly 0 (x_1[0] <= 0 active) and x_1 >= 0 is active at coordinate 0: the
    # active normals positively span R^3, so P_1 is a point. Lei's rank condition fails there.
    net = Network([
        Layer(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]), None, "relu"),
        Layer(np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]), None, "relu"),
    ])
    z = [F(-1), F(2)]
    ok, ev = polytope_layer(trace(net, z), 1)
    assert ok and ev["method"] == "dual" and len(ev["multipliers"]) == 4
    cert = assert_sound(net, z)
    statuses = {(c["kind"], c.get("variant")): c["status"] for c in cert["claims"]}
    assert statuses[("polytope", None)] == "CERTIFIED"
    assert statuses[("lei_thm2", None)] == "UNKNOWN"
    assert check_certificate(cert, net).verified


def test_spark_evidence_methods():
    net = Network([Layer(np.ones((2, 3)), None, "relu"), Layer(np.ones((1, 2)), None, "relu")])
    tr = trace(net, [F(1), F(1), F(1)])
    assert spark_evidence(tr, 1, [0], 0, time_limit=None)[1]["method"] == "trivial"
    ok, ev, _ = spark_evidence(tr, 1, [0], 1, time_limit=None)
    assert ok is False and ev["method"] == "circuit"  # one row, two columns: spark 2 <= 2 s


def test_exact_preimage_round_trip():
    net = _abs_net()
    z = exact_preimage(net, np.array([-0.7499999]), target_out=[F(3, 4)])
    assert z == [F(-3, 4)]
    assert exact_preimage(net, np.array([0.75]), target_out=[F(3, 4)], away=([F(3, 4)], F(1, 10))) is None


def test_oracle_fourier_motzkin_strictness():
    # 0 < x <= 0 is empty; 0 <= x <= 0 is the point 0; x > 1, x < 2 gives an interior point
    one, minus = (q(1),), (q(-1),)
    assert fm_point([(minus, q(0), True), (one, q(0), False)], 1) is None
    assert fm_point([(minus, q(0), False), (one, q(0), False)], 1) == [q(0)]
    assert fm_point([(minus, q(-1), True), (one, q(2), True)], 1) == [q(F(3, 2))]
