"""Spec subgraphs: ``component: ./stages/clean.yaml`` is inlined at load time as ``<node>/<inner>``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from textwrap import dedent

from reflow_cli import Network, RunState
from reflow_cli.spec import load_pipeline, validate_paths


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text).lstrip())
    return path


ACTORS = '''
from reflow_cli import Actor, Message


class Emit(Actor):
    inports = ["in"]
    outports = ["out"]

    def run(self, ctx):
        for item in ctx.inputs["in"]["data"]:
            ctx.send({"out": Message.integer(item)})


class Times(Actor):
    inports = ["in"]
    outports = ["out"]
    config_schema = {"type": "object", "properties": {"by": {"type": "integer", "default": 2}}, "additionalProperties": False}

    def run(self, ctx):
        value = ctx.inputs["in"]["data"]
        if value < 0:
            raise ValueError(f"negative: {value}")
        ctx.done({"out": Message.integer(value * ctx.config["by"])})


class Sink(Actor):
    inports = ["in"]
    seen = []

    def run(self, ctx):
        Sink.seen.append(ctx.inputs["in"]["data"])
'''

STAGE = """
version: 1
name: scale
nodes:
  first:  {component: "python:stage_actors:Times"}
  second: {component: "python:stage_actors:Times", config: {by: 10}}
connections:
  - first.out -> second.in
inports: {numbers: first.in}
outports: {scaled: second.out}
"""

MAIN = """
version: 1
name: main
nodes:
  src:   {component: "python:actors:Emit"}
  scale: {component: ./stages/scale.yaml}
  sink:  {component: "python:actors:Sink"}
connections:
  - src.out -> scale.numbers
  - scale.scaled -> sink.in
initial:
  - {to: src.in, data: [1, 2, 3]}
