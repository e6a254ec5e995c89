"""Every example validates without warnings and runs through the real `reflow` command."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SPECS = sorted(EXAMPLES.glob("*/pipeline.yaml"))


def reflow(*args: str, cwd: Path = ROOT, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("reflow") or str(Path(sys.executable).with_name("reflow"))
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_there_are_at_least_six_pipeline_examples() -> None:
    assert len(SPECS) >= 6


@pytest.mark.parametrize("spec", SPECS, ids=[spec.parent.name for spec in SPECS])
def test_example_validates_without_warnings(spec: Path) -> None:
    result = reflow("validate", str(spec.relative_to(ROOT)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in (result.stdout + result.stderr).replace("0 warnings", "")


def test_logs_counts_the_error_lines(tmp_path: Path) -> None:
    example = tmp_path / "logs"
    shutil.copytree(EXAMPLES / "logs", example)
    result = reflow("run", "logs/pipeline.yaml", cwd=tmp_path)  # from another folder: paths follow the spec
    assert result.returncode == 0, result.stderr
    assert (example / "errors.txt").read_text() == "4"
    assert "outport saved: errors.txt" in result.stderr
    assert "complete in" in result.stderr


def test_csv_cleanup(tmp_path: Path) -> None:
    example = tmp_path / "csv_cleanup"
    shutil.copytree(EXAMPLES / "csv_cleanup", example)
    result = reflow("run", str(example / "pipeline.yaml"), "--quiet")
    assert result.returncode == 0, result.stderr
    # two print nodes: their lines may come in either order
    assert sorted(result.stdout.splitlines()) == [
        'dropped (no email): ["Alan Turing","Barbara Liskov"]',
        "total spend of valid customers: 575.74",
    ]
    assert (example / "out" / "clean.csv").read_text().splitlines() == [
        "id,name,email,spend",
        "1,Ada Lovelace,ada@example.org,120.5",
        "3,Grace Hopper,grace@example.org,310.25",
        "4,Edsger Dijkstra,edsger@example.org,45.0",
        "6,Donald Knuth,don@example.org,99.99",
    ]
    assert result.stderr == ""


def test_log_report(tmp_path: Path) -> None:
    example = tmp_path / "log_report"
    shutil.copytree(EXAMPLES / "log_report", example)
    result = reflow("run", str(example / "pipeline.yaml"))
    assert result.returncode == 0, result.stderr
    counts = json.loads((example / "report.json").read_text())
    assert sum(counts.values()) == 200  # the malformed line is not counted
    assert result.stdout == f"requests by status: {json.dumps(counts, separators=(',', ':'))}\n"
    assert "outport lines_read: 201" in result.stderr


def test_heartbeat_stops_after_its_duration() -> None:
    result = reflow("run", "examples/heartbeat/pipeline.yaml", "--duration", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert 3 <= len(lines) <= 8, lines
    assert all(line.startswith("heartbeat at 20") for line in lines)


def test_custom_actor() -> None:
    result = reflow("run", "examples/custom_actor/pipeline.yaml", "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "8 lines, 45 words, 4.27 letters per word; long words: burning (1), forests (1), immortal (1)\n"
    )


def test_fan_out_in() -> None:
    result = reflow("run", "examples/fan_out_in/pipeline.yaml", "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "high: 5, low: 5, average: 52.9\n"


def test_file_tree() -> None:
    result = reflow("run", "examples/file_tree/pipeline.yaml", "--quiet")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sorted(lines[:-1]) == [
        "docs/guides/actors.md (57 bytes)",
        "docs/guides/specs.md (46 bytes)",
        "docs/index.md (49 bytes)",
    ]
    assert lines[-1] == "3 Markdown files, 152 bytes"


def test_inbox_watch_reads_the_backlog_then_each_file_that_arrives(tmp_path: Path) -> None:
    example = tmp_path / "inbox_watch"
    shutil.copytree(EXAMPLES / "inbox_watch", example)
    exe = shutil.which("reflow") or str(Path(sys.executable).with_name("reflow"))
    with subprocess.Popen(
        [exe, "run", str(example / "pipeline.yaml"), "--quiet", "--duration", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "orders.csv: 3 rows\n"  # the backlog
        partial = example / "inbox" / "late.csv.part"
        partial.write_text("a,b\n1,2\n3,4\n")
        partial.rename(example / "inbox" / "late.csv")  # arrives whole: the usual way to drop a file
        assert proc.stdout.readline() == "late.csv: 2 rows\n"
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err  # stopped by Ctrl-C, as a shell reports it


def test_sdk_word_count_example() -> None:
    result = subprocess.run(
        [sys.executable, "examples/sdk/word_count.py"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split() == ["120", "the"]
