"""Composition: merging graphs into one, and subgraphs inlined into the graphs that use them.

One merging code serves four callers: :mod:`._pieces` puts a graph under a
prefix, :mod:`._merge` composes graphs side by side, :mod:`._inline` replaces a
node by a copy of a graph.

* :func:`compose_graphs` (the reference's API): Graph JSON exports in, one out;
* ``reflow compose`` and ``reflow run a.yaml b.yaml`` (through
  :func:`compose_paths` and compose manifests);
* spec subgraphs (``component: ./clean.yaml``), inlined when a spec loads;
* :class:`SubgraphBuilder`, whose built :class:`Subgraph` a ``Network`` inlines
  at ``add_node``.

Nothing here imports trio or the engine; docs/compose.md describes the rules.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ._graphs import compose_graphs as compose_graphs
from ._graphs import declared_ports as declared_ports
from ._inline import Inner as Inner
from ._inline import inline as inline
from ._inline import inline_all as inline_all
from ._inline import instantiate as instantiate
from ._merge import Composed as Composed
from ._merge import Composition as Composition
from ._merge import CrossConnection as CrossConnection
from ._merge import Endpoint as Endpoint
from ._merge import GraphPart as GraphPart
from ._merge import Problem as Problem
from ._merge import SharedResource as SharedResource
from ._merge import compose as compose
from ._pieces import RESERVED_NAMESPACES as RESERVED_NAMESPACES
from ._pieces import Pieces as Pieces
from ._pieces import namespace_for as namespace_for
from ._pieces import sanitise as sanitise
from ._subgraph import Subgraph as Subgraph
from ._subgraph import SubgraphBuilder as SubgraphBuilder
from ._subgraph import subgraph_config_schema as subgraph_config_schema

__all__ = [
    "RESERVED_NAMESPACES",
    "Composed",
    "Composition",
    "CrossConnection",
    "Endpoint",
    "GraphPart",
    "Inner",
    "Pieces",
    "Problem",
    "SharedResource",
    "Subgraph",
    "SubgraphBuilder",
    "compose",
    "compose_graphs",
    "compose_paths",
    "declared_ports",
    "inline",
    "inline_all",
    "instantiate",
    "namespace_for",
    "sanitise",
    "subgraph_config_schema",
]


def compose_paths(
    paths: Sequence[str | os.PathLike[str]],
    *,
    connections: Sequence[str] = (),
    name: str | None = None,
    overrides: Sequence[str] = (),
    registry: Any = None,
    allow_import: bool = True,
    max_size: int | None = None,
) -> Any:
    """Load spec files (or Graph JSON exports, or compose manifests) and compose them: ``reflow compose``.

    Returns a :class:`reflow_cli.spec.LoadedPipeline` (``kind == "compose"``)
    whose ``graph`` is the composition and whose diagnostics point into the
    files (and, for ``connections``, at the command line). ``connections`` are
    ``--connect`` texts such as ``"ingest/clean.out -> report/fmt.in"`` or
    ``"ingest.rows -> report.rows"``; without any, an exported outport of one
    graph feeds the same-named exported inports of the others. A single
    compose manifest is loaded as it is. Never raises for bad files.
    """
    from ..spec._compose import compose_paths as load  # the spec loader depends on this package, not back

    return load(paths, connections=connections, name=name, overrides=overrides, registry=registry,
                allow_import=allow_import, max_size=max_size)
