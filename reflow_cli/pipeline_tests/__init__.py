"""Pipeline tests: YAML files beside a spec that run it in process and check what reaches its ports.

The library behind ``reflow test``::

    from reflow_cli.pipeline_tests import run_tests, format_report

    report = run_tests(["examples/"])          # files, or folders searched for *.test.yaml
    print(format_report(report, "text"))        # or "json", "junit"
    report.ok                                   # every file valid, every case passed

A test file names its spec (``pipeline: pipeline.yaml``) and has cases; each
case may inject messages at inports, replace nodes with fixed outputs, and
expects messages at ports (``equals``, ``contains``, ``count``, ``type``,
``order``). The format is in ``docs/testing.md``, the schema in
``schemas/test.schema.json``. Problems in a test file are
:class:`~reflow_cli.spec.Diagnostic` values (``E-ORDER``, ``E-PORT``...), never
exceptions.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

from ._format import CODES as CODES
from ._format import Expectation as Expectation
from ._format import Injection as Injection
from ._format import PipelineTestCase as PipelineTestCase
from ._format import PipelineTestFile as PipelineTestFile
from ._format import Replacement as Replacement
from ._format import Watch as Watch
from ._format import find_test_files as find_test_files
from ._format import load_test_file as load_test_file
from ._report import FORMATS as FORMATS
from ._report import TestReport as TestReport
from ._report import format_report as format_report
from ._run import CaseResult as CaseResult
from ._run import CheckFailure as CheckFailure
from ._run import FileResult as FileResult
from ._run import run_case as run_case
from ._run import run_test_file as run_test_file

__all__ = [
    "CODES",
    "FORMATS",
    "CaseResult",
    "CheckFailure",
    "Expectation",
    "FileResult",
    "Injection",
    "PipelineTestCase",
    "PipelineTestFile",
    "Replacement",
    "TestReport",
    "Watch",
    "find_test_files",
    "format_report",
    "load_test_file",
    "run_case",
    "run_test_file",
    "run_tests",
]


def run_tests(
    paths: Iterable[str | os.PathLike[str]],
    *,
    select: Callable[[str], bool] | None = None,
    on_file: Callable[[FileResult], None] | None = None,
) -> TestReport:
    """Load and run every test file in ``paths`` (folders are searched); ``on_file`` sees each result as it is done."""
    report = TestReport()
    started = time.perf_counter()
    for path in find_test_files(paths):
        result = run_test_file(load_test_file(path), select=select)
        report.files.append(result)
        if on_file is not None:
            on_file(result)
    report.duration_s = time.perf_counter() - started
    return report


for _name in ("CaseResult", "CheckFailure", "Expectation", "FileResult", "Injection", "PipelineTestCase", "PipelineTestFile",
              "Replacement", "TestReport", "Watch", "find_test_files", "format_report", "load_test_file", "run_case",
              "run_test_file"):
    globals()[_name].__module__ = __name__
del _name
