"""One test per checker rejection path that the rest of the default suite did not reach (listed
with coverage, issue 13): each mutates a valid certificate, or calls the helper directly where
the checker validates the input before it, and pins the message."""

from __future__ import annotations

import copy
import json
from fractions import Fraction

import numpy as np
import pytest

from theorychk.certify.certificate import build_certificate
from theorychk.check import SCOPES, Outcome, verifier
from theorychk.check import signal as check_signal
from theorychk.check.core import check_certificate, read_certificate
from theorychk.check.rationals import activation_enclosure, inverse_lipschitz_bound, parse_sparse, sqrt_bounds
from theorychk.errors import CertificateError
from theorychk.network import Layer, Network, ReLU
from tests.check.test_check import NETS, NOISE, claim_of, only
from tests.check.test_stability import legacy

F = Fraction


@pytest.fixture(scope="module")
def certs() -> dict[str, dict]:
    names = ("inj", "spark", "wide", "mirror", "sigmoid")
    return {n: json.loads(json.dumps(build_certificate(NETS[n][0], NETS[n][1], source="t",
                                                       noise=NOISE.get(n, F(1, 1000))))) for n in names}


def _rejected(cert: dict, net: Network) -> list[str]:
    report = check_certificate(cert, net)
    assert not report.verified
    return [c.reason for c in report.claims if c.outcome is Outcome.REJECTED]


# --- registry and files ------------------------------------------------------------------------


def test_second_verifier_for_a_kind_is_a_bug():
    with pytest.raises(CertificateError, match="two verifiers registered for claim kind 'polytope'"):
        verifier("polytope", refutable=True)(lambda claim, net, cert: None)


def test_certificate_file_must_hold_an_object(tmp_path):
    path = tmp_path / "c.json"
    path.write_text("[1, 2]")
    with pytest.raises(CertificateError, match="must hold a JSON object"):
        read_certificate(path)


# --- core ----------------------------------------------------------------------------------------


def test_hidden_smooth_activation_has_no_exact_forward_pass(certs):
    """The sigmoid net's widths with a sigmoid *hidden* layer: the trace of z* is refused."""
    net = NETS["sigmoid"][0]
    hidden = Network([Layer(net.layers[0].weight, None, "sigmoid"), Layer(net.layers[1].weight, None, "relu")])
    cert = copy.deepcopy(certs["sigmoid"])
    cert["model"].update(fingerprint=hidden.fingerprint(), activations=["sigmoid", "relu"])
    assert _rejected(cert, hidden) == ["hidden layer 0 has smooth activation 'sigmoid': no exact forward pass"]


def test_a_verifier_tripping_on_evidence_rejects_through_the_catch_all(certs):
    cert = only(certs["inj"], "lei_linf")
    ev = cert["claims"][0]["evidence"]["layers"][0]["c_evidence"]
    del ev["y"]  # the format before issue 16: a list of per-facet certificates
    ev["certificates"] = [{"y": {}}, {"facet": 0, "y": {}}]
    (reason,) = _rejected(cert, NETS["inj"][0])
    assert reason.startswith("malformed evidence (TypeError: ")


def test_carried_claim_without_a_scope_test_is_rejected(certs, monkeypatch):
    monkeypatch.delitem(SCOPES, "milp_global")
    cert = only(certs["inj"], "milp_global")
    cert["claims"].append(copy.deepcopy(claim_of(certs["inj"], "polytope")))
    cert["parameters"]["kinds"] = ["milp_global", "polytope"]
    assert _rejected(cert, NETS["inj"][0]) == ["milp_global: carried claim with no scope test (checker bug)"]


def test_scope_test_that_fails_rejects_the_carried_claim(certs, monkeypatch):
    def broken(claim, tr, a, b):
        raise KeyError("delta")

    monkeypatch.setitem(SCOPES, "milp_global", broken)
    cert = copy.deepcopy(certs["mirror"])
    milp = claim_of(cert, "milp_global")
    milp.update(status="CERTIFIED", evidence_kind="solver", evidence={"delta": "1/1000", "latent_box": "10"})
    assert _rejected(cert, NETS["mirror"][0]) == ["milp_global: scope test failed ('delta')"]


# --- injectivity ---------------------------------------------------------------------------------


def _with_injectivity(net: Network, z: list[Fraction], claim: dict) -> dict:
    return json.loads(json.dumps(build_certificate(net, z, source="t", kinds=("polytope",), extra_claims=[claim])))


def test_network_witness_outside_the_domain():
    net = NETS["mirror"][0]
    cert = _with_injectivity(net, [F(3, 4)], {
        "kind": "network_injective", "status": "REFUTED", "evidence": {"witness": {"z": ["3/4"], "z_prime": ["-3/4"]}},
        "domain": {"box": {"lower": ["0"], "upper": ["1"]}}})
    assert _rejected(cert, net) == ["witness pair: a point lies outside the domain"]


