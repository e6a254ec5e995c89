"""A running node: its inports and routes, its task loop, and how a tick ends.

The hot path has no ``await`` per packet. A woken node pops a batch from its
inports with one queue call, runs the ticks back to back, and pushes their
outputs with non-blocking pushes. It awaits only when its input is empty
(parks until a producer wakes it) or when a target inport is full (parks
until that inport's consumer has drained it to half).

Sync ``run`` methods execute inside a greenback portal, so a push that meets a
full inport in the middle of a tick (``ctx.send`` of many packets) suspends
just that tick, without blocking the trio thread or buffering without bound.
New nodes get a per-batch portal (no memory while idle); a node that keeps
running gets a permanent one (cheaper per batch).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import greenback
import trio
from trio.lowlevel import checkpoint, current_task

from ..actor import (
    ComponentSpec,
    PortSpec,
    TickContext,
    _DONE,
    _FAILED,
    _OPEN,
    describe_exception,
    unknown_port_error,
)
from ..errors import PortError
from ..message import Message
from ._events import EventHub, event_payload, now_ms
from ._policies import ErrorPolicy
from ._ports import Edge, Inport
from ._scheduler import PARK_INPUT, PARK_NONE, PARK_SPACE, Scheduler
from ._streams import current_scheduler
from ._threaded import ThreadedTicks
from ..tick_timing import TickTimer

if TYPE_CHECKING:  # pragma: no cover
    from ._run import TrioRun

__all__ = ["BATCH_SIZE", "NodeRuntime"]

log = logging.getLogger("reflow.engine")

#: Ticks a node runs back to back before letting other tasks run.
BATCH_SIZE = 128
#: How long a sync node's batch may run: its budget of ticks shrinks when ticks are slow,
#: so timeouts, signals and the other nodes are never held up by more than about this.
BATCH_TIME_S = 0.02
#: Batches after which a sync node keeps a permanent greenback portal.
_PORTAL_AFTER_BATCHES = 3

_perf = time.perf_counter
_get_ident = threading.get_ident


class _ChildWaiter:
    """A sender that is not a node's own task (a child task of an async tick) waiting for room."""

    __slots__ = ("event", "parked")

    def __init__(self) -> None:
        self.event = trio.Event()
        self.parked = PARK_SPACE


class RunFailed(BaseException):
    """Raised inside a node when a failure under the ``fail`` policy stopped the run.

    A BaseException, so actor code's ``except Exception`` cannot swallow it.
    """


def _abort_park_factory(node: NodeRuntime) -> Callable[[Any], trio.lowlevel.Abort]:
    def abort(_raise_cancel: Any) -> trio.lowlevel.Abort:
        if node.waiting_on is not None:
            try:
                node.waiting_on.space_waiters.remove(node)
            except ValueError:
                pass
        return node.sched.unpark_cancelled(node)

    return abort


