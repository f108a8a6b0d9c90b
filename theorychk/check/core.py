"""Checking a whole certificate: structure, model identity, the signal, then every claim.

:func:`check_certificate` trusts nothing in the certificate except what it re-derives: it
recomputes the exact forward pass from the latent ``z*`` (rationals), compares the recorded
output, pre-activations and supports with it, and hands each claim to its verifier together
with that exact :class:`Trace`. Any missing field, malformed number, unknown kind or
fingerprint mismatch is a REJECTED finding with its reason (fail closed).
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import flint
import numpy as np

from theorychk.check import FORMAT, REFUTABLE, SCOPES, VERIFIERS, VERSION, CheckReport, ClaimCheck, Outcome
from theorychk.check import exactnet
from theorychk.check.activations import activation_enclosure
from theorychk.check.intmat import (
    IntLayer, IntProduct, full_column_rank, gram_full_rank_mod, int_product, integer_layers, submatrix,
)
from theorychk.check.model import ModelRead, load_recorded, model_problem, recorded_source
from theorychk.check.rationals import need, parse_indices, parse_rational, parse_vector
from theorychk.errors import CertificateError, InvalidInput
from theorychk.network import Network
from theorychk.verdict import Status

__all__ = ["Trace", "trace", "check_certificate", "check_file", "check_path", "certificate_paths", "read_certificate"]

#: Modules whose import registers verifiers; a missing optional one leaves its kinds unknown (REJECTED).
_VERIFIER_MODULES = ("theorychk.check.signal", "theorychk.check.complete", "theorychk.check.stability", "theorychk.check.injectivity")
#: Keys a certificate, its signal, its parameters and its claims may hold (anything else is
#: REJECTED: a field the checker does not know could carry a meaning it does not check).
_KEYS = {
    "certificate": {"format", "version", "model", "signal", "parameters", "claims", "generator"},
    "signal": {"latent", "output", "output_pre_activation", "output_float", "supports", "origin"},
    "parameters": {"noise", "latent_box", "delta", "time_limit", "kinds"},
    "claim": {"kind", "variant", "status", "statement", "hypotheses", "evidence_kind", "evidence", "reason",
              "layer", "method", "domain"},
}
#: ``signal.output_float`` (the float ``y`` after a smooth last activation, for reference) must lie
#: within this absolute distance of the exact ``phi(pre-activation)``.
OUTPUT_FLOAT_TOL = Fraction(1, 2**30)
#: Per claim kind, the ``(parameter, evidence field)`` pairs that must be equal.
_BOUND_PARAMETERS = {
    "lei_linf": (("noise", "noise"),), "lei_l1": (("noise", "noise"),), "aberdam_thm2": (("noise", "noise"),),
    "aberdam_oracle": (("noise", "sigma"),), "milp_global": (("latent_box", "latent_box"), ("delta", "delta")),
}


def _load_verifiers() -> None:
    for name in _VERIFIER_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


@dataclass(frozen=True)
class Trace:
    """The exact forward pass of ``z*``: ``inputs[j] = x_j``, ``pre[j] = W_j x_j + b_j``,
    ``outputs[j] = x_{j+1}`` (``None`` after a smooth activation), ``specs[j]`` the activation.
    ``ints[j]`` is layer ``j`` in integer form (:func:`theorychk.check.intmat.integer_layers`)."""

    net: Network
    inputs: tuple[tuple[Fraction, ...], ...]
    pre: tuple[tuple[Fraction, ...], ...]
    outputs: tuple[tuple[Fraction, ...] | None, ...]
    specs: tuple[str, ...]
    ints: tuple[IntLayer, ...] = field(default=(), compare=False, repr=False)
    #: The same pass on integers (:func:`theorychk.check.exactnet.forward_ints`), for fast sign tests;
    #: :func:`trace` always sets it (the sign tests read only it).
    nums: tuple[exactnet.IntPass, ...] = field(default=(), compare=False, repr=False)
    #: Submatrices and rank verdicts asked for more than once (several claims share row sets).
    _memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, compare=False, repr=False)

    def relu(self, j: int) -> bool:
        return self.specs[j] == "relu"

    def sparse_input(self, j: int) -> bool:
        """``x_j`` is a ReLU output: nonnegative, with zeros where layer ``j - 1`` is off."""
        return j > 0 and self.relu(j - 1)

    def observed_rows(self, j: int) -> list[int]:
        """Rows of ``W_j`` whose pre-activation the output determines: the support after a ReLU, else all."""
        if self.relu(j):
            return self.above(j, Fraction(0))
        return list(range(self.net.widths[j + 1] if j >= 0 else self.net.widths[j]))

    def exact_output(self, j: int) -> bool:
        """Has ``x_{j+1}`` an exact value (the activation is piecewise linear)?"""
        return self.nums[j][2] is not None

    def above(self, j: int, threshold: Fraction) -> list[int]:
        """Units whose output ``x_{j+1}`` exceeds ``threshold`` (memoized: every claim asks)."""
        key = ("above", j % len(self.outputs), threshold)
        if key not in self._memo:
            self._memo[key] = tuple(_greater(self.nums[j][2], threshold))
        return list(self._memo[key])

    def support(self, j: int) -> list[int]:
        """Units of layer ``j`` that are on (pre-activation > 0)."""
        key = ("support", j % len(self.pre))
        if key not in self._memo:
            self._memo[key] = tuple(_greater(self.nums[j][1], Fraction(0)))
        return list(self._memo[key])

    def int_layer(self, j: int) -> IntLayer:
        return self.ints[j] if self.ints else integer_layers(self.net)[j]

    def integer_weight(self, j: int) -> tuple[list[list[int]], Fraction]:
        """``W_j = scale * Z`` with integer rows ``Z`` (computed once per layer content and shared by
        every certificate of the model: never modify the rows)."""
        layer = self.int_layer(j)
        return layer.rows, layer.scale

    def int_matrix(self, j: int, rows: list[int] | None = None, cols: list[int] | None = None) -> Any:
        """Integer form of ``W_j[rows, cols]``: a flint ``fmpz_mat`` (scale of :meth:`integer_weight`);
        shared between callers, so never modify it in place."""
        layer = self.int_layer(j)
        if (rows is None or self._all_rows(j, rows)) and cols is None:
            return layer.z  # cached with the layer, across certificates
        key = ("sub", j, None if rows is None else tuple(rows), None if cols is None else tuple(cols))
        if key not in self._memo:
            self._memo[key] = submatrix(layer, rows, cols)
        return self._memo[key]

    def _all_rows(self, j: int, rows: list[int]) -> bool:
        n = self.int_layer(j).shape[0]
        return len(rows) == n and all(r == i for i, r in enumerate(rows))

    def weight(self, j: int, rows: list[int] | None = None, cols: list[int] | None = None) -> Any:
        """``W_j[rows, cols]`` exactly, as a flint ``fmpq_mat``."""
        scale = self.int_layer(j).scale
        q = flint.fmpq_mat(self.int_matrix(j, rows, cols))
        return q * flint.fmpq(scale.numerator, scale.denominator) if scale != 1 else q

    def gram(self, j: int, rows: list[int], cols: list[int] | None = None) -> IntProduct:
        """``Z^T Z`` for the integer submatrix ``Z = Z_j[rows, cols]`` (``W_j[rows, cols]^T W_j[rows, cols] =
        scale**2 Z^T Z``), exactly (:class:`~theorychk.check.intmat.IntProduct`), shared between callers."""
        key = ("gram", j, tuple(rows), None if cols is None else tuple(cols))
        if key not in self._memo:
            a = self.int_layer(j).array[list(rows)] if rows else self.int_layer(j).array[:0]
            if cols is not None:
                a = a[:, list(cols)] if cols else a[:, :0]
            self._memo[key] = int_product(np.ascontiguousarray(a.T), np.ascontiguousarray(a))
        return self._memo[key]

    def full_rank(self, j: int, rows: list[int]) -> bool:
        """Exact: do the rows ``rows`` of ``W_j`` have full column rank? (Full mod a prime settles it:
        the Gram matrix nonsingular mod the prime, else the rows' rank mod the prime, else over Q.)"""
        if self._all_rows(j, rows):
            return self.int_layer(j).rank == self.net.widths[j]  # cached with the layer
        key = ("rank", j, tuple(rows))
        if key not in self._memo:
            layer = self.int_layer(j)
            res = layer.residues
            self._memo[key] = len(rows) >= self.net.widths[j] and (
                gram_full_rank_mod(layer.array[list(rows)], residues=None if res is None else res[list(rows)])
                or full_column_rank(self.int_matrix(j, rows)))
        return self._memo[key]


def _greater(ints: tuple[list[int], int] | None, t: Fraction) -> list[int]:
    """Indices ``r`` with ``U_r / D > t`` for the integer form ``ints = (U, D)`` of a vector
    (``D > 0``): ``U_r / D > p / q`` iff ``U_r q > p D``. ``None`` (no exact value): none."""
    if ints is None:
        return []
    nums, den = ints
    p, q = t.numerator, t.denominator
    if p == 0:
        return [r for r, v in enumerate(nums) if v > 0]
    pd = p * den
    return [r for r, v in enumerate(nums) if v * q > pd]


def trace(net: Network, latent: list[Fraction]) -> Trace:
    """Exact forward pass (hidden activations must be piecewise linear), on integers
    (:mod:`theorychk.check.exactnet`)."""
    specs = tuple(layer.activation.spec for layer in net.layers)
    ints = integer_layers(net)
    nums = exactnet.forward_ints(ints, specs, latent)
    if len(nums) < net.depth:  # the pass stopped at a smooth hidden activation
        j = len(nums) - 1
        raise CertificateError(f"hidden layer {j} has smooth activation {specs[j]!r}: no exact forward pass")
    inputs, pre, outputs = (_Lazy([p[i] for p in nums]) for i in range(3))
    return Trace(net, inputs, pre, outputs, specs, ints, tuple(nums))  # type: ignore[arg-type]


class _Lazy(Sequence):
    """Per layer, an exact vector as a tuple of Fractions, made on first access from its integer
    form ``(U, D)`` (``None`` stays ``None``): sign tests read the integers, and most claims read the
    Fractions of a few layers only."""

    __slots__ = ("_ints", "_made")

    def __init__(self, ints: list[tuple[list[int], int] | None]) -> None:
        self._ints = ints
        self._made: list[tuple[Fraction, ...] | None] = [None] * len(ints)

    def __len__(self) -> int:
        return len(self._ints)

    def __getitem__(self, j: Any) -> Any:
        if isinstance(j, slice):
            return tuple(self[i] for i in range(*j.indices(len(self))))
        j = range(len(self))[j]  # IndexError out of range, negative indices from the end
        if self._made[j] is None and self._ints[j] is not None:
            self._made[j] = exactnet._fractions(*self._ints[j])  # type: ignore[misc]
        return self._made[j]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]


