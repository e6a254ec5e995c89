"""Unpacking bundles into pack folders: installs, the load cache, removal, listing.

An unpacked pack is a folder::

    <name>/
      manifest.json     the bundle's manifest, as it was
      install.json      where it came from, its SHA-256, the target used
      code/             the pack's Python code (+ the target's compiled modules)
      site/             dependency wheels installed offline (only when some were missing)

Installing goes through a staging folder next to the final one and ends with
a rename, so a failure at any step (a hash mismatch, pip) leaves nothing
half-installed. Dependencies: every requirement the environment already
satisfies is left alone; the others are installed by ``pip install
--no-index --find-links`` from the bundle's wheels for this platform into the
pack's private ``site/`` folder, which loading appends to ``sys.path`` (the
environment's own packages win).

Where packs live: ``REFLOW_PACK_PATH`` (folders separated by ``os.pathsep``;
installs go to the first), else ``platformdirs.user_data_path("reflow") /
"packs"``. Bundles loaded by path unpack into a cache keyed by their SHA-256
(``REFLOW_PACK_CACHE``, else the platformdirs user cache).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import (
    PackError,
    PackFormatError,
    PackInstallError,
    PackNotFoundError,
    PackPlatformError,
)
from ._archive import MANIFEST, Bundle, file_digest
from ._manifest import check_abi, parse_manifest
from ._platform import host_tag, pick_target, python_version

__all__ = [
    "INSTALL_INFO",
    "VERIFIED",
    "cache_dir",
    "find_installed",
    "install_dir",
    "installed_packs",
    "missing_requirements",
    "pack_dirs",
    "read_folder_manifest",
    "read_install_info",
    "remove_installed",
    "unpack",
]

INSTALL_INFO = "install.json"
#: install.json's ``verified``: every member of the bundle was checked against its size and SHA-256
#: (folders unpacked by older reflows, which checked only what they extracted, lack it).
VERIFIED = "every member"
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def pack_dirs() -> list[Path]:
    """Where installed packs are looked up, in order (installs go to the first)."""
    value = os.environ.get("REFLOW_PACK_PATH", "")
    folders = [Path(part).expanduser() for part in value.split(os.pathsep) if part.strip()]
    if folders:
        return folders
    import platformdirs

    return [platformdirs.user_data_path("reflow") / "packs"]


def install_dir() -> Path:
    """The folder ``reflow pack install`` writes to."""
    return pack_dirs()[0]


def cache_dir() -> Path:
    """Where bundles loaded by path are unpacked (by SHA-256)."""
    value = os.environ.get("REFLOW_PACK_CACHE", "").strip()
    if value:
        return Path(value).expanduser()
    import platformdirs

    return platformdirs.user_cache_path("reflow") / "packs"


def read_folder_manifest(folder: Path) -> dict[str, Any]:
    """The checked manifest of an unpacked pack folder."""
    path = folder / MANIFEST
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PackNotFoundError(f"pack folder '{folder}': no manifest.json in it") from None
    except OSError as exc:
        raise PackFormatError(f"pack folder '{folder}': cannot read manifest.json: {exc.strerror or exc}") from None
    return parse_manifest(raw, f"pack folder '{folder}'")


def _installed_folders() -> Iterator[Path]:
    for base in pack_dirs():
        if not base.is_dir():
            continue
        for child in sorted(base.iterdir()):
            if child.is_dir() and not child.name.startswith(".") and (child / MANIFEST).is_file():
                yield child


def find_installed(name: str) -> Path | None:
    """The folder of the installed pack ``name`` (first in :func:`pack_dirs` order), else None."""
    for base in pack_dirs():
        folder = base / name
        if (folder / MANIFEST).is_file():
            return folder
    return None


def installed_packs() -> list[dict[str, Any]]:
    """Every installed pack: ``{name, version, path, templates, target}``, shadowed duplicates left out."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for folder in _installed_folders():
        if folder.name in seen:
            continue
        try:
            manifest = read_folder_manifest(folder)
        except PackError:
            continue  # a broken folder is not a pack; `reflow pack remove` still removes it
        seen.add(folder.name)
        info = read_install_info(folder)
        out.append({
            "name": manifest["name"],
            "version": manifest["version"],
            "path": str(folder),
            "templates": list(manifest["templates"]),
            "target": info.get("target"),
        })
    return out


