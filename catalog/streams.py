"""Streams family: byte streams between nodes (``StreamHandle`` packets).

A stream is sent as a ``StreamHandle`` packet and read frame by frame (begin, data...,
end or error) by the one node that takes it. These components take the stream on their
``stream`` inport and hand a new one on, forwarding frames as they come: the new handle
goes out **first**, so the next node reads while data still flows, and memory holds only
the frames in flight (bounded buffers give backpressure). A packet on ``stream`` that is
not a ``StreamHandle`` goes to ``error`` (``No StreamHandle on stream port``).
"""

from __future__ import annotations

import time
from typing import Any

from reflow_cli import Actor, Message, PortSpec, Stream

from ._common import schema

__all__ = ["COMPONENTS"]

NO_STREAM = "No StreamHandle on stream port"
_STREAM_IN = PortSpec("stream", "StreamHandle", "the stream to read (taken once)")
_ERROR = PortSpec("error", "Error", "`No StreamHandle on stream port`, or a stream that cannot be taken")
_BUFFER = {
    "type": "integer",
    "minimum": 1,
    "default": 64,
    "description": "Frames the output stream holds for a slow reader before this node waits (backpressure).",
}


def handle_message(stream: Stream, size_hint: int | None = None) -> Message:
    """The ``StreamHandle`` packet of ``stream``, with ``size_hint`` when known."""
    message = stream.into_message()
    if size_hint is None:
        return message
    return Message.from_json({"type": "StreamHandle", "data": {**message["data"], "size_hint": int(size_hint)}})


def open_input(ctx: Any) -> tuple[Any, dict[str, Any]] | None:
    """The reader of the stream on `stream` and its handle's data; ``None`` after sending an error."""
    message = ctx.inputs["stream"]
    if message["type"] != "StreamHandle":
        ctx.done({"error": Message.error(NO_STREAM)})
        return None
    try:
        reader = message.take_stream()
    except Exception as exc:  # StreamError: already taken, unknown id
        ctx.done({"error": Message.error(f"{NO_STREAM}: {exc}")})
        return None
    return reader, dict(message["data"])


def new_stream(ctx: Any, port: str, handle: dict[str, Any], buffer_size: int) -> Stream:
    """An output stream of this node on ``port`` with the input's content type."""
    return Stream.create(buffer_size, origin_actor=ctx.node_id, origin_port=port, content_type=handle.get("content_type"))


async def forward(frame: dict[str, Any], *outputs: Stream) -> bool:
    """Write ``frame`` to every output; return True when it ended the stream."""
    kind = frame["kind"]
    for out in outputs:
        if kind == "data":
            await out.send_bytes_async(frame["data"])
        elif kind == "begin":
            out.send_begin(frame.get("content_type"), frame.get("size_hint"), frame.get("metadata"))
        elif kind == "end":
            await out.end_async()
        elif kind == "error":
            out.error(frame["error"])
        elif kind == "closed":
            out.error("the upstream producer went away without ending its stream")
    return kind in ("end", "error", "closed")


# -- tpl_stream_tee ----------------------------------------------------------------------------------


class StreamTee(Actor):
    """Copies one stream into two, every frame to both (lossless, with backpressure from both)."""

    component = "tpl_stream_tee"
    inports = [_STREAM_IN]
    outports = [
        PortSpec("stream_a", "StreamHandle", "the first copy"),
        PortSpec("stream_b", "StreamHandle", "the second copy"),
        _ERROR,
    ]
    config_schema = schema({"bufferSize": _BUFFER})
    description = (
        "Sends two new stream handles on `stream_a` and `stream_b` at once, then copies every frame of the input "
        "(begin, data, end or error) into both. Nothing is dropped: when one reader falls `bufferSize` frames "
        "behind, the tee waits for it, so **both** outputs must be read, by different nodes (a node that reads "
        "`stream_a` to its end before `stream_b` waits forever once the stream is longer than `bufferSize`)."
    )
    example = {
        "config": {},
        "inputs": {"stream": [{"stream": ["abc", "def"]}]},
        "outputs": {
            "stream_a": [{"type": "StreamHandle", "frames": ["abc", "def"]}],
            "stream_b": [{"type": "StreamHandle", "frames": ["abc", "def"]}],
        },
    }

    async def run(self, ctx: Any) -> None:
        opened = open_input(ctx)
        if opened is None:
            return
        reader, handle = opened
        size = int(ctx.config.get("bufferSize", 64))
        a = new_stream(ctx, "stream_a", handle, size)
        b = new_stream(ctx, "stream_b", handle, size)
        await ctx.send_async({"stream_a": handle_message(a, handle.get("size_hint")), "stream_b": handle_message(b, handle.get("size_hint"))})
        while not await forward(await reader.recv_async(), a, b):
            pass
        ctx.done()


