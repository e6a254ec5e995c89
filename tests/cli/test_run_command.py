"""`reflow run` and `reflow graph` through the real command: exit codes, output, trace, signals."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXE = shutil.which("reflow") or str(Path(sys.executable).with_name("reflow"))


def reflow(*args: str, cwd: Path = ROOT, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_failing_node_exits_1_naming_node_message_and_error(tmp_path: Path) -> None:
    spec = write(
        tmp_path / "p.yaml",
        """
version: 1
nodes:
  read: {component: tpl_file_load, config: {path: does-not-exist.txt}}
  print: {component: tpl_log}
connections:
  - read.output -> print.input
initial:
  - {to: read.trigger, data: {type: Flow}}
""",
    )
    result = reflow("run", str(spec))
    assert result.returncode == 1
    assert "error: node 'read' (tpl_file_load) failed:" in result.stderr
    assert "does-not-exist.txt" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_invalid_spec_exits_1_with_diagnostics(tmp_path: Path) -> None:
    spec = write(tmp_path / "p.yaml", "version: 1\nnodes:\n  a: {component: tpl_passthrogh}\n")
    result = reflow("run", str(spec))
    assert result.returncode == 1
    assert "p.yaml:3:" in result.stderr and "E010" in result.stderr
    assert "did you mean 'tpl_passthrough'" in result.stderr


def test_a_stalled_pipeline_exits_3_naming_the_waiting_port(tmp_path: Path) -> None:
    spec = write(
        tmp_path / "p.yaml",
        """
version: 1
nodes:
  silent: {component: tpl_passthrough}
  gate: {component: tpl_gate}
  print: {component: tpl_log}
connections:
  - silent.output -> gate.control
  - gate.output -> print.input
initial:
  - {to: gate.input, data: 1}
""",
    )
    result = reflow("run", str(spec))
    assert result.returncode == 3, result.stderr
    assert "stalled" in result.stderr and "gate.input" in result.stderr


def test_timeout_exits_124_and_duration_exits_0() -> None:
    started = time.monotonic()
    result = reflow("run", "examples/heartbeat/pipeline.yaml", "--timeout", "0.5", "--quiet")
    assert result.returncode == 124
    assert "still running after --timeout 0.5 s" in result.stderr
    assert time.monotonic() - started < 20
    result = reflow("run", "examples/heartbeat/pipeline.yaml", "--duration", "0.5", "--quiet")
    assert result.returncode == 0
    assert result.stderr == ""


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert reflow("run", "--no-such-option", "x.yaml").returncode == 2
    assert reflow("run", str(tmp_path / "missing.yaml")).returncode == 2
    spec = write(tmp_path / "p.yaml", "version: 1\nnodes: {}\n")
    assert reflow("run", str(spec), str(spec)).returncode == 2


def test_set_overrides_a_config_value(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples" / "fan_out_in", tmp_path / "ex")
    write(tmp_path / "ex" / "other.txt", "100\n1\n")
    result = reflow("run", str(tmp_path / "ex" / "pipeline.yaml"), "--set", "readings.path=other.txt", "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "high: 1, low: 1, average: 50.5\n"


def test_quiet_prints_only_the_pipeline_output_and_default_prints_a_summary() -> None:
    quiet = reflow("run", "examples/fan_out_in/pipeline.yaml", "--quiet")
    assert quiet.stdout == "high: 5, low: 5, average: 52.9\n" and quiet.stderr == ""
    loud = reflow("run", "examples/fan_out_in/pipeline.yaml")
    assert loud.stdout == quiet.stdout
    assert "reflow: complete in" in loud.stderr
    assert "n_high" in loud.stderr and "tpl_reduce" in loud.stderr


def test_trace_writes_every_event_as_json_lines(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    result = reflow("run", "examples/fan_out_in/pipeline.yaml", "--trace", str(trace), "--quiet")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    schema = json.loads((ROOT / "schemas" / "event.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for event in events:
        validator.validate(event)
    types = [e["_type"] for e in events]
    assert types[0] == "NetworkStarted" and "NetworkIdle" in types
    assert types[-2:] == ["NetworkShutdown", "NetworkStats"]  # a final statistics snapshot ends the trace
    final = events[-1]["stats"]
    assert final["nodes"]["print"]["ticks"] == 1
    sent = [e for e in events if e["_type"] == "MessageSent"]
    assert any(e["fromActor"] == "merge" and e["toActor"] == "report" for e in sent)
    assert all("message" not in e for e in sent)  # no payloads unless asked for
    assert any(e["_type"] == "TickBatch" and e["actorId"] == "merge" for e in events)


def test_trace_payloads_are_cut_to_256_bytes(tmp_path: Path) -> None:
    spec = write(
        tmp_path / "p.yaml",
        """
version: 1
nodes:
  a: {component: tpl_passthrough}
  print: {component: tpl_log}
connections:
  - a.output -> print.input
initial:
  - {to: a.input, data: short}
  - {to: a.input, data: "%s"}
