"""Loading packs into this process, and reading their manifests without loading them.

A pack reference is a path (a ``.rflpack`` bundle, an unpacked or installed
pack folder, or a pack *source* folder with ``pack.yaml``, for development)
or the name of an installed pack. :func:`load_pack` is idempotent: loading a
pack that is already loaded (by any of its references, or another copy with the
same name, version and content) returns it again; a copy with the same name and
version but other content is a :class:`PackConflictError` naming both.

Loading a bundle unpacks it first (checked, into the cache); then, for every
kind: the ABI is checked, template ids are checked against every other
provider (:class:`PackConflictError` names both), the pack's ``code/`` folder
(and private ``site/``) go on ``sys.path``, the entrypoint registers the
templates, and they must be exactly the manifest's. Only then do they enter
the process-wide registry, so a failed load leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import (
    PackConflictError,
    PackError,
    PackFormatError,
    PackLoadError,
    PackNotFoundError,
)
from ..registry import ComponentRegistry, default_registry
from ._archive import MANIFEST, Bundle, file_digest
from ._install import (
    VERIFIED,
    cache_dir,
    find_installed,
    pack_dirs,
    read_folder_manifest,
    read_install_info,
    unpack,
)
from ._manifest import (
    PACK_ABI_VERSION,
    check_abi,
    parse_manifest,
    with_defaults,
)
from ._registrar import PackRegistrar, call_entrypoint
from ._source import PackSource, collect, is_source_folder, read_source

__all__ = ["LoadedPack", "PackReference", "inspect_pack", "list_packs", "load_pack", "pack_manifest", "resolve_reference"]

_LOCK = threading.RLock()
_LOADED: dict[str, LoadedPack] = {}
#: resolved paths and bundle digests -> pack name, so a second load is a lookup
_KEYS: dict[str, str] = {}


@dataclass
class LoadedPack:
    """A pack loaded into this process."""

    name: str
    version: str
    path: str
    root: Path
    manifest: dict[str, Any]
    templates: list[str]
    #: what :func:`content_identity` says about the code this pack put on ``sys.path``
    identity: str = ""

    def info(self) -> dict[str, Any]:
        """``{name, version, path, templates}`` (what :func:`list_packs` lists)."""
        return {"name": self.name, "version": self.version, "path": self.path, "templates": list(self.templates)}


@dataclass(frozen=True)
class PackReference:
    """What a pack reference names: ``kind`` is bundle, folder, source or loaded."""

    kind: str
    path: Path | None
    name: str | None
    shown: str


def _looks_like_path(text: str) -> bool:
    return (
        "/" in text
        or os.sep in text
        or (os.altsep is not None and os.altsep in text)
        or text.endswith(".rflpack")
        or text.startswith((".", "~"))
    )


def resolve_reference(reference: str | os.PathLike[str], base: Path | None = None, *, verb: str = "load") -> PackReference:
    """Say what ``reference`` names; paths are relative to ``base`` (default: the working directory)."""
    if not isinstance(reference, (str, os.PathLike)):
        raise PackFormatError(f"{verb} pack: a pack reference is a path or a name, not {type(reference).__name__}")
    text = os.fspath(reference)
    if not text:
        raise PackNotFoundError(f"{verb} pack: an empty pack reference")
    candidate = Path(text).expanduser()
    if base is not None and not candidate.is_absolute():
        candidate = base / candidate
    shown = f"{verb} pack '{text}'"
    if isinstance(reference, os.PathLike) or _looks_like_path(text) or candidate.exists():
        if not candidate.exists():
            raise PackNotFoundError(f"{shown}: {candidate}: No such file or directory")
        if candidate.is_dir():
            if (candidate / MANIFEST).is_file():
                return PackReference("folder", candidate, None, shown)
            if is_source_folder(candidate):
                return PackReference("source", candidate, None, shown)
            raise PackFormatError(
                f"{shown}: the folder holds neither manifest.json (an unpacked pack) nor pack.yaml (a pack source)"
            )
        return PackReference("bundle", candidate, None, shown)
    with _LOCK:
        if text in _LOADED:
            return PackReference("loaded", None, text, shown)
    folder = find_installed(text)
    if folder is not None:
        return PackReference("folder", folder, text, shown)
    raise PackNotFoundError(
        f"{shown}: no pack named {text!r} is installed (looked in {os.pathsep.join(map(str, pack_dirs()))}) "
        "and no file of that name exists; install it with `reflow pack install FILE`, or give a path"
    )


# -- manifests without loading -----------------------------------------------------------------

_SOURCE_CACHE: dict[tuple[str, float], dict[str, Any]] = {}


def source_manifest(source: PackSource, registrar: PackRegistrar) -> dict[str, Any]:
    """The manifest a source folder would build into (without ``files``: nothing is bundled)."""
    return with_defaults(source.manifest(registrar.metadata(), targets={"any": {}}, files={}))


def _source_metadata(folder: Path) -> dict[str, Any]:
    """The manifest of a source folder, by calling its entrypoint in-process (cached per pack.yaml change)."""
    source = read_source(folder)
    key = (str(folder.resolve()), (folder / "pack.yaml").stat().st_mtime)
    cached = _SOURCE_CACHE.get(key)
    if cached is None:
        added = str(folder.resolve()) not in sys.path
        try:
            cached = source_manifest(source, collect(source))
        finally:
            if added and str(folder.resolve()) in sys.path:
                sys.path.remove(str(folder.resolve()))
        _SOURCE_CACHE[key] = cached
    return cached


def pack_manifest(
    reference: str | os.PathLike[str], base: Path | None = None, *, allow_import: bool = True
) -> dict[str, Any] | None:
    """A pack's checked manifest, read without running pack code (without extracting anything).

    A source folder has no manifest: its entrypoint must run to list the
    templates, so with ``allow_import=False`` the answer is None.
    """
    ref = resolve_reference(reference, base, verb="read")
    if ref.kind == "loaded":
        with _LOCK:
            return _LOADED[ref.name].manifest  # type: ignore[index]
    assert ref.path is not None
    if ref.kind == "source":
        return _source_metadata(ref.path) if allow_import else None
    if ref.kind == "folder":
        manifest = read_folder_manifest(ref.path)
    else:
        with Bundle(ref.path, what="read pack") as bundle:
            manifest = parse_manifest(bundle.manifest_bytes, f"{ref.shown}")
    check_abi(manifest, ref.shown)
    return manifest


def inspect_pack(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a pack, with defaults filled in; reads only, never runs pack code.

    ``path`` is a ``.rflpack`` bundle, an unpacked pack folder, or the name
    of an installed pack. A pack built for another ABI is shown, not refused.
    A bundle's members are all checked against their sizes and SHA-256, as
    installing does: a corrupt or altered bundle raises the same
    :class:`PackSafetyError` (:class:`PackFormatError` for a listed member
    that is missing).
    """
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else path
    ref = resolve_reference(text, verb="inspect")
    if ref.kind == "loaded":
        with _LOCK:
            return with_defaults(_LOADED[ref.name].manifest)  # type: ignore[index]
    assert ref.path is not None
    if ref.kind == "source":
        raise PackFormatError(
            f"{ref.shown}: is a pack source folder (pack.yaml); build it first: reflow pack build {text}"
        )
    if ref.kind == "folder":
        return read_folder_manifest(ref.path)
    with Bundle(ref.path, what="inspect pack") as bundle:
        manifest = parse_manifest(bundle.manifest_bytes, ref.shown)
        bundle.verify(manifest["files"])
    return manifest


