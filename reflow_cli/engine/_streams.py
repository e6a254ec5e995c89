"""Byte streams between actors: :class:`Stream` (producer) and :class:`StreamReader`.

A producer creates a stream, hands its ``into_message()`` handle downstream
like any packet, and keeps writing: frames are buffered until a reader takes
the stream (once) and replays them. ``buffer_size`` bounds the frames in
flight; a producer that gets ahead waits (backpressure). Waiting never
freezes the runtime: on the trio thread it suspends just the current tick
(through greenback), in a worker thread it blocks that thread only.

Frames are dicts: ``{"kind": "begin", "content_type", "size_hint",
"metadata"}``, ``{"kind": "data", "data": bytes}``, ``{"kind": "end"}``,
``{"kind": "error", "error": text}``, ``{"kind": "closed"}`` (once, when the
producer went away without ``end``) and ``{"kind": "timeout"}``.
"""

from __future__ import annotations

import contextvars
import itertools
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import greenback
import trio

from ..errors import StreamError
from ..message import Message

if TYPE_CHECKING:  # pragma: no cover
    from ._scheduler import Scheduler

__all__ = ["Stream", "StreamReader", "current_scheduler"]

#: The scheduler of the run whose task (or worker thread) is executing; set per node task.
current_scheduler: contextvars.ContextVar[Scheduler | None] = contextvars.ContextVar("reflow_scheduler", default=None)

_ids = itertools.count(1)
_channels: dict[int, _Channel] = {}
_channels_lock = threading.Lock()
_TERMINAL = frozenset(("end", "error", "closed"))


def _on_trio_thread_with_portal() -> bool:
    return trio.lowlevel.in_trio_task() and greenback.has_portal()


def _must_not_block_trio() -> None:
    if trio.lowlevel.in_trio_run():
        raise StreamError(
            "a stream operation had to wait on the trio thread outside an actor tick; "
            "use the async methods (send_bytes_async, recv_async) from async code"
        )


