"""Replaying the reference's catalog scenarios (tests/compat/golden/catalog.json) on reflow."""

from __future__ import annotations

import http.server
import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

from reflow_cli import Actor, Network, PortSpec, Stream
from reflow_cli.errors import ReflowError

GOLDEN_FILE = Path(__file__).resolve().parents[1] / "compat" / "golden" / "catalog.json"
GOLDEN: dict[str, dict[str, Any]] = json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))["cases"]

_DIGIT = re.compile(r"\d")


def mask_time(value: Any) -> Any:
    """As the probe: digits in strings become 9, integers >= 1e9 become '<epoch>'."""
    if isinstance(value, str):
        return _DIGIT.sub("9", value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value >= 10**9:
        return "<epoch>"
    if isinstance(value, list):
        return [mask_time(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_time(v) for k, v in value.items()}
    return value


def _replace(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_replace(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, old, new) for k, v in value.items()}
    return value


def mask_keys(value: Any, keys: list[str]) -> Any:
    """As the probe: the values of these keys (anywhere) become "<masked>"."""
    if isinstance(value, list):
        return [mask_keys(v, keys) for v in value]
    if isinstance(value, dict):
        return {k: ("<masked>" if k in keys else mask_keys(v, keys)) for k, v in value.items()}
    return value


def frame_json(frame: dict[str, Any]) -> dict[str, Any]:
    """As the probe: null fields left out, data as a byte list."""
    return {
        key: list(value) if isinstance(value, (bytes, bytearray, memoryview)) else value
        for key, value in frame.items()
        if value is not None
    }


def make_stream(spec: dict[str, Any]) -> dict[str, Any]:
    """A StreamHandle IIP from ``{"begin", "chunks", "error"}``, frames written first (as the probe)."""
    stream = Stream.create(0)
    begin = spec.get("begin")
    if begin is not None:
        stream.send_begin(content_type=begin.get("content_type"), size_hint=begin.get("size_hint"))
    for chunk in spec["chunks"]:
        stream.send_bytes(chunk.encode("utf-8"))
    if spec.get("error"):
        stream.error(spec["error"])
    else:
        stream.end()
    return stream.into_message().as_json()


class ProbeHTTPServer:
    """The probe's local server (same answers, fixed Date and Server headers); records what it receives."""

    def __init__(self) -> None:
        seen: list[dict[str, Any]] = []
        self.seen = seen

        class Handler(http.server.BaseHTTPRequestHandler):
            def version_string(self) -> str:
                return "probe"

            def date_time_string(self, timestamp: Any = None) -> str:
                return "Thu, 01 Jan 2026 00:00:00 GMT"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "body": body.decode("utf-8", errors="replace"),
                        "content_type": self.headers.get("Content-Type"),
                        "x_a": self.headers.get("X-A"),
                    }
                )
                json_reply = self.path.startswith("/json")
                self.send_response(404 if self.path.startswith("/missing") else 200)
                self.send_header("Content-Type", "application/json" if json_reply else "text/plain")
                self.send_header("X-Up", "Yes")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if json_reply else b"plain text")

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Sink(Actor):
    component = "golden_sink"
    inports = [PortSpec("*")]
    outports: list[str] = []

    def __init__(self) -> None:
        self.items: list[tuple[str, Any, float]] = []
        self.started = time.monotonic()
        self.lock = threading.Lock()

    def run(self, ctx: Any) -> None:
        now = time.monotonic() - self.started
        for port, message in ctx.inputs.items():
            value = message.as_json()
            if message["type"] == "StreamHandle":
                reader = message.take_stream()
                frames = []
                while True:
                    frame = reader.recv(5000)
                    frames.append(frame_json(frame))
                    if frame["kind"] in ("end", "error", "closed", "timeout"):
                        break
                value = {"type": "StreamHandle", "data": {**value["data"], "stream_id": "<id>"}, "frames": frames}
            with self.lock:
                self.items.append((port, value, now))


def replay(spec: dict[str, Any], directory: Path) -> dict[str, Any]:
    """Run one scenario on reflow; the same shape as the golden (``received``, ``times``, ``files_after``),
    or ``{"build_error": [class name, text]}`` when the network refuses to build."""
    folder = os.path.realpath(directory)
    for name, text in spec.get("files", {}).items():
        (Path(folder) / name).write_text(text, encoding="utf-8")
    server = ProbeHTTPServer() if spec.get("http") else None
    try:
        return _replay(spec, folder, server)
    finally:
        if server is not None:
            server.close()


def _replay(spec: dict[str, Any], folder: str, server: ProbeHTTPServer | None) -> dict[str, Any]:
    sink = _Sink()
    net = Network()
    config = _replace(spec["config"], "{dir}", folder)
    if server is not None:
        config = _replace(config, "{url}", server.url)
    try:
        net.register_actor("golden_sink", sink)
        net.add_node("t", spec["template"], config)
        net.add_node("sink", "golden_sink")
        for port in spec["ports"]:
            net.add_connection("t", port, "sink", port)
        for port, message in spec["iips"]:
            if isinstance(message, dict) and "$stream" in message:
                message = make_stream(message["$stream"])
            net.add_initial("t", port, _replace(message, "{dir}", folder))
        sink.started = time.monotonic()
        status = net.run(timeout=10)
    except ReflowError as exc:
        return {"build_error": [type(exc).__name__, str(exc)]}
    assert status.name == "COMPLETE", status.describe()
    out: dict[str, Any] = {"received": {}}
    times: dict[str, list[float]] = {}
    for port, message, at in sink.items:
        value = _replace(message, folder, "{dir}")
        if server is not None:
            value = _replace(value, server.url, "{url}")
        if spec.get("mask") == "time":
            value = mask_time(value)
        if spec.get("mask_keys"):
            value = mask_keys(value, spec["mask_keys"])
        out["received"].setdefault(port, []).append(value)
        times.setdefault(port, []).append(at)
    if spec.get("timing"):
        out["times"] = times
    if spec.get("files_after"):
        files: dict[str, Any] = {}
        for name in spec["files_after"]:
            path = Path(folder) / name
            if not path.is_file():
                files[name] = None
                continue
            content = path.read_bytes()
            try:
                files[name] = content.decode("utf-8")
            except UnicodeDecodeError:
                files[name] = list(content)
        out["files_after"] = files
    if server is not None and spec.get("http") == "record":
        out["server_saw"] = list(server.seen)
    return out
