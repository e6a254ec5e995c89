"""Math family: real behaviour through a real Network, error outputs included."""

from __future__ import annotations

import math

import pytest

from reflow_cli import Network
from reflow_cli.catalog.math import round_to
from tests.catalog._helpers import run_component, tagged as T


def I(n: int) -> dict:  # noqa: E743
    return T("Integer", n)


def F(x: float) -> dict:
    return T("Float", x)


def S(text: str) -> dict:
    return T("String", text)


FLOW = T("Flow")


# -- two operands ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "a", "b", "expected"),
    [
        ("tpl_math_add", I(2), F(3.5), 5.5),
        ("tpl_math_add", I(2), I(3), 5.0),
        ("tpl_math_add", S(" 2.5 "), S("1e1"), 12.5),
        ("tpl_math_subtract", I(2), F(3.5), -1.5),
        ("tpl_math_multiply", F(0.1), I(3), 0.3),
        ("tpl_math_divide", I(1), I(3), 0.3333333333),
        ("tpl_math_modulo", I(-7), I(3), -1.0),
        ("tpl_math_modulo", F(7.5), I(2), 1.5),
    ],
)
def test_binary_operations_give_floats(template: str, a: dict, b: dict, expected: float) -> None:
    result = run_component(template, {}, {"a": [a], "b": [b]})
    message = result.one("result")
    assert message["type"] == "Float" and message["data"] == expected


def test_operands_pair_in_arrival_order() -> None:
    result = run_component("tpl_math_subtract", {}, {"a": [I(10), I(20), I(30)], "b": [I(1), I(2), I(3)]})
    assert result.data("result") == [9.0, 18.0, 27.0]


def test_an_unconnected_operand_comes_from_the_config() -> None:
    result = run_component("tpl_math_add", {"b": 1}, {"a": [I(1), I(2), F(2.5)]})
    assert result.data("result") == [2.0, 3.0, 3.5]
    result = run_component("tpl_math_power", {"exponent": 2}, {"base": [I(3)]})
    assert result.data("result") == [9.0]


def test_a_missing_operand_is_an_error_not_silence() -> None:
    result = run_component("tpl_math_add", {}, {"a": [I(1)]})
    assert result.data("error") == ["tpl_math_add needs `b`: connect its port or set `b` in the config"]
    result = run_component("tpl_math_add", {"b": "x"}, {"a": [I(1)]})
    assert result.data("error") == ['config b is not a number: String "x"']


@pytest.mark.parametrize(
    ("a", "text"),
    [
        (S("x"), 'a is not a number: String "x"'),
        (T("Boolean", True), "a is not a number: Boolean true"),
        (T("Array", [1]), "a is not a number: Array [1]"),
        (T("Optional", None), "a is not a number: null"),
        (S("nan"), 'a is not a number: String "nan"'),
    ],
)
def test_non_numbers_go_to_error(a: dict, text: str) -> None:
    result = run_component("tpl_math_multiply", {}, {"a": [a], "b": [I(2)]})
    assert result.data("error") == [text] and "result" not in result.outputs


def test_division_and_modulo_by_zero() -> None:
    assert run_component("tpl_math_divide", {}, {"a": [I(1)], "b": [F(0.0)]}).data("error") == ["Division by zero"]
    assert run_component("tpl_math_modulo", {}, {"a": [I(1)], "b": [I(0)]}).data("error") == ["Modulo by zero"]


def test_power_overflow_and_non_real_results_are_errors() -> None:
    result = run_component("tpl_math_power", {}, {"base": [I(10), I(-8), I(2)], "exponent": [I(400), F(0.5), I(-1)]})
    assert result.data("result") == [0.5]
    assert result.data("error") == ["10.0 to the power 400.0 overflows", "-8.0 to the power 0.5 is not a real number"]


def test_a_flow_passes_through() -> None:
    result = run_component("tpl_math_add", {}, {"a": [FLOW], "b": [I(1)]})
    assert result.json()["result"] == [{"type": "Flow"}]
    result = run_component("tpl_math_sqrt", {}, {"input": [FLOW]})
    assert result.json()["result"] == [{"type": "Flow"}]


def test_precision_rounds_halves_away_from_zero() -> None:
    result = run_component("tpl_math_add", {"precision": 1}, {"a": [F(1.25), F(-1.25)], "b": [I(0), I(0)]})
    assert result.data("result") == [1.3, -1.3]
    assert round_to(2.5, 0) == 3.0 and round_to(-2.5, 0) == -3.0 and round_to(0.125, 2) == 0.13
    assert round_to(1e300, 10) == 1e300  # scaling overflows: the value is kept


