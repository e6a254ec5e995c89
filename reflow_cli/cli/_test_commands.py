"""``reflow test``: a thin layer over :mod:`reflow_cli.pipeline_tests`."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer

from ._app import app
from ._common import EXIT_FAILED, EXIT_OK, EXIT_USAGE


class ReportFormat(str, Enum):
    """How ``reflow test`` reports."""

    text = "text"
    json = "json"
    junit = "junit"


@app.command("test")
def test_command(
    paths: list[Path] = typer.Argument(..., help="Test files (*.test.yaml), or folders to search for them.", exists=True),
    fmt: ReportFormat = typer.Option(ReportFormat.text, "--format", "-f", help="text, json, or junit (XML for CI)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to this file instead of stdout."),
    select: str | None = typer.Option(None, "-k", metavar="TEXT", help="Run only the cases whose name contains TEXT."),
) -> None:
    """Run pipeline tests: YAML files beside a spec that inject messages, replace nodes and check ports.

    Example: reflow test examples/ --format junit -o reflow-tests.xml

    The format is in docs/testing.md. Cases run in this process, one after another.
    Exit codes: 0 every case passed, 1 a case failed or a test file is invalid, 2 usage
    (no test file found, unknown option).
    """
    from ..pipeline_tests import find_test_files, format_report, run_tests

    if not find_test_files(paths):
        print(f"error: no test files (*.test.yaml) in {', '.join(map(str, paths))}", file=sys.stderr, flush=True)
        raise typer.Exit(EXIT_USAGE)
    needle = select.lower() if select else None
    report = run_tests(paths, select=(lambda name: needle in name.lower()) if needle else None)
    text = format_report(report, fmt.value)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        print(format_report(report, "text").splitlines()[-1], file=sys.stderr, flush=True)  # how it went, in a line
    else:
        sys.stdout.write(text)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_FAILED)
