"""`reflow trace summary`: counts, tick latency, blocked vs starved, slowest edges, failures; bad lines."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from reflow_cli import Actor, Message, Network
from reflow_cli.runner import run_to_end
from reflow_cli.trace_summary import (
    TraceFormatError,
    format_summary,
    summarise_events,
    summarise_trace,
    weighted_percentiles,
)

from tests.actors import Collect

from ._cli import reflow
from .slow_actors import FailOnOdd, stalled_network


@pytest.fixture(scope="module")
def stalled_trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trace of a flood into a slow sink (the flood spends most of the run blocked)."""
    path = tmp_path_factory.mktemp("trace") / "stalled.jsonl"
    outcome = run_to_end(stalled_network(count=40, delay=0.01), trace=path, handle_signals=False)
    assert outcome.reason == "complete"
    return path


def test_a_stalled_pipeline_shows_its_blocked_inport_and_slowest_edge(stalled_trace: Path) -> None:
    summary = summarise_trace(stalled_trace)
    assert summary.state == "complete" and summary.has_stats
    assert summary.inports[0].inport == "sink.in"  # the most blocked inport comes first
    assert summary.inports[0].blocked_s > 0.1 and summary.inports[0].high_water == 4
    assert summary.slowest_edges[0].edge == "flood.out -> sink.in"
    assert summary.slowest_edges[0].blocked_s == pytest.approx(summary.inports[0].blocked_s)
    flood, sink = summary.nodes["flood"], summary.nodes["sink"]
    assert flood.blocked_s > 0.1 and flood.sent == 40
    assert sink.received == 40 and sink.ticks == 40 and sink.component == "slow_sink"
    text = format_summary(summary)
    assert "sink.in" in text and "flood.out -> sink.in" in text and "failures: none" in text


def test_tick_latency_comes_from_tick_batches(stalled_trace: Path) -> None:
    summary = summarise_trace(stalled_trace)
    sink = summary.nodes["sink"].latency
    assert sink.ticks == 40
    assert sink.p50 is not None and 0.009 <= sink.p50 < 0.5  # each tick awaits 10 ms
    assert sink.p50 <= sink.p90 <= sink.p99 <= sink.max  # type: ignore[operator]
    assert summary.latency.ticks == 41  # the flood's one long tick, and the sink's


class SlowOnce(Actor):
    """Forwards at once, but takes 200 ms over one chosen packet."""

    inports = ["in"]
    outports = ["out"]

    def __init__(self, slow_on: int, threaded: bool = False) -> None:
        self.slow_on = slow_on
        self.threaded = threaded

    def run(self, ctx: Any) -> None:
        if ctx.inputs["in"]["data"] == self.slow_on:
            time.sleep(0.2)
        ctx.done({"out": ctx.inputs["in"]})


@pytest.mark.parametrize("threaded", [False, True], ids=["sync", "threaded"])
def test_one_slow_tick_in_a_fast_batch_shows_as_the_max_not_as_the_median(tmp_path: Path, threaded: bool) -> None:
    net = Network()
    net.register_actor("mid", SlowOnce(slow_on=50, threaded=threaded))
    net.register_actor("sink", Collect())
    net.add_node("mid", "mid")
    net.add_node("sink", "sink")
    net.add_connection("mid", "out", "sink", "in")
    for i in range(100):
        net.add_initial("mid", "in", Message.integer(i))
    path = tmp_path / "trace.jsonl"
    assert run_to_end(net, trace=path, handle_signals=False).reason == "complete"
    batches = [e for e in map(json.loads, path.read_text().splitlines()) if e["_type"] == "TickBatch" and e["actorId"] == "mid"]
    assert any(e["ticks"] > 1 for e in batches)
    assert all("histogram" in e and "maxSeconds" in e for e in batches if e["ticks"] > 1)  # one tick: seconds say it all
    latency = summarise_trace(path).nodes["mid"].latency
    assert latency.ticks == 100
    assert latency.max is not None and 0.2 <= latency.max < 1.0  # the slow tick, as it was
    assert latency.p50 is not None and latency.p50 < 0.001  # the other 99 were fast
    assert latency.p90 is not None and latency.p90 < 0.001
    assert latency.mean is not None and 0.002 <= latency.mean < 0.02  # the exact mean: 200 ms over 100 ticks


