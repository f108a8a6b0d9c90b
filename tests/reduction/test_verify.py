"""Verification reports: the checks, the MILP-proven ½ gap, sampled mode, time limits, refutations."""

import dataclasses
import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, example, given, settings

from theorychk.errors import InvalidInput
from theorychk.network import Layer, Network
from theorychk.reduction.cnf import CNF, random_kcnf, solve
from theorychk.reduction.constructions import CONSTRUCTIONS, bias_free, construct, four_layer, katz
from theorychk.reduction.verify import integer_forward, run_milp, verify
from theorychk.solvers import invert
from theorychk.solvers.milp import ENGINE
from theorychk.testing.strategies import cnfs
from theorychk.verdict import Status

REAL = ["four-layer", "bias-free", "one-hidden", "katz"]


@given(cnfs(max_vars=5, max_clauses=24, max_width=2))
@example(CNF(2, [[1, 2], [-1, 2], [1, -2], [-1, -2]]))
@settings(max_examples=20)
def test_milp_proves_the_gap_on_unsatisfiable_formulas(cnf):
    """UNSAT ⇒ min ‖G(z) − x‖_∞ ≥ ½ over the real box (1 for katz), MILP-proven, all real-latent constructions."""
    assume(solve(cnf).status == "UNSAT")
    for name in REAL:
        inst = construct(cnf, name)
        res = run_milp(inst, time_limit=30)
        assert res.bound >= float(inst.gap_linf) - 1e-4, (name, res)
        assert res.objective >= float(inst.gap_linf) - 1e-4


def test_report_for_a_satisfiable_instance():
    cnf = random_kcnf(8, ratio=3.0, seed=4)
    assert solve(cnf).status == "SAT"
    report = verify(four_layer(cnf))
    assert report.status is Status.CERTIFIED and report.exhaustive
    assert [c.name for c in report.checks] == ["models", "boolean-preimages", "milp-preimage"]
    milp = report.check("milp-preimage")
    assert milp.details["pysat_confirms"] and milp.details["decoded_latent_is_exact_preimage"]
    assert milp.details["engine"] == ENGINE == report.settings["engine"]
    json.dumps(report.to_dict())


def test_report_for_an_unsatisfiable_instance_keeps_the_proof(tmp_path):
    cnf = random_kcnf(8, ratio=6.0, seed=0)
    report = verify(katz(cnf), proof_dir=tmp_path, milp_gap=True)
    assert report.sat.status == "UNSAT" and report.status is Status.CERTIFIED
    assert report.check("construction").status is Status.CERTIFIED
    gap = report.check("milp-gap")
    assert gap.method.startswith("MILP-proven") and gap.details["bound"] >= 1 - 1e-4
    assert gap.details["engine"] == ENGINE  # the box [0,1]^n, through the solvers' one encoder
    assert report.check("drup-proof").status is Status.CERTIFIED
    proof = (tmp_path / f"{cnf.name}.drup").read_text().splitlines()
    assert report.proof_path and proof == list(report.sat.proof)


def test_binary_construction_uses_a_binary_latent_milp():
    cnf = CNF(3, [[1, 2, 3], [-1, -2, -3], [1, -2, 3], [-1, 2, -3], [1, 2, -3], [-1, -2, 3], [1, -2, -3], [-1, 2, 3]])
    report = verify(construct(cnf, "binary"), milp_gap=True)
    gap = report.check("milp-gap")
    assert report.status is Status.CERTIFIED and gap.details["bound"] >= 1 - 1e-4


def test_sampled_beyond_the_exhaustive_limit_and_says_so():
    cnf = random_kcnf(14, ratio=3.0, seed=2)
    report = verify(one_hidden_or(cnf), exhaustive_max_vars=10, samples=200, milp=False)
    check = report.check("boolean-preimages")
    assert not report.exhaustive and check.method.startswith("sampled: 200 random assignments of 2^14")
    assert "not exhaustive" in check.message and check.status is Status.CERTIFIED


def one_hidden_or(cnf):
    return construct(cnf, "one-hidden")


