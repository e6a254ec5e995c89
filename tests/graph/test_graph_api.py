"""The Graph API: every member, every error, and where we deliberately differ from the reference."""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Any

import pytest

from reflow_cli.errors import GraphError, GraphFormatError
from reflow_cli.graph import Graph, GraphConnection, GraphInitial, GraphPort, GraphProcess
from reflow_cli.message import Message

ANY = {"type": "any"}


def edge(node: str, port_id: str, port_name: str = "", index: int | None = None, **extra: Any) -> dict[str, Any]:
    """An exported edge as the reference writes it."""
    base: dict[str, Any] = {
        "data": None,
        "expose": False,
        "index": index,
        "metadata": None,
        "nodeId": node,
        "portId": port_id,
        "portName": port_name,
        "portType": ANY,
    }
    base.update(extra)
    return base


@pytest.fixture
def demo() -> Graph:
    g = Graph("demo")
    g.add_node("src", "tpl_src", {"x": 10})
    g.add_node("sink", "tpl_log")
    g.add_connection("src", "out", "sink", "in", {"route": 1})
    g.add_initial("src", "in", Message.integer(21))
    g.add_inport("in", "src", "in")
    g.add_outport("out", "sink", "out")
    g.add_group("grp1", ["src"], {"color": "red"})
    return g


# -- surface ---------------------------------------------------------------------

# Parameter names measured on offbit-reflow 0.2.9 (inspect.signature of its Graph).
REFERENCE_SIGNATURES = {
    "add_connection": "out_node, out_port, in_node, in_port, metadata=None",
    "add_graph_initial": "inport, data, metadata=None",
    "add_graph_initial_index": "inport, data, index, metadata=None",
    "add_group": "group_id, nodes, metadata=None",
    "add_initial": "node, port, data, metadata=None",
    "add_initial_index": "node, port, data, index, metadata=None",
    "add_inport": "port_id, node_id, port_key, port_type=None, metadata=None",
    "add_node": "id, component, metadata=None",
    "add_outport": "port_id, node_id, port_key, port_type=None, metadata=None",
    "add_to_group": "group_id, node_id",
    "connections": "",
    "get_connection": "out_node, out_port, in_node, in_port",
    "get_node": "id",
    "groups": "",
    "import_graph": "export",
    "initializers": "",
    "inports": "",
    "nodes": "",
    "outports": "",
    "properties": "",
    "remove_connection": "out_node, out_port, in_node, in_port",
    "remove_from_group": "group_id, node_id",
    "remove_graph_initial": "inport",
    "remove_group": "group_id",
    "remove_initial": "node, port",
    "remove_inport": "port_id",
    "remove_node": "id",
    "remove_outport": "port_id",
    "rename_inport": "old_port, new_port",
    "rename_node": "old_id, new_id",
    "rename_outport": "old_port, new_port",
    "set_connection_metadata": "out_node, out_port, in_node, in_port, metadata",
    "set_group_metadata": "group_id, metadata",
    "set_inport_metadata": "port_id, metadata",
    "set_node_metadata": "id, metadata",
    "set_outport_metadata": "port_id, metadata",
    "set_properties": "properties",
    "to_json": "",
}


@pytest.mark.parametrize("name", sorted(REFERENCE_SIGNATURES))
def test_every_reference_member_exists_with_its_signature(name: str) -> None:
    params = list(inspect.signature(getattr(Graph, name)).parameters.values())[1:]  # drop self
    text = ", ".join(p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}" for p in params)
    assert text == REFERENCE_SIGNATURES[name]


def test_from_json_is_static_and_constructor_matches_reference() -> None:
    assert isinstance(inspect.getattr_static(Graph, "from_json"), staticmethod)
    params = inspect.signature(Graph).parameters
    assert [(p.name, p.default) for p in params.values()] == [("name", ""), ("case_sensitive", False)]


def test_every_public_method_has_a_docstring() -> None:
    for name, member in vars(Graph).items():
        if not name.startswith("_"):
            assert inspect.getdoc(member), name


# -- construction and properties ---------------------------------------------------


def test_new_graph_is_empty_and_case_insensitive_by_default() -> None:
    g = Graph()
    assert (g.name, g.case_sensitive) == ("", False)
    assert g.to_json() == {
        "caseSensitive": False,
        "connections": [],
        "groups": [],
        "inports": {},
        "outports": {},
        "processes": {},
        "properties": {"name": ""},
    }
    assert (g.nodes(), g.connections(), g.initializers(), g.groups()) == ([], [], [], [])
    assert (g.inports(), g.outports(), g.properties()) == ({}, {}, {})


def test_constructor_checks_argument_types() -> None:
    with pytest.raises(GraphError, match="graph name must be a str"):
        Graph(5)  # type: ignore[arg-type]
    with pytest.raises(GraphError, match="case_sensitive must be a bool"):
        Graph("x", 1)  # type: ignore[arg-type]


