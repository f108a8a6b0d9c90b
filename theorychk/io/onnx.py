"""ONNX models: read fully connected and convolutional generators, write the form verifiers read.

Reading
-------
:func:`read` walks the graph from its one input to its one output as a chain of nodes, each of
which takes the running tensor plus constants. Constants are graph initializers, ``Constant``
nodes, and every node whose inputs are all constants, evaluated with numpy
(:mod:`theorychk.io._onnx_fold`: ``Identity``, ``Shape``, ``Gather``, ``Mod``, ``Div``,
``Concat``, ``Unsqueeze``, ``Cast``, ``Slice``, ``ConstantOfShape``, ...). The reader tracks the
static shape of the running tensor (batch dimension 1), so ``Shape`` of it is a constant too and
the shape arithmetic exporters emit (PyTorch's ``Unflatten`` writes ``Shape``/``Slice``/``Mod``/
``Concat``, ``view`` writes ``Shape``/``Gather``/``Unsqueeze``) folds into a constant
``Reshape`` target. The latent input is ``[n]``, ``[1, n]`` or ``[1, C, H, W]`` (a symbolic batch
dimension is read as 1); the latent code is its flattening in C order. On the chain it reads

* ``Gemm`` (``transA=0``, ``transB`` 0 or 1, ``alpha``/``beta``, optional ``C``),
* ``MatMul`` with the weight as the second operand (shape ``(n_in, n_out)``, transposed to the
  ``(n_out, n_in)`` convention of :mod:`theorychk.network`), optionally followed by ``Add`` of a
  bias in either operand order,
* ``Conv`` and ``ConvTranspose`` in 2-D on a ``[1, C, H, W]`` tensor with every attribute
  (``strides``, ``pads``, ``dilations``, ``group``, ``output_padding``, ``auto_pad`` NOTSET /
  VALID, and SAME_UPPER / SAME_LOWER for ``Conv``), each read as a
  :class:`~theorychk.conv.Conv` -- an exact sparse linear operator; a bias is per channel, or
  an ``Add`` that broadcasts onto the feature map,
* ``BatchNormalization`` in inference form, folded into the affine layer right before it with
  :func:`~theorychk.network.fold_batch_norm` (per channel after a convolution, and per
  channel over its ``H x W`` units after a fully connected layer reshaped to ``[1, C, H, W]``),
* ``Relu``, ``LeakyRelu`` (``alpha``, default 0.01), ``Sigmoid``, ``Tanh``, and the
  ``Min``/``Max``/``Mul``/``Add`` pattern that :func:`write` uses for PLU,
* ``Identity``, and ``Flatten``/``Reshape``/``Unsqueeze``/``Squeeze`` that keep one sample (the
  leading batch dimension stays 1): on the flattened vector they are no-ops.

Each affine op starts a layer; the activation after it (``identity`` if none) ends it, so two
affine ops in a row are two layers. Any other op is an :class:`~theorychk.errors.InvalidInput`
naming the op type and the node; so is a shape-arithmetic op that computes on the network's
values rather than on constants.

Numbers are kept as stored: a float32 initializer gives a float32 :class:`~theorychk.network.Layer`.
Ops that make new numbers give float64 layers: batch-norm folding, and ``Gemm`` with
``alpha != 1`` or ``beta != 1``. ONNX stores ``alpha``/``beta`` as float32, and the product of
two float32 numbers is exact in float64, so for float32 weights the scaled layer is exactly the
real-number network the file denotes (for float64 weights the product is rounded once).

Activation parameters (``LeakyRelu``'s ``alpha``, the PLU constants) are hyperparameters that
were written as decimals and rounded to float32 by ONNX: they are read back as the shortest
decimal that rounds to the stored float32 (``0.2f`` reads as ``0.2``), which is what the
exporter was given whenever it was given a short decimal.

Writing
-------
:func:`write` produces the verifier-ready form: input ``"X"`` of shape ``[1, n_0]`` float32, per
layer one ``Gemm`` with ``transB=1`` (weight stored ``(n_out, n_in)``) -- or, for a
convolutional layer, one ``Conv``/``ConvTranspose`` with its kernel and geometry, with a
``Reshape`` to ``[1, C, H, W]`` before it and to ``[1, n]`` before the next ``Gemm`` or the
output -- and then ``Relu``,
``LeakyRelu(alpha)``, ``Sigmoid``, ``Tanh`` or nothing (identity), output ``"Y"`` of shape
``[1, n_L]``; opset 13, IR version 8, and ``onnx.checker.check_model(..., full_check=True)``
passes. PLU is written as ``max(alpha*(u + c) - c, min(alpha*(u - c) + c, u))`` with
``Add``/``Mul``/``Min``/``Max`` (verifiers that read only ``Relu`` cannot read it).

ONNX weights are float32. A layer whose numbers are not float32 numbers is still exported, with
a :class:`Float32RoundingWarning`: the file then holds the *rounded* network, and a verifier
answers questions about that network, so targets and forward passes for it must be computed from
``load_network(<the written file>)``, not from the float64 network. The model's ``doc_string``
and metadata carry the fingerprint of the network in the file (and of the source network when
they differ).
"""

from __future__ import annotations

import sys
import warnings
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import importlib
from typing import Any

import numpy as np

from theorychk.conv import Conv
from theorychk.errors import InvalidInput
from theorychk.io import ModelSelection, _onnx_fold, _onnx_lean, _onnx_wire, layer_field
from theorychk.network import (
    PLU,
    Activation,
    Identity,
    Layer,
    LeakyReLU,
    Network,
    ReLU,
    Sigmoid,
    Tanh,
    fold_batch_norm,
)

__all__ = ["read", "write", "to_model", "Float32RoundingWarning", "OPSET", "IR_VERSION"]

OPSET = 13
IR_VERSION = 8

_AFFINE_OPS = ("Gemm", "MatMul", "Conv", "ConvTranspose")
_ACTIVATION_OPS = {"Relu": ReLU, "Sigmoid": Sigmoid, "Tanh": Tanh, "LeakyRelu": LeakyReLU}
#: The same table read the other way, for the exporter (LeakyRelu carries its ``alpha``).
_OP_OF = {cls: op for op, cls in _ACTIVATION_OPS.items()}
_NOOP_OPS = ("Identity", "Flatten", "Reshape", "Unsqueeze", "Squeeze")
# Mul/Min/Max are read only inside the PLU pattern; Add also as a bias after MatMul.
_PATTERN_OPS = ("Mul", "Min", "Max")
_CHAIN_OPS = sorted({*_AFFINE_OPS, *_ACTIVATION_OPS, *_NOOP_OPS, "Add", "BatchNormalization", "Constant"})
# Shape arithmetic evaluated when it depends only on constants and static shapes.
_FOLD_ONLY = sorted(set(_onnx_fold.FOLDERS) - set(_CHAIN_OPS) - set(_PATTERN_OPS))
_SUPPORTED = sorted({*_CHAIN_OPS, *_FOLD_ONLY})
_SUPPORTED_TEXT = (", ".join(_CHAIN_OPS) + " (and Mul/Min/Max in the PLU pattern theorychk writes; on constants "
                   "and static shapes: " + ", ".join(_FOLD_ONLY) + ")")