def test_min_max() -> None:
    result = run_component("tpl_math_min_max", {}, {"a": [I(3), F(-2.0)], "b": [F(-1.5), F(-2.0)]})
    assert result.data("min") == [-1.5, -2.0] and result.data("max") == [3.0, -2.0]
    assert run_component("tpl_math_min_max", {}, {"a": [S("?")], "b": [I(1)]}).data("error") == ['a is not a number: String "?"']


# -- one operand ---------------------------------------------------------------------------------------


def test_sqrt_absolute_clamp() -> None:
    assert run_component("tpl_math_sqrt", {}, {"input": [I(2)]}).data("result") == [1.4142135624]
    assert run_component("tpl_math_sqrt", {}, {"input": [I(-1)]}).data("error") == ["Square root of negative number"]
    assert run_component("tpl_math_absolute", {}, {"input": [I(-3), F(2.5), S("-0.5")]}).data("result") == [3.0, 2.5, 0.5]
    result = run_component("tpl_math_clamp", {"min": -1, "max": 1}, {"input": [I(5), F(-7.5), F(0.25)]})
    assert result.data("result") == [1.0, -1.0, 0.25]
    assert run_component("tpl_math_absolute", {}, {"input": [S("abc")]}).data("error") == ['input is not a number: String "abc"']


def test_clamp_with_min_above_max_is_an_error() -> None:
    # the reference's Rust f64::clamp panics and aborts the whole process
    result = run_component("tpl_math_clamp", {"min": 5, "max": 1}, {"input": [I(3)]})
    assert result.data("error") == ["min (5.0) is greater than max (1.0)"]


@pytest.mark.parametrize(
    ("mode", "precision", "value", "expected"),
    [
        ("round", 0, 2.5, 3.0),
        ("round", 0, -2.5, -3.0),
        ("round", 2, 1.005, 1.0),  # 1.005 is 1.00499999... in binary
        ("round", 1, 0.25, 0.3),
        ("round", 10, 2.7, 2.7),
        ("floor", 10, -2.2, -3.0),
        ("ceil", 10, 2.2, 3.0),
        ("trunc", 10, -2.7, -2.0),
    ],
)
def test_round_modes(mode: str, precision: int, value: float, expected: float) -> None:
    result = run_component("tpl_math_round", {"mode": mode, "precision": precision}, {"input": [F(value)]})
    assert result.data("result") == [expected]


def test_random_is_uniform_over_the_range_and_seedable() -> None:
    # the reference's values only covered [min, min + 0.23 (max - min))
    net_inputs = {"trigger": [FLOW] * 60}
    result = run_component("tpl_math_random", {"min": 10, "max": 20}, net_inputs)
    values = result.data("result")
    assert len(values) == 60 and all(10 <= v < 20 for v in values)
    assert max(values) > 16 and min(values) < 14  # P(failure) < 1e-13
    one = run_component("tpl_math_random", {"seed": 7}, {"trigger": [FLOW] * 3}).data("result")
    two = run_component("tpl_math_random", {"seed": 7}, {"trigger": [FLOW] * 3}).data("result")
    assert one == two and len(set(one)) == 3
    assert run_component("tpl_math_random", {"min": 2, "max": 1}, {"trigger": [FLOW]}).data("error") == [
        "min (2.0) is greater than max (1.0)"
    ]


# -- Arrays ------------------------------------------------------------------------------------------------


def test_sum_average_of_real_arrays() -> None:
    values = T("Array", [1, 2, 3.5, "4"])
    assert run_component("tpl_math_sum", {}, {"values": [values]}).data("result") == [10.5]
    assert run_component("tpl_math_average", {}, {"values": [values]}).data("result") == [2.625]
    assert run_component("tpl_math_sum", {}, {"values": [T("Array", [0.1] * 10)]}).data("result") == [1.0]
    assert run_component("tpl_math_sum", {}, {"values": [T("Array", [])]}).data("result") == [0.0]


def test_sum_and_average_of_a_field() -> None:
    rows = T("Array", [{"ms": 10}, {"ms": 20}, {"ms": 45}])
    assert run_component("tpl_math_sum", {"field": "ms"}, {"values": [rows]}).data("result") == [75.0]
    assert run_component("tpl_math_average", {"field": "ms"}, {"values": [rows]}).data("result") == [25.0]
    result = run_component("tpl_math_sum", {"field": "ms"}, {"values": [T("Array", [{"ms": 1}, {"x": 2}])]})
    assert result.data("error") == ["element 1 field 'ms' is missing"]