# -- loading ----------------------------------------------------------------------------------


def list_packs() -> list[dict[str, Any]]:
    """The packs loaded into this process: ``[{name, version, path, templates}]``, in load order."""
    with _LOCK:
        return [pack.info() for pack in _LOADED.values()]


def _describe_provider(source: str) -> str:
    if source.startswith("pack:"):
        name = source[5:]
        pack = _LOADED.get(name)
        return f"pack {name!r} {pack.version} ({pack.path})" if pack else f"pack {name!r}"
    if source.startswith("catalog:"):
        return f"the standard catalog ({source[8:]} family)"
    return f"{source} code (registered with register())" if source == "user" else source


def check_conflicts(
    manifest: Mapping[str, Any], where: str, registry: ComponentRegistry | None = None
) -> None:
    """:class:`PackConflictError` when another provider already offers one of the pack's template ids."""
    registry = registry if registry is not None else default_registry()
    name = manifest["name"]
    for template_id in manifest["templates"]:
        entry = registry.get(template_id)
        if entry is not None and entry.source != f"pack:{name}":
            raise PackConflictError(
                f"{where}: template {template_id!r} is provided by both {_describe_provider(entry.source)} and "
                f"pack {name!r} {manifest['version']}; a template id has one provider: unload or rename one of them"
            )


