"""The broken manifests of the composition codes (E023-E025), in ``tests/spec/broken``'s format.

They live in ``tests/spec/broken`` (whose ``test_every_code_has_a_broken_spec``
wants one per code); this test checks them through the library and the real command.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reflow_cli.registry import ComponentRegistry
from reflow_cli.spec import CODES, validate_paths

from ._helpers import ROOT, reflow

CODES_HERE = ("E023", "E024", "E025")
FOLDERS = (ROOT / "tests" / "spec" / "broken",)


def manifest(code: str) -> Path:
    return next(folder / f"{code}.yaml" for folder in FOLDERS if (folder / f"{code}.yaml").is_file())


def expected(spec: Path) -> set[tuple[str, int, int, str]]:
    found = set()
    for line in spec.with_suffix(".expected").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            *file, position, code = line.split()
            row, column = position.split(":")
            found.add((file[0] if file else spec.name, int(row), int(column), code))
    return found


@pytest.mark.parametrize("code", CODES_HERE)
def test_the_library_reports_exactly_the_expected_diagnostics(code: str) -> None:
    spec = manifest(code)
    diagnostics = validate_paths([spec], registry=ComponentRegistry())
    assert {(Path(d.file).name, d.line, d.column, d.code) for d in diagnostics} == expected(spec)
    assert all(d.severity == CODES[d.code][0] and "\n" not in d.message for d in diagnostics)


@pytest.mark.parametrize("code", CODES_HERE)
def test_the_command_reports_the_same(code: str) -> None:
    spec = manifest(code)
    result = reflow("validate", "--format", "json", spec.name, cwd=spec.parent)
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert {(Path(d["file"]).name, d["line"], d["column"], d["code"]) for d in document["diagnostics"]} == expected(spec)
