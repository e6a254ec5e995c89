"""Reporting test results: plain text for people, JSON for tools, JUnit XML for CI systems."""

from __future__ import annotations

import json
import re
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ..spec import format_diagnostics
from ._run import FileResult

__all__ = ["FORMATS", "TestReport", "format_report"]

#: What ``reflow test --format`` accepts.
FORMATS = ("text", "json", "junit")
_OUTPUT_SHOWN = 2000  # characters of a failing case's captured output in text reports
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    """Element text: escaped, without the control characters XML 1.0 cannot hold."""
    return escape(_NOT_XML.sub("\ufffd", text))


def _attr(text: str) -> str:
    """A quoted attribute value, likewise."""
    return quoteattr(_NOT_XML.sub("\ufffd", text))


@dataclass
class TestReport:
    """Every file's results, and the totals."""

    __test__ = False  # not a pytest test class, whatever its name

    files: list[FileResult] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def passed(self) -> int:
        """Cases that passed."""
        return sum(1 for f in self.files for c in f.cases if c.outcome == "passed")

    @property
    def failed(self) -> int:
        """Cases whose checks did not hold."""
        return sum(1 for f in self.files for c in f.cases if c.outcome == "failed")

    @property
    def errors(self) -> int:
        """Cases that could not run."""
        return sum(1 for f in self.files for c in f.cases if c.outcome == "error")

    @property
    def invalid_files(self) -> int:
        """Test files with errors (none of their cases ran)."""
        return sum(1 for f in self.files if not f.test_file.ok)

    @property
    def ok(self) -> bool:
        """True when every file is valid and every case passed."""
        return all(f.passed for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``reflow test --format json``)."""
        return {
            "version": 1,
            "ok": self.ok,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "invalid_files": self.invalid_files,
            "duration_s": round(self.duration_s, 4),
            "files": [
                {
                    "file": f.test_file.shown,
                    "pipeline": None if f.test_file.spec_path is None else str(f.test_file.spec_path),
                    "ok": f.passed,
                    "diagnostics": [d.to_dict() for d in (*f.test_file.diagnostics, *f.test_file.spec_diagnostics)],
                    "cases": [
                        {
                            "name": c.name,
                            "line": c.line,
                            "outcome": c.outcome,
                            "duration_s": round(c.duration_s, 4),
                            "problems": [{"line": f.line, "message": f.message} for f in c.problems],
                            "output": c.output,
                        }
                        for c in f.cases
                    ],
                }
                for f in self.files
            ],
        }


def _summary(report: TestReport) -> str:
    parts = [f"{report.passed} passed"]
    if report.failed:
        parts.append(f"{report.failed} failed")
    if report.errors:
        parts.append(f"{report.errors} error(s)")
    if report.invalid_files:
        parts.append(f"{report.invalid_files} invalid file(s)")
    files = len(report.files)
    return f"reflow test: {', '.join(parts)} in {report.duration_s:.2f} s ({files} file{'s' if files != 1 else ''})"


def _text(report: TestReport) -> str:
    lines: list[str] = []
    for result in report.files:
        test_file = result.test_file
        lines.append(test_file.shown)
        if not test_file.ok:
            lines += ["  " + line for line in format_diagnostics(test_file.diagnostics, "text").splitlines()]
            lines += ["  " + line for line in format_diagnostics(test_file.spec_diagnostics, "text").splitlines()]
            continue
        for case in result.cases:
            mark = {"passed": "PASS", "failed": "FAIL", "error": "ERROR"}[case.outcome]
            lines.append(f"  {mark}  {case.name} ({case.duration_s:.2f} s)")
            if case.passed:
                continue
            lines += [f"        {test_file.shown}:{problem.line}: {problem.message}" for problem in case.problems]
            if case.output.strip():
                output = case.output if len(case.output) <= _OUTPUT_SHOWN else "..." + case.output[-_OUTPUT_SHOWN:]
                lines.append("        output:")
                lines += ["          " + line for line in output.rstrip().splitlines()]
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def _junit(report: TestReport) -> str:
    """JUnit XML as Jenkins, GitLab and GitHub test reporters read it: a suite per file, a case per case."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    host = _attr(socket.gethostname())
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    out.append(
        f'<testsuites name="reflow test" tests="{report.passed + report.failed + report.errors + report.invalid_files}" '
        f'failures="{report.failed}" errors="{report.errors + report.invalid_files}" time="{report.duration_s:.3f}">'
    )
    for result in report.files:
        test_file = result.test_file
        name = _attr(test_file.shown)
        if not test_file.ok:
            text = format_diagnostics([*test_file.diagnostics, *test_file.spec_diagnostics], "text")
            first = test_file.diagnostics[0] if test_file.diagnostics else test_file.spec_diagnostics[0]
            out.append(f'  <testsuite name={name} tests="1" failures="0" errors="1" skipped="0" time="0.000" '
                       f'timestamp="{stamp}" hostname={host}>')
            out.append(f'    <testcase classname={name} name="(test file)" file={name} time="0.000">')
            out.append(f'      <error type="{first.code}" message={_attr(first.text().splitlines()[0])}>'
                       f"{_xml(text)}</error>")
            out.append("    </testcase>")
            out.append("  </testsuite>")
            continue
        failures = sum(1 for c in result.cases if c.outcome == "failed")
        errors = sum(1 for c in result.cases if c.outcome == "error")
        out.append(
            f'  <testsuite name={name} tests="{len(result.cases)}" failures="{failures}" errors="{errors}" skipped="0" '
            f'time="{result.duration_s:.3f}" timestamp="{stamp}" hostname={host}>'
        )
        for case in result.cases:
            out.append(f'    <testcase classname={name} name={_attr(case.name)} file={name} line="{case.line}" '
                       f'time="{case.duration_s:.3f}">')
            if case.outcome != "passed":
                tag = "failure" if case.outcome == "failed" else "error"
                message = case.problems[0].message if case.problems else case.outcome
                details = "\n".join(f"{test_file.shown}:{f.line}: {f.message}" for f in case.problems)
                out.append(f"      <{tag} message={_attr(message)}>{_xml(details)}</{tag}>")
            if case.output:
                out.append(f"      <system-out>{_xml(case.output)}</system-out>")
            out.append("    </testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


def format_report(report: TestReport, fmt: str = "text") -> str:
    """The report as ``text``, ``json`` or ``junit`` (XML)."""
    if fmt == "text":
        return _text(report)
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "junit":
        return _junit(report)
    raise ValueError(f"unknown report format {fmt!r}; use {', '.join(FORMATS)}")
