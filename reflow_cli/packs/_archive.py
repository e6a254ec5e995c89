"""Reading and writing ``.rflpack`` zips safely.

:class:`Bundle` opens a bundle and refuses it before anything is extracted
when a member could hurt: a path that is absolute or climbs out of the target
folder (``..``), a link or device, an encrypted, duplicate, oversized or
over-compressed (zip bomb) member. :meth:`Bundle.verify` then reads every
member once, in chunks, and checks it against the size and SHA-256 that
``manifest.json`` lists (``files``), and that ``files`` lists exactly the
members there are; installing, loading, inspecting and stripping all do this
before anything else. Members are written out through :meth:`Bundle.extract`,
which checks them again while streaming.

:func:`write_bundle` writes a bundle reproducibly: ``manifest.json`` first,
members sorted, fixed timestamps and permissions, so building twice from the
same sources gives the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import PackError, PackFormatError, PackSafetyError, ReferencePackError

__all__ = ["MANIFEST", "Bundle", "Limits", "MemberProblem", "file_digest", "write_bundle"]

#: The manifest's name inside a bundle.
MANIFEST = "manifest.json"

_CHUNK = 1 << 20
#: What reading a damaged member raises (a bad header, a CRC mismatch, broken deflate data).
_READ_ERRORS = (zipfile.BadZipFile, OSError, EOFError, zlib.error)
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
#: Magic numbers of native libraries (what offbit-reflow's load_pack dlopens when given a non-zip).
_NATIVE_MAGIC = {
    b"\x7fELF": "an ELF shared library",
    b"\xcf\xfa\xed\xfe": "a Mach-O library",
    b"\xce\xfa\xed\xfe": "a Mach-O library",
    b"\xca\xfe\xba\xbe": "a Mach-O universal library",
    b"MZ": "a Windows DLL",
}


@dataclass(frozen=True)
class Limits:
    """What a bundle may hold; anything beyond is refused as unsafe."""

    #: members in one bundle
    max_members: int = 50_000
    #: uncompressed bytes of one member
    max_member_size: int = 2 * 2**30
    #: uncompressed bytes of all members together
    max_total_size: int = 8 * 2**30
    #: ``manifest.json`` bytes
    max_manifest_size: int = 64 * 2**20
    #: uncompressed/compressed ratio above which a member counts as a zip bomb ...
    max_ratio: float = 200.0
    #: ... once it expands to more than this many bytes (tiny files compress well legitimately)
    ratio_floor: int = 4 * 2**20


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class MemberProblem:
    """One way a bundle member disagrees with manifest.json ``files`` (``text`` names the member)."""

    member: str
    text: str
    error: type[PackError] = PackSafetyError


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _size_text(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return str(size)  # pragma: no cover


def check_member_name(name: str, where: str) -> list[str]:
    """The path parts of a member name, or :class:`PackSafetyError` when it could escape the target folder."""
    if "\x00" in name:
        raise PackSafetyError(f"{where}: member {name!r} has a NUL character in its name; refusing the bundle")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise PackSafetyError(f"{where}: member {name!r} has an absolute path; refusing the bundle")
    if "\\" in name:
        raise PackSafetyError(f"{where}: member {name!r} uses '\\' in its path (zip paths use '/'); refusing the bundle")
    parts = name.rstrip("/").split("/")
    if any(part == ".." for part in parts):
        raise PackSafetyError(
            f"{where}: member {name!r} escapes the pack folder ('..' in its path); refusing the bundle"
        )
    if any(part in ("", ".") for part in parts):
        raise PackSafetyError(f"{where}: member {name!r} has an empty or '.' path part; refusing the bundle")
    return parts


def _kind_of(info: zipfile.ZipInfo) -> str | None:
    """What a member is when it is not a regular file or folder ("a symbolic link"), else None."""
    mode = info.external_attr >> 16
    if not mode or info.create_system != 3:  # 3 = Unix; others carry no file type bits
        return None
    kind = stat.S_IFMT(mode)
    if kind in (0, stat.S_IFREG, stat.S_IFDIR):
        return None
    if kind == stat.S_IFLNK:
        return "a symbolic link"
    return "a device, FIFO or socket"


class Bundle:
    """An open ``.rflpack`` (zip) whose members passed the safety checks.

    Use as a context manager. ``manifest_bytes`` is the raw ``manifest.json``;
    ``members`` maps each file name to its :class:`zipfile.ZipInfo`.
    """

    def __init__(self, path: str | os.PathLike[str], limits: Limits = DEFAULT_LIMITS, *, what: str = "pack") -> None:
        self.path = Path(path)
        self.limits = limits
        self.where = f"{what} '{os.fspath(path)}'"
        if self.path.is_dir():
            raise PackFormatError(f"{self.where}: is a folder, not a .rflpack bundle")
        try:
            self._zip = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile:
            raise self._not_a_zip() from None
        except OSError as exc:
            raise PackFormatError(f"{self.where}: cannot read it: {exc.strerror or exc}") from None
        try:
            self.members = self._check_members()
            info = self.members.get(MANIFEST)
            if info is None:
                raise PackFormatError(f"{self.where}: the bundle has no manifest.json at its root; is it a .rflpack?")
            if info.file_size > limits.max_manifest_size:
                raise PackSafetyError(
                    f"{self.where}: manifest.json is {_size_text(info.file_size)}, over the "
                    f"{_size_text(limits.max_manifest_size)} limit"
                )
            self.manifest_bytes = self._zip.read(info)
        except BaseException:
            self._zip.close()
            raise

    def _not_a_zip(self) -> PackFormatError:
        try:
            with open(self.path, "rb") as handle:
                head = handle.read(4)
        except OSError:  # pragma: no cover - it was readable a moment ago
            head = b""
        for magic, kind in _NATIVE_MAGIC.items():
            if head.startswith(magic):
                return ReferencePackError(
                    f"{self.where}: is {kind}, not a .rflpack bundle; offbit-reflow loads raw native "
                    "libraries, reflow loads Python packs only (see docs/packs.md, 'Reference packs')"
                )
        if not head:
            return PackFormatError(f"{self.where}: the file is empty, not a .rflpack bundle")
        return PackFormatError(f"{self.where}: not a .rflpack bundle (not a zip archive)")

    def _check_members(self) -> dict[str, zipfile.ZipInfo]:
        limits = self.limits
        infos = self._zip.infolist()
        if len(infos) > limits.max_members:
            raise PackSafetyError(f"{self.where}: {len(infos)} members, over the limit of {limits.max_members}")
        members: dict[str, zipfile.ZipInfo] = {}
        folded: dict[str, str] = {}
        total = 0
        for info in infos:
            name = info.filename
            check_member_name(name, self.where)
            kind = _kind_of(info)
            if kind is not None:
                raise PackSafetyError(
                    f"{self.where}: member {name!r} is {kind}; a pack holds regular files only"
                )
            if info.flag_bits & 0x1:
                raise PackSafetyError(f"{self.where}: member {name!r} is encrypted; refusing the bundle")
            if info.is_dir():
                continue
            if name in members:
                raise PackSafetyError(f"{self.where}: member {name!r} appears twice; refusing the bundle")
            twin = folded.get(name.lower())
            if twin is not None:
                raise PackSafetyError(
                    f"{self.where}: members {twin!r} and {name!r} differ only in case (one would overwrite "
                    "the other on some file systems); refusing the bundle"
                )
            folded[name.lower()] = name
            if info.file_size > limits.max_member_size:
                raise PackSafetyError(
                    f"{self.where}: member {name!r} is {_size_text(info.file_size)}, over the "
                    f"{_size_text(limits.max_member_size)} limit for one member"
                )
            if info.file_size > limits.ratio_floor:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > limits.max_ratio:
                    raise PackSafetyError(
                        f"{self.where}: member {name!r} expands {ratio:.0f}x ({_size_text(info.compress_size)} → "
                        f"{_size_text(info.file_size)}), over the {limits.max_ratio:.0f}x limit: refusing a "
                        "possible zip bomb"
                    )
            total += info.file_size
            if total > limits.max_total_size:
                raise PackSafetyError(
                    f"{self.where}: members add up to more than {_size_text(limits.max_total_size)}; refusing the bundle"
                )
            members[name] = info
        return members

    # -- checking and reading members --------------------------------------------------

    def _error(self, problems: Sequence[MemberProblem]) -> PackError:
        """One error for ``problems`` (not empty): the first alone, or all of them, one a line."""
        if len(problems) == 1:
            problem = problems[0]
            suffix = "; the bundle is corrupt or was altered" if problem.error is PackSafetyError else ""
            return problem.error(f"{self.where}: {problem.text}{suffix}")
        error = PackSafetyError if any(p.error is PackSafetyError for p in problems) else PackFormatError
        lines = "".join(f"\n  - {problem.text}" for problem in problems)
        return error(
            f"{self.where}: the bundle is corrupt or was altered: {len(problems)} members fail their checks:{lines}"
        )

    def _stream(self, name: str, expected: Mapping[str, Any], sink: Callable[[bytes], object] | None = None) -> MemberProblem | None:
        """Read member ``name`` in chunks (fed to ``sink``), checking its size and SHA-256; the problem, or None.

        Only reading is guarded: an error raised by ``sink`` (a full disk) propagates.
        """
        info = self.members.get(name)
        if info is None:
            return MemberProblem(name, f"manifest.json lists {name!r}, which is not in the bundle", PackFormatError)
        size = expected["size"]
        if info.file_size != size:
            return MemberProblem(name, f"member {name!r} is {info.file_size} bytes, manifest.json says {size}")
        digest = hashlib.sha256()
        seen = 0
        try:
            handle = self._zip.open(info)
        except _READ_ERRORS as exc:
            return MemberProblem(name, f"member {name!r} cannot be read: {exc}")
        with handle:
            while True:
                try:
                    chunk = handle.read(_CHUNK)
                except _READ_ERRORS as exc:
                    return MemberProblem(name, f"member {name!r} cannot be read: {exc}")
                if not chunk:
                    break
                seen += len(chunk)
                if seen > size:
                    return MemberProblem(name, f"member {name!r} holds more bytes than its header says")
                digest.update(chunk)
                if sink is not None:
                    sink(chunk)
        got = digest.hexdigest()
        if seen != size or got != expected["sha256"]:
            return MemberProblem(
                name,
                f"member {name!r} fails its SHA-256 check (manifest.json {expected['sha256'][:16]}…, member {got[:16]}…)",
            )
        return None

    def listing_problems(self, files: Mapping[str, Mapping[str, Any]]) -> list[MemberProblem]:
        """Members that ``files`` does not list, and listed members the bundle lacks (nothing is read)."""
        problems = [
            MemberProblem(name, f"member {name!r} is not listed in manifest.json `files`")
            for name in sorted(set(self.members) - set(files) - {MANIFEST})
        ]
        problems += [
            MemberProblem(name, f"manifest.json lists {name!r}, which is not in the bundle", PackFormatError)
            for name in sorted(set(files) - set(self.members))
        ]
        return problems

    def problems(self, files: Mapping[str, Mapping[str, Any]]) -> list[MemberProblem]:
        """Every way the members disagree with ``files``: the listing, then each member's size and SHA-256.

        Every listed member is read once, in chunks (never whole into memory).
        """
        problems = self.listing_problems(files)
        for name in sorted(set(files) & set(self.members)):
            problem = self._stream(name, files[name])
            if problem is not None:
                problems.append(problem)
        return problems

    def verify(self, files: Mapping[str, Mapping[str, Any]]) -> None:
        """Check every member against ``files`` (manifest.json's); raise for a corrupt or altered bundle.

        A problem with the listing alone (a listed member missing) is a
        :class:`PackFormatError`; anything else a :class:`PackSafetyError`.
        """
        problems = self.problems(files)
        if problems:
            raise self._error(problems)

    def extract(self, name: str, expected: Mapping[str, Any], target: Path, root: Path) -> None:
        """Write member ``name`` to ``target`` (inside ``root``), checking its size and hash while streaming.

        The file is created exclusively (never through an existing file or
        link); on a mismatch it is removed and :class:`PackSafetyError` raised.
        """
        real_root = os.path.realpath(root)
        parent = os.path.realpath(target.parent)
        if os.path.commonpath([real_root, parent]) != real_root:
            raise PackSafetyError(f"{self.where}: member {name!r} would be written outside {root}; refusing")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(target, "xb") as out:
                problem = self._stream(name, expected, out.write)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        if problem is not None:
            target.unlink(missing_ok=True)
            raise self._error([problem])

    def close(self) -> None:
        """Close the zip file."""
        self._zip.close()

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    # wheels and archives are compressed already: deflating them again only costs time
    info.compress_type = zipfile.ZIP_STORED if name.endswith((".whl", ".zip", ".gz", ".onnx")) else zipfile.ZIP_DEFLATED
    return info


def write_bundle(path: str | os.PathLike[str], manifest_json: bytes, members: Iterable[tuple[str, bytes | Path]]) -> Path:
    """Write a bundle reproducibly and atomically: ``manifest.json`` first, then ``members`` sorted.

    A member is ``(name, bytes)`` or ``(name, path of a file to copy)``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".rflpack-", dir=target.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(temp, "w", allowZip64=True) as archive:
            archive.writestr(_zip_info(MANIFEST), manifest_json)
            for name, content in sorted(members, key=lambda item: item[0]):
                info = _zip_info(name)
                if isinstance(content, (bytes, bytearray)):
                    archive.writestr(info, bytes(content))
                else:
                    info.file_size = os.path.getsize(content)
                    with open(content, "rb") as source, archive.open(info, "w", force_zip64=info.file_size > 2**31) as out:
                        for chunk in iter(lambda: source.read(_CHUNK), b""):
                            out.write(chunk)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target
