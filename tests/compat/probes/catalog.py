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
each packet arrived, in seconds after start, rounded to 0.1).  ``received`` maps port to
the tagged messages; the temporary directory shows as ``{dir}``."""

from __future__ import annotations

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


def read_back(path: str) -> Any:
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as handle:
        content = handle.read()
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return list(content)


def run_scenario(spec: dict[str, Any]) -> dict[str, Any]:
    from offbit_reflow import Actor, Network, template_actor

    directory = os.path.realpath(tempfile.mkdtemp(prefix="reflow-catalog-"))
    try:
        for name, text in spec.get("files", {}).items():
            with open(os.path.join(directory, name), "w", encoding="utf-8") as handle:
                handle.write(text)
        received: list[tuple[str, Any, float]] = []
        lock = threading.Lock()
        started = [0.0]

        def sink_run(self: Any, ctx: Any) -> None:
            now = time.monotonic() - started[0]
            with lock:
                for port, message in ctx.inputs.items():
                    received.append((port, message, now))
            ctx.done()

        sink_cls = type("Sink", (Actor,), {"component": "sink", "inports": list(spec["ports"]), "outports": [], "run": sink_run})
        net = Network()
        net.register_actor(spec["template"], template_actor(spec["template"]))
        net.register_actor("tpl_probe_sink", sink_cls())
        net.add_node("t", spec["template"], substitute(spec["config"], directory))
        net.add_node("sink", "tpl_probe_sink")
        for port in spec["ports"]:
            net.add_connection("t", port, "sink", port)
        for port, message in spec["iips"]:
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
            if spec.get("mask") == "time":
                value = mask_time(value)
            out["received"].setdefault(port, []).append(value)
            times.setdefault(port, []).append(round(at, 1))
        if spec.get("timing"):
            out["times"] = times
        if spec.get("files_after"):
            out["files_after"] = {name: read_back(os.path.join(directory, name)) for name in spec["files_after"]}
        return out
    finally:
        shutil.rmtree(directory, ignore_errors=True)


for _name, _spec in SCENARIOS.items():
    add_case(_name, lambda spec=_spec: run_scenario(spec), timeout=15.0)


def build(results: dict[str, Any]) -> dict[str, Any]:
    return {
        "_about": {"text": ABOUT},
        "cases": {name: {"scenario": SCENARIOS[name], **results[name]} for name in SCENARIOS},
    }
