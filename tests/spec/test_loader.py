"""Reading files: YAML 1.2 values, positions of everything, duplicates, anchors, JSON, encodings."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from reflow_cli.spec import load_pipeline, validate_paths
from reflow_cli.spec._json import JsonLocator, parse_json
from reflow_cli.spec._source import SourceError
from reflow_cli.spec._yaml import parse_yaml, resolve_plain

from ._helpers import EXAMPLE, MY_ACTORS, ROOT, registry, write


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", "yes"), ("no", "no"), ("on", "on"), ("Off", "Off"), ("y", "y"),  # YAML 1.2: strings
        ("true", True), ("False", False), ("TRUE", True), ("tRue", "tRue"),
        ("~", None), ("null", None), ("Null", None), ("", None), ("nil", "nil"),
        ("42", 42), ("-7", -7), ("+3", 3), ("0o17", 15), ("0x1F", 31), ("017", 17), ("1_000", 1000),
        ("2.5", 2.5), ("1e3", 1000.0), ("-.5", -0.5), ("1.", 1.0), (".inf", math.inf), ("-.Inf", -math.inf),
        ("2001-12-14", "2001-12-14"), ("1:20", "1:20"), ("_", "_"), ("0x", "0x"), ("abc", "abc"),
    ],
)
def test_plain_scalars_follow_yaml_1_2(text: str, value: object) -> None:
    assert resolve_plain(text) == value
    assert type(resolve_plain(text)) is type(value)


def _c_parser() -> bool:
    from ruamel.yaml import YAML

    return "clib" in YAML(typ="safe", pure=False).Parser.__module__


def test_nan_and_quoted_scalars() -> None:
    data = parse_yaml("a: .nan\nb: '42'\nc: \"true\"\nd: !!str 5\ne: |\n  text\n").data
    assert math.isnan(data["a"])
    assert data["b"] == "42" and data["c"] == "true" and data["d"] == "5" and data["e"] == "text\n"


def test_explicit_tags_that_do_not_fit_are_reported() -> None:
    source = parse_yaml("a: !!int abc\nb: !custom 1\nc: !!binary aGk=\n")
    assert [p.code for p in source.problems] == ["E001", "E001", "E001"]
    assert source.data == {"a": "abc", "b": "1", "c": "aGk="}


def test_positions_point_at_keys_values_and_tokens_inside_strings(tmp_path: Path) -> None:
    text = "version: 1\nnodes:\n  a: {component: x}\nconnections:\n  - a.out -> 'zz.in'\n  - \"a.out -> b.in\"\n"
    source = parse_yaml(text)
    locate = source.locator.locate
    assert locate(("nodes", "a"), key=True)[:2] == (3, 3)
    assert locate(("nodes", "a"))[:2] == (3, 6)
    assert locate(("nodes", "a", "component"))[:2] == (3, 18)
    assert locate(("connections", 0), offset=9)[:2] == (5, 14)
    assert locate(("connections", 1), offset=9)[:2] == (6, 15)  # a quote before the text
    assert locate(("nodes", "missing", "deeper")) == (3, 3, ("nodes",)) or locate(("nodes", "missing"))[2] == ("nodes",)


def test_duplicate_keys_are_reported_and_the_first_wins() -> None:
    source = parse_yaml("nodes:\n  a: {component: first}\n  a: {component: second}\nx: 1\nx: 2\n")
    assert source.data == {"nodes": {"a": {"component": "first"}}, "x": 1}
    assert [(p.path, p.nth) for p in source.problems] == [(("nodes", "a"), 1), (("x",), 1)]
    assert source.locator.locate(("nodes", "a"), key=True, nth=1)[:2] == (3, 3)


def test_anchors_aliases_and_merge_keys() -> None:
    data = parse_yaml("base: &b {k: 1, j: 2}\nuse: {<<: *b, j: 3}\nmany: {<<: [*b, {z: 0}]}\nref: *b\n").data
    assert data["use"] == {"j": 3, "k": 1}
    assert data["many"] == {"k": 1, "j": 2, "z": 0}
    assert data["ref"] == {"k": 1, "j": 2} and data["ref"] is not data["base"]  # copies, not shared


def test_syntax_errors_carry_the_position_and_a_hint() -> None:
    with pytest.raises(SourceError) as caught:
        parse_yaml("a: b\n\tc: d\n")
    assert caught.value.code == "E001" and caught.value.line == 2
    if _c_parser():  # libyaml (YAML 1.1 here) refuses what YAML 1.2 allows: a hint says what to do
        with pytest.raises(SourceError) as caught:
            parse_yaml("nodes: {a: {component: python:m:C}}\n")
        assert caught.value.hint is not None and "quote" in caught.value.hint
    with pytest.raises(SourceError) as caught:
        parse_yaml("--- a\n--- b\n")
    assert caught.value.hint is not None and "one document" in caught.value.hint


def test_json_locator_finds_keys_values_and_list_items() -> None:
    text = '{\n  "a": {"b": [10, {"c": "x.y"}]},\n  "a2": 1,\n  "a2": 2\n}\n'
    locator = JsonLocator(text)
    assert locator.locate(("a", "b", 1, "c"))[:2] == (2, 25)
    assert locator.locate(("a", "b", 1, "c"), offset=2)[:2] == (2, 28)
    assert locator.locate(("a",), key=True)[:2] == (2, 3)
    assert locator.locate(("a2",), key=True, nth=1)[:2] == (4, 3)
    assert locator.locate(("a", "zz")) == (2, 8, ("a",))
    source = parse_json(text)
    assert source.data["a2"] == 1 and [p.path for p in source.problems] == [("a2",)]


def test_json_syntax_errors_and_encodings(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.json", '{"version": 1,\n "nodes": }\n')
    assert [(d.code, d.line, d.column) for d in validate_paths([bad])] == [("E001", 2, 11)]
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"version: 1\nname: caf\xe9\n")
    assert [(d.code, d.line, d.column) for d in validate_paths([latin])] == [("E001", 2, 10)]
    bom = tmp_path / "bom.yaml"
    bom.write_bytes("\ufeffversion: 1\nnodes: {}\n".encode())
    assert validate_paths([bom]) == []


def test_empty_and_non_mapping_documents(tmp_path: Path) -> None:
    for text in ("", "# only a comment\n", "[1, 2]\n", "just text\n", "42\n"):
        diagnostics = validate_paths([write(tmp_path, "x.yaml", text)])
        assert [(d.code, d.line) for d in diagnostics] == [("E002", 1)], text


def test_a_directory_or_missing_file_is_a_diagnostic_not_an_exception(tmp_path: Path) -> None:
    assert [d.code for d in validate_paths([tmp_path])] == ["E001"]
    assert [d.code for d in validate_paths([tmp_path / "nope.yaml"])] == ["E001"]


def test_the_example_loads_with_its_python_component(tmp_path: Path) -> None:
    write(tmp_path, "my_actors.py", MY_ACTORS)
    loaded = load_pipeline(write(tmp_path, "logs.yaml", EXAMPLE), registry=registry())
    assert loaded.ok and loaded.diagnostics == []
    assert loaded.graph is not None and loaded.graph.name == "logs"
    assert list(loaded.components) == ["python:my_actors:ParseLines"]
    assert loaded.components["python:my_actors:ParseLines"].__name__ == "ParseLines"
    assert loaded.kind == "spec"


def test_no_import_leaves_python_components_unchecked(tmp_path: Path) -> None:
    write(tmp_path, "my_actors.py", "raise SystemExit('must not run')\n")
    text = EXAMPLE.replace("read.output -> parse.in", "read.output -> parse.whatever")
    loaded = load_pipeline(write(tmp_path, "logs.yaml", text), registry=registry(), allow_import=False)
    assert loaded.ok, loaded.diagnostics
    assert loaded.components == {}
    failed = load_pipeline(write(tmp_path, "logs.yaml", text), registry=registry())
    assert [d.code for d in failed.diagnostics] == ["E017"]
    assert "SystemExit: must not run" in failed.diagnostics[0].message


def test_same_module_name_in_two_folders_imports_each_folders_own(tmp_path: Path) -> None:
    for name, port in (("one", "in"), ("two", "other")):
        folder = tmp_path / name
        folder.mkdir()
        write(folder, "my_actors.py", MY_ACTORS.replace('inports = ["in"]', f'inports = ["{port}"]'))
        write(folder, "logs.yaml", EXAMPLE)
    first = load_pipeline(tmp_path / "one" / "logs.yaml", registry=registry())
    second = load_pipeline(tmp_path / "two" / "logs.yaml", registry=registry())
    assert first.ok
    assert [d.code for d in second.diagnostics] == ["E012"]  # its ParseLines has no 'in'


def test_overrides_reach_into_the_config(tmp_path: Path) -> None:
    write(tmp_path, "my_actors.py", MY_ACTORS)
    path = write(tmp_path, "logs.yaml", EXAMPLE)
    loaded = load_pipeline(path, registry=registry(),
                           overrides=["read.path=other.log", "keep.value=[1, 2]", "count.extra.deep=true"])
    assert loaded.spec is not None
    assert loaded.spec["nodes"]["read"]["config"]["path"] == "other.log"
    assert loaded.spec["nodes"]["keep"]["config"]["value"] == [1, 2]
    assert loaded.spec["nodes"]["count"]["config"]["extra"] == {"deep": True}
    assert loaded.ok


def test_bad_overrides_are_diagnostics_on_the_command_line(tmp_path: Path) -> None:
    write(tmp_path, "my_actors.py", MY_ACTORS)
    path = write(tmp_path, "logs.yaml", EXAMPLE)
    loaded = load_pipeline(path, registry=registry(),
                           overrides=["raed.path=x", "nodot", "read.path=[unclosed", "read.path.x=1", "read.path=5"])
    found = [(d.file, d.line, d.code) for d in loaded.diagnostics]
    assert found == [  # line N is the N-th override
        ("<command line>", 1, "E011"),
        ("<command line>", 2, "E002"),
        ("<command line>", 3, "E001"),
        ("<command line>", 4, "E002"),
        ("<command line>", 5, "E015"),
    ]
    assert loaded.diagnostics[0].hint == "did you mean 'read'?"
    assert loaded.diagnostics[4].pointer == "/nodes/read/config/path"
    assert loaded.graph is None


def test_broken_graph_json_exports_are_located(tmp_path: Path) -> None:
    data = ROOT / "tests" / "graph" / "data" / "invalid"
    found = {p.stem: [(d.code, d.line) for d in validate_paths([p])] for p in sorted(data.glob("*.json"))}
    assert found == {
        "ghost_group_member": [("E011", 8)],
        "non_message_iip": [("E014", 5)],
        "stale_group_member": [("E011", 8)],
    }
    shape = write(tmp_path, "shape.json", '{"caseSensitive": true, "properties": {"name": "x"},\n "processes": [1]}\n')
    assert [(d.code, d.line, d.column) for d in validate_paths([shape])] == [("E002", 2, 15)]
    as_yaml = write(tmp_path, "export.yaml", "caseSensitive: false\nproperties: {name: y}\nprocesses: {a: {id: a, component: x}}\n")
    loaded = load_pipeline(as_yaml, components=False)
    assert loaded.ok and loaded.kind == "graph" and loaded.graph is not None and loaded.graph.name == "y"


def test_an_override_from_a_mis_encoded_command_line_is_a_diagnostic(tmp_path: Path) -> None:
    write(tmp_path, "my_actors.py", MY_ACTORS)
    loaded = load_pipeline(write(tmp_path, "logs.yaml", EXAMPLE), registry=registry(), overrides=["read.path=\udcff"])
    assert [(d.file, d.code) for d in loaded.diagnostics] == [("<command line>", "E001")]


def test_what_a_python_component_prints_while_imported_goes_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "my_actors.py", "print('hello from import')\n" + MY_ACTORS)
    loaded = load_pipeline(write(tmp_path, "logs.yaml", EXAMPLE), registry=registry())
    assert loaded.ok
    out, err = capsys.readouterr()
    assert out == "" and "hello from import" in err