def test_network_claim_evidence_must_be_an_object():
    net = NETS["mirror"][0]
    cert = _with_injectivity(net, [F(3, 4)], {"kind": "network_injective", "status": "CERTIFIED", "evidence": []})
    assert _rejected(cert, net) == ["claim 'evidence' must be an object"]


def test_no_injectivity_criterion_for_an_unknown_non_invertible_activation():
    """Only ReLU among the built-in activations is not invertible; a new one is rejected, not passed."""

    class Clip(ReLU):
        name = "clip"

    from theorychk.check import VERIFIERS

    net = Network([Layer(np.array([[1.0], [-1.0]]), None, Clip())])
    claim = {"kind": "layer_injective", "status": "CERTIFIED", "layer": 0, "evidence_kind": "exact",
             "evidence": {"rank": 1}}
    found = VERIFIERS["layer_injective"](claim, net, {})
    assert (found.outcome, found.reason) == (Outcome.REJECTED, "layer 0: no injectivity criterion for activation 'clip'")


# --- exact helpers whose callers validate first -------------------------------------------------


def test_exact_helpers_reject_bad_input():
    with pytest.raises(CertificateError, match=r"w: expected an object \{index: rational\}, got list"):
        parse_sparse([], 3, "w")
    with pytest.raises(CertificateError, match="square root of a negative number -1"):
        sqrt_bounds(F(-1))
    with pytest.raises(CertificateError, match="activation 'relu' has no enclosure"):
        activation_enclosure("relu", F(1))
    with pytest.raises(CertificateError, match="activation 'relu' has no inverse Lipschitz constant"):
        inverse_lipschitz_bound("relu", F(1), F(1, 10))


def test_a_row_of_L_must_be_a_list(certs):
    cert = only(certs["wide"], "lei_l1")
    entry = cert["claims"][0]["evidence"]["layers"][0]
    legacy("wide", entry)  # a rational L (before issue 16)
    entry["c_evidence"]["L"][0] = "1"
    assert _rejected(cert, NETS["wide"][0]) == ["lei_l1 layer 0.L: expected a list of rationals, got str"]


# --- spark evidence of aberdam_thm1 (net "spark": layer 1 W = [[1, 0, 1], [2, 1, 1]], s_1 = 1) ----


@pytest.mark.parametrize("entry, message", [
    ({"rows": [0], "method": "coherence"}, "layer 1: column 1 is zero"),
    ({"rows": [1], "method": "coherence"}, "layer 1: coherence too large for s = 1 (columns 0, 1)"),
    ({"rows": [1], "method": "enumeration"}, "layer 1: columns [0, 1] are dependent"),
    ({"rows": [0, 1], "method": "lp", "column_scaling": ["1", "0", "1"], "y": [["1", "0"]] * 3},
     "layer 1: need 3 dual vectors and positive column scaling"),
])
def test_spark_evidence_rejections(certs, entry, message):
    cert = only(certs["spark"], "aberdam_thm1", "per_signal")
    cert["claims"][0]["evidence"]["layers"][0] = {"layer": 1, "s": 1, **entry}
    assert _rejected(cert, NETS["spark"][0]) == [f"aberdam_thm1[per_signal] {message}"]


def test_enumeration_beyond_the_cap(certs, monkeypatch):
    monkeypatch.setattr(check_signal, "ENUMERATION_CAP", 2)
    cert = only(certs["spark"], "aberdam_thm1", "per_signal")
    assert _rejected(cert, NETS["spark"][0]) == [
        "aberdam_thm1[per_signal] layer 1: C(3, 2) column sets exceed the checker's cap 2"]


def test_refuting_witness_must_meet_the_sparsity_conditions():
    """z* = -3/4 gives x_1 = (0, 3/4, 0); z2 = 3/4 reproduces y but x_1(z2) = (3/4, 0, 3/8) has 2 > 1 nonzeros."""
    net = Network([Layer(np.array([[1.0], [-1.0], [0.5]]), None, "relu"),
                   Layer(np.array([[1.0, 1.0, 0.0]]), None, "identity")])
    cert = json.loads(json.dumps(build_certificate(net, [F(-3, 4)], source="t", kinds=("aberdam_thm1",),
                                                   as_printed=False)))
    cert["claims"][0].update(status="REFUTED", evidence={"second_latent": ["3/4"]})
    assert _rejected(cert, net) == ["aberdam_thm1[per_signal]: the second latent violates the sparsity conditions"]


# --- stability -------------------------------------------------------------------------------------


def test_lp_dual_vector_outside_the_rows_J(certs):
    cert = only(certs["inj"], "lei_linf")
    entry = cert["claims"][0]["evidence"]["layers"][0]
    assert entry["layer"] == 1
    legacy("inj", entry)  # sparse duals (before issue 16) can name a row outside J; dense ones cannot
    off = next(r for r in range(30) if r not in cert["signal"]["supports"][1])
    entry["c_evidence"]["certificates"][0]["y"][str(off)] = "1"
    assert _rejected(cert, NETS["inj"][0]) == ["lei_linf layer 1: a dual vector uses a row outside J"]