def _purge_modules(code_dirs: list[str]) -> None:
    for module_name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and any(os.path.realpath(file).startswith(d + os.sep) for d in code_dirs):
            del sys.modules[module_name]


def _activate(manifest: dict[str, Any], root: Path, code_dir: Path, where: str, *, check: bool = True) -> PackRegistrar:
    """Put the pack's code on ``sys.path`` and run its entrypoint; undo everything on failure."""
    name = manifest["name"]
    top = manifest["entrypoint"].split(":", 1)[0].split(".")[0]
    real_code = os.path.realpath(code_dir)
    existing = sys.modules.get(top)
    existing_file = getattr(existing, "__file__", None) if existing is not None else None
    if existing_file and not os.path.realpath(existing_file).startswith(real_code + os.sep):
        raise PackConflictError(
            f"{where}: pack {name!r} needs the module {top!r}, but a module of that name is already imported "
            f"from {existing_file}"
        )
    added: list[str] = []
    for folder in (code_dir, root / "site"):
        text = str(folder)
        if folder.is_dir() and text not in sys.path:
            sys.path.append(text)  # after the environment: its own packages win
            added.append(text)
    registrar = PackRegistrar(name, manifest["version"], root)
    try:
        call_entrypoint(manifest["entrypoint"], registrar)
        registered, listed = set(registrar.entries), set(manifest["templates"])
        if check and registered != listed:
            parts = []
            if listed - registered:
                parts.append(f"did not register {', '.join(sorted(listed - registered))}")
            if registered - listed:
                parts.append(f"registered {', '.join(sorted(registered - listed))}, which the manifest does not list")
            raise PackLoadError(f"{where}: pack {name!r}: its entrypoint {'; '.join(parts)}; rebuild the pack")
    except BaseException:
        _purge_modules([real_code])
        for text in added:
            if text in sys.path:
                sys.path.remove(text)
        raise
    return registrar