_FLOAT_TYPES = {1: "float32", 11: "float64", 10: "float16"}  # TensorProto.FLOAT, DOUBLE, FLOAT16


class _Lazy:
    """``import onnx`` on first use: reading does without it (:mod:`theorychk.io._onnx_lean`)."""

    def __init__(self, module: str, attr: str | None = None) -> None:
        self._module, self._attr = module, attr

    def __getattr__(self, name: str) -> Any:
        target = importlib.import_module(self._module)
        return getattr(getattr(target, self._attr) if self._attr else target, name)


# The writer's names; only the writer and rare reading paths touch them.
onnx = _Lazy("onnx")
helper = _Lazy("onnx.helper")
numpy_helper = _Lazy("onnx.numpy_helper")
TensorProto = _Lazy("onnx", "TensorProto")


class Float32RoundingWarning(UserWarning):
    """An export to ONNX changed a number: the file holds the float32-rounded network."""


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def read(path: Path, sel: ModelSelection) -> Network:
    """Read a fully connected generator from an ONNX file.

    Parameters
    ----------
    path : Path
        The ``.onnx`` file.
    sel : ModelSelection
        The user's model-selection options. ``sel.layers`` is refused (an ONNX graph says which
        layers it has); ``sel.activation`` / ``sel.final_activation`` override the file's.

    Returns
    -------
    Network
        Layers latent side first; float32 initializers give float32 layers.

    Raises
    ------
    InvalidInput
        If the file is not a readable ONNX model, or its graph is not a chain of the supported
        ops; the message names the offending op and node.
    """
    if sel.layers is not None:
        raise InvalidInput(
            f"layers selects state_dict entries; {path.name} is an ONNX graph whose layers are read "
            f"from its nodes (drop --layers)", argument="layers", got=sel.layers,
        )
    model = _load(path)
    net = _parse(model, source=f"model file {path}", sel=sel)
    meta = {prop.key: prop.value for prop in model.metadata_props}
    return Network(net.layers, name=meta.get("theorychk.name") or path.stem)


def _load(path: Path) -> onnx.ModelProto:
    """Load and structurally check a model; every failure is one line naming the file.

    A model passes onnx's C++ checker, loaded without the ``onnx`` package
    (:mod:`theorychk.io._onnx_lean`: ``import onnx`` costs most of a second). Its fields are
    decoded from the bytes by :mod:`theorychk.io._onnx_wire` (no protobuf import: ~20-30 ms of a
    CLI read, issue 18); a file that decoder leaves to onnx (external data, exotic fields), or
    that the checker rejects, is parsed with onnx's own message classes, and every message about
    a bad file comes from that path -- a model with external data by ``onnx.load``, which
    resolves it.
    """
    model = _load_wire(path)
    return model if model is not None else _load_classes(path)


def _load_wire(path: Path) -> Any:
    """The model as :mod:`~theorychk.io._onnx_wire` objects once onnx's checker passed its bytes;
    ``None``: read it with onnx's classes (:func:`_load_classes`, which says what is wrong)."""
    try:
        c = _onnx_lean.checker()
        data = path.read_bytes()
        model = _onnx_wire.parse(data)
    except (_onnx_lean.NeedFullOnnx, OSError, ImportError):
        return None
    if not model.HasField("graph"):
        return None
    try:
        c.checker.check_model(data, False, False, False)
    except (c.checker.ValidationError, ValueError):
        return None
    return model


def _load_classes(path: Path) -> onnx.ModelProto:
    """:func:`_load` with onnx's generated message classes (protobuf)."""
    from google.protobuf.message import DecodeError

    def one_line(exc: BaseException) -> str:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

    try:
        pb2, c = _onnx_lean.modules()
    except _onnx_lean.NeedFullOnnx:
        pb2 = c = None
    try:
        if pb2 is None:
            raise _onnx_lean.NeedFullOnnx("lean reader unavailable")
        data = path.read_bytes()
        model = pb2.ModelProto.FromString(data)
        if model.HasField("graph") and any(t.data_location == 1 for t in model.graph.initializer):
            raise _onnx_lean.NeedFullOnnx("external data")
        check = (lambda: c.checker.check_model(data, False, False, False))  # noqa: E731
        invalid: tuple[type[BaseException], ...] = (c.checker.ValidationError, ValueError)
    except _onnx_lean.NeedFullOnnx:
        try:
            model = onnx.load(str(path))
        except (DecodeError, OSError, ValueError, onnx.checker.ValidationError) as exc:
            raise InvalidInput(f"model file {path} is not a readable ONNX model ({one_line(exc)})",
                               argument="path", got=str(path)) from None
        check = (lambda: onnx.checker.check_model(model))  # noqa: E731
        invalid = (onnx.checker.ValidationError, ValueError)
    except (DecodeError, OSError, ValueError) as exc:
        raise InvalidInput(f"model file {path} is not a readable ONNX model ({one_line(exc)})",
                           argument="path", got=str(path)) from None
    if not model.HasField("graph"):
        # An empty (or all-unknown-fields) file parses as an empty ModelProto.
        raise InvalidInput(f"model file {path} is not an ONNX model (no graph in it)",
                           argument="path", got=str(path))
    try:
        check()
    except invalid as exc:
        raise InvalidInput(f"model file {path} is not a valid ONNX model ({one_line(exc)})",
                           argument="path", got=str(path)) from None
    return model


@dataclass
class _Affine:
    """A layer under construction: its affine part, then (once seen) its activation."""

    weight: np.ndarray | Conv
    bias: np.ndarray | None
    where: str
    activation: Activation | None = None

    @property
    def n_in(self) -> int:
        return self.weight.n_in if isinstance(self.weight, Conv) else self.weight.shape[1]

    @property
    def n_out(self) -> int:
        return self.weight.n_out if isinstance(self.weight, Conv) else self.weight.shape[0]


