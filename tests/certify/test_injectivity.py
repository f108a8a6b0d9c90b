"""Global injectivity of layers and networks (theorychk.certify.injectivity), judged by the checker
and by an exact brute-force oracle written here."""

from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

import theorychk.check.injectivity  # noqa: F401  (registers the verifiers)
from theorychk import exact
from theorychk.certify.injectivity import LEMMA1_RATIO, layer_injectivity, network_injectivity
from theorychk.certify.injectivity.domain import _Box
from theorychk.certify.injectivity.evidence import _LayerData
from theorychk.certify.injectivity.network import _realize
from theorychk.check import VERIFIERS
from theorychk.check.injectivity import check_layer_pair, check_network_pair
from theorychk.errors import CertificateError, InvalidInput
from theorychk.experiments.injectivity import injectivity_probability
from theorychk.network import Layer, Network
from theorychk.testing.strategies import matrices
from theorychk.verdict import Status

# --------------------------------------------------------------------------------------------
# The oracle: "injective iff every realizable active set S(x) = {j : <w_j,x> + b_j >= 0} spans"
# --------------------------------------------------------------------------------------------


def _strict_feasible(rows: list[list[Fraction]], rhs: list[Fraction], d: int) -> bool:
    """Is ``{x : <a_i, x> < c_i for all i}`` nonempty? Fourier-Motzkin in exact rationals.

    Eliminating ``x_k`` pairs every row with a positive coefficient with every row with a
    negative one (positive combinations stay strict); the system is feasible iff the final
    variable-free rows ``0 < c`` all hold. Exact, no LP.
    """
    sys_ = list(zip(rows, rhs))
    for k in range(d):
        pos = [(a, c) for a, c in sys_ if a[k] > 0]
        neg = [(a, c) for a, c in sys_ if a[k] < 0]
        new = [(a, c) for a, c in sys_ if a[k] == 0]
        for a1, c1 in pos:
            for a2, c2 in neg:
                l1, l2 = -a2[k], a1[k]
                new.append(([l1 * u + l2 * v for u, v in zip(a1, a2)], l1 * c1 + l2 * c2))
        sys_ = new
    return all(c > 0 for _, c in sys_)


def oracle_injective(W: np.ndarray, b: np.ndarray) -> bool:
    """Brute force over all row subsets ``T``: non-injective iff some ``T`` of rank < d can hold
    ``S(x)``, i.e. the rows outside ``T`` can all be strictly negative at one ``x`` (then
    ``S(x)`` lies in ``T`` and does not span); or rank W < d."""
    m, d = W.shape
    Wq = [[Fraction(v) for v in row] for row in W.tolist()]
    bq = [Fraction(v) for v in b.tolist()]
    if exact.rank(W) < d:
        return False
    for size in range(m, -1, -1):
        for T in itertools.combinations(range(m), size):
            if T and exact.rank([Wq[j] for j in T]) >= d:
                continue
            off = [j for j in range(m) if j not in T]
            if _strict_feasible([Wq[j] for j in off], [-bq[j] for j in off], d):
                return False
    return True


def test_oracle_on_known_cases() -> None:
    B = np.array([[1.0, 2.0], [0.0, 1.0]])
    assert oracle_injective(np.vstack([B, -B]), np.zeros(4))
    assert not oracle_injective(np.vstack([B, B]), np.zeros(4))
    assert not oracle_injective(np.array([[1.0]]), np.zeros(1))
    assert oracle_injective(np.array([[1.0], [-1.0]]), np.array([0.0, 0.0]))
    assert not oracle_injective(np.array([[1.0], [-1.0]]), np.array([-1.0, 0.0]))  # S(1/2) is empty
    assert oracle_injective(np.array([[1.0], [-1.0]]), np.array([1.0, 0.0]))


def _verify(result, net: Network) -> str:
    claim = result.claims[0]
    json.dumps(claim)  # certificates are JSON
    return VERIFIERS[claim["kind"]](json.loads(json.dumps(claim)), net, {}).outcome


