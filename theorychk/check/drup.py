"""DRUP proofs of unsatisfiability, re-checked by forward reverse unit propagation.

Part of the trusted base: standard library and :mod:`theorychk.errors` only (no SAT solver, no :mod:`theorychk.reduction`;
a test enforces it). A DRUP proof is a list of text lines, each a clause ending in ``0``; a line
starting with ``d`` deletes one copy of a clause. The proof refutes a formula ``F`` when every
added lemma is RUP (unit propagation on ``F`` plus the earlier lemmas, minus the deleted
clauses, plus the negated lemma reaches a conflict) and the empty clause is derived [1]_.

Semantics, as in drat-trim [2]_ (the reference checker of the SAT competitions):

* **Deleting a reason clause is ignored.** Solvers (Glucose, MapleChrono, ...) delete clauses
  that are satisfied at decision level 0, including the clause that made a level-0 literal
  true. Honouring that deletion would un-derive a fact the solver keeps using, and valid proofs
  would be rejected (issue 13: the old checker rejected Glucose's proofs of 4 of 19 random
  3-SAT formulas with 50 variables). A deletion of a clause that is the reason of a level-0
  literal is therefore skipped and counted in ``ignored_deletions``. Ignoring a deletion is
  always sound for a refutation: every clause kept is still implied by ``F``.
* **The empty clause must be derived**: as a ``0`` line, or — for solvers that stop at the
  conflict without writing one — as an implicit final lemma that must itself be RUP (unit
  propagation on the final database reaches a conflict). A proof that stops short is REJECTED,
  never accepted (drat-trim's ``lrat-check`` once accepted such proofs: fixed in 2022).
* Deleting a clause that is not in the database is skipped (``missing_deletions``): it can only
  keep more clauses, which is sound. Lemmas may repeat clauses or use variables outside ``F``.
* Only RUP lemmas are accepted; a RAT lemma of a DRAT proof (extended resolution) is REJECTED.

Unit propagation uses two watched literals and keeps the level-0 trail between lemmas, so a
lemma costs what its propagation touches, not a pass over the database.

References
----------
.. [1] E. Goldberg and Y. Novikov, "Verification of proofs of unsatisfiability for CNF
   formulas", DATE 2003; N. Wetzler, M. Heule and W. Hunt, "DRAT-trim: Efficient checking and
   trimming using expressive clausal proofs", SAT 2014.
.. [2] https://github.com/marijnheule/drat-trim (default mode: "ignoring deletion of unit
   clauses").
"""

from __future__ import annotations

import enum
import numbers
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from theorychk.errors import InvalidInput, Reason

__all__ = ["DrupOutcome", "DrupCheck", "check_drup"]

#: How many proof lines are processed between two looks at the clock.
_CLOCK_EVERY = 64


class DrupOutcome(str, enum.Enum):
    """VERIFIED (the proof refutes the formula), REJECTED (with the reason), UNKNOWN (time limit).

    REJECTED is a statement about the proof, not about the formula: a formula whose proof is
    rejected may still be unsatisfiable, so callers must never turn it into "satisfiable".
    """

    VERIFIED = "VERIFIED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class DrupCheck:
    """Outcome of :func:`check_drup` with counts: ``lemmas`` checked (the empty clause included),
    ``deletions`` read, of which ``ignored_deletions`` removed a level-0 reason (skipped) and
    ``missing_deletions`` named a clause not in the database (skipped)."""

    outcome: DrupOutcome
    reason: str
    lemmas: int = 0
    deletions: int = 0
    ignored_deletions: int = 0
    missing_deletions: int = 0

    @property
    def verified(self) -> bool:
        return self.outcome is DrupOutcome.VERIFIED

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome.value, "reason": self.reason, "lemmas": self.lemmas,
                "deletions": self.deletions, "ignored_deletions": self.ignored_deletions,
                "missing_deletions": self.missing_deletions}


class _Conflict(Exception):
    """Unit propagation at level 0 reached a conflict: the database is refuted."""


