"""The part of an ONNX file a generator is read from, decoded from protobuf's wire format.

Reading a model with onnx's generated classes (``onnx_ml_pb2``) first builds the descriptors of
the whole ONNX schema and imports protobuf's Python machinery: ~20-30 ms CPU of every
``theorychk invert NET.onnx`` (issue 18), more than the rest of the read. A generator needs a
handful of fields -- the graph's nodes, initializers, inputs and outputs, and the model's
metadata -- and decoding those from the bytes takes a few hundred field reads (the weights stay
``raw_data`` slices). :func:`parse` returns plain objects with the attribute names (and the
``HasField`` calls) of onnx's messages that :mod:`theorychk.io.onnx` uses, with the same Python
values: ``str`` for strings, ``bytes`` for bytes, ``int`` / ``float`` numbers (a float32 field
widened to float as protobuf does), lists for repeated fields.

Fields a generator does not use are skipped by their wire type, as protobuf skips unknown
fields, without looking inside (a submessage skipped is not decoded). What the decoder cannot
read as protobuf would raises :class:`~theorychk.io._onnx_lean.NeedFullOnnx`, and the caller
reads the file with onnx's own classes as before, so every message about a malformed or unusual
file is theirs: bytes broken in a field it reads, an integer wider than 64 bits (protobuf keeps
its low 64), invalid UTF-8 in a string, a singular message field given twice, tensors with
external or segmented data, string / uint64 data or a data type the lean ``to_array`` does not
handle, attributes holding graphs, sparse tensors or types, sparse initializers. Bytes broken
inside a field it skips are caught by onnx's C++ checker, which parses the whole file again
before it checks the structure (:func:`theorychk.io.onnx._load_wire`): a file the checker
rejects is read with onnx's classes too.
Field numbers: ``onnx/onnx.proto`` (IR version 10; tested against the generated classes in
``tests/io/test_onnx_wire.py``).
"""

from __future__ import annotations

import numpy as np

from theorychk.io._onnx_lean import _NUMPY, NeedFullOnnx

__all__ = ["parse"]


class _Message:
    """Fields as attributes; ``HasField`` answers for the singular message fields read."""

    __slots__ = ("_has",)

    def __init__(self) -> None:
        self._has: set[str] = set()

    def HasField(self, name: str) -> bool:  # noqa: N802 - protobuf's spelling
        return name in self._has


class Model(_Message):
    __slots__ = ("ir_version", "graph", "metadata_props")

    def __init__(self) -> None:
        super().__init__()
        self.ir_version = 0
        self.graph = Graph()
        self.metadata_props: list[Entry] = []


class Entry(_Message):
    __slots__ = ("key", "value")

    def __init__(self) -> None:
        super().__init__()
        self.key = self.value = ""


class Graph(_Message):
    __slots__ = ("name", "node", "initializer", "input", "output", "value_info")

    def __init__(self) -> None:
        super().__init__()
        self.name = ""
        self.node: list[Node] = []
        self.initializer: list[Tensor] = []
        self.input: list[ValueInfo] = []
        self.output: list[ValueInfo] = []
        self.value_info: list[ValueInfo] = []


class Node(_Message):
    __slots__ = ("input", "output", "name", "op_type", "domain", "attribute")

    def __init__(self) -> None:
        super().__init__()
        self.input: list[str] = []
        self.output: list[str] = []
        self.name = self.op_type = self.domain = ""
        self.attribute: list[Attribute] = []


class Attribute(_Message):
    __slots__ = ("name", "type", "f", "i", "s", "t", "floats", "ints", "strings", "tensors")

    def __init__(self) -> None:
        super().__init__()
        self.name = ""
        self.type = 0
        self.f = 0.0
        self.i = 0
        self.s = b""
        self.t = Tensor()
        self.floats: list[float] = []
        self.ints: list[int] = []
        self.strings: list[bytes] = []
        self.tensors: list[Tensor] = []


