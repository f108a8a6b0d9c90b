"""Generators: activations, layers (fully connected or convolutional), networks.

The one shape convention of theorychk
-------------------------------------
A network maps a latent code ``z = x_0`` of length ``n_0`` to a signal ``x_L``::

    x_{i+1} = act_i(W_i @ x_i + b_i),    W_i.shape == (n_{i+1}, n_i),   i = 0, ..., L-1

* ``W_i`` is stored ``(n_out, n_in)``, as ``torch.nn.Linear`` stores it and as ONNX ``Gemm``
  with ``transB=1`` reads it.
* Layers are counted from the latent side: layer 0 takes the latent code.
* ``widths == (n_0, n_1, ..., n_L)``, latent first.
* Batched inputs have shape ``(batch, n_0)``; a single input may be 1-D.
* A convolutional layer (:class:`~theorychk.conv.Conv`) maps a ``C x H x W`` feature map
  flattened in C order (channel, row, column -- ``torch.flatten``'s order) to another; as a
  linear map it is an ``(n_out, n_in)`` matrix like any other (:attr:`Layer.operator`, sparse),
  so widths and every formula above stay the same.

Paper 001 (Lei et al.) writes ``W_i in R^{n_i x n_{i-1}}`` with the same orientation; paper 004
(Aberdam et al.) also counts from the latent side in its Eq. (3) (``x_1 = ReLU(W_0 z)``), with
``L`` hidden layers, but its Section 6.1 writes ``tanh(W_2 ReLU(W_1 z))``. Converters live at the
edges (``theorychk.theorems``), never here.

Numbers are kept exactly as stored: weights arrive as float16/float32/float64 (or integers up
to 2**53) and are widened *exactly* to float64; :attr:`Layer.dtype` records what they were, so
that a float32 net is treated as the float32 numbers it is (exports round-trip bit for bit and
the exact kernel sees the same dyadic rationals).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, ClassVar, TypeVar

import numpy as np

from theorychk.conv import Conv
from theorychk.errors import InvalidInput, unknown_name

__all__ = [
    "Activation",
    "Piece",
    "ReLU",
    "LeakyReLU",
    "Identity",
    "Tanh",
    "Sigmoid",
    "PLU",
    "parse_activation",
    "RowModel",
    "row_model",
    "ACTIVATIONS",
    "Layer",
    "Network",
    "fold_batch_norm",
    "memo",
]


# --------------------------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------------------------


def _like(value: Fraction, u: Any) -> Any:
    """``value`` in the rational type of ``u``: a flint ``fmpq`` for an ``fmpq``, else a Fraction."""
    if type(u).__name__ == "fmpq":
        return type(u)(value.numerator, value.denominator)
    return value


def _rational_input(u: Any, what: str, argument: str) -> Any:
    """``u`` as an exact rational: Fractions and flint ``fmpq`` pass, ints and floats are widened exactly.

    ``argument`` is the caller's parameter name, recorded on the :class:`InvalidInput`.
    """
    if isinstance(u, Fraction) or type(u).__name__ == "fmpq":
        return u
    if isinstance(u, (bool, np.bool_)) or not isinstance(u, (int, float, np.integer, np.floating)):
        raise InvalidInput(f"{what} needs an exact rational (Fraction, flint fmpq, int or float); got {u!r}",
                           argument=argument, got=u)
    if not math.isfinite(float(u)):
        raise InvalidInput(f"{what} needs a finite number; got {u!r}", argument=argument, got=u)
    return Fraction(u) if isinstance(u, (int, np.integer)) else Fraction(float(u))


@dataclass(frozen=True)
class Piece:
    """One linear piece of a piecewise-linear activation: ``act(h) = slope * h + offset`` on ``lo <= h <= hi``.

    ``lo`` and ``hi`` are floats (``-inf`` / ``inf`` at the ends; the finite ones are the
    activation's breakpoints, dyadic like every float). ``slope`` and ``offset`` are exact
    rationals — the numbers the activation's float parameters denote — so that an exact engine
    reads them as they are and a float engine converts them with ``float()``.

    Examples
    --------
    >>> [(p.lo, p.hi, str(p.slope), str(p.offset)) for p in LeakyReLU(0.25).regions]
    [(-inf, 0.0, '1/4', '0'), (0.0, inf, '1', '0')]
    """

    lo: float
    hi: float
    slope: Fraction
    offset: Fraction

    def __call__(self, h: np.ndarray) -> np.ndarray:
        """``slope * h + offset`` in floats (on every ``h``, inside the interval or not)."""
        return float(self.slope) * np.asarray(h, dtype=float) + float(self.offset)

    def contains(self, h: Any) -> Any:
        """Whether ``lo <= h <= hi`` (elementwise for arrays)."""
        return (self.lo <= h) & (h <= self.hi) if isinstance(h, np.ndarray) else self.lo <= h <= self.hi

    def exact(self, u: Any) -> Any:
        """``slope * u + offset`` exactly, in the rational type of ``u``."""
        return _like(self.slope, u) * u + _like(self.offset, u)


def _pieces(*specs: tuple[float, float, float | Fraction, float | Fraction]) -> tuple[Piece, ...]:
    return tuple(Piece(float(lo), float(hi), Fraction(s), Fraction(o)) for lo, hi, s, o in specs)


@dataclass(frozen=True)
class Activation:
    """An elementwise activation, and everything the engines ask of it.

    Subclasses set ``name``, ``piecewise_linear`` and ``invertible`` and implement
    :meth:`__call__` and :meth:`derivative`; invertible ones implement :meth:`inverse` and
    :attr:`inverse_lipschitz` (the Lipschitz constant of the inverse on the range).
    Piecewise-linear ones describe themselves by :attr:`regions` (their linear pieces), from
    which :attr:`breakpoints`, :meth:`exact` and :meth:`exact_inverse` follow; smooth ones
    (tanh, sigmoid) have no exact value and say so with an :class:`InvalidInput`.

    Engines ask the activation rather than dispatching on its name — as
    ``hypothesis.extra.numpy.from_dtype`` owns the per-dtype logic so that ``arrays()`` does
    not: an LP or MILP encodes each of :attr:`regions`, a gradient method multiplies by
    :meth:`derivative`, an exact engine calls :meth:`exact` / :meth:`exact_inverse`. (The trusted
    checker, :mod:`theorychk.check`, keeps its own small exact evaluation on purpose.)
    """

    name: ClassVar[str] = ""
    piecewise_linear: ClassVar[bool] = False
    invertible: ClassVar[bool] = False
    #: ``(low, high)``: the closure of the range of values (``-inf`` / ``inf`` when unbounded).
    value_range: ClassVar[tuple[float, float]] = (-math.inf, math.inf)
    #: ``sup |act'|`` over R.
    derivative_bound: ClassVar[float] = 1.0
    #: ``sup |act''|`` over R (0 for piecewise-linear ones, off their breakpoints).
    second_derivative_bound: ClassVar[float] = 0.0

    def __call__(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def derivative(self, pre: np.ndarray) -> np.ndarray:
        """``act'(pre)`` elementwise in floats, with autograd's conventions at breakpoints."""
        raise InvalidInput(f"no derivative for activation {self.spec!r}",
                           argument="activation", got=self.spec)

    @property
    def spec(self) -> str:
        """The string :func:`parse_activation` reads back into this activation."""
        return self.name

    @property
    def inverse_lipschitz(self) -> float:
        """Lipschitz constant of the inverse on the range (``inf`` when not invertible)."""
        return math.inf

    def inverse(self, y: np.ndarray) -> np.ndarray:
        raise InvalidInput(f"activation {self.spec!r} is not invertible",
                           argument="activation", got=self.spec)

    def inverse_derivative(self, y: np.ndarray) -> np.ndarray:
        """``(act^{-1})'(y)`` elementwise, for ``y`` inside the range (invertible smooth ones)."""
        raise InvalidInput(f"activation {self.spec!r} has no inverse derivative here",
                           argument="activation", got=self.spec)

    def on(self, pre: np.ndarray) -> np.ndarray:
        """Boolean mask of the units that are *on* (pre-activation > 0): the support."""
        return np.asarray(pre) > 0

    # ---- the linear pieces ---------------------------------------------------------------
    @property
    def regions(self) -> tuple[Piece, ...]:
        """The linear pieces, left to right; they cover R and meet at :attr:`breakpoints`."""
        raise InvalidInput(f"activation {self.spec!r} is not piecewise linear: it has no linear pieces",
                           argument="activation", got=self.spec)

    @property
    def breakpoints(self) -> tuple[float, ...]:
        """Where the slope changes, ascending (``()`` for identity and the smooth ones)."""
        if not self.piecewise_linear:
            return ()
        return tuple(p.hi for p in self.regions[:-1])

    def region_index(self, pre: np.ndarray) -> np.ndarray:
        """Index into :attr:`regions` of each pre-activation (a breakpoint counts to its left piece)."""
        return np.searchsorted(np.asarray(self.breakpoints, dtype=float), pre, side="left")

    def piece(self, u: Any) -> Piece:
        """The piece holding the scalar ``u`` (exact or float; a breakpoint counts to its left piece)."""
        pieces = self.regions
        exact = not isinstance(u, (float, np.floating))
        for p in pieces[:-1]:
            if u <= (_like(Fraction(p.hi), u) if exact else p.hi):
                return p
        return pieces[-1]

    # ---- exact arithmetic ----------------------------------------------------------------
    def exact(self, u: Any) -> Any:
        """The activation of one exact rational (Fraction or flint ``fmpq``; ints and floats are
        widened exactly), in that rational type.

        Examples
        --------
        >>> LeakyReLU(0.25).exact(Fraction(-2))
        Fraction(-1, 2)
        """
        if not self.piecewise_linear:
            raise InvalidInput(f"activation {self.spec!r} is not piecewise linear: no exact forward pass",
                               argument="activation", got=self.spec)
        u = _rational_input(u, f"activation {self.spec!r}", "u")
        return self.piece(u).exact(u)

    def exact_inverse(self, y: Any) -> Any:
        """The one pre-activation ``h`` with ``act(h) == y``, exactly (invertible piecewise-linear ones).

        Examples
        --------
        >>> PLU(0.5, 1.0).exact_inverse(Fraction(3, 2))
        Fraction(2, 1)
        """
        if not self.invertible:
            raise InvalidInput(f"activation {self.spec!r} is not invertible",
                               argument="activation", got=self.spec)
        if not self.piecewise_linear:
            raise InvalidInput(f"activation {self.spec!r} is not piecewise linear: no exact inverse",
                               argument="activation", got=self.spec)
        y = _rational_input(y, f"inverse of activation {self.spec!r}", "y")
        pieces = self.regions
        for p in pieces[:-1]:  # every slope is positive: the images follow the pieces' order
            if y <= p.exact(_like(Fraction(p.hi), y)):
                break
        else:
            p = pieces[-1]
        return (y - _like(p.offset, y)) / _like(p.slope, y)

    def __str__(self) -> str:
        return self.spec


@dataclass(frozen=True)
class ReLU(Activation):
    """``max(x, 0)``: not invertible; the support is where the pre-activation is positive."""

    name: ClassVar[str] = "relu"
    piecewise_linear: ClassVar[bool] = True
    value_range: ClassVar[tuple[float, float]] = (0.0, math.inf)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0.0)

    def derivative(self, pre: np.ndarray) -> np.ndarray:
        """1 where ``pre > 0``, else 0 (so 0 at 0, as autograd)."""
        return (np.asarray(pre) > 0).astype(float)

    @property
    def regions(self) -> tuple[Piece, ...]:
        return _pieces((-math.inf, 0.0, 0, 0), (0.0, math.inf, 1, 0))


