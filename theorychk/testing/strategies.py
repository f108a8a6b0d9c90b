"""Public Hypothesis strategies for generators, signals, noise, masks and formulas.

Like ``hypothesis.extra.numpy``: typed, keyword-only, composable. Weights are small integers or
dyadic rationals by default (``entries="dyadic"``) so that exact brute force can serve as the
oracle and a shrunk counterexample is readable; ``entries="gaussian"`` draws N(0, 1/n_in)
weights from a seeded Generator, as the papers' random nets do.

Every argument is checked when the strategy is built, not when it is drawn from: a bad one raises
:class:`~theorychk.errors.InvalidInput` naming the strategy, the argument and what arrived, at the
line that wrote it (``networks(entries="foo")`` fails there, not inside ``@given``).

Examples
--------
>>> from hypothesis import given, settings
>>> from theorychk.testing import strategies as tst
>>> @settings(max_examples=5)
... @given(tst.planted_signals(tst.expansive_networks(latent_dim=2, depth=1)))
... def test_forward(case):
...     assert case.net.forward(case.latent).shape == case.signal.shape
>>> test_forward()
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from hypothesis import strategies as st

from theorychk.errors import InvalidInput
from theorychk.network import Layer, Network, parse_activation
from theorychk.reduction.cnf import CNF

__all__ = [
    "matrices",
    "networks",
    "expansive_networks",
    "sparse_networks",
    "relu_layers",
    "PlantedSignal",
    "planted_signals",
    "noise",
    "masks",
    "cnfs",
    "cnf_formulas",
]

Entries = Literal["dyadic", "integer", "gaussian"]
ENTRIES = ("dyadic", "integer", "gaussian")
HIDDEN = ("relu", "leaky_relu:0.25")

IntRange = tuple[int, int]
RealRange = tuple[float, float]


# --------------------------------------------------------------------------------------------
# Argument checks, run when a strategy is built
# --------------------------------------------------------------------------------------------


def _bad(strategy: str, name: str, what: str, got: object) -> InvalidInput:
    return InvalidInput(f"{strategy}: {name} must be {what}; got {got!r}", argument=name, got=got)


def _is_int(v: object) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_real(v: object) -> bool:
    real = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    return real and math.isfinite(v)


def _count(strategy: str, name: str, value: object, *, low: int) -> int:
    if _is_int(value) and value >= low:
        return int(value)
    raise _bad(strategy, name, f"an integer >= {low}", value)


def _int_range(strategy: str, name: str, value: object, *, low: int) -> IntRange:
    """A size given as an integer or an inclusive ``(low, high)`` pair, every value ``>= low``."""
    if _is_int(value) and value >= low:
        return int(value), int(value)
    if (isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_int(v) for v in value)
            and low <= value[0] <= value[1]):
        return int(value[0]), int(value[1])
    raise _bad(strategy, name, f"an integer >= {low} or a pair (low, high) with {low} <= low <= high", value)


def _real_range(strategy: str, name: str, value: object, *, low: float, high: float = math.inf,
                low_open: bool = False) -> RealRange:
    """A number or an inclusive ``(low, high)`` pair of them, each in ``[low, high]`` (``(low, high]``
    if ``low_open``)."""
    def fits(v: object) -> bool:
        return _is_real(v) and (v > low if low_open else v >= low) and v <= high

    if fits(value):
        return float(value), float(value)
    pair = isinstance(value, (tuple, list)) and len(value) == 2
    if pair and all(map(fits, value)) and value[0] <= value[1]:
        return float(value[0]), float(value[1])
    bounds = f"{'(' if low_open else '['}{low:g}, {high:g}{']' if high < math.inf else ')'}"
    raise _bad(strategy, name, f"a number in {bounds} or a pair (low, high) of them with low <= high", value)


def _probability(strategy: str, name: str, value: object) -> float:
    if _is_real(value) and 0 <= value <= 1:
        return float(value)
    raise _bad(strategy, name, "a number in [0, 1]", value)


def _one_of(strategy: str, name: str, value: object, valid: Sequence[str]) -> str:
    if isinstance(value, str) and value in valid:
        return value
    close = difflib.get_close_matches(value, valid, n=1) if isinstance(value, str) else []
    hint = f"; did you mean {close[0]!r}?" if close else ""
    error = _bad(strategy, name, "one of " + ", ".join(repr(v) for v in valid), value)
    raise InvalidInput(str(error) + hint, argument=name, got=value)


def _flag(strategy: str, name: str, value: object, *, none: bool = False) -> bool | None:
    if isinstance(value, bool) or (none and value is None):
        return value
    raise _bad(strategy, name, "True or False" + (" or None" if none else ""), value)


def _activations(strategy: str, name: str, value: object) -> tuple[str, ...]:
    what = "a non-empty tuple of activation specs like ('relu', 'leaky_relu:0.25')"
    if isinstance(value, str) or not isinstance(value, (tuple, list)) or not value:
        raise _bad(strategy, name, what, value)
    for spec in value:
        try:
            parse_activation(spec)
        except InvalidInput as exc:
            raise InvalidInput(f"{strategy}: {name} has a bad activation: {exc}",
                               argument=name, got=spec) from None
    return tuple(value)


def _widths(strategy: str, value: object) -> tuple[int, ...]:
    if isinstance(value, (tuple, list)) and len(value) >= 2 and all(_is_int(w) and w >= 1 for w in value):
        return tuple(int(w) for w in value)
    raise _bad(strategy, "widths", "a tuple of at least two positive integers (latent width first)", value)


def _draw_int(draw: st.DrawFn, bounds: IntRange) -> int:
    lo, hi = bounds
    return lo if lo == hi else draw(st.integers(lo, hi))


def _draw_real(draw: st.DrawFn, bounds: RealRange) -> float:
    lo, hi = bounds
    return lo if lo == hi else draw(st.floats(lo, hi))


def _weights(draw: st.DrawFn, shape: tuple[int, int], entries: Entries) -> np.ndarray:
    if entries == "gaussian":
        seed = draw(st.integers(0, 2**32 - 1))
        return np.random.default_rng(seed).standard_normal(shape) / np.sqrt(shape[1])
    values, scale = (st.integers(-3, 3), 1.0) if entries == "integer" else (st.integers(-8, 8), 1 / 4)
    flat = draw(st.lists(values, min_size=shape[0] * shape[1], max_size=shape[0] * shape[1]))
    return np.array(flat, dtype=np.float64).reshape(shape) * scale


# --------------------------------------------------------------------------------------------
# Matrices and networks
# --------------------------------------------------------------------------------------------


def matrices(
    *,
    rows: int | IntRange = (1, 6),
    cols: int | IntRange = (1, 6),
    entries: Entries = "integer",
) -> st.SearchStrategy[np.ndarray]:
    """Small matrices for invariants, exact brute force being the oracle.

    ``rows`` / ``cols`` are a fixed size or an inclusive ``(low, high)`` range.
    """
    return _matrices(_int_range("matrices", "rows", rows, low=1), _int_range("matrices", "cols", cols, low=1),
                     _one_of("matrices", "entries", entries, ENTRIES))


@st.composite
def _matrices(draw: st.DrawFn, rows: IntRange, cols: IntRange, entries: Entries) -> np.ndarray:
    return _weights(draw, (_draw_int(draw, rows), _draw_int(draw, cols)), entries)


def networks(
    *,
    widths: tuple[int, ...] | None = None,
    depth: int | IntRange = (1, 3),
    max_width: int = 8,
    hidden: tuple[str, ...] = HIDDEN,
    final: tuple[str, ...] | None = None,
    bias: bool | None = None,
    entries: Entries = "dyadic",
) -> st.SearchStrategy[Network]:
    """Fully connected nets: given ``widths`` (latent first) or random ones.

    ``hidden`` lists the activations drawn for hidden layers, ``final`` for the last layer
    (default: same as hidden). ``bias=None`` draws with or without biases.
    """
    name = "networks"
    return _networks(
        None if widths is None else _widths(name, widths),
        _int_range(name, "depth", depth, low=1),
        _count(name, "max_width", max_width, low=1),
        _activations(name, "hidden", hidden),
        None if final is None else _activations(name, "final", final),
        _flag(name, "bias", bias, none=True),
        _one_of(name, "entries", entries, ENTRIES),
    )


@st.composite
def _networks(draw: st.DrawFn, widths: tuple[int, ...] | None, depth: IntRange, max_width: int,
              hidden: tuple[str, ...], final: tuple[str, ...] | None, bias: bool | None,
              entries: Entries) -> Network:
    if widths is None:
        d = _draw_int(draw, depth)
        widths = tuple(draw(st.lists(st.integers(1, max_width), min_size=d + 1, max_size=d + 1)))
    with_bias = draw(st.booleans()) if bias is None else bias
    layers = []
    for i in range(len(widths) - 1):
        choices = final if (final is not None and i == len(widths) - 2) else hidden
        w = _weights(draw, (widths[i + 1], widths[i]), entries)
        b = _weights(draw, (1, widths[i + 1]), entries)[0] if with_bias else None
        layers.append(Layer(w, b, draw(st.sampled_from(choices))))
    return Network(tuple(layers))


def expansive_networks(
    *,
    latent_dim: int | IntRange = (1, 4),
    depth: int | IntRange = (1, 2),
    expansion: float | RealRange = (2.0, 4.0),
    hidden: tuple[str, ...] = HIDDEN,
    final: tuple[str, ...] | None = None,
    bias: bool | None = False,
    entries: Entries = "gaussian",
) -> st.SearchStrategy[Network]:
    """Nets whose every layer expands by a factor drawn from ``expansion`` (paper 001's setting);
    a layer grows by at least one unit whatever the factor."""
    name = "expansive_networks"
    return _expansive_networks(
        _int_range(name, "latent_dim", latent_dim, low=1),
        _int_range(name, "depth", depth, low=1),
        _real_range(name, "expansion", expansion, low=0.0, low_open=True),
        _activations(name, "hidden", hidden),
        None if final is None else _activations(name, "final", final),
        _flag(name, "bias", bias, none=True),
        _one_of(name, "entries", entries, ENTRIES),
    )


@st.composite
def _expansive_networks(draw: st.DrawFn, latent_dim: IntRange, depth: IntRange, expansion: RealRange,
                        hidden: tuple[str, ...], final: tuple[str, ...] | None, bias: bool | None,
                        entries: Entries) -> Network:
    widths = [_draw_int(draw, latent_dim)]
    for _ in range(_draw_int(draw, depth)):
        factor = _draw_real(draw, expansion)
        widths.append(max(widths[-1] + 1, int(np.ceil(factor * widths[-1]))))
    return draw(_networks(tuple(widths), (1, 1), 1, hidden, final, bias, entries))


def sparse_networks(
    *,
    widths: tuple[int, ...],
    density: float = 0.5,
    hidden: tuple[str, ...] = ("relu",),
    entries: Entries = "dyadic",
) -> st.SearchStrategy[Network]:
    """Nets with a planted sparsity pattern: each weight is kept with probability ``density``."""
    name = "sparse_networks"
    return _sparse_networks(
        _widths(name, widths),
        _probability(name, "density", density),
        _activations(name, "hidden", hidden),
        _one_of(name, "entries", entries, ENTRIES),
    )


@st.composite
def _sparse_networks(draw: st.DrawFn, widths: tuple[int, ...], density: float, hidden: tuple[str, ...],
                     entries: Entries) -> Network:
    net = draw(_networks(widths, (1, 1), 1, hidden, None, False, entries))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    layers = []
    for layer in net.layers:
        keep = rng.random(layer.weight.shape) < density
        layers.append(Layer(layer.weight * keep, None, layer.activation))
    return Network(tuple(layers))


def relu_layers(
    *,
    rows: int | IntRange = (1, 8),
    cols: int | IntRange = (1, 3),
    bias: bool | None = False,
    entries: Entries = "integer",
) -> st.SearchStrategy[Layer]:
    """A single ReLU :class:`~theorychk.network.Layer` (global statements: injectivity, expansivity)."""
    name = "relu_layers"
    return _relu_layers(_int_range(name, "rows", rows, low=1), _int_range(name, "cols", cols, low=1),
                        _flag(name, "bias", bias, none=True), _one_of(name, "entries", entries, ENTRIES))


@st.composite
def _relu_layers(draw: st.DrawFn, rows: IntRange, cols: IntRange, bias: bool | None,
                 entries: Entries) -> Layer:
    w = draw(_matrices(rows, cols, entries))
    with_bias = draw(st.booleans()) if bias is None else bias
    b = _weights(draw, (1, w.shape[0]), entries)[0] if with_bias else None
    return Layer(w, b, "relu")


# --------------------------------------------------------------------------------------------
# Signals, noise, masks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlantedSignal:
    """A realizable signal ``signal = net(latent)`` with the latent that made it."""

    net: Network
    latent: np.ndarray
    signal: np.ndarray


def planted_signals(
    nets: st.SearchStrategy[Network],
    *,
    latent: Literal["gaussian", "dyadic"] = "gaussian",
) -> st.SearchStrategy[PlantedSignal]:
    """A net from ``nets`` and a planted latent; the signal is its forward pass."""
    if not isinstance(nets, st.SearchStrategy):
        raise _bad("planted_signals", "nets", "a strategy of networks, e.g. expansive_networks()", nets)
    return _planted_signals(nets, _one_of("planted_signals", "latent", latent, ("gaussian", "dyadic")))


@st.composite
def _planted_signals(draw: st.DrawFn, nets: st.SearchStrategy[Network], latent: str) -> PlantedSignal:
    net = draw(nets)
    if latent == "gaussian":
        z = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal(net.latent_dim)
    else:
        z = np.array(draw(st.lists(st.integers(-8, 8), min_size=net.latent_dim, max_size=net.latent_dim))) / 4
    return PlantedSignal(net, z, net.forward(z))


def noise(
    *,
    size: int,
    level: float | RealRange = (0.0, 0.1),
    kind: Literal["uniform", "gaussian"] | None = None,
) -> st.SearchStrategy[np.ndarray]:
    """Additive noise of the papers' two models: uniform in ``[-level, level]`` or N(0, level^2)."""
    name = "noise"
    return _noise(_count(name, "size", size, low=0),
                  _real_range(name, "level", level, low=0.0),
                  None if kind is None else _one_of(name, "kind", kind, ("uniform", "gaussian")))


@st.composite
def _noise(draw: st.DrawFn, size: int, level: RealRange, kind: str | None) -> np.ndarray:
    eps = _draw_real(draw, level)
    how = kind or draw(st.sampled_from(["uniform", "gaussian"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if how == "uniform":
        return rng.uniform(-eps, eps, size)
    return rng.normal(0.0, eps, size)


def masks(
    *,
    size: int,
    observed: float | RealRange = (0.5, 1.0),
    kind: Literal["random", "upper-half"] = "random",
) -> st.SearchStrategy[np.ndarray]:
    """Observation masks: a random fraction observed (at least one entry), or paper 004's
    upper-half mask (image rows)."""
    name = "masks"
    return _masks(_count(name, "size", size, low=0),
                  _real_range(name, "observed", observed, low=0.0, high=1.0),
                  _one_of(name, "kind", kind, ("random", "upper-half")))


@st.composite
def _masks(draw: st.DrawFn, size: int, observed: RealRange, kind: str) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    if kind == "upper-half":
        mask[: (size + 1) // 2] = True
        return mask
    count = max(1, int(round(_draw_real(draw, observed) * size)))
    chosen = draw(st.permutations(range(size)))[:count]
    mask[list(chosen)] = True
    return mask


# --------------------------------------------------------------------------------------------
# Formulas
# --------------------------------------------------------------------------------------------


def cnfs(
    *,
    min_vars: int = 1,
    max_vars: int = 6,
    min_clauses: int = 1,
    max_clauses: int = 24,
    max_width: int = 3,
    distinct: bool = False,
) -> st.SearchStrategy[CNF]:
    """:class:`~theorychk.reduction.cnf.CNF` formulas over ``min_vars..max_vars`` variables with
    ``min_clauses..max_clauses`` clauses of width 1..``max_width`` (repeated and complementary
    literals allowed unless ``distinct``, which gives clauses of exactly ``min(max_width, n)``
    distinct variables — with ``min_vars = 3`` the printed two-layer construction's 3-CNF input).
    The one CNF strategy: :func:`cnf_formulas` is its ``(n_vars, clauses)`` form."""
    name = "cnfs"
    lo_vars, hi_vars = _pair(name, "min_vars", min_vars, "max_vars", max_vars, low=1)
    lo_clauses, hi_clauses = _pair(name, "min_clauses", min_clauses, "max_clauses", max_clauses, low=0)
    return _cnfs((lo_vars, hi_vars), (lo_clauses, hi_clauses), _count(name, "max_width", max_width, low=1),
                 _flag(name, "distinct", distinct))


def _pair(strategy: str, low_name: str, low_value: object, high_name: str, high_value: object, *,
          low: int) -> IntRange:
    _count(strategy, low_name, low_value, low=low)
    if not (_is_int(high_value) and high_value >= low_value):
        raise _bad(strategy, high_name, f"an integer >= {low_name} = {low_value}", high_value)
    return int(low_value), int(high_value)


@st.composite
def _cnfs(draw: st.DrawFn, n_vars: IntRange, n_clauses: IntRange, max_width: int, distinct: bool) -> CNF:
    n = draw(st.integers(*n_vars))
    width = min(max_width, n) if distinct else max_width
    if distinct:
        clause = st.lists(st.integers(1, n), min_size=width, max_size=width, unique=True).flatmap(
            lambda vs: st.tuples(*(st.sampled_from((v, -v)) for v in vs)))
    else:
        literal = st.integers(1, n).flatmap(lambda v: st.sampled_from((v, -v)))
        clause = st.lists(literal, min_size=1, max_size=width).map(tuple)
    clauses = draw(st.lists(clause, min_size=n_clauses[0], max_size=n_clauses[1]))
    return CNF(n, tuple(clauses), name=f"hyp-n{n}-m{len(clauses)}")


def cnf_formulas(
    *,
    n_vars: int | IntRange = (1, 6),
    n_clauses: int | IntRange = (1, 12),
    width: int = 3,
) -> st.SearchStrategy[tuple[int, tuple[tuple[int, ...], ...]]]:
    """Random k-CNF formulas as ``(n_vars, clauses)``, each clause ``min(width, n_vars)`` distinct
    variables: :func:`cnfs` with ``distinct=True``, unpacked (kept for code written against this
    form; new code takes the :class:`~theorychk.reduction.cnf.CNF` from :func:`cnfs`)."""
    name = "cnf_formulas"
    lo_vars, hi_vars = _int_range(name, "n_vars", n_vars, low=1)
    lo_clauses, hi_clauses = _int_range(name, "n_clauses", n_clauses, low=0)
    formulas = cnfs(min_vars=lo_vars, max_vars=hi_vars, min_clauses=lo_clauses, max_clauses=hi_clauses,
                    max_width=_count(name, "width", width, low=1), distinct=True)
    return formulas.map(lambda f: (f.n_vars, f.clauses))
