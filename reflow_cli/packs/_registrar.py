"""The registration API a pack's code sees: one function receiving a :class:`PackRegistrar`.

A pack's entrypoint (``module:function`` in its manifest) is called once,
when the pack is loaded::

    def register(registrar):
        registrar.register("tpl_ml_softmax", Softmax)
        registrar.register("tpl_ml_top_k", TopK)

That is the whole contract (``pack_abi_version()`` changes if it ever does).
Components are what :meth:`reflow_cli.registry.ComponentRegistry.register`
takes; for a pack they must declare their ports (an ``Actor`` subclass or
instance), because the manifest carries that metadata.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import sys
from pathlib import Path
from typing import Any

from ..actor import actor_spec
from ..errors import PackLoadError, RegistryError
from ..registry import ComponentEntry, make_entry

__all__ = ["PackRegistrar", "TEMPLATE_ID", "call_entrypoint"]

#: What a pack's template id may look like.
TEMPLATE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class PackRegistrar:
    """Collects the templates a pack's entrypoint registers.

    ``name``, ``version`` and ``root`` (the folder the pack's files are in)
    tell the pack about itself; :meth:`register` is the one method it calls.
    """

    def __init__(self, name: str, version: str, root: Path) -> None:
        self.name = name
        self.version = version
        self.root = root
        self.entries: dict[str, ComponentEntry] = {}

    def register(self, template_id: str, component: Any) -> None:
        """Offer ``component`` under ``template_id`` (an Actor subclass or instance)."""
        if not isinstance(template_id, str) or not TEMPLATE_ID.match(template_id):
            raise PackLoadError(
                f"pack {self.name!r}: {template_id!r} is not a template id (letters, digits, '_', '.', '-', "
                "starting with a letter or '_')"
            )
        if template_id in self.entries:
            raise PackLoadError(f"pack {self.name!r} registers {template_id!r} twice")
        try:
            entry = make_entry(template_id, component, source=f"pack:{self.name}")
        except RegistryError as exc:
            raise PackLoadError(f"pack {self.name!r}: {exc}") from None
        if entry.spec is None:
            raise PackLoadError(
                f"pack {self.name!r}: template {template_id!r} is a plain factory; register an Actor subclass "
                "(or instance) so its ports can go into the manifest"
            )
        self.entries[template_id] = entry

    def metadata(self) -> dict[str, dict[str, Any]]:
        """``{template_id: ComponentSpec.to_dict()}`` of what was registered (the manifest's ``template_meta``)."""
        out: dict[str, dict[str, Any]] = {}
        for template_id, entry in self.entries.items():
            spec = entry.spec if entry.spec is not None else actor_spec(entry.factory)
            out[template_id] = spec.to_dict()
        return out


def call_entrypoint(entrypoint: str, registrar: PackRegistrar) -> None:
    """Import ``module:function`` and call it with ``registrar``; failures become :class:`PackLoadError`."""
    module_name, _, function_name = entrypoint.partition(":")
    where = f"pack {registrar.name!r}"
    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout may be `--json`
            module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - pack code may raise anything while importing
        raise PackLoadError(f"{where}: importing its entrypoint module {module_name!r} failed: {_short(exc)}") from exc
    function = getattr(module, function_name, None)
    if not callable(function):
        raise PackLoadError(
            f"{where}: module {module_name!r} has no function {function_name!r} (the manifest's entrypoint)"
        )
    try:
        with contextlib.redirect_stdout(sys.stderr):
            function(registrar)
    except PackLoadError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise PackLoadError(f"{where}: its entrypoint {entrypoint} failed: {_short(exc)}") from exc


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
