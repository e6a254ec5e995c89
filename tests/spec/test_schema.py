"""``schemas/pipeline.schema.json``: a valid 2020-12 schema, documented throughout, and checked fast."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reflow_cli.registry import ComponentRegistry
from reflow_cli.spec import format_diagnostics, schema_text, validate_paths
from reflow_cli.spec._schema import _connection_ok, _initial_ok, _node_ok, check_document, prune
from reflow_cli.spec._yaml import parse_yaml

from ._helpers import BROKEN, EXAMPLE, ROOT, write

SCHEMA = json.loads(schema_text("pipeline.schema.json"))
DIAGNOSTICS = json.loads(schema_text("diagnostics.schema.json"))


def _subschemas(schema: Any, path: str = "#") -> list[tuple[str, dict[str, Any]]]:
    """Every subschema that describes a property or a definition."""
    out: list[tuple[str, dict[str, Any]]] = []
    for key in ("properties", "$defs"):
        for name, sub in schema.get(key, {}).items():
            out.append((f"{path}/{key}/{name}", sub))
            out += _subschemas(sub, f"{path}/{key}/{name}")
    for key in ("then", "else", "items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            out += _subschemas(schema[key], f"{path}/{key}")
    return out


@pytest.mark.parametrize("schema", [SCHEMA, DIAGNOSTICS], ids=["pipeline", "diagnostics"])
def test_schemas_are_valid_2020_12_with_a_stable_id(schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].startswith("https://reflow.dev/schemas/") and schema["$id"].endswith(".schema.json")


@pytest.mark.parametrize("schema", [SCHEMA, DIAGNOSTICS], ids=["pipeline", "diagnostics"])
def test_every_property_has_a_description_and_examples_that_validate(schema: dict[str, Any]) -> None:
    registry_root = jsonschema.Draft202012Validator(schema)
    for where, sub in _subschemas(schema):
        if where.count("/") > 2 and where.rsplit("/", 2)[-2] not in ("properties", "$defs"):
            continue
        assert sub.get("description"), where
        assert sub.get("examples"), where
        validator = registry_root.evolve(schema={**sub, "$defs": schema.get("$defs", {})})
        for example in sub["examples"]:
            assert not list(validator.iter_errors(example)), (where, example)


def test_the_docs_example_matches_the_schema() -> None:
    data = parse_yaml(EXAMPLE).data
    assert check_document(data) == []
    jsonschema.Draft202012Validator(SCHEMA).validate(data)


def test_validate_json_output_matches_its_schema() -> None:
    diagnostics = validate_paths(sorted(BROKEN.glob("[EW]0*.yaml")))
    document = json.loads(format_diagnostics(diagnostics, "json"))
    jsonschema.Draft202012Validator(DIAGNOSTICS).validate(document)
    assert document["ok"] is False and document["errors"] > 0


def test_the_schema_command_prints_both_schemas() -> None:
    from ._helpers import run_reflow

    done = run_reflow("schema")
    assert done.returncode == 0 and json.loads(done.stdout) == SCHEMA
    done = run_reflow("schema", "--diagnostics")
    assert done.returncode == 0 and json.loads(done.stdout) == DIAGNOSTICS
    assert (ROOT / "schemas" / "pipeline.schema.json").read_text() == schema_text("pipeline.schema.json")


# -- the fast path says yes only where the schema does ----------------------------------------

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
    max_leaves=4,
)
ENDS = st.sampled_from(["a.b", "a.b[1]", "a-1._x", "a.b\n", "a..b", "1a.b", {"node": "a", "port": "b"},
                        {"node": "a", "port": "b", "index": 2}, {"node": "a", "port": "b", "index": -1},
                        {"node": "a.b", "port": "c"}, {"node": "a"}, {"node": "a", "port": "b", "x": 1}])
NODE_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "component": st.sampled_from(["x", "", 5, "python:a:B"]),
        "config": st.sampled_from([{}, {"k": 1}, {"reflow": 1}, [], None]),
        "description": st.sampled_from(["d", 1]),
        "metadata": st.sampled_from([{}, "m"]),
        "on_error": st.sampled_from(["fail", "continue", "retry", "nope", True]),
        "placement": st.sampled_from(["x", {"a": 1}, 3]),
        "replicas": st.sampled_from([1, 0, 2.0, True, "2"]),
        "resources": st.sampled_from([{}, []]),
        "other": JSONISH,
    },
)
CONNECTIONS = st.one_of(
    st.sampled_from(["a.b -> c.d", "a.b[0]->c.d[1]", " a.b -> c.d ", "a.b -> c", "a.b -> c.d\n", "a.b => c.d"]),
    st.fixed_dictionaries(
        {},
        optional={"from": ENDS, "to": ENDS, "capacity": st.sampled_from([1, 0, 2.0, True, "3"]),
                  "metadata": st.sampled_from([{}, {"reflow": 1}, []]), "other": JSONISH},
    ),
)
INITIALS = st.fixed_dictionaries(
    {},
    optional={"to": st.sampled_from(["a.b", "a.b[0]", "a.b\n", {"node": "a", "port": "b"}]), "data": JSONISH,
              "index": st.sampled_from([0, -1, 1.0, True]), "metadata": st.sampled_from([{}, []]),
              "inport": st.sampled_from(["p", "p.q"]), "other": JSONISH},
)


def _schema_accepts(document: dict[str, Any]) -> bool:
    return not list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(document))


@settings(max_examples=300, deadline=None, database=None)
@given(NODE_VALUES, CONNECTIONS, INITIALS)
def test_fast_predicates_accept_only_what_the_schema_accepts(node: Any, connection: Any, initial: Any) -> None:
    if _node_ok(node):
        assert _schema_accepts({"version": 1, "nodes": {"n": node}}), node
    if _connection_ok(connection):
        assert _schema_accepts({"version": 1, "nodes": {}, "connections": [connection]}), connection
    if _initial_ok(initial):
        assert _schema_accepts({"version": 1, "nodes": {}, "initial": [initial]}), initial


@settings(max_examples=200, deadline=None, database=None)
@given(st.dictionaries(st.sampled_from(["a", "b-1", "1x", "x.y", "_"]), NODE_VALUES, max_size=3),
       st.lists(CONNECTIONS, max_size=3), st.lists(INITIALS, max_size=2))
def test_pruning_does_not_change_the_errors(nodes: Any, connections: Any, initials: Any) -> None:
    document = {"version": 1, "nodes": nodes, "connections": connections, "initial": initials}
    validator = jsonschema.Draft202012Validator(SCHEMA)

    def paths(doc: Any) -> set[tuple[Any, ...]]:
        return {tuple(e.absolute_path) for e in validator.iter_errors(doc)}

    assert paths(prune(document)) == paths(document)


# -- wording ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("version: 2\nnodes: {}\n", "unsupported spec version 2: this reflow reads `version: 1`", "write `version: 1`"),
        ("version: 1\nnodes: {}\nconections: []\n", "unknown key 'conections' in the top level", "did you mean 'connections'?"),
        ("version: 1\nnodes: {a: {component: x, on_error: contineu}}\n",
         "nodes.a.on_error: 'contineu' is not one of fail, continue, skip, retry, dead_letter", "did you mean 'continue'?"),
        ("version: 1\nnodes: {a: {config: {}}}\n", "nodes.a is missing the key 'component'", None),
        ("version: 1\nnodes: {a.b: {component: x}}\n", "node id 'a.b' is not allowed: ids are letters, digits, '_' and '-', "
         "starting with a letter or '_'", None),
        ("version: 1\nnodes: {a: {component: x}}\nconnections: [a.out => a.in]\n",
         "connections[0]: 'a.out => a.in' is not valid: write a connection as NODE.PORT -> NODE.PORT", None),
        ("version: 1\nnodes: []\n", "nodes must be a mapping, not a list", None),
        ("version: 1\nnodes: {a: {component: x, config: {reflow: 1}}}\n",
         "key 'reflow' is not allowed in nodes.a.config: the config key 'reflow' is reserved for reflow's own node settings", None),
        ("version: 1\nnodes: {a: {component: x}}\ninitial: [{data: 1}]\n", "initial[0] needs `to` or `inport`", None),
        ("version: 1\nnodes: {a: {component: x}}\ngroups: {g: [a, a]}\n", "groups.g lists 'a' twice", "list each item once"),
    ],
)
def test_schema_errors_read_well(tmp_path: Path, text: str, message: str, hint: str | None) -> None:
    found = validate_paths([write(tmp_path, "s.yaml", text)], registry=ComponentRegistry())
    diagnostics = [d for d in found if d.code == "E002"]
    assert [(d.code, d.message) for d in diagnostics][:1] == [("E002", message)]
    if hint is not None:
        assert diagnostics[0].hint == hint
