"""Systematic mutation campaign against the checker (issue 13).

For every claim of certificates the certifier produced — from the zoo nets and from the small nets
of ``test_check.py`` that reach every claim kind and evidence form — apply each mutation class:
flip the status each way, perturb one rational, drop / duplicate / reorder a witness row, flip an
activation bit (a support entry, an activation), change the fingerprint or a parameter (noise,
box, delta — no certificate field records a prime: the checker picks its own), flip a stability
layer's ``constant`` between ``exact`` and ``lower_bound``, and edit each descriptive field. Every mutant must be

* **rejected** — the certificate is not VERIFIED and some finding is REJECTED with a reason from a
  named check (never the ``malformed ...`` catch-all), or
* **meaning-preserving** — every finding is unchanged and the edit touched only a proof hint
  (evidence the checker re-derives the same conclusion from: multipliers, dual vectors, rows, a
  witness that still is one; a stability layer's ``"constant": "exact"`` weakened to
  ``"lower_bound"``) or a field declared informational, or
* **withdrawn** — the status became UNKNOWN: the claim now asserts less and is reported NO_CLAIM.

* **carried** — the edit made a claim rest on what the checker does not re-derive (declared solver
  evidence, the ``as_printed`` variant's printed hypotheses), and the report lists it as carried.

Anything else (an accepted edit of a status, a conclusion or a bound field) fails the test. Run
``python tests/check/test_mutations.py [all]`` to print the counts per class.
"""

from __future__ import annotations

import copy
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from theorychk.check import INFORMATIONAL, Outcome
from theorychk.check.core import check_certificate
from theorychk.io import load_network

ROOT = Path(__file__).resolve().parents[2]
Path_ = tuple[Any, ...]

#: Evidence fields that state a claim's conclusion (never a mere hint): an accepted edit of one is a hole.
CONCLUSION = {"bound", "bounds", "noise", "sigma", "delta", "latent_box", "conditional_on", "distance"}
#: Claim fields outside ``evidence`` that say what is claimed.
ASSERTION = {"kind", "status", "variant", "layer", "domain", "evidence_kind"}


def _get(obj: Any, path: Path_) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def _set(obj: Any, path: Path_, value: Any) -> None:
    _get(obj, path[:-1])[path[-1]] = value


def _is_rational(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    if isinstance(v, str):
        try:
            _rat(v)
            return True
        except (ValueError, ZeroDivisionError):
            return False
    return False


def _rat(v: Any) -> Fraction:
    if isinstance(v, str) and v.lstrip("+-").startswith("0x"):
        return Fraction(float.fromhex(v))
    return Fraction(v)


def _leaves(obj: Any, path: Path_ = ()) -> Iterator[Path_]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, (*path, i))
    else:
        yield path


def _lists(obj: Any, path: Path_ = ()) -> Iterator[Path_]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _lists(v, (*path, k))
    elif isinstance(obj, list):
        if obj:
            yield path
        for i, v in enumerate(obj):
            yield from _lists(v, (*path, i))


def _spread(items: list, k: int) -> list:
    """At most ``k`` items, evenly spread (first and last included): deterministic sampling."""
    if len(items) <= k:
        return items
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)]


Mutation = tuple[str, Path_, Callable[[dict], None]]


