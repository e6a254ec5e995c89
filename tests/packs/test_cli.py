"""`reflow pack`: build, inspect, strip, install, list, remove, abi; errors exit 1 with one line.

The commands run in-process through the typer app (a process start per command would cost
half a second each); one test runs the installed `reflow` script itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from reflow_cli.cli import app

from . import _helpers
from ._helpers import write_pack_source


def env(tmp_path: Path) -> dict[str, str]:
    return {"REFLOW_PACK_PATH": str(tmp_path / "installed"), "REFLOW_PACK_CACHE": str(tmp_path / "cache")}


def reflow(*args: str, env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    result.returncode = result.exit_code
    return result


def test_the_console_script_has_the_pack_commands() -> None:
    result = _helpers.reflow("pack", "abi")
    assert result.returncode == 0 and result.stdout == "1\n"


def test_the_whole_cycle(tmp_path: Path) -> None:
    e = env(tmp_path)
    source = write_pack_source(tmp_path / "src", name="reflow.pack.cli", module="reflow_pack_cli",
                               templates=("tpl_cli_a", "tpl_cli_b"))
    built = reflow("pack", "build", str(source), "-o", str(tmp_path / "dist"), env=e)
    assert built.returncode == 0, built.stderr
    bundle = Path(built.stdout.strip())
    assert bundle == tmp_path / "dist" / "reflow.pack.cli-0.1.0.rflpack" and bundle.is_file()
    assert "built reflow.pack.cli 0.1.0: 2 templates, platforms any" in built.stderr

    shown = reflow("pack", "inspect", str(bundle), env=e)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "reflow.pack.cli 0.1.0 — Says hello."
    assert "  ABI           1 (ok)" in lines
    assert any(line.startswith("    tpl_cli_a") and "in: input:String  out: output:String" in line for line in lines)
    assert any(line.strip().startswith("any") for line in lines)
    as_json = json.loads(reflow("pack", "inspect", str(bundle), "--json", env=e).stdout)
    assert as_json["templates"] == ["tpl_cli_a", "tpl_cli_b"] and as_json["authors"] == []

    stripped = reflow("pack", "strip", str(bundle), env=e)
    assert stripped.returncode == 0, stripped.stderr
    slim = Path(stripped.stdout.strip())
    assert slim.name == "reflow.pack.cli-0.1.0-any.rflpack"

    installed = reflow("pack", "install", str(slim), env=e)
    assert installed.returncode == 0, installed.stderr
    assert installed.stderr.startswith("installed reflow.pack.cli 0.1.0 (2 templates, platform any) in ")
    listed = reflow("pack", "list", env=e)
    assert listed.stdout.split()[:4] == ["reflow.pack.cli", "0.1.0", "2", "templates"]
    assert json.loads(reflow("pack", "list", "--json", env=e).stdout)[0]["name"] == "reflow.pack.cli"
    assert reflow("pack", "inspect", "reflow.pack.cli", env=e).returncode == 0  # by installed name

    removed = reflow("pack", "remove", "reflow.pack.cli", env=e)
    assert removed.returncode == 0 and removed.stderr.startswith("removed reflow.pack.cli from ")
    assert "no packs installed" in reflow("pack", "list", env=e).stderr
    assert reflow("pack", "abi").stdout.strip() == "1"


def test_errors_exit_1_with_one_line(tmp_path: Path) -> None:
    e = env(tmp_path)
    garbage = tmp_path / "garbage.rflpack"
    garbage.write_bytes(b"nope")
    for args, message in [
        (("pack", "inspect", str(garbage)), f"reflow pack inspect: inspect pack '{garbage}': not a .rflpack bundle (not a zip archive)"),
        (("pack", "install", str(garbage)), f"reflow pack install: install pack '{garbage}': not a .rflpack bundle (not a zip archive)"),
        (("pack", "remove", "reflow.pack.none"), "reflow pack remove: no installed pack named 'reflow.pack.none'"),
        (("pack", "build", str(tmp_path)), f"reflow pack build: pack source {tmp_path}: no pack.yaml in the folder"),
        (("pack", "strip", str(garbage)), f"reflow pack strip: strip pack '{garbage}': not a .rflpack bundle"),
    ]:
        result = reflow(*args, env=e)
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr.startswith(message), (args, result.stderr)
