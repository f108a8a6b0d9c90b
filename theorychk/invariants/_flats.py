"""Enumeration of independent column sets modulo a prime, vectorised across the search tree.

The engine behind the exact spark (smallest dependent column set), the sub-rank (most rows in a
flat of given rank) and the kernel-hyperplane duality for spark (``shared/notes/invariants.md``,
"Spark by duality", "Sub-rank = flats"; paper 004, Definitions 1-2).

Why breadth-first and vectorised
--------------------------------
A depth-first search that extends an echelon form by one column per node does O(rank * n)
arithmetic per node, but in Python the interpreter overhead per node (microseconds) dominates:
proving that a 12 x 24 matrix has full spark visits ~7 million nodes. Here all nodes of one level
that share their last column form one *group*, stored as a 3-D array and extended by one column
with a handful of numpy operations; the cost per node is a few array entries.

State of a node
---------------
A node is a set ``T`` of columns, sorted, independent modulo ``p`` (kept as a bitmask). Its state
``G`` holds the columns after ``max(T)`` reduced modulo ``span(T)`` (the contraction of ``T`` in
the column matroid), expressed in ``rank - |T|`` coordinates. Column ``c`` is zero in ``G`` iff
``c`` lies in ``span(T)``. Adding a column is one step of fraction-free Gaussian elimination:
``row <- piv * row - row[c] * pivot_row`` for every row, then the pivot row is dropped. These are
invertible row operations, so the column matroid is preserved and no modular inverse is needed.

Soundness modulo p
------------------
Every set independent mod ``p`` is independent over Q (a nonzero minor mod ``p`` is a nonzero
integer) and every set dependent over Q is dependent mod ``p``. Hence a *negative* answer of the
mod-p search is proven over Q: "no dependent set of size <= k" and "no flat of rank <= j holds
>= t rows" (every Q-flat lies in a mod-p flat of no larger rank). A *positive* answer is only a
candidate: the caller verifies it exactly through the ``verify`` callback. A candidate that fails
(probability about ``#tests / p``, ~1e-9 per test with 31-bit primes) raises :class:`SpuriousModP`
at the end of its level and the caller restarts with the next prime of :data:`PRIMES`.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import flint
import numpy as np

from theorychk.errors import Reason, TimeLimitReached
from theorychk.exact import rank as exact_rank
from theorychk.runtime import Deadline

__all__ = [
    "PRIMES",
    "SpuriousModP",
    "TimeUp",
    "SizeLimit",
    "ExactColumns",
    "reduce_mod_p",
    "mask_to_cols",
    "min_dependent",
    "flat_scan",
    "closure_mod_p",
    "enumeration_cost",
    "merge_parallel",
]

#: The largest primes below sqrt(2**63): ``piv * x - y * z`` of residues stays inside int64.
PRIMES: tuple[int, ...] = (3037000493, 3037000453, 3037000429, 3037000427, 3037000399, 3037000391)

#: Stored entries of one level beyond which the search stops with "size limit" (~2 GB of int64).
MAX_LEVEL_ENTRIES = 250_000_000


class SpuriousModP(Exception):
    """A mod-p candidate failed its exact check; the caller restarts with another prime.

    ``proven`` is what the search had established before the failure (e.g. the smallest size
    that may still be dependent), so the restart can start from it.
    """

    def __init__(self, proven: int) -> None:
        super().__init__(f"mod-p candidate failed exact verification (proven up to {proven})")
        self.proven = proven


#: Prime of the pivot choice in :meth:`ExactColumns.circuit_in` (any prime; a bad one is caught
#: by the exact check).
_PIVOT_PRIME = 4611686018427387847


class TimeUp(TimeLimitReached):
    """The deadline passed; ``proven`` is as in :class:`SpuriousModP`."""

    def __init__(self, proven: int) -> None:
        super().__init__()
        self.proven = proven


class SizeLimit(Exception):
    """A level would not fit in memory; ``proven`` is as in :class:`SpuriousModP`."""

    def __init__(self, proven: int, entries: int) -> None:
        super().__init__(f"{Reason.SIZE_LIMIT}: a search level needs more than {entries} stored residues")
        self.proven = proven


# --------------------------------------------------------------------------------------------
# exact side


class ExactColumns:
    """The columns of an integer matrix, for exact checks of candidate column sets (flint)."""

    def __init__(self, z: flint.fmpz_mat) -> None:
        self.z = z
        self.m, self.n = int(z.nrows()), int(z.ncols())
        self._obj = np.array(z.tolist(), dtype=object).reshape(self.m, self.n)

    def sub(self, cols: Sequence[int]) -> flint.fmpz_mat:
        cols = list(cols)
        if self.m == 0 or not cols:
            return flint.fmpz_mat(self.m, len(cols))
        return flint.fmpz_mat(self._obj[:, cols].tolist())

    def rank(self, cols: Sequence[int]) -> int:
        if self.m == 0 or not cols:
            return 0
        return exact_rank(self.sub(cols))  # mod p first: full rank mod p is full rank over Q

    def column(self, j: int) -> list[int]:
        return [int(x) for x in self._obj[:, j]]

    def nullspace(self, cols: Sequence[int]) -> list[list[int]]:
        """An integer basis of the kernel of the submatrix, one list per vector."""
        cols = list(cols)
        if self.m == 0:
            return [[int(i == j) for i in range(len(cols))] for j in range(len(cols))]
        basis, nullity = self.sub(cols).nullspace()
        return [[int(basis[i, j]) for i in range(len(cols))] for j in range(int(nullity))]

    def circuit_in(self, cols: Sequence[int]) -> tuple[tuple[int, ...], tuple[Fraction, ...]] | None:
        """A circuit inside a dependent column set, with its null vector; ``None`` if independent.

        While the kernel has dimension > 1 a column on which some kernel vector is nonzero is
        dropped (the kernel loses exactly one dimension); with a 1-dimensional kernel the support
        of its generator is a circuit (a smaller dependent subset would give a second vector).
        """
        cols = sorted(cols)
        fast = self._circuit_by_pivots(cols)
        if fast is not None:
            return fast
        basis = self.nullspace(cols)
        while len(basis) > 1:
            drop = next(i for i in range(len(cols)) if any(v[i] for v in basis))
            cols = cols[:drop] + cols[drop + 1 :]
            basis = self.nullspace(cols)
        if not basis:
            return None
        v = basis[0]
        g = math.gcd(*v)
        first = next(x for x in v if x)
        g = g if first > 0 else -g
        support = tuple(c for c, x in zip(cols, v) if x)
        return support, tuple(Fraction(x // g) for x in v if x)

    def _circuit_by_pivots(self, cols: list[int]) -> tuple[tuple[int, ...], tuple[Fraction, ...]] | None:
        """A circuit from one exact square solve instead of a chain of exact nullspaces.

        Columns ``B`` independent mod ``p`` are independent over Q; with one more column ``c``
        the kernel of ``B + {c}`` is at most a line, and its generator (``W_B x = -w_c`` solved on
        rows independent mod ``p``, then checked on every row) has a circuit as support. Minutes
        of fraction-free nullspaces on a 392 x 500 matrix become one Dixon solve (issue 14).
        ``None`` when the prime is unlucky (the exact check fails) or the columns are independent.
        """
        if self.m == 0 or not cols:
            return None
        sub = self.sub(cols)
        red, rk = flint.nmod_mat(sub, _PIVOT_PRIME).rref()
        rk = int(rk)
        if rk == len(cols):
            return None
        piv = [next(j for j in range(len(cols)) if int(red[i, j])) for i in range(rk)]
        extra = next(j for j in range(len(cols)) if j not in set(piv))
        b_cols = [cols[j] for j in piv]
        b = self._obj[:, b_cols]
        red_t, _ = flint.nmod_mat(flint.fmpz_mat(b.T.tolist()), _PIVOT_PRIME).rref() if rk else (None, 0)
        rows = [next(j for j in range(self.m) if int(red_t[i, j])) for i in range(rk)]
        if rk:
            x = flint.fmpz_mat(b[rows, :].tolist()).solve(flint.fmpz_mat((-self._obj[rows][:, [cols[extra]]]).tolist()))
            vals = [Fraction(int(x[i, 0].p), int(x[i, 0].q)) for i in range(rk)]
        else:
            vals = []
        vec = dict(zip(b_cols, vals)) | {cols[extra]: Fraction(1)}
        support = sorted(c for c, v in vec.items() if v)
        values = [vec[c] for c in support]
        if not self.verify_null(support, values):
            return None
        den = math.lcm(*(v.denominator for v in values))
        ints = [int(v * den) for v in values]
        g = math.gcd(*ints)
        g = g if ints[0] > 0 else -g
        return tuple(support), tuple(Fraction(v // g) for v in ints)

    def verify_null(self, cols: Sequence[int], values: Sequence[Fraction]) -> bool:
        """Exact check that ``sum_j values[j] * column[cols[j]] == 0`` with a nonzero vector."""
        if not any(values):
            return False
        if self.m == 0:
            return True
        den = math.lcm(*(Fraction(v).denominator for v in values))
        col = flint.fmpz_mat([[int(Fraction(v) * den)] for v in values])
        return (self.sub(cols) * col).is_zero()


def merge_parallel(vectors: Sequence[Sequence[int]], deadline: Deadline | None = None
                   ) -> tuple[list[int], list[list[int]], list[list[int]]]:
    """Group integer vectors by the line they span.

    Returns ``(zero, classes, reps)``: the indices of zero vectors, the index lists of each class
    of parallel nonzero vectors (in order of first appearance) and one primitive representative
    per class (sign normalised so the first nonzero entry is positive). With a ``deadline``,
    raises :class:`TimeUp` (nothing proven) once it has passed.
    """
    zero: list[int] = []
    keyed: dict[tuple[int, ...], int] = {}
    classes: list[list[int]] = []
    reps: list[list[int]] = []
    for idx, vec in enumerate(vectors):
        if deadline is not None and idx % 64 == 0 and deadline.expired():
            raise TimeUp(0)  # seconds on 1,284 vectors of 500 big integers (sub-spark of 784 x 500)
        v = [int(x) for x in vec]
        g = math.gcd(*v) if v else 0
        if g == 0:
            zero.append(idx)
            continue
        first = next(x for x in v if x)
        g = g if first > 0 else -g
        key = tuple(x // g for x in v)
        if key in keyed:
            classes[keyed[key]].append(idx)
        else:
            keyed[key] = len(classes)
            classes.append([idx])
            reps.append(list(key))
    return zero, classes, reps


# --------------------------------------------------------------------------------------------
# modular side


def reduce_mod_p(z: flint.fmpz_mat, p: int) -> np.ndarray:
    """A row basis of ``z`` modulo ``p`` (reduced echelon form, zero rows dropped) as int64."""
    rows, cols = int(z.nrows()), int(z.ncols())
    if rows == 0 or cols == 0:
        return np.zeros((0, cols), dtype=np.int64)
    red, rk = flint.nmod_mat(z, p).rref()
    vals = np.array([int(x) for x in red.entries()], dtype=np.int64).reshape(rows, cols)
    return vals[: int(rk)].copy()


def mask_to_cols(mask: np.ndarray) -> tuple[int, ...]:
    """The column indices of one node's bitmask (a row of uint64 words)."""
    out = []
    for w, word in enumerate(mask.tolist()):
        word = int(word)
        while word:
            low = word & -word
            out.append(64 * w + low.bit_length() - 1)
            word ^= low
    return tuple(out)