class Tensor(_Message):
    __slots__ = ("dims", "data_type", "float_data", "int32_data", "int64_data", "double_data", "name", "raw_data",
                 "data_location")

    def __init__(self) -> None:
        super().__init__()
        self.dims: list[int] = []
        self.data_type = 0
        self.float_data: list[float] | np.ndarray = []
        self.int32_data: list[int] = []
        self.int64_data: list[int] = []
        self.double_data: list[float] | np.ndarray = []
        self.name = ""
        self.raw_data = b""
        self.data_location = 0


class ValueInfo(_Message):
    __slots__ = ("name", "type")

    def __init__(self) -> None:
        super().__init__()
        self.name = ""
        self.type = TypeProto()


class TypeProto(_Message):
    __slots__ = ("tensor_type",)

    def __init__(self) -> None:
        super().__init__()
        self.tensor_type = TensorType()


class TensorType(_Message):
    __slots__ = ("elem_type", "shape")

    def __init__(self) -> None:
        super().__init__()
        self.elem_type = 0
        self.shape = Shape()


class Shape(_Message):
    __slots__ = ("dim",)

    def __init__(self) -> None:
        super().__init__()
        self.dim: list[Dim] = []


class Dim(_Message):
    __slots__ = ("dim_value", "dim_param")

    def __init__(self) -> None:
        super().__init__()
        self.dim_value = 0
        self.dim_param = ""