def test_name_and_case_sensitive_are_read_only_properties() -> None:
    g = Graph("n", True)
    with pytest.raises(AttributeError):
        g.name = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        g.case_sensitive = False  # type: ignore[misc]


def test_set_properties_replaces_and_properties_omit_the_name() -> None:
    g = Graph("demo")
    g.set_properties({"a": 1, "nested": {"b": [1]}})
    g.set_properties({"c": 2})  # replaces, as in the reference
    assert g.properties() == {"c": 2}
    assert g.to_json()["properties"] == {"c": 2, "name": "demo"}
    g.set_properties(None)
    assert g.properties() == {}


def test_set_properties_name_renames_the_graph() -> None:
    # Deviation: the reference keeps the name in properties() but exports the old name.
    g = Graph("old")
    g.set_properties({"name": "new", "k": 1})
    assert g.name == "new"
    assert g.properties() == {"k": 1}
    assert g.to_json()["properties"] == {"k": 1, "name": "new"}
    with pytest.raises(GraphError, match="graph name"):
        g.set_properties({"name": 5})


def test_set_properties_refuses_non_dicts_and_non_json_values() -> None:
    g = Graph()
    with pytest.raises(GraphError, match="properties must be a dict"):
        g.set_properties(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no JSON form"):
        g.set_properties({"k": object()})


def test_repr_names_the_graph_and_counts() -> None:
    assert repr(Graph("x")) == "<Graph 'x': 0 nodes, 0 connections, 0 initial packets>"


# -- nodes -------------------------------------------------------------------------


def test_add_node_get_node_and_nodes(demo: Graph) -> None:
    assert demo.get_node("src") == {"component": "tpl_src", "id": "src", "metadata": {"x": 10}}
    assert demo.get_node("nope") is None
    assert demo.get_node(5) is None  # type: ignore[arg-type]
    assert [n["id"] for n in demo.nodes()] == ["src", "sink"]  # insertion order


def test_node_ids_are_case_sensitive_even_in_a_case_insensitive_graph() -> None:
    g = Graph("g", case_sensitive=False)
    g.add_node("MyNode", "tpl")
    assert g.get_node("mynode") is None
    g.add_node("mynode", "tpl")  # a different node
    assert [n["id"] for n in g.nodes()] == ["MyNode", "mynode"]


def test_add_node_twice_raises() -> None:
    # Deviation: the reference silently keeps the first node.
    g = Graph()
    g.add_node("a", "tpl_one")
    with pytest.raises(GraphError, match="node 'a' already exists \\(component 'tpl_one'\\)"):
        g.add_node("a", "tpl_two")
    assert g.get_node("a")["component"] == "tpl_one"  # type: ignore[index]


@pytest.mark.parametrize(
    ("node_id", "component", "message"),
    [
        ("", "tpl", "node id must not be empty"),
        (5, "tpl", "node id must be a str, not int"),
        ("a", 5, "component of node 'a' must be a str"),
    ],
)
def test_add_node_checks_its_arguments(node_id: object, component: object, message: str) -> None:
    with pytest.raises(GraphError, match=message):
        Graph().add_node(node_id, component)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ([1], "metadata of node 'a' must be a dict or None, not list"),
        ("x", "metadata of node 'a' must be a dict or None, not str"),
        ({"k": object()}, "no JSON form"),
        ({"k": b"x"}, "no JSON form"),
        ({1: "v"}, "non-string key"),
    ],
)
def test_metadata_must_be_a_json_dict(metadata: object, message: str) -> None:
    with pytest.raises(GraphError, match=message):
        Graph().add_node("a", "tpl", metadata)  # type: ignore[arg-type]


def test_metadata_is_copied_in_and_out() -> None:
    meta = {"pos": [1, 2]}
    g = Graph()
    g.add_node("a", "tpl", meta)
    meta["pos"].append(3)
    assert g.get_node("a")["metadata"] == {"pos": [1, 2]}  # type: ignore[index]
    g.get_node("a")["metadata"]["pos"].append(4)  # type: ignore[index]
    g.to_json()["processes"]["a"]["metadata"]["pos"].append(5)
    assert g.get_node("a")["metadata"] == {"pos": [1, 2]}  # type: ignore[index]


def test_sets_in_metadata_become_lists() -> None:
    # As in message data (the reference turns Python sets into JSON arrays).
    g = Graph()
    g.add_node("a", "tpl", {"tags": {"x"}})
    assert g.get_node("a")["metadata"] == {"tags": ["x"]}  # type: ignore[index]


