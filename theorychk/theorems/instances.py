"""Small instance types the theorems are evaluated on (frozen dataclasses, readable when shrunk)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from theorychk import exact
from theorychk.network import Layer, Network
from theorychk.reduction.cnf import CNF

__all__ = ["LayerCase", "SignalCase", "FormulaCase", "exact_trace"]


def _fmt(a: Any) -> str:
    return np.array2string(np.asarray(a, dtype=float), precision=4, separator=", ").replace("\n", "")


@dataclass(frozen=True, eq=False)
class LayerCase:
    """One layer ``x -> act(W x + b)`` (global statements: injectivity, expansivity)."""

    layer: Layer

    def describe(self) -> str:
        b = "none" if self.layer.bias is None else _fmt(self.layer.bias)
        return f"LayerCase(W {self.layer.weight.shape} = {_fmt(self.layer.weight)}, b = {b}, {self.layer.activation})"


@dataclass(frozen=True, eq=False)
class SignalCase:
    """A planted signal ``x = G(latent) + noise`` (``noise`` None: realizable).

    ``objective_seed`` picks the objective of the LP solvers' feasible point (a theorem about
    *every* feasible point is then probed at different vertices).
    """

    net: Network
    latent: tuple[Fraction, ...]
    noise: tuple[float, ...] | None = None
    objective_seed: int = 0

    @property
    def clean(self) -> np.ndarray:
        return self.net.forward(np.array([float(v) for v in self.latent]))

    @property
    def signal(self) -> np.ndarray:
        x = self.clean
        return x if self.noise is None else x + np.asarray(self.noise)

    def describe(self) -> str:
        lay = "; ".join(f"W{j} = {_fmt(l.weight)}" + ("" if l.bias is None else f", b{j} = {_fmt(l.bias)}")
                        + f" ({l.activation})" for j, l in enumerate(self.net.layers))
        noise = "" if self.noise is None else f", noise = {_fmt(self.noise)}"
        return f"SignalCase(widths {self.net.widths}: {lay}; latent = {[str(v) for v in self.latent]}{noise})"


@dataclass(frozen=True, eq=False)
class FormulaCase:
    """A CNF formula for the reductions, with extra real latents to probe (``probes``)."""

    cnf: CNF
    probes: tuple[tuple[Fraction, ...], ...] = field(default=())

    def describe(self) -> str:
        return f"FormulaCase(n_vars={self.cnf.n_vars}, clauses={list(self.cnf.clauses)})"


def exact_trace(net: Network, latent: Any) -> list[tuple[Fraction, ...]]:
    """``[x_1, ..., x_{L+1}]`` (outputs of every layer) in exact rational arithmetic."""
    layers = [(l.weight, l.bias, l.activation.spec) for l in net.layers]
    return exact.forward(layers, [exact.rational(v) for v in latent])
