"""Prometheus metrics of a running network (``reflow run --metrics 127.0.0.1:9464``).

:func:`render_metrics` turns a :class:`~reflow_cli.engine.NetworkStatistics`
snapshot into the Prometheus text exposition format (version 0.0.4): per node,
inport and edge counters and gauges, named in ``docs/observability.md``.
:class:`MetricsServer` serves it at ``/metrics`` from the run's own trio loop,
speaking HTTP/1.1 with h11 over trio sockets: a scrape takes one ``stats()``
snapshot, so it costs the pipeline nothing between scrapes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import trio

from .engine import NetworkStatistics
from .errors import ReflowError
from .runner import is_reflow_node

__all__ = ["CONTENT_TYPE", "DEFAULT_PORT", "MetricsError", "MetricsServer", "parse_address", "render_metrics"]

#: The exposition format's content type.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: The port ``--metrics`` uses when given only a host (OpenTelemetry's Prometheus exporter's).
DEFAULT_PORT = 9464
_DEFAULT_HOST = "127.0.0.1"
_NODE_STATES = ("running", "waiting", "blocked", "stopped")
_RUN_STATES = ("RUNNING", "COMPLETE", "STALLED", "FAILED", "TIMEOUT", "CANCELLED")


class MetricsError(ReflowError, OSError):
    """The metrics address cannot be used: malformed, or the port cannot be bound."""


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT``, ``PORT`` or ``HOST`` (port 9464); ``[::1]:PORT`` for IPv6.

    Raises :class:`MetricsError` for anything else.
    """
    text = text.strip()
    host, port_text = _DEFAULT_HOST, str(DEFAULT_PORT)
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or (text[end + 1 :] and not text[end + 1 :].startswith(":")):
            raise MetricsError(f"cannot read the metrics address {text!r}: use [IPV6]:PORT")
        host, port_text = text[1:end], text[end + 2 :] or port_text
    elif text.isdigit():
        port_text = text
    elif ":" in text:
        host, _, port_text = text.rpartition(":")
        host = host or _DEFAULT_HOST
    elif text:
        host = text
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise MetricsError(f"cannot read the metrics address {text!r}: the port must be a number from 0 to 65535")
    return host, int(port_text)


# -- the text format ---------------------------------------------------------------


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


class _Family:
    """One metric family: its HELP and TYPE lines, then its samples."""

    def __init__(self, name: str, kind: str, help_text: str) -> None:
        self.name = name
        self.lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]

    def add(self, labels: dict[str, str], value: float) -> None:
        inner = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
        self.lines.append(f"{self.name}{{{inner}}} {_number(value)}" if inner else f"{self.name} {_number(value)}")


# (name, type, help, attribute of the statistics record)
_NODE_METRICS = (
    ("reflow_node_ticks_total", "counter", "Ticks started by the node.", "ticks"),
    ("reflow_node_failures_total", "counter", "Failed tick attempts (retries included).", "failures"),
    ("reflow_node_received_total", "counter", "Packets the node took from its inports.", "received"),
    ("reflow_node_sent_total", "counter", "Packets the node pushed over its connections.", "sent"),
    ("reflow_node_starved_seconds_total", "counter", "Seconds the node waited for input.", "starved_s"),
    ("reflow_node_blocked_seconds_total", "counter", "Seconds the node waited for room in a full inport.",
     "blocked_s"),
    ("reflow_node_skipped_total", "counter", "Failed ticks skipped (on_error: skip).", "skipped"),
    ("reflow_node_dead_lettered_total", "counter", "Failed ticks dead-lettered (on_error: dead_letter).",
     "dead_lettered"),
    ("reflow_node_retries_total", "counter", "Tick retries (on_error: retry).", "retries"),
)
_INPORT_METRICS = (
    ("reflow_inport_queued", "gauge", "Packets waiting in the inport's queue.", "queued"),
    ("reflow_inport_capacity", "gauge", "Size of the inport's queue.", "capacity"),
    ("reflow_inport_high_water", "gauge", "Most packets the queue has held at once.", "high_water"),
    ("reflow_inport_received_total", "counter", "Packets taken from the inport.", "received"),
    ("reflow_inport_blocked_seconds_total", "counter", "Seconds producers waited for room in this full inport.",
     "blocked_s"),
    ("reflow_inport_starved_seconds_total", "counter", "Seconds the node waited for input while this inport was empty.",
     "starved_s"),
)
_EDGE_METRICS = (
    ("reflow_edge_sent_total", "counter", "Packets pushed over the connection.", "sent"),
    ("reflow_edge_blocked_seconds_total", "counter", "Seconds the sender waited for room in the target inport.",
     "blocked_s"),
    ("reflow_edge_waiting", "gauge", "1 while the sender waits for room in the target inport.", "waiting"),
)


