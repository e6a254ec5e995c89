"""docs/catalog.md and the catalog table of docs/porting.md are generated and up to date; deviation rows name real tests."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reflow_cli.catalog import _docs
from reflow_cli.catalog._deviations import DEVIATIONS
from tests.catalog.test_golden import DEVIATIONS as GOLDEN_DEVIATIONS
from tests.catalog._golden import GOLDEN

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "catalog.md"
PORTING = ROOT / "docs" / "porting.md"


def test_docs_catalog_md_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == _docs.render(), f"docs/catalog.md is out of date: run `{_docs.COMMAND}`"


def test_docs_porting_md_table_is_up_to_date() -> None:
    text = PORTING.read_text(encoding="utf-8")
    assert text == _docs.render_porting(text), f"the catalog table in docs/porting.md is out of date: run `{_docs.COMMAND}`"


def test_porting_md_has_one_row_per_deviation_with_its_tests() -> None:
    text = PORTING.read_text(encoding="utf-8")
    table = text[text.index(_docs.PORTING_BEGIN) : text.index(_docs.PORTING_END)].splitlines()[1:]
    assert table[0] == "| component | reference behaviour | reflow behaviour | tests |"
    rows = table[2:]
    assert len(rows) == len(DEVIATIONS)
    for row, deviation in zip(rows, DEVIATIONS, strict=True):
        assert row.startswith(f"| {deviation.components} |")
        assert all(f"`{test}`" in row for test in deviation.tests)
    # the same rows as docs/catalog.md's table, under porting.md's column names
    assert rows == _docs.deviation_table(("a", "b", "c", "d"))[2:]
    assert "\n".join(rows) in DOC.read_text(encoding="utf-8")


def _generate(*args: str) -> subprocess.CompletedProcess[bytes]:
    """Run the generator as a module with ``args``."""
    return subprocess.run([sys.executable, "-m", "reflow_cli.catalog._docs", *args], capture_output=True, cwd=ROOT, check=False)


def test_write_updates_both_files(tmp_path: Path) -> None:
    shutil.copy(PORTING, tmp_path / "porting.md")
    stale = (tmp_path / "porting.md").read_text(encoding="utf-8").replace("| tpl_loop |", "| tpl_loop (stale) |")
    (tmp_path / "porting.md").write_text(stale, encoding="utf-8")
    out = _generate("--write", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "catalog.md").read_text(encoding="utf-8") == _docs.render()
    assert (tmp_path / "porting.md").read_text(encoding="utf-8") == PORTING.read_text(encoding="utf-8")
    assert _docs.write_docs(tmp_path) == []  # nothing left to change


def test_porting_md_without_markers_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(_docs.DocsError, match="no generated catalog table"):
        _docs.render_porting("# Porting\n\nno table here\n")
    (tmp_path / "porting.md").write_text("# Porting\n", encoding="utf-8")
    out = _generate("--write", str(tmp_path))
    assert out.returncode == 1
    assert out.stderr.decode("utf-8").startswith("error: docs/porting.md has no generated catalog table")
    assert "Traceback" not in out.stderr.decode("utf-8")
    assert not (tmp_path / "catalog.md").exists()  # nothing is written when one file cannot be


def test_the_generator_runs_as_a_module() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "reflow_cli.catalog._docs"], check=True, capture_output=True, cwd=ROOT
    ).stdout
    assert out.decode("utf-8") == _docs.render()


def test_docs_have_the_sections_asked_for() -> None:
    text = _docs.render()
    assert "## Deviations from offbit-reflow" in text
    assert '<a id="not-ported"></a>' in text and "## Not ported" in text
    from reflow_cli.catalog import FAMILIES

    assert FAMILIES == ("flow", "data", "math", "text", "time", "streams", "files", "http")
    for family in FAMILIES:
        assert f"## Family: {family}" in text


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_every_deviation_row_names_tests_that_exist() -> None:
    assert DEVIATIONS
    for row in DEVIATIONS:
        assert row.tests, row
        for test in row.tests:
            match = re.fullmatch(r"(tests/[\w/]+\.py)::(test_\w+)(?:\[(.+)\])?", test)
            assert match, test
            path, function, param = match.groups()
            assert function in _test_functions(ROOT / path), test
            if param is not None:
                assert function == "test_golden"
                assert param in GOLDEN, test


def test_every_golden_deviation_is_documented() -> None:
    documented = {
        test.split("[", 1)[1].rstrip("]") for row in DEVIATIONS for test in row.tests if "test_golden[" in test
    }
    assert set(GOLDEN_DEVIATIONS) <= documented, sorted(set(GOLDEN_DEVIATIONS) - documented)