class _Graph:
    """Constants, the non-constant nodes with readable labels, and who consumes which tensor."""

    def __init__(self, graph: onnx.GraphProto, source: str) -> None:
        self.source = source
        self.constants: dict[str, np.ndarray] = {}
        for j, init in enumerate(graph.initializer):
            self.constants[init.name] = self._to_array(init, f"initializer {init.name!r}",
                                                       f"graph.initializer[{j}]")
        self.nodes: list[onnx.NodeProto] = []
        self.labels: dict[int, str] = {}
        self.fields: dict[int, str] = {}
        self.folding = "graph"  # the field of the node being folded, for a bad tensor attribute
        self.input_fields = {vi.name: f"graph.input[{k}]" for k, vi in enumerate(graph.input)}
        for idx, node in enumerate(graph.node):
            label = f"node {node.name!r}" if node.name else f"unnamed node #{idx} (output {node.output[0]!r})"
            op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
            if op not in _SUPPORTED and op not in _PATTERN_OPS:
                raise InvalidInput(
                    f"{source}: unsupported ONNX op {op!r} at {label}; supported: {_SUPPORTED_TEXT}",
                    argument=f"graph.node[{idx}]", got=op,
                )
            self.labels[id(node)] = label
            self.fields[id(node)] = f"graph.node[{idx}]"
            if op == "Constant":
                self.constants[node.output[0]] = self._constant(node, label)
            else:
                self.nodes.append(node)
        self.consumers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
        self.fold()

    def fold(self) -> None:
        """Evaluate every node whose inputs are all constants (in graph order, which is topological).

        PyTorch's exporter shares equal initializers through ``Identity`` nodes and writes the
        shape arithmetic of ``Unflatten`` / ``view`` as ``Shape``/``Gather``/``Mod``/``Concat``
        nodes: once their inputs are known they are constants too (:mod:`theorychk.io._onnx_fold`).
        """
        kept = []
        for node in self.nodes:
            names = list(node.input)
            if node.op_type in _onnx_fold.FOLDERS and all(not n or n in self.constants for n in names):
                inputs = [self.constants[n] if n else None for n in names]
                self.folding = self.field(node)
                try:
                    outputs = _onnx_fold.fold(node.op_type, inputs, _attrs(node), self._tensor_value)
                except _onnx_fold.FoldError as exc:
                    raise self.fail(f"{node.op_type} at {self.label(node)} on constants: {exc}",
                                    argument=self.field(node), got=node.op_type) from None
                for name, value in zip(node.output, outputs, strict=False):
                    if name:
                        self.constants[name] = value
            else:
                kept.append(node)
        self.nodes = kept
        self.consumers = defaultdict(list)
        for node in self.nodes:
            for name in dict.fromkeys(node.input):
                if name and name not in self.constants:
                    self.consumers[name].append(node)

    def resolve_shapes(self, tensor: str, shape: tuple[int, ...] | None) -> None:
        """``Shape`` nodes reading ``tensor``, whose static shape is ``shape``, become constants; fold again."""
        readers = [n for n in self.consumers.get(tensor, []) if n.op_type == "Shape"]
        if not readers:
            return
        if shape is None:
            raise self.fail(f"Shape at {self.label(readers[0])} reads tensor {tensor!r}, whose shape is not static "
                            f"(declare the input's dimensions)", argument=self.field(readers[0]), got=tensor)
        for node in readers:
            self.constants[node.output[0]] = _onnx_fold.fold("Shape", [np.broadcast_to(np.zeros(()), shape)], _attrs(node),
                                                             self._tensor_value)[0]
        self.nodes = [n for n in self.nodes if all(n is not r for r in readers)]
        self.fold()

    def _tensor_value(self, tensor: onnx.TensorProto) -> np.ndarray:
        return self._to_array(tensor, "a constant attribute", self.folding)

    def fail(self, message: str, *, argument: str, got: Any) -> InvalidInput:
        """The refusal of this graph: ``argument`` is the ONNX field at fault (``graph.node[3]``,
        ``graph.node[3].alpha``, ``graph.input[0]``, or ``graph`` for the chain as a whole)."""
        return InvalidInput(f"{self.source}: {message}", argument=argument, got=got)

    def label(self, node: onnx.NodeProto) -> str:
        return self.labels[id(node)]

    def field(self, node: onnx.NodeProto, attribute: str = "") -> str:
        """The node (or one of its attributes) as a field of the ONNX model: ``graph.node[3].alpha``."""
        return self.fields[id(node)] + (f".{attribute}" if attribute else "")

    def _to_array(self, tensor: onnx.TensorProto, what: str, argument: str) -> np.ndarray:
        try:
            try:
                return _onnx_lean.to_array(tensor)
            except _onnx_lean.NeedFullOnnx:
                return numpy_helper.to_array(tensor)
        except Exception as exc:  # onnx raises several types for malformed or external data
            raise self.fail(f"{what} cannot be read ({type(exc).__name__}: {exc})", argument=argument,
                            got=type(exc).__name__) from None

    def _constant(self, node: onnx.NodeProto, label: str) -> np.ndarray:
        attr = node.attribute[0] if len(node.attribute) == 1 else None
        if attr is None:
            raise self.fail(f"Constant {label} must have exactly one value attribute",
                            argument=self.field(node), got=[a.name for a in node.attribute])
        value = _attribute_value(attr)
        if attr.name == "value":
            return self._to_array(value, f"Constant {label}", self.field(node, "value"))
        if attr.name in ("value_float", "value_floats"):
            return np.array(value, dtype=np.float32)
        if attr.name in ("value_int", "value_ints"):
            return np.array(value, dtype=np.int64)
        raise self.fail(f"Constant {label} holds a {attr.name!r}; theorychk reads dense tensors and numbers",
                        argument=self.field(node, attr.name), got=attr.name)

    def const(self, node: onnx.NodeProto, position: int, what: str) -> np.ndarray:
        name = node.input[position] if position < len(node.input) else ""
        if name not in self.constants:
            raise self.fail(
                f"{node.op_type} at {self.label(node)} needs a constant {what}; input {name!r} is not one",
                argument=self.field(node), got=name,
            )
        return self.constants[name]

    def sole_consumer(self, tensor: str, op_type: str, output: str) -> onnx.NodeProto | None:
        users = self.consumers.get(tensor, [])
        if tensor == output or len(users) != 1 or users[0].op_type != op_type:
            return None
        return users[0]

    def scalar_operand(self, node: onnx.NodeProto, data: str) -> float | None:
        """The constant scalar of a binary node whose other operand is ``data``."""
        if len(node.input) != 2 or data not in node.input:
            return None
        other = node.input[1] if node.input[0] == data else node.input[0]
        value = self.constants.get(other)
        if value is None or value.size != 1 or not np.issubdtype(value.dtype, np.floating):
            return None
        return float(value.reshape(-1)[0])


def _attribute_value(attr: onnx.AttributeProto) -> object:
    try:
        return _onnx_lean.attribute_value(attr)
    except _onnx_lean.NeedFullOnnx:
        return helper.get_attribute_value(attr)


def _attrs(node: onnx.NodeProto) -> dict[str, object]:
    return {attr.name: _attribute_value(attr) for attr in node.attribute}


def _as_decimal(value: float) -> float:
    """The shortest decimal that rounds to the same float32 (``0.2f`` -> ``0.2``)."""
    return float(str(np.float32(value)))


def _parse(model: onnx.ModelProto, *, source: str, sel: ModelSelection) -> Network:
    graph = model.graph
    g = _Graph(graph, source)
    inputs = [vi for vi in graph.input if vi.name not in g.constants]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise g.fail(
            f"theorychk reads a network with one input and one output; this graph has inputs "
            f"{[vi.name for vi in inputs]} and outputs {[vi.name for vi in graph.output]}",
            argument="graph", got=([vi.name for vi in inputs], [vi.name for vi in graph.output]),
        )
    shape = _input_shape(g, inputs[0])
    out_name = graph.output[0].name
    pending = _walk(g, inputs[0].name, out_name, shape)

    stored = [p.activation or Identity() for p in pending]
    acts = sel.activations_for(len(pending), stored, source)
    layers = []
    for i, (p, act) in enumerate(zip(pending, acts, strict=True)):
        try:
            layers.append(Layer(p.weight, p.bias, act))
        except InvalidInput as exc:
            raise g.fail(f"layer {i} (from {p.where}): {exc}", argument=layer_field(i, exc.argument),
                         got=exc.got) from None
    try:
        net = Network(tuple(layers))
    except InvalidInput as exc:
        raise g.fail(str(exc), argument=exc.argument, got=exc.got) from None
    declared = _static_dims(graph.output[0])
    if declared and None not in declared:
        n_declared = int(np.prod(declared[1:] if len(declared) > 1 else declared, dtype=np.int64))
        if n_declared != net.output_dim:
            raise g.fail(
                f"output {out_name!r} is declared with {n_declared} values but the layers produce "
                f"{net.output_dim}", argument="graph.output[0]", got=declared,
            )
    elif declared and declared[-1] is not None and len(declared) <= 2 and declared[-1] != net.output_dim:
        raise g.fail(
            f"output {out_name!r} is declared with {declared[-1]} values but the layers produce "
            f"{net.output_dim}", argument="graph.output[0]", got=declared,
        )
    return net


