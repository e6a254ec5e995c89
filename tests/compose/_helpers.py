"""Graph exports and actors the composition tests share."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from reflow_cli import Actor, Graph, Message

ROOT = Path(__file__).resolve().parents[2]


def export(
    name: str,
    nodes: list[tuple[str, str]],
    connections: list[tuple[str, str, str, str]] = (),  # type: ignore[assignment]
    iips: list[tuple[str, str, Any]] = (),  # type: ignore[assignment]
    inports: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
    outports: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
    properties: dict[str, Any] | None = None,
    case_sensitive: bool = False,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Graph JSON export made through the Graph API (as the reference's probe made them)."""
    g = Graph(name, case_sensitive)
    for node, component in nodes:
        g.add_node(node, component, (metadata or {}).get(node))
    for connection in connections:
        g.add_connection(*connection)
    for node, port, data in iips:
        g.add_initial(node, port, data)
    for port, node, key in inports:
        g.add_inport(port, node, key)
    for port, node, key in outports:
        g.add_outport(port, node, key)
    if properties:
        g.set_properties({"name": name, **properties})
    return g.to_json()


class Times(Actor):
    """Integer times ``config['by']`` (default 3)."""

    component = "times"
    inports = ["in"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        ctx.done({"out": Message.integer(ctx.inputs["in"]["data"] * ctx.config.get("by", 3))})


class Emit(Actor):
    """Sends each item of the Array it receives as its own Integer packet."""

    component = "emit"
    inports = ["in"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        for item in ctx.inputs["in"]["data"]:
            ctx.send({"out": Message.integer(item)})


class Sink(Actor):
    """Records the data it receives (thread-safe)."""

    component = "sink"
    inports = ["in"]
    outports: list[str] = []

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._lock = threading.Lock()

    def run(self, ctx: Any) -> None:
        with self._lock:
            self.items.append(ctx.inputs["in"]["data"])


class Boom(Actor):
    """Fails on every tick whose Integer is odd; passes even ones on."""

    component = "boom"
    inports = ["in"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        value = ctx.inputs["in"]["data"]
        if value % 2:
            raise ValueError(f"odd: {value}")
        ctx.done({"out": Message.integer(value)})


def reflow(*args: str, cwd: Path = ROOT, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the real ``reflow`` command."""
    exe = shutil.which("reflow") or str(Path(sys.executable).with_name("reflow"))
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
