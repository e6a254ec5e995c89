"""Prometheus metrics: the text format, the h11 server on the run's trio loop, and `reflow run --metrics`."""

from __future__ import annotations

import http.client
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from reflow_cli.engine import EdgeStatistics, InportStatistics, NetworkStatistics, NodeStatistics, RunState
from reflow_cli.metrics import CONTENT_TYPE, MetricsError, MetricsServer, parse_address, render_metrics
from reflow_cli.runner import run_to_end

from ._cli import EXE, ROOT, reflow
from .slow_actors import stalled_network, stalled_spec

SAMPLE = re.compile(r'^([a-z_]+)(\{(?:[a-z_]+="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$')


def parse(text: str) -> dict[str, float]:
    """``{'name{labels}': value}``; every sample line must be well formed and every family declared."""
    samples: dict[str, float] = {}
    declared: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            declared.add(line.split()[2])
            continue
        if line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        assert match.group(1) in declared, f"{match.group(1)} has no TYPE line"
        samples[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return samples


def snapshot() -> NetworkStatistics:
    nodes = {
        "a": NodeStatistics("a", "tpl_x", "blocked", 10, 1, 10, 9, 0.5, 2.25),
        "__outport__out": NodeStatistics("__outport__out", "reflow_outport_tap", "waiting", 9, 0, 9, 0, 0, 0),
    }
    inports = {
        'b."in': InportStatistics('b"', "in", 8, 8, 3, 8, 2.25, 0.0),
        "__outport__out.in": InportStatistics("__outport__out", "in", 64, 0, 9, 1, 0, 0),
    }
    edges = {
        "a.out -> b.in": EdgeStatistics("a.out", 'b".in', 9, 2.25, True),
        "a.out -> __outport__out.in": EdgeStatistics("a.out", "__outport__out.in", 9, 0, False),
    }
    return NetworkStatistics(RunState.RUNNING, 3.5, nodes, inports, edges, 1, 8)


def test_render_metrics_names_labels_and_types() -> None:
    samples = parse(render_metrics(snapshot()))
    assert samples['reflow_node_ticks_total{node="a",component="tpl_x"}'] == 10
    assert samples['reflow_node_failures_total{node="a",component="tpl_x"}'] == 1
    assert samples['reflow_node_blocked_seconds_total{node="a",component="tpl_x"}'] == 2.25
    assert samples['reflow_node_state{node="a",component="tpl_x",state="blocked"}'] == 1
    assert samples['reflow_node_state{node="a",component="tpl_x",state="running"}'] == 0
    assert samples['reflow_inport_queued{node="b\\"",port="in"}'] == 8  # quotes escaped
    assert samples['reflow_inport_capacity{node="b\\"",port="in"}'] == 8
    assert samples['reflow_inport_blocked_seconds_total{node="b\\"",port="in"}'] == 2.25
    assert samples['reflow_edge_sent_total{source="a.out",target="b\\".in"}'] == 9
    assert samples['reflow_edge_waiting{source="a.out",target="b\\".in"}'] == 1
    assert samples['reflow_run_state{state="RUNNING"}'] == 1
    assert samples["reflow_run_failures_total"] == 1 and samples["reflow_run_elapsed_seconds"] == 3.5
    assert not any("__outport__" in key for key in samples)  # reflow's own collectors are not the user's nodes


def test_parse_address() -> None:
    assert parse_address("127.0.0.1:9464") == ("127.0.0.1", 9464)
    assert parse_address(":0") == ("127.0.0.1", 0)
    assert parse_address("9000") == ("127.0.0.1", 9000)
    assert parse_address("0.0.0.0") == ("0.0.0.0", 9464)
    assert parse_address("[::1]:9100") == ("::1", 9100)
    for bad in ("host:port", "1.2.3.4:99999", "[::1"):
        with pytest.raises(MetricsError):
            parse_address(bad)


def test_the_server_answers_on_the_runs_own_loop_while_it_stalls() -> None:
    urls: list[str] = []
    scraped: list[str] = []
    other: list[tuple[int, str, str]] = []
    done = threading.Event()

    def scrape() -> None:
        while not urls and not done.is_set():
            time.sleep(0.01)
        host, port = urls[0].split("//")[1].split("/")[0].split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=5)  # one keep-alive connection
        try:
            for method, path in (("GET", "/nope"), ("POST", "/metrics"), ("HEAD", "/metrics")):
                connection.request(method, path, body=b"x" if method == "POST" else None)
                response = connection.getresponse()
                other.append((response.status, response.getheader("allow") or "", response.read().decode()))
            while not done.is_set():
                connection.request("GET", "/metrics")
                response = connection.getresponse()
                assert response.getheader("content-type") == CONTENT_TYPE
                scraped.append(response.read().decode())
                time.sleep(0.02)
        finally:
            connection.close()

    thread = threading.Thread(target=scrape)
    thread.start()
    server = MetricsServer("127.0.0.1", 0, on_listening=urls.append)
    net = stalled_network(count=40, delay=0.01)

    def stop_scraping_near_the_end(stats: NetworkStatistics) -> None:
        if stats.nodes.get("sink") is not None and stats.nodes["sink"].ticks >= 30:
            done.set()

    try:
        outcome = run_to_end(net, metrics=server, progress=stop_scraping_near_the_end, progress_interval=0.02,
                             handle_signals=False)
    finally:
        done.set()
        thread.join(10)
    assert outcome.reason == "complete"
    assert len(scraped) >= 3 and server.scrapes == len(scraped) + 1  # + the HEAD request
    blocked = [
        parse(text) for text in scraped
        if parse(text).get('reflow_node_state{node="flood",component="flood",state="blocked"}') == 1
    ]
    assert blocked, "no scrape saw the flood blocked"
    last = parse(scraped[-1])
    assert last['reflow_inport_blocked_seconds_total{node="sink",port="in"}'] > 0
    assert last['reflow_inport_capacity{node="sink",port="in"}'] == 4
    assert last['reflow_edge_blocked_seconds_total{source="flood.out",target="sink.in"}'] > 0
    assert max(parse(t)['reflow_inport_high_water{node="sink",port="in"}'] for t in scraped) == 4
    assert other[0][0] == 404
    assert other[1][0] == 405 and "GET" in other[1][1]
    assert other[2][0] == 200 and other[2][2] == ""  # HEAD: headers only


