"""Streams family: byte streams through real networks (frames, backpressure, errors, pacing)."""

from __future__ import annotations

import os
import time

import pytest

from reflow_cli import Message, Network, Stream
from tests.catalog._helpers import Sink, run_component, stream_message, tagged as T


def S(*chunks: str, **extra: object) -> dict:
    return {"stream": list(chunks), **extra}


def kinds(frames: list[dict]) -> list[str]:
    return [frame["kind"] for frame in frames]


# -- tpl_bytes_to_stream -------------------------------------------------------------------------------


def test_bytes_to_stream_frames_and_handle() -> None:
    result = run_component("tpl_bytes_to_stream", {"chunkSize": 2, "contentType": "text/plain"}, {"input": [T("Bytes", list(b"hello"))]})
    handle = result.one("stream")["data"]
    assert (handle["content_type"], handle["size_hint"], handle["origin_actor"], handle["origin_port"]) == ("text/plain", 5, "n", "stream")
    (frames,) = result.frames["stream"]
    assert kinds(frames) == ["begin", "data", "data", "data", "end"]
    assert (frames[0]["content_type"], frames[0]["size_hint"]) == ("text/plain", 5)
    assert result.chunks("stream") == [b"he", b"ll", b"o"]


def test_bytes_to_stream_of_a_string_and_of_nothing() -> None:
    result = run_component("tpl_bytes_to_stream", {}, {"input": [T("String", "héllo"), T("Bytes", [])]})
    assert result.chunks("stream", 0) == ["héllo".encode()]
    assert result.chunks("stream", 1) == [] and kinds(result.frames["stream"][1]) == ["begin", "end"]


def test_bytes_to_stream_refuses_other_kinds() -> None:
    result = run_component("tpl_bytes_to_stream", {}, {"input": [T("Integer", 3)]})
    assert result.data("error") == ["Expected Bytes or String on input port"]


def test_bytes_to_stream_waits_for_a_slow_reader() -> None:
    # 1 MiB in 4 KiB frames through a 4-frame buffer: the producer waits, nothing is lost
    data = os.urandom(1 << 20)
    result = run_component("tpl_bytes_to_stream", {"chunkSize": 4096, "bufferSize": 4}, {"input": [Message.bytes(data).as_json()]})
    chunks = result.chunks("stream")
    assert len(chunks) == 256 and b"".join(chunks) == data


# -- tpl_stream_to_bytes ---------------------------------------------------------------------------------


def test_stream_to_bytes_collects() -> None:
    result = run_component("tpl_stream_to_bytes", {}, {"stream": [S("abc", "def", content_type="text/csv")]})
    assert result.one("output") == Message.bytes(b"abcdef")
    assert result.one("metadata")["data"] == {"contentType": "text/csv", "size": 6, "streamMetadata": None}


def test_stream_to_bytes_errors() -> None:
    result = run_component("tpl_stream_to_bytes", {}, {"stream": [S("abc", error="boom"), T("Flow")]})
    assert result.data("error") == ["Stream error: boom", "No StreamHandle on stream port"]
    result = run_component("tpl_stream_to_bytes", {"maxBytes": 4}, {"stream": [S("abc", "def")]})
    assert result.data("error") == ["Stream error: 6 bytes is more than maxBytes (4)"]


def test_stream_to_bytes_of_a_producer_that_went_away() -> None:
    stream = Stream.create(0)
    stream.send_bytes(b"partial")
    handle = stream.into_message()
    del stream  # never ended: the reader sees a `closed` frame
    result = run_component("tpl_stream_to_bytes", {}, {"stream": [handle]})
    assert result.data("error") == ["Stream error: the producer went away without ending the stream"]


def test_stream_taken_twice_is_an_error() -> None:
    handle = stream_message(S("x"))
    handle.take_stream()
    result = run_component("tpl_stream_to_bytes", {}, {"stream": [handle]})
    assert result.data("error")[0].startswith("No StreamHandle on stream port: no receiver for stream")


# -- a chain ----------------------------------------------------------------------------------------------


def test_bytes_through_buffer_and_tee_back_to_bytes() -> None:
    data = os.urandom(200_000)
    net = Network()
    sink = Sink()
    net.register_actor("sink", sink)
    net.add_node("split", "tpl_bytes_to_stream", {"chunkSize": 1000, "contentType": "application/octet-stream"})
    net.add_node("join", "tpl_stream_buffer", {"bufferBytes": 16384})
    net.add_node("tee", "tpl_stream_tee", {"bufferSize": 2})
    net.add_node("a", "tpl_stream_to_bytes")
    net.add_node("b", "tpl_stream_stats")
    net.add_node("b2", "tpl_stream_to_bytes")
    net.add_node("sink", "sink")
    net.add_connection("split", "stream", "join", "stream")
    net.add_connection("join", "stream", "tee", "stream")
    net.add_connection("tee", "stream_a", "a", "stream")
    net.add_connection("tee", "stream_b", "b", "stream")
    net.add_connection("b", "stream", "b2", "stream")
    net.add_connection("a", "output", "sink", "a")
    net.add_connection("b2", "output", "sink", "b")
    net.add_connection("b", "stats", "sink", "stats")
    net.add_initial("split", "input", Message.bytes(data))
    assert net.run(timeout=20).name == "COMPLETE"
    got = {port: message for port, message, _t in sink.items}
    assert got["a"]["data"] == data and got["b"]["data"] == data
    stats = got["stats"]["data"]
    assert stats["totalBytes"] == 200_000 and stats["dataFrames"] == 12  # 11 frames of 17,000 bytes (>= 16 KiB), then the rest
    assert stats["contentType"] == "application/octet-stream" and stats["sizeHint"] == 200_000 and stats["ended"] == "end"


