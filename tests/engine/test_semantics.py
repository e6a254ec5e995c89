"""Execution semantics: ordering, fan-out/fan-in, cycles, await-all, what a tick's outputs become."""

from __future__ import annotations

from collections import Counter as Multiset
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reflow_cli import Actor, Message, Network, RunState
from tests.actors import AddOne, Collect, Counter, Forward


def chain(count: int, length: int, capacity: int | None = None) -> tuple[Network, Collect]:
    net = Network()
    collect = Collect()
    net.register_actor("fwd", Forward())
    net.register_actor("col", collect)
    previous = None
    for i in range(length):
        net.add_node(f"n{i}", "fwd")
        if previous is not None:
            net.add_connection(previous, "out", f"n{i}", "in", capacity=capacity)
        previous = f"n{i}"
    net.add_node("sink", "col")
    net.add_connection(previous, "out", "sink", "in", capacity=capacity)
    for i in range(count):
        net.add_initial("n0", "in", Message.integer(i))
    return net, collect


def test_fifo_along_a_single_input_path() -> None:
    net, collect = chain(5000, 6, capacity=3)
    assert net.run(timeout=30)
    assert collect.items == list(range(5000))


def test_messages_stay_one_object_end_to_end() -> None:
    net, collect = chain(1, 4)
    sent = Message.array([1, 2, 3])
    net.graph.remove_initial("n0", "in")
    net.add_initial("n0", "in", sent)
    assert net.run(timeout=5)
    assert collect.messages[0] is sent


def test_fan_out_copies_to_every_connected_inport() -> None:
    net = Network()
    left, right = Collect(), Collect()
    net.register_actor("fwd", Forward())
    net.register_actor("left", left)
    net.register_actor("right", right)
    net.add_node("src", "fwd")
    net.add_node("l", "left")
    net.add_node("r", "right")
    net.add_connection("src", "out", "l", "in")
    net.add_connection("src", "out", "r", "in")
    for i in range(300):
        net.add_initial("src", "in", Message.integer(i))
    assert net.run(timeout=10)
    assert left.items == right.items == list(range(300))


def test_fan_in_interleaves_and_loses_nothing() -> None:
    net = Network()
    collect = Collect()
    net.register_actor("fwd", Forward())
    net.register_actor("col", collect)
    net.add_node("sink", "col")
    for p in range(4):
        net.add_node(f"p{p}", "fwd")
        net.add_connection(f"p{p}", "out", "sink", "in", capacity=2)
        for i in range(200):
            net.add_initial(f"p{p}", "in", Message.string(f"{p}:{i}"))
    assert net.run(timeout=10)
    assert Multiset(collect.items) == Multiset(f"{p}:{i}" for p in range(4) for i in range(200))
    for p in range(4):  # FIFO still holds per edge
        mine = [x for x in collect.items if x.startswith(f"{p}:")]
        assert mine == [f"{p}:{i}" for i in range(200)]


def test_cycles_work_and_complete() -> None:
    class Countdown(Actor):
        inports = ["in"]
        outports = ["again", "out"]

        def run(self, ctx):  # type: ignore[no-untyped-def]
            n = ctx.inputs["in"]["data"]
            if n > 0:
                ctx.done({"again": Message.integer(n - 1), "out": Message.integer(n)})
            else:
                ctx.done({"out": Message.integer(0)})

    net = Network()
    collect = Collect()
    net.register_actor("count", Countdown())
    net.register_actor("col", collect)
    net.add_node("c", "count")
    net.add_node("sink", "col")
    net.add_connection("c", "again", "c", "in", capacity=1)
    net.add_connection("c", "out", "sink", "in", capacity=1)
    net.add_initial("c", "in", Message.integer(1000))
    assert net.run(timeout=10) == RunState.COMPLETE
    assert collect.items == list(range(1000, -1, -1))


class Bounce(Actor):
    inports = ["in"]
    outports = ["out", "done"]

    def run(self, ctx):  # type: ignore[no-untyped-def]
        hops, token = ctx.inputs["in"]["data"]
        if hops == 0:
            ctx.done({"done": Message.integer(token)})
        else:
            ctx.done({"out": Message.array([hops - 1, token])})


def bouncing(tokens: int) -> tuple[Network, Collect]:
    net = Network()
    collect = Collect()
    net.register_actor("bounce", Bounce())
    net.register_actor("col", collect)
    net.add_node("a", "bounce")
    net.add_node("b", "bounce")
    net.add_node("sink", "col")
    net.add_connection("a", "out", "b", "in", capacity=4)
    net.add_connection("b", "out", "a", "in", capacity=4)
    net.add_connection("a", "done", "sink", "in")
    net.add_connection("b", "done", "sink", "in")
    for token in range(tokens):
        net.add_initial("a", "in", Message.array([50, token]))
    return net, collect


