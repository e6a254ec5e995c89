"""Floor: what the chain's actors cost alone, without queues, scheduling or trio.

The network of ``chain.py`` (self-loop source, K passthroughs, counting
sink) is compiled exactly as ``Network.start()`` would compile it
(``reflow_cli.engine._plan.plan_network`` then ``reflow_cli.engine._run.TrioRun``)
but never started. Then, for each of the N messages and each actor in chain
order, the engine's real tick context (``reflow_cli.actor.TickContext`` bound
to that node's compiled ``NodeRuntime``) is built, the actor's ``run(ctx)``
is called, and the outputs the context recorded (real ``Message`` objects)
are handed to the next actor: the source's ``tick`` output is its next input,
its ``out`` output enters the first passthrough, and so on to the sink.

floor_s is the time of that loop (best of 3). The chain's runtime is measured
in this same process run with ``chain.measure_chain`` (same N and K, events
off, same queue backend), and the ratio runtime / floor is what the engine
adds on top of the actors. Target: runtime <= 3 x floor.

Run: ``python bench/floor.py [--quick] [--json-out FILE]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Emitter, best_of, load_average  # noqa: E402
from chain import KS, N, REPEATS, build_chain, measure_chain  # noqa: E402

from reflow_cli.actor import TickContext  # noqa: E402
from reflow_cli.engine._events import EventHub  # noqa: E402
from reflow_cli.engine._plan import plan_network  # noqa: E402
from reflow_cli.engine._run import TrioRun  # noqa: E402
from reflow_cli.message import Message  # noqa: E402
from reflow_cli.native import BACKEND  # noqa: E402

TARGET_RATIO = 3.0


def compile_chain(n: int, k: int) -> tuple[TrioRun, Any]:
    """The chain compiled by the engine (not started) and its sink actor."""
    net, sink = build_chain(n, k)
    # the same two steps TrioExecutor.compile takes inside Network.start()
    plan = plan_network(net.graph, net._registry, net._options)
    return TrioRun(plan, EventHub()), sink


def floor_once(n: int, k: int) -> tuple[float, int]:
    """Run every tick of the chain by hand; return (seconds, messages at the sink)."""
    run, sink = compile_chain(n, k)
    src = run.nodes["src"]
    stages = [run.nodes[f"p{i}"] for i in range(1, k + 1)] + [run.nodes["sink"]]
    stage_calls = [(node, node.run_fn) for node in stages]
    src_run = src.run_fn
    ctx_type = TickContext
    tick: Message | None = run.plan.initials[0].message
    started = time.perf_counter()
    while tick is not None:
        ctx = ctx_type(src, {"tick": tick})
        src_run(ctx)
        outputs = ctx._outputs  # what the engine reads when the tick ends
        tick = outputs.get("tick")
        message = outputs.get("out")
        for node, call in stage_calls:
            ctx = ctx_type(node, {"in": message})
            call(ctx)
            outputs = ctx._outputs
            message = outputs.get("out") if outputs else None
    elapsed = time.perf_counter() - started
    return elapsed, sink.count


def main() -> None:
    """Measure the floor and the chain for each K; print one JSON line per K."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run (N=2000, 1 run)")
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--k", type=int, nargs="+", default=list(KS))
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args()
    n = args.n or (2_000 if args.quick else N)
    repeats = args.repeats or (1 if args.quick else REPEATS)
    emit = Emitter(args.json_out, queue=BACKEND)
    emit({"bench": "machine", "script": "floor", "loadavg": load_average()})
    for k in args.k:
        floors = [floor_once(n, k) for _ in range(repeats)]
        floor_s = best_of(f[0] for f in floors)
        complete = all(count == n for _, count in floors)
        chain = measure_chain(n, k, False, repeats)
        ratio = chain["elapsed_s"] / floor_s
        ticks = n * (k + 2)  # source + K passthroughs + sink, per message
        emit({
            "bench": "floor",
            "n": n,
            "k": k,
            "repeats": repeats,
            "floor_s": round(floor_s, 4),
            "floor_us_per_tick": round(floor_s / ticks * 1e6, 3),
            "floor_hops_per_s": round(n * (k + 1) / floor_s),
            "runtime_s": chain["elapsed_s"],
            "runtime_hops_per_s": chain["hops_per_s"],
            "engine_us_per_hop": round((chain["elapsed_s"] - floor_s) / (n * (k + 1)) * 1e6, 3),
            "runtime_over_floor": round(ratio, 2),
            "complete": complete and chain["complete"],
            "metric": "runtime_over_floor",
            "target": f"runtime_over_floor <= {TARGET_RATIO}",
            "ok": complete and chain["complete"] and ratio <= TARGET_RATIO,
        })


if __name__ == "__main__":
    main()
