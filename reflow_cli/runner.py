"""Running a network to its end from the main thread: the library side of ``reflow run``.

:func:`run_to_end` runs a :class:`~reflow_cli.Network` on trio in the calling
thread until it is complete, stalled or failed, a ``timeout`` or ``duration``
passes, SIGINT/SIGTERM arrives or a :class:`RunControl` asks it to stop (then
it shuts down gracefully: sources stop, what was accepted drains, until done
or for ``grace`` seconds (see :func:`drain_seconds`); a second signal stops at once). It can write a trace,
report progress and serve Prometheus metrics while it runs.

:func:`tap_node` connects collectors to a node's outports (``reflow tap`` and
``reflow test`` read what leaves a node through them).
"""

from __future__ import annotations

import math
import signal
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from .actor import Actor
from .engine import Network, NetworkStatistics, RunState, RunStatus
from .engine._plan import node_settings
from .engine._policies import DeadLetterError
from .message import Message
from .trace import TraceWriteError, TraceWriter

__all__ = [
    "DISTRIBUTION_KEYS",
    "PORT_TAP_PREFIX",
    "TAP_PREFIX",
    "OutportTap",
    "PortTap",
    "RunControl",
    "RunOutcome",
    "is_reflow_node",
    "node_component_spec",
    "dead_letter_nodes",
    "distribution_settings",
    "node_outports",
    "pipeline_network",
    "run_to_end",
    "tap_node",
    "tap_outports",
]


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


def pipeline_network(
    loaded: Any, *, on_error: str = "fail", dead_letter_path: str = "dead-letters.jsonl", executor: Any = "trio"
) -> Network:
    """A :class:`Network` for a loaded pipeline spec (``reflow_cli.spec.load_pipeline``).

    ``reflow run`` uses the ``fail`` error policy by default: the first failing
    tick stops the run (nodes may say otherwise with ``on_error``).
    ``executor`` is ``"trio"`` (local), ``"ray"`` or an executor object.
    """
    network = Network.from_graph(
        loaded.graph, on_error=on_error, dead_letter_path=dead_letter_path, executor=executor
    )
    for component_id, component in loaded.components.items():
        network.register_actor(component_id, component)
    return network


class OutportTap(Actor):
    """Keeps what reaches one of the pipeline's exported outports: a count and the last few packets."""

    component = "reflow_outport_tap"
    follow_source = True  # a distributed executor runs it next to the node it taps
    inports = ["in"]
    outports: list[str] = []

    def __init__(self, keep: int = 20) -> None:
        self.count = 0
        self.last: deque[Message] = deque(maxlen=keep)

    def run(self, ctx: Any) -> None:
        self.count += 1
        self.last.append(ctx.inputs["in"])

    def remote_state(self) -> tuple[int, list[Message]]:
        """What a copy of this tap running elsewhere (a Ray actor) saw, for :meth:`merge_remote_state`."""
        return self.count, list(self.last)

    def merge_remote_state(self, state: tuple[int, list[Message]]) -> None:
        """Fold in what a copy of this tap saw in another process."""
        count, last = state
        self.count += count
        self.last.extend(last)


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


#: Node ids of :func:`tap_node`'s collectors (``<prefix><node>.<port>``).
PORT_TAP_PREFIX = "__tap__"


def is_reflow_node(node_id: str) -> bool:
    """Whether a node id is one of reflow's own collectors (outport taps, port taps), not the user's."""
    return node_id.startswith((TAP_PREFIX, PORT_TAP_PREFIX))


class PortTap(Actor):
    """Keeps every packet leaving one outport of a node, in order, and hands each to ``on_message``.

    ``on_message(node, port, message)`` runs in the tap's tick, on the run's
    trio thread; ``keep=False`` only counts (for long runs that print as they go).
    """

    component = "reflow_port_tap"
    follow_source = True  # a distributed executor runs it next to the node it taps
    inports = ["in"]
    outports: list[str] = []

    def __init__(
        self, node: str, port: str, on_message: Callable[[str, str, Message], None] | None = None, *, keep: bool = True
    ) -> None:
        self.node = node
        self.port = port
        self.on_message = on_message
        self.keep = keep
        self.count = 0
        self.messages: list[Message] = []

    def run(self, ctx: Any) -> None:
        message = ctx.inputs["in"]
        self.count += 1
        if self.keep:
            self.messages.append(message)
        if self.on_message is not None:
            self.on_message(self.node, self.port, message)


