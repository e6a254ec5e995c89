"""``reflow compose``, compose manifests and ``reflow run a.yaml b.yaml``, through the real command.

The worked example (``examples/compose``: two teams' specs and a manifest)
runs here too.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from textwrap import dedent

import pytest

from reflow_cli.compose import compose_paths

from ._helpers import ROOT, reflow

EXAMPLE = ROOT / "examples" / "compose"
TOTAL = "paid orders total: 475.75\n"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    folder = tmp_path / "compose"
    shutil.copytree(EXAMPLE, folder)
    return folder


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(dedent(text).lstrip())
    return path


# -- the worked example ---------------------------------------------------------------------------------


def test_the_example_manifest_validates_and_runs(example: Path) -> None:
    result = reflow("validate", "compose/pipeline.yaml", cwd=example.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in (result.stdout + result.stderr).replace("0 warnings", "")
    result = reflow("run", "compose/pipeline.yaml", cwd=example.parent)  # from another folder: paths follow the manifest
    assert result.returncode == 0, result.stderr
    assert result.stdout == TOTAL
    assert "ingest/clean/paid" in result.stderr and "report/print" in result.stderr


def test_run_with_several_files_composes_them(example: Path) -> None:
    result = reflow("run", "ingest.yaml", "report.yaml", cwd=example)
    assert result.returncode == 0, result.stderr
    assert result.stdout == TOTAL
    assert "note: auto-wired ingest.orders -> report.orders" in result.stderr
    quiet = reflow("run", "ingest.yaml", "report.yaml", "--quiet", cwd=example)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, TOTAL, "")  # only what the pipeline prints


def test_parts_and_outputs_in_other_folders_get_a_note_about_relative_paths(example: Path) -> None:
    (example / "team").mkdir()
    (example / "report.yaml").rename(example / "team" / "report.yaml")
    result = reflow("compose", "ingest.yaml", "team/report.yaml", "-o", "composed.yaml", cwd=example)
    assert result.returncode == 0, result.stderr
    assert "note: team/report.yaml is not in " in result.stderr and "relative paths in its configs" in result.stderr
    result = reflow("compose", "ingest.yaml", "team/report.yaml", "-o", "team/composed.yaml", cwd=example)
    assert "note: team/composed.yaml is not in the parts' folder" in result.stderr
    result = reflow("compose", "ingest.yaml", "team/report.yaml", "-o", "here.yaml", "--quiet", cwd=example)
    assert result.returncode == 0 and result.stderr == ""


def test_the_composed_spec_is_a_spec_that_validates_and_runs(example: Path) -> None:
    result = reflow("compose", "ingest.yaml", "report.yaml", "-o", "composed.yaml", cwd=example)
    assert result.returncode == 0, result.stderr
    assert "auto-wired ingest.orders -> report.orders" in result.stderr
    assert "'ingest+report': 6 nodes, 5 connections into composed.yaml" in result.stderr
    text = (example / "composed.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    for line in ("ingest/clean/paid: {component: tpl_filter", "- ingest/clean/priced.output -> report/total.input",
                 "- {to: ingest/read.trigger, data: {type: Flow}}", "report/orders: report/total.input"):
        assert line in text, line
    assert reflow("validate", "composed.yaml", cwd=example).returncode == 0
    result = reflow("run", "composed.yaml", "--quiet", cwd=example)
    assert (result.returncode, result.stdout) == (0, TOTAL), result.stderr


def test_json_output_is_a_graph_export(example: Path) -> None:
    result = reflow("compose", "pipeline.yaml", "--format", "json", cwd=example)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["properties"]["name"] == "orders"
    assert sorted(document["processes"]) == ["ingest/clean/paid", "ingest/clean/priced", "ingest/read", "report/line",
                                             "report/print", "report/total"]
    (example / "composed.json").write_text(result.stdout)
    result = reflow("run", "composed.json", "--quiet", cwd=example)
    assert (result.returncode, result.stdout) == (0, TOTAL), result.stderr
    # -o with a .json suffix picks JSON
    assert reflow("compose", "pipeline.yaml", "-o", "out.json", cwd=example).returncode == 0
    assert json.loads((example / "out.json").read_text()) == document


def test_connect_and_name(example: Path) -> None:
    result = reflow("compose", "ingest.yaml", "report.yaml", "--connect", "ingest/clean/priced.output -> report/total.input",
                    "--name", "together", "--format", "json", cwd=example)
    assert result.returncode == 0, result.stderr
    assert "auto-wired" not in result.stderr  # explicit connections: no auto-wiring
    document = json.loads(result.stdout)
    assert document["properties"]["name"] == "together"
    cross = [(c["from"]["nodeId"], c["to"]["nodeId"]) for c in document["connections"] if c["data"] is None]
    assert cross[-1] == ("ingest/clean/priced", "report/total")


def test_the_runs_equal_the_parts_wired_by_hand(example: Path) -> None:
    write(example, "by_hand.yaml", """
        version: 1
        nodes:
          read:   {component: tpl_csv_read, config: {path: orders.csv, inferTypes: true}}
          paid:   {component: tpl_filter, config: {condition: equals, field: status, value: paid}}
          priced: {component: tpl_filter, config: {condition: not_empty, field: amount}}
          total:  {component: tpl_reduce, config: {operation: sum, field: amount}}
          line:   {component: tpl_text_format, config: {template: "paid orders total: ${value:.2f}"}}
          print:  {component: tpl_log}
        connections: [read.output -> paid.input, paid.output -> priced.input, priced.output -> total.input,
                      total.output -> line.input, line.output -> print.input]
        initial: [{to: read.trigger, data: {type: Flow}}]
        """)
    by_hand = reflow("run", "by_hand.yaml", "--quiet", cwd=example)
    composed = reflow("run", "pipeline.yaml", "--quiet", cwd=example)
    assert by_hand.returncode == composed.returncode == 0
    assert by_hand.stdout == composed.stdout == TOTAL


# -- problems point where they were written ----------------------------------------------------------------


def test_a_bad_connect_points_at_the_command_line(example: Path) -> None:
    result = reflow("compose", "ingest.yaml", "report.yaml", "--connect", "ingest.orders -> report/totl.input",
                    "--connect", "not a connection", cwd=example)
    assert result.returncode == 1
    assert "<command line>:1:18: error[E011]: --connect: connection ingest.orders -> report/totl.input: " in result.stderr
    assert "did you mean 'report/total'?" in result.stderr
    assert "<command line>:2:1: error[E002]: --connect 'not a connection'" in result.stderr
    assert "nothing written" in result.stderr and result.stdout == ""


def test_a_wrong_port_is_e012(example: Path) -> None:
    result = reflow("compose", "ingest.yaml", "report.yaml", "--connect", "ingest.order -> report/total.inputs", cwd=example)
    assert result.returncode == 1
    assert "<command line>:1:1: error[E012]: --connect: connection ingest.order -> report/total.inputs: graph 'ingest' " \
           "exports no outport 'order'" in result.stderr
    assert "<command line>:1:17: error[E012]: " in result.stderr and "has no inport 'inputs'" in result.stderr


def test_ports_of_nodes_inside_a_subgraph_are_checked(example: Path) -> None:
    # ingest/clean is a subgraph: its inner node ingest/clean/priced is a tpl_filter, ports known
    result = reflow("compose", "ingest.yaml", "report.yaml", "--connect",
                    "ingest/clean/priced.outptu -> report/total.input", cwd=example)
    assert result.returncode == 1
    assert "error[E012]" in result.stderr and "'ingest/clean/priced' (tpl_filter) has no outport 'outptu'" in result.stderr
    assert "did you mean 'output'?" in result.stderr and "nothing written" in result.stderr
    write(example, "inner.yaml", """
        version: 1
        graphs: [ingest.yaml, report.yaml]
        connections:
          - ingest/clean/priced.outptu -> report/total.input
        """)
    result = reflow("validate", "inner.yaml", cwd=example)
    assert result.returncode == 1
    assert "inner.yaml:4:5: error[E012]" in result.stdout and "has no outport 'outptu'" in result.stdout


def test_two_graphs_with_one_name_point_at_the_second_ones_name(example: Path) -> None:
    (example / "again.yaml").write_text((example / "report.yaml").read_text())
    result = reflow("compose", "report.yaml", "again.yaml", cwd=example)
    assert result.returncode == 1
    assert "again.yaml:3:1: error[E023]: report.yaml and again.yaml have the same namespace 'report'" in result.stderr


def test_problems_in_a_graph_file_point_into_it(example: Path) -> None:
    text = (example / "report.yaml").read_text().replace("total.output -> line.input", "total.output -> lne.input")
    (example / "report.yaml").write_text(text)
    result = reflow("run", "pipeline.yaml", cwd=example)
    assert result.returncode == 1
    assert "report.yaml:10:21: error[E011]: connection total.output -> lne.input names node 'lne'" in result.stderr


def test_manifest_problems_point_into_the_manifest(example: Path) -> None:
    write(example, "bad.yaml", """
        version: 1
        graphs:
          - ingest.yaml
          - {file: report.yaml, namespace: rep}
          - missing.yaml
        connections:
          - ingest.orders -> report.orders
          - {from: ingest.orders, to: rep.order}
        shared_resources:
          - {name: db, component: tpl_passthrough}
          - {name: db, component: tpl_log}
        colour: blue
        """)
    result = reflow("validate", "bad.yaml", cwd=example)
    assert result.returncode == 1
    found = [line.split(": error")[0] for line in result.stdout.splitlines() if ": error[" in line]
    assert found == ["bad.yaml:5:5", "bad.yaml:12:1"]  # the file that is missing; the unknown key
    assert "graph file 'missing.yaml' does not exist" in result.stdout
    assert "unknown key 'colour' in the compose manifest" in result.stdout

    (example / "bad.yaml").write_text((example / "bad.yaml").read_text().replace("  - missing.yaml\n", "").replace("colour: blue\n", ""))
    result = reflow("validate", "bad.yaml", cwd=example)
    codes = [line.split(": ", 2)[:2] for line in result.stdout.splitlines() if ": error[" in line]
    assert codes == [
        ["bad.yaml:6:22", "error[E011]"],  # 'report' is no namespace here: it is 'rep'
        ["bad.yaml:7:31", "error[E012]"],  # rep exports no inport 'order'
        ["bad.yaml:10:5", "error[E025]"],  # db twice, differently
    ], result.stdout


def test_dependencies_point_into_the_graph_file(example: Path) -> None:
    text = (example / "report.yaml").read_text().replace("nodes:", "properties: {dependencies: [ingst]}\nnodes:", 1)
    (example / "report.yaml").write_text(text)
    result = reflow("validate", "pipeline.yaml", cwd=example)
    assert result.returncode == 1
    assert "report.yaml:5:29: error[E024]: report.yaml depends on 'ingst'" in result.stdout
    assert "did you mean 'ingest'?" in result.stdout


def test_a_manifest_composing_itself_is_e018(example: Path) -> None:
    write(example, "self.yaml", "version: 1\ngraphs: [ingest.yaml, self.yaml]\n")
    result = reflow("validate", "self.yaml", cwd=example)
    assert result.returncode == 1
    assert "self.yaml:2:23: error[E018]: include cycle: self.yaml -> self.yaml" in result.stdout


def test_usage(example: Path) -> None:
    assert reflow("compose", cwd=example).returncode == 2
    assert reflow("compose", "missing.yaml", cwd=example).returncode == 2
    assert reflow("run", "ingest.yaml", "./ingest.yaml", cwd=example).returncode == 2  # one file twice


# -- the library behind it ------------------------------------------------------------------------------------


def test_compose_paths_is_the_library_call(example: Path) -> None:
    loaded = compose_paths([example / "ingest.yaml", example / "report.yaml"], connections=["ingest.orders -> report.orders"],
                           name="both", overrides=["report/line.template=total ${value}"])
    assert loaded.ok, loaded.diagnostics
    assert loaded.kind == "compose" and loaded.graph is not None
    assert loaded.graph.name == "both"
    assert loaded.spec["nodes"]["report/line"]["config"]["template"] == "total ${value}"  # type: ignore[index]
    bad = compose_paths([example / "ingest.yaml", example / "report.yaml"], overrides=["report/lin.template=x"])
    assert [(d.file, d.code) for d in bad.diagnostics] == [("<command line>", "E011")]
    single = compose_paths([example / "pipeline.yaml"])  # one manifest: as it is
    assert single.kind == "compose" and single.graph is not None and single.graph.name == "orders"
