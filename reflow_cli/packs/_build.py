"""``reflow pack build`` and ``reflow pack strip``: writing bundles.

Building reads ``pack.yaml``, calls the entrypoint in a child process to
record every template's metadata, copies the code under ``code/``, and for
each ``--platform TAG`` vendors the requirements' wheels (``pip download
--only-binary=:all: --platform TAG --python-version X.Y``) so the pack
installs offline there. Identical wheels (pure ``py3-none-any`` ones) are
stored once and listed by every target that needs them.

Stripping keeps one platform's target (the host's by default) and drops the
others' wheels and modules: a *slim* bundle, still valid and verifiable.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..errors import PackBuildError, PackPlatformError
from ._archive import Bundle, file_digest, write_bundle
from ._manifest import parse_manifest
from ._platform import (
    ANY,
    host_tag,
    pick_target,
    pip_platforms,
    python_version,
    tag_matches,
)
from ._source import PackSource, collect_in_child, read_source

__all__ = ["build_pack", "bundle_name", "strip_pack"]

_SKIP_DIRS = {"__pycache__", ".git", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
_SKIP_SUFFIXES = (".pyc", ".pyo")


def bundle_name(name: str, version: str, tag: str | None = None) -> str:
    """``<name>-<version>.rflpack`` (full) or ``<name>-<version>-<tag>.rflpack`` (slim)."""
    return f"{name}-{version}-{tag}.rflpack" if tag else f"{name}-{version}.rflpack"


def _output_path(output: str | os.PathLike[str] | None, default_name: str, default_dir: Path) -> Path:
    if output is None:
        return default_dir / default_name
    path = Path(output)
    # a folder unless it names a .rflpack file (`-o dist` and `-o dist/` both mean the folder dist)
    if path.is_dir() or os.fspath(output).endswith(("/", os.sep)) or path.suffix != ".rflpack":
        return path / default_name
    return path


def _code_members(source: PackSource) -> list[tuple[str, Path]]:
    members: list[tuple[str, Path]] = []
    for path in source.code_paths():
        if path.is_symlink():
            raise PackBuildError(f"pack source {source.folder}: {path.name} is a symbolic link; packs hold regular files only")
        if path.is_file():
            members.append((f"code/{path.name}", path))
            continue
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
            for name in sorted(files):
                if name.endswith(_SKIP_SUFFIXES) or name.startswith("."):
                    continue
                file = Path(folder) / name
                if file.is_symlink():
                    raise PackBuildError(
                        f"pack source {source.folder}: {file.relative_to(source.folder)} is a symbolic link; "
                        "packs hold regular files only"
                    )
                members.append((f"code/{file.relative_to(source.folder).as_posix()}", file))
    return members


def _pip_download(requires: list[str], tag: str, python: str, dest: Path, where: str) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    platforms = [arg for each in pip_platforms(tag) for arg in ("--platform", each)]
    command = [
        sys.executable, "-m", "pip", "download", "--only-binary=:all:", *platforms, "--python-version", python,
        "--dest", str(dest), "--disable-pip-version-check", "--no-input", "--quiet", *requires,
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PackBuildError(f"{where}: pip download for {tag} failed: {exc}") from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
        raise PackBuildError(
            f"{where}: pip download --platform {tag} --python-version {python} could not get wheels for "
            f"{' '.join(requires)}:\n{tail}"
        )
    return sorted(dest.glob("*.whl"))


def _hash(content: bytes | Path) -> dict[str, Any]:
    if isinstance(content, Path):
        return {"size": content.stat().st_size, "sha256": file_digest(content)}
    return {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def build_pack(
    folder: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    platforms: list[str] | tuple[str, ...] = (),
    python: str | None = None,
) -> Path:
    """Build a ``.rflpack`` from a pack source folder; return its path.

    ``output`` is a file or a folder (default: ``<name>-<version>.rflpack`` in
    the working directory). Each of ``platforms`` (wheel platform tags) gets a
    target with the requirements' wheels for ``python`` (default: this
    Python's ``X.Y``).
    """
    source = read_source(folder)
    where = f"pack source {os.fspath(folder)}"
    meta = collect_in_child(source)
    python = python or python_version()
    members: dict[str, bytes | Path] = dict(_code_members(source))
    targets: dict[str, dict[str, Any]] = {}
    tags = list(dict.fromkeys([*platforms, *source.modules]))
    with tempfile.TemporaryDirectory(prefix="reflow-pack-build-") as temp:
        for index, tag in enumerate(tags):
            target: dict[str, Any] = {}
            if tag in platforms and source.requires:
                wheels = _pip_download(source.requires, tag, python, Path(temp) / str(index), where)
                names = []
                for wheel in wheels:
                    name = f"wheels/{wheel.name}"
                    if name in members and _hash(members[name])["sha256"] != file_digest(wheel):
                        raise PackBuildError(f"{where}: two different wheels are called {wheel.name}")
                    members[name] = wheel
                    names.append(name)
                target = {"python": python, "wheels": sorted(names)}
            modules = []
            for item in source.modules.get(tag, ()):
                path = source.folder / item
                if not path.is_file() or path.is_symlink():
                    raise PackBuildError(f"{where}: module {item!r} for {tag} is not a regular file")
                name = f"lib/{tag}/{path.name}"
                members[name] = path
                modules.append(name)
            if modules:
                target["modules"] = sorted(modules)
            targets[tag] = target
        if not targets:
            targets[ANY] = {}
        files = {name: _hash(content) for name, content in sorted(members.items())}
        manifest = source.manifest(meta, targets=targets, files=files)
        raw = _manifest_bytes(manifest)
        parse_manifest(raw, where)  # what we write must read back
        target_path = _output_path(output, bundle_name(source.name, source.version), Path.cwd())
        return write_bundle(target_path, raw, list(members.items()))


def _kept_members(manifest: dict[str, Any], keep: list[str]) -> list[str]:
    """The members a slim bundle keeps: the code and the kept targets' wheels and modules, sorted."""
    wanted = {name for name in manifest["files"] if name.startswith("code/")}
    for key in keep:
        wanted.update(manifest["targets"][key].get("wheels", ()))
        wanted.update(manifest["targets"][key].get("modules", ()))
    return sorted(wanted)


