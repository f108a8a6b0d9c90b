"""Small nets and planted latents for the soundness tests (exact oracle sized)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from theorychk.network import Network
from theorychk.testing import strategies as tst


@st.composite
def small_cases(draw: st.DrawFn, *, max_depth: int = 3, max_width: int = 6,
                final: tuple[str, ...] = ("relu", "leaky_relu:0.25", "identity")) -> tuple[Network, list[Fraction]]:
    """A net with latent 1-3, hidden widths <= ``max_width``, dyadic weights, and a dyadic latent."""
    k = draw(st.integers(1, 3))
    depth = draw(st.integers(1, max_depth))
    widths = (k, *draw(st.lists(st.integers(1, max_width), min_size=depth, max_size=depth)))
    net = draw(tst.networks(widths=widths, final=final, entries="dyadic"))
    z = [Fraction(v, 4) for v in draw(st.lists(st.integers(-8, 8), min_size=k, max_size=k))]
    return net, z
