"""Property helpers for ANY inverter ``inverter(net, y) -> z`` (or an object with ``.latent``).

Use them inside your own Hypothesis tests with :mod:`theorychk.testing.strategies`::

    @given(tst.planted_signals(tst.expansive_networks(latent_dim=2, depth=1)))
    def test_my_inverter(case):
        assert_recovers(my_inverter, case)

:func:`assert_recovers` checks ``z`` reproduces the signal and (optionally) equals the planted
latent; :func:`assert_within_bound` checks a theorem's predicted error bound when the theorem's
hypotheses hold on the case and returns a note (no failure) when they don't.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable

import numpy as np

from theorychk.errors import InvalidInput

__all__ = ["assert_recovers", "assert_within_bound", "latent_of"]


def latent_of(result: Any) -> np.ndarray:
    """The latent of an inverter's output: the array itself or its ``.latent``."""
    z = getattr(result, "latent", result)
    if z is None:
        raise AssertionError("the inverter returned no latent (None)")
    return np.asarray([float(v) for v in np.ravel(np.asarray(z, dtype=object))])


def assert_recovers(inverter: Callable[[Any, np.ndarray], Any], case: Any, *, rtol: float = 1e-6,
                    atol: float = 1e-8, check_latent: bool = True) -> np.ndarray:
    """Assert ``inverter(case.net, case.signal)`` returns a latent ``z`` with ``G(z) ≈ signal`` and,
    with ``check_latent``, ``z ≈ case.latent`` (use it when the latent is unique, e.g. expansive
    nets where ``lei2019.theorem2``'s hypotheses hold). Returns ``z``."""
    net = case.net
    y = np.asarray(case.signal, dtype=float)
    z = latent_of(inverter(net, y))
    if z.shape != (net.latent_dim,):
        raise AssertionError(f"inverter returned a latent of shape {z.shape}; expected ({net.latent_dim},)")
    out = net.forward(z)
    if not np.allclose(out, y, rtol=rtol, atol=atol):
        worst = float(np.max(np.abs(out - y)))
        raise AssertionError(f"G(z) does not reproduce the signal: max |G(z) - y| = {worst:.3g} "
                             f"(rtol={rtol}, atol={atol}); z = {z.tolist()}")
    if check_latent:
        truth = np.asarray([float(v) for v in case.latent])
        if not np.allclose(z, truth, rtol=rtol, atol=atol):
            raise AssertionError(f"z = {z.tolist()} differs from the planted latent {truth.tolist()} "
                                 f"(rtol={rtol}, atol={atol}) although G(z) matches: a second preimage")
    return z


def assert_within_bound(theorem: Any, inverter: Callable[[Any, np.ndarray], Any], case: Any, *,
                        noise: Any = None) -> str:
    """Run ``inverter`` on ``case`` (with ``noise`` added, when given) and assert ``theorem``'s
    conclusion when its hypotheses hold. Returns a note; when the hypotheses fail (or are
    undecided) nothing is asserted and the note says why.

    ``theorem`` is a :class:`~theorychk.theorems.Theorem` or its name; ``case`` an instance the
    theorem accepts (e.g. :class:`~theorychk.theorems.SignalCase`). ``noise`` replaces the case's
    noise (a :class:`SignalCase` field).
    """
    from dataclasses import fields, replace

    from theorychk.theorems import get_theorem

    thm = get_theorem(theorem) if isinstance(theorem, str) else theorem
    if noise is not None:
        if "noise" not in {f.name for f in fields(case)}:
            raise InvalidInput(f"{type(case).__name__} has no noise field; build the case with its noise",
                               argument="case", got=type(case).__name__)
        case = replace(case, noise=tuple(float(v) for v in np.ravel(noise)))
    hyp = thm.hypotheses(case)
    if hyp.holds is not True:
        failed = "; ".join(c.name for c in hyp.checks if c.holds is not True)
        return f"skipped: hypotheses of {thm.name} do not hold ({failed})"
    y = np.asarray(getattr(case, "signal"), dtype=float)
    concl = thm.conclusion(case, latent_of(inverter(case.net, y)))
    if concl.holds is False:
        raise AssertionError(str(concl))
    return f"checked: {thm.name} conclusion holds"


