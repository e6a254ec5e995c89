"""Data family: JSON parsing, the data transformer, data operations and the generator, through a real Network."""

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


# -- tpl_generator ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "items"),
    [
        ({"type": "range", "start": 0, "end": 5, "step": 2}, [0.0, 2.0, 4.0]),
        ({"type": "range", "start": 3, "end": 0, "step": -1}, [3.0, 2.0, 1.0]),
        ({"type": "range", "start": 0, "end": 0.35, "step": 0.1}, [0.0, 0.1, 0.2, 0.30000000000000004]),
        ({"type": "range", "step": 0}, []),
        ({"type": "linspace", "start": 0, "end": 1, "count": 5}, [0.0, 0.25, 0.5, 0.75, 1.0]),
        ({"type": "linspace", "start": 2, "end": 9, "count": 1}, [2.0]),
        ({"type": "repeat", "value": {"a": 1}, "count": 2}, [{"a": 1}, {"a": 1}]),
        ({"type": "index", "count": 2, "template": {"id": "n$i", "at": "$t", "i": "$i", "k$i": [1, "$i"]}},
         [{"id": "n0", "at": 0.0, "i": 0, "k0": [1, 0]}, {"id": "n1", "at": 1.0, "i": 1, "k1": [1, 1]}]),
        ({"type": "grid", "width": 2, "height": 1, "depth": 2, "spacing": 2, "center": False},
         [{"x": 0.0, "y": 0.0, "z": 0.0, "ix": 0, "iy": 0, "iz": 0}, {"x": 2.0, "y": 0.0, "z": 0.0, "ix": 1, "iy": 0, "iz": 0},
          {"x": 0.0, "y": 0.0, "z": 2.0, "ix": 0, "iy": 0, "iz": 1}, {"x": 2.0, "y": 0.0, "z": 2.0, "ix": 1, "iy": 0, "iz": 1}]),
    ],
)
def test_generator_types(config: dict, items: list) -> None:
    result = run_component("tpl_generator", config, {"trigger": [FLOW]})
    assert result.one("output") == Message.array(items)
    assert result.one("metadata")["data"] == {"type": config["type"], "count": len(items)}


def test_generator_params_merge_over_the_config() -> None:
    result = run_component("tpl_generator", {"type": "repeat", "value": "x"}, {"params": [T("Object", {"count": 3}), T("Object", {"type": "range", "end": 2})]})
    assert result.data("output") == [["x", "x", "x"], [0.0, 1.0]]


def test_generator_streams_items_then_a_flow() -> None:
    result = run_component("tpl_generator", {"type": "range", "end": 3, "emit": "items"}, {"trigger": [FLOW]})
    assert result.json()["output"] == [Message.float(v).as_json() for v in (0.0, 1.0, 2.0)] + [{"type": "Flow"}]
    assert result.one("metadata")["data"] == {"type": "range", "count": 3}


def test_generator_errors() -> None:
    result = run_component("tpl_generator", {}, {"params": [T("Object", {"type": "spiral"}), T("Object", {"count": -1, "type": "repeat"}), T("Integer", 3)]})
    assert result.data("error") == [
        "unknown generator type: 'spiral' (use one of range, linspace, repeat, index, grid)",
        "`count` must be a whole number >= 0, not -1",
        "Expected Object on params port, got Integer",
    ]
    result = run_component("tpl_generator", {"type": "range", "end": 1e9, "maxItems": 1000}, {"trigger": [FLOW]})
    assert result.data("error") == ["range would make 1000000000 items, more than maxItems (1000)"]
    result = run_component("tpl_generator", {}, {"params": [T("Object", {"type": "grid", "width": 0})]})
    assert result.data("error") == ["grid needs width, height and depth of at least 1"]


# -- tpl_data_operations ---------------------------------------------------------------------------


def OPS(*operations: dict) -> dict:  # noqa: N802
    return {"dataOperations": [{"operations": list(operations)}]}


PEOPLE = T("Array", [{"name": "zoe", "age": 30, "team": "b"}, {"name": "al", "age": 9, "team": "a"}, {"name": "bo", "age": 18, "team": "b"}])


