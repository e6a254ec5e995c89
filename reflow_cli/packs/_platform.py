"""Wheel platform tags: which ones this machine runs, and which of a bundle's targets fits it.

A bundle's ``targets`` are keyed by wheel platform tags (``manylinux2014_x86_64``,
``macosx_11_0_arm64``, ``win_amd64``) or ``any``. :func:`host_tags` lists the
tags this interpreter can install, best first (as pip does, without
importing pip or packaging); :func:`pick_target` chooses a bundle's target.
"""

from __future__ import annotations

import functools
import os
import platform
import re
import sys
import sysconfig
from collections.abc import Iterable

__all__ = ["ANY", "canonical_tag", "host_tag", "host_tags", "pick_target", "pip_platforms", "python_version", "tag_matches"]

#: The target key of a bundle without platform artifacts.
ANY = "any"

#: Legacy manylinux names and the glibc versions they stand for (PEP 600).
_LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def python_version() -> str:
    """``"3.11"``: the Python version wheels are chosen for."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def canonical_tag(tag: str) -> str:
    """One spelling per tag: ``manylinux2014_x86_64`` → ``manylinux_2_17_x86_64``; others unchanged."""
    tag = tag.strip().lower().replace("-", "_").replace(".", "_")
    for legacy, (major, minor) in _LEGACY.items():
        if tag.startswith(legacy + "_"):
            return f"manylinux_{major}_{minor}_{tag[len(legacy) + 1:]}"
    return tag


def _linux_arch() -> str:
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    if arch in ("i686", "i586", "i386") or (arch == "x86_64" and sys.maxsize <= 2**32):
        return "i686"
    return arch


def _glibc() -> tuple[int, int] | None:
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        return None
    match = re.match(r"glibc (\d+)\.(\d+)", text)
    return (int(match[1]), int(match[2])) if match else None


def _linux_tags() -> list[str]:
    arch = _linux_arch()
    tags: list[str] = []
    glibc = _glibc()
    if glibc is not None and glibc[0] == 2:
        for minor in range(glibc[1], 4, -1):
            tags.append(f"manylinux_2_{minor}_{arch}")
    tags.append(f"linux_{arch}")
    return tags


def _macos_tags() -> list[str]:
    release = platform.mac_ver()[0] or "10.9"
    parts = [int(p) for p in release.split(".")[:2] if p.isdigit()] + [0]
    major, minor = parts[0], parts[1]
    arch = platform.machine().lower()
    arches = [arch, "universal2"] if arch in ("arm64", "x86_64") else [arch]
    if arch == "x86_64":
        arches += ["intel", "universal"]
    versions: list[tuple[int, int]] = []
    if major >= 11:
        versions += [(m, 0) for m in range(major, 10, -1)]
        if arch == "x86_64":
            versions += [(10, m) for m in range(16, 3, -1)]
    else:
        versions += [(10, m) for m in range(minor, 3, -1)]
    return [f"macosx_{a}_{b}_{arch_}" for a, b in versions for arch_ in arches]


def _windows_tags() -> list[str]:
    machine = platform.machine().lower()
    if machine in ("arm64", "aarch64"):
        return ["win_arm64"]
    return ["win_amd64"] if sys.maxsize > 2**32 else ["win32"]


@functools.cache
def host_tags() -> tuple[str, ...]:
    """The platform tags this interpreter can install, most specific first (canonical spelling)."""
    if sys.platform.startswith("linux"):
        tags = _linux_tags()
    elif sys.platform == "darwin":
        tags = _macos_tags()
    elif sys.platform == "win32":
        tags = _windows_tags()
    else:
        tags = [sysconfig.get_platform().replace("-", "_").replace(".", "_")]
    return tuple(canonical_tag(tag) for tag in tags)


def host_tag() -> str:
    """This machine's most specific platform tag (``manylinux_2_36_x86_64``, ``macosx_14_0_arm64``, ``win_amd64``).

    As a ``--platform`` for ``reflow pack build`` it vendors wheels for every
    older compatible tag too (see :func:`pip_platforms`).
    """
    return host_tags()[0]


def pip_platforms(tag: str) -> list[str]:
    """The ``pip download --platform`` values for a target tag: the tag and every older one it runs.

    pip matches ``--platform`` exactly, but a ``manylinux_2_28_x86_64`` machine
    installs ``manylinux_2_17`` (``manylinux2014``) wheels too, and a macOS 14
    one installs wheels for macOS 11: the target gets the newest wheel that fits.
    """
    canonical = canonical_tag(tag)
    parts = canonical.split("_")
    if canonical.startswith("manylinux_") and len(parts) >= 4 and parts[1] == "2" and parts[2].isdigit():
        minor, arch = int(parts[2]), "_".join(parts[3:])
        out = [f"manylinux_2_{m}_{arch}" for m in range(minor, 4, -1)]
        out += [f"{legacy}_{arch}" for legacy, (_, m) in _LEGACY.items() if m <= minor]
        return [tag, *[t for t in out if t != tag]]
    if canonical.startswith("macosx_") and len(parts) >= 4 and parts[1].isdigit() and parts[2].isdigit():
        major, minor, arch = int(parts[1]), int(parts[2]), "_".join(parts[3:])
        versions = [(m, 0) for m in range(major, 10, -1)] if major >= 11 else []
        versions += [(10, m) for m in range(minor if major == 10 else 16, 8, -1)]
        arches = [arch, "universal2"] if arch in ("arm64", "x86_64") else [arch]
        out = [f"macosx_{a}_{b}_{x}" for a, b in versions for x in arches]
        return [tag, *[t for t in out if t != tag]]
    return [tag]


def pick_target(targets: Iterable[str]) -> str | None:
    """The key of ``targets`` this machine should use: the best host tag, else ``any``, else None."""
    keys = list(targets)
    by_canonical = {canonical_tag(key): key for key in keys if key != ANY}
    for tag in host_tags():
        if tag in by_canonical:
            return by_canonical[tag]
    # A wheel tag may name several platforms (`manylinux_2_17_x86_64.manylinux2014_x86_64`).
    for key in keys:
        if key != ANY and any(canonical_tag(part) in host_tags() for part in key.split(".")):
            return key
    return ANY if ANY in keys else None


def tag_matches(requested: str, key: str) -> bool:
    """Whether a target ``key`` is the platform ``requested`` names (any spelling)."""
    return canonical_tag(requested) == canonical_tag(key) or requested == key