def _check_signal(cert: dict[str, Any], net: Network) -> Trace:
    sig = need(cert, "signal", dict, "certificate")
    _known_keys(sig, "signal")
    tr = trace(net, parse_vector(need(sig, "latent", list, "signal"), net.latent_dim, "signal.latent"))
    out, pre = sig.get("output"), sig.get("output_pre_activation")
    if out is None and pre is None:
        raise CertificateError("signal: needs 'output' or 'output_pre_activation'")
    if out is not None:
        if not tr.exact_output(-1):
            raise CertificateError(f"signal.output: a {tr.specs[-1]} output has no exact value; "
                                   "give output_pre_activation")
        if not _equals_exact(out, tr.nums[-1][2], lambda: tr.outputs[-1], "signal.output"):
            raise CertificateError("signal.output does not equal G(latent) (exact forward pass)")
    where = "signal.output_pre_activation"
    if pre is not None and not _equals_exact(pre, tr.nums[-1][1], lambda: tr.pre[-1], where):
        raise CertificateError("signal.output_pre_activation does not equal the exact last pre-activation")
    if "output_float" in sig:
        _check_output_float(sig["output_float"], tr)
    sups = need(sig, "supports", list, "signal")
    if len(sups) != net.depth:
        raise CertificateError(f"signal.supports: expected {net.depth} layers, got {len(sups)}")
    for j, s in enumerate(sups):
        if parse_indices(s, tr.net.widths[j + 1], f"signal.supports[{j}]") != tr.support(j):
            raise CertificateError(f"signal.supports[{j}] does not match the exact forward pass")
    return tr