def _static_dims(value_info: onnx.ValueInfoProto) -> list[int | None] | None:
    """Declared dims (``None`` for symbolic ones), or ``None`` when no shape is declared."""
    tensor_type = value_info.type.tensor_type
    if not tensor_type.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") else None for d in tensor_type.shape.dim]


def _input_shape(g: _Graph, value_info: onnx.ValueInfoProto) -> tuple[int | None, ...] | None:
    """The latent input's shape with the batch dim set to 1: ``[n]``, ``[1, n]``, ``[1, C, H, W]``...

    ``None`` when no shape is declared; a symbolic dim other than the batch stays ``None``.
    """
    elem = value_info.type.tensor_type.elem_type
    if elem not in _FLOAT_TYPES:
        name = TensorProto.DataType.Name(elem) if elem in TensorProto.DataType.values() else str(elem)
        raise g.fail(f"input {value_info.name!r} has element type {name}; theorychk reads float inputs",
                     argument=g.input_fields[value_info.name], got=name)
    dims = _static_dims(value_info)
    if dims is None:
        return None
    if not dims or (len(dims) >= 2 and dims[0] not in (None, 1)):
        shown = ["?" if d is None else d for d in dims]
        raise g.fail(
            f"input {value_info.name!r} has shape {shown}; theorychk reads generators whose input is "
            f"one latent code of shape [n], [1, n] or [1, C, H, W]",
            argument=g.input_fields[value_info.name], got=shown,
        )
    return tuple(dims) if len(dims) == 1 else (1, *dims[1:])


def _static(shape: tuple[int | None, ...] | None) -> tuple[int, ...] | None:
    """``shape`` if every dim is known, else ``None``."""
    return None if shape is None or None in shape else shape  # type: ignore[return-value]


def _width(shape: tuple[int | None, ...] | None) -> int | None:
    """Values in one sample: the product of the dims after the batch (all of a 1-D shape)."""
    if shape is None:
        return None
    dims = shape if len(shape) == 1 else shape[1:]
    return None if None in dims else int(np.prod(dims, dtype=np.int64))


def _one_sample(g: _Graph, node: onnx.NodeProto, shape: tuple[int, ...], dims: object) -> tuple[int, ...]:
    """``shape`` if it is still one sample (rank 1, or a leading 1), else the Reshape-style refusal."""
    if len(shape) >= 2 and shape[0] != 1:
        raise g.fail(
            f"{node.op_type} at {g.label(node)} to {dims} is not a no-op on one sample of "
            f"{int(np.prod(shape))} values (the leading batch dimension must stay 1); theorychk reads one "
            f"latent code at a time", argument=g.field(node), got=dims,
        )
    return shape


