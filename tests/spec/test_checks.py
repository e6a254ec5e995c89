"""What a spec means: each semantic check, and that every problem is reported in one pass."""

from __future__ import annotations

from pathlib import Path

from reflow_cli.registry import ComponentRegistry
from reflow_cli.spec import Diagnostic, load_pipeline

from ._helpers import component, registry, write


def check(tmp_path: Path, body: str, reg: ComponentRegistry | None = None, **options: object) -> list[Diagnostic]:
    path = write(tmp_path, "spec.yaml", "version: 1\n" + body)
    return load_pipeline(path, registry=reg if reg is not None else registry(), **options).diagnostics  # type: ignore[arg-type]


def codes(diagnostics: list[Diagnostic]) -> list[tuple[str, int, int]]:
    return [(d.code, d.line, d.column) for d in diagnostics]


def test_port_patterns_match_like_the_engine(tmp_path: Path) -> None:
    body = """nodes:
  sw: {component: tpl_switch}
  mg: {component: tpl_merge}
  end: {component: tpl_sink}
connections:
  - sw.case1 -> mg.in1
  - sw.case12 -> mg.anything
  - sw.default -> mg.in
  - mg.out -> end.input
initial:
  - {to: sw.input, data: 1}
"""
    found = check(tmp_path, body)
    assert codes(found) == [("E012", 8, 8), ("E012", 8, 21)]
    assert found[0].hint == "did you mean 'case[0-9]'?" or "case[0-9]" in (found[0].hint or "")


def test_an_initial_packet_to_an_outport_says_so(tmp_path: Path) -> None:
    found = check(tmp_path, "nodes:\n  src: {component: tpl_source}\ninitial:\n  - {to: src.out, data: 1}\n")
    e012 = [d for d in found if d.code == "E012"]
    assert e012 and "'out' is an outport of this node" in (e012[0].hint or "")


def test_exported_ports_must_exist_in_the_right_direction(tmp_path: Path) -> None:
    body = """nodes:
  f: {component: tpl_filter, config: {condition: equals}}
inports: {entry: f.input, wrong: f.output}
outports: {kept: f.output, other: {node: f, port: input}, ghost: nope.x}
"""
    found = check(tmp_path, body)
    assert [(d.code, d.pointer) for d in found] == [
        ("E016", "/inports/wrong"),
        ("E016", "/outports/other/port"),
        ("E011", "/outports/ghost"),
    ]


def test_case_insensitive_specs_compare_ports_lower_cased(tmp_path: Path) -> None:
    body = """case_sensitive: false
nodes:
  src: {component: tpl_source}
  end: {component: tpl_sink}
connections:
  - src.OUT -> end.Input
"""
    assert check(tmp_path, body) == []


def test_unconnected_nodes_warn_once_each(tmp_path: Path) -> None:
    body = """nodes:
  load: {component: tpl_file_load, config: {path: x}}
  f: {component: tpl_filter, config: {condition: equals}}
  sink: {component: tpl_sink}
connections:
  - load.output -> f.input
  - load.error -> sink.input
"""
    found = check(tmp_path, body)
    # load: no input (W001); f: output and rejected read by nobody (W002); load's error port does not count
    assert [(d.code, d.pointer) for d in found] == [("W001", "/nodes/load"), ("W002", "/nodes/f")]
    body += "initial:\n  - {to: load.trigger, data: {type: Flow}}\noutports: {kept: f.rejected}\n"
    assert check(tmp_path, body) == []


def test_an_error_outport_alone_needs_no_reader(tmp_path: Path) -> None:
    reg = registry()
    reg.register("tpl_only_error", component(["in"], ["error"]))
    body = "nodes:\n  a: {component: tpl_only_error}\ninitial:\n  - {to: a.in, data: 1}\n"
    assert check(tmp_path, body, reg) == []


def test_repeated_connections(tmp_path: Path) -> None:
    base = "nodes:\n  src: {component: tpl_source}\n  end: {component: tpl_sink}\nconnections:\n"
    same = base + "  - src.out -> end.input\n  - {from: src.out, to: end.input}\n"
    assert codes(check(tmp_path, same)) == [("W004", 7, 5)]
    capacities = base + "  - {from: src.out, to: end.input, capacity: 2}\n  - {from: src.out, to: end.input, capacity: 3}\n"
    assert codes(check(tmp_path, capacities)) == [("E021", 7, 46)]
    agreeing = base + "  - {from: src.out, to: end.input, capacity: 2}\n  - {from: 'src.out[1]', to: end.input, capacity: 2}\n"
    assert [d.code for d in check(tmp_path, agreeing)] == ["E022"]  # same ports, different index


def test_unknown_components_get_a_hint_from_the_registry(tmp_path: Path) -> None:
    found = check(tmp_path, "nodes:\n  f: {component: tpl_filtr}\n")
    assert [(d.code, d.hint) for d in found] == [("E010", "did you mean 'tpl_filter'?")]


def test_a_reference_id_not_ported_yet_says_so(tmp_path: Path) -> None:
    found = check(tmp_path, "nodes:\n  s: {component: tpl_sdf_box}\n")
    assert [(d.code, d.message, d.hint) for d in found] == [
        ("E010", "node 's': component 'tpl_sdf_box' exists in offbit-reflow but is not ported yet",
         "see docs/catalog.md#not-ported")
    ]