@dataclass(frozen=True)
class LeakyReLU(Activation):
    """``x if x > 0 else slope * x`` with ``0 < slope < 1``; inverse Lipschitz ``1/slope``."""

    slope: float = 0.01
    name: ClassVar[str] = "leaky_relu"
    piecewise_linear: ClassVar[bool] = True
    invertible: ClassVar[bool] = True

    def __post_init__(self) -> None:
        s = self.slope
        if not (isinstance(s, (int, float, np.floating)) and 0.0 < float(s) < 1.0):
            raise InvalidInput(f"LeakyReLU slope must be in (0, 1); got {s!r}", argument="slope", got=s)
        object.__setattr__(self, "slope", float(s))

    @property
    def spec(self) -> str:
        return f"leaky_relu:{self.slope!r}"

    @property
    def inverse_lipschitz(self) -> float:
        return 1.0 / self.slope

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x, self.slope * x)

    def derivative(self, pre: np.ndarray) -> np.ndarray:
        """1 where ``pre > 0``, else the slope."""
        return np.where(np.asarray(pre) > 0, 1.0, self.slope)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        return np.where(y > 0, y, y / self.slope)

    @property
    def regions(self) -> tuple[Piece, ...]:
        return _pieces((-math.inf, 0.0, self.slope, 0), (0.0, math.inf, 1, 0))


