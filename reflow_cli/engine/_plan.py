"""Compile a :class:`~reflow_cli.graph.Graph` against a registry into a checked plan.

The plan is executor-neutral: every component resolved (all unknown ones
reported in one error), every port checked against its component's
declarations, configs completed with defaults and validated, capacities
settled per inport. Executors (trio today, Ray later) build their runtime
from it.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..actor import ComponentSpec, actor_spec, unknown_port_error
from ..errors import CapacityError, ConfigError, GraphError, NetworkError, UnresolvedComponentsError
from ..graph import Graph
from ..message import Message
from ..registry import ComponentEntry, ComponentRegistry
from ._ports import DEFAULT_CAPACITY

__all__ = ["ERROR_POLICIES", "RESERVED_METADATA_KEY", "node_settings", "NetworkPlan", "PlannedEdge", "PlannedInitial", "PlannedNode", "RunOptions", "plan_network"]

from ._policies import ERROR_POLICIES, ErrorPolicy


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run a network.

    ``on_error`` is the default error policy (``continue``: report and go
    on; ``fail``: the run fails); ``node_policies`` overrides it per node.
    """

    on_error: str = "continue"
    default_capacity: int = DEFAULT_CAPACITY
    node_policies: Mapping[str, str] = field(default_factory=dict)
    teardown_timeout: float = 5.0
    dead_letter_path: str = "dead-letters.jsonl"

    def __post_init__(self) -> None:
        for policy in (self.on_error, *self.node_policies.values()):
            if policy not in ERROR_POLICIES:
                raise ConfigError(f"unknown error policy {policy!r}; use one of {', '.join(ERROR_POLICIES)}")
        if not isinstance(self.default_capacity, int) or self.default_capacity < 1:
            raise NetworkError(f"default_capacity must be a positive integer, not {self.default_capacity!r}")


@dataclass(slots=True)
class PlannedNode:
    """A node with its component resolved and its config completed."""

    id: str
    template_id: str
    entry: ComponentEntry
    spec: ComponentSpec
    config: dict[str, Any]
    policy: ErrorPolicy
    actor: Any = None  # instantiated actor (executors that run locally use it)


@dataclass(frozen=True, slots=True)
class PlannedEdge:
    """A checked connection ``src.src_port -> tgt.tgt_port``."""

    src: str
    src_port: str
    tgt: str
    tgt_port: str


@dataclass(frozen=True, slots=True)
class PlannedInitial:
    """An initial packet for ``node.port``."""

    node: str
    port: str
    message: Message


@dataclass(slots=True)
class NetworkPlan:
    """Everything an executor needs to run a graph."""

    name: str
    nodes: dict[str, PlannedNode]
    edges: list[PlannedEdge]
    initials: list[PlannedInitial]
    capacities: dict[tuple[str, str], int]
    options: RunOptions
    #: inports fed from outside the run (remote edges of a distributed executor)
    external_inports: list[tuple[str, str]] = field(default_factory=list)


def connection_capacity(metadata: Any) -> int | None:
    """The capacity a connection's metadata asks for (``metadata.reflow.capacity``)."""
    if not isinstance(metadata, Mapping):
        return None
    reflow = metadata.get("reflow")
    if not isinstance(reflow, Mapping):
        return None
    capacity = reflow.get("capacity")
    if capacity is None:
        return None
    if type(capacity) is not int or capacity < 1:
        raise CapacityError(f"connection capacity must be a positive integer, not {capacity!r}")
    return capacity


_VALIDATORS: dict[int, Any] = {}


def _validate_config(node_id: str, spec: ComponentSpec, config: dict[str, Any]) -> None:
    schema = spec.config_schema
    if not schema:
        return
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        import jsonschema  # lazy: only components with a config schema pay for it

        validator_cls = jsonschema.validators.validator_for(schema)
        validator = validator_cls(schema)
        _VALIDATORS[id(schema)] = validator
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        raise ConfigError(f"node {node_id!r} ({spec.component}): config {where}: {first.message}")


#: Key of a process's metadata that holds reflow's own settings (not part of the config).
RESERVED_METADATA_KEY = "reflow"


def node_settings(metadata: Any) -> Mapping[str, Any]:
    """reflow's own per-node settings (``metadata.reflow``: on_error, description...)."""
    if isinstance(metadata, Mapping):
        settings = metadata.get(RESERVED_METADATA_KEY)
        if isinstance(settings, Mapping):
            return settings
    return {}


def node_config(node_id: str, spec: ComponentSpec, metadata: Any) -> dict[str, Any]:
    """Defaults from the component's schema, overridden by the node's config.

    A process's metadata is its config, except the reserved ``reflow`` key,
    which carries reflow's own settings for the node.
    """
    if metadata is None:
        metadata = {}
    elif not isinstance(metadata, Mapping):
        raise ConfigError(f"node {node_id!r}: config must be a dict or None, not {type(metadata).__name__}")
    config = spec.config_defaults()
    config.update((key, value) for key, value in metadata.items() if key != RESERVED_METADATA_KEY)
    _validate_config(node_id, spec, config)
    return config


