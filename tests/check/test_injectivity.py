"""The trusted injectivity verifiers: every rejection path, each by mutating a valid claim."""

from __future__ import annotations

import ast
import copy
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

import theorychk.check.injectivity as chk
from theorychk import exact
from theorychk.certify.injectivity import layer_injectivity, network_injectivity
from theorychk.check import VERIFIERS
from theorychk.errors import TimeLimitReached
from theorychk.network import Layer, Network
from theorychk.testing.strategies import matrices
from theorychk.verdict import Status

B = np.array([[2.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 3.0]])
#: Injective: three pairs w, -w with biases summing to >= 0, plus a row parallel to one of them.
LAYER = Layer(np.vstack([B, -B, [[1.0, 1.0, 1.0]]]), np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0, -2.0]), "relu")
NET = Network([LAYER])
#: The same weights with one bias flipped: not injective (rows 0 and 3 can both be negative).
BAD = Layer(LAYER.weight, np.array([-1.0, 1.0, 1.0, 0.0, 0.0, 0.0, -2.0]), "relu")
NONINJ = Layer(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), np.array([0.0, 0.0, 1.0]), "relu")


def _claim(layer: Layer, **kw: Any) -> dict[str, Any]:
    res = layer_injectivity(layer, seed=0, **kw)
    return json.loads(json.dumps(res.claims[0]))


@pytest.fixture(scope="module")
def certified() -> dict[str, Any]:
    c = _claim(LAYER)
    assert c["status"] == "CERTIFIED" and len(c["evidence"]["farkas"]) == 3
    return c


@pytest.fixture(scope="module")
def refuted() -> dict[str, Any]:
    c = _claim(NONINJ)
    assert c["status"] == "REFUTED"
    return c


def run(claim: Any, net: Any = NET) -> Any:
    kind = claim.get("kind", "layer_injective") if isinstance(claim, dict) else "layer_injective"
    return VERIFIERS[kind](claim, net, {})


def test_valid_claims_verify(certified: dict[str, Any], refuted: dict[str, Any]) -> None:
    out = run(certified)
    assert out.outcome == "VERIFIED" and out.details["hyperplanes"] == 3
    assert run(refuted, Network([NONINJ])).outcome == "VERIFIED"


# --------------------------------------------------------------------------------------------
# Mutations of the CERTIFIED claim
# --------------------------------------------------------------------------------------------


def _drop_hyperplane(c: dict) -> None:
    c["evidence"]["hyperplanes"].pop(1)


def _drop_farkas(c: dict) -> None:
    # A sloppy engine drops certificate 0 and the hyperplanes it covered, and renumbers.
    ev = c["evidence"]
    ev["farkas"].pop(0)
    ev["hyperplanes"] = [[h, k - 1] for h, k in ev["hyperplanes"] if k != 0]


def _negative_multiplier(c: dict) -> None:
    c["evidence"]["farkas"][0]["multipliers"][0] = "-1"


def _perturb_rational(c: dict) -> None:
    c["evidence"]["farkas"][0]["multipliers"][1] = "1000001/1000000"


def _support_in_hyperplane(c: dict) -> None:
    ev = c["evidence"]
    basis, k = ev["hyperplanes"][0]
    rows_in = set(basis)
    other = next(i for i, f in enumerate(ev["farkas"]) if rows_in & set(f["rows"]))
    ev["hyperplanes"][0] = [basis, other]


def _extra_hyperplane(c: dict) -> None:
    basis, k = c["evidence"]["hyperplanes"][0]
    c["evidence"]["hyperplanes"].append([list(reversed(basis)), k])


def _duplicate_hyperplane(c: dict) -> None:
    c["evidence"]["hyperplanes"].append(list(c["evidence"]["hyperplanes"][0]))


def _wrong_rank(c: dict) -> None:
    c["evidence"]["rank"] = 2


def _float_multiplier(c: dict) -> None:
    c["evidence"]["farkas"][0]["multipliers"][0] = 1.0


def _repeated_row(c: dict) -> None:
    f = c["evidence"]["farkas"][0]
    f["rows"] = [f["rows"][0], f["rows"][0]]


def _row_out_of_range(c: dict) -> None:
    c["evidence"]["farkas"][0]["rows"][0] = 99


