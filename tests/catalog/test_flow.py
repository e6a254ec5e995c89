"""Flow family: real behaviour through a real Network, error outputs included."""

from __future__ import annotations

import pytest

from reflow_cli import Message, Network
from reflow_cli.errors import ConfigError
from tests.catalog._helpers import run_component, tagged as T


def A(*items):  # noqa: ANN001, ANN201
    return T("Array", list(items))


def O(value):  # noqa: ANN001, ANN201
    return T("Object", value)


FLOW = T("Flow")


# -- passthrough ---------------------------------------------------------------------------------


def test_passthrough_forwards_every_kind_unchanged() -> None:
    messages = [T("Integer", 5), FLOW, T("Bytes", [1, 2]), O({"a": [1]})]
    result = run_component("tpl_passthrough", None, {"input": messages})
    assert result.json()["output"] == [Message.from_json(m).as_json() for m in messages]


# -- filter ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "value", "kept", "rejected"),
    [
        ("truthy", None, [1, "a", True, [], {}], [0, "", None, False, 0.0]),
        ("not_null", None, [0, 1, "", "a", True, False, [], {}, 0.0], [None]),
        ("equals", 1, [1], [0, "", "a", None, True, False, [], {}, 0.0]),
        ("not_equals", 1, [0, "", "a", None, True, False, [], {}, 0.0], [1]),
        ("is_empty", None, ["", None, [], {}], [0, 1, "a", True, False, 0.0]),
        ("not_empty", None, [0, 1, "a", True, False, 0.0], ["", None, [], {}]),
    ],
)
def test_filter_conditions(condition: str, value: object, kept: list, rejected: list) -> None:
    items = [0, 1, "", "a", None, True, False, [], {}, 0.0]
    result = run_component("tpl_filter", {"condition": condition, "value": value}, {"input": [A(*items)]})
    assert sorted(map(repr, result.one("output")["data"])) == sorted(map(repr, kept))
    assert sorted(map(repr, result.one("rejected")["data"])) == sorted(map(repr, rejected))


@pytest.mark.parametrize(
    ("condition", "value", "kept"),
    [
        ("greater_than", 2, [3, 4, "5"]),
        ("greater_equal", 2, [2, 3, 4, "5"]),
        ("less_than", 2, [1, "1.5"]),
        ("less_equal", "2", [1, 2, "1.5"]),
    ],
)
def test_filter_orders_numbers_and_numeric_strings(condition: str, value: object, kept: list) -> None:
    result = run_component("tpl_filter", {"condition": condition, "value": value}, {"input": [A(1, 2, 3, 4, "5", "1.5", "x", None, True)]})
    assert result.one("output")["data"] == kept


def test_filter_orders_strings() -> None:
    result = run_component("tpl_filter", {"condition": "greater_than", "value": "b"}, {"input": [A("a", "b", "c", "ba", 3)]})
    assert result.one("output")["data"] == ["c", "ba"]
    assert result.one("rejected")["data"] == ["a", "b", 3]


def test_filter_contains_strings_lists_and_keys() -> None:
    items = ["xay", ["a", "b"], {"a": 1}, {"b": 1}, "zzz", 7]
    result = run_component("tpl_filter", {"condition": "contains", "value": "a"}, {"input": [A(*items)]})
    assert result.one("output")["data"] == ["xay", ["a", "b"], {"a": 1}]
    result = run_component("tpl_filter", {"condition": "not_contains", "value": "a"}, {"input": [A(*items)]})
    assert result.one("output")["data"] == [{"b": 1}, "zzz", 7]


def test_filter_streams_single_packets() -> None:
    stream = [O({"level": "ERROR", "n": 1}), O({"level": "INFO"}), O({"level": "ERROR", "n": 2}), FLOW]
    result = run_component("tpl_filter", {"condition": "equals", "field": "level", "value": "ERROR"}, {"input": stream})
    assert result.json()["output"] == [stream[0], stream[2], FLOW]
    assert result.json()["rejected"] == [stream[1]]