def node_component_spec(loaded: Any, node: str) -> Any:
    """The :class:`~reflow_cli.actor.ComponentSpec` a loaded pipeline's node runs (None when unknown).

    Raises ``KeyError`` when the pipeline has no such node.
    """
    from .actor import actor_spec
    from .registry import default_registry

    component = next((p.component for p in loaded.graph.iter_processes() if p.id == node), None)
    if component is None:
        raise KeyError(node)
    if component in loaded.components:
        return actor_spec(loaded.components[component])
    entry = default_registry().get(component)
    return entry.spec if entry is not None else None


def node_outports(loaded: Any, node: str) -> list[str]:
    """The outports of a loaded pipeline's node: those its component declares, then others it is connected by.

    Ports declared by a pattern appear only when connected. An ``error``
    outport appears only when connected: connecting it changes what a
    failure does (see :func:`tap_node`). Raises ``KeyError`` for an unknown node.
    """
    spec = node_component_spec(loaded, node)
    connected = [c.src_port for c in loaded.graph.iter_connections() if c.src_node == node]
    declared = [] if spec is None else [p.name for p in spec.outports if not p.is_pattern]
    ports = [p for p in declared if p != "error" or p in connected]
    ports += [p for p in dict.fromkeys(connected) if p not in ports]
    return ports


def tap_node(
    network: Network,
    node: str,
    ports: list[str],
    on_message: Callable[[str, str, Message], None] | None = None,
    *,
    keep: bool = True,
) -> dict[str, PortTap]:
    """Connect a :class:`PortTap` to each of ``node``'s outports in ``ports``: ``{port: tap}``.

    The node's other targets still get every packet (a tap is one more
    fan-out target). Tapping an ``error`` outport that nothing else reads
    connects it, so a failing tick's packet there is no longer a failure.
    """
    taps: dict[str, PortTap] = {}
    for port in ports:
        tap = PortTap(node, port, on_message, keep=keep)
        tap_id = f"{PORT_TAP_PREFIX}{node}.{port}"
        network.register_actor(tap_id, tap)
        network.add_node(tap_id, tap_id)
        network.add_connection(node, port, tap_id, "in")
        taps[port] = tap
    return taps


class RunControl:
    """Stops a :func:`run_to_end` run gracefully from inside it: ``control.stop("limit")``.

    Call :meth:`stop` on the run's trio thread (from a sync actor's tick,
    say); a stop asked for before the run starts takes effect when it does.
    """

    def __init__(self) -> None:
        self.reason: str | None = None
        self._request: Callable[[str], None] | None = None

    def stop(self, reason: str = "stopped") -> None:
        """Ask the run to stop gracefully; ``reason`` becomes :attr:`RunOutcome.reason`."""
        if self.reason is None:
            self.reason = reason
        if self._request is not None:
            self._request(reason)

    def _bind(self, request: Callable[[str], None] | None) -> None:
        self._request = request
        if request is not None and self.reason is not None:
            request(self.reason)


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
    grace: float | None = None,
    trace: Path | None = None,
    trace_payloads: bool = False,
    progress: Callable[[NetworkStatistics], None] | None = None,
    progress_interval: float = 0.25,
    handle_signals: bool = True,
    metrics: Any = None,
    control: RunControl | None = None,
    on_stop: Callable[[str], None] | None = None,
) -> RunOutcome:
    """Run ``network`` on trio in this thread until it ends (see the module doc).

    ``on_stop`` is called once, with the reason (``SIGINT``, ``duration`` ...),
    when a graceful stop begins (``reflow run`` says that work is draining).

    ``metrics`` is a :class:`reflow_cli.metrics.MetricsServer`: it is bound
    before the network starts (an address in use raises
    :class:`~reflow_cli.metrics.MetricsError`) and serves ``/metrics`` until
    the run ends. ``control`` lets code inside the run stop it gracefully;
    its reason becomes the outcome's ``reason``.

    The ``trace`` file is created before anything starts: one that cannot be
    written raises :class:`~reflow_cli.trace.TraceWriteError` then (and a write
    that fails later stops the run with it). A dead-letter file that cannot be
    written stops the run and raises
    :class:`~reflow_cli.engine._policies.DeadLetterError` naming it (a failed
    packet is never dropped). Either is raised as itself, not in an exception group.
    """
    try:
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
            metrics,
            control,
            on_stop,
        )
    except BaseExceptionGroup as group:
        # one clear error, not the nurseries' groups around it (KeyboardInterrupt: a second signal)
        error = _only(group, (DeadLetterError, TraceWriteError, KeyboardInterrupt))
        if error is None:
            raise
        raise error from error.__cause__


