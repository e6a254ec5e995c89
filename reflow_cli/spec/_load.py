"""Loading a pipeline file: read, parse, check the schema, normalise, check the meaning, build the Graph.

:func:`load_pipeline` is the one entry point (``reflow validate``, ``convert``
and ``run`` all use it). It never raises for a bad file: everything wrong
becomes a :class:`~reflow_cli.spec.Diagnostic`, all of them in one pass.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..compose import Inner, inline_all
from ..errors import CompositionError, GraphError
from ..graph import Graph
from ..registry import ComponentRegistry, default_registry
from ._checks import check_configs, check_meaning
from ._components import ComponentResolver, Resolved, is_file_component
from ._convert import export_origins, export_to_spec, spec_to_export
from ._diagnostics import CODES, COMMAND_LINE, Diagnostic
from ._issues import At, CommandLine, Issue, Origins, Path_
from ._normalise import Normalised, apply_overrides, normalise
from ._schema import check_document, where_text
from ._source import Locator, Source, SourceError, SourceProblem, is_json_path, parse_text, read_text
from ._yaml import parse_yaml

__all__ = ["DEFAULT_MAX_SIZE", "LoadedPipeline", "is_graph_export", "load_pipeline", "validate_paths"]

#: The default limit on a spec file's size (``--max-size``).
DEFAULT_MAX_SIZE = 16 * 2**20


@dataclass
class LoadedPipeline:
    """A loaded spec file: its normalised spec, its Graph, and every diagnostic.

    ``spec`` is None when the file could not be read as a mapping; ``graph``
    is None when there are errors. ``components`` are the classes of
    ``python:MODULE:CLASS`` nodes, to register on a Network under those ids.
    For a Graph JSON export (``kind == "graph"``), ``spec`` is its spec form
    (what ``reflow convert`` writes); for a composition (a compose manifest,
    or :func:`reflow_cli.compose.compose_paths`; ``kind == "compose"``) it is
    the composed spec; ``kind`` is ``"spec"`` otherwise. Subgraph nodes
    (``component: ./sub.yaml``) stay as written in ``spec``; ``graph`` has them
    inlined (``<node>/<inner>``), and ``components`` has their classes too.
    """

    path: Path
    spec: dict[str, Any] | None
    graph: Graph | None
    components: dict[str, Any] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    kind: str = "spec"
    #: True when ``spec`` holds everything the file says, errors or not (ids a spec may not
    #: have, say): ``reflow convert`` converts such files, losing nothing.
    convertible: bool = False
    #: What a composition did on its own, worth telling (the connections auto-wiring made).
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no diagnostic is an error (warnings allowed)."""
        return not any(d.severity == "error" for d in self.diagnostics)


def is_graph_export(document: Any) -> bool:
    """Whether a parsed document is a Graph JSON export rather than a spec.

    An export has ``processes`` or ``caseSensitive`` at the top, or
    ``connections`` without the spec's ``nodes``/``version``.
    """
    if not isinstance(document, dict):
        return False
    if "processes" in document or "caseSensitive" in document:
        return True
    return "connections" in document and "nodes" not in document and "version" not in document


_LOCATION = re.compile(r" at ([^\s]+)$")


def _export_error_path(message: str) -> Path_:
    """The document path named at the end of a GraphFormatError/GraphError text (``at processes.a``)."""
    match = _LOCATION.search(message)
    where = match.group(1) if match else message.split(":", 1)[0]
    path: list[Any] = []
    for token in re.findall(r'\.?([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]', where):
        name, index, quoted = token
        if name:
            path.append(name)
        elif index:
            path.append(int(index))
        elif quoted:
            path.append(json.loads(quoted))
    return tuple(path)


def _parse_override_value(text: str) -> tuple[Any, str | None]:
    try:
        source = parse_yaml(text)
    except SourceError as exc:
        return None, exc.message
    if source.problems:
        return None, source.problems[0].message
    return source.data, None


