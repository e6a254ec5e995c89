"""``reflow run`` and ``reflow graph``: thin layers over the spec loader, the runner and the diagrams."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import typer

from ._app import app
from ._common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, check_sets, file_problem, write_output, err as _err

#: ``reflow run`` exit codes (documented in docs/cli.md).
EXIT_STALLED = 3
EXIT_TIMEOUT = 124
EXIT_SIGINT = 130
EXIT_SIGTERM = 143

_EXIT_BY_REASON = {
    "complete": EXIT_OK,
    "duration": EXIT_OK,
    "failed": EXIT_FAILED,
    "stalled": EXIT_STALLED,
    "timeout": EXIT_TIMEOUT,
    "SIGINT": EXIT_SIGINT,
    "SIGTERM": EXIT_SIGTERM,
    "cancelled": EXIT_FAILED,
}


def _load(files: list[Path], sets: list[str], quiet: bool = False) -> Any:
    """Load and validate the spec (several files: compose them first); print diagnostics; exit 1 when invalid.

    ``quiet`` leaves out the warnings and notes of a spec that is valid.
    """
    from ..spec import format_diagnostics, load_pipeline

    if len(files) > 1:
        from ..compose import compose_paths

        twice = next((f for i, f in enumerate(files) if f.resolve() in {g.resolve() for g in files[:i]}), None)
        if twice is not None:
            _err(f"error: {twice} is given twice; each file is one graph of the composition")
            raise typer.Exit(EXIT_USAGE)
        loaded = compose_paths(files, overrides=tuple(sets))  # as `reflow compose FILE...` would
        for note in loaded.notes if not quiet else ():
            _err(f"note: {note}")
    else:
        loaded = load_pipeline(files[0], overrides=tuple(sets))
    if loaded.diagnostics and (not quiet or not loaded.ok):
        _err(format_diagnostics(loaded.diagnostics, "text").rstrip())
    if not loaded.ok:
        raise typer.Exit(EXIT_FAILED)
    return loaded


def _executor(name: str, address: str | None) -> Any:
    """The executor ``--executor``/``--address`` ask for (usage errors exit 2)."""
    if name == "trio":
        if address is not None:
            _err("error: --address goes with --executor ray")
            raise typer.Exit(EXIT_USAGE)
        return "trio"
    if name == "ray":
        from ..engine._ray_run import RayExecutor

        return RayExecutor(address)
    _err(f"error: unknown executor {name!r}; use trio or ray")
    raise typer.Exit(EXIT_USAGE)


def _describe_failure(outcome: Any) -> str:
    failure = outcome.status.failure
    if failure is None:
        return f"error: the run failed: {outcome.status.describe()}"
    inputs = ", ".join(f"{port}={data!r}"[:200] for port, data in failure.inputs.items()) or "(no input)"
    return f"error: node {failure.node!r} ({failure.component}) failed: {failure.error}\n  input: {inputs}"


def report_unfinished(outcome: Any, timeout: float | None) -> None:
    """Say on stderr why a run did not complete (failed, stalled or timed out); nothing otherwise."""
    if outcome.reason == "failed":
        _err(_describe_failure(outcome))
    elif outcome.reason == "stalled":
        _err(f"error: the pipeline {outcome.status.describe()}")
    elif outcome.reason == "timeout":
        _err(f"error: still running after --timeout {timeout:g} s")


def _metrics_server(address: str | None) -> Any:
    """The ``--metrics`` server (None without the option); a malformed address is a usage error."""
    if address is None:
        return None
    from ..metrics import MetricsError, MetricsServer, parse_address

    try:
        host, port = parse_address(address)
    except MetricsError as exc:
        _err(f"error: --metrics: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    return MetricsServer(host, port, on_listening=lambda url: _err(f"metrics: serving {url}"))


def _check_trace(trace: Path | None) -> Path | None:
    """The ``--trace`` file, absolute (it is given relative to where the command was typed).

    One that cannot be written is a usage error (exit 2), found before anything runs.
    """
    if trace is None:
        return None
    problem = file_problem(trace)
    if problem is not None:
        _err(f"reflow run: cannot write {trace}: {problem}")
        raise typer.Exit(EXIT_USAGE)
    return trace.resolve()


#: Where dead letters go without ``--dead-letters``, relative to the folder the run happens in.
_DEAD_LETTERS = "dead-letters.jsonl"


def _announce_stop(reason: str) -> None:
    """Say, on the first SIGINT/SIGTERM, that the run is draining and how to stop it at once."""
    if reason in ("SIGINT", "SIGTERM"):
        _err(f"reflow: {reason}: stopping; what was accepted drains (send it again to stop at once)")


def _check_dead_letters(loaded: Any, dead_letters: Path | None, folder: Path) -> str:
    """Where dead letters go (``--dead-letters``, else dead-letters.jsonl in the run's ``folder``).

    When some node can dead-letter, a file that cannot be written there stops
    the command before the run: exit 2 for a given ``--dead-letters``, 1 for the default.
    """
    from ..runner import dead_letter_nodes

    path = folder / _DEAD_LETTERS if dead_letters is None else dead_letters.resolve()
    if dead_letter_nodes(loaded.graph):
        problem = file_problem(path, create=False)
        if problem is not None:
            shown = path if dead_letters is None else dead_letters
            _err(f"reflow run: cannot write dead letters to {shown}: {problem}")
            raise typer.Exit(EXIT_FAILED if dead_letters is None else EXIT_USAGE)
    # the default stays relative: each machine of a distributed run writes it in its run folder
    return _DEAD_LETTERS if dead_letters is None else str(path)


def _print_summary(outcome: Any, taps: dict[str, Any], duration: float | None, trace: Path | None) -> None:
    """The summary on stderr: how the run ended, a line per node, the exported outports, the trace."""
    from ._progress import outport_lines, summary_lines

    headline = {
        "complete": "complete",
        "duration": f"stopped after --duration {duration:g} s" if duration is not None else "stopped",
        "SIGINT": "interrupted (SIGINT), stopped gracefully",
        "SIGTERM": "terminated (SIGTERM), stopped gracefully",
    }.get(outcome.reason, outcome.reason)
    for line in summary_lines(outcome.stats, f"reflow: {headline}"):
        _err(line)
    for line in outport_lines(taps):
        _err(line)
    if trace is not None:
        _err(f"trace: {outcome.trace_events:,} events written to {trace}")


def _print_failures(outcome: Any) -> None:
    """A warning counting the failures a run survived (skipped, dead-lettered, retried)."""
    if not outcome.stats.failures or outcome.reason == "failed":
        return
    skipped = sum(node.skipped for node in outcome.stats.nodes.values())
    lettered = sum(node.dead_lettered for node in outcome.stats.nodes.values())
    retries = sum(node.retries for node in outcome.stats.nodes.values())
    _err(
        f"warning: {outcome.stats.failures} failure(s): {skipped} tick(s) skipped, {lettered} dead-lettered, "
        f"{retries} retried (each is an ActorFailed event)"
    )
    if outcome.stats.dead_letter_file:
        _err(f"dead letters: {outcome.stats.dead_letter_file}")


@app.command()
def run(
    files: list[Path] = typer.Argument(..., help="The pipeline spec (YAML, or the Graph JSON export).", exists=True, dir_okay=False),
    sets: list[str] = typer.Option([], "--set", metavar="NODE.KEY=VALUE", help="Override a node's config value (YAML value)."),
    trace: Path | None = typer.Option(None, "--trace", help="Write every event as JSON lines to this file."),
    trace_payloads: bool = typer.Option(
        False, "--trace-payloads", help="Include message payloads in the trace (cut to 256 bytes of JSON each)."
    ),
    timeout: float | None = typer.Option(None, "--timeout", min=0, help="Give up after this many seconds (exit 124)."),
    duration: float | None = typer.Option(None, "--duration", min=0, help="Stop gracefully after this many seconds (exit 0)."),
    grace: float | None = typer.Option(
        None, "--grace", min=0,
        help="Seconds accepted work may take to drain when stopping (default: until drained, or 5 s with --timeout "
        "or --duration; a second Ctrl-C stops at once).",
    ),
    workdir: Path | None = typer.Option(
        None, "--workdir", help="Run in this folder (default: the spec's folder, so relative paths in configs are relative to the spec).",
        exists=True, file_okay=False,
    ),
    executor: str = typer.Option("trio", "--executor", help="trio (local, the default) or ray (a Ray cluster; local without --address)."),
    address: str | None = typer.Option(None, "--address", help="The Ray cluster to use with --executor ray (e.g. auto, ray://host:10001)."),
    dead_letters: Path | None = typer.Option(
        None, "--dead-letters", help="Where nodes with on_error: dead_letter write failed packets (default: dead-letters.jsonl in the spec's folder)."
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q",
        help="Print only what the pipeline itself prints, and why the run failed if it did "
        "(no progress, summary, spec warnings or notes).",
    ),
    metrics: str | None = typer.Option(
        None, "--metrics", metavar="[HOST:]PORT",
        help="Serve Prometheus metrics at http://HOST:PORT/metrics while running (host default 127.0.0.1; port 0 picks one).",
    ),
) -> None:
    """Run a pipeline until it is complete, then print a summary.

    Example: reflow run examples/logs/pipeline.yaml --set read.path=other.log

    The pipeline runs in the spec file's folder (see --workdir), so a config's relative
    paths (`path: app.log`) are relative to the spec, wherever you run it from.

    Exit codes: 0 complete (or --duration reached), 1 a node failed, the spec is invalid or a
    dead letter cannot be written, 2 usage (a --set that is not NODE.KEY=VALUE, a --trace or
    --dead-letters file that cannot be written), 3 stalled, 124 --timeout, 130/143 interrupted
    by SIGINT/SIGTERM (after a graceful stop).
    """
    from ..engine._policies import DeadLetterError
    from ..metrics import MetricsError
    from ..runner import distribution_settings, pipeline_network, run_to_end, tap_outports
    from ..trace import TraceWriteError

    check_sets(sets, "run")
    server = _metrics_server(metrics)
    loaded = _load(files, sets, quiet)
    folder = workdir.resolve() if workdir is not None else files[0].resolve().parent
    letters = _check_dead_letters(loaded, dead_letters, folder)
    trace = _check_trace(trace)
    chosen = _executor(executor, address)
    network = pipeline_network(loaded, dead_letter_path=letters, executor=chosen)
    if executor == "trio" and not quiet:
        ignored = distribution_settings(loaded.graph)
        if ignored:
            _err(f"note: the local executor ignores {', '.join(ignored)} (they apply to --executor ray)")
    taps = tap_outports(network)
    os.chdir(folder)
    if executor == "ray":
        from ..errors import NetworkError

        # Ray starts here, in the main thread and the run's folder (workers start there too),
        # before trio takes the signal handlers over; what it cannot run is refused first
        try:
            chosen.check(network)
            chosen.connect()
        except NetworkError as exc:
            _err(f"error: {exc}")
            raise typer.Exit(EXIT_FAILED) from None
    progress: Any = None
    if quiet:  # only the pipeline's own output: failures still show in the summary-free error lines
        logging.getLogger("reflow.engine").setLevel(logging.ERROR)
    else:
        from ._progress import LiveView, PlainProgress

        progress = LiveView() if sys.stderr.isatty() else PlainProgress()
    try:
        try:
            outcome = run_to_end(
                network, timeout=timeout, duration=duration, grace=grace, trace=trace, trace_payloads=trace_payloads,
                progress=progress, metrics=server, on_stop=None if quiet else _announce_stop,
            )
        finally:
            if progress is not None:
                progress.close()
    except MetricsError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(EXIT_FAILED) from None
    except (DeadLetterError, TraceWriteError) as exc:  # the run stopped rather than drop a letter or an event
        _err(f"reflow run: {exc}")
        raise typer.Exit(EXIT_FAILED) from None
    except KeyboardInterrupt:
        _err("interrupted twice: stopped at once")
        raise typer.Exit(EXIT_SIGINT) from None
    code = _EXIT_BY_REASON.get(outcome.reason, EXIT_FAILED)
    if not quiet:
        _print_summary(outcome, taps, duration, trace)
    report_unfinished(outcome, timeout)  # why it failed: printed even with --quiet
    if not quiet:
        _print_failures(outcome)
        if outcome.stats.undelivered and outcome.reason in ("SIGINT", "SIGTERM", "timeout", "duration"):
            _err(f"note: {outcome.stats.undelivered:,} packet(s) were still queued when the run stopped")
    raise typer.Exit(code)


@app.command()
def graph(
    file: Path = typer.Argument(..., help="The pipeline spec (YAML, or the Graph JSON export).", exists=True, dir_okay=False),
    fmt: str = typer.Option("mermaid", "--format", "-f", help="mermaid, dot or svg (svg needs Graphviz's `dot`)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Draw a pipeline as a Mermaid or Graphviz diagram.

    Example: reflow graph examples/logs/pipeline.yaml --format svg -o logs.svg
    """
    from ..diagram import DiagramError, to_dot, to_mermaid, to_svg
    from ..spec import format_diagnostics, load_pipeline

    renderers = {"mermaid": to_mermaid, "dot": to_dot, "svg": to_svg}
    if fmt not in renderers:
        _err(f"error: unknown format {fmt!r}; use mermaid, dot or svg")
        raise typer.Exit(EXIT_USAGE)
    loaded = load_pipeline(file, allow_import=False)
    if not loaded.ok:
        _err(format_diagnostics(loaded.diagnostics, "text").rstrip())
        raise typer.Exit(EXIT_FAILED)
    try:
        text = renderers[fmt](loaded.graph)
    except DiagramError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(EXIT_FAILED) from None
    write_output(text, output, "graph")
