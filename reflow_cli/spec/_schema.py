"""The pipeline JSON Schema: loading it, checking documents, and saying what is wrong in plain words.

``schemas/pipeline.schema.json`` is the one definition of the format. Checking
a large spec with jsonschema costs about 0.1 ms per node, so the items whose
shape is plainly valid (the common case: ``{component: x, config: {...}}``,
``a.out -> b.in``) are checked by a few fast predicates first and taken out
of the document before jsonschema sees it. The predicates accept a *subset*
of what the schema accepts (``tests/spec/test_schema.py`` checks that), so
the result is the schema's, only sooner. jsonschema is imported lazily.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any

from ..actor import suggest
from ._issues import Issue, Path_
from ._sugar import CONNECTION, ENDPOINT, ID, TARGET

__all__ = [
    "check_document",
    "describe_error",
    "diagnostics_schema",
    "pipeline_schema",
    "schema_text",
    "where_text",
]

PIPELINE_SCHEMA = "pipeline.schema.json"
DIAGNOSTICS_SCHEMA = "diagnostics.schema.json"


def schema_text(name: str) -> str:
    """The text of a schema shipped in ``reflow_cli.schemas``."""
    return resources.files("reflow_cli.schemas").joinpath(name).read_text(encoding="utf-8")


@functools.cache
def pipeline_schema() -> dict[str, Any]:
    """The pipeline spec JSON Schema (parsed; do not mutate)."""
    return json.loads(schema_text(PIPELINE_SCHEMA))  # type: ignore[no-any-return]


@functools.cache
def id_pattern() -> str:
    """The schema's pattern for node ids and port names (read from the schema, so the two never differ)."""
    return str(pipeline_schema()["$defs"]["nodeId"]["pattern"])


@functools.cache
def diagnostics_schema() -> dict[str, Any]:
    """The JSON Schema of ``reflow validate --format json`` (parsed; do not mutate)."""
    return json.loads(schema_text(DIAGNOSTICS_SCHEMA))  # type: ignore[no-any-return]


@functools.cache
def _validator() -> Any:
    import jsonschema  # lazy: only validation pays for it

    schema = pipeline_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


# -- the fast path --------------------------------------------------------------------

_NODE_OPTIONAL = {
    "description": lambda v: isinstance(v, str),
    "metadata": lambda v: isinstance(v, dict),
    "on_error": lambda v: v in ("fail", "continue", "skip", "retry", "dead_letter") and isinstance(v, str),
    "placement": lambda v: isinstance(v, (str, dict)),
    "replicas": lambda v: type(v) is int and v >= 1,
    "resources": lambda v: isinstance(v, dict),
}


def _node_ok(node: Any) -> bool:
    if type(node) is not dict:
        return False
    component = node.get("component")
    if type(component) is not str or not component:
        return False
    for key, value in node.items():
        if key == "component":
            continue
        if key == "config":
            if type(value) is not dict or "reflow" in value:
                return False
            continue
        check = _NODE_OPTIONAL.get(key)
        if check is None or not check(value):
            return False
    return True


def _endpoint_ok(value: Any) -> bool:
    if type(value) is str:
        return ENDPOINT.match(value) is not None
    if type(value) is not dict or not {"node", "port"} <= value.keys() <= {"node", "port", "index"}:
        return False
    if not (type(value["node"]) is str and ID.match(value["node"]) and type(value["port"]) is str and ID.match(value["port"])):
        return False
    index = value.get("index", 0)
    return type(index) is int and index >= 0


def _connection_ok(item: Any) -> bool:
    if type(item) is str:
        return CONNECTION.match(item) is not None
    if type(item) is not dict or not {"from", "to"} <= item.keys() <= {"from", "to", "capacity", "metadata"}:
        return False
    if not (_endpoint_ok(item["from"]) and _endpoint_ok(item["to"])):
        return False
    capacity = item.get("capacity", 1)
    metadata = item.get("metadata", {})
    return type(capacity) is int and capacity >= 1 and type(metadata) is dict and "reflow" not in metadata


