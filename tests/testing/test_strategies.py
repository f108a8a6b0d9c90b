"""The public strategies check their arguments when built, resolve their annotations, and draw what
they say."""

import inspect
import typing

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theorychk.errors import InvalidInput
from theorychk.network import Network
from theorychk.reduction.cnf import CNF
from theorychk.testing import strategies as tst

STRATEGIES = sorted(n for n in tst.__all__ if inspect.isfunction(getattr(tst, n)))

# (strategy, keyword arguments with the offending one last, a pinned part of the message). Each
# call must raise when it is made, before anything is drawn; the message starts with the strategy
# and the argument.
BAD = [
    ("matrices", {"rows": 0}, "must be an integer >= 1 or a pair (low, high) with 1 <= low <= high; got 0"),
    ("matrices", {"cols": (4, 2)}, "; got (4, 2)"),
    ("matrices", {"rows": 2.5}, "; got 2.5"),
    ("matrices", {"entries": "floats"}, "must be one of 'dyadic', 'integer', 'gaussian'; got 'floats'"),
    ("networks", {"entries": "foo"}, "must be one of 'dyadic', 'integer', 'gaussian'; got 'foo'"),
    ("networks", {"entries": "dyadc"}, "; got 'dyadc'; did you mean 'dyadic'?"),
    ("networks", {"widths": (3,)}, "must be a tuple of at least two positive integers (latent width first)"),
    ("networks", {"widths": (2, 0, 3)}, "; got (2, 0, 3)"),
    ("networks", {"depth": (0, 2)}, "must be an integer >= 1 or a pair"),
    ("networks", {"max_width": 0}, "must be an integer >= 1; got 0"),
    ("networks", {"hidden": "relu"}, "activation specs like ('relu', 'leaky_relu:0.25'); got 'relu'"),
    ("networks", {"hidden": ()}, "must be a non-empty tuple of activation specs"),
    ("networks", {"final": ("rleu",)}, "has a bad activation: unknown activation 'rleu'"),
    ("networks", {"bias": "yes"}, "must be True or False or None; got 'yes'"),
    ("expansive_networks", {"latent_dim": 0}, "must be an integer >= 1 or a pair"),
    ("expansive_networks", {"depth": (2, 1)}, "; got (2, 1)"),
    ("expansive_networks", {"expansion": 0.0}, "must be a number in (0, inf) or a pair (low, high) of them"),
    ("expansive_networks", {"expansion": (3.0, 2.0)}, "with low <= high; got (3.0, 2.0)"),
    ("expansive_networks", {"entries": "normal"}, "must be one of"),
    ("expansive_networks", {"hidden": ("relu", 3)}, "has a bad activation: activation must be a name"),
    ("sparse_networks", {"widths": (2, 3), "density": 1.5}, "must be a number in [0, 1]; got 1.5"),
    ("sparse_networks", {"widths": 3}, "; got 3"),
    ("sparse_networks", {"widths": (2, 3), "entries": "x"}, "must be one of"),
    ("relu_layers", {"rows": (0, 3)}, "; got (0, 3)"),
    ("relu_layers", {"bias": 1}, "must be True or False or None; got 1"),
    ("relu_layers", {"entries": "gauss"}, "; got 'gauss'; did you mean 'gaussian'?"),
    ("planted_signals", {"nets": None}, "must be a strategy of networks, e.g. expansive_networks()"),
    ("planted_signals", {"nets": st.none(), "latent": "int"}, "one of 'gaussian', 'dyadic'; got 'int'"),
    ("noise", {"size": -1}, "must be an integer >= 0; got -1"),
    ("noise", {"size": 4, "level": -0.1}, "must be a number in [0, inf) or a pair"),
    ("noise", {"size": 4, "level": float("nan")}, "; got nan"),
    ("noise", {"size": 4, "kind": "poisson"}, "must be one of 'uniform', 'gaussian'; got 'poisson'"),
    ("masks", {"size": "8"}, "must be an integer >= 0; got '8'"),
    ("masks", {"size": 8, "observed": 1.5}, "must be a number in [0, 1] or a pair"),
    ("masks", {"size": 8, "kind": "lower-half"}, "must be one of 'random', 'upper-half'; got 'lower-half'"),
    ("cnfs", {"min_vars": 0}, "must be an integer >= 1; got 0"),
    ("cnfs", {"min_vars": 4, "max_vars": 3}, "must be an integer >= min_vars = 4; got 3"),
    ("cnfs", {"min_clauses": 5, "max_clauses": 2}, "must be an integer >= min_clauses = 5; got 2"),
    ("cnfs", {"max_width": 0}, "must be an integer >= 1; got 0"),
    ("cnfs", {"distinct": "yes"}, "must be True or False; got 'yes'"),
    ("cnf_formulas", {"n_vars": 0}, "must be an integer >= 1 or a pair"),
    ("cnf_formulas", {"n_clauses": (3, 1)}, "; got (3, 1)"),
    ("cnf_formulas", {"width": 0}, "must be an integer >= 1; got 0"),
]


