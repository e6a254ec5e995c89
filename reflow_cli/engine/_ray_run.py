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

The driver's event stream looks like one local run's: the hosts' own run
events (``NetworkStarted``, ``NetworkIdle``...) and the events of the
executor's plumbing nodes (links, replica collectors) are left out; the driver
publishes the run's lifecycle itself.

Joining a cluster (``address``), the code of loaded packs and of ``python:``
components next to a spec ships to the workers as Ray ``py_modules`` (see
:func:`shipped_folders`); a local instance gets the driver's ``sys.path``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import trio

from ..errors import NetworkError
from ..graph import Graph
from ..message import Message
from ..registry import ComponentRegistry, default_registry
from ._events import EventHub, now_ms
from ._plan import RESERVED_METADATA_KEY, NetworkPlan, RunOptions, plan_network
from ._ray_partition import POOL_PREFIX, Layout, RemoteEdge, is_plumbing, layout_plan
from ._stats import EdgeStatistics, InportStatistics, NetworkStatistics, NodeStatistics
from ._status import FailureRecord, RunState, RunStatus

__all__ = ["RayExecutor", "RayRun", "ShippedFolder", "cluster_runtime_env", "shipped_folders"]

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


# -- what ships to a cluster ----------------------------------------------------------------------

#: Names of the folders shipped as ``py_modules`` start with this; a host puts each on ``sys.path``.
SHIP_PREFIX = "reflow_ship_"


@dataclass(frozen=True, slots=True)
class ShippedFolder:
    """A folder of the driver's import path that workers need: ``entries`` of ``folder`` ship as ``name``."""

    folder: Path
    name: str
    entries: tuple[Path, ...]


def _import_root(module: ModuleType) -> Path | None:
    """The folder ``module`` was imported from (the ``sys.path`` entry it hangs under), if it is a file."""
    file = getattr(module, "__file__", None)
    if not file or not os.path.isfile(file):
        return None
    path = Path(file).resolve()
    levels = module.__name__.count(".") + (1 if path.stem == "__init__" else 0)
    root = path.parent
    for _ in range(levels):
        root = root.parent
    return root


def _pack_folders() -> list[Path]:
    """The code folders (``code/``, or a source pack's folder) and ``site/`` folders of every loaded pack."""
    from ..packs import list_packs

    registry = default_registry()
    folders: list[Path] = []
    for pack in list_packs():
        for template_id in pack["templates"]:
            entry = registry.get(template_id)
            factory = None if entry is None else entry.factory
            cls = factory if isinstance(factory, type) else type(factory)
            module = sys.modules.get(cls.__module__)
            root = None if module is None else _import_root(module)
            if root is None:
                continue
            folders.append(root)
            if root.name == "code" and (root.parent / "site").is_dir():
                folders.append(root.parent / "site")
    return list(dict.fromkeys(folders))


def _installed(name: str) -> bool:
    """Whether the top-level module ``name`` is found on the import path (installed, or on ``sys.path``)."""
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        try:
            if find is not None and find(name, None) is not None:
                return True
        except Exception as exc:  # noqa: BLE001 - a third-party finder that cannot answer
            log.debug("import finder %r failed on %r: %s", finder, name, exc)
    return False


def _spec_folders() -> list[Path]:
    """Folders ``python:`` components were imported from: modules that are loaded but not on the import path.

    The spec loader puts a spec's folder on ``sys.path`` only for the import,
    so its modules are exactly those that nothing on the path would find again.
    """
    folders: list[Path] = []
    for name, module in list(sys.modules.items()):
        if "." in name or name == "__main__" or not isinstance(module, ModuleType):
            continue
        root = _import_root(module)
        if root is not None and not _installed(name):
            folders.append(root)
    return list(dict.fromkeys(folders))


def _folder_entries(folder: Path, *, modules_only: bool) -> tuple[Path, ...]:
    """What of ``folder`` ships: everything but caches, or (``modules_only``) its ``.py`` files and packages."""
    entries = []
    for entry in sorted(folder.iterdir()):
        if entry.name == "__pycache__" or entry.name.startswith("."):
            continue
        if modules_only and not (
            (entry.suffix == ".py" and entry.is_file()) or (entry / "__init__.py").is_file()
        ):
            continue
        entries.append(entry)
    return tuple(entries)


def shipped_folders() -> list[ShippedFolder]:
    """What a cluster's workers get of this process's code: loaded packs and ``python:`` components' folders.

    A pack's ``code/`` and ``site/`` folders ship whole (its compiled modules
    and vendored wheels included); a spec's folder ships its ``.py`` modules
    and packages only (not its data). Each lands on the workers' ``sys.path``.
    """
    kinds = [(folder, False) for folder in _pack_folders()]
    kinds += [(folder, True) for folder in _spec_folders() if folder not in dict(kinds)]
    shipped = []
    for folder, modules_only in kinds:
        entries = _folder_entries(folder, modules_only=modules_only)
        if entries:
            digest = hashlib.sha1(str(folder).encode()).hexdigest()[:12]
            shipped.append(ShippedFolder(folder, f"{SHIP_PREFIX}{folder.name}_{digest}", entries))
    return shipped


