"""CNF formulas: a frozen type, strict DIMACS, generators, and SAT solving with evidence.

* :class:`CNF` — ``n_vars`` and clauses as tuples of nonzero ints (DIMACS literals), validated
  once. Duplicate literals inside a clause are kept as written (the constructions deduplicate).
* :func:`parse_dimacs` / :func:`read_dimacs` — strict: the ``p cnf N M`` header counts are
  checked, every clause must end with ``0``, literals must be within ``1..N``, no empty clause.
  Every error is an :class:`~theorychk.errors.InvalidInput` naming the line number and what
  arrived. (PySAT's reader is lenient — it accepts wrong counts and unterminated clauses — so it
  is not used for reading.) A SATLIB ``%`` line ends the data, as in the SATLIB ``uf*`` files.
* Generators, all seeded through a :class:`numpy.random.Generator`: uniform random k-CNF
  (:func:`random_kcnf`), planted-satisfiable k-CNF (:func:`planted_kcnf`), PySAT's
  ``genhard`` families (:func:`genhard`: pigeonhole, ordering, parity, mutilated chessboard — all
  unsatisfiable), and k-colouring of random regular graphs (:func:`graph_coloring`).
* :func:`solve` (CaDiCaL, or a Glucose-family solver with a DRUP proof of UNSAT) and
  :func:`enumerate_models`. :func:`check_drup` is re-exported from the trusted
  :mod:`theorychk.check.drup` (forward RUP with drat-trim's deletion semantics; VERIFIED only
  if the empty clause is derived).

Examples
--------
>>> cnf = parse_dimacs("p cnf 2 2\\n1 2 0\\n-1 0\\n")
>>> cnf.clauses, cnf.satisfied_by((False, True))
(((1, 2), (-1,)), True)
>>> solve(cnf).status
<SatStatus.SAT: 'SAT'>
"""

from __future__ import annotations

import enum
import itertools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from theorychk.check.drup import DrupCheck, DrupOutcome, check_drup
from theorychk.errors import ExactCheckFailed, InvalidInput, Reason, SolverError, unknown_name
from theorychk.runtime import Deadline

__all__ = [
    "CNF",
    "parse_dimacs",
    "read_dimacs",
    "to_dimacs",
    "write_dimacs",
    "random_kcnf",
    "planted_kcnf",
    "genhard",
    "GENHARD_FAMILIES",
    "graph_coloring",
    "SatStatus",
    "SatResult",
    "solve",
    "ModelEnumeration",
    "enumerate_models",
    "DrupCheck",
    "DrupOutcome",
    "check_drup",
    "SOLVER_PREFERENCE",
    "PROOF_SOLVERS",
    "PROOF_SOLVER_PREFERENCE",
    "INTERRUPTIBLE",
]

#: SAT solvers tried in order for plain solving and model enumeration.
SOLVER_PREFERENCE = ("cadical195", "cadical153", "glucose42", "glucose4", "minisat22")
#: Solvers whose ``with_proof=True`` proofs :func:`check_drup` verifies (measured on hundreds of
#: unsatisfiable random 3-SAT formulas, ``tests/check/test_drup.py``). ``maplesat`` is left out:
#: PySAT's MapleSAT writes every variable shifted by one (pysathq/pysat#139), so its proofs are
#: rejected; the other PySAT solvers emit no proof.
PROOF_SOLVERS = ("cadical103", "cadical153", "cadical195", "cadical300", "ergo", "gluecard3", "gluecard4",
                 "glucose3", "glucose4", "glucose42", "lingeling", "maplechrono", "maplecm")
#: Solvers tried in order when a proof is wanted (interruptible ones, so a time limit holds).
PROOF_SOLVER_PREFERENCE = ("glucose42", "glucose4", "glucose3")
#: Solvers PySAT can interrupt (``solve_limited`` + ``interrupt``): used whenever a time limit is
#: set. PySAT's CaDiCaL bindings raise NotImplementedError on ``interrupt`` and run on.
INTERRUPTIBLE = ("glucose42", "glucose4", "glucose3", "minisat22", "minisatgh", "maplesat", "maplecm", "maplechrono")


