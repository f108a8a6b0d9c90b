"""The falsify searches of paper 004's Theorem 1, Theorem 2 and Corollary 2: hand-made instances
where the searched-for failure exists or provably does not, and the printed-vs-normalised Layered
Basis-Pursuit counterexamples."""

from fractions import Fraction as F

import numpy as np
import pytest

from theorychk.errors import InvalidInput
from theorychk.network import Layer, Network
from theorychk.solvers.milp import second_preimage
from theorychk.solvers.pursuit import layered_basis_pursuit
from theorychk.theorems import SignalCase, all_theorems, falsify, get_theorem
from theorychk.theorems.aberdam2020 import NoisyCase, sparse_second_solution


def relu_identity(w0, w1) -> Network:
    return Network((Layer(np.array(w0, float), None, "relu"), Layer(np.array(w1, float), None, "identity")))


# ------------------------------------------------------------------------------ Theorem 1


def test_sparse_search_finds_the_mirror_solution_when_the_spark_condition_fails() -> None:
    # G(z) = |z| through two units: x_1 = (1, 0) and (0, 1) are both 1-sparse; spark(W_1) = 2, (i) fails
    case = SignalCase(relu_identity([[1], [-1]], [[1, 1]]), (F(1),))
    thm = get_theorem("aberdam2020.theorem1")
    assert thm.hypotheses(case).holds is False
    found = sparse_second_solution(case)
    assert found.latent == (F(-1),)  # snapped to an exact rational solution
    assert thm.conclusion(case, found).holds is False


def test_sparse_search_respects_the_sparsity_conditions() -> None:
    # c1 = c2 + 2 c3, so z = -1 (x_1 = (0, 1, 2), 2 nonzeros) is a second preimage of z* = 1
    # (x_1 = (1, 0, 0)); it does not meet s_1 = 1, and Theorem 1's hypotheses hold
    c2, c3 = np.array([1.0, 0.0, 2.0]), np.array([0.0, 1.0, 1.0])
    w1 = np.column_stack([c2 + 2 * c3, c2, c3])
    case = SignalCase(relu_identity([[1], [-1], [-2]], w1), (F(1),))
    thm = get_theorem("aberdam2020.theorem1")
    assert thm.hypotheses(case).holds is True
    y = case.net.forward(np.array([1.0]))
    assert second_preimage(case.net, y, [1.0], delta=0.5, latent_box=4.0).latent.round(9).tolist() == [-1.0]
    none = second_preimage(case.net, y, [1.0], delta=0.5, latent_box=4.0, max_active=[1])
    assert none.status.value == "NONE_PROVEN"
    result = sparse_second_solution(case)
    assert result.latent == (F(1),) and thm.conclusion(case, result).holds is True


def test_max_active_input_errors_name_the_argument() -> None:
    net = relu_identity([[1], [-1]], [[1, 1]])
    with pytest.raises(InvalidInput, match=r"max_active must list one bound per hidden layer \(1\); got \[1, 2\]"):
        second_preimage(net, [1.0], [1.0], delta=0.5, latent_box=2.0, max_active=[1, 2])
    with pytest.raises(InvalidInput, match=r"max_active\[0\] must be an int in \[0, inf\); got -1"):
        second_preimage(net, [1.0], [1.0], delta=0.5, latent_box=2.0, max_active=[-1])


# ------------------------------------------------------------------ Theorem 2 / Corollary 2


def shrinkage_case() -> NoisyCase:
    """W_1 = I/10 (orthogonal, mu = 0), z = 4, e = 0, eps = 1/100: the printed Lasso shrinks x_1 by 2."""
    return NoisyCase(relu_identity([[1], [-1]], 0.1 * np.eye(2)), (F(4),), F(1, 100))


def test_printed_layered_bp_exceeds_bound_7_and_the_normalised_one_meets_it() -> None:
    case = shrinkage_case()
    printed = layered_basis_pursuit(case.net, case.signal, noise=0.01, sparsity=[1])
    normalised = layered_basis_pursuit(case.net, case.signal, noise=0.01, sparsity=[1], normalize=True)
    assert printed.latent[0].tolist() == pytest.approx([2.0])  # soft threshold 2 eps / d^2 = 2
    assert normalised.latent[0].tolist() == pytest.approx([3.8])  # threshold 2 eps / d = 0.2
    t, tn = get_theorem("aberdam2020.theorem2"), get_theorem("aberdam2020.theorem2_normalized")
    hyp, concl = t.check(case)
    assert hyp.holds is True and concl.holds is False
    bound = concl.checks[-1].values["bound_float"]
    assert 0.42 < bound < 0.43 and concl.checks[-1].values["error"] == pytest.approx(2.0)
    hyp, concl = tn.check(case)
    assert hyp.holds is True and concl.holds is True


def frame_case() -> NoisyCase:
    """Corollary 2's counterexample: W_1 = [e_1 | 100 (0.3 e_1 + 0.954 u_k)], u_k a regular simplex
    in R^3: mu = 0.3 < 1/3, x_1 = 2 e_1 (s_1 = 1) and basis pursuit prefers the long columns."""
    u = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / np.sqrt(3)
    w1 = np.zeros((4, 5))
    w1[0, 0] = 1.0
    w1[0, 1:] = 30.0
    w1[1:, 1:] = 100 * np.sqrt(1 - 0.09) * u.T
    return NoisyCase(relu_identity([[1], [-1], [-1], [-1], [-1]], w1), (F(2),), F(0))


def test_printed_corollary2_fails_on_an_underdetermined_frame_with_unequal_norms() -> None:
    case = frame_case()
    t, tn = get_theorem("aberdam2020.corollary2"), get_theorem("aberdam2020.corollary2_normalized")
    hyp, concl = t.check(case)
    mu2 = hyp.checks[1].values["mu_squared"]
    assert hyp.holds is True and float(mu2) == pytest.approx(0.09)
    assert concl.holds is False and concl.checks[0].values == {"recovered": [4], "true": [1]}
    hyp, concl = tn.check(case)
    assert hyp.holds is True and concl.holds is True


def test_lbp_rejects_a_non_boolean_normalize() -> None:
    from theorychk.solvers import invert

    case = shrinkage_case()
    with pytest.raises(InvalidInput, match="normalize"):
        invert(case.net, case.signal, method="lbp", normalize="yes")


# ---------------------------------------------------------------------------------- falsify


@pytest.mark.slow  # the search finds it within 40 examples, then Hypothesis shrinks it (~40 s)
def test_falsify_finds_the_printed_theorem2_counterexample() -> None:
    found = falsify("aberdam2020.theorem2", budget=40, seed=0)
    assert found.found and found.hypotheses.holds is True and found.conclusion.holds is False


def test_falsify_none_for_the_normalised_theorem2() -> None:
    none = falsify("aberdam2020.theorem2_normalized", budget=20, seed=0)
    assert not none.found and none.hypotheses_held > 0
    assert f"hypotheses held in {none.hypotheses_held} of the {none.examples} tried" in str(none)


@pytest.mark.parametrize("name", [t.name for t in all_theorems() if t.instances is not None])
def test_every_search_draws_instances_that_meet_the_hypotheses(name: str) -> None:
    from hypothesis import HealthCheck, given, settings

    thm = get_theorem(name)
    held = []

    @settings(max_examples=30, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(thm.instances())
    def probe(case) -> None:
        held.append(thm.hypotheses(case).holds is True)

    probe()
    assert sum(held) > 0, f"{name}: no drawn instance meets the hypotheses, so falsify would prove nothing"
