"""Writing a run's events to a JSON-lines trace file (``reflow run --trace``).

Events come from a lossless :class:`~reflow_cli.EventStream` (the trace is
complete: the network slows down rather than drop an event); the hot path only
appends them, and they are encoded here in batches, one JSON object per line,
following ``schemas/event.schema.json``. Message payloads are left out unless
asked for (then cut to 256 bytes of JSON), and a ``NetworkStats`` snapshot is
written every second and at the end, so ``reflow trace summary`` can report
blocked and starved time.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import trio

from .engine import EventStream, NetworkStatistics
from .errors import FileWriteError
from .message import Message

__all__ = ["PAYLOAD_LIMIT", "TraceWriteError", "TraceWriter", "event_json"]

#: Events written per batch at most.
_BATCH = 4096
#: Bytes of a payload's JSON kept in a trace with payloads.
PAYLOAD_LIMIT = 256


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


#: One encoder for every line: json.dumps with options builds a new one per call.
_ENCODE = json.JSONEncoder(default=_default, allow_nan=False, separators=(",", ":")).encode
_ENCODE_LAX = json.JSONEncoder(default=_default, separators=(",", ":")).encode


def event_json(event: dict[str, Any]) -> str:
    """One event as a line of strict JSON (non-finite floats as the strings the messages use)."""
    try:
        return _ENCODE(event)
    except ValueError:  # a NaN/Infinity somewhere in the payload
        return _ENCODE_LAX({key: _finite(value) for key, value in event.items()})


def _cut_payload(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its ``message`` at most PAYLOAD_LIMIT bytes of JSON (longer ones become cut text)."""
    raw = _ENCODE_LAX(event["message"]).encode()
    if len(raw) <= PAYLOAD_LIMIT:
        return event
    cut = raw[:PAYLOAD_LIMIT].decode(errors="ignore")
    return {**event, "message": cut + "…"}


class TraceWriteError(FileWriteError):
    """The trace file cannot be written (a folder, a missing folder, no permission, a full disk)."""


class TraceWriter:
    """Drains an event stream into a JSON-lines file, in batches, until the run stops."""

    def __init__(
        self,
        stream: EventStream,
        path: Path,
        *,
        payloads: bool = False,
        stats: Callable[[], NetworkStatistics] | None = None,
        stats_interval: float = 1.0,
    ) -> None:
        self.stream = stream
        self.path = Path(path)
        self.payloads = payloads
        self.stats = stats
        self.stats_interval = stats_interval
        self.written = 0
        self.finished = trio.Event()
        self._handle: IO[str] | None = None

    def open(self) -> None:
        """Create (or empty) the trace file now, so that a path that cannot be written fails early.

        Raises :class:`TraceWriteError` (a folder, a missing folder, no permission).
        :meth:`run` opens the file itself when this was not called.
        """
        if self._handle is None:
            try:
                self._handle = self.path.open("w", encoding="utf-8")
            except OSError as exc:
                raise TraceWriteError.from_os_error(self.path, exc) from exc

    def close(self) -> None:
        """Close the file when :meth:`open` opened it and :meth:`run` never ran."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    async def run(self) -> None:
        """Write until the network has stopped and every event is written (run as a trio task).

        A write that fails (a full disk) raises :class:`TraceWriteError`, which stops
        the run: the trace is complete or the run fails, never silently short.
        """
        try:
            self.open()
            assert self._handle is not None
            with self._handle as handle:
                await self._drain(handle)
        except TraceWriteError:
            raise
        except OSError as exc:
            raise TraceWriteError.from_os_error(self.path, exc) from exc
        finally:
            self._handle = None
            self.finished.set()

    async def _drain(self, handle: IO[str]) -> None:
        """Write events in batches, and a statistics snapshot every interval and at the end."""
        next_stats = trio.current_time() + self.stats_interval
        while True:
            wait_ms = max(0.0, next_stats - trio.current_time()) * 1000 if self.stats else None
            first = await self.stream.recv_async(wait_ms)
            if first is not None:
                self._write_batch(handle, first)
            elif self.stream_ended():
                break
            if self.stats and trio.current_time() >= next_stats:
                self._write_stats(handle)
                next_stats = trio.current_time() + self.stats_interval
        if self.stats:
            self._write_stats(handle)  # the final snapshot

    def stream_ended(self) -> bool:
        """The run stopped and everything it published was read."""
        return self.stream._hub.stopped and not len(self.stream)

    def _line(self, event: dict[str, Any]) -> str:
        if "message" in event:
            if self.payloads:
                event = _cut_payload(event)
            else:  # events shared with other subscribers keep their payload; the line does not
                event = dict(event)
                del event["message"]
        return event_json(event)

    def _write_batch(self, handle: IO[str], first: dict[str, Any]) -> None:
        lines = [self._line(first)]
        recv = self.stream.recv
        while len(lines) < _BATCH:
            event = recv(0)
            if event is None:
                break
            lines.append(self._line(event))
        handle.write("\n".join(lines))
        handle.write("\n")
        self.written += len(lines)

    def _write_stats(self, handle: IO[str]) -> None:
        assert self.stats is not None
        snapshot = {"_type": "NetworkStats", "stats": self.stats().to_dict(), "timestamp": int(time.time() * 1000)}
        handle.write(event_json(snapshot) + "\n")
        self.written += 1
