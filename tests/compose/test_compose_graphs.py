"""``compose_graphs``: namespacing, cross-graph wiring, shared resources, dependencies, every error.

The rules are in docs/compose.md; the goldens of the reference are replayed
in ``test_golden.py``. Here: what the goldens do not pin down, and that a
composed export *runs* (the reference's ``Network.from_graph`` aborts).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from reflow_cli import Graph, Message, Network, RunState, compose_graphs
from reflow_cli.compose import namespace_for, sanitise
from reflow_cli.errors import (
    CompositionConnectionError,
    CompositionError,
    CompositionFormatError,
    CompositionPortError,
    DependencyCycleError,
    DependencyError,
    NamespaceConflictError,
    SharedResourceConflictError,
)

from ._helpers import Emit, Sink, Times, export


def request(graphs: list[Any], connections: list[Any] = (), shared: list[Any] = (), **extra: Any) -> dict[str, Any]:  # type: ignore[assignment]
    out = {"graphs": graphs, "connections": list(connections), "shared_resources": list(shared),
           "properties": {"name": "pipeline"}, "case_sensitive": False}
    out.update(extra)
    return out


def link(source: str, source_port: str, target: str, target_port: str, **extra: Any) -> dict[str, Any]:
    return {"from": {"process": source, "port": source_port}, "to": {"process": target, "port": target_port}, **extra}


def gsrc(**kw: Any) -> dict[str, Any]:
    return export(kw.pop("name", "gsrc"), [("src", "tpl_src")], iips=[("src", "in", {"type": "Integer", "data": 7})],
                  outports=[("out", "src", "out")], **kw)


def gsink(**kw: Any) -> dict[str, Any]:
    return export(kw.pop("name", "gsink"), [("sink", "tpl_sink")], inports=[("in", "sink", "in")], **kw)


# -- namespacing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "namespace"),
    [("ingest", "ingest"), ("my graph-1!", "my_graph_1"), ("__Ünï code__", "Ünï_code"), ("a.b/c", "a_b_c"),
     ("system", "system_1"), ("shared", "shared_1"), ("global", "global_1"), ("System", "System"), ("!!", "")],
)
def test_the_namespace_is_the_sanitised_name(name: str, namespace: str) -> None:
    assert namespace_for(name) == namespace
    if name.lower() not in ("system", "shared", "global"):
        assert sanitise(name) == namespace


def test_properties_namespace_overrides_the_name() -> None:
    assert namespace_for("orig", "custom") == "custom"
    assert namespace_for("orig", "my team") == "my_team"
    out = compose_graphs(request([export("orig", [("a", "tpl")], properties={"namespace": "team-a"})]))
    assert list(out["processes"]) == ["team_a/a"]


def test_everything_of_a_graph_is_namespaced() -> None:
    left = export("left", [("a", "tpl"), ("b", "tpl")], [("a", "out", "b", "in")],
                  iips=[("a", "in", {"type": "Integer", "data": 1})], inports=[("feed", "a", "in")],
                  outports=[("result", "b", "out")])
    g = Graph.from_json(left)
    g.add_group("grp", ["a", "b"], {"color": "red"})
    g.add_graph_initial("feed", {"type": "Integer", "data": 2})
    out = compose_graphs(request([g.to_json()]))
    assert sorted(out["processes"]) == ["left/a", "left/b"]
    assert out["processes"]["left/a"]["id"] == "left/a"
    first = out["connections"][0]
    assert (first["from"]["nodeId"], first["to"]["nodeId"]) == ("left/a", "left/b")
    assert out["groups"] == [{"id": "left/grp", "metadata": {"color": "red"}, "nodes": ["left/a", "left/b"]}]
    assert out["inports"]["left/feed"]["nodeId"] == "left/a"
    assert out["inports"]["left/feed"]["portId"] == "left/feed"
    assert out["inports"]["left/feed"]["portName"] == "in"
    assert out["outports"]["left/result"]["portName"] == "out"
    iips = [entry for entry in out["connections"] if entry["data"] is not None]
    assert [(i["to"]["nodeId"], i["to"]["portId"], i["to"]["portName"]) for i in iips] == [
        ("left/a", "in", ""),
        ("left/a", "left/feed", "in"),  # sent through the (namespaced) graph inport
    ]
    assert [i["to"]["index"] for i in iips] == [0, 1]
    assert out["properties"] == {"name": "pipeline"}


def test_iip_indexes_count_across_graphs() -> None:
    out = compose_graphs(request([gsrc(), gsrc(name="other")]))
    iips = [entry for entry in out["connections"] if entry["data"] is not None]
    assert [(i["to"]["nodeId"], i["to"]["index"]) for i in iips] == [("gsrc/src", 0), ("other/src", 1)]


def test_the_result_is_a_graph_export_and_round_trips() -> None:
    out = compose_graphs(request([gsrc(), gsink()], [link("gsrc/src", "out", "gsink/sink", "in")]))
    assert Graph.from_json(out).to_json() == out
    assert list(out) == ["caseSensitive", "connections", "groups", "inports", "outports", "processes", "properties"]


def test_graph_objects_are_accepted_too() -> None:
    out = compose_graphs(request([Graph.from_json(gsrc())]))
    assert list(out["processes"]) == ["gsrc/src"]


def test_request_properties_are_kept() -> None:
    out = compose_graphs({"graphs": [], "properties": {"name": "p", "description": "d", "owner": "team"}})
    assert out["properties"] == {"description": "d", "name": "p", "owner": "team"}


# -- connections -------------------------------------------------------------------------------------


def test_a_connection_may_name_a_graph_and_its_exported_ports() -> None:
    out = compose_graphs(request([gsrc(), gsink()], [link("gsrc", "out", "gsink", "in")]))
    cross = out["connections"][0]
    assert (cross["from"]["nodeId"], cross["from"]["portId"]) == ("gsrc/src", "out")
    assert (cross["to"]["nodeId"], cross["to"]["portId"]) == ("gsink/sink", "in")


def test_cross_connections_keep_metadata_and_capacity() -> None:
    meta = {"reflow": {"capacity": 8}, "label": "x"}
    out = compose_graphs(request([gsrc(), gsink()], [link("gsrc/src", "out", "gsink/sink", "in", metadata=meta)]))
    assert out["connections"][0]["metadata"] == meta


def test_an_identical_repeated_connection_is_one_connection() -> None:
    wire = link("gsrc/src", "out", "gsink/sink", "in")
    out = compose_graphs(request([gsrc(), gsink()], [wire, dict(wire)]))
    assert len([c for c in out["connections"] if c["data"] is None]) == 1


# -- every error names both sides ----------------------------------------------------------------------


def raises(cls: type[CompositionError], spec: dict[str, Any], *mentions: str) -> CompositionError:
    with pytest.raises(cls) as info:
        compose_graphs(spec)
    for text in mentions:
        assert text in str(info.value), (text, str(info.value))
    return info.value


def test_two_graphs_with_one_namespace() -> None:
    exc = raises(NamespaceConflictError, request([gsrc(), gsrc(name="gsrc")]), "graph #1 ('gsrc')", "graph #2 ('gsrc')", "'gsrc'")
    assert isinstance(exc, ValueError)
    raises(NamespaceConflictError, request([gsrc(name="a b"), gsrc(name="a-b")]), "graph #1 ('a b')", "graph #2 ('a-b')", "'a_b'")
    raises(NamespaceConflictError, request([gsrc(name="x"), gsrc(name="y", properties={"namespace": "x"})]), "'x'")


def test_a_name_without_a_namespace() -> None:
    raises(NamespaceConflictError, request([gsrc(name="")]), "graph #1 ('')", "no namespace")
    raises(NamespaceConflictError, request([gsrc(name="---")]), "graph #1 ('---')")


def test_a_connection_naming_an_unknown_process() -> None:
    exc = raises(CompositionConnectionError, request([gsrc(), gsink()], [link("gsrc/src", "out", "gsink/snk", "in")]),
                 "gsrc/src.out -> gsink/snk.in", "'gsink/snk'", "did you mean 'gsink/sink'?")
    assert isinstance(exc, ValueError)
    raises(CompositionConnectionError, request([gsrc(), gsink()], [link("src", "out", "sink", "in")]),
           "src.out -> sink.in", "'src'")


def test_a_connection_naming_a_port_a_graph_does_not_export() -> None:
    raises(CompositionPortError, request([gsrc(), gsink()], [link("gsrc", "outt", "gsink", "in")]),
           "gsrc.outt -> gsink.in", "graph 'gsrc' exports no outport 'outt'", "did you mean 'out'?")


def test_ports_of_known_components_are_checked() -> None:
    left = export("left", [("p", "tpl_passthrough")])
    right = export("right", [("q", "tpl_passthrough")])
    exc = raises(CompositionPortError, request([left, right], [link("left/p", "out", "right/q", "input")]),
                 "left/p.out -> right/q.input", "'left/p' (tpl_passthrough) has no outport 'out'", "its outports are: output")
    assert isinstance(exc, CompositionConnectionError)
    raises(CompositionPortError, request([left, right], [link("left/p", "output", "right/q", "output")]),
           "has no inport 'output'")
    # unknown components are checked when the network starts
    out = compose_graphs(request([gsrc(), gsink()], [link("gsrc/src", "anything", "gsink/sink", "whatever")]))
    assert out["connections"][0]["from"]["portId"] == "anything"


def test_a_missing_dependency_is_not_called_circular() -> None:
    first = export("first", [("a", "tpl")], properties={"dependencies": ["zzz"]})
    exc = raises(DependencyError, request([first]), "graph #1 ('first') depends on 'zzz'", "not one of the composed graphs")
    assert isinstance(exc, RuntimeError) and not isinstance(exc, DependencyCycleError)
    assert "ircular" not in str(exc)


def test_a_dependency_cycle_names_it() -> None:
    x = export("x", [("a", "tpl")], properties={"dependencies": ["y"]})
    y = export("y", [("b", "tpl")], properties={"dependencies": ["x"]})
    exc = raises(DependencyCycleError, request([x, y]), "'x' -> 'y' -> 'x'", "graph #1 ('x')", "graph #2 ('y')")
    assert isinstance(exc, DependencyError) and isinstance(exc, RuntimeError)
    raises(DependencyCycleError, request([export("self", [("a", "t")], properties={"dependencies": ["self"]})]),
           "'self' -> 'self'")


def test_conflicting_shared_resources() -> None:
    shared = [{"name": "db", "component": "tpl_db", "metadata": {"url": "a"}},
              {"name": "db", "component": "tpl_db", "metadata": {"url": "b"}}]
    exc = raises(SharedResourceConflictError, request([gsrc()], shared=shared), "'db'", "#1", "#2", "'url': 'a'", "'url': 'b'")
    assert isinstance(exc, ValueError)
    raises(SharedResourceConflictError, request([gsrc()], shared=[{"name": "gsrc", "component": "tpl"}]),
           "'gsrc'", "graph #1 ('gsrc')")
    raises(SharedResourceConflictError, request([gsrc()], shared=[{"name": "gsrc/src", "component": "tpl"}]), "'gsrc/src'")


def test_an_identical_shared_resource_listed_twice_is_one() -> None:
    shared = [{"name": "db", "component": "tpl_db"}, {"name": "db", "component": "tpl_db"}]
    out = compose_graphs(request([gsrc()], shared=shared))
    assert out["processes"]["db"] == {"component": "tpl_db", "id": "db", "metadata": None}


@pytest.mark.parametrize(
    ("spec", "mentions"),
    [
        ({"graphs": [], "properties": {}}, ["missing field `name`", "properties"]),
        ({"graphs": []}, ["missing field `properties`"]),
        ({"properties": {"name": 5}}, ["expected a string", "properties.name"]),
        ({"graphs": "x", "properties": {"name": "p"}}, ['string "x"', "expected a sequence"]),
        ({"graphs": [{"properties": {"name": "a"}}], "properties": {"name": "p"}}, ["missing field `caseSensitive`", "graphs[0]"]),
        ({"connections": [{"from": {"process": "a"}, "to": {"process": "b", "port": "in"}}], "properties": {"name": "p"}},
         ["missing field `port`", "connections[0].from"]),
        ({"connections": [{"from": "a.out", "to": {"process": "b", "port": "in"}}], "properties": {"name": "p"}},
         ['string "a.out"', "connections[0].from"]),
        ({"shared_resources": [{"name": "db"}], "properties": {"name": "p"}}, ["missing field `component`"]),
        ({"properties": {"name": "p"}, "case_sensitive": "yes"}, ["expected a boolean"]),
        ("graphs", ["invalid type", 'string "graphs"']),
    ],
)
def test_malformed_requests(spec: Any, mentions: list[str]) -> None:
    exc = raises(CompositionFormatError, spec, "composition parse: ", *mentions)
    assert isinstance(exc, ValueError)


def test_errors_are_raised_before_anything_is_returned_and_inputs_stay_untouched() -> None:
    graphs = [gsrc(), gsink()]
    before = repr(graphs)
    compose_graphs(request(graphs, [link("gsrc/src", "out", "gsink/sink", "in", metadata={"m": [1]})]))
    assert repr(graphs) == before


# -- shared resources and dependencies ------------------------------------------------------------------


def test_shared_resources_are_unprefixed_processes_graphs_can_wire_to() -> None:
    shared = [{"name": "db", "component": "tpl_db", "metadata": {"url": "x"}}]
    out = compose_graphs(request([gsrc(), gsink()], [link("gsrc/src", "out", "db", "in"), link("db", "out", "gsink", "in")], shared))
    assert out["processes"]["db"] == {"component": "tpl_db", "id": "db", "metadata": {"url": "x"}}
    wires = [(c["from"]["nodeId"], c["to"]["nodeId"]) for c in out["connections"] if c["data"] is None]
    assert wires == [("gsrc/src", "db"), ("db", "gsink/sink")]


def test_dependencies_order_the_graphs_and_may_name_namespaces() -> None:
    a = export("A team", [("a", "t"), ("b", "t")], [("a", "o", "b", "i")], properties={"dependencies": ["B_team"]})
    b = export("B team", [("c", "t"), ("d", "t")], [("c", "o", "d", "i")], properties={"dependencies": ["C team"]})
    c = export("C team", [("e", "t"), ("f", "t")], [("e", "o", "f", "i")])
    out = compose_graphs(request([a, b, c]))
    assert [entry["from"]["nodeId"] for entry in out["connections"]] == ["C_team/e", "B_team/c", "A_team/a"]


# -- case sensitivity ----------------------------------------------------------------------------------------


def mixed(case_sensitive: bool) -> dict[str, Any]:
    left = export("Left", [("MyNode", "tpl"), ("Other", "tpl")], [("MyNode", "OutPort", "Other", "InPort")],
                  outports=[("ExtOut", "Other", "OutPort")], case_sensitive=True)
    right = export("Right", [("Sink", "tpl")], inports=[("ExtIn", "Sink", "InPort")], case_sensitive=True)
    return request([left, right], [link("Left", "ExtOut", "Right", "ExtIn")], case_sensitive=case_sensitive)


def test_case_sensitive_compositions_keep_port_case() -> None:
    out = compose_graphs(mixed(True))
    assert out["caseSensitive"] is True
    assert set(out["outports"]) == {"Left/ExtOut"} and set(out["inports"]) == {"Right/ExtIn"}
    cross = out["connections"][1]
    assert (cross["from"]["portId"], cross["to"]["portId"]) == ("OutPort", "InPort")


def test_case_insensitive_compositions_lower_case_ports_but_not_nodes() -> None:
    out = compose_graphs(mixed(False))
    assert out["caseSensitive"] is False
    assert set(out["outports"]) == {"left/extout"} and set(out["inports"]) == {"right/extin"}
    assert set(out["processes"]) == {"Left/MyNode", "Left/Other", "Right/Sink"}
    # an exported port is found whatever its case when the composition ignores case
    request_ = mixed(False)
    request_["connections"] = [link("Left", "extout", "Right", "EXTIN")]
    assert compose_graphs(request_)["connections"][1]["to"]["portId"] == "inport"


def test_upper_case_ports_run_in_a_case_sensitive_composition() -> None:
    class Up(Times):
        inports = ["IN"]
        outports = ["OUT"]

        def run(self, ctx: Any) -> None:
            ctx.done({"OUT": Message.integer(ctx.inputs["IN"]["data"] * 2)})

    sink = Sink()
    left = export("Left", [("up", "tpl_up")], iips=[("up", "IN", {"type": "Integer", "data": 4})],
                  outports=[("OUT", "up", "OUT")], case_sensitive=True)
    right = export("Right", [("k", "tpl_k")], inports=[("IN", "k", "in")], case_sensitive=True)
    composed = compose_graphs(request([left, right], [link("Left", "OUT", "Right", "IN")], case_sensitive=True))
    net = Network.from_graph(Graph.from_json(composed))
    net.register_actor("tpl_up", Up())
    net.register_actor("tpl_k", sink)
    assert net.run(timeout=10).state is RunState.COMPLETE
    assert sink.items == [8]


# -- the seed README's snippet, only the import changed ------------------------------------------------------


def test_the_readme_composition_snippet_runs_through_from_graph() -> None:
    from reflow_cli import Graph, Network, compose_graphs  # was: from offbit_reflow import ...

    left_export, right_export = gsrc(), gsink()
    composed = compose_graphs({
        "graphs": [left_export, right_export],   # dicts
        "connections": [
            {"from": {"process": "gsrc/src",   "port": "out"},
             "to":   {"process": "gsink/sink", "port": "in"}},
        ],
        "shared_resources": [],
        "properties": {"name": "pipeline"},
        "case_sensitive": False,
    })

    g = Graph.from_json(composed)
    net = Network.from_graph(g)  # the reference aborts the process here

    sink = Sink()
    net.register_actor("tpl_src", Times())
    net.register_actor("tpl_sink", sink)
    assert net.run(timeout=10).state is RunState.COMPLETE
    assert sink.items == [21]  # 7 x 3, as the reference's hand-made probe delivered


# -- a composed run equals the parts wired by hand ----------------------------------------------------------


def producers() -> dict[str, Any]:
    # two emitters fan in to one scaler; its output is the graph's outport
    return export(
        "producers",
        [("odd", "tpl_emit"), ("even", "tpl_emit"), ("scale", "tpl_times")],
        [("odd", "out", "scale", "in"), ("even", "out", "scale", "in")],
        iips=[("odd", "in", {"type": "Array", "data": [1, 3, 5, 7]}), ("even", "in", {"type": "Array", "data": [2, 4, 6]})],
        outports=[("numbers", "scale", "out")],
        metadata={"scale": {"by": 10}},
    )


def consumers() -> dict[str, Any]:
    return export("consumers", [("plus", "tpl_times"), ("sink", "tpl_sink")], [("plus", "out", "sink", "in")],
                  inports=[("numbers", "plus", "in")], metadata={"plus": {"by": 2}})


def test_a_composed_run_gives_what_the_parts_wired_by_hand_give() -> None:
    composed_sink, hand_sink = Sink(), Sink()

    composed = compose_graphs(request([producers(), consumers()], [link("producers", "numbers", "consumers", "numbers")]))
    net = Network.from_graph(Graph.from_json(composed))
    for template, actor in (("tpl_emit", Emit), ("tpl_times", Times), ("tpl_sink", composed_sink)):
        net.register_actor(template, actor)
    assert net.run(timeout=10).state is RunState.COMPLETE

    hand = Network()
    for template, actor in (("tpl_emit", Emit), ("tpl_times", Times), ("tpl_sink", hand_sink)):
        hand.register_actor(template, actor)
    hand.add_node("odd", "tpl_emit")
    hand.add_node("even", "tpl_emit")
    hand.add_node("scale", "tpl_times", {"by": 10})
    hand.add_node("plus", "tpl_times", {"by": 2})
    hand.add_node("sink", "tpl_sink")
    hand.add_connection("odd", "out", "scale", "in")
    hand.add_connection("even", "out", "scale", "in")
    hand.add_connection("scale", "out", "plus", "in")
    hand.add_connection("plus", "out", "sink", "in")
    hand.add_initial("odd", "in", Message.array([1, 3, 5, 7]))
    hand.add_initial("even", "in", Message.array([2, 4, 6]))
    assert hand.run(timeout=10).state is RunState.COMPLETE

    # fan-in interleaves freely: compare multisets
    assert Counter(composed_sink.items) == Counter(hand_sink.items) == Counter(v * 20 for v in range(1, 8))
