"""The checker fails closed (issue 13, items 1 and 5): a claim's status is checked against its
evidence for every kind, outcomes are a whitelist, carried claims are reported and never
contradict a checked one, and the descriptive fields are bound to what the checker re-derives."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from theorychk.certify.certificate import build_certificate, write_certificate
from theorychk.check import ACCEPTABLE, CheckReport, ClaimCheck, Outcome
from theorychk.check.core import OUTPUT_FLOAT_TOL, check_certificate
from theorychk.check.stability import THM2_CONDITION
from theorychk.io import save_network
from theorychk.network import Layer, Network

from tests.check.test_check import NETS, NOISE, claim_of, only

F = Fraction
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def certs() -> dict[str, dict]:
    return {name: json.loads(json.dumps(build_certificate(net, z, source="test", noise=NOISE.get(name, F(1, 1000)))))
            for name, (net, z) in NETS.items()}


def _reasons(report: CheckReport) -> list[str]:
    return [c.reason for c in report.claims if c.outcome is Outcome.REJECTED]


# --------------------------------------------------------------------------------------------
# The reproducer: a CERTIFIED stability claim relabelled REFUTED (no witness, same evidence)
# --------------------------------------------------------------------------------------------

STABILITY = [("inj", "lei_linf"), ("inj", "lei_l1"), ("thm2", "aberdam_thm2"), ("inj", "aberdam_oracle")]


@pytest.mark.parametrize("base, kind", STABILITY)
def test_stability_claim_relabelled_refuted_is_rejected(certs, base, kind):
    """Before issue 13 this was VERIFIED: check/stability.py never read the status."""
    net, _ = NETS[base]
    cert = copy.deepcopy(certs[base])
    assert claim_of(cert, kind)["status"] == "CERTIFIED" and check_certificate(cert, net).verified
    claim_of(cert, kind)["status"] = "REFUTED"
    report = check_certificate(cert, net)
    assert not report.verified
    assert f"{kind}: REFUTED needs an exact witness, and {kind} claims have no witness format" in _reasons(report)


def test_reproducer_through_the_cli(tmp_path, certs):
    """What a user sees: `theorychk check` exits 1 (not 0) on the relabelled certificate."""
    net, _ = NETS["inj"]
    cert = copy.deepcopy(certs["inj"])
    cert["model"]["source"] = str(save_network(net, tmp_path / "inj.npz"))
    claim_of(cert, "lei_linf")["status"] = "REFUTED"
    path = write_certificate(cert, tmp_path / "c.json")
    out = subprocess.run([sys.executable, "-m", "theorychk", "check", str(path), "--json"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    assert doc["verdict"] == "REJECTED"
    assert any(c["kind"] == "lei_linf" and c["outcome"] == "REJECTED" for c in doc["claims"])


# --------------------------------------------------------------------------------------------
# Outcomes and statuses are enums; VERIFIED on a whitelist
# --------------------------------------------------------------------------------------------


def test_outcomes_are_a_closed_enum():
    assert {o.value for o in Outcome} == {"VERIFIED", "REJECTED", "NOT_CHECKABLE", "NO_CLAIM"}
    assert ClaimCheck("k", "VERIFIED").outcome is Outcome.VERIFIED  # str-valued: JSON unchanged
    assert json.dumps(ClaimCheck("k", Outcome.NO_CLAIM).outcome) == '"NO_CLAIM"'
    with pytest.raises(ValueError):
        ClaimCheck("k", "VERIFIED ")  # a free string that only looks positive


def test_verified_needs_a_whitelisted_outcome_and_positive_evidence():
    ok, carried, none = ClaimCheck("a", "VERIFIED"), ClaimCheck("b", "NOT_CHECKABLE"), ClaimCheck("c", "NO_CLAIM")
    assert Outcome.REJECTED not in ACCEPTABLE
    assert CheckReport("f", (ok, carried, none)).verified
    assert not CheckReport("f", (carried, none)).verified  # nothing re-derived
    assert not CheckReport("f", ()).verified
    assert not CheckReport("f", (ok, ClaimCheck("d", "REJECTED"))).verified


@pytest.mark.parametrize("status", ["certified", "Refuted", "", None, 1, ["CERTIFIED"]])
def test_status_must_be_one_of_three(certs, status):
    cert = only(certs["inj"], "polytope")
    cert["claims"][0]["status"] = status
    report = check_certificate(cert, NETS["inj"][0])
    assert _reasons(report) == [f"claim status must be one of CERTIFIED, REFUTED, UNKNOWN; got {status!r}"]


@pytest.mark.parametrize("kind", ["polytope", "lei_thm2"])
def test_refuted_without_a_witness_is_rejected(certs, kind):
    """Every refutable kind: REFUTED with the CERTIFIED claim's evidence (no second latent)."""
    cert = only(certs["inj"], kind)
    cert["claims"][0]["status"] = "REFUTED"
    assert _reasons(check_certificate(cert, NETS["inj"][0])) == [f"{kind}: missing field 'second_latent'"]