def test_array_errors() -> None:
    assert run_component("tpl_math_sum", {}, {"values": [T("Array", [1, "x"])]}).data("error") == ['element 1 is not a number: String "x"']
    assert run_component("tpl_math_average", {}, {"values": [I(3)]}).data("error") == ["Expected Array on values port, got Integer"]
    assert run_component("tpl_math_average", {}, {"values": [T("Array", [])]}).data("error") == [
        "the average of an empty Array is undefined"
    ]
    assert run_component("tpl_math_statistics", {}, {"values": [T("Array", [True])]}).data("error") == [
        "element 0 is not a number: Boolean true"
    ]


def test_statistics() -> None:
    result = run_component("tpl_math_statistics", {"precision": 4}, {"values": [T("Array", [4, 1, 3, 2, 10])]})
    assert result.data("mean") == [4.0] and result.data("median") == [3.0]
    assert result.data("stddev") == [round(math.sqrt(10.0), 4)]
    assert result.data("min") == [1.0] and result.data("max") == [10.0] and result.data("count") == [5]
    empty = run_component("tpl_math_statistics", {}, {"values": [T("Array", [])]})
    assert empty.json() == {"count": [{"type": "Integer", "data": 0}]}


# -- expressions --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "value", "expected"),
    [
        ("$x * 2 + 1", I(4), 9.0),
        ("$input ^ 2", I(3), 9.0),
        ("2 ^ 3 ^ 2", I(0), 512.0),
        ("-7 % 3", I(0), -1.0),
        ("sqrt(x) + abs(-1)", F(16.0), 5.0),
        ("max(value, 10) / 4", I(3), 2.5),
        ("round(x / 3, 2)", I(1), 0.33),
        ("x > 3", I(5), 1.0),
        ("10 if x > 3 else 20", I(1), 20.0),
        ("$x * 2", S("1.5"), 3.0),
        ("Math.PI * 0", I(0), 0.0),
    ],
)
def test_expression_values(expression: str, value: dict, expected: float) -> None:
    result = run_component("tpl_math_expression", {"expression": expression}, {"input": [value]})
    assert result.json() == {"result": [{"type": "Float", "data": expected}]}


def test_expression_with_object_fields() -> None:
    result = run_component("tpl_math_expression", {"expression": "$price * qty"}, {"input": [T("Object", {"price": 2.5, "qty": 4})]})
    assert result.data("result") == [10.0]


@pytest.mark.parametrize(
    ("expression", "value", "text"),
    [
        ("2 +* 3", I(0), "tpl_math_expression: Syntax error: unexpected '*' at position 3"),
        ("$x +", I(0), "tpl_math_expression: Syntax error: unexpected end of expression at position 4"),
        ("$input / 0", I(1), "tpl_math_expression: division by zero at position 7"),
        ("y + 1", I(1), "tpl_math_expression: Unknown name 'y' (variables: input, value, x) at position 0"),
        ("'a' + 1", I(1), "tpl_math_expression: cannot add String and Integer at position 4"),
        ("__import__('os')", I(1), "tpl_math_expression: names starting with '_' are not allowed ('__import__') at position 0"),
        ("x.__class__", I(1), "tpl_math_expression: fields starting with '_' must be read as x['__class__'] at position 0"),
        ("'abc'", I(1), 'tpl_math_expression: the result is not a number: String "abc"'),
        ("10 ** 400", I(1), "tpl_math_expression: numeric overflow at position 3"),
        ("1e308 * 10", I(1), "tpl_math_expression: numeric overflow at position 6"),
    ],
)
def test_expression_errors_name_the_position(expression: str, value: dict, text: str) -> None:
    result = run_component("tpl_math_expression", {"expression": expression}, {"input": [value]})
    assert result.data("error") == [text]


def test_expression_forwards_flow_and_reports_non_numbers() -> None:
    result = run_component("tpl_math_expression", {"expression": "$x + 1"}, {"input": [FLOW, S("x")]})
    assert result.json()["result"] == [{"type": "Flow"}]
    assert result.data("error") == ['tpl_math_expression: cannot add String and Integer at position 3']


def test_math_nodes_validate_their_config() -> None:
    net = Network()
    net.add_node("r", "tpl_math_round", {"mode": "bankers"})
    with pytest.raises(Exception, match="mode"):
        net.start()
