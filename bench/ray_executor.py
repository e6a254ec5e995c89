"""The Ray executor on a local Ray instance (issue 8's targets).

1. Chain K=5 (self-loop source -> 5 Python passthrough actors -> counting sink, every node
   its own Ray actor): hops/s batched (256 packets per remote call) vs unbatched (1).
   Target: batched >= 20x unbatched. Elapsed is measured from the moment every actor is
   up (start() returned) to completion, so Ray's actor start-up is left out of both.
2. A stage spending 20 ms of CPU per message, replicas: 2 vs 1, 100 messages, on this
   machine's cores. Target: >= 1.5x faster with 2.

Prints JSON lines.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Emitter  # noqa: E402

from reflow_cli import Actor, Message, Network  # noqa: E402
from reflow_cli.engine._ray_run import RayExecutor  # noqa: E402


class Source(Actor):
    inports = ["tick"]
    outports = ["tick", "out"]

    def __init__(self, count: int) -> None:
        self.count = count

    def run(self, ctx: Any) -> None:
        n = ctx.inputs["tick"]["data"]
        ctx.done({"tick": Message.integer(n + 1) if n < self.count else None, "out": ctx.inputs["tick"]})


class Passthrough(Actor):
    inports = ["in"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        ctx.done({"out": ctx.inputs["in"]})


class Sink(Actor):
    inports = ["in"]
    outports: list[str] = []

    def run(self, ctx: Any) -> None:
        ctx.done()


class Busy(Actor):
    """20 ms of CPU per message."""

    inports = ["in"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        end = time.perf_counter() + 0.02
        while time.perf_counter() < end:
            pass
        ctx.done({"out": ctx.inputs["in"]})


def chain(count: int, stages: int, batch_size: int) -> tuple[Network, int]:
    net = Network(executor=RayExecutor(batch_size=batch_size))
    net.register_actor("src", Source(count))
    net.register_actor("pass", Passthrough())
    net.register_actor("sink", Sink())
    net.add_node("s", "src")
    net.add_connection("s", "tick", "s", "tick")
    previous = ("s", "out")
    for i in range(stages):
        net.add_node(f"p{i}", "pass")
        net.add_connection(*previous, f"p{i}", "in")
        previous = (f"p{i}", "out")
    net.add_node("k", "sink")
    net.add_connection(*previous, "k", "in")
    net.add_initial("s", "tick", Message.integer(1))
    return net, count * (stages + 1)


def replicated(count: int, replicas: int) -> Network:
    net = Network(executor=RayExecutor(batch_size=64))
    net.register_actor("busy", Busy())
    net.register_actor("sink", Sink())
    net.add_node("b", "busy")
    net.add_node("k", "sink")
    net.add_connection("b", "out", "k", "in")
    if replicas > 1:
        net.graph.set_node_metadata("b", {"reflow": {"replicas": replicas}})
    for i in range(count):
        net.add_initial("b", "in", Message.integer(i))
    return net


def timed(net: Network) -> tuple[float, float, str]:
    started = time.perf_counter()
    net.start()
    running = time.perf_counter()
    status = net.wait(900)
    done = time.perf_counter()
    net.shutdown()
    return running - started, done - running, status.state.name


_EMIT = Emitter(None, bench="ray")


def line(**fields: Any) -> None:
    """One JSON line (with ``bench``, ``impl`` and ``python``)."""
    _EMIT(fields)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    RayExecutor().connect()
    batched_n, unbatched_n = (2000, 300) if args.quick else (20000, 2000)
    results = {}
    for batch_size, count in ((256, batched_n), (1, unbatched_n)):
        net, hops = chain(count, 5, batch_size)
        start_s, run_s, state = timed(net)
        results[batch_size] = hops / run_s
        line(scenario="chain", k=5, n=count, batch_size=batch_size, start_s=round(start_s, 2), run_s=round(run_s, 3),
             hops_per_s=round(hops / run_s), state=state)
    ratio = results[256] / results[1]
    line(scenario="chain_batching", k=5, batched_over_unbatched=round(ratio, 1), target="batched_over_unbatched >= 20",
         ok=ratio >= 20)
    count = 40 if args.quick else 100
    times = {}
    for replicas in (1, 2):
        start_s, run_s, state = timed(replicated(count, replicas))
        times[replicas] = run_s
        line(scenario="replicas", replicas=replicas, n=count, start_s=round(start_s, 2), run_s=round(run_s, 3),
             state=state, cpus=os.cpu_count())
    speedup = times[1] / times[2]
    line(scenario="replicas_speedup", speedup=round(speedup, 2), target="speedup >= 1.5", ok=speedup >= 1.5)


if __name__ == "__main__":
    main()