def test_certified_aberdam_thm1_relabelled_refuted_needs_a_witness(certs):
    cert = only(certs["spark"], "aberdam_thm1", "per_signal")
    cert["claims"][0]["status"] = "REFUTED"
    assert _reasons(check_certificate(cert, NETS["spark"][0])) == ["aberdam_thm1[per_signal]: missing field 'second_latent'"]


def test_refuted_with_solver_evidence_is_rejected(certs):
    cert = only(certs["mirror"], "milp_global")
    cert["claims"][0]["evidence_kind"] = "solver"
    assert _reasons(check_certificate(cert, NETS["mirror"][0])) == [
        "milp_global: evidence_kind 'solver' but the evidence is exact (re-derived by the checker)"]


def test_exact_claim_declared_solver_is_rejected(certs):
    cert = only(certs["inj"], "polytope")
    cert["claims"][0]["evidence_kind"] = "solver"
    assert _reasons(check_certificate(cert, NETS["inj"][0])) == [
        "polytope: evidence_kind 'solver' but the evidence is exact (re-derived by the checker)"]


def test_evidence_kind_is_a_closed_set(certs):
    cert = only(certs["inj"], "polytope")
    cert["claims"][0]["evidence_kind"] = "oracle"
    assert _reasons(check_certificate(cert, NETS["inj"][0])) == ["evidence_kind must be 'exact' or 'solver'; got 'oracle'"]


def test_injectivity_refuted_with_solver_evidence_is_rejected():
    net = NETS["mirror"][0]
    cert = json.loads(json.dumps(build_certificate(net, [F(3, 4)], source="t", kinds=("polytope",), extra_claims=[
        {"kind": "network_injective", "status": "REFUTED", "evidence_kind": "solver", "evidence": {}}])))
    assert _reasons(check_certificate(cert, net)) == [
        "network_injective: only a CERTIFIED claim with evidence_kind 'solver' may rest on evidence the checker "
        "cannot re-derive"]


# --------------------------------------------------------------------------------------------
# Checked and carried claims; a carried claim never contradicts a checked one
# --------------------------------------------------------------------------------------------


def test_report_lists_checked_and_carried_claims(certs):
    report = check_certificate(certs["inj"], NETS["inj"][0])
    kinds = [c["kind"] for c in certs["inj"]["claims"]]
    assert report.verified
    assert report.carried == [f"claims[{kinds.index('milp_global')}] milp_global"]
    assert f"claims[{kinds.index('polytope')}] polytope" in report.checked
    doc = report.to_dict()
    assert doc["carried"] == report.carried and doc["checked"] == report.checked
    assert "model.name" in doc["informational"]


def test_as_printed_variant_reports_its_carried_hypotheses(certs):
    report = check_certificate(certs["spark"], NETS["spark"][0])
    i = [(c["kind"], c.get("variant")) for c in certs["spark"]["claims"]].index(("aberdam_thm1", "as_printed"))
    assert f"claims[{i}] aberdam_thm1: printed hypotheses (i)-(iii): not re-verified" in report.carried


