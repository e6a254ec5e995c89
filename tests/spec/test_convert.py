"""``reflow convert``: YAML spec <-> Graph JSON without loss, both ways.

* random Graph exports (the graph tests' strategy) -> YAML -> Graph JSON: the same export;
* random valid specs -> Graph JSON -> YAML: the same normalised spec;
* the reference runtime's real exports in ``tests/graph/data`` convert both ways;
* the command itself, in both directions and with ``-o``.

SPEC_EXAMPLES=1500 runs the property tests longer than the default 60 examples.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reflow_cli.graph import Graph
from reflow_cli.message import MESSAGE_TAGS
from reflow_cli.spec import dump_graph, dump_spec, graph_to_spec, load_pipeline, spec_to_graph
from tests.graph.test_graph_properties import graphs

from ._helpers import ROOT, run_reflow, write

DATA = ROOT / "tests" / "graph" / "data"
EXPORTS = sorted(p for p in DATA.glob("*.json") if p.name != "manifest.json")
SETTINGS = settings(max_examples=int(__import__("os").environ.get("SPEC_EXAMPLES", "60")), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def canonical(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True)


def reload(folder: Path, text: str, suffix: str) -> dict[str, Any]:
    """The normalised spec read back from ``text`` (schema errors allowed: odd ids convert too)."""
    path = write(folder, f"spec{suffix}", text)
    loaded = load_pipeline(path, components=False)
    assert loaded.spec is not None, loaded.diagnostics
    # Random graphs may have ids a spec does not allow (E002) or IIPs sent through an inport
    # that was removed since (E012): validation says so, conversion keeps them all the same.
    assert all(d.code in ("E002", "E012", "W003", "W004") for d in loaded.diagnostics), loaded.diagnostics
    return loaded.spec


# -- Graph JSON -> YAML -> Graph JSON ----------------------------------------------------------


@SETTINGS
@given(graphs())
def test_random_exports_survive_yaml_and_back(tmp_path_factory: pytest.TempPathFactory, g: Graph) -> None:
    folder = tmp_path_factory.mktemp("rt")
    export = g.to_json()
    spec = graph_to_spec(Graph.from_json(export))
    for fmt, suffix in (("yaml", ".yaml"), ("json", ".spec.json")):
        back = reload(folder, dump_spec(spec, fmt), suffix)
        assert back == spec, fmt
        assert canonical(spec_to_graph(back).to_json()) == canonical(export), fmt


@pytest.mark.parametrize("path", EXPORTS, ids=[p.stem for p in EXPORTS])
def test_reference_exports_convert_both_ways(tmp_path: Path, path: Path) -> None:
    export = json.loads(path.read_text())
    loaded = load_pipeline(path, components=False)
    assert loaded.ok and loaded.kind == "graph", loaded.diagnostics
    text = dump_spec(loaded.spec, "yaml")
    again = load_pipeline(write(tmp_path, "x.yaml", text), components=False)
    assert again.spec == loaded.spec
    assert canonical(spec_to_graph(again.spec).to_json()) == canonical(export)


def test_reference_exports_keep_port_types_groups_and_graph_initials() -> None:
    spec = load_pipeline(DATA / "port_types.json", components=False).spec
    assert spec is not None
    assert spec["outports"]["o_array"]["port_type"] == "array<integer>"
    assert spec["outports"]["o_option"]["port_type"] == "option<array<object<Q>>>"
    spec = load_pipeline(DATA / "graph_initials.json", components=False).spec
    assert spec is not None
    first, second = spec["initial"][:2]
    assert first["inport"] == "In" and first["edge"] == {"metadata": {"doc": "entry"}}
    assert "edge" not in second  # a copy of the inport's current fields: nothing to say
    spec = load_pipeline(DATA / "renamed_inport.json", components=False).spec
    assert spec is not None and spec["inports"]["new"]["port_id"] == "old"


# -- YAML -> Graph JSON -> YAML -------------------------------------------------------------

IDS = st.text(string.ascii_letters + "_", min_size=1, max_size=1).flatmap(
    lambda head: st.text(string.ascii_letters + string.digits + "_-", max_size=5).map(lambda tail: head + tail)
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
    | st.sampled_from(["yes", "no", "on", "1_000", "0x1F", "2001-12-14", "<<", "~", "", " x ", "a: b", "- x", "#c"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
CONFIG = st.dictionaries(st.text(max_size=5).filter(lambda k: k != "reflow"), JSON, max_size=3)
TAGGED = st.one_of(
    st.just({"type": "Flow"}),
    st.integers(-5, 5).map(lambda v: {"type": "Integer", "data": v}),
    st.floats(allow_nan=False).map(lambda v: {"type": "Float", "data": v}),
    st.lists(st.integers(0, 255), max_size=3).map(lambda v: {"type": "Bytes", "data": v}),
    JSON.map(lambda v: {"type": "Object", "data": v}),
    JSON.map(lambda v: {"type": "Any", "data": v}),
    st.text(max_size=4).map(lambda v: {"type": "Error", "data": v}),
    st.just({"type": "Float", "data": "NaN"}),
)
DATA_SUGAR = JSON | TAGGED
PORT_TYPES = st.recursive(
    st.sampled_from(["any", "flow", "integer", "string", "bytes", "stream", "object<Row>", "object<>"]),
    lambda inner: st.tuples(st.sampled_from(["array", "option"]), inner).map(lambda t: f"{t[0]}<{t[1]}>"),
    max_leaves=3,
) | st.just({"type": "object", "value": "a<b>"})


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    """A random valid spec, written the way people do (short forms mixed with long ones)."""
    case_sensitive = draw(st.booleans())
    node_ids = draw(st.lists(IDS, min_size=1, max_size=5, unique=True))
    ports = st.sampled_from(["in", "out", "In", "cfg", "port-2"] if case_sensitive else ["in", "out", "cfg", "port-2"])
    spec: dict[str, Any] = {"version": 1}
    if draw(st.booleans()):
        spec["name"] = draw(st.text(max_size=6))
    if draw(st.booleans()):
        spec["description"] = draw(st.text(max_size=6))
    if not case_sensitive or draw(st.booleans()):
        spec["case_sensitive"] = case_sensitive
    if draw(st.booleans()):
        spec["properties"] = draw(st.dictionaries(st.sampled_from(["owner", "tags", "x"]), JSON, max_size=2))
    nodes = {}
    for node_id in node_ids:
        node: dict[str, Any] = {"component": draw(st.sampled_from(["tpl_a", "python:m:C", "tpl-b"]))}
        if draw(st.booleans()):
            node["config"] = draw(CONFIG)
        for key, strategy in (
            ("description", st.text(max_size=5)),
            ("on_error", st.sampled_from(["fail", "continue", "skip", "retry", "dead_letter"])),
            ("metadata", st.dictionaries(st.sampled_from(["x", "y"]), st.integers(), max_size=2)),
            ("replicas", st.integers(1, 4)),
            ("placement", st.sampled_from(["local", {"node": "n1"}])),
            ("resources", st.just({"cpus": 1})),
        ):
            if draw(st.integers(0, 5)) == 0:
                node[key] = draw(strategy)
        nodes[node_id] = node
    spec["nodes"] = nodes
    node = st.sampled_from(node_ids)
    index = st.none() | st.integers(0, 3)

    def end(n: str, p: str, i: int | None, short: bool) -> Any:
        if short:
            return f"{n}.{p}" + ("" if i is None else f"[{i}]")
        out: dict[str, Any] = {"node": n, "port": p}
        if i is not None:
            out["index"] = i
        return out

    connections: list[Any] = []
    seen = set()
    capacities: dict[tuple[str, str], int] = {}
    for _ in range(draw(st.integers(0, 5))):
        a, pa, ia, b, pb, ib = draw(st.tuples(node, ports, index, node, ports, index))
        key = (a, pa if case_sensitive else pa.lower(), b, pb if case_sensitive else pb.lower())
        if key in seen:
            continue
        seen.add(key)
        capacity = draw(st.none() | st.integers(1, 300))
        if capacity is not None:
            capacity = capacities.setdefault((b, key[3]), capacity)
        metadata = draw(st.none() | st.dictionaries(st.sampled_from(["label", "w"]), JSON, max_size=2))
        if capacity is None and metadata is None and draw(st.booleans()):
            connections.append(f"{end(a, pa, ia, True)} -> {end(b, pb, ib, True)}")
            continue
        item: dict[str, Any] = {"from": end(a, pa, ia, draw(st.booleans())), "to": end(b, pb, ib, draw(st.booleans()))}
        if capacity is not None:
            item["capacity"] = capacity
        if metadata is not None:
            item["metadata"] = metadata
        connections.append(item)
    if connections or draw(st.booleans()):
        spec["connections"] = connections
    exported: dict[str, dict[str, Any]] = {"inports": {}, "outports": {}}
    for kind in exported:
        for name in draw(st.lists(st.sampled_from(["a", "B", "port_c", "d-1"]), max_size=3, unique_by=str.lower)):
            n, p = draw(node), draw(ports)
            if draw(st.booleans()):
                exported[kind][name] = f"{n}.{p}"
            else:
                long: dict[str, Any] = {"node": n, "port": p}
                if draw(st.booleans()):
                    long["port_type"] = draw(PORT_TYPES)
                if draw(st.booleans()):
                    long["metadata"] = draw(st.dictionaries(st.sampled_from(["doc"]), JSON, max_size=1))
                exported[kind][name] = long
        if exported[kind]:
            spec[kind] = exported[kind]
    initials = []
    for position in range(draw(st.integers(0, 4))):
        item = {"to": f"{draw(node)}.{draw(ports)}", "data": draw(DATA_SUGAR)}
        if exported["inports"] and draw(st.booleans()):
            item["inport"] = draw(st.sampled_from(sorted(exported["inports"])))
            if draw(st.booleans()):
                del item["to"]
            if draw(st.booleans()):
                item["edge"] = {"metadata": draw(st.none() | st.just({"doc": 1}))}
        if draw(st.integers(0, 3)) == 0:
            item["index"] = draw(st.integers(0, 6))
        if draw(st.integers(0, 3)) == 0:
            item["metadata"] = {"why": position}
        initials.append(item)
    if initials:
        spec["initial"] = initials
    groups = {}
    for group_id in draw(st.lists(st.text(string.ascii_lowercase, min_size=1, max_size=3), max_size=2, unique=True)):
        members = draw(st.lists(node, max_size=3, unique=True))
        groups[group_id] = members if draw(st.booleans()) else {"nodes": members, "metadata": {"color": "red"}}
    if groups:
        spec["groups"] = groups
    return spec


def _yaml_text(spec: dict[str, Any]) -> str:
    """``spec`` as YAML the way a generic dumper writes it (not our pretty printer)."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = None
    stream = io.StringIO()
    yaml.dump(spec, stream)
    return stream.getvalue()