# --------------------------------------------------------------------------------------------
# The formula type
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CNF:
    """A CNF formula over variables ``1..n_vars``; a literal is ``±v``.

    ``name`` and ``comments`` are descriptive (written as DIMACS ``c`` lines) and do not take
    part in equality.

    Examples
    --------
    >>> f = CNF(3, [[1, -2], [2, 3]])
    >>> f.n_clauses, f.widths, f.violated((False, False, False))
    (2, (2, 2), (1,))
    >>> CNF(2, [[1, 3]])
    Traceback (most recent call last):
    ...
    theorychk.errors.InvalidInput: clause 0 has literal 3 out of range for 2 variables; got (1, 3)
    """

    n_vars: int
    clauses: tuple[tuple[int, ...], ...]
    name: str = field(default="", compare=False)
    comments: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        n = self.n_vars
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise InvalidInput(f"n_vars must be a non-negative integer; got {n!r}", argument="n_vars", got=n)
        clauses = []
        for j, clause in enumerate(self.clauses):
            lits = tuple(clause)
            if not lits:
                raise InvalidInput(f"clause {j} is empty; an empty clause makes the formula trivially unsatisfiable",
                                   argument=f"clauses[{j}]", got=lits)
            for lit in lits:
                if isinstance(lit, bool) or not isinstance(lit, (int, np.integer)):
                    raise InvalidInput(f"clause {j} must hold integer literals; got {lits!r}",
                                       argument=f"clauses[{j}]", got=lits)
                if lit == 0:
                    raise InvalidInput(f"clause {j} has literal 0 (0 terminates clauses in DIMACS); got {lits!r}",
                                       argument=f"clauses[{j}]", got=lits)
                if abs(lit) > n:
                    raise InvalidInput(f"clause {j} has literal {lit} out of range for {n} variables; got {lits!r}",
                                       argument=f"clauses[{j}]", got=lits)
            clauses.append(tuple(int(lit) for lit in lits))
        object.__setattr__(self, "n_vars", int(n))
        object.__setattr__(self, "clauses", tuple(clauses))
        object.__setattr__(self, "comments", tuple(str(c) for c in self.comments))

    @property
    def n_clauses(self) -> int:
        return len(self.clauses)

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(len(c) for c in self.clauses)

    def _check_assignment(self, assignment: Sequence[bool]) -> tuple[bool, ...]:
        a = tuple(bool(v) for v in assignment)
        if len(a) != self.n_vars:
            raise InvalidInput(f"assignment must have {self.n_vars} values, one per variable; got {len(a)}",
                               argument="assignment", got=a)
        return a

    def violated(self, assignment: Sequence[bool]) -> tuple[int, ...]:
        """Indices of the clauses that ``assignment`` (``assignment[i]`` is variable ``i+1``) falsifies."""
        a = self._check_assignment(assignment)
        return tuple(
            j for j, clause in enumerate(self.clauses) if not any(a[abs(lit) - 1] == (lit > 0) for lit in clause)
        )

    def satisfied_by(self, assignment: Sequence[bool]) -> bool:
        return not self.violated(assignment)

    @property
    def label(self) -> str:
        """``name``, or for an unnamed formula ``cnf-`` and 12 hex digits of the clauses' sha256.

        File names are built from it, so two unnamed formulas never share a file name (SATLIB
        files without a ``c name:`` line all became ``four-layer--cnf`` before).

        >>> CNF(2, [[1, 2]]).label, CNF(2, [[1, 2]], name="f").label
        ('cnf-4fb9f2c5ada3', 'f')
        """
        if self.name:
            return self.name
        import hashlib

        text = f"{self.n_vars};" + ";".join(" ".join(map(str, c)) for c in self.clauses)
        return "cnf-" + hashlib.sha256(text.encode("ascii")).hexdigest()[:12]

    def deduplicated(self) -> tuple[tuple[int, ...], ...]:
        """The clauses with repeated literals removed (first occurrence kept); tautologies stay."""
        return tuple(tuple(dict.fromkeys(c)) for c in self.clauses)


