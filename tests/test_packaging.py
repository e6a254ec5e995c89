"""pyproject lists packages explicitly (catalog/ and schemas/ map into the package): keep the list complete."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_directory_is_listed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    mapped = config.get("package-dir", {})
    found = set()
    for init in (ROOT / "reflow_cli").rglob("__init__.py"):
        found.add(".".join(init.parent.relative_to(ROOT).parts))
    for package, folder in mapped.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            found.add(".".join((package, *init.parent.relative_to(ROOT / folder).parts)))
    assert found - listed == set(), "add these to [tool.setuptools] packages"
    assert "reflow_cli.schemas" in listed


def test_schemas_are_data_of_the_schemas_package() -> None:
    assert (ROOT / "schemas" / "event.schema.json").is_file()
