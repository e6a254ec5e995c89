"""The reference's catalog behaviour (anchor §10), replayed on reflow's catalog.

Every scenario of ``tests/compat/golden/catalog.json`` (recorded from offbit-reflow 0.2.9
by ``tests/compat/probes/catalog.py``) runs through a real reflow ``Network`` with the same
config, IIPs and wired ports. Outputs must be identical, except for the deliberate
deviations in ``DEVIATIONS`` below: there the test asserts *our* value (and that it really
differs from the reference's). Each deviation is a row of docs/catalog.md (Deviations).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.catalog._golden import GOLDEN, replay


def T(kind: str, data: Any = None) -> dict[str, Any]:
    return {"type": "Flow"} if kind == "Flow" else {"data": data, "type": kind}


def received(**ports: list[dict[str, Any]]) -> dict[str, Any]:
    return {"received": {port.replace("_", "-"): messages for port, messages in ports.items()}}


def build_error(kind: str, *fragments: str) -> tuple[str, tuple[str, ...]]:
    return (kind, fragments)


def _response(status: int, body: Any, path: str, method: str = "GET", content_type: str = "application/json") -> dict[str, Any]:
    """What tpl_http_request sends for the probe server's answer (fixed Date and Server headers)."""
    headers = {"content-type": content_type, "date": "Thu, 01 Jan 2026 00:00:00 GMT", "server": "probe", "x-up": "Yes"}
    return T("Object", {"status": status, "headers": headers, "body": body, "url": "{url}" + path, "method": method})


def _saw(method: str, path: str, body: str = "", content_type: str | None = None, x_a: str | None = None) -> dict[str, Any]:
    return {"method": method, "path": path, "body": body, "content_type": content_type, "x_a": x_a}


def _generated(items: list[Any], kind: str) -> dict[str, Any]:
    return received(output=[T("Array", items)], metadata=[T("Object", {"count": len(items), "type": kind})])


def _stream(port: str, frames: list[dict[str, Any]], content_type: str | None = None, size_hint: int | None = None) -> dict[str, Any]:
    handle = {"content_type": content_type, "origin_actor": "t", "origin_port": port, "size_hint": size_hint, "stream_id": "<id>"}
    return {"type": "StreamHandle", "data": handle, "frames": frames}


def _refused(result: dict[str, Any]) -> bool:
    """The connection error names its cause (the wording of the cause is the OS's and httpx's)."""
    (message,) = result["received"]["error_out"]
    text = message["data"]
    prefix = "HTTP request failed: error sending request for url (http://127.0.0.1:9/x): "
    return set(result["received"]) == {"error_out"} and text.startswith(prefix) and len(text) > len(prefix) + 30 and text.endswith(
        "(url: http://127.0.0.1:9/x, method: GET)"
    )


