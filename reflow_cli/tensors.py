"""Tensors on the wire: ``Object {dtype, shape, data: Bytes}``, read without copying.

The format packs agree on, so one pack's tensors feed another's (the gpu pack's
renders into the ml pack's models). A tensor message is an ``Object`` whose ``data`` is a ``Bytes`` message holding
the array's bytes in C order; reading it is ``np.frombuffer`` (no copy; the
array is read-only). Inputs are also accepted in the forms JSON produces:
``data`` as a tagged ``{"type": "Bytes", "data": [...]}`` dict, raw bytes, or a
flat list of numbers (handy in specs: ``{dtype: float32, shape: [3], data: [1, 2, 3]}``).
numpy is imported on first use (it is not a dependency of reflow itself: the
packs that use tensors require it), so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import TensorError
from .message import Message

__all__ = ["DTYPES", "TensorError", "array_message", "is_tensor", "np", "tensor_data", "to_array"]

#: dtypes a tensor may carry (numpy names)
DTYPES = ("float32", "float64", "float16", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
          "uint64", "bool")


_NP: Any = None


def np() -> Any:
    """numpy, imported on first use."""
    global _NP
    if _NP is None:
        try:
            import numpy
        except ImportError:
            raise TensorError(
                "tensors need numpy: pip install numpy (or install the pack from a bundle built with --platform)"
            ) from None
        _NP = numpy
    return _NP


def is_tensor(value: Any) -> bool:
    """Whether message data looks like a tensor (a mapping with dtype, shape and data)."""
    return isinstance(value, Mapping) and "dtype" in value and "shape" in value and "data" in value


def _payload(data: Any) -> Any:
    if type(data) is bytes:
        return data
    if isinstance(data, Message) or (isinstance(data, Mapping) and "type" in data):
        kind = data["type"]
        if kind not in ("Bytes", "Encoded"):
            raise TensorError(f"a tensor's data must be Bytes, not {kind}")
        inner = data["data"]
        return inner if type(inner) is bytes else bytes(inner)
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, list):
        return data
    raise TensorError(f"a tensor's data must be Bytes or a list of numbers, not {type(data).__name__}")


_DTYPE_OBJECTS: dict[str, Any] = {}
_DTYPE_NAMES: dict[Any, str] = {}


def _dtypes() -> None:
    numpy = np()
    for name in DTYPES:
        _DTYPE_OBJECTS[name] = numpy.dtype(name)
        _DTYPE_NAMES[numpy.dtype(name)] = name


def to_array(value: Any, what: str = "input") -> Any:
    """The numpy array a tensor message (or its data) holds; zero-copy for Bytes data."""
    # the common case first, with as few checks as it needs (a tick of a small model costs microseconds)
    data = value["data"] if type(value) is Message and value["type"] == "Object" else value
    if type(data) is dict:
        payload, shape = data.get("data"), data.get("shape")
        if type(payload) is Message and payload["type"] == "Bytes" and type(shape) is list:
            name = data.get("dtype")
            dtype = _DTYPE_OBJECTS.get(name) if type(name) is str else None
            if dtype is not None:
                try:
                    return _NP.frombuffer(payload["data"], dtype=dtype).reshape(shape)
                except (ValueError, TypeError):
                    pass  # the slow path says what is wrong
            elif not _DTYPE_OBJECTS and type(name) is str:
                _dtypes()
                return to_array(value, what)
    return _to_array(value, what)


def _to_array(value: Any, what: str) -> Any:
    if isinstance(value, Message) or (isinstance(value, Mapping) and set(value) <= {"type", "data"} and "type" in value):
        kind = value["type"]
        if kind == "Array":
            return np().asarray(value["data"])
        if kind != "Object":
            raise TensorError(f"{what}: expected a tensor Object {{dtype, shape, data}}, got {kind}")
        value = value["data"]
    if not is_tensor(value):
        raise TensorError(f"{what}: expected a tensor {{dtype, shape, data}}, got {_describe(value)}")
    numpy = np()
    dtype = value["dtype"]
    if dtype not in DTYPES:
        raise TensorError(f"{what}: unknown dtype {dtype!r}; one of {', '.join(DTYPES)}")
    shape = value["shape"]
    if not isinstance(shape, (list, tuple)) or not all(type(d) is int and d >= 0 for d in shape):
        raise TensorError(f"{what}: shape must be a list of non-negative integers, not {shape!r}")
    payload = _payload(value["data"])
    try:
        if type(payload) is bytes:
            array = numpy.frombuffer(payload, dtype=dtype)
        else:
            array = numpy.asarray(payload, dtype=dtype).reshape(-1)
        return array.reshape(shape)
    except ValueError as exc:
        raise TensorError(f"{what}: data does not fit dtype {dtype} and shape {list(shape)}: {exc}") from None


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object with keys " + ", ".join(sorted(map(str, value))) if value else "an empty object"
    return type(value).__name__


def tensor_data(array: Any) -> dict[str, Any]:
    """The ``{dtype, shape, data}`` dict of an array (``data`` a Bytes message; one copy into bytes)."""
    name = _DTYPE_NAMES.get(array.dtype)  # dtype.name builds a new string each time (~2 µs)
    if name is None:
        if not _DTYPE_NAMES:
            _dtypes()
            return tensor_data(array)
        numpy = np()
        array = array.astype(numpy.float32) if array.dtype.kind == "f" else array.astype(numpy.int64)
        name = array.dtype.name
    return {"dtype": name, "shape": list(array.shape), "data": Message.bytes(array.tobytes())}


def array_message(array: Any) -> Message:
    """A tensor ``Object`` message holding ``array``."""
    return Message.object(tensor_data(np().ascontiguousarray(array)))