def test_time_limit_turns_parts_unknown_never_refuted(fake_clock):
    cnf = random_kcnf(20, ratio=4.26, seed=0)  # UNSAT; the MILP cross-check of the gap needs seconds
    fake_clock.step = 1.0  # a second per look at the clock: out of time once the SAT side is done
    report = verify(four_layer(cnf), time_limit=5, milp_gap=True)
    assert report.status is Status.UNKNOWN
    assert all(c.status is not Status.REFUTED for c in report.checks)
    gap = report.check("milp-gap")
    assert gap.status is Status.UNKNOWN and gap.message == "time limit before the MILP ran"
    assert report.check("drup-proof").status is Status.CERTIFIED  # checked before the MILP's turn


def test_a_wrong_target_is_refuted_with_the_model():
    inst = four_layer(CNF(2, [[1, 2], [-1, 2]]))
    broken = dataclasses.replace(inst, target=(Fraction(1), Fraction(0)))
    report = verify(broken, milp=False)
    assert report.status is Status.REFUTED
    assert report.check("models").message.startswith("model (")
    assert "!= target (1, 0)" in report.check("models").message


def test_run_milp_agrees_with_the_milp_inversion_method_on_a_symmetric_box():
    cnf = random_kcnf(5, ratio=4.26, seed=3)
    inst = bias_free(cnf)
    a = run_milp(inst, time_limit=30)
    b = invert(inst.network, np.array([float(t) for t in inst.target]), method="milp",
               latent_box=float(inst.latent_radius), time_limit=30)
    assert abs(a.objective - b.info["objective"]) < 1e-6 and abs(a.bound - b.info["bound"]) < 1e-6


def test_integer_forward_refuses_what_it_cannot_do_exactly():
    net = Network((Layer(np.array([[0.5]]), None, "relu"),))
    with pytest.raises(InvalidInput, match="needs integer weights; layer 0"):
        integer_forward(net, np.array([[1]]))
    big = Network((Layer(np.array([[2.0**40]]), None, "relu"), Layer(np.array([[2.0**40]]), None, "relu")))
    with pytest.raises(InvalidInput, match="could exceed 2\\^62"):
        integer_forward(big, np.array([[1]]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"exhaustive_max_vars": 25}, "exhaustive_max_vars must be <= 20"),
        ({"samples": 0}, "samples must be an integer >= 1"),
        ({"gap_tol": 0.3}, r"gap_tol must be in \[0, 0.25\)"),
        ({"time_limit": -1}, "time_limit must be a positive number"),
    ],
)
def test_verify_rejects_bad_settings(kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        verify(four_layer(CNF(1, [[1]])), **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n, c in CONSTRUCTIONS.items() if not c.flawed])
def test_every_construction_verifies_at_n20(name):
    for seed in (0, 2):  # seed 0: UNSAT, seed 2: SAT
        report = verify(construct(random_kcnf(20, ratio=4.26, seed=seed), name), time_limit=300)
        assert report.status is Status.CERTIFIED, [c.message for c in report.checks]
        assert not report.exhaustive


def test_gap_check_refutes_only_with_a_witness(monkeypatch):
    from theorychk.reduction import verify as verify_module
    from theorychk.solvers.milp import MilpResult

    cnf = CNF(2, [[1, 2], [-1, 2], [1, -2], [-1, -2]])
    inst = four_layer(cnf)
    # an overclaimed gap is refuted by the MILP's own latent, whose residual is recomputed exactly
    report = verify(dataclasses.replace(inst, gap_linf=Fraction(2)), milp_gap=True)
    gap = report.check("milp-gap")
    assert gap.status is Status.REFUTED and "exact residual" in gap.message and "< the claimed gap 2" in gap.message
    # a weak bound without a witness is UNKNOWN, never REFUTED
    weak = MilpResult("optimal", None, float("inf"), 0.3, 1, 0, 0.0)
    monkeypatch.setattr(verify_module, "run_milp", lambda *a, **k: weak)
    gap = verify(inst, milp_gap=True).check("milp-gap")
    assert gap.status is Status.UNKNOWN and gap.message.startswith("bound gap (optimal): the MILP's bound reached 0.3")


