"""The catalog's shared helpers (field paths, numbers, JSON comparisons, templates)."""

from __future__ import annotations

import pytest

from reflow_cli import Message
from reflow_cli.catalog._common import MISSING, compare, get_field, json_equal, json_text, natural, render_template, to_number, truthy


@pytest.mark.parametrize(
    ("text", "number"),
    [("1", 1), (" -2 ", -2), ("+7", 7), ("1.5", 1.5), (".5", 0.5), ("5.", 5.0), ("1e3", 1000.0), ("-.5e1", -5.0),
     ("1_000", None), ("nan", None), ("inf", None), ("1e400", None), ("0x10", None), ("", None), ("١٢", None), (".", None)],
)
def test_to_number_of_strings(text: str, number: object) -> None:
    assert to_number(text) == number and type(to_number(text)) is type(number)


def test_to_number_of_other_values() -> None:
    assert to_number(3) == 3 and to_number(2.5) == 2.5
    assert to_number(True) is None and to_number(None) is None and to_number([1]) is None


def test_get_field() -> None:
    data = {"a": {"b": [10, {"c": "x"}]}, "a.b": "flat", "list": [1, 2]}
    assert get_field(data, "a.b[1].c") == "x"
    assert get_field(data, "a.b") == "flat"  # an exact key wins
    assert get_field(data, "list[-1]") == 2
    assert get_field([{"n": 1}], "[0].n") == 1
    assert get_field(data, "") is data and get_field(data, None) is data
    for path in ("zz", "a.b[5]", "a..b", "list.x", "a[0]", "list[x]"):
        assert get_field(data, path) is MISSING, path


def test_json_equal_and_truthy() -> None:
    assert json_equal(2, 2.0) and json_equal({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not json_equal(True, 1) and not json_equal(0, False) and not json_equal("1", 1) and not json_equal(None, 0)
    assert [truthy(v) for v in (None, False, 0, 0.0, "", [], {}, "0", MISSING)] == [False] * 5 + [True] * 3 + [False]


def test_compare_missing_fields_never_match_but_are_empty() -> None:
    assert not compare(MISSING, "equals", None) and not compare(MISSING, "not_equals", 1)
    assert not compare(MISSING, "greater_than", 0) and not compare(MISSING, "contains", "a")
    assert compare(MISSING, "is_empty", None) and not compare(MISSING, "not_null", None)


def test_render_template() -> None:
    data = {"n": 3, "name": "x", "nested": {"k": [1]}}
    assert render_template("${name}:${n:02d}:${nested.k[0]}:${value}", data) == 'x:03:1:{"n":3,"name":"x","nested":{"k":[1]}}'
    assert render_template("$$${n} $${n} ${missing}", data) == "$3 ${n} ${missing}"
    assert render_template("[${missing}]", data, "empty") == "[]"
    with pytest.raises(KeyError):
        render_template("${missing}", data, "error")
    assert render_template("${value:>4}", "ab") == "  ab"
    assert render_template("${value:.1f}", "not a number") == "not a number"


def test_natural_and_json_text() -> None:
    assert natural({"a": 1}) == Message.object({"a": 1}) and natural([1]) == Message.array([1])
    assert natural(True) == Message.boolean(True) and natural(2**70) == Message.float(float(2**70))
    assert natural(None) == Message.optional(None)
    assert json_text({"é": [1, 2.5, None, float("nan")]}) == '{"é":[1,2.5,null,null]}'
