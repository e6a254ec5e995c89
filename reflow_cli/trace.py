"""Writing a run's events to a JSON-lines trace file (``reflow run --trace``).

Events are taken from a lossless :class:`~reflow_cli.EventStream` (so the
trace is complete: the network slows down rather than drop an event) and
written in batches, one JSON object per line, following
``schemas/event.schema.json``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import IO, Any

import trio

from .engine import EventStream
from .message import Message

__all__ = ["TraceWriter", "event_json"]

#: Events written per batch at most.
_BATCH = 4096


def _default(value: Any) -> Any:
    if isinstance(value, Message):
        return value.as_json()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"[binary:{len(value)}]"
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return repr(value)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def event_json(event: dict[str, Any]) -> str:
    """One event as a line of strict JSON (non-finite floats as the strings the messages use)."""
    try:
        return json.dumps(event, default=_default, allow_nan=False, separators=(",", ":"))
    except ValueError:  # a NaN/Infinity somewhere in the payload
        cleaned = {key: _finite(value) for key, value in event.items()}
        return json.dumps(cleaned, default=_default, separators=(",", ":"))


class TraceWriter:
    """Drains an event stream into a JSON-lines file, in batches, until the run stops."""

    def __init__(self, stream: EventStream, path: Path) -> None:
        self.stream = stream
        self.path = Path(path)
        self.written = 0
        self.finished = trio.Event()

    async def run(self) -> None:
        """Write until the network has stopped and every event is written (run as a trio task)."""
        try:
            with self.path.open("w", encoding="utf-8") as handle:
                while True:
                    first = await self.stream.recv_async(None)
                    if first is None:  # the run stopped and the stream is drained
                        break
                    self._write_batch(handle, first)
        finally:
            self.finished.set()

    def _write_batch(self, handle: IO[str], first: dict[str, Any]) -> None:
        lines = [event_json(first)]
        recv = self.stream.recv
        while len(lines) < _BATCH:
            event = recv(0)
            if event is None:
                break
            lines.append(event_json(event))
        handle.write("\n".join(lines))
        handle.write("\n")
        self.written += len(lines)
