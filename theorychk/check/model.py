"""Which network a certificate is about: re-reading the recorded model, and saying what differs.

The certificate's ``model`` section names the network by its fingerprint (the trust anchor:
everything else is checked against the network it names) and says how it was read:
``source`` (an absolute path or ``zoo:NAME``), ``source_sha256`` (the file's bytes) and
``reading`` (the options of :class:`~theorychk.io.ModelSelection`). With those,
:func:`recorded_source` re-reads the model without any option from the user.

:func:`model_problem` compares the section with the network handed to the checker. When the
fingerprints differ it says *what* differs -- the widths, a layer's activation, a layer's
numbers, the reading options -- instead of two hashes; when they agree, every descriptive field
(widths, activations, dtype, per-layer digests) must agree too, so none can be edited unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from theorychk.check.convolution import describe_layer
from theorychk.check.rationals import need
from theorychk.errors import CertificateError, InvalidInput
from theorychk.io import READERS, ModelSelection, ModelSource, layer_digests
from theorychk.network import Network, memo

__all__ = ["ModelRead", "recorded_source", "model_problem"]

_TORCH = (".pt", ".pth", ".bin")


@dataclass(frozen=True)
class ModelRead:
    """How the network handed to the checker was read: ``source`` with ``selection``; ``changed``
    says why the recorded file is not the certified one (its bytes hash differently)."""

    source: str
    selection: ModelSelection
    changed: str | None = None


def _reader(source: str) -> Any:
    return READERS.get(".npz" if source.startswith("zoo:") else Path(source).suffix.lower())


def recorded_source(cert: dict[str, Any], where: str) -> ModelSource:
    """The recorded :class:`ModelSource` of ``cert`` (``where`` names the certificate in errors).

    Certificates from before the reading options were recorded have no ``reading``: a state_dict
    source is then read with the recorded activations (it carries none), anything else as it is.
    """
    model = cert.get("model")
    src = model.get("source") if isinstance(model, dict) else None
    if not isinstance(src, str) or not src:
        raise CertificateError(f"certificate {where} records no model source; pass the model with --model FILE")
    sha = model.get("source_sha256")
    if sha is not None and not (isinstance(sha, str) and len(sha) == 64):
        raise CertificateError(f"certificate {where}: model.source_sha256 must be a sha256 hex digest; got {sha!r}")
    if "reading" in model:
        try:
            sel = ModelSelection.from_dict(model["reading"])
        except InvalidInput as exc:
            raise CertificateError(f"certificate {where}: {exc}") from None
    else:
        acts = model.get("activations")
        legacy = isinstance(acts, list) and src.lower().endswith(_TORCH)
        sel = ModelSelection.build(activation=acts if legacy else None)
    return ModelSource(src, sha, sel)


def _recorded_selection(model: dict[str, Any]) -> ModelSelection | None:
    try:
        return ModelSelection.from_dict(model["reading"]) if "reading" in model else None
    except InvalidInput:
        return None


def _dashes(widths: Any) -> str:
    return "-".join(map(str, widths)) if isinstance(widths, list) else repr(widths)


def _differences(model: dict[str, Any], net: Network) -> list[str]:
    """What differs between the recorded model and ``net``, most telling first."""
    widths = model.get("widths")
    if widths != list(net.widths):
        return [f"widths {_dashes(widths)} in the certificate vs {_dashes(list(net.widths))} as read"]
    found = []
    acts, specs = model.get("activations"), [layer.activation.spec for layer in net.layers]
    if isinstance(acts, list) and len(acts) == net.depth:
        found += [f"layer {j} activation: certificate says {a}, model read as {b}"
                  for j, (a, b) in enumerate(zip(acts, specs, strict=True)) if a != b]
    digests = model.get("layer_sha256")
    if isinstance(digests, list) and len(digests) == net.depth:
        found += [f"layer {j} weights or bias differ ({layer.n_out}x{layer.n_in} {layer.dtype} as read)"
                  for j, (d, now, layer) in enumerate(zip(digests, _layer_digests(net), net.layers, strict=True))
                  if d != now]
    return found


def _descriptive_problem(model: dict[str, Any], net: Network) -> str | None:
    """With matching fingerprints, a descriptive field that disagrees with the network is an edit."""
    actual = {"widths": list(net.widths), "activations": [layer.activation.spec for layer in net.layers],
              "dtype": net.dtype, "layer_sha256": _layer_digests(net)}
    described = [describe_layer(layer) for layer in net.layers]
    if any(d["kind"] != "linear" for d in described) and "layers" not in model:
        return "model.layers is missing: a convolutional network's certificate records each layer's geometry"
    if "layers" in model:
        actual["layers"] = described
    for key, value in actual.items():
        if key == "widths" or key in model:  # widths are required; the others date from later versions
            if model.get(key) != value:
                verb = "does" if key == "dtype" else "do"
                return f"model.{key} {model.get(key)} {verb} not match the model {value}"
    return None


def _layer_digests(net: Network) -> list[str]:
    """:func:`~theorychk.io.layer_digests` of ``net``, computed once per network (:func:`memo`)."""
    return list(memo(net, "_layer_sha256", lambda: tuple(layer_digests(net))))


class _Known:
    """Networks that :func:`load_recorded` read: a batch of one model's certificates reads it once
    (and hashes it once: digests are memoized on the network). Keyed by the recorded source, the
    file's sha256 (re-hashed for every certificate: the bytes are what is cached) and the reading
    options; the networks never leave the checker (nobody can modify them)."""

    size = 4

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str, str], Network] = {}

    def get(self, key: tuple[str, str, str]) -> Network | None:
        return self.by_key.get(key)

    def put(self, key: tuple[str, str, str], net: Network) -> None:
        if len(self.by_key) >= self.size:
            del self.by_key[next(iter(self.by_key))]
        self.by_key[key] = net


KNOWN = _Known()


#: Readers whose file holds every number of the network (its sha256 names the network read).
_SELF_CONTAINED = (".npz", *_TORCH)


def _self_contained(src: ModelSource) -> bool:
    """Whether the recorded file's bytes determine the network, so that :data:`KNOWN` may key it by
    them: not an architecture spec (``.json``, naming a state_dict file) nor an ONNX model with
    external data (tensors in sidecar files), whose other files can change under the same bytes.
    An ONNX file is self-contained when the wire decoder reads it (it refuses external data)."""
    if src.source.startswith("zoo:"):
        return True
    suffix = Path(src.source).suffix.lower()
    if suffix != ".onnx":
        return suffix in _SELF_CONTAINED
    from theorychk.io import _onnx_wire
    from theorychk.io._onnx_lean import NeedFullOnnx

    try:
        _onnx_wire.parse(src.path.read_bytes())
    except (NeedFullOnnx, OSError):
        return False
    return True


def load_recorded(src: ModelSource) -> Network:
    """``src.load()``, from :data:`KNOWN` when the file still has the recorded bytes (call after
    ``src.changed()`` returned None) and they are the whole model (:func:`_self_contained`)."""
    if src.sha256 is None:
        return src.load()
    key = (src.source, src.sha256, repr(sorted(src.selection.to_dict().items())))
    net = KNOWN.get(key)
    if net is None:
        net = src.load()
        if _self_contained(src):
            KNOWN.put(key, net)
    return net


def model_problem(model: dict[str, Any], net: Network, read: ModelRead | None = None) -> str | None:
    """Why ``net`` is not the network the certificate's ``model`` section names, or ``None``."""
    fp = net.fingerprint()
    recorded = need(model, "fingerprint", str, "model")
    need(model, "widths", list, "model")
    problems = [read.changed] if read is not None and read.changed else []
    if recorded != fp:
        what = _differences(model, net) or ["the weights differ"]
        mismatch = (f"model fingerprint mismatch (certificate {recorded[:12]}..., model {fp[:12]}...): "
                    + "; ".join(what))
        before = _recorded_selection(model)
        src = model.get("source")
        if (read is not None and before is not None and isinstance(src, str)
                and _reader(src) is _reader(read.source) and before.to_dict() != read.selection.to_dict()):
            mismatch += ("; reading options differ (certificate vs this check): "
                         + "; ".join(before.differences(read.selection)))
        problems.append(mismatch)
    elif problems:
        problems.append("read with the recorded options it is still the certified network (same "
                        "fingerprint): to check against that network, pass --model with the file")
    else:
        descriptive = _descriptive_problem(model, net)
        if descriptive:
            problems.append(descriptive)
    return "; ".join(problems) or None
