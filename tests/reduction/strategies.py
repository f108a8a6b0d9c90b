"""Hypothesis strategies for small CNF formulas (exhaustive brute force stays cheap: n <= 6)."""

from __future__ import annotations

from hypothesis import strategies as st

from theorychk.reduction.cnf import CNF


@st.composite
def cnf_formulas(draw, *, min_vars: int = 1, max_vars: int = 6, max_clauses: int = 24,
                 max_width: int = 3, distinct: bool = False) -> CNF:
    """A formula over ``min_vars..max_vars`` variables with 1..``max_clauses`` clauses of width
    1..``max_width`` (repeated and complementary literals allowed unless ``distinct``)."""
    n = draw(st.integers(min_vars, max_vars))
    width = min(max_width, n) if distinct else max_width
    literal = st.integers(1, n).flatmap(lambda v: st.sampled_from((v, -v)))
    if distinct:
        clause = st.lists(st.integers(1, n), min_size=width, max_size=width, unique=True).flatmap(
            lambda vs: st.tuples(*(st.sampled_from((v, -v)) for v in vs)))
    else:
        clause = st.lists(literal, min_size=1, max_size=width).map(tuple)
    clauses = draw(st.lists(clause, min_size=1, max_size=max_clauses))
    return CNF(n, tuple(clauses), name=f"hyp-n{n}-m{len(clauses)}")


@st.composite
def three_cnf(draw, *, min_vars: int = 3, max_vars: int = 6, max_clauses: int = 30) -> CNF:
    """3-CNF with three distinct variables per clause (the printed construction's input)."""
    return draw(cnf_formulas(min_vars=min_vars, max_vars=max_vars, max_clauses=max_clauses, distinct=True))
