"""``theorychk info MODEL``: the architecture at a glance."""


from typing import TYPE_CHECKING, Any

from theorychk.cli import ActivationOpt, FinalActivationOpt, JsonOpt, LayersOpt, ModelArg, app, load_model, print_json

if TYPE_CHECKING:
    from theorychk.network import Network


def describe(net: "Network") -> dict[str, Any]:
    """The facts ``info`` prints, as JSON-ready data (exact per-layer ranks included)."""
    from theorychk import exact  # python-flint: only when ranks are computed, not for --help

    layers = []
    for i, layer in enumerate(net.layers):
        layers.append(
            {
                "index": i,
                "n_in": layer.n_in,
                "n_out": layer.n_out,
                "expansion": layer.n_out / layer.n_in,
                "activation": layer.activation.spec,
                "bias": layer.has_bias,
                "dtype": layer.dtype,
                "rank": exact.rank(layer.weight),
                "full_column_rank": exact.rank(layer.weight) == layer.n_in,
            }
        )
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
    for col in ("layer", "out x in", "expansion", "activation", "bias", "dtype", "rank"):
        table.add_column(col, overflow="fold")
    for row in facts["layers"]:
        table.add_row(
            str(row["index"]),
            f"{row['n_out']} x {row['n_in']}",
            f"{row['expansion']:.2f}",
            row["activation"],
            "yes" if row["bias"] else "no",
            row["dtype"],
            f"{row['rank']}" + (" (full)" if row["full_column_rank"] else ""),
        )
    console = Console()
    console.print(table)
    console.print(f"parameters: {facts['n_params']}  (rank: exact over Q; full = full column rank)")
    console.print(f"fingerprint: {facts['fingerprint']}", soft_wrap=True)
