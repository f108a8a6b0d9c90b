"""``theorychk certify`` (per-signal certificates) and ``theorychk check`` (the trusted checker).

Exit codes of ``check``: 0 VERIFIED; 1 REJECTED (the reason is printed — a fingerprint mismatch,
or a recorded model file whose bytes changed since certification, is a REJECTED certificate); 2
when the certificate or the model cannot be read (one-line error).
"""


from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from theorychk.cli import (
    ActivationOpt, FinalActivationOpt, JsonOpt, LayersOpt, ModelArg, app, cell, load_signals, out_folder,
    positive_seconds, print_json,
)
from theorychk.errors import InvalidInput
from theorychk.runtime import DEFAULT_TIME_LIMIT

if TYPE_CHECKING:  # numpy is imported where it is used: `theorychk --help` does not need it
    import numpy as np

#: Claim kinds of the global-injectivity engine (:mod:`theorychk.certify.injectivity`), model-wide.
INJECTIVITY_KINDS = ("layer_injective", "network_injective")


def _positive_fraction(text: str, name: str) -> Fraction:
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise InvalidInput(f"{name} must be a positive number like 0.001 or 1/1000; got {text!r}") from None
    if value <= 0:
        raise InvalidInput(f"{name} must be positive; got {text!r}")
    return value


def _injectivity_summary(report: Any) -> Any:
    if report is None:
        return None
    from theorychk.verdict import jsonable

    summary = getattr(report, "summary", None)
    if summary is not None:
        return jsonable(summary() if callable(summary) else summary, exact_floats=False)  # a summary for people
    return report.to_dict() if hasattr(report, "to_dict") else None