def _short_multipliers(c: dict) -> None:
    c["evidence"]["farkas"][0]["multipliers"].pop()


def _empty_rows(c: dict) -> None:
    c["evidence"]["farkas"][0] = {"rows": [], "multipliers": []}


def _farkas_not_object(c: dict) -> None:
    c["evidence"]["farkas"][0] = [1, 2]


def _farkas_not_list(c: dict) -> None:
    c["evidence"]["farkas"] = {"0": 1}


def _hyperplanes_not_list(c: dict) -> None:
    c["evidence"]["hyperplanes"] = None


def _hyperplane_malformed(c: dict) -> None:
    c["evidence"]["hyperplanes"][0] = [0, 1, 2]


def _certificate_index_out_of_range(c: dict) -> None:
    c["evidence"]["hyperplanes"][0][1] = 7


def _box_multipliers_without_box(c: dict) -> None:
    c["evidence"]["farkas"][0]["box_upper"] = ["0", "0", "0"]


def _bad_status(c: dict) -> None:
    c["status"] = "PROBABLY"


def _bad_evidence_kind(c: dict) -> None:
    c["evidence_kind"] = "vibes"


def _evidence_not_object(c: dict) -> None:
    c["evidence"] = "trust me"


def _layer_out_of_range(c: dict) -> None:
    c["layer"] = 3


def _bad_domain(c: dict) -> None:
    c["domain"] = {"disk": 1}


def _domain_without_box(c: dict) -> None:
    c["domain"] = {"box": {"lower": ["-1", "-1", "-1"], "upper": ["1", "1", "1"]}}


def _basis_row_out_of_range(c: dict) -> None:
    c["evidence"]["hyperplanes"][0][0] = [0, 42]


def _zero_denominator(c: dict) -> None:
    c["evidence"]["farkas"][0]["multipliers"][0] = "1/0"


def _box_not_object(c: dict) -> None:
    c["domain"] = {"box": [0, 1]}


def _ball_not_object(c: dict) -> None:
    c["domain"] = {"ball": 1}


MUTATIONS: list[tuple[Callable[[dict], None], str]] = [
    (_basis_row_out_of_range, r"hyperplane basis row must be an index in \[0, 7\); got 42"),
    (_zero_denominator, r"zero denominator in '1/0'"),
    (_box_not_object, r"domain box must have 'lower' and 'upper'"),
    (_ball_not_object, r"domain ball must have 'center' and 'radius'"),
    (_drop_hyperplane, r"coverage: hyperplane spanned by rows \[\d, \d\] has no Farkas certificate"),
    (_drop_farkas, r"coverage: hyperplane spanned by rows \[\d, \d\] has no Farkas certificate"),
    (_negative_multiplier, r"farkas certificate 0: multiplier of row \d is not positive \(-1\)"),
    (_perturb_rational, r"farkas certificate 0: sum of multipliers times rows is not zero"),
    (_support_in_hyperplane, r"farkas certificate \d uses row \d, which lies in the hyperplane"),
    (_extra_hyperplane, r"is listed twice|is not a candidate hyperplane"),
    (_duplicate_hyperplane, r"hyperplane \[\d, \d\] is listed twice"),
    (_wrong_rank, r"claimed rank 2 but W has rank 3"),
    (_float_multiplier, r"expected an exact rational like '3/4' \(or float hex\), got 1.0"),
    (_repeated_row, r"farkas certificate 0: repeated row index"),
    (_row_out_of_range, r"farkas certificate 0 row must be an index in \[0, 7\); got 99"),
    (_short_multipliers, r"farkas certificate 0 multipliers: expected 2 entries, got 1"),
    (_empty_rows, r"farkas certificate 0: 'rows' must be a nonempty list"),
    (_farkas_not_object, r"farkas certificate 0 must be an object"),
    (_farkas_not_list, r"'farkas' must be a list of certificates"),
    (_hyperplanes_not_list, r"'hyperplanes' must be a list"),
    (_hyperplane_malformed, r"hyperplane entry must be \[basis rows, certificate index\]"),
    (_certificate_index_out_of_range,
     r"certificate index of hyperplane \[\d, \d\] must be an index in \[0, 3\)"),
    (_box_multipliers_without_box, r"box multipliers but the domain is not a box"),
    (_bad_status, r"status must be CERTIFIED, REFUTED or UNKNOWN; got 'PROBABLY'"),
    (_bad_evidence_kind, r"evidence_kind must be 'exact' or 'solver'; got 'vibes'"),
    (_evidence_not_object, r"claim 'evidence' must be an object"),
    (_layer_out_of_range, r"claim 'layer' must be an index in \[0, 1\); got 3"),
    (_bad_domain, r"domain must be null"),
    (_domain_without_box, r"a domain claim needs the certified 'box'"),
]


