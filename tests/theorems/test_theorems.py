"""Hand-made instances where each theorem holds / a hypothesis fails; exact bounds; falsify."""

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy

from theorychk.network import Layer, Network
from theorychk.reduction.cnf import CNF
from theorychk.theorems import FormulaCase, LayerCase, SignalCase, all_theorems, falsify, get_theorem
from theorychk.theorems.aberdam2020 import NoisyCase, OracleCase

F = Fraction
ROOT = Path(__file__).resolve().parents[2]


def net1(w, act="relu"):
    return Network((Layer(np.array(w, float), None, act),))


def test_registry_names_and_docs_in_sync():
    names = {t.name for t in all_theorems()}
    assert {"lei2019.lemma1", "lei2019.theorem2", "lei2019.lemma2", "lei2019.theorem3", "lei2019.theorem4",
            "lei2019.reduction_two_layer", "lei2019.reduction_four_layer", "aberdam2020.theorem1",
            "aberdam2020.corollary1", "aberdam2020.theorem2", "aberdam2020.corollary2", "aberdam2020.oracle",
            "puthawala2022.criterion", "puthawala2022.expansivity"} <= names
    doc = (ROOT / "docs" / "theory.md").read_text(encoding="utf-8")
    assert [n for n in names if f"`{n}`" not in doc] == []


def test_theory_guide_is_generated_from_the_registry():
    from theorychk.theorems.guide import render

    committed = (ROOT / "docs" / "theory.md").read_text(encoding="utf-8")
    assert committed == render(), "docs/theory.md is stale: run `theorychk theorems --markdown > docs/theory.md`"


def test_unknown_name_suggests():
    with pytest.raises(ValueError, match="did you mean lei2019.lemma2, lei2019.lemma1"):
        get_theorem("lei2019.lemma")


def test_lemma1_false_on_a_hand_made_layer_and_hypothesis_failure():
    t = get_theorem("lei2019.lemma1")
    # 5 rows in R^2, four in one closed half-plane's complement: S(x) = one row for x = (0, -1)
    case = LayerCase(Layer(np.array([[1., 1], [-1, 1], [2, 1], [-2, 1], [0, -1]]), None, "relu"))
    assert t.hypotheses(case).holds is True
    assert t.conclusion(case, t.run(case)).holds is False
    assert t.hypotheses(LayerCase(Layer(np.eye(2), None, "relu"))).holds is False  # expansion 1 < 2.1


def test_theorem2_exact_recovery_and_rank_failure():
    t = get_theorem("lei2019.theorem2")
    case = SignalCase(net1([[1, 0], [0, 1], [1, 1], [-1, -1]]), (F(1, 2), F(1, 4)))
    hyp, concl = t.check(case)
    assert hyp.holds and concl.holds and t.run(case) == (F(1, 2), F(1, 4))
    bad = SignalCase(net1([[1, 0], [1, 0], [-1, 0]]), (F(1), F(3)))  # active rows rank 1 < 2
    assert t.hypotheses(bad).holds is False


def test_lemma2_bound_exact_and_holds():
    t = get_theorem("lei2019.lemma2")
    assert t.evaluate_bound({"epsilon": F(1, 64), "c": F(1, 2)}) == sympy.Rational(1, 16)
    case = SignalCase(net1([[1, 0], [0, 1], [1, 1], [1, -1], [2, 1]]), (F(1), F(1, 2)),
                      noise=(2**-8, -2**-8, 0.0, 2**-8, 0.0))
    hyp, concl = t.check(case)
    assert hyp.holds and concl.holds, (hyp, concl)
    zero = SignalCase(net1([[1, 0], [0, 1], [1, 1]]), (F(-1), F(-1)), noise=(0.0, 0.0, 0.0))
    assert t.hypotheses(zero).holds is False  # no active row: c_inf(W_J) = 0


def test_theorem3_and_4_bounds_exact():
    assert get_theorem("lei2019.theorem3").evaluate_bound({"epsilon": F(1, 10), "c": F(1, 3), "d": 2}) == sympy.Rational(18, 5)
    assert get_theorem("lei2019.theorem4").evaluate_bound({"epsilon": F(1, 8), "c": 2, "d": 3}) == sympy.Rational(1, 8)
    t = get_theorem("lei2019.theorem4")
    case = SignalCase(net1([[1, 0], [0, 1], [1, 1], [2, -1], [1, 2]]), (F(1), F(1)), noise=(2**-8, 0.0, 0.0, 0.0, 2**-9))
    hyp, concl = t.check(case)
    assert hyp.holds and concl.holds, (hyp, concl)
    assert "ε" in get_theorem("lei2019.theorem3").pretty_bound()


