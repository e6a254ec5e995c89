"""load_pack: idempotent, conflicts name both providers, a failed load leaves nothing behind."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest

from reflow_cli import list_packs, load_pack, template_actor, template_list
from reflow_cli.errors import PackConflictError, PackLoadError
from reflow_cli.packs import build_pack
from reflow_cli.registry import default_registry

from ._helpers import write_pack_source


def test_loading_twice_is_a_no_op(tmp_path: Path) -> None:
    bundle = build_pack(write_pack_source(tmp_path / "s", name="reflow.pack.twice", module="reflow_pack_twice",
                                          templates=("tpl_twice",)), tmp_path)
    first = load_pack(bundle)
    assert load_pack(bundle) == first
    assert load_pack(str(bundle)) == first
    assert load_pack("reflow.pack.twice") == first  # by name, once loaded
    assert [p["name"] for p in list_packs()].count("reflow.pack.twice") == 1
    assert default_registry().lookup("tpl_twice").source == "pack:reflow.pack.twice"


def test_two_packs_offering_one_template_conflict_naming_both(tmp_path: Path) -> None:
    one = build_pack(write_pack_source(tmp_path / "a", name="reflow.pack.first", module="reflow_pack_first",
                                       templates=("tpl_shared", "tpl_first_only")), tmp_path)
    two = build_pack(write_pack_source(tmp_path / "b", name="reflow.pack.second", module="reflow_pack_second",
                                       templates=("tpl_second_only", "tpl_shared")), tmp_path)
    load_pack(one)
    before = template_list()
    with pytest.raises(PackConflictError, match=(
        r"template 'tpl_shared' is provided by both pack 'reflow.pack.first' 0.1.0 \(.*first-0.1.0.rflpack\) "
        r"and pack 'reflow.pack.second' 0.1.0")):
        load_pack(two)
    assert template_list() == before  # tpl_second_only was not registered either
    assert "reflow.pack.second" not in [p["name"] for p in list_packs()]
    assert "reflow_pack_second" not in sys.modules  # no pack code ran


def test_a_pack_may_not_shadow_the_catalog(tmp_path: Path) -> None:
    bundle = build_pack(write_pack_source(tmp_path / "s", name="reflow.pack.shadow", module="reflow_pack_shadow",
                                          templates=("tpl_passthrough",)), tmp_path)
    with pytest.raises(PackConflictError, match=r"template 'tpl_passthrough' is provided by both the standard catalog \(flow family\) and pack 'reflow.pack.shadow'"):
        load_pack(bundle)


def test_another_version_of_a_loaded_pack_is_refused(tmp_path: Path) -> None:
    one = build_pack(write_pack_source(tmp_path / "a", name="reflow.pack.ver", module="reflow_pack_ver",
                                       templates=("tpl_ver",)), tmp_path)
    two = build_pack(write_pack_source(tmp_path / "b", name="reflow.pack.ver", version="0.2.0",
                                       module="reflow_pack_ver", templates=("tpl_ver",)), tmp_path)
    load_pack(one)
    with pytest.raises(PackConflictError, match=r"pack 'reflow.pack.ver' 0.1.0 is already loaded from .*; this is version 0.2.0"):
        load_pack(two)


def _rewrite(bundle: Path, target: Path, change: dict) -> Path:
    """A copy of a bundle with manifest fields changed (the hashes stay right: only the manifest changes)."""
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "manifest.json":
                manifest = json.loads(data)
                manifest.update(change)
                data = json.dumps(manifest).encode()
            out.writestr(info, data)
    return target


def test_an_entrypoint_registering_other_templates_fails_cleanly(tmp_path: Path) -> None:
    bundle = build_pack(write_pack_source(tmp_path / "s", name="reflow.pack.liar", module="reflow_pack_liar",
                                          templates=("tpl_liar",)), tmp_path)
    meta = json.loads(zipfile.ZipFile(bundle).read("manifest.json"))["template_meta"]["tpl_liar"]
    lying = _rewrite(bundle, tmp_path / "lying.rflpack",
                     {"templates": ["tpl_liar", "tpl_ghost"], "template_meta": {"tpl_liar": meta, "tpl_ghost": meta}})
    with pytest.raises(PackLoadError, match="its entrypoint did not register tpl_ghost; rebuild the pack"):
        load_pack(lying)
    assert "tpl_liar" not in template_list() and "reflow_pack_liar" not in sys.modules
    assert all(p["name"] != "reflow.pack.liar" for p in list_packs())
    assert not any(part.endswith("code") and "liar" in part for part in sys.path)


def test_an_entrypoint_that_raises_is_a_load_error(tmp_path: Path) -> None:
    source = write_pack_source(tmp_path / "s", name="reflow.pack.boom", module="reflow_pack_boom",
                               templates=("tpl_boom",), body="raise_later = True\n")
    bundle = build_pack(source, tmp_path)
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    code = b"def register(registrar):\n    raise RuntimeError('no GPU today')\n"
    import hashlib

    manifest["files"]["code/reflow_pack_boom/__init__.py"] = {"size": len(code), "sha256": hashlib.sha256(code).hexdigest()}
    broken = tmp_path / "broken.rflpack"
    with zipfile.ZipFile(broken, "w") as out:
        out.writestr("manifest.json", json.dumps(manifest))
        out.writestr("code/reflow_pack_boom/__init__.py", code)
    with pytest.raises(PackLoadError, match=r"its entrypoint reflow_pack_boom:register failed: RuntimeError: no GPU today"):
        load_pack(broken)
    assert "tpl_boom" not in template_list()


def test_pack_templates_resolve_like_catalog_ones(tmp_path: Path) -> None:
    bundle = build_pack(write_pack_source(tmp_path / "s", name="reflow.pack.resolve", module="reflow_pack_resolve",
                                          templates=("tpl_resolve",)), tmp_path)
    load_pack(bundle)
    component = template_actor("tpl_resolve")
    assert component.__name__ == "Hello"
    spec = default_registry().lookup("tpl_resolve").spec
    assert spec is not None and [p.name for p in spec.inports] == ["input"]
