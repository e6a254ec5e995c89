"""compose_graphs: for each case the exact input dict and the returned GraphExport dict (or
the error).  Input graph exports are produced by the reference's own Graph.to_json()."""

from __future__ import annotations

from typing import Any, Callable

from _harness import case, describe_exc, encode, note
from offbit_reflow import Graph, compose_graphs

GOLDEN = "compose.json"
ABOUT = __doc__


def export(
    name: str,
    nodes: list[tuple[str, str, Any]],
    connections: list[tuple[str, str, str, str]] = (),  # type: ignore[assignment]
    iips: list[tuple[str, str, Any]] = (),  # type: ignore[assignment]
    inports: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
    outports: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
    groups: list[tuple[str, list[str]]] = (),  # type: ignore[assignment]
    properties: dict[str, Any] | None = None,
    case_sensitive: bool = False,
) -> dict[str, Any]:
    g = Graph(name, case_sensitive)
    for node, component, metadata in nodes:
        g.add_node(node, component, metadata)
    for connection in connections:
        g.add_connection(*connection)
    for node, port, data in iips:
        g.add_initial(node, port, data)
    for port, node, key in inports:
        g.add_inport(port, node, key)
    for port, node, key in outports:
        g.add_outport(port, node, key)
    for group, members in groups:
        g.add_group(group, members)
    if properties:
        g.set_properties(properties)
    out = g.to_json()
    if properties:
        out["properties"] = {**out["properties"], **properties}
    return out


def gsrc(**kw: Any) -> dict[str, Any]:
    return export(
        kw.pop("name", "gsrc"),
        [("src", "tpl_src", {"x": 1})],
        iips=[("src", "in", {"type": "Integer", "data": 7})],
        outports=[("out", "src", "out")],
        groups=[("grpL", ["src"])],
        **kw,
    )


def gsink(**kw: Any) -> dict[str, Any]:
    return export(kw.pop("name", "gsink"), [("sink", "tpl_sink", None)], inports=[("in", "sink", "in")], **kw)


CROSS = [{"from": {"process": "gsrc/src", "port": "out"}, "to": {"process": "gsink/sink", "port": "in"}}]


def compose(spec: dict[str, Any]) -> dict[str, Any]:
    note("compose_graphs(...)")
    try:
        result = compose_graphs(spec)
    except BaseException as exc:  # noqa: BLE001
        return {"input": encode(spec), "error": describe_exc(exc)}
    return {"input": encode(spec), "output": encode(result)}


def spec(graphs: list[Any], connections: list[Any] = (), shared: list[Any] = (), **extra: Any) -> dict[str, Any]:  # type: ignore[assignment]
    out = {
        "graphs": graphs,
        "connections": list(connections),
        "shared_resources": list(shared),
        "properties": {"name": "pipeline"},
        "case_sensitive": False,
    }
    out.update(extra)
    return out