def render_metrics(stats: NetworkStatistics, *, hide: Callable[[str], bool] = is_reflow_node) -> str:
    """The snapshot in the Prometheus text format (nodes for which ``hide(node_id)`` is true left out)."""
    families: list[_Family] = []
    state = stats.state.value if hasattr(stats.state, "value") else str(stats.state)
    run_state = _Family("reflow_run_state", "gauge", "1 for the run's current state.")
    for name in _RUN_STATES:
        run_state.add({"state": name}, 1 if state.upper() == name else 0)
    elapsed = _Family("reflow_run_elapsed_seconds", "gauge", "Seconds since the run started.")
    elapsed.add({}, stats.elapsed_s)
    failures = _Family("reflow_run_failures_total", "counter", "Failed tick attempts in the whole run.")
    failures.add({}, stats.failures)
    undelivered = _Family("reflow_run_undelivered", "gauge", "Packets queued or produced but not yet delivered.")
    undelivered.add({}, stats.undelivered)
    families += [run_state, elapsed, failures, undelivered]

    nodes = [node for node in stats.nodes.values() if not hide(node.node)]
    node_state = _Family("reflow_node_state", "gauge", "1 for the node's current state (running, waiting, blocked, stopped).")
    for node in nodes:
        for name in _NODE_STATES:
            node_state.add({"node": node.node, "component": node.component, "state": name}, 1 if node.state == name else 0)
    families.append(node_state)
    families += _records(_NODE_METRICS, nodes, lambda n: {"node": n.node, "component": n.component})
    inports = [inport for inport in stats.inports.values() if not hide(inport.node)]
    families += _records(_INPORT_METRICS, inports, lambda p: {"node": p.node, "port": p.port})
    edges = [
        edge for edge in stats.edges.values()
        if not hide(edge.source.split(".", 1)[0]) and not hide(edge.target.split(".", 1)[0])
    ]
    families += _records(_EDGE_METRICS, edges, lambda e: {"source": e.source, "target": e.target})
    return "".join(line + "\n" for family in families for line in family.lines)


def _records(
    table: Iterable[tuple[str, str, str, str]], records: list[Any], labels: Callable[[Any], dict[str, str]]
) -> list[_Family]:
    families = []
    for name, kind, help_text, attribute in table:
        family = _Family(name, kind, help_text)
        for record in records:
            family.add(labels(record), getattr(record, attribute))
        families.append(family)
    return families


# -- the server --------------------------------------------------------------------

_MAX_REQUEST = 64 * 1024
_REASONS = {200: b"OK", 404: b"Not Found", 405: b"Method Not Allowed"}
_IDLE_TIMEOUT = 30.0


