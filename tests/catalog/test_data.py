"""Data family: JSON parsing and the data transformer, through a real Network."""

from __future__ import annotations

import pytest

from reflow_cli import Message
from tests.catalog._helpers import run_component, tagged as T

FLOW = T("Flow")


# -- tpl_json_parser -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": [1, 2]}', Message.object({"a": [1, 2]})),
        ("[1, 2]", Message.array([1, 2])),
        ("42", Message.integer(42)),
        ("4.5", Message.float(4.5)),
        ('"s"', Message.string("s")),
        ("true", Message.boolean(True)),
        ("null", Message.optional(None)),
        ("123456789012345678901234567890", Message.float(1.2345678901234568e29)),
    ],
)
def test_json_parser_gives_natural_kinds(text: str, expected: Message) -> None:
    result = run_component("tpl_json_parser", {}, {"input": [T("String", text)]})
    assert result.one("output") == expected


def test_json_parser_paths_and_bytes() -> None:
    doc = '{"items": [{"name": "a"}, {"name": "b", "tags": ["x"]}], "a.b": 1}'
    cases = {"items[1].tags[0]": Message.string("x"), "items[-1].name": Message.string("b"), "a.b": Message.integer(1),
             "items[5]": Message.optional(None), "nope.x": Message.optional(None)}
    for path, expected in cases.items():
        result = run_component("tpl_json_parser", {"path": path}, {"input": [T("String", doc)]})
        assert result.one("output") == expected, path
    result = run_component("tpl_json_parser", {}, {"input": [T("Bytes", list('{"é": 1}'.encode()))]})
    assert result.one("output") == Message.object({"é": 1})


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (T("String", ""), "JSON parse error: Expecting value at line 1 column 1"),
        (T("String", '{"a": 1} x'), "JSON parse error: Extra data at line 1 column 10"),
        (T("String", "[NaN]"), "JSON parse error: NaN is not valid JSON"),
        (T("String", '{\n  "a": }'), "JSON parse error: Expecting value at line 2 column 8"),
        (T("Bytes", [255, 0]), "JSON parse error: invalid UTF-8 at byte 0"),
        (T("Integer", 5), "Expected String or Bytes on input port"),
        (T("Object", {"a": 1}), "Expected String or Bytes on input port"),
    ],
)
def test_json_parser_errors(message: dict, error: str) -> None:
    result = run_component("tpl_json_parser", {}, {"input": [message]})
    assert result.data("error") == [error]
    assert "output" not in result.outputs


def test_json_parser_forwards_flow() -> None:
    result = run_component("tpl_json_parser", {}, {"input": [T("String", "1"), FLOW]})
    assert result.json()["output"] == [T("Integer", 1), FLOW]


# -- tpl_data_transformer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message", "expected"),
    [
        ({}, T("String", "v"), T("String", "v")),
        ({"operation": "to_uppercase"}, T("String", "straße"), T("String", "STRASSE")),
        ({"transform_type": "to_lowercase", "operation": "to_uppercase"}, T("String", "AbC"), T("String", "abc")),
        ({"operation": "to_lowercase"}, T("Array", ["A"]), T("Array", ["A"])),
        ({"operation": "to_json"}, T("Object", {"a": [1, "é"]}), T("String", '{"a":[1,"é"]}')),
        ({"operation": "to_json"}, T("String", "x"), T("String", '"x"')),
        ({"operation": "from_json"}, T("String", '{"a": 1}'), T("Object", {"a": 1})),
        ({"operation": "from_json"}, T("String", "2.5"), T("Float", 2.5)),
        ({"operation": "from_json"}, T("Integer", 3), T("Integer", 3)),
        ({"operation": "extract_field", "field": "a.b"}, T("Object", {"a": {"b": [1]}}), T("Array", [1])),
        ({"operation": "extract_field", "field_name": "x", "field": "a"}, T("Object", {"a": 1, "x": "s"}), T("String", "s")),
        ({"operation": "extract_field", "field": "zz"}, T("Object", {"a": 1}), T("Optional", None)),
        ({"operation": "extract_field", "field": "a"}, T("Integer", 1), T("Integer", 1)),
        ({"operation": "set_field", "field_name": "z", "field_value": [1]}, T("Object", {"a": 1}), T("Object", {"a": 1, "z": [1]})),
        ({"operation": "set_field", "field": "z", "value": None}, T("String", "s"), T("Object", {"z": None})),
        ({"operation": "template", "template": "<${value}>"}, T("Object", {"a": 1}), T("String", '<{"a":1}>')),
        ({"operation": "template"}, T("Integer", 5), T("Integer", 5)),
        ({"operation": "to_uppercase"}, FLOW, FLOW),
    ],
)
def test_data_transformer(config: dict, message: dict, expected: dict) -> None:
    result = run_component("tpl_data_transformer", config, {"input": [message]})
    assert result.one("output") == Message.from_json(expected)


def test_set_field_does_not_change_the_input() -> None:
    original = {"a": 1}
    message = Message.object(original)
    result = run_component("tpl_data_transformer", {"operation": "set_field", "field": "b", "value": 2}, {"input": [message]})
    assert result.one("output")["data"] == {"a": 1, "b": 2}
    assert original == {"a": 1}


def test_template_fills_fields() -> None:
    config = {"operation": "template", "template": "${name} ${scores[1]:>5.1f} ${missing} $$${price} ${.value}"}
    data = {"name": "ada", "scores": [1, 2.25], "price": 3, "value": "v"}
    result = run_component("tpl_data_transformer", config, {"input": [T("Object", data)]})
    assert result.one("output") == Message.string("ada   2.2 ${missing} $3 v")


def test_from_json_error() -> None:
    result = run_component("tpl_data_transformer", {"operation": "from_json"}, {"input": [T("String", "{")]})
    assert result.data("error") == ["JSON parse error: Expecting property name enclosed in double quotes at line 1 column 2"]
