"""The component registry: template ids → components.

A *component* is what a node instantiates: an :class:`~reflow_cli.Actor`
instance (shared by every node using it, as in the reference), an ``Actor``
subclass (one instance per node), or a factory ``f(config) -> Actor``.

The process-wide registry is filled from the standard catalog (imported the
first time an id is looked up) and from loaded packs. A
:class:`~reflow_cli.Network` keeps a registry of its own on top: ids given
to ``register_actor`` shadow the process-wide ones for that network only.
"""

from __future__ import annotations

import importlib
import inspect
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .actor import Actor, ComponentSpec, actor_spec, suggest
from .errors import ComponentTypeError, RegistryError, TemplateIdTypeError, UnknownComponentError

__all__ = [
    "ComponentEntry",
    "ComponentRegistry",
    "default_registry",
    "template_actor",
    "template_list",
]


def _takes_config(cls: type) -> bool:
    """Whether ``cls(config)`` is the way to build it (its ``__init__`` takes an argument)."""
    init = cls.__init__
    if init is object.__init__:
        return False
    try:
        parameters = list(inspect.signature(init).parameters.values())[1:]
    except (TypeError, ValueError):
        return False
    positional = [
        p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if any(p.name == "config" for p in parameters):
        return True
    return bool(positional) and positional[0].default is inspect.Parameter.empty


@dataclass(frozen=True, slots=True)
class ComponentEntry:
    """A registered component: how to build it and, when known, its metadata."""

    template_id: str
    factory: Any
    spec: ComponentSpec | None
    source: str = "user"

    @property
    def shared(self) -> bool:
        """True when every node shares one actor instance."""
        return isinstance(self.factory, Actor)

    def instantiate(self, config: Mapping[str, Any]) -> Actor:
        """The actor a node with ``config`` runs."""
        factory = self.factory
        if isinstance(factory, Actor):
            return factory
        if isinstance(factory, type):
            actor = factory(dict(config)) if _takes_config(factory) else factory()
        else:
            actor = factory(dict(config))
        if not hasattr(actor, "run"):
            raise RegistryError(
                f"component {self.template_id!r}: the factory returned {type(actor).__name__}, "
                "which has no run(ctx) method"
            )
        return actor


def make_entry(template_id: str, component: Any, source: str = "user") -> ComponentEntry:
    """Check ``component`` and describe it as a :class:`ComponentEntry`."""
    if not isinstance(template_id, str):
        raise TemplateIdTypeError(f"argument 'template_id': a template id must be a string, not {type(template_id).__name__} {template_id!r}")
    if not template_id:
        raise RegistryError("a template id must not be empty")
    if isinstance(component, ComponentEntry):
        return ComponentEntry(template_id, component.factory, component.spec, component.source)
    subgraph_entry = getattr(component, "__reflow_component_entry__", None)
    if subgraph_entry is not None:
        return subgraph_entry(template_id)
    if isinstance(component, Actor) or (isinstance(component, type) and issubclass(component, Actor)):
        return ComponentEntry(template_id, component, actor_spec(component), source)
    if isinstance(component, type) and callable(getattr(component, "run", None)):
        # duck-typed actor class (not derived from Actor)
        return ComponentEntry(template_id, component, actor_spec(component), source)
    if not isinstance(component, type) and callable(getattr(component, "run", None)):
        return ComponentEntry(template_id, _SharedDuck(component), actor_spec(component), source)
    if callable(component):
        return ComponentEntry(template_id, component, None, source)
    raise ComponentTypeError(
        f"cannot register {template_id!r}: expected an Actor instance, an Actor subclass or a "
        f"factory(config) -> Actor, got {type(component).__name__}"
    )


class _SharedDuck(Actor):
    """Wraps a non-Actor object that has ``run(ctx)`` so it is shared like an instance."""

    def __init__(self, target: Any) -> None:
        self._target = target
        for name in ("component", "inports", "outports", "await_all_inports", "threaded", "long_running",
                     "config_schema", "description", "example"):
            if hasattr(target, name):
                setattr(self, name, getattr(target, name))
        self.run = target.run  # type: ignore[method-assign]
        for hook in ("setup", "teardown"):
            if hasattr(target, hook):
                setattr(self, hook, getattr(target, hook))


class ComponentRegistry:
    """Template id → :class:`ComponentEntry`, optionally layered over a parent registry."""

    def __init__(self, parent: ComponentRegistry | None = None) -> None:
        self._entries: dict[str, ComponentEntry] = {}
        self._parent = parent
        self._lock = threading.RLock()
        self._loaders: list[Callable[[ComponentRegistry], None]] = []

    def add_loader(self, loader: Callable[[ComponentRegistry], None]) -> None:
        """Run ``loader(self)`` the first time an id is looked up (lazy catalogs)."""
        with self._lock:
            self._loaders.append(loader)

    def _load_pending(self) -> None:
        if not self._loaders:
            return
        with self._lock:
            loaders, self._loaders = self._loaders, []
            for loader in loaders:
                loader(self)

    def register(self, template_id: str, component: Any, *, source: str = "user", replace: bool = False) -> ComponentEntry:
        """Register ``component`` under ``template_id`` and return its entry.

        Registering an id twice raises :class:`RegistryError` unless
        ``replace`` is true.
        """
        entry = make_entry(template_id, component, source)
        with self._lock:
            existing = self._entries.get(template_id)
            if existing is not None and not replace:
                raise RegistryError(
                    f"component {template_id!r} is already registered (from {existing.source}); "
                    "pick another id or remove the first registration"
                )
            self._entries[template_id] = entry
        return entry

    def unregister(self, template_id: str) -> None:
        """Remove ``template_id`` (no error if absent)."""
        with self._lock:
            self._entries.pop(template_id, None)

    def get(self, template_id: str) -> ComponentEntry | None:
        """The entry for ``template_id`` here or in a parent, else ``None``."""
        entry = self._entries.get(template_id)
        if entry is not None:
            return entry
        self._load_pending()
        entry = self._entries.get(template_id)
        if entry is None and self._parent is not None:
            return self._parent.get(template_id)
        return entry

    def lookup(self, template_id: str) -> ComponentEntry:
        """The entry for ``template_id``; :class:`UnknownComponentError` with a hint if absent."""
        if not isinstance(template_id, str):
            raise TemplateIdTypeError(f"argument 'template_id': a template id must be a string, not {type(template_id).__name__} {template_id!r}")
        entry = self.get(template_id)
        if entry is None:
            raise self.unknown(template_id)
        return entry

    def unknown(self, template_id: str) -> UnknownComponentError:
        """The error for an unknown id: "not ported yet" for reference ids, else a "did you mean" hint."""
        from .catalog import not_ported_message  # the catalog knows which reference ids it lacks

        note = not_ported_message(template_id)
        if note is not None:
            return UnknownComponentError(note)
        text = f"unknown template id: {template_id!r} — no loaded pack or bundled catalog entry"
        hint = self.hint(template_id)
        return UnknownComponentError(f"{text} ({hint})" if hint else text)

    def hint(self, template_id: str) -> str | None:
        """A short note on an unknown id: "not ported yet ..." or "did you mean 'x'?"; ``None`` if none applies."""
        from .catalog import not_ported_note

        note = not_ported_note(template_id)
        if note is not None:
            return note
        close = suggest(str(template_id), self.ids())
        return f"did you mean {close!r}?" if close else None

    def ids(self) -> list[str]:
        """Every id visible from here, sorted."""
        self._load_pending()
        ids = set(self._entries)
        if self._parent is not None:
            ids.update(self._parent.ids())
        return sorted(ids)

    def __contains__(self, template_id: object) -> bool:
        return isinstance(template_id, str) and self.get(template_id) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids())

    def __len__(self) -> int:
        return len(self.ids())


def _load_catalog(registry: ComponentRegistry) -> None:
    catalog = importlib.import_module("reflow_cli.catalog")
    catalog.register_all(registry)


_DEFAULT = ComponentRegistry()
_DEFAULT.add_loader(_load_catalog)


def default_registry() -> ComponentRegistry:
    """The process-wide registry (standard catalog plus loaded packs)."""
    return _DEFAULT


def template_actor(template_id: str) -> Any:
    """The component registered under ``template_id``, ready for ``Network.register_actor``."""
    return _DEFAULT.lookup(template_id).factory


def template_list() -> list[str]:
    """Every template id known to this process (catalog and loaded packs), sorted."""
    return _DEFAULT.ids()
