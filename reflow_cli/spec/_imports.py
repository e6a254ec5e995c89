"""A spec's ``imports: [{pack: NAME|PATH}]``: the packs whose templates its nodes may use.

Validation reads each pack's templates from its manifest (a bundle's
``manifest.json``, an installed pack's folder) without running pack code, so
a spec using the ml pack validates where onnxruntime is not installed. The
templates go into an overlay registry over the usual one, carrying the
manifest's ports and config schemas. When the spec is loaded to run
(``load_pipeline`` with imports allowed), the packs are also loaded for real,
so the network finds their components.

Paths are relative to the spec file's folder; a bare name is an installed
pack (``reflow pack install``) or one this process has already loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..registry import ComponentEntry, ComponentRegistry
from ._issues import Issue

__all__ = ["pack_registry"]


class _FromManifest:
    """Stands for a pack template known only from a manifest (validation does not need the code)."""

    def __init__(self, pack: str, template_id: str, spec: Any) -> None:
        self.pack = pack
        self.template_id = template_id
        self.spec = spec

    def __reflow_component_entry__(self, template_id: str) -> ComponentEntry:
        return ComponentEntry(template_id, self, self.spec, f"pack:{self.pack}")

    def __call__(self, config: Any) -> Any:
        from ..errors import PackLoadError

        raise PackLoadError(
            f"template {self.template_id!r} of pack {self.pack!r} was only read from its manifest; "
            f"load the pack (load_pack) to run it"
        )


class _Overlay(ComponentRegistry):
    """The imported packs' templates over the usual registry.

    With ``--no-import`` a pack *source* folder is not read (its code would have
    to run): then any id nobody knows may be one of its templates, and resolves
    with unknown ports (unchecked, as ``python:`` components are).
    """

    def __init__(self, parent: ComponentRegistry) -> None:
        super().__init__(parent=parent)
        self.unread: list[str] = []

    def get(self, template_id: str) -> ComponentEntry | None:
        entry = super().get(template_id)
        if entry is None and self.unread:
            return ComponentEntry(template_id, None, None, f"pack:{self.unread[0]} (not read)")
        return entry


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def pack_registry(
    imports: Iterable[dict[str, Any]],
    folder: Path,
    registry: ComponentRegistry,
    issues: list[Issue],
    *,
    allow_import: bool,
    load: bool,
) -> ComponentRegistry:
    """An overlay of ``registry`` holding the imported packs' templates; problems go to ``issues`` (E010).

    ``load`` also loads each pack into the process (to run the spec).
    ``allow_import=False`` skips pack *source* folders, whose templates are
    known only by running their code.
    """
    from ..errors import PackError
    from ..packs import pack_manifest, template_specs

    overlay = _Overlay(registry)
    providers: dict[str, str] = {}
    for index, item in enumerate(imports):
        reference = item["pack"]
        where = ("imports", index, "pack")
        try:
            manifest = pack_manifest(reference, folder, allow_import=allow_import)
            if manifest is not None and load:
                from ..packs import load_pack

                load_pack(_as_path(reference, folder))
        except PackError as exc:
            issues.append(Issue("E010", f"pack {reference!r} cannot be used: {_short(exc)}", where,
                                hint="install it with `reflow pack install FILE`, or give the bundle's path "
                                "relative to this spec"))
            continue
        if manifest is None:  # a source folder under --no-import
            overlay.unread.append(str(reference))
            continue
        name = manifest["name"]
        for template_id, spec in template_specs(manifest).items():
            other = providers.get(template_id)
            existing = registry.get(template_id) if other is None else None
            if other is not None or (existing is not None and existing.source != f"pack:{name}"):
                first = f"pack {other!r}" if other is not None else (existing.source if existing else "?")
                issues.append(Issue("E010", f"template {template_id!r} is provided by both {first} and pack {name!r}",
                                    where, hint="a template id has one provider: import only one of them"))
                continue
            providers[template_id] = name
            overlay.register(template_id, _FromManifest(name, template_id, spec), source=f"pack:{name}")
    return overlay


def _as_path(reference: str, folder: Path) -> str:
    """``reference`` as ``load_pack`` should see it: paths made absolute against the spec's folder."""
    candidate = folder / reference
    return str(candidate) if candidate.exists() else reference
