"""Properties of random graphs built through the API, and the speed budget.

Random operation sequences (including ones that fail with GraphError, which
must leave the graph unchanged) are applied to a graph, then:

* ``from_json(to_json(g))`` gives back the same export, also through JSON text;
* renaming every node gives the same export with the ids replaced;
* removing every node leaves nothing pointing at a node.

The last two exercise the per-node indexes of the *mutated* graph, which a
round trip alone (that rebuilds them) would not.
"""

from __future__ import annotations

import json
import time
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reflow_cli.errors import GraphError
from reflow_cli.graph import Graph
from reflow_cli.message import Message

NODES = st.sampled_from(["a", "B", "n\u00e9", "x.y"])
PORTS = st.sampled_from(["in", "In", "out", "cfg"])
GROUPS = st.sampled_from(["g1", "G2"])
COMPONENTS = st.sampled_from(["tpl_a", "tpl_b"])
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | FLOATS | st.text(max_size=4)
KEYS = st.sampled_from(["k", "K", "\u00e9", ""])
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=4,
)
METADATA = st.none() | st.dictionaries(KEYS, JSON, max_size=2)
MESSAGES = st.one_of(
    st.just(Message.flow()),
    st.integers(-(2**63), 2**63 - 1).map(Message.integer),
    FLOATS.map(Message.float),
    st.text(max_size=5).map(Message.string),
    st.booleans().map(Message.boolean),
    JSON.map(Message.object),
    st.lists(JSON, max_size=3).map(Message.array),
    st.binary(max_size=4).map(Message.bytes),
    st.text(max_size=5).map(Message.error),
    # Tagged dicts are accepted too.
    st.integers(-5, 5).map(lambda v: {"type": "Integer", "data": v}),
)
UNIT_TYPES = st.sampled_from(["any", "flow", "integer", "String", "bytes"])
PORT_TYPES = st.recursive(
    UNIT_TYPES | UNIT_TYPES.map(lambda t: {"type": t.lower()}) | st.just({"type": "object", "value": "S"}),
    lambda inner: st.builds(lambda t, v: {"type": t, "value": v}, st.sampled_from(["array", "option"]), inner),
    max_leaves=3,
)