@app.command()
def certify(
    model: ModelArg,
    signals: Annotated[Path | None, typer.Option(
        "--signals", help="Signals to certify: Y.npy of shape (batch, n).")] = None,
    samples: Annotated[int | None, typer.Option(
        "--samples", help="Certify G(z) for N latents z ~ N(0, I) (default 3).")] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the sampled latents (numpy Generator).")] = 0,
    noise: Annotated[str, typer.Option(
        "--noise", help="Noise level of the stability claims, read exactly (0.001 = 1/1000).")] = "1/1000",
    latent_box: Annotated[str, typer.Option(
        "--latent-box", help="Latent box ||z||_inf <= R of the MILP claim.")] = "10",
    time_limit: Annotated[float, typer.Option(
        "--time-limit", callback=positive_seconds, help="Wall-clock seconds per signal: inverting it and all its claims together (claims "
                             "undecided then end UNKNOWN \"time limit\"); the global-injectivity check gets the "
                             "same budget once ('inf': no limit).")] = DEFAULT_TIME_LIMIT,
    signal_tol: Annotated[float | None, typer.Option(
        "--signal-tol", min=0.0, help="With --signals: how far (l2) a signal may be from the range and count as "
                                      "realizable (default: float rounding of the model's dtype; "
                                      "docs/glossary.md).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Directory for one certificate per signal (signal-000.json, ...).")] = None,
    claims: Annotated[str | None, typer.Option(
        "--claims", help="Comma-separated claim kinds (default: all).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    layers: LayersOpt = None,
    activation: ActivationOpt = None,
    final_activation: FinalActivationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Certify signals of MODEL: uniqueness of the latent code and stability under noise, with certificates.

    Statuses (CERTIFIED, REFUTED, UNKNOWN) and what a given signal's offset means: docs/glossary.md.
    """
    from theorychk.certify.certificate import (
        ALL_KINDS, build_certificate, claim_label, count_claims, global_injectivity, sample_latents,
        signal_from_output, write_certificate,
    )
    from theorychk.certify.signal import check_certifiable
    from theorychk.runtime import Deadline, progress
    from theorychk.verdict import jsonable

    if signals is not None and samples is not None:
        raise InvalidInput("give either --signals Y.npy or --samples N, not both")
    out_folder(out)
    eps = _positive_fraction(noise, "--noise")
    box = _positive_fraction(latent_box, "--latent-box")
    wanted = tuple(k.strip() for k in claims.split(",")) if claims else ALL_KINDS + INJECTIVITY_KINDS
    unknown = sorted(set(wanted) - set(ALL_KINDS + INJECTIVITY_KINDS))
    if unknown:
        from theorychk.errors import unknown_name

        raise unknown_name("claim kind", unknown[0], ALL_KINDS + INJECTIVITY_KINDS)
    kinds = tuple(k for k in wanted if k in ALL_KINDS)
    from theorychk.io import ModelSource

    # Recorded in every certificate, so that `theorychk check CERT` re-reads the model alone.
    source = ModelSource.of(model, layers=layers, activation=activation, final_activation=final_activation)
    net = source.load()
    check_certifiable(net)
    extra: list[dict[str, Any]] = []
    inj = None
    if set(wanted) & set(INJECTIVITY_KINDS):
        inj = global_injectivity(net, time_limit=Deadline(time_limit).seconds, seed=seed)
    if inj is not None:
        extra = [c for c in inj.claims if c["kind"] in wanted]
    rows: list[dict[str, Any]] = []
    certs: list[dict[str, Any]] = []
    todo: list[tuple[dict[str, Any], Any]] = []
    if signals is not None:
        for i, y in enumerate(load_signals(signals, net.output_dim, "--signals")[0]):
            todo.append(({"index": i, "how": f"given signal {signals.name}[{i}]"}, y))
    else:
        for i, z in enumerate(sample_latents(net, 3 if samples is None else samples, seed)):
            how = "sampled latent z ~ N(0, I), numpy default_rng(seed), rounded to float32"
            todo.append(({"index": i, "how": how, "seed": seed}, z))
    with progress("certifying", total=len(todo), quiet=quiet) as bar:
        for origin, item in todo:
            row: dict[str, Any] = {"index": origin["index"]}
            deadline = Deadline(time_limit)  # one budget per signal: its inversion and every claim
            if signals is not None:
                z, inv = signal_from_output(net, item, deadline=deadline, latent_box=float(box),
                                            signal_tol=signal_tol)
                origin.update(inv)
                row.update(realizable=inv["realizable"],
                           residual=jsonable(inv["residual_linf"], exact_floats=False),
                           signal_offset=jsonable(inv["signal_offset"], exact_floats=False),
                           signal_tol=inv["signal_tol"], certifies=inv.get("certifies"))
                if z is None:
                    row["reason"] = inv.get("reason", "")
                    rows.append(row)
                    bar.advance()
                    continue
            else:
                z = item
            cert = build_certificate(net, z, source=source, origin=origin, kinds=kinds, noise=eps, latent_box=box,
                                     deadline=deadline, extra_claims=extra)
            certs.append(cert)
            row["claims"] = {claim_label(c): c["status"] for c in cert["claims"]}
            row["elapsed_seconds"] = round(deadline.elapsed(), 3)
            if out is not None:
                row["certificate"] = str(write_certificate(cert, out / f"signal-{origin['index']:03d}.json"))
            rows.append(row)
            bar.advance()
    counts = count_claims(certs)
    summary = {"model": model, "fingerprint": net.fingerprint(), "widths": list(net.widths), "noise": str(eps),
               "signals": rows, "counts": counts, "injectivity": _injectivity_summary(inj)}
    if json_out:
        print_json(summary)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"{model}: {' -> '.join(map(str, net.widths))}, {len(certs)} signal(s) certified")
    for col in ("claim", "CERTIFIED", "REFUTED", "UNKNOWN"):
        table.add_column(col, overflow="fold")
    for label, c in counts.items():
        table.add_row(label, str(c["CERTIFIED"]), str(c["REFUTED"]), str(c["UNKNOWN"]))
    console.print(table)
    for row in rows:
        if row.get("realizable") is False:
            console.print(f"signal {row['index']}: not realizable within signal_tol {row['signal_tol']:.3g} "
                          f"(best-fit offset {float(row['signal_offset']):.3g}): {row['reason']}")
        elif "realizable" in row and row["realizable"] is None:
            console.print(f"signal {row['index']}: UNKNOWN ({row['reason']}): no fit within signal_tol "
                          f"{row['signal_tol']:.3g} was found, which proves nothing either way")
        elif row.get("certifies") == "nearest_realizable":
            console.print(f"signal {row['index']}: certified G(z*), {float(row['signal_offset']):.3g} from the given "
                          f"signal (within signal_tol {row['signal_tol']:.3g})")
    if inj is not None:
        inj_table = Table(title="global injectivity (whole model)")
        for col in ("layer", "shape", "status", "method", "reason"):
            inj_table.add_column(col, overflow="fold")
        for r in summary["injectivity"] or []:
            inj_table.add_row(*(cell(r.get(key, "")) for key in ("layer", "shape", "status", "method", "reason")))
        console.print(inj_table)
    if out is not None:
        console.print(f"certificates written to {out}/ (check with: theorychk check {out}/signal-000.json)")


@app.command()
def check(
    certificate: Annotated[Path, typer.Argument(help="Certificate JSON written by theorychk certify.")],
    model: Annotated[str | None, typer.Option(
        "--model", help="Model to check against, read with the model options given here "
                        "(default: the recorded source, read with the recorded options).")] = None,
    layers: LayersOpt = None,
    activation: ActivationOpt = None,
    final_activation: FinalActivationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Re-verify a certificate in exact arithmetic. Exit 0 only if VERIFIED (1: REJECTED, 2: unreadable)."""
    from theorychk.check.core import check_file

    report = check_file(certificate, model, layers=layers, activation=activation, final_activation=final_activation)
    if json_out:
        print_json(report.to_dict())
    else:
        for c in report.claims:
            typer.echo(f"{c.outcome:14s} {c.kind}: {c.reason}")
        for label in report.carried:
            typer.echo(f"carried, not re-derived: {label}")
        typer.echo(f"{report.verdict}: {certificate}")
    if not report.verified:
        raise typer.Exit(code=1)
