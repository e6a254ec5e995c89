"""JSON Schemas shipped with reflow (installed as ``reflow_cli.schemas``): events, pipelines, diagnostics, packs."""
