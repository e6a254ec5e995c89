"""Inlining: one node becomes a copy of a graph (``<node>/<inner>``), wired through its exported ports.

Spec subgraphs (``component: ./clean.yaml``), ``SubgraphBuilder`` and
``Network.add_node`` all use it. What reached the node's inport ``p`` reaches
the inner port the graph exports as ``p``; the same for outports, initial
packets, the outer graph's exported ports and its groups.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..actor import suggest
from ..errors import SubgraphError
from ._pieces import Export, Pieces, end_text, prefixed, renumbered

__all__ = ["Inner", "inline", "inline_all", "instantiate"]

#: Node settings (``metadata.reflow``) a subgraph node does not pass on to its inner nodes.
_NOT_INHERITED = frozenset(("description", "metadata"))


def instantiate(
    inner: Export,
    node_id: str,
    metadata: Mapping[str, Any] | None = None,
    *,
    order: list[str] | None = None,
    component_ids: Callable[[str], str] | None = None,
    what: str = "subgraph",
) -> Pieces:
    """A copy of graph ``inner`` for node ``node_id``: nodes ``node_id/<inner>``, ready to wire in.

    ``metadata`` is the node's process metadata: its keys (but ``reflow``) map
    inner node ids to config values merged over those nodes' configs; its
    ``reflow`` settings (``on_error``...) pass to every inner node that does
    not set its own. Initial packets sent through the graph's inports become
    plain initial packets (the inports disappear). ``component_ids`` renames
    components (a Network qualifies the subgraph's own ones). ``what`` names
    the node in errors (:class:`SubgraphError`).
    """
    pieces = prefixed(inner, node_id, order)
    metadata = metadata or {}
    settings = metadata.get("reflow")
    settings = {k: v for k, v in settings.items() if k not in _NOT_INHERITED} if isinstance(settings, Mapping) else {}
    overrides: dict[str, Mapping[str, Any]] = {}
    inner_ids = [process_id[len(node_id) + 1:] for process_id in pieces.processes]

    def collect(key: str, value: Any) -> None:
        # "clean": {...} configures inner node clean; for an inner node that was itself a
        # subgraph (now clean/a, clean/b...), the value maps *its* inner nodes, and so on.
        if not isinstance(value, Mapping):
            raise SubgraphError(f"{what}: the config for inner node {key!r} must be a mapping, not {type(value).__name__}")
        if f"{node_id}/{key}" in pieces.processes:
            overrides[key] = value
        elif any(inner.startswith(key + "/") for inner in inner_ids):
            for sub_key, sub_value in value.items():
                collect(f"{key}/{sub_key}", sub_value)
        else:
            names = sorted({inner.split("/", 1)[0] for inner in inner_ids})
            close = suggest(key, inner_ids)
            raise SubgraphError(
                f"{what}: the config of a subgraph node maps its inner nodes to config values, and {key!r} is "
                f"not one of them ({'did you mean ' + repr(close) + '?' if close else 'its nodes: ' + ', '.join(names)})"
            )

    for key, value in metadata.items():
        if key != "reflow":
            collect(key, value)
    processes: dict[str, dict[str, Any]] = {}
    for process_id, process in pieces.processes.items():
        meta = process["metadata"]
        override = overrides.get(process_id[len(node_id) + 1:])
        if override or settings:
            meta = dict(meta or {})
            if override:
                meta.update(override)
            if settings:
                own = meta.get("reflow")
                own = dict(own) if isinstance(own, Mapping) else {}
                meta["reflow"] = {**settings, **own}
        component = process["component"]
        if component_ids is not None:
            component = component_ids(component)
        processes[process_id] = {"component": component, "id": process_id, "metadata": meta}
    pieces.processes = processes
    plain = []
    for entry in pieces.initials:
        to = entry["to"]
        if to.get("portName"):  # through an inport of the subgraph, which is not there any more
            entry = {**entry, "to": {**to, "portId": to["portName"], "portName": ""}}
        plain.append(entry)
    pieces.initials = plain
    return pieces


@dataclass(frozen=True, slots=True)
class Inner:
    """A graph to inline in place of a node: its export, its node order, how components are renamed."""

    export: Export
    order: list[str] | None = None
    component_ids: Callable[[str], str] | None = None
    what: str | None = None  # how errors name the node (default: ``subgraph node 'x' (./x.yaml)``)


def inline(
    outer: Export,
    node_id: str,
    inner: Export,
    *,
    order: list[str] | None = None,
    component_ids: Callable[[str], str] | None = None,
    what: str | None = None,
) -> Export:
    """``outer`` with node ``node_id`` replaced by a copy of graph ``inner`` (nodes ``node_id/<inner>``).

    What reached the node's inport ``p`` reaches the inner port that ``inner``
    exports as ``p``; what left its outport ``q`` leaves the inner port exported
    as ``q``; the same for initial packets, for ``outer``'s exported ports and
    groups (a group holding the node holds the inner nodes). Exported port
    names match ignoring case when either graph is case-insensitive; the
    result is case-sensitive when either is (the ports of a case-insensitive
    graph are lower case already). See :func:`instantiate` for the node's
    config. Raises :class:`SubgraphError` for a port ``inner`` does not export.
    """
    return inline_all(outer, {node_id: Inner(inner, order, component_ids, what)})


def inline_all(outer: Export, inners: Mapping[str, Inner]) -> Export:
    """:func:`inline` for several nodes at once, in one pass over ``outer``."""
    copies: dict[str, Pieces] = {}
    names: dict[str, str] = {}
    for node_id, inner in inners.items():
        process = outer["processes"][node_id]
        names[node_id] = inner.what or f"subgraph node {node_id!r} ({process['component']})"
        pieces = instantiate(inner.export, node_id, process.get("metadata"), order=inner.order,
                             component_ids=inner.component_ids, what=names[node_id])
        if not outer.get("caseSensitive"):
            pieces.case_sensitive = False  # look exported names up ignoring case
        taken = next((key for key in pieces.processes if key in outer["processes"]), None)
        if taken is not None:
            raise SubgraphError(f"{names[node_id]} would add node {taken!r}, which the graph already has")
        copies[node_id] = pieces

    def through(node_id: str, direction: str, port: str, role: Callable[[], str]) -> tuple[str, str]:
        pieces = copies[node_id]
        found = pieces.port(direction, port)
        if found is None:
            exported = pieces.inports if direction == "inport" else pieces.outports
            raise SubgraphError(f"{role()} uses port {port!r} of {names[node_id]}, which exports no {direction} "
                                f"{port!r} (its {direction}s: {', '.join(exported) or 'none'})")
        return found

    processes: dict[str, dict[str, Any]] = {}
    for key, value in outer["processes"].items():
        if key in copies:
            processes.update(copies[key].processes)
        else:
            processes[key] = value
    connections: list[dict[str, Any]] = []
    initials: list[dict[str, Any]] = []
    for entry in outer.get("connections") or ():
        source, target = entry["from"], entry["to"]
        if entry.get("data") is None:
            if source["nodeId"] in copies or target["nodeId"] in copies:

                def text(s: dict[str, Any] = source, t: dict[str, Any] = target) -> str:
                    return f"connection {end_text(s['nodeId'], s['portId'])} -> {end_text(t['nodeId'], t['portId'])}"

                if source["nodeId"] in copies:
                    node, port = through(source["nodeId"], "outport", source["portId"], text)
                    entry = {**entry, "from": {**source, "nodeId": node, "portId": port}}
                if target["nodeId"] in copies:
                    node, port = through(target["nodeId"], "inport", target["portId"], text)
                    entry = {**entry, "to": {**target, "nodeId": node, "portId": port}}
            connections.append(entry)
        else:
            if target["nodeId"] in copies:
                field_name = "portName" if target.get("portName") else "portId"
                node, port = through(target["nodeId"], "inport", target[field_name],
                                     lambda t=target, f=field_name: f"the initial packet for {t['nodeId']}.{t[f]}")
                entry = {**entry, "to": {**target, "nodeId": node, field_name: port}}
            initials.append(entry)
    exported: dict[str, dict[str, Any]] = {}
    for kind, direction in (("inports", "inport"), ("outports", "outport")):
        exported[kind] = {}
        for name, edge in (outer.get(kind) or {}).items():
            if edge["nodeId"] in copies:
                node, port = through(edge["nodeId"], direction, edge["portName"],
                                     lambda d=direction, n=name: f"exported {d} {n!r}")
                edge = {**edge, "nodeId": node, "portName": port}
            exported[kind][name] = edge
    groups = []
    for group in outer.get("groups") or ():
        if any(member in copies for member in group["nodes"]):
            members: list[str] = []
            for member in group["nodes"]:
                members.extend(copies[member].processes if member in copies else (member,))
            group = {**group, "nodes": members}
        groups.append(group)
    inner_initials = [entry for pieces in copies.values() for entry in pieces.initials]
    positions = [position for pieces in copies.values() for position in range(len(pieces.initials))]
    positions += range(len(initials))
    case_sensitive = bool(outer.get("caseSensitive")) or any(p.export.get("caseSensitive") for p in inners.values())
    return {
        "caseSensitive": case_sensitive,
        "connections": connections + [entry for pieces in copies.values() for entry in pieces.connections]
        + renumbered(inner_initials + initials, positions),
        "groups": groups + [group for pieces in copies.values() for group in pieces.groups],
        "inports": exported["inports"],
        "outports": exported["outports"],
        "processes": processes,
        "properties": outer.get("properties") or {"name": ""},
    }
