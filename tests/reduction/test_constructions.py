"""Constructions: SAT ⇔ target in range for every sound construction, shapes, statements, errors."""

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings

from theorychk.errors import InvalidInput
from theorychk.reduction.cnf import CNF, solve
from theorychk.reduction.constructions import (
    CONSTRUCTIONS,
    bias_free,
    construct,
    exact_output,
    four_layer,
    get_construction,
    one_hidden,
    printed_two_layer,
)
from theorychk.reduction.verify import boolean_preimages, run_milp
from theorychk.testing.strategies import cnfs

SOUND = [name for name, c in CONSTRUCTIONS.items() if not c.flawed]
REAL = [name for name in SOUND if name != "binary"]


def _assignments(n):
    return np.array(list(itertools.product((False, True), repeat=n)), dtype=bool)


@given(cnfs(max_vars=6))
@example(CNF(2, [[1, -1], [2, 2, -1]]))        # a tautology and a repeated literal
@example(CNF(1, [[1], [-1]]))                   # unsatisfiable with unit clauses
@settings(max_examples=40)
def test_boolean_preimages_are_exactly_the_models(cnf):
    """Exhaustive over {0,1}^n (or {±1}^n), exact integer arithmetic, every sound construction."""
    a = _assignments(cnf.n_vars)
    models = np.array([cnf.satisfied_by(x) for x in a])
    for name in SOUND:
        inst = construct(cnf, name)
        assert np.array_equal(boolean_preimages(inst, a), models), name


@given(cnfs(max_vars=6, max_clauses=16))
@example(CNF(2, [[1, 2], [-1, 2], [1, -2], [-1, -2]]))
@settings(max_examples=20)
def test_sat_iff_target_in_range_for_every_construction(cnf):
    """Satisfiable ⇔ the MILP finds a latent reproducing the target over the whole latent domain
    (real box, binary vertices for ``binary``), including the bias-free construction; every
    latent the MILP finds decodes to a model."""
    answer = solve(cnf)
    for name in SOUND:
        inst = construct(cnf, name)
        res = run_milp(inst, time_limit=30)
        tol = 1e-6 * max(1.0, float(max(abs(t) for t in inst.target)))
        if answer.status == "SAT":
            assert res.latent is not None and res.objective <= tol, (name, res)
            assert cnf.satisfied_by(inst.decode(res.latent)), name
            assert inst.is_preimage(inst.encode(answer.model)), name
        else:
            assert res.bound >= float(inst.gap_linf) - 1e-4, (name, res)


def test_widths_biases_and_exact_float32_integer_weights():
    cnf = CNF(4, [[1, -2, 3], [-1, 4, 2], [2, 3, -4]])
    n, m = 4, 3
    expected = {
        "binary": (n, m, 1),
        "four-layer": (n, 4 * n, 2 * n, m + 1, 2),
        "bias-free": (n + 1, 4 * n + 1, 2 * n + 1, m + 2, 2),
        "one-hidden": (n, 4 * n + m, 2),
        "katz": (n, m + 2 * n, 1),
        "printed": (n, m, m + 1),
    }
    for name, widths in expected.items():
        net = construct(cnf, name).network
        assert net.widths == widths, name
        for layer in net.layers:
            assert layer.dtype == "float32"
            assert np.array_equal(layer.weight, np.round(layer.weight)) and np.array_equal(layer.bias, np.round(layer.bias))
    assert not any(layer.has_bias for layer in bias_free(cnf).network.layers)
    assert four_layer(cnf).network.depth == 4 and one_hidden(cnf).network.depth == 2


def test_four_layer_gadgets_compute_clip_and_distance():
    inst = four_layer(CNF(1, [[1]]), radius=2)
    for z in [Fraction(-2), Fraction(-1, 3), Fraction(0), Fraction(1, 4), Fraction(1, 2), Fraction(5, 7), 1, Fraction(3, 2), 2]:
        z = Fraction(z)
        hidden = [(layer.weight, layer.bias, layer.activation.spec) for layer in inst.network.layers]
        from theorychk import exact

        y, beta = exact.forward(hidden, [z])[1]
        assert y == min(max(z, 0), 1) and beta == min(abs(z), abs(z - 1))


def test_bias_free_gap_of_one_half_is_attained():
    """At z0 = ½ and z = ½·r (r violating one clause), G = (½, ½): ‖G − (1, 0)‖_∞ = ½ exactly."""
    cnf = CNF(2, [[1, 2], [-1, 2], [1, -2], [-1, -2]])
    inst = bias_free(cnf)
    latent = (Fraction(1, 2), Fraction(0), Fraction(1, 2))  # r = (False, True) violates only (1 ∨ ¬2)
    out = exact_output(inst.network, latent)
    assert out == (Fraction(1, 2), Fraction(1, 2))
    assert max(abs(o - t) for o, t in zip(out, inst.target)) == inst.gap_linf


def test_bias_free_needs_the_first_output():
    """Positive homogeneity: scaling a latent scales the output, so only the first output pins z0."""
    inst = bias_free(CNF(2, [[1, 2], [-1, 2]]))
    z = inst.encode((True, True))
    assert inst.is_preimage(z)
    scaled = tuple(3 * v for v in z)
    assert exact_output(inst.network, scaled) == (Fraction(3), Fraction(0))


def test_encode_decode_round_trip_and_statements():
    cnf = CNF(3, [[1, -2], [2, 3]])
    for name in CONSTRUCTIONS:
        if name == "printed":
            continue
        inst = construct(cnf, name)
        for a in itertools.product((False, True), repeat=3):
            assert inst.decode(inst.encode(a)) == a
        assert inst.statement and inst.summary()["construction"] == name
        assert all(lo <= v <= hi for v, lo, hi in zip(inst.encode((True, False, True)), inst.latent_lo, inst.latent_hi))


def test_unknown_construction_suggests():
    with pytest.raises(InvalidInput, match=r"unknown construction 'four-layr'; valid: .*; did you mean 'four-layer'\?"):
        get_construction("four-layr")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: four_layer(CNF(0, [])), "needs at least one variable and one clause; got 0 variables and 0 clauses"),
        (lambda: four_layer(CNF(2, [])), "needs at least one variable and one clause; got 2 variables and 0 clauses"),
        (lambda: four_layer(CNF(2, [[1]]), radius=Fraction(1, 2)), "radius must be >= 1"),
        (lambda: printed_two_layer(CNF(3, [[1, 2]])), "defined for clauses of exactly three distinct variables"),
        (lambda: printed_two_layer(CNF(3, [[1, 2, 3]]), t=5), r"t must be an integer in 0\.\.1"),
        (lambda: four_layer("p cnf 1 1"), "needs a CNF; got str"),
    ],
)
def test_construction_errors(call, message):
    with pytest.raises(InvalidInput, match=message):
        call()
