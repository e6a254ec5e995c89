"""Byte streams between actors: frames, take-once, backpressure, closed, completion."""

from __future__ import annotations

import gc
import threading
import time

import pytest
import trio

from reflow_cli import Actor, Message, Network, RunState, Stream
from reflow_cli.errors import NotAStreamError, StreamError


def test_frames_written_before_hand_off_are_replayed_outside_any_network() -> None:
    stream = Stream.create(content_type="text/plain")
    stream.send_begin("text/plain", 6, {"name": "greeting"})
    stream.send_bytes(b"abc")
    stream.send_bytes(bytearray(b"def"))
    stream.end()
    handle = stream.into_message()
    assert handle.kind == "StreamHandle"
    assert set(handle["data"]) == {"stream_id", "origin_actor", "origin_port", "content_type", "size_hint"}
    reader = Message.from_json(handle.as_json()).take_stream()  # the reference's form works too
    assert reader.recv(0) == {"kind": "begin", "content_type": "text/plain", "size_hint": 6, "metadata": {"name": "greeting"}}
    assert reader.recv(0) == {"kind": "data", "data": b"abc"}
    assert reader.recv(0) == {"kind": "data", "data": b"def"}
    assert reader.recv(0) == {"kind": "end"}
    assert reader.recv(0) == {"kind": "timeout"}


def test_take_once_and_not_a_stream() -> None:
    stream = Stream.create()
    handle = stream.into_message()
    handle.take_stream()
    with pytest.raises(StreamError, match="already taken"):
        handle.take_stream()
    with pytest.raises(NotAStreamError, match="not a StreamHandle"):
        Message.integer(1).take_stream()
    stream.end()


def test_error_frame_and_iteration_raise() -> None:
    stream = Stream.create()
    stream.send_bytes(b"x")
    stream.error("disk on fire")
    reader = stream.into_message().take_stream()
    with pytest.raises(StreamError, match="disk on fire"):
        list(reader)


def test_closed_is_reported_once_when_the_producer_goes_away() -> None:
    stream = Stream.create()
    stream.send_bytes(b"partial")
    reader = stream.into_message().take_stream()
    del stream
    gc.collect()
    assert reader.recv(0) == {"kind": "data", "data": b"partial"}
    assert reader.recv(0) == {"kind": "closed"}
    assert reader.recv(0) == {"kind": "timeout"}


def test_sending_after_end_is_an_error() -> None:
    stream = Stream.create()
    stream.end()
    with pytest.raises(StreamError, match="already ended"):
        stream.send_bytes(b"late")


def test_bounded_stream_blocks_a_thread_producer_until_read() -> None:
    stream = Stream.create(buffer_size=2)
    reader = stream.into_message().take_stream()
    progress: list[int] = []

    def produce() -> None:
        for i in range(5):
            stream.send_bytes(bytes([i]))
            progress.append(i)
        stream.end()

    producer = threading.Thread(target=produce)
    producer.start()
    time.sleep(0.1)
    assert progress == [0, 1]  # two frames in flight, the third waits
    received = [frame["data"] for frame in reader]
    producer.join(5)
    assert received == [bytes([i]) for i in range(5)]


class Producer(Actor):
    inports = ["go"]
    outports = ["out"]

    def run(self, ctx):  # type: ignore[no-untyped-def]
        frames, size = ctx.config["frames"], ctx.config["size"]
        stream = Stream.create(buffer_size=ctx.config.get("buffer", 0), origin_actor=ctx.node_id, origin_port="out")
        ctx.send({"out": stream.into_message()})  # hand off first, then keep writing: real streaming
        chunk = b"z" * size
        for _ in range(frames):
            stream.send_bytes(chunk)
        stream.end()
        ctx.done()


class Consumer(Actor):
    inports = ["in"]
    outports = ["size"]

    def run(self, ctx):  # type: ignore[no-untyped-def]
        reader = ctx.inputs["in"].take_stream()
        total = 0
        for frame in reader:
            if frame["kind"] == "data":
                total += len(frame["data"])
        ctx.done({"size": Message.integer(total)})


class Total(Actor):
    inports = ["in"]
    outports: list[str] = []

    def __init__(self) -> None:
        self.values: list[int] = []

    def run(self, ctx):  # type: ignore[no-untyped-def]
        self.values.append(ctx.inputs["in"]["data"])


def stream_network(frames: int, size: int, buffer: int) -> tuple[Network, Total]:
    net = Network()
    total = Total()
    net.register_actor("prod", Producer)
    net.register_actor("cons", Consumer())
    net.register_actor("total", total)
    net.add_node("p", "prod", {"frames": frames, "size": size, "buffer": buffer})
    net.add_node("c", "cons")
    net.add_node("t", "total")
    net.add_connection("p", "out", "c", "in")
    net.add_connection("c", "size", "t", "in")
    net.add_initial("p", "go", Message.flow())
    return net, total


def test_a_bounded_stream_between_sync_actors_streams_with_backpressure() -> None:
    net, total = stream_network(frames=2000, size=1024, buffer=8)
    assert net.run(timeout=30)
    assert total.values == [2000 * 1024]


def test_async_actors_stream_with_the_async_methods() -> None:
    class AsyncProducer(Actor):
        inports = ["go"]
        outports = ["out"]

        async def run(self, ctx):  # type: ignore[no-untyped-def]
            stream = Stream.create(buffer_size=2)
            await ctx.send_async({"out": stream.into_message()})
            for i in range(10):
                await stream.send_bytes_async(bytes([i]))
            await stream.end_async()

    class AsyncConsumer(Actor):
        inports = ["in"]
        outports = ["size"]

        async def run(self, ctx):  # type: ignore[no-untyped-def]
            reader = ctx.inputs["in"].take_stream()
            data = [frame["data"] async for frame in reader]
            ctx.done({"size": Message.integer(len(data))})

    net = Network()
    total = Total()
    net.register_actor("prod", AsyncProducer())
    net.register_actor("cons", AsyncConsumer())
    net.register_actor("total", total)
    net.add_node("p", "prod")
    net.add_node("c", "cons")
    net.add_node("t", "total")
    net.add_connection("p", "out", "c", "in")
    net.add_connection("c", "size", "t", "in")
    net.add_initial("p", "go", Message.flow())
    assert net.run(timeout=10)
    assert total.values == [10]


def test_an_open_stream_keeps_the_run_from_completing() -> None:
    class Opener(Actor):
        inports = ["go", "finish"]
        outports = ["out"]

        def run(self, ctx):  # type: ignore[no-untyped-def]
            if "go" in ctx.inputs:
                ctx.state["stream"] = Stream.create()
                ctx.state["stream"].send_bytes(b"a")
            else:
                ctx.state.pop("stream").end()

    net = Network()
    net.register_actor("open", Opener())
    net.add_node("o", "open")
    net.add_initial("o", "go", Message.flow())
    net.start()
    assert net.wait(0.3) == RunState.TIMEOUT  # the stream is open: not complete
    net.add_initial("o", "finish", Message.flow())
    assert net.wait(5) == RunState.COMPLETE
    net.shutdown()


def test_recv_async_times_out() -> None:
    stream = Stream.create()
    reader = stream.into_message().take_stream()

    async def main() -> dict:
        return await reader.recv_async(20)

    assert trio.run(main) == {"kind": "timeout"}
    stream.end()


def test_create_takes_a_size_hint_for_the_handle() -> None:
    stream = Stream.create(content_type="image/png", size_hint=1234)
    handle = stream.into_message()
    assert handle["data"]["content_type"] == "image/png" and handle["data"]["size_hint"] == 1234
    stream.end()