class MetricsServer:
    """Serves ``GET /metrics`` (and ``/`` with a link) over HTTP/1.1 from the run's trio loop.

    ``on_listening(url)`` is called once the port is bound (port 0 picks a
    free one; the URL names it). Use with ``runner.run_to_end(...,
    metrics=server)``, or ``await nursery.start(server.serve, network.stats)``
    (``await server.bind()`` first to get a bind error as itself rather than
    inside the nursery's exception group).
    """

    def __init__(self, host: str = _DEFAULT_HOST, port: int = DEFAULT_PORT,
                 on_listening: Callable[[str], None] | None = None) -> None:
        self.host = host
        self.port = port
        self.on_listening = on_listening
        self.url: str | None = None
        self.scrapes = 0
        self._listeners: list[trio.SocketListener] | None = None

    async def bind(self) -> str:
        """Open the listening sockets (once); the URL. Raises :class:`MetricsError` if the address cannot be used."""
        if self._listeners is not None:
            assert self.url is not None
            return self.url
        try:
            self._listeners = await trio.open_tcp_listeners(self.port, host=self.host)
        except OSError as exc:
            raise MetricsError(f"cannot serve metrics on {self.host}:{self.port}: {exc.strerror or exc}") from None
        sockname = self._listeners[0].socket.getsockname()
        shown = f"[{sockname[0]}]" if ":" in sockname[0] else sockname[0]
        self.url = f"http://{shown}:{sockname[1]}/metrics"
        if self.on_listening is not None:
            self.on_listening(self.url)
        return self.url

    async def serve(self, stats: Callable[[], NetworkStatistics], *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Bind (unless :meth:`bind` was called), report started, then serve until cancelled."""
        url = await self.bind()
        listeners, self._listeners = self._listeners, None
        assert listeners is not None
        task_status.started(url)

        async def handle(stream: trio.SocketStream) -> None:
            await self._handle(stream, stats)

        await trio.serve_listeners(handle, listeners)

    async def _handle(self, stream: trio.SocketStream, stats: Callable[[], NetworkStatistics]) -> None:
        import h11

        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_REQUEST)
        try:
            async with stream:
                while True:
                    with trio.move_on_after(_IDLE_TIMEOUT):
                        request = await self._next_request(stream, connection)
                    if request is None:
                        return
                    status, body, content_type = self._respond(request, stats)
                    headers = [("content-type", content_type), ("content-length", str(len(body))),
                               ("server", "reflow")]
                    if status == 405:
                        headers.append(("allow", "GET, HEAD"))
                    if request.method == b"HEAD":
                        body = b""
                    response = h11.Response(status_code=status, headers=headers, reason=_REASONS.get(status, b""))
                    await stream.send_all(connection.send(response) or b"")
                    await stream.send_all(connection.send(h11.Data(data=body)) or b"")
                    await stream.send_all(connection.send(h11.EndOfMessage()) or b"")
                    if connection.our_state is not h11.DONE or connection.their_state is not h11.DONE:
                        return
                    connection.start_next_cycle()
        except (h11.RemoteProtocolError, trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            return  # a client that goes away or speaks nonsense ends its own connection, never the run

    @staticmethod
    async def _next_request(stream: trio.SocketStream, connection: Any) -> Any:
        import h11

        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                data = await stream.receive_some(16384)
                connection.receive_data(data)  # b"" marks the end of the stream
                continue
            if isinstance(event, h11.Request):
                while True:  # drain a body, if a client sent one
                    rest = connection.next_event()
                    if rest is h11.NEED_DATA:
                        connection.receive_data(await stream.receive_some(16384))
                    elif isinstance(rest, h11.EndOfMessage) or rest is h11.PAUSED:
                        return event
                    elif isinstance(rest, h11.ConnectionClosed):
                        return None
            if isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return None

    def _respond(self, request: Any, stats: Callable[[], NetworkStatistics]) -> tuple[int, bytes, str]:
        path = request.target.split(b"?", 1)[0]
        if request.method not in (b"GET", b"HEAD"):
            return 405, b"only GET and HEAD\n", "text/plain; charset=utf-8"
        if path == b"/metrics":
            self.scrapes += 1
            return 200, render_metrics(stats()).encode("utf-8"), CONTENT_TYPE
        if path == b"/":
            page = b'<html><body><a href="/metrics">reflow metrics</a></body></html>\n'
            return 200, page, "text/html; charset=utf-8"
        return 404, b"not found: try /metrics\n", "text/plain; charset=utf-8"