def closure_mod_p(g0: np.ndarray, cols: Iterable[int], p: int) -> list[int]:
    """All columns of ``g0`` in ``span(cols)`` modulo ``p`` (``cols`` independent mod p)."""
    g = g0.copy()
    for c in cols:
        nz = np.flatnonzero(g[:, c])
        i = int(nz[0])
        piv, prow = int(g[i, c]), g[i].copy()
        g = (piv * g - np.outer(g[:, c], prow)) % p
        g = np.delete(g, i, axis=0)
    return [int(c) for c in np.flatnonzero(~g.any(axis=0))]


def enumeration_cost(rank: int, n: int, max_level: int) -> float:
    """Stored residues of a full search to ``max_level``: sum_l (rank - l) * C(n, l + 1)."""
    return float(sum(max(rank - lvl, 1) * math.comb(n, lvl + 1) for lvl in range(max(max_level, 0) + 1)))


@dataclass
class _Group:
    """Nodes sharing their last column, with their states.

    ``ends``: where the pieces of the group end (cumulative row counts). A group is built from
    the children of several parent groups at once; a visit that stops early counts and reports
    the nodes up to the end of its piece, as if each piece had been visited on its own.
    """

    last: int  # max(T); -1 for the root
    # (L, w, B): columns last+1 .. n-1 modulo span(T), nodes last: every elimination step is
    # then a handful of ufunc passes with the nodes as the contiguous inner loop (with the nodes
    # first the inner loops ran over the few columns, and two of the four passes broadcast).
    g: np.ndarray
    masks: np.ndarray  # (B, words) uint64 bitmasks of T
    acc: np.ndarray  # (B, d) weights already counted in cl(T) (flat scans only; d kinds of weight)
    ends: list[int] = field(default_factory=list)
    zero: np.ndarray | None = None  # _zero_columns(g), once computed

    def zeros(self) -> np.ndarray:
        if self.zero is None:
            self.zero = _zero_columns(self.g)
        return self.zero

    def piece_end(self, row: int) -> int:
        """The end of the piece holding ``row``: the nodes a visit stopping there has seen."""
        return self.ends[bisect.bisect_right(self.ends, row)]


def _root(g0: np.ndarray, dims: int) -> _Group:
    words = max(1, (g0.shape[1] + 63) // 64)
    masks = np.zeros((1, words), dtype=np.uint64)
    return _Group(-1, g0[:, :, None].copy(), masks, np.zeros((1, dims), dtype=np.int64), [1])


#: Nodes per arithmetic chunk are chosen so one chunk holds about this many residues (cache-sized
#: temporaries are several times faster than full-size ones, which also page-fault on allocation).
_CHUNK_ENTRIES = 1 << 16

#: Residues of parent states gathered into one array to extend them together (the children of
#: one column come from up to n parent groups). Cache-sized, as the chunks: on the 12 x 24 full
#: search 2**16 took 0.34 s and 172 MB peak, 2**22 0.51 s and 232 MB.
_BATCH_ENTRIES = 1 << 16


def _mod(x: np.ndarray, p: int, scratch: np.ndarray) -> None:
    """``x %= p`` in place, as ``x - (x // p) * p`` (``scratch``: an array of ``x``'s shape).

    The same residues in [0, p) (floor division), three times faster: numpy divides int64 by a
    scalar with libdivide (~1 ns an entry here) but takes ``%`` with a hardware division (~7 ns);
    the residues were a third of the search's time.
    """
    np.floor_divide(x, p, out=scratch)
    scratch *= p
    x -= scratch


def _contract(g: np.ndarray, p: int, out: np.ndarray | None, pattern_only: bool = False) -> np.ndarray:
    """The states of ``T + {c}`` for nodes ``T`` whose column ``c`` is the first of ``g``.

    ``g`` is ``(L, 1 + w, B)``: column ``c`` (nonzero in every node) and the ``w`` columns after it.
    The residues go into ``out`` (preallocated ``(L - 1, w, B)``) when given. With
    ``pattern_only`` (children that are visited but never extended) only a one-row stand-in is
    built that is zero exactly where the child's column is zero: the first row is computed for
    all nodes and the other rows only where it vanishes (probability 1/p).
    """
    rows, w1, bsz = g.shape
    wc = w1 - 1
    out_rows = min(rows - 1, 1) if pattern_only else rows - 1
    if out is None:
        out = np.empty((out_rows, wc, bsz), dtype=np.int64)
    step = max(1, _CHUNK_ENTRIES // max(1, rows * wc))
    tmp = np.empty((rows, wc, min(step, bsz)), dtype=np.int64)
    for lo in range(0, bsz if rows > 1 else 0, step):  # rows == 1: T + {c} spans everything
        hi = min(bsz, lo + step)
        blk, dst, t = g[:, :, lo:hi], out[:, :, lo:hi], tmp[:, :, : hi - lo]
        col = blk[:, 0, :]
        if col[0].all():
            # The common case (a residue is zero with probability 1/p): pivot in row 0 for every
            # node, so only rows 1.. are computed and nothing is gathered.
            top = slice(1, 2) if pattern_only else slice(1, None)
            np.multiply(blk[top, 1:], col[0], out=dst)
            np.multiply(col[top, None], blk[0, 1:], out=t[top])
            np.subtract(dst, t[top], out=dst)
            _mod(dst, p, t[top])
            if pattern_only and rows > 2:
                js, bs = np.nonzero(dst[0] == 0)
                if bs.size:
                    cols = 1 + js
                    more = blk[2:, cols, bs] * col[0, bs] - col[2:, bs] * blk[0, cols, bs]
                    more %= p
                    hit = more.any(axis=0)
                    dst[0, js[hit], bs[hit]] = 1
        else:
            piv_row = (col != 0).argmax(axis=0)
            b = np.arange(hi - lo)
            rest = blk[:, 1:]
            prow = rest[piv_row, :, b].T  # (wc, b): each node's pivot row
            np.multiply(rest, col[piv_row, b], out=t)
            t -= col[:, None, :] * prow[None]
            t %= p
            keep = np.ones((hi - lo, rows), dtype=bool)
            keep[b, piv_row] = False
            # per node the rows other than its pivot row, in order: (b, rows - 1, wc) -> (rows - 1, wc, b)
            full = t.transpose(2, 0, 1)[keep].reshape(hi - lo, rows - 1, wc).transpose(1, 2, 0)
            if pattern_only:
                dst[0] = full.any(axis=0)
            else:
                dst[...] = full
    return out


def _zero_columns(g: np.ndarray) -> np.ndarray:
    """``(B, w)`` mask of columns that are zero in every row of ``g`` (``(L, w, B)``)."""
    if g.shape[0] == 0:
        return np.ones((g.shape[2], g.shape[1]), dtype=bool)
    zero = g[0] == 0  # cheap prefilter: nonzero residues are the rule
    if g.shape[0] > 1 and zero.any():
        cs, bs = np.nonzero(zero)
        zero[cs, bs] = ~g[1:, cs, bs].any(axis=0)
    return zero.T


def _bfs(
    g0: np.ndarray,
    p: int,
    *,
    max_level: int,
    deadline: Deadline,
    visit: Callable[[int, _Group], bool],
    end_level: Callable[[int], None],
    child_acc: Callable[[_Group, np.ndarray], Callable[[int], np.ndarray]] | None,
    prune: Callable[[np.ndarray, int], np.ndarray] | None,
    skip_last: bool,
    bar: object | None,
    dims: int = 1,
) -> int:
    """Breadth-first over independent sets up to size ``max_level``; returns the last level done.

    ``visit(level, group)`` sees every created group (returns True to stop; it reads the group's
    pieces in order, see :class:`_Group`); ``end_level(level)`` runs when a level is complete (it
    may raise :class:`SpuriousModP`); ``child_acc`` gives the counted weight of children;
    ``prune(acc, last)`` selects the children worth keeping.

    Each level is planned before it is built: the children on column ``t`` come from every group
    with ``last < t``, so their count is known and they are written straight into one array per
    ``t`` (no second copy of the level in memory). They are computed together: the parents'
    columns ``t..`` are gathered into one transient array of at most :data:`_BATCH_ENTRIES`
    residues at a time, so a level costs a few numpy calls per column, not per parent group and
    column.
    """
    root = _root(g0, dims)
    if visit(0, root):
        return 0
    end_level(0)
    groups = [root]
    n = g0.shape[1]
    for level in range(max_level):
        final = level + 1 == max_level
        if bar is not None:
            bar.update(total=len(groups),  # type: ignore[attr-defined]
                       description=f"level {level + 1}/{max_level}")
        # plan[t]: (group, c, selection or None, count) for every source of children on column t
        plan: dict[int, list[tuple[int, int, np.ndarray | None, int]]] = defaultdict(list)
        accs: dict[int, Callable[[int], np.ndarray]] = {}
        for gi, grp in enumerate(groups):
            if deadline.expired():
                raise TimeUp(level)  # levels 0..level were visited completely
            zero = grp.zeros()
            _, w, bsz = grp.g.shape
            if child_acc is not None:
                accs[gi] = child_acc(grp, grp.acc)
            # A child on the last column has nothing after it: only flat scans need it (its count).
            width = w - 1 if skip_last else w
            counts = (bsz - zero[:, :width].sum(axis=0)).tolist() if prune is None else None
            for c in range(width):
                if prune is None:
                    count = counts[c]
                    live = ~zero[:, c] if 0 < count < bsz else None
                else:
                    live = ~zero[:, c] & prune(accs[gi](c), grp.last + 1 + c)
                    count = int(live.sum())
                if count:
                    plan[grp.last + 1 + c].append((gi, c, None if count == bsz else live, count))
        stored = sum(cnt * (groups[gi].g.shape[0] - 1) * (n - 1 - t)
                     for t, srcs in plan.items() for gi, _, _, cnt in srcs) if not final else 0
        if stored > MAX_LEVEL_ENTRIES:
            raise SizeLimit(level, MAX_LEVEL_ENTRIES)  # as TimeUp: levels <= level were visited
        rows = groups[0].g.shape[0] - 1
        words = groups[0].masks.shape[1]
        next_groups = []
        for t in sorted(plan):
            srcs = plan[t]
            total = sum(cnt for *_, cnt in srcs)
            keep = not final and t < n - 1 and rows > 0
            if keep:
                big = _Group(t, np.empty((rows, n - 1 - t, total), dtype=np.int64),
                             np.empty((total, words), dtype=np.uint64),
                             np.empty((total, dims), dtype=np.int64))
            per_node = (rows + 1) * (n - t)  # residues of one parent from column t on
            pos, k = 0, 0
            while k < len(srcs):
                # a batch of sources: at least one, at most _BATCH_ENTRIES residues gathered
                batch, size = [], 0
                while k < len(srcs) and (not batch or (size + srcs[k][3]) * per_node <= _BATCH_ENTRIES):
                    batch.append(srcs[k])
                    size += srcs[k][3]
                    k += 1
                parts, masks, acc = [], [], []
                for gi, c, sel, cnt in batch:
                    if deadline.expired():
                        raise TimeUp(level)  # levels 0..level were visited completely
                    grp = groups[gi]
                    a = accs[gi](c) if child_acc is not None else grp.acc
                    g = grp.g[:, c:, :]  # column t and those after it
                    parts.append(g if sel is None else g[:, :, sel])
                    masks.append(grp.masks if sel is None else grp.masks[sel])
                    acc.append(a if sel is None else a[sel])
                src = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=2)
                out = big.g[:, :, pos : pos + size] if keep else None
                child = _Group(t, _contract(src, p, out, pattern_only=final),
                               np.concatenate(masks) if len(masks) > 1 else masks[0].copy(),
                               np.concatenate(acc) if len(acc) > 1 else acc[0],
                               list(itertools.accumulate(cnt for *_, cnt in batch)))
                child.masks[:, t // 64] |= np.uint64(1 << (t % 64))
                if keep:
                    big.masks[pos : pos + size] = child.masks
                    big.acc[pos : pos + size] = child.acc
                    if size == total:
                        child.masks, child.acc = big.masks, big.acc
                pos += size
                if visit(level + 1, child):
                    return level + 1
                if keep and size == total:
                    big.zero = child.zero  # the visit's zero columns serve the next plan
            if keep:
                next_groups.append(big)
            if bar is not None:
                bar.advance()  # type: ignore[attr-defined]
        end_level(level + 1)
        groups = next_groups
        if not groups:
            return level + 1
    return max_level


@dataclass
class CircuitScan:
    """Outcome of :func:`min_dependent`: ``found`` (verified) or every size <= ``excluded`` is clear."""

    found: tuple[int, ...] | None
    excluded: int
    nodes: int


def min_dependent(
    g0: np.ndarray,
    p: int,
    *,
    max_size: int,
    verify: Callable[[tuple[int, ...]], bool],
    deadline: Deadline,
    bar: object | None = None,
) -> CircuitScan:
    """The smallest column set of size <= ``max_size`` dependent modulo ``p`` that ``verify`` accepts.

    Level ``l`` holds the independent ``l``-sets ``T``; a zero column ``c > max(T)`` in the state of
    ``T`` is the dependent set ``T + {c}`` of size ``l + 1``. Every Q-dependent set ``D`` of the
    smallest size shows up this way: ``D`` minus its largest column is independent, so its prefixes
    are nodes. Levels run in increasing size, so the first verified candidate is a smallest one.
    A level whose candidates all fail raises :class:`SpuriousModP` (sizes up to it are then clear).
    """
    state = {"found": None, "spurious": False, "nodes": 0}

    def visit(level: int, grp: _Group) -> bool:
        zero = grp.zeros()
        for b, c in np.argwhere(zero) if zero.any() else ():
            cand = tuple(sorted(mask_to_cols(grp.masks[b]) + (grp.last + 1 + int(c),)))
            if verify(cand):
                state["found"] = cand
                state["nodes"] += grp.piece_end(int(b))
                return True
            state["spurious"] = True
        state["nodes"] += grp.g.shape[2]
        return False

    def end_level(level: int) -> None:
        if state["spurious"]:
            raise SpuriousModP(level + 1)

    if max_size < 1:
        return CircuitScan(None, max_size, 0)
    # TimeUp / SizeLimit carry the last complete level l: every size <= l + 1 is clear.
    _bfs(g0, p, max_level=max_size - 1, deadline=deadline, visit=visit, end_level=end_level,
         child_acc=None, prune=None, skip_last=True, bar=bar)
    found = state["found"]
    return CircuitScan(found, (len(found) - 1) if found else max_size, int(state["nodes"]))


@dataclass
class FlatScan:
    """Outcome of :func:`flat_scan`.

    ``first``: ``flat`` is a verified flat of rank ``rank`` and weight >= target, and no flat of
    rank < ``rank`` reaches the target; or ``flat is None`` and no flat of rank <= ``excluded``
    does. ``max``: ``best`` is the verified maximum weight of a flat of rank ``max_level``
    (``flat`` attains it; ``None`` when nothing beat the initial value). ``constrained``: ``best``
    is the largest second weight of a flat of rank ``max_level`` whose first weight reaches the
    target (``flat`` attains it; ``None`` when nothing beat the initial value).
    """

    flat: tuple[int, ...] | None
    rank: int
    best: int
    excluded: int
    nodes: int
    # "first": per rank, a proven upper bound on the weight of any flat of that rank (the largest
    # count met, or the largest potential of a pruned branch): the "counts" of the evidence.
    level_max: dict[int, int]


def flat_scan(
    g0: np.ndarray,
    weights: Sequence[int] | np.ndarray,
    p: int,
    *,
    max_level: int,
    target: int,
    mode: str,
    verify: Callable[[tuple[int, ...], tuple[int, ...]], bool],
    deadline: Deadline,
    bar: object | None = None,
    best: int = -1,
) -> FlatScan:
    """Heaviest flats of the column configuration ``g0`` (full row rank mod ``p``).

    The weight of the flat ``cl(T)`` is accumulated along the path to ``T``: every column skipped
    between consecutive elements of ``T`` that lies in the span of the prefix, plus the zero
    columns after ``max(T)``. For the greedy (lexicographically first) basis of a flat this counts
    the flat exactly; for any other ``T`` it counts a subset, so maxima are exact. Children whose
    count plus the weight of all later columns cannot reach the target (or beat the best so far)
    are pruned: every column a greedy descendant still counts lies after its last element.

    ``weights`` is ``(n,)`` or, for ``mode="constrained"``, ``(n, 2)``.

    * ``"first"``: stop at the smallest rank ``<= max_level`` with a flat of weight ``>= target``
      (sub-rank).
    * ``"max"``: the heaviest flat of rank ``max_level`` (hyperplanes; spark duality); ``best`` is
      the weight already known (verified by the caller).
    * ``"constrained"``: among flats of rank ``max_level`` whose first weight is ``>= target``, the
      largest second weight, beating ``best`` (sub-spark: rows vs. unit vectors).

    ``verify(cols, counts)`` must check a candidate ``cl(cols)`` exactly against its counts.
    """
    if mode not in ("first", "max", "constrained"):
        raise ValueError(f"unknown flat scan mode {mode!r}")
    wts = np.asarray(weights, dtype=np.int64)
    wts = wts.reshape(len(wts), -1)
    dims = wts.shape[1]
    suffix = np.vstack([np.cumsum(wts[::-1], axis=0)[::-1], np.zeros((1, dims), dtype=np.int64)])
    goal = dims - 1  # the weight that is maximised in "max" / "constrained"
    state: dict = {"flat": None, "rank": -1, "best": best, "spurious": -1, "nodes": 0, "excluded": -1,
                   "level_max": {}, "pruned_max": -1}

    def counts(grp: _Group) -> np.ndarray:
        return grp.acc + grp.zeros().astype(np.int64) @ wts[grp.last + 1 :]

    def visit_piece(level: int, grp: _Group, cnt: np.ndarray, lo: int) -> bool:
        """The nodes ``lo..`` of ``cnt`` (one piece of ``grp``): verify its hits, best first."""
        if mode == "first":
            hits = np.flatnonzero(cnt[:, 0] >= target)
        else:
            ok = cnt[:, goal] > state["best"]
            if mode == "constrained":
                ok &= cnt[:, 0] >= target
            hits = np.flatnonzero(ok)
        for b in hits[np.argsort(-cnt[hits, goal], kind="stable")]:
            if mode != "first" and cnt[b, goal] <= state["best"]:
                break
            cols = mask_to_cols(grp.masks[lo + b])
            if verify(cols, tuple(int(x) for x in cnt[b])):
                state["flat"], state["rank"] = cols, level
                if mode == "first":
                    return True
                state["best"] = int(cnt[b, goal])
            else:
                state["spurious"] = max(state["spurious"], int(cnt[b, goal]))
        return False

    def visit(level: int, grp: _Group) -> bool:
        size = grp.g.shape[2]
        if mode != "first" and level != max_level:
            state["nodes"] += size
            return False
        cnt = counts(grp)
        # Only pieces with a hit need a look of their own (the best only grows, so a node that
        # does not beat it now never will); they are read in order, as if visited one by one.
        if mode == "first":
            hit = cnt[:, 0] >= target
        else:
            hit = cnt[:, goal] > state["best"]
            if mode == "constrained":
                hit &= cnt[:, 0] >= target
        stop, found = size, False
        for k in np.unique(np.searchsorted(grp.ends, np.flatnonzero(hit), side="right")).tolist():
            lo, hi = (grp.ends[k - 1] if k else 0), grp.ends[k]
            if visit_piece(level, grp, cnt[lo:hi], lo):
                stop, found = hi, True
                break
        state["nodes"] += stop
        if mode == "first" and stop:
            top = int(cnt[:stop, 0].max())
            state["level_max"][level] = max(state["level_max"].get(level, 0), top)
        return found

    def end_level(level: int) -> None:
        if mode == "first":
            if state["spurious"] >= 0:
                raise SpuriousModP(level - 1)
            state["excluded"] = level
            # A pruned branch's potential bounds every flat below it, at this rank and above.
            state["level_max"][level] = max(state["level_max"].get(level, 0), state["pruned_max"])
        elif level == max_level and state["spurious"] > state["best"]:
            raise SpuriousModP(-1)

    def child_acc(grp: _Group, acc: np.ndarray) -> Callable[[int], np.ndarray]:
        zero = grp.zeros()
        base = grp.last + 1
        czw = np.cumsum(zero[:, :, None] * wts[None, base:], axis=1)
        return lambda c: acc + wts[base + c] + czw[:, c]

    def prune(acc: np.ndarray, last: int) -> np.ndarray:
        potential = acc + suffix[last + 1]
        if mode == "first":
            keep = potential[:, 0] >= target
            if not keep.all():
                state["pruned_max"] = max(state["pruned_max"], int(potential[~keep, 0].max()))
            return keep
        keep = potential[:, goal] > state["best"]
        if mode == "constrained":
            keep &= potential[:, 0] >= target
        return keep

    reached = _bfs(g0, p, max_level=max_level, deadline=deadline, visit=visit, end_level=end_level,
                   child_acc=child_acc, prune=prune, skip_last=False, bar=bar, dims=dims)
    if mode == "first" and state["flat"] is None:
        state["excluded"] = max(state["excluded"], reached)
    return FlatScan(state["flat"], state["rank"], state["best"], state["excluded"], int(state["nodes"]),
                    state["level_max"])
