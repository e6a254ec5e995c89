"""``compose_graphs(dict)``: the reference's composition API over :func:`._merge.compose`."""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from typing import Any

from ..actor import ComponentSpec
from ..errors import CompositionFormatError, GraphError, GraphFormatError
from ..graph import Graph
from ..registry import default_registry, make_entry
from ._merge import Composition, CrossConnection, Endpoint, GraphPart, SharedResource, compose
from ._pieces import namespace_for

__all__ = ["compose_graphs", "declared_ports"]


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"string {json.dumps(value, ensure_ascii=False)}"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, (int, float)):
        return f"number `{value}`"
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, (list, tuple)):
        return "sequence"
    return type(value).__name__


def _fail(text: str, where: str = "") -> CompositionFormatError:
    return CompositionFormatError(f"composition parse: {text}" + (f" at {where}" if where else ""))


def _map(value: Any, where: str, expected: str = "a map") -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(f"invalid type: {_describe(value)}, expected {expected}", where)
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise _fail(f"invalid type: {_describe(value)}, expected a sequence", where)
    return list(value)


def _required(doc: Mapping[str, Any], name: str, where: str) -> Any:
    if name not in doc:
        raise _fail(f"missing field `{name}`", where)
    return doc[name]


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _fail(f"invalid type: {_describe(value)}, expected a string", where)
    return value


