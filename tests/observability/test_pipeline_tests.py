"""`reflow test`: the test file format, its checks, its reports and exit codes, and the examples' tests."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from reflow_cli.pipeline_tests import find_test_files, format_report, load_test_file, run_tests

from ._cli import ROOT, reflow, write

EXAMPLES = ROOT / "examples"
SCHEMA = json.loads((ROOT / "schemas" / "test.schema.json").read_text(encoding="utf-8"))

SPEC = """\
version: 1
nodes:
  a: {component: tpl_passthrough}
  b: {component: tpl_passthrough}
  join: {component: tpl_passthrough}
  parse: {component: tpl_json_parser, on_error: skip}
  save: {component: tpl_file_save, config: {path: out.txt}}
connections:
  - a.output -> join.input
  - b.output -> join.input
  - join.output -> parse.input
  - parse.output -> save.input
inports: {left: a.input}
outports: {saved: save.path}
initial:
  - {to: a.input, data: '[1]'}
  - {to: b.input, data: '{"x": 2}'}
  - {to: b.input, data: 'oops'}
"""


@pytest.fixture()
def spec(tmp_path: Path) -> Path:
    return write(tmp_path / "pipeline.yaml", SPEC)


def write_test(folder: Path, body: str, name: str = "pipeline.test.yaml") -> Path:
    return write(folder / name, "version: 1\npipeline: pipeline.yaml\n" + body)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` (ignored ones too) with its size and modification time."""
    out = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = Path(dirpath) / name
            stat = path.stat()
            out[str(path.relative_to(folder))] = (stat.st_size, stat.st_mtime_ns)
    return out


# -- the examples ---------------------------------------------------------------------