def _mirror_with_carried_milp(certs: dict) -> dict:
    """``mirror`` (G(z) = |z|) with its refuted MILP claim replaced by a solver-'proven' one."""
    cert = copy.deepcopy(certs["mirror"])
    milp = claim_of(cert, "milp_global")
    milp.update(status="CERTIFIED", evidence_kind="solver")
    del milp["evidence"]["second_latent"], milp["evidence"]["distance"]
    return cert


def test_carried_claim_contradicted_by_a_checked_witness_is_rejected(certs):
    """Before issue 13 this certificate was VERIFIED: the polytope claim's verified second preimage
    -3/4 of z* = 3/4 lies in the carried MILP claim's scope (box 10, distance >= 1/1000)."""
    cert = _mirror_with_carried_milp(certs)
    report = check_certificate(cert, NETS["mirror"][0])
    i = [c["kind"] for c in cert["claims"]].index("milp_global")
    assert not report.verified
    assert _reasons(report) == [f"claims[{i}] milp_global (carried) is contradicted by a verified witness in this "
                                "certificate"]


def test_carried_claim_outside_the_witness_scope_is_carried(certs):
    cert = _mirror_with_carried_milp(certs)
    claim_of(cert, "milp_global")["evidence"]["delta"] = cert["parameters"]["delta"] = "2"  # |3/4 - (-3/4)| < 2
    report = check_certificate(cert, NETS["mirror"][0])
    assert report.verified, report.to_dict()
    assert [c.kind for c in report.claims if c.outcome is Outcome.NOT_CHECKABLE] == ["milp_global"]


def test_carried_sparse_uniqueness_contradicted_by_a_sparse_witness():
    """aberdam_thm1 on engine evidence is carried; a checked second preimage meeting its sparsity
    conditions contradicts it."""
    net = NETS["mirror"][0]
    cert = json.loads(json.dumps(build_certificate(net, [F(3, 4)], source="t", kinds=("aberdam_thm1", "polytope"),
                                                   as_printed=False)))
    polytope = claim_of(cert, "polytope")
    polytope.update(status="REFUTED", evidence={"second_latent": ["-3/4"]})
    thm1 = claim_of(cert, "aberdam_thm1", "per_signal")
    thm1.update(status="CERTIFIED", evidence_kind="solver", evidence={"layers": [
        {"layer": 0, "rows": [0], "method": "rank"}, {"layer": 1, "rows": [0], "method": "engine", "s": 1}]})
    report = check_certificate(cert, net)
    assert [c.outcome for c in report.claims] == [Outcome.REJECTED, Outcome.VERIFIED]
    assert "claims[0] aberdam_thm1 (carried) is contradicted by a verified witness" in report.claims[0].reason


def _carried_injectivity(net: Network, z: list[Fraction], kind: str, **extra) -> dict:
    claim = {"kind": kind, "status": "CERTIFIED", "evidence_kind": "solver", "evidence": {}, **extra}
    return json.loads(json.dumps(build_certificate(net, z, source="t", kinds=("polytope",), extra_claims=[claim])))


@pytest.mark.parametrize("kind, extra", [("network_injective", {}), ("layer_injective", {"layer": 1})])
def test_carried_injectivity_contradicted_by_a_checked_witness(certs, kind, extra):
    net = NETS["mirror"][0]
    cert = _carried_injectivity(net, [F(3, 4)], kind, **extra)
    claim_of(cert, "polytope").update(status="REFUTED", evidence={"second_latent": ["-3/4"]})
    report = check_certificate(cert, net)
    assert report.claims[0].outcome is Outcome.VERIFIED
    assert _reasons(report) == [f"claims[1] {kind} (carried) is contradicted by a verified witness in this certificate"]