def assignment_to_literals(assignment: Sequence[bool]) -> list[int]:
    """``(True, False)`` → ``[1, -2]`` (a PySAT model / assumption list)."""
    return [i + 1 if v else -(i + 1) for i, v in enumerate(assignment)]


# --------------------------------------------------------------------------------------------
# DIMACS
# --------------------------------------------------------------------------------------------


def parse_dimacs(text: str, *, source: str = "DIMACS") -> CNF:
    """Read DIMACS CNF text strictly (module docstring); ``source`` prefixes every error.

    Examples
    --------
    >>> parse_dimacs("p cnf 2 1\\n1 3 0\\n")
    Traceback (most recent call last):
    ...
    theorychk.errors.InvalidInput: DIMACS line 2: literal 3 out of range (the header declares 2 variables); got '1 3 0'
    """
    header: tuple[int, int] | None = None
    clauses: list[tuple[int, ...]] = []
    current: list[int] = []
    last_line, last_text = 0, ""
    comments: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("c"):
            comments.append(line[1:].strip())
            continue
        if line.startswith("%"):
            break  # SATLIB end-of-data marker
        if line.startswith("p"):
            if header is not None:
                raise InvalidInput(f"{source} line {number}: a second 'p cnf' header; got {line!r}",
                                   argument="text", got=line)
            fields = line.split()
            if len(fields) != 4 or fields[0] != "p" or fields[1] != "cnf" or not all(_is_uint(f) for f in fields[2:]):
                raise InvalidInput(
                    f"{source} line {number}: header must be 'p cnf N_VARS N_CLAUSES' with non-negative "
                    f"integers; got {line!r}", argument="text", got=line
                )
            header = (int(fields[2]), int(fields[3]))
            continue
        if header is None:
            raise InvalidInput(f"{source} line {number}: clause data before the 'p cnf' header; got {line!r}",
                               argument="text", got=line)
        for token in line.split():
            try:
                lit = int(token)
            except ValueError:
                raise InvalidInput(f"{source} line {number}: expected integer literals; got {token!r} in {line!r}",
                                   argument="text", got=line) from None
            if lit == 0:
                if not current:
                    raise InvalidInput(f"{source} line {number}: empty clause (a 0 with no literals before it); got {line!r}",
                                       argument="text", got=line)
                clauses.append(tuple(current))
                current = []
            elif abs(lit) > header[0]:
                raise InvalidInput(
                    f"{source} line {number}: literal {lit} out of range (the header declares "
                    f"{header[0]} variables); got {line!r}", argument="text", got=line
                )
            else:
                current.append(lit)
        last_line, last_text = number, line
    if header is None:
        raise InvalidInput(f"{source}: no 'p cnf N_VARS N_CLAUSES' header; got {len(text.splitlines())} lines without one",
                           argument="text", got=len(text.splitlines()))
    if current:
        raise InvalidInput(f"{source} line {last_line}: the last clause is not terminated by 0; got {last_text!r}",
                           argument="text", got=last_text)
    if len(clauses) != header[1]:
        raise InvalidInput(f"{source}: the header declares {header[1]} clauses; got {len(clauses)}",
                           argument="text", got=len(clauses))
    name = next((c[len("name:"):].strip() for c in comments if c.startswith("name:")), "")
    return CNF(header[0], tuple(clauses), name=name, comments=tuple(c for c in comments if not c.startswith("name:")))


def _is_uint(token: str) -> bool:
    return token.isdigit()


def read_dimacs(path: str | Path) -> CNF:
    """Read a DIMACS file strictly; errors name the file and line.

    The formula's ``name`` is its ``c name:`` line, or else the file's stem (``uf20-01.cnf`` →
    ``uf20-01``).
    """
    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"DIMACS file not found: {path}", argument="path", got=path)
    try:
        text = p.read_text(encoding="ascii")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"DIMACS file {path} is not ASCII text (byte {exc.start})",
                           argument="path", got=path) from None
    cnf = parse_dimacs(text, source=f"DIMACS file {p.name}")
    if not cnf.name:  # name an unnamed file after itself, so its exports do not collide with another's
        cnf = CNF(cnf.n_vars, cnf.clauses, name=p.stem, comments=cnf.comments)
    return cnf


