"""Many signals of one network: certificates on the sweep engine, written as they finish, resumable.

:func:`certify_stream` certifies every :class:`SignalJob` of a batch with the same
:class:`CertifySetup` and yields one result per signal as it finishes: in this process
(``workers=1``), in ``workers`` spawned processes, or on a Dask cluster — the engines of
:mod:`theorychk.experiments.sweep`. Each signal has its own time limit (its inversion and all its
claims: a :class:`~theorychk.runtime.Deadline` started where it runs), and small dense linear
algebra runs single-threaded inside it (:func:`~theorychk.runtime.single_threaded_blas`: one
BLAS thread per worker, unless the user set a thread variable). A signal's certificate does not
depend on where it ran: the claims are deterministic functions of the network, the signal and
the options (up to time limits that pass).

:func:`write_atomically` and :func:`resumable` are the two halves of resuming: a certificate is
written to a temporary name and renamed, so a file named ``signal-NNN.json`` is whole; on resume a
file that parses as this run's certificate of that signal is skipped, one that does not parse is
made again, and one that parses but belongs to another model, signal or parameters is an error
(mixing two runs in one folder would be silent otherwise).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from theorychk.check import FORMAT, VERSION
from theorychk.errors import InvalidInput
from theorychk.io import ModelSource
from theorychk.network import Network
from theorychk.verdict import jsonable

__all__ = ["CertifySetup", "SignalJob", "certify_stream", "signal_digest", "write_atomically", "resumable",
           "certificate_name"]


@dataclass(frozen=True)
class CertifySetup:
    """What every signal of a batch shares (sent to each worker with its signal)."""

    net: Network
    source: ModelSource | str
    kinds: tuple[str, ...]
    noise: Fraction
    latent_box: Fraction
    time_limit: float | None
    signal_tol: float | None = None
    printed_seconds: float | None = None
    extra_claims: tuple[dict[str, Any], ...] = ()
    complete_box: Fraction | None = None  # the ``complete`` claim's latent box (None: R^k)
    exact_constants: bool = False


@dataclass(frozen=True)
class SignalJob:
    """One signal: a latent ``z*`` (``latent``, exact) or a given output to invert (``output``)."""

    index: int
    origin: dict[str, Any] = field(default_factory=dict)
    latent: tuple[Fraction, ...] | None = None
    output: np.ndarray | None = None


#: The claim kinds whose constants ``exact_constants`` makes exact (else certified lower bounds).
_CONSTANT_KINDS = ("lei_linf", "lei_l1")


def signal_digest(y: np.ndarray) -> str:
    """sha256 of a given signal as float64 little-endian bytes: which row a certificate was made for."""
    return hashlib.sha256(np.ascontiguousarray(y, dtype="<f8").tobytes()).hexdigest()


def certificate_name(index: int) -> str:
    return f"signal-{index:03d}.json"


def _certify_task(params: dict[str, Any], seed: int) -> list[dict[str, Any]]:
    """The sweep engine's task (``seed`` unused: certification draws nothing at random)."""
    from theorychk.runtime import Deadline, blas_threads, single_threaded_blas

    setup: CertifySetup = params["setup"]
    job: SignalJob = params["job"]
    cpu0 = time.process_time()
    with single_threaded_blas():
        deadline = Deadline(setup.time_limit)  # one budget per signal, started where it runs
        origin = dict(job.origin)
        cert = None
        latent = job.latent
        if job.output is not None:
            from theorychk.certify.certificate import signal_from_output

            latent, inv = signal_from_output(setup.net, job.output, deadline=deadline,
                                             latent_box=float(setup.latent_box), signal_tol=setup.signal_tol)
            origin.update(inv)
        if latent is not None:
            from theorychk.certify.certificate import build_certificate

            printed = {} if setup.printed_seconds is None else {"printed_seconds": setup.printed_seconds}
            cert = build_certificate(setup.net, list(latent), source=setup.source, origin=origin, kinds=setup.kinds,
                                     noise=setup.noise, latent_box=setup.latent_box, complete_box=setup.complete_box,
                                     deadline=deadline,
                                     as_printed=setup.printed_seconds != 0, extra_claims=setup.extra_claims,
                                     exact_constants=setup.exact_constants, **printed)
        return [{"index": job.index, "origin": origin, "certificate": cert,
                 "elapsed_seconds": round(deadline.elapsed(), 3),
                 "cpu_seconds": round(time.process_time() - cpu0, 4), "threads": blas_threads()}]


