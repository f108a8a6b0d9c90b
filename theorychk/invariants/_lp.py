"""Reading HiGHS's floats back exactly, for the norm-constant LPs and MILPs. Untrusted.

The models themselves are built, solved and read back by the one HiGHS builder,
:mod:`theorychk._highs` (its ``Model``, ``Solved`` and ``LP_TOLERANCES`` lived here). Nothing here
is a claim: :mod:`theorychk.invariants.cnorm` turns what HiGHS proposes into exact rational bounds
or reports it as float evidence with status UNKNOWN.
"""

from __future__ import annotations

import numpy as np

from theorychk.errors import SolverError

__all__ = ["float_ints"]


def float_ints(v: np.ndarray) -> tuple[list[int], int]:
    """Exact integers ``z`` and a shift with ``v == z * 2**shift`` (``v`` finite floats)."""
    v = np.asarray(v, dtype=np.float64)
    if not np.all(np.isfinite(v)):
        raise SolverError("HiGHS returned a non-finite value")
    mant, expo = np.frexp(v)
    ints = (mant * 2.0**53).astype(np.int64)
    expo = expo.astype(np.int64) - 53
    nz = ints != 0
    if not nz.any():
        return [0] * len(v), 0
    shift = int(expo[nz].min())
    return [int(z) << int(e - shift) if z else 0 for z, e in zip(ints.tolist(), expo.tolist())], shift
