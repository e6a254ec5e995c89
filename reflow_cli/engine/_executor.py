"""The executor seam: compile a graph into a run, whatever runs it.

An :class:`Executor` turns a graph, a component registry and
:class:`RunOptions` into a :class:`Run`. The local trio executor is the
default; a distributed one (Ray) implements the same two protocols, so
nothing above the engine changes for it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import trio

from ..errors import NetworkError
from ..graph import Graph
from ..message import Message
from ..registry import ComponentRegistry
from ._events import EventHub
from ._plan import RunOptions, plan_network
from ._run import TrioRun
from ._stats import NetworkStatistics
from ._status import RunStatus

__all__ = ["Executor", "Run", "TrioExecutor", "get_executor", "register_executor"]


@runtime_checkable
class Run(Protocol):
    """A compiled network that can be started, waited on, fed and stopped."""

    def start(self) -> None:
        """Start running in the background and return at once."""

    def wait(self, timeout: float | None = None) -> RunStatus:
        """Block until the run settles, or return a TIMEOUT status."""

    def inject(self, node_id: str, port: str, message: Message) -> None:
        """Deliver an initial packet into the running network."""

    def shutdown(self, grace: float = 2.0) -> NetworkStatistics:
        """Stop feeding, let in-flight work finish for ``grace`` s, cancel, return statistics."""

    def stats(self) -> NetworkStatistics:
        """A snapshot of the run's statistics."""

    async def run_here(
        self, timeout: float | None = None, grace: float = 2.0, stop: trio.Event | None = None
    ) -> RunStatus:
        """Run inside the caller's trio loop until settled, ``timeout`` or ``stop``; then shut down."""


@runtime_checkable
class Executor(Protocol):
    """Compiles graphs into runs."""

    name: str

    def compile(self, graph: Graph, registry: ComponentRegistry, options: RunOptions, hub: EventHub) -> Run:
        """Resolve ``graph`` against ``registry`` and return a run publishing into ``hub``."""


class TrioExecutor:
    """Runs every node as a trio task in one process (the default executor)."""

    name = "trio"

    def compile(self, graph: Graph, registry: ComponentRegistry, options: RunOptions, hub: EventHub) -> TrioRun:
        """Plan ``graph`` and build a :class:`TrioRun` for it."""
        return TrioRun(plan_network(graph, registry, options), hub)


_EXECUTORS: dict[str, Executor] = {"trio": TrioExecutor()}


def register_executor(executor: Executor) -> None:
    """Make ``executor`` available by its ``name`` (``Network(executor=name)``)."""
    _EXECUTORS[executor.name] = executor


def get_executor(name_or_executor: str | Executor) -> Executor:
    """The executor called ``name`` (or the executor object given)."""
    if not isinstance(name_or_executor, str):
        return name_or_executor
    if name_or_executor == "ray" and "ray" not in _EXECUTORS:
        from ._ray_run import RayExecutor  # imports Ray only when asked for

        register_executor(RayExecutor())
    try:
        return _EXECUTORS[name_or_executor]
    except KeyError:
        known = ", ".join(sorted(_EXECUTORS))
        raise NetworkError(f"unknown executor {name_or_executor!r}; available: {known}") from None
