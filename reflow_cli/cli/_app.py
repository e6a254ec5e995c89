"""The typer application behind ``reflow``."""

from __future__ import annotations

import typer

from .._version import __version__

app = typer.Typer(
    name="reflow",
    help="Flow-based pipelines on trio: validate, run and compose pipeline specs.\n\n"
    "Example: reflow run examples/logs/pipeline.yaml\n\n"
    "Every command has --help, with an example: reflow run --help",
    no_args_is_help=True,
    add_completion=True,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"reflow {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """reflow: flow-based pipelines on trio."""


def main() -> None:
    """Entry point of the ``reflow`` console script."""
    app()
