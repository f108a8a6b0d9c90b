"""``theorychk certify`` (per-signal certificates) and ``theorychk check`` (the trusted checker).

``certify`` runs its signals on the sweep engine (:mod:`theorychk.certify.batch`): ``--workers``
processes (default: the cores), or ``--dask ADDRESS``, one BLAS thread each, every signal on its
own time limit; each certificate is written to ``--out`` as it finishes (under a temporary name,
then renamed), and ``--resume`` skips the signals whose certificate is already there and parses.
The table and the JSON give one verdict per signal (:func:`theorychk.verdict.signal_verdict`) next
to the per-claim counts; ``check`` reports the verdict of the claims it re-derived.

Exit codes of ``check``: 0 VERIFIED; 1 REJECTED (the reason is printed — a fingerprint mismatch,
or a recorded model file whose bytes changed since certification, is a REJECTED certificate); 2
when the certificate or the model cannot be read (one-line error).
"""


from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import typer

from theorychk.cli import (
    ActivationOpt, FinalActivationOpt, JsonOpt, LayersOpt, ModelArg, app, cell, load_signals, out_folder,
    positive_seconds, print_json,
)
from theorychk.errors import InvalidInput
from theorychk.runtime import DEFAULT_TIME_LIMIT

#: The verdicts of :func:`theorychk.verdict.signal_verdict` (spelled here: `--help` imports no numpy).
UNIQUE, NOT_UNIQUE, UNDECIDED = "unique", "not unique", "undecided"
#: Default of ``--printed-budget`` (:data:`theorychk.certify.signal.PRINTED_SECONDS`; a test keeps them equal).
PRINTED_SECONDS = 5.0

#: Claim kinds of the global-injectivity engine (:mod:`theorychk.certify.injectivity`), model-wide.
INJECTIVITY_KINDS = ("layer_injective", "network_injective")