def test_a_two_node_cycle_within_its_capacity_completes() -> None:
    net, collect = bouncing(4)
    assert net.run(timeout=30)
    assert sorted(collect.items) == [0, 1, 2, 3]


def test_a_cycle_holding_more_tokens_than_it_can_buffer_is_reported_stalled() -> None:
    # A bounded cycle with more packets in flight than its queues hold deadlocks in any
    # bounded-buffer runtime; reflow says so (naming the blocked edges) instead of hanging.
    net, _ = bouncing(200)
    status = net.run(timeout=30)
    assert status == RunState.STALLED
    assert "a.out -> b.in" in status.edges or "b.out -> a.in" in status.edges
    assert {p.split(" ")[0] for p in status.ports} <= {"a.in", "b.in"}


class Pair(Actor):
    inports = ["a", "b"]
    outports = ["out"]
    await_all_inports = True

    def run(self, ctx):  # type: ignore[no-untyped-def]
        ctx.done({"out": Message.array([ctx.inputs["a"]["data"], ctx.inputs["b"]["data"]])})


def test_await_all_queues_instead_of_overwriting() -> None:
    # The reference overwrites (a1 b10 a2 a3 b20 b30 -> {a:1,b:10}, {a:3,b:20}); we pair FIFO.
    net = Network()
    collect = Collect()
    net.register_actor("pair", Pair())
    net.register_actor("col", collect)
    net.add_node("p", "pair")
    net.add_node("c", "col")
    net.add_connection("p", "out", "c", "in")
    for port, value in [("a", 1), ("b", 10), ("a", 2), ("a", 3), ("b", 20), ("b", 30)]:
        net.add_initial("p", port, Message.integer(value))
    assert net.run(timeout=5)
    assert collect.items == [[1, 10], [2, 20], [3, 30]]


def test_await_all_counts_only_connected_ports() -> None:
    class ThreePorts(Actor):
        inports = ["a", "b", "unused"]
        outports = ["out"]
        await_all_inports = True

        def run(self, ctx):  # type: ignore[no-untyped-def]
            ctx.done({"out": Message.array(sorted(ctx.inputs))})

    net = Network()
    collect = Collect()
    net.register_actor("three", ThreePorts())
    net.register_actor("col", collect)
    net.add_node("t", "three")
    net.add_node("c", "col")
    net.add_connection("t", "out", "c", "in")
    net.add_initial("t", "a", Message.integer(1))
    net.add_initial("t", "b", Message.integer(2))
    assert net.run(timeout=5)
    assert collect.items == [["a", "b"]]


def test_await_all_that_can_never_fill_is_reported_stalled() -> None:
    net = Network()
    net.register_actor("pair", Pair())
    net.register_actor("col", Collect())
    net.register_actor("fwd", Forward())
    net.add_node("p", "pair")
    net.add_node("src", "fwd")
    net.add_node("c", "col")
    net.add_connection("src", "out", "p", "b")
    net.add_connection("p", "out", "c", "in")
    net.add_initial("p", "a", Message.integer(1))
    status = net.run(timeout=5)
    assert status == RunState.STALLED and not status
    assert status.ports == ("p.a (1 waiting)", "p.b (empty; p needs a packet on every inport)")
    assert "p.a" in status.describe() and "p.b (empty" in status.describe()  # what it waits for, too


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(-1000, 1000)), max_size=60))
def test_await_all_pairs_fifo_property(arrivals: list[tuple[str, int]]) -> None:
    # both ports are fed through forwarders, so both are connected whatever arrives
    net = Network()
    collect = Collect()
    net.register_actor("pair", Pair())
    net.register_actor("fwd", Forward())
    net.register_actor("col", collect)
    net.add_node("p", "pair")
    net.add_node("src_a", "fwd")
    net.add_node("src_b", "fwd")
    net.add_node("c", "col")
    net.add_connection("src_a", "out", "p", "a", capacity=4)
    net.add_connection("src_b", "out", "p", "b", capacity=4)
    net.add_connection("p", "out", "c", "in")
    for port, value in arrivals:
        net.add_initial(f"src_{port}", "in", Message.integer(value))
    a_values = [v for p, v in arrivals if p == "a"]
    b_values = [v for p, v in arrivals if p == "b"]
    status = net.run(timeout=10)
    assert collect.items == [list(pair) for pair in zip(a_values, b_values)]
    if len(a_values) == len(b_values):
        assert status == RunState.COMPLETE
    else:
        assert status == RunState.STALLED
        waiting = "p.a" if len(a_values) > len(b_values) else "p.b"
        assert any(port.startswith(waiting) for port in status.ports)