def read_install_info(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / INSTALL_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# -- requirements ---------------------------------------------------------------------------


def _requirement_satisfied(requirement: str) -> bool:
    from importlib import metadata

    match = _REQUIREMENT_NAME.match(requirement)
    if match is None:
        return False
    if ";" in requirement:
        marker = requirement.split(";", 1)[1]
        with contextlib.suppress(ImportError, ValueError):
            from packaging.markers import Marker

            if not Marker(marker).evaluate():
                return True  # not for this environment
    try:
        version = metadata.version(match[1])
    except metadata.PackageNotFoundError:
        return False
    try:
        from packaging.requirements import Requirement
    except ImportError:  # without packaging, presence is what we can tell
        return True
    try:
        return Requirement(requirement.split(";", 1)[0]).specifier.contains(version, prereleases=True)
    except ValueError:
        return True


def missing_requirements(requirements: Iterable[str]) -> list[str]:
    """The requirements this environment does not satisfy."""
    return [req for req in requirements if not _requirement_satisfied(req)]


# -- unpacking --------------------------------------------------------------------------------


def _pip_offline(wheels: Path, site: Path, requirements: list[str], where: str) -> None:
    command = [
        sys.executable, "-m", "pip", "install", "--no-index", "--find-links", str(wheels), "--target", str(site),
        "--no-warn-script-location", "--disable-pip-version-check", "--no-input", "--quiet", *requirements,
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PackInstallError(f"{where}: installing the vendored wheels failed: {exc}") from None
    if done.returncode != 0:
        text = (done.stderr or done.stdout).strip()
        if "No module named pip" in text:
            raise PackInstallError(f"{where}: installing the vendored wheels needs pip in this environment (python -m pip)")
        tail = "\n".join(text.splitlines()[-8:])
        raise PackInstallError(f"{where}: pip could not install the vendored wheels offline ({' '.join(requirements)}):\n{tail}")


def _swap_into_place(staging: Path, final: Path) -> None:
    """Replace ``final`` by ``staging`` with renames only (the old folder goes last)."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
        os.replace(final, old)
    try:
        os.replace(staging, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def unpack(
    bundle_path: Path,
    parent: Path,
    folder_name: str | None = None,
    *,
    what: str = "pack",
    all_wheels: bool = False,
    digest: str | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Unpack a bundle into ``parent/<folder_name or pack name>``: check, extract, install wheels, rename.

    Returns the folder and the manifest. Refuses unknown ABIs, unsafe
    members, and bundles without a build for this platform (when the pack's
    requirements are not installed here either). Every member listed in
    ``files`` — also the wheels and modules of other platforms, which are
    never extracted — is checked against its size and SHA-256 before
    anything is written: a corrupt or altered bundle is refused whole.
    ``all_wheels`` installs every requirement from the bundle's wheels, even
    those the environment already satisfies (a self-contained pack folder).
    ``digest`` is the bundle's SHA-256 when the caller has it already.
    """
    where = f"{what} '{bundle_path}'"
    if not bundle_path.exists():
        raise PackNotFoundError(f"{where}: No such file or directory")
    if digest is None:
        digest = file_digest(bundle_path) if bundle_path.is_file() else ""
    with Bundle(bundle_path, what=what) as bundle:
        manifest = parse_manifest(bundle.manifest_bytes, where)
        check_abi(manifest, where)
        files = manifest["files"]
        bundle.verify(files)  # every member, extracted or not, before anything is written
        key = pick_target(manifest["targets"])
        target = manifest["targets"].get(key, {}) if key is not None else {}
        missing = list(manifest["requires"]) if all_wheels else missing_requirements(manifest["requires"])
        if all_wheels and missing and not target.get("wheels"):
            raise PackPlatformError(
                f"{where}: pack {manifest['name']!r} carries no wheels for platform {key or host_tag()}; "
                f"build it with `reflow pack build --platform {host_tag()}`"
            )
        if missing and key is None:
            raise PackPlatformError(
                    f"{where}: pack {manifest['name']!r} has no build for platform {host_tag()} (bundle includes: "
                    f"{', '.join(sorted(manifest['targets']))}) and its requirements {', '.join(missing)} are not "
                    "installed here; install them (pip install ...) or use a bundle built with "
                f"`reflow pack build --platform {host_tag()}`"
            )
        if missing and target.get("wheels") and target.get("python", python_version()) != python_version():
            raise PackPlatformError(
                f"{where}: the wheels for {key} were downloaded for Python {target['python']}, this is Python "
                f"{python_version()}; rebuild the pack with `reflow pack build --python-version {python_version()}`"
            )
        parent.mkdir(parents=True, exist_ok=True)
        final = parent / (folder_name or manifest["name"])
        staging = Path(tempfile.mkdtemp(prefix=f".staging-{final.name}-", dir=parent))
        try:
            code = staging / "code"
            code.mkdir()
            for name, expected in files.items():
                if name.startswith("code/"):
                    bundle.extract(name, expected, staging / name, staging)
            for name in target.get("modules", ()):
                relative = name.split("/", 2)[2]
                bundle.extract(name, files[name], code / relative, staging)
            if missing and target.get("wheels"):
                wheels = staging / ".wheels"
                for name in target["wheels"]:
                    bundle.extract(name, files[name], wheels / name.rsplit("/", 1)[-1], staging)
                _pip_offline(wheels, staging / "site", missing, where)
                shutil.rmtree(wheels)
            (staging / MANIFEST).write_bytes(bundle.manifest_bytes)
            info = {
                "name": manifest["name"],
                "version": manifest["version"],
                "source": str(bundle_path.resolve()),
                "sha256": digest,
                "verified": VERIFIED,
                "target": key,
                "installed_requirements": missing if target.get("wheels") else [],
                "missing_requirements": [] if target.get("wheels") else missing,
                "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "reflow_version": __version__,
            }
            (staging / INSTALL_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
            _swap_into_place(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return final, manifest


def remove_installed(name: str) -> Path:
    """Remove the installed pack ``name`` (from the first pack folder that has it); return its folder."""
    for base in pack_dirs():
        folder = base / name
        if folder.is_dir() and ((folder / MANIFEST).exists() or (folder / INSTALL_INFO).exists()):
            doomed = folder.with_name(f".removing-{name}-{uuid.uuid4().hex[:8]}")
            try:
                os.replace(folder, doomed)
            except OSError as exc:
                raise PackInstallError(f"cannot remove pack {name!r} from {folder}: {exc.strerror or exc}") from None
            shutil.rmtree(doomed, ignore_errors=True)
            return folder
    installed = [info["name"] for info in installed_packs()]
    hint = f" (installed: {', '.join(installed)})" if installed else " (no packs are installed)"
    raise PackNotFoundError(f"no installed pack named {name!r} in {os.pathsep.join(map(str, pack_dirs()))}{hint}")