@dataclass(frozen=True)
class Identity(Activation):
    """No activation (a purely affine layer)."""

    name: ClassVar[str] = "identity"
    piecewise_linear: ClassVar[bool] = True
    invertible: ClassVar[bool] = True

    @property
    def inverse_lipschitz(self) -> float:
        return 1.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=float).copy()

    def derivative(self, pre: np.ndarray) -> np.ndarray:
        return np.ones_like(pre, dtype=float)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=float).copy()

    @property
    def regions(self) -> tuple[Piece, ...]:
        return _pieces((-math.inf, math.inf, 1, 0))


@dataclass(frozen=True)
class Tanh(Activation):
    """``tanh``: invertible on (-1, 1); the inverse is not globally Lipschitz (``inf``)."""

    name: ClassVar[str] = "tanh"
    invertible: ClassVar[bool] = True
    value_range: ClassVar[tuple[float, float]] = (-1.0, 1.0)
    second_derivative_bound: ClassVar[float] = 4.0 / (3.0 * math.sqrt(3.0))  # |tanh''| at artanh(1/sqrt 3)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def derivative(self, pre: np.ndarray) -> np.ndarray:
        t = np.tanh(pre)
        return 1.0 - t * t

    def inverse(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        if np.any(np.abs(y) >= 1):
            raise InvalidInput("tanh inverse needs values in (-1, 1); got a value with |y| >= 1",
                               argument="y", got=float(y[np.abs(y) >= 1].flat[0]))
        return np.arctanh(y)

    def inverse_derivative(self, y: np.ndarray) -> np.ndarray:
        """``artanh'(y) = 1 / (1 - y^2)``."""
        y = np.asarray(y, dtype=float)
        return 1.0 / (1.0 - y * y)


@dataclass(frozen=True)
class Sigmoid(Activation):
    """Logistic sigmoid: invertible on (0, 1); inverse not globally Lipschitz (``inf``)."""

    name: ClassVar[str] = "sigmoid"
    invertible: ClassVar[bool] = True
    value_range: ClassVar[tuple[float, float]] = (0.0, 1.0)
    derivative_bound: ClassVar[float] = 0.25
    second_derivative_bound: ClassVar[float] = 1.0 / (6.0 * math.sqrt(3.0))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        # expit keeps full relative precision for very negative x, where 0.5*(1+tanh(x/2))
        # cancels to a few digits; the inverse (logit) then recovers x to rounding.
        from scipy.special import expit

        return expit(np.asarray(x, dtype=float))

    def derivative(self, pre: np.ndarray) -> np.ndarray:
        s = self(pre)
        return s * (1.0 - s)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        if np.any((y <= 0) | (y >= 1)):
            raise InvalidInput("sigmoid inverse needs values in (0, 1); got a value outside",
                               argument="y", got=float(y[(y <= 0) | (y >= 1)].flat[0]))
        return np.log(y) - np.log1p(-y)

    def inverse_derivative(self, y: np.ndarray) -> np.ndarray:
        """``logit'(y) = 1 / (y (1 - y))``."""
        y = np.asarray(y, dtype=float)
        return 1.0 / (y * (1.0 - y))


@dataclass(frozen=True)
class PLU(Activation):
    """Piecewise linear unit of Nicolae (arXiv:1809.09534), used by paper 004's MNIST net.

    ``PLU(x) = max(alpha*(x + c) - c, min(alpha*(x - c) + c, x))``: slope 1 on ``[-c, c]`` and
    ``alpha`` outside. With ``0 < alpha <= 1`` it is a bijection of R whose inverse has
    Lipschitz constant ``1/alpha``.
    """

    alpha: float = 0.1
    c: float = 1.0
    name: ClassVar[str] = "plu"
    piecewise_linear: ClassVar[bool] = True
    invertible: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not (0.0 < float(self.alpha) <= 1.0):
            raise InvalidInput(f"PLU alpha must be in (0, 1]; got {self.alpha!r}",
                               argument="alpha", got=self.alpha)
        if not (float(self.c) > 0.0 and math.isfinite(float(self.c))):
            raise InvalidInput(f"PLU c must be positive and finite; got {self.c!r}", argument="c", got=self.c)
        object.__setattr__(self, "alpha", float(self.alpha))
        object.__setattr__(self, "c", float(self.c))

    @property
    def spec(self) -> str:
        return f"plu:{self.alpha!r}:{self.c!r}"

    @property
    def inverse_lipschitz(self) -> float:
        return 1.0 / self.alpha

    def __call__(self, x: np.ndarray) -> np.ndarray:
        a, c = self.alpha, self.c
        return np.maximum(a * (x + c) - c, np.minimum(a * (x - c) + c, x))

    def derivative(self, pre: np.ndarray) -> np.ndarray:
        """1 on ``[-c, c]`` (its ends included), else ``alpha``."""
        return np.where(np.abs(pre) <= self.c, 1.0, self.alpha)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        a, c = self.alpha, self.c
        y = np.asarray(y, dtype=float)
        return np.where(y > c, (y - c) / a + c, np.where(y < -c, (y + c) / a - c, y))

    @property
    def regions(self) -> tuple[Piece, ...]:
        # alpha*(x + c) - c = alpha*x + (alpha - 1)*c below -c; alpha*x + (1 - alpha)*c above c
        a, c = Fraction(self.alpha), Fraction(self.c)
        return _pieces((-math.inf, -self.c, a, (a - 1) * c), (-self.c, self.c, 1, 0),
                       (self.c, math.inf, a, (1 - a) * c))


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (ReLU, LeakyReLU, Identity, Tanh, Sigmoid, PLU)
}
_ALIASES = {"linear": "identity", "none": "identity", "leakyrelu": "leaky_relu", "lrelu": "leaky_relu"}