def test_nested_field_paths() -> None:
    rows = A({"a": {"b": [1, {"c": 5}]}}, {"a": {"b": [1, {"c": 1}]}}, {"a.b": 9}, {"x": 1})
    result = run_component("tpl_filter", {"condition": "greater_than", "field": "a.b[1].c", "value": 2}, {"input": [rows]})
    assert result.one("output")["data"] == [{"a": {"b": [1, {"c": 5}]}}]
    # an exact key wins over a path
    result = run_component("tpl_filter", {"condition": "equals", "field": "a.b", "value": 9}, {"input": [rows]})
    assert result.one("output")["data"] == [{"a.b": 9}]
    result = run_component("tpl_switch", {"switch_field": "m.k", "case1_value": "x"}, {"data": [O({"m": {"k": "x"}})]}, connect=["case1", "default"])
    assert result.data("case1") == [{"m": {"k": "x"}}]
    result = run_component("tpl_if_branch", {"condition_type": "equals", "field": "m.k", "value": 1}, {"data": [O({"m": {"k": 1}})]})
    assert result.data("true-out") == [{"m": {"k": 1}}]
    result = run_component("tpl_map", {"operation": "extract_field", "field": "p.q"}, {"input": [A({"p": {"q": 1}}, {"p": 2})]})
    assert result.one("output")["data"] == [1, None]
    result = run_component("tpl_reduce", {"operation": "sum", "field": "p.q"}, {"input": [A({"p": {"q": 1}}, {"p": {"q": 2.5}})]})
    assert result.one("output") == Message.float(3.5)
    # an empty field is the value itself (rules too)
    rules = {"decisionRules": {"type": "IF", "groups": [{"connector": "AND", "rules": [{"field": "", "operator": "greater_than", "value": 1}]}]}}
    result = run_component("tpl_if_branch", rules, {"data": [T("Integer", 5)]})
    assert result.data("true-out") == [5]


def test_filter_rejects_an_unknown_condition_at_build_time() -> None:
    net = Network()
    net.add_node("f", "tpl_filter", {"condition": "bogus"})
    with pytest.raises(ConfigError, match="condition"):
        net.start()


# -- map -------------------------------------------------------------------------------------------


def test_map_operations() -> None:
    result = run_component("tpl_map", {"operation": "to_string"}, {"input": [A(1, 2.5, "x", None, {"a": [1]})]})
    assert result.one("output") == Message.array(["1", "2.5", '"x"', "null", '{"a":[1]}'])
    result = run_component("tpl_map", {"operation": "to_number"}, {"input": [A(1, 2.5, "3", " 4e1 ")]})
    assert result.one("output") == Message.array([1.0, 2.5, 3.0, 40.0])
    result = run_component("tpl_map", {}, {"input": [A(1, "a")]})
    assert result.one("output") == Message.array([1, "a"])


def test_map_errors() -> None:
    result = run_component("tpl_map", {"operation": "to_number"}, {"input": [A(1, True)]})
    assert result.one("error") == Message.error("to_number: element 1 is not a number: true")
    result = run_component("tpl_map", {}, {"input": [O({"a": 1}), FLOW]})
    assert result.data("error") == ["Expected Array on input port"] * 2
    assert "output" not in result.outputs


def test_an_unconnected_error_port_is_a_reported_failure() -> None:
    result = run_component("tpl_map", {}, {"input": [T("Integer", 1)]}, connect=["output"])
    assert result.status.name == "COMPLETE"
    assert [f["error"] for f in result.failures] == ["Expected Array on input port (sent to its unconnected error port)"]
    failed = run_component("tpl_map", {}, {"input": [T("Integer", 1)]}, connect=["output"], on_error="fail")
    assert failed.status.name == "FAILED"


# -- reduce ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("sum", Message.float(10.5)),
        ("product", Message.float(24.0)),
        ("min", Message.float(1.0)),
        ("max", Message.float(4.0)),
        ("average", Message.float(10.5 / 5)),
        ("count", Message.integer(5)),
        ("first", Message.integer(4)),
        ("last", Message.float(1.5)),
    ],
)
def test_reduce_operations(operation: str, expected: Message) -> None:
    result = run_component("tpl_reduce", {"operation": operation}, {"input": [A(4, 1, 2, "2", 1.5)]})
    assert result.one("output") == expected


def test_reduce_concat_with_separator() -> None:
    result = run_component("tpl_reduce", {"operation": "concat", "separator": ", "}, {"input": [A("a", 1, None, {"k": 2})]})
    assert result.one("output") == Message.string('a, 1, null, {"k":2}')


