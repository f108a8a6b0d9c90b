"""Inversion solvers of both papers behind one interface: see :func:`invert`."""

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

__all__ = ["REGISTRY", "Inversion", "InversionStatus", "Method", "Problem", "get_method", "invert", "invert_batch", "register"]