def parse_activation(spec: str | Activation) -> Activation:
    """Read an activation from its spec string.

    ``"relu"``, ``"leaky_relu:0.1"``, ``"identity"`` (alias ``"linear"``), ``"tanh"``,
    ``"sigmoid"``, ``"plu"`` or ``"plu:ALPHA:C"``. Specs contain no comma, so a per-layer list
    can be written ``"relu,relu,plu:0.1:1"``.

    Examples
    --------
    >>> parse_activation("leaky_relu:0.2")
    LeakyReLU(slope=0.2)
    >>> parse_activation("plu").spec
    'plu:0.1:1.0'
    """
    if isinstance(spec, Activation):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidInput(f"activation must be a name like 'relu' or 'leaky_relu:0.1'; got {spec!r}",
                           argument="activation", got=spec)
    name, *args = spec.strip().lower().split(":")
    name = _ALIASES.get(name, name)
    if name not in ACTIVATIONS:
        raise unknown_name("activation", name, ACTIVATIONS)
    cls = ACTIVATIONS[name]
    arity = {LeakyReLU: (1,), PLU: (0, 1, 2)}.get(cls, (0,))
    if len(args) not in arity:
        if cls is LeakyReLU:
            raise InvalidInput(f"activation {spec!r} needs exactly one slope, e.g. 'leaky_relu:0.1'",
                               argument="activation", got=spec)
        if cls is PLU:
            raise InvalidInput(f"activation {spec!r} takes at most alpha and c, e.g. 'plu:0.1:1'",
                               argument="activation", got=spec)
        raise InvalidInput(f"activation {name!r} takes no parameter; got {spec!r}",
                           argument="activation", got=spec)
    try:
        params = [float(p) for p in args]
    except ValueError:
        raise InvalidInput(f"activation parameters must be numbers; got {spec!r}",
                           argument="activation", got=spec) from None
    return cls(*params)


