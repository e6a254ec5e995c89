"""Typed messages: the values that travel along edges.

A :class:`Message` is an immutable, typed value with exactly one of the 16 tags
of the reference runtime. Its JSON form is ``{"type": TAG, "data": DATA}``
(``Flow`` has no ``data``). In memory a message is also a read-only mapping
with the keys ``"type"`` and ``"data"``, so code written for the reference's
dict-shaped ``ctx.inputs[port]`` keeps working, and it prints like that dict::

    >>> m = Message.integer(42)
    >>> m["data"], m["type"]
    (42, 'Integer')
    >>> print(m)
    {'data': 42, 'type': 'Integer'}

Nested data (lists and dicts inside ``Object``/``Array``) is *shared*, not
copied, when a message fans out to several ports: treat it as immutable.
``Bytes`` and ``Encoded`` hold :class:`bytes` in memory; the list-of-ints form
exists only in JSON. ``Encoded`` is opaque and never decoded.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Callable, ClassVar

from .errors import (
    MessageError,
    MessageFormatError,
    MessageOverflowError,
    MessageRangeError,
    MessageTypeError,
    MessageValueError,
    NotAStreamError,
)

__all__ = ["Message", "MESSAGE_TAGS"]

#: The 16 message tags, in the reference runtime's order (case-sensitive).
MESSAGE_TAGS: tuple[str, ...] = (
    "Flow",
    "Event",
    "Boolean",
    "Integer",
    "Float",
    "String",
    "Object",
    "Array",
    "Bytes",
    "StreamHandle",
    "Encoded",
    "Optional",
    "Any",
    "Error",
    "RemoteReference",
    "NetworkEvent",
)
_TAG_SET = frozenset(MESSAGE_TAGS)
_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1
_NETWORK_EVENT_TYPES = (
    "ActorRegistered",
    "ActorUnregistered",
    "NetworkConnected",
    "NetworkDisconnected",
    "HeartbeatMissed",
)
_STREAM_HANDLE_FIELDS = ("stream_id", "origin_actor", "origin_port", "content_type", "size_hint")
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

_py_bytes = bytes
_py_float = float
_new = object.__new__


def _describe(value: Any) -> str:
    """Describe a value the way serde's error messages do (``integer `5```)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{'true' if value else 'false'}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, _py_float):
        return f"floating point `{value!r}`"
    if isinstance(value, str):
        return f'string "{value}"'
    if isinstance(value, (list, tuple)):
        return "sequence"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, (_py_bytes, bytearray, memoryview)):
        return "byte array"
    return f"{type(value).__name__} value"


def _invalid(value: Any, expected: str) -> MessageFormatError:
    return MessageFormatError(f"invalid type: {_describe(value)}, expected {expected}")


def check_json_value(value: Any, where: str = "value") -> bool:
    """Raise :class:`MessageValueError` unless ``value`` is JSON-shaped.

    JSON-shaped means ``None``, ``bool``, ``int``, ``float``, ``str``, lists or
    tuples of such values, dicts with ``str`` keys, and nested :class:`Message`
    objects (which have a JSON form of their own). Sets are accepted too (as
    the reference does, they become arrays): the result is True when the value
    holds one and must go through :func:`json_ready` before use.
    """
    has_set = False
    stack = [value]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or kind is int or kind is _py_float or kind is bool or item is None:
            continue
        if kind is list or kind is tuple:
            for element in item:
                push(element)
        elif kind is dict:
            for key, element in item.items():
                if type(key) is not str:
                    raise MessageValueError(
                        f"python → json: {where} has a non-string key {key!r} "
                        f"({type(key).__name__}); JSON object keys must be strings"
                    )
                push(element)
        elif isinstance(item, (str, int, _py_float)):  # subclasses (IntEnum, ...)
            continue
        elif isinstance(item, Message):
            continue
        elif isinstance(item, (set, frozenset)):
            has_set = True
            for element in item:
                push(element)
        elif isinstance(item, (list, tuple)):
            for element in item:
                push(element)
        elif isinstance(item, Mapping):
            push(dict(item))
        else:
            raise MessageValueError(
                f"python → json: {where} contains a {type(item).__name__} value ({item!r:.60}), "
                "which has no JSON form; use Message.bytes() for binary data or convert it"
            )
    return has_set


