"""Bundles that could hurt are refused with a clear error before anything is installed or run."""

from __future__ import annotations

import stat
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest

from reflow_cli import inspect_pack, load_pack
from reflow_cli.errors import (
    PackABIError,
    PackFormatError,
    PackNotFoundError,
    PackSafetyError,
    ReferencePackError,
)
from reflow_cli.packs import install_pack
from reflow_cli.packs._archive import Bundle, Limits

from ._helpers import CODE, make_bundle, manifest_for, refused


def test_a_valid_probe_bundle_passes(tmp_path: Path) -> None:
    manifest = inspect_pack(make_bundle(tmp_path / "ok.rflpack"))
    assert manifest["name"] == "reflow.pack.probe"


def test_a_member_escaping_the_folder_is_refused(tmp_path: Path) -> None:
    members = {"code/../../evil.py": b"x"}
    path = make_bundle(tmp_path / "escape.rflpack", members, manifest_for({"code/reflow_pack_probe/__init__.py": CODE}))
    with pytest.raises(PackSafetyError, match=r"member 'code/../../evil.py' escapes the pack folder \('\.\.' in its path\)"):
        inspect_pack(path)
    refused(path, PackSafetyError, "escapes the pack folder")


def test_an_absolute_member_path_is_refused(tmp_path: Path) -> None:
    path = make_bundle(tmp_path / "abs.rflpack", extra=[("/etc/evil", b"x")])
    refused(path, PackSafetyError, "member '/etc/evil' has an absolute path")


def test_a_windows_path_is_refused(tmp_path: Path) -> None:
    path = make_bundle(tmp_path / "win.rflpack", extra=[("code\\..\\evil.py", b"x")])
    refused(path, PackSafetyError, "uses '\\\\' in its path")


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("code/reflow_pack_probe/link.py")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    path = make_bundle(tmp_path / "link.rflpack", extra=[(link, b"/etc/passwd")])
    refused(path, PackSafetyError, "member 'code/reflow_pack_probe/link.py' is a symbolic link; a pack holds regular files only")


def test_an_over_compressed_member_is_refused(tmp_path: Path) -> None:
    bomb = b"\0" * (16 * 2**20)  # 16 MiB of zeros deflate ~1000x
    members = {"code/reflow_pack_probe/__init__.py": CODE, "code/reflow_pack_probe/bomb.bin": bomb}
    path = make_bundle(tmp_path / "bomb.rflpack", members)
    refused(path, PackSafetyError, r"member 'code/reflow_pack_probe/bomb.bin' expands \d+x .* over the 200x limit: refusing a possible zip bomb")


def test_an_oversized_member_is_refused(tmp_path: Path) -> None:
    members = {"code/reflow_pack_probe/__init__.py": CODE, "code/reflow_pack_probe/big.bin": bytes(range(256)) * 64}
    path = make_bundle(tmp_path / "big.rflpack", members)
    with pytest.raises(PackSafetyError, match=r"member 'code/reflow_pack_probe/big.bin' is 16\.0 KiB, over the 1\.0 KiB limit for one member"):
        Bundle(path, Limits(max_member_size=1024))
    with pytest.raises(PackSafetyError, match="members add up to more than"):
        Bundle(path, Limits(max_total_size=4096))
    with pytest.raises(PackSafetyError, match="over the limit of 2"):
        Bundle(path, Limits(max_members=2))


