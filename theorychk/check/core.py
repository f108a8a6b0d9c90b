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
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import flint

from theorychk import exact
from theorychk.check import FORMAT, VERIFIERS, VERSION, CheckReport, ClaimCheck
from theorychk.check.model import ModelRead, model_problem, recorded_source
from theorychk.check.rationals import need, parse_indices, parse_vector
from theorychk.errors import CertificateError, InvalidInput
from theorychk.network import Network

__all__ = ["Trace", "trace", "check_certificate", "check_file", "read_certificate"]

#: Modules whose import registers verifiers; a missing optional one leaves its kinds unknown (REJECTED).
_VERIFIER_MODULES = ("theorychk.check.signal", "theorychk.check.stability", "theorychk.check.injectivity")
_STATUSES = ("CERTIFIED", "REFUTED", "UNKNOWN")


def _load_verifiers() -> None:
    for name in _VERIFIER_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def activation_exact(spec: str, u: Fraction) -> Fraction | None:
    """A piecewise-linear activation exactly; ``None`` for a smooth one (no exact value)."""
    name, *p = spec.split(":")
    if name == "relu":
        return max(u, Fraction(0))
    if name == "identity":
        return u
    if name == "leaky_relu":
        return u if u > 0 else Fraction(float(p[0])) * u
    if name == "plu":
        a, c = Fraction(float(p[0])), Fraction(float(p[1]))
        return max(a * (u + c) - c, min(a * (u - c) + c, u))
    return None


@dataclass(frozen=True)
class Trace:
    """The exact forward pass of ``z*``: ``inputs[j] = x_j``, ``pre[j] = W_j x_j + b_j``,
    ``outputs[j] = x_{j+1}`` (``None`` after a smooth activation), ``specs[j]`` the activation."""

    net: Network
    inputs: tuple[tuple[Fraction, ...], ...]
    pre: tuple[tuple[Fraction, ...], ...]
    outputs: tuple[tuple[Fraction, ...] | None, ...]
    specs: tuple[str, ...]
    _ints: dict[int, tuple[list[list[int]], Fraction]] = field(
        default_factory=dict, compare=False, repr=False)

    def relu(self, j: int) -> bool:
        return self.specs[j] == "relu"

    def sparse_input(self, j: int) -> bool:
        """``x_j`` is a ReLU output: nonnegative, with zeros where layer ``j - 1`` is off."""
        return j > 0 and self.relu(j - 1)

    def observed_rows(self, j: int) -> list[int]:
        """Rows of ``W_j`` whose pre-activation the output determines: the support after a ReLU, else all."""
        if self.relu(j):
            return [r for r, v in enumerate(self.outputs[j]) if v > 0]
        return list(range(len(self.pre[j])))

    def support(self, j: int) -> list[int]:
        """Units of layer ``j`` that are on (pre-activation > 0)."""
        return [r for r, v in enumerate(self.pre[j]) if v > 0]

    def integer_weight(self, j: int) -> tuple[list[list[int]], Fraction]:
        """``W_j = scale * Z`` with integer rows ``Z`` (computed once per layer)."""
        if j not in self._ints:
            z, scale = exact.to_fmpz_mat(self.net.layers[j].weight)
            self._ints[j] = (z.tolist(), scale)
        return self._ints[j]

    def int_matrix(self, j: int, rows: list[int] | None = None, cols: list[int] | None = None) -> Any:
        """Integer form of ``W_j[rows, cols]``: a flint ``fmpz_mat`` (scale of :meth:`integer_weight`)."""
        z, _ = self.integer_weight(j)
        sel = z if rows is None else [z[r] for r in rows]
        if cols is not None:
            sel = [[row[c] for c in cols] for row in sel]
        n_cols = len(cols) if cols is not None else self.net.widths[j]
        return flint.fmpz_mat(len(sel), n_cols, [v for row in sel for v in row]) if sel and n_cols else \
            flint.fmpz_mat(len(sel), n_cols)

    def weight(self, j: int, rows: list[int] | None = None, cols: list[int] | None = None) -> Any:
        """``W_j[rows, cols]`` exactly, as a flint ``fmpq_mat``."""
        _, scale = self.integer_weight(j)
        q = flint.fmpq_mat(self.int_matrix(j, rows, cols))
        return q * flint.fmpq(scale.numerator, scale.denominator) if scale != 1 else q

    def full_rank(self, j: int, rows: list[int]) -> bool:
        """Exact: do the rows ``rows`` of ``W_j`` have full column rank? (Full mod a prime settles it.)"""
        n = self.net.widths[j]
        if len(rows) < n:
            return False
        z = self.int_matrix(j, rows)
        return int(flint.nmod_mat(z, exact.DEFAULT_PRIME).rank()) == n or int(z.rank()) == n