@pytest.mark.parametrize(
    ("operations", "expected"),
    [
        ([{"type": "filter", "filterExpression": "item.age >= 18"}], [{"name": "zoe", "age": 30, "team": "b"}, {"name": "bo", "age": 18, "team": "b"}]),
        ([{"type": "filter", "filterExpression": "age < 18 || name === 'bo'"}], [{"name": "al", "age": 9, "team": "a"}, {"name": "bo", "age": 18, "team": "b"}]),
        ([{"type": "sort", "sortField": "item.age"}, {"type": "map", "mapping": [{"sourceField": "name", "targetField": "who"}]}],
         [{"name": n, "age": a, "team": t, "who": n} for n, a, t in (("al", 9, "a"), ("bo", 18, "b"), ("zoe", 30, "b"))]),
        ([{"type": "sort", "sortField": "name", "sortDirection": "desc"}, {"type": "transform", "transformExpression": "data.map_names" }], None),
        ([{"type": "group", "groupByField": "item.team"}], {"b": [{"name": "zoe", "age": 30, "team": "b"}, {"name": "bo", "age": 18, "team": "b"}], "a": [{"name": "al", "age": 9, "team": "a"}]}),
        ([{"type": "aggregate", "aggregateField": "item.age", "aggregateFunction": "avg"}], {"avg": 19.0}),
        ([{"type": "aggregate", "aggregateField": "age", "aggregateFunction": "max"}], {"max": 30}),
        ([{"type": "aggregate"}], {"count": 3}),
        ([{"type": "transform", "transformExpression": "data.length"}], 3),
        ([{"type": "transform", "transformExpression": "[p.name for p in data]", "enabled": False}, {"type": "transform", "transformExpression": "data[0].name.upper()"}], "ZOE"),
        ([{"type": "map", "mapping": [{"sourceField": "age", "targetField": "adult", "transform": "item.age >= 18 ? 1 : 0"}]}], "error"),
    ],
)
def test_data_operations_work_on_the_data(operations: list, expected: object) -> None:
    result = run_component("tpl_data_operations", OPS(*operations), {"data": [PEOPLE]})
    if expected == "error":
        assert result.data("error") and "Syntax error" in result.data("error")[0]
    elif expected is None:
        assert result.one("output") == Message.optional(None)
    else:
        assert result.one("output")["data"] == expected


def test_data_operations_javascript_spellings() -> None:
    # graphs written for the reference's QuickJS expressions keep working for the common forms
    config = OPS(
        {"type": "filter", "filterExpression": "item.tags.includes('x') && !item.off && item.name.toUpperCase() !== 'B'"},
        {"type": "map", "mapping": [{"sourceField": "n", "targetField": "m", "transform": "Math.max(data.n * 2, 3)"}]},
    )
    data = T("Array", [{"name": "a", "tags": ["x"], "n": 1}, {"name": "b", "tags": ["x"], "n": 2}, {"name": "c", "tags": [], "n": 3}, {"name": "d", "tags": ["x"], "off": True, "n": 4}])
    result = run_component("tpl_data_operations", config, {"data": [data]})
    assert result.one("output")["data"] == [{"name": "a", "tags": ["x"], "n": 1, "m": 3}]


def test_data_operations_templates_read_the_input_ports() -> None:
    config = OPS({"type": "filter", "filterExpression": "item > ${input.get('data').data[0]}"})
    result = run_component("tpl_data_operations", config, {"data": [T("Array", [2, 1, 3, 5])]})
    assert result.one("output")["data"] == [3, 5]


def test_data_operations_every_set_sends_a_result() -> None:
    config = {"dataOperations": [{"operations": [{"type": "transform", "transformExpression": "data * 2"}]}, {"operations": [{"type": "transform", "transformExpression": "data + 1"}]}]}
    result = run_component("tpl_data_operations", config, {"data": [T("Integer", 5), FLOW]})
    assert result.json()["output"] == [Message.integer(10).as_json(), Message.integer(6).as_json(), {"type": "Flow"}]


def test_data_operations_errors() -> None:
    cases = [
        (OPS({"type": "filter", "filterExpression": "item.n >"}), T("Array", [1]), "tpl_data_operations: operation 0 (filter): Syntax error: unexpected end of expression at position 8"),
        (OPS({"type": "filter", "filterExpression": "item > 1"}), T("Object", {"a": 1}), "tpl_data_operations: operation 0 (filter): filter needs an Array, got Object"),
        (OPS({"type": "transform", "transformExpression": "data / 0"}), T("Integer", 1), "tpl_data_operations: operation 0 (transform): division by zero at position 5"),
        (OPS({"type": "aggregate", "aggregateField": "item", "aggregateFunction": "sum"}), T("Array", [1, "x"]), 'tpl_data_operations: operation 0 (aggregate): aggregate sum: element 1 gives "x", not a number'),
        (OPS({"type": "map", "mapping": [{"sourceField": "a", "targetField": "b"}]}), T("Array", [3]), "tpl_data_operations: operation 0 (map): map: element 0 is not an Object: 3"),
        (OPS({"type": "filter", "filterExpression": "unknown_name"}), T("Array", [1]), "tpl_data_operations: operation 0 (filter): Unknown name 'unknown_name' (variables: data, index, input, item) at position 0"),
    ]
    for config, data, text in cases:
        result = run_component("tpl_data_operations", config, {"data": [data]})
        assert result.data("error") == [text], result.json()


def test_data_operations_without_operations_passes_the_packet() -> None:
    result = run_component("tpl_data_operations", {}, {"data": [PEOPLE]})
    assert result.one("output") == Message.from_json(PEOPLE)