def _equals_exact(value: Any, ints: tuple[list[int], int] | None, exact: Callable[[], tuple[Fraction, ...]],
                  where: str) -> bool:
    """Does the certificate's list ``value`` equal the exact vector (``exact()``, of integer form
    ``ints``)? First against the canonical spellings ``"p/q"`` / ``"p"`` (lowest terms, what
    ``str(Fraction)`` writes and certify records; equal strings are equal numbers), else entry by
    entry after the strict parse (any exact spelling)."""
    if ints is not None and isinstance(value, list) and len(value) == len(ints[0]) and value == _canonical(*ints):
        return True
    want = exact()
    return parse_vector(value, len(want), where) == list(want)


def _canonical(nums: list[int], den: int) -> list[str]:
    out = []
    for v in nums:
        g = math.gcd(v, den)
        n, d = v // g, den // g
        out.append(str(n) if d == 1 else f"{n}/{d}")
    return out


def _known_keys(obj: dict[str, Any], what: str) -> None:
    extra = sorted(set(obj) - _KEYS[what])
    if extra:
        raise CertificateError(f"{what}: unknown field {extra[0]!r} (the checker rejects what it cannot check)")


def _check_output_float(value: Any, tr: Trace) -> None:
    """``output_float`` is bound to the exact output: within :data:`OUTPUT_FLOAT_TOL` of it."""
    if tr.outputs[-1] is not None:
        raise CertificateError("signal.output_float: only after a smooth last activation (give 'output')")
    got = parse_vector(value, len(tr.pre[-1]), "signal.output_float")
    for i, (f, u) in enumerate(zip(got, tr.pre[-1])):
        lo, hi = activation_enclosure(tr.specs[-1], u)
        if not lo - OUTPUT_FLOAT_TOL <= f <= hi + OUTPUT_FLOAT_TOL:
            raise CertificateError(f"signal.output_float[{i}] is farther than {OUTPUT_FLOAT_TOL} from the exact "
                                   f"{tr.specs[-1]} of the last pre-activation")


