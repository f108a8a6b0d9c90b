"""Testing helpers for users' own inverters: Hypothesis strategies (:mod:`.strategies`) and
property helpers (:mod:`.properties`: :func:`assert_recovers`, :func:`assert_within_bound`)."""

from theorychk.testing.properties import assert_recovers, assert_within_bound, latent_of

__all__ = ["assert_recovers", "assert_within_bound", "latent_of"]
