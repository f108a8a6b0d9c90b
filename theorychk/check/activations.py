"""The checker's own exact evaluation of activations, read from their spec strings.

The engines ask :class:`theorychk.network.Activation` for exact values; the trusted checker does
not: it re-derives what it needs from the activation's spec (``"relu"``, ``"leaky_relu:0.1"``,
``"identity"``, ``"plu:0.1:1.0"``, ``"tanh"``, ``"sigmoid"``) in these few lines, so that a bug
in the engines' activation code cannot make a wrong certificate pass. This is the only place in
:mod:`theorychk.check` that knows what an activation computes: its exact value, the enclosure and
inverse Lipschitz bound of the smooth ones, and the linear description of each piece's graph
(:func:`regions`, :func:`relaxation`) that the ``complete`` verifier replays.
"""

from __future__ import annotations

from fractions import Fraction

import flint

from theorychk.errors import CertificateError

__all__ = ["activation_exact", "activation_enclosure", "global_inverse_lipschitz", "inverse_lipschitz_bound", "regions", "relaxation", "REGIONS",
           "Row"]

#: ``(kind, cx, ch, const)``: ``cx * x + ch * h  (kind: "eq" or "le")  const`` for one unit.
Row = tuple[str, Fraction, Fraction, Fraction]
F0, F1 = Fraction(0), Fraction(1)


def _read(spec: str) -> tuple[str, list[Fraction]]:
    """The name and the exact parameters (the rationals the float parameters denote) of a spec."""
    name, *params = spec.split(":")
    return name, [Fraction(float(p)) for p in params]


def activation_exact(spec: str, u: Fraction) -> Fraction | None:
    """A piecewise-linear activation exactly; ``None`` for a smooth one (no exact value)."""
    name, p = _read(spec)
    if name == "relu":
        return max(u, Fraction(0))
    if name == "identity":
        return u
    if name == "leaky_relu":
        return u if u > 0 else p[0] * u
    if name == "plu":
        a, c = p
        return max(a * (u + c) - c, min(a * (u - c) + c, u))
    return None


def _arb_bounds(x: flint.arb) -> tuple[Fraction, Fraction]:
    def exact(v: flint.arb) -> Fraction:
        man, exp = v.man_exp()
        return Fraction(int(man)) * Fraction(2) ** int(exp)

    return exact(x.lower()), exact(x.upper())


def activation_enclosure(spec: str, pre: Fraction) -> tuple[Fraction, Fraction]:
    """Rationals ``lo <= phi(pre) <= hi`` for a smooth activation (sigmoid, tanh), by ball arithmetic."""
    name, _ = _read(spec)
    if name not in ("sigmoid", "tanh"):
        raise CertificateError(f"activation {spec!r} has no enclosure (not sigmoid or tanh)")
    u = flint.arb(flint.fmpq(pre.numerator, pre.denominator))
    return _arb_bounds(1 / (1 + (-u).exp()) if name == "sigmoid" else u.tanh())


def global_inverse_lipschitz(spec: str) -> Fraction | None:
    """The Lipschitz constant of ``phi^{-1}`` on the whole range, for the activations that have one
    whatever the point: identity 1, LeakyReLU(a) and PLU(a, c) ``max(1, 1/a)`` (slope 1 on one
    piece, ``a`` on the others; ``a > 0``). ``None`` for any other (ReLU is not invertible; sigmoid
    and tanh depend on the point: :func:`inverse_lipschitz_bound`)."""
    name, params = _read(spec)
    if name == "identity":
        return Fraction(1)
    if name in ("leaky_relu", "plu") and params and params[0] > 0:
        return max(Fraction(1), 1 / params[0])
    return None