@pytest.mark.parametrize("mutate, message", MUTATIONS, ids=[m.__name__.strip("_") for m, _ in MUTATIONS])
def test_mutated_certified_claim_is_rejected(certified: dict[str, Any], mutate: Callable,
                                             message: str) -> None:
    c = copy.deepcopy(certified)
    mutate(c)
    out = run(c)
    assert out.outcome == "REJECTED"
    assert __import__("re").search(message, out.reason), out.reason


def test_claim_injective_on_a_refutable_layer_is_rejected(certified: dict[str, Any]) -> None:
    assert layer_injectivity(BAD, seed=0).status is Status.REFUTED
    out = run(copy.deepcopy(certified), Network([BAD]))
    assert out.outcome == "REJECTED"
    assert out.reason == "farkas certificate 1: sum of multipliers times biases is negative (-1)"


def test_claim_injective_on_a_rank_deficient_layer_is_rejected(certified: dict[str, Any]) -> None:
    low = Layer(np.array([[1.0, 1.0], [2.0, 2.0], [-1.0, -1.0]]), None, "relu")
    c = {"kind": "layer_injective", "status": "CERTIFIED", "layer": 0, "evidence": {"rank": 1}}
    out = run(c, Network([low]))
    assert out.outcome == "REJECTED" and out.reason == "layer 0: rank of W is 1, not 2: not injective"


def test_not_a_claim_or_no_network(certified: dict[str, Any]) -> None:
    out = VERIFIERS["layer_injective"]("claim", NET, {})
    assert out.outcome == "REJECTED" and out.reason == "claim must be an object; got str"
    out = VERIFIERS["layer_injective"](copy.deepcopy(certified), None, {})
    assert out.outcome == "REJECTED" and out.reason == "no network to check the claim against"


def test_solver_and_unknown_claims(certified: dict[str, Any]) -> None:
    c = copy.deepcopy(certified)
    c["evidence_kind"] = "solver"
    c["method"] = "half-space depth (MILP) + sub-rank"
    assert run(c).outcome == "NOT_CHECKABLE"
    c = {"kind": "layer_injective", "status": "UNKNOWN", "layer": 0, "reason": "time limit"}
    out = run(c)
    assert out.outcome == "NO_CLAIM" and out.reason == "time limit"


# --------------------------------------------------------------------------------------------
# Mutations of the REFUTED claim (witness pairs)
# --------------------------------------------------------------------------------------------


def _unequal_outputs(c: dict) -> None:
    w = c["evidence"]["witness"]
    w["x_prime"] = ["5", "7"]


def _equal_points(c: dict) -> None:
    w = c["evidence"]["witness"]
    w["x_prime"] = list(w["x"])


def _short_point(c: dict) -> None:
    c["evidence"]["witness"]["x"] = ["1"]


def _no_witness(c: dict) -> None:
    c["evidence"] = {}


def _outside_domain(c: dict) -> None:
    c["domain"] = {"box": {"lower": ["100", "100"], "upper": ["101", "101"]}}


WITNESS_MUTATIONS = [
    (_unequal_outputs, r"witness pair: outputs differ at unit \d"),
    (_equal_points, r"witness pair: x and x_prime are equal"),
    (_short_point, r"witness x: expected 2 entries, got 1"),
    (_no_witness, r"witness must be an object with 'x' and 'x_prime'"),
    (_outside_domain, r"witness pair: a point lies outside the domain"),
]


@pytest.mark.parametrize("mutate, message", WITNESS_MUTATIONS,
                         ids=[m.__name__.strip("_") for m, _ in WITNESS_MUTATIONS])
def test_mutated_witness_is_rejected(refuted: dict[str, Any], mutate: Callable, message: str) -> None:
    c = copy.deepcopy(refuted)
    mutate(c)
    out = run(c, Network([NONINJ]))
    assert out.outcome == "REJECTED"
    assert __import__("re").search(message, out.reason), out.reason