def test_reduce_group_by() -> None:
    rows = A({"svc": "api", "ms": 10}, {"svc": "db", "ms": 5}, {"svc": "api", "ms": 30}, {"ms": 1})
    result = run_component("tpl_reduce", {"operation": "count", "groupBy": "svc"}, {"input": [rows]})
    assert result.one("output") == Message.object({"api": 2, "db": 1, "null": 1})
    result = run_component("tpl_reduce", {"operation": "average", "groupBy": "svc", "field": "ms"}, {"input": [rows]})
    assert result.one("output") == Message.object({"api": 20.0, "db": 5.0, "null": 1.0})


def test_reduce_missing_field_is_an_error() -> None:
    result = run_component("tpl_reduce", {"operation": "sum", "field": "n"}, {"input": [A({"n": 1}, {"m": 2})]})
    assert result.one("error") == Message.error('reduce sum: no field \'n\' in {"m":2}')


def test_reduce_stream_until_flow() -> None:
    stream = [T("Integer", 1), T("String", "2"), T("Float", 0.5), FLOW, T("Integer", 10), FLOW, FLOW]
    result = run_component("tpl_reduce", {"operation": "sum"}, {"input": stream})
    assert result.json()["output"] == [T("Float", 3.5), T("Float", 10.0), T("Float", 0.0)]


def test_reduce_stream_error_skips_only_that_item() -> None:
    stream = [T("Integer", 1), T("String", "x"), T("Integer", 2), FLOW]
    result = run_component("tpl_reduce", {"operation": "max"}, {"input": stream})
    assert result.one("output") == Message.float(2.0)
    assert result.one("error") == Message.error('reduce max: not a number: "x"')


def test_reduce_stream_of_nothing() -> None:
    result = run_component("tpl_reduce", {"operation": "count"}, {"input": [FLOW]})
    assert result.one("output") == Message.integer(0)
    result = run_component("tpl_reduce", {"operation": "last"}, {"input": [FLOW]})
    assert result.one("output") == Message.optional(None)


# -- merge -----------------------------------------------------------------------------------------


def test_merge_each_packet_alone_keeps_tags() -> None:
    result = run_component("tpl_merge", {}, {"a": [T("Integer", 1)], "d": [FLOW]})
    assert sorted(result.data("output"), key=str) == sorted([{"a": {"data": 1, "type": "Integer"}}, {"d": {"type": "Flow"}}], key=str)
    result = run_component("tpl_merge", {"mode": "array", "unwrap": True}, {"b": [T("String", "x")]})
    assert result.data("output") == [["x"]]


def test_merge_wait_all_pairs_connected_ports() -> None:
    inputs = {"a": [T("Integer", 1), T("Integer", 2)], "c": [T("String", "x"), T("String", "y")]}
    result = run_component("tpl_merge", {"waitAll": True}, inputs)
    assert result.data("output") == [
        {"a": {"data": 1, "type": "Integer"}, "c": {"data": "x", "type": "String"}},
        {"a": {"data": 2, "type": "Integer"}, "c": {"data": "y", "type": "String"}},
    ]
    result = run_component("tpl_merge", {"waitAll": True, "mode": "array", "unwrap": True}, inputs)
    assert result.data("output") == [[1, "x"], [2, "y"]]


# -- split -----------------------------------------------------------------------------------------


def test_split() -> None:
    result = run_component("tpl_split", {}, {"input": [A("x", 2), A(), T("String", "no")]})
    assert result.json()["head"] == [T("String", "x")]
    assert result.data("tail") == [[2], []]
    assert result.data("count") == [2, 0]
    assert result.data("error") == ["Expected Array on input port"]


# -- collect ---------------------------------------------------------------------------------------


def test_collect_batches_tagged_messages() -> None:
    result = run_component("tpl_collect", {"count": 2}, {"input": [T("Integer", i) for i in range(5)]})
    assert result.data("output") == [
        [{"data": 0, "type": "Integer"}, {"data": 1, "type": "Integer"}],
        [{"data": 2, "type": "Integer"}, {"data": 3, "type": "Integer"}],
    ]
    assert result.data("count") == [2, 2]


def test_collect_flow_flushes_partial_batch() -> None:
    stream = [T("Integer", 1), T("Integer", 2), T("Integer", 3), FLOW, FLOW, T("Integer", 4), FLOW]
    result = run_component("tpl_collect", {"count": 2, "unwrap": True}, {"input": stream})
    assert result.data("output") == [[1, 2], [3], [4]]
    assert result.data("count") == [2, 1, 1]


