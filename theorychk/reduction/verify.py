"""Mechanical verification of a reduction instance against PySAT, exact arithmetic and a MILP.

:func:`verify` runs, for one :class:`~theorychk.reduction.constructions.Instance`:

``sat``
    PySAT decides the formula (a Glucose-family solver, so an UNSAT answer comes with a DRUP
    proof; the proof is written to ``proof_dir`` when given).
``models`` (a)
    Every model PySAT enumerates (up to ``max_models``) is encoded as a latent and
    ``G(latent) == target`` is checked EXACTLY with :func:`theorychk.exact.forward`.
``boolean-preimages`` (b)
    For ``n ≤ exhaustive_max_vars`` (default 12): all ``2^n`` Boolean latents are pushed through
    the network in exact integer arithmetic (every weight, bias and Boolean latent is an
    integer; overflow is ruled out up front) and the set of preimages must equal the set of
    models — PySAT's enumeration and a direct clause evaluation. Beyond that size, ``samples``
    random assignments are checked instead, and the report says ``"sampled"``.
``milp-preimage`` (c, satisfiable formulas)
    The MILP must find a latent with ``G(z) ≈ target``; it is decoded to an assignment, PySAT
    confirms it is a model (solving under the assignment as assumptions), and the decoded
    assignment's own latent is checked to be an exact preimage.
``construction`` (d, unsatisfiable formulas)
    The network, target, latent box and gap are exactly those of the construction rebuilt from
    the formula, so the construction's theorem (proved once, ``docs/reductions.md``) applies:
    an unsatisfiable formula has ``‖G(z) − target‖_∞ ≥ gap`` on the whole latent domain. With
    the DRUP proof this certifies the instance without a MILP, so the UNSAT side scales with
    the SAT solver (the MILP made ``reduce --verify`` stop at n ≈ 30).
``milp-gap`` (unsatisfiable formulas, only with ``milp_gap=True``; always for flawed constructions)
    The MILP minimises ``‖G(z) − target‖_∞`` over the latent domain and must prove the minimum
    is at least the construction's gap (½ or 1) minus ``gap_tol``: an independent cross-check.
    The MILP works in floating point: this is "MILP-proven", not exact.
``drup-proof`` (unsatisfiable formulas)
    PySAT's DRUP proof is re-checked by the trusted :func:`theorychk.check.drup.check_drup`:
    CERTIFIED when it verifies; UNKNOWN ("proof not verified: ...") when it is rejected or the
    time runs out. Never REFUTED: a proof that fails to check says nothing about the formula,
    and REFUTED needs a witness (a satisfying assignment, which the other parts look for).

The MILP is :func:`theorychk.solvers.milp.minimize_residual` — the encoder of the ``milp``
inversion method — on the instance's latent domain: the box ``[latent_lo, latent_hi]``
(``[−1, 1]^n`` for ``four-layer``, ``[0, 1]^n`` for ``katz``, ...), or its vertices when the
latent is binary (``binary``, ``printed``: ``z ∈ {±1}^n``). The report names the engine
(:data:`theorychk.solvers.milp.ENGINE`). Every part honours the shared time limit and ends
UNKNOWN when it runs out.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from theorychk.errors import InvalidInput, Reason
from theorychk.network import Network, row_model
from theorychk.check.drup import DrupOutcome, check_drup
from theorychk.reduction.cnf import SatResult, SatStatus, assignment_to_literals, enumerate_models, solve
from theorychk.reduction.constructions import Instance
from theorychk.runtime import DEFAULT_TIME_LIMIT, Deadline, progress
from theorychk.solvers.milp import ENGINE, MilpResult, minimize_residual
from theorychk.verdict import EngineStatus, Status, jsonable

__all__ = ["Check", "VerificationReport", "verify", "run_milp", "boolean_preimages", "integer_forward"]

#: Exhaustive Boolean check up to this many variables (2^12 = 4096 latents).
DEFAULT_EXHAUSTIVE_MAX_VARS = 12
DEFAULT_SAMPLES = 1000
DEFAULT_MAX_MODELS = 256
#: Slack on the MILP-proven gap: the bound must be ``≥ gap − gap_tol``. HiGHS stops at a relative
#: gap of 1e-6, so a bound of 0.999999 on a true minimum of 1 is normal; 1e-4 is far below the
#: VNN-LIB tolerance ε = 1/8 that the gap protects.
DEFAULT_GAP_TOL = 1e-4
#: A MILP latent "reproduces the target" if its float residual is at most this (times max(1, ‖x‖)).
DEFAULT_RESIDUAL_TOL = 1e-6


@dataclass(frozen=True)
class Check:
    """One verification part: ``status`` with the ``method`` that decided it (``"exact"``,
    ``"exhaustive, exact integer arithmetic"``, ``"sampled, ..."``, ``"MILP-proven"``, ...)."""

    name: str
    status: Status
    method: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "method": self.method,
            "message": self.message,
            "details": jsonable(self.details, exact_floats=False),
        }


@dataclass(frozen=True)
class VerificationReport:
    """All checks of one instance. ``status``: REFUTED if any check is, else UNKNOWN if any
    is, else CERTIFIED. ``exhaustive`` says whether (b) covered every Boolean latent."""

    instance: dict[str, Any]
    sat: SatResult
    checks: tuple[Check, ...]
    status: Status
    exhaustive: bool
    settings: dict[str, Any]
    elapsed: float
    proof_path: str | None = None

    def check(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "instance": self.instance,
            "sat": self.sat.to_dict(),
            "exhaustive": self.exhaustive,
            "checks": [c.to_dict() for c in self.checks],
            "proof_path": self.proof_path,
            "settings": jsonable(self.settings, exact_floats=False),
            "elapsed_seconds": round(self.elapsed, 6),
        }


# --------------------------------------------------------------------------------------------
# Exact integer forward pass over many Boolean latents
# --------------------------------------------------------------------------------------------


def integer_forward(net: Network, latents: np.ndarray) -> np.ndarray:
    """``G`` on a batch of integer latents in exact int64 arithmetic.

    Valid for ReLU/identity layers with integer weights and biases; a magnitude bound per layer
    (``max|x_{i+1}| ≤ ‖W_i‖_∞·max|x_i| + max|b_i|``) is checked against ``2^62`` first, so no
    intermediate can overflow. Anything else is an :class:`InvalidInput`.
    """
    x = np.asarray(latents)
    if x.dtype.kind == "f":
        if not np.array_equal(x, np.round(x)):
            raise InvalidInput("integer_forward needs integer latents", argument="latents", got=latents)
    x = x.astype(np.int64)
    bound = float(np.max(np.abs(x), initial=0))
    for i, layer in enumerate(net.layers):
        w, b = layer.weight, layer.bias
        if not (np.array_equal(w, np.round(w)) and np.array_equal(b, np.round(b))):
            raise InvalidInput(f"integer_forward needs integer weights; layer {i} has non-integers",
                               argument=f"layers[{i}].weight", got="non-integer entries")
        if row_model(layer.activation).family not in ("linear", "relu"):
            raise InvalidInput(f"integer_forward handles relu and identity; layer {i} is {layer.activation.spec!r}",
                               argument=f"layers[{i}].activation", got=layer.activation.spec)
        bound = float(np.max(np.abs(w).sum(axis=1))) * bound + float(np.max(np.abs(b)))
        if bound >= 2.0**62:
            raise InvalidInput(f"integer_forward: layer {i} values could exceed 2^62; use theorychk.exact.forward",
                               argument="net", got=bound)
        x = x @ w.astype(np.int64).T + b.astype(np.int64)
        if row_model(layer.activation).family == "relu":
            x = np.maximum(x, 0)  # in int64: ReLU's float __call__ would leave the integers
    return x


def _all_assignments(n: int) -> np.ndarray:
    return np.array(list(itertools.product((False, True), repeat=n)), dtype=bool).reshape(-1, n)


def _satisfied(instance: Instance, assignments: np.ndarray) -> np.ndarray:
    """Direct clause evaluation on a batch of assignments (independent of the SAT solver)."""
    ok = np.ones(len(assignments), dtype=bool)
    for clause in instance.cnf.clauses:
        sat = np.zeros(len(assignments), dtype=bool)
        for lit in clause:
            col = assignments[:, abs(lit) - 1]
            sat |= col if lit > 0 else ~col
        ok &= sat
    return ok


def _latents(instance: Instance, assignments: np.ndarray) -> np.ndarray:
    rows = [instance.encode(a) for a in assignments]
    out = np.array([[int(v) for v in row] for row in rows], dtype=np.int64)
    if any(Fraction(int(v)) != v for row in rows for v in row):
        raise InvalidInput(f"construction {instance.construction!r} encodes assignments to non-integer latents",
                           argument="instance", got=instance.construction)
    return out.reshape(len(assignments), instance.latent_dim)


def boolean_preimages(instance: Instance, assignments: np.ndarray) -> np.ndarray:
    """For each assignment: is its latent a preimage of the target (exact integer arithmetic)?"""
    target = np.array([int(t) for t in instance.target], dtype=np.int64)
    if any(Fraction(int(t)) != t for t in instance.target):
        raise InvalidInput("boolean_preimages needs an integer target",
                           argument="instance.target", got=instance.target)
    out = integer_forward(instance.network, _latents(instance, assignments))
    return np.all(out == target, axis=1)


# --------------------------------------------------------------------------------------------
# MILP adapter
# --------------------------------------------------------------------------------------------


def run_milp(instance: Instance, *, time_limit: float | None, cutoff: float | None = None) -> MilpResult:
    """``min ‖G(z) − target‖_∞`` over the instance's latent domain, by
    :func:`theorychk.solvers.milp.minimize_residual`: the box ``[latent_lo, latent_hi]``, or its
    vertices when ``instance.binary_latent``. ``cutoff=c`` only decides whether the minimum is
    below ``c`` (status ``"cutoff"``: ``min ≥ c`` proven, ``bound = c``).
    """
    target = np.array([float(t) for t in instance.target])
    lo = np.array([float(v) for v in instance.latent_lo])
    hi = np.array([float(v) for v in instance.latent_hi])
    return minimize_residual(instance.network, target, box=(lo, hi), vertices=instance.binary_latent,
                             norm="linf", cutoff=cutoff, time_limit=time_limit)


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------


def _left(deadline: Deadline) -> float | None:
    """The time left as a limit for a sub-step (``None``: no limit); never 0, which is no limit's opposite."""
    left = deadline.remaining()
    return None if left is None else max(left, 1e-3)


