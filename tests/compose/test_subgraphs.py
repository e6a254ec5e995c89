"""``SubgraphBuilder``: a Graph JSON export as a component, inlined by ``Network.add_node``.

A node using a subgraph becomes a copy of its nodes (``<node>/<inner>``), so
inner events are the network's, inner failures follow the node's policy, and
two nodes get two independent copies. The reference runs a hidden nested
network instead: its events never reach the outer stream, its failures are
swallowed, and a case-sensitive subgraph with ``IN``/``OUT`` never emits.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from reflow_cli import Actor, Graph, Message, Network, RunState, SubgraphBuilder
from reflow_cli.compose import Subgraph
from reflow_cli.errors import PortError, RegistryError, SubgraphComponentError, SubgraphError

from ._helpers import Boom, Sink, Times, export


class Inc(Actor):
    component = "inc"
    inports = ["in"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        ctx.done({"out": Message.integer(ctx.inputs["in"]["data"] + ctx.config.get("by", 1))})


class _Double(Actor):
    component = "double"
    inports = ["in"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        ctx.done({"out": Message.integer(ctx.inputs["in"]["data"] * 2)})


def dbl_inc(case_sensitive: bool = False, ports: tuple[str, str] = ("in", "out")) -> dict[str, Any]:
    """dbl -> inc, exported as ``ports`` (the reference's probe: 5 -> 11, 10 -> 21)."""
    return export("sub", [("dbl", "my_dbl"), ("inc", "my_inc")], [("dbl", "out", "inc", "in")],
                  inports=[(ports[0], "dbl", "in")], outports=[(ports[1], "inc", "out")], case_sensitive=case_sensitive)


def built(graph_export: dict[str, Any]) -> Subgraph:
    sub = SubgraphBuilder(graph_export)
    sub.register_actor("my_dbl", _Double())
    sub.register_actor("my_inc", Inc)
    return sub.build()


def network_with(subgraph: Subgraph, sink: Sink, **options: Any) -> Network:
    net = Network(**options)
    net.register_actor("tpl_sub", subgraph)
    net.register_actor("tpl_sink", sink)
    return net


def test_the_readme_subgraph_snippet_runs() -> None:
    from reflow_cli import SubgraphBuilder  # was: from offbit_reflow import SubgraphBuilder

    class MyCustom(Actor):
        component = "my_custom"
        inports = ["in"]
        outports = ["out"]

        def run(self, ctx: Any) -> None:
            ctx.done({"out": Message.integer(ctx.inputs["in"]["data"] + 100)})

    graph_export_json = export("stage", [("custom", "my_custom"), ("pass", "tpl_passthrough")],
                               [("custom", "out", "pass", "input")], inports=[("in", "custom", "in")],
                               outports=[("out", "pass", "output")])
    net = Network()

    sub = SubgraphBuilder(graph_export_json)   # dict or parsed object
    sub.register_actor("my_custom", MyCustom())
    sub.fill_from_catalog()                    # resolve bundled components
    sg = sub.build()
    net.register_actor("tpl_sub", sg)

    sink = Sink()
    net.register_actor("tpl_sink", sink)
    net.add_node("s", "tpl_sub")
    net.add_node("k", "tpl_sink")
    net.add_connection("s", "out", "k", "in")
    net.add_initial("s", "in", {"type": "Integer", "data": 1})
    assert net.run(timeout=10).state is RunState.COMPLETE
    assert sink.items == [101]


def test_nodes_are_inlined_as_node_slash_inner_and_ports_wire_through() -> None:
    sink = Sink()
    net = network_with(built(dbl_inc()), sink)
    net.add_node("s", "tpl_sub")
    net.add_node("k", "tpl_sink")
    net.add_connection("s", "out", "k", "in")
    net.add_initial("s", "in", Message.integer(5))
    net.add_initial("s", "in", Message.integer(10))
    assert [n["id"] for n in net.graph.nodes()] == ["s/dbl", "s/inc", "k"]
    wires = [(c["from"]["nodeId"], c["from"]["portId"], c["to"]["nodeId"], c["to"]["portId"]) for c in net.graph.connections()]
    assert wires == [("s/dbl", "out", "s/inc", "in"), ("s/inc", "out", "k", "in")]
    assert net.run(timeout=10).state is RunState.COMPLETE
    assert sink.items == [11, 21]


def test_the_subgraphs_own_components_do_not_shadow_the_networks() -> None:
    net = Network()
    net.register_actor("my_dbl", Times)  # the network's own my_dbl triples
    net.register_actor("tpl_sub", built(dbl_inc()))
    net.add_node("s", "tpl_sub")
    net.add_node("own", "my_dbl")
    components = {n["id"]: n["component"] for n in net.graph.nodes()}
    assert components == {"s/dbl": "tpl_sub/my_dbl", "s/inc": "tpl_sub/my_inc", "own": "my_dbl"}


def test_catalog_components_keep_their_ids() -> None:
    sub = SubgraphBuilder(export("p", [("pass", "tpl_passthrough")], inports=[("in", "pass", "input")]))
    sub.fill_from_catalog()
    net = Network()
    net.register_actor("tpl_sub", sub.build())
    net.add_node("s", "tpl_sub")
    assert net.graph.nodes()[0]["component"] == "tpl_passthrough"


def test_one_built_subgraph_used_twice_gives_two_independent_copies() -> None:
    sink = Sink()
    net = network_with(built(dbl_inc()), sink)
    net.add_node("a", "tpl_sub")
    net.add_node("b", "tpl_sub", {"inc": {"by": 1000}})  # a node's config maps inner nodes to config values
    net.add_node("k", "tpl_sink")
    net.add_connection("a", "out", "k", "in")
    net.add_connection("b", "out", "k", "in")
    for value in (1, 2, 3):
        net.add_initial("a", "in", Message.integer(value))
        net.add_initial("b", "in", Message.integer(value))
    assert net.run(timeout=10).state is RunState.COMPLETE
    assert Counter(sink.items) == Counter([3, 5, 7, 1002, 1004, 1006])
    stats = net.stats()
    assert stats.nodes["a/inc"].ticks == stats.nodes["b/inc"].ticks == 3


def test_build_can_be_called_again() -> None:
    sub = SubgraphBuilder(dbl_inc())
    sub.register_actor("my_dbl", _Double())
    sub.register_actor("my_inc", Inc)
    first, second = sub.build(), sub.build()
    assert first is not second and first.export == second.export


def test_inner_events_reach_the_outer_stream() -> None:
    sink = Sink()
    net = network_with(built(dbl_inc()), sink)
    net.add_node("s", "tpl_sub")
    net.add_node("k", "tpl_sink")
    net.add_connection("s", "out", "k", "in")
    net.add_initial("s", "in", Message.integer(5))
    events = net.events(lossless=True)
    assert net.run(timeout=10).state is RunState.COMPLETE
    seen = []
    while (event := events.recv(0)) is not None:
        seen.append(event)
    started = {e["actorId"] for e in seen if e["_type"] == "ActorStarted"}
    assert started == {"s/dbl", "s/inc", "k"}
    assert any(e["_type"] == "MessageReceived" and e["actorId"] == "s/dbl" for e in seen)


def failing_subgraph() -> Subgraph:
    sub = SubgraphBuilder(export("f", [("boom", "my_boom")], inports=[("in", "boom", "in")], outports=[("out", "boom", "out")]))
    sub.register_actor("my_boom", Boom())
    return sub.build()


def test_inner_failures_follow_the_networks_policy() -> None:
    sink = Sink()
    net = network_with(failing_subgraph(), sink, on_error="fail")
    net.add_node("s", "tpl_sub")
    net.add_node("k", "tpl_sink")
    net.add_connection("s", "out", "k", "in")
    net.add_initial("s", "in", Message.integer(1))
    status = net.run(timeout=10)
    assert status.state is RunState.FAILED
    assert status.failure is not None and status.failure.node == "s/boom" and "odd: 1" in status.failure.error


def test_inner_failures_follow_the_nodes_policy() -> None:
    sink = Sink()
    net = network_with(failing_subgraph(), sink, on_error="fail")
    net.add_node("s", "tpl_sub", on_error="continue")  # the subgraph node's policy passes to its inner nodes
    net.add_node("k", "tpl_sink")
    net.add_connection("s", "out", "k", "in")
    for value in (1, 2, 3, 4):
        net.add_initial("s", "in", Message.integer(value))
    assert net.run(timeout=10).state is RunState.COMPLETE  # the reference swallows these silently
    assert sink.items == [2, 4]
    assert net.stats().failures == 2


def test_an_inner_nodes_own_policy_wins() -> None:
    graph = Graph.from_json(export("f", [("boom", "my_boom")], inports=[("in", "boom", "in")], outports=[("out", "boom", "out")]))
    graph.set_node_metadata("boom", {"reflow": {"on_error": "continue"}})
    sub = SubgraphBuilder(graph)
    sub.register_actor("my_boom", Boom())
    sink = Sink()
    net = network_with(sub.build(), sink, on_error="fail")
    net.add_node("s", "tpl_sub", on_error="fail")
    net.add_node("k", "tpl_sink")
    net.add_connection("s", "out", "k", "in")
    for value in (1, 2):
        net.add_initial("s", "in", Message.integer(value))
    assert net.run(timeout=10).state is RunState.COMPLETE
    assert sink.items == [2]


@pytest.mark.parametrize("case_sensitive", [True, False])
def test_upper_case_exported_ports_work(case_sensitive: bool) -> None:
    sink = Sink()
    net = network_with(built(dbl_inc(case_sensitive, ("IN", "OUT"))), sink)
    net.add_node("s", "tpl_sub")
    net.add_node("k", "tpl_sink")
    net.add_connection("s", "OUT", "k", "in")
    net.add_initial("s", "IN", Message.integer(5))
    assert net.run(timeout=10).state is RunState.COMPLETE  # the reference never emits with IN/OUT
    assert sink.items == [11]


def test_outer_port_names_are_case_sensitive_for_a_case_sensitive_subgraph() -> None:
    net = network_with(built(dbl_inc(True, ("IN", "OUT"))), Sink())
    net.add_node("s", "tpl_sub")
    with pytest.raises(PortError, match=r"node 's' \(tpl_sub\) has no inport 'in'.*did you mean 'IN'"):
        net.add_initial("s", "in", Message.integer(5))  # the reference ignores such packets silently


def test_unknown_ports_and_config_keys_are_errors_at_once() -> None:
    net = network_with(built(dbl_inc()), Sink())
    net.add_node("s", "tpl_sub")
    net.add_node("k", "tpl_sink")
    with pytest.raises(PortError, match="has no outport 'result'"):
        net.add_connection("s", "result", "k", "in")
    with pytest.raises(SubgraphError, match="'ink' is not one of them.*did you mean 'inc'"):
        net.add_node("t", "tpl_sub", {"ink": {"by": 2}})
    with pytest.raises(SubgraphError, match="must be a mapping"):
        net.add_node("u", "tpl_sub", {"inc": 2})


def test_build_needs_every_component() -> None:
    sub = SubgraphBuilder(dbl_inc())
    sub.register_actor("my_dbl", _Double())
    with pytest.raises(SubgraphComponentError, match="subgraph references unregistered component 'my_inc'") as info:
        sub.build()
    assert isinstance(info.value, RuntimeError)
    sub.fill_from_catalog()
    with pytest.raises(SubgraphComponentError, match="subgraph references unknown component 'my_inc'"):
        sub.build()
    catalog_only = SubgraphBuilder(export("c", [("p", "tpl_passthrough")]))
    with pytest.raises(SubgraphComponentError, match="unregistered component 'tpl_passthrough'"):
        catalog_only.build()  # catalog ids resolve only after fill_from_catalog(), as in the reference
    catalog_only.fill_from_catalog()
    catalog_only.build()


def test_register_actor_twice_is_an_error() -> None:
    sub = SubgraphBuilder(dbl_inc())
    sub.register_actor("my_dbl", _Double())
    with pytest.raises(RegistryError, match="'my_dbl' is already registered"):
        sub.register_actor("my_dbl", _Double())


def test_a_malformed_export_is_refused() -> None:
    with pytest.raises(RuntimeError, match="missing field `caseSensitive`"):
        SubgraphBuilder({"properties": {"name": "x"}})


def test_nested_subgraphs_are_flattened() -> None:
    inner = built(dbl_inc())
    outer = SubgraphBuilder(export("outer", [("first", "stage"), ("second", "stage")], [("first", "out", "second", "in")],
                                   inports=[("in", "first", "in")], outports=[("out", "second", "out")]))
    outer.register_actor("stage", inner)
    nested = outer.build()
    assert nested.order == ["first/dbl", "first/inc", "second/dbl", "second/inc"]
    assert nested.nodes == ["first", "second"]
    sink = Sink()
    net = network_with(nested, sink)
    net.add_node("n", "tpl_sub", {"second": {"inc": {"by": 100}}})  # nested config: inner node, then its inner node
    net.add_node("k", "tpl_sink")
    net.add_connection("n", "out", "k", "in")
    net.add_initial("n", "in", Message.integer(1))  # ((1*2)+1)*2 + 100
    assert net.run(timeout=10).state is RunState.COMPLETE
    assert sink.items == [106]
    assert {n["id"] for n in net.graph.nodes()} == {"n/first/dbl", "n/first/inc", "n/second/dbl", "n/second/inc", "k"}


def test_a_subgraph_in_a_graph_given_to_from_graph_is_inlined_at_start() -> None:
    graph = Graph("outer")
    graph.add_node("s", "tpl_sub", {"inc": {"by": 5}})
    graph.add_node("k", "tpl_sink")
    graph.add_connection("s", "out", "k", "in")
    graph.add_initial("s", "in", Message.integer(2))
    net = Network.from_graph(graph)
    sink = Sink()
    net.register_actor("tpl_sub", built(dbl_inc()))
    net.register_actor("tpl_sink", sink)
    net.add_initial("s", "in", Message.integer(3))  # before start: the node is still whole
    assert net.run(timeout=10).state is RunState.COMPLETE
    assert sink.items == [9, 11]
    assert {n["id"] for n in net.graph.nodes()} == {"s/dbl", "s/inc", "k"}


def test_a_subgraph_is_described_by_its_exported_ports() -> None:
    sg = built(dbl_inc())
    spec = sg.component_spec("tpl_sub")
    assert [p.name for p in spec.inports] == ["in"] and [p.name for p in spec.outports] == ["out"]
    assert set(spec.config_schema["properties"]) == {"dbl", "inc"}  # type: ignore[index]
    assert repr(sg) == "<Subgraph 2 nodes, inports ['in'], outports ['out']>"
