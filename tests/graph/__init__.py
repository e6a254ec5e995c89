"""Tests of reflow_cli.graph: the Graph API, its JSON export, properties and speed."""