def test_reflow_test_examples_passes_and_leaves_nothing_behind() -> None:
    files = find_test_files([EXAMPLES])
    assert len({f.parent for f in files}) >= 4
    before = snapshot(EXAMPLES)
    result = reflow("test", "examples/", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout and "0 failed" not in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("reflow test: ")
    assert snapshot(EXAMPLES) == before  # no output file written, none touched


def test_the_examples_test_files_follow_the_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    from reflow_cli.spec._yaml import parse_yaml

    for path in find_test_files([EXAMPLES]):
        document = parse_yaml(path.read_text(encoding="utf-8")).data
        errors = [e.message for e in validator.iter_errors(document)]
        assert errors == [], path
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        schema = first.removeprefix("# yaml-language-server: $schema=")
        assert (path.parent / schema).resolve() == ROOT / "schemas" / "test.schema.json", path


# -- checks -----------------------------------------------------------------------------


def test_equality_subset_count_type_and_order(spec: Path) -> None:
    test = write_test(spec.parent, """\
sandbox: true
cases:
  - name: everything
    expect:
      join.output: {equals: ['{"x": 2}', oops, '[1]'], count: 3, type: String}
      b.output: {equals: ['{"x": 2}', oops], order: true}
      parse.output: {contains: [{x: 2}]}
      join.input: {count: {min: 2, max: 3}}
      saved: {equals: [out.txt, out.txt]}
    failures: {parse: 1}
  - name: wrong
    expect:
      parse.output: {equals: [[1]]}
      b.output: {contains: [oops, '{"x": 2}'], order: true}
      join.output: {type: Integer, count: {min: 4}}
    failures: {parse: 0}
""")
    report = run_tests([test])
    everything, wrong = report.files[0].cases
    assert everything.passed, everything.problems
    assert wrong.outcome == "failed"
    problems = {(p.line, p.message.split(":")[0]) for p in wrong.problems}
    # each at its expectation's line; the failure count at the case's
    assert problems == {(15, "parse.output"), (16, "b.output"), (17, "join.output"),
                        (13, "node 'parse' failed 1 time(s), expected 0")}
    messages = " | ".join(p.message for p in wrong.problems)
    assert "expected [[1]] (in any order), got [" in messages
    assert 'to contain ["oops", "{\\"x\\": 2}"] in this order' in messages
    assert "expected at least 4 message(s), got 3" in messages
    assert "expected every message to be Integer; 3 are not" in messages
    assert not (spec.parent / "out.txt").exists()  # sandbox: the writer wrote into a throw-away copy


def test_inject_replace_and_initial(spec: Path) -> None:
    test = write_test(spec.parent, """\
cases:
  - name: through the exported inport
    initial: drop
    inject:
      - {inport: left, messages: ['[5]', '[6]']}
    replace:
      save: {reply: {path: nowhere.txt}}
    expect:
      a.input: {equals: ['[5]', '[6]'], order: true}
      parse.output: {equals: [[5], [6]], order: true}
      saved: {equals: [nowhere.txt, nowhere.txt]}
  - name: a replaced node sends at start
    initial: drop
    replace:
      a: {emit: [{output: '[7]'}, {output: '[8]'}]}
      save: {}
    expect:
      join.output: {equals: ['[7]', '[8]'], order: true}
      saved: {count: 0}
""")
    report = run_tests([test])
    assert [c.outcome for c in report.files[0].cases] == ["passed", "passed"], report.files[0].cases
    assert not (spec.parent / "out.txt").exists() and not (spec.parent / "nowhere.txt").exists()


def test_status_and_timeouts(tmp_path: Path) -> None:
    write(tmp_path / "pipeline.yaml", """\
version: 1
nodes:
  parse: {component: tpl_json_parser}
  print: {component: tpl_log}
connections:
  - parse.output -> print.input
initial:
  - {to: parse.input, data: 'not json'}
""")
    test = write_test(tmp_path, """\
cases:
  - name: fails as expected
    status: failed
    failures: {parse: 1}
  - name: fails unexpectedly
""")
    report = run_tests([test])
    expected, unexpected = report.files[0].cases
    assert expected.passed, expected.problems
    assert unexpected.outcome == "failed"
    assert "the run ended failed, expected complete: node 'parse' (tpl_json_parser) failed" in unexpected.problems[0].message
    assert "WARNING reflow.engine: node 'parse' (tpl_json_parser) failed" in unexpected.output  # captured, not printed

    heartbeat = write(tmp_path / "hb.test.yaml",
                      f"version: 1\npipeline: {EXAMPLES / 'heartbeat' / 'pipeline.yaml'}\ntimeout: 0.5\n"
                      "cases:\n  - name: never completes\n  - name: stops\n    duration: 0.3\n")
    never, stops = run_tests([heartbeat]).files[0].cases
    assert never.outcome == "failed" and "the run ended timeout, expected complete" in never.problems[0].message
    assert stops.passed


# -- invalid test files -------------------------------------------------------------------


def test_order_on_a_port_with_several_producers_is_e_order(spec: Path) -> None:
    test = write_test(spec.parent, """\
cases:
  - name: fan-in
    inject:
      - {to: parse.input, data: '[0]'}
    expect:
      join.input: {equals: ['[1]'], order: true}
      parse.input: {count: 4, order: true}
      b.input: {count: 2, order: true}       # initial packets only: one producer
""")
    loaded = load_test_file(test)
    codes = [(d.code, d.line, d.column) for d in loaded.diagnostics]
    assert codes == [("E-ORDER", 8, 37), ("E-ORDER", 9, 31)]  # at each `order` key
    assert "2 producers (a.output, b.output)" in loaded.diagnostics[0].message
    assert "2 producers (join.output, initial packets)" in loaded.diagnostics[1].message
    result = reflow("test", str(test))
    assert result.returncode == 1
    assert f"{test}:8:37: error[E-ORDER]: `order` on 'join.input'" in result.stdout
    assert "1 invalid file(s)" in result.stdout


def test_every_problem_of_a_file_is_located(spec: Path) -> None:
    test = write_test(spec.parent, """\
cases:
  - name: one
    set: {nope.path: x}
    inject:
      - {to: a.inptu, data: 1}
      - {to: a.input, data: {type: Integer, data: x}}
    replace: {sav: {}}
    expect:
      parse.outptu: {count: 1}
      nowhere: {count: 1}
  - name: one
""")
    diagnostics = load_test_file(test).diagnostics
    found = [(d.code, d.line) for d in diagnostics]
    assert found == [("E-SPEC", 5), ("E-CASE", 13)]  # a case whose spec fails to load is not checked further
    assert "no node 'nope'" in diagnostics[0].message

    write_test(spec.parent, """\
cases:
  - name: one
    inject:
      - {to: a.inptu, data: 1}
      - {to: a.input, data: {type: Integer, data: x}}
    replace: {sav: {}}
    expect:
      parse.outptu: {count: 1}
      nowhere: {count: 1}
""", name="b.test.yaml")
    diagnostics = load_test_file(spec.parent / "b.test.yaml").diagnostics
    assert [(d.code, d.line) for d in diagnostics] == [
        ("E-PORT", 6), ("E-MESSAGE", 7), ("E-NODE", 8), ("E-PORT", 10), ("E-PORT", 11)]
    hints = [d.hint for d in diagnostics]
    assert hints[0] == "did you mean 'input'?" and hints[2] == "did you mean 'save'?" and hints[3] == "did you mean 'output'?"


def test_schema_and_syntax_errors(tmp_path: Path) -> None:
    write(tmp_path / "pipeline.yaml", SPEC)
    test = write_test(tmp_path, "cases:\n  - name: x\n    expect: {a.output: {equal: [1]}}\n    status: complet\n")
    diagnostics = load_test_file(test).diagnostics
    assert [(d.code, d.line, d.hint) for d in diagnostics] == [
        ("E-SCHEMA", 5, "did you mean 'equals'?"), ("E-SCHEMA", 6, "did you mean 'complete'?")]
    bad = write(tmp_path / "bad.test.yaml", "version: 1\npipeline: [\n")
    assert load_test_file(bad).diagnostics[0].code == "E-SYNTAX"
    missing = write(tmp_path / "missing.test.yaml", "version: 1\npipeline: nope.yaml\ncases: [{name: x}]\n")
    assert [(d.code, d.line, d.column) for d in load_test_file(missing).diagnostics] == [("E-SPEC", 2, 11)]
    invalid_spec = write(tmp_path / "broken.yaml", "version: 1\nnodes:\n  a: {component: tpl_passthrogh}\n")
    broken = write(tmp_path / "broken.test.yaml", "version: 1\npipeline: broken.yaml\ncases: [{name: x}]\n")
    loaded = load_test_file(broken)
    assert [d.code for d in loaded.diagnostics] == ["E-SPEC"]
    assert [d.code for d in loaded.spec_diagnostics] == ["E010"] and loaded.spec_diagnostics[0].file == str(invalid_spec)
    result = reflow("test", str(broken))
    assert result.returncode == 1 and "E010" in result.stdout and "Traceback" not in result.stderr


# -- reports and exit codes ---------------------------------------------------------------


def test_json_and_junit_reports(spec: Path, tmp_path: Path) -> None:
    write_test(spec.parent, "cases:\n  - name: passes\n    expect: {parse.output: {count: 2}}\n"
                            "  - name: fails\n    expect: {parse.output: {count: 3}}\n")
    write_test(spec.parent, "cases:\n  - name: x\n    expect: {join.input: {order: true}}\n", name="order.test.yaml")
    result = reflow("test", str(spec.parent), "--format", "json")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert (document["passed"], document["failed"], document["invalid_files"]) == (1, 1, 1)
    by_file = {Path(f["file"]).name: f for f in document["files"]}
    assert by_file["order.test.yaml"]["diagnostics"][0]["code"] == "E-ORDER"
    failed = by_file["pipeline.test.yaml"]["cases"][1]
    assert failed["outcome"] == "failed" and failed["problems"][0]["line"] == 7

    junit = tmp_path / "report.xml"
    result = reflow("test", str(spec.parent), "--format", "junit", "-o", str(junit))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("reflow test: 1 passed, 1 failed, 1 invalid file(s)")
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "3" and root.get("failures") == "1" and root.get("errors") == "1"
    suites = {Path(s.get("name", "")).name: s for s in root.iter("testsuite")}
    cases = suites["pipeline.test.yaml"].findall("testcase")
    assert [c.get("name") for c in cases] == ["passes", "fails"]
    assert cases[0].find("failure") is None and cases[1].find("failure") is not None
    assert "expected 3 message(s), got 2" in (cases[1].find("failure").get("message") or "")  # type: ignore[union-attr]
    assert suites["order.test.yaml"].find("testcase/error").get("type") == "E-ORDER"  # type: ignore[union-attr]


def test_exit_codes_and_selection(spec: Path) -> None:
    test = write_test(spec.parent, "cases:\n  - name: passes\n    expect: {parse.output: {count: 2}}\n"
                                   "  - name: fails\n    expect: {parse.output: {count: 3}}\n")
    assert reflow("test", str(test), "-k", "PASS").returncode == 0
    assert reflow("test", str(test)).returncode == 1
    empty = spec.parent / "empty"
    empty.mkdir()
    result = reflow("test", str(empty))
    assert result.returncode == 2 and "no test files" in result.stderr
    assert reflow("test", str(test), "--format", "xml").returncode == 2
    assert reflow("test", str(spec.parent / "missing.test.yaml")).returncode == 2
    text = format_report(run_tests([test]), "text")
    assert "PASS  passes" in text and "FAIL  fails" in text and f"{test}:7: parse.output: expected 3" in text