def inverse_lipschitz_bound(spec: str, pre: Fraction, eps: Fraction) -> Fraction | None:
    """An upper bound on the Lipschitz constant of ``phi^{-1}`` on ``[phi(u) - eps, phi(u) + eps]``.

    Piecewise-linear invertible activations have a global constant (1, 1/slope, 1/alpha); for
    sigmoid and tanh the derivative of the inverse is largest at the end of the interval nearest
    the open range's boundary, bounded with a rigorous enclosure of ``phi(u)``. ``None`` when the
    interval leaves the range (no finite constant).
    """
    constant = global_inverse_lipschitz(spec)
    if constant is not None:
        return constant
    name, _ = _read(spec)
    if name not in ("sigmoid", "tanh"):
        raise CertificateError(f"activation {spec!r} has no inverse Lipschitz constant")
    lo, hi = activation_enclosure(spec, pre)
    a, b = lo - eps, hi + eps
    if name == "sigmoid":
        if a <= 0 or b >= 1:
            return None
        return 1 / min(a * (1 - a), b * (1 - b))  # (logit)'(t) = 1/(t(1-t)), t(1-t) concave
    if a <= -1 or b >= 1:
        return None
    return 1 / min(1 - a * a, 1 - b * b)  # (artanh)'(t) = 1/(1-t^2)


def regions(spec: str) -> dict[str, list[Row]]:
    """The closed regions of a piecewise-linear activation, each as the rows of its graph piece.

    ReLU / LeakyReLU(a): ``on`` (``h >= 0``, ``x = h``) and ``off`` (``h <= 0``, ``x = a h``);
    PLU(a, c): ``low`` (``h <= -c``), ``mid`` (``-c <= h <= c``, ``x = h``), ``high`` (``h >= c``);
    identity: none (``x = h`` always). The regions of each activation cover R.
    """
    name, p = _read(spec)
    if name == "relu":
        return {"on": [("eq", F1, -F1, F0), ("le", F0, -F1, F0)], "off": [("eq", F1, F0, F0), ("le", F0, F1, F0)]}
    if name == "leaky_relu":
        a = p[0]
        return {"on": [("eq", F1, -F1, F0), ("le", F0, -F1, F0)], "off": [("eq", F1, -a, F0), ("le", F0, F1, F0)]}
    if name == "plu":
        a, c = p
        return {"low": [("eq", F1, -a, c * (a - 1)), ("le", F0, F1, -c)],
                "mid": [("eq", F1, -F1, F0), ("le", F0, -F1, c), ("le", F0, F1, c)],
                "high": [("eq", F1, -a, c * (1 - a)), ("le", F0, -F1, -c)]}
    if name == "identity":
        return {}
    raise CertificateError(f"activation {spec!r} is not piecewise linear (no regions)")


def relaxation(spec: str) -> list[Row]:
    """A convex outer description of the activation's graph (valid for every ``h``).

    ReLU: ``x >= 0``, ``x >= h``. LeakyReLU(a): ``x >= h``, ``x >= a h`` when ``a <= 1`` (it is
    ``max(h, a h)``), ``x <= h``, ``x <= a h`` when ``a > 1`` (``min``). PLU(a, c): the band
    ``|x - a h| <= c (1 - a)`` (on the middle piece ``|h - a h| <= (1 - a) c``; outside, equality at
    the band's edge). Identity: ``x = h``.
    """
    name, p = _read(spec)
    if name == "relu":
        return [("le", -F1, F0, F0), ("le", -F1, F1, F0)]
    if name == "leaky_relu":
        a = p[0]
        return [("le", -F1, F1, F0), ("le", -F1, a, F0)] if a <= 1 else [("le", F1, -F1, F0), ("le", F1, -a, F0)]
    if name == "plu":
        a, c = p
        return [("le", F1, -a, c * (1 - a)), ("le", -F1, a, c * (1 - a))]
    if name == "identity":
        return [("eq", F1, -F1, F0)]
    raise CertificateError(f"activation {spec!r} is not piecewise linear")


REGIONS = {"relu": ("on", "off"), "leaky_relu": ("on", "off"), "plu": ("low", "mid", "high")}
