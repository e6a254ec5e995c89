"""``reflow catalog list`` and ``reflow catalog show``: rendering over :mod:`reflow_cli.catalog`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import typer

from ._app import app
from ._common import EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, write_output, err as _err


catalog_app = typer.Typer(
    name="catalog",
    help="List the standard components and show one: ports, config schema, defaults, example.\n\n"
    "Example: reflow catalog list\n\nExample: reflow catalog show tpl_filter",
    no_args_is_help=True,
)
app.add_typer(catalog_app, name="catalog")


def _out(text: str) -> None:
    """Print a result on stdout, ending with a newline."""
    write_output(text if text.endswith("\n") else text + "\n", None, "catalog")


@catalog_app.command("list")
def list_command(
    family: str | None = typer.Option(None, "--family", "-f", metavar="FAMILY", help="Only this family (flow, data, math, ...)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array of {id, family, summary, inports, outports, reference}."),
) -> None:
    """List the catalog's components, by family.

    Example: reflow catalog list --family math

    Example: reflow catalog list --json | jq -r '.[].id'
    """
    from .. import catalog

    try:
        entries = catalog.list_components(family)
    except ValueError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    if as_json:
        _out(json.dumps(entries, indent=2, ensure_ascii=False))
        raise typer.Exit(EXIT_OK)
    width = max((len(entry["id"]) for entry in entries), default=0)
    lines = []
    current = None
    for entry in entries:
        if entry["family"] != current:
            current = entry["family"]
            if lines:
                lines.append("")
            lines.append(f"{current}:")
        marker = " " if entry["reference"] else "+"
        lines.append(f"  {marker} {entry['id']:<{width}}  {entry['summary']}")
    lines += ["", f"{len(entries)} components (+ new in reflow; the others keep offbit-reflow's id, ports and config keys)."]
    _out("\n".join(lines))
    raise typer.Exit(EXIT_OK)


def _schema_type(prop: Mapping[str, Any]) -> str:
    kind = prop.get("type")
    text = "|".join(kind) if isinstance(kind, list) else (str(kind) if kind else "any")
    if "enum" in prop:
        text += " (" + ", ".join(json.dumps(v) for v in prop["enum"]) + ")"
    return text


def _wrap(text: str, indent: str, width: int = 100) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent) or [indent.rstrip()]


def _render(info: Mapping[str, Any]) -> str:
    lines = [f"{info['id']}  ({info['family']} family{'' if info['reference'] else ', new in reflow'})", ""]
    lines += _wrap(info["description"], "")
    traits = []
    if info.get("await_all_inports"):
        traits.append("fires when every connected inport has a packet")
    if info.get("is_async"):
        traits.append("async (runs on the event loop)")
    if info.get("threaded"):
        traits.append("threaded (blocking I/O in a worker thread)")
    if info.get("long_running"):
        traits.append("long-running (stopped at shutdown)")
    if traits:
        lines += ["", "Runs: " + "; ".join(traits) + "."]
    for title, key in (("Inports", "inports"), ("Outports", "outports")):
        lines += ["", f"{title}:"]
        ports = info.get(key) or []
        width = max((len(p["name"]) for p in ports), default=0)
        for port in ports:
            kind = port.get("type", "any")
            optional = " (optional)" if port.get("optional") else ""
            lines += _wrap(f"{port['name']:<{width}}  {kind:<12} {port.get('description', '')}{optional}", "  ")
    schema = info.get("config_schema") or {}
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    lines += ["", "Config:"]
    if not properties:
        lines.append("  (none)")
    for name, prop in properties.items():
        if "default" in prop:
            default = "default " + json.dumps(prop["default"], ensure_ascii=False)
        elif name in required:
            default = "required"
        else:
            default = "optional"
        lines.append(f"  {name}: {_schema_type(prop)}, {default}")
        if prop.get("description"):
            lines += _wrap(prop["description"], "      ")
    example = info.get("example")
    if example:
        from ..catalog._docs import example_lines

        lines += ["", "Example:", *(f"  {line}" for line in example_lines(example))]
    return "\n".join(lines)


@catalog_app.command("show")
def show_command(
    template_id: str = typer.Argument(..., metavar="ID", help="A component id, e.g. tpl_filter."),
    as_json: bool = typer.Option(False, "--json", help="Print the component's metadata as JSON."),
) -> None:
    """Show one component: what it does, its ports, its config (types, defaults) and an example.

    Example: reflow catalog show tpl_regex_matcher

    Exit codes: 0 shown, 1 no such component (with a hint), 2 usage.
    """
    from .. import catalog
    from ..errors import UnknownComponentError

    try:
        info = catalog.describe_component(template_id)
    except UnknownComponentError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(EXIT_NOT_FOUND) from None
    _out(json.dumps(info, indent=2, ensure_ascii=False) if as_json else _render(info))
    raise typer.Exit(EXIT_OK)
