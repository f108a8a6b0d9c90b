"""The trusted checker: valid certificates verify; every rejection path, hit by mutating a valid
certificate, is REJECTED with its pinned message; the checker imports no engine."""

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
from theorychk.check.core import check_certificate, check_file, read_certificate
from theorychk.errors import CertificateError
from theorychk.io import save_network
from theorychk.network import Layer, Network

F = Fraction
ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------------------------
# Base certificates (module scope: built once)
# --------------------------------------------------------------------------------------------


def _nets() -> dict[str, tuple[Network, list[Fraction]]]:
    rng = np.random.default_rng(3)
    return {
        # expansive ReLU net: rank-certified uniqueness, l_inf (LP duals) and l_1 (kernel rays), Oracle
        "inj": (Network([Layer(rng.standard_normal((12, 2)), None, "relu"),
                         Layer(rng.standard_normal((30, 12)), None, "relu")]), [F(1, 2), F(-3, 4)]),
        # G(z) = |z|: refuted with the mirror preimage
        "mirror": (Network([Layer(np.array([[1.0], [-1.0]]), None, "relu"),
                            Layer(np.array([[1.0, 1.0]]), None, "identity")]), [F(3, 4)]),
        # Theorem 1 per signal by a spark bound (2 rows, 3 columns, s = 1)
        "spark": (Network([Layer(np.array([[1.0], [-1.0], [-1.0]]), np.array([0.0, 0.0, -1.0]), "relu"),
                           Layer(np.array([[1.0, 0.0, 1.0], [2.0, 1.0, 1.0]]), None, "relu")]), [F(1)]),
        # polytope by a positive-spanning dual certificate
        "dual": (Network([Layer(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]), None, "relu"),
                          Layer(np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]), None, "relu")]),
                 [F(-1), F(2)]),
        # Theorem 2 of Aberdam et al. (ReLU hidden, identity last)
        "thm2": (Network([Layer(np.array([[1.0], [-1.0], [0.5]]), np.array([0.0, 0.0, -2.0]), "relu"),
                          Layer(np.eye(3) + 0.05 * rng.standard_normal((3, 3)), None, "identity")]), [F(3, 2)]),
        # l_1 by an approximate left inverse (C(40, 3) kernel rays exceed the cap)
        "wide": (Network([Layer(rng.standard_normal((90, 4)), None, "relu")]), [F(1), F(-1, 2), F(1, 4), F(3, 4)]),
        # smooth last activation: the signal is its exact pre-activation
        "sigmoid": (Network([Layer(rng.standard_normal((6, 2)), None, "relu"), Layer(rng.standard_normal((4, 6)), None, "sigmoid")]),
                    [F(1, 2), F(1, 4)]),
    }


NETS = _nets()
NOISE = {"thm2": F(1, 100)}
#: nets certified with ``exact_constants=True``: the exact evidence forms (l_1 kernel rays, l_inf
#: duals with the attaining ``x``) are checked here; by default certify states lower bounds there
EXACT = {"inj"}


@pytest.fixture(scope="module")
def certs() -> dict[str, dict]:
    return {name: json.loads(json.dumps(build_certificate(net, z, source="test", noise=NOISE.get(name, F(1, 1000)),
                                                          exact_constants=name in EXACT)))
            for name, (net, z) in NETS.items()}


def claim_of(cert: dict, kind: str, variant: str | None = None) -> dict:
    return next(c for c in cert["claims"] if c["kind"] == kind and c.get("variant") == variant)


def only(cert: dict, kind: str, variant: str | None = None) -> dict:
    """A copy of ``cert`` keeping just one claim."""
    out = copy.deepcopy(cert)
    out["claims"] = [copy.deepcopy(claim_of(cert, kind, variant))]
    out["parameters"]["kinds"] = [kind]  # the header lists exactly the per-signal kinds present
    return out


# --------------------------------------------------------------------------------------------
# Valid certificates verify
# --------------------------------------------------------------------------------------------