def _check_parameters(cert: dict[str, Any]) -> None:
    """``parameters`` is a header; each entry (but ``time_limit``) must equal what the claims use."""
    if "parameters" not in cert:
        return
    par = need(cert, "parameters", dict, "certificate")
    _known_keys(par, "parameters")
    claims = [c for c in cert["claims"] if isinstance(c, dict)]
    per_signal = {c.get("kind") for c in claims if getattr(VERIFIERS.get(c.get("kind")), "wants_trace", False)}
    known = all(isinstance(c.get("kind"), str) and c["kind"] in VERIFIERS for c in claims)  # else that claim rejects
    if "kinds" in par and known and (not isinstance(par["kinds"], list) or set(map(str, par["kinds"])) != per_signal):
        raise CertificateError(f"parameters.kinds {par['kinds']!r:.120} do not match the per-signal claims "
                               f"present {sorted(per_signal)}")
    for c in claims:
        ev = c.get("evidence")
        for key, name in _BOUND_PARAMETERS.get(c.get("kind"), ()):
            if key in par and isinstance(ev, dict) and name in ev:
                value = parse_rational(par[key], f"parameters.{key}")
                try:
                    used = parse_rational(ev[name], name)
                except CertificateError:
                    continue  # the claim's verifier rejects it (an UNKNOWN claim asserts nothing)
                if value != used:
                    raise CertificateError(f"parameters.{key} = {value} but claim {c['kind']} uses {name} = {used}")


def check_certificate(cert: Any, net: Network, read: ModelRead | None = None) -> CheckReport:
    """Re-verify ``cert`` against ``net``; see the module docstring. Never raises on bad content.

    ``read`` (how ``net`` was read) lets a model mismatch name the reading option that differs.
    """
    fp = net.fingerprint()

    def rejected(reason: str) -> CheckReport:
        return CheckReport(fp, (ClaimCheck("certificate", Outcome.REJECTED, reason),))

    try:
        if not isinstance(cert, dict):
            raise CertificateError(f"certificate must be a JSON object, got {type(cert).__name__}")
        if cert.get("format") != FORMAT or cert.get("version") != VERSION:
            raise CertificateError(f"not a {FORMAT} version {VERSION} (format={cert.get('format')!r}, "
                                   f"version={cert.get('version')!r})")
        _known_keys(cert, "certificate")
        model = need(cert, "model", dict, "certificate")
        problem = model_problem(model, net, read)
        if problem:
            raise CertificateError(problem)
        tr = _check_signal(cert, net)
        claims = need(cert, "claims", list, "certificate")
        if not claims:
            raise CertificateError("certificate has no claims")
        _load_verifiers()
        _check_parameters(cert)
    except (CertificateError, InvalidInput) as exc:
        return rejected(str(exc))
    except Exception as exc:  # noqa: BLE001 - fail closed: anything unexpected rejects
        return rejected(f"malformed certificate ({type(exc).__name__}: {exc})")
    findings = [_check_claim(c, i, tr, cert) for i, c in enumerate(claims)]
    return CheckReport(fp, tuple(_contradictions(claims, findings, tr)))