def test_collect_count_zero_behaves_as_one() -> None:
    result = run_component("tpl_collect", {"count": 0, "unwrap": True}, {"input": [T("Integer", 1), T("Integer", 2)]})
    assert result.data("output") == [[1], [2]]


# -- switch ----------------------------------------------------------------------------------------

CASES = [f"case{n}" for n in range(1, 10)] + ["default"]


def test_switch_routes_to_the_first_equal_case() -> None:
    config = {f"case{n}_value": n for n in range(1, 10)} | {"case3_value": 2}
    inputs = {"data": [T("Integer", 9), T("Float", 2.0), T("Integer", 7), T("String", "7"), T("Boolean", True), FLOW]}
    result = run_component("tpl_switch", config, inputs, connect=CASES)
    assert result.data("case9") == [9]
    assert result.data("case2") == [2.0]
    assert result.data("case7") == [7]
    assert result.data("default") == ["7", True, None]


def test_switch_field_missing_goes_to_default() -> None:
    config = {"field": "k", "case1_value": None}
    result = run_component("tpl_switch", config, {"data": [O({"x": 1}), O({"k": None})]}, connect=CASES)
    assert result.data("default") == [{"x": 1}]
    assert result.data("case1") == [{"k": None}]


def test_switch_tagged_case_value_compares_kind_and_data() -> None:
    config = {"case1_value": {"type": "Integer", "data": 1}, "case2_value": 1}
    result = run_component("tpl_switch", config, {"data": [T("Float", 1.0), T("Integer", 1)]}, connect=CASES)
    assert result.json()["case1"] == [T("Integer", 1)]
    assert result.json()["case2"] == [T("Float", 1.0)]


def test_switch_declares_case_ports_by_pattern() -> None:
    net = Network()
    net.add_node("s", "tpl_switch")
    net.add_node("p", "tpl_passthrough")
    net.add_connection("s", "case7", "p", "input")
    with pytest.raises(Exception, match="did you mean"):
        net.add_connection("s", "defualt", "p", "input")


# -- if_branch -------------------------------------------------------------------------------------


def test_if_branch_conditions_and_aliases() -> None:
    cases = [
        ({"condition_type": "not_equals", "condition_value": "a"}, T("String", "b"), True),
        ({"condition_type": "greater_equal", "value": 3}, T("Integer", 3), True),
        ({"condition_type": "less_equal", "value": 3}, T("Float", 3.5), False),
        ({"condition_type": "not_contains", "value": "z"}, T("String", "abc"), True),
        ({"condition_type": "not_empty"}, A(), False),
        ({"condition_type": "truthy"}, T("String", "x"), True),
        ({"condition_type": "equals", "condition_value": 1, "value": 2}, T("Integer", 1), True),
        ({"condition_type": "equals", "condition_field": "a", "field": "b", "value": 1}, O({"a": 1, "b": 2}), True),
    ]
    for config, message, verdict in cases:
        result = run_component("tpl_if_branch", config, {"data": [message]})
        port = "true-out" if verdict else "false-out"
        assert result.json() == {port: [Message.from_json(message).as_json()]}, config


def test_if_branch_rules() -> None:
    rules = {
        "type": "IF",
        "groups": [
            {"connector": "AND", "rules": [{"field": "age", "operator": "greater_equal", "value": 18}, {"field": "name", "operator": "not_empty"}]},
            {"connector": "OR", "rules": [{"field": "role", "operator": "is", "value": "admin"}, {"field": "tags", "operator": "contains", "value": "vip"}]},
        ],
    }
    people = [
        O({"age": 30, "name": "a", "role": "admin"}),
        O({"age": 30, "name": "b", "tags": ["vip"]}),
        O({"age": 30, "name": "", "role": "admin"}),
        O({"age": 12, "name": "c", "role": "admin"}),
        O({"age": 40, "name": "d", "role": "user"}),
    ]
    result = run_component("tpl_if_branch", {"decisionRules": rules}, {"data": people})
    assert [p["name"] for p in result.data("true-out")] == ["a", "b"]
    assert [p["name"] for p in result.data("false-out")] == ["", "c", "d"]
    empty = run_component("tpl_if_branch", {"decisionRules": {"type": "IF", "groups": []}}, {"data": [O({})]})
    assert empty.data("false-out") == [{}]


