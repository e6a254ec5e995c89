"""Usage errors, help texts, --quiet, the run summary, the pre-commit hooks and the examples' schema lines."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
EXE = shutil.which("reflow") or str(Path(sys.executable).with_name("reflow"))
LOGS = ROOT / "examples" / "logs" / "pipeline.yaml"


def reflow(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([EXE, *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=60, env=env)


# -- --set ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [("run",), ("tap",)])
@pytest.mark.parametrize("bad", ["bogus", "read=1", ".path=x", "read.=x", "read.path"])
def test_a_malformed_set_is_a_usage_error(command: tuple[str, ...], bad: str) -> None:
    target = ("read",) if command == ("tap",) else ()
    result = reflow(*command, str(LOGS), *target, "--set", bad)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f"reflow {command[0]}: --set expects NODE.KEY=VALUE (e.g. --set read.path=other.log), not {bad!r}\n"
    )


def test_a_set_for_an_unknown_node_is_still_an_invalid_spec() -> None:
    result = reflow("run", str(LOGS), "--set", "nope.path=x")
    assert result.returncode == 1 and "nope" in result.stderr


# -- --quiet --------------------------------------------------------------------------------------


def test_quiet_leaves_out_spec_warnings(tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text(
        "version: 1\nnodes:\n  a: {component: tpl_passthrough}\n  b: {component: tpl_passthrough}\n"
        "initial:\n  - {to: a.input, data: 1}\n"
    )
    loud = reflow("run", str(spec))
    assert "warning[W001]" in loud.stderr and "warning[W002]" in loud.stderr
    quiet = reflow("run", str(spec), "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_quiet_still_says_why_a_run_failed(tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text(
        "version: 1\nnodes:\n  read: {component: tpl_file_load, config: {path: missing.txt}}\n"
        "  print: {component: tpl_log}\nconnections:\n  - read.output -> print.input\n"
        "initial:\n  - {to: read.trigger, data: {type: Flow}}\n"
    )
    result = reflow("run", str(spec), "-q")
    assert result.returncode == 1
    assert "error: node 'read' (tpl_file_load) failed:" in result.stderr
    assert "reflow: " not in result.stderr  # no summary


def test_quiet_still_prints_the_errors_of_an_invalid_spec(tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text("version: 1\nnodes:\n  a: {component: tpl_passthrogh}\n")
    result = reflow("run", str(spec), "--quiet")
    assert result.returncode == 1 and "E010" in result.stderr


# -- the run summary ------------------------------------------------------------------------------


def test_the_summary_columns_line_up_with_short_names(tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text(
        "version: 1\nnodes:\n  a: {component: tpl_log}\n  b: {component: tpl_log}\n"
        "connections:\n  - a.output -> b.input\ninitial:\n  - {to: a.input, data: 1}\n"
    )
    result = reflow("run", str(spec))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    header = next(i for i, line in enumerate(lines) if line.strip().startswith("node "))
    head, rows = lines[header], lines[header + 1 : header + 3]
    assert [row.split()[:2] for row in rows] == [["a", "tpl_log"], ["b", "tpl_log"]]
    for row in rows:
        assert row.index("tpl_log") == head.index("component")
        assert len(row) == len(head)
        for column in ("ticks", "in", "out", "failures"):  # numbers end under their header
            end = head.index(column) + len(column)
            assert row[end - 1].isdigit() and (end == len(row) or row[end] == " ")


# -- help --------------------------------------------------------------------------------------


@pytest.mark.parametrize("group", [(), ("trace",), ("catalog",)])
def test_command_groups_show_an_example_in_their_help(group: tuple[str, ...]) -> None:
    result = reflow(*group, "--help")
    assert result.returncode == 0
    assert re.search(r"Example: reflow \w+", result.stdout), result.stdout


# -- .pre-commit-hooks.yaml -----------------------------------------------------------------------

SPECS = [
    "pipeline.yaml",
    "pipeline.yml",
    "pipeline.json",
    "examples/logs/pipeline.yaml",
    "pipelines/logs.pipeline.yaml",
    "logs.pipeline.yml",
    "reflow.yaml",
    "config/reflow.json",
    "orders.reflow.yaml",
]
NOT_SPECS = [
    "examples/logs/pipeline.test.yaml",
    "orders.test.yaml",
    "pipeline.test.yml",
    "mypipeline.yaml",
    "pipeline.yaml.bak",
    "docs/pipeline.md",
    "values.yaml",
]


def hook_selects(hook: dict[str, str], path: str) -> bool:
    """Whether pre-commit would pass ``path`` to the hook (``re.search`` on files, then exclude)."""
    return bool(re.search(hook["files"], path)) and not (hook.get("exclude") and re.search(hook["exclude"], path))


@pytest.mark.parametrize("path", SPECS + NOT_SPECS)
def test_the_pre_commit_hooks_select_spec_files_and_not_tests(path: str) -> None:
    hooks = YAML(typ="safe", pure=True).load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert len(hooks) == 2
    for hook in hooks:
        assert hook_selects(hook, path) == (path in SPECS), (hook["id"], path)


def test_the_pre_commit_hooks_select_the_example_specs() -> None:
    hooks = YAML(typ="safe", pure=True).load((ROOT / ".pre-commit-hooks.yaml").read_text())
    found = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "examples").rglob("*.y*ml"))
    selected = [path for path in found if hook_selects(hooks[0], path)]
    assert "examples/logs/pipeline.yaml" in selected
    assert not [path for path in selected if ".test." in path]


# -- the examples' schema lines -------------------------------------------------------------------


def test_every_example_points_at_the_schema_in_this_checkout() -> None:
    found = 0
    for path in sorted((ROOT / "examples").rglob("*.y*ml")):
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        if not first.startswith("# yaml-language-server:"):
            continue
        found += 1
        schema = "test.schema.json" if ".test." in path.name else "pipeline.schema.json"
        match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert match is not None, path
        target = match.group(1)
        assert not target.startswith(("http:", "https:")), path
        assert target.endswith("/schemas/" + schema), path
        assert (path.parent / target).resolve() == ROOT / "schemas" / schema, path
    assert found >= 20
