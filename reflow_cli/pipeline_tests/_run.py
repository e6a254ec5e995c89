"""Running the cases of a test file in this process, and checking what reached the ports."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json
import logging
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..actor import Actor
from ..message import Message
from ..spec import spec_to_graph
from ..spec._sugar import message_to_sugar
from ._format import Expectation, PipelineTestCase, PipelineTestFile, Replacement

__all__ = ["CaseResult", "CheckFailure", "FileResult", "run_case", "run_test_file"]

#: How a run's outcome reads in a test (``RunOutcome.reason`` → ``status``).
_STATUS = {"complete": "complete", "duration": "stopped", "failed": "failed", "stalled": "stalled", "timeout": "timeout"}
_SHOWN = 8  # messages shown in a failure message before "..."


@dataclass(frozen=True)
class CheckFailure:
    """A check that did not hold, at ``line`` of the test file (the expectation's, or the case's)."""

    line: int
    message: str


@dataclass
class CaseResult:
    """How one case went: ``outcome`` is ``passed``, ``failed`` (a check did not hold) or ``error`` (it could not run).

    ``output`` is what the pipeline printed and the engine logged while the case ran.
    """

    name: str
    line: int
    outcome: str
    duration_s: float = 0.0
    problems: list[CheckFailure] = field(default_factory=list)
    output: str = ""

    @property
    def passed(self) -> bool:
        """True when every check held."""
        return self.outcome == "passed"


@dataclass
class FileResult:
    """The cases of one test file, or the diagnostics that kept it from running."""

    test_file: PipelineTestFile
    cases: list[CaseResult] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def passed(self) -> bool:
        """True when the file is valid and every case passed."""
        return self.test_file.ok and all(case.passed for case in self.cases)


class _ReplacedNode(Actor):
    """Stands in for a replaced node: sends ``emit`` at start, ``reply`` for every packet, nothing else."""

    def __init__(self, replacement: Replacement, inports: list[str], outports: list[str]) -> None:
        self.component = f"replaced:{replacement.node}"
        self.inports = inports
        self.outports = outports
        self.replacement = replacement

    def setup(self, ctx: Any) -> None:
        for outputs in self.replacement.emit:
            ctx.send(outputs)

    def run(self, ctx: Any) -> None:
        ctx.done(dict(self.replacement.reply))


def _stub_ports(loaded: Any, node: str, replacement: Replacement) -> tuple[list[str], list[str]]:
    from ..runner import node_component_spec

    spec = node_component_spec(loaded, node)
    inports = [] if spec is None else [p.name for p in spec.inports if not p.is_pattern]
    outports = [] if spec is None else [p.name for p in spec.outports if not p.is_pattern]
    graph = loaded.graph
    inports += [c.tgt_port for c in graph.iter_connections() if c.tgt_node == node]
    inports += [ip.port for ip in graph.iter_initials() if ip.node == node]
    outports += [c.src_port for c in graph.iter_connections() if c.src_node == node]
    outports += [port for outputs in (*replacement.emit, replacement.reply) for port in outputs]
    return list(dict.fromkeys(inports)), list(dict.fromkeys(outports))


def _case_graph(case: PipelineTestCase) -> Any:
    """The loaded pipeline with the case's initial packets and replaced nodes."""
    loaded = case.loaded
    assert loaded is not None and loaded.spec is not None
    spec = copy.deepcopy(loaded.spec)
    if not case.keep_initial:
        spec["initial"] = []
    spec.setdefault("initial", []).extend(
        {"to": {"node": i.node, "port": i.port}, "data": i.message.as_json()} for i in case.inject
    )
    for node in case.replace:
        spec["nodes"][node] = {"component": f"reflow_test_replaced_{node}"}
    return dataclasses.replace(loaded, graph=spec_to_graph(spec))


@contextlib.contextmanager
def _captured(buffer: io.StringIO) -> Iterator[None]:
    """The pipeline's prints and the engine's log lines go to ``buffer`` (shown when a case fails)."""
    logger = logging.getLogger("reflow.engine")
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with contextlib.redirect_stdout(buffer):
            yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


