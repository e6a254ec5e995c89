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


#: name -> (why we differ, what reflow gives). Keep in step with catalog/_deviations.py.
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