def _only(group: BaseExceptionGroup[Any], kinds: tuple[type[BaseException], ...]) -> BaseException | None:
    """The first error of a (nested) exception group made of nothing but ``kinds``; None otherwise."""
    match, rest = group.split(kinds)
    if match is None or rest is not None:
        return None
    leaf: BaseException = match
    while isinstance(leaf, BaseExceptionGroup):
        leaf = leaf.exceptions[0]
    return leaf if isinstance(leaf, kinds) else None


async def _run(
    network: Network,
    timeout: float | None,
    duration: float | None,
    grace: float | None,
    trace: Path | None,
    trace_payloads: bool,
    progress: Callable[[NetworkStatistics], None] | None,
    progress_interval: float,
    handle_signals: bool,
    metrics: Any = None,
    control: RunControl | None = None,
    on_stop: Callable[[str], None] | None = None,
) -> RunOutcome:
    started = time.perf_counter()
    stop = trio.Event()
    why: list[str] = []
    writer = (
        TraceWriter(network.events(lossless=True, payloads=trace_payloads), trace, payloads=trace_payloads, stats=network.stats)
        if trace is not None
        else None
    )

    def request_stop(reason: str) -> None:
        if not why:
            why.append(reason)
            if on_stop is not None:
                on_stop(reason)
        stop.set()

    if writer is not None:
        writer.open()  # before the network starts: a trace that cannot be written raises TraceWriteError here
    if metrics is not None:
        try:
            await metrics.bind()  # before the network starts; a bind error is raised as it is
        except BaseException:
            if writer is not None:
                writer.close()
            raise
    async with trio.open_nursery() as helpers:
        if metrics is not None:
            await helpers.start(metrics.serve, network.stats)
        if control is not None:
            control._bind(request_stop)
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

        try:
            grace_s = drain_seconds(grace, bounded=timeout is not None or duration is not None)
            status = await network.run_async(timeout=timeout, grace=grace_s, stop=stop)
        finally:
            if control is not None:
                control._bind(None)
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


#: How long a run with a ``timeout`` or ``duration`` drains when no grace is given.
BOUNDED_GRACE_S = 5.0


def drain_seconds(grace: float | None, bounded: bool) -> float:
    """How long accepted work may drain when a run is stopped.

    ``grace`` when given. Otherwise until it has drained (a second signal
    stops at once), so stopping with a signal loses nothing already accepted;
    but a ``bounded`` run (one with a timeout or a duration, meant to end in
    bounded time) drains at most :data:`BOUNDED_GRACE_S`.
    """
    if grace is not None:
        return grace
    return BOUNDED_GRACE_S if bounded else math.inf


async def _watch_signals(request_stop: Callable[[str], None], scope: trio.CancelScope) -> None:
    names = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}
    with trio.open_signal_receiver(*names) as received:
        count = 0
        async for signum in received:
            count += 1
            request_stop(names.get(signum, "SIGINT"))
            if count > 1:  # a second signal: stop now, without waiting for the grace period
                raise KeyboardInterrupt


#: Node settings only a distributed executor uses.
DISTRIBUTION_KEYS = ("placement", "replicas", "resources")


def dead_letter_nodes(graph: Any, on_error: str = "fail") -> list[str]:
    """The nodes whose error policy can end in ``dead_letter`` (``on_error`` is the run's default policy).

    Such a node appends to the run's dead-letter file unless its ``error``
    outport is connected; ``reflow run`` checks that file can be written first.
    """
    found = []
    for process in graph.iter_processes():
        settings = node_settings(process.metadata)
        retry = settings.get("retry")
        then = retry.get("then") if isinstance(retry, Mapping) else None
        if "dead_letter" in (settings.get("on_error") or on_error, then):
            found.append(process.id)
    return found


def distribution_settings(graph: Any) -> list[str]:
    """Nodes whose settings name placement, replicas or resources (``node: key`` strings)."""
    found = []
    for process in graph.iter_processes():
        settings = node_settings(process.metadata)
        found += [f"{process.id}: {key}" for key in DISTRIBUTION_KEYS if key in settings]
    return found