@st.composite
def small_layers(draw: st.DrawFn) -> Layer:
    entries = draw(st.sampled_from(["integer", "dyadic"]))
    d = draw(st.integers(1, 3))
    # Half the draws have m >= 2d rows, where injective layers live.
    m = draw(st.integers(1, 8) | st.integers(2 * d, 8))
    W = draw(matrices(rows=m, cols=d, entries=entries))
    if draw(st.booleans()):
        b = draw(matrices(rows=1, cols=W.shape[0], entries=entries))[0]
    else:
        b = None
    return Layer(W, b, "relu")


@settings(max_examples=200, deadline=None)
@given(small_layers(), st.integers(0, 2**16), st.sampled_from([0, 0, 256]))
@example(Layer(np.vstack([np.eye(2), -np.eye(2)]), None, "relu"), 0, 0)
@example(Layer(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), None, "relu"), 0, 0)
@example(Layer(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), np.array([0.0, 0.0, 1.0]), "relu"), 0, 0)
@example(Layer(np.array([[1.0, 1.0], [2.0, 2.0], [-1.0, -1.0], [0.0, 1.0], [0.0, -1.0]]), None, "relu"), 0, 0)
@example(Layer(np.array([[1.0], [-1.0]]), np.array([1.0, -1.0]), "relu"), 0, 0)
def test_exact_method_is_sound_and_decides(layer: Layer, seed: int, samples: int) -> None:
    """``samples=0`` skips the random witness search, so the LPs over hyperplanes decide alone."""
    res = layer_injectivity(layer, seed=seed, samples=samples)
    assert res.status is not Status.UNKNOWN, res.reason  # small sizes: always decided
    truth = oracle_injective(layer.weight, layer.bias)
    event(f"{res.status.value} by {res.method}")
    net = Network([layer])
    if res.status is Status.CERTIFIED:
        assert truth
        assert _verify(res, net) == "VERIFIED"
    else:
        assert not truth
        x, y = res.witness
        assert x != y
        check_layer_pair(layer, res.evidence["witness"])  # raises on failure
        assert _verify(res, net) == "VERIFIED"


# --------------------------------------------------------------------------------------------
# The pitfalls
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [1, 2, 3, 4])
@pytest.mark.parametrize("bias", [False, True])
def test_fewer_than_2d_rows_is_never_injective(d: int, bias: bool) -> None:
    rng = np.random.default_rng(d)
    for m in range(d, 2 * d):
        W = rng.integers(-3, 4, size=(m, d)).astype(float)
        b = rng.integers(-3, 4, size=m).astype(float) if bias else None
        res = layer_injectivity(Layer(W, b, "relu"), seed=0)
        assert res.status is Status.REFUTED
        assert res.thresholds["necessary_m_ge_2d"] is False
        assert _verify(res, Network([Layer(W, b, "relu")])) == "VERIFIED"