# -- tpl_stream_buffer -------------------------------------------------------------------------------


class StreamBuffer(Actor):
    """Joins small data frames into frames of at least `bufferBytes`."""

    component = "tpl_stream_buffer"
    inports = [_STREAM_IN]
    outports = [PortSpec("stream", "StreamHandle", "the rechunked stream"), _ERROR]
    config_schema = schema(
        {
            "bufferBytes": {
                "type": "integer",
                "minimum": 1,
                "default": 65536,
                "description": "Data is held until at least this many bytes are gathered, then sent as one frame.",
            },
            "bufferSize": _BUFFER,
        }
    )
    description = (
        "Forwards the stream with its data frames joined: bytes are gathered until there are at least "
        "`bufferBytes`, then sent as one frame; the rest goes out before the end. Begin frames pass through; an "
        "error frame is forwarded (the bytes held are dropped)."
    )
    example = {
        "config": {"bufferBytes": 4},
        "inputs": {"stream": [{"stream": ["abc", "def", "g"]}]},
        "outputs": {"stream": [{"type": "StreamHandle", "frames": ["abcdef", "g"]}]},
    }

    async def run(self, ctx: Any) -> None:
        opened = open_input(ctx)
        if opened is None:
            return
        reader, handle = opened
        config = ctx.config
        threshold = int(config.get("bufferBytes", 65536))
        out = new_stream(ctx, "stream", handle, int(config.get("bufferSize", 64)))
        await ctx.send_async({"stream": handle_message(out, handle.get("size_hint"))})
        held = bytearray()
        while True:
            frame = await reader.recv_async()
            kind = frame["kind"]
            if kind == "data":
                held += frame["data"]
                if len(held) >= threshold:
                    await out.send_bytes_async(bytes(held))
                    held.clear()
                continue
            if kind == "end" and held:
                await out.send_bytes_async(bytes(held))
                held.clear()
            if await forward(frame, out):
                break
        ctx.done()


# -- tpl_stream_throttle -----------------------------------------------------------------------------


class StreamThrottle(Actor):
    """Forwards a stream no faster than `bytesPerSecond` (or with `delayMs` between data frames)."""

    component = "tpl_stream_throttle"
    inports = [_STREAM_IN]
    outports = [PortSpec("stream", "StreamHandle", "the same frames, paced"), _ERROR]
    config_schema = schema(
        {
            "delayMs": {
                "type": "number",
                "minimum": 0,
                "default": 10,
                "description": "Pause after each data frame, in milliseconds (when `bytesPerSecond` is not set).",
            },
            "bytesPerSecond": {
                "type": ["number", "null"],
                "exclusiveMinimum": 0,
                "default": None,
                "description": "Pace the data at this rate: after a frame of n bytes the next waits n / rate seconds.",
            },
            "bufferSize": _BUFFER,
        }
    )
    description = (
        "Forwards every frame unchanged, pausing after each data frame: n / `bytesPerSecond` seconds for a frame "
        "of n bytes, else `delayMs`. Pauses are measured from the start of the stream, so they do not drift; "
        "the wait does not block other nodes."
    )
    example = {
        "config": {"delayMs": 1},
        "inputs": {"stream": [{"stream": ["abc", "def"]}]},
        "outputs": {"stream": [{"type": "StreamHandle", "frames": ["abc", "def"]}]},
    }

    async def run(self, ctx: Any) -> None:
        import trio

        opened = open_input(ctx)
        if opened is None:
            return
        reader, handle = opened
        config = ctx.config
        rate = config.get("bytesPerSecond")
        delay = float(config.get("delayMs", 10)) / 1000
        out = new_stream(ctx, "stream", handle, int(config.get("bufferSize", 64)))
        await ctx.send_async({"stream": handle_message(out, handle.get("size_hint"))})
        due = trio.current_time()
        while True:
            frame = await reader.recv_async()
            if await forward(frame, out):
                break
            if frame["kind"] == "data":
                due = max(due, trio.current_time() - 0.05) + (len(frame["data"]) / float(rate) if rate else delay)
                await trio.sleep_until(due)
        ctx.done()


