#!/usr/bin/env python3
"""Record Graph JSON exports written by the reference runtime (``offbit-reflow``).

Standalone (stdlib only); the reference is never a dependency of reflow::

    python tests/graph/record_reference_exports.py           # (re)write tests/graph/data/
    python tests/graph/record_reference_exports.py --check   # compare, write nothing

Each scenario below is a snippet of reference-API calls on a ``Graph`` called
``g``. It runs in its own subprocess of the reference's venv (``--venv``, else
``$REFLOW_REFERENCE_VENV``, else ``/work/refvenv``) under a timeout, because
the reference freezes on its 1001st graph mutation and aborts the process on
some inputs. The export is written to ``data/<name>.json`` (sorted keys), or
to ``data/invalid/<name>.json`` for exports that reflow refuses on purpose.

``data/manifest.json`` records, per scenario, what it shows and whether the
reference can load its own export back unchanged (``"identical"``), only
with changes (``"changed"``), or not at all (``"aborted"``) -- facts quoted in
docs/porting.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
DEFAULT_VENV = "/work/refvenv"
TIMEOUT_S = 30

# Messages are passed as tagged dicts: the reference's add_initial refuses Message objects.
SCENARIOS: dict[str, tuple[str, str]] = {
    "demo": (
        "The example of anchor-behaviour section 6: two nodes, a connection, IIPs, ports, a group.",
        """
g = Graph("demo", False)
g.add_node("src", "tpl_src", {"x": 10})
g.add_node("sink", "tpl_log")
g.add_connection("src", "out", "sink", "in", {"route": 1})
g.add_initial("src", "in", {"type": "Integer", "data": 21})
g.add_inport("in", "src", "in")
g.add_outport("out", "sink", "out")
g.add_group("grp1", ["src"], {"color": "red"})
g.set_properties({"description": "d"})
""",
    ),
    "case_insensitive": (
        "Mixed-case port ids in a case-insensitive graph are lower-cased; node ids keep their case.",
        """
g = Graph("Mixed", False)
g.add_node("Reader", "tpl_a")
g.add_node("WRITER", "tpl_b", {"Pos": [1, 2]})
g.add_connection("Reader", "OutPort", "WRITER", "InPort")
g.add_connection("WRITER", "Feedback", "Reader", "CTRL", {"Label": "Loop"})
g.add_initial("Reader", "Path", {"type": "String", "data": "/tmp/X"})
g.add_inport("MainIn", "Reader", "Path", None, {"Doc": "x"})
g.add_outport("MainOut", "WRITER", "Done")
""",
    ),
    "case_sensitive": (
        "A case-sensitive graph keeps port case; fan-out, fan-in, a cycle and a self-loop.",
        """
g = Graph("cs", True)
for n in ("A", "b", "C", "loop"):
    g.add_node(n, "tpl_" + n.lower())
g.add_connection("A", "Out", "b", "In")
g.add_connection("A", "Out", "C", "In")
g.add_connection("b", "Out", "C", "In")
g.add_connection("C", "Out", "A", "Back")
g.add_connection("loop", "tick", "loop", "tick")
g.add_connection("A", "out", "b", "in")
g.add_initial("loop", "tick", {"type": "Flow"})
g.add_initial("A", "Config", {"type": "Object", "data": {"Mode": "fast", "n": 3}})
g.add_initial("A", "config", {"type": "Integer", "data": 1})
g.add_group("left", ["A", "b"])
g.add_group("right", ["C"], {"z": None})
""",
    ),
    "message_kinds": (
        "One IIP of every message kind, in its canonical JSON form.",
        """
g = Graph("kinds", True)
g.add_node("n", "tpl_sink")
kinds = [
    {"type": "Flow"},
    {"type": "Boolean", "data": False},
    {"type": "Integer", "data": -9007199254740993},
    {"type": "Float", "data": 2.5},
    {"type": "Float", "data": 1e-300},
    {"type": "String", "data": "h\\u00e9llo \\u2603\\n"},
    {"type": "Object", "data": {"a": [1, {"b": None}], "c": 1.5}},
    {"type": "Object", "data": [1, 2]},
    {"type": "Array", "data": [1, "x", None, [True]]},
    {"type": "Bytes", "data": [0, 1, 104, 255]},
    {"type": "Error", "data": "boom"},
    {"type": "Optional", "data": None},
    {"type": "Optional", "data": {"k": 1}},
    {"type": "Any", "data": [1]},
    {"type": "Event", "data": {"e": 1}},
    {"type": "Encoded", "data": [1, 2, 3]},
    {"type": "RemoteReference", "data": {"network_id": "n", "actor_id": "a", "port": "p"}},
    {"type": "NetworkEvent", "data": {"event_type": "HeartbeatMissed", "data": {"x": 1}}},
    {"type": "StreamHandle", "data": {"stream_id": 7, "origin_actor": "a", "origin_port": "p",
                                      "content_type": "text/plain", "size_hint": 10}},
]
for i, data in enumerate(kinds):
    g.add_initial("n", "p%d" % i, data, {"i": i} if i % 2 else None)