def mutations(cert: dict, *, per_claim: int = 3) -> Iterator[Mutation]:
    """``(class, path, mutate)`` for every mutation class on ``cert`` (see the module docstring)."""

    def setter(path: Path_, value: Any) -> Callable[[dict], None]:
        return lambda c: _set(c, path, value)

    def perturb(path: Path_) -> Callable[[dict], None]:
        def run(c: dict) -> None:
            v = _rat(_get(c, path))
            _set(c, path, str(v + Fraction(1, 2**40)) if isinstance(_get(c, path), str) else int(v) + 1)
        return run

    # certificate level
    yield "fingerprint", ("model", "fingerprint"), setter(("model", "fingerprint"),
                                                          ("0" if cert["model"]["fingerprint"][0] != "0" else "1")
                                                          + cert["model"]["fingerprint"][1:])
    yield "fingerprint", ("model", "widths"), lambda c: c["model"]["widths"].__setitem__(-1, c["model"]["widths"][-1] + 1)
    acts = cert["model"].get("activations", [])
    for j, a in enumerate(acts):
        yield "activation bit", ("model", "activations", j), setter(("model", "activations", j),
                                                                   "identity" if a != "identity" else "relu")
    for j, sup in enumerate(cert["signal"]["supports"]):
        def toggle(c: dict, j: int = j) -> None:
            s = c["signal"]["supports"][j]
            unit = next(i for i in range(10**6) if i not in s) if not s or len(s) % 2 else s[0]
            c["signal"]["supports"][j] = sorted(set(s) ^ {unit})
        yield "activation bit", ("signal", "supports", j), toggle
    for key in ("latent", "output", "output_pre_activation"):
        if key in cert["signal"]:
            yield "perturb rational", ("signal", key, 0), perturb(("signal", key, 0))
    if "output_float" in cert["signal"]:
        yield "descriptive field", ("signal", "output_float", 0), lambda c: _set(
            c, ("signal", "output_float", 0), float.hex(float.fromhex(c["signal"]["output_float"][0]) + 1e-6))
    for key in ("noise", "latent_box", "delta"):
        if key in cert.get("parameters", {}):
            yield "parameter", ("parameters", key), lambda c, key=key: _set(
                c, ("parameters", key), str(2 * _rat(c["parameters"][key])))
    if cert.get("parameters", {}).get("kinds"):
        yield "descriptive field", ("parameters", "kinds"), lambda c: c["parameters"]["kinds"].pop()
    for path, value in ((("model", "dtype"), "float16"), (("model", "name"), "renamed"),
                        (("model", "source"), "other.npz"), (("signal", "origin"), {"how": "edited"}),
                        (("parameters", "time_limit"), 1), (("generator",), {"program": "other"})):
        if path[0] in cert and (len(path) == 1 or path[1] in cert[path[0]]):
            yield "descriptive field", path, setter(path, value)

    # claim level
    for i, claim in enumerate(cert["claims"]):
        base: Path_ = ("claims", i)
        for status in ("CERTIFIED", "REFUTED", "UNKNOWN"):
            if status != claim["status"]:
                yield "status flip", (*base, "status"), setter((*base, "status"), status)
        yield "descriptive field", (*base, "evidence_kind"), setter(
            (*base, "evidence_kind"), "solver" if claim.get("evidence_kind", "exact") == "exact" else "exact")
        for key, value in (("statement", "edited"), ("hypotheses", []), ("reason", "edited"), ("method", "edited")):
            if key in claim:
                yield "descriptive field", (*base, key), setter((*base, key), value)
        if "variant" in claim:
            other = "per_signal" if claim["variant"] == "as_printed" else "as_printed"
            yield "descriptive field", (*base, "variant"), setter((*base, "variant"), other)
        if "layer" in claim:
            yield "descriptive field", (*base, "layer"), setter((*base, "layer"), claim["layer"] + 1)
        ev = claim.get("evidence", {})
        for key in ("noise", "sigma", "delta", "latent_box", "distance"):
            if _is_rational(ev.get(key)):
                yield "parameter", (*base, "evidence", key), lambda c, i=i, key=key: _set(
                    c, ("claims", i, "evidence", key), str(2 * _rat(c["claims"][i]["evidence"][key])))
        if "sigma" in ev:
            yield "descriptive field", (*base, "evidence", "sigma"), lambda c, i=i: _set(
                c, ("claims", i, "evidence", "sigma"), "-" + str(c["claims"][i]["evidence"]["sigma"]))
        for n, layer in enumerate(ev.get("layers", [])):
            if isinstance(layer, dict) and layer.get("constant") in ("exact", "lower_bound"):
                path = (*base, "evidence", "layers", n, "constant")
                yield "exactness flip", path, setter(path, "lower_bound" if layer["constant"] == "exact" else "exact")
        if "conditional_on" in ev:
            yield "descriptive field", (*base, "evidence", "conditional_on"), setter(
                (*base, "evidence", "conditional_on"), "nothing")
        rationals = [p for p in _leaves(ev, (*base, "evidence")) if _is_rational(_get(cert, p))
                     and p[3] != "solver" and not (len(p) > 4 and p[4] == "engine")]
        for p in _spread(rationals, per_claim):
            yield "perturb rational", p, perturb(p)
        lists = [p for p in _lists(ev, (*base, "evidence"))
                 if p[3] != "solver" and not (len(p) > 4 and p[4] == "engine")]
        for p in _spread(lists, per_claim):
            yield "drop witness row", p, lambda c, p=p: _get(c, p).pop(0)
            yield "duplicate witness row", p, lambda c, p=p: _get(c, p).append(copy.deepcopy(_get(c, p)[0]))
            if len(_get(cert, p)) > 1 and _get(cert, p)[0] != _get(cert, p)[1]:
                yield "reorder witness rows", p, lambda c, p=p: _get(c, p).insert(1, _get(c, p).pop(0))


