"""3SAT → ReLU-network reductions: each construction maps a CNF to an :class:`Instance`.

An :class:`Instance` is a network ``G``, a target ``x`` (exact integers), a latent box, the maps
between assignments and latents, and the statement the construction claims. The constructions
(registry :data:`CONSTRUCTIONS`, an unknown name gets the suggesting error):

=====================  ======================================  =====================  ==========
name                   network                                 latent, target          UNSAT gap
=====================  ======================================  =====================  ==========
``binary``             corrected two-layer of [1] Appendix B   ``{±1}^n``, ``0``      1 (ℓ∞)
``printed``            the two-layer network as printed in [1]  ``{±1}^n``, ``[t|0]``  — flawed
``four-layer``         Variant A (biases), ``R^n → R^2`` [2]    ``R^n``, ``(m, 0)``    ½ (ℓ∞)
``bias-free``          Variant B (no biases), ``R^{n+1}→R^2``   ``R^{n+1}``, ``(1,0)`` ½ (ℓ∞)
``one-hidden``         one hidden layer, ``R^n → R^2``          ``R^n``, ``(m, 0)``    ½ (ℓ∞)
``katz``               Katz gadget + Booleanity term            ``[0,1]^n``, ``0``     1
=====================  ======================================  =====================  ==========

Notation (``shared/notes/reductions.md``): literal ``ℓ`` has variable ``i(ℓ)`` and sign
``s_ℓ = ±1``; ``p_j`` is the number of negated literals of clause ``C_j``; for ``y ∈ [0,1]^n``
the literal value is ``v_ℓ(y) = y_i`` or ``1 − y_i``, so
``1 − Σ_{ℓ∈C_j} v_ℓ(y) = (1 − p_j) − Σ_{ℓ∈C_j} s_ℓ y_{i(ℓ)}``. Clauses are deduplicated
(repeated literals dropped) before encoding; tautologies are kept and encode to units that never
fire. The real-latent constructions use the latent box ``[−R, R]^k`` (``radius=R``, default 1):
every preimage lies in ``[0, 1]^n`` (plus ``z0 = 1`` for ``bias-free``), so any ``R ≥ 1`` gives
the same answers; the box only exists because MILP and VNN-LIB need bounded inputs.

The real-latent *gap*: when the formula is unsatisfiable, ``‖G(z) − x‖_∞ ≥ ½`` for every real
``z`` (not only in the box), so approximate inversion to error < ½ is NP-hard as well, and a
verifier may be asked ``‖G(z) − x‖_∞ ≤ ε`` with any ``ε < ½`` without changing the answer.
Core lemma (used by all three real-latent constructions): for every ``z``, with ``β_i`` the
distance of ``z_i`` to ``{0, 1}`` and ``c_j = ReLU(1 − Σ_{ℓ∈C_j} v_ℓ(·))`` evaluated at
``clip(z, 0, 1)`` or at ``z``, ``Σ_j c_j + Σ_i β_i ≥ 1`` if the formula is unsatisfiable.
Proof: round ``z`` to the nearest Boolean ``r``; some clause ``C_j`` is false under ``r``, so each
of its (distinct) variables has ``v_ℓ(r) = 0`` and ``v_ℓ(·) ≤ |z_i − r_i| = β_i`` (clipping only
moves towards ``r``), hence ``c_j ≥ 1 − Σ β``.

References
----------
.. [1] Q. Lei, A. Jalal, I. S. Dhillon, A. G. Dimakis, "Inverting Deep Generative Models, One
   Layer at a Time", workshop version (``shared/papers/001``), Theorem 1 and Appendix B.
.. [2] Same authors, NeurIPS 2019 (``shared/papers/002``), Theorem 1: deciding ``∃ z ∈ R^k:
   G(z) = x`` for a four-layer ReLU network ``R^k → R^2`` is NP-complete (no weights published;
   the constructions here are ours, derived in ``shared/notes/reductions.md``).
.. [3] G. Katz et al., "Reluplex", CAV 2017 (NP-hardness gadget); NeuroCodeBench 2.0
   ``dimacs_to_onnx.py`` (Booleanity term, input box ``[0, 1]^n``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from theorychk import exact
from theorychk.errors import InvalidInput, unknown_name
from theorychk.network import Layer, Network
from theorychk.reduction.cnf import CNF
from theorychk.verdict import jsonable

__all__ = [
    "Instance",
    "Construction",
    "CONSTRUCTIONS",
    "get_construction",
    "construct",
    "binary_two_layer",
    "printed_two_layer",
    "four_layer",
    "bias_free",
    "one_hidden",
    "katz",
    "exact_output",
    "DEFAULT_RADIUS",
]

#: Default half-width of the latent box ``[−R, R]^k`` of the real-latent constructions.
DEFAULT_RADIUS = 1


# --------------------------------------------------------------------------------------------
# The instance type
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Instance:
    """A reduction instance: ``∃ z in the latent domain with G(z) = target`` ⇔ (the claim).

    ``latent_lo``/``latent_hi`` bound the latent box; with ``binary_latent`` the domain is the
    box's vertices (``{lo, hi}^k``), otherwise the whole box. ``gap_linf``/``gap_l1``: when the
    formula is unsatisfiable, ``‖G(z) − target‖ ≥ gap`` for every ``z`` of the domain (``None``:
    no gap claimed — the flawed construction). ``encode`` maps an assignment (``a[i]`` is
    variable ``i+1``) to its latent; ``decode`` maps a latent back to an assignment.
    """

    construction: str
    cnf: CNF
    network: Network
    target: tuple[Fraction, ...]
    latent_lo: tuple[Fraction, ...]
    latent_hi: tuple[Fraction, ...]
    binary_latent: bool
    gap_linf: Fraction | None
    gap_l1: Fraction | None
    statement: str
    flawed: bool = False
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.construction}--{self.cnf.label}"

    @property
    def latent_dim(self) -> int:
        return self.network.latent_dim

    def encode(self, assignment: Sequence[bool]) -> tuple[Fraction, ...]:
        """The latent of an assignment (``assignment[i]`` is variable ``i+1``)."""
        a = tuple(bool(v) for v in assignment)
        if len(a) != self.cnf.n_vars:
            raise InvalidInput(f"assignment must have {self.cnf.n_vars} values; got {len(a)}",
                               argument="assignment", got=a)
        return get_construction(self.construction).encode(self, a)

    def decode(self, latent: Sequence[Any]) -> tuple[bool, ...]:
        """The assignment a latent stands for (rounding; exact at preimages)."""
        z = [exact.rational(v) for v in latent]
        if len(z) != self.latent_dim:
            raise InvalidInput(f"latent must have length {self.latent_dim}; got {len(z)}",
                               argument="latent", got=latent)
        return get_construction(self.construction).decode(self, z)

    def output(self, latent: Sequence[Any]) -> tuple[Fraction, ...]:
        """``G(latent)`` in exact rational arithmetic (:func:`theorychk.exact.forward`)."""
        return exact_output(self.network, latent)

    def is_preimage(self, latent: Sequence[Any]) -> bool:
        """``G(latent) == target`` exactly (the latent's own domain is not checked)."""
        return self.output(latent) == self.target

    @property
    def latent_radius(self) -> Fraction | None:
        """``R`` when the box is ``[−R, R]^k`` (what ``theorychk.solvers`` ``milp`` accepts), else ``None``."""
        r = self.latent_hi[0]
        if all(h == r for h in self.latent_hi) and all(lo == -r for lo in self.latent_lo):
            return r
        return None

    def summary(self) -> dict[str, Any]:
        """JSON-ready facts about the instance (no weights; see :mod:`theorychk.reduction.export`)."""
        return {
            "name": self.name,
            "construction": self.construction,
            "formula": self.cnf.name,
            "n_vars": self.cnf.n_vars,
            "n_clauses": self.cnf.n_clauses,
            "widths": list(self.network.widths),
            "biases": any(layer.has_bias for layer in self.network.layers),
            "target": jsonable(self.target),
            "latent_box": {"lo": jsonable(self.latent_lo), "hi": jsonable(self.latent_hi)}
            if len(set(self.latent_lo)) > 1 or len(set(self.latent_hi)) > 1
            else {"lo": jsonable(self.latent_lo[0]), "hi": jsonable(self.latent_hi[0])},
            "binary_latent": self.binary_latent,
            "gap_linf": jsonable(self.gap_linf),
            "gap_l1": jsonable(self.gap_l1),
            "flawed": self.flawed,
            "statement": self.statement,
            "fingerprint": self.network.fingerprint(),
            "params": jsonable(self.params),
        }

    def to_dict(self) -> dict[str, Any]:
        return self.summary()


def exact_output(net: Network, latent: Sequence[Any]) -> tuple[Fraction, ...]:
    """``G(latent)`` exactly, through :func:`theorychk.exact.forward` on the stored weights."""
    layers = [(layer.weight, layer.bias, layer.activation.spec) for layer in net.layers]
    return exact.forward(layers, list(latent))[-1]


# --------------------------------------------------------------------------------------------
# Helpers shared by the constructions
# --------------------------------------------------------------------------------------------


def _layer(weight: np.ndarray, bias: np.ndarray | None, activation: str = "relu") -> Layer:
    # Every number is a small integer, exact in float32: store float32 so that the ONNX export
    # (float32) holds exactly this network, and load_network(<onnx>) gives it back unchanged.
    w = np.asarray(weight, dtype=np.float32)
    b = None if bias is None else np.asarray(bias, dtype=np.float32)
    return Layer(w, b, activation, dtype="float32")


def _check_formula(cnf: CNF, what: str) -> tuple[tuple[int, ...], ...]:
    if not isinstance(cnf, CNF):
        raise InvalidInput(f"{what} needs a CNF; got {type(cnf).__name__}",
                           argument="cnf", got=type(cnf).__name__)
    if cnf.n_vars < 1 or cnf.n_clauses < 1:
        raise InvalidInput(
            f"{what} needs at least one variable and one clause; got {cnf.n_vars} variables and {cnf.n_clauses} clauses",
            argument="cnf", got=(cnf.n_vars, cnf.n_clauses)
        )
    return cnf.deduplicated()


def _radius(radius: int | Fraction) -> Fraction:
    r = exact.rational(radius)
    if not r >= 1:
        raise InvalidInput(f"radius must be >= 1 (the box [-R, R]^k must contain [0, 1]^k); got {radius!r}",
                           argument="radius", got=radius)
    return r


def _box(k: int, lo: Fraction, hi: Fraction) -> tuple[tuple[Fraction, ...], tuple[Fraction, ...]]:
    return (lo,) * k, (hi,) * k


def _clause_rows(clauses: Sequence[tuple[int, ...]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``−s`` (over the variables) and biases ``1 − p_j``: ``row·y + bias = 1 − Σ v_ℓ(y)``."""
    rows = np.zeros((len(clauses), n), dtype=np.int64)
    bias = np.zeros(len(clauses), dtype=np.int64)
    for j, clause in enumerate(clauses):
        for lit in clause:
            rows[j, abs(lit) - 1] -= 1 if lit > 0 else -1
        bias[j] = 1 - sum(1 for lit in clause if lit < 0)
    return rows, bias


def _gadget_layer0(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``u1 = ReLU(−z), u2 = ReLU(z), u3 = ReLU(2z − 1), u4 = ReLU(z − 1)``, blocks of ``n``."""
    eye = np.eye(n, dtype=np.int64)
    w = np.vstack([-eye, eye, 2 * eye, eye])
    b = np.concatenate([np.zeros(2 * n, dtype=np.int64), -np.ones(2 * n, dtype=np.int64)])
    return w, b


def _gadget_layer1(n: int) -> np.ndarray:
    """``y = u2 − u4`` (= clip(z, 0, 1)) and ``β = u1 + u2 − u3 + 2 u4`` (= dist(z, {0, 1}))."""
    eye = np.eye(n, dtype=np.int64)
    zero = np.zeros((n, n), dtype=np.int64)
    y = np.hstack([zero, eye, zero, -eye])
    beta = np.hstack([eye, eye, -eye, 2 * eye])
    return np.vstack([y, beta])


def _binary_encode(inst: Instance, a: tuple[bool, ...]) -> tuple[Fraction, ...]:
    return tuple(Fraction(1 if v else -1) for v in a)


def _binary_decode(inst: Instance, z: list[Fraction]) -> tuple[bool, ...]:
    return tuple(v > 0 for v in z)


def _unit_encode(inst: Instance, a: tuple[bool, ...]) -> tuple[Fraction, ...]:
    return tuple(Fraction(int(v)) for v in a)


def _unit_decode(inst: Instance, z: list[Fraction]) -> tuple[bool, ...]:
    return tuple(v > Fraction(1, 2) for v in z)


def _homogeneous_encode(inst: Instance, a: tuple[bool, ...]) -> tuple[Fraction, ...]:
    return (Fraction(1),) + tuple(Fraction(int(v)) for v in a)


def _homogeneous_decode(inst: Instance, z: list[Fraction]) -> tuple[bool, ...]:
    return tuple(v > Fraction(1, 2) for v in z[1:])


# --------------------------------------------------------------------------------------------
# (1) The corrected two-layer binary-latent construction of paper 001
# --------------------------------------------------------------------------------------------


def binary_two_layer(cnf: CNF) -> Instance:
    """The two-layer binary-latent reduction of [1] Appendix B, corrected.

    ``G(z) = ReLU(1ᵀ ReLU(−S z − (w − 1)))`` with ``S`` the literal-sign matrix (``S[j, i(ℓ)] =
    s_ℓ``) and ``w_j`` the clause width (``w_j = 3`` for 3-CNF: the ``−2·1`` of the notes),
    target ``x = 0``, latent ``z ∈ {±1}^n`` (``+1`` = true).

    Statement: ``∃ z ∈ {±1}^n: G(z) = 0 ⇔ φ is satisfiable``; ``G(z)`` is the number of clauses
    ``z`` violates, so an unsatisfiable formula has ``G(z) ≥ 1`` on every binary latent.

    Proof sketch: for ``z ∈ {±1}^n``, ``−S_j·z = w_j`` exactly when every literal of ``C_j`` is
    false, and ``−S_j·z ≤ w_j − 2`` otherwise (tautologies: ``≤ w_j − 2`` always), so hidden unit
    ``j`` is ``1`` iff ``C_j`` is violated and ``0`` otherwise.

    The hardness comes entirely from ``z ∈ {±1}^n``: over real latents ``G(0) = 0`` for every
    formula (see :func:`theorychk.reduction.flaws.printed_counterexamples`).

    Examples
    --------
    >>> inst = binary_two_layer(CNF(2, [[1, 2], [-1, 2]]))
    >>> inst.output(inst.encode((False, True))), inst.output(inst.encode((False, False)))
    ((Fraction(0, 1),), (Fraction(1, 1),))
    """
    clauses = _check_formula(cnf, "construction 'binary'")
    n, m = cnf.n_vars, len(clauses)
    rows, _ = _clause_rows(clauses, n)  # rows = −S
    w = np.array([len(c) for c in clauses])
    net = Network(
        (_layer(rows, -(w - 1)), _layer(np.ones((1, m)), np.zeros(1))),
        name=f"binary--{cnf.label}",
    )
    lo, hi = _box(n, Fraction(-1), Fraction(1))
    return Instance(
        "binary", cnf, net, (Fraction(0),), lo, hi, True, Fraction(1), Fraction(1),
        "exists z in {-1,+1}^n with G(z) = 0 <=> the formula is satisfiable; G(z) counts the clauses z "
        "violates (unsatisfiable: G(z) >= 1 on every binary latent)",
    )


# --------------------------------------------------------------------------------------------
# (2) The construction as printed in paper 001 — kept only to exhibit its flaws
# --------------------------------------------------------------------------------------------


def printed_two_layer(cnf: CNF, *, t: int | None = None) -> Instance:
    """The two-layer network exactly as printed in [1] Appendix B (flawed; do not use).

    ``G(z) = ReLU(W2 ReLU(W1 z + b1) + b2)``, rows of ``W1`` the literal signs (three ±1 entries),
    ``b1 = −2``, ``W2 = [1 | I]ᵀ``, ``b2 = [0 | −1]``, observation ``x = [t | 0]``, ``z ∈ {±1}^n``.
    The printed claim: ``G(z) = [t | 0]`` iff ``z`` satisfies ``t`` clauses (``t = m`` default:
    "every clause is satisfied", the 3SAT question).

    What is wrong (each shown by :func:`theorychk.reduction.flaws.printed_counterexamples`):

    * hidden unit ``j`` is ``ReLU(S_j·z − 2)``, which is 1 iff all three literals are TRUE (an
      AND), not iff the clause is satisfied (and not iff it is violated either);
    * the identity block observes ``ReLU(h_j − 1) = 0`` — vacuous for binary ``z``;
    * with a real latent, ``G(0) = [0 | 0]`` for every formula;
    * an equality observation counts units exactly; the Karp reduction is ``t = 0`` with negated
      signs (:func:`binary_two_layer`); MAX-3SAT needs ``m + 1`` queries (a Turing reduction).

    Only 3-CNF with three distinct variables per clause is accepted (the printed form).
    """
    clauses = _check_formula(cnf, "construction 'printed'")
    bad = [j for j, c in enumerate(clauses) if len({abs(lit) for lit in c}) != 3 or len(c) != 3]
    if bad:
        raise InvalidInput(
            f"construction 'printed' is defined for clauses of exactly three distinct variables (as printed); "
            f"clause {bad[0]} is {cnf.clauses[bad[0]]}",
            argument=f"cnf.clauses[{bad[0]}]", got=cnf.clauses[bad[0]]
        )
    n, m = cnf.n_vars, len(clauses)
    t = m if t is None else t
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t <= m:
        raise InvalidInput(f"t must be an integer in 0..{m} (number of clauses); got {t!r}",
                           argument="t", got=t)
    rows, _ = _clause_rows(clauses, n)
    w2 = np.vstack([np.ones((1, m)), np.eye(m)])
    b2 = np.concatenate([[0], -np.ones(m)])
    net = Network(
        (_layer(-rows, -2 * np.ones(m)), _layer(w2, b2)),  # −rows = S, the printed literal signs
        name=f"printed--{cnf.label}",
    )
    lo, hi = _box(n, Fraction(-1), Fraction(1))
    target = (Fraction(int(t)),) + (Fraction(0),) * m
    return Instance(
        "printed", cnf, net, target, lo, hi, True, None, None,
        f"AS PRINTED (false): G(z) = [t | 0] with t = {t} iff z satisfies t clauses",
        flawed=True, params={"t": int(t)},
    )


# --------------------------------------------------------------------------------------------
# (3) Four-layer R^n -> R^2, Variant A (with biases)
# --------------------------------------------------------------------------------------------


def four_layer(cnf: CNF, *, radius: int | Fraction = DEFAULT_RADIUS) -> Instance:
    """Theorem 1 of [2]: a four-layer ReLU network ``R^n → R^2`` and target ``(m, 0)`` (Variant A).

    Widths ``n → 4n → 2n → m+1 → 2``, all ReLU, integer weights and biases:

    * L1: ``u1 = ReLU(−z), u2 = ReLU(z), u3 = ReLU(2z − 1), u4 = ReLU(z − 1)``;
    * L2: ``y = ReLU(u2 − u4) = clip(z, 0, 1)``, ``β = ReLU(u1 + u2 − u3 + 2u4) = dist(z, {0,1})``;
    * L3: ``c_j = ReLU((1 − p_j) − Σ_{ℓ∈C_j} s_ℓ y_{i(ℓ)})``, ``B = ReLU(Σ_i β_i)``;
    * L4: ``G(z) = (ReLU(m − Σ_j c_j), ReLU(B))``.

    Statement: ``G(z) = (m, 0) ⇔ z ∈ {0,1}^n`` and ``z`` satisfies φ; the preimage of ``(m, 0)``
    is exactly the set of satisfying assignments. Unsatisfiable ⇒ ``‖G(z) − (m, 0)‖_∞ ≥ ½`` and
    ``‖·‖_1 ≥ 1`` for every real ``z`` (both attained).

    Proof sketch: ``c_j ∈ [0, 1]``, so ``G(z) − (m, 0) = (−Σ c_j, Σ β_i)``. The second entry is 0
    iff ``z`` is Boolean; then ``y = z`` and ``c_j = 1`` exactly for violated clauses. For the gap,
    the core lemma (module docstring) gives ``Σ c + Σ β ≥ 1``, so the larger of the two is ``≥ ½``.

    Examples
    --------
    >>> inst = four_layer(CNF(2, [[1, 2], [-1, 2]]))
    >>> inst.network.widths, inst.target
    ((2, 8, 4, 3, 2), (Fraction(2, 1), Fraction(0, 1)))
    >>> inst.is_preimage(inst.encode((True, True))), inst.is_preimage([Fraction(1, 2), 1])
    (True, False)
    """
    clauses = _check_formula(cnf, "construction 'four-layer'")
    n, m = cnf.n_vars, len(clauses)
    r = _radius(radius)
    w0, b0 = _gadget_layer0(n)
    w1 = _gadget_layer1(n)
    rows, cb = _clause_rows(clauses, n)
    w2 = np.zeros((m + 1, 2 * n), dtype=np.int64)
    w2[:m, :n] = rows
    w2[m, n:] = 1
    b2 = np.concatenate([cb, [0]])
    w3 = np.zeros((2, m + 1), dtype=np.int64)
    w3[0, :m] = -1
    w3[1, m] = 1
    net = Network(
        (_layer(w0, b0), _layer(w1, np.zeros(2 * n)), _layer(w2, b2), _layer(w3, np.array([m, 0]))),
        name=f"four-layer--{cnf.label}",
    )
    lo, hi = _box(n, -r, r)
    return Instance(
        "four-layer", cnf, net, (Fraction(m), Fraction(0)), lo, hi, False, Fraction(1, 2), Fraction(1),
        "G(z) = (m, 0) <=> z in {0,1}^n satisfies the formula (preimage = set of models); unsatisfiable => "
        "||G(z) - (m, 0)||_inf >= 1/2 and ||.||_1 >= 1 for every real z",
        params={"radius": r},
    )


# --------------------------------------------------------------------------------------------
# (4) Four-layer, Variant B (no biases)
# --------------------------------------------------------------------------------------------


def bias_free(cnf: CNF, *, radius: int | Fraction = DEFAULT_RADIUS) -> Instance:
    """Variant B of Theorem 1 of [2]: the same four layers with no biases at all.

    Latent ``(z0, z) ∈ R^{1+n}``; ``e = ReLU(z0)`` is carried through every layer (``e → e → e``)
    and stands in for the constant 1: every bias ``β`` of Variant A becomes ``β·e``
    (``u3 = ReLU(2z − e)``, ``u4 = ReLU(z − e)``, ``c_j = ReLU((1 − p_j)·e − Σ s_ℓ y_i)``).
    Output ``G = (ReLU(e), ReLU(Σ_j c_j + Σ_i β_i))``, target ``(1, 0)``. Widths
    ``n+1 → 4n+1 → 2n+1 → m+2 → 2``.

    Statement: ``G(z0, z) = (1, 0) ⇔ z0 = 1, z ∈ {0,1}^n`` and ``z`` satisfies φ. Unsatisfiable ⇒
    ``‖G − (1, 0)‖_∞ ≥ ½`` and ``‖·‖_1 ≥ 1`` for every real latent.

    Proof sketch: the first output pins ``z0 = 1`` (without it, positive homogeneity
    ``G(λ·) = λ G(·)`` would let an unsatisfiable instance be realised by rescaling); at
    ``z0 = 1`` the network is Variant A's with the second output ``Σ c + Σ β``. Gap: if
    ``z0 ≤ ½`` the first entry errs by ``≥ ½``; otherwise by homogeneity the second entry is
    ``z0·(Σ c + Σ β)(z/z0) ≥ z0 > ½`` (core lemma); ℓ1: ``|1 − z0| + z0 ≥ 1``.
    """
    clauses = _check_formula(cnf, "construction 'bias-free'")
    n, m = cnf.n_vars, len(clauses)
    r = _radius(radius)
    # Layer 0 on (z0, z): row 0 is e; then u1..u4 with the bias column moved onto z0.
    g0, gb0 = _gadget_layer0(n)
    w0 = np.zeros((4 * n + 1, n + 1), dtype=np.int64)
    w0[0, 0] = 1
    w0[1:, 1:] = g0
    w0[1:, 0] = gb0
    g1 = _gadget_layer1(n)
    w1 = np.zeros((2 * n + 1, 4 * n + 1), dtype=np.int64)
    w1[0, 0] = 1
    w1[1:, 1:] = g1
    rows, cb = _clause_rows(clauses, n)
    w2 = np.zeros((m + 2, 2 * n + 1), dtype=np.int64)
    w2[0, 0] = 1
    w2[1 : m + 1, 1 : n + 1] = rows
    w2[1 : m + 1, 0] = cb
    w2[m + 1, n + 1 :] = 1
    w3 = np.zeros((2, m + 2), dtype=np.int64)
    w3[0, 0] = 1
    w3[1, 1:] = 1
    net = Network(
        tuple(_layer(w, None) for w in (w0, w1, w2, w3)),
        name=f"bias-free--{cnf.label}",
    )
    lo, hi = _box(n + 1, -r, r)
    return Instance(
        "bias-free", cnf, net, (Fraction(1), Fraction(0)), lo, hi, False, Fraction(1, 2), Fraction(1),
        "G(z0, z) = (1, 0) <=> z0 = 1 and z in {0,1}^n satisfies the formula; no biases; unsatisfiable => "
        "||G - (1, 0)||_inf >= 1/2 and ||.||_1 >= 1 for every real latent",
        params={"radius": r},
    )


# --------------------------------------------------------------------------------------------
# (5) One hidden layer
# --------------------------------------------------------------------------------------------


def one_hidden(cnf: CNF, *, radius: int | Fraction = DEFAULT_RADIUS) -> Instance:
    """Depth is not needed: one hidden layer ``R^n → R^{4n+m} → R^2`` with target ``(m, 0)``.

    Hidden: ``u1..u4`` as in :func:`four_layer` and ``c'_j = ReLU((1 − p_j) − Σ_{ℓ∈C_j} s_ℓ z_i)``
    (the clause gadget on the raw, unclipped ``z``). Output
    ``G(z) = (ReLU(m − Σ_j c'_j), ReLU(Σ_i (u1 + u2 − u3 + 2u4)_i))``.

    Statement and gap as for :func:`four_layer`: ``G(z) = (m, 0) ⇔ z ∈ {0,1}^n`` satisfies φ;
    unsatisfiable ⇒ ``‖G(z) − (m, 0)‖_∞ ≥ ½`` for every real ``z``.

    Proof sketch: the second output is ``Σ_i dist(z_i, {0,1})``; at Boolean ``z``, ``c'_j`` is 1
    exactly on violated clauses. Gap: the core lemma holds for ``c'`` (``v_ℓ(z) ≤ β_i`` on a
    clause false at the rounding), and ``|ReLU(m − Σ c') − m| ≥ min(Σ c', m)`` with ``m ≥ 1``.
    """
    clauses = _check_formula(cnf, "construction 'one-hidden'")
    n, m = cnf.n_vars, len(clauses)
    r = _radius(radius)
    g0, gb0 = _gadget_layer0(n)
    rows, cb = _clause_rows(clauses, n)
    w0 = np.vstack([g0, rows])
    b0 = np.concatenate([gb0, cb])
    w1 = np.zeros((2, 4 * n + m), dtype=np.int64)
    w1[0, 4 * n :] = -1
    eye = np.eye(n, dtype=np.int64)
    w1[1, : 4 * n] = np.hstack([eye, eye, -eye, 2 * eye]).sum(axis=0)
    net = Network(
        (_layer(w0, b0), _layer(w1, np.array([m, 0]))),
        name=f"one-hidden--{cnf.label}",
    )
    lo, hi = _box(n, -r, r)
    return Instance(
        "one-hidden", cnf, net, (Fraction(m), Fraction(0)), lo, hi, False, Fraction(1, 2), Fraction(1),
        "one hidden layer: G(z) = (m, 0) <=> z in {0,1}^n satisfies the formula; unsatisfiable => "
        "||G(z) - (m, 0)||_inf >= 1/2 for every real z",
        params={"radius": r},
    )


# --------------------------------------------------------------------------------------------
# (6) Katz-style gadget with the Booleanity term on [0, 1]^n (NeuroCodeBench style)
# --------------------------------------------------------------------------------------------


def katz(cnf: CNF) -> Instance:
    """Katz et al.'s disjunction gadget plus a Booleanity term, on the input box ``[0, 1]^n``.

    One hidden layer: ``c_j = ReLU(1 − Σ_{ℓ∈C_j} v_ℓ(x))`` (Katz's clause gadget is
    ``1 − c_j``), ``r_i = ReLU(x_i)``, ``h_i = ReLU(2x_i − 1)``; one linear output
    ``G(x) = Σ_j c_j + Σ_i (r_i − h_i)``, target 0, ``x ∈ [0, 1]^n``.

    Statement: on ``[0, 1]^n``, ``G(x) = 0 ⇔ x ∈ {0,1}^n`` satisfies φ; unsatisfiable ⇒
    ``G(x) ≥ 1`` on the box. Proof: on ``[0, 1]``, ``r_i − h_i = dist(x_i, {0, 1})`` and the core
    lemma applies. The box is essential: for ``x_i > 1`` the Booleanity term ``1 − x_i`` is
    negative and can cancel violated clauses, and without the Booleanity term ``x = ½·1``
    satisfies every clause gadget of width ≥ 2 (:func:`theorychk.reduction.flaws.katz_counterexamples`).
    """
    clauses = _check_formula(cnf, "construction 'katz'")
    n, m = cnf.n_vars, len(clauses)
    rows, cb = _clause_rows(clauses, n)
    eye = np.eye(n, dtype=np.int64)
    w0 = np.vstack([rows, eye, 2 * eye])
    b0 = np.concatenate([cb, np.zeros(n, dtype=np.int64), -np.ones(n, dtype=np.int64)])
    w1 = np.concatenate([np.ones(m), np.ones(n), -np.ones(n)])[None, :]
    net = Network((_layer(w0, b0), _layer(w1, np.zeros(1), "identity")), name=f"katz--{cnf.label}")
    lo, hi = _box(n, Fraction(0), Fraction(1))
    return Instance(
        "katz", cnf, net, (Fraction(0),), lo, hi, False, Fraction(1), Fraction(1),
        "on the box [0,1]^n: G(x) = 0 <=> x in {0,1}^n satisfies the formula; unsatisfiable => G(x) >= 1 "
        "on the box (not outside it)",
    )


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Construction:
    """A registered construction: how to build it and how assignments map to latents."""

    name: str
    build: Callable[..., Instance]
    encode: Callable[[Instance, tuple[bool, ...]], tuple[Fraction, ...]]
    decode: Callable[[Instance, list[Fraction]], tuple[bool, ...]]
    summary: str
    flawed: bool = False


CONSTRUCTIONS: dict[str, Construction] = {
    c.name: c
    for c in (
        Construction("binary", binary_two_layer, _binary_encode, _binary_decode,
                     "paper 001's two-layer binary-latent reduction, corrected (z in {±1}^n, x = 0)"),
        Construction("printed", printed_two_layer, _binary_encode, _binary_decode,
                     "paper 001's two-layer construction as printed (FLAWED: kept to exhibit counterexamples)",
                     flawed=True),
        Construction("four-layer", four_layer, _unit_encode, _unit_decode,
                     "paper 002 Theorem 1, Variant A: four layers R^n -> R^2 with biases, x = (m, 0)"),
        Construction("bias-free", bias_free, _homogeneous_encode, _homogeneous_decode,
                     "Variant B: four layers without biases, latent (z0, z), x = (1, 0)"),
        Construction("one-hidden", one_hidden, _unit_encode, _unit_decode,
                     "one hidden layer R^n -> R^(4n+m) -> R^2, x = (m, 0)"),
        Construction("katz", katz, _unit_encode, _unit_decode,
                     "Katz gadget + NeuroCodeBench Booleanity term, input box [0,1]^n, x = 0"),
    )
}


def get_construction(name: str) -> Construction:
    if name not in CONSTRUCTIONS:
        raise unknown_name("construction", name, CONSTRUCTIONS)
    return CONSTRUCTIONS[name]


def construct(cnf: CNF, construction: str = "four-layer", **options: Any) -> Instance:
    """Build the named construction's instance for ``cnf`` (options: ``radius=``, ``t=``)."""
    return get_construction(construction).build(cnf, **options)
