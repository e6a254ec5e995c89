"""The spec's short forms: ``NODE.PORT`` endpoints, message sugar, port type strings.

Each reader has a writer that produces the shortest form reading back to the
same value, so ``reflow convert`` writes specs a person would write.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..message import MESSAGE_TAGS, Message

__all__ = [
    "CONNECTION",
    "ENDPOINT",
    "ID",
    "TARGET",
    "PortTypeError",
    "canonical_port_type",
    "is_id",
    "is_tagged",
    "message_from_sugar",
    "message_to_sugar",
    "port_type_from_spec",
    "port_type_to_spec",
]

_ID = r"[A-Za-z_][A-Za-z0-9_-]*(?:/[A-Za-z_][A-Za-z0-9_-]*)*"
#: A node id or port name: ``[A-Za-z_][A-Za-z0-9_-]*`` segments joined by ``/``
#: (composed graphs name their nodes ``<namespace>/<node>``, subgraphs theirs ``<node>/<inner>``).
ID = re.compile(_ID + r"\Z")
#: ``NODE.PORT`` or ``NODE.PORT[INDEX]`` (groups: node, port, index).
ENDPOINT = re.compile(rf"({_ID})\.({_ID})(?:\[([0-9]+)\])?\Z")
#: ``NODE.PORT`` (initial packet targets and exported ports).
TARGET = re.compile(rf"({_ID})\.({_ID})\Z")
#: ``A.P -> B.Q`` with optional indexes (groups: node, port, index, node, port, index).
CONNECTION = re.compile(
    rf"\s*({_ID})\.({_ID})(?:\[([0-9]+)\])?\s*->\s*({_ID})\.({_ID})(?:\[([0-9]+)\])?\s*\Z"
)

_TAGS = frozenset(MESSAGE_TAGS)
_SUGAR_KEYS = frozenset(("type", "data"))


def is_id(value: Any) -> bool:
    """Whether ``value`` is a valid node id or port name."""
    return isinstance(value, str) and ID.match(value) is not None


def is_tagged(value: Any) -> bool:
    """Whether a mapping reads as a tagged message: keys within {type, data}, ``type`` one of the 16 tags."""
    return (
        isinstance(value, dict)
        and "type" in value
        and _SUGAR_KEYS.issuperset(value)
        and isinstance(value["type"], str)
        and value["type"] in _TAGS
    )


def message_from_sugar(value: Any) -> Message:
    """The message a spec value stands for (raises :class:`~reflow_cli.errors.MessageError`).

    A tagged mapping is that message; any other mapping an Object, a list an
    Array, a bool a Boolean, an int an Integer, a float a Float, a str a
    String, and ``None`` an Optional with no value.
    """
    if isinstance(value, dict):
        return Message.from_json(value) if is_tagged(value) else Message.object(value)
    if isinstance(value, list):
        return Message.array(value)
    if isinstance(value, bool):
        return Message.boolean(value)
    if isinstance(value, int):
        return Message.integer(value)
    if isinstance(value, float):
        return Message.float(value)
    if isinstance(value, str):
        return Message.string(value)
    if value is None:
        return Message.optional(None)
    return Message.from_json(value)  # raises with the serde wording


def message_to_sugar(tagged: dict[str, Any]) -> Any:
    """The shortest spec value for a tagged message JSON form (``{"type", "data"}``)."""
    kind = tagged.get("type")
    data = tagged.get("data")
    if kind == "Integer" and type(data) is int:
        return data
    if kind == "Float" and type(data) is float and math.isfinite(data):
        return data
    if kind == "String" and isinstance(data, str):
        return data
    if kind == "Boolean" and isinstance(data, bool):
        return data
    if kind == "Array" and isinstance(data, list):
        return data
    if kind == "Object" and isinstance(data, dict) and not is_tagged(data):
        return data
    if kind == "Optional" and data is None:
        return None
    return tagged


# -- port types ------------------------------------------------------------------

_UNIT_TYPES = ("any", "flow", "event", "boolean", "integer", "float", "string", "encoded", "bytes", "stream")
_UNIT_SET = frozenset(_UNIT_TYPES)
_ALL_TYPES = frozenset((*_UNIT_TYPES, "object", "array", "option"))


class PortTypeError(ValueError):
    """A port type that is neither the string grammar nor the ``{type, value}`` form."""


def _parse_type_text(text: str) -> dict[str, Any]:
    if text in _UNIT_SET:
        return {"type": text}
    if text.startswith("object<") and text.endswith(">") and "<" not in text[7:-1] and ">" not in text[7:-1]:
        return {"type": "object", "value": text[7:-1]}
    for wrapper in ("array", "option"):
        if text.startswith(wrapper + "<") and text.endswith(">") and len(text) > len(wrapper) + 2:
            return {"type": wrapper, "value": _parse_type_text(text[len(wrapper) + 1 : -1])}
    raise PortTypeError(
        f"{text!r} is not a port type: use any, flow, event, boolean, integer, float, string, encoded, "
        "bytes, stream, object<Name>, array<TYPE> or option<TYPE>"
    )


def _parse_type_dict(value: Any, depth: int = 0) -> dict[str, Any]:
    if depth > 32:
        raise PortTypeError("the port type nests too deeply")
    if not isinstance(value, dict):
        raise PortTypeError(f"a port type value must be a mapping {{type, value}}, not {type(value).__name__}")
    if not value:
        return {"type": "any"}
    tag = value.get("type")
    if not isinstance(tag, str) or tag not in _ALL_TYPES:
        raise PortTypeError(f"unknown port type {tag!r}")
    extra = set(value) - {"type", "value"}
    if extra:
        raise PortTypeError(f"a port type has only `type` and `value`, not {sorted(extra)[0]!r}")
    inner = value.get("value")
    if tag in _UNIT_SET:
        if inner is not None:
            raise PortTypeError(f"port type {tag!r} takes no value")
        return {"type": tag}
    if tag == "object":
        if not isinstance(inner, str):
            raise PortTypeError("port type `object` needs `value`: the schema name (text)")
        return {"type": "object", "value": inner}
    if inner is None:
        raise PortTypeError(f"port type {tag!r} needs `value`: the element type")
    element = _parse_type_text(inner) if isinstance(inner, str) else _parse_type_dict(inner, depth + 1)
    return {"type": tag, "value": element}


def port_type_from_spec(value: Any) -> dict[str, Any]:
    """The Graph JSON form (``{"type": "array", "value": {"type": "integer"}}``) of a spec port type.

    Raises :class:`PortTypeError` for anything else.
    """
    if isinstance(value, str):
        return _parse_type_text(value)
    return _parse_type_dict(value)


def _type_text(value: dict[str, Any]) -> str | None:
    tag = value.get("type")
    if tag in _UNIT_SET and set(value) <= {"type", "value"} and value.get("value") is None:
        return str(tag)
    inner = value.get("value")
    if tag == "object" and isinstance(inner, str) and "<" not in inner and ">" not in inner:
        return f"object<{inner}>"
    if tag in ("array", "option") and isinstance(inner, dict):
        text = _type_text(inner)
        return None if text is None else f"{tag}<{text}>"
    return None


def port_type_to_spec(value: dict[str, Any]) -> Any:
    """The spec form of a Graph JSON port type: the string grammar when it can say it, else the dict."""
    text = _type_text(value)
    return value if text is None else text


def canonical_port_type(value: Any) -> Any:
    """A spec port type in its canonical spec form (raises :class:`PortTypeError`)."""
    return port_type_to_spec(port_type_from_spec(value))
