"""The ``complete`` verifier: a tree certificate replays, and every mutation of it is REJECTED with
its pinned message (a leaf's multiplier, a dropped leaf, a swapped branch, a wrong prime, a dropped
pinned layer, ...)."""

from __future__ import annotations

import copy
import re
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from theorychk.certify.certificate import build_certificate
from theorychk.check.core import check_certificate
from theorychk.network import Layer, Network


def _net() -> tuple[Network, list[Fraction]]:
    """2 -> 4 -> 3 -> 3 (ReLU, ReLU, identity): the top layer is pinned by rank, layer 1's preimage
    polytope is not a point, and the tree below it has Farkas leaves and a point leaf."""
    rng = np.random.default_rng(0)
    widths, layers = [2, 4, 3, 3], []
    for i in range(3):
        w = rng.integers(-4, 5, size=(widths[i + 1], widths[i])) / 4
        b = rng.integers(-4, 5, size=widths[i + 1]) / 4
        layers.append(Layer(w, b, "relu" if i < 2 else "identity"))
    z = [Fraction(int(v), 4) for v in rng.integers(-4, 5, size=2)]
    return Network(tuple(layers)), z


@pytest.fixture(scope="module")
def case() -> tuple[Network, dict[str, Any]]:
    net, z = _net()
    cert = build_certificate(net, z, source="test", kinds=("polytope", "complete"))
    return net, cert


def _claim(cert: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in cert["claims"] if c["kind"] == "complete")