def test_set_node_metadata_merges_keys() -> None:
    g = Graph()
    g.add_node("a", "tpl")
    g.set_node_metadata("a", {"x": 1, "y": 2})
    g.set_node_metadata("a", {"y": None, "z": 3})  # a None value is kept, as in the reference
    assert g.get_node("a")["metadata"] == {"x": 1, "y": None, "z": 3}  # type: ignore[index]
    g.set_node_metadata("a", None)  # deviation: the reference empties the metadata
    assert g.get_node("a")["metadata"] == {"x": 1, "y": None, "z": 3}  # type: ignore[index]


def test_remove_node_removes_what_touches_it_including_group_membership(demo: Graph) -> None:
    demo.add_node("other", "tpl")
    demo.add_connection("src", "out", "src", "loop")  # self-loop
    demo.add_connection("other", "out", "src", "in")
    demo.add_group("both", ["src", "other"])
    demo.remove_node("src")
    assert [n["id"] for n in demo.nodes()] == ["sink", "other"]
    assert demo.connections() == [] and demo.initializers() == []
    assert demo.inports() == {} and list(demo.outports()) == ["out"]
    # Deviation: the reference leaves 'src' listed in its groups.
    assert demo.groups() == [
        {"id": "grp1", "metadata": {"color": "red"}, "nodes": []},
        {"id": "both", "metadata": None, "nodes": ["other"]},
    ]
    assert demo.to_json() == Graph.from_json(demo.to_json()).to_json()


def test_remove_node_with_many_connections() -> None:
    # The reference aborts the process ("removal index (is 2) should be < len").
    g = Graph()
    for n in "abc":
        g.add_node(n, "tpl")
    g.add_connection("a", "o", "b", "i")
    g.add_connection("b", "o", "c", "i")
    g.add_connection("a", "o", "a", "i")
    g.add_connection("c", "o", "a", "j")
    g.remove_node("a")
    assert [(c["from"]["nodeId"], c["to"]["nodeId"]) for c in g.connections()] == [("b", "c")]


def test_rename_node_carries_everything_along(demo: Graph) -> None:
    demo.add_node("z", "tpl")
    demo.add_group("g2", ["z", "src", "sink"])
    demo.add_connection("src", "loop", "src", "loop")
    demo.rename_node("src", "source")
    assert demo.get_node("src") is None
    assert demo.get_node("source") == {"component": "tpl_src", "id": "source", "metadata": {"x": 10}}
    assert [(c["from"]["nodeId"], c["to"]["nodeId"]) for c in demo.connections()] == [
        ("source", "sink"),
        ("source", "source"),
    ]
    assert demo.get_connection("source", "out", "sink", "in") is not None
    assert demo.initializers()[0]["to"]["nodeId"] == "source"
    assert demo.inports()["in"]["nodeId"] == "source"
    assert demo.groups()[1]["nodes"] == ["z", "source", "sink"]  # keeps its place
    demo.rename_node("source", "source")  # same id: nothing to do
    demo.remove_connection("source", "loop", "source", "loop")


def test_rename_node_onto_an_existing_node_raises() -> None:
    # Deviation: the reference merges the two nodes.
    g = Graph()
    g.add_node("a", "tpl")
    g.add_node("b", "tpl")
    with pytest.raises(GraphError, match="cannot rename node 'a' to 'b': node 'b' already exists"):
        g.rename_node("a", "b")
    with pytest.raises(GraphError, match="new node id must not be empty"):
        g.rename_node("a", "")


# -- missing ids: errors with hints ---------------------------------------------------