def trace(net: Network, latent: list[Fraction]) -> Trace:
    """Exact forward pass (hidden activations must be piecewise linear)."""
    x: tuple[Fraction, ...] = tuple(latent)
    inputs, pre, outputs = [], [], []
    specs = tuple(layer.activation.spec for layer in net.layers)
    ints: dict[int, tuple[list[list[int]], Fraction]] = {}
    for j, layer in enumerate(net.layers):
        z, scale = exact.to_fmpz_mat(layer.weight)
        ints[j] = (z.tolist(), scale)
        wx = exact.matvec(flint.fmpq_mat(z), x)
        u = tuple(scale * a + Fraction(float(b)) for a, b in zip(wx, layer.bias))
        out = [activation_exact(specs[j], v) for v in u]
        inputs.append(x)
        pre.append(u)
        if any(v is None for v in out):
            if j != net.depth - 1:
                raise CertificateError(f"hidden layer {j} has smooth activation {specs[j]!r}: "
                                       "no exact forward pass")
            outputs.append(None)
        else:
            x = tuple(out)  # type: ignore[arg-type]
            outputs.append(x)
    return Trace(net, tuple(inputs), tuple(pre), tuple(outputs), specs, ints)


def _check_signal(cert: dict[str, Any], net: Network) -> Trace:
    sig = need(cert, "signal", dict, "certificate")
    tr = trace(net, parse_vector(need(sig, "latent", list, "signal"), net.latent_dim, "signal.latent"))
    out, pre = sig.get("output"), sig.get("output_pre_activation")
    if out is None and pre is None:
        raise CertificateError("signal: needs 'output' or 'output_pre_activation'")
    if out is not None:
        if tr.outputs[-1] is None:
            raise CertificateError(f"signal.output: a {tr.specs[-1]} output has no exact value; "
                                   "give output_pre_activation")
        if parse_vector(out, net.output_dim, "signal.output") != list(tr.outputs[-1]):
            raise CertificateError("signal.output does not equal G(latent) (exact forward pass)")
    where = "signal.output_pre_activation"
    if pre is not None and parse_vector(pre, net.output_dim, where) != list(tr.pre[-1]):
        raise CertificateError("signal.output_pre_activation does not equal the exact last pre-activation")
    sups = need(sig, "supports", list, "signal")
    if len(sups) != net.depth:
        raise CertificateError(f"signal.supports: expected {net.depth} layers, got {len(sups)}")
    for j, s in enumerate(sups):
        if parse_indices(s, len(tr.pre[j]), f"signal.supports[{j}]") != tr.support(j):
            raise CertificateError(f"signal.supports[{j}] does not match the exact forward pass")
    return tr