def _json_copy(value: Any, where: str) -> Any:
    """A JSON copy (the caller's dict stays theirs); a value with no JSON form is a format error."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise _fail(f"{exc}", where) from None


def _metadata(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    return _json_copy(_map(value, where), where)  # type: ignore[no-any-return]


def _endpoint(value: Any, where: str) -> Endpoint:
    doc = _map(value, where, "a map {process, port, index}")
    process = _string(_required(doc, "process", where), f"{where}.process")
    port = _string(_required(doc, "port", where), f"{where}.port")
    index = doc.get("index")
    if index is not None and (type(index) is not int or index < 0):
        raise _fail(f"invalid value: {_describe(index)}, expected usize", f"{where}.index")
    return Endpoint(process, port, index)


def _graph(value: Any, i: int) -> GraphPart:
    where = f"graphs[{i}]"
    try:
        graph = value if isinstance(value, Graph) else Graph.from_json(_map(value, where, "struct GraphExport"))
    except GraphFormatError as exc:  # "missing field `x` at processes.a": locate it inside graphs[i]
        text, _, inside = str(exc).rpartition(" at ")
        raise _fail(text, where if inside == "the top level" else f"{where}.{inside}") from None
    except GraphError as exc:
        raise _fail(f"{exc}", where) from None
    export = graph.to_json()
    properties = export["properties"]
    dependencies = properties.get("dependencies", [])
    names = [_string(d, f"{where}.properties.dependencies[{k}]") for k, d in enumerate(_list(dependencies, f"{where}.properties.dependencies"))]
    label = f"graph #{i + 1} ({graph.name!r})"
    return GraphPart(export, namespace_for(graph.name, properties.get("namespace")), label, names,
                     [process.id for process in graph.iter_processes()])


def declared_ports(component: str) -> ComponentSpec | None:
    """The ports a component declares, when it can be resolved without a spec file.

    Template ids come from the process-wide registry (catalog and loaded
    packs); ``python:MODULE:CLASS`` is imported from ``sys.path``. Anything
    else (or anything failing) is None: checked when the network starts.
    """
    if component.startswith("python:"):
        parts = component.split(":")
        if len(parts) != 3:
            return None
        try:
            cls = getattr(importlib.import_module(parts[1]), parts[2])
            return make_entry(component, cls).spec
        except Exception:  # noqa: BLE001 - user code; checked at start()
            return None
    entry = default_registry().get(component)
    return None if entry is None else entry.spec


def compose_graphs(composition: Mapping[str, Any]) -> dict[str, Any]:
    """Merge Graph JSON exports into one export, as the reference's ``compose_graphs`` does.

    ``composition`` has ``graphs`` (a list of Graph JSON exports; a
    :class:`~reflow_cli.Graph` is accepted too), ``connections`` (``[{"from":
    {"process", "port", "index"?}, "to": {...}, "metadata"?}]``),
    ``shared_resources`` (``[{"name", "component", "metadata"?}]``),
    ``properties`` (with ``name``: the composed graph's name) and
    ``case_sensitive`` (default False).

    Each graph's nodes become ``<namespace>/<node>``, where the namespace is
    its ``properties.name`` with every character but letters, digits and ``_``
    turned into ``_`` (``properties.namespace`` overrides it); connections,
    initial packets, groups and exported ports follow (``gsrc/src``,
    ``gsink/in``). A connection end may also name a graph's namespace and one
    of its exported ports (``{"process": "gsrc", "port": "out"}``). Shared
    resources become processes with their own names. ``properties.dependencies``
    (names of other graphs) orders the graphs.

    Raises (each a :class:`~reflow_cli.errors.CompositionError`):
    :class:`~reflow_cli.errors.CompositionFormatError` (ValueError) for a
    malformed request, a missing ``properties.name`` included;
    :class:`~reflow_cli.errors.NamespaceConflictError` when two graphs would
    share a namespace (the reference merges them, losing nodes);
    :class:`~reflow_cli.errors.CompositionConnectionError` /
    :class:`~reflow_cli.errors.CompositionPortError` for a connection naming an
    unknown process, graph or port (the reference drops it);
    :class:`~reflow_cli.errors.DependencyError` /
    :class:`~reflow_cli.errors.DependencyCycleError` (RuntimeError) for a
    missing dependency and a cycle;
    :class:`~reflow_cli.errors.SharedResourceConflictError` for two shared
    resources with one name. Ports are checked where the component is known
    (catalog, loaded packs, ``python:``); the others when the network starts.
    """
    request = _map(composition, "", "a map (the composition request)")
    properties = dict(_map(_required(request, "properties", ""), "properties"))
    name = _string(_required(properties, "name", "properties"), "properties.name")
    del properties["name"]
    case_sensitive = request.get("case_sensitive", False)
    if type(case_sensitive) is not bool:
        raise _fail(f"invalid type: {_describe(case_sensitive)}, expected a boolean", "case_sensitive")
    parts = [_graph(value, i) for i, value in enumerate(_list(request.get("graphs", []), "graphs"))]
    connections = []
    for i, value in enumerate(_list(request.get("connections", []), "connections")):
        where = f"connections[{i}]"
        doc = _map(value, where, "a map {from, to, metadata}")
        source = _endpoint(_required(doc, "from", where), f"{where}.from")
        target = _endpoint(_required(doc, "to", where), f"{where}.to")
        connections.append(CrossConnection(source, target, _metadata(doc.get("metadata"), f"{where}.metadata")))
    shared = []
    for i, value in enumerate(_list(request.get("shared_resources", []), "shared_resources")):
        where = f"shared_resources[{i}]"
        doc = _map(value, where, "a map {name, component, metadata}")
        shared.append(SharedResource(
            _string(_required(doc, "name", where), f"{where}.name"),
            _string(_required(doc, "component", where), f"{where}.component"),
            _metadata(doc.get("metadata"), f"{where}.metadata"),
        ))
    components: dict[str, str] = {}
    for part in parts:
        for process in part.export["processes"].values():
            components[f"{part.namespace}/{process['id']}"] = process["component"]
    components.update((resource.name, resource.component) for resource in shared)
    cache: dict[str, ComponentSpec | None] = {}

    def ports(process_id: str) -> ComponentSpec | None:
        component = components.get(process_id)
        if component is None:
            return None
        if component not in cache:
            cache[component] = declared_ports(component)
        return cache[component]

    composed = compose(Composition(name, parts, connections, shared, case_sensitive, _json_copy(properties, "properties"),
                                   ports=ports))
    if composed.problems:
        raise composed.problems[0].exception()
    export = composed.export
    assert export is not None
    _reference_metadata(export, composed.own_connections, {resource.name for resource in shared})
    return Graph.from_json(export).to_json()


def _reference_metadata(export: dict[str, Any], own_connections: int, shared: set[str]) -> None:
    """Empty metadata as the reference writes it: ``{}`` on the graphs' processes, connections and IIPs.

    Only cross-graph connections and shared resources keep ``null``. Code ported
    from the reference may index these dicts, so ``compose_graphs`` keeps the
    form (``reflow compose`` does not: there ``null`` means "no config").
    """
    for process_id, process in export["processes"].items():
        if process["metadata"] is None and process_id not in shared:
            process["metadata"] = {}
    for position, entry in enumerate(export["connections"]):
        if entry.get("metadata") is None and (position < own_connections or entry.get("data") is not None):
            entry["metadata"] = {}
