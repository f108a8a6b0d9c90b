"""The checker's exact forward pass, on integers.

A layer's input is held as ``X / D`` (integer vector ``X``, one positive integer ``D``), so a
layer costs one integer product ``Z X`` with the layer's integer weights
(:func:`theorychk.check.intmat.integer_layers`) and a few shifts, not a rational dot product per
unit. Piecewise-linear activations with rational parameters act on the numerators: ReLU keeps
``D``; LeakyReLU with slope ``p/q`` multiplies the positive entries by ``q``, the others by ``p``
and ``D`` by ``q`` (a slope that is not dyadic stays exact). Any other activation (``plu``) is
evaluated entry by entry by :func:`theorychk.check.activations.activation_exact`, the one place
that says what an activation computes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import flint

from theorychk.check.activations import activation_exact
from theorychk.check.intmat import IntLayer

__all__ = ["Pass", "IntPass", "forward", "forward_ints", "pre_activation"]

#: One layer of the pass: ``(input x_j, pre-activation, output x_{j+1} or None after a smooth one)``.
Pass = tuple[tuple[Fraction, ...], tuple[Fraction, ...], "tuple[Fraction, ...] | None"]


def _common(values: Sequence[Fraction]) -> tuple[list[int], int]:
    den = math.lcm(*(v.denominator for v in values)) if values else 1
    return [v.numerator * (den // v.denominator) for v in values], den


def _fractions(nums: Sequence[int], den: int) -> tuple[Fraction, ...]:
    return tuple(Fraction(v, den) for v in nums)


def _slope(spec: str) -> Fraction | None:
    """The rational slope of an activation that is ``u`` for ``u > 0`` and ``c u`` otherwise
    (ReLU: 0, identity: 1, LeakyReLU(c): c), as :func:`activation_exact` defines it; else None."""
    f0, f1, fm = (activation_exact(spec, Fraction(v)) for v in (0, 1, -1))
    if f0 is None or f0 != 0 or f1 != 1 or fm is None or spec.split(":")[0] not in ("relu", "identity", "leaky_relu"):
        return None
    return -fm


def _pre(layer: IntLayer, x: list[int], den: int) -> tuple[list[int], int]:
    """``W (x / den) + b`` as ``(numerators, denominator)``."""
    n_out, n_in = layer.shape
    if n_in and n_out:
        zx = [int(v) for v in (layer.z * flint.fmpz_mat(n_in, 1, x)).entries()]
    else:
        zx = [0] * n_out
    w, e = layer.w_exp, layer.b_exp
    m = min(w, e, 0)  # everything over den * 2**-m
    sw, sb = 1 << (w - m), den << (e - m)
    return [a * sw + b * sb for a, b in zip(zx, layer.bias)], den << -m


def pre_activation(layer: IntLayer, x: Sequence[Fraction]) -> tuple[Fraction, ...]:
    """``W x + b`` exactly."""
    nums, den = _common(list(x))
    return _fractions(*_reduce(*_pre(layer, nums, den)))


def _reduce(nums: list[int], den: int) -> tuple[list[int], int]:
    g = math.gcd(den, *nums)
    return ([v // g for v in nums], den // g) if g > 1 else (nums, den)


#: One layer of the pass on integers: ``((X, D) of x_j, (U, D') of the pre-activation, (X', D'') of
#: x_{j+1} or None)``, each vector the numerators over one positive denominator.
IntPass = tuple[tuple[list[int], int], tuple[list[int], int], "tuple[list[int], int] | None"]


def forward(layers: Sequence[IntLayer], specs: Sequence[str], latent: Sequence[Fraction]) -> list[Pass]:
    """Every layer's exact ``(input, pre-activation, output)``; the output is ``None`` where the
    activation has no exact value (smooth), and the pass stops there."""
    return [(_fractions(*x), _fractions(*u), None if o is None else _fractions(*o))
            for x, u, o in forward_ints(layers, specs, latent)]


def forward_ints(layers: Sequence[IntLayer], specs: Sequence[str], latent: Sequence[Fraction]) -> list[IntPass]:
    """:func:`forward` with every vector as integer numerators over one positive denominator."""
    x, den = _common(list(latent))
    out: list[IntPass] = []
    for layer, spec in zip(layers, specs):
        inputs = (x, den)
        u, dn = _reduce(*_pre(layer, x, den))
        c = _slope(spec)
        if c is not None:
            p, q = c.numerator, c.denominator
            x, den = _reduce([v * q if v > 0 else v * p for v in u], dn * q)
            out.append((inputs, (u, dn), (x, den)))
            continue
        vals = [activation_exact(spec, v) for v in _fractions(u, dn)]
        if any(v is None for v in vals):
            out.append((inputs, (u, dn), None))
            return out
        x, den = _common(vals)  # type: ignore[arg-type]
        out.append((inputs, (u, dn), (x, den)))
    return out