def _check_claim(claim: Any, i: int, tr: Trace, cert: dict[str, Any]) -> ClaimCheck:
    """One claim: the status against its evidence (CERTIFIED needs the proof, REFUTED an exact
    witness, UNKNOWN asserts nothing), and ``evidence_kind`` against what the checker could do."""
    kind = claim.get("kind") if isinstance(claim, dict) else None
    label = kind if isinstance(kind, str) else f"claims[{i}]"
    if not isinstance(kind, str) or kind not in VERIFIERS:
        return ClaimCheck(label, Outcome.REJECTED, f"unknown claim kind {kind!r}")
    try:
        _known_keys(claim, "claim")
        status = Status(claim.get("status"))
    except (CertificateError, ValueError) as exc:
        why = str(exc) if isinstance(exc, CertificateError) else \
            f"claim status must be one of {', '.join(Status)}; got {claim.get('status')!r}"
        return ClaimCheck(label, Outcome.REJECTED, why)
    declared = claim.get("evidence_kind", "exact")
    if declared not in ("exact", "solver"):
        return ClaimCheck(label, Outcome.REJECTED, f"evidence_kind must be 'exact' or 'solver'; got {declared!r}")
    if status is Status.UNKNOWN:
        return ClaimCheck(label, Outcome.NO_CLAIM, str(claim.get("reason", "")))
    if status is Status.REFUTED and kind not in REFUTABLE:
        return ClaimCheck(label, Outcome.REJECTED, f"{kind}: REFUTED needs an exact witness, and {kind} claims "
                                                   "have no witness format")
    try:
        # Our verifiers take the exact trace (it carries the network); others take the network.
        arg = tr if getattr(VERIFIERS[kind], "wants_trace", False) else tr.net
        found = VERIFIERS[kind](claim, arg, cert)
    except (CertificateError, InvalidInput) as exc:
        return ClaimCheck(label, Outcome.REJECTED, str(exc))
    except Exception as exc:  # noqa: BLE001 - fail closed: a verifier that trips on the evidence rejects it
        return ClaimCheck(label, Outcome.REJECTED, f"malformed evidence ({type(exc).__name__}: {exc})")
    if found.outcome is Outcome.NOT_CHECKABLE and (status is Status.REFUTED or declared != "solver"):
        return ClaimCheck(label, Outcome.REJECTED, f"{kind}: only a CERTIFIED claim with evidence_kind 'solver' "
                                                   "may rest on evidence the checker cannot re-derive")
    if found.outcome is Outcome.VERIFIED and declared != "exact":
        return ClaimCheck(label, Outcome.REJECTED, f"{kind}: evidence_kind 'solver' but the evidence is exact "
                                                   "(re-derived by the checker)")
    return found


def _witness_pairs(claims: list[Any], findings: list[ClaimCheck], tr: Trace) -> list[tuple[list[Fraction], ...]]:
    """Latent pairs ``z != z'`` with ``G(z) = G(z')`` that verified REFUTED claims exhibit."""
    pairs = []
    for c, f in zip(claims, findings):
        if f.outcome is not Outcome.VERIFIED or c.get("status") != Status.REFUTED:
            continue
        ev = c["evidence"]
        if "second_latent" in ev:
            pairs.append((list(tr.inputs[0]), parse_vector(ev["second_latent"], None, "second_latent")))
        elif c["kind"] == "network_injective":
            w = ev["witness"]
            pairs.append((parse_vector(w["z"], None, "z"), parse_vector(w["z_prime"], None, "z_prime")))
    return pairs


def _contradictions(claims: list[Any], findings: list[ClaimCheck], tr: Trace) -> list[ClaimCheck]:
    """A carried (NOT_CHECKABLE) claim that a verified witness contradicts is REJECTED."""
    pairs = _witness_pairs(claims, findings, tr)
    out = []
    for i, (c, f) in enumerate(zip(claims, findings)):
        if f.outcome is Outcome.NOT_CHECKABLE:
            scope = SCOPES.get(c["kind"])
            if scope is None:
                f = ClaimCheck(f.kind, Outcome.REJECTED, f"{f.kind}: carried claim with no scope test (checker bug)")
            else:
                for a, b in pairs:
                    try:
                        hit = scope(c, tr, a, b)
                    except Exception as exc:  # noqa: BLE001 - fail closed
                        f = ClaimCheck(f.kind, Outcome.REJECTED, f"{f.kind}: scope test failed ({exc})")
                        break
                    if hit:
                        f = ClaimCheck(f.kind, Outcome.REJECTED, f"claims[{i}] {f.kind} (carried) is contradicted "
                                                                 "by a verified witness in this certificate")
                        break
        out.append(f)
    return out


