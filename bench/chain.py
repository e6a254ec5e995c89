"""Chain throughput: hops per second through K Python passthrough actors.

Topology (the reference's benchmark, anchor-behaviour §12)::

    src --out--> p1 --> p2 --> ... --> pK --> sink
     ^--tick--'

``src`` is a self-loop source: its outport ``tick`` feeds its own inport
``tick`` (one IIP, the integer 0); each tick forwards the current integer on
``out`` and sends the next one on ``tick`` until N integers have gone out.
Each passthrough does ``ctx.done({"out": ctx.inputs["in"]})``; the sink counts.

hops/s = N * (K + 1) / elapsed, elapsed from ``net.start()`` until
``net.wait()`` returns COMPLETE (the sink is checked to have received N).
Configurations: N = 20,000; K = 0, 5, 20; events off, and events on with one
thread draining ``net.events()`` (default, lossy stream: ``events_dropped``
counts what its 65,536-event buffer lost when the reader fell behind).
Best of 3 runs each.

Targets:
- >= 150,000 hops/s at K = 5 and K = 20 with events off;
- the C inport queue within 1.5x of the pure-Python fallback
  (c_hops >= python_hops / 1.5), per configuration.

Each queue backend runs in its own subprocess (``REFLOW_PURE_PYTHON=1`` must
be set before ``reflow_cli`` is imported). ``--backend c|python`` runs one
backend in this process.

Run: ``python bench/chain.py [--quick] [--json-out FILE]``.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Emitter, best_of, load_average, run_child  # noqa: E402

from reflow_cli import Actor, Message, Network, RunState  # noqa: E402
from reflow_cli.native import BACKEND  # noqa: E402

N = 20_000
KS = (0, 5, 20)
REPEATS = 3
TARGET_HOPS = 150_000  # events off, K = 5 and K = 20
TARGET_K = (5, 20)
TARGET_BACKEND_RATIO = 1.5  # c_hops >= python_hops / 1.5


class Source(Actor):
    """Self-loop source: tick i forwards i on ``out`` and sends i + 1 on ``tick`` while i + 1 < n."""

    component = "bench_source"
    inports = ["tick"]
    outports = ["tick", "out"]

    def __init__(self, n: int) -> None:
        self.n = n

    def run(self, ctx: Any) -> None:
        current = ctx.inputs["tick"]
        nxt = current["data"] + 1
        if nxt < self.n:
            ctx.done({"tick": Message.integer(nxt), "out": current})
        else:
            ctx.done({"out": current})


class Passthrough(Actor):
    """Forwards its input unchanged."""

    component = "bench_passthrough"
    inports = ["in"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        ctx.done({"out": ctx.inputs["in"]})


class Sink(Actor):
    """Counts what arrives."""

    component = "bench_sink"
    inports = ["in"]
    outports: list[str] = []

    def __init__(self) -> None:
        self.count = 0

    def run(self, ctx: Any) -> None:
        self.count += 1
        ctx.done()


def build_chain(n: int, k: int) -> tuple[Network, Sink]:
    """The chain network (not started) and its sink."""
    sink = Sink()
    net = Network()
    net.register_actor("bench_source", Source(n))
    net.register_actor("bench_passthrough", Passthrough())
    net.register_actor("bench_sink", sink)
    net.add_node("src", "bench_source")
    net.add_connection("src", "tick", "src", "tick")
    net.add_initial("src", "tick", Message.integer(0))
    previous = "src"
    for i in range(1, k + 1):
        node = f"p{i}"
        net.add_node(node, "bench_passthrough")
        net.add_connection(previous, "out", node, "in")
        previous = node
    net.add_node("sink", "bench_sink")
    net.add_connection(previous, "out", "sink", "in")
    return net, sink


def run_chain_once(n: int, k: int, events: bool, timeout: float = 300.0) -> dict[str, Any]:
    """One run: elapsed seconds, final state, packets at the sink, events drained."""
    net, sink = build_chain(n, k)
    drained = [0, 0]  # events read, events the stream dropped (its buffer overflowed)
    drainer = None
    if events:
        stream = net.events()

        def drain() -> None:
            count = dropped = 0
            for event in stream:  # ends once the network has stopped and the buffer is empty
                count += 1
                if event["_type"] == "EventsDropped":
                    dropped += event["count"]
            drained[0], drained[1] = count, dropped

        drainer = threading.Thread(target=drain, name="event-drainer", daemon=True)
        drainer.start()
    started = time.perf_counter()
    net.start()
    status = net.wait(timeout)
    elapsed = time.perf_counter() - started
    net.shutdown()
    if drainer is not None:
        drainer.join(10)
    return {
        "elapsed_s": elapsed,
        "state": status.state.name,
        "complete": status.state is RunState.COMPLETE and sink.count == n,
        "received": sink.count,
        "events_drained": drained[0],
        "events_dropped": drained[1],
    }


def measure_chain(n: int, k: int, events: bool, repeats: int) -> dict[str, Any]:
    """Best of ``repeats`` runs: the figures of one chain configuration."""
    runs = [run_chain_once(n, k, events) for _ in range(repeats)]
    elapsed = best_of(r["elapsed_s"] for r in runs)
    hops = n * (k + 1) / elapsed
    line: dict[str, Any] = {
        "bench": "chain",
        "n": n,
        "k": k,
        "events": events,
        "repeats": repeats,
        "elapsed_s": round(elapsed, 4),
        "all_elapsed_s": [round(r["elapsed_s"], 4) for r in runs],
        "hops_per_s": round(hops),
        "msgs_per_s": round(n / elapsed),
        "us_per_hop": round(1e6 / hops, 2),
        "complete": all(r["complete"] for r in runs),
        "states": sorted({r["state"] for r in runs}),
    }
    if events:
        line["events_drained"] = max(r["events_drained"] for r in runs)
        line["events_dropped"] = max(r["events_dropped"] for r in runs)
    if not events and k in TARGET_K:
        line["metric"] = "hops_per_s"
        line["target"] = f"hops_per_s >= {TARGET_HOPS}"
        line["ok"] = line["complete"] and hops >= TARGET_HOPS
    else:
        line["metric"] = "hops_per_s"
        if not line["complete"]:
            line["target"] = "complete"
            line["ok"] = False
    return line


def run_backend(args: argparse.Namespace, emit: Emitter) -> list[dict[str, Any]]:
    """Every configuration on this process's queue backend."""
    lines = []
    for events in (False, True):
        for k in args.k:
            lines.append(emit(measure_chain(args.n, k, events, args.repeats)))
    return lines


