"""Bursts: big one-tick outputs, many IIPs and a large stream, under a live timer.

Every scenario's network also holds an interval timer: an ``async`` actor
that loops ``await trio.sleep(0.010)`` then ``await ctx.send_async(...)``
into a stamping sink (which records ``time.perf_counter()`` per packet). It
runs from the start until the scenario's work is done (and for at least 20
ticks). Scenarios:

- ``idle``: the timer alone for 100 ticks (the baseline of its rate);
- ``send`` (a): a README-style sync actor ``ctx.send``s 1,000,000 integers in
  one tick through a capacity-64 connection to a counting sink;
- ``iips`` (b): 100,000 IIPs on one port of a counting actor;
- ``stream`` (c): 100 MiB through a ``Stream`` of 64 frames (``buffer_size=64``)
  of 64 KiB to a slow ``threaded = True`` consumer that sleeps 2 ms every 16
  frames. Frames are sent as a ``bytearray`` (copied into a fresh ``bytes``
  per frame), so a stream without backpressure would grow RSS by ~100 MB;
- ``sends50``: a self-loop source ``ctx.send``s 50 integers per tick for
  20,000 ticks (the probe ``reference.py`` runs on the reference runtime).

Per scenario: build and ``start()`` seconds, elapsed (start until the work
is done; ``total_s`` until COMPLETE), final state, RSS growth (peak RSS
sampled every 5 ms from /proc/self/statm during the run, minus RSS just
before ``start()``), the timer's mean interval while the work ran and its
deviation from the nominal 10 ms (``idle`` shows what ``trio.sleep`` alone
gives: epoll rounds timeouts up to whole milliseconds).

Targets: every run COMPLETE; RSS growth < 50 MB; timer mean interval within
10% of nominal. Each scenario runs in its own subprocess (clean RSS baseline).

Run: ``python bench/burst.py [--quick] [--json-out FILE]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Emitter, RssSampler, load_average, run_child  # noqa: E402

import trio  # noqa: E402

from reflow_cli import Actor, Message, Network, RunState, Stream  # noqa: E402
from reflow_cli.native import BACKEND  # noqa: E402

INTERVAL = 0.010
MIN_TIMER_TICKS = 20
TARGET_RSS_MB = 50.0
TARGET_TIMER_DEVIATION = 0.10
FRAME = 64 * 1024
STREAM_BUFFER = 64

FULL = {"idle": 100, "send": 1_000_000, "iips": 100_000, "stream": 100 * 1024 * 1024, "sends50": 20_000}
QUICK = {"idle": 30, "send": 100_000, "iips": 10_000, "stream": 10 * 1024 * 1024, "sends50": 2_000}


class Work:
    """Shared by a scenario's actors: when the work finished, and how much arrived."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.done = threading.Event()
        self.done_at = 0.0

    def add(self, amount: int = 1) -> None:
        self.count += amount
        if self.count >= self.expected and not self.done.is_set():
            self.done_at = time.perf_counter()
            self.done.set()


class Timer(Actor):
    """Sends a packet every ``interval`` s (``trio.sleep``) until the work is done."""

    component = "bench_timer"
    inports = ["start"]
    outports = ["out"]

    def __init__(self, work: Work, interval: float, min_ticks: int) -> None:
        self.work = work
        self.interval = interval
        self.min_ticks = min_ticks
        self.started_at = 0.0

    async def run(self, ctx: Any) -> None:
        self.started_at = time.perf_counter()
        i = 0
        deadline = time.perf_counter() + 600  # never loop forever if the work never ends
        while (i < self.min_ticks or not self.work.done.is_set()) and time.perf_counter() < deadline:
            await trio.sleep(self.interval)
            await ctx.send_async({"out": Message.integer(i)})
            i += 1
        ctx.done()


class Stamper(Actor):
    """Records when each timer packet arrives."""

    component = "bench_stamper"
    inports = ["in"]
    outports: list[str] = []

    def __init__(self) -> None:
        self.stamps: list[float] = []

    def run(self, ctx: Any) -> None:
        self.stamps.append(time.perf_counter())
        ctx.done()


class Counter(Actor):
    """Counts packets into a :class:`Work`."""

    component = "bench_counter"
    inports = ["in"]
    outports: list[str] = []

    def __init__(self, work: Work) -> None:
        self.work = work

    def run(self, ctx: Any) -> None:
        self.work.add()
        ctx.done()