@pytest.mark.parametrize("seed", range(6))
def test_B_minus_B_is_injective(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = 1 + seed % 4
    while True:
        B = rng.integers(-3, 4, size=(d, d)).astype(float)
        if exact.rank(B) == d:
            break
    layer = Layer(np.vstack([B, -B]), None, "relu")
    res = layer_injectivity(layer, seed=seed)
    assert res.status is Status.CERTIFIED
    assert res.method.startswith("hyperplanes")
    assert _verify(res, Network([layer])) == "VERIFIED"


def test_criterion_uses_greater_or_equal_at_zero() -> None:
    """With "> 0" the active set of a bias-free layer at x = 0 is empty, so the strict
    criterion would call every such layer non-injective. [B; -B] is injective, and ours says so:
    at x = 0 every row is active (ties count)."""
    B = np.array([[2.0, 1.0], [1.0, 1.0]])
    layer = Layer(np.vstack([B, -B]), None, "relu")
    data = _LayerData(layer)
    zero = [Fraction(0), Fraction(0)]
    assert data.active(zero) == 0b1111  # ">= 0": all four rows
    assert sum(1 for v in data.pre(zero) if v > 0) == 0  # "> 0" would see none
    assert layer_injectivity(layer).status is Status.CERTIFIED
    # The pair the "> 0" reading would suggest (x = 0 and a step along any direction) is no witness.
    with pytest.raises(CertificateError, match="outputs differ"):
        check_layer_pair(layer, {"x": [0, 0], "x_prime": ["1/8", 0]})


def test_lemma1_of_paper001_contradicted_at_expansion_2_1() -> None:
    """Paper 001, Lemma 1: Gaussian ReLU(Wx) with m >= 2.1 d is injective w.h.p. Measured: most
    draws are not injective, each with an exact witness pair (numbers in docs/injectivity.md)."""
    fractions = {}
    for bias in (False, True):
        for d in (2, 3, 4, 5):
            r = injectivity_probability(d, LEMMA1_RATIO, 10, seed=2021, bias=bias)
            assert r["unknown"] == 0
            fractions[(d, bias)] = r["not_injective"] / r["draws"]
    assert all(f >= 0.7 for f in fractions.values()), fractions
    assert sum(fractions.values()) / len(fractions) >= 0.9, fractions


# --------------------------------------------------------------------------------------------
# Invertible activations, domains, limits
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("act", ["leaky_relu:0.1", "identity", "plu", "tanh", "sigmoid"])
def test_invertible_activation_is_injective_iff_full_column_rank(act: str) -> None:
    good = Layer(np.array([[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]]), np.array([0.5, 0.0, -1.0]), act)
    res = layer_injectivity(good)
    assert res.status is Status.CERTIFIED and res.method == "full column rank"
    assert _verify(res, Network([good])) == "VERIFIED"
    bad = Layer(np.array([[1.0, 2.0], [2.0, 4.0], [-1.0, -2.0]]), np.array([0.5, 0.0, -1.0]), act)
    res = layer_injectivity(bad)
    assert res.status is Status.REFUTED
    assert _verify(res, Network([bad])) == "VERIFIED"  # tanh/sigmoid: equal pre-activations


def test_domain_box_and_ball() -> None:
    relu = Layer(np.array([[1.0]]), None, "relu")
    net = Network([relu])
    assert layer_injectivity(relu, seed=0).status is Status.REFUTED
    for dom, want in [({"box": {"lower": [1], "upper": [2]}}, Status.CERTIFIED),
                      ({"box": {"lower": [-2], "upper": [-1]}}, Status.REFUTED),
                      ({"ball": {"center": [2], "radius": 1}}, Status.CERTIFIED),
                      ({"ball": {"center": ["1/2"], "radius": 1}}, Status.REFUTED)]:
        res = layer_injectivity(relu, domain=dom, seed=0)
        assert res.status is want, dom
        assert _verify(res, net) == "VERIFIED"
    layer = Layer(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), np.array([0.0, 0.0, 1.0]), "relu")
    res = layer_injectivity(layer, domain={"ball": {"center": [1, 1], "radius": "1/2"}})
    assert res.status is Status.CERTIFIED and _verify(res, Network([layer])) == "VERIFIED"
    with pytest.raises(InvalidInput, match="lower < upper"):
        layer_injectivity(layer, domain={"box": {"lower": [0, 1], "upper": [1, 1]}})


def test_time_limit_gives_unknown(fake_clock) -> None:
    rng = np.random.default_rng([1, 0])
    layer = Layer(rng.standard_normal((24, 4)), None, "relu")
    assert layer_injectivity(layer, seed=0, time_limit=5.0).status is Status.CERTIFIED  # time stands still
    fake_clock.step = 1.0  # a second per look at the clock: the 5 s pass inside the decision
    res = layer_injectivity(layer, seed=0, time_limit=5.0)
    assert res.status is Status.UNKNOWN and "time limit" in res.reason
    assert res.claims[0]["status"] == "UNKNOWN"
    assert VERIFIERS["layer_injective"](res.claims[0], Network([layer]), {}).outcome == "NO_CLAIM"