def to_dimacs(cnf: CNF) -> str:
    """DIMACS text: ``c name: ...`` and comment lines, the header, one clause per line."""
    lines = []
    if cnf.name:
        lines.append(f"c name: {cnf.name}")
    lines += [f"c {c}".rstrip() for c in cnf.comments]
    lines.append(f"p cnf {cnf.n_vars} {cnf.n_clauses}")
    lines += [" ".join(map(str, clause)) + " 0" for clause in cnf.clauses]
    return "\n".join(lines) + "\n"


def write_dimacs(cnf: CNF, path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(to_dimacs(cnf), encoding="ascii")
    return p


# --------------------------------------------------------------------------------------------
# Generators
# --------------------------------------------------------------------------------------------


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInput(f"seed must be a non-negative integer or a numpy Generator; got {seed!r}",
                           argument="seed", got=seed)
    return np.random.default_rng(int(seed))


def _clause_count(n_vars: int, k: int, n_clauses: int | None, ratio: float | None) -> int:
    if isinstance(n_vars, bool) or not isinstance(n_vars, (int, np.integer)) or n_vars < 1:
        raise InvalidInput(f"n_vars must be a positive integer; got {n_vars!r}",
                           argument="n_vars", got=n_vars)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n_vars:
        raise InvalidInput(f"k must be an integer in 1..n_vars={n_vars} (distinct variables per clause); got {k!r}",
                           argument="k", got=k)
    if (n_clauses is None) == (ratio is None):
        raise InvalidInput("give exactly one of n_clauses and ratio (clauses per variable)",
                           argument="n_clauses", got={"n_clauses": n_clauses, "ratio": ratio})
    if ratio is not None:
        if not (isinstance(ratio, (int, float)) and np.isfinite(ratio) and ratio > 0):
            raise InvalidInput(f"ratio must be a positive number; got {ratio!r}", argument="ratio", got=ratio)
        return max(1, int(round(ratio * n_vars)))
    if isinstance(n_clauses, bool) or not isinstance(n_clauses, (int, np.integer)) or n_clauses < 1:
        raise InvalidInput(f"n_clauses must be a positive integer; got {n_clauses!r}",
                           argument="n_clauses", got=n_clauses)
    return int(n_clauses)


def _draw_clause(rng: np.random.Generator, n_vars: int, k: int) -> tuple[int, ...]:
    variables = rng.choice(n_vars, size=k, replace=False) + 1
    signs = rng.integers(0, 2, size=k) * 2 - 1
    return tuple(int(v * s) for v, s in zip(variables, signs))


def random_kcnf(
    n_vars: int, *, k: int = 3, n_clauses: int | None = None, ratio: float | None = None,
    seed: int | np.random.Generator,
) -> CNF:
    """Uniform random k-CNF: each clause has ``k`` distinct variables, each negated with prob. ½.

    Give ``n_clauses`` or ``ratio`` (clauses per variable, ``m = round(ratio·n)``; 4.26 is the
    3-SAT threshold).

    Examples
    --------
    >>> f = random_kcnf(5, ratio=4.26, seed=1)
    >>> f.n_vars, f.n_clauses, set(f.widths)
    (5, 21, {3})
    >>> f == random_kcnf(5, n_clauses=21, seed=1)
    True
    """
    m = _clause_count(n_vars, k, n_clauses, ratio)
    rng = _rng(seed)
    clauses = tuple(_draw_clause(rng, n_vars, k) for _ in range(m))
    seed_text = f" seed {seed}" if not isinstance(seed, np.random.Generator) else ""
    return CNF(n_vars, clauses, name=f"random-{k}cnf-n{n_vars}-m{m}{seed_text.replace(' ', '-')}",
               comments=(f"uniform random {k}-CNF, {n_vars} variables, {m} clauses{seed_text}",))


def planted_kcnf(
    n_vars: int, *, k: int = 3, n_clauses: int | None = None, ratio: float | None = None,
    seed: int | np.random.Generator,
) -> tuple[CNF, tuple[bool, ...]]:
    """Planted-satisfiable k-CNF: draw a hidden assignment, keep only clauses it satisfies.

    Returns the formula and the hidden assignment (a model, by construction).
    """
    m = _clause_count(n_vars, k, n_clauses, ratio)
    rng = _rng(seed)
    hidden = tuple(bool(b) for b in rng.integers(0, 2, size=n_vars))
    clauses: list[tuple[int, ...]] = []
    while len(clauses) < m:  # rejection: a uniform clause is kept with probability 1 - 2^-k
        clause = _draw_clause(rng, n_vars, k)
        if any(hidden[abs(lit) - 1] == (lit > 0) for lit in clause):
            clauses.append(clause)
    seed_text = f" seed {seed}" if not isinstance(seed, np.random.Generator) else ""
    cnf = CNF(n_vars, tuple(clauses), name=f"planted-{k}cnf-n{n_vars}-m{m}{seed_text.replace(' ', '-')}",
              comments=(f"planted-satisfiable {k}-CNF, {n_vars} variables, {m} clauses{seed_text}",))
    return cnf, hidden


#: PySAT ``genhard`` families (all unsatisfiable): name → (class name, meaning of ``size``).
GENHARD_FAMILIES = {
    "php": ("PHP", "pigeonhole: size+1 pigeons into size holes"),
    "gt": ("GT", "ordering principle (greater-than) on size elements"),
    "par": ("PAR", "parity principle of size"),
    "cb": ("CB", "mutilated chessboard of size 2*size"),
}


def genhard(family: str, size: int) -> CNF:
    """A formula from PySAT's ``pysat.examples.genhard`` (every family is unsatisfiable).

    Examples
    --------
    >>> f = genhard("php", 3)
    >>> f.n_vars, f.n_clauses, solve(f).status
    (12, 22, <SatStatus.UNSAT: 'UNSAT'>)
    """
    if family not in GENHARD_FAMILIES:
        raise unknown_name("genhard family", family, GENHARD_FAMILIES)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise InvalidInput(f"size must be a positive integer; got {size!r}", argument="size", got=size)
    from pysat.examples import genhard as gh

    cls_name, meaning = GENHARD_FAMILIES[family]
    formula = getattr(gh, cls_name)(int(size))
    clauses = [tuple(c) for c in formula.clauses]
    n = max((abs(lit) for c in clauses for lit in c), default=0)
    return CNF(max(n, formula.nv), tuple(clauses), name=f"{family}-{size}",
               comments=(f"pysat.examples.genhard.{cls_name}({size}): {meaning}; unsatisfiable",))


def graph_coloring(n_vertices: int, *, degree: int, colors: int, seed: int) -> tuple[CNF, Any]:
    """k-colouring of a random ``degree``-regular graph (networkx), as CNF.

    Variable ``v·colors + c + 1`` says "vertex v has colour c". Clauses: every vertex has a colour,
    at most one colour, adjacent vertices differ. Returns the formula and the graph. The answer
    is not known in closed form: compute it with :func:`solve` (the corpus records it).
    """
    import networkx as nx

    for name, value, low in (("n_vertices", n_vertices, 1), ("degree", degree, 0), ("colors", colors, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise InvalidInput(f"{name} must be an integer >= {low}; got {value!r}", argument=name, got=value)
    if degree >= n_vertices or (n_vertices * degree) % 2:
        raise InvalidInput(
            f"a {degree}-regular graph on {n_vertices} vertices needs degree < n_vertices and an even "
            f"n_vertices*degree; got {n_vertices}*{degree}", argument="degree", got=degree
        )
    graph = nx.random_regular_graph(degree, n_vertices, seed=int(_rng(seed).integers(2**31)))

    def var(v: int, c: int) -> int:
        return v * colors + c + 1

    clauses: list[tuple[int, ...]] = []
    for v in sorted(graph.nodes):
        clauses.append(tuple(var(v, c) for c in range(colors)))
        clauses += [(-var(v, a), -var(v, b)) for a, b in itertools.combinations(range(colors), 2)]
    for u, v in sorted(tuple(sorted(e)) for e in graph.edges):
        clauses += [(-var(u, c), -var(v, c)) for c in range(colors)]
    cnf = CNF(n_vertices * colors, tuple(clauses), name=f"color{colors}-reg{degree}-v{n_vertices}-seed{seed}",
              comments=(f"{colors}-colouring of a random {degree}-regular graph on {n_vertices} vertices "
                        f"(networkx, seed {seed}); variable v*{colors}+c+1 = vertex v has colour c",))
    return cnf, graph


# --------------------------------------------------------------------------------------------
# Solving
# --------------------------------------------------------------------------------------------


def _pick_solver(preference: Sequence[str], requested: str | None, *, interruptible: bool = False) -> str:
    from pysat.solvers import SolverNames

    available = [k for k in vars(SolverNames) if not k.startswith("_")]
    if requested is not None:
        if requested not in available:
            raise unknown_name("SAT solver", requested, available)
        if interruptible and requested not in INTERRUPTIBLE:
            raise InvalidInput(
                f"SAT solver {requested!r} cannot be interrupted through PySAT, so it cannot honour a time limit; "
                f"use one of {', '.join(INTERRUPTIBLE)}", argument="solver", got=requested
            )
        return requested
    if interruptible:
        preference = [p for p in preference if p in INTERRUPTIBLE] or list(INTERRUPTIBLE)
    for name in preference:
        if name in available:
            return name
    raise SolverError(f"none of the SAT solvers {', '.join(preference)} is available in this PySAT")


class SatStatus(enum.StrEnum):
    """A SAT solver's answer on a formula (its values are the strings of manifests and JSON)."""

    SAT = "SAT"
    UNSAT = "UNSAT"
    UNKNOWN = "UNKNOWN"  # time limit; the result's ``reason`` says so


@dataclass(frozen=True)
class SatResult:
    """A SAT answer with its evidence: a model (SAT) or a DRUP proof (UNSAT, when asked for).

    ``status`` is a :class:`SatStatus`: SAT, UNSAT or UNKNOWN (time limit; ``reason`` says so).
    ``model[i]`` is the value of variable ``i + 1``.
    """

    status: SatStatus
    model: tuple[bool, ...] | None
    proof: tuple[str, ...] | None
    solver: str
    elapsed: float
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "model": None if self.model is None else assignment_to_literals(self.model),
            "proof_lines": None if self.proof is None else len(self.proof),
            "solver": self.solver,
            "elapsed_seconds": round(self.elapsed, 6),
            "reason": self.reason,
        }


def _complete(model: Sequence[int], n_vars: int) -> tuple[bool, ...]:
    values = [False] * n_vars
    for lit in model:
        if abs(lit) <= n_vars:
            values[abs(lit) - 1] = lit > 0
    return tuple(values)


#: Seconds between two looks of the watchdog at the deadline while a SAT solver runs.
_WATCH_PERIOD = 0.005


def _limited_solve(solver: Any, deadline: Deadline) -> bool | None:
    """``solver.solve()`` within ``deadline``: ``None`` when the deadline interrupted it.

    A watchdog thread looks at the deadline (that is, at :data:`theorychk.runtime.clock`) every
    :data:`_WATCH_PERIOD` seconds and interrupts the solver once it has passed, and again until the
    solver returns (an interrupt that lands before the search starts is otherwise lost). A real
    ``threading.Timer`` would ignore an injected clock, so a time-limit test would again depend on
    how fast the machine solves."""
    if deadline.seconds is None:
        return solver.solve()
    done = threading.Event()

    def watch() -> None:
        while not done.wait(_WATCH_PERIOD):
            if deadline.expired():
                solver.interrupt()

    if deadline.expired():
        solver.interrupt()
    watchdog = threading.Thread(target=watch, name="theorychk-sat-watchdog", daemon=True)
    watchdog.start()
    try:
        return solver.solve_limited(expect_interrupt=True)
    finally:
        done.set()
        watchdog.join()


def solve(
    cnf: CNF, *, solver: str | None = None, proof: bool = False, time_limit: float | None = None,
) -> SatResult:
    """Decide ``cnf`` with PySAT. ``proof=True`` uses a Glucose-family solver (or ``solver``, one
    of :data:`PROOF_SOLVERS`) and returns its DRUP proof lines when the answer is UNSAT. ``time_limit`` (seconds) interrupts the solver
    (an interruptible one is chosen: :data:`INTERRUPTIBLE`): the answer is then ``UNKNOWN``,
    never a guess."""
    deadline = Deadline(time_limit)  # validates the number
    from pysat.solvers import Solver

    name = _pick_solver(PROOF_SOLVER_PREFERENCE if proof else SOLVER_PREFERENCE, solver,
                        interruptible=time_limit is not None)
    if proof and name not in PROOF_SOLVERS:
        raise InvalidInput(f"SAT solver {name!r} gives no DRUP proof that checks; use one of {', '.join(PROOF_SOLVERS)}",
                           argument="solver", got=name)
    start = time.perf_counter()
    kwargs = {"with_proof": True} if proof else {}
    with Solver(name=name, bootstrap_with=[list(c) for c in cnf.clauses], **kwargs) as s:
        answer = _limited_solve(s, deadline)
        elapsed = time.perf_counter() - start
        if answer is None:
            return SatResult(SatStatus.UNKNOWN, None, None, name, elapsed, reason=Reason.TIME_LIMIT)
        if answer:
            model = _complete(s.get_model() or [], cnf.n_vars)
            if not cnf.satisfied_by(model):  # a solver bug must not become our claim
                raise ExactCheckFailed(f"SAT solver {name} returned a model that falsifies clause {cnf.violated(model)[0]}")
            return SatResult(SatStatus.SAT, model, None, name, elapsed)
        lines = tuple(s.get_proof()) if proof else None
        return SatResult(SatStatus.UNSAT, None, lines, name, elapsed)


@dataclass(frozen=True)
class ModelEnumeration:
    """All models (``complete=True``) or the first ``len(models)`` (limit or time limit hit)."""

    models: tuple[tuple[bool, ...], ...]
    complete: bool
    reason: str = ""


def enumerate_models(
    cnf: CNF, *, limit: int | None = None, time_limit: float | None = None, solver: str | None = None,
) -> ModelEnumeration:
    """Enumerate the models of ``cnf`` over all ``n_vars`` variables (variables the solver never
    saw are expanded both ways), at most ``limit`` of them, within ``time_limit`` seconds."""
    from pysat.solvers import Solver

    deadline = Deadline(time_limit)
    name = _pick_solver(SOLVER_PREFERENCE, solver, interruptible=time_limit is not None)
    seen: dict[tuple[bool, ...], None] = {}
    with Solver(name=name, bootstrap_with=[list(c) for c in cnf.clauses]) as s:
        while True:
            if limit is not None and len(seen) >= limit:
                return ModelEnumeration(tuple(seen), False, f"model limit {limit}")
            answer = _limited_solve(s, deadline)
            if answer is None:
                return ModelEnumeration(tuple(seen), False, Reason.TIME_LIMIT)
            if not answer:
                return ModelEnumeration(tuple(seen), True)
            raw = s.get_model() or []
            known = {abs(lit) for lit in raw if abs(lit) <= cnf.n_vars}
            free = [v for v in range(1, cnf.n_vars + 1) if v not in known]
            base = list(_complete(raw, cnf.n_vars))
            for bits in itertools.product((False, True), repeat=len(free)):
                for v, b in zip(free, bits):
                    base[v - 1] = b
                seen[tuple(base)] = None
                if limit is not None and len(seen) >= limit:
                    break
            if not known:  # no variable occurs in a clause: every assignment was just listed
                done = len(seen) == 2**cnf.n_vars
                return ModelEnumeration(tuple(seen), done, "" if done else f"model limit {limit}")
            s.add_clause([-lit for lit in raw if abs(lit) <= cnf.n_vars])  # block it
