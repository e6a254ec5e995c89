"""Actor packs: ``.rflpack`` bundles that add templates to the registry at run time.

The library behind ``reflow pack`` and the SDK's ``load_pack``,
``inspect_pack``, ``list_packs`` and ``pack_abi_version``::

    from reflow_cli.packs import build_pack, strip_pack, install_pack, load_pack

    bundle = build_pack("packs/ml", "dist/", platforms=["manylinux2014_x86_64"])
    slim = strip_pack(bundle)                 # only this machine's platform
    install_pack(slim)                        # into the user pack folder
    load_pack("reflow.pack.ml")               # by name, or by path

The format is documented in ``docs/packs.md``, the manifest's schema in
``schemas/pack.schema.json``. A pack's code is a Python module whose
entrypoint receives a :class:`PackRegistrar` (its one method: ``register``).
Everything here raises :class:`~reflow_cli.errors.PackError` subclasses.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ._abi import PACK_ABI_VERSION

__all__ = [
    "PackRegistrar",
    "build_pack",
    "bundle_name",
    "host_tag",
    "host_tags",
    "inspect_pack",
    "install_dir",
    "install_pack",
    "installed_packs",
    "list_packs",
    "load_pack",
    "pack_abi_version",
    "pack_dirs",
    "pack_manifest",
    "remove_pack",
    "strip_pack",
    "template_specs",
]

# Importing reflow_cli must stay cheap: the machinery (zipfile, jsonschema, pip) loads on first use.
_LAZY = {
    "PackRegistrar": "._registrar",
    "build_pack": "._build",
    "bundle_name": "._build",
    "strip_pack": "._build",
    "host_tag": "._platform",
    "host_tags": "._platform",
    "install_dir": "._install",
    "installed_packs": "._install",
    "pack_dirs": "._install",
    "pack_manifest": "._loader",
    "template_specs": "._manifest",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def pack_abi_version() -> int:
    """The pack ABI version of this reflow (an int, 1 today); a pack must have been built for it.

    It changes only when the registration API or the meaning of the manifest
    changes. (offbit-reflow's is a u32 hash such as 2442128673: its packs are
    refused anyway, see ``docs/packs.md``.)
    """
    return PACK_ABI_VERSION


def load_pack(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a pack and register its templates; return ``{name, version, path, templates}``.

    ``path`` is a ``.rflpack`` bundle, an unpacked pack folder, a pack source
    folder (``pack.yaml``, for development) or an installed pack's name.
    A bundle is checked whole (every member's size and SHA-256) first.
    Idempotent: loading a loaded pack again — by the same path, or another
    copy with the same name, version and code — returns it; the same name
    and version with other code is a :class:`~reflow_cli.errors.PackConflictError`
    naming both. Afterwards ``template_actor`` and ``template_list`` include
    the pack's templates. Raises a :class:`~reflow_cli.errors.PackError` (a
    RuntimeError).
    """
    from ._loader import load_pack as load

    return load(path)


def inspect_pack(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A pack's manifest with defaults filled in; reads only, never runs pack code.

    ``path`` is a ``.rflpack`` bundle, an unpacked pack folder or an
    installed pack's name. A bundle's members are all checked against their
    sizes and SHA-256, as installing does: a corrupt or altered bundle raises
    the same :class:`~reflow_cli.errors.PackSafetyError` (a listed member
    that is missing: :class:`~reflow_cli.errors.PackFormatError`).
    """
    from ._loader import inspect_pack as inspect

    return inspect(path)


def list_packs() -> list[dict[str, Any]]:
    """The packs loaded into this process: ``[{name, version, path, templates}]``, in load order."""
    from ._loader import list_packs as listing

    return listing()


def install_pack(path: str | os.PathLike[str], *, all_wheels: bool = False) -> dict[str, Any]:
    """Install a bundle into the user pack folder (:func:`install_dir`); return what was installed.

    The result is ``{name, version, path, templates, target,
    installed_requirements, missing_requirements}``: ``target`` is the
    platform whose artifacts were installed (``any``, or None when none
    fits), ``installed_requirements`` those installed from the bundle's
    wheels, ``missing_requirements`` those neither the environment nor the
    bundle satisfies here.
    Every member of the bundle — also other platforms' wheels and modules,
    never extracted here — is checked against its size and SHA-256 before
    anything is written. Installing a pack again replaces it. ``all_wheels`` installs every
    requirement from the bundle's wheels into the pack's folder, even those
    the environment already has.
    """
    from ._install import install_dir, read_install_info, unpack
    from ._loader import resolve_reference

    ref = resolve_reference(path, verb="install")
    if ref.kind != "bundle":
        from ..errors import PackFormatError

        raise PackFormatError(
            f"{ref.shown}: install takes a .rflpack bundle"
            + ("; build the source folder first: reflow pack build" if ref.kind == "source" else "")
        )
    assert ref.path is not None
    folder, manifest = unpack(Path(ref.path), install_dir(), what="install pack", all_wheels=all_wheels)
    info = read_install_info(folder)
    return {
        "name": manifest["name"],
        "version": manifest["version"],
        "path": str(folder),
        "templates": list(manifest["templates"]),
        "target": info.get("target"),
        "installed_requirements": list(info.get("installed_requirements", [])),
        "missing_requirements": list(info.get("missing_requirements", [])),
    }


def remove_pack(name: str) -> Path:
    """Remove the installed pack ``name``; return the folder it was in. Loaded copies stay loaded."""
    from ._install import remove_installed

    return remove_installed(name)
