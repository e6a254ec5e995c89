"""Parking, waking and completion detection for one run.

Every node task and every IIP feeder is *active* unless it is parked waiting
for input or for room in a full inport. Whoever makes a parked node runnable
wakes it and counts it active again *before* it runs, so the active count
reaches zero only when nothing can run. At that moment the run is either
COMPLETE (all queues empty, no sender blocked, no stream open) or STALLED
(packets wait but nobody can take them); the scheduler records which and
tells waiters. New activity (an IIP injected later) resumes the run.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import trio
from trio.lowlevel import Abort, reschedule, wait_task_rescheduled

from ._events import EventHub, now_ms
from ._status import FailureRecord, RunState, RunStatus

if TYPE_CHECKING:  # pragma: no cover
    from ._node import NodeRuntime

__all__ = ["PARK_INPUT", "PARK_SPACE", "Scheduler"]

PARK_NONE = 0
PARK_INPUT = 1
PARK_SPACE = 2


class Scheduler:
    """Active-task accounting and the run's status for one trio run."""

    __slots__ = (
        "active",
        "hub",
        "nodes",
        "open_streams",
        "trio_ident",
        "token",
        "started_at",
        "_status",
        "_cond",
        "_async_settled",
        "_on_fail",
        "final",
    )

    def __init__(self, hub: EventHub, on_fail: Callable[[FailureRecord], None]) -> None:
        self.active = 1  # the start-up routine itself, released once IIPs are in
        self.hub = hub
        self.nodes: Iterable[NodeRuntime] = ()
        self.open_streams = 0
        self.trio_ident = 0
        self.token: trio.lowlevel.TrioToken | None = None
        self.started_at = time.perf_counter()
        self._status: RunStatus | None = None  # None while running
        self._cond = threading.Condition(threading.Lock())
        self._async_settled: trio.Event | None = None
        self._on_fail = on_fail
        self.final = False  # FAILED/CANCELLED: no further status changes

    # -- parking and waking -----------------------------------------------------------

    async def park(self, node: NodeRuntime, reason: int) -> None:
        """Park ``node``'s task until someone calls :meth:`wake` on it."""
        node.parked = reason
        self.active -= 1
        if self.active == 0:
            self.settle()
        await wait_task_rescheduled(node.abort_park)

    def wake(self, node: NodeRuntime) -> None:
        """Make a parked ``node`` runnable again (counted active from now)."""
        node.parked = PARK_NONE
        if self.active == 0:
            self._resume()
        self.active += 1
        reschedule(node.task)

    def release(self, node: NodeRuntime) -> None:
        """Wake a parked ``node`` so it can end (shutdown): the settled status stays as it is."""
        node.parked = PARK_NONE
        self.active += 1
        reschedule(node.task)

    def wake_senders(self, waiters: deque[NodeRuntime], room: int) -> None:
        """Wake senders parked on a full inport, oldest first, at most one per free slot.

        Waking every sender when a few slots free up would make thousands of
        producers on one inport retry (and re-park) for each slot.
        """
        while waiters and room > 0:
            node = waiters.popleft()
            if node.parked == PARK_SPACE:
                event = getattr(node, "event", None)
                if event is not None:  # a child task of an async tick: not counted, just woken
                    node.parked = PARK_NONE
                    event.set()
                else:
                    self.wake(node)
                room -= 1

    def unpark_cancelled(self, node: NodeRuntime) -> Abort:
        """Abort callback for a parked node being cancelled: undo its parking."""
        if node.parked != PARK_NONE:
            node.parked = PARK_NONE
            self.active += 1
        return Abort.SUCCEEDED

    def begin_activity(self) -> None:
        """Count one more active thing (a feeder task, an injection)."""
        if self.active == 0:
            self._resume()
        self.active += 1

    def end_activity(self) -> None:
        """Count one active thing less; settle the status when nothing is left."""
        self.active -= 1
        if self.active == 0:
            self.settle()

    def stream_opened(self) -> None:
        """A stream produced inside this run was created (the run is not complete until it ends)."""
        self.open_streams += 1

    def stream_closed(self) -> None:
        """A stream of this run ended, failed or was dropped."""
        self.open_streams -= 1
        if self.open_streams == 0 and self.active == 0:
            self.settle()

    # -- status -------------------------------------------------------------------

    def _resume(self) -> None:
        if self._status is not None and not self.final:
            with self._cond:
                self._status = None

    def resume_threadsafe(self) -> None:
        """Forget a settled status because new work was just handed in from another thread."""
        with self._cond:
            if self._status is not None and not self.final:
                self._status = None

    def settle(self) -> None:
        """Nothing is active: decide between COMPLETE, STALLED and "waiting on a stream"."""
        if self.final or self.open_streams > 0:
            return
        ports: list[str] = []
        edges: list[str] = []
        for node in self.nodes:
            waiting = [inport for inport in node.inport_list if len(inport.queue)]
            for inport in waiting:
                ports.append(f"{inport.label} ({len(inport.queue)} waiting)")
            if waiting and node.await_all:  # name what it waits for: the inports that stay empty
                ports.extend(f"{inport.label} (empty; {node.id} needs a packet on every inport)"
                             for inport in node.inport_list if not len(inport.queue))
            for inport in node.inport_list:
                for edge in inport.edges:
                    if edge.waiting:
                        edges.append(edge.label)
        elapsed = time.perf_counter() - self.started_at
        if not ports and not edges:
            status = RunStatus(RunState.COMPLETE, elapsed_s=elapsed)
            if self.hub.active:
                self.hub.publish({"_type": "NetworkIdle", "timestamp": now_ms()})
        else:
            status = RunStatus(RunState.STALLED, tuple(ports), tuple(edges), elapsed_s=elapsed)
            if self.hub.active:
                self.hub.publish(
                    {"_type": "NetworkStalled", "ports": list(ports), "edges": list(edges), "timestamp": now_ms()}
                )
        if self.hub.active:
            self.hub.wake_readers()
        self.set_status(status)

    def set_status(self, status: RunStatus, *, final: bool = False) -> None:
        """Record ``status`` and wake every waiter (sync and async)."""
        if self.final:
            return
        with self._cond:
            self._status = status
            self.final = final
            self._cond.notify_all()
        event = self._async_settled
        if event is not None:
            self._async_settled = None
            event.set()

    def fail(self, record: FailureRecord) -> None:
        """A node failed under the ``fail`` policy: the run is FAILED."""
        elapsed = time.perf_counter() - self.started_at
        self.set_status(RunStatus(RunState.FAILED, failure=record, elapsed_s=elapsed), final=True)
        self._on_fail(record)

    @property
    def status(self) -> RunStatus | None:
        """The settled status, or ``None`` while the run is active."""
        return self._status

    def wait(self, timeout: float | None) -> RunStatus:
        """Block the calling (non-trio) thread until the run settles or ``timeout`` passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._status is None:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return RunStatus(
                        RunState.TIMEOUT,
                        elapsed_s=time.perf_counter() - self.started_at,
                        detail=f"still running after {timeout} s",
                    )
                # wake periodically so Ctrl-C reaches the main thread promptly
                self._cond.wait(0.2 if remaining is None else min(remaining, 0.2))
            return self._status

    async def wait_async(self) -> RunStatus:
        """Wait (inside the run's own trio loop) until the run settles."""
        while self._status is None:
            if self._async_settled is None:
                self._async_settled = trio.Event()
            await self._async_settled.wait()
        return self._status
