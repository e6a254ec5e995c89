"""Reading a pipeline test file: parse with positions, check the schema, then check it against its spec.

Everything wrong becomes a :class:`~reflow_cli.spec.Diagnostic` located in the
test file (``file:line:col``), all of them in one pass; nothing here runs the
pipeline. The format is in ``docs/testing.md``, the schema in
``schemas/test.schema.json``.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MessageError
from ..message import Message
from ..spec import Diagnostic, LoadedPipeline, load_pipeline
from ..spec._diagnostics import COMMAND_LINE
from ..spec._schema import describe_error, schema_text, where_text
from ..spec._source import Locator, SourceError, parse_text, read_text
from ..spec._sugar import message_from_sugar

__all__ = [
    "CODES",
    "DEFAULT_TIMEOUT",
    "Expectation",
    "Injection",
    "PipelineTestCase",
    "PipelineTestFile",
    "Replacement",
    "Watch",
    "find_test_files",
    "load_test_file",
]

#: code -> what it means (docs/testing.md lists them with examples).
CODES: dict[str, str] = {
    "E-SYNTAX": "the test file is not YAML or JSON",
    "E-SCHEMA": "the test file does not match the test schema",
    "E-SPEC": "the pipeline under test is missing or invalid",
    "E-NODE": "no such node in the pipeline",
    "E-PORT": "no such port",
    "E-MESSAGE": "a message that is not a valid message",
    "E-ORDER": "`order` on a port with more than one producer",
    "E-CASE": "two cases with one name",
}
#: Seconds a case may run unless the file or the case says otherwise.
DEFAULT_TIMEOUT = 30.0
#: Test file names ``reflow test DIR`` finds.
TEST_SUFFIXES = (".test.yaml", ".test.yml", ".test.json")
_MAX_SIZE = 4 * 2**20


@dataclass(frozen=True)
class Watch:
    """What an expectation observes: the outports feeding a port, and the initial packets sent to it."""

    name: str
    sources: tuple[tuple[str, str], ...]
    initial: tuple[Message, ...] = ()

    @property
    def producers(self) -> int:
        """How many producers interleave on this port (the initial packets count as one)."""
        return len(self.sources) + (1 if self.initial else 0)


@dataclass(frozen=True)
class Expectation:
    """The checks on one port (``None``: not checked)."""

    port: str
    watch: Watch
    line: int
    equals: tuple[Message, ...] | None = None
    contains: tuple[Message, ...] | None = None
    count_min: int | None = None
    count_max: int | None = None
    types: tuple[str, ...] | None = None
    order: bool = False


@dataclass(frozen=True)
class Injection:
    """A message sent to ``node.port`` when the run starts."""

    node: str
    port: str
    message: Message


@dataclass(frozen=True)
class Replacement:
    """A node that does not run its component: it sends ``emit`` at start and ``reply`` per packet received."""

    node: str
    emit: tuple[dict[str, Message], ...] = ()
    reply: dict[str, Message] = field(default_factory=dict)


@dataclass
class PipelineTestCase:
    """One case of a test file, checked and ready to run."""

    name: str
    line: int
    column: int
    description: str = ""
    overrides: tuple[str, ...] = ()
    keep_initial: bool = True
    inject: list[Injection] = field(default_factory=list)
    replace: dict[str, Replacement] = field(default_factory=dict)
    expect: list[Expectation] = field(default_factory=list)
    status: str = "complete"
    failures: dict[str, int] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    duration: float | None = None
    sandbox: bool = False
    loaded: LoadedPipeline | None = None


@dataclass
class PipelineTestFile:
    """A test file: its cases and every problem found in it (``ok`` when none is an error)."""

    path: Path
    shown: str
    spec_path: Path | None = None
    description: str = ""
    cases: list[PipelineTestCase] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: The spec's own diagnostics, when it is invalid (reported after E-SPEC).
    spec_diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no diagnostic is an error."""
        return not any(d.severity == "error" for d in (*self.diagnostics, *self.spec_diagnostics))


@functools.cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads(schema_text("test.schema.json"))
    return jsonschema.validators.validator_for(schema)(schema)


class _Checker:
    """Collects located diagnostics for one test file."""

    def __init__(self, shown: str, locator: Locator) -> None:
        self.shown = shown
        self.locator = locator
        self.diagnostics: list[Diagnostic] = []

    def error(self, code: str, message: str, path: tuple[Any, ...], hint: str | None = None, *, key: bool = False) -> None:
        line, column, found = self.locator.locate(path, key=key)
        pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in found)
        self.diagnostics.append(Diagnostic("error", code, self.shown, line, column, message, hint, pointer))

    def line_of(self, path: tuple[Any, ...], *, key: bool = False) -> tuple[int, int]:
        line, column, _ = self.locator.locate(path, key=key)
        return line, column


