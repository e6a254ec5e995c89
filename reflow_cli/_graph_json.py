"""Reading and writing the GraphExport JSON document (private to :mod:`reflow_cli.graph`).

This module knows the *shape* of the document and nothing about graph
semantics: it turns a document into plain, validated Python values
(:class:`ParsedExport`) and builds the dicts that :meth:`Graph.to_json` emits.
Whether a connection names an existing node is the graph's business; it raises
:class:`~reflow_cli.errors.GraphError` for that, while everything here raises
:class:`~reflow_cli.errors.GraphFormatError` (a ``RuntimeError``, as the
reference's serde errors are).

Error texts start with serde's wording where the reference produces one
(``missing field `caseSensitive` ``, ``invalid type: sequence, expected a map``)
so messages stay recognisable, and end with where in the document the problem
is (``at processes.src``, ``at connections[3].to.portType``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from .errors import GraphFormatError, MessageError
from .message import Message, _describe, json_ready, to_json_value

__all__ = [
    "PORT_TYPES",
    "EdgeDoc",
    "ParsedConnection",
    "ParsedExport",
    "ParsedGroup",
    "ParsedProcess",
    "edge_json",
    "parse_export",
    "parse_port_type",
]

#: Port type tags, in the reference's order (serde's ``expected one of`` list).
PORT_TYPES: tuple[str, ...] = (
    "any",
    "flow",
    "event",
    "boolean",
    "integer",
    "float",
    "string",
    "object",
    "array",
    "encoded",
    "bytes",
    "stream",
    "option",
)
_PORT_TYPE_SET = frozenset(PORT_TYPES)
_EXPECTED_PORT_TYPES = ", ".join(f"`{t}`" for t in PORT_TYPES)
_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")


# -- error helpers -------------------------------------------------------------


def child(path: str, key: str | int) -> str:
    """The location of ``key`` inside ``path``: ``processes.src``, ``connections[3]``.

    Keys that are not plain identifiers are quoted as JSON strings so the
    location stays unambiguous (``processes["a.b"]``).
    """
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _SIMPLE_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _at(where: str, field: str | int | None) -> str:
    return where if field is None else child(where, field)


# Locations are built only when an error is raised: building one per field made
# loading a 10k-node export several times slower.


def _fail(text: str, where: str, field: str | int | None = None) -> GraphFormatError:
    return GraphFormatError(f"{text} at {_at(where, field) or 'the top level'}")


def _invalid(value: Any, expected: str, where: str, field: str | int | None = None) -> GraphFormatError:
    return _fail(f"invalid type: {_describe(value)}, expected {expected}", where, field)


def _required(doc: Mapping[str, Any], name: str, where: str) -> Any:
    try:
        return doc[name]
    except KeyError:
        raise _fail(f"missing field `{name}`", where) from None


def _string(value: Any, where: str, field: str | int | None = None) -> str:
    if not isinstance(value, str):
        raise _invalid(value, "a string", where, field)
    return value


def _map(value: Any, where: str, field: str | None = None, expected: str = "a map") -> Mapping[str, Any]:
    if type(value) is not dict and not isinstance(value, Mapping):
        raise _invalid(value, expected, where, field)
    return value


def _sequence(value: Any, where: str, field: str | None = None) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, (list, tuple)):
        raise _invalid(value, "a sequence", where, field)
    return value


def json_copy(value: Any, where: str, field: str | None = None) -> Any:
    """A deep copy of a JSON-shaped value; anything without a JSON form is a format error."""
    if value is None:
        return None
    try:
        return to_json_value(json_ready(value))
    except MessageError as exc:
        raise _fail(str(exc), where, field) from None


def _metadata(value: Any, where: str, field: str | None = "metadata") -> dict[str, Any] | None:
    """Optional ``metadata``: a map or null."""
    if value is None:
        return None
    return json_copy(_map(value, where, field), where, field)  # type: ignore[no-any-return]


def _index(value: Any, where: str) -> int | None:
    """Optional ``index``: a non-negative integer (serde's ``usize``) or null."""
    if value is None:
        return None
    if type(value) is not int:
        raise _invalid(value, "usize", where, "index")
    if value < 0:
        raise _fail(f"invalid value: integer `{value}`, expected usize", where, "index")
    return value


# -- port types ----------------------------------------------------------------


# Canonical dicts of the types without a value, shared: stored port types are
# never mutated and every getter copies them.
_UNIT_TYPES = {tag: {"type": tag} for tag in PORT_TYPES if tag not in ("object", "array", "option")}


def parse_port_type(value: Any, where: str, field: str | None = None, *, lenient: bool = False) -> dict[str, Any]:
    """Validate a port type and return its canonical dict form.

    The form is serde's adjacently tagged ``PortType``: ``{"type": "integer"}``,
    ``{"type": "object", "value": "SchemaName"}``, ``{"type": "array", "value":
    <port type>}``, ``{"type": "option", "value": <port type>}``. An empty map
    reads as ``any`` (the reference accepts it). ``lenient`` (used by the API,
    not by documents) also accepts a plain string such as ``"integer"`` and
    ignores the case of type names. ``where``/``field`` locate it for errors.
    """
    if type(value) is dict and len(value) == 1:
        unit = _UNIT_TYPES.get(value.get("type"))  # type: ignore[arg-type]
        if unit is not None:
            return unit
    if isinstance(value, str) and lenient:
        tag = value.lower()
        if tag in ("object", "array", "option"):
            raise _fail(
                f'port type `{tag}` needs a value; pass the dict form {{"type": "{tag}", "value": ...}}',
                where,
                field,
            )
        if tag not in _PORT_TYPE_SET:
            raise _fail(f"unknown variant `{value}`, expected one of {_EXPECTED_PORT_TYPES}", where, field)
        return _UNIT_TYPES[tag]
    where = _at(where, field)
    if not isinstance(value, Mapping):
        raise _invalid(value, "adjacently tagged enum PortType", where)
    if not value:
        return _UNIT_TYPES["any"]
    tag = _required(value, "type", where)
    if not isinstance(tag, str):
        raise _invalid(tag, "string or map", where, "type")
    if lenient:
        tag = tag.lower()
    if tag not in _PORT_TYPE_SET:
        raise _fail(f"unknown variant `{tag}`, expected one of {_EXPECTED_PORT_TYPES}", where, "type")
    if tag in _UNIT_TYPES:
        if value.get("value") is not None:
            raise _invalid(value["value"], f"unit variant PortType::{tag.capitalize()}", where, "value")
        return _UNIT_TYPES[tag]
    inner = _required(value, "value", where)
    if tag == "object":
        return {"type": tag, "value": _string(inner, where, "value")}
    return {"type": tag, "value": parse_port_type(inner, where, "value", lenient=lenient)}


# -- edges ---------------------------------------------------------------------


class EdgeDoc(NamedTuple):
    """One validated ``GraphEdge`` (port ids already lower-cased when asked)."""

    node: str
    port_id: str
    port_name: str
    port_type: dict[str, Any]
    port_index: int | None  # the edge's ``index`` (a NamedTuple can't call a field ``index``)
    expose: bool
    data: Any
    metadata: dict[str, Any] | None


def _parse_edge(value: Any, where: str, lower: bool) -> EdgeDoc:
    doc = _map(value, where, expected="struct GraphEdge")
    node = _string(_required(doc, "nodeId", where), where, "nodeId")
    port_id = _string(_required(doc, "portId", where), where, "portId")
    port_name = _string(_required(doc, "portName", where), where, "portName")
    port_type = parse_port_type(_required(doc, "portType", where), where, "portType")
    expose = _required(doc, "expose", where)
    if type(expose) is not bool:
        raise _invalid(expose, "a boolean", where, "expose")
    index = _index(doc.get("index"), where)
    data = json_copy(doc.get("data"), where, "data")
    metadata = _metadata(doc.get("metadata"), where)
    if lower:
        port_id = port_id.lower()
        port_name = port_name.lower()
    return EdgeDoc(node, port_id, port_name, port_type, index, expose, data, metadata)


def edge_json(
    node: str,
    port_id: str,
    port_name: str = "",
    index: int | None = None,
    port_type: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    expose: bool = False,
    data: Any = None,
) -> dict[str, Any]:
    """A fresh ``GraphEdge`` dict, keys in the reference's (alphabetical) order.

    ``port_type``, ``metadata`` and ``data`` are deep-copied so the caller may
    mutate the result freely.
    """
    return {
        "data": None if data is None else to_json_value(data),
        "expose": expose,
        "index": index,
        "metadata": None if metadata is None else to_json_value(metadata),
        "nodeId": node,
        "portId": port_id,
        "portName": port_name,
        "portType": {"type": "any"} if port_type is None else to_json_value(port_type),
    }


# -- the whole document --------------------------------------------------------


class ParsedProcess(NamedTuple):
    """One ``processes`` entry."""

    key: str
    id: str
    component: str
    metadata: dict[str, Any] | None
    where: str


class ParsedConnection(NamedTuple):
    """One ``connections`` entry: a connection, or an IIP when ``message`` is set."""

    source: EdgeDoc
    target: EdgeDoc
    message: Message | None
    metadata: dict[str, Any] | None
    where: str


class ParsedGroup(NamedTuple):
    """One ``groups`` entry."""

    id: str
    nodes: list[str]
    metadata: dict[str, Any] | None
    where: str


@dataclass(slots=True)
class ParsedExport:
    """A GraphExport document, checked for shape but not yet for meaning."""

    name: str
    case_sensitive: bool
    properties: dict[str, Any]
    processes: list[ParsedProcess]
    connections: list[ParsedConnection]
    inports: list[tuple[str, EdgeDoc, str]]
    outports: list[tuple[str, EdgeDoc, str]]
    groups: list[ParsedGroup]


def load_document(value: Any) -> Mapping[str, Any]:
    """Accept a dict, or JSON text (``str``/``bytes``), and return the top-level map."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise GraphFormatError(f"Graph JSON is not valid UTF-8: {exc}") from None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise GraphFormatError(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    return _map(value, "", expected="struct GraphExport")


def parse_export(value: Any) -> ParsedExport:
    """Check the shape of a GraphExport document and return its parts.

    Required: ``caseSensitive`` (bool), ``properties`` (map) with ``name``
    (string). Optional: ``processes``, ``connections``, ``inports``,
    ``outports``, ``groups``. Unknown top-level keys (``graphDependencies``...)
    are ignored, as in the reference. A connection whose ``data`` is not null
    is an IIP; its data must be a tagged message.
    """
    doc = load_document(value)
    case_sensitive = _required(doc, "caseSensitive", "")
    if type(case_sensitive) is not bool:
        raise _invalid(case_sensitive, "a boolean", "caseSensitive")
    lower = not case_sensitive
    properties = _map(_required(doc, "properties", ""), "properties")
    # The reference aborts the whole process on a missing name; a clear error is enough.
    name = _string(_required(properties, "name", "properties"), "properties.name")
    extra = json_copy({key: val for key, val in properties.items() if key != "name"}, "properties")

    processes: list[ParsedProcess] = []
    for key, entry in _map(doc.get("processes", {}), "processes").items():
        where = child("processes", key)
        proc = _map(entry, where, expected="struct GraphNode")
        node_id = _string(_required(proc, "id", where), where, "id")
        component = _string(_required(proc, "component", where), where, "component")
        processes.append(ParsedProcess(key, node_id, component, _metadata(proc.get("metadata"), where), where))

    connections: list[ParsedConnection] = []
    for position, entry in enumerate(_sequence(doc.get("connections", ()), "connections")):
        where = f"connections[{position}]"
        conn = _map(entry, where, expected="struct GraphConnection")
        source = _parse_edge(_required(conn, "from", where), f"{where}.from", lower)
        target = _parse_edge(_required(conn, "to", where), f"{where}.to", lower)
        metadata = _metadata(conn.get("metadata"), where)
        data = conn.get("data")
        message = None
        if data is not None:
            try:
                # Copied first: Message.from_json keeps nested data, shared with the document otherwise.
                message = Message.from_json(json_copy(data, where, "data"))
            except MessageError as exc:
                raise _fail(f"initial packet data is not a tagged message: {exc}", where, "data") from None
        connections.append(ParsedConnection(source, target, message, metadata, where))

    ports: dict[str, list[tuple[str, EdgeDoc, str]]] = {"inports": [], "outports": []}
    for section, found in ports.items():
        for key, entry in _map(doc.get(section, {}), section).items():
            where = child(section, key)
            found.append((key.lower() if lower else key, _parse_edge(entry, where, lower), where))

    groups: list[ParsedGroup] = []
    for position, entry in enumerate(_sequence(doc.get("groups", ()), "groups")):
        where = f"groups[{position}]"
        group = _map(entry, where, expected="struct GraphGroup")
        group_id = _string(_required(group, "id", where), where, "id")
        members = _sequence(_required(group, "nodes", where), where, "nodes")
        nodes = [_string(node, f"{where}.nodes", i) for i, node in enumerate(members)]
        groups.append(ParsedGroup(group_id, nodes, _metadata(group.get("metadata"), where), where))

    return ParsedExport(
        name, case_sensitive, extra, processes, connections, ports["inports"], ports["outports"], groups
    )
