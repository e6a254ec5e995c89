"""The Ray executor: the same graphs, run as Ray actors (``Network(executor="ray")``, ``reflow run --executor ray``).

The driver plans the graph exactly as the local executor does (every
component resolved, every port checked), cuts it into partitions
(``_ray_partition``), starts one Ray actor per partition (``_ray_host``) and
then watches them: every few milliseconds it polls each host for its status,
its remote-edge counters, its new events (republished on the driver's event
stream, so traces and the live view work unchanged) and its statistics.

The run is COMPLETE when every host is settled and every packet sent over a
remote edge has been accepted on the other side, twice in a row; FAILED as soon
as a host failed under the ``fail`` policy (or a host died); STALLED when
every host is settled, some stalled, and nothing is in flight.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import asdict
from typing import Any

import trio

from ..errors import NetworkError
from ..graph import Graph
from ..message import Message
from ..registry import ComponentRegistry
from ._events import EventHub, now_ms
from ._plan import RESERVED_METADATA_KEY, NetworkPlan, RunOptions, plan_network
from ._ray_partition import LINK_PREFIX, Layout, layout_plan
from ._stats import EdgeStatistics, InportStatistics, NetworkStatistics, NodeStatistics
from ._status import FailureRecord, RunState, RunStatus

__all__ = ["RayExecutor", "RayRun"]

log = logging.getLogger("reflow.engine.ray")

#: Seconds between two polls of the hosts.
POLL_INTERVAL = 0.02


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:  # pragma: no cover - depends on the environment
        raise NetworkError(
            "the Ray executor needs Ray: pip install 'reflow-cli[ray]' (or pip install ray)"
        ) from None
    return ray


def _ship_by_value(factory: Any) -> None:
    """Make Ray ship the classes of modules workers cannot import (scripts, spec folders) by value."""
    from ray import cloudpickle

    cls = factory if isinstance(factory, type) else type(factory)
    module = sys.modules.get(cls.__module__)
    if module is None or module.__name__.startswith("reflow_cli") or module.__name__ == "builtins":
        return
    path = getattr(module, "__file__", None) or ""
    if module.__name__ == "__main__" or not any(path.startswith(p) for p in sys.path if "site-packages" in p):
        try:
            cloudpickle.register_pickle_by_value(module)
        except (ValueError, TypeError):  # __main__ and friends are pickled by value anyway
            pass


class RayExecutor:
    """Runs each node (or each ``placement`` group) as a Ray actor; replicated stages as a pool of actors.

    ``address`` names an existing Ray cluster (``"auto"``, ``"ray://host:10001"``);
    without one a local Ray instance is started. ``batch_size`` packets at most
    travel per remote call, with at most ``window`` calls in flight per edge.
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        batch_size: int = 256,
        window: int = 4,
        init_options: dict[str, Any] | None = None,
    ) -> None:
        self.address = address
        self.batch_size = batch_size
        self.window = window
        self.init_options = dict(init_options or {})

    def connect(self) -> Any:
        """Start (or join) Ray now; call it from the main thread before any trio loop owns the signals."""
        ray = _import_ray()
        if not ray.is_initialized():
            options = {
                "include_dashboard": False,
                "configure_logging": False,
                "log_to_driver": False,  # hosts hand their output over in polls: printed here unprefixed
                "ignore_reinit_error": True,
                **self.init_options,
            }
            if self.address:
                options["address"] = self.address
            else:
                options.setdefault("num_cpus", os.cpu_count() or 1)
                # ship the driver's import path: specs' folders and loaded packs import on workers too
                paths = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
                options.setdefault("runtime_env", {"env_vars": {"PYTHONPATH": paths}})
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a private local instance
            ray.init(**options)
        return ray

    def compile(self, graph: Graph, registry: ComponentRegistry, options: RunOptions, hub: EventHub) -> RayRun:
        """Plan ``graph`` (all checks happen here, in the driver) and lay it out on partitions."""
        plan = plan_network(graph, registry, options)
        metadata = {process.id: process.metadata for process in graph.iter_processes()}
        layout = layout_plan(plan, metadata)
        return RayRun(self, graph, plan, layout, options, hub)


def _forward_output(poll: dict[str, Any]) -> None:
    """Print what a host's nodes printed (``tpl_log`` and friends), as if they ran here."""
    if poll.get("stdout"):
        sys.stdout.write(poll["stdout"])
        sys.stdout.flush()
    if poll.get("stderr"):
        sys.stderr.write(poll["stderr"])
        sys.stderr.flush()