def find_test_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Test files named by ``paths``: files as given, folders searched for ``*.test.yaml`` (and .yml, .json)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for candidate in sorted(path.rglob("*")):
                parts = candidate.relative_to(path).parts
                if any(part.startswith(".") or part in ("__pycache__", "node_modules") for part in parts):
                    continue
                if candidate.is_file() and candidate.name.endswith(TEST_SUFFIXES):
                    found.append(candidate)
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def load_test_file(path: str | os.PathLike[str]) -> PipelineTestFile:
    """Read and check a test file and load the spec it names (never raises for a bad file)."""
    shown = os.fspath(path)
    result = PipelineTestFile(Path(shown), shown)
    try:
        text = read_text(Path(shown), _MAX_SIZE)
        source = parse_text(text, "json" if shown.endswith(".json") else "yaml")
    except SourceError as exc:
        code = "E-SYNTAX" if exc.code in ("E001", "E020") else "E-SCHEMA"
        result.diagnostics.append(Diagnostic("error", code, shown, exc.line, exc.column, exc.message, exc.hint))
        return result
    checker = _Checker(shown, source.locator)
    document = source.data
    for problem in source.problems:
        checker.error("E-SCHEMA", problem.message, problem.path, problem.hint, key=problem.key)
    if not isinstance(document, dict):
        checker.error("E-SCHEMA", "a test file is a mapping with `version: 1`, `pipeline` and `cases`", (),
                      "see docs/testing.md for the format")
        result.diagnostics = checker.diagnostics
        return result
    errors = sorted(_validator().iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        for issue in describe_error(error):
            message = issue.message.replace("the top level is missing", "the test file is missing")
            checker.error("E-SCHEMA", message, issue.path, issue.hint, key=issue.key)
    if checker.diagnostics:
        result.diagnostics = _sorted(checker.diagnostics)
        return result
    result.description = document.get("description", "")
    result.spec_path = (Path(shown).parent / document["pipeline"])
    _check_cases(result, document, checker)
    result.diagnostics = _sorted(checker.diagnostics)
    return result


def _sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(dict.fromkeys(diagnostics), key=lambda d: (d.line, d.column))


def _check_cases(result: PipelineTestFile, document: dict[str, Any], checker: _Checker) -> None:
    assert result.spec_path is not None
    if not result.spec_path.is_file():
        checker.error("E-SPEC", f"the pipeline {document['pipeline']!r} does not exist", ("pipeline",),
                      f"it is read relative to the test file: {result.spec_path}")
        return
    loads: dict[tuple[str, ...], LoadedPipeline] = {}
    seen: dict[str, int] = {}
    file_timeout = float(document.get("timeout", DEFAULT_TIMEOUT))
    file_sandbox = bool(document.get("sandbox", False))
    for index, raw in enumerate(document["cases"]):
        at: tuple[Any, ...] = ("cases", index)
        line, column = checker.line_of((*at, "name"))
        case = PipelineTestCase(raw["name"], line, column, raw.get("description", ""))
        if case.name in seen:
            checker.error("E-CASE", f"a case named {case.name!r} already exists (line {seen[case.name]})", (*at, "name"),
                          "give every case its own name")
        seen.setdefault(case.name, line)
        case.timeout = float(raw.get("timeout", file_timeout))
        case.duration = float(raw["duration"]) if "duration" in raw else None
        case.status = raw.get("status", "stopped" if case.duration is not None else "complete")
        case.sandbox = bool(raw.get("sandbox", file_sandbox))
        case.keep_initial = raw.get("initial", "keep") == "keep"
        case.overrides = tuple(f"{key}={json.dumps(value)}" for key, value in raw.get("set", {}).items())
        loaded = loads.get(case.overrides)
        if loaded is None:
            loaded = loads[case.overrides] = load_pipeline(result.spec_path, overrides=case.overrides)
            if not loaded.ok:
                _spec_problems(result, loaded, checker, at, list(raw.get("set", {})))
        if not loaded.ok or loaded.graph is None:
            continue
        case.loaded = loaded
        _CaseChecker(case, loaded, checker, at).check(raw)
        result.cases.append(case)


def _spec_problems(result: PipelineTestFile, loaded: LoadedPipeline, checker: _Checker, at: tuple[Any, ...],
                   set_keys: list[str]) -> None:
    """The spec's errors: --set problems located at the case's ``set`` entry, the rest reported as they are."""
    spec_errors = False
    for diagnostic in loaded.diagnostics:
        if diagnostic.severity != "error":
            continue
        if diagnostic.file == COMMAND_LINE and 1 <= diagnostic.line <= len(set_keys):
            key = set_keys[diagnostic.line - 1]
            message = f"set {key}: " + re.sub(r"^--set '.*?': ", "", diagnostic.message)
            checker.error("E-SPEC", message, (*at, "set", key), diagnostic.hint, key=True)
        else:
            spec_errors = True
            if diagnostic not in result.spec_diagnostics:
                result.spec_diagnostics.append(diagnostic)
    if spec_errors and not any(d.code == "E-SPEC" and d.pointer == "/pipeline" for d in checker.diagnostics):
        checker.error("E-SPEC", f"the pipeline {result.spec_path} is invalid (its diagnostics follow)", ("pipeline",),
                      "run `reflow validate` on it")


class _CaseChecker:
    """Checks one case against its loaded pipeline and fills in the case."""

    def __init__(self, case: PipelineTestCase, loaded: LoadedPipeline, checker: _Checker, at: tuple[Any, ...]) -> None:
        from ..runner import node_component_spec

        assert loaded.graph is not None
        self.case = case
        self.checker = checker
        self.at = at
        self.graph = loaded.graph
        self.lower = not loaded.graph.case_sensitive
        self.nodes = {p.id: node_component_spec(loaded, p.id) for p in loaded.graph.iter_processes()}
        self.connections = loaded.graph.iter_connections()
        self.initials = loaded.graph.iter_initials()
        self.exported_in = {p.name: p for p in loaded.graph.iter_inports()}
        self.exported_out = {p.name: p for p in loaded.graph.iter_outports()}

    def check(self, raw: dict[str, Any]) -> None:
        for index, item in enumerate(raw.get("inject", [])):
            self.injection(item, (*self.at, "inject", index))
        for node, item in raw.get("replace", {}).items():
            self.replacement(node, item, (*self.at, "replace", node))
        for node, count in raw.get("failures", {}).items():
            if self.known_node(node, (*self.at, "failures", node)):
                self.case.failures[node] = count
        for port, item in raw.get("expect", {}).items():
            self.expectation(port, item, (*self.at, "expect", port))

    # -- names ---------------------------------------------------------------------------

    def port_name(self, port: str) -> str:
        return port.lower() if self.lower else port

    def known_node(self, node: str, path: tuple[Any, ...]) -> bool:
        if node in self.nodes:
            return True
        from ..actor import suggest

        close = suggest(node, self.nodes)
        self.checker.error("E-NODE", f"the pipeline has no node {node!r}", path,
                           f"did you mean {close!r}?" if close else f"its nodes are: {', '.join(self.nodes)}", key=True)
        return False

    def has_port(self, node: str, port: str, direction: str) -> bool:
        spec = self.nodes[node]
        if direction == "inport":
            connected = any(c.tgt_node == node and c.tgt_port == port for c in self.connections)
            return connected or spec is None or spec.has_inport(port)
        connected = any(c.src_node == node and c.src_port == port for c in self.connections)
        return connected or spec is None or spec.has_outport(port)

    def declared(self, node: str, direction: str) -> list[str]:
        spec = self.nodes[node]
        if spec is None:
            return []
        return [p.name for p in (spec.inports if direction == "inport" else spec.outports) if not p.is_pattern]

    def unknown_port(self, node: str, port: str, direction: str, path: tuple[Any, ...], *, key: bool = False) -> None:
        from ..actor import suggest

        names = self.declared(node, direction)
        close = suggest(port, names)
        hint = f"did you mean {close!r}?" if close else (f"its {direction}s are: {', '.join(names)}" if names else None)
        self.checker.error("E-PORT", f"node {node!r} has no {direction} {port!r}", path, hint, key=key)

    def message(self, value: Any, path: tuple[Any, ...]) -> Message | None:
        try:
            return message_from_sugar(value)
        except (MessageError, ValueError, TypeError, OverflowError) as exc:
            self.checker.error("E-MESSAGE", f"{where_text(path[2:])}: not a message: {exc}", path,
                               "see docs/spec.md, message sugar")
            return None

    # -- inject ----------------------------------------------------------------------------

    def injection(self, item: dict[str, Any], path: tuple[Any, ...]) -> None:
        if ("to" in item) == ("inport" in item):
            self.checker.error("E-SCHEMA", "an injected message needs `to: NODE.PORT` or `inport: NAME` (one of them)",
                               path, key=False)
            return
        if ("data" in item) == ("messages" in item):
            self.checker.error("E-SCHEMA", "an injected message needs `data` (one message) or `messages` (a list)", path)
            return
        if "inport" in item:
            exported = self.exported_in.get(item["inport"])
            if exported is None:
                from ..actor import suggest

                close = suggest(item["inport"], self.exported_in)
                self.checker.error("E-PORT", f"the pipeline exports no inport {item['inport']!r}", (*path, "inport"),
                                   f"did you mean {close!r}?" if close else "name an exported inport, or use `to: NODE.PORT`")
                return
            node, port = exported.node, exported.port
        else:
            node, _, port = item["to"].partition(".")
            port = self.port_name(port)
            if not self.known_node(node, (*path, "to")):
                return
            if not self.has_port(node, port, "inport"):
                self.unknown_port(node, port, "inport", (*path, "to"))
                return
        values = [(item["data"], (*path, "data"))] if "data" in item else [
            (value, (*path, "messages", i)) for i, value in enumerate(item["messages"])
        ]
        for value, where in values:
            message = self.message(value, where)
            if message is not None:
                self.case.inject.append(Injection(node, port, message))

    # -- replace ---------------------------------------------------------------------------

    def replacement(self, node: str, item: dict[str, Any], path: tuple[Any, ...]) -> None:
        if not self.known_node(node, path):
            return
        emit = []
        for index, outputs in enumerate(item.get("emit", [])):
            emit.append(self.outputs(node, outputs, (*path, "emit", index)))
        reply = self.outputs(node, item.get("reply", {}), (*path, "reply"))
        self.case.replace[node] = Replacement(node, tuple(emit), reply)

    def outputs(self, node: str, outputs: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Message]:
        out: dict[str, Message] = {}
        for port, value in outputs.items():
            name = self.port_name(port)
            if not self.has_port(node, name, "outport"):
                self.unknown_port(node, name, "outport", (*path, port), key=True)
                continue
            message = self.message(value, (*path, port))
            if message is not None:
                out[name] = message
        return out

    # -- expect ----------------------------------------------------------------------------

    def watch(self, target: str, path: tuple[Any, ...]) -> Watch | None:
        node, dot, port = target.partition(".")
        if not dot:
            exported = self.exported_out.get(target) or self.exported_in.get(target)
            if exported is None:
                from ..actor import suggest

                names = [*self.exported_out, *self.exported_in]
                close = suggest(target, names)
                hint = f"did you mean {close!r}?" if close else "write NODE.PORT, or name a port the graph exports"
                self.checker.error("E-PORT", f"the pipeline exports no port {target!r}", path, hint, key=True)
                return None
            node, port = exported.node, exported.port
            if target in self.exported_out:
                return Watch(target, ((node, port),))
        else:
            port = self.port_name(port)
            if not self.known_node(node, path):
                return None
            if self.has_port(node, port, "outport"):
                return Watch(target, ((node, port),))
            if not self.has_port(node, port, "inport"):
                self.unknown_port(node, port, "port", path, key=True)
                return None
        sources = tuple(dict.fromkeys((c.src_node, c.src_port) for c in self.connections
                                      if c.tgt_node == node and c.tgt_port == port))
        initial = [ip.message for ip in self.initials if ip.node == node and ip.port == port] if self.case.keep_initial else []
        initial += [i.message for i in self.case.inject if i.node == node and i.port == port]
        return Watch(target, sources, tuple(initial))

    def expectation(self, target: str, item: dict[str, Any], path: tuple[Any, ...]) -> None:
        watch = self.watch(target, path)
        if watch is None:
            return
        line, _ = self.checker.line_of(path, key=True)
        order = bool(item.get("order", False))
        if order and watch.producers > 1:
            producers = [f"{n}.{p}" for n, p in watch.sources] + (["initial packets"] if watch.initial else [])
            self.checker.error(
                "E-ORDER",
                f"`order` on {target!r}, which has {watch.producers} producers ({', '.join(producers)}): "
                "their messages interleave in no fixed order",
                (*path, "order"),
                "drop `order`, or check an outport of one producer instead", key=True,
            )
            return
        lists = {}
        for key in ("equals", "contains"):
            if key in item:
                messages = [self.message(value, (*path, key, i)) for i, value in enumerate(item[key])]
                if any(m is None for m in messages):
                    return
                lists[key] = tuple(m for m in messages if m is not None)
        count = item.get("count")
        count_min = count_max = None
        if isinstance(count, int):
            count_min = count_max = count
        elif isinstance(count, dict):
            count_min, count_max = count.get("min"), count.get("max")
        types = item.get("type")
        if isinstance(types, str):
            types = [types]
        self.case.expect.append(Expectation(
            target, watch, line, lists.get("equals"), lists.get("contains"), count_min, count_max,
            tuple(types) if types is not None else None, order,
        ))
