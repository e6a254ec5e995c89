"""Shared test configuration: the queue backend in the header, small helper actors."""

from __future__ import annotations

import pytest

from reflow_cli import native


def pytest_report_header(config: pytest.Config) -> str:
    return f"reflow queue backend: {native.BACKEND} (set REFLOW_PURE_PYTHON=1 for the Python fallback)"
