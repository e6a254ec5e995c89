"""What runs inside the Ray actors of the Ray executor.

A :class:`PartitionHost` runs one partition of the network as an ordinary
local trio run. Packets for another partition leave through a
:class:`RemoteLink` node (a batch actor): it ships them in batches to the
receiving host's ``accept``, keeping at most ``window`` batches in flight, so
a full inport over there holds the sender back (backpressure across
processes). ``accept`` delivers batches of one edge in order (they carry a
sequence number) and only returns once the packets are queued. It counts
every packet it queues (``accepted``), so what a link sent minus what the
other side accepted is what is still in flight between the two actors: a
stopped run reports those packets as undelivered.

A replicated node runs as a :class:`ReplicaPool` node (a batch actor) that
splits each batch among :class:`ReplicaWorker` hosts, each running the real
node, and emits their outputs in batch order.
"""

from __future__ import annotations

import os
import sys
import threading
import zlib
from collections import deque
from collections.abc import Iterable
from typing import Any

import trio

from ..actor import Actor
from ..errors import NetworkError
from ..graph import Graph
from ..message import Message
from ..registry import ComponentRegistry, default_registry
from ._events import EventHub
from ._plan import RunOptions, plan_network
from ._ray_partition import OUTPUTS_PREFIX
from ._run import TrioRun

__all__ = ["PartitionHost", "RemoteLink", "ReplicaPool", "ReplicaWorker", "add_shipped_folders"]

#: Events a host hands over per poll at most.
_EVENTS_PER_POLL = 20_000


def _ray() -> Any:
    import ray  # only inside Ray workers and the Ray driver

    return ray


async def _wait_first(refs: list[Any]) -> list[Any]:
    """Block (in a worker thread) until at least one of ``refs`` is ready; return the ready ones.

    A stopping run does not wait for the other side: the batches still in
    flight stay counted as sent and not accepted (undelivered).
    """
    ray = _ray()
    ready, _ = await trio.to_thread.run_sync(lambda: ray.wait(refs, num_returns=1), abandon_on_cancel=True)
    return list(ready)


async def _queue_each(
    run: TrioRun, accepted: dict[str, int], edge_key: str, node_id: str, port: str, packets: list[Message]
) -> None:
    """Queue ``packets`` into ``node_id.port`` (in the run's trio thread), counting what goes in in ``accepted``.

    A function, not a method: an ``async def`` would make Ray run the host as an asyncio actor.
    """

    def queued(count: int) -> None:
        accepted[edge_key] = accepted.get(edge_key, 0) + count

    await run.accept(node_id, port, packets, on_queued=queued)


def add_shipped_folders(names: Iterable[str], path: list[str] | None = None) -> list[str]:
    """Put the folders the driver shipped (``py_modules`` named ``names``) on ``path`` (``sys.path``).

    Ray unpacks each shipped folder inside a directory of its own that is on
    the path; the folder itself must be, as it was on the driver. Returns
    the entries added.
    """
    path = sys.path if path is None else path
    added = []
    for name in names:
        for entry in list(path):
            candidate = os.path.join(entry or ".", name)
            if os.path.isdir(candidate) and candidate not in path:
                path.append(candidate)
                added.append(candidate)
    return added


class RemoteLink(Actor):
    """Ships the packets of one remote edge to the host that owns its target, in batches."""

    component = "reflow_remote_link"
    inports = ["in"]
    outports: list[str] = []

    def __init__(self, edge_key: str, target: Any, batch_size: int, window: int) -> None:
        self.edge_key = edge_key
        self.target = target
        self.batch_size = batch_size
        self.window = window
        self.seq = 0
        self.sent = 0
        self.in_flight: deque[Any] = deque()

    async def run_batch(self, ctx: Any, packets: list[Message]) -> None:
        """Dispatch one batch, once fewer than ``window`` batches are still being accepted.

        The wait comes first: a run stopped meanwhile keeps the batch as
        undelivered input, while a dispatched batch counts as sent (and, until
        accepted over there, as in flight).
        """
        ray = _ray()
        if any(packet.kind == "StreamHandle" for packet in packets):
            raise NetworkError(
                f"a stream cannot cross from one Ray actor to another ({self.edge_key}); "
                "put both nodes in one placement group (the same `placement` name on each)"
            )
        while len(self.in_flight) >= self.window:
            for ref in await _wait_first(list(self.in_flight)):
                self.in_flight.remove(ref)
                ray.get(ref)  # re-raises a failure of the receiving host
        self.in_flight.append(self.target.accept.remote(self.edge_key, self.seq, packets))
        self.seq += 1
        self.sent += len(packets)