MISSING_ID_CALLS: list[tuple[str, tuple[Any, ...], str]] = [
    ("remove_node", ("srx",), "node 'srx' does not exist; did you mean 'src'?"),
    ("rename_node", ("srx", "x"), "node 'srx' does not exist; did you mean 'src'?"),
    ("set_node_metadata", ("srx", {}), "node 'srx' does not exist; did you mean 'src'?"),
    ("add_connection", ("srx", "out", "sink", "in"), "source node 'srx' does not exist; did you mean 'src'?"),
    ("add_connection", ("src", "out", "snk", "in"), "target node 'snk' does not exist; did you mean 'sink'?"),
    (
        "remove_connection",
        ("src", "outt", "sink", "in"),
        "connection src.outt -> sink.in does not exist; did you mean 'src.out -> sink.in'?",
    ),
    (
        "set_connection_metadata",
        ("src", "out", "sink", "inn", {}),
        "connection src.out -> sink.inn does not exist; did you mean",
    ),
    ("add_initial", ("srx", "in", Message.flow()), "node 'srx' does not exist; did you mean 'src'?"),
    ("add_initial_index", ("srx", "in", Message.flow(), 0), "node 'srx' does not exist"),
    ("remove_initial", ("src", "inn"), "node 'src' has no initial packet on port 'inn'; did you mean 'in'?"),
    ("remove_initial", ("srx", "in"), "node 'srx' does not exist"),
    ("add_inport", ("x", "srx", "in"), "node 'srx' does not exist; did you mean 'src'?"),
    ("add_outport", ("x", "snk", "out"), "node 'snk' does not exist; did you mean 'sink'?"),
    ("remove_inport", ("inn",), "inport 'inn' does not exist; did you mean 'in'?"),
    ("remove_outport", ("outt",), "outport 'outt' does not exist; did you mean 'out'?"),
    ("rename_inport", ("inn", "x"), "inport 'inn' does not exist; did you mean 'in'?"),
    ("rename_outport", ("outt", "x"), "outport 'outt' does not exist; did you mean 'out'?"),
    ("set_inport_metadata", ("inn", {}), "inport 'inn' does not exist"),
    ("set_outport_metadata", ("outt", {}), "outport 'outt' does not exist"),
    ("add_graph_initial", ("inn", Message.flow()), "inport 'inn' does not exist; did you mean 'in'?"),
    ("add_graph_initial_index", ("inn", Message.flow(), 0), "inport 'inn' does not exist"),
    ("remove_graph_initial", ("inn",), "inport 'inn' does not exist"),
    ("add_group", ("g", ["src", "snk"]), "node 'snk' does not exist; did you mean 'sink'?"),
    ("add_to_group", ("grp2", "src"), "group 'grp2' does not exist; did you mean 'grp1'?"),
    ("add_to_group", ("grp1", "snk"), "node 'snk' does not exist"),
    ("remove_from_group", ("grp2", "src"), "group 'grp2' does not exist; did you mean 'grp1'?"),
    ("remove_from_group", ("grp1", "sink"), "node 'sink' is not in group 'grp1'"),
    ("remove_group", ("grp2",), "group 'grp2' does not exist; did you mean 'grp1'?"),
    ("set_group_metadata", ("grp2", {}), "group 'grp2' does not exist"),
]


@pytest.mark.parametrize(("method", "args", "message"), MISSING_ID_CALLS, ids=[c[0] for c in MISSING_ID_CALLS])
def test_mutators_on_missing_ids_raise_with_a_hint(demo: Graph, method: str, args: tuple, message: str) -> None:
    # Deviation: every one of these is a silent no-op (or a later abort) in the reference.
    before = demo.to_json()
    with pytest.raises(GraphError) as info:
        getattr(demo, method)(*args)
    assert str(info.value).startswith(message)
    assert demo.to_json() == before  # nothing changed


def test_no_hint_when_nothing_is_close(demo: Graph) -> None:
    with pytest.raises(GraphError) as info:
        demo.remove_node("completely-different")
    assert str(info.value) == "node 'completely-different' does not exist"


def test_graph_error_is_a_value_error() -> None:
    # The reference raised ValueError for bad metadata; `except ValueError` keeps working.
    with pytest.raises(ValueError):
        Graph().remove_node("x")


# -- connections -----------------------------------------------------------------------


def test_connections_and_get_connection(demo: Graph) -> None:
    expected = {
        "data": None,
        "from": edge("src", "out"),
        "metadata": {"route": 1},
        "to": edge("sink", "in"),
    }
    assert demo.connections() == [expected]
    assert demo.get_connection("src", "out", "sink", "in") == expected
    assert demo.get_connection("src", "OUT", "sink", "In") == expected  # case-insensitive ports
    assert demo.get_connection("src", "x", "sink", "in") is None
    assert demo.get_connection("src", 5, "sink", "in") is None  # type: ignore[arg-type]


def test_add_connection_twice_raises() -> None:
    # Deviation: the reference ignores the second call (and its metadata).
    g = Graph()
    g.add_node("a", "tpl")
    g.add_node("b", "tpl")
    g.add_connection("a", "out", "b", "in")
    with pytest.raises(GraphError, match=re.escape("connection a.out -> b.in already exists")):
        g.add_connection("a", "OUT", "b", "IN", {"m": 1})


def test_remove_connection_then_add_it_again() -> None:
    # The reference ignores the re-add, or aborts when it was the only connection.
    g = Graph()
    g.add_node("a", "tpl")
    g.add_node("b", "tpl")
    g.add_connection("a", "out", "b", "in")
    g.remove_connection("a", "out", "b", "in")
    assert g.connections() == []
    g.add_connection("a", "out", "b", "in", {"again": True})
    assert g.get_connection("a", "out", "b", "in")["metadata"] == {"again": True}  # type: ignore[index]


def test_set_connection_metadata_merges(demo: Graph) -> None:
    demo.set_connection_metadata("src", "OUT", "sink", "in", {"w": 2})
    demo.set_connection_metadata("src", "out", "sink", "in", None)
    assert demo.get_connection("src", "out", "sink", "in")["metadata"] == {"route": 1, "w": 2}  # type: ignore[index]