def test_an_address_in_use_is_an_error_before_the_run_starts() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        net = stalled_network(count=1, delay=0)
        with pytest.raises(MetricsError, match=f"127.0.0.1:{port}"):
            run_to_end(net, metrics=MetricsServer("127.0.0.1", port), handle_signals=False)
        assert net.stats().nodes == {}  # nothing ran


def test_reflow_run_metrics_shows_the_blocked_inport(tmp_path: Path) -> None:
    spec = stalled_spec(tmp_path, count=0, delay=0.01)  # an endless flood: --duration ends it
    process = subprocess.Popen(
        [EXE, "run", str(spec), "--metrics", "127.0.0.1:0", "--duration", "3", "--quiet"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line.startswith("metrics: serving http://127.0.0.1:"), line
        url = line.split()[-1]
        seen: dict[str, float] = {}
        while process.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    samples = parse(response.read().decode())
            except urllib.error.URLError:
                break  # the run ended (its --duration) and the server with it
            for key, value in samples.items():
                seen[key] = max(seen.get(key, value), value)
            if seen.get('reflow_inport_blocked_seconds_total{node="sink",port="in"}', 0) > 0 and seen.get(
                'reflow_node_state{node="flood",component="python:slow_actors:Flood",state="blocked"}'
            ) == 1:
                break
            time.sleep(0.05)
        assert seen['reflow_inport_blocked_seconds_total{node="sink",port="in"}'] > 0
        assert seen['reflow_node_state{node="flood",component="python:slow_actors:Flood",state="blocked"}'] == 1
        assert seen['reflow_inport_queued{node="sink",port="in"}'] >= 3
        assert seen['reflow_edge_waiting{source="flood.out",target="sink.in"}'] == 1
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    with pytest.raises(urllib.error.URLError):  # served only while running
        urllib.request.urlopen(url, timeout=2)


def test_reflow_run_metrics_usage_and_bind_errors(tmp_path: Path) -> None:
    spec = stalled_spec(tmp_path, count=1, delay=0)
    result = reflow("run", str(spec), "--metrics", "localhost:port")
    assert result.returncode == 2 and "--metrics" in result.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = reflow("run", str(spec), "--metrics", f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert f"cannot serve metrics on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr
