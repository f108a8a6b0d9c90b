"""Formula families with known hardness, for the hardness benchmark.

Each generator is deterministic in its arguments (randomness through a seeded
:class:`numpy.random.Generator` or a seed passed to networkx) and names its formula uniquely.

* :func:`threshold_3cnf` — uniform random 3-CNF at the satisfiability threshold ratio 4.26,
  drawn until PySAT gives the wanted answer (the SAT and UNSAT halves of the same distribution).
* :func:`pigeonhole` — ``p`` pigeons into ``h`` holes: unsatisfiable iff ``p > h``; for
  ``p = h + 1`` every resolution proof has size ``2^Ω(h)`` (Haken 1985).
* :func:`tseitin` — Tseitin parity formulas on a random ``d``-regular graph (an expander with high
  probability): one variable per edge, at each vertex the parity of its edges equals its charge.
  On a connected graph it is unsatisfiable iff the total charge is odd (each edge is counted
  twice); on expanders resolution needs size ``2^Ω(n)`` (Urquhart 1987, Ben-Sasson–Wigderson 2001).
* :func:`threshold_coloring` — 3-colouring of a random ``G(v, m)`` graph with average degree near
  the 3-colourability threshold (≈ 4.69, i.e. ``m ≈ 2.35 v``), drawn until PySAT gives the wanted
  answer.

Examples
--------
>>> f = pigeonhole(3, 2)
>>> f.n_vars, f.n_clauses, f.name
(6, 9, 'php-p3-h2')
>>> t = tseitin(6, degree=3, odd=True, seed=1)
>>> t.n_vars, set(t.widths)
(9, {3})
"""

from __future__ import annotations

import itertools

import numpy as np

from theorychk.errors import InvalidInput
from theorychk.reduction.cnf import CNF, random_kcnf, solve

__all__ = ["THRESHOLD_RATIO", "COLORING_EDGE_RATIO", "threshold_3cnf", "pigeonhole", "tseitin", "threshold_coloring"]

#: Clauses per variable at the random 3-SAT threshold.
THRESHOLD_RATIO = 4.26
#: Edges per vertex of G(v, m) near the 3-colourability threshold (average degree ≈ 4.69).
COLORING_EDGE_RATIO = 2.35
#: Seeds tried before a wanted answer is declared not found.
MAX_DRAWS = 1000


def _want(want: str) -> str:
    if want not in ("SAT", "UNSAT"):
        raise InvalidInput(f"want must be 'SAT' or 'UNSAT'; got {want!r}", argument="want", got=want)
    return want