@contextlib.contextmanager
def _workdir(folder: Path, sandbox: bool) -> Iterator[Path]:
    """Run in the spec's folder, or in a throw-away copy of it."""
    previous = os.getcwd()
    scratch = None
    try:
        if sandbox:
            scratch = Path(tempfile.mkdtemp(prefix="reflow-test-"))
            target = scratch / folder.name
            shutil.copytree(folder, target, ignore=shutil.ignore_patterns(".*", "__pycache__"))
            folder = target
        os.chdir(folder)
        yield folder
    finally:
        os.chdir(previous)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def run_case(case: PipelineTestCase, spec_folder: Path) -> CaseResult:
    """Run one case in this process and check it (never raises for a failing pipeline)."""
    from ..errors import ReflowError
    from ..runner import pipeline_network, run_to_end, tap_node

    started = time.perf_counter()
    result = CaseResult(case.name, case.line, "passed")
    buffer = io.StringIO()
    scratch = Path(tempfile.mkdtemp(prefix="reflow-test-letters-"))
    try:
        loaded = _case_graph(case)
        # dead letters of a test run are the test's business, never files left in the repository
        network = pipeline_network(loaded, dead_letter_path=str(scratch / "dead-letters.jsonl"))
        for node, replacement in case.replace.items():
            inports, outports = _stub_ports(case.loaded, node, replacement)
            network.register_actor(f"reflow_test_replaced_{node}", _ReplacedNode(replacement, inports, outports))
        taps: dict[tuple[str, str], Any] = {}
        for expectation in case.expect:
            for node, port in expectation.watch.sources:
                if (node, port) not in taps:
                    taps[(node, port)] = tap_node(network, node, [port])[port]
        with _workdir(spec_folder, case.sandbox), _captured(buffer):
            outcome = run_to_end(network, timeout=case.timeout, duration=case.duration, grace=2.0, handle_signals=False)
    except ReflowError as exc:
        result.outcome = "error"
        result.problems.append(CheckFailure(case.line, f"the pipeline could not run: {exc}"))
    except Exception as exc:  # a broken component: the case errs, the other cases still run
        result.outcome = "error"
        result.problems.append(CheckFailure(case.line, f"the pipeline could not run: {type(exc).__name__}: {exc}"))
    else:
        result.problems = _check(case, outcome, lambda source: taps[source].messages)
        if result.problems:
            result.outcome = "failed"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result.output = buffer.getvalue()
    result.duration_s = time.perf_counter() - started
    return result


def _check(case: PipelineTestCase, outcome: Any, tapped: Callable[[tuple[str, str]], list[Message]]) -> list[CheckFailure]:
    problems: list[CheckFailure] = []
    status = _STATUS.get(outcome.reason, outcome.reason)
    if status != case.status:
        detail = ""
        failure = outcome.status.failure
        if status == "failed" and failure is not None:
            detail = f": node {failure.node!r} ({failure.component}) failed: {failure.error}"
        elif status in ("stalled", "timeout"):
            detail = f": {outcome.status.describe()}"
        problems.append(CheckFailure(case.line, f"the run ended {status}, expected {case.status}{detail}"))
    for node, expected in case.failures.items():
        got = outcome.stats.nodes[node].failures if node in outcome.stats.nodes else 0
        if got != expected:
            problems.append(CheckFailure(case.line, f"node {node!r} failed {got} time(s), expected {expected}"))
    for expectation in case.expect:
        messages = list(expectation.watch.initial)
        for source in expectation.watch.sources:
            messages.extend(tapped(source))
        problems.extend(CheckFailure(expectation.line, text) for text in _check_port(expectation, messages))
    return problems


def _show(messages: list[Message] | tuple[Message, ...]) -> str:
    shown = [json.dumps(message_to_sugar(m.as_json()), default=str, ensure_ascii=False) for m in messages[:_SHOWN]]
    more = f", ... ({len(messages) - _SHOWN} more)" if len(messages) > _SHOWN else ""
    return "[" + ", ".join(shown) + more + "]"


def _key(message: Message) -> str:
    return json.dumps(message.as_json(), sort_keys=True, default=str)


def _check_port(expectation: Expectation, messages: list[Message]) -> list[str]:
    port = expectation.port
    problems = []
    got = _show(messages)
    count = len(messages)
    if expectation.count_min is not None and expectation.count_min == expectation.count_max and count != expectation.count_min:
        problems.append(f"{port}: expected {expectation.count_min} message(s), got {count}: {got}")
    else:
        if expectation.count_min is not None and count < expectation.count_min:
            problems.append(f"{port}: expected at least {expectation.count_min} message(s), got {count}: {got}")
        if expectation.count_max is not None and count > expectation.count_max:
            problems.append(f"{port}: expected at most {expectation.count_max} message(s), got {count}: {got}")
    if expectation.types is not None:
        wrong = [m for m in messages if m.kind not in expectation.types]
        if wrong:
            kinds = " or ".join(expectation.types)
            problems.append(f"{port}: expected every message to be {kinds}; {len(wrong)} are not: {_show(wrong)}")
    actual = [_key(m) for m in messages]
    if expectation.equals is not None:
        wanted = [_key(m) for m in expectation.equals]
        same = actual == wanted if expectation.order else Counter(actual) == Counter(wanted)
        if not same:
            how = "in this order" if expectation.order else "in any order"
            problems.append(f"{port}: expected {_show(expectation.equals)} ({how}), got {got}")
    if expectation.contains is not None:
        wanted = [_key(m) for m in expectation.contains]
        if expectation.order:
            found = iter(actual)
            ok = all(any(item == w for item in found) for w in wanted)  # a subsequence
        else:
            ok = not (Counter(wanted) - Counter(actual))
        if not ok:
            how = " in this order" if expectation.order else ""
            problems.append(f"{port}: expected to contain {_show(expectation.contains)}{how}, got {got}")
    return problems


def run_test_file(test_file: PipelineTestFile, *, select: Callable[[str], bool] | None = None) -> FileResult:
    """Run every case of a valid test file (``select(name)`` picks cases); an invalid file runs nothing."""
    result = FileResult(test_file)
    started = time.perf_counter()
    if test_file.ok and test_file.spec_path is not None:
        folder = test_file.spec_path.resolve().parent
        for case in test_file.cases:
            if select is None or select(case.name):
                result.cases.append(run_case(case, folder))
    result.duration_s = time.perf_counter() - started
    return result
