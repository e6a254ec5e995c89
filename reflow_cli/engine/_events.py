"""Run events: a broadcast hub and the :class:`EventStream` subscribers read from.

Every stream gets every event published after its creation. A stream buffers
up to ``buffer`` events; on overflow the oldest are dropped and an
``EventsDropped{count}`` event is delivered in their place, unless the stream
is *lossless*, in which case the network slows down until it is read.

With no subscriber nothing is built or buffered: publishers check
:attr:`EventHub.active` first.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import Any

import trio

from ..message import Message

__all__ = ["DEFAULT_EVENT_BUFFER", "EventHub", "EventStream", "event_payload", "now_ms"]

#: Events a stream keeps before the oldest are dropped.
DEFAULT_EVENT_BUFFER = 65_536

_time = time.time


def now_ms() -> int:
    """Unix time in milliseconds (the events' ``timestamp``)."""
    return int(_time() * 1000)


def event_payload(message: Message) -> Any:
    """The ``message`` field of an event: the untagged data, as the reference shows it.

    ``Flow`` shows as ``"flow"``; Bytes and Encoded as ``"[binary:<len>]"``.
    """
    kind = message._kind
    if kind == "Flow":
        return "flow"
    if kind == "Bytes" or kind == "Encoded":
        return f"[binary:{len(message._data)}]"
    return message._data


class EventHub:
    """Fans events out to every subscribed :class:`EventStream`."""

    __slots__ = ("streams", "active", "payloads", "stopped", "congested", "_uncongested", "_trio_token", "_lock")

    def __init__(self) -> None:
        self.streams: tuple[EventStream, ...] = ()
        self.active = False  # True while at least one stream is subscribed
        self.payloads = False  # some subscriber wants packets' data in MessageSent/MessageReceived
        self.stopped = False  # a run published here and has stopped (readers must not block forever)
        self.congested = False  # a lossless stream is full: publishers should wait
        self._uncongested: trio.Event | None = None
        self._trio_token: trio.lowlevel.TrioToken | None = None
        self._lock = threading.Lock()

    # -- subscription -----------------------------------------------------------

    def subscribe(
        self, *, lossless: bool = False, buffer: int = DEFAULT_EVENT_BUFFER, payloads: bool = True
    ) -> EventStream:
        """A new stream receiving every event published from now on.

        With ``payloads=False`` the subscriber does not need the packets'
        data: when no subscriber needs it, ``MessageSent``/``MessageReceived``
        events are built without their ``message`` field (cheaper).
        """
        if buffer < 1:
            raise ValueError(f"an event buffer must hold at least 1 event, not {buffer}")
        stream = EventStream(self, lossless=lossless, buffer=buffer, payloads=payloads)
        with self._lock:
            self.streams = (*self.streams, stream)
            self.active = True
            self.payloads = any(s.payloads for s in self.streams)
        return stream

    def unsubscribe(self, stream: EventStream) -> None:
        """Stop delivering to ``stream``."""
        with self._lock:
            self.streams = tuple(s for s in self.streams if s is not stream)
            self.active = bool(self.streams)
            self.payloads = any(s.payloads for s in self.streams)
        self.release_pressure()

    # -- run lifecycle ---------------------------------------------------------------

    def attach(self, token: trio.lowlevel.TrioToken) -> None:
        """Called by a run when it starts publishing from the trio thread of ``token``."""
        self._trio_token = token
        self.stopped = False
        self.congested = False
        self._uncongested = None

    def detach(self) -> None:
        """Called when the run stops: blocked readers of drained streams return."""
        self.stopped = True
        self.congested = False
        self._trio_token = None
        for stream in self.streams:
            stream._wake()

    # -- publishing --------------------------------------------------------------------

    def publish(self, event: dict[str, Any]) -> None:
        """Deliver ``event`` to every stream (the same dict: treat it as read-only).

        Readers are not woken per event: publishers call :meth:`wake_readers`
        when a batch of work ends, so a busy run wakes a waiting reader once
        per batch, not once per packet (readers also wake on their own every
        quarter second).
        """
        for stream in self.streams:
            if stream._put(event):
                self.congested = True

    def wake_readers(self) -> None:
        """Wake the readers waiting for events (called at the end of a batch of work)."""
        for stream in self.streams:
            if stream._waiting:
                stream._wake()

    async def wait_uncongested(self) -> None:
        """Wait until every lossless stream has room again (called by publishers)."""
        self.wake_readers()
        while self.congested:
            if self._uncongested is None:
                self._uncongested = trio.Event()
            await self._uncongested.wait()

    def release_pressure(self) -> None:
        """Called by readers: lift back-pressure once no lossless stream is full."""
        if not self.congested:
            return
        if any(s._full() for s in self.streams if s.lossless):
            return
        self.congested = False
        event = self._uncongested
        if event is None:
            return
        self._uncongested = None
        token = self._trio_token
        if token is None:
            return
        try:
            token.run_sync_soon(event.set)
        except trio.RunFinishedError:
            pass


class EventStream:
    """A subscriber's view of a network's events (``net.events()``).

    ``recv(timeout_ms=None)`` blocks until an event arrives, ``recv(0)``
    polls, ``recv(ms)`` waits at most that long; each returns an event dict
    (``evt["_type"]``...) or ``None``. Iterating (``for evt in stream`` or
    ``async for``) yields events until the network stops and the buffer is
    drained.
    """

    __slots__ = ("_hub", "lossless", "payloads", "buffer", "_queue", "_dropped", "_cond", "_waiting", "_trio_waiters")

    def __init__(self, hub: EventHub, *, lossless: bool, buffer: int, payloads: bool = True) -> None:
        self._hub = hub
        self.lossless = lossless
        self.payloads = payloads
        self.buffer = buffer
        self._queue: deque[dict[str, Any]] = deque()
        self._dropped = 0
        self._cond = threading.Condition(threading.Lock())
        self._waiting = False
        self._trio_waiters: list[tuple[trio.Event, trio.lowlevel.TrioToken]] = []

    # -- producer side (trio thread) ----------------------------------------------------

    def _put(self, event: dict[str, Any]) -> bool:
        """Append one event; return True when a lossless stream is now full."""
        queue = self._queue
        queue.append(event)
        if len(queue) > self.buffer:
            if self.lossless:
                return True
            queue.popleft()
            self._dropped += 1
        return self.lossless and len(queue) >= self.buffer

    def _full(self) -> bool:
        return len(self._queue) >= self.buffer

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()
            waiters, self._trio_waiters = self._trio_waiters, []
        for event, token in waiters:
            try:
                token.run_sync_soon(event.set)
            except trio.RunFinishedError:
                pass

    # -- consumer side ------------------------------------------------------------------

    def _pop(self) -> dict[str, Any] | None:
        if self._dropped:
            count, self._dropped = self._dropped, 0
            return {"_type": "EventsDropped", "count": count, "timestamp": now_ms()}
        try:
            event = self._queue.popleft()
        except IndexError:
            return None
        if self.lossless and self._hub.congested and len(self._queue) <= self.buffer // 2:
            self._hub.release_pressure()
        return event

    def recv(self, timeout_ms: float | None = None) -> dict[str, Any] | None:
        """The next event, or ``None`` after ``timeout_ms`` (``None``: wait until an event comes or the network stops)."""
        event = self._pop()
        if event is not None or timeout_ms == 0:
            return event
        deadline = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000
        with self._cond:
            self._waiting = True
            try:
                while True:
                    event = self._pop()
                    if event is not None:
                        return event
                    if self._hub.stopped:  # stopped and drained: nothing more will come
                        return None
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return None
                    # wake up now and then: the network may stop without a notify reaching us
                    self._cond.wait(0.25 if remaining is None else min(remaining, 0.25))
            finally:
                self._waiting = False

    async def recv_async(self, timeout_ms: float | None = None) -> dict[str, Any] | None:
        """Async form of :meth:`recv` for code running on trio."""
        with trio.move_on_after(float("inf") if timeout_ms is None else timeout_ms / 1000):
            while True:
                event = self._pop()
                if event is not None:
                    return event
                if self._hub.stopped:  # stopped and drained: nothing more will come
                    return None
                if timeout_ms == 0:
                    return None
                waiter = trio.Event()
                with self._cond:
                    self._trio_waiters.append((waiter, trio.lowlevel.current_trio_token()))
                    self._waiting = True
                if self._queue or self._dropped:
                    continue
                with trio.move_on_after(0.25):
                    await waiter.wait()
        return None

    def close(self) -> None:
        """Unsubscribe: no more events are buffered for this stream."""
        self._hub.unsubscribe(self)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            event = self.recv(None)
            if event is None:
                return
            yield event

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            event = await self.recv_async(None)
            if event is None:
                return
            yield event

    def __len__(self) -> int:
        return len(self._queue)

    def __repr__(self) -> str:
        return f"<EventStream {len(self._queue)} buffered{' lossless' if self.lossless else ''}>"