class _Database:
    """Clauses with two watched literals and a persistent level-0 trail.

    Literals are coded ``2·i`` (positive) and ``2·i + 1`` (negative) for the dense index ``i``
    of a DIMACS variable, so ``code ^ 1`` negates. ``value[code]`` is 1 (true), -1 (false) or 0.
    """

    def __init__(self) -> None:
        self.index: dict[int, int] = {}
        self.value: list[int] = []
        self.reason: list[int] = []  # per variable: the clause that set it at level 0 (-1: none)
        self.watches: list[list[int]] = []
        self.clauses: list[list[int] | None] = []
        self.by_key: dict[tuple[int, ...], list[int]] = {}
        self.trail: list[int] = []
        self.head = 0
        self.inconsistent = False  # a conflict at level 0: the empty clause is RUP

    def code(self, lit: int) -> int:
        i = self.index.get(abs(lit))
        if i is None:
            i = self.index[abs(lit)] = len(self.reason)
            self.value += (0, 0)
            self.watches += ([], [])
            self.reason.append(-1)
        return 2 * i + (lit < 0)

    # -- assignment and propagation -----------------------------------------------------------

    def _assign(self, code: int, reason: int) -> None:
        self.value[code] = 1
        self.value[code ^ 1] = -1
        self.reason[code >> 1] = reason
        self.trail.append(code)

    def _propagate(self) -> bool:
        """Propagate the trail from ``head``; True on a conflict."""
        value, watches, clauses, trail = self.value, self.watches, self.clauses, self.trail
        while self.head < len(trail):
            false = trail[self.head] ^ 1
            self.head += 1
            ws = watches[false]
            keep = 0
            n = len(ws)
            j = 0
            while j < n:
                cid = ws[j]
                j += 1
                c = clauses[cid]
                if c is None:  # deleted: drop the watch lazily
                    continue
                if c[0] == false:
                    c[0], c[1] = c[1], false
                first = c[0]
                if value[first] == 1:
                    ws[keep] = cid
                    keep += 1
                    continue
                for k in range(2, len(c)):
                    if value[c[k]] != -1:
                        c[1], c[k] = c[k], false
                        watches[c[1]].append(cid)
                        break
                else:
                    ws[keep] = cid
                    keep += 1
                    if value[first] == -1:
                        while j < n:  # keep the rest of the list before reporting
                            ws[keep] = ws[j]
                            keep += 1
                            j += 1
                        del ws[keep:]
                        return True
                    self._assign(first, cid)
            del ws[keep:]
        return False

    def _undo(self, mark: int) -> None:
        value = self.value
        for code in self.trail[mark:]:
            value[code] = value[code ^ 1] = 0
        del self.trail[mark:]
        self.head = mark

    # -- the three operations of a proof ------------------------------------------------------

    def add(self, codes: list[int]) -> None:
        """Add a clause at level 0 (a formula clause or a checked lemma); propagate its unit."""
        if self.inconsistent:
            return
        cid = len(self.clauses)
        value = self.value
        # non-false literals first, a true one before an unassigned one: the watches then hold
        codes = sorted(codes, key=lambda c: -value[c])
        self.clauses.append(codes)
        self.by_key.setdefault(tuple(sorted(codes)), []).append(cid)
        if not codes or value[codes[0]] == -1:
            self.inconsistent = True
            return
        if len(codes) >= 2:
            self.watches[codes[0]].append(cid)
            self.watches[codes[1]].append(cid)
        if value[codes[0]] == 0 and (len(codes) == 1 or value[codes[1]] == -1):
            self._assign(codes[0], cid)
            if self._propagate():
                self.inconsistent = True

    def delete(self, codes: list[int]) -> str:
        """Delete one copy of a clause: ``"deleted"``, ``"ignored"`` (a level-0 reason) or ``"missing"``."""
        ids = self.by_key.get(tuple(sorted(codes)))
        if not ids:
            return "missing"
        value, reason = self.value, self.reason
        for at in range(len(ids) - 1, -1, -1):  # a copy that is no level-0 reason, if there is one
            cid = ids[at]
            if not any(value[c] == 1 and reason[c >> 1] == cid for c in self.clauses[cid] or ()):
                del ids[at]
                self.clauses[cid] = None
                return "deleted"
        return "ignored"

    def rup(self, codes: list[int]) -> bool:
        """Does unit propagation on the database plus the negation of ``codes`` reach a conflict?"""
        if self.inconsistent:
            return True
        value = self.value
        mark = len(self.trail)
        conflict = False
        for c in codes:
            if value[c] == 1:
                conflict = True
                break
            if value[c] == 0:
                self._assign(c ^ 1, -1)
        if not conflict:
            conflict = self._propagate()
        self._undo(mark)
        return conflict


def _deadline(time_limit: float | None, clock: Callable[[], float]) -> Callable[[], bool]:
    if time_limit is None:
        return lambda: False
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) or not time_limit > 0:
        raise InvalidInput(f"time_limit must be a positive number of seconds or None; got {time_limit!r}",
                           argument="time_limit", got=time_limit)
    end = clock() + time_limit
    return lambda: clock() >= end


