"""The ``reflow`` command: a thin typer layer over the library."""

from __future__ import annotations

from . import _run_commands  # noqa: F401  (registers run, graph)
from . import _spec_commands  # noqa: F401
from ._app import app as app
from ._app import main as main

__all__ = ["app", "main"]