def test_emit_collapses_and_done_overrides_and_ports_are_separate() -> None:
    class Emitter(Actor):
        inports = ["in"]
        outports = ["x", "y"]

        def run(self, ctx):  # type: ignore[no-untyped-def]
            ctx.emit("x", Message.integer(1))
            ctx.emit("x", Message.integer(2))  # last write per port wins
            ctx.emit("y", Message.integer(3))
            ctx.done({"y": Message.integer(4)})  # done overrides emit on the same port

    net = Network()
    xs, ys = Collect(), Collect()
    net.register_actor("emit", Emitter())
    net.register_actor("xs", xs)
    net.register_actor("ys", ys)
    net.add_node("e", "emit")
    net.add_node("x", "xs")
    net.add_node("y", "ys")
    net.add_connection("e", "x", "x", "in")
    net.add_connection("e", "y", "y", "in")
    net.add_initial("e", "in", Message.flow())
    assert net.run(timeout=5)
    assert xs.items == [2] and ys.items == [4]


def test_send_survives_a_later_fail_and_fail_discards_emits() -> None:
    class SendThenFail(Actor):
        inports = ["in"]
        outports = ["out"]

        def run(self, ctx):  # type: ignore[no-untyped-def]
            ctx.send({"out": Message.string("sent")})
            ctx.emit("out", Message.string("emitted"))
            ctx.fail("nope")

    net = Network()
    collect = Collect()
    net.register_actor("sf", SendThenFail())
    net.register_actor("col", collect)
    net.add_node("s", "sf")
    net.add_node("c", "col")
    net.add_connection("s", "out", "c", "in")
    net.add_initial("s", "in", Message.flow())
    events = net.events()
    assert net.run(timeout=5)
    assert collect.items == ["sent"]
    failed = [e for e in events if e["_type"] == "ActorFailed"]
    assert [f["error"] for f in failed] == ["nope"]
    assert failed[0]["message"] == {"in": {"type": "Flow"}}


def test_returning_without_done_is_an_implicit_done() -> None:
    class Quiet(Actor):
        inports = ["in"]
        outports = ["out"]

        def run(self, ctx):  # type: ignore[no-untyped-def]
            ctx.emit("out", ctx.inputs["in"])

    net = Network()
    collect = Collect()
    net.register_actor("quiet", Quiet())
    net.register_actor("col", collect)
    net.add_node("q", "quiet")
    net.add_node("c", "col")
    net.add_connection("q", "out", "c", "in")
    net.add_initial("q", "in", Message.integer(5))
    assert net.run(timeout=5)
    assert collect.items == [5]


def test_a_raising_run_is_a_failure_and_later_packets_still_flow() -> None:
    class OddFails(Actor):
        inports = ["in"]
        outports = ["out"]

        def run(self, ctx):  # type: ignore[no-untyped-def]
            n = ctx.inputs["in"]["data"]
            if n % 2:
                raise ValueError(f"odd {n}")
            ctx.done({"out": ctx.inputs["in"]})

    net = Network()
    collect = Collect()
    net.register_actor("odd", OddFails())
    net.register_actor("col", collect)
    net.add_node("o", "odd")
    net.add_node("c", "col")
    net.add_connection("o", "out", "c", "in")
    for i in range(6):
        net.add_initial("o", "in", Message.integer(i))
    events = net.events()
    assert net.run(timeout=5)
    assert collect.items == [0, 2, 4]
    errors = [e["error"] for e in events if e["_type"] == "ActorFailed"]
    assert errors == ["ValueError: odd 1", "ValueError: odd 3", "ValueError: odd 5"]
    assert net.stats().nodes["o"].failures == 3


def test_fail_policy_stops_the_run_with_the_failure() -> None:
    class Boom(Actor):
        inports = ["in"]
        outports: list[str] = []

        def run(self, ctx):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    net = Network(on_error="fail")
    net.register_actor("boom", Boom())
    net.add_node("b", "boom")
    net.add_initial("b", "in", Message.integer(1))
    status = net.run(timeout=5)
    assert status == RunState.FAILED
    assert status.failure is not None
    assert status.failure.node == "b" and status.failure.error == "RuntimeError: boom"
    assert status.failure.inputs == {"in": {"data": 1, "type": "Integer"}}


