"""The certifier's exact forward pass is the checker's :func:`~theorychk.check.core.trace` (integer
form kept: sign tests and row sets come from the trace's own memoized methods).

This name is kept only because :mod:`theorychk.certify.certificate` imports it; that import should
become ``from theorychk.check.core import trace`` and this module go.
"""

from __future__ import annotations

from theorychk.check.core import trace as exact_trace

__all__ = ["exact_trace"]