def _short(values: Any, limit: int = 8) -> str:
    """A readable, bounded rendering of a vector for messages (the details keep it whole)."""
    items = [str(v) for v in jsonable(list(values))]
    text = ", ".join(items[:limit])
    return "(" + text + (f", ... {len(items)} values)" if len(items) > limit else ")")


def _unknown(name: str, why: str, method: str = "") -> Check:
    return Check(name, Status.UNKNOWN, method, why)


def _check_models(instance: Instance, sat: SatResult, deadline: Deadline, max_models: int) -> tuple[Check, list]:
    name, method = "models", "exact (theorychk.exact.forward)"
    if sat.status == SatStatus.UNKNOWN:
        return _unknown(name, "the SAT solver did not finish (time limit)", method), []
    if sat.status == SatStatus.UNSAT:
        return Check(name, Status.CERTIFIED, method, "vacuous: the formula has no models", {"models_checked": 0}), []
    enum = enumerate_models(instance.cnf, limit=max_models, time_limit=_left(deadline))
    models = list(enum.models)
    checked = 0
    for model in models:
        if deadline.expired():
            return _unknown(name, f"{Reason.TIME_LIMIT} after {checked} of {len(models)} models", method), models
        latent = instance.encode(model)
        out = instance.output(latent)
        checked += 1
        if out != instance.target:
            return Check(
                name, Status.REFUTED, method,
                f"model {_short(assignment_to_literals(model))} maps to latent {_short(latent)} with "
                f"G = {_short(out)} != target {_short(instance.target)}",
                {"model": assignment_to_literals(model), "latent": latent, "output": out, "models_checked": checked},
            ), models
    scope = "every model" if enum.complete else f"the first {checked} models ({enum.reason})"
    return Check(name, Status.CERTIFIED, method,
                 f"{scope} of the formula maps to an exact preimage of the target",
                 {"models_checked": checked, "complete": enum.complete}), models