EXPECTED = {
    "inj": {("polytope", None): "VERIFIED", ("lei_thm2", None): "VERIFIED", ("lei_linf", None): "VERIFIED",
            ("lei_l1", None): "VERIFIED", ("aberdam_oracle", None): "VERIFIED", ("milp_global", None): "NOT_CHECKABLE"},
    "mirror": {("polytope", None): "VERIFIED", ("lei_thm2", None): "VERIFIED", ("milp_global", None): "VERIFIED"},
    "spark": {("aberdam_thm1", "per_signal"): "VERIFIED", ("aberdam_thm1", "as_printed"): "VERIFIED"},
    "dual": {("polytope", None): "VERIFIED"},
    "thm2": {("aberdam_thm2", None): "VERIFIED"},
    "wide": {("lei_l1", None): "VERIFIED", ("lei_linf", None): "VERIFIED"},
    "sigmoid": {("polytope", None): "VERIFIED"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_valid_certificates_verify(certs, name):
    net, _ = NETS[name]
    report = check_certificate(certs[name], net)
    outcomes = {(c["kind"], c.get("variant")): f.outcome for c, f in zip(certs[name]["claims"], report.claims)}
    assert report.verified, report.to_dict()
    for key, outcome in EXPECTED[name].items():
        assert outcomes[key] == outcome, (key, outcomes)
    assert "REJECTED" not in outcomes.values()


def test_evidence_kinds_present(certs):
    assert claim_of(certs["spark"], "aberdam_thm1", "per_signal")["evidence"]["layers"][0]["method"] == "enumeration"
    assert any(e["method"] == "dual" for e in claim_of(certs["dual"], "polytope")["evidence"]["layers"])
    assert claim_of(certs["wide"], "lei_l1")["evidence"]["layers"][0]["c_evidence"]["method"] == "approx_left_inverse"
    assert claim_of(certs["inj"], "lei_l1")["evidence"]["layers"][0]["c_evidence"]["method"] == "kernel_rays"
    assert claim_of(certs["mirror"], "milp_global")["status"] == "REFUTED"
    assert "output_pre_activation" in certs["sigmoid"]["signal"]


def test_alternative_spark_evidence_verifies(certs):
    cert = only(certs["spark"], "aberdam_thm1", "per_signal")
    cert["claims"][0]["evidence"]["layers"][0] = {"layer": 1, "rows": [0, 1], "method": "coherence", "s": 1}
    assert check_certificate(cert, NETS["spark"][0]).verified  # mu^2 = 9/10 < 1/(2s - 1)^2 = 1
    # LP bound: layer 1 of "lp" below has A = [[1, 0], [1, 1]]; y_i = A^{-T} e_i gives t = 0
    net = Network([Layer(np.array([[1.0], [-1.0]]), None, "relu"), Layer(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), None, "relu")])
    cert = json.loads(json.dumps(build_certificate(net, [F(1)], source="t", kinds=("aberdam_thm1",), as_printed=False)))
    layer = cert["claims"][0]["evidence"]["layers"][0]
    assert layer["layer"] == 1 and layer["rows"] == [0, 2]
    layer.update(method="lp", column_scaling=["1", "1"], y=[["1", "0"], ["-1", "1"]])
    assert check_certificate(cert, net).verified


# --------------------------------------------------------------------------------------------
# Rejection paths: (base, claim or None, mutation, pinned message)
# --------------------------------------------------------------------------------------------


def _set(path: str, value: object):
    """A mutation setting ``cert[path]`` (dotted; integers index lists); ``...`` deletes."""

    def mutate(cert: dict) -> None:
        *head, last = [int(p) if p.lstrip("-").isdigit() else p for p in path.split(".")]
        obj = cert
        for p in head:
            obj = obj[p]
        if value is ...:
            del obj[last]
        else:
            obj[last] = value

    return mutate


def _both(key: str, value: str):
    """Change a parameter in the header and in the (only) claim's evidence alike."""

    def mutate(cert: dict) -> None:
        cert["parameters"][key] = cert["claims"][0]["evidence"][key] = value

    return mutate


def _flip_support(cert: dict) -> None:
    s = cert["signal"]["supports"][0]
    s.append(next(i for i in range(100) if i not in s))
    s.sort()


def _negate_multiplier(cert: dict) -> None:
    layer = next(e for e in cert["claims"][0]["evidence"]["layers"] if e["method"] == "dual")
    part = next(p for m in layer["multipliers"] for p in (m["inequality"], m["nonneg"]) if p)
    key = next(iter(part))
    part[key] = "-" + part[key]


def _perturb_multiplier(cert: dict) -> None:
    layer = next(e for e in cert["claims"][0]["evidence"]["layers"] if e["method"] == "dual")
    eq = layer["multipliers"][0]["equality"] or layer["multipliers"][1]["equality"]
    key = next(iter(eq))
    eq[key] = str(F(eq[key]) + F(1, 10**9))


def _drop_witness_row(cert: dict) -> None:
    cert["claims"][0]["evidence"]["second_latent"] = []


def _perturb_witness(cert: dict) -> None:
    z = cert["claims"][0]["evidence"]["second_latent"]
    z[0] = str(F(z[0]) + F(1, 2**40))


def _c_lower_up(cert: dict) -> None:
    e = cert["claims"][0]["evidence"]["layers"][0]
    e["c_lower"] = str(F(e["c_lower"]) * 2)


def _drop_facet(cert: dict) -> None:
    ev = cert["claims"][0]["evidence"]["layers"][0]["c_evidence"]
    ev["y"] = ev["y"][1:]


def _bound_down(cert: dict) -> None:
    ev = cert["claims"][0]["evidence"]
    ev["bound"] = str(F(ev["bound"]) * F(99, 100))


def _eig_up(cert: dict) -> None:
    e = cert["claims"][0]["evidence"]["eigenvalues"][0]
    e["lambda_min_lower"] = str(F(e["lambda_max_upper"]) * 2)


def _oracle_bound(cert: dict) -> None:
    b = cert["claims"][0]["evidence"]["bounds"][0]
    b["upper"] = str(F(b["upper"]) / 2)


def _phi_up(cert: dict) -> None:
    ev = cert["claims"][0]["evidence"]
    ev["phi_lower"] = str(F(ev["phi_lower"]) * 1000)


def _truncate_output(cert: dict) -> None:
    cert["signal"]["output"] = cert["signal"]["output"][:-1]


def _output_for_sigmoid(cert: dict) -> None:
    cert["signal"]["output"] = cert["signal"]["output_pre_activation"]


REJECTIONS = [
    # --- certificate level
    ("inj", None, _set("format", "other"), "not a theorychk-certificate version 1"),
    ("inj", None, _set("version", 2), "not a theorychk-certificate version 1"),
    ("inj", None, _set("model", ...), "certificate: missing field 'model'"),
    ("inj", None, _set("model.fingerprint", "0" * 64), "model fingerprint mismatch"),
    ("inj", None, _set("model.widths", [2, 12, 31]), "do not match the model"),
    ("inj", None, _set("signal.latent", ...), "signal: missing field 'latent'"),
    ("inj", None, _set("signal.latent.0", 0.5), "signal.latent[0]: expected an exact rational"),
    ("inj", None, _set("signal.latent.0", "1/0"), "signal.latent[0]: zero denominator"),
    ("inj", None, _set("signal.latent.0", "0.5"), "signal.latent[0]: expected an exact rational"),
    ("inj", None, _set("signal.latent", ["1/2"]), "signal.latent: expected 2 entries, got 1"),
    ("inj", None, _set("signal.latent.1", "-3/5"), "signal.output does not equal G(latent)"),
    ("inj", None, _truncate_output, "signal.output: expected 30 entries, got 29"),
    ("inj", None, _set("signal.output", ...), "signal: needs 'output' or 'output_pre_activation'"),
    ("inj", None, _flip_support, "signal.supports[0] does not match the exact forward pass"),
    ("inj", None, _set("signal.supports", [[]]), "signal.supports: expected 2 layers, got 1"),
    ("inj", None, _set("claims", []), "certificate has no claims"),
    ("sigmoid", None, _output_for_sigmoid, "has no exact value; give output_pre_activation"),
    ("sigmoid", None, _set("signal.output_pre_activation.0", "0"), "does not equal the exact last pre-activation"),
    # --- claim level (generic)
    ("inj", "polytope", _set("claims.0.kind", "polytop"), "unknown claim kind 'polytop'"),
    ("inj", "polytope", _set("claims.0.status", "PROVEN"), "claim status must be one of"),
    ("inj", "polytope", _set("claims.0.evidence", ...), "polytope: missing field 'evidence'"),
    ("inj", "polytope", _set("claims.0.evidence.layers.0", {"layer": 1, "method": "rank", "rows": "all"}),
     "rows: expected list, got str"),
    ("inj", "polytope", _set("claims.0.evidence.layers.0", {"layer": 1, "method": "rank", "rows": [0.5]}),
     "expected a list of integer indices"),
    # --- polytope
    ("inj", "polytope", _set("claims.0.evidence.layers.0.layer", 0), "layer index 0 out of range or repeated"),
    ("inj", "polytope", _set("claims.0.evidence.layers", [{"layer": 1, "method": "rank", "rows": []}]),
     "evidence must cover every layer 0..1"),
    ("inj", "polytope", lambda c: _set("claims.0.evidence.layers.0.rows", c["signal"]["supports"][1][:3])(c),
     "the observed rows lack full column rank"),
    ("inj", "polytope", lambda c: c["claims"][0]["evidence"]["layers"][0]["rows"].append(
        next(r for r in range(30) if r not in c["signal"]["supports"][1])),
     "of layer 1 is not observed (its output is 0)"),
    ("inj", "polytope", _set("claims.0.evidence.layers.0.method", "magic"), "unknown method 'magic'"),
    ("dual", "polytope", _negate_multiplier, "negative multiplier"),
    ("dual", "polytope", _perturb_multiplier, "the combination does not equal the basis vector"),
    ("dual", "polytope", _set("claims.0.evidence.layers.0.multipliers", []), "need 4 multiplier sets"),
    ("dual", "polytope", _set("claims.0.evidence.layers.0.multipliers.0.inequality", {"0": "1"}),
     "row 0 is not an active off row"),
    ("dual", "polytope", _set("claims.0.evidence.layers.0.multipliers.0.nonneg", {"1": "1"}),
     "x_1[1] >= 0 is not an active bound"),
    ("dual", "polytope", _set("claims.0.evidence.layers.0.multipliers.0.equality", {"2": "1"}), "row 2 is not an observed row"),
    ("dual", "polytope", _set("claims.0.evidence.layers.0.multipliers.0.equality", {"x": "1"}), "bad index 'x'"),
    # --- lei_thm2
    ("inj", "lei_thm2", _set("claims.0.evidence.layers.0.rows", [0]), "the rows lack full column rank"),
    ("spark", "lei_thm2", _set("claims.0.status", "CERTIFIED"), "lei_thm2 layer 1: the rows lack full column rank"),
    # --- refutations
    ("mirror", "milp_global", _drop_witness_row, "second_latent: expected 1 entries, got 0"),
    ("mirror", "milp_global", _perturb_witness, "the second latent does not reproduce the signal"),
    ("mirror", "milp_global", _set("claims.0.evidence.second_latent", ["3/4"]), "the second latent equals z*"),
    ("mirror", "milp_global", _both("delta", "2"), "closer than delta to z* or outside the box"),
    ("mirror", "milp_global", _both("latent_box", "1/2"), "closer than delta to z* or outside the box"),
    ("mirror", "milp_global", _both("delta", "0"), "delta and latent_box must be positive"),
    ("mirror", "polytope", _perturb_witness, "the second latent does not reproduce the signal"),
    ("inj", "milp_global", _set("claims.0.evidence_kind", "exact"), "must declare evidence_kind 'solver'"),
    # --- aberdam_thm1
    ("spark", ("aberdam_thm1", "per_signal"), _set("claims.0.variant", "v2"), "variant must be 'per_signal' or 'as_printed'"),
    ("spark", ("aberdam_thm1", "per_signal"), _set("claims.0.evidence.layers.0.s", 2), "s = 2 but x_1 has 1 nonzeros"),
    ("spark", ("aberdam_thm1", "per_signal"), _set("claims.0.evidence.layers.1.method", "coherence"),
     "x_0 is not sparse; needs full column rank"),
    ("spark", ("aberdam_thm1", "per_signal"), _set("claims.0.evidence.layers.0.method", "rank"),
     "rows lack full column rank or n + 1 <= 2 s"),
    ("spark", ("aberdam_thm1", "per_signal"), _set("claims.0.evidence.layers.0.method", "oracle"),
     "unsupported spark evidence 'oracle'"),
    ("spark", ("aberdam_thm1", "per_signal"), _set("claims.0.evidence.layers.0.rows", [0, 1, 2]),
     "rows: indices must be distinct and in 0..1"),
    ("spark", ("aberdam_thm1", "per_signal"),
     _set("claims.0.evidence.layers.0", {"layer": 1, "rows": [0, 1], "method": "lp", "s": 1,
                                          "column_scaling": ["1", "1", "1"], "y": [["1/2", "0"], ["-1/2", "1/2"], ["1", "-1/2"]]}),
     "LP bound gives spark >= 2, not > 2 s = 2"),
    ("spark", ("aberdam_thm1", "per_signal"),
     _set("claims.0.evidence.layers.0", {"layer": 1, "rows": [0, 1], "method": "lp", "s": 1,
                                          "column_scaling": ["1", "1"], "y": []}), "expected 3 entries, got 2"),
    ("mirror", ("aberdam_thm1", "per_signal"), _set("claims.0.status", "CERTIFIED"), "unsupported spark evidence 'circuit'"),
    # --- stability
    ("inj", "lei_linf", _c_lower_up, "c_lower = "),
    ("inj", "lei_linf", _drop_facet, "lei_linf layer 1.y: expected 12 lists of "),
    ("inj", "lei_linf", _bound_down, "bound does not equal the end of the chain"),
    ("inj", "lei_linf", _set("claims.0.evidence.layers.0.noise_in", "1"), "noise_in does not equal 2 l eps / c"),
    ("inj", "lei_linf", _set("claims.0.evidence.bound", "1"), "bound does not equal the end of the chain"),
    ("inj", "lei_linf", _set("claims.0.evidence.layers.0.noise_out", "1/999"), "noise_out does not match the chain"),
    ("inj", "lei_linf", _set("claims.0.evidence.layers.0.lipschitz", "2"), "inverse Lipschitz constant does not match"),
    ("inj", "lei_linf", _set("claims.0.evidence.layers", []), "need a positive noise and one entry per layer"),
    ("inj", "lei_l1", _set("claims.0.evidence.layers.0.c_evidence.method", "trust me"), "unsupported evidence 'trust me'"),
    ("inj", "lei_l1", _c_lower_up, "c_lower = "),
    ("wide", "lei_l1", _set("claims.0.evidence.layers.0.c_evidence.L", []), "L: expected 4 lists of 52 integers"),
    ("wide", "lei_l1", _set("claims.0.evidence.layers.0.c_evidence.method", "kernel_rays"), "kernel rays beyond the checker's cap"),
    ("thm2", "aberdam_thm2", _bound_down, "a coherence hypothesis fails or the bound does not match"),
    ("thm2", "aberdam_thm2", _phi_up, "phi_lower is not a verified lower bound"),
    ("thm2", "aberdam_thm2", _set("claims.0.evidence.lipschitz", "2"), "inverse Lipschitz constant does not match"),
    ("inj", "aberdam_thm2", _set("claims.0.status", "CERTIFIED"), "outside the theorem's model"),
    ("inj", "aberdam_oracle", _eig_up, "eigenvalue enclosure not verified"),
    ("inj", "aberdam_oracle", _oracle_bound, "the bounds do not match the recomputed ones"),
    ("inj", "aberdam_oracle", _set("claims.0.evidence.eigenvalues", []), "need one eigenvalue entry per layer"),
    ("inj", "aberdam_oracle", _set("claims.0.evidence.sigma", 1e-3), "aberdam_oracle.sigma: expected str/int, got float"),
    ("inj", "aberdam_oracle", _set("claims.0.evidence.sigma", "1e-3"), "expected an exact rational like '3/4'"),
]


@pytest.mark.parametrize("base, kind, mutate, message", REJECTIONS,
                         ids=[f"{i}-{r[3][:30]}" for i, r in enumerate(REJECTIONS)])
def test_rejections_are_pinned(certs, base, kind, mutate, message):
    net, _ = NETS[base]
    if kind is None:
        cert = copy.deepcopy(certs[base])
    else:
        kind, variant = kind if isinstance(kind, tuple) else (kind, None)
        cert = only(certs[base], kind, variant)
    assert "REJECTED" not in [c.outcome for c in check_certificate(cert, net).claims]  # the base is fine
    mutate(cert)
    report = check_certificate(cert, net)
    assert not report.verified
    rejected = [c for c in report.claims if c.outcome == "REJECTED"]
    assert rejected and message in rejected[0].reason, report.to_dict()


def test_not_a_dict_is_rejected():
    net, _ = NETS["inj"]
    report = check_certificate([1, 2], net)
    assert report.verdict == "REJECTED" and "must be a JSON object" in report.claims[0].reason


def test_unknown_claims_assert_nothing(certs):
    cert = only(certs["inj"], "aberdam_thm2")
    report = check_certificate(cert, NETS["inj"][0])
    assert [c.outcome for c in report.claims] == ["NO_CLAIM"] and not report.verified


def test_solver_claims_alone_do_not_verify(certs):
    report = check_certificate(only(certs["inj"], "milp_global"), NETS["inj"][0])
    assert [c.outcome for c in report.claims] == ["NOT_CHECKABLE"] and not report.verified


def test_wrong_model_is_rejected(certs):
    report = check_certificate(certs["inj"], NETS["mirror"][0])
    assert "model fingerprint mismatch" in report.claims[0].reason


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def test_check_file_round_trip_and_tampering(tmp_path, certs):
    net, _ = NETS["inj"]
    model = save_network(net, tmp_path / "inj.npz")
    cert = copy.deepcopy(certs["inj"])
    cert["model"]["source"] = str(model)
    path = write_certificate(cert, tmp_path / "c.json")
    assert check_file(path).verified  # the recorded source
    assert check_file(path, model=str(model)).verified
    truncated = tmp_path / "t.json"
    truncated.write_text(path.read_text()[:-200])
    with pytest.raises(CertificateError, match=r"is not valid JSON \(truncated\?\)"):
        check_file(truncated)
    with pytest.raises(CertificateError, match="cannot read certificate"):
        read_certificate(tmp_path / "missing.json")
    cert["model"]["source"] = ""
    write_certificate(cert, tmp_path / "nosource.json")
    with pytest.raises(CertificateError, match="records no model source"):
        check_file(tmp_path / "nosource.json")


def test_checker_imports_no_engine(tmp_path, certs):
    """The trusted base stays small: checking a certificate loads no solver, invariant or certifier."""
    net, _ = NETS["inj"]
    model = save_network(net, tmp_path / "inj.npz")
    cert = copy.deepcopy(certs["inj"])
    cert["model"]["source"] = str(model)
    path = write_certificate(cert, tmp_path / "c.json")
    code = f"""
import sys
from theorychk.check.core import check_file
report = check_file({str(path)!r})
assert report.verified, report.to_dict()
bad = sorted(m for m in sys.modules if m.split('.')[0] in ('highspy', 'pysat') or m == 'scipy.optimize'
             or m.startswith(('theorychk.solvers', 'theorychk.invariants', 'theorychk.certify', 'theorychk.reduction')))
print(','.join(bad))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "", f"the checker imported engines: {out.stdout.strip()}"


def _leaves(obj: object, path: tuple = ()) -> list[tuple]:
    if isinstance(obj, dict):
        return [leaf for k, v in obj.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(obj, list):
        return [leaf for i, v in enumerate(obj) for leaf in _leaves(v, (*path, i))] or [path]
    return [path]


@pytest.mark.parametrize("name", ["inj", "dual", "mirror", "thm2"])
def test_random_tampering_never_escapes_or_verifies_a_changed_number(certs, name):
    """Fail closed under fuzzing: replacing any leaf with junk never raises out of the checker, and
    a changed latent or output is never VERIFIED."""
    rng = np.random.default_rng(0)
    net, _ = NETS[name]
    base = certs[name]
    leaves = _leaves(base)
    junk = [None, True, 0.5, "0.5", "x", -1, 10**30, "1/0", [], {}, "7/3", [1, 2]]
    for _ in range(25):
        cert = copy.deepcopy(base)
        path = leaves[rng.integers(len(leaves))]
        obj = cert
        for p in path[:-1]:
            obj = obj[p]
        new = junk[rng.integers(len(junk))]
        changed = not path or obj[path[-1]] != new
        if path:
            obj[path[-1]] = new
        report = check_certificate(cert, net)  # must not raise
        assert report.verdict in ("VERIFIED", "REJECTED")
        if changed and path[:2] in (("signal", "latent"), ("signal", "output")):
            assert not report.verified, path


def test_left_inverse_evidence_is_short_integers(certs):
    # Any rational L is valid evidence; the certifier stores the pseudo-inverse as scale * Z with
    # integer Z of the fewest bits that keep the bound within L_LOSS of the float pseudo-inverse's.
    from theorychk.certify.stability import L_LOSS

    ev = claim_of(certs["wide"], "lei_l1")["evidence"]["layers"][0]["c_evidence"]
    scale = F(ev["scale"]) if "/" in ev["scale"] else F(float.fromhex(ev["scale"]))
    assert scale.numerator == 1 and scale.denominator & (scale.denominator - 1) == 0  # a power of two
    assert max(abs(v) for row in ev["L"] for v in row).bit_length() < 24  # shorter than float32
    net, z = NETS["wide"]
    x = net.forward(np.array([float(v) for v in z]))
    a = net.layers[0].weight[[r for r, v in enumerate(x) if v > 2 / 1000]]
    lf = np.linalg.pinv(a)
    n_e = np.abs(np.eye(4) - lf @ a).sum(axis=0).max()
    full = (1 - n_e) / np.abs(lf).sum(axis=0).max()
    c = F(claim_of(certs["wide"], "lei_l1")["evidence"]["layers"][0]["c_lower"])
    assert full * (1 - L_LOSS) * (1 - 1e-9) <= float(c) <= full * (1 + 1e-9)


def _respell(value: str) -> str | int:
    """The same rational, not in lowest terms (or as a JSON integer)."""
    q = F(value)
    return int(q) if q.denominator == 1 else f"{3 * q.numerator}/{3 * q.denominator}"


def test_output_is_compared_by_value_not_spelling(certs):
    # the canonical-spelling fast path of signal.output must neither reject an equal value spelled
    # otherwise nor accept a wrong value spelled canonically
    net, _ = NETS["inj"]
    for key in ("output", "output_pre_activation"):
        if key not in certs["inj"]["signal"]:
            continue
        cert = copy.deepcopy(certs["inj"])
        cert["signal"][key] = [_respell(v) for v in cert["signal"][key]]
        assert check_certificate(cert, net).verified
        wrong = copy.deepcopy(certs["inj"])
        v = F(wrong["signal"][key][-1]) + F(1, 2**80)
        wrong["signal"][key][-1] = str(v)
        report = check_certificate(wrong, net)
        assert not report.verified and "does not equal" in report.claims[0].reason


@pytest.fixture
def no_known_models(monkeypatch):
    """:data:`theorychk.check.model.KNOWN` empty for this test (and restored after it)."""
    from theorychk.check import model as check_model

    monkeypatch.setattr(check_model, "KNOWN", check_model._Known())


@pytest.fixture
def model_loads(monkeypatch) -> list[str]:
    """The sources :meth:`ModelSource.load` read during the test, one entry per read."""
    from theorychk.io import ModelSource

    seen: list[str] = []
    load = ModelSource.load

    def counting(self):
        seen.append(self.source)
        return load(self)

    monkeypatch.setattr(ModelSource, "load", counting)
    return seen


def test_a_batch_reads_a_model_once_but_sees_every_change(tmp_path, certs, no_known_models, model_loads):
    # check_file keeps the networks it read by (source, file sha256, options): a certificate of a
    # file rewritten in place (another network, the same path) must not reuse the cached one
    from theorychk.io import ModelSource

    net, _ = NETS["inj"]
    model = save_network(net, tmp_path / "m.npz")
    cert = copy.deepcopy(certs["inj"])
    cert["model"].update(ModelSource.of(model).to_dict())
    path = write_certificate(cert, tmp_path / "c.json")
    assert check_file(path).verified and check_file(path).verified
    assert model_loads == [str(model)]  # read once for both checks
    w = net.layers[0].weight.copy()
    w[0, 0] = np.nextafter(w[0, 0], np.inf)  # one ulp of one weight
    save_network(Network([Layer(w, net.layers[0].bias, net.layers[0].activation.spec), *net.layers[1:]]), model)
    report = check_file(path)
    assert not report.verified and "has changed since the certificate was made" in report.claims[0].reason


def test_an_onnx_model_with_external_data_is_read_again_for_every_certificate(tmp_path, no_known_models,
                                                                              model_loads):
    # the recorded sha256 covers the .onnx file, not the sidecar holding its tensors: a sidecar
    # rewritten between two checks (the .onnx bytes unchanged) must give the network it now holds,
    # so such a model is never kept by (source, sha256, options)
    import onnx

    from theorychk.certify.certificate import build_certificate
    from theorychk.io import ModelSource, export_onnx, load_network

    net = Network([Layer(np.array([[1.0], [-1.0]], np.float32), None, "relu"),
                   Layer(np.array([[1.0, 1.0]], np.float32), None, "identity")])
    model = export_onnx(net, tmp_path / "m.onnx")
    onnx.save_model(onnx.load(str(model)), str(model), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="m.onnx.data", size_threshold=0)
    sidecar = tmp_path / "m.onnx.data"
    assert sidecar.is_file() and load_network(model).fingerprint() == net.fingerprint()
    cert = json.loads(json.dumps(build_certificate(net, [F(3, 4)], source="test")))
    cert["model"].update(ModelSource.of(model).to_dict())
    path = write_certificate(cert, tmp_path / "c.json")
    assert check_file(path).verified and check_file(path).verified
    before = model.read_bytes()
    data = sidecar.read_bytes()
    one = np.float32(1.0).tobytes()
    sidecar.write_bytes(data.replace(one, np.float32(2.0).tobytes(), 1))  # one weight 1 -> 2
    assert model.read_bytes() == before
    report = check_file(path)
    assert not report.verified and "model fingerprint mismatch" in report.claims[0].reason
    assert model_loads == [str(model)] * 3


def test_a_network_is_hashed_once_however_many_certificates(certs, monkeypatch):
    # a network passed as an argument (not read by check_file) is fingerprinted, its layers digested
    # and keyed for the integer cache once, not once per certificate (the values are memoized on
    # the frozen Network / Layer); the memo does not stop it from going to a worker process
    import hashlib
    import pickle

    made = []
    sha256 = hashlib.sha256

    def counting(*args):
        made.append(1)
        return sha256(*args)

    monkeypatch.setattr(hashlib, "sha256", counting)
    source, _ = NETS["inj"]
    net = Network([Layer(layer.weight.copy(), None, layer.activation.spec) for layer in source.layers])
    assert check_certificate(certs["inj"], net).verified
    once = len(made)
    for _ in range(3):
        assert check_certificate(certs["inj"], net).verified
    assert once > 0 and len(made) == once
    assert pickle.loads(pickle.dumps(net)).fingerprint() == net.fingerprint()


def test_rows_seen_in_one_claim_are_still_parsed_strictly_in_the_next(certs):
    # several claims list the same observed rows and the checker remembers the ones it parsed; the
    # same numbers spelled as JSON floats or booleans in a later claim must still be rejected
    net, _ = NETS["inj"]
    for bad in (float, lambda v: False if v == 0 else v):
        cert = copy.deepcopy(certs["inj"])
        rows = claim_of(cert, "polytope")["evidence"]["layers"][0]["rows"]
        later = claim_of(cert, "lei_thm2")["evidence"]["layers"][0]
        assert later["rows"] == rows and 0 in rows
        later["rows"] = [bad(v) for v in rows]
        report = check_certificate(cert, net)
        finding = next(c for c in report.claims if c.kind == "lei_thm2")
        assert finding.outcome == "REJECTED" and "expected a list of integer indices" in finding.reason
        assert next(c for c in report.claims if c.kind == "polytope").outcome == "VERIFIED"