def read_certificate(path: str | Path) -> dict[str, Any]:
    """Parse a certificate file; unreadable or invalid JSON is a one-line :class:`CertificateError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise CertificateError(f"certificate {path} is a directory; give one certificate file "
                               "(e.g. signal-000.json)") from None
    except OSError as exc:
        raise CertificateError(f"cannot read certificate {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        what = "a NumPy .npy array" if _text_start(p) == b"\x93NUMPY" else "binary, not UTF-8 text"
        raise CertificateError(f"certificate {path} is {what}; a certificate is the JSON file that "
                               "`theorychk certify --out DIR` writes") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CertificateError(f"certificate {path} is not valid JSON (truncated?): {exc.msg} "
                               f"at line {exc.lineno}") from None
    if not isinstance(data, dict):
        raise CertificateError(f"certificate {path} must hold a JSON object")
    return data


def _text_start(path: Path) -> bytes:
    """The first six bytes of a file (to say what a file that is not a certificate is)."""
    with open(path, "rb") as fh:
        return fh.read(6)


def check_file(
    path: str | Path,
    model: str | Network | None = None,
    *,
    layers: str | None = None,
    activation: str | None = None,
    final_activation: str | None = None,
) -> CheckReport:
    """Check a certificate file against ``model`` read with the given options, or, by default,
    against the source the certificate records, re-read with the recorded options.

    Raises :class:`InvalidInput` / :class:`CertificateError` (one line; the CLI's exit 2) when the
    certificate or the model cannot be read. A recorded file whose bytes changed since the
    certificate was made is a REJECTED report saying so.
    """
    return check_path(path, model, layers=layers, activation=activation, final_activation=final_activation)[1]


def check_path(
    path: str | Path,
    model: str | Network | None = None,
    *,
    layers: str | None = None,
    activation: str | None = None,
    final_activation: str | None = None,
) -> tuple[dict[str, Any], CheckReport]:
    """:func:`check_file`, returning the parsed certificate too (read once)."""
    from theorychk.io import ModelSelection, load_network

    cert = read_certificate(path)
    if isinstance(model, Network):
        return cert, check_certificate(cert, model)
    options = {"layers": layers, "activation": activation, "final_activation": final_activation}
    if model is None:
        if any(v is not None for v in options.values()):
            raise InvalidInput("the model options (--layers, --activation, --final-activation) say how to read "
                               "the model given with --model; without --model the certificate's recorded "
                               "source is read with its recorded options",
                               argument=next(k for k, v in options.items() if v is not None),
                               got=next(v for v in options.values() if v is not None))
        src = recorded_source(cert, str(path))
        hint = f"pass --model FILE with the options the certificate records ({src.selection.cli_text()})"
        if not src.source.startswith("zoo:") and not Path(src.source).is_file():
            raise InvalidInput(f"model file {src.source} recorded in certificate {path} is not found "
                               f"(moved or deleted?); {hint}", argument="model.source", got=src.source)
        changed = src.changed()
        try:
            net = src.load() if changed else load_recorded(src)
        except InvalidInput as exc:
            why = f"{changed}, and it" if changed else f"the model recorded in certificate {path}"
            raise InvalidInput(f"{why} cannot be read with the recorded options ({exc}); {hint}",
                               argument=exc.argument, got=exc.got) from None
        return cert, check_certificate(cert, net, ModelRead(src.source, src.selection, changed))
    sel = ModelSelection.build(**options)
    try:
        net = load_network(model, **options)
    except InvalidInput as exc:
        try:
            before = recorded_source(cert, str(path)).selection
        except CertificateError:
            raise exc from None
        raise InvalidInput(f"{exc} (the certificate's model was read with {before.cli_text()})",
                           argument=exc.argument, got=exc.got) from None
    return cert, check_certificate(cert, net, ModelRead(str(model), sel))


def certificate_paths(paths: list[Path], *, argument: str = "CERTIFICATE") -> list[Path]:
    """Certificate files named by ``paths``: a file as given, a folder as its ``*.json`` files (sorted).

    A missing path or a folder without certificates is a one-line :class:`InvalidInput` naming it;
    a single folder-less file keeps :func:`read_certificate`'s messages (it says what the file is)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(q for q in p.glob("*.json") if q.is_file())
            if not found:
                raise InvalidInput(f"{argument} folder {p} holds no certificates (*.json); give certificate "
                                   "files or the --out folder of `theorychk certify`", argument=argument, got=str(p))
            out.extend(found)
        else:
            out.append(p)
    return out
