"""Preimage geometry: preimages of ReLU networks are not convex, and can be a finite set of points.

* :func:`example1` — Example 1 of paper 001 (Appendix B): ``G(z) = ReLU(W2 ReLU(W1 z))`` with
  ``W1 = [[1, 2], [3, 1]]``, ``W2 = [1, −1]`` and ``x = 1``. The latents ``(−1, 1)`` and
  ``(1, 3)`` are preimages, their midpoint ``(0, 2)`` is not (``G(0, 2) = 2``): the preimage is
  not convex, unlike the single-layer case, whose preimage is a polyhedron.
* :func:`reduction_preimage` — for a reduction instance of a small formula, the preimage of the
  target among Boolean latents is exactly the set of satisfying assignments (checked
  exhaustively, exact), and the midpoint of two satisfying assignments is not a preimage.
  For the real-latent constructions the statement proved in
  :mod:`~theorychk.reduction.constructions` says there is no other preimage at all: the
  preimage is a finite set of points, non-convex as soon as there are two.

Every number here is computed in exact rational arithmetic (:func:`theorychk.exact.forward`).

References
----------
.. [1] Lei et al., ``shared/papers/001``, Appendix B, "Proof of Non-convexity", Example 1.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from theorychk.network import Layer, Network
from theorychk.reduction.cnf import CNF, assignment_to_literals
from theorychk.reduction.constructions import Instance, construct, exact_output
from theorychk.verdict import jsonable

__all__ = ["NonConvexPreimage", "example1", "ReductionPreimage", "reduction_preimage"]


@dataclass(frozen=True, eq=False)
class NonConvexPreimage:
    """Two preimages of ``target`` whose midpoint is not one: ``G(first) = G(second) = target ≠ G(mid)``."""

    network: Network
    target: tuple[Fraction, ...]
    first: tuple[Fraction, ...]
    second: tuple[Fraction, ...]
    midpoint: tuple[Fraction, ...]
    outputs: tuple[tuple[Fraction, ...], tuple[Fraction, ...], tuple[Fraction, ...]]

    @property
    def verified(self) -> bool:
        """Recomputed exactly: both endpoints are preimages and the midpoint is not."""
        f, s, m = (exact_output(self.network, z) for z in (self.first, self.second, self.midpoint))
        mid_ok = all(2 * mi == a + b for mi, a, b in zip(self.midpoint, self.first, self.second))
        return f == self.target and s == self.target and m != self.target and mid_ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "widths": list(self.network.widths),
            "target": jsonable(self.target),
            "first": jsonable(self.first),
            "second": jsonable(self.second),
            "midpoint": jsonable(self.midpoint),
            "outputs": jsonable(self.outputs),
            "verified": self.verified,
        }


def example1() -> NonConvexPreimage:
    """Example 1 of [1]: a two-layer ReLU network with a non-convex preimage.

    Examples
    --------
    >>> ex = example1()
    >>> ex.verified, [str(v) for v in ex.outputs[2]]
    (True, ['2'])
    """
    net = Network(
        (
            Layer(np.array([[1, 2], [3, 1]], dtype=np.float32), None, "relu", dtype="float32"),
            Layer(np.array([[1, -1]], dtype=np.float32), None, "relu", dtype="float32"),
        ),
        name="paper001-example1",
    )
    first = (Fraction(-1), Fraction(1))
    second = (Fraction(1), Fraction(3))
    mid = tuple((a + b) / 2 for a, b in zip(first, second))
    outs = tuple(exact_output(net, z) for z in (first, second, mid))
    return NonConvexPreimage(net, (Fraction(1),), first, second, mid, outs)  # type: ignore[arg-type]


@dataclass(frozen=True, eq=False)
class ReductionPreimage:
    """The Boolean preimage of a reduction instance next to the models of its formula."""

    instance: Instance
    preimages: tuple[tuple[bool, ...], ...]
    models: tuple[tuple[bool, ...], ...]
    nonconvex: NonConvexPreimage | None

    @property
    def equal(self) -> bool:
        return set(self.preimages) == set(self.models)

    def to_dict(self) -> dict[str, Any]:
        return {
            "instance": self.instance.name,
            "preimages": [assignment_to_literals(a) for a in self.preimages],
            "models": [assignment_to_literals(a) for a in self.models],
            "equal": self.equal,
            "nonconvex": None if self.nonconvex is None else self.nonconvex.to_dict(),
        }


def reduction_preimage(cnf: CNF, construction: str = "four-layer", *, max_vars: int = 10) -> ReductionPreimage:
    """Exhaustively compare the Boolean preimage of ``construction(cnf)`` with the models of ``cnf``.

    Every ``2^n`` assignment is encoded, pushed through the network exactly, and compared with a
    direct evaluation of the clauses. When there are two models, their latents' midpoint is
    checked not to be a preimage (non-convexity, exact).

    Examples
    --------
    >>> demo = reduction_preimage(CNF(3, [[1, 2], [-1, -2], [3]]))
    >>> demo.equal, [a for a in demo.preimages], demo.nonconvex.verified
    (True, [(False, True, True), (True, False, True)], True)
    """
    if cnf.n_vars > max_vars:
        from theorychk.errors import InvalidInput

        raise InvalidInput(f"reduction_preimage is exhaustive over 2^n latents: n must be <= {max_vars}; got {cnf.n_vars}",
                           argument="cnf", got=cnf.n_vars)
    inst = construct(cnf, construction)
    pre, models = [], []
    for a in itertools.product((False, True), repeat=cnf.n_vars):
        if inst.is_preimage(inst.encode(a)):
            pre.append(a)
        if cnf.satisfied_by(a):
            models.append(a)
    nonconvex = None
    if len(models) >= 2:
        z1, z2 = inst.encode(models[0]), inst.encode(models[1])
        mid = tuple((a + b) / 2 for a, b in zip(z1, z2))
        outs = (exact_output(inst.network, z1), exact_output(inst.network, z2), exact_output(inst.network, mid))
        nonconvex = NonConvexPreimage(inst.network, inst.target, z1, z2, mid, outs)
    return ReductionPreimage(inst, tuple(pre), tuple(models), nonconvex)