def _targets_to_keep(manifest: dict[str, Any], platforms: list[str] | tuple[str, ...], where: str) -> list[str]:
    """The target keys matching ``platforms`` (default: this machine's best), or :class:`PackPlatformError`."""
    targets = manifest["targets"]
    if not platforms:
        found = pick_target(targets)
        if found is None:
            raise PackPlatformError(
                f"{where}: pack {manifest['name']!r} has no build for platform {host_tag()} "
                f"(bundle includes: {', '.join(sorted(targets))}); name one with --platform"
            )
        return [found]
    keep: list[str] = []
    for tag in platforms:
        found = next((key for key in targets if tag_matches(tag, key)), None)
        if found is None:
            raise PackPlatformError(
                f"{where}: pack {manifest['name']!r} has no build for platform {tag} "
                f"(bundle includes: {', '.join(sorted(targets))})"
            )
        keep.append(found)
    return list(dict.fromkeys(keep))


def strip_pack(
    path: str | os.PathLike[str],
    platforms: list[str] | tuple[str, ...] = (),
    output: str | os.PathLike[str] | None = None,
) -> Path:
    """Write a slim copy of a bundle holding only the targets for ``platforms`` (default: this machine's).

    The output is ``<name>-<version>-<tag>.rflpack`` next to the input
    unless ``output`` says otherwise. Every member of the input — also those
    dropped — is checked against its size and SHA-256 first: a corrupt or
    altered bundle is refused and nothing is written. Members are streamed
    through a temporary folder, never held in memory whole.
    """
    where = f"strip pack '{os.fspath(path)}'"
    with Bundle(path, what="strip pack") as bundle, tempfile.TemporaryDirectory(prefix="reflow-pack-strip-") as temp:
        manifest = parse_manifest(bundle.manifest_bytes, where)
        keep = _targets_to_keep(manifest, platforms, where)
        bundle.verify(manifest["files"])
        members: list[tuple[str, bytes | Path]] = []
        for index, name in enumerate(_kept_members(manifest, keep)):
            copy = Path(temp) / str(index)
            bundle.extract(name, manifest["files"][name], copy, Path(temp))
            members.append((name, copy))
        files = {name: manifest["files"][name] for name, _ in members}
        slim = {**manifest, "targets": {key: manifest["targets"][key] for key in keep}, "files": files}
        raw = _manifest_bytes(slim)
        parse_manifest(raw, where)
        default = bundle_name(slim["name"], slim["version"], ".".join(keep))
        return write_bundle(_output_path(output, default, Path(path).resolve().parent), raw, members)
