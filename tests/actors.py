"""Small actors the tests share (real actors, run by the real engine)."""

from __future__ import annotations

import threading
from typing import Any

from reflow_cli import Actor, Message


class Collect(Actor):
    """Records the data of every packet it receives (thread-safe), in arrival order."""

    component = "collect"
    inports = ["in"]
    outports: list[str] = []

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    def run(self, ctx: Any) -> None:
        message = ctx.inputs["in"]
        with self._lock:
            self.messages.append(message)
            self.items.append(message.get("data"))
        ctx.done()


class Forward(Actor):
    """Passes its input through unchanged (the same Message object)."""

    component = "forward"
    inports = ["in"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        ctx.done({"out": ctx.inputs["in"]})


class AddOne(Actor):
    """Integer + 1."""

    component = "add_one"
    inports = ["in"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        ctx.done({"out": Message.integer(ctx.inputs["in"]["data"] + 1)})


class Counter(Actor):
    """Counts packets and sums Integer data."""

    component = "counter"
    inports = ["in"]
    outports: list[str] = []

    def __init__(self) -> None:
        self.count = 0
        self.total = 0

    def run(self, ctx: Any) -> None:
        self.count += 1
        data = ctx.inputs["in"].get("data")
        if isinstance(data, int):
            self.total += data
        ctx.done()
