"""Inversion solvers of both papers behind one interface: see :func:`invert` (one signal),
:func:`invert_batch` and :func:`invert_stream` (many signals of one network)."""

from theorychk.solvers.base import (
    REGISTRY,
    Inversion,
    InversionStatus,
    Method,
    Problem,
    get_method,
    invert,
    invert_batch,
    register,
)
from theorychk.solvers.batch import invert_stream

__all__ = ["REGISTRY", "Inversion", "InversionStatus", "Method", "Problem", "get_method", "invert", "invert_batch", "invert_stream", "register"]
