"""The ``theorychk`` command.

Every command that takes a MODEL accepts the same model-selection options (see
:mod:`theorychk.io`). Errors are one line on stderr naming the argument and what arrived, with
exit code 2 — never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any

import typer

from theorychk.errors import TheoryChkError

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
    if not p.is_file():
        raise InvalidInput(f"{what} file not found: {path}")
    try:
        if p.suffix in (".txt", ".csv"):
            return np.loadtxt(p, delimiter="," if p.suffix == ".csv" else None)
        return np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InvalidInput(f"{what} file {path} is not a readable array ({exc})") from None


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


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and turn theorychk errors into one line and exit code 2."""
    _register(sys.argv[1:] if argv is None else argv)
    try:
        # standalone mode: click prints usage errors itself (one "Error:" line, exit 2)
        app(args=argv, prog_name="theorychk")
    except TheoryChkError as exc:
        typer.echo(f"theorychk: error: {exc}", err=True)
        return 2
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        typer.echo("theorychk: interrupted", err=True)
        return 130
    except Exception as exc:  # a bug in theorychk, not the user's input: still no traceback
        if os.environ.get("THEORYCHK_DEBUG"):
            raise
        typer.echo(
            f"theorychk: internal error (please report; THEORYCHK_DEBUG=1 shows the traceback): "
            f"{type(exc).__name__}: {exc}",
            err=True,
        )
        return 3
    return 0


def entry() -> None:  # pragma: no cover - the console script
    sys.exit(main())