# -- tpl_bytes_to_stream -----------------------------------------------------------------------------


class BytesToStream(Actor):
    """Turns Bytes (or a String) into a stream of `chunkSize` frames."""

    component = "tpl_bytes_to_stream"
    inports = [PortSpec("input", None, "Bytes, or a String (sent as UTF-8)")]
    outports = [
        PortSpec("stream", "StreamHandle", "begin (contentType, size), the data in chunks, end"),
        PortSpec("error", "Error", "`Expected Bytes or String on input port`"),
    ]
    config_schema = schema(
        {
            "chunkSize": {"type": "integer", "minimum": 1, "default": 65536, "description": "Bytes per data frame."},
            "contentType": {
                "type": ["string", "null"],
                "default": None,
                "description": "Content type announced in the handle and the begin frame.",
            },
            "bufferSize": {**_BUFFER, "default": 16},
        }
    )
    description = (
        "Sends a stream handle on `stream` (its size_hint is the length), then a begin frame, the bytes in "
        "frames of `chunkSize` and an end frame, as fast as the reader takes them."
    )
    example = {
        "config": {"chunkSize": 2, "contentType": "text/plain"},
        "inputs": {"input": [{"type": "Bytes", "data": [104, 101, 108, 108, 111]}]},
        "outputs": {"stream": [{"type": "StreamHandle", "frames": ["he", "ll", "o"]}]},
    }

    async def run(self, ctx: Any) -> None:
        message = ctx.inputs["input"]
        kind = message["type"]
        if kind == "Bytes":
            data = message["data"]
        elif kind == "String":
            data = message["data"].encode("utf-8")
        else:
            ctx.done({"error": Message.error("Expected Bytes or String on input port")})
            return
        config = ctx.config
        chunk = int(config.get("chunkSize", 65536))
        content_type = config.get("contentType")
        out = Stream.create(int(config.get("bufferSize", 16)), origin_actor=ctx.node_id, origin_port="stream", content_type=content_type)
        await ctx.send_async({"stream": handle_message(out, len(data))})
        out.send_begin(content_type, len(data))
        view = memoryview(data)
        for start in range(0, len(data), chunk):
            await out.send_bytes_async(view[start : start + chunk])
        await out.end_async()
        ctx.done()


# -- tpl_stream_to_bytes -----------------------------------------------------------------------------


class StreamToBytes(Actor):
    """Reads a whole stream into one Bytes packet."""

    component = "tpl_stream_to_bytes"
    inports = [_STREAM_IN]
    outports = [
        PortSpec("output", "Bytes", "all the data, once the stream ended"),
        PortSpec("metadata", "Object", "{contentType, size, streamMetadata} (from the begin frame)"),
        PortSpec("error", "Error", "`Stream error: ...` (an error frame, a producer gone), or more than maxBytes"),
    ]
    config_schema = schema(
        {
            "maxBytes": {
                "type": "integer",
                "minimum": 0,
                "default": 268435456,
                "description": "A stream longer than this is read to its end but dropped, with an error (0: no limit).",
            }
        }
    )
    description = (
        "Reads every frame of the stream and, at its end, sends the joined data on `output` and {contentType, "
        "size, streamMetadata} on `metadata`. An error frame (or a producer that went away) sends "
        "`Stream error: <text>` on `error`."
    )
    example = {
        "config": {},
        "inputs": {"stream": [{"stream": ["abc", "def"], "content_type": "text/csv"}]},
        "outputs": {
            "output": [{"type": "Bytes", "data": [97, 98, 99, 100, 101, 102]}],
            "metadata": [{"type": "Object", "data": {"contentType": "text/csv", "size": 6, "streamMetadata": None}}],
        },
    }

    async def run(self, ctx: Any) -> None:
        opened = open_input(ctx)
        if opened is None:
            return
        reader, _handle = opened
        limit = int(ctx.config.get("maxBytes", 268435456))
        parts: list[bytes] = []
        size = 0
        content_type = None
        metadata = None
        while True:
            frame = await reader.recv_async()
            kind = frame["kind"]
            if kind == "begin":
                content_type = frame.get("content_type")
                metadata = frame.get("metadata")
            elif kind == "data":
                size += len(frame["data"])
                if not limit or size <= limit:
                    parts.append(frame["data"])
                else:
                    parts.clear()
            elif kind == "end":
                break
            elif kind == "error":
                ctx.done({"error": Message.error(f"Stream error: {frame['error']}")})
                return
            elif kind == "closed":
                ctx.done({"error": Message.error("Stream error: the producer went away without ending the stream")})
                return
        if limit and size > limit:
            ctx.done({"error": Message.error(f"Stream error: {size} bytes is more than maxBytes ({limit})")})
            return
        ctx.done(
            {
                "output": Message.bytes(b"".join(parts)),
                "metadata": Message.object({"contentType": content_type, "size": size, "streamMetadata": metadata}),
            }
        )