def test_a_histogram_bucket_counts_at_the_batch_mean_clamped_into_it(tmp_path: Path) -> None:
    events = [
        {"_type": "TickBatch", "actorId": "n", "ticks": 3, "seconds": 0.3,
         "maxSeconds": 0.25, "histogram": [[1e-05, 2], [0.5, 1]], "timestamp": 1},
        {"_type": "TickBatch", "actorId": "n", "ticks": 2, "seconds": 0.004, "timestamp": 2},  # no histogram: the mean
    ]
    latency = summarise_events(json.dumps(e) for e in events).nodes["n"].latency
    assert latency.ticks == 5
    # 2 ticks in (5 µs, 10 µs]: the mean 100 ms clamped to 10 µs; 1 in (200 ms, 500 ms]: at 200 ms; 2 at 2 ms
    assert weighted_percentiles([(1e-05, 2), (0.2, 1), (0.002, 2)], [50]) == [latency.p50]
    assert latency.max == 0.25 and latency.mean == pytest.approx(0.304 / 5)


def test_weighted_percentiles_count_each_tick_of_a_batch() -> None:
    # 99 ticks of 1 ms (one batch) and one tick of 500 ms
    samples = [(0.001, 99), (0.5, 1)]
    assert weighted_percentiles(samples, [50, 90, 99, 100]) == [0.001, 0.001, 0.001, 0.5]
    assert weighted_percentiles([(0.2, 1), (0.1, 1), (0.3, 2)], [25, 50, 75]) == [0.1, 0.2, 0.3]
    assert weighted_percentiles([], [50]) == [None]


def test_failures_are_counted_per_node_with_the_first_errors(tmp_path: Path) -> None:
    net = Network()
    net.register_actor("fail_on_odd", FailOnOdd())
    net.add_node("check", "fail_on_odd", on_error="skip")
    for value in range(7):
        net.add_initial("check", "in", Message.integer(value))
    path = tmp_path / "t.jsonl"
    run_to_end(net, trace=path, handle_signals=False)
    summary = summarise_trace(path)
    assert [(f.node, f.count) for f in summary.failures] == [("check", 3)]
    assert summary.failures[0].first_errors == ["ValueError: odd: 1", "ValueError: odd: 3", "ValueError: odd: 5"]
    assert summary.nodes["check"].skipped == 3
    assert "failures: 3" in format_summary(summary)


def test_bad_lines_are_skipped_and_named(stalled_trace: Path) -> None:
    lines = stalled_trace.read_text().splitlines()
    broken = [lines[0], "garbage", "[1, 2]", '{"_type": "TickBatch", "actorId": "sink"}', *lines[1:-1], lines[-1][:40]]
    summary = summarise_events(broken, "t.jsonl")
    problems = {p.line: p.message for p in summary.problems}
    assert set(problems) == {2, 3, 4, len(broken)}
    assert "not JSON" in problems[2]
    assert "not a trace event" in problems[3]
    assert "'ticks' missing" in problems[4]
    assert "cut off" in problems[len(broken)]
    assert summary.nodes["sink"].received > 0  # the rest still counts


def test_a_file_without_events_is_an_error() -> None:
    with pytest.raises(TraceFormatError, match="is empty"):
        summarise_events([], "t.jsonl")
    with pytest.raises(TraceFormatError, match="holds no trace event"):
        summarise_events(["nothing here", "{}"], "t.jsonl")


def test_the_command_prints_tables_json_and_warnings(stalled_trace: Path, tmp_path: Path) -> None:
    result = reflow("trace", "summary", str(stalled_trace))
    assert result.returncode == 0, result.stderr
    assert "slowest edges" in result.stdout and "flood.out -> sink.in" in result.stdout
    as_json = reflow("trace", "summary", str(stalled_trace), "--json")
    document = json.loads(as_json.stdout)
    assert document["inports"][0]["inport"] == "sink.in"
    assert document["slowest_edges"][0]["edge"] == "flood.out -> sink.in"
    assert {node["node"] for node in document["nodes"]} == {"flood", "sink"}

    cut = tmp_path / "cut.jsonl"
    cut.write_text(stalled_trace.read_text()[:-30], encoding="utf-8")  # killed while writing
    result = reflow("trace", "summary", str(cut))
    assert result.returncode == 0
    assert f"warning: {cut}:" in result.stderr and "cut off" in result.stderr
    assert "Traceback" not in result.stderr

    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    result = reflow("trace", "summary", str(empty))
    assert result.returncode == 1 and "is empty" in result.stderr and "Traceback" not in result.stderr
    assert reflow("trace", "summary", str(tmp_path / "missing.jsonl")).returncode == 2
