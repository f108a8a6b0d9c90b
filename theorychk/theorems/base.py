"""The :class:`Theorem` type, its :class:`Report`, the registry and the Hypothesis falsifier.

A theorem is an executable statement: ``hypotheses(instance)`` and ``conclusion(instance,
result)`` each return a :class:`Report` (every item true/false with its numbers, exact where it
is a claim), ``bound`` is the predicted bound written once as a sympy expression (pretty-printed
as the paper prints it, evaluated exactly on rationals by :meth:`Theorem.evaluate_bound`), and
``run(instance)`` computes the result the conclusion speaks about (the paper's algorithm, or an
exact decision). :func:`falsify` lets Hypothesis search ``instances()`` for an instance whose
hypotheses hold and whose conclusion fails, and returns the shrunk counterexample.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy

from theorychk.errors import InvalidInput
from theorychk.verdict import jsonable

__all__ = ["Check", "Report", "Theorem", "REGISTRY", "register", "get_theorem", "all_theorems",
           "FalsifyResult", "falsify", "to_rational", "STATUSES"]

#: ``holds``: correct as printed; ``corrected``: printed statement garbled or wrong in a detail,
#: the corrected one holds; ``false as printed``: the printed statement is refuted (a
#: counterexample exists) — its corrected form, where one exists, is a separate object or the
#: ``corrected`` text.
STATUSES = ("holds", "corrected", "false as printed")


def to_rational(value: Any) -> sympy.Rational:
    """An exact sympy Rational of an int, Fraction or (dyadic) float — never a rounded decimal."""
    if isinstance(value, sympy.Basic):
        return value
    q = Fraction(value) if not isinstance(value, Fraction) else value
    return sympy.Rational(q.numerator, q.denominator)


@dataclass(frozen=True)
class Check:
    """One hypothesis or conclusion item: ``holds`` is True/False (None: undecided) with numbers."""

    name: str
    holds: bool | None
    values: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "holds": self.holds, "values": jsonable(dict(self.values))}

    def __str__(self) -> str:
        mark = {True: "yes", False: "NO", None: "?"}[self.holds]
        nums = ", ".join(f"{k}={_short(v)}" for k, v in self.values.items())
        return f"[{mark:>3}] {self.name}" + (f"  ({nums})" if nums else "")


def _short(v: Any) -> str:
    s = str(v)
    return s if len(s) <= 60 else s[:57] + "..."


@dataclass(frozen=True)
class Report:
    """The items of a theorem's hypotheses or conclusion on one instance."""

    theorem: str
    part: str  # "hypotheses" or "conclusion"
    checks: tuple[Check, ...]
    note: str = ""

    @property
    def holds(self) -> bool | None:
        """True iff every item holds; False if one fails; None if undecided and none fails."""
        if any(c.holds is False for c in self.checks):
            return False
        if any(c.holds is None for c in self.checks):
            return None
        return True

    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.holds is False]

    def to_dict(self) -> dict[str, Any]:
        return {"theorem": self.theorem, "part": self.part, "holds": self.holds, "note": self.note,
                "checks": [c.to_dict() for c in self.checks]}

    def __str__(self) -> str:
        head = f"{self.theorem} {self.part}: {'holds' if self.holds else ('undecided' if self.holds is None else 'FAILS')}"
        lines = [head] + ["  " + str(c) for c in self.checks]
        if self.note:
            lines.append("  note: " + self.note)
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class Theorem:
    """An executable theorem / lemma / corollary of one of the papers.

    ``printed`` is the statement as the paper prints it; ``corrected`` the statement checked
    (``None`` when the printed one is correct as it stands) and ``changes`` what changed and why.
    ``bound`` is the predicted bound (a sympy expression, or ``None``); ``symbols`` describes its
    free symbols. ``instances`` (optional) returns a Hypothesis strategy of instances for
    :func:`falsify`; ``run`` computes the result the conclusion judges.
    """

    name: str
    citation: str
    title: str
    printed: str
    status: str
    hypotheses: Callable[[Any], Report]
    conclusion: Callable[[Any, Any], Report]
    corrected: str | None = None
    changes: str = ""
    bound: sympy.Expr | None = None
    symbols: Mapping[str, str] = field(default_factory=dict)
    run: Callable[[Any], Any] | None = None
    instances: Callable[[], Any] | None = None
    bound_values: Callable[[Any], dict[Any, Any]] | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise InvalidInput(f"theorem status must be one of {STATUSES}; got {self.status!r}",
                               argument="status", got=self.status)

    @property
    def summary(self) -> str:
        """One line: the statement checked (the corrected one where the printed one is wrong)."""
        text = self.corrected or self.printed
        return text.split(". ")[0].strip().rstrip(".") + "."

    def pretty_bound(self, *, latex: bool = False) -> str:
        if self.bound is None:
            return ""
        return sympy.latex(self.bound) if latex else sympy.pretty(self.bound, use_unicode=True)

    def evaluate_bound(self, values: Mapping[Any, Any]) -> sympy.Expr:
        """The bound with every symbol (name or Symbol; IndexedBase entries as ``"c[0]"`` or the
        Indexed object) replaced by an exact Rational; a number, exact (rational or algebraic)."""
        if self.bound is None:
            raise InvalidInput(f"{self.name} predicts no bound", argument="theorem", got=self.name)
        expr = self.bound
        # integer range symbols (depth etc.) first, so that Products can be expanded
        by_name = {str(s): s for s in expr.free_symbols}
        for base in expr.atoms(sympy.IndexedBase):
            by_name[str(base)] = base
        subs = {(_symbol(k, by_name) if isinstance(k, str) else k): to_rational(v) for k, v in values.items()}
        ints = {k: v for k, v in subs.items() if isinstance(k, sympy.Symbol) and k.is_integer}
        expr = expr.subs(ints).doit()
        expr = expr.subs({k: v for k, v in subs.items() if k not in ints})
        if expr.free_symbols:
            raise InvalidInput(f"{self.name}: bound still has free symbols {sorted(map(str, expr.free_symbols))}; "
                               f"give values for {sorted(self.symbols)}", argument="values", got=values)
        # exact as it stands: no nsimplify, which identifies numbers numerically (PSLQ) and can
        # return a different number close to the exact one
        return expr

    def check(self, instance: Any, result: Any = None) -> tuple[Report, Report | None]:
        """Hypotheses, and the conclusion when they hold (running ``run`` if no result is given)."""
        hyp = self.hypotheses(instance)
        if hyp.holds is not True:
            return hyp, None
        if result is None:
            if self.run is None:
                raise InvalidInput(f"{self.name} needs a result (it has no built-in run)",
                                   argument="result", got=result)
            result = self.run(instance)
        return hyp, self.conclusion(instance, result)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "citation": self.citation, "title": self.title, "status": self.status,
                "printed": self.printed, "corrected": self.corrected, "changes": self.changes,
                "bound": None if self.bound is None else str(self.bound),
                "falsifiable": self.instances is not None}