@SETTINGS
@given(specs())
def test_random_specs_survive_graph_json_and_back(tmp_path_factory: pytest.TempPathFactory, raw: dict[str, Any]) -> None:
    folder = tmp_path_factory.mktemp("rt")
    loaded = load_pipeline(write(folder, "spec.yaml", _yaml_text(raw)), components=False)
    assume(loaded.spec is not None and loaded.ok)
    first = loaded.spec
    assert loaded.graph is not None
    export_text = dump_graph(spec_to_graph(first))
    from_json = load_pipeline(write(folder, "graph.json", export_text), components=False)
    assert from_json.ok, from_json.diagnostics
    assert from_json.spec == first
    for fmt, suffix in (("yaml", ".yaml"), ("json", ".spec.json")):
        again = load_pipeline(write(folder, "again" + suffix, dump_spec(first, fmt)), components=False)
        assert again.ok, again.diagnostics
        assert again.spec == first, fmt


def test_sugar_and_short_forms_read_as_their_long_forms(tmp_path: Path) -> None:
    text = """
version: 1
case_sensitive: false
nodes:
  a: {component: x, config: {}, on_error: fail}
  b: {component: y}
connections:
  - a.OUT[2] -> b.In
  - {from: {node: b, port: out}, to: a.in, capacity: 3, metadata: {}}
initial:
  - {to: a.IN, data: 42}
  - {to: a.in, data: {type: Integer, data: 7}, index: 1}
  - {to: a.in, data: {type: Nope, data: 1}}
  - {to: a.in, data: {type: Flow}}
  - {to: a.in, data: [1, 2]}
  - {to: a.in, data: null}
  - {to: a.in, data: yes}
outports: {Result: b.OUT}
"""
    spec = load_pipeline(write(tmp_path, "s.yaml", text), components=False).spec
    assert spec is not None
    assert spec["nodes"]["a"] == {"component": "x", "on_error": "fail"}  # {} config reads as none here
    assert spec["connections"] == [
        {"from": {"node": "a", "port": "out", "index": 2}, "to": {"node": "b", "port": "in"}},
        {"from": {"node": "b", "port": "out"}, "to": {"node": "a", "port": "in"}, "capacity": 3},
    ]
    assert [i["data"] for i in spec["initial"]] == [
        {"type": "Integer", "data": 42},
        {"type": "Integer", "data": 7},
        {"type": "Object", "data": {"type": "Nope", "data": 1}},
        {"type": "Flow"},
        {"type": "Array", "data": [1, 2]},
        {"type": "Optional", "data": None},
        {"type": "String", "data": "yes"},
    ]
    assert "index" not in spec["initial"][1]  # equal to its position
    assert spec["outports"] == {"result": {"node": "b", "port": "out"}}
    assert spec["name"] == "s"  # the file's stem