def test_case_insensitive_graphs_lower_case_port_ids_only() -> None:
    g = Graph("g", case_sensitive=False)
    g.add_node("Reader", "tpl")
    g.add_node("Writer", "tpl")
    g.add_connection("Reader", "OutPort", "Writer", "InPort")
    g.add_initial("Reader", "Path", Message.string("/x"))
    g.add_inport("MainIn", "Reader", "Path")
    conn = g.connections()[0]
    assert (conn["from"]["nodeId"], conn["from"]["portId"]) == ("Reader", "outport")
    assert (conn["to"]["nodeId"], conn["to"]["portId"]) == ("Writer", "inport")
    assert g.initializers()[0]["to"]["portId"] == "path"
    assert g.inports() == {"mainin": edge("Reader", "mainin", "path")}


def test_case_sensitive_graphs_keep_port_case() -> None:
    g = Graph("g", case_sensitive=True)
    g.add_node("a", "tpl")
    g.add_connection("a", "Out", "a", "In")
    g.add_connection("a", "out", "a", "in")  # a different connection
    assert [(c["from"]["portId"], c["to"]["portId"]) for c in g.connections()] == [("Out", "In"), ("out", "in")]
    assert g.get_connection("a", "OUT", "a", "IN") is None


@pytest.mark.parametrize("port", ["", 5])
def test_ports_must_be_non_empty_strings(port: object) -> None:
    g = Graph()
    g.add_node("a", "tpl")
    with pytest.raises(GraphError, match="port"):
        g.add_connection("a", port, "a", "in")  # type: ignore[arg-type]


# -- initial packets ------------------------------------------------------------------------


def test_add_initial_takes_a_message_or_a_tagged_dict() -> None:
    # Deviation: the reference refuses Message objects (only tagged dicts).
    g = Graph()
    g.add_node("a", "tpl")
    g.add_initial("a", "in", Message.integer(1))
    g.add_initial("a", "in", {"type": "String", "data": "x"}, {"note": "dict"})
    g.add_initial("a", "go", {"type": "Flow"})
    assert g.initializers() == [
        {"data": {"data": 1, "type": "Integer"}, "metadata": None, "to": edge("a", "in", index=0)},
        {"data": {"data": "x", "type": "String"}, "metadata": {"note": "dict"}, "to": edge("a", "in", index=1)},
        {"data": {"type": "Flow"}, "metadata": None, "to": edge("a", "go", index=2)},
    ]
    assert [ip.message for ip in g.iter_initials()] == [Message.integer(1), Message.string("x"), Message.flow()]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (5, "invalid type: integer `5`, expected adjacently tagged enum Message"),
        (None, "invalid type: null"),
        ({"type": "Nope"}, "unknown variant `Nope`"),
        ({"type": "Integer", "data": "7"}, 'invalid type: string "7", expected i64'),
        ({"data": 1}, "missing field `type`"),
    ],
)
def test_add_initial_refuses_data_that_is_not_a_message(data: object, reason: str) -> None:
    # Deviation: the reference stores any data, even 5 or None.
    g = Graph()
    g.add_node("a", "tpl")
    with pytest.raises(GraphError) as info:
        g.add_initial("a", "In", data)
    assert str(info.value).startswith("initial packet for a.in must be a Message or a tagged dict")
    assert reason in str(info.value)


def test_iip_data_is_copied() -> None:
    payload = {"type": "Object", "data": {"k": [1]}}
    g = Graph()
    g.add_node("a", "tpl")
    g.add_initial("a", "in", payload)
    payload["data"]["k"].append(2)  # type: ignore[index]
    assert g.initializers()[0]["data"] == {"data": {"k": [1]}, "type": "Object"}


def test_iip_index_is_the_position_at_the_time_it_was_added() -> None:
    g = Graph()
    g.add_node("a", "tpl")
    for i in range(3):
        g.add_initial("a", f"p{i}", Message.integer(i))
    g.remove_initial("a", "p0")
    g.add_initial("a", "p3", Message.integer(3))
    # Indexes are not renumbered (as in the reference): stale ones stay.
    assert [(ip.port, ip.index) for ip in g.iter_initials()] == [("p1", 1), ("p2", 2), ("p3", 2)]


def test_add_initial_index_stores_the_index() -> None:
    g = Graph()
    g.add_node("a", "tpl")
    g.add_initial("a", "in", Message.integer(0))
    g.add_initial_index("a", "cfg", Message.integer(1), 0, {"m": 1})
    g.add_initial_index("a", "cfg", Message.integer(2), 2)  # == number of IIPs: allowed
    assert [(ip["to"]["portId"], ip["to"]["index"]) for ip in g.initializers()] == [("in", 0), ("cfg", 0), ("cfg", 2)]