def test_time_limit_is_honoured_inside_the_sampled_witness_search(fake_clock, monkeypatch) -> None:
    # On dcgan28's 784 x 196 convolution the batched SVD of 256 sampled active sets ran for over a
    # minute past a 30 s limit, in one call. Here time passes only inside the SVDs (a fake second per
    # batch): the 3 s limit must be seen between batches, not after all 16 of them.
    from theorychk.certify.injectivity import witness

    batches = []
    real = witness._singular_values

    def slow(m):
        batches.append(len(m))
        fake_clock.now += 1.0
        return real(m)

    monkeypatch.setattr(witness, "_singular_values", slow)
    layer = Layer(np.random.default_rng(3).standard_normal((40, 6)), None, "relu")
    res = layer_injectivity(layer, seed=0, time_limit=3.0)
    assert res.status is Status.UNKNOWN and "time limit" in res.reason
    assert 3 <= len(batches) <= 4


def test_large_path_witness_search() -> None:
    rng = np.random.default_rng(7)
    for bias in (False, True):
        layer = Layer(rng.standard_normal((17, 8)), rng.standard_normal(17) if bias else None, "relu")
        res = layer_injectivity(layer, seed=1, max_exact_candidates=10)
        assert res.status is Status.REFUTED
        assert _verify(res, Network([layer])) == "VERIFIED"


def test_large_path_sufficient_condition_is_solver_evidence() -> None:
    rng = np.random.default_rng(3)
    layer = Layer(rng.standard_normal((40, 3)), None, "relu")
    exact_res = layer_injectivity(layer, seed=0)
    assert exact_res.status is Status.CERTIFIED
    res = layer_injectivity(layer, seed=0, max_exact_candidates=10, milp_time_limit=30)
    assert res.status is Status.CERTIFIED, res.reason
    assert res.evidence_kind == "solver" and "MILP" in res.method
    assert res.bounds["halfspace_depth_lower"] >= 3
    assert res.bounds["halfspace_depth_lower"] <= res.bounds["halfspace_depth_upper"]
    assert VERIFIERS["layer_injective"](res.claims[0], Network([layer]), {}).outcome == "NOT_CHECKABLE"


def test_result_serialises() -> None:
    layer = Layer(np.vstack([np.eye(2), -np.eye(2)]), np.array([1.0, 0.0, 0.0, 1.0]), "relu")
    res = layer_injectivity(layer, seed=0)
    d = json.loads(json.dumps(res.to_dict()))
    assert d["status"] == res.status.value and d["shape"] == [4, 2]
    assert d["thresholds"]["expansion"] == 2.0


# --------------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------------

B2 = np.array([[1.0, 2.0], [0.0, 1.0]])


def _check_all(res, net: Network) -> list[str]:
    return [VERIFIERS[c["kind"]](json.loads(json.dumps(c)), net, {}).outcome for c in res.claims]


def test_network_certified_when_every_layer_is() -> None:
    net = Network([Layer(np.vstack([B2, -B2]), None, "relu"), Layer(2 * np.eye(4), None, "leaky_relu:0.1")])
    res = network_injectivity(net, seed=0)
    assert res.status is Status.CERTIFIED
    assert _check_all(res, net) == ["VERIFIED"] * 3
    rows = res.summary()
    assert [r["layer"] for r in rows] == [0, 1, "network"]
    json.dumps(res.to_dict())


def test_network_refuted_by_layer_zero() -> None:
    net = Network([Layer(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), None, "relu"),
                   Layer(np.eye(3), None, "identity")])
    res = network_injectivity(net, seed=0)
    assert res.status is Status.REFUTED and res.witness_source == "layer 0 witness"
    assert _check_all(res, net) == ["VERIFIED"] * 3


