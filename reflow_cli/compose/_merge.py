"""Composing whole graphs side by side: ``compose_graphs``, ``reflow compose``, compose manifests.

Each graph's nodes become ``<namespace>/<node>``; its connections, initial
packets, groups and exported ports follow (``gsink/in``); cross-graph
connections are appended, shared resources are added un-prefixed.
:func:`compose` returns every problem as a :class:`Problem` value naming where
it is (callers raise it, or turn it into a diagnostic); it works on Graph JSON
exports and knows no files, registry or engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._graph_json import edge_json
from ..actor import ComponentSpec, suggest
from ..errors import (
    CompositionConnectionError,
    CompositionError,
    CompositionPortError,
    DependencyCycleError,
    DependencyError,
    NamespaceConflictError,
    SharedResourceConflictError,
)
from ._pieces import Export, Pieces, end_text, lookup, prefixed, renumbered

__all__ = [
    "Composed",
    "Composition",
    "CrossConnection",
    "Endpoint",
    "GraphPart",
    "Problem",
    "SharedResource",
    "compose",
]


@dataclass(slots=True)
class GraphPart:
    """One graph to compose: its export (as :meth:`Graph.to_json` wrote it) and its namespace.

    ``label`` is how problems name it (``graph #2 ('gsink')``, ``report.yaml``);
    ``dependencies`` are names of graphs (their names or namespaces) that must
    come first; ``order`` is its node order (default: the export's).
    """

    export: Export
    namespace: str
    label: str
    dependencies: list[str] = field(default_factory=list)
    order: list[str] | None = None

    @property
    def name(self) -> str:
        """The graph's name (``properties.name``)."""
        return str((self.export.get("properties") or {}).get("name", ""))


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One end of a cross-graph connection: a process id (``gsrc/src``) or a namespace, and a port.

    With a namespace (``gsrc``), ``port`` is one of that graph's exported ports.
    """

    process: str
    port: str
    index: int | None = None

    def __str__(self) -> str:
        return end_text(self.process, self.port, self.index)


@dataclass(frozen=True, slots=True)
class CrossConnection:
    """A connection the composition adds between graphs (or to a shared resource)."""

    source: Endpoint
    target: Endpoint
    metadata: dict[str, Any] | None = None

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}"


@dataclass(frozen=True, slots=True)
class SharedResource:
    """A process every graph may use: added once, un-prefixed, under ``name``."""

    name: str
    component: str
    metadata: dict[str, Any] | None = None


@dataclass(slots=True)
class Composition:
    """What to compose.

    ``ports(process_id)`` gives the declared ports of a process's component when
    they can be known (None otherwise: checked when the network starts).
    ``auto_connect``: with no ``connections``, wire every exported outport of
    one graph to the exported inports of the *other* graphs with the same name.
    """

    name: str
    parts: list[GraphPart]
    connections: list[CrossConnection] = field(default_factory=list)
    shared: list[SharedResource] = field(default_factory=list)
    case_sensitive: bool = False
    properties: dict[str, Any] = field(default_factory=dict)
    auto_connect: bool = False
    ports: Callable[[str], ComponentSpec | None] | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """Something that keeps a composition from being made.

    ``error`` is the exception class ``compose_graphs`` raises for it; ``where``
    is its place in the composition: ``("graphs", i, ...)``, ``("connections",
    i, "from" | "to")``, ``("shared_resources", i)``.
    """

    error: type[CompositionError]
    message: str
    where: tuple[Any, ...]
    hint: str | None = None

    def exception(self) -> CompositionError:
        """The exception to raise for it (the hint appended)."""
        return self.error(self.message + (f" ({self.hint})" if self.hint else ""))


@dataclass(slots=True)
class Composed:
    """The result of :func:`compose`: the merged export (None when there are problems) and the problems.

    ``order`` is the node order (graphs in dependency order, then shared
    resources); ``wired`` the connections auto-wiring added; the export's
    ``connections`` are the graphs' own (the first ``own_connections``), the
    cross-graph ones, then the initial packets.
    """

    export: Export | None
    problems: list[Problem]
    order: list[str] = field(default_factory=list)
    wired: list[CrossConnection] = field(default_factory=list)
    own_connections: int = 0


def _resource_text(resource: SharedResource) -> str:
    config = "without config" if not resource.metadata else f"with config {resource.metadata}"
    return f"{resource.component!r} {config}"


def _dependency_order(parts: list[GraphPart], problems: list[Problem]) -> list[int]:
    """Indexes of ``parts`` with every graph after the graphs it depends on (else in the given order)."""
    by_name: dict[str, int] = {}
    for i, part in enumerate(parts):
        by_name.setdefault(part.namespace, i)
        by_name.setdefault(part.name, i)
    needs: list[list[int]] = []
    for i, part in enumerate(parts):
        found = []
        for k, dependency in enumerate(part.dependencies):
            j = by_name.get(dependency)
            if j is None:
                names = ", ".join(repr(p.namespace) for p in parts)
                close = suggest(dependency, [p.namespace for p in parts])
                problems.append(Problem(
                    DependencyError,
                    f"{part.label} depends on {dependency!r}, which is not one of the composed graphs ({names})",
                    ("graphs", i, "properties", "dependencies", k),
                    f"did you mean {close!r}?" if close else "compose it too, or remove the dependency",
                ))
            else:
                found.append(j)
        needs.append(found)
    if problems:
        return []
    order: list[int] = []
    state: dict[int, int] = {}  # 1: being visited, 2: placed

    def visit(i: int, path: list[int]) -> bool:
        if state.get(i) == 2:
            return True
        if state.get(i) == 1:
            cycle = [*path[path.index(i):], i]
            names = " -> ".join(repr(parts[j].namespace) for j in cycle)
            problems.append(Problem(
                DependencyCycleError,
                f"graphs depend on each other in a cycle: {names} ({parts[cycle[0]].label} and "
                f"{parts[cycle[-2]].label})",
                ("graphs", cycle[-2], "properties", "dependencies"),
                "remove one of these dependencies",
            ))
            return False
        state[i] = 1
        for j in needs[i]:
            if not visit(j, [*path, i]):
                return False
        state[i] = 2
        order.append(i)
        return True

    for i in range(len(parts)):
        if not visit(i, []):
            return []
    return order


class _Merger:
    """One run of :func:`compose`: the steps share the parts, their copies and the problems found."""

    def __init__(self, composition: Composition) -> None:
        self.composition = composition
        self.parts = composition.parts
        self.fold = not composition.case_sensitive
        self.problems: list[Problem] = []
        self.owners: dict[str, int] = {}  # namespace -> the part that has it
        self.pieces: list[Pieces] = []
        self.processes: dict[str, dict[str, Any]] = {}
        self.declared: dict[str, ComponentSpec | None] = {}

    def problem(self, error: type[CompositionError], message: str, where: tuple[Any, ...], hint: str | None = None) -> None:
        self.problems.append(Problem(error, message, where, hint))

    # -- namespaces --------------------------------------------------------------------------

    def namespaces(self) -> None:
        for i, part in enumerate(self.parts):
            if not part.namespace:
                self.problem(NamespaceConflictError,
                             f"{part.label} has the name {part.name!r}, which gives no namespace for its nodes",
                             ("graphs", i, "properties", "name"),
                             "give the graph a name with letters or digits, or set properties.namespace")
                continue
            first = self.owners.get(part.namespace)
            if first is not None:
                self.problem(NamespaceConflictError,
                             f"{self.parts[first].label} and {part.label} have the same namespace {part.namespace!r}: "
                             "their nodes would clash",
                             ("graphs", i, "properties", "name"),
                             "rename one of the graphs, or give one another namespace: properties.namespace, "
                             "or `namespace:` in a manifest")
            else:
                self.owners[part.namespace] = i

    # -- shared resources ------------------------------------------------------------------------

    def shared(self) -> None:
        resources = self.composition.shared
        at: dict[str, int] = {}
        for i, resource in enumerate(resources):
            first = at.get(resource.name)
            if first is not None:
                earlier = resources[first]
                if (earlier.component, earlier.metadata) != (resource.component, resource.metadata):
                    self.problem(SharedResourceConflictError,
                                 f"shared resource {resource.name!r} is defined twice differently: #{first + 1} runs "
                                 f"{_resource_text(earlier)}, #{i + 1} runs {_resource_text(resource)}",
                                 ("shared_resources", i), "one name, one resource: remove one or rename it")
                continue  # an identical repeat is the same resource
            if not resource.name:
                self.problem(SharedResourceConflictError, f"shared resource #{i + 1} has an empty name",
                             ("shared_resources", i))
            elif resource.name in self.owners:
                self.problem(SharedResourceConflictError,
                             f"shared resource {resource.name!r} has the name of the namespace of "
                             f"{self.parts[self.owners[resource.name]].label}",
                             ("shared_resources", i), "rename the shared resource")
            elif resource.name in self.processes:
                self.problem(SharedResourceConflictError,
                             f"shared resource {resource.name!r} has the id of a process of a composed graph",
                             ("shared_resources", i), "rename the shared resource")
            else:
                at[resource.name] = i
                self.processes[resource.name] = {"component": resource.component, "id": resource.name,
                                                 "metadata": resource.metadata}

    # -- cross-graph connections ---------------------------------------------------------------------

    def component_ports(self, process_id: str) -> ComponentSpec | None:
        ports = self.composition.ports
        if ports is None:
            return None
        if process_id not in self.declared:
            try:
                self.declared[process_id] = ports(process_id)
            except Exception:  # noqa: BLE001 - an unresolvable component is checked at start()
                self.declared[process_id] = None
        return self.declared[process_id]

    def resolve(self, end: Endpoint, role: str, i: int, text: str) -> tuple[str, str] | None:
        """The ``(process, port)`` an end names, or None (with a problem)."""
        direction = "outport" if role == "from" else "inport"
        if end.process in self.processes:
            return self.process_port(end, role, direction, i, text)
        owner = self.owners.get(end.process)
        if owner is not None:
            graph = self.pieces[owner]
            found = graph.port(direction, end.port, self.fold)
            if found is None:
                exported = graph.outports if role == "from" else graph.inports
                close = suggest(end.port, exported)
                self.problem(CompositionPortError,
                             f"connection {text}: graph {end.process!r} exports no {direction} {end.port!r}",
                             ("connections", i, role),
                             f"did you mean {close!r}?" if close
                             else f"its exported {direction}s are: {', '.join(exported) or '(none)'}")
            return found
        close = suggest(end.process, self.processes)
        namespace = end.process.split("/", 1)[0]
        if close is None and "/" in end.process and namespace in self.owners:
            inner = [p for p in self.processes if p.startswith(namespace + "/")]
            hint = f"graph {namespace!r} has: {', '.join(inner[:8])}{' ...' if len(inner) > 8 else ''}"
        elif close is not None:
            hint = f"did you mean {close!r}?"
        else:
            graphs = ", ".join(repr(p.namespace) for p in self.parts) or "(none)"
            hint = f"the graphs are: {graphs}; processes are NAMESPACE/NODE"
        self.problem(CompositionConnectionError,
                     f"connection {text}: {end.process!r} is neither a process of the composed graphs nor a "
                     "graph's namespace",
                     ("connections", i, role), hint)
        return None

    def process_port(self, end: Endpoint, role: str, direction: str, i: int, text: str) -> tuple[str, str] | None:
        port = end.port.lower() if self.fold else end.port
        spec = self.component_ports(end.process)
        if spec is None or (spec.has_outport(port) if role == "from" else spec.has_inport(port)):
            return end.process, port
        declared = spec.outports if role == "from" else spec.inports
        names = [p.name for p in declared]
        close = suggest(port, [p.name for p in declared if not p.is_pattern])
        self.problem(CompositionPortError,
                     f"connection {text}: process {end.process!r} ({self.processes[end.process]['component']}) "
                     f"has no {direction} {port!r}",
                     ("connections", i, role),
                     f"did you mean {close!r}?" if close else f"its {direction}s are: {', '.join(names) or '(none)'}")
        return None

    def connections(self) -> list[dict[str, Any]]:
        cross: list[dict[str, Any]] = []
        seen: dict[tuple[str, str, str, str], tuple[int, CrossConnection]] = {}
        for i, connection in enumerate(self.composition.connections):
            text = str(connection)
            source = self.resolve(connection.source, "from", i, text)
            target = self.resolve(connection.target, "to", i, text)
            if source is None or target is None:
                continue
            earlier = seen.get((*source, *target))
            if earlier is not None:
                ends = (connection.source.index, connection.target.index)
                if earlier[1].metadata != connection.metadata or (earlier[1].source.index, earlier[1].target.index) != ends:
                    self.problem(CompositionConnectionError,
                                 f"connection {text} repeats connection #{earlier[0] + 1} ({earlier[1]}) with "
                                 "different metadata or indexes",
                                 ("connections", i), "two ports have one connection: keep one")
                continue
            seen[(*source, *target)] = (i, connection)
            cross.append({
                "data": None,
                "from": edge_json(source[0], source[1], index=connection.source.index),
                "metadata": connection.metadata,
                "to": edge_json(target[0], target[1], index=connection.target.index),
            })
        return cross

    def auto_wire(self, ordered: list[int], wired: list[CrossConnection]) -> list[dict[str, Any]]:
        """Every exported outport to the same-named exported inports of the *other* graphs."""
        cross: list[dict[str, Any]] = []
        parts, pieces = self.parts, self.pieces
        for i in ordered:
            for out_name, out_edge in pieces[i].outports.items():
                for j in ordered:
                    key = None if j == i else lookup(pieces[j].inports, out_name, self.fold)
                    if key is None:
                        continue
                    in_edge = pieces[j].inports[key]
                    types = (out_edge.get("portType") or {"type": "any"}, in_edge.get("portType") or {"type": "any"})
                    if {"type": "any"} not in types and types[0] != types[1]:
                        self.problem(CompositionPortError,
                                     f"outport {out_name!r} of {parts[i].label} ({types[0]}) and inport {key!r} of "
                                     f"{parts[j].label} ({types[1]}) have the same name but different port types",
                                     ("graphs", j, "inports", key),
                                     "connect them explicitly if they belong together, or rename one")
                        continue
                    wired.append(CrossConnection(Endpoint(parts[i].namespace, out_name), Endpoint(parts[j].namespace, key)))
                    cross.append({"data": None, "from": edge_json(out_edge["nodeId"], out_edge["portName"]), "metadata": None,
                                  "to": edge_json(in_edge["nodeId"], in_edge["portName"])})
        return cross

    # -- the merged export ------------------------------------------------------------------------------

    def export(self, ordered: list[int], cross: list[dict[str, Any]]) -> tuple[Export, int]:
        """The merged export, and how many of its connections are the graphs' own."""
        parts, pieces = self.parts, self.pieces
        connections = [entry for i in ordered for entry in pieces[i].connections]
        own = len(connections)
        initials: list[dict[str, Any]] = []
        positions: list[int] = []
        for i in ordered:
            for position, entry in enumerate(pieces[i].initials):
                to = entry["to"]
                if to.get("portName"):  # sent through a graph inport: the inport's name is namespaced too
                    entry = {**entry, "to": {**to, "portId": f"{parts[i].namespace}/{to['portId']}"}}
                initials.append(entry)
                positions.append(position)
        exported: dict[str, dict[str, Any]] = {"inports": {}, "outports": {}}
        for i in ordered:
            namespace = parts[i].namespace
            for kind, found in (("inports", pieces[i].inports), ("outports", pieces[i].outports)):
                for name, port in found.items():
                    exported[kind][f"{namespace}/{name}"] = {**port, "portId": f"{namespace}/{port['portId']}"}
        export: Export = {
            "caseSensitive": self.composition.case_sensitive,
            "connections": connections + cross + renumbered(initials, positions),
            "groups": [group for i in ordered for group in pieces[i].groups],
            "inports": exported["inports"],
            "outports": exported["outports"],
            "processes": self.processes,
            "properties": {**self.composition.properties, "name": self.composition.name},
        }
        return export, own


def compose(composition: Composition) -> Composed:
    """Merge the graphs of ``composition`` into one export (see the module doc); never raises for bad input."""
    merger = _Merger(composition)
    merger.namespaces()
    ordered = _dependency_order(composition.parts, merger.problems)
    if merger.problems:
        return Composed(None, merger.problems)
    merger.pieces = [prefixed(part.export, part.namespace, part.order) for part in composition.parts]
    for i in ordered:
        merger.processes.update(merger.pieces[i].processes)
    merger.shared()
    cross = merger.connections()
    wired: list[CrossConnection] = []
    if composition.auto_connect and not composition.connections:
        cross += merger.auto_wire(ordered, wired)
    if merger.problems:
        return Composed(None, merger.problems)
    export, own = merger.export(ordered, cross)
    return Composed(export, [], list(merger.processes), wired, own)
