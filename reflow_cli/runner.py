"""Running a network to its end from the main thread: the library side of ``reflow run``.

:func:`run_to_end` runs a :class:`~reflow_cli.Network` on trio in the calling
thread until it is complete, stalled or failed, a ``timeout`` or ``duration``
passes, or SIGINT/SIGTERM arrives (then it shuts down gracefully: sources
stop, what was accepted drains for up to ``grace`` seconds; a second signal
stops at once). It can write a trace and report progress.
"""

from __future__ import annotations

import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from .actor import Actor
from .engine import Network, NetworkStatistics, RunState, RunStatus
from .message import Message
from .trace import TraceWriter

__all__ = ["OutportTap", "RunOutcome", "TAP_PREFIX", "pipeline_network", "run_to_end", "tap_outports"]


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """How a run ended: its status, final statistics, and why it stopped.

    ``reason`` is one of ``complete``, ``stalled``, ``failed``, ``timeout``,
    ``duration``, ``SIGINT``, ``SIGTERM``, ``cancelled``.
    """

    status: RunStatus
    stats: NetworkStatistics
    reason: str
    elapsed_s: float
    trace_events: int = 0


def pipeline_network(loaded: Any, *, on_error: str = "fail", dead_letter_path: str = "dead-letters.jsonl") -> Network:
    """A :class:`Network` for a loaded pipeline spec (``reflow_cli.spec.load_pipeline``).

    ``reflow run`` uses the ``fail`` error policy by default: the first failing
    tick stops the run (nodes may say otherwise with ``on_error``).
    """
    network = Network.from_graph(loaded.graph, on_error=on_error, dead_letter_path=dead_letter_path)
    for component_id, component in loaded.components.items():
        network.register_actor(component_id, component)
    return network


class OutportTap(Actor):
    """Keeps what reaches one of the pipeline's exported outports: a count and the last few packets."""

    component = "reflow_outport_tap"
    inports = ["in"]
    outports: list[str] = []

    def __init__(self, keep: int = 20) -> None:
        self.count = 0
        self.last: deque[Message] = deque(maxlen=keep)

    def run(self, ctx: Any) -> None:
        self.count += 1
        self.last.append(ctx.inputs["in"])


#: Node ids the taps get (``<prefix><outport name>``); reflow's own, not part of the user's graph.
TAP_PREFIX = "__outport__"


def tap_outports(network: Network) -> dict[str, OutportTap]:
    """Connect a tap to every exported outport of the network's graph: ``{outport name: tap}``."""
    taps: dict[str, OutportTap] = {}
    for port in network.graph.iter_outports():
        tap = OutportTap()
        node_id = f"{TAP_PREFIX}{port.name}"
        network.register_actor(node_id, tap)
        network.add_node(node_id, node_id)
        network.add_connection(port.node, port.port, node_id, "in")
        taps[port.name] = tap
    return taps


_REASONS = {
    RunState.COMPLETE: "complete",
    RunState.STALLED: "stalled",
    RunState.FAILED: "failed",
    RunState.TIMEOUT: "timeout",
    RunState.CANCELLED: "cancelled",
}


def run_to_end(
    network: Network,
    *,
    timeout: float | None = None,
    duration: float | None = None,
    grace: float = 5.0,
    trace: Path | None = None,
    trace_payloads: bool = False,
    progress: Callable[[NetworkStatistics], None] | None = None,
    progress_interval: float = 0.25,
    handle_signals: bool = True,
) -> RunOutcome:
    """Run ``network`` on trio in this thread until it ends (see the module doc)."""
    return trio.run(
        _run,
        network,
        timeout,
        duration,
        grace,
        trace,
        trace_payloads,
        progress,
        progress_interval,
        handle_signals,
    )


async def _run(
    network: Network,
    timeout: float | None,
    duration: float | None,
    grace: float,
    trace: Path | None,
    trace_payloads: bool,
    progress: Callable[[NetworkStatistics], None] | None,
    progress_interval: float,
    handle_signals: bool,
) -> RunOutcome:
    started = time.perf_counter()
    stop = trio.Event()
    why: list[str] = []
    writer = (
        TraceWriter(network.events(lossless=True), trace, payloads=trace_payloads, stats=network.stats)
        if trace is not None
        else None
    )

    def request_stop(reason: str) -> None:
        if not why:
            why.append(reason)
        stop.set()

    async with trio.open_nursery() as helpers:
        if writer is not None:
            helpers.start_soon(writer.run)
        if duration is not None:

            async def stop_after_duration() -> None:
                await trio.sleep(duration)
                request_stop("duration")

            helpers.start_soon(stop_after_duration)
        if handle_signals:
            helpers.start_soon(_watch_signals, request_stop, helpers.cancel_scope)
        if progress is not None:

            async def report_progress() -> None:
                while True:
                    await trio.sleep(progress_interval)
                    progress(network.stats())

            helpers.start_soon(report_progress)

        status = await network.run_async(timeout=timeout, grace=grace, stop=stop)
        if writer is not None:
            await writer.finished.wait()  # the run has stopped: the writer ends once it is drained
            writer.stream.close()
        helpers.cancel_scope.cancel()

    # a requested stop explains the end, unless a node failed first
    reason = why[0] if why and status.state is not RunState.FAILED else _REASONS.get(status.state, "cancelled")
    stats = network.stats()
    if progress is not None:
        progress(stats)
    return RunOutcome(status, stats, reason, time.perf_counter() - started, writer.written if writer else 0)


async def _watch_signals(request_stop: Callable[[str], None], scope: trio.CancelScope) -> None:
    names = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}
    with trio.open_signal_receiver(*names) as received:
        count = 0
        async for signum in received:
            count += 1
            request_stop(names.get(signum, "SIGINT"))
            if count > 1:  # a second signal: stop now, without waiting for the grace period
                raise KeyboardInterrupt
