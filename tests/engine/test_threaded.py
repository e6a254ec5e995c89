"""Threaded actors run several short ticks per worker-thread hand-off, and nothing about it shows.

Batching must keep: FIFO per edge (``done`` outputs and ``ctx.send`` interleaved),
the error policies tick by tick, stream hand-offs between ticks, capacity bounds,
and one tick per hand-off for slow ticks.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from reflow_cli import Actor, Message, Network, RunState, Stream
from reflow_cli.engine._threaded import LATENCY_BUDGET_S
from tests.actors import Collect


class Recorder(Actor):
    """Threaded: notes the worker thread and the size of the hand-off of each tick, forwards the packet."""

    inports = ["in"]
    outports = ["out"]
    threaded = True

    def __init__(self, sleep_s: float = 0.0) -> None:
        self.sleep_s = sleep_s
        self.threads: list[int] = []
        self.hand_offs: list[int] = []  # ticks in the hand-off each tick ran in (engine internals)

    def run(self, ctx: Any) -> None:
        self.threads.append(threading.get_ident())
        self.hand_offs.append(len(ctx._node.threaded.taken))
        if self.sleep_s:
            time.sleep(self.sleep_s)
        ctx.done({"out": ctx.inputs["in"]})


def chain(actor: Actor, count: int, **node: Any) -> tuple[Network, Collect]:
    net = Network()
    sink = Collect()
    net.register_actor("worker", actor)
    net.register_actor("sink", sink)
    net.add_node("w", "worker", **node)
    net.add_node("s", "sink")
    net.add_connection("w", "out", "s", "in")
    for i in range(count):
        net.add_initial("w", "in", Message.integer(i))
    return net, sink


def test_short_ticks_share_hand_offs_and_keep_their_order() -> None:
    actor = Recorder()
    net, sink = chain(actor, 2000)
    assert net.run(timeout=30)
    assert sink.items == list(range(2000))
    assert net.stats().nodes["w"].ticks == 2000
    assert threading.get_ident() not in actor.threads  # every tick ran in a worker thread
    assert max(actor.hand_offs) > 1  # short ticks were batched
    assert max(actor.hand_offs) <= 64  # never more than the inport's capacity


class SendsAndDones(Actor):
    """Threaded: even packets go out with ctx.send, odd ones with done (the two paths interleaved)."""

    inports = ["in"]
    outports = ["out"]
    threaded = True

    def run(self, ctx: Any) -> None:
        packet = ctx.inputs["in"]
        if packet["data"] % 2 == 0:
            ctx.send({"out": packet})
            ctx.done()
        else:
            ctx.done({"out": packet})


def test_ctx_send_goes_after_the_done_outputs_of_earlier_ticks_of_the_batch() -> None:
    net, sink = chain(SendsAndDones(), 1000)
    assert net.run(timeout=30)
    assert sink.items == list(range(1000))


class FailsOnMultiplesOfSeven(Actor):
    inports = ["in"]
    outports = ["out", "error"]
    threaded = True

    def run(self, ctx: Any) -> None:
        n = ctx.inputs["in"]["data"]
        if n % 7 == 0:
            raise ValueError(f"seven divides {n}")
        if n % 7 == 3:
            ctx.fail(f"three past {n - 3}")
            return
        ctx.done({"out": ctx.inputs["in"]})


@pytest.mark.parametrize("policy", ["skip", "dead_letter"])
def test_a_failure_in_the_middle_of_a_batch_follows_the_policy_and_the_rest_runs(policy: str, tmp_path: Any) -> None:
    net = Network(dead_letter_path=str(tmp_path / "dead.jsonl"))
    sink = Collect()
    net.register_actor("worker", FailsOnMultiplesOfSeven())
    net.register_actor("sink", sink)
    net.add_node("w", "worker", on_error=policy)
    net.add_node("s", "sink")
    net.add_connection("w", "out", "s", "in")
    for i in range(500):
        net.add_initial("w", "in", Message.integer(i))
    events = net.events()
    assert net.run(timeout=30)
    assert sink.items == [n for n in range(500) if n % 7 not in (0, 3)]
    stats = net.stats().nodes["w"]
    failed = sum(1 for n in range(500) if n % 7 in (0, 3))
    assert stats.ticks == 500 == stats.ok + stats.skipped + stats.dead_lettered
    assert stats.failures == failed
    assert sum(1 for e in events if e["_type"] == "ActorFailed") == failed


def test_fail_policy_stops_at_the_first_failure_of_a_batch() -> None:
    net, sink = chain(FailsOnMultiplesOfSeven(), 200, on_error="fail")  # packet 0 fails at once
    status = net.run(timeout=30)
    assert status == RunState.FAILED
    assert status.failure is not None and status.failure.error == "ValueError: seven divides 0"
    assert sink.items == []


class Flaky(Actor):
    """Threaded: fails the first attempt of every third packet."""

    inports = ["in"]
    outports = ["out"]
    threaded = True

    def __init__(self) -> None:
        self.seen: set[int] = set()

    def run(self, ctx: Any) -> None:
        n = ctx.inputs["in"]["data"]
        if n % 3 == 0 and n not in self.seen:
            self.seen.add(n)
            raise RuntimeError(f"flaky {n}")
        ctx.done({"out": ctx.inputs["in"]})


def test_retry_replays_a_failed_tick_in_place() -> None:
    net, sink = chain(Flaky(), 300, on_error="retry", retry={"count": 2, "backoff": 0})
    assert net.run(timeout=30)
    assert sink.items == list(range(300))
    stats = net.stats().nodes["w"]
    assert stats.retries == 100 and stats.ticks == 300


class StreamPerPair(Actor):
    """Threaded: an even packet opens a stream and hands it on; the next (odd) one writes it full and ends it.

    The odd tick writes more frames than the stream buffers, so it only finishes
    if the handle was delivered (and is being read) before it ran. String
    packets pass straight through: a run of them makes hand-offs large first.
    """

    inports = ["in"]
    outports = ["out", "skipped"]
    threaded = True

    def run(self, ctx: Any) -> None:
        n = ctx.inputs["in"]["data"]
        if isinstance(n, str):
            ctx.done({"skipped": ctx.inputs["in"]})
        elif n % 2 == 0:
            stream = Stream.create(buffer_size=2)
            ctx.state["stream"] = stream
            ctx.done({"out": stream.into_message()})
        else:
            stream = ctx.state.pop("stream")
            for i in range(10):
                stream.send_bytes(f"{n}:{i};".encode())
            stream.end()
            ctx.done()


class ReadStream(Actor):
    inports = ["in"]
    outports: list[str] = []

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def run(self, ctx: Any) -> None:
        stream = ctx.inputs["in"].take_stream()
        chunks = []
        async for frame in stream:
            if frame["kind"] == "data":
                chunks.append(bytes(frame["data"]).decode())
        self.texts.append("".join(chunks))
        ctx.done()


def test_a_stream_handle_is_delivered_before_the_next_tick_of_the_batch_runs() -> None:
    net = Network()
    reader = ReadStream()
    net.register_actor("writer", StreamPerPair())
    net.register_actor("reader", reader)
    net.add_node("w", "writer")
    net.add_node("r", "reader")
    net.add_connection("w", "out", "r", "in")
    for i in range(500):
        net.add_initial("w", "in", Message.string(f"warm-up {i}"))
    for i in range(20):
        net.add_initial("w", "in", Message.integer(i))
    assert net.run(timeout=30)
    assert reader.texts == ["".join(f"{n}:{i};" for i in range(10)) for n in range(1, 20, 2)]


def test_slow_ticks_keep_one_tick_per_hand_off() -> None:
    actor = Recorder(sleep_s=2 * LATENCY_BUDGET_S)
    net, sink = chain(actor, 30)
    assert net.run(timeout=30)
    assert sink.items == list(range(30))
    assert actor.hand_offs == [1] * 30


def test_a_hand_off_never_takes_more_than_the_inport_capacity() -> None:
    net = Network()
    sink = Collect()
    fast, capped = Recorder(), Recorder()
    net.register_actor("fast", fast)
    net.register_actor("capped", capped)
    net.register_actor("sink", sink)
    net.add_node("a", "fast")
    net.add_node("p", "capped")
    net.add_node("s", "sink")
    net.add_connection("a", "out", "p", "in", capacity=3)
    net.add_connection("p", "out", "s", "in")
    for i in range(600):
        net.add_initial("a", "in", Message.integer(i))
    assert net.run(timeout=30)
    assert sink.items == list(range(600))
    assert max(capped.hand_offs) <= 3
    assert net.stats().inports["p.in"].high_water <= 3