def _initial_ok(item: Any) -> bool:
    if type(item) is not dict or "data" not in item or not item.keys() <= {"to", "data", "index", "metadata"}:
        return False
    to = item.get("to")
    if type(to) is not str or TARGET.match(to) is None:
        return False
    index = item.get("index", 0)
    return type(index) is int and index >= 0 and type(item.get("metadata", {})) is dict


def _exported_ok(item: Any) -> bool:
    return type(item) is str and TARGET.match(item) is not None


_PLACEHOLDER_CONNECTION = "a.b -> c.d"
_PLACEHOLDER_INITIAL = {"to": "a.b", "data": None}


def prune(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` without the items the fast predicates found valid.

    Dropped mapping entries are simply gone; list items are replaced by a
    valid placeholder (or the list emptied when every item is valid), so the
    paths of what remains do not change.
    """
    pruned = dict(document)
    nodes = document.get("nodes")
    if type(nodes) is dict:
        pruned["nodes"] = {k: v for k, v in nodes.items() if not (ID.match(k) and _node_ok(v))}
    for section in ("inports", "outports"):
        ports = document.get(section)
        if type(ports) is dict:
            pruned[section] = {k: v for k, v in ports.items() if not (ID.match(k) and _exported_ok(v))}
    for section, ok, placeholder in (
        ("connections", _connection_ok, _PLACEHOLDER_CONNECTION),
        ("initial", _initial_ok, _PLACEHOLDER_INITIAL),
    ):
        items = document.get(section)
        if type(items) is list:
            verdicts = [ok(item) for item in items]
            if all(verdicts):
                pruned[section] = []
            else:
                pruned[section] = [placeholder if good else item for item, good in zip(items, verdicts, strict=True)]
    return pruned


# -- wording -----------------------------------------------------------------------------

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}

_REQUIRED_HINTS = {
    "version": "start the file with `version: 1`",
    "nodes": "list the nodes under `nodes:`, e.g. `nodes: {read: {component: tpl_file_load}}`",
    "component": "every node names what it runs, e.g. `component: tpl_filter` or `component: python:MODULE:CLASS`",
    "from": "a connection needs `from: NODE.PORT` and `to: NODE.PORT`",
    "to": "a connection needs `from: NODE.PORT` and `to: NODE.PORT`",
    "data": "an initial packet needs `data:`, e.g. `data: {type: Flow}` or `data: 42`",
    "node": "give both `node:` and `port:`",
    "port": "give both `node:` and `port:`",
    "type": "a port type mapping needs `type:`",
}


def where_text(path: Path_) -> str:
    """A path as a person reads it: ``nodes.read.config``, ``connections[2].from``."""
    out = ""
    for segment in path:
        if isinstance(segment, int):
            out += f"[{segment}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", segment):
            out += f".{segment}" if out else segment
        else:
            out += f"[{json.dumps(segment, ensure_ascii=False)}]"
    return out or "the top level"


def _type_of(value: Any) -> str:
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _expected(types: Any) -> str:
    names = [_TYPE_NAMES.get(t, t) for t in ([types] if isinstance(types, str) else types)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_error(error: Any, base: Path_ = ()) -> list[Issue]:
    """Plain-words issues for one jsonschema error (``base`` prefixes its path; raw paths).

    Used for the pipeline schema and for component config schemas alike.
    """
    path: Path_ = (*base, *error.absolute_path)
    where = where_text(path)
    keyword = error.validator
    value = error.validator_value
    instance = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    if "propertyNames" in error.schema_path:
        # The error is about a key: ``instance`` is the key itself.
        key_path = (*path, instance)
        if keyword == "pattern":
            reason = schema.get("patternErrorMessage", f"it must match {value}")
            owner = path[-1] if path else ""
            kind = {"nodes": "node id", "inports": "inport name", "outports": "outport name"}.get(owner, "key")
            return [Issue("E002", f"{kind} {instance!r} is not allowed: {reason}", key_path, key=True, raw=True,
                          kept=value == id_pattern())]
        reason = schema.get("errorMessage") or error.message
        return [Issue("E002", f"key {instance!r} is not allowed in {where}: {reason}", key_path, key=True, raw=True)]
    if keyword == "additionalProperties" and isinstance(instance, dict):
        allowed = list(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
        issues = []
        for key in instance:
            if key in allowed:
                continue
            close = suggest(key, allowed)
            hint = f"did you mean {close!r}?" if close else (f"the keys here are: {', '.join(allowed)}" if allowed else None)
            issues.append(Issue("E002", f"unknown key {key!r} in {where}", (*path, key), hint=hint, key=True, raw=True))
        return issues
    if keyword == "required" and isinstance(instance, dict):
        return [
            Issue("E002", f"{where} is missing the key {name!r}", path, hint=_REQUIRED_HINTS.get(name), key=True, raw=True)
            for name in value
            if name not in instance
        ]
    if keyword == "anyOf" and isinstance(instance, dict) and all(
        isinstance(s, dict) and set(s) == {"required"} for s in value
    ):
        names = " or ".join(f"`{s['required'][0]}`" for s in value)
        return [Issue("E002", f"{where} needs {names}", path, key=True, raw=True,
                      hint="an initial packet goes `to: NODE.PORT` (or through `inport: NAME`)")]
    if keyword == "type":
        return [Issue("E002", f"{where} must be {_expected(value)}, not {_type_of(instance)}", path, raw=True)]
    if keyword == "const":
        if path == ("version",):
            return [Issue("E002", f"unsupported spec version {_short(instance)}: this reflow reads `version: 1`",
                          path, raw=True, hint="write `version: 1`")]
        return [Issue("E002", f"{where} must be {_short(value)}, not {_short(instance)}", path, raw=True)]
    if keyword == "enum":
        choices = [str(v) for v in value]
        close = suggest(instance, choices) if isinstance(instance, str) else None
        return [Issue("E002", f"{where}: {_short(instance)} is not one of {', '.join(choices)}", path, raw=True,
                      hint=f"did you mean {close!r}?" if close else None)]
    if keyword == "pattern":
        reason = schema.get("patternErrorMessage", f"it must match {value}")
        # A long-form id that breaks the id rules is still read as it is.
        return [Issue("E002", f"{where}: {_short(instance)} is not valid: {reason}", path, raw=True,
                      kept=value == id_pattern())]
    if keyword in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        relation = {"minimum": "at least", "exclusiveMinimum": "more than", "maximum": "at most",
                    "exclusiveMaximum": "less than"}[keyword]
        return [Issue("E002", f"{where} must be {relation} {value}, not {_short(instance)}", path, raw=True)]
    if keyword == "minLength" and value == 1:
        return [Issue("E002", f"{where} must not be empty", path, raw=True)]
    if keyword == "uniqueItems" and isinstance(instance, list):
        seen: list[Any] = []
        for item in instance:
            if item in seen:
                return [Issue("E002", f"{where} lists {_short(item)} twice", path, raw=True, hint="list each item once")]
            seen.append(item)
    message = " ".join(str(error.message).split())
    if len(message) > 200:
        message = message[:197] + "..."
    return [Issue("E002", f"{where}: {message}", path, raw=True)]


def check_document(document: Any) -> list[Issue]:
    """Every way ``document`` breaks the pipeline schema, in plain words (raw paths)."""
    target = prune(document) if isinstance(document, dict) else document
    validator = _validator()
    issues: list[Issue] = []
    try:
        errors = sorted(validator.iter_errors(target), key=lambda e: [str(p) for p in e.absolute_path])
        for error in errors:
            issues.extend(describe_error(error))
    except RecursionError:
        issues.append(Issue("E020", "the document nests too deeply to check", (), raw=True, hint="flatten the structure"))
    return issues