def test_a_packet_on_an_unconnected_error_port_is_a_failure() -> None:
    class Reports(Actor):
        inports = ["in"]
        outports = ["out", "error"]

        def run(self, ctx):  # type: ignore[no-untyped-def]
            ctx.done({"error": Message.error("bad record")})

    net = Network()
    net.register_actor("r", Reports())
    net.add_node("r", "r")
    net.add_initial("r", "in", Message.flow())
    events = net.events()
    assert net.run(timeout=5)
    failed = [e for e in events if e["_type"] == "ActorFailed"]
    assert len(failed) == 1 and "bad record" in failed[0]["error"]


def test_a_connected_error_port_is_an_ordinary_port() -> None:
    class Reports(Actor):
        inports = ["in"]
        outports = ["out", "error"]

        def run(self, ctx):  # type: ignore[no-untyped-def]
            ctx.done({"error": Message.error("bad record")})

    net = Network()
    collect = Collect()
    net.register_actor("r", Reports())
    net.register_actor("col", collect)
    net.add_node("r", "r")
    net.add_node("c", "col")
    net.add_connection("r", "error", "c", "in")
    net.add_initial("r", "in", Message.flow())
    events = net.events()
    assert net.run(timeout=5)
    assert collect.items == ["bad record"]
    assert not [e for e in events if e["_type"] == "ActorFailed"]


def test_outputs_accept_tagged_dicts_and_none_means_nothing() -> None:
    class Mixed(Actor):
        inports = ["in"]
        outports = ["a", "b"]

        def run(self, ctx):  # type: ignore[no-untyped-def]
            ctx.done({"a": {"type": "String", "data": "tagged"}, "b": None})

    net = Network()
    a, b = Collect(), Collect()
    net.register_actor("mixed", Mixed())
    net.register_actor("a", a)
    net.register_actor("b", b)
    net.add_node("m", "mixed")
    net.add_node("ca", "a")
    net.add_node("cb", "b")
    net.add_connection("m", "a", "ca", "in")
    net.add_connection("m", "b", "cb", "in")
    net.add_initial("m", "in", Message.flow())
    assert net.run(timeout=5)
    assert a.items == ["tagged"] and b.items == []


def test_pools_are_per_node_and_persist_across_ticks() -> None:
    class Pooling(Actor):
        inports = ["in"]
        outports = ["out"]

        def run(self, ctx):  # type: ignore[no-untyped-def]
            value = ctx.inputs["in"]["data"]
            ctx.pool_upsert("seen", f"k{value}", value)
            if value == 2:
                ctx.pool_remove("seen", "k1")
                ctx.pool_remove("seen", "absent")
            ctx.done({"out": Message.object({"pool": ctx.pool("seen"), "count": ctx.pool_count("seen"),
                                             "missing": ctx.pool("nothing")})})

    net = Network()
    collect = Collect()
    net.register_actor("pool", Pooling())
    net.register_actor("col", collect)
    net.add_node("p1", "pool")
    net.add_node("p2", "pool")  # same shared instance, separate pools
    net.add_node("c", "col")
    net.add_connection("p1", "out", "c", "in")
    net.add_initial("p1", "in", Message.integer(3))
    net.add_initial("p1", "in", Message.integer(1))
    net.add_initial("p1", "in", Message.integer(2))
    assert net.run(timeout=5)
    last = collect.items[-1]
    assert list(last["pool"]) == ["k2", "k3"]  # sorted keys
    assert last["count"] == 2 and last["missing"] == {}
    assert net.stats().nodes["p2"].ticks == 0


def test_factory_registration_builds_one_instance_per_node_with_its_config() -> None:
    built: list[dict[str, Any]] = []

    class PerNode(Actor):
        inports = ["in"]
        outports = ["out"]

        def __init__(self, config: dict[str, Any]) -> None:
            built.append(config)
            self.offset = config["offset"]

        def run(self, ctx):  # type: ignore[no-untyped-def]
            ctx.done({"out": Message.integer(ctx.inputs["in"]["data"] + self.offset)})

    net = Network()
    collect = Collect()
    net.register_actor("per", PerNode)
    net.register_actor("col", collect)
    net.add_node("a", "per", {"offset": 10})
    net.add_node("b", "per", {"offset": 100})
    net.add_node("c", "col")
    net.add_connection("a", "out", "b", "in")
    net.add_connection("b", "out", "c", "in")
    net.add_initial("a", "in", Message.integer(1))
    assert net.run(timeout=5)
    assert collect.items == [111]
    assert sorted(c["offset"] for c in built) == [10, 100]