def _identity_of(name: str, entrypoint: str, code: Mapping[str, str]) -> str:
    """SHA-256 of a pack's name, entrypoint and ``{path under code/: SHA-256}`` (canonical JSON)."""
    payload = json.dumps({"name": name, "entrypoint": entrypoint, "code": dict(code)}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def content_identity(manifest: Mapping[str, Any], target: str | None) -> str:
    """What loading an unpacked pack puts on ``sys.path``, as one digest (from the manifest's hashes: cheap).

    That is the ``code/`` members and the compiled modules of ``target``
    (which unpacking moves into ``code/``). A slim and a full bundle of one
    build agree; two builds differing in any code file do not.
    """
    files = manifest["files"]
    code = {name: entry["sha256"] for name, entry in files.items() if name.startswith("code/")}
    modules = manifest["targets"].get(target, {}).get("modules", ()) if target is not None else ()
    for name in modules:
        code["code/" + name.split("/", 2)[2]] = files[name]["sha256"]
    return _identity_of(manifest["name"], manifest["entrypoint"], code)


def _source_identity(source: PackSource) -> str:
    """The :func:`content_identity` a bundle built from ``source`` (without modules) would have.

    Hashes the code files as ``reflow pack build`` would ship them; a source
    it cannot bundle (a symbolic link in the code) is identified by its
    folder instead, so only the same folder counts as the same pack.
    """
    from ..errors import PackBuildError
    from ._build import _code_members

    try:
        code = {name: file_digest(path) for name, path in _code_members(source)}
    except (PackBuildError, OSError):
        return f"source:{os.path.realpath(source.folder)}"
    return _identity_of(source.name, source.entrypoint, code)


def _check_same_pack(loaded: LoadedPack, manifest: Mapping[str, Any], identity: str, where: str, path: Path) -> None:
    """:class:`PackConflictError` unless ``manifest``/``identity`` is the very pack ``loaded`` already is."""
    if loaded.version != manifest["version"]:
        raise PackConflictError(
            f"{where}: pack {manifest['name']!r} {loaded.version} is already loaded from {loaded.path}; "
            f"this is version {manifest['version']}, and one process loads one version of a pack"
        )
    if loaded.identity != identity:
        raise PackConflictError(
            f"{where}: pack {manifest['name']!r} {loaded.version} is already loaded from {loaded.path}, and {path} "
            "holds other code under the same name and version; one process loads one copy of a pack: "
            "give the changed pack another version, or load it in another process"
        )


def _unpacked_bundle(path: Path, digest: str) -> tuple[Path, dict[str, Any]]:
    """The cache folder of the bundle ``path`` (SHA-256 ``digest``) and its manifest, unpacking it when needed.

    A cached folder is reused only when it came from these very bytes with
    every member checked; anything else is unpacked (and checked) again.
    """
    root = cache_dir() / digest[:16]
    info = read_install_info(root)
    if info.get("sha256") == digest and info.get("verified") == VERIFIED:
        try:
            return root, read_folder_manifest(root)
        except PackError:
            pass  # a damaged cache entry: unpack it again
    return unpack(path, cache_dir(), digest[:16], what="load pack", digest=digest)


def load_pack(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a pack into this process and register its templates; return ``{name, version, path, templates}``.

    ``path`` is a ``.rflpack`` bundle, an unpacked pack folder, a pack
    source folder (``pack.yaml``; development) or an installed pack's name.
    Idempotent: the same path, or another copy with the same name, version
    and code (:func:`content_identity`), returns the loaded pack; another
    version, or the same version with other code, is a
    :class:`PackConflictError` naming both. A bundle is checked whole (every
    member's size and SHA-256) before anything of it is loaded. Afterwards
    :func:`~reflow_cli.template_actor` and :func:`~reflow_cli.template_list`
    include the pack's templates.
    """
    with _LOCK:
        ref = resolve_reference(path)
        if ref.kind == "loaded":
            return _LOADED[ref.name].info()  # type: ignore[index]
        assert ref.path is not None
        key = os.path.realpath(ref.path)
        known = _KEYS.get(key)
        if known is not None and known in _LOADED:
            return _LOADED[known].info()
        where = ref.shown
        source: PackSource | None = None
        if ref.kind == "bundle":
            digest = file_digest(ref.path)
            known = _KEYS.get(digest)
            if known is not None and known in _LOADED:
                _KEYS[key] = known
                return _LOADED[known].info()
            root, manifest = _unpacked_bundle(ref.path, digest)
            code_dir = root / "code"
            identity = content_identity(manifest, read_install_info(root).get("target"))
            keys = [key, digest]
        elif ref.kind == "folder":
            root = ref.path
            manifest = read_folder_manifest(root)
            code_dir = root / "code"
            identity = content_identity(manifest, read_install_info(root).get("target"))
            keys = [key]
        else:
            source = read_source(ref.path)
            root = ref.path.resolve()
            code_dir = root
            manifest = with_defaults({"name": source.name, "version": source.version,
                                      "reflow_pack_abi_version": PACK_ABI_VERSION, "templates": [],
                                      "entrypoint": source.entrypoint})
            identity = _source_identity(source)
            keys = [key]
        check_abi(manifest, where)
        loaded = _LOADED.get(manifest["name"])
        if loaded is not None:
            _check_same_pack(loaded, manifest, identity, where, ref.path)
            for k in keys:
                _KEYS[k] = loaded.name
            return loaded.info()
        if source is None:
            check_conflicts(manifest, where)
        registrar = _activate(manifest, root, code_dir, where, check=source is None)
        if source is not None:
            manifest = source_manifest(source, registrar)
            try:
                check_conflicts(manifest, where)
            except PackError:
                _purge_modules([os.path.realpath(code_dir)])
                if str(code_dir) in sys.path:
                    sys.path.remove(str(code_dir))
                raise
        registry = default_registry()
        done: list[str] = []
        try:
            for template_id in manifest["templates"]:
                registry.register(template_id, registrar.entries[template_id], source=f"pack:{manifest['name']}")
                done.append(template_id)
        except Exception as exc:
            for template_id in done:
                registry.unregister(template_id)
            raise PackConflictError(f"{where}: {exc}") from exc
        pack = LoadedPack(manifest["name"], manifest["version"], str(ref.path), root, manifest,
                          list(manifest["templates"]), identity)
        _LOADED[pack.name] = pack
        for k in keys:
            _KEYS[k] = pack.name
        return pack.info()
