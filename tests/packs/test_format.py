"""The .rflpack format: build → inspect → strip → install → load → run, manifests, reproducible builds."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import reflow_cli
from reflow_cli import (
    Network,
    inspect_pack,
    list_packs,
    load_pack,
    pack_abi_version,
    template_list,
)
from reflow_cli.packs import (
    build_pack,
    install_pack,
    installed_packs,
    remove_pack,
    strip_pack,
)
from reflow_cli.packs._manifest import pack_schema

from ._helpers import write_pack_source

MANIFEST_FIELDS = {
    # the reference's ten PackManifest fields
    "manifest_version", "name", "version", "reflow_pack_abi_version", "targets", "templates", "authors",
    "description", "license", "entrypoint",
    # ours
    "template_meta", "requires", "files", "reflow_version",
}


def greet(template: str, name: str = "ada", config: dict[str, Any] | None = None) -> str:
    net = Network()
    collected: list[str] = []
    net.register_actor("collect", reflow_cli.Actor.from_callback(
        "collect", ["in"], [], lambda ctx: collected.append(ctx.inputs["in"]["data"])))
    net.add_node("g", template, config)
    net.add_node("c", "collect")
    net.add_connection("g", "output", "c", "in")
    net.add_initial("g", "input", {"type": "String", "data": name})
    assert net.run(timeout=10).state.name == "COMPLETE"
    return collected[0]


def test_pack_abi_version_is_a_small_int() -> None:
    assert pack_abi_version() == 1
    assert isinstance(pack_abi_version(), int)


def test_the_manifest_schema_is_documented_and_its_examples_validate() -> None:
    schema = pack_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for example in schema["examples"]:
        validator.validate(example)
    for name, sub in {**schema["properties"], **schema["$defs"]}.items():
        assert sub.get("description"), name
        assert sub.get("examples"), name
    assert set(schema["properties"]) == MANIFEST_FIELDS


def test_build_writes_a_manifest_with_every_field_and_hashes(tmp_path: Path) -> None:
    source = write_pack_source(tmp_path / "src", name="reflow.pack.fmt", module="reflow_pack_fmt",
                               templates=("tpl_fmt_a", "tpl_fmt_b"))
    bundle = build_pack(source, tmp_path / "out/")
    assert bundle.name == "reflow.pack.fmt-0.1.0.rflpack"
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
        assert names[0] == "manifest.json"
        for name, entry in manifest["files"].items():
            data = archive.read(name)
            assert entry == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        assert set(names) == {"manifest.json", *manifest["files"]}
    assert set(manifest) == MANIFEST_FIELDS
    assert manifest["templates"] == ["tpl_fmt_a", "tpl_fmt_b"]
    assert manifest["targets"] == {"any": {}}
    assert manifest["entrypoint"] == "reflow_pack_fmt:register"
    meta = manifest["template_meta"]["tpl_fmt_a"]
    assert meta["inports"] == [{"name": "input", "type": "String", "description": "a name"}]
    assert meta["config_schema"]["properties"]["greeting"]["default"] == "hello"
    assert "reflow_pack_fmt" not in __import__("sys").modules  # the templates were read in a child process


def test_builds_are_reproducible(tmp_path: Path) -> None:
    source = write_pack_source(tmp_path / "src", name="reflow.pack.same", module="reflow_pack_same")
    first = build_pack(source, tmp_path / "a.rflpack").read_bytes()
    second = build_pack(source, tmp_path / "b.rflpack").read_bytes()
    assert first == second


def test_inspect_returns_the_manifest_with_defaults_and_reads_only(tmp_path: Path) -> None:
    source = write_pack_source(tmp_path / "src", name="reflow.pack.peek", module="reflow_pack_peek",
                               templates=("tpl_peek",))
    bundle = build_pack(source, tmp_path)
    manifest = inspect_pack(bundle)
    assert manifest["name"] == "reflow.pack.peek"
    assert manifest["authors"] == [] and manifest["requires"] == []  # defaults filled in
    assert "tpl_peek" not in template_list()  # nothing was loaded
    assert all(pack["name"] != "reflow.pack.peek" for pack in list_packs())


def test_build_strip_install_load_run_remove(tmp_path: Path, pack_folders: dict[str, Path]) -> None:
    source = write_pack_source(tmp_path / "src", name="reflow.pack.flow", module="reflow_pack_flow",
                               templates=("tpl_flow_hello",))
    full = build_pack(source, tmp_path / "dist/")
    slim = strip_pack(full)
    assert slim.name == "reflow.pack.flow-0.1.0-any.rflpack"
    assert inspect_pack(slim)["targets"] == {"any": {}}
    info = install_pack(slim)
    assert info["name"] == "reflow.pack.flow" and info["target"] == "any" and info["missing_requirements"] == []
    folder = Path(info["path"])
    assert folder.parent == pack_folders["REFLOW_PACK_PATH"]
    assert (folder / "manifest.json").is_file() and (folder / "code" / "reflow_pack_flow" / "__init__.py").is_file()
    assert [p["name"] for p in installed_packs()].count("reflow.pack.flow") == 1
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no staging left behind

    loaded = load_pack("reflow.pack.flow")  # by installed name
    assert loaded == {"name": "reflow.pack.flow", "version": "0.1.0", "path": str(folder), "templates": ["tpl_flow_hello"]}
    assert load_pack("reflow.pack.flow") == loaded  # idempotent
    assert load_pack(full) == loaded  # the same pack by another path: already loaded
    assert loaded in list_packs()
    assert "tpl_flow_hello" in template_list()
    assert greet("tpl_flow_hello", config={"greeting": "hi"}) == "hi ada"
    assert callable(reflow_cli.template_actor("tpl_flow_hello"))

    assert remove_pack("reflow.pack.flow") == folder
    assert not folder.exists()
    with pytest.raises(reflow_cli.errors.PackNotFoundError, match="no installed pack named 'reflow.pack.flow'"):
        remove_pack("reflow.pack.flow")


def test_a_bundle_loads_by_path_through_the_cache(tmp_path: Path, pack_folders: dict[str, Path]) -> None:
    source = write_pack_source(tmp_path / "src", name="reflow.pack.bypath", module="reflow_pack_bypath",
                               templates=("tpl_bypath",))
    bundle = build_pack(source, tmp_path)
    info = load_pack(bundle)
    assert info["path"] == str(bundle)
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    assert (pack_folders["REFLOW_PACK_CACHE"] / digest[:16] / "manifest.json").is_file()
    assert greet("tpl_bypath") == "hello ada"


def test_installing_again_replaces_the_installed_version(tmp_path: Path) -> None:
    one = build_pack(write_pack_source(tmp_path / "v1", name="reflow.pack.upgrade", module="reflow_pack_upgrade"),
                     tmp_path)
    two = build_pack(write_pack_source(tmp_path / "v2", name="reflow.pack.upgrade", version="0.2.0",
                                       module="reflow_pack_upgrade"), tmp_path)
    install_pack(one)
    info = install_pack(two)
    assert [p["version"] for p in installed_packs() if p["name"] == "reflow.pack.upgrade"] == ["0.2.0"]
    assert json.loads((Path(info["path"]) / "manifest.json").read_text())["version"] == "0.2.0"
    remove_pack("reflow.pack.upgrade")


def test_strip_keeps_one_platform_and_names_the_file_after_it(tmp_path: Path) -> None:
    modules = tmp_path / "src" / "prebuilt"
    modules.mkdir(parents=True)
    (modules / "fast_linux.so").write_bytes(b"\x7fELF linux")
    (modules / "fast_win.pyd").write_bytes(b"MZ windows")
    source = write_pack_source(
        tmp_path / "src", name="reflow.pack.multi", module="reflow_pack_multi",
        extra_yaml="modules:\n  manylinux2014_x86_64: [prebuilt/fast_linux.so]\n  win_amd64: [prebuilt/fast_win.pyd]\n")
    full = build_pack(source, tmp_path)
    assert set(inspect_pack(full)["targets"]) == {"manylinux2014_x86_64", "win_amd64"}
    slim = strip_pack(full, ["win_amd64"])
    assert slim.name == "reflow.pack.multi-0.1.0-win_amd64.rflpack"
    manifest = inspect_pack(slim)
    assert manifest["targets"] == {"win_amd64": {"modules": ["lib/win_amd64/fast_win.pyd"]}}
    assert "lib/manylinux2014_x86_64/fast_linux.so" not in manifest["files"]
    assert slim.stat().st_size < full.stat().st_size
    alias = strip_pack(full, ["manylinux_2_17_x86_64"], tmp_path / "alias.rflpack")  # another spelling, same tag
    assert set(inspect_pack(alias)["targets"]) == {"manylinux2014_x86_64"}
    with pytest.raises(reflow_cli.errors.PackPlatformError,
                       match=r"has no build for platform macosx_11_0_arm64 \(bundle includes: manylinux2014_x86_64, win_amd64\)"):
        strip_pack(full, ["macosx_11_0_arm64"])


def test_a_pack_source_folder_loads_for_development(tmp_path: Path) -> None:
    source = write_pack_source(tmp_path / "src", name="reflow.pack.dev", module="reflow_pack_dev",
                               templates=("tpl_dev",))
    info = load_pack(source)
    assert info["templates"] == ["tpl_dev"] and info["path"] == str(source)
    assert greet("tpl_dev") == "hello ada"
