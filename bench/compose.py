"""Composition: composing 50 graphs of 100 nodes must take under 1 s.

Three measurements, each the best of ``--repeat`` runs, one JSON line each:

* ``compose_graphs``: the Python call on G Graph JSON exports of N nodes (a chain
  with an initial packet, an exported inport and outport each), consecutive graphs
  wired through their exported ports: G-1 cross-graph connections. Includes
  checking every input export and the composed one (``Graph.from_json``). This is
  the line with the target.
* ``files``: :func:`reflow_cli.compose.compose_paths` on the same graphs written as
  G spec files, wired by G-1 ``--connect`` texts (loading and checking every file,
  as ``reflow compose`` and ``reflow run a.yaml b.yaml ...`` do).
* ``subgraphs``: one spec whose G nodes each use a subgraph file of N nodes
  (``load_pipeline`` inlines them: G x N nodes).

    python bench/compose.py [--graphs 50] [--nodes 100] [--repeat 3] [--quick] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Emitter, load_average  # noqa: E402

TARGET_SECONDS = 1.0


def chain_export(name: str, nodes: int) -> dict[str, Any]:
    """A Graph JSON export: n0 -> n1 -> ... with an IIP, exported inport ``rows`` and outport ``rows``."""
    from reflow_cli import Graph

    g = Graph(name)
    for i in range(nodes):
        g.add_node(f"n{i}", "tpl_passthrough", {"label": f"step {i}"} if i % 10 == 0 else None)
    for i in range(nodes - 1):
        g.add_connection(f"n{i}", "output", f"n{i + 1}", "input")
    g.add_initial("n0", "input", {"type": "Integer", "data": 1})
    g.add_inport("rows", "n0", "input")
    g.add_outport("rows", f"n{nodes - 1}", "output")
    return g.to_json()


def chain_spec(name: str, nodes: int, *, subgraph: str | None = None) -> str:
    lines = ["version: 1", f"name: {name}", "nodes:"]
    component = subgraph or "tpl_passthrough"
    lines += [f"  n{i}: {{component: {component}}}" for i in range(nodes)]
    lines.append("connections:")
    port_in, port_out = ("rows", "rows") if subgraph else ("input", "output")
    lines += [f"  - n{i}.{port_out} -> n{i + 1}.{port_in}" for i in range(nodes - 1)]
    lines += ["initial:", f"  - {{to: n0.{port_in}, data: 1}}", "inports:", f"  rows: n0.{port_in}", "outports:",
              f"  rows: n{nodes - 1}.{port_out}"]
    return "\n".join(lines) + "\n"


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, list[float], Any]:
    timings = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        timings.append(time.perf_counter() - start)
    return min(timings), timings, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--graphs", type=int, default=50)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 graphs of 20 nodes, once")
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args()
    if args.quick:
        args.graphs, args.nodes, args.repeat = 10, 20, 1

    from reflow_cli import compose_graphs
    from reflow_cli.compose import compose_paths
    from reflow_cli.native import BACKEND  # type: ignore[attr-defined]
    from reflow_cli.spec import load_pipeline

    emit = Emitter(args.json_out, queue=BACKEND, bench="compose", graphs=args.graphs, nodes=args.nodes,
                   load=load_average())
    total_nodes = args.graphs * args.nodes

    exports = [chain_export(f"team {g}", args.nodes) for g in range(args.graphs)]
    request = {
        "graphs": exports,
        "connections": [
            {"from": {"process": f"team_{g}", "port": "rows"}, "to": {"process": f"team_{g + 1}", "port": "rows"}}
            for g in range(args.graphs - 1)
        ],
        "properties": {"name": "all teams"},
    }
    seconds, runs, composed = best_of(args.repeat, lambda: compose_graphs(request))
    assert len(composed["processes"]) == total_nodes
    emit({"mode": "compose_graphs", "composed_nodes": total_nodes, "seconds": round(seconds, 4),
          "runs": [round(t, 4) for t in runs], "target": f"{args.graphs} graphs x {args.nodes} nodes < {TARGET_SECONDS} s",
          "ok": seconds < TARGET_SECONDS})

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = []
        for g in range(args.graphs):
            path = folder / f"team_{g}.yaml"
            path.write_text(chain_spec(f"team_{g}", args.nodes))
            paths.append(path)
        wires = [f"team_{g}.rows -> team_{g + 1}.rows" for g in range(args.graphs - 1)]
        seconds, runs, loaded = best_of(args.repeat, lambda: compose_paths(paths, connections=wires))
        assert loaded.ok, loaded.diagnostics[:3]
        assert loaded.graph is not None and len(loaded.graph.iter_processes()) == total_nodes
        emit({"mode": "files", "composed_nodes": total_nodes, "seconds": round(seconds, 4),
              "runs": [round(t, 4) for t in runs]})

        (folder / "stage.yaml").write_text(chain_spec("stage", args.nodes))
        outer = folder / "outer.yaml"
        outer.write_text(chain_spec("outer", args.graphs, subgraph="./stage.yaml"))
        seconds, runs, loaded = best_of(args.repeat, lambda: load_pipeline(outer))
        assert loaded.ok, loaded.diagnostics[:3]
        assert loaded.graph is not None and len(loaded.graph.iter_processes()) == total_nodes
        emit({"mode": "subgraphs", "composed_nodes": total_nodes, "seconds": round(seconds, 4),
              "runs": [round(t, 4) for t in runs]})


if __name__ == "__main__":
    main()
