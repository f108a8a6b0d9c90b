"""One interface for every inversion method: ``invert(net, y, method=...) -> Inversion``.

A method is an object satisfying :class:`Method` registered under its name in
:data:`REGISTRY`. :func:`invert` validates the signal and mask once, checks up front that the
method supports the network's activations, runs it under a time limit, and fills in the
residuals. A method that runs out of time returns ``UNKNOWN`` with reason ``Reason.TIME_LIMIT``;
one that proves the signal is not in the range returns ``INFEASIBLE``; it never guesses.

Signals are read with a stated tolerance
----------------------------------------
A signal a user computed (often a float32 decoder's output) is the exact image of a latent only
up to the rounding of that forward pass. :func:`signal_tolerance` states how far from the range
a signal may be and still count as realizable; the default is the rounding bound of the dtype
the model was stored in (:attr:`Network.dtype <theorychk.network.Network.dtype>`)::

    signal_tol = max(4 · u · sqrt(N) · ‖y‖₂,  1e-6 · max(1, ‖y‖₂))

with ``u`` the unit roundoff of the dtype (2⁻²⁴ for float32, 2⁻⁵³ for float64, 2⁻¹¹ for
float16), ``N = n_0 + n_1 + ... + n_{L-1}`` the summed fan-ins (the length of the dot-product
chain behind each output) and ``‖y‖₂`` over the observed coordinates. The first term is the
probabilistic rounding bound of a length-``N`` accumulation (Higham & Mary 2019: ``√N·u``
relative, with high probability) with a safety factor of 4 (measured ratios of the true float32
offset to ``u·√N·‖y‖₂`` stay below 0.35 on random and the zoo's trained decoders); the second
is the accuracy the float64 solvers themselves reach (HiGHS's feasibility tolerances, Cholesky
on Gram matrices, gradient stopping rules), which is what dominates for float64 models. Pass
``signal_tol=`` to override it (recorded either way).

Statuses mean one thing
-----------------------
After every method, :meth:`Prepared.run` measures ``‖G(ẑ) − y‖₂`` on the observed coordinates
(``signal_offset``) against the tolerance and sets the status (docs/glossary.md):
``SOLVED`` iff the offset is within it; ``APPROXIMATE`` when the method ended with an estimate
that is not; ``FAILED`` when it ended without one (diverged, solver trouble); ``UNKNOWN`` only
for the time limit (with the estimate reached, if any, unless it is already within the
tolerance); ``INFEASIBLE`` only for the method's proof that ``y`` is farther than the tolerance
from the range (an estimate within the tolerance overrides such a claim). With declared
``noise`` the tolerance for SOLVED is ``signal_tol + noise`` in the method's noise norm
(``Method.noise_norm``: ``"linf"`` for paper 001's LP/MILP methods, ``"l2"`` otherwise).

References
----------
.. [1] N. J. Higham, T. Mary, "A New Approach to Probabilistic Rounding Error Analysis",
   SIAM J. Sci. Comput. 41(5), 2019: Theorem 3.1 (inner products, ``λ√n·u``).
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

import numpy as np

from theorychk._validation import ConstraintSpec, Interval, Real, check, check_options, invalid
from theorychk.errors import InvalidInput, Reason, unknown_name
from theorychk.network import Network
from theorychk.runtime import DEFAULT_TIME_LIMIT, Deadline, RowBudget
from theorychk.verdict import jsonable

__all__ = [
    "InversionStatus",
    "Inversion",
    "SignalTolerance",
    "signal_tolerance",
    "Problem",
    "BatchProblem",
    "Method",
    "BatchedMethod",
    "REGISTRY",
    "METHOD_MODULES",
    "all_methods",
    "register",
    "invert",
    "invert_batch",
    "Prepared",
    "prepare",
    "validate_signal",
    "validate_signals",
    "validate_mask",
    "validate_masks",
]


class InversionStatus(str, enum.Enum):
    """What an inversion ended with (one meaning across methods; docs/glossary.md)."""

    #: ``‖G(ẑ) − y‖₂ ≤ tolerance`` (the signal tolerance, plus the declared noise if any)
    SOLVED = "SOLVED"
    #: the method ended normally with an estimate, but its residual exceeds the tolerance
    APPROXIMATE = "APPROXIMATE"
    #: the method failed: no usable estimate (diverged, solver trouble)
    FAILED = "FAILED"
    #: the method proved ``y`` farther than the tolerance from the range (a float LP/MILP claim)
    INFEASIBLE = "INFEASIBLE"
    #: the time limit passed (the estimate reached so far, if any, is kept)
    UNKNOWN = "UNKNOWN"

    def __str__(self) -> str:
        return self.value


#: Unit roundoff of the dtypes a model can be stored in.
UNIT_ROUNDOFF = {"float16": 2.0**-11, "float32": 2.0**-24, "float64": 2.0**-53}
#: Safety factor on the probabilistic rounding bound ``u·√N·‖y‖₂`` (module docstring).
ROUNDING_FACTOR = 4.0
#: Relative accuracy of the float64 solves themselves: the tolerance's floor.
SOLVE_RTOL = 1e-6


@dataclass(frozen=True)
class SignalTolerance:
    """How far ``y`` may be from the range of ``G`` and still be read as realizable (ℓ2, observed
    coordinates). ``source`` is ``"dtype"`` (the default formula) or ``"user"``."""

    value: float
    source: str
    dtype: str
    rounding: float
    floor: float

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "source": self.source, "dtype": self.dtype,
                "rounding": self.rounding, "floor": self.floor}


def signal_tolerance(net: Network, y_observed: np.ndarray, *, signal_tol: float | None = None) -> SignalTolerance:
    """The tolerance on ``‖G(ẑ) − y‖₂`` for a signal of ``net`` (module docstring for the formula).

    Examples
    --------
    >>> from theorychk.network import Layer, Network
    >>> net = Network([Layer(np.eye(2, dtype=np.float32), None, "identity")])
    >>> tol = signal_tolerance(net, np.array([3.0, 4.0]))
    >>> tol.dtype, tol.source, tol.value == max(4 * 2.0**-24 * 2**0.5 * 5, 1e-6 * 5)
    ('float32', 'dtype', True)
    """
    norm = float(np.linalg.norm(y_observed))
    dtype = net.dtype
    n = sum(net.widths[:-1])
    rounding = ROUNDING_FACTOR * UNIT_ROUNDOFF.get(dtype, UNIT_ROUNDOFF["float64"]) * math.sqrt(n) * norm
    floor = SOLVE_RTOL * max(1.0, norm)
    if signal_tol is None:
        return SignalTolerance(max(rounding, floor), "dtype", dtype, rounding, floor)
    return SignalTolerance(float(signal_tol), "user", dtype, rounding, floor)


#: ``noise`` and ``signal_tol`` of :func:`invert`: a finite number >= 0, or None.
_NONNEG_OR_NONE: ConstraintSpec = [Interval(Real, 0, None, closed="left"), None]


@dataclass(frozen=True)
class Problem:
    """A validated inversion problem handed to a method.

    ``y`` is the full-length observed signal (entries outside ``mask`` are ignored and may be
    anything finite); ``mask`` is a boolean array over output coordinates (all true when the
    whole signal is observed). ``noise`` is the noise level the user declares (``None``:
    noiseless), meaning per method as documented. ``rng`` is the only source of randomness.
    ``signal_tol`` is the tolerance on ``‖G(ẑ) − y‖₂`` (observed coordinates) within which ``y``
    counts as realizable: a method must not claim INFEASIBLE for a signal that close.
    ``signal_rounding`` is its rounding part: how much noise a float32 signal carries anyway.
    """

    net: Network
    y: np.ndarray
    mask: np.ndarray
    noise: float | None
    deadline: Deadline
    rng: np.random.Generator
    options: dict[str, Any] = field(default_factory=dict)
    signal_tol: float = 0.0
    #: the dtype-rounding part of the tolerance (:class:`SignalTolerance`): a noise level the
    #: signal carries even when none is declared
    signal_rounding: float = 0.0

    @property
    def observed(self) -> np.ndarray:
        return self.y[self.mask]


@dataclass(frozen=True)
class BatchProblem:
    """Many validated problems of one network, handed to a :class:`BatchedMethod` at once.

    Row ``i`` is the :class:`Problem` with signal ``y[i]`` (``y`` is ``(batch, n_L)``) and
    generator ``rngs[i]``; the mask, noise level and options are shared. ``budget`` gives every
    row the time limit on its own (:class:`~theorychk.runtime.RowBudget`).
    """

    net: Network
    y: np.ndarray
    mask: np.ndarray
    noise: float | None
    budget: RowBudget
    rngs: tuple[np.random.Generator, ...]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Inversion:
    """The outcome of one inversion.

    ``latent`` is the estimate of ``z`` (``None`` when the method found none). ``hidden`` holds
    the method's own estimates of ``x_1, ..., x_L`` where it makes them (layer-wise methods),
    else the forward pass of ``latent``. Residuals are of ``G(latent) - y`` on the observed
    coordinates. ``counts`` holds iteration / LP / restart counts; ``info`` anything
    method-specific (final ε, λ schedule, MILP bound gap, ...).

    ``signal_offset`` is ``‖y − G(latent)‖₂`` on the observed coordinates: how far ``y`` was from
    the realizable point ``G(latent)`` (an upper bound on its distance from the range; NaN
    without an estimate). ``signal_tol`` is the tolerance the status was decided against
    (``tolerance`` says how it was derived); ``method_status`` what the method itself reported
    before the central check.
    """

    method: str
    status: InversionStatus
    latent: np.ndarray | None
    hidden: tuple[np.ndarray, ...] = ()
    reason: str = ""
    residual_l1: float = float("nan")
    residual_l2: float = float("nan")
    residual_linf: float = float("nan")
    counts: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    signal_offset: float = float("nan")
    signal_tol: float = float("nan")
    tolerance: dict[str, Any] = field(default_factory=dict)
    method_status: str = ""

    @property
    def solved(self) -> bool:
        return self.status is InversionStatus.SOLVED

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "status": self.status.value,
            "reason": self.reason,
            "latent": None if self.latent is None else jsonable(self.latent, exact_floats=False),
            "residual": {
                "l1": jsonable(self.residual_l1, exact_floats=False),
                "l2": jsonable(self.residual_l2, exact_floats=False),
                "linf": jsonable(self.residual_linf, exact_floats=False),
            },
            "signal_offset": jsonable(self.signal_offset, exact_floats=False),
            "signal_tol": jsonable(self.signal_tol, exact_floats=False),
            "tolerance": jsonable(self.tolerance, exact_floats=False),
            "method_status": self.method_status,
            "counts": dict(self.counts),
            "elapsed_seconds": round(self.elapsed, 6),
            "info": jsonable(self.info, exact_floats=False),
        }


class Method(Protocol):
    """What a registered inversion method provides."""

    name: str
    #: one line for ``--help`` and error messages
    summary: str
    #: whether the method honours a partial observation mask
    supports_mask: bool
    # Optional, so not protocol members (``isinstance(m, BatchedMethod)`` checks every member):
    # ``noise_norm``, the norm the declared ``noise`` bounds (``"l2"`` or ``"linf"``), read with
    # ``getattr``, default ``"l2"``; ``option_constraints``, the method's options and their
    # constraints (theorychk._validation), which :func:`prepare` checks before any work.

    def check(self, net: Network) -> None:
        """Raise :class:`InvalidInput` if the method cannot handle ``net`` (say why, up front)."""

    def run(self, problem: Problem) -> Inversion:
        """Solve ``problem``; residuals and timing are filled in by :func:`invert`."""


@runtime_checkable
class BatchedMethod(Method, Protocol):
    """A method that also inverts many signals in one vectorised computation."""

    def run_batch(self, problems: BatchProblem) -> list[Inversion]:
        """One :class:`Inversion` per row, each what :meth:`run` gives on that row alone (same
        status and counts, the latent up to the rounding of batched products), except where
        the time limit stops a row: then UNKNOWN ``Reason.TIME_LIMIT`` with what the row reached."""


REGISTRY: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add ``method`` to the registry under ``method.name``; a name already taken is an
    :class:`InvalidInput` (a second method must not silently replace the first)."""
    if method.name in REGISTRY:
        raise invalid("method.name", f"a name not registered yet (registered: {', '.join(sorted(REGISTRY))})",
                      method.name)
    REGISTRY[method.name] = method
    return method