def _walk(g: _Graph, tensor: str, output: str, shape: tuple[int | None, ...] | None) -> list[_Affine]:
    """Follow the chain from the input tensor to ``output``, collecting layers.

    ``shape`` is the running tensor's shape (batch dim 1) while it is known: ``Shape`` nodes that
    read the running tensor become constants, so the shape arithmetic exporters emit folds away.
    """
    layers: list[_Affine] = []
    current: _Affine | None = None
    visited: set[int] = set()
    width = _width(shape)
    rank = 2 if shape is None else len(shape)

    def open_layer(node: onnx.NodeProto, why: str) -> _Affine:
        """The layer under construction, which must still lack its activation."""
        if current is None or current.activation is not None:
            raise g.fail(
                f"{node.op_type} at {g.label(node)} does not follow an affine layer (Gemm or MatMul); {why}",
                argument=g.field(node), got=node.op_type,
            )
        return current

    while tensor != output:
        g.resolve_shapes(tensor, _static(shape))
        users = g.consumers.get(tensor, [])
        if not users:
            raise g.fail(f"tensor {tensor!r} is used by no node and is not the graph output {output!r}",
                         argument="graph", got=tensor)
        if len(users) > 1:
            awaiting_activation = current is not None and current.activation is None
            plu = _match_plu(g, tensor, output) if awaiting_activation else None
            if plu is None:
                names = ", ".join(g.label(n) for n in users)
                raise g.fail(
                    f"tensor {tensor!r} feeds {len(users)} nodes ({names}); theorychk reads a chain "
                    f"from input to output, and the only branching it reads is the PLU pattern it writes",
                    argument="graph", got=tensor,
                )
            assert current is not None
            current.activation, tensor, nodes = plu
            visited.update(id(n) for n in nodes)
            continue
        node = users[0]
        if id(node) in visited:
            raise g.fail(f"the graph has a cycle through {g.label(node)}", argument="graph",
                         got=g.field(node))
        visited.add(id(node))
        data = [name for name in node.input if name and name not in g.constants]
        if data != [tensor]:
            raise g.fail(
                f"{node.op_type} at {g.label(node)} combines tensors {data}; theorychk reads a chain "
                f"in which every node takes the previous tensor and constants",
                argument=g.field(node), got=data,
            )
        for extra in node.output[1:]:
            if extra and (extra == output or g.consumers.get(extra)):
                raise g.fail(f"{node.op_type} at {g.label(node)} has a second output {extra!r} that is used",
                             argument=g.field(node), got=extra)
        op = node.op_type
        if op in _AFFINE_OPS:
            if current is not None:
                layers.append(current)
            if op in ("Conv", "ConvTranspose"):
                current = _conv(g, node, shape)
                shape = (1, *current.weight.out_shape)
            else:
                if op == "Gemm" and shape is not None and len(shape) != 2:
                    raise g.fail(f"Gemm at {g.label(node)} takes a tensor of shape {list(shape)}; it reads a row "
                                 f"[1, n] (Flatten first)", argument=g.field(node), got=list(shape))
                if op == "MatMul" and shape is not None and len(shape) > 2:
                    lead = shape[:-1]
                    if None in lead or int(np.prod(lead)) != 1:
                        raise g.fail(f"MatMul at {g.label(node)} takes a tensor of shape {list(shape)}; theorychk "
                                     f"reads x @ W on one row (every dim but the last 1)",
                                     argument=g.field(node), got=list(shape))
                current = _gemm(g, node, tensor) if op == "Gemm" else _matmul(g, node, tensor)
                if shape is not None and shape[-1] is None:
                    shape = None
                if shape is not None:
                    shape = (*shape[:-1], current.n_out) if op == "MatMul" else (1, current.n_out)
            if width is not None and current.n_in != width:
                raise g.fail(
                    f"{op} at {g.label(node)} takes {current.n_in} values but its input "
                    f"has {width}", argument=g.field(node), got=current.n_in,
                )
            width = current.n_out
            rank = len(shape) if shape is not None else (2 if op == "Gemm" else rank)
        elif op == "Add":
            _add_bias(g, node, tensor, current, shape)
        elif op == "BatchNormalization":
            layer = open_layer(node, "theorychk folds batch norm only into the affine layer right before it")
            _fold_bn(g, node, layer, shape)
        elif op in _ACTIVATION_OPS:
            layer = open_layer(node, "theorychk reads layers of the form activation(W x + b)")
            layer.activation = _activation(g, node)
        elif op == "Flatten":
            axis = int(_attrs(node).get("axis", 1))
            if (axis + rank if axis < 0 else axis) > rank - 1 and _static(shape) is None:
                raise g.fail(
                    f"Flatten at {g.label(node)} with axis={axis} turns the row vector into a column",
                    argument=g.field(node, "axis"), got=axis,
                )
            if _static(shape) is not None:
                axis = axis + len(shape) if axis < 0 else axis
                head = int(np.prod(shape[:axis], dtype=np.int64))
                if head != 1:
                    raise g.fail(
                        f"Flatten at {g.label(node)} with axis={axis} turns the row vector into a column",
                        argument=g.field(node, "axis"), got=axis,
                    )
                shape = (1, int(np.prod(shape[axis:], dtype=np.int64)))
            else:
                shape = None
            rank = 2
        elif op == "Reshape" and _static(shape) is not None:
            dims = [int(d) for d in g.const(node, 1, "shape").reshape(-1)]
            try:
                new = _onnx_fold.resolve_reshape(shape, dims, allowzero=bool(_attrs(node).get("allowzero", 0)))
            except _onnx_fold.FoldError as exc:
                raise g.fail(f"Reshape at {g.label(node)}: {exc}", argument=g.field(node), got=dims) from None
            shape = _one_sample(g, node, new, dims)
            rank = len(shape)
        elif op == "Reshape":
            width, rank = _reshape(g, node, width)
            shape = None
        elif op in ("Unsqueeze", "Squeeze"):
            if _static(shape) is None:
                raise g.fail(f"{op} at {g.label(node)} acts on a tensor whose shape is not static "
                             f"(declare the input's dimensions)", argument=g.field(node), got=shape)
            axes = _onnx_fold._axes([None, *(g.const(node, 1, "axes") for _ in node.input[1:2])], _attrs(node), 1)
            try:
                new = _onnx_fold.fold(op, [np.broadcast_to(np.zeros(()), shape),
                                           None if axes is None else np.array(axes)], {}, g._tensor_value)[0].shape
            except _onnx_fold.FoldError as exc:
                raise g.fail(f"{op} at {g.label(node)}: {exc}", argument=g.field(node, "axes"),
                             got=axes) from None
            shape = _one_sample(g, node, tuple(int(d) for d in new), axes)
            rank = len(shape)
        elif op in _FOLD_ONLY:
            raise g.fail(
                f"{op} at {g.label(node)} computes on the network's values; theorychk evaluates {op} only where "
                f"it depends on constants and static shapes",
                argument=g.field(node), got=op,
            )
        elif op != "Identity":
            raise g.fail(
                f"{op} at {g.label(node)} is read only inside the PLU pattern theorychk writes; "
                f"supported: {_SUPPORTED_TEXT}",
                argument=g.field(node), got=op,
            )
        tensor = node.output[0]
    if g.consumers.get(output):
        raise g.fail(f"the graph output {output!r} also feeds {g.label(g.consumers[output][0])}; not a chain",
                     argument="graph.output[0]", got=output)
    if current is None:
        raise g.fail("the graph has no affine layer (Gemm, MatMul, Conv or ConvTranspose) between its input and "
                     "output", argument="graph", got=None)
    layers.append(current)
    stray = [g.label(n) for n in g.nodes if id(n) not in visited]
    if stray:
        raise g.fail(f"{', '.join(stray)} are not on the chain from input to output; theorychk reads a chain",
                     argument="graph", got=stray)
    return layers


