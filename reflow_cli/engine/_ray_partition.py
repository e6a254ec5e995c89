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
from ._plan import NetworkPlan, node_settings

__all__ = ["LINK_PREFIX", "Layout", "Partition", "RemoteEdge", "ReplicaSpec", "layout_plan"]

#: Node ids of link nodes (``__link__<n>``); reflow's own, left out of statistics.
LINK_PREFIX = "__link__"


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
    """How a replicated node runs: how many copies, routed by a key field or round-robin."""

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
    return ReplicaSpec(count, key, bool(value.get("ordered", False))) if count > 1 else None


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
        sources = {edge.src for edge in plan.edges if edge.tgt == node_id}
        if getattr(node.actor, "follow_source", False) and len(sources) == 1 and node_id not in replicas:
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
    return Layout(partitions, partition_of, remote, replicas)
