"""Running one catalog component in a real Network and collecting what it sends."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from reflow_cli import Actor, Message, Network, PortSpec, RunStatus, template_actor
from reflow_cli.registry import default_registry


class Sink(Actor):
    """Records (port, message, seconds since start) for every packet, on any port."""

    component = "test_sink"
    inports = [PortSpec("*")]
    outports: list[str] = []

    def __init__(self) -> None:
        self.items: list[tuple[str, Message, float]] = []
        self.started = time.perf_counter()
        self._lock = threading.Lock()

    def run(self, ctx: Any) -> None:
        now = time.perf_counter() - self.started
        with self._lock:
            for port, message in ctx.inputs.items():
                self.items.append((port, message, now))
        ctx.done()


@dataclass
class Result:
    status: RunStatus
    outputs: dict[str, list[Message]]
    times: dict[str, list[float]]
    failures: list[dict[str, Any]] = field(default_factory=list)

    def data(self, port: str) -> list[Any]:
        """The data of every packet on ``port`` (None for Flow)."""
        return [m.get("data") for m in self.outputs.get(port, [])]

    def json(self) -> dict[str, list[dict[str, Any]]]:
        """Every output as tagged JSON, per port."""
        return {port: [m.as_json() for m in messages] for port, messages in self.outputs.items()}

    def one(self, port: str) -> Message:
        messages = self.outputs.get(port, [])
        assert len(messages) == 1, f"expected one packet on {port!r}, got {messages!r} (all: {self.json()})"
        return messages[0]


def outports_of(template: str) -> list[str]:
    spec = default_registry().lookup(template).spec
    assert spec is not None
    return [p.name for p in spec.outports if not p.is_pattern]


def run_component(
    template: str,
    config: dict[str, Any] | None = None,
    inputs: dict[str, list[Any]] | None = None,
    *,
    connect: list[str] | None = None,
    extra_ports: tuple[str, ...] = (),
    timeout: float = 10.0,
    on_error: str = "continue",
) -> Result:
    """Run ``template`` as node ``n`` with IIPs ``inputs`` ({port: [message, ...]}); collect every outport."""
    net = Network(on_error=on_error)
    sink = Sink()
    net.register_actor("test_sink", sink)
    net.add_node("n", template, config)
    net.add_node("sink", "test_sink")
    ports = list(connect if connect is not None else outports_of(template)) + list(extra_ports)
    for port in ports:
        net.add_connection("n", port, "sink", port)
    for port, messages in (inputs or {}).items():
        for message in messages:
            net.add_initial("n", port, message)
    events = net.events()
    sink.started = time.perf_counter()
    status = net.run(timeout=timeout)
    failures = []
    while True:
        event = events.recv(0)
        if event is None:
            break
        if event.get("_type") == "ActorFailed":
            failures.append(event)
    outputs: dict[str, list[Message]] = {}
    times: dict[str, list[float]] = {}
    for port, message, at in sink.items:
        outputs.setdefault(port, []).append(message)
        times.setdefault(port, []).append(at)
    return Result(status, outputs, times, failures)


def tagged(kind: str, data: Any = None) -> dict[str, Any]:
    return {"type": "Flow"} if kind == "Flow" else {"type": kind, "data": data}


__all__ = ["Result", "Sink", "outports_of", "run_component", "tagged", "template_actor"]