def _positive_fraction(text: str, name: str) -> Fraction:
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise InvalidInput(f"{name} must be a positive number like 0.001 or 1/1000; got {text!r}",
                           argument=name, got=text) from None
    if value <= 0:
        raise InvalidInput(f"{name} must be positive; got {text!r}", argument=name, got=text)
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
    complete_box: Annotated[str | None, typer.Option(
        "--complete-box", metavar="R", help="Decide uniqueness in the latent box ||z||_inf <= R (read exactly: "
                                            "1/2 = 0.5) with the complete claim: no other z in the box has "
                                            "G(z) = y (default: no box, uniqueness in all of R^k).")] = None,
    time_limit: Annotated[float, typer.Option(
        "--time-limit", callback=positive_seconds, help="Wall-clock seconds per signal: inverting it and all its claims together (claims "
                             "undecided then end UNKNOWN \"time limit\"); the global-injectivity check gets the "
                             "same budget once ('inf': no limit).")] = DEFAULT_TIME_LIMIT,
    printed_budget: Annotated[float, typer.Option(
        "--printed-budget", min=0.0, help="Seconds at most for the as-printed hypotheses of aberdam_thm1 (sub-spark / "
                                          "sub-rank at full layer size), evaluated after every other claim: also at "
                                          "most 10% of --time-limit, what is left of it, and a tenth of what the other "
                                          "claims took, at least 0.25 s (2% and 0.002 s on large layers); they report the bounds "
                                          "reached when it ends. 0: leave that variant out.")] = PRINTED_SECONDS,
    exact_constants: Annotated[bool, typer.Option(
        "--exact-constants", help="lei_linf / lei_l1: compute c_inf / c_1 exactly wherever the exact "
                                  "engines reach (slower), not only where cheap; by default a layer states the certified lower "
                                  "bound the guarantee needs (\"constant\": \"lower_bound\").")] = False,
    signal_tol: Annotated[float | None, typer.Option(
        "--signal-tol", min=0.0, help="With --signals: how far (l2) a signal may be from the range and count as "
                                      "realizable (default: float rounding of the model's dtype; "
                                      "docs/glossary.md).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Directory for one certificate per signal (signal-000.json, ...), each written as it "
                      "finishes.")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="With --out: skip the signals whose certificate is already there and parses (an "
                         "interrupted run's), make the others; one made with other options (not the "
                         "budgets) is an error.")] = False,
    claims: Annotated[str | None, typer.Option(
        "--claims", help="Comma-separated claim kinds (default: all).")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, help="Worker processes, one signal at a time each (default: the cores; 1: this "
                                 "process).")] = None,
    dask: Annotated[str | None, typer.Option(
        "--dask", metavar="ADDRESS", help="Certify the signals on this Dask scheduler instead of local processes.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    layers: LayersOpt = None,
    activation: ActivationOpt = None,
    final_activation: FinalActivationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Certify signals of MODEL: uniqueness of the latent code and stability under noise, with certificates.

    Each signal gets one verdict -- unique / not unique / undecided -- and the claims behind it.
    Statuses (CERTIFIED, REFUTED, UNKNOWN) and what a given signal's offset means: docs/glossary.md.
    """
    from theorychk.certify.batch import (
        CertifySetup, SignalJob, certificate_name, certify_stream, resumable, signal_digest, write_atomically,
    )
    from theorychk.certify.certificate import ALL_KINDS, count_claims, global_injectivity, sample_latents
    from theorychk.certify.signal import check_certifiable
    from theorychk.runtime import Deadline, blas_threads_set_by_user, default_workers, progress

    if signals is not None and samples is not None:
        raise InvalidInput("give either --signals Y.npy or --samples N, not both",
                           argument="--samples", got=samples)
    if resume and out is None:
        raise InvalidInput("--resume needs --out DIR: the folder of the run to resume",
                           argument="--out", got=None)
    out_folder(out)
    eps = _positive_fraction(noise, "--noise")
    box = _positive_fraction(latent_box, "--latent-box")
    cbox = None if complete_box is None else _positive_fraction(complete_box, "--complete-box")
    wanted = tuple(k.strip() for k in claims.split(",")) if claims else ALL_KINDS + INJECTIVITY_KINDS
    unknown = sorted(set(wanted) - set(ALL_KINDS + INJECTIVITY_KINDS))
    if unknown:
        from theorychk.errors import unknown_name

        raise unknown_name("claim kind", unknown[0], ALL_KINDS + INJECTIVITY_KINDS)
    kinds = tuple(k for k in wanted if k in ALL_KINDS)
    if cbox is not None and "complete" not in kinds:
        raise InvalidInput(f"--complete-box is the box of the complete claim, which --claims {claims} leaves out",
                           argument="--complete-box", got=complete_box)
    from theorychk.io import ModelSource

    # Recorded in every certificate, so that `theorychk check CERT` re-reads the model alone.
    source = ModelSource.of(model, layers=layers, activation=activation, final_activation=final_activation)
    net = source.load()
    check_certifiable(net)
    jobs: list[SignalJob] = []
    if signals is not None:
        for i, y in enumerate(load_signals(signals, net.output_dim, "--signals")[0]):
            jobs.append(SignalJob(i, {"index": i, "how": f"given signal {signals.name}[{i}]",
                                      "signal_sha256": signal_digest(y)}, output=y))
    else:
        how = "sampled latent z ~ N(0, I), numpy default_rng(seed), rounded to float32"
        for i, z in enumerate(sample_latents(net, 3 if samples is None else samples, seed)):
            jobs.append(SignalJob(i, {"index": i, "how": how, "seed": seed}, latent=tuple(z)))
    from theorychk.experiments.sweep import dask_client

    client = dask_client(dask) if dask is not None else None
    try:
        inj = None
        if set(wanted) & set(INJECTIVITY_KINDS):
            inj = global_injectivity(net, time_limit=Deadline(time_limit).seconds, seed=seed)
        extra = tuple(c for c in inj.claims if c["kind"] in wanted) if inj is not None else ()
        setup = CertifySetup(net, source, kinds, eps, box, Deadline(time_limit).seconds, signal_tol=signal_tol,
                             printed_seconds=printed_budget, extra_claims=extra, complete_box=cbox,
                             exact_constants=exact_constants)
        done: dict[int, dict[str, Any]] = {}
        redone: list[int] = []
        if resume:
            for job in jobs:
                path = out / certificate_name(job.index)
                if path.exists():
                    cert = resumable(path, job, setup)
                    if cert is None:
                        redone.append(job.index)
                    else:
                        done[job.index] = cert
        todo = [job for job in jobs if job.index not in done]
        n_workers = workers if workers is not None else default_workers()
        used = (len(client.scheduler_info().get("workers", {})) if client is not None
                else min(n_workers, len(todo)) if todo else 0)
        results: dict[int, dict[str, Any]] = {}
        threads: dict[str, Any] = {}  # as a signal ran: in its worker, with its pinning
        user_threads = blas_threads_set_by_user()  # here: the workers see the variables the engine set
        with progress("certifying", total=len(jobs), quiet=quiet or len(jobs) < 2) as bar:
            bar.advance(len(done))
            for res in certify_stream(setup, todo, workers=n_workers, dask=client):
                threads = threads or res["threads"]
                if out is not None and res["certificate"] is not None:
                    write_atomically(res["certificate"], out / certificate_name(res["index"]))
                results[res["index"]] = res
                bar.advance()
    finally:
        if client is not None:
            client.close()
    rows = [_row(job.index, results.get(job.index), done.get(job.index), out) for job in jobs]
    certs = [done[j.index] if j.index in done else results[j.index]["certificate"] for j in jobs
             if j.index in done or results[j.index]["certificate"] is not None]
    counts = count_claims(certs)
    verdicts = {v: sum(r["verdict"]["verdict"] == v for r in rows) for v in (UNIQUE, NOT_UNIQUE, UNDECIDED)}
    summary = {"model": model, "fingerprint": net.fingerprint(), "widths": list(net.widths), "noise": str(eps),
               "complete_box": None if cbox is None else str(cbox),
               "signals": rows, "counts": counts, "verdicts": verdicts, "injectivity": _injectivity_summary(inj),
               "runtime": {"workers": used, "engine": "dask" if client is not None else
                           ("process" if used > 1 else "this process"),
                           "blas_threads": threads.get("blas"), "threads_set_by_user": user_threads}}
    if resume:
        summary["resume"] = {"skipped": sorted(done), "redone": redone}
    if json_out:
        print_json(summary)
        return
    _certify_table(model, net, summary, rows, inj, out, resume)


def _row(index: int, res: dict[str, Any] | None, resumed: dict[str, Any] | None, out: Path | None) -> dict[str, Any]:
    """One signal's row of the summary: what its certificate says (the same for a resumed one),
    or for a given signal that was not inverted within its tolerance, why not."""
    from theorychk.certify.batch import certificate_name
    from theorychk.certify.certificate import claim_label
    from theorychk.verdict import SignalVerdict, signal_verdict

    cert = resumed if resumed is not None else res["certificate"]
    origin = cert["signal"]["origin"] if cert is not None else res["origin"]
    row: dict[str, Any] = {"index": index}
    if "realizable" in origin:  # a given signal, inverted first
        row.update(realizable=origin["realizable"], residual=_number(origin["residual_linf"]),
                   signal_offset=_number(origin["signal_offset"]), signal_tol=_number(origin["signal_tol"]),
                   certifies=origin.get("certifies"))
    if cert is None:
        row["reason"] = origin.get("reason", "")
        row["verdict"] = SignalVerdict(UNDECIDED, reason=f"no certificate: {row['reason']}").to_dict()
        row["elapsed_seconds"], row["cpu_seconds"] = res["elapsed_seconds"], res.get("cpu_seconds")
        return row
    row["claims"] = {claim_label(c): c["status"] for c in cert["claims"]}
    row["verdict"] = signal_verdict(cert).to_dict()
    row["elapsed_seconds"] = None if resumed is not None else res["elapsed_seconds"]
    row["cpu_seconds"] = None if resumed is not None else res.get("cpu_seconds")  # this signal's CPU, where it ran
    if resumed is not None:
        row["resumed"] = True
    if out is not None:
        row["certificate"] = str(out / certificate_name(index))
    return row


def _number(value: Any) -> Any:
    """A float of the origin as a JSON number for people (a certificate holds it as exact hex)."""
    from theorychk.verdict import jsonable

    if isinstance(value, str):
        value = float.fromhex(value) if "0x" in value.lower() else float(value)
    return jsonable(value, exact_floats=False)


#: signals in the per-signal verdict table before it lists only the first of each verdict
_TABLE_ROWS = 20


def _certify_table(model: str, net: Any, summary: dict[str, Any], rows: list[dict[str, Any]], inj: Any,
                   out: Path | None, resume: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    n_certs = sum("claims" in r for r in rows)
    table = Table(title=f"{model}: {' -> '.join(map(str, net.widths))}, {n_certs} signal(s) certified")
    for col in ("claim", "CERTIFIED", "REFUTED", "UNKNOWN"):
        table.add_column(col, overflow="fold")
    for label, c in summary["counts"].items():
        table.add_row(label, str(c["CERTIFIED"]), str(c["REFUTED"]), str(c["UNKNOWN"]))
    v = summary["verdicts"]
    table.add_section()
    table.add_row(f"verdict: {UNIQUE} / {NOT_UNIQUE} / {UNDECIDED}", str(v[UNIQUE]), str(v[NOT_UNIQUE]),
                  str(v[UNDECIDED]))
    console.print(table)
    where = "" if summary["complete_box"] is None else f" (complete: in ||z||_inf <= {summary['complete_box']})"
    per = Table(title=f"one verdict per signal: is its latent code unique{where}?")
    for col in ("signal", "verdict", "decided by", "scope / distance", "why undecided"):
        per.add_column(col, overflow="fold")
    shown = rows if len(rows) <= _TABLE_ROWS else [
        r for verdict in (NOT_UNIQUE, UNDECIDED, UNIQUE)
        for r in [r for r in rows if r["verdict"]["verdict"] == verdict][:5]]
    for r in shown:
        d = r["verdict"]
        where = (f"||z2 - z*||_2 = {d['distance_l2']:.3g}" + ("" if d["scope"] in ("R^k", None) else f", z2 in {d['scope']}")
                 if d["verdict"] == NOT_UNIQUE else d["scope"] or "")
        per.add_row(str(r["index"]) + (" (resumed)" if r.get("resumed") else ""), d["verdict"], d["by"] or "",
                    cell(where), cell(d["reason"]))
    console.print(per)
    if len(shown) < len(rows):
        console.print(f"(the first of each verdict of {len(rows)} signals; every row: --json)")
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
    rt = summary["runtime"]
    console.print(f"{len(rows)} signal(s) with {rt['workers']} worker(s) ({rt['engine']})")
    if resume:
        res = summary["resume"]
        console.print(f"resumed: {len(res['skipped'])} signal(s) skipped (certificate already in {out}/), "
                      f"{len(res['redone'])} unreadable certificate(s) made again")
    if out is not None:
        console.print(f"certificates written to {out}/ (check with: theorychk check {out}/signal-000.json)")


@app.command()
def check(
    certificates: Annotated[list[Path], typer.Argument(
        help="Certificate JSON files written by theorychk certify, or folders of them (their *.json: "
             "the --out folder of certify). Several are checked in one process (each layer's integer "
             "form computed once).",
        metavar="CERTIFICATE")],
    model: Annotated[str | None, typer.Option(
        "--model", help="Model to check against, read with the model options given here "
                        "(default: the recorded source, read with the recorded options).")] = None,
    layers: LayersOpt = None,
    activation: ActivationOpt = None,
    final_activation: FinalActivationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Re-verify certificates in exact arithmetic. Exit 0 only if every one is VERIFIED (1: one is
    REJECTED, 2: unreadable input). One file: its claims; several, or a folder: one row each
    (--json: a list)."""
    from theorychk.check.core import certificate_paths, check_path

    paths = certificate_paths(list(certificates))
    options = {"layers": layers, "activation": activation, "final_activation": final_activation}
    if len(paths) == 1 and not certificates[0].is_dir():
        cert, report = check_path(paths[0], model, **options)
        verdict = _checked_verdict(cert, report)
        if json_out:
            print_json(report.to_dict() | {"signal_verdict": verdict.to_dict()})
        else:
            for c in report.claims:
                typer.echo(f"{c.outcome:14s} {c.kind}: {c.reason}")
            for label in report.carried:
                typer.echo(f"carried, not re-derived: {label}")
            typer.echo(f"signal verdict: {verdict}")
            typer.echo(f"{report.verdict}: {paths[0]}")
        if not report.verified:
            raise typer.Exit(code=1)
        return
    import time

    rows, cpu = [], []
    for path in paths:
        t0 = time.process_time()
        cert, report = check_path(path, model, **options)
        rows.append((path, report, _checked_verdict(cert, report)))
        cpu.append(round(time.process_time() - t0, 4))  # this certificate's CPU (read, parse, check)
    if json_out:
        print_json([{"certificate": str(path)} | report.to_dict() | {"signal_verdict": verdict.to_dict(),
                                                                      "cpu_seconds": seconds}
                    for (path, report, verdict), seconds in zip(rows, cpu)])
    else:
        _print_check_table(rows)
    if not all(report.verified for _, report, _ in rows):
        raise typer.Exit(code=1)


def _print_check_table(rows: list[tuple[Path, Any, Any]]) -> None:
    """One line per certificate (plain text: a path is never folded), then the counts."""
    width = max(len(str(path)) for path, _, _ in rows)
    typer.echo(f"{'verdict':9s} {'signal':11s} {'certificate':{width}s}  claims verified / carried; first rejection")
    for path, report, verdict in rows:
        rejected = next((f"; {c.kind}: {c.reason}" for c in report.claims if c.outcome == "REJECTED"), "")
        typer.echo(f"{report.verdict:9s} {verdict.verdict:11s} {str(path):{width}s}  "
                   f"{len(report.checked)} / {len(report.carried)}{rejected}")
    bad = sum(not report.verified for _, report, _ in rows)
    typer.echo(f"{len(rows)} certificate(s): {len(rows) - bad} VERIFIED, {bad} REJECTED")


def _checked_verdict(cert: dict[str, Any], report: Any) -> Any:
    """The signal's verdict from the claims the checker re-derived (or carried as solver
    evidence) -- undecided when it rejected the certificate."""
    from theorychk.verdict import SignalVerdict, signal_verdict

    if not report.verified:
        return SignalVerdict(UNDECIDED, reason=f"the certificate is {report.verdict}")
    return signal_verdict(cert, outcomes=[c.outcome for c in report.claims])