def check_certificate(cert: Any, net: Network, read: ModelRead | None = None) -> CheckReport:
    """Re-verify ``cert`` against ``net``; see the module docstring. Never raises on bad content.

    ``read`` (how ``net`` was read) lets a model mismatch name the reading option that differs.
    """
    fp = net.fingerprint()

    def rejected(reason: str) -> CheckReport:
        return CheckReport(fp, (ClaimCheck("certificate", "REJECTED", reason),))

    try:
        if not isinstance(cert, dict):
            raise CertificateError(f"certificate must be a JSON object, got {type(cert).__name__}")
        if cert.get("format") != FORMAT or cert.get("version") != VERSION:
            raise CertificateError(f"not a {FORMAT} version {VERSION} (format={cert.get('format')!r}, "
                                   f"version={cert.get('version')!r})")
        model = need(cert, "model", dict, "certificate")
        problem = model_problem(model, net, read)
        if problem:
            raise CertificateError(problem)
        tr = _check_signal(cert, net)
        claims = need(cert, "claims", list, "certificate")
        if not claims:
            raise CertificateError("certificate has no claims")
    except (CertificateError, InvalidInput) as exc:
        return rejected(str(exc))
    except Exception as exc:  # noqa: BLE001 - fail closed: anything unexpected rejects
        return rejected(f"malformed certificate ({type(exc).__name__}: {exc})")
    _load_verifiers()
    return CheckReport(fp, tuple(_check_claim(c, i, tr, cert) for i, c in enumerate(claims)))


def _check_claim(claim: Any, i: int, tr: Trace, cert: dict[str, Any]) -> ClaimCheck:
    kind = claim.get("kind") if isinstance(claim, dict) else None
    label = kind if isinstance(kind, str) else f"claims[{i}]"
    if not isinstance(kind, str) or kind not in VERIFIERS:
        return ClaimCheck(label, "REJECTED", f"unknown claim kind {kind!r}")
    status = claim.get("status")
    if status not in _STATUSES:
        return ClaimCheck(label, "REJECTED",
                          f"claim status must be one of {', '.join(_STATUSES)}; got {status!r}")
    if status == "UNKNOWN":
        return ClaimCheck(label, "NO_CLAIM", str(claim.get("reason", "")))
    try:
        # Our verifiers take the exact trace (it carries the network); others take the network.
        arg = tr if getattr(VERIFIERS[kind], "wants_trace", False) else tr.net
        return VERIFIERS[kind](claim, arg, cert)
    except (CertificateError, InvalidInput) as exc:
        return ClaimCheck(label, "REJECTED", str(exc))
    except Exception as exc:  # noqa: BLE001 - fail closed: a verifier that trips on the evidence rejects it
        return ClaimCheck(label, "REJECTED", f"malformed evidence ({type(exc).__name__}: {exc})")


def read_certificate(path: str | Path) -> dict[str, Any]:
    """Parse a certificate file; unreadable or invalid JSON is a one-line :class:`CertificateError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise CertificateError(f"cannot read certificate {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CertificateError(f"certificate {path} is not valid JSON (truncated?): {exc.msg} "
                               f"at line {exc.lineno}") from None
    if not isinstance(data, dict):
        raise CertificateError(f"certificate {path} must hold a JSON object")
    return data


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
    from theorychk.io import ModelSelection, load_network

    cert = read_certificate(path)
    if isinstance(model, Network):
        return check_certificate(cert, model)
    options = {"layers": layers, "activation": activation, "final_activation": final_activation}
    if model is None:
        if any(v is not None for v in options.values()):
            raise InvalidInput("the model options (--layers, --activation, --final-activation) say how to read "
                               "the model given with --model; without --model the certificate's recorded "
                               "source is read with its recorded options")
        src = recorded_source(cert, str(path))
        hint = f"pass --model FILE with the options the certificate records ({src.selection.cli_text()})"
        if not src.source.startswith("zoo:") and not Path(src.source).is_file():
            raise InvalidInput(f"model file {src.source} recorded in certificate {path} is not found "
                               f"(moved or deleted?); {hint}")
        changed = src.changed()
        try:
            net = src.load()
        except InvalidInput as exc:
            why = f"{changed}, and it" if changed else f"the model recorded in certificate {path}"
            raise InvalidInput(f"{why} cannot be read with the recorded options ({exc}); {hint}") from None
        return check_certificate(cert, net, ModelRead(src.source, src.selection, changed))
    sel = ModelSelection.build(**options)
    try:
        net = load_network(model, **options)
    except InvalidInput as exc:
        try:
            before = recorded_source(cert, str(path)).selection
        except CertificateError:
            raise exc from None
        raise InvalidInput(f"{exc} (the certificate's model was read with {before.cli_text()})") from None
    return check_certificate(cert, net, ModelRead(str(model), sel))