def _positive(name: str, value: int, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise InvalidInput(f"{name} must be an integer >= {low}; got {value!r}", argument=name, got=value)
    return int(value)


def threshold_3cnf(n_vars: int, *, want: str, seed: int) -> tuple[CNF, int]:
    """The first random 3-CNF at ratio 4.26 (formula seeds ``seed, seed + 1, ...``) whose answer is
    ``want``; returns it (named ``rand3-n{n}-{sat|unsat}-s{formula seed}``) and its formula seed."""
    _want(want)
    n = _positive("n_vars", n_vars, 3)
    for k in range(MAX_DRAWS):
        fseed = seed + k
        cnf = random_kcnf(n, ratio=THRESHOLD_RATIO, seed=fseed)
        if solve(cnf).status == want:
            name = f"rand3-n{n}-{want.lower()}-s{fseed}"
            return CNF(cnf.n_vars, cnf.clauses, name=name, comments=cnf.comments), fseed
    raise InvalidInput(f"no {want} random 3-CNF with n = {n} among {MAX_DRAWS} seeds from {seed}",
                       argument="n_vars", got=n_vars)  # pragma: no cover


def pigeonhole(pigeons: int, holes: int) -> CNF:
    """PHP: variable ``i·holes + j + 1`` says pigeon ``i`` sits in hole ``j``; every pigeon sits
    somewhere (width ``holes``), no hole holds two pigeons (width 2). UNSAT iff pigeons > holes."""
    p, h = _positive("pigeons", pigeons), _positive("holes", holes)

    def var(i: int, j: int) -> int:
        return i * h + j + 1

    clauses = [tuple(var(i, j) for j in range(h)) for i in range(p)]
    clauses += [(-var(a, j), -var(b, j)) for j in range(h) for a, b in itertools.combinations(range(p), 2)]
    answer = "unsatisfiable" if p > h else "satisfiable"
    return CNF(p * h, tuple(clauses), name=f"php-p{p}-h{h}",
               comments=(f"pigeonhole: {p} pigeons into {h} holes ({answer}); variable i*{h}+j+1 = pigeon i in hole j",))


def _regular_graph(n_vertices: int, degree: int, rng: np.random.Generator):
    import networkx as nx

    for _ in range(MAX_DRAWS):
        graph = nx.random_regular_graph(degree, n_vertices, seed=int(rng.integers(2**31)))
        if nx.is_connected(graph):
            return graph
    raise InvalidInput(f"no connected {degree}-regular graph on {n_vertices} vertices drawn",
                       argument="degree", got=degree)  # pragma: no cover


def tseitin(n_vertices: int, *, degree: int = 3, odd: bool, seed: int) -> CNF:
    """Tseitin formula on a connected random ``degree``-regular graph with random charges whose sum
    is odd (``odd=True``: unsatisfiable) or even (satisfiable). Variable ``e + 1`` is edge ``e`` in
    sorted order; each vertex contributes the ``2^(d−1)`` clauses forbidding the wrong parity."""
    v = _positive("n_vertices", n_vertices, 2)
    d = _positive("degree", degree, 1)
    if d >= v or (v * d) % 2:
        raise InvalidInput(f"a {d}-regular graph on {v} vertices needs degree < n_vertices and even n*d; got {v}*{d}",
                           argument="degree", got=degree)
    rng = np.random.default_rng(seed)
    graph = _regular_graph(v, d, rng)
    edges = sorted(tuple(sorted(e)) for e in graph.edges)
    index = {e: i + 1 for i, e in enumerate(edges)}
    charge = [int(b) for b in rng.integers(0, 2, size=v)]
    if sum(charge) % 2 != int(odd):
        charge[0] ^= 1
    clauses: list[tuple[int, ...]] = []
    for u in range(v):
        incident = [index[tuple(sorted((u, w)))] for w in sorted(graph.neighbors(u))]
        for signs in itertools.product((0, 1), repeat=len(incident)):
            if sum(signs) % 2 != charge[u]:  # forbid this assignment of wrong parity
                clauses.append(tuple(-x if s else x for x, s in zip(incident, signs)))
    kind = "odd" if odd else "even"
    return CNF(len(edges), tuple(clauses), name=f"tseitin-d{d}-v{v}-{kind}-s{seed}",
               comments=(f"Tseitin parity formula on a connected random {d}-regular graph on {v} vertices "
                         f"(seed {seed}), total charge {kind} ({'unsatisfiable' if odd else 'satisfiable'})",))


def threshold_coloring(n_vertices: int, *, want: str, seed: int, colors: int = 3) -> tuple[CNF, int]:
    """The first 3-colouring formula of ``G(v, round(2.35 v))`` (graph seeds ``seed, seed + 1, ...``)
    whose answer is ``want``; variable ``v·colors + c + 1`` = vertex ``v`` has colour ``c``."""
    import networkx as nx

    _want(want)
    v = _positive("n_vertices", n_vertices, 2)
    k = _positive("colors", colors, 1)
    m = min(round(COLORING_EDGE_RATIO * v), v * (v - 1) // 2)

    def var(a: int, c: int) -> int:
        return a * k + c + 1

    for draw in range(MAX_DRAWS):
        gseed = seed + draw
        graph = nx.gnm_random_graph(v, m, seed=gseed)
        clauses: list[tuple[int, ...]] = []
        for a in range(v):
            clauses.append(tuple(var(a, c) for c in range(k)))
            clauses += [(-var(a, c1), -var(a, c2)) for c1, c2 in itertools.combinations(range(k), 2)]
        for a, b in sorted(tuple(sorted(e)) for e in graph.edges):
            clauses += [(-var(a, c), -var(b, c)) for c in range(k)]
        cnf = CNF(v * k, tuple(clauses), name=f"color{k}-v{v}-e{m}-{want.lower()}-s{gseed}",
                  comments=(f"{k}-colouring of G({v}, {m}) (networkx gnm_random_graph, seed {gseed}); "
                            f"variable v*{k}+c+1 = vertex v has colour c",))
        if solve(cnf).status == want:
            return cnf, gseed
    raise InvalidInput(f"no {want} {k}-colouring of G({v}, {m}) among {MAX_DRAWS} seeds from {seed}",
                       argument="n_vertices", got=n_vertices)  # pragma: no cover
