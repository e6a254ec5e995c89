"""Threaded actors: the cost of a ``threaded = True`` tick, one per hand-off vs batched.

A source sends N Integers (one sync tick, ``ctx.send``) through K threaded
passthrough actors to a counting sink. Each configuration runs in this
process, best of ``--repeats``:

- ``sync``: the same chain with ordinary sync passthroughs (no threads), for scale;
- ``one_per_hand_off``: every threaded tick in its own ``trio.to_thread``
  hand-off (the engine's batching switched off by a zero latency budget:
  how threaded actors ran before batching);
- ``batched``: the engine's default, several short ticks per hand-off.

Prints µs per message through the chain and the batched/one-per-hand-off
speedup. No target in the issues; the figure is reported.

Run: ``python bench/threaded.py [--quick] [--json-out FILE]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Emitter, best_of, load_average  # noqa: E402

from reflow_cli import Actor, Message, Network, RunState  # noqa: E402
from reflow_cli.engine import _threaded  # noqa: E402
from reflow_cli.native import BACKEND  # noqa: E402


class Source(Actor):
    """Sends ``n`` Integers in one tick."""

    component = "bench_source"
    inports = ["start"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        for i in range(ctx.config["n"]):
            ctx.send({"out": Message.integer(i)})
        ctx.done()


class Pass(Actor):
    """Forwards its input."""

    component = "bench_pass"
    inports = ["in"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        ctx.done({"out": ctx.inputs["in"]})


class ThreadedPass(Pass):
    """Forwards its input, in a worker thread."""

    component = "bench_threaded_pass"
    threaded = True


class Count(Actor):
    """Counts what arrives."""

    component = "bench_count"
    inports = ["in"]
    outports: list[str] = []

    def __init__(self) -> None:
        self.count = 0

    def run(self, ctx: Any) -> None:
        self.count += 1
        ctx.done()


def run_chain(n: int, k: int, threaded: bool) -> tuple[float, bool]:
    """Seconds for ``n`` messages through ``k`` passthroughs, and whether all arrived."""
    net = Network()
    sink = Count()
    net.register_actor("src", Source)
    net.register_actor("pass", ThreadedPass if threaded else Pass)
    net.register_actor("sink", sink)
    net.add_node("src", "src", {"n": n})
    previous = "src"
    for i in range(k):
        net.add_node(f"p{i}", "pass")
        net.add_connection(previous, "out", f"p{i}", "in")
        previous = f"p{i}"
    net.add_node("sink", "sink")
    net.add_connection(previous, "out", "sink", "in")
    net.add_initial("src", "start", {"type": "Flow"})
    started = time.perf_counter()
    status = net.run(timeout=300)
    elapsed = time.perf_counter() - started
    return elapsed, status == RunState.COMPLETE and sink.count == n


def measure(n: int, k: int, config: str, repeats: int) -> dict[str, Any]:
    """One configuration, best of ``repeats``."""
    budget = _threaded.LATENCY_BUDGET_S
    if config == "one_per_hand_off":
        _threaded.LATENCY_BUDGET_S = 0.0
    try:
        runs = [run_chain(n, k, threaded=config != "sync") for _ in range(repeats)]
    finally:
        _threaded.LATENCY_BUDGET_S = budget
    elapsed = best_of(seconds for seconds, _ in runs)
    return {
        "bench": "threaded", "config": config, "n": n, "k": k, "repeats": repeats,
        "elapsed_s": round(elapsed, 4), "all_elapsed_s": [round(s, 4) for s, _ in runs],
        "us_per_message": round(elapsed / n * 1e6, 2), "complete": all(ok for _, ok in runs),
    }


def main() -> None:
    """Each K: sync, one tick per hand-off, batched; then the speedup."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages, K=1 only")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args()
    emit = Emitter(args.json_out, queue=BACKEND)
    emit({"bench": "machine", "script": "threaded", "loadavg": load_average()})
    n = 2_000 if args.quick else 20_000
    for k in (1,) if args.quick else (1, 5):
        lines = {config: measure(n, k, config, args.repeats) for config in ("sync", "one_per_hand_off", "batched")}
        for line in lines.values():
            emit(line)
        emit({
            "bench": "threaded_speedup", "n": n, "k": k,
            "batched_over_one_per_hand_off": round(
                lines["one_per_hand_off"]["elapsed_s"] / lines["batched"]["elapsed_s"], 1
            ),
            "batched_over_sync": round(lines["batched"]["elapsed_s"] / lines["sync"]["elapsed_s"], 1),
        })


if __name__ == "__main__":
    main()
