"""Writing reduction instances for other tools: ONNX, VNN-LIB 1.0, DIMACS, ``.npz``, JSON.

ONNX
    :func:`theorychk.io.export_onnx` (``Gemm`` with ``transB=1``, ``[1, k]`` float32, opset 13).
    Every construction's weights and biases are small integers, exactly representable in float32
    — :func:`write_onnx` asserts it, so the file denotes exactly the network that was verified.
    A layer without a bias gets an explicit zero bias in the file (Marabou 2.0.0 crashes on a
    ``Gemm`` without one); the function is the same.
VNN-LIB 1.0 (the VNN-COMP dialect)
    ``(declare-const X_i Real)`` per latent coordinate and ``Y_j`` per output; a ``>=``/``<=``
    pair bounding every input by the latent box; each output equality ``Y_j = x_j`` written as
    ``x_j − ε <= Y_j <= x_j + ε``. The tolerance ``ε`` (default ⅛, recorded in a comment header)
    must be ``< ¼``; it is sound because of the gap: when the formula is unsatisfiable every
    latent has ``‖G(z) − x‖_∞ ≥ ½ > ε``, and when it is satisfiable an exact preimage exists.
    So ``sat`` ⇔ the target is in ``G(box)`` ⇔ the formula is satisfiable. Binary-latent
    constructions are refused: VNN-LIB cannot say ``z ∈ {±1}^n``, and over the real box their
    answer is trivially ``sat``.
    :func:`read_vnnlib` parses this dialect back (declarations and bounds) for round trips.
DIMACS, ``.npz``, JSON
    :func:`~theorychk.reduction.cnf.write_dimacs`, :func:`theorychk.io.save_network`, and the
    instance summary (target, box, gap, statement, fingerprint) as JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from theorychk.errors import InvalidInput
from theorychk.network import Network
from theorychk.reduction.cnf import write_dimacs
from theorychk.reduction.constructions import Instance

__all__ = [
    "EPSILON",
    "VNNLIB_DIALECT",
    "write_onnx",
    "with_explicit_biases",
    "to_vnnlib",
    "write_vnnlib",
    "VnnlibProperty",
    "read_vnnlib",
    "parse_vnnlib",
    "export_instance",
    "decimal",
]

#: Default output tolerance of the VNN-LIB properties (must be < ¼; the gap is ≥ ½).
EPSILON = Fraction(1, 8)
#: First line of every VNN-LIB file theorychk writes; :func:`read_vnnlib` requires it.
VNNLIB_DIALECT = "; theorychk-vnnlib 1 (VNN-LIB 1.0, VNN-COMP dialect)"


def decimal(q: Fraction | int) -> str:
    """The exact decimal for a rational whose denominator is ``2^a 5^b`` (``-1.0``, ``20.875``).

    Examples
    --------
    >>> decimal(Fraction(167, 8)), decimal(-1), decimal(Fraction(-1, 8))
    ('20.875', '-1.0', '-0.125')
    >>> decimal(Fraction(1, 3))
    Traceback (most recent call last):
    ...
    theorychk.errors.InvalidInput: 1/3 has no finite decimal expansion; VNN-LIB bounds are written exactly
    """
    q = Fraction(q)
    den, twos, fives = q.denominator, 0, 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        raise InvalidInput(f"{q} has no finite decimal expansion; VNN-LIB bounds are written exactly",
                           argument="q", got=q)
    digits = max(twos, fives, 1)
    scaled = abs(q.numerator) * 10**digits // q.denominator
    text = f"{scaled // 10**digits}.{str(scaled % 10**digits).zfill(digits)}".rstrip("0")
    text = text + "0" if text.endswith(".") else text
    return ("-" if q < 0 else "") + text


# --------------------------------------------------------------------------------------------
# ONNX
# --------------------------------------------------------------------------------------------


def with_explicit_biases(net: Network) -> Network:
    """The same network with every bias-free layer given an explicit all-zero bias.

    The function is unchanged; only the file form differs. Verifiers need it: Marabou 2.0.0
    crashes on a ``Gemm`` without its ``C`` input (measured on every ``bias-free`` export).
    """
    from theorychk.network import Layer

    if all(layer.has_bias for layer in net.layers):
        return net
    layers = tuple(
        layer if layer.has_bias else Layer(layer.weight, np.zeros(layer.n_out), layer.activation, dtype=layer.dtype)
        for layer in net.layers
    )
    return Network(layers, name=net.name)


def write_onnx(instance: Instance, path: str | Path) -> Path:
    """Export the instance's network to ONNX, after asserting every number is exact in float32.

    Layers without a bias are written with an explicit zero bias (:func:`with_explicit_biases`),
    so ``load_network(path) == with_explicit_biases(instance.network)``.
    """
    from theorychk.io import export_onnx

    for i, layer in enumerate(instance.network.layers):
        for arr, what in ((layer.weight, "weight"), (layer.bias, "bias")):
            if not np.array_equal(arr.astype(np.float32).astype(np.float64), arr):
                raise InvalidInput(
                    f"instance {instance.name}: layer {i} {what} is not exactly representable in float32; "
                    f"the ONNX file would hold a different network",
                    argument=f"layers[{i}].{what}", got=f"{arr.dtype} array of shape {arr.shape}"
                )
    return export_onnx(with_explicit_biases(instance.network), Path(path))


# --------------------------------------------------------------------------------------------
# VNN-LIB
# --------------------------------------------------------------------------------------------


def _check_epsilon(instance: Instance, epsilon: Fraction) -> Fraction:
    eps = Fraction(epsilon)
    if not 0 < eps < Fraction(1, 4):
        raise InvalidInput(f"epsilon must be in (0, 1/4) so that the 1/2 gap keeps the property sound; got {eps}",
                           argument="epsilon", got=eps)
    if instance.binary_latent:
        raise InvalidInput(
            f"construction {instance.construction!r} has a binary latent {{-1, +1}}^n, which VNN-LIB 1.0 cannot "
            f"express (over the real box its answer is trivially sat); export a real-latent construction such as "
            f"'four-layer'", argument="instance", got=instance.construction
        )
    if instance.gap_linf is None or not eps < instance.gap_linf:
        raise InvalidInput(
            f"construction {instance.construction!r} claims no gap above epsilon {eps}; its VNN-LIB property "
            f"would not be sound", argument="epsilon", got=eps
        )
    return eps


def to_vnnlib(instance: Instance, *, epsilon: Fraction = EPSILON) -> str:
    """The VNN-LIB 1.0 property "∃ z in the box with ‖G(z) − x‖_∞ ≤ ε" (module docstring)."""
    eps = _check_epsilon(instance, epsilon)
    k, o = instance.latent_dim, instance.network.output_dim
    s = instance.summary()
    lines = [
        VNNLIB_DIALECT,
        f"; instance: {instance.name}",
        f"; construction: {instance.construction}",
        f"; formula: {instance.cnf.name} ({instance.cnf.n_vars} variables, {instance.cnf.n_clauses} clauses)",
        f"; network fingerprint: sha256:{s['fingerprint']}",
        f"; target: {' '.join(decimal(t) for t in instance.target)}",
        f"; epsilon: {eps}",
        f";   every output equality Y_j = x_j is written as x_j - {decimal(eps)} <= Y_j <= x_j + {decimal(eps)};",
        f";   sound because an unsatisfiable formula has ||G(z) - x||_inf >= {instance.gap_linf} > epsilon",
        ";   for every latent z (the gap), and a satisfiable one has an exact preimage.",
        "; meaning: sat <=> the target is in G(box) <=> the formula is satisfiable",
        "",
    ]
    lines += [f"(declare-const X_{i} Real)" for i in range(k)]
    lines.append("")
    lines += [f"(declare-const Y_{j} Real)" for j in range(o)]
    lines += ["", "; the latent box"]
    for i, (lo, hi) in enumerate(zip(instance.latent_lo, instance.latent_hi)):
        lines.append(f"(assert (>= X_{i} {decimal(lo)}))")
        lines.append(f"(assert (<= X_{i} {decimal(hi)}))")
    lines += ["", "; the output equals the target within epsilon"]
    for j, t in enumerate(instance.target):
        lines.append(f"(assert (>= Y_{j} {decimal(t - eps)}))")
        lines.append(f"(assert (<= Y_{j} {decimal(t + eps)}))")
    return "\n".join(lines) + "\n"


def write_vnnlib(instance: Instance, path: str | Path, *, epsilon: Fraction = EPSILON) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(to_vnnlib(instance, epsilon=epsilon), encoding="ascii")
    return p


@dataclass(frozen=True)
class VnnlibProperty:
    """What :func:`read_vnnlib` parses back: box bounds per input, bounds per output, ``ε``."""

    n_inputs: int
    n_outputs: int
    input_lo: tuple[Fraction, ...]
    input_hi: tuple[Fraction, ...]
    output_lo: tuple[Fraction, ...]
    output_hi: tuple[Fraction, ...]
    epsilon: Fraction | None
    header: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> tuple[Fraction, ...]:
        """The centre of each output interval."""
        return tuple((lo + hi) / 2 for lo, hi in zip(self.output_lo, self.output_hi))


_DECLARE = re.compile(r"^\(declare-const ([XY])_(\d+) Real\)$")
_ASSERT = re.compile(r"^\(assert \((<=|>=) ([XY])_(\d+) (-?\d+(?:\.\d+)?)\)\)$")


def parse_vnnlib(text: str, *, source: str = "VNN-LIB") -> VnnlibProperty:
    """Parse theorychk's VNN-LIB dialect (one declaration or bound per line, comments with ``;``).

    Strict: the dialect line must come first, names must be declared once and in order before
    use, every input and output needs exactly one lower and one upper bound, and any other
    statement is an :class:`InvalidInput` naming the line.

    Examples
    --------
    >>> prop = parse_vnnlib(VNNLIB_DIALECT + "\\n(declare-const X_0 Real)\\n(declare-const Y_0 Real)\\n"
    ...                     "(assert (>= X_0 -1.0))\\n(assert (<= X_0 1.0))\\n"
    ...                     "(assert (>= Y_0 -0.125))\\n(assert (<= Y_0 0.125))\\n")
    >>> prop.input_lo, prop.target
    ((Fraction(-1, 1),), (Fraction(0, 1),))
    """
    lines = text.splitlines()
    if not lines or lines[0].strip() != VNNLIB_DIALECT:
        got = lines[0] if lines else "an empty file"
        raise InvalidInput(f"{source} line 1: expected the header {VNNLIB_DIALECT!r}; got {got!r}",
                           argument="text", got=got)
    declared: dict[str, int] = {"X": 0, "Y": 0}
    bounds: dict[tuple[str, int, str], Fraction] = {}
    header: dict[str, str] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith(";"):
            key, sep, value = line[1:].strip().partition(": ")
            if sep:
                header.setdefault(key.strip(), value.strip())
            continue
        if m := _DECLARE.match(line):
            kind, idx = m.group(1), int(m.group(2))
            if kind == "X" and declared["Y"]:
                raise InvalidInput(f"{source} line {number}: inputs must be declared before outputs; got {line!r}",
                                   argument="text", got=line)
            if idx != declared[kind]:
                raise InvalidInput(f"{source} line {number}: expected {kind}_{declared[kind]} next; got {line!r}",
                                   argument="text", got=line)
            declared[kind] += 1
            continue
        if m := _ASSERT.match(line):
            op, kind, idx, value = m.group(1), m.group(2), int(m.group(3)), Fraction(m.group(4))
            if idx >= declared[kind]:
                raise InvalidInput(f"{source} line {number}: {kind}_{idx} is used before it is declared; got {line!r}",
                                   argument="text", got=line)
            key = (kind, idx, "lo" if op == ">=" else "hi")
            if key in bounds:
                raise InvalidInput(f"{source} line {number}: a second {op} bound on {kind}_{idx}; got {line!r}",
                                   argument="text", got=line)
            bounds[key] = value
            continue
        raise InvalidInput(
            f"{source} line {number}: expected (declare-const X_i Real), (declare-const Y_j Real) or "
            f"(assert (<= NAME NUMBER)) / (assert (>= NAME NUMBER)); got {line!r}", argument="text", got=line
        )
    for kind, count in declared.items():
        if count == 0:
            raise InvalidInput(f"{source}: no {kind}_i declared", argument="text", got=dict(declared))
        for i in range(count):
            for side in ("lo", "hi"):
                if (kind, i, side) not in bounds:
                    op = ">=" if side == "lo" else "<="
                    raise InvalidInput(f"{source}: {kind}_{i} has no {op} bound (every input and output needs both)",
                                       argument="text", got=f"{kind}_{i}")
            if bounds[(kind, i, "lo")] > bounds[(kind, i, "hi")]:
                raise InvalidInput(f"{source}: {kind}_{i} has lower bound above upper bound",
                                   argument="text", got=(bounds[(kind, i, "lo")], bounds[(kind, i, "hi")]))
    eps = None
    if "epsilon" in header:
        try:
            eps = Fraction(header["epsilon"])
        except ValueError:
            raise InvalidInput(f"{source}: epsilon header {header['epsilon']!r} is not a number",
                               argument="text", got=header["epsilon"]) from None

    def side(kind: str, s: str) -> tuple[Fraction, ...]:
        return tuple(bounds[(kind, i, s)] for i in range(declared[kind]))

    return VnnlibProperty(declared["X"], declared["Y"], side("X", "lo"), side("X", "hi"), side("Y", "lo"),
                          side("Y", "hi"), eps, header)


def read_vnnlib(path: str | Path) -> VnnlibProperty:
    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"VNN-LIB file not found: {path}", argument="path", got=path)
    return parse_vnnlib(p.read_text(encoding="ascii"), source=f"VNN-LIB file {p.name}")


# --------------------------------------------------------------------------------------------
# Everything for one instance
# --------------------------------------------------------------------------------------------


def export_instance(
    instance: Instance,
    out_dir: str | Path,
    *,
    stem: str | None = None,
    epsilon: Fraction = EPSILON,
    formats: tuple[str, ...] = ("cnf", "onnx", "vnnlib", "npz", "json"),
) -> dict[str, Path]:
    """Write the instance into ``out_dir`` as ``STEM.cnf/.onnx/.vnnlib/.npz/.json``.

    VNN-LIB is skipped (not an error) for binary-latent constructions, which it cannot express;
    the returned dict says which files were written.
    """
    from theorychk.io import save_network

    valid = ("cnf", "onnx", "vnnlib", "npz", "json")
    bad = [f for f in formats if f not in valid]
    if bad:
        raise InvalidInput(f"unknown export format {bad[0]!r}; valid: {', '.join(valid)}",
                           argument="formats", got=bad[0])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = stem or instance.name
    written: dict[str, Path] = {}
    if "cnf" in formats:
        written["cnf"] = write_dimacs(instance.cnf, out / f"{stem}.cnf")
    if "onnx" in formats:
        written["onnx"] = write_onnx(instance, out / f"{stem}.onnx")
    if "vnnlib" in formats and not instance.binary_latent and instance.gap_linf is not None:
        written["vnnlib"] = write_vnnlib(instance, out / f"{stem}.vnnlib", epsilon=epsilon)
    if "npz" in formats:
        written["npz"] = save_network(instance.network, out / f"{stem}.npz")
    if "json" in formats:
        data: dict[str, Any] = {**instance.summary(), "epsilon": str(Fraction(epsilon))}
        p = out / f"{stem}.json"
        p.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        written["json"] = p
    return written
