"""The library's surface, its import weight, and the docs that describe it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import reflow_cli.spec as spec_api
from reflow_cli.spec import CODES, Diagnostic, LoadedPipeline, format_diagnostics

from ._helpers import ROOT

PACKAGE = ROOT / "reflow_cli" / "spec"
API = [
    "CODES", "DEFAULT_MAX_SIZE", "SCHEMA_URL", "Diagnostic", "LoadedPipeline", "dump_graph", "dump_spec",
    "format_diagnostics", "graph_to_spec", "is_graph_export", "load_pipeline", "schema_text", "spec_to_graph",
    "validate_paths",
]


def test_the_public_names_are_exactly_these() -> None:
    assert sorted(spec_api.__all__) == sorted(API)
    for name in API:
        obj = getattr(spec_api, name)
        if callable(obj):
            assert obj.__doc__, name
            assert getattr(obj, "__module__", "reflow_cli.spec") == "reflow_cli.spec", name


def test_diagnostic_and_loaded_pipeline_have_the_agreed_fields() -> None:
    assert list(Diagnostic.__dataclass_fields__) == [
        "severity", "code", "file", "line", "column", "message", "hint", "pointer",
    ]
    assert list(LoadedPipeline.__dataclass_fields__)[:5] == ["path", "spec", "graph", "components", "diagnostics"]
    d = Diagnostic("error", "E012", "a.yaml", 3, 7, "no such port", "did you mean 'out'?", "/connections/0")
    with pytest.raises(AttributeError):
        d.line = 4  # type: ignore[misc]
    assert format_diagnostics([d], "text") == "a.yaml:3:7: error[E012]: no such port\n  hint: did you mean 'out'?\n"
    github = format_diagnostics([Diagnostic("warning", "W001", "a,b.yaml", 1, 2, "50% done\nnext", None, "")], "github")
    assert github == "::warning file=a%2Cb.yaml,line=1,col=2,title=W001::[W001] 50%25 done%0Anext\n"
    with pytest.raises(ValueError):
        format_diagnostics([d], "xml")


def _imports(path: Path) -> list[tuple[str, bool]]:
    """``(module, at top level)`` for every import in a file (relative imports resolved)."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level == 1:
                base = f"reflow_cli.spec.{base}".rstrip(".")
            elif node.level == 2:
                base = f"reflow_cli.{base}".rstrip(".")
            found.append((base, id(node) in top))
    return found


def test_the_spec_package_stays_light() -> None:
    for path in PACKAGE.glob("*.py"):
        for module, top_level in _imports(path):
            assert not module.startswith(("trio", "greenback", "reflow_cli.engine", "rich", "typer")), (path.name, module)
            assert module != "reflow_cli" or path.name == "__init__.py", (path.name, module)
            if module.startswith(("jsonschema", "ruamel")):
                assert not top_level, f"{path.name} imports {module} at import time; import it where it is used"


def test_errors_md_documents_every_code_once() -> None:
    text = (ROOT / "docs" / "errors.md").read_text()
    table = re.findall(r"^\| \[([EW]\d{3})\]\(#\w+\) \| (error|warning) \|", text, re.M)
    assert [code for code, _ in table] == list(CODES)
    assert all(CODES[code][0] == severity for code, severity in table)
    assert re.findall(r"^## ([EW]\d{3})$", text, re.M) == list(CODES)


def test_spec_md_has_the_example_verbatim_and_the_snippets() -> None:
    text = (ROOT / "docs" / "spec.md").read_text()
    example = (ROOT / "examples" / "logs" / "pipeline.yaml").read_text().rstrip("\n") + "\n"
    assert "```yaml\n" + example + "```" in text
    assert "# yaml-language-server: $schema=https://reflow.dev/schemas/pipeline.schema.json" in text
    assert "id: reflow-validate" in text and "reflow validate --format github" in text
    for key in ("placement", "replicas", "resources", "on_error", "case_sensitive", "groups", "port_type"):
        assert key in text, key


def test_pre_commit_hooks_run_reflow_validate() -> None:
    hooks = YAML(typ="safe", pure=True).load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [hook["id"] for hook in hooks] == ["reflow-validate", "reflow-validate-full"]
    assert hooks[0]["entry"] == "reflow validate --no-import" and hooks[0]["language"] == "python"
    for hook in hooks:
        assert re.search(hook["files"], "pipelines/logs.pipeline.yaml")