def certify_stream(setup: CertifySetup, jobs: Sequence[SignalJob], *, workers: int = 1,
                   dask: Any = None) -> Iterator[dict[str, Any]]:
    """Certify every job; yield ``{"index", "origin", "certificate", "elapsed_seconds", "cpu_seconds",
    "threads"}``
    as each finishes (``certificate`` is ``None`` when a given signal was not inverted within its
    tolerance: ``origin`` says why).

    ``workers`` processes (spawned; one signal per task), or this process when ``workers`` is 1 or
    there is one job; ``dask``: a scheduler address or a ``distributed.Client`` to run on instead.
    """
    from theorychk.experiments.sweep import Task, _engine_iter

    if not jobs:
        return
    tasks = [Task(job.index, 0, {"setup": setup, "job": job}, 0) for job in jobs]
    used = min(workers, len(jobs))
    engine = "dask" if dask is not None else ("process" if used > 1 else "serial")
    for _, rows in _engine_iter(engine, _certify_task, tasks, used, dask):
        yield rows[0]


def write_atomically(cert: dict[str, Any], path: Path) -> Path:
    """Write ``cert`` (:func:`~theorychk.certify.certificate.write_certificate`) under a temporary
    name beside ``path`` and rename it: an interrupted write never leaves a file named ``path``."""
    from theorychk.certify.certificate import write_certificate

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write_certificate(cert, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def resumable(path: Path, job: SignalJob, setup: CertifySetup) -> dict[str, Any] | None:
    """The certificate at ``path`` when it is this run's, whole, for ``job``; ``None`` when it is
    missing or does not parse (to be made again). One that parses but was made for another model,
    signal or parameters (``noise``, ``latent_box``, ``kinds``, the ``complete`` claim's box, and
    ``exact_constants`` when it has ``lei_linf`` / ``lei_l1`` claims; a certificate that does not
    record it was made without) is an :class:`~theorychk.errors.InvalidInput` (mixing two runs). The
    budgets (``time_limit``, ``printed_seconds``) are not compared: they decide how much of a claim
    is decided in time, not what it states."""
    try:
        cert = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not (isinstance(cert, dict) and cert.get("format") == FORMAT and cert.get("version") == VERSION
            and isinstance(cert.get("claims"), list) and isinstance(cert.get("signal"), dict)
            and isinstance(cert.get("model"), dict) and isinstance(cert.get("parameters"), dict)):
        return None

    def other(what: str) -> InvalidInput:
        return InvalidInput(f"--resume: {path} was made for {what}; resume with the options of that run, "
                            "or give another --out", argument="--resume", got=str(path))

    if cert["model"].get("fingerprint") != setup.net.fingerprint():
        raise other(f"another model (fingerprint {str(cert['model'].get('fingerprint'))[:12]}...)")
    params = cert["parameters"]
    wanted = {"noise": jsonable(setup.noise), "latent_box": jsonable(setup.latent_box), "kinds": list(setup.kinds)}
    for key, value in wanted.items():
        if params.get(key) != value:
            raise other(f"{key} = {params.get(key)}, not {value}")
    boxes = {json.dumps((c.get("evidence") or {}).get("latent_box")) for c in cert["claims"]
             if isinstance(c, dict) and c.get("kind") == "complete"}
    if boxes - {json.dumps(jsonable(setup.complete_box))}:  # the complete claim's box is its own, not a header's
        raise other(f"complete_box = {', '.join(sorted(boxes))}, not {jsonable(setup.complete_box)}")
    if any(isinstance(c, dict) and c.get("kind") in _CONSTANT_KINDS for c in cert["claims"]):
        # Recorded in ``generator`` (the checker admits no such parameter); one made before it was recorded,
        # without: the default then was the only way.
        generator = cert.get("generator") if isinstance(cert.get("generator"), dict) else {}
        made, wanted_exact = generator.get("exact_constants", False), bool(setup.exact_constants)
        if made is not wanted_exact:
            raise other(f"exact_constants = {json.dumps(made)}, not {json.dumps(wanted_exact)} (--exact-constants)")
    origin = cert["signal"].get("origin") or {}
    if origin.get("index") != job.index:
        raise other(f"signal {origin.get('index')}, not {job.index}")
    if job.output is not None:
        if origin.get("signal_sha256") != job.origin.get("signal_sha256"):
            raise other(f"another given signal at row {job.index}")
    elif cert["signal"].get("latent") != jsonable(list(job.latent or ())):
        raise other(f"another latent at index {job.index} (other --seed?)")
    return cert