# --------------------------------------------------------------------------------------------
# The rows an LP / MILP encoding takes from an activation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowModel:
    """What an LP or MILP encoding of one unit needs of its activation, read off the pieces once.

    ``pieces``: :attr:`Activation.regions` (``()`` for a smooth activation). ``family``: which
    row family of paper 001 models the unit — ``"linear"`` (one piece ``h``), ``"relu"`` (``0``
    then ``h``, kink at 0), ``"leaky"`` (``c·h`` then ``h``, ``0 < c < 1``, kink at 0), or
    ``"other"`` (smooth, or pieces those rows do not cover). ``lower_slope``: the slope ``c`` of
    the piece left of the kink (0 relu, ``c`` leaky, 1 linear; ``nan`` otherwise); in the
    ``"relu"`` family an output 0 says only ``pre <= 0`` and a positive one pins ``pre`` (the
    support rows of the pursuit and uniqueness engines). ``convex``: slopes
    non-decreasing, so the unit is the max of its pieces. The family is a shape, not a name: a
    user's activation with the same pieces gets the same rows.

    Examples
    --------
    >>> row_model(LeakyReLU(0.25)).family, row_model(LeakyReLU(0.25)).lower_slope
    ('leaky', 0.25)
    >>> row_model(ReLU()).family, row_model(PLU(0.1, 1.0)).family, row_model(Tanh()).pieces
    ('relu', 'other', ())
    """

    pieces: tuple[Piece, ...]
    family: str
    lower_slope: float
    convex: bool


@functools.lru_cache(maxsize=None)
def row_model(act: Activation) -> RowModel:
    """The :class:`RowModel` of ``act`` (cached per activation: engines ask it per layer and unit)."""
    if not act.piecewise_linear:
        return RowModel((), "other", math.nan, False)
    pieces = act.regions
    convex = len(pieces) > 1 and all(a.slope <= b.slope for a, b in zip(pieces, pieces[1:]))
    family = "other"
    if all(p.offset == 0 for p in pieces) and pieces[-1].slope == 1:
        if len(pieces) == 1:
            family = "linear"
        elif len(pieces) == 2 and pieces[0].hi == 0.0 and 0 <= pieces[0].slope < 1:
            family = "relu" if pieces[0].slope == 0 else "leaky"
    lower = {"linear": 1.0, "other": math.nan}.get(family, float(pieces[0].slope))
    return RowModel(pieces, family, lower, convex)


# --------------------------------------------------------------------------------------------
# Layers and networks
# --------------------------------------------------------------------------------------------

_EXACT_INT_LIMIT = 2**53


_T = TypeVar("_T")


def memo(obj: Any, name: str, compute: Callable[[], _T]) -> _T:
    """``compute()`` once per frozen ``obj`` (a :class:`Layer` or :class:`Network`), kept on it as
    ``name``, as :meth:`Conv.operator <theorychk.conv.Conv.operator>` keeps its matrix: the numbers
    are read-only copies, so a value derived from them (a digest) holds for the object's life. Keep
    to small picklable values: networks go to worker processes with what is memoized on them."""
    cached = obj.__dict__.get(name)
    if cached is None:
        cached = compute()
        object.__setattr__(obj, name, cached)
    return cached


def _stored_array(value: object, what: str, ndim: int, argument: str = "") -> tuple[np.ndarray, str]:
    """Validate an array argument and widen it exactly to a read-only float64 array.

    Returns the array and the name of the dtype the numbers were stored in. An
    :class:`InvalidInput` names ``argument`` (default ``what``) and, for an array, what it is
    (dtype or shape) rather than its numbers.
    """
    argument = argument or what
    if hasattr(value, "detach"):  # a torch tensor slipped through: take its numbers as stored
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InvalidInput(f"{what} must be a numeric array; got dtype {arr.dtype}",
                           argument=argument, got=str(arr.dtype))
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise InvalidInput(f"{what} must be real; got dtype {arr.dtype}",
                           argument=argument, got=str(arr.dtype))
    if arr.ndim != ndim:
        raise InvalidInput(f"{what} must be {ndim}-D; got shape {arr.shape}",
                           argument=argument, got=arr.shape)
    if np.issubdtype(arr.dtype, np.floating):
        stored = {np.float16: "float16", np.float32: "float32"}.get(arr.dtype.type, "float64")
        if arr.dtype.itemsize > 8:
            wide = arr.astype(np.float64)
            if not np.array_equal(wide.astype(arr.dtype), arr, equal_nan=True):
                raise InvalidInput(f"{what} has dtype {arr.dtype} values float64 cannot hold exactly",
                                   argument=argument, got=str(arr.dtype))
            arr = wide
    else:
        stored = "float64"
        if arr.size and (big := int(np.max(np.abs(arr.astype(object))))) > _EXACT_INT_LIMIT:
            raise InvalidInput(f"{what} has integers beyond 2**53 that float64 cannot hold exactly",
                               argument=argument, got=big)
    out = np.array(arr, dtype=np.float64, order="C")  # exact: every float16/32 and int <= 2**53
    if not np.all(np.isfinite(out)):
        bad = np.argwhere(~np.isfinite(out))[0]
        raise InvalidInput(f"{what} must be finite; got {out[tuple(bad)]} at index {tuple(int(i) for i in bad)}",
                           argument=argument, got=float(out[tuple(bad)]))
    out.setflags(write=False)
    return out, stored


