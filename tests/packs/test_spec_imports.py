"""Specs load packs with `imports: [{pack: NAME|PATH}]`; validation reads templates from manifests, not code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reflow_cli.packs import build_pack, install_pack, remove_pack
from reflow_cli.spec import load_pipeline, validate_paths

from ._helpers import ROOT, reflow, write_pack_source


def spec_file(folder: Path, imports: str, nodes: str = "h: {component: tpl_imp, config: {greeting: hey}}",
              extra: str = "") -> Path:
    path = folder / "pipeline.yaml"
    lines = ["version: 1", "imports:", *("  " + line for line in imports.splitlines()), "nodes:", f"  {nodes}",
             "initial:", "  - {to: h.input, data: ada}", "outports:", "  greeting: h.output"]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def imp_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("imp")
    return build_pack(write_pack_source(folder / "src", name="reflow.pack.imp", module="reflow_pack_imp",
                                        templates=("tpl_imp",)), folder / "dist")


def test_a_spec_importing_a_bundle_validates_without_loading_it(tmp_path: Path, imp_bundle: Path) -> None:
    path = spec_file(tmp_path, f"- pack: {os.path.relpath(imp_bundle, tmp_path)}")
    assert validate_paths([path]) == []
    assert "reflow_pack_imp" not in sys.modules


def test_the_manifest_checks_ports_and_configs(tmp_path: Path, imp_bundle: Path) -> None:
    path = spec_file(tmp_path, f"- pack: {imp_bundle}", nodes="h: {component: tpl_imp, config: {greeting: 5}}",
                     extra="connections:\n  - h.nope -> h.input\n")
    found = sorted((d.code, d.line) for d in validate_paths([path]))
    assert ("E015", 5) in found  # greeting must be a string (the manifest's config schema)
    assert ("E012", 11) in found  # tpl_imp has no outport 'nope' (the manifest's ports)


def test_an_unknown_pack_is_an_error_at_its_import(tmp_path: Path) -> None:
    path = spec_file(tmp_path, "- pack: reflow.pack.nowhere")
    diagnostics = validate_paths([path])
    first = diagnostics[0]
    assert (first.code, first.line, first.pointer) == ("E010", 3, "/imports/0/pack")
    assert "pack 'reflow.pack.nowhere' cannot be used: read pack 'reflow.pack.nowhere': no pack named" in first.message
    assert any(d.code == "E010" and "unknown component 'tpl_imp'" in d.message for d in diagnostics)


def test_two_imports_offering_one_template_are_an_error(tmp_path: Path, imp_bundle: Path) -> None:
    twin = build_pack(write_pack_source(tmp_path / "src", name="reflow.pack.imptwin", module="reflow_pack_imptwin",
                                        templates=("tpl_imp",)), tmp_path)
    path = spec_file(tmp_path, f"- pack: {imp_bundle}\n- pack: {twin}")
    (diagnostic,) = [d for d in validate_paths([path]) if d.severity == "error"]
    assert diagnostic.message == "template 'tpl_imp' is provided by both pack 'reflow.pack.imp' and pack 'reflow.pack.imptwin'"
    assert diagnostic.line == 4


def test_an_installed_pack_by_name_validates_and_runs(tmp_path: Path) -> None:
    bundle = build_pack(write_pack_source(tmp_path / "src", name="reflow.pack.named", module="reflow_pack_named",
                                          templates=("tpl_imp_named",)), tmp_path)
    install_pack(bundle)
    try:
        path = spec_file(tmp_path, "- pack: reflow.pack.named", nodes="h: {component: tpl_imp_named}")
        assert validate_paths([path]) == []
        result = reflow("run", str(path))
        assert result.returncode == 0, result.stderr
        assert "outport greeting: hello ada" in result.stderr
    finally:
        remove_pack("reflow.pack.named")


def test_load_pipeline_loads_the_packs_it_imports(tmp_path: Path, imp_bundle: Path) -> None:
    path = spec_file(tmp_path, f"- pack: {imp_bundle}")
    loaded = load_pipeline(path)
    assert loaded.ok and loaded.graph is not None
    assert loaded.spec is not None and loaded.spec["imports"] == [{"pack": str(imp_bundle)}]
    from reflow_cli import list_packs

    assert "reflow.pack.imp" in [p["name"] for p in list_packs()]


def test_graph_json_keeps_the_imports(tmp_path: Path, imp_bundle: Path) -> None:
    path = spec_file(tmp_path, f"- pack: {imp_bundle}")
    exported = reflow("convert", str(path), "-o", str(tmp_path / "graph.json"))
    assert exported.returncode == 0, exported.stderr
    graph = json.loads((tmp_path / "graph.json").read_text())
    assert graph["properties"]["imports"] == [{"pack": str(imp_bundle)}]
    back = reflow("convert", str(tmp_path / "graph.json"), "--to", "yaml")
    assert back.returncode == 0, back.stderr
    assert f'imports:\n  - {{pack: "{imp_bundle}"}}' in back.stdout or f"pack: {imp_bundle}" in back.stdout
    assert validate_paths([tmp_path / "graph.json"]) == []


def test_a_spec_using_the_ml_pack_validates_where_onnxruntime_and_numpy_are_absent(tmp_path: Path) -> None:
    bundle = build_pack(ROOT / "packs" / "ml", tmp_path)
    spec = tmp_path / "classify.yaml"
    spec.write_text(textwrap.dedent(f"""\
        version: 1
        imports:
          - pack: {bundle.name}
        nodes:
          infer: {{component: tpl_ml_run_inference, config: {{model: model.onnx, threads: 1}}}}
          best: {{component: tpl_ml_top_k, config: {{k: 3, labels: [a, b, c]}}}}
        connections:
          - infer.output -> best.input
        inports:
          tensor: infer.input
        outports:
          best: best.output
        """), encoding="utf-8")
    probe = textwrap.dedent(f"""
        import sys
        sys.modules["onnxruntime"] = None   # import onnxruntime -> ImportError
        sys.modules["numpy"] = None
        from reflow_cli.spec import validate_paths
        diagnostics = validate_paths([{str(spec)!r}])
        print([d.text() for d in diagnostics])
        assert "reflow_pack_ml" not in sys.modules, "the pack's code was imported"
        bad = validate_paths([{str(spec)!r}])
        """)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    # and a config the manifest's schema refuses is reported the same way
    spec.write_text(spec.read_text().replace("k: 3", "k: 0"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert "error[E015]" in done.stdout and "config.k" in done.stdout, done.stdout + done.stderr


def test_a_source_folder_import_under_no_import_leaves_its_templates_unchecked(tmp_path: Path) -> None:
    write_pack_source(tmp_path / "src", name="reflow.pack.srcimp", module="reflow_pack_srcimp", templates=("tpl_srcimp",))
    path = spec_file(tmp_path, "- pack: ./src", nodes="h: {component: tpl_srcimp}")
    assert validate_paths([path], allow_import=False) == []
    assert "reflow_pack_srcimp" not in sys.modules  # no pack code ran
    assert validate_paths([path]) == []  # with imports: its entrypoint lists the templates
    bad = spec_file(tmp_path, "- pack: ./src", nodes="h: {component: tpl_srcimp, config: {nope: 1}}")
    assert [d.code for d in validate_paths([bad])] == ["E015"]
