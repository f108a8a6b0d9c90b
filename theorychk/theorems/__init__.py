"""Executable statements of the papers: hypotheses, conclusion and predicted bound per instance.

One module per paper — :mod:`.lei2019` (papers 001/002), :mod:`.aberdam2020` (004),
:mod:`.puthawala2022` — registering :class:`~theorychk.theorems.base.Theorem` objects in
:data:`REGISTRY`; :func:`falsify` lets Hypothesis search for counterexamples. Guide and errata:
``docs/theory.md``.
"""

from theorychk.theorems.base import (
    REGISTRY,
    Check,
    FalsifyResult,
    Report,
    Theorem,
    all_theorems,
    falsify,
    get_theorem,
    register,
)
from theorychk.theorems.instances import FormulaCase, LayerCase, SignalCase

__all__ = ["REGISTRY", "Check", "FalsifyResult", "Report", "Theorem", "all_theorems", "falsify", "get_theorem",
           "register", "FormulaCase", "LayerCase", "SignalCase"]
