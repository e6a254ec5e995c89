"""Summarising a trace file (``reflow trace summary out.jsonl``).

:func:`summarise_trace` reads a trace written by ``reflow run --trace``
(``schemas/event.schema.json``) line by line and returns a
:class:`TraceSummary`:

- per node: component, ticks, packets in and out, failures;
- tick latency percentiles per node and overall, from ``TickBatch`` events
  (each batch stands for ``ticks`` ticks of ``seconds / ticks`` each);
- seconds blocked on a full inport vs starved, per node and per inport, and the
  slowest edges (most blocked time), from the last ``NetworkStats`` snapshot;
- failures, from ``ActorFailed``: a count per node and the first errors.

A line that is not a JSON event (a trace cut off by a crash ends with half a
line) is skipped and reported as a :class:`TraceProblem` naming the line;
only a file with no event at all is an error (:class:`TraceFormatError`).
"""

from __future__ import annotations

import json
import math
import os
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from .errors import ReflowError
from .tick_timing import BUCKET_BOUNDS

__all__ = [
    "EdgeSummary",
    "FailureSummary",
    "InportSummary",
    "LatencySummary",
    "NodeSummary",
    "TraceFormatError",
    "TraceProblem",
    "TraceSummary",
    "format_summary",
    "summarise_events",
    "summarise_trace",
    "weighted_percentiles",
]

#: Percentiles of tick latency the summary reports.
PERCENTILES = (50, 90, 99)
#: Errors kept per node, and for the whole run.
FIRST_ERRORS = 3
#: Problem lines reported in full; the rest are only counted.
MAX_PROBLEMS = 20
#: Edges listed as the slowest.
SLOWEST_EDGES = 5


class TraceFormatError(ReflowError, ValueError):
    """The file holds no trace event at all (empty, or not JSON lines)."""


@dataclass(frozen=True, slots=True)
class TraceProblem:
    """A line of the trace that was skipped, and why (``line`` is 1-based)."""

    line: int
    message: str

    def text(self, path: str) -> str:
        """``path:line: message``."""
        return f"{path}:{self.line}: {self.message}"


@dataclass
class LatencySummary:
    """Tick latency in seconds: weighted percentiles over ticks, and the slowest batch's per-tick time."""

    ticks: int = 0
    p50: float | None = None
    p90: float | None = None
    p99: float | None = None
    max: float | None = None
    mean: float | None = None


@dataclass
class NodeSummary:
    """One node: what it did, how fast its ticks ran, and where it waited."""

    node: str
    component: str = ""
    ticks: int = 0
    received: int = 0
    sent: int = 0
    failures: int = 0
    skipped: int = 0
    dead_lettered: int = 0
    retries: int = 0
    state: str = ""
    blocked_s: float = 0.0
    starved_s: float = 0.0
    latency: LatencySummary = field(default_factory=LatencySummary)


@dataclass
class InportSummary:
    """One inport, from the last statistics snapshot: its queue and who waited on it."""

    inport: str
    capacity: int
    high_water: int
    queued: int
    received: int
    blocked_s: float
    starved_s: float


@dataclass
class EdgeSummary:
    """One connection, from the last statistics snapshot."""

    edge: str
    sent: int
    blocked_s: float


@dataclass
class FailureSummary:
    """Failures of one node: how many, and the first errors (in order)."""

    node: str
    count: int
    first_errors: list[str]