def _partition_export(graph: Graph, nodes: set[str]) -> dict[str, Any]:
    """The part of ``graph`` a partition runs: its nodes, the connections between them, their IIPs."""
    part = Graph(graph.name, graph.case_sensitive)
    for process in graph.iter_processes():
        if process.id in nodes:
            part.add_node(process.id, process.component, process.metadata)
    for conn in graph.iter_connections():
        if conn.src_node in nodes and conn.tgt_node in nodes:
            part.add_connection(conn.src_node, conn.src_port, conn.tgt_node, conn.tgt_port, conn.metadata)
    for initial in graph.iter_initials():
        if initial.node in nodes:
            part.add_initial(initial.node, initial.port, initial.message, initial.metadata)
    return part.to_json()


class RayRun:
    """A network running on Ray actors, watched from the driver (implements the ``Run`` protocol)."""

    def __init__(
        self, executor: RayExecutor, graph: Graph, plan: NetworkPlan, layout: Layout, options: RunOptions, hub: EventHub
    ) -> None:
        self.executor = executor
        self.graph = graph
        self.plan = plan
        self.layout = layout
        self.options = options
        self.hub = hub
        self.hosts: dict[str, Any] = {}
        self.host_of_node: dict[str, str] = dict(layout.partition_of)
        self._link_targets = {edge.link_node: edge for edge in layout.remote_edges}
        self._status: RunStatus | None = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_polls: dict[str, dict[str, Any]] = {}
        self._previous_counters: Any = None
        self._started_at = time.perf_counter()
        self._final_stats: NetworkStatistics | None = None

    # -- blueprints ----------------------------------------------------------------------------

    def _components(self, node_ids: set[str]) -> dict[str, Any]:
        components = {}
        for node_id in node_ids:
            planned = self.plan.nodes[node_id]
            _ship_by_value(planned.entry.factory)
            components[planned.template_id] = planned.entry.factory
        return components

    def _blueprints(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """``{actor name: (kind, blueprint)}`` for every partition host and replica worker."""
        layout = self.layout
        options = asdict(self.options)
        options["node_policies"] = dict(options["node_policies"])
        link = {"batch_size": self.executor.batch_size, "window": self.executor.window}
        blueprints: dict[str, tuple[str, dict[str, Any]]] = {}
        for name, partition in layout.partitions.items():
            nodes = set(partition.nodes)
            pools: dict[str, Any] = {}
            components = self._components(nodes - set(layout.replicas))
            export = _partition_export(self.graph, nodes)
            for node_id in nodes & set(layout.replicas):
                replica = layout.replicas[node_id]
                spec = self.plan.nodes[node_id].spec
                connected = sorted({e.src_port for e in self.plan.edges if e.src == node_id})
                workers = [f"{name}#replica{i}" for i in range(replica.count)]
                template = f"__pool__{node_id}"
                export["processes"][node_id]["component"] = template
                metadata = export["processes"][node_id].get("metadata") or {}
                export["processes"][node_id]["metadata"] = {RESERVED_METADATA_KEY: metadata.get(RESERVED_METADATA_KEY, {})}
                pools[node_id] = {
                    "inport": spec.inports[0].name,
                    "outports": [p.name for p in spec.outports],
                    "workers": workers,
                    "key": replica.key,
                    "batch_size": self.executor.batch_size,
                    "template": template,
                }
                for index, worker in enumerate(workers):
                    copy = f"{node_id}#{index + 1}"
                    single = Graph(self.graph.name, self.graph.case_sensitive)
                    single.add_node(copy, self.plan.nodes[node_id].template_id, metadata or None)
                    worker_export = single.to_json()
                    blueprints[worker] = (
                        "worker",
                        {
                            "name": worker,
                            "export": worker_export,
                            "components": self._components({node_id}),
                            "options": options,
                            "outgoing": [],
                            "incoming": [{"tgt": copy, "tgt_port": spec.inports[0].name}],
                            "incoming_by_key": {},
                            "link": link,
                            "node": copy,
                            "inport": spec.inports[0].name,
                            "outports": connected,
                            "resources": self._resources_of(partition.resources),
                        },
                    )
            blueprints[name] = (
                "host",
                {
                    "name": name,
                    "export": export,
                    "components": components,
                    "options": options,
                    "outgoing": [
                        {
                            "key": e.key, "node": e.link_node, "target": e.tgt_partition,
                            "src": e.src, "src_port": e.src_port, "capacity": e.capacity,
                        }
                        for e in partition.outgoing
                    ],
                    "incoming": [{"tgt": e.tgt, "tgt_port": e.tgt_port} for e in partition.incoming],
                    "incoming_by_key": {e.key: {"tgt": e.tgt, "tgt_port": e.tgt_port} for e in partition.incoming},
                    "link": link,
                    "pools": pools,
                    "resources": {} if pools else self._resources_of(partition.resources),
                },
            )
        return blueprints

    @staticmethod
    def _resources_of(resources: dict[str, float]) -> dict[str, Any]:
        options: dict[str, Any] = {"num_cpus": resources.get("num_cpus", 0)}
        if resources.get("num_gpus"):
            options["num_gpus"] = resources["num_gpus"]
        if resources.get("memory"):
            options["memory"] = int(resources["memory"])
        return options

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the Ray actors and the watching thread; return once every partition runs."""
        from ._ray_host import PartitionHost, ReplicaWorker

        ray = self.executor.connect()
        host_cls = ray.remote(PartitionHost)
        worker_cls = ray.remote(ReplicaWorker)
        blueprints = self._blueprints()
        for name, (kind, blueprint) in blueprints.items():
            blueprint["workdir"] = os.getcwd()
            cls = worker_cls if kind == "worker" else host_cls
            self.hosts[name] = cls.options(max_concurrency=64, **blueprint.pop("resources")).remote(blueprint)
        handles = dict(self.hosts)
        ray.get([host.connect.remote(handles) for host in self.hosts.values()])
        events = self.hub.active
        # workers first: pools look their handles up when they start
        order = sorted(self.hosts, key=lambda n: 0 if blueprints[n][0] == "worker" else 1)
        ray.get([self.hosts[name].start.remote(events) for name in order])
        self._started_at = time.perf_counter()
        self.hub.attach(None)  # type: ignore[arg-type]
        if self.hub.active:
            stamp = now_ms()
            self.hub.publish({"_type": "NetworkStarted", "timestamp": stamp})
        self._thread = threading.Thread(target=self._watch, name="reflow-ray-driver", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        ray = _import_ray()
        while not self._stop.is_set():
            try:
                polls = ray.get([host.poll.remote() for host in self.hosts.values()], timeout=60)
            except Exception as exc:  # a host died: the run failed
                self._settle(RunStatus(RunState.FAILED, detail=f"a Ray actor failed: {exc}"), final=True)
                return
            self._absorb(polls)
            if self.hub.congested:  # a lossless reader (a trace) is behind: let it catch up
                time.sleep(POLL_INTERVAL)
            self._stop.wait(POLL_INTERVAL)

    def _absorb(self, polls: list[dict[str, Any]]) -> None:
        for poll in polls:
            self._last_polls[poll["name"]] = poll
            _forward_output(poll)
            if self.hub.active:
                for event in poll["events"]:
                    self.hub.publish(self._rewrite(event))
        if self.hub.active:
            self.hub.wake_readers()
        statuses = [poll["status"] for poll in polls]
        failed = next((s for s in statuses if s and s["state"] == "failed"), None)
        if failed is not None:
            failure = failed.get("failure")
            record = FailureRecord(**failure) if failure else None
            self._settle(RunStatus(RunState.FAILED, failure=record, detail=failed.get("detail", "")), final=True)
            return
        sent: dict[str, int] = {}
        accepted: dict[str, int] = {}
        for poll in polls:
            sent.update(poll["sent"])
            accepted.update(poll["accepted"])
        settled = all(s is not None for s in statuses)
        quiet = all(sent.get(k, 0) == accepted.get(k, 0) for k in set(sent) | set(accepted))
        counters = (tuple(sorted(sent.items())), tuple(sorted(accepted.items())))
        if settled and quiet and counters == self._previous_counters:
            stalled = [s for s in statuses if s["state"] == "stalled"]
            elapsed = time.perf_counter() - self._started_at
            if stalled:
                ports = tuple(p for s in stalled for p in s["ports"])
                edges = tuple(e for s in stalled for e in s["edges"])
                self._settle(RunStatus(RunState.STALLED, ports, edges, elapsed_s=elapsed))
            else:
                self._settle(RunStatus(RunState.COMPLETE, elapsed_s=elapsed))
        else:
            self._settle(None)
        self._previous_counters = counters if settled and quiet else None

    def _rewrite(self, event: dict[str, Any]) -> dict[str, Any]:
        """A host's event as the driver shows it: a packet into a link node names the real target."""
        if event.get("_type") == "MessageSent" and str(event.get("toActor", "")).startswith(LINK_PREFIX):
            edge = self._link_targets.get(event["toActor"])
            if edge is not None:
                return {**event, "toActor": edge.tgt, "toPort": edge.tgt_port}
        return event

    def _settle(self, status: RunStatus | None, final: bool = False) -> None:
        with self._cond:
            if self._status is not None and self._status.state is RunState.FAILED:
                return
            changed = status != self._status
            self._status = status
            self._cond.notify_all()
        if changed and status is not None and self.hub.active:
            kind = "NetworkIdle" if status.state is RunState.COMPLETE else None
            if status.state is RunState.STALLED:
                self.hub.publish({"_type": "NetworkStalled", "ports": list(status.ports), "edges": list(status.edges),
                                  "timestamp": now_ms()})
            elif kind:
                self.hub.publish({"_type": kind, "timestamp": now_ms()})
        if final:
            self._stop.set()

    def wait(self, timeout: float | None = None) -> RunStatus:
        """Block until the run settles, or return TIMEOUT."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._status is None:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return RunStatus(RunState.TIMEOUT, elapsed_s=time.perf_counter() - self._started_at,
                                     detail=f"still running after {timeout} s")
                self._cond.wait(0.2 if remaining is None else min(remaining, 0.2))
            return self._status

    def inject(self, node_id: str, port: str, message: Message) -> None:
        """An initial packet added while running: delivered by the node's host."""
        with self._cond:
            self._status = None if self._status is None or self._status.state is not RunState.FAILED else self._status
        self.hosts[self.host_of_node[node_id]].inject.remote(node_id, port, message)

    def shutdown(self, grace: float = 2.0) -> NetworkStatistics:
        """Stop every host (gracefully, up to ``grace`` s), then the actors; the final statistics."""
        ray = _import_ray()
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            finals = ray.get([host.shutdown.remote(grace) for host in self.hosts.values()], timeout=grace + 60)
        except Exception as exc:  # a host already gone: keep what the last poll said
            log.warning("could not stop every Ray actor cleanly: %s", exc)
            finals = []
        try:
            final_polls = ray.get([host.poll.remote() for host in self.hosts.values()], timeout=10)
            for poll in final_polls:
                _forward_output(poll)
                if self.hub.active:
                    for event in poll["events"]:
                        self.hub.publish(self._rewrite(event))
        except Exception:  # pragma: no cover - hosts died during shutdown
            pass
        for name, final in zip(self.hosts, finals):
            if final.get("stats"):
                self._last_polls.setdefault(name, {"name": name})["stats"] = final["stats"]
            for node_id, state in final.get("states", {}).items():
                planned = self.plan.nodes.get(node_id)
                merge = getattr(planned.actor, "merge_remote_state", None) if planned else None
                if merge is not None:  # the driver's own copy of the actor learns what the remote one saw
                    merge(state)
        for host in self.hosts.values():
            ray.kill(host)
        with self._cond:
            if self._status is None:
                self._status = RunStatus(RunState.CANCELLED, elapsed_s=time.perf_counter() - self._started_at)
            self._cond.notify_all()
        self._final_stats = self.stats()
        if self.hub.active:
            self.hub.publish({"_type": "NetworkShutdown", "timestamp": now_ms()})
        self.hub.detach()
        return self._final_stats

    async def run_here(
        self, timeout: float | None = None, grace: float = 2.0, stop: trio.Event | None = None
    ) -> RunStatus:
        """Run until settled, ``timeout`` or ``stop``, from trio code (``reflow run``); then shut down."""
        await trio.to_thread.run_sync(self.start)
        deadline = None if timeout is None else trio.current_time() + timeout
        status: RunStatus | None = None
        while True:
            status = self.wait(0)
            if status.state is not RunState.TIMEOUT:
                break
            if stop is not None and stop.is_set():
                status = RunStatus(RunState.CANCELLED, detail="stopped on request")
                break
            if deadline is not None and trio.current_time() >= deadline:
                break
            await trio.sleep(POLL_INTERVAL)
        await trio.to_thread.run_sync(self.shutdown, grace)
        return status

    # -- statistics ------------------------------------------------------------------------------

    def stats(self) -> NetworkStatistics:
        """Every host's statistics merged; link nodes left out, remote edges under their real names."""
        if self._final_stats is not None and self._stop.is_set() and not self._thread_alive():
            return self._final_stats
        nodes: dict[str, NodeStatistics] = {}
        inports: dict[str, InportStatistics] = {}
        edges: dict[str, EdgeStatistics] = {}
        failures = undelivered = 0
        for poll in list(self._last_polls.values()):
            stats = poll.get("stats")
            if not stats:
                continue
            failures += stats["failures"]
            undelivered += stats["undelivered"]
            for node_id, node in stats["nodes"].items():
                if not node_id.startswith(LINK_PREFIX) and not node_id.startswith("__outputs__"):
                    nodes[node_id] = NodeStatistics(**node)
            for key, inport in stats["inports"].items():
                if not key.startswith(LINK_PREFIX) and not key.startswith("__outputs__"):
                    inports[key] = InportStatistics(**inport)
            for key, edge in stats["edges"].items():
                target = edge["target"].split(".")[0]
                if target.startswith("__outputs__"):
                    continue
                link = self._link_targets.get(target)
                if link is not None:
                    key = link.key
                    edge = {**edge, "target": f"{link.tgt}.{link.tgt_port}"}
                edges[key] = EdgeStatistics(**edge)
        status = self._status
        state = RunState.RUNNING if status is None else status.state
        return NetworkStatistics(state, time.perf_counter() - self._started_at, nodes, inports, edges, failures, undelivered)

    def _thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
