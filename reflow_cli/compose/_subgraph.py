"""``SubgraphBuilder``: a Graph JSON export packaged as a component that networks inline.

A built :class:`Subgraph` is registered like an actor
(``net.register_actor("tpl_sub", sub.build())``). A node using it does not
run a nested network: ``Network.add_node("s", "tpl_sub")`` adds a copy of
the subgraph's nodes as ``s/<inner>`` (the same :func:`._inline.instantiate`
that spec subgraphs use), and connections to ``s.<port>`` go to the inner
port exported under that name. So inner events are the network's own
events, inner failures follow the network's (or the node's) error policy,
and two nodes using one subgraph get two independent copies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..actor import ComponentSpec, PortSpec
from ..errors import SubgraphComponentError
from ..graph import Graph
from ..registry import ComponentEntry, ComponentRegistry, default_registry
from ._inline import inline, instantiate
from ._pieces import Export, Pieces

__all__ = ["Subgraph", "SubgraphBuilder", "subgraph_config_schema"]


def subgraph_config_schema(inner_nodes: list[str]) -> dict[str, Any]:
    """The config schema of a subgraph node: inner node id -> config values merged over that node's config."""
    return {
        "type": "object",
        "description": "Config values for inner nodes, keyed by inner node id; merged over their own configs.",
        "properties": {node: {"type": "object"} for node in inner_nodes},
        "additionalProperties": False,
    }


class Subgraph:
    """A built subgraph: a flat Graph JSON export and the components its nodes use.

    Register it with ``Network.register_actor(template_id, subgraph)``. Its
    ports are the export's ``inports`` and ``outports``; a node's config maps
    inner node ids to config values (``{"dbl": {"factor": 3}}``).
    """

    __slots__ = ("entries", "export", "nodes", "order")

    def __init__(
        self, export: Export, entries: dict[str, ComponentEntry], order: list[str], nodes: list[str] | None = None
    ) -> None:
        self.export = export  # flat: nested subgraphs are inlined already
        self.entries = entries  # component id -> entry, for every component the export uses
        self.order = order  # the export's node order
        self.nodes = nodes if nodes is not None else order  # the node ids before nested subgraphs were inlined

    @property
    def inports(self) -> list[str]:
        """The subgraph's inport names (the node's inports)."""
        return list(self.export.get("inports") or {})

    @property
    def outports(self) -> list[str]:
        """The subgraph's outport names (the node's outports)."""
        return list(self.export.get("outports") or {})

    def component_spec(self, template_id: str) -> ComponentSpec:
        """What a node using this subgraph declares: the exported ports, and inner node ids as config keys."""
        return ComponentSpec(
            component=template_id,
            inports=tuple(PortSpec(name) for name in self.inports),
            outports=tuple(PortSpec(name) for name in self.outports),
            config_schema=subgraph_config_schema(self.nodes),
            description=f"subgraph {self.export.get('properties', {}).get('name', '')!r} "
            f"({len(self.order)} nodes, inlined as NODE/<inner>)",
        )

    def __reflow_component_entry__(self, template_id: str) -> ComponentEntry:
        """The registry's hook: registering a subgraph makes this entry."""
        return ComponentEntry(template_id, self, self.component_spec(template_id), source="subgraph")

    def instantiate(
        self,
        node_id: str,
        metadata: Mapping[str, Any] | None,
        template_id: str,
        component_ids: Callable[[str], str] | None = None,
    ) -> Pieces:
        """The copy of the inner graph for node ``node_id`` (see :func:`reflow_cli.compose.instantiate`)."""
        return instantiate(self.export, node_id, metadata, order=self.order, component_ids=component_ids,
                           what=f"node {node_id!r} ({template_id})")

    def __repr__(self) -> str:
        return f"<Subgraph {len(self.order)} nodes, inports {self.inports}, outports {self.outports}>"


class SubgraphBuilder:
    """Build a subgraph component from a Graph JSON export (the reference's ``SubgraphBuilder``).

    ``graph_export`` is a Graph JSON export (a dict; a :class:`~reflow_cli.Graph`
    is accepted too). Register the components its processes use with
    :meth:`register_actor`, or let :meth:`fill_from_catalog` find the catalog's
    (and loaded packs'); :meth:`build` checks they all resolve and returns a
    :class:`Subgraph` for ``Network.register_actor``. A registered component
    may itself be a built subgraph (nested subgraphs are flattened).
    """

    def __init__(self, graph_export: Mapping[str, Any] | str | bytes | Graph) -> None:
        self._graph = graph_export if isinstance(graph_export, Graph) else Graph.from_json(graph_export)
        self._graph = Graph.from_json(self._graph.to_json())  # our own copy
        self._registry = ComponentRegistry()
        self._from_catalog = False

    def register_actor(self, component: str, actor: Any) -> None:
        """Make ``actor`` (anything ``Network.register_actor`` takes) the component ``component`` of the subgraph."""
        self._registry.register(component, actor, source="SubgraphBuilder")

    def fill_from_catalog(self) -> None:
        """Resolve components not registered here from the catalog and loaded packs (at :meth:`build`)."""
        self._from_catalog = True

    def build(self) -> Subgraph:
        """The subgraph component; may be called again (each call makes a new one).

        Raises :class:`~reflow_cli.errors.SubgraphComponentError` (a RuntimeError)
        naming the first process whose component is neither registered nor, after
        :meth:`fill_from_catalog`, in the catalog.
        """
        graph = self._graph
        entries: dict[str, ComponentEntry] = {}
        for process in graph.iter_processes():
            component = process.component
            if component in entries:
                continue
            entry = self._registry.get(component)
            if entry is None and self._from_catalog:
                entry = default_registry().get(component)
            if entry is None:
                state = "unknown" if self._from_catalog else "unregistered"
                hint = (
                    "register it with register_actor(), or load the pack that provides it"
                    if self._from_catalog
                    else "register it with register_actor(), or call fill_from_catalog() for catalog templates"
                )
                raise SubgraphComponentError(
                    f"subgraph references {state} component {component!r} (node {process.id!r}); {hint}"
                )
            entries[component] = entry
        order = [process.id for process in graph.iter_processes()]
        nodes = list(order)
        export = graph.to_json()
        export["processes"] = {node: export["processes"][node] for node in order}
        for node in order:
            inner = entries[export["processes"][node]["component"]].factory
            if isinstance(inner, Subgraph):
                export = _flatten(export, node, inner, entries)
        used = {process["component"] for process in export["processes"].values()}
        return Subgraph(export, {k: v for k, v in entries.items() if k in used}, list(export["processes"]), nodes)


def _flatten(export: Export, node: str, inner: Subgraph, entries: dict[str, ComponentEntry]) -> Export:
    """``export`` with subgraph node ``node`` inlined; its components join ``entries`` (qualified on a clash)."""

    def component_id(component: str) -> str:
        theirs = inner.entries[component]
        mine = entries.get(component)
        if mine is None or mine.factory is theirs.factory:
            entries.setdefault(component, theirs)
            return component
        qualified = f"{node}/{component}"
        entries[qualified] = theirs
        return qualified

    return inline(export, node, inner.export, order=inner.order, component_ids=component_id)