def test_network_refuted_by_pulling_a_later_witness_back() -> None:
    net = Network([Layer(B2, np.array([0.5, -1.0]), "leaky_relu:0.25"),
                   Layer(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), None, "relu")])
    res = network_injectivity(net, seed=0)
    assert res.status is Status.REFUTED and "pulled back" in res.witness_source
    assert _check_all(res, net) == ["VERIFIED"] * 3


def test_network_refuted_by_a_singular_linear_region() -> None:
    rng = np.random.default_rng(0)
    net = Network([Layer(np.vstack([B2, -B2]), None, "relu"),
                   Layer(rng.standard_normal((4, 4)), None, "relu")])
    res = network_injectivity(net, seed=0)
    assert res.layers[1].status is Status.REFUTED
    assert res.status is Status.REFUTED and res.witness_source == "latent linear-region witness"
    assert _check_all(res, net) == ["VERIFIED"] * 3


def test_later_layer_not_injective_leaves_network_undecided() -> None:
    """ReLU(I x) is not injective on R^4, but on the image of layer 0 (x >= 0) it is the
    identity: the network is injective, and the layer-wise method cannot tell."""
    net = Network([Layer(np.vstack([B2, -B2]), None, "relu"), Layer(np.eye(4), None, "relu")])
    res = network_injectivity(net, seed=0)
    assert [r.status for r in res.layers] == [Status.CERTIFIED, Status.REFUTED]
    assert res.status is Status.UNKNOWN
    assert res.reason == "layer 1 not injective; network undecided"
    assert _check_all(res, net) == ["VERIFIED", "VERIFIED", "NO_CLAIM"]


def test_positive_witness_realized_through_a_relu_layer() -> None:
    # Layer 0 is ReLU with full row rank: every positive point is one of its outputs.
    net = Network([Layer(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]), np.array([0.0, -1.0]), "relu"),
                   Layer(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([-1.0, -1.0, -3.0]),
                         "relu")])
    orth = _Box(lower=(Fraction(0), Fraction(0)), upper=(None, None))
    res = layer_injectivity(net.layers[1], domain=orth, seed=0)
    assert res.status is Status.REFUTED
    assert all(v > 0 for v in res.witness[0] + res.witness[1])
    pair = _realize(net, 1, res.witness)
    assert pair is not None
    check_network_pair(net, {"z": [str(v) for v in pair[0]], "z_prime": [str(v) for v in pair[1]]})


@pytest.mark.parametrize("d", [2, 3])
def test_probability_sweep_records_seeds(d: int) -> None:
    r = injectivity_probability(d, 6, 3, seed=5, bias=True)
    assert r["m"] == 6 * d and r["draws"] == 3 and r["seed"] == 5
    assert r["injective"] + r["not_injective"] + r["unknown"] == 3
    assert math.isfinite(r["mean_seconds"])


@pytest.mark.slow
def test_lemma1_contradiction_many_draws() -> None:
    for bias in (False, True):
        for d in (2, 3, 4, 5):
            r = injectivity_probability(d, LEMMA1_RATIO, 50, seed=7, bias=bias)
            assert r["not_injective"] >= 40, r


def test_network_on_a_latent_box() -> None:
    """ReLU(z) is injective on z in [1, 2] only; the network claim carries the domain."""
    net = Network([Layer(np.array([[1.0]]), None, "relu"),
                   Layer(np.array([[2.0], [1.0]]), None, "leaky_relu:0.5")])
    assert network_injectivity(net, seed=0).status is Status.REFUTED
    res = network_injectivity(net, seed=0, domain={"box": {"lower": [1], "upper": [2]}})
    assert res.status is Status.CERTIFIED
    assert res.claims[-1]["domain"] == {"box": {"lower": ["1"], "upper": ["2"]}}
    assert _check_all(res, net) == ["VERIFIED"] * 3
    res = network_injectivity(net, seed=0, domain={"ball": {"center": [-1], "radius": "1/2"}})
    assert res.status is Status.REFUTED and _check_all(res, net) == ["VERIFIED"] * 3


