"""docs/catalog.md is generated from the metadata and kept up to date; its deviation rows name real tests."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from reflow_cli.catalog import _docs
from reflow_cli.catalog._deviations import DEVIATIONS
from tests.catalog.test_golden import DEVIATIONS as GOLDEN_DEVIATIONS
from tests.catalog._golden import GOLDEN

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "catalog.md"


def test_docs_catalog_md_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == _docs.render(), (
        "docs/catalog.md is out of date: run `python -m reflow_cli.catalog._docs > docs/catalog.md`"
    )


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
