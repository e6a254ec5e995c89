"""``reflow validate`` on a large spec: the budget is 2 s for 5,000 nodes, from process start.

Writes a spec of N nodes (a chain through a Python component with a config
schema, so component import, port checks and config validation all run, plus
an initial packet and an exported port), then times

* ``cli``: the real ``reflow validate FILE`` in a fresh process (what a user
  waits for), best of ``--repeat`` runs;
* ``library``: ``load_pipeline(FILE)`` in this process, best of ``--repeat``.

Prints one JSON line per measurement::

    python bench/validate.py [--nodes 5000] [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import command_env, with_bytecode  # noqa: E402

ACTORS = '''
from reflow_cli import Actor


class Step(Actor):
    """Passes each packet on, scaled."""

    inports = ["in"]
    outports = ["out", "error"]
    config_schema = {
        "type": "object",
        "properties": {"factor": {"type": "integer", "minimum": 0}, "label": {"type": "string"}},
        "required": ["factor"],
        "additionalProperties": False,
    }

    def run(self, ctx):
        ctx.done({"out": ctx.inputs["in"]})
'''


BUDGET_S = 2.0


def write_spec(folder: Path, nodes: int) -> Path:
    """A chain of ``nodes`` nodes, in the block and flow styles people write."""
    (folder / "bench_actors.py").write_text(ACTORS)
    lines = [
        "# yaml-language-server: $schema=https://reflow.dev/schemas/pipeline.schema.json",
        "version: 1",
        "name: big",
        "description: a long chain",
        "nodes:",
    ]
    for i in range(nodes):
        lines.append(f"  n{i}: {{component: 'python:bench_actors:Step', config: {{factor: {i % 7}, label: step {i}}}}}")
    lines.append("connections:")
    for i in range(nodes - 1):
        if i % 10 == 0:
            lines.append(f"  - {{from: n{i}.out, to: n{i + 1}.in, capacity: 128}}")
        else:
            lines.append(f"  - n{i}.out -> n{i + 1}.in")
    lines += ["initial:", "  - {to: n0.in, data: 1}", "outports:", f"  result: n{nodes - 1}.out"]
    path = folder / "big.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def reflow_command() -> list[str]:
    exe = shutil.which("reflow") or str(Path(sys.executable).with_name("reflow"))
    return [exe]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1,000 nodes, once (no target)")
    args = parser.parse_args()
    if args.quick:
        args.nodes, args.repeat = 1000, 1
    from ruamel.yaml import YAML

    parser = YAML(typ="safe", pure=False).Parser
    yaml_parser = "libyaml (ruamel.yaml.clib)" if "clib" in parser.__module__ else "pure Python"
    common = {
        "bench": "validate",
        "nodes": args.nodes,
        "python": platform.python_version(),
        "yaml_parser": yaml_parser,
        "cpus": os.cpu_count(),
        "load": [round(x, 2) for x in os.getloadavg()],
    }
    import reflow_cli

    with_bytecode(Path(reflow_cli.__file__).parent)  # as after pip install (see _common.command_env)
    env = command_env()
    with tempfile.TemporaryDirectory() as tmp:
        spec = write_spec(Path(tmp), args.nodes)
        size = spec.stat().st_size
        timings = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            done = subprocess.run([*reflow_command(), "validate", str(spec)], capture_output=True, text=True, env=env)
            timings.append(time.perf_counter() - start)
            if done.returncode != 0:
                print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
                raise SystemExit(f"reflow validate failed with exit code {done.returncode}")
        best = min(timings)
        line = {**common, "mode": "cli", "bytes": size, "seconds": round(best, 3),
                "runs": [round(t, 3) for t in timings], "metric": "seconds", "budget_seconds": BUDGET_S}
        if args.nodes >= 5000:
            line.update(target=f"reflow validate of {args.nodes} nodes < {BUDGET_S} s", ok=best < BUDGET_S)
        print(json.dumps(line))
        from reflow_cli.spec import load_pipeline

        timings = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            loaded = load_pipeline(spec)
            timings.append(time.perf_counter() - start)
            assert loaded.ok, loaded.diagnostics[:3]
        print(json.dumps({**common, "mode": "library", "bytes": size, "seconds": round(min(timings), 3),
                          "runs": [round(t, 3) for t in timings], "metric": "seconds"}))


if __name__ == "__main__":
    main()
