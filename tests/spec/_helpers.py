"""Shared helpers for the spec tests: a registry of test components, writing specs, the CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from reflow_cli.actor import Actor
from reflow_cli.registry import ComponentRegistry

HERE = Path(__file__).resolve().parent
BROKEN = HERE / "broken"
ROOT = HERE.parents[1]


def component(inports: list[Any], outports: list[Any], schema: dict[str, Any] | None = None) -> type[Actor]:
    """An Actor subclass declaring these ports and config schema (it does nothing)."""
    return type(
        "TestComponent",
        (Actor,),
        {"inports": inports, "outports": outports, "config_schema": schema, "run": lambda self, ctx: None},
    )


PATH_CONFIG = {
    "type": "object",
    "properties": {"path": {"type": "string"}},
    "required": ["path"],
    "additionalProperties": False,
}


def registry() -> ComponentRegistry:
    """The components of the docs/spec.md example, with their real ids, ports and config keys."""
    r = ComponentRegistry()
    r.register("tpl_file_load", component(["trigger"], ["output", "error"], PATH_CONFIG))
    r.register(
        "tpl_filter",
        component(
            ["input"],
            ["output", "rejected"],
            {
                "type": "object",
                "properties": {
                    "condition": {"enum": ["equals", "contains", "greater_than"]},
                    "field": {"type": "string"},
                    "value": {},
                },
                "required": ["condition"],
            },
        ),
    )
    r.register("tpl_reduce", component(["input"], ["output"], {"type": "object", "properties": {"operation": {"enum": ["count", "sum"]}}}))
    r.register("tpl_file_save", component(["input"], ["path", "error"], {"type": "object", "properties": {"path": {"type": "string"}}}))
    r.register("tpl_switch", component(["input"], ["case[0-9]", "default"]))
    r.register("tpl_merge", component(["in*"], ["out"]))
    r.register("tpl_sink", component(["input"], []))
    r.register("tpl_source", component([], ["out"]))
    return r


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def reflow_exe() -> str:
    """The ``reflow`` console script of this environment."""
    beside = Path(sys.executable).with_name("reflow")
    if beside.exists():
        return str(beside)
    found = shutil.which("reflow")
    assert found, "the reflow console script is not installed"
    return found


def run_reflow(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the real ``reflow`` command."""
    return subprocess.run([reflow_exe(), *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)


EXAMPLE = """\
version: 1
name: logs                        # graph name; the namespace compose uses (optional: defaults to the file's stem)
description: Count error lines per service
nodes:
  read:  {component: tpl_file_load, config: {path: app.log}}
  parse: {component: "python:my_actors:ParseLines"}      # MODULE relative to this file's folder
  keep:  {component: tpl_filter, config: {condition: equals, field: level, value: ERROR}}
  count: {component: tpl_reduce, config: {operation: count}}
  save:  {component: tpl_file_save, config: {path: errors.txt}}
connections:
  - read.output -> parse.in                 # shorthand NODE.PORT -> NODE.PORT (NODE.PORT[i] for index)
  - {from: parse.out, to: keep.input, capacity: 256}   # long form; capacity bounds keep.input
  - keep.output -> count.input
  - count.output -> save.input
initial:
  - {to: read.trigger, data: {type: Flow}}
outports: {saved: save.path}
"""

MY_ACTORS = """\
from reflow_cli import Actor


class ParseLines(Actor):
    inports = ["in"]
    outports = ["out", "error"]

    def run(self, ctx):
        ctx.done({"out": ctx.inputs["in"]})
"""
