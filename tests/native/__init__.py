"""Tests of reflow_cli.native (the inport queues)."""
