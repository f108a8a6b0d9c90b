"""NP-hardness instances: CNF formulas → ReLU networks whose inversion decides satisfiability.

* :mod:`~theorychk.reduction.cnf` — the :class:`CNF` type, strict DIMACS, generators, PySAT.
* :mod:`~theorychk.reduction.constructions` — the reductions (registry :data:`CONSTRUCTIONS`).
* :mod:`~theorychk.reduction.flaws` — exact counterexamples to the flawed constructions.
* :mod:`~theorychk.reduction.verify` — PySAT + exact arithmetic + MILP verification reports.
* :mod:`~theorychk.reduction.export` — ONNX, VNN-LIB 1.0 (writer and reader), DIMACS, ``.npz``.
* :mod:`~theorychk.reduction.geometry` — non-convex preimages (Example 1 of paper 001).
* :mod:`~theorychk.reduction.corpus` — the ``reductions/`` corpus.
* :mod:`~theorychk.reduction.families` — formula families with known hardness.
* :mod:`~theorychk.reduction.benchmark` — hardness benchmarks with certified ground truth.

Theory, proofs and the errata of the printed construction: ``docs/reductions.md``.
"""

from theorychk.reduction.cnf import CNF, parse_dimacs, read_dimacs, solve, to_dimacs, write_dimacs
from theorychk.reduction.constructions import CONSTRUCTIONS, Instance, construct, get_construction

__all__ = [
    "CNF",
    "parse_dimacs",
    "read_dimacs",
    "to_dimacs",
    "write_dimacs",
    "solve",
    "CONSTRUCTIONS",
    "Instance",
    "construct",
    "get_construction",
]