@dataclass(frozen=True, eq=False, init=False)
class Layer:
    """One affine map followed by an activation: ``x -> activation(W @ x + bias)``.

    ``W`` is given either as a dense ``weight`` of shape ``(n_out, n_in)`` or as a
    :class:`~theorychk.conv.Conv` (a convolution with its kernel). ``bias`` has length ``n_out``
    (a convolution also takes one bias per output channel, expanded over the feature map);
    ``None`` means no bias, stored as zeros with ``has_bias=False``. ``dtype`` records the
    precision the numbers were stored in; the arrays themselves are exact float64 copies,
    read-only.

    Every engine reads ``W`` through one of two accessors:

    * :attr:`operator` -- the matrix as it is best applied: the dense array of a fully connected
      layer, the exact sparse CSR matrix of a convolution (what the forward pass uses);
    * :attr:`weight` -- always a dense ``(n_out, n_in)`` array; for a convolution it is built on
      first use and refused (:class:`InvalidInput`) above :data:`theorychk.conv.DENSE_LIMIT`
      entries, so an engine that needs a dense matrix never densifies what does not fit.

    :attr:`conv` is the :class:`~theorychk.conv.Conv` of a convolutional layer, else ``None``.
    """

    operator: Any
    bias: np.ndarray
    activation: Activation
    dtype: str
    has_bias: bool
    conv: Conv | None

    def __init__(
        self,
        weight: np.ndarray | Conv | None = None,
        bias: np.ndarray | None = None,
        activation: Activation | str | None = None,
        dtype: str = "",
        *,
        operator: Any = None,
        has_bias: bool | None = None,
        conv: Conv | None = None,
    ) -> None:
        # ``operator`` / ``has_bias`` / ``conv`` are the stored fields under their own names, so
        # ``dataclasses.replace(layer, bias=...)`` rebuilds a layer (dense or convolutional) as it
        # did when ``weight`` was the field
        if weight is None:
            weight = conv if conv is not None else operator
            if weight is None:
                raise InvalidInput("weight is required: a (n_out, n_in) array or a Conv; got None",
                                   argument="weight", got=None)
        if has_bias is False and bias is not None and not np.any(np.asarray(bias)):
            bias = None  # a replaced layer without bias keeps its has_bias=False
        conv = weight if isinstance(weight, Conv) else None
        if conv is not None:
            w = conv.operator()
            w_dtype = conv.dtype
            n_out = conv.n_out
        else:
            w, w_dtype = _stored_array(weight, "weight", 2)
            if w.shape[0] == 0 or w.shape[1] == 0:
                raise InvalidInput(f"weight must have at least one row and one column; got shape {w.shape}",
                                   argument="weight", got=w.shape)
            n_out = w.shape[0]
        has_bias = bias is not None
        if has_bias:
            b, b_dtype = _stored_array(bias, "bias", 1)
            if conv is not None and b.shape[0] == conv.out_shape[0] != n_out:
                per_pixel = n_out // conv.out_shape[0]
                b = np.repeat(b, per_pixel)  # one bias per output channel, over its feature map
                b.setflags(write=False)
            if b.shape[0] != n_out:
                expected = f"{n_out}" if conv is None else f"{n_out} (or one per channel, {conv.out_shape[0]})"
                raise InvalidInput(f"bias length must equal the weight's row count {expected}; got {b.shape[0]}",
                                   argument="bias", got=b.shape[0])
        else:
            b, b_dtype = np.zeros(n_out), w_dtype
            b.setflags(write=False)
        dtype = dtype or (w_dtype if w_dtype == b_dtype else "float64")
        if dtype not in ("float16", "float32", "float64"):
            raise InvalidInput(f"dtype must be float16, float32 or float64; got {dtype!r}",
                               argument="dtype", got=dtype)
        if dtype != "float64":
            np_dtype = np.dtype(dtype)
            stored = conv.kernel if conv is not None else w
            for arr, what in ((stored, "weight"), (b, "bias")):
                if not np.array_equal(rounded := arr.astype(np_dtype).astype(np.float64), arr):
                    raise InvalidInput(f"{what} values are not exactly representable as {dtype}",
                                       argument=what, got=float(arr[rounded != arr].flat[0]))
        for key, value in (("operator", w), ("bias", b), ("activation", parse_activation(activation or ReLU())),
                           ("dtype", dtype), ("has_bias", has_bias), ("conv", conv)):
            object.__setattr__(self, key, value)

    @property
    def weight(self) -> np.ndarray:
        """``W`` as a dense ``(n_out, n_in)`` read-only array (see the class docstring for convolutions)."""
        return self.operator if self.conv is None else self.conv.dense()

    @property
    def kind(self) -> str:
        """``"linear"``, ``"conv"`` or ``"conv_transpose"``."""
        return "linear" if self.conv is None else self.conv.kind

    @property
    def n_in(self) -> int:
        return self.operator.shape[1]

    @property
    def n_out(self) -> int:
        return self.operator.shape[0]

    @property
    def n_params(self) -> int:
        """Stored numbers: weight (or kernel) entries plus bias entries (one per channel for a convolution)."""
        if self.conv is None:
            return self.operator.size + (self.n_out if self.has_bias else 0)
        return self.conv.kernel.size + (self.conv.out_shape[0] if self.has_bias else 0)

    def stored_bytes(self) -> bytes:
        """``W``'s numbers as stored, for hashing: the dense weight's bytes (in :attr:`dtype`), or for a
        convolution its geometry (as text) and the kernel's bytes -- never a densified operator."""
        np_dtype = np.dtype(self.dtype).newbyteorder("<")
        if self.conv is None:
            return np.ascontiguousarray(self.operator, dtype=np_dtype).tobytes()
        geometry = "|".join(f"{k}={v}" for k, v in self.conv.geometry().items())
        return f"{geometry}|".encode() + np.ascontiguousarray(self.conv.kernel, dtype=np_dtype).tobytes()

    def pre_activation(self, x: np.ndarray) -> np.ndarray:
        """``W x + b`` for a batch ``x`` of shape ``(batch, n_in)``."""
        if self.conv is None:
            return x @ self.operator.T + self.bias
        return np.asarray(self.operator @ np.asarray(x).T).T + self.bias

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.activation(self.pre_activation(x))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Layer):
            return NotImplemented
        if (self.conv is None) != (other.conv is None):
            return False
        same_w = (np.array_equal(self.operator, other.operator) if self.conv is None
                  else self.conv == other.conv)
        return (
            self.activation == other.activation
            and self.has_bias == other.has_bias
            and same_w
            and np.array_equal(self.bias, other.bias)
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, eq=False)
class Network:
    """A chain of :class:`Layer` s, latent side first. See the module docstring for shapes.

    Examples
    --------
    >>> import numpy as np
    >>> net = Network([Layer(np.eye(2), None, "relu"), Layer(np.ones((3, 2)), np.zeros(3), "identity")])
    >>> net.widths
    (2, 2, 3)
    >>> net.forward(np.array([1.0, -1.0])).tolist()
    [1.0, 1.0, 1.0]
    """

    layers: tuple[Layer, ...]
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        layers = tuple(self.layers) if isinstance(self.layers, Sequence) else self.layers
        if not isinstance(layers, tuple) or not layers:
            raise InvalidInput("network must have at least one layer; got none", argument="layers",
                               got=layers if isinstance(layers, tuple) else type(layers).__name__)
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise InvalidInput(f"layer {i} must be a Layer; got {type(layer).__name__}",
                                   argument=f"layers[{i}]", got=type(layer).__name__)
        for i in range(1, len(layers)):
            if layers[i].n_in != layers[i - 1].n_out:
                raise InvalidInput(
                    f"layer widths do not chain: layer {i - 1} outputs {layers[i - 1].n_out} "
                    f"values but layer {i} weight has {layers[i].n_in} columns",
                    argument=f"layers[{i}]", got=layers[i].n_in,
                )
        object.__setattr__(self, "layers", layers)

    # ---- shape -------------------------------------------------------------------------
    @property
    def widths(self) -> tuple[int, ...]:
        """``(n_0, n_1, ..., n_L)``, latent dimension first."""
        return (self.layers[0].n_in, *(layer.n_out for layer in self.layers))

    @property
    def latent_dim(self) -> int:
        return self.layers[0].n_in

    @property
    def output_dim(self) -> int:
        return self.layers[-1].n_out

    @property
    def depth(self) -> int:
        return len(self.layers)

    @property
    def expansion(self) -> tuple[float, ...]:
        """Per-layer expansion factors ``n_{i+1} / n_i``."""
        w = self.widths
        return tuple(w[i + 1] / w[i] for i in range(len(w) - 1))

    @property
    def n_params(self) -> int:
        return sum(layer.n_params for layer in self.layers)

    @property
    def activations(self) -> tuple[Activation, ...]:
        return tuple(layer.activation for layer in self.layers)

    @property
    def dtype(self) -> str:
        """The widest stored precision of any layer."""
        order = ("float16", "float32", "float64")
        return max((layer.dtype for layer in self.layers), key=order.index)

    # ---- evaluation ----------------------------------------------------------------------
    def _batch(self, z: np.ndarray) -> tuple[np.ndarray, bool]:
        arr = np.asarray(z, dtype=np.float64)
        single = arr.ndim == 1
        if single:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.latent_dim:
            raise InvalidInput(
                f"latent must have shape ({self.latent_dim},) or (batch, {self.latent_dim}); got {np.shape(z)}",
                argument="z", got=np.shape(z),
            )
        if not np.all(np.isfinite(arr)):
            raise InvalidInput("latent must be finite; got NaN or Inf", argument="z",
                               got=float(arr[~np.isfinite(arr)].flat[0]))
        return arr, single

    def trace(self, z: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Pre-activations and post-activations of every layer.

        Returns ``(pre, post)``: ``pre[i] = W_i x_i + b_i`` and ``post[i] = x_{i+1}``, each
        of shape ``(batch, n_{i+1})`` (or 1-D for a 1-D ``z``).
        """
        x, single = self._batch(z)
        pre: list[np.ndarray] = []
        post: list[np.ndarray] = []
        for layer in self.layers:
            p = layer.pre_activation(x)
            x = layer.activation(p)
            pre.append(p[0] if single else p)
            post.append(x[0] if single else x)
        return pre, post

    def forward(self, z: np.ndarray) -> np.ndarray:
        """``G(z)`` for one latent (1-D) or a batch ``(batch, n_0)``."""
        return self.trace(z)[1][-1]

    __call__ = forward

    def pre_activations(self, z: np.ndarray) -> list[np.ndarray]:
        return self.trace(z)[0]

    def hidden(self, z: np.ndarray) -> list[np.ndarray]:
        """``[x_1, ..., x_L]``: every layer's output (the last is ``G(z)``)."""
        return self.trace(z)[1]

    def supports(self, z: np.ndarray) -> list[np.ndarray]:
        """Per layer, the boolean mask of units whose pre-activation is positive."""
        pre = self.pre_activations(z)
        return [layer.activation.on(p) for layer, p in zip(self.layers, pre, strict=True)]

    # ---- identity ------------------------------------------------------------------------
    def fingerprint(self) -> str:
        """sha256 over shapes, stored dtypes, the weights and biases as stored, and activations
        (computed once per network: :func:`memo`)."""
        return memo(self, "_fingerprint", self._fingerprint)

    def _fingerprint(self) -> str:
        import hashlib  # here, not at start-up: loading OpenSSL costs ~7 ms CPU in every command

        h = hashlib.sha256(b"theorychk-network-v1")
        for layer in self.layers:
            np_dtype = np.dtype(layer.dtype).newbyteorder("<")
            header = f"|{layer.n_out}x{layer.n_in}|{layer.dtype}|{layer.has_bias}|{layer.activation.spec}|"
            h.update(header.encode())
            h.update(layer.stored_bytes())
            if layer.has_bias:
                h.update(np.ascontiguousarray(layer.bias, dtype=np_dtype).tobytes())
        return h.hexdigest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Network):
            return NotImplemented
        return len(self.layers) == len(other.layers) and all(
            a == b for a, b in zip(self.layers, other.layers, strict=True)
        )

    __hash__ = None  # type: ignore[assignment]

    def with_activations(self, activations: Sequence[Activation | str]) -> Network:
        """The same weights with other activations (one per layer)."""
        if len(activations) != self.depth:
            raise InvalidInput(f"need {self.depth} activations, one per layer; got {len(activations)}",
                               argument="activations", got=tuple(activations))
        return Network(
            tuple(
                Layer(layer.conv or layer.operator, layer.bias if layer.has_bias else None, act, dtype=layer.dtype)
                for layer, act in zip(self.layers, activations, strict=True)
            ),
            name=self.name,
        )


