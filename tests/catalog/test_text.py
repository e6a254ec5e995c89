"""Text family: regex matcher, text format and the log sink, through a real Network."""

from __future__ import annotations

import pytest

from reflow_cli import Message, Network
from reflow_cli.errors import ConfigError
from tests.catalog._helpers import run_component, tagged as T

FLOW = T("Flow")
REGEX_PORTS = ["matched", "matches", "output", "groups", "error"]


def regex(config: dict, *texts: object) -> object:
    messages = [t if isinstance(t, dict) else T("String", t) for t in texts]
    return run_component("tpl_regex_matcher", config, {"input": messages}, connect=REGEX_PORTS)


# -- tpl_regex_matcher ----------------------------------------------------------------------------


def test_regex_full_python_syntax() -> None:
    result = regex({"pattern": r"(\d+)-(\d+)?"}, "call 555-1234 now", "x 7-")
    assert result.data("matched") == [True, True]
    assert result.data("matches") == [["555-1234", "555", "1234"], ["7-", "7", None]]
    assert result.data("output") == ["call 555-1234 now", "x 7-"]
    assert result.data("groups") == [["555", "1234"], ["7", None]]
    assert "error" not in result.outputs


def test_regex_named_groups_and_flags() -> None:
    result = regex({"pattern": r"^(?P<level>error|warn)\s+(?P<msg>.*)$", "flags": "im"}, "boot\nERROR disk full")
    assert result.one("groups") == Message.object({"level": "ERROR", "msg": "disk full"})
    assert result.one("matches") == Message.array(["ERROR disk full", "ERROR", "disk full"])


def test_regex_global_matches_with_character_offsets() -> None:
    result = regex({"pattern": r"(?P<w>\w)ö", "global": True}, "äö wö")
    assert result.one("matches") == Message.array(
        [{"index": 0, "match": "äö", "groups": {"w": "ä"}}, {"index": 3, "match": "wö", "groups": {"w": "w"}}]
    )
    assert result.one("groups") == Message.array([{"w": "ä"}, {"w": "w"}])
    plain = regex({"pattern": "a", "global": True}, "banana")
    assert plain.one("matches")["data"] == [{"index": 1, "match": "a"}, {"index": 3, "match": "a"}, {"index": 5, "match": "a"}]


def test_regex_no_match_sends_only_matched_false() -> None:
    result = regex({"pattern": "^x"}, "abc")
    assert result.json() == {"matched": [T("Boolean", False)]}
    result = regex({"pattern": "^x", "global": True}, "abc")
    assert result.json() == {"matched": [T("Boolean", False)]}


def test_regex_as_a_line_filter() -> None:
    result = regex({"pattern": "ERROR"}, "INFO a", "ERROR b", "ERROR c", FLOW)
    assert result.json()["output"] == [T("String", "ERROR b"), T("String", "ERROR c"), FLOW]


def test_regex_forwards_flow() -> None:
    result = regex({"pattern": "x"}, FLOW)
    assert result.json() == {"output": [FLOW], "groups": [FLOW]}


def test_regex_errors() -> None:
    result = regex({"pattern": "(unclosed"}, "a", "b")
    assert result.data("error") == ["Invalid regex pattern '(unclosed': missing ), unterminated subpattern at position 0"] * 2
    assert set(result.outputs) == {"error"}
    result = regex({}, T("Integer", 5), T("Bytes", [104]))
    assert result.data("error") == ["Expected String on input port"] * 2


def test_regex_flags_are_validated() -> None:
    net = Network()
    net.add_node("r", "tpl_regex_matcher", {"flags": "iq"})
    with pytest.raises(ConfigError, match="flags"):
        net.start()


# -- tpl_text_format ------------------------------------------------------------------------------


def test_text_format_templates() -> None:
    config = {"template": "[${level:<5}] ${svc}: ${msg} (${n:03d}) $$${cost:.2f} $${not}"}
    data = {"level": "WARN", "svc": "api", "msg": "slow", "n": 7, "cost": 1.5}
    result = run_component("tpl_text_format", config, {"input": [T("Object", data), FLOW]})
    assert result.json()["output"] == [T("String", "[WARN ] api: slow (007) $1.50 ${not}"), FLOW]


def test_text_format_value_of_every_kind() -> None:
    inputs = [T("String", "s"), T("Integer", 1), T("Array", [1, "a"]), T("Optional", None), T("Bytes", list(b"hi"))]
    result = run_component("tpl_text_format", {}, {"input": inputs})
    assert result.data("output") == ["s", "1", '[1,"a"]', "null", "hi"]


@pytest.mark.parametrize(
    ("missing", "output", "error"),
    [
        ("keep", ["a=1 b=${b}"], []),
        ("empty", ["a=1 b="], []),
        ("error", [], ["tpl_text_format: no field 'b' in the input"]),
    ],
)
def test_text_format_missing_fields(missing: str, output: list, error: list) -> None:
    result = run_component("tpl_text_format", {"template": "a=${a} b=${b}", "missing": missing}, {"input": [T("Object", {"a": 1})]})
    assert result.data("output") == output
    assert result.data("error") == error


# -- tpl_log ---------------------------------------------------------------------------------------


def test_log_prints_data_and_forwards(capsys: pytest.CaptureFixture[str]) -> None:
    inputs = [T("String", "plain text"), T("Object", {"a": [1, "é"]}), T("Float", 2.5), FLOW, T("Bytes", list(b"raw")), T("Boolean", True)]
    result = run_component("tpl_log", {}, {"input": inputs})
    assert capsys.readouterr().out == 'plain text\n{"a":[1,"é"]}\n2.5\nraw\ntrue\n'
    assert result.json()["output"] == [Message.from_json(m).as_json() for m in inputs]


def test_log_prefix_format_and_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    run_component("tpl_log", {"prefix": "job: ", "format": "${n} items in ${dir}", "stream": "stderr"}, {"input": [T("Object", {"n": 3, "dir": "/tmp"})]}, connect=[])
    captured = capsys.readouterr()
    assert captured.err == "job: 3 items in /tmp\n"
    assert captured.out == ""


def test_log_output_port_is_optional(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_component("tpl_log", {}, {"input": [T("Integer", 1)]}, connect=[])
    assert result.status.name == "COMPLETE" and not result.failures
    assert capsys.readouterr().out == "1\n"
