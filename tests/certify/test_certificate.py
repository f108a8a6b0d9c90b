"""Certificates: the JSON Schema, lossless round trips, and the committed zoo certificates re-checked."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from theorychk.certify.certificate import build_certificate, count_claims, sample_latents
from theorychk.check.core import check_certificate, check_file
from theorychk.io import load_network
from theorychk.network import Layer, Network

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "certificates" / "schema.json").read_text())
COMMITTED = sorted((ROOT / "certificates" / "zoo").glob("*/*.json"))


def _errors(inst: Any, schema: dict, root: dict, path: str = "$") -> list[str]:
    """The subset of JSON Schema 2020-12 that certificates/schema.json uses (jsonschema is not installed)."""
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return _errors(inst, target, root, path)
    errs: list[str] = []
    types = {"object": dict, "array": list, "string": str, "null": type(None), "number": (int, float)}
    if "type" in schema:
        wanted = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        ok = any((isinstance(inst, int) and not isinstance(inst, bool)) if t == "integer" else
                 isinstance(inst, types[t]) and not isinstance(inst, bool) for t in wanted)
        if not ok:
            return [f"{path}: expected {wanted}, got {type(inst).__name__}"]
    if "const" in schema and inst != schema["const"]:
        errs.append(f"{path}: expected {schema['const']!r}")
    if "enum" in schema and inst not in schema["enum"]:
        errs.append(f"{path}: {inst!r} not in {schema['enum']}")
    if "pattern" in schema and isinstance(inst, str) and not re.search(schema["pattern"], inst):
        errs.append(f"{path}: {inst!r} does not match {schema['pattern']}")
    if "minimum" in schema and isinstance(inst, int) and inst < schema["minimum"]:
        errs.append(f"{path}: {inst} < {schema['minimum']}")
    if isinstance(inst, dict):
        errs += [f"{path}: missing {k!r}" for k in schema.get("required", []) if k not in inst]
        for k, sub in schema.get("properties", {}).items():
            if k in inst:
                errs += _errors(inst[k], sub, root, f"{path}.{k}")
        for pat, sub in schema.get("patternProperties", {}).items():
            for k, v in inst.items():
                if re.search(pat, k):
                    errs += _errors(v, sub, root, f"{path}.{k}")
        if schema.get("additionalProperties") is False:
            pats = list(schema.get("patternProperties", {}))
            errs += [f"{path}: unexpected {k!r}" for k in inst
                     if k not in schema.get("properties", {}) and not any(re.search(p, k) for p in pats)]
    if isinstance(inst, list):
        if len(inst) < schema.get("minItems", 0):
            errs.append(f"{path}: fewer than {schema['minItems']} items")
        if "items" in schema:
            for i, v in enumerate(inst):
                errs += _errors(v, schema["items"], root, f"{path}[{i}]")
    if "oneOf" in schema and sum(not _errors(inst, s, root, path) for s in schema["oneOf"]) != 1:
        errs.append(f"{path}: not exactly one of oneOf")
    if "anyOf" in schema and all(_errors(inst, s, root, path) for s in schema["anyOf"]):
        errs.append(f"{path}: none of anyOf")
    for sub in schema.get("allOf", []):
        errs += _errors(inst, sub, root, path)
    if "if" in schema and not _errors(inst, schema["if"], root, path) and "then" in schema:
        errs += _errors(inst, schema["then"], root, path)
    return errs


def schema_errors(cert: Any) -> list[str]:
    try:  # the real validator when available
        import jsonschema
    except ModuleNotFoundError:
        return _errors(cert, SCHEMA, SCHEMA)
    return [e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(cert)]


def _cert(kinds: tuple[str, ...] | None = None) -> dict:
    rng = np.random.default_rng(5)
    net = Network([Layer(rng.standard_normal((10, 2)).astype(np.float32), None, "relu"),
                   Layer(rng.standard_normal((4, 10)).astype(np.float32), None, "sigmoid")])
    z = sample_latents(net, 1, 0)[0]
    return json.loads(json.dumps(build_certificate(net, z, source="inline", **({"kinds": kinds} if kinds else {})))), net


def test_generated_certificates_match_the_schema():
    cert, net = _cert()
    assert schema_errors(cert) == []
    assert check_certificate(cert, net).to_dict()["verdict"] in ("VERIFIED", "REJECTED")
    assert "REJECTED" not in [c.outcome for c in check_certificate(cert, net).claims]


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c.pop("claims"), "missing 'claims'"),
    (lambda c: c["signal"].update(latent=[0.5, 1]), "not exactly one of oneOf"),
    (lambda c: c["claims"][0].update(status="MAYBE"), "not in ['CERTIFIED', 'REFUTED', 'UNKNOWN']"),
    (lambda c: c["model"].update(fingerprint="xyz"), "does not match"),
    (lambda c: c["signal"].pop("output_pre_activation"), "none of anyOf"),
])
def test_schema_rejects_malformed_certificates(mutate, message):
    cert, _ = _cert(("polytope",))
    mutate(cert)
    assert any(message in e for e in _errors(cert, SCHEMA, SCHEMA)), _errors(cert, SCHEMA, SCHEMA)


def test_rationals_are_lossless():
    cert, net = _cert(("lei_thm2",))
    z = [Fraction(v) for v in cert["signal"]["latent"]]
    assert all(float(v) == float(np.float32(float(v))) for v in z)  # float32 latents, exactly
    out = cert["signal"]["output_float"]
    assert np.allclose([float.fromhex(h) for h in out], net.forward(np.array([float(v) for v in z])), rtol=0, atol=0)


def test_count_claims():
    cert, _ = _cert(("polytope", "lei_thm2"))
    counts = count_claims([cert, cert])
    assert {k: sum(v.values()) for k, v in counts.items()} == {"polytope": 2, "lei_thm2": 2}


def test_committed_zoo_certificates_exist():
    names = {p.parent.name for p in COMMITTED}
    assert names == {"aberdam", "vae-leaky", "vae-relu"}, names
    assert all(len(list((ROOT / "certificates" / "zoo" / n).glob("*.json"))) == 3 for n in names)


@pytest.mark.parametrize("path", COMMITTED, ids=[f"{p.parent.name}/{p.name}" for p in COMMITTED])
def test_committed_certificates_recheck(path):
    """CI re-checks every committed certificate against the model it names (exact, from scratch)."""
    cert = json.loads(path.read_text())
    assert schema_errors(cert) == []
    report = check_file(path)
    assert report.verified, report.to_dict()
    assert "REJECTED" not in [c.outcome for c in report.claims]
    net = load_network(cert["model"]["source"])
    assert cert["model"]["fingerprint"] == net.fingerprint()


def test_written_certificates_are_compact_and_exact(tmp_path):
    # One line of compact JSON; dyadic evidence rationals as float hex when shorter (the checker
    # reads both forms exactly): the file checks exactly as the certificate it was written from.
    from theorychk.certify.certificate import _compact_rational, write_certificate

    assert _compact_rational("2908244754644027/72057594037927936") == (2908244754644027 / 72057594037927936).hex()
    assert _compact_rational("1/1000") == "1/1000"  # not dyadic
    assert _compact_rational("1/2") == "1/2"  # dyadic but shorter as p/q
    assert _compact_rational("12345678901234567890123/2") == "12345678901234567890123/2"  # beyond float64
    for path in COMMITTED:
        cert = json.loads(path.read_text())
        out = write_certificate(cert, tmp_path / path.name)
        text = out.read_text()
        assert text.count("\n") == 1 and len(text) < path.stat().st_size
        back = json.loads(text)
        assert back["model"] == cert["model"] and back["signal"] == cert["signal"]
        a, b = check_file(path), check_file(out)
        assert a.verified and b.verified
        assert [(c.kind, c.outcome, c.reason) for c in a.claims] == [(c.kind, c.outcome, c.reason) for c in b.claims]


def test_printed_budget_counts_the_claims_not_the_inversion_before_them(fake_clock, monkeypatch):
    """The as-printed hypotheses get a share of the time the signal's other claims took: a running
    ``deadline`` (certify --signals: it also paid for inverting the signal) does not count as claim time."""
    from theorychk.certify import certificate
    from theorychk.runtime import Deadline

    spent: list[float | None] = []
    real = certificate.printed_budget

    def record(deadline, **kw):
        spent.append(kw["spent"])
        return real(deadline, **kw)

    monkeypatch.setattr(certificate, "printed_budget", record)
    net = Network([Layer([[1.0], [-1.0], [2.0]], None, "relu")])
    deadline = Deadline(None)
    fake_clock.now += 100.0  # the signal's inversion took 100 s; the clock then stands still
    cert = build_certificate(net, [Fraction(1, 2)], source="inline", kinds=("aberdam_thm1",), deadline=deadline)
    assert [c.get("variant") for c in cert["claims"]] == ["per_signal", "as_printed"]
    assert spent == [0.0]
