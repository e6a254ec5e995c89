"""Cutting a network plan into the pieces the Ray executor runs on separate Ray actors.

Every node becomes its own *partition* (a Ray actor running a local trio run
of its nodes), unless nodes share a ``placement`` name, which pins them into
one partition. A connection between partitions becomes a *remote edge*: in
the sending partition a link node (a batch actor) takes the packets and ships
them in batches; the receiving partition injects them into the real inport,
with backpressure. A node with ``replicas: N`` becomes a pool node in its own
partition plus N replica workers, each running the node itself.

This module is plain data (no Ray): it can be tested on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ._plan import NetworkPlan, PlannedEdge, node_settings

__all__ = [
    "LINK_PREFIX",
    "OUTPUTS_PREFIX",
    "POOL_PREFIX",
    "Layout",
    "Partition",
    "RemoteEdge",
    "ReplicaSpec",
    "is_plumbing",
    "layout_plan",
]

#: Node ids of link nodes (``__link__<n>``); reflow's own, left out of statistics and events.
LINK_PREFIX = "__link__"
#: Node ids of the collectors inside a replica worker (``__outputs__<port>``); left out likewise.
OUTPUTS_PREFIX = "__outputs__"
#: Template ids of replica pools (``__pool__<node>``); shown under the node's real component.
POOL_PREFIX = "__pool__"

#: The message type of a stream packet: it cannot leave the process that made it.
_STREAM = "StreamHandle"


def is_plumbing(node_id: str) -> bool:
    """Whether ``node_id`` is a node the Ray executor adds inside its actors (a link, a replica's collector)."""
    return node_id.startswith((LINK_PREFIX, OUTPUTS_PREFIX))


@dataclass(frozen=True, slots=True)
class RemoteEdge:
    """A connection whose ends run in different partitions."""

    key: str
    src: str
    src_port: str
    tgt: str
    tgt_port: str
    src_partition: str
    tgt_partition: str
    capacity: int | None
    link_node: str


@dataclass(frozen=True, slots=True)
class ReplicaSpec:
    """How a replicated node runs: how many copies, routed by a key field or round-robin.

    ``ordered`` is accepted for the spec's sake and changes nothing: the pool
    always emits a batch's outputs chunk by chunk, so without ``key`` the
    per-edge order always holds, and with ``key`` the per-key order holds.
    """

    count: int
    key: str | None = None
    ordered: bool = False


@dataclass(slots=True)
class Partition:
    """The nodes one Ray actor runs, and the Ray resources it asks for."""

    name: str
    nodes: list[str]
    resources: dict[str, float] = field(default_factory=dict)
    outgoing: list[RemoteEdge] = field(default_factory=list)
    incoming: list[RemoteEdge] = field(default_factory=list)


@dataclass(slots=True)
class Layout:
    """Partitions, remote edges and replicated nodes of a plan."""

    partitions: dict[str, Partition]
    partition_of: dict[str, str]
    remote_edges: list[RemoteEdge]
    replicas: dict[str, ReplicaSpec]


_RESOURCE_KEYS = {"num_cpus", "num_gpus", "memory"}


def _resources(node_id: str, value: Any) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"node {node_id!r}: resources must be a mapping like {{num_cpus: 1}}, not {value!r}")
    unknown = set(value) - _RESOURCE_KEYS
    if unknown:
        raise ConfigError(f"node {node_id!r}: unknown resources {sorted(unknown)}; use num_cpus, num_gpus, memory")
    out: dict[str, float] = {}
    for key, amount in value.items():
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0:
            raise ConfigError(f"node {node_id!r}: resources.{key} must be a number >= 0, not {amount!r}")
        out[key] = float(amount)
    return out


def _replica_spec(node_id: str, value: Any) -> ReplicaSpec | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ConfigError(f"node {node_id!r}: replicas must be a count or {{count, key, ordered}}, not {value!r}")
    if isinstance(value, int):
        value = {"count": value}
    if not isinstance(value, Mapping):
        raise ConfigError(f"node {node_id!r}: replicas must be a count or {{count, key, ordered}}, not {value!r}")
    unknown = set(value) - {"count", "key", "ordered"}
    if unknown:
        raise ConfigError(f"node {node_id!r}: unknown replicas settings {sorted(unknown)}; use count, key, ordered")
    count = value.get("count", 1)
    if type(count) is not int or count < 1:
        raise ConfigError(f"node {node_id!r}: replicas.count must be a positive integer, not {count!r}")
    key = value.get("key")
    if key is not None and not isinstance(key, str):
        raise ConfigError(f"node {node_id!r}: replicas.key must be a field name, not {key!r}")
    ordered = value.get("ordered", False)
    if not isinstance(ordered, bool):
        raise ConfigError(f"node {node_id!r}: replicas.ordered must be true or false, not {ordered!r}")
    return ReplicaSpec(count, key, ordered) if count > 1 else None