CASES: list[tuple[str, Callable[[], dict[str, Any]]]] = [
    ("readme_cross_connection", lambda: spec([gsrc(), gsink()], CROSS)),
    (
        "cross_connection_with_index_and_metadata",
        lambda: spec(
            [gsrc(), gsink()],
            [
                {
                    "from": {"process": "gsrc/src", "port": "out", "index": 1},
                    "to": {"process": "gsink/sink", "port": "in", "index": 2},
                    "metadata": {"w": 1},
                }
            ],
        ),
    ),
    (
        "unknown_cross_endpoints",
        lambda: spec(
            [gsrc(), gsink()],
            [
                {"from": {"process": "gsrc/nope", "port": "out"}, "to": {"process": "gsink/sink", "port": "in"}},
                {"from": {"process": "src", "port": "out"}, "to": {"process": "sink", "port": "in"}},
            ],
        ),
    ),
    ("sanitised_name", lambda: spec([export("my graph-1!", [("a", "tpl_a", None)])])),
    ("name_with_unicode_and_edges", lambda: spec([export("__Ünï code__", [("a", "tpl_a", None)])])),
    (
        "namespace_override",
        lambda: spec([export("orig", [("a", "tpl_a", None)], properties={"namespace": "custom"})]),
    ),
    (
        "reserved_names",
        lambda: spec(
            [
                export("system", [("a", "tpl", None)]),
                export("shared", [("b", "tpl", None)]),
                export("global", [("c", "tpl", None)]),
                export("System", [("d", "tpl", None)]),
            ]
        ),
    ),
    ("empty_name", lambda: spec([export("", [("a", "tpl_a", None)])])),
    (
        "same_name_twice",
        lambda: spec([export("same", [("a", "tpl", None)]), export("same", [("b", "tpl", None)])]),
    ),
    (
        "shared_resources",
        lambda: spec(
            [gsrc()],
            shared=[
                {"name": "db", "component": "tpl_db", "metadata": {"url": "x"}},
                {"name": "cache", "component": "tpl_cache"},
            ],
        ),
    ),
    ("shared_resource_missing_component", lambda: spec([gsrc()], shared=[{"name": "db"}])),
    (
        "dependencies_order",
        lambda: spec(
            [
                export("first", [("a", "tpl", None), ("b", "tpl", None)], [("a", "o", "b", "i")],
                       properties={"dependencies": ["second"]}),
                export("second", [("c", "tpl", None), ("d", "tpl", None)], [("c", "o", "d", "i")],
                       properties={"dependencies": ["third"]}),
                export("third", [("e", "tpl", None), ("f", "tpl", None)], [("e", "o", "f", "i")]),
            ]
        ),
    ),
    (
        "no_dependencies_order",
        lambda: spec(
            [
                export("first", [("a", "tpl", None), ("b", "tpl", None)], [("a", "o", "b", "i")]),
                export("second", [("c", "tpl", None), ("d", "tpl", None)], [("c", "o", "d", "i")]),
                export("third", [("e", "tpl", None), ("f", "tpl", None)], [("e", "o", "f", "i")]),
            ]
        ),
    ),
    (
        "missing_dependency",
        lambda: spec([export("first", [("a", "tpl", None)], properties={"dependencies": ["zzz"]})]),
    ),
    (
        "circular_dependency",
        lambda: spec(
            [
                export("x", [("a", "tpl", None)], properties={"dependencies": ["y"]}),
                export("y", [("b", "tpl", None)], properties={"dependencies": ["x"]}),
            ]
        ),
    ),
    ("case_sensitive_true", lambda: mixed_case(True)),
    ("case_sensitive_false", lambda: mixed_case(False)),
    ("case_sensitive_default", lambda: {k: v for k, v in mixed_case(False).items() if k != "case_sensitive"}),
    ("bad_connection_missing_port", lambda: spec([gsrc(), gsink()], [{"from": {"process": "gsrc/src"}, "to": {"process": "gsink/sink", "port": "in"}}])),
    ("bad_connection_string_endpoint", lambda: spec([gsrc(), gsink()], [{"from": "gsrc/src.out", "to": {"process": "gsink/sink", "port": "in"}}])),
    ("bad_connection_missing_to", lambda: spec([gsrc(), gsink()], [{"from": {"process": "gsrc/src", "port": "out"}}])),
    ("graph_missing_caseSensitive", lambda: spec([{k: v for k, v in gsrc().items() if k != "caseSensitive"}])),
    ("graphs_not_a_list", lambda: spec("x")),  # type: ignore[arg-type]
    ("only_properties", lambda: {"properties": {"name": "bare"}}),
    ("no_graphs_key", lambda: {"connections": [], "properties": {"name": "nog"}}),
    ("not_a_dict", lambda: "graphs"),  # type: ignore[return-value]
    ("missing_properties_name", lambda: {"graphs": [gsrc()], "properties": {}}),
    ("missing_properties", lambda: {"graphs": [gsrc()]}),
]


def mixed_case(case_sensitive: bool) -> dict[str, Any]:
    left = export(
        "Left",
        [("MyNode", "tpl", None), ("Other", "tpl", None)],
        [("MyNode", "OutPort", "Other", "InPort")],
        iips=[("MyNode", "InPort", {"type": "Integer", "data": 1})],
        outports=[("ExtOut", "Other", "OutPort")],
        case_sensitive=True,
    )
    right = export("Right", [("Sink", "tpl", None)], inports=[("ExtIn", "Sink", "InPort")], case_sensitive=True)
    return spec(
        [left, right],
        [{"from": {"process": "Left/Other", "port": "OutPort"}, "to": {"process": "Right/Sink", "port": "InPort"}}],
        case_sensitive=case_sensitive,
    )


def make(build: Callable[[], Any]) -> Callable[[], Any]:
    return lambda: compose(build())


for _name, _build in CASES:
    case(_name)(make(_build))


def build(results: dict[str, Any]) -> dict[str, Any]:
    return {"_about": {"text": ABOUT}, "cases": results}