class _Loader:
    def __init__(
        self,
        registry: ComponentRegistry | None,
        allow_import: bool,
        max_size: int,
        components: bool,
        build_graph: bool = True,
    ) -> None:
        self.registry = registry
        self.build_graph = build_graph
        self.allow_import = allow_import
        self.max_size = max_size
        self.components = components
        # included files: resolved path -> their LoadedPipeline; shared by the whole load
        self.includes: dict[Path, LoadedPipeline] = {}
        # per loaded file (resolved path): where things are in it, and what its nodes run (compositions use them)
        self.locators: dict[Path, tuple[Locator, str]] = {}
        self.resolved: dict[Path, dict[str, Resolved]] = {}

    # -- locating ----------------------------------------------------------------------

    @staticmethod
    def locate(issue: Issue, shown: str, locator: Locator, origins: Origins) -> Diagnostic:
        severity = CODES[issue.code][0]
        path = issue.path
        offset = issue.offset
        if not issue.raw:
            prefix: Path_ = path
            suffix: Path_ = ()
            origin = None
            while True:
                origin = origins.get(prefix)
                if origin is not None or not prefix:
                    break
                suffix = (prefix[-1], *suffix)
                prefix = prefix[:-1]
            if isinstance(origin, CommandLine):
                pointer = _pointer(issue.path) if not issue.path or issue.path[0] != "#override" else ""
                # line N: the N-th --set
                return Diagnostic(severity, issue.code, COMMAND_LINE, origin.index + 1, 1, issue.message,
                                  issue.hint, pointer)
            if isinstance(origin, At):
                path = (*origin.path, *suffix)
                if not suffix:
                    offset = origin.offset if offset is None else offset
        line, column, found = locator.locate(path, key=issue.key, offset=offset, nth=issue.nth)
        return Diagnostic(severity, issue.code, shown, line, column, issue.message, issue.hint, _pointer(found))

    # -- the whole file ----------------------------------------------------------------

    def load(self, path: Path, overrides: Sequence[str], stack: tuple[Path, ...], shown: str | None = None) -> LoadedPipeline:
        shown = shown if shown is not None else str(path)
        try:
            text = read_text(path, self.max_size)
            kind = "json" if is_json_path(path) else "yaml"
            source = parse_text(text, kind)
        except SourceError as exc:
            diagnostic = Diagnostic(CODES[exc.code][0], exc.code, shown, exc.line, exc.column, exc.message, exc.hint,
                                    _pointer(exc.path))
            return LoadedPipeline(path, None, None, {}, [diagnostic])
        issues = [self.problem_issue(problem, source) for problem in source.problems]
        document = source.data
        if not isinstance(document, dict):
            message = (
                "the file is empty: a spec is a mapping with `version: 1` and `nodes`"
                if document is None
                else f"a spec is a mapping with `version: 1` and `nodes`, not {_kind(document)}"
            )
            issues.append(Issue("E002", message, (), raw=True, hint="see docs/spec.md for the format"))
            return LoadedPipeline(path, None, None, {}, self.finish(issues, shown, source.locator, {}))
        self.locators[_key(path)] = (source.locator, "spec")
        if is_manifest(document):
            from ._compose import load_manifest  # the composition loader uses this one

            return load_manifest(self, path, shown, source, issues, overrides, stack)
        if is_graph_export(document):
            self.locators[_key(path)] = (source.locator, "graph")
            return self.load_export(path, shown, source, issues, overrides, stack)
        issues.extend(check_document(document))
        norm = normalise(document, default_name=path.stem)
        return self.finish_spec(path, shown, source, issues, norm, overrides, stack)

    def problem_issue(self, problem: SourceProblem, source: Source) -> Issue:
        if problem.code != "DUP":
            return Issue(problem.code, problem.message, problem.path, problem.hint, key=problem.key, raw=True,
                         nth=problem.nth)
        key = problem.message
        parent = problem.path[:-1]
        first_line, _, _ = source.locator.locate(problem.path, key=True)
        if parent in (("nodes",), ("processes",)):
            return Issue("E013", f"node {key!r} is defined twice", problem.path,
                         hint=f"it is first defined on line {first_line}; node ids must be unique (the repeat is ignored)",
                         key=True, raw=True, nth=problem.nth)
        return Issue("E002", f"key {key!r} appears twice in {where_text(parent)}", problem.path,
                     hint=f"it first appears on line {first_line}; the repeat is ignored", key=True, raw=True,
                     nth=problem.nth)

    def finish(self, issues: list[Issue], shown: str, locator: Locator, origins: Origins) -> list[Diagnostic]:
        diagnostics: list[Diagnostic] = []
        seen: set[tuple[Any, ...]] = set()
        for issue in issues:
            diagnostic = self.locate(issue, shown, locator, origins)
            key = (diagnostic.file, diagnostic.line, diagnostic.column, diagnostic.code, diagnostic.severity)
            if key in seen and diagnostic.code in ("E002", "E001"):
                continue  # the schema and the normaliser may both see one bad string
            seen.add(key)
            diagnostics.append(diagnostic)
        diagnostics.sort(key=lambda d: (d.file != shown, d.line, d.column))
        return diagnostics

    # -- specs ---------------------------------------------------------------------------

    def finish_spec(
        self,
        path: Path,
        shown: str,
        source: Source,
        issues: list[Issue],
        norm: Normalised,
        overrides: Sequence[str],
        stack: tuple[Path, ...],
        unknown_keys: bool = True,
        prebuilt: Graph | None = None,
    ) -> LoadedPipeline:
        """Check a normalised spec and build its Graph (``prebuilt``: the one a Graph JSON file already gave)."""
        if overrides:
            apply_overrides(norm, tuple(overrides), _parse_override_value)
        issues.extend(norm.issues)
        spec = norm.spec
        resolved: dict[str, Resolved] | None = None
        classes: dict[str, Any] = {}
        included: list[Diagnostic] = []
        if self.components:
            resolved, classes = self.resolve_components(path, shown, spec, issues, stack, included)
        issues.extend(check_meaning(spec, resolved, norm.broken))
        if resolved is not None:
            issues.extend(check_configs(spec, resolved, unknown_keys))
        diagnostics = self.finish(issues, shown, source.locator, norm.origins)
        diagnostics.extend(d for d in included if d not in diagnostics)
        subgraphs: dict[str, LoadedPipeline] = {}
        if resolved is not None:
            self.resolved[_key(path)] = resolved
            for node_id, found in resolved.items():
                if found.include is not None:
                    subgraphs[node_id] = found.include
                    for component, cls in found.include.components.items():
                        classes.setdefault(component, cls)
        graph = None
        if (
            self.build_graph
            and not any(d.severity == "error" for d in diagnostics)
            and all(sub.graph is not None for sub in subgraphs.values())  # else their errors are reported
        ):
            if prebuilt is not None:
                graph = prebuilt
            else:
                graph, problem = _build_graph(spec, subgraphs)
                if problem is not None:
                    diagnostics.append(Diagnostic("error", "E002", shown, 1, 1, problem, None, ""))
        convertible = not any(CODES[i.code][0] == "error" and not i.kept for i in issues)
        return LoadedPipeline(path, spec, graph, classes, diagnostics, convertible=convertible)

    def resolve_components(
        self,
        path: Path,
        shown: str,
        spec: dict[str, Any],
        issues: list[Issue],
        stack: tuple[Path, ...],
        included: list[Diagnostic],
    ) -> tuple[dict[str, Resolved], dict[str, Any]]:
        here = _key(path)
        folder = here.parent

        def load_include(target: Path, text: str) -> Any:
            target = target.resolve()
            chain = (*stack, here)
            if target in chain:
                return cycle_text(chain, target)
            if target not in self.includes:
                shown_sub = os.path.normpath(os.path.join(os.path.dirname(shown), text))
                self.includes[target] = self.load(target, (), chain, shown_sub)
                included.extend(self.includes[target].diagnostics)
            return self.includes[target]

        registry = self.registry if self.registry is not None else default_registry()
        if spec.get("imports"):  # actor packs: their templates, from their manifests
            from ._imports import pack_registry

            registry = pack_registry(spec["imports"], folder, registry, issues, allow_import=self.allow_import,
                                     load=self.allow_import and self.build_graph)
        resolver = ComponentResolver(
            registry,
            folder,
            allow_import=self.allow_import,
            load_include=load_include,
            case_sensitive=spec.get("case_sensitive", True),
        )
        resolved: dict[str, Resolved] = {}
        classes: dict[str, Any] = {}
        for node_id, node in spec["nodes"].items():
            found = resolver.resolve(node["component"])
            resolved[node_id] = found
            for code, message, hint in found.problems:
                issues.append(Issue(code, f"node {node_id!r}: {message}", ("nodes", node_id, "component"), hint=hint))
            if found.python_class is not None:
                classes[node["component"]] = found.python_class
        return resolved, classes

    # -- Graph JSON exports -----------------------------------------------------------

    def load_export(
        self,
        path: Path,
        shown: str,
        source: Source,
        issues: list[Issue],
        overrides: Sequence[str],
        stack: tuple[Path, ...],
    ) -> LoadedPipeline:
        document = source.data
        try:
            graph = Graph.from_json(document)
        except GraphError as exc:
            message = str(exc)
            code = "E014" if "initial packet" in message and "data" in message else (
                "E011" if "does not exist" in message and "node" in message else "E002"
            )
            issues.append(Issue(code, f"Graph JSON: {message}", _export_error_path(message), raw=True,
                                hint="the file looks like a Graph JSON export (it has `processes`)"))
            return LoadedPipeline(path, None, None, {}, self.finish(issues, shown, source.locator, {}), "graph")
        spec = export_to_spec(graph.to_json(), [p.id for p in graph.iter_processes()])
        norm = Normalised(spec, export_origins(document, spec))
        # the graph is exactly what the file says, unless --set or ./file subgraphs change it
        unchanged = not overrides and not any(is_file_component(n["component"]) for n in spec["nodes"].values())
        loaded = self.finish_spec(path, shown, source, issues, norm, overrides, stack, unknown_keys=False,
                                  prebuilt=graph if unchanged else None)
        loaded.kind = "graph"
        return loaded


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    return type(value).__name__