def _symbol(name: str, by_name: Mapping[str, Any]) -> Any:
    if "[" in name:
        base, idx = name.rstrip("]").split("[")
        return by_name.get(base, sympy.IndexedBase(base))[int(idx)]
    return by_name.get(name, sympy.Symbol(name))


REGISTRY: dict[str, Theorem] = {}


def register(theorem: Theorem) -> Theorem:
    if theorem.name in REGISTRY:
        raise InvalidInput(f"theorem {theorem.name!r} is already registered",
                           argument="theorem", got=theorem.name)
    REGISTRY[theorem.name] = theorem
    return theorem


def _load() -> None:
    # The paper modules register on import.
    from theorychk.theorems import aberdam2020, lei2019, puthawala2022  # noqa: F401


def all_theorems() -> list[Theorem]:
    """Every registered theorem, grouped by paper module (alphabetically), each module's in the
    order it states them — independent of which module happened to be imported first."""
    _load()
    return sorted(REGISTRY.values(), key=lambda t: t.name.split(".")[0])


def get_theorem(name: str) -> Theorem:
    _load()
    if name in REGISTRY:
        return REGISTRY[name]
    close = difflib.get_close_matches(name, REGISTRY, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise InvalidInput(f"unknown theorem {name!r}{hint} (valid: {', '.join(REGISTRY)})",
                       argument="name", got=name)


@dataclass(frozen=True)
class FalsifyResult:
    """Outcome of :func:`falsify`: the shrunk counterexample with its reports, or none found."""

    theorem: str
    budget: int
    seed: int
    counterexample: Any = None
    hypotheses: Report | None = None
    conclusion: Report | None = None
    #: examples tried and how many met the hypotheses (a search where they never hold proves nothing)
    examples: int = 0
    hypotheses_held: int = 0

    @property
    def found(self) -> bool:
        return self.counterexample is not None

    def __str__(self) -> str:
        if not self.found:
            return (f"{self.theorem}: no counterexample in {self.budget} examples (seed {self.seed}; "
                    f"hypotheses held in {self.hypotheses_held} of the {self.examples} tried)")
        return "\n".join([f"{self.theorem}: COUNTEREXAMPLE (shrunk, seed {self.seed})",
                          f"instance: {describe(self.counterexample)}", str(self.hypotheses), str(self.conclusion)])


def describe(instance: Any) -> str:
    show = getattr(instance, "describe", None)
    return show() if callable(show) else repr(instance)


def falsify(theorem: Theorem | str, *, budget: int = 100, seed: int = 0) -> FalsifyResult:
    """Search for an instance where ``theorem``'s hypotheses hold and its conclusion fails.

    Runs :func:`hypothesis.find` over ``theorem.instances()`` with ``max_examples=budget`` and a
    seeded ``random.Random`` (reproducible, no example database). Returns the shrunk
    counterexample, or a result with ``found == False``.
    """
    import random

    from hypothesis import HealthCheck, find, settings
    from hypothesis.errors import NoSuchExample

    thm = get_theorem(theorem) if isinstance(theorem, str) else theorem
    if thm.instances is None or thm.run is None:
        raise InvalidInput(f"{thm.name} has no instance strategy; check it on your own instances with "
                           f"theorem.check(instance, result)", argument="theorem", got=thm.name)
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise InvalidInput(f"budget must be a positive integer; got {budget!r}",
                           argument="budget", got=budget)

    tried = [0, 0]

    def refutes(instance: Any) -> bool:
        tried[0] += 1
        hyp = thm.hypotheses(instance)
        if hyp.holds is not True:
            return False
        tried[1] += 1
        return thm.conclusion(instance, thm.run(instance)).holds is False

    conf = settings(max_examples=budget, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck))
    try:
        cex = find(thm.instances(), refutes, settings=conf, random=random.Random(seed))
    except NoSuchExample:
        return FalsifyResult(thm.name, budget, seed, examples=tried[0], hypotheses_held=tried[1])
    hyp, concl = thm.check(cex)
    return FalsifyResult(thm.name, budget, seed, cex, hyp, concl, examples=tried[0], hypotheses_held=tried[1])
