"""Pipeline specs: load, validate, normalise and convert them (YAML 1.2, JSON, Graph JSON).

The library behind ``reflow validate``, ``reflow convert``, ``reflow run`` and
``reflow compose``::

    from reflow_cli.spec import load_pipeline, format_diagnostics

    loaded = load_pipeline("pipeline.yaml")
    if not loaded.ok:
        print(format_diagnostics(loaded.diagnostics, "text"))
    graph = loaded.graph          # a reflow_cli.graph.Graph, None when there are errors

The format is documented in ``docs/spec.md``, the diagnostic codes in
``docs/errors.md``, the schema in ``schemas/pipeline.schema.json``.

Nothing here raises for a bad file: problems are :class:`Diagnostic` values.
This package imports neither trio nor the engine; jsonschema is imported
only when something is validated.
"""

from __future__ import annotations

from ._convert import SCHEMA_URL as SCHEMA_URL
from ._convert import dump_graph as dump_graph
from ._convert import dump_spec as dump_spec
from ._convert import graph_to_spec as graph_to_spec
from ._convert import spec_to_graph as spec_to_graph
from ._diagnostics import CODES as CODES
from ._diagnostics import Diagnostic as Diagnostic
from ._diagnostics import format_diagnostics as format_diagnostics
from ._load import DEFAULT_MAX_SIZE as DEFAULT_MAX_SIZE
from ._load import LoadedPipeline as LoadedPipeline
from ._load import is_graph_export as is_graph_export
from ._load import load_pipeline as load_pipeline
from ._load import validate_paths as validate_paths
from ._schema import schema_text as schema_text

__all__ = [
    "CODES",
    "DEFAULT_MAX_SIZE",
    "SCHEMA_URL",
    "Diagnostic",
    "LoadedPipeline",
    "dump_graph",
    "dump_spec",
    "format_diagnostics",
    "graph_to_spec",
    "is_graph_export",
    "load_pipeline",
    "schema_text",
    "spec_to_graph",
    "validate_paths",
]

for _name in ("Diagnostic", "LoadedPipeline", "dump_graph", "dump_spec", "format_diagnostics", "graph_to_spec",
              "is_graph_export", "load_pipeline", "schema_text", "spec_to_graph", "validate_paths"):
    globals()[_name].__module__ = __name__
del _name
