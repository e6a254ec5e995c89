"""Replaying the reference's catalog scenarios (tests/compat/golden/catalog.json) on reflow."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

from reflow_cli import Actor, Network, PortSpec
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
        with self.lock:
            for port, message in ctx.inputs.items():
                self.items.append((port, message.as_json(), now))


def replay(spec: dict[str, Any], directory: Path) -> dict[str, Any]:
    """Run one scenario on reflow; the same shape as the golden (``received``, ``times``, ``files_after``),
    or ``{"build_error": [class name, text]}`` when the network refuses to build."""
    folder = os.path.realpath(directory)
    for name, text in spec.get("files", {}).items():
        (Path(folder) / name).write_text(text, encoding="utf-8")
    sink = _Sink()
    net = Network()
    try:
        net.register_actor("golden_sink", sink)
        net.add_node("t", spec["template"], _replace(spec["config"], "{dir}", folder))
        net.add_node("sink", "golden_sink")
        for port in spec["ports"]:
            net.add_connection("t", port, "sink", port)
        for port, message in spec["iips"]:
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
        if spec.get("mask") == "time":
            value = mask_time(value)
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
    return out