#: name -> (why we differ, what reflow gives: the result, a build error, or a predicate on the result).
#: Keep in step with catalog/_deviations.py.
DEVIATIONS: dict[str, tuple[str, Any]] = {
    # ports and configs are validated when the network is built
    "passthrough/other_port": ("ports are validated", build_error("PortError", "no inport 'foo'", "declared: input")),
    "filter/unknown_condition": ("configs are validated", build_error("ConfigError", "condition", "'bogus'")),
    "date_time/unknown_operation": ("configs are validated", build_error("ConfigError", "operation", "'bogus'")),
    "file_save/no_path": ("configs are validated", build_error("ConfigError", "'path' is a required property")),
    # untagged comparisons
    "switch/untagged_value": ("switch compares untagged data", received(case1=[T("String", "a")])),
    "switch/integer_case2": ("switch compares untagged data", received(case2=[T("Integer", 2)])),
    "if_branch/equals_untagged": ("if_branch equals compares untagged data", received(true_out=[T("Integer", 5)])),
    "if_branch/condition_field": (
        "if_branch reads condition_field from the data",
        received(true_out=[T("Object", {"age": 20})], false_out=[T("Object", {"age": 10})]),
    ),
    "if_branch/is_empty_object": ("{} is empty", received(true_out=[T("Object", {})])),
    # filter comparisons
    "filter/greater_than_string_value": (
        "a numeric string operand compares as a number",
        received(output=[T("Array", [3, 4])], rejected=[T("Array", [1, 2])]),
    ),
    "filter/equals_mixed": (
        "JSON numbers compare by value (2 == 2.0)",
        received(output=[T("Array", [2, 2.0])], rejected=[T("Array", [1, 3, "2"])]),
    ),
    "filter/contains": (
        "contains finds list elements",
        received(output=[T("Array", ["ab", "abc", ["a"]])], rejected=[T("Array", ["cd", 1])]),
    ),
    "filter/object_input": ("a single packet is filtered whole", received(output=[T("Object", {"level": "ERROR"})])),
    # loop
    "loop/items": (
        "completed after the items",
        received(
            item=[
                T("Object", {"index": 0, "value": 10}),
                T("Object", {"index": 1, "value": "b"}),
                T("Object", {"index": 2, "value": {"c": 1}}),
            ],
            completed=[T("Boolean", True)],
        ),
    ),
    # natural kinds instead of Object
    "json_parser/array": ("lists are Arrays", received(output=[T("Array", [1, 2])])),
    "json_parser/path": ("natural kind", received(output=[T("Integer", 2)])),
    "json_parser/path_index_first": ("natural kind", received(output=[T("Integer", 1)])),
    "json_parser/path_missing": ("absent is Optional(null)", received(output=[T("Optional", None)])),
    "split/three": (
        "natural kind of head",
        received(head=[T("Integer", 1)], tail=[T("Array", [2, 3])], count=[T("Integer", 3)]),
    ),
    "reduce/first": ("natural kind", received(output=[T("Integer", 1)])),
    "reduce/last": ("natural kind", received(output=[T("Float", 3.5)])),
    "regex_matcher/literal": (
        "lists are Arrays",
        received(matched=[T("Boolean", True)], matches=[T("Array", ["lo"])]),
    ),
    "regex_matcher/literal_global": (
        "lists are Arrays",
        received(matched=[T("Boolean", True)], matches=[T("Array", [{"index": 3, "match": "lo"}, {"index": 6, "match": "lo"}])]),
    ),
    # full regular expressions, character offsets
    "regex_matcher/metachar": ("full Python re", received(matched=[T("Boolean", True)], matches=[T("Array", ["ll"])])),
    "regex_matcher/default_pattern": (
        "full Python re (default .*)",
        received(matched=[T("Boolean", True)], matches=[T("Array", ["hello"])]),
    ),
    "regex_matcher/non_ascii_index": (
        "index counts characters",
        received(matched=[T("Boolean", True)], matches=[T("Array", [{"index": 7, "match": "ö"}])]),
    ),
    # map / reduce on numbers
    "map/to_number": (
        "numeric strings parse; other values are errors, not 0.0",
        received(error=[T("Error", 'to_number: element 3 is not a number: "x"')]),
    ),
    "reduce/sum_non_number": ("non-numbers are errors", received(error=[T("Error", 'reduce sum: not a number: "x"')])),
    "reduce/empty_count": ("count of nothing is Integer 0", received(output=[T("Integer", 0)])),
    "reduce/empty_concat": ("concat of nothing is \"\"", received(output=[T("String", "")])),
    "reduce/empty_product": ("product of nothing is 1.0", received(output=[T("Float", 1.0)])),
    "reduce/empty_min": ("min of nothing is null", received(output=[T("Optional", None)])),
    "reduce/concat_mixed": ("concat keeps non-strings as text", received(output=[T("String", "1b[1]")])),
    "reduce/non_array": ("single values are a stream, reduced at the next Flow", {"received": {}}),
    # await-all queues instead of overwriting
    "gate/two_pairs": (
        "input/control paired FIFO",
        received(output=[T("Integer", 1)], blocked=[T("Integer", 2)]),
    ),
    # data instead of the tagged envelope
    "data_transformer/to_json": ("to_json renders the data", received(output=[T("String", "3")])),
    "data_transformer/template_integer": ("${value} renders the data", received(output=[T("String", "<5>")])),
    # end-of-stream Flow and other extensions
    "collect/flow_is_collected": (
        "a Flow ends the batch",
        received(
            output=[
                T("Array", [{"data": 1, "type": "Integer"}]),
                T("Array", [{"data": [1], "type": "Array"}, {"data": 2, "type": "Integer"}]),
            ],
            count=[T("Integer", 1), T("Integer", 2)],
        ),
    ),
    "json_parser/flow": ("a Flow is forwarded", received(output=[T("Flow")])),
    "regex_matcher/flow": ("a Flow is forwarded", received(output=[T("Flow")])),
    "file_save/flow": (
        "a Flow writes nothing",
        {
            **received(
                path=[T("String", "{dir}/flow.txt")],
                metadata=[T("Object", {"path": "{dir}/flow.txt", "size": 0, "written": False})],
            ),
            "files_after": {"flow.txt": None},
        },
    ),
    "file_load/trigger_string": (
        "a String trigger names the file",
        received(
            output=[T("Bytes", list(b"hello\n"))],
            metadata=[T("Object", {"mimeType": "text/plain", "path": "{dir}/f.txt", "size": 6})],
        ),
    ),
    "data_transformer/template_fields": ("templates fill fields", received(output=[T("String", "Ada is 36")])),
    # file errors name the file
    "file_load/missing": (
        "file errors name the file",
        received(error=[T("Error", "File read error: No such file or directory (os error 2): {dir}/nope.txt")]),
    ),
    "file_load/directory": (
        "file errors name the file",
        received(error=[T("Error", "File read error: Is a directory (os error 21): {dir}")]),
    ),
    "filter/nested_field": (
        "field paths",
        received(output=[T("Array", [{"a": {"b": 1}}])], rejected=[T("Array", [{"a": {"b": 2}}])]),
    ),
    "interval_trigger/fractional_seconds": (
        "fractional intervals work",
        received(
            trigger=[T("Object", {"timestamp": "9999-99-99T99:99:99.999999999+99:99"})] * 2,
            done=[T("Flow")],
        ),
    ),
    # math: real results on Arrays, errors instead of silent zeros
    "math_sum/values": ("real sums", received(result=[T("Float", 6.5)])),
    "math_average/values": ("real means", received(result=[T("Float", 2.0)])),
    "math_statistics/values": (
        "real statistics",
        received(
            mean=[T("Float", 2.5)], median=[T("Float", 2.5)], stddev=[T("Float", 1.1180339887)],
            min=[T("Float", 1.0)], max=[T("Float", 4.0)], count=[T("Integer", 4)],
        ),
    ),
    "math_add/non_number": ("non-numbers are errors, not 0", received(error=[T("Error", 'a is not a number: String "x"')])),
    "math_sum/non_number": ("non-numbers are errors, not 0", received(error=[T("Error", 'element 1 is not a number: String "x"')])),
    "math_add/only_a": (
        "a missing operand is an error, not silence",
        received(error=[T("Error", "tpl_math_add needs `b`: connect its port or set `b` in the config")]),
    ),
    "math_expression/syntax_error": (
        "the safe evaluator's errors (position counts the expression as written)",
        received(error=[T("Error", "tpl_math_expression: Syntax error: unexpected '*' at position 3")]),
    ),
    "math_expression/division_by_zero": (
        "the safe evaluator's errors name the position",
        received(error=[T("Error", "tpl_math_expression: division by zero at position 7")]),
    ),
    # lists are Arrays
    "generator/range": ("lists are Arrays", _generated([0.0, 2.0, 4.0], "range")),
    "generator/default": ("lists are Arrays", _generated([float(n) for n in range(10)], "range")),
    "generator/index": (
        "lists are Arrays",
        _generated([{"id": f"item_{i}", "n": i, "t": i / 2} for i in range(3)], "index"),
    ),
    "generator/linspace": ("lists are Arrays", _generated([0.0, 0.25, 0.5, 0.75, 1.0], "linspace")),
    "generator/grid": (
        "lists are Arrays",
        _generated(
            [{"ix": x, "iy": y, "x": x - 0.5, "y": y - 0.5} for y in range(2) for x in range(2)], "grid"
        ),
    ),
    "generator/repeat_params": ("lists are Arrays", _generated(["x", "x", "x"], "repeat")),
    "generator/unknown_type": ("configs are validated", build_error("ConfigError", "type", "'nope'")),
    # data operations on the data, not the tagged envelope
    "data_operations/filter": ("operations run on the data", received(output=[T("Array", [2, 3])])),
    "data_operations/transform_length": ("operations run on the data", received(output=[T("Integer", 3)])),
    "data_operations/sort_desc": ("operations run on the data", received(output=[T("Array", [{"n": 3}, {"n": 2}, {"n": 1}])])),
    "data_operations/aggregate_sum": ("operations run on the data", received(output=[T("Object", {"sum": 6.0})])),
    "data_operations/group": (
        "operations run on the data",
        received(output=[T("Object", {"a": [{"k": "a"}, {"k": "a"}], "b": [{"k": "b"}]})]),
    ),
    "data_operations/map": ("operations run on the data", received(output=[T("Array", [{"n": 1, "m": 2}, {"n": 3, "m": 6}])])),
    "rules_engine/no_field_untagged": ("rules test the untagged data", received(matched=[T("Integer", 5)])),
    # HTTP client
    "http_request/get_sends_no_body": (
        "no body on GET",
        {"received": {"response_out": [_response(200, {"ok": True}, "/json")]}, "server_saw": [_saw("GET", "/json")]},
    ),
    "http_request/post_object": (
        "the body is the data, not the tagged envelope",
        {
            "received": {"response_out": [_response(200, "plain text", "/text", "POST", "text/plain")]},
            "server_saw": [_saw("POST", "/text", '{"a":1}', "application/json", "1")],
        },
    ),
    "http_request/headers_in_alone": ("headers_in sets headers for later requests; it sends none", {"received": {}, "server_saw": []}),
    "http_request/connection_refused": ("the error names its cause", _refused),
    "http_request/no_url": ("configs are validated", build_error("ConfigError", "'url' is a required property")),
    "http_request/unknown_method": ("configs are validated", build_error("ConfigError", "method", "'BREW'")),
    # cron fires
    "cron_trigger/every_second": (
        "cron schedules fire (croniter)",
        received(
            trigger=[T("Object", {"timestamp": "9999-99-99T99:99:99.999999999+99:99", "schedule": "* * * * * *"})],
            done=[T("Flow")],
        ),
    ),
    # stream stats: handle first, content type from the begin frame, how the stream ended
    "stream_stats/measure": (
        "stats name the begin frame's content type and how the stream ended",
        received(
            stream=[
                _stream(
                    "stream",
                    [
                        {"content_type": "text/csv", "kind": "begin", "size_hint": 6},
                        {"data": [97, 98, 99], "kind": "data"},
                        {"data": [100, 101, 102], "kind": "data"},
                        {"kind": "end"},
                    ],
                )
            ],
            stats=[
                T(
                    "Object",
                    {
                        "avgFrameBytes": 3, "contentType": "text/csv", "dataFrames": 2, "durationMs": "<masked>",
                        "ended": "end", "sizeHint": 6, "throughputBytesPerSec": "<masked>", "totalBytes": 6,
                    },
                )
            ],
        ),
    ),
    # Python's JSON error wording (prefix, line and column kept)
    "json_parser/bad_json": (
        "Python's json wording",
        received(error=[T("Error", "JSON parse error: Expecting property name enclosed in double quotes at line 1 column 2")]),
    ),
    "data_transformer/from_json_bad": (
        "Python's json wording",
        received(error=[T("Error", "JSON parse error: Expecting value at line 1 column 1")]),
    ),
}

