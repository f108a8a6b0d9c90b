"""``theorychk convert MODEL OUT.{npz,onnx}``: freeze a decoder, read once with the model options.

A state_dict needs ``--layers`` / ``--activation`` every time it is read; the converted file
holds the layers and activations, so ``info`` / ``certify`` / ``check --model`` read it with no
options and get the same network (same fingerprint). The file is read back after writing and
compared: ``.npz`` keeps every number and dtype, so it always round-trips; ONNX stores float32,
so a float64 or float16 layer (e.g. one with a folded batch norm) comes back as a different
network -- ``convert`` says so on stderr and in ``--json`` (``"identical": false``).
"""


import os
import warnings
from pathlib import Path
from typing import Annotated

import typer

from theorychk.cli import ActivationOpt, FinalActivationOpt, JsonOpt, LayersOpt, ModelArg, app, load_model, print_json
from theorychk.errors import InvalidInput, unknown_name


@app.command()
def convert(
    model: ModelArg,
    out: Annotated[Path, typer.Argument(help="Output file: .npz (theorychk's format, exact) or .onnx (float32).")],
    layers: LayersOpt = None,
    activation: ActivationOpt = None,
    final_activation: FinalActivationOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite OUT if it exists.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Freeze MODEL, read with the model options, into OUT (.npz or .onnx) that reads with no options."""
    from theorychk.io import WRITERS, load_network

    suffix = out.suffix.lower()
    if suffix not in WRITERS:
        raise unknown_name("output extension", suffix or "(none)", WRITERS)
    if out.is_dir():
        raise InvalidInput(f"output {out} is a directory; give a file name ending in {suffix}",
                           argument="--out", got=str(out))
    if out.exists() and not force:
        raise InvalidInput(f"output file {out} exists; remove it or pass --force",
                           argument="--out", got=str(out))
    net = load_model(model, layers, activation, final_activation)
    # Written beside OUT and renamed, so that a failed write never leaves a half-written OUT.
    partial = out.with_name(f".{out.name}.partial{suffix}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            WRITERS[suffix](net, partial)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    for w in caught:
        typer.echo(f"theorychk: warning: {w.message}", err=True)
    back = load_network(out)
    identical = back.fingerprint() == net.fingerprint()
    facts = {"model": model, "out": str(out), "widths": list(net.widths),
             "activations": [a.spec for a in net.activations], "fingerprint": net.fingerprint(),
             "fingerprint_out": back.fingerprint(), "identical": identical}
    if not identical:
        from theorychk.check.model import model_problem
        from theorychk.io import layer_digests

        section = {"fingerprint": net.fingerprint(), "widths": list(net.widths),
                   "activations": facts["activations"], "layer_sha256": layer_digests(net)}
        typer.echo(f"theorychk: warning: {out} holds a different network than {model} as read, so certificates "
                   f"of the one do not check against the other: {model_problem(section, back)}", err=True)
    if json_out:
        print_json(facts)
        return
    state = "read back identical" if identical else "read back DIFFERENT (see the warning)"
    typer.echo(f"wrote {out}: {' -> '.join(map(str, net.widths))} "
               f"({', '.join(facts['activations'])}); fingerprint {net.fingerprint()}; {state}")

