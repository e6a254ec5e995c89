"""Catalog templates (anchor §10) run in real reference networks: for each scenario the
template is node ``t`` with the scenario's config, its IIPs are added in order, and every
port in ``ports`` is wired to a Python sink that records what arrives (tagged JSON, per
port, arrival order).  The golden keeps each scenario's inputs next to its outputs, so
``tests/catalog/test_golden.py`` replays them against reflow's catalog.

Scenario fields: ``template``, ``config`` (strings may hold ``{dir}``, a fresh temporary
directory), ``iips`` ([port, tagged message] in order), ``ports`` (wired to the sink),
``files`` ({relative name: text} created in ``{dir}`` first), ``files_after`` (names read
back afterwards: text, or a byte list when not UTF-8; absent files are null), ``wait``
(seconds the network runs), ``mask`` (``time``: every digit in a received string becomes
9 and integers >= 1e9 become "<epoch>", for clock values), ``timing`` (also record when
each packet arrived, in seconds after start, rounded to 0.1), ``mask_keys`` (keys of
received objects whose values become "<masked>": durations, throughputs), ``http`` (a
local HTTP server is started for the case; ``{url}`` in the config is its address; with
``http: "record"`` what it received is kept in ``server_saw``).  An IIP written
``{"$stream": {"begin": {...} or null, "chunks": [text...], "error": text or null}}`` is a
StreamHandle whose frames are written before it is sent.  A StreamHandle that arrives at
the sink is read to its end: it is recorded as ``{"type": "StreamHandle", "data": handle
(stream_id "<id>"), "frames": [...]}`` (frame fields that are null are left out, data as
a byte list).  ``received`` maps port to the tagged messages; the temporary directory
shows as ``{dir}``."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
from typing import Any

from _harness import add_case

GOLDEN = "catalog.json"
ISOLATE = True
ABOUT = __doc__


def T(kind: str, data: Any = None) -> dict[str, Any]:
    return {"type": "Flow"} if kind == "Flow" else {"type": kind, "data": data}


def A(*items: Any) -> dict[str, Any]:
    return T("Array", list(items))


def S(text: str) -> dict[str, Any]:
    return T("String", text)


def I(value: int) -> dict[str, Any]:  # noqa: E743 - short on purpose
    return T("Integer", value)


def O(value: dict[str, Any]) -> dict[str, Any]:  # noqa: E743
    return T("Object", value)


SCENARIOS: dict[str, dict[str, Any]] = {}


def scenario(name: str, template: str, config: dict[str, Any] | None, iips: list[tuple[str, Any]], ports: list[str], **extra: Any) -> None:
    SCENARIOS[name] = {
        "template": template,
        "config": config,
        "iips": [[port, message] for port, message in iips],
        "ports": ports,
        **extra,
    }


FILTER_PORTS = ["output", "rejected", "error"]
SWITCH_PORTS = ["case1", "case2", "case3", "case4", "default"]
IF_PORTS = ["true-out", "false-out"]
REGEX_PORTS = ["matched", "matches", "error"]
DT_PORTS = ["output", "timestamp", "formatted", "error"]

# -- flow ---------------------------------------------------------------------------------------
scenario("passthrough/integer", "tpl_passthrough", None, [("input", I(5))], ["output"])
scenario("passthrough/flow_and_bytes", "tpl_passthrough", None, [("input", T("Flow")), ("input", T("Bytes", [1, 2]))], ["output"])
scenario("passthrough/other_port", "tpl_passthrough", None, [("foo", S("x"))], ["output"])

scenario("map/to_string", "tpl_map", {"operation": "to_string"}, [("input", A(1, 2.5, "x"))], ["output", "error"])
scenario("map/extract_field", "tpl_map", {"operation": "extract_field", "field": "a"}, [("input", A({"a": 1}, {"a": 2}, {"b": 3}))], ["output", "error"])
scenario("map/identity", "tpl_map", {"operation": "identity"}, [("input", A(1, 2))], ["output", "error"])
scenario("map/no_operation", "tpl_map", {}, [("input", A(1, 2))], ["output", "error"])
scenario("map/non_array", "tpl_map", {"operation": "to_string"}, [("input", I(3))], ["output", "error"])
scenario("map/to_number", "tpl_map", {"operation": "to_number"}, [("input", A(1, 2.5, "3", "x"))], ["output", "error"])

scenario("filter/truthy", "tpl_filter", {"condition": "truthy"}, [("input", A(0, 1, "", "a", None, True, False))], FILTER_PORTS)
scenario("filter/default_condition", "tpl_filter", {}, [("input", A(0, 1, "", "a", None, True, False, [], {}, 0.0))], FILTER_PORTS)
scenario("filter/not_null", "tpl_filter", {"condition": "not_null"}, [("input", A(0, 1, "", "a", None, True, False))], FILTER_PORTS)
scenario("filter/greater_than", "tpl_filter", {"condition": "greater_than", "value": 2}, [("input", A(1, 2, 3, 4))], FILTER_PORTS)
scenario("filter/greater_than_string_value", "tpl_filter", {"condition": "greater_than", "value": "2"}, [("input", A(1, 2, 3, 4))], FILTER_PORTS)
scenario("filter/less_than", "tpl_filter", {"condition": "less_than", "value": 3}, [("input", A(1, 2, 3, 4))], FILTER_PORTS)
scenario("filter/equals_mixed", "tpl_filter", {"condition": "equals", "value": 2}, [("input", A(1, 2, 3, "2", 2.0))], FILTER_PORTS)
scenario("filter/contains", "tpl_filter", {"condition": "contains", "value": "a"}, [("input", A("ab", "cd", "abc", 1, ["a"]))], FILTER_PORTS)
scenario("filter/field_equals", "tpl_filter", {"condition": "equals", "field": "level", "value": "ERROR"}, [("input", A({"level": "ERROR"}, {"level": "INFO"}, {"x": 1}))], FILTER_PORTS)
scenario("filter/field_greater_than", "tpl_filter", {"condition": "greater_than", "field": "n", "value": 2}, [("input", A({"n": 5}, {"n": 1}, {"x": 1}))], FILTER_PORTS)
scenario("filter/object_input", "tpl_filter", {"condition": "equals", "field": "level", "value": "ERROR"}, [("input", O({"level": "ERROR"}))], FILTER_PORTS)
scenario("filter/unknown_condition", "tpl_filter", {"condition": "bogus"}, [("input", A(1, 2))], FILTER_PORTS)
scenario("filter/nested_field", "tpl_filter", {"condition": "equals", "field": "a.b", "value": 1}, [("input", A({"a": {"b": 1}}, {"a": {"b": 2}}))], FILTER_PORTS)

for _op in ("sum", "product", "min", "max", "count", "first", "last"):
    scenario(f"reduce/{_op}", "tpl_reduce", {"operation": _op}, [("input", A(1, 2, 3.5))], ["output", "error"])
scenario("reduce/max_ints", "tpl_reduce", {"operation": "max"}, [("input", A(9, 2))], ["output", "error"])
scenario("reduce/concat", "tpl_reduce", {"operation": "concat"}, [("input", A("a", "b"))], ["output", "error"])
scenario("reduce/concat_mixed", "tpl_reduce", {"operation": "concat"}, [("input", A(1, "b", [1]))], ["output", "error"])
scenario("reduce/default_operation", "tpl_reduce", {}, [("input", A(1, 2, 3.5))], ["output", "error"])
scenario("reduce/first_object", "tpl_reduce", {"operation": "first"}, [("input", A({"a": 1}, 2))], ["output", "error"])
for _op in ("sum", "product", "min", "count", "concat"):
    scenario(f"reduce/empty_{_op}", "tpl_reduce", {"operation": _op}, [("input", A())], ["output", "error"])
scenario("reduce/sum_non_number", "tpl_reduce", {"operation": "sum"}, [("input", A("x", 2))], ["output", "error"])
scenario("reduce/non_array", "tpl_reduce", {"operation": "sum"}, [("input", I(3))], ["output", "error"])

scenario("merge/object", "tpl_merge", {}, [("a", I(1)), ("b", S("x"))], ["output"])
scenario("merge/array", "tpl_merge", {"mode": "array"}, [("a", I(1)), ("b", S("x"))], ["output"])

scenario("split/three", "tpl_split", {}, [("input", A(1, 2, 3))], ["head", "tail", "count", "error"])
scenario("split/empty", "tpl_split", {}, [("input", A())], ["head", "tail", "count", "error"])
scenario("split/object_head", "tpl_split", {}, [("input", A({"a": 1}))], ["head", "tail", "count", "error"])
scenario("split/non_array", "tpl_split", {}, [("input", I(4))], ["head", "tail", "count", "error"])

scenario("collect/count_3", "tpl_collect", {"count": 3}, [("input", I(i)) for i in range(4)], ["output", "count"])
scenario("collect/default_10", "tpl_collect", {}, [("input", I(i)) for i in range(12)], ["output", "count"])
scenario("collect/count_1", "tpl_collect", {"count": 1}, [("input", I(1)), ("input", I(2))], ["output", "count"])
scenario("collect/flow_is_collected", "tpl_collect", {"count": 3}, [("input", I(1)), ("input", T("Flow")), ("input", A(1)), ("input", I(2)), ("input", T("Flow"))], ["output", "count"])

scenario("switch/untagged_value", "tpl_switch", {"case1_value": "a"}, [("data", S("a"))], SWITCH_PORTS)
scenario("switch/tagged_value", "tpl_switch", {"case1_value": {"type": "String", "data": "a"}}, [("data", S("a"))], SWITCH_PORTS)
scenario("switch/integer_case2", "tpl_switch", {"case1_value": 1, "case2_value": 2}, [("data", I(2))], SWITCH_PORTS)
scenario("switch/switch_field", "tpl_switch", {"case1_value": 1, "switch_field": "k"}, [("data", O({"k": 1})), ("data", O({"k": 2}))], SWITCH_PORTS)
scenario("switch/field_alias", "tpl_switch", {"case1_value": 1, "field": "k"}, [("data", O({"k": 1})), ("data", O({"k": 2}))], SWITCH_PORTS)
scenario("switch/case4", "tpl_switch", {"case4_value": "x", "field": "k"}, [("data", O({"k": "x"}))], SWITCH_PORTS)
scenario("switch/first_case_wins", "tpl_switch", {"case1_value": 1, "case2_value": 1, "field": "k"}, [("data", O({"k": 1}))], SWITCH_PORTS)
scenario("switch/flow", "tpl_switch", {"case1_value": 1}, [("data", T("Flow"))], SWITCH_PORTS)

scenario("if_branch/greater_than", "tpl_if_branch", {"condition_type": "greater_than", "condition_value": 10}, [("data", I(11)), ("data", I(3))], IF_PORTS)
scenario("if_branch/truthy", "tpl_if_branch", {"condition_type": "truthy"}, [("data", I(1)), ("data", I(0))], IF_PORTS)
scenario("if_branch/equals_untagged", "tpl_if_branch", {"condition_type": "equals", "condition_value": 5}, [("data", I(5))], IF_PORTS)
scenario("if_branch/equals_tagged", "tpl_if_branch", {"condition_type": "equals", "condition_value": {"type": "Integer", "data": 5}}, [("data", I(5))], IF_PORTS)
scenario("if_branch/less_than_value_alias", "tpl_if_branch", {"condition_type": "less_than", "value": 10}, [("data", I(3))], IF_PORTS)
scenario("if_branch/contains", "tpl_if_branch", {"condition_type": "contains", "value": "ell"}, [("data", S("hello"))], IF_PORTS)
scenario("if_branch/is_empty", "tpl_if_branch", {"condition_type": "is_empty"}, [("data", S("")), ("data", A()), ("data", S("x")), ("data", T("Optional", None))], IF_PORTS)
scenario("if_branch/is_empty_object", "tpl_if_branch", {"condition_type": "is_empty"}, [("data", O({}))], IF_PORTS)
scenario("if_branch/condition_field", "tpl_if_branch", {"condition_type": "greater_than", "condition_field": "age", "condition_value": 18}, [("data", O({"age": 20})), ("data", O({"age": 10}))], IF_PORTS)
scenario(
    "if_branch/rules_and",
    "tpl_if_branch",
    {"decisionRules": {"type": "IF", "groups": [{"connector": "AND", "rules": [{"field": "age", "operator": "greater_than", "value": 18}]}]}},
    [("data", O({"age": 20})), ("data", O({"age": 10}))],
    IF_PORTS,
)
scenario(
    "if_branch/rules_or",
    "tpl_if_branch",
    {"decisionRules": {"type": "IF", "groups": [{"connector": "OR", "rules": [{"field": "age", "operator": "greater_than", "value": 18}, {"field": "n", "operator": "is", "value": "al"}]}]}},
    [("data", O({"age": 20, "n": "bob"})), ("data", O({"age": 10, "n": "al"})), ("data", O({"age": 1, "n": "x"}))],
    IF_PORTS,
)
scenario(
    "if_branch/rules_missing_field",
    "tpl_if_branch",
    {"decisionRules": {"type": "IF", "groups": [{"connector": "AND", "rules": [{"field": "a", "operator": "is_not", "value": 1}]}]}},
    [("data", O({"a": 2})), ("data", O({"b": 2}))],
    IF_PORTS,
)
scenario(
    "if_branch/rules_groups_or",
    "tpl_if_branch",
    {"decisionRules": {"type": "OR", "groups": [
        {"connector": "AND", "rules": [{"field": "a", "operator": "is", "value": 1}]},
        {"connector": "AND", "rules": [{"field": "b", "operator": "is", "value": 3}]},
    ]}},
    [("data", O({"a": 1, "b": 2})), ("data", O({"a": 2, "b": 3})), ("data", O({"a": 2, "b": 2}))],
    IF_PORTS,
)
scenario("if_branch/flow_truthy", "tpl_if_branch", {"condition_type": "truthy"}, [("data", T("Flow"))], IF_PORTS)

scenario("loop/items", "tpl_loop", {}, [("collection", A(10, "b", {"c": 1}))], ["item", "completed"])
scenario("loop/empty", "tpl_loop", {}, [("collection", A())], ["item", "completed"])
scenario("loop/non_array", "tpl_loop", {}, [("collection", I(3))], ["item", "completed"])

scenario("gate/open", "tpl_gate", {}, [("input", I(1)), ("control", T("Boolean", True))], ["output", "blocked"])
scenario("gate/closed", "tpl_gate", {}, [("input", I(1)), ("control", T("Boolean", False))], ["output", "blocked"])
scenario("gate/invert", "tpl_gate", {"invert": True}, [("input", I(1)), ("control", T("Boolean", True))], ["output", "blocked"])
scenario("gate/control_zero", "tpl_gate", {}, [("input", I(1)), ("control", I(0))], ["output", "blocked"])
scenario("gate/control_empty_string", "tpl_gate", {}, [("input", I(1)), ("control", S(""))], ["output", "blocked"])
scenario("gate/control_null", "tpl_gate", {}, [("input", I(1)), ("control", T("Optional", None))], ["output", "blocked"])
scenario("gate/input_only", "tpl_gate", {}, [("input", I(1))], ["output", "blocked"])
scenario(
    "gate/two_pairs",
    "tpl_gate",
    {},
    [("input", I(1)), ("input", I(2)), ("control", T("Boolean", True)), ("control", T("Boolean", False))],
    ["output", "blocked"],
)

scenario("delay/two_packets", "tpl_delay", {"delayMs": 100}, [("input", I(1)), ("input", I(2))], ["output"], wait=0.8, timing=True)

# -- data ---------------------------------------------------------------------------------------
scenario("json_parser/object", "tpl_json_parser", {}, [("input", S('{"a":[1,{"b":2}]}'))], ["output", "error"])
scenario("json_parser/path", "tpl_json_parser", {"path": "a[1].b"}, [("input", S('{"a":[1,{"b":2}]}'))], ["output", "error"])
scenario("json_parser/path_object", "tpl_json_parser", {"path": "a[1]"}, [("input", S('{"a":[1,{"b":2}]}'))], ["output", "error"])
scenario("json_parser/path_missing", "tpl_json_parser", {"path": "zz"}, [("input", S('{"a":1}'))], ["output", "error"])
scenario("json_parser/path_index_first", "tpl_json_parser", {"path": "[0].a"}, [("input", S('[{"a":1}]'))], ["output", "error"])
scenario("json_parser/array", "tpl_json_parser", {}, [("input", S("[1,2]"))], ["output", "error"])
scenario("json_parser/bytes", "tpl_json_parser", {}, [("input", T("Bytes", list(b'{"x":1}')))], ["output", "error"])
scenario("json_parser/bad_json", "tpl_json_parser", {}, [("input", S("{a:1}"))], ["output", "error"])
scenario("json_parser/integer_input", "tpl_json_parser", {}, [("input", I(5))], ["output", "error"])
scenario("json_parser/flow", "tpl_json_parser", {}, [("input", T("Flow"))], ["output", "error"])

DTR = ["output", "error"]
scenario("data_transformer/transform_type_upper", "tpl_data_transformer", {"transform_type": "to_uppercase"}, [("input", S("abc"))], DTR)
scenario("data_transformer/operation_lower", "tpl_data_transformer", {"operation": "to_lowercase"}, [("input", S("AbC"))], DTR)
scenario("data_transformer/upper_non_string", "tpl_data_transformer", {"operation": "to_uppercase"}, [("input", I(3))], DTR)
scenario("data_transformer/to_json", "tpl_data_transformer", {"operation": "to_json"}, [("input", I(3))], DTR)
scenario("data_transformer/from_json", "tpl_data_transformer", {"operation": "from_json"}, [("input", S('{"a":1}')), ("input", S("[1]"))], DTR)
scenario("data_transformer/from_json_bad", "tpl_data_transformer", {"operation": "from_json"}, [("input", S("nope"))], DTR)
scenario("data_transformer/extract_field", "tpl_data_transformer", {"operation": "extract_field", "field_name": "a"}, [("input", O({"a": 1, "b": 2})), ("input", O({"b": 2}))], DTR)
scenario("data_transformer/set_field", "tpl_data_transformer", {"operation": "set_field", "field": "z", "value": 9}, [("input", O({"a": 1})), ("input", I(1))], DTR)
scenario("data_transformer/template_string", "tpl_data_transformer", {"operation": "template", "template": "<${value}>"}, [("input", S("v"))], DTR)
scenario("data_transformer/template_integer", "tpl_data_transformer", {"operation": "template", "template": "<${value}>"}, [("input", I(5))], DTR)
scenario("data_transformer/template_fields", "tpl_data_transformer", {"operation": "template", "template": "${name} is ${age}"}, [("input", O({"name": "Ada", "age": 36}))], DTR)
scenario("data_transformer/unknown_key", "tpl_data_transformer", {"transformation": "to_uppercase"}, [("input", S("v"))], DTR)
scenario("data_transformer/flow", "tpl_data_transformer", {"operation": "to_uppercase"}, [("input", T("Flow"))], DTR)

# -- text ---------------------------------------------------------------------------------------
scenario("regex_matcher/literal", "tpl_regex_matcher", {"pattern": "lo"}, [("input", S("hello lo"))], REGEX_PORTS)
scenario("regex_matcher/literal_global", "tpl_regex_matcher", {"pattern": "lo", "global": True}, [("input", S("hello lo"))], REGEX_PORTS)
scenario("regex_matcher/no_match", "tpl_regex_matcher", {"pattern": "xyz"}, [("input", S("hello"))], REGEX_PORTS)
scenario("regex_matcher/metachar", "tpl_regex_matcher", {"pattern": "l+"}, [("input", S("hello"))], REGEX_PORTS)
scenario("regex_matcher/default_pattern", "tpl_regex_matcher", {}, [("input", S("hello"))], REGEX_PORTS)
scenario("regex_matcher/non_ascii_index", "tpl_regex_matcher", {"pattern": "ö", "global": True}, [("input", S("héllo wörld"))], REGEX_PORTS)
scenario("regex_matcher/integer_input", "tpl_regex_matcher", {"pattern": "5"}, [("input", I(5))], REGEX_PORTS)
scenario("regex_matcher/flow", "tpl_regex_matcher", {"pattern": "x"}, [("input", T("Flow"))], [*REGEX_PORTS, "output"])

# -- time ---------------------------------------------------------------------------------------
scenario("date_time/now", "tpl_date_time", {}, [("input", T("Flow"))], DT_PORTS, mask="time")
scenario("date_time/format", "tpl_date_time", {"operation": "now", "format": "%Y/%m/%d %H-%M"}, [("trigger", T("Flow"))], DT_PORTS, mask="time")
scenario("date_time/epoch", "tpl_date_time", {"operation": "epoch"}, [("input", T("Flow"))], DT_PORTS, mask="time")
scenario("date_time/unknown_operation", "tpl_date_time", {"operation": "bogus"}, [("input", T("Flow"))], DT_PORTS, mask="time")
scenario(
    "interval_trigger/three",
    "tpl_interval_trigger",
    {"interval": 100, "maxExecutions": 3},
    [("start", T("Flow"))],
    ["trigger", "done"],
    wait=0.8,
    timing=True,
    mask="time",
)
scenario(
    "interval_trigger/fractional_seconds",
    "tpl_interval_trigger",
    {"interval": 0.1, "intervalUnit": "seconds", "maxExecutions": 2},
    [("start", T("Flow"))],
    ["trigger", "done"],
    wait=0.8,
    timing=True,
    mask="time",
)
scenario(
    "interval_trigger/not_immediately",
    "tpl_interval_trigger",
    {"interval": 100, "maxExecutions": 2, "startImmediately": False},
    [("start", T("Flow"))],
    ["trigger", "done"],
    wait=0.8,
    timing=True,
    mask="time",
)

# -- files --------------------------------------------------------------------------------------
FL = ["output", "metadata", "error"]
FS = ["path", "metadata", "error"]
scenario("file_load/text", "tpl_file_load", {"path": "{dir}/f.txt"}, [("trigger", T("Flow"))], FL, files={"f.txt": "hello\n"})
scenario("file_load/json_mime", "tpl_file_load", {"path": "{dir}/d.json"}, [("trigger", T("Flow"))], FL, files={"d.json": "{}"})
scenario("file_load/missing", "tpl_file_load", {"path": "{dir}/nope.txt"}, [("trigger", T("Flow"))], FL)
scenario("file_load/directory", "tpl_file_load", {"path": "{dir}"}, [("trigger", T("Flow"))], FL)
scenario("file_load/no_path", "tpl_file_load", {}, [("trigger", T("Flow"))], FL)
scenario("file_load/trigger_string", "tpl_file_load", {}, [("trigger", S("{dir}/f.txt"))], FL, files={"f.txt": "hello\n"})
scenario("file_save/string_nested", "tpl_file_save", {"path": "{dir}/a/b.txt"}, [("input", S("hi\n"))], FS, files_after=["a/b.txt"])
scenario("file_save/bytes", "tpl_file_save", {"path": "{dir}/c.bin"}, [("input", T("Bytes", [1, 2, 255]))], FS, files_after=["c.bin"])
scenario("file_save/integer", "tpl_file_save", {"path": "{dir}/i.txt"}, [("input", I(5))], FS, files_after=["i.txt"])
scenario("file_save/object", "tpl_file_save", {"path": "{dir}/o.json"}, [("input", O({"a": 1, "b": [1, 2]}))], FS, files_after=["o.json"])
scenario("file_save/no_create_dirs", "tpl_file_save", {"path": "{dir}/x/y.txt", "createDirs": False}, [("input", S("x"))], FS, files_after=["x/y.txt"])
scenario("file_save/twice", "tpl_file_save", {"path": "{dir}/t.txt"}, [("input", S("one")), ("input", S("two"))], FS, files_after=["t.txt"])
scenario("file_save/flow", "tpl_file_save", {"path": "{dir}/flow.txt"}, [("input", T("Flow"))], FS, files_after=["flow.txt"])
scenario("file_save/no_path", "tpl_file_save", {}, [("input", S("x"))], FS)


# -- math ---------------------------------------------------------------------------------------
F = lambda value: T("Float", value)  # noqa: E731
MATH = ["result", "error"]
scenario("math_add/basic", "tpl_math_add", {}, [("a", I(2)), ("b", F(3.5))], MATH)
scenario("math_add/numeric_strings", "tpl_math_add", {}, [("a", S("2.5")), ("b", I(1))], MATH)
scenario("math_add/non_number", "tpl_math_add", {}, [("a", S("x")), ("b", I(1))], MATH)
scenario("math_add/only_a", "tpl_math_add", {}, [("a", I(1))], MATH)
scenario("math_add/precision", "tpl_math_add", {"precision": 1}, [("a", F(1.123)), ("b", I(0))], MATH)
scenario("math_add/integer_result_is_float", "tpl_math_add", {}, [("a", I(2)), ("b", I(3))], MATH)
scenario("math_subtract/basic", "tpl_math_subtract", {}, [("a", I(2)), ("b", F(3.5))], MATH)
scenario("math_multiply/basic", "tpl_math_multiply", {}, [("a", I(2)), ("b", F(3.5))], MATH)
scenario("math_divide/basic", "tpl_math_divide", {}, [("a", I(7)), ("b", I(2))], MATH)
scenario("math_divide/by_zero", "tpl_math_divide", {}, [("a", I(7)), ("b", I(0))], MATH)
scenario("math_modulo/basic", "tpl_math_modulo", {}, [("a", I(7)), ("b", F(2.5))], MATH)
scenario("math_modulo/negative", "tpl_math_modulo", {}, [("a", I(-7)), ("b", I(3))], MATH)
scenario("math_modulo/by_zero", "tpl_math_modulo", {}, [("a", I(7)), ("b", I(0))], MATH)
scenario("math_power/basic", "tpl_math_power", {}, [("base", I(2)), ("exponent", I(10))], MATH)
scenario("math_sqrt/basic", "tpl_math_sqrt", {}, [("input", I(16))], MATH)
scenario("math_sqrt/negative", "tpl_math_sqrt", {}, [("input", I(-4))], MATH)
scenario("math_absolute/basic", "tpl_math_absolute", {}, [("input", F(-2.7))], MATH)
scenario("math_clamp/above", "tpl_math_clamp", {"min": 0, "max": 10}, [("input", I(42))], MATH)
scenario("math_clamp/default_range", "tpl_math_clamp", {}, [("input", F(0.25)), ("input", I(3))], MATH)
scenario("math_round/floor", "tpl_math_round", {"mode": "floor"}, [("input", F(2.7))], MATH)
scenario("math_round/ceil", "tpl_math_round", {"mode": "ceil"}, [("input", F(2.2))], MATH)
scenario("math_round/trunc", "tpl_math_round", {"mode": "trunc"}, [("input", F(-2.7))], MATH)
scenario("math_round/precision_0", "tpl_math_round", {"precision": 0}, [("input", F(2.5)), ("input", F(-2.5))], MATH)
scenario("math_round/default", "tpl_math_round", {}, [("input", F(2.7))], MATH)
scenario("math_min_max/basic", "tpl_math_min_max", {}, [("a", I(3)), ("b", F(-1.5))], ["min", "max", "error"])
scenario("math_sum/values", "tpl_math_sum", {}, [("values", A(1, 2, 3.5))], MATH)
scenario("math_sum/empty", "tpl_math_sum", {}, [("values", A())], MATH)
scenario("math_sum/non_number", "tpl_math_sum", {}, [("values", A(1, "x"))], MATH)
scenario("math_average/values", "tpl_math_average", {}, [("values", A(1, 2, 3))], MATH)
STATS = ["mean", "median", "stddev", "min", "max", "count", "error"]
scenario("math_statistics/values", "tpl_math_statistics", {}, [("values", A(1, 2, 3, 4))], STATS)
scenario("math_statistics/empty", "tpl_math_statistics", {}, [("values", A())], STATS)
scenario("math_expression/substitution", "tpl_math_expression", {"expression": "$x * 2 + 1"}, [("input", I(4))], MATH)
scenario("math_expression/input_name", "tpl_math_expression", {"expression": "($input + 2) * 3"}, [("input", I(1))], MATH)
scenario("math_expression/power_right_assoc", "tpl_math_expression", {"expression": "2 ^ 3 ^ 2"}, [("input", I(0))], MATH)
scenario("math_expression/modulo_sign", "tpl_math_expression", {"expression": "-7 % 3"}, [("input", I(0))], MATH)
scenario("math_expression/default", "tpl_math_expression", {}, [("input", I(5))], MATH)
scenario("math_expression/syntax_error", "tpl_math_expression", {"expression": "2 +* 3"}, [("input", I(0))], MATH)
scenario("math_expression/division_by_zero", "tpl_math_expression", {"expression": "$input / 0"}, [("input", I(1))], MATH)

# -- generator, data operations, rules engine -----------------------------------------------------
GEN = ["output", "metadata", "error"]
scenario("generator/range", "tpl_generator", {"type": "range", "start": 0, "end": 5, "step": 2}, [("trigger", T("Flow"))], GEN)
scenario("generator/default", "tpl_generator", {}, [("trigger", T("Flow"))], GEN)
scenario("generator/index", "tpl_generator", {"type": "index", "count": 3, "template": {"id": "item_$i", "t": "$t", "n": "$i"}}, [("trigger", T("Flow"))], GEN)
scenario("generator/linspace", "tpl_generator", {"type": "linspace", "start": 0, "end": 1, "count": 5}, [("trigger", T("Flow"))], GEN)
scenario("generator/grid", "tpl_generator", {"type": "grid", "width": 2, "height": 2}, [("trigger", T("Flow"))], GEN)
scenario("generator/repeat_params", "tpl_generator", {"type": "repeat", "value": "x", "count": 2}, [("params", O({"count": 3}))], GEN)
scenario("generator/unknown_type", "tpl_generator", {"type": "nope"}, [("trigger", T("Flow"))], GEN)

DOPS = ["output", "error"]


def ops(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"dataOperations": [{"operations": list(operations)}]}


scenario("data_operations/no_operations", "tpl_data_operations", {}, [("data", A(1, 2, 3))], DOPS)
scenario("data_operations/filter", "tpl_data_operations", ops({"type": "filter", "filterExpression": "item > 1"}), [("data", A(1, 2, 3))], DOPS)
scenario("data_operations/transform_length", "tpl_data_operations", ops({"type": "transform", "transformExpression": "data.length"}), [("data", A(1, 2, 3))], DOPS)
scenario("data_operations/sort_desc", "tpl_data_operations", ops({"type": "sort", "sortField": "item.n", "sortDirection": "desc"}), [("data", A({"n": 1}, {"n": 3}, {"n": 2}))], DOPS)
scenario("data_operations/aggregate_sum", "tpl_data_operations", ops({"type": "aggregate", "aggregateField": "data.n", "aggregateFunction": "sum"}), [("data", A({"n": 1}, {"n": 3}, {"n": 2}))], DOPS)
scenario("data_operations/group", "tpl_data_operations", ops({"type": "group", "groupByField": "data.k"}), [("data", A({"k": "a"}, {"k": "b"}, {"k": "a"}))], DOPS)
scenario("data_operations/map", "tpl_data_operations", ops({"type": "map", "mapping": [{"sourceField": "n", "targetField": "m", "transform": "data.n * 2"}]}), [("data", A({"n": 1}, {"n": 3}))], DOPS)

RULES = ["output", "matched", "unmatched", "error"]
_X_POSITIVE = {"type": "IF", "groups": [{"connector": "AND", "rules": [{"field": "x", "operator": "greater_than", "value": 0}]}]}
scenario("rules_engine/no_rules", "tpl_rules_engine", {}, [("data", O({"x": 1}))], RULES)
scenario(
    "rules_engine/actions",
    "tpl_rules_engine",
    {"rules": {**_X_POSITIVE, "actions": {"setProperty": [{"key": "flag", "value": True}], "setOutput": [{"port": "extra", "value": "hi"}]}}},
    [("data", O({"x": 1})), ("data", O({"x": -1}))],
    [*RULES, "extra"],
)
scenario(
    "rules_engine/between_property_rules",
    "tpl_rules_engine",
    {"propertyRules": {"type": "OR", "groups": [{"connector": "AND", "rules": [{"field": "x", "operator": "between", "value": [0, 5]}]}]}},
    [("data", O({"x": 3})), ("data", O({"x": 9}))],
    RULES,
)
scenario("rules_engine/no_field_untagged", "tpl_rules_engine", {"rules": {"type": "IF", "groups": [{"connector": "AND", "rules": [{"operator": "is", "value": 5}]}]}}, [("data", I(5))], RULES)
scenario("rules_engine/if_no_groups", "tpl_rules_engine", {"rules": {"type": "IF", "groups": []}}, [("data", O({"x": 1}))], RULES)
scenario("rules_engine/or_no_groups", "tpl_rules_engine", {"rules": {"type": "OR", "groups": []}}, [("data", O({"x": 1}))], RULES)
scenario(
    "rules_engine/array_data",
    "tpl_rules_engine",
    {"rules": {"type": "IF", "groups": [{"connector": "AND", "rules": [{"field": "x", "operator": "is", "value": 1}]}], "actions": {"setProperty": [{"key": "flag", "value": True}]}}},
    [("data", A(1))],
    RULES,
)

# -- HTTP client (a local server started for the case) ---------------------------------------------
HTTP = ["response_out", "error_out"]
scenario("http_request/get_json", "tpl_http_request", {"url": "{url}/json"}, [("data_in", T("Flow"))], HTTP, http=True)
scenario("http_request/get_sends_no_body", "tpl_http_request", {"url": "{url}/json"}, [("data_in", T("Flow"))], HTTP, http="record")
scenario("http_request/post_object", "tpl_http_request", {"url": "{url}/text", "method": "POST", "headers": {"X-A": "1"}}, [("data_in", O({"a": 1}))], HTTP, http="record")
scenario("http_request/not_found_is_a_response", "tpl_http_request", {"url": "{url}/missing"}, [("data_in", T("Flow"))], HTTP, http=True)
scenario("http_request/config_body_wins", "tpl_http_request", {"url": "{url}/json", "method": "POST", "body": {"b": 2}}, [("data_in", I(3))], HTTP, http="record")
scenario("http_request/connection_refused", "tpl_http_request", {"url": "http://127.0.0.1:9/x"}, [("data_in", T("Flow"))], HTTP)
scenario("http_request/no_url", "tpl_http_request", {}, [("data_in", T("Flow"))], HTTP)
scenario("http_request/unknown_method", "tpl_http_request", {"url": "{url}/json", "method": "BREW"}, [("data_in", T("Flow"))], HTTP, http=True)
scenario("http_request/headers_in_alone", "tpl_http_request", {"url": "{url}/json"}, [("headers_in", O({"X-A": "h"}))], HTTP, http="record")

# -- cron -------------------------------------------------------------------------------------------
scenario(
    "cron_trigger/every_second",
    "tpl_cron_trigger",
    {"cronExpression": "* * * * * *", "maxExecutions": 1},
    [("start", T("Flow"))],
    ["trigger", "done"],
    wait=2.5,
    mask="time",
)

# -- streams ----------------------------------------------------------------------------------------


def STREAM(*chunks: str, begin: dict[str, Any] | None = None, error: str | None = None) -> dict[str, Any]:
    return {"$stream": {"begin": begin, "chunks": list(chunks), "error": error}}


CSV_BEGIN = {"content_type": "text/csv", "size_hint": 6}
scenario("bytes_to_stream/chunks", "tpl_bytes_to_stream", {"chunkSize": 2, "contentType": "text/plain"}, [("input", T("Bytes", list(b"hello")))], ["stream", "error"])
scenario("bytes_to_stream/string", "tpl_bytes_to_stream", {}, [("input", S("hey"))], ["stream", "error"])
scenario("bytes_to_stream/integer", "tpl_bytes_to_stream", {}, [("input", I(3))], ["stream", "error"])
scenario("stream_to_bytes/collect", "tpl_stream_to_bytes", {}, [("stream", STREAM("abc", "def", begin=CSV_BEGIN))], ["output", "metadata", "error"])
scenario("stream_to_bytes/error_frame", "tpl_stream_to_bytes", {}, [("stream", STREAM("abc", error="boom"))], ["output", "metadata", "error"])
scenario("stream_buffer/join", "tpl_stream_buffer", {"bufferBytes": 4}, [("stream", STREAM("abc", "def", "g", begin={"content_type": "text/csv"}))], ["stream", "error"])
scenario("stream_tee/copies", "tpl_stream_tee", {}, [("stream", STREAM("abc", "def", begin={"content_type": "text/csv"}))], ["stream_a", "stream_b", "error"])
scenario("stream_tee/not_a_stream", "tpl_stream_tee", {}, [("stream", I(3))], ["stream_a", "stream_b", "error"])
scenario("stream_throttle/delay", "tpl_stream_throttle", {"delayMs": 50}, [("stream", STREAM("abc", "def"))], ["stream", "error"], wait=1.0)
scenario(
    "stream_stats/measure",
    "tpl_stream_stats",
    {},
    [("stream", STREAM("abc", "def", begin=CSV_BEGIN))],
    ["stream", "stats", "error"],
    wait=1.5,
    mask_keys=["durationMs", "throughputBytesPerSec"],
)


# -- running ------------------------------------------------------------------------------------

_DIGIT = re.compile(r"\d")


def mask_time(value: Any) -> Any:
    """Clock values out: digits in strings become 9, integers >= 1e9 become '<epoch>'."""
    if isinstance(value, str):
        return _DIGIT.sub("9", value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value >= 10**9:
        return "<epoch>"
    if isinstance(value, list):
        return [mask_time(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_time(v) for k, v in value.items()}
    return value


def substitute(value: Any, directory: str) -> Any:
    if isinstance(value, str):
        return value.replace("{dir}", directory)
    if isinstance(value, list):
        return [substitute(v, directory) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, directory) for k, v in value.items()}
    return value


def unsubstitute(value: Any, directory: str) -> Any:
    if isinstance(value, str):
        return value.replace(directory, "{dir}")
    if isinstance(value, list):
        return [unsubstitute(v, directory) for v in value]
    if isinstance(value, dict):
        return {k: unsubstitute(v, directory) for k, v in value.items()}
    return value


def mask_keys(value: Any, keys: list[str]) -> Any:
    if isinstance(value, list):
        return [mask_keys(v, keys) for v in value]
    if isinstance(value, dict):
        return {k: ("<masked>" if k in keys else mask_keys(v, keys)) for k, v in value.items()}
    return value


def frame_json(frame: dict[str, Any]) -> dict[str, Any]:
    """A stream frame as JSON: null fields left out, data as a byte list."""
    out = {}
    for key, value in frame.items():
        if value is None:
            continue
        out[key] = list(value) if isinstance(value, (bytes, bytearray, memoryview)) else value
    return out


def handle_json(handle: dict[str, Any], frames: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "StreamHandle", "data": {**handle, "stream_id": "<id>"}, "frames": frames}


class ProbeHTTPServer:
    """A local HTTP/1.0 server with fixed Date and Server headers; records what it receives.

    Paths: /json answers {"ok": true} as application/json, /missing 404 with text, anything
    else 200 "plain text" as text/plain; every response has the header X-Up: Yes.
    """

    def __init__(self) -> None:
        import http.server

        seen = self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def version_string(self) -> str:
                return "probe"

            def date_time_string(self, timestamp: Any = None) -> str:
                return "Thu, 01 Jan 2026 00:00:00 GMT"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "body": body.decode("utf-8", errors="replace"),
                        "content_type": self.headers.get("Content-Type"),
                        "x_a": self.headers.get("X-A"),
                    }
                )
                json_reply = self.path.startswith("/json")
                self.send_response(404 if self.path.startswith("/missing") else 200)
                self.send_header("Content-Type", "application/json" if json_reply else "text/plain")
                self.send_header("X-Up", "Yes")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if json_reply else b"plain text")

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def read_back(path: str) -> Any:
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as handle:
        content = handle.read()
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return list(content)


def make_stream(spec: dict[str, Any]) -> dict[str, Any]:
    from offbit_reflow import Stream

    stream = Stream.create(0)
    begin = spec.get("begin")
    if begin is not None:
        stream.send_begin(content_type=begin.get("content_type"), size_hint=begin.get("size_hint"))
    for chunk in spec["chunks"]:
        stream.send_bytes(chunk.encode("utf-8"))
    if spec.get("error"):
        stream.error(spec["error"])
    else:
        stream.end()
    return json.loads(json.dumps(stream.into_message().as_json()))


def read_stream(message: Any) -> list[dict[str, Any]]:
    from offbit_reflow import Message

    reader = Message.from_json(message).take_stream()
    frames = []
    for _ in range(1000):
        frame = reader.recv(500)
        frames.append(frame_json(frame))
        if frame.get("kind") in ("end", "error", "closed", "timeout"):
            break
    return frames


def run_scenario(spec: dict[str, Any]) -> dict[str, Any]:
    from offbit_reflow import Actor, Network, template_actor

    directory = os.path.realpath(tempfile.mkdtemp(prefix="reflow-catalog-"))
    server = ProbeHTTPServer() if spec.get("http") else None
    try:
        for name, text in spec.get("files", {}).items():
            with open(os.path.join(directory, name), "w", encoding="utf-8") as handle:
                handle.write(text)
        received: list[tuple[str, Any, float]] = []
        lock = threading.Lock()
        started = [0.0]

        def sink_run(self: Any, ctx: Any) -> None:
            now = time.monotonic() - started[0]
            for port, message in ctx.inputs.items():
                if isinstance(message, dict) and message.get("type") == "StreamHandle":
                    message = handle_json(message["data"], read_stream(message))
                with lock:
                    received.append((port, message, now))
            ctx.done()

        sink_cls = type("Sink", (Actor,), {"component": "sink", "inports": list(spec["ports"]), "outports": [], "run": sink_run})
        net = Network()
        net.register_actor(spec["template"], template_actor(spec["template"]))
        net.register_actor("tpl_probe_sink", sink_cls())
        config = substitute(spec["config"], directory)
        if server is not None:
            config = json.loads(json.dumps(config).replace("{url}", server.url))
        net.add_node("t", spec["template"], config)
        net.add_node("sink", "tpl_probe_sink")
        for port in spec["ports"]:
            net.add_connection("t", port, "sink", port)
        for port, message in spec["iips"]:
            if isinstance(message, dict) and "$stream" in message:
                message = make_stream(message["$stream"])
            net.add_initial("t", port, substitute(message, directory))
        started[0] = time.monotonic()
        net.start()
        time.sleep(spec.get("wait", 0.4))
        net.shutdown()
        time.sleep(0.05)
        out: dict[str, Any] = {"received": {}}
        times: dict[str, list[float]] = {}
        with lock:
            items = list(received)
        for port, message, at in items:
            value = unsubstitute(message, directory)
            if server is not None:
                value = json.loads(json.dumps(value).replace(server.url, "{url}"))
            if spec.get("mask") == "time":
                value = mask_time(value)
            if spec.get("mask_keys"):
                value = mask_keys(value, spec["mask_keys"])
            out["received"].setdefault(port, []).append(value)
            times.setdefault(port, []).append(round(at, 1))
        if spec.get("timing"):
            out["times"] = times
        if spec.get("files_after"):
            out["files_after"] = {name: read_back(os.path.join(directory, name)) for name in spec["files_after"]}
        if server is not None and spec.get("http") == "record":
            out["server_saw"] = list(server.seen)
        return out
    finally:
        if server is not None:
            server.close()
        shutil.rmtree(directory, ignore_errors=True)


for _name, _spec in SCENARIOS.items():
    add_case(_name, lambda spec=_spec: run_scenario(spec), timeout=15.0)


def build(results: dict[str, Any]) -> dict[str, Any]:
    return {
        "_about": {"text": ABOUT},
        "cases": {name: {"scenario": SCENARIOS[name], **results[name]} for name in SCENARIOS},
    }
