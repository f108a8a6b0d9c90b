"""The enumeration engine (theorychk.invariants._flats): extending the children of one column
from many parent groups at once reads exactly as extending them one parent group at a time.

A batch of one source (``_BATCH_ENTRIES = 1``) is the engine's one-group-at-a-time order; every
batched run must find the same sets, count the same nodes (up to where a visit stops) and report
the same per-rank counts. The values themselves are judged against brute force in
test_spark.py / test_subrank.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from flint import fmpz_mat

from theorychk.invariants import _flats
from theorychk.runtime import Deadline


def _matrices():
    rng = np.random.default_rng(5)
    for m, n in [(5, 12), (6, 14), (7, 13), (4, 11)]:
        for planted in (0, 1, 2):
            a = rng.integers(-2, 3, size=(m, n))
            for k in range(planted):  # a small circuit somewhere in the middle of the order
                j = rng.choice(n, size=3, replace=False)
                a[:, j[0]] = a[:, j[1]] - a[:, j[2]]
            yield a


def _scans(a: np.ndarray):
    z = fmpz_mat(a.tolist())
    p = _flats.PRIMES[0]
    g0 = _flats.reduce_mod_p(z, p)
    ex = _flats.ExactColumns(z)
    n = a.shape[1]
    circuit = _flats.min_dependent(g0, p, max_size=g0.shape[0] + 1, deadline=Deadline(None),
                                   verify=lambda cols: ex.rank(cols) < len(cols))
    # flats of the columns: "first" to a target met mid-level (a planted circuit: 3 columns in
    # a rank-2 flat) or never, "max" of hyperplanes

    def verify(cols, counts):
        members = _flats.closure_mod_p(g0, cols, p)
        return ex.rank(members) == len(cols) and len(members) >= counts[0]

    rank = g0.shape[0]
    first = [_flats.flat_scan(g0, [1] * n, p, max_level=rank, target=target, mode="first", verify=verify,
                              deadline=Deadline(None)) for target in (3, 4, n + 1)]
    top = _flats.flat_scan(g0, [1] * n, p, max_level=rank - 1, target=0, mode="max", verify=verify,
                           deadline=Deadline(None))
    return circuit, first, top, n


@pytest.mark.parametrize("a", list(_matrices()), ids=lambda a: f"{a.shape[0]}x{a.shape[1]}")
def test_batched_extension_reads_as_one_parent_group_at_a_time(a, monkeypatch):
    batched = _scans(a)
    monkeypatch.setattr(_flats, "_BATCH_ENTRIES", 1)  # every source alone
    one_by_one = _scans(a)
    assert batched == one_by_one


def test_residues_by_floor_division_are_the_residues():
    # every value the elimination step reduces: piv * x - y * z with residues in [0, p)
    p = _flats.PRIMES[0]
    rng = np.random.default_rng(0)
    a, b, c, d = (rng.integers(0, p, size=10_000) for _ in range(4))
    edge = np.array([0, 1, p - 1, p], dtype=np.int64)
    x = np.concatenate([a * b - c * d, (p - 1) * (p - 1) - edge, edge - (p - 1) * (p - 1), edge, -edge])
    got = x.copy()
    _flats._mod(got, p, np.empty_like(got))
    assert got.tolist() == [int(v) % p for v in x.tolist()]