def test_if_branch_rejects_an_unknown_operator_at_build_time() -> None:
    rules = {"groups": [{"rules": [{"field": "a", "operator": "roughly"}]}]}
    net = Network()
    net.add_node("b", "tpl_if_branch", {"decisionRules": rules})
    with pytest.raises(ConfigError, match="roughly"):
        net.start()


# -- loop ------------------------------------------------------------------------------------------


def test_loop_sends_items_in_order_then_completed() -> None:
    result = run_component("tpl_loop", {}, {"collection": [A(*range(500)), A(), T("Integer", 1)]})
    assert result.data("item") == [{"index": i, "value": i} for i in range(500)]
    assert result.data("completed") == [True, True, True]


# -- gate ------------------------------------------------------------------------------------------


def test_gate_pairs_inputs_with_controls() -> None:
    inputs = {
        "input": [T("Integer", i) for i in range(5)],
        "control": [T("Boolean", True), T("Boolean", False), T("Integer", 0), T("String", ""), T("Float", 0.0)],
    }
    result = run_component("tpl_gate", {}, inputs)
    assert result.data("output") == [0, 3]
    assert result.data("blocked") == [1, 2, 4]
    inverted = run_component("tpl_gate", {"invert": True}, inputs)
    assert inverted.data("output") == [1, 2, 4]


def test_gate_without_control_fails_loudly() -> None:
    result = run_component("tpl_gate", {}, {"input": [T("Integer", 1)]})
    assert result.outputs == {}
    assert len(result.failures) == 1 and "control" in result.failures[0]["error"]


# -- delay -----------------------------------------------------------------------------------------


def test_delay_forwards_after_the_delay_one_after_the_other() -> None:
    result = run_component("tpl_delay", {"delayMs": 30}, {"input": [T("Integer", 1), T("Integer", 2)]})
    assert result.data("output") == [1, 2]
    first, second = result.times["output"]
    assert first >= 0.028 and second - first >= 0.028


def test_delay_does_not_block_other_nodes() -> None:
    from tests.catalog._helpers import Sink

    net = Network()
    sink = Sink()
    net.register_actor("sink", sink)
    net.add_node("slow", "tpl_delay", {"delayMs": 200})
    net.add_node("fast", "tpl_passthrough")
    net.add_node("sink", "sink")
    net.add_connection("slow", "output", "sink", "slow")
    net.add_connection("fast", "output", "sink", "fast")
    net.add_initial("slow", "input", Message.integer(1))
    net.add_initial("fast", "input", Message.integer(2))
    assert net.run(timeout=5)
    ports = [port for port, _m, _t in sink.items]
    assert ports == ["fast", "slow"]
    fast_at = next(t for port, _m, t in sink.items if port == "fast")
    assert fast_at < 0.15


# -- rules engine ----------------------------------------------------------------------------------

RULES_PORTS = ["output", "matched", "unmatched", "error"]


def _rules(*rules: dict, kind: str = "IF", connector: str = "AND", **actions: list) -> dict:
    config: dict = {"type": kind, "groups": [{"connector": connector, "rules": list(rules)}]}
    if actions:
        config["actions"] = actions
    return {"rules": config}


def test_rules_engine_matched_gets_properties_and_set_outputs() -> None:
    config = _rules(
        {"field": "x", "operator": "greater_than", "value": 0},
        setProperty=[{"key": "flag", "value": True}, {"key": "double", "expression": "x * 2"}],
        setOutput=[{"port": "alert", "value": {"level": "high"}}, {"port": "count", "value": 1}],
    )
    result = run_component(
        "tpl_rules_engine", config, {"data": [O({"x": 2}), O({"x": -1}), T("Integer", 5)]},
        connect=[*RULES_PORTS, "alert", "count"],
    )
    assert result.data("matched") == [{"x": 2, "flag": True, "double": 4}]
    assert result.data("unmatched") == [{"x": -1}, 5]
    assert result.json()["alert"] == [{"type": "Object", "data": {"level": "high"}}]
    assert result.json()["count"] == [{"type": "Integer", "data": 1}]


