"""The standard component catalog (installed as ``reflow_cli.catalog``).

Each family module defines ordinary actors on the public SDK and lists them
in a ``COMPONENTS`` mapping ``{template_id: ActorSubclass}`` (one instance per
node). :func:`register_all` is called lazily by the registry the first time a
template id is looked up, so importing reflow stays cheap; importing this
package itself imports no family module.

:func:`not_ported_message` is the registry's hook for ids of the reference
runtime that the catalog does not ship yet.

Documentation (``docs/catalog.md``) is generated from the components'
metadata: ``python -m reflow_cli.catalog._docs --write docs`` (also the deviations table in docs/porting.md).
:func:`list_components` and :func:`describe_component` are what
``reflow catalog list`` and ``reflow catalog show`` print.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "FAMILIES",
    "NOT_PORTED",
    "NOT_PORTED_ANCHOR",
    "describe_component",
    "family_components",
    "family_of",
    "list_components",
    "is_not_ported",
    "not_ported",
    "not_ported_message",
    "not_ported_note",
    "register_all",
]

#: Family modules, imported when the catalog is first needed.
FAMILIES: tuple[str, ...] = ("flow", "data", "math", "text", "time", "streams", "files", "http")

#: Where the docs list the reference ids we do not ship yet.
NOT_PORTED_ANCHOR = "docs/catalog.md#not-ported"
#: What is said of a reference id this catalog does not ship yet.
NOT_PORTED = "exists in offbit-reflow but is not ported yet"


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


def is_not_ported(template_id: Any) -> bool:
    """Whether ``template_id`` is an offbit-reflow id this catalog does not ship yet (cheap: one frozenset)."""
    from ._reference import REFERENCE_IDS

    return isinstance(template_id, str) and template_id in REFERENCE_IDS


def not_ported_note(template_id: Any) -> str | None:
    """``exists in offbit-reflow but is not ported yet; see ...`` for a reference id we lack; else ``None``."""
    return f"{NOT_PORTED}; see {NOT_PORTED_ANCHOR}" if is_not_ported(template_id) else None


def not_ported_message(template_id: Any) -> str | None:
    """The registry's hook for an unknown id: a message when it is a reference id we have not ported.

    Returns ``None`` for any other id (the registry then reports it as
    unknown, with its "did you mean" hint).
    """
    note = not_ported_note(template_id)
    return None if note is None else f"unknown template id: {template_id!r} {note}"


def _summary(component: Any) -> str:
    """One line about a component: the first line of its class docstring (else of its description)."""
    import inspect

    doc = inspect.getdoc(component) or component.spec().description
    return " ".join(doc.strip().splitlines()[0].split()) if doc else ""


def list_components(family: str | None = None) -> list[dict[str, Any]]:
    """One entry per catalog component, in family order: ``{id, family, summary, inports, outports, reference}``.

    ``reference`` is true for ids that offbit-reflow also has. Raises
    ``ValueError`` for an unknown ``family``.
    """
    from ._reference import REFERENCE_IDS

    if family is not None and family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; families: {', '.join(FAMILIES)}")
    entries = []
    for name in FAMILIES if family is None else (family,):
        for template_id, component in family_components(name).items():
            spec = component.spec()
            entries.append(
                {
                    "id": template_id,
                    "family": name,
                    "summary": _summary(component),
                    "inports": [port.name for port in spec.inports],
                    "outports": [port.name for port in spec.outports],
                    "reference": template_id in REFERENCE_IDS,
                }
            )
    return entries


def family_of(template_id: str) -> str | None:
    """The family shipping ``template_id``, or ``None``."""
    for name in FAMILIES:
        if template_id in family_components(name):
            return name
    return None


def describe_component(template_id: str) -> dict[str, Any]:
    """Everything ``reflow catalog show`` prints: the spec (ports, config schema, example) plus family and defaults.

    Raises :class:`~reflow_cli.errors.UnknownComponentError` (with the "not
    ported yet" or "did you mean" hint) for an id the catalog does not ship.
    """
    from ..registry import ComponentRegistry
    from ._reference import REFERENCE_IDS

    family = family_of(template_id) if isinstance(template_id, str) else None
    if family is None:
        registry = ComponentRegistry()
        register_all(registry)
        raise registry.unknown(template_id)
    spec = family_components(family)[template_id].spec()
    out = spec.to_dict()
    out["id"] = template_id
    out["family"] = family
    out["reference"] = template_id in REFERENCE_IDS
    out["is_async"] = spec.is_async
    out["config_defaults"] = spec.config_defaults()
    out["summary"] = _summary(family_components(family)[template_id])
    return out