def _check_boolean(instance: Instance, sat: SatResult, deadline: Deadline, exhaustive_max_vars: int,
                   samples: int, rng: np.random.Generator) -> tuple[Check, bool]:
    name = "boolean-preimages"
    n = instance.cnf.n_vars
    if n <= exhaustive_max_vars:
        method = f"exhaustive over all 2^{n} Boolean latents, exact integer arithmetic"
        assignments = _all_assignments(n)
        pre = boolean_preimages(instance, assignments)
        direct = _satisfied(instance, assignments)
        enum = enumerate_models(instance.cnf, limit=2**n + 1, time_limit=_left(deadline))
        if not enum.complete:
            return _unknown(name, f"model enumeration stopped ({enum.reason})", method), True
        pysat_models = {tuple(m) for m in enum.models}
        direct_models = {tuple(bool(v) for v in a) for a in assignments[direct]}
        if pysat_models != direct_models:
            diff = next(iter(pysat_models ^ direct_models))
            return Check(name, Status.REFUTED, method,
                         f"PySAT's models and direct clause evaluation disagree on {_short(assignment_to_literals(diff))}",
                         {"assignment": assignment_to_literals(diff)}), True
        if sat.status != SatStatus.UNKNOWN and (sat.status == SatStatus.SAT) != bool(pysat_models):
            return Check(name, Status.REFUTED, method, f"the SAT answer {sat.status} disagrees with enumeration"), True
        mismatch = np.flatnonzero(pre != direct)
        if mismatch.size:
            a = tuple(bool(v) for v in assignments[mismatch[0]])
            kind = "is a preimage but not a model" if pre[mismatch[0]] else "is a model but not a preimage"
            return Check(name, Status.REFUTED, method,
                         f"assignment {_short(assignment_to_literals(a))} {kind} ({int(mismatch.size)} mismatches in all)",
                         {"assignment": assignment_to_literals(a), "mismatches": int(mismatch.size),
                          "preimages": int(pre.sum()), "models": int(direct.sum())}), True
        return Check(name, Status.CERTIFIED, method,
                     f"the Boolean preimages of the target are exactly the {int(direct.sum())} models",
                     {"assignments": int(2**n), "preimages": int(pre.sum()), "models": int(direct.sum())}), True
    method = f"sampled: {samples} random assignments of 2^{n} (n = {n} > {exhaustive_max_vars}), exact integer arithmetic"
    assignments = rng.integers(0, 2, size=(samples, n)).astype(bool)
    if sat.model is not None:
        assignments = np.vstack([assignments, np.array(sat.model, dtype=bool)[None, :]])
    pre = boolean_preimages(instance, assignments)
    direct = _satisfied(instance, assignments)
    mismatch = np.flatnonzero(pre != direct)
    if mismatch.size:
        a = tuple(bool(v) for v in assignments[mismatch[0]])
        kind = "is a preimage but not a model" if pre[mismatch[0]] else "is a model but not a preimage"
        return Check(name, Status.REFUTED, method, f"assignment {_short(assignment_to_literals(a))} {kind}",
                     {"assignment": assignment_to_literals(a), "mismatches": int(mismatch.size)}), False
    return Check(name, Status.CERTIFIED, method,
                 f"on {len(assignments)} sampled assignments (incl. PySAT's model if any), preimage <=> model "
                 f"(not exhaustive: n = {n} > {exhaustive_max_vars})",
                 {"sampled": int(len(assignments)), "preimages": int(pre.sum())}), False


