"""One graph's contents under a prefix: the step every composition and every inlining starts with.

A graph's nodes become ``<prefix>/<node>`` (the prefix is a namespace when
graphs are composed, the node id when a subgraph is inlined), with its
connections, initial packets, exported ports and groups following. Also the
naming rule of namespaces, shared with the reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "RESERVED_NAMESPACES",
    "Export",
    "Pieces",
    "edge",
    "end_text",
    "lookup",
    "namespace_for",
    "prefixed",
    "renumbered",
    "sanitise",
]

#: A Graph JSON export as :meth:`Graph.to_json` writes it (plain dicts).
Export = dict[str, Any]

#: Namespaces the reference keeps for itself: a graph called ``system`` gets ``system_1``.
RESERVED_NAMESPACES = ("system", "shared", "global")


# -- names ------------------------------------------------------------------------------


def sanitise(name: str) -> str:
    """The reference's rule: every character that is not alphanumeric or ``_`` becomes ``_``, then ``_`` trimmed.

    ``"my graph-1!"`` -> ``my_graph_1``; ``"__Ünï code__"`` -> ``Ünï_code`` (Unicode letters stay).
    """
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name).strip("_")


def namespace_for(name: str, override: Any = None) -> str:
    """The namespace of a graph called ``name``: ``override`` (``properties.namespace``) if given, sanitised.

    ``system``, ``shared`` and ``global`` are reserved: they become ``system_1``...
    An empty result (a graph without a usable name) is for :func:`compose` to refuse.
    """
    text = override if isinstance(override, str) and override else name
    namespace = sanitise(text)
    return f"{namespace}_1" if namespace in RESERVED_NAMESPACES else namespace


def lookup(ports: Mapping[str, Any], name: str, fold: bool) -> str | None:
    """The key of ``ports`` that is ``name`` (ignoring case when ``fold``), or None."""
    if name in ports:
        return name
    if fold:
        lowered = name.lower()
        found = [key for key in ports if key.lower() == lowered]
        if len(found) == 1:
            return found[0]
    return None


def end_text(node: str, port: str, index: int | None = None) -> str:
    return f"{node}.{port}" + (f"[{index}]" if index is not None else "")


# -- one graph, prefixed -------------------------------------------------------------------


@dataclass(slots=True)
class Pieces:
    """A graph's contents with every node id prefixed (``prefix/node``).

    ``inports``/``outports`` keep their own (unprefixed) names; their edges
    name the prefixed nodes. ``initials`` through a graph inport still name
    that inport in ``to.portId`` (its ``portName`` is the node's port).
    """

    prefix: str
    case_sensitive: bool
    processes: dict[str, dict[str, Any]]
    connections: list[dict[str, Any]]
    initials: list[dict[str, Any]]
    inports: dict[str, dict[str, Any]]
    outports: dict[str, dict[str, Any]]
    groups: list[dict[str, Any]]

    def port(self, direction: str, name: str, fold: bool = False) -> tuple[str, str] | None:
        """The inner ``(node, port)`` behind exported ``direction`` (``inport``/``outport``) ``name``.

        The name's case is ignored when the graph is case-insensitive, or when ``fold``.
        """
        ports = self.inports if direction == "inport" else self.outports
        key = lookup(ports, name, fold or not self.case_sensitive)
        if key is None:
            return None
        edge = ports[key]
        return edge["nodeId"], edge["portName"]


def prefixed(export: Export, prefix: str, order: list[str] | None = None) -> Pieces:
    """A copy of ``export``'s contents with every node id ``prefix/<node>`` (``order``: the node order)."""
    def rename(node: str) -> str:
        return f"{prefix}/{node}"

    source = export.get("processes") or {}
    processes: dict[str, dict[str, Any]] = {}
    for key in order if order is not None else source:
        process = source[key]
        new_id = rename(process["id"])
        processes[new_id] = {"component": process["component"], "id": new_id, "metadata": process.get("metadata")}
    connections: list[dict[str, Any]] = []
    initials: list[dict[str, Any]] = []
    for entry in export.get("connections") or ():
        to = {**entry["to"], "nodeId": rename(entry["to"]["nodeId"])}
        if entry.get("data") is None:
            source_edge = {**entry["from"], "nodeId": rename(entry["from"]["nodeId"])}
            connections.append({**entry, "from": source_edge, "to": to})
        else:
            initials.append({**entry, "to": to})
    ports = {
        kind: {name: {**edge, "nodeId": rename(edge["nodeId"])} for name, edge in (export.get(kind) or {}).items()}
        for kind in ("inports", "outports")
    }
    groups = [
        {**group, "id": rename(group["id"]), "nodes": [rename(node) for node in group["nodes"]]}
        for group in export.get("groups") or ()
    ]
    return Pieces(prefix, bool(export.get("caseSensitive")), processes, connections, initials, ports["inports"],
                  ports["outports"], groups)


def renumbered(initials: list[dict[str, Any]], positions: list[int]) -> list[dict[str, Any]]:
    """Initial packets with ``to.index`` = their new position, unless it was not their old one."""
    out = []
    for new_position, (entry, old_position) in enumerate(zip(initials, positions, strict=True)):
        index = entry["to"].get("index")
        if index is None or index == old_position:
            entry = {**entry, "to": {**entry["to"], "index": new_position}}
        out.append(entry)
    return out