class _Channel:
    """The frames of one stream and everyone waiting on them (thread-safe)."""

    def __init__(self, stream_id: int, buffer_size: int, sched: Scheduler | None) -> None:
        self.id = stream_id
        self.buffer_size = buffer_size
        self.frames: deque[dict[str, Any]] = deque()
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.trio_waiters: list[tuple[trio.Event, trio.lowlevel.TrioToken]] = []
        self.finished = False  # a terminal frame was queued
        self.taken = False
        self.sched = sched

    # -- waking --------------------------------------------------------------------

    def _notify_locked(self) -> None:
        self.cond.notify_all()
        waiters, self.trio_waiters = self.trio_waiters, []
        for event, token in waiters:
            try:
                token.run_sync_soon(event.set)
            except trio.RunFinishedError:
                pass

    async def _wait_change(self, deadline: float | None) -> None:
        event = trio.Event()
        with self.lock:
            self.trio_waiters.append((event, trio.lowlevel.current_trio_token()))
        if deadline is None:
            await event.wait()
        else:
            with trio.move_on_at(deadline):
                await event.wait()

    # -- producer side -------------------------------------------------------------------

    def _room_locked(self) -> bool:
        return self.buffer_size == 0 or len(self.frames) < self.buffer_size or self.finished

    def put(self, frame: dict[str, Any]) -> None:
        with self.lock:
            if self.finished:
                raise StreamError(f"stream {self.id} has already ended; no more frames can be sent")
            if self._room_locked():
                self._append_locked(frame)
                return
        if _on_trio_thread_with_portal():
            greenback.await_(self.put_async(frame))
            return
        _must_not_block_trio()
        with self.lock:
            while not self._room_locked():
                self.cond.wait()
            self._append_locked(frame)

    async def put_async(self, frame: dict[str, Any]) -> None:
        while True:
            with self.lock:
                if self.finished:
                    raise StreamError(f"stream {self.id} has already ended; no more frames can be sent")
                if self._room_locked():
                    self._append_locked(frame)
                    return
            await self._wait_change(None)

    def _append_locked(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)
        if frame["kind"] in _TERMINAL:
            self.finished = True
            self._closed_for_run()
        self._notify_locked()

    def _closed_for_run(self) -> None:
        sched = self.sched
        if sched is None:
            return
        self.sched = None
        token = sched.token
        if token is None:
            return
        if threading.get_ident() == sched.trio_ident:
            sched.stream_closed()
        else:
            try:
                token.run_sync_soon(sched.stream_closed)
            except trio.RunFinishedError:
                pass

    def producer_gone(self) -> None:
        with self.lock:
            if not self.finished:
                self._append_locked({"kind": "closed"})

    # -- reader side -------------------------------------------------------------------------

    def _pop_locked(self) -> dict[str, Any] | None:
        if not self.frames:
            return None
        frame = self.frames.popleft()
        self._notify_locked()
        if frame["kind"] in _TERMINAL:
            with _channels_lock:
                _channels.pop(self.id, None)
        return frame

    def get(self, timeout_ms: float | None) -> dict[str, Any]:
        with self.lock:
            frame = self._pop_locked()
        if frame is not None:
            return frame
        if timeout_ms is not None and timeout_ms <= 0:
            return {"kind": "timeout"}
        if _on_trio_thread_with_portal():
            return greenback.await_(self.get_async(timeout_ms))
        _must_not_block_trio()
        deadline = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000
        with self.lock:
            while True:
                frame = self._pop_locked()
                if frame is not None:
                    return frame
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return {"kind": "timeout"}
                self.cond.wait(remaining)

    async def get_async(self, timeout_ms: float | None) -> dict[str, Any]:
        deadline = None if timeout_ms is None else trio.current_time() + timeout_ms / 1000
        while True:
            with self.lock:
                frame = self._pop_locked()
            if frame is not None:
                return frame
            if deadline is not None and trio.current_time() >= deadline:
                return {"kind": "timeout"}
            await self._wait_change(deadline)


class Stream:
    """The producer end of a byte stream.

    ``Stream.create(buffer_size=0, ...)``: ``0`` means unbounded; ``N`` lets
    at most N frames wait for the reader before ``send_bytes`` waits.
    """

    __slots__ = ("_channel", "_handle", "_closed", "__weakref__")

    def __init__(self, channel: _Channel, handle: dict[str, Any]) -> None:
        self._channel = channel
        self._handle = handle
        self._closed = False

    @staticmethod
    def create(
        buffer_size: int = 0,
        origin_actor: str | None = None,
        origin_port: str | None = None,
        content_type: str | None = None,
        *,
        size_hint: int | None = None,
    ) -> Stream:
        """A new stream; its handle names ``origin_actor``/``origin_port``, ``content_type`` and ``size_hint``.

        ``size_hint`` (bytes expected, when known) is reflow's addition: the
        reference's handles never carry one.
        """
        if size_hint is not None and (type(size_hint) is not int or size_hint < 0):
            raise StreamError(f"size_hint must be a non-negative integer, not {size_hint!r}")
        if type(buffer_size) is not int or buffer_size < 0:
            raise StreamError(f"buffer_size must be a non-negative integer, not {buffer_size!r}")
        stream_id = next(_ids)
        sched = current_scheduler.get()
        channel = _Channel(stream_id, buffer_size, sched)
        if sched is not None:
            if threading.get_ident() == sched.trio_ident:
                sched.stream_opened()
            elif sched.token is not None:
                trio.from_thread.run_sync(sched.stream_opened, trio_token=sched.token)
        with _channels_lock:
            _channels[stream_id] = channel
        handle = {
            "stream_id": stream_id,
            "origin_actor": origin_actor or "",
            "origin_port": origin_port or "",
            "content_type": content_type,
            "size_hint": size_hint,
        }
        return Stream(channel, handle)

    @property
    def stream_id(self) -> int:
        """The process-wide id of this stream."""
        return self._channel.id

    def send_begin(self, content_type: str | None = None, size_hint: int | None = None, metadata: Any = None) -> None:
        """Announce the content (optional): the reader sees a ``begin`` frame with these fields."""
        self._channel.put({"kind": "begin", "content_type": content_type, "size_hint": size_hint, "metadata": metadata})

    def send_bytes(self, data: bytes | bytearray | memoryview) -> None:
        """Send one frame of bytes (waits when ``buffer_size`` frames are pending)."""
        self._channel.put({"kind": "data", "data": _as_bytes(data)})

    async def send_bytes_async(self, data: bytes | bytearray | memoryview) -> None:
        """Async form of :meth:`send_bytes`."""
        await self._channel.put_async({"kind": "data", "data": _as_bytes(data)})

    def error(self, message: str) -> None:
        """End the stream with an error the reader receives as an ``error`` frame."""
        self._closed = True
        self._channel.put({"kind": "error", "error": str(message)})

    def end(self) -> None:
        """End the stream normally."""
        self._closed = True
        self._channel.put({"kind": "end"})

    async def end_async(self) -> None:
        """Async form of :meth:`end`."""
        self._closed = True
        await self._channel.put_async({"kind": "end"})

    def into_message(self) -> Message:
        """A ``StreamHandle`` message for this stream (the stream stays writable)."""
        return Message._make("StreamHandle", dict(self._handle))

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self._channel.producer_gone()

    def __repr__(self) -> str:
        return f"<Stream {self._channel.id}>"


