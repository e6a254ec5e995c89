"""The broken-spec folder: one small spec per diagnostic code, each with its exact positions.

``broken/CODE.yaml`` (or ``.json``) sits beside ``broken/CODE.expected``, which
lists every diagnostic the file produces as ``LINE:COL CODE`` (``FILE
LINE:COL CODE`` for one in another file) and may ask for ``# args:``. Each is
checked through the library (:func:`validate_paths`) and through the real
``reflow validate`` command in all three output formats.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reflow_cli.registry import ComponentRegistry
from reflow_cli.spec import CODES, validate_paths

from ._helpers import BROKEN, run_reflow

SPECS = sorted(p for p in BROKEN.iterdir() if p.suffix in (".yaml", ".json") and re.match(r"[EW]\d{3}", p.name))


def expectations(spec: Path) -> tuple[list[str], set[tuple[str, int, int, str]]]:
    """The extra CLI arguments and the expected ``(file name, line, column, code)`` set."""
    args: list[str] = []
    expected: set[tuple[str, int, int, str]] = set()
    for line in spec.with_suffix(".expected").read_text().splitlines():
        line = line.strip()
        if line.startswith("# args:"):
            args = line.split(":", 1)[1].split()
        elif line and not line.startswith("#"):
            *file, position, code = line.split()
            row, column = position.split(":")
            expected.add((file[0] if file else spec.name, int(row), int(column), code))
    return args, expected


def _library_options(args: list[str]) -> dict[str, int]:
    if args[:1] == ["--max-size"]:
        return {"max_size": int(args[1])}
    assert not args, args
    return {}


def test_every_code_has_a_broken_spec() -> None:
    covered = {code for spec in SPECS for *_, code in expectations(spec)[1]}
    assert covered == set(CODES), f"no broken spec for {sorted(set(CODES) - covered)}"


@pytest.mark.parametrize("spec", SPECS, ids=[p.name for p in SPECS])
def test_library_reports_exactly_the_expected_diagnostics(spec: Path) -> None:
    args, expected = expectations(spec)
    diagnostics = validate_paths([spec], registry=ComponentRegistry(), **_library_options(args))
    found = {(Path(d.file).name, d.line, d.column, d.code) for d in diagnostics}
    assert found == expected
    for d in diagnostics:
        assert d.severity == CODES[d.code][0]
        assert d.message and "\n" not in d.message


def _cli_found(files: list[Path], *extra: str) -> dict[str, set[tuple[str, int, int, str]]]:
    """Run ``reflow validate`` once in each format; return what each format reported."""
    found: dict[str, set[tuple[str, int, int, str]]] = {}
    names = [str(p.name) for p in files]
    text = run_reflow("validate", *extra, *names, cwd=BROKEN)
    assert text.returncode == (1 if any(c.startswith("E") for f in files for *_, c in expectations(f)[1]) else 0), text.stderr
    found["text"] = {
        (Path(m[1]).name, int(m[2]), int(m[3]), m[5])
        for m in re.finditer(r"^(.+?):(\d+):(\d+): (error|warning)\[(\w+)\]: .+$", text.stdout, re.M)
    }
    # every hint is on its own indented line under its diagnostic
    for line in text.stdout.splitlines():
        assert re.match(r"^(.+?):\d+:\d+: (error|warning)\[\w+\]: ", line) or line.startswith("  hint: "), line
    as_json = run_reflow("validate", "--format", "json", *extra, *names, cwd=BROKEN)
    assert as_json.returncode == text.returncode
    document = json.loads(as_json.stdout)
    found["json"] = {(Path(d["file"]).name, d["line"], d["column"], d["code"]) for d in document["diagnostics"]}
    assert document["errors"] == sum(1 for d in document["diagnostics"] if d["severity"] == "error")
    github = run_reflow("validate", "--format", "github", *extra, *names, cwd=BROKEN)
    assert github.returncode == text.returncode
    found["github"] = {
        (Path(m[2]).name, int(m[3]), int(m[4]), m[5])
        for m in re.finditer(r"^::(error|warning) file=([^,]+),line=(\d+),col=(\d+),title=(\w+)::", github.stdout, re.M)
    }
    return found


def test_the_cli_reports_the_same_in_every_format() -> None:
    plain = [spec for spec in SPECS if not expectations(spec)[0]]
    expected = set().union(*(expectations(spec)[1] for spec in plain))
    for fmt, found in _cli_found(plain).items():
        assert found == expected, fmt
    for spec in SPECS:
        args, expected = expectations(spec)
        if args:
            for fmt, found in _cli_found([spec], *args).items():
                assert found == expected, fmt


def test_cli_exit_codes() -> None:
    assert run_reflow("validate", "W001.yaml", cwd=BROKEN).returncode == 0  # warnings only
    assert run_reflow("validate", "W001.yaml", "E012.yaml", cwd=BROKEN).returncode == 1
    assert run_reflow("validate", "no-such-file.yaml", cwd=BROKEN).returncode == 2
    assert run_reflow("validate", "--format", "xml", "W001.yaml", cwd=BROKEN).returncode == 2
    assert run_reflow("validate", "--max-size", "lots", "W001.yaml", cwd=BROKEN).returncode == 2
    assert run_reflow("validate", cwd=BROKEN).returncode == 2
