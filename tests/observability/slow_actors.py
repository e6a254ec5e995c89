"""Actors that make a pipeline stall on purpose: a fast source in front of a slow sink.

Tests import them, and copy this file beside specs that name ``python:slow_actors:...``.
"""

from __future__ import annotations

from typing import Any

import trio

from reflow_cli import Actor, Message, PortSpec


class Flood(Actor):
    """On its trigger, sends ``count`` integers (0 = until stopped) as fast as the target takes them."""

    component = "flood"
    inports = [PortSpec("trigger", "Any", "starts the flood")]
    outports = [PortSpec("out", "Integer", "0, 1, 2, ...")]
    config_schema = {"type": "object", "properties": {"count": {"type": "integer", "minimum": 0, "default": 100}}}
    long_running = True  # an endless flood stops at shutdown

    # async: the engine cancels a long-running tick at shutdown only when it is an async
    # (or threaded) one; a sync tick looping on ctx.send runs until the grace period ends
    async def run(self, ctx: Any) -> None:
        count = ctx.config["count"]
        i = 0
        while count == 0 or i < count:
            await ctx.send_async({"out": Message.integer(i)})  # waits while the sink is full
            i += 1
        ctx.done()


class SlowSink(Actor):
    """Takes ``delay`` seconds per packet (an await: the rest of the run goes on meanwhile)."""

    component = "slow_sink"
    inports = [PortSpec("in", "Any", "anything")]
    outports: list[PortSpec] = []
    config_schema = {"type": "object", "properties": {"delay": {"type": "number", "minimum": 0, "default": 0.01}}}

    async def run(self, ctx: Any) -> None:
        await trio.sleep(ctx.config["delay"])
        ctx.done()


class FailOnOdd(Actor):
    """Forwards even integers; fails on odd ones."""

    component = "fail_on_odd"
    inports = [PortSpec("in", "Integer", "a number")]
    outports = [PortSpec("out", "Integer", "the even ones")]

    def run(self, ctx: Any) -> None:
        value = ctx.inputs["in"]["data"]
        if value % 2:
            raise ValueError(f"odd: {value}")
        ctx.done({"out": ctx.inputs["in"]})


STALLED_SPEC = """\
version: 1
name: stalled
description: A flood into a slow sink through a 4-slot queue; the flood spends its time blocked.
nodes:
  flood: {component: "python:slow_actors:Flood", config: {count: COUNT}}
  sink: {component: "python:slow_actors:SlowSink", config: {delay: DELAY}}
connections:
  - {from: flood.out, to: sink.in, capacity: 4}
initial:
  - {to: flood.trigger, data: {type: Flow}}
"""


def stalled_spec(folder: Any, *, count: int = 60, delay: float = 0.01) -> Any:
    """Write the stalled pipeline (and this module beside it) into ``folder``; return the spec's path."""
    import shutil
    from pathlib import Path

    folder = Path(folder)
    shutil.copy(Path(__file__), folder / "slow_actors.py")
    spec = folder / "stalled.yaml"
    spec.write_text(STALLED_SPEC.replace("COUNT", str(count)).replace("DELAY", str(delay)), encoding="utf-8")
    return spec


def stalled_network(*, count: int = 60, delay: float = 0.01) -> Any:
    """The same pipeline built with the SDK (not started)."""
    from reflow_cli import Network

    net = Network(on_error="fail")
    net.register_actor("flood", Flood)
    net.register_actor("slow_sink", SlowSink)
    net.add_node("flood", "flood", {"count": count})
    net.add_node("sink", "slow_sink", {"delay": delay})
    net.add_connection("flood", "out", "sink", "in", capacity=4)
    net.add_initial("flood", "trigger", Message.flow())
    return net
