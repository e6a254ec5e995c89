"""Integrity: every member of a bundle is checked, a pack's identity is its content, inspect reports corruption.

Three audit findings, each with real bundles built in tmp dirs:

1. a corrupt member that is never extracted (another platform's wheel or
   module, a wheel no target names) is refused by install, load, inspect and
   strip alike, while streaming (never a whole member in memory);
2. a second copy of a loaded pack with the same name and version but other
   code is a ``PackConflictError`` naming both; the same content is idempotent;
3. ``reflow pack inspect`` (and ``--json``) of a corrupt bundle reports every
   problem on stderr and exits 1.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reflow_cli import inspect_pack, list_packs, load_pack, template_list
from reflow_cli.cli import app
from reflow_cli.errors import (
    PackConflictError,
    PackError,
    PackFormatError,
    PackSafetyError,
)
from reflow_cli.packs import build_pack, install_pack, remove_pack, strip_pack
from reflow_cli.packs._install import cache_dir

from ._helpers import CODE, make_bundle, manifest_for, refused, write_pack_source

NAME = "reflow.pack.integrity"
ENTRY = "code/reflow_pack_probe/__init__.py"
WHEEL = "wheels/foo-1.0-py3-none-any.whl"
FOREIGN_MODULE = "lib/win_amd64/fast.pyd"
ZEROS = "0" * 64


def _entry(data: bytes) -> dict[str, Any]:
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def probe(path: Path, members: dict[str, bytes], files: dict[str, dict[str, Any]] | None = None,
          targets: dict[str, Any] | None = None, extra: list[tuple[str, bytes]] = ()) -> Path:
    """A probe bundle holding ``members`` (and unlisted ``extra``); ``files`` overrides manifest entries (lies)."""
    manifest = manifest_for(members, name=NAME, targets=targets or {"any": {}})
    manifest["files"].update(files or {})
    return make_bundle(path, members, manifest, extra)


def cli(*args: str, tmp_path: Path) -> Any:
    """Run ``reflow ARGS`` in-process with pack folders in ``tmp_path``."""
    env = {"REFLOW_PACK_PATH": str(tmp_path / "installed"), "REFLOW_PACK_CACHE": str(tmp_path / "cache")}
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def refused_everywhere(path: Path, error: type[PackError], match: str, tmp_path: Path) -> None:
    """inspect, install, load and strip refuse (library and CLI); nothing is installed, loaded or written."""
    refused(path, error, match)
    slim = tmp_path / "out" / "slim.rflpack"
    with pytest.raises(error, match=match):
        strip_pack(path, output=slim)
    assert not slim.parent.exists() or not list(slim.parent.iterdir())  # no slim bundle, no temp file
    for command in (("pack", "install"), ("pack", "strip"), ("pack", "inspect"), ("pack", "inspect", "--json")):
        result = cli(*command[:2], str(path), *command[2:], tmp_path=tmp_path)
        verb = command[1]
        assert result.exit_code == 1, (command, result.stdout, result.stderr)
        assert result.stderr.startswith(f"reflow pack {verb}: {verb} pack '{path}': "), (command, result.stderr)
        assert result.stdout == "", (command, result.stdout)
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "installed").exists() or not list((tmp_path / "installed").iterdir())


# -- 1. every listed member is checked, extracted or not ------------------------------------------


WHEEL_BYTES = b"PK\x03\x04 not really a wheel, never extracted here"
MODULE_BYTES = b"MZ a windows module, never extracted on this machine"


@pytest.mark.parametrize(("members", "targets"), [
    pytest.param({WHEEL: WHEEL_BYTES}, {"any": {}}, id="wheel-no-target-names"),
    pytest.param({WHEEL: WHEEL_BYTES}, {"any": {}, "win_amd64": {"python": "3.11", "wheels": [WHEEL]}},
                 id="wheel-of-another-platform"),
    pytest.param({FOREIGN_MODULE: MODULE_BYTES}, {"any": {}, "win_amd64": {"modules": [FOREIGN_MODULE]}},
                 id="module-of-another-platform"),
])
def test_a_hash_mismatch_in_a_member_never_extracted_is_refused(
    tmp_path: Path, members: dict[str, bytes], targets: dict[str, Any]
) -> None:
    name, data = next(iter(members.items()))
    path = probe(tmp_path / "bad.rflpack", {ENTRY: CODE, **members}, {name: {"size": len(data), "sha256": ZEROS}},
                 targets)
    refused_everywhere(path, PackSafetyError,
                       rf"member '{name}' fails its SHA-256 check \(manifest.json 0000000000000000…, member "
                       r"[0-9a-f]{16}…\); the bundle is corrupt or was altered", tmp_path)


def test_a_size_mismatch_in_a_member_never_extracted_is_refused(tmp_path: Path) -> None:
    wrong = {"size": len(WHEEL_BYTES) + 1, "sha256": hashlib.sha256(WHEEL_BYTES).hexdigest()}
    path = probe(tmp_path / "bad.rflpack", {ENTRY: CODE, WHEEL: WHEEL_BYTES}, {WHEEL: wrong})
    refused_everywhere(path, PackSafetyError, rf"member '{WHEEL}' is {len(WHEEL_BYTES)} bytes, manifest.json says "
                       rf"{len(WHEEL_BYTES) + 1}; the bundle is corrupt or was altered", tmp_path)


def test_a_wheel_listed_but_missing_or_present_but_unlisted_is_refused(tmp_path: Path) -> None:
    missing = probe(tmp_path / "missing.rflpack", {ENTRY: CODE}, {WHEEL: _entry(WHEEL_BYTES)})
    refused_everywhere(missing, PackFormatError, rf"manifest.json lists '{WHEEL}', which is not in the bundle", tmp_path)
    unlisted = make_bundle(tmp_path / "unlisted.rflpack", {ENTRY: CODE}, manifest_for({ENTRY: CODE}, name=NAME),
                           extra=[(WHEEL, WHEEL_BYTES)])
    refused_everywhere(unlisted, PackSafetyError, rf"member '{WHEEL}' is not listed in manifest.json `files`; the "
                       "bundle is corrupt or was altered", tmp_path)


def test_a_good_bundle_with_other_platforms_members_still_installs_loads_and_strips(tmp_path: Path) -> None:
    members = {ENTRY: CODE, WHEEL: WHEEL_BYTES, FOREIGN_MODULE: MODULE_BYTES}
    targets = {"any": {}, "win_amd64": {"python": "3.11", "wheels": [WHEEL], "modules": [FOREIGN_MODULE]}}
    path = probe(tmp_path / "good.rflpack", members, targets=targets)
    assert inspect_pack(path)["name"] == NAME
    slim = strip_pack(path, ["any"], tmp_path / "slim.rflpack")
    assert set(inspect_pack(slim)["files"]) == {ENTRY}
    info = install_pack(path)
    assert info["target"] == "any" and not (Path(info["path"]) / "code" / "fast.pyd").exists()
    assert json.loads((Path(info["path"]) / "install.json").read_text())["verified"] == "every member"
    remove_pack(NAME)


def test_a_member_damaged_inside_the_zip_is_refused_without_a_traceback(tmp_path: Path) -> None:
    """Flipped bytes in a stored member's data: zipfile's CRC check fails; that is reported like a mismatch."""
    path = tmp_path / "flipped.rflpack"
    manifest = manifest_for({ENTRY: CODE, WHEEL: WHEEL_BYTES}, name=NAME)
    with zipfile.ZipFile(path, "w") as archive:  # stored: the member's bytes appear as they are
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr(ENTRY, CODE)
        archive.writestr(WHEEL, WHEEL_BYTES)
    raw = path.read_bytes()
    at = raw.index(WHEEL_BYTES)
    path.write_bytes(raw[:at] + WHEEL_BYTES[::-1] + raw[at + len(WHEEL_BYTES):])
    refused_everywhere(path, PackSafetyError, rf"member '{WHEEL}' cannot be read: Bad CRC-32 .*; the bundle is "
                       "corrupt or was altered", tmp_path)


def _peak_bytes(action: Callable[[], object]) -> int:
    """The peak of Python memory allocated while ``action`` runs."""
    tracemalloc.start()
    try:
        action()
    except PackError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def _big_bundle(path: Path, big: str, mib: int, *, lie: bool, targets: dict[str, Any]) -> Path:
    """A bundle with a stored member ``big`` of ``mib`` MiB, written in chunks; ``lie`` lists a wrong SHA-256 for it."""
    chunk = hashlib.sha256(b"seed").digest() * 32768  # 1 MiB
    digest = hashlib.sha256()
    for _ in range(mib):
        digest.update(chunk)
    manifest = manifest_for({ENTRY: CODE}, name=NAME, targets=targets)
    manifest["files"][big] = {"size": mib * len(chunk), "sha256": ZEROS if lie else digest.hexdigest()}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr(ENTRY, CODE)
        info = zipfile.ZipInfo(big)
        info.file_size = mib * len(chunk)
        with archive.open(info, "w") as out:
            for _ in range(mib):
                out.write(chunk)
    return path


def test_members_are_checked_while_streaming_not_read_whole(tmp_path: Path) -> None:
    limit = 8 * 2**20
    targets = {"any": {}, "win_amd64": {"python": "3.11", "wheels": [WHEEL]}}
    small = _big_bundle(tmp_path / "small.rflpack", WHEEL, 1, lie=True, targets=targets)
    bad = _big_bundle(tmp_path / "bad.rflpack", WHEEL, 32, lie=True, targets=targets)
    actions: list[Callable[[Path], object]] = [inspect_pack, install_pack, load_pack,
                                               lambda path: strip_pack(path, ["any"], tmp_path / "out.rflpack")]
    for action in actions:
        _peak_bytes(functools.partial(action, small))  # warm up: first calls import their modules
        assert _peak_bytes(functools.partial(action, bad)) < limit
    with pytest.raises(PackSafetyError, match=f"member '{WHEEL}' fails its SHA-256 check"):
        inspect_pack(bad)
    good = _big_bundle(tmp_path / "good.rflpack", WHEEL, 32, lie=False, targets=targets)
    out = tmp_path / "slim-win.rflpack"
    assert _peak_bytes(lambda: strip_pack(good, ["win_amd64"], out)) < limit  # a kept member is streamed too
    assert inspect_pack(out)["files"][WHEEL]["size"] == 32 * 2**20


def test_a_cache_unpacked_without_checking_every_member_is_checked_again(tmp_path: Path) -> None:
    """A load cache written by an older reflow (which checked only what it extracted) is not trusted."""
    path = probe(tmp_path / "bad.rflpack", {ENTRY: CODE, WHEEL: WHEEL_BYTES}, {WHEEL: _entry(b"other")})
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    stale = cache_dir() / digest[:16]
    (stale / "code" / "reflow_pack_probe").mkdir(parents=True)
    (stale / "code" / "reflow_pack_probe" / "__init__.py").write_bytes(CODE)
    with zipfile.ZipFile(path) as archive:
        (stale / "manifest.json").write_bytes(archive.read("manifest.json"))
    (stale / "install.json").write_text(json.dumps({"name": NAME, "version": "0.1.0", "sha256": digest,
                                                    "target": "any"}))
    before = list_packs()
    with pytest.raises(PackSafetyError, match=f"member '{WHEEL}'"):
        load_pack(path)
    assert list_packs() == before


def test_several_problems_are_reported_together(tmp_path: Path) -> None:
    members = {ENTRY: CODE, WHEEL: WHEEL_BYTES, FOREIGN_MODULE: MODULE_BYTES}
    lies = {WHEEL: {"size": len(WHEEL_BYTES), "sha256": ZEROS}, "wheels/gone-1.0-py3-none-any.whl": _entry(b"x"),
            FOREIGN_MODULE: {"size": 3, "sha256": ZEROS}}
    path = probe(tmp_path / "bad.rflpack", members, lies, extra=[("code/reflow_pack_probe/extra.py", b"x")])
    with pytest.raises(PackSafetyError) as caught:
        inspect_pack(path)
    lines = str(caught.value).splitlines()
    assert lines[0] == f"inspect pack '{path}': the bundle is corrupt or was altered: 4 members fail their checks:"
    assert lines[1:] == [
        "  - member 'code/reflow_pack_probe/extra.py' is not listed in manifest.json `files`",
        "  - manifest.json lists 'wheels/gone-1.0-py3-none-any.whl', which is not in the bundle",
        f"  - member '{FOREIGN_MODULE}' is {len(MODULE_BYTES)} bytes, manifest.json says 3",
        (f"  - member '{WHEEL}' fails its SHA-256 check (manifest.json 0000000000000000…, member "
         f"{hashlib.sha256(WHEEL_BYTES).hexdigest()[:16]}…)"),
    ]
    shown = cli("pack", "inspect", str(path), tmp_path=tmp_path)
    assert shown.exit_code == 1 and shown.stdout == ""
    assert shown.stderr.splitlines()[1:] == lines[1:]


# -- 2. a pack's identity is its content ------------------------------------------------------------


def _twins(tmp_path: Path, name: str, module: str, template: str) -> tuple[Path, Path]:
    """Two bundles of ``name`` 0.1.0 whose code differs by one line."""
    one = build_pack(write_pack_source(tmp_path / "a", name=name, module=module, templates=(template,)), tmp_path / "a")
    two = build_pack(write_pack_source(tmp_path / "b", name=name, module=module, templates=(template,),
                                       body="EVIL = True\n"), tmp_path / "b")
    return one, two


def test_the_same_name_and_version_with_other_code_is_a_conflict_naming_both(tmp_path: Path) -> None:
    one, two = _twins(tmp_path, "reflow.pack.twin", "reflow_pack_twin", "tpl_twin")
    first = load_pack(one)
    before = template_list()
    with pytest.raises(PackConflictError, match=(
        rf"load pack '{two}': pack 'reflow.pack.twin' 0.1.0 is already loaded from {one}, and {two} holds other code "
        "under the same name and version; one process loads one copy of a pack")):
        load_pack(two)
    assert template_list() == before and [p for p in list_packs() if p["name"] == "reflow.pack.twin"] == [first]
    with pytest.raises(PackConflictError, match="holds other code"):  # refused again, not remembered as loaded
        load_pack(str(two))


def test_an_installed_pack_then_an_altered_bundle_by_path(tmp_path: Path) -> None:
    one, two = _twins(tmp_path, "reflow.pack.installedtwin", "reflow_pack_installedtwin", "tpl_installedtwin")
    info = install_pack(one)
    try:
        first = load_pack("reflow.pack.installedtwin")
        with pytest.raises(PackConflictError, match=rf"already loaded from {info['path']}, and {two} holds other code"):
            load_pack(two)
        # the same content, by other paths and other bytes: still the loaded pack
        copy = shutil.copy(one, tmp_path / "copy.rflpack")
        assert load_pack(copy) == first
        assert load_pack(one) == first
        assert load_pack(strip_pack(one, ["any"], tmp_path / "slim.rflpack")) == first
        reworded = tmp_path / "reworded.rflpack"
        with zipfile.ZipFile(one) as source, zipfile.ZipFile(reworded, "w") as out:
            for member in source.infolist():
                data = source.read(member)
                if member.filename == "manifest.json":
                    data = json.dumps({**json.loads(data), "description": "Says hello, reworded."}).encode()
                out.writestr(member, data)
        assert load_pack(reworded) == first
    finally:
        remove_pack("reflow.pack.installedtwin")


def test_a_source_folder_and_its_bundle_are_one_pack_until_the_code_changes(tmp_path: Path) -> None:
    source = write_pack_source(tmp_path / "src", name="reflow.pack.devtwin", module="reflow_pack_devtwin",
                               templates=("tpl_devtwin",))
    first = load_pack(source)
    assert load_pack(build_pack(source, tmp_path / "same")) == first
    code = source / "reflow_pack_devtwin" / "__init__.py"
    code.write_text(code.read_text() + "CHANGED = 1\n")
    changed = build_pack(source, tmp_path / "changed")
    with pytest.raises(PackConflictError, match=rf"already loaded from {source}, and {changed} holds other code"):
        load_pack(changed)
    assert load_pack(source) == first  # the very same folder: idempotent


# -- 3. inspect reports a corrupt bundle --------------------------------------------------------------


def test_inspect_reports_a_corrupt_bundle_and_exits_1(tmp_path: Path) -> None:
    good = probe(tmp_path / "good.rflpack", {ENTRY: CODE, WHEEL: WHEEL_BYTES})
    assert cli("pack", "inspect", str(good), tmp_path=tmp_path).exit_code == 0
    assert json.loads(cli("pack", "inspect", str(good), "--json", tmp_path=tmp_path).stdout)["name"] == NAME
    bad = probe(tmp_path / "bad.rflpack", {ENTRY: CODE, WHEEL: WHEEL_BYTES}, {WHEEL: _entry(WHEEL_BYTES[::-1])})
    for extra in ((), ("--json",)):
        result = cli("pack", "inspect", str(bad), *extra, tmp_path=tmp_path)
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr == (
            f"reflow pack inspect: inspect pack '{bad}': member '{WHEEL}' fails its SHA-256 check (manifest.json "
            f"{hashlib.sha256(WHEEL_BYTES[::-1]).hexdigest()[:16]}…, member "
            f"{hashlib.sha256(WHEEL_BYTES).hexdigest()[:16]}…); the bundle is corrupt or was altered\n"
        )


def test_inspect_of_an_installed_pack_reads_its_folder(tmp_path: Path) -> None:
    """An installed pack was checked whole when it was installed; inspecting it by name reads its manifest."""
    path = probe(tmp_path / "good.rflpack", {ENTRY: CODE, WHEEL: WHEEL_BYTES})
    install_pack(path)
    try:
        assert inspect_pack(NAME)["files"][WHEEL] == _entry(WHEEL_BYTES)
    finally:
        remove_pack(NAME)