def _pysat_confirms(instance: Instance, assignment: tuple[bool, ...]) -> bool:
    from pysat.solvers import Solver

    from theorychk.reduction.cnf import SOLVER_PREFERENCE, _pick_solver

    with Solver(name=_pick_solver(SOLVER_PREFERENCE, None), bootstrap_with=[list(c) for c in instance.cnf.clauses]) as s:
        return bool(s.solve(assumptions=assignment_to_literals(assignment))) and instance.cnf.satisfied_by(assignment)


def _check_milp(instance: Instance, sat: SatResult, deadline: Deadline, gap_tol: float) -> Check:
    if sat.status == SatStatus.UNKNOWN:
        return _unknown("milp", "the SAT solver did not finish (time limit)")
    name = "milp-preimage" if sat.status == SatStatus.SAT else "milp-gap"
    if deadline.expired():
        return _unknown(name, f"{Reason.TIME_LIMIT} before the MILP ran")
    res = run_milp(instance, time_limit=_left(deadline))
    tol = DEFAULT_RESIDUAL_TOL * max(1.0, max(abs(float(t)) for t in instance.target))
    details: dict[str, Any] = {**res.to_dict(), "residual_tol": tol}
    found = res.latent is not None and res.objective <= tol
    if found:
        assignment = instance.decode(res.latent)
        exact_pre = instance.is_preimage(instance.encode(assignment))
        confirmed = _pysat_confirms(instance, assignment)
        details.update(latent=res.latent, decoded=assignment_to_literals(assignment),
                       pysat_confirms=confirmed, decoded_latent_is_exact_preimage=exact_pre)
    if sat.status == SatStatus.SAT:
        method = f"MILP ({res.engine}) + PySAT + exact"
        if found and details["pysat_confirms"] and details["decoded_latent_is_exact_preimage"]:
            return Check(name, Status.CERTIFIED, method,
                         f"the MILP found a latent with residual {res.objective:.3g}; it decodes to a model PySAT "
                         f"confirms, whose latent is an exact preimage", details)
        if found:
            return Check(name, Status.REFUTED, method,
                         f"the MILP's latent (residual {res.objective:.3g}) decodes to "
                         f"{_short(details['decoded'])}, which is not a model / not an exact preimage", details)
        if res.status == EngineStatus.TIME_LIMIT:
            return Check(name, Status.UNKNOWN, method, f"{Reason.TIME_LIMIT} before the MILP found a preimage",
                         details)
        return Check(name, Status.REFUTED, method,
                     f"the formula is satisfiable but the MILP ended {res.status} with least residual "
                     f"{res.objective:.3g} (bound {res.bound:.3g})", details)
    gap = instance.gap_linf
    need = (float(gap) - gap_tol) if gap is not None else tol
    method = f"MILP-proven ({res.engine}; floating point, not exact)"
    details.update(claimed_gap=gap, required_bound=need)
    if found:
        return Check(name, Status.REFUTED, method,
                     f"the formula is unsatisfiable but the MILP found a latent with residual {res.objective:.3g} "
                     f"(decodes to {_short(details['decoded'])})", details)
    if res.bound >= need:
        what = f"min ||G(z) - x||_inf >= {res.bound:.6g} >= {gap} - {gap_tol:g}" if gap is not None else \
            f"min ||G(z) - x||_inf >= {res.bound:.6g} > {tol:g}"
        return Check(name, Status.CERTIFIED, method,
                     f"no preimage in the latent domain: {what} (best found {res.objective:.6g})", details)
    if res.latent is not None and gap is not None:
        # A refutation needs a witness: the MILP's latent, its residual recomputed exactly.
        exact_res = max(abs(o - t) for o, t in zip(instance.output([Fraction(float(v)) for v in res.latent]),
                                                      instance.target))
        details["exact_residual_of_latent"] = exact_res
        if exact_res < gap:
            return Check(name, Status.REFUTED, method,
                         f"the MILP's latent has exact residual {float(exact_res):.6g} < the claimed gap {gap}",
                         details)
    why = Reason.TIME_LIMIT if res.status == EngineStatus.TIME_LIMIT else f"{Reason.BOUND_GAP} ({res.status})"
    return Check(name, Status.UNKNOWN, method,
                 f"{why}: the MILP's bound reached {res.bound:.6g}, not the required {need:.6g}, and no latent "
                 f"below the gap was found", details)