""" % ("x" * 1000),
    )
    trace = tmp_path / "t.jsonl"
    result = reflow("run", str(spec), "--trace", str(trace), "--trace-payloads", "--quiet")
    assert result.returncode == 0, result.stderr
    sent = [json.loads(line) for line in trace.read_text().splitlines() if '"MessageSent"' in line]
    assert sent[0]["message"] == "short"
    assert len(sent[1]["message"].encode()) <= 256 + len("…".encode()) and sent[1]["message"].endswith("…")


def test_plain_progress_lines_when_not_a_terminal() -> None:
    result = reflow("run", "examples/heartbeat/pipeline.yaml", "--duration", "2.5")
    assert result.returncode == 0
    progress = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert progress and "messages" in progress[0]
    assert "stopped after --duration 2.5 s" in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signals_stop_gracefully_with_their_exit_code(signum: int, code: int) -> None:
    process = subprocess.Popen(
        [EXE, "run", "examples/heartbeat/pipeline.yaml"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("heartbeat at")
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    assert process.returncode == code, err
    assert "stopped gracefully" in err
    assert "Traceback" not in err


DRAIN_SPEC = """\
version: 1
name: drain
nodes:
  slow: {component: tpl_delay, config: {delayMs: 100}}
  print: {component: tpl_log}
connections:
  - slow.output -> print.input
initial:
%s
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_signal_drains_everything_accepted_by_default(tmp_path: Path) -> None:
    spec = tmp_path / "drain.yaml"
    spec.write_text(DRAIN_SPEC % "\n".join(f"  - {{to: slow.input, data: {i}}}" for i in range(20)))
    process = subprocess.Popen([EXE, "run", str(spec)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline() == "0\n"  # running: then Ctrl-C
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert out.split() == [str(i) for i in range(1, 20)]  # every accepted packet went through (2 s more)
    assert "SIGINT: stopping; what was accepted drains (send it again to stop at once)" in err
    assert "still queued" not in err and "Traceback" not in err


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_second_signal_stops_at_once_and_reports_what_was_left(tmp_path: Path) -> None:
    spec = tmp_path / "drain.yaml"
    spec.write_text(DRAIN_SPEC % "\n".join(f"  - {{to: slow.input, data: {i}}}" for i in range(200)))
    process = subprocess.Popen([EXE, "run", str(spec)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline() == "0\n"
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert len(out.split()) < 50 and "Traceback" not in err


def test_graph_mermaid_and_dot() -> None:
    mermaid = reflow("graph", "examples/fan_out_in/pipeline.yaml")
    assert mermaid.returncode == 0
    assert mermaid.stdout.startswith("flowchart LR")
    assert 'n_readings -- "output → input" --> n_high' in mermaid.stdout
    dot = reflow("graph", "examples/fan_out_in/pipeline.yaml", "--format", "dot")
    assert dot.returncode == 0 and dot.stdout.startswith('digraph "fan_out_in"')


def test_graph_svg_needs_graphviz(tmp_path: Path) -> None:
    out = tmp_path / "g.svg"
    result = reflow("graph", "examples/fan_out_in/pipeline.yaml", "--format", "svg", "-o", str(out))
    if shutil.which("dot") is None:
        assert result.returncode == 1
        assert "needs Graphviz's `dot`" in result.stderr
    else:
        assert result.returncode == 0, result.stderr
        assert "<svg" in out.read_text()


def test_version_and_help_show_examples() -> None:
    version = reflow("--version")
    assert version.returncode == 0 and version.stdout.startswith("reflow ")
    for command in ("run", "graph", "validate", "convert", "schema"):
        result = reflow(command, "--help")
        assert result.returncode == 0, command
        assert "Example" in result.stdout, command


def test_dead_letters_and_failure_counts(tmp_path: Path) -> None:
    spec = write(
        tmp_path / "p.yaml",
        """
version: 1
nodes:
  parse: {component: tpl_json_parser, on_error: dead_letter}
  print: {component: tpl_log}
connections:
  - parse.output -> print.input
initial:
  - {to: parse.input, data: '{"a": 1}'}
  - {to: parse.input, data: 'not json'}
  - {to: parse.input, data: '[2]'}
""",
    )
    result = reflow("run", str(spec))
    assert result.returncode == 0, result.stderr
    assert result.stdout == '{"a":1}\n[2]\n'
    letters = [json.loads(line) for line in (tmp_path / "dead-letters.jsonl").read_text().splitlines()]
    assert [letter["message"] for letter in letters] == [{"input": {"data": "not json", "type": "String"}}]
    assert "1 dead-lettered" in result.stderr
    assert f"dead letters: {tmp_path / 'dead-letters.jsonl'}" in result.stderr
    other = tmp_path / "elsewhere.jsonl"
    quiet = reflow("run", str(spec), "--dead-letters", str(other), "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert len(other.read_text().splitlines()) == 1


def test_retry_policy_in_a_spec(tmp_path: Path) -> None:
    spec = write(
        tmp_path / "p.yaml",
        """
version: 1
nodes:
  parse: {component: tpl_json_parser, on_error: retry, retry: {count: 2, backoff: 0, then: skip}}
  print: {component: tpl_log}
connections:
  - parse.output -> print.input
initial:
  - {to: parse.input, data: 'not json'}
  - {to: parse.input, data: '3'}
""",
    )
    result = reflow("run", str(spec))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "3\n"
    assert "3 failure(s): 1 tick(s) skipped, 0 dead-lettered, 2 retried" in result.stderr