def test_from_callback_actor() -> None:
    def double(ctx):  # type: ignore[no-untyped-def]
        ctx.done({"out": Message.integer(ctx.inputs["in"]["data"] * 2)})

    net = Network()
    collect = Collect()
    net.register_actor("double", Actor.from_callback("double", ["in"], ["out"], double))
    net.register_actor("col", collect)
    net.add_node("d", "double")
    net.add_node("c", "col")
    net.add_connection("d", "out", "c", "in")
    net.add_initial("d", "in", Message.integer(21))
    assert net.run(timeout=5)
    assert collect.items == [42]


def test_setup_and_teardown_run_once_per_node_with_state() -> None:
    calls: list[str] = []

    class WithState(Actor):
        inports = ["in"]
        outports = ["out"]

        def setup(self, ctx):  # type: ignore[no-untyped-def]
            calls.append(f"setup {ctx.node_id}")
            ctx.state["client"] = object()

        def run(self, ctx):  # type: ignore[no-untyped-def]
            assert "client" in ctx.state
            ctx.done({"out": ctx.inputs["in"]})

        async def teardown(self, ctx):  # type: ignore[no-untyped-def]
            calls.append(f"teardown {ctx.node_id}")

    net = Network()
    net.register_actor("ws", WithState)
    net.register_actor("col", Collect())
    net.add_node("w", "ws")
    net.add_node("c", "col")
    net.add_connection("w", "out", "c", "in")
    for i in range(3):
        net.add_initial("w", "in", Message.integer(i))
    assert net.run(timeout=5)
    assert calls == ["setup w", "teardown w"]


def test_many_random_dags_deliver_everything() -> None:
    # a diamond-heavy DAG: every message reaches the sink once per path
    net = Network()
    counter = Counter()
    net.register_actor("add", AddOne())
    net.register_actor("count", counter)
    net.add_node("src", "add")
    for i in range(3):
        net.add_node(f"mid{i}", "add")
        net.add_connection("src", "out", f"mid{i}", "in", capacity=2)
    net.add_node("sink", "count")
    for i in range(3):
        net.add_connection(f"mid{i}", "out", "sink", "in", capacity=2)
    for i in range(500):
        net.add_initial("src", "in", Message.integer(i))
    assert net.run(timeout=20)
    assert counter.count == 1500
    assert counter.total == 3 * sum(i + 2 for i in range(500))


def test_a_self_loop_shared_with_another_producer_keeps_every_edge_in_order() -> None:
    class Loop(Actor):
        """Counts each token down to zero through its own `again` port."""

        inports = ["in"]
        outports = ["again", "out"]

        def run(self, ctx):  # type: ignore[no-untyped-def]
            token, n = ctx.inputs["in"]["data"]
            ctx.done({"again": Message.array([token, n - 1]) if n else None, "out": Message.array([token, n])})

    net = Network()
    collect = Collect()
    net.register_actor("loop", Loop())
    net.register_actor("fwd", Forward())
    net.register_actor("col", collect)
    net.add_node("loop", "loop")
    net.add_node("feed", "fwd")
    net.add_node("sink", "col")
    net.add_connection("loop", "again", "loop", "in", capacity=4)
    net.add_connection("feed", "out", "loop", "in", capacity=4)
    net.add_connection("loop", "out", "sink", "in", capacity=4)
    net.add_initial("loop", "in", Message.array(["a", 300]))
    for i in range(50):
        net.add_initial("feed", "in", Message.array([f"f{i}", 3]))
    events = net.events()
    assert net.run(timeout=30)
    seen = [tuple(x) for x in collect.items]
    assert sorted(seen) == sorted([("a", n) for n in range(301)] + [(f"f{i}", n) for i in range(50) for n in range(4)])
    assert [n for token, n in seen if token == "a"] == list(range(300, -1, -1))  # the loop's own order
    for i in range(50):
        assert [n for token, n in seen if token == f"f{i}"] == [3, 2, 1, 0]
    loop_sent = sum(1 for e in events if e["_type"] == "MessageSent" and e["fromPort"] == "again")
    assert loop_sent == 300 + 50 * 3
    assert net.stats().edges["loop.again -> loop.in"].sent == loop_sent


def test_ctx_connected_tells_which_outports_lead_somewhere() -> None:
    seen: list[tuple[bool, bool]] = []

    class Probe(Actor):
        inports = ["in"]
        outports = ["wired", "loose"]

        def run(self, ctx):  # type: ignore[no-untyped-def]
            seen.append((ctx.connected("wired"), ctx.connected("loose")))

    net = Network()
    net.register_actor("probe", Probe())
    net.register_actor("col", Collect())
    net.add_node("p", "probe")
    net.add_node("c", "col")
    net.add_connection("p", "wired", "c", "in")
    net.add_initial("p", "in", Message.flow())
    assert net.run(timeout=5)
    assert seen == [(True, False)]