""",
    ),
    "graph_initials": (
        "IIPs sent through graph inports: their target edge copies the inport's edge (portName,"
        " metadata) and the inport's index is overwritten. The reference itself loses both on reload.",
        """
g = Graph("gi", True)
g.add_node("A", "tpl_a")
g.add_node("B", "tpl_b")
g.add_inport("In", "A", "Port", None, {"doc": "entry"})
g.add_inport("Other", "B", "x")
g.add_graph_initial("In", {"type": "Integer", "data": 1}, {"why": "first"})
g.set_inport_metadata("In", {"more": True})
g.add_graph_initial("In", {"type": "Integer", "data": 2})
g.add_initial("B", "x", {"type": "String", "data": "plain"})
g.add_graph_initial_index("Other", {"type": "Flow"}, 1)
""",
    ),
    "port_types": (
        "Exported port types, nested ones included (the reference keeps outport types and drops inport ones).",
        """
g = Graph("types", True)
g.add_node("n", "tpl")
simple = ["any", "flow", "event", "boolean", "integer", "float", "string", "encoded", "bytes", "stream"]
for t in simple:
    g.add_outport("o_" + t, "n", t, {"type": t})
g.add_outport("o_object", "n", "obj", {"type": "object", "value": "Schema"})
g.add_outport("o_array", "n", "arr", {"type": "array", "value": {"type": "integer"}})
nested = {"type": "option", "value": {"type": "array", "value": {"type": "object", "value": "Q"}}}
g.add_outport("o_option", "n", "opt", nested)
g.add_inport("i_typed", "n", "in", {"type": "integer"}, {"m": 1})
""",
    ),
    "edits": (
        "An export after renames, removals and metadata edits; the remaining IIP indexes are stale"
        " (larger than their position), which makes the reference abort when it reloads its own export.",
        """
g = Graph("edits", True)
for n in ("a", "b", "c", "d", "e"):
    g.add_node(n, "tpl")
g.add_connection("a", "out", "b", "in")
g.add_connection("b", "out", "c", "in")
g.add_connection("c", "out", "d", "in")
g.add_connection("e", "out", "a", "in2")
g.add_initial("a", "go", {"type": "Flow"})
g.add_initial("a", "go", {"type": "Integer", "data": 2})
g.add_initial("b", "cfg", {"type": "Integer", "data": 3})
g.add_initial_index("c", "cfg", {"type": "Integer", "data": 4}, 1)
g.add_inport("IN", "a", "go")
g.add_inport("CFG", "b", "cfg")
g.add_outport("OUT", "d", "out")
g.add_outport("SPARE", "e", "x")
g.add_group("g1", ["a", "b", "c"], {"k": 1})
g.add_group("g2", ["d"])
g.add_group("g3", ["e"])
g.rename_node("b", "beta")
g.rename_outport("OUT", "RESULT")
g.remove_initial("a", "go")
g.remove_connection("c", "out", "d", "in")
g.remove_from_group("g1", "c")
g.remove_group("g2")
g.remove_outport("SPARE")
g.remove_inport("IN")
g.set_node_metadata("c", {"x": 1})
g.set_node_metadata("c", {"y": 2})
g.set_connection_metadata("a", "out", "beta", "in", {"w": 3})
g.set_group_metadata("g1", {"k": 2, "j": None})
g.set_outport_metadata("RESULT", {"o": 1})
g.set_properties({"description": "edited", "version": 2})
""",
    ),
    "renamed_inport": (
        "After rename_inport the reference keeps the old name in the edge's portId (key != portId).",
        """
g = Graph("ri", True)
g.add_node("n", "tpl")
g.add_inport("old", "n", "in", None, {"m": 1})
g.rename_inport("old", "new")
""",
    ),
    "chain_100": (
        "A 100-node linear chain with an IIP at its head.",
        """
