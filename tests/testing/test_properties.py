import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theorychk.network import Layer, Network
from theorychk.reduction.cnf import CNF
from theorychk.testing import assert_recovers, assert_within_bound
from theorychk.testing import strategies as tst
from theorychk.theorems import SignalCase
from theorychk.theorems.lei2019 import layerwise_solve

CASES = tst.planted_signals(tst.expansive_networks(latent_dim=(1, 3), depth=1, entries="dyadic", hidden=("relu",)),
                            latent="dyadic")


def exact_inverter(net, y):
    z = layerwise_solve(net, y)
    return None if z is None else np.array([float(v) for v in z])


def broken_inverter(net, y):
    """Ignores the ReLU's sign constraints: least squares on every row, as if the layer were linear."""
    return np.linalg.lstsq(net.layers[0].weight, y, rcond=None)[0]


def test_broken_inverter_caught_by_assert_recovers():
    @settings(max_examples=50, derandomize=True, database=None)
    @given(CASES)
    def check(case):
        assert_recovers(broken_inverter, case, check_latent=False)

    with pytest.raises(AssertionError, match="does not reproduce the signal"):
        check()


def test_assert_within_bound_checks_and_skips():
    net = Network((Layer(np.array([[1., 0], [0, 1], [1, 1], [1, -1], [2, 1]]), None, "relu"),))
    from fractions import Fraction as F
    case = SignalCase(net, (F(1), F(1, 2)))
    from theorychk.theorems.lei2019 import algorithm1

    def lp(net, y):
        return algorithm1(net.layers[0], y, 2**-8 * (1 + 1e-12))
    note = assert_within_bound("lei2019.lemma2", lp, case, noise=[2**-8, 0, 0, -2**-8, 0])
    assert note.startswith("checked")
    dead = SignalCase(net, (F(-1), F(-1)))
    assert assert_within_bound("lei2019.lemma2", lp, dead, noise=[0, 0, 0, 0, 0]).startswith("skipped")


@settings(max_examples=25, derandomize=True, database=None)
@given(CASES)
def test_exact_inverter_passes_when_recoverable(case):
    from theorychk.theorems import get_theorem
    from fractions import Fraction
    sc = SignalCase(case.net, tuple(Fraction(float(v)) for v in case.latent))
    if get_theorem("lei2019.theorem2").hypotheses(sc).holds:
        assert_recovers(exact_inverter, case)


@settings(max_examples=25, database=None)
@given(tst.cnfs(min_vars=3, max_vars=5, distinct=True), tst.relu_layers(rows=(2, 5), cols=2, bias=None))
def test_new_strategies_valid(f, layer):
    assert isinstance(f, CNF) and all(len({abs(l) for l in c}) == 3 for c in f.clauses)
    assert layer.weight.shape[1] == 2 and layer.activation.spec == "relu"
