"""The ``reflow`` command: a thin typer layer over the library."""

from __future__ import annotations

from . import _compose_commands  # noqa: F401  (registers compose)
from . import _pack_commands  # noqa: F401  (registers pack build/inspect/strip/install/list/remove)
from . import _catalog_commands  # noqa: F401  (registers catalog list, catalog show)
from . import _run_commands  # noqa: F401  (registers run, graph)
from . import _spec_commands  # noqa: F401
from . import _observe_commands  # noqa: F401  (registers trace summary, tap)
from . import _test_commands  # noqa: F401  (registers test)
from ._app import app as app
from ._app import main as main

__all__ = ["app", "main"]