def _as_bytes(data: Any) -> bytes:
    if type(data) is bytes:
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise StreamError(f"send_bytes takes bytes, bytearray or memoryview, not {type(data).__name__}")


class StreamReader:
    """The reading end of a stream (``ctx.inputs[port].take_stream()``).

    ``recv(timeout_ms=None)`` returns the next frame dict (``timeout`` when
    none came in time). Iteration (sync or async) yields ``begin`` and
    ``data`` frames and stops at ``end``; an ``error`` or ``closed`` frame
    raises :class:`~reflow_cli.errors.StreamError`.
    """

    __slots__ = ("_channel",)

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    @property
    def stream_id(self) -> int:
        """The id of the stream being read."""
        return self._channel.id

    def recv(self, timeout_ms: float | None = None) -> dict[str, Any]:
        """The next frame; waits up to ``timeout_ms`` (``None``: until one comes, ``0``: poll)."""
        return self._channel.get(timeout_ms)

    async def recv_async(self, timeout_ms: float | None = None) -> dict[str, Any]:
        """Async form of :meth:`recv`."""
        return await self._channel.get_async(timeout_ms)

    def read_all(self) -> bytes:
        """Every data frame joined, until ``end`` (raises on ``error``/``closed``)."""
        return b"".join(frame["data"] for frame in self if frame["kind"] == "data")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            frame = self._channel.get(None)
            if _is_last(frame):
                return
            yield frame

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            frame = await self._channel.get_async(None)
            if _is_last(frame):
                return
            yield frame

    def __repr__(self) -> str:
        return f"<StreamReader {self._channel.id}>"


def _is_last(frame: dict[str, Any]) -> bool:
    kind = frame["kind"]
    if kind == "end":
        return True
    if kind == "error":
        raise StreamError(f"stream failed: {frame['error']}")
    if kind == "closed":
        raise StreamError("stream closed: the producer went away without end()")
    return False


def take_stream(handle: dict[str, Any]) -> StreamReader:
    """Open the stream a handle names; each stream can be taken once."""
    stream_id = handle.get("stream_id")
    with _channels_lock:
        channel = _channels.get(stream_id)  # type: ignore[arg-type]
        if channel is None or channel.taken:
            raise StreamError(f"no receiver for stream {stream_id} (already taken?)")
        channel.taken = True
    return StreamReader(channel)


Message._stream_opener = take_stream