def test_carried_claims_outside_the_witness_are_carried():
    """The mirror pair z* = 3/4, z2 = -3/4 meets at layer 1 (inputs (3/4, 0) and (0, 3/4), one output):
    layer 0 is injective, and network injectivity on [0, 1] does not contain z2."""
    net = NETS["mirror"][0]
    for kind, extra in (("layer_injective", {"layer": 0}),
                        ("network_injective", {"domain": {"box": {"lower": ["0"], "upper": ["1"]}}})):
        cert = _carried_injectivity(net, [F(3, 4)], kind, **extra)
        claim_of(cert, "polytope").update(status="REFUTED", evidence={"second_latent": ["-3/4"]})
        report = check_certificate(cert, net)
        assert report.verified and report.carried == [f"claims[1] {kind}"], report.to_dict()


# --------------------------------------------------------------------------------------------
# Descriptive fields are bound (or declared informational)
# --------------------------------------------------------------------------------------------


def _edit(cert: dict, path: str, value: object) -> dict:
    out = copy.deepcopy(cert)
    *head, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    obj = out
    for p in head:
        obj = obj[p]
    obj[last] = value
    return out


@pytest.mark.parametrize("base, path, value, message", [
    ("inj", "model.activations", ["relu", "identity"], "model.activations ['relu', 'identity'] do not match the model"),
    ("inj", "model.dtype", "float32", "model.dtype float32 does not match the model float64"),
    ("inj", "parameters.noise", "1/999", "parameters.noise = 1/999 but claim lei_linf uses noise = 1/1000"),
    ("inj", "parameters.delta", "1/999", "parameters.delta = 1/999 but claim milp_global uses delta = 1/1000"),
    ("inj", "parameters.latent_box", "9", "parameters.latent_box = 9 but claim milp_global uses latent_box = 10"),
    ("inj", "parameters.noise", 0.001, "parameters.noise: expected an exact rational"),
    ("inj", "parameters.kinds", ["polytope"], "parameters.kinds ['polytope'] do not match the per-signal claims"),
    ("inj", "parameters.seed", 3, "parameters: unknown field 'seed'"),
    ("inj", "signal.note", "x", "signal: unknown field 'note'"),
    ("inj", "extra", {}, "certificate: unknown field 'extra'"),
    ("inj", "signal.output_float", ["0"] * 30, "signal.output_float: only after a smooth last activation"),
    ("sigmoid", "signal.output_float.0", "0", "signal.output_float[0] is farther than 1/1073741824 from the exact"),
    ("sigmoid", "signal.output_float", ["0"], "signal.output_float: expected 4 entries, got 1"),
])
def test_descriptive_fields_are_bound(certs, base, path, value, message):
    net, _ = NETS[base]
    report = check_certificate(_edit(certs[base], path, value), net)
    assert not report.verified and any(message in r for r in _reasons(report)), report.to_dict()


def test_sigma_and_conditional_on_are_bound(certs):
    oracle = only(certs["inj"], "aberdam_oracle")
    sigma = oracle["claims"][0]["evidence"]["sigma"]
    flipped = _edit(_edit(oracle, "claims.0.evidence.sigma", "-" + sigma), "parameters.noise", "-" + sigma)
    assert _reasons(check_certificate(flipped, NETS["inj"][0])) == ["aberdam_oracle: sigma must be positive"]
    thm2 = only(certs["thm2"], "aberdam_thm2")
    assert thm2["claims"][0]["evidence"]["conditional_on"] == THM2_CONDITION
    for value in ("", "none", None):
        report = check_certificate(_edit(thm2, "claims.0.evidence.conditional_on", value), NETS["thm2"][0])
        assert _reasons(report) == [f"aberdam_thm2: needs a positive noise and conditional_on = {THM2_CONDITION!r} "
                                    "(the bound holds only under that condition)"]


def test_milp_distance_is_bound(certs):
    cert = only(certs["mirror"], "milp_global")
    report = check_certificate(_edit(cert, "claims.0.evidence.distance", "1"), NETS["mirror"][0])
    assert _reasons(report) == ["milp_global: distance does not equal ||second_latent - z*||_inf = 3/2"]


