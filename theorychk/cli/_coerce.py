"""Start-up: coerce the CLI's scalar options without pydantic (typer >= 0.29).

typer 0.29 converts every command-line value through a pydantic ``TypeAdapter``: the first
command run imports pydantic (about 100 ms, a third of a small command's wall time) to turn
``"3"`` into ``3``. Every theorychk option is a plain ``str``, ``int``, ``float``, ``bool``
(optionally with ``min`` / ``max``), a repeatable ``list[str]``, or a ``Path`` / ``list[Path]``
(click's path type has already checked it; the adapter only wraps the text), which need no schema machinery. :func:`install` gives
those parameters a coercion that does what typer's adapter does for them -- same values, same
messages ("Input should be a valid integer, unable to parse string as an integer", "Input should
be greater than or equal to 1") -- and leaves every other annotation (``Path``, lists, enums,
files, ``clamp=True``, custom parsers) to typer. On typer < 0.29, which has no such layer, it does
nothing. Pinning ``typer<0.29`` would do the same job, but the environment we are installed into
may already hold 0.29 (and a pin would keep users from typer's fixes), so the CLI copes with both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCALARS = (str, int, float)
_INT_MESSAGE = "Input should be a valid integer, unable to parse string as an integer"
_FLOAT_MESSAGE = "Input should be a valid number, unable to parse string as a number"


def _bound(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def install() -> bool:
    """Route the scalar parameters of typer >= 0.29 around pydantic; ``False`` if not applicable."""
    try:
        from typer import _coercion, core
        from typer._click.exceptions import BadParameter
    except ImportError:  # typer < 0.25 (click package) or a layout we do not know
        return False
    original = getattr(core, "build_runtime_param", None)
    base = getattr(_coercion, "RuntimeParam", None)
    if original is None or base is None or getattr(original, "_theorychk", False):
        return False

    @dataclass(frozen=True)
    class ScalarRuntimeParam(base):  # type: ignore[misc, valid-type]
        """``str`` / ``int`` / ``float`` / ``bool`` with typer's ``min`` / ``max``, as its adapter does."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            kind = self.annotation
            if kind == list[str]:  # a repeatable option: typer's adapter gives a list
                return [v if isinstance(v, str) else str(v) for v in value]
            if kind is Path:  # `check CERT`, `--out DIR`: pydantic's adapter would only wrap the text
                return value if isinstance(value, Path) else Path(value)
            if kind == list[Path]:
                return [v if isinstance(v, Path) else Path(v) for v in value]
            if kind is bool:
                if isinstance(value, bool):
                    return value
                text = str(value).strip().lower()
                if text in ("1", "true", "t", "yes", "y", "on"):
                    return True
                if text in ("0", "false", "f", "no", "n", "off"):
                    return False
                raise BadParameter("Input should be a valid boolean, unable to interpret input", ctx=ctx, param=param)
            if kind is str:
                return value if isinstance(value, str) else str(value)
            try:
                if kind is int:
                    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
                        raise ValueError(value)
                    number: float = int(value.strip()) if isinstance(value, str) else int(value)
                else:
                    number = float(value.strip()) if isinstance(value, str) else float(value)
            except (TypeError, ValueError):
                raise BadParameter(_INT_MESSAGE if kind is int else _FLOAT_MESSAGE, ctx=ctx, param=param) from None
            info = self.parameter_info
            if info.min is not None and not number >= info.min:
                raise BadParameter(f"Input should be greater than or equal to {_bound(info.min)}", ctx=ctx, param=param)
            if info.max is not None and not number <= info.max:
                raise BadParameter(f"Input should be less than or equal to {_bound(info.max)}", ctx=ctx, param=param)
            return number

    def build_runtime_param(descriptor: Any) -> Any:
        info = descriptor.parameter_info
        plain = (
            descriptor.file_annotation is None
            and (descriptor.annotation in (*_SCALARS, bool, Path) or descriptor.annotation in (list[str], list[Path]))
            and getattr(info, "parser", None) is None
            and getattr(info, "click_type", None) is None
            and not getattr(info, "clamp", False)
            and not getattr(info, "min_open", False)
            and not getattr(info, "max_open", False)
        )
        if not plain:
            return original(descriptor)
        return ScalarRuntimeParam(annotation=descriptor.annotation, parameter_info=info)

    build_runtime_param._theorychk = True  # type: ignore[attr-defined]
    core.build_runtime_param = build_runtime_param
    return True
