"""How ``reflow run`` shows progress and its summary: a rich live table on a terminal, plain lines otherwise.

Everything goes to stderr: stdout belongs to the pipeline (print/log sinks).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from typing import Any, TextIO

from ..engine import NetworkStatistics
from ..runner import is_reflow_node

__all__ = ["LiveView", "PlainProgress", "outport_lines", "summary_lines"]


def _queue_fill(stats: NetworkStatistics, node: str) -> tuple[int, int]:
    queued = capacity = 0
    for inport in stats.inports.values():
        if inport.node == node:
            queued += inport.queued
            capacity += inport.capacity
    return queued, capacity


def summary_lines(stats: NetworkStatistics, headline: str) -> list[str]:
    """A plain-text summary: the headline, then one line per node (reflow's own outport taps left out)."""
    nodes = {key: node for key, node in stats.nodes.items() if not is_reflow_node(key)}
    stats = dataclasses.replace(stats, nodes=nodes)
    total = sum(edge.sent for edge in stats.edges.values() if not is_reflow_node(edge.target.split(".")[0]))
    lines = [f"{headline} in {stats.elapsed_s:.2f} s: {len(stats.nodes)} nodes, {total:,} messages"]
    if not stats.nodes:
        return lines
    width = max(len("node"), *(len(n) for n in stats.nodes))  # at least as wide as the headers
    comp_width = max(len("component"), *(len(n.component) for n in stats.nodes.values()))
    lines.append(f"  {'node':<{width}}  {'component':<{comp_width}}  {'ticks':>8}  {'in':>8}  {'out':>8}  failures")
    for node in stats.nodes.values():
        lines.append(
            f"  {node.node:<{width}}  {node.component:<{comp_width}}  {node.ticks:>8,}  "
            f"{node.received:>8,}  {node.sent:>8,}  {node.failures:>8,}"
        )
    return lines


def _show(message: Any) -> str:
    from ..engine._events import event_payload

    data = event_payload(message)
    text = data if isinstance(data, str) else json.dumps(data, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def outport_lines(taps: dict[str, Any]) -> list[str]:
    """What reached the pipeline's exported outports: the value, or a count and the last value."""
    lines = []
    for name, tap in taps.items():
        if tap.count == 0:
            lines.append(f"  outport {name}: nothing")
        elif tap.count == 1:
            lines.append(f"  outport {name}: {_show(tap.last[-1])}")
        else:
            lines.append(f"  outport {name}: {tap.count:,} packets, last: {_show(tap.last[-1])}")
    return lines


class PlainProgress:
    """A progress line every few seconds (for logs and pipes)."""

    def __init__(self, stream: TextIO = sys.stderr, every: float = 2.0) -> None:
        self.stream = stream
        self.every = every
        self._last = time.monotonic()

    def __call__(self, stats: NetworkStatistics) -> None:
        now = time.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        running = sum(1 for n in stats.nodes.values() if n.state == "running")
        blocked = sum(1 for n in stats.nodes.values() if n.state == "blocked")
        sent = sum(edge.sent for edge in stats.edges.values())
        print(
            f"[{stats.elapsed_s:7.1f}s] {running} running, {blocked} blocked, {sent:,} messages, "
            f"{stats.failures} failures",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        """Nothing to clean up."""


class LiveView:
    """A rich table per node (state, in/out, queue fill, blocked and starved time), refreshed in place."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=stream)
        self.live = Live(console=self.console, refresh_per_second=4, transient=True)
        self.live.start()

    def __call__(self, stats: NetworkStatistics) -> None:
        from rich.table import Table

        table = Table(title=f"reflow · {stats.elapsed_s:.1f} s", expand=False)
        for column in ("node", "component", "state", "in", "out", "queue", "blocked s", "starved s", "failures"):
            table.add_column(column, justify="right" if column not in ("node", "component", "state") else "left")
        colours = {"running": "green", "waiting": "dim", "blocked": "yellow", "stopped": "dim"}
        for node in stats.nodes.values():
            if is_reflow_node(node.node):
                continue
            queued, capacity = _queue_fill(stats, node.node)
            table.add_row(
                node.node,
                node.component,
                f"[{colours.get(node.state, 'white')}]{node.state}[/]",
                f"{node.received:,}",
                f"{node.sent:,}",
                f"{queued}/{capacity}" if capacity else "-",
                f"{node.blocked_s:.2f}",
                f"{node.starved_s:.2f}",
                f"[red]{node.failures}[/]" if node.failures else "0",
            )
        self.live.update(table)

    def close(self) -> None:
        """Stop refreshing (the table disappears; the summary follows)."""
        self.live.stop()
