"""Inports (bounded FIFOs owned by a node) and edges (producer → inport)."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from ..native import make_queue

if TYPE_CHECKING:  # pragma: no cover
    from ._node import NodeRuntime

__all__ = ["DEFAULT_CAPACITY", "Edge", "Inport"]

#: Capacity of an inport when no connection sets one.
DEFAULT_CAPACITY = 64


class Inport:
    """One inport of a running node: a bounded FIFO with many producers and one consumer.

    Producers that find it full park in ``space_waiters``; the consumer wakes
    them once the queue has drained to ``low_water`` (half the capacity), so
    both sides work in large batches.
    """

    __slots__ = (
        "node",
        "name",
        "label",
        "capacity",
        "low_water",
        "queue",
        "try_push",
        "push_many",
        "pop_many",
        "space_waiters",
        "edges",
        "received",
        "high_water",
        "blocked_s",
        "starved_s",
        "backlog",
        "has_iip",
    )

    def __init__(self, node: NodeRuntime, name: str, capacity: int) -> None:
        self.node = node
        self.name = name
        self.label = f"{node.id}.{name}"
        self.capacity = capacity
        self.low_water = capacity // 2
        self.queue = make_queue(capacity)
        # bound methods: the hot path calls these without attribute lookups
        self.try_push = self.queue.try_push
        self.push_many = self.queue.push_many
        self.pop_many = self.queue.pop_many
        self.space_waiters: deque[NodeRuntime] = deque()
        self.edges: list[Edge] = []
        self.received = 0  # packets taken by the consumer
        self.high_water = 0  # longest the queue has been
        self.blocked_s = 0.0  # seconds producers spent waiting for room here
        self.starved_s = 0.0  # seconds the node waited for input while this queue was empty
        self.backlog: Any = None  # IIPs that did not fit yet (a deque), fed by a feeder task
        self.has_iip = False

    def __len__(self) -> int:
        return len(self.queue)

    def note_pop(self, length_before: int, taken: int) -> None:
        """Account for a pop of ``taken`` items from a queue that held ``length_before``.

        Only the consumer shrinks the queue, so its longest length between two
        pops is the length just before the second pop: recording it here gives
        an exact high-water mark without touching the push path.
        """
        self.received += taken
        if length_before > self.high_water:
            self.high_water = length_before

    def __repr__(self) -> str:
        return f"<Inport {self.label} {len(self.queue)}/{self.capacity}>"


class Edge:
    """A connection from a producer's outport into an :class:`Inport`."""

    __slots__ = ("src_node", "src_port", "inport", "label", "sent", "blocked_s", "waiting")

    def __init__(self, src_node: str, src_port: str, inport: Inport) -> None:
        self.src_node = src_node
        self.src_port = src_port
        self.inport = inport
        self.label = f"{src_node}.{src_port} -> {inport.label}"
        self.sent = 0
        self.blocked_s = 0.0
        self.waiting = False  # a sender is parked on this edge right now

    def __repr__(self) -> str:
        return f"<Edge {self.label}>"