# --------------------------------------------------------------------------------------------
# Wire format
# --------------------------------------------------------------------------------------------


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise NeedFullOnnx("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            if result >> 64:  # a 10th byte above 1: protobuf keeps the low 64 bits; leave that to it
                raise NeedFullOnnx("varint wider than 64 bits")
            return result, pos
        shift += 7


def _fields(buf: bytes, pos: int, end: int):  # noqa: ANN202 - a generator of (number, wire type, value)
    """``(field number, wire type, value)``: an int for varints and fixed widths (as unsigned
    bits), a ``(start, stop)`` span for length-delimited fields."""
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0 or number >= 1 << 29:
            raise NeedFullOnnx(f"field number {number}")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
        elif wire == 1:
            if pos + 8 > end:
                raise NeedFullOnnx("truncated fixed64")
            value, pos = int.from_bytes(buf[pos:pos + 8], "little"), pos + 8
        elif wire == 5:
            if pos + 4 > end:
                raise NeedFullOnnx("truncated fixed32")
            value, pos = int.from_bytes(buf[pos:pos + 4], "little"), pos + 4
        elif wire == 2:
            size, pos = _varint(buf, pos, end)
            if pos + size > end:
                raise NeedFullOnnx("truncated length-delimited field")
            value, pos = (pos, pos + size), pos + size
        else:  # groups (3, 4) are not in onnx.proto
            raise NeedFullOnnx(f"wire type {wire}")
        yield number, wire, value


def _signed64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _signed32(v: int) -> int:  # an int32 is sign-extended to 64 bits on the wire
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def _text(buf: bytes, span: tuple[int, int]) -> str:
    try:
        return buf[span[0]:span[1]].decode("utf-8")
    except UnicodeDecodeError:
        raise NeedFullOnnx("invalid UTF-8 in a string field") from None


def _ints(buf: bytes, wire: int, value: object, convert=_signed64) -> list[int]:  # noqa: ANN001
    """A repeated varint field's occurrence: one value, or a packed run."""
    if wire == 0:
        return [convert(value)]
    if wire != 2:
        raise NeedFullOnnx("integer field with a fixed-width wire type")
    pos, end = value  # type: ignore[misc]
    out = []
    while pos < end:
        v, pos = _varint(buf, pos, end)
        out.append(convert(v))
    return out


def _floats(buf: bytes, wire: int, value: object, width: int) -> np.ndarray:
    """A repeated float (width 4) or double (width 8) field's occurrence: one value or a packed run."""
    dtype = np.dtype("<f4" if width == 4 else "<f8")
    if wire == (5 if width == 4 else 1):
        return np.frombuffer(int(value).to_bytes(width, "little"), dtype=dtype)  # type: ignore[call-overload]
    if wire != 2:
        raise NeedFullOnnx("float field with a varint wire type")
    start, stop = value  # type: ignore[misc]
    if (stop - start) % width:
        raise NeedFullOnnx("packed floats of a partial width")
    return np.frombuffer(buf, dtype=dtype, count=(stop - start) // width, offset=start)


def _span(wire: int, value: object) -> tuple[int, int]:
    if wire != 2:
        raise NeedFullOnnx("a message or string field with a scalar wire type")
    return value  # type: ignore[return-value]


def _scalar(wire: int, value: object, expected: int) -> int:
    if wire != expected:
        raise NeedFullOnnx(f"a scalar field with wire type {wire}")
    return value  # type: ignore[return-value]


def _f32(bits: int) -> float:
    return float(np.frombuffer(bits.to_bytes(4, "little"), dtype="<f4")[0])


def _model(buf: bytes, start: int, end: int) -> Model:
    m = Model()
    for number, wire, value in _fields(buf, start, end):
        if number == 1:
            m.ir_version = _signed64(_scalar(wire, value, 0))
        elif number == 7:
            m.graph = _graph(buf, *_span(wire, value))
            _once(m, "graph")
        elif number == 14:
            m.metadata_props.append(_entry(buf, *_span(wire, value)))
        elif number in (20, 25):  # training_info, functions: not read, and onnx's checker sees them
            _span(wire, value)
    return m


def _entry(buf: bytes, start: int, end: int) -> Entry:
    e = Entry()
    for number, wire, value in _fields(buf, start, end):
        if number == 1:
            e.key = _text(buf, _span(wire, value))
        elif number == 2:
            e.value = _text(buf, _span(wire, value))
    return e


def _once(message: _Message, name: str) -> None:
    # protobuf merges a singular message field that occurs twice; leave that rare case to it
    if name in message._has:
        raise NeedFullOnnx(f"{name} twice")
    message._has.add(name)


def _graph(buf: bytes, start: int, end: int) -> Graph:
    g = Graph()
    for number, wire, value in _fields(buf, start, end):
        if number == 1:
            g.node.append(_node(buf, *_span(wire, value)))
        elif number == 2:
            g.name = _text(buf, _span(wire, value))
        elif number == 5:
            g.initializer.append(_tensor(buf, *_span(wire, value)))
        elif number == 11:
            g.input.append(_value_info(buf, *_span(wire, value)))
        elif number == 12:
            g.output.append(_value_info(buf, *_span(wire, value)))
        elif number == 13:
            g.value_info.append(_value_info(buf, *_span(wire, value)))
        elif number == 15:
            raise NeedFullOnnx("sparse initializers")
    return g


def _node(buf: bytes, start: int, end: int) -> Node:
    n = Node()
    for number, wire, value in _fields(buf, start, end):
        if number == 1:
            n.input.append(_text(buf, _span(wire, value)))
        elif number == 2:
            n.output.append(_text(buf, _span(wire, value)))
        elif number == 3:
            n.name = _text(buf, _span(wire, value))
        elif number == 4:
            n.op_type = _text(buf, _span(wire, value))
        elif number == 7:
            n.domain = _text(buf, _span(wire, value))
        elif number == 5:
            n.attribute.append(_attribute(buf, *_span(wire, value)))
    return n


#: AttributeProto.AttributeType values of numbers, strings, tensors and their lists
_ATTRIBUTE_TYPES = (1, 2, 3, 4, 6, 7, 8, 9)


def _attribute(buf: bytes, start: int, end: int) -> Attribute:
    a = Attribute()
    for number, wire, value in _fields(buf, start, end):
        if number == 1:
            a.name = _text(buf, _span(wire, value))
        elif number == 20:
            a.type = _signed32(_scalar(wire, value, 0))
        elif number == 2:
            a.f = _f32(_scalar(wire, value, 5))
        elif number == 3:
            a.i = _signed64(_scalar(wire, value, 0))
        elif number == 4:
            s, e = _span(wire, value)
            a.s = buf[s:e]
        elif number == 5:
            a.t = _tensor(buf, *_span(wire, value))
            _once(a, "t")
        elif number == 7:
            a.floats.extend(_floats(buf, wire, value, 4).astype(float).tolist())
        elif number == 8:
            a.ints.extend(_ints(buf, wire, value))
        elif number == 9:
            s, e = _span(wire, value)
            a.strings.append(buf[s:e])
        elif number == 10:
            a.tensors.append(_tensor(buf, *_span(wire, value)))
        elif number in (6, 11, 14, 15, 22, 23):  # graphs, type protos, sparse tensors
            raise NeedFullOnnx(f"attribute field {number}")
    if a.type not in _ATTRIBUTE_TYPES:  # what _onnx_lean.attribute_value reads
        raise NeedFullOnnx(f"attribute type {a.type}")
    return a


def _tensor(buf: bytes, start: int, end: int) -> Tensor:
    t = Tensor()
    floats: list[np.ndarray] = []
    doubles: list[np.ndarray] = []
    for number, wire, value in _fields(buf, start, end):
        if number == 1:
            t.dims.extend(_ints(buf, wire, value))
        elif number == 2:
            t.data_type = _signed32(_scalar(wire, value, 0))
        elif number == 4:
            floats.append(_floats(buf, wire, value, 4))
        elif number == 5:
            t.int32_data.extend(_ints(buf, wire, value, _signed32))
        elif number == 7:
            t.int64_data.extend(_ints(buf, wire, value))
        elif number == 8:
            t.name = _text(buf, _span(wire, value))
        elif number == 9:
            s, e = _span(wire, value)
            t.raw_data = buf[s:e]
        elif number == 10:
            doubles.append(_floats(buf, wire, value, 8))
        elif number == 14:
            t.data_location = _signed32(_scalar(wire, value, 0))
        elif number in (3, 6, 11, 13):  # segment, string_data, uint64_data, external_data
            raise NeedFullOnnx(f"tensor field {number}")
    if t.data_location != 0:
        raise NeedFullOnnx("external tensor data")
    if t.data_type not in _NUMPY:
        raise NeedFullOnnx(f"tensor data type {t.data_type}")
    if floats:
        t.float_data = np.concatenate(floats).astype(np.float32)
    if doubles:
        t.double_data = np.concatenate(doubles).astype(np.float64)
    return t


def _value_info(buf: bytes, start: int, end: int) -> ValueInfo:
    v = ValueInfo()
    for number, wire, value in _fields(buf, start, end):
        if number == 1:
            v.name = _text(buf, _span(wire, value))
        elif number == 2:
            v.type = _type(buf, *_span(wire, value))
            _once(v, "type")
    return v


def _type(buf: bytes, start: int, end: int) -> TypeProto:
    tp = TypeProto()
    for number, wire, value in _fields(buf, start, end):
        if number == 1:
            tp.tensor_type = _tensor_type(buf, *_span(wire, value))
            _once(tp, "tensor_type")
        elif number in (4, 5, 7, 8, 9):  # sequence, map, opaque, sparse, optional: not a tensor input
            raise NeedFullOnnx(f"type field {number}")
    return tp


def _tensor_type(buf: bytes, start: int, end: int) -> TensorType:
    tt = TensorType()
    for number, wire, value in _fields(buf, start, end):
        if number == 1:
            tt.elem_type = _signed32(_scalar(wire, value, 0))
        elif number == 2:
            tt.shape = _shape(buf, *_span(wire, value))
            _once(tt, "shape")
    return tt


def _shape(buf: bytes, start: int, end: int) -> Shape:
    sh = Shape()
    for number, wire, value in _fields(buf, start, end):
        if number == 1:
            sh.dim.append(_dim(buf, *_span(wire, value)))
    return sh


def _dim(buf: bytes, start: int, end: int) -> Dim:
    d = Dim()
    for number, wire, value in _fields(buf, start, end):
        if number == 1:
            d.dim_value = _signed64(_scalar(wire, value, 0))
            d._has.add("dim_value")
            d._has.discard("dim_param")  # a oneof: the last one set wins
            d.dim_param = ""
        elif number == 2:
            d.dim_param = _text(buf, _span(wire, value))
            d._has.add("dim_param")
            d._has.discard("dim_value")
            d.dim_value = 0
    return d


def parse(data: bytes) -> Model:
    """The model in ``data`` (the bytes of an ``.onnx`` file), or :class:`NeedFullOnnx`."""
    return _model(data, 0, len(data))
