"""``reflow trace summary`` and ``reflow tap``: thin layers over :mod:`reflow_cli.trace_summary` and the runner."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import typer

from ._app import app
from ._common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, check_sets, write_output, err as _err


trace_app = typer.Typer(
    name="trace",
    help="Read trace files written by `reflow run --trace`.\n\n"
    "Example: reflow run pipeline.yaml --trace out.jsonl && reflow trace summary out.jsonl",
    no_args_is_help=True,
)
app.add_typer(trace_app)


@trace_app.command("summary")
def trace_summary(
    file: Path = typer.Argument(..., help="A trace written by `reflow run --trace FILE`.", exists=True, dir_okay=False),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document instead of tables."),
    top: int = typer.Option(5, "--top", min=1, help="How many of the slowest edges to list."),
) -> None:
    """Summarise a trace: per node counts, tick latency percentiles, blocked vs starved time, slowest edges, failures.

    Example: reflow run pipeline.yaml --trace out.jsonl && reflow trace summary out.jsonl

    Lines that are not JSON events (a trace cut off by a crash) are skipped with a
    warning naming the line. Exit codes: 0 summarised, 1 no event in the file, 2 usage.
    """
    from ..trace_summary import TraceFormatError, format_summary, summarise_trace

    try:
        summary = summarise_trace(file, top_edges=top)
    except TraceFormatError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(EXIT_FAILED) from None
    except OSError as exc:
        _err(f"error: cannot read {file}: {exc.strerror or exc}")
        raise typer.Exit(EXIT_FAILED) from None
    for problem in summary.problems:
        _err(f"warning: {problem.text(str(file))}")
    if summary.problem_count > len(summary.problems):
        _err(f"warning: {summary.problem_count - len(summary.problems)} more line(s) skipped")
    text = json.dumps(summary.to_dict(), indent=2, ensure_ascii=False) + "\n" if as_json else format_summary(summary)
    write_output(text, None, "trace summary")


def _load_spec(file: Path, sets: list[str]) -> Any:
    """Load and validate the spec; print diagnostics; exit 1 when it is invalid."""
    from ..spec import format_diagnostics, load_pipeline

    loaded = load_pipeline(file, overrides=tuple(sets))
    if loaded.diagnostics:
        _err(format_diagnostics(loaded.diagnostics, "text").rstrip())
    if not loaded.ok:
        raise typer.Exit(EXIT_FAILED)
    return loaded


def _tap_target(loaded: Any, target: str, file: Path) -> tuple[str, list[str]]:
    """``NODE`` or ``NODE.PORT`` → the node and the outports to tap; usage errors exit 2."""
    from ..actor import suggest
    from ..runner import node_component_spec, node_outports

    node, _, port = target.partition(".")
    nodes = [process.id for process in loaded.graph.iter_processes()]
    if node not in nodes:
        hint = suggest(node, nodes)
        listed = f" (did you mean {hint!r}?)" if hint else f"; its nodes: {', '.join(nodes)}"
        _err(f"error: {file} has no node {node!r}{listed}")
        raise typer.Exit(EXIT_USAGE)
    outports = node_outports(loaded, node)
    if not port:
        if not outports:
            _err(f"error: node {node!r} has no outports to tap")
            raise typer.Exit(EXIT_USAGE)
        return node, outports
    spec = node_component_spec(loaded, node)
    known = port in outports or spec is None or spec.has_outport(port)  # None: a factory, ports unknown until it runs
    if not known:
        hint = suggest(port, outports)
        listed = f" (did you mean {hint!r}?)" if hint else f"; its outports: {', '.join(outports) or 'none'}"
        _err(f"error: node {node!r} has no outport {port!r}{listed}")
        raise typer.Exit(EXIT_USAGE)
    return node, [port]


@app.command()
def tap(
    file: Path = typer.Argument(..., help="The pipeline spec (YAML, or the Graph JSON export).", exists=True, dir_okay=False),
    target: str = typer.Argument(..., metavar="NODE[.PORT]", help="The node whose outgoing messages to print (all its outports, or PORT)."),
    limit: int | None = typer.Option(None, "--limit", "-n", min=1, help="Stop gracefully after this many messages (exit 0)."),
    sets: list[str] = typer.Option([], "--set", metavar="NODE.KEY=VALUE", help="Override a node's config value (YAML value)."),
    timeout: float | None = typer.Option(None, "--timeout", min=0, help="Give up after this many seconds (exit 124)."),
    grace: float = typer.Option(5.0, "--grace", min=0, help="Seconds accepted work may take to drain when stopping."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No closing line on stderr."),
) -> None:
    """Run a pipeline and print the messages leaving a node, one JSON line each.

    Example: reflow tap examples/log_report/pipeline.yaml parse.groups --limit 3

    Each line is {"node", "port", "type", "data"}; the pipeline's own output goes to
    stderr, so stdout holds only tapped messages (pipe it to jq). Stops gracefully after
    --limit messages or when the pipeline completes (exit 0); 1 a node failed or the spec
    is invalid, 2 usage (unknown node or port), 3 stalled, 124 --timeout, 130/143 signals.
    """
    from ..engine._policies import DeadLetterError
    from ..runner import RunControl, pipeline_network, run_to_end, tap_node
    from ..trace import event_json
    from ._run_commands import _EXIT_BY_REASON, report_unfinished

    check_sets(sets, "tap")
    loaded = _load_spec(file, sets)
    node, ports = _tap_target(loaded, target, file)
    network = pipeline_network(loaded)
    control = RunControl()
    out = sys.stdout
    printed = [0]

    def show(node_id: str, port: str, message: Any) -> None:
        if (limit is not None and printed[0] >= limit) or control.reason is not None:
            return  # draining after the stop: the limit is what was asked for
        data = message.as_json()
        try:
            out.write(event_json({"node": node_id, "port": port, "type": data["type"], "data": data.get("data")}) + "\n")
            out.flush()
        except BrokenPipeError:  # `reflow tap ... | head`: the reader has gone, a fine way to stop
            control.stop("closed")
            return
        printed[0] += 1
        if limit is not None and printed[0] >= limit:
            control.stop("limit")

    tap_node(network, node, ports, show, keep=False)
    os.chdir(file.resolve().parent)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout is for tapped messages only
            outcome = run_to_end(network, timeout=timeout, grace=grace, control=control)
    except KeyboardInterrupt:
        _err("interrupted twice: stopped at once")
        raise typer.Exit(130) from None
    except DeadLetterError as exc:  # the run stopped rather than drop a failed packet
        _err(f"reflow tap: {exc}")
        raise typer.Exit(EXIT_FAILED) from None
    if outcome.reason == "closed":
        # keep interpreter shutdown from flushing into the closed pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        raise typer.Exit(EXIT_OK)
    code = EXIT_OK if outcome.reason == "limit" else _EXIT_BY_REASON.get(outcome.reason, EXIT_FAILED)
    if not quiet:
        where = ", ".join(f"{node}.{port}" for port in ports)
        why = f"stopped at --limit {limit}" if outcome.reason == "limit" else outcome.reason
        _err(f"reflow tap: {printed[0]:,} message(s) from {where}; {why} after {outcome.elapsed_s:.2f} s")
    report_unfinished(outcome, timeout)
    raise typer.Exit(code)
