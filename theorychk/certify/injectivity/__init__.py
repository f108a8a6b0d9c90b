"""Global injectivity of each layer and of a network, with evidence the checker re-verifies.

Untrusted engine: floats, HiGHS LPs and MILPs, random search. Every CERTIFIED and REFUTED
verdict it returns has first been re-verified by the trusted code of
:mod:`theorychk.check.injectivity` (the same functions the checker runs), except the
``evidence_kind: "solver"`` claims of the large-size sufficient condition, which are labelled.

The criterion (Puthawala et al. [1], directed spanning sets, with bias)
----------------------------------------------------------------------
For ``x -> ReLU(W x + b)`` with ``W`` of shape ``(m, d)`` let ``S(x) = {j : <w_j, x> + b_j >= 0}``.
The layer is injective iff ``{w_j : j in S(x)}`` spans ``R^d`` for every ``x``. It must be
"``>= 0``": with "``> 0``" and ``b = 0`` the condition fails at ``x = 0`` for every ``W``.

Exact decision for small ``d`` (the hyperplane algorithm)
--------------------------------------------------------
The layer is *not* injective iff (a) ``rank W < d``, or (b) some linear hyperplane ``L`` spanned
by ``d - 1`` independent rows admits ``x`` with ``<w_j, x> + b_j < 0`` for every row ``w_j`` not in
``L``. Proof: (b) => not injective: ``S(x)`` lies in ``L``, so it does not span. Not injective and
rank ``d`` => (b): take ``x`` with ``V = span S(x) != R^d``; extend a basis of ``V`` drawn from
``S(x)`` by rows of ``W`` (they span ``R^d``) to ``d - 1`` independent rows; their span ``L``
contains ``S(x)``, so every row off ``L`` is outside ``S(x)``, i.e. strictly negative at ``x``.

Each candidate is one LP, ``max t  s.t.  <w_j, x> + t <= -b_j`` (rows off ``L``), ``t <= 1``:
``t* > 0`` gives a witness point, ``t* <= 0`` gives, through its dual, a Farkas certificate
(``lambda >= 0``, ``lambda != 0``, ``sum lambda_j w_j = 0``, ``sum lambda_j b_j >= 0``; the
alternative theorem and its proof are in :mod:`theorychk.check.injectivity`). Certificates are
rebuilt exactly from the LP's support (an exact kernel, see :func:`_exact_farkas`) and re-used:
one certificate covers every hyperplane that contains no row of its support, so far fewer LPs
than hyperplanes are solved.

Witness pairs: ``x`` (exact rational) with every row off ``L`` negative and ``Delta`` the normal of
``L``; ``x' = x + eps Delta`` with ``eps`` small enough that the off rows stay negative. Rows in ``L``
see no change, so ``ReLU(W x + b) == ReLU(W x' + b)`` — checked by an exact forward pass.

Larger ``d``
------------
A witness search (random points whose active set is rank-deficient, then a greedy LP descent
that forces rows negative one at a time) and the sufficient condition: if every half-space
``{w : <w, x> + b >= 0}`` holds at least ``s`` rows (``s`` from a MILP: solver evidence) and
``sub_rank(W, s) = d`` (exact, :func:`theorychk.invariants.subrank.sub_rank`), the layer is
injective.

Modules
-------
``results``     :class:`LayerInjectivity`, :class:`NetworkInjectivity`, :func:`thresholds`, tolerances
``domain``      boxes and balls of inputs (parsed once, exact)
``lp``          the per-hyperplane LP (HiGHS)
``evidence``    exact witness pairs and Farkas certificates rebuilt from float proposals
``hyperplane``  the exact decision for small ``d``
``witness``     sampled and greedy-LP witness search
``sufficient``  the half-space-depth MILP of the sufficient condition
``layer``       :func:`layer_injectivity`: the verdict on one layer
``network``     :func:`network_injectivity`: the verdict on a network (witness pull-back, latent witness)

The probability sweep :func:`injectivity_probability` lives in
:mod:`theorychk.experiments.injectivity`; it is re-exported here (loaded on first use).

References
----------
[1] Puthawala, Kothari, Lassas, Dokmanic, de Hoop, "Globally injective ReLU networks",
    JMLR 23(105), 2022.
[2] Lei, Jiang, Wang, Ye, Zhang, "Inverting deep generative models, one layer at a time"
    (paper 001), Lemma 1 — claims injectivity w.h.p. at expansion 2.1; contradicted, see
    ``docs/injectivity.md``.
"""

from __future__ import annotations

from typing import Any

from theorychk.certify.injectivity.layer import layer_injectivity
from theorychk.certify.injectivity.network import network_injectivity
from theorychk.certify.injectivity.results import (
    LEMMA1_RATIO,
    PUTHAWALA_LOWER,
    PUTHAWALA_UPPER,
    TOLERANCES,
    LayerInjectivity,
    NetworkInjectivity,
    Pair,
    thresholds,
)

__all__ = [
    "LEMMA1_RATIO",
    "PUTHAWALA_LOWER",
    "PUTHAWALA_UPPER",
    "LayerInjectivity",
    "NetworkInjectivity",
    "layer_injectivity",
    "network_injectivity",
    "injectivity_probability",
    "thresholds",
]


def __getattr__(name: str) -> Any:
    # The experiment helper moved to theorychk.experiments.injectivity; loading it lazily keeps
    # the engine from importing the experiments package (and its registry) at import time.
    if name == "injectivity_probability":
        from theorychk.experiments.injectivity import injectivity_probability

        return injectivity_probability
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