# -- tpl_stream_tee ----------------------------------------------------------------------------------------


def test_tee_copies_every_frame_to_both() -> None:
    # one sink reads stream_a to its end before stream_b: the 64-frame buffer holds b meanwhile
    result = run_component("tpl_stream_tee", {}, {"stream": [S(*[f"f{i}" for i in range(20)], content_type="text/plain")]})
    for port in ("stream_a", "stream_b"):
        (frames,) = result.frames[port]
        assert kinds(frames) == ["begin"] + ["data"] * 20 + ["end"]
        assert result.chunks(port) == [f"f{i}".encode() for i in range(20)]
        assert result.one(port)["data"]["origin_port"] == port
        assert result.one(port)["data"]["content_type"] == "text/plain"


def test_tee_forwards_an_error_frame() -> None:
    result = run_component("tpl_stream_tee", {}, {"stream": [S("a", error="disk full")]})
    assert kinds(result.frames["stream_a"][0]) == ["data", "error"]
    assert result.frames["stream_b"][0][-1] == {"kind": "error", "error": "disk full"}


# -- tpl_stream_buffer ---------------------------------------------------------------------------------------


def test_buffer_joins_small_frames() -> None:
    result = run_component("tpl_stream_buffer", {"bufferBytes": 4}, {"stream": [S("abc", "def", "g", content_type="text/csv")]})
    assert result.chunks("stream") == [b"abcdef", b"g"]
    assert result.frames["stream"][0][0]["content_type"] == "text/csv"
    result = run_component("tpl_stream_buffer", {"bufferBytes": 3}, {"stream": [S("abc", "de", error="cut")]})
    assert kinds(result.frames["stream"][0]) == ["data", "error"]  # the held "de" is dropped with the error


# -- tpl_stream_throttle -------------------------------------------------------------------------------------


def test_throttle_paces_by_bytes_per_second() -> None:
    started = time.perf_counter()
    result = run_component("tpl_stream_throttle", {"bytesPerSecond": 20_000}, {"stream": [S(*["x" * 1000] * 4)]})
    elapsed = time.perf_counter() - started
    assert result.chunks("stream") == [b"x" * 1000] * 4
    assert 0.19 <= elapsed < 1.5  # 4 x 50 ms


def test_throttle_delay_between_frames() -> None:
    started = time.perf_counter()
    result = run_component("tpl_stream_throttle", {"delayMs": 40}, {"stream": [S("a", "b", "c")]})
    assert result.chunks("stream") == [b"a", b"b", b"c"]
    assert time.perf_counter() - started >= 0.11


# -- tpl_stream_stats ------------------------------------------------------------------------------------------


def test_stats_sends_the_handle_first_and_measures() -> None:
    net = Network()
    sink = Sink()
    net.register_actor("sink", sink)
    net.add_node("src", "tpl_bytes_to_stream", {"chunkSize": 10})
    net.add_node("slow", "tpl_stream_throttle", {"delayMs": 50})
    net.add_node("stats", "tpl_stream_stats")
    net.add_node("sink", "sink")
    net.add_connection("src", "stream", "slow", "stream")
    net.add_connection("slow", "stream", "stats", "stream")
    net.add_connection("stats", "stream", "sink", "stream")
    net.add_connection("stats", "stats", "sink", "stats")
    net.add_initial("src", "input", T("String", "x" * 40))
    assert net.run(timeout=10).name == "COMPLETE"
    times = {port: at for port, _m, at in sink.items}
    stats = next(m["data"] for p, m, _t in sink.items if p == "stats")
    # the handle arrived before the (throttled) data: the reader reads while data flows
    assert times["stats"] - times["stream"] >= 0.15
    assert stats["totalBytes"] == 40 and stats["dataFrames"] == 4 and stats["avgFrameBytes"] == 10
    assert stats["durationMs"] >= 150 and 0 < stats["throughputBytesPerSec"] < 400
    assert stats["sizeHint"] == 40 and stats["ended"] == "end"


def test_stats_of_a_failed_stream() -> None:
    result = run_component("tpl_stream_stats", {}, {"stream": [S("abc", error="boom")]})
    assert result.one("stats")["data"]["ended"] == "error"
    assert result.frames["stream"][0][-1] == {"kind": "error", "error": "boom"}


@pytest.mark.parametrize("template", ["tpl_stream_tee", "tpl_stream_buffer", "tpl_stream_throttle", "tpl_stream_stats", "tpl_stream_to_bytes"])
def test_a_packet_that_is_not_a_stream_is_an_error(template: str) -> None:
    result = run_component(template, {}, {"stream": [T("Bytes", [1])]})
    assert result.data("error") == ["No StreamHandle on stream port"]
