"""Streams: frames a consumer sees (StreamReader.recv), the StreamHandle JSON shape, and the
errors of take_stream.  Every case runs in a fresh process, so the process-global
stream id counter starts from the same value each time."""

from __future__ import annotations

import time
from typing import Any, Callable

from _harness import case, describe_exc, encode
from _net import Recorder, make_actor, run_network
from offbit_reflow import Message, Stream

GOLDEN = "streams.json"
ISOLATE = True
ABOUT = __doc__


def err(fn: Callable[[], Any]) -> Any:
    try:
        value = fn()
    except BaseException as exc:  # noqa: BLE001
        return {"error": describe_exc(exc)}
    return {"returned": encode(value)}


def read_frames(reader: Any, timeout_ms: int = 200, limit: int = 12) -> list[Any]:
    """recv() until two 'timeout' frames in a row (or ``limit`` frames)."""
    frames: list[Any] = []
    timeouts = 0
    while len(frames) < limit:
        frame = reader.recv(timeout_ms)
        frames.append(encode(frame))
        if isinstance(frame, dict) and frame.get("kind") == "timeout":
            timeouts += 1
            if timeouts >= 2:
                break
        else:
            timeouts = 0
    return frames


def produce(with_error: bool, **create: Any) -> Any:
    s = Stream.create(**create)
    s.send_begin(content_type="application/x-probe", size_hint=6, metadata={"k": "v"})
    s.send_bytes(b"abc")
    s.send_bytes(b"def")
    if with_error:
        s.error("bad thing")
    else:
        s.end()
    return s


@case("standalone_begin_data_end")
def standalone_begin_data_end() -> Any:
    """Producer and consumer in the same thread, no network."""
    s = produce(False, buffer_size=0, content_type="text/plain")
    message = s.into_message()
    out: dict[str, Any] = {
        "kind": message.kind,
        "as_json": encode(message.as_json()),
        "data": encode(message.data()),
        "send_bytes_after_into_message": err(lambda: s.send_bytes(b"x")),
        "end_after_into_message": err(lambda: s.end()),
        "into_message_twice": err(lambda: s.into_message()),
    }
    reader = message.take_stream()
    out["reader_type"] = type(reader).__name__
    out["frames"] = read_frames(reader)
    out["take_stream_twice"] = err(lambda: message.take_stream())
    out["take_stream_from_json_copy"] = err(lambda: Message.from_json(message.as_json()).take_stream())
    out["take_stream_unknown_id"] = err(
        lambda: Message.from_json(
            {
                "type": "StreamHandle",
                "data": {"stream_id": 424242, "origin_actor": "", "origin_port": "", "content_type": None, "size_hint": None},
            }
        ).take_stream()
    )
    out["take_stream_on_integer"] = err(lambda: Message.integer(1).take_stream())
    out["take_stream_on_string"] = err(lambda: Message.string("s").take_stream())
    return out


@case("standalone_error")
def standalone_error() -> Any:
    s = produce(True)
    message = s.into_message()
    return {"as_json": encode(message.as_json()), "frames": read_frames(message.take_stream())}


@case("standalone_origin_and_defaults")
def standalone_origin_and_defaults() -> Any:
    """Handle JSON for Stream.create() with no arguments and with origin_actor/origin_port."""
    plain = Stream.create()
    plain.end()
    named = Stream.create(buffer_size=4, origin_actor="actorA", origin_port="portP", content_type="image/jpeg")
    named.end()
    plain_message = plain.into_message()
    reader = plain_message.take_stream()
    return {
        "create_signature": getattr(Stream.create, "__text_signature__", None),
        "send_begin_signature": getattr(Stream.send_begin, "__text_signature__", None),
        "recv_signature": getattr(type(reader).recv, "__text_signature__", None),
        "default": encode(plain_message.as_json()),
        "named": encode(named.into_message().as_json()),
    }


@case("standalone_no_begin")
def standalone_no_begin() -> Any:
    """send_bytes + end without send_begin: which frames appear."""
    s = Stream.create(content_type="text/plain")
    s.send_bytes(b"x")
    s.end()
    return {"frames": read_frames(s.into_message().take_stream())}


@case("standalone_send_begin_defaults")
def standalone_send_begin_defaults() -> Any:
    """send_begin() with no arguments on a stream created with content_type."""
    s = Stream.create(content_type="text/plain")
    s.send_begin()
    s.end()
    return {"frames": read_frames(s.into_message().take_stream())}


def network_case(with_error: bool) -> Any:
    consumer_obs = Recorder()
    producer_obs = Recorder()

    def producer(ctx: Any) -> None:
        s = produce(with_error, buffer_size=0, content_type="text/plain")
        message = s.into_message()
        producer_obs.add(encode(message.as_json()))
        ctx.done({"out": message})

    def consumer(ctx: Any) -> None:
        handle = ctx.inputs["in"]
        entry: dict[str, Any] = {"inputs": encode(ctx.inputs)}
        entry["readme_form_inputs_take_stream"] = err(lambda: handle.take_stream())
        reader = Message.from_json(handle).take_stream()
        entry["frames"] = read_frames(reader)
        entry["take_again"] = err(lambda: Message.from_json(handle).take_stream())
        consumer_obs.add(entry)
        ctx.done()

    status = run_network(
        {
            "tpl_producer": make_actor(producer, component="producer"),
            "tpl_consumer": make_actor(consumer, outports=(), component="consumer"),
        },
        [("producer", "tpl_producer"), ("consumer", "tpl_consumer")],
        [("producer", "out", "consumer", "in")],
        [("producer", "in", {"type": "Flow"})],
        until=lambda: len(consumer_obs) >= 1,
        max_wait=5.0,
    )
    return {"producer_handle": producer_obs.snapshot(), "consumer": consumer_obs.snapshot(), **status}


@case("network_begin_data_end", timeout=30)
def network_begin_data_end() -> Any:
    """Producer actor: send_begin(content_type, size_hint, metadata) + 2 data frames + end,
    then done({out: into_message()}); consumer reads the frames."""
    return network_case(False)


@case("network_error", timeout=30)
def network_error() -> Any:
    """As network_begin_data_end but error('bad thing') instead of end()."""
    return network_case(True)


@case("reader_after_producer_dropped", timeout=30)
def reader_after_producer_dropped() -> Any:
    """Producer sends one frame and is dropped without end()/error()."""
    s = Stream.create()
    s.send_bytes(b"x")
    message = s.into_message()
    del s
    time.sleep(0.05)
    return {"frames": read_frames(message.take_stream())}
