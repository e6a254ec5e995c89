"""Platform tags, and a real multi-platform bundle: one small binary wheel per platform, installed offline."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from reflow_cli import load_pack
from reflow_cli.errors import PackBuildError
from reflow_cli.packs import (
    build_pack,
    inspect_pack,
    install_pack,
    remove_pack,
    strip_pack,
)
from reflow_cli.packs._platform import canonical_tag, host_tag, host_tags, pick_target

from ._helpers import write_pack_source

#: A tiny binary wheel published for every platform (about 20 KiB each).
WHEEL = "markupsafe==3.0.2"


def test_canonical_tags() -> None:
    assert canonical_tag("manylinux2014_x86_64") == "manylinux_2_17_x86_64"
    assert canonical_tag("manylinux1_x86_64") == "manylinux_2_5_x86_64"
    assert canonical_tag("macosx-11.0-arm64") == "macosx_11_0_arm64"
    assert canonical_tag("win_amd64") == "win_amd64"


def test_the_host_picks_its_best_target() -> None:
    tags = host_tags()
    assert tags and all(tag == canonical_tag(tag) for tag in tags)
    assert canonical_tag(host_tag()) in tags
    assert pick_target({"any": {}}) == "any"
    assert pick_target({"definitely_not_a_platform": {}}) is None
    assert pick_target({"definitely_not_a_platform": {}, host_tag(): {}, "any": {}}) == host_tag()


def _other_tag() -> str:
    return "macosx_11_0_arm64" if sys.platform != "darwin" else "win_amd64"


@pytest.fixture(scope="module")
def multi_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("multi")
    body = '''
from reflow_cli import Actor as _Actor, Message as _Message, PortSpec as _PortSpec

class Escape(_Actor):
    """Escapes HTML with markupsafe (a vendored binary wheel)."""
    component = "escape"
    inports = [_PortSpec("input", "String")]
    outports = [_PortSpec("output", "String")]

    def run(self, ctx):
        import markupsafe
        ctx.done({"output": _Message.string(str(markupsafe.escape(ctx.inputs["input"]["data"])))})

def register(registrar):
    registrar.register("tpl_escape", Escape)
'''
    source = write_pack_source(folder / "src", name="reflow.pack.escape", module="reflow_pack_escape",
                               templates=(), requires=(WHEEL,), body=body)
    quick = {"PIP_DEFAULT_TIMEOUT": "20", "PIP_RETRIES": "1"}  # offline, pip would retry for minutes
    saved = {key: os.environ.get(key) for key in quick}
    os.environ.update(quick)
    try:
        return build_pack(source, folder / "dist", platforms=[host_tag(), _other_tag()])
    except PackBuildError as exc:
        if "Could not find a version" in str(exc) or "NewConnectionError" in str(exc) or "Network is unreachable" in str(exc):
            pytest.skip(f"PyPI is not reachable from here, so no wheels can be vendored: {exc}")
        raise
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_a_full_bundle_vendors_one_wheel_per_platform(multi_bundle: Path) -> None:
    manifest = inspect_pack(multi_bundle)
    assert set(manifest["targets"]) == {host_tag(), _other_tag()}
    for target in manifest["targets"].values():
        (wheel,) = target["wheels"]
        assert wheel.startswith("wheels/MarkupSafe-3.0.2-cp") and wheel.endswith(".whl")
        assert target["python"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert len({t["wheels"][0] for t in manifest["targets"].values()}) == 2  # one binary wheel each
    assert manifest["requires"] == [WHEEL]


def test_strip_install_offline_and_run(multi_bundle: Path, tmp_path: Path) -> None:
    slim = strip_pack(multi_bundle, output=tmp_path / "slim.rflpack")
    manifest = inspect_pack(slim)
    assert set(manifest["targets"]) == {host_tag()}
    with zipfile.ZipFile(slim) as archive:
        assert [n for n in archive.namelist() if n.startswith("wheels/")] == manifest["targets"][host_tag()]["wheels"]
    assert slim.stat().st_size < multi_bundle.stat().st_size
    missing_here = importlib.util.find_spec("markupsafe") is None
    info = install_pack(slim)
    folder = Path(info["path"])
    try:
        assert info["target"] == host_tag() and info["missing_requirements"] == []
        if missing_here:  # pip installed the vendored wheel offline into the pack's own site folder
            assert info["installed_requirements"] == [WHEEL]
            assert list((folder / "site").glob("markupsafe/__init__.py"))
        install = json.loads((folder / "install.json").read_text())
        assert install["sha256"] and install["target"] == host_tag()
        code = ("import sys; from reflow_cli import load_pack, Network, Message; load_pack('reflow.pack.escape');"
                "net = Network(); out = [];"
                "net.register_actor('c', __import__('reflow_cli').Actor.from_callback('c', ['in'], [], "
                "lambda ctx: out.append(ctx.inputs['in']['data'])));"
                "net.add_node('e', 'tpl_escape'); net.add_node('c', 'c'); net.add_connection('e', 'output', 'c', 'in');"
                "net.add_initial('e', 'input', {'type': 'String', 'data': '<b>&'}); net.run(timeout=10); print(out[0])")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "&lt;b&gt;&amp;"
    finally:
        remove_pack("reflow.pack.escape")


def test_all_wheels_installs_even_what_the_environment_has(multi_bundle: Path, tmp_path: Path) -> None:
    info = install_pack(multi_bundle, all_wheels=True)
    try:
        assert info["installed_requirements"] == [WHEEL]
        assert list((Path(info["path"]) / "site").glob("markupsafe/__init__.py"))
    finally:
        remove_pack("reflow.pack.escape")


def test_a_bundle_only_for_other_platforms_is_refused_when_its_requirements_are_missing(multi_bundle: Path,
                                                                                        tmp_path: Path) -> None:
    foreign = strip_pack(multi_bundle, [_other_tag()], tmp_path / "foreign.rflpack")
    if importlib.util.find_spec("markupsafe") is not None:
        pytest.skip("markupsafe is installed here, so the foreign bundle installs (its requirement is met)")
    from reflow_cli.errors import PackPlatformError

    with pytest.raises(PackPlatformError, match=rf"has no build for platform {host_tag()} \(bundle includes: {_other_tag()}\)"):
        install_pack(foreign)
    with pytest.raises(PackPlatformError):
        load_pack(foreign)