def _conv(g: _Graph, node: onnx.NodeProto, shape: tuple[int | None, ...] | None) -> _Affine:
    """ONNX ``Conv`` / ``ConvTranspose`` (2-D, every attribute) on the running ``[1, C, H, W]`` tensor."""
    where = g.label(node)
    op = node.op_type
    transposed = op == "ConvTranspose"
    if _static(shape) is None or len(shape) != 4 or shape[0] != 1:
        shown = "an undeclared shape" if shape is None else f"shape {['?' if d is None else d for d in shape]}"
        raise g.fail(f"{op} at {where} acts on a tensor of {shown}; theorychk reads 2-D convolutions on one "
                     f"sample [1, C, H, W] with static dims", argument=g.field(node), got=shape)
    kernel = g.const(node, 1, "kernel W")
    if kernel.ndim != 4:
        raise g.fail(f"{op} at {where} has a kernel of shape {list(kernel.shape)}; theorychk reads 2-D "
                     f"convolutions (4-D kernels)", argument=g.field(node, "input[1]"), got=kernel.shape)
    attrs = _attrs(node)
    declared = attrs.get("kernel_shape")
    if declared is not None and list(declared) != list(kernel.shape[2:]):
        raise g.fail(f"{op} at {where} declares kernel_shape {list(declared)} but its kernel is "
                     f"{list(kernel.shape[2:])}", argument=g.field(node, "kernel_shape"), got=list(declared))
    stride = tuple(int(v) for v in attrs.get("strides", (1, 1)))
    dilation = tuple(int(v) for v in attrs.get("dilations", (1, 1)))
    out_pad = tuple(int(v) for v in attrs.get("output_padding", (0, 0)))
    pads = tuple(int(v) for v in attrs.get("pads", (0, 0, 0, 0)))
    auto_pad = attrs.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    if auto_pad == "VALID":
        pads = (0, 0, 0, 0)
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        if transposed:
            raise g.fail(f"ConvTranspose at {where} has auto_pad={auto_pad}, which theorychk does not read "
                         f"(export with explicit pads)", argument=g.field(node, "auto_pad"), got=auto_pad)
        total = []
        for axis in range(2):
            span = dilation[axis] * (kernel.shape[2 + axis] - 1) + 1
            out = -(-shape[2 + axis] // stride[axis])
            total.append(max(0, (out - 1) * stride[axis] + span - shape[2 + axis]))
        small = [t // 2 for t in total]
        big = [t - t // 2 for t in total]
        begin, end = (small, big) if auto_pad == "SAME_UPPER" else (big, small)
        pads = (begin[0], begin[1], end[0], end[1])
    elif auto_pad != "NOTSET":
        raise g.fail(f"{op} at {where} has auto_pad={auto_pad!r}; ONNX defines NOTSET, VALID, SAME_UPPER, SAME_LOWER",
                     argument=g.field(node, "auto_pad"), got=auto_pad)
    if transposed and "output_shape" in attrs:
        raise g.fail(f"ConvTranspose at {where} sets output_shape, which theorychk does not read (export with "
                     f"explicit pads and output_padding)", argument=g.field(node, "output_shape"),
                     got=attrs["output_shape"])
    try:
        conv = Conv(kernel, tuple(shape[1:]), stride=stride, padding=pads, output_padding=out_pad,
                    dilation=dilation, groups=int(attrs.get("group", 1)), transposed=transposed)
    except InvalidInput as exc:
        field = g.field(node, _CONV_ATTRIBUTES.get(exc.argument, ""))
        raise g.fail(f"{op} at {where}: {exc}", argument=field, got=exc.got) from None
    bias = None
    if len(node.input) > 2 and node.input[2]:
        bias = g.const(node, 2, "bias B").reshape(-1)
        if bias.shape != (conv.out_shape[0],):
            raise g.fail(f"{op} at {where} has a bias of shape {list(bias.shape)}; it needs one value per output "
                         f"channel ({conv.out_shape[0]})", argument=g.field(node, "input[2]"), got=bias.shape)
    return _Affine(conv, bias, where)


#: The ONNX attribute of Conv / ConvTranspose behind each argument of :class:`~theorychk.conv.Conv`
#: (the kernel is the node's input 1; in_shape is the running tensor, the node itself).
_CONV_ATTRIBUTES = {"kernel": "input[1]", "stride": "strides", "dilation": "dilations", "padding": "pads",
                    "output_padding": "output_padding", "groups": "group"}


def _bias_vector(g: _Graph, node: onnx.NodeProto, value: np.ndarray, n_out: int) -> np.ndarray:
    """A bias broadcasting onto a row ``[1, n_out]``: shape ``()``, ``(n,)`` or ``(1, n)``, n = 1 or n_out."""
    ok = value.ndim <= 2 and (value.ndim < 2 or value.shape[0] == 1) and value.size in (1, n_out)
    if not ok:
        raise g.fail(
            f"{node.op_type} at {g.label(node)} adds a constant of shape {list(value.shape)}; "
            f"a bias onto {n_out} values must have shape [{n_out}] or [1, {n_out}]",
            argument=g.field(node), got=value.shape,
        )
    flat = value.reshape(-1)
    return np.full(n_out, flat[0], dtype=flat.dtype) if flat.size == 1 and n_out != 1 else flat


def _gemm(g: _Graph, node: onnx.NodeProto, tensor: str) -> _Affine:
    attrs = _attrs(node)
    where = g.label(node)
    if node.input[0] != tensor:
        raise g.fail(f"Gemm at {where} takes the data as operand B; theorychk reads Gemm(x, W) on a row x",
                     argument=g.field(node, "input[0]"), got=node.input[0])
    if attrs.get("transA", 0):
        raise g.fail(
            f"Gemm at {where} has transA=1 (a column input); theorychk reads transA=0 on a row [1, n]",
            argument=g.field(node, "transA"), got=attrs["transA"],
        )
    b = g.const(node, 1, "weight B")
    if b.ndim != 2:
        raise g.fail(f"Gemm at {where} has a weight of shape {list(b.shape)}; it must be 2-D",
                     argument=g.field(node, "input[1]"), got=b.shape)
    # Y = alpha * x @ B' + beta * C with B' = B.T when transB=1: as a column map W = B'.T.
    weight = b if attrs.get("transB", 0) else b.T
    alpha = float(attrs.get("alpha", 1.0))
    if alpha != 1.0:
        # Exact for float32 weights: alpha is float32, and a float32*float32 product fits in float64.
        weight = alpha * weight.astype(np.float64)
    bias = None
    beta = float(attrs.get("beta", 1.0))
    if len(node.input) > 2 and node.input[2] and beta != 0.0:
        bias = _bias_vector(g, node, g.const(node, 2, "bias C"), weight.shape[0])
        if beta != 1.0:
            bias = beta * bias.astype(np.float64)
    return _Affine(weight, bias, where)


def _matmul(g: _Graph, node: onnx.NodeProto, tensor: str) -> _Affine:
    where = g.label(node)
    if node.input[0] != tensor:
        raise g.fail(
            f"MatMul at {where} has the weight as its first operand (W @ x on a column); "
            f"theorychk reads x @ W with x a row [1, n] and W of shape (n_in, n_out)",
            argument=g.field(node, "input[0]"), got=node.input[0],
        )
    w = g.const(node, 1, "weight")
    if w.ndim != 2:
        raise g.fail(f"MatMul at {where} has a weight of shape {list(w.shape)}; it must be 2-D (n_in, n_out)",
                     argument=g.field(node, "input[1]"), got=w.shape)
    return _Affine(w.T, None, where)


def _add_bias(g: _Graph, node: onnx.NodeProto, tensor: str, current: _Affine | None,
              shape: tuple[int | None, ...] | None) -> None:
    where = g.label(node)
    if current is None or current.activation is not None or current.bias is not None:
        raise g.fail(
            f"Add at {where} is read only as the bias of a MatMul, Conv (or of a Gemm without C) right before it",
            argument=g.field(node), got=node.op_type,
        )
    other = node.input[1] if node.input[0] == tensor else node.input[0]
    value = g.constants[other]
    static = _static(shape)
    if static is not None and len(static) > 2:  # onto a feature map: it must broadcast without growing it
        try:
            grown = np.broadcast_shapes(value.shape, static) != static
        except ValueError:
            grown = True
        if grown:
            raise g.fail(f"Add at {where} adds a constant of shape {list(value.shape)}, which does not broadcast "
                         f"onto the tensor's shape {list(static)}", argument=g.field(node), got=value.shape)
        current.bias = np.broadcast_to(value, static).reshape(-1).copy()
        return
    current.bias = _bias_vector(g, node, value, current.n_out)


def _fold_bn(g: _Graph, node: onnx.NodeProto, current: _Affine, shape: tuple[int | None, ...] | None) -> None:
    where = g.label(node)
    attrs = _attrs(node)
    if attrs.get("training_mode", 0):
        raise g.fail(f"BatchNormalization at {where} is in training mode; export the model in eval mode",
                     argument=g.field(node, "training_mode"), got=attrs["training_mode"])
    keys = ("gamma", "beta", "mean", "var")  # ONNX inputs 1..4: scale, B, input_mean, input_var
    params = {key: g.const(node, i, key).reshape(-1) for i, key in enumerate(keys, 1)}
    # epsilon is a float32 attribute; ONNX Runtime adds exactly that float32 number.
    eps = float(attrs.get("epsilon", 1e-5))
    static = _static(shape)
    if not isinstance(current.weight, Conv) and static is not None and len(static) > 2:
        # A fully connected layer reshaped to [1, C, H, W] (Linear, Unflatten, BatchNorm2d):
        # the channel's numbers apply to each of its H*W units.
        per = int(np.prod(static[2:], dtype=np.int64))
        params = {key: np.repeat(value, per) for key, value in params.items()}
    try:
        current.weight, current.bias = fold_batch_norm(current.weight, current.bias, eps=eps, **params)
    except InvalidInput as exc:
        # fold_batch_norm names its parameters as the keys above, ONNX inputs 1..4 of this node
        field = g.field(node, f"input[{keys.index(exc.argument) + 1}]" if exc.argument in keys else "")
        raise g.fail(f"BatchNormalization at {where}: {exc}", argument=field, got=exc.got) from None


def _activation(g: _Graph, node: onnx.NodeProto) -> Activation:
    cls = _ACTIVATION_OPS[node.op_type]
    if cls is not LeakyReLU:
        return cls()
    slope = _as_decimal(float(_attrs(node).get("alpha", 0.01)))
    if slope == 0.0:
        return ReLU()  # LeakyRelu(0) is exactly Relu
    try:
        return LeakyReLU(slope)
    except InvalidInput as exc:
        raise g.fail(f"LeakyRelu at {g.label(node)}: {exc}", argument=g.field(node, "alpha"),
                     got=slope) from None


def _reshape(g: _Graph, node: onnx.NodeProto, width: int | None) -> tuple[int | None, int]:
    """Accept a Reshape that keeps a row vector a row vector; return the new width and rank."""
    dims = [int(d) for d in g.const(node, 1, "shape").reshape(-1)]
    last = dims[-1] if dims else None
    lead_ok = all(d == 1 or (d == -1 and last not in (-1, None)) for d in dims[:-1])
    last_ok = last == -1 or (last is not None and last > 0 and (width is None or last == width))
    if not (1 <= len(dims) <= 2 and lead_ok and last_ok):
        raise g.fail(
            f"Reshape at {g.label(node)} to {dims} is not a no-op on a row vector of {width or 'n'} values; "
            f"theorychk reads fully connected chains",
            argument=g.field(node, "input[1]"), got=dims,
        )
    return (width if last == -1 else last), len(dims)


def _match_plu(g: _Graph, u: str, output: str) -> tuple[PLU, str, list[onnx.NodeProto]] | None:
    """Match the PLU subgraph :func:`write` emits on the pre-activation ``u``.

    ``lo = (u + c) * a + (-c)``, ``hi = (u + (-c)) * a + c``, ``out = Max(lo, Min(hi, u))``,
    operands of each binary node in either order. Returns ``(PLU(a, c), out, nodes)``.
    """
    users = g.consumers[u]
    adds = [n for n in users if n.op_type == "Add"]
    mins = [n for n in users if n.op_type == "Min"]
    if len(users) != 3 or len(adds) != 2 or len(mins) != 1:
        return None
    branches = []
    for add in adds:
        shift = g.scalar_operand(add, u)
        mul = g.sole_consumer(add.output[0], "Mul", output)
        slope = None if mul is None else g.scalar_operand(mul, add.output[0])
        back = None if mul is None else g.sole_consumer(mul.output[0], "Add", output)
        unshift = None if back is None else g.scalar_operand(back, mul.output[0])
        if None in (shift, slope, unshift):
            return None
        branches.append((shift, slope, unshift, back, [add, mul, back]))
    branches.sort(key=lambda b: -b[0])  # the u + c branch first
    (c, a, minus_c, lo_node, lo_nodes), (minus_c2, a2, c2, hi_node, hi_nodes) = branches
    if not (c > 0 and minus_c == minus_c2 == -c and c2 == c and a == a2):
        return None
    lo, hi = lo_node.output[0], hi_node.output[0]
    if g.sole_consumer(hi, "Min", output) is not mins[0] or set(mins[0].input) != {hi, u}:
        return None
    mid = mins[0].output[0]
    top = g.sole_consumer(lo, "Max", output)
    if top is None or g.sole_consumer(mid, "Max", output) is not top or set(top.input) != {lo, mid}:
        return None
    try:
        act = PLU(_as_decimal(a), _as_decimal(c))
    except InvalidInput as exc:
        raise g.fail(f"PLU pattern at {g.label(top)}: {exc}", argument=g.field(top), got=(a, c)) from None
    return act, top.output[0], [*lo_nodes, *hi_nodes, mins[0], top]


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def write(net: Network, path: str | Path) -> Path:
    """Write ``net`` in the verifier-ready ONNX form (see the module docstring).

    Parameters
    ----------
    net : Network
        The generator. Weights that are not float32 numbers are rounded to float32, with a
        :class:`Float32RoundingWarning`; the file then holds the rounded network.
    path : str or Path
        Where to write; parent folders are created.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InvalidInput
        If a weight or bias is beyond the float32 range, or an activation has no ONNX form.
    """
    model = to_model(net)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(path))
    return path


def to_model(net: Network) -> onnx.ModelProto:
    """Build the ONNX model :func:`write` saves (opset 13, IR version 8, checked with ``full_check``).

    Examples
    --------
    >>> import numpy as np
    >>> from theorychk.network import Layer, Network
    >>> net = Network([Layer(np.eye(2, dtype=np.float32), None, "relu")])
    >>> [node.op_type for node in to_model(net).graph.node]
    ['Gemm', 'Relu']
    """
    initializers: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []
    rounded: list[str] = []
    x = "X"
    shape: tuple[int, ...] = (1, net.latent_dim)  # of the tensor x, as the graph computes it
    ends_as_map = net.layers[-1].conv is not None
    for i, layer in enumerate(net.layers):
        out = "Y" if i == net.depth - 1 and not ends_as_map else f"x{i + 1}"
        stored = layer.operator if layer.conv is None else layer.conv.kernel
        w32, b32 = _float32(stored, i, "weight"), _float32(layer.bias, i, "bias")
        if layer.dtype == "float64" and not (
            np.array_equal(w32, stored) and (not layer.has_bias or np.array_equal(b32, layer.bias))
        ):
            change = max(np.max(np.abs(w32 - stored)), np.max(np.abs(b32 - layer.bias)))
            rounded.append(f"layer {i} (max change {change:.3g})")
        initializers.append(numpy_helper.from_array(w32, f"W{i}"))
        act = layer.activation
        pre = out if isinstance(act, Identity) else f"u{i}"
        if layer.conv is None:
            if shape != (1, layer.n_in):
                x = _reshape_node(x, (1, layer.n_in), f"layer{i}", nodes, initializers)
            gemm_inputs = [x, f"W{i}"]
            if layer.has_bias:
                initializers.append(numpy_helper.from_array(b32, f"b{i}"))
                gemm_inputs.append(f"b{i}")
            nodes.append(helper.make_node("Gemm", gemm_inputs, [pre], name=f"layer{i}/Gemm", transB=1))
            shape = (1, layer.n_out)
        else:
            nodes.extend(_conv_nodes(layer, i, x, shape, pre, b32, nodes, initializers))
            shape = (1, *layer.conv.out_shape)
        nodes.extend(_activation_nodes(act, i, pre, out, initializers, rounded))
        x = out
    if ends_as_map:
        _reshape_node(x, (1, net.output_dim), "output", nodes, initializers, out="Y")
    graph = helper.make_graph(
        nodes,
        net.name or "theorychk",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, net.latent_dim])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, net.output_dim])],
        initializer=initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        producer_name="theorychk",
    )
    onnx.checker.check_model(model, full_check=True)

    # Fingerprint what a reader gets back from this file, which is what a verifier sees.
    exported = _parse(model, source="exported model", sel=ModelSelection())
    fingerprint, source_fp = exported.fingerprint(), net.fingerprint()
    doc = (
        f"theorychk network {net.name or '(unnamed)'}: widths {list(net.widths)}, activations "
        f"{[a.spec for a in net.activations]}; fingerprint sha256:{fingerprint} "
        f"(the float32 network in this file)"
    )
    if fingerprint != source_fp:
        doc += f"; exported from network sha256:{source_fp}, whose numbers were converted to float32"
    model.doc_string = model.graph.doc_string = doc
    helper.set_model_props(
        model,
        {
            "theorychk.name": net.name,
            "theorychk.fingerprint": fingerprint,
            "theorychk.source_fingerprint": source_fp,
        },
    )
    if rounded:
        warnings.warn(
            f"exporting to ONNX rounds to float32: {'; '.join(rounded)}. A verifier sees the rounded "
            f"network (fingerprint {fingerprint[:12]}...); compute targets and forward passes from "
            f"load_network(<the written file>), not from the float64 network",
            Float32RoundingWarning,
            stacklevel=_user_stacklevel(),
        )
    return model


