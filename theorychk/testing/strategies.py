"""Public Hypothesis strategies for generators, signals, noise, masks and formulas.

Like ``hypothesis.extra.numpy``: typed, keyword-only, composable. Weights are small integers or
dyadic rationals by default (``entries="dyadic"``) so that exact brute force can serve as the
oracle and a shrunk counterexample is readable; ``entries="gaussian"`` draws N(0, 1/n_in)
weights from a seeded Generator, as the papers' random nets do.

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

from dataclasses import dataclass
from typing import Literal

import numpy as np
from hypothesis import strategies as st

from theorychk.errors import InvalidInput
from theorychk.network import Layer, Network

__all__ = [
    "matrices",
    "networks",
    "expansive_networks",
    "sparse_networks",
    "PlantedSignal",
    "planted_signals",
    "noise",
    "masks",
    "cnf_formulas",
]

Entries = Literal["dyadic", "integer", "gaussian"]
HIDDEN = ("relu", "leaky_relu:0.25")


def _weights(draw: st.DrawFn, shape: tuple[int, int], entries: Entries) -> np.ndarray:
    if entries == "gaussian":
        seed = draw(st.integers(0, 2**32 - 1))
        return np.random.default_rng(seed).standard_normal(shape) / np.sqrt(shape[1])
    if entries == "integer":
        values = st.integers(-3, 3)
        scale = 1.0
    elif entries == "dyadic":
        values = st.integers(-8, 8)
        scale = 1 / 4
    else:
        raise InvalidInput(f"entries must be 'dyadic', 'integer' or 'gaussian'; got {entries!r}")
    flat = draw(st.lists(values, min_size=shape[0] * shape[1], max_size=shape[0] * shape[1]))
    return np.array(flat, dtype=np.float64).reshape(shape) * scale


@st.composite
def matrices(
    draw: st.DrawFn,
    *,
    rows: int | tuple[int, int] = (1, 6),
    cols: int | tuple[int, int] = (1, 6),
    entries: Entries = "integer",
) -> np.ndarray:
    """Small matrices for invariants, exact brute force being the oracle.

    ``rows`` / ``cols`` are a fixed size or an inclusive ``(low, high)`` range.
    """
    n = rows if isinstance(rows, int) else draw(st.integers(*rows))
    k = cols if isinstance(cols, int) else draw(st.integers(*cols))
    return _weights(draw, (n, k), entries)


@st.composite
def networks(
    draw: st.DrawFn,
    *,
    widths: tuple[int, ...] | None = None,
    depth: tuple[int, int] = (1, 3),
    max_width: int = 8,
    hidden: tuple[str, ...] = HIDDEN,
    final: tuple[str, ...] | None = None,
    bias: bool | None = None,
    entries: Entries = "dyadic",
) -> Network:
    """Fully connected nets: given ``widths`` (latent first) or random ones.

    ``hidden`` lists the activations drawn for hidden layers, ``final`` for the last layer
    (default: same as hidden). ``bias=None`` draws with or without biases.
    """
    if widths is None:
        d = draw(st.integers(*depth))
        widths = tuple(draw(st.lists(st.integers(1, max_width), min_size=d + 1, max_size=d + 1)))
    if len(widths) < 2:
        raise InvalidInput(f"widths must list at least the latent and output widths; got {widths}")
    with_bias = draw(st.booleans()) if bias is None else bias
    layers = []
    for i in range(len(widths) - 1):
        choices = final if (final is not None and i == len(widths) - 2) else hidden
        w = _weights(draw, (widths[i + 1], widths[i]), entries)
        b = _weights(draw, (1, widths[i + 1]), entries)[0] if with_bias else None
        layers.append(Layer(w, b, draw(st.sampled_from(choices))))
    return Network(tuple(layers))


@st.composite
def expansive_networks(
    draw: st.DrawFn,
    *,
    latent_dim: int | tuple[int, int] = (1, 4),
    depth: int | tuple[int, int] = (1, 2),
    expansion: float | tuple[float, float] = (2.0, 4.0),
    hidden: tuple[str, ...] = HIDDEN,
    final: tuple[str, ...] | None = None,
    bias: bool | None = False,
    entries: Entries = "gaussian",
) -> Network:
    """Nets whose every layer expands by a factor drawn from ``expansion`` (paper 001's setting)."""
    k = latent_dim if isinstance(latent_dim, int) else draw(st.integers(*latent_dim))
    d = depth if isinstance(depth, int) else draw(st.integers(*depth))
    widths = [k]
    for _ in range(d):
        factor = expansion if isinstance(expansion, (int, float)) else draw(st.floats(*expansion))
        widths.append(max(widths[-1] + 1, int(np.ceil(factor * widths[-1]))))
    return draw(networks(widths=tuple(widths), hidden=hidden, final=final, bias=bias, entries=entries))


@st.composite
def sparse_networks(
    draw: st.DrawFn,
    *,
    widths: tuple[int, ...],
    density: float = 0.5,
    hidden: tuple[str, ...] = ("relu",),
    entries: Entries = "dyadic",
) -> Network:
    """Nets with a planted sparsity pattern: each weight is kept with probability ``density``."""
    net = draw(networks(widths=widths, hidden=hidden, bias=False, entries=entries))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    layers = []
    for layer in net.layers:
        keep = rng.random(layer.weight.shape) < density
        layers.append(Layer(layer.weight * keep, None, layer.activation))
    return Network(tuple(layers))


@dataclass(frozen=True)
class PlantedSignal:
    """A realizable signal ``signal = net(latent)`` with the latent that made it."""

    net: Network
    latent: np.ndarray
    signal: np.ndarray


@st.composite
def planted_signals(
    draw: st.DrawFn,
    nets: st.SearchStrategy[Network],
    *,
    latent: Literal["gaussian", "dyadic"] = "gaussian",
) -> PlantedSignal:
    """A net from ``nets`` and a planted latent; the signal is its forward pass."""
    net = draw(nets)
    if latent == "gaussian":
        z = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal(net.latent_dim)
    else:
        z = np.array(draw(st.lists(st.integers(-8, 8), min_size=net.latent_dim, max_size=net.latent_dim))) / 4
    return PlantedSignal(net, z, net.forward(z))


@st.composite
def noise(
    draw: st.DrawFn,
    *,
    size: int,
    level: float | tuple[float, float] = (0.0, 0.1),
    kind: Literal["uniform", "gaussian"] | None = None,
) -> np.ndarray:
    """Additive noise of the papers' two models: uniform in ``[-level, level]`` or N(0, level^2)."""
    eps = level if isinstance(level, (int, float)) else draw(st.floats(*level))
    how = kind or draw(st.sampled_from(["uniform", "gaussian"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if how == "uniform":
        return rng.uniform(-eps, eps, size)
    return rng.normal(0.0, eps, size)


@st.composite
def masks(
    draw: st.DrawFn,
    *,
    size: int,
    observed: float | tuple[float, float] = (0.5, 1.0),
    kind: Literal["random", "upper-half"] = "random",
) -> np.ndarray:
    """Observation masks: a random fraction observed, or paper 004's upper-half mask (image rows)."""
    if kind == "upper-half":
        mask = np.zeros(size, dtype=bool)
        mask[: (size + 1) // 2] = True
        return mask
    frac = observed if isinstance(observed, (int, float)) else draw(st.floats(*observed))
    count = max(1, int(round(frac * size)))
    chosen = draw(st.permutations(range(size)))[:count]
    mask = np.zeros(size, dtype=bool)
    mask[list(chosen)] = True
    return mask


@st.composite
def cnf_formulas(
    draw: st.DrawFn,
    *,
    n_vars: int | tuple[int, int] = (1, 6),
    n_clauses: int | tuple[int, int] = (1, 12),
    width: int = 3,
) -> tuple[int, tuple[tuple[int, ...], ...]]:
    """Random k-CNF formulas as ``(n_vars, clauses)``, each clause ``width`` distinct variables."""
    n = n_vars if isinstance(n_vars, int) else draw(st.integers(*n_vars))
    m = n_clauses if isinstance(n_clauses, int) else draw(st.integers(*n_clauses))
    w = min(width, n)
    clauses = []
    for _ in range(m):
        variables = draw(st.permutations(range(1, n + 1)))[:w]
        signs = draw(st.lists(st.booleans(), min_size=w, max_size=w))
        clauses.append(tuple(v if s else -v for v, s in zip(variables, signs)))
    return n, tuple(clauses)


@st.composite
def cnfs(
    draw: st.DrawFn,
    *,
    min_vars: int = 1,
    max_vars: int = 6,
    max_clauses: int = 24,
    max_width: int = 3,
    distinct: bool = False,
) -> "CNF":
    """:class:`~theorychk.reduction.cnf.CNF` formulas over ``min_vars..max_vars`` variables with
    1..``max_clauses`` clauses of width 1..``max_width`` (repeated and complementary literals
    allowed unless ``distinct``, which gives clauses of exactly ``min(max_width, n)`` distinct
    variables — with ``min_vars = 3`` the printed two-layer construction's 3-CNF input)."""
    from theorychk.reduction.cnf import CNF

    n = draw(st.integers(min_vars, max_vars))
    width = min(max_width, n) if distinct else max_width
    literal = st.integers(1, n).flatmap(lambda v: st.sampled_from((v, -v)))
    if distinct:
        clause = st.lists(st.integers(1, n), min_size=width, max_size=width, unique=True).flatmap(
            lambda vs: st.tuples(*(st.sampled_from((v, -v)) for v in vs)))
    else:
        clause = st.lists(literal, min_size=1, max_size=width).map(tuple)
    clauses = draw(st.lists(clause, min_size=1, max_size=max_clauses))
    return CNF(n, tuple(clauses), name=f"hyp-n{n}-m{len(clauses)}")


@st.composite
def relu_layers(
    draw: st.DrawFn,
    *,
    rows: int | tuple[int, int] = (1, 8),
    cols: int | tuple[int, int] = (1, 3),
    bias: bool | None = False,
    entries: Entries = "integer",
) -> Layer:
    """A single ReLU :class:`~theorychk.network.Layer` (global statements: injectivity, expansivity)."""
    w = draw(matrices(rows=rows, cols=cols, entries=entries))
    with_bias = draw(st.booleans()) if bias is None else bias
    b = _weights(draw, (1, w.shape[0]), entries)[0] if with_bias else None
    return Layer(w, b, "relu")


__all__ += ["cnfs", "relu_layers"]