class ReplicaPool(Actor):
    """Stands for a replicated node: splits each batch among the replicas and emits their outputs in order."""

    component = "reflow_replica_pool"

    def __init__(
        self, inport: str, outports: list[str], workers: list[Any], key: str | None, batch_size: int
    ) -> None:
        self.inports = [inport]
        self.outports = outports
        self.workers = workers
        self.key = key
        self.batch_size = batch_size
        self.turn = 0

    def _chunks(self, packets: list[Message]) -> list[tuple[Any, list[Message]]]:
        count = len(self.workers)
        if self.key is not None:  # same key, same replica: per-key order holds
            groups: list[list[Message]] = [[] for _ in range(count)]
            for packet in packets:
                data = packet.get("data")
                value = data.get(self.key) if isinstance(data, dict) else data
                groups[zlib.crc32(repr(value).encode()) % count].append(packet)
            return [(self.workers[i], group) for i, group in enumerate(groups) if group]
        size = -(-len(packets) // count)  # contiguous chunks keep the batch's order when joined
        chunks = []
        for start in range(0, len(packets), size):
            chunks.append((self.workers[self.turn % count], packets[start : start + size]))
            self.turn += 1
        return chunks

    async def run_batch(self, ctx: Any, packets: list[Message]) -> None:
        """Process the batch on the replicas in parallel, then emit every output, chunk by chunk."""
        ray = _ray()
        refs = [worker.process.remote(chunk) for worker, chunk in self._chunks(packets)]
        results = await trio.to_thread.run_sync(ray.get, refs)
        for outputs in results:
            for port, message in outputs:
                await ctx.send_async({port: message})


class _Collector(Actor):
    """Inside a replica worker: keeps what the replicated node emits, with its port."""

    component = "reflow_replica_outputs"
    outports: list[str] = []

    def __init__(self, port: str, sink: list[tuple[str, Message]], lock: threading.Lock) -> None:
        self.inports = [port]
        self.port = port
        self.sink = sink
        self.lock = lock

    def run(self, ctx: Any) -> None:
        with self.lock:
            self.sink.append((self.port, ctx.inputs[self.port]))


class _Captured:
    """A stand-in for sys.stdout/sys.stderr in a host: the driver prints what was written."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._parts.append(text)
        return len(text)

    def flush(self) -> None:
        """Nothing to flush: the driver takes the text at its next poll."""

    def isatty(self) -> bool:
        return False

    def take(self) -> str:
        with self._lock:
            text, self._parts = "".join(self._parts), []
        return text


class PartitionHost:
    """One partition of a network as a local trio run (the body of a Ray actor).

    The blueprint is plain data: the partition's Graph JSON export, the
    components it needs (``{template id: factory}``), run options, its remote
    edges and the link settings.
    """

    def __init__(self, blueprint: dict[str, Any]) -> None:
        self.blueprint = blueprint
        self.name: str = blueprint["name"]
        self.handles: dict[str, Any] = {}
        self.links: list[RemoteLink] = []
        self.accepted: dict[str, int] = {}
        self._next_seq: dict[str, int] = {}
        self._order = threading.Condition()
        self.run: TrioRun | None = None
        self.events: Any = None
        self._ready = threading.Event()  # set once the local run is started: batches wait for it

    # -- set-up ----------------------------------------------------------------------------

    def connect(self, handles: dict[str, Any]) -> None:
        """Learn the other partitions' actor handles (before ``start``)."""
        self.handles = handles

    def _registry(self) -> ComponentRegistry:
        """The partition's components, unpickled once the folders shipped with them are importable."""
        from ray import cloudpickle

        add_shipped_folders(self.blueprint.get("shipped", ()))
        registry = ComponentRegistry(parent=default_registry())
        for template_id, factory in cloudpickle.loads(self.blueprint["components"]).items():
            registry.register(template_id, factory, source=f"partition {self.name}")
        return registry

    def _graph(self, registry: ComponentRegistry) -> Graph:
        graph = Graph.from_json(self.blueprint["export"])
        settings = self.blueprint["link"]
        for link in self.blueprint["outgoing"]:
            actor = RemoteLink(link["key"], self.handles[link["target"]], settings["batch_size"], settings["window"])
            self.links.append(actor)
            registry.register(link["node"], actor, source="remote edge")
            graph.add_node(link["node"], link["node"])
            metadata = {"reflow": {"capacity": link["capacity"]}} if link["capacity"] else None
            graph.add_connection(link["src"], link["src_port"], link["node"], "in", metadata)
        return graph

    def start(self, events: bool = False) -> None:
        """Build and start the local run (in a thread of this process)."""
        workdir = self.blueprint.get("workdir")
        if workdir and os.path.isdir(workdir):  # relative paths in configs mean what they meant to the driver
            os.chdir(workdir)
        registry = self._registry()
        graph = self._graph(registry)
        self._add_pools(registry)
        plan = plan_network(graph, registry, RunOptions(**self.blueprint["options"]))
        plan.external_inports = [(edge["tgt"], edge["tgt_port"]) for edge in self.blueprint["incoming"]]
        for edge in self.blueprint["incoming"]:  # the connection's capacity holds on this side too
            if edge.get("capacity"):
                plan.capacities[(edge["tgt"], edge["tgt_port"])] = edge["capacity"]
        hub = EventHub()
        if events:
            self.events = hub.subscribe(buffer=1_000_000)
        # what nodes print goes to the driver's terminal, not to Ray's worker logs
        self.stdout, self.stderr = _Captured(), _Captured()
        sys.stdout, sys.stderr = self.stdout, self.stderr  # type: ignore[assignment]
        self.run = TrioRun(plan, hub)
        self.run.start()
        self._ready.set()

    def _add_pools(self, registry: ComponentRegistry) -> None:
        for pool in self.blueprint.get("pools", {}).values():
            workers = [self.handles[name] for name in pool["workers"]]
            actor = ReplicaPool(pool["inport"], pool["outports"], workers, pool["key"], pool["batch_size"])
            registry.register(pool["template"], actor, source="replicas", replace=True)

    # -- remote edges ------------------------------------------------------------------------

    def accept(self, edge_key: str, seq: int, packets: list[Message]) -> None:
        """Queue a batch of a remote edge, in sequence order, waiting for room.

        Returns once every packet is queued, or once this run stops: the
        packets it could not queue then stay unaccepted (the driver counts
        them as undelivered), and the sender is not failed for it.
        """
        self._ready.wait()  # hosts start in parallel: a fast sender may call before this one is up
        assert self.run is not None
        edge = self.blueprint["incoming_by_key"][edge_key]
        with self._order:
            self._order.wait_for(lambda: self._next_seq.get(edge_key, 0) == seq)
        try:
            self._queue(edge_key, edge["tgt"], edge["tgt_port"], packets)
        finally:
            with self._order:
                self._next_seq[edge_key] = seq + 1
                self._order.notify_all()

    def _queue(self, edge_key: str, node_id: str, port: str, packets: list[Message]) -> None:
        """Hand ``packets`` to the local run's trio thread; nothing when the run has stopped."""
        assert self.run is not None
        token = self.run.sched.token
        if token is None:
            return
        self.run.sched.resume_threadsafe()  # wait() must not report the state from before these packets
        try:
            trio.from_thread.run(
                _queue_each, self.run, self.accepted, edge_key, node_id, port, packets, trio_token=token
            )
        except (trio.Cancelled, trio.RunFinishedError):  # the run stopped meanwhile
            pass

    def inject(self, node_id: str, port: str, message: Message) -> None:
        """An initial packet added while running."""
        self._ready.wait()
        assert self.run is not None
        self.run.inject(node_id, port, message)

    # -- observing ---------------------------------------------------------------------------

    def poll(self) -> dict[str, Any]:
        """Status, remote-edge counters, new events and statistics, for the driver."""
        assert self.run is not None
        status = self.run.sched.status
        events = []
        if self.events is not None:
            for _ in range(_EVENTS_PER_POLL):
                event = self.events.recv(0)
                if event is None:
                    break
                events.append(event)
        return {
            "name": self.name,
            "stdout": self.stdout.take(),
            "stderr": self.stderr.take(),
            "status": None if status is None else status.to_dict(),
            "sent": {link.edge_key: link.sent for link in self.links},
            "accepted": dict(self.accepted),
            "events": events,
            "stats": self.run.stats().to_dict(),
        }

    def shutdown(self, grace: float) -> dict[str, Any]:
        """Stop the local run: its final statistics and the state of actors that hand theirs back.

        An actor with ``remote_state()`` (reflow's outport taps, say) returns
        what it gathered here, so the driver's copy can merge it.
        """
        if self.run is None:
            return {"stats": {}, "states": {}}
        stats = self.run.shutdown(grace).to_dict()
        states = {
            node_id: node.actor.remote_state()
            for node_id, node in self.run.nodes.items()
            if callable(getattr(node.actor, "remote_state", None))
        }
        return {"stats": stats, "states": states}


class ReplicaWorker(PartitionHost):
    """Runs one copy of a replicated node; ``process`` runs a chunk and returns its outputs in order."""

    def __init__(self, blueprint: dict[str, Any]) -> None:
        super().__init__(blueprint)
        self.outputs: list[tuple[str, Message]] = []
        self.lock = threading.Lock()
        self.calls = threading.Lock()

    def _graph(self, registry: ComponentRegistry) -> Graph:
        graph = super()._graph(registry)
        node_id = self.blueprint["node"]
        for port in self.blueprint["outports"]:
            collector_id = f"{OUTPUTS_PREFIX}{port}"
            registry.register(collector_id, _Collector(port, self.outputs, self.lock), source="replica outputs")
            graph.add_node(collector_id, collector_id)
            graph.add_connection(node_id, port, collector_id, port)
        return graph

    def process(self, packets: list[Message]) -> list[tuple[str, Message]]:
        """Run the node on ``packets`` and return what it emitted, in order, once it is idle again."""
        assert self.run is not None
        node_id, port = self.blueprint["node"], self.blueprint["inport"]
        with self.calls:  # one chunk at a time: its outputs are the ones collected meanwhile
            self.run.accept_threadsafe(node_id, port, packets)
            status = self.run.wait(None)
            with self.lock:
                outputs, self.outputs[:] = list(self.outputs), []
            if status.failure is not None and status.state.name == "FAILED":
                raise RuntimeError(f"replica of {node_id!r} failed: {status.failure.error}")
            return outputs