@pytest.mark.parametrize(
    ("index", "message"),
    [
        (2, "index 2 of initial packet for a.in is out of range: the graph has 1 initial packet\\(s\\)"),
        (-1, "index -1 of initial packet for a.in is out of range"),
        (True, "index of initial packet for a.in must be an int, not bool"),
        ("0", "must be an int, not str"),
    ],
)
def test_add_initial_index_out_of_range_raises(index: object, message: str) -> None:
    # Deviation: the reference aborts the process ("index out of bounds").
    g = Graph()
    g.add_node("a", "tpl")
    g.add_initial("a", "in", Message.integer(0))
    with pytest.raises(GraphError, match=message):
        g.add_initial_index("a", "in", Message.integer(1), index)  # type: ignore[arg-type]


def test_remove_initial_removes_every_iip_on_the_port() -> None:
    g = Graph()
    g.add_node("a", "tpl")
    g.add_initial("a", "in", Message.integer(1))
    g.add_initial("a", "cfg", Message.integer(2))
    g.add_initial("a", "in", Message.integer(3))
    g.remove_initial("a", "IN")
    assert [ip.port for ip in g.iter_initials()] == ["cfg"]
    with pytest.raises(GraphError, match="node 'a' has no initial packet on port 'in'"):
        g.remove_initial("a", "in")


# -- exported ports --------------------------------------------------------------------------


def test_inports_and_outports(demo: Graph) -> None:
    demo.add_inport("B_in", "sink", "in", None, {"doc": "x"})
    assert demo.inports() == {
        "b_in": edge("sink", "b_in", "in", metadata={"doc": "x"}),
        "in": edge("src", "in", "in"),
    }
    assert list(demo.inports()) == ["b_in", "in"]  # sorted by name, as in the reference
    assert demo.outports() == {"out": edge("sink", "out", "out")}


@pytest.mark.parametrize(
    ("port_type", "stored"),
    [
        ({"type": "integer"}, {"type": "integer"}),
        ("integer", {"type": "integer"}),
        ("Integer", {"type": "integer"}),
        ({"type": "Integer"}, {"type": "integer"}),
        ({"type": "object", "value": "Schema"}, {"type": "object", "value": "Schema"}),
        ({"type": "array", "value": "string"}, {"type": "array", "value": {"type": "string"}}),
        (
            {"type": "option", "value": {"type": "array", "value": {"type": "integer"}}},
            {"type": "option", "value": {"type": "array", "value": {"type": "integer"}}},
        ),
        (None, {"type": "any"}),
    ],
)
def test_add_inport_keeps_its_port_type(port_type: object, stored: dict) -> None:
    # Deviation: the reference accepts only the dict form and then exports "any".
    g = Graph()
    g.add_node("a", "tpl")
    g.add_inport("in", "a", "in", port_type)  # type: ignore[arg-type]
    g.add_outport("out", "a", "out", port_type)  # type: ignore[arg-type]
    assert g.inports()["in"]["portType"] == stored
    assert g.outports()["out"]["portType"] == stored
    assert g.iter_inports()[0].port_type == stored
    assert Graph.from_json(g.to_json()).to_json() == g.to_json()


@pytest.mark.parametrize(
    ("port_type", "message"),
    [
        ("tuple", "unknown variant `tuple`, expected one of `any`, `flow`"),
        ("array", 'port type `array` needs a value; pass the dict form {"type": "array", "value": ...}'),
        ({"type": "object"}, "missing field `value`"),
        ({"type": "array", "value": "nope"}, "unknown variant `nope`"),
        ({"type": "integer", "value": 1}, "invalid type: integer `1`, expected unit variant PortType::Integer"),
        (5, "invalid type: integer `5`, expected adjacently tagged enum PortType"),
    ],
)
def test_bad_port_types_raise(port_type: object, message: str) -> None:
    g = Graph()
    g.add_node("a", "tpl")
    with pytest.raises(GraphFormatError) as info:
        g.add_inport("in", "a", "in", port_type)  # type: ignore[arg-type]
    assert str(info.value).startswith(message)
    assert "port_type of inport 'in'" in str(info.value)
    assert isinstance(info.value, RuntimeError)  # as the reference's error


def test_add_inport_twice_raises() -> None:
    # Deviation: the reference overwrites the first inport.
    g = Graph()
    g.add_node("a", "tpl")
    g.add_inport("in", "a", "x")
    with pytest.raises(GraphError, match="inport 'in' already exists"):
        g.add_inport("IN", "a", "y")
    g.add_outport("in", "a", "x")  # outports are a separate namespace


def test_rename_inport_follows_in_port_id_and_graph_iips() -> None:
    g = Graph()
    g.add_node("a", "tpl")
    g.add_inport("in", "a", "port", None, {"m": 1})
    g.add_graph_initial("in", Message.integer(1))
    g.rename_inport("IN", "Entry")
    # Deviation: the reference keeps "in" as the edge's portId.
    assert g.inports() == {"entry": edge("a", "entry", "port", index=0, metadata={"m": 1})}
    assert g.initializers()[0]["to"]["portId"] == "entry"
    g.remove_graph_initial("entry")  # still linked to the renamed inport
    assert g.initializers() == []
    g.rename_inport("entry", "entry")  # same name: nothing to do


