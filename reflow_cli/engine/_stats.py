"""Statistics a user may inspect: per node, per inport and per edge (``net.stats()``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ._status import RunState

__all__ = ["EdgeStatistics", "InportStatistics", "NetworkStatistics", "NodeStatistics"]


@dataclass(frozen=True, slots=True)
class InportStatistics:
    """One inport: its queue and how it was used.

    ``blocked_s`` is the time producers spent waiting for room in this queue;
    ``starved_s`` the time its node waited for input while this queue was empty.
    """

    node: str
    port: str
    capacity: int
    queued: int
    received: int
    high_water: int
    blocked_s: float
    starved_s: float


@dataclass(frozen=True, slots=True)
class EdgeStatistics:
    """One connection: packets sent over it and time its sender spent blocked on it."""

    source: str
    target: str
    sent: int
    blocked_s: float
    waiting: bool


@dataclass(frozen=True, slots=True)
class NodeStatistics:
    """One node: its state (``running``, ``waiting``, ``blocked``, ``stopped``) and counters.

    ``ticks`` counts ticks started; each ends done, ``skipped`` or
    ``dead_lettered`` (or stops the run under ``fail``), so
    ``ok = ticks - skipped - dead_lettered`` for a run that did not fail.
    ``failures`` counts failed attempts (retries included: ``retries``).
    """

    node: str
    component: str
    state: str
    ticks: int
    failures: int
    received: int
    sent: int
    starved_s: float
    blocked_s: float
    skipped: int = 0
    dead_lettered: int = 0
    retries: int = 0

    @property
    def ok(self) -> int:
        """Ticks that ended with ``done``."""
        return self.ticks - self.skipped - self.dead_lettered


@dataclass(frozen=True, slots=True)
class NetworkStatistics:
    """A snapshot of a run, keyed by node id, ``node.port`` and ``a.out -> b.in``."""

    state: RunState
    elapsed_s: float
    nodes: dict[str, NodeStatistics]
    inports: dict[str, InportStatistics]
    edges: dict[str, EdgeStatistics]
    failures: int
    undelivered: int
    dead_letter_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (for traces, metrics and ``reflow run`` summaries)."""
        return {
            "state": self.state.value,
            "elapsed_s": self.elapsed_s,
            "failures": self.failures,
            "undelivered": self.undelivered,
            "dead_letter_file": self.dead_letter_file,
            "nodes": {k: asdict(v) for k, v in self.nodes.items()},
            "inports": {k: asdict(v) for k, v in self.inports.items()},
            "edges": {k: asdict(v) for k, v in self.edges.items()},
        }

    def __getitem__(self, key: str) -> Any:
        # dict-style access keeps ``stats["nodes"]`` working for callers that expect a dict
        return self.to_dict()[key]