def test_reductions_printed_false_corrected_true():
    f = FormulaCase(CNF(3, [(1, 2, 3)]))
    printed = get_theorem("lei2019.reduction_two_layer")
    assert printed.check(f)[1].holds is False
    assert get_theorem("lei2019.reduction_two_layer_corrected").check(f)[1].holds is True
    assert get_theorem("lei2019.reduction_four_layer").check(FormulaCase(CNF(2, [(1, -2), (2,)]), ((F(1, 2), F(1)),)))[1].holds
    assert printed.hypotheses(FormulaCase(CNF(2, [(1, 2)]))).holds is False  # not 3-CNF


def test_aberdam_theorem1_holds_and_fails():
    t = get_theorem("aberdam2020.theorem1")
    w0 = [[1, 0], [0, 1], [1, 1], [-1, -1]]
    w1 = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [1, 1, 1, 0], [1, 2, 3, 0]]
    net = Network((Layer(np.array(w0, float), None, "relu"), Layer(np.array(w1, float), None, "identity")))
    case = SignalCase(net, (F(1), F(1)))
    hyp = t.hypotheses(case)
    assert hyp.holds is False  # s_1 = 3, spark(W_1) = 2 (zero column): (i) fails
    assert [c.holds for c in hyp.checks][1] is False
    net2 = Network((Layer(np.array(w0, float), None, "relu"), Layer(np.array(w1, float)[:, :3] @ np.eye(3, 4), None, "identity")))
    assert t.conclusion(case, np.array([1.0, 1.0])).holds


def test_aberdam_theorem2_bound_and_oracle_bound():
    t = get_theorem("aberdam2020.theorem2")
    v = t.evaluate_bound({"epsilon": F(1, 10), "ell": 1, "varphi": 4, "L": 1, "s[1]": 2, "w[1]": 1})
    assert sympy.simplify(v - sympy.Rational(1, 20) * (3 + sympy.sqrt(sympy.Rational(3, 2))) * sympy.sqrt(2)) == 0
    o = get_theorem("aberdam2020.oracle")
    assert o.evaluate_bound({"sigma": F(1, 2), "n_0": 2, "L": 1, "lambda_min[0]": 2, "lambda_min[1]": F(1, 3)}) == sympy.Rational(3, 4)
    net = Network((Layer(np.array([[1., 0], [0, 1], [1, 1]]), None, "relu"), Layer(np.array([[1., 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]), None, "identity")))
    case = OracleCase(net, (F(1), F(1)), F(1, 8))
    hyp, concl = o.check(case)
    assert hyp.holds and concl.holds
    noisy = NoisyCase(net, (F(1), F(1)), F(1, 100))
    assert t.hypotheses(noisy).holds in (True, False)


def test_puthawala_criterion_and_expansivity():
    c, e = get_theorem("puthawala2022.criterion"), get_theorem("puthawala2022.expansivity")
    inj = LayerCase(Layer(np.array([[1., 0], [0, 1], [-1, 0], [0, -1]]), None, "relu"))  # [B; -B]
    assert c.check(inj)[1].holds and e.check(inj)[1].holds
    assert e.evaluate_bound({"d": 3}) == 6
    assert c.hypotheses(LayerCase(Layer(np.eye(2), None, "identity"))).holds is False


def test_falsify_finds_two_layer_counterexample():
    r = falsify("lei2019.reduction_two_layer", budget=20, seed=0)
    assert r.found and r.counterexample.cnf.n_clauses == 1 and r.counterexample.cnf.n_vars == 3


def test_falsify_finds_lemma1_counterexample():
    r = falsify("lei2019.lemma1", budget=30, seed=1)
    assert r.found and r.conclusion.holds is False


@pytest.mark.parametrize("name", ["lei2019.theorem2", "lei2019.lemma2", "puthawala2022.expansivity", "aberdam2020.oracle"])
def test_falsify_none_for_holding_theorems(name):
    assert not falsify(name, budget=15, seed=0).found


@pytest.mark.slow
@pytest.mark.parametrize("name", [t.name for t in all_theorems() if t.instances is not None and t.status != "false as printed"])
def test_falsify_none_heavier(name):
    assert not falsify(name, budget=100, seed=3).found


@pytest.mark.parametrize("spec", ["leaky_relu:0.1", "plu:0.3:0.7"])
def test_layerwise_solve_inverts_the_slope_the_net_computes_with(spec):
    """The float slope 0.1 is a dyadic rational, not 1/10: the exact solve must divide by the former."""
    from theorychk import exact
    from theorychk.theorems.lei2019 import layerwise_solve

    net = Network([Layer(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), None, spec)])
    z = [Fraction(-3), Fraction(1, 2)]
    y = exact.forward([(net.layers[0].weight, net.layers[0].bias, spec)], z)[-1]
    assert layerwise_solve(net, y) == tuple(z)