@pytest.mark.parametrize(("name", "kwargs", "message"), BAD, ids=[f"{n}-{'-'.join(k)}" for n, k, _ in BAD])
def test_bad_arguments_raise_when_the_strategy_is_built(name, kwargs, message):
    with pytest.raises(InvalidInput) as info:
        getattr(tst, name)(**kwargs)
    text = str(info.value)
    assert text.startswith(f"{name}: {list(kwargs)[-1]} ") and message in text and "\n" not in text


def test_every_public_strategy_has_build_time_checks():
    assert {name for name, _, _ in BAD} == set(STRATEGIES)


@pytest.mark.parametrize("name", STRATEGIES)
def test_annotations_resolve(name):
    hints = typing.get_type_hints(getattr(tst, name))
    assert typing.get_origin(hints["return"]) is st.SearchStrategy


@settings(max_examples=20, database=None)
@given(
    tst.matrices(rows=3, cols=(1, 2)),
    tst.networks(widths=(2, 3), hidden=("relu",), bias=True),
    tst.expansive_networks(latent_dim=2, depth=2, expansion=2.0),
    tst.sparse_networks(widths=(2, 4), density=0.0),
    tst.noise(size=5, level=0.5, kind="uniform"),
    tst.masks(size=6, observed=0.5),
)
def test_good_arguments_draw_what_they_say(a, net, wide, sparse, e, mask):
    assert a.shape[0] == 3 and a.shape[1] in (1, 2) and np.all(a == np.round(a))
    assert isinstance(net, Network) and net.widths == (2, 3) and net.layers[0].activation.spec == "relu"
    assert wide.widths == (2, 4, 8)
    assert not sparse.layers[0].weight.any()  # density 0 keeps no weight
    assert e.shape == (5,) and np.all(np.abs(e) <= 0.5)
    assert mask.dtype == bool and mask.sum() == 3


@settings(max_examples=30, database=None)
@given(tst.cnf_formulas(n_vars=(3, 5), n_clauses=4, width=3), tst.cnfs(min_vars=2, max_vars=2, min_clauses=3,
                                                                         max_clauses=3, distinct=True))
def test_cnf_formulas_is_the_tuple_form_of_cnfs(formula, cnf):
    n, clauses = formula
    assert 3 <= n <= 5 and len(clauses) == 4
    assert all(len({abs(lit) for lit in c}) == 3 == len(c) for c in clauses)
    assert all(1 <= abs(lit) <= n for c in clauses for lit in c)
    assert CNF(n, clauses).clauses == clauses
    assert isinstance(cnf, CNF) and cnf.n_vars == 2 and len(cnf.clauses) == 3
    assert all(len({abs(lit) for lit in c}) == 2 == len(c) for c in cnf.clauses)