"""


def project(tmp_path: Path, main: str = MAIN, stage: str = STAGE) -> Path:
    write(tmp_path, "actors.py", ACTORS)
    write(tmp_path, "stages/stage_actors.py", ACTORS)  # the subgraph's python: components live beside it
    write(tmp_path, "stages/scale.yaml", stage)
    return write(tmp_path, "main.yaml", main)


def run(loaded: object) -> tuple[RunState, list[int]]:
    network = Network.from_graph(loaded.graph, on_error="fail")  # type: ignore[attr-defined]
    sink_class = None
    for component_id, component in loaded.components.items():  # type: ignore[attr-defined]
        network.register_actor(component_id, component)
        if component_id.endswith(":Sink"):
            sink_class = component
    assert sink_class is not None
    sink_class.seen.clear()
    status = network.run(timeout=10)
    return status.state, list(sink_class.seen)


def test_a_subgraph_node_is_inlined_through_its_exported_ports(tmp_path: Path) -> None:
    loaded = load_pipeline(project(tmp_path))
    assert loaded.ok, loaded.diagnostics
    assert loaded.diagnostics == []  # no "cannot run yet" warning any more
    graph = loaded.graph
    assert graph is not None
    assert [p.id for p in graph.iter_processes()] == ["src", "scale/first", "scale/second", "sink"]
    wires = {(c.src_node, c.src_port, c.tgt_node, c.tgt_port) for c in graph.iter_connections()}
    assert wires == {("src", "out", "scale/first", "in"), ("scale/first", "out", "scale/second", "in"),
                     ("scale/second", "out", "sink", "in")}
    assert loaded.spec["nodes"]["scale"] == {"component": "./stages/scale.yaml"}  # the spec stays as written
    assert "python:stage_actors:Times" in loaded.components  # the subgraph's classes come along
    state, seen = run(loaded)
    assert state is RunState.COMPLETE
    assert seen == [20, 40, 60]


def test_the_result_equals_the_same_graph_written_flat(tmp_path: Path) -> None:
    flat = write(tmp_path, "flat.yaml", """
        version: 1
        nodes:
          src:    {component: "python:actors:Emit"}
          first:  {component: "python:actors:Times"}
          second: {component: "python:actors:Times", config: {by: 10}}
          sink:   {component: "python:actors:Sink"}
        connections: [src.out -> first.in, first.out -> second.in, second.out -> sink.in]
        initial: [{to: src.in, data: [1, 2, 3]}]
        """)
    project(tmp_path)
    assert Counter(run(load_pipeline(tmp_path / "main.yaml"))[1]) == Counter(run(load_pipeline(flat))[1])


def test_the_nodes_config_configures_inner_nodes(tmp_path: Path) -> None:
    main = MAIN.replace("scale: {component: ./stages/scale.yaml}", "scale: {component: ./stages/scale.yaml, config: {first: {by: 3}}}")
    loaded = load_pipeline(project(tmp_path, main))
    assert loaded.ok, loaded.diagnostics
    assert run(loaded)[1] == [30, 60, 90]
    # --set reaches them too
    loaded = load_pipeline(project(tmp_path), overrides=["scale.second.by=100"])
    assert run(loaded)[1] == [200, 400, 600]


def test_a_config_naming_no_inner_node_is_e015(tmp_path: Path) -> None:
    main = MAIN.replace("scale: {component: ./stages/scale.yaml}", "scale: {component: ./stages/scale.yaml, config: {frist: {by: 3}}}")
    loaded = load_pipeline(project(tmp_path, main))
    assert [(d.code, d.line) for d in loaded.diagnostics] == [("E015", 5)]
    assert "frist" in loaded.diagnostics[0].message
    assert loaded.diagnostics[0].hint is not None and "first" in loaded.diagnostics[0].hint


def test_the_nodes_policy_passes_to_inner_nodes(tmp_path: Path) -> None:
    main = MAIN.replace("scale: {component: ./stages/scale.yaml}", "scale: {component: ./stages/scale.yaml, on_error: continue}")
    main = main.replace("data: [1, 2, 3]", "data: [1, -2, 3]")
    loaded = load_pipeline(project(tmp_path, main))
    assert loaded.ok, loaded.diagnostics
    metadata = {p.id: p.metadata for p in loaded.graph.iter_processes()}  # type: ignore[union-attr]
    assert metadata["scale/first"] == {"reflow": {"on_error": "continue"}}
    state, seen = run(loaded)
    assert state is RunState.COMPLETE  # the failing inner tick follows the node's `continue`
    assert seen == [20, 60]
    state, _ = run(load_pipeline(project(tmp_path, MAIN.replace("data: [1, 2, 3]", "data: [1, -2, 3]"))))
    assert state is RunState.FAILED  # and without it, the run's `fail`


def test_ports_of_a_subgraph_node_are_its_exported_ports(tmp_path: Path) -> None:
    main = MAIN.replace("src.out -> scale.numbers", "src.out -> scale.numbrs").replace("scale.scaled -> sink.in", "scale.first -> sink.in")
    found = [(d.code, d.line, d.message) for d in load_pipeline(project(tmp_path, main)).diagnostics]
    assert [(code, line) for code, line, _ in found] == [("E012", 8), ("E012", 9)]
    assert "has no inport 'numbrs'" in found[0][2] and "has no outport 'first'" in found[1][2]


def test_problems_inside_the_subgraph_point_into_its_file(tmp_path: Path) -> None:
    project(tmp_path, stage=STAGE.replace("first.out -> second.in", "first.out -> secnd.in"))
    found = [(Path(d.file).name, d.line, d.code) for d in validate_paths([tmp_path / "main.yaml"])]
    assert found == [("scale.yaml", 5, "W001"), ("scale.yaml", 7, "E011")]


def test_nested_subgraphs(tmp_path: Path) -> None:
    project(tmp_path)
    write(tmp_path, "stages/twice.yaml", """
        version: 1
        nodes:
          a: {component: ./scale.yaml}
          b: {component: ./scale.yaml}
        connections: [a.scaled -> b.numbers]
        inports: {numbers: a.numbers}
        outports: {scaled: b.scaled}
        """)
    main = MAIN.replace("./stages/scale.yaml", "./stages/twice.yaml")
    loaded = load_pipeline(write(tmp_path, "main.yaml", main))
    assert loaded.ok, loaded.diagnostics
    ids = [p.id for p in loaded.graph.iter_processes()]  # type: ignore[union-attr]
    assert ids == ["src", "scale/a/first", "scale/a/second", "scale/b/first", "scale/b/second", "sink"]
    assert run(loaded)[1] == [400, 800, 1200]


def test_an_include_cycle_is_e018_with_the_chain(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "version: 1\nnodes:\n  x: {component: ./b.yaml}\n")
    write(tmp_path, "b.yaml", "version: 1\nnodes:\n  y: {component: ./c.yaml}\n")
    write(tmp_path, "c.yaml", "version: 1\nnodes:\n  z: {component: ./a.yaml}\n")
    found = validate_paths([tmp_path / "a.yaml"])
    assert [(Path(d.file).name, d.code) for d in found] == [("c.yaml", "E018")]
    assert "include cycle: a.yaml -> b.yaml -> c.yaml -> a.yaml" in found[0].message
    loaded = load_pipeline(tmp_path / "a.yaml")
    assert not loaded.ok and loaded.graph is None


def test_a_case_insensitive_spec_uses_a_case_sensitive_subgraph(tmp_path: Path) -> None:
    write(tmp_path, "actors.py", ACTORS.replace('inports = ["in"]\n    outports = ["out"]\n    config_schema',
                                                'inports = ["IN"]\n    outports = ["OUT"]\n    config_schema')
          .replace('ctx.inputs["in"]["data"]\n        if value', 'ctx.inputs["IN"]["data"]\n        if value')
          .replace('ctx.done({"out": Message.integer(value', 'ctx.done({"OUT": Message.integer(value'))
    write(tmp_path, "upper.yaml", """
        version: 1
        nodes:
          t: {component: "python:actors:Times"}
        inports: {Numbers: t.IN}
        outports: {Scaled: t.OUT}
        """)
    main = write(tmp_path, "main.yaml", """
        version: 1
        case_sensitive: false
        nodes:
          src:  {component: "python:actors:Emit"}
          up:   {component: ./upper.yaml}
          sink: {component: "python:actors:Sink"}
        connections: [src.OUT -> up.NUMBERS, up.scaled -> sink.In]
        initial: [{to: src.IN, data: [4]}]
        """.replace("src.OUT", "src.out").replace("to: src.IN", "to: src.in"))
    loaded = load_pipeline(main)
    assert loaded.ok, loaded.diagnostics
    assert loaded.graph is not None and loaded.graph.case_sensitive  # the inner ports keep their case
    assert run(loaded) == (RunState.COMPLETE, [8])