def test_rename_exported_port_onto_an_existing_one_raises() -> None:
    # Deviation: the reference silently overwrites the other port.
    g = Graph()
    g.add_node("a", "tpl")
    for kind in ("inport", "outport"):
        getattr(g, f"add_{kind}")("x", "a", "p")
        getattr(g, f"add_{kind}")("y", "a", "q")
        with pytest.raises(GraphError, match=f"cannot rename {kind} 'x' to 'y': {kind} 'y' already exists"):
            getattr(g, f"rename_{kind}")("x", "y")


def test_rename_and_remove_outport() -> None:
    g = Graph()
    g.add_node("a", "tpl")
    g.add_outport("out", "a", "o")
    g.rename_outport("out", "result")
    assert g.outports() == {"result": edge("a", "result", "o")}
    g.remove_outport("result")
    assert g.outports() == {}
    g.remove_node("a")  # the port is no longer linked to the node


def test_set_exported_port_metadata_merges() -> None:
    g = Graph()
    g.add_node("a", "tpl")
    g.add_inport("in", "a", "i", None, {"x": 1})
    g.add_outport("out", "a", "o")
    g.set_inport_metadata("in", {"y": 2})
    g.set_outport_metadata("OUT", {"z": 3})
    assert g.inports()["in"]["metadata"] == {"x": 1, "y": 2}
    assert g.outports()["out"]["metadata"] == {"z": 3}


def test_remove_inport_keeps_the_iips_sent_through_it() -> None:
    # As in the reference: the IIPs still go to the node's port.
    g = Graph()
    g.add_node("a", "tpl")
    g.add_inport("in", "a", "port")
    g.add_graph_initial("in", Message.integer(1))
    g.remove_inport("in")
    assert [(ip.node, ip.port) for ip in g.iter_initials()] == [("a", "port")]
    assert g.initializers()[0]["to"]["portId"] == "in"


# -- graph IIPs ----------------------------------------------------------------------------


def test_add_graph_initial_targets_the_port_behind_the_inport() -> None:
    g = Graph("g", case_sensitive=True)
    g.add_node("A", "tpl")
    g.add_inport("In", "A", "Port", None, {"doc": "entry"})
    g.add_graph_initial("In", Message.integer(1), {"why": "first"})
    g.add_initial("A", "other", Message.integer(2))
    g.add_graph_initial_index("In", Message.integer(3), 1)
    # As in the reference: the IIP edge is a copy of the inport edge, with the IIP's index,
    # and the inport's index becomes the IIP's.
    assert g.initializers() == [
        {
            "data": {"data": 1, "type": "Integer"},
            "metadata": {"why": "first"},
            "to": edge("A", "In", "Port", index=0, metadata={"doc": "entry"}),
        },
        {"data": {"data": 2, "type": "Integer"}, "metadata": None, "to": edge("A", "other", index=1)},
        {
            "data": {"data": 3, "type": "Integer"},
            "metadata": None,
            "to": edge("A", "In", "Port", index=1, metadata={"doc": "entry"}),
        },
    ]
    assert g.inports()["In"]["index"] == 1
    # The engine sees plain IIPs to the node's own port.
    assert [(ip.node, ip.port, ip.index) for ip in g.iter_initials()] == [
        ("A", "Port", 0),
        ("A", "other", 1),
        ("A", "Port", 1),
    ]


def test_add_graph_initial_lower_cases_the_inport_name() -> None:
    # Deviation: the reference does not lower-case this argument, so "IN" misses inport "in".
    g = Graph()
    g.add_node("a", "tpl")
    g.add_inport("In", "a", "p")
    g.add_graph_initial("IN", Message.flow())
    assert len(g.initializers()) == 1


def test_add_graph_initial_checks_data_and_index() -> None:
    g = Graph()
    g.add_node("a", "tpl")
    g.add_inport("in", "a", "p")
    with pytest.raises(GraphError, match=re.escape("initial packet for a.p must be a Message")):
        g.add_graph_initial("in", 5)
    with pytest.raises(GraphError, match="index 1 of initial packet for inport 'in' is out of range"):
        g.add_graph_initial_index("in", Message.flow(), 1)


def test_remove_graph_initial_removes_only_the_iips_sent_through_the_inport() -> None:
    g = Graph()
    g.add_node("a", "tpl")
    g.add_inport("in", "a", "p")
    g.add_graph_initial("in", Message.integer(1))
    g.add_initial("a", "p", Message.integer(2))  # directly to the same node port
    g.remove_graph_initial("in")
    assert [ip.message for ip in g.iter_initials()] == [Message.integer(2)]
    with pytest.raises(GraphError, match="inport 'in' has no initial packet"):
        g.remove_graph_initial("in")