def fold_batch_norm(
    weight: np.ndarray | Conv,
    bias: np.ndarray | None,
    *,
    gamma: np.ndarray,
    beta: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    eps: float = 1e-5,
) -> tuple[np.ndarray | Conv, np.ndarray]:
    """Fold an inference-mode batch norm that follows ``x -> W x + b`` into ``(W', b')``.

    ``BN(u) = gamma * (u - mean) / sqrt(var + eps) + beta``, so with
    ``s = gamma / sqrt(var + eps)``: ``W' = diag(s) W`` and ``b' = s * (b - mean) + beta``.
    The folded numbers are computed in float64 and are new numbers (not the stored ones): the
    resulting layer is float64.

    For a :class:`~theorychk.conv.Conv` the batch norm is per output channel: the kernel of
    channel ``o`` is scaled by ``s[o]`` (:meth:`Conv.scaled <theorychk.conv.Conv.scaled>`), and
    ``b'`` has one entry per channel (or per output unit, if ``bias`` had one per unit).
    """
    if isinstance(weight, Conv):
        n = weight.out_shape[0]
        w = weight
    else:
        w = np.asarray(weight, dtype=np.float64)
        n = w.shape[0] if w.ndim == 2 else -1
    b = np.zeros(n) if bias is None else np.asarray(bias, dtype=np.float64)
    params = {"gamma": gamma, "beta": beta, "mean": mean, "var": var}
    arrays = {}
    for key, val in params.items():
        arr = np.asarray(val, dtype=np.float64)
        if arr.shape != (n,):
            raise InvalidInput(f"batch-norm {key} must have length {n}; got shape {arr.shape}",
                               argument=key, got=arr.shape)
        arrays[key] = arr
    if np.any(arrays["var"] + eps <= 0):
        raise InvalidInput("batch-norm var + eps must be positive", argument="var",
                           got=float(arrays["var"][arrays["var"] + eps <= 0][0]))
    s = arrays["gamma"] / np.sqrt(arrays["var"] + eps)
    if isinstance(w, Conv):
        per = w.n_out // n
        if b.shape == (w.n_out,) and per != 1:  # a bias per output unit: expand the channel numbers
            return w.scaled(s), np.repeat(s, per) * (b - np.repeat(arrays["mean"], per)) + np.repeat(arrays["beta"], per)
        return w.scaled(s), s * (b - arrays["mean"]) + arrays["beta"]
    return s[:, None] * w, s * (b - arrays["mean"]) + arrays["beta"]