def _informational(path: Path_) -> bool:
    names = {f.replace("claims[].", "claim.") for f in INFORMATIONAL}
    if path[0] == "claims":
        rest = ".".join(str(p) for p in path[2:])
        return any(rest == n[len("claim."):] or rest.startswith(n[len("claim."):] + ".")
                   for n in names if n.startswith("claim."))
    dotted = ".".join(str(p) for p in path)
    return any(dotted == n or dotted.startswith(n + ".") for n in names)


def _hint(path: Path_) -> bool:
    """Under a claim's evidence, outside its conclusion fields."""
    return (len(path) > 3 and path[0] == "claims" and path[2] == "evidence"
            and path[3] not in CONCLUSION and not (path[3] == "layers" and len(path) > 5 and path[5] in CONCLUSION))


def classify(base_cert: dict, before: Any, net: Any, mclass: str, path: Path_,
             mutate: Callable[[dict], None]) -> tuple[str, str]:
    """``(category, detail)`` of one mutant (``before``: the base's report); ``"HOLE"`` fails the test."""
    cert = copy.deepcopy(base_cert)
    mutate(cert)
    if cert == base_cert:
        return "no-op", ""
    after = check_certificate(cert, net)
    b_out, a_out = [c.outcome for c in before.claims], [c.outcome for c in after.claims]
    rejected = [c.reason for c in after.claims if c.outcome is Outcome.REJECTED]
    if rejected:
        if after.verified:
            return "HOLE", "a REJECTED finding inside a VERIFIED report"
        if any(r.startswith("malformed") for r in rejected):
            return "HOLE", f"rejected only by a catch-all: {rejected[0]}"
        return "rejected", rejected[0]
    on_claim = path[0] == "claims"
    if on_claim and path[-1] == "variant" and a_out == b_out:
        if base_cert["claims"][path[1]]["status"] == "REFUTED":
            return "meaning-preserving", "both variants state one conclusion, which the witness refutes"
        if set(after.carried) < set(before.carried):
            return "withdrawn", "as_printed -> per_signal: the carried printed hypotheses are no longer claimed"
    if on_claim and base_cert["claims"][path[1]]["status"] == cert["claims"][path[1]]["status"] == "UNKNOWN" \
            and a_out == b_out:
        return "meaning-preserving", "a field of an UNKNOWN claim (it asserts nothing)"
    if a_out == b_out and after.carried == before.carried:
        if path[0] == "parameters" and not any(path[1] in c.get("evidence", {}) or path[1] == "noise" and "sigma" in
                                               c.get("evidence", {}) for c in base_cert["claims"]):
            return "meaning-preserving", "a header parameter that no claim of this certificate uses"
        if _informational(path):
            return "meaning-preserving", "informational field"
        if _hint(path):
            return "meaning-preserving", "proof hint: the same conclusion re-derived"
        return "HOLE", f"accepted edit of {path}"
    if mclass == "status flip" and _get(cert, path) == "UNKNOWN":
        i = path[1]
        if a_out[i] is Outcome.NO_CLAIM and all(a == b for k, (a, b) in enumerate(zip(a_out, b_out)) if k != i):
            return "withdrawn", "now UNKNOWN: asserts less, reported NO_CLAIM"
    if on_claim:
        i = path[1]
        label = f"claims[{i}] {cert['claims'][i]['kind']}"
        others_same = all(a == b for k, (a, b) in enumerate(zip(a_out, b_out)) if k != i)
        newly = [c for c in after.carried if c.startswith(label) and c not in before.carried]
        if others_same and newly and a_out[i] in (Outcome.VERIFIED, Outcome.NOT_CHECKABLE):
            return "carried", f"listed as carried in the report: {newly[0]}"
    return "HOLE", f"outcomes changed without a rejection: {b_out} -> {a_out}"


def run_campaign(bases: list[tuple[str, dict, Any]], *, per_claim: int = 3) -> tuple[Counter, Counter, list]:
    """Counts per category and per (class, category); the holes, if any."""
    totals, by_class, holes = Counter(), Counter(), []
    for name, cert, net in bases:
        before = check_certificate(cert, net)
        assert before.verified, name
        for mclass, path, mutate in mutations(cert, per_claim=per_claim):
            cat, detail = classify(cert, before, net, mclass, path, mutate)
            if cat == "no-op":
                continue
            totals[cat] += 1
            by_class[mclass, cat] += 1
            if cat == "HOLE":
                holes.append((name, mclass, path, detail))
    return totals, by_class, holes