def _check_construction(instance: Instance) -> Check:
    """The instance's network, target and latent domain are exactly the construction's for its
    formula, so the construction's theorem (proved once, ``docs/reductions.md``) applies:
    formula unsatisfiable ⇒ ``‖G(z) − x‖ ≥ gap`` on the whole latent domain."""
    from theorychk.reduction.constructions import construct

    name, method = "construction", "exact rebuild from the formula + the construction's theorem (docs/reductions.md)"
    options = {"radius": instance.params["radius"]} if "radius" in instance.params else {}
    rebuilt = construct(instance.cnf, instance.construction, **options)
    same = (rebuilt.network == instance.network and rebuilt.target == instance.target
            and rebuilt.latent_lo == instance.latent_lo and rebuilt.latent_hi == instance.latent_hi
            and rebuilt.binary_latent == instance.binary_latent and rebuilt.gap_linf == instance.gap_linf)
    details = {"gap_linf": instance.gap_linf, "gap_l1": instance.gap_l1, "theorem": instance.statement}
    if not same:
        return Check(name, Status.REFUTED, method,
                     f"the network, target or latent box differs from construction {instance.construction!r} "
                     f"rebuilt from the formula: its theorem does not apply", details)
    return Check(name, Status.CERTIFIED, method,
                 f"the network is exactly {instance.construction!r}(formula); by its theorem an unsatisfiable "
                 f"formula has min ||G(z) - x||_inf >= {instance.gap_linf} over the latent domain (no MILP needed; "
                 f"with the DRUP proof this certifies the instance)", details)


