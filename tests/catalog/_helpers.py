"""Running one catalog component in a real Network and collecting what it sends."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from reflow_cli import Actor, Message, Network, PortSpec, RunStatus, Stream, template_actor
from reflow_cli.registry import default_registry


def read_frames(message: Message, timeout_ms: float = 5000) -> list[dict[str, Any]]:
    """Every frame of the stream behind a StreamHandle, up to the terminal one (or a timeout frame)."""
    reader = message.take_stream()
    frames = []
    while True:
        frame = dict(reader.recv(timeout_ms))
        frames.append(frame)
        if frame["kind"] in ("end", "error", "closed", "timeout"):
            return frames


class Sink(Actor):
    """Records (port, message, seconds since start) for every packet, on any port.

    A StreamHandle is read to its end at once; its frames are kept in ``frames[port]``.
    """

    component = "test_sink"
    inports = [PortSpec("*")]
    outports: list[str] = []

    def __init__(self, read_streams: bool = True) -> None:
        self.items: list[tuple[str, Message, float]] = []
        self.frames: dict[str, list[list[dict[str, Any]]]] = {}
        self.read_streams = read_streams
        self.started = time.perf_counter()
        self._lock = threading.Lock()

    def run(self, ctx: Any) -> None:
        now = time.perf_counter() - self.started
        for port, message in ctx.inputs.items():
            if self.read_streams and message["type"] == "StreamHandle":
                frames = read_frames(message)
                with self._lock:
                    self.frames.setdefault(port, []).append(frames)
            with self._lock:
                self.items.append((port, message, now))
        ctx.done()


@dataclass
class Result:
    status: RunStatus
    outputs: dict[str, list[Message]]
    times: dict[str, list[float]]
    failures: list[dict[str, Any]] = field(default_factory=list)
    frames: dict[str, list[list[dict[str, Any]]]] = field(default_factory=dict)

    def chunks(self, port: str, index: int = 0) -> list[bytes]:
        """The data frames of the ``index``-th stream received on ``port``."""
        return [frame["data"] for frame in self.frames[port][index] if frame["kind"] == "data"]

    def data(self, port: str) -> list[Any]:
        """The data of every packet on ``port`` (None for Flow)."""
        return [m.get("data") for m in self.outputs.get(port, [])]

    def json(self) -> dict[str, list[dict[str, Any]]]:
        """Every output as tagged JSON, per port."""
        return {port: [m.as_json() for m in messages] for port, messages in self.outputs.items()}

    def one(self, port: str) -> Message:
        messages = self.outputs.get(port, [])
        assert len(messages) == 1, f"expected one packet on {port!r}, got {messages!r} (all: {self.json()})"
        return messages[0]


def outports_of(template: str) -> list[str]:
    spec = default_registry().lookup(template).spec
    assert spec is not None
    return [p.name for p in spec.outports if not p.is_pattern]


def run_component(
    template: str,
    config: dict[str, Any] | None = None,
    inputs: dict[str, list[Any]] | None = None,
    *,
    connect: list[str] | None = None,
    extra_ports: tuple[str, ...] = (),
    timeout: float = 10.0,
    on_error: str = "continue",
) -> Result:
    """Run ``template`` as node ``n`` with IIPs ``inputs`` ({port: [message, ...]}); collect every outport."""
    net = Network(on_error=on_error)
    sink = Sink()
    net.register_actor("test_sink", sink)
    net.add_node("n", template, config)
    net.add_node("sink", "test_sink")
    ports = list(connect if connect is not None else outports_of(template)) + list(extra_ports)
    for port in ports:
        net.add_connection("n", port, "sink", port)
    for port, messages in (inputs or {}).items():
        for message in messages:
            net.add_initial("n", port, stream_message(message) if "stream" in message else message)
    events = net.events()
    sink.started = time.perf_counter()
    status = net.run(timeout=timeout)
    failures = []
    while True:
        event = events.recv(0)
        if event is None:
            break
        if event.get("_type") == "ActorFailed":
            failures.append(event)
    outputs: dict[str, list[Message]] = {}
    times: dict[str, list[float]] = {}
    for port, message, at in sink.items:
        outputs.setdefault(port, []).append(message)
        times.setdefault(port, []).append(at)
    return Result(status, outputs, times, failures, sink.frames)


def stream_message(spec: dict[str, Any]) -> Message:
    """A StreamHandle packet for ``{"stream": [chunks], "content_type"?, "size_hint"?, "error"?}``.

    The frames (a begin frame when a content type or size hint is given, the chunks as
    UTF-8 or bytes, then end, or an error frame) are written before the handle is sent.
    """
    stream = Stream.create(0, content_type=spec.get("content_type"))
    if spec.get("content_type") is not None or spec.get("size_hint") is not None:
        stream.send_begin(spec.get("content_type"), spec.get("size_hint"))
    for chunk in spec["stream"]:
        stream.send_bytes(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk))
    if spec.get("error"):
        stream.error(spec["error"])
    else:
        stream.end()
    return stream.into_message()


def tagged(kind: str, data: Any = None) -> dict[str, Any]:
    return {"type": "Flow"} if kind == "Flow" else {"type": kind, "data": data}


__all__ = ["Result", "Sink", "outports_of", "read_frames", "run_component", "stream_message", "tagged", "template_actor"]