def test_smooth_activation_witness_needs_equal_pre_activations() -> None:
    layer = Layer(np.array([[1.0, 2.0], [2.0, 4.0]]), None, "tanh")
    c = _claim(layer)
    assert c["status"] == "REFUTED" and run(c, Network([layer])).outcome == "VERIFIED"
    c["evidence"]["witness"]["x_prime"] = ["1", "0"]
    out = run(c, Network([layer]))
    assert out.outcome == "REJECTED"
    assert out.reason == ("witness pair: layer 0 (tanh) cannot be evaluated exactly and its "
                          "pre-activations differ")


# --------------------------------------------------------------------------------------------
# Domains
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def box_claim() -> dict[str, Any]:
    c = _claim(NONINJ, domain={"box": {"lower": ["1/10", "1/10"], "upper": [2, 2]}})
    assert c["status"] == "CERTIFIED" and "box" in c["evidence"]
    return c


def test_box_claim_verifies(box_claim: dict[str, Any]) -> None:
    assert run(box_claim, Network([NONINJ])).outcome == "VERIFIED"


def _box_too_small(c: dict) -> None:
    c["domain"]["box"]["upper"] = ["3", "3"]


def _negative_box_multiplier(c: dict) -> None:
    f = next(f for f in c["evidence"]["farkas"] if "box_upper" in f)
    f["box_upper"][0] = "-1"


def _box_bounds_swapped(c: dict) -> None:
    box = c["domain"]["box"]
    box["lower"], box["upper"] = box["upper"], box["lower"]


def _ball_outside_box(c: dict) -> None:
    c["domain"] = {"ball": {"center": ["1", "1"], "radius": "2"}}


def _ball_negative_radius(c: dict) -> None:
    c["domain"] = {"ball": {"center": ["1", "1"], "radius": "-1"}}


BOX_MUTATIONS = [
    (_box_too_small, r"layer 0: the certified box does not contain the claimed domain"),
    (_negative_box_multiplier, r"farkas certificate \d: a box multiplier is negative"),
    (_box_bounds_swapped, r"domain box must have lower < upper in every coordinate"),
    (_ball_outside_box, r"the certified box does not contain the claimed domain"),
    (_ball_negative_radius, r"domain ball radius must be positive"),
]


@pytest.mark.parametrize("mutate, message", BOX_MUTATIONS,
                         ids=[m.__name__.strip("_") for m, _ in BOX_MUTATIONS])
def test_mutated_box_claim_is_rejected(box_claim: dict[str, Any], mutate: Callable, message: str) -> None:
    c = copy.deepcopy(box_claim)
    mutate(c)
    out = run(c, Network([NONINJ]))
    assert out.outcome == "REJECTED"
    assert __import__("re").search(message, out.reason), out.reason


def test_ball_inside_certified_box_verifies(box_claim: dict[str, Any]) -> None:
    c = copy.deepcopy(box_claim)
    c["domain"] = {"ball": {"center": ["1", "1"], "radius": "1/2"}}
    assert run(c, Network([NONINJ])).outcome == "VERIFIED"


# --------------------------------------------------------------------------------------------
# Network claims
# --------------------------------------------------------------------------------------------

B2 = np.array([[1.0, 2.0], [0.0, 1.0]])
GOOD_NET = Network([Layer(np.vstack([B2, -B2]), None, "relu"), Layer(2 * np.eye(4), None, "leaky_relu:0.1")])
BAD_NET = Network([Layer(B2, np.array([0.5, -1.0]), "leaky_relu:0.25"),
                   Layer(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), None, "relu")])


def _net_claim(net: Network) -> dict[str, Any]:
    res = network_injectivity(net, seed=0)
    return json.loads(json.dumps(res.claims[-1]))


def test_network_claims_verify() -> None:
    assert run(_net_claim(GOOD_NET), GOOD_NET).outcome == "VERIFIED"
    assert run(_net_claim(BAD_NET), BAD_NET).outcome == "VERIFIED"


