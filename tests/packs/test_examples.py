"""The example pipelines of both packs, and build → inspect → strip → install → run with each pack."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

from ._helpers import ROOT, reflow

EXAMPLES = ROOT / "examples"


def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "REFLOW_PACK_PATH": str(tmp_path / "installed"), "REFLOW_PACK_CACHE": str(tmp_path / "cache")}


def needs(*modules: str) -> None:
    for module in modules:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install 'reflow-cli[ml,gpu]')")


def needs_adapter() -> None:
    needs("wgpu", "numpy")
    import wgpu

    if wgpu.gpu.request_adapter_sync(power_preference="high-performance") is None:
        pytest.skip("wgpu finds no adapter here; apt-get install mesa-vulkan-drivers libvulkan1 gives a CPU one")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_the_ml_example_names_the_colour(tmp_path: Path) -> None:
    needs("numpy", "onnxruntime")
    result = reflow("run", "examples/ml_classify/pipeline.yaml", env=env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "colour: red\n"
    assert "outport label: red" in result.stderr


def test_the_ml_example_assets_are_what_make_assets_writes() -> None:
    needs("numpy", "onnx")
    sys.path.insert(0, str(EXAMPLES / "ml_classify"))
    try:
        import make_assets
    finally:
        sys.path.remove(str(EXAMPLES / "ml_classify"))
        sys.modules.pop("make_assets", None)
    assert (EXAMPLES / "ml_classify" / "model.onnx").read_bytes() == make_assets.model_bytes()
    assert (EXAMPLES / "ml_classify" / "image.png").read_bytes() == make_assets.image_bytes()


def test_the_gpu_example_renders_a_png(tmp_path: Path) -> None:
    needs_adapter()
    target = tmp_path / "scene.png"
    result = reflow("run", "examples/gpu_sdf/pipeline.yaml", "--set", f"save.path={target}", env=env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert png_size(target.read_bytes()) == (256, 256)


def _cycle(tmp_path: Path, pack: str, name: str, example: str) -> tuple[Path, dict[str, str]]:
    """build → inspect → strip → install the pack; copy the example, importing the installed pack by name."""
    from reflow_cli.packs import build_pack, inspect_pack, install_pack, strip_pack

    e = env(tmp_path)
    keys = ("REFLOW_PACK_PATH", "REFLOW_PACK_CACHE")
    before = {key: os.environ.get(key) for key in keys}
    os.environ.update({key: e[key] for key in keys})
    try:
        bundle = build_pack(ROOT / "packs" / pack, tmp_path / "dist")
        manifest = inspect_pack(bundle)
        assert manifest["name"] == name and len(manifest["templates"]) >= (12 if pack == "ml" else 6)
        slim = strip_pack(bundle)
        info = install_pack(slim)
        assert info["name"] == name and info["missing_requirements"] == []
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    copy = tmp_path / example
    shutil.copytree(EXAMPLES / example, copy)
    spec = copy / "pipeline.yaml"
    spec.write_text(spec.read_text().replace(f"- pack: ../../packs/{pack}", f"- pack: {name}"))
    assert f"- pack: {name}" in spec.read_text()
    validated = reflow("validate", str(spec), env=e)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    return spec, e


def test_ml_pack_build_inspect_strip_install_run(tmp_path: Path) -> None:
    needs("numpy", "onnxruntime")
    spec, e = _cycle(tmp_path, "ml", "reflow.pack.ml", "ml_classify")
    result = reflow("run", str(spec), env=e)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "colour: red\n"


def test_gpu_pack_build_inspect_strip_install_run(tmp_path: Path) -> None:
    needs_adapter()
    spec, e = _cycle(tmp_path, "gpu", "reflow.pack.gpu", "gpu_sdf")
    result = reflow("run", str(spec), "--set", "render.width=64", "--set", "render.height=48", env=e)
    assert result.returncode == 0, result.stderr
    assert png_size((spec.parent / "scene.png").read_bytes()) == (64, 48)