def _reshape_node(x: str, shape: tuple[int, ...], where: str, nodes: list[onnx.NodeProto],
                  initializers: list[onnx.TensorProto], out: str | None = None) -> str:
    """Append ``Reshape(x, shape)`` (a no-op on the flattened sample); return its output's name."""
    out = out or f"{x}_as_{'x'.join(map(str, shape))}"
    initializers.append(numpy_helper.from_array(np.array(shape, dtype=np.int64), f"{where}/shape"))
    nodes.append(helper.make_node("Reshape", [x, f"{where}/shape"], [out], name=f"{where}/Reshape"))
    return out


def _conv_nodes(layer: Layer, i: int, x: str, shape: tuple[int, ...], pre: str, b32: np.ndarray,
                nodes: list[onnx.NodeProto], initializers: list[onnx.TensorProto]) -> list[onnx.NodeProto]:
    """The ``Conv``/``ConvTranspose`` computing ``pre`` from ``x`` for convolutional layer ``i``.

    The input is reshaped to ``[1, C, H, W]`` when it is not already; a bias constant on each
    channel is the node's bias input, any other bias a following ``Add`` of the whole feature map.
    """
    conv = layer.conv
    assert conv is not None
    want = (1, *conv.in_shape)
    if shape != want:
        x = _reshape_node(x, want, f"layer{i}", nodes, initializers)
    inputs = [x, f"W{i}"]
    after: list[onnx.NodeProto] = []
    target = pre
    if layer.has_bias:
        per_channel = b32.reshape(conv.out_shape[0], -1)
        if np.all(per_channel == per_channel[:, :1]):
            initializers.append(numpy_helper.from_array(per_channel[:, 0].copy(), f"b{i}"))
            inputs.append(f"b{i}")
        else:
            initializers.append(numpy_helper.from_array(b32.reshape(want[:1] + conv.out_shape), f"b{i}"))
            target = f"{pre}_nobias"
            after.append(helper.make_node("Add", [target, f"b{i}"], [pre], name=f"layer{i}/Add"))
    op = "ConvTranspose" if conv.transposed else "Conv"
    attrs: dict[str, Any] = {
        "kernel_shape": list(conv.kernel.shape[2:]), "strides": list(conv.stride), "pads": list(conv.padding),
        "dilations": list(conv.dilation), "group": conv.groups,
    }
    if conv.transposed:
        attrs["output_padding"] = list(conv.output_padding)
    return [helper.make_node(op, inputs, [target], name=f"layer{i}/{op}", **attrs), *after]


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning issued here at the first caller outside theorychk.io."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("theorychk.io"):
        frame, level = frame.f_back, level + 1
    return level


