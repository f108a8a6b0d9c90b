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


# --------------------------------------------------------------------------------------------
# The as-printed hypotheses of Theorem 1: after the decisive claims, on their own budget
# --------------------------------------------------------------------------------------------


def _printed_case() -> tuple[Network, list[Fraction]]:
    """Sub-spark 4 and sub-rank 4 here: decided at once without a limit, not within a few looks."""
    rng = np.random.default_rng(1)
    net = Network([Layer(rng.integers(-3, 4, (10, 4)).astype(float), None, "relu"),
                   Layer(rng.integers(-3, 4, (12, 10)).astype(float), None, "relu")])
    return net, [F(1), F(-1, 2), F(1, 4), F(2)]


def test_printed_budget_is_a_fraction_of_the_limit_capped_and_within_the_deadline(fake_clock):
    from theorychk.certify.signal import printed_budget
    from theorychk.runtime import Deadline

    assert printed_budget(Deadline(20.0)).seconds == 2.0  # 10 % of the limit
    assert printed_budget(Deadline(600.0)).seconds == 5.0  # at most 5 s
    assert printed_budget(Deadline(None)).seconds == 5.0
    assert printed_budget(Deadline(None), seconds=None).seconds is None
    assert printed_budget(Deadline(600.0), fraction=0.5, seconds=None).seconds == 300.0
    late = Deadline(20.0)
    fake_clock.now += 19.5
    assert printed_budget(late).seconds == 0.5  # never past the signal's deadline
    fake_clock.now += 1.0
    assert printed_budget(late) is None and printed_budget(Deadline(20.0), seconds=0) is None


def test_printed_hypotheses_run_after_the_decisive_claims_on_their_budget(monkeypatch, fake_clock):
    from theorychk.certify import signal

    calls: list[tuple[str, object]] = []

    def spy(name, fn):
        def wrapped(*args, **kwargs):
            calls.append((name, kwargs.get("deadline", args[-1] if args else None)))
            return fn(*args, **kwargs)
        monkeypatch.setattr(signal, name, wrapped)

    for name in ("polytope_layer", "_milp_claim", "_aberdam_layers", "_printed_thm1"):
        spy(name, getattr(signal, name))
    net, z = _printed_case()
    cert = build_certificate(net, z, source="test", kinds=("aberdam_thm1", "polytope", "milp_global"), time_limit=20)
    order = [name for name, _ in calls]
    assert order[0] == "_aberdam_layers" and order[-1] == "_printed_thm1" and "_milp_claim" in order
    # min(10 % of 20 s, 5 s, max(0.25 s on a small net, 1/10 of the time the other claims took)): the clock stood still
    assert calls[-1][1].seconds == signal.PRINTED_FLOOR
    assert signal.printed_budget(signal.Deadline(20.0), spent=30.0).seconds == 2.0  # 10 % binds
    assert signal.printed_budget(signal.Deadline(20.0), spent=5.0).seconds == 0.5  # a tenth of the rest
    # PRINTED_FLOOR_LARGE (0.002 s) at least, not 0.25 s, when a layer's scan is beyond any budget (the 20-60-784
    # decoder): 2 % of 0.05 s is 0.001 s, below that floor
    assert signal.printed_budget(signal.Deadline(20.0), spent=0.05, small=False).seconds == signal.PRINTED_FLOOR_LARGE
    wide = Network([Layer(np.ones((60, 20)), None, "relu"), Layer(np.ones((784, 60)), None, "relu")])
    assert signal.printed_scan_is_small(net) and not signal.printed_scan_is_small(wide)
    labels = [(c["kind"], c.get("variant")) for c in cert["claims"]]
    assert labels[:2] == [("aberdam_thm1", "per_signal"), ("aberdam_thm1", "as_printed")]  # the order of old
    calls.clear()
    cert = build_certificate(net, z, source="test", kinds=("aberdam_thm1", "polytope"), time_limit=20,
                             printed_seconds=0)
    assert "_printed_thm1" not in [name for name, _ in calls]
    printed = cert["claims"][1]
    assert printed["variant"] == "as_printed" and printed["status"] == "UNKNOWN"
    assert printed["reason"].startswith("time limit") and printed["hypotheses"] == []
    assert "REJECTED" not in [f.outcome for f in check_certificate(cert, net).claims]


def test_printed_hypotheses_report_the_bounds_reached_when_their_budget_ends(fake_clock):
    from theorychk.certify.signal import _printed_thm1
    from theorychk.runtime import Deadline

    from theorychk.invariants.subrank import sub_rank, sub_spark

    net, z = _printed_case()
    tr = trace(net, z)
    # The exact values, without a limit (the printed claim itself stops once (ii) fails)
    exact_values = [sub_spark(net.layers[1].weight, 6).value, sub_rank(net.layers[0].weight, 5).value]
    fake_clock.step = 1.0  # every look at the clock takes a second: a 2 s budget ends at once
    cut, holds, note = _printed_thm1(tr, Deadline(2.0))
    assert holds is None and note.startswith("printed-hypothesis budget (2 s) ended")
    assert [c["values"]["s_next"] for c in cut[:-1]] == [6, 5]
    for value, c in zip(exact_values, cut[:-1], strict=True):  # the last row is Corollary 1's counts
        assert c["values"]["status"] == "UNKNOWN" and c["holds"] is None
        assert c["values"]["lower"] <= value <= c["values"]["upper"]  # sound bounds, not a guess
        assert c["values"]["lower"] < c["values"]["upper"]


def test_printed_hypotheses_stop_once_one_fails(fake_clock):
    from theorychk.certify.signal import _printed_thm1
    from theorychk.invariants.subrank import sub_spark
    from theorychk.runtime import Deadline

    net, z = _printed_case()
    hyps, holds, note = _printed_thm1(trace(net, z), Deadline(None))
    assert holds is False and note == ""
    assert hyps[0]["holds"] is False and hyps[0]["values"]["upper"] == sub_spark(net.layers[1].weight, 6).value == 4
    assert hyps[1]["holds"] is None and hyps[1]["values"]["status"].startswith("not evaluated")
    assert "lower" not in hyps[1]["values"]  # no search ran for it


def test_printed_sub_spark_fails_without_a_search_when_2s_reaches_columns_plus_one(monkeypatch):
    from theorychk.certify import signal
    from theorychk.invariants import subrank
    from theorychk.runtime import Deadline

    rng = np.random.default_rng(3)
    # all 10 hidden units active (s_1 = 10 >= (10 + 1)/2): sub-spark(W_1, .) <= 11 <= 2 s_1
    net = Network([Layer(rng.integers(-3, 4, (10, 4)).astype(float), np.full(10, 100.0), "relu"),
                   Layer(rng.integers(-3, 4, (12, 10)).astype(float), None, "relu")])
    tr = trace(net, [F(1), F(-1, 2), F(1, 4), F(2)])
    s_next = len(tr.observed_rows(1))
    oracle = subrank.sub_spark(net.layers[1].weight, s_next)  # exact, no limit
    assert oracle.lower.value == oracle.upper.value <= 2 * 10
    monkeypatch.setattr(subrank, "sub_spark", lambda *a, **k: pytest.fail("searched"))
    hyps, holds, _ = signal._printed_thm1(tr, Deadline(None))
    assert holds is False and hyps[0]["holds"] is False and hyps[0]["values"]["upper"] == 11
