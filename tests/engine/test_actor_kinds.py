"""Sync, async and threaded actors, and running on an existing trio loop."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import trio

from reflow_cli import Actor, Message, Network, RunState
from tests.actors import Collect


class AsyncDouble(Actor):
    inports = ["in"]
    outports = ["out"]

    async def run(self, ctx: Any) -> None:
        await trio.sleep(0.001)
        ctx.done({"out": Message.integer(ctx.inputs["in"]["data"] * 2)})


class ThreadedSend(Actor):
    inports = ["in"]
    outports = ["out"]
    threaded = True

    def __init__(self) -> None:
        self.threads: set[str] = set()

    def run(self, ctx: Any) -> None:
        self.threads.add(threading.current_thread().name)
        time.sleep(0.001)  # blocking is fine here: this runs in a worker thread
        for i in range(3):
            ctx.send({"out": Message.integer(ctx.inputs["in"]["data"] * 10 + i)})
        ctx.done({"out": Message.string("end")})


def test_async_run_is_awaited_on_trio() -> None:
    net = Network()
    collect = Collect()
    net.register_actor("double", AsyncDouble())
    net.register_actor("col", collect)
    net.add_node("d", "double")
    net.add_node("c", "col")
    net.add_connection("d", "out", "c", "in")
    for i in range(5):
        net.add_initial("d", "in", Message.integer(i))
    assert net.run(timeout=5)
    assert collect.items == [0, 2, 4, 6, 8]


def test_threaded_run_sends_from_a_worker_thread_in_order() -> None:
    net = Network()
    collect = Collect()
    actor = ThreadedSend()
    net.register_actor("t", actor)
    net.register_actor("col", collect)
    net.add_node("t", "t")
    net.add_node("c", "col")
    net.add_connection("t", "out", "c", "in", capacity=2)
    for i in range(4):
        net.add_initial("t", "in", Message.integer(i))
    assert net.run(timeout=10)
    expected: list[Any] = []
    for i in range(4):
        expected += [i * 10, i * 10 + 1, i * 10 + 2, "end"]
    assert collect.items == expected
    assert "reflow-network" not in actor.threads


def test_sync_send_inside_async_run_waits_for_room() -> None:
    class MixedSender(Actor):
        inports = ["in"]
        outports = ["out"]

        async def run(self, ctx: Any) -> None:
            for i in range(200):
                ctx.send({"out": Message.integer(i)})  # sync send on a full inport suspends the tick
            await ctx.send_async({"out": Message.string("last")})

    net = Network()
    collect = Collect()
    net.register_actor("m", MixedSender())
    net.register_actor("col", collect)
    net.add_node("m", "m")
    net.add_node("c", "col")
    net.add_connection("m", "out", "c", "in", capacity=4)
    net.add_initial("m", "in", Message.flow())
    assert net.run(timeout=10)
    assert collect.items == [*range(200), "last"]


def test_run_async_on_an_existing_trio_loop() -> None:
    net = Network()
    collect = Collect()
    net.register_actor("double", AsyncDouble())
    net.register_actor("col", collect)
    net.add_node("d", "double")
    net.add_node("c", "col")
    net.add_connection("d", "out", "c", "in")
    net.add_initial("d", "in", Message.integer(21))

    async def main() -> Any:
        return await net.run_async(timeout=5)

    status = trio.run(main)
    assert status == RunState.COMPLETE
    assert collect.items == [42]
    assert net.stats().nodes["d"].ticks == 1


def test_run_async_timeout() -> None:
    class Forever(Actor):
        inports = ["in"]
        outports: list[str] = []

        async def run(self, ctx: Any) -> None:
            await trio.sleep_forever()

    net = Network()
    net.register_actor("f", Forever())
    net.add_node("f", "f")
    net.add_initial("f", "in", Message.flow())

    async def main() -> Any:
        return await net.run_async(timeout=0.05, grace=0.05)

    assert trio.run(main) == RunState.TIMEOUT


def test_stop_event_shuts_down_gracefully_and_sources_stop_first() -> None:
    class Ticker(Actor):
        inports = ["start"]
        outports = ["tick"]
        long_running = True  # its tick loops until stopped

        async def run(self, ctx: Any) -> None:
            i = 0
            while True:  # a source that never ends by itself
                await trio.sleep(0.005)
                await ctx.send_async({"tick": Message.integer(i)})
                i += 1

    net = Network()
    collect = Collect()
    net.register_actor("ticker", Ticker())
    net.register_actor("col", collect)
    net.add_node("t", "ticker")
    net.add_node("c", "col")
    net.add_connection("t", "tick", "c", "in")
    net.add_initial("t", "start", Message.flow())

    async def main() -> Any:
        stop = trio.Event()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(lambda: _set_after(stop, 0.1))
            started = trio.current_time()
            status = await net.run_async(grace=5, stop=stop)
            return status, trio.current_time() - started

    async def _set_after(event: trio.Event, delay: float) -> None:
        await trio.sleep(delay)
        event.set()

    status, elapsed = trio.run(main)
    # the source's tick was cancelled at once, what it sent drained, then the run settled
    assert status == RunState.COMPLETE
    assert elapsed < 2
    assert collect.items == list(range(len(collect.items))) and collect.items
    assert net.stats().undelivered == 0


def test_shutdown_stops_long_running_ticks_at_once_but_lets_others_finish() -> None:
    class Forever(Actor):
        inports = ["start"]
        outports = ["tick"]
        long_running = True

        async def run(self, ctx: Any) -> None:
            while True:
                await trio.sleep(0.01)
                await ctx.send_async({"tick": Message.flow()})

    class Slow(Actor):
        inports = ["in"]
        outports = ["out"]

        async def run(self, ctx: Any) -> None:
            await trio.sleep(0.2)
            ctx.done({"out": ctx.inputs["in"]})

    net = Network()
    ticks, slow_out = Collect(), Collect()
    net.register_actor("forever", Forever())
    net.register_actor("slow", Slow())
    net.register_actor("ticks", ticks)
    net.register_actor("slow_out", slow_out)
    net.add_node("f", "forever")
    net.add_node("s", "slow")
    net.add_node("t", "ticks")
    net.add_node("o", "slow_out")
    net.add_connection("f", "tick", "t", "in")
    net.add_connection("s", "out", "o", "in")
    net.add_initial("f", "start", Message.flow())
    net.add_initial("s", "in", Message.integer(7))
    started = time.perf_counter()
    status = net.run(timeout=0.05, grace=5)
    assert status == RunState.TIMEOUT
    assert time.perf_counter() - started < 2  # the timer did not hold shutdown for the grace period
    assert slow_out.items == [7]  # the in-flight slow tick finished
    assert len(ticks.items) < 30


def test_batch_actors_get_packets_in_batches() -> None:
    class Bulk(Actor):
        inports = ["in"]
        outports = ["sizes", "out"]
        batch_size = 16

        async def run_batch(self, ctx: Any, packets: list[Message]) -> None:
            await trio.sleep(0)
            await ctx.send_async({"sizes": Message.integer(len(packets))})
            for packet in packets:
                await ctx.send_async({"out": packet})

    net = Network()
    sizes, out = Collect(), Collect()
    net.register_actor("bulk", Bulk())
    net.register_actor("sizes", sizes)
    net.register_actor("out", out)
    net.add_node("b", "bulk")
    net.add_node("s", "sizes")
    net.add_node("o", "out")
    net.add_connection("b", "sizes", "s", "in")
    net.add_connection("b", "out", "o", "in")
    for i in range(100):
        net.add_initial("b", "in", Message.integer(i))
    assert net.run(timeout=10)
    assert out.items == list(range(100))
    assert sum(sizes.items) == 100 and max(sizes.items) == 16 and len(sizes.items) < 100
    assert net.stats().nodes["b"].ticks == 100


def test_a_failing_batch_fails_each_of_its_packets() -> None:
    class Broken(Actor):
        inports = ["in"]
        outports: list[str] = []
        batch_size = 8

        async def run_batch(self, ctx: Any, packets: list[Message]) -> None:
            raise RuntimeError("bulk insert refused")

    net = Network(on_error="skip")
    net.register_actor("broken", Broken())
    net.add_node("b", "broken")
    for i in range(5):
        net.add_initial("b", "in", Message.integer(i))
    events = net.events()
    assert net.run(timeout=10)
    failed = [e for e in events if e["_type"] == "ActorFailed"]
    assert len(failed) == 5 and failed[0]["error"] == "RuntimeError: bulk insert refused"
    stats = net.stats().nodes["b"]
    assert (stats.ticks, stats.skipped) == (5, 5)


def test_child_tasks_of_an_async_tick_may_send_at_once() -> None:
    class Fan(Actor):
        inports = ["start"]
        outports = ["out"]

        async def run(self, ctx: Any) -> None:
            async def sender(base: int) -> None:
                for i in range(200):
                    await ctx.send_async({"out": Message.integer(base + i)})

            async with trio.open_nursery() as nursery:
                nursery.start_soon(sender, 0)
                nursery.start_soon(sender, 1000)

    class SlowSink(Collect):
        def run(self, ctx: Any) -> None:
            time.sleep(0.0002)
            super().run(ctx)

    net = Network()
    sink = SlowSink()
    net.register_actor("fan", Fan())
    net.register_actor("sink", sink)
    net.add_node("f", "fan")
    net.add_node("s", "sink")
    net.add_connection("f", "out", "s", "in", capacity=4)
    net.add_initial("f", "start", Message.flow())
    assert net.run(timeout=30) == RunState.COMPLETE
    assert sorted(sink.items) == [*range(200), *range(1000, 1200)]
    assert [x for x in sink.items if x < 1000] == list(range(200))  # each sender's own order holds


@pytest.mark.parametrize("threaded", [False, True], ids=["sync", "threaded"])
def test_sync_long_running_ticks_poll_ctx_stopping(threaded: bool) -> None:
    """A blocking polling loop cannot be cancelled: it sees ctx.stopping turn true and returns."""
    seen: list[bool] = []

    class Poller(Actor):
        inports = ["start"]
        outports = ["tick"]
        long_running = True

        def run(self, ctx: Any) -> None:
            seen.append(ctx.stopping)
            i = 0
            while not ctx.stopping:
                time.sleep(0.005)
                ctx.send({"tick": Message.integer(i)})
                i += 1
            seen.append(ctx.stopping)

    Poller.threaded = threaded
    net = Network()
    ticks = Collect()
    net.register_actor("poller", Poller())
    net.register_actor("ticks", ticks)
    net.add_node("p", "poller")
    net.add_node("t", "ticks")
    net.add_connection("p", "tick", "t", "in")
    net.add_initial("p", "start", Message.flow())
    started = time.perf_counter()
    status = net.run(timeout=0.1, grace=5)
    assert status == RunState.TIMEOUT
    assert time.perf_counter() - started < 2  # returned soon after the stop, not after the grace period
    assert seen == [False, True]
    assert ticks.items == list(range(len(ticks.items))) and ticks.items  # everything sent was delivered


class SlowSync(Actor):
    """A blocking sync tick (what `threaded = True` is for, written without it)."""

    inports = ["in"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        time.sleep(0.1)
        ctx.done({"out": ctx.inputs["in"]})


def test_slow_sync_ticks_do_not_hold_up_a_timeout() -> None:
    # 30 queued packets of 100 ms each: one batch of them would block trio for 3 s
    from reflow_cli.runner import run_to_end

    net = Network()
    net.register_actor("slow", SlowSync())
    net.add_node("s", "slow")
    for i in range(30):
        net.add_initial("s", "in", Message.integer(i))
    started = time.perf_counter()
    outcome = run_to_end(net, timeout=0.3, grace=0.2, handle_signals=False)
    assert outcome.reason == "timeout"
    assert time.perf_counter() - started < 1.5  # a batch shrinks to one slow tick
    stats = net.stats()
    assert stats.nodes["s"].ticks + stats.undelivered == 30  # and what did not run is reported


class SlowAsync(Actor):
    inports = ["in"]
    outports = ["out"]

    async def run(self, ctx: Any) -> None:
        await trio.sleep(0.05)
        ctx.done({"out": ctx.inputs["in"]})


def test_an_async_tick_cancelled_at_the_end_of_the_grace_period_is_reported_undelivered() -> None:
    from reflow_cli.runner import run_to_end

    net = Network()
    sink = Collect()
    net.register_actor("slow", SlowAsync())
    net.register_actor("sink", sink)
    net.add_node("s", "slow")
    net.add_node("k", "sink")
    net.add_connection("s", "out", "k", "in")
    for i in range(40):
        net.add_initial("s", "in", Message.integer(i))
    outcome = run_to_end(net, timeout=0.2, grace=0.1, handle_signals=False)
    assert outcome.reason == "timeout"
    stats = net.stats()
    assert len(sink.items) + stats.undelivered == 40  # nothing vanished, the cancelled tick's packet included


class Pass(Actor):
    inports = ["in"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        ctx.done({"out": ctx.inputs["in"]})


def test_a_push_cancelled_while_blocked_counts_what_never_went_out_once() -> None:
    # a fast node blocked on a slow consumer's full inport when the grace period ends
    from reflow_cli.runner import run_to_end

    net = Network()
    sink = Collect()
    net.register_actor("pass", Pass())
    net.register_actor("slow", SlowAsync())
    net.register_actor("sink", sink)
    net.add_node("p", "pass")
    net.add_node("s", "slow")
    net.add_node("k", "sink")
    net.add_connection("p", "out", "s", "in", capacity=4)
    net.add_connection("s", "out", "k", "in")
    for i in range(500):
        net.add_initial("p", "in", Message.integer(i))
    outcome = run_to_end(net, timeout=0.2, grace=0.05, handle_signals=False)
    assert outcome.reason == "timeout"
    assert len(sink.items) + net.stats().undelivered == 500  # nothing lost, nothing counted twice
