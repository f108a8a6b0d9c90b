"""Matrix invariants behind the uniqueness and stability theorems, exact or certifiably bounded.

Every function returns an :class:`~theorychk.invariants.result.InvariantResult`: a lower and
an upper bound, each with the method that produced it and evidence that
:mod:`theorychk.check` re-verifies in exact arithmetic. Definitions and algorithms:
``docs/invariants.md``.
"""

from __future__ import annotations

from theorychk.invariants.result import Bound, InvariantResult
from theorychk.invariants.coherence import babel, coherence
from theorychk.invariants.spark import spark, spark_of_rows
from theorychk.invariants.subrank import rank_of_rows, sub_rank, sub_spark
from theorychk.invariants.cnorm import c_1, c_1_of_rows, c_inf, c_inf_of_rows
from theorychk.invariants.mu_s import coherence_s

__all__ = ["Bound", "InvariantResult"]
__all__ += ["spark", "spark_of_rows", "sub_rank", "sub_spark", "rank_of_rows", "coherence", "babel"]
__all__ += ["c_inf", "c_1", "c_inf_of_rows", "c_1_of_rows", "coherence_s"]
