"""``Network``: the SDK's way to build and run a graph of actors.

The API is the reference runtime's (``register_actor``, ``add_node``,
``add_connection``, ``add_initial``, ``start``, ``shutdown``, ``events``,
``Network.from_graph``) plus what it lacks: ``wait()`` with a completion
signal, ``run()``, ``run_async()``, ``stats()``, per-connection capacities and
errors that name what is wrong.

Subgraphs (``SubgraphBuilder(...).build()``) are not nested networks: a node
using one is inlined as a copy of the subgraph's nodes, ``<node>/<inner>``,
and what is wired to ``<node>.<port>`` goes through the port the subgraph
exports under that name (:mod:`reflow_cli.compose` does the merging).
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Mapping
from typing import Any

from ..actor import ComponentSpec, suggest, unknown_port_error
from ..compose import Inner, Pieces, Subgraph, inline_all
from ..errors import CapacityError, ConfigError, GraphError, NetworkStateError
from ..graph import Graph
from ..message import Message
from ..registry import ComponentEntry, ComponentRegistry, default_registry
from ._events import DEFAULT_EVENT_BUFFER, EventHub, EventStream, now_ms
from ._executor import Executor, Run, get_executor
from ._plan import RESERVED_METADATA_KEY, RunOptions
from ._policies import ErrorPolicy
from ._stats import NetworkStatistics
from ._status import RunState, RunStatus

__all__ = ["Network", "shutdown_all_networks"]

_RUNNING: weakref.WeakSet[Network] = weakref.WeakSet()
_RUNNING_LOCK = threading.Lock()


def shutdown_all_networks(grace: float = 0.5) -> None:
    """Shut down every network still running (installed as an ``atexit`` hook)."""
    with _RUNNING_LOCK:
        networks = list(_RUNNING)
    for network in networks:
        try:
            network.shutdown(grace)
        except Exception:  # pragma: no cover - best effort at interpreter exit
            pass


atexit.register(shutdown_all_networks)


def _empty_stats() -> NetworkStatistics:
    return NetworkStatistics(RunState.RUNNING, 0.0, {}, {}, {}, 0, 0)


class Network:
    """A graph of actors you build with method calls and run in the background.

    ``config`` (the reference's NetworkConfig) is accepted and ignored.
    ``on_error`` is the default error policy: ``"continue"`` (report the
    failure as an ``ActorFailed`` event and a warning, and go on; the
    reference's behaviour, minus the silence), ``"fail"`` (the run stops and
    ``wait()`` returns FAILED), ``"skip"``, ``"dead_letter"`` or ``"retry"``
    (see :meth:`add_node`). ``capacity`` is the default inport capacity.
    ``executor`` picks what runs the graph (``"trio"``). Dead letters go to
    ``dead_letter_path`` when a node has no connected ``error`` port.
    """

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        on_error: str = "continue",
        capacity: int = 64,
        executor: str | Executor = "trio",
        dead_letter_path: str = "dead-letters.jsonl",
    ) -> None:
        if config is not None and not isinstance(config, Mapping):
            raise ConfigError(f"Network(config) takes a dict or None, not {type(config).__name__} {config!r:.60}")
        self._options = RunOptions(on_error=on_error, default_capacity=capacity, dead_letter_path=dead_letter_path)
        self._executor = get_executor(executor)
        self._graph = Graph("network", True)
        self._registry = ComponentRegistry(parent=default_registry())
        self._specs: dict[str, ComponentSpec | None] = {}
        # subgraph nodes, inlined: node id -> (template id, the copy whose exported ports wire it)
        self._inlined: dict[str, tuple[str, Pieces]] = {}
        self._hub = EventHub()
        self._run: Run | None = None
        self._last_stats: NetworkStatistics | None = None
        self._lock = threading.RLock()

    # -- building ---------------------------------------------------------------

    @property
    def graph(self) -> Graph:
        """The graph this network runs (exportable with ``graph.to_json()``)."""
        return self._graph

    def register_actor(self, template_id: str, actor: Any) -> None:
        """Make ``actor`` available to this network's nodes as ``template_id``.

        ``actor`` is an :class:`~reflow_cli.Actor` instance (shared by every
        node using it), an ``Actor`` subclass or a ``factory(config)`` (one
        instance per node, built with the node's config), or a subgraph.
        The id shadows a catalog id of the same name for this network only.
        """
        self._registry.register(template_id, actor, source="this network")

    def add_node(
        self,
        id: str,  # noqa: A002 - the reference's parameter name
        template_id: str,
        config: Mapping[str, Any] | None = None,
        *,
        on_error: str | None = None,
        retry: Mapping[str, Any] | None = None,
    ) -> None:
        """Add node ``id`` running component ``template_id`` with ``config``.

        ``on_error`` overrides the network's error policy for this node
        (``fail``, ``skip``/``continue``, ``dead_letter``, ``retry``); ``retry``
        is ``{count, backoff, then}`` (3 attempts, 0.1 s doubling, then ``fail``).
        """
        if not isinstance(id, str) or not id:
            raise GraphError(f"a node id must be a non-empty string, not {id!r}")
        entry = self._registry.lookup(template_id)
        if config is not None and not isinstance(config, Mapping):
            raise ConfigError(f"node {id!r}: config must be a dict or None, not {type(config).__name__}")
        if id in self._specs or id in self._inlined:
            raise GraphError(f"node {id!r} already exists; node ids must be unique")
        metadata = None if config is None else dict(config)
        if on_error is not None or retry is not None:
            ErrorPolicy.parse(id, on_error or self._options.on_error, retry)  # check now, not at start()
            settings = {k: v for k, v in (("on_error", on_error), ("retry", retry)) if v is not None}
            metadata = {**(metadata or {}), RESERVED_METADATA_KEY: settings}
        if isinstance(entry.factory, Subgraph):
            self._add_subgraph(id, template_id, entry.factory, metadata)
            return
        self._graph.add_node(id, template_id, metadata)
        self._specs[id] = entry.spec

    # -- subgraphs ---------------------------------------------------------------

    def _inner_component(self, template_id: str, component: str, entry: ComponentEntry) -> str:
        """The id an inlined node runs ``component`` of subgraph ``template_id`` under.

        A component this network resolves to the very same thing (a catalog
        template, say) keeps its id; the subgraph's own ones are registered as
        ``<template_id>/<component>``, so they never shadow the network's.
        """
        current = self._registry.get(component)
        if current is not None and current.factory is entry.factory:
            return component
        qualified = f"{template_id}/{component}"
        known = self._registry.get(qualified)
        if known is None or known.factory is not entry.factory:
            self._registry.register(qualified, entry, source=f"subgraph {template_id!r}", replace=known is not None)
        return qualified

    def _add_subgraph(self, node_id: str, template_id: str, subgraph: Subgraph, metadata: dict[str, Any] | None) -> None:
        """Inline a copy of ``subgraph`` as ``node_id/<inner>`` (its config maps inner node ids to configs)."""
        pieces = subgraph.instantiate(
            node_id, metadata, template_id, lambda c: self._inner_component(template_id, c, subgraph.entries[c])
        )
        taken = [process_id for process_id in pieces.processes if process_id in self._specs]
        if taken:
            raise GraphError(f"subgraph node {node_id!r} would add node {taken[0]!r}, which already exists")
        graph = self._graph
        for process_id, process in pieces.processes.items():
            graph.add_node(process_id, process["component"], process["metadata"])
            self._specs[process_id] = self._registry.lookup(process["component"]).spec
        for entry in pieces.connections:
            source, target = entry["from"], entry["to"]
            graph.add_connection(source["nodeId"], source["portId"], target["nodeId"], target["portId"], entry["metadata"])
        for entry in pieces.initials:
            graph.add_initial(entry["to"]["nodeId"], entry["to"]["portId"], entry["data"], entry["metadata"])
        for group in pieces.groups:
            graph.add_group(group["id"], group["nodes"], group["metadata"])
        self._inlined[node_id] = (template_id, pieces)

    def _through(self, node_id: str, port: str, direction: str) -> tuple[str, str]:
        """``(node, port)`` to wire: for a subgraph node, the inner port it exports as ``port``."""
        inlined = self._inlined.get(node_id)
        if inlined is None:
            return node_id, port
        template_id, pieces = inlined
        found = pieces.port(direction, port)
        if found is None:
            exported = pieces.inports if direction == "inport" else pieces.outports
            raise unknown_port_error(node_id, template_id, port, exported, direction)
        return found

    def _expand_subgraphs(self) -> None:
        """Inline the subgraph nodes a graph brought in (``from_graph``) before it is compiled."""
        found = []
        for process in self._graph.iter_processes():
            entry = self._registry.get(process.component)
            if entry is not None and isinstance(entry.factory, Subgraph):
                found.append((process.id, process.component, entry.factory))
        if not found:
            return
        order = [process.id for process in self._graph.iter_processes()]
        export = self._graph.to_json()
        export["processes"] = {node_id: export["processes"][node_id] for node_id in order}
        inners: dict[str, Inner] = {}
        for node_id, template_id, subgraph in found:

            def component_id(component: str, t: str = template_id, s: Subgraph = subgraph) -> str:
                return self._inner_component(t, component, s.entries[component])

            inners[node_id] = Inner(subgraph.export, subgraph.order, component_id, f"node {node_id!r} ({template_id})")
        export = inline_all(export, inners)
        for node_id, template_id, subgraph in found:
            self._inlined[node_id] = (template_id, subgraph.instantiate(node_id, None, template_id))
            self._specs.pop(node_id, None)
        self._graph = Graph.from_json(export)
        for process in self._graph.iter_processes():
            self._specs.setdefault(process.id, None)

    def _node_spec(self, node_id: str, role: str) -> ComponentSpec | None:
        if node_id not in self._specs:
            hint = suggest(node_id, self._specs)
            raise GraphError(
                f"{role} names node {node_id!r}, which does not exist"
                + (f" (did you mean {hint!r}?)" if hint else "; add it with add_node() first")
            )
        return self._specs[node_id]

    def _check_port(self, node_id: str, port: str, direction: str) -> None:
        spec = self._node_spec(node_id, f"this {direction}")
        if spec is None:
            return  # a factory component: its ports are checked at start()
        known = spec.has_outport(port) if direction == "outport" else spec.has_inport(port)
        if not known:
            declared = spec.outports if direction == "outport" else spec.inports
            raise unknown_port_error(node_id, self._graph_component(node_id), port, (p.name for p in declared), direction)

    def _graph_component(self, node_id: str) -> str:
        node = self._graph.get_node(node_id)
        if isinstance(node, Mapping):
            return str(node.get("component", "?"))
        return str(getattr(node, "component", "?"))

    def add_connection(
        self, from_actor: str, from_port: str, to_actor: str, to_port: str, capacity: int | None = None
    ) -> None:
        """Connect ``from_actor.from_port`` to ``to_actor.to_port``.

        ``capacity`` bounds the target inport's queue (default 64); two
        connections into one inport must not ask for different capacities.
        """
        from_actor, from_port = self._through(from_actor, from_port, "outport")
        to_actor, to_port = self._through(to_actor, to_port, "inport")
        self._node_spec(from_actor, "this connection")
        self._node_spec(to_actor, "this connection")
        self._check_port(from_actor, from_port, "outport")
        self._check_port(to_actor, to_port, "inport")
        metadata = None
        if capacity is not None:
            if type(capacity) is not int or capacity < 1:
                raise CapacityError(f"capacity must be a positive integer, not {capacity!r}")
            metadata = {"reflow": {"capacity": capacity}}
        self._graph.add_connection(from_actor, from_port, to_actor, to_port, metadata)

    def add_initial(self, actor: str, port: str, message: Any) -> None:
        """Queue an initial packet (a :class:`Message` or a tagged dict) for ``actor.port``.

        IIPs are delivered in call order when the network starts; added while
        it runs, they are delivered at once.
        """
        msg = Message.from_json(message)
        actor, port = self._through(actor, port, "inport")
        self._check_port(actor, port, "inport")
        with self._lock:
            self._graph.add_initial(actor, port, msg)
            run = self._run
            if run is not None and self.is_running:
                run.inject(actor, port, msg)

    # -- running ----------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        """True between ``start()`` and ``shutdown()``."""
        return self in _RUNNING

    def _compile(self) -> Run:
        self._expand_subgraphs()
        return self._executor.compile(self._graph, self._registry, self._options, self._hub)

    def start(self) -> None:
        """Start running in a background thread and return at once.

        Raises :class:`~reflow_cli.errors.NetworkStateError` if already
        running, and reports every unresolved component in one error.
        """
        with self._lock:
            if self.is_running:
                raise NetworkStateError("the network is already running; call shutdown() before starting it again")
            run = self._compile()
            self._run = run
            run.start()
            with _RUNNING_LOCK:
                _RUNNING.add(self)

    def wait(self, timeout: float | None = None) -> RunStatus:
        """Block until the run is COMPLETE, STALLED, FAILED or CANCELLED, or ``timeout`` passes (TIMEOUT).

        The result is truthy only when COMPLETE. The network keeps running
        (more IIPs may follow); call :meth:`shutdown` to stop it.
        """
        run = self._run
        if run is None:
            raise NetworkStateError("the network has not been started; call start() or run() first")
        return run.wait(timeout)

    def shutdown(self, grace: float = 2.0) -> NetworkStatistics:
        """Stop IIP feeds, let in-flight work finish for up to ``grace`` s, cancel, return stats.

        Calling it again, or on a network never started, is harmless.
        """
        with self._lock:
            run = self._run
            if run is None or not self.is_running:
                if run is None:  # never started: still tell subscribers, and let their reads end
                    if self._hub.active:
                        self._hub.publish({"_type": "NetworkShutdown", "timestamp": now_ms()})
                    self._hub.detach()
                return self._last_stats or _empty_stats()
            try:
                self._last_stats = run.shutdown(grace)
            finally:
                with _RUNNING_LOCK:
                    _RUNNING.discard(self)
            return self._last_stats

    def run(self, timeout: float | None = None, grace: float = 2.0) -> RunStatus:
        """``start()``, ``wait(timeout)``, ``shutdown(grace)``; returns the status."""
        self.start()
        try:
            return self.wait(timeout)
        finally:
            self.shutdown(grace)

    async def run_async(
        self, timeout: float | None = None, grace: float = 2.0, stop: Any = None
    ) -> RunStatus:
        """Run on the caller's trio loop until settled, ``timeout``, or ``stop`` (a ``trio.Event``) is set.

        Then shut down: at once when the run settled, gracefully otherwise
        (sources stop, accepted work drains for up to ``grace`` seconds).
        """
        with self._lock:
            if self.is_running:
                raise NetworkStateError("the network is already running")
            run = self._compile()
            self._run = run
        status = await run.run_here(timeout, grace, stop)
        self._last_stats = run.stats()
        return status

    # -- observing ----------------------------------------------------------------

    def events(
        self, lossless: bool = False, buffer: int = DEFAULT_EVENT_BUFFER, payloads: bool = True
    ) -> EventStream:
        """A new stream of every event from now on. Subscribe before ``start()`` to see them all.

        ``buffer`` events are kept; beyond that the oldest are dropped (an
        ``EventsDropped`` event says how many) unless ``lossless``, which
        slows the network down to the reader's pace instead. With
        ``payloads=False`` (traces without payloads) packet events may come
        without their ``message`` field, which is cheaper.
        """
        return self._hub.subscribe(lossless=lossless, buffer=buffer, payloads=payloads)

    def stats(self) -> NetworkStatistics:
        """Per node, inport and edge statistics of the current (or last) run."""
        run = self._run
        if run is None:
            return _empty_stats()
        if not self.is_running and self._last_stats is not None:
            return self._last_stats
        return run.stats()

    @staticmethod
    def from_graph(graph: Graph, **options: Any) -> Network:
        """A network running ``graph``; each process's ``metadata`` is its config.

        Components resolve at ``start()`` from ``register_actor`` calls made
        before it, then from the catalog and loaded packs.
        """
        network = Network(**options)
        network._graph = Graph.from_json(graph.to_json())
        for process in network._graph.iter_processes():
            network._specs[process.id] = None
        return network

    def __repr__(self) -> str:
        state = "running" if self.is_running else "idle"
        return f"<Network {len(self._specs)} nodes, {state}>"