def _check_proof(instance: Instance, sat: SatResult, deadline: Deadline) -> Check:
    name, method = "drup-proof", "DRUP, forward RUP check (theorychk.check.drup.check_drup)"
    if sat.proof is None:
        return _unknown(name, "no proof (the solver did not finish)", method)
    res = check_drup(instance.cnf, sat.proof, time_limit=_left(deadline))
    counts = f"{res.lemmas} lemmas, {res.deletions} deletions ({res.ignored_deletions} of level-0 reasons ignored)"
    if res.outcome is DrupOutcome.VERIFIED:
        return Check(name, Status.CERTIFIED, method, f"{res.reason}: {counts}", res.to_dict())
    # A rejected proof is evidence against the proof, not against the UNSAT answer: UNKNOWN.
    return Check(name, Status.UNKNOWN, method, f"proof not verified: {res.reason} ({counts})", res.to_dict())


def verify(
    instance: Instance,
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    exhaustive_max_vars: int = DEFAULT_EXHAUSTIVE_MAX_VARS,
    samples: int = DEFAULT_SAMPLES,
    max_models: int = DEFAULT_MAX_MODELS,
    milp: bool = True,
    milp_gap: bool = False,
    gap_tol: float = DEFAULT_GAP_TOL,
    proof_dir: str | Path | None = None,
    seed: int = 0,
    quiet: bool = True,
) -> VerificationReport:
    """Verify ``instance`` (module docstring); every part shares ``time_limit`` seconds.

    Examples
    --------
    >>> from theorychk.reduction.cnf import CNF
    >>> from theorychk.reduction.constructions import four_layer
    >>> report = verify(four_layer(CNF(2, [[1, 2], [-1, 2], [-2]])))
    >>> report.sat.status.value, report.status.value, [c.name for c in report.checks]
    ('UNSAT', 'CERTIFIED', ['models', 'boolean-preimages', 'construction', 'drup-proof'])

    ``milp_gap=True`` also runs the MILP on an unsatisfiable formula (an independent, slower
    cross-check of the gap); without it the UNSAT side needs no MILP (module docstring).
    """
    for label, value, low in (("exhaustive_max_vars", exhaustive_max_vars, 0), ("samples", samples, 1),
                              ("max_models", max_models, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InvalidInput(f"{label} must be an integer >= {low}; got {value!r}",
                               argument=label, got=value)
    if exhaustive_max_vars > 20:
        raise InvalidInput(f"exhaustive_max_vars must be <= 20 (2^20 latents); got {exhaustive_max_vars}",
                           argument="exhaustive_max_vars", got=exhaustive_max_vars)
    if not (isinstance(gap_tol, (int, float)) and 0 <= gap_tol < 0.25):
        raise InvalidInput(f"gap_tol must be in [0, 0.25); got {gap_tol!r}", argument="gap_tol", got=gap_tol)
    start = time.perf_counter()
    deadline = Deadline(time_limit)
    rng = np.random.default_rng(seed)
    checks: list[Check] = []
    steps = 4 if milp else 3
    with progress(f"verifying {instance.name}", total=steps, quiet=quiet) as bar:
        sat = solve(instance.cnf, proof=True, time_limit=_left(deadline))
        proof_path = None
        if sat.proof is not None and proof_dir is not None:
            p = Path(proof_dir) / f"{instance.cnf.name or 'formula'}.drup"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("\n".join(sat.proof) + "\n", encoding="ascii")
            proof_path = str(p)
        # The proof check is cheap and the only exact evidence of UNSAT: run it before the MILP can
        # spend the shared time limit (it is still reported last).
        proof_check = _check_proof(instance, sat, deadline) if sat.status == SatStatus.UNSAT else None
        bar.advance()
        models_check, _ = _check_models(instance, sat, deadline, max_models)
        checks.append(models_check)
        bar.advance()
        if deadline.expired():
            checks.append(_unknown("boolean-preimages", Reason.TIME_LIMIT))
            exhaustive = False
        else:
            boolean_check, exhaustive = _check_boolean(instance, sat, deadline, exhaustive_max_vars, samples, rng)
            checks.append(boolean_check)
        bar.advance()
        if sat.status == SatStatus.UNSAT and not instance.flawed:
            checks.append(_check_construction(instance))
        if milp and (sat.status != SatStatus.UNSAT or milp_gap or instance.flawed):
            checks.append(_check_milp(instance, sat, deadline, gap_tol))
        bar.advance()
        if proof_check is not None:
            checks.append(proof_check)
    statuses = {c.status for c in checks}
    status = Status.REFUTED if Status.REFUTED in statuses else (Status.UNKNOWN if Status.UNKNOWN in statuses
                                                                 else Status.CERTIFIED)
    settings = {"time_limit": time_limit, "exhaustive_max_vars": exhaustive_max_vars, "samples": samples,
                "max_models": max_models, "milp": milp, "milp_gap": milp_gap, "engine": ENGINE, "gap_tol": gap_tol, "seed": seed}
    return VerificationReport(instance.summary(), sat, tuple(checks), status, exhaustive, settings,
                              time.perf_counter() - start, proof_path)
