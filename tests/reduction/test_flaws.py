"""The printed construction of paper 001 and the box-less Katz gadget are refuted by exact counterexamples."""

from fractions import Fraction

from hypothesis import given, settings

from theorychk.reduction.cnf import CNF, solve
from theorychk.reduction.constructions import exact_output, katz, printed_two_layer
from theorychk.reduction.flaws import katz_counterexamples, printed_counterexamples
from theorychk.reduction.verify import verify
from theorychk.testing.strategies import cnfs


@given(cnfs(min_vars=3, max_vars=6, max_clauses=30, distinct=True))  # 3-CNF, the printed input
@settings(max_examples=30)
def test_printed_construction_is_refuted_on_every_formula(cnf):
    found = {c.kind: c for c in printed_counterexamples(cnf)}
    # z = 0 reaches [0 | 0] whatever the formula: a real latent makes the problem trivial
    real = found["real-latent"]
    assert real.latent == (0,) * cnf.n_vars
    assert exact_output(printed_two_layer(cnf, t=0).network, real.latent) == real.target
    # the hidden unit is an AND of the literals, not "clause satisfied"
    assert found["and-not-or"].details["hidden_unit"] == 0
    if solve(cnf).status == "SAT":
        c = found["model-not-preimage"]
        assert cnf.satisfied_by(tuple(v > 0 for v in c.latent))
        assert exact_output(printed_two_layer(cnf).network, c.latent) != c.target
    if "preimage-not-model" in found:
        c = found["preimage-not-model"]
        assert not cnf.satisfied_by(tuple(v > 0 for v in c.latent))
        assert exact_output(printed_two_layer(cnf, t=0).network, c.latent) == c.target


def test_printed_construction_fails_verification_and_exits_refuted():
    cnf = CNF(3, [[1, 2, 3], [-1, 2, 3], [1, -2, -3]])
    report = verify(printed_two_layer(cnf))
    assert report.status.value == "REFUTED"
    assert report.check("models").status.value == "REFUTED"
    assert "is a model but not a preimage" in report.check("boolean-preimages").message
    kinds = [c.kind for c in printed_counterexamples(cnf)]
    assert kinds == ["real-latent", "and-not-or", "model-not-preimage", "preimage-not-model"]


def test_katz_needs_the_booleanity_term_and_the_box():
    unsat = CNF(2, [[1], [-1], [1, 2]])
    assert solve(unsat).status == "UNSAT"
    (outside,) = katz_counterexamples(unsat)  # a unit clause: the no-Booleanity example needs widths >= 2
    assert outside.kind == "outside-box" and outside.latent == (Fraction(1, 2), Fraction(5, 2))
    assert exact_output(katz(unsat).network, outside.latent) == (0,)
    wide = CNF(2, [[1, 2], [-1, 2], [1, -2], [-1, -2]])
    found = {c.kind: c for c in katz_counterexamples(wide)}
    assert found["no-booleanity"].latent == (Fraction(1, 2),) * 2
    assert found["no-booleanity"].details["formula_status"] == "UNSAT"
    # with the Booleanity term and inside the box the same point is no preimage
    assert exact_output(katz(wide).network, (Fraction(1, 2),) * 2) == (1,)
