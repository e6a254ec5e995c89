"""Backpressure never freezes anything and never buffers without bound."""

from __future__ import annotations

import time
from typing import Any

import trio

from reflow_cli import Actor, Message, Network, RunState
from tests.actors import Collect, Counter, Forward


class Burst(Actor):
    """A README-style sync actor sending many packets in one tick."""

    inports = ["go"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        for i in range(ctx.config["count"]):
            ctx.send({"out": Message.integer(i)})
        ctx.done()


def test_one_tick_sends_far_more_than_the_capacity() -> None:
    # The reference freezes the interpreter past ~52 sends toward a Python actor.
    net = Network()
    counter = Counter()
    net.register_actor("burst", Burst)
    net.register_actor("count", counter)
    net.add_node("b", "burst", {"count": 50_000})
    net.add_node("c", "count")
    net.add_connection("b", "out", "c", "in")
    net.add_initial("b", "go", Message.flow())
    assert net.run(timeout=60)
    assert counter.count == 50_000
    assert counter.total == sum(range(50_000))
    stats = net.stats()
    assert stats.inports["c.in"].high_water <= 64
    assert stats.edges["b.out -> c.in"].blocked_s > 0


def test_many_iips_on_one_port() -> None:
    # The reference's start() never returns past ~51 IIPs on one port.
    net = Network()
    counter = Counter()
    net.register_actor("count", counter)
    net.add_node("c", "count")
    for i in range(20_000):
        net.add_initial("c", "in", Message.integer(i))
    started = time.perf_counter()
    net.start()
    assert time.perf_counter() - started < 5  # start() returns at once
    assert net.wait(30)
    net.shutdown()
    assert counter.count == 20_000


def test_a_timer_keeps_its_rate_while_a_burst_runs_elsewhere() -> None:
    class Ticker(Actor):
        inports = ["start"]
        outports = ["tick"]

        async def run(self, ctx: Any) -> None:
            for i in range(ctx.config["ticks"]):
                await trio.sleep(ctx.config["interval"])
                await ctx.send_async({"tick": Message.integer(i)})

    class Stamp(Actor):
        inports = ["in"]
        outports: list[str] = []

        def __init__(self) -> None:
            self.times: list[float] = []

        def run(self, ctx: Any) -> None:
            self.times.append(time.perf_counter())

    net = Network()
    stamp = Stamp()
    net.register_actor("burst", Burst)
    net.register_actor("count", Counter())
    net.register_actor("ticker", Ticker)
    net.register_actor("stamp", stamp)
    net.add_node("b", "burst", {"count": 200_000})
    net.add_node("c", "count")
    net.add_connection("b", "out", "c", "in")
    net.add_node("t", "ticker", {"ticks": 20, "interval": 0.02})
    net.add_node("s", "stamp")
    net.add_connection("t", "tick", "s", "in")
    net.add_initial("b", "go", Message.flow())
    net.add_initial("t", "start", Message.flow())
    assert net.run(timeout=60)
    intervals = [b - a for a, b in zip(stamp.times, stamp.times[1:])]
    mean = sum(intervals) / len(intervals)
    assert abs(mean - 0.02) / 0.02 < 0.25, mean  # generous here; bench/burst.py measures it tightly


def test_small_capacities_everywhere_still_complete() -> None:
    net = Network()
    collect = Collect()
    net.register_actor("fwd", Forward())
    net.register_actor("col", collect)
    for i in range(10):
        net.add_node(f"n{i}", "fwd")
        if i:
            net.add_connection(f"n{i - 1}", "out", f"n{i}", "in", capacity=1)
    net.add_node("sink", "col")
    net.add_connection("n9", "out", "sink", "in", capacity=1)
    for i in range(1000):
        net.add_initial("n0", "in", Message.integer(i))
    assert net.run(timeout=30)
    assert collect.items == list(range(1000))


def test_thousands_of_producers_into_one_inport() -> None:
    net = Network()
    counter = Counter()
    net.register_actor("fwd", Forward())
    net.register_actor("count", counter)
    net.add_node("sink", "count")
    for i in range(2000):
        net.add_node(f"p{i}", "fwd")
        net.add_connection(f"p{i}", "out", "sink", "in", capacity=4)
        net.add_initial(f"p{i}", "in", Message.integer(i))
    assert net.run(timeout=60)
    assert counter.count == 2000


def test_a_slow_sink_shows_where_the_network_is_blocked() -> None:
    class SlowSink(Actor):
        inports = ["in"]
        outports: list[str] = []
        threaded = True

        def run(self, ctx: Any) -> None:
            time.sleep(0.002)

    net = Network()
    net.register_actor("burst", Burst)
    net.register_actor("slow", SlowSink())
    net.add_node("b", "burst", {"count": 400})
    net.add_node("s", "slow")
    net.add_connection("b", "out", "s", "in", capacity=4)
    net.add_initial("b", "go", Message.flow())
    net.start()
    time.sleep(0.2)
    stats = net.stats()
    assert stats.nodes["b"].state == "blocked"
    assert stats.edges["b.out -> s.in"].waiting
    assert stats.inports["s.in"].queued > stats.inports["s.in"].capacity // 2  # above the low-water mark
    assert net.wait(30) == RunState.COMPLETE
    net.shutdown()