class NodeRuntime:
    """One node of a running network."""

    __slots__ = (
        "id",
        "template_id",
        "actor",
        "spec",
        "config",
        "state",
        "pools",
        "policy",
        "run",
        "sched",
        "hub",
        "inports",
        "inport_list",
        "routes",
        "outbox",
        "_outbox_routes",
        "_loop_pending",
        "_loop_edge_index",
        "_send_lock",
        "out_exact",
        "out_patterns",
        "await_all",
        "mode",
        "run_fn",
        "batch_size",
        "parked",
        "waiting_on",
        "task",
        "abort_park",
        "ticks",
        "failures",
        "skipped",
        "dead_lettered",
        "retries",
        "_attempt_error",
        "starved_s",
        "blocked_s",
        "stopped",
        "leftover",
        "tick_scope",
        "budget",
        "unpushed",
        "_push_left",
        "threaded",
        "_has_input",
        "_batch",
        "_rr",
    )

    def __init__(
        self,
        run: TrioRun,
        node_id: str,
        template_id: str,
        actor: Any,
        spec: ComponentSpec,
        config: dict[str, Any],
        policy: ErrorPolicy,
    ) -> None:
        self.id = node_id
        self.template_id = template_id
        self.actor = actor
        self.spec = spec
        self.config = config
        self.state: dict[str, Any] = {}
        self.pools: dict[str, dict[str, Any]] = {}
        self.policy = policy
        self.run = run
        self.sched: Scheduler = run.sched
        self.hub: EventHub = run.hub
        self.inports: dict[str, Inport] = {}
        self.inport_list: tuple[Inport, ...] = ()
        self.routes: dict[str, tuple[Edge, ...]] = {}
        self.outbox: dict[str, list[Message]] = {}
        self._outbox_routes: tuple[tuple[list[Message], str, tuple[Edge, ...]], ...] = ()
        self._loop_pending: list[Message] | None = None  # outbox list of a self-loop port, if any
        self._loop_edge_index = 0
        self._send_lock: trio.Lock | None = None
        self.out_exact = spec._out_exact
        self.out_patterns: tuple[PortSpec, ...] = tuple(p for p in spec.outports if p.is_pattern)
        self.await_all = spec.await_all_inports
        if callable(getattr(actor, "run_batch", None)):
            self.mode = "batch"
            self.batch_size = int(getattr(actor, "batch_size", BATCH_SIZE))
        else:
            self.mode = "threaded" if spec.threaded else ("async" if spec.is_async else "sync")
            self.batch_size = 1
        self.run_fn = actor.run
        self.parked = PARK_NONE
        self.waiting_on: Inport | None = None
        self.task: Any = None
        self.abort_park = _abort_park_factory(self)
        self.ticks = 0
        self.failures = 0  # failed attempts (an ActorFailed event each)
        self.skipped = 0  # failed ticks given up under skip/continue
        self.dead_lettered = 0
        self.retries = 0
        self._attempt_error: list[str] | None = None  # collects failures while a retry attempt runs
        self.starved_s = 0.0
        self.blocked_s = 0.0
        self.stopped = False
        self.leftover: list[Any] = []  # inputs taken but not processed when the run was cancelled
        self.tick_scope: trio.CancelScope | None = None  # the async tick running now, if any
        self.budget = 1  # ticks in the next batch of a sync node (see _fit_budget)
        self.unpushed = 0  # packets a push cancelled while blocked never delivered (one per target inport)
        self._push_left = 0  # packets _push_rest still has to push
        self._rr = 0
        self.threaded = ThreadedTicks(self) if self.mode == "threaded" else None
        self._bind_input_strategy()

    # -- wiring (compile time) -------------------------------------------------------

    def add_inport(self, name: str, capacity: int) -> Inport:
        """Create the FIFO for inport ``name``."""
        inport = Inport(self, name, capacity)
        self.inports[name] = inport
        self.inport_list = (*self.inport_list, inport)
        self._bind_input_strategy()
        if self.routes:
            self._find_self_loop()  # a second inport ends the self-loop shortcut
        return inport

    def _bind_input_strategy(self) -> None:
        ports = self.inport_list
        if not ports:
            self._has_input = _never
            self._batch = _nothing
        elif self.await_all:
            self._has_input = self._all_ready
            self._batch = self._batch_await_all
        elif len(ports) == 1:
            self._has_input = ports[0].queue.__bool__
            self._batch = self._batch_single
        else:
            self._has_input = self._any_ready
            self._batch = self._batch_multi

    def _all_ready(self) -> bool:
        for inport in self.inport_list:
            if not inport.queue:
                return False
        return True

    def _any_ready(self) -> bool:
        for inport in self.inport_list:
            if inport.queue:
                return True
        return False

    # -- ports -----------------------------------------------------------------------

    def has_outport(self, port: str) -> bool:
        """Whether ``port`` is a declared outport of this node's component."""
        if port in self.out_exact:
            return True
        for pattern in self.out_patterns:
            if pattern.matches(port):
                return True
        return False

    def unknown_outport(self, port: Any) -> PortError:
        """The error for an output on an undeclared port."""
        return unknown_port_error(self.id, self.template_id, str(port), (p.name for p in self.spec.outports), "outport")

    # -- task -----------------------------------------------------------------------------

    async def main(self) -> None:
        """The node's task: setup, the tick loop, teardown."""
        self.task = current_task()
        current_scheduler.set(self.sched)  # streams created in this node's ticks belong to this run
        try:
            await self._main_loop()
        except RunFailed:
            pass  # the run is FAILED and being cancelled; this node stops here
        finally:
            self.stopped = True
            with trio.CancelScope(shield=True) as scope:
                scope.deadline = trio.current_time() + self.run.teardown_timeout
                await self._teardown()
            if self.hub.active:
                self.hub.publish({"_type": "ActorStopped", "actorId": self.id, "ticks": self.ticks, "timestamp": now_ms()})

    async def _main_loop(self) -> None:
        if not await self._setup():
            # setup failed: the node cannot tick; park until the run stops so it can settle
            while not self.run.stopping:
                await self.sched.park(self, PARK_INPUT)
        elif self.mode == "sync":
            await self._loop_sync()
        elif self.threaded is not None:
            await self.threaded.loop()
        else:
            await self._loop_one_by_one()

    async def _call_hook(self, name: str) -> bool:
        hook = getattr(self.actor, name, None)
        if hook is None:
            return True
        ctx = TickContext(self, {})
        try:
            if self.mode == "threaded":
                result = await trio.to_thread.run_sync(hook, ctx)
            else:
                result = await greenback.with_portal_run_sync(hook, ctx)
            if hasattr(result, "__await__"):
                await result
        except Exception as exc:  # a failing hook is the node's failure: reported; `fail` stops the run
            self.failures += 1
            record = self.run.report_failure(self, {}, f"{name} failed: {describe_exception(exc)}")
            if self.policy.final_action() == "fail":
                self.run.fail(record)
            return False
        return True

    async def _setup(self) -> bool:
        ok = await self._call_hook("setup")
        await self.flush_async()  # packets setup() sent
        return ok

    async def _teardown(self) -> None:
        await self._call_hook("teardown")

    async def _park_input(self) -> None:
        empty = [p for p in self.inport_list if not p.queue]
        started = _perf()
        await self.sched.park(self, PARK_INPUT)
        waited = _perf() - started
        self.starved_s += waited
        for inport in empty:
            inport.starved_s += waited

    async def _loop_sync(self) -> None:
        has_input = self._has_input
        hub = self.hub
        portal = False
        batches = 0
        while True:
            if not has_input():
                await self._park_input()
                if self.run.stopping:
                    return
                has_input = self._has_input  # inports may have been added while parked
                continue
            started, ticks, blocked = _perf(), self.ticks, self.blocked_s
            if portal:
                self._batch()
            else:
                await greenback.with_portal_run_sync(self._batch)
                batches += 1
                if batches >= _PORTAL_AFTER_BATCHES:
                    await greenback.ensure_portal()
                    portal = True
            self._fit_budget(self.ticks - ticks, _perf() - started - (self.blocked_s - blocked))
            if hub.active:
                hub.wake_readers()
                if hub.congested:
                    await hub.wait_uncongested()
            if has_input():
                await checkpoint()  # let the nodes we just fed run

    def _fit_budget(self, ticks: int, working_s: float) -> None:
        """Size the next batch from this one: about :data:`BATCH_TIME_S` of ticks (time blocked on full inports aside).

        A new node starts at one tick and grows fourfold per quick batch, so
        even its first batch of slow ticks holds nothing up for long.
        """
        if ticks <= 0:
            return
        if working_s > BATCH_TIME_S:
            self.budget = max(1, int(ticks * BATCH_TIME_S / working_s))
        elif self.budget < BATCH_SIZE:
            self.budget = min(BATCH_SIZE, self.budget * 4)

    async def _loop_one_by_one(self) -> None:
        """Async and batch actors: one tick (or one batch) at a time, awaiting each."""
        await greenback.ensure_portal()  # routing may block on full inports from sync code
        mode = self.mode
        hub = self.hub
        items: list[Message] = []
        while True:
            if mode == "batch":
                items = self._take_batch()
                inputs: dict[str, Any] | None = {} if items else None
            else:
                inputs = self._take_one()
            if inputs is None:
                await self._park_input()
                if self.run.stopping:
                    return
                continue
            ctx = TickContext(self, inputs)
            started = _perf()
            count = len(items) if mode == "batch" else 1
            with trio.CancelScope() as scope:
                self.tick_scope = scope
                try:
                    if mode == "batch":
                        await self.actor.run_batch(ctx, items)
                    else:
                        await self.run_fn(ctx)
                except Exception as exc:
                    if mode == "batch":
                        self._batch_failed(items, describe_exception(exc))
                    else:
                        self.ticks += 1
                        self._raised(ctx, exc)
                except BaseException:  # the run is cancelled mid-tick: its input is undelivered
                    if not scope.cancel_called:  # (not a long-running tick stopped at shutdown)
                        self.leftover.extend(items if mode == "batch" else [inputs])
                    raise
                else:
                    self.ticks += count - 1
                    self._finish(ctx)
            self.tick_scope = None
            if scope.cancelled_caught:  # stopped by a graceful shutdown: what it sent stays sent
                self.ticks += count
                ctx._status = _FAILED
            if hub.active:
                self._publish_ticks(count, _perf() - started)
            self.flush()
            if hub.active:
                hub.wake_readers()
                if hub.congested:
                    await hub.wait_uncongested()
            await checkpoint()

    # -- taking input ---------------------------------------------------------------------

    def _pop(self, inport: Inport, limit: int) -> list[Any]:
        queue = inport.queue
        items = inport.pop_many(limit)
        taken = len(items)
        length = len(queue)
        # only the consumer shrinks a queue, so its length just before this pop is its
        # longest since the last one: an exact high-water mark without touching pushes
        inport.received += taken
        if taken + length > inport.high_water:
            inport.high_water = taken + length
        if inport.space_waiters and length <= inport.low_water:
            self.sched.wake_senders(inport.space_waiters, inport.capacity - length)
        return items

    def _take_one(self) -> dict[str, Any] | None:
        ports = self.inport_list
        if not ports:
            return None
        if self.await_all:
            if not self._all_ready():
                return None
            return {p.name: self._pop(p, 1)[0] for p in ports}
        count = len(ports)
        for offset in range(count):
            inport = ports[(self._rr + offset) % count]
            if inport.queue:
                self._rr = (self._rr + offset + 1) % count
                return {inport.name: self._pop(inport, 1)[0]}
        return None

    def _take_batch(self) -> list[Message]:
        """A batch actor's next batch: up to ``batch_size`` packets of its one inport."""
        inport = self.inport_list[0]
        return self._pop(inport, self.batch_size) if inport.queue else []

    def _batch_failed(self, items: list[Message], error: str) -> None:
        """A failed ``run_batch``: every packet of the batch is a failed tick, under the node's policy."""
        self.ticks += len(items)
        port = self.inport_list[0].name
        for item in items:
            self._failed({port: item}, error)

    # -- batches (sync actors) ------------------------------------------------------------------

    def _run_ticks(self, port: str, items: list[Any]) -> None:
        """Run one tick per item on ``port``, leaving the outputs in the outbox (the hot loop).

        While someone subscribes to events, each tick is timed too (see ``tick_timing``).
        """
        run = self.run_fn
        outbox_get = self.outbox.get
        timer = TickTimer() if self.hub.active else None
        self.ticks += len(items)
        remaining = iter(items)
        started = tick_started = _perf() if timer is not None else 0.0
        try:
            for message in remaining:
                ctx = TickContext(self, {port: message})
                try:
                    run(ctx)
                except Exception as exc:
                    self._raised(ctx, exc)
                else:
                    # inlined _finish for the common case: done() with outputs
                    if ctx._status == _DONE:
                        outputs = ctx._outputs
                        if outputs:
                            for out_port, out in outputs.items():
                                pending = outbox_get(out_port)
                                if pending is not None and out is not None:
                                    pending.append(out)
                                elif out is not None and out_port == "error":
                                    self._error_port_packet(out, ctx.inputs)
                    else:
                        self._finish(ctx, count=False)
                if timer is not None:
                    now = _perf()
                    timer.add(now - tick_started)
                    tick_started = now
        except BaseException:  # the run failed or was cancelled
            self._not_started(list(remaining))
            raise
        if timer is not None:
            self._publish_ticks(len(items), _perf() - started, timer)

    def _run_each(self, batch: list[dict[str, Any]], timed: bool) -> None:
        """Run one tick per inputs, in order; ``timed``: time each and publish a ``TickBatch`` with their histogram."""
        run = self.run_fn
        timer = TickTimer() if timed else None
        self.ticks += len(batch)
        started = tick_started = _perf() if timer is not None else 0.0
        begun = 0
        try:
            for inputs in batch:
                ctx = TickContext(self, inputs)
                begun += 1
                try:
                    run(ctx)
                except Exception as exc:
                    self._raised(ctx, exc)
                else:
                    self._finish(ctx, count=False)
                if timer is not None:
                    now = _perf()
                    timer.add(now - tick_started)
                    tick_started = now
        except BaseException:
            self._not_started(batch[begun:])
            raise
        if timer is not None:
            self._publish_ticks(len(batch), _perf() - started, timer)

    def _not_started(self, inputs: list[Any]) -> None:
        """Inputs taken for ticks that never ran (the run failed or was cancelled): no ticks, undelivered."""
        self.ticks -= len(inputs)
        self.leftover.extend(inputs)

    def _publish_ticks(self, ticks: int, seconds: float, timer: TickTimer | None = None) -> None:
        """A ``TickBatch`` event: how long ``ticks`` ticks took (for tick-latency figures in traces)."""
        event: dict[str, Any] = {"_type": "TickBatch", "actorId": self.id, "ticks": ticks, "seconds": seconds}
        if timer is not None:
            event.update(timer.fields())
        event["timestamp"] = now_ms()
        self.hub.publish(event)

    def _batch_single(self) -> None:
        inport = self.inport_list[0]
        queue = inport.queue
        name = inport.name
        loop = self._loop_pending
        budget = self.budget
        while budget > 0:
            if queue:
                items = self._pop(inport, budget)
            elif loop:
                # A self-loop's next packet goes straight into the next tick instead of
                # through the queue and back: nothing else waits in the queue, so FIFO holds.
                items = loop[:budget]
                del loop[: len(items)]
                self._bypassed(inport, items)
            else:
                break
            budget -= len(items)
            self._run_ticks(name, items)
        self.flush()

    def _bypassed(self, inport: Inport, items: list[Message]) -> None:
        """Account for self-loop packets handed to the next tick without the queue."""
        count = len(items)
        edge = inport.edges[self._loop_edge_index]
        edge.sent += count
        inport.received += count
        if self.hub.active:
            self._publish_sent(edge.src_port, inport, items)

    def _batch_multi(self) -> None:
        budget = self.budget
        while budget > 0 and self._any_ready():
            for inport in self.inport_list:
                if inport.queue and budget > 0:
                    items = self._pop(inport, budget)
                    budget -= len(items)
                    self._run_ticks(inport.name, items)
        self.flush()

    def _batch_await_all(self) -> None:
        budget = self.budget
        while budget > 0 and self._all_ready():
            budget -= self._ticks_await_all(budget)

    def _ticks_await_all(self, limit: int) -> int:
        ports = self.inport_list
        count = min(len(p.queue) for p in ports)
        if count > limit:
            count = limit
        names = [p.name for p in ports]
        columns = [self._pop(p, count) for p in ports]
        self._run_each([dict(zip(names, row)) for row in zip(*columns)], timed=self.hub.active)
        self.flush()
        return count

    # -- ending a tick ---------------------------------------------------------------------------

    def _finish(self, ctx: TickContext, count: bool = True) -> None:
        """Queue a finished tick's outputs in the outbox (flushed after the batch)."""
        if count:
            self.ticks += 1
        status = ctx._status
        if status == _DONE:
            outputs = ctx._outputs
        elif status == _OPEN:  # returned without done(): an implicit done()
            ctx._status = _DONE
            outputs = ctx._emitted
        else:
            self._failed(ctx.inputs, ctx._error)
            return
        if outputs:
            outbox = self.outbox
            for port, message in outputs.items():
                if message is not None:
                    pending = outbox.get(port)
                    if pending is not None:
                        pending.append(message)
                    elif port == "error":
                        self._error_port_packet(message, ctx.inputs)

    def _raised(self, ctx: TickContext, exc: Exception) -> None:
        status = ctx._status
        if status == _OPEN:
            ctx._status = _FAILED
            self._failed(ctx.inputs, describe_exception(exc))
            return
        # raised after done()/fail(): finish what was decided, and report the exception too
        self._finish(ctx, count=False)
        if status == _DONE:
            self._failed(ctx.inputs, describe_exception(exc))

    def _failed(self, inputs: dict[str, Any], error: str) -> None:
        """A tick failed: report it, then let the node's error policy decide (see ``_policies``)."""
        if self._attempt_error is not None:  # inside a retry: the retry loop decides
            self._attempt_error.append(error)
            return
        self.failures += 1
        record = self.run.report_failure(self, inputs, error)
        policy = self.policy
        if policy.action == "retry" and inputs and self._retried(inputs, error):
            return
        action = policy.final_action()
        if action == "fail":
            self.run.fail(record)
            raise RunFailed  # stop this batch now: the rest of its input stays undelivered
        elif action == "dead_letter":
            self.dead_lettered += 1
            pending = self.outbox.get("error")
            if pending is not None:  # a connected error port gets the dead letter
                pending.append(Message._make("Object", record.letter()))
            else:
                self.run.dead_letter(record)
        else:  # skip / continue
            self.skipped += 1

    def _retried(self, inputs: dict[str, Any], error: str) -> bool:
        """Run a failed tick again, up to the policy's count; True once an attempt succeeds."""
        policy = self.policy
        for attempt in range(policy.count):
            delay = policy.backoff * (2**attempt)
            if delay:
                greenback.await_(trio.sleep(delay))
            self.retries += 1
            failures: list[str] = []
            self._attempt_error = failures
            try:
                ctx = TickContext(self, dict(inputs))
                try:
                    self._invoke(ctx)
                except Exception as exc:
                    self._raised(ctx, exc)
                else:
                    self._finish(ctx, count=False)
            finally:
                self._attempt_error = None
            if not failures:
                return True
            self.failures += 1
            error = failures[0]
            last = attempt + 1 == policy.count
            self.run.report_failure(self, inputs, f"{error} (retry {attempt + 1} of {policy.count}{', giving up' if last else ''})")
        return False

    def _invoke(self, ctx: TickContext) -> None:
        """Call ``run`` the way this node's mode needs, from sync code with a greenback portal."""
        if self.mode == "sync":
            self.run_fn(ctx)
        elif self.mode == "async":
            greenback.await_(self.run_fn(ctx))
        elif self.mode == "batch":  # a retried packet of a batch actor is a batch of one
            packets = list(ctx.inputs.values())
            ctx.inputs = {}
            greenback.await_(self.actor.run_batch(ctx, packets))
        else:
            greenback.await_(trio.to_thread.run_sync(self.run_fn, ctx))

    def _error_port_packet(self, message: Message, inputs: dict[str, Any]) -> None:
        """A packet on an unconnected ``error`` outport is the tick's failure (never dropped silently)."""
        data = message._data
        text = data if isinstance(data, str) else repr(event_payload(message))
        self._failed(inputs, f"{text} (sent to its unconnected error port)")

    # -- sending -----------------------------------------------------------------------------------
    #
    # Outputs of done()/emit wait in a per-port outbox and go out with one
    # push_many per edge when the batch (or an async tick) ends; ctx.send
    # pushes at once. FIFO per edge holds because every output of a node passes
    # through the same outbox list, in call order.

    def bind_routes(self, routes: dict[str, tuple[Edge, ...]]) -> None:
        """Wire this node's outports to the inports they feed (compile time)."""
        self.routes = routes
        self.outbox = {port: [] for port in routes}
        self._outbox_routes = tuple((self.outbox[port], port, edges) for port, edges in routes.items())
        self._find_self_loop()

    def _find_self_loop(self) -> None:
        """Note an outport whose only edge leads back into this node's only inport (a generator's loop)."""
        self._loop_pending = None
        if len(self.inport_list) != 1 or self.await_all or self.mode != "sync":
            return
        inport = self.inport_list[0]
        for port, edges in self.routes.items():
            if len(edges) == 1 and edges[0].inport is inport:
                self._loop_pending = self.outbox[port]
                self._loop_edge_index = inport.edges.index(edges[0])
                return

    def flush(self) -> None:
        """Push every pending output.

        Sync, and called with a greenback portal: when a target is full, the
        current tick (or batch) is suspended until the consumer makes room.
        """
        for pending, port, edges in self._outbox_routes:
            if pending:
                count = len(pending)
                for index, edge in enumerate(edges):
                    inport = edge.inport
                    if count == 1:  # a single packet: the plain push is cheaper than push_many
                        pushed = 1 if inport.try_push(pending[0]) else 0
                    else:
                        pushed = inport.push_many(pending)
                    edge.sent += pushed
                    if pushed < count:
                        try:
                            greenback.await_(self._push_rest(edge, pending, pushed))
                        except BaseException:  # cancelled while blocked: count exactly what never went out
                            self.unpushed += self._push_left + count * (len(edges) - index - 1)
                            pending.clear()
                            raise
                    consumer = inport.node
                    if consumer.parked == PARK_INPUT and (not consumer.await_all or consumer._all_ready()):
                        self.sched.wake(consumer)
                    if self.hub.active:
                        self._publish_sent(port, inport, pending)
                pending.clear()

    async def flush_async(self) -> None:
        """:meth:`flush` from a task that may have no greenback portal (setup, worker-thread sends)."""
        if greenback.has_portal():
            self.flush()
        else:
            await greenback.with_portal_run_sync(self.flush)

    def _publish_sent(self, port: str, inport: Inport, messages: list[Message]) -> None:
        hub = self.hub
        publish = hub.publish
        src = self.id
        dst = inport.node.id
        dst_port = inport.name
        if not hub.payloads:  # nobody reads the data: skip rendering it
            for _ in messages:
                publish(
                    {"_type": "MessageSent", "fromActor": src, "fromPort": port, "toActor": dst,
                     "toPort": dst_port, "timestamp": now_ms()}
                )
            return
        for message in messages:
            publish(
                {
                    "_type": "MessageSent",
                    "fromActor": src,
                    "fromPort": port,
                    "toActor": dst,
                    "toPort": dst_port,
                    "message": event_payload(message),
                    "timestamp": now_ms(),
                }
            )

    async def _push_rest(self, edge: Edge, messages: list[Message], start: int) -> None:
        """Wait for room in ``edge``'s inport until ``messages[start:]`` are all in.

        Statistics move as it goes (sent packets, blocked seconds), so a
        long wait shows in ``stats()`` while it lasts. A task other than the
        node's own (a child task of an async tick) waits on an event of its
        own: the node's task stays counted as active meanwhile.
        """
        inport = edge.inport
        consumer = inport.node
        edge.waiting = True
        self.waiting_on = inport
        own_task = current_task() is self.task
        self._push_left = len(messages) - start
        try:
            while True:
                # the consumer must be running to make room for us
                if consumer.parked == PARK_INPUT and (not consumer.await_all or consumer._all_ready()):
                    self.sched.wake(consumer)
                if inport.high_water < inport.capacity:
                    inport.high_water = inport.capacity
                started = _perf()
                if own_task:
                    inport.space_waiters.append(self)
                    await self.sched.park(self, PARK_SPACE)
                else:
                    waiter = _ChildWaiter()
                    inport.space_waiters.append(waiter)  # type: ignore[arg-type]
                    await waiter.event.wait()
                waited = _perf() - started
                edge.blocked_s += waited
                inport.blocked_s += waited
                self.blocked_s += waited
                pushed = inport.push_many(messages, start)
                edge.sent += pushed
                start += pushed
                self._push_left = len(messages) - start
                if start >= len(messages):
                    return
        finally:
            edge.waiting = False
            self.waiting_on = None

    def send_now(self, port: str, message: Message, inputs: dict[str, Any]) -> None:
        """``ctx.send`` of one packet: pushed before this returns (after earlier outputs, FIFO).

        It must not linger in the outbox: the tick may go on to wait for
        something (a stream reader, say) that needs this packet delivered
        first. From a worker thread (threaded actors) the packet is pushed
        through the trio thread.
        """
        if _get_ident() != self.sched.trio_ident:
            trio.from_thread.run(self._send_from_worker, port, message, inputs, trio_token=self.sched.token)
        elif self._enqueue(port, message, inputs):
            self.flush()

    async def send_async(self, port: str, message: Message, inputs: dict[str, Any]) -> None:
        """``await ctx.send_async`` of one packet: pushed before this returns.

        Several tasks of one async tick may send at once: they take turns, so
        the outbox is never flushed by two of them together.
        """
        if self._send_lock is None:
            self._send_lock = trio.Lock()
        async with self._send_lock:
            if self._enqueue(port, message, inputs):
                await self.flush_async()

    async def _send_from_worker(self, port: str, message: Message, inputs: dict[str, Any]) -> None:
        """``ctx.send`` from a worker thread: after the outputs of the ticks that ended before it (FIFO)."""
        if self.threaded is not None:
            self.threaded.end_ran()
        await self.send_async(port, message, inputs)

    def _enqueue(self, port: str, message: Message, inputs: dict[str, Any]) -> bool:
        """Put a sent packet in the outbox; False when its port is not connected (nothing to push)."""
        pending = self.outbox.get(port)
        if pending is None:
            if port == "error":
                self._error_port_packet(message, inputs)
            return False
        pending.append(message)
        return True

    def pending_outputs(self) -> int:
        """Outputs produced but not yet pushed, once per inport they were for (undelivered if the run is cancelled)."""
        return sum(len(pending) * len(edges) for pending, _port, edges in self._outbox_routes) + self.unpushed

    def __repr__(self) -> str:
        return f"<NodeRuntime {self.id} ({self.template_id})>"


def _never() -> bool:
    return False


def _nothing() -> None:
    return None
