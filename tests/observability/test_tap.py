"""`reflow tap`: the messages leaving a node, one JSON line each; `runner.tap_node` and `RunControl` beneath it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from reflow_cli import Message, Network
from reflow_cli.runner import RunControl, node_outports, run_to_end, tap_node
from reflow_cli.spec import load_pipeline

from ._cli import ROOT, reflow
from .slow_actors import Flood, SlowSink

EXAMPLES = ROOT / "examples"


def lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_tap_prints_every_message_of_a_port_and_only_those_on_stdout() -> None:
    result = reflow("tap", "examples/fan_out_in/pipeline.yaml", "high.output")
    assert result.returncode == 0, result.stderr
    tapped = lines(result.stdout)  # the pipeline's own print went to stderr
    assert [m["data"] for m in tapped] == ["51", "77", "93", "66", "88", None]
    assert {(m["node"], m["port"]) for m in tapped} == {("high", "output")}
    assert tapped[-1]["type"] == "Flow"
    assert "high: 5, low: 5, average: 52.9" in result.stderr
    assert "reflow tap: 6 message(s) from high.output; complete" in result.stderr


def test_tap_a_node_taps_all_its_outports() -> None:
    result = reflow("tap", "examples/fan_out_in/pipeline.yaml", "readings", "--quiet")
    assert result.returncode == 0, result.stderr
    tapped = lines(result.stdout)
    assert {m["port"] for m in tapped} == {"output", "count"}
    assert [m["data"] for m in tapped if m["port"] == "count"] == [10]
    assert "reflow tap" not in result.stderr


def test_limit_stops_a_pipeline_that_never_ends() -> None:
    result = reflow("tap", "examples/heartbeat/pipeline.yaml", "line", "--limit", "2", timeout=30)
    assert result.returncode == 0, result.stderr
    tapped = lines(result.stdout)
    assert len(tapped) == 2 and all(str(m["data"]).startswith("heartbeat at 20") for m in tapped)
    assert "stopped at --limit 2" in result.stderr


def test_unknown_nodes_and_ports_are_usage_errors() -> None:
    result = reflow("tap", "examples/fan_out_in/pipeline.yaml", "readngs")
    assert result.returncode == 2 and "did you mean 'readings'?" in result.stderr
    result = reflow("tap", "examples/fan_out_in/pipeline.yaml", "high.outptu")
    assert result.returncode == 2 and "no outport 'outptu'" in result.stderr and "did you mean 'output'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_tap_reports_a_failing_pipeline_like_run(tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text(
        "version: 1\nnodes:\n  parse: {component: tpl_json_parser}\n  print: {component: tpl_log}\n"
        "connections:\n  - parse.output -> print.input\n"
        "initial:\n  - {to: parse.input, data: '[1]'}\n  - {to: parse.input, data: 'not json'}\n",
        encoding="utf-8",
    )
    result = reflow("tap", str(spec), "parse.output")
    assert result.returncode == 1
    # `fail` stops the run at once: the failing tick's batch may not have gone out
    assert lines(result.stdout) in ([], [{"node": "parse", "port": "output", "type": "Array", "data": [1]}])
    assert "error: node 'parse' (tpl_json_parser) failed" in result.stderr and "Traceback" not in result.stderr


def test_tap_leaves_no_file_behind(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "logs", tmp_path / "logs", ignore=shutil.ignore_patterns("errors.txt", "__pycache__"))
    result = reflow("tap", str(tmp_path / "logs" / "pipeline.yaml"), "count.output", "--quiet")
    assert result.returncode == 0, result.stderr
    assert lines(result.stdout) == [{"node": "count", "port": "output", "type": "Integer", "data": 4}]


def test_node_outports_lists_declared_and_connected_ports() -> None:
    loaded = load_pipeline(EXAMPLES / "csv_cleanup" / "pipeline.yaml")
    assert node_outports(loaded, "valid") == ["output", "rejected"]
    assert node_outports(loaded, "print") == ["output"]
    custom = load_pipeline(EXAMPLES / "custom_actor" / "pipeline.yaml")
    assert node_outports(custom, "stats") == ["stats"]  # a python: component's own declaration


def test_tap_node_and_run_control_in_the_library() -> None:
    net = Network()
    net.register_actor("flood", Flood)
    net.register_actor("slow_sink", SlowSink)
    net.add_node("flood", "flood", {"count": 0})  # endless
    net.add_node("sink", "slow_sink", {"delay": 0})
    net.add_connection("flood", "out", "sink", "in")
    net.add_initial("flood", "trigger", Message.flow())
    control = RunControl()
    seen: list[int] = []

    def on_message(node: str, port: str, message: Message) -> None:
        seen.append(message["data"])
        if len(seen) == 25:
            control.stop("enough")

    taps = tap_node(net, "flood", ["out"], on_message)
    outcome = run_to_end(net, control=control, handle_signals=False, timeout=30)
    assert outcome.reason == "enough"
    assert seen[:25] == list(range(25))  # in order, from the start
    assert taps["out"].count == len(seen) and taps["out"].messages[0] == Message.integer(0)
    assert "sink" in outcome.stats.nodes and outcome.stats.nodes["sink"].received >= 25  # the sink still got them


def test_the_new_commands_have_help_with_an_example() -> None:
    for command in (("tap",), ("test",), ("trace", "summary")):
        result = reflow(*command, "--help")
        assert result.returncode == 0, command
        assert "Example" in result.stdout, command
    assert "--metrics" in reflow("run", "--help").stdout