def layout_plan(plan: NetworkPlan, metadata: Mapping[str, Any]) -> Layout:
    """Partition ``plan``; ``metadata`` maps node id -> its process metadata (for placement & co)."""
    partition_of: dict[str, str] = {}
    partitions: dict[str, Partition] = {}
    replicas: dict[str, ReplicaSpec] = {}
    for node_id, node in plan.nodes.items():
        settings = node_settings(metadata.get(node_id))
        replica = _replica_spec(node_id, settings.get("replicas"))
        placement = settings.get("placement")
        if replica is not None:
            if placement is not None:
                raise ConfigError(f"node {node_id!r}: a replicated node cannot also be pinned with placement")
            if len(node.spec.inports) != 1 or node.spec.await_all_inports or node.spec.long_running:
                raise ConfigError(
                    f"node {node_id!r}: replicas need a stateless stage with exactly one inport "
                    "(not await-all, not long-running)"
                )
            replicas[node_id] = replica
        if isinstance(placement, Mapping):
            placement = placement.get("group")
        if placement is not None and not isinstance(placement, str):
            raise ConfigError(f"node {node_id!r}: placement must be a group name, not {placement!r}")
        name = f"group:{placement}" if placement else f"node:{node_id}"
        partition = partitions.setdefault(name, Partition(name, []))
        partition.nodes.append(node_id)
        for key, amount in _resources(node_id, settings.get("resources")).items():
            partition.resources[key] = partition.resources.get(key, 0.0) + amount
        partition_of[node_id] = name

    # actors that follow their source (reflow's taps) run in their one source's partition
    for node_id, node in plan.nodes.items():
        if not getattr(node.actor, "follow_source", False) or node_id in replicas:
            continue
        sources = {edge.src for edge in plan.edges if edge.tgt == node_id}
        if len(sources) == 1:
            (source,) = sources
            old_name = partition_of[node_id]
            if len(partitions[old_name].nodes) == 1:
                del partitions[old_name]
                partition_of[node_id] = partition_of[source]
                partitions[partition_of[source]].nodes.append(node_id)

    remote: list[RemoteEdge] = []
    for number, edge in enumerate(plan.edges):
        src_part, tgt_part = partition_of[edge.src], partition_of[edge.tgt]
        if src_part == tgt_part:
            continue
        key = f"{edge.src}.{edge.src_port} -> {edge.tgt}.{edge.tgt_port}"
        remote_edge = RemoteEdge(
            key,
            edge.src,
            edge.src_port,
            edge.tgt,
            edge.tgt_port,
            src_part,
            tgt_part,
            plan.capacities.get((edge.tgt, edge.tgt_port)),
            f"{LINK_PREFIX}{number}",
        )
        remote.append(remote_edge)
        partitions[src_part].outgoing.append(remote_edge)
        partitions[tgt_part].incoming.append(remote_edge)
    _check_streams(plan, partition_of, replicas)
    return Layout(partitions, partition_of, remote, replicas)


def _carries_streams(plan: NetworkPlan, edge: PlannedEdge) -> bool:
    """Whether ``edge`` carries streams: its outport (or its inport) is declared ``StreamHandle``."""
    outport = plan.nodes[edge.src].spec.outport(edge.src_port)
    inport = plan.nodes[edge.tgt].spec.inport(edge.tgt_port)
    return any(port is not None and port.type == _STREAM for port in (outport, inport))


def _stream_problem(edge: PlannedEdge, partition_of: Mapping[str, str], replicas: Mapping[str, ReplicaSpec]) -> str | None:
    """Why the stream edge ``edge`` cannot run on Ray as laid out (None when it can)."""
    link = f"node {edge.src!r} outport {edge.src_port!r} -> node {edge.tgt!r} inport {edge.tgt_port!r}"
    replicated = [node for node in dict.fromkeys((edge.src, edge.tgt)) if node in replicas]
    if replicated:
        return (
            f"{link}: streams cannot reach or leave the copies of replicated node {replicated[0]!r} "
            f"(they run in their own Ray actors); drop `replicas` from {replicated[0]!r}"
        )
    if partition_of[edge.src] != partition_of[edge.tgt]:
        return (
            f"{link}: they would run in different Ray actors; "
            f"put both in one placement group (`placement: <name>` on {edge.src!r} and on {edge.tgt!r})"
        )
    return None


def _check_streams(plan: NetworkPlan, partition_of: Mapping[str, str], replicas: Mapping[str, ReplicaSpec]) -> None:
    """:class:`ConfigError` naming every stream (``StreamHandle``) edge that would cross Ray actors."""
    problems = [
        problem
        for edge in plan.edges
        if _carries_streams(plan, edge)
        and (problem := _stream_problem(edge, partition_of, replicas)) is not None
    ]
    if problems:
        raise ConfigError(
            "a stream (StreamHandle) cannot cross from one Ray actor to another: " + "; ".join(problems)
        )