def test_remove_initial_matches_the_port_the_node_receives_on() -> None:
    # Deviation: the reference matches the export's portId (the inport's name for graph IIPs).
    g = Graph()
    g.add_node("a", "tpl")
    g.add_inport("in", "a", "p")
    g.add_graph_initial("in", Message.integer(1))
    g.remove_initial("a", "p")
    assert g.initializers() == []


# -- groups ----------------------------------------------------------------------------------


def test_group_lifecycle() -> None:
    g = Graph()
    for n in "abc":
        g.add_node(n, "tpl")
    g.add_group("grp", ("a", "b"))
    g.add_to_group("grp", "c")
    g.add_to_group("grp", "c")  # already there: nothing happens
    g.remove_from_group("grp", "a")
    assert g.groups() == [{"id": "grp", "metadata": None, "nodes": ["b", "c"]}]
    g.set_group_metadata("grp", {"color": "red"})  # deviation: the reference ignores this
    assert g.groups()[0]["metadata"] == {"color": "red"}
    g.remove_group("grp")
    assert g.groups() == []
    g.remove_node("b")  # no longer linked to the group


@pytest.mark.parametrize(
    ("group_id", "nodes", "message"),
    [
        ("grp", ["a"], "group 'grp' already exists"),
        ("new", ["a", "a"], "group 'new' lists node 'a' twice"),
        ("new", ["ghost"], "node 'ghost' does not exist"),
        ("new", "ab", "nodes of group 'new' must be a list of node ids, not str"),
        ("new", 5, "nodes of group 'new' must be a list of node ids, not int"),
        ("", ["a"], "group id must not be empty"),
    ],
)
def test_add_group_errors(group_id: str, nodes: object, message: str) -> None:
    # Deviation: the reference ignores a duplicate group and keeps unknown or repeated nodes.
    g = Graph()
    g.add_node("a", "tpl")
    g.add_group("grp", ["a"])
    with pytest.raises(GraphError, match=message):
        g.add_group(group_id, nodes)  # type: ignore[arg-type]
    assert g.groups() == [{"id": "grp", "metadata": None, "nodes": ["a"]}]


# -- import_graph --------------------------------------------------------------------------


def test_import_graph_replaces_everything(demo: Graph) -> None:
    other = Graph("other", case_sensitive=True)
    other.add_node("Z", "tpl")
    demo.import_graph(other.to_json())
    assert (demo.name, demo.case_sensitive) == ("other", True)
    assert demo.to_json() == other.to_json()
    demo.add_connection("Z", "OUT", "Z", "IN")  # now case-sensitive
    assert demo.connections()[0]["from"]["portId"] == "OUT"


def test_import_graph_accepts_a_graph_and_json_text(demo: Graph) -> None:
    g = Graph()
    g.import_graph(demo)
    assert g.to_json() == demo.to_json()
    g.add_node("extra", "tpl")  # independent copies
    assert demo.get_node("extra") is None
    h = Graph()
    h.import_graph('{"caseSensitive": true, "properties": {"name": "t"}}')
    assert h.name == "t"


def test_import_graph_is_atomic(demo: Graph) -> None:
    before = demo.to_json()
    bad = demo.to_json()
    bad["connections"].append({"from": edge("src", "out"), "to": edge("ghost", "in")})
    with pytest.raises(GraphError, match="ghost"):
        demo.import_graph(bad)
    assert demo.to_json() == before


# -- engine view -----------------------------------------------------------------------------


def test_engine_view(demo: Graph) -> None:
    demo.add_outport("typed", "src", "Value", "Integer", {"u": "s"})
    assert demo.iter_processes() == [
        GraphProcess("src", "tpl_src", {"x": 10}),
        GraphProcess("sink", "tpl_log", None),
    ]
    assert demo.iter_connections() == [GraphConnection("src", "out", None, "sink", "in", None, {"route": 1})]
    assert demo.iter_initials() == [GraphInitial("src", "in", 0, Message.integer(21), None)]
    assert demo.iter_inports() == [GraphPort("in", "src", "in", {"type": "any"}, None)]
    assert demo.iter_outports() == [
        GraphPort("out", "sink", "out", {"type": "any"}, None),
        GraphPort("typed", "src", "value", {"type": "integer"}, {"u": "s"}),
    ]


@pytest.mark.parametrize("record", [GraphProcess, GraphConnection, GraphInitial, GraphPort])
def test_engine_records_are_frozen_and_slotted(record: type) -> None:
    params = dataclasses.fields(record)
    instance = record(*(None for _ in params))
    assert not hasattr(instance, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(instance, params[0].name, "x")


def test_engine_view_is_a_snapshot(demo: Graph) -> None:
    processes = demo.iter_processes()
    processes[0].metadata["x"] = 99  # type: ignore[index]
    demo.remove_node("sink")
    assert [p.id for p in processes] == ["src", "sink"]
    assert demo.get_node("src")["metadata"] == {"x": 10}  # type: ignore[index]
