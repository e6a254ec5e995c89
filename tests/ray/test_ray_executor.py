"""The Ray executor on a local Ray instance: same results as the local executor, and the distributed parts."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter as Multiset
from pathlib import Path
from typing import Any, Iterator

import pytest

from reflow_cli import Actor, Message, Network, PortSpec, RunState, Stream
from reflow_cli.errors import ConfigError
from reflow_cli.runner import pipeline_network, run_to_end, tap_outports
from reflow_cli.spec import load_pipeline

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.ray

from reflow_cli.engine._ray_run import RayExecutor  # noqa: E402  (needs ray)

ROOT = Path(__file__).resolve().parents[2]
EXE = shutil.which("reflow") or str(Path(sys.executable).with_name("reflow"))


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    RayExecutor().connect()  # one local instance for the module: each network only starts actors
    yield
    ray.shutdown()


class Source(Actor):
    inports = ["tick"]
    outports = ["tick", "out"]

    def __init__(self, count: int) -> None:
        self.count = count

    def run(self, ctx: Any) -> None:
        n = ctx.inputs["tick"]["data"]
        ctx.done({"tick": Message.integer(n + 1) if n < self.count else None, "out": Message.integer(n)})


class Double(Actor):
    inports = ["in"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        ctx.done({"out": Message.integer(ctx.inputs["in"]["data"] * 2)})


class Keep(Actor):
    """A sink that remembers what it got in its pool (the driver reads it back from the stats? no: from events)."""

    inports = ["in"]
    outports = ["seen"]

    def run(self, ctx: Any) -> None:
        ctx.done({"seen": ctx.inputs["in"]})


def chain(executor: Any, count: int = 300, stages: int = 3, replicas: int | None = None) -> tuple[Network, Any]:
    net = Network(executor=executor)
    net.register_actor("src", Source(count))
    net.register_actor("double", Double())
    net.register_actor("keep", Keep())
    net.add_node("s", "src")
    net.add_connection("s", "tick", "s", "tick")
    previous = ("s", "out")
    for i in range(stages):
        net.add_node(f"d{i}", "double")
        net.add_connection(*previous, f"d{i}", "in", capacity=16)
        previous = (f"d{i}", "out")
    if replicas:
        net.graph.set_node_metadata("d0", {"reflow": {"replicas": replicas}})
    net.add_node("k", "keep")
    net.add_connection(*previous, "k", "in")
    net.graph.add_outport("seen", "k", "seen")
    net.add_initial("s", "tick", Message.integer(1))
    return net, tap_outports(net)


def test_a_chain_gives_the_same_packets_in_the_same_order_on_both_executors() -> None:
    local, local_taps = chain("trio", count=50)
    assert local.run(timeout=30)
    remote, remote_taps = chain(RayExecutor(batch_size=8), count=50)
    assert remote.run(timeout=120) == RunState.COMPLETE
    expected = [n * 8 for n in range(1, 51)]
    assert remote_taps["seen"].count == local_taps["seen"].count == 50
    assert [m["data"] for m in remote_taps["seen"].last] == expected[-20:]
    stats = remote.stats()
    assert stats.nodes["k"].ticks == 50
    assert stats.edges["d2.out -> k.in"].sent == 50  # a remote edge, under its real name
    assert not any(node.startswith("__link__") for node in stats.nodes)  # links are the executor's own


def test_examples_give_the_same_output_on_both_executors(capsys: pytest.CaptureFixture[str]) -> None:
    outputs = {}
    for executor in ("trio", RayExecutor()):
        loaded = load_pipeline(ROOT / "examples" / "fan_out_in" / "pipeline.yaml")
        assert loaded.ok
        network = pipeline_network(loaded, executor=executor)
        import os

        here = os.getcwd()
        os.chdir(ROOT / "examples" / "fan_out_in")
        try:
            outcome = run_to_end(network, timeout=120, handle_signals=False)
        finally:
            os.chdir(here)
        assert outcome.reason == "complete"
        outputs[str(executor)] = capsys.readouterr().out
    assert list(outputs.values())[0] == list(outputs.values())[1] == "high: 5, low: 5, average: 52.9\n"


def test_replicas_keep_the_order_and_show_in_the_stats() -> None:
    net, taps = chain(RayExecutor(batch_size=16), count=64, stages=2, replicas=2)
    assert net.run(timeout=120) == RunState.COMPLETE
    assert taps["seen"].count == 64
    assert [m["data"] for m in taps["seen"].last] == [n * 4 for n in range(45, 65)]
    nodes = net.stats().nodes
    assert {"d0", "d0#1", "d0#2"} <= set(nodes)
    assert nodes["d0#1"].ticks + nodes["d0#2"].ticks == 64
    assert nodes["d0#1"].ticks and nodes["d0#2"].ticks


def test_placement_groups_run_nodes_together() -> None:
    net, taps = chain(RayExecutor(), count=20)
    for node in ("s", "d0", "d1"):
        net.graph.set_node_metadata(node, {"reflow": {"placement": "front"}})
    run = net._compile()  # noqa: SLF001 - looking at the layout
    assert run.layout.partition_of["d0"] == run.layout.partition_of["s"] == "group:front"
    assert len(run.layout.remote_edges) == 2
    assert net.run(timeout=120) and taps["seen"].count == 20


def test_a_remote_failure_follows_the_node_policy() -> None:
    class Fragile(Actor):
        inports = ["in"]
        outports = ["out"]

        def run(self, ctx: Any) -> None:
            if ctx.inputs["in"]["data"] == 6:
                raise ValueError("six")
            ctx.done({"out": ctx.inputs["in"]})

    for policy, state in (("skip", RunState.COMPLETE), ("fail", RunState.FAILED)):
        net = Network(executor=RayExecutor(), on_error=policy)
        net.register_actor("fragile", Fragile())
        net.register_actor("keep", Keep())
        net.add_node("f", "fragile")
        net.add_node("k", "keep")
        net.add_connection("f", "out", "k", "in")
        for i in range(10):
            net.add_initial("f", "in", Message.integer(i))
        events = net.events()
        status = net.run(timeout=120)
        assert status == state, status
        failed = [e for e in events if e["_type"] == "ActorFailed"]
        assert failed and failed[0]["error"] == "ValueError: six" and failed[0]["actorId"] == "f"
        if state is RunState.FAILED:
            assert status.failure is not None and status.failure.node == "f"


def test_events_reach_the_driver_with_real_node_names() -> None:
    net, _ = chain(RayExecutor(), count=5, stages=1)
    events = net.events()
    assert net.run(timeout=120)
    sent = [e for e in events if e["_type"] == "MessageSent"]
    assert {(e["fromActor"], e["toActor"]) for e in sent} >= {("s", "d0"), ("d0", "k")}
    assert not any(str(e.get("toActor", "")).startswith("__link__") for e in sent)


class Producer(Actor):
    """Sends one stream of one frame."""

    inports = ["go"]
    outports = [PortSpec("out", "StreamHandle", "a stream")]

    def run(self, ctx: Any) -> None:
        stream = Stream.create()
        stream.send_bytes(b"x")
        stream.end()
        ctx.done({"out": stream.into_message()})


class Reader(Actor):
    """Reads a stream to its end and emits its bytes."""

    inports = [PortSpec("in", "StreamHandle", "a stream")]
    outports = ["seen"]

    def run(self, ctx: Any) -> None:
        ctx.done({"seen": Message.string(ctx.inputs["in"].take_stream().read_all().decode())})


def stream_network(**groups: str) -> Network:
    net = Network(executor=RayExecutor(), on_error="fail")
    net.register_actor("p", Producer())
    net.register_actor("read", Reader())
    net.add_node("p", "p")
    net.add_node("r", "read")
    net.add_connection("p", "out", "r", "in")
    net.add_initial("p", "go", Message.flow())
    for node, group in groups.items():
        net.graph.set_node_metadata(node, {"reflow": {"placement": group}})
    return net


def test_a_stream_across_ray_actors_is_a_clear_error_before_ray_starts() -> None:
    net = stream_network()
    with pytest.raises(ConfigError) as caught:
        net.start()
    message = str(caught.value)
    assert "node 'p' outport 'out' -> node 'r' inport 'in'" in message
    assert "different Ray actors" in message and "placement" in message
    assert "__link__" not in message
    assert not net.is_running


def test_a_stream_into_replicas_is_refused_too() -> None:
    net = stream_network()
    net.graph.set_node_metadata("r", {"reflow": {"replicas": 2}})
    with pytest.raises(ConfigError, match="replicated node 'r'.*drop `replicas`"):
        net.start()


def test_a_stream_within_one_placement_group_runs() -> None:
    net = stream_network(p="together", r="together")
    net.graph.add_outport("seen", "r", "seen")
    taps = tap_outports(net)
    assert net.run(timeout=120) == RunState.COMPLETE
    assert [m["data"] for m in taps["seen"].last] == ["x"]


def test_a_stream_on_an_untyped_port_fails_at_run_time_naming_the_real_nodes() -> None:
    class Loose(Producer):
        outports = ["out"]  # no declared type: only the packet tells

    net = Network(executor=RayExecutor(), on_error="fail")
    net.register_actor("p", Loose())
    net.register_actor("keep", Keep())
    net.add_node("p", "p")
    net.add_node("k", "keep")
    net.add_connection("p", "out", "k", "in")
    net.add_initial("p", "go", Message.flow())
    events = net.events()
    status = net.run(timeout=120)
    assert status == RunState.FAILED
    assert status.failure is not None and status.failure.node == "p"
    assert "cannot cross from one Ray actor to another (p.out -> k.in)" in status.failure.error
    failed = [e for e in events if e["_type"] == "ActorFailed"]
    assert [e["actorId"] for e in failed] == ["p"]


def test_reflow_run_refuses_a_stream_across_ray_actors_cleanly(tmp_path: Path) -> None:
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(
        "version: 1\nname: streams\nnodes:\n"
        "  make: {component: tpl_bytes_to_stream}\n  back: {component: tpl_stream_to_bytes}\n"
        "  print: {component: tpl_log}\n"
        "connections:\n  - make.stream -> back.stream\n  - back.output -> print.input\n"
        "initial:\n  - {to: make.input, data: {type: String, data: hello}}\n",
        encoding="utf-8",
    )
    done = subprocess.run([EXE, "run", str(spec), "--executor", "ray"], capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "╭" not in done.stderr
    assert "error: a stream (StreamHandle) cannot cross from one Ray actor to another: " \
        "node 'make' outport 'stream' -> node 'back' inport 'stream'" in done.stderr


def test_a_ray_runs_events_look_like_one_local_run() -> None:
    net, _ = chain(RayExecutor(batch_size=8), count=40, stages=2, replicas=2)
    events = net.events()
    assert net.run(timeout=120) == RunState.COMPLETE
    seen = list(events)
    kinds = Multiset(e["_type"] for e in seen)
    assert kinds["NetworkStarted"] == kinds["NetworkShutdown"] == 1
    assert kinds["NetworkStalled"] == 0 and kinds["NetworkIdle"] >= 1
    assert seen[0]["_type"] == "NetworkStarted" and seen[-1]["_type"] == "NetworkShutdown"
    text = json.dumps(seen, default=str)
    for plumbing in ("__link__", "__outputs__", "__pool__"):
        assert plumbing not in text
    started = {e["actorId"]: e["component"] for e in seen if e["_type"] == "ActorStarted"}
    assert started["d0"] == "double" and started["d0#1"] == "double"
    assert net.stats().nodes["d0"].component == "double"


def test_a_ray_trace_summary_lists_only_the_real_nodes(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    spec = ROOT / "examples" / "fan_out_in" / "pipeline.yaml"
    done = subprocess.run([EXE, "run", str(spec), "--executor", "ray", "--trace", str(trace), "-q"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    kinds = Multiset(e["_type"] for e in events)
    assert kinds["NetworkStarted"] == kinds["NetworkShutdown"] == 1 and kinds["NetworkStalled"] == 0
    assert "__link__" not in trace.read_text()
    summary = subprocess.run([EXE, "trace", "summary", "--json", str(trace)], capture_output=True, text=True,
                             timeout=60, check=False)
    assert summary.returncode == 0, summary.stderr
    report = json.loads(summary.stdout)
    assert report["state"] == "complete"
    real = {process.id for process in load_pipeline(spec).graph.iter_processes()}
    assert {node["node"] for node in report["nodes"]} == real


class Slow(Actor):
    """A sink that takes its time."""

    inports = ["in"]
    outports: list[str] = []

    def run(self, ctx: Any) -> None:
        time.sleep(0.005)


def test_a_stopped_run_counts_the_packets_in_flight_between_actors_as_undelivered() -> None:
    # 200 packets fit in the link's queue (48), the window (4 x 32) and k's inport (48): the sender never
    # blocks, so what is undelivered at the end sits in queues or between the two actors
    total = 200
    net = Network(executor=RayExecutor(batch_size=32, window=4))
    net.register_actor("double", Double())
    net.register_actor("slow", Slow())
    net.add_node("f", "double")
    net.add_node("k", "slow")
    net.add_connection("f", "out", "k", "in", capacity=48)
    for i in range(total):
        net.add_initial("f", "in", Message.integer(i))
    events = net.events()
    net.start()
    deadline = time.monotonic() + 60
    while net.stats().nodes.get("k") is None or net.stats().nodes["k"].ticks < 20:
        assert time.monotonic() < deadline, "the sink never got going"
        time.sleep(0.02)
    stats = net.shutdown(grace=0.1)
    handled = stats.nodes["k"].ticks
    assert stats.edges["f.out -> k.in"].sent == total  # all of them left f ...
    assert handled < total - stats.inports["k.in"].capacity  # ... and more than k's queue holds were not handled
    # every packet was either handled by the sink or is counted as undelivered: none vanished in between
    assert handled + stats.undelivered == total
    assert stats.inports["k.in"].capacity == 48  # the connection's capacity holds on the receiving side
    assert stats.failures == 0
    assert not [e for e in events if e["_type"] == "ActorFailed"]  # stopping fails no sender


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_a_ray_run_cleanly() -> None:
    exe = shutil.which("reflow") or str(Path(sys.executable).with_name("reflow"))
    process = subprocess.Popen(
        [exe, "run", "examples/heartbeat/pipeline.yaml", "--executor", "ray"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    line = process.stdout.readline()
    assert line.startswith("heartbeat at"), line
    assert time.monotonic() < deadline
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "stopped gracefully" in err


def test_multisets_match_across_fan_in_on_both_executors() -> None:
    def fan_in(executor: Any) -> Any:
        net = Network(executor=executor)
        net.register_actor("double", Double())
        net.register_actor("keep", Keep())
        net.add_node("a", "double")
        net.add_node("b", "double")
        net.add_node("k", "keep")
        net.add_connection("a", "out", "k", "in")
        net.add_connection("b", "out", "k", "in")
        net.graph.add_outport("seen", "k", "seen")
        for i in range(10):
            net.add_initial("a", "in", Message.integer(i))
            net.add_initial("b", "in", Message.integer(100 + i))
        taps = tap_outports(net)
        taps["seen"].last = __import__("collections").deque(maxlen=100)
        assert net.run(timeout=120)
        return Multiset(m["data"] for m in taps["seen"].last)

    assert fan_in("trio") == fan_in(RayExecutor())
