"""CNF: strict DIMACS (round trips, pinned error messages), generators, SAT solving with checked proofs.

The DRUP checker itself is tested in ``tests/check/test_drup.py`` (it lives in the trusted checker)."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theorychk.errors import InvalidInput
from theorychk.reduction.cnf import (
    CNF,
    check_drup,
    enumerate_models,
    genhard,
    graph_coloring,
    parse_dimacs,
    planted_kcnf,
    random_kcnf,
    read_dimacs,
    solve,
    to_dimacs,
    write_dimacs,
)
from theorychk.testing.strategies import cnfs


def brute_models(cnf: CNF) -> set[tuple[bool, ...]]:
    return {a for a in itertools.product((False, True), repeat=cnf.n_vars) if cnf.satisfied_by(a)}


# --------------------------------------------------------------------------------------------
# DIMACS
# --------------------------------------------------------------------------------------------


@given(cnfs())
@settings(max_examples=60)
def test_dimacs_round_trip(cnf):
    back = parse_dimacs(to_dimacs(cnf))
    assert back == cnf and back.name == cnf.name


def test_dimacs_file_round_trip_keeps_comments(tmp_path):
    cnf = CNF(3, [[1, -2], [3]], name="tiny", comments=("made by hand",))
    back = read_dimacs(write_dimacs(cnf, tmp_path / "tiny.cnf"))
    assert back == cnf and back.name == "tiny" and back.comments == ("made by hand",)


def test_dimacs_accepts_comments_spanning_clauses_and_satlib_end_marker():
    text = "c a comment\np cnf 3 2\n1 -2\n 3 0 -1\n0\n%\n0\n"
    assert parse_dimacs(text).clauses == ((1, -2, 3), (-1,))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("p cnf 3\n1 2 0\n",
         "DIMACS line 1: header must be 'p cnf N_VARS N_CLAUSES' with non-negative integers; got 'p cnf 3'"),
        ("p dnf 3 1\n1 0\n",
         "DIMACS line 1: header must be 'p cnf N_VARS N_CLAUSES' with non-negative integers; got 'p dnf 3 1'"),
        ("p cnf 3 -1\n", "DIMACS line 1: header must be 'p cnf N_VARS N_CLAUSES' with non-negative integers; got 'p cnf 3 -1'"),
        ("p cnf 3 1\n1 2 3\n", "DIMACS line 2: the last clause is not terminated by 0; got '1 2 3'"),
        ("p cnf 3 1\n1 -4 0\n", "DIMACS line 2: literal -4 out of range (the header declares 3 variables); got '1 -4 0'"),
        ("p cnf 3 2\n1 0\n0\n", "DIMACS line 3: empty clause (a 0 with no literals before it); got '0'"),
        ("p cnf 3 2\n1 0\n", "DIMACS: the header declares 2 clauses; got 1"),
        ("p cnf 3 1\n1 0\n2 0\n", "DIMACS: the header declares 1 clauses; got 2"),
        ("1 2 0\n", "DIMACS line 1: clause data before the 'p cnf' header; got '1 2 0'"),
        ("", "DIMACS: no 'p cnf N_VARS N_CLAUSES' header; got 0 lines without one"),
        ("p cnf 3 1\np cnf 3 1\n1 0\n", "DIMACS line 2: a second 'p cnf' header; got 'p cnf 3 1'"),
        ("p cnf 3 1\n1 x 0\n", "DIMACS line 2: expected integer literals; got 'x' in '1 x 0'"),
    ],
)
def test_malformed_dimacs_messages(text, message):
    with pytest.raises(InvalidInput) as exc:
        parse_dimacs(text)
    assert str(exc.value) == message


def test_read_dimacs_names_the_file(tmp_path):
    path = tmp_path / "bad.cnf"
    path.write_text("p cnf 2 1\n1 3 0\n")
    with pytest.raises(InvalidInput, match=r"^DIMACS file bad\.cnf line 2: literal 3 out of range"):
        read_dimacs(path)
    with pytest.raises(InvalidInput, match="DIMACS file not found"):
        read_dimacs(tmp_path / "missing.cnf")


@pytest.mark.parametrize(
    ("clauses", "message"),
    [
        ([[1], []], "clause 1 is empty"),
        ([[1, 0]], "clause 0 has literal 0"),
        ([[1, -3]], "clause 0 has literal -3 out of range for 2 variables"),
        ([[1.0]], "clause 0 must hold integer literals"),
    ],
)
def test_cnf_validates(clauses, message):
    with pytest.raises(InvalidInput, match=message):
        CNF(2, clauses)


# --------------------------------------------------------------------------------------------
# Generators
# --------------------------------------------------------------------------------------------


def test_random_kcnf_is_seeded_uniform_with_distinct_variables():
    a = random_kcnf(10, ratio=4.26, seed=7)
    assert a == random_kcnf(10, n_clauses=43, seed=7)
    assert a == random_kcnf(10, ratio=4.26, seed=np.random.default_rng(7))
    assert a != random_kcnf(10, ratio=4.26, seed=8)
    assert a.n_clauses == 43 and all(len({abs(x) for x in c}) == 3 for c in a.clauses)
    big = random_kcnf(6, n_clauses=3000, seed=0)
    signs = np.array([lit > 0 for c in big.clauses for lit in c])
    counts = np.bincount([abs(lit) for c in big.clauses for lit in c])[1:]
    assert abs(signs.mean() - 0.5) < 0.03 and counts.min() > 0.9 * counts.mean()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_vars": 5, "seed": 0}, "give exactly one of n_clauses and ratio"),
        ({"n_vars": 5, "ratio": 2.0, "n_clauses": 3, "seed": 0}, "give exactly one of n_clauses and ratio"),
        ({"n_vars": 2, "ratio": 2.0, "seed": 0}, r"k must be an integer in 1\.\.n_vars=2"),
        ({"n_vars": 5, "ratio": -1.0, "seed": 0}, "ratio must be a positive number"),
        ({"n_vars": 5, "ratio": 2.0, "seed": -3}, "seed must be a non-negative integer"),
    ],
)
def test_random_kcnf_rejects(kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        random_kcnf(**kwargs)


@given(st.integers(3, 12), st.integers(0, 10**6))
@settings(max_examples=25)
def test_planted_formula_is_satisfied_by_its_hidden_assignment(n, seed):
    cnf, hidden = planted_kcnf(n, ratio=5.0, seed=seed)
    assert cnf.satisfied_by(hidden) and solve(cnf).status == "SAT"


@pytest.mark.parametrize(("family", "size"), [("php", 3), ("gt", 4), ("par", 3), ("cb", 2)])
def test_genhard_families_are_unsatisfiable_with_checked_proofs(family, size):
    cnf = genhard(family, size)
    result = solve(cnf, proof=True)
    assert result.status == "UNSAT"
    assert check_drup(cnf, result.proof).verified


def test_genhard_unknown_family_suggests():
    with pytest.raises(InvalidInput, match="unknown genhard family 'pph'; valid: cb, gt, par, php; did you mean 'php'"):
        genhard("pph", 3)


def test_graph_coloring_known_answers():
    # the only 3-regular graph on 4 vertices is K4: chromatic number 4
    k4_3, graph = graph_coloring(4, degree=3, colors=3, seed=0)
    assert sorted(d for _, d in graph.degree) == [3, 3, 3, 3]
    assert solve(k4_3).status == "UNSAT"
    k4_4, graph = graph_coloring(4, degree=3, colors=4, seed=0)
    model = solve(k4_4).model
    colour = {v: next(c for c in range(4) if model[v * 4 + c]) for v in graph.nodes}
    assert all(colour[u] != colour[v] for u, v in graph.edges)
    with pytest.raises(InvalidInput, match="needs degree < n_vertices and an even"):
        graph_coloring(5, degree=3, colors=3, seed=0)


# --------------------------------------------------------------------------------------------
# Solving, enumeration, proofs
# --------------------------------------------------------------------------------------------


@given(cnfs(max_vars=5))
@settings(max_examples=60)
def test_solve_and_enumerate_agree_with_brute_force(cnf):
    models = brute_models(cnf)
    result = solve(cnf, proof=True)
    assert result.status == ("SAT" if models else "UNSAT")
    if models:
        assert result.model in models
    else:
        assert check_drup(cnf, result.proof).verified
    enum = enumerate_models(cnf)
    assert enum.complete and set(enum.models) == models and len(enum.models) == len(models)


def test_enumeration_expands_variables_the_solver_never_saw():
    enum = enumerate_models(CNF(4, [[1, 2]]))
    assert enum.complete and len(enum.models) == 12
    limited = enumerate_models(CNF(4, [[1, 2]]), limit=5)
    assert not limited.complete and len(limited.models) == 5 and limited.reason == "model limit 5"


def test_time_limit_gives_unknown_not_a_guess(fake_clock):
    # Ten seconds per look at the clock: the 5 s limit has passed when the solver starts, and the
    # watchdog (which reads runtime.clock) interrupts it, however fast the machine is.
    fake_clock.step = 10.0
    hard = genhard("php", 10)
    assert solve(hard, time_limit=5.0).status == "UNKNOWN"
    assert solve(hard, time_limit=5.0, proof=True).reason == "time limit"
    enum = enumerate_models(hard, time_limit=5.0)
    assert not enum.complete and enum.reason == "time limit"
    easy = CNF(2, [[1, 2]])
    fake_clock.step = 0.0  # time stands still: the same calls finish, the watchdog never fires
    assert solve(easy, time_limit=5.0).status == "SAT"
    assert enumerate_models(easy, time_limit=5.0).complete
    with pytest.raises(InvalidInput, match="cannot be interrupted"):
        solve(hard, solver="cadical195", time_limit=0.2)


def test_check_drup_is_reexported_from_the_trusted_checker():
    import theorychk.check.drup as trusted
    import theorychk.reduction.cnf as cnf_module

    assert cnf_module.check_drup is trusted.check_drup and cnf_module.DrupCheck is trusted.DrupCheck


def test_proof_needs_a_solver_whose_proofs_check():
    cnf = CNF(1, [[1], [-1]])
    with pytest.raises(InvalidInput, match="SAT solver 'maplesat' gives no DRUP proof that checks; use one of cadical103"):
        solve(cnf, solver="maplesat", proof=True)
    with pytest.raises(InvalidInput, match="SAT solver 'minisat22' gives no DRUP proof"):
        solve(cnf, solver="minisat22", proof=True)
    assert check_drup(cnf, solve(cnf, solver="cadical195", proof=True).proof).verified