def op(name: str, *args: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.tuples(st.just(name), *args)


# Node ids come from a small pool and every graph starts with some of them, so
# most operations find what they name and some do not (and must fail cleanly).
ADDITIONS = st.one_of(
    op("add_node", NODES, COMPONENTS, METADATA),
    op("add_connection", NODES, PORTS, NODES, PORTS, METADATA),
    op("add_initial", NODES, PORTS, MESSAGES, METADATA),
    op("add_initial_index", NODES, PORTS, MESSAGES, st.integers(0, 4), METADATA),
    op("add_inport", PORTS, NODES, PORTS, st.none() | PORT_TYPES, METADATA),
    op("add_outport", PORTS, NODES, PORTS, st.none() | PORT_TYPES, METADATA),
    op("add_graph_initial", PORTS, MESSAGES, METADATA),
    op("add_graph_initial_index", PORTS, MESSAGES, st.integers(0, 4), METADATA),
    op("add_group", GROUPS, st.lists(NODES, max_size=3, unique=True), METADATA),
    op("add_to_group", GROUPS, NODES),
    # Twice as likely: graph IIPs need an inport first.
    op("add_inport", PORTS, NODES, PORTS, st.none(), st.none()),
    op("add_graph_initial", PORTS, MESSAGES, st.none()),
)
EDITS = st.one_of(
    ADDITIONS,
    op("remove_from_group", GROUPS, NODES),
    op("remove_group", GROUPS),
    op("remove_node", NODES),
    op("rename_node", NODES, NODES | st.just("renamed")),
    op("remove_connection", NODES, PORTS, NODES, PORTS),
    op("remove_initial", NODES, PORTS),
    op("remove_graph_initial", PORTS),
    op("remove_inport", PORTS),
    op("remove_outport", PORTS),
    op("rename_inport", PORTS, PORTS),
    op("rename_outport", PORTS, PORTS),
    op("set_node_metadata", NODES, METADATA),
    op("set_connection_metadata", NODES, PORTS, NODES, PORTS, METADATA),
    op("set_group_metadata", GROUPS, METADATA),
    op("set_inport_metadata", PORTS, METADATA),
    op("set_outport_metadata", PORTS, METADATA),
    op("set_properties", METADATA),
)


@st.composite
def graphs(draw: st.DrawFn) -> Graph:
    g = Graph(draw(st.text(max_size=5)), draw(st.booleans()))
    for node_id in draw(st.lists(NODES, min_size=2, max_size=4, unique=True)):
        g.add_node(node_id, draw(COMPONENTS), draw(METADATA))
    operations = draw(st.lists(ADDITIONS, min_size=3, max_size=20)) + draw(st.lists(EDITS, max_size=20))
    for name, *args in operations:
        before = g.to_json()
        try:
            getattr(g, name)(*args)
        except GraphError:
            # A refused mutation changes nothing.
            assert g.to_json() == before, name
    return g


def canonical(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True)


SETTINGS = settings(max_examples=100, deadline=None, database=None)


@SETTINGS
@given(graphs())
def test_export_round_trips(g: Graph) -> None:
    doc = g.to_json()
    assert canonical(Graph.from_json(doc).to_json()) == canonical(doc)
    assert canonical(Graph.from_json(json.dumps(doc)).to_json()) == canonical(doc)
    # The engine view agrees with the export.
    assert len(g.iter_connections()) + len(g.iter_initials()) == len(doc["connections"])
    assert sorted(p.id for p in g.iter_processes()) == list(doc["processes"])


@SETTINGS
@given(graphs())
def test_renaming_every_node_renames_it_everywhere(g: Graph) -> None:
    before = g.to_json()
    new = {node["id"]: f"renamed-{i}" for i, node in enumerate(g.nodes())}
    for old_id, new_id in new.items():
        g.rename_node(old_id, new_id)

    def rename(edge: dict[str, Any]) -> None:
        if edge["nodeId"]:
            edge["nodeId"] = new[edge["nodeId"]]

    for connection in before["connections"]:
        rename(connection["from"])
        rename(connection["to"])
    for ports in (before["inports"], before["outports"]):
        for port in ports.values():
            rename(port)
    for group in before["groups"]:
        group["nodes"] = [new[n] for n in group["nodes"]]
    before["processes"] = {new[k]: dict(p, id=new[k]) for k, p in before["processes"].items()}
    assert canonical(g.to_json()) == canonical(before)


@SETTINGS
@given(graphs())
def test_removing_every_node_leaves_nothing_dangling(g: Graph) -> None:
    for node in g.nodes():
        g.remove_node(node["id"])
    doc = g.to_json()
    assert doc["processes"] == {} and doc["connections"] == []
    assert doc["inports"] == {} and doc["outports"] == {}
    assert all(group["nodes"] == [] for group in doc["groups"])


# -- speed -------------------------------------------------------------------------------------
# The budget is 1 s for each; the asserts allow 2 s so a busy machine does not fail them.
# (The reference freezes on its 1001st mutation.)


def _chain(n: int) -> Graph:
    g = Graph("chain")
    for i in range(n):
        g.add_node(f"n{i}", "tpl_passthrough")
    for i in range(n - 1):
        g.add_connection(f"n{i}", "out", f"n{i + 1}", "in")
    return g


def test_100k_mutations_are_fast() -> None:
    start = time.perf_counter()
    g = _chain(50_000)  # 50,000 add_node + 49,999 add_connection
    elapsed = time.perf_counter() - start
    assert len(g.iter_connections()) == 49_999
    assert elapsed < 2.0, f"{elapsed:.3f} s"


def test_renames_and_removals_on_a_large_graph_are_fast() -> None:
    g = _chain(50_000)
    start = time.perf_counter()
    for i in range(0, 50_000, 2):
        g.rename_node(f"n{i}", f"r{i}")
    for i in range(1, 50_000, 4):
        g.remove_node(f"n{i}")
    elapsed = time.perf_counter() - start
    assert len(g.nodes()) == 37_500
    assert elapsed < 2.0, f"{elapsed:.3f} s"


def test_json_of_a_10k_node_chain_is_fast() -> None:
    g = _chain(10_000)
    g.add_initial("n0", "in", Message.integer(1))
    start = time.perf_counter()
    doc = g.to_json()
    exported = time.perf_counter() - start
    start = time.perf_counter()
    loaded = Graph.from_json(doc)
    imported = time.perf_counter() - start
    assert len(loaded.iter_connections()) == 9_999
    assert exported < 2.0 and imported < 2.0, f"to_json {exported:.3f} s, from_json {imported:.3f} s"