def test_rules_engine_operators() -> None:
    cases = [
        ({"field": "n", "operator": "between", "value": [1, 3]}, [1, 2, 3, "2"], [0, 4, "x", None, True]),
        ({"field": "n", "operator": "is", "value": 2}, [2, 2.0], [1, "2", None]),
        ({"field": "n", "operator": "is_not", "value": 2}, [1, "2", None], [2]),
        ({"field": "n", "operator": "contains", "value": "b"}, ["abc", ["b"]], ["x", 1]),
        ({"field": "n", "operator": "empty"}, ["", [], {}, None], ["x", 0]),
        ({"field": "n", "operator": "not_empty"}, ["x", 0], ["", None]),
        ({"field": "n", "operator": "less_equal", "value": 2}, [1, 2, "1.5"], [3]),
        ({"expression": "n * 2 > 3 and n != 4"}, [2, 3], [1, 4]),
        ({"operator": "expression", "value": "n in [1, 5]"}, [1, 5], [2]),
    ]
    for rule, hits, misses in cases:
        inputs = [O({"n": v}) for v in hits + misses]
        result = run_component("tpl_rules_engine", _rules(rule), {"data": inputs}, connect=RULES_PORTS)
        assert [d["n"] for d in result.data("matched")] == hits, rule
        assert [d["n"] for d in result.data("unmatched")] == misses, rule


def test_rules_engine_missing_fields_and_groups() -> None:
    result = run_component("tpl_rules_engine", _rules({"field": "a", "operator": "is_not", "value": 1}), {"data": [O({"b": 1})]}, connect=RULES_PORTS)
    assert result.data("unmatched") == [{"b": 1}]  # a rule on a missing field is false
    two_groups = {"rules": {"type": "OR", "groups": [
        {"connector": "AND", "rules": [{"field": "a", "operator": "is", "value": 1}, {"field": "b", "operator": "is", "value": 1}]},
        {"connector": "OR", "rules": [{"field": "c", "operator": "is", "value": 1}, {"field": "d", "operator": "is", "value": 1}]},
    ]}}
    inputs = [O({"a": 1, "b": 1}), O({"a": 1, "b": 0}), O({"d": 1}), O({})]
    result = run_component("tpl_rules_engine", two_groups, {"data": inputs}, connect=RULES_PORTS)
    assert result.data("matched") == [{"a": 1, "b": 1}, {"d": 1}]
    assert result.data("unmatched") == [{"a": 1, "b": 0}, {}]


def test_rules_engine_rule_without_field_tests_the_untagged_data() -> None:
    # the reference compared the tagged message, so `is 5` never matched the Integer 5
    result = run_component("tpl_rules_engine", _rules({"operator": "is", "value": 5}), {"data": [T("Integer", 5), T("Integer", 6)]}, connect=RULES_PORTS)
    assert result.data("matched") == [5] and result.data("unmatched") == [6]


def test_rules_engine_without_rules_passes_to_output() -> None:
    result = run_component("tpl_rules_engine", {}, {"data": [O({"x": 1})]}, connect=RULES_PORTS)
    assert result.data("output") == [{"x": 1}]


def test_rules_engine_expression_errors() -> None:
    result = run_component("tpl_rules_engine", _rules({"expression": "x >"}), {"data": [O({"x": 1})]}, connect=RULES_PORTS)
    assert result.data("error") == ["tpl_rules_engine: group 0 rule 0: Syntax error: unexpected end of expression at position 3"]
    result = run_component("tpl_rules_engine", _rules({"expression": "x / 0 > 1"}), {"data": [O({"x": 1})]}, connect=RULES_PORTS)
    assert result.data("error") == ["tpl_rules_engine: division by zero at position 2"]


def test_rules_engine_set_output_ports_are_declared_per_node() -> None:
    net = Network()
    net.add_node("r", "tpl_rules_engine", _rules({"field": "x", "operator": "is", "value": 1}, setOutput=[{"port": "alert", "value": 1}]))
    net.add_node("p", "tpl_passthrough")
    net.add_connection("r", "alert", "p", "input")
    net.add_connection("r", "alrt", "p", "input")
    with pytest.raises(Exception, match="no outport 'alrt'.*did you mean 'alert'"):
        net.start()


# -- window ------------------------------------------------------------------------------------------


def _ints(n: int) -> list[dict]:
    return [T("Integer", i) for i in range(n)] + [FLOW]


