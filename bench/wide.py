"""Wide graphs: 10,000 nodes built through the Network API, each carrying one message.

Topologies (every node a Python actor, every packet an Integer):

- ``fanin`` (target): 10,000 passthrough nodes ``p0..p9999``, each with one
  IIP on ``in``, all connected ``out -> sink.in`` of one counting sink
  (10,001 nodes; 10,000 packets meet in one capacity-64 inport, so most
  producers park on it: the many-producers case);
- ``pairs`` (target): 5,000 independent ``src -> sink`` pairs (10,000 nodes);
  each source is a passthrough with one IIP, each sink counts;
- ``pairs`` and ``linear`` at 1,000 and 5,000 nodes: no target, the shapes
  ``reference.py`` can run on the reference runtime (``linear``: one IIP
  travels a chain of N passthroughs to a sink, anchor-behaviour §12).

Per run: build s (``Network()`` to the last ``add_*``), start s
(``net.start()``), run s (start returned until ``net.wait()`` is COMPLETE),
total s, and (RSS after start - RSS before build) / 10,000 in KB (KB per node;
for the comparison sizes, divided by their node count).

Targets: total < 2 s and < 10 KB per node at 10,000 nodes. Each run is a
fresh subprocess (clean RSS baseline).

Run: ``python bench/wide.py [--quick] [--json-out FILE]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Emitter, RssSampler, load_average, rss_bytes, run_child  # noqa: E402
from chain import Passthrough, Sink  # noqa: E402  (one Sink instance is shared by every sink node)

from reflow_cli import Message, Network, RunState  # noqa: E402
from reflow_cli.native import BACKEND  # noqa: E402

TARGET_TOTAL_S = 2.0
TARGET_KB_PER_NODE = 10.0
#: (topology, nodes, checked against the targets)
RUNS = [("fanin", 10_000, True), ("pairs", 10_000, True),
        ("pairs", 1_000, False), ("pairs", 5_000, False),
        ("linear", 1_000, False), ("linear", 5_000, False)]
QUICK_RUNS = [("fanin", 10_000, True), ("pairs", 10_000, True)]


def build(topology: str, nodes: int) -> tuple[Network, Sink, int]:
    """The network, its (shared) sink and how many packets the sinks must count."""
    sink = Sink()
    net = Network()
    net.register_actor("bench_passthrough", Passthrough())
    net.register_actor("bench_sink", sink)
    if topology == "fanin":
        net.add_node("sink", "bench_sink")
        for i in range(nodes):
            node = f"p{i}"
            net.add_node(node, "bench_passthrough")
            net.add_connection(node, "out", "sink", "in")
            net.add_initial(node, "in", Message.integer(i))
        return net, sink, nodes
    if topology == "pairs":
        for i in range(nodes // 2):
            net.add_node(f"s{i}", "bench_passthrough")
            net.add_node(f"k{i}", "bench_sink")
            net.add_connection(f"s{i}", "out", f"k{i}", "in")
            net.add_initial(f"s{i}", "in", Message.integer(i))
        return net, sink, nodes // 2
    if topology == "linear":
        previous = None
        for i in range(nodes - 1):
            node = f"p{i}"
            net.add_node(node, "bench_passthrough")
            if previous is not None:
                net.add_connection(previous, "out", node, "in")
            previous = node
        net.add_node("sink", "bench_sink")
        net.add_connection(previous, "out", "sink", "in")  # type: ignore[arg-type]
        net.add_initial("p0", "in", Message.integer(0))
        return net, sink, 1
    raise SystemExit(f"unknown topology {topology!r}")


def run_wide(topology: str, nodes: int, targeted: bool, timeout: float) -> dict[str, Any]:
    """Build, start and run one wide graph in this process."""
    rss_before = rss_bytes()
    t0 = time.perf_counter()
    net, sink, expected = build(topology, nodes)
    t1 = time.perf_counter()
    with RssSampler() as rss:
        net.start()
        t2 = time.perf_counter()
        rss_after_start = rss_bytes()
        status = net.wait(timeout)
        t3 = time.perf_counter()
    net.shutdown()
    total = t3 - t0
    kb_per_node = (rss_after_start - rss_before) / 1024 / nodes
    complete = status.state is RunState.COMPLETE and sink.count == expected
    line: dict[str, Any] = {
        "bench": "wide",
        "topology": topology,
        "nodes": nodes,
        "messages": expected,
        "build_s": round(t1 - t0, 4),
        "start_s": round(t2 - t1, 4),
        "run_s": round(t3 - t2, 4),
        "total_s": round(total, 4),
        "state": status.state.name,
        "complete": complete,
        "kb_per_node": round(kb_per_node, 2),
        "peak_kb_per_node": round((rss.peak - rss_before) / 1024 / nodes, 2),
        "rss_after_start_mb": round(rss_after_start / 2**20, 1),
        "metric": "total_s",
    }
    if targeted:
        checks = {"complete": complete, "total": total < TARGET_TOTAL_S, "memory": kb_per_node < TARGET_KB_PER_NODE}
        line["target"] = f"complete, total_s < {TARGET_TOTAL_S:g}, kb_per_node < {TARGET_KB_PER_NODE:g}"
        line["checks"] = checks
        line["ok"] = all(checks.values())
    elif not complete:
        line["target"] = "complete"
        line["ok"] = False
    return line


def main() -> None:
    """Each topology in a subprocess (or one here with ``--child``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the two 10,000-node runs")
    parser.add_argument("--child", nargs=3, metavar=("TOPOLOGY", "NODES", "TARGETED"))
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args()
    emit = Emitter(args.json_out, queue=BACKEND)
    if args.child:
        topology, nodes, targeted = args.child
        emit(run_wide(topology, int(nodes), targeted == "1", args.timeout))
        return
    emit({"bench": "machine", "script": "wide", "loadavg": load_average()})
    for topology, nodes, targeted in QUICK_RUNS if args.quick else RUNS:
        argv = [sys.executable, __file__, "--child", topology, str(nodes), "1" if targeted else "0",
                "--timeout", str(args.timeout)]
        lines, rc, err = run_child(argv, timeout=args.timeout + 60)
        for line in lines:
            emit(line)
        if rc != 0 or not lines:
            emit({"bench": "wide", "topology": topology, "nodes": nodes,
                  "error": "timed out (killed)" if rc is None else f"exit {rc}", "stderr": err[-500:],
                  "metric": "total_s", "target": "complete", "ok": False})


if __name__ == "__main__":
    main()