def test_highs_error_is_named_in_the_unknown_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    import highspy

    import theorychk._highs as builder

    class Failing(highspy.Highs):
        def run(self):  # what highspy 1.16 does on a thread-count clash: no solve, status kError
            return highspy.HighsStatus.kError

    def failing_highs(**options):
        h = Failing()
        h.setOptionValue("output_flag", False)
        return h

    monkeypatch.setattr(builder, "new_highs", failing_highs)
    res = layer_injectivity(Layer(np.vstack([np.eye(3), -np.eye(3)]), np.ones(6), "relu"), seed=0)
    assert res.status is Status.UNKNOWN
    assert "HiGHS returned an error on 3 LPs" in res.reason, res.reason


# --------------------------------------------------------------------------------------------
# Bad arguments are refused at the boundary, naming the argument and what arrived
# --------------------------------------------------------------------------------------------

_LAYER = Layer(np.vstack([np.eye(2), -np.eye(2)]), None, "relu")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"samples": -3}, "samples must be an int in [0, inf); got -3"),
    ({"samples": 2.5}, "samples must be an int in [0, inf); got 2.5"),
    ({"seed": -1}, "seed must be an int in [0, inf) or None; got -1"),
    ({"seed": "0"}, "seed must be an int in [0, inf) or None; got '0'"),
    ({"layer_index": -1}, "layer_index must be an int in [0, inf) or None; got -1"),
    ({"milp_time_limit": 0}, "milp_time_limit must be a float in (0, inf]; got 0"),
    ({"milp_time_limit": float("nan")}, "milp_time_limit must be a float in (0, inf]; got nan"),
    ({"time_limit": "60"}, "time_limit must be a float in (0, inf] or None; got '60'"),
    ({"max_exact_candidates": True}, "max_exact_candidates must be an int in [1, inf); got True"),
])
def test_layer_injectivity_refuses_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        layer_injectivity(_LAYER, **kwargs)
    assert str(err.value) == message
    (name, value), = kwargs.items()  # the structured fields name the argument and what arrived
    assert err.value.argument == name and (err.value.got is value or err.value.got == value)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"seed": -1}, "seed must be an int in [0, inf) or None; got -1"),
    ({"max_exact_candidates": 0}, "max_exact_candidates must be an int in [1, inf); got 0"),
    ({"time_limit": -5}, "time_limit must be a float in (0, inf] or None; got -5"),
])
def test_network_injectivity_refuses_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        network_injectivity(Network([_LAYER]), **kwargs)
    assert str(err.value) == message


def test_thresholds_and_probability_refuse_bad_arguments() -> None:
    from theorychk.certify.injectivity import thresholds

    with pytest.raises(InvalidInput, match=r"^d must be an int in \[1, inf\); got 0$"):
        thresholds(3, 0, has_bias=False)
    with pytest.raises(InvalidInput, match=r"^draws must be an int in \[0, inf\); got -1$"):
        injectivity_probability(2, 2.0, -1, seed=0, bias=False)
    with pytest.raises(InvalidInput, match=r"^seed must be an int in \[0, inf\); got -2$"):
        injectivity_probability(2, 2.0, 1, seed=-2, bias=False)
    with pytest.raises(InvalidInput, match=r"^ratio must be a float in \(0, inf\); got 0.0$"):
        injectivity_probability(2, 0.0, 1, seed=0, bias=False)


def test_probability_sweep_is_still_importable_from_the_engine() -> None:
    import theorychk.certify.injectivity as inj

    assert inj.injectivity_probability is injectivity_probability
    assert "injectivity_probability" in inj.__all__