@dataclass
class TraceSummary:
    """What a trace says about a run (see the module doc)."""

    path: str
    events: int = 0
    lines: int = 0
    duration_s: float | None = None
    state: str | None = None
    events_dropped: int = 0
    has_stats: bool = False
    nodes: dict[str, NodeSummary] = field(default_factory=dict)
    latency: LatencySummary = field(default_factory=LatencySummary)
    inports: list[InportSummary] = field(default_factory=list)
    slowest_edges: list[EdgeSummary] = field(default_factory=list)
    failures: list[FailureSummary] = field(default_factory=list)
    first_errors: list[dict[str, str]] = field(default_factory=list)
    problems: list[TraceProblem] = field(default_factory=list)
    problem_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``reflow trace summary --json``)."""
        out = asdict(self)
        out["nodes"] = [asdict(node) for node in self.nodes.values()]
        out["problems"] = [asdict(problem) for problem in self.problems]
        out["version"] = 1
        return out


def weighted_percentiles(samples: Iterable[tuple[float, int]], percentiles: Iterable[float]) -> list[float | None]:
    """The ``percentiles`` of values given as ``(value, weight)`` pairs (nearest rank over the total weight).

    ``[(0.001, 100), (0.5, 1)]`` is 100 ticks of 1 ms and one of 500 ms: its
    p50 and p99 are 1 ms, its p100 500 ms.
    """
    ordered = sorted((value, weight) for value, weight in samples if weight > 0)
    total = sum(weight for _, weight in ordered)
    wanted = list(percentiles)
    if not total:
        return [None for _ in wanted]
    out: list[float | None] = []
    for pct in wanted:
        rank = max(1, math.ceil(pct / 100 * total))  # the value of the rank-th smallest tick
        seen = 0
        value = ordered[-1][0]
        for candidate, weight in ordered:
            seen += weight
            if seen >= rank:
                value = candidate
                break
        out.append(value)
    return out


def _tick_samples(mean: float, ticks: int, histogram: Any) -> list[tuple[float, int]]:
    """(seconds, ticks) samples of one ``TickBatch``: from its histogram when it has one, else its mean.

    A histogram bucket's ticks count at the batch's mean clamped into the
    bucket, which is exact when all ticks share a bucket and never off by
    more than the bucket's width (a factor 2–2.5).
    """
    if not isinstance(histogram, list) or not histogram:
        return [(mean, ticks)]
    samples = []
    for pair in histogram:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (int, float))
                and isinstance(pair[1], int) and pair[1] > 0 and math.isfinite(pair[0])):
            raise ValueError("histogram")
        upper = float(pair[0])
        index = bisect_left(BUCKET_BOUNDS, upper)
        lower = BUCKET_BOUNDS[index - 1] if index else 0.0
        samples.append((min(max(mean, lower), upper), pair[1]))
    return samples


def _latency(samples: list[tuple[float, int]], seconds: float) -> LatencySummary:
    """Percentiles from ``samples`` (weight 0: a slowest tick, for the max only); the mean from the total ``seconds``."""
    if not samples:
        return LatencySummary()
    ticks = sum(weight for _, weight in samples)
    p50, p90, p99 = weighted_percentiles(samples, PERCENTILES)
    mean = seconds / ticks if ticks else None
    return LatencySummary(ticks, p50, p90, p99, max(value for value, _ in samples), mean)


class _Reader:
    """Folds events into the figures, one at a time."""

    def __init__(self, path: str) -> None:
        self.summary = TraceSummary(path)
        self.samples: dict[str, list[tuple[float, int]]] = {}
        self.tick_seconds: dict[str, float] = {}
        self.errors: dict[str, list[str]] = {}
        self.failures: dict[str, int] = {}
        self.last_stats: dict[str, Any] | None = None
        self.first_ts: int | None = None
        self.last_ts: int | None = None

    def node(self, node_id: str) -> NodeSummary:
        found = self.summary.nodes.get(node_id)
        if found is None:
            found = self.summary.nodes[node_id] = NodeSummary(node_id)
        return found

    def problem(self, line: int, message: str) -> None:
        self.summary.problem_count += 1
        if len(self.summary.problems) < MAX_PROBLEMS:
            self.summary.problems.append(TraceProblem(line, message))

    def add(self, event: Any, line: int) -> None:
        if not isinstance(event, dict) or not isinstance(event.get("_type"), str):
            self.problem(line, "not a trace event (a JSON object with `_type`)")
            return
        try:
            self._fold(event)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            detail = f"field {exc.args[0]!r} missing" if isinstance(exc, KeyError) else "a field has the wrong type"
            self.problem(line, f"a {event['_type']} event that does not match the event schema ({detail}); skipped")
            return
        self.summary.events += 1
        timestamp = event.get("timestamp")
        if isinstance(timestamp, int) and not isinstance(timestamp, bool):
            self.first_ts = timestamp if self.first_ts is None else min(self.first_ts, timestamp)
            self.last_ts = timestamp if self.last_ts is None else max(self.last_ts, timestamp)

    def _fold(self, event: dict[str, Any]) -> None:
        kind = event["_type"]
        if kind == "MessageSent":
            source, target = str(event["fromActor"]), str(event["toActor"])
            self.node(source).sent += 1
            self.node(target).received += 1
        elif kind == "TickBatch":
            ticks, seconds = event["ticks"], float(event["seconds"])
            if not isinstance(ticks, int) or ticks < 0 or seconds < 0 or not math.isfinite(seconds):
                raise ValueError("ticks/seconds")
            node = self.node(str(event["actorId"]))
            node.ticks += ticks
            if ticks:
                samples = self.samples.setdefault(node.node, [])
                self.tick_seconds[node.node] = self.tick_seconds.get(node.node, 0.0) + seconds
                samples.extend(_tick_samples(seconds / ticks, ticks, event.get("histogram")))
                slowest = event.get("maxSeconds")
                if isinstance(slowest, (int, float)) and math.isfinite(slowest) and slowest >= 0:
                    samples.append((float(slowest), 0))  # the slowest tick: a max, weighing nothing
        elif kind == "ActorStarted":
            self.node(str(event["actorId"])).component = str(event["component"])
        elif kind == "ActorFailed":
            node_id = str(event["actorId"])
            error = str(event["error"])
            node = self.node(node_id)
            node.component = node.component or str(event.get("component", ""))
            self.failures[node_id] = self.failures.get(node_id, 0) + 1
            kept = self.errors.setdefault(node_id, [])
            if len(kept) < FIRST_ERRORS:
                kept.append(error)
            if len(self.summary.first_errors) < FIRST_ERRORS:
                self.summary.first_errors.append({"node": node_id, "error": error})
        elif kind == "MessageReceived":
            self.node(str(event["actorId"]))
        elif kind == "NetworkStats":
            stats = event["stats"]
            if not isinstance(stats, dict):
                raise TypeError("stats")
            self.last_stats = stats
        elif kind == "NetworkIdle":
            self.summary.state = "complete"
        elif kind == "NetworkStalled":
            self.summary.state = "stalled"
        elif kind == "EventsDropped":
            self.summary.events_dropped += int(event["count"])

    def finish(self, top_edges: int) -> TraceSummary:
        summary = self.summary
        if self.first_ts is not None and self.last_ts is not None:
            summary.duration_s = (self.last_ts - self.first_ts) / 1000
        all_samples: list[tuple[float, int]] = []
        for node_id, samples in self.samples.items():
            self.node(node_id).latency = _latency(samples, self.tick_seconds.get(node_id, 0.0))
            all_samples.extend(samples)
        summary.latency = _latency(all_samples, sum(self.tick_seconds.values()))
        if self.last_stats is not None:
            self._apply_stats(self.last_stats, top_edges)
        summary.failures = [
            FailureSummary(node, count, self.errors.get(node, [])) for node, count in self.failures.items()
        ]
        summary.failures.sort(key=lambda f: (-f.count, f.node))
        return summary

    def _apply_stats(self, stats: dict[str, Any], top_edges: int) -> None:
        """Counters from the last snapshot win over counting events: the trace may have started late or lost some."""
        summary = self.summary
        summary.has_stats = True
        state = stats.get("state")
        if isinstance(state, str):
            summary.state = state.lower()
        elapsed = stats.get("elapsed_s")
        if isinstance(elapsed, (int, float)):
            summary.duration_s = float(elapsed)
        for node_id, raw in _items(stats.get("nodes")):
            node = self.node(node_id)
            node.component = str(raw.get("component", node.component))
            node.state = str(raw.get("state", ""))
            for name in ("ticks", "received", "sent", "failures", "skipped", "dead_lettered", "retries"):
                value = raw.get(name)
                if isinstance(value, int):
                    setattr(node, name, value)
            node.blocked_s = _seconds(raw.get("blocked_s"))
            node.starved_s = _seconds(raw.get("starved_s"))
        for key, raw in _items(stats.get("inports")):
            summary.inports.append(InportSummary(
                key, _int(raw.get("capacity")), _int(raw.get("high_water")), _int(raw.get("queued")),
                _int(raw.get("received")), _seconds(raw.get("blocked_s")), _seconds(raw.get("starved_s")),
            ))
        summary.inports.sort(key=lambda p: (-p.blocked_s, -p.starved_s, p.inport))
        edges = [EdgeSummary(key, _int(raw.get("sent")), _seconds(raw.get("blocked_s"))) for key, raw in _items(stats.get("edges"))]
        edges.sort(key=lambda e: (-e.blocked_s, e.edge))
        summary.slowest_edges = [edge for edge in edges if edge.blocked_s > 0][:top_edges]


def _items(value: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(value, dict):
        for key, raw in value.items():
            if isinstance(raw, dict):
                yield str(key), raw


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _is_reflow_node(node_id: str) -> bool:
    from .runner import is_reflow_node

    return is_reflow_node(node_id)


def summarise_events(lines: Iterable[str], path: str = "<trace>", *, top_edges: int = SLOWEST_EDGES) -> TraceSummary:
    """The summary of trace lines (JSON text, one event each); see :func:`summarise_trace`."""
    reader = _Reader(path)
    decode = json.JSONDecoder().decode
    count = 0
    for count, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            continue
        try:
            event = decode(text)
        except json.JSONDecodeError as exc:
            reader.problem(count, _not_json(text, exc.pos))
            continue
        except (ValueError, RecursionError):
            reader.problem(count, _not_json(text, 0))
            continue
        reader.add(event, count)
    reader.summary.lines = count
    summary = reader.finish(top_edges)
    for node_id in [n for n in summary.nodes if _is_reflow_node(n)]:
        del summary.nodes[node_id]  # reflow's own outport collectors are not the user's nodes
    summary.inports = [p for p in summary.inports if not _is_reflow_node(p.inport.split(".", 1)[0])]
    if not summary.events:
        what = "is empty" if not count else "holds no trace event"
        raise TraceFormatError(f"{path} {what}: expected JSON lines written by `reflow run --trace`")
    return summary


def _not_json(text: str, error_at: int) -> str:
    if text.startswith("{") and error_at >= len(text) - 1:  # the JSON is fine until the text runs out
        return "not JSON: the line is cut off (was the run killed while writing the trace?); skipped"
    shown = text if len(text) <= 40 else text[:37] + "..."
    return f"not JSON ({shown!r}); skipped"


def summarise_trace(path: str | os.PathLike[str], *, top_edges: int = SLOWEST_EDGES) -> TraceSummary:
    """Read the trace file at ``path`` and summarise it.

    Raises ``OSError`` when the file cannot be read and
    :class:`TraceFormatError` when it holds no event; a bad line is a
    :class:`TraceProblem` in ``summary.problems``.
    """
    shown = os.fspath(path)
    with open(path, encoding="utf-8", errors="replace") as handle:
        return summarise_events(handle, shown, top_edges=top_edges)


# -- text ----------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1:
        return f"{value:.2f}s"
    if value >= 0.001:
        return f"{value * 1000:.2f}ms"
    return f"{value * 1e6:.1f}µs"


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  " + "  ".join(cells).rstrip())
    return lines


def format_summary(summary: TraceSummary, out: IO[str] | None = None) -> str:
    """The summary as text: headline, nodes, inports, slowest edges, failures."""
    lines: list[str] = []
    duration = f"{summary.duration_s:.2f} s" if summary.duration_s is not None else "unknown duration"
    ended = f", ended {summary.state}" if summary.state else ""
    lines.append(f"trace {summary.path}: {summary.events:,} events over {duration}{ended}")
    if summary.events_dropped:
        lines.append(f"  note: {summary.events_dropped:,} events were dropped by the writer's stream")
    if not summary.has_stats:
        lines.append("  note: no NetworkStats snapshot in the trace: blocked and starved time are unknown")
    lines.append("")
    lines.append("nodes (tick latency per tick; blocked = waiting for room in a full inport, starved = waiting for input)")
    rows = []
    for node in sorted(summary.nodes.values(), key=lambda n: n.node):
        lat = node.latency
        rows.append([
            node.node, node.component, f"{node.ticks:,}", f"{node.received:,}", f"{node.sent:,}", f"{node.failures:,}",
            _ms(lat.p50), _ms(lat.p90), _ms(lat.p99), _ms(lat.max), f"{node.blocked_s:.2f}", f"{node.starved_s:.2f}",
        ])
    header = ["node", "component", "ticks", "in", "out", "failures", "p50", "p90", "p99", "max", "blocked s", "starved s"]
    lines += _table(header, rows, set(range(2, 12)))
    lat = summary.latency
    lines.append(
        f"  all ticks: {lat.ticks:,}, p50 {_ms(lat.p50)}, p90 {_ms(lat.p90)}, p99 {_ms(lat.p99)}, max {_ms(lat.max)}"
    )
    if summary.inports:
        lines.append("")
        lines.append("inports (blocked = producers waited for room; starved = the node waited while it was empty)")
        rows = [
            [p.inport, f"{p.queued}/{p.capacity}", f"{p.high_water}", f"{p.received:,}", f"{p.blocked_s:.2f}", f"{p.starved_s:.2f}"]
            for p in summary.inports
        ]
        lines += _table(["inport", "queued", "high water", "received", "blocked s", "starved s"], rows, {1, 2, 3, 4, 5})
    lines.append("")
    if summary.slowest_edges:
        lines.append("slowest edges (most time their sender waited for room)")
        rows = [[e.edge, f"{e.blocked_s:.2f}", f"{e.sent:,}"] for e in summary.slowest_edges]
        lines += _table(["edge", "blocked s", "sent"], rows, {1, 2})
    elif summary.has_stats:
        lines.append("slowest edges: no sender waited for room")
    lines.append("")
    if summary.failures:
        total = sum(f.count for f in summary.failures)
        lines.append(f"failures: {total:,}")
        for failure in summary.failures:
            lines.append(f"  {failure.node}: {failure.count:,}")
            for error in failure.first_errors:
                lines.append(f"    {error if len(error) <= 160 else error[:157] + '...'}")
    else:
        lines.append("failures: none")
    text = "\n".join(lines) + "\n"
    if out is not None:
        out.write(text)
    return text
