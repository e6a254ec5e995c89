"""Pack tests never touch the user's pack folders: REFLOW_PACK_PATH and REFLOW_PACK_CACHE point into a temp dir."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._helpers import ROOT


@pytest.fixture(scope="session", autouse=True)
def pack_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    base = tmp_path_factory.mktemp("pack-folders")
    folders = {"REFLOW_PACK_PATH": base / "installed", "REFLOW_PACK_CACHE": base / "cache"}
    saved = {key: os.environ.get(key) for key in folders}
    os.environ.update({key: str(value) for key, value in folders.items()})
    yield folders
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _needs(module: str, why: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed ({why}); pip install 'reflow-cli[{why}]'")


@pytest.fixture(scope="session")
def ml_pack() -> dict:
    """The ml pack, loaded from its source folder into this process."""
    _needs("numpy", "ml")
    _needs("onnxruntime", "ml")
    from reflow_cli import load_pack

    return load_pack(ROOT / "packs" / "ml")


@pytest.fixture(scope="session")
def gpu_pack() -> dict:
    """The gpu pack, loaded from its source folder (skips only when wgpu finds no adapter at all)."""
    _needs("numpy", "gpu")
    _needs("wgpu", "gpu")
    import wgpu

    if wgpu.gpu.request_adapter_sync(power_preference="high-performance") is None:
        pytest.skip("wgpu finds no GPU adapter here; apt-get install mesa-vulkan-drivers libvulkan1 gives a CPU one")
    from reflow_cli import load_pack

    return load_pack(ROOT / "packs" / "gpu")
