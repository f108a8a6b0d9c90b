"""Concrete, exactly verified counterexamples to the flawed constructions.

:func:`printed_counterexamples` refutes the two-layer construction as printed in paper 001
(Appendix B, :func:`~theorychk.reduction.constructions.printed_two_layer`);
:func:`katz_counterexamples` shows why the Katz gadget needs both the Booleanity term and the
input box ``[0, 1]^n`` (:func:`~theorychk.reduction.constructions.katz`). Every counterexample
carries its latent and the network output computed in exact rational arithmetic
(:func:`theorychk.exact.forward`); a function only returns counterexamples it has verified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from theorychk import exact
from theorychk.network import Layer, Network
from theorychk.reduction.cnf import CNF, SatStatus, assignment_to_literals, enumerate_models, solve
from theorychk.reduction.constructions import Instance, exact_output, katz, printed_two_layer
from theorychk.verdict import jsonable

__all__ = ["Counterexample", "printed_counterexamples", "katz_counterexamples"]


@dataclass(frozen=True)
class Counterexample:
    """A latent that refutes ``claim``: ``output = G(latent)`` exactly, against ``target``."""

    kind: str
    claim: str
    explanation: str
    latent: tuple[Fraction, ...]
    output: tuple[Fraction, ...]
    target: tuple[Fraction, ...]
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "claim": self.claim,
            "explanation": self.explanation,
            "latent": jsonable(self.latent),
            "output": jsonable(self.output),
            "target": jsonable(self.target),
            "details": jsonable(self.details),
        }


def _hidden(inst: Instance, latent: tuple[Fraction, ...]) -> tuple[Fraction, ...]:
    net = inst.network
    return exact.forward([(lay.weight, lay.bias, lay.activation.spec) for lay in net.layers], list(latent))[0]


def printed_counterexamples(cnf: CNF) -> list[Counterexample]:
    """Counterexamples to the printed two-layer construction of paper 001, for this formula.

    Kinds (each verified exactly; the formula must be 3-CNF with distinct variables per clause):

    ``real-latent``
        ``z = 0`` (a real latent) gives ``G(0) = [0 | 0]`` — the target for ``t = 0`` — for
        every formula, satisfiable or not: over ``R^n`` the printed problem is trivial.
    ``and-not-or``
        A binary ``z`` satisfying clause ``j`` through one literal: hidden unit ``j`` is
        ``ReLU(S_j·z − 2) = 0``, though the paper says it is 1 exactly when the clause is true.
        The unit fires only when all three literals are true (an AND).
    ``model-not-preimage`` (satisfiable formulas)
        A model ``z*`` of the formula with ``G(z*) ≠ [m | 0]``: the query "t = m clauses true"
        misses satisfying assignments.
    ``preimage-not-model``
        A binary ``z`` with ``G(z) = [0 | 0]`` (the ``t = 0`` query) that violates a clause:
        ``t`` counts all-literals-true clauses, not satisfied (or violated) ones.

    Examples
    --------
    >>> from theorychk.reduction.cnf import CNF
    >>> f = CNF(3, [[1, 2, 3], [-1, -2, 3], [1, -2, -3]])
    >>> [c.kind for c in printed_counterexamples(f)]
    ['real-latent', 'and-not-or', 'model-not-preimage', 'preimage-not-model']
    """
    inst0 = printed_two_layer(cnf, t=0)
    inst_m = printed_two_layer(cnf)
    m, n = cnf.n_clauses, cnf.n_vars
    answer = solve(cnf)
    found: list[Counterexample] = []

    zero = (Fraction(0),) * n
    out = exact_output(inst0.network, zero)
    if out == inst0.target:
        found.append(Counterexample(
            "real-latent", "the printed network is hard to invert (NP-hardness of G(z) = x)",
            f"the real latent z = 0 reaches the t = 0 target [0 | 0] for every formula (this one is "
            f"{answer.status}): b1 = -2 switches every hidden unit off",
            zero, out, inst0.target, {"formula_status": answer.status},
        ))

    clause = cnf.deduplicated()[0]
    assignment = [False] * n
    for k, lit in enumerate(clause):
        assignment[abs(lit) - 1] = (lit > 0) if k == 0 else (lit < 0)  # first literal true, the others false
    latent = inst0.encode(assignment)
    hidden = _hidden(inst0, latent)
    if hidden[0] == 0 and assignment_satisfies(clause, assignment):
        found.append(Counterexample(
            "and-not-or", "hidden unit j is 1 iff clause j is true under z",
            f"clause 0 {clause} is satisfied by z (its first literal is true), yet hidden unit 0 = "
            f"ReLU(S_0 z - 2) = {hidden[0]}: the unit is an AND of the literals, firing only when all are true",
            latent, exact_output(inst0.network, latent), inst0.target,
            {"clause": list(clause), "hidden_unit": hidden[0], "assignment": assignment_to_literals(assignment)},
        ))

    if answer.status == SatStatus.SAT:
        for model in enumerate_models(cnf, limit=64).models:
            latent = inst_m.encode(model)
            out = exact_output(inst_m.network, latent)
            if out != inst_m.target:
                found.append(Counterexample(
                    "model-not-preimage", f"G(z) = [t | 0] with t = m = {m} iff z satisfies all m clauses",
                    f"z satisfies every clause, but G(z)[0] = {out[0]} != {m}: the output counts clauses whose "
                    f"literals are ALL true",
                    latent, out, inst_m.target, {"model": assignment_to_literals(model)},
                ))
                break

    # Boolean z with G(z) = [0 | 0] under the printed signs <=> no clause has all literals true
    # <=> z satisfies the formula with every literal negated; pick one that violates the formula.
    negated = CNF(n, tuple(tuple(-lit for lit in c) for c in cnf.clauses))
    for z_assign in enumerate_models(negated, limit=256).models:
        violated = cnf.violated(z_assign)
        if violated:
            latent = inst0.encode(z_assign)
            out = exact_output(inst0.network, latent)
            if out == inst0.target:
                found.append(Counterexample(
                    "preimage-not-model", "G(z) = [0 | 0] (t = 0) iff z satisfies ... (the printed count semantics)",
                    f"G(z) = [0 | 0] although z violates clause {violated[0]} {cnf.clauses[violated[0]]}: with the "
                    f"printed signs, t counts all-true clauses; the Karp reduction needs negated signs and t = 0",
                    latent, out, inst0.target,
                    {"assignment": assignment_to_literals(z_assign), "violated_clauses": list(violated)},
                ))
                break
    return found


def assignment_satisfies(clause: tuple[int, ...], assignment: list[bool] | tuple[bool, ...]) -> bool:
    return any(assignment[abs(lit) - 1] == (lit > 0) for lit in clause)


def _gadget_only(inst: Instance) -> Network:
    """The Katz network without its Booleanity term: output ``Σ_j c_j`` only."""
    m = inst.cnf.n_clauses
    first, last = inst.network.layers
    w1 = np.zeros_like(last.weight)
    w1[0, :m] = 1
    return Network((first, Layer(w1.astype(np.float32), last.bias.astype(np.float32), "identity", dtype="float32")),
                   name="katz-without-booleanity")


def katz_counterexamples(cnf: CNF) -> list[Counterexample]:
    """Why :func:`~theorychk.reduction.constructions.katz` needs its Booleanity term and its box.

    ``no-booleanity``
        Without the Booleanity term, ``x = ½·1`` gives every clause of width ≥ 2 the gadget value
        ``ReLU(1 − w_j/2) = 0``, so the output is the target 0 for every such formula.
    ``outside-box``
        With the term but outside ``[0, 1]^n``: along a ray ``x = ½·1 + t·a`` (``a ≥ 0``) the
        output is ``Σ_j ReLU(1 − w_j/2 + t·d_j) + n/2 − t·Σ a`` with ``d_j = Σ_{¬x_i ∈ C_j} a_i −
        Σ_{x_i ∈ C_j} a_i``; an LP finds ``a`` with slope ``Σ_j max(0, d_j) − Σ a < 0`` when one
        exists, and the exact root ``t*`` gives a non-Boolean preimage of 0 (for an
        unsatisfiable formula: a false "yes"). Not every formula has such a ray; the list then
        holds only the first kind.

    Examples
    --------
    >>> f = CNF(2, [[1], [-1], [1, 2]])          # unsatisfiable; x2 occurs only positively
    >>> [(c.kind, [str(v) for v in c.latent]) for c in katz_counterexamples(f)][-1]
    ('outside-box', ['1/2', '5/2'])
    """
    inst = katz(cnf)
    n = cnf.n_vars
    clauses = cnf.deduplicated()
    found: list[Counterexample] = []
    half = (Fraction(1, 2),) * n
    answer = solve(cnf).status
    if all(len(c) >= 2 for c in clauses):
        ablated = _gadget_only(inst)
        out = exact_output(ablated, half)
        if out == inst.target:
            found.append(Counterexample(
                "no-booleanity", "the Katz clause gadgets alone reduce 3SAT (x in [0,1]^n, output 0 iff satisfiable)",
                f"x = 1/2 everywhere satisfies every clause gadget (formula is {answer}); the Booleanity term "
                f"sum_i (x_i - ReLU(2x_i - 1)) is what rules it out",
                half, out, inst.target, {"formula_status": answer, "network": "gadgets only"},
            ))
    ray = _outside_box_ray(clauses, n)
    if ray is not None:
        latent = ray
        out = exact_output(inst.network, latent)
        if out == inst.target and any(v > 1 or v < 0 for v in latent):
            found.append(Counterexample(
                "outside-box", "G(x) = 0 iff x is a satisfying assignment (the box [0,1]^n dropped)",
                f"x is outside [0,1]^n and not Boolean, yet G(x) = 0 (formula is {answer}): for x_i > 1 the "
                f"Booleanity term 1 - x_i is negative and cancels the violated clauses",
                latent, out, inst.target, {"formula_status": answer},
            ))
    return found


def _outside_box_ray(clauses: tuple[tuple[int, ...], ...], n: int) -> tuple[Fraction, ...] | None:
    """An exact non-Boolean zero of the Katz network on a ray out of the box, or ``None``."""
    from scipy.optimize import linprog

    m = len(clauses)
    # variables: a (n), s (m); minimise Σ s − Σ a with s_j ≥ d_j(a), s ≥ 0, a ≥ 0, Σ a = 1
    d = np.zeros((m, n))
    for j, clause in enumerate(clauses):
        for lit in clause:
            d[j, abs(lit) - 1] += -1.0 if lit > 0 else 1.0
    cost = np.concatenate([-np.ones(n), np.ones(m)])
    a_ub = np.hstack([d, -np.eye(m)])
    res = linprog(cost, A_ub=a_ub, b_ub=np.zeros(m), A_eq=np.concatenate([np.ones(n), np.zeros(m)])[None, :],
                  b_eq=[1.0], bounds=[(0, None)] * (n + m), method="highs")
    if res.status != 0 or res.fun >= -1e-9:
        return None
    a = [max(Fraction(float(v)).limit_denominator(10**6), Fraction(0)) for v in res.x[:n]]
    dj = [sum((-a[abs(lit) - 1] if lit > 0 else a[abs(lit) - 1]) for lit in c) for c in clauses]
    const = [1 - Fraction(len(c), 2) for c in clauses]
    slope = sum(max(Fraction(0), x) for x in dj) - sum(a)
    if slope >= 0:
        return None

    def g(t: Fraction) -> Fraction:
        return sum(max(Fraction(0), c0 + t * dd) for c0, dd in zip(const, dj)) + Fraction(n, 2) - t * sum(a)

    breaks = sorted({-c0 / dd for c0, dd in zip(const, dj) if dd != 0 and -c0 / dd > 0})
    prev = Fraction(0)
    for t in breaks + [None]:
        if t is None:
            root = prev + g(prev) / (-slope)  # linear beyond the last breakpoint
        elif g(t) > 0:
            prev = t
            continue
        else:  # g is linear on [prev, t] and changes sign there
            root = prev + g(prev) * (t - prev) / (g(prev) - g(t))
        return tuple(Fraction(1, 2) + root * ai for ai in a)
    return None  # pragma: no cover - the loop always returns