g = Graph("chain", False)
for i in range(100):
    g.add_node("n%03d" % i, "tpl_passthrough")
for i in range(99):
    g.add_connection("n%03d" % i, "out", "n%03d" % (i + 1), "in")
g.add_initial("n000", "in", {"type": "Integer", "data": 1})
""",
    ),
    "unicode_and_properties": (
        "Non-ASCII ids, nested metadata and properties.",
        """
g = Graph("gr\\u00e4ph \\u2603", True)
g.add_node("kn\\u00f6ten", "tpl_\\u00fc", {"nested": {"list": [1, 2.5, "x", None, True], "deep": {"k": {}}}})
g.add_node("\\u65e5\\u672c", "tpl")
g.add_connection("kn\\u00f6ten", "\\u00e4us", "\\u65e5\\u672c", "ein")
g.set_properties({"description": "d\\u00e9j\\u00e0", "tags": ["a", "b"], "nested": {"x": [1, {"y": None}]}})
""",
    ),
    "empty": (
        "A graph with no name and nothing in it.",
        """
g = Graph()
""",
    ),
}

# Exports the reference writes but reflow refuses on purpose (each test asserts the GraphError).
INVALID: dict[str, tuple[str, str]] = {
    "stale_group_member": (
        "remove_node leaves the node in its group in the reference (bug 18).",
        """
g = Graph("stale", True)
g.add_node("a", "tpl")
g.add_node("b", "tpl")
g.add_group("grp", ["a", "b"])
g.remove_node("b")
""",
    ),
    "ghost_group_member": (
        "add_to_group accepts an unknown node in the reference.",
        """
g = Graph("ghost", True)
g.add_node("a", "tpl")
g.add_group("grp", ["a"])
g.add_to_group("grp", "ghost")
""",
    ),
    "non_message_iip": (
        "add_initial stores data that is not a tagged message in the reference.",
        """
g = Graph("raw", True)
g.add_node("a", "tpl")
g.add_initial("a", "in", 5)
""",
    ),
}

_EXPORT = "import json, sys\nfrom offbit_reflow import Graph\n{code}\njson.dump(g.to_json(), sys.stdout)\n"
_RELOAD = (
    "import json, sys\nfrom offbit_reflow import Graph\n"
    "json.dump(Graph.from_json(json.load(sys.stdin)).to_json(), sys.stdout)\n"
)


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _run(python: Path, code: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-c", code], input=stdin, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )


def record(python: Path, code: str) -> tuple[dict, str]:
    """The reference's export for ``code``, and whether it reloads it unchanged."""
    proc = _run(python, _EXPORT.format(code=code))
    if proc.returncode != 0:
        raise SystemExit(f"the reference failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    export = json.loads(proc.stdout)
    reload = _run(python, _RELOAD, proc.stdout)
    if reload.returncode != 0:
        verdict = "aborted" if reload.returncode in (134, -6) else f"failed (exit {reload.returncode})"
    else:
        verdict = "identical" if json.loads(reload.stdout) == export else "changed"
    return export, verdict


def _text(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", default=os.environ.get("REFLOW_REFERENCE_VENV", DEFAULT_VENV))
    parser.add_argument("--check", action="store_true", help="compare with the recorded files, write nothing")
    args = parser.parse_args(argv)
    python = _python(Path(args.venv))
    if not python.exists():
        print(f"no reference venv at {args.venv} (pip install offbit-reflow==0.2.9 there)", file=sys.stderr)
        return 2
    files: dict[Path, str] = {}
    manifest: dict[str, dict[str, str]] = {}
    for folder, scenarios in ((DATA, SCENARIOS), (DATA / "invalid", INVALID)):
        for name, (about, code) in scenarios.items():
            export, verdict = record(python, code)
            files[folder / f"{name}.json"] = _text(export)
            key = name if folder == DATA else f"invalid/{name}"
            manifest[key] = {"about": about, "reference_reload": verdict}
            print(f"{key}: reference reload {verdict}")
    files[DATA / "manifest.json"] = _text(manifest)
    stale = [path for path, text in files.items() if not path.exists() or path.read_text("utf-8") != text]
    if args.check:
        for path in stale:
            print(f"differs: {path.relative_to(HERE)}", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path], "utf-8")
    print(f"wrote {len(stale)} file(s) under {DATA}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
