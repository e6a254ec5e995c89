"""Threaded actors: blocking ticks in a worker thread, several per hand-off while they are short.

One ``trio.to_thread`` hand-off costs some 50–100 µs. A threaded node whose
ticks are short takes several packets at once and runs their ticks back to back
in one hand-off, sized from the mean tick time so that a batch lasts about
:data:`LATENCY_BUDGET_S` (the longest the first tick's outputs wait). Slow ticks
(a model call of milliseconds, a long-running poller) keep one tick per hand-off.
A batch never takes more packets than the smallest inport's capacity, so at
most ``capacity`` packets are queued and ``capacity`` more being processed.

The worker thread runs the user's code only; engine state is touched on the
trio thread. A tick that raises, calls ``fail``, sends to an unconnected
``error`` port or emits a stream handle ends the batch: it is finished on the
trio thread the ordinary way (error policy, retry, a reader for the stream),
and the packets not run yet go first in the next hand-off.

Order: before a ``ctx.send`` from the worker is pushed, the ticks of the batch
that already ended have their ``done`` outputs put in the outbox, so FIFO per
edge holds exactly as with one tick per hand-off.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any

import greenback
import trio

from ..actor import _DONE, _OPEN, TickContext
from ..tick_timing import TickTimer

if TYPE_CHECKING:  # pragma: no cover
    from ..message import Message
    from ._node import NodeRuntime

__all__ = ["LATENCY_BUDGET_S", "ThreadedTicks"]

#: How long one batch of short threaded ticks may take (the most a first tick's outputs wait).
LATENCY_BUDGET_S = 0.001
#: Ticks in one hand-off at the most.
MAX_BATCH = 128
#: Weight of the latest batch in the running mean of a tick's time.
_SMOOTHING = 0.25

_perf = time.perf_counter


class ThreadedTicks:
    """The tick loop of one ``threaded = True`` node."""

    __slots__ = ("node", "prefetched", "taken", "ended", "tick_s")

    def __init__(self, node: NodeRuntime) -> None:
        self.node = node
        #: inputs taken from the inports whose ticks have not run yet (they go first next time)
        self.prefetched: deque[dict[str, Any]] = deque()
        #: inputs of the hand-off in progress (undelivered if the run is cancelled before it starts)
        self.taken: list[dict[str, Any]] = []
        #: ticks the worker ran to a plain end whose outputs are not in the outbox yet
        self.ended: list[TickContext] = []
        #: running mean of one tick's time in the worker (starts at the budget: one tick per hand-off)
        self.tick_s = LATENCY_BUDGET_S

    def batch_limit(self) -> int:
        """How many ticks the next hand-off may run."""
        inports = self.node.inport_list
        capacity = min(p.capacity for p in inports) if inports else 1
        by_time = int(LATENCY_BUDGET_S / self.tick_s) if self.tick_s > 0 else MAX_BATCH
        return max(1, min(by_time, MAX_BATCH, capacity))

    def take(self) -> list[dict[str, Any]]:
        """The inputs of the next hand-off's ticks (prefetched ones first), or none."""
        limit = self.batch_limit()
        batch: list[dict[str, Any]] = []
        prefetched = self.prefetched
        while prefetched and len(batch) < limit:
            batch.append(prefetched.popleft())
        take_one = self.node._take_one
        while len(batch) < limit:
            inputs = take_one()
            if inputs is None:
                break
            batch.append(inputs)
        return batch

    async def loop(self) -> None:
        """Take packets, run their ticks in the worker thread, end them here; park when idle."""
        node = self.node
        hub = node.hub
        await greenback.ensure_portal()  # ending a tick may block on a full inport from sync code
        try:
            while True:
                batch = self.take()
                if not batch:
                    await node._park_input()
                    if node.run.stopping:
                        return
                    continue
                contexts = [TickContext(node, inputs) for inputs in batch]
                started = _perf()
                # not cancellable once the worker has it (a thread cannot be interrupted):
                # a long-running threaded tick polls ctx.stopping instead
                self.taken = batch
                timer = TickTimer() if hub.active else None
                ran, failure, worked_s = await trio.to_thread.run_sync(self.run_in_worker, contexts, timer)
                self.taken = []
                self.tick_s += _SMOOTHING * (worked_s / ran - self.tick_s)
                self.prefetched.extendleft(ctx.inputs for ctx in reversed(contexts[ran:]))
                self.end_ran()
                if failure is not None:
                    self._end_in_trio(*failure)
                if hub.active:
                    node._publish_ticks(ran, _perf() - started, timer)
                node.flush()
                if hub.active:
                    hub.wake_readers()
                    if hub.congested:
                        await hub.wait_uncongested()
                await trio.lowlevel.checkpoint()
        except BaseException:  # cancelled (or failed): what was taken and not run is undelivered
            node.leftover.extend(self.taken)
            node.leftover.extend(self.prefetched)
            self.taken = []
            self.prefetched.clear()
            raise

    def run_in_worker(
        self, contexts: list[TickContext], timer: TickTimer | None
    ) -> tuple[int, tuple[TickContext, Exception | None] | None, float]:
        """(worker thread) Run ticks in order until one must be ended on the trio thread.

        Returns how many ran, the tick to end on the trio thread (with the
        exception it raised, if any) or None, and the seconds spent. With a
        ``timer``, each tick's time goes into it too.
        """
        run = self.node.run_fn
        ended = self.ended
        outbox = self.node.outbox
        started = tick_started = _perf()
        for index, ctx in enumerate(contexts, 1):
            try:
                run(ctx)
            except Exception as exc:
                failure: tuple[TickContext, Exception | None] | None = (ctx, exc)
            else:
                failure = None if _plain_end(ctx, outbox) else (ctx, None)
            now = _perf()
            if timer is not None:
                timer.add(now - tick_started)
            tick_started = now
            if failure is not None:
                return index, failure, now - started
            ended.append(ctx)
        return len(contexts), None, _perf() - started

    def end_ran(self) -> None:
        """(trio thread) Put the outputs of the ticks that ended in the worker in the outbox, in order."""
        ended = self.ended
        if ended:
            finish = self.node._finish
            for ctx in ended:
                finish(ctx)
            ended.clear()

    def _end_in_trio(self, ctx: TickContext, exc: Exception | None) -> None:
        node = self.node
        if exc is None:
            node._finish(ctx)
        else:
            node.ticks += 1
            node._raised(ctx, exc)


def _plain_end(ctx: TickContext, outbox: dict[str, list[Message]]) -> bool:
    """True when ending ``ctx`` only puts outputs in the outbox (nothing for the trio thread to decide)."""
    status = ctx._status
    if status == _DONE:
        outputs = ctx._outputs
    elif status == _OPEN:
        outputs = ctx._emitted
    else:
        return False
    if outputs:
        for port, message in outputs.items():
            if message is None:
                continue
            if message._kind == "StreamHandle" or (port == "error" and port not in outbox):
                return False
    return True