def run_both(args: argparse.Namespace, emit: Emitter) -> None:
    """Each backend in its own subprocess, then the python/c ratio per configuration."""
    by_backend: dict[str, dict[tuple[int, bool], dict[str, Any]]] = {}
    for backend, flag in (("c", "0"), ("python", "1")):
        argv = [sys.executable, __file__, "--backend", backend, "--n", str(args.n), "--repeats", str(args.repeats)]
        argv += ["--k", *map(str, args.k)]
        lines, rc, err = run_child(argv, env={"REFLOW_PURE_PYTHON": flag}, timeout=args.timeout)
        if rc != 0:
            emit({"bench": "chain", "backend_run": backend, "error": f"exit {rc}", "stderr": err[-500:],
                  "queue": backend, "target": "runs", "ok": False})
        by_backend[backend] = {}
        for line in lines:
            emit(line)
            by_backend[backend][(line["k"], line["events"])] = line
    c_lines, py_lines = by_backend.get("c", {}), by_backend.get("python", {})
    for key in sorted(set(c_lines) & set(py_lines), key=lambda kv: (kv[1], kv[0])):
        c_hops, py_hops = c_lines[key]["hops_per_s"], py_lines[key]["hops_per_s"]
        emit({
            "bench": "chain_backends",
            "n": args.n,
            "k": key[0],
            "events": key[1],
            "c_hops_per_s": c_hops,
            "python_hops_per_s": py_hops,
            "python_over_c": round(py_hops / c_hops, 3),
            "queue": "c/python",
            "metric": "python_over_c",
            "target": f"python_over_c <= {TARGET_BACKEND_RATIO}",
            "ok": c_hops >= py_hops / TARGET_BACKEND_RATIO,
        })


def main() -> None:
    """Parse arguments and run (both backends by default)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run (N=2000, 1 run)")
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--k", type=int, nargs="+", default=list(KS))
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--backend", choices=("both", "c", "python"), default="both")
    parser.add_argument("--timeout", type=float, default=900.0, help="per backend subprocess, seconds")
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args()
    args.n = args.n or (2_000 if args.quick else N)
    args.repeats = args.repeats or (1 if args.quick else REPEATS)
    if args.backend == "both":
        emit = Emitter(args.json_out)
        emit({"bench": "machine", "script": "chain", "loadavg": load_average(), "queue": BACKEND})
        run_both(args, emit)
        return
    if BACKEND != args.backend:
        raise SystemExit(f"asked for the {args.backend} queue but this process has {BACKEND} "
                         "(set REFLOW_PURE_PYTHON=1 before import for python)")
    run_backend(args, Emitter(args.json_out, queue=BACKEND))


if __name__ == "__main__":
    main()