def _pointer(path: Iterable[Any]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _key(path: Path) -> Path:
    """How the loader keys a file: its resolved path."""
    return path.resolve() if path.exists() else path


def cycle_text(chain: tuple[Path, ...], target: Path) -> str:
    """``include cycle: a.yaml -> b.yaml -> a.yaml``: ``target`` comes again after ``chain``, where it already is."""
    names = " -> ".join(p.name for p in (*chain[chain.index(target):], target))
    return f"include cycle: {names}"


def is_manifest(document: Any) -> bool:
    """Whether a parsed document is a compose manifest (``graphs:`` and no ``nodes``/``processes``)."""
    return isinstance(document, dict) and "graphs" in document and "nodes" not in document and "processes" not in document


def _build_graph(spec: dict[str, Any], subgraphs: dict[str, LoadedPipeline] | None = None) -> tuple[Graph | None, str | None]:
    """The Graph of a checked spec, with its subgraph nodes inlined (``<node>/<inner>``)."""
    try:
        export = spec_to_export(spec)
        # the graph keeps the spec's node order (the export's processes are sorted by id)
        export["processes"] = {node_id: export["processes"][node_id] for node_id in spec["nodes"]}
        if subgraphs:
            inners: dict[int, Inner] = {}  # one export per included file, however many nodes use it
            for sub in subgraphs.values():
                if id(sub) not in inners and sub.graph is not None:
                    inners[id(sub)] = Inner(sub.graph.to_json(), [process.id for process in sub.graph.iter_processes()])
            export = inline_all(export, {node_id: inners[id(sub)] for node_id, sub in subgraphs.items()})
        return Graph.from_json(export), None
    except (GraphError, CompositionError) as exc:  # pragma: no cover - the checks above catch what Graph refuses
        return None, f"the spec does not make a valid graph: {exc}"


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: loading allocates many small objects and no cycles worth it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_pipeline(
    path: str | os.PathLike[str],
    *,
    registry: ComponentRegistry | None = None,
    allow_import: bool = True,
    max_size: int = DEFAULT_MAX_SIZE,
    overrides: Sequence[str] = (),
    components: bool = True,
) -> LoadedPipeline:
    """Load, check and build the pipeline in ``path`` (a YAML/JSON spec or a Graph JSON export).

    ``registry`` resolves template ids (default: :func:`~reflow_cli.registry.default_registry`).
    ``allow_import=False`` does not import ``python:`` components (their ports
    go unchecked). ``max_size`` bounds the file (E019). ``overrides`` are
    ``reflow run --set`` values, ``"node.key=value"`` (the value is YAML; a
    dotted key reaches into the config). ``components=False`` checks only the
    spec itself (syntax, schema, nodes, capacities), not what components
    declare: ``reflow convert`` uses it.

    Never raises for a bad file: every problem is a diagnostic.
    """
    shown = os.fspath(path)
    with _no_gc():
        return _Loader(registry, allow_import, max_size, components).load(Path(shown), tuple(overrides), (), shown)


def validate_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    registry: ComponentRegistry | None = None,
    allow_import: bool = True,
    max_size: int = DEFAULT_MAX_SIZE,
) -> list[Diagnostic]:
    """Every diagnostic of every file, in order (a file's included files' too, once)."""
    out: list[Diagnostic] = []
    seen: set[Diagnostic] = set()
    for path in paths:
        shown = os.fspath(path)
        # Every check of load_pipeline, without building the Graph nobody asked for.
        loader = _Loader(registry, allow_import, max_size, components=True, build_graph=False)
        with _no_gc():
            loaded = loader.load(Path(shown), (), (), shown)
        for diagnostic in loaded.diagnostics:
            if diagnostic not in seen:
                seen.add(diagnostic)
                out.append(diagnostic)
    return out
