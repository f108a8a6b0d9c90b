"""ONNX's message classes and checker without importing the ``onnx`` package.

``import onnx`` imports ``ml_dtypes``, whose extension module registers its float8/int4 types
with numpy on import: 0.7-0.8 s on the development machine (issue 18), more than inverting two
hundred signals. Reading a model needs none of it: only the generated protobuf classes
(``onnx/onnx_ml_pb2.py``, which imports nothing but protobuf) and the C++ checker
(``onnx/onnx_cpp2py_export``). This module loads exactly those two from the installed onnx,
under their own names (``onnx.onnx_ml_pb2``, ``onnx.onnx_cpp2py_export``) so that a later
``import onnx`` in the same process finds and reuses them — the checker's extension module can
only be initialised once per process — and it sets them as attributes of the ``onnx`` package
when that is imported (:class:`_SetAttributes`).

:func:`checker` loads the checker alone: :func:`theorychk.io.onnx.read` decodes the fields
without the message classes (:mod:`theorychk.io._onnx_wire`) and uses them only for files that
decoder leaves to onnx. When ``onnx`` is already imported, its own modules are used. Anything the lean reader does not
handle (external data, exotic tensor types) raises :class:`NeedFullOnnx`, and the caller falls
back to ``onnx`` itself.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["NeedFullOnnx", "modules", "to_array", "attribute_value"]

_PB2, _C = "onnx.onnx_ml_pb2", "onnx.onnx_cpp2py_export"


class NeedFullOnnx(Exception):
    """The lean path does not handle this model; read it with the onnx package."""


class _SetAttributes:
    """On ``import onnx`` after a lean load: the package gets its two submodules as attributes.

    A meta path finder and a loader by protocol (``find_spec``; ``create_module`` /
    ``exec_module``), not by ``importlib.abc``, whose import pulls in ``importlib.resources`` and
    ``tempfile`` (~3 ms of every read)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "onnx":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:  # pragma: no cover - onnx uninstalled meanwhile
            return spec
        real = spec.loader

        class _Loader:
            def create_module(self, spec: Any) -> Any:
                return real.create_module(spec)

            def exec_module(self, module: ModuleType) -> None:
                for name in (_PB2, _C):
                    if name in sys.modules:
                        setattr(module, name.rsplit(".", 1)[1], sys.modules[name])
                real.exec_module(module)

        spec.loader = _Loader()
        return spec


def _load(name: str, file: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise NeedFullOnnx(f"cannot load {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def modules() -> tuple[ModuleType, ModuleType]:
    """``(onnx_ml_pb2, onnx_cpp2py_export)``: onnx's own when imported, else loaded lean."""
    if "onnx" in sys.modules:
        import onnx

        return onnx.onnx_ml_pb2, onnx.onnx_cpp2py_export
    if _PB2 in sys.modules and _C in sys.modules:
        return sys.modules[_PB2], sys.modules[_C]
    root = _root()
    if not (root / "onnx_ml_pb2.py").is_file():
        raise NeedFullOnnx(f"unexpected onnx layout in {root}")
    ext = _extension(root)
    pb2 = sys.modules.get(_PB2) or _load(_PB2, root / "onnx_ml_pb2.py")
    c = sys.modules.get(_C) or _load(_C, ext)
    return pb2, c


def checker() -> ModuleType:
    """``onnx_cpp2py_export`` (its ``checker``), onnx's own when imported, else loaded lean --
    without the message classes, which :mod:`theorychk.io._onnx_wire` does without."""
    if "onnx" in sys.modules:
        import onnx

        return onnx.onnx_cpp2py_export
    if _C in sys.modules:
        return sys.modules[_C]
    return _load(_C, _extension(_root()))


def _root() -> Path:
    spec = importlib.util.find_spec("onnx")
    if spec is None or not spec.submodule_search_locations:
        raise NeedFullOnnx("onnx is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _extension(root: Path) -> Path:
    ext = [p for p in sorted(root.glob("onnx_cpp2py_export.*")) if p.suffix in (".so", ".pyd")]
    if len(ext) != 1:
        raise NeedFullOnnx(f"unexpected onnx layout in {root}")
    if not any(isinstance(f, _SetAttributes) for f in sys.meta_path):
        sys.meta_path.insert(0, _SetAttributes())
    return ext[0]


# TensorProto.DataType values and their numpy types (the ones generators are stored in)
_NUMPY = {1: np.float32, 10: np.float16, 11: np.float64, 6: np.int32, 7: np.int64, 9: np.bool_}
_FIELD = {1: "float_data", 11: "double_data", 6: "int32_data", 7: "int64_data", 9: "int32_data"}


def to_array(tensor: Any) -> np.ndarray:
    """``onnx.numpy_helper.to_array`` for the dense numeric tensors a generator holds."""
    if tensor.data_location == 1 or tensor.HasField("segment"):  # EXTERNAL / segmented
        raise NeedFullOnnx("external or segmented tensor data")
    dtype = _NUMPY.get(tensor.data_type)
    if dtype is None:
        raise NeedFullOnnx(f"tensor data type {tensor.data_type}")
    shape = tuple(tensor.dims)
    if tensor.raw_data:
        arr = np.frombuffer(tensor.raw_data, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
    elif tensor.data_type == 10:  # float16 bits stored in int32_data
        arr = np.asarray(tensor.int32_data, dtype=np.uint16).view(np.float16)
    else:
        arr = np.asarray(getattr(tensor, _FIELD[tensor.data_type]), dtype=dtype)
    return arr.reshape(shape)  # a size mismatch raises ValueError, as numpy_helper's does


def attribute_value(attr: Any) -> Any:
    """``onnx.helper.get_attribute_value`` for numbers, strings, tensors and their lists."""
    kind = attr.type
    if kind == 1:
        return attr.f
    if kind == 2:
        return attr.i
    if kind == 3:
        return attr.s
    if kind == 4:
        return attr.t
    if kind == 6:
        return list(attr.floats)
    if kind == 7:
        return list(attr.ints)
    if kind == 8:
        return list(attr.strings)
    if kind == 9:
        return list(attr.tensors)
    raise NeedFullOnnx(f"attribute type {kind}")