def test_unknown_claim_field_is_rejected(certs):
    cert = only(certs["inj"], "polytope")
    cert["claims"][0]["scope"] = "global"
    assert _reasons(check_certificate(cert, NETS["inj"][0])) == [
        "claim: unknown field 'scope' (the checker rejects what it cannot check)"]


def test_output_float_within_tolerance_means_the_same(certs):
    """One float64 ulp is far inside OUTPUT_FLOAT_TOL: the reference value is the same."""
    cert = certs["sigmoid"]
    f = float.fromhex(cert["signal"]["output_float"][0])
    assert abs(np.nextafter(f, 2.0) - f) < OUTPUT_FLOAT_TOL
    edited = _edit(cert, "signal.output_float.0", float.hex(float(np.nextafter(f, 2.0))))
    assert check_certificate(edited, NETS["sigmoid"][0]).verified


@pytest.mark.parametrize("path, value", [
    ("model.name", "renamed"), ("model.source", "elsewhere.npz"), ("signal.origin", {"how": "edited"}),
    ("parameters.time_limit", 1), ("generator", {"program": "other"}), ("claims.0.statement", "anything"),
    ("claims.0.hypotheses", []), ("claims.0.reason", "edited"),
])
def test_informational_fields_change_no_verdict(certs, path, value):
    """Declared informational (theorychk.check.INFORMATIONAL, docs/certificates.md): never trusted."""
    net, _ = NETS["inj"]
    before = check_certificate(certs["inj"], net)
    after = check_certificate(_edit(certs["inj"], path, value), net)
    assert after.verified and [c.outcome for c in after.claims] == [c.outcome for c in before.claims]


def test_certificates_without_parameters_or_optional_model_fields_still_check(certs):
    cert = copy.deepcopy(certs["inj"])
    del cert["parameters"], cert["model"]["activations"], cert["model"]["dtype"]
    assert check_certificate(cert, NETS["inj"][0]).verified


def test_leaky_relu_net_round_trip():
    """A LeakyReLU hidden layer and a sigmoid output: the certifier's output verifies end to end."""
    rng = np.random.default_rng(5)
    net = Network([Layer(rng.standard_normal((6, 2)), None, "leaky_relu:0.1"),
                   Layer(rng.standard_normal((10, 6)), None, "sigmoid")])
    cert = json.loads(json.dumps(build_certificate(net, [F(1, 3), F(-1, 2)], source="t", kinds=("polytope",))))
    assert check_certificate(cert, net).verified


def test_schema_rejects_what_the_checker_rejects(certs):
    """certificates/schema.json says the same: no REFUTED stability claim, no unknown claim field."""
    from tests.certify.test_certificate import SCHEMA, _errors

    cert = copy.deepcopy(certs["inj"])
    assert _errors(cert, SCHEMA, SCHEMA) == []
    claim_of(cert, "lei_linf")["status"] = "REFUTED"
    assert any("'REFUTED' not in ['CERTIFIED', 'UNKNOWN']" in e for e in _errors(cert, SCHEMA, SCHEMA))
    cert = copy.deepcopy(certs["inj"])
    claim_of(cert, "polytope")["scope"] = "global"
    assert any("unexpected 'scope'" in e for e in _errors(cert, SCHEMA, SCHEMA))


def test_cli_names_the_carried_claims(tmp_path, certs):
    net, _ = NETS["inj"]
    cert = copy.deepcopy(certs["inj"])
    cert["model"]["source"] = str(save_network(net, tmp_path / "inj.npz"))
    path = write_certificate(cert, tmp_path / "c.json")
    out = subprocess.run([sys.executable, "-m", "theorychk", "check", str(path)], capture_output=True, text=True,
                         cwd=ROOT)
    i = [c["kind"] for c in cert["claims"]].index("milp_global")
    assert out.returncode == 0, out.stderr
    assert f"carried, not re-derived: claims[{i}] milp_global" in out.stdout.splitlines()
    assert out.stdout.splitlines()[-1] == f"VERIFIED: {path}"
