"""Composing spec files: compose manifests, ``reflow compose`` and ``reflow run a.yaml b.yaml``.

Each graph file is loaded and checked as usual (its diagnostics point into
it); the graphs are then merged by :func:`reflow_cli.compose.compose`, the
same code as ``compose_graphs``. Problems of the composition itself point
where they were written: into the manifest, at a ``--connect`` option on the
command line, or into the graph file that causes them (its ``name``, its
``properties.dependencies``).

A compose manifest is a YAML (or JSON) file::

    version: 1
    name: orders                      # the composed graph's name (default: the file's stem)
    graphs:                           # the graph files, relative to the manifest
      - ingest.yaml
      - {file: report.yaml, namespace: rep}
    connections:                      # optional; without them, same-named exported ports wire up
      - ingest.rows -> rep.rows       # NAMESPACE.EXPORTED_PORT, or NAMESPACE/NODE.PORT
    shared_resources:                 # optional: un-prefixed nodes every graph may use
      - {name: db, component: tpl_x, config: {url: ...}}
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..actor import ComponentSpec, suggest
from ..compose import (
    Composition,
    CrossConnection,
    Endpoint,
    GraphPart,
    Problem,
    SharedResource,
    compose,
    namespace_for,
)
from ..errors import (
    CompositionConnectionError,
    CompositionPortError,
    DependencyError,
    GraphError,
    NamespaceConflictError,
    SharedResourceConflictError,
)
from ..graph import Graph
from ..registry import default_registry
from ._components import ComponentResolver
from ._convert import export_to_spec
from ._diagnostics import CODES, COMMAND_LINE, Diagnostic
from ._issues import Issue, Path_
from ._load import LoadedPipeline, _key, _Loader, _parse_override_value, cycle_text
from ._normalise import Normalised, apply_overrides
from ._source import Locator, Source

__all__ = ["COMPOSE_CONNECTION", "MANIFEST_KEYS", "compose_paths", "load_manifest", "parse_connection"]

#: The keys a compose manifest may have.
MANIFEST_KEYS = ("version", "name", "description", "case_sensitive", "properties", "graphs", "connections",
                 "shared_resources")

_NODE = r"[^\s.\[\]]+"
_PORT = r"[^\s.\[\]/]+"
_END = rf"({_NODE})\.({_PORT})(?:\[([0-9]+)\])?"
#: ``A.P -> B.Q`` where A and B may be ``NAMESPACE/NODE`` (groups: node, port, index, node, port, index).
COMPOSE_CONNECTION = re.compile(rf"\s*{_END}\s*->\s*{_END}\s*\Z")
_ENDPOINT = re.compile(rf"{_END}\Z")

#: The diagnostic code of each composition problem.
_CODES: dict[type, str] = {
    NamespaceConflictError: "E023",
    DependencyError: "E024",
    SharedResourceConflictError: "E025",
    CompositionPortError: "E012",
    CompositionConnectionError: "E011",
}


def _code(error: type) -> str:
    for cls in error.__mro__:
        if cls in _CODES:
            return _CODES[cls]
    return "E002"  # pragma: no cover - every Problem's class is in the table


def parse_connection(text: str) -> tuple[CrossConnection, int] | str:
    """``"a/x.out -> b/y.in"`` as a connection and the offset of its target; an error text if it is not one.

    Each end is ``NODE.PORT`` (``NODE`` is ``NAMESPACE/NODE`` or a shared
    resource) or ``NAMESPACE.PORT`` (an exported port), with an optional ``[INDEX]``.
    """
    match = COMPOSE_CONNECTION.match(text)
    if match is None:
        return f"{text!r} is not a connection: write NODE.PORT -> NODE.PORT (NODE is NAMESPACE/NODE or a namespace)"
    index = (None if match[3] is None else int(match[3]), None if match[6] is None else int(match[6]))
    connection = CrossConnection(Endpoint(match[1], match[2], index[0]), Endpoint(match[4], match[5], index[1]))
    return connection, match.start(4)


@dataclass
class _Part:
    path: Path
    shown: str
    namespace: str | None  # given in the manifest
    at: Path_ | None  # where the manifest lists it


@dataclass
class _Connection:
    value: Any  # the text, or the long form
    at: Path_ | None  # in the manifest; None: the command line
    index: int  # among the --connect options / the manifest's connections


class _Place:
    """Turns composition problems into diagnostics located where they were written."""

    def __init__(self, loader: _Loader, parts: list[_Part], manifest: tuple[str, Locator] | None,
                 connections: list[_Connection]) -> None:
        self.loader = loader
        self.parts = parts
        self.manifest = manifest
        self.connections = connections

    def diagnostic(self, problem: Problem) -> Diagnostic:
        code = _code(problem.error)
        where = problem.where
        if where[0] == "connections":
            connection = self.connections[where[1]]
            offset = None
            if isinstance(connection.value, str) and len(where) > 2:
                parsed = parse_connection(connection.value)
                offset = 0 if where[2] == "from" or isinstance(parsed, str) else parsed[1]
            if connection.at is None:
                severity = CODES[code][0]
                return Diagnostic(severity, code, COMMAND_LINE, connection.index + 1, 1 + (offset or 0),
                                  f"--connect: {problem.message}", problem.hint, "")
            path = connection.at if offset is not None or len(where) < 3 else (*connection.at, where[2])
            return self.at_manifest(code, problem, path, offset)
        if where[0] == "shared_resources" and self.manifest is not None:
            return self.at_manifest(code, problem, where[:2])
        if where[0] == "graphs":
            i = where[1]
            part = self.parts[i]
            if self.manifest is not None and part.at is not None and where[2:] in ((), ("properties", "name")):
                return self.at_manifest(code, problem, part.at)
            locator, kind = self.loader.locators.get(_key(part.path), (Locator(), "spec"))
            inside = where[2:]
            if inside == ("properties", "name") and kind == "spec":
                inside = ("name",)
            issue = Issue(code, problem.message, inside, problem.hint, key=inside[-1:] == ("name",), raw=True)
            return self.loader.locate(issue, part.shown, locator, {})
        issue = Issue(code, problem.message, (), problem.hint, raw=True)  # pragma: no cover
        return self.loader.locate(issue, self.manifest[0] if self.manifest else COMMAND_LINE, Locator(), {})

    def at_manifest(self, code: str, problem: Problem, path: Path_, offset: int | None = None) -> Diagnostic:
        assert self.manifest is not None
        shown, locator = self.manifest
        issue = Issue(code, problem.message, path, problem.hint, raw=True, offset=offset)
        return self.loader.locate(issue, shown, locator, {})


def _compose(
    loader: _Loader,
    path: Path,
    shown: str,
    name: str | None,
    parts: list[_Part],
    connections: list[_Connection],
    shared: list[tuple[SharedResource, Path_]],
    overrides: Sequence[str],
    stack: tuple[Path, ...],
    manifest: tuple[str, Locator] | None,
    diagnostics: list[Diagnostic],
    case_sensitive: bool | None = None,
    description: str | None = None,
    properties: dict[str, Any] | None = None,
    preloaded: LoadedPipeline | None = None,
) -> LoadedPipeline:
    """Load the parts, merge them, and check the result; every problem is a diagnostic.

    ``manifest`` is the manifest's shown name and locator (None: the parts come
    from the command line, and ``path`` is only the first of them).
    ``preloaded`` is the only part, when the caller has loaded it already.
    """
    here = (_key(path),) if manifest is not None else ()
    # the parts' graphs are what gets merged, with their subgraphs inlined (their paths are relative to the parts)
    building, loader.build_graph = loader.build_graph, True
    resolving, loader.components = loader.components, True
    loaded: list[LoadedPipeline] = []
    try:
        for part in parts:
            target = _key(part.path)
            chain = (*stack, *here)
            if target in chain:
                issue = Issue("E018", cycle_text(chain, target), part.at or (), "a manifest must not compose itself",
                              raw=True)
                diagnostics.append(loader.locate(issue, shown, manifest[1] if manifest else Locator(), {}))
                return LoadedPipeline(path, None, None, {}, diagnostics, "compose")
            part_loaded = preloaded if preloaded is not None else loader.load(part.path, (), chain, part.shown)
            loaded.append(part_loaded)
            diagnostics.extend(d for d in part_loaded.diagnostics if d not in diagnostics)
    finally:
        loader.build_graph, loader.components = building, resolving
    if any(d.severity == "error" for d in diagnostics) or any(p.graph is None for p in loaded):
        return LoadedPipeline(path, None, None, {}, diagnostics, "compose")

    graph_parts: list[GraphPart] = []
    classes: dict[str, Any] = {}
    resolved_by_namespace: dict[str, dict[str, Any]] = {}
    for part, part_loaded in zip(parts, loaded, strict=True):
        graph = part_loaded.graph
        assert graph is not None
        export = graph.to_json()
        props = export["properties"]
        dependencies = props.get("dependencies")
        dependencies = [d for d in dependencies if isinstance(d, str)] if isinstance(dependencies, list) else []
        namespace = namespace_for(graph.name, part.namespace or props.get("namespace"))
        graph_parts.append(GraphPart(export, namespace, part.shown, dependencies,
                                     [process.id for process in graph.iter_processes()]))
        resolved_by_namespace.setdefault(namespace, loader.resolved.get(_key(part.path), {}))
        for component, cls in part_loaded.components.items():
            classes.setdefault(component, cls)

    folder = _key(path).parent
    resolver = ComponentResolver(loader.registry if loader.registry is not None else default_registry(), folder,
                                 allow_import=loader.allow_import, load_include=lambda _p, _t: None)
    shared_resolved: dict[str, Any] = {}
    for resource, at in shared:
        found = resolver.resolve(resource.component)
        shared_resolved.setdefault(resource.name, found)
        for code, message, hint in found.problems:
            if manifest is not None:
                issue = Issue(code, f"shared resource {resource.name!r}: {message}", (*at, "component"), hint, raw=True)
                diagnostics.append(loader.locate(issue, manifest[0], manifest[1], {}))
        if found.python_class is not None:
            classes.setdefault(resource.component, found.python_class)

    def ports(process_id: str) -> ComponentSpec | None:
        if process_id in shared_resolved:
            return shared_resolved[process_id].spec
        namespace, _, node = process_id.partition("/")
        return _inner_spec(loader, resolved_by_namespace.get(namespace, {}), node)

    cross: list[CrossConnection] = []
    for connection in connections:
        parsed = _connection(connection, loader, shown, manifest, diagnostics)
        if parsed is not None:
            cross.append(parsed)
    if case_sensitive is None:
        case_sensitive = any(p.export["caseSensitive"] for p in graph_parts)
    name = name or "+".join(p.namespace for p in graph_parts)
    extra = dict(properties or {})
    if description:
        extra["description"] = description
    imports: list[Any] = []  # the packs the parts import, so the composed spec validates on its own
    for part_loaded in loaded:
        for item in (part_loaded.spec or {}).get("imports", ()):
            if item not in imports:
                imports.append(item)
    if imports:
        extra["imports"] = imports
    composition = Composition(name, graph_parts, cross, [resource for resource, _ in shared], case_sensitive, extra,
                              auto_connect=not connections, ports=ports)
    composed = compose(composition)
    place = _Place(loader, parts, manifest, connections)
    found = [place.diagnostic(problem) for problem in composed.problems]
    diagnostics.extend(sorted(found, key=lambda d: (d.file, d.line, d.column)))
    if any(d.severity == "error" for d in diagnostics) or composed.export is None:
        return LoadedPipeline(path, None, None, classes, diagnostics, "compose")
    try:
        graph = Graph.from_json(composed.export)
    except GraphError as exc:  # pragma: no cover - the parts are valid graphs and compose checked the rest
        diagnostics.append(Diagnostic("error", "E002", shown, 1, 1, f"the composition is not a valid graph: {exc}"))
        return LoadedPipeline(path, None, None, classes, diagnostics, "compose")
    spec = export_to_spec(graph.to_json(), composed.order)
    if overrides:
        norm = Normalised(spec)
        apply_overrides(norm, tuple(overrides), _parse_override_value)
        diagnostics.extend(loader.finish(norm.issues, shown, Locator(), norm.origins))
        if norm.issues:
            return LoadedPipeline(path, spec, None, classes, diagnostics, "compose")
        from ._convert import spec_to_export

        graph = Graph.from_json(spec_to_export(spec))
    notes = [f"auto-wired {wire} (same-named exported ports)" for wire in composed.wired]
    notes.extend(_folder_notes(parts, folder))
    return LoadedPipeline(path, spec, graph, classes, diagnostics, "compose", convertible=True, notes=notes)


def _connection(connection: _Connection, loader: _Loader, shown: str, manifest: tuple[str, Locator] | None,
                diagnostics: list[Diagnostic]) -> CrossConnection | None:
    """A manifest's or --connect's connection, or None (with a diagnostic) when it is not one."""

    def bad(message: str, path: Path_ = (), hint: str | None = None) -> None:
        if connection.at is None:
            diagnostics.append(Diagnostic("error", "E002", COMMAND_LINE, connection.index + 1, 1,
                                          f"--connect {connection.value!r}: {message}", hint, ""))
        else:
            assert manifest is not None
            issue = Issue("E002", message, (*connection.at, *path), hint, raw=True)
            diagnostics.append(loader.locate(issue, manifest[0], manifest[1], {}))

    value = connection.value
    if isinstance(value, str):
        parsed = parse_connection(value)
        if isinstance(parsed, str):
            bad(parsed, hint="e.g. ingest.rows -> report.rows, or ingest/clean.out -> report/format.in")
            return None
        return parsed[0]
    if not isinstance(value, dict):
        bad(f"a connection is NODE.PORT -> NODE.PORT or {{from, to, capacity, metadata}}, not {type(value).__name__}")
        return None
    unknown = [key for key in value if key not in ("from", "to", "capacity", "metadata")]
    if unknown:
        close = suggest(unknown[0], ["from", "to", "capacity", "metadata"])
        bad(f"unknown key {unknown[0]!r} in a connection", (unknown[0],), f"did you mean {close!r}?" if close else None)
        return None
    ends: list[Endpoint] = []
    for role in ("from", "to"):
        end = value.get(role)
        if isinstance(end, str) and (match := _ENDPOINT.match(end)) is not None:
            ends.append(Endpoint(match[1], match[2], None if match[3] is None else int(match[3])))
        elif isinstance(end, dict) and isinstance(end.get("node"), str) and isinstance(end.get("port"), str):
            index = end.get("index")
            ends.append(Endpoint(end["node"], end["port"], index if type(index) is int and index >= 0 else None))
        else:
            bad(f"`{role}` must be NODE.PORT or {{node, port, index}}", (role,) if role in value else ())
            return None
    metadata = value.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        bad("`metadata` must be a mapping", ("metadata",))
        return None
    capacity = value.get("capacity")
    if capacity is not None:
        if type(capacity) is not int or capacity < 1:
            bad("`capacity` must be a positive integer", ("capacity",))
            return None
        metadata = {**(metadata or {}), "reflow": {"capacity": capacity}}
    return CrossConnection(ends[0], ends[1], metadata)


def load_manifest(
    loader: _Loader,
    path: Path,
    shown: str,
    source: Source,
    issues: list[Issue],
    overrides: Sequence[str],
    stack: tuple[Path, ...],
) -> LoadedPipeline:
    """Load a compose manifest (see the module doc) and the graphs it composes."""
    document: dict[str, Any] = source.data
    folder = _key(path).parent
    shown_folder = os.path.dirname(shown)
    for key in document:
        if key not in MANIFEST_KEYS:
            close = suggest(str(key), MANIFEST_KEYS)
            issues.append(Issue("E002", f"unknown key {key!r} in the compose manifest", (key,),
                                f"did you mean {close!r}?" if close else f"a manifest has: {', '.join(MANIFEST_KEYS)}",
                                key=True, raw=True))
    if document.get("version", 1) != 1:
        issues.append(Issue("E002", f"unsupported manifest version {document.get('version')!r}: this reflow reads "
                            "`version: 1`", ("version",), "write `version: 1`", raw=True))
    for key, kind in (("name", str), ("description", str), ("case_sensitive", bool), ("properties", dict)):
        if key in document and not isinstance(document[key], kind):
            issues.append(Issue("E002", f"`{key}` must be {'text' if kind is str else kind.__name__}", (key,), raw=True))
    parts: list[_Part] = []
    graphs = document.get("graphs")
    if not isinstance(graphs, list) or not graphs:
        issues.append(Issue("E002", "`graphs` must be a list of graph files (at least one)", ("graphs",), raw=True,
                            hint="e.g. graphs: [ingest.yaml, report.yaml]"))
        graphs = []
    for i, entry in enumerate(graphs):
        namespace = None
        if isinstance(entry, dict):
            unknown = [key for key in entry if key not in ("file", "namespace")]
            if unknown:
                issues.append(Issue("E002", f"unknown key {unknown[0]!r} in graphs[{i}]", ("graphs", i, unknown[0]),
                                    "a graph entry is FILE or {file, namespace}", key=True, raw=True))
            namespace = entry.get("namespace")
            if namespace is not None and not isinstance(namespace, str):
                issues.append(Issue("E002", f"graphs[{i}].namespace must be text", ("graphs", i, "namespace"), raw=True))
                namespace = None
            entry = entry.get("file")
        if not isinstance(entry, str) or not entry:
            issues.append(Issue("E002", f"graphs[{i}] must be a file name or {{file, namespace}}", ("graphs", i), raw=True))
            continue
        target = Path(os.path.normpath(folder / entry))
        if not target.is_file():
            issues.append(Issue("E010", f"graph file {entry!r} does not exist", ("graphs", i), raw=True,
                                hint=f"paths are relative to the manifest's folder ({folder})"))
            continue
        parts.append(_Part(target, os.path.normpath(os.path.join(shown_folder, entry)), namespace, ("graphs", i)))
    connections: list[_Connection] = []
    listed = document.get("connections", [])
    if not isinstance(listed, list):
        issues.append(Issue("E002", "`connections` must be a list", ("connections",), raw=True))
        listed = []
    connections = [_Connection(value, ("connections", i), i) for i, value in enumerate(listed)]
    shared: list[tuple[SharedResource, Path_]] = []
    resources = document.get("shared_resources", [])
    if not isinstance(resources, list):
        issues.append(Issue("E002", "`shared_resources` must be a list", ("shared_resources",), raw=True))
        resources = []
    for i, entry in enumerate(resources):
        at: Path_ = ("shared_resources", i)
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not isinstance(entry.get("component"), str)
            or not isinstance(entry.get("config", {}), dict)
            or set(entry) - {"name", "component", "config"}
        ):
            issues.append(Issue("E002", f"shared_resources[{i}] must be {{name, component, config}}", at, raw=True,
                                hint="e.g. {name: db, component: tpl_x, config: {url: ...}}"))
            continue
        shared.append((SharedResource(entry["name"], entry["component"], entry.get("config")), at))
    diagnostics = loader.finish(issues, shown, source.locator, {})
    if any(d.severity == "error" for d in diagnostics):
        return LoadedPipeline(path, None, None, {}, diagnostics, "compose")
    name = document.get("name") if isinstance(document.get("name"), str) else path.stem
    return _compose(
        loader, path, shown, name, parts, connections, shared, overrides, stack, (shown, source.locator), diagnostics,
        document.get("case_sensitive"), document.get("description"), document.get("properties"),
    )


def compose_paths(
    paths: Sequence[str | os.PathLike[str]],
    *,
    connections: Sequence[str] = (),
    name: str | None = None,
    overrides: Sequence[str] = (),
    registry: Any = None,
    allow_import: bool = True,
    max_size: int | None = None,
) -> LoadedPipeline:
    """Load spec files (or Graph JSON exports) and compose them, as ``reflow compose`` does.

    ``connections`` are ``--connect`` texts (``"ingest/clean.out -> report/fmt.in"``,
    ``"ingest.rows -> report.rows"``); without any, same-named exported
    outports and inports of different graphs wire up. ``name`` names the
    composed graph (default: the namespaces joined with ``+``). A single
    compose manifest is loaded as it is (``connections`` and ``name`` then
    must be empty). Never raises for bad files: every problem is a diagnostic
    of the returned :class:`LoadedPipeline` (``kind == "compose"``).
    """
    from ._load import DEFAULT_MAX_SIZE, _no_gc

    limit = DEFAULT_MAX_SIZE if max_size is None else max_size
    shown_paths = [os.fspath(p) for p in paths]
    with _no_gc():
        loader = _Loader(registry, allow_import, limit, components=True)
        preloaded = None
        if len(shown_paths) == 1 and not connections and name is None:
            single = loader.load(Path(shown_paths[0]), tuple(overrides), (), shown_paths[0])
            if single.kind == "compose":
                return single
            preloaded = single if not overrides else None  # the one part, loaded already
        parts = [_Part(Path(p), p, None, None) for p in shown_paths]
        first = Path(shown_paths[0]) if shown_paths else Path(".")
        wires = [_Connection(text, None, i) for i, text in enumerate(connections)]
        return _compose(loader, first, COMMAND_LINE, name, parts, wires, [], overrides, (), None, [], preloaded=preloaded)


def _folder_notes(parts: list[_Part], folder: Path) -> list[str]:
    """A note when parts live outside ``folder``, where the composition runs (their relative config paths move)."""
    elsewhere = [part.shown for part in parts if _key(part.path).parent != folder]
    if not elsewhere:
        return []
    which = elsewhere[0] if len(elsewhere) == 1 else ", ".join(elsewhere)
    its = "its" if len(elsewhere) == 1 else "their"
    return [f"{which} {'is' if len(elsewhere) == 1 else 'are'} not in {os.fspath(folder)}, where the composition runs: "
            f"relative paths in {its} configs are read from there (see docs/compose.md, Paths)"]


def _inner_spec(loader: Any, resolved: dict[str, Any], node: str) -> ComponentSpec | None:
    """The component of ``node`` in a part, through its subgraphs (``clean/priced`` is ``priced`` inside ``clean``)."""
    outer, _, inner = node.partition("/")
    found = resolved.get(outer)
    if found is None:
        return None
    if not inner:
        return found.spec
    if found.include is None:
        return None
    return _inner_spec(loader, loader.resolved.get(_key(found.include.path), {}), inner)
