"""Certificates: one JSON document per signal, in the format :mod:`theorychk.check` re-verifies.

A certificate holds the model's identity (fingerprint, widths, activations, per-layer digests) and
how it was read (source, the source file's sha256, the reading options -- so that
``theorychk check CERT`` can re-read it alone), the signal
(the latent ``z*`` as exact rationals, the exact output ``y = G(z*)`` — or, after a smooth last
activation, its exact pre-activation with the float output for reference — the supports, and
how the signal was obtained), the parameters (noise level, latent box, MILP distance) and the
claims of :mod:`theorychk.certify.signal` and :mod:`theorychk.certify.stability` (plus the
model's global-injectivity claims when :mod:`theorychk.certify.injectivity` is available).
Format reference: ``docs/certificates.md``; JSON Schema: ``certificates/schema.json``.

Examples
--------
>>> from theorychk.network import Layer, Network
>>> net = Network([Layer([[1.0], [-1.0], [2.0]], None, "relu")])
>>> cert = build_certificate(net, [Fraction(1, 2)], source="inline", kinds=("polytope", "lei_thm2"))
>>> [(c["kind"], c["status"]) for c in cert["claims"]]
[('polytope', 'CERTIFIED'), ('lei_thm2', 'CERTIFIED')]
>>> from theorychk.check.core import check_certificate
>>> check_certificate(cert, net).verdict
'VERIFIED'
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from theorychk import exact
from theorychk.certify.signal import (
    PRINTED_FRACTION, PRINTED_SECONDS, STATEMENTS as UNIQUENESS_STATEMENTS, UNIQUENESS_KINDS, check_certifiable,
    exact_preimage, make_claim, printed_budget, printed_scan_is_small, printed_claim, refute_with, uniqueness_claims,
)
from theorychk.certify.stability import STABILITY_KINDS, STATEMENTS as STABILITY_STATEMENTS, stability_claims
from theorychk.check import FORMAT, VERSION
from theorychk.check.core import trace
from theorychk.errors import InvalidInput
from theorychk.io import ModelSource, layer_digests
from theorychk.network import Network
from theorychk.runtime import DEFAULT_TIME_LIMIT, TIME_LIMIT_REASON, Deadline, TimeLimitReached
from theorychk.verdict import Status, jsonable

__all__ = [
    "ALL_KINDS", "DEFAULT_NOISE", "build_certificate", "model_section", "sample_latents", "signal_from_output",
    "claim_label", "count_claims", "write_certificate", "global_injectivity",
]

ALL_KINDS = UNIQUENESS_KINDS + STABILITY_KINDS
#: Default noise level of the stability claims (exact): 1/1000.
DEFAULT_NOISE = Fraction(1, 1000)


def sample_latents(net: Network, n: int, seed: int) -> list[list[Fraction]]:
    """``n`` latents ``z ~ N(0, I)`` from ``numpy.random.default_rng(seed)``, rounded to float32
    (short exact dyadic rationals)."""
    if not (isinstance(n, int) and n >= 1):
        raise InvalidInput(f"samples must be a positive integer; got {n!r}", argument="samples", got=n)
    rng = np.random.default_rng(seed)
    zs = rng.standard_normal((n, net.latent_dim)).astype(np.float32)
    return [[Fraction(float(v)) for v in z] for z in zs]


def build_certificate(
    net: Network,
    latent: Sequence[Any],
    *,
    source: str | ModelSource,
    origin: dict[str, Any] | None = None,
    kinds: Sequence[str] = ALL_KINDS,
    noise: Fraction = DEFAULT_NOISE,
    latent_box: Fraction = Fraction(10),
    delta: Fraction = Fraction(1, 1000),
    complete_box: Fraction | None = None,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    deadline: Deadline | None = None,
    as_printed: bool = True,
    printed_fraction: float = PRINTED_FRACTION,
    printed_seconds: float | None = PRINTED_SECONDS,
    extra_claims: Sequence[dict[str, Any]] = (),
    exact_constants: bool = False,
) -> dict[str, Any]:
    """Certify the signal ``G(latent)`` and return the certificate (JSON-ready dict).

    ``source`` says where ``net`` came from: a :class:`~theorychk.io.ModelSource`
    (``ModelSource.of(path, layers=..., activation=...)``) records the file, its sha256 and the
    reading options, so that ``theorychk check CERT`` can re-read the model alone; a plain string
    is only a label (checking then needs ``--model``, or reads that path with no options).

    ``time_limit`` (seconds, default :data:`~theorychk.runtime.DEFAULT_TIME_LIMIT`; ``None``: no
    limit) bounds the wall time of the whole signal, all claims together; a ``deadline`` already
    running (the CLI's, which also paid for inverting the signal) replaces it. Claims decided
    before it passes keep their result; the others end UNKNOWN ``Reason.TIME_LIMIT``. ``extra_claims``
    (e.g. global injectivity) are appended as they are.

    ``latent_box`` is the MILP claim's box; ``complete_box`` (``None``: all of ``R^k``) the latent box
    ``||z||_inf <= R`` in which the ``complete`` claim decides uniqueness (its statement and
    evidence say which).

    The as-printed variant of ``aberdam_thm1`` (``as_printed``) runs after every other claim,
    within its own budget: ``printed_fraction`` of the time limit, at most ``printed_seconds``, at
    most a tenth of the time the other claims took (since this call began: not the inversion a running
    ``deadline`` also paid for), at least 0.25 s, on small nets (2 % and 0.002 s
    on nets whose hyperplane scans exceed 10**6 candidates), never past the deadline
    (:func:`~theorychk.certify.signal.printed_budget`).

    ``exact_constants``: the ``c_inf`` / ``c_1`` constants of ``lei_linf`` / ``lei_l1`` exactly
    wherever the exact engines reach, not only where that is cheap (by default the certified lower
    bound the guarantee needs; each layer states ``"constant": "exact"`` or ``"lower_bound"``;
    :func:`~theorychk.certify.stability.c_lower_bound`). The certificate's ``generator`` records it.
    """
    # This signal's own work starts here: the printed budget's ``spent`` is measured from it, not from a
    # ``deadline`` that may also have paid for inverting the signal (certify --signals).
    started = Deadline(None)
    check_certifiable(net)
    unknown = sorted(set(kinds) - set(ALL_KINDS))
    if unknown:
        raise InvalidInput(f"unknown claim kind(s) {', '.join(unknown)}; valid: {', '.join(ALL_KINDS)}",
                           argument="kinds", got=unknown)
    z = [exact.rational(v) for v in latent]
    if len(z) != net.latent_dim:
        raise InvalidInput(f"latent must have length {net.latent_dim}; got {len(z)}",
                           argument="latent", got=len(z))
    noise, latent_box, delta = Fraction(noise), Fraction(latent_box), Fraction(delta)
    complete_box = None if complete_box is None else Fraction(complete_box)
    if complete_box is not None and complete_box <= 0:
        raise InvalidInput(f"complete_box must be positive (or None: R^k); got {complete_box}",
                           argument="complete_box", got=complete_box)
    deadline = deadline if deadline is not None else Deadline(time_limit)
    tr = trace(net, z)  # the checker's own exact trace (its integer form drives the sign tests)

    def within_budget(kind: str, compute: Any) -> list[dict[str, Any]]:
        # One claim kind at a time, so that a deadline passing inside one keeps the others' results.
        try:
            return compute()
        except TimeLimitReached:
            return _timed_out(kind, noise=noise, latent_box=latent_box, delta=delta, complete_box=complete_box)

    # The MILP takes whatever time is left, so it runs last of the decisive claims; its witness
    # then refutes the others. The as-printed hypotheses decide nothing: after all, on a budget.
    claims: list[dict[str, Any]] = []
    for kind in (k for k in kinds if k in UNIQUENESS_KINDS and k != "milp_global"):
        claims += within_budget(kind, lambda kind=kind: uniqueness_claims(
            net, tr, kinds=[kind], latent_box=latent_box, delta=delta, deadline=deadline, as_printed=False,
            complete_box=complete_box))
    for kind in (k for k in kinds if k in STABILITY_KINDS):
        claims += within_budget(kind, lambda kind=kind: stability_claims(tr, noise=noise, kinds=[kind],
                                                                         deadline=deadline,
                                                                         exact_constants=exact_constants))
    done = next((c for c in claims if c["kind"] == "complete" and c["status"] != "UNKNOWN"), None)
    if done is not None and done["status"] == "REFUTED":
        refute_with(claims, tr, [exact.rational(v) for v in done["evidence"]["second_latent"]],
                    found_by="the complete search")
    # The MILP still runs when ``complete`` decided (its claim is a different one: solver evidence in
    # the box at distance >= delta); leave it out with --claims when ``complete`` suffices.
    if "milp_global" in kinds:
        milp = within_budget("milp_global", lambda: uniqueness_claims(
            net, tr, kinds=["milp_global"], latent_box=latent_box, delta=delta, deadline=deadline))[0]
        if milp["status"] == "REFUTED":
            refute_with(claims, tr, [exact.rational(v) for v in milp["evidence"]["second_latent"]])
        claims.append(milp)
    per_signal = next((c for c in claims if c["kind"] == "aberdam_thm1"), None)
    if as_printed and per_signal is not None:
        budget = printed_budget(deadline, fraction=printed_fraction, seconds=printed_seconds,
                                spent=started.elapsed(), small=printed_scan_is_small(net))
        try:
            claims.append(printed_claim(tr, per_signal, budget=budget))
        except TimeLimitReached:  # an engine that checks the budget itself
            claims.append(printed_claim(tr, per_signal, budget=None))
    claims.sort(key=lambda c: ALL_KINDS.index(c["kind"]))  # stable: variants keep their order
    signal: dict[str, Any] = {"latent": z, "supports": [tr.support(j) for j in range(net.depth)]}
    if tr.outputs[-1] is not None:
        signal["output"] = list(tr.outputs[-1])
    else:
        signal["output_pre_activation"] = list(tr.pre[-1])
        signal["output_float"] = [float.hex(float(v)) for v in net.forward(np.array([float(v) for v in z]))]
    signal["origin"] = origin or {"how": "given latent"}
    cert = {
        "format": FORMAT,
        "version": VERSION,
        "model": model_section(net, source),
        "signal": signal,
        "parameters": {"noise": noise, "latent_box": latent_box, "delta": delta, "time_limit": deadline.seconds,
                       "kinds": list(kinds)},
        "claims": claims + list(extra_claims),
    }
    # Never read by the checker: for people (elapsed_seconds, a plain JSON number, not an exact hex
    # float) and for `certify --resume`, which redoes no signal made with other exact_constants.
    generator = {"program": "theorychk", "elapsed_seconds": round(started.elapsed(), 3),
                 "exact_constants": bool(exact_constants)}
    return jsonable(cert) | {"generator": generator}


def _timed_out(kind: str, *, noise: Fraction, latent_box: Fraction, delta: Fraction,
               complete_box: Fraction | None = None) -> list[dict[str, Any]]:
    """The UNKNOWN ``Reason.TIME_LIMIT`` claim(s) of ``kind`` whose engine the deadline interrupted."""
    if kind in STABILITY_KINDS:
        key = "sigma" if kind == "aberdam_oracle" else "noise"
        return [make_claim(kind, Status.UNKNOWN, statement=STABILITY_STATEMENTS[kind], evidence={key: noise},
                           reason=TIME_LIMIT_REASON)]
    if kind == "milp_global":
        return [make_claim(kind, Status.UNKNOWN, statement=UNIQUENESS_STATEMENTS[kind],
                           evidence={"delta": delta, "latent_box": latent_box}, reason=TIME_LIMIT_REASON)]
    if kind == "complete":
        from theorychk.certify.complete import statement

        return [make_claim(kind, Status.UNKNOWN, statement=statement(complete_box),
                           evidence={"latent_box": complete_box}, reason=TIME_LIMIT_REASON)]
    if kind == "aberdam_thm1":  # the as-printed variant is made afterwards, on its own budget
        return [make_claim(kind, Status.UNKNOWN, variant="per_signal", statement=UNIQUENESS_STATEMENTS[kind],
                           reason=TIME_LIMIT_REASON)]
    return [make_claim(kind, Status.UNKNOWN, statement=UNIQUENESS_STATEMENTS[kind], reason=TIME_LIMIT_REASON)]


def model_section(net: Network, source: str | ModelSource) -> dict[str, Any]:
    """The certificate's ``model``: what the network is (fingerprint, widths, activations, dtype,
    per-layer digests; for a convolutional net ``layers``, each layer's kind and convolution
    geometry -- never a dense matrix) and, for a :class:`~theorychk.io.ModelSource`, how it was read."""
    section: dict[str, Any] = {
        "fingerprint": net.fingerprint(), "widths": list(net.widths), "name": net.name,
        "activations": [layer.activation.spec for layer in net.layers], "dtype": net.dtype,
        "layer_sha256": layer_digests(net),
    }
    if any(layer.conv is not None for layer in net.layers):
        # The checker builds each convolution's matrix itself from the kernel and this geometry.
        section["layers"] = [{"kind": "linear"} if layer.conv is None else layer.conv.geometry()
                             for layer in net.layers]
    if isinstance(source, ModelSource):
        section.update(source.to_dict())
    elif isinstance(source, str):
        section["source"] = source
    else:
        raise InvalidInput(f"source must be a ModelSource or a string; got {type(source).__name__}",
                           argument="source", got=type(source).__name__)
    return section


def signal_from_output(
    net: Network,
    y: np.ndarray,
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    deadline: Deadline | None = None,
    latent_box: float = 10.0,
    signal_tol: float | None = None,
    milp_max_units: int = 400,
) -> tuple[list[Fraction] | None, dict[str, Any]]:
    """Invert a given signal: ``(latent, origin)``; ``latent`` is ``None`` when ``y`` is not
    realizable within the signal tolerance.

    MILP (``method="milp"``) on small nets, else the l_inf LP (``"linf"``), read with the signal
    tolerance (:func:`theorychk.solvers.base.signal_tolerance`: from the model's dtype unless
    ``signal_tol`` is given): ``y`` is realizable when the inversion is SOLVED, i.e.
    ``‖y − G(ẑ)‖₂ ≤ signal_tol``. The float latent is then made exact on its activation pattern
    with target ``y``; if that reproduces ``y`` exactly the claims are about ``y`` itself
    (``origin["certifies"] = "given"``), otherwise they are about the realizable point
    ``G(z*)`` for the recovered ``z*`` (``"nearest_realizable"``), ``origin["signal_offset"]``
    from ``y``. Never about an unrealizable ``y``: the checker re-derives ``G(z*)`` from ``z*``.
    ``origin["realizable"]`` is ``False`` only when the inversion proved ``y`` farther than the
    tolerance from the range (INFEASIBLE); a time limit or a method that found no fit within it
    leaves it ``None`` (undecided). ``deadline`` (else ``time_limit`` seconds) bounds the inversion.
    """
    from theorychk.solvers import invert

    y = np.asarray(y, dtype=np.float64)
    method = "milp" if sum(net.widths[1:]) <= milp_max_units else "linf"
    opts = {"latent_box": latent_box} if method == "milp" else {}
    deadline = deadline if deadline is not None else Deadline(time_limit)
    inv = invert(net, y, method=method, time_limit=deadline.limit(), signal_tol=signal_tol, **opts)
    origin: dict[str, Any] = {"how": "inverted a given signal", "method": method, "status": inv.status.value,
                              "residual_linf": float(inv.residual_linf), "signal_offset": float(inv.signal_offset),
                              "signal_tol": float(inv.signal_tol), "tolerance": inv.tolerance}
    if inv.status.value == "UNKNOWN" and inv.reason == TIME_LIMIT_REASON:
        origin["realizable"] = None  # undecided: the inversion ran out of time, which proves nothing
        origin["reason"] = TIME_LIMIT_REASON
        return None, origin
    if inv.status.value != "SOLVED":
        # only INFEASIBLE proves y farther than the tolerance from the range
        origin["realizable"] = False if inv.status.value == "INFEASIBLE" else None
        origin["reason"] = inv.reason or f"{inv.status.value}: best-fit offset {inv.signal_offset:.3g}"
        return None, origin
    origin["realizable"] = True
    if net.layers[-1].activation.piecewise_linear:
        z = exact_preimage(net, inv.latent, target_out=[Fraction(float(v)) for v in y])
        if z is not None:
            origin["exact"] = True
            origin["certifies"] = "given"
            origin["signal_offset"] = 0.0
            return z, origin
    origin["exact"] = False
    origin["certifies"] = "nearest_realizable"
    origin["note"] = ("y is reproduced within signal_tol, not exactly: the claims are about G(z*) for the "
                      "recovered z* (signal.output), signal_offset = ||y - G(z*)||_2 away from y")
    z = [Fraction(float(v)) for v in inv.latent]
    origin["signal_offset"] = float(np.linalg.norm(net.forward(np.array([float(v) for v in z])) - y))
    return z, origin


def global_injectivity(net: Network, *, time_limit: float | None, seed: int | None) -> Any | None:
    """The global-injectivity report (:mod:`theorychk.certify.injectivity`) when that engine exists, else ``None``."""
    try:
        from theorychk.certify import injectivity
    except ModuleNotFoundError as exc:
        if exc.name != "theorychk.certify.injectivity":
            raise
        return None
    return injectivity.network_injectivity(net, time_limit=time_limit, seed=seed)


def claim_label(claim: dict[str, Any]) -> str:
    """``kind`` plus its variant, if any: the row name of summaries."""
    return claim["kind"] + (f" ({claim['variant']})" if claim.get("variant") else "")


def count_claims(certs: Sequence[dict[str, Any]], kinds: Sequence[str] = ALL_KINDS) -> dict[str, dict[str, int]]:
    """Per claim label (of the per-signal ``kinds``), how many certificates have it CERTIFIED / REFUTED / UNKNOWN."""
    counts: dict[str, Counter] = {}
    for cert in certs:
        for c in cert["claims"]:
            if c["kind"] in kinds:
                counts.setdefault(claim_label(c), Counter())[c["status"]] += 1
    return {k: {s: v.get(s, 0) for s in ("CERTIFIED", "REFUTED", "UNKNOWN")} for k, v in counts.items()}


_DYADIC = re.compile(r"(-?\d+)/(\d+)")


def _compact_rational(text: str) -> str:
    """``"p/q"`` with ``q`` a power of two and ``p/q`` a float64 as exact float hex when that is
    shorter (the checker reads both forms exactly): float weights and float LP multipliers are
    dyadic, and their ``p/q`` form spends ~35 characters where hex needs ~20."""
    m = _DYADIC.fullmatch(text)
    if m is None:
        return text
    p, q = int(m.group(1)), int(m.group(2))
    if q & (q - 1) or abs(p).bit_length() > 53 or q.bit_length() > 1000:
        return text
    h = (p / q).hex()
    return h if len(h) < len(text) and Fraction(float.fromhex(h)) == Fraction(p, q) else text


def compact_evidence(obj: Any) -> Any:
    """Every rational string in ``obj`` (a claim's evidence) in its shortest exact form."""
    if isinstance(obj, str):
        return _compact_rational(obj)
    if isinstance(obj, list):
        return [compact_evidence(v) for v in obj]
    if isinstance(obj, dict):
        return {k: compact_evidence(v) for k, v in obj.items()}
    return obj


def write_certificate(cert: dict[str, Any], path: str | Path) -> Path:
    """Write ``cert`` as one line of compact JSON, evidence rationals in their shortest exact form
    (``python -m json.tool CERT`` or ``jq .`` indents it for reading)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    out = dict(cert)
    out["claims"] = [
        {**c, "evidence": compact_evidence(c["evidence"])} if isinstance(c, dict) and "evidence" in c else c
        for c in cert.get("claims", [])
    ]
    p.write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
    return p