def resolve_node(entry: ComponentEntry, node_id: str, metadata: Any) -> tuple[Any, ComponentSpec, dict[str, Any]]:
    """Instantiate a node's actor and settle its spec and config."""
    spec = entry.spec
    if spec is not None:
        config = node_config(node_id, spec, metadata)
        actor = entry.instantiate(config)
        if not entry.shared:
            spec = actor_spec(actor)  # a per-node instance may derive its ports from config
        return actor, spec, config
    # a plain factory: its ports are known only once built
    raw = {} if metadata is None else metadata
    if not isinstance(raw, Mapping):
        raise ConfigError(f"node {node_id!r}: config must be a dict or None, not {type(raw).__name__}")
    raw = {key: value for key, value in raw.items() if key != RESERVED_METADATA_KEY}
    actor = entry.instantiate(raw)
    spec = actor_spec(actor)
    return actor, spec, node_config(node_id, spec, raw)


def _check_batch_actor(node_id: str, actor: Any, spec: ComponentSpec) -> None:
    run_batch = getattr(actor, "run_batch", None)
    if run_batch is None:
        return
    if not inspect.iscoroutinefunction(run_batch):
        raise ConfigError(f"node {node_id!r}: run_batch must be `async def run_batch(self, ctx, packets)`")
    if len(spec.inports) != 1 or spec.inports[0].is_pattern:
        raise ConfigError(f"node {node_id!r}: an actor with run_batch takes its batches from exactly one inport")
    size = getattr(actor, "batch_size", 1)
    if type(size) is not int or size < 1:
        raise ConfigError(f"node {node_id!r}: batch_size must be a positive integer, not {size!r}")


def plan_network(graph: Graph, registry: ComponentRegistry, options: RunOptions) -> NetworkPlan:
    """Resolve and check ``graph``; raise on the first class of problems found."""
    missing: dict[str, str] = {}
    nodes: dict[str, PlannedNode] = {}
    for process in graph.iter_processes():
        entry = registry.get(process.component)
        if entry is None:
            missing[process.id] = process.component
            continue
        settings = node_settings(process.metadata)
        on_error = options.node_policies.get(process.id) or settings.get("on_error") or options.on_error
        policy = ErrorPolicy.parse(process.id, on_error, settings.get("retry"))
        actor, spec, config = resolve_node(entry, process.id, process.metadata)
        _check_batch_actor(process.id, actor, spec)
        nodes[process.id] = PlannedNode(process.id, process.component, entry, spec, config, policy, actor)
    if missing:
        reasons = {node_id: registry.hint(component) for node_id, component in missing.items()}
        raise UnresolvedComponentsError(missing, {k: v for k, v in reasons.items() if v})

    def check_node(node_id: str, role: str) -> PlannedNode:
        node = nodes.get(node_id)
        if node is None:
            raise GraphError(f"{role} names node {node_id!r}, which is not in the graph")
        return node

    edges: list[PlannedEdge] = []
    capacities: dict[tuple[str, str], int] = {}
    for conn in graph.iter_connections():
        src = check_node(conn.src_node, "a connection")
        tgt = check_node(conn.tgt_node, "a connection")
        if not src.spec.has_outport(conn.src_port):
            raise unknown_port_error(src.id, src.template_id, conn.src_port, (p.name for p in src.spec.outports), "outport")
        if not tgt.spec.has_inport(conn.tgt_port):
            raise unknown_port_error(tgt.id, tgt.template_id, conn.tgt_port, (p.name for p in tgt.spec.inports), "inport")
        capacity = connection_capacity(conn.metadata)
        key = (conn.tgt_node, conn.tgt_port)
        if capacity is not None:
            previous = capacities.get(key)
            if previous is not None and previous != capacity:
                raise CapacityError(
                    f"conflicting capacities for inport {conn.tgt_node}.{conn.tgt_port}: {previous} and {capacity}; "
                    "an inport has one queue, so give its connections the same capacity"
                )
            capacities[key] = capacity
        edges.append(PlannedEdge(conn.src_node, conn.src_port, conn.tgt_node, conn.tgt_port))

    initials: list[PlannedInitial] = []
    for initial in graph.iter_initials():
        node = check_node(initial.node, "an initial packet")
        if not node.spec.has_inport(initial.port):
            raise unknown_port_error(node.id, node.template_id, initial.port, (p.name for p in node.spec.inports), "inport")
        initials.append(PlannedInitial(initial.node, initial.port, initial.message))

    return NetworkPlan(graph.name, nodes, edges, initials, capacities, options)
