"""The standard component catalog (installed as ``reflow_cli.catalog``).

Each family module defines ordinary actors on the public SDK and lists them
in a ``COMPONENTS`` mapping ``{template_id: ActorSubclass}``.
:func:`register_all` is called lazily by the registry the first time a
template id is looked up, so importing reflow stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Family modules, imported when the catalog is first needed.
FAMILIES: tuple[str, ...] = ()


def register_all(registry: Any) -> None:
    """Register every catalog component into ``registry``."""
    for family in FAMILIES:
        module = importlib.import_module(f"{__name__}.{family}")
        for template_id, component in module.COMPONENTS.items():
            registry.register(template_id, component, source=f"catalog:{family}")
