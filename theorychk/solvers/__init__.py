"""Inversion solvers of both papers behind one interface: see :func:`invert` (one signal),
:func:`invert_batch` and :func:`invert_stream` (many signals of one network)."""

from theorychk.solvers.base import (
    METHOD_MODULES,
    REGISTRY,
    Inversion,
    InversionStatus,
    Method,
    Problem,
    all_methods,
    get_method,
    invert,
    invert_batch,
    register,
)
from theorychk.solvers.batch import invert_stream

__all__ = ["METHOD_MODULES", "REGISTRY", "Inversion", "InversionStatus", "Method", "Problem", "all_methods", "get_method", "invert", "invert_batch", "invert_stream", "register"]