def test_duplicate_and_case_twin_members_are_refused(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate it is asked to write
        path = make_bundle(tmp_path / "dup.rflpack", extra=[("code/reflow_pack_probe/__init__.py", b"other")])
    refused(path, PackSafetyError, "appears twice")
    twins = make_bundle(tmp_path / "twins.rflpack", extra=[("code/reflow_pack_probe/__INIT__.py", b"x")])
    refused(twins, PackSafetyError, "differ only in case")


def test_a_hash_mismatch_is_refused_and_nothing_is_installed(tmp_path: Path) -> None:
    members = {"code/reflow_pack_probe/__init__.py": CODE}
    manifest = manifest_for(members)
    altered = CODE.replace(b"pass", b"None")  # same size, other bytes
    path = make_bundle(tmp_path / "altered.rflpack", {"code/reflow_pack_probe/__init__.py": altered}, manifest)
    refused(path, PackSafetyError, r"member 'code/reflow_pack_probe/__init__.py' fails its SHA-256 check .* the bundle is corrupt or was altered")
    resized = make_bundle(tmp_path / "resized.rflpack", {"code/reflow_pack_probe/__init__.py": CODE + b"#"}, manifest)
    refused(resized, PackSafetyError, "manifest.json says")


def test_members_not_listed_or_missing_are_refused(tmp_path: Path) -> None:
    path = make_bundle(tmp_path / "unlisted.rflpack", extra=[("code/reflow_pack_probe/extra.py", b"x")])
    refused(path, PackSafetyError, "member 'code/reflow_pack_probe/extra.py' is not listed in manifest.json `files`")
    members = {"code/reflow_pack_probe/__init__.py": CODE}
    manifest = manifest_for({**members, "code/reflow_pack_probe/gone.py": b"x"})
    missing = make_bundle(tmp_path / "missing.rflpack", members, manifest)
    refused(missing, PackFormatError, "manifest.json lists 'code/reflow_pack_probe/gone.py', which is not in the bundle")


def test_an_unknown_abi_is_refused_but_can_be_inspected(tmp_path: Path) -> None:
    members = {"code/reflow_pack_probe/__init__.py": CODE}
    path = make_bundle(tmp_path / "abi.rflpack", members, manifest_for(members, reflow_pack_abi_version=2))
    assert inspect_pack(path)["reflow_pack_abi_version"] == 2
    refused(path, PackABIError, r"pack 'reflow.pack.probe' ABI 2 != host ABI 1 — rebuild the pack against this reflow", inspect=False)


@pytest.mark.parametrize(("changes", "message"), [
    ({"manifest_version": None}, r"at \(the top level\): 'manifest_version' is a required property"),
    ({"manifest_version": 2}, "at manifest_version: 1 was expected"),
    ({"targets": ["any"]}, r"at targets: \['any'\] is not of type 'object'"),
    ({"name": "Bad Name"}, "at name: 'Bad Name' does not match"),
    ({"entrypoint": "no.colon.here.but:"}, "at entrypoint"),
    ({"surprise": 1}, "Additional properties are not allowed .*'surprise' was unexpected.*a manifest has the fields"),
    ({"templates": ["tpl_x"]}, r"no template_meta for tpl_x \(templates and template_meta must agree\)"),
    ({"targets": {"win_amd64": {"wheels": ["wheels/x-1-py3-none-any.whl"]}}},
     "target 'win_amd64' names 'wheels/x-1-py3-none-any.whl', which `files` does not list"),
    ({"entrypoint": "somewhere_else:register"}, "the entrypoint module 'somewhere_else' is not in the bundle"),
])
def test_manifests_failing_the_schema_are_refused(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    members = {"code/reflow_pack_probe/__init__.py": CODE}
    path = make_bundle(tmp_path / "bad.rflpack", members, manifest_for(members, **changes))
    with pytest.raises(PackFormatError, match=message):
        inspect_pack(path)
    refused(path, PackFormatError, message)


def test_broken_manifest_json_is_refused(tmp_path: Path) -> None:
    for raw, message in ((b"{", "parse manifest.json: Expecting property name"),
                         (b'{"name": 1, "name": 2}', "manifest.json has the key 'name' twice"),
                         (b"[1]", "manifest.json must hold a JSON object, not list")):
        path = make_bundle(tmp_path / "broken.rflpack", manifest=raw)
        with pytest.raises(PackFormatError, match=message):
            inspect_pack(path)


def test_a_reference_rust_pack_is_recognised_and_refused(tmp_path: Path) -> None:
    manifest = {
        "manifest_version": 1, "name": "reflow.pack.ml", "version": "0.2.0", "reflow_pack_abi_version": 2442128673,
        "targets": {"x86_64-unknown-linux-gnu": {"file": "lib/x86_64-unknown-linux-gnu/libreflow_pack_ml.so"}},
        "templates": ["tpl_ml_run_inference"],
    }
    path = make_bundle(tmp_path / "reflow.pack.ml-0.2.0.rflpack", {
        "lib/x86_64-unknown-linux-gnu/libreflow_pack_ml.so": b"\x7fELF..."}, manifest)
    message = (r"pack 'reflow.pack.ml' is an offbit-reflow pack of native Rust libraries \(x86_64-unknown-linux-gnu: "
               r"lib/x86_64-unknown-linux-gnu/libreflow_pack_ml.so\); reflow loads Python packs only")
    with pytest.raises(ReferencePackError, match=message):
        inspect_pack(path)
    refused(path, ReferencePackError, message)
    raw = tmp_path / "libprobe.so"
    raw.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(60))
    refused(raw, ReferencePackError, "is an ELF shared library, not a .rflpack bundle; offbit-reflow loads raw native libraries")


def test_files_that_are_not_bundles(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.rflpack"
    garbage.write_bytes(b"not a zip at all")
    refused(garbage, PackFormatError, r"not a .rflpack bundle \(not a zip archive\)")
    empty = tmp_path / "empty.rflpack"
    empty.write_bytes(b"")
    refused(empty, PackFormatError, "the file is empty")
    no_manifest = tmp_path / "plain.rflpack"
    with zipfile.ZipFile(no_manifest, "w") as archive:
        archive.writestr("readme.txt", "hi")
    refused(no_manifest, PackFormatError, "the bundle has no manifest.json at its root")
    folder = tmp_path / "folder.rflpack"
    folder.mkdir()
    refused(folder, PackFormatError, "holds neither manifest.json")


def test_missing_files_and_names(tmp_path: Path) -> None:
    with pytest.raises(PackNotFoundError, match="inspect pack '/nonexistent/probe.rflpack': .*No such file or directory"):
        inspect_pack("/nonexistent/probe.rflpack")
    with pytest.raises(PackNotFoundError, match="load pack '/nonexistent/probe.rflpack': .*No such file or directory"):
        load_pack("/nonexistent/probe.rflpack")
    with pytest.raises(PackNotFoundError, match="no pack named 'reflow.pack.nothere' is installed"):
        load_pack("reflow.pack.nothere")
    assert isinstance(PackNotFoundError("x"), RuntimeError)  # the reference raised RuntimeError


def test_an_extraction_failure_leaves_an_earlier_install_intact(tmp_path: Path) -> None:
    members = {"code/reflow_pack_probe/__init__.py": CODE}
    good = make_bundle(tmp_path / "good.rflpack", members)
    info = install_pack(good)
    before = sorted(p.name for p in Path(info["path"]).rglob("*"))
    manifest = manifest_for(members)
    bad = make_bundle(tmp_path / "bad.rflpack", {"code/reflow_pack_probe/__init__.py": CODE.replace(b"pass", b"None")},
                      manifest)
    with pytest.raises(PackSafetyError):
        install_pack(bad)
    assert sorted(p.name for p in Path(info["path"]).rglob("*")) == before
    assert not [p for p in Path(info["path"]).parent.iterdir() if p.name.startswith(".")]
    from reflow_cli.packs import remove_pack

    remove_pack("reflow.pack.probe")
