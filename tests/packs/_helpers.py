"""Helpers for the pack tests: running one component in a real Network, building tiny pack sources and bundles."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reflow_cli import (
    Actor,
    Message,
    Network,
    PortSpec,
    RunStatus,
    inspect_pack,
    list_packs,
    load_pack,
)
from reflow_cli.errors import PackError
from reflow_cli.packs import install_pack, installed_packs
from reflow_cli.registry import default_registry

ROOT = Path(__file__).resolve().parents[2]
EXE = shutil.which("reflow") or str(Path(sys.executable).with_name("reflow"))


def reflow(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real ``reflow`` command."""
    return subprocess.run([EXE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


class Sink(Actor):
    """Records every packet, on any port."""

    component = "test_sink"
    inports = [PortSpec("*")]
    outports: list[str] = []

    def __init__(self) -> None:
        self.items: list[tuple[str, Message]] = []

    def run(self, ctx: Any) -> None:
        for port, message in ctx.inputs.items():
            self.items.append((port, message))


@dataclass
class Result:
    status: RunStatus
    outputs: dict[str, list[Message]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def json(self) -> dict[str, list[dict[str, Any]]]:
        return {port: [m.as_json() for m in messages] for port, messages in self.outputs.items()}

    def one(self, port: str) -> Message:
        messages = self.outputs.get(port, [])
        assert len(messages) == 1, f"expected one packet on {port!r}, got {self.json()}"
        return messages[0]


def run_component(template: str, config: dict[str, Any] | None, inputs: dict[str, list[Any]],
                  timeout: float = 60) -> Result:
    """Run ``template`` as node ``n`` with IIPs; collect every declared outport."""
    spec = default_registry().lookup(template).spec
    assert spec is not None
    net = Network(on_error="continue")
    sink = Sink()
    net.register_actor("test_sink", sink)
    net.add_node("n", template, config)
    net.add_node("sink", "test_sink")
    for port in spec.outports:
        net.add_connection("n", port.name, "sink", port.name)
    for port, messages in inputs.items():
        for message in messages:
            net.add_initial("n", port, message)
    events = net.events()
    status = net.run(timeout=timeout)
    failures = []
    while (event := events.recv(0)) is not None:
        if event.get("_type") == "ActorFailed":
            failures.append(str(event.get("error")))
    result = Result(status, failures=failures)
    for port, message in sink.items:
        result.outputs.setdefault(port, []).append(message)
    return result


def write_pack_source(folder: Path, name: str = "reflow.pack.hello", version: str = "0.1.0", *,
                      module: str = "reflow_pack_hello", templates: tuple[str, ...] = ("tpl_hello",),
                      requires: tuple[str, ...] = (), body: str = "", extra_yaml: str = "") -> Path:
    """A tiny pack source folder: each template greets the String it gets (``hello <name>``)."""
    (folder / module).mkdir(parents=True, exist_ok=True)
    lines = [f"name: {name}", f"version: {version}", "description: Says hello.", f"entrypoint: {module}:register",
             "license: MIT"]
    if requires:
        lines.append("requires: " + json.dumps(list(requires)))
    (folder / "pack.yaml").write_text("\n".join(lines) + "\n" + extra_yaml, encoding="utf-8")
    code = textwrap.dedent(f'''
        from reflow_cli import Actor, Message, PortSpec

        class Hello(Actor):
            """Greets."""
            component = "hello"
            inports = [PortSpec("input", "String", "a name")]
            outports = [PortSpec("output", "String", "a greeting")]
            config_schema = {{"type": "object", "properties": {{"greeting": {{"type": "string", "default": "hello"}}}},
                             "additionalProperties": False}}

            def run(self, ctx):
                ctx.done({{"output": Message.string(ctx.config["greeting"] + " " + ctx.inputs["input"]["data"])}})

        TEMPLATES = {list(templates)!r}

        def register(registrar):
            for template_id in TEMPLATES:
                registrar.register(template_id, Hello)
        ''') + textwrap.dedent(body)
    (folder / module / "__init__.py").write_text(code, encoding="utf-8")
    return folder


CODE = b"from reflow_cli import Actor\n\ndef register(registrar):\n    pass\n"


def manifest_for(members: dict[str, bytes], **changes: Any) -> dict[str, Any]:
    """A probe pack's manifest listing ``members`` with their true sizes and hashes; ``None`` drops a field."""
    manifest: dict[str, Any] = {
        "manifest_version": 1,
        "name": "reflow.pack.probe",
        "version": "0.1.0",
        "reflow_pack_abi_version": 1,
        "targets": {"any": {}},
        "templates": [],
        "entrypoint": "reflow_pack_probe:register",
        "files": {name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()} for name, data in members.items()},
    }
    manifest.update(changes)
    return {key: value for key, value in manifest.items() if value is not None}


def make_bundle(path: Path, members: dict[str, bytes] | None = None, manifest: dict[str, Any] | bytes | None = None,
                extra: list[tuple[zipfile.ZipInfo | str, bytes]] = ()) -> Path:
    """A real zip bundle: ``manifest.json`` (default: listing ``members`` truly), ``members``, then ``extra`` unlisted."""
    members = {"code/reflow_pack_probe/__init__.py": CODE} if members is None else members
    if manifest is None:
        manifest = manifest_for(members)
    raw = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", raw)
        for name, data in members.items():
            archive.writestr(name, data)
        for info, data in extra:
            archive.writestr(info, data)
    return path


def refused(path: Path, error: type[PackError], match: str, *, inspect: bool = True) -> None:
    """Inspect (unless ``inspect`` is false), load and install all refuse; nothing is installed or loaded."""
    before_installed, before_loaded = installed_packs(), list_packs()
    for action in (inspect_pack, install_pack, load_pack) if inspect else (install_pack, load_pack):
        with pytest.raises(error, match=match):
            action(path)
    assert installed_packs() == before_installed
    assert list_packs() == before_loaded
    for base in (Path(p) for p in os.environ["REFLOW_PACK_PATH"].split(os.pathsep)):
        assert not base.exists() or not [p for p in base.iterdir() if p.name.startswith(".")]