def _clauses_of(cnf: Any) -> Iterable[Sequence[int]]:
    clauses = getattr(cnf, "clauses", cnf)
    for number, clause in enumerate(clauses, start=1):
        if not all(isinstance(lit, numbers.Integral) and not isinstance(lit, bool) and lit != 0 for lit in clause):
            raise InvalidInput(f"formula clause {number} must hold nonzero integers; got {list(clause)!r}",
                               argument=f"cnf.clauses[{number - 1}]", got=list(clause))
        yield [int(lit) for lit in clause]


def check_drup(
    cnf: Any, proof: Iterable[str], *, time_limit: float | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> DrupCheck:
    """Check that the DRUP ``proof`` refutes ``cnf`` (module docstring for the semantics).

    Parameters
    ----------
    cnf
        The formula: anything with a ``clauses`` attribute (a :class:`theorychk.reduction.cnf.CNF`)
        or a sequence of clauses, each a sequence of nonzero DIMACS literals.
    proof
        The proof's text lines (``"1 -2 0"``, ``"d 1 -2 0"``, ``"0"``); blank lines are skipped.
    time_limit
        Seconds (``None``: no limit); when it runs out the outcome is UNKNOWN, not a rejection.
    clock
        The clock ``time_limit`` is measured on (injectable for tests).

    Returns
    -------
    DrupCheck
        VERIFIED only if every lemma up to the empty clause is RUP; REJECTED with the first
        problem (a malformed line, a lemma that is not RUP, no empty clause); UNKNOWN on the
        time limit.

    Examples
    --------
    >>> full = [[1, 2], [-1, 2], [1, -2], [-1, -2]]
    >>> check_drup(full, ["1 0", "0"]).outcome.value
    'VERIFIED'
    >>> check_drup(full, ["1 0"]).reason
    'the empty clause is RUP after the last line (implicit final lemma)'
    >>> check_drup(full, []).reason
    'the proof never derives the empty clause'
    >>> check_drup([[1, 2]], ["1 0", "0"]).reason
    "lemma 1 (proof line 1) '1 0' is not RUP"

    A solver may delete the clause that made a literal true at level 0; the fact stays:

    >>> r = check_drup([[1], [-1, 2], [-2, 3], [-3, -1]], ["d -1 2 0", "0"])
    >>> r.outcome.value, r.ignored_deletions
    ('VERIFIED', 1)
    """
    expired = _deadline(time_limit, clock)
    db = _Database()
    code = db.code
    for clause in _clauses_of(cnf):
        db.add([code(lit) for lit in dict.fromkeys(clause)])
    lemmas = deletions = ignored = missing = 0

    def result(outcome: DrupOutcome, reason: str) -> DrupCheck:
        return DrupCheck(outcome, reason, lemmas, deletions, ignored, missing)

    number = 0
    for number, raw in enumerate(proof, start=1):
        if number % _CLOCK_EVERY == 1 and expired():
            return result(DrupOutcome.UNKNOWN, f"{Reason.TIME_LIMIT} ({time_limit} s) at proof line {number}")
        line = raw.strip()
        if not line:
            continue
        tokens = line.split()
        delete = tokens[0] == "d"
        try:
            lits = [int(t) for t in tokens[delete:]]
        except ValueError:
            return result(DrupOutcome.REJECTED, f"proof line {number} is malformed: {line!r}")
        if not lits or lits[-1] != 0 or 0 in lits[:-1]:
            return result(DrupOutcome.REJECTED, f"proof line {number} is not terminated by one 0: {line!r}")
        codes = [code(lit) for lit in dict.fromkeys(lits[:-1])]
        if delete:
            deletions += 1
            done = db.delete(codes)
            ignored += done == "ignored"
            missing += done == "missing"
            continue
        lemmas += 1
        if not db.rup(codes):
            return result(DrupOutcome.REJECTED, f"lemma {lemmas} (proof line {number}) {line!r} is not RUP")
        if not codes:
            return result(DrupOutcome.VERIFIED, f"the empty clause is derived at proof line {number}")
        db.add(codes)
    if expired():
        return result(DrupOutcome.UNKNOWN, f"{Reason.TIME_LIMIT} ({time_limit} s) at the end of the proof")
    # A solver that finds the conflict while loading the formula, or stops at it, writes no "0"
    # line: the empty clause is then checked as an implicit final lemma — RUP or rejected.
    if db.rup([]):
        lemmas += 1
        return result(DrupOutcome.VERIFIED, "the empty clause is RUP after the last line (implicit final lemma)")
    return result(DrupOutcome.REJECTED, "the proof never derives the empty clause")
