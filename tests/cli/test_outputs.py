"""Outputs that cannot be written: a clean one-line message and an exit code, never a traceback.

Results written with -o (graph, test, convert), run's --trace and --dead-letters files,
and stdout itself (a full disk, a closed pipe).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reflow_cli import ReflowError
from reflow_cli.engine._policies import DeadLetterError, DeadLetters
from reflow_cli.runner import pipeline_network, run_to_end
from reflow_cli.spec import load_pipeline
from reflow_cli.trace import TraceWriteError

ROOT = Path(__file__).resolve().parents[2]
EXE = shutil.which("reflow") or str(Path(sys.executable).with_name("reflow"))
LOGS = ROOT / "examples" / "logs" / "pipeline.yaml"
DEV_FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full here")

#: A node that fails once, with on_error: dead_letter and no error port: its letter goes to the file.
DEAD_LETTER_SPEC = """\
version: 1
nodes:
  read: {component: tpl_file_load, config: {path: does-not-exist.txt}, on_error: dead_letter}
  print: {component: tpl_log}
connections:
  - read.output -> print.input
initial:
  - {to: read.trigger, data: {type: Flow}}
"""


def reflow(*args: str, cwd: Path = ROOT, **kwargs: object) -> subprocess.CompletedProcess[str]:
    if "stdout" not in kwargs:
        kwargs["capture_output"] = True
    return subprocess.run([EXE, *args], check=False, cwd=cwd, text=True, timeout=60, **kwargs)  # type: ignore[call-overload]


def assert_clean(result: subprocess.CompletedProcess[str], code: int, message: str) -> None:
    """Exit ``code``, ``message`` on stderr, and no traceback."""
    assert result.returncode == code, result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "Error: " not in result.stderr  # e.g. IsADirectoryError: ...


def unwritable(tmp_path: Path) -> dict[str, Path]:
    """Paths no file can be written at: a folder, a file under a missing folder, a file under a file."""
    (tmp_path / "folder").mkdir()
    (tmp_path / "plain").write_text("x")
    return {
        "a folder": tmp_path / "folder",
        "under a missing folder": tmp_path / "missing" / "out.txt",
        "under a file": tmp_path / "plain" / "out.txt",
    }


def spec_that_saves(tmp_path: Path) -> Path:
    """A spec whose run writes saved.txt beside it (to see that a refused run did not start)."""
    spec = tmp_path / "p.yaml"
    spec.write_text(
        "version: 1\nnodes:\n  save: {component: tpl_file_save, config: {path: saved.txt}}\n"
        "initial:\n  - {to: save.input, data: hello}\n"
    )
    return spec


# -- -o FILE -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["a folder", "under a missing folder", "under a file"])
def test_graph_output_that_cannot_be_written_exits_1(tmp_path: Path, case: str) -> None:
    target = unwritable(tmp_path)[case]
    result = reflow("graph", str(LOGS), "-o", str(target))
    assert_clean(result, 1, f"reflow graph: cannot write {target}: ")
    assert len(result.stderr.splitlines()) == 1


def test_graph_writes_its_output_file(tmp_path: Path) -> None:
    result = reflow("graph", str(LOGS), "-o", str(tmp_path / "logs.md"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "logs.md").read_text().startswith("flowchart")


@pytest.mark.parametrize("case", ["a folder", "under a missing folder"])
def test_test_report_that_cannot_be_written_exits_1_before_the_cases_run(tmp_path: Path, case: str) -> None:
    target = unwritable(tmp_path)[case]
    result = reflow("test", "examples/logs", "-o", str(target), "--format", "junit")
    assert_clean(result, 1, f"reflow test: cannot write {target}: ")
    assert "passed" not in result.stderr  # refused before running
    assert not (tmp_path / "missing").exists()


def test_convert_output_that_cannot_be_written_exits_1(tmp_path: Path) -> None:
    target = unwritable(tmp_path)["a folder"]
    assert_clean(reflow("convert", str(LOGS), "-o", str(target)), 1, f"reflow convert: cannot write {target}: ")


# -- stdout ---------------------------------------------------------------------------------


@needs_dev_full
@pytest.mark.parametrize(
    "args", [("schema",), ("schema", "--diagnostics"), ("graph", str(LOGS)), ("validate", "--format", "json", str(LOGS))]
)
def test_a_full_stdout_is_a_clean_error(args: tuple[str, ...]) -> None:
    with DEV_FULL.open("w") as full:
        result = reflow(*args, stdout=full, stderr=subprocess.PIPE)
    assert_clean(result, 1, f"reflow {args[0]}: cannot write to standard output: No space left on device")
    assert len(result.stderr.splitlines()) == 1


def test_a_closed_pipe_on_stdout_ends_quietly() -> None:
    with subprocess.Popen([EXE, "schema"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # the reader is gone before reflow writes (`reflow schema | head -0`)
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=60) == 1  # not all of it was read
    assert stderr == ""


# -- reflow run --trace ------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["a folder", "under a missing folder", "under a file"])
def test_a_trace_that_cannot_be_written_is_a_usage_error_before_the_run(tmp_path: Path, case: str) -> None:
    target = unwritable(tmp_path)[case]
    spec = spec_that_saves(tmp_path)
    result = reflow("run", str(spec), "--trace", str(target))
    assert_clean(result, 2, f"reflow run: cannot write {target}: ")
    assert not (tmp_path / "saved.txt").exists()  # the run never started


@needs_dev_full
def test_a_trace_write_that_fails_during_the_run_fails_it_naming_the_file() -> None:
    result = reflow("run", "examples/fan_out_in/pipeline.yaml", "--trace", str(DEV_FULL), "--quiet")
    assert_clean(result, 1, "reflow run: cannot write /dev/full: No space left on device")


def test_run_to_end_raises_the_trace_error_itself_before_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # where saved.txt would go, had the run started
    network = pipeline_network(load_pipeline(spec_that_saves(tmp_path)))
    with pytest.raises(TraceWriteError, match="cannot write .*: Is a directory") as caught:
        run_to_end(network, trace=tmp_path, handle_signals=False)
    assert isinstance(caught.value, ReflowError) and caught.value.path == tmp_path
    assert not (tmp_path / "saved.txt").exists()


def test_a_relative_trace_is_checked_where_the_command_was_typed(tmp_path: Path) -> None:
    spec = spec_that_saves(tmp_path)
    (tmp_path / "here").mkdir()
    result = reflow("run", str(spec), "--trace", "t.jsonl", "--quiet", cwd=tmp_path / "here")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "here" / "t.jsonl").stat().st_size > 0
    assert not (tmp_path / "t.jsonl").exists()


# -- reflow run --dead-letters -----------------------------------------------------------------


@pytest.mark.parametrize("case", ["a folder", "under a file"])
def test_dead_letters_that_cannot_be_written_are_a_usage_error_before_the_run(tmp_path: Path, case: str) -> None:
    target = unwritable(tmp_path)[case]
    spec = tmp_path / "dl.yaml"
    spec.write_text(DEAD_LETTER_SPEC)
    result = reflow("run", str(spec), "--dead-letters", str(target))
    assert_clean(result, 2, f"reflow run: cannot write dead letters to {target}: ")
    assert "failed" not in result.stderr  # the run never started


def test_default_dead_letters_that_cannot_be_written_fail_before_the_run(tmp_path: Path) -> None:
    spec = tmp_path / "dl.yaml"
    spec.write_text(DEAD_LETTER_SPEC)
    (tmp_path / "dead-letters.jsonl").mkdir()  # where the default file would go
    result = reflow("run", str(spec))
    assert_clean(result, 1, f"reflow run: cannot write dead letters to {tmp_path / 'dead-letters.jsonl'}: Is a directory")


def test_dead_letters_are_not_checked_when_no_node_dead_letters(tmp_path: Path) -> None:
    spec = spec_that_saves(tmp_path)
    result = reflow("run", str(spec), "--dead-letters", str(unwritable(tmp_path)["a folder"]), "--quiet")
    assert result.returncode == 0, result.stderr


def test_dead_letters_go_to_a_missing_folder_created_for_them(tmp_path: Path) -> None:
    spec = tmp_path / "dl.yaml"
    spec.write_text(DEAD_LETTER_SPEC)
    target = tmp_path / "new" / "letters.jsonl"
    result = reflow("run", str(spec), "--dead-letters", str(target))
    assert result.returncode == 0, result.stderr
    assert "does-not-exist.txt" in target.read_text()


@needs_dev_full
def test_a_dead_letter_that_cannot_be_written_fails_the_run_naming_the_file(tmp_path: Path) -> None:
    spec = tmp_path / "dl.yaml"
    spec.write_text(DEAD_LETTER_SPEC)
    result = reflow("run", str(spec), "--dead-letters", str(DEV_FULL))  # passes the check, fails to write
    assert_clean(result, 1, "reflow run: cannot write dead letters to /dev/full: No space left on device")


def test_dead_letters_raise_a_reflow_error_naming_the_file(tmp_path: Path) -> None:
    letters = DeadLetters(tmp_path)  # a folder
    with pytest.raises(DeadLetterError) as caught:
        letters.write({"error": "boom"})
    assert isinstance(caught.value, ReflowError) and isinstance(caught.value, OSError)
    assert caught.value.path == tmp_path.resolve()
    assert str(caught.value) == f"cannot write dead letters to {tmp_path.resolve()}: Is a directory"
    assert letters.written == 0


def test_run_to_end_raises_the_dead_letter_error_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "dl.yaml"
    spec.write_text(DEAD_LETTER_SPEC)
    network = pipeline_network(load_pipeline(spec), dead_letter_path=str(tmp_path))
    with pytest.raises(DeadLetterError, match="cannot write dead letters to"):  # not an ExceptionGroup
        run_to_end(network, handle_signals=False)