def _float32(values: np.ndarray, layer: int, what: str) -> np.ndarray:
    with np.errstate(over="ignore"):
        out = values.astype(np.float32)
    if not np.all(np.isfinite(out)):
        raise InvalidInput(
            f"layer {layer} {what} has values beyond the float32 range; ONNX export needs float32",
            argument=f"layers[{layer}].{what}", got=float(values[~np.isfinite(out)].flat[0]),
        )
    return out


def _activation_nodes(
    act: Activation, i: int, u: str, out: str, initializers: list[onnx.TensorProto], rounded: list[str]
) -> Iterable[onnx.NodeProto]:
    """The nodes computing ``out = act(u)`` for layer ``i`` (none for identity)."""
    name = f"layer{i}/{type(act).__name__}"
    if isinstance(act, Identity):
        return []
    if isinstance(act, LeakyReLU):
        _note_parameter(act.slope, f"layer {i} LeakyReLU slope", rounded)
        return [helper.make_node(_OP_OF[LeakyReLU], [u], [out], name=name, alpha=act.slope)]
    op = next((op for cls, op in _OP_OF.items() if isinstance(act, cls)), None)
    if op is not None:
        return [helper.make_node(op, [u], [out], name=name)]
    if isinstance(act, PLU):
        _note_parameter(act.alpha, f"layer {i} PLU alpha", rounded)
        _note_parameter(act.c, f"layer {i} PLU c", rounded)
        # Scalar float32 constants; -c is exact, so the reader can check the pattern's consistency.
        for key, value in (("alpha", act.alpha), ("c", act.c), ("neg_c", -act.c)):
            initializers.append(numpy_helper.from_array(np.array(value, dtype=np.float32), f"plu{i}_{key}"))
        a, c, neg_c = f"plu{i}_alpha", f"plu{i}_c", f"plu{i}_neg_c"
        t = f"u{i}_plu"
        # PLU(u) = max(a*(u + c) - c, min(a*(u - c) + c, u)), as in theorychk.network.PLU.
        return [
            helper.make_node("Add", [u, c], [f"{t}_up"], name=f"{name}/up"),
            helper.make_node("Mul", [f"{t}_up", a], [f"{t}_up_scaled"], name=f"{name}/up_scale"),
            helper.make_node("Add", [f"{t}_up_scaled", neg_c], [f"{t}_lo"], name=f"{name}/lo"),
            helper.make_node("Add", [u, neg_c], [f"{t}_down"], name=f"{name}/down"),
            helper.make_node("Mul", [f"{t}_down", a], [f"{t}_down_scaled"], name=f"{name}/down_scale"),
            helper.make_node("Add", [f"{t}_down_scaled", c], [f"{t}_hi"], name=f"{name}/hi"),
            helper.make_node("Min", [f"{t}_hi", u], [f"{t}_mid"], name=f"{name}/min"),
            helper.make_node("Max", [f"{t}_lo", f"{t}_mid"], [out], name=f"{name}/max"),
        ]
    raise InvalidInput(f"activation {act.spec!r} of layer {i} has no ONNX form in theorychk's exporter",
                       argument=f"layers[{i}].activation", got=act.spec)


def _note_parameter(value: float, what: str, rounded: list[str]) -> None:
    """Record an activation parameter that will not read back as itself from float32."""
    if _as_decimal(value) != value:
        rounded.append(f"{what} {value!r} (reads back as {_as_decimal(value)!r})")