class Burst(Actor):
    """README-style producer: one tick ``ctx.send``s ``n`` integers."""

    component = "bench_burst"
    inports = ["go"]
    outports = ["out"]

    def __init__(self, n: int) -> None:
        self.n = n

    def run(self, ctx: Any) -> None:
        for i in range(self.n):
            ctx.send({"out": Message.integer(i)})
        ctx.done()


class Sends50(Actor):
    """Self-loop source: each tick ``ctx.send``s 50 integers, ``ticks`` times."""

    component = "bench_sends50"
    inports = ["tick"]
    outports = ["tick", "out"]

    def __init__(self, ticks: int) -> None:
        self.ticks = ticks

    def run(self, ctx: Any) -> None:
        t = ctx.inputs["tick"]["data"]
        base = t * 50
        for i in range(50):
            ctx.send({"out": Message.integer(base + i)})
        if t + 1 < self.ticks:
            ctx.done({"tick": Message.integer(t + 1)})
        else:
            ctx.done()


class StreamProducer(Actor):
    """Sends a stream handle, then ``size`` bytes in ``FRAME``-byte frames."""

    component = "bench_stream_producer"
    inports = ["go"]
    outports = ["out"]

    def __init__(self, size: int) -> None:
        self.size = size

    def run(self, ctx: Any) -> None:
        stream = Stream.create(buffer_size=STREAM_BUFFER, content_type="application/octet-stream")
        ctx.send({"out": stream.into_message()})  # the reader must have the handle before frames wait
        frame = bytearray(FRAME)  # copied into a fresh bytes per send_bytes
        for _ in range(self.size // FRAME):
            stream.send_bytes(frame)
        stream.end()
        ctx.done()


class SlowConsumer(Actor):
    """Reads a stream in a worker thread, sleeping 2 ms every 16 frames."""

    component = "bench_slow_consumer"
    inports = ["in"]
    outports: list[str] = []
    threaded = True

    def __init__(self, work: Work) -> None:
        self.work = work

    def run(self, ctx: Any) -> None:
        reader = ctx.inputs["in"].take_stream()
        for i, frame in enumerate(reader):
            if frame["kind"] == "data":
                self.work.add(len(frame["data"]))
            if i % 16 == 15:
                time.sleep(0.002)
        ctx.done()


def build(scenario: str, size: int) -> tuple[Network, Work, Timer, Stamper]:
    """The scenario's network, its work tracker and the timer's stamping sink."""
    net = Network()
    stamper = Stamper()
    if scenario == "idle":
        work = Work(0)
        work.add(0)  # nothing to do: the timer stops after its ``size`` ticks
        timer = Timer(work, INTERVAL, size)
    else:
        work = Work(size)
        timer = Timer(work, INTERVAL, MIN_TIMER_TICKS)
    net.register_actor("bench_timer", timer)
    net.register_actor("bench_stamper", stamper)
    net.add_node("timer", "bench_timer")
    net.add_node("stamp", "bench_stamper")
    net.add_connection("timer", "out", "stamp", "in")
    net.add_initial("timer", "start", Message.flow())
    if scenario == "send":
        net.register_actor("bench_burst", Burst(size))
        net.register_actor("bench_counter", Counter(work))
        net.add_node("burst", "bench_burst")
        net.add_node("count", "bench_counter")
        net.add_connection("burst", "out", "count", "in", capacity=64)
        net.add_initial("burst", "go", Message.flow())
    elif scenario == "iips":
        net.register_actor("bench_counter", Counter(work))
        net.add_node("count", "bench_counter")
        for i in range(size):
            net.add_initial("count", "in", Message.integer(i))
    elif scenario == "stream":
        net.register_actor("bench_stream_producer", StreamProducer(size))
        net.register_actor("bench_slow_consumer", SlowConsumer(work))
        net.add_node("producer", "bench_stream_producer")
        net.add_node("consumer", "bench_slow_consumer")
        net.add_connection("producer", "out", "consumer", "in")
        net.add_initial("producer", "go", Message.flow())
    elif scenario == "sends50":
        work.expected = size * 50
        net.register_actor("bench_sends50", Sends50(size))
        net.register_actor("bench_counter", Counter(work))
        net.add_node("src", "bench_sends50")
        net.add_node("count", "bench_counter")
        net.add_connection("src", "tick", "src", "tick")
        net.add_connection("src", "out", "count", "in", capacity=64)
        net.add_initial("src", "tick", Message.integer(0))
    elif scenario != "idle":
        raise SystemExit(f"unknown scenario {scenario!r}")
    return net, work, timer, stamper


def timer_figures(stamps: list[float], started: float, work_end: float | None) -> dict[str, Any]:
    """Mean interval and its deviation from nominal, over the ticks that arrived while the work ran.

    ``started`` is when the timer's tick began (its first sleep).
    """
    window = "work"
    points = [started] + [s for s in stamps if work_end is None or s <= work_end]
    if len(points) < 4:  # the work was too short to say anything: use the whole run
        window = "whole run"
        points = [started, *stamps]
    gaps = [b - a for a, b in zip(points, points[1:])]
    if not gaps:
        return {"timer_ticks": 0, "timer_window": window}
    mean = statistics.fmean(gaps)
    return {
        "timer_ticks": len(stamps),
        "timer_window": window,
        "timer_intervals": len(gaps),
        "timer_mean_ms": round(mean * 1000, 3),
        "timer_max_ms": round(max(gaps) * 1000, 3),
        "timer_stdev_ms": round(statistics.pstdev(gaps) * 1000, 3),
        "timer_deviation": round(mean / INTERVAL - 1, 4),
    }


def run_scenario(scenario: str, size: int, timeout: float) -> dict[str, Any]:
    """Build, run and measure one scenario in this process."""
    t0 = time.perf_counter()
    net, work, timer, stamper = build(scenario, size)
    build_s = time.perf_counter() - t0
    with RssSampler() as rss:
        started = time.perf_counter()
        net.start()
        start_s = time.perf_counter() - started
        status = net.wait(timeout)
        ended = time.perf_counter()
    stats = net.shutdown()
    work_end = work.done_at if work.done.is_set() and scenario != "idle" else None
    line: dict[str, Any] = {
        "bench": "burst",
        "scenario": scenario,
        "size": size,
        "build_s": round(build_s, 4),
        "start_s": round(start_s, 4),
        "elapsed_s": round((work_end or ended) - started, 4),
        "total_s": round(ended - started, 4),
        "state": status.state.name,
        "received": work.count,
        "expected": work.expected,
        "complete": status.state is RunState.COMPLETE and work.count >= work.expected,
        "rss_before_mb": round(rss.before / 2**20, 1),
        "rss_growth_mb": rss.growth_mb,
        "undelivered": stats.undelivered if hasattr(stats, "undelivered") else None,
    }
    if scenario in ("send", "iips", "sends50") and work_end is not None:
        line["msgs_per_s"] = round(work.count / (work_end - started))
    if scenario == "stream" and work_end is not None:
        line["mb_per_s"] = round(work.count / 2**20 / (work_end - started), 1)
    line["timer_start_delay_ms"] = round((timer.started_at - started) * 1000, 3) if timer.started_at else None
    line.update(timer_figures(stamper.stamps, timer.started_at or started, None if scenario == "idle" else work_end))
    checks = {
        "complete": line["complete"],
        "rss": line["rss_growth_mb"] < TARGET_RSS_MB,
        "timer": abs(line.get("timer_deviation", 1.0)) <= TARGET_TIMER_DEVIATION,
    }
    line["metric"] = "elapsed_s"
    line["target"] = f"complete, rss_growth_mb < {TARGET_RSS_MB:g}, |timer_deviation| <= {TARGET_TIMER_DEVIATION:g}"
    line["checks"] = checks
    line["ok"] = all(checks.values())
    return line


def main() -> None:
    """Run each scenario in a subprocess (or one here with ``--scenario``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller bursts")
    parser.add_argument("--scenario", nargs="+", choices=list(FULL), default=list(FULL))
    parser.add_argument("--child", action="store_true", help="run the scenario in this process")
    parser.add_argument("--timeout", type=float, default=300.0, help="per scenario, seconds")
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    emit = Emitter(args.json_out, queue=BACKEND)
    if args.child:
        for scenario in args.scenario:
            emit(run_scenario(scenario, sizes[scenario], args.timeout))
        return
    emit({"bench": "machine", "script": "burst", "loadavg": load_average()})
    for scenario in args.scenario:
        argv = [sys.executable, __file__, "--child", "--scenario", scenario, "--timeout", str(args.timeout)]
        if args.quick:
            argv.append("--quick")
        lines, rc, err = run_child(argv, timeout=args.timeout + 60)
        for line in lines:
            emit(line)
        if rc != 0 or not lines:
            emit({"bench": "burst", "scenario": scenario, "size": sizes[scenario],
                  "error": "timed out (killed)" if rc is None else f"exit {rc}", "stderr": err[-500:],
                  "metric": "elapsed_s", "target": "complete", "ok": False})


if __name__ == "__main__":
    main()
