"""Property tests for the scheduler: random DAGs of sync, async and threaded nodes with random capacities deliver everything and complete."""

from __future__ import annotations

from collections import Counter as Multiset

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reflow_cli import Actor, Message, Network, RunState
from tests.actors import Collect


class Tag(Actor):
    """Appends its node id to the path carried by the packet, sends it to every outport."""

    inports = ["in"]
    outports = ["out"]

    def run(self, ctx):  # type: ignore[no-untyped-def]
        path = ctx.inputs["in"]["data"]
        ctx.done({"out": Message.array([*path, ctx.node_id])})


class AsyncTag(Tag):
    """Tag as an async tick."""

    async def run(self, ctx):  # type: ignore[no-untyped-def,override]
        Tag.run(self, ctx)


class ThreadedTag(Tag):
    """Tag in a worker thread (several ticks per hand-off when they are short)."""

    threaded = True


KINDS = {"sync": Tag, "async": AsyncTag, "threaded": ThreadedTag}


@st.composite
def dags(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]], list[int], int, list[str]]:
    size = draw(st.integers(2, 7))
    edges = []
    for target in range(1, size):
        sources = draw(st.sets(st.integers(0, target - 1), min_size=1, max_size=min(3, target)))
        edges += [(source, target) for source in sorted(sources)]
    capacities = draw(st.lists(st.integers(1, 5), min_size=size, max_size=size))
    packets = draw(st.integers(1, 40))
    kinds = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=size, max_size=size))
    return size, edges, capacities, packets, kinds


def paths(size: int, edges: list[tuple[int, int]]) -> list[list[str]]:
    """Every path from node 0 to a sink node (no outgoing edge)."""
    outgoing: dict[int, list[int]] = {}
    for source, target in edges:
        outgoing.setdefault(source, []).append(target)
    found: list[list[str]] = []

    def walk(node: int, path: list[str]) -> None:
        path = [*path, f"n{node}"]
        if node not in outgoing:
            found.append(path)
        for nxt in outgoing.get(node, []):
            walk(nxt, path)

    walk(0, [])
    return found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags())
def test_random_dags_deliver_every_packet_along_every_path(dag: tuple[int, list[tuple[int, int]], list[int], int, list[str]]) -> None:
    size, edges, capacities, packets, kinds = dag
    net = Network()
    collect = Collect()
    for kind, actor in KINDS.items():
        net.register_actor(kind, actor())
    net.register_actor("col", collect)
    for i in range(size):
        net.add_node(f"n{i}", kinds[i])
    net.add_node("sink", "col")
    has_out = {source for source, _ in edges}
    for source, target in edges:
        net.add_connection(f"n{source}", "out", f"n{target}", "in", capacity=capacities[target])
    for i in range(size):
        if i not in has_out:
            net.add_connection(f"n{i}", "out", "sink", "in", capacity=capacities[0])
    for _ in range(packets):
        net.add_initial("n0", "in", Message.array([]))
    status = net.run(timeout=30)
    assert status == RunState.COMPLETE, status
    expected = Multiset(tuple(p) for p in paths(size, edges) for _ in range(packets))
    assert Multiset(tuple(item) for item in collect.items) == expected
    stats = net.stats()
    assert stats.undelivered == 0
    for key, inport in stats.inports.items():
        assert inport.high_water <= inport.capacity, key
