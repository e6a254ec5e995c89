"""`reflow catalog list` and `reflow catalog show`: the library functions and the command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import reflow_cli.catalog as catalog
from reflow_cli.cli import app
from reflow_cli.errors import UnknownComponentError

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_list_components_covers_every_family_in_order() -> None:
    entries = catalog.list_components()
    ids = [entry["id"] for entry in entries]
    assert len(ids) == len(set(ids)) == sum(len(catalog.family_components(f)) for f in catalog.FAMILIES)
    assert [entry["family"] for entry in entries] == sorted((e["family"] for e in entries), key=catalog.FAMILIES.index)
    math = catalog.list_components("math")
    assert {e["family"] for e in math} == {"math"} and "tpl_math_expression" in {e["id"] for e in math}
    window = next(e for e in entries if e["id"] == "tpl_window")
    assert window["reference"] is False and window["inports"] == ["input", "flush"]
    assert next(e for e in entries if e["id"] == "tpl_filter")["reference"] is True
    with pytest.raises(ValueError, match="unknown family 'nope'; families: flow, data, math"):
        catalog.list_components("nope")


def test_describe_component() -> None:
    info = catalog.describe_component("tpl_http_request")
    assert info["id"] == "tpl_http_request" and info["family"] == "http" and info["reference"] is True
    assert info["config_defaults"]["method"] == "GET" and info["config_defaults"]["timeout"] == 30000
    assert info["config_schema"]["required"] == ["url"]
    assert [p["name"] for p in info["inports"]] == ["data_in", "headers_in"]
    assert info["example"]["config"]["url"].startswith("http://127.0.0.1")
    assert info["is_async"] is True
    with pytest.raises(UnknownComponentError, match="did you mean 'tpl_filter'"):
        catalog.describe_component("tpl_filtre")
    with pytest.raises(UnknownComponentError, match="exists in offbit-reflow but is not ported yet"):
        catalog.describe_component("tpl_image_resize")


def test_catalog_list_command() -> None:
    result = runner.invoke(app, ["catalog", "list"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "math:" in lines and "http:" in lines
    assert any(line.split()[:2] == ["+", "tpl_window"] for line in lines)  # + marks ids new in reflow
    assert any(line.split()[0] == "tpl_filter" for line in lines if line.strip())
    assert lines[-1].startswith(f"{len(catalog.list_components())} components")


def test_catalog_list_json_and_family() -> None:
    result = runner.invoke(app, ["catalog", "list", "--family", "streams", "--json"])
    assert result.exit_code == 0
    entries = json.loads(result.stdout)
    assert [e["id"] for e in entries] == list(catalog.family_components("streams"))
    assert set(entries[0]) == {"id", "family", "summary", "inports", "outports", "reference"}
    bad = runner.invoke(app, ["catalog", "list", "--family", "nope"])
    assert bad.exit_code == 2 and "unknown family 'nope'" in bad.stderr


def test_catalog_show_command() -> None:
    result = runner.invoke(app, ["catalog", "show", "tpl_math_clamp"])
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith("tpl_math_clamp  (math family)")
    for fragment in ("Inports:", "  input ", "Outports:", "  result ", "Config:", "  min: number, default 0", "Example:", '  config: {"min": 0, "max": 10}'):
        assert fragment in text, fragment
    new = runner.invoke(app, ["catalog", "show", "tpl_window"])
    assert "new in reflow" in new.stdout.splitlines()[0] and "window  Object" in new.stdout and "(optional)" in new.stdout
    timer = runner.invoke(app, ["catalog", "show", "tpl_cron_trigger"])
    assert "Runs: async (runs on the event loop); long-running (stopped at shutdown)." in timer.stdout
    required = runner.invoke(app, ["catalog", "show", "tpl_http_request"])
    assert "  url: string, required" in required.stdout


def test_catalog_show_json_and_unknown_ids() -> None:
    result = runner.invoke(app, ["catalog", "show", "tpl_reduce", "--json"])
    assert result.exit_code == 0
    info = json.loads(result.stdout)
    assert info == json.loads(json.dumps(catalog.describe_component("tpl_reduce")))
    unknown = runner.invoke(app, ["catalog", "show", "tpl_reduse"])
    assert unknown.exit_code == 1 and "did you mean 'tpl_reduce'?" in unknown.stderr
    not_ported = runner.invoke(app, ["catalog", "show", "tpl_sdf_box"])
    assert not_ported.exit_code == 1 and "not ported yet; see docs/catalog.md#not-ported" in not_ported.stderr


def test_the_real_command() -> None:
    exe = shutil.which("reflow") or str(Path(sys.executable).with_name("reflow"))
    done = subprocess.run([exe, "catalog", "show", "tpl_filter"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("tpl_filter  (flow family)")
