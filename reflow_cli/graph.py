"""The graph model: nodes, connections, initial packets (IIPs), exported ports, groups.

:class:`Graph` has every member of the reference runtime's ``Graph`` with the
same signatures, and reads and writes the same GraphExport JSON document::

    >>> g = Graph("demo")
    >>> g.add_node("src", "tpl_src")
    >>> g.add_node("sink", "tpl_log")
    >>> g.add_connection("src", "out", "sink", "in")
    >>> g.add_initial("src", "in", Message.integer(21))
    >>> sorted(g.to_json())
    ['caseSensitive', 'connections', 'groups', 'inports', 'outports', 'processes', 'properties']

Where it differs from the reference (each is a deliberate fix, see
``docs/porting.md``): every mutator validates its arguments and raises
:class:`~reflow_cli.errors.GraphError` naming the missing or clashing id (with
a ``did you mean ...?`` hint) instead of silently doing nothing; IIP data must
be a :class:`~reflow_cli.message.Message` or a tagged dict; inport port types
are kept; ``remove_node`` also leaves the node's groups; there is no limit on
the number of mutations (the reference freezes on the 1001st); and
``from_json`` keeps everything it reads, so a reference export round-trips
exactly.

Engine view
-----------
The runtime reads a graph only through this stable internal interface:
:attr:`Graph.name`, :attr:`Graph.case_sensitive`, :meth:`Graph.iter_processes`,
:meth:`Graph.iter_connections`, :meth:`Graph.iter_initials`,
:meth:`Graph.iter_inports` and :meth:`Graph.iter_outports`. They return
snapshots made of the frozen records :class:`GraphProcess`,
:class:`GraphConnection`, :class:`GraphInitial` and :class:`GraphPort`; port
ids in them are already lower-cased when the graph is case-insensitive.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _graph_json as gj
from ._graph_json import PORT_TYPES
from .errors import GraphError, GraphTypeError, MessageError
from .message import Message, json_ready, to_json_value

__all__ = [
    "PORT_TYPES",
    "Graph",
    "GraphConnection",
    "GraphInitial",
    "GraphPort",
    "GraphProcess",
]


# -- the engine view: frozen records ----------------------------------------


@dataclass(frozen=True, slots=True)
class GraphProcess:
    """A node as the engine sees it: its id, template id and metadata (a copy)."""

    id: str
    component: str
    metadata: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class GraphConnection:
    """A connection between two node ports (IIPs are not connections).

    ``src_index``/``tgt_index`` are the edge indexes of an imported document
    (``None`` unless the document had them; the API never sets them).
    """

    src_node: str
    src_port: str
    src_index: int | None
    tgt_node: str
    tgt_port: str
    tgt_index: int | None
    metadata: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class GraphInitial:
    """An initial packet: ``message`` is delivered to ``node``'s ``port`` at start.

    For an IIP sent through a graph inport (:meth:`Graph.add_graph_initial`),
    ``port`` is the node's own port behind that inport.
    """

    node: str
    port: str
    index: int
    message: Message
    metadata: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class GraphPort:
    """An exported port: graph port ``name`` is ``node``'s ``port``.

    ``port_type`` is the adjacently tagged form, e.g. ``{"type": "integer"}``.
    """

    name: str
    node: str
    port: str
    port_type: dict[str, Any]
    metadata: dict[str, Any] | None


# -- internal records ----------------------------------------------------------
# Mutable, slotted, and linked from both ends: every record touching a node is
# in that node's ``links`` set, so removing or renaming a node visits only what
# touches it instead of scanning the whole graph.


@dataclass(slots=True, eq=False)  # eq=False: records hash by identity, for the links sets
class _Node:
    id: str
    component: str
    metadata: dict[str, Any] | None
    links: set[_Link] = field(default_factory=set)


@dataclass(slots=True, eq=False)
class _Connection:
    serial: int
    src: str
    src_port: str
    tgt: str
    tgt_port: str
    metadata: dict[str, Any] | None
    src_index: int | None = None
    tgt_index: int | None = None

    def key(self) -> tuple[str, str, str, str]:
        return (self.src, self.src_port, self.tgt, self.tgt_port)


@dataclass(slots=True, eq=False)
class _Initial:
    serial: int
    node: str
    port: str  # the port the node receives on
    index: int
    message: Message
    metadata: dict[str, Any] | None
    # The graph inport this IIP was sent through (None for a plain IIP).
    inport: str | None = None
    # The exported ``to`` edge's other fields (metadata, portType, expose,
    # data) when not the defaults: the reference copies the inport's edge
    # there, and keeping it makes its exports round-trip.
    edge: tuple[Any, ...] | None = None


@dataclass(slots=True, eq=False)
class _ExportedPort:
    inport: bool
    name: str
    node: str
    port: str
    port_type: dict[str, Any]
    metadata: dict[str, Any] | None
    # ``portId`` in the export: the name, except in documents where the
    # reference's rename_inport left the old name there.
    port_id: str = ""
    index: int | None = None
    expose: bool = False
    data: Any = None

    def __post_init__(self) -> None:
        self.port_id = self.port_id or self.name


class _Group:
    # ``members`` maps node id -> insertion rank, so a rename keeps the node's
    # place without rebuilding the group; exports sort by rank.
    __slots__ = ("id", "members", "metadata", "rank")

    def __init__(self, group_id: str, metadata: dict[str, Any] | None) -> None:
        self.id = group_id
        self.members: dict[str, int] = {}
        self.metadata = metadata
        self.rank = 0

    def add(self, node_id: str) -> None:
        self.rank += 1
        self.members[node_id] = self.rank

    def ordered(self) -> list[str]:
        return sorted(self.members, key=self.members.__getitem__)


_Link = _Connection | _Initial | _ExportedPort | _Group


# -- argument helpers ----------------------------------------------------------


def _hint(name: object, candidates: Iterable[str]) -> str:
    """``; did you mean 'x'?`` when a candidate is close to ``name``, else ``""``."""
    if not isinstance(name, str):
        return ""
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _require_str(value: object, what: str) -> None:
    if not isinstance(value, str):
        raise GraphTypeError(f"{what} must be a str, not {type(value).__name__}")


def _require_id(value: object, what: str) -> None:
    _require_str(value, what)
    if not value:
        # "" marks the missing source of an IIP in the export format.
        raise GraphError(f"{what} must not be empty")


def _copy(value: Any) -> Any:
    """A deep copy of stored JSON data (so callers can't mutate the graph through it)."""
    return None if value is None else to_json_value(value)


def _what(kind: str, name: Any) -> str:
    """How an error names a thing: ``node 'a'``, ``connection a.out -> b.in``."""
    if kind == "connection":
        return f"connection {_conn_text(*name)}"
    if kind == "initial packet":
        return f"initial packet for {name[0]}.{name[1]}"
    return f"{kind} {name!r}"


def _json_arg(value: Any, where: str) -> Any:
    """A deep copy of a JSON-shaped argument (sets become lists, as in messages)."""
    try:
        return to_json_value(json_ready(value, where))
    except MessageError as exc:
        raise GraphError(str(exc)) from None


def _metadata_arg(value: Any, kind: str, name: Any) -> dict[str, Any] | None:
    """Validate and copy a ``metadata`` argument (a dict of JSON values, or None).

    ``kind``/``name`` say whose metadata it is; the text is built only on error.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise GraphTypeError(f"metadata of {_what(kind, name)} must be a dict or None, not {type(value).__name__}")
    return _json_arg(value, f"metadata of {_what(kind, name)}")  # type: ignore[no-any-return]


def _merge(current: dict[str, Any] | None, update: Any, kind: str, name: Any) -> dict[str, Any] | None:
    """The metadata after ``set_*_metadata``: ``update``'s keys merged over ``current``."""
    update = _metadata_arg(update, kind, name)
    if update is None:
        return current
    merged = dict(current) if current else {}
    merged.update(update)
    return merged


def _message_arg(data: Any, node: str, port: str) -> Message:
    """IIP data as a :class:`Message` (a Message, or a tagged dict validated by ``from_json``)."""
    if type(data) is Message:
        return data
    try:
        # Copy first: Message.from_json keeps the dict's nested data, which
        # would otherwise stay shared with the caller.
        return Message.from_json(to_json_value(data) if isinstance(data, Mapping) else data)
    except MessageError as exc:
        raise GraphError(
            f"initial packet for {node}.{port} must be a Message or a tagged dict "
            f"such as {{'type': 'Integer', 'data': 1}}: {exc}"
        ) from None


def _index_arg(index: Any, limit: int, what: str) -> int:
    if type(index) is not int:
        raise GraphTypeError(f"index of {what} must be an int, not {type(index).__name__}")
    if not 0 <= index <= limit:
        # The reference panics (aborting the process) on an index past the list.
        raise GraphError(
            f"index {index} of {what} is out of range: the graph has {limit} initial packet(s), "
            f"so the index must be between 0 and {limit}"
        )
    return index


def _conn_text(src: str, src_port: str, tgt: str, tgt_port: str) -> str:
    return f"{src}.{src_port} -> {tgt}.{tgt_port}"


# -- the graph -----------------------------------------------------------------


class Graph:
    """A flow graph: the reference runtime's ``Graph`` API over dict-indexed storage.

    ``case_sensitive=False`` (the default, as in the reference) lower-cases
    every *port* id given to any method or read from a document; node and
    group ids are always kept as given.

    Lists come back in insertion order (``nodes()`` too: the reference's order
    is a hash-map accident that changes between runs); maps keyed by name
    (``inports()``, ``to_json()["processes"]``) are sorted by name, as the
    reference's are. Every getter returns fresh copies.
    """

    __slots__ = (
        "_name",
        "_case_sensitive",
        "_properties",
        "_nodes",
        "_connections",
        "_conn_keys",
        "_initials",
        "_inports",
        "_outports",
        "_groups",
        "_serial",
    )

    def __init__(self, name: str = "", case_sensitive: bool = False) -> None:
        """Create an empty graph called ``name``."""
        _require_str(name, "graph name")
        if type(case_sensitive) is not bool:
            raise GraphTypeError(f"case_sensitive must be a bool, not {type(case_sensitive).__name__}")
        self._name = name
        self._case_sensitive = case_sensitive
        self._properties: dict[str, Any] = {}
        self._nodes: dict[str, _Node] = {}
        # Connections and IIPs are keyed by a serial number so that renames
        # keep their order; _conn_keys finds a connection by its endpoints.
        self._connections: dict[int, _Connection] = {}
        self._conn_keys: dict[tuple[str, str, str, str], _Connection] = {}
        self._initials: dict[int, _Initial] = {}
        self._inports: dict[str, _ExportedPort] = {}
        self._outports: dict[str, _ExportedPort] = {}
        self._groups: dict[str, _Group] = {}
        self._serial = 0  # the last serial handed out

    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def __repr__(self) -> str:
        return (
            f"<Graph {self._name!r}: {len(self._nodes)} nodes, {len(self._connections)} connections, "
            f"{len(self._initials)} initial packets>"
        )

    # -- engine view ---------------------------------------------------------

    @property
    def name(self) -> str:
        """The graph's name (``properties.name`` in the export). Set it with :meth:`set_properties`."""
        return self._name

    @property
    def case_sensitive(self) -> bool:
        """Whether port ids keep their case (``False``: they are lower-cased)."""
        return self._case_sensitive

    def iter_processes(self) -> list[GraphProcess]:
        """Snapshot of the nodes, in insertion order (engine view)."""
        return [GraphProcess(n.id, n.component, _copy(n.metadata)) for n in self._nodes.values()]

    def iter_connections(self) -> list[GraphConnection]:
        """Snapshot of the node-to-node connections, in insertion order; IIPs excluded (engine view)."""
        return [
            GraphConnection(c.src, c.src_port, c.src_index, c.tgt, c.tgt_port, c.tgt_index, _copy(c.metadata))
            for c in self._connections.values()
        ]

    def iter_initials(self) -> list[GraphInitial]:
        """Snapshot of the initial packets, in initializer order (engine view)."""
        return [
            GraphInitial(ip.node, ip.port, ip.index, ip.message, _copy(ip.metadata)) for ip in self._initials.values()
        ]

    def iter_inports(self) -> list[GraphPort]:
        """Snapshot of the exported inports, sorted by name (engine view)."""
        return self._port_records(self._inports)

    def iter_outports(self) -> list[GraphPort]:
        """Snapshot of the exported outports, sorted by name (engine view)."""
        return self._port_records(self._outports)

    @staticmethod
    def _port_records(ports: dict[str, _ExportedPort]) -> list[GraphPort]:
        return [
            GraphPort(p.name, p.node, p.port, _copy(p.port_type), _copy(p.metadata))
            for p in (ports[name] for name in sorted(ports))
        ]

    # -- lookups -------------------------------------------------------------

    def _port(self, port: Any, what: str = "port") -> str:
        """A port id argument, checked and lower-cased when the graph is case-insensitive."""
        if not isinstance(port, str):
            raise GraphTypeError(f"{what} must be a str, not {type(port).__name__}")
        if not port:
            raise GraphError(f"{what} must not be empty")
        return port if self._case_sensitive else port.lower()

    def _node(self, node_id: Any, role: str = "node") -> _Node:
        """The node ``node_id``, or a GraphError naming it (with a close-match hint)."""
        node = self._nodes.get(node_id) if type(node_id) is str else None
        if node is None:
            _require_str(node_id, f"{role} id")
            raise GraphError(f"{role} {node_id!r} does not exist{_hint(node_id, self._nodes)}")
        return node

    def _connection(self, out_node: Any, out_port: Any, in_node: Any, in_port: Any) -> _Connection:
        src = self._node(out_node, "source node")
        self._node(in_node, "target node")
        key = (out_node, self._port(out_port), in_node, self._port(in_port))
        conn = self._conn_keys.get(key)
        if conn is None:
            text = _conn_text(*key)
            near = [_conn_text(*c.key()) for c in src.links if type(c) is _Connection]
            raise GraphError(f"connection {text} does not exist{_hint(text, near)}")
        return conn

    def _exported(self, ports: dict[str, _ExportedPort], port_id: Any, kind: str) -> _ExportedPort:
        name = self._port(port_id, f"{kind} name")
        port = ports.get(name)
        if port is None:
            raise GraphError(f"{kind} {name!r} does not exist{_hint(name, ports)}")
        return port

    def _group(self, group_id: Any) -> _Group:
        group = self._groups.get(group_id) if type(group_id) is str else None
        if group is None:
            _require_str(group_id, "group id")
            raise GraphError(f"group {group_id!r} does not exist{_hint(group_id, self._groups)}")
        return group

    # -- nodes ---------------------------------------------------------------

    def add_node(self, id: str, component: str, metadata: dict[str, Any] | None = None) -> None:
        """Add node ``id`` running template ``component``.

        Differs from the reference: a duplicate id raises GraphError (the
        reference silently keeps the first node); an empty id is refused.
        """
        if type(id) is not str or not id:
            _require_id(id, "node id")
        if id in self._nodes:
            raise GraphError(
                f"node {id!r} already exists (component {self._nodes[id].component!r}); remove or rename it first"
            )
        if type(component) is not str:
            _require_str(component, f"component of node {id!r}")
        self._nodes[id] = _Node(id, component, _metadata_arg(metadata, "node", id))

    def remove_node(self, id: str) -> None:
        """Remove node ``id`` with its connections, IIPs, exported ports and group memberships.

        Differs from the reference: a missing id raises GraphError, and the
        node also leaves its groups (the reference leaves a dangling member).
        """
        node = self._node(id)
        for link in node.links:
            kind = type(link)
            if kind is _Connection:
                conn: _Connection = link  # type: ignore[assignment]
                del self._connections[conn.serial]
                del self._conn_keys[conn.key()]
                # Only the other end needs unlinking: this node's set goes away whole.
                other = conn.tgt if conn.src == id else conn.src
                if other != id:
                    self._nodes[other].links.discard(conn)
            elif kind is _Initial:
                del self._initials[link.serial]  # type: ignore[union-attr]
            elif kind is _ExportedPort:
                del (self._inports if link.inport else self._outports)[link.name]  # type: ignore[union-attr]
            else:
                del link.members[id]  # type: ignore[union-attr]
        del self._nodes[id]

    def rename_node(self, old_id: str, new_id: str) -> None:
        """Rename a node; its connections, IIPs, exported ports and groups follow.

        Differs from the reference: a missing ``old_id`` or an existing
        ``new_id`` raises GraphError (the reference silently merges the two
        nodes). The renamed node moves to the end of :meth:`nodes`.
        """
        node = self._node(old_id)
        _require_id(new_id, "new node id")
        if new_id == old_id:
            return
        if new_id in self._nodes:
            raise GraphError(f"cannot rename node {old_id!r} to {new_id!r}: node {new_id!r} already exists")
        for link in node.links:
            kind = type(link)
            if kind is _Connection:
                conn: _Connection = link  # type: ignore[assignment]
                del self._conn_keys[conn.key()]
                if conn.src == old_id:
                    conn.src = new_id
                if conn.tgt == old_id:
                    conn.tgt = new_id
                self._conn_keys[conn.key()] = conn
            elif kind is _Group:
                link.members[new_id] = link.members.pop(old_id)  # type: ignore[union-attr]
            else:
                link.node = new_id  # type: ignore[union-attr]
        del self._nodes[old_id]
        node.id = new_id
        self._nodes[new_id] = node

    def set_node_metadata(self, id: str, metadata: dict[str, Any] | None) -> None:
        """Merge ``metadata``'s keys into the node's metadata (``None`` changes nothing).

        Differs from the reference: a missing id raises GraphError, and
        ``None`` leaves the metadata alone (the reference empties it).
        """
        node = self._node(id)
        node.metadata = _merge(node.metadata, metadata, "node", id)

    def get_node(self, id: str) -> dict[str, Any] | None:
        """``{"component", "id", "metadata"}`` of node ``id``, or ``None`` (as in the reference)."""
        node = self._nodes.get(id) if type(id) is str else None
        return None if node is None else self._process_json(node)

    def nodes(self) -> list[dict[str, Any]]:
        """Every node as ``{"component", "id", "metadata"}``, in insertion order."""
        return [self._process_json(node) for node in self._nodes.values()]

    @staticmethod
    def _process_json(node: _Node) -> dict[str, Any]:
        return {"component": node.component, "id": node.id, "metadata": _copy(node.metadata)}

    # -- connections ---------------------------------------------------------

    def add_connection(
        self,
        out_node: str,
        out_port: str,
        in_node: str,
        in_port: str,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Connect ``out_node.out_port`` to ``in_node.in_port``.

        Differs from the reference: a missing node or an existing identical
        connection raises GraphError (the reference silently ignores both, and
        its ``start()`` later aborts on the missing node).
        """
        src = self._node(out_node, "source node")
        tgt = self._node(in_node, "target node")
        key = (out_node, self._port(out_port, "source port"), in_node, self._port(in_port, "target port"))
        if key in self._conn_keys:
            raise GraphError(f"connection {_conn_text(*key)} already exists")
        conn = _Connection(self._next_serial(), *key, _metadata_arg(metadata, "connection", key))
        self._link_connection(conn, src, tgt)

    def _link_connection(self, conn: _Connection, src: _Node, tgt: _Node) -> None:
        self._connections[conn.serial] = conn
        self._conn_keys[conn.key()] = conn
        src.links.add(conn)
        tgt.links.add(conn)

    def _unlink_connection(self, conn: _Connection) -> None:
        del self._connections[conn.serial]
        del self._conn_keys[conn.key()]
        self._nodes[conn.src].links.discard(conn)
        self._nodes[conn.tgt].links.discard(conn)

    def remove_connection(self, out_node: str, out_port: str, in_node: str, in_port: str) -> None:
        """Remove the connection ``out_node.out_port -> in_node.in_port``.

        Differs from the reference: a missing connection raises GraphError.
        (The reference also corrupts its index here: re-adding the connection
        afterwards is ignored or aborts the process.)
        """
        self._unlink_connection(self._connection(out_node, out_port, in_node, in_port))

    def set_connection_metadata(
        self, out_node: str, out_port: str, in_node: str, in_port: str, metadata: dict[str, Any] | None
    ) -> None:
        """Merge ``metadata``'s keys into the connection's metadata (``None`` changes nothing).

        Differs from the reference: a missing connection raises GraphError.
        """
        conn = self._connection(out_node, out_port, in_node, in_port)
        conn.metadata = _merge(conn.metadata, metadata, "connection", conn.key())

    def get_connection(self, out_node: str, out_port: str, in_node: str, in_port: str) -> dict[str, Any] | None:
        """The connection in export form (``{"data", "from", "metadata", "to"}``), or ``None``."""
        if not all(isinstance(arg, str) for arg in (out_node, out_port, in_node, in_port)):
            return None
        if not self._case_sensitive:
            out_port, in_port = out_port.lower(), in_port.lower()
        conn = self._conn_keys.get((out_node, out_port, in_node, in_port))
        return None if conn is None else self._connection_json(conn)

    def connections(self) -> list[dict[str, Any]]:
        """Every connection in export form, in insertion order (IIPs are in :meth:`initializers`)."""
        return [self._connection_json(conn) for conn in self._connections.values()]

    @staticmethod
    def _connection_json(conn: _Connection) -> dict[str, Any]:
        return {
            "data": None,
            "from": gj.edge_json(conn.src, conn.src_port, index=conn.src_index),
            "metadata": _copy(conn.metadata),
            "to": gj.edge_json(conn.tgt, conn.tgt_port, index=conn.tgt_index),
        }

    # -- initial packets -----------------------------------------------------

    def add_initial(self, node: str, port: str, data: Any, metadata: dict[str, Any] | None = None) -> None:
        """Send ``data`` to ``node.port`` when the network starts; its index is its position.

        ``data`` is a :class:`Message` or a tagged dict (``{"type": "Integer",
        "data": 1}``). Differs from the reference: a Message is accepted (the
        reference refuses it), other data and a missing node raise GraphError
        (the reference stores anything, and drops IIPs to missing nodes).
        """
        target = self._node(node)
        port = self._port(port)
        self._append_initial(target, port, _message_arg(data, node, port), len(self._initials), metadata)

    def add_initial_index(
        self, node: str, port: str, data: Any, index: int, metadata: dict[str, Any] | None = None
    ) -> None:
        """Like :meth:`add_initial`, with an explicit ``index`` (0 to the number of IIPs).

        Differs from the reference: an index past the number of IIPs raises
        GraphError (the reference aborts the process).
        """
        target = self._node(node)
        port = self._port(port)
        index = _index_arg(index, len(self._initials), f"initial packet for {node}.{port}")
        self._append_initial(target, port, _message_arg(data, node, port), index, metadata)

    def _append_initial(
        self,
        target: _Node,
        port: str,
        message: Message,
        index: int,
        metadata: Any,
        inport: str | None = None,
        edge: tuple[Any, ...] | None = None,
    ) -> None:
        metadata = _metadata_arg(metadata, "initial packet", (target.id, port))
        ip = _Initial(self._next_serial(), target.id, port, index, message, metadata, inport, edge)
        self._initials[ip.serial] = ip
        target.links.add(ip)

    def remove_initial(self, node: str, port: str) -> None:
        """Remove every IIP delivered to ``node.port`` (graph IIPs behind that port included).

        Differs from the reference: raises GraphError when the node is missing
        or has no IIP on that port; matches the port the node receives on
        (the reference matches the export's ``portId``, which for an IIP sent
        through a graph inport is the inport's name).
        """
        target = self._node(node)
        port = self._port(port)
        found = [ip for ip in target.links if type(ip) is _Initial and ip.port == port]
        if not found:
            ports = {ip.port for ip in target.links if type(ip) is _Initial}
            raise GraphError(f"node {node!r} has no initial packet on port {port!r}{_hint(port, ports)}")
        self._drop_initials(target, found)

    def _drop_initials(self, target: _Node, found: Iterable[_Initial]) -> None:
        for ip in found:
            del self._initials[ip.serial]
            target.links.discard(ip)

    def initializers(self) -> list[dict[str, Any]]:
        """Every IIP as ``{"data", "metadata", "to"}`` (``data`` = the tagged message), in order."""
        return [self._initial_json(ip) for ip in self._initials.values()]

    @staticmethod
    def _initial_json(ip: _Initial, *, with_from: bool = False) -> dict[str, Any]:
        if ip.inport is None:
            port_id, port_name = ip.port, ""
        else:
            port_id, port_name = ip.inport, ip.port
        if ip.edge is None:
            to = gj.edge_json(ip.node, port_id, port_name, ip.index)
        else:
            metadata, port_type, expose, data = ip.edge
            to = gj.edge_json(ip.node, port_id, port_name, ip.index, port_type, metadata, expose, data)
        body = {"data": ip.message.as_json(), "metadata": _copy(ip.metadata), "to": to}
        if with_from:  # the export form: an empty source edge marks an IIP
            return {"data": body["data"], "from": gj.edge_json("", ""), "metadata": body["metadata"], "to": to}
        return body

    # -- exported ports ------------------------------------------------------

    def add_inport(
        self,
        port_id: str,
        node_id: str,
        port_key: str,
        port_type: dict[str, Any] | str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Export ``node_id``'s port ``port_key`` as the graph inport ``port_id``.

        ``port_type`` is the dict form (``{"type": "integer"}``, ``{"type":
        "array", "value": {"type": "string"}}``) or a plain type name
        (``"integer"``, any case); ``None`` means ``any``. Differs from the
        reference: the port type is kept (the reference exports ``any``), and a
        missing node or an existing inport name raises GraphError.
        """
        self._add_exported(self._inports, True, port_id, node_id, port_key, port_type, metadata)

    def add_outport(
        self,
        port_id: str,
        node_id: str,
        port_key: str,
        port_type: dict[str, Any] | str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Export ``node_id``'s port ``port_key`` as the graph outport ``port_id``.

        Same rules as :meth:`add_inport`. Differs from the reference: a missing
        node or an existing outport name raises GraphError.
        """
        self._add_exported(self._outports, False, port_id, node_id, port_key, port_type, metadata)

    def _add_exported(
        self,
        ports: dict[str, _ExportedPort],
        inport: bool,
        port_id: Any,
        node_id: Any,
        port_key: Any,
        port_type: Any,
        metadata: Any,
    ) -> None:
        kind = "inport" if inport else "outport"
        name = self._port(port_id, f"{kind} name")
        if name in ports:
            raise GraphError(f"{kind} {name!r} already exists; remove or rename it first")
        node = self._node(node_id)
        port = self._port(port_key, f"port of {kind} {name!r}")
        ptype = {"type": "any"}
        if port_type is not None:
            ptype = gj.parse_port_type(port_type, f"port_type of {kind} {name!r}", lenient=True)
        record = _ExportedPort(inport, name, node.id, port, ptype, _metadata_arg(metadata, kind, name))
        ports[name] = record
        node.links.add(record)

    def remove_inport(self, port_id: str) -> None:
        """Remove graph inport ``port_id`` (IIPs sent through it stay, as in the reference).

        Differs from the reference: a missing inport raises GraphError.
        """
        self._remove_exported(self._exported(self._inports, port_id, "inport"))

    def remove_outport(self, port_id: str) -> None:
        """Remove graph outport ``port_id``. Differs from the reference: a missing one raises GraphError."""
        self._remove_exported(self._exported(self._outports, port_id, "outport"))

    def _remove_exported(self, record: _ExportedPort) -> None:
        del (self._inports if record.inport else self._outports)[record.name]
        self._nodes[record.node].links.discard(record)

    def rename_inport(self, old_port: str, new_port: str) -> None:
        """Rename graph inport ``old_port``; IIPs sent through it follow.

        Differs from the reference: a missing ``old_port`` or an existing
        ``new_port`` raises GraphError (the reference overwrites it), and the
        exported ``portId`` follows the new name (the reference keeps the old).
        """
        renamed = self._rename_exported(self._inports, old_port, new_port, "inport")
        if renamed is not None:
            record, old_name = renamed
            for ip in self._nodes[record.node].links:
                if type(ip) is _Initial and ip.inport == old_name:
                    ip.inport = record.name

    def rename_outport(self, old_port: str, new_port: str) -> None:
        """Rename graph outport ``old_port``. Same rules as :meth:`rename_inport`."""
        self._rename_exported(self._outports, old_port, new_port, "outport")

    def _rename_exported(
        self, ports: dict[str, _ExportedPort], old_port: Any, new_port: Any, kind: str
    ) -> tuple[_ExportedPort, str] | None:
        """Rename an exported port; returns it with its old name (None when the name is unchanged)."""
        record = self._exported(ports, old_port, kind)
        new_name = self._port(new_port, f"new {kind} name")
        if new_name == record.name:
            return None
        if new_name in ports:
            raise GraphError(
                f"cannot rename {kind} {record.name!r} to {new_name!r}: {kind} {new_name!r} already exists"
            )
        old_name = record.name
        del ports[old_name]
        record.name = record.port_id = new_name
        ports[new_name] = record
        return record, old_name

    def set_inport_metadata(self, port_id: str, metadata: dict[str, Any] | None) -> None:
        """Merge ``metadata``'s keys into the inport's metadata. A missing inport raises GraphError."""
        record = self._exported(self._inports, port_id, "inport")
        record.metadata = _merge(record.metadata, metadata, "inport", record.name)

    def set_outport_metadata(self, port_id: str, metadata: dict[str, Any] | None) -> None:
        """Merge ``metadata``'s keys into the outport's metadata. A missing outport raises GraphError."""
        record = self._exported(self._outports, port_id, "outport")
        record.metadata = _merge(record.metadata, metadata, "outport", record.name)

    def inports(self) -> dict[str, dict[str, Any]]:
        """Graph inports as ``{name: edge}``, sorted by name.

        Each edge has ``nodeId``, ``portId`` (the name) and ``portName`` (the node's port).
        """
        return {name: self._port_json(self._inports[name]) for name in sorted(self._inports)}

    def outports(self) -> dict[str, dict[str, Any]]:
        """Graph outports as ``{name: edge}``, sorted by name."""
        return {name: self._port_json(self._outports[name]) for name in sorted(self._outports)}

    @staticmethod
    def _port_json(p: _ExportedPort) -> dict[str, Any]:
        return gj.edge_json(p.node, p.port_id, p.port, p.index, p.port_type, p.metadata, p.expose, p.data)

    # -- graph IIPs ----------------------------------------------------------

    def add_graph_initial(self, inport: str, data: Any, metadata: dict[str, Any] | None = None) -> None:
        """Send ``data`` into graph inport ``inport`` (an IIP to the node port behind it).

        As in the reference, the inport's ``index`` becomes the IIP's index,
        and the exported IIP edge names the inport (``portId``) and the node
        port (``portName``). Differs from the reference: a missing inport
        raises GraphError (the reference ignores the call), and the inport
        name is lower-cased like every port id in a case-insensitive graph.
        """
        self._add_graph_initial(inport, data, None, metadata)

    def add_graph_initial_index(
        self, inport: str, data: Any, index: int, metadata: dict[str, Any] | None = None
    ) -> None:
        """Like :meth:`add_graph_initial` with an explicit ``index`` (0 to the number of IIPs).

        Differs from the reference: an out-of-range index raises GraphError
        (the reference aborts the process).
        """
        self._add_graph_initial(inport, data, index, metadata)

    def _add_graph_initial(self, inport: Any, data: Any, index: Any, metadata: Any) -> None:
        record = self._exported(self._inports, inport, "inport")
        what = f"initial packet for inport {record.name!r}"
        index = len(self._initials) if index is None else _index_arg(index, len(self._initials), what)
        message = _message_arg(data, record.node, record.port)
        # The reference exports a copy of the inport's edge as the IIP target.
        edge = (_copy(record.metadata), _copy(record.port_type), record.expose, _copy(record.data))
        self._append_initial(self._nodes[record.node], record.port, message, index, metadata, record.name, edge)
        record.index = index

    def remove_graph_initial(self, inport: str) -> None:
        """Remove every IIP sent through graph inport ``inport``.

        Differs from the reference: a missing inport, or one with no IIP,
        raises GraphError.
        """
        record = self._exported(self._inports, inport, "inport")
        target = self._nodes[record.node]
        found = [ip for ip in target.links if type(ip) is _Initial and ip.inport == record.name]
        if not found:
            raise GraphError(f"inport {record.name!r} has no initial packet")
        self._drop_initials(target, found)

    # -- groups --------------------------------------------------------------

    def add_group(self, group_id: str, nodes: Iterable[str], metadata: dict[str, Any] | None = None) -> None:
        """Add group ``group_id`` holding ``nodes`` (a list of node ids, in order).

        Differs from the reference: an existing group id, an unknown node, or
        a node listed twice raises GraphError (the reference ignores the
        duplicate group and keeps unknown and repeated nodes).
        """
        _require_id(group_id, "group id")
        if group_id in self._groups:
            raise GraphError(f"group {group_id!r} already exists")
        if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Iterable):
            raise GraphTypeError(f"nodes of group {group_id!r} must be a list of node ids, not {type(nodes).__name__}")
        members = [self._node(node_id) for node_id in nodes]
        group = _Group(group_id, _metadata_arg(metadata, "group", group_id))
        for node in members:
            if node.id in group.members:
                raise GraphError(f"group {group_id!r} lists node {node.id!r} twice")
            group.add(node.id)
        self._groups[group_id] = group
        for node in members:
            node.links.add(group)

    def add_to_group(self, group_id: str, node_id: str) -> None:
        """Add node ``node_id`` to group ``group_id`` (nothing happens if it is already there).

        Differs from the reference: a missing group or node raises GraphError.
        """
        group = self._group(group_id)
        node = self._node(node_id)
        if node_id not in group.members:
            group.add(node_id)
            node.links.add(group)

    def remove_from_group(self, group_id: str, node_id: str) -> None:
        """Take node ``node_id`` out of group ``group_id``.

        Differs from the reference: a missing group, or a node that is not a
        member, raises GraphError.
        """
        group = self._group(group_id)
        if node_id not in group.members:
            raise GraphError(f"node {node_id!r} is not in group {group_id!r}{_hint(node_id, group.members)}")
        del group.members[node_id]
        self._nodes[node_id].links.discard(group)

    def remove_group(self, group_id: str) -> None:
        """Remove group ``group_id`` (its nodes stay). A missing group raises GraphError."""
        group = self._groups.pop(self._group(group_id).id)
        for node_id in group.members:
            self._nodes[node_id].links.discard(group)

    def set_group_metadata(self, group_id: str, metadata: dict[str, Any] | None) -> None:
        """Merge ``metadata``'s keys into the group's metadata.

        Differs from the reference: a missing group raises GraphError, and a
        group created without metadata accepts some (the reference ignores it).
        """
        group = self._group(group_id)
        group.metadata = _merge(group.metadata, metadata, "group", group_id)

    def groups(self) -> list[dict[str, Any]]:
        """Every group as ``{"id", "metadata", "nodes"}``, in insertion order."""
        return [self._group_json(group) for group in self._groups.values()]

    @staticmethod
    def _group_json(group: _Group) -> dict[str, Any]:
        return {"id": group.id, "metadata": _copy(group.metadata), "nodes": group.ordered()}

    # -- properties ----------------------------------------------------------

    def set_properties(self, properties: dict[str, Any] | None) -> None:
        """Replace the graph's properties (``None`` clears them), as the reference does.

        Differs from the reference: a ``"name"`` key renames the graph (the
        reference stores it but always exports the constructor's name).
        """
        if properties is None:
            properties = {}
        if not isinstance(properties, Mapping):
            raise GraphTypeError(f"properties must be a dict, not {type(properties).__name__}")
        new: dict[str, Any] = _json_arg(properties, "the graph properties")
        name = new.pop("name", self._name)
        _require_str(name, "properties['name'] (the graph name)")
        self._name = name
        self._properties = new

    def properties(self) -> dict[str, Any]:
        """The graph's properties, without ``name`` (see :attr:`name`)."""
        return _copy(self._properties)  # type: ignore[no-any-return]

    # -- JSON ----------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The GraphExport document (a dict with exactly 7 keys), as the reference writes it.

        IIPs are in ``connections`` after the connections, each with ``data``
        = the tagged message and an empty ``from`` edge. Maps are sorted by
        key; ``properties.name`` is always present.
        """
        nodes = self._nodes
        properties = _copy(self._properties)
        properties["name"] = self._name
        return {
            "caseSensitive": self._case_sensitive,
            "connections": [self._connection_json(c) for c in self._connections.values()]
            + [self._initial_json(ip, with_from=True) for ip in self._initials.values()],
            "groups": self.groups(),
            "inports": self.inports(),
            "outports": self.outports(),
            "processes": {node_id: self._process_json(nodes[node_id]) for node_id in sorted(nodes)},
            "properties": dict(sorted(properties.items())),
        }

    @staticmethod
    def from_json(value: Mapping[str, Any] | str | bytes) -> Graph:
        """Build a graph from a GraphExport document: a dict, or (beyond the reference) JSON text.

        Raises :class:`~reflow_cli.errors.GraphFormatError` (a RuntimeError, as
        in the reference) for a malformed document, with serde's wording and
        the location (``missing field `id` at processes.src``), including a
        missing ``properties.name`` (the reference aborts). Raises
        :class:`~reflow_cli.errors.GraphError` for a well-formed but invalid
        one: a connection, IIP, exported port or group naming a missing node,
        a ``processes`` key that differs from its ``id``, a repeated group,
        or two connections between the same ports with different metadata
        (identical repeats are merged, as the reference does). The reference
        silently drops or keeps all of these instead.

        Everything read is kept (inport port types and indexes, IIP target
        edges, connection edge indexes), so ``from_json(x).to_json() == x`` for
        the reference's exports; the reference itself loses those fields.
        """
        parsed = gj.parse_export(value)
        graph = Graph(parsed.name, parsed.case_sensitive)
        graph._load(parsed)
        return graph

    def import_graph(self, export: Mapping[str, Any] | str | bytes | Graph) -> None:
        """Replace this graph's whole state (name and case-sensitivity included) with ``export``.

        Accepts what :meth:`from_json` accepts, and a :class:`Graph`. The
        replacement is atomic: on error this graph is unchanged.
        """
        source = Graph.from_json(export.to_json() if isinstance(export, Graph) else export)
        for slot in Graph.__slots__:
            setattr(self, slot, getattr(source, slot))

    def _load(self, doc: gj.ParsedExport) -> None:
        """Fill this (empty) graph from a parsed document, checking what it means."""
        self._properties = doc.properties
        nodes = self._nodes
        for proc in doc.processes:
            if proc.key != proc.id:
                raise GraphError(f"{proc.where}: the key {proc.key!r} differs from the process id {proc.id!r}")
            if not proc.id:
                raise GraphError(f"{proc.where}: the process id must not be empty")
            nodes[proc.id] = _Node(proc.id, proc.component, proc.metadata)
        for entry in doc.connections:
            if entry.message is None:
                self._load_connection(entry)
            else:
                self._load_initial(entry)
        for found, ports, inport in ((doc.inports, self._inports, True), (doc.outports, self._outports, False)):
            for name, edge, where in found:
                node = self._loaded_node(edge.node, where, "nodeId")
                if not name or not edge.port_name:
                    raise GraphError(f"{where}: an exported port needs a name and a portName (the node's port)")
                if name in ports:  # only possible when lower-casing merged two names
                    raise GraphError(f"{where}: port {name!r} is defined twice (names differ only in case)")
                record = _ExportedPort(
                    inport,
                    name,
                    node.id,
                    edge.port_name,
                    edge.port_type,
                    edge.metadata,
                    port_id=edge.port_id,
                    index=edge.port_index,
                    expose=edge.expose,
                    data=edge.data,
                )
                ports[name] = record
                node.links.add(record)
        for spec in doc.groups:
            if spec.id in self._groups:
                raise GraphError(f"{spec.where}: group {spec.id!r} is defined twice")
            group = _Group(spec.id, spec.metadata)
            for node_id in spec.nodes:
                member = self._nodes.get(node_id)
                if member is None:
                    raise GraphError(
                        f"{spec.where}.nodes: group {spec.id!r} lists node {node_id!r}, which does not exist"
                        + _hint(node_id, self._nodes)
                    )
                if node_id in group.members:
                    raise GraphError(f"{spec.where}: group {spec.id!r} lists node {node_id!r} twice")
                group.add(node_id)
                member.links.add(group)
            self._groups[spec.id] = group

    def _loaded_node(self, node_id: str, where: str, field_name: str) -> _Node:
        node = self._nodes.get(node_id)
        if node is None:
            raise GraphError(f"{where}.{field_name}: node {node_id!r} does not exist{_hint(node_id, self._nodes)}")
        return node

    def _load_connection(self, entry: gj.ParsedConnection) -> None:
        source, target, where = entry.source, entry.target, entry.where
        if not source.node:
            raise GraphError(f"{where}: a connection needs from.nodeId (or data, for an initial packet)")
        src = self._loaded_node(source.node, where, "from.nodeId")
        tgt = self._loaded_node(target.node, where, "to.nodeId")
        if not source.port_id or not target.port_id:
            raise GraphError(f"{where}: a connection needs a portId at both ends")
        key = (source.node, source.port_id, target.node, target.port_id)
        known = self._conn_keys.get(key)
        if known is not None:
            # The reference merges repeats; merging ones that disagree would lose data.
            if (known.metadata, known.src_index, known.tgt_index) == (
                entry.metadata,
                source.port_index,
                target.port_index,
            ):
                return
            raise GraphError(f"{where}: connection {_conn_text(*key)} appears twice with different metadata or indexes")
        conn = _Connection(self._next_serial(), *key, entry.metadata, source.port_index, target.port_index)
        self._link_connection(conn, src, tgt)

    def _load_initial(self, entry: gj.ParsedConnection) -> None:
        source, target, where = entry.source, entry.target, entry.where
        if source.node:
            raise GraphError(
                f"{where}: has both data and a source ({source.node}.{source.port_id}); "
                "an initial packet's from.nodeId must be empty"
            )
        node = self._loaded_node(target.node, where, "to.nodeId")
        # A portName on an IIP target means it was sent through graph inport portId.
        inport, port = (target.port_id, target.port_name) if target.port_name else (None, target.port_id)
        if not port:
            raise GraphError(f"{where}: an initial packet needs to.portId")
        index = len(self._initials) if target.port_index is None else target.port_index
        edge: tuple[Any, ...] | None = (target.metadata, target.port_type, target.expose, target.data)
        if edge == (None, {"type": "any"}, False, None):
            edge = None  # the usual case: nothing beyond the defaults to keep
        assert entry.message is not None
        ip = _Initial(self._next_serial(), node.id, port, index, entry.message, entry.metadata, inport, edge)
        self._initials[ip.serial] = ip
        node.links.add(ip)
