"""Drawing a graph: Mermaid and Graphviz DOT text, and SVG through Graphviz's ``dot``."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

from .errors import ReflowError
from .graph import Graph

__all__ = ["DiagramError", "to_dot", "to_mermaid", "to_svg"]


class DiagramError(ReflowError):
    """A diagram could not be rendered (e.g. Graphviz's ``dot`` is not installed)."""


def _mermaid_id(node_id: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", node_id)


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def _iip_label(data: Any) -> str:
    text = repr(data.get("data")) if data.get("type") != "Flow" else "Flow"
    return text if len(text) <= 24 else text[:21] + "..."


def to_mermaid(graph: Graph) -> str:
    """A Mermaid ``flowchart LR`` of the graph: nodes with their component, edges labelled with ports."""
    lines = ["flowchart LR"]
    for process in graph.iter_processes():
        lines.append(f'    {_mermaid_id(process.id)}["{_mermaid_text(process.id)}<br/><i>{_mermaid_text(process.component)}</i>"]')
    for conn in graph.iter_connections():
        label = _mermaid_text(f"{conn.src_port} → {conn.tgt_port}")
        lines.append(f'    {_mermaid_id(conn.src_node)} -- "{label}" --> {_mermaid_id(conn.tgt_node)}')
    for number, initial in enumerate(graph.iter_initials()):
        iip = f"iip_{number}"
        lines.append(f'    {iip}(("{_mermaid_text(_iip_label(initial.message.as_json()))}"))')
        lines.append(f'    {iip} -. "{_mermaid_text(initial.port)}" .-> {_mermaid_id(initial.node)}')
    for port in graph.iter_outports():
        out = f"out_{re.sub(r'[^A-Za-z0-9_]', '_', port.name)}"
        lines.append(f'    {out}>"{_mermaid_text(port.name)}"]')
        lines.append(f'    {_mermaid_id(port.node)} -- "{_mermaid_text(port.port)}" --> {out}')
    for port in graph.iter_inports():
        inp = f"in_{re.sub(r'[^A-Za-z0-9_]', '_', port.name)}"
        lines.append(f'    {inp}>"{_mermaid_text(port.name)}"]')
        lines.append(f'    {inp} -- "{_mermaid_text(port.port)}" --> {_mermaid_id(port.node)}')
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def to_dot(graph: Graph) -> str:
    """A Graphviz digraph of the graph (left to right; IIPs as small dashed nodes)."""
    name = graph.name or "pipeline"
    lines = [f"digraph {_dot_quote(name)} {{", "    rankdir=LR;", '    node [shape=box, style=rounded, fontname="Helvetica"];']
    for process in graph.iter_processes():
        label = f"{process.id}\n{process.component}"
        lines.append(f"    {_dot_quote(process.id)} [label={_dot_quote(label)}];")
    for conn in graph.iter_connections():
        lines.append(
            f"    {_dot_quote(conn.src_node)} -> {_dot_quote(conn.tgt_node)} "
            f"[taillabel={_dot_quote(conn.src_port)}, headlabel={_dot_quote(conn.tgt_port)}, fontsize=9];"
        )
    for number, initial in enumerate(graph.iter_initials()):
        iip = f"__iip_{number}"
        lines.append(f"    {_dot_quote(iip)} [shape=note, style=dashed, label={_dot_quote(_iip_label(initial.message.as_json()))}];")
        lines.append(f"    {_dot_quote(iip)} -> {_dot_quote(initial.node)} [style=dashed, headlabel={_dot_quote(initial.port)}, fontsize=9];")
    for port in graph.iter_outports():
        out = f"__out_{port.name}"
        lines.append(f"    {_dot_quote(out)} [shape=cds, label={_dot_quote(port.name)}];")
        lines.append(f"    {_dot_quote(port.node)} -> {_dot_quote(out)} [taillabel={_dot_quote(port.port)}, fontsize=9];")
    for port in graph.iter_inports():
        inp = f"__in_{port.name}"
        lines.append(f"    {_dot_quote(inp)} [shape=cds, label={_dot_quote(port.name)}];")
        lines.append(f"    {_dot_quote(inp)} -> {_dot_quote(port.node)} [headlabel={_dot_quote(port.port)}, fontsize=9];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(graph: Graph, *, dot_command: str = "dot", timeout: float = 60.0) -> str:
    """SVG rendered by Graphviz's ``dot``; :class:`DiagramError` when it is missing or fails."""
    executable = shutil.which(dot_command)
    if executable is None:
        raise DiagramError(
            "SVG output needs Graphviz's `dot`, which is not installed "
            "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz); "
            "`--format dot` or `--format mermaid` work without it"
        )
    try:
        result = subprocess.run(
            [executable, "-Tsvg"], input=to_dot(graph), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise DiagramError(f"`dot` did not finish within {timeout:.0f} s") from None
    if result.returncode != 0:
        raise DiagramError(f"`dot` failed: {result.stderr.strip()}")
    return result.stdout
