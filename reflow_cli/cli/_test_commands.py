"""``reflow test``: a thin layer over :mod:`reflow_cli.pipeline_tests`."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from ._app import app
from ._common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, err, file_problem, write_output


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
    Exit codes: 0 every case passed, 1 a case failed, a test file is invalid or the report
    cannot be written, 2 usage (no test file found, unknown option).
    """
    from ..pipeline_tests import find_test_files, format_report, run_tests

    if not find_test_files(paths):
        err(f"error: no test files (*.test.yaml) in {', '.join(map(str, paths))}")
        raise typer.Exit(EXIT_USAGE)
    problem = None if output is None else file_problem(output)
    if problem is not None:  # before the cases run, not after
        err(f"reflow test: cannot write {output}: {problem}")
        raise typer.Exit(EXIT_FAILED)
    needle = select.lower() if select else None
    report = run_tests(paths, select=(lambda name: needle in name.lower()) if needle else None)
    write_output(format_report(report, fmt.value), output, "test")
    if output is not None:
        err(format_report(report, "text").splitlines()[-1])  # how it went, in a line
    raise typer.Exit(EXIT_OK if report.ok else EXIT_FAILED)
