"""Every catalog component declares complete metadata, and its example is true."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import reflow_cli.catalog as catalog
from reflow_cli import Actor, template_actor
from reflow_cli.catalog._reference import REFERENCE_IDS
from reflow_cli.errors import UnknownComponentError
from reflow_cli.registry import ComponentRegistry
from tests.catalog._helpers import run_component

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_LIST = json.loads((ROOT / "tests/compat/golden/templates.json").read_text())["cases"]["template_list"]["ids"]

#: Components that have no counterpart in the reference (their ids must not collide with it).
NEW_IDS = {"tpl_text_format", "tpl_log", "tpl_file_lines", "tpl_csv_read", "tpl_csv_write", "tpl_dir_list", "tpl_dir_watch", "tpl_window"}

ALL: dict[str, type[Actor]] = {}
for _family in catalog.FAMILIES:
    ALL.update(catalog.family_components(_family))


def test_reference_ids_are_the_recorded_template_list() -> None:
    assert sorted(REFERENCE_IDS) == REFERENCE_LIST
    assert len(REFERENCE_IDS) == 248


def test_new_ids_do_not_collide_with_the_reference() -> None:
    for template_id in NEW_IDS:
        assert template_id not in REFERENCE_LIST, template_id


def test_every_shipped_id_is_a_reference_id_or_a_declared_new_one() -> None:
    shipped = set(ALL)
    assert shipped - NEW_IDS <= set(REFERENCE_LIST), "a new component needs a new id, listed in NEW_IDS"
    assert NEW_IDS <= shipped


def test_register_all_registers_every_family_component() -> None:
    registry = ComponentRegistry()
    catalog.register_all(registry)
    assert set(registry.ids()) == set(ALL)
    for template_id, component in ALL.items():
        entry = registry.lookup(template_id)
        assert entry.factory is component  # the class: one instance per node
        assert entry.source.startswith("catalog:")


def test_the_default_registry_serves_the_catalog() -> None:
    assert template_actor("tpl_filter") is ALL["tpl_filter"]


def test_importing_the_catalog_package_imports_no_family() -> None:
    code = (
        "import sys, reflow_cli.catalog as c\n"
        "loaded = [f for f in c.FAMILIES if f'reflow_cli.catalog.{f}' in sys.modules]\n"
        "assert not loaded, loaded\n"
        "import reflow_cli\n"
        "reflow_cli.template_list()\n"
        "heavy = [m for m in ('numpy', 'httpx', 'h11', 'anyio', 'croniter', 'onnxruntime', 'wgpu', 'ray', 'zoneinfo', "
        "'mimetypes', 'jsonschema') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize("template_id", sorted(ALL))
def test_metadata_is_complete(template_id: str) -> None:
    component = ALL[template_id]
    spec = component.spec()
    assert template_id.startswith("tpl_")
    assert spec.component == template_id
    assert spec.inports and spec.outports
    for port in (*spec.inports, *spec.outports):
        assert port.description, f"{template_id}.{port.name} has no description"
        assert re.fullmatch(r"[A-Za-z_*\[][A-Za-z0-9_\-\[\]*?]*", port.name), port.name
    assert len(spec.description) > 40
    assert component.__doc__ and component.__doc__.strip()
    schema = spec.config_schema
    assert schema is not None
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    without_required = {key: value for key, value in schema.items() if key != "required"}
    jsonschema.Draft202012Validator(without_required).validate(spec.config_defaults())
    for key, prop in schema["properties"].items():
        assert prop.get("description"), f"{template_id}: config {key!r} has no description"
        if "default" in prop:
            jsonschema.Draft202012Validator(prop).validate(prop["default"])


@pytest.mark.parametrize("template_id", sorted(ALL))
def test_example_is_well_formed(template_id: str) -> None:
    spec = ALL[template_id].spec()
    example = spec.example
    assert example is not None
    assert set(example) >= {"config", "inputs", "outputs"}
    jsonschema.Draft202012Validator(spec.config_schema).validate({**spec.config_defaults(), **example["config"]})
    for port in example["inputs"]:
        assert spec.has_inport(port), port
    for port in example["outputs"]:
        assert spec.has_outport(port), port


def _matches(expected: Any, got: Any) -> bool:
    if expected == "<rfc3339>":
        return isinstance(got, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\+00:00", got) is not None
    if expected == "<number>":
        return type(got) in (int, float)
    if isinstance(expected, dict):
        return isinstance(got, dict) and expected.keys() == got.keys() and all(_matches(expected[k], got[k]) for k in expected)
    if isinstance(expected, list):
        return isinstance(got, list) and len(expected) == len(got) and all(map(_matches, expected, got))
    return type(expected) is type(got) and expected == got


def _normalise(message: dict[str, Any]) -> dict[str, Any]:
    return {"type": message["type"], **({"data": message["data"]} if "data" in message else {})}


def _expected(message: dict[str, Any]) -> dict[str, Any]:
    """An example's output: a StreamHandle is written with its data chunks (`frames`) instead of its handle."""
    if "frames" in message:
        return {"type": message["type"], "frames": message["frames"]}
    return _normalise(message)


@pytest.mark.parametrize("template_id", sorted(ALL))
def test_example_runs_as_documented(
    template_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    example = ALL[template_id].spec().example
    assert example is not None
    if "needs" in example:
        pytest.skip(f"needs {example['needs']}: run by test_http.py::test_the_http_examples_hold")
    monkeypatch.chdir(tmp_path)
    for name, text in example.get("files", {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    spec = ALL[template_id].spec()
    ports = sorted({p.name for p in spec.outports if not p.is_pattern} | set(example["outputs"]))
    result = run_component(template_id, example["config"], example["inputs"], connect=ports)
    assert result.status.name == "COMPLETE"
    got = {port: [_normalise(m) for m in messages] for port, messages in result.json().items()}
    for port, streams in result.frames.items():  # streams: their data chunks, as text
        got[port] = [
            {"type": "StreamHandle", "frames": [f["data"].decode() for f in frames if f["kind"] == "data"]} for frames in streams
        ]
    expected = {port: [_expected(m) for m in messages] for port, messages in example["outputs"].items()}
    assert _matches(expected, got), (got, expected)
    if "prints" in example:
        assert capsys.readouterr().out.splitlines() == example["prints"]
    for name, text in example.get("files_after", {}).items():
        assert (tmp_path / name).read_text() == text


def test_not_ported_lists_the_reference_ids_we_do_not_ship() -> None:
    missing = catalog.not_ported()
    assert missing == sorted(set(REFERENCE_LIST) - set(ALL))
    assert "tpl_image_resize" in missing and "tpl_vec3_add" in missing
    assert "tpl_filter" not in missing and "tpl_math_add" not in missing and "tpl_http_request" not in missing


def test_not_ported_hook_message() -> None:
    text = catalog.not_ported_message("tpl_image_resize")
    assert text is not None
    assert "'tpl_image_resize' exists in offbit-reflow but is not ported yet; see docs/catalog.md#not-ported" in text
    assert catalog.not_ported_message("tpl_nope") is None
    assert catalog.not_ported_message(5) is None


def test_template_actor_of_a_not_ported_reference_id() -> None:
    with pytest.raises(UnknownComponentError, match="exists in offbit-reflow but is not ported yet; see docs/catalog.md#not-ported"):
        template_actor("tpl_image_resize")


def test_template_actor_of_an_unknown_id_is_unchanged() -> None:
    with pytest.raises(UnknownComponentError, match="unknown template id: 'tpl_nope_at_all'"):
        template_actor("tpl_nope_at_all")
