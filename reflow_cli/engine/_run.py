"""One run of a network on trio: start, wait, inject, shut down, statistics.

A run either owns a daemon thread with its own ``trio.run`` (the SDK's
``Network.start()``, which returns at once) or runs inside trio code that is
already running (``await Network.run_async()``, used by ``reflow run`` in the
main thread).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import trio
from trio.lowlevel import current_task

from ..message import Message
from ._events import EventHub, event_payload, now_ms
from ._node import NodeRuntime
from ._plan import NetworkPlan
from ._policies import DeadLetters
from ._ports import Edge, Inport
from ._scheduler import PARK_INPUT, PARK_NONE, PARK_SPACE, Scheduler
from ._stats import EdgeStatistics, InportStatistics, NetworkStatistics, NodeStatistics
from ._status import FailureRecord, RunState, RunStatus

__all__ = ["TrioRun"]

log = logging.getLogger("reflow.engine")

#: Failures kept in memory per run (the count is exact beyond that).
_KEPT_FAILURES = 1000
#: Failures logged one by one before the log switches to a summary.
_LOGGED_FAILURES = 20


def _inputs_json(inputs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for port, message in inputs.items():
        try:
            out[port] = message.as_json()
        except Exception:  # a message whose data has no JSON form still gets reported
            out[port] = {"type": getattr(message, "kind", "?"), "data": repr(message)}
    return out


class _Feeder:
    """Delivers the IIPs of one inport that did not fit its queue at once."""

    __slots__ = ("inport", "parked", "task", "waiting_on", "abort_park", "sched")

    def __init__(self, inport: Inport, sched: Scheduler) -> None:
        self.inport = inport
        self.sched = sched
        self.parked = PARK_NONE
        self.task: Any = None
        self.waiting_on: Inport | None = None

        def abort(_raise_cancel: Any) -> trio.lowlevel.Abort:
            try:
                inport.space_waiters.remove(self)  # type: ignore[arg-type]
            except ValueError:
                pass
            return sched.unpark_cancelled(self)  # type: ignore[arg-type]

        self.abort_park = abort


class TrioRun:
    """A compiled network running (or ready to run) on trio."""

    def __init__(self, plan: NetworkPlan, hub: EventHub) -> None:
        self.plan = plan
        self.hub = hub
        self.sched = Scheduler(hub, self._on_fail)
        self.teardown_timeout = plan.options.teardown_timeout
        self.nodes: dict[str, NodeRuntime] = {}
        self.edges: list[Edge] = []
        self.failures: list[FailureRecord] = []
        self.failure_count = 0
        self.dead_letters: DeadLetters | None = None
        self._feeding = True
        self.stopping = False  # set when shutdown begins: woken nodes end their loops
        self.winding_down = False  # set when a stop is asked for (shutdown, a failure): ctx.stopping
        self._feeders: list[_Feeder] = []
        self._cancel_scope: trio.CancelScope | None = None
        self._nursery: trio.Nursery | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._stopped = threading.Event()
        self._crash: BaseException | None = None
        self._build()

    # -- building the runtime objects ------------------------------------------------------

    def _build(self) -> None:
        plan = self.plan
        for planned in plan.nodes.values():
            self.nodes[planned.id] = NodeRuntime(
                self, planned.id, planned.template_id, planned.actor, planned.spec, planned.config, planned.policy
            )
        default = plan.options.default_capacity
        routes: dict[tuple[str, str], list[Edge]] = {}
        for planned_edge in plan.edges:
            inport = self._inport(planned_edge.tgt, planned_edge.tgt_port, default)
            edge = Edge(planned_edge.src, planned_edge.src_port, inport)
            inport.edges.append(edge)
            self.edges.append(edge)
            routes.setdefault((planned_edge.src, planned_edge.src_port), []).append(edge)
        by_node: dict[str, dict[str, tuple[Edge, ...]]] = {}
        for (node_id, port), edges in routes.items():
            by_node.setdefault(node_id, {})[port] = tuple(edges)
        for node_id, node_routes in by_node.items():
            self.nodes[node_id].bind_routes(node_routes)
        for initial in plan.initials:
            self._inport(initial.node, initial.port, default).has_iip = True
        for node_id, port in plan.external_inports:  # fed from outside the run (remote edges)
            self._inport(node_id, port, default)
        self.sched.nodes = tuple(self.nodes.values())

    def _inport(self, node_id: str, port: str, default: int) -> Inport:
        node = self.nodes[node_id]
        inport = node.inports.get(port)
        if inport is None:
            inport = node.add_inport(port, self.plan.capacities.get((node_id, port), default))
        return inport

    # -- the trio side -------------------------------------------------------------------------

    async def _main(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        sched = self.sched
        sched.token = trio.lowlevel.current_trio_token()
        sched.trio_ident = threading.get_ident()
        sched.started_at = time.perf_counter()
        hub = self.hub
        hub.attach(sched.token)
        if hub.active:
            stamp = now_ms()
            hub.publish({"_type": "NetworkStarted", "timestamp": stamp})
            for node in self.nodes.values():
                hub.publish({"_type": "ActorStarted", "actorId": node.id, "component": node.template_id, "timestamp": stamp})
        try:
            with trio.CancelScope() as scope:
                self._cancel_scope = scope
                async with trio.open_nursery() as nursery:
                    sched.active += len(self.nodes)
                    self._nursery = nursery
                    for node in self.nodes.values():
                        nursery.start_soon(node.main, name=f"reflow node {node.id}")
                    for initial in self.plan.initials:
                        self._deliver_initial(self.nodes[initial.node].inports[initial.port], initial.message, nursery)
                    self._started.set()
                    task_status.started()
                    sched.end_activity()  # the start-up routine is done
        finally:
            status = sched.status
            elapsed = time.perf_counter() - sched.started_at
            # a run stopped before it settled was cancelled; a settled status stays as it was
            sched.set_status(status or RunStatus(RunState.CANCELLED, elapsed_s=elapsed), final=True)

    def _deliver_initial(self, inport: Inport, message: Message, nursery: trio.Nursery) -> None:
        if inport.backlog:
            inport.backlog.append(message)
            return
        if inport.try_push(message):
            self._received(inport, message)
            return
        inport.backlog = deque([message])
        feeder = _Feeder(inport, self.sched)
        self._feeders.append(feeder)
        self.sched.begin_activity()
        nursery.start_soon(self._feed, feeder, name=f"reflow IIPs {inport.label}")

    def _received(self, inport: Inport, message: Message) -> None:
        node = inport.node
        if node.parked == PARK_INPUT and (not node.await_all or node._all_ready()):
            self.sched.wake(node)
        if self.hub.active:
            event = {"_type": "MessageReceived", "actorId": node.id, "port": inport.name, "timestamp": now_ms()}
            if self.hub.payloads:
                event["message"] = event_payload(message)
            self.hub.publish(event)

    async def _feed(self, feeder: _Feeder) -> None:
        feeder.task = current_task()
        inport = feeder.inport
        backlog = inport.backlog
        try:
            while self._feeding and backlog:
                message = backlog[0]
                if inport.try_push(message):
                    backlog.popleft()
                    self._received(inport, message)
                    continue
                inport.space_waiters.append(feeder)  # type: ignore[arg-type]
                feeder.waiting_on = inport
                await self.sched.park(feeder, PARK_SPACE)  # type: ignore[arg-type]
                feeder.waiting_on = None
        finally:
            if not backlog:
                inport.backlog = None
            self._feeders.remove(feeder)
            self.sched.end_activity()

    async def accept(
        self, node_id: str, port: str, messages: list[Message], on_queued: Callable[[int], None] | None = None
    ) -> None:
        """Deliver packets that arrive from outside the run (a remote edge) into ``node.port``.

        Waits for room like any sender (backpressure reaches whoever called),
        and counts as activity meanwhile, so the run cannot look complete.
        ``on_queued(n)`` is told of every ``n`` packets queued, as they go in
        (so a caller's count is exact wherever the run is cancelled).
        """
        inport = self._inport(node_id, port, self.plan.options.default_capacity)
        waiter = _Feeder(inport, self.sched)
        waiter.task = current_task()
        self.sched.begin_activity()
        try:
            start = 0
            while True:
                pushed = inport.push_many(messages, start)
                start += pushed
                if pushed and on_queued is not None:
                    on_queued(pushed)
                consumer = inport.node
                if consumer.parked == PARK_INPUT and (not consumer.await_all or consumer._all_ready()):
                    self.sched.wake(consumer)
                if start >= len(messages):
                    return
                inport.space_waiters.append(waiter)  # type: ignore[arg-type]
                waiter.waiting_on = inport
                await self.sched.park(waiter, PARK_SPACE)  # type: ignore[arg-type]
                waiter.waiting_on = None
        finally:
            self.sched.end_activity()

    def accept_threadsafe(self, node_id: str, port: str, messages: list[Message]) -> None:
        """:meth:`accept` from another thread: returns once every packet is in the queue."""
        token = self.sched.token
        if token is None:
            raise RuntimeError("the run is not running")
        self.sched.resume_threadsafe()
        trio.from_thread.run(self.accept, node_id, port, messages, trio_token=token)

    def _inject_now(self, node_id: str, port: str, message: Message) -> None:
        node = self.nodes[node_id]
        inport = node.inports.get(port)
        if inport is None:
            inport = node.add_inport(port, self.plan.capacities.get((node_id, port), self.plan.options.default_capacity))
            inport.has_iip = True
        self.sched.begin_activity()
        try:
            assert self._nursery is not None
            self._deliver_initial(inport, message, self._nursery)
        finally:
            self.sched.end_activity()

    def report_failure(self, node: NodeRuntime, inputs: dict[str, Any], error: str) -> FailureRecord:
        """The engine's one failure hook: event, record, log (the node's policy decides the rest)."""
        record = FailureRecord(node.id, node.template_id, error, _inputs_json(inputs), now_ms())
        self.failure_count += 1
        if len(self.failures) < _KEPT_FAILURES:
            self.failures.append(record)
        if self.hub.active:
            self.hub.publish(
                {
                    "_type": "ActorFailed",
                    "actorId": node.id,
                    "component": node.template_id,
                    "error": error,
                    "message": record.inputs,
                    "timestamp": record.timestamp,
                }
            )
        if self.failure_count <= _LOGGED_FAILURES:
            log.warning("node %r (%s) failed: %s", node.id, node.template_id, error)
            if self.failure_count == _LOGGED_FAILURES:
                log.warning("further failures are counted in stats() and reported as ActorFailed events")
        return record

    def fail(self, record: FailureRecord) -> None:
        """A failure under the ``fail`` policy: the run is FAILED and stops."""
        self.sched.fail(record)

    def dead_letter(self, record: FailureRecord) -> None:
        """Append a failed tick to the run's dead-letter file."""
        if self.dead_letters is None:
            self.dead_letters = DeadLetters(self.plan.options.dead_letter_path)
        self.dead_letters.write(record.letter())

    def _on_fail(self, record: FailureRecord) -> None:
        self.winding_down = True
        if self._cancel_scope is not None:
            self._cancel_scope.cancel()

    async def _shutdown_async(self, grace: float) -> None:
        """Graceful stop: no new input, let what was accepted drain for ``grace`` s, then cancel.

        IIP feeders stop, and the running ticks of *long-running* actors
        (``long_running = True``: timers, servers, watchers, whose tick loops
        until stopped) are cancelled at once, so they produce nothing new;
        everything they already sent is still processed.
        """
        self._feeding = False
        self.winding_down = True
        for node in self.nodes.values():
            if node.spec.long_running and node.tick_scope is not None:
                node.tick_scope.cancel()
        for feeder in list(self._feeders):
            if feeder.parked:
                try:
                    feeder.inport.space_waiters.remove(feeder)  # type: ignore[arg-type]
                except ValueError:
                    pass
                self.sched.wake(feeder)  # type: ignore[arg-type]
        if self.sched.status is None and grace > 0:
            with trio.move_on_after(grace):
                await self.sched.wait_async()
        # Nodes parked for input end their loops when woken with `stopping` set: ending
        # 10,000 tasks that way is far cheaper than cancelling each one. The rest is cancelled.
        self.stopping = True
        for node in self.nodes.values():
            if node.parked == PARK_INPUT:
                self.sched.release(node)
        if self._cancel_scope is not None:
            self._cancel_scope.cancel()

    # -- the caller's side ------------------------------------------------------------------------

    def start(self) -> None:
        """Run in a daemon thread; return once every node task is spawned and IIPs are queued."""
        self._thread = threading.Thread(target=self._thread_main, name="reflow-network", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._crash is not None:
            raise self._crash

    def _thread_main(self) -> None:
        try:
            trio.run(self._main)
        except BaseException as exc:  # an engine bug: record it so callers see it, never hang
            self._crash = exc
            log.error("the reflow engine stopped on an internal error: %r", exc)
            self.sched.set_status(
                RunStatus(RunState.FAILED, detail=f"internal error: {exc!r}"), final=True
            )
        finally:
            self._started.set()
            self._stopped.set()

    def wait(self, timeout: float | None = None) -> RunStatus:
        """Block until COMPLETE, STALLED, FAILED or CANCELLED, or return TIMEOUT."""
        return self.sched.wait(timeout)

    def inject(self, node_id: str, port: str, message: Message) -> None:
        """Deliver an IIP into the running network (from any thread)."""
        token = self.sched.token
        if token is None or self._stopped.is_set():
            raise RuntimeError("the run is not running")
        if threading.get_ident() == self.sched.trio_ident:
            self._inject_now(node_id, port, message)
        else:
            # from now on wait() must not report the state from before this packet
            self.sched.resume_threadsafe()
            token.run_sync_soon(self._inject_now, node_id, port, message)

    def shutdown(self, grace: float = 2.0) -> NetworkStatistics:
        """Stop IIP feeds, let in-flight work finish for up to ``grace`` seconds, cancel, return stats."""
        token = self.sched.token
        if self._thread is not None and not self._stopped.is_set() and token is not None:
            try:
                trio.from_thread.run(self._shutdown_async, grace, trio_token=token)
            except trio.RunFinishedError:
                pass
            self._thread.join()
        return self._finish_shutdown()

    def _finish_shutdown(self) -> NetworkStatistics:
        if self.dead_letters is not None:
            self.dead_letters.close()
        if self.hub.active:
            self.hub.publish({"_type": "NetworkShutdown", "timestamp": now_ms()})
        self.hub.detach()
        return self.stats()

    async def run_here(
        self, timeout: float | None = None, grace: float = 2.0, stop: trio.Event | None = None
    ) -> RunStatus:
        """Run inside the current trio loop until settled, ``timeout``, or ``stop`` is set; then shut down.

        A settled run (COMPLETE, STALLED, FAILED) stops at once. On a timeout
        or a ``stop`` the shutdown is graceful (see :meth:`_shutdown_async`)
        and the status is TIMEOUT, or CANCELLED when stopped before settling
        (the run's own status if it settled during the grace period).
        """
        async with trio.open_nursery() as nursery:
            await nursery.start(self._main)
            deadline = float("inf") if timeout is None else trio.current_time() + timeout
            status: RunStatus | None = None
            with trio.move_on_at(deadline):
                async with trio.open_nursery() as waiters:
                    if stop is not None:
                        async def stopped() -> None:
                            await stop.wait()
                            waiters.cancel_scope.cancel()

                        waiters.start_soon(stopped)
                    status = await self.sched.wait_async()
                    waiters.cancel_scope.cancel()
            elapsed = time.perf_counter() - self.sched.started_at
            if status is None:
                timed_out = stop is None or not stop.is_set()
                await self._shutdown_async(grace)
                settled = self.sched.status
                if timed_out:
                    status = RunStatus(RunState.TIMEOUT, elapsed_s=elapsed, detail=f"still running after {timeout} s")
                elif settled is not None and settled.state is not RunState.STALLED:
                    status = settled
                else:
                    status = RunStatus(RunState.CANCELLED, elapsed_s=elapsed, detail="stopped on request")
            else:
                await self._shutdown_async(0)
        self._stopped.set()
        self._finish_shutdown()
        return status

    # -- statistics ---------------------------------------------------------------------------------

    def stats(self) -> NetworkStatistics:
        """A snapshot of node, inport and edge counters (safe from any thread)."""
        status = self.sched.status
        state = RunState.RUNNING if status is None else status.state
        nodes: dict[str, NodeStatistics] = {}
        inports: dict[str, InportStatistics] = {}
        undelivered = 0
        for node in tuple(self.nodes.values()):
            received = 0
            for inport in node.inport_list:
                queued = len(inport.queue) + (len(inport.backlog) if inport.backlog else 0)
                undelivered += queued
                received += inport.received
                inports[inport.label] = InportStatistics(
                    node.id, inport.name, inport.capacity, queued, inport.received,
                    max(inport.high_water, len(inport.queue)), inport.blocked_s, inport.starved_s,
                )
            undelivered += len(node.leftover) + node.pending_outputs()
            if node.stopped:
                node_state = "stopped"
            elif node.parked == PARK_INPUT:
                node_state = "waiting"
            elif node.parked == PARK_SPACE:
                node_state = "blocked"
            else:
                node_state = "running"
            sent = sum(edge.sent for edges in node.routes.values() for edge in edges)
            nodes[node.id] = NodeStatistics(
                node.id, node.template_id, node_state, node.ticks, node.failures, received, sent,
                node.starved_s, node.blocked_s, node.skipped, node.dead_lettered, node.retries,
            )
        edges = {
            edge.label: EdgeStatistics(f"{edge.src_node}.{edge.src_port}", edge.inport.label, edge.sent, edge.blocked_s, edge.waiting)
            for edge in self.edges
        }
        elapsed = time.perf_counter() - self.sched.started_at
        dead_letter_file = None if self.dead_letters is None else str(self.dead_letters.path)
        return NetworkStatistics(state, elapsed, nodes, inports, edges, self.failure_count, undelivered, dead_letter_file)