def test_unsat_side_needs_no_milp_but_the_exact_construction_check(monkeypatch):
    """UNSAT = DRUP proof + 'the network is construction(formula)' (its theorem gives the gap)."""
    cnf = random_kcnf(10, ratio=6.0, seed=1)
    inst = four_layer(cnf)

    def no_milp(*args, **kwargs):
        raise AssertionError("the UNSAT side must not run the MILP")

    from theorychk.reduction import verify as verify_module

    monkeypatch.setattr(verify_module, "run_milp", no_milp)
    report = verify(inst)
    assert report.sat.status == "UNSAT" and report.status is Status.CERTIFIED
    assert [c.name for c in report.checks] == ["models", "boolean-preimages", "construction", "drup-proof"]
    assert report.check("construction").details["gap_linf"] == Fraction(1, 2)
    # a network that is not the construction's gets no theorem: REFUTED, whatever the proof says
    layers = list(inst.network.layers)
    layers[2] = dataclasses.replace(layers[2], bias=layers[2].bias + 1)
    tampered = dataclasses.replace(inst, network=dataclasses.replace(inst.network, layers=tuple(layers)))
    check = verify(tampered).check("construction")
    assert check.status is Status.REFUTED and "its theorem does not apply" in check.message


# --------------------------------------------------------------------------------------------
# The DRUP proof decides CERTIFIED or UNKNOWN, never REFUTED (issue 13, item 4)
# --------------------------------------------------------------------------------------------


def test_glucose_proof_that_deletes_a_level0_reason_certifies_the_unsat_instance():
    # n = 50 at the threshold: the old checker rejected this proof and the report said REFUTED
    report = verify(four_layer(random_kcnf(50, ratio=4.26, seed=3)), milp=False, samples=50)
    proof = report.check("drup-proof")
    assert report.sat.status == "UNSAT" and proof.status is Status.CERTIFIED, proof.message
    assert proof.details["ignored_deletions"] >= 1 and report.status is Status.CERTIFIED


def _with_proof(monkeypatch, proof):
    """Make the verifier's SAT call return ``proof`` with its (correct) UNSAT answer."""
    import theorychk.reduction.verify as verify_module

    real = verify_module.solve

    def solve_with(cnf, **kwargs):
        result = real(cnf, **kwargs)
        return dataclasses.replace(result, proof=tuple(proof)) if result.status == "UNSAT" else result

    monkeypatch.setattr(verify_module, "solve", solve_with)


SQUARE = CNF(2, [[1, 2], [-1, 2], [1, -2], [-1, -2]])


@pytest.mark.parametrize(
    ("proof", "message"),
    [
        (["1 2 0"], "proof not verified: the proof never derives the empty clause (1 lemmas, 0 deletions"),
        (["3 0", "0"], "proof not verified: lemma 1 (proof line 1) '3 0' is not RUP"),
        (["2 x 0"], "proof not verified: proof line 1 is malformed: '2 x 0'"),
    ],
)
def test_a_proof_that_fails_to_check_gives_unknown_not_refuted(monkeypatch, proof, message):
    _with_proof(monkeypatch, proof)
    report = verify(four_layer(SQUARE), milp=False)
    check = report.check("drup-proof")
    assert check.status is Status.UNKNOWN and check.message.startswith(message), check.message
    assert check.details["outcome"] == "REJECTED"
    assert report.status is Status.UNKNOWN and all(c.status is not Status.REFUTED for c in report.checks)


def test_reduce_verify_with_a_proof_that_fails_to_check_exits_1_with_unknown(monkeypatch, capsys, tmp_path):
    """UNKNOWN, never REFUTED; and exit 1, as for every unfinished verification (reduce --help)."""
    from theorychk.cli import main

    _with_proof(monkeypatch, ["1 2 0"])
    (tmp_path / "square.cnf").write_text("p cnf 2 4\n1 2 0\n-1 2 0\n1 -2 0\n-1 -2 0\n")
    assert main(["reduce", "--cnf", str(tmp_path / "square.cnf"), "--verify", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["verification"]["sat"]["status"] == "UNSAT" and data["verification"]["status"] == "UNKNOWN"
    proof = next(c for c in data["verification"]["checks"] if c["name"] == "drup-proof")
    assert proof["status"] == "UNKNOWN" and proof["message"].startswith("proof not verified:")
