"""``reflow validate``, ``reflow convert`` and ``reflow schema``: thin layers over :mod:`reflow_cli.spec`."""

from __future__ import annotations

import re
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from ._app import app
from ._common import EXIT_INVALID, EXIT_OK, write_output, err as _err


class DiagnosticsFormat(str, Enum):
    """How ``reflow validate`` prints diagnostics."""

    text = "text"
    json = "json"
    github = "github"


class ConvertFormat(str, Enum):
    """What ``reflow convert`` writes."""

    yaml = "yaml"
    json = "json"


_SIZE = re.compile(r"\s*(\d+)\s*([kmg]i?b?|b)?\s*", re.I)
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "kib": 2**10, "m": 10**6, "mb": 10**6, "mib": 2**20,
          "g": 10**9, "gb": 10**9, "gib": 2**30, "ki": 2**10, "mi": 2**20, "gi": 2**30}


def _parse_size(text: str) -> int:
    match = _SIZE.fullmatch(text)
    if match is None or (match.group(2) or "").lower() not in _UNITS:
        raise typer.BadParameter(f"{text!r} is not a size; write bytes (16777216) or with a unit (16MiB, 500k)")
    return int(match.group(1)) * _UNITS[(match.group(2) or "").lower()]


def _excerpt(diagnostic: Any, cache: dict[str, list[str] | None]) -> str:
    """The source line under a diagnostic with a caret, for people at a terminal."""
    lines = cache.get(diagnostic.file, ...)
    if lines is ...:
        try:
            lines = Path(diagnostic.file).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = None
        cache[diagnostic.file] = lines
    if not lines or diagnostic.line > len(lines):
        return ""
    source = lines[diagnostic.line - 1]
    if len(source) > 200:
        return ""
    number = str(diagnostic.line)
    pad = " " * len(number)
    return f"  {number} | {source}\n  {pad} | {' ' * (diagnostic.column - 1)}^\n"


def _print_text(diagnostics: list[Any]) -> None:
    from ..spec import format_diagnostics

    if not sys.stdout.isatty():
        write_output(format_diagnostics(diagnostics, "text"), None, "validate")
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=True)
    cache: dict[str, list[str] | None] = {}
    for d in diagnostics:
        colour = "red" if d.severity == "error" else "yellow"
        line = Text(f"{d.file}:{d.line}:{d.column}: ", style="bold")
        line.append(f"{d.severity}[{d.code}]", style=f"bold {colour}")
        line.append(f": {d.message}")
        console.print(line)
        excerpt = _excerpt(d, cache)
        if excerpt:
            console.print(Text(excerpt.rstrip("\n"), style="dim"))
        if d.hint:
            console.print(Text("  hint: ", style="cyan").append(d.hint, style=""))


@app.command()
def validate(
    files: list[Path] = typer.Argument(
        ..., metavar="FILE", exists=True, dir_okay=False,
        help="Pipeline specs (YAML or JSON) or Graph JSON exports.",
    ),
    fmt: DiagnosticsFormat = typer.Option(
        DiagnosticsFormat.text, "--format", "-f",
        help="text (file:line:col: error[CODE]: ...), json (schemas/diagnostics.schema.json) "
        "or github (workflow annotations).",
    ),
    no_import: bool = typer.Option(
        False, "--no-import",
        help="Do not import python:MODULE:CLASS components (no repository code runs); their ports go unchecked.",
    ),
    max_size: str = typer.Option("16MiB", "--max-size", metavar="SIZE", help="Refuse files larger than this (E019)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but the diagnostics."),
) -> None:
    """Check pipeline specs and report every problem at once, with its line and column.

    Example: reflow validate examples/logs/pipeline.yaml

    Example (CI): reflow validate --format github --no-import pipelines/*.yaml

    Exit codes: 0 valid (warnings allowed), 1 invalid, 2 usage. The codes are explained in docs/errors.md.
    """
    from ..spec import format_diagnostics, validate_paths

    limit = _parse_size(max_size)
    diagnostics = validate_paths(files, allow_import=not no_import, max_size=limit)
    if fmt is DiagnosticsFormat.text:
        _print_text(diagnostics)
    else:
        write_output(format_diagnostics(diagnostics, fmt.value), None, "validate")
    errors = sum(1 for d in diagnostics if d.severity == "error")
    warnings = len(diagnostics) - errors
    if not quiet:
        bad = len({d.file for d in diagnostics if d.severity == "error"})
        counts = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
        if errors:
            _err(f"reflow validate: {counts} ({bad} of {len(files)} file{'s' * (len(files) != 1)} invalid)")
        else:
            _err(f"reflow validate: {len(files)} file{'s' * (len(files) != 1)} valid ({counts})")
    raise typer.Exit(EXIT_INVALID if errors else EXIT_OK)


@app.command()
def convert(
    file: Path = typer.Argument(..., metavar="FILE", exists=True, dir_okay=False,
                                help="A pipeline spec (YAML/JSON) or a Graph JSON export."),
    output: Path | None = typer.Option(None, "--output", "-o", metavar="OUT",
                                       help="Write here instead of to standard output."),
    to: ConvertFormat | None = typer.Option(
        None, "--to",
        help="yaml (a spec) or json (a Graph JSON export). Default: from OUT's suffix, else the other format.",
    ),
) -> None:
    """Convert between a YAML spec and the Graph JSON export, either way, without loss.

    Example: reflow convert pipeline.yaml -o pipeline.json

    Example: reflow convert exported.json --to yaml

    Converting back gives the same document again. Component ids are not checked
    (use reflow validate); exit 1 when the file cannot be read as a pipeline or OUT cannot be written.
    """
    from ..spec import dump_graph, dump_spec, format_diagnostics, load_pipeline, spec_to_graph

    loaded = load_pipeline(file, allow_import=False, components=False)
    if loaded.diagnostics:
        _err(format_diagnostics(loaded.diagnostics, "text").rstrip("\n"))
    if not loaded.convertible or loaded.spec is None:
        _err(f"reflow convert: {file} is not a valid pipeline; nothing written")
        raise typer.Exit(EXIT_INVALID)
    if not loaded.ok:
        _err("reflow convert: converted all the same: nothing is lost, but a spec may not say it this way")
    target = to.value if to is not None else None
    if target is None and output is not None and output.suffix.lower() in (".json", ".yaml", ".yml"):
        target = "json" if output.suffix.lower() == ".json" else "yaml"
    if target is None:
        target = "yaml" if loaded.kind == "graph" else "json"
    if target == "yaml":
        text = dump_spec(loaded.spec, "yaml")
    else:
        text = dump_graph(spec_to_graph(loaded.spec))
    write_output(text, output, "convert")
    raise typer.Exit(EXIT_OK)


@app.command()
def schema(
    diagnostics: bool = typer.Option(False, "--diagnostics", help="Print the schema of `reflow validate --format json`."),
) -> None:
    """Print the JSON Schema of pipeline specs (for editors and other tools).

    Example: reflow schema > pipeline.schema.json

    Save it beside your specs, then start a spec with
    # yaml-language-server: $schema=./pipeline.schema.json
    for completion in editors with the YAML language server (the path is relative to the spec).
    """
    from ..spec import schema_text

    write_output(schema_text("diagnostics.schema.json" if diagnostics else "pipeline.schema.json"), None, "schema")
