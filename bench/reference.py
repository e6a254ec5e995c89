"""The reference runtime (offbit-reflow) on the same benchmarks, for comparison.

Runs, in the reference's own virtual environment (``/work/refvenv`` by
default; ``--venv DIR`` or ``REFLOW_REFERENCE_VENV`` override it), the
reference's version of:

- ``chain``: ``chain.py``'s self-loop source -> K Python passthroughs ->
  counting sink, K = 0, 5, 20, N = 20,000, events off and with a thread
  draining ``net.events()``; best of 3. The reference has no completion
  signal, so elapsed runs from ``start()`` until the sink has counted N
  (the sink stamps the moment; the main thread polls for it every 1 ms);
- ``burst`` probes it survives (it freezes on > 52 sends per tick or > 51
  IIPs on one port toward a Python actor, anchor-behaviour §4, and on a
  full bounded stream, §9): ``sends50`` (50 ``ctx.send`` per tick x 20,000
  ticks of a self-loop source), ``iips50x2000`` (50 IIPs on each of 2,000
  counting actors) and ``stream_unbounded`` (100 MiB of 64 KiB frames
  through an unbounded stream, frames written before the handle is sent,
  since that is the only order that works there);
- ``wide``: ``pairs`` and ``linear`` topologies of 1,000 and 5,000 nodes
  (a fan-in into one Python inport would freeze it).

Every run is a subprocess with a timeout (a frozen reference never stalls
this script; it is reported as ``timed out``). Lines have the same fields as
ours with ``"impl": "offbit-reflow <version>"``, and no targets: these are
the bar. Without the venv, one ``skipped`` line says why.

This file runs under both interpreters: only the ``--child`` mode imports
``offbit_reflow``, and ``_common`` is standard library only.

Run: ``python bench/reference.py [--quick] [--json-out FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Emitter, RssSampler, best_of, load_average, python_version, rss_bytes, run_child  # noqa: E402

DEFAULT_VENV = "/work/refvenv"
N = 20_000
KS = (0, 5, 20)
REPEATS = 3
FRAME = 64 * 1024
CHILD_TIMEOUT = 180.0


# --- child side: runs inside the reference venv -------------------------------------


def _wait_for(flag: threading.Event, timeout: float) -> bool:
    """Poll (1 ms) until ``flag`` is set: the reference never says it is done."""
    deadline = time.perf_counter() + timeout
    while not flag.is_set():
        if time.perf_counter() > deadline:
            return False
        time.sleep(0.001)
    return True


def child_chain(n: int, k: int, events: bool, timeout: float) -> dict[str, Any]:
    """One chain run on the reference."""
    from offbit_reflow import Actor, Message, Network

    finished = threading.Event()

    class Source(Actor):
        component = "bench_source"
        inports = ["tick"]
        outports = ["tick", "out"]

        def run(self, ctx: Any) -> None:
            current = ctx.inputs["tick"]
            nxt = current["data"] + 1
            if nxt < n:
                ctx.done({"tick": Message.integer(nxt), "out": current})
            else:
                ctx.done({"out": current})

    class Passthrough(Actor):
        component = "bench_passthrough"
        inports = ["in"]
        outports = ["out"]

        def run(self, ctx: Any) -> None:
            ctx.done({"out": ctx.inputs["in"]})

    class Sink(Actor):
        component = "bench_sink"
        inports = ["in"]
        outports: list[str] = []
        count = 0
        done_at = 0.0

        def run(self, ctx: Any) -> None:
            Sink.count += 1
            if Sink.count == n:
                Sink.done_at = time.perf_counter()
                finished.set()
            ctx.done()

    net = Network()
    net.register_actor("bench_source", Source())
    net.register_actor("bench_passthrough", Passthrough())
    net.register_actor("bench_sink", Sink())
    net.add_node("src", "bench_source")
    net.add_connection("src", "tick", "src", "tick")
    net.add_initial("src", "tick", {"type": "Integer", "data": 0})
    previous = "src"
    for i in range(1, k + 1):
        net.add_node(f"p{i}", "bench_passthrough")
        net.add_connection(previous, "out", f"p{i}", "in")
        previous = f"p{i}"
    net.add_node("sink", "bench_sink")
    net.add_connection(previous, "out", "sink", "in")
    stop = threading.Event()
    drained = [0]
    drainer = None
    if events:
        stream = net.events()

        def drain() -> None:
            while not stop.is_set():
                if stream.recv(50) is not None:
                    drained[0] += 1

        drainer = threading.Thread(target=drain, daemon=True)
        drainer.start()
    with RssSampler() as rss:
        started = time.perf_counter()
        net.start()
        complete = _wait_for(finished, timeout)
        elapsed = (Sink.done_at if complete else time.perf_counter()) - started
    stop.set()
    net.shutdown()
    return {"elapsed_s": elapsed, "complete": complete, "received": Sink.count,
            "events_drained": drained[0], "rss_growth_mb": rss.growth_mb, "peak_rss_mb": rss.peak_mb}


def child_burst(scenario: str, size: int, timeout: float) -> dict[str, Any]:
    """One burst-like probe on the reference."""
    from offbit_reflow import Actor, Message, Network, Stream

    finished = threading.Event()
    state = {"count": 0, "done_at": 0.0, "expected": size}

    def add(amount: int = 1) -> None:
        state["count"] += amount
        if state["count"] >= state["expected"] and not finished.is_set():
            state["done_at"] = time.perf_counter()
            finished.set()

    class Counter(Actor):
        component = "bench_counter"
        inports = ["in"]
        outports: list[str] = []

        def run(self, ctx: Any) -> None:
            add()
            ctx.done()

    net = Network()
    net.register_actor("bench_counter", Counter())
    if scenario == "sends50":
        ticks = size
        state["expected"] = ticks * 50

        class Sends50(Actor):
            component = "bench_sends50"
            inports = ["tick"]
            outports = ["tick", "out"]

            def run(self, ctx: Any) -> None:
                t = ctx.inputs["tick"]["data"]
                base = t * 50
                for i in range(50):
                    ctx.send({"out": Message.integer(base + i)})
                if t + 1 < ticks:
                    ctx.done({"tick": Message.integer(t + 1)})
                else:
                    ctx.done()

        net.register_actor("bench_sends50", Sends50())
        net.add_node("src", "bench_sends50")
        net.add_node("count", "bench_counter")
        net.add_connection("src", "tick", "src", "tick")
        net.add_connection("src", "out", "count", "in")
        net.add_initial("src", "tick", {"type": "Integer", "data": 0})
    elif scenario == "iips50x2000":
        actors = size // 50
        for a in range(actors):
            net.add_node(f"c{a}", "bench_counter")
            for i in range(50):
                net.add_initial(f"c{a}", "in", {"type": "Integer", "data": i})
    elif scenario == "stream_unbounded":
        frames = size // FRAME

        class Producer(Actor):
            component = "bench_stream_producer"
            inports = ["go"]
            outports = ["out"]

            def run(self, ctx: Any) -> None:
                stream = Stream.create(0)  # a bounded stream freezes the reference when full
                frame = bytearray(FRAME)
                for _ in range(frames):
                    stream.send_bytes(bytes(frame))
                stream.end()
                ctx.done({"out": stream.into_message()})

        class SlowConsumer(Actor):
            component = "bench_slow_consumer"
            inports = ["in"]
            outports: list[str] = []

            def run(self, ctx: Any) -> None:
                reader = Message.from_json(ctx.inputs["in"]).take_stream()
                i = 0
                while True:
                    frame = reader.recv(5000)
                    if frame["kind"] == "data":
                        add(len(frame["data"]))
                    elif frame["kind"] != "begin":
                        break
                    i += 1
                    if i % 16 == 15:
                        time.sleep(0.002)
                ctx.done()

        net.register_actor("bench_stream_producer", Producer())
        net.register_actor("bench_slow_consumer", SlowConsumer())
        net.add_node("producer", "bench_stream_producer")
        net.add_node("consumer", "bench_slow_consumer")
        net.add_connection("producer", "out", "consumer", "in")
        net.add_initial("producer", "go", {"type": "Flow"})
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    with RssSampler() as rss:
        started = time.perf_counter()
        net.start()
        start_s = time.perf_counter() - started
        complete = _wait_for(finished, timeout)
        elapsed = (state["done_at"] if complete else time.perf_counter()) - started
    net.shutdown()
    line = {"elapsed_s": round(elapsed, 4), "start_s": round(start_s, 4), "complete": complete,
            "received": state["count"], "expected": state["expected"], "rss_growth_mb": rss.growth_mb}
    if complete and scenario != "stream_unbounded":
        line["msgs_per_s"] = round(state["count"] / elapsed)
    if complete and scenario == "stream_unbounded":
        line["mb_per_s"] = round(state["count"] / 2**20 / elapsed, 1)
    return line


def child_wide(topology: str, nodes: int, timeout: float) -> dict[str, Any]:
    """One wide-graph run on the reference."""
    from offbit_reflow import Actor, Network

    finished = threading.Event()
    expected = nodes // 2 if topology == "pairs" else 1
    state = {"count": 0, "done_at": 0.0}

    class Passthrough(Actor):
        component = "bench_passthrough"
        inports = ["in"]
        outports = ["out"]

        def run(self, ctx: Any) -> None:
            ctx.done({"out": ctx.inputs["in"]})

    class Sink(Actor):
        component = "bench_sink"
        inports = ["in"]
        outports: list[str] = []

        def run(self, ctx: Any) -> None:
            state["count"] += 1
            if state["count"] == expected:
                state["done_at"] = time.perf_counter()
                finished.set()
            ctx.done()

    rss_before = rss_bytes()
    t0 = time.perf_counter()
    net = Network()
    net.register_actor("bench_passthrough", Passthrough())
    net.register_actor("bench_sink", Sink())
    if topology == "pairs":
        for i in range(nodes // 2):
            net.add_node(f"s{i}", "bench_passthrough")
            net.add_node(f"k{i}", "bench_sink")
            net.add_connection(f"s{i}", "out", f"k{i}", "in")
            net.add_initial(f"s{i}", "in", {"type": "Integer", "data": i})
    elif topology == "linear":
        for i in range(nodes - 1):
            net.add_node(f"p{i}", "bench_passthrough")
            if i:
                net.add_connection(f"p{i - 1}", "out", f"p{i}", "in")
        net.add_node("sink", "bench_sink")
        net.add_connection(f"p{nodes - 2}", "out", "sink", "in")
        net.add_initial("p0", "in", {"type": "Integer", "data": 0})
    else:
        raise SystemExit(f"unknown topology {topology!r}")
    t1 = time.perf_counter()
    net.start()
    t2 = time.perf_counter()
    rss_after_start = rss_bytes()
    complete = _wait_for(finished, timeout)
    t3 = state["done_at"] if complete else time.perf_counter()
    net.shutdown()
    return {"messages": expected, "build_s": round(t1 - t0, 4), "start_s": round(t2 - t1, 4),
            "run_s": round(t3 - t2, 4), "total_s": round(t3 - t0, 4), "complete": complete,
            "kb_per_node": round((rss_after_start - rss_before) / 1024 / nodes, 2)}


def child_main(argv: list[str]) -> None:
    """``--child KIND ARGS...``: one run, one JSON line of raw figures."""
    import offbit_reflow

    kind, *rest = argv
    timeout = CHILD_TIMEOUT - 30
    if kind == "chain":
        out = child_chain(int(rest[0]), int(rest[1]), rest[2] == "1", timeout)
    elif kind == "burst":
        out = child_burst(rest[0], int(rest[1]), timeout)
    elif kind == "wide":
        out = child_wide(rest[0], int(rest[1]), timeout)
    else:
        raise SystemExit(f"unknown child kind {kind!r}")
    out["version"] = offbit_reflow.__version__
    out["python"] = python_version()
    print(json.dumps(out), flush=True)
    os._exit(0)  # do not wait on the reference's threads at exit (its shutdown is racy, §13.10)


# --- parent side --------------------------------------------------------------------


class Reference:
    """Runs children in the reference venv and turns their figures into JSON lines."""

    def __init__(self, python: str, emit: Emitter, timeout: float) -> None:
        self.python = python
        self.emit = emit
        self.timeout = timeout
        self.version = "?"

    def child(self, *args: Any) -> tuple[dict[str, Any] | None, str]:
        lines, rc, err = run_child([self.python, __file__, "--child", *map(str, args)], timeout=self.timeout,
                                   echo_stderr=False)
        if rc is None:
            return None, f"timed out after {self.timeout:g} s (frozen?)"
        if rc != 0 or not lines:
            return None, f"exit {rc}: {err.strip().splitlines()[-1] if err.strip() else 'no output'}"
        line = lines[-1]
        self.version = line.pop("version", self.version)
        self.emit.common["impl"] = f"offbit-reflow {self.version}"
        return line, ""

    def chain(self, n: int, k: int, events: bool, repeats: int) -> None:
        runs, errors = [], []
        for _ in range(repeats):
            out, error = self.child("chain", n, k, "1" if events else "0")
            if out is None:
                errors.append(error)
            else:
                runs.append(out)
        line: dict[str, Any] = {"bench": "chain", "n": n, "k": k, "events": events, "repeats": repeats}
        done = [r for r in runs if r["complete"]]
        if done:
            elapsed = best_of(r["elapsed_s"] for r in done)
            hops = n * (k + 1) / elapsed
            line.update({
                "elapsed_s": round(elapsed, 4),
                "all_elapsed_s": [round(r["elapsed_s"], 4) for r in runs],
                "hops_per_s": round(hops),
                "msgs_per_s": round(n / elapsed),
                "us_per_hop": round(1e6 / hops, 2),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in done),
                "rss_growth_mb": max(r["rss_growth_mb"] for r in done),
            })
            if events:
                line["events_drained"] = max(r["events_drained"] for r in done)
        line["complete"] = len(done) == repeats
        if errors:
            line["errors"] = errors
        if runs:
            line["python"] = runs[0]["python"]
        line["metric"] = "hops_per_s"
        self.emit(line)

    def single(self, bench: str, key: str, value: str, size: int, *extra: Any) -> None:
        out, error = self.child(bench, value, size, *extra)
        line: dict[str, Any] = {"bench": bench, key: value, ("nodes" if bench == "wide" else "size"): size}
        if out is None:
            line.update({"complete": False, "error": error})
        else:
            line.update(out)
        line["metric"] = "total_s" if bench == "wide" else "elapsed_s"
        self.emit(line)


def main() -> None:
    """Run every reference configuration (or one ``--child`` run)."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N=2000, 1 run, smaller probes")
    parser.add_argument("--venv", default=os.environ.get("REFLOW_REFERENCE_VENV", DEFAULT_VENV))
    parser.add_argument("--timeout", type=float, default=CHILD_TIMEOUT, help="per child run, seconds")
    parser.add_argument("--only", nargs="+", choices=("chain", "burst", "wide"), default=["chain", "burst", "wide"])
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args()
    emit = Emitter(args.json_out, impl="offbit-reflow", queue=None)
    python = Path(args.venv) / "bin" / "python"
    if not python.exists():
        emit({"bench": "reference", "skipped": True, "why": f"no reference venv: {python} does not exist "
              "(set --venv or REFLOW_REFERENCE_VENV)"})
        return
    probe, rc, err = run_child([str(python), "-c", "import json, offbit_reflow; "
                                "print(json.dumps({'version': offbit_reflow.__version__}))"],
                               timeout=60, echo_stderr=False)
    if rc != 0 or not probe:
        emit({"bench": "reference", "skipped": True,
              "why": f"{python} cannot import offbit_reflow: {err.strip()[-300:] or 'no output'}"})
        return
    ref = Reference(str(python), emit, args.timeout)
    ref.version = probe[0]["version"]
    emit.common["impl"] = f"offbit-reflow {ref.version}"
    emit({"bench": "machine", "script": "reference", "loadavg": load_average()})
    n = 2_000 if args.quick else N
    repeats = 1 if args.quick else REPEATS
    if "chain" in args.only:
        for events in (False, True):
            for k in KS:
                ref.chain(n, k, events, repeats)
    if "burst" in args.only:
        ref.single("burst", "scenario", "sends50", 2_000 if args.quick else 20_000)
        ref.single("burst", "scenario", "iips50x2000", 10_000 if args.quick else 100_000)
        ref.single("burst", "scenario", "stream_unbounded", (10 if args.quick else 100) * 2**20)
    if "wide" in args.only:
        for topology in ("pairs", "linear"):
            for nodes in (1_000, 5_000):
                ref.single("wide", "topology", topology, nodes)


if __name__ == "__main__":
    main()