def test_the_export_puts_reflow_keys_under_metadata_reflow(tmp_path: Path) -> None:
    text = """
version: 1
nodes:
  a: {component: x, config: {k: 1}, on_error: continue, description: first, metadata: {x: 3}}
  b: {component: y}
connections:
  - {from: a.out, to: b.in, capacity: 5, metadata: {label: l}}
"""
    loaded = load_pipeline(write(tmp_path, "s.yaml", text), components=False)
    assert loaded.graph is not None
    export = loaded.graph.to_json()
    assert export["processes"]["a"]["metadata"] == {
        "k": 1,
        "reflow": {"description": "first", "metadata": {"x": 3}, "on_error": "continue"},
    }
    assert export["processes"]["b"]["metadata"] is None
    assert export["connections"][0]["metadata"] == {"label": "l", "reflow": {"capacity": 5}}
    assert export["caseSensitive"] is True


def test_error_policies_and_retry_settings_reach_the_graph(tmp_path: Path) -> None:
    text = "version: 1\nnodes:\n  a: {component: x, on_error: retry, retry: {count: 2, backoff: 0.5}, replicas: 2}\n"
    loaded = load_pipeline(write(tmp_path, "s.yaml", text), components=False)
    assert loaded.ok and loaded.graph is not None
    assert loaded.graph.to_json()["processes"]["a"]["metadata"] == {
        "reflow": {"on_error": "retry", "retry": {"count": 2, "backoff": 0.5}, "replicas": 2}
    }
    assert loaded.spec is not None and loaded.spec["nodes"]["a"]["retry"] == {"count": 2, "backoff": 0.5}