def test_network_claim_rejections() -> None:
    c = _net_claim(GOOD_NET)
    c["evidence"]["layers"].pop()
    out = run(c, GOOD_NET)
    assert out.outcome == "REJECTED" and out.reason == "evidence 'layers' must hold one proof per layer (2)"
    c = _net_claim(GOOD_NET)
    c["evidence"]["layers"][1] = "ok"
    assert run(c, GOOD_NET).reason == "evidence for layer 1 must be an object"
    c = _net_claim(GOOD_NET)
    c["evidence"]["layers"][0]["hyperplanes"].pop()
    assert run(c, GOOD_NET).reason.startswith("coverage: hyperplane spanned by rows")
    # A certified network claim on a network whose later layer is not injective.
    c = _net_claim(GOOD_NET)
    low_rank = np.array([[1.0, 1, 0, 0], [2, 2, 0, 0], [0, 0, 1, 1], [0, 0, 1, 2]])
    other = Network([GOOD_NET.layers[0], Layer(low_rank, None, "leaky_relu:0.1")])
    assert run(c, other).reason == "layer 1: claimed rank 4 but W has rank 3"
    c = _net_claim(BAD_NET)
    c["evidence"]["witness"]["z_prime"] = ["3", "3"]
    assert run(c, BAD_NET).reason == "witness pair: outputs differ at unit 0"
    c = _net_claim(BAD_NET)
    c["evidence"]["witness"]["z_prime"] = c["evidence"]["witness"]["z"]
    assert run(c, BAD_NET).reason == "witness pair: z and z_prime are equal"
    c = _net_claim(BAD_NET)
    c["evidence"]["witness"] = None
    assert run(c, BAD_NET).reason == "witness must be an object with 'z' and 'z_prime'"


# --------------------------------------------------------------------------------------------
# The hyperplane enumeration the checker trusts, against brute force
# --------------------------------------------------------------------------------------------


def _brute_hyperplanes(W: list[list[int]], d: int) -> dict[frozenset[int], tuple[int, ...]]:
    m = len(W)
    out: dict[frozenset[int], tuple[int, ...]] = {}
    for T in itertools.combinations(range(m), d - 1):
        if d > 1 and exact.rank([W[j] for j in T]) < d - 1:
            continue
        if d == 1:
            members = frozenset(j for j in range(m) if not any(W[j]))
        else:
            n = exact.nullspace([W[j] for j in T])[0]
            members = frozenset(j for j in range(m) if sum(a * b for a, b in zip(W[j], n)) == 0)
        out.setdefault(members, T)
    return out


@settings(max_examples=150, deadline=None)
@given(matrices(rows=(1, 9), cols=(1, 4), entries="integer"))
def test_candidate_hyperplanes_match_brute_force(W: np.ndarray) -> None:
    d = W.shape[1]
    Wi = W.astype(int).tolist()
    got = chk.candidate_hyperplanes(Wi, d)
    sets = [frozenset(j for j in range(len(Wi)) if mask >> j & 1) for _, mask in got]
    assert len(sets) == len(set(sets))  # each hyperplane once
    expected = _brute_hyperplanes(Wi, d)
    assert set(sets) == set(expected)
    for (basis, _), members in zip(got, sets):  # the basis is the greedy one
        greedy: list[int] = []
        for j in sorted(members):
            if exact.rank([Wi[k] for k in greedy + [j]]) > len(greedy):
                greedy.append(j)
        assert tuple(greedy) == basis


# --------------------------------------------------------------------------------------------
# The trusted base stays small
# --------------------------------------------------------------------------------------------


def test_checker_imports_only_the_trusted_base() -> None:
    allowed = {"theorychk.exact", "theorychk.network", "theorychk.io", "theorychk.errors",
               "theorychk.verdict", "theorychk.check", "theorychk"}
    stdlib_ok = {"__future__", "math", "collections", "fractions", "typing", "numpy", "flint", "dataclasses",
                 "itertools", "functools", "re", "json"}
    tree = ast.parse(Path(chk.__file__).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert name in allowed or name.startswith("theorychk.check") or top in stdlib_ok, name


def test_enumeration_can_be_stopped_by_an_engine() -> None:
    W = np.random.default_rng(0).integers(-5, 6, size=(12, 4)).tolist()
    with pytest.raises(TimeLimitReached, match="hyperplane enumeration stopped"):
        chk.candidate_hyperplanes(W, 4, stop=lambda: True)
    assert chk.candidate_hyperplanes(W, 4, stop=lambda: False) == chk.candidate_hyperplanes(W, 4)
