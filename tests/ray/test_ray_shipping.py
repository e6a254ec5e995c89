"""What ships to a Ray cluster's workers when the Ray executor joins one by address (``py_modules``).

The unit tests look at what :func:`shipped_folders` finds in this process
(loaded packs, ``python:`` modules next to a spec) and at the runtime_env built
from it. The last test joins a real cluster (a Ray instance another process
started) with ``reflow run --address``: the workers there import a spec's
sibling module and a pack's submodule only because they were shipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from reflow_cli.packs import build_pack, install_pack, load_pack
from reflow_cli.spec import load_pipeline

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.ray

# after importorskip: these need ray
from reflow_cli.engine._ray_host import add_shipped_folders
from reflow_cli.engine._ray_run import SHIP_PREFIX, cluster_runtime_env, shipped_folders

from ..packs._helpers import EXE, write_pack_source


def write_spec_folder(folder: Path, module: str) -> Path:
    """A spec using ``python:<module>:Shout``, whose tick imports a sibling module lazily; and a data folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(textwrap.dedent(f"""
        from reflow_cli import Actor, Message


        class Shout(Actor):
            inports = ["input"]
            outports = ["output"]

            def run(self, ctx):
                import {module}_helper  # imported where the node runs, at its first packet

                ctx.done({{"output": Message.string({module}_helper.loud(ctx.inputs["input"]["data"]))}})
        """), encoding="utf-8")
    (folder / f"{module}_helper.py").write_text("def loud(text):\n    return text.upper() + '!'\n", encoding="utf-8")
    (folder / f"{module}_pkg").mkdir()
    (folder / f"{module}_pkg" / "__init__.py").write_text("", encoding="utf-8")
    (folder / "data").mkdir()
    (folder / "data" / "big.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (folder / "pipeline.yaml").write_text(textwrap.dedent(f"""
        version: 1
        name: shout
        nodes:
          shout: {{component: "python:{module}:Shout"}}
          print: {{component: tpl_log}}
        connections:
          - shout.output -> print.input
        initial:
          - {{to: shout.input, data: {{type: String, data: "hello"}}}}
        """), encoding="utf-8")
    return folder / "pipeline.yaml"


def by_folder(folder: Path) -> dict[str, list[str]]:
    return {str(s.folder): sorted(e.name for e in s.entries) for s in shipped_folders() if s.folder == folder}


def test_a_specs_python_modules_ship_but_not_its_data(tmp_path: Path) -> None:
    module = f"shout_{uuid.uuid4().hex[:8]}"
    spec = write_spec_folder(tmp_path / "spec", module)
    assert load_pipeline(spec).ok
    folder = spec.parent.resolve()
    assert by_folder(folder) == {str(folder): [f"{module}.py", f"{module}_helper.py", f"{module}_pkg"]}


def test_a_loaded_packs_code_and_site_folders_ship_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFLOW_PACK_PATH", str(tmp_path / "installed"))
    monkeypatch.setenv("REFLOW_PACK_CACHE", str(tmp_path / "cache"))
    tag = uuid.uuid4().hex[:8]
    source = write_pack_source(tmp_path / "src", name=f"reflow.pack.ship{tag}", module=f"reflow_pack_ship{tag}",
                               templates=(f"tpl_ship{tag}",))
    installed = Path(install_pack(build_pack(source, tmp_path / "dist"))["path"])
    (installed / "site").mkdir()  # what `reflow pack install` vendors there: a private dependency
    (installed / "site" / f"vendored{tag}.py").write_text("VALUE = 1\n", encoding="utf-8")
    load_pack(installed)
    code, site = (installed / "code").resolve(), (installed / "site").resolve()
    assert by_folder(code) == {str(code): [f"reflow_pack_ship{tag}"]}
    assert by_folder(site) == {str(site): [f"vendored{tag}.py"]}


def test_the_runtime_env_stages_each_folder_under_its_own_name(tmp_path: Path) -> None:
    module = f"shout_{uuid.uuid4().hex[:8]}"
    spec = write_spec_folder(tmp_path / "spec", module)
    assert load_pipeline(spec).ok
    folders = [s for s in shipped_folders() if s.folder == spec.parent.resolve()]
    env = cluster_runtime_env(folders, tmp_path / "staging", {"py_modules": ["gcs://already.zip"], "pip": ["x"]})
    assert env["pip"] == ["x"]
    assert env["py_modules"][0] == "gcs://already.zip"
    staged = Path(env["py_modules"][1])
    assert staged.name.startswith(SHIP_PREFIX)
    assert sorted(p.name for p in staged.iterdir()) == [f"{module}.py", f"{module}_helper.py", f"{module}_pkg"]
    assert (staged / f"{module}_helper.py").read_text().startswith("def loud")


def test_a_host_puts_the_shipped_folders_on_its_path(tmp_path: Path) -> None:
    unpacked = tmp_path / "_ray_pkg_1234"
    (unpacked / f"{SHIP_PREFIX}spec_abc").mkdir(parents=True)
    path = [str(unpacked), str(tmp_path / "elsewhere")]
    added = add_shipped_folders([f"{SHIP_PREFIX}spec_abc", f"{SHIP_PREFIX}missing"], path)
    assert added == [str(unpacked / f"{SHIP_PREFIX}spec_abc")]
    assert path[-1] == added[0]


HEAD = """
import sys
import ray

context = ray.init(num_cpus=1, include_dashboard=False)
print(context.address_info["gcs_address"], flush=True)
sys.stdin.read()  # until the test is done with it
ray.shutdown()
"""


@pytest.mark.skipif(sys.platform == "win32", reason="one cluster per test run is enough on POSIX")
def test_reflow_run_with_an_address_ships_spec_modules_and_packs(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    module = f"shout_{tag}"
    spec = write_spec_folder(tmp_path / "spec", module)
    pack = f"reflow_pack_e2e{tag}"
    write_pack_source(tmp_path / "spec" / "pack", name=f"reflow.pack.e2e{tag}", module=pack,
                      templates=(f"tpl_e2e{tag}",), body=f"""
        class Lazy(Hello):
            def run(self, ctx):
                from {pack} import extra  # a submodule: only the shipped package has it

                ctx.done({{"output": Message.string(extra.WORD + " " + ctx.inputs["input"]["data"])}})

        def register(registrar):
            registrar.register(TEMPLATES[0], Lazy)
        """)
    (tmp_path / "spec" / "pack" / pack / "extra.py").write_text("WORD = 'shipped'\n", encoding="utf-8")
    spec.write_text(textwrap.dedent(f"""
        version: 1
        name: shout
        imports:
          - pack: ./pack
        nodes:
          shout: {{component: "python:{module}:Shout"}}
          greet: {{component: tpl_e2e{tag}}}
          print: {{component: tpl_log}}
        connections:
          - shout.output -> greet.input
          - greet.output -> print.input
        initial:
          - {{to: shout.input, data: {{type: String, data: "hello"}}}}
        """), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"  # the run's folder: the workers' own path has the driver's folder
    elsewhere.mkdir()
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    head = subprocess.Popen([sys.executable, "-c", HEAD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)
    assert head.stdin is not None and head.stdout is not None
    try:
        address = head.stdout.readline().strip()
        assert address, "the Ray head did not start"
        run = subprocess.run(
            [EXE, "run", str(spec), "--executor", "ray", "--address", address, "--workdir", str(elsewhere), "-q"],
            capture_output=True, text=True, timeout=240, env=env, check=False,
        )
    finally:
        head.stdin.close()
        head.wait(timeout=120)
        head.stdout.close()
    assert run.returncode == 0, run.stderr
    assert run.stdout == "shipped HELLO!\n"