#: where each shipped method lives: :func:`get_method` imports only the named method's module
#: (``gd`` needs neither HiGHS nor scipy.sparse; a test keeps this equal to what the modules register)
METHOD_MODULES: dict[str, str] = {
    "linf": "lp", "l1": "lp", "relax": "lp", "milp": "milp",
    "lbp": "pursuit", "latent": "pursuit", "oracle": "pursuit", "gd": "gradient",
}


def _load(module: str) -> None:
    # Importing a method module registers its methods.
    import importlib

    try:
        importlib.import_module(f"theorychk.solvers.{module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"theorychk.solvers.{module}":
            raise


def all_methods() -> dict[str, Method]:
    """Every registered method by name (the shipped ones loaded first): for listings."""
    for module in dict.fromkeys(METHOD_MODULES.values()):
        _load(module)
    return dict(sorted(REGISTRY.items()))


def get_method(name: str) -> Method:
    """The method registered as ``name``, importing only its module; an unknown name lists the
    valid ones and suggests the closest."""
    if name not in REGISTRY and name in METHOD_MODULES:
        _load(METHOD_MODULES[name])
    if name not in REGISTRY:
        raise unknown_name("inversion method", name, all_methods())
    return REGISTRY[name]


def validate_signal(net: Network, y: object, name: str = "signal") -> np.ndarray:
    """``y`` as a finite float64 vector of length ``net.output_dim`` (a ``(1, n)`` or ``(n, 1)``
    array is flattened), else :class:`InvalidInput` naming ``name`` and what arrived."""
    arr = np.asarray(y, dtype=np.float64) if not isinstance(y, np.ndarray) else y
    if arr.dtype.kind not in "fiub":
        raise InvalidInput(f"{name} must be numeric; got dtype {arr.dtype}", argument=name, got=y)
    arr = np.array(arr, dtype=np.float64).reshape(-1) if arr.ndim == 2 and 1 in arr.shape else np.array(arr, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] != net.output_dim:
        raise InvalidInput(f"{name} must have length {net.output_dim} (the network's output); got shape {np.shape(y)}",
                           argument=name, got=y)
    if not np.all(np.isfinite(arr)):
        raise InvalidInput(f"{name} must be finite; got NaN or Inf at index {int(np.argmax(~np.isfinite(arr)))}",
                           argument=name, got=y)
    return arr


def validate_signals(net: Network, signals: object) -> np.ndarray:
    """A ``(batch, n_L)`` float64 array, every row checked as :func:`invert` checks one signal.

    Row ``i``'s errors name it (``signal 3 must be finite ...``); a batch of one is ``signal``.
    """
    arr = np.asarray(signals)
    if arr.dtype.kind not in "fiub":
        raise InvalidInput(f"signals must be numeric; got dtype {arr.dtype}", argument="signals", got=signals)
    if arr.ndim != 2:
        raise InvalidInput(f"signals must be a 2-D (batch, {net.output_dim}) array; got shape {arr.shape}",
                           argument="signals", got=signals)
    out = np.array(arr, dtype=np.float64)
    single = out.shape[0] == 1
    if out.shape[1] != net.output_dim:
        validate_signal(net, out[0], "signal" if single else "signal 0")  # raises with the usual message
    bad = ~np.isfinite(out)
    if bad.any():
        i = int(np.flatnonzero(bad.any(axis=1))[0])
        validate_signal(net, out[i], "signal" if single else f"signal {i}")
    return out


def validate_mask(net: Network, mask: object | None, name: str = "mask") -> np.ndarray:
    """``mask`` as a boolean vector over the outputs (``None``: all observed). Booleans, or
    numbers that are all exactly 0 or 1; anything else (a mask of 0.5s, say) is refused rather
    than read as true."""
    if mask is None:
        return np.ones(net.output_dim, dtype=bool)
    arr = np.asarray(mask)
    if arr.dtype != bool:
        if arr.dtype.kind not in "iuf":
            raise invalid(name, f"boolean or 0/1 of length {net.output_dim}", mask)
        off = np.flatnonzero((arr != 0) & (arr != 1))
        if off.size:
            i = int(off[0])
            raise InvalidInput(f"{name} must be boolean or 0/1; got {arr.reshape(-1)[i].item()!r} at index {i}",
                               argument=name, got=mask)
        arr = arr != 0
    if arr.shape != (net.output_dim,):
        raise InvalidInput(f"{name} must have length {net.output_dim}; got shape {arr.shape}", argument=name, got=mask)
    if not arr.any():
        raise InvalidInput(f"{name} must observe at least one output coordinate; got all false", argument=name,
                           got=mask)
    return arr


def validate_masks(net: Network, mask: object | None, batch: int) -> np.ndarray:
    """A ``(batch, n_L)`` boolean array: one mask for every signal (``(n_L,)``, as
    :func:`validate_mask`) or one per signal (``(batch, n_L)``, row ``i`` named ``mask i``)."""
    if mask is not None and np.ndim(mask) == 2:
        arr = np.asarray(mask)
        if arr.shape[0] != batch:
            raise InvalidInput(f"mask must be one row per signal ({batch}) or one for all; got shape {arr.shape}",
                               argument="mask", got=mask)
        return np.array([validate_mask(net, row, f"mask {i}") for i, row in enumerate(arr)])
    return np.broadcast_to(validate_mask(net, mask), (batch, net.output_dim))


def _residuals(net: Network, latent: np.ndarray | None, y: np.ndarray, mask: np.ndarray,
               output: np.ndarray | None = None) -> tuple[float, float, float]:
    """``G(latent) - y`` on the mask in l1, l2, linf (``output``: ``G(latent)``, when known)."""
    if latent is None or not np.all(np.isfinite(latent)):
        return (float("nan"),) * 3
    r = ((net.forward(latent) if output is None else output) - y)[mask]
    return float(np.abs(r).sum()), float(np.linalg.norm(r)), float(np.abs(r).max())


def invert(
    net: Network,
    y: object,
    *,
    method: str = "linf",
    mask: object | None = None,
    noise: float | None = None,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    seed: int | np.random.Generator | None = None,
    signal_tol: float | None = None,
    **options: Any,
) -> Inversion:
    """Invert ``y ≈ G(z)`` with the named method.

    Parameters
    ----------
    net : Network
    y : array of length ``net.output_dim``
    method : str
        A registered method name (``theorychk.solvers.REGISTRY``); an unknown name lists them.
    mask : boolean array, optional
        Observed output coordinates (inpainting / sensing). Default: all.
    noise : float, optional
        Declared noise level (see each method). SOLVED then means ``‖G(ẑ) − y‖ ≤ signal_tol +
        noise`` in the method's noise norm (module docstring).
    time_limit : float or None, default :data:`~theorychk.runtime.DEFAULT_TIME_LIMIT` (60)
        Wall-clock seconds for this signal, shared by every step of the method (HiGHS gets what
        is left); on expiry the method returns ``UNKNOWN`` with reason ``Reason.TIME_LIMIT``.
        ``None`` asks for no limit.
    seed : int or numpy.random.Generator, optional
        The only source of randomness (restarts, initialisations).
    signal_tol : float, optional
        Tolerance on ``‖G(ẑ) − y‖₂`` (observed coordinates) within which ``y`` counts as
        realizable; default from the model's dtype (:func:`signal_tolerance`).
    **options
        Method-specific options, documented per method.

    The status is decided centrally (module docstring, docs/glossary.md); the result records
    ``signal_offset``, ``signal_tol`` and what the method itself reported (``method_status``).
    """
    prepared = prepare(net, method=method, mask=mask, noise=noise, time_limit=time_limit, options=options,
                       signal_tol=signal_tol)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return prepared.run(validate_signal(net, y), rng)


@dataclass(frozen=True, eq=False)
class Prepared:
    """An inversion set up once for many signals of one network (see :func:`prepare`).

    Holds what does not depend on the signal — the method, the validated mask and noise level,
    the network's check by the method — so that a batch pays for it once.
    """

    net: Network
    method: str
    impl: Method
    mask: np.ndarray
    noise: float | None
    time_limit: float | None
    options: dict[str, Any]
    signal_tol: float | None = None

    @property
    def batched(self) -> bool:
        """Whether the method inverts many signals in one call (:class:`BatchedMethod`)."""
        return isinstance(self.impl, BatchedMethod)

    def run(self, y: np.ndarray, rng: np.random.Generator) -> Inversion:
        """Invert one signal already validated by :func:`validate_signal`; the status is decided here."""
        net, mask = self.net, self.mask
        tol = signal_tolerance(net, y[mask], signal_tol=self.signal_tol)
        problem = Problem(net, y, mask, self.noise, Deadline(self.time_limit), rng, dict(self.options), tol.value,
                          tol.rounding)
        start = time.perf_counter()
        result = self.impl.run(problem)
        return self._finish(result, y, time.perf_counter() - start)

    def run_many(self, ys: np.ndarray, rngs: Sequence[np.random.Generator]) -> list[Inversion]:
        """Invert the rows of ``ys`` (validated), row ``i`` with ``rngs[i]``.

        A :class:`BatchedMethod` inverts them in one call, the time limit applying to each row
        on its own (:class:`~theorychk.runtime.RowBudget`; a row's ``elapsed`` is its share of
        the call's wall time); another method runs :meth:`run` row by row. Either way row ``i``
        gets what :meth:`run` gives it alone, up to rounding (and to where a time limit falls).
        """
        if not isinstance(self.impl, BatchedMethod):
            return [self.run(y, rng) for y, rng in zip(ys, rngs, strict=True)]
        rows = np.arange(len(ys))
        budget = RowBudget(len(ys), self.time_limit)
        batch = BatchProblem(self.net, ys, self.mask, self.noise, budget, tuple(rngs), dict(self.options))
        results = self.impl.run_batch(batch)
        hidden = self._hidden_rows(results)
        budget.charge(rows)  # the work after the call's last check
        return [self._finish(r, ys[i], float(budget.spent[i]), hidden.get(int(i)))
                for i, r in zip(rows, results, strict=True)]

    def _hidden_rows(self, results: Sequence[Inversion]) -> dict[int, tuple[np.ndarray, ...]]:
        """The hidden layers of every finite latent the method left without them, in one forward
        pass over the rows (one matrix product per layer instead of one per signal: ~0.1 ms per
        signal on the 20-128-392-784 net, issue 18). A row's values are those of
        ``net.hidden(latent)`` up to the rounding of a many-row product (about 1e-15 relative)."""
        need = [i for i, r in enumerate(results)
                if not r.hidden and r.latent is not None and np.all(np.isfinite(r.latent))]
        if not need:
            return {}
        layers = self.net.hidden(np.stack([results[i].latent for i in need]))
        return {i: tuple(x[j] for x in layers) for j, i in enumerate(need)}

    def _finish(self, result: Inversion, y: np.ndarray, elapsed: float,
                hidden_known: tuple[np.ndarray, ...] | None = None) -> Inversion:
        """Residuals (one definition for every method) and the hidden layers of the latent
        (``hidden_known``: computed already for the latent, by :meth:`_hidden_rows`)."""
        net, mask = self.net, self.mask
        tol = signal_tolerance(net, y[mask], signal_tol=self.signal_tol)
        hidden = result.hidden
        output = None
        if hidden_known is not None:
            hidden, output = hidden_known, hidden_known[-1]
        elif not hidden and result.latent is not None and np.all(np.isfinite(result.latent)):
            hidden = tuple(net.hidden(result.latent))
            output = hidden[-1]  # G(latent): the residuals need no second forward pass
        l1, l2, linf = _residuals(net, result.latent, y, mask, output)
        status, reason = self._status(result, tol.value, l2, linf)
        return replace(result, status=status, reason=reason, hidden=hidden, residual_l1=l1, residual_l2=l2,
                       residual_linf=linf, elapsed=elapsed, signal_offset=l2, signal_tol=tol.value,
                       tolerance=tol.to_dict(), method_status=result.status.value)

    def _status(self, result: Inversion, tol: float, l2: float, linf: float) -> tuple[InversionStatus, str]:
        """The one place a status is decided (module docstring): the method's own status only
        matters for what the residual cannot tell — a time limit, a proof of infeasibility."""
        said, reason = result.status, result.reason
        has_estimate = bool(np.isfinite(l2))
        if self.noise:
            norm = getattr(self.impl, "noise_norm", "l2")
            bound, value, label = tol + self.noise, (linf if norm == "linf" else l2), ("∞" if norm == "linf" else "₂")
            within_text = f"‖G(ẑ) − y‖{label} = {value:.3g} > signal_tol + noise = {bound:.3g}"
        else:
            bound, value = tol, l2
            within_text = f"‖G(ẑ) − y‖₂ = {value:.3g} > signal_tol = {bound:.3g}"
        if has_estimate and value <= bound:
            if said is InversionStatus.INFEASIBLE:
                return InversionStatus.SOLVED, (f"the method claimed INFEASIBLE ({reason}), but its estimate "
                                                "reproduces y within the tolerance")
            return InversionStatus.SOLVED, "" if said is InversionStatus.SOLVED else reason
        if said is InversionStatus.INFEASIBLE:
            return said, reason
        if said is InversionStatus.UNKNOWN and reason.startswith(Reason.TIME_LIMIT):
            return said, reason
        if has_estimate:
            return InversionStatus.APPROXIMATE, within_text + (f" ({reason})" if reason else "")
        return InversionStatus.FAILED, reason or "the method returned no estimate"


def prepare(
    net: Network,
    *,
    method: str = "linf",
    mask: object | None = None,
    noise: float | None = None,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    options: dict[str, Any] | None = None,
    signal_tol: float | None = None,
) -> Prepared:
    """Validate everything of an inversion but the signal, once; ``invert``'s errors, up front."""
    impl = get_method(method)
    mask_arr = validate_mask(net, mask)
    if not mask_arr.all() and not impl.supports_mask:
        raise InvalidInput(f"method {method!r} does not support masks; use one of "
                           f"{', '.join(sorted(n for n, m in all_methods().items() if m.supports_mask))}",
                           argument="mask", got=mask)
    noise = check("noise", noise, _NONNEG_OR_NONE)
    Deadline(time_limit)  # validates the time limit before any work
    tol = check("signal_tol", signal_tol, _NONNEG_OR_NONE)
    impl.check(net)
    spec = getattr(impl, "option_constraints", None)  # optional: not a Method protocol member
    if spec is not None:
        options = check_options(options or {}, spec, method=method)  # before any work, not per signal
    return Prepared(net, method, impl, mask_arr, noise, time_limit, dict(options or {}), tol)


def invert_batch(
    net: Network, signals: Sequence[object] | np.ndarray, *, workers: int = 1, dask: Any = None, **kwargs: Any
) -> list[Inversion]:
    """:func:`invert` on each row of ``signals`` (a ``(batch, n_L)`` array); same keyword options.

    The set-up that does not depend on the signal is done once, every row is validated before
    the first inversion, and ``workers`` > 1 spreads the rows over processes (``dask``: a Dask
    scheduler address or client) — see :func:`theorychk.solvers.batch.invert_stream`, which
    yields results as they finish. Each signal gets its own child seed (``SeedSequence.spawn``
    of an integer ``seed``, ``Generator.spawn`` of a generator), so the results do not depend on
    ``workers`` and a row re-run alone reproduces.
    """
    from theorychk.solvers.batch import invert_stream

    results: dict[int, Inversion] = dict(invert_stream(net, signals, workers=workers, dask=dask, **kwargs))
    return [results[i] for i in range(len(results))]
