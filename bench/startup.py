"""How long `reflow run` takes from process start to the pipeline's first message.

Target (issue 3): < 0.5 s. Runs a three-node pipeline (timer -> format -> log) through the
real `reflow` command and times, from the moment the process is started, the arrival of
the first line on its stdout. Also reports which heavy modules that path imported (none
of onnxruntime, wgpu, ray may be). Prints JSON lines.

As a user runs it after ``pip install``: with bytecode compiled. pip compiles every
module at install time, but an editable install of a checkout leaves reflow's own
modules to be compiled on first use, and ``PYTHONDONTWRITEBYTECODE`` (set on some
CI machines) stops that for good, making every start compile ~100 modules again
(about +0.15 s here). So the bench compiles ``reflow_cli`` first (``compileall``) and
runs the command without that variable.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import command_env, with_bytecode  # noqa: E402

SPEC = """
version: 1
nodes:
  tick: {component: tpl_interval_trigger, config: {interval: 50, maxExecutions: 1}}
  fmt: {component: tpl_text_format, config: {template: "first message"}}
  log: {component: tpl_log}
connections:
  - tick.trigger -> fmt.input
  - fmt.output -> log.input
initial:
  - {to: tick.start, data: {type: Flow}}
"""
HEAVY = ("onnxruntime", "wgpu", "ray", "numpy")
TARGET_S = 0.5


def first_message_s(exe: str, spec: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    process = subprocess.Popen([exe, "run", str(spec), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    elapsed = time.perf_counter() - started
    process.wait(timeout=60)
    if line.strip() != "first message":
        raise RuntimeError(f"unexpected first line {line!r}")
    return elapsed


def heavy_imports(spec: Path) -> list[str]:
    code = (
        "import sys, runpy; sys.argv=['reflow','run',%r,'--quiet'];\n"
        "try:\n    runpy.run_module('reflow_cli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in %r)), file=sys.stderr)"
    ) % (str(spec), HEAVY)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return result.stderr.strip().splitlines()[-1].split() if result.stderr.strip() else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    import reflow_cli

    with_bytecode(Path(reflow_cli.__file__).parent)
    env = command_env()
    exe = shutil.which("reflow") or str(Path(sys.executable).with_name("reflow"))
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "first.yaml"
        spec.write_text(SPEC)
        first_message_s(exe, spec, env)  # warm-up: the OS file cache, and any bytecode left to write
        times = [first_message_s(exe, spec, env) for _ in range(3 if args.quick else args.repeats)]
        heavy = heavy_imports(spec)
    best = min(times)
    print(json.dumps({
        "bench": "startup", "impl": "reflow", "first_message_s": round(best, 4),
        "all_s": [round(t, 4) for t in times], "heavy_imports": heavy, "metric": "first_message_s",
        "target": f"first_message_s < {TARGET_S} and no heavy imports",
        "ok": best < TARGET_S and not heavy, "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