def cluster_runtime_env(
    folders: Iterable[ShippedFolder], staging: Path, base: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``base`` (a Ray ``runtime_env``) with every folder added to ``py_modules``.

    Each folder is staged in ``staging`` as a directory named after it, of
    links to its entries: Ray uploads that directory when Ray is joined, so
    ``staging`` may go once ``ray.init`` returned.
    """
    env = dict(base or {})
    modules = list(env.get("py_modules") or [])
    for shipped in folders:
        target = staging / shipped.name
        target.mkdir(parents=True, exist_ok=True)
        for entry in shipped.entries:
            (target / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
        modules.append(str(target))
    if modules:
        env["py_modules"] = modules
    return env


#: What this process shipped when it joined a cluster (names of the shipped folders).
_SHIPPED: list[str] = []


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
        """Start (or join) Ray now; call it from the main thread before any trio loop owns the signals.

        Joining a cluster ships what :func:`shipped_folders` finds *now*: load
        packs and specs before connecting.
        """
        ray = _import_ray()
        if ray.is_initialized():
            return ray
        options = {
            "include_dashboard": False,
            "configure_logging": False,
            "log_to_driver": False,  # hosts hand their output over in polls: printed here unprefixed
            "ignore_reinit_error": True,
            **self.init_options,
        }
        if self.address:
            self._join(ray, options)
        else:
            options.setdefault("num_cpus", os.cpu_count() or 1)
            # the driver's import path: specs' folders and loaded packs import on local workers too
            paths = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
            options.setdefault("runtime_env", {"env_vars": {"PYTHONPATH": paths}})
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a private local instance
            ray.init(**options)
            _SHIPPED.clear()
        return ray

    def _join(self, ray: Any, options: dict[str, Any]) -> None:
        """Join the cluster at ``address``, shipping this process's packs and spec modules as ``py_modules``."""
        folders = shipped_folders()
        staging = Path(tempfile.mkdtemp(prefix="reflow-ray-"))
        try:
            options["runtime_env"] = cluster_runtime_env(folders, staging, options.get("runtime_env"))
            options["address"] = self.address
            try:
                ray.init(**options)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise NetworkError(f"could not join the Ray cluster at {self.address!r}: {exc}") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        _SHIPPED[:] = [folder.name for folder in folders]
        for folder in folders:
            log.info("shipping %s to the Ray workers (%d entries)", folder.folder, len(folder.entries))

    def compile(self, graph: Graph, registry: ComponentRegistry, options: RunOptions, hub: EventHub) -> RayRun:
        """Plan ``graph`` (all checks happen here, in the driver) and lay it out on partitions."""
        plan = plan_network(graph, registry, options)
        metadata = {process.id: process.metadata for process in graph.iter_processes()}
        layout = layout_plan(plan, metadata)
        return RayRun(self, graph, plan, layout, options, hub)

    def check(self, network: Any) -> None:
        """Plan and lay out ``network`` as a run would, without starting Ray.

        Raises what a run would raise before starting (a
        :class:`~reflow_cli.errors.ConfigError` for a stream between two Ray
        actors, say), so a command can report it before Ray starts.
        """
        network._compile()  # the engine's own seam: builds the RayRun, starts nothing


def _is_run_event(event: Mapping[str, Any]) -> bool:
    """Whether ``event`` is about a whole run (``NetworkStarted``, ``NetworkIdle``, ``NetworkStats``...).

    A host's are about its own part of the network; the driver publishes the run's.
    """
    return str(event.get("_type", "")).startswith("Network")


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

    def _components(self, node_ids: set[str]) -> bytes:
        """``{template id: factory}`` of ``node_ids``, pickled: a host unpickles it once its shipped folders are on its path."""
        from ray import cloudpickle

        components = {}
        for node_id in node_ids:
            planned = self.plan.nodes[node_id]
            _ship_by_value(planned.entry.factory)
            components[planned.template_id] = planned.entry.factory
        return cloudpickle.dumps(components)

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
                template = f"{POOL_PREFIX}{node_id}"
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
                worker_components = self._components({node_id})  # pickled once, shared by every copy
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
                            "components": worker_components,
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
                    "incoming": [
                        {"tgt": e.tgt, "tgt_port": e.tgt_port, "capacity": e.capacity} for e in partition.incoming
                    ],
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
            blueprint["shipped"] = list(_SHIPPED)
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
            self._republish(poll)
        if self.hub.active:
            self.hub.wake_readers()
        statuses = [poll["status"] for poll in polls]
        failed = next((s for s in statuses if s and s["state"] == "failed"), None)
        if failed is not None:
            failure = failed.get("failure")
            record = self._real_failure(FailureRecord(**failure)) if failure else None
            self._settle(RunStatus(RunState.FAILED, failure=record, detail=failed.get("detail", "")), final=True)
            return
        sent, accepted = _counters(polls)
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

    def _republish(self, poll: dict[str, Any]) -> None:
        """Print what a host's nodes printed and republish its events as the driver shows them."""
        _forward_output(poll)
        if self.hub.active:
            for event in poll["events"]:
                shown = self._rewrite(event)
                if shown is not None:
                    self.hub.publish(shown)

    def _rewrite(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """A host's event as the driver shows it, or None when it is the executor's own business.

        Left out: the host's run events (the driver publishes the run's) and
        every event of a link or a replica's collector. A packet sent into a
        link names the real target; a link's failure names the node that sent
        the packet; a replica pool shows under the node's real component.
        """
        if _is_run_event(event):
            return None
        kind = event.get("_type")
        link = self._link_targets.get(str(event.get("toActor", "")))
        if kind == "MessageSent" and link is not None:
            event = {**event, "toActor": link.tgt, "toPort": link.tgt_port}
        link = self._link_targets.get(str(event.get("actorId", "")))
        if kind == "ActorFailed" and link is not None:
            event = {**event, "actorId": link.src, "component": self.plan.nodes[link.src].template_id}
        if any(is_plumbing(str(event.get(key, ""))) for key in ("actorId", "fromActor", "toActor")):
            return None
        if str(event.get("component", "")).startswith(POOL_PREFIX):
            event = {**event, "component": self.plan.nodes[event["actorId"]].template_id}
        return event

    def _real_failure(self, record: FailureRecord) -> FailureRecord:
        """``record`` naming a real node: a link's failure is the failure of the node that sent the packet."""
        link = self._link_targets.get(record.node)
        if link is None:
            return record
        return replace(record, node=link.src, component=self.plan.nodes[link.src].template_id)

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
            for poll in final_polls:  # the last counters too: what was still in flight is undelivered
                self._last_polls[poll["name"]] = poll
                self._republish(poll)
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
        """Every host's statistics merged; link nodes left out, remote edges under their real names.

        ``undelivered`` also counts the packets in flight between actors
        (sent over a remote edge, not yet queued on the other side).
        """
        if self._final_stats is not None and self._stop.is_set() and not self._thread_alive():
            return self._final_stats
        nodes: dict[str, NodeStatistics] = {}
        inports: dict[str, InportStatistics] = {}
        edges: dict[str, EdgeStatistics] = {}
        failures = undelivered = 0
        polls = list(self._last_polls.values())
        for poll in polls:
            stats = poll.get("stats")
            if not stats:
                continue
            failures += stats["failures"]
            undelivered += stats["undelivered"]
            for node_id, node in stats["nodes"].items():
                if not is_plumbing(node_id):
                    nodes[node_id] = self._real_node(NodeStatistics(**node))
            for key, inport in stats["inports"].items():
                if not is_plumbing(key):
                    inports[key] = InportStatistics(**inport)
            for key, edge in stats["edges"].items():
                key, shown = self._real_edge(key, edge)
                if shown is not None:
                    edges[key] = shown
        status = self._status
        state = RunState.RUNNING if status is None else status.state
        undelivered += _in_flight(polls)
        return NetworkStatistics(state, time.perf_counter() - self._started_at, nodes, inports, edges, failures, undelivered)

    def _real_node(self, node: NodeStatistics) -> NodeStatistics:
        """A node's statistics under its real component (a replica pool stands for the replicated node)."""
        if node.component.startswith(POOL_PREFIX):
            return replace(node, component=self.plan.nodes[node.node].template_id)
        return node

    def _real_edge(self, key: str, edge: dict[str, Any]) -> tuple[str, EdgeStatistics | None]:
        """An edge of a host as the driver shows it: into a link, the remote edge; into a collector, nothing."""
        target = edge["target"].split(".")[0]
        link: RemoteEdge | None = self._link_targets.get(target)
        if link is not None:
            return link.key, EdgeStatistics(**{**edge, "target": f"{link.tgt}.{link.tgt_port}"})
        if is_plumbing(target):
            return key, None
        return key, EdgeStatistics(**edge)

    def _thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def _counters(polls: Iterable[Mapping[str, Any]]) -> tuple[dict[str, int], dict[str, int]]:
    """The hosts' remote-edge counters merged: packets sent per edge, and accepted on the receiving side."""
    sent: dict[str, int] = {}
    accepted: dict[str, int] = {}
    for poll in polls:
        sent.update(poll.get("sent", {}))
        accepted.update(poll.get("accepted", {}))
    return sent, accepted


def _in_flight(polls: Iterable[Mapping[str, Any]]) -> int:
    """Packets sent over remote edges and not (yet) queued on the receiving side, per the hosts' counters."""
    sent, accepted = _counters(polls)
    return sum(max(0, count - accepted.get(key, 0)) for key, count in sent.items())