def _without_sets(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return [_without_sets(v) for v in value]
    if type(value) is list or type(value) is tuple:
        return type(value)(_without_sets(v) for v in value)
    if type(value) is dict:
        return {k: _without_sets(v) for k, v in value.items()}
    return value


def json_ready(value: Any, where: str = "value") -> Any:
    """Check ``value`` is JSON-shaped and return it (a copy with sets as lists, if it held sets)."""
    if check_json_value(value, where):
        return _without_sets(value)
    return value


def to_json_value(value: Any) -> Any:
    """Return a JSON-serialisable copy of message data (nested Messages as their JSON form)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is _py_float:
        return value if math.isfinite(value) else _float_json(value)
    if kind is list or kind is tuple:
        return [to_json_value(v) for v in value]
    if kind is dict:
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, Message):
        return value.as_json()
    if isinstance(value, (_py_bytes, bytearray, memoryview)):
        return list(_py_bytes(value))
    if isinstance(value, Mapping):
        return {k: to_json_value(v) for k, v in value.items()}
    return value


def _float_json(value: float) -> Any:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _freeze(value: Any) -> Any:
    """A hashable stand-in for JSON-shaped data (used by ``Message.__hash__``)."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Mapping):
        return frozenset((k, _freeze(v)) for k, v in value.items())
    return value


def _check_i64(value: int, error: type[MessageError] = MessageOverflowError) -> int:
    if not _I64_MIN <= value <= _I64_MAX:
        raise error(
            f"invalid value: integer `{value}`, expected i64 (64-bit signed: "
            f"{_I64_MIN}..{_I64_MAX}); use a Float or a String for larger numbers"
        )
    return value


def _bytes_from_json(data: Any, tag: str) -> bytes:
    if isinstance(data, (_py_bytes, bytearray, memoryview)):
        return _py_bytes(data)
    if not isinstance(data, (list, tuple)):
        raise _invalid(data, "a sequence")
    for element in data:
        if type(element) is not int or not 0 <= element <= 255:
            if isinstance(element, int) and not isinstance(element, bool):
                raise MessageFormatError(f"invalid value: integer `{element}`, expected u8")
            raise _invalid(element, "u8")
    return _py_bytes(data)


def _field(mapping: Mapping[str, Any], name: str) -> Any:
    try:
        return mapping[name]
    except KeyError:
        raise MessageFormatError(f"missing field `{name}`") from None


def _string_field(mapping: Mapping[str, Any], name: str, optional: bool = False) -> Any:
    value = mapping.get(name) if optional else _field(mapping, name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _invalid(value, "a string")
    return value


def _int_field(mapping: Mapping[str, Any], name: str, optional: bool = False) -> Any:
    value = mapping.get(name) if optional else _field(mapping, name)
    if value is None and optional:
        return None
    if type(value) is not int:
        raise _invalid(value, "u64")
    if not 0 <= value < 2**64:
        raise MessageRangeError(f"invalid value: integer `{value}`, expected u64")
    return value


def _payload_from_json(tag: str, data: Any) -> Any:
    """Validate and convert the JSON ``data`` of a ``tag`` message to its in-memory form."""
    if tag == "Integer":
        if type(data) is int:
            return _check_i64(data, MessageRangeError)
        raise _invalid(data, "i64")
    if tag == "Float":
        if type(data) is _py_float:
            return data
        if type(data) is int:
            return _py_float(data)
        if type(data) is str and data in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[data]
        raise _invalid(data, "f64")
    if tag == "String" or tag == "Error":
        if isinstance(data, str):
            return data
        raise _invalid(data, "a string")
    if tag == "Boolean":
        if type(data) is bool:
            return data
        raise _invalid(data, "a boolean")
    if tag == "Array":
        if type(data) is list:
            return json_ready(data, "Array data")
        if isinstance(data, (list, tuple)):
            return json_ready(list(data), "Array data")
        raise _invalid(data, "a sequence")
    if tag == "Bytes" or tag == "Encoded":
        return _bytes_from_json(data, tag)
    if tag == "StreamHandle":
        if not isinstance(data, Mapping):
            raise _invalid(data, "struct StreamHandle")
        return {
            "stream_id": _int_field(data, "stream_id"),
            "origin_actor": _string_field(data, "origin_actor"),
            "origin_port": _string_field(data, "origin_port"),
            "content_type": _string_field(data, "content_type", optional=True),
            "size_hint": _int_field(data, "size_hint", optional=True),
        }
    if tag == "RemoteReference":
        if not isinstance(data, Mapping):
            raise _invalid(data, "struct RemoteReference")
        return {name: _string_field(data, name) for name in ("network_id", "actor_id", "port")}
    if tag == "NetworkEvent":
        if not isinstance(data, Mapping):
            raise _invalid(data, "struct NetworkEvent")
        event_type = _field(data, "event_type")
        if event_type not in _NETWORK_EVENT_TYPES:
            raise MessageFormatError(
                f"unknown variant `{event_type}`, expected one of "
                + ", ".join(f"`{t}`" for t in _NETWORK_EVENT_TYPES)
            )
        payload = json_ready(_field(data, "data"), "NetworkEvent data")
        return {"event_type": event_type, "data": payload}
    # Event, Object, Optional, Any: any JSON value.
    return json_ready(data, f"{tag} data")


class Message(Mapping[str, Any]):
    """An immutable typed value; also a read-only ``{"type", "data"}`` mapping.

    There is no public constructor: use the static constructors
    (:meth:`integer`, :meth:`string`, :meth:`flow`, ...) or :meth:`from_json`.
    Messages compare by value (``Message.integer(1) == Message.integer(1)``)
    and are hashable when their data is.
    """

    __slots__ = ("_kind", "_data")
    _kind: str
    _data: Any

    #: hook installed by the streams module: stream locator dict -> reader
    _stream_opener: ClassVar[Callable[[dict[str, Any]], Any] | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise MessageTypeError(
            "Message has no public constructor; use Message.integer(), Message.string(), "
            "Message.flow(), Message.from_json({'type': ..., 'data': ...}) and friends"
        )

    # -- construction --------------------------------------------------------

    @classmethod
    def _make(cls, kind: str, data: Any = None) -> Message:
        """Build a message from trusted, already-validated parts (no checks)."""
        message = _new(cls)
        message._kind = kind
        message._data = data
        return message

    @staticmethod
    def integer(v: int) -> Message:
        """An ``Integer`` (64-bit signed). ``bool`` is accepted as 0/1."""
        if type(v) is not int:
            if isinstance(v, bool):
                v = int(v)
            elif isinstance(v, int):
                v = int(v)
            else:
                raise MessageTypeError(
                    f"argument 'v': '{type(v).__name__}' object cannot be interpreted as an integer"
                )
        if not _I64_MIN <= v <= _I64_MAX:
            _check_i64(v)
        message = _new(Message)
        message._kind = "Integer"
        message._data = v
        return message

    @staticmethod
    def float(v: float) -> Message:
        """A ``Float``; ints (and bools) are converted. NaN and infinities are allowed."""
        if type(v) is not _py_float:
            if isinstance(v, (int, _py_float)):
                v = _py_float(v)
            else:
                raise MessageTypeError(f"argument 'v': must be a real number, not {type(v).__name__}")
        message = _new(Message)
        message._kind = "Float"
        message._data = v
        return message

    @staticmethod
    def string(v: str) -> Message:
        """A ``String``."""
        if not isinstance(v, str):
            raise MessageTypeError(f"argument 'v': '{type(v).__name__}' object cannot be converted to 'PyString'")
        message = _new(Message)
        message._kind = "String"
        message._data = v
        return message

    @staticmethod
    def boolean(v: bool) -> Message:
        """A ``Boolean`` (only ``True``/``False``; ``1`` is refused)."""
        if v is not True and v is not False:
            raise MessageTypeError(f"argument 'v': '{type(v).__name__}' object cannot be converted to 'PyBool'")
        message = _new(Message)
        message._kind = "Boolean"
        message._data = v
        return message

    @staticmethod
    def array(value: Iterable[Any]) -> Message:
        """An ``Array`` of JSON values; any sequence or set (tuple, range...) becomes a list."""
        if type(value) is not list:
            if isinstance(value, (str, _py_bytes, bytearray, Mapping)) or not isinstance(
                value, (Sequence, set, frozenset)
            ):
                raise MessageValueError(f"value is not a JSON array (got {type(value).__name__})")
            value = list(value)
        return Message._make("Array", json_ready(value, "Array data"))

    @staticmethod
    def object(value: Any) -> Message:
        """An ``Object``: any JSON value (usually a dict with string keys; sets become lists)."""
        return Message._make("Object", json_ready(value, "Object data"))

    @staticmethod
    def bytes(v: bytes | bytearray | memoryview) -> Message:
        """``Bytes``; held as :class:`bytes` in memory (an int list only in JSON)."""
        if type(v) is not _py_bytes:
            if not isinstance(v, (_py_bytes, bytearray, memoryview)):
                raise MessageTypeError(f"argument 'v': '{type(v).__name__}' object cannot be converted to 'PyBytes'")
            v = _py_bytes(v)
        return Message._make("Bytes", v)

    @staticmethod
    def flow() -> Message:
        """A ``Flow`` (a bare signal, no data)."""
        return _FLOW

    @staticmethod
    def error(v: str) -> Message:
        """An ``Error`` carrying a text."""
        if not isinstance(v, str):
            raise MessageTypeError(f"argument 'v': '{type(v).__name__}' object cannot be converted to 'PyString'")
        return Message._make("Error", v)

    @staticmethod
    def event(value: Any) -> Message:
        """An ``Event`` carrying any JSON value."""
        return Message._make("Event", json_ready(value, "Event data"))

    @staticmethod
    def optional(value: Any = None) -> Message:
        """An ``Optional``: a JSON value or ``None``."""
        return Message._make("Optional", json_ready(value, "Optional data"))

    @staticmethod
    def any(value: Any) -> Message:
        """An ``Any`` carrying any JSON value."""
        return Message._make("Any", json_ready(value, "Any data"))

    @staticmethod
    def encoded(v: bytes | bytearray | memoryview) -> Message:
        """``Encoded``: opaque bytes, never decoded by reflow."""
        if not isinstance(v, (_py_bytes, bytearray, memoryview)):
            raise MessageTypeError(f"argument 'v': '{type(v).__name__}' object cannot be converted to 'PyBytes'")
        return Message._make("Encoded", _py_bytes(v))

    @staticmethod
    def remote_reference(network_id: str, actor_id: str, port: str) -> Message:
        """A ``RemoteReference`` to a port of an actor in another network."""
        return Message.from_json(
            {"type": "RemoteReference", "data": {"network_id": network_id, "actor_id": actor_id, "port": port}}
        )

    @staticmethod
    def network_event(event_type: str, data: Any = None) -> Message:
        """A ``NetworkEvent`` (``ActorRegistered``, ``NetworkConnected``, ...)."""
        return Message.from_json({"type": "NetworkEvent", "data": {"event_type": event_type, "data": data}})

    @staticmethod
    def from_json(value: Any) -> Message:
        """Parse the JSON form ``{"type": TAG, "data": DATA}`` (a dict, not a string).

        A :class:`Message` is returned as it is. Raises
        :class:`~reflow_cli.errors.MessageFormatError` (a ``RuntimeError``, as in
        the reference) for unknown tags, missing fields and wrong payloads.
        ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` are accepted as Float data.
        """
        if type(value) is Message:
            return value
        if not isinstance(value, Mapping):
            if isinstance(value, Message):
                return value
            raise _invalid(value, "adjacently tagged enum Message")
        try:
            tag = value["type"]
        except KeyError:
            raise MessageFormatError("missing field `type`") from None
        if tag not in _TAG_SET:
            raise MessageFormatError(
                f"unknown variant `{tag}`, expected one of " + ", ".join(f"`{t}`" for t in MESSAGE_TAGS)
            )
        if tag == "Flow":
            if value.get("data") is not None:
                raise _invalid(value["data"], "unit variant Message::Flow")
            return _FLOW
        if "data" not in value:
            if tag == "Optional":
                return Message._make("Optional", None)
            raise MessageFormatError("missing field `data`")
        return Message._make(tag, _payload_from_json(tag, value["data"]))

    # -- accessors -----------------------------------------------------------

    @property
    def kind(self) -> str:
        """The tag: one of :data:`MESSAGE_TAGS`."""
        return self._kind

    def data(self) -> Any:
        """The payload (``None`` for ``Flow``; :class:`bytes` for ``Bytes``/``Encoded``)."""
        return self._data

    def as_json(self) -> dict[str, Any]:
        """The JSON form: ``{"data": ..., "type": ...}`` (``{"type": "Flow"}`` for Flow).

        Bytes become a list of ints; NaN and infinities become ``"NaN"``,
        ``"Infinity"``, ``"-Infinity"``.
        """
        if self._kind == "Flow":
            return {"type": "Flow"}
        return {"data": to_json_value(self._data), "type": self._kind}

    def as_integer(self) -> int | None:
        """The value of an ``Integer``, else ``None`` (no coercion)."""
        return self._data if self._kind == "Integer" else None

    def as_float(self) -> float | None:
        """The value of a ``Float``, else ``None`` (no coercion)."""
        return self._data if self._kind == "Float" else None

    def as_string(self) -> str | None:
        """The text of a ``String`` or ``Error``, else ``None``."""
        return self._data if self._kind in ("String", "Error") else None

    def as_boolean(self) -> bool | None:
        """The value of a ``Boolean``, else ``None``."""
        return self._data if self._kind == "Boolean" else None

    def as_bytes(self) -> bytes | None:
        """The bytes of a ``Bytes`` message, else ``None``."""
        return self._data if self._kind == "Bytes" else None

    def take_stream(self) -> Any:
        """Open the stream behind a ``StreamHandle`` (once per stream).

        Returns a :class:`~reflow_cli.StreamReader`. Raises
        :class:`~reflow_cli.errors.NotAStreamError` for other kinds and
        :class:`~reflow_cli.errors.StreamError` if the stream was already taken.
        """
        if self._kind != "StreamHandle":
            raise NotAStreamError("message is not a StreamHandle")
        opener = Message._stream_opener
        if opener is None:  # pragma: no cover - the streams module installs it on import
            from .engine import _streams  # noqa: F401

            opener = Message._stream_opener
            assert opener is not None
        return opener(self._data)

    # -- mapping protocol (read-only) ----------------------------------------

    def __getitem__(self, key: str) -> Any:
        if key == "data":
            if self._kind == "Flow":
                raise KeyError(key)
            return self._data
        if key == "type":
            return self._kind
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key == "type" or (key == "data" and self._kind != "Flow")

    def __iter__(self) -> Iterator[str]:
        if self._kind != "Flow":
            yield "data"
        yield "type"

    def __len__(self) -> int:
        return 1 if self._kind == "Flow" else 2

    def get(self, key: str, default: Any = None) -> Any:
        """Mapping ``get``: ``msg.get("data")`` is the payload (``None`` for Flow)."""
        if key == "data":
            return default if self._kind == "Flow" else self._data
        if key == "type":
            return self._kind
        return default

    def _as_dict(self) -> dict[str, Any]:
        if self._kind == "Flow":
            return {"type": "Flow"}
        return {"data": self._data, "type": self._kind}

    def __repr__(self) -> str:
        return repr(self._as_dict())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Message):
            return self._kind == other._kind and (self._kind == "Flow" or self._data == other._data)
        if isinstance(other, Mapping):
            return self._as_dict() == dict(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash((self._kind, _freeze(self._data)))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Message._make, (self._kind, self._data))

    def __copy__(self) -> Message:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Message:
        return self


# Immutable singletons are safe to share.
_FLOW = Message._make("Flow", None)