@pytest.mark.parametrize(
    ("config", "count", "windows", "reasons"),
    [
        ({"size": 3}, 7, [[0, 1, 2], [3, 4, 5], [6]], ["size", "size", "end"]),
        ({"size": 3, "partial": False}, 7, [[0, 1, 2], [3, 4, 5]], ["size", "size"]),
        ({"size": 3, "step": 1}, 5, [[0, 1, 2], [1, 2, 3], [2, 3, 4]], ["size"] * 3),
        ({"size": 3, "step": 2}, 6, [[0, 1, 2], [2, 3, 4], [4, 5]], ["size", "size", "end"]),
        ({"size": 2, "step": 3}, 8, [[0, 1], [3, 4], [6, 7]], ["size"] * 3),
        ({"size": 0}, 4, [[0, 1, 2, 3]], ["end"]),
        ({"size": 3}, 0, [], []),
    ],
)
def test_window_count_windows(config: dict, count: int, windows: list, reasons: list) -> None:
    result = run_component("tpl_window", config, {"input": _ints(count)})
    assert result.json()["output"] == [{"type": "Array", "data": w} for w in windows] + [{"type": "Flow"}]
    meta = result.data("window")
    assert [m["reason"] for m in meta] == reasons
    assert [m["index"] for m in meta] == list(range(len(windows)))
    assert [m["count"] for m in meta] == [len(w) for w in windows]
    assert all(m["end"] - m["start"] == m["count"] for m in meta)


def test_window_stays_open_without_flush_or_end() -> None:
    from tests.catalog._helpers import Sink

    net = Network()
    sink = Sink()
    net.register_actor("sink", sink)
    net.add_node("w", "tpl_window", {"size": 10, "forwardFlow": False})
    net.add_node("sink", "sink")
    net.add_connection("w", "output", "sink", "out")
    net.add_initial("w", "input", T("Integer", 1))
    net.add_initial("w", "input", T("Integer", 2))
    assert net.run(timeout=5)
    assert [p for p, _m, _t in sink.items] == []
    result = run_component("tpl_window", {"size": 10}, {"input": [T("Integer", 1)]})
    assert "output" not in result.outputs  # no flush, no end: the window stays open


def test_window_time_windows_close_on_time_or_size() -> None:
    from tests.catalog._helpers import Sink

    net = Network()
    sink = Sink()
    net.register_actor("sink", sink)
    net.add_node("tick", "tpl_interval_trigger", {"interval": 15, "maxExecutions": 12})
    net.add_node("w", "tpl_window", {"size": 5, "durationMs": 40})
    net.add_node("sink", "sink")
    net.add_connection("tick", "trigger", "w", "input")
    net.add_connection("tick", "done", "w", "input")
    net.add_connection("w", "output", "sink", "out")
    net.add_connection("w", "window", "sink", "meta")
    net.add_initial("tick", "start", FLOW)
    assert net.run(timeout=5)
    meta = [m["data"] for p, m, _t in sink.items if p == "meta"]
    windows = [m for p, m, _t in sink.items if p == "out" and m["type"] == "Array"]
    assert sum(len(w["data"]) for w in windows) == 12
    assert all(1 <= m["count"] <= 5 for m in meta)
    assert {m["reason"] for m in meta} <= {"time", "size", "end"} and "time" in {m["reason"] for m in meta}
    assert [m for p, m, _t in sink.items if p == "out"][-1]["type"] == "Flow"


def test_window_flush_port() -> None:
    from tests.catalog._helpers import Sink

    net = Network()
    sink = Sink()
    net.register_actor("sink", sink)
    net.add_node("w", "tpl_window", {"size": 100})
    net.add_node("d", "tpl_delay", {"delayMs": 30})
    net.add_node("sink", "sink")
    net.add_connection("d", "output", "w", "flush")
    net.add_connection("w", "output", "sink", "out")
    net.add_connection("w", "window", "sink", "meta")
    for i in range(3):
        net.add_initial("w", "input", T("Integer", i))
    net.add_initial("d", "input", FLOW)
    assert net.run(timeout=5)
    assert [m["data"] for p, m, _t in sink.items if p == "out"] == [[0, 1, 2]]
    assert [m["data"]["reason"] for p, m, _t in sink.items if p == "meta"] == ["flush"]
