"""``reflow compose``: a thin layer over :func:`reflow_cli.compose.compose_paths`."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from ._app import app
from ._common import EXIT_INVALID, EXIT_OK, write_output, err as _err


class ComposeFormat(str, Enum):
    """What ``reflow compose`` writes."""

    yaml = "yaml"
    json = "json"


@app.command()
def compose(
    files: list[Path] = typer.Argument(
        ..., metavar="FILE", exists=True, dir_okay=False,
        help="Pipeline specs or Graph JSON exports to compose, or one compose manifest.",
    ),
    connect: list[str] = typer.Option(
        [], "--connect", "-c", metavar="'A.OUT -> B.IN'",
        help="A connection between graphs: NAMESPACE/NODE.PORT or NAMESPACE.EXPORTED_PORT at each end. "
        "Without any, exported outports feed the same-named exported inports of the other graphs.",
    ),
    name: str | None = typer.Option(None, "--name", "-n", help="The composed graph's name (default: the namespaces joined with +)."),
    output: Path | None = typer.Option(None, "--output", "-o", metavar="OUT", help="Write here instead of to standard output."),
    fmt: ComposeFormat | None = typer.Option(
        None, "--format", "-f", help="yaml (a spec) or json (a Graph JSON export). Default: from OUT's suffix, else yaml.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but the diagnostics."),
) -> None:
    """Compose pipelines owned by different people into one spec you can read, validate, diff and run.

    Example: reflow compose ingest.yaml report.yaml -o pipeline.yaml

    Example: reflow compose a.yaml b.yaml --connect "a/clean.out -> b/format.in" --format json

    Each graph's nodes become NAMESPACE/NODE (the namespace is the graph's name, with every
    character but letters, digits and _ turned into _). A compose manifest (a YAML file with
    `graphs:` and `connections:`) keeps a composition in a repository; `reflow validate` and
    `reflow run` read it too. Problems point into the files they come from (or at --connect).

    Exit codes: 0 composed, 1 a file or the composition is invalid or OUT cannot be written, 2 usage.
    """
    from ..compose import compose_paths
    from ..spec import dump_graph, dump_spec, format_diagnostics

    loaded = compose_paths(files, connections=connect, name=name)
    if loaded.diagnostics:
        _err(format_diagnostics(loaded.diagnostics, "text").rstrip("\n"))
    if not loaded.ok or loaded.graph is None or loaded.spec is None:
        _err("reflow compose: the composition is invalid; nothing written")
        raise typer.Exit(EXIT_INVALID)
    target = fmt.value if fmt is not None else None
    if target is None:
        target = "json" if output is not None and output.suffix.lower() == ".json" else "yaml"
    text = dump_spec(loaded.spec, "yaml") if target == "yaml" else dump_graph(loaded.graph)
    write_output(text, output, "compose")
    if not quiet:
        for note in loaded.notes:
            _err(f"note: {note}")
        if output is not None and output.resolve().parent != files[0].resolve().parent:
            _err(f"note: {output} is not in the parts' folder ({files[0].resolve().parent}): it runs in its own folder, "
                 "where relative paths in configs (and python: modules) must then be found (see docs/compose.md, Paths)")
        graph = loaded.graph
        nodes = len(graph.iter_processes())
        connections = len(graph.iter_connections())
        where = f" into {output}" if output is not None else ""
        _err(f"reflow compose: {graph.name!r}: {nodes} nodes, {connections} connections{where}")
    raise typer.Exit(EXIT_OK)