# -- tpl_stream_stats --------------------------------------------------------------------------------


class StreamStats(Actor):
    """Forwards a stream unchanged and measures it: bytes, frames, duration, throughput."""

    component = "tpl_stream_stats"
    inports = [_STREAM_IN]
    outports = [
        PortSpec("stream", "StreamHandle", "the same frames, forwarded as they come"),
        PortSpec("stats", "Object", "after the end: {totalBytes, dataFrames, durationMs, throughputBytesPerSec, avgFrameBytes, sizeHint, contentType, ended}"),
        _ERROR,
    ]
    config_schema = schema({"bufferSize": _BUFFER})
    description = (
        "Sends a new handle on `stream` at once and forwards every frame to it; when the stream ends (or fails) "
        "sends on `stats` the total bytes, data frames, duration in ms from the first frame to the last, "
        "throughput in bytes/s, mean frame size, the begin frame's size hint and content type, and how it "
        "ended (end, error or closed). The reference sent the handle only after the whole stream was buffered."
    )
    example = {
        "config": {},
        "inputs": {"stream": [{"stream": ["abc", "def"]}]},
        "outputs": {
            "stream": [{"type": "StreamHandle", "frames": ["abc", "def"]}],
            "stats": [
                {
                    "type": "Object",
                    "data": {
                        "totalBytes": 6,
                        "dataFrames": 2,
                        "durationMs": "<number>",
                        "throughputBytesPerSec": "<number>",
                        "avgFrameBytes": 3,
                        "sizeHint": None,
                        "contentType": None,
                        "ended": "end",
                    },
                }
            ],
        },
    }

    async def run(self, ctx: Any) -> None:
        opened = open_input(ctx)
        if opened is None:
            return
        reader, handle = opened
        out = new_stream(ctx, "stream", handle, int(ctx.config.get("bufferSize", 64)))
        await ctx.send_async({"stream": handle_message(out, handle.get("size_hint"))})
        total = frames = 0
        size_hint = handle.get("size_hint")
        content_type = handle.get("content_type")
        first = None
        while True:
            frame = await reader.recv_async()
            if first is None:
                first = time.perf_counter()
            kind = frame["kind"]
            if kind == "data":
                total += len(frame["data"])
                frames += 1
            elif kind == "begin":
                if frame.get("size_hint") is not None:
                    size_hint = frame.get("size_hint")
                if frame.get("content_type") is not None:
                    content_type = frame.get("content_type")
            if await forward(frame, out):
                break
        seconds = time.perf_counter() - (first or time.perf_counter())
        stats = {
            "totalBytes": total,
            "dataFrames": frames,
            "durationMs": int(seconds * 1000),
            "throughputBytesPerSec": int(total / seconds) if seconds > 0 else 0,
            "avgFrameBytes": total // frames if frames else 0,
            "sizeHint": size_hint,
            "contentType": content_type,
            "ended": frame["kind"],
        }
        ctx.done({"stats": Message.object(stats)})


COMPONENTS: dict[str, type[Actor]] = {
    "tpl_stream_tee": StreamTee,
    "tpl_stream_buffer": StreamBuffer,
    "tpl_stream_throttle": StreamThrottle,
    "tpl_bytes_to_stream": BytesToStream,
    "tpl_stream_to_bytes": StreamToBytes,
    "tpl_stream_stats": StreamStats,
}