#: Seconds a timed packet may arrive away from the reference's (rounded to 0.1 s) time.
TIME_TOLERANCE = 0.09
#: How late the first timed packet may come (start-up on a loaded machine).
START_SLACK = 0.5


def _untimed(result: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in result.items() if key not in ("scenario", "times")}


def test_every_deviation_names_a_recorded_case() -> None:
    assert set(DEVIATIONS) <= set(GOLDEN)


def test_the_golden_holds_no_frozen_or_aborted_case() -> None:
    assert all("outcome" not in case for case in GOLDEN.values())


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden(name: str, tmp_path: Path) -> None:
    case = GOLDEN[name]
    ours = replay(case["scenario"], tmp_path)
    reference = _untimed(case)
    if name in DEVIATIONS:
        _why, expected = DEVIATIONS[name]
        if isinstance(expected, tuple):
            kind, fragments = expected
            assert "build_error" in ours, ours
            assert ours["build_error"][0] == kind
            for fragment in fragments:
                assert fragment in ours["build_error"][1]
        elif callable(expected):
            assert expected(_untimed(ours)), ours
        else:
            assert _untimed(ours) == expected
        assert _untimed(ours) != reference, "the reference now agrees: drop the deviation"
        return
    assert _untimed(ours) == reference
    if "times" in case:
        # spacing between packets must match; the whole schedule may start a little late on a busy machine
        theirs_first = min(t for stamps in case["times"].values() for t in stamps)
        ours_first = min(t for stamps in ours["times"].values() for t in stamps)
        assert theirs_first - TIME_TOLERANCE <= ours_first <= theirs_first + START_SLACK
        for port, stamps in case["times"].items():
            got = ours["times"][port]
            assert len(got) == len(stamps)
            for mine, theirs in zip(got, stamps):
                assert abs((mine - ours_first) - (theirs - theirs_first)) <= TIME_TOLERANCE, (port, got, stamps)
