"""One verdict per signal: which claims decide it, which win, and what the checker's findings allow."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from theorychk.certify.certificate import build_certificate
from theorychk.check.core import check_certificate
from theorychk.network import Layer, Network
from theorychk.verdict import NOT_UNIQUE, UNDECIDED, UNIQUE, signal_verdict


def claim(kind: str, status: str, evidence_kind: str = "exact", reason: str = "", **evidence: object) -> dict:
    return {"kind": kind, "status": status, "evidence_kind": evidence_kind, "reason": reason, "evidence": evidence}


def cert(*claims: dict, latent: tuple[str, ...] = ("1/2", "-1")) -> dict:
    return {"signal": {"latent": list(latent)}, "claims": list(claims)}


def test_a_second_preimage_settles_it_whatever_else_is_certified():
    c = cert(claim("milp_global", "CERTIFIED", "solver", latent_box="10", delta="1/1000"),
             claim("polytope", "REFUTED", second_latent=["1/2", "0x1.8p+1"]),  # hex: as write_certificate compacts
             claim("complete", "REFUTED", second_latent=["1/2", "3"]))
    v = signal_verdict(c)
    assert (v.verdict, v.by, v.evidence_kind) == (NOT_UNIQUE, "complete", "exact")  # the search that found it
    assert v.distance_l2 == v.distance_linf == 4.0
    assert v.scope == "R^k" and str(v) == "not unique: ||z2 - z*||_2 = 4 (by complete)"


def test_a_second_preimage_found_in_a_latent_box_names_the_box():
    v = signal_verdict(cert(claim("complete", "REFUTED", latent_box="5", second_latent=["1/2", "3"])))
    assert (v.verdict, v.scope) == (NOT_UNIQUE, "||z||_inf <= 5")
    assert str(v) == "not unique in ||z||_inf <= 5: ||z2 - z*||_2 = 4 (by complete)"


def test_exact_evidence_and_all_of_rk_are_preferred():
    milp = claim("milp_global", "CERTIFIED", "solver", latent_box="10", delta="1/1000")
    boxed = claim("complete", "CERTIFIED", latent_box="5")
    lei = claim("lei_thm2", "CERTIFIED")
    assert signal_verdict(cert(milp, boxed, lei)).by == "lei_thm2"
    v = signal_verdict(cert(milp, boxed))
    assert (v.verdict, v.by, v.scope) == (UNIQUE, "complete", "||z||_inf <= 5")
    v = signal_verdict(cert(milp))
    assert (v.verdict, v.evidence_kind) == (UNIQUE, "solver") and "1/1000" in v.scope
    assert str(v).startswith("unique in ||z||_inf <= 10")


def test_sparse_uniqueness_alone_leaves_the_question_open():
    v = signal_verdict(cert(claim("aberdam_thm1", "CERTIFIED"), claim("polytope", "UNKNOWN", reason="LP says no")))
    assert v.verdict == UNDECIDED and v.by is None and "as sparse" in v.reason
    v = signal_verdict(cert(claim("polytope", "UNKNOWN", reason="time limit"),
                            claim("milp_global", "UNKNOWN", reason="net too large")))
    assert v.reason == "polytope: time limit; milp_global: net too large"
    assert signal_verdict(cert(claim("lei_linf", "CERTIFIED"))).reason == "no uniqueness claim was made"


def test_only_claims_the_checker_accepted_count():
    c = cert(claim("polytope", "CERTIFIED"), claim("milp_global", "CERTIFIED", "solver", latent_box="10", delta="1"))
    assert signal_verdict(c, outcomes=["VERIFIED", "NOT_CHECKABLE"]).by == "polytope"
    assert signal_verdict(c, outcomes=["REJECTED", "NOT_CHECKABLE"]).by == "milp_global"  # carried solver evidence
    v = signal_verdict(c, outcomes=["REJECTED", "REJECTED"])
    assert v.verdict == UNDECIDED and v.reason == "no uniqueness claim was verified"


@pytest.mark.parametrize(("first", "last", "expected"), [
    ([[1.0], [-1.0]], [[1.0, 1.0]], NOT_UNIQUE),  # G(z) = |z|: -z* has the same output
    ([[1.0], [2.0]], [[1.0, 0.0], [0.0, 1.0]], UNIQUE),  # z* > 0 is read off the output
])
def test_verdict_of_real_certificates(first, last, expected):
    net = Network([Layer(np.array(first), None, "relu"), Layer(np.array(last), None, "identity")])
    c = build_certificate(net, [Fraction(3, 4)], source="test", kinds=("polytope", "lei_thm2", "milp_global"))
    report = check_certificate(c, net)
    assert report.verified
    assert signal_verdict(c).verdict == signal_verdict(c, outcomes=[f.outcome for f in report.claims]).verdict \
        == expected


def test_jsonable_converts_exact_types_and_their_subclasses_alike():
    # the exact-type fast paths and the isinstance paths (subclasses, numpy) give the same JSON data
    import collections
    import dataclasses
    import enum

    from theorychk.errors import Reason
    from theorychk.verdict import EngineStatus, jsonable

    class Frac(Fraction):
        pass

    class Text(str):
        pass

    class Rank(enum.IntEnum):
        A = 3

    @dataclasses.dataclass
    class Pair:
        a: object
        b: object = 1.5

    class WithToDict(dict):
        def to_dict(self):
            return {"own": True}

    Point = collections.namedtuple("Point", "x y")
    moved = collections.OrderedDict([(1, 2.5), ("b", Fraction(1, 3))])
    moved.move_to_end(1)
    values = [None, True, -5, 2**70, "x", Text("s"), Fraction(3), Fraction(-2, 7), Frac(5, 3), Frac(4), 1.0, 0.1,
              float("-inf"), np.float32(0.1), np.int64(-3), np.bool_(True), np.array(2.5), np.array([[1, 2], [3, 4]]),
              [1, "a", None, True], (1, Fraction(1, 2)), Point(1, Frac(2, 3)), frozenset({"a"}), {"a": 1, 2: [0.5]},
              moved, collections.defaultdict(list, {"k": [Frac(1, 2)]}), WithToDict(a=1), Rank.A,
              EngineStatus.INFEASIBLE, Reason.TIME_LIMIT, Pair([Fraction(1, 5), np.float64(0.25)])]
    expected = [None, True, -5, 2**70, "x", Text("s"), "3", "-2/7", "5/3", "4", 1.0, "0x1.999999999999ap-4", "-inf",
                "0x1.99999a0000000p-4", -3, True, "0x1.4000000000000p+1", [[1, 2], [3, 4]], [1, "a", None, True],
                [1, "1/2"], [1, "2/3"], ["a"], {"a": 1, "2": ["0x1.0000000000000p-1"]},
                {"b": "1/3", "1": "0x1.4000000000000p+1"}, {"k": ["1/2"]}, {"own": True}, 3, "infeasible",
                "time limit", {"a": ["1/5", "0x1.0000000000000p-2"], "b": "0x1.8000000000000p+0"}]
    got = jsonable(values)
    assert got == expected and [type(g) for g in got] == [type(e) for e in expected]
    assert jsonable(values, exact_floats=False)[10:14] == [1.0, 0.1, "-inf", float(np.float32(0.1))]