def test_a_broken_catalog_is_reported_not_raised(tmp_path: Path) -> None:
    reg = ComponentRegistry()

    def broken(_: ComponentRegistry) -> None:
        raise ImportError("catalog module is half written")

    reg.add_loader(broken)
    found = check(tmp_path, "nodes:\n  a: {component: tpl_x}\n", reg)
    assert [d.code for d in found] == ["E010"]
    assert "ImportError: catalog module is half written" in found[0].message


def test_configs_are_checked_with_defaults_filled_in(tmp_path: Path) -> None:
    reg = registry()
    reg.register("tpl_defaults", component(["in"], [], {
        "type": "object",
        "properties": {"n": {"type": "integer", "default": "oops"}, "m": {"type": "integer"}},
        "additionalProperties": False,
    }))
    found = check(tmp_path, "nodes:\n  a: {component: tpl_defaults, config: {m: 1, extra: 2}}\ninitial: [{to: a.in, data: 1}]\n", reg)
    # the default n="oops" is not in the file: it is reported at the config
    assert [(d.code, d.pointer) for d in found] == [("E015", "/nodes/a/config"), ("E015", "/nodes/a/config/extra")]
    assert "unknown key 'extra'" in found[1].message and found[1].hint == "the keys here are: n, m"


def test_a_broken_config_schema_is_blamed_on_the_component(tmp_path: Path) -> None:
    reg = registry()
    reg.register("tpl_weird", component(["in"], [], {"type": "no-such-type"}))
    found = check(tmp_path, "nodes:\n  a: {component: tpl_weird}\ninitial: [{to: a.in, data: 1}]\n", reg)
    assert [d.code for d in found] == ["E015"] and "config schema is broken" in found[0].message


def test_python_components_that_do_not_import_or_are_not_actors(tmp_path: Path) -> None:
    write(tmp_path, "syntax.py", "def broken(:\n")
    write(tmp_path, "plain.py", "class NotAnActor:\n    pass\nVALUE = 3\n")
    body = """nodes:
  a: {component: "python:syntax:X"}
  b: {component: "python:plain:NotAnActor"}
  c: {component: "python:plain:VALUE"}
  d: {component: "python:plain"}
"""
    found = check(tmp_path, body)
    assert [d.code for d in found] == ["E017", "E017", "E017", "E010"]
    assert "SyntaxError" in found[0].message and "syntax.py, line 1" in found[0].message
    assert "has no run(ctx) method" in found[1].message
    assert "not a usable actor" in found[2].message


def test_groups_and_initial_packets_name_known_nodes_and_inports(tmp_path: Path) -> None:
    body = """nodes:
  src: {component: tpl_source}
  end: {component: tpl_sink}
connections: [src.out -> end.input]
inports: {entry: end.input}
initial:
  - {inport: entry, data: 1}
  - {inport: entyr, data: 2}
groups: {g: [src, ned]}
"""
    found = check(tmp_path, body)
    assert [(d.code, d.pointer, d.hint) for d in found] == [
        ("E012", "/initial/1/inport", "did you mean 'entry'?"),
        ("E011", "/groups/g/1", "did you mean 'end'?"),
    ]


def test_every_problem_is_reported_in_one_run(tmp_path: Path) -> None:
    body = """nodes:
  a: {component: tpl_nope}
  b: {component: tpl_filter, config: {condition: nope}}
  c: {component: tpl_sink, replicas: 0}
connections:
  - a.out -> zz.in
  - b.outptu -> c.input
initial:
  - {to: b.input, data: {type: Integer, data: 1.5}}
"""
    assert {"E002", "E010", "E011", "E012", "E014", "E015"} <= {d.code for d in check(tmp_path, body)}


def test_subgraph_files_are_checked_and_give_their_ports(tmp_path: Path) -> None:
    write(tmp_path, "sub.yaml", """version: 1
nodes:
  f: {component: tpl_filter, config: {condition: equals}}
inports: {rows: f.input}
outports: {kept: f.output, dropped: f.rejected}
""")
    body = """nodes:
  src: {component: tpl_source}
  sub: {component: ./sub.yaml}
  end: {component: tpl_sink}
connections:
  - src.out -> sub.rows
  - sub.kept -> end.input
  - sub.nope -> end.input
"""
    found = check(tmp_path, body)
    assert [(d.code, Path(d.file).name) for d in found] == [("E012", "spec.yaml")]
    write(tmp_path, "sub.yaml", "version: 1\nnodes: {f: {component: tpl_nope}}\n")
    found = check(tmp_path, "nodes:\n  sub: {component: ./sub.yaml}\n  other: {component: ./missing.yaml}\n")
    assert [(d.code, Path(d.file).name) for d in found] == [("E010", "spec.yaml"), ("E010", "sub.yaml")]


def test_components_false_checks_only_the_spec_itself(tmp_path: Path) -> None:
    body = "nodes:\n  a: {component: tpl_nope}\nconnections: [a.x -> a.y, a.x -> b.y]\n"
    assert [d.code for d in check(tmp_path, body, components=False)] == ["E011"]


def test_optional_outports_need_no_reader(tmp_path: Path) -> None:
    reg = registry()
    reg.register("tpl_log_like", component(["input"], [{"name": "output", "optional": True}]))
    body = "nodes:\n  log: {component: tpl_log_like}\ninitial: [{to: log.input, data: hi}]\n"
    assert check(tmp_path, body, reg) == []