def test_message_tags_all_round_trip(tmp_path: Path) -> None:
    samples = {
        "Flow": None, "Event": {"e": 1}, "Boolean": True, "Integer": -3, "Float": 0.5, "String": "s",
        "Object": [1], "Array": [], "Bytes": [0, 255], "StreamHandle": {"stream_id": 1, "origin_actor": "a",
        "origin_port": "p", "content_type": None, "size_hint": None}, "Encoded": [1], "Optional": 3, "Any": None,
        "Error": "boom", "RemoteReference": {"network_id": "n", "actor_id": "a", "port": "p"},
        "NetworkEvent": {"event_type": "NetworkConnected", "data": None},
    }
    assert set(samples) == set(MESSAGE_TAGS)
    g = Graph("tags", True)
    g.add_node("n", "tpl")
    for tag, data in samples.items():
        g.add_initial("n", "in", {"type": tag} if tag == "Flow" else {"type": tag, "data": data})
    export = g.to_json()
    text = dump_spec(graph_to_spec(g), "yaml")
    back = load_pipeline(write(tmp_path, "tags.yaml", text), components=False)
    assert back.ok and back.spec is not None
    assert canonical(spec_to_graph(back.spec).to_json()) == canonical(export)


# -- the command ------------------------------------------------------------------------------


def test_convert_command_both_ways(tmp_path: Path) -> None:
    source = DATA / "demo.json"
    as_yaml = run_reflow("convert", str(source))
    assert as_yaml.returncode == 0, as_yaml.stderr
    assert as_yaml.stdout.startswith("# yaml-language-server: $schema=")
    yaml_path = write(tmp_path, "demo.yaml", as_yaml.stdout)
    out = tmp_path / "demo.json"
    done = run_reflow("convert", str(yaml_path), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == json.loads(source.read_text())
    as_json = run_reflow("convert", str(yaml_path), "--to", "json")
    assert json.loads(as_json.stdout) == json.loads(source.read_text())
    again = run_reflow("convert", str(yaml_path), "--to", "yaml")
    assert again.stdout == as_yaml.stdout


def test_convert_keeps_ids_a_spec_may_not_have(tmp_path: Path) -> None:
    source = DATA / "unicode_and_properties.json"
    as_yaml = run_reflow("convert", str(source), "-o", str(tmp_path / "u.yaml"))
    assert as_yaml.returncode == 0, as_yaml.stderr
    back = run_reflow("convert", str(tmp_path / "u.yaml"), "--to", "json")
    assert back.returncode == 0
    assert "E002" in back.stderr and "converted all the same" in back.stderr  # validate would say so too
    assert json.loads(back.stdout) == json.loads(source.read_text())


def test_convert_refuses_an_invalid_file(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", "version: 1\nnodes: {a: {component: x}}\nconnections: [a.out -> nowhere.in]\n")
    done = run_reflow("convert", str(bad))
    assert done.returncode == 1
    assert "E011" in done.stderr and done.stdout == ""
    assert run_reflow("convert", str(tmp_path / "missing.yaml")).returncode == 2
