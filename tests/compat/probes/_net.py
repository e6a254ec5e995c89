"""Helpers for probes that run a real reference network (imports offbit_reflow).

Every network stays far below the reference's freeze thresholds (52 ``ctx.send``
per tick toward a Python actor, 51 IIPs per port): at most ~30 packets.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Iterable

from _harness import encode
from offbit_reflow import Actor, Message, Network

__all__ = ["Actor", "Message", "Network", "Recorder", "make_actor", "run_network", "wait_until"]


class Recorder:
    """A thread-safe list of observations (appended from the runtime's worker threads)."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._lock = threading.Lock()

    def add(self, item: Any) -> None:
        with self._lock:
            self.items.append(item)

    def __len__(self) -> int:
        with self._lock:
            return len(self.items)

    def snapshot(self) -> list[Any]:
        with self._lock:
            return list(self.items)


def make_actor(
    run: Callable[[Any], None],
    inports: Iterable[str] = ("in",),
    outports: Iterable[str] = ("out",),
    await_all: bool = False,
    component: str = "probe",
) -> Actor:
    """An ``Actor`` instance whose ``run(ctx)`` is ``run``."""
    klass = type(
        "ProbeActor",
        (Actor,),
        {
            "component": component,
            "inports": list(inports),
            "outports": list(outports),
            "await_all_inports": await_all,
            "run": lambda self, ctx: run(ctx),
        },
    )
    return klass()


def sink_actor(recorder: Recorder, inports: Iterable[str] = ("in",)) -> Actor:
    """A sink that records ``(port, encoded message JSON)`` for every packet."""

    def run(ctx: Any) -> None:
        for port, message in ctx.inputs.items():
            recorder.add((port, encode(message)))
        ctx.done()

    return make_actor(run, inports=inports, outports=(), component="sink")


def wait_until(condition: Callable[[], bool], max_wait: float = 3.0) -> bool:
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def run_network(
    actors: dict[str, Actor],
    nodes: list[tuple[Any, ...]],
    connections: list[tuple[str, str, str, str]] = (),  # type: ignore[assignment]
    iips: list[tuple[str, str, Any]] = (),  # type: ignore[assignment]
    until: Callable[[], bool] | None = None,
    settle: float = 0.3,
    max_wait: float = 3.0,
    before_start: Callable[[Network], None] | None = None,
) -> dict[str, Any]:
    """Build, start, wait for ``until`` (then ``settle`` more seconds), shut down.

    Returns ``{"all_expected_arrived": bool or None}`` (None without ``until``).
    """
    net = Network()
    for template, actor in actors.items():
        net.register_actor(template, actor)
    for node in nodes:
        net.add_node(*node)
    for connection in connections:
        net.add_connection(*connection)
    for node, port, message in iips:
        net.add_initial(node, port, message)
    if before_start is not None:
        before_start(net)
    net.start()
    reached = wait_until(until, max_wait) if until is not None else None
    time.sleep(settle)
    net.shutdown()
    time.sleep(0.05)
    return {"all_expected_arrived": reached}


def by_port(items: list[tuple[str, Any]]) -> dict[str, list[Any]]:
    """Group ``(port, value)`` pairs per port, keeping arrival order within a port."""
    out: dict[str, list[Any]] = {}
    for port, value in items:
        out.setdefault(port, []).append(value)
    return out