def _walk(tree: dict[str, Any], want: str) -> dict[str, Any]:
    """The first leaf of kind ``want`` (depth first), or a branch for ``want == "unit"``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if want in node:
            return node
        if "children" in node:
            stack.extend(node["children"].values())
    raise AssertionError(f"no {want} node")


def test_the_fixture_exercises_every_part(case):
    net, cert = case
    poly, claim = cert["claims"]
    assert poly["status"] == "UNKNOWN" and claim["status"] == "CERTIFIED"
    ev = claim["evidence"]
    assert ev["top"] == 1 and [p["layer"] for p in ev["pinned"]] == [2]
    assert ev["size"]["farkas"] >= 1 and ev["size"]["point"] == 1 and ev["size"]["branches"] >= 1
    report = check_certificate(cert, net)
    assert report.verified and report.claims[1].reason.startswith("branching tree replayed below layer 1")


def _perturb_farkas(c):
    leaf = _walk(c["evidence"]["tree"], "farkas")["farkas"]
    key = next(iter(leaf))
    leaf[key] = "1/3" if leaf[key] != "1/3" else "1/5"


def _negative_farkas(c):
    """All multipliers negated: the rows still combine to zero, but inequalities get negative weights."""
    leaf = _walk(c["evidence"]["tree"], "farkas")["farkas"]
    for key, v in leaf.items():
        leaf[key] = v[1:] if v.startswith("-") else "-" + v


def _drop_leaf(c):
    node = _walk(c["evidence"]["tree"], "unit")
    node["children"].pop(next(iter(node["children"])))


def _swap_branch(c):
    node = _walk(c["evidence"]["tree"], "unit")
    ch = node["children"]
    node["children"] = {"on": ch["off"], "off": ch["on"]}


def _composite_prime(c):
    leaf = _walk(c["evidence"]["tree"], "point")["point"]
    leaf["prime"] = leaf["prime"] + 1


def _prime_two(c):
    leaf = _walk(c["evidence"]["tree"], "point")["point"]
    leaf["prime"] = 2


def _drop_point_row(c):
    leaf = _walk(c["evidence"]["tree"], "point")["point"]
    leaf["rows"] = leaf["rows"][:-1]


def _untight_row(c):
    leaf = _walk(c["evidence"]["tree"], "point")["point"]
    tight = set(leaf["rows"])
    leaf["rows"] = leaf["rows"][:-1] + [next(f"t{r}" for r in range(3) if f"t{r}" not in tight)]


def _drop_pinned(c):
    c["evidence"]["pinned"] = []


def _size(c):
    c["evidence"]["size"]["farkas"] += 1


def _bad_key(c):
    leaf = _walk(c["evidence"]["tree"], "farkas")["farkas"]
    leaf["x9"] = "1"


def _branch_twice(c):
    node = _walk(c["evidence"]["tree"], "unit")
    inner = copy.deepcopy(node)
    node["children"]["on"] = inner


def _foreign_unit(c):
    _walk(c["evidence"]["tree"], "unit")["unit"] = [1, 0]


def _point_on_farkas_leaf(c):
    node = _walk(c["evidence"]["tree"], "farkas")
    node["point"] = {"rows": [], "prime": 3, "zero": {}}
    del node["farkas"]


def _tree_when_top_is_wrong(c):
    c["evidence"]["top"] = -1


MUTATIONS = {
    "perturbed Farkas multiplier": (_perturb_farkas, r"Farkas combination of the rows is not zero"),
    "negative Farkas multiplier": (_negative_farkas, r"negative multiplier -\S+ on inequality"),
    "dropped leaf": (_drop_leaf, r"needs exactly one child per region"),
    "swapped branch": (_swap_branch, r"off\.on\.off\.farkas: the Farkas combination of the rows is not zero"),
    "composite prime": (_composite_prime, r"is not a prime below 2\^63"),
    "prime 2": (_prime_two, r"rank \d+ modulo 2, not"),
    "dropped point row": (_drop_point_row, r"rank 5 modulo \d+, not 6"),
    "row not tight at v*": (_untight_row, r"is not tight at v\*"),
    "dropped pinned layer": (_drop_pinned, r"pinned layers must be exactly 2\.\.2"),
    "size": (_size, r"does not match the tree"),
    "bad row key": (_bad_key, r"bad row key 'x9'"),
    "unit branched twice": (_branch_twice, r"is not an open branchable unit"),
    "unit of the top layer": (_foreign_unit, r"is not an open branchable unit"),
    "point leaf replacing a Farkas leaf": (_point_on_farkas_leaf, r"rank 0 modulo 3, not 6"),
    "top changed": (_tree_when_top_is_wrong, r"pinned layers must be exactly 0\.\.2; got \[2\]"),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutated_tree_certificate_is_rejected(case, name):
    net, cert = case
    mutate, message = MUTATIONS[name]
    bad = copy.deepcopy(cert)
    mutate(_claim(bad))
    report = check_certificate(bad, net)
    assert not report.verified
    found = report.claims[1]
    assert found.outcome == "REJECTED"
    assert not found.reason.startswith("malformed"), found.reason
    assert re.search(message, found.reason), found.reason


@pytest.fixture(scope="module")
def float_case() -> tuple[Network, dict[str, Any]]:
    """3 -> 8 -> 7 ReLU, Gaussian float32 weights: the exact multipliers run to hundreds of digits, so
    Farkas leaves name their support and the point leaf its ``ones`` / ``solve`` rows."""
    rng = np.random.default_rng(3)
    widths = [3, 8, 7]
    layers = [Layer(rng.standard_normal((widths[i + 1], widths[i])).astype(np.float32),
                    (0.1 * rng.standard_normal(widths[i + 1])).astype(np.float32), "relu") for i in range(2)]
    net = Network(tuple(layers))
    z = [Fraction(float(v)) for v in rng.standard_normal(3).astype(np.float32)]
    return net, build_certificate(net, z, source="test", kinds=("complete",))


def _support_leaf(c):
    return next(n for n in _nodes(c["evidence"]["tree"]) if isinstance(n.get("farkas"), list))["farkas"]


def _nodes(tree):
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.get("children", {}).values())


def _drop_support_row(c):
    leaf = _support_leaf(c)
    leaf.remove(next(k for k in leaf if k.startswith("t")))


def _swap_ones_and_solve(c):
    zero = next(n for n in _nodes(c["evidence"]["tree"]) if "point" in n)["point"]["zero"]
    zero["ones"], zero["solve"] = zero["solve"], zero["ones"]


FLOAT_MUTATIONS = {
    "support row dropped": (_drop_support_row, r"farkas: no exact Farkas multipliers on the support rows$"),
    "ones and solve swapped": (_swap_ones_and_solve, r"point\.zero: no exact multipliers on the 'solve' rows$"),
}


def test_float_fixture_uses_the_support_forms(float_case):
    net, cert = float_case
    claim = cert["claims"][0]
    assert claim["status"] == "CERTIFIED" and check_certificate(cert, net).verified
    leaves = [n for n in _nodes(claim["evidence"]["tree"]) if "children" not in n]
    assert any(isinstance(n.get("farkas"), list) for n in leaves)
    assert any(set(n["point"]["zero"]) == {"ones", "solve"} for n in leaves if "point" in n)


@pytest.mark.parametrize("name", sorted(FLOAT_MUTATIONS))
def test_mutated_support_leaf_is_rejected(float_case, name):
    net, cert = float_case
    mutate, message = FLOAT_MUTATIONS[name]
    bad = copy.deepcopy(cert)
    mutate(bad["claims"][0])
    found = check_certificate(bad, net).claims[0]
    assert found.outcome == "REJECTED" and re.search(message, found.reason), found.reason


def test_refuted_complete_needs_an_exact_witness():
    net = Network([Layer(np.array([[1.0], [-1.0]]), None, "relu"), Layer(np.array([[1.0, 1.0]]), None, "identity")])
    cert = build_certificate(net, [Fraction(1, 2)], source="test", kinds=("complete",))
    claim = cert["claims"][0]
    assert claim["status"] == "REFUTED" and claim["evidence"]["second_latent"] == ["-1/2"]
    assert check_certificate(cert, net).verified
    claim["evidence"]["second_latent"] = ["-1/3"]
    assert "does not reproduce the signal" in check_certificate(cert, net).claims[0].reason
    claim["evidence"]["second_latent"] = ["-1/2"]
    claim["evidence"]["distance"] = "2"
    assert "distance does not equal" in check_certificate(cert, net).claims[0].reason
