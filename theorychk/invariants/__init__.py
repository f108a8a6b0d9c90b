"""Matrix invariants behind the uniqueness and stability theorems, exact or certifiably bounded.

Every function returns an :class:`~theorychk.invariants.result.InvariantResult`: a lower and
an upper bound, each with the method that produced it and evidence that
:mod:`theorychk.check` re-verifies in exact arithmetic. Definitions and algorithms:
``docs/invariants.md``.

The names below are imported on first use (PEP 562): ``theorychk invariants --spark`` loads
the spark code, not HiGHS for ``c_inf`` or the sub-rank search (start-up, issue 18).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

#: public name -> the submodule that defines it
_WHERE = {
    "Bound": "result", "InvariantResult": "result",
    "babel": "coherence", "coherence": "coherence",
    "spark": "spark", "spark_of_rows": "spark",
    "rank_of_rows": "subrank", "sub_rank": "subrank", "sub_spark": "subrank",
    "c_1": "cnorm", "c_1_of_rows": "cnorm", "c_inf": "cnorm", "c_inf_of_rows": "cnorm",
    "coherence_s": "mu_s",
}

__all__ = ["Bound", "InvariantResult"]
__all__ += ["spark", "spark_of_rows", "sub_rank", "sub_spark", "rank_of_rows", "coherence", "babel"]
__all__ += ["c_inf", "c_1", "c_inf_of_rows", "c_1_of_rows", "coherence_s"]

if TYPE_CHECKING:
    from theorychk.invariants.cnorm import c_1, c_1_of_rows, c_inf, c_inf_of_rows
    from theorychk.invariants.coherence import babel, coherence
    from theorychk.invariants.mu_s import coherence_s
    from theorychk.invariants.result import Bound, InvariantResult
    from theorychk.invariants.spark import spark, spark_of_rows
    from theorychk.invariants.subrank import rank_of_rows, sub_rank, sub_spark


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    setattr(sys.modules[__name__], name, value)
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Keeps ``spark`` and ``coherence`` the functions once their submodules load.

    Importing ``theorychk.invariants.spark`` binds the package attribute ``spark`` to the
    submodule; the eager package this replaces rebound it to the function, and callers
    (``inv.spark(matrix)``) rely on that.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _WHERE.get(name) == name and hasattr(value, name):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
