"""CNF strategies for the reduction tests: the public ones of :mod:`theorychk.testing.strategies`."""

from __future__ import annotations

from functools import partial

from theorychk.testing.strategies import cnfs

cnf_formulas = cnfs
#: 3-CNF with three distinct variables per clause (the printed construction's input).
three_cnf = partial(cnfs, min_vars=3, max_vars=6, max_clauses=30, distinct=True)
