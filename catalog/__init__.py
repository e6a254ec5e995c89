"""The standard component catalog (installed as ``reflow_cli.catalog``).

Each family module defines ordinary actors on the public SDK and lists them
in a ``COMPONENTS`` mapping ``{template_id: ActorSubclass}`` (one instance per
node). :func:`register_all` is called lazily by the registry the first time a
template id is looked up, so importing reflow stays cheap; importing this
package itself imports no family module.

:func:`not_ported_message` is the registry's hook for ids of the reference
runtime that the catalog does not ship yet.

Documentation (``docs/catalog.md``) is generated from the components'
metadata: ``python -m reflow_cli.catalog._docs > docs/catalog.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["FAMILIES", "NOT_PORTED_ANCHOR", "family_components", "not_ported", "not_ported_message", "register_all"]

#: Family modules, imported when the catalog is first needed.
FAMILIES: tuple[str, ...] = ("flow", "data", "text", "time", "files")

#: Where the docs list the reference ids we do not ship yet.
NOT_PORTED_ANCHOR = "docs/catalog.md#not-ported"


def family_components(family: str) -> dict[str, Any]:
    """``{template_id: component}`` of one family (imports that family's module)."""
    module = importlib.import_module(f"{__name__}.{family}")
    return dict(module.COMPONENTS)


def register_all(registry: Any) -> None:
    """Register every catalog component into ``registry``."""
    for family in FAMILIES:
        for template_id, component in family_components(family).items():
            registry.register(template_id, component, source=f"catalog:{family}")


def not_ported() -> list[str]:
    """Reference template ids the catalog does not register, sorted."""
    from ._reference import REFERENCE_IDS

    shipped: set[str] = set()
    for family in FAMILIES:
        shipped.update(family_components(family))
    return sorted(REFERENCE_IDS - shipped)


def not_ported_message(template_id: Any) -> str | None:
    """The registry's hook for an unknown id: a message when it is a reference id we have not ported.

    Returns ``None`` for any other id (the registry then reports it as
    unknown, with its "did you mean" hint). Cheap: it reads one frozenset.
    """
    from ._reference import REFERENCE_IDS

    if not isinstance(template_id, str) or template_id not in REFERENCE_IDS:
        return None
    return (
        f"unknown template id: {template_id!r} exists in offbit-reflow but is not ported yet; "
        f"see {NOT_PORTED_ANCHOR}"
    )
