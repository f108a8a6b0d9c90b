"""The ``theorychk`` command.

Every command that takes a MODEL accepts the same model-selection options (see
:mod:`theorychk.io`). Errors are one line on stderr naming the argument and what arrived, with
exit code 2 — never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Annotated, Any

import typer

from theorychk.cli._coerce import install as _install_coercion
from theorychk.errors import ExactCheckFailed, TheoryChkError, TimeLimitReached

_install_coercion()  # typer >= 0.29 would import pydantic to parse "3" (see theorychk.cli._coerce)

app = typer.Typer(
    name="theorychk",
    help="Check the theory of inverting ReLU generative networks against real networks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)

ModelArg = Annotated[str, typer.Argument(help="Model file (.npz, .pt/.pth state_dict, .onnx) or zoo:NAME.")]
LayersOpt = Annotated[
    str | None,
    typer.Option("--layers", help="Decoder layer names in a state_dict, latent side first; 'fc1+bn1' folds bn1."),
]
ActivationOpt = Annotated[
    str | None,
    typer.Option("--activation", help="One activation for all layers, or one per layer: relu,leaky_relu:0.1,..."),
]
FinalActivationOpt = Annotated[
    str | None, typer.Option("--final-activation", help="Activation of the last layer (overrides --activation).")
]
@app.callback()
def _root() -> None:
    """Check the theory of inverting ReLU generative networks against real networks."""


JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]


def load_model(model: str, layers: str | None, activation: str | None, final_activation: str | None):
    """Load MODEL with the shared selection options (the one place the CLI reads models)."""
    from theorychk.io import load_network

    return load_network(model, layers=layers, activation=activation, final_activation=final_activation)


def load_array(path: str | os.PathLike[str], what: str) -> Any:
    """Read a numeric array from ``.npy`` (or ``.txt`` / ``.csv``); errors name ``what`` and the file."""
    from pathlib import Path

    import numpy as np

    from theorychk.errors import InvalidInput

    p = Path(path)
    if not p.exists():
        raise InvalidInput(f"{what} file not found: {path}", argument=what, got=str(path))
    if not p.is_file():
        raise InvalidInput(f"{what} {path} is a directory; give a .npy file", argument=what, got=str(path))
    if p.stat().st_size == 0:
        raise InvalidInput(f"{what} file {path} is empty", argument=what, got=str(path))
    try:
        if p.suffix in (".txt", ".csv"):
            arr = np.loadtxt(p, delimiter="," if p.suffix == ".csv" else None)
        else:
            arr = np.load(p, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):  # numpy's advice to unpickle would run the file's code
            raise InvalidInput(f"{what} file {path} holds Python objects, not numbers; save a numeric "
                               f"array (e.g. numpy.save(path, y.astype(float)))",
                               argument=what, got=str(path)) from None
        raise InvalidInput(f"{what} file {path} is not a readable array ({exc})",
                           argument=what, got=str(path)) from None
    except (OSError, EOFError) as exc:
        raise InvalidInput(f"{what} file {path} is not a readable array ({exc})",
                           argument=what, got=str(path)) from None
    if not isinstance(arr, np.ndarray):  # an .npz archive
        arr.close()
        raise InvalidInput(f"{what} file {path} is an .npz archive; give one array saved with numpy.save (.npy)",
                           argument=what, got=str(path))
    if arr.dtype.kind not in "biuf":
        raise InvalidInput(f"{what} file {path} holds {arr.dtype} values; expected numbers",
                           argument=what, got=str(arr.dtype))
    return arr


def load_signals(path: str | os.PathLike[str], n_out: int, what: str) -> Any:
    """Signals for a model with ``n_out`` outputs: ``(n_out,)`` or ``(batch, n_out)``, finite, as float64.

    Returns ``(batch, single)``: the 2-D batch and whether the file held one 1-D signal. Errors
    name ``what`` (the option), the file, the shape that arrived and the first bad row.
    """
    import numpy as np

    from theorychk.errors import InvalidInput

    arr = load_array(path, what)
    expected = f"({n_out},) or (batch, {n_out}) for this model"
    if arr.ndim not in (1, 2) or arr.shape[-1] != n_out or arr.size == 0:
        raise InvalidInput(f"{what} {path} has shape {arr.shape}; expected {expected}",
                           argument=what, got=arr.shape)
    batch = np.atleast_2d(arr).astype(np.float64)
    bad = ~np.isfinite(batch)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        value = "NaN" if np.isnan(batch[row, col]) else "inf"
        where = f"row {row}, entry {col}" if arr.ndim == 2 else f"entry {col}"
        raise InvalidInput(f"{what} {path}: {value} at {where} ({int(bad.any(axis=1).sum())} row(s) not finite)",
                           argument=what, got=f"{value} at {where}")
    return batch, arr.ndim == 1


def positive_seconds(value: float | None) -> float | None:
    """Callback of every ``--time-limit``: a positive number of seconds or ``inf``, named in the error."""
    if value is not None and not value > 0:  # NaN fails too
        raise typer.BadParameter(f"must be a positive number of seconds (or inf for no limit); got {value}")
    return value


def out_folder(path: str | os.PathLike[str] | None, what: str = "--out") -> None:
    """``what`` names a folder to write into: an existing file there is bad input, said in one line."""
    from pathlib import Path

    from theorychk.errors import InvalidInput

    if path is not None and Path(path).exists() and not Path(path).is_dir():
        raise InvalidInput(f"{what} {path} exists and is a file; this command writes a folder there "
                           "(give a new or existing folder)", argument=what, got=str(path))


#: an exact rational ``p/q`` in text (``--json`` and certificates keep it exactly; a table shortens it)
_FRACTION = re.compile(r"(?<![\w./])(-?\d+)/(\d+)(?![\w./])")


def cell(value: Any) -> str:
    """Text for a table cell: an exact fraction longer than 12 characters as a short decimal (≈0.333333)."""
    from fractions import Fraction

    def short(m: re.Match[str]) -> str:
        if len(m.group(0)) <= 12:
            return m.group(0)
        return f"≈{float(Fraction(int(m.group(1)), int(m.group(2)))):.6g}"

    return _FRACTION.sub(short, str(value))


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


#: command -> the module of theorychk.cli that registers it on import. A run imports only its
#: command's module (each imports its heavy dependencies inside the command), `--help` all of them.
COMMANDS = {
    "info": "info",
    "invariants": "invariants",
    "invert": "invert",
    "reduce": "reduce",
    "certify": "certify",
    "check": "certify",
    "theorems": "theorems",
    "falsify": "theorems",
    "experiment": "experiment",
    "demo": "demo",
    "convert": "convert",
    "benchmark": "benchmark",
}


def _register(argv: list[str]) -> None:
    import importlib

    first = next((a for a in argv if not a.startswith("-")), None)
    for module in [COMMANDS[first]] if first in COMMANDS else dict.fromkeys(COMMANDS.values()):
        importlib.import_module(f"theorychk.cli.{module}")


def _usage_line(exc: Any) -> str:
    """A usage error (unknown option, bad value, missing argument) as one line naming the command."""
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "theorychk"
    return f"{path}: error: {exc.format_message().rstrip('.')} (see '{path} --help')"


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and turn theorychk errors into one line and exit code 2, and
    internal errors (:class:`~theorychk.errors.ExactCheckFailed`, an escaped
    :class:`~theorychk.errors.TimeLimitReached`, any other exception) into one line and exit code 3."""
    try:  # typer >= 0.25 vendors click (no public alias for its usage errors)
        from typer._click import exceptions as click_errors
    except ImportError:  # older typer runs on the click package
        from click import exceptions as click_errors

    _register(sys.argv[1:] if argv is None else argv)
    try:
        # Not standalone: click would print a usage block of several lines; we print one.
        code = app(args=argv, prog_name="theorychk", standalone_mode=False)
    except (ExactCheckFailed, TimeLimitReached) as exc:  # in the tree, but never the input's fault
        return _internal_error(exc)
    except TheoryChkError as exc:
        typer.echo(f"theorychk: error: {exc}", err=True)
        return 2
    except click_errors.NoArgsIsHelpError as exc:  # bare `theorychk`: the help, as click prints it
        exc.show()
        return 2
    except click_errors.ClickException as exc:  # usage errors: unknown option, bad value, missing argument
        typer.echo(_usage_line(exc), err=True)
        return exc.exit_code
    except typer.Abort:
        typer.echo("theorychk: aborted", err=True)
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        typer.echo("theorychk: interrupted", err=True)
        return 130
    except Exception as exc:  # a bug in theorychk, not the user's input: still no traceback
        return _internal_error(exc)
    return code if isinstance(code, int) else 0


def _internal_error(exc: Exception) -> int:
    """A bug of theorychk or of an engine: one line and exit code 3 (re-raised with
    ``THEORYCHK_DEBUG`` set, to show the traceback)."""
    if os.environ.get("THEORYCHK_DEBUG"):
        raise exc
    typer.echo(
        f"theorychk: internal error (please report; THEORYCHK_DEBUG=1 shows the traceback): "
        f"{type(exc).__name__}: {exc}",
        err=True,
    )
    return 3


def entry() -> None:  # pragma: no cover - the console script
    # Before any command imports numpy: OpenBLAS reads its thread count once, when it loads, and
    # on the small matrices of a command one thread is faster (issue 18); starting the threads'
    # buffers alone cost `invariants --spark` ~0.05 s CPU. A variable the user set wins.
    from theorychk.runtime import pin_blas_at_start

    pin_blas_at_start()
    sys.exit(main())
