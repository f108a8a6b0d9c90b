"""``theorychk info MODEL``: the architecture at a glance."""


from typing import TYPE_CHECKING, Any

from theorychk.cli import ActivationOpt, FinalActivationOpt, JsonOpt, LayersOpt, ModelArg, app, load_model, print_json

if TYPE_CHECKING:
    from theorychk.network import Layer, Network

#: A convolution's rank is computed only up to this many dense entries (``n_out * n_in``):
#: above it ``rank`` is ``null`` and ``rank_skipped`` says why (its dense matrix is not built).
CONV_RANK_LIMIT = 2**20


def _rank(layer: "Layer") -> tuple[int | None, str | None]:
    from theorychk import exact  # python-flint: only when ranks are computed, not for --help

    size = layer.n_out * layer.n_in
    if layer.conv is not None and size > CONV_RANK_LIMIT:
        return None, (f"size limit: the {layer.n_out} x {layer.n_in} operator has more than "
                      f"{CONV_RANK_LIMIT} entries")
    return exact.rank(layer.weight), None


def describe(net: "Network") -> dict[str, Any]:
    """The facts ``info`` prints, as JSON-ready data (exact per-layer ranks included)."""
    layers = []
    for i, layer in enumerate(net.layers):
        rank, skipped = _rank(layer)
        row = {
            "index": i,
            "kind": layer.kind,
            "n_in": layer.n_in,
            "n_out": layer.n_out,
            "expansion": layer.n_out / layer.n_in,
            "activation": layer.activation.spec,
            "bias": layer.has_bias,
            "dtype": layer.dtype,
            "rank": rank,
            "full_column_rank": None if rank is None else rank == layer.n_in,
        }
        if skipped:
            row["rank_skipped"] = skipped
        if layer.conv is not None:
            geometry = layer.conv.geometry()
            del geometry["kind"]
            row["conv"] = geometry
        layers.append(row)
    return {
        "name": net.name,
        "widths": list(net.widths),
        "latent_dim": net.latent_dim,
        "output_dim": net.output_dim,
        "depth": net.depth,
        "n_params": net.n_params,
        "dtype": net.dtype,
        "fingerprint": net.fingerprint(),
        "layers": layers,
    }


@app.command()
def info(
    model: ModelArg,
    layers: LayersOpt = None,
    activation: ActivationOpt = None,
    final_activation: FinalActivationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Print the architecture: widths, expansion factors, activations, parameters, fingerprint, ranks."""
    net = load_model(model, layers, activation, final_activation)
    facts = describe(net)
    if json_out:
        print_json(facts)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{facts['name'] or model}: {' -> '.join(map(str, facts['widths']))}")
    for col in ("layer", "kind", "out x in", "expansion", "activation", "bias", "dtype", "rank"):
        table.add_column(col, overflow="fold")
    for row in facts["layers"]:
        table.add_row(
            str(row["index"]),
            _kind_text(row),
            f"{row['n_out']} x {row['n_in']}",
            f"{row['expansion']:.2f}",
            row["activation"],
            "yes" if row["bias"] else "no",
            row["dtype"],
            "- (size limit)" if row["rank"] is None
            else f"{row['rank']}" + (" (full)" if row["full_column_rank"] else ""),
        )
    console = Console()
    console.print(table)
    console.print(f"parameters: {facts['n_params']}  (rank: exact over Q; full = full column rank)")
    console.print(f"fingerprint: {facts['fingerprint']}", soft_wrap=True)


def _kind_text(row: dict[str, Any]) -> str:
    """``linear``, or e.g. ``conv_transpose 8x4x4 -> 4x8x8 k4x4 s2 p1`` (shapes C x H x W)."""
    if "conv" not in row:
        return row["kind"]
    g = row["conv"]

    def dims(values: list[int]) -> str:
        return "x".join(map(str, values))

    def short(values: list[int]) -> str:
        return str(values[0]) if len(set(values)) == 1 else dims(values)

    text = f"{row['kind']} {dims(g['in_shape'])} -> {dims(g['out_shape'])} k{dims(g['kernel_shape'][2:])}"
    text += f" s{short(g['stride'])} p{short(g['padding'])}"
    if any(g["output_padding"]):
        text += f" op{short(g['output_padding'])}"
    if any(d != 1 for d in g["dilation"]):
        text += f" d{short(g['dilation'])}"
    if g["groups"] != 1:
        text += f" g{g['groups']}"
    return text
