"""How a run ended (or where it stands): :class:`RunState` and :class:`RunStatus`."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FailureRecord", "RunState", "RunStatus"]


class RunState(enum.Enum):
    """The state a :class:`RunStatus` reports."""

    #: Still running (only seen from ``stats()``; ``wait()`` never returns it).
    RUNNING = "running"
    #: Nothing runs or can run, every inport is empty, no IIP waits, no stream is open.
    COMPLETE = "complete"
    #: Nothing can run but packets wait (an await-all port that cannot fill, senders blocked in a cycle).
    STALLED = "stalled"
    #: ``wait(timeout)`` ran out of time; the network is still running.
    TIMEOUT = "timeout"
    #: A node failed under the ``fail`` error policy.
    FAILED = "failed"
    #: The run was shut down or interrupted before it completed.
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class FailureRecord:
    """One failed tick: the node, its component, the error text and the inputs it had."""

    node: str
    component: str
    error: str
    inputs: dict[str, Any]
    timestamp: int

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "node": self.node,
            "component": self.component,
            "error": self.error,
            "inputs": self.inputs,
            "timestamp": self.timestamp,
        }

    def letter(self) -> dict[str, Any]:
        """The dead letter for this failure: ``{error, node, component, message, timestamp}``.

        ``message`` holds the failed tick's inputs as ``{port: tagged JSON}``,
        as in the ``ActorFailed`` event, so the packet can be replayed.
        """
        return {
            "error": self.error,
            "node": self.node,
            "component": self.component,
            "message": self.inputs,
            "timestamp": self.timestamp,
        }


@dataclass(frozen=True, slots=True)
class RunStatus:
    """What ``Network.wait()`` returns. Truthy only when the run is COMPLETE.

    Compares equal to its :class:`RunState` (``status == RunStatus.COMPLETE``).
    A STALLED status names the ``ports`` where packets wait and the ``edges``
    whose senders are blocked; a FAILED status carries the ``failure``.
    """

    state: RunState
    ports: tuple[str, ...] = ()
    edges: tuple[str, ...] = ()
    failure: FailureRecord | None = None
    elapsed_s: float = 0.0
    detail: str = field(default="", compare=False)

    RUNNING = RunState.RUNNING
    COMPLETE = RunState.COMPLETE
    STALLED = RunState.STALLED
    TIMEOUT = RunState.TIMEOUT
    FAILED = RunState.FAILED
    CANCELLED = RunState.CANCELLED

    def __bool__(self) -> bool:
        return self.state is RunState.COMPLETE

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RunState):
            return self.state is other
        if isinstance(other, RunStatus):
            return (self.state, self.ports, self.edges, self.failure) == (
                other.state,
                other.ports,
                other.edges,
                other.failure,
            )
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.state)

    @property
    def name(self) -> str:
        """The state's name (``"COMPLETE"``...)."""
        return self.state.name

    def describe(self) -> str:
        """A one-paragraph human description (used by ``reflow run``)."""
        if self.state is RunState.STALLED:
            parts = ["stalled: nothing can run but packets wait"]
            if self.ports:
                parts.append("waiting at " + ", ".join(self.ports))
            if self.edges:
                parts.append("blocked senders on " + ", ".join(self.edges))
            return "; ".join(parts)
        if self.state is RunState.FAILED and self.failure is not None:
            return f"failed: node {self.failure.node!r} ({self.failure.component}): {self.failure.error}"
        return self.state.value + (f": {self.detail}" if self.detail else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "state": self.state.value,
            "ports": list(self.ports),
            "edges": list(self.edges),
            "failure": None if self.failure is None else self.failure.to_dict(),
            "elapsed_s": self.elapsed_s,
            "detail": self.detail,
        }

    def __repr__(self) -> str:
        return f"<RunStatus {self.state.name}{': ' + self.describe() if self.state is not RunState.COMPLETE else ''}>"