def zoo_bases(names: tuple[str, ...]) -> list[tuple[str, dict, Any]]:
    """The committed zoo certificates (written by ``theorychk certify zoo:NAME ...``) and their nets."""
    out = []
    for name in names:
        net = load_network(f"zoo:{name}")
        for path in sorted((ROOT / "certificates" / "zoo" / name).glob("signal-*.json")):
            out.append((f"{name}/{path.stem}", json.loads(path.read_text()), net))
    return out


def synthetic_bases() -> list[tuple[str, dict, Any]]:
    from tests.check.test_check import NETS, NOISE

    from theorychk.certify.certificate import build_certificate

    return [(name, json.loads(json.dumps(build_certificate(net, z, source="test", noise=NOISE.get(name, Fraction(1, 1000))))),
             net) for name, (net, z) in NETS.items()]


def _report(totals: Counter, by_class: Counter) -> str:
    lines = [f"mutants tried: {sum(totals.values())}; " + ", ".join(f"{k}: {v}" for k, v in sorted(totals.items()))]
    for (mclass, cat), n in sorted(by_class.items()):
        lines.append(f"  {mclass:24s} {cat:20s} {n}")
    return "\n".join(lines)


def _one_claim(name: str, cert: dict, net: Any, kind: str) -> tuple[str, dict, Any]:
    out = copy.deepcopy(cert)
    out["claims"] = [c for c in cert["claims"] if c["kind"] == kind]
    out["parameters"]["kinds"] = [kind]
    return f"{name}[{kind}]", out, net


def dual_bound_base() -> tuple[str, dict, Any]:
    """``lei_linf`` on the ``wide`` net with its constant as a certified dual lower bound (the form the
    certifier uses on wide layers; the small nets otherwise get the exact constant)."""
    from theorychk.certify import stability
    from theorychk.certify.certificate import build_certificate
    from tests.check.test_check import NETS

    net, z = NETS["wide"]
    mp = pytest.MonkeyPatch()
    mp.setattr(stability, "EXACT_CINF_LIMIT", 0)
    try:
        cert = json.loads(json.dumps(build_certificate(net, z, source="test", kinds=("lei_linf",),
                                                       noise=Fraction(1, 1000))))
    finally:
        mp.undo()
    return "wide-dual-bound[lei_linf]", cert, net


def default_bases() -> list[tuple[str, dict, Any]]:
    """Every claim kind and evidence form the certifier emits, in about ten seconds: the small nets
    (``inj`` only for the Oracle claim: its l_1 kernel-ray check makes each mutant slow), the
    dual-lower-bound form of ``lei_linf``, one certificate of the zoo net vae-leaky (with the
    global-injectivity claims)."""
    synth = {name: (cert, net) for name, cert, net in synthetic_bases()}
    bases = [(n, c, net) for n, (c, net) in synth.items() if n != "inj"]
    return bases + [_one_claim("inj", *synth["inj"], "aberdam_oracle"), dual_bound_base()] + \
        zoo_bases(("vae-leaky",))[:1]


def test_mutation_campaign(capsys):
    bases = default_bases()
    totals, by_class, holes = run_campaign(bases, per_claim=2)
    with capsys.disabled():
        print("\n" + _report(totals, by_class))
    assert not holes, holes
    assert totals["rejected"] > 0 and set(totals) <= {"rejected", "meaning-preserving", "withdrawn", "carried"}
    kinds = {c["kind"] for _, cert, _ in bases for c in cert["claims"] if c["status"] != "UNKNOWN"}
    assert kinds == {"aberdam_thm1", "polytope", "complete", "lei_thm2", "milp_global", "lei_linf", "lei_l1", "aberdam_thm2",
                     "aberdam_oracle", "layer_injective", "network_injective"}
    classes = {mclass for mclass, _ in by_class}
    assert classes == {"status flip", "perturb rational", "drop witness row", "duplicate witness row",
                       "reorder witness rows", "activation bit", "fingerprint", "parameter", "descriptive field",
                       "exactness flip"}


@pytest.mark.slow
def test_mutation_campaign_all_zoo_certificates(capsys):
    """Every committed zoo certificate and every small net, twice as many sampled leaves per claim."""
    totals, by_class, holes = run_campaign(synthetic_bases() + zoo_bases(("vae-relu", "vae-leaky", "aberdam")),
                                           per_claim=6)
    with capsys.disabled():
        print("\n" + _report(totals, by_class))
    assert not holes, holes


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    every = len(sys.argv) > 1 and sys.argv[1] == "all"
    bases = synthetic_bases() + zoo_bases(("vae-relu", "vae-leaky", "aberdam")) if every else default_bases()
    t, c, h = run_campaign(bases, per_claim=6 if every else 3)
    print(_report(t, c))
    for hole in h:
        print("HOLE", hole[:3], str(hole[3])[:200])
