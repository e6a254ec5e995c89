"""What a node's ``component`` names: a template id, a Python class, or another spec file.

* A template id is looked up in the registry (the catalog and loaded packs).
* ``python:MODULE:CLASS`` imports MODULE from the spec file's folder (only
  for the import: ``sys.path`` is restored right after), unless imports are
  off (``reflow validate --no-import``), in which case the node's ports are
  not checked.
* ``./other.yaml`` (a path: a subgraph) is loaded and checked in turn; its
  exported ports are the node's ports, and its node ids the keys of the
  node's config. The loader inlines it when it builds the graph. A file
  that includes itself, directly or not, is an include cycle (E018).

Results are cached per component string, so 5,000 nodes of one template
cost one lookup.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..actor import ComponentSpec, PortSpec, suggest
from ..compose import subgraph_config_schema
from ..registry import ComponentRegistry, make_entry

__all__ = ["ComponentResolver", "Resolved", "is_file_component"]

_IMPORT_LOCK = threading.Lock()
_SPEC_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class Resolved:
    """What a component string resolved to.

    ``spec`` is None when its ports are unknown (not found, not imported, a
    plain factory); ``problems`` are ``(code, message, hint)`` to report at
    every node using it. ``include`` is the loaded subgraph file
    (a :class:`~reflow_cli.spec.LoadedPipeline`) of a ``./sub.yaml`` component.
    """

    spec: ComponentSpec | None = None
    python_class: Any = None
    problems: list[tuple[str, str, str | None]] = field(default_factory=list)
    include: Any = None


def is_file_component(component: str) -> bool:
    """Whether a component names another spec file (a subgraph) rather than a template."""
    return component.startswith(("./", "../", "/")) or component.lower().endswith(_SPEC_SUFFIXES)


def _short_error(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"SyntaxError: {exc.msg} ({Path(exc.filename).name}, line {exc.lineno})"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ComponentResolver:
    """Resolves component strings for one spec file."""

    def __init__(
        self,
        registry: ComponentRegistry,
        folder: Path,
        *,
        allow_import: bool,
        load_include: Callable[[Path, str], Any],
        case_sensitive: bool = True,
    ) -> None:
        self.registry = registry
        self.folder = folder
        self.allow_import = allow_import
        self.load_include = load_include  # (resolved path, shown text) -> LoadedPipeline | str (a cycle)
        self.case_sensitive = case_sensitive  # the including spec's: its port names are lower case if not
        self._cache: dict[str, Resolved] = {}
        self._ids: list[str] | None = None

    def resolve(self, component: str) -> Resolved:
        """The (cached) resolution of ``component``."""
        found = self._cache.get(component)
        if found is None:
            if component.startswith("python:"):
                found = self._python(component)
            elif is_file_component(component):
                found = self._include(component)
            else:
                found = self._template(component)
            self._cache[component] = found
        return found

    # -- template ids -----------------------------------------------------------------

    def _known_ids(self) -> list[str]:
        if self._ids is None:
            try:
                self._ids = self.registry.ids()
            except Exception:  # a broken catalog must not hide the spec's own problems
                self._ids = []
        return self._ids

    def _template(self, component: str) -> Resolved:
        try:
            entry = self.registry.get(component)
        except Exception as exc:  # noqa: BLE001 - a failing catalog or pack loader
            return Resolved(problems=[("E010", f"could not look up component {component!r}: {_short_error(exc)}",
                                       "the component catalog or a pack failed to load")])
        if entry is None:
            from ..catalog import NOT_PORTED, NOT_PORTED_ANCHOR, is_not_ported

            if is_not_ported(component):
                return Resolved(problems=[("E010", f"component {component!r} {NOT_PORTED}", f"see {NOT_PORTED_ANCHOR}")])
            close = suggest(component, self._known_ids())
            hint = (
                f"did you mean {close!r}?"
                if close
                else "a component is a template id from the catalog or a loaded pack, "
                "python:MODULE:CLASS for your own Python class, or ./file.yaml for a subgraph"
            )
            return Resolved(problems=[("E010", f"unknown component {component!r}", hint)])
        return Resolved(spec=entry.spec)

    # -- python:MODULE:CLASS ------------------------------------------------------------

    def _python(self, component: str) -> Resolved:
        parts = component.split(":")
        if len(parts) != 3 or not parts[1] or not parts[2]:
            return Resolved(problems=[("E010", f"{component!r} is not a Python component reference",
                                       "write it as python:MODULE:CLASS, e.g. python:my_actors:ParseLines")])
        if not self.allow_import:
            return Resolved()
        _, module_name, class_name = parts
        try:
            module = self._import(module_name)
        except BaseException as exc:  # noqa: BLE001 - user code may raise anything while importing
            if isinstance(exc, KeyboardInterrupt):
                raise
            return Resolved(problems=[(
                "E017",
                f"cannot import {module_name!r} for {component!r}: {_short_error(exc)}",
                f"the module is looked up in {self.folder} (the spec file's folder)",
            )])
        cls = getattr(module, class_name, None)
        if cls is None:
            names = [name for name, value in vars(module).items() if isinstance(value, type)]
            close = suggest(class_name, names)
            return Resolved(problems=[(
                "E017",
                f"module {module_name!r} has no class {class_name!r}",
                f"did you mean {close!r}?" if close else f"its classes: {', '.join(sorted(names)) or '(none)'}",
            )])
        if isinstance(cls, type) and not callable(getattr(cls, "run", None)) and not hasattr(cls, "__reflow_component_entry__"):
            return Resolved(problems=[("E017", f"{component!r} is not an actor: class {class_name} has no run(ctx) method",
                                       "derive it from reflow_cli.Actor and implement run(self, ctx)")])
        try:
            entry = make_entry(component, cls, source=f"python:{module_name}")
        except Exception as exc:  # noqa: BLE001 - a bad class declaration
            return Resolved(problems=[("E017", f"{component!r} is not a usable actor: {_short_error(exc)}",
                                       "a component is an Actor subclass (or has a run(ctx) method)")])
        return Resolved(spec=entry.spec, python_class=cls)

    def _import(self, module_name: str) -> Any:
        folder = str(self.folder)
        top = module_name.split(".")[0]
        with _IMPORT_LOCK:
            cached = sys.modules.get(top)
            cached_file = getattr(cached, "__file__", None) if cached is not None else None
            ours = os.path.exists(os.path.join(folder, top + ".py")) or os.path.isdir(os.path.join(folder, top))
            if ours and cached is not None and cached_file and not _inside(cached_file, folder):
                # Another spec's module of the same name (examples/*/my_actors.py): import ours.
                for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
                    del sys.modules[name]
            sys.path.insert(0, folder)
            try:
                importlib.invalidate_caches()
                # What the module prints goes to stderr: stdout may be `--format json`.
                with contextlib.redirect_stdout(sys.stderr):
                    return importlib.import_module(module_name)
            finally:
                with contextlib.suppress(ValueError):  # unless the module removed it itself
                    sys.path.remove(folder)

    # -- ./other.yaml --------------------------------------------------------------------

    def _include(self, component: str) -> Resolved:
        path = Path(os.path.normpath(self.folder / component))
        if not path.is_file():
            return Resolved(problems=[("E010", f"component file {component!r} does not exist",
                                       f"paths are relative to the spec file's folder ({self.folder})")])
        result = self.load_include(path, component)
        if isinstance(result, str):
            return Resolved(problems=[("E018", result, "a spec must not include itself, directly or through others")])
        return Resolved(spec=subgraph_spec(component, result.spec, self.case_sensitive), include=result)


def _inside(file: str, folder: str) -> bool:
    try:
        return os.path.commonpath([os.path.realpath(file), os.path.realpath(folder)]) == os.path.realpath(folder)
    except ValueError:
        return False


def subgraph_spec(component: str, spec: dict[str, Any] | None, case_sensitive: bool = True) -> ComponentSpec | None:
    """What a node using a loaded subgraph spec declares: its exported ports, and its node ids as config keys.

    ``case_sensitive`` is the *including* spec's: when it is not, the port
    names it uses are lower case, and so are the ones declared here.
    """
    if spec is None:
        return None

    def name(port: str) -> str:
        return port if case_sensitive else port.lower()

    return ComponentSpec(
        component=component,
        inports=tuple(PortSpec(name(port)) for port in spec.get("inports", {})),
        outports=tuple(PortSpec(name(port)) for port in spec.get("outports", {})),
        config_schema=subgraph_config_schema(list(spec.get("nodes", {}))),
    )
